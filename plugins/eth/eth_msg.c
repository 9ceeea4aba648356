/* eth wire messages: encoders and strict decoders (see eth_msg.h). */
#include "eth_msg.h"

#include <ethd/block.h>
#include <ethd/error.h>
#include <stdlib.h>
#include <string.h>

const char *ethd_eth_msg_name(uint64_t code)
{
    static const char *const names[] = {
        [ETH_STATUS] = "Status",
        [ETH_NEW_BLOCK_HASHES] = "NewBlockHashes",
        [ETH_TRANSACTIONS] = "Transactions",
        [ETH_GET_BLOCK_HEADERS] = "GetBlockHeaders",
        [ETH_BLOCK_HEADERS] = "BlockHeaders",
        [ETH_GET_BLOCK_BODIES] = "GetBlockBodies",
        [ETH_BLOCK_BODIES] = "BlockBodies",
        [ETH_NEW_BLOCK] = "NewBlock",
        [ETH_NEW_POOLED_TX_HASHES] = "NewPooledTransactionHashes",
        [ETH_GET_POOLED_TXS] = "GetPooledTransactions",
        [ETH_POOLED_TXS] = "PooledTransactions",
        [ETH_GET_NODE_DATA] = "GetNodeData",
        [ETH_NODE_DATA] = "NodeData",
        [ETH_GET_RECEIPTS] = "GetReceipts",
        [ETH_RECEIPTS] = "Receipts",
        [ETH_BLOCK_RANGE_UPDATE] = "BlockRangeUpdate",
    };
    if (code < sizeof(names) / sizeof(*names) && names[code])
        return names[code];
    return "unknown";
}

/* ---- small decoding helpers: any failure is a malformed message ---- */

static int top_list(const uint8_t *in, size_t len, struct ethd_rlp_item *top,
                    struct ethd_rlp_iter *it)
{
    if (!in || ethd_rlp_decode(in, len, top) || ethd_rlp_iter_init(it, top))
        return ETHD_EPROTO;
    return 0;
}

static int next_item(struct ethd_rlp_iter *it, struct ethd_rlp_item *out)
{
    return ethd_rlp_iter_next(it, out) ? ETHD_EPROTO : 0;
}

static int next_u64(struct ethd_rlp_iter *it, uint64_t *v)
{
    struct ethd_rlp_item x;
    if (ethd_rlp_iter_next(it, &x) || ethd_rlp_get_uint64(&x, v))
        return ETHD_EPROTO;
    return 0;
}

static int next_u256(struct ethd_rlp_iter *it, uint8_t v[32])
{
    struct ethd_rlp_item x;
    const uint8_t *p;
    size_t n;
    /* Canonical integers only: no leading zero byte. */
    if (ethd_rlp_iter_next(it, &x) || ethd_rlp_get_bytes(&x, &p, &n) || n > 32 ||
        (n > 0 && p[0] == 0) || ethd_rlp_get_u256(&x, v))
        return ETHD_EPROTO;
    return 0;
}

static int next_fixed(struct ethd_rlp_iter *it, void *out, size_t n)
{
    struct ethd_rlp_item x;
    if (ethd_rlp_iter_next(it, &x) || ethd_rlp_get_fixed(&x, out, n))
        return ETHD_EPROTO;
    return 0;
}

static int next_list(struct ethd_rlp_iter *it, struct ethd_rlp_item *out)
{
    if (ethd_rlp_iter_next(it, out) || !out->is_list)
        return ETHD_EPROTO;
    return 0;
}

static int at_end(const struct ethd_rlp_iter *it)
{
    return ethd_rlp_iter_more(it) ? ETHD_EPROTO : 0;
}

static int finish(struct ethd_rlp_enc *e)
{
    int rc = ethd_rlp_enc_finish(e);
    return rc == ETHD_ETOOBIG ? ETHD_ETOOBIG : rc ? ETHD_ENOMEM : 0;
}

