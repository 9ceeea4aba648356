/* Clique proof-of-authority (EIP-225): seal hash, signer recovery, signer
 * snapshots (checkpoint signer lists and votes), the in-turn difficulty, the
 * recent-signer rule and the clique timestamp/field rules.
 *
 * Internal to core: the chain store (core/chain/store.c) drives it while it
 * inserts headers, and tests use it directly.
 *
 * Snapshots: the signer set, the recent signers and the open votes after a
 * given block. The snapshot of a block is computed by walking back from it
 * to a known snapshot (the in-memory cache, one persisted by the chain every
 * ETHD_CLIQUE_SNAP_INTERVAL blocks, the genesis, or a checkpoint whose parent
 * is unknown) and applying the headers forward, exactly as EIP-225
 * "Snapshots" describes. Snapshots are cached in a bounded LRU; recovered
 * signers are cached by block hash in a bounded direct-mapped table.
 *
 * Threads: an engine is single-owner (the chain serialises inserts);
 * ethd_clique_recover_batch spreads signer recovery over worker threads and
 * fills the cache from the calling thread. */
#ifndef ETHD_CORE_CHAIN_CLIQUE_H
#define ETHD_CORE_CHAIN_CLIQUE_H
#include <ethd/block.h>
#include <ethd/buf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_secp;
struct ethd_clique;

/* EIP-225 constants. */
#define ETHD_CLIQUE_VANITY 32          /* EXTRA_VANITY */
#define ETHD_CLIQUE_SEAL 65            /* EXTRA_SEAL */
#define ETHD_CLIQUE_DIFF_INTURN 2      /* DIFF_INTURN */
#define ETHD_CLIQUE_DIFF_NOTURN 1      /* DIFF_NOTURN */
#define ETHD_CLIQUE_DEFAULT_EPOCH 30000
/* The chain persists a snapshot at every block number that is a multiple of
 * this (go-ethereum's checkpointInterval), so a walk-back is bounded. */
#define ETHD_CLIQUE_SNAP_INTERVAL 1024
/* Largest signer set accepted (bounds a snapshot's memory). */
#define ETHD_CLIQUE_MAX_SIGNERS 1024

/* How the engine reads headers it needs while walking back to a snapshot
 * (the chain answers from its pending batch first, then the store). */
struct ethd_clique_src {
    /* Header (hash, number) into *out (caller frees with ethd_header_free).
     * ETHD_ENOTFOUND if unknown. */
    int (*get_header)(void *arg, const uint8_t hash[32], uint64_t number,
                      struct ethd_header *out);
    /* A persisted snapshot blob for block `hash` (*data: caller frees with
     * free()); ETHD_ENOTFOUND if none. May be NULL. */
    int (*load_snapshot)(void *arg, const uint8_t hash[32], uint8_t **data, size_t *len);
    void *arg;
};

/* Engine for a chain with the given clique period (seconds) and epoch
 * (blocks; 0 means the default 30000). `secp` is borrowed until
 * ethd_clique_free. *out: caller frees with ethd_clique_free. */
int ethd_clique_new(const struct ethd_secp *secp, uint64_t period, uint64_t epoch,
                    struct ethd_clique **out);
void ethd_clique_free(struct ethd_clique *c);
uint64_t ethd_clique_epoch(const struct ethd_clique *c);

/* EIP-225 "sigHash": keccak256 of the header RLP with the last 65 bytes of
 * extra-data (the seal) removed. ETHD_EINVAL if extra is shorter than 65. */
int ethd_clique_seal_hash(const struct ethd_header *h, uint8_t out[32]);
/* Sign `h` in place with `seckey`: writes the 65-byte seal r||s||v (v 0/1)
 * into the last 65 bytes of extra-data (which must already be there). For
 * tests and the dev sealer. */
int ethd_clique_seal(const struct ethd_secp *secp, struct ethd_header *h,
                     const uint8_t seckey[32]);
/* Signer of a header (hash = its block hash, used as the cache key).
 * ETHD_EINVAL (no seal), ETHD_ECRYPTO (the seal does not recover). */
int ethd_clique_recover(struct ethd_clique *c, const struct ethd_header *h, const uint8_t hash[32],
                        uint8_t signer[20]);
/* Recover the signers of n headers using `threads` threads (0 or 1: the
 * calling thread only) and put them in the signer cache; failures are not
 * cached (they are reported when the header is verified). */
int ethd_clique_recover_batch(struct ethd_clique *c, const struct ethd_header *const *hs,
                              const uint8_t (*hashes)[32], size_t n, unsigned threads);

/* The clique-specific rules of a header that need no other header
 * (EIP-225 and go-ethereum's verifyHeader): extra-data has vanity and seal,
 * signer list only at checkpoints (a multiple of 20 bytes there, none
 * elsewhere), checkpoint coinbase zero and nonce zero, nonce is 0x00..00 or
 * 0xff..ff, mix digest zero, uncles hash = keccak(rlp([])), difficulty 1 or
 * 2 (block > 0). 0 or ETHD_EINVAL with the reason in why. */
int ethd_clique_verify_fields(const struct ethd_clique *c, const struct ethd_header *h, char *why,
                              size_t whylen);
/* Full verification of `h` (block hash `hash`) on top of `parent` (its
 * parent, already verified): the field rules above, timestamp >= parent +
 * period, the snapshot at the parent (through `src`), the checkpoint signer
 * list equals that snapshot's signers, the signer is authorised and not a
 * recent signer, difficulty 2 in turn / 1 out of turn. On success the
 * snapshot after `h` is cached. ETHD_EINVAL / ETHD_ECRYPTO with the reason
 * in why ("unauthorized signer 0x..", "recently signed", "wrong difficulty",
 * ...); ETHD_ENOTFOUND if an ancestor needed for the snapshot is missing. */
int ethd_clique_verify(struct ethd_clique *c, const struct ethd_header *h, const uint8_t hash[32],
                       const struct ethd_header *parent, const uint8_t parent_hash[32],
                       const struct ethd_clique_src *src, char *why, size_t whylen);

/* The sorted signer set after block (hash, number): *signers is an array of
 * *n addresses (caller frees with free()). */
int ethd_clique_signers(struct ethd_clique *c, const uint8_t hash[32], uint64_t number,
                        const struct ethd_clique_src *src, uint8_t (**signers)[20], size_t *n);
/* Serialise the snapshot after block (hash, number) for the chain to persist
 * (appended to out). */
int ethd_clique_snapshot_blob(struct ethd_clique *c, const uint8_t hash[32], uint64_t number,
                              const struct ethd_clique_src *src, struct ethd_buf *out);
/* Forget every cached snapshot (e.g. after the chain was rewound). */
void ethd_clique_reset_cache(struct ethd_clique *c);

/* Signer set from a checkpoint's extra-data (vanity || signers || seal).
 * *signers: caller frees with free(). ETHD_EINVAL if the layout is wrong. */
int ethd_clique_extra_signers(const uint8_t *extra, size_t len, uint8_t (**signers)[20],
                              size_t *n);

#endif
