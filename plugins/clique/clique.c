/* clique: the `clique-sealer` service, a proof-of-authority (EIP-225) block
 * producer for the node's chain (docs/config.md, "services.clique-sealer").
 *
 * With a signer key it seals a block every `period` seconds on top of the
 * head: the header is built by seal.c, signed, and inserted through chain/1,
 * whose verification (seal, authorised and not recent signer, difficulty,
 * timestamp, gas limit, base fee) is the last word. The chain then publishes
 * the new head on the bus (chain.head), which the eth service announces to
 * its peers. A head that arrives from the network re-plans the next block.
 *
 * No executor plugin exists yet, so blocks are sealed without transactions:
 * empty blocks with no rewards (clique has none) keep the parent's state
 * root, which is what lets the sealer build them without executing.
 * Pending transactions stay in the pool.
 *
 * The sealer only seals while its key is an authorised signer (snapshot.c
 * tracks the signer set and votes); otherwise it says so once and checks
 * again every period, in case it is voted in. Out-of-turn signers wait a
 * random extra delay of up to (signers/2 + 1) * 500 ms, as go-ethereum's
 * clique does, so the in-turn block usually wins.
 *
 *   config  key | key_file [+ generate_key], period, gas_limit
 *   RPC     clique_getSigners([block]), clique_sealerStatus()
 *   uses    chain/1 (required), bus topic chain.head */
#include "seal.h"
#include "snapshot.h"

#include <ethd/chain.h>
#include <ethd/ethd.h>
#include <ethd/hex.h>
#include <ethd/random.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WIGGLE_MS 500       /* go-ethereum's wiggleTime */
#define SYNC_RETRY_MS 1000  /* while the head block lags the head header */
#define AGAIN_RETRY_MS 100  /* the canonical chain moved under a snapshot walk */

enum sealer_state {
    ST_IDLE = 0,  /* not started, or stopped */
    ST_WAITING,   /* a block is planned */
    ST_SYNCING,   /* the head block lags the head header: not sealing */
    ST_UNAUTHORISED,
    ST_RECENT,    /* signed one of the last signers/2 blocks: others first */
    ST_ERROR,     /* the signer set could not be read */
    ST_DISABLED,  /* the chain's forks need what clique cannot seal */
};

static const char *const state_names[] = {
    "idle", "sealing", "syncing", "unauthorised", "recently-signed", "error", "disabled",
};

struct sealer {
    struct ethd_service_ctx *ctx; /* borrowed until destroy */
    const struct ethd_logger *log;
    const struct ethd_chain_iface_v1 *chain; /* borrowed until destroy */
    void *impl;
    const struct ethd_chain_config *cfg;
    struct ethd_secp *secp;
    uint8_t key[ETHD_SECP_SECKEY_LEN];
    uint8_t addr[20];
    char addr_hex[43];
    uint64_t period;     /* seconds */
    uint64_t gas_target; /* 0: keep the parent's */
    uint8_t vanity[ETHD_SEALER_VANITY];
    struct ethd_sealer_snap snap;
    struct event *timer;
    uint64_t sub_id;
    bool subscribed;
    enum sealer_state state;
    bool planned;        /* the timer seals on top of plan_parent */
    uint8_t plan_parent[32];
    bool plan_in_turn;
    uint64_t sealed;     /* blocks sealed since start */
    uint64_t last_sealed;
    char last_refusal[256];
};

static void plan(struct sealer *s);

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void arm(struct sealer *s, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(s->timer, &tv);
}

/* "0xaa..,0xbb.." (at most the first 16) into buf. */
static void signers_str(const struct ethd_sealer_snap *snap, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < snap->n_signers && i < 16 && off + 44 < len; i++) {
        char hx[43];
        ethd_hex_encode(snap->signers[i], 20, hx);
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "", hx);
    }
    if (snap->n_signers > 16 && off + 4 < len)
        snprintf(buf + off, len - off, ",...");
}

