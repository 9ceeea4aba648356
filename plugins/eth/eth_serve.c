/* Serving chain data to eth peers (caps/eth.md, GetBlockHeaders,
 * GetBlockBodies, GetReceipts), every answer echoing the request id
 * (EIP-2481) and bounded by an item cap and the 2 MiB soft limit (checked
 * before each item, so an answer passes it by at most one item). */
#include "eth.h"

#include <ethd/trie.h>

#include <string.h>

static int send_resp(struct eth_peer *ep, uint64_t code, uint64_t id, struct ethd_eth_resp *resp)
{
    struct ethd_buf msg = ETHD_BUF_INIT;
    int rc = ethd_eth_resp_encode(resp, id, &msg);
    if (!rc)
        rc = ethd_eth_send(ep, code, &msg);
    ethd_buf_free(&msg);
    ethd_eth_resp_free(resp);
    /* A peer that went away or cannot take more is not a protocol error. */
    return rc == ETHD_ENOMEM ? rc : 0;
}

/* parentHash: the first element of a header's RLP. */
static int parent_of(const uint8_t *raw, size_t len, uint8_t parent[32])
{
    struct ethd_rlp_item top, first;
    struct ethd_rlp_iter it;
    if (ethd_rlp_decode(raw, len, &top) || ethd_rlp_iter_init(&it, &top) ||
        ethd_rlp_iter_next(&it, &first) || ethd_rlp_get_fixed(&first, parent, 32))
        return ETHD_EINVAL;
    return 0;
}

static bool is_canonical(struct eth *eth, const uint8_t hash[32], uint64_t number)
{
    uint8_t h[32];
    return eth->chain->hash_by_number(eth->chain_impl, number, h) == 0 &&
           memcmp(h, hash, 32) == 0;
}

/* Canonical headers from `origin`, appended to resp. */
static void canonical_range(struct eth *eth, struct ethd_eth_resp *resp, uint64_t origin,
                            uint64_t amount, uint64_t skip, bool reverse)
{
    if (amount == 0 || resp->items.len >= eth->soft_limit)
        return;
    size_t before = resp->items.len;
    uint64_t n = 0;
    int rc = eth->chain->raw_headers_by_number(eth->chain_impl, origin, amount, skip, reverse,
                                               eth->soft_limit - resp->items.len, &resp->items, &n);
    if (rc) {
        resp->items.len = before; /* nothing half-written goes out */
        return;
    }
    resp->n += (size_t)n;
}

/* A hash origin that is not canonical: the origin itself and, going down,
 * its ancestors by parent hash until the walk reaches the canonical chain,
 * where the numbers take over (go-ethereum serves such queries the same
 * way; upwards there is no "next" block off the canonical chain). */
static void side_chain(struct eth *eth, struct ethd_eth_resp *resp, const uint8_t origin[32],
                       uint64_t number, uint64_t amount, uint64_t skip, bool reverse)
{
    struct ethd_buf raw = ETHD_BUF_INIT;
    uint8_t hash[32];
    memcpy(hash, origin, 32);
    if (eth->chain->raw_header_by_hash(eth->chain_impl, hash, &raw) ||
        ethd_eth_resp_add(resp, raw.data, raw.len))
        goto out;
    uint64_t left = amount - 1;
    while (reverse && left > 0 && resp->items.len < eth->soft_limit) {
        if (skip >= number)
            break; /* the next one would be below genesis */
        uint64_t target = number - skip - 1;
        while (number > target && !is_canonical(eth, hash, number)) {
            uint8_t parent[32];
            if (parent_of(raw.data, raw.len, parent))
                goto out;
            memcpy(hash, parent, 32);
            number--;
            ethd_buf_reset(&raw);
            if (eth->chain->raw_header_by_hash(eth->chain_impl, hash, &raw))
                goto out;
        }
        if (number > target) { /* on the canonical chain now: its ancestors are too */
            canonical_range(eth, resp, target, left, skip, true);
            break;
        }
        if (ethd_eth_resp_add(resp, raw.data, raw.len))
            break;
        left--;
    }
out:
    ethd_buf_free(&raw);
}

int ethd_eth_serve_headers(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct eth *eth = ep->eth;
    struct ethd_eth_headers_query q;
    uint64_t id;
    if (ethd_eth_get_headers_decode(payload, len, &id, &q))
        return ETHD_EPROTO;
    struct ethd_eth_resp resp;
    ethd_eth_resp_init(&resp);
    uint64_t amount = q.amount < eth->max_headers ? q.amount : eth->max_headers;
    if (amount > 0) {
        if (q.by_hash) {
            uint64_t number;
            if (eth->chain->number_by_hash(eth->chain_impl, q.hash, &number) == 0) {
                if (is_canonical(eth, q.hash, number))
                    canonical_range(eth, &resp, number, amount, q.skip, q.reverse);
                else
                    side_chain(eth, &resp, q.hash, number, amount, q.skip, q.reverse);
            }
        } else {
            canonical_range(eth, &resp, q.number, amount, q.skip, q.reverse);
        }
    }
    ep->served_headers += resp.n;
    return send_resp(ep, ETH_BLOCK_HEADERS, id, &resp);
}

