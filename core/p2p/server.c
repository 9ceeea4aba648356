/* The p2p server: capability table, listener, static-peer dialer with
 * back-off, admission policy (self, duplicates, max peers), and the peer
 * list. The connections themselves are core/p2p/peer.c. */
#include "p2p/server.h"

#include "p2p/enode.h"
#include "p2p/hello.h"
#include "p2p/peer.h"
#include "version.h"

#include <ethd/hex.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define LISTEN_BACKLOG 128
#define ACCEPT_PAUSE_MS 1000 /* after accept() fails (EMFILE...), before trying again */

struct static_peer {
    struct static_peer *next;
    struct ethd_p2p_server *srv;
    struct ethd_enode node;
    char url[ETHD_ENODE_MAX_LEN];
    struct event *timer;
    uint64_t backoff_ms;
    struct ethd_peer *peer; /* our dial, in progress or connected */
};

struct ethd_p2p_server {
    struct event_base *base;
    const struct ethd_logger *log;
    struct ethd_p2p_protocol_entry *protos;
    size_t n, cap;

    bool configured, running;
    struct ethd_secp *secp;
    struct ethd_p2p_config cfg; /* strings below are our copies */
    char *host, *client_id;
    uint8_t id[64];
    char adv_ip[INET6_ADDRSTRLEN]; /* what the enode URL advertises */
    char enode[ETHD_ENODE_MAX_LEN];
    struct ethd_peer_env env;
    struct ethd_buf hello;

    struct evconnlistener *listener;
    struct event *accept_pause;
    uint16_t bound_port;

    struct ethd_peer *peers; /* every live connection, any state */
    size_t n_conn, n_conn_in, n_pending_in, n_active;
    struct static_peer *statics;
    uint64_t rng;
};

/* ---- configuration ---- */

uint32_t ethd_p2p_default_max_inbound(uint32_t max_peers)
{
    uint32_t v = max_peers / 2;
    return v == 0 && max_peers > 0 ? 1 : v;
}

void ethd_p2p_config_defaults(struct ethd_p2p_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "127.0.0.1";
    cfg->port = 30303;
    cfg->max_peers = ETHD_P2P_DEFAULT_MAX_PEERS;
    cfg->max_inbound = ethd_p2p_default_max_inbound(cfg->max_peers);
    cfg->handshake_timeout_ms = 5000;
    cfg->ping_interval_ms = 15000;
    cfg->ping_timeout_ms = 30000;
    cfg->max_message_size = 16u << 20;
    cfg->redial_min_ms = 1000;
    cfg->redial_max_ms = 60000;
    cfg->redial_healthy_ms = 30000;
}

int ethd_p2p_server_new(struct event_base *base, const struct ethd_logger *lg,
                        struct ethd_p2p_server **out)
{
    struct ethd_p2p_server *s = calloc(1, sizeof(*s));
    if (!s)
        return ETHD_ENOMEM;
    s->base = base;
    s->log = lg;
    ethd_p2p_config_defaults(&s->cfg);
    if (getrandom(&s->rng, sizeof(s->rng), GRND_NONBLOCK) != (ssize_t)sizeof(s->rng))
        s->rng = (uint64_t)(uintptr_t)s;
    s->rng |= 1;
    *out = s;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct ethd_p2p_protocol_entry *x = a, *y = b;
    int c = strcmp(x->proto->name, y->proto->name);
    if (c)
        return c;
    return x->proto->version < y->proto->version ? -1 : x->proto->version > y->proto->version;
}

