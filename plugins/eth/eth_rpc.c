/* JSON-RPC of the eth service: the eth_ chain queries and net_version, with
 * the object shapes of the execution-apis specification (quantities as
 * shortest 0x-hex, data as 0x-hex, null for unknown items).
 *
 * Block tags: "latest" and "pending" are the head block; "safe" and
 * "finalized" are the head block too (a PoA chain has no finality gadget;
 * documented in docs/rpc.md); "earliest" is genesis. */
#include "eth.h"

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

static int need_chain(struct eth *eth, struct ethd_rpc_error *err)
{
    if (!eth->chain)
        return ethd_rpc_fail(err, ETHD_RPC_SERVER_ERROR, "no chain (set chain.genesis)");
    return 0;
}

/* A 32-byte hash parameter. */
static int param_hash(json_t *params, size_t i, uint8_t out[32], struct ethd_rpc_error *err)
{
    const char *s = json_string_value(json_array_get(params, i));
    if (!s || strncmp(s, "0x", 2) != 0 || ethd_hex_decode_fixed(s, out, 32))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS,
                             "parameter %zu: expected a 32-byte hash (0x + 64 hex digits)", i + 1);
    return 0;
}

/* A block number or tag into *number (false in *found for a number past
 * the head). */
static int param_block(struct eth *eth, json_t *params, size_t i, uint64_t *number,
                       struct ethd_rpc_error *err)
{
    const char *s = json_string_value(json_array_get(params, i));
    struct ethd_chain_head hb;
    eth->chain->head_block(eth->chain_impl, &hb);
    if (!s)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS,
                             "parameter %zu: expected a block number or tag", i + 1);
    if (!strcmp(s, "latest") || !strcmp(s, "pending") || !strcmp(s, "safe") ||
        !strcmp(s, "finalized")) {
        *number = hb.number;
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

/* ---- a stored block, decoded ---- */

struct blk {
    struct ethd_buf raw;
    struct ethd_block b;
    bool ok;
};

static int blk_load(struct eth *eth, const uint8_t hash[32], struct blk *k)
{
    memset(k, 0, sizeof(*k));
    int rc = eth->chain->raw_block_by_hash(eth->chain_impl, hash, &k->raw);
    if (!rc)
        rc = ethd_block_decode(k->raw.data, k->raw.len, &k->b);
    k->ok = rc == 0;
    return rc;
}

static void blk_free(struct blk *k)
{
    if (k->ok)
        ethd_block_free(&k->b);
    ethd_buf_free(&k->raw);
}

static int canonical_hash(struct eth *eth, uint64_t number, uint8_t hash[32])
{
    struct ethd_chain_head hb;
    eth->chain->head_block(eth->chain_impl, &hb);
    if (number > hb.number)
        return ETHD_ENOTFOUND; /* headers past the head block have no body yet */
    return eth->chain->hash_by_number(eth->chain_impl, number, hash);
}

/* ---- transactions ---- */

/* [[address, [key, ...]], ...] -> [{address, storageKeys}] */
static json_t *access_list_json(const uint8_t *p, size_t n)
{
    json_t *arr = json_array();
    struct ethd_rlp_item list, ent, addr, keys, key;
    struct ethd_rlp_iter it, ei, ki;
    if (!p || ethd_rlp_decode(p, n, &list) || ethd_rlp_iter_init(&it, &list))
        return arr;
    while (ethd_rlp_iter_next(&it, &ent) == 0) {
        if (ethd_rlp_iter_init(&ei, &ent) || ethd_rlp_iter_next(&ei, &addr) ||
            ethd_rlp_iter_next(&ei, &keys) || ethd_rlp_iter_init(&ki, &keys))
            break;
        json_t *ks = json_array();
        while (ethd_rlp_iter_next(&ki, &key) == 0)
            json_array_append_new(ks, data(key.payload, key.len));
        json_array_append_new(arr, json_pack("{s:o, s:o}", "address",
                                             data(addr.payload, addr.len), "storageKeys", ks));
    }
    return arr;
}

/* EIP-7702 [[chain_id, address, nonce, y_parity, r, s], ...]. */
static json_t *auth_list_json(const uint8_t *p, size_t n)
{
    static const char *const keys[6] = {"chainId", "address", "nonce", "yParity", "r", "s"};
    json_t *arr = json_array();
    struct ethd_rlp_item list, ent, f;
    struct ethd_rlp_iter it, ei;
    if (!p || ethd_rlp_decode(p, n, &list) || ethd_rlp_iter_init(&it, &list))
        return arr;
    while (ethd_rlp_iter_next(&it, &ent) == 0) {
        json_t *o = json_object();
        if (ethd_rlp_iter_init(&ei, &ent) == 0) {
            for (int k = 0; k < 6 && ethd_rlp_iter_next(&ei, &f) == 0; k++) {
                if (k == 1) {
                    set(o, keys[k], data(f.payload, f.len));
                } else {
                    uint8_t v[32];
                    memset(v, 0, 32);
                    ethd_rlp_get_u256(&f, v);
                    set(o, keys[k], qty256(v));
                }
            }
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

/* a + b, saturating (fee arithmetic on 256-bit big-endian numbers). */
static void u256_add(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
    unsigned carry = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned s = (unsigned)a[i] + b[i] + carry;
        out[i] = (uint8_t)s;
        carry = s >> 8;
    }
    if (carry)
        memset(out, 0xff, 32);
}

/* Price per gas the sender paid (EIP-1559: min(maxFee, baseFee + tip)). */
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
    uint8_t sum[32];
    u256_add(h->base_fee, tx->max_priority_fee, sum);
    memcpy(out, memcmp(sum, tx->max_fee, 32) < 0 ? sum : tx->max_fee, 32);
}

static bool sender_of(struct eth *eth, const struct ethd_tx *tx, const struct ethd_header *h,
                      uint8_t from[20])
{
    struct ethd_rules r;
    ethd_chain_rules(eth->chain->config(eth->chain_impl), h->number, h->timestamp, &r);
    return ethd_tx_sender(eth->secp, tx, r.homestead, from) == 0;
}

static json_t *tx_json(struct eth *eth, const struct ethd_tx *tx, const struct ethd_block *b,
                       uint32_t index)
{
    json_t *o = json_object();
    uint8_t from[20], price[32];
    set(o, "blockHash", data(b->hash, 32));
    set(o, "blockNumber", qty(b->header.number));
    set(o, "blockTimestamp", qty(b->header.timestamp));
    set(o, "from", sender_of(eth, tx, &b->header, from) ? data(from, 20) : NULL);
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
        set(o, "accessList", access_list_json(tx->access_list, tx->access_list_len));
    if (tx->has_chain_id)
        set(o, "chainId", qty(tx->chain_id));
    if (tx->type == ETHD_TX_BLOB) {
        json_t *bh = json_array();
        for (size_t i = 0; i < tx->n_blob_hashes; i++)
            json_array_append_new(bh, data(tx->blob_hashes[i], 32));
        set(o, "blobVersionedHashes", bh);
    }
    if (tx->type == ETHD_TX_SET_CODE)
        set(o, "authorizationList", auth_list_json(tx->auth_list, tx->auth_list_len));
    set(o, "v", qty256(tx->v));
    set(o, "r", qty256(tx->r));
    set(o, "s", qty256(tx->s));
    if (tx->type != ETHD_TX_LEGACY)
        set(o, "yParity", qty(tx->y_parity));
    return o;
}

/* ---- blocks ---- */

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

static json_t *block_json(struct eth *eth, const struct blk *k, bool full)
{
    const struct ethd_block *b = &k->b;
    json_t *o = header_fields(&b->header, b->hash, k->raw.len);
    json_t *txs = json_array();
    for (size_t i = 0; i < b->body.n_txs; i++) {
        struct ethd_tx tx;
        if (ethd_tx_decode(b->body.txs[i].data, b->body.txs[i].len, &tx)) {
            json_array_append_new(txs, json_null());
            continue;
        }
        json_array_append_new(txs, full ? tx_json(eth, &tx, b, (uint32_t)i) : data(tx.hash, 32));
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

/* ---- receipts ---- */

/* EIP-4844 fake_exponential(1, excess, fraction): the blob base fee. */
static uint64_t blob_base_fee(uint64_t excess, uint64_t fraction)
{
    if (fraction == 0)
        return 1;
    unsigned __int128 out = 0, acc = fraction;
    for (uint64_t i = 1; acc > 0 && i < 10000; i++) {
        out += acc;
        acc = acc * excess / ((unsigned __int128)fraction * i);
        if (out > UINT64_MAX)
            return UINT64_MAX;
    }
    out /= fraction;
    return out > UINT64_MAX ? UINT64_MAX : (uint64_t)out;
}

static uint64_t blob_fraction(const struct ethd_chain_config *c, uint64_t time)
{
    uint64_t fraction = 3338477; /* EIP-4844 (Cancun) */
    bool prague = false;
    for (int bf = 0; bf < ETHD_BLOB_N; bf++) {
        enum ethd_time_fork tf = (enum ethd_time_fork)(bf + 1); /* same order from Cancun on */
        if (!ethd_chain_time_active(c, tf, time))
            continue;
        if (bf == ETHD_BLOB_PRAGUE)
            prague = true;
        if (c->blob_schedule[bf].set)
            fraction = c->blob_schedule[bf].update_fraction;
        else if (prague && bf == ETHD_BLOB_PRAGUE)
            fraction = 5007716; /* EIP-7691 */
    }
    return fraction;
}

struct rcpts {
    struct ethd_receipt *rs;
    size_t n;
};

static int rcpts_load(struct eth *eth, const uint8_t hash[32], struct rcpts *r)
{
    struct ethd_buf raw = ETHD_BUF_INIT;
    struct ethd_rlp_item list;
    memset(r, 0, sizeof(*r));
    int rc = eth->chain->raw_receipts_by_hash(eth->chain_impl, hash, &raw);
    if (!rc)
        rc = ethd_rlp_decode(raw.data, raw.len, &list) ? ETHD_EINVAL : 0;
    if (!rc)
        rc = ethd_receipts_decode_list(&list, &r->rs, &r->n);
    ethd_buf_free(&raw);
    return rc;
}

/* Receipt object of transaction `i` of block k. */
static json_t *receipt_json(struct eth *eth, const struct blk *k, const struct rcpts *rc,
                            size_t i)
{
    const struct ethd_block *b = &k->b;
    struct ethd_tx tx;
    if (i >= rc->n || i >= b->body.n_txs ||
        ethd_tx_decode(b->body.txs[i].data, b->body.txs[i].len, &tx))
        return json_null();
    const struct ethd_receipt *r = &rc->rs[i];
    uint64_t prev = i ? rc->rs[i - 1].cumulative_gas : 0;
    uint64_t log_index = 0;
    for (size_t j = 0; j < i; j++)
        log_index += rc->rs[j].n_logs;
    uint8_t from[20], price[32];
    bool have_from = sender_of(eth, &tx, &b->header, from);
    json_t *o = json_object();
    set(o, "blockHash", data(b->hash, 32));
    set(o, "blockNumber", qty(b->header.number));
    json_t *ca = NULL;
    if (!tx.has_to && have_from) {
        /* Yellow Paper 7: keccak(rlp([sender, nonce]))[12:]. */
        struct ethd_buf eb = ETHD_BUF_INIT;
        struct ethd_rlp_enc e;
        uint8_t h[32];
        ethd_rlp_enc_init(&e, &eb);
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, from, 20);
        ethd_rlp_uint(&e, tx.nonce);
        ethd_rlp_list_end(&e);
        if (ethd_rlp_enc_finish(&e) == 0) {
            ethd_keccak256(eb.data, eb.len, h);
            ca = data(h + 12, 20);
        }
        ethd_buf_free(&eb);
    }
    set(o, "contractAddress", ca);
    set(o, "cumulativeGasUsed", qty(r->cumulative_gas));
    effective_gas_price(&tx, &b->header, price);
    set(o, "effectiveGasPrice", qty256(price));
    set(o, "from", have_from ? data(from, 20) : NULL);
    set(o, "gasUsed", qty(r->cumulative_gas >= prev ? r->cumulative_gas - prev : 0));
    json_t *logs = json_array();
    for (size_t j = 0; j < r->n_logs; j++) {
        const struct ethd_log *l = &r->logs[j];
        json_t *topics = json_array();
        for (size_t t = 0; t < l->n_topics; t++)
            json_array_append_new(topics, data(l->topics[t], 32));
        json_t *lo = json_object();
        set(lo, "address", data(l->address, 20));
        set(lo, "topics", topics);
        set(lo, "data", data(l->data, l->data_len));
        set(lo, "blockNumber", qty(b->header.number));
        set(lo, "transactionHash", data(tx.hash, 32));
        set(lo, "transactionIndex", qty(i));
        set(lo, "blockHash", data(b->hash, 32));
        set(lo, "blockTimestamp", qty(b->header.timestamp));
        set(lo, "logIndex", qty(log_index + j));
        set(lo, "removed", json_false());
        json_array_append_new(logs, lo);
    }
    set(o, "logs", logs);
    set(o, "logsBloom", data(r->bloom, 256));
    if (r->has_post_state)
        set(o, "root", data(r->post_state, 32));
    else
        set(o, "status", qty(r->status));
    set(o, "to", tx.has_to ? data(tx.to, 20) : NULL);
    set(o, "transactionHash", data(tx.hash, 32));
    set(o, "transactionIndex", qty(i));
    set(o, "type", qty(tx.type));
    if (tx.type == ETHD_TX_BLOB && (b->header.present & ETHD_HDR_BLOB_GAS)) {
        set(o, "blobGasUsed", qty((uint64_t)tx.n_blob_hashes * 131072u));
        uint64_t fraction =
            blob_fraction(eth->chain->config(eth->chain_impl), b->header.timestamp);
        set(o, "blobGasPrice", qty(blob_base_fee(b->header.excess_blob_gas, fraction)));
    }
    ethd_tx_free(&tx);
    return o;
}

/* ---- methods ---- */

#define SELF struct eth *eth = self

static int rpc_chain_id(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    SELF;
    if (need_chain(eth, err) || nparams(params, 0, 0, "eth_chainId", err))
        return ETHD_EINVAL;
    *result = qty(eth->chain->config(eth->chain_impl)->chain_id);
    return 0;
}

static int rpc_block_number(void *self, json_t *params, json_t **result,
                            struct ethd_rpc_error *err)
{
    SELF;
    struct ethd_chain_head hb;
    if (need_chain(eth, err) || nparams(params, 0, 0, "eth_blockNumber", err))
        return ETHD_EINVAL;
    eth->chain->head_block(eth->chain_impl, &hb);
    *result = qty(hb.number);
    return 0;
}

static int rpc_net_version(void *self, json_t *params, json_t **result,
                           struct ethd_rpc_error *err)
{
    SELF;
    if (need_chain(eth, err) || nparams(params, 0, 0, "net_version", err))
        return ETHD_EINVAL;
    *result = json_sprintf("%llu", (unsigned long long)ethd_eth_network_id(eth));
    return 0;
}

static int rpc_syncing(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    SELF;
    if (nparams(params, 0, 0, "eth_syncing", err))
        return ETHD_EINVAL;
    if (!eth->syncing) {
        *result = json_false();
        return 0;
    }
    *result = json_pack("{s:o, s:o, s:o}", "startingBlock", qty(eth->progress.starting),
                        "currentBlock", qty(eth->progress.current), "highestBlock",
                        qty(eth->progress.highest));
    return 0;
}

/* Block by hash -> JSON (null if unknown). */
static int block_result(struct eth *eth, const uint8_t hash[32], bool full, json_t **result)
{
    struct blk k;
    int rc = blk_load(eth, hash, &k);
    if (rc == 0)
        *result = block_json(eth, &k, full);
    else if (rc == ETHD_ENOTFOUND)
        *result = json_null();
    blk_free(&k);
    return rc == ETHD_ENOTFOUND ? 0 : rc;
}

static int rpc_block_by_number(void *self, json_t *params, json_t **result,
                               struct ethd_rpc_error *err)
{
    SELF;
    uint64_t number;
    bool full = false;
    uint8_t hash[32];
    if (need_chain(eth, err) || nparams(params, 2, 2, "eth_getBlockByNumber", err) ||
        param_block(eth, params, 0, &number, err) || param_bool(params, 1, &full, err))
        return ETHD_EINVAL;
    if (canonical_hash(eth, number, hash)) {
        *result = json_null();
        return 0;
    }
    return block_result(eth, hash, full, result);
}

static int rpc_block_by_hash(void *self, json_t *params, json_t **result,
                             struct ethd_rpc_error *err)
{
    SELF;
    bool full = false;
    uint8_t hash[32];
    if (need_chain(eth, err) || nparams(params, 2, 2, "eth_getBlockByHash", err) ||
        param_hash(params, 0, hash, err) || param_bool(params, 1, &full, err))
        return ETHD_EINVAL;
    return block_result(eth, hash, full, result);
}

static int header_result(struct eth *eth, const uint8_t hash[32], json_t **result)
{
    struct ethd_header h;
    struct ethd_buf raw = ETHD_BUF_INIT;
    int rc = eth->chain->header_by_hash(eth->chain_impl, hash, &h);
    if (rc) {
        *result = json_null();
        return rc == ETHD_ENOTFOUND ? 0 : rc;
    }
    size_t size = 0;
    if (eth->chain->raw_block_by_hash(eth->chain_impl, hash, &raw) == 0)
        size = raw.len;
    *result = header_fields(&h, hash, size);
    ethd_header_free(&h);
    ethd_buf_free(&raw);
    return 0;
}

static int rpc_header_by_number(void *self, json_t *params, json_t **result,
                                struct ethd_rpc_error *err)
{
    SELF;
    uint64_t number;
    uint8_t hash[32];
    if (need_chain(eth, err) || nparams(params, 1, 1, "eth_getHeaderByNumber", err) ||
        param_block(eth, params, 0, &number, err))
        return ETHD_EINVAL;
    if (canonical_hash(eth, number, hash)) {
        *result = json_null();
        return 0;
    }
    return header_result(eth, hash, result);
}

static int rpc_header_by_hash(void *self, json_t *params, json_t **result,
                              struct ethd_rpc_error *err)
{
    SELF;
    uint8_t hash[32];
    if (need_chain(eth, err) || nparams(params, 1, 1, "eth_getHeaderByHash", err) ||
        param_hash(params, 0, hash, err))
        return ETHD_EINVAL;
    return header_result(eth, hash, result);
}

static int count_result(struct eth *eth, const uint8_t hash[32], json_t **result)
{
    struct blk k;
    int rc = blk_load(eth, hash, &k);
    *result = rc == 0 ? qty(k.b.body.n_txs) : json_null();
    blk_free(&k);
    return rc == 0 || rc == ETHD_ENOTFOUND ? 0 : rc;
}

static int rpc_count_by_hash(void *self, json_t *params, json_t **result,
                             struct ethd_rpc_error *err)
{
    SELF;
    uint8_t hash[32];
    if (need_chain(eth, err) ||
        nparams(params, 1, 1, "eth_getBlockTransactionCountByHash", err) ||
        param_hash(params, 0, hash, err))
        return ETHD_EINVAL;
    return count_result(eth, hash, result);
}

static int rpc_count_by_number(void *self, json_t *params, json_t **result,
                               struct ethd_rpc_error *err)
{
    SELF;
    uint64_t number;
    uint8_t hash[32];
    if (need_chain(eth, err) ||
        nparams(params, 1, 1, "eth_getBlockTransactionCountByNumber", err) ||
        param_block(eth, params, 0, &number, err))
        return ETHD_EINVAL;
    if (canonical_hash(eth, number, hash)) {
        *result = json_null();
        return 0;
    }
    return count_result(eth, hash, result);
}

/* Transaction `index` of the block with `hash` (null if absent). */
static int tx_result(struct eth *eth, const uint8_t hash[32], uint64_t index, json_t **result)
{
    struct blk k;
    struct ethd_tx tx;
    int rc = blk_load(eth, hash, &k);
    *result = NULL;
    if (rc == 0 && index < k.b.body.n_txs &&
        ethd_tx_decode(k.b.body.txs[index].data, k.b.body.txs[index].len, &tx) == 0) {
        *result = tx_json(eth, &tx, &k.b, (uint32_t)index);
        ethd_tx_free(&tx);
    }
    if (!*result)
        *result = json_null();
    blk_free(&k);
    return rc == 0 || rc == ETHD_ENOTFOUND ? 0 : rc;
}

static int rpc_tx_by_hash(void *self, json_t *params, json_t **result,
                          struct ethd_rpc_error *err)
{
    SELF;
    uint8_t txh[32], bh[32];
    uint64_t number;
    uint32_t index;
    if (need_chain(eth, err) || nparams(params, 1, 1, "eth_getTransactionByHash", err) ||
        param_hash(params, 0, txh, err))
        return ETHD_EINVAL;
    int rc = eth->chain->tx_lookup(eth->chain_impl, txh, &number, bh, &index);
    if (rc) {
        *result = json_null();
        return rc == ETHD_ENOTFOUND ? 0 : rc;
    }
    return tx_result(eth, bh, index, result);
}

static int rpc_tx_by_block_hash_index(void *self, json_t *params, json_t **result,
                                      struct ethd_rpc_error *err)
{
    SELF;
    uint8_t bh[32];
    uint64_t index;
    const char *s;
    if (need_chain(eth, err) ||
        nparams(params, 2, 2, "eth_getTransactionByBlockHashAndIndex", err) ||
        param_hash(params, 0, bh, err))
        return ETHD_EINVAL;
    if (!(s = json_string_value(json_array_get(params, 1))) || ethd_hex_parse_quantity(s, &index))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "parameter 2: expected a quantity");
    return tx_result(eth, bh, index, result);
}

static int rpc_tx_by_block_number_index(void *self, json_t *params, json_t **result,
                                        struct ethd_rpc_error *err)
{
    SELF;
    uint8_t bh[32];
    uint64_t number, index;
    const char *s;
    if (need_chain(eth, err) ||
        nparams(params, 2, 2, "eth_getTransactionByBlockNumberAndIndex", err) ||
        param_block(eth, params, 0, &number, err))
        return ETHD_EINVAL;
    if (!(s = json_string_value(json_array_get(params, 1))) || ethd_hex_parse_quantity(s, &index))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "parameter 2: expected a quantity");
    if (canonical_hash(eth, number, bh)) {
        *result = json_null();
        return 0;
    }
    return tx_result(eth, bh, index, result);
}

static int rpc_receipt(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    SELF;
    uint8_t txh[32], bh[32];
    uint64_t number;
    uint32_t index;
    if (need_chain(eth, err) || nparams(params, 1, 1, "eth_getTransactionReceipt", err) ||
        param_hash(params, 0, txh, err))
        return ETHD_EINVAL;
    *result = NULL;
    struct blk k;
    struct rcpts r;
    memset(&r, 0, sizeof(r));
    memset(&k, 0, sizeof(k));
    /* Receipts are only known when they were stored (imported with the
     * blocks or fetched by a syncer); otherwise null, as for an unknown tx. */
    if (eth->chain->tx_lookup(eth->chain_impl, txh, &number, bh, &index) == 0 &&
        blk_load(eth, bh, &k) == 0 && rcpts_load(eth, bh, &r) == 0)
        *result = receipt_json(eth, &k, &r, index);
    if (!*result)
        *result = json_null();
    ethd_receipts_free(r.rs, r.n);
    blk_free(&k);
    return 0;
}

static int rpc_block_receipts(void *self, json_t *params, json_t **result,
                              struct ethd_rpc_error *err)
{
    SELF;
    uint8_t bh[32];
    uint64_t number;
    if (need_chain(eth, err) || nparams(params, 1, 1, "eth_getBlockReceipts", err))
        return ETHD_EINVAL;
    const char *s = json_string_value(json_array_get(params, 0));
    if (s && strlen(s) == 66) {
        if (param_hash(params, 0, bh, err))
            return ETHD_EINVAL;
    } else {
        if (param_block(eth, params, 0, &number, err))
            return ETHD_EINVAL;
        if (canonical_hash(eth, number, bh)) {
            *result = json_null();
            return 0;
        }
    }
    struct blk k;
    struct rcpts r;
    memset(&r, 0, sizeof(r));
    *result = NULL;
    if (blk_load(eth, bh, &k) == 0 && rcpts_load(eth, bh, &r) == 0 && r.n == k.b.body.n_txs) {
        *result = json_array();
        for (size_t i = 0; i < r.n; i++)
            json_array_append_new(*result, receipt_json(eth, &k, &r, i));
    }
    if (!*result)
        *result = json_null();
    ethd_receipts_free(r.rs, r.n);
    blk_free(&k);
    return 0;
}

static const struct ethd_rpc_method eth_methods[] = {
    {"eth_chainId", rpc_chain_id, NULL},
    {"eth_blockNumber", rpc_block_number, NULL},
    {"eth_syncing", rpc_syncing, NULL},
    {"eth_getBlockByNumber", rpc_block_by_number, NULL},
    {"eth_getBlockByHash", rpc_block_by_hash, NULL},
    {"eth_getHeaderByNumber", rpc_header_by_number, NULL},
    {"eth_getHeaderByHash", rpc_header_by_hash, NULL},
    {"eth_getBlockTransactionCountByHash", rpc_count_by_hash, NULL},
    {"eth_getBlockTransactionCountByNumber", rpc_count_by_number, NULL},
    {"eth_getTransactionByHash", rpc_tx_by_hash, NULL},
    {"eth_getTransactionByBlockHashAndIndex", rpc_tx_by_block_hash_index, NULL},
    {"eth_getTransactionByBlockNumberAndIndex", rpc_tx_by_block_number_index, NULL},
    {"eth_getTransactionReceipt", rpc_receipt, NULL},
    {"eth_getBlockReceipts", rpc_block_receipts, NULL},
};

static const struct ethd_rpc_method net_methods[] = {
    {"net_version", rpc_net_version, NULL},
};

const struct ethd_api ethd_eth_apis[2] = {
    {"eth", "1.0", eth_methods, sizeof(eth_methods) / sizeof(*eth_methods)},
    {"net", "1.0", net_methods, 1},
};
