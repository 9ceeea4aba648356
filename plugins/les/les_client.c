/* les-client: the Light Ethereum Subprotocol, client side, les/2, les/3
 * and les/4 (devp2p caps/les.md).
 *
 * Service "les-client" (plugin "les"):
 *   p2p     descriptors les/2..4. Our Status carries no serve* or
 *           flowControl keys (a client's), announceType 1 (or 0); the
 *           server's must match genesis, network id, version and, on les/4,
 *           fork id, and must offer serveHeaders and flowControl/BL, MRR,
 *           MRC.
 *   flow    per server an estimate of its buffer for us (caps/les.md,
 *           "Client Side Flow Control": BLE). Each request costs MaxCost
 *           from the server's MRC table; a request is only sent when BLE
 *           covers it (else it waits in a FIFO queue until BLE has recharged
 *           at MRR), and a request whose cost exceeds BL is clamped to the
 *           item count that fits. Every reply's BV resets BLE (minus the
 *           costs of requests sent after it that are still in flight, which
 *           the server has not charged yet when it answered). StopMsg moves
 *           everything in flight back to the queue (the server drops what it
 *           receives while stopped); ResumeMsg sets BLE and sends again.
 *   iface   publishes "les-client/1" (struct ethd_eth_iface_v1) at create;
 *           calls the syncer's hooks ("syncer/2", else "syncer/1") when one
 *           is loaded; needs "chain/1".
 *   rpc     eth_ and net_ namespaces for light mode (les_rpc.c).
 *
 * Disconnect reasons:
 *   ProtocolError (0x02)     a message before Status, a second Status, a
 *                            malformed message, a request (we serve none),
 *                            a message over max_message_size;
 *   SubprotocolError (0x10)  a Status that does not match;
 *   UselessPeer (0x03)       a peer that does not serve headers or gives no
 *                            usable flow-control parameters;
 *   TooManyPeers (0x04)      more than max_servers;
 *   ReadTimeout (0x0b)       no Status within status_timeout. */
#include "les_client.h"

#include <ethd/hex.h>
#include <event2/event.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults (docs/les.md, "services.les-client"). */
#define DEF_MAX_SERVERS 8
#define DEF_MAX_MSG ((uint64_t)10 << 20)
#define DEF_STATUS_TIMEOUT_MS 5000
#define DEF_REQUEST_TIMEOUT_MS 10000
#define DEF_FETCH_TIMEOUT_MS 5000
#define DEF_MAX_INFLIGHT 8
#define DEF_MAX_QUEUED 1024
#define DEF_FETCH_ATTEMPTS 3
#define MAX_REQUEST_ITEMS 1024 /* les-client/1 bound, as eth/1 */
#define RETRY_MS 50            /* a send refused as busy is tried again after this */

static const struct ethd_protocol *descriptor_for(uint32_t version);

/* ---- requests ---- */

static void req_free(struct lc_req *r)
{
    if (r->timer)
        event_free(r->timer);
    free(r->hashes);
    free(r);
}

static void inflight_unlink(struct lc_req *r)
{
    struct lc_peer *lp = r->lp;
    for (struct lc_req **pp = &lp->inflight; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            r->next = NULL;
            lp->n_inflight--;
            return;
        }
    }
}

static void queue_unlink(struct lc_req *r)
{
    struct lc_peer *lp = r->lp;
    struct lc_req *prev = NULL;
    for (struct lc_req *x = lp->q_head; x; prev = x, x = x->next) {
        if (x != r)
            continue;
        if (prev)
            prev->next = r->next;
        else
            lp->q_head = r->next;
        if (lp->q_tail == r)
            lp->q_tail = prev;
        r->next = NULL;
        lp->n_queued--;
        return;
    }
}

/* Cost of a request by the server's table. A code the table lacks costs a
 * full buffer: sent only when the estimate is back at BL. */
static uint64_t cost_of(const struct lc_peer *lp, uint64_t code, uint64_t count)
{
    uint64_t cost;
    if (ethd_les_fc_cost(lp->mrc, lp->n_mrc, code, count, &cost))
        return lp->fc.bl;
    return cost;
}

/* The largest item count (<= want, >= 1) whose cost fits in BL. */
static uint64_t clamp_count(const struct lc_peer *lp, uint64_t code, uint64_t want)
{
    uint64_t n = want;
    if (cost_of(lp, code, n) <= lp->fc.bl)
        return n;
    for (size_t i = 0; i < lp->n_mrc; i++) {
        if (lp->mrc[i].code != code)
            continue;
        const struct ethd_les_cost *c = &lp->mrc[i];
        if (c->base >= lp->fc.bl || c->req == 0)
            return 1;
        n = (lp->fc.bl - c->base) / c->req;
        return n < 1 ? 1 : n > want ? want : n;
    }
    return 1;
}

static int encode_req(const struct lc_req *r, struct ethd_buf *msg)
{
    if (r->code == LES_GET_BLOCK_HEADERS)
        return ethd_les_get_headers_encode(r->wire_id, &r->q, msg);
    return ethd_les_hashes_encode(r->wire_id, (const uint8_t(*)[32])r->hashes, (size_t)r->count,
                                  msg);
}

static void on_req_timeout(evutil_socket_t fd, short what, void *arg);

/* Charge the estimate, send, track. 0, or the send's error with nothing
 * charged and r untouched (still owned by the caller). */
