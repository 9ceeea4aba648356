/* A peer: one RLPx connection running the `p2p` base protocol (devp2p
 * rlpx.md, "p2p Capability") and dispatching the rest to the services'
 * protocols. See peer.h for the states and who calls what.
 *
 * Threads: everything here runs on the loop thread except the functions of
 * <ethd/p2p.h> documented as thread-safe (send, disconnect, ref/unref and the
 * accessors). Those only touch fields guarded by p->mu and wake the loop with
 * event_active() on p->wake_ev; the loop frames the queued messages. */
#include "p2p/peer.h"

#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/log.h>
#include <ethd/rlp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* p2p message ids (rlpx.md, "p2p Capability") */
enum { MSG_HELLO = 0x00, MSG_DISCONNECT = 0x01, MSG_PING = 0x02, MSG_PONG = 0x03 };

#define HS_WIRE_MAX (ETHD_RLPX_HANDSHAKE_MAX + 2) /* size prefix included */
#define FRAME_HEAD 32                             /* header + header-mac */

struct peer_msg {
    struct peer_msg *next;
    uint64_t code;     /* wire message id */
    uint8_t *data;     /* payload as framed (compressed when snappy is on); NULL once framed */
    size_t len;
    uint64_t end;      /* once framed: out_total at the end of its frame */
    ethd_peer_sent_fn sent;
    void *arg;
};

struct peer_watch {
    struct peer_watch *next;
    uint64_t id;
    ethd_peer_closed_fn fn;
    void *arg;
};

static void begin_close(struct ethd_peer *p, int reason, bool send);
static void schedule_timer(struct ethd_peer *p);

/* ---- small helpers ---- */

uint64_t ethd_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void lock(const struct ethd_peer *p)
{
    pthread_mutex_lock((pthread_mutex_t *)&p->mu);
}

static void unlock(const struct ethd_peer *p)
{
    pthread_mutex_unlock((pthread_mutex_t *)&p->mu);
}

static void set_state(struct ethd_peer *p, enum ethd_peer_state s)
{
    lock(p);
    p->state = s;
    unlock(p);
}

/* First 8 bytes of the node id, for logs. */
static const char *short_id(const struct ethd_peer *p, char buf[17])
{
    ethd_hex_encode_bare(p->id, 8, buf);
    return buf;
}

static void addr_str(const struct sockaddr *sa, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
        snprintf(out, len, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
        snprintf(out, len, "[%s]:%u", ip, port);
    } else {
        snprintf(out, len, "?");
    }
}

static void sock_addrs(struct ethd_peer *p, evutil_socket_t fd, bool remote_too)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        addr_str((struct sockaddr *)&ss, p->local_addr, sizeof(p->local_addr));
    sl = sizeof(ss);
    if (remote_too && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        addr_str((struct sockaddr *)&ss, p->remote_addr, sizeof(p->remote_addr));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* small p2p messages */
}

/* Largest frame a message of max_msg bytes can need: snappy may expand
 * incompressible data by n/6 + 32, plus the RLP of the message id. */
static size_t frame_limit(size_t max_msg)
{
    uint64_t f = (uint64_t)max_msg + max_msg / 6 + 64;
    return f > ETHD_RLPX_FRAME_MAX ? ETHD_RLPX_FRAME_MAX : (size_t)f;
}

const char *ethd_disc_reason_str(int reason)
{
    switch (reason) {
    case ETHD_DISC_REQUESTED: return "disconnect requested";
    case ETHD_DISC_NETWORK_ERROR: return "network error";
    case ETHD_DISC_PROTOCOL_ERROR: return "breach of protocol";
    case ETHD_DISC_USELESS_PEER: return "useless peer";
    case ETHD_DISC_TOO_MANY_PEERS: return "too many peers";
    case ETHD_DISC_ALREADY_CONNECTED: return "already connected";
    case ETHD_DISC_INCOMPATIBLE_VERSION: return "incompatible p2p protocol version";
    case ETHD_DISC_INVALID_IDENTITY: return "invalid node identity";
    case ETHD_DISC_QUITTING: return "client quitting";
    case ETHD_DISC_UNEXPECTED_IDENTITY: return "unexpected identity";
    case ETHD_DISC_SELF: return "connected to self";
    case ETHD_DISC_TIMEOUT: return "ping timeout";
    case ETHD_DISC_SUBPROTOCOL: return "subprotocol error";
    default: return "unknown reason";
    }
}

/* ---- creation and teardown ---- */