/* Change state, logging the transitions a user should see (once each). */
static void set_state(struct sealer *s, enum sealer_state st)
{
    if (s->state == st)
        return;
    enum sealer_state old = s->state;
    s->state = st;
    char list[16 * 43 + 8];
    switch (st) {
    case ST_UNAUTHORISED:
        signers_str(&s->snap, list, sizeof(list));
        ETHD_WARN(s->log, "not an authorised signer", "signer=%s signers=%s block=%llu",
                  s->addr_hex, list, (unsigned long long)s->snap.number);
        break;
    case ST_SYNCING:
        ETHD_INFO(s->log, "not sealing while the chain catches up", NULL);
        break;
    case ST_RECENT:
        ETHD_DEBUG(s->log, "signed recently, waiting for other signers", "signer=%s",
                   s->addr_hex);
        break;
    case ST_WAITING:
        if (old == ST_UNAUTHORISED || old == ST_SYNCING || old == ST_ERROR)
            ETHD_INFO(s->log, "sealing", "signer=%s", s->addr_hex);
        break;
    default:
        break;
    }
}

/* ---- sealing ---- */

static void seal(struct sealer *s)
{
    struct ethd_header parent, h;
    memset(&parent, 0, sizeof(parent));
    memset(&h, 0, sizeof(h));
    struct ethd_chain_head head;
    s->chain->head_header(s->impl, &head);
    if (memcmp(head.hash, s->plan_parent, 32) != 0)
        return; /* the head moved since the plan: plan() runs next */
    int rc = s->chain->header_by_hash(s->impl, s->plan_parent, &parent);
    if (rc) {
        ETHD_WARN(s->log, "cannot read the parent block", "number=%llu error=%s",
                  (unsigned long long)head.number, ethd_strerror(rc));
        return;
    }
    struct ethd_sealer_params p = {
        .now = now_ms() / 1000,
        .period = s->period,
        .gas_target = s->gas_target,
        .in_turn = s->plan_in_turn,
        .signers = (const uint8_t(*)[20])s->snap.signers,
        .n_signers = s->snap.n_signers,
        .epoch = s->snap.epoch,
        .vanity = s->vanity,
    };
    const char *why = "";
    rc = ethd_sealer_build(s->cfg, &parent, s->plan_parent, &p, &h, &why);
    if (rc == ETHD_ENOTSUP) {
        ETHD_ERROR(s->log, "cannot seal on this chain",
                   "number=%llu reason=\"%s\" (clique chains end at London)",
                   (unsigned long long)h.number, why);
        s->state = ST_DISABLED;
        goto out;
    }
    if (!rc)
        rc = ethd_sealer_sign(s->secp, &h, s->key);
    if (rc) {
        ETHD_ERROR(s->log, "cannot build the block", "number=%llu error=%s",
                   (unsigned long long)parent.number + 1, ethd_strerror(rc));
        goto out;
    }
    struct ethd_block b;
    memset(&b, 0, sizeof(b));
    b.header = h; /* shallow: h keeps ownership of extra */
    struct ethd_chain_insert_result res;
    rc = s->chain->insert_blocks(s->impl, &b, NULL, 1, &res);
    char hx[67];
    ethd_header_hash(&h, b.hash);
    ethd_hex_encode(b.hash, 32, hx);
    if (rc) {
        /* Log a refusal once per reason; the same one again goes to debug. */
        bool again = strcmp(res.reason, s->last_refusal) == 0;
        ethd_log(s->log, again ? ETHD_LOG_DEBUG : ETHD_LOG_WARN, "sealed block refused",
                 "number=%llu hash=%s reason=\"%s\"", (unsigned long long)h.number, hx,
                 res.reason);
        snprintf(s->last_refusal, sizeof(s->last_refusal), "%s", res.reason);
        goto out;
    }
    s->last_refusal[0] = '\0';
    s->sealed++;
    s->last_sealed = h.number;
    ETHD_INFO(s->log, "sealed block",
              "number=%llu hash=%s signer=%s interval=%llus difficulty=%u txs=0",
              (unsigned long long)h.number, hx, s->addr_hex,
              (unsigned long long)(h.timestamp - parent.timestamp), (unsigned)h.difficulty[31]);
out:
    ethd_header_free(&h);
    ethd_header_free(&parent);
}

