/* RLPx ECIES: the crypto.json cases ($ETHD_VECTORS/crypto), every auth and
 * ack message of the EIP-8 handshake vectors ($ETHD_VECTORS/rlpx) decrypted
 * with the right static key and their plaintexts checked field by field,
 * the values in `derived_not_in_source` reproduced with our secp code, round
 * trips, and the failure paths (tampering, truncation, bad points). */
#include "crypto/ecies.h"

#include "testutil.h"

#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static struct ethd_secp *secp;

static void setup(void)
{
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
}

static void teardown(void)
{
    ethd_secp_free(secp);
    secp = NULL;
}

/* ------------------------------------------------------------------ */
/* crypto.json                                                         */

/* "ecies1" (decryption_type "ecies_sec1_altered") is the construction RLPx
 * uses: its 210-byte cipher is 0x04 || R || iv || c || d with 97 bytes of
 * plaintext, laid out like a pre-EIP-8 ack (ephemeral pubkey || nonce ||
 * 0x00); it decrypts under our ECIES with empty shared-mac-data.
 * "aes1" (decryption_type "aes_ctr") is AES-256-CTR with an all-zero
 * counter block (the 32-byte key selects AES-256; the file has no iv, and
 * zero is the one that reproduces the payload), i.e. the RLPx frame cipher
 * form; it goes through ethd_ecies_aes_ctr. */
START_TEST(test_crypto_json)
{
    json_t *root = tu_load_vectors("crypto/crypto.json");
    ck_assert_uint_eq(json_object_size(root), 2);
    const char *name;
    json_t *c;
    int seen_ecies = 0, seen_aes = 0;
    json_object_foreach(root, name, c) {
        const char *type = tu_jstr(c, "decryption_type");
        size_t klen, clen, plen;
        uint8_t *key = tu_hex_alloc(tu_jstr(c, "key"), &klen);
        uint8_t *cipher = tu_hex_alloc(tu_jstr(c, "cipher"), &clen);
        uint8_t *payload = tu_hex_alloc(tu_jstr(c, "payload"), &plen);
        uint8_t *out = malloc(clen + 1);
        ck_assert_ptr_nonnull(out);
        size_t olen = 0;
        if (strcmp(type, "ecies_sec1_altered") == 0) {
            ck_assert_uint_eq(klen, 32);
            ck_assert_uint_eq(ethd_ecies_plain_len(clen), plen);
            ck_assert_int_eq(ethd_ecies_decrypt(secp, key, cipher, clen, NULL, 0, out, clen, &olen),
                             0);
            ck_assert_uint_eq(olen, plen);
            ck_assert_mem_eq(out, payload, plen);
            /* The plaintext is an old-style ack: a valid public key first. */
            ck_assert_uint_eq(plen, 97);
            ck_assert_int_eq(ethd_secp_pubkey_check(secp, out), 0);
            ck_assert_uint_eq(out[96], 0);
            /* A wrong shared-mac-data breaks the MAC. */
            ck_assert_int_eq(
                ethd_ecies_decrypt(secp, key, cipher, clen, (const uint8_t *)"x", 1, out, clen, &olen),
                ETHD_ECRYPTO);
            seen_ecies++;
        } else if (strcmp(type, "aes_ctr") == 0) {
            static const uint8_t zero_iv[16];
            ck_assert_uint_eq(clen, plen);
            ck_assert_int_eq(ethd_ecies_aes_ctr(key, klen, zero_iv, cipher, out, clen), 0);
            ck_assert_mem_eq(out, payload, plen);
            /* Encryption is the same operation, and in place works. */
            memcpy(out, payload, plen);
            ck_assert_int_eq(ethd_ecies_aes_ctr(key, klen, zero_iv, out, out, plen), 0);
            ck_assert_mem_eq(out, cipher, clen);
            seen_aes++;
        } else {
            ck_abort_msg("unknown decryption_type %s in case %s", type, name);
        }
        free(key);
        free(cipher);
        free(payload);
        free(out);
    }
    ck_assert_int_eq(seen_ecies, 1);
    ck_assert_int_eq(seen_aes, 1);
    json_decref(root);
}
END_TEST

