/* The downloader service (downloader.h): peers as eth (and a les client)
 * hand them over through syncer/1, the sync cycle, progress and the RPC
 * namespace "downloader". The two plugins (full.c, light.c) differ only in
 * whether bodies and receipts are fetched. */
#include "downloader.h"

#include <ethd/hex.h>

#include <event2/event.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t ethd_dl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- peers ---- */

struct dl_peer *ethd_dl_peer_of(struct dl *dl, struct ethd_peer *peer)
{
    for (struct dl_peer *p = dl->peers; p; p = p->next)
        if (p->peer == peer)
            return p;
    return NULL;
}

/* Which source knows this peer (eth first). */
static int source_of(struct dl *dl, struct ethd_peer *peer, struct ethd_sync_head *head)
{
    for (int s = 0; s < DL_SOURCES; s++)
        if (dl->src[s].iface && dl->src[s].iface->peer_head(dl->src[s].impl, peer, head) == 0)
            return s;
    return -1;
}

static void on_new_peer(void *impl, struct ethd_peer *peer, const struct ethd_sync_head *head)
{
    struct dl *dl = impl;
    if (ethd_dl_peer_of(dl, peer))
        return;
    struct ethd_sync_head h;
    int s = source_of(dl, peer, &h);
    if (s < 0)
        return;
    struct dl_peer *p = calloc(1, sizeof(*p));
    if (!p || ethd_dl_peer_record_init(&p->rec, dl->lacking_cap)) {
        free(p);
        return;
    }
    p->dl = dl;
    p->peer = peer;
    ethd_peer_ref(peer);
    p->source = s;
    p->head = head ? *head : h;
    p->next = dl->peers;
    if (dl->peers)
        dl->peers->prev = p;
    dl->peers = p;
    dl->n_peers++;
    ETHD_DEBUG(dl->log, "sync peer", "addr=%s source=%s peers=%zu", ethd_peer_remote_addr(peer),
               dl->src[s].name, dl->n_peers);
    if (dl->n_peers >= dl->min_peers)
        ethd_dl_kick(dl);
}

static void on_peer_head(void *impl, struct ethd_peer *peer, const struct ethd_sync_head *head)
{
    struct dl *dl = impl;
    struct dl_peer *p = ethd_dl_peer_of(dl, peer);
    if (!p || !head)
        return;
    p->head = *head;
    if (dl->phase == PH_IDLE && dl->n_peers >= dl->min_peers)
        ethd_dl_kick(dl);
}

static void on_orphan(void *impl, struct ethd_peer *peer, const uint8_t *block, size_t len)
{
    struct dl *dl = impl;
    (void)peer;
    (void)block;
    (void)len;
    /* The announcer's head was updated through peer_head; a cycle fetches
     * the missing ancestors from the best peer. */
    if (dl->phase == PH_IDLE)
        ethd_dl_kick(dl);
}

static void peer_free(struct dl *dl, struct dl_peer *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        dl->peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    dl->n_peers--;
    ethd_dl_peer_record_free(&p->rec);
    ethd_peer_unref(p->peer);
    free(p);
}

static void on_peer_gone(void *impl, struct ethd_peer *peer)
{
    struct dl *dl = impl;
    struct dl_peer *p = ethd_dl_peer_of(dl, peer);
    if (!p)
        return;
    if (p == dl->target) {
        dl->target = NULL;
        if (dl->phase != PH_IDLE && dl->phase != PH_BLOCKS)
            ethd_dl_abort(dl, "the sync target left");
    }
    peer_free(dl, p);
    if (dl->phase != PH_IDLE)
        ethd_dl_kick(dl); /* its work goes to others */
}

static json_t *on_peer_info(void *impl, struct ethd_peer *peer)
{
    struct dl *dl = impl;
    struct dl_peer *p = ethd_dl_peer_of(dl, peer);
    if (!p)
        return NULL;
    json_t *o = ethd_dl_peer_record_json(&p->rec);
    if (o) {
        json_object_set_new(o, "target", json_boolean(p == dl->target));
        json_object_set_new(o, "timeoutsInRow", json_integer(p->timeouts_in_row));
    }
    return o;
}

static const struct ethd_syncer_iface_v2 syncer_iface = {
    .v1 = {on_new_peer, on_peer_head, on_orphan, on_peer_gone},
    .peer_info = on_peer_info,
};

