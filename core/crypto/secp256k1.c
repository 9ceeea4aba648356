/* secp256k1 wrappers over libsecp256k1 (see include/ethd/secp256k1.h). */
#include <ethd/error.h>
#include <ethd/random.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_recovery.h>

struct ethd_secp {
    secp256k1_context *ctx;
};

int ethd_secp_new(struct ethd_secp **out)
{
    if (out == NULL)
        return ETHD_EINVAL;
    *out = NULL;
    struct ethd_secp *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ETHD_ENOMEM;
    /* libsecp256k1 >= 0.2: one context type serves signing and verifying. */
    s->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (s->ctx == NULL) {
        free(s);
        return ETHD_ENOMEM;
    }
    /* Blinding against side channels in signing and key generation. */
    uint8_t seed[32];
    int rc = ethd_random_bytes(seed, sizeof seed);
    if (rc == 0 && !secp256k1_context_randomize(s->ctx, seed))
        rc = ETHD_ECRYPTO;
    explicit_bzero(seed, sizeof seed);
    if (rc != 0) {
        secp256k1_context_destroy(s->ctx);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void ethd_secp_free(struct ethd_secp *secp)
{
    if (secp == NULL)
        return;
    secp256k1_context_destroy(secp->ctx);
    free(secp);
}

int ethd_secp_keygen(const struct ethd_secp *secp, uint8_t seckey[ETHD_SECP_SECKEY_LEN])
{
    if (secp == NULL || seckey == NULL)
        return ETHD_EINVAL;
    /* A uniform 256-bit string is a valid scalar with probability ~1 - 2^-128;
     * the loop almost never repeats. */
    for (;;) {
        int rc = ethd_random_bytes(seckey, ETHD_SECP_SECKEY_LEN);
        if (rc != 0) {
            explicit_bzero(seckey, ETHD_SECP_SECKEY_LEN);
            return rc;
        }
        if (secp256k1_ec_seckey_verify(secp->ctx, seckey))
            return 0;
    }
}

int ethd_secp_seckey_check(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN])
{
    if (secp == NULL || seckey == NULL)
        return ETHD_EINVAL;
    return secp256k1_ec_seckey_verify(secp->ctx, seckey) ? 0 : ETHD_ECRYPTO;
}

/* libsecp256k1 point -> 64-byte X || Y. */
static void pub_to_bytes(const secp256k1_context *ctx, const secp256k1_pubkey *pk,
                         uint8_t pub[ETHD_SECP_PUBKEY_LEN])
{
    uint8_t ser[65];
    size_t len = sizeof ser;
    secp256k1_ec_pubkey_serialize(ctx, ser, &len, pk, SECP256K1_EC_UNCOMPRESSED);
    memcpy(pub, ser + 1, ETHD_SECP_PUBKEY_LEN);
}

/* 64-byte X || Y -> libsecp256k1 point; 0 if not on the curve. */
static int pub_from_bytes(const secp256k1_context *ctx, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                          secp256k1_pubkey *pk)
{
    uint8_t ser[65];
    ser[0] = 0x04;
    memcpy(ser + 1, pub, ETHD_SECP_PUBKEY_LEN);
    return secp256k1_ec_pubkey_parse(ctx, pk, ser, sizeof ser);
}

int ethd_secp_pubkey(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN],
                     uint8_t pub[ETHD_SECP_PUBKEY_LEN])
{
    if (secp == NULL || seckey == NULL || pub == NULL)
        return ETHD_EINVAL;
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(secp->ctx, &pk, seckey))
        return ETHD_ECRYPTO;
    pub_to_bytes(secp->ctx, &pk, pub);
    return 0;
}

void ethd_secp_address(const uint8_t pub[ETHD_SECP_PUBKEY_LEN], uint8_t addr[ETHD_SECP_ADDR_LEN])
{
    uint8_t h[ETHD_KECCAK256_LEN];
    ethd_keccak256(pub, ETHD_SECP_PUBKEY_LEN, h);
    memcpy(addr, h + ETHD_KECCAK256_LEN - ETHD_SECP_ADDR_LEN, ETHD_SECP_ADDR_LEN);
}

int ethd_secp_pubkey_parse(const struct ethd_secp *secp, const uint8_t *in, size_t len,
                           uint8_t pub[ETHD_SECP_PUBKEY_LEN])
{
    if (secp == NULL || in == NULL || pub == NULL)
        return ETHD_EINVAL;
    secp256k1_pubkey pk;
    int ok;
    if (len == ETHD_SECP_PUBKEY_LEN) {
        ok = pub_from_bytes(secp->ctx, in, &pk);
    } else if (len == 65 || len == ETHD_SECP_PUBKEY_COMPRESSED_LEN) {
        /* libsecp256k1 would also take the hybrid 0x06/0x07 65-byte forms;
         * nothing in Ethereum sends them, so only 0x04 and 0x02/0x03 pass. */
        if (len == 65 && in[0] != 0x04)
            return ETHD_ECRYPTO;
        if (len == 33 && in[0] != 0x02 && in[0] != 0x03)
            return ETHD_ECRYPTO;
        ok = secp256k1_ec_pubkey_parse(secp->ctx, &pk, in, len);
    } else {
        return ETHD_EINVAL;
    }
    if (!ok)
        return ETHD_ECRYPTO;
    pub_to_bytes(secp->ctx, &pk, pub);
    return 0;
}

int ethd_secp_pubkey_check(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN])
{
    if (secp == NULL || pub == NULL)
        return ETHD_EINVAL;
    secp256k1_pubkey pk;
    return pub_from_bytes(secp->ctx, pub, &pk) ? 0 : ETHD_ECRYPTO;
}