/* AES-128-CTR known answer: NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt). */
START_TEST(test_aes_ctr_sp800_38a)
{
    uint8_t key[16], iv[16], pt[64], ct[64], out[64];
    tu_hex_fixed("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
    tu_hex_fixed("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", iv, 16);
    tu_hex_fixed("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
              "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
              pt, 64);
    tu_hex_fixed("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
              "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
              ct, 64);
    ck_assert_int_eq(ethd_ecies_aes_ctr(key, 16, iv, pt, out, 64), 0);
    ck_assert_mem_eq(out, ct, 64);
    /* Odd length: the keystream prefix. */
    ck_assert_int_eq(ethd_ecies_aes_ctr(key, 16, iv, pt, out, 21), 0);
    ck_assert_mem_eq(out, ct, 21);
    ck_assert_int_eq(ethd_ecies_aes_ctr(key, 15, iv, pt, out, 16), ETHD_EINVAL);
    ck_assert_int_eq(ethd_ecies_aes_ctr(key, 0, iv, pt, out, 16), ETHD_EINVAL);
    ck_assert_int_eq(ethd_ecies_aes_ctr(key, 16, iv, NULL, NULL, 0), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* EIP-8 handshake vectors                                             */

/* Decrypt message `name`; EIP-8 messages carry a 2-byte size prefix that is
 * the shared-mac-data. Returns the malloc'd plaintext (caller frees) and
 * also the whole message (caller frees). */
static uint8_t *hs_decrypt(struct tu_eip8 *h, const char *name, const uint8_t *key, bool eip8,
                           size_t *plen, uint8_t **msg_out, size_t *msg_len)
{
    size_t len;
    uint8_t *msg = tu_eip8_msg(h, name, &len);
    const uint8_t *body = msg, *mac = NULL;
    size_t body_len = len, mac_len = 0;
    if (eip8) {
        size_t size = (size_t)msg[0] << 8 | msg[1];
        ck_assert_uint_eq(size, len - 2);
        mac = msg;
        mac_len = 2;
        body = msg + 2;
        body_len = len - 2;
        /* Without the prefix as MAC data the message does not authenticate. */
        uint8_t tmp[1024];
        size_t tl;
        ck_assert_uint_le(body_len, sizeof tmp);
        ck_assert_int_eq(ethd_ecies_decrypt(secp, key, body, body_len, NULL, 0, tmp, sizeof tmp, &tl),
                         ETHD_ECRYPTO);
    } else {
        ck_assert(msg[0] == 0x04);
    }
    uint8_t *out = malloc(body_len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(ethd_ecies_decrypt(secp, key, body, body_len, mac, mac_len, out, body_len, plen),
                     0);
    ck_assert_uint_eq(*plen, body_len - ETHD_ECIES_OVERHEAD);
    *msg_out = msg;
    *msg_len = len;
    return out;
}

/* The auth signature is over static-shared-secret XOR nonce-A and must
 * recover A's ephemeral public key (rlpx.md, "Initial Handshake"). */
static void check_auth_sig(struct tu_eip8 *h, const uint8_t sig[65])
{
    uint8_t ss[32], msg[32], rec[64];
    ck_assert_int_eq(ethd_secp_ecdh(secp, h->sb, h->pa, ss), 0);
    for (int i = 0; i < 32; i++)
        msg[i] = ss[i] ^ h->na[i];
    ck_assert_int_eq(ethd_secp_recover(secp, msg, sig, 65, rec), 0);
    ck_assert_mem_eq(rec, h->epa, 64);
}

START_TEST(test_eip8_auth_pre_eip8)
{
    struct tu_eip8 h;
    tu_eip8_load(secp, &h);
    size_t plen, mlen;
    uint8_t *msg;
    uint8_t *p = hs_decrypt(&h, "auth1_a_to_b_pre_eip8", h.sb, false, &plen, &msg, &mlen);
    /* sig[65] || keccak256(ephemeral-pubk-A)[32] || pubk-A[64] || nonce-A[32] || 0x00 */
    ck_assert_uint_eq(plen, 194);
    check_auth_sig(&h, p);
    uint8_t hepk[32];
    ethd_keccak256(h.epa, 64, hepk);
    ck_assert_mem_eq(p + 65, hepk, 32);
    ck_assert_mem_eq(p + 97, h.pa, 64);
    ck_assert_mem_eq(p + 161, h.na, 32);
    ck_assert_uint_eq(p[193], 0x00);
    /* The initiator's static key A cannot open a message meant for B. */
    uint8_t out[256];
    size_t ol;
    ck_assert_int_eq(ethd_ecies_decrypt(secp, h.sa, msg, mlen, NULL, 0, out, sizeof out, &ol),
                     ETHD_ECRYPTO);
    free(p);
    free(msg);
    json_decref(h.root);
}
END_TEST

/* RLP auth body: [sig, initiator-pubk, initiator-nonce, auth-vsn, ...]
 * followed by random padding. */
static void check_eip8_auth(const char *name, uint64_t want_vsn, size_t want_items)
{
    struct tu_eip8 h;
    tu_eip8_load(secp, &h);
    size_t plen, mlen;
    uint8_t *msg;
    uint8_t *p = hs_decrypt(&h, name, h.sb, true, &plen, &msg, &mlen);
    const uint8_t *cur = p;
    size_t left = plen;
    struct ethd_rlp_item list, it;
    ck_assert_int_eq(ethd_rlp_next(&cur, &left, &list), 0);
    ck_assert(list.is_list);
    ck_assert_uint_gt(left, 0); /* EIP-8 padding follows the list */
    size_t count;
    ck_assert_int_eq(ethd_rlp_list_count(&list, &count), 0);
    ck_assert_uint_eq(count, want_items);
    struct ethd_rlp_iter iter;
    ck_assert_int_eq(ethd_rlp_iter_init(&iter, &list), 0);
    uint8_t sig[65], pk[64], nonce[32];
    uint64_t vsn;
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &it), 0);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, sig, 65), 0);
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &it), 0);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, pk, 64), 0);
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &it), 0);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, nonce, 32), 0);
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &it), 0);
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &vsn), 0);
    ck_assert_mem_eq(pk, h.pa, 64);
    ck_assert_mem_eq(nonce, h.na, 32);
    ck_assert_uint_eq(vsn, want_vsn);
    check_auth_sig(&h, sig);
    free(p);
    free(msg);
    json_decref(h.root);
}

