/* Transactions over the eth protocol (caps/eth.md, "Transaction Exchange")
 * and their RPC methods, around the pool of txpool.c:
 *
 *   in   Transactions (full txs), NewPooledTransactionHashes (announced
 *        hashes: the unknown ones are fetched with GetPooledTransactions),
 *        PooledTransactions (answers to our fetches), eth_sendRawTransaction;
 *   out  each newly pooled tx goes as a whole (Transactions) to ceil(sqrt(n))
 *        of the n peers not known to have it and as a hash (eth/68: with type
 *        and size) to the rest; a new peer gets the pool's hashes in packs of
 *        ETH_TX_ANN_PACK; GetPooledTransactions is answered from the pool.
 *
 * Broadcasts are batched: additions queue their hash and one zero-delay
 * event flushes the queue on the next loop turn. Transactions included in a
 * new canonical block leave the pool. */
#include "eth.h"

#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/random.h>

#include <event2/event.h>

#include <stdlib.h>
#include <string.h>

/* Item form of a pooled tx (legacy: its list; typed: a string holding the
 * envelope), appended to `out`. */
static int tx_item(const struct ethd_txpool_tx *t, struct ethd_buf *out)
{
    if (t->type == ETHD_TX_LEGACY)
        return ethd_buf_append(out, t->raw, t->len);
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_bytes(&e, t->raw, t->len);
    return ethd_rlp_enc_finish(&e) ? ETHD_ENOMEM : 0;
}

static void rules_now(struct eth *eth, struct ethd_rules *r)
{
    struct ethd_chain_head h;
    eth->chain->head_header(eth->chain_impl, &h);
    uint64_t now = ethd_eth_now_ms() / 1000;
    ethd_chain_rules(eth->chain->config(eth->chain_impl), h.number + 1,
                     now > h.timestamp ? now : h.timestamp + 1, r);
}

static void queue_broadcast(struct eth *eth, const uint8_t hash[32])
{
    if (eth->n_tx_queue < ETH_TX_QUEUE)
        memcpy(eth->tx_queue[eth->n_tx_queue++], hash, 32);
    /* A full queue drops the broadcast, not the tx: new peers and
     * announcements still learn of it from the pool. */
    if (eth->tx_flush && eth->running)
        event_active(eth->tx_flush, EV_TIMEOUT, 0);
}

/* Add one tx in canonical form; from_peer (may be NULL) already has it.
 * Returns the pool's verdict. */
static int pool_add(struct eth *eth, struct eth_peer *from, const uint8_t *raw, size_t len,
                    const struct ethd_rules *r, struct ethd_txpool_verdict *v)
{
    int rc = ethd_txpool_add(eth->txpool, eth->secp, r, raw, len, v);
    if (from && rc != ETHD_EPROTO && rc != ETHD_ETOOBIG)
        ethd_known_set_add(from->known_txs, v->hash);
    if (rc == 0) {
        eth->txs_pooled++;
        queue_broadcast(eth, v->hash);
    } else if (rc != ETHD_EEXIST) {
        eth->txs_refused++;
    }
    return rc;
}

/* A list of tx items from a peer (Transactions, PooledTransactions). A
 * string item that holds a list, or a tx that does not decode, is a
 * protocol error (the peer goes); a well-formed tx the pool refuses is
 * only counted. */
static int take_items(struct eth_peer *ep, const struct ethd_rlp_item *list, const char *what)
{
    struct eth *eth = ep->eth;
    struct ethd_rlp_iter it;
    struct ethd_rlp_item item;
    struct ethd_rules r;
    size_t added = 0, refused = 0;
    if (!list->is_list || ethd_rlp_iter_init(&it, list))
        return ETHD_EPROTO;
    rules_now(eth, &r);
    while (ethd_rlp_iter_more(&it)) {
        if (ethd_rlp_iter_next(&it, &item))
            return ETHD_EPROTO;
        const uint8_t *raw = item.raw;
        size_t len = item.raw_len;
        if (!item.is_list) {
            raw = item.payload;
            len = item.len;
            if (len == 0 || raw[0] >= 0xc0)
                return ETHD_EPROTO; /* typed envelopes only */
        }
        struct ethd_txpool_verdict v;
        int rc = pool_add(eth, ep, raw, len, &r, &v);
        if (rc == ETHD_EPROTO && !(len && raw[0] == ETHD_TX_BLOB)) {
            ETHD_DEBUG(eth->log, "garbage transaction", "addr=%s msg=%s",
                       ethd_peer_remote_addr(ep->peer), what);
            return ETHD_EPROTO;
        }
        if (rc == 0)
            added++;
        else if (rc != ETHD_EEXIST)
            refused++;
        if (rc != 0 && rc != ETHD_EEXIST)
            ethd_log(eth->log, ETHD_LOG_TRACE, "tx refused", "addr=%s reason=\"%s\"",
                       ethd_peer_remote_addr(ep->peer), v.reason);
    }
    if (added || refused)
        ETHD_DEBUG(eth->log, "txs received", "addr=%s msg=%s added=%zu refused=%zu pool=%zu",
                   ethd_peer_remote_addr(ep->peer), what, added, refused,
                   ethd_txpool_count(eth->txpool));
    return 0;
}

