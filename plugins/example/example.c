/* example: a small but complete ethd plugin, and the template for writing
 * your own (docs/plugins.md walks through it). It uses only <ethd/...>
 * headers and libevent, so it builds out of tree with
 *     cc -shared -fPIC example.c $(pkg-config --cflags --libs ethd-plugin)
 *
 * Service "example":
 *   config   greeting (string), tick_interval (duration, 0 = off)
 *   RPC      example_echo(x) -> x; example_greet(name) -> "<greeting>, <name>!";
 *            example_ticks() -> number of ticks so far;
 *            example_peers() -> [{id, greeting, echo, in, out}] per exa/1 peer
 *   p2p      capability exa/1 (2 message codes):
 *              0 greet [greeting]  sent by both sides when they connect
 *              1 echo  [text]      the answer to a greet, echoing its text
 *            counts messages per peer and in total (admin_nodeInfo/admin_peers)
 *   bus      publishes "example.tick" (event: const uint64_t *count) every tick
 *   iface    publishes "example/1" for other services */
#include <ethd/ethd.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/p2p.h>
#include <ethd/rlp.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* The interface other services can look up as "example/1". A later version
 * may only append members. */
struct example_iface_v1 {
    const char *(*greeting)(void *impl);
    uint64_t (*ticks)(void *impl);
};

struct example {
    struct ethd_service_ctx *ctx; /* borrowed until destroy */
    const struct ethd_logger *log;
    const char *greeting;         /* borrowed from the config tree */
    uint64_t tick_ms;
    uint64_t ticks;
    uint64_t msgs_in, msgs_out;   /* exa/1 messages, all peers */
    struct ethd_p2p_server *p2p;  /* borrowed from start until stop */
    struct event *timer;
};

/* What we keep per exa/1 peer (ethd_peer_set_data). */
#define EXA_TEXT_MAX 128
struct exa_peer {
    char greeting[EXA_TEXT_MAX + 1]; /* what the peer greeted us with */
    char echo[EXA_TEXT_MAX + 1];     /* what it echoed back of ours */
    uint64_t in, out;
};

static const char *iface_greeting(void *impl) { return ((struct example *)impl)->greeting; }
static uint64_t iface_ticks(void *impl) { return ((struct example *)impl)->ticks; }
static const struct example_iface_v1 example_iface = {iface_greeting, iface_ticks};

/* ---- RPC ---- */

static int rpc_echo(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    (void)self;
    if (json_array_size(params) != 1)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "example_echo takes one parameter");
    *result = json_incref(json_array_get(params, 0));
    return 0;
}

static int rpc_greet(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct example *ex = self;
    const char *name = json_string_value(json_array_get(params, 0));
    if (json_array_size(params) != 1 || !name)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "example_greet takes one string");
    *result = json_sprintf("%s, %s!", ex->greeting, name);
    return *result ? 0 : ETHD_ENOMEM;
}

static int rpc_ticks(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct example *ex = self;
    (void)params;
    (void)err;
    *result = json_integer((json_int_t)ex->ticks);
    return 0;
}


/* ---- p2p protocol: exa/1 ---- */

enum { EXA_GREET = 0, EXA_ECHO = 1, EXA_LENGTH = 2 };

static const struct ethd_protocol example_protocols[1];
#define EXA (&example_protocols[0])

/* Payload of both messages: RLP [text]. */
static int exa_send(struct example *ex, struct ethd_peer *peer, uint64_t code, const char *text)
{
    struct ethd_buf buf = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &buf);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, text, strlen(text));
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e);
    if (rc == 0)
        rc = ethd_peer_send(peer, EXA, code, buf.data, buf.len, NULL, NULL); /* copies */
    ethd_buf_free(&buf);
    if (rc == 0) {
        struct exa_peer *ep = ethd_peer_get_data(peer, EXA);
        ep->out++;
        ex->msgs_out++;
    }
    return rc;
}

/* Text of an RLP [text] payload into out (truncated, printable ASCII only:
 * it comes from the network and ends up in logs and JSON). */
