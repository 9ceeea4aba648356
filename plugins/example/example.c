/* example: a small but complete ethd plugin, and the template for writing
 * your own (docs/plugins.md walks through it). It uses only <ethd/...>
 * headers and libevent, so it builds out of tree with
 *     cc -shared -fPIC example.c $(pkg-config --cflags --libs ethd-plugin)
 *
 * Service "example":
 *   config   greeting (string), tick_interval (duration, 0 = off)
 *   RPC      example_echo(x) -> x; example_greet(name) -> "<greeting>, <name>!";
 *            example_ticks() -> number of ticks so far
 *   p2p      capability exa/1 (2 message codes): counts messages per peer
 *   bus      publishes "example.tick" (event: const uint64_t *count) every tick
 *   iface    publishes "example/1" for other services */
#include <ethd/ethd.h>
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
    uint64_t messages;
    struct event *timer;
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

static const struct ethd_rpc_method example_methods[] = {
    {"example_echo", rpc_echo, NULL},
    {"example_greet", rpc_greet, NULL},
    {"example_ticks", rpc_ticks, NULL},
};
static const struct ethd_api example_apis[] = {
    {"example", "1.0", example_methods, sizeof(example_methods) / sizeof(*example_methods)},
};

/* ---- p2p protocol ---- */

static int proto_connect(void *self, struct ethd_peer *peer)
{
    (void)peer;
    ETHD_DEBUG(((struct example *)self)->log, "peer connected", NULL);
    return 0;
}

static int proto_message(void *self, struct ethd_peer *peer, uint64_t code,
                         const uint8_t *payload, size_t len)
{
    struct example *ex = self;
    (void)peer;
    (void)payload;
    if (code >= 2)
        return ETHD_EPROTO; /* outside our message space: the peer is dropped */
    ex->messages++;
    ETHD_DEBUG(ex->log, "message", "code=%llu len=%zu", (unsigned long long)code, len);
    return 0;
}

static void proto_disconnect(void *self, struct ethd_peer *peer, int reason)
{
    (void)peer;
    ETHD_DEBUG(((struct example *)self)->log, "peer gone", "reason=%d", reason);
}

static json_t *proto_node_info(void *self)
{
    struct example *ex = self;
    return json_pack("{s:s, s:I}", "greeting", ex->greeting, "messages", (json_int_t)ex->messages);
}

static const struct ethd_protocol example_protocols[] = {
    {"exa", 1, 2, proto_connect, proto_message, proto_disconnect, proto_node_info, NULL},
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
    (void)srv;
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
