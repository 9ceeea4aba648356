/* p2p server figures on loopback (127.0.0.1 only), printed next to a bound
 * measured in the same run; no assertions.
 *
 * (a) Throughput: two in-process p2p servers (core/p2p/server.h) on ONE
 *     libevent loop thread, B dialling A; B sends 1 MiB messages of a
 *     capability "bench/1" (random bytes: snappy cannot shrink them) and A
 *     counts them. MB/s of payload, best of 3 rounds, next to the bound for
 *     the same bytes on the same core: AES-256-CTR over them twice plus
 *     Keccak absorbing them twice (frame encryption and frame MAC on the
 *     sending and on the receiving side; nettle + <ethd/keccak.h>), measured
 *     alternately with the rounds. Everything else the transport does (snappy
 *     in both directions, copies, the kernel's loopback) is the gap to 1.0.
 * (b) Memory: server A alone in this process; a forked child opens 1,000
 *     connections with the RLPx codec (core/p2p/rlpx.h), each with its own
 *     node key, completes the handshake and sends Hello, then stays idle.
 *     Printed: this process's RSS growth / 1,000 (ethd's own per-peer
 *     memory), the machine's slab growth / 2,000 sockets (kernel side of one
 *     socket, approximate: other processes count too), next to PERF.md's
 *     8.2 kB per idle TCP connection (kernel + a libevent event + 4 KiB).
 *
 * Usage: bench_p2p [peers]   (default 1000) */
#include "p2p/rlpx.h"
#include "p2p/server.h"

#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/p2p.h>
#include <ethd/plugin.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_SIZE (1u << 20)  /* payload bytes per message (an RLP string) */
#define WINDOW 4             /* messages in flight */
#define ROUND_MSGS 192       /* per measured round (192 MiB) */
#define ROUNDS 3
#define WAIT_S 20            /* bound on every wait for the loop */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_p2p: %s failed%s%s\n", what, rc ? ": " : "", rc ? ethd_strerror(rc) : "");
    exit(1);
}

static void rnd(void *p, size_t n)
{
    if (getrandom(p, n, 0) != (ssize_t)n)
        die("getrandom", 0);
}

/* ---- the bound: AES-256-CTR x2 + Keccak absorb x2 of the same bytes ---- */

struct bound_job {
    struct aes256_ctx aes;
    uint8_t ctr_a[AES_BLOCK_SIZE], ctr_b[AES_BLOCK_SIZE];
    struct ethd_keccak mac_a, mac_b;
    uint8_t *src, *tmp, *tmp2;
};

/* MB/s of payload for `n` messages' worth of sender + receiver crypto:
 * the two AES passes and the two Keccak passes are timed apart (their rates
 * go to *aes_mbs and *keccak_mbs, per pass) and combined as one core would
 * run them one after another. */
static double bound_run(struct bound_job *j, unsigned n, double *aes_mbs, double *keccak_mbs)
{
    double t_aes = 0, t_mac = 0;
    for (unsigned i = 0; i < n; i++) {
        double t0 = now();
        /* sender encrypts; receiver decrypts (CTR: the same operation) */
        ctr_crypt(&j->aes, (nettle_cipher_func *)aes256_encrypt, AES_BLOCK_SIZE, j->ctr_a, MSG_SIZE,
                  j->tmp, j->src);
        ctr_crypt(&j->aes, (nettle_cipher_func *)aes256_encrypt, AES_BLOCK_SIZE, j->ctr_b, MSG_SIZE,
                  j->tmp2, j->tmp);
        double t1 = now();
        /* both frame MACs absorb the ciphertext */
        ethd_keccak_update(&j->mac_a, j->tmp, MSG_SIZE);
        ethd_keccak_update(&j->mac_b, j->tmp, MSG_SIZE);
        t_mac += now() - t1;
        t_aes += t1 - t0;
    }
    double bytes = (double)n * MSG_SIZE;
    *aes_mbs = 2 * bytes / t_aes / 1e6;
    *keccak_mbs = 2 * bytes / t_mac / 1e6;
    return bytes / (t_aes + t_mac) / 1e6;
}

/* ---- the "bench/1" capability ---- */

