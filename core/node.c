/* Node lifecycle (BRIEF.md, "The plugin ABI"): load plugins -> create
 * services in config order -> p2p server gets the union of their protocols ->
 * register APIs -> start in order -> run -> stop in reverse -> destroy in
 * reverse. Any failure unwinds exactly what was done, and the message names
 * the plugin or service and the reason. */
#include "node.h"

#include "chain/chain.h"
#include "datadir.h"
#include "db/store.h"
#include "p2p/enode.h"
#include "p2p/nodekey.h"
#include "p2p/server.h"
#include "rpc/server.h"

#include <ethd/hex.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const known_modes[] = {"full", "light", "dev"};

/* ---- configuration ---- */

#define TRY_CONF(expr)                                                                         \
    do {                                                                                       \
        if ((expr) != 0) {                                                                     \
            snprintf(err, errlen, "%s", ethd_conf_error(conf));                                \
            return ETHD_ECONFIG;                                                               \
        }                                                                                      \
    } while (0)

static int read_string_list(const struct ethd_conf *conf, const struct ethd_conf *list,
                            char *err, size_t errlen)
{
    for (size_t i = 0; list && i < ethd_conf_len(list); i++) {
        const struct ethd_conf *item = ethd_conf_at(list, i);
        if (ethd_conf_type(item) != ETHD_CONF_SCALAR) {
            ethd_conf_fail(item, "expected a string");
            snprintf(err, errlen, "%s", ethd_conf_error(conf));
            return ETHD_ECONFIG;
        }
    }
    return 0;
}

/* docs/config.md, "p2p". */
static int read_p2p_config(struct ethd_node *node, char *err, size_t errlen)
{
    const struct ethd_conf *conf = node->conf, *sec;
    int64_t v;
    TRY_CONF(ethd_conf_map(conf, "p2p", &sec));
    TRY_CONF(ethd_conf_bool(sec, "enabled", true, &node->p2p_enabled));
    TRY_CONF(ethd_conf_string(sec, "host", "127.0.0.1", &node->p2p_host));
    uint8_t ip[16];
    if (inet_pton(strchr(node->p2p_host, ':') ? AF_INET6 : AF_INET, node->p2p_host, ip) != 1) {
        ethd_conf_fail(ethd_conf_get(sec, "host"),
                       "p2p.host must be an IP address (host names are not supported), got '%s'",
                       node->p2p_host);
        TRY_CONF(-1);
    }
    TRY_CONF(ethd_conf_int(sec, "port", 0, 65535, 30303, &v));
    node->p2p_port = (uint16_t)v;
    TRY_CONF(ethd_conf_uint(sec, "max_peers", 0, 100000, ETHD_P2P_DEFAULT_MAX_PEERS,
                            &node->p2p_max_peers));
    TRY_CONF(ethd_conf_uint(sec, "max_inbound", 0, node->p2p_max_peers,
                            ethd_p2p_default_max_inbound((uint32_t)node->p2p_max_peers),
                            &node->p2p_max_inbound));
    TRY_CONF(ethd_conf_list(sec, "static_peers", &node->p2p_static));
    for (size_t i = 0; node->p2p_static && i < ethd_conf_len(node->p2p_static); i++) {
        const struct ethd_conf *item = ethd_conf_at(node->p2p_static, i);
        struct ethd_enode n;
        char msg[300];
        if (ethd_conf_type(item) != ETHD_CONF_SCALAR)
            ethd_conf_fail(item, "expected an enode URL (a string)");
        else if (ethd_enode_parse(ethd_conf_scalar(item), &n, msg, sizeof(msg)) != 0)
            ethd_conf_fail(item, "%s", msg);
        else
            continue;
        TRY_CONF(-1);
    }
    const struct {
        const char *key;
        uint64_t def, *out;
    } durations[] = {
        {"handshake_timeout", 5000, &node->p2p_handshake_ms},
        {"ping_interval", 15000, &node->p2p_ping_interval_ms},
        {"ping_timeout", 30000, &node->p2p_ping_timeout_ms},
    };
    for (size_t i = 0; i < sizeof(durations) / sizeof(*durations); i++) {
        TRY_CONF(ethd_conf_duration(sec, durations[i].key, durations[i].def, durations[i].out));
        if (*durations[i].out == 0) {
            ethd_conf_fail(ethd_conf_get(sec, durations[i].key), "p2p.%s must be positive",
                           durations[i].key);
            TRY_CONF(-1);
        }
    }
    TRY_CONF(ethd_conf_size(sec, "max_message_size", 16u << 20, &node->p2p_max_msg));
    if (node->p2p_max_msg < 1024 || node->p2p_max_msg > (16u << 20)) {
        ethd_conf_fail(ethd_conf_get(sec, "max_message_size"),
                       "p2p.max_message_size must be between 1KiB and 16MiB");
        TRY_CONF(-1);
    }
    return 0;
}

