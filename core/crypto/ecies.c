/* ECIES for the RLPx handshake (devp2p rlpx.md, "ECIES Encryption"); the
 * construction is summarised in ecies.h. */
#include "crypto/ecies.h"

#include <ethd/error.h>
#include <ethd/random.h>

#include <string.h>

#include <nettle/aes.h>
#include <nettle/ctr.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#define KDF_LEN 32 /* kE (16) || kM' (16) */

size_t ethd_ecies_encrypted_len(size_t plain_len)
{
    if (plain_len > SIZE_MAX - ETHD_ECIES_OVERHEAD)
        return 0;
    return plain_len + ETHD_ECIES_OVERHEAD;
}

size_t ethd_ecies_plain_len(size_t msg_len)
{
    return msg_len < ETHD_ECIES_OVERHEAD ? 0 : msg_len - ETHD_ECIES_OVERHEAD;
}

int ethd_ecies_aes_ctr(const uint8_t *key, size_t key_len, const uint8_t iv[16],
                       const uint8_t *in, uint8_t *out, size_t len)
{
    union {
        struct aes128_ctx a128;
        struct aes192_ctx a192;
        struct aes256_ctx a256;
    } c;
    nettle_cipher_func *f;
    if (key == NULL || iv == NULL || (len > 0 && (in == NULL || out == NULL)))
        return ETHD_EINVAL;
    switch (key_len) {
    case 16: aes128_set_encrypt_key(&c.a128, key); f = (nettle_cipher_func *)aes128_encrypt; break;
    case 24: aes192_set_encrypt_key(&c.a192, key); f = (nettle_cipher_func *)aes192_encrypt; break;
    case 32: aes256_set_encrypt_key(&c.a256, key); f = (nettle_cipher_func *)aes256_encrypt; break;
    default: return ETHD_EINVAL;
    }
    if (len > 0) {
        uint8_t ctr[AES_BLOCK_SIZE];
        memcpy(ctr, iv, AES_BLOCK_SIZE);
        ctr_crypt(&c, f, AES_BLOCK_SIZE, ctr, len, out, in);
    }
    explicit_bzero(&c, sizeof c);
    return 0;
}

/* NIST SP 800-56A section 5.8.1 concatenation KDF with SHA-256 and empty
 * OtherInfo; 32 bytes need only the block with counter 1. */
static void concat_kdf(const uint8_t z[ETHD_SECP_ECDH_LEN], uint8_t out[KDF_LEN])
{
    static const uint8_t counter1[4] = {0, 0, 0, 1};
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, sizeof counter1, counter1);
    sha256_update(&h, ETHD_SECP_ECDH_LEN, z);
    sha256_digest(&h, KDF_LEN, out);
    explicit_bzero(&h, sizeof h);
}

/* kE and kM from the ECDH x-coordinate (rlpx.md: kE || kM = KDF(S, 32),
 * the MAC key is sha256(kM)). */
static void derive_keys(const uint8_t s[ETHD_SECP_ECDH_LEN], uint8_t ke[16], uint8_t km[32])
{
    uint8_t k[KDF_LEN];
    concat_kdf(s, k);
    memcpy(ke, k, 16);
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, 16, k + 16);
    sha256_digest(&h, 32, km);
    explicit_bzero(k, sizeof k);
    explicit_bzero(&h, sizeof h);
}

/* d = HMAC-SHA-256(kM, iv || c || shared-mac-data); `ivc` is iv || c. */
static void compute_mac(const uint8_t km[32], const uint8_t *ivc, size_t ivc_len,
                        const uint8_t *mac_data, size_t mac_len, uint8_t d[ETHD_ECIES_MAC_LEN])
{
    struct hmac_sha256_ctx h;
    hmac_sha256_set_key(&h, 32, km);
    hmac_sha256_update(&h, ivc_len, ivc);
    if (mac_len > 0)
        hmac_sha256_update(&h, mac_len, mac_data);
    hmac_sha256_digest(&h, ETHD_ECIES_MAC_LEN, d);
    explicit_bzero(&h, sizeof h);
}

