/* The p2p Hello message (core/p2p/hello.c): a known encoding written out by
 * hand from rlpx.md, "Hello (0x00)", decoded and re-encoded; a Hello with
 * EIP-8 extra elements; client id sanitising; the size bound at its edge;
 * every malformed form refused with nothing left to free; and the client
 * version string (core/version.c) that our Hello carries as its client id. */
#include "p2p/hello.h"
#include "testutil.h"
#include "version.h"

#include <ethd/error.h>
#include <ethd/rlp.h>
#include <ethd/version.h>

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* [5, "ethd", [["eth", 68], ["snap", 1]], 30303, 0x0102..40], by hand:
 * f859 list of 89 bytes | 05 | 84 "ethd" | cd [c5 [83 "eth", 44], c6 [84
 * "snap", 01]] | 82 765f | b840 + 64 id bytes. */
static const char known_hex[] =
    "f859058465746864cdc58365746844c684736e61700182765fb840"
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
    "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40";

static void seq_id(uint8_t id[64])
{
    for (int i = 0; i < 64; i++)
        id[i] = (uint8_t)(i + 1);
}

static void assert_empty(const struct ethd_p2p_hello *h)
{
    ck_assert_ptr_null(h->client_id);
    ck_assert_ptr_null(h->caps);
    ck_assert_uint_eq(h->n_caps, 0);
    ck_assert_uint_eq(h->version, 0);
    ck_assert_uint_eq(h->listen_port, 0);
}

START_TEST(known_encoding)
{
    struct ethd_p2p_hello_cap caps[2] = {{(char *)"eth", 68}, {(char *)"snap", 1}};
    struct ethd_p2p_hello h = {.version = 5, .client_id = (char *)"ethd", .caps = caps,
                               .n_caps = 2, .listen_port = 30303};
    seq_id(h.id);
    size_t wlen;
    uint8_t *want = tu_hex_alloc(known_hex, &wlen);
    ck_assert_uint_eq(wlen, 91);

    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_p2p_hello_encode(&h, &b), 0);
    ck_assert_uint_eq(b.len, wlen);
    ck_assert_mem_eq(b.data, want, wlen);

    struct ethd_p2p_hello d;
    ck_assert_int_eq(ethd_p2p_hello_decode(want, wlen, &d), 0);
    ck_assert_uint_eq(d.version, 5);
    ck_assert_str_eq(d.client_id, "ethd");
    ck_assert_uint_eq(d.n_caps, 2);
    ck_assert_str_eq(d.caps[0].name, "eth");
    ck_assert_uint_eq(d.caps[0].version, 68);
    ck_assert_str_eq(d.caps[1].name, "snap");
    ck_assert_uint_eq(d.caps[1].version, 1);
    ck_assert_uint_eq(d.listen_port, 30303);
    ck_assert_mem_eq(d.id, h.id, 64);

    /* the decoded form encodes to the same bytes */
    ethd_buf_reset(&b);
    ck_assert_int_eq(ethd_p2p_hello_encode(&d, &b), 0);
    ck_assert_uint_eq(b.len, wlen);
    ck_assert_mem_eq(b.data, want, wlen);
    ethd_p2p_hello_free(&d);
    assert_empty(&d);
    ethd_buf_free(&b);
    free(want);
}
END_TEST

/* No capabilities, no client id (sent as ""), version 0 and a port that
 * does not fit 16 bits: all carried as they are. The encoder appends. */
