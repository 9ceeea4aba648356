/* ECIES as RLPx uses it for the auth/ack handshake messages (devp2p
 * rlpx.md, "ECIES Encryption"):
 *
 *   R  = r*G for a fresh ephemeral key r
 *   S  = x-coordinate of r*K_B (raw ECDH)
 *   kE || kM' = NIST SP 800-56A concatenation KDF(SHA-256, S), 32 bytes
 *   kE = kM'[0..16] as AES-128 key, kM = sha256(kM'[16..32])
 *   c  = AES-128-CTR(kE, iv, m) with a random 16-byte iv
 *   d  = HMAC-SHA-256(kM, iv || c || shared-mac-data)
 *   message = 0x04 || R(64) || iv(16) || c || d(32)     (113 bytes overhead)
 *
 * shared-mac-data is empty for pre-EIP-8 handshake messages and the 2-byte
 * big-endian size prefix for EIP-8 ones. Internal to the node. */
#ifndef ETHD_CORE_CRYPTO_ECIES_H
#define ETHD_CORE_CRYPTO_ECIES_H
#include <ethd/secp256k1.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_ECIES_IV_LEN 16
#define ETHD_ECIES_MAC_LEN 32
/* 0x04 || R || iv || ... || d */
#define ETHD_ECIES_OVERHEAD (1 + ETHD_SECP_PUBKEY_LEN + ETHD_ECIES_IV_LEN + ETHD_ECIES_MAC_LEN)

/* Length of the ECIES message for `plain_len` bytes of plaintext, or 0 if
 * that overflows size_t. */
size_t ethd_ecies_encrypted_len(size_t plain_len);
/* Plaintext length of an ECIES message of `msg_len` bytes, or 0 if it is
 * shorter than the overhead (an empty plaintext also gives 0). */
size_t ethd_ecies_plain_len(size_t msg_len);

/* Encrypt `plain` to the public key `pub` with a fresh ephemeral key and iv
 * from getrandom(). `out` (caller's, `out_cap` bytes, must not overlap the
 * inputs) receives ethd_ecies_encrypted_len(plain_len) bytes; *out_len is
 * set to that. mac_data may be NULL when mac_len is 0.
 * ETHD_ETOOBIG if out_cap is too small, ETHD_ECRYPTO for an invalid `pub`,
 * ETHD_EIO if no randomness. */
int ethd_ecies_encrypt(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                       const uint8_t *plain, size_t plain_len, const uint8_t *mac_data,
                       size_t mac_len, uint8_t *out, size_t out_cap, size_t *out_len);
/* Same with the ephemeral private key and iv supplied (tests, fuzzing,
 * reproducible vectors). ETHD_ECRYPTO if `eph_seckey` is invalid. */
int ethd_ecies_encrypt_with(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                            const uint8_t eph_seckey[ETHD_SECP_SECKEY_LEN],
                            const uint8_t iv[ETHD_ECIES_IV_LEN], const uint8_t *plain,
                            size_t plain_len, const uint8_t *mac_data, size_t mac_len,
                            uint8_t *out, size_t out_cap, size_t *out_len);

/* Decrypt an ECIES message with the recipient's private key. `out` (caller's,
 * must not overlap `msg`) receives ethd_ecies_plain_len(msg_len) bytes.
 * The MAC is checked in constant time before anything is decrypted; on any
 * failure nothing is written to `out`.
 * ETHD_ETRUNC  msg_len < ETHD_ECIES_OVERHEAD
 * ETHD_ECRYPTO first byte not 0x04, R not on the curve, bad private key,
 *              or MAC mismatch (wrong key, tampered data, wrong mac_data)
 * ETHD_ETOOBIG out_cap too small */
int ethd_ecies_decrypt(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN],
                       const uint8_t *msg, size_t msg_len, const uint8_t *mac_data,
                       size_t mac_len, uint8_t *out, size_t out_cap, size_t *out_len);

/* One-shot AES-CTR with a 16-byte big-endian counter block starting at `iv`
 * (key_len 16, 24 or 32 selects AES-128/192/256; in == out is allowed).
 * ECIES uses AES-128; exposed for test vectors and other users of AES-CTR.
 * ETHD_EINVAL for another key length. */
int ethd_ecies_aes_ctr(const uint8_t *key, size_t key_len, const uint8_t iv[16],
                       const uint8_t *in, uint8_t *out, size_t len);

#endif
