/* The eth service's transaction pool: the transactions this node has seen and
 * not yet seen included, checked as far as possible without state.
 *
 * What a transaction must pass to enter (ethd_txpool_add):
 *   - it decodes (canonical form: legacy RLP list or type || rlp(fields))
 *     and is at most max_tx_size bytes;
 *   - ethd_tx_validate under the rules at the head: type active, chain id,
 *     signature and sender, intrinsic gas, EIP-2681 nonce, fee fields;
 *   - it is not already pooled (by hash), and no pooled transaction has the
 *     same sender and nonce unless the new one pays at least
 *     price_bump percent more (then it replaces it, as in geth);
 *   - blob transactions (type 3) are refused: serving them needs their
 *     sidecars, which this pool does not keep.
 * Memory is bounded by max_txs and max_bytes: when full, the transaction
 * with the lowest fee cap goes, or the new one is refused if it pays no
 * more than that.
 *
 * Not checked (needs state): balance, account nonce. So every pooled
 * transaction counts as "pending"; nothing is "queued".
 *
 * Single-threaded (the loop thread). Keys are 32-byte hashes. */
#ifndef ETHD_PLUGIN_ETH_TXPOOL_H
#define ETHD_PLUGIN_ETH_TXPOOL_H
#include <ethd/block.h>
#include <ethd/secp256k1.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_TXPOOL_DEFAULT_MAX_TXS 4096
#define ETHD_TXPOOL_DEFAULT_MAX_BYTES ((uint64_t)32 << 20)
#define ETHD_TXPOOL_DEFAULT_MAX_TX_SIZE ((uint64_t)128 << 10) /* geth's txMaxSize */
#define ETHD_TXPOOL_DEFAULT_PRICE_BUMP 10                     /* percent */

struct ethd_txpool_config {
    uint64_t max_txs;
    uint64_t max_bytes;
    uint64_t max_tx_size;
    uint64_t price_bump;
};

struct ethd_txpool;

/* A pooled transaction, borrowed until the next add/remove. */
struct ethd_txpool_tx {
    uint8_t hash[32];
    uint8_t sender[20];
    uint64_t nonce;
    uint8_t type;
    const uint8_t *raw; /* canonical form */
    size_t len;
};

/* Outcome of an add, for logs and RPC errors. */
struct ethd_txpool_verdict {
    uint8_t hash[32];            /* set whenever the tx decoded */
    bool replaced;               /* it replaced a pooled tx (same sender and nonce) */
    bool evicted;                /* a cheaper tx was dropped to make room */
    char reason[128];            /* why it was refused */
};

/* Caller frees with ethd_txpool_free. A NULL cfg or zero fields take the
 * defaults above. ETHD_ENOMEM, ETHD_EINVAL (max_txs above 2^20). */
int ethd_txpool_new(const struct ethd_txpool_config *cfg, struct ethd_txpool **out);
void ethd_txpool_free(struct ethd_txpool *p);

/* Check and add one transaction in canonical form (`raw` is copied).
 * Returns 0 (added), ETHD_EEXIST (already pooled), or why it was refused:
 * ETHD_ETOOBIG (max_tx_size), ETHD_EPROTO (does not decode), ETHD_ENOTSUP
 * (type not active, or a blob tx), ETHD_EINVAL / ETHD_ERANGE /
 * ETHD_ECRYPTO (ethd_tx_validate), ETHD_EBUSY (same sender and nonce
 * pooled and the new fee is not bump% higher; or the pool is full of
 * transactions paying at least as much), ETHD_ENOMEM. `v` (may be NULL)
 * gets the hash and a reason. `secp` and `rules` borrowed. */
int ethd_txpool_add(struct ethd_txpool *p, const struct ethd_secp *secp,
                    const struct ethd_rules *rules, const uint8_t *raw, size_t len,
                    struct ethd_txpool_verdict *v);

bool ethd_txpool_has(const struct ethd_txpool *p, const uint8_t hash[32]);
/* ETHD_ENOTFOUND if not pooled; *out borrowed (see struct). */
int ethd_txpool_get(const struct ethd_txpool *p, const uint8_t hash[32],
                    struct ethd_txpool_tx *out);
/* Remove (e.g. included in a block). No-op when absent; true if removed. */
bool ethd_txpool_remove(struct ethd_txpool *p, const uint8_t hash[32]);

size_t ethd_txpool_count(const struct ethd_txpool *p);
uint64_t ethd_txpool_bytes(const struct ethd_txpool *p);

/* Visit in arrival order (oldest first); stop when fn returns false. The
 * pool must not change during the walk. */
typedef bool (*ethd_txpool_each_fn)(const struct ethd_txpool_tx *tx, void *arg);
void ethd_txpool_each(const struct ethd_txpool *p, ethd_txpool_each_fn fn, void *arg);

#endif
