/* The clique signer set as the sealer needs it (EIP-225 "Snapshots"), read
 * through the chain/1 interface: the signers listed by the last checkpoint
 * (block number a multiple of the epoch) with the votes cast since then
 * applied, the in-turn rule and the recent-signer rule.
 *
 * chain/1 does not expose the chain's own clique snapshots, so the sealer
 * keeps this one: it walks the canonical headers from the checkpoint once,
 * then only applies new blocks. Only headers that carry a vote (a non-zero
 * coinbase) have their signer recovered, so the walk is cheap when nobody
 * votes. The chain still verifies every sealed block with its own engine,
 * so a disagreement costs a refused block, never a bad one. */
#ifndef ETHD_PLUGIN_CLIQUE_SNAPSHOT_H
#define ETHD_PLUGIN_CLIQUE_SNAPSHOT_H
#include <ethd/chain.h>
#include <ethd/secp256k1.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_sealer_vote {
    uint8_t signer[20]; /* who voted */
    uint8_t addr[20];   /* about whom */
    bool authorize;     /* add (nonce 0xff..ff) or drop (nonce 0) */
};

struct ethd_sealer_snap {
    bool valid;
    uint64_t epoch;
    uint64_t number; /* the block it is the state after */
    uint8_t hash[32];
    uint8_t (*signers)[20]; /* owned; sorted ascending */
    size_t n_signers;
    struct ethd_sealer_vote *votes; /* owned; open votes, in casting order */
    size_t n_votes, cap_votes;
};

/* An empty (invalid) snapshot for a chain with this epoch (0: 30000). */
void ethd_sealer_snap_init(struct ethd_sealer_snap *s, uint64_t epoch);
void ethd_sealer_snap_free(struct ethd_sealer_snap *s);

/* Bring the snapshot to the canonical block (number, hash): applied
 * incrementally when it extends the block the snapshot is at, rebuilt from
 * the checkpoint otherwise. `chain`/`impl`/`secp` borrowed for the call.
 * ETHD_EAGAIN if the canonical chain changed during the walk (call again),
 * ETHD_EINVAL (a checkpoint without a valid signer list, a vote that does
 * not recover), ETHD_ENOTFOUND / ETHD_EIO from the chain, ETHD_ENOMEM; why
 * gets a message. On failure the snapshot is left invalid. */
int ethd_sealer_snap_update(struct ethd_sealer_snap *s, const struct ethd_chain_iface_v1 *chain,
                            void *impl, const struct ethd_secp *secp, uint64_t number,
                            const uint8_t hash[32], char *why, size_t whylen);

/* Is `addr` a signer? *index (may be NULL) gets its position in the sorted
 * list. */
bool ethd_sealer_snap_is_signer(const struct ethd_sealer_snap *s, const uint8_t addr[20],
                                size_t *index);
/* EIP-225: `addr` is in turn for block `number` when it is signer
 * number % n of the sorted list. */
bool ethd_sealer_snap_in_turn(const struct ethd_sealer_snap *s, uint64_t number,
                              const uint8_t addr[20]);
/* EIP-225 "recently signed": may `addr` seal the block after the snapshot's
 * block? Not if it sealed one of the last floor(n/2) blocks (n = signers).
 * *recent gets the answer; *last (may be NULL) the number of its most recent
 * such block. Errors as for chain look-ups, ETHD_ECRYPTO for a seal that
 * does not recover. */
int ethd_sealer_snap_recent(const struct ethd_sealer_snap *s,
                            const struct ethd_chain_iface_v1 *chain, void *impl,
                            const struct ethd_secp *secp, const uint8_t addr[20], bool *recent,
                            uint64_t *last);

#endif