int ethd_eth_on_transactions(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct ethd_rlp_item list;
    if (ethd_rlp_decode(payload, len, &list))
        return ETHD_EPROTO;
    return take_items(ep, &list, "Transactions");
}

/* ---- fetching announced transactions ---- */

static void on_pooled_txs(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                          size_t len)
{
    (void)arg;
    if (status != 0 || !items)
        return; /* timed out or the peer left: another peer will announce it */
    struct eth_peer *ep = ethd_eth_peer_of(peer);
    struct ethd_rlp_item list;
    if (!ep || ethd_rlp_decode(items, len, &list))
        return;
    if (take_items(ep, &list, "PooledTransactions"))
        ethd_peer_disconnect(peer, ETHD_DISC_PROTOCOL_ERROR);
}

int ethd_eth_on_pooled_ann(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct eth *eth = ep->eth;
    struct ethd_eth_pooled_ann a;
    if (ethd_eth_pooled_ann_decode(ep->version, payload, len, &a))
        return ETHD_EPROTO;
    struct ethd_rlp_iter it;
    struct ethd_rlp_item h;
    uint8_t(*want)[32] = NULL;
    size_t n = 0;
    if (ethd_rlp_iter_init(&it, &a.hashes))
        return ETHD_EPROTO;
    while (ethd_rlp_iter_more(&it)) {
        uint8_t hash[32];
        if (ethd_rlp_iter_next(&it, &h) || ethd_rlp_get_fixed(&h, hash, 32)) {
            free(want);
            return ETHD_EPROTO;
        }
        ethd_known_set_add(ep->known_txs, hash);
        if (ethd_txpool_has(eth->txpool, hash) || ethd_known_set_has(eth->tx_requested, hash))
            continue;
        if (!want && !(want = calloc(ETH_TX_FETCH_MAX, 32)))
            return ETHD_ENOMEM;
        if (n < ETH_TX_FETCH_MAX) {
            memcpy(want[n++], hash, 32);
            ethd_known_set_add(eth->tx_requested, hash);
        }
    }
    if (n) {
        int rc = ethd_eth_request_pooled_txs(eth, ep, (const uint8_t(*)[32])want, n, 0,
                                             on_pooled_txs, NULL, NULL);
        if (rc)
            ETHD_DEBUG(eth->log, "tx fetch failed", "addr=%s rc=%s",
                       ethd_peer_remote_addr(ep->peer), ethd_strerror(rc));
    }
    free(want);
    return 0;
}

/* ---- serving ---- */

int ethd_eth_serve_pooled(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct eth *eth = ep->eth;
    struct ethd_rlp_item list;
    struct ethd_rlp_iter it;
    size_t count, looked = 0;
    uint64_t id;
    const uint8_t *h;
    if (ethd_eth_hashes_decode(payload, len, &id, &list, &count))
        return ETHD_EPROTO;
    struct ethd_eth_resp resp;
    struct ethd_buf item = ETHD_BUF_INIT, msg = ETHD_BUF_INIT;
    ethd_eth_resp_init(&resp);
    ethd_rlp_iter_init(&it, &list);
    int rc = 0;
    while (looked < ETH_TX_SERVE_MAX && resp.items.len < eth->soft_limit &&
           ethd_eth_hash_next(&it, &h)) {
        looked++;
        struct ethd_txpool_tx t;
        if (ethd_txpool_get(eth->txpool, h, &t))
            continue; /* unknown: skipped, as the spec allows */
        ethd_buf_reset(&item);
        if ((rc = tx_item(&t, &item)) || (rc = ethd_eth_resp_add(&resp, item.data, item.len)))
            break;
    }
    if (!rc)
        rc = ethd_eth_resp_encode(&resp, id, &msg);
    if (!rc)
        rc = ethd_eth_send(ep, ETH_POOLED_TXS, &msg);
    ethd_buf_free(&item);
    ethd_buf_free(&msg);
    ethd_eth_resp_free(&resp);
    return rc == ETHD_ENOMEM ? rc : 0;
}

