/* Keccak-256 as Ethereum uses it: the original Keccak padding (0x01 ... 0x80),
 * not FIPS-202 SHA3-256. Built on nettle's Keccak-f[1600] permutation. */
#ifndef ETHD_KECCAK_H
#define ETHD_KECCAK_H
#include <stddef.h>
#include <stdint.h>

#define ETHD_KECCAK256_LEN 32
#define ETHD_KECCAK256_RATE 136 /* bytes absorbed per permutation */

/* Incremental state; caller-owned, no heap. */
struct ethd_keccak {
    uint64_t state[25];
    uint8_t block[ETHD_KECCAK256_RATE];
    size_t fill;
};

void ethd_keccak_init(struct ethd_keccak *k);
void ethd_keccak_update(struct ethd_keccak *k, const void *data, size_t len);
/* Digest; `k` must be re-initialised before reuse. */
void ethd_keccak_final(struct ethd_keccak *k, uint8_t out[ETHD_KECCAK256_LEN]);
/* Digest of everything absorbed so far, leaving `k` unchanged so more can be
 * absorbed (the RLPx egress/ingress MACs need this). */
void ethd_keccak_peek(const struct ethd_keccak *k, uint8_t out[ETHD_KECCAK256_LEN]);
/* One-shot. */
void ethd_keccak256(const void *data, size_t len, uint8_t out[ETHD_KECCAK256_LEN]);

/* Keccak256 of the empty string and of RLP("") / the empty trie. */
extern const uint8_t ethd_keccak256_empty[ETHD_KECCAK256_LEN];

#endif
