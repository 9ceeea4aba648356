/* les-server: the Light Ethereum Subprotocol, server side, les/2, les/3
 * and les/4 (devp2p caps/les.md).
 *
 * Service "les-server" (plugin "les"):
 *   p2p     descriptors les/2..4 sharing this instance. Status key/value
 *           handshake (genesis, network id, protocol version, fork id on
 *           les/4), client-side flow control (a buffer per client that
 *           recharges at MRR and is charged by the MRC cost table; BV in
 *           every reply; StopMsg/ResumeMsg on les/3+, a disconnect on les/2
 *           or for a client that keeps sending while stopped), serving of
 *           headers, bodies, receipts, transaction status, CHT proofs;
 *           Announce of new heads (announceType 1, and 2 signed with the
 *           node key when it can be read).
 *   iface   needs "chain/1".
 *   store   column family "les_cht": CHT nodes by hash, section roots.
 *
 * Disconnect reasons:
 *   ProtocolError (0x02)     a message before Status, a second Status, a
 *                            malformed message, a les/1 or unknown code, a
 *                            message over max_message_size, a buffer
 *                            underrun on les/2, more than max_after_stop
 *                            requests after a StopMsg;
 *   SubprotocolError (0x10)  a Status that does not match;
 *   TooManyPeers (0x04)      max_clients or the total capacity is reached;
 *   ReadTimeout (0x0b)       no Status within status_timeout. */
#include "les.h"

#include <ethd/chain.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>
#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Defaults (docs/les.md, "services.les-server"). */
#define DEF_MAX_CLIENTS 16
#define DEF_BL 300000
#define DEF_MRR 50000
#define DEF_MAX_HEADERS 192 /* go-ethereum's MaxHeaderFetch */
#define DEF_MAX_BODIES 32
#define DEF_MAX_RECEIPTS 128
#define DEF_MAX_PROOFS 64
#define DEF_MAX_TXS 64
#define DEF_MAX_MSG ((uint64_t)10 << 20)
#define DEF_SOFT_LIMIT ((uint64_t)2 << 20)
#define DEF_STATUS_TIMEOUT_MS 5000
#define DEF_MAX_AFTER_STOP 16
#define MAX_PROOF_NODES 4096 /* per reply, after de-duplication */

/* The cost table (flowControl/MRC). Costs are estimates of the work in
 * store reads and bytes: a header is one small read, a body or receipt
 * list a larger one, a CHT proof up to ~16 node reads. */
static const struct ethd_les_cost default_costs[] = {
    {LES_GET_BLOCK_HEADERS, 150, 30},     {LES_GET_BLOCK_BODIES, 200, 700},
    {LES_GET_RECEIPTS, 200, 700},         {LES_GET_CONTRACT_CODES, 300, 1000},
    {LES_GET_PROOFS_V2, 300, 1000},       {LES_GET_HELPER_TRIE_PROOFS, 300, 2000},
    {LES_SEND_TX_V2, 300, 500},           {LES_GET_TX_STATUS, 150, 100},
};
#define N_COSTS (sizeof(default_costs) / sizeof(*default_costs))

struct les_srv;

struct les_peer {
    struct les_peer *prev, *next;
    struct les_srv *srv;
    struct ethd_peer *peer; /* borrowed until on_disconnect */
    const struct ethd_protocol *proto;
    uint32_t version;
    bool active;
    struct event *status_timer;
    struct event *resume_timer;
    uint64_t announce_type;
    struct ethd_les_fc fc;
    bool stopped;
    uint64_t after_stop;
    uint64_t stops, requests, charged;
    uint64_t served_headers, served_bodies, served_receipts, served_proofs;
    bool announced;
    uint64_t last_ann_number;
    uint8_t last_ann_hash[32];
};

struct les_srv {
    struct ethd_service_ctx *ctx;
    const struct ethd_logger *log;
    struct event_base *loop;
    const struct ethd_chain_iface_v1 *chain;
    void *chain_impl;
    struct ethd_p2p_server *p2p;
    struct ethd_store *store;
    struct ethd_store_cf *cf;
    struct ethd_secp *secp;
    bool running;

    /* settings */
    uint64_t max_clients, capacity, bl, mrr;
    uint64_t max_headers, max_bodies, max_receipts, max_proofs, max_txs;
    uint64_t max_msg, soft_limit, status_timeout_ms, max_after_stop;
    uint64_t serve_chain_since, serve_recent_chain, max_version;
    uint64_t cht_size, cht_confirmations;
    bool announce;
    struct ethd_les_cost costs[N_COSTS];

    bool have_key;
    uint8_t node_key[32];

    struct les_peer *peers;
    size_t n_peers;
    uint64_t head_sub;
    bool subscribed;

    uint8_t (*cht_roots)[32];
    uint64_t n_cht;
};

uint64_t ethd_les_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int ethd_les_load_node_key(const struct ethd_secp *secp, const char *datadir,
                           const uint8_t node_id[64], uint8_t key[32])
{
    char path[4096], text[80];
    if (!datadir || snprintf(path, sizeof(path), "%s/nodekey", datadir) >= (int)sizeof(path))
        return ETHD_ENOTFOUND;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ETHD_ENOTFOUND;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n < 64)
        return ETHD_ENOTFOUND;
    text[64] = '\0';
    uint8_t pub[64];
    int rc = ethd_hex_decode_fixed(text, key, 32);
    if (!rc)
        rc = ethd_secp_pubkey(secp, key, pub);
    explicit_bzero(text, sizeof(text));
    if (rc || memcmp(pub, node_id, 64) != 0) {
        explicit_bzero(key, 32);
        return ETHD_ENOTFOUND;
    }
    return 0;
}

/* ---- sending ---- */

static int send_msg(struct les_peer *lp, uint64_t code, const struct ethd_buf *b)
{
    int rc = ethd_peer_send(lp->peer, lp->proto, code, b->data, b->len, NULL, NULL);
    if (rc && rc != ETHD_ECLOSED)
        ETHD_DEBUG(lp->srv->log, "send failed", "addr=%s msg=%s error=\"%s\"",
                   ethd_peer_remote_addr(lp->peer), ethd_les_msg_name(code), ethd_strerror(rc));
    /* A peer that went away or cannot take more is not a protocol error. */
    return rc == ETHD_ENOMEM ? rc : 0;
}

/* [reqID, BV, [items]] with the buffer value now (caps/les.md: "the
 * previously calculated BV plus the amount recharged during the time
 * spent serving"). */
