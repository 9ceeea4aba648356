/* Keccak-256: known answers from $ETHD_VECTORS/keccak, the raw permutation
 * through nettle (proves the lane layout), incremental vs one-shot at every
 * split point around the rate, and peek leaving the state alone. */
#include "testutil.h"

#include <ethd/hex.h>
#include <ethd/keccak.h>

#include <check.h>
#include <jansson.h>
#include <nettle/sha3.h>
#include <stdlib.h>
#include <string.h>

static size_t json_size(json_t *v)
{
    if (json_is_integer(v))
        return (size_t)json_integer_value(v);
    ck_assert_msg(json_is_string(v), "expected a number");
    return (size_t)strtoull(json_string_value(v), NULL, 10);
}

static void hexdigest(const uint8_t d[32], char out[65])
{
    ethd_hex_encode_bare(d, 32, out);
}

START_TEST(test_empty_constant)
{
    uint8_t d[32];
    ethd_keccak256("", 0, d);
    ck_assert_mem_eq(d, ethd_keccak256_empty, 32);
    ethd_keccak256(NULL, 0, d);
    ck_assert_mem_eq(d, ethd_keccak256_empty, 32);
    char h[65];
    hexdigest(ethd_keccak256_empty, h);
    ck_assert_str_eq(h, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}
END_TEST

START_TEST(test_known_answers)
{
    json_t *root = tu_load_vectors("keccak/keccak256.json");
    json_t *vecs = json_object_get(root, "vectors");
    ck_assert(json_is_array(vecs));
    ck_assert_uint_ge(json_array_size(vecs), 10);
    size_t i;
    json_t *v;
    json_array_foreach(vecs, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        uint8_t *in = NULL;
        size_t len = 0;
        json_t *jh = json_object_get(v, "input_hex"), *ja = json_object_get(v, "input_ascii"),
               *jr = json_object_get(v, "input_repeat");
        ck_assert_msg((jh != NULL) + (ja != NULL) + (jr != NULL) == 1, "%s: one input form", name);
        if (jh) {
            in = tu_hex_alloc(json_string_value(jh), &len);
        } else if (ja) {
            len = json_string_length(ja);
            in = malloc(len ? len : 1);
            memcpy(in, json_string_value(ja), len);
        } else {
            uint8_t byte;
            tu_hex_fixed(tu_jstr(jr, "byte_hex"), &byte, 1);
            len = json_size(json_object_get(jr, "count"));
            in = malloc(len ? len : 1);
            memset(in, byte, len);
        }
        ck_assert_msg(len == json_size(json_object_get(v, "input_len")), "%s: input_len", name);
        const char *want = json_string_value(json_object_get(v, "digest_hex"));
        char got[65];
        uint8_t d[32];

        ethd_keccak256(in, len, d);
        hexdigest(d, got);
        ck_assert_msg(strcmp(got, want) == 0, "%s: one-shot %s != %s", name, got, want);

        /* byte at a time through the incremental API */
        struct ethd_keccak k;
        ethd_keccak_init(&k);
        for (size_t j = 0; j < len; j++)
            ethd_keccak_update(&k, in + j, 1);
        ethd_keccak_final(&k, d);
        hexdigest(d, got);
        ck_assert_msg(strcmp(got, want) == 0, "%s: bytewise %s != %s", name, got, want);
        free(in);
    }
    json_decref(root);
}
END_TEST

/* The vector file's byte order: lane (x,y) at bytes 8*(x+5y), little-endian.
 * nettle's a[x+5y] must be that lane for our sponge to be Keccak. */
START_TEST(test_permutation_vectors)
{
    json_t *root = tu_load_vectors("keccak/keccak-f1600.json");
    json_t *vecs = json_object_get(root, "vectors");
    ck_assert(json_is_array(vecs));
    ck_assert_uint_ge(json_array_size(vecs), 2);
    size_t i;
    json_t *v;
    json_array_foreach(vecs, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        uint8_t in[200], want[200], got[200];
        tu_hex_fixed(tu_jstr(v, "input_state_hex"), in, 200);
        tu_hex_fixed(tu_jstr(v, "output_state_hex"), want, 200);
        struct sha3_state st;
        for (int l = 0; l < 25; l++) {
            uint64_t x = 0;
            for (int b = 7; b >= 0; b--)
                x = x << 8 | in[8 * l + b];
            st.a[l] = x;
        }
        sha3_permute(&st);
        for (int l = 0; l < 25; l++)
            for (int b = 0; b < 8; b++)
                got[8 * l + b] = (uint8_t)(st.a[l] >> (8 * b));
        ck_assert_msg(memcmp(got, want, 200) == 0, "%s: permutation output differs", name);
    }
    json_decref(root);
}
END_TEST

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

START_TEST(test_split_points)
{
    static const size_t lens[] = {0, 1, 2, 7, 8, 9, 134, 135, 136, 137, 138,
                                  271, 272, 273, 408, 409, 600};
    uint8_t data[600];
    fill_pattern(data, sizeof(data), 7);
    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
        size_t len = lens[li];
        uint8_t want[32], got[32];
        ethd_keccak256(data, len, want);
        for (size_t s = 0; s <= len; s++) {
            struct ethd_keccak k;
            ethd_keccak_init(&k);
            ethd_keccak_update(&k, data, s);
            ethd_keccak_update(&k, data + s, len - s);
            ethd_keccak_final(&k, got);
            ck_assert_msg(memcmp(got, want, 32) == 0, "len %zu split %zu", len, s);
            /* three pieces: s, then a second cut 137 later (crosses a block) */
            size_t t = s + 137 < len ? s + 137 : len;
            ethd_keccak_init(&k);
            ethd_keccak_update(&k, data, s);
            ethd_keccak_update(&k, data + s, t - s);
            ethd_keccak_update(&k, data + t, 0);
            ethd_keccak_update(&k, data + t, len - t);
            ethd_keccak_final(&k, got);
            ck_assert_msg(memcmp(got, want, 32) == 0, "len %zu split %zu/%zu", len, s, t);
        }
    }
}
END_TEST