/* ---- broadcasting ---- */

/* NewPooledTransactionHashes of the given pooled hashes to one peer, in
 * packs of ETH_TX_ANN_PACK. */
static void announce_hashes(struct eth_peer *ep, const uint8_t (*hashes)[32], size_t n)
{
    struct eth *eth = ep->eth;
    uint8_t types[ETH_TX_ANN_PACK];
    uint32_t sizes[ETH_TX_ANN_PACK];
    uint8_t(*hs)[32] = malloc((size_t)ETH_TX_ANN_PACK * 32);
    if (!hs)
        return;
    size_t k = 0;
    struct ethd_buf msg = ETHD_BUF_INIT;
    for (size_t i = 0; i <= n; i++) {
        if (k == ETH_TX_ANN_PACK || (i == n && k)) {
            ethd_buf_reset(&msg);
            if (ethd_eth_pooled_ann_encode(ep->version, types, sizes, (const uint8_t(*)[32])hs, k,
                                           &msg) == 0)
                ethd_eth_send(ep, ETH_NEW_POOLED_TX_HASHES, &msg);
            k = 0;
        }
        if (i == n)
            break;
        struct ethd_txpool_tx t;
        if (ethd_txpool_get(eth->txpool, hashes[i], &t))
            continue;
        types[k] = t.type;
        /* eth/68: the size of the tx as it goes in PooledTransactions,
         * i.e. its canonical encoding. */
        sizes[k] = (uint32_t)t.len;
        memcpy(hs[k++], t.hash, 32);
        ethd_known_set_add(ep->known_txs, t.hash);
    }
    ethd_buf_free(&msg);
    free(hs);
}

/* Transactions with the given pooled hashes to one peer (stopping at the
 * soft limit; the rest are announced instead). */
static void send_full(struct eth_peer *ep, const uint8_t (*hashes)[32], size_t n)
{
    struct eth *eth = ep->eth;
    struct ethd_buf items = ETHD_BUF_INIT, msg = ETHD_BUF_INIT;
    size_t i = 0, count = 0;
    for (; i < n && items.len < eth->soft_limit; i++) {
        struct ethd_txpool_tx t;
        if (ethd_txpool_get(eth->txpool, hashes[i], &t) || tx_item(&t, &items))
            continue;
        ethd_known_set_add(ep->known_txs, t.hash);
        count++;
    }
    if (count) {
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &msg);
        ethd_rlp_list_begin(&e);
        ethd_rlp_raw(&e, items.data, items.len);
        ethd_rlp_list_end(&e);
        if (ethd_rlp_enc_finish(&e) == 0)
            ethd_eth_send(ep, ETH_TRANSACTIONS, &msg);
    }
    if (i < n)
        announce_hashes(ep, hashes + i, n - i);
    ethd_buf_free(&items);
    ethd_buf_free(&msg);
}

static void flush_broadcasts(evutil_socket_t fd, short what, void *arg)
{
    struct eth *eth = arg;
    (void)fd;
    (void)what;
    size_t nq = eth->n_tx_queue;
    eth->n_tx_queue = 0;
    if (!eth->running || nq == 0 || eth->n_active == 0)
        return;
    struct eth_peer **peers = calloc(eth->n_active, sizeof(*peers));
    uint8_t(*mine)[32] = malloc(nq * 32);
    if (!peers || !mine)
        goto out;
    size_t np = 0;
    for (struct eth_peer *ep = eth->peers; ep && np < eth->n_active; ep = ep->next)
        if (ep->active && !ep->closing)
            peers[np++] = ep;
    if (!np)
        goto out;
    uint32_t r = 0;
    ethd_random_bytes(&r, sizeof(r));
    size_t start = r % np, full = ethd_eth_ceil_sqrt(np);
    for (size_t k = 0; k < np; k++) {
        struct eth_peer *ep = peers[(start + k) % np];
        size_t m = 0;
        for (size_t i = 0; i < nq; i++)
            if (!ethd_known_set_has(ep->known_txs, eth->tx_queue[i]))
                memcpy(mine[m++], eth->tx_queue[i], 32);
        if (!m)
            continue;
        if (k < full)
            send_full(ep, (const uint8_t(*)[32])mine, m);
        else
            announce_hashes(ep, (const uint8_t(*)[32])mine, m);
        eth->txs_broadcast += m;
    }
    ETHD_DEBUG(eth->log, "txs broadcast", "txs=%zu peers=%zu full=%zu", nq, np,
               full < np ? full : np);
out:
    free(peers);
    free(mine);
}

