/* RLP encoder/decoder and the growable buffer: the ethereum/tests RLP
 * vectors, explicit bad inputs for every error code in rlp.h, random
 * round trips with a fixed-seed PRNG, and mutated inputs (run under ASan so
 * any read outside the input is caught). */
#include "testutil.h"

#include <ethd/buf.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/rlp.h>

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

/* pre + rep * count + post, as one heap string (caller frees). */
static char *hexrep(const char *pre, const char *rep, size_t count, const char *post)
{
    size_t n = strlen(pre) + strlen(rep) * count + strlen(post) + 1;
    char *s = malloc(n);
    strcpy(s, pre);
    for (size_t i = 0; i < count; i++)
        strcat(s, rep);
    strcat(s, post);
    return s;
}

static uint8_t *dup_exact(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    if (n)
        memcpy(q, p, n);
    return q;
}

/* Re-encode a decoded item generically (strings as bytes, lists recursed). */
static void reencode(struct ethd_rlp_enc *e, const struct ethd_rlp_item *it, int depth)
{
    if (!it->is_list) {
        const uint8_t *p;
        size_t n;
        ck_assert_int_eq(ethd_rlp_get_bytes(it, &p, &n), 0);
        ethd_rlp_bytes(e, p, n);
        return;
    }
    struct ethd_rlp_iter iter;
    struct ethd_rlp_item c;
    ck_assert_int_le(depth, ETHD_RLP_MAX_DEPTH);
    ck_assert_int_eq(ethd_rlp_iter_init(&iter, it), 0);
    ethd_rlp_list_begin(e);
    while (ethd_rlp_iter_more(&iter)) {
        ck_assert_int_eq(ethd_rlp_iter_next(&iter, &c), 0);
        reencode(e, &c, depth + 1);
    }
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &c), ETHD_ENOTFOUND);
    ethd_rlp_list_end(e);
}

/* decode(in) succeeds and re-encodes to exactly `in`. */
static void check_roundtrip_bytes(const uint8_t *in, size_t len, const char *what)
{
    struct ethd_rlp_item it;
    int rc = ethd_rlp_decode(in, len, &it);
    ck_assert_msg(rc == 0, "%s: decode failed: %s", what, ethd_strerror(rc));
    ck_assert(it.raw == in && it.raw_len == len);
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    reencode(&e, &it, 1);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_msg(b.len == len && memcmp(b.data, in, len) == 0, "%s: re-encoding differs", what);
    ethd_buf_free(&b);
}

/* ------------------------------------------------- ethereum/tests vectors */

static void encode_json(struct ethd_rlp_enc *e, json_t *v)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        ethd_rlp_list_begin(e);
        json_array_foreach(v, i, c) encode_json(e, c);
        ethd_rlp_list_end(e);
    } else if (json_is_integer(v)) {
        ck_assert(json_integer_value(v) >= 0);
        ethd_rlp_uint(e, (uint64_t)json_integer_value(v));
    } else if (json_is_string(v) && json_string_value(v)[0] == '#') {
        uint8_t be[64];
        tu_dec_to_be(json_string_value(v) + 1, be, sizeof(be));
        size_t z = 0;
        while (z < sizeof(be) && be[z] == 0)
            z++;
        if (sizeof(be) - z <= 32)
            ethd_rlp_u256(e, be + 32);
        else /* wider than 256 bits (the "bigint" case is 2^256) */
            ethd_rlp_bytes(e, be + z, sizeof(be) - z);
    } else {
        ck_assert_msg(json_is_string(v), "unexpected JSON type in rlptest");
        ethd_rlp_bytes(e, json_string_value(v), json_string_length(v));
    }
}

/* The decoded item has the shape and values of the JSON `in`. */
static void match_json(const struct ethd_rlp_item *it, json_t *v)
{
    if (json_is_array(v)) {
        size_t cnt, i;
        json_t *c;
        ck_assert(it->is_list);
        ck_assert_int_eq(ethd_rlp_list_count(it, &cnt), 0);
        ck_assert_uint_eq(cnt, json_array_size(v));
        struct ethd_rlp_iter iter;
        ck_assert_int_eq(ethd_rlp_iter_init(&iter, it), 0);
        json_array_foreach(v, i, c) {
            struct ethd_rlp_item ci;
            ck_assert_int_eq(ethd_rlp_iter_next(&iter, &ci), 0);
            match_json(&ci, c);
        }
        ck_assert(!ethd_rlp_iter_more(&iter));
    } else if (json_is_integer(v)) {
        uint64_t x;
        ck_assert_int_eq(ethd_rlp_get_uint64(it, &x), 0);
        ck_assert_uint_eq(x, (uint64_t)json_integer_value(v));
    } else if (json_string_value(v)[0] == '#') {
        uint8_t be[64], got[32];
        tu_dec_to_be(json_string_value(v) + 1, be, sizeof(be));
        size_t z = 0;
        while (z < sizeof(be) && be[z] == 0)
            z++;
        if (sizeof(be) - z <= 32) {
            ck_assert_int_eq(ethd_rlp_get_u256(it, got), 0);
            ck_assert_mem_eq(got, be + 32, 32);
        } else {
            ck_assert_int_eq(ethd_rlp_get_u256(it, got), ETHD_ERANGE);
            ck_assert(!it->is_list && it->len == sizeof(be) - z);
            ck_assert_mem_eq(it->payload, be + z, it->len);
        }
    } else {
        ck_assert(!it->is_list);
        ck_assert_uint_eq(it->len, json_string_length(v));
        ck_assert(it->len == 0 || memcmp(it->payload, json_string_value(v), it->len) == 0);
    }
}