struct side {
    struct ethd_p2p_server *srv;
    struct ethd_peer *peer; /* referenced while connected */
    /* receiver */
    uint64_t got_msgs, got_bytes, want_msgs;
    double t_last;
    /* sender */
    const uint8_t *payload;
    uint64_t to_send, sent, in_flight;
    int send_err;
    struct event *retry;
};

static struct event_base *g_base; /* only for loopbreak from callbacks */

static int bench_connect(void *self, struct ethd_peer *peer)
{
    struct side *s = self;
    if (!s->peer) {
        ethd_peer_ref(peer);
        s->peer = peer;
    }
    return 0;
}

static int bench_message(void *self, struct ethd_peer *peer, uint64_t code, const uint8_t *payload,
                         size_t len)
{
    struct side *s = self;
    (void)peer;
    (void)code;
    (void)payload;
    s->got_msgs++;
    s->got_bytes += len;
    if (s->want_msgs && s->got_msgs >= s->want_msgs) {
        s->t_last = now();
        event_base_loopbreak(g_base);
    }
    return 0;
}

static void bench_disconnect(void *self, struct ethd_peer *peer, int reason)
{
    struct side *s = self;
    (void)reason;
    if (s->peer == peer) {
        s->peer = NULL;
        ethd_peer_unref(peer);
    }
}

static const struct ethd_protocol bench_proto = {
    "bench", 1, 1, bench_connect, bench_message, bench_disconnect, NULL, NULL,
};

static void pump(struct side *s);