static int reply(struct les_peer *lp, uint64_t code, uint64_t id, const struct ethd_buf *items)
{
    struct ethd_buf msg = ETHD_BUF_INIT;
    uint64_t bv = ethd_les_fc_value(&lp->fc, ethd_les_now_ms());
    int rc = ethd_les_reply_encode(id, bv, items->data, items->len, &msg);
    if (!rc)
        rc = send_msg(lp, code, &msg);
    ethd_buf_free(&msg);
    return rc;
}

static int reply_raw(struct les_peer *lp, uint64_t code, uint64_t id, const struct ethd_buf *body)
{
    struct ethd_buf msg = ETHD_BUF_INIT;
    uint64_t bv = ethd_les_fc_value(&lp->fc, ethd_les_now_ms());
    int rc = ethd_les_reply_encode_raw(id, bv, body->data, body->len, &msg);
    if (!rc)
        rc = send_msg(lp, code, &msg);
    ethd_buf_free(&msg);
    return rc;
}

/* ---- CHT sections ---- */

static void root_key(const struct les_srv *s, uint64_t section, uint8_t key[17])
{
    key[0] = 'r';
    for (int i = 0; i < 8; i++) {
        key[1 + i] = (uint8_t)(s->cht_size >> (56 - 8 * i));
        key[9 + i] = (uint8_t)(section >> (56 - 8 * i));
    }
}

static int cht_entry(void *arg, uint64_t number, uint8_t hash[32], uint8_t td[32])
{
    struct les_srv *s = arg;
    int rc = s->chain->hash_by_number(s->chain_impl, number, hash);
    if (!rc)
        rc = s->chain->td_by_hash(s->chain_impl, hash, td);
    return rc;
}

struct node_sink {
    struct les_srv *srv;
    struct ethd_batch *batch;
};

static int cht_emit(void *arg, const uint8_t hash[32], const uint8_t *node, size_t len)
{
    struct node_sink *ns = arg;
    uint8_t key[33];
    key[0] = 'n';
    memcpy(key + 1, hash, 32);
    return ethd_batch_put(ns->batch, ns->srv->cf, key, sizeof(key), node, len);
}

static int cht_lookup(void *arg, const uint8_t hash[32], struct ethd_buf *out)
{
    struct les_srv *s = arg;
    uint8_t key[33], *val = NULL;
    size_t vlen = 0;
    key[0] = 'n';
    memcpy(key + 1, hash, 32);
    int rc = ethd_store_get(s->store, s->cf, key, sizeof(key), &val, &vlen);
    if (rc)
        return rc;
    rc = ethd_buf_append(out, val, vlen);
    free(val);
    return rc;
}

/* Build (or load) every CHT section that is complete and confirmed. Built
 * on the loop thread: a section of 32,768 blocks is two store reads per
 * block plus ~40,000 Keccak-256 (well under a second). */
static void update_cht(struct les_srv *s)
{
    if (!s->cf)
        return;
    struct ethd_chain_head hh;
    s->chain->head_header(s->chain_impl, &hh);
    if (hh.number + 1 < s->cht_confirmations + s->cht_size)
        return;
    uint64_t want = (hh.number + 1 - s->cht_confirmations) / s->cht_size;
    while (s->n_cht < want) {
        uint64_t sec = s->n_cht;
        uint8_t key[17], root[32], *val = NULL;
        size_t vlen = 0;
        root_key(s, sec, key);
        if (ethd_store_get(s->store, s->cf, key, sizeof(key), &val, &vlen) == 0 && vlen == 32) {
            memcpy(root, val, 32);
            free(val);
        } else {
            free(val);
            struct node_sink ns = {s, NULL};
            int rc = ethd_batch_new(s->store, &ns.batch);
            uint64_t t0 = ethd_les_now_ms();
            if (!rc)
                rc = ethd_les_cht_build((sec + 1) * s->cht_size, cht_entry, s, cht_emit, &ns,
                                        root);
            if (!rc)
                rc = ethd_batch_put(ns.batch, s->cf, key, sizeof(key), root, 32);
            if (!rc)
                rc = ethd_batch_commit(ns.batch, false);
            ethd_batch_free(ns.batch);
            if (rc) {
                ETHD_WARN(s->log, "cht build failed", "section=%llu error=\"%s\"",
                          (unsigned long long)sec, ethd_strerror(rc));
                return;
            }
            char h[67];
            ethd_hex_encode(root, 32, h);
            ETHD_INFO(s->log, "cht section built", "section=%llu blocks=%llu root=%s ms=%llu",
                      (unsigned long long)sec, (unsigned long long)((sec + 1) * s->cht_size), h,
                      (unsigned long long)(ethd_les_now_ms() - t0));
        }
        uint8_t(*r)[32] = realloc(s->cht_roots, (size_t)(sec + 1) * 32);
        if (!r)
            return;
        s->cht_roots = r;
        memcpy(s->cht_roots[sec], root, 32);
        s->n_cht = sec + 1;
    }
}

/* ---- Status ---- */

static void fill_status(struct les_srv *s, uint32_t version, struct ethd_les_status *st)
{
    struct ethd_chain_head hh;
    memset(st, 0, sizeof(*st));
    s->chain->head_header(s->chain_impl, &hh);
    st->version = version;
    st->network_id = s->chain->network_id(s->chain_impl);
    memcpy(st->head_td, hh.td, 32);
    memcpy(st->head_hash, hh.hash, 32);
    st->head_num = hh.number;
    s->chain->genesis_hash(s->chain_impl, st->genesis);
    if (version >= 4) {
        st->has_forkid = true;
        s->chain->fork_id(s->chain_impl, &st->forkid);
        st->has_recent_tx_lookup = true;
        st->recent_tx_lookup = 0; /* the whole transaction index is kept */
    }
    st->serve_headers = true;
    st->has_serve_chain_since = true;
    st->serve_chain_since = s->serve_chain_since;
    if (s->serve_recent_chain) {
        st->has_serve_recent_chain = true;
        st->serve_recent_chain = s->serve_recent_chain;
    }
    st->has_bl = st->has_mrr = st->has_mrc = true;
    st->bl = s->bl;
    st->mrr = s->mrr;
    memcpy(st->mrc, s->costs, sizeof(s->costs));
    st->n_mrc = N_COSTS;
}

static void on_status_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct les_peer *lp = arg;
    (void)fd;
    (void)what;
    ETHD_DEBUG(lp->srv->log, "no status", "addr=%s", ethd_peer_remote_addr(lp->peer));
    ethd_peer_disconnect(lp->peer, ETHD_DISC_TIMEOUT);
}

