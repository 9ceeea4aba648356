/* The downloader plugins (downloader-full, downloader-light): internal
 * declarations shared by their files.
 *
 *   peer_record.c  per-peer throughput, round trip, idle flags, lacking set
 *   downloader.c   the service: peers from eth/1 (and les-client/1), the
 *                  sync cycle, progress, syncer/2, RPC downloader_status
 *   dl_headers.c   head of the target, common ancestor (span then binary
 *                  search), header skeleton from the target and gap fill
 *                  from every idle peer, in-order insert_headers
 *   dl_blocks.c    (full) bodies for stored headers from every idle peer,
 *                  checked against the header roots, insert_blocks in order;
 *                  receipts for stored blocks, kept pending while no peer
 *                  has them
 *   full.c, light.c  the two plugin descriptors
 *
 * Everything runs on the loop thread. Non-static names start with ethd_dl_. */
#ifndef ETHD_PLUGIN_DOWNLOADER_H
#define ETHD_PLUGIN_DOWNLOADER_H
#include "peer_record.h"

#include <ethd/block.h>
#include <ethd/chain.h>
#include <ethd/ethd.h>
#include <ethd/p2p.h>
#include <ethd/syncer.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;

#define DL_SOURCES 2 /* eth/1, les-client/1 */

struct dl_peer {
    struct dl_peer *prev, *next;
    struct dl *dl;
    struct ethd_peer *peer; /* referenced while listed */
    int source;             /* index into dl->src */
    struct ethd_sync_head head;
    struct dl_peer_record rec;
    unsigned timeouts_in_row; /* headers/bodies: dropped after DL_MAX_TIMEOUTS */
    bool dropped;             /* drop requested: no new work */
    uint64_t cooldown_until_ms; /* a sync towards it failed: not a target until then */
    bool no_skeleton;         /* answers skip queries with nothing: runs only */
};

#define DL_MAX_TIMEOUTS 2

/* A run of headers: [start, start + count). The skeleton gives the last
 * one (the anchor) when `has_anchor`; the tail segment has none. */
struct dl_seg {
    uint64_t start;
    uint32_t count;
    bool has_anchor;
    uint8_t anchor[32];
    enum { SEG_EMPTY, SEG_INFLIGHT, SEG_FILLED } state;
    bool from_target_only;      /* a fill of it disagreed with the skeleton */
    struct ethd_peer *suspect;  /* that fill's sender (referenced) */
    struct ethd_peer *sender;   /* who filled it (referenced while FILLED) */
    struct ethd_header *headers; /* FILLED: count decoded headers */
    uint8_t (*hashes)[32];
};

/* A block whose body (and, later, receipts) is wanted. */
struct dl_blk {
    uint64_t number;
    uint8_t hash[32];
    uint8_t tx_root[32], uncles_hash[32];
    bool has_wd;
    uint8_t wd_root[32];
    bool inflight, have;
    uint8_t *body; /* the body item's RLP, owned, when `have` */
    size_t body_len;
    struct ethd_peer *sender;
};

/* A stored block whose receipts are missing. */
struct dl_rcpt {
    uint64_t number;
    uint8_t hash[32];
    bool inflight;
};

enum dl_phase { PH_IDLE = 0, PH_HEAD, PH_ANCESTOR, PH_HEADERS, PH_BLOCKS };

struct dl_source {
    const struct ethd_eth_iface_v1 *iface;
    void *impl;
    const char *name;
};

struct dl {
    struct ethd_service_ctx *ctx;
    const struct ethd_logger *log;
    struct event_base *loop;
    bool full;                 /* downloader-full; else headers only */
    const struct ethd_chain_iface_v1 *chain;
    void *chain_impl;
    struct dl_source src[DL_SOURCES];
    bool running;

    /* settings */
    uint64_t min_peers, force_interval_ms, progress_interval_ms;
    uint32_t skeleton_span, skeleton_anchors, blocks_window, insert_batch;
    struct dl_rate_config rate;
    size_t lacking_cap;

    struct dl_peer *peers;
    size_t n_peers;
    struct event *cycle_timer, *kick, *progress_timer, *rscan_timer;