static void on_sent(struct ethd_peer *peer, int status, void *arg)
{
    struct side *s = arg;
    (void)peer;
    s->in_flight--;
    if (status)
        s->send_err = status;
    pump(s);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

/* Keep WINDOW messages queued until to_send are out. */
static void pump(struct side *s)
{
    while (s->peer && !s->send_err && s->sent < s->to_send && s->in_flight < WINDOW) {
        int rc = ethd_peer_send(s->peer, &bench_proto, 0, s->payload, MSG_SIZE, on_sent, s);
        if (rc == ETHD_EBUSY) {
            struct timeval tv = {0, 1000};
            evtimer_add(s->retry, &tv);
            return;
        }
        if (rc) {
            s->send_err = rc;
            event_base_loopbreak(g_base);
            return;
        }
        s->sent++;
        s->in_flight++;
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(int *)arg = 1;
    event_base_loopbreak(g_base);
}

/* Run the loop until cond(arg) or WAIT_S seconds; 0 if cond became true. */
static int run_until(struct event_base *base, int (*cond)(void *), void *arg, struct event *poll_ev)
{
    int expired = 0;
    struct event *deadline = evtimer_new(base, on_deadline, &expired);
    struct timeval tv = {WAIT_S, 0};
    evtimer_add(deadline, &tv);
    while (!cond(arg) && !expired) {
        if (poll_ev) {
            struct timeval p = {0, 20000};
            evtimer_add(poll_ev, &p);
        }
        event_base_loop(base, EVLOOP_ONCE);
    }
    event_free(deadline);
    return cond(arg) ? 0 : ETHD_ETIMEDOUT;
}

static void nop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void server_open(struct event_base *base, struct side *s, const char *name, uint32_t max_peers,
                        const struct ethd_secp *secp, const char *static_peer)
{
    char err[256];
    int rc = ethd_p2p_server_new(base, NULL, &s->srv);
    if (rc)
        die("ethd_p2p_server_new", rc);
    if ((rc = ethd_p2p_server_add_protocol(s->srv, &bench_proto, s, name, err, sizeof(err))))
        die(err, rc);
    struct ethd_p2p_config cfg;
    ethd_p2p_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    if ((rc = ethd_secp_keygen(secp, cfg.node_key)))
        die("keygen", rc);
    cfg.max_peers = max_peers;
    cfg.max_inbound = max_peers;
    cfg.ping_interval_ms = 600000; /* idle means idle while we measure */
    cfg.ping_timeout_ms = 1200000;
    cfg.handshake_timeout_ms = 20000;
    cfg.static_peers = static_peer ? &static_peer : NULL;
    cfg.n_static_peers = static_peer ? 1 : 0;
    if ((rc = ethd_p2p_server_configure(s->srv, &cfg, err, sizeof(err))))
        die(err, rc);
    if ((rc = ethd_p2p_server_start(s->srv, err, sizeof(err))))
        die(err, rc);
}

static void server_close(struct side *s)
{
    ethd_p2p_server_stop(s->srv);
    ethd_p2p_server_free(s->srv);
    s->srv = NULL;
}

static int both_connected(void *arg)
{
    struct side *p = arg;
    return p[0].peer && p[1].peer;
}

static int all_received(void *arg)
{
    struct side *a = arg;
    return a->got_msgs >= a->want_msgs || a[1].send_err;
}

static void bench_throughput(const struct ethd_secp *secp)
{
    struct event_base *base = event_base_new();
    if (!base)
        die("event_base_new", 0);
    g_base = base;
    struct side sides[2];
    memset(sides, 0, sizeof(sides));
    struct side *a = &sides[0], *b = &sides[1];
    server_open(base, a, "bench-a", 4, secp, NULL);
    char enode[300];
    snprintf(enode, sizeof(enode), "%s", ethd_p2p_server_enode(a->srv));
    server_open(base, b, "bench-b", 4, secp, enode);
    struct event *poll_ev = evtimer_new(base, nop_cb, NULL);
    b->retry = evtimer_new(base, on_retry, b);
    if (run_until(base, both_connected, sides, poll_ev))
        die("connecting the two servers", ETHD_ETIMEDOUT);

    /* An RLP string of MSG_SIZE bytes in all: 0xba, 3 length bytes, data. */
    uint8_t *payload = malloc(MSG_SIZE);
    if (!payload)
        die("malloc", ETHD_ENOMEM);
    rnd(payload, MSG_SIZE);
    size_t body = MSG_SIZE - 4;
    payload[0] = 0xba;
    payload[1] = (uint8_t)(body >> 16);
    payload[2] = (uint8_t)(body >> 8);
    payload[3] = (uint8_t)body;
    b->payload = payload;

    struct bound_job bj;
    uint8_t key[32];
    rnd(key, sizeof(key));
    aes256_set_encrypt_key(&bj.aes, key);
    memset(bj.ctr_a, 0, sizeof(bj.ctr_a));
    memset(bj.ctr_b, 0, sizeof(bj.ctr_b));
    ethd_keccak_init(&bj.mac_a);
    ethd_keccak_init(&bj.mac_b);
    bj.src = payload;
    bj.tmp = malloc(MSG_SIZE);
    bj.tmp2 = malloc(MSG_SIZE);
    if (!bj.tmp || !bj.tmp2)
        die("malloc", ETHD_ENOMEM);

    printf("(a) 1 MiB messages over one RLPx connection, two in-process servers, one loop thread\n");
    double best = 0, best_bound = 0, best_aes = 0, best_keccak = 0;
    for (int round = 0; round <= ROUNDS; round++) {
        unsigned n = round == 0 ? 16 : ROUND_MSGS; /* round 0 warms up */
        a->got_msgs = a->got_bytes = 0;
        a->want_msgs = n;
        b->to_send = n;
        b->sent = 0;
        double t0 = now();
        pump(b);
        if (run_until(base, all_received, sides, NULL) || b->send_err)
            die("sending", b->send_err ? b->send_err : ETHD_ETIMEDOUT);
        double mbs = (double)a->got_bytes / (a->t_last - t0) / 1e6;
        double aes, keccak, bound = bound_run(&bj, n / 4 ? n / 4 : 1, &aes, &keccak);
        if (round == 0)
            continue;
        printf("  round %d: ethd %7.1f MB/s   bound %7.1f MB/s (AES-256-CTR %.0f MB/s, "
               "Keccak absorb %.0f MB/s)\n",
               round, mbs, bound, aes, keccak);
        if (mbs > best)
            best = mbs;
        if (bound > best_bound) {
            best_bound = bound;
            best_aes = aes;
            best_keccak = keccak;
        }
    }
    uint8_t d[32];
    ethd_keccak_final(&bj.mac_a, d);
    ethd_keccak_final(&bj.mac_b, d);
    printf("  best of %d: ethd %.1f MB/s of payload; bound %.1f MB/s (AES-256-CTR x2 + Keccak x2 "
           "on one core: %.0f and %.0f MB/s per pass); ratio %.2f\n",
           ROUNDS, best, best_bound, best_aes, best_keccak, best / best_bound);

    server_close(b);
    server_close(a);
    free(bj.tmp);
    free(bj.tmp2);
    free(payload);
    event_free(b->retry);
    event_free(poll_ev);
    event_base_free(base);
}

/* ---- (b) idle peers ---- */

static long rss_bytes(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &res) != 2)
        res = 0;
    if (f)
        fclose(f);
    return res * sysconf(_SC_PAGESIZE);
}