/* Re-initialising after final gives a fresh hash. */
START_TEST(test_reinit)
{
    struct ethd_keccak k;
    uint8_t d[32];
    ethd_keccak_init(&k);
    ethd_keccak_update(&k, "junk", 4);
    ethd_keccak_final(&k, d);
    ethd_keccak_init(&k);
    ethd_keccak_final(&k, d);
    ck_assert_mem_eq(d, ethd_keccak256_empty, 32);
}
END_TEST

START_TEST(test_peek)
{
    uint8_t data[700];
    fill_pattern(data, sizeof(data), 99);
    struct ethd_keccak k;
    ethd_keccak_init(&k);
    uint8_t got[32], want[32];
    ethd_keccak_peek(&k, got);
    ck_assert_mem_eq(got, ethd_keccak256_empty, 32);
    size_t off = 0, step = 1;
    while (off < sizeof(data)) {
        size_t n = step < sizeof(data) - off ? step : sizeof(data) - off;
        ethd_keccak_update(&k, data + off, n);
        off += n;
        struct ethd_keccak before = k;
        ethd_keccak_peek(&k, got);
        ck_assert_msg(memcmp(&before, &k, sizeof(k)) == 0, "peek changed the state at %zu", off);
        ethd_keccak256(data, off, want);
        ck_assert_msg(memcmp(got, want, 32) == 0, "peek at %zu", off);
        /* peeking twice gives the same digest */
        ethd_keccak_peek(&k, want);
        ck_assert_mem_eq(got, want, 32);
        step = step * 3 % 139 + 1;
    }
    ethd_keccak_final(&k, got);
    ethd_keccak256(data, sizeof(data), want);
    ck_assert_mem_eq(got, want, 32);
}
END_TEST

static Suite *keccak_suite(void)
{
    Suite *s = suite_create("keccak");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_empty_constant);
    tcase_add_test(tc, test_known_answers);
    tcase_add_test(tc, test_permutation_vectors);
    suite_add_tcase(s, tc);
    tc = tcase_create("incremental");
    tcase_add_test(tc, test_split_points);
    tcase_add_test(tc, test_reinit);
    tcase_add_test(tc, test_peek);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(keccak_suite());
}