struct collect {
    uint8_t (*h)[32];
    size_t n, cap;
};

static bool collect_hash(const struct ethd_txpool_tx *t, void *arg)
{
    struct collect *c = arg;
    if (c->n < c->cap)
        memcpy(c->h[c->n++], t->hash, 32);
    return c->n < c->cap;
}

void ethd_eth_tx_new_peer(struct eth_peer *ep)
{
    struct eth *eth = ep->eth;
    size_t n = ethd_txpool_count(eth->txpool);
    if (!n)
        return;
    struct collect c = {malloc(n * 32), 0, n};
    if (!c.h)
        return;
    ethd_txpool_each(eth->txpool, collect_hash, &c);
    announce_hashes(ep, (const uint8_t(*)[32])c.h, c.n);
    free(c.h);
}

/* ---- included transactions leave the pool ---- */

static void drop_included(struct eth *eth, const uint8_t block_hash[32])
{
    struct ethd_buf body = ETHD_BUF_INIT;
    struct ethd_rlp_item top, txs, item;
    struct ethd_rlp_iter it, bt;
    if (eth->chain->raw_body_by_hash(eth->chain_impl, block_hash, &body) ||
        ethd_rlp_decode(body.data, body.len, &top) || ethd_rlp_iter_init(&bt, &top) ||
        ethd_rlp_iter_next(&bt, &txs) || ethd_rlp_iter_init(&it, &txs))
        goto out;
    while (ethd_rlp_iter_more(&it) && ethd_rlp_iter_next(&it, &item) == 0) {
        uint8_t h[32];
        if (item.is_list)
            ethd_keccak256(item.raw, item.raw_len, h);
        else
            ethd_keccak256(item.payload, item.len, h);
        if (ethd_txpool_remove(eth->txpool, h))
            eth->txs_included++;
    }
out:
    ethd_buf_free(&body);
}

static void on_head(const char *topic, const void *event, void *arg)
{
    struct eth *eth = arg;
    const struct ethd_chain_head_event *ev = event;
    (void)topic;
    if (!ev || ethd_txpool_count(eth->txpool) == 0) {
        if (ev)
            eth->tx_seen_head = ev->block.number;
        return;
    }
    uint64_t top = ev->block.number;
    uint64_t from = eth->tx_seen_head < top ? eth->tx_seen_head + 1 : top;
    if (ev->reorg && ev->ancestor < from)
        from = ev->ancestor + 1;
    if (top - from >= ETH_TX_SCAN_BLOCKS)
        from = top - ETH_TX_SCAN_BLOCKS + 1;
    for (uint64_t n = from; n <= top && n > 0; n++) {
        uint8_t h[32];
        if (eth->chain->hash_by_number(eth->chain_impl, n, h) == 0)
            drop_included(eth, h);
    }
    eth->tx_seen_head = top;
}

/* ---- lifecycle ---- */

int ethd_eth_tx_create(struct eth *eth, const struct ethd_conf *c)
{
    struct ethd_txpool_config pc = {0};
    int rc = ethd_conf_uint(c, "txpool_slots", 1, 1u << 20, ETHD_TXPOOL_DEFAULT_MAX_TXS,
                            &pc.max_txs);
    if (!rc)
        rc = ethd_conf_size(c, "txpool_max_bytes", ETHD_TXPOOL_DEFAULT_MAX_BYTES, &pc.max_bytes);
    if (!rc && (pc.max_bytes < 4096 || pc.max_bytes > ((uint64_t)1 << 32)))
        rc = ethd_conf_fail(ethd_conf_get(c, "txpool_max_bytes"),
                            "services.eth.txpool_max_bytes must be between 4KiB and 4GiB");
    if (!rc)
        rc = ethd_conf_size(c, "tx_max_size", ETHD_TXPOOL_DEFAULT_MAX_TX_SIZE, &pc.max_tx_size);
    if (!rc && (pc.max_tx_size < 1024 || pc.max_tx_size > ((uint64_t)1 << 20)))
        rc = ethd_conf_fail(ethd_conf_get(c, "tx_max_size"),
                            "services.eth.tx_max_size must be between 1KiB and 1MiB");
    if (!rc)
        rc = ethd_conf_uint(c, "txpool_price_bump", 1, 1000, ETHD_TXPOOL_DEFAULT_PRICE_BUMP,
                            &pc.price_bump);
    if (!rc)
        rc = ethd_txpool_new(&pc, &eth->txpool);
    if (!rc)
        rc = ethd_known_set_new(ETH_TX_REQUESTED, &eth->tx_requested);
    if (!rc && !(eth->tx_queue = calloc(ETH_TX_QUEUE, 32)))
        rc = ETHD_ENOMEM;
    if (rc)
        ethd_eth_tx_destroy(eth);
    return rc;
}