static int send_req(struct lc_peer *lp, struct lc_req *r, uint64_t now)
{
    struct les_cli *c = lp->cli;
    struct ethd_buf msg = ETHD_BUF_INIT;
    r->wire_id = c->next_id++;
    int rc = encode_req(r, &msg);
    if (!rc && !r->timer && !(r->timer = evtimer_new(c->loop, on_req_timeout, r)))
        rc = ETHD_ENOMEM;
    if (!rc)
        rc = ethd_peer_send(lp->peer, lp->proto, r->code, msg.data, msg.len, NULL, NULL);
    ethd_buf_free(&msg);
    if (rc)
        return rc;
    ethd_les_fc_charge(&lp->fc, now, r->cost); /* the caller checked it fits */
    struct timeval tv = {(time_t)(r->timeout_ms / 1000), (suseconds_t)(r->timeout_ms % 1000) * 1000};
    evtimer_add(r->timer, &tv);
    r->seq = ++lp->seq;
    r->sent_ms = now;
    r->next = lp->inflight;
    lp->inflight = r;
    lp->n_inflight++;
    lp->sent++;
    lp->cost_sent += r->cost;
    return 0;
}

static void on_send_timer(evutil_socket_t fd, short what, void *arg);

static void arm_send_timer(struct lc_peer *lp, uint64_t ms)
{
    if (!lp->send_timer && !(lp->send_timer = evtimer_new(lp->cli->loop, on_send_timer, lp)))
        return;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(lp->send_timer, &tv);
}

/* Send queued requests while the estimate covers them (FIFO: a large
 * request is not overtaken, so it cannot starve). */
static void pump(struct lc_peer *lp)
{
    if (!lp->active || lp->closing || lp->stopped)
        return;
    struct les_cli *c = lp->cli;
    while (lp->q_head && lp->n_inflight < c->max_inflight) {
        struct lc_req *r = lp->q_head;
        uint64_t now = ethd_les_now_ms();
        if (ethd_les_fc_value(&lp->fc, now) < r->cost) {
            uint64_t wait = ethd_les_fc_wait_ms(&lp->fc, now, r->cost);
            lp->waits++;
            /* cost <= BL (clamped) and MRR > 0 (checked at Status): finite. */
            arm_send_timer(lp, wait ? wait + 1 : 1);
            return;
        }
        queue_unlink(r);
        int rc = send_req(lp, r, now);
        if (rc == ETHD_EBUSY) {
            /* The peer's outbound queue is full: try again shortly. */
            r->next = lp->q_head;
            lp->q_head = r;
            if (!lp->q_tail)
                lp->q_tail = r;
            lp->n_queued++;
            arm_send_timer(lp, RETRY_MS);
            return;
        }
        if (rc) {
            r->fn(r->arg, lp->peer, ETHD_ECANCELED, NULL, 0);
            req_free(r);
        }
    }
}

static void on_send_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

static void on_req_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct lc_req *r = arg;
    struct lc_peer *lp = r->lp;
    (void)fd;
    (void)what;
    inflight_unlink(r);
    lp->timeouts++;
    ETHD_DEBUG(lp->cli->log, "les request timed out", "addr=%s msg=%s id=%llu",
               ethd_peer_remote_addr(lp->peer), ethd_les_msg_name(r->code),
               (unsigned long long)r->id);
    r->fn(r->arg, lp->peer, ETHD_ETIMEDOUT, NULL, 0);
    req_free(r);
    pump(lp);
}

/* Complete every request of lp (queued and in flight) with `status`. Each
 * is unlinked before its callback, which may add or cancel others. */
static void fail_all(struct lc_peer *lp, int status)
{
    for (;;) {
        struct lc_req *r = lp->inflight;
        if (r) {
            inflight_unlink(r);
        } else if ((r = lp->q_head)) {
            queue_unlink(r);
        } else {
            break;
        }
        r->fn(r->arg, lp->peer, status, NULL, 0);
        req_free(r);
    }
}

/* Validate, build and queue (or send) a request. */
static int submit(struct les_cli *c, struct ethd_peer *peer, uint64_t code,
                  const struct ethd_eth_headers_query *q, const uint8_t (*hashes)[32], size_t n,
                  uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg, uint64_t *id)
{
    struct lc_peer *lp = peer ? ethd_les_client_peer_of(peer) : NULL;
    if (!lp)
        return ETHD_ENOTFOUND;
    if (lp->closing || !c->running)
        return ETHD_ECLOSED;
    if (!fn)
        return ETHD_EINVAL;
    uint64_t want = q ? q->amount : n;
    if (want == 0 || want > MAX_REQUEST_ITEMS || (!q && !hashes))
        return ETHD_EINVAL;
    if (lp->n_queued >= c->max_queued)
        return ETHD_EBUSY;
    struct lc_req *r = calloc(1, sizeof(*r));
    if (!r)
        return ETHD_ENOMEM;
    r->cli = c;
    r->lp = lp;
    r->code = code;
    r->fn = fn;
    r->arg = arg;
    r->timeout_ms = timeout_ms ? timeout_ms : c->request_timeout_ms;
    r->count = clamp_count(lp, code, want);
    r->cost = cost_of(lp, code, r->count);
    if (q) {
        r->q = *q;
        r->q.amount = r->count;
    } else {
        r->hashes = malloc((size_t)r->count * 32);
        if (!r->hashes) {
            free(r);
            return ETHD_ENOMEM;
        }
        memcpy(r->hashes, hashes, (size_t)r->count * 32);
    }
    r->id = c->next_id++;
    uint64_t now = ethd_les_now_ms();
    if (!lp->q_head && !lp->stopped && lp->n_inflight < c->max_inflight &&
        ethd_les_fc_value(&lp->fc, now) >= r->cost) {
        int rc = send_req(lp, r, now);
        if (rc && rc != ETHD_EBUSY) {
            req_free(r);
            return rc;
        }
        if (!rc)
            goto done;
    }
    /* Wait for the buffer (or the server's ResumeMsg): the request's
     * timeout starts when it is sent. */
    if (lp->q_tail)
        lp->q_tail->next = r;
    else
        lp->q_head = r;
    lp->q_tail = r;
    lp->n_queued++;
    if (!lp->stopped) {
        /* pump() arms the timer for the recharge wait (or a busy retry). */
        if (lp->send_timer && evtimer_pending(lp->send_timer, NULL))
            goto done;
        arm_send_timer(lp, 0);
    }
done:
    if (id)
        *id = r->id;
    return 0;
}