static int exa_text(const uint8_t *payload, size_t len, char out[EXA_TEXT_MAX + 1])
{
    struct ethd_rlp_item list, item;
    struct ethd_rlp_iter it;
    const uint8_t *p;
    size_t n;
    if (ethd_rlp_decode(payload, len, &list) || ethd_rlp_iter_init(&it, &list) ||
        ethd_rlp_iter_next(&it, &item) || ethd_rlp_get_bytes(&item, &p, &n))
        return ETHD_EPROTO;
    if (n > EXA_TEXT_MAX)
        n = EXA_TEXT_MAX;
    for (size_t i = 0; i < n; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    out[n] = '\0';
    return 0;
}

static int proto_connect(void *self, struct ethd_peer *peer)
{
    struct example *ex = self;
    struct exa_peer *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return ETHD_ENOMEM; /* the node drops the peer; no on_disconnect follows */
    ethd_peer_set_data(peer, EXA, ep);
    int rc = exa_send(ex, peer, EXA_GREET, ex->greeting);
    if (rc) {
        ethd_peer_set_data(peer, EXA, NULL);
        free(ep);
        return rc;
    }
    ETHD_DEBUG(ex->log, "peer connected", "addr=%s", ethd_peer_remote_addr(peer));
    return 0;
}

static int proto_message(void *self, struct ethd_peer *peer, uint64_t code,
                         const uint8_t *payload, size_t len)
{
    struct example *ex = self;
    struct exa_peer *ep = ethd_peer_get_data(peer, EXA);
    ep->in++;
    ex->msgs_in++;
    switch (code) {
    case EXA_GREET:
        if (exa_text(payload, len, ep->greeting))
            return ETHD_EPROTO; /* malformed: the node disconnects the peer */
        ETHD_INFO(ex->log, "greeted", "addr=%s greeting=\"%s\"", ethd_peer_remote_addr(peer),
                  ep->greeting);
        return exa_send(ex, peer, EXA_ECHO, ep->greeting);
    case EXA_ECHO:
        return exa_text(payload, len, ep->echo);
    default:
        return ETHD_EPROTO; /* cannot happen: the node checks codes against length */
    }
}

static void proto_disconnect(void *self, struct ethd_peer *peer, int reason)
{
    struct example *ex = self;
    free(ethd_peer_get_data(peer, EXA));
    ethd_peer_set_data(peer, EXA, NULL);
    ETHD_DEBUG(ex->log, "peer gone", "reason=%s", ethd_disc_reason_str(reason));
}

static json_t *proto_node_info(void *self)
{
    struct example *ex = self;
    return json_pack("{s:s, s:I, s:I}", "greeting", ex->greeting, "messagesIn",
                     (json_int_t)ex->msgs_in, "messagesOut", (json_int_t)ex->msgs_out);
}

static json_t *proto_peer_info(void *self, struct ethd_peer *peer)
{
    struct exa_peer *ep = ethd_peer_get_data(peer, EXA);
    (void)self;
    if (!ep)
        return NULL; /* the node shows {"version": 1} */
    return json_pack("{s:i, s:s, s:s, s:I, s:I}", "version", 1, "greeting", ep->greeting,
                     "echo", ep->echo, "messagesIn", (json_int_t)ep->in, "messagesOut",
                     (json_int_t)ep->out);
}

static const struct ethd_protocol example_protocols[1] = {
    {"exa", 1, EXA_LENGTH, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
};

/* example_peers: one entry per connected exa/1 peer. "id" is the devp2p node
 * ID (keccak256 of the public key), as admin_peers shows it. */
static void add_peer(struct ethd_peer *peer, void *arg)
{
    const struct exa_peer *ep = ethd_peer_get_data(peer, EXA);
    uint8_t h[ETHD_KECCAK256_LEN];
    char id[2 * ETHD_KECCAK256_LEN + 1];
    ethd_keccak256(ethd_peer_id(peer), 64, h);
    ethd_hex_encode_bare(h, sizeof(h), id);
    if (ep)
        json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", id, "greeting",
                                             ep->greeting, "echo", ep->echo, "in",
                                             (json_int_t)ep->in, "out", (json_int_t)ep->out));
}

