/* secp256k1 wrappers: key -> address and the signature of keccak256("")
 * from $ETHD_VECTORS/crypto/keyaddrtest.json (incl. recovery from the
 * vector's own, possibly high-s, signature), round trips over random keys,
 * ECDH symmetry and an independent ECDH check through libsecp256k1's scalar
 * multiplication, public-key formats, and every bad-input path. */
#include "testutil.h"

#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <check.h>
#include <jansson.h>
#include <secp256k1.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Group order n and n/2, big-endian. */
static const uint8_t N[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};
static const uint8_t HALF_N[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

static struct ethd_secp *secp;

static void setup(void)
{
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    ck_assert_ptr_nonnull(secp);
}

static void teardown(void)
{
    ethd_secp_free(secp);
    secp = NULL;
}

/* out = n - s (s != 0). */
static void n_minus(const uint8_t s[32], uint8_t out[32])
{
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int v = N[i] - s[i] - borrow;
        borrow = v < 0;
        out[i] = (uint8_t)(v + (borrow ? 256 : 0));
    }
}

/* keyaddrtest.json: key = keccak256(seed) and key -> address are checked
 * as given. The file's sig_of_emptystring values are NOT usable: for
 * neither key does (r, s) with recovery id v-27 (or the other id) recover
 * to the key's address over keccak256(""), nor over any other plausible
 * message we tried (keccak256(seed), sha256(""), double-SHA-256, zero hash,
 * the key itself, r/s swapped). Other clients came to the same conclusion
 * (Nethermind ignores the check as "test values seem wrong"; the Haskell
 * client's upstream test has a FIXME for it). So for the signature we check
 * (a) that the published r, s are well-formed scalars, (b) that they do not
 * recover to the address (pinning the upstream defect, so nobody "fixes"
 * recovery to match), and (c) our deterministic signature of keccak256("")
 * against RFC 6979 known answers computed independently with OpenSSL 3.0
 * (python cryptography, deterministic_signing=True, low-s normalised). */
static const char *const rfc6979_empty[2] = {
    "969c6401753252baddcfba4ed7aa993988ed1a4bf5af7f527126d82b4e7ba45c"
    "24f291dc14754f97176c24c9842e2b82af72f2c8c8f7a931e0cd4611809007a3",
    "58fd4b32b2c39a166115aec2ef0bb2f97011947ae148039a4732d929ba206d22"
    "6b11516cc80ead13ded1bd3fc6fde562177801b75e1506d2a71d86ef7b6f5b97",
};