void ethd_dl_drop(struct dl *dl, struct dl_peer *p, int reason, const char *why)
{
    if (!p || p->dropped)
        return;
    p->dropped = true;
    dl->drops++;
    ETHD_WARN(dl->log, "sync peer dropped", "addr=%s reason=\"%s\"",
              ethd_peer_remote_addr(p->peer), why);
    if (p == dl->target && dl->phase != PH_IDLE && dl->phase != PH_BLOCKS)
        ethd_dl_abort(dl, "the sync target sent bad data");
    if (p == dl->target)
        dl->target = NULL;
    dl->src[p->source].iface->drop_peer(dl->src[p->source].impl, p->peer, reason);
}

struct dl_peer *ethd_dl_idle_peer(struct dl *dl, enum dl_kind kind, const struct dl_peer *skip)
{
    struct dl_peer *best = NULL;
    for (struct dl_peer *p = dl->peers; p; p = p->next) {
        if (p == skip || p->dropped || !p->rec.rate[kind].idle)
            continue;
        if (!best || p->rec.rate[kind].capacity > best->rec.rate[kind].capacity)
            best = p;
    }
    return best;
}

/* ---- requests ---- */

void ethd_dl_req_free(struct dl_req *r)
{
    if (!r)
        return;
    ethd_peer_unref(r->peer);
    free(r->hashes);
    free(r);
}

static struct dl_req *req_new(struct dl *dl, struct dl_peer *p, enum dl_kind kind, size_t task,
                              uint32_t n)
{
    struct dl_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->dl = dl;
    r->peer = p->peer;
    ethd_peer_ref(p->peer);
    r->gen = dl->gen;
    r->kind = kind;
    r->task = task;
    r->n = n;
    return r;
}

int ethd_dl_request_headers(struct dl *dl, struct dl_peer *p,
                            const struct ethd_eth_headers_query *q, size_t task,
                            ethd_eth_reply_fn fn)
{
    struct dl_req *r = req_new(dl, p, DL_HEADERS, task, (uint32_t)q->amount);
    if (!r)
        return ETHD_ENOMEM;
    const struct dl_source *s = &dl->src[p->source];
    uint64_t timeout = ethd_dl_rate_timeout(&p->rec.rate[DL_HEADERS], &dl->rate);
    ethd_dl_rate_begin(&p->rec.rate[DL_HEADERS], (uint32_t)q->amount, ethd_dl_now_ms());
    int rc = s->iface->request_headers(s->impl, p->peer, q, timeout, fn, r, NULL);
    if (rc) {
        p->rec.rate[DL_HEADERS].idle = true;
        ethd_dl_req_free(r);
    }
    return rc;
}

int ethd_dl_request_hashes(struct dl *dl, struct dl_peer *p, enum dl_kind kind,
                           const uint8_t (*hashes)[32], uint32_t n, size_t task,
                           ethd_eth_reply_fn fn)
{
    struct dl_req *r = req_new(dl, p, kind, task, n);
    if (!r || !(r->hashes = malloc((size_t)n * 32))) {
        ethd_dl_req_free(r);
        return ETHD_ENOMEM;
    }
    memcpy(r->hashes, hashes, (size_t)n * 32);
    const struct dl_source *s = &dl->src[p->source];
    uint64_t timeout = ethd_dl_rate_timeout(&p->rec.rate[kind], &dl->rate);
    ethd_dl_rate_begin(&p->rec.rate[kind], n, ethd_dl_now_ms());
    int rc = kind == DL_BODIES
                 ? s->iface->request_bodies(s->impl, p->peer, hashes, n, timeout, fn, r, NULL)
                 : s->iface->request_receipts(s->impl, p->peer, hashes, n, timeout, fn, r, NULL);
    if (rc) {
        p->rec.rate[kind].idle = true;
        ethd_dl_req_free(r);
    }
    return rc;
}