static int read_config(struct ethd_node *node, char *err, size_t errlen)
{
    const struct ethd_conf *conf = node->conf, *sec;
    int64_t v;
    uint64_t u;

    TRY_CONF(ethd_conf_map(conf, "node", &sec));
    TRY_CONF(ethd_conf_string(sec, "mode", "dev", &node->mode));
    bool mode_ok = false;
    for (size_t i = 0; i < sizeof(known_modes) / sizeof(*known_modes); i++)
        mode_ok |= strcmp(node->mode, known_modes[i]) == 0;
    if (!mode_ok) {
        ethd_conf_fail(ethd_conf_get(sec, "mode"), "node.mode must be full, light or dev, got '%s'",
                       node->mode);
        TRY_CONF(-1);
    }
    TRY_CONF(ethd_conf_string(sec, "datadir", "./ethd-data", &node->datadir));
    if (!*node->datadir) {
        ethd_conf_fail(ethd_conf_get(sec, "datadir"), "node.datadir must not be empty");
        TRY_CONF(-1);
    }

    TRY_CONF(ethd_conf_map(conf, "plugins", &sec));
    TRY_CONF(ethd_conf_list(sec, "path", &node->plugin_paths));
    TRY_CONF(ethd_conf_list(sec, "load", &node->plugin_list));
    if (read_string_list(conf, node->plugin_paths, err, errlen) ||
        read_string_list(conf, node->plugin_list, err, errlen))
        return ETHD_ECONFIG;

    TRY_CONF(ethd_conf_map(conf, "rpc", &sec));
    TRY_CONF(ethd_conf_bool(sec, "enabled", true, &node->rpc_enabled));
    TRY_CONF(ethd_conf_string(sec, "host", "127.0.0.1", &node->rpc_host));
    TRY_CONF(ethd_conf_int(sec, "port", 0, 65535, 8545, &v));
    node->rpc_port = (uint16_t)v;
    TRY_CONF(ethd_conf_size(sec, "max_body", 5u << 20, &node->rpc_max_body));
    if (node->rpc_max_body < 1024 || node->rpc_max_body > (256u << 20)) {
        ethd_conf_fail(ethd_conf_get(sec, "max_body"), "rpc.max_body must be between 1KiB and 256MiB");
        TRY_CONF(-1);
    }
    TRY_CONF(ethd_conf_uint(sec, "max_batch", 1, 100000, 1000, &node->rpc_max_batch));
    TRY_CONF(ethd_conf_duration(sec, "call_timeout", 30000, &node->rpc_call_timeout_ms));
    if (node->rpc_call_timeout_ms < 100 || node->rpc_call_timeout_ms > 3600000) {
        ethd_conf_fail(ethd_conf_get(sec, "call_timeout"),
                       "rpc.call_timeout must be between 100ms and 1h");
        TRY_CONF(-1);
    }
    const struct ethd_conf *ns;
    TRY_CONF(ethd_conf_list(sec, "namespaces", &ns));
    if (read_string_list(conf, ns, err, errlen))
        return ETHD_ECONFIG;
    if (ns) {
        node->n_rpc_namespaces = ethd_conf_len(ns);
        node->rpc_namespaces = calloc(node->n_rpc_namespaces + 1, sizeof(char *));
        if (!node->rpc_namespaces)
            return ETHD_ENOMEM;
        for (size_t i = 0; i < node->n_rpc_namespaces; i++)
            node->rpc_namespaces[i] = (char *)ethd_conf_scalar(ethd_conf_at(ns, i));
    }

    if (read_p2p_config(node, err, errlen))
        return ETHD_ECONFIG;

    /* docs/config.md, "chain". */
    TRY_CONF(ethd_conf_map(conf, "chain", &sec));
    TRY_CONF(ethd_conf_string(sec, "genesis", NULL, &node->chain_genesis));
    TRY_CONF(ethd_conf_uint(sec, "network_id", 0, UINT64_MAX, 0, &node->chain_network_id));
    (void)u;

    TRY_CONF(ethd_conf_map(conf, "services", &node->services));
    for (size_t i = 0; node->services && i < ethd_conf_len(node->services); i++)
        ethd_conf_key_at(node->services, i); /* keys are checked against the registry later */
    return 0;
}