/* A reply [reqID, BV, list]: settle the estimate and complete its request. */
static int deliver(struct lc_peer *lp, uint64_t code, const uint8_t *payload, size_t len)
{
    uint64_t wire_id, bv;
    struct ethd_rlp_item body;
    if (ethd_les_reply_decode(payload, len, &wire_id, &bv, &body) || !body.is_list)
        return ETHD_EPROTO;
    struct lc_req *r = lp->inflight;
    while (r && !(r->wire_id == wire_id && ethd_les_reply_code(r->code) == code))
        r = r->next;
    if (!r) {
        /* Late (after a timeout or a StopMsg resend) or never asked for. */
        ETHD_DEBUG(lp->cli->log, "unrequested les answer", "addr=%s msg=%s id=%llu",
                   ethd_peer_remote_addr(lp->peer), ethd_les_msg_name(code),
                   (unsigned long long)wire_id);
        return 0;
    }
    inflight_unlink(r);
    lp->replies++;
    lp->last_bv = bv;
    /* BLE = BV - costs of what the server received after this request (it
     * answers in order, so those are not in BV yet). */
    uint64_t later = 0;
    for (struct lc_req *x = lp->inflight; x; x = x->next)
        if (x->seq > r->seq)
            later += x->cost;
    uint64_t now = ethd_les_now_ms();
    ethd_les_fc_set(&lp->fc, bv > later ? bv - later : 0, now);
    r->fn(r->arg, lp->peer, 0, body.raw, body.raw_len);
    req_free(r);
    pump(lp);
    return 0;
}

/* StopMsg: the server dropped the request that ran it dry and drops all
 * it receives until ResumeMsg; what we have in flight goes back to the
 * front of the queue, oldest first, to be sent again with new ids. */
static void on_stop(struct lc_peer *lp)
{
    lp->stopped = true;
    lp->stops++;
    ETHD_INFO(lp->cli->log, "les server stopped us", "addr=%s inflight=%zu bv_estimate=%llu",
              ethd_peer_remote_addr(lp->peer), lp->n_inflight,
              (unsigned long long)ethd_les_fc_value(&lp->fc, ethd_les_now_ms()));
    while (lp->inflight) {
        /* pick the newest (highest seq) and push it to the front */
        struct lc_req *newest = lp->inflight;
        for (struct lc_req *x = lp->inflight; x; x = x->next)
            if (x->seq > newest->seq)
                newest = x;
        inflight_unlink(newest);
        evtimer_del(newest->timer);
        newest->next = lp->q_head;
        lp->q_head = newest;
        if (!lp->q_tail)
            lp->q_tail = newest;
        lp->n_queued++;
        lp->resent++;
    }
    if (lp->send_timer)
        evtimer_del(lp->send_timer);
}

static void on_resume(struct lc_peer *lp, uint64_t bv)
{
    lp->stopped = false;
    lp->resumes++;
    lp->last_bv = bv;
    ethd_les_fc_set(&lp->fc, bv, ethd_les_now_ms());
    ETHD_DEBUG(lp->cli->log, "les server resumed us", "addr=%s bv=%llu",
               ethd_peer_remote_addr(lp->peer), (unsigned long long)bv);
    pump(lp);
}

/* ---- heads ---- */

static struct lc_peer *best(struct les_cli *c)
{
    struct lc_peer *b = NULL;
    for (struct lc_peer *lp = c->peers; lp; lp = lp->next) {
        if (!lp->active || lp->closing)
            continue;
        int cmp = b ? memcmp(lp->head.td, b->head.td, 32) : 1;
        if (cmp > 0 || (cmp == 0 && lp->head.number > b->head.number))
            b = lp;
    }
    return b;
}

static int on_announce(struct lc_peer *lp, const uint8_t *payload, size_t len)
{
    struct les_cli *c = lp->cli;
    struct ethd_les_announce a;
    if (ethd_les_announce_decode(payload, len, &a))
        return ETHD_EPROTO;
    lp->announces++;
    /* caps/les.md: a head with lower total difficulty than the last one is
     * a breach only under announceType 2 rules; we just keep the better. */
    if (memcmp(a.td, lp->head.td, 32) < 0 ||
        (memcmp(a.td, lp->head.td, 32) == 0 && a.number <= lp->head.number))
        return 0;
    memcpy(lp->head.hash, a.hash, 32);
    memcpy(lp->head.td, a.td, 32);
    lp->head.number = a.number;
    ETHD_DEBUG(c->log, "les announce", "addr=%s number=%llu reorg=%llu",
               ethd_peer_remote_addr(lp->peer), (unsigned long long)a.number,
               (unsigned long long)a.reorg_depth);
    if (c->syncer && c->syncer->peer_head)
        c->syncer->peer_head(c->syncer_impl, lp->peer, &lp->head);
    return 0;
}