START_TEST(test_rlptest_json)
{
    /* rlptest.json has "\u0000" strings */
    json_t *root = tu_load_vectors_flags("rlp/rlptest.json", JSON_ALLOW_NUL);
    ck_assert(json_is_object(root));
    ck_assert_uint_ge(json_object_size(root), 28);
    const char *name;
    json_t *tc;
    json_int_t maxint = 0;
    json_object_foreach(root, name, tc) {
        json_t *in = json_object_get(tc, "in");
        const char *out = json_string_value(json_object_get(tc, "out"));
        ck_assert_msg(in && out, "%s: missing in/out", name);
        if (json_is_integer(in) && json_integer_value(in) > maxint)
            maxint = json_integer_value(in);

        size_t wlen;
        uint8_t *want = tu_hex_alloc(out, &wlen);
        struct ethd_buf b = ETHD_BUF_INIT;
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &b);
        encode_json(&e, in);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        if (b.len != wlen || memcmp(b.data, want, wlen) != 0) {
            char *h = malloc(2 * b.len + 3);
            ethd_hex_encode(b.data, b.len, h);
            ck_abort_msg("%s: encoded %s, want %s", name, h, out);
        }
        check_roundtrip_bytes(want, wlen, name);
        struct ethd_rlp_item it;
        ck_assert_int_eq(ethd_rlp_decode(want, wlen, &it), 0);
        match_json(&it, in);
        ethd_buf_free(&b);
        free(want);
    }
    /* every integer `in` fitted jansson's json_int_t (it would not have
     * parsed otherwise); the file's largest is 100000 */
    ck_assert(maxint >= 100000);
    json_decref(root);
}
END_TEST

static const struct {
    const char *name;
    int code;
} invalid_codes[] = {
    {"int32Overflow", ETHD_ETRUNC},
    {"int32Overflow2", ETHD_ETRUNC},
    {"wrongSizeList", ETHD_ENONCANON},
    {"wrongSizeList2", ETHD_ENONCANON},
    {"incorrectLengthInArray", ETHD_ENONCANON},
    {"randomRLP", ETHD_ENONCANON},
    {"bytesShouldBeSingleByte00", ETHD_ENONCANON},
    {"bytesShouldBeSingleByte01", ETHD_ENONCANON},
    {"bytesShouldBeSingleByte7F", ETHD_ENONCANON},
    {"leadingZerosInLongLengthArray1", ETHD_ENONCANON},
    {"leadingZerosInLongLengthArray2", ETHD_ENONCANON},
    {"leadingZerosInLongLengthList1", ETHD_ENONCANON},
    {"leadingZerosInLongLengthList2", ETHD_ENONCANON},
    {"nonOptimalLongLengthArray1", ETHD_ENONCANON},
    {"nonOptimalLongLengthArray2", ETHD_ENONCANON},
    {"nonOptimalLongLengthList1", ETHD_ENONCANON},
    {"nonOptimalLongLengthList2", ETHD_ENONCANON},
    {"emptyEncoding", ETHD_ETRUNC},
    {"lessThanShortLengthArray1", ETHD_ETRUNC},
    {"lessThanShortLengthArray2", ETHD_ETRUNC},
    {"lessThanShortLengthList1", ETHD_ETRUNC},
    {"lessThanShortLengthList2", ETHD_ETRUNC},
    {"lessThanLongLengthArray1", ETHD_ETRUNC},
    {"lessThanLongLengthArray2", ETHD_ETRUNC},
    {"lessThanLongLengthList1", ETHD_ETRUNC},
    {"lessThanLongLengthList2", ETHD_ETRUNC},
};

/* invalidRLPTest.json: "in": "INVALID" means the whole of `out` is not
 * exactly one well-formed item. */
START_TEST(test_invalid_json)
{
    json_t *root = tu_load_vectors_flags("rlp/invalidRLPTest.json", JSON_ALLOW_NUL);
    ck_assert(json_is_object(root));
    const char *name;
    json_t *tc;
    size_t n_invalid = 0, n_valid = 0;
    json_object_foreach(root, name, tc) {
        const char *in = json_string_value(json_object_get(tc, "in"));
        const char *out = json_string_value(json_object_get(tc, "out"));
        ck_assert_msg(in && out, "%s: missing in/out", name);
        size_t len;
        uint8_t *bytes = tu_hex_alloc(out, &len);
        struct ethd_rlp_item it;
        int rc = ethd_rlp_decode(bytes, len, &it);
        if (strcmp(in, "VALID") == 0) {
            ck_assert_msg(rc == 0, "%s: valid case failed: %s", name, ethd_strerror(rc));
            check_roundtrip_bytes(bytes, len, name);
            n_valid++;
        } else {
            ck_assert_str_eq(in, "INVALID");
            ck_assert_msg(rc < 0, "%s: invalid RLP accepted", name);
            int want = 0;
            for (size_t i = 0; i < sizeof(invalid_codes) / sizeof(invalid_codes[0]); i++)
                if (strcmp(invalid_codes[i].name, name) == 0)
                    want = invalid_codes[i].code;
            ck_assert_msg(want != 0, "%s: no expected code in the test table", name);
            ck_assert_msg(rc == want, "%s: got %s, want %s", name, ethd_strerror(rc),
                          ethd_strerror(want));
            /* a stream reader must reject it too */
            const uint8_t *p = bytes;
            size_t left = len;
            ck_assert_int_lt(ethd_rlp_next(&p, &left, &it), 0);
            ck_assert(p == bytes && left == len);
            n_invalid++;
        }
        free(bytes);
    }
    ck_assert_uint_eq(n_invalid, sizeof(invalid_codes) / sizeof(invalid_codes[0]));
    ck_assert_uint_eq(n_valid, 0);
    json_decref(root);
}
END_TEST

