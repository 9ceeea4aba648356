/* ethsyncer: a test plugin for tests/integration/test_eth.sh that stands in
 * for a downloader. It publishes "syncer/1" and uses eth's "eth/1"
 * (<ethd/syncer.h>) the way a downloader would, and reports what happened
 * over RPC:
 *   - on new_peer it asks that peer, through eth/1, for the header, body
 *     and receipts of the head it announced, and counts the outcomes
 *     (answers, timeouts, cancellations);
 *   - it counts peer_head, orphan_block and peer_gone calls;
 *   - ethsyncer_status() -> {newPeers, heads, lastHeadNumber, orphans, gone,
 *     headers, bodies, receipts, timeouts, canceled, lastHeaderHash,
 *     peerCount, bestIsKnown, peerVersion}
 *   - ethsyncer_progress([start, current, highest]) reports sync progress
 *     (eth_syncing shows it); ethsyncer_progress([]) clears it.
 * Uses only the SDK headers, like a real plugin. */
#include <ethd/ethd.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/p2p.h>
#include <ethd/rlp.h>
#include <ethd/syncer.h>

#include <stdlib.h>
#include <string.h>

struct syncer {
    struct ethd_service_ctx *ctx;
    const struct ethd_eth_iface_v1 *eth;
    void *eth_impl;
    uint64_t new_peers, heads, orphans, gone, last_head;
    uint64_t headers, bodies, receipts, timeouts, canceled;
    uint32_t peer_version;
    char last_header[67];
};

static void on_reply(struct syncer *s, uint64_t *count, int status, const uint8_t *items,
                     size_t len, bool header)
{
    if (status == ETHD_ETIMEDOUT) {
        s->timeouts++;
        return;
    }
    if (status != 0) {
        s->canceled++;
        return;
    }
    struct ethd_rlp_item list, first;
    struct ethd_rlp_iter it;
    if (ethd_rlp_decode(items, len, &list) || ethd_rlp_iter_init(&it, &list) ||
        ethd_rlp_iter_next(&it, &first))
        return;
    (*count)++;
    if (header) {
        uint8_t h[32];
        ethd_keccak256(first.raw, first.raw_len, h);
        ethd_hex_encode(h, 32, s->last_header);
    }
}

static void reply_headers(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                          size_t len)
{
    struct syncer *s = arg;
    (void)peer;
    on_reply(s, &s->headers, status, items, len, true);
}

static void reply_bodies(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                         size_t len)
{
    struct syncer *s = arg;
    (void)peer;
    on_reply(s, &s->bodies, status, items, len, false);
}

static void reply_receipts(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                           size_t len)
{
    struct syncer *s = arg;
    (void)peer;
    on_reply(s, &s->receipts, status, items, len, false);
}

static void sy_new_peer(void *impl, struct ethd_peer *peer, const struct ethd_sync_head *head)
{
    struct syncer *s = impl;
    s->new_peers++;
    s->peer_version = head->version;
    if (!s->eth)
        return;
    struct ethd_eth_headers_query q = {.by_hash = true, .amount = 1};
    memcpy(q.hash, head->hash, 32);
    s->eth->request_headers(s->eth_impl, peer, &q, 0, reply_headers, s, NULL);
    s->eth->request_bodies(s->eth_impl, peer, (const uint8_t(*)[32])head->hash, 1, 0,
                           reply_bodies, s, NULL);
    s->eth->request_receipts(s->eth_impl, peer, (const uint8_t(*)[32])head->hash, 1, 0,
                             reply_receipts, s, NULL);
}

static void sy_peer_head(void *impl, struct ethd_peer *peer, const struct ethd_sync_head *head)
{
    struct syncer *s = impl;
    (void)peer;
    s->heads++;
    s->last_head = head->number;
}

static void sy_orphan(void *impl, struct ethd_peer *peer, const uint8_t *block, size_t len)
{
    struct syncer *s = impl;
    (void)peer;
    (void)block;
    (void)len;
    s->orphans++;
}

static void sy_gone(void *impl, struct ethd_peer *peer)
{
    struct syncer *s = impl;
    (void)peer;
    s->gone++;
}

static const struct ethd_syncer_iface_v1 syncer_iface = {sy_new_peer, sy_peer_head, sy_orphan,
                                                         sy_gone};

static int rpc_status(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct syncer *s = self;
    (void)params;
    (void)err;
    bool best = s->eth && s->eth->best_peer(s->eth_impl) != NULL;
    *result = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:b, s:i}",
                        "newPeers", (json_int_t)s->new_peers, "heads", (json_int_t)s->heads,
                        "lastHeadNumber", (json_int_t)s->last_head, "orphans",
                        (json_int_t)s->orphans, "gone", (json_int_t)s->gone, "headers",
                        (json_int_t)s->headers, "bodies", (json_int_t)s->bodies, "receipts",
                        (json_int_t)s->receipts, "timeouts", (json_int_t)s->timeouts,
                        "canceled", (json_int_t)s->canceled, "lastHeaderHash", s->last_header,
                        "peerCount", (json_int_t)(s->eth ? s->eth->peer_count(s->eth_impl) : 0),
                        "bestIsKnown", best, "peerVersion", (int)s->peer_version);
    return 0;
}

static int rpc_progress(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct syncer *s = self;
    if (!s->eth)
        return ethd_rpc_fail(err, ETHD_RPC_SERVER_ERROR, "no eth/1");
    if (json_array_size(params) == 0) {
        s->eth->set_progress(s->eth_impl, NULL);
    } else {
        struct ethd_sync_progress p = {
            (uint64_t)json_integer_value(json_array_get(params, 0)),
            (uint64_t)json_integer_value(json_array_get(params, 1)),
            (uint64_t)json_integer_value(json_array_get(params, 2)),
        };
        s->eth->set_progress(s->eth_impl, &p);
    }
    *result = json_true();
    return 0;
}

static const struct ethd_rpc_method methods[] = {
    {"ethsyncer_status", rpc_status, NULL},
    {"ethsyncer_progress", rpc_progress, NULL},
};
static const struct ethd_api apis[] = {{"ethsyncer", "1.0", methods, 2}};

static int sy_create(struct ethd_service_ctx *ctx, void **self)
{
    struct syncer *s = calloc(1, sizeof(*s));
    if (!s)
        return ETHD_ENOMEM;
    s->ctx = ctx;
    const void *iface;
    void *impl;
    /* eth publishes eth/1 at create, so it comes first in services. */
    int rc = ethd_ctx_lookup(ctx, ETHD_ETH_IFACE_V1, &iface, &impl);
    if (!rc) {
        s->eth = iface;
        s->eth_impl = impl;
        rc = ethd_ctx_publish(ctx, ETHD_SYNCER_IFACE_V1, &syncer_iface, s);
    }
    if (rc) {
        free(s);
        return rc;
    }
    *self = s;
    return 0;
}

static int sy_apis(void *self, const struct ethd_api **out, size_t *n)
{
    (void)self;
    *out = apis;
    *n = 1;
    return 0;
}

static void sy_destroy(void *self)
{
    free(self);
}

static const struct ethd_service_ops syncer_service = {
    .struct_size = sizeof(struct ethd_service_ops),
    .name = "ethsyncer",
    .create = sy_create,
    .apis = sy_apis,
    .destroy = sy_destroy,
};

static int sy_init(struct ethd_registry *reg)
{
    return ethd_registry_add_service(reg, &syncer_service);
}

ETHD_PLUGIN_DEFINE("ethsyncer", "0.0.1", "test stand-in for a downloader (syncer/1 over eth/1)",
                   sy_init);