static void on_wake(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_close(evutil_socket_t fd, short what, void *arg);

static struct ethd_peer *peer_alloc(const struct ethd_peer_env *env, bool inbound)
{
    struct ethd_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->refs = 1;
    pthread_mutex_init(&p->mu, NULL);
    p->env = env;
    p->inbound = inbound;
    p->disc_req = -1;
    p->reason = -1;
    p->max_msg = env->max_msg;
    p->max_frame = frame_limit(env->max_msg);
    p->start_ms = ethd_monotonic_ms();
    snprintf(p->remote_addr, sizeof(p->remote_addr), "?");
    snprintf(p->local_addr, sizeof(p->local_addr), "?");
    p->wake_ev = event_new(env->base, -1, 0, on_wake, p);
    p->timer_ev = evtimer_new(env->base, on_timer, p);
    p->close_ev = event_new(env->base, -1, 0, on_close, p);
    if (!p->wake_ev || !p->timer_ev || !p->close_ev) {
        ethd_peer_unref(p);
        return NULL;
    }
    return p;
}

static void free_msgs(struct peer_msg *m)
{
    while (m) {
        struct peer_msg *n = m->next;
        free(m->data);
        free(m);
        m = n;
    }
}

static void free_transport(struct ethd_peer *p)
{
    if (p->bev) {
        /* libevent closes the socket from a finalizer on the loop; send our
         * FIN now so the other side sees the end of the stream at once. */
        evutil_socket_t fd = bufferevent_getfd(p->bev);
        if (fd >= 0)
            shutdown(fd, SHUT_WR);
        if (p->out_cb)
            evbuffer_remove_cb_entry(bufferevent_get_output(p->bev), p->out_cb);
        p->out_cb = NULL;
        bufferevent_free(p->bev); /* closes the socket */
        p->bev = NULL;
    }
    struct event **evs[] = {&p->wake_ev, &p->timer_ev, &p->close_ev};
    for (size_t i = 0; i < sizeof(evs) / sizeof(*evs); i++) {
        if (*evs[i])
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
    if (p->hs_live)
        ethd_rlpx_hs_free(&p->hs);
    p->hs_live = false;
    ethd_rlpx_frame_free(p->frame);
    p->frame = NULL;
}

static void peer_free(struct ethd_peer *p)
{
    free_transport(p);
    free_msgs(p->q_head);
    free_msgs(p->f_head);
    while (p->watches) {
        struct peer_watch *w = p->watches;
        p->watches = w->next;
        free(w);
    }
    for (size_t i = 0; i < p->n_remote_caps; i++)
        free(p->remote_caps[i]);
    free(p->remote_caps);
    free(p->caps);
    free(p->client_id);
    ethd_buf_free(&p->scratch);
    ethd_buf_free(&p->zin);
    ethd_buf_free(&p->zout);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void ethd_peer_ref(struct ethd_peer *peer)
{
    __atomic_add_fetch(&peer->refs, 1, __ATOMIC_RELAXED);
}

/* The server's reference lasts until the peer is closed and its events are
 * gone, so the last unref (possibly on another thread) frees plain memory. */
void ethd_peer_unref(struct ethd_peer *peer)
{
    if (peer && __atomic_sub_fetch(&peer->refs, 1, __ATOMIC_ACQ_REL) == 0)
        peer_free(peer);
}

int ethd_peer_new_inbound(const struct ethd_peer_env *env, evutil_socket_t fd,
                          struct ethd_peer **out)
{
    struct ethd_peer *p = peer_alloc(env, true);
    if (!p) {
        evutil_closesocket(fd);
        return ETHD_ENOMEM;
    }
    p->bev = bufferevent_socket_new(env->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!p->bev) {
        evutil_closesocket(fd);
        ethd_peer_unref(p);
        return ETHD_ENOMEM;
    }
    sock_addrs(p, fd, true);
    int rc = ethd_rlpx_hs_init(&p->hs, env->secp, false, env->key, NULL);
    if (rc) {
        ethd_peer_unref(p);
        return rc;
    }
    p->hs_live = true;
    *out = p;
    return 0;
}

int ethd_peer_new_outbound(const struct ethd_peer_env *env, const struct ethd_enode *to,
                           struct ethd_peer **out)
{
    struct ethd_peer *p = peer_alloc(env, false);
    if (!p)
        return ETHD_ENOMEM;
    memcpy(p->id, to->id, sizeof(p->id));
    ethd_enode_sockaddr(to, &p->dial_addr, &p->dial_len);
    addr_str((struct sockaddr *)&p->dial_addr, p->remote_addr, sizeof(p->remote_addr));
    p->bev = bufferevent_socket_new(env->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!p->bev) {
        ethd_peer_unref(p);
        return ETHD_ENOMEM;
    }
    int rc = ethd_rlpx_hs_init(&p->hs, env->secp, true, env->key, to->id);
    if (rc) {
        ethd_peer_unref(p);
        return rc;
    }
    p->hs_live = true;
    *out = p;
    return 0;
}

/* ---- output ---- */

static int out_add(struct ethd_peer *p, const void *data, size_t len)
{
    if (evbuffer_add(bufferevent_get_output(p->bev), data, len) != 0)
        return ETHD_ENOMEM;
    p->out_total += len;
    lock(p);
    p->stats.bytes_out += len;
    unlock(p);
    return 0;
}

/* Frame one message (payload already compressed if it must be) into the
 * socket's output. */
static int out_frame(struct ethd_peer *p, uint64_t code, const uint8_t *payload, size_t len)
{
    ethd_buf_reset(&p->scratch);
    int rc = ethd_rlpx_frame_write(p->frame, code, payload, len, &p->scratch);
    if (rc == 0)
        rc = out_add(p, p->scratch.data, p->scratch.len);
    if (rc == 0) {
        lock(p);
        p->stats.msgs_out++;
        unlock(p);
    }
    if (p->scratch.cap > (1u << 20))
        ethd_buf_free(&p->scratch); /* do not keep a 16 MiB buffer per idle peer */
    return rc;
}

/* A `p2p` message from the loop thread, compressed once snappy is on. */
static int send_base(struct ethd_peer *p, uint64_t code, const uint8_t *payload, size_t len)
{
    if (!p->frame || !p->bev)
        return ETHD_ECLOSED;
    if (p->snappy) {
        int rc = ethd_rlpx_snappy_compress(payload, len, &p->zout);
        if (rc)
            return rc;
        return out_frame(p, code, p->zout.data, p->zout.len);
    }
    return out_frame(p, code, payload, len);
}

/* Report messages the kernel has taken. */
static void complete_sent(struct ethd_peer *p)
{
    while (p->f_head && p->f_head->end <= p->out_drained) {
        struct peer_msg *m = p->f_head;
        p->f_head = m->next;
        if (!p->f_head)
            p->f_tail = NULL;
        lock(p);
        p->n_queued--;
        p->bytes_queued -= m->len;
        unlock(p);
        if (m->sent)
            m->sent(p, 0, m->arg);
        free(m);
    }
}

static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct ethd_peer *p = arg;
    (void)buf;
    if (!info->n_deleted)
        return;
    p->out_drained += info->n_deleted;
    if (p->f_head && p->f_head->end <= p->out_drained && p->wake_ev)
        event_active(p->wake_ev, EV_READ, 0); /* callbacks run from the wake event */
}

/* Frame what other threads queued, then act on a disconnect request. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct ethd_peer *p = arg;
    (void)fd;
    (void)what;
    lock(p);
    struct peer_msg *q = NULL;
    if (p->state == PEER_ACTIVE) {
        q = p->q_head;
        p->q_head = p->q_tail = NULL;
    }
    int dr = p->disc_req;
    unlock(p);
    bool failed = false;
    while (q) {
        struct peer_msg *m = q;
        q = m->next;
        m->next = NULL;
        int rc = failed ? ETHD_ECLOSED : out_frame(p, m->code, m->data, m->len);
        free(m->data);
        m->data = NULL;
        if (rc) {
            /* Sizes were checked at send time; only memory can fail here. */
            if (!failed)
                ETHD_WARN(p->env->log, "cannot frame a message", "error=\"%s\"",
                          ethd_strerror(rc));
            failed = true;
            lock(p);
            p->n_queued--;
            p->bytes_queued -= m->len;
            unlock(p);
            if (m->sent)
                m->sent(p, ETHD_ECLOSED, m->arg);
            free(m);
            continue;
        }
        m->end = p->out_total;
        if (p->f_tail)
            p->f_tail->next = m;
        else
            p->f_head = m;
        p->f_tail = m;
    }
    if (failed)
        begin_close(p, ETHD_DISC_NETWORK_ERROR, false);
    if (dr >= 0 && p->state < PEER_CLOSING)
        begin_close(p, dr, true);
    complete_sent(p);
}