int ethd_eth_tx_start(struct eth *eth)
{
    struct ethd_chain_head hb;
    eth->chain->head_block(eth->chain_impl, &hb);
    eth->tx_seen_head = hb.number;
    eth->tx_flush = event_new(eth->loop, -1, 0, flush_broadcasts, eth);
    if (!eth->tx_flush)
        return ETHD_ENOMEM;
    int rc = ethd_bus_subscribe(ethd_ctx_bus(eth->ctx), ETHD_CHAIN_TOPIC_HEAD, on_head, eth,
                                &eth->tx_sub);
    if (rc) {
        event_free(eth->tx_flush);
        eth->tx_flush = NULL;
        return rc;
    }
    eth->tx_subscribed = true;
    return 0;
}

void ethd_eth_tx_stop(struct eth *eth)
{
    if (eth->tx_subscribed) {
        ethd_bus_unsubscribe(ethd_ctx_bus(eth->ctx), eth->tx_sub);
        eth->tx_subscribed = false;
    }
    if (eth->tx_flush) {
        event_free(eth->tx_flush);
        eth->tx_flush = NULL;
    }
    eth->n_tx_queue = 0;
}

void ethd_eth_tx_destroy(struct eth *eth)
{
    ethd_eth_tx_stop(eth);
    ethd_txpool_free(eth->txpool);
    eth->txpool = NULL;
    ethd_known_set_free(eth->tx_requested);
    eth->tx_requested = NULL;
    free(eth->tx_queue);
    eth->tx_queue = NULL;
}

/* ---- RPC: eth_sendRawTransaction, txpool_status ---- */

static int rpc_send_raw(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct eth *eth = self;
    if (!eth->chain || !eth->txpool)
        return ethd_rpc_fail(err, ETHD_RPC_RESOURCE_UNAVAILABLE, "no chain");
    const char *s = json_string_value(json_array_get(params, 0));
    if (json_array_size(params) != 1 || !s || strncmp(s, "0x", 2) != 0)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS,
                             "eth_sendRawTransaction takes one parameter: the signed "
                             "transaction as 0x-prefixed hex");
    uint8_t *raw = NULL;
    size_t len = 0;
    if (ethd_hex_decode_alloc(s, &raw, &len) || len == 0) {
        free(raw);
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "parameter 1: invalid hex data");
    }
    struct ethd_rules r;
    struct ethd_txpool_verdict v;
    rules_now(eth, &r);
    int rc = pool_add(eth, NULL, raw, len, &r, &v);
    free(raw);
    if (rc == ETHD_ENOMEM)
        return rc;
    if (rc)
        /* geth answers refusals with -32000 and a short reason. */
        return ethd_rpc_fail(err, ETHD_RPC_SERVER_ERROR, "%s", v.reason);
    char hex[67];
    ethd_hex_encode(v.hash, 32, hex);
    ETHD_INFO(eth->log, "tx submitted", "hash=%s pool=%zu", hex, ethd_txpool_count(eth->txpool));
    *result = json_string(hex);
    return *result ? 0 : ETHD_ENOMEM;
}

static int rpc_txpool_status(void *self, json_t *params, json_t **result,
                             struct ethd_rpc_error *err)
{
    struct eth *eth = self;
    if (json_array_size(params) != 0)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "txpool_status takes no parameters");
    char pending[24], queued[24];
    /* Without state nothing can be told apart as "queued" (txpool.h). */
    ethd_hex_quantity(eth->txpool ? ethd_txpool_count(eth->txpool) : 0, pending);
    ethd_hex_quantity(0, queued);
    *result = json_pack("{s:s, s:s}", "pending", pending, "queued", queued);
    return *result ? 0 : ETHD_ENOMEM;
}

static const struct ethd_rpc_method tx_eth_methods[] = {
    {"eth_sendRawTransaction", rpc_send_raw, NULL},
};

static const struct ethd_rpc_method txpool_methods[] = {
    {"txpool_status", rpc_txpool_status, NULL},
};

const struct ethd_api ethd_eth_tx_apis[2] = {
    {"eth", "1.0", tx_eth_methods, 1},
    {"txpool", "1.0", txpool_methods, 1},
};