static int status_mismatch(struct les_peer *lp, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int status_mismatch(struct les_peer *lp, const char *what, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    ETHD_INFO(lp->srv->log, "status rejected", "addr=%s reason=\"%s\" %s",
              ethd_peer_remote_addr(lp->peer), what, detail);
    return ETHD_EINVAL; /* SubprotocolError */
}

static int handle_status(struct les_peer *lp, const uint8_t *payload, size_t len)
{
    struct les_srv *s = lp->srv;
    struct ethd_les_status st;
    if (ethd_les_status_decode(lp->version, payload, len, &st)) {
        ETHD_DEBUG(s->log, "malformed status", "addr=%s len=%zu", ethd_peer_remote_addr(lp->peer),
                   len);
        return ETHD_EPROTO;
    }
    if (st.version != lp->version)
        return status_mismatch(lp, "protocol version mismatch", "theirs=%llu ours=%u",
                               (unsigned long long)st.version, lp->version);
    uint64_t nid = s->chain->network_id(s->chain_impl);
    if (st.network_id != nid)
        return status_mismatch(lp, "network id mismatch", "theirs=%llu ours=%llu",
                               (unsigned long long)st.network_id, (unsigned long long)nid);
    uint8_t genesis[32];
    s->chain->genesis_hash(s->chain_impl, genesis);
    if (memcmp(genesis, st.genesis, 32) != 0) {
        char a[67], b[67];
        ethd_hex_encode(st.genesis, 32, a);
        ethd_hex_encode(genesis, 32, b);
        return status_mismatch(lp, "genesis mismatch", "theirs=%s ours=%s", a, b);
    }
    if (lp->version >= 4) {
        int verdict = s->chain->validate_fork_id(s->chain_impl, &st.forkid);
        if (verdict != ETHD_FORKID_ACCEPT)
            return status_mismatch(lp, "fork id rejected", "hash=%02x%02x%02x%02x next=%llu",
                                   st.forkid.hash[0], st.forkid.hash[1], st.forkid.hash[2],
                                   st.forkid.hash[3], (unsigned long long)st.forkid.next);
    }
    lp->announce_type = st.has_announce_type ? st.announce_type : LES_ANNOUNCE_SIMPLE;
    if (lp->announce_type > LES_ANNOUNCE_SIGNED)
        return status_mismatch(lp, "bad announceType", "value=%llu",
                               (unsigned long long)lp->announce_type);
    if (lp->status_timer) {
        event_free(lp->status_timer);
        lp->status_timer = NULL;
    }
    lp->active = true;
    /* The buffer starts full when the handshake completes (caps/les.md:
     * "the server sets the initial Buffer Value of the client to BL"). */
    ethd_les_fc_init(&lp->fc, s->bl, s->mrr, ethd_les_now_ms());
    ETHD_INFO(s->log, "light client connected", "addr=%s version=%u announce=%llu clients=%zu",
              ethd_peer_remote_addr(lp->peer), lp->version,
              (unsigned long long)lp->announce_type, s->n_peers);
    return 0;
}

/* ---- serving ---- */

static bool is_canonical(struct les_srv *s, const uint8_t hash[32], uint64_t number)
{
    uint8_t h[32];
    return s->chain->hash_by_number(s->chain_impl, number, h) == 0 && memcmp(h, hash, 32) == 0;
}

static int serve_headers(struct les_peer *lp, uint64_t id, const struct ethd_eth_headers_query *q)
{
    struct les_srv *s = lp->srv;
    struct ethd_buf items = ETHD_BUF_INIT;
    uint64_t amount = q->amount < s->max_headers ? q->amount : s->max_headers, n = 0;
    uint64_t origin = q->number;
    bool ok = amount > 0;
    /* caps/les.md: headers "beginning at block `block` ... in the canonical
     * chain": a hash that is not canonical gets an empty answer. */
    if (ok && q->by_hash)
        ok = s->chain->number_by_hash(s->chain_impl, q->hash, &origin) == 0 &&
             is_canonical(s, q->hash, origin);
    if (ok && s->chain->raw_headers_by_number(s->chain_impl, origin, amount, q->skip, q->reverse,
                                              (size_t)s->soft_limit, &items, &n) != 0) {
        ethd_buf_reset(&items); /* nothing half-written goes out */
        n = 0;
    }
    lp->served_headers += n;
    int rc = reply(lp, LES_BLOCK_HEADERS, id, &items);
    ethd_buf_free(&items);
    return rc;
}

/* Receipts of a block whose list is not stored but is known to be empty. */
static bool empty_receipts(struct les_srv *s, const uint8_t hash[32])
{
    unsigned flags = 0;
    struct ethd_header hd;
    if (s->chain->block_status(s->chain_impl, hash, &flags) || !(flags & ETHD_CHAIN_HAS_BODY))
        return false;
    if (s->chain->header_by_hash(s->chain_impl, hash, &hd))
        return false;
    bool empty = memcmp(hd.receipts_root, ethd_trie_empty_root, 32) == 0;
    ethd_header_free(&hd);
    return empty;
}

/* BlockBodies / Receipts: unknown blocks are skipped (the list may be
 * shorter than the request, as caps/les.md allows). */
static int serve_by_hash(struct les_peer *lp, uint64_t code, uint64_t id,
                         const struct ethd_rlp_item *list, uint64_t max)
{
    struct les_srv *s = lp->srv;
    struct ethd_buf items = ETHD_BUF_INIT, one = ETHD_BUF_INIT;
    struct ethd_rlp_iter it;
    struct ethd_rlp_item h;
    uint64_t n = 0, looked = 0;
    static const uint8_t empty_list = 0xc0;
    ethd_rlp_iter_init(&it, list);
    while (looked < max && items.len < s->soft_limit && ethd_rlp_iter_next(&it, &h) == 0) {
        looked++;
        ethd_buf_reset(&one);
        int rc;
        if (code == LES_GET_BLOCK_BODIES) {
            rc = s->chain->raw_body_by_hash(s->chain_impl, h.payload, &one);
        } else {
            rc = s->chain->raw_receipts_by_hash(s->chain_impl, h.payload, &one);
            if (rc && empty_receipts(s, h.payload))
                rc = ethd_buf_append(&one, &empty_list, 1);
        }
        if (rc)
            continue;
        if (ethd_buf_append(&items, one.data, one.len))
            break;
        n++;
    }
    if (code == LES_GET_BLOCK_BODIES)
        lp->served_bodies += n;
    else
        lp->served_receipts += n;
    int rc = reply(lp, ethd_les_reply_code(code), id, &items);
    ethd_buf_free(&items);
    ethd_buf_free(&one);
    return rc;
}

/* Proof set with de-duplication by node hash. */
struct proof_set {
    struct ethd_buf nodes;
    uint8_t (*hashes)[32];
    size_t n, cap;
};

static int proof_add(struct proof_set *ps, const uint8_t *node, size_t len)
{
    uint8_t h[32];
    ethd_keccak256(node, len, h);
    for (size_t i = 0; i < ps->n; i++)
        if (memcmp(ps->hashes[i], h, 32) == 0)
            return 0;
    if (ps->n == MAX_PROOF_NODES)
        return ETHD_ETOOBIG;
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 32;
        uint8_t(*nh)[32] = realloc(ps->hashes, cap * 32);
        if (!nh)
            return ETHD_ENOMEM;
        ps->hashes = nh;
        ps->cap = cap;
    }
    memcpy(ps->hashes[ps->n++], h, 32);
    return ethd_buf_append(&ps->nodes, node, len);
}