/* ---- closing ---- */

static void write_disconnect(struct ethd_peer *p, int reason)
{
    /* rlpx.md, "Disconnect (0x01)": [reason]. Compressed like every message
     * after Hello when snappy is on, as other clients write it. */
    uint8_t msg[3];
    size_t n;
    if (reason == 0) {
        msg[0] = 0xc1;
        msg[1] = 0x80;
        n = 2;
    } else if (reason < 0x80) {
        msg[0] = 0xc1;
        msg[1] = (uint8_t)reason;
        n = 2;
    } else {
        msg[0] = 0xc2;
        msg[1] = 0x81;
        msg[2] = (uint8_t)reason;
        n = 3;
    }
    send_base(p, MSG_DISCONNECT, msg, n);
}

static void begin_close(struct ethd_peer *p, int reason, bool send)
{
    if (p->state >= PEER_CLOSING)
        return;
    bool was_active = p->state == PEER_ACTIVE;
    set_state(p, PEER_CLOSING);
    p->reason = reason;
    p->closing_ms = ethd_monotonic_ms();
    char sid[17];
    ETHD_DEBUG(p->env->log, "peer closing", "id=%s addr=%s reason=0x%02x (%s) by=%s active=%d",
               short_id(p, sid), p->remote_addr, (unsigned)reason, ethd_disc_reason_str(reason),
               p->remote_disc ? "remote" : "local", was_active);
    if (p->bev)
        bufferevent_disable(p->bev, EV_READ);
    if (send && p->frame && p->bev)
        write_disconnect(p, reason);
    if (p->bev && evbuffer_get_length(bufferevent_get_output(p->bev)) > 0 && send) {
        schedule_timer(p); /* flush deadline; on_write closes earlier */
        return;
    }
    event_active(p->close_ev, EV_READ, 0);
}

static void finish_close(struct ethd_peer *p)
{
    if (p->state == PEER_CLOSED)
        return;
    const struct ethd_peer_env *env = p->env;
    ethd_peer_ref(p);
    bool was_active = p->stats.connected_at_ms != 0;
    if (p->reason < 0)
        p->reason = ETHD_DISC_NETWORK_ERROR;
    lock(p);
    p->state = PEER_CLOSED;
    struct peer_msg *q = p->q_head;
    p->q_head = p->q_tail = NULL;
    struct peer_watch *w = p->watches;
    p->watches = NULL;
    unlock(p);
    free_transport(p);

    /* Cancel what is still queued; what the kernel took counts as sent. */
    struct peer_msg *f = p->f_head;
    p->f_head = p->f_tail = NULL;
    for (int pass = 0; pass < 2; pass++) {
        struct peer_msg *m = pass == 0 ? f : q;
        while (m) {
            struct peer_msg *n = m->next;
            int status = pass == 0 && m->end <= p->out_drained ? 0 : ETHD_ECLOSED;
            if (m->sent)
                m->sent(p, status, m->arg);
            free(m->data);
            free(m);
            m = n;
        }
    }
    lock(p);
    p->n_queued = 0;
    p->bytes_queued = 0;
    unlock(p);

    for (size_t i = 0; i < p->n_caps; i++) {
        struct peer_cap *c = &p->caps[i];
        if (c->connected) {
            c->connected = false;
            if (c->proto->on_disconnect)
                c->proto->on_disconnect(c->self, p, p->reason);
        }
    }
    while (w) {
        struct peer_watch *n = w->next;
        w->fn(p, p->reason, w->arg);
        free(w);
        w = n;
    }
    if (env) {
        char sid[17];
        if (was_active)
            ETHD_INFO(env->log, "peer disconnected",
                      "id=%s addr=%s reason=0x%02x (%s) by=%s", short_id(p, sid), p->remote_addr,
                      (unsigned)p->reason, ethd_disc_reason_str(p->reason),
                      p->remote_disc ? "remote" : "local");
        p->env = NULL;
        env->closed(env->srv, p);
    }
    ethd_peer_unref(p);
}