/* ---- Status ---- */

static void fill_status(struct les_cli *c, uint32_t version, struct ethd_les_status *st)
{
    struct ethd_chain_head hh;
    memset(st, 0, sizeof(*st));
    c->chain->head_header(c->chain_impl, &hh);
    st->version = version;
    st->network_id = c->chain->network_id(c->chain_impl);
    memcpy(st->head_td, hh.td, 32);
    memcpy(st->head_hash, hh.hash, 32);
    st->head_num = hh.number;
    c->chain->genesis_hash(c->chain_impl, st->genesis);
    if (version >= 4) {
        st->has_forkid = true;
        c->chain->fork_id(c->chain_impl, &st->forkid);
    }
    st->has_announce_type = true;
    st->announce_type = c->announce ? LES_ANNOUNCE_SIMPLE : LES_ANNOUNCE_NONE;
}

static int mismatch(struct lc_peer *lp, int rc, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int mismatch(struct lc_peer *lp, int rc, const char *what, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    ETHD_INFO(lp->cli->log, "les server rejected", "addr=%s reason=\"%s\" %s",
              ethd_peer_remote_addr(lp->peer), what, detail);
    if (rc == ETHD_ENOTSUP) {
        /* Not a protocol breach, just of no use to a light client. */
        ethd_peer_disconnect(lp->peer, ETHD_DISC_USELESS_PEER);
        return 0;
    }
    return rc;
}

static int handle_status(struct lc_peer *lp, const uint8_t *payload, size_t len)
{
    struct les_cli *c = lp->cli;
    struct ethd_les_status st;
    if (ethd_les_status_decode(lp->version, payload, len, &st)) {
        ETHD_DEBUG(c->log, "malformed les status", "addr=%s len=%zu",
                   ethd_peer_remote_addr(lp->peer), len);
        return ETHD_EPROTO;
    }
    if (st.version != lp->version)
        return mismatch(lp, ETHD_EINVAL, "protocol version mismatch", "theirs=%llu ours=%u",
                        (unsigned long long)st.version, lp->version);
    uint64_t nid = c->chain->network_id(c->chain_impl);
    if (st.network_id != nid)
        return mismatch(lp, ETHD_EINVAL, "network id mismatch", "theirs=%llu ours=%llu",
                        (unsigned long long)st.network_id, (unsigned long long)nid);
    uint8_t genesis[32];
    c->chain->genesis_hash(c->chain_impl, genesis);
    if (memcmp(genesis, st.genesis, 32) != 0) {
        char a[67], b[67];
        ethd_hex_encode(st.genesis, 32, a);
        ethd_hex_encode(genesis, 32, b);
        return mismatch(lp, ETHD_EINVAL, "genesis mismatch", "theirs=%s ours=%s", a, b);
    }
    if (lp->version >= 4) {
        int verdict = c->chain->validate_fork_id(c->chain_impl, &st.forkid);
        if (verdict != ETHD_FORKID_ACCEPT)
            return mismatch(lp, ETHD_EINVAL, "fork id rejected",
                            "hash=%02x%02x%02x%02x next=%llu", st.forkid.hash[0],
                            st.forkid.hash[1], st.forkid.hash[2], st.forkid.hash[3],
                            (unsigned long long)st.forkid.next);
    }
    if (!st.serve_headers)
        return mismatch(lp, ETHD_ENOTSUP, "does not serve headers", "serveHeaders=absent");
    if (!st.has_bl || !st.has_mrr || !st.has_mrc || st.bl == 0 || st.mrr == 0)
        return mismatch(lp, ETHD_ENOTSUP, "no usable flow control", "BL=%llu MRR=%llu MRC=%s",
                        (unsigned long long)st.bl, (unsigned long long)st.mrr,
                        st.has_mrc ? "yes" : "no");
    if (lp->status_timer) {
        event_free(lp->status_timer);
        lp->status_timer = NULL;
    }
    lp->announce_type = st.has_announce_type ? st.announce_type : LES_ANNOUNCE_SIMPLE;
    lp->serve_chain_since = st.has_serve_chain_since ? st.serve_chain_since : 0;
    lp->has_recent_chain = st.has_serve_recent_chain;
    lp->serve_recent_chain = st.serve_recent_chain;
    memcpy(lp->mrc, st.mrc, sizeof(st.mrc));
    lp->n_mrc = st.n_mrc;
    /* caps/les.md: the buffer starts at BL when the handshake completes. */
    ethd_les_fc_init(&lp->fc, st.bl, st.mrr, ethd_les_now_ms());
    lp->last_bv = st.bl;
    lp->head.version = lp->version;
    memcpy(lp->head.hash, st.head_hash, 32);
    lp->head.number = st.head_num;
    lp->head.has_td = true;
    memcpy(lp->head.td, st.head_td, 32);
    lp->head.earliest = lp->serve_chain_since;
    lp->active = true;
    c->n_active++;
    ETHD_INFO(c->log, "les server connected",
              "addr=%s version=%u head=%llu BL=%llu MRR=%llu costs=%zu servers=%zu",
              ethd_peer_remote_addr(lp->peer), lp->version, (unsigned long long)st.head_num,
              (unsigned long long)st.bl, (unsigned long long)st.mrr, st.n_mrc, c->n_active);
    if (c->syncer && c->syncer->new_peer)
        c->syncer->new_peer(c->syncer_impl, lp->peer, &lp->head);
    return 0;
}

static void on_status_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct lc_peer *lp = arg;
    (void)fd;
    (void)what;
    ETHD_DEBUG(lp->cli->log, "no les status", "addr=%s", ethd_peer_remote_addr(lp->peer));
    ethd_peer_disconnect(lp->peer, ETHD_DISC_TIMEOUT);
}