START_TEST(encode_edges)
{
    struct ethd_p2p_hello h = {.version = 0, .listen_port = 1u << 20};
    memset(h.id, 0xee, sizeof(h.id));
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_buf_append(&b, "ab", 2), 0);
    ck_assert_int_eq(ethd_p2p_hello_encode(&h, &b), 0);
    ck_assert_mem_eq(b.data, "ab", 2);
    /* f849 (73 bytes) | 80 | 80 | c0 | 83 100000 | b840 ... */
    static const uint8_t head[] = {0xf8, 0x49, 0x80, 0x80, 0xc0, 0x83,
                                   0x10, 0x00, 0x00, 0xb8, 0x40};
    ck_assert_uint_eq(b.len, 2 + sizeof(head) + 64);
    ck_assert_mem_eq(b.data + 2, head, sizeof(head));
    struct ethd_p2p_hello d;
    ck_assert_int_eq(ethd_p2p_hello_decode(b.data + 2, b.len - 2, &d), 0);
    ck_assert_uint_eq(d.version, 0);
    ck_assert_str_eq(d.client_id, "");
    ck_assert_uint_eq(d.n_caps, 0);
    ck_assert_uint_eq(d.listen_port, 1u << 20);
    ck_assert_mem_eq(d.id, h.id, 64);
    ethd_p2p_hello_free(&d);
    ethd_buf_free(&b);
}
END_TEST

/* EIP-8: a newer peer's Hello with more top-level elements (a string and a
 * list) and a capability entry with a third element still decodes. */
START_TEST(extra_elements)
{
    uint8_t id[64];
    seq_id(id);
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 56);
    ethd_rlp_bytes(&e, "Geth/v9", 7);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, "eth", 3);
    ethd_rlp_uint(&e, 68);
    ethd_rlp_bytes(&e, "future", 6);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, "!~", 2); /* the printable range's two ends */
    ethd_rlp_uint(&e, 0);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, "abcdefghijklmnopqrstuvwxyz012345", 32); /* the longest name */
    ethd_rlp_uint(&e, UINT64_MAX);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_uint(&e, 0);
    ethd_rlp_bytes(&e, id, 64);
    ethd_rlp_bytes(&e, "extra", 5);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 1);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);

    struct ethd_p2p_hello d;
    ck_assert_int_eq(ethd_p2p_hello_decode(b.data, b.len, &d), 0);
    ck_assert_uint_eq(d.version, 56);
    ck_assert_str_eq(d.client_id, "Geth/v9");
    ck_assert_uint_eq(d.n_caps, 3);
    ck_assert_str_eq(d.caps[0].name, "eth");
    ck_assert_uint_eq(d.caps[0].version, 68);
    ck_assert_str_eq(d.caps[1].name, "!~");
    ck_assert_uint_eq(d.caps[1].version, 0);
    ck_assert_str_eq(d.caps[2].name, "abcdefghijklmnopqrstuvwxyz012345");
    ck_assert_uint_eq(d.caps[2].version, UINT64_MAX);
    ck_assert_uint_eq(d.listen_port, 0);
    ck_assert_mem_eq(d.id, id, 64);

    /* re-encoded without the extras, it decodes to the same values */
    struct ethd_buf b2 = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_p2p_hello_encode(&d, &b2), 0);
    ck_assert_uint_lt(b2.len, b.len);
    struct ethd_p2p_hello d2;
    ck_assert_int_eq(ethd_p2p_hello_decode(b2.data, b2.len, &d2), 0);
    ck_assert_uint_eq(d2.version, 56);
    ck_assert_str_eq(d2.client_id, d.client_id);
    ck_assert_uint_eq(d2.n_caps, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(d2.caps[i].name, d.caps[i].name);
        ck_assert_uint_eq(d2.caps[i].version, d.caps[i].version);
    }
    ck_assert_mem_eq(d2.id, id, 64);
    ethd_p2p_hello_free(&d2);
    ethd_p2p_hello_free(&d);
    ethd_buf_free(&b2);
    ethd_buf_free(&b);
}
END_TEST

/* A Hello with the given client id bytes, no caps. */
static void hello_with_client(const void *cid, size_t n, struct ethd_buf *b)
{
    uint8_t id[64];
    seq_id(id);
    struct ethd_rlp_enc e;
    ethd_buf_reset(b);
    ethd_rlp_enc_init(&e, b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 5);
    ethd_rlp_bytes(&e, cid, n);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_uint(&e, 30303);
    ethd_rlp_bytes(&e, id, 64);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
}