START_TEST(test_eip8_auth2)
{
    check_eip8_auth("auth2_a_to_b_eip8_version4", 4, 4);
}
END_TEST

START_TEST(test_eip8_auth3)
{
    check_eip8_auth("auth3_a_to_b_eip8_version56_3_extra_elements", 56, 7);
}
END_TEST

START_TEST(test_eip8_ack_pre_eip8)
{
    struct tu_eip8 h;
    tu_eip8_load(secp, &h);
    size_t plen, mlen;
    uint8_t *msg;
    uint8_t *p = hs_decrypt(&h, "ack1_b_to_a_pre_eip8", h.sa, false, &plen, &msg, &mlen);
    /* ephemeral-pubk-B[64] || nonce-B[32] || 0x00 */
    ck_assert_uint_eq(plen, 97);
    ck_assert_mem_eq(p, h.epb, 64);
    ck_assert_mem_eq(p + 64, h.nb, 32);
    ck_assert_uint_eq(p[96], 0x00);
    free(p);
    free(msg);
    json_decref(h.root);
}
END_TEST

/* RLP ack body: [recipient-ephemeral-pubk, recipient-nonce, ack-vsn, ...]. */
static void check_eip8_ack(const char *name, uint64_t want_vsn, size_t want_items)
{
    struct tu_eip8 h;
    tu_eip8_load(secp, &h);
    size_t plen, mlen;
    uint8_t *msg;
    uint8_t *p = hs_decrypt(&h, name, h.sa, true, &plen, &msg, &mlen);
    const uint8_t *cur = p;
    size_t left = plen;
    struct ethd_rlp_item list, it;
    ck_assert_int_eq(ethd_rlp_next(&cur, &left, &list), 0);
    ck_assert(list.is_list);
    size_t count;
    ck_assert_int_eq(ethd_rlp_list_count(&list, &count), 0);
    ck_assert_uint_eq(count, want_items);
    struct ethd_rlp_iter iter;
    ck_assert_int_eq(ethd_rlp_iter_init(&iter, &list), 0);
    uint8_t pk[64], nonce[32];
    uint64_t vsn;
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &it), 0);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, pk, 64), 0);
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &it), 0);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, nonce, 32), 0);
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &it), 0);
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &vsn), 0);
    ck_assert_mem_eq(pk, h.epb, 64);
    ck_assert_mem_eq(nonce, h.nb, 32);
    ck_assert_uint_eq(vsn, want_vsn);
    free(p);
    free(msg);
    json_decref(h.root);
}

START_TEST(test_eip8_ack2)
{
    check_eip8_ack("ack2_b_to_a_eip8_version4", 4, 3);
}
END_TEST

START_TEST(test_eip8_ack3)
{
    check_eip8_ack("ack3_b_to_a_eip8_version57_3_extra_elements", 57, 6);
}
END_TEST