/* Decide when (and whether) to seal the next block, and arm the timer. */
static void plan(struct sealer *s)
{
    if (s->state == ST_IDLE || s->state == ST_DISABLED)
        return;
    evtimer_del(s->timer);
    s->planned = false;
    struct ethd_chain_head hh, hb;
    s->chain->head_header(s->impl, &hh);
    s->chain->head_block(s->impl, &hb);
    if (hh.number != hb.number || memcmp(hh.hash, hb.hash, 32) != 0) {
        /* Sealing on a header whose body is not here yet would fork off
         * what the network already has. */
        set_state(s, ST_SYNCING);
        arm(s, SYNC_RETRY_MS);
        return;
    }
    char why[256] = "";
    int rc = ethd_sealer_snap_update(&s->snap, s->chain, s->impl, s->secp, hh.number, hh.hash,
                                     why, sizeof(why));
    if (rc == ETHD_EAGAIN) {
        arm(s, AGAIN_RETRY_MS);
        return;
    }
    if (rc) {
        if (s->state != ST_ERROR)
            ETHD_WARN(s->log, "cannot read the signer set", "block=%llu reason=\"%s\"",
                      (unsigned long long)hh.number, why);
        s->state = ST_ERROR;
        arm(s, s->period * 1000);
        return;
    }
    if (!ethd_sealer_snap_is_signer(&s->snap, s->addr, NULL)) {
        set_state(s, ST_UNAUTHORISED);
        arm(s, s->period * 1000); /* it may be voted in */
        return;
    }
    bool recent = false;
    if ((rc = ethd_sealer_snap_recent(&s->snap, s->chain, s->impl, s->secp, s->addr, &recent,
                                      NULL))) {
        ETHD_WARN(s->log, "cannot check the recent signers", "error=%s", ethd_strerror(rc));
        arm(s, s->period * 1000);
        return;
    }
    if (recent) {
        set_state(s, ST_RECENT);
        arm(s, s->period * 1000); /* another signer's block re-plans sooner */
        return;
    }
    set_state(s, ST_WAITING);
    s->plan_in_turn = ethd_sealer_snap_in_turn(&s->snap, hh.number + 1, s->addr);
    memcpy(s->plan_parent, hh.hash, 32);
    s->planned = true;
    uint64_t due = (hh.timestamp + s->period) * 1000;
    if (!s->plan_in_turn) {
        uint64_t r = 0;
        ethd_random_bytes(&r, sizeof(r));
        due += r % ((s->snap.n_signers / 2 + 1) * WIGGLE_MS);
    }
    uint64_t now = now_ms();
    arm(s, due > now ? due - now : 0);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct sealer *s = arg;
    (void)fd;
    (void)what;
    if (s->planned && s->state == ST_WAITING)
        seal(s);
    plan(s);
}

static void on_head(const char *topic, const void *event, void *arg)
{
    struct sealer *s = arg;
    (void)topic;
    (void)event;
    plan(s);
}

/* ---- RPC ---- */

static int rpc_get_signers(void *self, json_t *params, json_t **result,
                           struct ethd_rpc_error *err)
{
    struct sealer *s = self;
    struct ethd_chain_head head;
    s->chain->head_header(s->impl, &head);
    uint64_t number = head.number;
    const char *tag = json_string_value(json_array_get(params, 0));
    if (json_array_size(params) > 1 || (json_array_size(params) == 1 && !tag))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS,
                             "clique_getSigners takes one optional block number or \"latest\"");
    if (tag && strcmp(tag, "latest") != 0 && ethd_hex_parse_quantity(tag, &number))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "bad block number %s", tag);
    uint8_t hash[32];
    if (number > head.number || s->chain->hash_by_number(s->impl, number, hash))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "unknown block");
    struct ethd_sealer_snap snap;
    ethd_sealer_snap_init(&snap, s->cfg->clique_epoch);
    char why[256] = "";
    int rc = ethd_sealer_snap_update(&snap, s->chain, s->impl, s->secp, number, hash, why,
                                     sizeof(why));
    if (rc) {
        ethd_sealer_snap_free(&snap);
        return ethd_rpc_fail(err, ETHD_RPC_SERVER_ERROR, "%s", why);
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < snap.n_signers; i++) {
        char hx[43];
        ethd_hex_encode(snap.signers[i], 20, hx);
        json_array_append_new(arr, json_string(hx));
    }
    ethd_sealer_snap_free(&snap);
    *result = arr;
    return arr ? 0 : ETHD_ENOMEM;
}