START_TEST(test_keyaddr_vectors)
{
    json_t *root = tu_load_vectors("crypto/keyaddrtest.json");
    ck_assert(json_is_array(root));
    ck_assert_uint_eq(json_array_size(root), 2);
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v) {
        const char *seed = json_string_value(json_object_get(v, "seed"));
        ck_assert_ptr_nonnull(seed);
        uint8_t key[32], addr[20], pub[64], got_addr[20], h[32];
        tu_hex_fixed(tu_jstr(v, "key"), key, 32);
        tu_hex_fixed(tu_jstr(v, "addr"), addr, 20);
        ethd_keccak256(seed, strlen(seed), h);
        ck_assert_mem_eq(h, key, 32);

        ck_assert_int_eq(ethd_secp_seckey_check(secp, key), 0);
        ck_assert_int_eq(ethd_secp_pubkey(secp, key, pub), 0);
        ethd_secp_address(pub, got_addr);
        ck_assert_mem_eq(got_addr, addr, 20);

        /* (a), (b): the published signature. */
        json_t *sv = json_object_get(v, "sig_of_emptystring");
        uint8_t vsig[65], rec[64], rec_addr[20];
        tu_dec_to_be(tu_jstr(sv, "r"), vsig, 32);
        tu_dec_to_be(tu_jstr(sv, "s"), vsig + 32, 32);
        int vv = atoi(json_string_value(json_object_get(sv, "v")));
        ck_assert(vv == 27 || vv == 28);
        ck_assert_int_lt(memcmp(vsig, N, 32), 0);
        ck_assert_int_lt(memcmp(vsig + 32, N, 32), 0);
        for (int id = 0; id < 2; id++) {
            vsig[64] = (uint8_t)id;
            int rc = ethd_secp_recover(secp, ethd_keccak256_empty, vsig, 65, rec);
            ck_assert_int_eq(rc, 0); /* well-formed, so some key recovers */
            ethd_secp_address(rec, rec_addr);
            ck_assert_msg(memcmp(rec_addr, addr, 20) != 0,
                          "upstream sig_of_emptystring now recovers: revisit this test");
        }

        /* (c): our signature of keccak256(""). */
        uint8_t sig[65], want[64];
        tu_hex_fixed(rfc6979_empty[i], want, 64);
        ck_assert_int_eq(ethd_secp_sign(secp, key, ethd_keccak256_empty, sig), 0);
        ck_assert_mem_eq(sig, want, 64);
        ck_assert_uint_le(sig[64], 1);
        ck_assert_int_eq(ethd_secp_sig_check_low_s(secp, sig, 65), 0);
        ck_assert_int_eq(ethd_secp_verify(secp, pub, ethd_keccak256_empty, sig, 65), 0);
        ck_assert_int_eq(ethd_secp_verify(secp, pub, ethd_keccak256_empty, sig, 64), 0);
        ck_assert_int_eq(ethd_secp_recover(secp, ethd_keccak256_empty, sig, 65, rec), 0);
        ck_assert_mem_eq(rec, pub, 64);
        ethd_secp_address(rec, rec_addr);
        ck_assert_mem_eq(rec_addr, addr, 20);

        /* The high-s twin (n - s, other recovery id) recovers the same key:
         * recovery accepts high s; verify and the low-s check refuse it. */
        uint8_t hs[65];
        memcpy(hs, sig, 32);
        n_minus(sig + 32, hs + 32);
        ck_assert_int_gt(memcmp(hs + 32, HALF_N, 32), 0);
        hs[64] = sig[64] ^ 1;
        ck_assert_int_eq(ethd_secp_recover(secp, ethd_keccak256_empty, hs, 65, rec), 0);
        ck_assert_mem_eq(rec, pub, 64);
        ck_assert_int_eq(ethd_secp_verify(secp, pub, ethd_keccak256_empty, hs, 65), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_sig_check_low_s(secp, hs, 65), ETHD_ECRYPTO);
    }
    json_decref(root);
}
END_TEST