START_TEST(test_random_json)
{
    json_t *root = tu_load_vectors_flags("rlp/RandomRLPTests/example.json", JSON_ALLOW_NUL);
    ck_assert(json_is_object(root));
    ck_assert_uint_ge(json_object_size(root), 1);
    const char *name;
    json_t *tc;
    json_object_foreach(root, name, tc) {
        const char *out = json_string_value(json_object_get(tc, "out"));
        ck_assert_msg(out != NULL, "%s: missing out", name);
        ck_assert_str_eq(json_string_value(json_object_get(tc, "in")), "VALID");
        size_t len;
        uint8_t *bytes = tu_hex_alloc(out, &len);
        check_roundtrip_bytes(bytes, len, name);
        free(bytes);
    }
    json_decref(root);
}
END_TEST

/* --------------------------------------------------------- bad inputs */

static int dec_hex(const char *h)
{
    size_t len;
    uint8_t *b = tu_hex_alloc(h, &len);
    struct ethd_rlp_item it;
    int rc = ethd_rlp_decode(b, len, &it);
    free(b);
    return rc;
}

START_TEST(test_bad_inputs)
{
    /* ETHD_ETRUNC */
    ck_assert_int_eq(dec_hex(""), ETHD_ETRUNC);
    ck_assert_int_eq(dec_hex("82aa"), ETHD_ETRUNC);
    ck_assert_int_eq(dec_hex("b8"), ETHD_ETRUNC);     /* length byte missing */
    ck_assert_int_eq(dec_hex("b901"), ETHD_ETRUNC);   /* second length byte missing */
    ck_assert_int_eq(dec_hex("c283aa"), ETHD_ETRUNC); /* child overruns its list */
    ck_assert_int_eq(dec_hex("c383aabb"), ETHD_ETRUNC);
    ck_assert_int_eq(dec_hex("c3c3c180"), ETHD_ETRUNC);
    ck_assert_int_eq(dec_hex("c3c2c180"), 0); /* its well-formed sibling */
    /* huge declared lengths: rejected from the header, nothing allocated */
    ck_assert_int_eq(dec_hex("bfffffffffffffffff"), ETHD_ETRUNC);
    ck_assert_int_eq(dec_hex("ffffffffffffffffff00"), ETHD_ETRUNC);
    ck_assert_int_eq(dec_hex("bbffffffff00"), ETHD_ETRUNC);
    ck_assert_int_eq(dec_hex("bf8000000000000000"), ETHD_ETRUNC);
    ck_assert_int_eq(dec_hex("c9bfffffffffffffffff"), ETHD_ETRUNC); /* inside a list */
    ck_assert_int_eq(dec_hex("cabf7fffffffffffffff00"), ETHD_ETRUNC);
    /* ETHD_ENONCANON */
    ck_assert_int_eq(dec_hex("8100"), ETHD_ENONCANON);
    ck_assert_int_eq(dec_hex("817f"), ETHD_ENONCANON);
    ck_assert_int_eq(dec_hex("b80161"), ETHD_ENONCANON);   /* long form, len 1 */
    char *h = hexrep("b837", "00", 55, ""); /* long form, len 55 */
    ck_assert_int_eq(dec_hex(h), ETHD_ENONCANON);
    free(h);
    h = hexrep("f837", "80", 55, "");
    ck_assert_int_eq(dec_hex(h), ETHD_ENONCANON);
    free(h);
    ck_assert_int_eq(dec_hex("f800"), ETHD_ENONCANON);
    h = hexrep("b90038", "00", 56, ""); /* leading zero length byte */
    ck_assert_int_eq(dec_hex(h), ETHD_ENONCANON);
    free(h);
    h = hexrep("f90038", "80", 56, "");
    ck_assert_int_eq(dec_hex(h), ETHD_ENONCANON);
    free(h);
    ck_assert_int_eq(dec_hex("c28100"), ETHD_ENONCANON);   /* nested */
    /* the canonical neighbours of those decode */
    ck_assert_int_eq(dec_hex("8180"), 0);
    h = hexrep("b838", "00", 56, "");
    ck_assert_int_eq(dec_hex(h), 0);
    free(h);
    h = hexrep("f838", "80", 56, "");
    ck_assert_int_eq(dec_hex(h), 0);
    free(h);
    h = hexrep("b837", "00", 56, ""); /* one byte too many */
    ck_assert_int_eq(dec_hex(h), ETHD_ENONCANON);
    free(h);
    h = hexrep("b838", "00", 55, "");
    ck_assert_int_eq(dec_hex(h), ETHD_ETRUNC);
    free(h);
    h = hexrep("b7", "00", 55, "");
    ck_assert_int_eq(dec_hex(h), 0);
    free(h);
    h = hexrep("b7", "00", 56, "");
    ck_assert_int_eq(dec_hex(h), ETHD_ETRAILING);
    free(h);
    /* ETHD_ETRAILING */
    ck_assert_int_eq(dec_hex("8000"), ETHD_ETRAILING);
    ck_assert_int_eq(dec_hex("c0c0"), ETHD_ETRAILING);
    ck_assert_int_eq(dec_hex("0000"), ETHD_ETRAILING);
}
END_TEST