static int rpc_status(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct sealer *s = self;
    (void)params;
    (void)err;
    struct ethd_chain_head head;
    s->chain->head_header(s->impl, &head);
    char hx[67];
    ethd_hex_encode(head.hash, 32, hx);
    *result = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:s, s:b}", "signer", s->addr_hex,
                        "state", state_names[s->state], "authorized",
                        s->state != ST_UNAUTHORISED && s->state != ST_IDLE &&
                            ethd_sealer_snap_is_signer(&s->snap, s->addr, NULL),
                        "period", (json_int_t)s->period, "sealed", (json_int_t)s->sealed,
                        "lastSealed", (json_int_t)s->last_sealed, "head",
                        (json_int_t)head.number, "headHash", hx, "executor", 0);
    return *result ? 0 : ETHD_ENOMEM;
}

static const struct ethd_rpc_method clique_methods[] = {
    {"clique_getSigners", rpc_get_signers, NULL},
    {"clique_sealerStatus", rpc_status, NULL},
};
static const struct ethd_api clique_apis[] = {
    {"clique", "1.0", clique_methods, sizeof(clique_methods) / sizeof(*clique_methods)},
};

static int sealer_apis(void *self, const struct ethd_api **out, size_t *n)
{
    (void)self;
    *out = clique_apis;
    *n = sizeof(clique_apis) / sizeof(*clique_apis);
    return 0;
}

/* ---- service ---- */

static int load_key(struct sealer *s, const struct ethd_conf *conf)
{
    const char *key_hex = NULL, *key_file = NULL;
    bool generate = false;
    int rc = ethd_conf_string(conf, "key", NULL, &key_hex);
    if (!rc)
        rc = ethd_conf_string(conf, "key_file", NULL, &key_file);
    if (!rc)
        rc = ethd_conf_bool(conf, "generate_key", false, &generate);
    if (rc)
        return rc;
    if (key_hex && key_file) {
        ethd_ctx_set_error(s->ctx, "set either key or key_file, not both");
        return ETHD_ECONFIG;
    }
    if (key_hex) {
        if (ethd_sealer_key_parse(s->secp, key_hex, s->key)) {
            ethd_conf_fail(ethd_conf_get(conf, "key"),
                           "services.clique-sealer.key must be a secp256k1 private key "
                           "(64 hex digits)");
            return ETHD_ECONFIG;
        }
        return 0;
    }
    char *path = NULL;
    if (!key_file && asprintf(&path, "%s/signer.key", ethd_ctx_datadir(s->ctx)) < 0)
        return ETHD_ENOMEM;
    char msg[512];
    bool generated = false;
    rc = ethd_sealer_key_load(s->secp, key_file ? key_file : path, generate, s->key, &generated,
                              msg, sizeof(msg));
    if (rc)
        ethd_ctx_set_error(s->ctx, "%s", msg);
    else if (generated)
        ETHD_INFO(s->log, "generated a signer key", "file=%s", key_file ? key_file : path);
    free(path);
    return rc;
}

