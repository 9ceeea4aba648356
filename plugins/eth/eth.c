/* eth: the Ethereum wire protocol service, eth/66, 67, 68 and 69 (devp2p
 * caps/eth.md; EIP-2481, EIP-4938, EIP-5793, EIP-7642).
 *
 * Service "eth" (plugin "eth"):
 *   p2p     four descriptors eth/66..69 sharing this instance; the p2p layer
 *           negotiates the highest common version. Status handshake with
 *           version, network id, genesis and fork id checks; serving of
 *           headers, bodies and receipts; block propagation on PoA chains.
 *   iface   needs "chain/1" (the node publishes it when chain.genesis is
 *           set); publishes "eth/1" for syncers and uses "syncer/1" when a
 *           downloader publishes it (<ethd/syncer.h>).
 *   RPC     eth_* (chain queries) and net_version.
 *
 * Disconnect reasons (documented in docs/config.md, "services.eth"):
 *   ProtocolError (0x02)     a message before Status, a second Status, a
 *                            malformed message, an unknown or removed code,
 *                            a message over max_message_size;
 *   SubprotocolError (0x10)  a Status that does not match (version, network
 *                            id, genesis, fork id, earliest > latest), as
 *                            go-ethereum does for handshake failures;
 *   ReadTimeout (0x0b)       no Status within status_timeout;
 *   UselessPeer (0x03)       a block that fails verification. */
#include "eth.h"

#include <ethd/hex.h>
#include <event2/event.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t ethd_eth_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ethd_eth_network_id(const struct eth *eth)
{
    if (eth->network_id_override)
        return eth->network_id_override;
    return eth->chain ? eth->chain->network_id(eth->chain_impl) : 0;
}

int ethd_eth_send(struct eth_peer *ep, uint64_t code, const struct ethd_buf *payload)
{
    int rc = ethd_peer_send(ep->peer, ep->proto, code, payload->data, payload->len, NULL, NULL);
    if (rc && rc != ETHD_ECLOSED)
        ETHD_DEBUG(ep->eth->log, "send failed", "addr=%s msg=%s error=\"%s\"",
                   ethd_peer_remote_addr(ep->peer), ethd_eth_msg_name(code), ethd_strerror(rc));
    return rc;
}

/* ---- Status ---- */

static void fill_status(struct eth *eth, uint32_t version, struct ethd_eth_status *s)
{
    struct ethd_chain_head hb;
    memset(s, 0, sizeof(*s));
    eth->chain->head_block(eth->chain_impl, &hb);
    s->version = version;
    s->network_id = ethd_eth_network_id(eth);
    memcpy(s->td, hb.td, 32);
    memcpy(s->head, hb.hash, 32);
    eth->chain->genesis_hash(eth->chain_impl, s->genesis);
    eth->chain->fork_id(eth->chain_impl, &s->forkid);
    s->earliest = 0; /* every body from genesis on is kept */
    s->latest = hb.number;
}

static void on_status_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct eth_peer *ep = arg;
    (void)fd;
    (void)what;
    ETHD_DEBUG(ep->eth->log, "no status", "addr=%s timeout_ms=%llu",
               ethd_peer_remote_addr(ep->peer),
               (unsigned long long)ep->eth->status_timeout_ms);
    ethd_peer_disconnect(ep->peer, ETHD_DISC_TIMEOUT);
}

