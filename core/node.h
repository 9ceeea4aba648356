/* The node: owns the loop, config, loggers, store, bus, plugins, services,
 * RPC and p2p servers, and drives the service lifecycle. Internal to core. */
#ifndef ETHD_CORE_NODE_H
#define ETHD_CORE_NODE_H
#include "bus.h"
#include "conf.h"
#include "loader.h"
#include "log.h"
#include "registry.h"
#include <ethd/plugin.h>
#include <stdbool.h>
#include <stdint.h>

struct event;
struct ethd_store;
struct ethd_rpc_server;
struct ethd_p2p_server;
struct ethd_datadir_lock;
struct ethd_chain;

enum ethd_service_state { SVC_NEW = 0, SVC_CREATED, SVC_STARTED, SVC_STOPPED };

struct ethd_service_ctx {
    struct ethd_node *node;
    const struct ethd_service_type *type;
    const struct ethd_conf *conf; /* services.<name>; NULL when empty */
    struct ethd_logger *log;
    void *self;
    enum ethd_service_state state;
    char err[256];
};

struct ethd_iface {
    char name[64];
    uint32_t version;
    const void *vtable;
    void *impl;
    struct ethd_service_ctx *owner;
};

struct ethd_node {
    struct ethd_conf *conf; /* borrowed from the caller */
    struct ethd_log_sink *sink;
    struct ethd_logger *log; /* "node" */
    struct ethd_logger *p2p_log; /* "p2p" */
    struct event_base *base;
    struct ethd_bus *bus;
    struct ethd_loader loader;
    struct ethd_registry registry;
    struct ethd_datadir_lock *lock;
    struct ethd_store *store;
    struct ethd_rpc_server *rpc;
    struct ethd_p2p_server *p2p;
    struct ethd_chain *chain; /* published as "chain/1" when the node has a chain */

    /* settings read from the config */
    const char *mode;
    const char *datadir;
    const struct ethd_conf *plugin_list;  /* plugins.load */
    const struct ethd_conf *plugin_paths; /* plugins.path */
    const struct ethd_conf *services;     /* services map */
    const char *chain_genesis;            /* chain.genesis; NULL when absent */
    uint64_t chain_network_id;            /* chain.network_id; 0 = the chain id */
    bool rpc_enabled;
    const char *rpc_host;
    uint16_t rpc_port;
    uint64_t rpc_max_body, rpc_max_batch, rpc_call_timeout_ms;
    char **rpc_namespaces;
    size_t n_rpc_namespaces;
    bool p2p_enabled;
    const char *p2p_host;
    uint16_t p2p_port;
    uint64_t p2p_max_peers, p2p_max_inbound;
    uint64_t p2p_handshake_ms, p2p_ping_interval_ms, p2p_ping_timeout_ms, p2p_max_msg;
    const struct ethd_conf *p2p_static; /* p2p.static_peers */
    const char *const *cli_static_peers; /* --static-peer, borrowed */
    size_t n_cli_static_peers;

    struct ethd_service_ctx *svcs;
    size_t n_svcs;
    struct ethd_iface *ifaces;
    size_t n_ifaces;

    int wake[2]; /* self-pipe: signal handlers write here to request a stop */
    struct event *wake_ev;
    bool plugins_loaded, started, stop_requested;
    uint64_t started_at;
};

/* Read and validate the node-level configuration (no I/O). `conf` and `sink`
 * are borrowed until ethd_node_free. On failure err holds
 * "FILE:LINE:COL: message". *out: caller frees with ethd_node_free. */
int ethd_node_new(struct ethd_conf *conf, struct ethd_log_sink *sink, struct ethd_node **out,
                  char *err, size_t errlen);
/* Static peers given on the command line, dialed in addition to
 * p2p.static_peers. `urls` is borrowed until ethd_node_free. */
void ethd_node_set_static_peers(struct ethd_node *node, const char *const *urls, size_t n);
/* Load the plugins and check that every configured service is provided
 * (used by --check-config; ethd_node_start does it too). */
int ethd_node_load_plugins(struct ethd_node *node, char *err, size_t errlen);
/* Full start: data dir lock, store, services created, protocols to the p2p
 * server, APIs to RPC, RPC and p2p started, services started. On failure
 * everything already done is undone and err says which step/service and why. */
int ethd_node_start(struct ethd_node *node, char *err, size_t errlen);
/* Run the loop until a stop is requested. */
int ethd_node_run(struct ethd_node *node);
/* Ask the node to stop; async-signal-safe (writes the self-pipe). */
void ethd_node_request_stop(struct ethd_node *node);
/* Write end of the self-pipe, for signal handlers. */
int ethd_node_wake_fd(const struct ethd_node *node);
/* Stop (if started) and free. NULL is a no-op. */
void ethd_node_free(struct ethd_node *node);

/* RPC port actually bound (after start), 0 if RPC is off. */
uint16_t ethd_node_rpc_port(const struct ethd_node *node);

/* The node's own RPC namespaces (web3_, ethd_, and the p2p server's admin_
 * and net_); defined in node_api.c. */
int ethd_node_api_register(struct ethd_node *node, char *err, size_t errlen);

/* The embedded default configuration (etc/ethd.yaml), generated at build time. */
extern const char ethd_default_config[];
extern const unsigned long ethd_default_config_len;
extern const char ethd_light_config[];
extern const unsigned long ethd_light_config_len;

#endif