int ethd_p2p_server_add_protocol(struct ethd_p2p_server *srv, const struct ethd_protocol *p,
                                 void *self, const char *owner, char *err, size_t errlen)
{
    if (srv->running) {
        snprintf(err, errlen, "protocols cannot be added to a running p2p server");
        return ETHD_ESTATE;
    }
    if (!p || !p->name || !*p->name || p->version == 0 || p->length == 0) {
        snprintf(err, errlen, "service '%s' offers a protocol without name, version or length",
                 owner);
        return ETHD_EINVAL;
    }
    for (size_t i = 0; i < srv->n; i++) {
        const struct ethd_protocol *q = srv->protos[i].proto;
        if (strcmp(q->name, p->name) == 0 && q->version == p->version) {
            snprintf(err, errlen, "protocol %s/%u is offered by both '%s' and '%s'", p->name,
                     p->version, srv->protos[i].owner, owner);
            return ETHD_EEXIST;
        }
    }
    if (srv->n == srv->cap) {
        size_t cap = srv->cap ? srv->cap * 2 : 8;
        struct ethd_p2p_protocol_entry *e = realloc(srv->protos, cap * sizeof(*e));
        if (!e)
            return ETHD_ENOMEM;
        srv->protos = e;
        srv->cap = cap;
    }
    srv->protos[srv->n++] = (struct ethd_p2p_protocol_entry){p, self, owner};
    qsort(srv->protos, srv->n, sizeof(*srv->protos), cmp_entry);
    return 0;
}

size_t ethd_p2p_server_protocol_count(const struct ethd_p2p_server *srv)
{
    return srv->n;
}

const struct ethd_p2p_protocol_entry *ethd_p2p_server_protocol_at(const struct ethd_p2p_server *srv,
                                                                  size_t i)
{
    return i < srv->n ? &srv->protos[i] : NULL;
}

static char *default_client_id(void)
{
    char v[ETHD_CLIENT_VERSION_MAX];
    return ethd_client_version(v, sizeof(v)) == 0 ? strdup(v) : NULL;
}

/* Parse a URL into a static-peer candidate, refusing our own id. */
static int parse_peer_url(struct ethd_p2p_server *srv, const char *url, struct ethd_enode *n,
                          char *err, size_t errlen)
{
    char msg[256];
    if (ethd_enode_parse(url, n, msg, sizeof(msg)) != 0) {
        snprintf(err, errlen, "%s", msg);
        return ETHD_EINVAL;
    }
    if (ethd_secp_pubkey_check(srv->secp, n->id) != 0) {
        snprintf(err, errlen, "enode node id is not a valid secp256k1 public key");
        return ETHD_EINVAL;
    }
    if (srv->configured && memcmp(n->id, srv->id, sizeof(srv->id)) == 0) {
        snprintf(err, errlen, "enode %.16s... is this node itself", url + 8);
        return ETHD_EEXIST;
    }
    return 0;
}

static struct static_peer *find_static(const struct ethd_p2p_server *srv, const uint8_t id[64])
{
    for (struct static_peer *r = srv->statics; r; r = r->next)
        if (memcmp(r->node.id, id, 64) == 0)
            return r;
    return NULL;
}

static void on_dial_timer(evutil_socket_t fd, short what, void *arg);

static int add_static(struct ethd_p2p_server *srv, const struct ethd_enode *n)
{
    struct static_peer *r = find_static(srv, n->id);
    if (r) {
        r->node = *n; /* same node, maybe a new address: the next dial uses it */
        ethd_enode_format(n, r->url, sizeof(r->url));
        return 0;
    }
    r = calloc(1, sizeof(*r));
    if (!r)
        return ETHD_ENOMEM;
    r->srv = srv;
    r->node = *n;
    ethd_enode_format(n, r->url, sizeof(r->url));
    r->backoff_ms = srv->cfg.redial_min_ms;
    r->timer = evtimer_new(srv->base, on_dial_timer, r);
    if (!r->timer) {
        free(r);
        return ETHD_ENOMEM;
    }
    r->next = srv->statics;
    srv->statics = r;
    return 0;
}

static void free_static(struct static_peer *r)
{
    if (r->peer)
        r->peer->static_rec = NULL;
    event_free(r->timer);
    free(r);
}