int ethd_ecies_encrypt_with(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                            const uint8_t eph_seckey[ETHD_SECP_SECKEY_LEN],
                            const uint8_t iv[ETHD_ECIES_IV_LEN], const uint8_t *plain,
                            size_t plain_len, const uint8_t *mac_data, size_t mac_len,
                            uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (secp == NULL || pub == NULL || eph_seckey == NULL || iv == NULL || out == NULL ||
        out_len == NULL || (plain_len > 0 && plain == NULL) || (mac_len > 0 && mac_data == NULL))
        return ETHD_EINVAL;
    size_t total = ethd_ecies_encrypted_len(plain_len);
    if (total == 0 || out_cap < total)
        return ETHD_ETOOBIG;

    uint8_t s[ETHD_SECP_ECDH_LEN], ke[16], km[32];
    int rc = ethd_secp_pubkey(secp, eph_seckey, out + 1);
    if (rc == 0)
        rc = ethd_secp_ecdh(secp, eph_seckey, pub, s);
    if (rc != 0)
        return rc;
    derive_keys(s, ke, km);

    uint8_t *ivp = out + 1 + ETHD_SECP_PUBKEY_LEN;
    uint8_t *c = ivp + ETHD_ECIES_IV_LEN;
    out[0] = 0x04;
    memcpy(ivp, iv, ETHD_ECIES_IV_LEN);
    ethd_ecies_aes_ctr(ke, sizeof ke, iv, plain, c, plain_len);
    compute_mac(km, ivp, ETHD_ECIES_IV_LEN + plain_len, mac_data, mac_len, c + plain_len);

    explicit_bzero(s, sizeof s);
    explicit_bzero(ke, sizeof ke);
    explicit_bzero(km, sizeof km);
    *out_len = total;
    return 0;
}

int ethd_ecies_encrypt(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                       const uint8_t *plain, size_t plain_len, const uint8_t *mac_data,
                       size_t mac_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    uint8_t eph[ETHD_SECP_SECKEY_LEN], iv[ETHD_ECIES_IV_LEN];
    int rc = ethd_secp_keygen(secp, eph);
    if (rc == 0)
        rc = ethd_random_bytes(iv, sizeof iv);
    if (rc == 0)
        rc = ethd_ecies_encrypt_with(secp, pub, eph, iv, plain, plain_len, mac_data, mac_len,
                                     out, out_cap, out_len);
    explicit_bzero(eph, sizeof eph);
    return rc;
}

int ethd_ecies_decrypt(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN],
                       const uint8_t *msg, size_t msg_len, const uint8_t *mac_data,
                       size_t mac_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (secp == NULL || seckey == NULL || msg == NULL || out_len == NULL ||
        (mac_len > 0 && mac_data == NULL))
        return ETHD_EINVAL;
    if (msg_len < ETHD_ECIES_OVERHEAD)
        return ETHD_ETRUNC;
    size_t plain_len = msg_len - ETHD_ECIES_OVERHEAD;
    if (plain_len > 0 && out == NULL)
        return ETHD_EINVAL;
    if (out_cap < plain_len)
        return ETHD_ETOOBIG;
    /* Only the uncompressed point form is defined for RLPx. */
    if (msg[0] != 0x04)
        return ETHD_ECRYPTO;

    uint8_t s[ETHD_SECP_ECDH_LEN], ke[16], km[32], d[ETHD_ECIES_MAC_LEN];
    int rc = ethd_secp_ecdh(secp, seckey, msg + 1, s);
    if (rc != 0)
        return rc == ETHD_EINVAL ? ETHD_EINVAL : ETHD_ECRYPTO;
    derive_keys(s, ke, km);

    const uint8_t *ivp = msg + 1 + ETHD_SECP_PUBKEY_LEN;
    const uint8_t *c = ivp + ETHD_ECIES_IV_LEN;
    compute_mac(km, ivp, ETHD_ECIES_IV_LEN + plain_len, mac_data, mac_len, d);
    if (!memeql_sec(d, c + plain_len, ETHD_ECIES_MAC_LEN)) {
        rc = ETHD_ECRYPTO;
    } else {
        ethd_ecies_aes_ctr(ke, sizeof ke, ivp, c, out, plain_len);
        *out_len = plain_len;
    }
    explicit_bzero(s, sizeof s);
    explicit_bzero(ke, sizeof ke);
    explicit_bzero(km, sizeof km);
    return rc;
}
