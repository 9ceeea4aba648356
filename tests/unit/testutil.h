/* Helpers shared by the unit tests: vector files from $ETHD_VECTORS (a
 * missing or unreadable file fails the test, never skips it), hex and
 * decimal test data, random bytes, the EIP-8 handshake vectors, and main's
 * runner. Every helper fails the running test on bad data instead of
 * returning an error. All static inline: include it once per test program. */
#ifndef ETHD_TESTS_TESTUTIL_H
#define ETHD_TESTS_TESTUTIL_H
#include <ethd/hex.h>
#include <ethd/secp256k1.h>

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* $ETHD_VECTORS/rel parsed with jansson `flags` (e.g. JSON_ALLOW_NUL).
 * Caller frees with json_decref. */
static inline json_t *tu_load_vectors_flags(const char *rel, size_t flags)
{
    const char *root = getenv("ETHD_VECTORS");
    ck_assert_msg(root != NULL, "ETHD_VECTORS is not set");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    json_error_t jerr;
    json_t *j = json_load_file(path, flags, &jerr);
    ck_assert_msg(j != NULL, "%s: %s (line %d)", path, jerr.text, jerr.line);
    return j;
}

static inline json_t *tu_load_vectors(const char *rel)
{
    return tu_load_vectors_flags(rel, 0);
}

/* obj[key], which must be a string; borrowed from obj. */
static inline const char *tu_jstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    ck_assert_msg(s != NULL, "missing string field %s", key);
    return s;
}

/* Hex (0x optional) of exactly len bytes into out. */
static inline void tu_hex_fixed(const char *hex, uint8_t *out, size_t len)
{
    ck_assert_msg(ethd_hex_decode_fixed(hex, out, len) == 0, "bad hex (want %zu bytes): %.80s", len,
                  hex);
}

/* Hex (0x optional) into a heap block of exactly *len bytes, so ASan sees
 * any read past the end. Caller frees. */
static inline uint8_t *tu_hex_alloc(const char *hex, size_t *len)
{
    uint8_t *p = NULL;
    ck_assert_msg(ethd_hex_decode_alloc(hex, &p, len) == 0, "bad hex: %.80s", hex);
    return p;
}

/* Decimal string -> big-endian bytes, right-aligned in out[cap]. Fails the
 * test on a non-digit or a number wider than cap bytes. */
static inline void tu_dec_to_be(const char *dec, uint8_t *out, size_t cap)
{
    memset(out, 0, cap);
    ck_assert_msg(*dec != '\0', "empty decimal number");
    for (; *dec; dec++) {
        ck_assert_msg(*dec >= '0' && *dec <= '9', "bad decimal digit '%c'", *dec);
        unsigned carry = (unsigned)(*dec - '0');
        for (size_t i = cap; i-- > 0;) {
            unsigned v = out[i] * 10u + carry;
            out[i] = (uint8_t)v;
            carry = v >> 8;
        }
        ck_assert_msg(carry == 0, "decimal number wider than %zu bytes", cap);
    }
}

/* n bytes from the kernel's CSPRNG. */
static inline void tu_rand_bytes(void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = getrandom(b, n, 0);
        ck_assert_int_gt(r, 0);
        b += r;
        n -= (size_t)r;
    }
}

/* $ETHD_VECTORS/rlpx/eip8-handshake.json: keys and nonces of initiator A
 * and recipient B, and the public keys derived from them with our secp. */
struct tu_eip8 {
    json_t *root;                                           /* json_decref when done */
    uint8_t sa[32], sb[32], ea[32], eb[32], na[32], nb[32]; /* static, ephemeral keys; nonces */
    uint8_t pa[64], pb[64], epa[64], epb[64];               /* their public keys */
};

static inline void tu_eip8_load(const struct ethd_secp *secp, struct tu_eip8 *v)
{
    v->root = tu_load_vectors("rlpx/eip8-handshake.json");
    json_t *k = json_object_get(v->root, "keys");
    tu_hex_fixed(tu_jstr(k, "static_key_a_priv"), v->sa, 32);
    tu_hex_fixed(tu_jstr(k, "static_key_b_priv"), v->sb, 32);
    tu_hex_fixed(tu_jstr(k, "ephemeral_key_a_priv"), v->ea, 32);
    tu_hex_fixed(tu_jstr(k, "ephemeral_key_b_priv"), v->eb, 32);
    tu_hex_fixed(tu_jstr(k, "nonce_a"), v->na, 32);
    tu_hex_fixed(tu_jstr(k, "nonce_b"), v->nb, 32);
    ck_assert_int_eq(ethd_secp_pubkey(secp, v->sa, v->pa), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, v->sb, v->pb), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, v->ea, v->epa), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, v->eb, v->epb), 0);
}

/* The wire bytes of message `name` (e.g. "auth2_a_to_b_eip8_version4"),
 * checked against its "len". Caller frees. */
static inline uint8_t *tu_eip8_msg(const struct tu_eip8 *v, const char *name, size_t *len)
{
    json_t *m = json_object_get(json_object_get(v->root, "messages"), name);
    ck_assert_msg(m != NULL, "message %s missing", name);
    uint8_t *p = tu_hex_alloc(tu_jstr(m, "hex"), len);
    ck_assert_uint_eq(*len, (size_t)json_integer_value(json_object_get(m, "len")));
    return p;
}

/* main's body: run every case of s (taken), exit status for make check. */
static inline int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