/* ---- Status ---- */

int ethd_eth_status_encode(uint32_t form, const struct ethd_eth_status *s, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, s->version);
    ethd_rlp_uint(&e, s->network_id);
    if (form >= 69) {
        ethd_rlp_bytes(&e, s->genesis, 32);
        ethd_forkid_encode_rlp(&e, &s->forkid);
        ethd_rlp_uint(&e, s->earliest);
        ethd_rlp_uint(&e, s->latest);
        ethd_rlp_bytes(&e, s->head, 32);
    } else {
        ethd_rlp_u256(&e, s->td);
        ethd_rlp_bytes(&e, s->head, 32);
        ethd_rlp_bytes(&e, s->genesis, 32);
        ethd_forkid_encode_rlp(&e, &s->forkid);
    }
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_eth_status_decode(uint32_t form, const uint8_t *in, size_t len,
                           struct ethd_eth_status *s)
{
    struct ethd_rlp_item top, fid;
    struct ethd_rlp_iter it;
    memset(s, 0, sizeof(*s));
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_u64(&it, &s->version);
    if (!rc)
        rc = next_u64(&it, &s->network_id);
    if (form >= 69) {
        if (!rc)
            rc = next_fixed(&it, s->genesis, 32);
        if (!rc)
            rc = next_item(&it, &fid);
        if (!rc && ethd_forkid_decode_item(&fid, &s->forkid))
            rc = ETHD_EPROTO;
        if (!rc)
            rc = next_u64(&it, &s->earliest);
        if (!rc)
            rc = next_u64(&it, &s->latest);
        if (!rc)
            rc = next_fixed(&it, s->head, 32);
    } else {
        if (!rc)
            rc = next_u256(&it, s->td);
        if (!rc)
            rc = next_fixed(&it, s->head, 32);
        if (!rc)
            rc = next_fixed(&it, s->genesis, 32);
        if (!rc)
            rc = next_item(&it, &fid);
        if (!rc && ethd_forkid_decode_item(&fid, &s->forkid))
            rc = ETHD_EPROTO;
    }
    if (!rc)
        rc = at_end(&it);
    if (rc)
        memset(s, 0, sizeof(*s));
    return rc;
}

/* ---- GetBlockHeaders ---- */

int ethd_eth_get_headers_encode(uint64_t req_id, const struct ethd_eth_headers_query *q,
                                struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, req_id);
    ethd_rlp_list_begin(&e);
    if (q->by_hash)
        ethd_rlp_bytes(&e, q->hash, 32);
    else
        ethd_rlp_uint(&e, q->number);
    ethd_rlp_uint(&e, q->amount);
    ethd_rlp_uint(&e, q->skip);
    ethd_rlp_uint(&e, q->reverse ? 1 : 0);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_eth_get_headers_decode(const uint8_t *in, size_t len, uint64_t *req_id,
                                struct ethd_eth_headers_query *q)
{
    struct ethd_rlp_item top, body, origin;
    struct ethd_rlp_iter it, bi;
    uint64_t rev = 0;
    memset(q, 0, sizeof(*q));
    *req_id = 0;
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_u64(&it, req_id);
    if (!rc)
        rc = next_list(&it, &body);
    if (!rc)
        rc = at_end(&it);
    if (!rc && ethd_rlp_iter_init(&bi, &body))
        rc = ETHD_EPROTO;
    if (!rc)
        rc = next_item(&bi, &origin);
    if (!rc) {
        /* A 32-byte string is a hash; anything up to 8 bytes a number. */
        if (!origin.is_list && origin.len == 32) {
            q->by_hash = true;
            memcpy(q->hash, origin.payload, 32);
        } else if (ethd_rlp_get_uint64(&origin, &q->number)) {
            rc = ETHD_EPROTO;
        }
    }
    if (!rc)
        rc = next_u64(&bi, &q->amount);
    if (!rc)
        rc = next_u64(&bi, &q->skip);
    if (!rc)
        rc = next_u64(&bi, &rev);
    if (!rc && rev > 1)
        rc = ETHD_EPROTO;
    if (!rc)
        rc = at_end(&bi);
    q->reverse = rev == 1;
    if (rc) {
        memset(q, 0, sizeof(*q));
        *req_id = 0;
    }
    return rc;
}

