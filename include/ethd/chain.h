/* The "chain/1" interface: the node's block chain (headers, bodies,
 * receipts, total difficulty, canonical index, transaction index) as the
 * eth, les and downloader services share it.
 *
 * The node publishes it when it has a chain (config key chain.genesis, or
 * a data dir that already holds one). A service finds it with
 *
 *     const struct ethd_chain_iface_v1 *chain;
 *     void *impl;
 *     int rc = ethd_ctx_lookup(ctx, ETHD_CHAIN_IFACE_V1, (const void **)&chain, &impl);
 *
 * and passes `impl` back as the first argument of every function. Both are
 * borrowed until the service's destroy hook returns. Version 2 will start
 * with version 1's members, in this order.
 *
 * Model: the canonical chain is the stored header chain with the highest
 * total difficulty; on equal total difficulty the current head stays. The
 * head header is its tip; the head block is the highest canonical block
 * whose body (and every canonical body below it) is stored. A light node's
 * head block stays at genesis. Every insert is one atomic write: a crash
 * leaves the chain as it was after the last insert that returned.
 *
 * Threads: every function may be called from any thread; inserts are
 * serialised. A change of head is announced on the bus topic
 * ETHD_CHAIN_TOPIC_HEAD, always delivered on the loop thread (events that
 * come close together may be coalesced into one).
 *
 * Errors: ETHD_ENOTFOUND for an unknown item; ETHD_EIO for storage
 * failures; ETHD_ENOMEM. Decoded headers are caller-owned (free with
 * ethd_header_free); raw RLP is appended to the caller's ethd_buf. */
#ifndef ETHD_CHAIN_H
#define ETHD_CHAIN_H
#include <ethd/block.h>
#include <ethd/buf.h>
#include <ethd/forkid.h>
#include <ethd/genesis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_CHAIN_IFACE_V1 "chain/1"
/* Bus topic; the event is a const struct ethd_chain_head_event *. */
#define ETHD_CHAIN_TOPIC_HEAD "chain.head"

struct ethd_chain_head {
    uint64_t number;
    uint8_t hash[32];
    uint8_t td[32]; /* total difficulty, big-endian */
    uint64_t timestamp;
};

struct ethd_chain_head_event {
    struct ethd_chain_head header; /* head header now */
    struct ethd_chain_head block;  /* head block now */
    /* Some old canonical block is no longer canonical (a reorg happened
     * since the previous event); `ancestor` is the lowest fork point. */
    bool reorg;
    uint64_t ancestor;
};

/* Outcome of an insert. Items are processed in order; the first bad one
 * stops the insert and everything before it is kept. */
struct ethd_chain_insert_result {
    size_t n_done;        /* leading items that are now stored (new or known) */
    size_t n_new;         /* how many of them were not stored before */
    int code;             /* 0, or why item n_done was refused */
    uint64_t bad_number;  /* number of the refused item */
    uint8_t bad_hash[32]; /* its hash */
    char reason[256];     /* "unauthorized signer 0x..", "transactions root mismatch", ... */
    bool head_changed;    /* the head header or head block moved */
};

/* block_status flags */
#define ETHD_CHAIN_HAS_HEADER 0x1u
#define ETHD_CHAIN_HAS_BODY 0x2u
#define ETHD_CHAIN_HAS_RECEIPTS 0x4u
#define ETHD_CHAIN_CANONICAL 0x8u

struct ethd_chain_iface_v1 {
    /* ---- identity and heads ---- */
    void (*head_header)(void *impl, struct ethd_chain_head *out);
    void (*head_block)(void *impl, struct ethd_chain_head *out);
    void (*genesis_hash)(void *impl, uint8_t out[32]);
    /* Borrowed until the interface goes away. */
    const struct ethd_chain_config *(*config)(void *impl);
    uint64_t (*network_id)(void *impl);
    /* EIP-2124 fork id at the head header, and validation of a peer's. */
    void (*fork_id)(void *impl, struct ethd_forkid *out);
    /* Returns an enum ethd_forkid_verdict (0 = accept). */
    int (*validate_fork_id)(void *impl, const struct ethd_forkid *remote);

    /* ---- look-ups ---- */
    /* Canonical hash at a number. */
    int (*hash_by_number)(void *impl, uint64_t number, uint8_t hash[32]);
    /* Number of a stored header (canonical or not). */
    int (*number_by_hash)(void *impl, const uint8_t hash[32], uint64_t *number);
    /* *flags: ETHD_CHAIN_HAS_* / ETHD_CHAIN_CANONICAL; 0 (and return 0) if unknown. */
    int (*block_status)(void *impl, const uint8_t hash[32], unsigned *flags);
    int (*header_by_hash)(void *impl, const uint8_t hash[32], struct ethd_header *out);
    int (*header_by_number)(void *impl, uint64_t number, struct ethd_header *out);
    int (*td_by_hash)(void *impl, const uint8_t hash[32], uint8_t td[32]);
    /* Canonical position of a transaction. */
    int (*tx_lookup)(void *impl, const uint8_t tx_hash[32], uint64_t *number,
                     uint8_t block_hash[32], uint32_t *index);

    /* ---- raw RLP for serving peers (appended to *out) ---- */
    int (*raw_header_by_hash)(void *impl, const uint8_t hash[32], struct ethd_buf *out);
    /* Canonical headers origin, origin +- (skip+1), ... (reverse: downwards),
     * at most `amount`, stopping at the first missing number, at either end
     * of the chain, or before the output would pass max_bytes (at least one
     * header is always given if the origin exists). The header RLPs are
     * appended one after another (no list prefix); *n_out gets the count.
     * The skip arithmetic never wraps (EIP "skip overflow" requests end at
     * the chain's end). */
    int (*raw_headers_by_number)(void *impl, uint64_t origin, uint64_t amount, uint64_t skip,
                                 bool reverse, size_t max_bytes, struct ethd_buf *out,
                                 uint64_t *n_out);
    /* Body list [txs, uncles(, withdrawals)]: an eth BlockBodies item. */
    int (*raw_body_by_hash)(void *impl, const uint8_t hash[32], struct ethd_buf *out);
    /* Receipt list in the eth/66-68 Receipts wire form. */
    int (*raw_receipts_by_hash)(void *impl, const uint8_t hash[32], struct ethd_buf *out);
    /* Whole block [header, txs, uncles(, withdrawals)], as in NewBlock. */
    int (*raw_block_by_hash)(void *impl, const uint8_t hash[32], struct ethd_buf *out);

    /* ---- inserts (verified; each call is one atomic write) ---- */
    /* Headers (light or skeleton sync), in order; each must extend a stored
     * header or an earlier one in the array. Borrowed for the call. Returns
     * 0 or res->code. */
    int (*insert_headers)(void *impl, const struct ethd_header *headers, size_t n,
                          struct ethd_chain_insert_result *res);
    /* Full blocks with optional receipt lists (`receipts` may be NULL; item
     * i, when its len is not 0, is block i's receipt list in the wire form,
     * checked against the header's receipts root and bloom). A block whose
     * header is already stored only adds its body/receipts. Each block's
     * header_raw / raw may be NULL (they are then encoded). Borrowed for
     * the call. Returns 0 or res->code. */
    int (*insert_blocks)(void *impl, const struct ethd_block *blocks,
                         const struct ethd_trie_item *receipts, size_t n,
                         struct ethd_chain_insert_result *res);
};

#endif
