/* Chain look-ups: heads, headers/bodies/receipts by hash and number, raw
 * RLP for serving peers (header ranges read through iterators over the
 * number-prefixed keys, PERF.md), block status, fork id, and the chain/1
 * function table (include/ethd/chain.h). Reads take no lock except to copy
 * the heads; writes live in store.c. */
#include "chain/store_priv.h"

#include <ethd/error.h>
#include <ethd/forkid.h>
#include <ethd/rlp.h>
#include <ethd/store.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- look-ups ---- */

void ethd_chain_head_header(struct ethd_chain *c, struct ethd_chain_head *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->hh;
    pthread_mutex_unlock(&c->mu);
}

void ethd_chain_head_block(struct ethd_chain *c, struct ethd_chain_head *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->hb;
    pthread_mutex_unlock(&c->mu);
}

const struct ethd_genesis *ethd_chain_genesis(const struct ethd_chain *c)
{
    return &c->g;
}

int ethd_chain_hash_by_number(struct ethd_chain *c, uint64_t number, uint8_t hash[32])
{
    return ethd_chain_get_canon(c, number, hash);
}

int ethd_chain_header_by_hash(struct ethd_chain *c, const uint8_t hash[32],
                              struct ethd_header *out)
{
    uint64_t n;
    int rc = ethd_chain_get_number(c, hash, &n);
    return rc ? rc : ethd_chain_get_header(c, n, hash, out);
}

int ethd_chain_header_by_number(struct ethd_chain *c, uint64_t number, struct ethd_header *out)
{
    uint8_t hash[32];
    int rc = ethd_chain_get_canon(c, number, hash);
    return rc ? rc : ethd_chain_get_header(c, number, hash, out);
}

int ethd_chain_td_by_hash(struct ethd_chain *c, const uint8_t hash[32], uint8_t td[32])
{
    uint64_t n;
    int rc = ethd_chain_get_number(c, hash, &n);
    return rc ? rc : ethd_chain_get_td(c, n, hash, td);
}

int ethd_chain_tx_lookup(struct ethd_chain *c, const uint8_t tx_hash[32], uint64_t *number,
                         uint8_t block_hash[32], uint32_t *index)
{
    uint8_t *v;
    size_t vl;
    int rc = ethd_store_get(c->st, c->txlookup, tx_hash, 32, &v, &vl);
    if (rc)
        return rc;
    if (vl != 12) {
        free(v);
        return ETHD_EIO;
    }
    uint64_t n = ethd_chain_key_num(v);
    uint32_t idx = (uint32_t)v[8] << 24 | (uint32_t)v[9] << 16 | (uint32_t)v[10] << 8 | v[11];
    free(v);
    if ((rc = ethd_chain_get_canon(c, n, block_hash)))
        return rc;
    *number = n;
    *index = idx;
    return 0;
}

static int append_nh_by_hash(struct ethd_chain *c, struct ethd_store_cf *cf,
                             const uint8_t hash[32], struct ethd_buf *out)
{
    uint64_t n;
    uint8_t *v;
    size_t vl;
    int rc = ethd_chain_get_number(c, hash, &n);
    if (rc || (rc = ethd_chain_get_nh(c, cf, n, hash, &v, &vl)))
        return rc;
    rc = ethd_buf_append(out, v, vl);
    free(v);
    return rc;
}

static int raw_header_by_hash(struct ethd_chain *c, const uint8_t hash[32], struct ethd_buf *out)
{
    return append_nh_by_hash(c, c->headers, hash, out);
}

static int raw_body_by_hash(struct ethd_chain *c, const uint8_t hash[32], struct ethd_buf *out)
{
    return append_nh_by_hash(c, c->bodies, hash, out);
}

int ethd_chain_raw_receipts_by_hash(struct ethd_chain *c, const uint8_t hash[32],
                                    struct ethd_buf *out)
{
    return append_nh_by_hash(c, c->receipts, hash, out);
}

int ethd_chain_raw_block_by_hash(struct ethd_chain *c, const uint8_t hash[32],
                                 struct ethd_buf *out)
{
    uint64_t n;
    uint8_t *hv = NULL, *bv = NULL;
    size_t hl, bl;
    int rc = ethd_chain_get_number(c, hash, &n);
    if (rc || (rc = ethd_chain_get_nh(c, c->headers, n, hash, &hv, &hl)) ||
        (rc = ethd_chain_get_nh(c, c->bodies, n, hash, &bv, &bl)))
        goto out;
    struct ethd_rlp_item body;
    if (ethd_rlp_decode(bv, bl, &body) != 0 || !body.is_list) {
        rc = ETHD_EIO;
        goto out;
    }
    /* [header, txs, uncles(, withdrawals)]: the header, then the body's items. */
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_raw(&e, hv, hl);
    ethd_rlp_raw(&e, body.payload, body.len);
    ethd_rlp_list_end(&e);
    rc = ethd_rlp_enc_finish(&e);
out:
    free(hv);
    free(bv);
    return rc;
}