static void on_close(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    finish_close(arg);
}

void ethd_peer_close_now(struct ethd_peer *p, int reason)
{
    if (p->state == PEER_CLOSED)
        return;
    if (p->state < PEER_CLOSING)
        begin_close(p, reason, true);
    if (p->bev) {
        /* Whatever the kernel takes right now; never wait. A socket
         * bufferevent keeps its output's front frozen except while it writes
         * itself, so thaw it for this direct write. */
        struct evbuffer *out = bufferevent_get_output(p->bev);
        evutil_socket_t fd = bufferevent_getfd(p->bev);
        evbuffer_unfreeze(out, 1);
        while (fd >= 0 && evbuffer_get_length(out) > 0 && evbuffer_write(out, fd) > 0) {
        }
        evbuffer_freeze(out, 1);
    }
    finish_close(p);
}

/* ---- timers ---- */

static void schedule_timer(struct ethd_peer *p)
{
    const struct ethd_peer_env *env = p->env;
    uint64_t deadline;
    switch (p->state) {
    case PEER_HANDSHAKE:
    case PEER_HELLO:
        deadline = p->start_ms + env->handshake_timeout_ms;
        break;
    case PEER_ACTIVE: {
        uint64_t ping = p->last_ping_ms + env->ping_interval_ms;
        uint64_t idle = p->last_recv_ms + env->ping_timeout_ms;
        deadline = ping < idle ? ping : idle;
        break;
    }
    case PEER_CLOSING:
        deadline = p->closing_ms + ETHD_PEER_FLUSH_MS;
        break;
    default:
        return;
    }
    uint64_t now = ethd_monotonic_ms();
    uint64_t d = deadline > now ? deadline - now : 0;
    struct timeval tv = {(time_t)(d / 1000), (suseconds_t)(d % 1000) * 1000};
    evtimer_add(p->timer_ev, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct ethd_peer *p = arg;
    const struct ethd_peer_env *env = p->env;
    (void)fd;
    (void)what;
    uint64_t now = ethd_monotonic_ms();
    char sid[17];
    switch (p->state) {
    case PEER_HANDSHAKE:
    case PEER_HELLO:
        if (now >= p->start_ms + env->handshake_timeout_ms) {
            ETHD_DEBUG(env->log, "handshake timeout", "addr=%s state=%s", p->remote_addr,
                       p->state == PEER_HANDSHAKE ? "rlpx" : "hello");
            begin_close(p, ETHD_DISC_TIMEOUT, p->frame != NULL);
            return;
        }
        break;
    case PEER_ACTIVE:
        if (now >= p->last_recv_ms + env->ping_timeout_ms) {
            ETHD_INFO(env->log, "peer silent, dropping", "id=%s addr=%s silent_ms=%llu",
                      short_id(p, sid), p->remote_addr,
                      (unsigned long long)(now - p->last_recv_ms));
            begin_close(p, ETHD_DISC_TIMEOUT, true);
            return;
        }
        if (now >= p->last_ping_ms + env->ping_interval_ms) {
            static const uint8_t empty_list = 0xc0; /* Ping: [] */
            p->last_ping_ms = now;
            p->ping_sent_us = mono_us(); /* the RTT is that of the latest Ping */
            p->ping_outstanding = true;
            send_base(p, MSG_PING, &empty_list, 1);
        }
        break;
    case PEER_CLOSING:
        event_active(p->close_ev, EV_READ, 0); /* flush took too long */
        return;
    default:
        return;
    }
    schedule_timer(p);
}

/* ---- input ---- */

static bool remote_has(const struct ethd_p2p_hello *h, const char *name, uint32_t version)
{
    for (size_t i = 0; i < h->n_caps; i++)
        if (h->caps[i].version == version && strcmp(h->caps[i].name, name) == 0)
            return true;
    return false;
}

/* rlpx.md, "Message ID-based Multiplexing": the highest shared version of
 * each name, in name order, ids assigned from 0x10 on. env->protos is
 * sorted by name then version, so the last match of a name is the highest. */
static int negotiate(struct ethd_peer *p, const struct ethd_p2p_hello *h)
{
    const struct ethd_peer_env *env = p->env;
    struct peer_cap *caps = calloc(env->n_protos ? env->n_protos : 1, sizeof(*caps));
    if (!caps)
        return ETHD_ENOMEM;
    size_t n = 0;
    uint64_t offset = ETHD_P2P_BASE_LEN;
    for (size_t i = 0; i < env->n_protos;) {
        const char *name = env->protos[i].proto->name;
        size_t j = i;
        const struct ethd_p2p_protocol_entry *best = NULL;
        for (; j < env->n_protos && strcmp(env->protos[j].proto->name, name) == 0; j++)
            if (remote_has(h, name, env->protos[j].proto->version))
                best = &env->protos[j];
        if (best) {
            caps[n] = (struct peer_cap){best->proto, best->self, offset, NULL, false};
            offset += best->proto->length;
            n++;
        }
        i = j;
    }
    p->caps = caps;
    p->n_caps = n;
    return 0;
}

static void on_hello(struct ethd_peer *p, const uint8_t *payload, size_t len)
{
    const struct ethd_peer_env *env = p->env;
    struct ethd_p2p_hello h;
    char sid[17];
    int reason = ETHD_DISC_PROTOCOL_ERROR;

    int rc = ethd_p2p_hello_decode(payload, len, &h);
    if (rc != 0) {
        if (rc == ETHD_ENOMEM)
            reason = ETHD_DISC_NETWORK_ERROR;
        goto bad;
    }
    static const uint8_t zero[64];
    if (memcmp(h.id, zero, sizeof(h.id)) == 0) {
        reason = ETHD_DISC_INVALID_IDENTITY;
        goto bad;
    }
    if (memcmp(h.id, p->id, sizeof(h.id)) != 0) {
        reason = ETHD_DISC_UNEXPECTED_IDENTITY; /* Hello must name the RLPx key */
        goto bad;
    }

    char **rcaps = calloc(h.n_caps ? h.n_caps : 1, sizeof(char *));
    if (!rcaps || negotiate(p, &h) != 0) {
        free(rcaps);
        reason = ETHD_DISC_NETWORK_ERROR;
        goto bad;
    }
    for (size_t i = 0; i < h.n_caps; i++)
        if (asprintf(&rcaps[i], "%s/%llu", h.caps[i].name,
                     (unsigned long long)h.caps[i].version) < 0)
            rcaps[i] = NULL;
    char *client = h.client_id;
    h.client_id = NULL; /* taken by p->client_id below */
    p->remote_caps = rcaps;
    p->n_remote_caps = h.n_caps;
    p->remote_version = h.version;
    p->snappy = h.version >= 5; /* EIP-706: both sides speak >= 5 (we speak 5) */
    ethd_p2p_hello_free(&h);
    if (p->n_caps == 0 && env->n_protos > 0) {
        free(client);
        ETHD_DEBUG(env->log, "no shared capability", "id=%s addr=%s", short_id(p, sid),
                   p->remote_addr);
        begin_close(p, ETHD_DISC_USELESS_PEER, true);
        return;
    }
    uint64_t now = ethd_monotonic_ms();
    lock(p);
    p->client_id = client;
    p->state = PEER_ACTIVE;
    p->stats.connected_at_ms = wall_ms();
    unlock(p);
    p->active_ms = p->last_ping_ms = p->last_recv_ms = now;
    schedule_timer(p);
    env->active(env->srv, p);

    for (size_t i = 0; i < p->n_caps && p->state == PEER_ACTIVE; i++) {
        struct peer_cap *c = &p->caps[i];
        c->connected = true;
        int r = c->proto->on_connect ? c->proto->on_connect(c->self, p) : 0;
        if (r != 0) {
            c->connected = false; /* a failed on_connect is never followed by on_disconnect */
            ETHD_INFO(env->log, "protocol refused peer", "id=%s cap=%s/%u error=\"%s\"",
                      short_id(p, sid), c->proto->name, c->proto->version, ethd_strerror(r));
            begin_close(p, ETHD_DISC_SUBPROTOCOL, true);
        }
    }
    return;
bad:
    ethd_p2p_hello_free(&h);
    ETHD_DEBUG(env->log, "bad hello", "id=%s addr=%s reason=%s", short_id(p, sid), p->remote_addr,
               ethd_disc_reason_str(reason));
    begin_close(p, reason, true);
}

/* [reason], [] or a bare reason (older clients); 0 when absent. */
static int parse_reason(const uint8_t *in, size_t len, int *reason)
{
    struct ethd_rlp_item it, first;
    uint64_t v;
    *reason = ETHD_DISC_REQUESTED;
    if (len == 0)
        return 0;
    if (ethd_rlp_decode(in, len, &it) != 0)
        return -1;
    if (it.is_list) {
        struct ethd_rlp_iter iter;
        ethd_rlp_iter_init(&iter, &it);
        if (ethd_rlp_iter_next(&iter, &first) != 0)
            return 0;
        it = first;
    }
    if (ethd_rlp_get_uint64(&it, &v) != 0 || v > 0xff)
        return -1;
    *reason = (int)v;
    return 0;
}

static void on_disconnect_msg(struct ethd_peer *p, const uint8_t *payload, size_t len)
{
    /* Sent compressed or not depending on whether the other side had seen
     * our Hello: try snappy first when it is on, then the plain form. */
    int reason = ETHD_DISC_REQUESTED;
    bool ok = p->snappy &&
              ethd_rlpx_snappy_decompress(payload, len, ETHD_P2P_BASE_MAX_MSG, &p->zin) == 0 &&
              parse_reason(p->zin.data, p->zin.len, &reason) == 0;
    if (!ok && parse_reason(payload, len, &reason) != 0)
        reason = ETHD_DISC_REQUESTED;
    p->remote_disc = true;
    begin_close(p, reason, false);
}

static void dispatch(struct ethd_peer *p, uint64_t code, const uint8_t *body, size_t len)
{
    const struct ethd_peer_env *env = p->env;
    char sid[17];
    for (size_t i = 0; i < p->n_caps; i++) {
        struct peer_cap *c = &p->caps[i];
        if (code < c->offset || code - c->offset >= c->proto->length)
            continue;
        if (!c->connected || !c->proto->on_message)
            return;
        int r = c->proto->on_message(c->self, p, code - c->offset, body, len);
        if (r != 0 && p->state == PEER_ACTIVE) {
            int reason = r == ETHD_EPROTO ? ETHD_DISC_PROTOCOL_ERROR : ETHD_DISC_SUBPROTOCOL;
            ETHD_DEBUG(env->log, "protocol dropped peer", "id=%s cap=%s/%u code=%llu error=\"%s\"",
                       short_id(p, sid), c->proto->name, c->proto->version,
                       (unsigned long long)(code - c->offset), ethd_strerror(r));
            begin_close(p, reason, true);
        }
        return;
    }
    ETHD_DEBUG(env->log, "message outside every capability", "id=%s code=0x%llx",
               short_id(p, sid), (unsigned long long)code);
    begin_close(p, ETHD_DISC_PROTOCOL_ERROR, true);
}

static void on_message(struct ethd_peer *p, uint64_t code, const uint8_t *payload, size_t len)
{
    const struct ethd_peer_env *env = p->env;
    char sid[17];
    if (p->state == PEER_HELLO) {
        /* rlpx.md: after the handshake both sides send Hello or Disconnect. */
        if (code == MSG_HELLO)
            on_hello(p, payload, len);
        else if (code == MSG_DISCONNECT)
            on_disconnect_msg(p, payload, len);
        else
            begin_close(p, ETHD_DISC_PROTOCOL_ERROR, true);
        return;
    }
    if (code == MSG_DISCONNECT) {
        on_disconnect_msg(p, payload, len);
        return;
    }
    size_t limit = code < ETHD_P2P_BASE_LEN ? ETHD_P2P_BASE_MAX_MSG : p->max_msg;
    const uint8_t *body = payload;
    size_t blen = len;
    if (p->snappy) {
        /* EIP-706: the declared length is checked before inflating. */
        int rc = ethd_rlpx_snappy_decompress(payload, len, limit, &p->zin);
        if (rc) {
            ETHD_DEBUG(env->log, "bad message payload", "id=%s code=0x%llx error=\"%s\"",
                       short_id(p, sid), (unsigned long long)code, ethd_strerror(rc));
            begin_close(p, ETHD_DISC_PROTOCOL_ERROR, true);
            return;
        }
        body = p->zin.data;
        blen = p->zin.len;
    } else if (len > limit) {
        begin_close(p, ETHD_DISC_PROTOCOL_ERROR, true);
        return;
    }
    switch (code) {
    case MSG_HELLO:
        begin_close(p, ETHD_DISC_PROTOCOL_ERROR, true); /* Hello is sent once */
        break;
    case MSG_PING: {
        static const uint8_t empty_list = 0xc0;
        send_base(p, MSG_PONG, &empty_list, 1);
        break;
    }
    case MSG_PONG:
        if (p->ping_outstanding) {
            uint64_t rtt = mono_us() - p->ping_sent_us;
            p->ping_outstanding = false;
            lock(p);
            p->stats.last_rtt_us = rtt ? rtt : 1;
            unlock(p);
        }
        break;
    default:
        if (code >= ETHD_P2P_BASE_LEN)
            dispatch(p, code, body, blen);
        /* other ids of the reserved p2p range are ignored (forward compatibility) */
        break;
    }
    if (p->zin.cap > (1u << 20))
        ethd_buf_free(&p->zin);
}

static int read_handshake(struct ethd_peer *p, struct evbuffer *in, size_t len)
{
    const struct ethd_peer_env *env = p->env;
    size_t avail = len < HS_WIRE_MAX ? len : HS_WIRE_MAX;
    const uint8_t *d = evbuffer_pullup(in, (ev_ssize_t)avail);
    size_t consumed = 0, need = 0;
    int rc = p->inbound ? ethd_rlpx_hs_read_auth(&p->hs, d, avail, &consumed, &need)
                        : ethd_rlpx_hs_read_ack(&p->hs, d, avail, &consumed, &need);
    if (rc == ETHD_EAGAIN) {
        if (avail < HS_WIRE_MAX && (need == 0 || need > avail))
            return ETHD_EAGAIN;
        rc = ETHD_EPROTO; /* the codec wants more than a handshake may have */
    }
    if (rc == 0 && (consumed == 0 || consumed > avail))
        rc = ETHD_EPROTO;
    if (rc) {
        ETHD_DEBUG(env->log, "rlpx handshake failed", "addr=%s inbound=%d error=\"%s\"",
                   p->remote_addr, p->inbound, ethd_strerror(rc));
        begin_close(p, ETHD_DISC_PROTOCOL_ERROR, false);
        return rc;
    }
    lock(p);
    p->stats.bytes_in += consumed;
    unlock(p);
    evbuffer_drain(in, consumed);
    if (p->inbound) {
        ethd_buf_reset(&p->scratch);
        rc = ethd_rlpx_hs_write_ack(&p->hs, &p->scratch);
        if (rc == 0)
            rc = out_add(p, p->scratch.data, p->scratch.len);
    }
    struct ethd_rlpx_secrets s;
    if (rc == 0)
        rc = ethd_rlpx_hs_secrets(&p->hs, &s);
    if (rc == 0) {
        memcpy(p->id, s.remote_pub, sizeof(p->id));
        rc = ethd_rlpx_frame_new(&s, p->max_frame, &p->frame);
        explicit_bzero(&s, sizeof(s));
    }
    ethd_rlpx_hs_free(&p->hs);
    p->hs_live = false;
    if (rc) {
        ETHD_DEBUG(env->log, "rlpx session setup failed", "addr=%s error=\"%s\"", p->remote_addr,
                   ethd_strerror(rc));
        begin_close(p, ETHD_DISC_NETWORK_ERROR, false);
        return rc;
    }
    set_state(p, PEER_HELLO);
    int reason = env->admit(env->srv, p);
    if (reason) {
        char sid[17];
        ETHD_DEBUG(env->log, "peer refused", "id=%s addr=%s reason=%s", short_id(p, sid),
                   p->remote_addr, ethd_disc_reason_str(reason));
        begin_close(p, reason, true);
        return ETHD_EPROTO;
    }
    /* Hello is never compressed (EIP-706). */
    if ((rc = out_frame(p, MSG_HELLO, env->hello, env->hello_len)) != 0) {
        begin_close(p, ETHD_DISC_NETWORK_ERROR, false);
        return rc;
    }
    return 0;
}

static int read_frame(struct ethd_peer *p, struct evbuffer *in, size_t len)
{
    size_t want = p->rd_need ? p->rd_need : FRAME_HEAD;
    if (len < want)
        return ETHD_EAGAIN;
    const uint8_t *d = evbuffer_pullup(in, (ev_ssize_t)want);
    size_t consumed = 0, need = 0, plen = 0;
    uint64_t code = 0;
    const uint8_t *payload = NULL;
    int rc = ethd_rlpx_frame_read(p->frame, d, want, &consumed, &need, &code, &payload, &plen);
    if (rc == ETHD_EAGAIN) {
        if (need <= want) {
            rc = ETHD_EPROTO;
        } else {
            p->rd_need = need;
            return 0;
        }
    }
    if (rc == 0 && (consumed == 0 || consumed > want))
        rc = ETHD_EPROTO;
    if (rc) {
        char sid[17];
        ETHD_DEBUG(p->env->log, "bad frame", "id=%s addr=%s error=\"%s\"", short_id(p, sid),
                   p->remote_addr, ethd_strerror(rc));
        begin_close(p, ETHD_DISC_PROTOCOL_ERROR, true);
        return rc;
    }
    p->rd_need = 0;
    p->last_recv_ms = ethd_monotonic_ms();
    lock(p);
    p->stats.bytes_in += consumed;
    p->stats.msgs_in++;
    unlock(p);
    on_message(p, code, payload, plen);
    evbuffer_drain(in, consumed);
    return 0;
}

/* A service asked to drop this peer: read nothing more for it. */
static bool disc_pending(const struct ethd_peer *p)
{
    lock(p);
    bool d = p->disc_req >= 0;
    unlock(p);
    return d;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct ethd_peer *p = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (p->state < PEER_CLOSING && !disc_pending(p)) {
        size_t len = evbuffer_get_length(in);
        if (len == 0)
            break;
        int rc = p->state == PEER_HANDSHAKE ? read_handshake(p, in, len) : read_frame(p, in, len);
        if (rc != 0)
            break;
    }
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct ethd_peer *p = arg;
    if (p->state == PEER_CLOSING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        event_active(p->close_ev, EV_READ, 0);
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
    struct ethd_peer *p = arg;
    if (events & BEV_EVENT_CONNECTED) {
        sock_addrs(p, bufferevent_getfd(bev), false);
        return;
    }
    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (p->state == PEER_CLOSING) {
            event_active(p->close_ev, EV_READ, 0);
            return;
        }
        if (events & BEV_EVENT_ERROR)
            ETHD_DEBUG(p->env->log, "peer socket error", "addr=%s error=\"%s\"", p->remote_addr,
                       evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        begin_close(p, ETHD_DISC_NETWORK_ERROR, false);
    }
}

void ethd_peer_start(struct ethd_peer *p)
{
    struct evbuffer *out = bufferevent_get_output(p->bev);
    bufferevent_setcb(p->bev, on_read, on_write, on_event, p);
    p->out_cb = evbuffer_add_cb(out, on_output, p);
    /* One whole frame must fit in the input; nothing more is read ahead. */
    bufferevent_setwatermark(p->bev, EV_READ, 0, p->max_frame + 64);
    schedule_timer(p);
    if (p->inbound) {
        bufferevent_enable(p->bev, EV_READ | EV_WRITE);
        return;
    }
    ethd_buf_reset(&p->scratch);
    int rc = ethd_rlpx_hs_write_auth(&p->hs, &p->scratch);
    if (rc == 0)
        rc = out_add(p, p->scratch.data, p->scratch.len);
    if (rc == 0) {
        bufferevent_enable(p->bev, EV_READ | EV_WRITE);
        /* On an immediate failure libevent may already have called
         * on_event; begin_close is idempotent. */
        if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&p->dial_addr,
                                       (int)p->dial_len) != 0)
            rc = ETHD_EIO;
    }
    if (rc) {
        ETHD_DEBUG(p->env->log, "dial failed", "addr=%s error=\"%s\"", p->remote_addr,
                   ethd_strerror(rc));
        begin_close(p, ETHD_DISC_NETWORK_ERROR, false);
    }
}