/* One CHT request: nodes into the proof set, aux data (when asked) into aux. */
static void cht_request(struct les_peer *lp, const struct ethd_les_ht_req *r,
                        struct proof_set *ps, struct ethd_rlp_enc *aux)
{
    struct les_srv *s = lp->srv;
    bool avail = r->sub_type == LES_HT_CHT && r->section < s->n_cht && r->key_len == 8;
    uint64_t number = 0;
    if (avail) {
        for (int i = 0; i < 8; i++)
            number = number << 8 | r->key[i];
        avail = number < (r->section + 1) * s->cht_size;
    }
    if (avail && r->aux_req != LES_AUX_ROOT) {
        struct ethd_buf proof = ETHD_BUF_INIT;
        size_t n = 0;
        if (ethd_les_trie_prove(s->cht_roots[r->section], r->key, 8, r->from_level, cht_lookup,
                                s, &proof, &n) == 0) {
            const uint8_t *p = proof.data;
            size_t left = proof.len;
            struct ethd_rlp_item node;
            while (left && ethd_rlp_next(&p, &left, &node) == 0)
                if (proof_add(ps, node.raw, node.raw_len))
                    break;
            lp->served_proofs++;
        } else {
            avail = false;
        }
        ethd_buf_free(&proof);
    }
    if (r->aux_req == 0)
        return;
    /* One auxData item per request with auxReq > 0, empty when the data is
     * not available, so the client can match them by position. */
    if (avail && r->aux_req == LES_AUX_ROOT) {
        ethd_rlp_bytes(aux, s->cht_roots[r->section], 32);
    } else if (avail && r->aux_req == LES_AUX_HEADER) {
        uint8_t hash[32];
        struct ethd_buf hdr = ETHD_BUF_INIT;
        if (s->chain->hash_by_number(s->chain_impl, number, hash) == 0 &&
            s->chain->raw_header_by_hash(s->chain_impl, hash, &hdr) == 0)
            ethd_rlp_bytes(aux, hdr.data, hdr.len);
        else
            ethd_rlp_bytes(aux, NULL, 0);
        ethd_buf_free(&hdr);
    } else {
        ethd_rlp_bytes(aux, NULL, 0);
    }
}

static int serve_helper_proofs(struct les_peer *lp, uint64_t id, const struct ethd_rlp_item *list)
{
    struct les_srv *s = lp->srv;
    struct proof_set ps = {ETHD_BUF_INIT, NULL, 0, 0};
    struct ethd_buf auxb = ETHD_BUF_INIT, body = ETHD_BUF_INIT;
    struct ethd_rlp_enc aux, e;
    struct ethd_rlp_iter it;
    struct ethd_les_ht_req r;
    uint64_t done = 0;
    ethd_rlp_enc_init(&aux, &auxb);
    ethd_rlp_list_begin(&aux);
    ethd_rlp_iter_init(&it, list);
    while (done < s->max_proofs && ps.nodes.len < s->soft_limit &&
           ethd_les_ht_req_next(&it, &r) == 0) {
        cht_request(lp, &r, &ps, &aux);
        done++;
    }
    ethd_rlp_list_end(&aux);
    int rc = ethd_rlp_enc_finish(&aux) ? ETHD_ENOMEM : 0;
    ethd_rlp_enc_init(&e, &body);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_begin(&e);
    if (ps.nodes.len)
        ethd_rlp_raw(&e, ps.nodes.data, ps.nodes.len);
    ethd_rlp_list_end(&e);
    if (!rc)
        ethd_rlp_raw(&e, auxb.data, auxb.len);
    ethd_rlp_list_end(&e);
    if (!rc)
        rc = ethd_rlp_enc_finish(&e) ? ETHD_ENOMEM : 0;
    if (!rc)
        rc = reply_raw(lp, LES_HELPER_TRIE_PROOFS, id, &body);
    ethd_buf_free(&ps.nodes);
    free(ps.hashes);
    ethd_buf_free(&auxb);
    ethd_buf_free(&body);
    return rc;
}

/* TxStatus for GetTxStatus (from the transaction index) and SendTxV2
 * (no transaction pool in this service: every transaction gets Error). */
static int serve_tx_status(struct les_peer *lp, uint64_t code, uint64_t id,
                           const struct ethd_rlp_item *list)
{
    struct les_srv *s = lp->srv;
    struct ethd_buf items = ETHD_BUF_INIT, data = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    struct ethd_rlp_iter it;
    struct ethd_rlp_item x;
    uint64_t n = 0;
    static const char no_pool[] = "transaction relay is not available";
    ethd_rlp_enc_init(&e, &items);
    ethd_rlp_iter_init(&it, list);
    while (n < s->max_txs && ethd_rlp_iter_next(&it, &x) == 0) {
        n++;
        ethd_rlp_list_begin(&e);
        if (code == LES_SEND_TX_V2) {
            ethd_rlp_uint(&e, 4);
            ethd_rlp_bytes(&e, no_pool, sizeof(no_pool) - 1);
        } else {
            uint64_t number;
            uint8_t bh[32];
            uint32_t index;
            if (s->chain->tx_lookup(s->chain_impl, x.payload, &number, bh, &index) == 0) {
                struct ethd_rlp_enc d;
                ethd_buf_reset(&data);
                ethd_rlp_enc_init(&d, &data);
                ethd_rlp_list_begin(&d);
                ethd_rlp_bytes(&d, bh, 32);
                ethd_rlp_uint(&d, number);
                ethd_rlp_uint(&d, index);
                ethd_rlp_list_end(&d);
                ethd_rlp_enc_finish(&d);
                ethd_rlp_uint(&e, 3); /* Included */
                ethd_rlp_bytes(&e, data.data, data.len);
            } else {
                ethd_rlp_uint(&e, 0); /* Unknown */
                ethd_rlp_bytes(&e, NULL, 0);
            }
        }
        ethd_rlp_list_end(&e);
    }
    int rc = ethd_rlp_enc_finish(&e) ? ETHD_ENOMEM : 0;
    if (!rc)
        rc = reply(lp, LES_TX_STATUS, id, &items);
    ethd_buf_free(&items);
    ethd_buf_free(&data);
    return rc;
}