/* ---- protocol callbacks ---- */

static void peer_free(struct lc_peer *lp)
{
    struct les_cli *c = lp->cli;
    lp->closing = true;
    if (lp->status_timer) {
        event_free(lp->status_timer);
        lp->status_timer = NULL;
    }
    if (lp->send_timer) {
        event_free(lp->send_timer);
        lp->send_timer = NULL;
    }
    fail_all(lp, ETHD_ECANCELED);
    if (lp->active) {
        lp->active = false;
        c->n_active--;
        if (c->syncer && c->syncer->peer_gone)
            c->syncer->peer_gone(c->syncer_impl, lp->peer);
    }
    ethd_peer_set_data(lp->peer, lp->proto, NULL);
    if (lp->prev)
        lp->prev->next = lp->next;
    else
        c->peers = lp->next;
    if (lp->next)
        lp->next->prev = lp->prev;
    free(lp);
}

static size_t n_peers(const struct les_cli *c)
{
    size_t n = 0;
    for (const struct lc_peer *lp = c->peers; lp; lp = lp->next)
        n++;
    return n;
}

static int proto_connect(void *self, struct ethd_peer *peer)
{
    struct les_cli *c = self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    if (!proto || !c->running || !c->chain)
        return ETHD_ESTATE;
    if (n_peers(c) >= c->max_servers) {
        ETHD_INFO(c->log, "les server refused", "addr=%s servers=%zu max=%llu",
                  ethd_peer_remote_addr(peer), n_peers(c), (unsigned long long)c->max_servers);
        ethd_peer_disconnect(peer, ETHD_DISC_TOO_MANY_PEERS);
        return 0;
    }
    struct lc_peer *lp = calloc(1, sizeof(*lp));
    if (!lp)
        return ETHD_ENOMEM;
    lp->cli = c;
    lp->peer = peer;
    lp->proto = proto;
    lp->version = proto->version;
    lp->head.number = ETHD_SYNC_NUMBER_UNKNOWN;
    lp->next = c->peers;
    if (c->peers)
        c->peers->prev = lp;
    c->peers = lp;
    ethd_peer_set_data(peer, proto, lp);
    struct ethd_les_status st;
    struct ethd_buf b = ETHD_BUF_INIT;
    fill_status(c, lp->version, &st);
    int rc = ethd_les_status_encode(&st, &b);
    if (!rc)
        rc = ethd_peer_send(peer, proto, LES_STATUS, b.data, b.len, NULL, NULL);
    ethd_buf_free(&b);
    if (!rc) {
        lp->status_timer = evtimer_new(c->loop, on_status_timeout, lp);
        lp->send_timer = evtimer_new(c->loop, on_send_timer, lp);
        struct timeval tv = {(time_t)(c->status_timeout_ms / 1000),
                             (suseconds_t)(c->status_timeout_ms % 1000) * 1000};
        if (!lp->status_timer || !lp->send_timer || evtimer_add(lp->status_timer, &tv))
            rc = ETHD_ENOMEM;
    }
    if (rc) {
        peer_free(lp); /* no on_disconnect follows a failed on_connect */
        return rc;
    }
    return 0;
}

static int handle_message(struct lc_peer *lp, uint64_t code, const uint8_t *payload, size_t len)
{
    switch (code) {
    case LES_STATUS:
        return ETHD_EPROTO; /* a second Status */
    case LES_ANNOUNCE:
        return on_announce(lp, payload, len);
    case LES_BLOCK_HEADERS:
    case LES_BLOCK_BODIES:
    case LES_RECEIPTS:
        return deliver(lp, code, payload, len);
    case LES_PROOFS_V2:
    case LES_CONTRACT_CODES:
    case LES_HELPER_TRIE_PROOFS:
    case LES_TX_STATUS: {
        /* Replies to requests this client never sends: form-checked, and
         * their BV is of no use without a matching request. */
        uint64_t id, bv;
        struct ethd_rlp_item body;
        return ethd_les_reply_decode(payload, len, &id, &bv, &body) ? ETHD_EPROTO : 0;
    }
    case LES_STOP:
        if (lp->version < 3 || ethd_les_stop_decode(payload, len))
            return ETHD_EPROTO;
        on_stop(lp);
        return 0;
    case LES_RESUME: {
        uint64_t bv;
        if (lp->version < 3 || ethd_les_resume_decode(payload, len, &bv))
            return ETHD_EPROTO;
        on_resume(lp, bv);
        return 0;
    }
    default:
        /* Requests (a light client serves nothing) and les/1 messages. */
        return ETHD_EPROTO;
    }
}

