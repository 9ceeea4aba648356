/* EIP-2124 fork identifier, with EIP-6122 timestamp forks.
 *
 * FORK_HASH = CRC32 (IEEE) of the genesis hash, updated with each passed
 * fork activation as an 8-byte big-endian number; FORK_NEXT = the next
 * scheduled activation (block number or timestamp), 0 if none. Block forks
 * come first, then time forks; duplicates and activations at 0 are dropped,
 * and time forks at or before the genesis timestamp are dropped too (as
 * go-ethereum does, so a chain whose genesis already runs a time fork does
 * not list it). */
#ifndef ETHD_FORKID_H
#define ETHD_FORKID_H
#include <ethd/rlp.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_chain_config;

struct ethd_forkid {
    uint8_t hash[4];
    uint64_t next;
};

/* At most this many forks of each kind. */
#define ETHD_FORKID_MAX_FORKS 32

/* The fork schedule of a config: sorted, de-duplicated block forks and time
 * forks (arrays of ETHD_FORKID_MAX_FORKS entries, caller-owned). */
void ethd_forkid_forks(const struct ethd_chain_config *c, uint64_t genesis_time,
                       uint64_t *blocks, size_t *n_blocks, uint64_t *times, size_t *n_times);

/* Fork id of a node whose head is (head_number, head_time), from explicit
 * fork lists (sorted ascending). */
void ethd_forkid_from_forks(const uint8_t genesis_hash[32], const uint64_t *blocks,
                            size_t n_blocks, const uint64_t *times, size_t n_times,
                            uint64_t head_number, uint64_t head_time, struct ethd_forkid *out);
/* Same from a chain config. */
void ethd_forkid_compute(const struct ethd_chain_config *c, const uint8_t genesis_hash[32],
                         uint64_t genesis_time, uint64_t head_number, uint64_t head_time,
                         struct ethd_forkid *out);

/* Outcome of validating a remote fork id (EIP-2124 "Validation rules"). */
enum ethd_forkid_verdict {
    ETHD_FORKID_ACCEPT = 0,
    ETHD_FORKID_REMOTE_STALE = 1,           /* ErrRemoteStale: remote must sync/upgrade */
    ETHD_FORKID_LOCAL_INCOMPATIBLE = 2,     /* ErrLocalIncompatibleOrStale */
};

/* Validate `remote` against the local chain at (head_number, head_time).
 * Returns an enum ethd_forkid_verdict (never negative). */
int ethd_forkid_validate_forks(const uint8_t genesis_hash[32], const uint64_t *blocks,
                               size_t n_blocks, const uint64_t *times, size_t n_times,
                               uint64_t head_number, uint64_t head_time,
                               const struct ethd_forkid *remote);
int ethd_forkid_validate(const struct ethd_chain_config *c, const uint8_t genesis_hash[32],
                         uint64_t genesis_time, uint64_t head_number, uint64_t head_time,
                         const struct ethd_forkid *remote);

/* RLP [hash (4 bytes), next], as the eth Status message carries it.
 * Decoding requires exactly those two elements (ETHD_EINVAL otherwise). */
void ethd_forkid_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_forkid *id);
int ethd_forkid_decode_item(const struct ethd_rlp_item *it, struct ethd_forkid *id);

#endif
