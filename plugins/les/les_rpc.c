/* The light node's JSON-RPC (service les-client): eth_chainId,
 * eth_blockNumber (the head header: a light node stores no bodies),
 * eth_syncing (from the syncer's set_progress), eth_getBlockByNumber /
 * eth_getBlockByHash (the header from the chain; the body fetched on
 * demand from a les server and checked against the header's transactions
 * root, uncles hash and withdrawals root before answering),
 * eth_getHeaderByNumber / eth_getHeaderByHash, net_version.
 *
 * Object shapes follow the execution-apis specification, as plugins/eth's
 * eth_rpc.c writes them (quantities as shortest 0x-hex, data as 0x-hex,
 * null for unknown blocks). Block tags: latest, pending, safe, finalized =
 * the head header; earliest = genesis. */
#include "les_client.h"

#include <ethd/genesis.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>

#include <stdlib.h>
#include <string.h>

/* ---- JSON helpers ---- */

static json_t *qty(uint64_t v)
{
    char b[24];
    ethd_hex_quantity(v, b);
    return json_string(b);
}

static json_t *qty256(const uint8_t v[32])
{
    char b[70];
    ethd_hex_quantity_u256(v, b);
    return json_string(b);
}

static json_t *data(const uint8_t *p, size_t n)
{
    char small[2 * 256 + 3];
    char *b = n <= 256 ? small : malloc(2 * n + 3);
    if (!b)
        return NULL;
    ethd_hex_encode(p, n, b);
    json_t *j = json_string(b);
    if (b != small)
        free(b);
    return j;
}

static void set(json_t *o, const char *k, json_t *v)
{
    json_object_set_new(o, k, v ? v : json_null());
}

static int nparams(json_t *params, size_t min, size_t max, const char *name,
                   struct ethd_rpc_error *err)
{
    size_t n = json_array_size(params);
    if (n >= min && n <= max)
        return 0;
    if (min == max)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "%s takes %zu parameter%s, got %zu",
                             name, min, min == 1 ? "" : "s", n);
    return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "%s takes %zu to %zu parameters, got %zu",
                         name, min, max, n);
}

static int need_chain(struct les_cli *c, struct ethd_rpc_error *err)
{
    if (!c->chain)
        return ethd_rpc_fail(err, ETHD_RPC_SERVER_ERROR, "no chain (set chain.genesis)");
    return 0;
}

static int param_hash(json_t *params, size_t i, uint8_t out[32], struct ethd_rpc_error *err)
{
    const char *s = json_string_value(json_array_get(params, i));
    if (!s || strncmp(s, "0x", 2) != 0 || ethd_hex_decode_fixed(s, out, 32))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS,
                             "parameter %zu: expected a 32-byte hash (0x + 64 hex digits)", i + 1);
    return 0;
}

static int param_block(struct les_cli *c, json_t *params, size_t i, uint64_t *number,
                       struct ethd_rpc_error *err)
{
    const char *s = json_string_value(json_array_get(params, i));
    if (!s)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS,
                             "parameter %zu: expected a block number or tag", i + 1);
    if (!strcmp(s, "latest") || !strcmp(s, "pending") || !strcmp(s, "safe") ||
        !strcmp(s, "finalized")) {
        struct ethd_chain_head hh;
        c->chain->head_header(c->chain_impl, &hh);
        *number = hh.number;
        return 0;
    }
    if (!strcmp(s, "earliest")) {
        *number = 0;
        return 0;
    }
    if (ethd_hex_parse_quantity(s, number))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS,
                             "parameter %zu: invalid block number or tag \"%.40s\"", i + 1, s);
    return 0;
}

static int param_bool(json_t *params, size_t i, bool *out, struct ethd_rpc_error *err)
{
    json_t *b = json_array_get(params, i);
    if (!json_is_boolean(b))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "parameter %zu: expected a boolean",
                             i + 1);
    *out = json_is_true(b);
    return 0;
}

/* ---- formatter (execution-apis Block / Transaction objects) ---- */