struct dl_peer *ethd_dl_reply_begin(struct dl_req *r, int status, uint32_t got)
{
    struct dl *dl = r->dl;
    struct dl_peer *p = ethd_dl_peer_of(dl, r->peer);
    if (p) {
        if (status == 0) {
            ethd_dl_rate_deliver(&p->rec.rate[r->kind], &dl->rate, got, ethd_dl_now_ms());
            if (got)
                p->timeouts_in_row = 0;
        } else if (status == ETHD_ETIMEDOUT) {
            ethd_dl_rate_timeout_hit(&p->rec.rate[r->kind], &dl->rate);
            /* A peer that never answers receipts (some clients do not) is
             * only remembered as lacking them; one that stops answering
             * headers or bodies is of no use. */
            if (r->kind != DL_RECEIPTS && ++p->timeouts_in_row >= DL_MAX_TIMEOUTS)
                ethd_dl_drop(dl, p, ETHD_DISC_TIMEOUT, "requests timed out");
        } else {
            p->rec.rate[r->kind].idle = true;
        }
    }
    if (!dl->running || r->gen != dl->gen || !p)
        return NULL;
    return p;
}

/* ---- the cycle ---- */

static bool ahead_of_us(struct dl *dl, const struct dl_peer *p)
{
    struct ethd_chain_head hh;
    dl->chain->head_header(dl->chain_impl, &hh);
    unsigned flags = 0;
    if (dl->chain->block_status(dl->chain_impl, p->head.hash, &flags) == 0 &&
        (flags & ETHD_CHAIN_HAS_HEADER))
        return false;
    if (p->head.has_td)
        return memcmp(p->head.td, hh.td, 32) > 0;
    return p->head.number != ETHD_SYNC_NUMBER_UNKNOWN && p->head.number > hh.number;
}

static bool usable_target(const struct dl_peer *p, uint64_t now)
{
    return p && !p->dropped && p->cooldown_until_ms <= now;
}

/* The source's best peer; if that one is cooling down after a failed sync,
 * the most advanced other peer (total difficulty, else number). */
static struct dl_peer *best_peer(struct dl *dl)
{
    uint64_t now = ethd_dl_now_ms();
    for (int s = 0; s < DL_SOURCES; s++) {
        if (!dl->src[s].iface)
            continue;
        struct ethd_peer *bp = dl->src[s].iface->best_peer(dl->src[s].impl);
        struct dl_peer *p = bp ? ethd_dl_peer_of(dl, bp) : NULL;
        if (usable_target(p, now))
            return p;
    }
    struct dl_peer *best = NULL;
    for (struct dl_peer *p = dl->peers; p; p = p->next) {
        if (!usable_target(p, now))
            continue;
        if (!best || (p->head.has_td && best->head.has_td
                          ? memcmp(p->head.td, best->head.td, 32) > 0
                          : p->head.number != ETHD_SYNC_NUMBER_UNKNOWN &&
                                (best->head.number == ETHD_SYNC_NUMBER_UNKNOWN ||
                                 p->head.number > best->head.number)))
            best = p;
    }
    return best;
}

static void start_sync(struct dl *dl, bool forced)
{
    if (!dl->running || dl->phase != PH_IDLE)
        return;
    if (dl->n_peers == 0 || (!forced && dl->n_peers < dl->min_peers))
        return;
    struct dl_peer *best = best_peer(dl);
    if (best && !ahead_of_us(dl, best))
        best = NULL;
    struct ethd_chain_head hh, hb;
    dl->chain->head_header(dl->chain_impl, &hh);
    dl->chain->head_block(dl->chain_impl, &hb);
    dl->gen++;
    if (best) {
        dl->target = best;
        dl->phase = PH_HEAD;
        if (!dl->syncing) {
            dl->syncing = true;
            dl->sync_start_ms = dl->last_log_ms = ethd_dl_now_ms();
            dl->sync_start_number = dl->last_log_number = dl->full ? hb.number : hh.number;
        }
        ETHD_INFO(dl->log, "sync started", "mode=%s target=%s peers=%zu head_header=%llu "
                  "head_block=%llu", dl->full ? "full" : "light",
                  ethd_peer_remote_addr(best->peer), dl->n_peers, (unsigned long long)hh.number,
                  (unsigned long long)hb.number);
        ethd_dl_headers_start(dl);
        return;
    }
    /* No one is ahead: a full node may still lack bodies of stored headers
     * (a restart after headers were stored) or receipts. */
    if (dl->full && (hb.number < hh.number || dl->n_rcpts || dl->rscan_next <= hb.number)) {
        dl->phase = PH_BLOCKS;
        dl->target_number = hh.number;
        ethd_dl_blocks_pump(dl);
        ethd_dl_receipts_pump(dl);
    }
}