/* Every byte outside 0x20..0x7e becomes '?'; more than 255 bytes are cut. */
START_TEST(client_id_sanitised)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_p2p_hello d;
    static const uint8_t raw[] = {'a', 0x00, ' ', 0x1f, '~', 0x7f, 0x80, 0xc3, 0xa9, 0xff, 'z'};
    hello_with_client(raw, sizeof(raw), &b);
    ck_assert_int_eq(ethd_p2p_hello_decode(b.data, b.len, &d), 0);
    ck_assert_str_eq(d.client_id, "a? ?~?????z");
    ethd_p2p_hello_free(&d);

    char big[300];
    memset(big, 'x', sizeof(big));
    hello_with_client(big, sizeof(big), &b);
    ck_assert_int_eq(ethd_p2p_hello_decode(b.data, b.len, &d), 0);
    ck_assert_uint_eq(strlen(d.client_id), ETHD_P2P_HELLO_CLIENT_ID_MAX);
    ck_assert_int_eq(d.client_id[0], 'x');
    ethd_p2p_hello_free(&d);
    ethd_buf_free(&b);
}
END_TEST

/* ETHD_P2P_BASE_MAX_MSG bytes are accepted, one more is ETHD_ETOOBIG. */
START_TEST(size_limit)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_p2p_hello d;
    char *cid = malloc(ETHD_P2P_BASE_MAX_MSG);
    ck_assert_ptr_nonnull(cid);
    memset(cid, 'c', ETHD_P2P_BASE_MAX_MSG);
    /* the rest of the Hello: list prefix f9xxxx (3), 05 (1), client id
     * prefix b9xxxx (3), c0 (1), 82765f (3), b840 + id (66) = 77 bytes */
    size_t n = ETHD_P2P_BASE_MAX_MSG - 77;
    hello_with_client(cid, n, &b);
    ck_assert_uint_eq(b.len, ETHD_P2P_BASE_MAX_MSG);
    ck_assert_int_eq(ethd_p2p_hello_decode(b.data, b.len, &d), 0);
    ck_assert_uint_eq(strlen(d.client_id), ETHD_P2P_HELLO_CLIENT_ID_MAX);
    ethd_p2p_hello_free(&d);

    hello_with_client(cid, n + 1, &b);
    ck_assert_uint_eq(b.len, ETHD_P2P_BASE_MAX_MSG + 1);
    ck_assert_int_eq(ethd_p2p_hello_decode(b.data, b.len, &d), ETHD_ETOOBIG);
    assert_empty(&d);
    free(cid);
    ethd_buf_free(&b);
}
END_TEST

/* ---- malformed Hellos ---- */

enum bad {
    BAD_EMPTY, BAD_NOT_LIST, BAD_EMPTY_LIST, BAD_VERSION_LIST, BAD_VERSION_NONCANON,
    BAD_VERSION_WIDE, BAD_CLIENT_LIST, BAD_CAPS_STRING, BAD_CAP_STRING, BAD_CAP_NO_VERSION,
    BAD_CAP_EMPTY_NAME, BAD_CAP_SPACE, BAD_CAP_CONTROL, BAD_CAP_DEL, BAD_CAP_HIGH_BYTE,
    BAD_CAP_NAME_33, BAD_CAP_NAME_LIST, BAD_CAP_VERSION_LIST, BAD_CAP_VERSION_WIDE,
    BAD_NO_PORT, BAD_PORT_LIST, BAD_PORT_WIDE, BAD_NO_ID, BAD_ID_63, BAD_ID_65, BAD_ID_LIST,
    BAD_TRAILING, BAD_TRUNCATED, BAD_COUNT
};