/* ---- hash-list requests ---- */

int ethd_eth_hashes_encode(uint64_t req_id, const uint8_t (*hashes)[32], size_t n,
                           struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, req_id);
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < n; i++)
        ethd_rlp_bytes(&e, hashes[i], 32);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_eth_hashes_decode(const uint8_t *in, size_t len, uint64_t *req_id,
                           struct ethd_rlp_item *list, size_t *count)
{
    struct ethd_rlp_item top, h;
    struct ethd_rlp_iter it, li;
    size_t n = 0;
    *req_id = 0;
    *count = 0;
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_u64(&it, req_id);
    if (!rc)
        rc = next_list(&it, list);
    if (!rc)
        rc = at_end(&it);
    if (!rc && ethd_rlp_iter_init(&li, list))
        rc = ETHD_EPROTO;
    while (!rc && ethd_rlp_iter_more(&li)) {
        if (ethd_rlp_iter_next(&li, &h) || h.is_list || h.len != 32)
            rc = ETHD_EPROTO;
        n++;
    }
    if (rc) {
        *req_id = 0;
        return rc;
    }
    *count = n;
    return 0;
}

int ethd_eth_hash_next(struct ethd_rlp_iter *it, const uint8_t **hash)
{
    struct ethd_rlp_item h;
    if (!ethd_rlp_iter_more(it) || ethd_rlp_iter_next(it, &h) || h.is_list || h.len != 32)
        return 0;
    *hash = h.payload;
    return 1;
}

/* ---- responses ---- */

void ethd_eth_resp_init(struct ethd_eth_resp *r)
{
    memset(r, 0, sizeof(*r));
}

int ethd_eth_resp_add(struct ethd_eth_resp *r, const void *item, size_t len)
{
    int rc = ethd_buf_append(&r->items, item, len);
    if (!rc)
        r->n++;
    return rc;
}

int ethd_eth_resp_encode(const struct ethd_eth_resp *r, uint64_t req_id, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_buf_reset(out);
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, req_id);
    ethd_rlp_list_begin(&e);
    if (r->items.len)
        ethd_rlp_raw(&e, r->items.data, r->items.len);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

void ethd_eth_resp_free(struct ethd_eth_resp *r)
{
    ethd_buf_free(&r->items);
    r->n = 0;
}

int ethd_eth_resp_decode(const uint8_t *in, size_t len, uint64_t *req_id,
                         struct ethd_rlp_item *list)
{
    struct ethd_rlp_item top;
    struct ethd_rlp_iter it;
    *req_id = 0;
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_u64(&it, req_id);
    if (!rc)
        rc = next_list(&it, list);
    if (!rc)
        rc = at_end(&it);
    if (rc)
        *req_id = 0;
    return rc;
}

/* ---- NewBlockHashes ---- */

int ethd_eth_nbh_encode(const uint8_t (*hashes)[32], const uint64_t *numbers, size_t n,
                        struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < n; i++) {
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, hashes[i], 32);
        ethd_rlp_uint(&e, numbers[i]);
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    return finish(&e);
}

static int nbh_entry(const struct ethd_rlp_item *ent, const uint8_t **hash, uint64_t *number)
{
    struct ethd_rlp_iter ei;
    struct ethd_rlp_item h;
    if (!ent->is_list || ethd_rlp_iter_init(&ei, ent) || next_item(&ei, &h) || h.is_list ||
        h.len != 32 || next_u64(&ei, number) || at_end(&ei))
        return ETHD_EPROTO;
    *hash = h.payload;
    return 0;
}

