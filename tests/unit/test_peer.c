/* Peers and the p2p server (core/p2p/peer.c, server.c, known_set.c).
 *
 * Servers run in-process on one event_base, on 127.0.0.1 with port 0, each
 * with a tiny test protocol "tst/1". Bad input comes from a raw RLPx client
 * (the rlpx.h codec over a blocking socket) on its own thread, while the test
 * thread runs the loop. Every wait is bounded (10 s); nothing asserts on
 * timing. Set ETHD_TEST_LOG=1 to see the servers' debug log. */
#include "log.h"
#include "p2p/rlpx.h"
#include "p2p/server.h"

#include <check.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/p2p.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000

static struct event_base *base;
static struct ethd_secp *secp;
static struct ethd_log_sink *sink;
static struct ethd_logger *lg;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop for at most 5 ms. */
static void spin(void)
{
    struct timeval tv = {0, 5000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

#define WAIT_FOR(expr)                                                                         \
    do {                                                                                       \
        uint64_t wait_deadline_ = now_ms() + WAIT_MS;                                          \
        while (!(expr)) {                                                                      \
            ck_assert_msg(now_ms() < wait_deadline_, "timed out waiting for: %s", #expr);      \
            spin();                                                                            \
        }                                                                                      \
    } while (0)

static void setup(void)
{
    evthread_use_pthreads(); /* ethd_peer_send from other threads wakes the loop */
    base = event_base_new();
    ck_assert_ptr_nonnull(base);
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    if (getenv("ETHD_TEST_LOG")) {
        char err[128];
        ck_assert_int_eq(ethd_log_sink_open(NULL, ETHD_LOG_DEBUG, &sink, err, sizeof(err)), 0);
        ck_assert_int_eq(ethd_logger_new(sink, "p2p", &lg), 0);
    }
}

static void teardown(void)
{
    event_base_free(base);
    ethd_secp_free(secp);
    ethd_logger_free(lg);
    ethd_log_sink_close(sink);
    lg = NULL;
    sink = NULL;
}

/* ---- the test protocol "tst/1" (4 message codes) ---- */

struct tsvc {
    int connects, disconnects, last_reason, msgs;
    uint64_t last_code;
    uint8_t last[64];
    size_t last_len;
    struct ethd_peer *peer; /* the last connected peer, referenced */
    bool fail_connect;
    int msg_rc;
    int sent_ok, sent_closed;
};

static int tp_connect(void *self, struct ethd_peer *p)
{
    struct tsvc *s = self;
    s->connects++;
    if (s->fail_connect)
        return ETHD_EINVAL;
    ethd_peer_ref(p);
    ethd_peer_unref(s->peer);
    s->peer = p;
    return 0;
}

static int tp_message(void *self, struct ethd_peer *p, uint64_t code, const uint8_t *payload,
                      size_t len)
{
    struct tsvc *s = self;
    (void)p;
    s->msgs++;
    s->last_code = code;
    s->last_len = len < sizeof(s->last) ? len : sizeof(s->last);
    memcpy(s->last, payload, s->last_len);
    return s->msg_rc;
}

static void tp_disconnect(void *self, struct ethd_peer *p, int reason)
{
    struct tsvc *s = self;
    (void)p;
    s->disconnects++;
    s->last_reason = reason;
}

static const struct ethd_protocol tproto = {"tst", 1, 4, tp_connect, tp_message, tp_disconnect,
                                            NULL, NULL};

static void on_sent(struct ethd_peer *p, int status, void *arg)
{
    struct tsvc *s = arg;
    (void)p;
    if (status == 0)
        s->sent_ok++;
    else if (status == ETHD_ECLOSED)
        s->sent_closed++;
}

/* ---- test nodes ---- */

struct tnode {
    struct ethd_p2p_server *srv;
    struct tsvc svc;
    uint8_t key[32], pub[64];
    uint16_t port;
};

typedef void (*tweak_fn)(struct ethd_p2p_config *c);

static void node_start_at(struct tnode *n, tweak_fn tweak, const uint8_t *key, uint16_t port)
{
    memset(n, 0, sizeof(*n));
    char err[256];
    ck_assert_int_eq(ethd_p2p_server_new(base, lg, &n->srv), 0);
    ck_assert_int_eq(ethd_p2p_server_add_protocol(n->srv, &tproto, &n->svc, "tst", err, sizeof(err)),
                     0);
    struct ethd_p2p_config c;
    ethd_p2p_config_defaults(&c);
    c.port = port;
    c.handshake_timeout_ms = 3000;
    c.redial_min_ms = 60000; /* tests that want re-dials lower it */
    c.redial_max_ms = 60000;
    if (key)
        memcpy(n->key, key, 32);
    else
        ck_assert_int_eq(ethd_secp_keygen(secp, n->key), 0);
    memcpy(c.node_key, n->key, 32);
    ck_assert_int_eq(ethd_secp_pubkey(secp, n->key, n->pub), 0);
    if (tweak)
        tweak(&c);
    ck_assert_msg(ethd_p2p_server_configure(n->srv, &c, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(ethd_p2p_server_start(n->srv, err, sizeof(err)) == 0, "%s", err);
    n->port = ethd_p2p_server_port(n->srv);
    ck_assert_int_ne(n->port, 0);
    ck_assert_mem_eq(ethd_p2p_node_id(n->srv), n->pub, 64);
}

static void node_start(struct tnode *n, tweak_fn tweak)
{
    node_start_at(n, tweak, NULL, 0);
}

static void node_free(struct tnode *n)
{
    ethd_p2p_server_free(n->srv);
    n->srv = NULL;
    ethd_peer_unref(n->svc.peer);
    n->svc.peer = NULL;
}

/* b dials a and both see the peer. */
static void connect_nodes(struct tnode *a, struct tnode *b)
{
    int ca = a->svc.connects, cb = b->svc.connects;
    ck_assert_int_eq(ethd_p2p_add_peer(b->srv, ethd_p2p_server_enode(a->srv)), 0);
    WAIT_FOR(a->svc.connects == ca + 1 && b->svc.connects == cb + 1);
}

/* ---- known-item sets ---- */

static void hash_of(uint32_t i, uint8_t h[32])
{
    memset(h, 0, 32);
    memcpy(h, &i, sizeof(i));
    h[31] = 0x5a;
}

START_TEST(known_set_fifo_eviction)
{
    struct ethd_known_set *s;
    ck_assert_int_eq(ethd_known_set_new(0, &s), ETHD_EINVAL);
    ck_assert_int_eq(ethd_known_set_new(3, &s), 0);
    uint8_t h[5][32];
    for (uint32_t i = 0; i < 5; i++)
        hash_of(i, h[i]);
    ethd_known_set_add(s, h[0]);
    ethd_known_set_add(s, h[1]);
    ethd_known_set_add(s, h[1]); /* already known: no second slot */
    ck_assert_uint_eq(ethd_known_set_count(s), 2);
    ethd_known_set_add(s, h[2]);
    ck_assert(ethd_known_set_has(s, h[0]) && ethd_known_set_has(s, h[2]));
    ethd_known_set_add(s, h[3]); /* full: the oldest (h0) goes */
    ck_assert_uint_eq(ethd_known_set_count(s), 3);
    ck_assert(!ethd_known_set_has(s, h[0]));
    ck_assert(ethd_known_set_has(s, h[1]) && ethd_known_set_has(s, h[2]) &&
              ethd_known_set_has(s, h[3]));
    ethd_known_set_add(s, h[4]);
    ck_assert(!ethd_known_set_has(s, h[1]));
    ck_assert(ethd_known_set_has(s, h[4]));
    ethd_known_set_free(s);
}
END_TEST

START_TEST(known_set_many)
{
    /* Enough churn to exercise deletion inside probe chains. */
    struct ethd_known_set *s;
    ck_assert_int_eq(ethd_known_set_new(1000, &s), 0);
    uint8_t h[32];
    for (uint32_t i = 0; i < 20000; i++) {
        hash_of(i, h);
        ethd_known_set_add(s, h);
    }
    ck_assert_uint_eq(ethd_known_set_count(s), 1000);
    for (uint32_t i = 0; i < 20000; i++) {
        hash_of(i, h);
        ck_assert_msg(ethd_known_set_has(s, h) == (i >= 19000), "hash %u", i);
    }
    ethd_known_set_free(s);
}
END_TEST

/* ---- two servers ---- */

static void no_redial(struct ethd_p2p_config *c)
{
    (void)c;
}

static int watch_reason = -1;
static void on_closed_watch(struct ethd_peer *p, int reason, void *arg)
{
    (void)p;
    (void)arg;
    watch_reason = reason;
}

START_TEST(connect_exchange_disconnect)
{
    struct tnode a, b;
    node_start(&a, NULL);
    node_start(&b, no_redial);
    connect_nodes(&a, &b);
    ck_assert_uint_eq(ethd_p2p_peer_count(a.srv), 1);
    ck_assert_uint_eq(ethd_p2p_peer_count(b.srv), 1);
    struct ethd_peer *pa = a.svc.peer, *pb = b.svc.peer; /* a's view of b, b's view of a */
    ck_assert(ethd_peer_inbound(pa));
    ck_assert(!ethd_peer_inbound(pb));
    ck_assert_mem_eq(ethd_peer_id(pa), b.pub, 64);
    ck_assert_mem_eq(ethd_peer_id(pb), a.pub, 64);
    ck_assert_uint_eq(ethd_peer_version(pa, "tst"), 1);
    ck_assert_uint_eq(ethd_peer_version(pa, "eth"), 0);
    ck_assert_msg(strncmp(ethd_peer_client_id(pa), "ethd/v", 6) == 0, "%s",
                  ethd_peer_client_id(pa));
    ck_assert(ethd_peer_connected(pa) && ethd_peer_connected(pb));
    char want[32];
    snprintf(want, sizeof(want), "127.0.0.1:%u", a.port);
    ck_assert_str_eq(ethd_peer_remote_addr(pb), want);
    ck_assert(ethd_p2p_server_is_static(b.srv, a.pub));
    ck_assert(!ethd_p2p_server_is_static(a.srv, b.pub));

    /* per-peer service data */
    int marker = 42;
    ethd_peer_set_data(pa, &tproto, &marker);
    ck_assert_ptr_eq(ethd_peer_get_data(pa, &tproto), &marker);

    /* both directions; codes are protocol-relative */
    ck_assert_int_eq(ethd_peer_send(pb, &tproto, 2, "hello", 5, on_sent, &b.svc), 0);
    WAIT_FOR(a.svc.msgs == 1 && b.svc.sent_ok == 1);
    ck_assert_uint_eq(a.svc.last_code, 2);
    ck_assert_uint_eq(a.svc.last_len, 5);
    ck_assert_mem_eq(a.svc.last, "hello", 5);
    ck_assert_int_eq(ethd_peer_send(pa, &tproto, 3, "", 0, NULL, NULL), 0);
    WAIT_FOR(b.svc.msgs == 1);
    ck_assert_uint_eq(b.svc.last_code, 3);
    ck_assert_uint_eq(b.svc.last_len, 0);

    struct ethd_peer_stats st;
    ck_assert_int_eq(ethd_peer_stats(pa, &st), 0);
    ck_assert_uint_ge(st.msgs_in, 2); /* Hello + "hello" */
    ck_assert_uint_ge(st.msgs_out, 2);
    ck_assert_uint_gt(st.bytes_in, 300); /* the auth alone is larger */
    ck_assert_uint_gt(st.bytes_out, 0);
    ck_assert_uint_gt(st.connected_at_ms, 0);
    ck_assert_uint_eq(st.queued, 0);

    uint64_t wid;
    ck_assert_int_eq(ethd_peer_watch_close(pb, on_closed_watch, NULL, &wid), 0);
    uint64_t wid2;
    ck_assert_int_eq(ethd_peer_watch_close(pb, on_closed_watch, NULL, &wid2), 0);
    ethd_peer_unwatch(pb, wid2);

    /* a drops b: both sides see the reason */
    ethd_peer_disconnect(pa, ETHD_DISC_USELESS_PEER);
    ethd_peer_disconnect(pa, ETHD_DISC_TIMEOUT); /* idempotent: the first reason stays */
    WAIT_FOR(a.svc.disconnects == 1 && b.svc.disconnects == 1);
    ck_assert_int_eq(a.svc.last_reason, ETHD_DISC_USELESS_PEER);
    ck_assert_int_eq(b.svc.last_reason, ETHD_DISC_USELESS_PEER);
    ck_assert_int_eq(watch_reason, ETHD_DISC_USELESS_PEER);
    ck_assert(!ethd_peer_connected(pa));
    ck_assert_int_eq(ethd_peer_send(pa, &tproto, 0, "x", 1, NULL, NULL), ETHD_ECLOSED);
    ck_assert_int_eq(ethd_peer_watch_close(pa, on_closed_watch, NULL, &wid), ETHD_ECLOSED);
    /* accessors still work while referenced */
    ck_assert_mem_eq(ethd_peer_id(pa), b.pub, 64);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0 && ethd_p2p_server_conn_count(b.srv) == 0);
    ck_assert_uint_eq(ethd_p2p_peer_count(a.srv), 0);
    ck_assert_int_eq(a.svc.connects, 1);
    node_free(&a);
    node_free(&b);
}
END_TEST

START_TEST(send_argument_checks)
{
    struct tnode a, b;
    node_start(&a, NULL);
    node_start(&b, no_redial);
    connect_nodes(&a, &b);
    struct ethd_peer *pb = b.svc.peer;
    static const struct ethd_protocol other = {"oth", 1, 2, NULL, NULL, NULL, NULL, NULL};
    ck_assert_int_eq(ethd_peer_send(pb, &tproto, 4, "x", 1, NULL, NULL), ETHD_EINVAL);
    ck_assert_int_eq(ethd_peer_send(pb, &other, 0, "x", 1, NULL, NULL), ETHD_EINVAL);
    ck_assert_int_eq(ethd_peer_send(pb, &tproto, 0, NULL, 1, NULL, NULL), ETHD_EINVAL);
    ck_assert_int_eq(ethd_peer_send(NULL, &tproto, 0, "x", 1, NULL, NULL), ETHD_EINVAL);
    size_t big = (16u << 20) + 1;
    uint8_t *buf = calloc(1, big);
    ck_assert_int_eq(ethd_peer_send(pb, &tproto, 0, buf, big, NULL, NULL), ETHD_ETOOBIG);
    /* exactly the limit, compressible: fine */
    ck_assert_int_eq(ethd_peer_send(pb, &tproto, 1, buf, big - 1, on_sent, &b.svc), 0);
    free(buf);
    WAIT_FOR(a.svc.msgs == 1);
    ck_assert_uint_eq(a.svc.last_code, 1);
    WAIT_FOR(b.svc.sent_ok == 1);
    /* not negotiated */
    ck_assert_ptr_null(ethd_peer_get_data(pb, &other));
    node_free(&a);
    node_free(&b);
}
END_TEST

START_TEST(queue_bound_and_sent_callbacks)
{
    struct tnode a, b;
    node_start(&a, NULL);
    node_start(&b, no_redial);
    connect_nodes(&a, &b);
    struct ethd_peer *pb = b.svc.peer;
    /* The loop does not run between these sends: they all wait in the queue. */
    int n = 0;
    while (ethd_peer_send(pb, &tproto, 1, "x", 1, on_sent, &b.svc) == 0)
        n++;
    ck_assert_int_eq(n, 4096);
    ck_assert_int_eq(ethd_peer_send(pb, &tproto, 1, "x", 1, on_sent, &b.svc), ETHD_EBUSY);
    struct ethd_peer_stats st;
    ethd_peer_stats(pb, &st);
    ck_assert_uint_eq(st.queued, 4096);
    WAIT_FOR(a.svc.msgs == 4096 && b.svc.sent_ok == 4096);
    ethd_peer_stats(pb, &st);
    ck_assert_uint_eq(st.queued, 0);
    ck_assert_int_eq(b.svc.sent_closed, 0);
    /* Queued when the peer goes: ECLOSED, exactly once each. */
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(ethd_peer_send(pb, &tproto, 1, "y", 1, on_sent, &b.svc), 0);
    ethd_p2p_server_stop(b.srv);
    ck_assert_int_eq(b.svc.sent_ok + b.svc.sent_closed, 4096 + 10);
    ck_assert_int_eq(b.svc.disconnects, 1);
    ck_assert_int_eq(b.svc.last_reason, ETHD_DISC_QUITTING);
    node_free(&a);
    node_free(&b);
}
END_TEST

struct sender {
    struct ethd_peer *peer;
    int n, failed;
};

static void *send_thread(void *arg)
{
    struct sender *s = arg;
    for (int i = 0; i < s->n; i++) {
        uint8_t msg[8];
        memcpy(msg, &i, sizeof(i));
        if (ethd_peer_send(s->peer, &tproto, 2, msg, sizeof(msg), NULL, NULL) != 0)
            s->failed++;
    }
    return NULL;
}

START_TEST(send_from_other_threads)
{
    struct tnode a, b;
    node_start(&a, NULL);
    node_start(&b, no_redial);
    connect_nodes(&a, &b);
    struct sender s1 = {b.svc.peer, 300, 0}, s2 = {b.svc.peer, 300, 0};
    pthread_t t1, t2;
    ck_assert_int_eq(pthread_create(&t1, NULL, send_thread, &s1), 0);
    ck_assert_int_eq(pthread_create(&t2, NULL, send_thread, &s2), 0);
    WAIT_FOR(a.svc.msgs == 600);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ck_assert_int_eq(s1.failed + s2.failed, 0);
    node_free(&a);
    node_free(&b);
}
END_TEST

static void fast_ping(struct ethd_p2p_config *c)
{
    c->ping_interval_ms = 30;
}

START_TEST(ping_measures_rtt)
{
    struct tnode a, b;
    node_start(&a, fast_ping);
    node_start(&b, no_redial);
    connect_nodes(&a, &b);
    struct ethd_peer_stats st = {0};
    WAIT_FOR(ethd_peer_stats(a.svc.peer, &st) == 0 && st.last_rtt_us > 0);
    ck_assert(ethd_peer_connected(a.svc.peer));
    node_free(&a);
    node_free(&b);
}
END_TEST

static void quick_redial(struct ethd_p2p_config *c)
{
    c->redial_min_ms = 20;
    c->redial_max_ms = 100;
}

START_TEST(stop_sends_quitting_and_static_peer_is_redialed)
{
    struct tnode a, b;
    node_start(&a, NULL);
    node_start(&b, quick_redial);
    connect_nodes(&a, &b);
    uint8_t akey[32];
    memcpy(akey, a.key, 32);
    uint16_t aport = a.port;
    char aenode[300];
    snprintf(aenode, sizeof(aenode), "%s", ethd_p2p_server_enode(a.srv));

    ethd_p2p_server_stop(a.srv); /* synchronous for a ... */
    ck_assert_int_eq(a.svc.disconnects, 1);
    ck_assert_int_eq(a.svc.last_reason, ETHD_DISC_QUITTING);
    ck_assert_uint_eq(ethd_p2p_server_conn_count(a.srv), 0);
    ck_assert(!ethd_p2p_server_running(a.srv));
    WAIT_FOR(b.svc.disconnects == 1); /* ... and b is told why */
    ck_assert_int_eq(b.svc.last_reason, ETHD_DISC_QUITTING);
    node_free(&a);

    /* b keeps dialing (back-off); a comes back on the same port and key */
    for (int i = 0; i < 20; i++)
        spin(); /* some dials fail meanwhile */
    struct tnode a2;
    node_start_at(&a2, NULL, akey, aport);
    WAIT_FOR(a2.svc.connects == 1 && b.svc.connects == 2);
    ck_assert_str_eq(ethd_p2p_server_enode(a2.srv), aenode);

    /* removing the static peer disconnects it and stops the dialing */
    bool found;
    char err[256];
    ck_assert_int_eq(ethd_p2p_server_remove_peer(b.srv, aenode, &found, err, sizeof(err)), 0);
    ck_assert(found);
    ck_assert(!ethd_p2p_server_is_static(b.srv, a2.pub));
    WAIT_FOR(a2.svc.disconnects == 1 && b.svc.disconnects == 2);
    ck_assert_int_eq(b.svc.last_reason, ETHD_DISC_REQUESTED);
    WAIT_FOR(ethd_p2p_server_conn_count(b.srv) == 0);
    ck_assert_int_eq(ethd_p2p_server_remove_peer(b.srv, aenode, &found, err, sizeof(err)), 0);
    ck_assert(!found);
    ck_assert_int_eq(ethd_p2p_server_remove_peer(b.srv, "enode://x", &found, err, sizeof(err)),
                     ETHD_EINVAL);
    node_free(&a2);
    node_free(&b);
}
END_TEST

START_TEST(add_peer_checks)
{
    struct tnode a;
    node_start(&a, NULL);
    char err[256];
    ck_assert_int_eq(ethd_p2p_server_add_peer(a.srv, ethd_p2p_server_enode(a.srv), err,
                                              sizeof(err)),
                     ETHD_EEXIST);
    ck_assert_ptr_nonnull(strstr(err, "this node itself"));
    ck_assert_int_eq(ethd_p2p_add_peer(a.srv, "enode://nothex@127.0.0.1:1"), ETHD_EINVAL);
    /* 64 bytes that are not a curve point */
    char bad[300];
    snprintf(bad, sizeof(bad), "enode://%0128d@127.0.0.1:1", 0);
    ck_assert_int_eq(ethd_p2p_server_add_peer(a.srv, bad, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not a valid secp256k1 public key"));
    ck_assert_uint_eq(ethd_p2p_server_conn_count(a.srv), 0);
    /* adding a protocol to a running server is refused */
    ck_assert_int_eq(ethd_p2p_server_add_protocol(a.srv, &tproto, NULL, "x", err, sizeof(err)),
                     ETHD_ESTATE);
    node_free(&a);
}
END_TEST

START_TEST(configure_checks)
{
    struct ethd_p2p_server *s;
    struct ethd_p2p_config c;
    char err[256];
    ck_assert_int_eq(ethd_p2p_server_new(base, NULL, &s), 0);
    ck_assert_int_eq(ethd_p2p_server_start(s, err, sizeof(err)), ETHD_ESTATE);
    ethd_p2p_config_defaults(&c);
    ck_assert_int_eq(ethd_p2p_server_configure(s, &c, err, sizeof(err)), ETHD_EINVAL); /* zero key */
    ck_assert_int_eq(ethd_secp_keygen(secp, c.node_key), 0);
    c.host = "localhost";
    ck_assert_int_eq(ethd_p2p_server_configure(s, &c, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not an IP address"));
    c.host = "127.0.0.1";
    c.max_inbound = c.max_peers + 1;
    ck_assert_int_eq(ethd_p2p_server_configure(s, &c, err, sizeof(err)), ETHD_EINVAL);
    c.max_inbound = 1;
    const char *bad[] = {"enode://00@1.2.3.4:5"};
    c.static_peers = bad;
    c.n_static_peers = 1;
    ck_assert_int_eq(ethd_p2p_server_configure(s, &c, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "static peer 1"));
    ethd_p2p_server_free(s);
    ck_assert_uint_eq(ethd_p2p_default_max_inbound(50), 25);
    ck_assert_uint_eq(ethd_p2p_default_max_inbound(1), 1);
    ck_assert_uint_eq(ethd_p2p_default_max_inbound(0), 0);
    ck_assert_str_eq(ethd_disc_reason_str(ETHD_DISC_TOO_MANY_PEERS), "too many peers");
    ck_assert_str_eq(ethd_disc_reason_str(0x42), "unknown reason");
}
END_TEST

/* ---- the raw RLPx client ---- */

enum raw_mode { RAW_RANDOM, RAW_SILENT, RAW_SESSION };
enum raw_hello { HELLO_GOOD, HELLO_GARBAGE, HELLO_WRONG_ID, HELLO_NONE };

struct raw {
    /* script */
    uint16_t port;
    uint8_t remote_pub[64];
    uint8_t key[32];
    enum raw_mode mode;
    enum raw_hello hello;
    const char *cap;       /* advertised capability; NULL = "tst" */
    bool send_msg;         /* after the server's Hello: one message */
    uint64_t code;
    size_t len;
    bool random_fill;
    /* results */
    bool got_hello, eof;
    int reason;            /* Disconnect reason received; -1 none */
    int err;
    int done;
};

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {8, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t fill(int fd, struct ethd_buf *b)
{
    if (ethd_buf_reserve(b, 65536))
        return -1;
    ssize_t r = recv(fd, b->data + b->len, 65536, 0);
    if (r > 0)
        b->len += (size_t)r;
    return r;
}

static void consume(struct ethd_buf *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static int raw_read(int fd, struct ethd_rlpx_frame *f, struct ethd_buf *in, uint64_t *code,
                    struct ethd_buf *payload)
{
    for (;;) {
        if (in->len) {
            size_t consumed = 0, need = 0, plen = 0;
            const uint8_t *p = NULL;
            int rc = ethd_rlpx_frame_read(f, in->data, in->len, &consumed, &need, code, &p, &plen);
            if (rc == 0) {
                ethd_buf_reset(payload);
                ethd_buf_append(payload, p ? p : (const uint8_t *)"", plen);
                consume(in, consumed);
                return 0;
            }
            if (rc != ETHD_EAGAIN)
                return rc;
        }
        if (fill(fd, in) <= 0)
            return ETHD_ECLOSED;
    }
}

static int raw_send(int fd, struct ethd_rlpx_frame *f, uint64_t code, const uint8_t *p, size_t n,
                    bool compress)
{
    struct ethd_buf z = ETHD_BUF_INIT, out = ETHD_BUF_INIT;
    int rc = 0;
    if (compress) {
        rc = ethd_rlpx_snappy_compress(p, n, &z);
        p = z.data;
        n = z.len;
    }
    if (!rc)
        rc = ethd_rlpx_frame_write(f, code, p, n, &out);
    if (!rc)
        rc = send_all(fd, out.data, out.len) ? ETHD_EIO : 0;
    ethd_buf_free(&z);
    ethd_buf_free(&out);
    return rc;
}

static int reason_of(const uint8_t *p, size_t n)
{
    struct ethd_rlp_item it, first;
    struct ethd_rlp_iter iter;
    uint64_t v;
    if (ethd_rlp_decode(p, n, &it))
        return -1;
    if (it.is_list) {
        ethd_rlp_iter_init(&iter, &it);
        if (ethd_rlp_iter_next(&iter, &first))
            return 0;
        it = first;
    }
    return ethd_rlp_get_uint64(&it, &v) ? -1 : (int)v;
}

static void build_hello(const struct raw *r, const uint8_t pub[64], struct ethd_buf *b)
{
    struct ethd_rlp_enc e;
    const char *cap = r->cap ? r->cap : "tst";
    ethd_rlp_enc_init(&e, b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 5);
    ethd_rlp_bytes(&e, "raw/test", 8);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, cap, strlen(cap));
    ethd_rlp_uint(&e, 1);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_uint(&e, 0);
    uint8_t id[64];
    memcpy(id, pub, 64);
    if (r->hello == HELLO_WRONG_ID)
        id[5] ^= 1;
    ethd_rlp_bytes(&e, id, 64);
    ethd_rlp_bytes(&e, "future", 6); /* EIP-8: extra elements are ignored */
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
}

static void raw_session(struct raw *r, int fd)
{
    struct ethd_rlpx_handshake hs;
    struct ethd_buf in = ETHD_BUF_INIT, out = ETHD_BUF_INIT, payload = ETHD_BUF_INIT;
    struct ethd_rlpx_frame *f = NULL;
    int rc = ethd_rlpx_hs_init(&hs, secp, true, r->key, r->remote_pub);
    if (!rc)
        rc = ethd_rlpx_hs_write_auth(&hs, &out);
    if (!rc)
        rc = send_all(fd, out.data, out.len) ? ETHD_EIO : 0;
    while (!rc) {
        size_t consumed = 0, need = 0;
        rc = in.len ? ethd_rlpx_hs_read_ack(&hs, in.data, in.len, &consumed, &need) : ETHD_EAGAIN;
        if (rc == 0) {
            consume(&in, consumed);
            break;
        }
        if (rc == ETHD_EAGAIN)
            rc = fill(fd, &in) > 0 ? 0 : ETHD_ECLOSED;
    }
    struct ethd_rlpx_secrets s;
    if (!rc)
        rc = ethd_rlpx_hs_secrets(&hs, &s);
    if (!rc)
        rc = ethd_rlpx_frame_new(&s, ETHD_RLPX_FRAME_MAX, &f);
    ethd_rlpx_hs_free(&hs);
    if (rc) {
        r->err = rc;
        r->eof = rc == ETHD_ECLOSED;
        goto out;
    }
    uint8_t pub[64];
    ethd_secp_pubkey(secp, r->key, pub);
    ethd_buf_reset(&out);
    if (r->hello == HELLO_GARBAGE)
        ethd_buf_append(&out, "\xff\xff\xff", 3);
    else
        build_hello(r, pub, &out);
    if (r->hello != HELLO_NONE)
        raw_send(fd, f, 0x00, out.data, out.len, false);
    bool sent = false;
    for (;;) {
        uint64_t code;
        rc = raw_read(fd, f, &in, &code, &payload);
        if (rc) {
            r->eof = rc == ETHD_ECLOSED;
            r->err = rc == ETHD_ECLOSED ? 0 : rc;
            break;
        }
        if (code == 0x00) {
            r->got_hello = true;
            if (r->send_msg && !sent) {
                uint8_t *msg = calloc(1, r->len ? r->len : 1);
                if (r->random_fill)
                    getrandom(msg, r->len, 0);
                raw_send(fd, f, r->code, msg, r->len, !r->random_fill);
                free(msg);
                sent = true;
            }
        } else if (code == 0x01) {
            /* compressed once both Hellos are through, plain before */
            struct ethd_buf z = ETHD_BUF_INIT;
            int v = -1;
            if (ethd_rlpx_snappy_decompress(payload.data, payload.len, 4096, &z) == 0)
                v = reason_of(z.data, z.len);
            if (v < 0)
                v = reason_of(payload.data, payload.len);
            ethd_buf_free(&z);
            r->reason = v;
            /* the server closes after a Disconnect */
            r->eof = raw_read(fd, f, &in, &code, &payload) == ETHD_ECLOSED;
            break;
        }
        /* Ping and others: never answered (a silent peer) */
    }
out:
    ethd_rlpx_frame_free(f);
    ethd_buf_free(&in);
    ethd_buf_free(&out);
    ethd_buf_free(&payload);
}

static void *raw_main(void *arg)
{
    struct raw *r = arg;
    int fd = raw_connect(r->port);
    if (fd < 0) {
        r->err = ETHD_EIO;
        __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    if (r->mode == RAW_RANDOM) {
        uint8_t junk[2500];
        getrandom(junk, sizeof(junk), 0);
        junk[0] = 0x04; /* does not look like an EIP-8 size prefix either way */
        send_all(fd, junk, sizeof(junk));
    }
    if (r->mode == RAW_RANDOM || r->mode == RAW_SILENT) {
        struct ethd_buf in = ETHD_BUF_INIT;
        ssize_t n;
        while ((n = fill(fd, &in)) > 0)
            in.len = 0;
        r->eof = n == 0 || n < 0;
        r->err = n < 0 ? ETHD_EIO : 0;
        ethd_buf_free(&in);
    } else {
        raw_session(r, fd);
    }
    close(fd);
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Run the raw client against `to` while the loop serves. */
static void raw_run(struct raw *r, const struct tnode *to)
{
    r->port = to->port;
    memcpy(r->remote_pub, to->pub, 64);
    r->reason = -1;
    bool zero = true;
    for (int i = 0; i < 32; i++)
        zero &= r->key[i] == 0;
    if (zero)
        ck_assert_int_eq(ethd_secp_keygen(secp, r->key), 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, raw_main, r), 0);
    WAIT_FOR(__atomic_load_n(&r->done, __ATOMIC_ACQUIRE));
    pthread_join(t, NULL);
}

/* ---- bad input against a listening server ---- */

static void short_handshake(struct ethd_p2p_config *c)
{
    c->handshake_timeout_ms = 300;
}

START_TEST(random_bytes_instead_of_auth)
{
    struct tnode a, b;
    node_start(&a, NULL);
    struct raw r = {.mode = RAW_RANDOM};
    raw_run(&r, &a);
    ck_assert(r.eof);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0);
    /* still serving */
    node_start(&b, no_redial);
    connect_nodes(&a, &b);
    ck_assert_uint_eq(ethd_p2p_peer_count(a.srv), 1);
    node_free(&a);
    node_free(&b);
}
END_TEST

START_TEST(silent_connection_times_out)
{
    struct tnode a;
    node_start(&a, short_handshake);
    struct raw r = {.mode = RAW_SILENT};
    raw_run(&r, &a); /* returns when the server closes the socket */
    ck_assert(r.eof);
    ck_assert_int_eq(r.err, 0);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0);
    ck_assert_uint_eq(ethd_p2p_peer_count(a.srv), 0);
    /* ... also after the RLPx handshake, without a Hello */
    struct raw r2 = {.mode = RAW_SESSION, .hello = HELLO_NONE};
    raw_run(&r2, &a);
    ck_assert_int_eq(r2.reason, ETHD_DISC_TIMEOUT);
    ck_assert(r2.got_hello); /* the server's Hello came first */
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0);
    ck_assert_int_eq(a.svc.connects, 0);
    node_free(&a);
}
END_TEST

START_TEST(dial_self)
{
    struct tnode a;
    node_start(&a, NULL);
    struct raw r = {.mode = RAW_SESSION};
    memcpy(r.key, a.key, 32); /* the other end has our own key */
    raw_run(&r, &a);
    ck_assert_int_eq(r.reason, ETHD_DISC_SELF);
    ck_assert(!r.got_hello);
    ck_assert(r.eof);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0);
    ck_assert_int_eq(a.svc.connects, 0);
    node_free(&a);
}
END_TEST

static void one_peer(struct ethd_p2p_config *c)
{
    c->max_peers = 1;
    c->max_inbound = 1;
}

START_TEST(too_many_peers)
{
    struct tnode a, b;
    node_start(&a, one_peer);
    node_start(&b, no_redial);
    connect_nodes(&a, &b);
    struct raw r = {.mode = RAW_SESSION};
    raw_run(&r, &a);
    ck_assert_int_eq(r.reason, ETHD_DISC_TOO_MANY_PEERS);
    ck_assert(r.eof);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 1);
    ck_assert_uint_eq(ethd_p2p_peer_count(a.srv), 1);
    ck_assert(ethd_peer_connected(a.svc.peer));
    node_free(&a);
    node_free(&b);
}
END_TEST

START_TEST(duplicate_connection)
{
    struct tnode a, b;
    node_start(&a, NULL);
    node_start(&b, no_redial);
    connect_nodes(&a, &b);
    struct raw r = {.mode = RAW_SESSION};
    memcpy(r.key, b.key, 32); /* b again, on a second connection */
    raw_run(&r, &a);
    ck_assert_int_eq(r.reason, ETHD_DISC_ALREADY_CONNECTED);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 1);
    ck_assert(ethd_peer_connected(a.svc.peer)); /* the first connection stays */
    ck_assert_int_eq(a.svc.disconnects, 0);
    node_free(&a);
    node_free(&b);
}
END_TEST

START_TEST(message_reaches_service)
{
    struct tnode a;
    node_start(&a, NULL);
    a.svc.msg_rc = ETHD_EINVAL; /* ... and a service error drops the peer */
    struct raw r = {.mode = RAW_SESSION, .send_msg = true, .code = 0x12, .len = 3};
    raw_run(&r, &a);
    ck_assert(r.got_hello);
    ck_assert_int_eq(a.svc.msgs, 1);
    ck_assert_uint_eq(a.svc.last_code, 2); /* 0x12 - offset 0x10 */
    ck_assert_int_eq(r.reason, ETHD_DISC_SUBPROTOCOL);
    ck_assert_int_eq(a.svc.disconnects, 1);
    ck_assert_int_eq(a.svc.last_reason, ETHD_DISC_SUBPROTOCOL);
    node_free(&a);
}
END_TEST

START_TEST(code_outside_capabilities)
{
    struct tnode a;
    node_start(&a, NULL);
    struct raw r = {.mode = RAW_SESSION, .send_msg = true, .code = 0x14, .len = 1};
    raw_run(&r, &a); /* tst/1 has 4 codes: 0x10..0x13 */
    ck_assert(r.got_hello);
    ck_assert_int_eq(r.reason, ETHD_DISC_PROTOCOL_ERROR);
    ck_assert_int_eq(a.svc.msgs, 0);
    ck_assert_int_eq(a.svc.disconnects, 1);
    ck_assert_int_eq(a.svc.last_reason, ETHD_DISC_PROTOCOL_ERROR);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0);
    node_free(&a);
}
END_TEST

static void small_messages(struct ethd_p2p_config *c)
{
    c->max_message_size = 1024;
}

START_TEST(oversized_message)
{
    struct tnode a;
    node_start(&a, small_messages);
    /* compresses to a small frame, but declares 4096 bytes: refused before inflating */
    struct raw r = {.mode = RAW_SESSION, .send_msg = true, .code = 0x10, .len = 4096};
    raw_run(&r, &a);
    ck_assert_int_eq(r.reason, ETHD_DISC_PROTOCOL_ERROR);
    ck_assert_int_eq(a.svc.msgs, 0);
    /* incompressible (sent raw): the frame itself is over the limit */
    struct raw r2 = {.mode = RAW_SESSION, .send_msg = true, .code = 0x10, .len = 8192,
                     .random_fill = true};
    raw_run(&r2, &a);
    ck_assert_int_eq(r2.reason, ETHD_DISC_PROTOCOL_ERROR);
    ck_assert_int_eq(a.svc.msgs, 0);
    /* at the limit: delivered */
    struct raw r3 = {.mode = RAW_SESSION, .send_msg = true, .code = 0x11, .len = 1024};
    a.svc.msg_rc = ETHD_EPROTO; /* end the session: EPROTO maps to ProtocolError */
    raw_run(&r3, &a);
    ck_assert_int_eq(a.svc.msgs, 1);
    ck_assert_uint_eq(a.svc.last_len, 64); /* (truncated copy) */
    ck_assert_int_eq(r3.reason, ETHD_DISC_PROTOCOL_ERROR);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0);
    node_free(&a);
}
END_TEST

START_TEST(bad_hello)
{
    struct tnode a;
    node_start(&a, NULL);
    struct raw r = {.mode = RAW_SESSION, .hello = HELLO_GARBAGE};
    raw_run(&r, &a);
    ck_assert_int_eq(r.reason, ETHD_DISC_PROTOCOL_ERROR);
    struct raw r2 = {.mode = RAW_SESSION, .hello = HELLO_WRONG_ID};
    raw_run(&r2, &a);
    ck_assert_int_eq(r2.reason, ETHD_DISC_UNEXPECTED_IDENTITY);
    struct raw r3 = {.mode = RAW_SESSION, .cap = "zzz"};
    raw_run(&r3, &a);
    ck_assert_int_eq(r3.reason, ETHD_DISC_USELESS_PEER);
    ck_assert_int_eq(a.svc.connects, 0);
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0);
    node_free(&a);
}
END_TEST

START_TEST(on_connect_failure)
{
    struct tnode a;
    node_start(&a, NULL);
    a.svc.fail_connect = true;
    struct raw r = {.mode = RAW_SESSION};
    raw_run(&r, &a);
    ck_assert(r.got_hello);
    ck_assert_int_eq(r.reason, ETHD_DISC_SUBPROTOCOL);
    ck_assert_int_eq(a.svc.connects, 1);
    ck_assert_int_eq(a.svc.disconnects, 0); /* a failed on_connect has no on_disconnect */
    WAIT_FOR(ethd_p2p_server_conn_count(a.srv) == 0);
    ck_assert_uint_eq(ethd_p2p_peer_count(a.srv), 0);
    node_free(&a);
}
END_TEST

static void short_idle(struct ethd_p2p_config *c)
{
    c->ping_interval_ms = 50;
    c->ping_timeout_ms = 200;
}

START_TEST(silent_peer_is_dropped)
{
    struct tnode a;
    node_start(&a, short_idle);
    struct raw r = {.mode = RAW_SESSION}; /* says Hello, then never answers a Ping */
    raw_run(&r, &a);
    ck_assert(r.got_hello);
    ck_assert_int_eq(r.reason, ETHD_DISC_TIMEOUT);
    ck_assert_int_eq(a.svc.connects, 1);
    ck_assert_int_eq(a.svc.disconnects, 1);
    ck_assert_int_eq(a.svc.last_reason, ETHD_DISC_TIMEOUT);
    node_free(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("peer");
    TCase *tc = tcase_create("known_set");
    tcase_add_test(tc, known_set_fifo_eviction);
    tcase_add_test(tc, known_set_many);
    suite_add_tcase(s, tc);

    tc = tcase_create("peers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, connect_exchange_disconnect);
    tcase_add_test(tc, send_argument_checks);
    tcase_add_test(tc, queue_bound_and_sent_callbacks);
    tcase_add_test(tc, send_from_other_threads);
    tcase_add_test(tc, ping_measures_rtt);
    tcase_add_test(tc, stop_sends_quitting_and_static_peer_is_redialed);
    tcase_add_test(tc, add_peer_checks);
    tcase_add_test(tc, configure_checks);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, random_bytes_instead_of_auth);
    tcase_add_test(tc, silent_connection_times_out);
    tcase_add_test(tc, dial_self);
    tcase_add_test(tc, too_many_peers);
    tcase_add_test(tc, duplicate_connection);
    tcase_add_test(tc, message_reaches_service);
    tcase_add_test(tc, code_outside_capabilities);
    tcase_add_test(tc, oversized_message);
    tcase_add_test(tc, bad_hello);
    tcase_add_test(tc, on_connect_failure);
    tcase_add_test(tc, silent_peer_is_dropped);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