void ethd_dl_abort(struct dl *dl, const char *why)
{
    if (dl->phase == PH_IDLE)
        return;
    ETHD_INFO(dl->log, "sync aborted", "reason=\"%s\"", why);
    if (dl->target) /* not the target again for a few cycles */
        dl->target->cooldown_until_ms = ethd_dl_now_ms() + 3 * dl->force_interval_ms;
    dl->gen++;
    dl->phase = PH_IDLE;
    dl->target = NULL;
    ethd_dl_headers_reset(dl);
    ethd_dl_blocks_reset(dl);
    for (size_t i = 0; i < dl->n_rcpts; i++)
        dl->rcpts[i].inflight = false;
    ethd_dl_kick(dl);
}

void ethd_dl_report_progress(struct dl *dl)
{
    struct ethd_chain_head hh, hb;
    dl->chain->head_header(dl->chain_impl, &hh);
    dl->chain->head_block(dl->chain_impl, &hb);
    uint64_t cur = dl->full ? hb.number : hh.number;
    uint64_t high = dl->target_number > hh.number ? dl->target_number : hh.number;
    const struct dl_source *s = &dl->src[0];
    if (!s->iface)
        return;
    /* Until check_done says so (receipts included), the sync is on. */
    if (dl->syncing) {
        struct ethd_sync_progress pr = {dl->sync_start_number, cur, high};
        s->iface->set_progress(s->impl, &pr);
    } else {
        s->iface->set_progress(s->impl, NULL);
    }
}

void ethd_dl_headers_done(struct dl *dl)
{
    if (dl->full) {
        dl->phase = PH_BLOCKS;
        ethd_dl_blocks_pump(dl);
        ethd_dl_receipts_pump(dl);
        return;
    }
    dl->phase = PH_IDLE;
    dl->target = NULL;
    ethd_dl_kick(dl); /* the target may have moved meanwhile */
}

static void log_progress(struct dl *dl, bool force)
{
    if (!dl->syncing)
        return;
    uint64_t now = ethd_dl_now_ms();
    if (!force && now - dl->last_log_ms < dl->progress_interval_ms)
        return;
    struct ethd_chain_head hh, hb;
    dl->chain->head_header(dl->chain_impl, &hh);
    dl->chain->head_block(dl->chain_impl, &hb);
    uint64_t cur = dl->full ? hb.number : hh.number;
    uint64_t high = dl->target_number > cur ? dl->target_number : cur;
    double secs = (double)(now - dl->last_log_ms) / 1000.0;
    double rate = secs > 0 ? (double)(cur - dl->last_log_number) / secs : 0;
    double total = (double)(now - dl->sync_start_ms) / 1000.0;
    double avg = total > 0 ? (double)(cur - dl->sync_start_number) / total : 0;
    uint64_t eta = avg > 0 ? (uint64_t)((double)(high - cur) / avg) : 0;
    ETHD_INFO(dl->log, "sync progress",
              "headers=%llu blocks=%llu target=%llu blocks_per_s=%.0f eta_s=%llu "
              "receipts_pending=%zu peers=%zu",
              (unsigned long long)hh.number, (unsigned long long)hb.number,
              (unsigned long long)high, dl->full ? rate : 0.0, (unsigned long long)eta,
              dl->n_rcpts, dl->n_peers);
    if (!dl->full)
        (void)rate;
    dl->last_log_ms = now;
    dl->last_log_number = cur;
}

