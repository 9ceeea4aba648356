/* The p2p server: holds the union of the services' protocols and (from the
 * RLPx issue on) listens, dials and runs peers. Internal to core; services
 * see only the opaque struct ethd_p2p_server handed to their start hook. */
#ifndef ETHD_CORE_P2P_SERVER_H
#define ETHD_CORE_P2P_SERVER_H
#include <ethd/plugin.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_p2p_server;

struct ethd_p2p_protocol_entry {
    const struct ethd_protocol *proto; /* borrowed from the service */
    void *self;                        /* the service instance */
    const char *owner;                 /* service name (borrowed) */
};

/* *out: caller frees with ethd_p2p_server_free. lg borrowed. */
int ethd_p2p_server_new(struct event_base *base, const struct ethd_logger *lg,
                        struct ethd_p2p_server **out);
/* Add a service's protocol. ETHD_EEXIST (message in err) if another service
 * offers the same name and version; ETHD_EINVAL for an empty name or a zero
 * version or length. */
int ethd_p2p_server_add_protocol(struct ethd_p2p_server *srv, const struct ethd_protocol *p,
                                 void *self, const char *owner, char *err, size_t errlen);
size_t ethd_p2p_server_protocol_count(const struct ethd_p2p_server *srv);
/* Borrowed; NULL past the end. Sorted by name, then version. */
const struct ethd_p2p_protocol_entry *ethd_p2p_server_protocol_at(const struct ethd_p2p_server *srv,
                                                                  size_t i);
int ethd_p2p_server_start(struct ethd_p2p_server *srv);
void ethd_p2p_server_stop(struct ethd_p2p_server *srv);
void ethd_p2p_server_free(struct ethd_p2p_server *srv);

#endif
