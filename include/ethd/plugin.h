/* The ethd plugin SDK: what a plugin exports and the service interface.
 *
 * A plugin is a shared object exporting one symbol, `ethd_plugin_descriptor`
 * (define it with ETHD_PLUGIN_DEFINE). The loader checks abi_version and
 * struct_size before calling anything, then calls init(), which only
 * registers services: no I/O, no threads, no globals.
 *
 * Service lifecycle (node-driven, all in the loop thread):
 *   create (config order) -> protocols -> apis -> start (config order)
 *   -> run -> stop (reverse order) -> destroy (reverse order).
 * A failure unwinds: services already started are stopped in reverse order,
 * every created one is destroyed. */
#ifndef ETHD_PLUGIN_H
#define ETHD_PLUGIN_H
#include <stddef.h>
#include <stdint.h>

#include <ethd/bus.h>
#include <ethd/config.h>
#include <ethd/error.h>
#include <ethd/log.h>
#include <ethd/rpc.h>
#include <ethd/store.h>
#include <ethd/version.h>

struct event_base;
struct ethd_registry;
struct ethd_service_ctx;
struct ethd_p2p_server;
struct ethd_peer;

#define ETHD_PLUGIN_SYMBOL "ethd_plugin_descriptor"

struct ethd_plugin {
    uint32_t abi_version; /* ETHD_ABI_VERSION the plugin was built against */
    uint32_t struct_size; /* sizeof(struct ethd_plugin) at build time */
    const char *name;     /* matches the file name: plugin "example" is example.so */
    const char *version;
    const char *description;
    int (*init)(struct ethd_registry *reg); /* registers services; no I/O */
    void *reserved[4];                      /* zero; for growth without an ABI bump */
};

#define ETHD_PLUGIN_DEFINE(NAME, VERSION, DESCRIPTION, INIT)                                   \
    const struct ethd_plugin ethd_plugin_descriptor = {                                        \
        ETHD_ABI_VERSION, (uint32_t)sizeof(struct ethd_plugin), NAME, VERSION, DESCRIPTION,    \
        INIT, {0, 0, 0, 0}}

/* A sub-protocol served over RLPx: the callback form of p2p.Protocol.
 * Message codes in on_message are relative to the protocol's offset. An
 * on_message returning ETHD_EPROTO disconnects the peer with ProtocolError
 * (0x02), any other error with SubprotocolError (0x10); an on_connect error
 * disconnects with SubprotocolError. See <ethd/p2p.h> for the peer API. */
struct ethd_protocol {
    const char *name;  /* capability name: "eth" */
    uint32_t version;  /* 68 */
    uint32_t length;   /* number of message codes used */
    int (*on_connect)(void *self, struct ethd_peer *peer);
    int (*on_message)(void *self, struct ethd_peer *peer, uint64_t code,
                      const uint8_t *payload, size_t len);
    void (*on_disconnect)(void *self, struct ethd_peer *peer, int reason);
    json_t *(*node_info)(void *self);                      /* caller frees; may be NULL */
    json_t *(*peer_info)(void *self, struct ethd_peer *peer); /* caller frees; may be NULL */
};

struct ethd_service_ops {
    uint32_t struct_size; /* sizeof(struct ethd_service_ops) at build time */
    const char *name;     /* "eth", "les-server", ...: unique in the node */
    /* Build the instance from ctx (config subtree, store, logger, loop,
     * interface lookup). ctx is borrowed until destroy returns. No network I/O. */
    int (*create)(struct ethd_service_ctx *ctx, void **self);
    /* Protocol descriptors, borrowed until destroy. May be NULL. */
    int (*protocols)(void *self, const struct ethd_protocol **out, size_t *n);
    /* RPC namespaces, borrowed until destroy. May be NULL. */
    int (*apis)(void *self, const struct ethd_api **out, size_t *n);
    int (*start)(void *self, struct ethd_p2p_server *srv); /* may be NULL */
    int (*stop)(void *self);  /* blocks until its work has ended; may be NULL */
    void (*destroy)(void *self);
};

/* Register a service type. `ops` is borrowed for the life of the plugin (make
 * it static const). ETHD_EEXIST if another plugin registered the name. */
int ethd_registry_add_service(struct ethd_registry *reg, const struct ethd_service_ops *ops);

/* ---- service context: everything a service may use ---- */
const char *ethd_ctx_name(const struct ethd_service_ctx *ctx);    /* service name */
const struct ethd_conf *ethd_ctx_config(const struct ethd_service_ctx *ctx); /* may be NULL */
const struct ethd_logger *ethd_ctx_logger(const struct ethd_service_ctx *ctx);
struct ethd_store *ethd_ctx_store(const struct ethd_service_ctx *ctx);
struct ethd_bus *ethd_ctx_bus(const struct ethd_service_ctx *ctx);
struct event_base *ethd_ctx_loop(const struct ethd_service_ctx *ctx);
const char *ethd_ctx_datadir(const struct ethd_service_ctx *ctx);
const char *ethd_ctx_mode(const struct ethd_service_ctx *ctx);    /* "full", "light", "dev" */

/* Say why create/start/stop failed; the node prints it with the service name. */
void ethd_ctx_set_error(struct ethd_service_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Publish a versioned interface "name/N" (a struct of function pointers that
 * only grows: version N+1 starts with version N). `iface` and `impl` are
 * borrowed until the publishing service is destroyed; `impl` is passed back
 * to the caller of lookup as the first argument of the interface's functions.
 * ETHD_EEXIST if the name is already published. */
int ethd_ctx_publish(struct ethd_service_ctx *ctx, const char *name_version, const void *iface,
                     void *impl);
/* Find "name/N": satisfied by a published version >= N. ETHD_ENOTFOUND if no
 * service publishes the name, ETHD_EABI if only an older version is; either
 * way ethd_ctx_set_error() is filled with the reason. */
int ethd_ctx_lookup(struct ethd_service_ctx *ctx, const char *name_version, const void **iface,
                    void **impl);

#endif
