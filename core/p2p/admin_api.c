/* The admin_ and net_ RPC namespaces of the p2p server, shaped like geth's
 * (docs/rpc.md): admin_nodeInfo, admin_peers, admin_addPeer,
 * admin_removePeer, net_peerCount, net_listening. "id" is the devp2p node ID
 * keccak256(public key), hex without 0x, as geth reports it; the public key
 * itself is in the enode URL. */
#include "p2p/peer.h"
#include "p2p/server.h"
#include "rpc/server.h"

#include <ethd/hex.h>
#include <ethd/keccak.h>

#include <stdio.h>
#include <string.h>

static void node_id_hex(const uint8_t pub[64], char out[65])
{
    uint8_t h[ETHD_KECCAK256_LEN];
    ethd_keccak256(pub, 64, h);
    ethd_hex_encode_bare(h, sizeof(h), out);
}

static int no_params(json_t *params, const char *method, struct ethd_rpc_error *err)
{
    if (json_array_size(params) != 0)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "%s takes no params", method);
    return 0;
}

static int oom(struct ethd_rpc_error *err)
{
    return ethd_rpc_fail(err, ETHD_RPC_INTERNAL_ERROR, "out of memory");
}

static int admin_node_info(void *self, json_t *params, json_t **result,
                           struct ethd_rpc_error *err)
{
    struct ethd_p2p_server *srv = self;
    if (no_params(params, "admin_nodeInfo", err))
        return ETHD_EINVAL;
    json_t *protocols = json_object();
    if (!protocols)
        return oom(err);
    /* Sorted by name then version: a later (higher) version replaces an earlier one. */
    for (size_t i = 0; i < ethd_p2p_server_protocol_count(srv); i++) {
        const struct ethd_p2p_protocol_entry *e = ethd_p2p_server_protocol_at(srv, i);
        json_t *info = e->proto->node_info ? e->proto->node_info(e->self) : NULL;
        json_object_set_new(protocols, e->proto->name, info ? info : json_object());
    }
    char id[65], listen[80];
    node_id_hex(ethd_p2p_node_id(srv), id);
    const char *host = ethd_p2p_server_listen_host(srv);
    bool v6 = strchr(host, ':') != NULL;
    snprintf(listen, sizeof(listen), "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             ethd_p2p_server_port(srv));
    *result = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:I}, s:o}", "enode",
                        ethd_p2p_server_enode(srv), "id", id, "name",
                        ethd_p2p_server_client_id(srv), "ip", ethd_p2p_server_host(srv),
                        "listenAddr", listen, "ports", "listener",
                        (json_int_t)ethd_p2p_server_port(srv), "protocols", protocols);
    return *result ? 0 : oom(err);
}

struct peers_ctx {
    struct ethd_p2p_server *srv;
    json_t *list;
    int rc;
};

static json_t *peer_json(struct ethd_p2p_server *srv, struct ethd_peer *p)
{
    char pub[129], id[65], enode[ETHD_ENODE_MAX_LEN];
    ethd_hex_encode_bare(ethd_peer_id(p), 64, pub);
    node_id_hex(ethd_peer_id(p), id);
    snprintf(enode, sizeof(enode), "enode://%s@%s", pub, ethd_peer_remote_addr(p));
    struct ethd_peer_stats st;
    ethd_peer_stats(p, &st);
    json_t *caps = json_array(), *protocols = json_object();
    for (size_t i = 0; caps && i < p->n_remote_caps; i++)
        if (p->remote_caps[i])
            json_array_append_new(caps, json_string(p->remote_caps[i]));
    for (size_t i = 0; protocols && i < p->n_caps; i++) {
        const struct peer_cap *c = &p->caps[i];
        json_t *info = c->connected && c->proto->peer_info ? c->proto->peer_info(c->self, p)
                                                             : NULL;
        if (!info)
            info = json_pack("{s:I}", "version", (json_int_t)c->proto->version);
        json_object_set_new(protocols, c->proto->name, info);
    }
    return json_pack(
        "{s:s, s:s, s:s, s:o*, s:{s:s, s:s, s:b, s:b, s:b}, s:o*, "
        "s:{s:I, s:I, s:I, s:I, s:I, s:f}}",
        "enode", enode, "id", id, "name", ethd_peer_client_id(p), "caps", caps, "network",
        "localAddress", p->local_addr, "remoteAddress", p->remote_addr, "inbound", p->inbound,
        "trusted", 0, "static", ethd_p2p_server_is_static(srv, ethd_peer_id(p)), "protocols",
        protocols, "stats", "bytesIn", (json_int_t)st.bytes_in, "bytesOut",
        (json_int_t)st.bytes_out, "msgsIn", (json_int_t)st.msgs_in, "msgsOut",
        (json_int_t)st.msgs_out, "connectedSince", (json_int_t)st.connected_at_ms, "lastRttMs",
        (double)st.last_rtt_us / 1000.0);
}

