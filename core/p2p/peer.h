/* One RLPx connection and the `p2p` base protocol on it (devp2p rlpx.md,
 * "p2p Capability"): handshake, Hello and capability negotiation, Ping/Pong,
 * Disconnect, the outbound queue, and dispatch to the services' protocols.
 * The server (server.c) owns the listening, dialing and admission policy and
 * talks to peers through struct ethd_peer_env. Internal to core.
 *
 * Lifecycle of a connection:
 *   HANDSHAKE  TCP connect/accept, RLPx auth/ack          (handshake timer)
 *   HELLO      session keys ready, Hello sent, waiting   (same timer)
 *   ACTIVE     Hello received, protocols negotiated,     (ping/idle timer)
 *              on_connect called
 *   CLOSING    Disconnect written, flushing              (flush timer)
 *   CLOSED     socket closed, on_disconnect called once
 * Closing is deferred: whatever starts it (a bad frame, a service, another
 * thread) only marks the peer; it is torn down from its own event on the
 * loop, never inside one of its callbacks. */
#ifndef ETHD_CORE_P2P_PEER_H
#define ETHD_CORE_P2P_PEER_H
#include "p2p/enode.h"
#include "p2p/hello.h"
#include "p2p/rlpx.h"
#include "p2p/server.h"

#include <ethd/buf.h>
#include <ethd/p2p.h>
#include <event2/util.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ETHD_P2P_BASE_LEN 0x10        /* message ids reserved for `p2p` */
#define ETHD_PEER_QUEUE_MAX_MSGS 4096 /* outbound bound: messages ... */
#define ETHD_PEER_QUEUE_MAX_BYTES (64u << 20) /* ... or bytes, then ETHD_EBUSY */
#define ETHD_PEER_FLUSH_MS 2000       /* how long a Disconnect may take to flush */

enum ethd_peer_state { PEER_HANDSHAKE = 0, PEER_HELLO, PEER_ACTIVE, PEER_CLOSING, PEER_CLOSED };

/* What a peer needs from its server. Owned by the server; borrowed by each
 * peer until it is closed. */
struct ethd_peer_env {
    struct event_base *base;
    const struct ethd_logger *log;
    const struct ethd_secp *secp;
    uint8_t key[32], id[64];
    const struct ethd_p2p_protocol_entry *protos; /* sorted by name, version */
    size_t n_protos;
    const uint8_t *hello;                         /* our Hello payload (RLP) */
    size_t hello_len;
    uint64_t handshake_timeout_ms, ping_interval_ms, ping_timeout_ms;
    size_t max_msg;
    /* After the RLPx handshake (the remote id is known): 0 to go on, or a
     * Disconnect reason (self, duplicate, too many peers). On 0 the server
     * counts the peer until `closed`. */
    int (*admit)(void *srv, struct ethd_peer *p);
    void (*active)(void *srv, struct ethd_peer *p); /* Hello done, before on_connect */
    void (*closed)(void *srv, struct ethd_peer *p); /* last event: drop the server's ref */
    void *srv;
};

struct peer_cap {               /* a negotiated capability */
    const struct ethd_protocol *proto;
    void *self;
    uint64_t offset;            /* first wire message id */
    void *data;                 /* ethd_peer_set_data */
    bool connected;             /* on_connect succeeded: on_disconnect is owed */
};

struct peer_msg;
struct peer_watch;

struct ethd_peer {
    int refs;                   /* atomic */
    pthread_mutex_t mu;         /* guards the fields marked (mu) */
    const struct ethd_peer_env *env; /* NULL once closed */
    enum ethd_peer_state state; /* (mu) for writes; readers off the loop lock */
    bool inbound;
    struct bufferevent *bev;
    struct event *wake_ev, *timer_ev, *close_ev;
    struct ethd_rlpx_handshake hs;
    bool hs_live;
    struct ethd_rlpx_frame *frame;
    size_t rd_need;
    size_t max_msg, max_frame;
    bool snappy;
    struct ethd_buf scratch;    /* one outgoing frame */
    struct ethd_buf zin, zout;  /* snappy: decompressed input, compressed output */
    struct evbuffer_cb_entry *out_cb;

    uint8_t id[64];             /* remote public key: dialed, or from the auth */
    struct sockaddr_storage dial_addr; /* outbound: where to connect */
    socklen_t dial_len;
    char remote_addr[64], local_addr[64];
    char *client_id;            /* (mu) from Hello; NULL before */
    uint64_t remote_version;
    char **remote_caps;         /* "name/version" as advertised */
    size_t n_remote_caps;
    struct peer_cap *caps;      /* negotiated, sorted by name */
    size_t n_caps;

    /* outbound: queued (not framed yet) then framed (in the socket buffer) */
    struct peer_msg *q_head, *q_tail; /* (mu) */
    struct peer_msg *f_head, *f_tail; /* loop thread */
    size_t n_queued, bytes_queued;    /* (mu) both lists */
    uint64_t out_total, out_drained;  /* bytes appended to / written from the output */
    int disc_req;                     /* (mu) -1, or a reason asked for by ethd_peer_disconnect */

    int reason;                 /* why it closed (or is closing) */
    bool remote_disc;           /* the remote sent Disconnect */
    uint64_t start_ms, active_ms, closing_ms, last_recv_ms, last_ping_ms, ping_sent_us;
    bool ping_outstanding;
    struct ethd_peer_stats stats; /* (mu) */
    struct peer_watch *watches;   /* (mu) */
    uint64_t next_watch_id;       /* (mu) */

    /* server bookkeeping (server.c) */
    struct ethd_peer *prev, *next;
    bool pending;               /* inbound, still in the RLPx handshake */
    bool counted;               /* admitted: counts against max_peers */
    bool active_counted;        /* counted by ethd_p2p_peer_count */
    uint64_t active_since_ms;   /* monotonic */
    void *static_rec;           /* the static peer this dial is for */
};

/* A peer for an accepted socket (taken) or for dialing `to`; no I/O yet.
 * Reference count 1, owned by the server (released in env->closed).
 * *out: the server releases it with ethd_peer_unref. */
int ethd_peer_new_inbound(const struct ethd_peer_env *env, evutil_socket_t fd,
                          struct ethd_peer **out);
int ethd_peer_new_outbound(const struct ethd_peer_env *env, const struct ethd_enode *to,
                           struct ethd_peer **out);
/* Begin: connect or wait for the auth, arm the handshake timer. A failure is
 * reported through env->closed like any other close (never synchronously). */
void ethd_peer_start(struct ethd_peer *p);
/* Server stop: send Disconnect(reason), write what the kernel takes now,
 * close, call on_disconnect and env->closed before returning. Not from
 * inside one of this peer's callbacks. */
void ethd_peer_close_now(struct ethd_peer *p, int reason);

/* Loop-thread views for the server and the admin API. */
enum ethd_peer_state ethd_peer_state_get(const struct ethd_peer *p);
uint64_t ethd_monotonic_ms(void);

#endif