static int proto_message(void *self, struct ethd_peer *peer, uint64_t code,
                         const uint8_t *payload, size_t len)
{
    struct les_cli *c = self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    struct lc_peer *lp = proto ? ethd_peer_get_data(peer, proto) : NULL;
    if (!lp)
        return ETHD_ESTATE;
    if (len > c->max_msg) {
        ETHD_DEBUG(c->log, "les message too large", "addr=%s msg=%s len=%zu",
                   ethd_peer_remote_addr(peer), ethd_les_msg_name(code), len);
        return ETHD_EPROTO;
    }
    int rc;
    if (!lp->active) {
        if (code != LES_STATUS) {
            ETHD_DEBUG(c->log, "les message before status", "addr=%s msg=%s",
                       ethd_peer_remote_addr(peer), ethd_les_msg_name(code));
            return ETHD_EPROTO;
        }
        rc = handle_status(lp, payload, len);
    } else {
        rc = handle_message(lp, code, payload, len);
    }
    if (rc)
        ETHD_DEBUG(c->log, "dropping les server", "addr=%s msg=%s(0x%02llx) len=%zu error=\"%s\"",
                   ethd_peer_remote_addr(peer), ethd_les_msg_name(code), (unsigned long long)code,
                   len, ethd_strerror(rc));
    return rc;
}

static void proto_disconnect(void *self, struct ethd_peer *peer, int reason)
{
    struct les_cli *c = self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    struct lc_peer *lp = proto ? ethd_peer_get_data(peer, proto) : NULL;
    if (!lp)
        return;
    ETHD_INFO(c->log, "les server gone", "addr=%s reason=\"%s\" servers=%zu",
              ethd_peer_remote_addr(peer), ethd_disc_reason_str(reason),
              c->n_active - (lp->active ? 1 : 0));
    peer_free(lp);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 3];
    ethd_hex_encode(p, n, buf);
    return json_string(buf);
}

static json_t *td_json(const uint8_t td[32])
{
    char b[70];
    ethd_hex_quantity_u256(td, b);
    return json_string(b);
}

/* admin_nodeInfo protocols.les (client side). */
static json_t *proto_node_info(void *self)
{
    struct les_cli *c = self;
    if (!c->chain)
        return NULL;
    struct ethd_chain_head hh;
    uint8_t genesis[32];
    c->chain->head_header(c->chain_impl, &hh);
    c->chain->genesis_hash(c->chain_impl, genesis);
    return json_pack("{s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:I}", "role", "client", "network",
                     (json_int_t)c->chain->network_id(c->chain_impl), "genesis",
                     hex_json(genesis, 32), "head", hex_json(hh.hash, 32), "headNumber",
                     (json_int_t)hh.number, "servers", (json_int_t)c->n_active, "fetches",
                     (json_int_t)c->fetches, "fetchFailures", (json_int_t)c->fetch_failures);
}

/* admin_peers protocols.les: the server's parameters and our flow-control
 * state towards it. */
static json_t *proto_peer_info(void *self, struct ethd_peer *peer)
{
    struct les_cli *c = self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    struct lc_peer *lp = proto ? ethd_peer_get_data(peer, proto) : NULL;
    if (!lp)
        return NULL;
    if (!lp->active)
        return json_pack("{s:i, s:s}", "version", (int)lp->version, "status", "handshake");
    uint64_t now = ethd_les_now_ms();
    uint64_t ble = ethd_les_fc_value(&lp->fc, now);
    json_t *mrc = json_array();
    for (size_t i = 0; i < lp->n_mrc; i++)
        json_array_append_new(mrc, json_pack("{s:s, s:I, s:I}", "msg",
                                             ethd_les_msg_name(lp->mrc[i].code), "baseCost",
                                             (json_int_t)lp->mrc[i].base, "reqCost",
                                             (json_int_t)lp->mrc[i].req));
    json_t *fc = json_pack(
        "{s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
        "bufferLimit", (json_int_t)lp->fc.bl, "minRecharge", (json_int_t)lp->fc.mrr,
        "bufferEstimate", (json_int_t)ble, "lastBufferValue", (json_int_t)lp->last_bv, "stopped",
        lp->stopped, "stops", (json_int_t)lp->stops, "resumes", (json_int_t)lp->resumes,
        "requests", (json_int_t)lp->sent, "replies", (json_int_t)lp->replies, "timeouts",
        (json_int_t)lp->timeouts, "costSent", (json_int_t)lp->cost_sent, "waits",
        (json_int_t)lp->waits, "inflight", (json_int_t)lp->n_inflight, "queued",
        (json_int_t)lp->n_queued, "MRC", mrc);
    json_t *o = json_pack("{s:i, s:s, s:I, s:o, s:I, s:o, s:I, s:o}", "version",
                          (int)lp->version, "role", "server", "announceType",
                          (json_int_t)lp->announce_type, "head", hex_json(lp->head.hash, 32),
                          "headNumber", (json_int_t)lp->head.number, "td", td_json(lp->head.td),
                          "serveChainSince", (json_int_t)lp->serve_chain_since, "flowControl", fc);
    if (lp->has_recent_chain)
        json_object_set_new(o, "serveRecentChain", json_integer((json_int_t)lp->serve_recent_chain));
    if (c->syncer2 && c->syncer2->peer_info) {
        json_t *s = c->syncer2->peer_info(c->syncer_impl, peer);
        if (s)
            json_object_set_new(o, "sync", s);
    }
    return o;
}