int ethd_eth_nbh_decode(const uint8_t *in, size_t len, struct ethd_rlp_item *list, size_t *count)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item ent;
    const uint8_t *h;
    uint64_t num;
    size_t n = 0;
    *count = 0;
    int rc = top_list(in, len, list, &it);
    while (!rc && ethd_rlp_iter_more(&it)) {
        rc = next_item(&it, &ent);
        if (!rc)
            rc = nbh_entry(&ent, &h, &num);
        n++;
    }
    if (!rc)
        *count = n;
    return rc;
}

int ethd_eth_nbh_next(struct ethd_rlp_iter *it, const uint8_t **hash, uint64_t *number)
{
    struct ethd_rlp_item ent;
    if (!ethd_rlp_iter_more(it) || ethd_rlp_iter_next(it, &ent) ||
        nbh_entry(&ent, hash, number))
        return 0;
    return 1;
}

/* ---- NewBlock ---- */

int ethd_eth_new_block_encode(const uint8_t *block, size_t len, const uint8_t td[32],
                              struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_raw(&e, block, len);
    ethd_rlp_u256(&e, td);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_eth_new_block_decode(const uint8_t *in, size_t len, struct ethd_rlp_item *block,
                              uint8_t td[32])
{
    struct ethd_rlp_item top;
    struct ethd_rlp_iter it;
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_list(&it, block);
    if (!rc)
        rc = next_u256(&it, td);
    if (!rc)
        rc = at_end(&it);
    return rc;
}

/* ---- BlockRangeUpdate ---- */

int ethd_eth_range_encode(uint64_t earliest, uint64_t latest, const uint8_t hash[32],
                          struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, earliest);
    ethd_rlp_uint(&e, latest);
    ethd_rlp_bytes(&e, hash, 32);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_eth_range_decode(const uint8_t *in, size_t len, uint64_t *earliest, uint64_t *latest,
                          uint8_t hash[32])
{
    struct ethd_rlp_item top;
    struct ethd_rlp_iter it;
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_u64(&it, earliest);
    if (!rc)
        rc = next_u64(&it, latest);
    if (!rc)
        rc = next_fixed(&it, hash, 32);
    if (!rc)
        rc = at_end(&it);
    return rc;
}

/* ---- NewPooledTransactionHashes ---- */

static int check_hash_list(const struct ethd_rlp_item *list, size_t *n)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item h;
    *n = 0;
    if (!list->is_list || ethd_rlp_iter_init(&it, list))
        return ETHD_EPROTO;
    while (ethd_rlp_iter_more(&it)) {
        if (ethd_rlp_iter_next(&it, &h) || h.is_list || h.len != 32)
            return ETHD_EPROTO;
        (*n)++;
    }
    return 0;
}

int ethd_eth_pooled_ann_decode(uint32_t version, const uint8_t *in, size_t len,
                               struct ethd_eth_pooled_ann *a)
{
    struct ethd_rlp_item top, types;
    struct ethd_rlp_iter it;
    memset(a, 0, sizeof(*a));
    if (version < 68) {
        if (!in || ethd_rlp_decode(in, len, &top) || check_hash_list(&top, &a->n)) {
            memset(a, 0, sizeof(*a));
            return ETHD_EPROTO;
        }
        a->hashes = top;
        return 0;
    }
    size_t ns = 0, nh = 0;
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_item(&it, &types);
    if (!rc && types.is_list)
        rc = ETHD_EPROTO;
    if (!rc)
        rc = next_list(&it, &a->sizes);
    if (!rc)
        rc = next_list(&it, &a->hashes);
    if (!rc)
        rc = at_end(&it);
    if (!rc)
        rc = check_hash_list(&a->hashes, &nh);
    if (!rc) {
        struct ethd_rlp_iter si;
        struct ethd_rlp_item s;
        uint64_t v;
        ethd_rlp_iter_init(&si, &a->sizes);
        while (!rc && ethd_rlp_iter_more(&si)) {
            if (ethd_rlp_iter_next(&si, &s) || ethd_rlp_get_uint64(&s, &v) || v > UINT32_MAX)
                rc = ETHD_EPROTO;
            ns++;
        }
    }
    if (!rc && (types.len != nh || ns != nh))
        rc = ETHD_EPROTO;
    if (rc) {
        memset(a, 0, sizeof(*a));
        return rc;
    }
    a->n = nh;
    a->types = types.payload;
    return 0;
}