/* After each step: is the sync over? */
static void check_done(struct dl *dl)
{
    if (!dl->syncing)
        return;
    struct ethd_chain_head hh, hb;
    dl->chain->head_header(dl->chain_impl, &hh);
    dl->chain->head_block(dl->chain_impl, &hb);
    bool blocks_done = !dl->full || (hb.number >= hh.number && !ethd_dl_blocks_pending(dl));
    if (dl->phase == PH_BLOCKS && blocks_done && hh.number >= dl->target_number) {
        dl->phase = PH_IDLE;
        dl->target = NULL;
    }
    uint64_t reached = dl->full ? hb.number : hh.number;
    if (dl->phase == PH_IDLE && blocks_done && dl->n_rcpts == 0 &&
        reached >= dl->target_number && (!dl->full || dl->rscan_next > hb.number)) {
        uint64_t now = ethd_dl_now_ms();
        uint64_t cur = dl->full ? hb.number : hh.number;
        double secs = (double)(now - dl->sync_start_ms) / 1000.0;
        ETHD_INFO(dl->log, "sync done", "head=%llu blocks=%llu seconds=%.1f blocks_per_s=%.0f "
                  "dropped_peers=%llu", (unsigned long long)cur,
                  (unsigned long long)(cur - dl->sync_start_number), secs,
                  secs > 0 ? (double)(cur - dl->sync_start_number) / secs : 0.0,
                  (unsigned long long)dl->drops);
        dl->syncing = false;
    }
    ethd_dl_report_progress(dl);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct dl *dl = arg;
    (void)fd;
    (void)what;
    if (!dl->running)
        return;
    if (dl->phase == PH_IDLE)
        start_sync(dl, false);
    else if (dl->phase == PH_HEADERS)
        ethd_dl_headers_pump(dl);
    if (dl->phase == PH_BLOCKS)
        ethd_dl_blocks_pump(dl);
    if (dl->full)
        ethd_dl_receipts_pump(dl); /* in any phase: receipts lag behind */
    check_done(dl);
    log_progress(dl, false);
}

void ethd_dl_kick(struct dl *dl)
{
    if (dl->kick && dl->running)
        event_active(dl->kick, EV_TIMEOUT, 0);
}

static void on_cycle(evutil_socket_t fd, short what, void *arg)
{
    struct dl *dl = arg;
    (void)fd;
    (void)what;
    if (!dl->running)
        return;
    /* The periodic forced cycle: sync with whoever is there. */
    if (dl->phase == PH_IDLE)
        start_sync(dl, true);
    ethd_dl_kick(dl);
}

static void on_progress_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dl *dl = arg;
    (void)fd;
    (void)what;
    if (dl->running)
        log_progress(dl, false);
}

static void on_rscan(evutil_socket_t fd, short what, void *arg)
{
    struct dl *dl = arg;
    (void)fd;
    (void)what;
    if (!dl->running || !dl->full)
        return;
    ethd_dl_receipts_scan(dl, 4096);
    ethd_dl_kick(dl);
}

/* ---- RPC: downloader_status ---- */

static int rpc_status(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct dl *dl = self;
    (void)params;
    (void)err;
    static const char *const phases[] = {"idle", "head", "ancestor", "headers", "blocks"};
    struct ethd_chain_head hh, hb;
    dl->chain->head_header(dl->chain_impl, &hh);
    dl->chain->head_block(dl->chain_impl, &hb);
    *result = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s*}", "mode",
                        dl->full ? "full" : "light", "phase", phases[dl->phase], "syncing",
                        dl->syncing, "headHeader", (json_int_t)hh.number, "headBlock",
                        (json_int_t)hb.number, "target", (json_int_t)dl->target_number,
                        "receiptsPending", (json_int_t)dl->n_rcpts, "peers",
                        (json_int_t)dl->n_peers, "droppedPeers", (json_int_t)dl->drops,
                        "headersInserted", (json_int_t)dl->headers_done, "blocksInserted",
                        (json_int_t)dl->blocks_done, "targetPeer",
                        dl->target ? ethd_peer_remote_addr(dl->target->peer) : NULL);
    return *result ? 0 : ETHD_ENOMEM;
}

static const struct ethd_rpc_method dl_methods[] = {
    {"downloader_status", rpc_status, NULL},
};
static const struct ethd_api dl_api = {"downloader", "1.0", dl_methods, 1};

static int dl_apis(void *self, const struct ethd_api **out, size_t *n)
{
    (void)self;
    *out = &dl_api;
    *n = 1;
    return 0;
}

/* ---- service ---- */