int ethd_p2p_server_configure(struct ethd_p2p_server *srv, const struct ethd_p2p_config *cfg,
                              char *err, size_t errlen)
{
    if (srv->running || srv->configured) {
        snprintf(err, errlen, "the p2p server is already configured");
        return ETHD_ESTATE;
    }
    int rc;
    if (!srv->secp && (rc = ethd_secp_new(&srv->secp)) != 0) {
        snprintf(err, errlen, "cannot set up secp256k1: %s", ethd_strerror(rc));
        return rc;
    }
    if (ethd_secp_pubkey(srv->secp, cfg->node_key, srv->id) != 0) {
        snprintf(err, errlen, "the node key is not a valid secp256k1 private key");
        return ETHD_EINVAL;
    }
    const char *host = cfg->host && *cfg->host ? cfg->host : "127.0.0.1";
    uint8_t ip[16];
    int family = strchr(host, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(family, host, ip) != 1) {
        snprintf(err, errlen, "p2p host '%s' is not an IP address (host names are not supported)",
                 host);
        return ETHD_EINVAL;
    }
    if (cfg->max_inbound > cfg->max_peers) {
        snprintf(err, errlen, "p2p.max_inbound (%u) must not exceed p2p.max_peers (%u)",
                 cfg->max_inbound, cfg->max_peers);
        return ETHD_EINVAL;
    }
    if (cfg->handshake_timeout_ms == 0 || cfg->ping_interval_ms == 0 ||
        cfg->ping_timeout_ms == 0 || cfg->redial_min_ms == 0 ||
        cfg->redial_max_ms < cfg->redial_min_ms) {
        snprintf(err, errlen, "p2p timeouts and intervals must be positive");
        return ETHD_EINVAL;
    }
    if (cfg->max_message_size < 1024 || cfg->max_message_size > (16u << 20)) {
        snprintf(err, errlen, "p2p.max_message_size must be between 1KiB and 16MiB");
        return ETHD_EINVAL;
    }
    srv->cfg = *cfg;
    srv->cfg.static_peers = NULL;
    srv->cfg.n_static_peers = 0;
    srv->host = strdup(host);
    srv->client_id = cfg->client_id ? strdup(cfg->client_id) : default_client_id();
    if (!srv->host || !srv->client_id)
        return ETHD_ENOMEM;
    srv->cfg.host = srv->host;
    srv->cfg.client_id = srv->client_id;
    /* The URL advertises loopback for a wildcard listener: it is what this
     * machine can dial; operators publish their own address. */
    if (strcmp(host, "0.0.0.0") == 0)
        snprintf(srv->adv_ip, sizeof(srv->adv_ip), "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(srv->adv_ip, sizeof(srv->adv_ip), "::1");
    else
        inet_ntop(family, ip, srv->adv_ip, sizeof(srv->adv_ip));
    srv->configured = true;

    for (size_t i = 0; i < cfg->n_static_peers; i++) {
        struct ethd_enode n;
        char msg[300];
        rc = parse_peer_url(srv, cfg->static_peers[i], &n, msg, sizeof(msg));
        if (rc == ETHD_EEXIST) {
            /* One shared list of all nodes is a common set-up: skip ourselves. */
            ETHD_INFO(srv->log, "static peer is this node, skipped", "url=%.40s...",
                      cfg->static_peers[i]);
            continue;
        }
        if (rc) {
            snprintf(err, errlen, "static peer %zu: %s", i + 1, msg);
            return rc;
        }
        if ((rc = add_static(srv, &n)) != 0)
            return rc;
    }

    struct ethd_enode self = {.family = family, .tcp_port = srv->cfg.port,
                              .udp_port = srv->cfg.port};
    memcpy(self.id, srv->id, sizeof(self.id));
    inet_pton(family, srv->adv_ip, self.ip);
    ethd_enode_format(&self, srv->enode, sizeof(srv->enode));
    return 0;
}

/* ---- peers: admission and bookkeeping (called by peer.c via the env) ---- */

static bool id_connected(const struct ethd_p2p_server *srv, const uint8_t id[64],
                         const struct ethd_peer *except)
{
    for (const struct ethd_peer *q = srv->peers; q; q = q->next) {
        if (q == except || !q->counted)
            continue;
        if ((q->state == PEER_HELLO || q->state == PEER_ACTIVE) && memcmp(q->id, id, 64) == 0)
            return true;
    }
    return false;
}

static int srv_admit(void *arg, struct ethd_peer *p)
{
    struct ethd_p2p_server *srv = arg;
    if (p->pending) {
        p->pending = false;
        srv->n_pending_in--;
    }
    if (memcmp(p->id, srv->id, sizeof(srv->id)) == 0)
        return ETHD_DISC_SELF;
    if (id_connected(srv, p->id, p))
        return ETHD_DISC_ALREADY_CONNECTED;
    if (srv->n_conn >= srv->cfg.max_peers ||
        (p->inbound && srv->n_conn_in >= srv->cfg.max_inbound))
        return ETHD_DISC_TOO_MANY_PEERS;
    p->counted = true;
    srv->n_conn++;
    if (p->inbound)
        srv->n_conn_in++;
    return 0;
}

static void srv_active(void *arg, struct ethd_peer *p)
{
    struct ethd_p2p_server *srv = arg;
    p->active_counted = true;
    p->active_since_ms = ethd_monotonic_ms();
    srv->n_active++;
    char id[129], caps[256] = "";
    size_t n = 0;
    for (size_t i = 0; i < p->n_caps && n < sizeof(caps); i++)
        n += (size_t)snprintf(caps + n, sizeof(caps) - n, "%s%s/%u", i ? "," : "",
                              p->caps[i].proto->name, p->caps[i].proto->version);
    ethd_hex_encode_bare(p->id, 8, id);
    ETHD_INFO(srv->log, "peer connected", "id=%s addr=%s inbound=%d static=%d client=\"%s\" caps=%s",
              id, p->remote_addr, p->inbound, find_static(srv, p->id) != NULL,
              ethd_peer_client_id(p), n ? caps : "none");
}

static void schedule_dial(struct static_peer *r, uint64_t delay_ms)
{
    struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000};
    evtimer_add(r->timer, &tv);
}