static int status_mismatch(struct eth_peer *ep, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int status_mismatch(struct eth_peer *ep, const char *what, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    ETHD_INFO(ep->eth->log, "status rejected", "addr=%s reason=\"%s\" %s",
              ethd_peer_remote_addr(ep->peer), what, detail);
    return ETHD_EINVAL; /* SubprotocolError */
}

static int handle_status(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct eth *eth = ep->eth;
    struct ethd_eth_status s;
    if (ethd_eth_status_decode(ep->version, payload, len, &s)) {
        ETHD_DEBUG(eth->log, "malformed status", "addr=%s len=%zu", ethd_peer_remote_addr(ep->peer),
                   len);
        return ETHD_EPROTO;
    }
    if (s.version != ep->version)
        return status_mismatch(ep, "protocol version mismatch", "theirs=%llu ours=%u",
                               (unsigned long long)s.version, ep->version);
    uint64_t nid = ethd_eth_network_id(eth);
    if (s.network_id != nid)
        return status_mismatch(ep, "network id mismatch", "theirs=%llu ours=%llu",
                               (unsigned long long)s.network_id, (unsigned long long)nid);
    uint8_t genesis[32];
    eth->chain->genesis_hash(eth->chain_impl, genesis);
    if (memcmp(genesis, s.genesis, 32) != 0) {
        char a[67], b[67];
        ethd_hex_encode(s.genesis, 32, a);
        ethd_hex_encode(genesis, 32, b);
        return status_mismatch(ep, "genesis mismatch", "theirs=%s ours=%s", a, b);
    }
    int verdict = eth->chain->validate_fork_id(eth->chain_impl, &s.forkid);
    if (verdict != ETHD_FORKID_ACCEPT)
        return status_mismatch(ep, "fork id rejected", "hash=%02x%02x%02x%02x next=%llu verdict=%s",
                               s.forkid.hash[0], s.forkid.hash[1], s.forkid.hash[2],
                               s.forkid.hash[3], (unsigned long long)s.forkid.next,
                               verdict == ETHD_FORKID_REMOTE_STALE ? "remote stale"
                                                                   : "local incompatible or stale");
    if (ep->version >= 69 && s.earliest > s.latest)
        return status_mismatch(ep, "bad block range", "earliest=%llu latest=%llu",
                               (unsigned long long)s.earliest, (unsigned long long)s.latest);

    memcpy(ep->head.hash, s.head, 32);
    if (ep->version >= 69) {
        ep->head.number = s.latest;
        ep->head.earliest = s.earliest;
    } else {
        ep->head.has_td = true;
        memcpy(ep->head.td, s.td, 32);
    }
    ethd_known_set_add(ep->known_blocks, s.head);
    ethd_eth_peer_activate(ep);
    return 0;
}

/* ---- protocol callbacks ---- */

static const struct ethd_protocol *descriptor_for(uint32_t version)
{
    for (size_t i = 0; i < 4; i++)
        if (ethd_eth_protocols[i].version == version)
            return &ethd_eth_protocols[i];
    return NULL;
}

static int proto_connect(void *self, struct ethd_peer *peer)
{
    struct eth *eth = self;
    const struct ethd_protocol *proto = descriptor_for(ethd_peer_version(peer, "eth"));
    if (!proto || !eth->running || !eth->chain)
        return ETHD_ESTATE; /* the node disconnects with SubprotocolError */
    struct eth_peer *ep;
    int rc = ethd_eth_peer_new(eth, peer, proto, &ep);
    if (rc)
        return rc;
    struct ethd_eth_status s;
    struct ethd_buf buf = ETHD_BUF_INIT;
    fill_status(eth, ep->version, &s);
    rc = ethd_eth_status_encode(ep->version, &s, &buf);
    if (!rc)
        rc = ethd_eth_send(ep, ETH_STATUS, &buf);
    ethd_buf_free(&buf);
    if (!rc) {
        ep->status_timer = evtimer_new(eth->loop, on_status_timeout, ep);
        struct timeval tv = {(time_t)(eth->status_timeout_ms / 1000),
                             (suseconds_t)(eth->status_timeout_ms % 1000) * 1000};
        if (!ep->status_timer || evtimer_add(ep->status_timer, &tv))
            rc = ETHD_ENOMEM;
    }
    if (rc) {
        ethd_eth_peer_free(ep); /* no on_disconnect follows a failed on_connect */
        return rc;
    }
    ETHD_DEBUG(eth->log, "peer connected", "addr=%s version=%u", ethd_peer_remote_addr(peer),
               ep->version);
    return 0;
}

static int handle_message(struct eth_peer *ep, uint64_t code, const uint8_t *payload, size_t len)
{
    switch (code) {
    case ETH_STATUS:
        return ETHD_EPROTO; /* a second Status */
    case ETH_NEW_BLOCK_HASHES:
        return ethd_eth_on_new_block_hashes(ep, payload, len);
    case ETH_NEW_BLOCK:
        return ethd_eth_on_new_block(ep, payload, len);
    case ETH_TRANSACTIONS:
        return ethd_eth_on_transactions(ep, payload, len);
    case ETH_NEW_POOLED_TX_HASHES:
        return ethd_eth_on_pooled_ann(ep, payload, len);
    case ETH_GET_POOLED_TXS:
        return ethd_eth_serve_pooled(ep, payload, len);
    case ETH_POOLED_TXS:
        return ethd_eth_peer_deliver(ep, code, payload, len);
    case ETH_GET_BLOCK_HEADERS:
        return ethd_eth_serve_headers(ep, payload, len);
    case ETH_GET_BLOCK_BODIES:
        return ethd_eth_serve_bodies(ep, payload, len);
    case ETH_GET_RECEIPTS:
        return ethd_eth_serve_receipts(ep, payload, len);
    case ETH_BLOCK_HEADERS:
    case ETH_BLOCK_BODIES:
    case ETH_RECEIPTS:
        return ethd_eth_peer_deliver(ep, code, payload, len);
    case ETH_GET_NODE_DATA:
        if (ep->version != 66)
            return ETHD_EPROTO; /* EIP-4938 */
        return ethd_eth_serve_empty(ep, ETH_NODE_DATA, payload, len); /* no state trie */
    case ETH_NODE_DATA: {
        uint64_t id;
        struct ethd_rlp_item list;
        if (ep->version != 66)
            return ETHD_EPROTO;
        return ethd_eth_resp_decode(payload, len, &id, &list);
    }
    case ETH_BLOCK_RANGE_UPDATE:
        if (ep->version < 69)
            return ETHD_EPROTO;
        return ethd_eth_on_range_update(ep, payload, len);
    default:
        return ETHD_EPROTO; /* 0x0b, 0x0c: unassigned */
    }
}

static int proto_message(void *self, struct ethd_peer *peer, uint64_t code,
                         const uint8_t *payload, size_t len)
{
    struct eth *eth = self;
    struct eth_peer *ep = ethd_eth_peer_of(peer);
    if (!ep)
        return ETHD_ESTATE;
    if (len > eth->max_msg) {
        ETHD_DEBUG(eth->log, "message too large", "addr=%s msg=%s len=%zu max=%zu",
                   ethd_peer_remote_addr(peer), ethd_eth_msg_name(code), len, eth->max_msg);
        return ETHD_EPROTO;
    }
    if (!ep->active) {
        if (code != ETH_STATUS) {
            ETHD_DEBUG(eth->log, "message before status", "addr=%s msg=%s",
                       ethd_peer_remote_addr(peer), ethd_eth_msg_name(code));
            return ETHD_EPROTO;
        }
        return handle_status(ep, payload, len);
    }
    int rc = handle_message(ep, code, payload, len);
    if (rc)
        ETHD_DEBUG(eth->log, "dropping peer", "addr=%s msg=%s(0x%02llx) len=%zu error=\"%s\"",
                   ethd_peer_remote_addr(peer), ethd_eth_msg_name(code), (unsigned long long)code,
                   len, ethd_strerror(rc));
    return rc;
}

static void proto_disconnect(void *self, struct ethd_peer *peer, int reason)
{
    struct eth *eth = self;
    struct eth_peer *ep = ethd_eth_peer_of(peer);
    if (!ep)
        return;
    ETHD_DEBUG(eth->log, "peer gone", "addr=%s version=%u active=%d reason=%s",
               ethd_peer_remote_addr(peer), ep->version, (int)ep->active,
               ethd_disc_reason_str(reason));
    ethd_eth_peer_free(ep);
}

json_t *ethd_eth_u256_json(const uint8_t v[32])
{
    size_t i = 0;
    while (i < 32 && v[i] == 0)
        i++;
    if (i >= 24 && !(i == 24 && v[24] & 0x80)) {
        uint64_t x = 0;
        for (size_t k = i; k < 32; k++)
            x = x << 8 | v[k];
        return json_integer((json_int_t)x);
    }
    /* Decimal by repeated division of a copy by 10. */
    uint8_t t[32];
    char digits[80];
    size_t nd = 0;
    memcpy(t, v, 32);
    for (;;) {
        bool zero = true;
        unsigned rem = 0;
        for (size_t k = 0; k < 32; k++) {
            unsigned cur = rem << 8 | t[k];
            t[k] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero &= t[k] == 0;
        }
        digits[nd++] = (char)('0' + rem);
        if (zero)
            break;
    }
    char out[80];
    for (size_t k = 0; k < nd; k++)
        out[k] = digits[nd - 1 - k];
    out[nd] = '\0';
    return json_string(out);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 3];
    ethd_hex_encode(p, n, buf);
    return json_string(buf);
}