START_TEST(test_random_roundtrip)
{
    for (int i = 0; i < 64; i++) {
        uint8_t ka[32], kb[32], pa[64], pb[64], hash[32], sig[65], rec[64];
        ck_assert_int_eq(ethd_secp_keygen(secp, ka), 0);
        ck_assert_int_eq(ethd_secp_keygen(secp, kb), 0);
        ck_assert_int_ne(memcmp(ka, kb, 32), 0);
        ck_assert_int_eq(ethd_secp_seckey_check(secp, ka), 0);
        ck_assert_int_eq(ethd_secp_pubkey(secp, ka, pa), 0);
        ck_assert_int_eq(ethd_secp_pubkey(secp, kb, pb), 0);
        ck_assert_int_eq(ethd_secp_pubkey_check(secp, pa), 0);
        tu_rand_bytes(hash, sizeof hash);

        ck_assert_int_eq(ethd_secp_sign(secp, ka, hash, sig), 0);
        ck_assert_uint_le(sig[64], 1);
        ck_assert_int_eq(ethd_secp_sig_check_low_s(secp, sig, 65), 0);
        ck_assert_int_eq(ethd_secp_recover(secp, hash, sig, 65, rec), 0);
        ck_assert_mem_eq(rec, pa, 64);
        ck_assert_int_eq(ethd_secp_verify(secp, pa, hash, sig, 65), 0);
        ck_assert_int_eq(ethd_secp_verify(secp, pb, hash, sig, 65), ETHD_ECRYPTO);
        /* Deterministic signing. */
        uint8_t sig2[65];
        ck_assert_int_eq(ethd_secp_sign(secp, ka, hash, sig2), 0);
        ck_assert_mem_eq(sig, sig2, 65);

        /* Other hash: verify fails, recovery yields some other key. */
        uint8_t h2[32];
        memcpy(h2, hash, 32);
        h2[0] ^= 1;
        ck_assert_int_eq(ethd_secp_verify(secp, pa, h2, sig, 65), ETHD_ECRYPTO);
        int rc = ethd_secp_recover(secp, h2, sig, 65, rec);
        ck_assert(rc == ETHD_ECRYPTO || (rc == 0 && memcmp(rec, pa, 64) != 0));

        /* Flipping v recovers the other candidate key, never ours. */
        sig[64] ^= 1;
        rc = ethd_secp_recover(secp, hash, sig, 65, rec);
        ck_assert(rc == ETHD_ECRYPTO || (rc == 0 && memcmp(rec, pa, 64) != 0));
        sig[64] ^= 1;

        /* The high-s twin recovers the same key; verify and low-s reject it. */
        uint8_t hs[65];
        memcpy(hs, sig, 65);
        n_minus(sig + 32, hs + 32);
        hs[64] ^= 1;
        ck_assert_int_eq(ethd_secp_recover(secp, hash, hs, 65, rec), 0);
        ck_assert_mem_eq(rec, pa, 64);
        ck_assert_int_eq(ethd_secp_verify(secp, pa, hash, hs, 65), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_sig_check_low_s(secp, hs, 65), ETHD_ECRYPTO);

        /* ECDH symmetry. */
        uint8_t xab[32], xba[32];
        ck_assert_int_eq(ethd_secp_ecdh(secp, ka, pb, xab), 0);
        ck_assert_int_eq(ethd_secp_ecdh(secp, kb, pa, xba), 0);
        ck_assert_mem_eq(xab, xba, 32);
    }
}
END_TEST

/* ECDH must be the raw x of a*B: compare with the x of (a*b mod n)*G. */
START_TEST(test_ecdh_raw_x)
{
    secp256k1_context *raw = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    ck_assert_ptr_nonnull(raw);
    for (int i = 0; i < 16; i++) {
        uint8_t ka[32], kb[32], pb[64], x[32], ab[32], pab[64];
        ck_assert_int_eq(ethd_secp_keygen(secp, ka), 0);
        ck_assert_int_eq(ethd_secp_keygen(secp, kb), 0);
        ck_assert_int_eq(ethd_secp_pubkey(secp, kb, pb), 0);
        ck_assert_int_eq(ethd_secp_ecdh(secp, ka, pb, x), 0);
        memcpy(ab, ka, 32);
        ck_assert_int_eq(secp256k1_ec_seckey_tweak_mul(raw, ab, kb), 1);
        ck_assert_int_eq(ethd_secp_pubkey(secp, ab, pab), 0);
        ck_assert_mem_eq(x, pab, 32);
    }
    secp256k1_context_destroy(raw);
}
END_TEST

START_TEST(test_pubkey_formats)
{
    uint8_t k[32], p[64], c[33], q[64], u[65];
    ck_assert_int_eq(ethd_secp_keygen(secp, k), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, k, p), 0);
    ck_assert_int_eq(ethd_secp_pubkey_compress(secp, p, c), 0);
    ck_assert(c[0] == 0x02 || c[0] == 0x03);
    ck_assert_mem_eq(c + 1, p, 32);
    ck_assert_uint_eq(c[0] & 1, p[63] & 1); /* parity of y */
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, c, 33, q), 0);
    ck_assert_mem_eq(q, p, 64);
    u[0] = 0x04;
    memcpy(u + 1, p, 64);
    memset(q, 0, sizeof q);
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, u, 65, q), 0);
    ck_assert_mem_eq(q, p, 64);
    memset(q, 0, sizeof q);
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, p, 64, q), 0);
    ck_assert_mem_eq(q, p, 64);

    /* Generator point: private key 1 -> G (SEC 2, 2.4.1). */
    uint8_t one[32] = {0};
    one[31] = 1;
    uint8_t g[64];
    ck_assert_int_eq(ethd_secp_pubkey(secp, one, g), 0);
    char hx[129];
    ethd_hex_encode_bare(g, 64, hx);
    ck_assert_str_eq(hx, "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                         "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
}
END_TEST