/* n nested lists around an empty string, built by hand from the inside. */
static uint8_t *nested(unsigned n, size_t *len)
{
    size_t cap = 1 + 3 * (size_t)n + 16;
    uint8_t *b = malloc(cap);
    size_t start = cap - 1, payload = 1;
    b[start] = 0x80;
    for (unsigned i = 0; i < n; i++) {
        if (payload < 56) {
            b[--start] = (uint8_t)(0xc0 + payload);
            payload += 1;
        } else if (payload < 256) {
            b[--start] = (uint8_t)payload;
            b[--start] = 0xf8;
            payload += 2;
        } else {
            ck_assert(payload < 65536);
            b[--start] = (uint8_t)payload;
            b[--start] = (uint8_t)(payload >> 8);
            b[--start] = 0xf9;
            payload += 3;
        }
    }
    *len = payload;
    uint8_t *r = dup_exact(b + start, payload);
    free(b);
    return r;
}

START_TEST(test_depth)
{
    size_t len;
    struct ethd_rlp_item it;
    uint8_t *b = nested(ETHD_RLP_MAX_DEPTH, &len);
    ck_assert_int_eq(ethd_rlp_decode(b, len, &it), 0);
    check_roundtrip_bytes(b, len, "64 levels");
    free(b);
    b = nested(ETHD_RLP_MAX_DEPTH + 1, &len);
    ck_assert_int_eq(ethd_rlp_decode(b, len, &it), ETHD_EDEPTH);
    const uint8_t *p = b;
    size_t left = len;
    ck_assert_int_eq(ethd_rlp_next(&p, &left, &it), ETHD_EDEPTH);
    free(b);
    b = nested(1000, &len);
    ck_assert_int_eq(ethd_rlp_decode(b, len, &it), ETHD_EDEPTH);
    free(b);

    /* the encoder: 64 nested lists encode, and match the hand-built bytes */
    struct ethd_buf buf = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &buf);
    for (int i = 0; i < ETHD_RLP_MAX_DEPTH; i++)
        ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, "", 0);
    for (int i = 0; i < ETHD_RLP_MAX_DEPTH; i++)
        ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    b = nested(ETHD_RLP_MAX_DEPTH, &len);
    ck_assert_uint_eq(buf.len, len);
    ck_assert_mem_eq(buf.data, b, len);
    free(b);
    /* 65 -> EDEPTH, sticky */
    ethd_buf_reset(&buf);
    ethd_rlp_enc_init(&e, &buf);
    for (int i = 0; i <= ETHD_RLP_MAX_DEPTH; i++)
        ethd_rlp_list_begin(&e);
    for (int i = 0; i <= ETHD_RLP_MAX_DEPTH; i++)
        ethd_rlp_list_end(&e);
    ethd_rlp_uint(&e, 5);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), ETHD_EDEPTH);
    ethd_buf_free(&buf);
}
END_TEST

START_TEST(test_encoder_state)
{
    struct ethd_buf buf = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &buf);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), ETHD_ESTATE);
    ethd_rlp_enc_init(&e, &buf);
    ethd_rlp_list_begin(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), ETHD_ESTATE);
    /* the encoder appends after existing content */
    ethd_buf_reset(&buf);
    ethd_buf_append(&buf, "\xaa", 1);
    ethd_rlp_enc_init(&e, &buf);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 0);
    ethd_rlp_raw(&e, "\xc0", 1);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_uint_eq(buf.len, 4);
    ck_assert_mem_eq(buf.data, "\xaa\xc2\x80\xc0", 4);
    ethd_buf_free(&buf);
}
END_TEST

START_TEST(test_ints)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "80"}, {1, "01"}, {0x7f, "7f"}, {0x80, "8180"}, {0xff, "81ff"},
        {0x100, "820100"}, {0xffffff, "83ffffff"}, {0x0102030405060708ull, "880102030405060708"},
        {UINT64_MAX, "88ffffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ethd_buf buf = ETHD_BUF_INIT;
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &buf);
        ethd_rlp_uint(&e, cases[i].v);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        char h[64];
        ethd_hex_encode_bare(buf.data, buf.len, h);
        ck_assert_str_eq(h, cases[i].hex);
        struct ethd_rlp_item it;
        uint64_t got;
        ck_assert_int_eq(ethd_rlp_decode(buf.data, buf.len, &it), 0);
        ck_assert_int_eq(ethd_rlp_get_uint64(&it, &got), 0);
        ck_assert_uint_eq(got, cases[i].v);
        /* the same number as a u256 encodes identically */
        uint8_t be[32] = {0}, back[32];
        for (int k = 0; k < 8; k++)
            be[31 - k] = (uint8_t)(cases[i].v >> (8 * k));
        ethd_buf_reset(&buf);
        ethd_rlp_enc_init(&e, &buf);
        ethd_rlp_u256(&e, be);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        ethd_hex_encode_bare(buf.data, buf.len, h);
        ck_assert_str_eq(h, cases[i].hex);
        ck_assert_int_eq(ethd_rlp_decode(buf.data, buf.len, &it), 0);
        ck_assert_int_eq(ethd_rlp_get_u256(&it, back), 0);
        ck_assert_mem_eq(back, be, 32);
        ethd_buf_free(&buf);
    }
}
END_TEST