/* The chain config as geth's admin_nodeInfo shows it (params.ChainConfig
 * field names). */
static json_t *config_json(const struct ethd_chain_config *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "chainId", json_integer((json_int_t)c->chain_id));
    for (int f = 0; f < ETHD_BF_N; f++)
        if (c->fork_block[f] != ETHD_FORK_UNSET)
            json_object_set_new(o, ethd_block_fork_name((enum ethd_block_fork)f),
                                json_integer((json_int_t)c->fork_block[f]));
    if (c->fork_block[ETHD_BF_DAO] != ETHD_FORK_UNSET)
        json_object_set_new(o, "daoForkSupport", json_boolean(c->dao_support));
    for (int f = 0; f < ETHD_TF_N; f++)
        if (c->fork_time[f] != ETHD_FORK_UNSET)
            json_object_set_new(o, ethd_time_fork_name((enum ethd_time_fork)f),
                                json_integer((json_int_t)c->fork_time[f]));
    if (c->has_ttd)
        json_object_set_new(o, "terminalTotalDifficulty", ethd_eth_u256_json(c->ttd));
    if (c->has_clique)
        json_object_set_new(o, "clique",
                            json_pack("{s:I, s:I}", "period", (json_int_t)c->clique_period,
                                      "epoch", (json_int_t)c->clique_epoch));
    if (c->has_ethash)
        json_object_set_new(o, "ethash", json_object());
    return o;
}