START_TEST(test_bad_seckeys)
{
    uint8_t zero[32] = {0}, ff[32], nn[32], nm1[32], p[64], sig[65], x[32], h[32] = {1};
    memset(ff, 0xff, sizeof ff);
    memcpy(nn, N, 32);
    memcpy(nm1, N, 32);
    nm1[31] -= 1;
    uint8_t k[32], pk[64];
    ck_assert_int_eq(ethd_secp_keygen(secp, k), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, k, pk), 0);

    const uint8_t *bad[] = {zero, ff, nn};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(ethd_secp_seckey_check(secp, bad[i]), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_pubkey(secp, bad[i], p), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_sign(secp, bad[i], h, sig), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_ecdh(secp, bad[i], pk, x), ETHD_ECRYPTO);
    }
    /* n - 1 is the largest valid key. */
    ck_assert_int_eq(ethd_secp_seckey_check(secp, nm1), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, nm1, p), 0);
    ck_assert_int_eq(ethd_secp_sign(secp, nm1, h, sig), 0);
}
END_TEST

START_TEST(test_bad_pubkeys)
{
    uint8_t k[32], p[64], bad[64], x[32], c[33], out[64], h[32] = {7}, sig[65];
    ck_assert_int_eq(ethd_secp_keygen(secp, k), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, k, p), 0);
    ck_assert_int_eq(ethd_secp_sign(secp, k, h, sig), 0);

    uint8_t zeros[64] = {0};
    memcpy(bad, p, 64);
    bad[63] ^= 1; /* y no longer matches x */
    const uint8_t *cases[] = {zeros, bad};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(ethd_secp_pubkey_check(secp, cases[i]), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_ecdh(secp, k, cases[i], x), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_pubkey_compress(secp, cases[i], c), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_pubkey_parse(secp, cases[i], 64, out), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_verify(secp, cases[i], h, sig, 65), ETHD_ECRYPTO);
    }
    /* Wrong lengths and prefixes. */
    uint8_t u[65];
    u[0] = 0x04;
    memcpy(u + 1, p, 64);
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, u, 63, out), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, u, 0, out), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, u, 66, out), ETHD_EINVAL);
    u[0] = 0x05;
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, u, 65, out), ETHD_ECRYPTO);
    u[0] = 0x06 | (p[63] & 1); /* hybrid form: valid for libsecp256k1, not for us */
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, u, 65, out), ETHD_ECRYPTO);
    ck_assert_int_eq(ethd_secp_pubkey_compress(secp, p, c), 0);
    c[0] = 0x04;
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, c, 33, out), ETHD_ECRYPTO);
    /* x = 5 is not the x of any curve point (5^3 + 7 = 132 is a non-residue
     * mod p); as a compressed key it must fail. */
    memset(c, 0, sizeof c);
    c[0] = 0x02;
    c[32] = 5;
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, c, 33, out), ETHD_ECRYPTO);
}
END_TEST