static int sealer_create(struct ethd_service_ctx *ctx, void **self)
{
    struct sealer *s = calloc(1, sizeof(*s));
    if (!s)
        return ETHD_ENOMEM;
    s->ctx = ctx;
    s->log = ethd_ctx_logger(ctx);
    const struct ethd_conf *conf = ethd_ctx_config(ctx);
    uint64_t period_ms = 0;
    int rc = ethd_conf_duration(conf, "period", 0, &period_ms);
    if (!rc)
        rc = ethd_conf_uint(conf, "gas_limit", 0, UINT64_MAX, 0, &s->gas_target);
    if (rc)
        goto fail;
    if (ethd_ctx_lookup(ctx, ETHD_CHAIN_IFACE_V1, (const void **)&s->chain, &s->impl)) {
        ethd_ctx_set_error(ctx, "clique-sealer needs a chain: set chain.genesis");
        rc = ETHD_ENOTFOUND;
        goto fail;
    }
    if ((rc = ethd_secp_new(&s->secp))) {
        ethd_ctx_set_error(ctx, "cannot create a secp256k1 context: %s", ethd_strerror(rc));
        goto fail;
    }
    if ((rc = load_key(s, conf)))
        goto fail;
    s->cfg = s->chain->config(s->impl);
    if (!s->cfg->has_clique) {
        ethd_ctx_set_error(ctx, "clique-sealer needs a clique chain: the genesis has no "
                                "config.clique");
        rc = ETHD_ECONFIG;
        goto fail;
    }
    if (period_ms % 1000) {
        ethd_conf_fail(ethd_conf_get(conf, "period"),
                       "services.clique-sealer.period must be whole seconds (block timestamps "
                       "are)");
        rc = ETHD_ECONFIG;
        goto fail;
    }
    s->period = period_ms ? period_ms / 1000 : s->cfg->clique_period;
    if (s->period < s->cfg->clique_period) {
        ethd_conf_fail(ethd_conf_get(conf, "period"),
                       "services.clique-sealer.period must be at least the chain's clique "
                       "period (%llu s)",
                       (unsigned long long)s->cfg->clique_period);
        rc = ETHD_ECONFIG;
        goto fail;
    }
    if (s->period == 0) {
        ethd_ctx_set_error(ctx, "the chain's clique period is 0 (seal on demand, which needs "
                                "transactions): set services.clique-sealer.period");
        rc = ETHD_ECONFIG;
        goto fail;
    }
    uint8_t pub[ETHD_SECP_PUBKEY_LEN];
    ethd_secp_pubkey(s->secp, s->key, pub);
    ethd_secp_address(pub, s->addr);
    ethd_hex_encode(s->addr, 20, s->addr_hex);
    snprintf((char *)s->vanity, sizeof(s->vanity), "ethd/v%s", ETHD_VERSION);
    ethd_sealer_snap_init(&s->snap, s->cfg->clique_epoch);
    s->timer = evtimer_new(ethd_ctx_loop(ctx), on_timer, s);
    if (!s->timer) {
        rc = ETHD_ENOMEM;
        goto fail;
    }
    *self = s;
    return 0;
fail:
    explicit_bzero(s->key, sizeof(s->key));
    ethd_secp_free(s->secp);
    free(s);
    return rc;
}

static int sealer_start(void *self, struct ethd_p2p_server *srv)
{
    struct sealer *s = self;
    (void)srv;
    int rc = ethd_bus_subscribe(ethd_ctx_bus(s->ctx), ETHD_CHAIN_TOPIC_HEAD, on_head, s,
                                &s->sub_id);
    if (rc) {
        ethd_ctx_set_error(s->ctx, "cannot subscribe to %s", ETHD_CHAIN_TOPIC_HEAD);
        return rc;
    }
    s->subscribed = true;
    s->state = ST_WAITING;
    ETHD_INFO(s->log, "sealer started", "signer=%s period=%llus gas_limit=%s", s->addr_hex,
              (unsigned long long)s->period, s->gas_target ? "target" : "parent's");
    ETHD_INFO(s->log, "sealing empty blocks",
              "reason=\"no executor plugin: transactions stay in the pool\"");
    s->state = ST_WAITING;
    plan(s);
    if (s->state == ST_WAITING)
        ETHD_INFO(s->log, "sealing", "signer=%s in_turn=%s", s->addr_hex,
                  s->plan_in_turn ? "yes" : "no");
    return 0;
}

static int sealer_stop(void *self)
{
    struct sealer *s = self;
    if (s->subscribed)
        ethd_bus_unsubscribe(ethd_ctx_bus(s->ctx), s->sub_id);
    s->subscribed = false;
    evtimer_del(s->timer);
    s->planned = false;
    s->state = ST_IDLE;
    ETHD_INFO(s->log, "sealer stopped", "sealed=%llu", (unsigned long long)s->sealed);
    return 0;
}

static void sealer_destroy(void *self)
{
    struct sealer *s = self;
    if (s->timer)
        event_free(s->timer);
    ethd_sealer_snap_free(&s->snap);
    explicit_bzero(s->key, sizeof(s->key));
    ethd_secp_free(s->secp);
    free(s);
}

static const struct ethd_service_ops sealer_service = {
    .struct_size = sizeof(struct ethd_service_ops),
    .name = "clique-sealer",
    .create = sealer_create,
    .apis = sealer_apis,
    .start = sealer_start,
    .stop = sealer_stop,
    .destroy = sealer_destroy,
};

static int clique_init(struct ethd_registry *reg)
{
    return ethd_registry_add_service(reg, &sealer_service);
}

ETHD_PLUGIN_DEFINE("clique", "1.0.0", "Clique (EIP-225) block sealer for dev and PoA chains",
                   clique_init);