/* admin_nodeInfo protocols.eth: {network, difficulty, genesis, config, head}. */
static json_t *proto_node_info(void *self)
{
    struct eth *eth = self;
    if (!eth->chain)
        return NULL;
    struct ethd_chain_head hb;
    uint8_t genesis[32];
    eth->chain->head_block(eth->chain_impl, &hb);
    eth->chain->genesis_hash(eth->chain_impl, genesis);
    json_t *o = json_object();
    json_object_set_new(o, "network", json_integer((json_int_t)ethd_eth_network_id(eth)));
    json_object_set_new(o, "difficulty", ethd_eth_u256_json(hb.td));
    json_object_set_new(o, "genesis", hex_json(genesis, 32));
    json_object_set_new(o, "config", config_json(eth->chain->config(eth->chain_impl)));
    json_object_set_new(o, "head", hex_json(hb.hash, 32));
    return o;
}

json_t *ethd_eth_head_json(const struct ethd_sync_head *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(h->version));
    json_object_set_new(o, "head", hex_json(h->hash, 32));
    if (h->has_td)
        json_object_set_new(o, "difficulty", ethd_eth_u256_json(h->td));
    if (h->number != ETHD_SYNC_NUMBER_UNKNOWN)
        json_object_set_new(o, "number", json_integer((json_int_t)h->number));
    if (h->version >= 69) {
        json_object_set_new(o, "earliestBlock", json_integer((json_int_t)h->earliest));
        json_object_set_new(o, "latestBlock", json_integer((json_int_t)h->number));
    }
    return o;
}

/* admin_peers protocols.eth: {version, head, difficulty | latestBlock, ...}. */
static json_t *proto_peer_info(void *self, struct ethd_peer *peer)
{
    (void)self;
    struct eth_peer *ep = ethd_eth_peer_of(peer);
    if (!ep)
        return NULL;
    if (!ep->active)
        return json_pack("{s:i, s:s}", "version", (int)ep->version, "status", "handshake");
    json_t *o = ethd_eth_head_json(&ep->head);
    struct eth *eth = ep->eth;
    if (o && eth->syncer2) {
        json_t *sync = eth->syncer2->peer_info(eth->syncer_impl, peer);
        if (sync)
            json_object_set_new(o, "sync", sync);
    }
    return o;
}