static void add_peer_json(struct ethd_peer *p, void *arg)
{
    struct peers_ctx *c = arg;
    json_t *j = peer_json(c->srv, p);
    if (!j || json_array_append_new(c->list, j) != 0)
        c->rc = ETHD_ENOMEM;
}

static int admin_peers(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    if (no_params(params, "admin_peers", err))
        return ETHD_EINVAL;
    struct peers_ctx c = {self, json_array(), 0};
    if (!c.list)
        return oom(err);
    ethd_p2p_each_peer(self, NULL, add_peer_json, &c);
    if (c.rc) {
        json_decref(c.list);
        return oom(err);
    }
    *result = c.list;
    return 0;
}

static const char *enode_param(json_t *params, const char *method, struct ethd_rpc_error *err)
{
    const char *url = json_string_value(json_array_get(params, 0));
    if (json_array_size(params) == 1 && url)
        return url;
    ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "%s expects one parameter: an enode URL", method);
    return NULL;
}

static int admin_add_peer(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    const char *url = enode_param(params, "admin_addPeer", err);
    if (!url)
        return ETHD_EINVAL;
    char msg[300];
    int rc = ethd_p2p_server_add_peer(self, url, msg, sizeof(msg));
    if (rc)
        return ethd_rpc_fail(err, rc == ETHD_EINVAL || rc == ETHD_EEXIST ? ETHD_RPC_INVALID_PARAMS
                                                    : ETHD_RPC_SERVER_ERROR,
                             "%s", msg);
    *result = json_true();
    return 0;
}

static int admin_remove_peer(void *self, json_t *params, json_t **result,
                             struct ethd_rpc_error *err)
{
    const char *url = enode_param(params, "admin_removePeer", err);
    if (!url)
        return ETHD_EINVAL;
    char msg[300];
    bool found;
    int rc = ethd_p2p_server_remove_peer(self, url, &found, msg, sizeof(msg));
    if (rc)
        return ethd_rpc_fail(err, rc == ETHD_EINVAL || rc == ETHD_EEXIST ? ETHD_RPC_INVALID_PARAMS
                                                    : ETHD_RPC_SERVER_ERROR,
                             "%s", msg);
    *result = json_boolean(found);
    return 0;
}

static int net_peer_count(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    if (no_params(params, "net_peerCount", err))
        return ETHD_EINVAL;
    char q[20];
    ethd_hex_quantity(ethd_p2p_peer_count(self), q);
    *result = json_string(q);
    return *result ? 0 : oom(err);
}

static int net_listening(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    if (no_params(params, "net_listening", err))
        return ETHD_EINVAL;
    *result = json_boolean(ethd_p2p_server_running(self));
    return 0;
}

static const struct ethd_rpc_method admin_methods[] = {
    {"admin_nodeInfo", admin_node_info, NULL},
    {"admin_peers", admin_peers, NULL},
    {"admin_addPeer", admin_add_peer, NULL},
    {"admin_removePeer", admin_remove_peer, NULL},
};
static const struct ethd_rpc_method net_methods[] = {
    {"net_peerCount", net_peer_count, NULL},
    {"net_listening", net_listening, NULL},
};
static const struct ethd_api p2p_apis[] = {
    {"admin", "1.0", admin_methods, sizeof(admin_methods) / sizeof(*admin_methods)},
    {"net", "1.0", net_methods, sizeof(net_methods) / sizeof(*net_methods)},
};

int ethd_p2p_api_register(struct ethd_p2p_server *srv, struct ethd_rpc_server *rpc, char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < sizeof(p2p_apis) / sizeof(*p2p_apis); i++) {
        int rc = ethd_rpc_server_add_api(rpc, &p2p_apis[i], srv, "p2p");
        if (rc) {
            snprintf(err, errlen, "RPC: %s", ethd_rpc_server_error(rpc));
            return rc;
        }
    }
    return 0;
}