int ethd_eth_serve_bodies(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct eth *eth = ep->eth;
    struct ethd_rlp_item list;
    struct ethd_rlp_iter it;
    size_t count, lookups = 0;
    uint64_t id;
    const uint8_t *h;
    if (ethd_eth_hashes_decode(payload, len, &id, &list, &count))
        return ETHD_EPROTO;
    struct ethd_eth_resp resp;
    struct ethd_buf body = ETHD_BUF_INIT;
    ethd_eth_resp_init(&resp);
    ethd_rlp_iter_init(&it, &list);
    /* Unknown hashes are skipped; lookups are bounded too so a request of
     * unknown hashes costs at most 2 * max_bodies_serve reads. */
    while (resp.n < eth->max_bodies && lookups < 2 * eth->max_bodies &&
           resp.items.len < eth->soft_limit && ethd_eth_hash_next(&it, &h)) {
        lookups++;
        ethd_buf_reset(&body);
        if (eth->chain->raw_body_by_hash(eth->chain_impl, h, &body) == 0 &&
            ethd_eth_resp_add(&resp, body.data, body.len))
            break;
    }
    ethd_buf_free(&body);
    ep->served_bodies += resp.n;
    return send_resp(ep, ETH_BLOCK_BODIES, id, &resp);
}

/* Receipts of a block whose list is not stored but is known to be empty
 * (its header's receiptsRoot is the empty root and its body is stored). */
static bool empty_receipts(struct eth *eth, const uint8_t hash[32])
{
    unsigned flags = 0;
    struct ethd_header hd;
    if (eth->chain->block_status(eth->chain_impl, hash, &flags) || !(flags & ETHD_CHAIN_HAS_BODY))
        return false;
    if (eth->chain->header_by_hash(eth->chain_impl, hash, &hd))
        return false;
    bool empty = memcmp(hd.receipts_root, ethd_trie_empty_root, 32) == 0;
    ethd_header_free(&hd);
    return empty;
}

int ethd_eth_serve_receipts(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct eth *eth = ep->eth;
    struct ethd_rlp_item list;
    struct ethd_rlp_iter it;
    size_t count, lookups = 0;
    uint64_t id;
    const uint8_t *h;
    if (ethd_eth_hashes_decode(payload, len, &id, &list, &count))
        return ETHD_EPROTO;
    struct ethd_eth_resp resp;
    struct ethd_buf rl = ETHD_BUF_INIT, conv = ETHD_BUF_INIT;
    ethd_eth_resp_init(&resp);
    ethd_rlp_iter_init(&it, &list);
    static const uint8_t empty_list = 0xc0;
    while (resp.n < eth->max_receipts && lookups < 2 * eth->max_receipts &&
           resp.items.len < eth->soft_limit && ethd_eth_hash_next(&it, &h)) {
        lookups++;
        ethd_buf_reset(&rl);
        const uint8_t *item = NULL;
        size_t ilen = 0;
        if (eth->chain->raw_receipts_by_hash(eth->chain_impl, h, &rl) == 0) {
            item = rl.data;
            ilen = rl.len;
            if (ep->version >= 69) {
                struct ethd_rlp_enc e;
                ethd_buf_reset(&conv);
                ethd_rlp_enc_init(&e, &conv);
                if (ethd_eth_receipts_to69(rl.data, rl.len, &e) || ethd_rlp_enc_finish(&e)) {
                    ETHD_WARN(eth->log, "stored receipts do not decode", "addr=%s",
                              ethd_peer_remote_addr(ep->peer));
                    continue;
                }
                item = conv.data;
                ilen = conv.len;
            }
        } else if (empty_receipts(eth, h)) {
            item = &empty_list;
            ilen = 1;
        }
        if (item && ethd_eth_resp_add(&resp, item, ilen))
            break;
    }
    ethd_buf_free(&rl);
    ethd_buf_free(&conv);
    ep->served_receipts += resp.n;
    return send_resp(ep, ETH_RECEIPTS, id, &resp);
}

int ethd_eth_serve_empty(struct eth_peer *ep, uint64_t answer_code, const uint8_t *payload,
                         size_t len)
{
    struct ethd_rlp_item list;
    size_t count;
    uint64_t id;
    if (ethd_eth_hashes_decode(payload, len, &id, &list, &count))
        return ETHD_EPROTO;
    struct ethd_eth_resp resp;
    ethd_eth_resp_init(&resp);
    return send_resp(ep, answer_code, id, &resp);
}
