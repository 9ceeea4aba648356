/* les wire messages: encoders and strict decoders (see les_msg.h). */
#include "les_msg.h"

#include <ethd/error.h>
#include <string.h>

const char *ethd_les_msg_name(uint64_t code)
{
    static const char *const names[] = {
        [LES_STATUS] = "Status",
        [LES_ANNOUNCE] = "Announce",
        [LES_GET_BLOCK_HEADERS] = "GetBlockHeaders",
        [LES_BLOCK_HEADERS] = "BlockHeaders",
        [LES_GET_BLOCK_BODIES] = "GetBlockBodies",
        [LES_BLOCK_BODIES] = "BlockBodies",
        [LES_GET_RECEIPTS] = "GetReceipts",
        [LES_RECEIPTS] = "Receipts",
        [LES_GET_PROOFS] = "GetProofs",
        [LES_PROOFS] = "Proofs",
        [LES_GET_CONTRACT_CODES] = "GetContractCodes",
        [LES_CONTRACT_CODES] = "ContractCodes",
        [LES_SEND_TX] = "SendTx",
        [LES_GET_HEADER_PROOFS] = "GetHeaderProofs",
        [LES_HEADER_PROOFS] = "HeaderProofs",
        [LES_GET_PROOFS_V2] = "GetProofsV2",
        [LES_PROOFS_V2] = "ProofsV2",
        [LES_GET_HELPER_TRIE_PROOFS] = "GetHelperTrieProofs",
        [LES_HELPER_TRIE_PROOFS] = "HelperTrieProofs",
        [LES_SEND_TX_V2] = "SendTxV2",
        [LES_GET_TX_STATUS] = "GetTxStatus",
        [LES_TX_STATUS] = "TxStatus",
        [LES_STOP] = "StopMsg",
        [LES_RESUME] = "ResumeMsg",
    };
    if (code < sizeof(names) / sizeof(*names) && names[code])
        return names[code];
    return "unknown";
}

bool ethd_les_is_request(uint64_t code)
{
    switch (code) {
    case LES_GET_BLOCK_HEADERS:
    case LES_GET_BLOCK_BODIES:
    case LES_GET_RECEIPTS:
    case LES_GET_CONTRACT_CODES:
    case LES_GET_PROOFS_V2:
    case LES_GET_HELPER_TRIE_PROOFS:
    case LES_SEND_TX_V2:
    case LES_GET_TX_STATUS:
        return true;
    default:
        return false;
    }
}

uint64_t ethd_les_reply_code(uint64_t req_code)
{
    switch (req_code) {
    case LES_GET_BLOCK_HEADERS:
        return LES_BLOCK_HEADERS;
    case LES_GET_BLOCK_BODIES:
        return LES_BLOCK_BODIES;
    case LES_GET_RECEIPTS:
        return LES_RECEIPTS;
    case LES_GET_CONTRACT_CODES:
        return LES_CONTRACT_CODES;
    case LES_GET_PROOFS_V2:
        return LES_PROOFS_V2;
    case LES_GET_HELPER_TRIE_PROOFS:
        return LES_HELPER_TRIE_PROOFS;
    case LES_SEND_TX_V2:
    case LES_GET_TX_STATUS:
        return LES_TX_STATUS;
    default:
        return 0;
    }
}

/* ---- helpers: any failure is a malformed message ---- */

static int top_list(const uint8_t *in, size_t len, struct ethd_rlp_item *top,
                    struct ethd_rlp_iter *it)
{
    if (!in || ethd_rlp_decode(in, len, top) || ethd_rlp_iter_init(it, top))
        return ETHD_EPROTO;
    return 0;
}

static int get_u64(const struct ethd_rlp_item *x, uint64_t *v)
{
    return ethd_rlp_get_uint64(x, v) ? ETHD_EPROTO : 0;
}

static int get_u256(const struct ethd_rlp_item *x, uint8_t v[32])
{
    const uint8_t *p;
    size_t n;
    if (ethd_rlp_get_bytes(x, &p, &n) || n > 32 || (n > 0 && p[0] == 0) ||
        ethd_rlp_get_u256(x, v))
        return ETHD_EPROTO;
    return 0;
}

static int next_u64(struct ethd_rlp_iter *it, uint64_t *v)
{
    struct ethd_rlp_item x;
    if (ethd_rlp_iter_next(it, &x))
        return ETHD_EPROTO;
    return get_u64(&x, v);
}