static int rpc_peers(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct example *ex = self;
    (void)params;
    (void)err;
    *result = json_array();
    if (ex->p2p)
        ethd_p2p_each_peer(ex->p2p, "exa", add_peer, *result);
    return 0;
}

static const struct ethd_rpc_method example_methods[] = {
    {"example_echo", rpc_echo, NULL},
    {"example_greet", rpc_greet, NULL},
    {"example_ticks", rpc_ticks, NULL},
    {"example_peers", rpc_peers, NULL},
};
static const struct ethd_api example_apis[] = {
    {"example", "1.0", example_methods, sizeof(example_methods) / sizeof(*example_methods)},
};

/* ---- service ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct example *ex = arg;
    (void)fd;
    (void)what;
    ex->ticks++;
    ETHD_DEBUG(ex->log, "tick", "count=%llu", (unsigned long long)ex->ticks);
    ethd_bus_publish(ethd_ctx_bus(ex->ctx), "example.tick", &ex->ticks, NULL);
}

static int example_create(struct ethd_service_ctx *ctx, void **self)
{
    struct example *ex = calloc(1, sizeof(*ex));
    if (!ex)
        return ETHD_ENOMEM;
    ex->ctx = ctx;
    ex->log = ethd_ctx_logger(ctx);
    const struct ethd_conf *conf = ethd_ctx_config(ctx);
    int rc = ethd_conf_string(conf, "greeting", "Hello", &ex->greeting);
    if (!rc)
        rc = ethd_conf_duration(conf, "tick_interval", 0, &ex->tick_ms);
    if (!rc)
        rc = ethd_ctx_publish(ctx, "example/1", &example_iface, ex);
    if (rc) {
        free(ex);
        return rc;
    }
    *self = ex;
    return 0;
}

static int example_protocols_hook(void *self, const struct ethd_protocol **out, size_t *n)
{
    (void)self;
    *out = example_protocols;
    *n = sizeof(example_protocols) / sizeof(*example_protocols);
    return 0;
}

static int example_apis_hook(void *self, const struct ethd_api **out, size_t *n)
{
    (void)self;
    *out = example_apis;
    *n = sizeof(example_apis) / sizeof(*example_apis);
    return 0;
}

static int example_start(void *self, struct ethd_p2p_server *srv)
{
    struct example *ex = self;
    ex->p2p = srv;
    if (ex->tick_ms) {
        ex->timer = event_new(ethd_ctx_loop(ex->ctx), -1, EV_PERSIST, on_tick, ex);
        struct timeval tv = {(time_t)(ex->tick_ms / 1000), (suseconds_t)(ex->tick_ms % 1000) * 1000};
        if (!ex->timer || event_add(ex->timer, &tv) != 0) {
            ethd_ctx_set_error(ex->ctx, "cannot arm the tick timer");
            return ETHD_ENOMEM;
        }
    }
    ETHD_INFO(ex->log, "example running", "greeting=\"%s\" tick_ms=%llu", ex->greeting,
              (unsigned long long)ex->tick_ms);
    return 0;
}

static int example_stop(void *self)
{
    struct example *ex = self;
    ex->p2p = NULL;
    if (ex->timer) {
        event_free(ex->timer);
        ex->timer = NULL;
    }
    return 0;
}

static void example_destroy(void *self)
{
    struct example *ex = self;
    if (ex->timer)
        event_free(ex->timer);
    free(ex);
}

static const struct ethd_service_ops example_service = {
    .struct_size = sizeof(struct ethd_service_ops),
    .name = "example",
    .create = example_create,
    .protocols = example_protocols_hook,
    .apis = example_apis_hook,
    .start = example_start,
    .stop = example_stop,
    .destroy = example_destroy,
};

static int example_init(struct ethd_registry *reg)
{
    return ethd_registry_add_service(reg, &example_service);
}

ETHD_PLUGIN_DEFINE("example", "1.0.0", "Example service: echo RPC, a tick timer, exa/1 protocol",
                   example_init);