START_TEST(test_bad_signatures)
{
    uint8_t k[32], p[64], h[32], sig[65], bad[65], rec[64];
    tu_rand_bytes(h, sizeof h);
    ck_assert_int_eq(ethd_secp_keygen(secp, k), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, k, p), 0);
    ck_assert_int_eq(ethd_secp_sign(secp, k, h, sig), 0);

    /* v out of range. */
    memcpy(bad, sig, 65);
    for (int v = 4; v < 256; v += 23) {
        bad[64] = (uint8_t)v;
        ck_assert_int_eq(ethd_secp_recover(secp, h, bad, 65, rec), ETHD_ECRYPTO);
    }
    bad[64] = 27; /* the transaction form must be converted by the caller */
    ck_assert_int_eq(ethd_secp_recover(secp, h, bad, 65, rec), ETHD_ECRYPTO);

    /* Truncated / overlong. */
    ck_assert_int_eq(ethd_secp_recover(secp, h, sig, 64, rec), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_recover(secp, h, sig, 0, rec), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_recover(secp, h, sig, 66, rec), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_verify(secp, p, h, sig, 63), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_verify(secp, p, h, sig, 66), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_sig_check_low_s(secp, sig, 32), ETHD_EINVAL);

    /* r = 0, s = 0, r = n, s = n, s = 2^256-1. */
    struct { int off; const uint8_t *val; } cases[5];
    static const uint8_t zero[32];
    uint8_t ff[32];
    memset(ff, 0xff, sizeof ff);
    cases[0].off = 0; cases[0].val = zero;
    cases[1].off = 32; cases[1].val = zero;
    cases[2].off = 0; cases[2].val = N;
    cases[3].off = 32; cases[3].val = N;
    cases[4].off = 32; cases[4].val = ff;
    for (size_t i = 0; i < 5; i++) {
        memcpy(bad, sig, 65);
        memcpy(bad + cases[i].off, cases[i].val, 32);
        ck_assert_int_eq(ethd_secp_recover(secp, h, bad, 65, rec), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_verify(secp, p, h, bad, 65), ETHD_ECRYPTO);
        ck_assert_int_eq(ethd_secp_sig_check_low_s(secp, bad, 65), ETHD_ECRYPTO);
    }
    /* s = n/2 is the largest low s; n/2 + 1 is high. */
    memcpy(bad, sig, 65);
    memcpy(bad + 32, HALF_N, 32);
    ck_assert_int_eq(ethd_secp_sig_check_low_s(secp, bad, 65), 0);
    bad[63] += 1;
    ck_assert_int_eq(ethd_secp_sig_check_low_s(secp, bad, 65), ETHD_ECRYPTO);

    /* A corrupted r changes (or kills) the recovered key. */
    memcpy(bad, sig, 65);
    bad[5] ^= 0x40;
    int rc = ethd_secp_recover(secp, h, bad, 65, rec);
    ck_assert(rc == ETHD_ECRYPTO || (rc == 0 && memcmp(rec, p, 64) != 0));
}
END_TEST

START_TEST(test_null_args)
{
    uint8_t k[32] = {1}, p[64], h[32] = {0}, sig[65] = {0}, x[32];
    ck_assert_int_eq(ethd_secp_new(NULL), ETHD_EINVAL);
    ethd_secp_free(NULL);
    ck_assert_int_eq(ethd_secp_keygen(NULL, k), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_pubkey(NULL, k, p), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_sign(secp, k, NULL, sig), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_recover(secp, h, NULL, 65, p), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_ecdh(secp, k, NULL, x), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_pubkey_parse(secp, NULL, 64, p), ETHD_EINVAL);
    ck_assert_int_eq(ethd_secp_verify(NULL, p, h, sig, 65), ETHD_EINVAL);
}
END_TEST

START_TEST(test_address_known)
{
    /* Private key 1 -> address 0x7e5f4552091a69125d5dfcb7b8c2659029395bdf
     * (a widely published value: the address of G). */
    uint8_t one[32] = {0}, p[64], a[20];
    one[31] = 1;
    ck_assert_int_eq(ethd_secp_pubkey(secp, one, p), 0);
    ethd_secp_address(p, a);
    char hx[41];
    ethd_hex_encode_bare(a, 20, hx);
    ck_assert_str_eq(hx, "7e5f4552091a69125d5dfcb7b8c2659029395bdf");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("secp256k1");
    TCase *tc = tcase_create("vectors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_keyaddr_vectors);
    tcase_add_test(tc, test_address_known);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_random_roundtrip);
    tcase_add_test(tc, test_ecdh_raw_x);
    tcase_add_test(tc, test_pubkey_formats);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_input");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_bad_seckeys);
    tcase_add_test(tc, test_bad_pubkeys);
    tcase_add_test(tc, test_bad_signatures);
    tcase_add_test(tc, test_null_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