static struct ethd_rlp_item item_of(const char *hex, uint8_t **keep)
{
    size_t len;
    *keep = tu_hex_alloc(hex, &len);
    struct ethd_rlp_item it;
    ck_assert_int_eq(ethd_rlp_decode(*keep, len, &it), 0);
    return it;
}

START_TEST(test_typed_readers)
{
    uint8_t *k;
    struct ethd_rlp_item it;
    uint64_t v;
    uint8_t u[32], fixed[4];
    const uint8_t *p;
    size_t n;

    /* uint64 */
    it = item_of("00", &k); /* integer zero must be 0x80 */
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &v), ETHD_ENONCANON);
    ck_assert_int_eq(ethd_rlp_get_u256(&it, u), ETHD_ENONCANON);
    free(k);
    it = item_of("820001", &k);
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &v), ETHD_ENONCANON);
    ck_assert_int_eq(ethd_rlp_get_u256(&it, u), ETHD_ENONCANON);
    free(k);
    it = item_of("890100000000000000ff", &k); /* 9 bytes */
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &v), ETHD_ERANGE);
    ck_assert_int_eq(ethd_rlp_get_u256(&it, u), 0);
    ck_assert_uint_eq(u[23], 1);
    ck_assert_uint_eq(u[31], 0xff);
    free(k);
    it = item_of("c0", &k);
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &v), ETHD_ETYPE);
    ck_assert_int_eq(ethd_rlp_get_u256(&it, u), ETHD_ETYPE);
    ck_assert_int_eq(ethd_rlp_get_bytes(&it, &p, &n), ETHD_ETYPE);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, fixed, 0), ETHD_ETYPE);
    ck_assert_int_eq(ethd_rlp_list_count(&it, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(k);
    /* u256: 32 bytes fine, 33 out of range */
    char *h = hexrep("a0ff", "00", 30, "01");
    it = item_of(h, &k);
    free(h);
    ck_assert_int_eq(ethd_rlp_get_u256(&it, u), 0);
    ck_assert_uint_eq(u[0], 0xff);
    ck_assert_uint_eq(u[31], 1);
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &v), ETHD_ERANGE);
    free(k);
    h = hexrep("a101", "00", 32, "");
    it = item_of(h, &k);
    free(h);
    ck_assert_int_eq(ethd_rlp_get_u256(&it, u), ETHD_ERANGE);
    free(k);
    /* fixed */
    it = item_of("8401020304", &k);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, fixed, 4), 0);
    ck_assert_mem_eq(fixed, "\x01\x02\x03\x04", 4);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, fixed, 3), ETHD_EINVAL);
    ck_assert_int_eq(ethd_rlp_get_fixed(&it, fixed, 5), ETHD_EINVAL);
    ck_assert_int_eq(ethd_rlp_get_bytes(&it, &p, &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert(p == it.payload);
    struct ethd_rlp_iter iter;
    ck_assert_int_eq(ethd_rlp_iter_init(&iter, &it), ETHD_ETYPE);
    ck_assert_int_eq(ethd_rlp_list_count(&it, &n), ETHD_ETYPE);
    free(k);
    /* single byte strings read as themselves */
    it = item_of("7f", &k);
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &v), 0);
    ck_assert_uint_eq(v, 0x7f);
    ck_assert_uint_eq(it.len, 1);
    ck_assert_uint_eq(it.raw_len, 1);
    free(k);
    it = item_of("80", &k);
    ck_assert_int_eq(ethd_rlp_get_uint64(&it, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(ethd_rlp_get_u256(&it, u), 0);
    for (int i = 0; i < 32; i++)
        ck_assert_uint_eq(u[i], 0);
    free(k);
    /* iteration */
    it = item_of("c6827a77c10401", &k); /* ["zw", [4], 1] */
    ck_assert_int_eq(ethd_rlp_list_count(&it, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(ethd_rlp_iter_init(&iter, &it), 0);
    struct ethd_rlp_item c;
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &c), 0);
    ck_assert(!c.is_list && c.len == 2 && memcmp(c.payload, "zw", 2) == 0);
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &c), 0);
    ck_assert(c.is_list && c.len == 1 && c.raw_len == 2);
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &c), 0);
    ck_assert_int_eq(ethd_rlp_get_uint64(&c, &v), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert(!ethd_rlp_iter_more(&iter));
    ck_assert_int_eq(ethd_rlp_iter_next(&iter, &c), ETHD_ENOTFOUND);
    free(k);
}
END_TEST

START_TEST(test_stream)
{
    /* three items back to back, then a truncated one */
    size_t len;
    uint8_t *b = tu_hex_alloc("c0" "83646f67" "c6827a77c10401" "82aa", &len);
    const uint8_t *p = b;
    size_t left = len;
    struct ethd_rlp_item it;
    ck_assert_int_eq(ethd_rlp_next(&p, &left, &it), 0);
    ck_assert(it.is_list && it.raw_len == 1);
    ck_assert_int_eq(ethd_rlp_next(&p, &left, &it), 0);
    ck_assert(!it.is_list && it.len == 3);
    ck_assert_int_eq(ethd_rlp_next(&p, &left, &it), 0);
    ck_assert(it.is_list && it.raw_len == 7);
    ck_assert_uint_eq(left, 2);
    ck_assert_int_eq(ethd_rlp_next(&p, &left, &it), ETHD_ETRUNC);
    ck_assert_uint_eq(left, 2); /* not advanced on failure */
    free(b);
    /* a bad nested item stops the stream */
    b = tu_hex_alloc("c28100" "80", &len);
    p = b;
    left = len;
    ck_assert_int_eq(ethd_rlp_next(&p, &left, &it), ETHD_ENONCANON);
    free(b);
}
END_TEST