static int next_u256(struct ethd_rlp_iter *it, uint8_t v[32])
{
    struct ethd_rlp_item x;
    if (ethd_rlp_iter_next(it, &x))
        return ETHD_EPROTO;
    return get_u256(&x, v);
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

static void kv_begin(struct ethd_rlp_enc *e, const char *key)
{
    ethd_rlp_list_begin(e);
    ethd_rlp_bytes(e, key, strlen(key));
}

static void kv_uint(struct ethd_rlp_enc *e, const char *key, uint64_t v)
{
    kv_begin(e, key);
    ethd_rlp_uint(e, v);
    ethd_rlp_list_end(e);
}

int ethd_les_status_encode(const struct ethd_les_status *s, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    kv_uint(&e, "protocolVersion", s->version);
    kv_uint(&e, "networkId", s->network_id);
    kv_begin(&e, "headTd");
    ethd_rlp_u256(&e, s->head_td);
    ethd_rlp_list_end(&e);
    kv_begin(&e, "headHash");
    ethd_rlp_bytes(&e, s->head_hash, 32);
    ethd_rlp_list_end(&e);
    kv_uint(&e, "headNum", s->head_num);
    kv_begin(&e, "genesisHash");
    ethd_rlp_bytes(&e, s->genesis, 32);
    ethd_rlp_list_end(&e);
    if (s->has_forkid) {
        kv_begin(&e, "forkID");
        ethd_forkid_encode_rlp(&e, &s->forkid);
        ethd_rlp_list_end(&e);
    }
    if (s->has_recent_tx_lookup)
        kv_uint(&e, "recentTxLookup", s->recent_tx_lookup);
    if (s->has_announce_type)
        kv_uint(&e, "announceType", s->announce_type);
    /* Flag keys carry an empty value (go-ethereum writes 0x80, a zero). */
    if (s->serve_headers)
        kv_uint(&e, "serveHeaders", 0);
    if (s->has_serve_chain_since)
        kv_uint(&e, "serveChainSince", s->serve_chain_since);
    if (s->has_serve_recent_chain)
        kv_uint(&e, "serveRecentChain", s->serve_recent_chain);
    if (s->has_serve_state_since)
        kv_uint(&e, "serveStateSince", s->serve_state_since);
    if (s->has_serve_recent_state)
        kv_uint(&e, "serveRecentState", s->serve_recent_state);
    if (s->tx_relay)
        kv_uint(&e, "txRelay", 0);
    if (s->has_bl)
        kv_uint(&e, "flowControl/BL", s->bl);
    if (s->has_mrr)
        kv_uint(&e, "flowControl/MRR", s->mrr);
    if (s->has_mrc) {
        kv_begin(&e, "flowControl/MRC");
        ethd_rlp_list_begin(&e);
        for (size_t i = 0; i < s->n_mrc && i < LES_MAX_COSTS; i++) {
            ethd_rlp_list_begin(&e);
            ethd_rlp_uint(&e, s->mrc[i].code);
            ethd_rlp_uint(&e, s->mrc[i].base);
            ethd_rlp_uint(&e, s->mrc[i].req);
            ethd_rlp_list_end(&e);
        }
        ethd_rlp_list_end(&e);
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    return finish(&e);
}

enum {
    K_VERSION = 1u << 0,
    K_NETWORK = 1u << 1,
    K_TD = 1u << 2,
    K_HASH = 1u << 3,
    K_NUM = 1u << 4,
    K_GENESIS = 1u << 5,
    K_REQUIRED = (1u << 6) - 1,
};

static int decode_mrc(const struct ethd_rlp_item *v, struct ethd_les_status *s)
{
    struct ethd_rlp_iter it, ei;
    struct ethd_rlp_item entry;
    if (!v->is_list || ethd_rlp_iter_init(&it, v))
        return ETHD_EPROTO;
    s->n_mrc = 0;
    while (ethd_rlp_iter_more(&it)) {
        if (s->n_mrc == LES_MAX_COSTS || next_list(&it, &entry) || ethd_rlp_iter_init(&ei, &entry))
            return ETHD_EPROTO;
        struct ethd_les_cost *c = &s->mrc[s->n_mrc++];
        if (next_u64(&ei, &c->code) || next_u64(&ei, &c->base) || next_u64(&ei, &c->req) ||
            at_end(&ei))
            return ETHD_EPROTO;
    }
    return 0;
}

/* A key matches when the string equals `name` exactly. */
static bool key_is(const struct ethd_rlp_item *k, const char *name)
{
    size_t n = strlen(name);
    return k->len == n && memcmp(k->payload, name, n) == 0;
}

static int status_pair(const struct ethd_rlp_item *k, const struct ethd_rlp_item *v,
                       struct ethd_les_status *s, unsigned *seen)
{
    unsigned bit = 0;
    int rc = 0;
    if (key_is(k, "protocolVersion")) {
        bit = K_VERSION;
        rc = get_u64(v, &s->version);
    } else if (key_is(k, "networkId")) {
        bit = K_NETWORK;
        rc = get_u64(v, &s->network_id);
    } else if (key_is(k, "headTd")) {
        bit = K_TD;
        rc = get_u256(v, s->head_td);
    } else if (key_is(k, "headHash")) {
        bit = K_HASH;
        rc = ethd_rlp_get_fixed(v, s->head_hash, 32) ? ETHD_EPROTO : 0;
    } else if (key_is(k, "headNum")) {
        bit = K_NUM;
        rc = get_u64(v, &s->head_num);
    } else if (key_is(k, "genesisHash")) {
        bit = K_GENESIS;
        rc = ethd_rlp_get_fixed(v, s->genesis, 32) ? ETHD_EPROTO : 0;
    } else if (key_is(k, "forkID")) {
        rc = s->has_forkid || ethd_forkid_decode_item(v, &s->forkid) ? ETHD_EPROTO : 0;
        s->has_forkid = true;
    } else if (key_is(k, "announceType")) {
        rc = s->has_announce_type ? ETHD_EPROTO : get_u64(v, &s->announce_type);
        s->has_announce_type = true;
    } else if (key_is(k, "serveHeaders")) {
        s->serve_headers = true;
    } else if (key_is(k, "txRelay")) {
        s->tx_relay = true;
    } else if (key_is(k, "serveChainSince")) {
        rc = s->has_serve_chain_since ? ETHD_EPROTO : get_u64(v, &s->serve_chain_since);
        s->has_serve_chain_since = true;
    } else if (key_is(k, "serveRecentChain")) {
        rc = s->has_serve_recent_chain ? ETHD_EPROTO : get_u64(v, &s->serve_recent_chain);
        s->has_serve_recent_chain = true;
    } else if (key_is(k, "serveStateSince")) {
        rc = s->has_serve_state_since ? ETHD_EPROTO : get_u64(v, &s->serve_state_since);
        s->has_serve_state_since = true;
    } else if (key_is(k, "serveRecentState")) {
        rc = s->has_serve_recent_state ? ETHD_EPROTO : get_u64(v, &s->serve_recent_state);
        s->has_serve_recent_state = true;
    } else if (key_is(k, "recentTxLookup")) {
        rc = s->has_recent_tx_lookup ? ETHD_EPROTO : get_u64(v, &s->recent_tx_lookup);
        s->has_recent_tx_lookup = true;
    } else if (key_is(k, "flowControl/BL")) {
        rc = s->has_bl ? ETHD_EPROTO : get_u64(v, &s->bl);
        s->has_bl = true;
    } else if (key_is(k, "flowControl/MRR")) {
        rc = s->has_mrr ? ETHD_EPROTO : get_u64(v, &s->mrr);
        s->has_mrr = true;
    } else if (key_is(k, "flowControl/MRC")) {
        rc = s->has_mrc ? ETHD_EPROTO : decode_mrc(v, s);
        s->has_mrc = true;
    } /* caps/les.md: "Unknown keys should be ignored by both sides." */
    if (bit) {
        if (*seen & bit)
            return ETHD_EPROTO; /* a required key twice */
        *seen |= bit;
    }
    return rc;
}

int ethd_les_status_decode(uint32_t form, const uint8_t *in, size_t len,
                           struct ethd_les_status *s)
{
    struct ethd_rlp_item top, pair, k, v;
    struct ethd_rlp_iter it, pi;
    unsigned seen = 0;
    memset(s, 0, sizeof(*s));
    int rc = top_list(in, len, &top, &it);
    while (!rc && ethd_rlp_iter_more(&it)) {
        /* Each entry is [key, value]; go-ethereum may append more elements
         * to an entry in later versions, so only the first two are read. */
        if (next_list(&it, &pair) || ethd_rlp_iter_init(&pi, &pair) ||
            ethd_rlp_iter_next(&pi, &k) || k.is_list || ethd_rlp_iter_next(&pi, &v))
            rc = ETHD_EPROTO;
        else
            rc = status_pair(&k, &v, s, &seen);
    }
    if (!rc && (seen & K_REQUIRED) != K_REQUIRED)
        rc = ETHD_EPROTO;
    if (!rc && form >= 4 && !s->has_forkid)
        rc = ETHD_EPROTO;
    if (rc)
        memset(s, 0, sizeof(*s));
    return rc;
}

/* ---- GetBlockHeaders ---- */

int ethd_les_get_headers_encode(uint64_t req_id, const struct ethd_eth_headers_query *q,
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

int ethd_les_get_headers_decode(const uint8_t *in, size_t len, uint64_t *req_id,
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
    if (!rc && (ethd_rlp_iter_next(&bi, &origin) || origin.is_list))
        rc = ETHD_EPROTO;
    if (!rc) {
        if (origin.len == 32) {
            q->by_hash = true;
            memcpy(q->hash, origin.payload, 32);
        } else {
            rc = get_u64(&origin, &q->number);
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

/* ---- requests by list ---- */

static int check_item(uint64_t code, const struct ethd_rlp_item *x)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item a;
    switch (code) {
    case LES_GET_BLOCK_BODIES:
    case LES_GET_RECEIPTS:
    case LES_GET_TX_STATUS:
        return !x->is_list && x->len == 32 ? 0 : ETHD_EPROTO;
    case LES_GET_CONTRACT_CODES: /* [blockhash: B_32, key: B_32] */
        if (!x->is_list || ethd_rlp_iter_init(&it, x) || ethd_rlp_iter_next(&it, &a) ||
            a.is_list || a.len != 32 || ethd_rlp_iter_next(&it, &a) || a.is_list || a.len != 32 ||
            at_end(&it))
            return ETHD_EPROTO;
        return 0;
    case LES_GET_PROOFS_V2: { /* [blockhash: B_32, key: B, key2: B, fromLevel: P] */
        uint64_t lvl;
        if (!x->is_list || ethd_rlp_iter_init(&it, x) || ethd_rlp_iter_next(&it, &a) ||
            a.is_list || a.len != 32 || ethd_rlp_iter_next(&it, &a) || a.is_list ||
            a.len > 32 || ethd_rlp_iter_next(&it, &a) || a.is_list || a.len > 32 ||
            next_u64(&it, &lvl) || at_end(&it))
            return ETHD_EPROTO;
        return 0;
    }
    case LES_GET_HELPER_TRIE_PROOFS: {
        struct ethd_les_ht_req r;
        struct ethd_rlp_iter one;
        /* Re-use the entry reader on a one-element view. */
        one.p = x->raw;
        one.left = x->raw_len;
        one.depth = 1;
        return ethd_les_ht_req_next(&one, &r);
    }
    case LES_SEND_TX_V2: /* a legacy list or a typed envelope string */
        return x->is_list || x->len > 0 ? 0 : ETHD_EPROTO;
    default:
        return ETHD_EPROTO;
    }
}

int ethd_les_req_decode(uint64_t code, const uint8_t *in, size_t len, uint64_t *req_id,
                        struct ethd_rlp_item *list, size_t *count)
{
    struct ethd_rlp_item top, x;
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
        if (ethd_rlp_iter_next(&li, &x) || check_item(code, &x))
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

int ethd_les_hashes_encode(uint64_t req_id, const uint8_t (*hashes)[32], size_t n,
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

int ethd_les_ht_req_next(struct ethd_rlp_iter *it, struct ethd_les_ht_req *r)
{
    struct ethd_rlp_item entry, key;
    struct ethd_rlp_iter ei;
    memset(r, 0, sizeof(*r));
    if (next_list(it, &entry) || ethd_rlp_iter_init(&ei, &entry) ||
        next_u64(&ei, &r->sub_type) || next_u64(&ei, &r->section) ||
        ethd_rlp_iter_next(&ei, &key) || key.is_list || key.len > 64 ||
        next_u64(&ei, &r->from_level) || next_u64(&ei, &r->aux_req) || at_end(&ei)) {
        memset(r, 0, sizeof(*r));
        return ETHD_EPROTO;
    }
    r->key = key.payload;
    r->key_len = key.len;
    return 0;
}

int ethd_les_ht_req_encode(uint64_t req_id, const struct ethd_les_ht_req *reqs, size_t n,
                           struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, req_id);
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < n; i++) {
        ethd_rlp_list_begin(&e);
        ethd_rlp_uint(&e, reqs[i].sub_type);
        ethd_rlp_uint(&e, reqs[i].section);
        ethd_rlp_bytes(&e, reqs[i].key, reqs[i].key_len);
        ethd_rlp_uint(&e, reqs[i].from_level);
        ethd_rlp_uint(&e, reqs[i].aux_req);
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

/* ---- replies ---- */

int ethd_les_reply_encode(uint64_t req_id, uint64_t bv, const uint8_t *items, size_t items_len,
                          struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, req_id);
    ethd_rlp_uint(&e, bv);
    ethd_rlp_list_begin(&e);
    if (items_len)
        ethd_rlp_raw(&e, items, items_len);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_les_reply_encode_raw(uint64_t req_id, uint64_t bv, const uint8_t *body, size_t body_len,
                              struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, req_id);
    ethd_rlp_uint(&e, bv);
    ethd_rlp_raw(&e, body, body_len);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_les_reply_decode(const uint8_t *in, size_t len, uint64_t *req_id, uint64_t *bv,
                          struct ethd_rlp_item *body)
{
    struct ethd_rlp_item top;
    struct ethd_rlp_iter it;
    *req_id = 0;
    *bv = 0;
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_u64(&it, req_id);
    if (!rc)
        rc = next_u64(&it, bv);
    if (!rc)
        rc = next_list(&it, body);
    if (!rc)
        rc = at_end(&it);
    if (rc) {
        *req_id = 0;
        *bv = 0;
    }
    return rc;
}

/* ---- Announce ---- */

int ethd_les_announce_encode(const struct ethd_les_announce *a, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, a->hash, 32);
    ethd_rlp_uint(&e, a->number);
    ethd_rlp_u256(&e, a->td);
    ethd_rlp_uint(&e, a->reorg_depth);
    ethd_rlp_list_begin(&e);
    if (a->has_sig) {
        kv_begin(&e, "sign");
        ethd_rlp_bytes(&e, a->sig, 65);
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_les_announce_decode(const uint8_t *in, size_t len, struct ethd_les_announce *a)
{
    struct ethd_rlp_item top, kvs, pair, k, v;
    struct ethd_rlp_iter it, ki, pi;
    memset(a, 0, sizeof(*a));
    int rc = top_list(in, len, &top, &it);
    if (!rc)
        rc = next_fixed(&it, a->hash, 32);
    if (!rc)
        rc = next_u64(&it, &a->number);
    if (!rc)
        rc = next_u256(&it, a->td);
    if (!rc)
        rc = next_u64(&it, &a->reorg_depth);
    if (!rc)
        rc = next_list(&it, &kvs);
    if (!rc)
        rc = at_end(&it);
    if (!rc && ethd_rlp_iter_init(&ki, &kvs))
        rc = ETHD_EPROTO;
    while (!rc && ethd_rlp_iter_more(&ki)) {
        if (next_list(&ki, &pair) || ethd_rlp_iter_init(&pi, &pair) ||
            ethd_rlp_iter_next(&pi, &k) || k.is_list || ethd_rlp_iter_next(&pi, &v)) {
            rc = ETHD_EPROTO;
            break;
        }
        if (key_is(&k, "sign")) {
            if (a->has_sig || ethd_rlp_get_fixed(&v, a->sig, 65))
                rc = ETHD_EPROTO;
            a->has_sig = true;
        }
    }
    if (rc)
        memset(a, 0, sizeof(*a));
    return rc;
}

int ethd_les_announce_signed_data(const struct ethd_les_announce *a, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, a->hash, 32);
    ethd_rlp_uint(&e, a->number);
    ethd_rlp_u256(&e, a->td);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

/* ---- StopMsg / ResumeMsg ---- */

int ethd_les_stop_encode(struct ethd_buf *out)
{
    static const uint8_t empty = 0xc0;
    return ethd_buf_append(out, &empty, 1) ? ETHD_ENOMEM : 0;
}

int ethd_les_stop_decode(const uint8_t *in, size_t len)
{
    struct ethd_rlp_item top;
    /* Any single item: the message carries no data. */
    if (!in || ethd_rlp_decode(in, len, &top))
        return ETHD_EPROTO;
    return 0;
}

int ethd_les_resume_encode(uint64_t bv, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, bv);
    ethd_rlp_list_end(&e);
    return finish(&e);
}

int ethd_les_resume_decode(const uint8_t *in, size_t len, uint64_t *bv)
{
    struct ethd_rlp_item top;
    struct ethd_rlp_iter it;
    *bv = 0;
    if (!in || ethd_rlp_decode(in, len, &top))
        return ETHD_EPROTO;
    if (!top.is_list)
        return get_u64(&top, bv);
    if (ethd_rlp_iter_init(&it, &top) || next_u64(&it, bv) || at_end(&it)) {
        *bv = 0;
        return ETHD_EPROTO;
    }
    return 0;
}