/* derived_not_in_source: public keys, the ephemeral ECDH x, and the secrets
 * built from it (rlpx.md, "Secrets"), down to the EIP's aes/mac secrets and
 * ingress-mac("foo"). */
START_TEST(test_eip8_derived)
{
    struct tu_eip8 h;
    tu_eip8_load(secp, &h);
    json_t *d = json_object_get(h.root, "derived_not_in_source");
    uint8_t want[64], x[32], x2[32];
    tu_hex_fixed(tu_jstr(d, "static_pub_a"), want, 64);
    ck_assert_mem_eq(h.pa, want, 64);
    tu_hex_fixed(tu_jstr(d, "static_pub_b"), want, 64);
    ck_assert_mem_eq(h.pb, want, 64);
    tu_hex_fixed(tu_jstr(d, "ephemeral_pub_a"), want, 64);
    ck_assert_mem_eq(h.epa, want, 64);
    tu_hex_fixed(tu_jstr(d, "ephemeral_pub_b"), want, 64);
    ck_assert_mem_eq(h.epb, want, 64);

    tu_hex_fixed(tu_jstr(d, "ephemeral_shared_ecdh_x"), want, 32);
    ck_assert_int_eq(ethd_secp_ecdh(secp, h.ea, h.epb, x), 0);
    ck_assert_mem_eq(x, want, 32);
    ck_assert_int_eq(ethd_secp_ecdh(secp, h.eb, h.epa, x2), 0);
    ck_assert_mem_eq(x2, want, 32);

    /* shared = keccak(x || keccak(nonce_b || nonce_a)); aes = keccak(x ||
     * shared); mac = keccak(x || aes). */
    uint8_t buf[64], nh[32], shared[32], aes[32], mac[32];
    memcpy(buf, h.nb, 32);
    memcpy(buf + 32, h.na, 32);
    ethd_keccak256(buf, 64, nh);
    memcpy(buf, x, 32);
    memcpy(buf + 32, nh, 32);
    ethd_keccak256(buf, 64, shared);
    tu_hex_fixed(tu_jstr(d, "shared_secret"), want, 32);
    ck_assert_mem_eq(shared, want, 32);
    memcpy(buf + 32, shared, 32);
    ethd_keccak256(buf, 64, aes);
    memcpy(buf + 32, aes, 32);
    ethd_keccak256(buf, 64, mac);
    json_t *s = json_object_get(h.root, "secrets_for_auth2_ack2");
    tu_hex_fixed(tu_jstr(s, "aes_secret"), want, 32);
    ck_assert_mem_eq(aes, want, 32);
    tu_hex_fixed(tu_jstr(s, "mac_secret"), want, 32);
    ck_assert_mem_eq(mac, want, 32);

    /* ingress-mac of B after auth2 and "foo". */
    size_t alen;
    uint8_t *auth2 = tu_eip8_msg(&h, "auth2_a_to_b_eip8_version4", &alen);
    uint8_t seed[32], im[32];
    for (int i = 0; i < 32; i++)
        seed[i] = mac[i] ^ h.nb[i];
    struct ethd_keccak k;
    ethd_keccak_init(&k);
    ethd_keccak_update(&k, seed, 32);
    ethd_keccak_update(&k, auth2, alen);
    ethd_keccak_update(&k, "foo", 3);
    ethd_keccak_final(&k, im);
    tu_hex_fixed(tu_jstr(s, "ingress_mac_foo"), want, 32);
    ck_assert_mem_eq(im, want, 32);
    free(auth2);
    json_decref(h.root);
}
END_TEST

/* ------------------------------------------------------------------ */
/* round trips and failures                                            */