/* ---- self-pipe and stop requests ---- */

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct ethd_node *node = arg;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    node->stop_requested = true;
    ETHD_INFO(node->log, "stop requested", NULL);
    event_base_loopbreak(node->base);
}

/* Between start-up steps: has a signal asked us to stop? */
static bool stop_pending(struct ethd_node *node)
{
    char buf[64];
    if (read(node->wake[0], buf, sizeof(buf)) > 0)
        node->stop_requested = true;
    return node->stop_requested;
}

void ethd_node_request_stop(struct ethd_node *node)
{
    char c = 1;
    ssize_t n = write(node->wake[1], &c, 1);
    (void)n; /* a full pipe already holds a pending request */
}

int ethd_node_wake_fd(const struct ethd_node *node)
{
    return node->wake[1];
}

int ethd_node_new(struct ethd_conf *conf, struct ethd_log_sink *sink, struct ethd_node **out,
                  char *err, size_t errlen)
{
    struct ethd_node *node = calloc(1, sizeof(*node));
    if (!node)
        return ETHD_ENOMEM;
    node->conf = conf;
    node->sink = sink;
    node->wake[0] = node->wake[1] = -1;
    ethd_registry_init(&node->registry);
    int rc = read_config(node, err, errlen);
    if (rc)
        goto fail;
    rc = ETHD_ENOMEM;
    if (ethd_logger_new(sink, "node", &node->log) || ethd_logger_new(sink, "p2p", &node->p2p_log) ||
        ethd_bus_new(&node->bus))
        goto fail;
    evthread_use_pthreads(); /* sends to peers may come from worker threads */
    if (!(node->base = event_base_new()))
        goto fail;
    if (pipe2(node->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        rc = ETHD_EIO;
        goto fail;
    }
    node->wake_ev = event_new(node->base, node->wake[0], EV_READ | EV_PERSIST, on_wake, node);
    if (!node->wake_ev || event_add(node->wake_ev, NULL) != 0)
        goto fail;
    *out = node;
    return 0;
fail:
    ethd_node_free(node);
    return rc;
}

void ethd_node_set_static_peers(struct ethd_node *node, const char *const *urls, size_t n)
{
    node->cli_static_peers = urls;
    node->n_cli_static_peers = n;
}

/* ---- plugins ---- */

int ethd_node_load_plugins(struct ethd_node *node, char *err, size_t errlen)
{
    if (node->plugins_loaded)
        return 0;
    size_t n_paths = node->plugin_paths ? ethd_conf_len(node->plugin_paths) : 0;
    const char **paths = calloc(n_paths + 1, sizeof(char *));
    if (!paths)
        return ETHD_ENOMEM;
    for (size_t i = 0; i < n_paths; i++)
        paths[i] = ethd_conf_scalar(ethd_conf_at(node->plugin_paths, i));
    int rc = ethd_loader_init(&node->loader, paths, n_paths);
    free(paths);
    if (rc) {
        snprintf(err, errlen, "plugin loader: %s", ethd_strerror(rc));
        return rc;
    }
    node->plugins_loaded = true;
    for (size_t i = 0; node->plugin_list && i < ethd_conf_len(node->plugin_list); i++) {
        const struct ethd_conf *item = ethd_conf_at(node->plugin_list, i);
        const char *name = ethd_conf_scalar(item);
        char msg[768];
        rc = ethd_loader_load(&node->loader, name, &node->registry, msg, sizeof(msg));
        if (rc) {
            char where[256];
            ethd_conf_where(item, where, sizeof(where));
            snprintf(err, errlen, "%s: %s", where, msg);
            return rc;
        }
        const struct ethd_loaded_plugin *lp = &node->loader.plugins[node->loader.n_plugins - 1];
        ETHD_INFO(node->log, "plugin loaded", "name=%s version=%s file=%s", lp->desc->name,
                  lp->desc->version ? lp->desc->version : "?", lp->file);
    }
    /* Every configured service must be provided by a loaded plugin. */
    for (size_t i = 0; node->services && i < ethd_conf_len(node->services); i++) {
        const char *name = ethd_conf_key_at(node->services, i);
        if (!ethd_registry_find(&node->registry, name)) {
            char where[256];
            ethd_conf_where(ethd_conf_at(node->services, i), where, sizeof(where));
            int n = snprintf(err, errlen,
                             "%s: service '%s' is not provided by any loaded plugin (loaded:",
                             where, name);
            for (size_t k = 0; k < node->loader.n_plugins && n > 0 && (size_t)n < errlen; k++)
                n += snprintf(err + n, errlen - (size_t)n, " %s", node->loader.plugins[k].name);
            if (n > 0 && (size_t)n < errlen)
                snprintf(err + n, errlen - (size_t)n, "%s)", node->loader.n_plugins ? "" : " none");
            return ETHD_ENOTFOUND;
        }
    }
    /* A service type nobody configured does nothing: say so, since loading
     * a plugin without a services entry is an easy mistake. */
    for (size_t t = 0; t < node->registry.n; t++) {
        const char *name = node->registry.types[t].ops->name;
        if (!node->services || !ethd_conf_get(node->services, name))
            ETHD_WARN(node->log, "service not configured",
                      "service=%s plugin=%s hint=\"add services.%s (e.g. %s: {}) to run it\"",
                      name, node->registry.types[t].plugin, name, name);
    }
    return 0;
}

/* ---- service context (include/ethd/plugin.h) ---- */

const char *ethd_ctx_name(const struct ethd_service_ctx *ctx) { return ctx->type->ops->name; }
const struct ethd_conf *ethd_ctx_config(const struct ethd_service_ctx *ctx) { return ctx->conf; }
const struct ethd_logger *ethd_ctx_logger(const struct ethd_service_ctx *ctx) { return ctx->log; }
struct ethd_store *ethd_ctx_store(const struct ethd_service_ctx *ctx) { return ctx->node->store; }
struct ethd_bus *ethd_ctx_bus(const struct ethd_service_ctx *ctx) { return ctx->node->bus; }
struct event_base *ethd_ctx_loop(const struct ethd_service_ctx *ctx) { return ctx->node->base; }
const char *ethd_ctx_datadir(const struct ethd_service_ctx *ctx) { return ctx->node->datadir; }
const char *ethd_ctx_mode(const struct ethd_service_ctx *ctx) { return ctx->node->mode; }

void ethd_ctx_set_error(struct ethd_service_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
}

/* Who published an interface: a service, or the node itself (owner NULL). */
static const char *iface_owner(const struct ethd_iface *it)
{
    return it->owner ? ethd_ctx_name(it->owner) : "node";
}

static int parse_iface_name(const char *nv, char *name, size_t len, uint32_t *version)
{
    const char *slash = strrchr(nv, '/');
    if (!slash || slash == nv || (size_t)(slash - nv) >= len || !slash[1])
        return ETHD_EINVAL;
    char *end;
    errno = 0;
    unsigned long v = strtoul(slash + 1, &end, 10);
    if (*end || errno || v == 0 || v > UINT32_MAX)
        return ETHD_EINVAL;
    memcpy(name, nv, (size_t)(slash - nv));
    name[slash - nv] = '\0';
    *version = (uint32_t)v;
    return 0;
}

int ethd_ctx_publish(struct ethd_service_ctx *ctx, const char *name_version, const void *iface,
                     void *impl)
{
    struct ethd_node *node = ctx->node;
    struct ethd_iface it = {.vtable = iface, .impl = impl, .owner = ctx};
    if (!iface || parse_iface_name(name_version, it.name, sizeof(it.name), &it.version)) {
        ethd_ctx_set_error(ctx, "cannot publish '%s': expected \"name/version\" and an interface",
                           name_version);
        return ETHD_EINVAL;
    }
    for (size_t i = 0; i < node->n_ifaces; i++) {
        if (strcmp(node->ifaces[i].name, it.name) == 0) {
            ethd_ctx_set_error(ctx, "interface '%s' is already published by %s%s%s", it.name,
                               node->ifaces[i].owner ? "service '" : "the ",
                               iface_owner(&node->ifaces[i]), node->ifaces[i].owner ? "'" : "");
            return ETHD_EEXIST;
        }
    }
    struct ethd_iface *a = realloc(node->ifaces, (node->n_ifaces + 1) * sizeof(*a));
    if (!a)
        return ETHD_ENOMEM;
    node->ifaces = a;
    node->ifaces[node->n_ifaces++] = it;
    ETHD_DEBUG(node->log, "interface published", "name=%s version=%u service=%s", it.name,
               it.version, ethd_ctx_name(ctx));
    return 0;
}

int ethd_ctx_lookup(struct ethd_service_ctx *ctx, const char *name_version, const void **iface,
                    void **impl)
{
    struct ethd_node *node = ctx->node;
    char name[64];
    uint32_t want;
    if (parse_iface_name(name_version, name, sizeof(name), &want)) {
        ethd_ctx_set_error(ctx, "cannot look up '%s': expected \"name/version\"", name_version);
        return ETHD_EINVAL;
    }
    for (size_t i = 0; i < node->n_ifaces; i++) {
        const struct ethd_iface *it = &node->ifaces[i];
        if (strcmp(it->name, name) != 0)
            continue;
        if (it->version < want) {
            ethd_ctx_set_error(ctx, "needs interface %s/%u, but %s%s%s publishes %s/%u", name,
                               want, it->owner ? "service '" : "the ", iface_owner(it),
                               it->owner ? "'" : "", name, it->version);
            return ETHD_EABI;
        }
        *iface = it->vtable;
        if (impl)
            *impl = it->impl;
        return 0;
    }
    ethd_ctx_set_error(ctx, "needs interface %s/%u, which no service publishes", name, want);
    return ETHD_ENOTFOUND;
}

/* Publish an interface owned by the node itself (shown as "node"); it lives
 * until teardown. */
static int node_publish(struct ethd_node *node, const char *name_version, const void *iface,
                        void *impl, char *err, size_t errlen)
{
    struct ethd_iface it = {.vtable = iface, .impl = impl, .owner = NULL};
    if (parse_iface_name(name_version, it.name, sizeof(it.name), &it.version)) {
        snprintf(err, errlen, "cannot publish '%s'", name_version);
        return ETHD_EINVAL;
    }
    struct ethd_iface *a = realloc(node->ifaces, (node->n_ifaces + 1) * sizeof(*a));
    if (!a)
        return ETHD_ENOMEM;
    node->ifaces = a;
    node->ifaces[node->n_ifaces++] = it;
    ETHD_DEBUG(node->log, "interface published", "name=%s version=%u service=node", it.name,
               it.version);
    return 0;
}

/* etc/dev-genesis.json, compiled in (core/dev_genesis.c, from mk/core.mk). */
extern const char ethd_dev_genesis[];
extern const unsigned long ethd_dev_genesis_len;

/* Open the chain when chain.genesis is set or the store already holds one,
 * and publish it as "chain/1". chain.genesis "dev" (docs/config.md) is the
 * built-in dev genesis for an empty data dir; a data dir that already holds
 * a chain keeps it. */
static int open_chain(struct ethd_node *node, char *err, size_t errlen)
{
    bool present = ethd_chain_present(node->store);
    if (!node->chain_genesis && !present)
        return 0;
    bool dev = node->chain_genesis && strcmp(node->chain_genesis, "dev") == 0;
    struct ethd_chain_opts o = {.log = node->log, .network_id = node->chain_network_id};
    char msg[768];
    int rc = dev && !present
                 ? ethd_chain_open(node->store, ethd_dev_genesis, ethd_dev_genesis_len,
                                   "<built-in dev genesis>", &o, &node->chain, msg, sizeof(msg))
                 : ethd_chain_open_path(node->store, dev ? NULL : node->chain_genesis, &o,
                                        &node->chain, msg, sizeof(msg));
    if (rc) {
        snprintf(err, errlen, "chain: %s", msg);
        return rc;
    }
    if ((rc = ethd_chain_attach_bus(node->chain, node->bus, node->base)) ||
        (rc = node_publish(node, ETHD_CHAIN_IFACE_V1, ethd_chain_iface(), node->chain, err,
                           errlen)))
        return rc;
    struct ethd_chain_head h;
    char hx[67];
    ethd_chain_head_header(node->chain, &h);
    ethd_hex_encode(ethd_chain_genesis(node->chain)->hash, 32, hx);
    ETHD_INFO(node->log, "chain opened", "genesis=%s chain_id=%llu head=%llu", hx,
              (unsigned long long)ethd_chain_genesis(node->chain)->config.chain_id,
              (unsigned long long)h.number);
    return 0;
}

static void drop_ifaces_of(struct ethd_node *node, struct ethd_service_ctx *ctx)
{
    size_t w = 0;
    for (size_t r = 0; r < node->n_ifaces; r++)
        if (node->ifaces[r].owner != ctx)
            node->ifaces[w++] = node->ifaces[r];
    node->n_ifaces = w;
}

/* ---- lifecycle ---- */

static const char *svc_plugin(const struct ethd_service_ctx *ctx)
{
    return ctx->type->plugin;
}

static void svc_fail(const struct ethd_service_ctx *ctx, const char *step, int rc, char *err,
                     size_t errlen)
{
    snprintf(err, errlen, "service '%s' (plugin %s) failed to %s: %s", ethd_ctx_name(ctx),
             svc_plugin(ctx), step, ctx->err[0] ? ctx->err : ethd_strerror(rc));
}

/* Stop started services in reverse order, then destroy created ones in
 * reverse order. Idempotent. */
static void teardown_services(struct ethd_node *node)
{
    for (size_t i = node->n_svcs; i-- > 0;) {
        struct ethd_service_ctx *ctx = &node->svcs[i];
        if (ctx->state != SVC_STARTED)
            continue;
        int rc = ctx->type->ops->stop ? ctx->type->ops->stop(ctx->self) : 0;
        if (rc)
            ETHD_WARN(node->log, "service stop failed", "service=%s error=\"%s\"",
                      ethd_ctx_name(ctx), ctx->err[0] ? ctx->err : ethd_strerror(rc));
        else
            ETHD_INFO(node->log, "service stopped", "service=%s", ethd_ctx_name(ctx));
        ctx->state = SVC_STOPPED;
    }
    for (size_t i = node->n_svcs; i-- > 0;) {
        struct ethd_service_ctx *ctx = &node->svcs[i];
        if (ctx->state != SVC_NEW) {
            ctx->type->ops->destroy(ctx->self);
            drop_ifaces_of(node, ctx);
            ETHD_DEBUG(node->log, "service destroyed", "service=%s", ethd_ctx_name(ctx));
        }
        ethd_logger_free(ctx->log);
    }
    free(node->svcs);
    node->svcs = NULL;
    node->n_svcs = 0;
}

static void teardown(struct ethd_node *node)
{
    ethd_rpc_server_free(node->rpc); /* no more calls into services */
    node->rpc = NULL;
    if (node->p2p)
        ethd_p2p_server_stop(node->p2p); /* peers go before the services they talk to */
    teardown_services(node);
    ethd_p2p_server_free(node->p2p);
    node->p2p = NULL;
    drop_ifaces_of(node, NULL); /* the node's own (chain/1) */
    ethd_chain_close(node->chain);
    node->chain = NULL;
    ethd_store_close(node->store);
    node->store = NULL;
    ethd_datadir_unlock(node->lock);
    node->lock = NULL;
    node->started = false;
}

static int create_services(struct ethd_node *node, char *err, size_t errlen)
{
    size_t n = node->services ? ethd_conf_len(node->services) : 0;
    node->svcs = calloc(n ? n : 1, sizeof(*node->svcs));
    if (!node->svcs)
        return ETHD_ENOMEM;
    node->n_svcs = n;
    for (size_t i = 0; i < n; i++) {
        struct ethd_service_ctx *ctx = &node->svcs[i];
        ctx->node = node;
        ctx->type = ethd_registry_find(&node->registry, ethd_conf_key_at(node->services, i));
        const struct ethd_conf *sub = ethd_conf_at(node->services, i);
        ctx->conf = ethd_conf_type(sub) == ETHD_CONF_NULL ? NULL : sub;
        if (ethd_logger_new(node->sink, ethd_ctx_name(ctx), &ctx->log))
            return ETHD_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (stop_pending(node))
            return ETHD_ECANCELED;
        struct ethd_service_ctx *ctx = &node->svcs[i];
        if (ctx->conf && ethd_conf_type(ctx->conf) != ETHD_CONF_MAP) {
            char where[256];
            ethd_conf_where(ctx->conf, where, sizeof(where));
            snprintf(err, errlen, "%s: expected a mapping of settings for service '%s'", where,
                     ethd_ctx_name(ctx));
            return ETHD_ECONFIG;
        }
        int rc = ctx->type->ops->create(ctx, &ctx->self);
        if (rc) {
            const char *cerr = ethd_conf_error(node->conf);
            if (rc == ETHD_ECONFIG && !ctx->err[0] && *cerr)
                snprintf(ctx->err, sizeof(ctx->err), "%s", cerr);
            svc_fail(ctx, "create", rc, err, errlen);
            return rc;
        }
        ctx->state = SVC_CREATED;
        ETHD_INFO(node->log, "service created", "service=%s plugin=%s", ethd_ctx_name(ctx),
                  svc_plugin(ctx));
        /* What the service did not read is a typo or an unsupported key. */
        if (ctx->conf && ethd_conf_check_unused(ctx->conf, err, errlen))
            return ETHD_ECONFIG;
    }
    return 0;
}

static int attach_protocols_and_apis(struct ethd_node *node, char *err, size_t errlen)
{
    int rc;
    for (size_t i = 0; i < node->n_svcs; i++) {
        struct ethd_service_ctx *ctx = &node->svcs[i];
        const struct ethd_service_ops *ops = ctx->type->ops;
        const struct ethd_protocol *protos = NULL;
        size_t np = 0;
        if (ops->protocols && (rc = ops->protocols(ctx->self, &protos, &np))) {
            svc_fail(ctx, "list its protocols", rc, err, errlen);
            return rc;
        }
        for (size_t k = 0; k < np; k++)
            if ((rc = ethd_p2p_server_add_protocol(node->p2p, &protos[k], ctx->self,
                                                   ethd_ctx_name(ctx), err, errlen)))
                return rc;
        const struct ethd_api *apis = NULL;
        size_t na = 0;
        if (ops->apis && (rc = ops->apis(ctx->self, &apis, &na))) {
            svc_fail(ctx, "list its APIs", rc, err, errlen);
            return rc;
        }
        for (size_t k = 0; k < na && node->rpc; k++) {
            if ((rc = ethd_rpc_server_add_api(node->rpc, &apis[k], ctx->self,
                                              ethd_ctx_name(ctx)))) {
                snprintf(err, errlen, "service '%s' (plugin %s): RPC namespace '%s': %s",
                         ethd_ctx_name(ctx), svc_plugin(ctx), apis[k].namespace,
                         ethd_rpc_server_error(node->rpc));
                return rc;
            }
        }
    }
    return 0;
}

static int start_services(struct ethd_node *node, char *err, size_t errlen)
{
    for (size_t i = 0; i < node->n_svcs; i++) {
        if (stop_pending(node))
            return ETHD_ECANCELED;
        struct ethd_service_ctx *ctx = &node->svcs[i];
        int rc = ctx->type->ops->start ? ctx->type->ops->start(ctx->self, node->p2p) : 0;
        if (rc) {
            svc_fail(ctx, "start", rc, err, errlen);
            return rc;
        }
        ctx->state = SVC_STARTED;
        ETHD_INFO(node->log, "service started", "service=%s", ethd_ctx_name(ctx));
    }
    return 0;
}

/* Node key from the data dir, settings and static peers to the p2p server. */
static int configure_p2p(struct ethd_node *node, char *err, size_t errlen)
{
    struct ethd_p2p_config cfg;
    ethd_p2p_config_defaults(&cfg);
    struct ethd_secp *secp;
    char msg[600];
    bool created;
    int rc = ethd_secp_new(&secp);
    if (rc) {
        snprintf(err, errlen, "secp256k1: %s", ethd_strerror(rc));
        return rc;
    }
    rc = ethd_nodekey_load(secp, node->datadir, cfg.node_key, &created, msg, sizeof(msg));
    ethd_secp_free(secp);
    if (rc) {
        snprintf(err, errlen, "node key: %s", msg);
        return rc;
    }
    if (created)
        ETHD_INFO(node->p2p_log, "node key created", "file=%s/nodekey", node->datadir);
    cfg.host = node->p2p_host;
    cfg.port = node->p2p_port;
    cfg.max_peers = (uint32_t)node->p2p_max_peers;
    cfg.max_inbound = (uint32_t)node->p2p_max_inbound;
    cfg.handshake_timeout_ms = node->p2p_handshake_ms;
    cfg.ping_interval_ms = node->p2p_ping_interval_ms;
    cfg.ping_timeout_ms = node->p2p_ping_timeout_ms;
    cfg.max_message_size = (size_t)node->p2p_max_msg;
    size_t n_conf = node->p2p_static ? ethd_conf_len(node->p2p_static) : 0;
    const char **urls = calloc(n_conf + node->n_cli_static_peers + 1, sizeof(char *));
    if (!urls) {
        explicit_bzero(cfg.node_key, sizeof(cfg.node_key));
        return ETHD_ENOMEM;
    }
    for (size_t i = 0; i < n_conf; i++)
        urls[i] = ethd_conf_scalar(ethd_conf_at(node->p2p_static, i));
    for (size_t i = 0; i < node->n_cli_static_peers; i++)
        urls[n_conf + i] = node->cli_static_peers[i];
    cfg.static_peers = urls;
    cfg.n_static_peers = n_conf + node->n_cli_static_peers;
    rc = ethd_p2p_server_configure(node->p2p, &cfg, msg, sizeof(msg));
    explicit_bzero(cfg.node_key, sizeof(cfg.node_key));
    free(urls);
    if (rc)
        snprintf(err, errlen, "p2p: %s", msg);
    return rc;
}

int ethd_node_start(struct ethd_node *node, char *err, size_t errlen)
{
    if (node->started)
        return ETHD_ESTATE;
    int rc;
    char msg[512];
    ETHD_INFO(node->log, "starting ethd", "version=%s mode=%s datadir=%s", ETHD_VERSION,
              node->mode, node->datadir);
    if ((rc = ethd_node_load_plugins(node, err, errlen)))
        return rc;
    if (stop_pending(node))
        goto canceled;
    if ((rc = ethd_datadir_lock(node->datadir, &node->lock, err, errlen)))
        return rc;
    char *dbdir;
    if (asprintf(&dbdir, "%s/chaindata", node->datadir) < 0) {
        rc = ETHD_ENOMEM;
        goto fail;
    }
    /* A light node keeps headers only: a small store (docs/les.md). */
    rc = ethd_store_open_profile(dbdir, node->log,
                                 strcmp(node->mode, "light") == 0 ? ETHD_STORE_SMALL
                                                                  : ETHD_STORE_DEFAULT,
                                 &node->store, msg, sizeof(msg));
    free(dbdir);
    if (rc) {
        snprintf(err, errlen, "cannot open the database in %s/chaindata: %s", node->datadir, msg);
        goto fail;
    }
    if ((rc = open_chain(node, err, errlen)))
        goto fail;
    if ((rc = ethd_p2p_server_new(node->base, node->p2p_log, &node->p2p)))
        goto fail_generic;
    if ((rc = configure_p2p(node, err, errlen)))
        goto fail;
    if (node->rpc_enabled) {
        struct ethd_rpc_server_opts o = {
            .host = node->rpc_host,
            .port = node->rpc_port,
            .max_body = (size_t)node->rpc_max_body,
            .max_batch = (size_t)node->rpc_max_batch,
            .call_timeout_ms = node->rpc_call_timeout_ms,
            .namespaces = (const char *const *)node->rpc_namespaces,
            .n_namespaces = node->n_rpc_namespaces,
            .log = node->log,
        };
        if ((rc = ethd_rpc_server_new(node->base, &o, &node->rpc)))
            goto fail_generic;
        if ((rc = ethd_node_api_register(node, err, errlen)))
            goto fail;
    }
    if ((rc = create_services(node, err, errlen)))
        goto fail;
    if ((rc = attach_protocols_and_apis(node, err, errlen)))
        goto fail;
    /* Node-level keys were read in ethd_node_new and service keys at create:
     * anything left unread in the whole file is unknown. */
    if ((rc = ethd_conf_check_unused(node->conf, err, errlen)))
        goto fail;
    if (stop_pending(node))
        goto canceled;
    if (node->rpc) {
        if ((rc = ethd_rpc_server_start(node->rpc))) {
            snprintf(err, errlen, "RPC server: %s", ethd_rpc_server_error(node->rpc));
            goto fail;
        }
    }
    if (!node->p2p_enabled)
        ETHD_INFO(node->p2p_log, "p2p disabled", "enode=%s", ethd_p2p_server_enode(node->p2p));
    else if ((rc = ethd_p2p_server_start(node->p2p, err, errlen)))
        goto fail;
    if ((rc = start_services(node, err, errlen)))
        goto fail;
    node->started = true;
    node->started_at = (uint64_t)time(NULL);
    ETHD_INFO(node->log, "node started", "services=%zu plugins=%zu", node->n_svcs,
              node->loader.n_plugins);
    return 0;

canceled:
    rc = ETHD_ECANCELED;
fail:
    if (rc == ETHD_ECANCELED)
        snprintf(err, errlen, "start-up interrupted by a stop request (signal)");
    ETHD_ERROR(node->log, "start-up failed, unwinding", "error=\"%s\"", err);
    teardown(node);
    return rc;
fail_generic:
    snprintf(err, errlen, "start-up failed: %s", ethd_strerror(rc));
    goto fail;
}

int ethd_node_run(struct ethd_node *node)
{
    if (!node->started)
        return ETHD_ESTATE;
    if (!node->stop_requested && event_base_dispatch(node->base) < 0)
        return ETHD_EIO;
    return 0;
}

uint16_t ethd_node_rpc_port(const struct ethd_node *node)
{
    return node->rpc ? ethd_rpc_server_port(node->rpc) : 0;
}

void ethd_node_free(struct ethd_node *node)
{
    if (!node)
        return;
    bool was_started = node->started;
    if (was_started)
        ETHD_INFO(node->log, "stopping", NULL);
    teardown(node);
    if (node->plugins_loaded)
        ethd_loader_free(&node->loader);
    ethd_registry_free(&node->registry);
    free(node->ifaces);
    free(node->rpc_namespaces);
    if (node->wake_ev)
        event_free(node->wake_ev);
    if (node->base)
        event_base_free(node->base);
    for (int i = 0; i < 2; i++)
        if (node->wake[i] >= 0)
            close(node->wake[i]);
    ethd_bus_free(node->bus);
    if (was_started)
        ETHD_INFO(node->log, "stopped", NULL);
    ethd_logger_free(node->p2p_log);
    ethd_logger_free(node->log);
    free(node);
}