static const char *const bad_names[BAD_COUNT] = {
    "empty payload", "not a list", "empty list", "version is a list",
    "version with a leading zero", "version wider than 64 bits", "client id is a list",
    "caps is a string", "a cap is a string", "a cap without version", "empty cap name",
    "space in cap name", "control byte in cap name", "0x7f in cap name", "0xff in cap name",
    "33-byte cap name", "cap name is a list", "cap version is a list",
    "cap version wider than 64 bits", "no listen port", "listen port is a list",
    "listen port wider than 64 bits", "no node id", "63-byte node id", "65-byte node id",
    "node id is a list", "bytes after the list", "truncated",
};

static const uint8_t nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void put_cap(struct ethd_rlp_enc *e, enum bad w)
{
    if (w == BAD_CAP_STRING) {
        ethd_rlp_bytes(e, "eth", 3);
        return;
    }
    ethd_rlp_list_begin(e);
    switch (w) {
    case BAD_CAP_EMPTY_NAME: ethd_rlp_bytes(e, "", 0); break;
    case BAD_CAP_SPACE: ethd_rlp_bytes(e, "e h", 3); break;
    case BAD_CAP_CONTROL: ethd_rlp_bytes(e, "et\x01", 3); break;
    case BAD_CAP_DEL: ethd_rlp_bytes(e, "et\x7f", 3); break;
    case BAD_CAP_HIGH_BYTE: ethd_rlp_bytes(e, "et\xff", 3); break;
    case BAD_CAP_NAME_33: ethd_rlp_bytes(e, "abcdefghijklmnopqrstuvwxyz0123456", 33); break;
    case BAD_CAP_NAME_LIST:
        ethd_rlp_list_begin(e);
        ethd_rlp_bytes(e, "eth", 3);
        ethd_rlp_list_end(e);
        break;
    default: ethd_rlp_bytes(e, "eth", 3); break;
    }
    switch (w) {
    case BAD_CAP_NO_VERSION: break;
    case BAD_CAP_VERSION_LIST:
        ethd_rlp_list_begin(e);
        ethd_rlp_list_end(e);
        break;
    case BAD_CAP_VERSION_WIDE: ethd_rlp_bytes(e, nine, sizeof(nine)); break;
    default: ethd_rlp_uint(e, 68); break;
    }
    ethd_rlp_list_end(e);
}

static void build_bad(enum bad w, struct ethd_buf *b)
{
    uint8_t id[65];
    memset(id, 0x42, sizeof(id));
    struct ethd_rlp_enc e;
    ethd_buf_reset(b);
    ethd_rlp_enc_init(&e, b);
    if (w == BAD_EMPTY)
        return;
    if (w == BAD_NOT_LIST) {
        ethd_rlp_bytes(&e, "hello", 5);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        return;
    }
    ethd_rlp_list_begin(&e);
    if (w != BAD_EMPTY_LIST) {
        if (w == BAD_VERSION_LIST) {
            ethd_rlp_list_begin(&e);
            ethd_rlp_list_end(&e);
        } else if (w == BAD_VERSION_NONCANON) {
            ethd_rlp_bytes(&e, "\x00\x05", 2);
        } else if (w == BAD_VERSION_WIDE) {
            ethd_rlp_bytes(&e, nine, sizeof(nine));
        } else {
            ethd_rlp_uint(&e, 5);
        }
        if (w == BAD_CLIENT_LIST) {
            ethd_rlp_list_begin(&e);
            ethd_rlp_list_end(&e);
        } else {
            ethd_rlp_bytes(&e, "ethd", 4);
        }
        if (w == BAD_CAPS_STRING) {
            ethd_rlp_bytes(&e, "eth", 3);
        } else {
            ethd_rlp_list_begin(&e);
            put_cap(&e, BAD_COUNT); /* a good one first */
            put_cap(&e, w);
            ethd_rlp_list_end(&e);
        }
        if (w != BAD_NO_PORT) {
            if (w == BAD_PORT_LIST) {
                ethd_rlp_list_begin(&e);
                ethd_rlp_list_end(&e);
            } else if (w == BAD_PORT_WIDE) {
                ethd_rlp_bytes(&e, nine, sizeof(nine));
            } else {
                ethd_rlp_uint(&e, 30303);
            }
            if (w == BAD_ID_LIST) {
                ethd_rlp_list_begin(&e);
                ethd_rlp_bytes(&e, id, 64);
                ethd_rlp_list_end(&e);
            } else if (w != BAD_NO_ID) {
                ethd_rlp_bytes(&e, id, w == BAD_ID_63 ? 63 : w == BAD_ID_65 ? 65 : 64);
            }
        }
    }
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    if (w == BAD_TRAILING)
        ck_assert_int_eq(ethd_buf_append(b, "\x00", 1), 0);
    if (w == BAD_TRUNCATED)
        b->len--;
}