/* Canonical header at n through two iterators that move forward together
 * (canon by number, headers by number || hash): one Next per step in the
 * common case of a contiguous range. */
struct range_iters {
    struct ethd_iter *canon, *headers;
    bool positioned;
};

static int range_header(struct range_iters *ri, uint64_t n, bool seq,
                        const uint8_t **v, size_t *vl)
{
    uint8_t nk[8], k[40];
    size_t kl;
    ethd_chain_num_key(n, nk);
    if (!seq || !ri->positioned)
        ethd_iter_seek(ri->canon, nk, 8);
    else
        ethd_iter_next(ri->canon);
    if (!ethd_iter_valid(ri->canon))
        return ethd_iter_status(ri->canon) ? ETHD_EIO : ETHD_ENOTFOUND;
    const uint8_t *key = ethd_iter_key(ri->canon, &kl);
    const uint8_t *hash = ethd_iter_value(ri->canon, vl);
    if (kl != 8 || memcmp(key, nk, 8) != 0 || *vl != 32)
        return ETHD_ENOTFOUND;
    ethd_chain_nh_key(n, hash, k);
    /* Side branches share the number prefix: step a little, else seek. */
    bool found = false;
    if (seq && ri->positioned) {
        for (int step = 0; step < 4 && ethd_iter_valid(ri->headers); step++) {
            ethd_iter_next(ri->headers);
            if (!ethd_iter_valid(ri->headers))
                break;
            key = ethd_iter_key(ri->headers, &kl);
            int cmp = memcmp(key, k, kl < 40 ? kl : 40);
            if (cmp == 0 && kl == 40) {
                found = true;
                break;
            }
            if (cmp > 0)
                break;
        }
    }
    if (!found) {
        ethd_iter_seek(ri->headers, k, 40);
        if (!ethd_iter_valid(ri->headers))
            return ethd_iter_status(ri->headers) ? ETHD_EIO : ETHD_ENOTFOUND;
        key = ethd_iter_key(ri->headers, &kl);
        if (kl != 40 || memcmp(key, k, 40) != 0)
            return ETHD_ENOTFOUND;
    }
    ri->positioned = true;
    *v = ethd_iter_value(ri->headers, vl);
    return 0;
}

static int raw_headers_by_number(struct ethd_chain *c, uint64_t origin, uint64_t amount,
                                 uint64_t skip, bool reverse, size_t max_bytes,
                                 struct ethd_buf *out, uint64_t *n_out)
{
    struct range_iters ri = {NULL, NULL, false};
    uint64_t got = 0;
    int rc = ethd_iter_new(c->st, c->canon, &ri.canon);
    if (!rc)
        rc = ethd_iter_new(c->st, c->headers, &ri.headers);
    bool seq = !reverse && skip == 0;
    uint64_t n = origin;
    size_t start = out->len;
    while (!rc && got < amount) {
        const uint8_t *v;
        size_t vl;
        int r = range_header(&ri, n, seq, &v, &vl);
        if (r == ETHD_ENOTFOUND)
            break;
        if (r) {
            rc = r;
            break;
        }
        if (got > 0 && out->len - start + vl > max_bytes)
            break;
        if ((rc = ethd_buf_append(out, v, vl)))
            break;
        got++;
        /* Next number, never wrapping (the "skip overflow" request). */
        if (skip == UINT64_MAX)
            break;
        uint64_t step = skip + 1;
        if (reverse) {
            if (n < step)
                break;
            n -= step;
        } else {
            if (n > UINT64_MAX - step)
                break;
            n += step;
        }
    }
    ethd_iter_free(ri.canon);
    ethd_iter_free(ri.headers);
    *n_out = got;
    return rc;
}

static int block_status(struct ethd_chain *c, const uint8_t hash[32], unsigned *flags)
{
    uint64_t n;
    *flags = 0;
    int rc = ethd_chain_get_number(c, hash, &n);
    if (rc)
        return rc == ETHD_ENOTFOUND ? 0 : rc;
    *flags |= ETHD_CHAIN_HAS_HEADER;
    if (ethd_chain_has_nh(c, c->bodies, n, hash))
        *flags |= ETHD_CHAIN_HAS_BODY;
    if (ethd_chain_has_nh(c, c->receipts, n, hash))
        *flags |= ETHD_CHAIN_HAS_RECEIPTS;
    uint8_t ch[32];
    if (ethd_chain_get_canon(c, n, ch) == 0 && memcmp(ch, hash, 32) == 0)
        *flags |= ETHD_CHAIN_CANONICAL;
    return 0;
}

static void fork_id(struct ethd_chain *c, struct ethd_forkid *out)
{
    struct ethd_chain_head h;
    ethd_chain_head_header(c, &h);
    ethd_forkid_compute(&c->g.config, c->g.hash, c->g.header.timestamp, h.number, h.timestamp,
                        out);
}