/* Back-off for the next attempt: the current step plus up to 25% jitter (two
 * nodes dialing each other must not stay in step), then double the step. */
static uint64_t next_backoff(struct ethd_p2p_server *srv, struct static_peer *r)
{
    srv->rng ^= srv->rng << 13;
    srv->rng ^= srv->rng >> 7;
    srv->rng ^= srv->rng << 17;
    uint64_t d = r->backoff_ms + srv->rng % (r->backoff_ms / 4 + 1);
    r->backoff_ms = r->backoff_ms * 2 > srv->cfg.redial_max_ms ? srv->cfg.redial_max_ms
                                                               : r->backoff_ms * 2;
    return d;
}

static void srv_closed(void *arg, struct ethd_peer *p)
{
    struct ethd_p2p_server *srv = arg;
    if (p->prev)
        p->prev->next = p->next;
    else
        srv->peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
    if (p->pending)
        srv->n_pending_in--;
    if (p->counted) {
        srv->n_conn--;
        if (p->inbound)
            srv->n_conn_in--;
    }
    if (p->active_counted)
        srv->n_active--;

    struct static_peer *r = p->static_rec;
    if (r) {
        r->peer = NULL;
        bool healthy = p->active_counted &&
                       ethd_monotonic_ms() - p->active_since_ms >= srv->cfg.redial_healthy_ms;
        if (healthy)
            r->backoff_ms = srv->cfg.redial_min_ms;
    } else if (p->counted) {
        r = find_static(srv, p->id); /* it had dialed us; now it is our turn */
    }
    if (r && srv->running && !r->peer && !evtimer_pending(r->timer, NULL)) {
        uint64_t d = next_backoff(srv, r);
        ETHD_DEBUG(srv->log, "static peer re-dial scheduled", "url=%.40s... in_ms=%llu",
                   r->url, (unsigned long long)d);
        schedule_dial(r, d);
    }
    ethd_peer_unref(p);
}

static void insert_peer(struct ethd_p2p_server *srv, struct ethd_peer *p)
{
    p->next = srv->peers;
    p->prev = NULL;
    if (srv->peers)
        srv->peers->prev = p;
    srv->peers = p;
}

static void dial(struct ethd_p2p_server *srv, struct static_peer *r)
{
    struct ethd_peer *p;
    int rc = ethd_peer_new_outbound(&srv->env, &r->node, &p);
    if (rc) {
        ETHD_WARN(srv->log, "cannot dial", "url=%.40s... error=\"%s\"", r->url, ethd_strerror(rc));
        schedule_dial(r, next_backoff(srv, r));
        return;
    }
    ETHD_DEBUG(srv->log, "dialing static peer", "addr=%s", p->remote_addr);
    p->static_rec = r;
    r->peer = p;
    insert_peer(srv, p);
    ethd_peer_start(p);
}

