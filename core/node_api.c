/* The node's own RPC namespaces: web3_ (execution-apis) and ethd_ (what this
 * node is made of). */
#include "node.h"

#include "p2p/server.h"
#include "rpc/server.h"
#include "version.h"

#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <stdlib.h>
#include <string.h>

static int web3_client_version(void *self, json_t *params, json_t **result,
                               struct ethd_rpc_error *err)
{
    (void)self;
    if (json_array_size(params) != 0)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "web3_clientVersion takes no params");
    char buf[ETHD_CLIENT_VERSION_MAX];
    int rc = ethd_client_version(buf, sizeof(buf));
    if (rc != 0)
        return rc;
    *result = json_string(buf);
    return *result ? 0 : ETHD_ENOMEM;
}

static int web3_sha3(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    (void)self;
    const char *data = json_string_value(json_array_get(params, 0));
    if (json_array_size(params) != 1 || !data)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS,
                             "web3_sha3 expects one parameter: 0x-prefixed hex data");
    if (strncmp(data, "0x", 2) != 0)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "data must be 0x-prefixed hex");
    uint8_t *bytes;
    size_t len;
    if (ethd_hex_decode_alloc(data, &bytes, &len) != 0)
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "data is not valid hex");
    uint8_t h[ETHD_KECCAK256_LEN];
    ethd_keccak256(bytes, len, h);
    free(bytes);
    char hex[2 + 2 * ETHD_KECCAK256_LEN + 1];
    ethd_hex_encode(h, sizeof(h), hex);
    *result = json_string(hex);
    return *result ? 0 : ETHD_ENOMEM;
}

static const char *state_name(enum ethd_service_state s)
{
    switch (s) {
    case SVC_CREATED: return "created";
    case SVC_STARTED: return "running";
    case SVC_STOPPED: return "stopped";
    default: return "new";
    }
}

static int ethd_plugins_method(void *self, json_t *params, json_t **result,
                               struct ethd_rpc_error *err)
{
    struct ethd_node *node = self;
    (void)params;
    json_t *plugins = json_array(), *services = json_array(), *caps = json_array();
    for (size_t i = 0; i < node->loader.n_plugins; i++) {
        const struct ethd_loaded_plugin *p = &node->loader.plugins[i];
        json_t *svc_names = json_array();
        for (size_t k = 0; k < node->registry.n; k++)
            if (strcmp(node->registry.types[k].plugin, p->name) == 0)
                json_array_append_new(svc_names, json_string(node->registry.types[k].ops->name));
        json_array_append_new(
            plugins, json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", p->desc->name, "version",
                               p->desc->version ? p->desc->version : "", "description",
                               p->desc->description ? p->desc->description : "", "file", p->file,
                               "services", svc_names));
    }
    for (size_t i = 0; i < node->n_svcs; i++) {
        const struct ethd_service_ctx *ctx = &node->svcs[i];
        json_array_append_new(services,
                              json_pack("{s:s, s:s, s:s}", "name", ethd_ctx_name(ctx), "plugin",
                                        ctx->type->plugin, "state", state_name(ctx->state)));
    }
    for (size_t i = 0; node->p2p && i < ethd_p2p_server_protocol_count(node->p2p); i++) {
        const struct ethd_p2p_protocol_entry *e = ethd_p2p_server_protocol_at(node->p2p, i);
        json_array_append_new(caps, json_pack("{s:s, s:i, s:i, s:s}", "name", e->proto->name,
                                              "version", (json_int_t)e->proto->version, "length",
                                              (json_int_t)e->proto->length, "service", e->owner));
    }
    *result = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o}", "version", ETHD_VERSION, "mode",
                        node->mode, "abi", (json_int_t)ETHD_ABI_VERSION, "plugins", plugins,
                        "services", services, "protocols", caps);
    if (!*result)
        return ethd_rpc_fail(err, ETHD_RPC_INTERNAL_ERROR, "out of memory");
    return 0;
}

static const struct ethd_rpc_method web3_methods[] = {
    {"web3_clientVersion", web3_client_version, NULL},
    {"web3_sha3", web3_sha3, NULL},
};
static const struct ethd_rpc_method ethd_methods[] = {
    {"ethd_plugins", ethd_plugins_method, NULL},
};
static const struct ethd_api node_apis[] = {
    {"web3", "1.0", web3_methods, sizeof(web3_methods) / sizeof(*web3_methods)},
    {"ethd", "1.0", ethd_methods, sizeof(ethd_methods) / sizeof(*ethd_methods)},
};

int ethd_node_api_register(struct ethd_node *node, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(node_apis) / sizeof(*node_apis); i++) {
        int rc = ethd_rpc_server_add_api(node->rpc, &node_apis[i], node, "node");
        if (rc) {
            snprintf(err, errlen, "RPC: %s", ethd_rpc_server_error(node->rpc));
            return rc;
        }
    }
    return node->p2p ? ethd_p2p_api_register(node->p2p, node->rpc, err, errlen) : 0;
}