START_TEST(test_roundtrip)
{
    static const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 97, 194, 1000, 4096};
    uint8_t k[32], pub[64];
    ck_assert_int_eq(ethd_secp_keygen(secp, k), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, k, pub), 0);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        uint8_t *plain = malloc(n + 1), *ct = malloc(n + ETHD_ECIES_OVERHEAD),
                *ct2 = malloc(n + ETHD_ECIES_OVERHEAD), *back = malloc(n + 1);
        ck_assert(plain && ct && ct2 && back);
        tu_rand_bytes(plain, n + 1);
        uint8_t mac_data[2] = {(uint8_t)(n >> 8), (uint8_t)n};
        for (int with_mac = 0; with_mac < 2; with_mac++) {
            const uint8_t *md = with_mac ? mac_data : NULL;
            size_t ml = with_mac ? 2 : 0, cl = 0, bl = 0;
            ck_assert_uint_eq(ethd_ecies_encrypted_len(n), n + 113);
            ck_assert_int_eq(ethd_ecies_encrypt(secp, pub, plain, n, md, ml, ct,
                                                n + ETHD_ECIES_OVERHEAD, &cl),
                             0);
            ck_assert_uint_eq(cl, n + 113);
            ck_assert_uint_eq(ct[0], 0x04);
            ck_assert_int_eq(ethd_secp_pubkey_check(secp, ct + 1), 0);
            ck_assert_uint_eq(ethd_ecies_plain_len(cl), n);
            ck_assert_int_eq(ethd_ecies_decrypt(secp, k, ct, cl, md, ml, back, n, &bl), 0);
            ck_assert_uint_eq(bl, n);
            if (n > 0)
                ck_assert_mem_eq(back, plain, n);
            /* Fresh ephemeral key and iv each time. */
            ck_assert_int_eq(ethd_ecies_encrypt(secp, pub, plain, n, md, ml, ct2,
                                                n + ETHD_ECIES_OVERHEAD, &cl),
                             0);
            ck_assert_int_ne(memcmp(ct, ct2, 81), 0);
        }
        free(plain);
        free(ct);
        free(ct2);
        free(back);
    }
}
END_TEST

/* Fixed ephemeral key and iv give a reproducible message, whose parts are
 * where the spec puts them. */
START_TEST(test_encrypt_with_deterministic)
{
    uint8_t k[32], pub[64], eph[32], epub[64], iv[16], a[200], b[200];
    ck_assert_int_eq(ethd_secp_keygen(secp, k), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, k, pub), 0);
    ck_assert_int_eq(ethd_secp_keygen(secp, eph), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, eph, epub), 0);
    tu_rand_bytes(iv, sizeof iv);
    const char *m = "hello ethd";
    size_t al, bl;
    ck_assert_int_eq(ethd_ecies_encrypt_with(secp, pub, eph, iv, (const uint8_t *)m, 10, NULL, 0,
                                             a, sizeof a, &al),
                     0);
    ck_assert_int_eq(ethd_ecies_encrypt_with(secp, pub, eph, iv, (const uint8_t *)m, 10, NULL, 0,
                                             b, sizeof b, &bl),
                     0);
    ck_assert_uint_eq(al, 123);
    ck_assert_mem_eq(a, b, al);
    ck_assert_mem_eq(a + 1, epub, 64);
    ck_assert_mem_eq(a + 65, iv, 16);
    /* An invalid ephemeral key or recipient key is refused. */
    uint8_t zero[32] = {0}, badpub[64];
    memcpy(badpub, pub, 64);
    badpub[10] ^= 1;
    ck_assert_int_eq(ethd_ecies_encrypt_with(secp, pub, zero, iv, (const uint8_t *)m, 10, NULL, 0,
                                             a, sizeof a, &al),
                     ETHD_ECRYPTO);
    ck_assert_int_eq(ethd_ecies_encrypt(secp, badpub, (const uint8_t *)m, 10, NULL, 0, a, sizeof a,
                                        &al),
                     ETHD_ECRYPTO);
    /* Output buffer one byte short. */
    ck_assert_int_eq(ethd_ecies_encrypt(secp, pub, (const uint8_t *)m, 10, NULL, 0, a, 122, &al),
                     ETHD_ETOOBIG);
}
END_TEST