static void on_dial_timer(evutil_socket_t fd, short what, void *arg)
{
    struct static_peer *r = arg;
    struct ethd_p2p_server *srv = r->srv;
    (void)fd;
    (void)what;
    if (!srv->running || r->peer)
        return;
    if (id_connected(srv, r->node.id, NULL))
        return; /* connected the other way round; its close re-arms this timer */
    if (srv->n_conn >= srv->cfg.max_peers) {
        schedule_dial(r, next_backoff(srv, r));
        return;
    }
    dial(srv, r);
}

/* ---- listening ---- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct ethd_p2p_server *srv = arg;
    (void)l;
    (void)sa;
    (void)salen;
    if (!srv->running || srv->n_pending_in >= ETHD_P2P_MAX_PENDING) {
        ETHD_DEBUG(srv->log, "inbound connection refused", "pending=%zu", srv->n_pending_in);
        evutil_closesocket(fd);
        return;
    }
    struct ethd_peer *p;
    if (ethd_peer_new_inbound(&srv->env, fd, &p) != 0)
        return; /* fd closed by it */
    p->pending = true;
    srv->n_pending_in++;
    insert_peer(srv, p);
    ethd_peer_start(p);
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    struct ethd_p2p_server *srv = arg;
    (void)fd;
    (void)what;
    if (srv->listener)
        evconnlistener_enable(srv->listener);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct ethd_p2p_server *srv = arg;
    int e = EVUTIL_SOCKET_ERROR();
    ETHD_WARN(srv->log, "p2p accept failed, pausing", "error=\"%s\" pause_ms=%d",
              evutil_socket_error_to_string(e), ACCEPT_PAUSE_MS);
    /* accept() failing (EMFILE) would fire again at once: pause the listener. */
    evconnlistener_disable(l);
    struct timeval tv = {ACCEPT_PAUSE_MS / 1000, (ACCEPT_PAUSE_MS % 1000) * 1000};
    evtimer_add(srv->accept_pause, &tv);
}

static int build_hello(struct ethd_p2p_server *srv)
{
    struct ethd_p2p_hello_cap *caps = calloc(srv->n ? srv->n : 1, sizeof(*caps));
    if (!caps)
        return ETHD_ENOMEM;
    /* The encoder only reads the names: lending the protocols' own is safe. */
    for (size_t i = 0; i < srv->n; i++)
        caps[i] = (struct ethd_p2p_hello_cap){(char *)srv->protos[i].proto->name,
                                              srv->protos[i].proto->version};
    struct ethd_p2p_hello h = {
        .version = ETHD_P2P_VERSION,
        .client_id = srv->client_id,
        .caps = caps,
        .n_caps = srv->n,
        .listen_port = srv->bound_port,
    };
    memcpy(h.id, srv->id, sizeof(h.id));
    ethd_buf_reset(&srv->hello);
    int rc = ethd_p2p_hello_encode(&h, &srv->hello);
    free(caps);
    return rc;
}