static int validate_fork_id(struct ethd_chain *c, const struct ethd_forkid *remote)
{
    struct ethd_chain_head h;
    ethd_chain_head_header(c, &h);
    return ethd_forkid_validate(&c->g.config, c->g.hash, c->g.header.timestamp, h.number,
                                h.timestamp, remote);
}

/* ---- the chain/1 table ---- */

static void if_head_header(void *impl, struct ethd_chain_head *out)
{
    ethd_chain_head_header(impl, out);
}
static void if_head_block(void *impl, struct ethd_chain_head *out)
{
    ethd_chain_head_block(impl, out);
}
static void if_genesis_hash(void *impl, uint8_t out[32])
{
    memcpy(out, ((struct ethd_chain *)impl)->g.hash, 32);
}
static const struct ethd_chain_config *if_config(void *impl)
{
    return &((struct ethd_chain *)impl)->g.config;
}
static uint64_t if_network_id(void *impl)
{
    return ((struct ethd_chain *)impl)->network_id;
}
static void if_fork_id(void *impl, struct ethd_forkid *out)
{
    fork_id(impl, out);
}
static int if_validate_fork_id(void *impl, const struct ethd_forkid *remote)
{
    return validate_fork_id(impl, remote);
}
static int if_hash_by_number(void *impl, uint64_t number, uint8_t hash[32])
{
    return ethd_chain_hash_by_number(impl, number, hash);
}
static int if_number_by_hash(void *impl, const uint8_t hash[32], uint64_t *number)
{
    return ethd_chain_get_number(impl, hash, number);
}
static int if_block_status(void *impl, const uint8_t hash[32], unsigned *flags)
{
    return block_status(impl, hash, flags);
}
static int if_header_by_hash(void *impl, const uint8_t hash[32], struct ethd_header *out)
{
    return ethd_chain_header_by_hash(impl, hash, out);
}
static int if_header_by_number(void *impl, uint64_t number, struct ethd_header *out)
{
    return ethd_chain_header_by_number(impl, number, out);
}
static int if_td_by_hash(void *impl, const uint8_t hash[32], uint8_t td[32])
{
    return ethd_chain_td_by_hash(impl, hash, td);
}
static int if_tx_lookup(void *impl, const uint8_t tx_hash[32], uint64_t *number,
                        uint8_t block_hash[32], uint32_t *index)
{
    return ethd_chain_tx_lookup(impl, tx_hash, number, block_hash, index);
}
static int if_raw_header_by_hash(void *impl, const uint8_t hash[32], struct ethd_buf *out)
{
    return raw_header_by_hash(impl, hash, out);
}
static int if_raw_headers_by_number(void *impl, uint64_t origin, uint64_t amount, uint64_t skip,
                                    bool reverse, size_t max_bytes, struct ethd_buf *out,
                                    uint64_t *n_out)
{
    return raw_headers_by_number(impl, origin, amount, skip, reverse, max_bytes, out, n_out);
}
static int if_raw_body_by_hash(void *impl, const uint8_t hash[32], struct ethd_buf *out)
{
    return raw_body_by_hash(impl, hash, out);
}
static int if_raw_receipts_by_hash(void *impl, const uint8_t hash[32], struct ethd_buf *out)
{
    return ethd_chain_raw_receipts_by_hash(impl, hash, out);
}
static int if_raw_block_by_hash(void *impl, const uint8_t hash[32], struct ethd_buf *out)
{
    return ethd_chain_raw_block_by_hash(impl, hash, out);
}
static int if_insert_headers(void *impl, const struct ethd_header *headers, size_t n,
                             struct ethd_chain_insert_result *res)
{
    return ethd_chain_insert_headers(impl, headers, n, res);
}
static int if_insert_blocks(void *impl, const struct ethd_block *blocks,
                            const struct ethd_trie_item *receipts, size_t n,
                            struct ethd_chain_insert_result *res)
{
    return ethd_chain_insert_blocks(impl, blocks, receipts, n, res);
}

static const struct ethd_chain_iface_v1 chain_iface_v1 = {
    .head_header = if_head_header,
    .head_block = if_head_block,
    .genesis_hash = if_genesis_hash,
    .config = if_config,
    .network_id = if_network_id,
    .fork_id = if_fork_id,
    .validate_fork_id = if_validate_fork_id,
    .hash_by_number = if_hash_by_number,
    .number_by_hash = if_number_by_hash,
    .block_status = if_block_status,
    .header_by_hash = if_header_by_hash,
    .header_by_number = if_header_by_number,
    .td_by_hash = if_td_by_hash,
    .tx_lookup = if_tx_lookup,
    .raw_header_by_hash = if_raw_header_by_hash,
    .raw_headers_by_number = if_raw_headers_by_number,
    .raw_body_by_hash = if_raw_body_by_hash,
    .raw_receipts_by_hash = if_raw_receipts_by_hash,
    .raw_block_by_hash = if_raw_block_by_hash,
    .insert_headers = if_insert_headers,
    .insert_blocks = if_insert_blocks,
};

const struct ethd_chain_iface_v1 *ethd_chain_iface(void)
{
    return &chain_iface_v1;
}
