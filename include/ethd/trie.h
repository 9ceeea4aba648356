/* Merkle-Patricia trie roots computed in memory (Yellow Paper appendix D),
 * with no node database: the transactions/receipts/withdrawals roots of a
 * block, state and storage roots of a known key/value set, and the trie test
 * vectors.
 *
 * The key/value set is sorted once and the trie is built bottom-up over the
 * sorted ranges, so the cost is one sort plus one Keccak per node whose RLP
 * is 32 bytes or longer (shorter nodes are embedded in their parent). Memory
 * is O(n) for the sorted index plus one scratch buffer; inputs are borrowed
 * for the duration of the call. */
#ifndef ETHD_TRIE_H
#define ETHD_TRIE_H
#include <stddef.h>
#include <stdint.h>

#define ETHD_TRIE_HASH_LEN 32
/* Longest key accepted by ethd_trie_root (ETHD_ETOOBIG above it). It bounds
 * the recursion: at most 2 * (2 * ETHD_TRIE_MAX_KEY_LEN + 1) + 1 frames of
 * ~150 bytes (about 160 KiB of stack at -O2) for the most adversarial key
 * set. Ethereum's keys are 32 bytes (secure tries) or at most 9 bytes (RLP
 * of a list index). */
#define ETHD_TRIE_MAX_KEY_LEN 256

/* keccak256(RLP("")) = keccak256(0x80): the root of a trie with no entries,
 * 56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421. */
extern const uint8_t ethd_trie_empty_root[ETHD_TRIE_HASH_LEN];

/* One entry; both pointers borrowed for the call. An empty value means the
 * key is absent (as a trie update with an empty value deletes it). */
struct ethd_trie_kv {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *val;
    size_t val_len;
};

/* One list item for ordered roots; borrowed for the call. */
struct ethd_trie_item {
    const uint8_t *data;
    size_t len;
};

/* Optional counters filled by ethd_trie_root_ex (for benchmarks/tuning). */
struct ethd_trie_stats {
    uint64_t nodes;         /* leaf, extension and branch nodes encoded */
    uint64_t hashed_nodes;  /* nodes hashed (RLP >= 32 bytes, and the root) */
    uint64_t hashed_bytes;  /* bytes fed to Keccak for those nodes */
    uint64_t hashed_blocks; /* Keccak-f[1600] permutations for those nodes */
};

/* Flags for ethd_trie_root_ex. */
#define ETHD_TRIE_SECURE 0x1u /* key each entry by keccak256(key) */

/* Root of the trie holding `kv[0..n)`. Insertion order does not matter;
 * if a key occurs more than once the entry with the highest index wins (so
 * an array of updates applied in order, empty value = delete, gives the
 * same root as applying them to a trie one by one). kv may be NULL if n==0.
 * ETHD_ENOMEM; ETHD_ETOOBIG for a key longer than ETHD_TRIE_MAX_KEY_LEN;
 * ETHD_EINVAL for NULL pointers with a nonzero length. */
int ethd_trie_root(const struct ethd_trie_kv *kv, size_t n, uint8_t root[ETHD_TRIE_HASH_LEN]);

/* Secure trie root (state and storage tries): every key is replaced by
 * keccak256(key) before insertion. Same rules and errors as ethd_trie_root
 * (any key length is accepted, since the hashed keys are 32 bytes). */
int ethd_trie_secure_root(const struct ethd_trie_kv *kv, size_t n,
                          uint8_t root[ETHD_TRIE_HASH_LEN]);

/* Root of an ordered list keyed by RLP(index) (transactionsRoot,
 * receiptsRoot, withdrawalsRoot): item i is stored under RLP(i) with the
 * item's bytes as value (already RLP or typed-envelope encoded by the
 * caller). An empty item is treated as absent. ETHD_ENOMEM, ETHD_EINVAL. */
int ethd_trie_ordered_root(const struct ethd_trie_item *items, size_t n,
                           uint8_t root[ETHD_TRIE_HASH_LEN]);

/* ethd_trie_root with flags (ETHD_TRIE_SECURE) and optional counters
 * (`stats` may be NULL; it is zeroed first). */
int ethd_trie_root_ex(const struct ethd_trie_kv *kv, size_t n, unsigned flags,
                      uint8_t root[ETHD_TRIE_HASH_LEN], struct ethd_trie_stats *stats);

/* Hex-prefix ("compact") encoding of a nibble sequence (Yellow Paper
 * appendix C): flag nibble 2*leaf + (n odd), then the nibbles, padded to
 * whole bytes. `out` gets n/2 + 1 bytes (*out_len). ETHD_EINVAL if a nibble
 * is > 15, ETHD_ETOOBIG if cap < n/2 + 1. */
int ethd_trie_hex_prefix(const uint8_t *nibbles, size_t n, int leaf, uint8_t *out, size_t cap,
                         size_t *out_len);

#endif