/* ---- flow control ---- */

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct les_peer *lp = arg;
    (void)fd;
    (void)what;
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t now = ethd_les_now_ms();
    /* The loop's timer clock and ours round differently: a timer may fire
     * a millisecond early, so re-arm until the threshold is really met. */
    uint64_t wait = ethd_les_fc_wait_ms(&lp->fc, now, lp->srv->bl / 2);
    if (wait > 0 && wait != UINT64_MAX) {
        struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
        if (evtimer_add(lp->resume_timer, &tv) == 0)
            return;
    }
    uint64_t bv = ethd_les_fc_value(&lp->fc, now);
    if (ethd_les_resume_encode(bv, &b) == 0)
        send_msg(lp, LES_RESUME, &b);
    ethd_buf_free(&b);
    lp->stopped = false;
    lp->after_stop = 0;
    ETHD_DEBUG(lp->srv->log, "client resumed", "addr=%s bv=%llu",
               ethd_peer_remote_addr(lp->peer), (unsigned long long)bv);
}

/* Buffer underrun: StopMsg now, ResumeMsg once half the buffer is back
 * (les/3+); les/2 has no StopMsg: the client is dropped. */
static int underrun(struct les_peer *lp, uint64_t code, uint64_t cost)
{
    struct les_srv *s = lp->srv;
    uint64_t now = ethd_les_now_ms();
    ETHD_DEBUG(s->log, "buffer underrun", "addr=%s msg=%s cost=%llu bv=%llu",
               ethd_peer_remote_addr(lp->peer), ethd_les_msg_name(code), (unsigned long long)cost,
               (unsigned long long)ethd_les_fc_value(&lp->fc, now));
    if (lp->version < 3)
        return ETHD_EPROTO;
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc = ethd_les_stop_encode(&b);
    if (!rc)
        rc = send_msg(lp, LES_STOP, &b);
    ethd_buf_free(&b);
    if (rc)
        return rc;
    lp->stopped = true;
    lp->after_stop = 0;
    lp->stops++;
    uint64_t wait = ethd_les_fc_wait_ms(&lp->fc, now, s->bl / 2);
    if (wait == UINT64_MAX)
        wait = 3600 * 1000;
    if (!lp->resume_timer)
        lp->resume_timer = evtimer_new(s->loop, on_resume, lp);
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    if (!lp->resume_timer || evtimer_add(lp->resume_timer, &tv))
        return ETHD_ENOMEM;
    return 0;
}

/* Decode a request, charge it, serve it. */
static int handle_request(struct les_peer *lp, uint64_t code, const uint8_t *payload, size_t len)
{
    struct les_srv *s = lp->srv;
    struct ethd_eth_headers_query q;
    struct ethd_rlp_item list;
    uint64_t id = 0, count = 0, max = 0;
    size_t n = 0;
    if (code == LES_GET_BLOCK_HEADERS) {
        if (ethd_les_get_headers_decode(payload, len, &id, &q))
            return ETHD_EPROTO;
        count = q.amount;
        max = s->max_headers;
    } else {
        if (ethd_les_req_decode(code, payload, len, &id, &list, &n))
            return ETHD_EPROTO;
        count = n;
        switch (code) {
        case LES_GET_BLOCK_BODIES:
            max = s->max_bodies;
            break;
        case LES_GET_RECEIPTS:
            max = s->max_receipts;
            break;
        case LES_GET_HELPER_TRIE_PROOFS:
        case LES_GET_PROOFS_V2:
        case LES_GET_CONTRACT_CODES:
            max = s->max_proofs;
            break;
        default:
            max = s->max_txs;
            break;
        }
    }
    /* A request for more than the per-message maximum is served (and
     * charged) up to that maximum, so MaxCost stays within BL. */
    if (count > max)
        count = max;
    uint64_t cost = 0;
    ethd_les_fc_cost(s->costs, N_COSTS, code, count, &cost);
    lp->requests++;
    if (lp->stopped) {
        /* Requests already on the wire when StopMsg went out are dropped
         * unanswered (caps/les.md, StopMsg); a client that keeps sending
         * ignores flow control altogether. */
        if (++lp->after_stop > s->max_after_stop) {
            ETHD_INFO(s->log, "client ignores StopMsg", "addr=%s requests_after_stop=%llu",
                      ethd_peer_remote_addr(lp->peer), (unsigned long long)lp->after_stop);
            return ETHD_EPROTO;
        }
        return 0;
    }
    if (ethd_les_fc_charge(&lp->fc, ethd_les_now_ms(), cost))
        return underrun(lp, code, cost);
    lp->charged += cost;
    switch (code) {
    case LES_GET_BLOCK_HEADERS:
        return serve_headers(lp, id, &q);
    case LES_GET_BLOCK_BODIES:
    case LES_GET_RECEIPTS:
        return serve_by_hash(lp, code, id, &list, max);
    case LES_GET_HELPER_TRIE_PROOFS:
        return serve_helper_proofs(lp, id, &list);
    case LES_GET_PROOFS_V2: {
        /* No state trie (no executor yet): an empty proof set, as for
         * unavailable data. */
        struct ethd_buf empty = ETHD_BUF_INIT;
        int rc = reply(lp, LES_PROOFS_V2, id, &empty);
        return rc;
    }
    case LES_GET_CONTRACT_CODES: {
        struct ethd_buf empty = ETHD_BUF_INIT;
        return reply(lp, LES_CONTRACT_CODES, id, &empty);
    }
    case LES_SEND_TX_V2:
    case LES_GET_TX_STATUS:
        return serve_tx_status(lp, code, id, &list);
    default:
        return ETHD_EPROTO;
    }
}

/* ---- Announce ---- */

static void announce_to(struct les_peer *lp, const struct ethd_chain_head *h, bool reorg,
                        uint64_t ancestor)
{
    struct les_srv *s = lp->srv;
    if (!lp->active || lp->announce_type == LES_ANNOUNCE_NONE)
        return;
    if (lp->announced && memcmp(lp->last_ann_hash, h->hash, 32) == 0)
        return;
    struct ethd_les_announce a;
    memset(&a, 0, sizeof(a));
    memcpy(a.hash, h->hash, 32);
    a.number = h->number;
    memcpy(a.td, h->td, 32);
    /* caps/les.md: reorgDepth = blocks rolled back from the last head
     * announced to this peer to reach the common ancestor. */
    if (lp->announced && reorg && lp->last_ann_number > ancestor)
        a.reorg_depth = lp->last_ann_number - ancestor;
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc = 0;
    if (lp->announce_type == LES_ANNOUNCE_SIGNED && s->have_key) {
        uint8_t digest[32];
        rc = ethd_les_announce_signed_data(&a, &b);
        if (!rc) {
            ethd_keccak256(b.data, b.len, digest);
            rc = ethd_secp_sign(s->secp, s->node_key, digest, a.sig);
            a.has_sig = rc == 0;
        }
        ethd_buf_reset(&b);
    }
    if (!rc)
        rc = ethd_les_announce_encode(&a, &b);
    if (!rc)
        send_msg(lp, LES_ANNOUNCE, &b);
    ethd_buf_free(&b);
    lp->announced = true;
    lp->last_ann_number = h->number;
    memcpy(lp->last_ann_hash, h->hash, 32);
}

