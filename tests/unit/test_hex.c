/* Hex data and quantities (execution-apis JSON-RPC base types). */
#include <ethd/error.h>
#include <ethd/hex.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_encode)
{
    char out[64];
    ethd_hex_encode("", 0, out);
    ck_assert_str_eq(out, "0x");
    ethd_hex_encode_bare("", 0, out);
    ck_assert_str_eq(out, "");
    ethd_hex_encode("\x00\x01\xab\xff", 4, out);
    ck_assert_str_eq(out, "0x0001abff");
    ethd_hex_encode_bare("\x00\x01\xab\xff", 4, out);
    ck_assert_str_eq(out, "0001abff");
}
END_TEST

START_TEST(test_roundtrip)
{
    uint8_t in[256], back[256];
    char h[2 + 512 + 1];
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= 256; n++) {
        size_t got;
        ethd_hex_encode(in, n, h);
        ck_assert_uint_eq(strlen(h), 2 + 2 * n);
        ck_assert_int_eq(ethd_hex_decode(h, back, sizeof(back), &got), 0);
        ck_assert_uint_eq(got, n);
        ck_assert(n == 0 || memcmp(back, in, n) == 0);
        ck_assert_int_eq(ethd_hex_decode_fixed(h, back, n), 0);
        ck_assert(n == 0 || memcmp(back, in, n) == 0);
        uint8_t *a;
        ck_assert_int_eq(ethd_hex_decode_alloc(h, &a, &got), 0);
        ck_assert_uint_eq(got, n);
        ck_assert(n == 0 || memcmp(a, in, n) == 0);
        free(a);
        /* bare form too */
        ethd_hex_encode_bare(in, n, h);
        ck_assert_int_eq(ethd_hex_decode(h, back, sizeof(back), &got), 0);
        ck_assert_uint_eq(got, n);
        ck_assert(n == 0 || memcmp(back, in, n) == 0);
    }
}
END_TEST