START_TEST(test_sizes)
{
    ck_assert_uint_eq(ethd_rlp_bytes_size(0, 0), 1);
    ck_assert_uint_eq(ethd_rlp_bytes_size(1, 0x00), 1);
    ck_assert_uint_eq(ethd_rlp_bytes_size(1, 0x7f), 1);
    ck_assert_uint_eq(ethd_rlp_bytes_size(1, 0x80), 2);
    ck_assert_uint_eq(ethd_rlp_bytes_size(55, 0), 56);
    ck_assert_uint_eq(ethd_rlp_bytes_size(56, 0), 58);
    ck_assert_uint_eq(ethd_rlp_bytes_size(255, 0), 257);
    ck_assert_uint_eq(ethd_rlp_bytes_size(256, 0), 259);
    ck_assert_uint_eq(ethd_rlp_bytes_size(65536, 0), 65540);
    ck_assert_uint_eq(ethd_rlp_list_prefix_size(0), 1);
    ck_assert_uint_eq(ethd_rlp_list_prefix_size(55), 1);
    ck_assert_uint_eq(ethd_rlp_list_prefix_size(56), 2);
    ck_assert_uint_eq(ethd_rlp_list_prefix_size(256), 3);
    ck_assert_uint_eq(ethd_rlp_list_prefix_size(1u << 24), 5);
}
END_TEST

/* ---------------------------------------------------- random round trips */

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t rnd_below(struct rng *r, size_t n)
{
    return (size_t)(rnd(r) % n);
}

enum node_kind { N_BYTES, N_UINT, N_U256, N_LIST };

struct node {
    enum node_kind kind;
    uint64_t v;
    uint8_t u[32];
    uint8_t *bytes;
    size_t len;
    struct node *kids;
    size_t nkids;
};

static void gen(struct rng *r, struct node *n, int depth, size_t *budget)
{
    size_t pick = rnd_below(r, 10);
    memset(n, 0, sizeof(*n));
    if (depth < 8 && pick < 3 && *budget > 0) {
        n->kind = N_LIST;
        size_t k = rnd_below(r, 4) == 0 ? rnd_below(r, 40) : rnd_below(r, 6);
        n->kids = calloc(k ? k : 1, sizeof(*n->kids));
        n->nkids = k;
        for (size_t i = 0; i < k; i++) {
            if (*budget)
                (*budget)--;
            gen(r, &n->kids[i], depth + 1, budget);
        }
    } else if (pick < 6) {
        n->kind = N_BYTES;
        size_t sel = rnd_below(r, 10);
        n->len = sel < 2 ? rnd_below(r, 2) : sel < 8 ? rnd_below(r, 70) : rnd_below(r, 1200);
        n->bytes = malloc(n->len ? n->len : 1);
        for (size_t i = 0; i < n->len; i++)
            n->bytes[i] = (uint8_t)(rnd_below(r, 3) == 0 ? rnd_below(r, 0x80) : rnd(r));
    } else if (pick < 8) {
        n->kind = N_UINT;
        n->v = rnd(r) >> rnd_below(r, 64);
        if (rnd_below(r, 8) == 0)
            n->v = rnd_below(r, 3) == 0 ? UINT64_MAX : 0;
    } else {
        n->kind = N_U256;
        size_t lead = rnd_below(r, 33);
        for (size_t i = lead; i < 32; i++)
            n->u[i] = (uint8_t)rnd(r);
    }
}

static void node_free(struct node *n)
{
    free(n->bytes);
    for (size_t i = 0; i < n->nkids; i++)
        node_free(&n->kids[i]);
    free(n->kids);
}

static void enc_node(struct ethd_rlp_enc *e, const struct node *n)
{
    switch (n->kind) {
    case N_BYTES: ethd_rlp_bytes(e, n->bytes, n->len); break;
    case N_UINT: ethd_rlp_uint(e, n->v); break;
    case N_U256: ethd_rlp_u256(e, n->u); break;
    case N_LIST:
        ethd_rlp_list_begin(e);
        for (size_t i = 0; i < n->nkids; i++)
            enc_node(e, &n->kids[i]);
        ethd_rlp_list_end(e);
        break;
    }
}

/* Encoded size computed independently with the size helpers. */
static size_t node_size(const struct node *n)
{
    switch (n->kind) {
    case N_BYTES: return ethd_rlp_bytes_size(n->len, n->len ? n->bytes[0] : 0);
    case N_UINT: {
        uint8_t be[8];
        size_t k = 0;
        for (uint64_t v = n->v; v; v >>= 8)
            k++;
        for (size_t i = 0; i < k; i++)
            be[i] = (uint8_t)(n->v >> (8 * (k - 1 - i)));
        return ethd_rlp_bytes_size(k, k ? be[0] : 0);
    }
    case N_U256: {
        size_t z = 0;
        while (z < 32 && n->u[z] == 0)
            z++;
        return ethd_rlp_bytes_size(32 - z, z < 32 ? n->u[z] : 0);
    }
    case N_LIST: {
        size_t s = 0;
        for (size_t i = 0; i < n->nkids; i++)
            s += node_size(&n->kids[i]);
        return ethd_rlp_list_prefix_size(s) + s;
    }
    }
    return 0;
}