static void on_head(const char *topic, const void *event, void *arg)
{
    struct les_srv *s = arg;
    const struct ethd_chain_head_event *ev = event;
    (void)topic;
    if (!s->running || !ev)
        return;
    if (s->announce)
        for (struct les_peer *lp = s->peers; lp; lp = lp->next)
            announce_to(lp, &ev->header, ev->reorg, ev->ancestor);
    update_cht(s);
}

/* ---- protocol callbacks ---- */

static const struct ethd_protocol *descriptor_for(uint32_t version)
{
    for (size_t i = 0; i < 3; i++)
        if (ethd_les_server_protocols[i].version == version)
            return &ethd_les_server_protocols[i];
    return NULL;
}

static void peer_free(struct les_peer *lp)
{
    struct les_srv *s = lp->srv;
    if (lp->prev)
        lp->prev->next = lp->next;
    else
        s->peers = lp->next;
    if (lp->next)
        lp->next->prev = lp->prev;
    s->n_peers--;
    if (lp->status_timer)
        event_free(lp->status_timer);
    if (lp->resume_timer)
        event_free(lp->resume_timer);
    ethd_peer_set_data(lp->peer, lp->proto, NULL);
    free(lp);
}

static int proto_connect(void *self, struct ethd_peer *peer)
{
    struct les_srv *s = self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    if (!proto || !s->running || !s->chain)
        return ETHD_ESTATE;
    /* Light client slots: a count cap and a total recharge capacity. */
    if (s->n_peers >= s->max_clients || (s->n_peers + 1) * s->mrr > s->capacity) {
        ETHD_INFO(s->log, "light client refused", "addr=%s clients=%zu max=%llu",
                  ethd_peer_remote_addr(peer), s->n_peers, (unsigned long long)s->max_clients);
        ethd_peer_disconnect(peer, ETHD_DISC_TOO_MANY_PEERS);
        return 0;
    }
    struct les_peer *lp = calloc(1, sizeof(*lp));
    if (!lp)
        return ETHD_ENOMEM;
    lp->srv = s;
    lp->peer = peer;
    lp->proto = proto;
    lp->version = proto->version;
    lp->next = s->peers;
    if (s->peers)
        s->peers->prev = lp;
    s->peers = lp;
    s->n_peers++;
    ethd_peer_set_data(peer, proto, lp);
    ethd_les_fc_init(&lp->fc, s->bl, s->mrr, ethd_les_now_ms());
    struct ethd_les_status st;
    struct ethd_buf b = ETHD_BUF_INIT;
    fill_status(s, lp->version, &st);
    int rc = ethd_les_status_encode(&st, &b);
    if (!rc)
        rc = ethd_peer_send(peer, proto, LES_STATUS, b.data, b.len, NULL, NULL);
    ethd_buf_free(&b);
    if (!rc) {
        lp->status_timer = evtimer_new(s->loop, on_status_timeout, lp);
        struct timeval tv = {(time_t)(s->status_timeout_ms / 1000),
                             (suseconds_t)(s->status_timeout_ms % 1000) * 1000};
        if (!lp->status_timer || evtimer_add(lp->status_timer, &tv))
            rc = ETHD_ENOMEM;
    }
    if (rc) {
        peer_free(lp); /* no on_disconnect follows a failed on_connect */
        return rc;
    }
    return 0;
}

static int handle_message(struct les_peer *lp, uint64_t code, const uint8_t *payload, size_t len)
{
    if (code == LES_STATUS)
        return ETHD_EPROTO; /* a second Status */
    if (ethd_les_is_request(code))
        return handle_request(lp, code, payload, len);
    switch (code) {
    case LES_ANNOUNCE: { /* clients do not announce; check the form, drop */
        struct ethd_les_announce a;
        return ethd_les_announce_decode(payload, len, &a);
    }
    case LES_STOP: /* server-to-client messages: form-checked and ignored */
        return lp->version >= 3 ? ethd_les_stop_decode(payload, len) : ETHD_EPROTO;
    case LES_RESUME: {
        uint64_t bv;
        return lp->version >= 3 ? ethd_les_resume_decode(payload, len, &bv) : ETHD_EPROTO;
    }
    default:
        /* Replies we never asked for, and les/1 messages, which les/2
         * removed: a breach of protocol. */
        return ETHD_EPROTO;
    }
}

static int proto_message(void *self, struct ethd_peer *peer, uint64_t code,
                         const uint8_t *payload, size_t len)
{
    struct les_srv *s = self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    struct les_peer *lp = proto ? ethd_peer_get_data(peer, proto) : NULL;
    if (!lp)
        return ETHD_ESTATE;
    if (len > s->max_msg) {
        ETHD_DEBUG(s->log, "message too large", "addr=%s msg=%s len=%zu",
                   ethd_peer_remote_addr(peer), ethd_les_msg_name(code), len);
        return ETHD_EPROTO;
    }
    int rc;
    if (!lp->active) {
        if (code != LES_STATUS) {
            ETHD_DEBUG(s->log, "message before status", "addr=%s msg=%s",
                       ethd_peer_remote_addr(peer), ethd_les_msg_name(code));
            return ETHD_EPROTO;
        }
        rc = handle_status(lp, payload, len);
    } else {
        rc = handle_message(lp, code, payload, len);
    }
    if (rc)
        ETHD_DEBUG(s->log, "dropping light client", "addr=%s msg=%s(0x%02llx) len=%zu error=\"%s\"",
                   ethd_peer_remote_addr(peer), ethd_les_msg_name(code), (unsigned long long)code,
                   len, ethd_strerror(rc));
    return rc;
}

static void proto_disconnect(void *self, struct ethd_peer *peer, int reason)
{
    struct les_srv *s = self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    struct les_peer *lp = proto ? ethd_peer_get_data(peer, proto) : NULL;
    if (!lp)
        return;
    ETHD_DEBUG(s->log, "light client gone", "addr=%s reason=%s", ethd_peer_remote_addr(peer),
               ethd_disc_reason_str(reason));
    peer_free(lp);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 3];
    ethd_hex_encode(p, n, buf);
    return json_string(buf);
}

