/* Helpers shared by the chain-type unit tests (test_header, test_tx,
 * test_receipt, test_genesis, test_forkid): vector paths, file and JSON
 * loading, hex. Everything is static; each test includes it once. */
#ifndef ETHD_TESTS_CHAIN_UTIL_H
#define ETHD_TESTS_CHAIN_UTIL_H
#include <ethd/error.h>
#include <ethd/hex.h>

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $ENV/rel into buf; fails the test if ENV is unset. */
static inline const char *cu_path(const char *env, const char *rel, char *buf, size_t len)
{
    const char *root = getenv(env);
    ck_assert_msg(root != NULL, "%s is not set", env);
    snprintf(buf, len, "%s/%s", root, rel);
    return buf;
}

/* Whole file; caller frees. Fails the test if it cannot be read. */
static inline uint8_t *cu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *p = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    p[n] = 0;
    *len = (size_t)n;
    return p;
}

/* JSON file with integer literals of more than 18 digits turned into
 * strings first (jansson cannot hold them; e.g. a fork id "next" of
 * 2^64-1), so they can be read exactly with cu_u64. */
static inline json_t *cu_load_json(const char *path)
{
    size_t n;
    char *t = (char *)cu_read(path, &n);
    char *o = malloc(2 * n + 1);
    ck_assert_ptr_nonnull(o);
    size_t w = 0;
    bool in_str = false;
    for (size_t i = 0; i < n;) {
        char ch = t[i];
        if (in_str) {
            o[w++] = ch;
            if (ch == '\\' && i + 1 < n) {
                o[w++] = t[i + 1];
                i += 2;
                continue;
            }
            if (ch == '"')
                in_str = false;
            i++;
            continue;
        }
        if (ch == '"') {
            in_str = true;
            o[w++] = ch;
            i++;
            continue;
        }
        if (ch >= '0' && ch <= '9') {
            size_t j = i;
            while (j < n && t[j] >= '0' && t[j] <= '9')
                j++;
            bool real = j < n && (t[j] == '.' || t[j] == 'e' || t[j] == 'E');
            bool big = !real && j - i > 18;
            if (big)
                o[w++] = '"';
            memcpy(o + w, t + i, j - i);
            w += j - i;
            if (big)
                o[w++] = '"';
            i = j;
            continue;
        }
        o[w++] = ch;
        i++;
    }
    json_error_t je;
    json_t *j = json_loadb(o, w, 0, &je);
    ck_assert_msg(j != NULL, "%s: %s (line %d)", path, je.text, je.line);
    free(o);
    free(t);
    return j;
}

/* A JSON quantity: integer, "0x..." hex or decimal string (exact). */
static inline uint64_t cu_u64(const json_t *v)
{
    if (json_is_integer(v))
        return (uint64_t)json_integer_value(v);
    ck_assert_msg(json_is_string(v), "quantity is neither number nor string");
    const char *s = json_string_value(v);
    char *end;
    uint64_t x;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        x = strtoull(s + 2, &end, 16);
    else
        x = strtoull(s, &end, 10);
    ck_assert_msg(*end == 0, "bad quantity %s", s);
    return x;
}

/* "0x..." (or bare) hex of up to 32 bytes, right-aligned into out[32]. */
static inline void cu_u256(const char *s, uint8_t out[32])
{
    uint8_t tmp[32];
    size_t n;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    char buf[80];
    size_t l = strlen(s);
    ck_assert_uint_le(l, 64);
    /* Odd digit counts ("0x0e" is fine, "0x1" too): left-pad one zero. */
    snprintf(buf, sizeof buf, "%s%s", (l % 2) ? "0" : "", s);
    ck_assert_int_eq(ethd_hex_decode(buf, tmp, 32, &n), 0);
    memset(out, 0, 32);
    memcpy(out + 32 - n, tmp, n);
}

/* Hex -> freshly allocated bytes; caller frees. */
static inline uint8_t *cu_hex(const char *s, size_t *len)
{
    uint8_t *p = NULL;
    ck_assert_msg(ethd_hex_decode_alloc(s, &p, len) == 0, "bad hex %.40s", s);
    if (!p) {
        p = malloc(1);
        ck_assert_ptr_nonnull(p);
    }
    return p;
}

static inline void cu_hex_fixed(const char *s, uint8_t *out, size_t n)
{
    ck_assert_msg(ethd_hex_decode_fixed(s, out, n) == 0, "bad hex (want %zu bytes) %.80s", n, s);
}

static inline const char *cu_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    ck_assert_msg(json_is_string(v), "missing string field %s", key);
    return json_string_value(v);
}

#endif