static json_t *header_fields(const struct ethd_header *h, const uint8_t hash[32], size_t size)
{
    json_t *o = json_object();
    if (h->present & ETHD_HDR_BASE_FEE)
        set(o, "baseFeePerGas", qty256(h->base_fee));
    if (h->present & ETHD_HDR_BLOB_GAS) {
        set(o, "blobGasUsed", qty(h->blob_gas_used));
        set(o, "excessBlobGas", qty(h->excess_blob_gas));
    }
    set(o, "difficulty", qty256(h->difficulty));
    set(o, "extraData", data(h->extra, h->extra_len));
    set(o, "gasLimit", qty(h->gas_limit));
    set(o, "gasUsed", qty(h->gas_used));
    set(o, "hash", data(hash, 32));
    set(o, "logsBloom", data(h->bloom, 256));
    set(o, "miner", data(h->coinbase, 20));
    set(o, "mixHash", data(h->mix_hash, 32));
    set(o, "nonce", data(h->nonce, 8));
    set(o, "number", qty(h->number));
    if (h->present & ETHD_HDR_BEACON_ROOT)
        set(o, "parentBeaconBlockRoot", data(h->parent_beacon_root, 32));
    set(o, "parentHash", data(h->parent_hash, 32));
    set(o, "receiptsRoot", data(h->receipts_root, 32));
    if (h->present & ETHD_HDR_REQUESTS)
        set(o, "requestsHash", data(h->requests_hash, 32));
    set(o, "sha3Uncles", data(h->uncles_hash, 32));
    if (size)
        set(o, "size", qty(size));
    set(o, "stateRoot", data(h->state_root, 32));
    set(o, "timestamp", qty(h->timestamp));
    set(o, "transactionsRoot", data(h->tx_root, 32));
    if (h->present & ETHD_HDR_WITHDRAWALS)
        set(o, "withdrawalsRoot", data(h->withdrawals_root, 32));
    return o;
}

/* Access list [[address, [key, ...]], ...] -> [{address, storageKeys}];
 * authorization list (EIP-7702) [[chainId, address, nonce, yParity, r, s]]
 * -> objects. */
