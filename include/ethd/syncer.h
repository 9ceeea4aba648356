/* The contract between the `eth` service and a chain syncer (a downloader
 * plugin), in both directions:
 *
 *   "syncer/1"  published by the syncer, looked up by eth at start: eth tells
 *               it about peers and their announced heads, and hands it blocks
 *               whose parent is unknown;
 *   "eth/1"     published by eth at create: the syncer reads the peer set and
 *               sends GetBlockHeaders / GetBlockBodies / GetReceipts requests
 *               through eth, which tracks request ids (EIP-2481) and timeouts
 *               and delivers each answer exactly once.
 *
 * Threads: every function of both interfaces is called on, and must be called
 * from, the loop thread. Peers are borrowed for the duration of a call; keep
 * one longer with ethd_peer_ref (<ethd/p2p.h>).
 *
 * Versions only grow: syncer/2 or eth/2 will start with these members, in
 * this order. */
#ifndef ETHD_SYNCER_H
#define ETHD_SYNCER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct ethd_peer;

#define ETHD_SYNCER_IFACE_V1 "syncer/1"
#define ETHD_SYNCER_IFACE_V2 "syncer/2"
#define ETHD_ETH_IFACE_V1 "eth/1"
/* A les client publishes the same request table (struct ethd_eth_iface_v1)
 * under this name, so one syncer fetches headers (and, on demand, bodies and
 * receipts) from eth and les peers alike. Both sources call the syncer's
 * syncer/1 hooks; a syncer that uses both asks each source's peer_head to
 * learn which one a peer belongs to. */
#define ETHD_LES_CLIENT_IFACE_V1 "les-client/1"

/* A peer's chain head as it announced it. */
#define ETHD_SYNC_NUMBER_UNKNOWN UINT64_MAX
struct ethd_sync_head {
    uint32_t version;   /* negotiated eth version (66..69); les version (2..4) for a
                         * les-client/1 peer */
    uint8_t hash[32];   /* head block hash */
    uint64_t number;    /* ETHD_SYNC_NUMBER_UNKNOWN until announced (eth/66-68 Status has none) */
    bool has_td;        /* eth/66-68: the total difficulty is known */
    uint8_t td[32];     /* big-endian */
    uint64_t earliest;  /* eth/69: earliest block with a body it serves (0 otherwise) */
};

/* ---- syncer/1: what eth calls ---- */
struct ethd_syncer_iface_v1 {
    /* A peer completed the Status handshake; `head` is what it said. */
    void (*new_peer)(void *impl, struct ethd_peer *peer, const struct ethd_sync_head *head);
    /* The peer announced a newer head (NewBlock, NewBlockHashes,
     * BlockRangeUpdate). */
    void (*peer_head)(void *impl, struct ethd_peer *peer, const struct ethd_sync_head *head);
    /* The peer sent a whole block (NewBlock) whose parent is not stored:
     * `block` is its RLP [header, txs, uncles(, withdrawals)], borrowed for
     * the call. The syncer may fetch the missing ancestors. May be NULL. */
    void (*orphan_block)(void *impl, struct ethd_peer *peer, const uint8_t *block, size_t len);
    /* The peer left (after its last announcement; its pending eth/1 requests
     * have already been completed with ETHD_ECANCELED). */
    void (*peer_gone)(void *impl, struct ethd_peer *peer);
};

/* ---- syncer/2: syncer/1 plus per-peer figures ---- */
struct ethd_syncer_iface_v2 {
    struct ethd_syncer_iface_v1 v1;
    /* The syncer's record of the peer (capacity, round trip, idle flags,
     * ...) for admin_peers, shown under protocols.eth.sync (or the les
     * equivalent). Caller frees (json_decref); NULL if it has none. */
    json_t *(*peer_info)(void *impl, struct ethd_peer *peer);
};

/* ---- eth/1: what a syncer calls ---- */

/* Outcome of a request, called exactly once when the request call returned
 * 0: status 0 with the answer's list (`items`, the RLP list of headers,
 * bodies or per-block receipt lists, borrowed for the call; receipts always
 * in the eth/66-68 wire form, eth/69 answers are converted), or, with items
 * NULL, ETHD_ETIMEDOUT, ETHD_ECANCELED (peer gone, service stopping,
 * cancelled) or ETHD_EPROTO (an eth/69 receipt list that does not decode;
 * the peer is dropped). A late answer after a timeout is dropped. The
 * answer is only matched to the request by its id: checking that it fits
 * the request (count, numbers, hashes) is the syncer's job. */
typedef void (*ethd_eth_reply_fn)(void *arg, struct ethd_peer *peer, int status,
                                  const uint8_t *items, size_t len);

struct ethd_eth_headers_query {
    bool by_hash;
    uint8_t hash[32];   /* origin when by_hash */
    uint64_t number;    /* origin otherwise */
    uint64_t amount;
    uint64_t skip;
    bool reverse;
};

/* Sync progress for eth_syncing (execution-apis: startingBlock,
 * currentBlock, highestBlock). */
struct ethd_sync_progress {
    uint64_t starting, current, highest;
};

typedef void (*ethd_eth_peer_fn)(struct ethd_peer *peer, const struct ethd_sync_head *head,
                                 void *arg);

struct ethd_eth_iface_v1 {
    /* Peers past the Status handshake, and what each announced. */
    size_t (*peer_count)(void *impl);
    void (*each_peer)(void *impl, ethd_eth_peer_fn fn, void *arg);
    /* ETHD_ENOTFOUND if the peer is not (or no longer) an eth peer. */
    int (*peer_head)(void *impl, struct ethd_peer *peer, struct ethd_sync_head *out);
    /* The peer with the highest total difficulty (eth/66-68) or, when no
     * such peer is known, the highest latest block (eth/69); NULL if none.
     * Borrowed for the current loop turn. */
    struct ethd_peer *(*best_peer)(void *impl);

    /* Requests. timeout_ms 0 = the service default. *id (may be NULL) names
     * the request for cancel. ETHD_ENOTFOUND (not an eth peer), ETHD_EINVAL
     * (amount 0 or above 1024 headers; 0 or more than 1024 hashes),
     * ETHD_ECLOSED / ETHD_EBUSY from the send, ETHD_ENOMEM. `hashes` is
     * borrowed for the call. */
    int (*request_headers)(void *impl, struct ethd_peer *peer,
                           const struct ethd_eth_headers_query *q, uint64_t timeout_ms,
                           ethd_eth_reply_fn fn, void *arg, uint64_t *id);
    int (*request_bodies)(void *impl, struct ethd_peer *peer, const uint8_t (*hashes)[32],
                          size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                          uint64_t *id);
    int (*request_receipts)(void *impl, struct ethd_peer *peer, const uint8_t (*hashes)[32],
                            size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                            uint64_t *id);
    /* Complete a pending request with ETHD_ECANCELED now (no-op if done). */
    void (*cancel)(void *impl, uint64_t id);
    /* Drop a peer that sent bad data (reason: an ethd_disc_reason). */
    void (*drop_peer)(void *impl, struct ethd_peer *peer, int reason);
    /* Report sync progress (eth_syncing shows it); NULL = not syncing. */
    void (*set_progress)(void *impl, const struct ethd_sync_progress *p);
};

#endif