static json_t *costs_json(const struct les_srv *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < N_COSTS; i++)
        json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I}", "msg",
                                           ethd_les_msg_name(s->costs[i].code), "code",
                                           (json_int_t)s->costs[i].code, "baseCost",
                                           (json_int_t)s->costs[i].base, "reqCost",
                                           (json_int_t)s->costs[i].req));
    return a;
}

/* admin_nodeInfo protocols.les. */
static json_t *proto_node_info(void *self)
{
    struct les_srv *s = self;
    if (!s->chain)
        return NULL;
    struct ethd_chain_head hh;
    uint8_t genesis[32];
    s->chain->head_header(s->chain_impl, &hh);
    s->chain->genesis_hash(s->chain_impl, genesis);
    json_t *o = json_object();
    json_object_set_new(o, "network", json_integer((json_int_t)s->chain->network_id(s->chain_impl)));
    json_object_set_new(o, "genesis", hex_json(genesis, 32));
    json_object_set_new(o, "head", hex_json(hh.hash, 32));
    json_object_set_new(o, "headNumber", json_integer((json_int_t)hh.number));
    json_object_set_new(o, "serveChainSince", json_integer((json_int_t)s->serve_chain_since));
    json_object_set_new(o, "clients", json_integer((json_int_t)s->n_peers));
    json_object_set_new(o, "maxClients", json_integer((json_int_t)s->max_clients));
    json_object_set_new(o, "capacity", json_integer((json_int_t)s->capacity));
    json_object_set_new(o, "flowControl",
                        json_pack("{s:I, s:I, s:o}", "BL", (json_int_t)s->bl, "MRR",
                                  (json_int_t)s->mrr, "MRC", costs_json(s)));
    json_t *cht = json_pack("{s:I, s:I, s:I}", "sectionSize", (json_int_t)s->cht_size,
                            "confirmations", (json_int_t)s->cht_confirmations, "sections",
                            (json_int_t)s->n_cht);
    if (s->n_cht)
        json_object_set_new(cht, "lastRoot", hex_json(s->cht_roots[s->n_cht - 1], 32));
    json_object_set_new(o, "cht", cht);
    json_object_set_new(o, "signedAnnounce", json_boolean(s->have_key));
    return o;
}

/* admin_peers protocols.les: the client's flow-control state. */
static json_t *proto_peer_info(void *self, struct ethd_peer *peer)
{
    (void)self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    struct les_peer *lp = proto ? ethd_peer_get_data(peer, proto) : NULL;
    if (!lp)
        return NULL;
    if (!lp->active)
        return json_pack("{s:i, s:s}", "version", (int)lp->version, "status", "handshake");
    uint64_t bv = ethd_les_fc_value(&lp->fc, ethd_les_now_ms());
    json_t *fc = json_pack("{s:I, s:I, s:I, s:b, s:I, s:I, s:I}", "bufferLimit",
                           (json_int_t)lp->fc.bl, "minRecharge", (json_int_t)lp->fc.mrr,
                           "bufferValue", (json_int_t)bv, "stopped", lp->stopped, "stops",
                           (json_int_t)lp->stops, "requests", (json_int_t)lp->requests,
                           "costCharged", (json_int_t)lp->charged);
    json_t *served = json_pack("{s:I, s:I, s:I, s:I}", "headers", (json_int_t)lp->served_headers,
                               "bodies", (json_int_t)lp->served_bodies, "receipts",
                               (json_int_t)lp->served_receipts, "proofs",
                               (json_int_t)lp->served_proofs);
    return json_pack("{s:i, s:s, s:I, s:o, s:o}", "version", (int)lp->version, "role", "client",
                     "announceType", (json_int_t)lp->announce_type, "flowControl", fc, "served",
                     served);
}