/* Slab memory of the whole machine, bytes (/proc/meminfo "Slab:"). */
static long slab_bytes(void)
{
    char line[256];
    long kb = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Slab: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One client: connect, auth, read ack, send Hello [5, id, [[bench, 1]], 0,
 * pub]. Leaves the socket open and idle; returns it, or -1. */
static int client_connect(const struct ethd_secp *secp, uint16_t port, const uint8_t srv_pub[64])
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto fail;
    uint8_t key[32], pub[64];
    struct ethd_rlpx_handshake hs;
    struct ethd_rlpx_secrets sec;
    struct ethd_rlpx_frame *fr = NULL;
    struct ethd_buf out = ETHD_BUF_INIT, hello = ETHD_BUF_INIT;
    uint8_t in[ETHD_RLPX_HANDSHAKE_MAX];
    size_t have = 0, consumed, need;
    int rc = -1;
    if (ethd_secp_keygen(secp, key) || ethd_secp_pubkey(secp, key, pub) ||
        ethd_rlpx_hs_init(&hs, secp, true, key, srv_pub))
        goto fail;
    if (ethd_rlpx_hs_write_auth(&hs, &out) || write_all(fd, out.data, out.len))
        goto done;
    for (;;) {
        int r = ethd_rlpx_hs_read_ack(&hs, in, have, &consumed, &need);
        if (r == 0)
            break;
        if (r != ETHD_EAGAIN || have == sizeof(in))
            goto done;
        ssize_t got = read(fd, in + have, sizeof(in) - have);
        if (got <= 0)
            goto done;
        have += (size_t)got;
    }
    if (ethd_rlpx_hs_secrets(&hs, &sec) || ethd_rlpx_frame_new(&sec, ETHD_RLPX_FRAME_MAX, &fr))
        goto done;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &hello);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 5);
    ethd_rlp_bytes(&e, "bench_p2p/idle", 14);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, "bench", 5);
    ethd_rlp_uint(&e, 1);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_uint(&e, 0);
    ethd_rlp_bytes(&e, pub, 64);
    ethd_rlp_list_end(&e);
    ethd_buf_reset(&out);
    if (ethd_rlp_enc_finish(&e) || ethd_rlpx_frame_write(fr, 0, hello.data, hello.len, &out) ||
        write_all(fd, out.data, out.len))
        goto done;
    rc = 0;
done:
    ethd_rlpx_frame_free(fr);
    ethd_rlpx_hs_free(&hs);
    ethd_buf_free(&out);
    ethd_buf_free(&hello);
    explicit_bzero(key, sizeof(key));
    if (rc == 0)
        return fd;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The child: read {port, server pub} from `in`, open n clients, report the
 * count on `out`, then hold them until `in` closes. */
static void child_main(int in, int out, unsigned n)
{
    uint8_t msg[2 + 64];
    size_t have = 0;
    while (have < sizeof(msg)) {
        ssize_t r = read(in, msg + have, sizeof(msg) - have);
        if (r <= 0)
            _exit(1);
        have += (size_t)r;
    }
    uint16_t port = (uint16_t)(msg[0] << 8 | msg[1]);
    struct ethd_secp *secp;
    if (ethd_secp_new(&secp))
        _exit(1);
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++)
        if (client_connect(secp, port, msg + 2) >= 0)
            ok++;
    uint8_t res[4] = {(uint8_t)(ok >> 24), (uint8_t)(ok >> 16), (uint8_t)(ok >> 8), (uint8_t)ok};
    if (write_all(out, res, 4))
        _exit(1);
    char c;
    while (read(in, &c, 1) > 0) {
    }
    _exit(0); /* the kernel closes the n sockets */
}