const struct ethd_protocol ethd_eth_protocols[4] = {
    {"eth", 66, ETH_LENGTH_66, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
    {"eth", 67, ETH_LENGTH_66, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
    {"eth", 68, ETH_LENGTH_66, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
    {"eth", 69, ETH_LENGTH_69, proto_connect, proto_message, proto_disconnect, proto_node_info,
     proto_peer_info},
};

/* ---- service ---- */

static int find_chain(struct eth *eth)
{
    if (eth->chain)
        return 0;
    const void *iface = NULL;
    void *impl = NULL;
    int rc = ethd_ctx_lookup(eth->ctx, ETHD_CHAIN_IFACE_V1, &iface, &impl);
    if (rc)
        return rc;
    eth->chain = iface;
    eth->chain_impl = impl;
    return 0;
}

static int eth_create(struct ethd_service_ctx *ctx, void **self)
{
    struct eth *eth = calloc(1, sizeof(*eth));
    if (!eth)
        return ETHD_ENOMEM;
    eth->ctx = ctx;
    eth->log = ethd_ctx_logger(ctx);
    eth->loop = ethd_ctx_loop(ctx);
    eth->next_req_id = 1;
    const struct ethd_conf *c = ethd_ctx_config(ctx);
    uint64_t max_msg = 0, soft = 0;
    int rc = ethd_conf_uint(c, "network_id", 0, UINT64_MAX, 0, &eth->network_id_override);
    if (!rc)
        rc = ethd_conf_size(c, "max_message_size", ETH_DEFAULT_MAX_MSG, &max_msg);
    if (!rc && (max_msg < 1024 || max_msg > ((uint64_t)16 << 20)))
        rc = ethd_conf_fail(ethd_conf_get(c, "max_message_size"),
                            "services.eth.max_message_size must be between 1KiB and 16MiB");
    if (!rc)
        rc = ethd_conf_size(c, "soft_response_limit", ETH_DEFAULT_SOFT_LIMIT, &soft);
    if (!rc && (soft < 1024 || soft > max_msg / 2))
        rc = ethd_conf_fail(ethd_conf_get(c, "soft_response_limit"),
                            "services.eth.soft_response_limit must be between 1KiB and half of "
                            "max_message_size");
    if (!rc)
        rc = ethd_conf_uint(c, "max_headers_serve", 1, 65536, ETH_DEFAULT_MAX_SERVE,
                            &eth->max_headers);
    if (!rc)
        rc = ethd_conf_uint(c, "max_bodies_serve", 1, 65536, ETH_DEFAULT_MAX_SERVE,
                            &eth->max_bodies);
    if (!rc)
        rc = ethd_conf_uint(c, "max_receipts_serve", 1, 65536, ETH_DEFAULT_MAX_SERVE,
                            &eth->max_receipts);
    if (!rc)
        rc = ethd_conf_duration(c, "status_timeout", ETH_DEFAULT_STATUS_TIMEOUT_MS,
                                &eth->status_timeout_ms);
    if (!rc)
        rc = ethd_conf_duration(c, "request_timeout", ETH_DEFAULT_REQUEST_TIMEOUT_MS,
                                &eth->request_timeout_ms);
    if (!rc)
        rc = ethd_conf_uint(c, "known_blocks", 16, 1u << 20, ETH_DEFAULT_KNOWN_BLOCKS,
                            &eth->known_blocks);
    if (!rc)
        rc = ethd_conf_uint(c, "range_update_blocks", 0, UINT64_MAX, 0, &eth->range_blocks);
    if (!rc)
        rc = ethd_conf_duration(c, "range_update_interval", ETH_DEFAULT_RANGE_INTERVAL_MS,
                                &eth->range_interval_ms);
    if (!rc)
        rc = ethd_conf_bool(c, "announce", true, &eth->announce);
    if (!rc)
        rc = ethd_conf_uint(c, "max_version", 66, 69, 69, &eth->max_version);
    if (!rc && (eth->status_timeout_ms == 0 || eth->request_timeout_ms == 0))
        rc = ethd_conf_fail(c, "services.eth: status_timeout and request_timeout must not be 0");
    if (!rc && eth->range_interval_ms == 0)
        rc = ethd_conf_fail(c, "services.eth.range_update_interval must not be 0");
    if (!rc)
        rc = ethd_secp_new(&eth->secp);
    if (!rc)
        rc = ethd_eth_tx_create(eth, c);
    if (!rc)
        rc = ethd_ctx_publish(ctx, ETHD_ETH_IFACE_V1, &ethd_eth_iface, eth);
    if (rc) {
        ethd_eth_tx_destroy(eth);
        ethd_secp_free(eth->secp);
        free(eth);
        return rc;
    }
    eth->max_msg = (size_t)max_msg;
    eth->soft_limit = (size_t)soft;
    /* The node publishes chain/1 before creating services; start says so
     * clearly if it is missing. */
    (void)find_chain(eth);
    *self = eth;
    return 0;
}

/* eth/66 up to max_version: a prefix of the descriptor array. */
static int eth_protocols(void *self, const struct ethd_protocol **out, size_t *n)
{
    struct eth *eth = self;
    *out = ethd_eth_protocols;
    *n = (size_t)(eth->max_version - 66 + 1);
    return 0;
}

static int eth_apis(void *self, const struct ethd_api **out, size_t *n)
{
    struct eth *eth = self;
    /* eth_rpc.c's namespaces, then eth_txrelay.c's (a second "eth" table). */
    eth->apis[0] = ethd_eth_apis[0];
    eth->apis[1] = ethd_eth_apis[1];
    eth->apis[2] = ethd_eth_tx_apis[0];
    eth->apis[3] = ethd_eth_tx_apis[1];
    *out = eth->apis;
    *n = 4;
    return 0;
}

static int eth_start(void *self, struct ethd_p2p_server *srv)
{
    struct eth *eth = self;
    if (find_chain(eth)) {
        ethd_ctx_set_error(eth->ctx, "eth needs a chain: set chain.genesis");
        return ETHD_ENOTFOUND;
    }
    const void *iface = NULL;
    void *impl = NULL;
    /* syncer/2 starts with syncer/1: take the newer one when offered. */
    if (ethd_ctx_lookup(eth->ctx, ETHD_SYNCER_IFACE_V2, &iface, &impl) == 0) {
        eth->syncer2 = iface;
        eth->syncer = &eth->syncer2->v1;
        eth->syncer_impl = impl;
    } else if (ethd_ctx_lookup(eth->ctx, ETHD_SYNCER_IFACE_V1, &iface, &impl) == 0) {
        eth->syncer = iface;
        eth->syncer_impl = impl;
    }
    ethd_ctx_set_error(eth->ctx, "%s", ""); /* a missing syncer is not an error */
    if (eth->range_blocks == 0) {
        /* Automatic: where blocks still propagate (no merge in the config),
         * BlockRangeUpdate is eth/69's only block announcement. */
        const struct ethd_chain_config *c = eth->chain->config(eth->chain_impl);
        bool merged = c->has_ttd || c->fork_block[ETHD_BF_MERGE_NETSPLIT] != ETHD_FORK_UNSET ||
                      c->fork_time[ETHD_TF_SHANGHAI] != ETHD_FORK_UNSET;
        eth->range_blocks = merged ? ETH_DEFAULT_RANGE_BLOCKS : 1;
    }
    eth->p2p = srv;
    int rc = ethd_eth_announce_start(eth);
    if (!rc && (rc = ethd_eth_tx_start(eth)) != 0)
        ethd_eth_announce_stop(eth);
    if (rc) {
        ethd_ctx_set_error(eth->ctx, "cannot subscribe to chain head events: %s",
                           ethd_strerror(rc));
        eth->p2p = NULL;
        return rc;
    }
    eth->running = true;
    struct ethd_chain_head hb;
    uint8_t genesis[32];
    char g[67], h[67];
    eth->chain->head_block(eth->chain_impl, &hb);
    eth->chain->genesis_hash(eth->chain_impl, genesis);
    ethd_hex_encode(genesis, 32, g);
    ethd_hex_encode(hb.hash, 32, h);
    ETHD_INFO(eth->log, "eth running",
              "versions=66-%llu network=%llu genesis=%s head=%llu hash=%s syncer=%s",
              (unsigned long long)eth->max_version, (unsigned long long)ethd_eth_network_id(eth), g,
              (unsigned long long)hb.number, h, eth->syncer ? "yes" : "none");
    return 0;
}

static int eth_stop(void *self)
{
    struct eth *eth = self;
    eth->running = false;
    ethd_eth_cancel_all(eth); /* first: pending fetches end through their callbacks */
    ethd_eth_announce_stop(eth);
    ethd_eth_tx_stop(eth);
    eth->p2p = NULL;
    eth->syncer = NULL;
    eth->syncer2 = NULL;
    return 0;
}

static void eth_destroy(void *self)
{
    struct eth *eth = self;
    while (eth->peers)
        ethd_eth_peer_free(eth->peers); /* only if the p2p server outlived us */
    ethd_eth_announce_stop(eth);
    ethd_eth_tx_destroy(eth);
    ethd_secp_free(eth->secp);
    free(eth);
}

static const struct ethd_service_ops eth_service = {
    .struct_size = sizeof(struct ethd_service_ops),
    .name = "eth",
    .create = eth_create,
    .protocols = eth_protocols,
    .apis = eth_apis,
    .start = eth_start,
    .stop = eth_stop,
    .destroy = eth_destroy,
};

static int eth_init(struct ethd_registry *reg)
{
    return ethd_registry_add_service(reg, &eth_service);
}

ETHD_PLUGIN_DEFINE("eth", "1.0.0",
                   "Ethereum wire protocol eth/66-69: status, serving, block propagation, eth_ RPC",
                   eth_init);