static int read_config(struct dl *dl, const struct ethd_conf *c)
{
    uint64_t span = 0, anchors = 0, window = 0, batch = 0, lacking = 0, maxh = 0, maxb = 0,
             maxr = 0;
    ethd_dl_rate_config_default(&dl->rate);
    int rc = ethd_conf_uint(c, "min_peers", 1, 1000, 1, &dl->min_peers);
    if (!rc)
        rc = ethd_conf_duration(c, "force_interval", 10000, &dl->force_interval_ms);
    if (!rc)
        rc = ethd_conf_duration(c, "progress_interval", 5000, &dl->progress_interval_ms);
    if (!rc)
        rc = ethd_conf_duration(c, "target_rtt", dl->rate.target_rtt_ms, &dl->rate.target_rtt_ms);
    if (!rc)
        rc = ethd_conf_uint(c, "skeleton_span", 2, 1024, 128, &span);
    if (!rc)
        rc = ethd_conf_uint(c, "skeleton_anchors", 1, 1024, 64, &anchors);
    if (!rc)
        rc = ethd_conf_uint(c, "blocks_window", 16, 65536, 2048, &window);
    if (!rc)
        rc = ethd_conf_uint(c, "insert_batch", 1, 8192, 256, &batch);
    if (!rc)
        rc = ethd_conf_uint(c, "lacking_hashes", 16, 1u << 20, 4096, &lacking);
    if (!rc)
        rc = ethd_conf_uint(c, "max_headers_per_request", 1, 1024, 1024, &maxh);
    if (!rc)
        rc = ethd_conf_uint(c, "max_bodies_per_request", 1, 1024, 128, &maxb);
    if (!rc)
        rc = ethd_conf_uint(c, "max_receipts_per_request", 1, 1024, 256, &maxr);
    if (!rc && (dl->force_interval_ms < 100 || dl->rate.target_rtt_ms < 100))
        rc = ethd_conf_fail(c, "downloader: force_interval and target_rtt must be at least 100ms");
    if (!rc && dl->progress_interval_ms == 0)
        rc = ethd_conf_fail(ethd_conf_get(c, "progress_interval"),
                            "downloader: progress_interval must not be 0");
    if (rc)
        return rc;
    dl->skeleton_span = (uint32_t)span;
    dl->skeleton_anchors = (uint32_t)anchors;
    dl->blocks_window = (uint32_t)window;
    dl->insert_batch = (uint32_t)batch;
    dl->lacking_cap = (size_t)lacking;
    dl->rate.max_items[DL_HEADERS] = (uint32_t)maxh;
    dl->rate.max_items[DL_BODIES] = (uint32_t)maxb;
    dl->rate.max_items[DL_RECEIPTS] = (uint32_t)maxr;
    return 0;
}

static int dl_create_mode(struct ethd_service_ctx *ctx, void **self, bool full)
{
    struct dl *dl = calloc(1, sizeof(*dl));
    if (!dl)
        return ETHD_ENOMEM;
    dl->ctx = ctx;
    dl->log = ethd_ctx_logger(ctx);
    dl->loop = ethd_ctx_loop(ctx);
    dl->full = full;
    dl->rscan_next = 1;
    int rc = read_config(dl, ethd_ctx_config(ctx));
    /* syncer/2 starts with syncer/1, so it also answers syncer/1 look-ups. */
    if (!rc)
        rc = ethd_ctx_publish(ctx, ETHD_SYNCER_IFACE_V2, &syncer_iface, dl);
    if (rc) {
        free(dl);
        return rc;
    }
    *self = dl;
    return 0;
}

int ethd_dl_create_full(struct ethd_service_ctx *ctx, void **self);
int ethd_dl_create_light(struct ethd_service_ctx *ctx, void **self);
int ethd_dl_create_full(struct ethd_service_ctx *ctx, void **self)
{
    return dl_create_mode(ctx, self, true);
}
int ethd_dl_create_light(struct ethd_service_ctx *ctx, void **self)
{
    return dl_create_mode(ctx, self, false);
}