START_TEST(bad_forms)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    /* The builder's good form decodes: each case differs in one place. */
    build_bad(BAD_COUNT, &b);
    struct ethd_p2p_hello d;
    ck_assert_int_eq(ethd_p2p_hello_decode(b.data, b.len, &d), 0);
    ck_assert_uint_eq(d.n_caps, 2);
    ethd_p2p_hello_free(&d);

    for (int w = 0; w < BAD_COUNT; w++) {
        build_bad((enum bad)w, &b);
        /* an exact-size copy: ASan sees any read past the end */
        uint8_t *p = malloc(b.len ? b.len : 1);
        ck_assert_ptr_nonnull(p);
        if (b.len)
            memcpy(p, b.data, b.len);
        memset(&d, 0xa5, sizeof(d));
        int rc = ethd_p2p_hello_decode(p, b.len, &d);
        ck_assert_msg(rc == ETHD_EPROTO, "%s: got %d (%s)", bad_names[w], rc, ethd_strerror(rc));
        assert_empty(&d);
        ethd_p2p_hello_free(&d); /* harmless on what a failure left */
        free(p);
    }
    ethd_buf_free(&b);
}
END_TEST

START_TEST(free_is_safe)
{
    ethd_p2p_hello_free(NULL);
    struct ethd_p2p_hello h;
    memset(&h, 0, sizeof(h));
    ethd_p2p_hello_free(&h);
    ethd_p2p_hello_free(&h);
    assert_empty(&h);
}
END_TEST

/* ---- the client version our Hello carries ---- */

START_TEST(client_version)
{
    char v[ETHD_CLIENT_VERSION_MAX];
    ck_assert_int_eq(ethd_client_version(v, sizeof(v)), 0);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "ethd/v%s/", ETHD_VERSION);
    ck_assert_msg(strncmp(v, prefix, strlen(prefix)) == 0, "%s", v);
    const char *osarch = v + strlen(prefix);
    const char *dash = strchr(osarch, '-');
    ck_assert_msg(dash && dash > osarch && dash[1] != '\0', "%s", v);
    for (const char *p = osarch; p < dash; p++)
        ck_assert_msg(!(*p >= 'A' && *p <= 'Z'), "os not lower-cased: %s", v);
    /* usable as a Hello client id as is */
    for (const char *p = v; *p; p++)
        ck_assert(*p >= 0x20 && *p < 0x7f);
    ck_assert_uint_le(strlen(v), ETHD_P2P_HELLO_CLIENT_ID_MAX);

    char small[8];
    ck_assert_int_eq(ethd_client_version(small, sizeof(small)), ETHD_ETOOBIG);
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
    ck_assert_int_eq(strncmp(small, v, sizeof(small) - 1), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hello");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, known_encoding);
    tcase_add_test(tc, encode_edges);
    tcase_add_test(tc, extra_elements);
    tcase_add_test(tc, client_id_sanitised);
    tcase_add_test(tc, size_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_input");
    tcase_add_test(tc, bad_forms);
    tcase_add_test(tc, free_is_safe);
    suite_add_tcase(s, tc);
    tc = tcase_create("client_version");
    tcase_add_test(tc, client_version);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