static void match_node(const struct ethd_rlp_item *it, const struct node *n)
{
    switch (n->kind) {
    case N_BYTES: {
        const uint8_t *p;
        size_t len;
        ck_assert_int_eq(ethd_rlp_get_bytes(it, &p, &len), 0);
        ck_assert_uint_eq(len, n->len);
        ck_assert(len == 0 || memcmp(p, n->bytes, len) == 0);
        if (len > 0 && len <= 64) {
            uint8_t tmp[64];
            ck_assert_int_eq(ethd_rlp_get_fixed(it, tmp, len), 0);
            ck_assert_mem_eq(tmp, n->bytes, len);
        }
        break;
    }
    case N_UINT: {
        uint64_t v;
        uint8_t u[32];
        ck_assert_int_eq(ethd_rlp_get_uint64(it, &v), 0);
        ck_assert_uint_eq(v, n->v);
        ck_assert_int_eq(ethd_rlp_get_u256(it, u), 0);
        for (int i = 0; i < 8; i++)
            ck_assert_uint_eq(u[31 - i], (uint8_t)(n->v >> (8 * i)));
        break;
    }
    case N_U256: {
        uint8_t u[32];
        ck_assert_int_eq(ethd_rlp_get_u256(it, u), 0);
        ck_assert_mem_eq(u, n->u, 32);
        size_t z = 0;
        while (z < 32 && n->u[z] == 0)
            z++;
        uint64_t v;
        int rc = ethd_rlp_get_uint64(it, &v);
        if (32 - z <= 8) {
            ck_assert_int_eq(rc, 0);
            for (int i = 0; i < 8; i++)
                ck_assert_uint_eq(n->u[31 - i], (uint8_t)(v >> (8 * i)));
        } else {
            ck_assert_int_eq(rc, ETHD_ERANGE);
        }
        break;
    }
    case N_LIST: {
        size_t cnt;
        ck_assert(it->is_list);
        ck_assert_int_eq(ethd_rlp_list_count(it, &cnt), 0);
        ck_assert_uint_eq(cnt, n->nkids);
        struct ethd_rlp_iter iter;
        ck_assert_int_eq(ethd_rlp_iter_init(&iter, it), 0);
        for (size_t i = 0; i < n->nkids; i++) {
            struct ethd_rlp_item c;
            ck_assert(ethd_rlp_iter_more(&iter));
            ck_assert_int_eq(ethd_rlp_iter_next(&iter, &c), 0);
            match_node(&c, &n->kids[i]);
        }
        ck_assert(!ethd_rlp_iter_more(&iter));
        break;
    }
    }
}

START_TEST(test_random_roundtrip)
{
    struct rng r = {0x5eed0001};
    struct ethd_buf buf = ETHD_BUF_INIT;
    for (int iter = 0; iter < 5000; iter++) {
        struct node root;
        size_t budget = 300;
        gen(&r, &root, 0, &budget);
        ethd_buf_reset(&buf);
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &buf);
        enc_node(&e, &root);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        ck_assert_uint_eq(buf.len, node_size(&root));
        uint8_t *copy = dup_exact(buf.data, buf.len);
        struct ethd_rlp_item it;
        int rc = ethd_rlp_decode(copy, buf.len, &it);
        ck_assert_msg(rc == 0, "case %d: %s", iter, ethd_strerror(rc));
        match_node(&it, &root);
        check_roundtrip_bytes(copy, buf.len, "random");
        free(copy);
        node_free(&root);
    }
    ethd_buf_free(&buf);
}
END_TEST

/* Mutations of valid encodings: the decoder returns an error or a result
 * that re-encodes to the input (only canonical RLP is accepted). Exact-size
 * copies make any out-of-bounds read an ASan failure. */
START_TEST(test_mutations)
{
    struct rng r = {0xbad5eed};
    struct ethd_buf buf = ETHD_BUF_INIT;
    size_t accepted = 0, rejected = 0;
    for (int iter = 0; iter < 3000; iter++) {
        struct node root;
        size_t budget = 60;
        gen(&r, &root, 0, &budget);
        ethd_buf_reset(&buf);
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &buf);
        enc_node(&e, &root);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        node_free(&root);
        for (int m = 0; m < 8; m++) {
            size_t len = buf.len;
            uint8_t *b = dup_exact(buf.data, len);
            switch (rnd_below(&r, 4)) {
            case 0: b[rnd_below(&r, len)] ^= (uint8_t)(1u << rnd_below(&r, 8)); break;
            case 1: b[rnd_below(&r, len)] = (uint8_t)rnd(&r); break;
            case 2: len = rnd_below(&r, len); break; /* truncate */
            default: { /* prefix-region byte set to a length-ish value */
                size_t at = rnd_below(&r, len < 4 ? len : 4);
                static const uint8_t v[] = {0x80, 0x81, 0xb7, 0xb8, 0xbf, 0xc0, 0xf7, 0xf8, 0xff, 0x00};
                b[at] = v[rnd_below(&r, sizeof(v))];
            }
            }
            uint8_t *t = dup_exact(b, len);
            free(b);
            struct ethd_rlp_item it;
            int rc = ethd_rlp_decode(t, len, &it);
            if (rc == 0) {
                check_roundtrip_bytes(t, len, "mutant");
                accepted++;
            } else {
                ck_assert(rc == ETHD_ETRUNC || rc == ETHD_ENONCANON || rc == ETHD_ETRAILING ||
                          rc == ETHD_EDEPTH);
                rejected++;
            }
            free(t);
        }
    }
    ck_assert(accepted > 0 && rejected > 0);
    ethd_buf_free(&buf);
}
END_TEST