START_TEST(test_tamper)
{
    uint8_t k[32], pub[64], other[32];
    ck_assert_int_eq(ethd_secp_keygen(secp, k), 0);
    ck_assert_int_eq(ethd_secp_keygen(secp, other), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, k, pub), 0);
    uint8_t plain[50], ct[50 + ETHD_ECIES_OVERHEAD], bad[sizeof ct], out[64], sentinel[64];
    tu_rand_bytes(plain, sizeof plain);
    const uint8_t md[2] = {0x01, 0x02};
    size_t cl, ol;
    ck_assert_int_eq(ethd_ecies_encrypt(secp, pub, plain, sizeof plain, md, 2, ct, sizeof ct, &cl),
                     0);
    memset(sentinel, 0xa5, sizeof sentinel);

    /* Flip one bit in every byte position in turn: R (bad point or wrong
     * key), iv, c, d. All must fail, and `out` must stay untouched. */
    for (size_t i = 0; i < cl; i++) {
        memcpy(bad, ct, cl);
        bad[i] ^= (uint8_t)(1u << (i % 8));
        memcpy(out, sentinel, sizeof out);
        ol = 12345;
        int rc = ethd_ecies_decrypt(secp, k, bad, cl, md, 2, out, sizeof out, &ol);
        ck_assert_msg(rc == ETHD_ECRYPTO, "byte %zu: rc %d", i, rc);
        ck_assert_mem_eq(out, sentinel, sizeof out);
        ck_assert_uint_eq(ol, 12345);
    }
    /* Wrong shared-mac-data, missing mac data, wrong key. */
    const uint8_t md2[2] = {0x01, 0x03};
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, ct, cl, md2, 2, out, sizeof out, &ol), ETHD_ECRYPTO);
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, ct, cl, NULL, 0, out, sizeof out, &ol), ETHD_ECRYPTO);
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, ct, cl, md, 1, out, sizeof out, &ol), ETHD_ECRYPTO);
    ck_assert_int_eq(ethd_ecies_decrypt(secp, other, ct, cl, md, 2, out, sizeof out, &ol),
                     ETHD_ECRYPTO);
    /* Invalid private key. */
    uint8_t zero[32] = {0};
    ck_assert_int_eq(ethd_ecies_decrypt(secp, zero, ct, cl, md, 2, out, sizeof out, &ol),
                     ETHD_ECRYPTO);

    /* Truncation: below the overhead is ETRUNC; a cut-off but long enough
     * message fails its MAC; an appended byte too. */
    for (size_t n = 0; n < ETHD_ECIES_OVERHEAD; n++)
        ck_assert_int_eq(ethd_ecies_decrypt(secp, k, ct, n, md, 2, out, sizeof out, &ol),
                         ETHD_ETRUNC);
    for (size_t n = ETHD_ECIES_OVERHEAD; n < cl; n++)
        ck_assert_int_eq(ethd_ecies_decrypt(secp, k, ct, n, md, 2, out, sizeof out, &ol),
                         ETHD_ECRYPTO);
    memcpy(bad, ct, cl);
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, ct, cl, md, 2, out, sizeof plain - 1, &ol),
                     ETHD_ETOOBIG);

    /* Bad points: prefix other than 0x04, R all zero, R with x not on the
     * curve (x = 5: 5^3 + 7 is not a square mod p). */
    memcpy(bad, ct, cl);
    bad[0] = 0x02;
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, bad, cl, md, 2, out, sizeof out, &ol), ETHD_ECRYPTO);
    memcpy(bad, ct, cl);
    memset(bad + 1, 0, 64);
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, bad, cl, md, 2, out, sizeof out, &ol), ETHD_ECRYPTO);
    memcpy(bad, ct, cl);
    memset(bad + 1, 0, 32);
    bad[32] = 5;
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, bad, cl, md, 2, out, sizeof out, &ol), ETHD_ECRYPTO);

    /* Length helpers at the edges. */
    ck_assert_uint_eq(ethd_ecies_encrypted_len(SIZE_MAX), 0);
    ck_assert_uint_eq(ethd_ecies_encrypted_len(SIZE_MAX - 113), SIZE_MAX);
    ck_assert_uint_eq(ethd_ecies_plain_len(112), 0);
    ck_assert_uint_eq(ethd_ecies_plain_len(113), 0);
    ck_assert_uint_eq(ethd_ecies_plain_len(114), 1);
    /* NULL arguments. */
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, NULL, cl, md, 2, out, sizeof out, &ol), ETHD_EINVAL);
    ck_assert_int_eq(ethd_ecies_decrypt(secp, k, ct, cl, NULL, 2, out, sizeof out, &ol), ETHD_EINVAL);
    ck_assert_int_eq(ethd_ecies_decrypt(NULL, k, ct, cl, md, 2, out, sizeof out, &ol), ETHD_EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ecies");
    TCase *tc = tcase_create("crypto_json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_crypto_json);
    tcase_add_test(tc, test_aes_ctr_sp800_38a);
    suite_add_tcase(s, tc);
    tc = tcase_create("eip8");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_eip8_auth_pre_eip8);
    tcase_add_test(tc, test_eip8_auth2);
    tcase_add_test(tc, test_eip8_auth3);
    tcase_add_test(tc, test_eip8_ack_pre_eip8);
    tcase_add_test(tc, test_eip8_ack2);
    tcase_add_test(tc, test_eip8_ack3);
    tcase_add_test(tc, test_eip8_derived);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_encrypt_with_deterministic);
    tcase_add_test(tc, test_tamper);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