static const struct ethd_protocol client_protocols[3] = {
    {"les", 2, LES_LENGTH_2, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
    {"les", 3, LES_LENGTH_3, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
    {"les", 4, LES_LENGTH_3, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
};

static const struct ethd_protocol *descriptor_for(uint32_t version)
{
    for (size_t i = 0; i < 3; i++)
        if (client_protocols[i].version == version)
            return &client_protocols[i];
    return NULL;
}

struct lc_peer *ethd_les_client_peer_of(struct ethd_peer *peer)
{
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "les"));
    struct lc_peer *lp = proto ? ethd_peer_get_data(peer, proto) : NULL;
    return lp && lp->active ? lp : NULL;
}

/* ---- les-client/1 ---- */

static size_t if_peer_count(void *impl)
{
    return ((struct les_cli *)impl)->n_active;
}

static void if_each_peer(void *impl, ethd_eth_peer_fn fn, void *arg)
{
    struct les_cli *c = impl;
    struct lc_peer *lp = c->peers;
    while (lp) {
        struct lc_peer *next = lp->next; /* records are only freed from on_disconnect */
        if (lp->active && !lp->closing)
            fn(lp->peer, &lp->head, arg);
        lp = next;
    }
}

static int if_peer_head(void *impl, struct ethd_peer *peer, struct ethd_sync_head *out)
{
    (void)impl;
    struct lc_peer *lp = peer ? ethd_les_client_peer_of(peer) : NULL;
    if (!lp)
        return ETHD_ENOTFOUND;
    *out = lp->head;
    return 0;
}

static struct ethd_peer *if_best_peer(void *impl)
{
    struct lc_peer *lp = best(impl);
    return lp ? lp->peer : NULL;
}

static int if_request_headers(void *impl, struct ethd_peer *peer,
                              const struct ethd_eth_headers_query *q, uint64_t timeout_ms,
                              ethd_eth_reply_fn fn, void *arg, uint64_t *id)
{
    if (!q)
        return ETHD_EINVAL;
    return submit(impl, peer, LES_GET_BLOCK_HEADERS, q, NULL, 0, timeout_ms, fn, arg, id);
}

static int if_request_bodies(void *impl, struct ethd_peer *peer, const uint8_t (*hashes)[32],
                             size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                             uint64_t *id)
{
    return submit(impl, peer, LES_GET_BLOCK_BODIES, NULL, hashes, n, timeout_ms, fn, arg, id);
}

static int if_request_receipts(void *impl, struct ethd_peer *peer, const uint8_t (*hashes)[32],
                               size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                               uint64_t *id)
{
    return submit(impl, peer, LES_GET_RECEIPTS, NULL, hashes, n, timeout_ms, fn, arg, id);
}

static void if_cancel(void *impl, uint64_t id)
{
    struct les_cli *c = impl;
    for (struct lc_peer *lp = c->peers; lp; lp = lp->next) {
        for (struct lc_req *r = lp->inflight; r; r = r->next) {
            if (r->id == id) {
                inflight_unlink(r);
                r->fn(r->arg, lp->peer, ETHD_ECANCELED, NULL, 0);
                req_free(r);
                return;
            }
        }
        for (struct lc_req *r = lp->q_head; r; r = r->next) {
            if (r->id == id) {
                queue_unlink(r);
                r->fn(r->arg, lp->peer, ETHD_ECANCELED, NULL, 0);
                req_free(r);
                return;
            }
        }
    }
}

static void if_drop_peer(void *impl, struct ethd_peer *peer, int reason)
{
    struct les_cli *c = impl;
    if (!peer)
        return;
    ETHD_INFO(c->log, "dropping les server", "addr=%s reason=%s (asked by the syncer)",
              ethd_peer_remote_addr(peer), ethd_disc_reason_str(reason));
    ethd_peer_disconnect(peer, reason);
}

static void if_set_progress(void *impl, const struct ethd_sync_progress *p)
{
    struct les_cli *c = impl;
    c->syncing = p != NULL;
    if (p)
        c->progress = *p;
}

const struct ethd_eth_iface_v1 ethd_les_client_iface = {
    .peer_count = if_peer_count,
    .each_peer = if_each_peer,
    .peer_head = if_peer_head,
    .best_peer = if_best_peer,
    .request_headers = if_request_headers,
    .request_bodies = if_request_bodies,
    .request_receipts = if_request_receipts,
    .cancel = if_cancel,
    .drop_peer = if_drop_peer,
    .set_progress = if_set_progress,
};

/* ---- service ---- */

static int read_config(struct les_cli *c, const struct ethd_conf *cf)
{
    int rc = ethd_conf_uint(cf, "max_version", 2, 4, 4, &c->max_version);
    if (!rc)
        rc = ethd_conf_uint(cf, "max_servers", 1, 1024, DEF_MAX_SERVERS, &c->max_servers);
    if (!rc)
        rc = ethd_conf_size(cf, "max_message_size", DEF_MAX_MSG, &c->max_msg);
    if (!rc && (c->max_msg < 1024 || c->max_msg > ((uint64_t)16 << 20)))
        rc = ethd_conf_fail(ethd_conf_get(cf, "max_message_size"),
                            "services.les-client.max_message_size must be between 1KiB and 16MiB");
    if (!rc)
        rc = ethd_conf_duration(cf, "status_timeout", DEF_STATUS_TIMEOUT_MS,
                                &c->status_timeout_ms);
    if (!rc && c->status_timeout_ms == 0)
        rc = ethd_conf_fail(ethd_conf_get(cf, "status_timeout"),
                            "services.les-client.status_timeout must not be 0");
    if (!rc)
        rc = ethd_conf_duration(cf, "request_timeout", DEF_REQUEST_TIMEOUT_MS,
                                &c->request_timeout_ms);
    if (!rc && c->request_timeout_ms == 0)
        rc = ethd_conf_fail(ethd_conf_get(cf, "request_timeout"),
                            "services.les-client.request_timeout must not be 0");
    if (!rc)
        rc = ethd_conf_duration(cf, "fetch_timeout", DEF_FETCH_TIMEOUT_MS, &c->fetch_timeout_ms);
    if (!rc && c->fetch_timeout_ms == 0)
        rc = ethd_conf_fail(ethd_conf_get(cf, "fetch_timeout"),
                            "services.les-client.fetch_timeout must not be 0");
    if (!rc)
        rc = ethd_conf_uint(cf, "fetch_attempts", 1, 64, DEF_FETCH_ATTEMPTS, &c->fetch_attempts);
    if (!rc)
        rc = ethd_conf_uint(cf, "max_inflight", 1, 256, DEF_MAX_INFLIGHT, &c->max_inflight);
    if (!rc)
        rc = ethd_conf_uint(cf, "max_queued", 1, 65536, DEF_MAX_QUEUED, &c->max_queued);
    if (!rc)
        rc = ethd_conf_bool(cf, "announce", true, &c->announce);
    return rc;
}

static int find_chain(struct les_cli *c)
{
    if (c->chain)
        return 0;
    const void *iface = NULL;
    void *impl = NULL;
    int rc = ethd_ctx_lookup(c->ctx, ETHD_CHAIN_IFACE_V1, &iface, &impl);
    if (rc)
        return rc;
    c->chain = iface;
    c->chain_impl = impl;
    return 0;
}

static int cli_create(struct ethd_service_ctx *ctx, void **self)
{
    struct les_cli *c = calloc(1, sizeof(*c));
    if (!c)
        return ETHD_ENOMEM;
    c->ctx = ctx;
    c->log = ethd_ctx_logger(ctx);
    c->loop = ethd_ctx_loop(ctx);
    c->next_id = 1;
    int rc = read_config(c, ethd_ctx_config(ctx));
    if (!rc)
        rc = ethd_secp_new(&c->secp);
    if (!rc)
        rc = ethd_ctx_publish(ctx, ETHD_LES_CLIENT_IFACE_V1, &ethd_les_client_iface, c);
    if (rc) {
        ethd_secp_free(c->secp);
        free(c);
        return rc;
    }
    memcpy(c->apis, ethd_les_client_apis, sizeof(c->apis));
    (void)find_chain(c);
    ethd_ctx_set_error(ctx, "%s", "");
    *self = c;
    return 0;
}

static int cli_protocols(void *self, const struct ethd_protocol **out, size_t *n)
{
    struct les_cli *c = self;
    *out = client_protocols;
    *n = (size_t)(c->max_version - 2 + 1);
    return 0;
}

static int cli_apis(void *self, const struct ethd_api **out, size_t *n)
{
    struct les_cli *c = self;
    *out = c->apis;
    *n = sizeof(c->apis) / sizeof(*c->apis);
    return 0;
}

static int cli_start(void *self, struct ethd_p2p_server *srv)
{
    struct les_cli *c = self;
    if (find_chain(c)) {
        ethd_ctx_set_error(c->ctx, "les-client needs a chain: set chain.genesis");
        return ETHD_ENOTFOUND;
    }
    const void *iface = NULL;
    void *impl = NULL;
    if (ethd_ctx_lookup(c->ctx, ETHD_SYNCER_IFACE_V2, &iface, &impl) == 0) {
        c->syncer2 = iface;
        c->syncer = &c->syncer2->v1;
        c->syncer_impl = impl;
    } else if (ethd_ctx_lookup(c->ctx, ETHD_SYNCER_IFACE_V1, &iface, &impl) == 0) {
        c->syncer = iface;
        c->syncer_impl = impl;
    }
    ethd_ctx_set_error(c->ctx, "%s", ""); /* a missing syncer is not an error */
    c->p2p = srv;
    c->running = true;
    struct ethd_chain_head hh;
    c->chain->head_header(c->chain_impl, &hh);
    ETHD_INFO(c->log, "les-client running", "versions=2-%llu head=%llu syncer=%s max_servers=%llu",
              (unsigned long long)c->max_version, (unsigned long long)hh.number,
              c->syncer2 ? "syncer/2" : c->syncer ? "syncer/1" : "none",
              (unsigned long long)c->max_servers);
    if (!srv)
        ETHD_WARN(c->log, "les-client without p2p", "reason=\"p2p.enabled is false: no servers\"");
    return 0;
}

static int cli_stop(void *self)
{
    struct les_cli *c = self;
    c->running = false;
    for (struct lc_peer *lp = c->peers; lp; lp = lp->next) {
        fail_all(lp, ETHD_ECANCELED);
        if (lp->status_timer)
            evtimer_del(lp->status_timer);
        if (lp->send_timer)
            evtimer_del(lp->send_timer);
    }
    c->p2p = NULL;
    return 0;
}

static void cli_destroy(void *self)
{
    struct les_cli *c = self;
    c->syncer = NULL; /* the syncer may already be gone */
    c->syncer2 = NULL;
    while (c->peers)
        peer_free(c->peers); /* only if the p2p server outlived us */
    ethd_secp_free(c->secp);
    free(c);
}

const struct ethd_service_ops ethd_les_client_service = {
    .struct_size = sizeof(struct ethd_service_ops),
    .name = "les-client",
    .create = cli_create,
    .protocols = cli_protocols,
    .apis = cli_apis,
    .start = cli_start,
    .stop = cli_stop,
    .destroy = cli_destroy,
};