static int dl_start(void *self, struct ethd_p2p_server *srv)
{
    struct dl *dl = self;
    (void)srv;
    const void *iface = NULL;
    void *impl = NULL;
    if (ethd_ctx_lookup(dl->ctx, ETHD_CHAIN_IFACE_V1, &iface, &impl)) {
        ethd_ctx_set_error(dl->ctx, "the downloader needs a chain: set chain.genesis");
        return ETHD_ENOTFOUND;
    }
    dl->chain = iface;
    dl->chain_impl = impl;
    static const char *const names[DL_SOURCES] = {ETHD_ETH_IFACE_V1, ETHD_LES_CLIENT_IFACE_V1};
    int found = 0;
    for (int s = 0; s < DL_SOURCES; s++) {
        if (ethd_ctx_lookup(dl->ctx, names[s], &iface, &impl) == 0) {
            dl->src[s].iface = iface;
            dl->src[s].impl = impl;
            dl->src[s].name = names[s];
            found++;
        }
    }
    if (!found) {
        ethd_ctx_set_error(dl->ctx, "the downloader needs a peer source: load the eth plugin "
                                    "(eth/1) or a les client (les-client/1)");
        return ETHD_ENOTFOUND;
    }
    if (!dl->src[0].iface) {
        /* Progress goes to the first source found. */
        dl->src[0] = dl->src[1];
        memset(&dl->src[1], 0, sizeof(dl->src[1]));
    }
    ethd_ctx_set_error(dl->ctx, "%s", "");
    dl->kick = event_new(dl->loop, -1, 0, on_kick, dl);
    dl->cycle_timer = event_new(dl->loop, -1, EV_PERSIST, on_cycle, dl);
    dl->progress_timer = event_new(dl->loop, -1, EV_PERSIST, on_progress_timer, dl);
    dl->rscan_timer = event_new(dl->loop, -1, EV_PERSIST, on_rscan, dl);
    struct timeval cyc = {(time_t)(dl->force_interval_ms / 1000),
                          (suseconds_t)(dl->force_interval_ms % 1000) * 1000};
    struct timeval prog = {(time_t)(dl->progress_interval_ms / 1000),
                           (suseconds_t)(dl->progress_interval_ms % 1000) * 1000};
    struct timeval scan = {0, 200000};
    if (!dl->kick || !dl->cycle_timer || !dl->progress_timer || !dl->rscan_timer ||
        event_add(dl->cycle_timer, &cyc) || event_add(dl->progress_timer, &prog) ||
        (dl->full && event_add(dl->rscan_timer, &scan))) {
        ethd_ctx_set_error(dl->ctx, "cannot create the downloader's timers");
        return ETHD_ENOMEM;
    }
    dl->running = true;
    struct ethd_chain_head hh, hb;
    dl->chain->head_header(dl->chain_impl, &hh);
    dl->chain->head_block(dl->chain_impl, &hb);
    ETHD_INFO(dl->log, "downloader running",
              "mode=%s sources=%s%s%s min_peers=%llu head_header=%llu head_block=%llu",
              dl->full ? "full" : "light", dl->src[0].name ? dl->src[0].name : "",
              dl->src[1].name ? "," : "", dl->src[1].name ? dl->src[1].name : "",
              (unsigned long long)dl->min_peers, (unsigned long long)hh.number,
              (unsigned long long)hb.number);
    return 0;
}

static void free_events(struct dl *dl)
{
    struct event **evs[] = {&dl->kick, &dl->cycle_timer, &dl->progress_timer, &dl->rscan_timer};
    for (size_t i = 0; i < sizeof(evs) / sizeof(*evs); i++)
        if (*evs[i]) {
            event_free(*evs[i]);
            *evs[i] = NULL;
        }
}

static int dl_stop(void *self)
{
    struct dl *dl = self;
    dl->running = false;
    dl->gen++;
    free_events(dl);
    return 0;
}

static void dl_destroy(void *self)
{
    struct dl *dl = self;
    free_events(dl);
    ethd_dl_headers_reset(dl);
    ethd_dl_blocks_reset(dl);
    ethd_dl_receipts_reset(dl);
    while (dl->peers)
        peer_free(dl, dl->peers);
    free(dl);
}

const struct ethd_service_ops ethd_dl_full_service = {
    .struct_size = sizeof(struct ethd_service_ops),
    .name = "downloader-full",
    .create = ethd_dl_create_full,
    .apis = dl_apis,
    .start = dl_start,
    .stop = dl_stop,
    .destroy = dl_destroy,
};

const struct ethd_service_ops ethd_dl_light_service = {
    .struct_size = sizeof(struct ethd_service_ops),
    .name = "downloader-light",
    .create = ethd_dl_create_light,
    .apis = dl_apis,
    .start = dl_start,
    .stop = dl_stop,
    .destroy = dl_destroy,
};