int ethd_p2p_server_start(struct ethd_p2p_server *srv, char *err, size_t errlen)
{
    if (!srv->configured || srv->running) {
        snprintf(err, errlen, "the p2p server is %s", srv->running ? "already running"
                                                                   : "not configured");
        return ETHD_ESTATE;
    }
    struct ethd_enode self = {.tcp_port = srv->cfg.port};
    self.family = strchr(srv->host, ':') ? AF_INET6 : AF_INET;
    inet_pton(self.family, srv->host, self.ip);
    struct sockaddr_storage ss;
    socklen_t sl;
    ethd_enode_sockaddr(&self, &ss, &sl);
    srv->accept_pause = evtimer_new(srv->base, on_accept_resume, srv);
    if (!srv->accept_pause)
        return ETHD_ENOMEM;
    srv->listener = evconnlistener_new_bind(
        srv->base, on_accept, srv,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, LISTEN_BACKLOG,
        (struct sockaddr *)&ss, (int)sl);
    if (!srv->listener) {
        snprintf(err, errlen, "p2p: cannot listen on %s%s%s:%u: %s", self.family == AF_INET6 ? "[" : "",
                 srv->host, self.family == AF_INET6 ? "]" : "", srv->cfg.port, strerror(errno));
        return ETHD_EIO;
    }
    evconnlistener_set_error_cb(srv->listener, on_accept_error);
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    srv->bound_port = srv->cfg.port;
    if (getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&bound, &bl) == 0)
        srv->bound_port = ntohs(bound.ss_family == AF_INET6
                                    ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                    : ((struct sockaddr_in *)&bound)->sin_port);
    int rc = build_hello(srv);
    if (rc) {
        snprintf(err, errlen, "p2p: cannot encode Hello: %s", ethd_strerror(rc));
        return rc;
    }
    struct ethd_enode adv = {.family = self.family, .tcp_port = srv->bound_port,
                             .udp_port = srv->bound_port};
    memcpy(adv.id, srv->id, sizeof(adv.id));
    inet_pton(adv.family, srv->adv_ip, adv.ip);
    ethd_enode_format(&adv, srv->enode, sizeof(srv->enode));

    srv->env = (struct ethd_peer_env){
        .base = srv->base,
        .log = srv->log,
        .secp = srv->secp,
        .protos = srv->protos,
        .n_protos = srv->n,
        .hello = srv->hello.data,
        .hello_len = srv->hello.len,
        .handshake_timeout_ms = srv->cfg.handshake_timeout_ms,
        .ping_interval_ms = srv->cfg.ping_interval_ms,
        .ping_timeout_ms = srv->cfg.ping_timeout_ms,
        .max_msg = srv->cfg.max_message_size,
        .admit = srv_admit,
        .active = srv_active,
        .closed = srv_closed,
        .srv = srv,
    };
    memcpy(srv->env.key, srv->cfg.node_key, sizeof(srv->env.key));
    memcpy(srv->env.id, srv->id, sizeof(srv->env.id));

    char caps[512] = "";
    size_t n = 0;
    for (size_t i = 0; i < srv->n && n < sizeof(caps); i++)
        n += (size_t)snprintf(caps + n, sizeof(caps) - n, "%s%s/%u", i ? "," : "",
                              srv->protos[i].proto->name, srv->protos[i].proto->version);
    ETHD_INFO(srv->log, "p2p capabilities", "caps=%s count=%zu", srv->n ? caps : "none", srv->n);
    ETHD_INFO(srv->log, "p2p listening", "host=%s port=%u max_peers=%u max_inbound=%u", srv->host,
              srv->bound_port, srv->cfg.max_peers, srv->cfg.max_inbound);
    ETHD_INFO(srv->log, "p2p node", "enode=%s", srv->enode);
    srv->running = true;
    for (struct static_peer *r = srv->statics; r; r = r->next)
        schedule_dial(r, 0);
    return 0;
}

void ethd_p2p_server_stop(struct ethd_p2p_server *srv)
{
    if (!srv || !srv->running)
        return;
    srv->running = false;
    if (srv->listener)
        evconnlistener_free(srv->listener);
    srv->listener = NULL;
    if (srv->accept_pause)
        event_free(srv->accept_pause);
    srv->accept_pause = NULL;
    for (struct static_peer *r = srv->statics; r; r = r->next)
        evtimer_del(r->timer);
    size_t n = 0;
    while (srv->peers) {
        ethd_peer_close_now(srv->peers, ETHD_DISC_QUITTING); /* unlinks it */
        n++;
    }
    ETHD_INFO(srv->log, "p2p stopped", "peers_closed=%zu", n);
}

void ethd_p2p_server_free(struct ethd_p2p_server *srv)
{
    if (!srv)
        return;
    ethd_p2p_server_stop(srv);
    if (srv->accept_pause) /* a start that failed to bind */
        event_free(srv->accept_pause);
    while (srv->statics) {
        struct static_peer *r = srv->statics;
        srv->statics = r->next;
        free_static(r);
    }
    explicit_bzero(srv->cfg.node_key, sizeof(srv->cfg.node_key));
    explicit_bzero(srv->env.key, sizeof(srv->env.key));
    ethd_buf_free(&srv->hello);
    ethd_secp_free(srv->secp);
    free(srv->host);
    free(srv->client_id);
    free(srv->protos);
    free(srv);
}

/* ---- static peers at run time ---- */

