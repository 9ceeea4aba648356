/* The p2p server: holds the union of the services' protocols, listens,
 * dials static peers (with back-off) and runs the peers (core/p2p/peer.c).
 * Internal to core; services see only the opaque struct ethd_p2p_server
 * handed to their start hook and the calls of <ethd/p2p.h>.
 *
 * Order of use: new -> add_protocol (services) -> configure -> start -> ...
 * -> stop -> free. */
#ifndef ETHD_CORE_P2P_SERVER_H
#define ETHD_CORE_P2P_SERVER_H
#include <ethd/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_p2p_server;
struct ethd_rpc_server;
struct ethd_peer;

struct ethd_p2p_protocol_entry {
    const struct ethd_protocol *proto; /* borrowed from the service */
    void *self;                        /* the service instance */
    const char *owner;                 /* service name (borrowed) */
};

/* Settings (docs/config.md, "p2p"); ethd_p2p_config_defaults fills them. */
struct ethd_p2p_config {
    const char *host;                  /* IP literal to listen on */
    uint16_t port;                     /* 0 = any free port */
    uint8_t node_key[32];
    uint32_t max_peers;                /* all connections past the RLPx handshake */
    uint32_t max_inbound;              /* of which inbound; <= max_peers */
    const char *const *static_peers;   /* enode URLs, borrowed during configure */
    size_t n_static_peers;
    uint64_t handshake_timeout_ms;     /* TCP accept/connect -> Hello received */
    uint64_t ping_interval_ms;
    uint64_t ping_timeout_ms;          /* no message at all for this long: DiscTimeout */
    size_t max_message_size;           /* decompressed payload limit */
    uint64_t redial_min_ms, redial_max_ms; /* static peer back-off */
    uint64_t redial_healthy_ms;        /* a connection this long resets the back-off */
    const char *client_id;             /* NULL = "ethd/v<version>/<os>-<arch>" */
};

#define ETHD_P2P_DEFAULT_MAX_PEERS 50
#define ETHD_P2P_MAX_PENDING 64        /* inbound connections still in the handshake */

/* Defaults: 127.0.0.1:30303, 50 peers (25 inbound), 5 s handshake, ping
 * every 15 s, 30 s idle, 16 MiB messages, re-dial 1 s doubling to 60 s. */
void ethd_p2p_config_defaults(struct ethd_p2p_config *cfg);
/* Default max_inbound for max_peers: max_peers / 2, at least 1 (0 if 0). */
uint32_t ethd_p2p_default_max_inbound(uint32_t max_peers);

/* *out: caller frees with ethd_p2p_server_free. lg borrowed. */
int ethd_p2p_server_new(struct event_base *base, const struct ethd_logger *lg,
                        struct ethd_p2p_server **out);
/* Add a service's protocol. ETHD_EEXIST (message in err) if another service
 * offers the same name and version; ETHD_EINVAL for an empty name or a zero
 * version or length; ETHD_ESTATE once started. */
int ethd_p2p_server_add_protocol(struct ethd_p2p_server *srv, const struct ethd_protocol *p,
                                 void *self, const char *owner, char *err, size_t errlen);
size_t ethd_p2p_server_protocol_count(const struct ethd_p2p_server *srv);
/* Borrowed; NULL past the end. Sorted by name, then version. */
const struct ethd_p2p_protocol_entry *ethd_p2p_server_protocol_at(const struct ethd_p2p_server *srv,
                                                                  size_t i);
/* Check and copy the settings (strings too): the node key must be valid, the
 * host an IP literal, every static peer a valid enode URL that is not this
 * node. ETHD_EINVAL with the reason in err. Before start. */
int ethd_p2p_server_configure(struct ethd_p2p_server *srv, const struct ethd_p2p_config *cfg,
                              char *err, size_t errlen);
/* Listen, log the bound port and the enode URL, dial the static peers.
 * ETHD_EIO if the address cannot be bound (reason in err); ETHD_ESTATE if not
 * configured. */
int ethd_p2p_server_start(struct ethd_p2p_server *srv, char *err, size_t errlen);
/* Stop listening and dialing; every peer gets Disconnect(Quitting), its
 * socket is flushed as far as the kernel takes it at once, and it is closed
 * (on_disconnect runs for each) before this returns. Idempotent. */
void ethd_p2p_server_stop(struct ethd_p2p_server *srv);
void ethd_p2p_server_free(struct ethd_p2p_server *srv);

/* ---- views for the node and the admin API (loop thread) ---- */
bool ethd_p2p_server_running(const struct ethd_p2p_server *srv);
/* Every live connection in any state (handshaking, active, closing). */
size_t ethd_p2p_server_conn_count(const struct ethd_p2p_server *srv);
uint16_t ethd_p2p_server_port(const struct ethd_p2p_server *srv); /* bound port; 0 if none */
const char *ethd_p2p_server_host(const struct ethd_p2p_server *srv); /* advertised IP */
const char *ethd_p2p_server_listen_host(const struct ethd_p2p_server *srv); /* bound IP */
const char *ethd_p2p_server_enode(const struct ethd_p2p_server *srv); /* "" before configure */
const char *ethd_p2p_server_client_id(const struct ethd_p2p_server *srv);
bool ethd_p2p_server_is_static(const struct ethd_p2p_server *srv, const uint8_t id[64]);
/* Forget static peer `enode` (no more dials) and disconnect any peer with its
 * id (DiscRequested). *found: whether either existed. ETHD_EINVAL (message in
 * err) for a bad URL. */
int ethd_p2p_server_remove_peer(struct ethd_p2p_server *srv, const char *enode, bool *found,
                                char *err, size_t errlen);
/* ethd_p2p_add_peer with the reason of a failure in err. */
int ethd_p2p_server_add_peer(struct ethd_p2p_server *srv, const char *enode, char *err,
                             size_t errlen);

/* Register the admin_ and net_ namespaces (core/p2p/admin_api.c) with `srv`
 * as their instance. */
int ethd_p2p_api_register(struct ethd_p2p_server *srv, struct ethd_rpc_server *rpc, char *err,
                          size_t errlen);

#endif