enum ethd_peer_state ethd_peer_state_get(const struct ethd_peer *p)
{
    lock(p);
    enum ethd_peer_state s = p->state;
    unlock(p);
    return s;
}

/* ---- <ethd/p2p.h> ---- */

static struct peer_cap *find_cap(const struct ethd_peer *peer, const struct ethd_protocol *proto)
{
    for (size_t i = 0; i < peer->n_caps; i++) {
        const struct ethd_protocol *c = peer->caps[i].proto;
        if (c == proto || (c->version == proto->version && proto->name &&
                           strcmp(c->name, proto->name) == 0))
            return &peer->caps[i];
    }
    return NULL;
}

int ethd_peer_send(struct ethd_peer *peer, const struct ethd_protocol *proto, uint64_t code,
                   const void *payload, size_t len, ethd_peer_sent_fn sent, void *arg)
{
    if (!peer || !proto || (!payload && len))
        return ETHD_EINVAL;
    enum ethd_peer_state st = ethd_peer_state_get(peer);
    if (st != PEER_ACTIVE)
        return st < PEER_ACTIVE ? ETHD_ESTATE : ETHD_ECLOSED;
    /* caps and snappy were set before the state became ACTIVE (under mu) and
     * never change afterwards. */
    const struct peer_cap *c = find_cap(peer, proto);
    if (!c || code >= proto->length)
        return ETHD_EINVAL;
    if (len > peer->max_msg)
        return ETHD_ETOOBIG;
    struct peer_msg *m = calloc(1, sizeof(*m));
    if (!m)
        return ETHD_ENOMEM;
    if (peer->snappy) {
        /* Compressed on the caller's thread: it is pure and keeps the loop free. */
        struct ethd_buf b = ETHD_BUF_INIT;
        int rc = ethd_rlpx_snappy_compress(payload, len, &b);
        if (rc) {
            ethd_buf_free(&b);
            free(m);
            return rc;
        }
        m->data = b.data;
        m->len = b.len;
    } else {
        m->data = malloc(len ? len : 1);
        if (!m->data) {
            free(m);
            return ETHD_ENOMEM;
        }
        if (len)
            memcpy(m->data, payload, len);
        m->len = len;
    }
    if (m->len + 16 > peer->max_frame) { /* 16 >= the RLP of any message id */
        free(m->data);
        free(m);
        return ETHD_ETOOBIG;
    }
    m->code = c->offset + code;
    m->sent = sent;
    m->arg = arg;
    int rc = 0;
    lock(peer);
    if (peer->state != PEER_ACTIVE) {
        rc = ETHD_ECLOSED;
    } else if (peer->n_queued >= ETHD_PEER_QUEUE_MAX_MSGS ||
               peer->bytes_queued + m->len > ETHD_PEER_QUEUE_MAX_BYTES) {
        rc = ETHD_EBUSY;
    } else {
        if (peer->q_tail)
            peer->q_tail->next = m;
        else
            peer->q_head = m;
        peer->q_tail = m;
        peer->n_queued++;
        peer->bytes_queued += m->len;
        event_active(peer->wake_ev, EV_READ, 0);
    }
    unlock(peer);
    if (rc) {
        free(m->data);
        free(m);
    }
    return rc;
}