START_TEST(test_decode_rules)
{
    uint8_t b[8];
    size_t n;
    /* either digit case, 0x or 0X prefix, or none */
    ck_assert_int_eq(ethd_hex_decode("0xABcd", b, sizeof(b), &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(b[0], 0xab);
    ck_assert_uint_eq(b[1], 0xcd);
    ck_assert_int_eq(ethd_hex_decode("0XaBCD", b, sizeof(b), &n), 0);
    ck_assert_uint_eq(b[0], 0xab);
    ck_assert_int_eq(ethd_hex_decode("abcd", b, sizeof(b), &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(ethd_hex_decode("0x", b, sizeof(b), &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(ethd_hex_decode("", b, sizeof(b), &n), 0);
    ck_assert_uint_eq(n, 0);
    /* odd length */
    ck_assert_int_eq(ethd_hex_decode("0xabc", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("abc", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("0x0", b, sizeof(b), &n), ETHD_EINVAL);
    /* bad digits, in either nibble and with a 0x-like prefix in the wrong place */
    ck_assert_int_eq(ethd_hex_decode("0xag", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("0xga", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("0x 1", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("0x0x12", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("x012", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("0x-1", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("0x:;", b, sizeof(b), &n), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode("0x@G", b, sizeof(b), &n), ETHD_EINVAL);
    /* capacity */
    ck_assert_int_eq(ethd_hex_decode("0x0102030405060708", b, 8, &n), 0);
    ck_assert_int_eq(ethd_hex_decode("0x010203040506070809", b, 8, &n), ETHD_ETOOBIG);
    ck_assert_int_eq(ethd_hex_decode("0x01020304050607080z", b, 8, &n), ETHD_EINVAL);
    /* fixed */
    ck_assert_int_eq(ethd_hex_decode_fixed("0x0102", b, 2), 0);
    ck_assert_int_eq(ethd_hex_decode_fixed("0x0102", b, 3), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode_fixed("0x010203", b, 2), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_decode_fixed("0x01zz", b, 2), ETHD_EINVAL);
    uint8_t *a = NULL;
    ck_assert_int_eq(ethd_hex_decode_alloc("0x12g4", &a, &n), ETHD_EINVAL);
    ck_assert(a == NULL);
    ck_assert_int_eq(ethd_hex_decode_alloc("0x123", &a, &n), ETHD_EINVAL);
}
END_TEST

START_TEST(test_quantity_encode)
{
    static const struct {
        uint64_t v;
        const char *s;
    } cases[] = {
        {0, "0x0"}, {1, "0x1"}, {15, "0xf"}, {16, "0x10"}, {0x400, "0x400"},
        {0x1f, "0x1f"}, {UINT64_MAX, "0xffffffffffffffff"}, {0x0100000000000000ull, "0x100000000000000"},
    };
    char out[19];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ethd_hex_quantity(cases[i].v, out);
        ck_assert_str_eq(out, cases[i].s);
        uint64_t back;
        ck_assert_int_eq(ethd_hex_parse_quantity(out, &back), 0);
        ck_assert_uint_eq(back, cases[i].v);
    }
}
END_TEST

START_TEST(test_quantity_parse)
{
    uint64_t v;
    ck_assert_int_eq(ethd_hex_parse_quantity("0x0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(ethd_hex_parse_quantity("0x41", &v), 0);
    ck_assert_uint_eq(v, 65);
    ck_assert_int_eq(ethd_hex_parse_quantity("0xABCdef", &v), 0);
    ck_assert_uint_eq(v, 0xabcdef);
    ck_assert_int_eq(ethd_hex_parse_quantity("0xffffffffffffffff", &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    /* the spec's invalid examples: empty, leading zero, no prefix */
    ck_assert_int_eq(ethd_hex_parse_quantity("0x", &v), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity("0x0400", &v), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity("0x00", &v), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity("ff", &v), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity("", &v), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity("0", &v), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity("0xfg", &v), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity("0x-1", &v), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity("0x 1", &v), ETHD_EINVAL);
    /* 17 digits overflow */
    ck_assert_int_eq(ethd_hex_parse_quantity("0x10000000000000000", &v), ETHD_ERANGE);
    /* odd digit counts are fine for quantities */
    ck_assert_int_eq(ethd_hex_parse_quantity("0x123", &v), 0);
    ck_assert_uint_eq(v, 0x123);
}
END_TEST

START_TEST(test_quantity_u256)
{
    uint8_t be[32], back[32];
    char out[67];
    memset(be, 0, 32);
    ethd_hex_quantity_u256(be, out);
    ck_assert_str_eq(out, "0x0");
    ck_assert_int_eq(ethd_hex_parse_quantity_u256("0x0", back), 0);
    ck_assert_mem_eq(back, be, 32);
    be[31] = 0x0f;
    ethd_hex_quantity_u256(be, out);
    ck_assert_str_eq(out, "0xf");
    be[31] = 0x10;
    ethd_hex_quantity_u256(be, out);
    ck_assert_str_eq(out, "0x10");
    memset(be, 0xff, 32);
    ethd_hex_quantity_u256(be, out);
    ck_assert_uint_eq(strlen(out), 66);
    ck_assert_int_eq(ethd_hex_parse_quantity_u256(out, back), 0);
    ck_assert_mem_eq(back, be, 32);
    /* a 2^255 and a pattern with an odd digit count */
    memset(be, 0, 32);
    be[0] = 0x80;
    ethd_hex_quantity_u256(be, out);
    ck_assert_str_eq(out, "0x8000000000000000000000000000000000000000000000000000000000000000");
    ck_assert_int_eq(ethd_hex_parse_quantity_u256(out, back), 0);
    ck_assert_mem_eq(back, be, 32);
    ck_assert_int_eq(ethd_hex_parse_quantity_u256("0xabc", back), 0);
    memset(be, 0, 32);
    be[30] = 0x0a;
    be[31] = 0xbc;
    ck_assert_mem_eq(back, be, 32);
    /* below 2^64 it agrees with the uint64 encoder */
    for (int i = 0; i < 200; i++) {
        uint64_t v = (uint64_t)i * 0x9e3779b97f4a7c15ull >> (i % 64);
        char q64[19];
        memset(be, 0, 32);
        for (int k = 0; k < 8; k++)
            be[31 - k] = (uint8_t)(v >> (8 * k));
        ethd_hex_quantity(v, q64);
        ethd_hex_quantity_u256(be, out);
        ck_assert_str_eq(out, q64);
    }
    ck_assert_int_eq(ethd_hex_parse_quantity_u256("0x10000000000000000", back), 0);
    memset(be, 0, 32);
    be[23] = 1;
    ck_assert_mem_eq(back, be, 32);
    /* errors */
    ck_assert_int_eq(ethd_hex_parse_quantity_u256("0x", back), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity_u256("0x01", back), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity_u256("12", back), ETHD_EINVAL);
    ck_assert_int_eq(ethd_hex_parse_quantity_u256("0x1z", back), ETHD_EINVAL);
    /* 65 digits */
    ck_assert_int_eq(ethd_hex_parse_quantity_u256(
                         "0x10000000000000000000000000000000000000000000000000000000000000000", back),
                     ETHD_ERANGE);
}
END_TEST

static Suite *hex_suite(void)
{
    Suite *s = suite_create("hex");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, test_encode);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_decode_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("quantity");
    tcase_add_test(tc, test_quantity_encode);
    tcase_add_test(tc, test_quantity_parse);
    tcase_add_test(tc, test_quantity_u256);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hex_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