/* --------------------------------------------------------------- buffer */

/* ethd_rlp_decode_array: [1, 2, 3] into uint64s; a failing element is
 * counted so the caller can clean it up; empty list; a string. */
static int u64_elem(const struct ethd_rlp_item *it, void *elem, void *arg)
{
    int *calls = arg;
    (*calls)++;
    return ethd_rlp_get_uint64(it, elem);
}

START_TEST(test_decode_array)
{
    static const uint8_t ok[] = {0xc3, 0x01, 0x02, 0x03};
    static const uint8_t bad[] = {0xc4, 0x01, 0xc1, 0x02, 0x03}; /* [1, [2], 3] */
    static const uint8_t empty[] = {0xc0};
    static const uint8_t str[] = {0x83, 'a', 'b', 'c'};
    struct ethd_rlp_item l;
    void *arr;
    size_t n;
    int calls = 0;
    ck_assert_int_eq(ethd_rlp_decode(ok, sizeof(ok), &l), 0);
    ck_assert_int_eq(ethd_rlp_decode_array(&l, sizeof(uint64_t), u64_elem, &calls, &arr, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(calls, 3);
    uint64_t *v = arr;
    ck_assert(v[0] == 1 && v[1] == 2 && v[2] == 3);
    free(arr);
    calls = 0;
    ck_assert_int_eq(ethd_rlp_decode(bad, sizeof(bad), &l), 0);
    ck_assert_int_eq(ethd_rlp_decode_array(&l, sizeof(uint64_t), u64_elem, &calls, &arr, &n),
                     ETHD_ETYPE);
    ck_assert_uint_eq(n, 2); /* the failed element is counted */
    ck_assert_int_eq(calls, 2);
    ck_assert_ptr_nonnull(arr);
    free(arr);
    ck_assert_int_eq(ethd_rlp_decode(empty, sizeof(empty), &l), 0);
    ck_assert_int_eq(ethd_rlp_decode_array(&l, 8, u64_elem, &calls, &arr, &n), 0);
    ck_assert_ptr_null(arr);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(ethd_rlp_decode(str, sizeof(str), &l), 0);
    ck_assert_int_eq(ethd_rlp_decode_array(&l, 8, u64_elem, &calls, &arr, &n), ETHD_ETYPE);
    ck_assert_ptr_null(arr);
}
END_TEST

START_TEST(test_buf)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_buf_reserve(&b, 0), 0);
    ck_assert_int_eq(ethd_buf_append(&b, "abc", 3), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_uint_ge(b.cap, 3);
    ck_assert_mem_eq(b.data, "abc", 3);
    /* doubling: appending one byte at a time reallocates O(log n) times */
    size_t reallocs = 0, cap = b.cap;
    for (int i = 0; i < 100000; i++) {
        uint8_t c = (uint8_t)i;
        ck_assert_int_eq(ethd_buf_append(&b, &c, 1), 0);
        if (b.cap != cap) {
            ck_assert_uint_ge(b.cap, 2 * cap);
            cap = b.cap;
            reallocs++;
        }
    }
    ck_assert_uint_le(reallocs, 20);
    ck_assert_uint_eq(b.len, 100003);
    ck_assert_uint_eq(b.data[3 + 300], (uint8_t)300);
    ethd_buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_int_eq(ethd_buf_reserve(&b, cap), 0);
    ck_assert_uint_eq(b.cap, cap); /* fits, no growth */
    ethd_buf_free(&b);
    ck_assert(b.data == NULL && b.len == 0 && b.cap == 0);
    ethd_buf_free(&b); /* idempotent */

    /* len + extra overflowing size_t -> ETOOBIG, struct untouched */
    struct ethd_buf fake = {NULL, SIZE_MAX - 8, SIZE_MAX - 8};
    ck_assert_int_eq(ethd_buf_reserve(&fake, 9), ETHD_ETOOBIG);
    ck_assert_int_eq(ethd_buf_append(&fake, "x", 9), ETHD_ETOOBIG);
    ck_assert(fake.data == NULL && fake.len == SIZE_MAX - 8);
    ck_assert_int_eq(ethd_buf_reserve(&fake, 0), 0);
}
END_TEST

/* An encoder whose buffer cannot grow reports the error at finish. */
START_TEST(test_encoder_sticky_error)
{
    struct ethd_buf fake = {NULL, SIZE_MAX - 2, SIZE_MAX - 2};
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &fake);
    ethd_rlp_bytes(&e, "abcd", 4);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), ETHD_ETOOBIG);
    ck_assert_uint_eq(fake.len, SIZE_MAX - 2);
}
END_TEST

static Suite *rlp_suite(void)
{
    Suite *s = suite_create("rlp");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_rlptest_json);
    tcase_add_test(tc, test_invalid_json);
    tcase_add_test(tc, test_random_json);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_bad_inputs);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_encoder_state);
    tcase_add_test(tc, test_encoder_sticky_error);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_add_test(tc, test_ints);
    tcase_add_test(tc, test_typed_readers);
    tcase_add_test(tc, test_stream);
    tcase_add_test(tc, test_sizes);
    suite_add_tcase(s, tc);
    tc = tcase_create("property");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_random_roundtrip);
    tcase_add_test(tc, test_mutations);
    suite_add_tcase(s, tc);
    tc = tcase_create("buf");
    tcase_add_test(tc, test_buf);
    tcase_add_test(tc, test_decode_array);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(rlp_suite());
}