int ethd_p2p_server_add_peer(struct ethd_p2p_server *srv, const char *enode, char *err,
                             size_t errlen)
{
    if (!srv->configured) {
        snprintf(err, errlen, "the p2p server is not configured");
        return ETHD_ESTATE;
    }
    struct ethd_enode n;
    int rc = parse_peer_url(srv, enode, &n, err, errlen);
    if (rc)
        return rc;
    if ((rc = add_static(srv, &n)) != 0) {
        snprintf(err, errlen, "%s", ethd_strerror(rc));
        return rc;
    }
    struct static_peer *r = find_static(srv, n.id);
    ETHD_INFO(srv->log, "static peer added", "url=%s", r->url);
    if (srv->running && !r->peer && !evtimer_pending(r->timer, NULL))
        schedule_dial(r, 0);
    return 0;
}

int ethd_p2p_server_remove_peer(struct ethd_p2p_server *srv, const char *enode, bool *found,
                                char *err, size_t errlen)
{
    struct ethd_enode n;
    *found = false;
    if (!srv->configured) {
        snprintf(err, errlen, "the p2p server is not configured");
        return ETHD_ESTATE;
    }
    int rc = parse_peer_url(srv, enode, &n, err, errlen);
    if (rc)
        return rc;
    for (struct static_peer **pp = &srv->statics; *pp; pp = &(*pp)->next) {
        if (memcmp((*pp)->node.id, n.id, sizeof(n.id)) == 0) {
            struct static_peer *r = *pp;
            *pp = r->next;
            ETHD_INFO(srv->log, "static peer removed", "url=%s", r->url);
            free_static(r);
            *found = true;
            break;
        }
    }
    for (struct ethd_peer *p = srv->peers; p; p = p->next) {
        if (p->state < PEER_CLOSING && memcmp(p->id, n.id, sizeof(n.id)) == 0) {
            ethd_peer_disconnect(p, ETHD_DISC_REQUESTED);
            *found = true;
        }
    }
    return 0;
}

/* ---- <ethd/p2p.h> server calls ---- */

size_t ethd_p2p_peer_count(const struct ethd_p2p_server *srv)
{
    return srv ? srv->n_active : 0;
}

void ethd_p2p_each_peer(struct ethd_p2p_server *srv, const char *cap, ethd_peer_each_fn fn,
                        void *arg)
{
    /* fn may ask for disconnects or dial: both are deferred, and new peers
     * enter at the head, so saving `next` is enough. */
    for (struct ethd_peer *p = srv->peers, *next; p; p = next) {
        next = p->next;
        if (p->state != PEER_ACTIVE)
            continue;
        if (cap && ethd_peer_version(p, cap) == 0)
            continue;
        fn(p, arg);
    }
}

int ethd_p2p_add_peer(struct ethd_p2p_server *srv, const char *enode)
{
    char err[256];
    int rc = ethd_p2p_server_add_peer(srv, enode, err, sizeof(err));
    if (rc)
        ETHD_WARN(srv->log, "static peer refused", "error=\"%s\"", err);
    return rc;
}

const uint8_t *ethd_p2p_node_id(const struct ethd_p2p_server *srv)
{
    return srv->id;
}

/* ---- views ---- */

bool ethd_p2p_server_running(const struct ethd_p2p_server *srv)
{
    return srv && srv->running;
}

size_t ethd_p2p_server_conn_count(const struct ethd_p2p_server *srv)
{
    size_t n = 0;
    for (const struct ethd_peer *p = srv->peers; p; p = p->next)
        n++;
    return n;
}

uint16_t ethd_p2p_server_port(const struct ethd_p2p_server *srv)
{
    return srv->running ? srv->bound_port : 0;
}

const char *ethd_p2p_server_host(const struct ethd_p2p_server *srv)
{
    return srv->adv_ip;
}

const char *ethd_p2p_server_listen_host(const struct ethd_p2p_server *srv)
{
    return srv->host ? srv->host : "";
}

const char *ethd_p2p_server_enode(const struct ethd_p2p_server *srv)
{
    return srv->enode;
}

const char *ethd_p2p_server_client_id(const struct ethd_p2p_server *srv)
{
    return srv->client_id ? srv->client_id : "";
}

bool ethd_p2p_server_is_static(const struct ethd_p2p_server *srv, const uint8_t id[64])
{
    return find_static(srv, id) != NULL;
}