void ethd_peer_disconnect(struct ethd_peer *peer, int reason)
{
    if (!peer)
        return;
    lock(peer);
    if (peer->state < PEER_CLOSING && peer->disc_req < 0 && peer->wake_ev) {
        peer->disc_req = reason < 0 || reason > 0xff ? ETHD_DISC_REQUESTED : reason;
        event_active(peer->wake_ev, EV_READ, 0);
    }
    unlock(peer);
}

bool ethd_peer_connected(const struct ethd_peer *peer)
{
    return ethd_peer_state_get(peer) == PEER_ACTIVE;
}

bool ethd_peer_inbound(const struct ethd_peer *peer)
{
    return peer->inbound;
}

const uint8_t *ethd_peer_id(const struct ethd_peer *peer)
{
    return peer->id;
}

const char *ethd_peer_client_id(const struct ethd_peer *peer)
{
    lock(peer);
    const char *c = peer->client_id;
    unlock(peer);
    return c ? c : "";
}

const char *ethd_peer_remote_addr(const struct ethd_peer *peer)
{
    return peer->remote_addr;
}

uint32_t ethd_peer_version(const struct ethd_peer *peer, const char *name)
{
    if (!name || ethd_peer_state_get(peer) < PEER_ACTIVE)
        return 0;
    for (size_t i = 0; i < peer->n_caps; i++)
        if (strcmp(peer->caps[i].proto->name, name) == 0)
            return peer->caps[i].proto->version;
    return 0;
}