static json_t *list_json(const uint8_t *p, size_t n, bool auth)
{
    static const char *const keys[6] = {"chainId", "address", "nonce", "yParity", "r", "s"};
    json_t *arr = json_array();
    struct ethd_rlp_item list, ent, f, k;
    struct ethd_rlp_iter it, ei, ki;
    if (!p || ethd_rlp_decode(p, n, &list) || ethd_rlp_iter_init(&it, &list))
        return arr;
    while (ethd_rlp_iter_next(&it, &ent) == 0) {
        json_t *o = json_object();
        if (ethd_rlp_iter_init(&ei, &ent) == 0) {
            for (int i = 0; i < (auth ? 6 : 2) && ethd_rlp_iter_next(&ei, &f) == 0; i++) {
                if (!auth && i == 1) {
                    json_t *ks = json_array();
                    if (ethd_rlp_iter_init(&ki, &f) == 0)
                        while (ethd_rlp_iter_next(&ki, &k) == 0)
                            json_array_append_new(ks, data(k.payload, k.len));
                    set(o, "storageKeys", ks);
                } else if (i == 1 || !auth) {
                    set(o, "address", data(f.payload, f.len));
                } else {
                    uint8_t v[32];
                    memset(v, 0, 32);
                    ethd_rlp_get_u256(&f, v);
                    set(o, keys[i], qty256(v));
                }
            }
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static void effective_gas_price(const struct ethd_tx *tx, const struct ethd_header *h,
                                uint8_t out[32])
{
    if (tx->type == ETHD_TX_LEGACY || tx->type == ETHD_TX_ACCESS_LIST) {
        memcpy(out, tx->gas_price, 32);
        return;
    }
    if (!(h->present & ETHD_HDR_BASE_FEE)) {
        memcpy(out, tx->max_fee, 32);
        return;
    }
    /* EIP-1559: min(maxFee, baseFee + tip), saturating. */
    uint8_t sum[32];
    unsigned carry = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned s = (unsigned)h->base_fee[i] + tx->max_priority_fee[i] + carry;
        sum[i] = (uint8_t)s;
        carry = s >> 8;
    }
    if (carry)
        memset(sum, 0xff, 32);
    memcpy(out, memcmp(sum, tx->max_fee, 32) < 0 ? sum : tx->max_fee, 32);
}

static json_t *tx_json(struct les_cli *c, const struct ethd_tx *tx, const struct ethd_block *b,
                       uint32_t index)
{
    json_t *o = json_object();
    uint8_t from[20], price[32];
    struct ethd_rules rules;
    ethd_chain_rules(c->chain->config(c->chain_impl), b->header.number, b->header.timestamp,
                     &rules);
    bool have_from = ethd_tx_sender(c->secp, tx, rules.homestead, from) == 0;
    set(o, "blockHash", data(b->hash, 32));
    set(o, "blockNumber", qty(b->header.number));
    set(o, "blockTimestamp", qty(b->header.timestamp));
    set(o, "from", have_from ? data(from, 20) : NULL);
    set(o, "gas", qty(tx->gas));
    effective_gas_price(tx, &b->header, price);
    set(o, "gasPrice", qty256(price));
    if (tx->type >= ETHD_TX_DYNAMIC_FEE) {
        set(o, "maxFeePerGas", qty256(tx->max_fee));
        set(o, "maxPriorityFeePerGas", qty256(tx->max_priority_fee));
    }
    if (tx->type == ETHD_TX_BLOB)
        set(o, "maxFeePerBlobGas", qty256(tx->max_fee_per_blob_gas));
    set(o, "hash", data(tx->hash, 32));
    set(o, "input", data(tx->data, tx->data_len));
    set(o, "nonce", qty(tx->nonce));
    set(o, "to", tx->has_to ? data(tx->to, 20) : NULL);
    set(o, "transactionIndex", qty(index));
    set(o, "value", qty256(tx->value));
    set(o, "type", qty(tx->type));
    if (tx->type != ETHD_TX_LEGACY)
        set(o, "accessList", list_json(tx->access_list, tx->access_list_len, false));
    if (tx->has_chain_id)
        set(o, "chainId", qty(tx->chain_id));
    if (tx->type == ETHD_TX_BLOB) {
        json_t *bh = json_array();
        for (size_t i = 0; i < tx->n_blob_hashes; i++)
            json_array_append_new(bh, data(tx->blob_hashes[i], 32));
        set(o, "blobVersionedHashes", bh);
    }
    if (tx->type == ETHD_TX_SET_CODE)
        set(o, "authorizationList", list_json(tx->auth_list, tx->auth_list_len, true));
    set(o, "v", qty256(tx->v));
    set(o, "r", qty256(tx->r));
    set(o, "s", qty256(tx->s));
    if (tx->type != ETHD_TX_LEGACY)
        set(o, "yParity", qty(tx->y_parity));
    return o;
}

static json_t *block_json(struct les_cli *c, const struct ethd_block *b, size_t size, bool full)
{
    json_t *o = header_fields(&b->header, b->hash, size);
    json_t *txs = json_array();
    for (size_t i = 0; i < b->body.n_txs; i++) {
        struct ethd_tx tx;
        if (ethd_tx_decode(b->body.txs[i].data, b->body.txs[i].len, &tx)) {
            json_array_append_new(txs, json_null());
            continue;
        }
        json_array_append_new(txs, full ? tx_json(c, &tx, b, (uint32_t)i) : data(tx.hash, 32));
        ethd_tx_free(&tx);
    }
    set(o, "transactions", txs);
    json_t *uncles = json_array();
    for (size_t i = 0; i < b->body.n_uncles; i++) {
        uint8_t uh[32];
        if (ethd_header_hash(&b->body.uncles[i], uh) == 0)
            json_array_append_new(uncles, data(uh, 32));
    }
    set(o, "uncles", uncles);
    if (b->body.has_withdrawals) {
        json_t *ws = json_array();
        for (size_t i = 0; i < b->body.n_withdrawals; i++) {
            const struct ethd_withdrawal *w = &b->body.withdrawals[i];
            json_array_append_new(ws, json_pack("{s:o, s:o, s:o, s:o}", "index", qty(w->index),
                                                "validatorIndex", qty(w->validator), "address",
                                                data(w->address, 20), "amount", qty(w->amount)));
        }
        set(o, "withdrawals", ws);
    }
    return o;
}

/* ---- on-demand bodies ---- */

/* keccak256(rlp([])): the uncles hash of a block without uncles. */
static const uint8_t empty_list_hash[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47};

#define MAX_TRIED 16

/* One eth_getBlockBy* call waiting for a body. */
struct fetch {
    struct les_cli *c;
    struct ethd_rpc_call *call;
    uint8_t hash[32];
    struct ethd_header hdr;    /* owned */
    struct ethd_buf hdr_raw;   /* owned */
    bool full;
    uint8_t tried[MAX_TRIED][64]; /* node ids already asked */
    size_t n_tried;
    uint64_t attempts;
    char last_error[96];
};

static void fetch_free(struct fetch *f)
{
    ethd_header_free(&f->hdr);
    ethd_buf_free(&f->hdr_raw);
    free(f);
}

static void fetch_fail(struct fetch *f, const char *msg)
{
    struct ethd_rpc_error err;
    memset(&err, 0, sizeof(err));
    ethd_rpc_fail(&err, ETHD_RPC_RESOURCE_UNAVAILABLE, "block %llu: %s%s%s",
                  (unsigned long long)f->hdr.number, msg, f->last_error[0] ? ": " : "",
                  f->last_error);
    f->c->fetch_failures++;
    ethd_rpc_call_done(f->call, NULL, &err);
    fetch_free(f);
}

static bool was_tried(const struct fetch *f, struct ethd_peer *peer)
{
    for (size_t i = 0; i < f->n_tried; i++)
        if (memcmp(f->tried[i], ethd_peer_id(peer), 64) == 0)
            return true;
    return false;
}

static void mark_tried(struct fetch *f, struct ethd_peer *peer)
{
    if (f->n_tried < MAX_TRIED && !was_tried(f, peer))
        memcpy(f->tried[f->n_tried++], ethd_peer_id(peer), 64);
}

/* A server that says it has the block: its head is at or past it and its
 * serveChainSince / serveRecentChain range covers it (caps/les.md Status). */
static bool can_serve(const struct lc_peer *lp, uint64_t number)
{
    if (!lp->active || lp->closing || lp->head.number < number || number < lp->serve_chain_since)
        return false;
    return !lp->has_recent_chain || lp->head.number - number < lp->serve_recent_chain;
}

/* The best untried server for the block (highest head), or NULL. */
static struct lc_peer *pick(struct fetch *f)
{
    struct lc_peer *b = NULL;
    for (struct lc_peer *lp = f->c->peers; lp; lp = lp->next)
        if (can_serve(lp, f->hdr.number) && !was_tried(f, lp->peer) &&
            (!b || memcmp(lp->head.td, b->head.td, 32) > 0))
            b = lp;
    return b;
}

static void on_body(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                    size_t len);

/* Ask the next server; answer with an error when none is left. */
static void fetch_next(struct fetch *f)
{
    while (f->attempts < f->c->fetch_attempts && f->c->running) {
        struct lc_peer *lp = pick(f);
        if (!lp)
            break;
        mark_tried(f, lp->peer);
        f->attempts++;
        int rc = ethd_les_client_iface.request_bodies(f->c, lp->peer,
                                                      (const uint8_t(*)[32])f->hash, 1,
                                                      f->c->fetch_timeout_ms, on_body, f, NULL);
        if (rc == 0)
            return;
        snprintf(f->last_error, sizeof(f->last_error), "%s", ethd_strerror(rc));
    }
    fetch_fail(f, f->attempts ? "no les server delivered its body"
                              : "no connected les server has this block");
}

/* Assemble [header, txs, uncles(, withdrawals)] from the stored header and
 * the checked body item, decode it and answer. */
static void answer(struct fetch *f, const struct ethd_rlp_item *body_item)
{
    struct ethd_buf raw = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    struct ethd_block b;
    struct ethd_rpc_error err;
    memset(&err, 0, sizeof(err));
    ethd_rlp_enc_init(&e, &raw);
    ethd_rlp_list_begin(&e);
    ethd_rlp_raw(&e, f->hdr_raw.data, f->hdr_raw.len);
    ethd_rlp_raw(&e, body_item->payload, body_item->len);
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e) ? ETHD_ENOMEM : 0;
    if (!rc)
        rc = ethd_block_decode(raw.data, raw.len, &b);
    if (rc) {
        ethd_rpc_fail(&err, ETHD_RPC_INTERNAL_ERROR, "block %llu: %s",
                      (unsigned long long)f->hdr.number, ethd_strerror(rc));
        ethd_rpc_call_done(f->call, NULL, &err);
    } else {
        ethd_rpc_call_done(f->call, block_json(f->c, &b, raw.len, f->full), NULL);
        ethd_block_free(&b);
    }
    ethd_buf_free(&raw);
    fetch_free(f);
}

static void on_body(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                    size_t len)
{
    struct fetch *f = arg;
    struct les_cli *c = f->c;
    if (status) {
        snprintf(f->last_error, sizeof(f->last_error), "%s", ethd_strerror(status));
        fetch_next(f);
        return;
    }
    struct ethd_rlp_item list, item;
    struct ethd_rlp_iter it;
    struct ethd_body body;
    const char *why = "an empty answer (the server lacks the body)";
    bool bad = false;
    memset(&body, 0, sizeof(body));
    if (ethd_rlp_decode(items, len, &list) || ethd_rlp_iter_init(&it, &list)) {
        why = "a malformed answer";
        bad = true;
    } else if (ethd_rlp_iter_next(&it, &item) == 0) {
        if (ethd_body_decode_item(&item, &body)) {
            why = "a body that does not decode";
            bad = true;
        } else if (ethd_body_verify(&f->hdr, &body, &why)) {
            bad = true;
        } else {
            ethd_body_free(&body);
            c->fetches++;
            answer(f, &item);
            return;
        }
        ethd_body_free(&body);
    }
    snprintf(f->last_error, sizeof(f->last_error), "%s", why);
    if (bad) {
        /* Data that contradicts the header it was asked for. */
        ETHD_INFO(c->log, "dropping les server", "addr=%s reason=\"%s\" block=%llu",
                  ethd_peer_remote_addr(peer), why, (unsigned long long)f->hdr.number);
        ethd_peer_disconnect(peer, ETHD_DISC_USELESS_PEER);
    }
    fetch_next(f);
}

/* The block with `hash` (null when no header is stored). */
static int block_async(struct les_cli *c, const uint8_t hash[32], bool full,
                       struct ethd_rpc_call *call, struct ethd_rpc_error *err)
{
    struct fetch *f = calloc(1, sizeof(*f));
    if (!f)
        return ethd_rpc_fail(err, ETHD_RPC_INTERNAL_ERROR, "out of memory");
    f->c = c;
    f->call = call;
    f->full = full;
    memcpy(f->hash, hash, 32);
    int rc = c->chain->header_by_hash(c->chain_impl, hash, &f->hdr);
    if (!rc)
        rc = c->chain->raw_header_by_hash(c->chain_impl, hash, &f->hdr_raw);
    if (rc == ETHD_ENOTFOUND) {
        fetch_free(f);
        ethd_rpc_call_done(call, json_null(), NULL);
        return 0;
    }
    if (rc) {
        fetch_free(f);
        return ethd_rpc_fail(err, ETHD_RPC_INTERNAL_ERROR, "reading the header: %s",
                             ethd_strerror(rc));
    }
    /* A body that is known to be empty needs no server. */
    if (memcmp(f->hdr.tx_root, ethd_trie_empty_root, 32) == 0 &&
        memcmp(f->hdr.uncles_hash, empty_list_hash, 32) == 0 &&
        (!(f->hdr.present & ETHD_HDR_WITHDRAWALS) ||
         memcmp(f->hdr.withdrawals_root, ethd_trie_empty_root, 32) == 0)) {
        static const uint8_t empty2[] = {0xc2, 0xc0, 0xc0}, empty3[] = {0xc3, 0xc0, 0xc0, 0xc0};
        bool wd = (f->hdr.present & ETHD_HDR_WITHDRAWALS) != 0;
        struct ethd_rlp_item item;
        if (ethd_rlp_decode(wd ? empty3 : empty2, wd ? sizeof(empty3) : sizeof(empty2), &item) ==
            0) {
            answer(f, &item);
            return 0;
        }
    }
    fetch_next(f);
    return 0;
}

/* ---- methods ---- */

#define SELF struct les_cli *c = self

static int rpc_chain_id(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    SELF;
    if (need_chain(c, err) || nparams(params, 0, 0, "eth_chainId", err))
        return ETHD_EINVAL;
    *result = qty(c->chain->config(c->chain_impl)->chain_id);
    return 0;
}

static int rpc_block_number(void *self, json_t *params, json_t **result,
                            struct ethd_rpc_error *err)
{
    SELF;
    struct ethd_chain_head hh;
    if (need_chain(c, err) || nparams(params, 0, 0, "eth_blockNumber", err))
        return ETHD_EINVAL;
    c->chain->head_header(c->chain_impl, &hh);
    *result = qty(hh.number);
    return 0;
}

static int rpc_syncing(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    SELF;
    if (nparams(params, 0, 0, "eth_syncing", err))
        return ETHD_EINVAL;
    if (!c->syncing) {
        *result = json_false();
        return 0;
    }
    *result = json_pack("{s:o, s:o, s:o}", "startingBlock", qty(c->progress.starting),
                        "currentBlock", qty(c->progress.current), "highestBlock",
                        qty(c->progress.highest));
    return 0;
}

static int rpc_net_version(void *self, json_t *params, json_t **result,
                           struct ethd_rpc_error *err)
{
    SELF;
    if (need_chain(c, err) || nparams(params, 0, 0, "net_version", err))
        return ETHD_EINVAL;
    *result = json_sprintf("%llu", (unsigned long long)c->chain->network_id(c->chain_impl));
    return 0;
}

static int rpc_block_by_number(void *self, json_t *params, struct ethd_rpc_call *call,
                               struct ethd_rpc_error *err)
{
    SELF;
    uint64_t number;
    bool full = false;
    uint8_t hash[32];
    if (need_chain(c, err) || nparams(params, 2, 2, "eth_getBlockByNumber", err) ||
        param_block(c, params, 0, &number, err) || param_bool(params, 1, &full, err))
        return ETHD_EINVAL;
    if (c->chain->hash_by_number(c->chain_impl, number, hash)) {
        ethd_rpc_call_done(call, json_null(), NULL);
        return 0;
    }
    return block_async(c, hash, full, call, err);
}

static int rpc_block_by_hash(void *self, json_t *params, struct ethd_rpc_call *call,
                             struct ethd_rpc_error *err)
{
    SELF;
    bool full = false;
    uint8_t hash[32];
    if (need_chain(c, err) || nparams(params, 2, 2, "eth_getBlockByHash", err) ||
        param_hash(params, 0, hash, err) || param_bool(params, 1, &full, err))
        return ETHD_EINVAL;
    return block_async(c, hash, full, call, err);
}

static int header_result(struct les_cli *c, const uint8_t hash[32], json_t **result)
{
    struct ethd_header h;
    int rc = c->chain->header_by_hash(c->chain_impl, hash, &h);
    if (rc) {
        *result = json_null();
        return rc == ETHD_ENOTFOUND ? 0 : rc;
    }
    *result = header_fields(&h, hash, 0);
    ethd_header_free(&h);
    return 0;
}

static int rpc_header_by_number(void *self, json_t *params, json_t **result,
                                struct ethd_rpc_error *err)
{
    SELF;
    uint64_t number;
    uint8_t hash[32];
    if (need_chain(c, err) || nparams(params, 1, 1, "eth_getHeaderByNumber", err) ||
        param_block(c, params, 0, &number, err))
        return ETHD_EINVAL;
    if (c->chain->hash_by_number(c->chain_impl, number, hash)) {
        *result = json_null();
        return 0;
    }
    return header_result(c, hash, result);
}

static int rpc_header_by_hash(void *self, json_t *params, json_t **result,
                              struct ethd_rpc_error *err)
{
    SELF;
    uint8_t hash[32];
    if (need_chain(c, err) || nparams(params, 1, 1, "eth_getHeaderByHash", err) ||
        param_hash(params, 0, hash, err))
        return ETHD_EINVAL;
    return header_result(c, hash, result);
}

static const struct ethd_rpc_method eth_methods[] = {
    {"eth_chainId", rpc_chain_id, NULL},
    {"eth_blockNumber", rpc_block_number, NULL},
    {"eth_syncing", rpc_syncing, NULL},
    {"eth_getBlockByNumber", NULL, rpc_block_by_number},
    {"eth_getBlockByHash", NULL, rpc_block_by_hash},
    {"eth_getHeaderByNumber", rpc_header_by_number, NULL},
    {"eth_getHeaderByHash", rpc_header_by_hash, NULL},
};

static const struct ethd_rpc_method net_methods[] = {
    {"net_version", rpc_net_version, NULL},
};

const struct ethd_api ethd_les_client_apis[2] = {
    {"eth", "1.0", eth_methods, sizeof(eth_methods) / sizeof(*eth_methods)},
    {"net", "1.0", net_methods, 1},
};