int ethd_eth_pooled_ann_encode(uint32_t version, const uint8_t *types, const uint32_t *sizes,
                               const uint8_t (*hashes)[32], size_t n, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    if (version >= 68) {
        ethd_rlp_bytes(&e, types, n);
        ethd_rlp_list_begin(&e);
        for (size_t i = 0; i < n; i++)
            ethd_rlp_uint(&e, sizes[i]);
        ethd_rlp_list_end(&e);
        ethd_rlp_list_begin(&e);
    }
    for (size_t i = 0; i < n; i++)
        ethd_rlp_bytes(&e, hashes[i], 32);
    if (version >= 68) {
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    return finish(&e);
}

/* ---- Transactions ---- */

int ethd_eth_txs_check(const uint8_t *in, size_t len, size_t *count)
{
    struct ethd_rlp_item top, tx;
    struct ethd_rlp_iter it;
    size_t n = 0;
    *count = 0;
    int rc = top_list(in, len, &top, &it);
    while (!rc && ethd_rlp_iter_more(&it)) {
        rc = next_item(&it, &tx);
        /* EIP-2718: a string item holds type || rlp(fields), the type
         * byte below 0x80; a list is a legacy transaction. */
        struct ethd_rlp_item body;
        if (!rc && !tx.is_list &&
            (tx.len < 2 || tx.payload[0] >= 0x80 ||
             ethd_rlp_decode(tx.payload + 1, tx.len - 1, &body) || !body.is_list))
            rc = ETHD_EPROTO;
        n++;
    }
    if (!rc)
        *count = n;
    return rc;
}

/* ---- receipts: eth/66-68 <-> eth/69 ---- */

int ethd_eth_receipts_to69(const uint8_t *list68, size_t len, struct ethd_rlp_enc *e)
{
    struct ethd_rlp_item list, it;
    struct ethd_rlp_iter li;
    if (ethd_rlp_decode(list68, len, &list) || ethd_rlp_iter_init(&li, &list))
        return ETHD_EPROTO;
    ethd_rlp_list_begin(e);
    while (ethd_rlp_iter_more(&li)) {
        struct ethd_receipt r;
        if (ethd_rlp_iter_next(&li, &it) || ethd_receipt_decode_item(&it, &r)) {
            ethd_rlp_list_end(e);
            return ETHD_EPROTO;
        }
        ethd_receipt_encode_69(e, &r);
        ethd_receipt_free(&r);
    }
    ethd_rlp_list_end(e);
    return 0;
}

int ethd_eth_receipts_from69(const struct ethd_rlp_item *list69, struct ethd_buf *out)
{
    struct ethd_rlp_iter li;
    struct ethd_rlp_item it;
    struct ethd_rlp_enc e;
    if (!list69->is_list || ethd_rlp_iter_init(&li, list69))
        return ETHD_EPROTO;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    int rc = 0;
    while (!rc && ethd_rlp_iter_more(&li)) {
        struct ethd_receipt r;
        if (ethd_rlp_iter_next(&li, &it) || ethd_receipt_decode_69(&it, &r)) {
            rc = ETHD_EPROTO;
            break;
        }
        ethd_receipt_encode_rlp(&e, &r);
        ethd_receipt_free(&r);
    }
    ethd_rlp_list_end(&e);
    int frc = finish(&e);
    return rc ? rc : frc;
}