void ethd_peer_set_data(struct ethd_peer *peer, const struct ethd_protocol *proto, void *data)
{
    struct peer_cap *c = proto ? find_cap(peer, proto) : NULL;
    if (c)
        c->data = data;
}

void *ethd_peer_get_data(const struct ethd_peer *peer, const struct ethd_protocol *proto)
{
    const struct peer_cap *c = proto ? find_cap(peer, proto) : NULL;
    return c ? c->data : NULL;
}

int ethd_peer_stats(const struct ethd_peer *peer, struct ethd_peer_stats *out)
{
    if (!peer || !out)
        return ETHD_EINVAL;
    lock(peer);
    *out = peer->stats;
    out->queued = peer->n_queued;
    unlock(peer);
    return 0;
}

int ethd_peer_watch_close(struct ethd_peer *peer, ethd_peer_closed_fn fn, void *arg, uint64_t *id)
{
    if (!peer || !fn)
        return ETHD_EINVAL;
    struct peer_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return ETHD_ENOMEM;
    int rc = 0;
    lock(peer);
    if (peer->state == PEER_CLOSED) {
        rc = ETHD_ECLOSED;
    } else {
        w->id = ++peer->next_watch_id;
        w->fn = fn;
        w->arg = arg;
        w->next = peer->watches;
        peer->watches = w;
        if (id)
            *id = w->id;
    }
    unlock(peer);
    if (rc)
        free(w);
    return rc;
}

void ethd_peer_unwatch(struct ethd_peer *peer, uint64_t id)
{
    if (!peer)
        return;
    lock(peer);
    for (struct peer_watch **pp = &peer->watches; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct peer_watch *w = *pp;
            *pp = w->next;
            free(w);
            break;
        }
    }
    unlock(peer);
}