int ethd_secp_pubkey_compress(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                              uint8_t out[ETHD_SECP_PUBKEY_COMPRESSED_LEN])
{
    if (secp == NULL || pub == NULL || out == NULL)
        return ETHD_EINVAL;
    secp256k1_pubkey pk;
    if (!pub_from_bytes(secp->ctx, pub, &pk))
        return ETHD_ECRYPTO;
    size_t len = ETHD_SECP_PUBKEY_COMPRESSED_LEN;
    secp256k1_ec_pubkey_serialize(secp->ctx, out, &len, &pk, SECP256K1_EC_COMPRESSED);
    return 0;
}

int ethd_secp_sign(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN],
                   const uint8_t hash[ETHD_SECP_HASH_LEN], uint8_t sig[ETHD_SECP_SIG_LEN])
{
    if (secp == NULL || seckey == NULL || hash == NULL || sig == NULL)
        return ETHD_EINVAL;
    secp256k1_ecdsa_recoverable_signature rs;
    /* NULL nonce function = RFC 6979; libsecp256k1 always emits low s. */
    if (!secp256k1_ecdsa_sign_recoverable(secp->ctx, &rs, hash, seckey, NULL, NULL))
        return ETHD_ECRYPTO;
    int recid = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(secp->ctx, sig, &recid, &rs);
    sig[64] = (uint8_t)recid;
    return 0;
}

int ethd_secp_recover(const struct ethd_secp *secp, const uint8_t hash[ETHD_SECP_HASH_LEN],
                      const uint8_t *sig, size_t sig_len, uint8_t pub[ETHD_SECP_PUBKEY_LEN])
{
    if (secp == NULL || hash == NULL || sig == NULL || pub == NULL)
        return ETHD_EINVAL;
    if (sig_len != ETHD_SECP_SIG_LEN)
        return ETHD_EINVAL;
    if (sig[64] > 3)
        return ETHD_ECRYPTO;
    secp256k1_ecdsa_recoverable_signature rs;
    /* Parsing rejects r or s >= n; recovery rejects r or s == 0. */
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(secp->ctx, &rs, sig, sig[64]))
        return ETHD_ECRYPTO;
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(secp->ctx, &pk, &rs, hash))
        return ETHD_ECRYPTO;
    pub_to_bytes(secp->ctx, &pk, pub);
    return 0;
}

/* Parse r || s (first 64 bytes of a 64/65-byte signature); rejects r or s
 * out of [1, n-1]. */
static int parse_rs(const secp256k1_context *ctx, const uint8_t *sig, size_t sig_len,
                    secp256k1_ecdsa_signature *out)
{
    static const uint8_t zero[32];
    if (sig_len != 64 && sig_len != ETHD_SECP_SIG_LEN)
        return ETHD_EINVAL;
    /* parse_compact accepts zero r/s (only overflow is an encoding error). */
    if (memcmp(sig, zero, 32) == 0 || memcmp(sig + 32, zero, 32) == 0)
        return ETHD_ECRYPTO;
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, out, sig))
        return ETHD_ECRYPTO;
    return 0;
}

int ethd_secp_verify(const struct ethd_secp *secp, const uint8_t pub[ETHD_SECP_PUBKEY_LEN],
                     const uint8_t hash[ETHD_SECP_HASH_LEN], const uint8_t *sig, size_t sig_len)
{
    if (secp == NULL || pub == NULL || hash == NULL || sig == NULL)
        return ETHD_EINVAL;
    secp256k1_ecdsa_signature es;
    int rc = parse_rs(secp->ctx, sig, sig_len, &es);
    if (rc != 0)
        return rc;
    secp256k1_pubkey pk;
    if (!pub_from_bytes(secp->ctx, pub, &pk))
        return ETHD_ECRYPTO;
    return secp256k1_ecdsa_verify(secp->ctx, &es, hash, &pk) ? 0 : ETHD_ECRYPTO;
}

int ethd_secp_sig_check_low_s(const struct ethd_secp *secp, const uint8_t *sig, size_t sig_len)
{
    if (secp == NULL || sig == NULL)
        return ETHD_EINVAL;
    secp256k1_ecdsa_signature es;
    int rc = parse_rs(secp->ctx, sig, sig_len, &es);
    if (rc != 0)
        return rc;
    /* normalize returns 1 exactly when s was above n/2. */
    return secp256k1_ecdsa_signature_normalize(secp->ctx, NULL, &es) ? ETHD_ECRYPTO : 0;
}

/* ECDH "hash" that keeps the raw x-coordinate: RLPx and ECIES feed x into
 * their own KDFs (rlpx.md, "ECIES Encryption" and "Secrets"). */
static int ecdh_copy_x(unsigned char *output, const unsigned char *x32, const unsigned char *y32,
                       void *data)
{
    (void)y32;
    (void)data;
    memcpy(output, x32, 32);
    return 1;
}

int ethd_secp_ecdh(const struct ethd_secp *secp, const uint8_t seckey[ETHD_SECP_SECKEY_LEN],
                   const uint8_t pub[ETHD_SECP_PUBKEY_LEN], uint8_t x[ETHD_SECP_ECDH_LEN])
{
    if (secp == NULL || seckey == NULL || pub == NULL || x == NULL)
        return ETHD_EINVAL;
    secp256k1_pubkey pk;
    if (!pub_from_bytes(secp->ctx, pub, &pk))
        return ETHD_ECRYPTO;
    if (!secp256k1_ecdh(secp->ctx, x, &pk, seckey, ecdh_copy_x, NULL))
        return ETHD_ECRYPTO;
    return 0;
}