struct count_arg {
    struct ethd_p2p_server *srv;
    size_t want;
};

static int enough_peers(void *arg)
{
    struct count_arg *c = arg;
    return ethd_p2p_peer_count(c->srv) >= c->want;
}

static void bench_idle(const struct ethd_secp *secp, unsigned n)
{
    /* Both ends of n sockets, and some spare. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * n + 64) {
        rl.rlim_cur = rl.rlim_max < 2 * n + 64 ? rl.rlim_max : 2 * n + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
        printf("(b) skipped: RLIMIT_NOFILE %lu is too low for %u peers\n",
               (unsigned long)rl.rlim_cur, n);
        return;
    }
    int to_child[2], from_child[2];
    if (pipe(to_child) || pipe(from_child))
        die("pipe", 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", 0);
    if (pid == 0) {
        close(to_child[1]);
        close(from_child[0]);
        child_main(to_child[0], from_child[1], n);
    }
    close(to_child[0]);
    close(from_child[1]);

    struct event_base *base = event_base_new();
    if (!base)
        die("event_base_new", 0);
    g_base = base;
    struct side a;
    memset(&a, 0, sizeof(a));
    server_open(base, &a, "bench-idle", n + 16, secp, NULL);
    struct event *poll_ev = evtimer_new(base, nop_cb, NULL);
    /* Let the loop settle, then take the baseline. */
    event_base_loop(base, EVLOOP_NONBLOCK);
    long rss0 = rss_bytes(), slab0 = slab_bytes();

    uint8_t msg[2 + 64];
    uint16_t port = ethd_p2p_server_port(a.srv);
    msg[0] = (uint8_t)(port >> 8);
    msg[1] = (uint8_t)port;
    memcpy(msg + 2, ethd_p2p_node_id(a.srv), 64);
    if (write_all(to_child[1], msg, sizeof(msg)))
        die("writing to the child", 0);
    double t0 = now();
    struct count_arg ca = {a.srv, n};
    int rc = run_until(base, enough_peers, &ca, poll_ev);
    double dt = now() - t0;
    size_t peers = ethd_p2p_peer_count(a.srv);
    /* Let freed handshake state settle and timers run once. */
    for (int i = 0; i < 10; i++) {
        struct timeval p = {0, 10000};
        evtimer_add(poll_ev, &p);
        event_base_loop(base, EVLOOP_ONCE);
    }
    long rss1 = rss_bytes(), slab1 = slab_bytes();
    uint8_t res[4] = {0};
    size_t have = 0;
    while (have < 4) {
        ssize_t r = read(from_child[0], res + have, 4 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    unsigned opened = (unsigned)res[0] << 24 | (unsigned)res[1] << 16 | (unsigned)res[2] << 8 | res[3];

    printf("(b) %zu idle peers connected (%u opened by the child%s) in %.2f s\n", peers, opened,
           rc ? ", timed out waiting" : "", dt);
    if (peers > 0) {
        double user = (double)(rss1 - rss0) / (double)peers;
        double kern = (double)(slab1 - slab0) / (2.0 * (double)peers);
        printf("  ethd RSS growth per peer      %8.1f kB\n", user / 1000.0);
        printf("  kernel slab per socket (~)     %8.1f kB   (machine-wide, both ends / 2)\n",
               kern / 1000.0);
        printf("  sum                            %8.1f kB   vs PERF.md idle TCP connection 8.2 kB"
               " (ratio %.2f)\n",
               (user + kern) / 1000.0, (user + kern) / 8200.0);
    }
    close(to_child[1]); /* the child exits and its sockets close */
    int status;
    waitpid(pid, &status, 0);
    close(from_child[0]);
    server_close(&a);
    event_free(poll_ev);
    event_base_free(base);
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
    if (n == 0 || n > 20000) {
        fprintf(stderr, "usage: bench_p2p [peers 1..20000]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct ethd_secp *secp;
    int rc = ethd_secp_new(&secp);
    if (rc)
        die("ethd_secp_new", rc);
    bench_throughput(secp);
    bench_idle(secp, n);
    ethd_secp_free(secp);
    return 0;
}
