/* secp256k1 keys, ECDSA signatures with public-key recovery, and ECDH, as
 * Ethereum uses them (Yellow Paper appendix F; devp2p rlpx.md; discv4.md).
 * Built on libsecp256k1, whose headers this file deliberately does not
 * include: plugins see only fixed-size byte arrays.
 *
 * Formats:
 *   private key  32 bytes big-endian, 1 <= k < n
 *   public key   64 bytes X || Y (the uncompressed SEC1 form without its 0x04
 *                byte; this is a devp2p node id)
 *   signature    65 bytes r || s || v, v = recovery id 0..3 (not 27/28;
 *                callers add or strip the transaction/EIP-155 offsets)
 *   address      last 20 bytes of keccak256(public key)
 *
 * The context holds libsecp256k1's randomized (blinded) context. Create one
 * per node with ethd_secp_new; after creation every function takes it as
 * const and it may be shared by any number of threads at once. */
#ifndef ETHD_SECP256K1_H
#define ETHD_SECP256K1_H
#include <stddef.h>
#include <stdint.h>

#define ETHD_SECP_SECKEY_LEN 32
#define ETHD_SECP_PUBKEY_LEN 64     /* X || Y, no 0x04 prefix */
#define ETHD_SECP_PUBKEY_COMPRESSED_LEN 33
#define ETHD_SECP_SIG_LEN 65        /* r || s || v */
#define ETHD_SECP_ADDR_LEN 20
#define ETHD_SECP_ECDH_LEN 32       /* raw shared x-coordinate */
#define ETHD_SECP_HASH_LEN 32       /* message hash that is signed */

struct ethd_secp;

/* Create a context and blind it with 32 bytes from getrandom().
 * *out: caller frees with ethd_secp_free. ETHD_ENOMEM, ETHD_EIO (no
 * randomness), ETHD_EINVAL (out is NULL). */
int ethd_secp_new(struct ethd_secp **out);
/* Free a context from ethd_secp_new; NULL is a no-op. */
void ethd_secp_free(struct ethd_secp *secp);

/* Fresh private key from getrandom(), drawn again until it is a valid
 * scalar. ETHD_EIO if the kernel gives no randomness. */
int ethd_secp_keygen(const struct ethd_secp *secp, uint8_t seckey[ETHD_SECP_SECKEY_LEN]);
/* 0 if `seckey` is a valid private key (1 <= k < n), else ETHD_ECRYPTO. */
int ethd_secp_seckey_check(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN]);
/* Public key of a private key. ETHD_ECRYPTO for an invalid private key. */
int ethd_secp_pubkey(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN],
                     uint8_t pub[ETHD_SECP_PUBKEY_LEN]);
/* Address of a public key: keccak256(pub)[12..32]. Cannot fail. */
void ethd_secp_address(const uint8_t pub[ETHD_SECP_PUBKEY_LEN], uint8_t addr[ETHD_SECP_ADDR_LEN]);

/* Parse a public key from the wire and normalise it to 64 bytes: accepts 64
 * bytes (X || Y), 65 bytes (0x04 || X || Y) or 33 bytes (compressed, as in
 * ENR "secp256k1" entries). ETHD_EINVAL for another length, ETHD_ECRYPTO if
 * the bytes are not a point on the curve. */
int ethd_secp_pubkey_parse(const struct ethd_secp *secp, const uint8_t *in, size_t len,
                           uint8_t pub[ETHD_SECP_PUBKEY_LEN]);
/* 0 if the 64 bytes are a point on the curve, else ETHD_ECRYPTO. */
int ethd_secp_pubkey_check(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN]);
/* Compressed (33-byte) form of a valid public key. ETHD_ECRYPTO if invalid. */
int ethd_secp_pubkey_compress(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                              uint8_t out[ETHD_SECP_PUBKEY_COMPRESSED_LEN]);

/* Deterministic (RFC 6979) signature of a 32-byte hash: r || s || v with a
 * low s (s <= n/2, as EIP-2 requires of transactions). ETHD_ECRYPTO for an
 * invalid private key. */
int ethd_secp_sign(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN],
                   const uint8_t hash[ETHD_SECP_HASH_LEN], uint8_t sig[ETHD_SECP_SIG_LEN]);
/* Public key that produced `sig` (exactly 65 bytes, v in 0..3) over `hash`.
 * Any s with 1 <= s < n is accepted, high or low: recovery is defined for
 * both, and whether a high s is allowed depends on the caller's rules
 * (EIP-2 forbids it in transactions since Homestead, discv4 does not care);
 * use ethd_secp_sig_check_low_s where it matters.
 * ETHD_EINVAL if sig_len != 65; ETHD_ECRYPTO if v > 3, r or s is zero or
 * >= n, or no key recovers. */
int ethd_secp_recover(const struct ethd_secp *secp, const uint8_t hash[ETHD_SECP_HASH_LEN],
                      const uint8_t *sig, size_t sig_len, uint8_t pub[ETHD_SECP_PUBKEY_LEN]);
/* Check `sig` (64 bytes r || s, or 65 with v, which is then ignored) over
 * `hash` by `pub`. Strict like libsecp256k1: a high s fails. 0 if valid,
 * ETHD_ECRYPTO if not (bad signature, r/s out of range, bad key),
 * ETHD_EINVAL for another length. */
int ethd_secp_verify(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                     const uint8_t hash[ETHD_SECP_HASH_LEN], const uint8_t *sig, size_t sig_len);
/* 0 if the s of a 64/65-byte signature is in [1, n/2]; ETHD_ECRYPTO if it
 * is above n/2 or r/s are out of range; ETHD_EINVAL for another length. */
int ethd_secp_sig_check_low_s(const struct ethd_secp *secp, const uint8_t *sig, size_t sig_len);

/* ECDH as RLPx and ECIES use it: the RAW x-coordinate of seckey * pub (not
 * libsecp256k1's default SHA-256 of the compressed point). ETHD_ECRYPTO for
 * an invalid private or public key. */
int ethd_secp_ecdh(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN],
                   const uint8_t pub[ETHD_SECP_PUBKEY_LEN], uint8_t x[ETHD_SECP_ECDH_LEN]);

#endif