const struct ethd_protocol ethd_les_server_protocols[3] = {
    {"les", 2, LES_LENGTH_2, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
    {"les", 3, LES_LENGTH_3, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
    {"les", 4, LES_LENGTH_3, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
};

/* ---- service ---- */

static int find_chain(struct les_srv *s)
{
    if (s->chain)
        return 0;
    const void *iface = NULL;
    void *impl = NULL;
    int rc = ethd_ctx_lookup(s->ctx, ETHD_CHAIN_IFACE_V1, &iface, &impl);
    if (rc)
        return rc;
    s->chain = iface;
    s->chain_impl = impl;
    return 0;
}

static int read_config(struct les_srv *s, const struct ethd_conf *c)
{
    int rc = ethd_conf_uint(c, "max_clients", 1, 100000, DEF_MAX_CLIENTS, &s->max_clients);
    if (!rc)
        rc = ethd_conf_uint(c, "buffer_limit", 1, UINT32_MAX, DEF_BL, &s->bl);
    if (!rc)
        rc = ethd_conf_uint(c, "min_recharge", 1, UINT32_MAX, DEF_MRR, &s->mrr);
    if (!rc)
        rc = ethd_conf_uint(c, "capacity", 0, UINT64_MAX / 2, 0, &s->capacity);
    if (!rc)
        rc = ethd_conf_uint(c, "max_headers", 1, 1024, DEF_MAX_HEADERS, &s->max_headers);
    if (!rc)
        rc = ethd_conf_uint(c, "max_bodies", 1, 1024, DEF_MAX_BODIES, &s->max_bodies);
    if (!rc)
        rc = ethd_conf_uint(c, "max_receipts", 1, 1024, DEF_MAX_RECEIPTS, &s->max_receipts);
    if (!rc)
        rc = ethd_conf_uint(c, "max_proofs", 1, 1024, DEF_MAX_PROOFS, &s->max_proofs);
    if (!rc)
        rc = ethd_conf_uint(c, "max_txs", 1, 1024, DEF_MAX_TXS, &s->max_txs);
    if (!rc)
        rc = ethd_conf_size(c, "max_message_size", DEF_MAX_MSG, &s->max_msg);
    if (!rc && (s->max_msg < 1024 || s->max_msg > ((uint64_t)16 << 20)))
        rc = ethd_conf_fail(ethd_conf_get(c, "max_message_size"),
                            "services.les-server.max_message_size must be between 1KiB and 16MiB");
    if (!rc)
        rc = ethd_conf_size(c, "soft_response_limit", DEF_SOFT_LIMIT, &s->soft_limit);
    if (!rc && (s->soft_limit < 1024 || s->soft_limit > s->max_msg / 2))
        rc = ethd_conf_fail(ethd_conf_get(c, "soft_response_limit"),
                            "services.les-server.soft_response_limit must be between 1KiB and "
                            "half of max_message_size");
    if (!rc)
        rc = ethd_conf_duration(c, "status_timeout", DEF_STATUS_TIMEOUT_MS, &s->status_timeout_ms);
    if (!rc && s->status_timeout_ms == 0)
        rc = ethd_conf_fail(ethd_conf_get(c, "status_timeout"),
                            "services.les-server.status_timeout must not be 0");
    if (!rc)
        rc = ethd_conf_uint(c, "max_after_stop", 0, 1u << 20, DEF_MAX_AFTER_STOP,
                            &s->max_after_stop);
    if (!rc)
        rc = ethd_conf_uint(c, "serve_chain_since", 0, UINT64_MAX, 0, &s->serve_chain_since);
    if (!rc)
        rc = ethd_conf_uint(c, "serve_recent_chain", 0, UINT64_MAX, 0, &s->serve_recent_chain);
    if (!rc)
        rc = ethd_conf_uint(c, "max_version", 2, 4, 4, &s->max_version);
    if (!rc)
        rc = ethd_conf_uint(c, "cht_section_size", 1, 1u << 24, LES_CHT_SECTION_SIZE,
                            &s->cht_size);
    if (!rc)
        rc = ethd_conf_uint(c, "cht_confirmations", 0, 1u << 24, LES_CHT_CONFIRMATIONS,
                            &s->cht_confirmations);
    if (!rc)
        rc = ethd_conf_bool(c, "announce", true, &s->announce);
    if (rc)
        return rc;
    if (s->capacity == 0)
        s->capacity = s->max_clients * s->mrr;
    if (s->capacity < s->mrr)
        return ethd_conf_fail(ethd_conf_get(c, "capacity"),
                              "services.les-server.capacity must be at least min_recharge");
    memcpy(s->costs, default_costs, sizeof(default_costs));
    /* Every request allowed by the item caps must fit in an empty buffer,
     * or a client could never send it. */
    for (size_t i = 0; i < N_COSTS; i++) {
        uint64_t max = s->costs[i].code == LES_GET_BLOCK_HEADERS ? s->max_headers
                       : s->costs[i].code == LES_GET_BLOCK_BODIES ? s->max_bodies
                       : s->costs[i].code == LES_GET_RECEIPTS     ? s->max_receipts
                       : (s->costs[i].code == LES_SEND_TX_V2 || s->costs[i].code == LES_GET_TX_STATUS)
                           ? s->max_txs
                           : s->max_proofs;
        uint64_t cost = 0;
        ethd_les_fc_cost(s->costs, N_COSTS, s->costs[i].code, max, &cost);
        if (cost > s->bl)
            return ethd_conf_fail(ethd_conf_get(c, "buffer_limit"),
                                  "services.les-server.buffer_limit %llu is below the cost of "
                                  "the largest %s (%llu)",
                                  (unsigned long long)s->bl, ethd_les_msg_name(s->costs[i].code),
                                  (unsigned long long)cost);
    }
    return 0;
}

static int srv_create(struct ethd_service_ctx *ctx, void **self)
{
    struct les_srv *s = calloc(1, sizeof(*s));
    if (!s)
        return ETHD_ENOMEM;
    s->ctx = ctx;
    s->log = ethd_ctx_logger(ctx);
    s->loop = ethd_ctx_loop(ctx);
    s->store = ethd_ctx_store(ctx);
    int rc = read_config(s, ethd_ctx_config(ctx));
    if (!rc)
        rc = ethd_secp_new(&s->secp);
    if (rc) {
        ethd_secp_free(s->secp);
        free(s);
        return rc;
    }
    (void)find_chain(s);
    *self = s;
    return 0;
}

static int srv_protocols(void *self, const struct ethd_protocol **out, size_t *n)
{
    struct les_srv *s = self;
    *out = ethd_les_server_protocols;
    *n = (size_t)(s->max_version - 2 + 1);
    return 0;
}

static int srv_start(void *self, struct ethd_p2p_server *srv)
{
    struct les_srv *s = self;
    if (find_chain(s)) {
        ethd_ctx_set_error(s->ctx, "les-server needs a chain: set chain.genesis");
        return ETHD_ENOTFOUND;
    }
    if (s->store && ethd_store_cf(s->store, "les_cht", &s->cf) != 0)
        s->cf = NULL;
    s->p2p = srv;
    s->have_key = srv && ethd_les_load_node_key(s->secp, ethd_ctx_datadir(s->ctx),
                                                ethd_p2p_node_id(srv), s->node_key) == 0;
    int rc = ethd_bus_subscribe(ethd_ctx_bus(s->ctx), ETHD_CHAIN_TOPIC_HEAD, on_head, s,
                                &s->head_sub);
    if (rc) {
        ethd_ctx_set_error(s->ctx, "cannot subscribe to chain head events: %s",
                           ethd_strerror(rc));
        return rc;
    }
    s->subscribed = true;
    s->running = true;
    update_cht(s);
    struct ethd_chain_head hh;
    s->chain->head_header(s->chain_impl, &hh);
    ETHD_INFO(s->log, "les-server running",
              "versions=2-%llu head=%llu max_clients=%llu BL=%llu MRR=%llu cht_sections=%llu "
              "signed_announce=%s",
              (unsigned long long)s->max_version, (unsigned long long)hh.number,
              (unsigned long long)s->max_clients, (unsigned long long)s->bl,
              (unsigned long long)s->mrr, (unsigned long long)s->n_cht,
              s->have_key ? "yes" : "no (node key not readable)");
    return 0;
}

static int srv_stop(void *self)
{
    struct les_srv *s = self;
    s->running = false;
    if (s->subscribed) {
        ethd_bus_unsubscribe(ethd_ctx_bus(s->ctx), s->head_sub);
        s->subscribed = false;
    }
    for (struct les_peer *lp = s->peers; lp; lp = lp->next) {
        if (lp->resume_timer)
            evtimer_del(lp->resume_timer);
        if (lp->status_timer)
            evtimer_del(lp->status_timer);
    }
    s->p2p = NULL;
    return 0;
}

static void srv_destroy(void *self)
{
    struct les_srv *s = self;
    while (s->peers)
        peer_free(s->peers); /* only if the p2p server outlived us */
    if (s->subscribed)
        ethd_bus_unsubscribe(ethd_ctx_bus(s->ctx), s->head_sub);
    explicit_bzero(s->node_key, sizeof(s->node_key));
    ethd_secp_free(s->secp);
    free(s->cht_roots);
    free(s);
}

const struct ethd_service_ops ethd_les_server_service = {
    .struct_size = sizeof(struct ethd_service_ops),
    .name = "les-server",
    .create = srv_create,
    .protocols = srv_protocols,
    .apis = NULL,
    .start = srv_start,
    .stop = srv_stop,
    .destroy = srv_destroy,
};