    /* the sync in progress */
    uint64_t gen;              /* bumped on every start/abort: stale replies are ignored */
    enum dl_phase phase;
    struct dl_peer *target;
    uint64_t target_number;
    uint8_t target_hash[32];
    uint64_t anc_lo, anc_hi;   /* binary search: lo canonical-common, hi not */
    uint64_t from;             /* next header number wanted */
    uint8_t from_parent[32];   /* hash that header must have as parent */
    struct dl_seg *segs;
    size_t n_segs, seg_done;
    bool skeleton_inflight;

    struct dl_blk *blks;       /* full: bodies window above the head block */
    size_t n_blks, blk_done;
    uint64_t blk_next;         /* next number to add to the window */

    struct dl_rcpt *rcpts;     /* full: receipts wanted (bounded queue) */
    size_t n_rcpts, cap_rcpts;
    uint64_t rscan_next;       /* next block number to check for receipts */
    uint64_t receipts_pending; /* blocks known to lack receipts (queued) */

    /* progress */
    bool syncing;
    uint64_t sync_start_ms, sync_start_number, last_log_ms, last_log_number;
    uint64_t headers_done, blocks_done, receipts_done, drops;
};

/* downloader.c */
uint64_t ethd_dl_now_ms(void);
void ethd_dl_kick(struct dl *dl);
/* Drop a peer that sent bad data or stopped answering (reason: a
 * disconnect reason); its work goes to others. */
void ethd_dl_drop(struct dl *dl, struct dl_peer *p, int reason, const char *why);
struct dl_peer *ethd_dl_peer_of(struct dl *dl, struct ethd_peer *peer);
/* The sync failed for a reason not tied to a peer, or the target went:
 * everything in flight is forgotten; the next cycle starts afresh. */
void ethd_dl_abort(struct dl *dl, const char *why);
/* Headers (and, full, blocks) reached the target. */
void ethd_dl_headers_done(struct dl *dl);
void ethd_dl_report_progress(struct dl *dl);
/* An idle peer for `kind` (not dropped), preferring the highest capacity;
 * `skip` (may be NULL) is left out. NULL if none. */
struct dl_peer *ethd_dl_idle_peer(struct dl *dl, enum dl_kind kind, const struct dl_peer *skip);

/* Requests through the peer's source, sized and timed by its record. The
 * reply context carries dl, the peer and the sync generation. */
struct dl_req {
    struct dl *dl;
    struct ethd_peer *peer;
    uint64_t gen;
    enum dl_kind kind;
    size_t task;      /* segment / first block / first receipt index */
    uint32_t n;       /* items asked */
    uint8_t (*hashes)[32];
};
int ethd_dl_request_headers(struct dl *dl, struct dl_peer *p,
                            const struct ethd_eth_headers_query *q, size_t task,
                            ethd_eth_reply_fn fn);
int ethd_dl_request_hashes(struct dl *dl, struct dl_peer *p, enum dl_kind kind,
                           const uint8_t (*hashes)[32], uint32_t n, size_t task,
                           ethd_eth_reply_fn fn);
/* Called first in every reply: updates the peer's record; returns the
 * request's dl_peer if the reply is to be processed (live sync, status 0),
 * else NULL (the request is freed by the caller either way). */
struct dl_peer *ethd_dl_reply_begin(struct dl_req *r, int status, uint32_t got);
void ethd_dl_req_free(struct dl_req *r);

/* dl_headers.c */
void ethd_dl_headers_start(struct dl *dl);
void ethd_dl_headers_pump(struct dl *dl);
void ethd_dl_headers_reset(struct dl *dl);

/* dl_blocks.c */
void ethd_dl_blocks_pump(struct dl *dl);
void ethd_dl_blocks_reset(struct dl *dl);
void ethd_dl_receipts_pump(struct dl *dl);
void ethd_dl_receipts_scan(struct dl *dl, size_t max);
void ethd_dl_receipts_reset(struct dl *dl);
/* Blocks in the bodies window still to insert. */
bool ethd_dl_blocks_pending(const struct dl *dl);

#endif
