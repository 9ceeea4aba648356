/* Unit tests of the eth wire message codecs (plugins/eth/eth_msg.c, linked
 * into this program): every message eth/66..69 carries, encoded and decoded,
 * against the EIP-2481 test cases and independently computed encodings, plus
 * malformed inputs, which must all be refused with ETHD_EPROTO. */
#include "eth_msg.h"

#include "testutil.h"

#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EIP-2481 "Test Cases" (ethereum/EIPs, EIPS/eip-2481.md, CC0): the RLP of
 * each redefined message, request id 1111. */
static const char V_GH_HASH[] =
    "e8820457e4a000000000000000000000000000000000000000000000000000000000deadc0de050580";

static const char V_GH_NUM[] =
    "ca820457c682270f050580";

static const char V_BLOCK_HEADERS[] =
    "f90202820457f901fcf901f9a00000000000000000000000000000000000000000000000000000000000000000"
    "a00000000000000000000000000000000000000000000000000000000000000000940000000000000000000000"
    "000000000000000000a00000000000000000000000000000000000000000000000000000000000000000a00000"
    "000000000000000000000000000000000000000000000000000000000000a00000000000000000000000000000"
    "000000000000000000000000000000000000b90100000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000008208ae820d0582115c8215b3821a0a827788a000000000000000000000000000000000000000"
    "00000000000000000000000000880000000000000000";

static const char V_GET_BODIES[] =
    "f847820457f842a000000000000000000000000000000000000000000000000000000000deadc0dea000000000"
    "000000000000000000000000000000000000000000000000feedbeef";

static const char V_BLOCK_BODIES[] =
    "f902dc820457f902d6f902d3f8d2f867088504a817c8088302e248943535353535353535353535353535353535"
    "3535358202008025a064b1702d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c12a064b170"
    "2d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c10f867098504a817c80983033450943535"
    "3535353535353535353535353535353535358202d98025a052f8f61201b2b11a78d6e866abc9c3db2ae8631fa6"
    "56bfe5cb53668255367afba052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afbf9"
    "01fcf901f9a00000000000000000000000000000000000000000000000000000000000000000a0000000000000"
    "000000000000000000000000000000000000000000000000000094000000000000000000000000000000000000"
    "0000a00000000000000000000000000000000000000000000000000000000000000000a0000000000000000000"
    "0000000000000000000000000000000000000000000000a0000000000000000000000000000000000000000000"
    "0000000000000000000000b9010000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "8208ae820d0582115c8215b3821a0a827788a00000000000000000000000000000000000000000000000000000"
    "000000000000880000000000000000";

static const char V_GET_NODE_DATA[] =
    "f847820457f842a000000000000000000000000000000000000000000000000000000000deadc0dea000000000"
    "000000000000000000000000000000000000000000000000feedbeef";

static const char V_NODE_DATA[] =
    "ce820457ca84deadc0de84feedbeef";

static const char V_GET_RECEIPTS[] =
    "f847820457f842a000000000000000000000000000000000000000000000000000000000deadc0dea000000000"
    "000000000000000000000000000000000000000000000000feedbeef";

static const char V_RECEIPTS[] =
    "f90172820457f9016cf90169f901668001b9010000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000f85ff85d940000000000000000000000000000000000000011f842a00000000000000000000000"
    "00000000000000000000000000000000000000deada00000000000000000000000000000000000000000000000"
    "00000000000000beef830100ff";

static const char V_GET_POOLED[] =
    "f847820457f842a000000000000000000000000000000000000000000000000000000000deadc0dea000000000"
    "000000000000000000000000000000000000000000000000feedbeef";

static const char V_POOLED[] =
    "f8d7820457f8d2f867088504a817c8088302e24894353535353535353535353535353535353535353582020080"
    "25a064b1702d9298fee62dfeccc57d322a463ad55ca201256d01f62b45b2e1c21c12a064b1702d9298fee62dfe"
    "ccc57d322a463ad55ca201256d01f62b45b2e1c21c10f867098504a817c8098303345094353535353535353535"
    "35353535353535353535358202d98025a052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb536682"
    "55367afba052f8f61201b2b11a78d6e866abc9c3db2ae8631fa656bfe5cb53668255367afb";

/* devnet-a (ETHD_FIXTURES/devnet-a/README.md): Status of a node at its head
 * #300, encoded by an independent RLP encoder. */
static const char GENESIS_A[] = "4c4f704d7a3798c026ad9ca2f77406ef3eac9a058d0d355ab0b2727cfb853f9e";
static const char HEAD_A[] = "605699863588916d99da53d538b73d12225086c976cbfd9c584b4d79e9e5f5e3";
#define STATUS68_A \
    "f85144831469c9820259a0605699863588916d99da53d538b73d12225086c976cbfd9c584b4d79e9e5f5e3a04c" \
    "4f704d7a3798c026ad9ca2f77406ef3eac9a058d0d355ab0b2727cfb853f9ec684271ca03f80"
#define STATUS69_A \
    "f85245831469c9a04c4f704d7a3798c026ad9ca2f77406ef3eac9a058d0d355ab0b2727cfb853f9ec684271ca0" \
    "3f808082012ca0605699863588916d99da53d538b73d12225086c976cbfd9c584b4d79e9e5f5e3"

/* ---- helpers ---- */

struct bytes {
    uint8_t *p;
    size_t n;
};

static struct bytes hx(const char *s)
{
    struct bytes b;
    b.p = tu_hex_alloc(s, &b.n);
    return b;
}

static void check_bytes(const struct ethd_buf *got, const struct bytes *want)
{
    ck_assert_uint_eq(got->len, want->n);
    ck_assert_msg(memcmp(got->data, want->p, want->n) == 0, "encoding differs");
}

static uint8_t *read_fixture(const char *rel, size_t *len)
{
    const char *root = getenv("ETHD_FIXTURES");
    ck_assert_msg(root != NULL, "ETHD_FIXTURES is not set");
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n ? (size_t)n : 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void hash_of(uint32_t i, uint8_t h[32])
{
    memset(h, 0, 32);
    h[0] = 0xab;
    h[28] = (uint8_t)(i >> 24);
    h[29] = (uint8_t)(i >> 16);
    h[30] = (uint8_t)(i >> 8);
    h[31] = (uint8_t)i;
}

/* Build an arbitrary RLP list from hex items (each already encoded). */
static struct bytes rlp_list(const char *const *items, size_t n)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < n; i++) {
        struct bytes it = hx(items[i]);
        ethd_rlp_raw(&e, it.p, it.n);
        free(it.p);
    }
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    struct bytes r = {b.data, b.len};
    return r;
}

/* ---- Status ---- */

static void devnet_status(uint32_t v, struct ethd_eth_status *s)
{
    memset(s, 0, sizeof(*s));
    s->version = v;
    s->network_id = 1337801;
    s->td[31] = 0x59;
    s->td[30] = 0x02;
    tu_hex_fixed(HEAD_A, s->head, 32);
    tu_hex_fixed(GENESIS_A, s->genesis, 32);
    s->forkid.hash[0] = 0x27;
    s->forkid.hash[1] = 0x1c;
    s->forkid.hash[2] = 0xa0;
    s->forkid.hash[3] = 0x3f;
    s->forkid.next = 0;
    if (v >= 69) {
        memset(s->td, 0, 32);
        s->earliest = 0;
        s->latest = 300;
    }
}

START_TEST(status_68_known_encoding)
{
    struct ethd_eth_status s, d;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct bytes want = hx(STATUS68_A);
    devnet_status(68, &s);
    ck_assert_int_eq(ethd_eth_status_encode(68, &s, &b), 0);
    check_bytes(&b, &want);
    ck_assert_int_eq(ethd_eth_status_decode(68, want.p, want.n, &d), 0);
    ck_assert_uint_eq(d.version, 68);
    ck_assert_uint_eq(d.network_id, 1337801);
    ck_assert_mem_eq(d.td, s.td, 32);
    ck_assert_mem_eq(d.head, s.head, 32);
    ck_assert_mem_eq(d.genesis, s.genesis, 32);
    ck_assert_mem_eq(d.forkid.hash, s.forkid.hash, 4);
    ck_assert_uint_eq(d.forkid.next, 0);
    /* eth/66 and 67 use the same form. */
    for (uint32_t v = 66; v <= 67; v++) {
        s.version = v;
        ethd_buf_reset(&b);
        ck_assert_int_eq(ethd_eth_status_encode(v, &s, &b), 0);
        ck_assert_int_eq(ethd_eth_status_decode(v, b.data, b.len, &d), 0);
        ck_assert_uint_eq(d.version, v);
    }
    /* The eth/69 form does not decode as eth/68, nor the reverse. */
    ck_assert_int_eq(ethd_eth_status_decode(69, want.p, want.n, &d), ETHD_EPROTO);
    ethd_buf_free(&b);
    free(want.p);
}
END_TEST

START_TEST(status_69_known_encoding)
{
    struct ethd_eth_status s, d;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct bytes want = hx(STATUS69_A);
    devnet_status(69, &s);
    ck_assert_int_eq(ethd_eth_status_encode(69, &s, &b), 0);
    check_bytes(&b, &want);
    ck_assert_int_eq(ethd_eth_status_decode(69, want.p, want.n, &d), 0);
    ck_assert_uint_eq(d.version, 69);
    ck_assert_uint_eq(d.network_id, 1337801);
    ck_assert_uint_eq(d.earliest, 0);
    ck_assert_uint_eq(d.latest, 300);
    ck_assert_mem_eq(d.head, s.head, 32);
    ck_assert_mem_eq(d.genesis, s.genesis, 32);
    ck_assert_mem_eq(d.forkid.hash, s.forkid.hash, 4);
    ck_assert_int_eq(ethd_eth_status_decode(68, want.p, want.n, &d), ETHD_EPROTO);
    ethd_buf_free(&b);
    free(want.p);
}
END_TEST

#define H32 "a0" "4c4f704d7a3798c026ad9ca2f77406ef3eac9a058d0d355ab0b2727cfb853f9e"
#define H31 "9f" "4f704d7a3798c026ad9ca2f77406ef3eac9a058d0d355ab0b2727cfb853f9e"
#define FID "c684271ca03f80"

START_TEST(status_bad_forms)
{
    /* eth/68 form: [version, networkid, td, blockhash, genesis, forkid] */
    static const char *const good68[] = {"44", "831469c9", "820259", H32, H32, FID};
    struct ethd_eth_status d;
    struct bytes ok = rlp_list(good68, 6);
    ck_assert_int_eq(ethd_eth_status_decode(68, ok.p, ok.n, &d), 0);
    free(ok.p);
    static const struct {
        const char *items[8];
        size_t n;
        const char *what;
    } bad[] = {
        {{"44", "831469c9", "820259", H32, H32}, 5, "fork id missing"},
        {{"44", "831469c9", "820259", H32, H32, FID, "01"}, 7, "extra element"},
        {{"44", "831469c9", "820259", H31, H32, FID}, 6, "31-byte head hash"},
        {{"44", "831469c9", "820259", H32, H31, FID}, 6, "31-byte genesis"},
        {{"44", "831469c9", "83000259", H32, H32, FID}, 6, "td with a leading zero"},
        {{"44", "831469c9",
          "a1" "0100000000000000000000000000000000000000000000000000000000000000" "00", H32, H32,
          FID},
         6, "td over 256 bits"},
        {{"44", "89010000000000000000", "820259", H32, H32, FID}, 6, "network id over 64 bits"},
        {{"c0", "831469c9", "820259", H32, H32, FID}, 6, "version is a list"},
        {{"44", "831469c9", "820259", H32, H32, "c584271ca03f"}, 6, "fork id of one element"},
        {{"44", "831469c9", "820259", H32, H32, "c58327ca3f80"}, 6, "fork hash of 3 bytes"},
        {{"44", "831469c9", "820259", H32, H32, "84271ca03f"}, 6, "fork id not a list"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct bytes m = rlp_list(bad[i].items, bad[i].n);
        ck_assert_msg(ethd_eth_status_decode(68, m.p, m.n, &d) == ETHD_EPROTO, "%s accepted",
                      bad[i].what);
        free(m.p);
    }
    /* Not RLP, a string, trailing bytes, empty input. */
    static const char *const raw[] = {"ff", "8344434c", "c0", "f85144", STATUS68_A "00"};
    for (size_t i = 0; i < sizeof(raw) / sizeof(*raw); i++) {
        struct bytes m = hx(raw[i]);
        ck_assert_msg(ethd_eth_status_decode(68, m.p, m.n, &d) == ETHD_EPROTO, "raw %zu", i);
        free(m.p);
    }
    ck_assert_int_eq(ethd_eth_status_decode(68, NULL, 0, &d), ETHD_EPROTO);
    /* eth/69: [version, networkid, genesis, forkid, earliest, latest, latestHash] */
    static const char *const bad69[] = {"45", "831469c9", H32, FID, "80", "82012c"};
    struct bytes m = rlp_list(bad69, 6);
    ck_assert_int_eq(ethd_eth_status_decode(69, m.p, m.n, &d), ETHD_EPROTO);
    free(m.p);
}
END_TEST

/* ---- GetBlockHeaders ---- */

START_TEST(get_headers_eip2481)
{
    struct ethd_eth_headers_query q;
    uint64_t id;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct bytes v = hx(V_GH_HASH);
    ck_assert_int_eq(ethd_eth_get_headers_decode(v.p, v.n, &id, &q), 0);
    ck_assert_uint_eq(id, 1111);
    ck_assert(q.by_hash);
    ck_assert_uint_eq(q.hash[28], 0xde);
    ck_assert_uint_eq(q.hash[31], 0xde);
    ck_assert_uint_eq(q.amount, 5);
    ck_assert_uint_eq(q.skip, 5);
    ck_assert(!q.reverse);
    ck_assert_int_eq(ethd_eth_get_headers_encode(id, &q, &b), 0);
    check_bytes(&b, &v);
    free(v.p);

    v = hx(V_GH_NUM);
    ck_assert_int_eq(ethd_eth_get_headers_decode(v.p, v.n, &id, &q), 0);
    ck_assert_uint_eq(id, 1111);
    ck_assert(!q.by_hash);
    ck_assert_uint_eq(q.number, 9999);
    ck_assert_uint_eq(q.amount, 5);
    ck_assert_uint_eq(q.skip, 5);
    ck_assert(!q.reverse);
    ethd_buf_reset(&b);
    ck_assert_int_eq(ethd_eth_get_headers_encode(id, &q, &b), 0);
    check_bytes(&b, &v);
    free(v.p);

    /* Reverse, skip near 2^64 (the skip-overflow shape), number 0. */
    struct ethd_eth_headers_query r = {.by_hash = false, .number = 0, .amount = 1024,
                                       .skip = UINT64_MAX - 1, .reverse = true};
    ethd_buf_reset(&b);
    ck_assert_int_eq(ethd_eth_get_headers_encode(UINT64_MAX, &r, &b), 0);
    ck_assert_int_eq(ethd_eth_get_headers_decode(b.data, b.len, &id, &q), 0);
    ck_assert_uint_eq(id, UINT64_MAX);
    ck_assert_uint_eq(q.number, 0);
    ck_assert_uint_eq(q.skip, UINT64_MAX - 1);
    ck_assert(q.reverse);
    ethd_buf_free(&b);
}
END_TEST

START_TEST(get_headers_bad_forms)
{
    static const struct {
        const char *hex;
        const char *what;
    } bad[] = {
        {"ca820457c682270f050502", "reverse = 2"},
        {"ca820457c682270f0505c0", "reverse a list"},
        {"cb820457c782270f05058001", "five query elements"},
        {"c9820457c582270f0505", "three query elements"},
        {"c6820457c20505", "no origin"},
        {"d2820457ce8901000000000000000005058080", "9-byte number origin"},
        {"e9820457e5a10000000000000000000000000000000000000000000000000000000000deadc0de00050580",
         "33-byte origin"},
        {"ca820457c68300270f050580", "origin with a leading zero"},
        {"cb820457c682270f05058001", "element after the query"},
        {"c682270f050580", "no request id"},
        {"d1890100000000000000000000c682270f050580", "request id over 64 bits"},
        {"c9820457c482270f05058080", "bad list length"},
        {"ca820457c682270f05058000", "trailing byte"},
        {"ca820457860102270f0580", "query not a list"},
        {"80", "a string"},
    };
    struct ethd_eth_headers_query q;
    uint64_t id;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct bytes m = hx(bad[i].hex);
        ck_assert_msg(ethd_eth_get_headers_decode(m.p, m.n, &id, &q) == ETHD_EPROTO,
                      "%s accepted", bad[i].what);
        free(m.p);
    }
}
END_TEST

/* ---- requests by hash ---- */

START_TEST(hash_requests_eip2481)
{
    /* GetBlockBodies, GetNodeData, GetReceipts, GetPooledTransactions share
     * the form and, in the EIP, the bytes. */
    const char *vs[] = {V_GET_BODIES, V_GET_NODE_DATA, V_GET_RECEIPTS, V_GET_POOLED};
    for (size_t k = 0; k < 4; k++) {
        struct bytes v = hx(vs[k]);
        struct ethd_rlp_item list;
        struct ethd_rlp_iter it;
        size_t count;
        uint64_t id;
        const uint8_t *h;
        uint8_t hashes[2][32];
        ck_assert_int_eq(ethd_eth_hashes_decode(v.p, v.n, &id, &list, &count), 0);
        ck_assert_uint_eq(id, 1111);
        ck_assert_uint_eq(count, 2);
        ethd_rlp_iter_init(&it, &list);
        ck_assert_int_eq(ethd_eth_hash_next(&it, &h), 1);
        ck_assert_uint_eq(h[28], 0xde);
        memcpy(hashes[0], h, 32);
        ck_assert_int_eq(ethd_eth_hash_next(&it, &h), 1);
        ck_assert_uint_eq(h[28], 0xfe);
        memcpy(hashes[1], h, 32);
        ck_assert_int_eq(ethd_eth_hash_next(&it, &h), 0);
        struct ethd_buf b = ETHD_BUF_INIT;
        ck_assert_int_eq(ethd_eth_hashes_encode(1111, (const uint8_t(*)[32])hashes, 2, &b), 0);
        check_bytes(&b, &v);
        ethd_buf_free(&b);
        free(v.p);
    }
}
END_TEST

START_TEST(hash_requests_bad_forms)
{
    static const struct {
        const char *hex;
        const char *what;
    } bad[] = {
        {"e3820457df9f000000000000000000000000000000000000000000000000000000deadc0de",
         "31-byte hash"},
        {"c5820457c1c0", "a list as hash"},
        {"c3820457", "no list"},
        {"c5820457c0", "bad outer length"},
        {"c5820457c080", "element after the list"},
        {"c4820457" "80", "hash list is a string"},
        {"c2c0", "no request id"},
    };
    struct ethd_rlp_item list;
    size_t count;
    uint64_t id;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct bytes m = hx(bad[i].hex);
        ck_assert_msg(ethd_eth_hashes_decode(m.p, m.n, &id, &list, &count) == ETHD_EPROTO,
                      "%s accepted", bad[i].what);
        free(m.p);
    }
    /* An empty list is fine. */
    struct bytes m = hx("c4820457c0");
    ck_assert_int_eq(ethd_eth_hashes_decode(m.p, m.n, &id, &list, &count), 0);
    ck_assert_uint_eq(count, 0);
    free(m.p);
}
END_TEST

START_TEST(hash_request_100k)
{
    /* A 3.3 MB request of 100,000 hashes decodes without copying; the
     * serving side only walks as far as its caps (eth_serve.c). */
    const size_t n = 100000;
    uint8_t(*hs)[32] = malloc(n * 32);
    ck_assert_ptr_nonnull(hs);
    for (size_t i = 0; i < n; i++)
        hash_of((uint32_t)i, hs[i]);
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_eth_hashes_encode(7, (const uint8_t(*)[32])hs, n, &b), 0);
    ck_assert_uint_gt(b.len, 3300000);
    struct ethd_rlp_item list;
    struct ethd_rlp_iter it;
    size_t count;
    uint64_t id;
    const uint8_t *h;
    ck_assert_int_eq(ethd_eth_hashes_decode(b.data, b.len, &id, &list, &count), 0);
    ck_assert_uint_eq(count, n);
    ck_assert_uint_eq(id, 7);
    ethd_rlp_iter_init(&it, &list);
    size_t seen = 0;
    while (ethd_eth_hash_next(&it, &h)) {
        ck_assert_mem_eq(h, hs[seen], 32);
        seen++;
    }
    ck_assert_uint_eq(seen, n);
    ethd_buf_free(&b);
    free(hs);
}
END_TEST

/* ---- responses ---- */

START_TEST(block_headers_eip2481)
{
    struct bytes v = hx(V_BLOCK_HEADERS);
    struct ethd_rlp_item list, item;
    struct ethd_rlp_iter it;
    uint64_t id;
    ck_assert_int_eq(ethd_eth_resp_decode(v.p, v.n, &id, &list), 0);
    ck_assert_uint_eq(id, 1111);
    ethd_rlp_iter_init(&it, &list);
    ck_assert_int_eq(ethd_rlp_iter_next(&it, &item), 0);
    ck_assert(!ethd_rlp_iter_more(&it));
    struct ethd_header h;
    uint8_t hash[32], want[32];
    ck_assert_int_eq(ethd_header_decode(item.raw, item.raw_len, &h), 0);
    ck_assert_uint_eq(h.number, 0xd05);
    ck_assert_int_eq(ethd_header_hash(&h, hash), 0);
    tu_hex_fixed("8c2f2af15b7b563b6ab1e09bed0e9caade7ed730aec98b70a993597a797579a9", want, 32);
    ck_assert_mem_eq(hash, want, 32);
    ethd_header_free(&h);
    /* Re-built from the item, the response is the same bytes. */
    struct ethd_eth_resp r;
    struct ethd_buf b = ETHD_BUF_INIT;
    ethd_eth_resp_init(&r);
    ck_assert_int_eq(ethd_eth_resp_add(&r, item.raw, item.raw_len), 0);
    ck_assert_int_eq(ethd_eth_resp_encode(&r, 1111, &b), 0);
    check_bytes(&b, &v);
    ethd_eth_resp_free(&r);
    ethd_buf_free(&b);
    free(v.p);
}
END_TEST

START_TEST(block_bodies_eip2481)
{
    struct bytes v = hx(V_BLOCK_BODIES);
    struct ethd_rlp_item list, item;
    struct ethd_rlp_iter it;
    uint64_t id;
    ck_assert_int_eq(ethd_eth_resp_decode(v.p, v.n, &id, &list), 0);
    ck_assert_uint_eq(id, 1111);
    ethd_rlp_iter_init(&it, &list);
    ck_assert_int_eq(ethd_rlp_iter_next(&it, &item), 0);
    struct ethd_body body;
    ck_assert_int_eq(ethd_body_decode_item(&item, &body), 0);
    ck_assert_uint_eq(body.n_txs, 2);
    ck_assert_uint_eq(body.n_uncles, 1);
    struct ethd_tx tx;
    uint8_t want[32];
    ck_assert_int_eq(ethd_tx_decode(body.txs[0].data, body.txs[0].len, &tx), 0);
    tu_hex_fixed("588df025c4c2d757d3e314bd3dfbfe352687324e6b8557ad1731585e96928aed", want, 32);
    ck_assert_mem_eq(tx.hash, want, 32);
    ethd_tx_free(&tx);
    ethd_body_free(&body);
    struct ethd_eth_resp r;
    struct ethd_buf b = ETHD_BUF_INIT;
    ethd_eth_resp_init(&r);
    ck_assert_int_eq(ethd_eth_resp_add(&r, item.raw, item.raw_len), 0);
    ck_assert_int_eq(ethd_eth_resp_encode(&r, 1111, &b), 0);
    check_bytes(&b, &v);
    ethd_eth_resp_free(&r);
    ethd_buf_free(&b);
    free(v.p);

    /* PooledTransactions: [id, [tx, tx]] with the same two transactions. */
    v = hx(V_POOLED);
    ck_assert_int_eq(ethd_eth_resp_decode(v.p, v.n, &id, &list), 0);
    size_t n;
    ck_assert_int_eq(ethd_rlp_list_count(&list, &n), 0);
    ck_assert_uint_eq(n, 2);
    free(v.p);
    /* NodeData: [id, [0xdeadc0de, 0xfeedbeef]] (eth/66). */
    v = hx(V_NODE_DATA);
    ck_assert_int_eq(ethd_eth_resp_decode(v.p, v.n, &id, &list), 0);
    ck_assert_uint_eq(id, 1111);
    ck_assert_int_eq(ethd_rlp_list_count(&list, &n), 0);
    ck_assert_uint_eq(n, 2);
    free(v.p);
}
END_TEST

START_TEST(receipts_eip2481)
{
    struct bytes v = hx(V_RECEIPTS);
    struct ethd_rlp_item list, blk;
    struct ethd_rlp_iter it;
    uint64_t id;
    ck_assert_int_eq(ethd_eth_resp_decode(v.p, v.n, &id, &list), 0);
    ck_assert_uint_eq(id, 1111);
    ethd_rlp_iter_init(&it, &list);
    ck_assert_int_eq(ethd_rlp_iter_next(&it, &blk), 0);
    struct ethd_receipt *rs;
    size_t n;
    ck_assert_int_eq(ethd_receipts_decode_list(&blk, &rs, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(rs[0].cumulative_gas, 1);
    ck_assert_uint_eq(rs[0].n_logs, 1);
    ck_assert_uint_eq(rs[0].logs[0].data_len, 3);
    ethd_receipts_free(rs, n);
    /* eth/69 form: [type, status, cumulativeGas, logs] per receipt. */
    struct ethd_buf b69 = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b69);
    ck_assert_int_eq(ethd_eth_receipts_to69(blk.raw, blk.raw_len, &e), 0);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    struct ethd_rlp_item l69, r0, f;
    struct ethd_rlp_iter i69, ri;
    ck_assert_int_eq(ethd_rlp_decode(b69.data, b69.len, &l69), 0);
    ethd_rlp_iter_init(&i69, &l69);
    ck_assert_int_eq(ethd_rlp_iter_next(&i69, &r0), 0);
    ck_assert(r0.is_list);
    size_t nf;
    ck_assert_int_eq(ethd_rlp_list_count(&r0, &nf), 0);
    ck_assert_uint_eq(nf, 4); /* no bloom */
    ethd_rlp_iter_init(&ri, &r0);
    uint64_t type = 9;
    ck_assert_int_eq(ethd_rlp_iter_next(&ri, &f), 0);
    ck_assert_int_eq(ethd_rlp_get_uint64(&f, &type), 0);
    ck_assert_uint_eq(type, 0);
    ck_assert_uint_lt(b69.len, blk.raw_len - 200);
    ethd_buf_free(&b69);
    free(v.p);
}
END_TEST

START_TEST(receipts_69_round_trip_fixture)
{
    /* Every block's receipt list of devnet-a (legacy, 2930 and 1559
     * receipts, logs) to eth/69 and back gives the stored bytes again. */
    size_t len;
    uint8_t *all = read_fixture("devnet-a/receipts.rlp", &len);
    const uint8_t *p = all;
    size_t left = len, blocks = 0, nonempty = 0;
    struct ethd_buf b69 = ETHD_BUF_INIT, back = ETHD_BUF_INIT;
    while (left) {
        struct ethd_rlp_item blk, l69;
        ck_assert_int_eq(ethd_rlp_next(&p, &left, &blk), 0);
        struct ethd_rlp_enc e;
        ethd_buf_reset(&b69);
        ethd_buf_reset(&back);
        ethd_rlp_enc_init(&e, &b69);
        ck_assert_int_eq(ethd_eth_receipts_to69(blk.raw, blk.raw_len, &e), 0);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        ck_assert_int_eq(ethd_rlp_decode(b69.data, b69.len, &l69), 0);
        ck_assert_int_eq(ethd_eth_receipts_from69(&l69, &back), 0);
        ck_assert_uint_eq(back.len, blk.raw_len);
        ck_assert_mem_eq(back.data, blk.raw, blk.raw_len);
        if (blk.len)
            nonempty++;
        blocks++;
    }
    ck_assert_uint_eq(blocks, 300);
    ck_assert_uint_gt(nonempty, 200);
    /* Malformed eth/69 lists are refused. */
    static const char *const bad[] = {"c3c2c0c0", "c1c0", "c6c58001018180", "80"};
    for (size_t i = 0; i < 4; i++) {
        struct bytes m = hx(bad[i]);
        struct ethd_rlp_item it;
        ethd_buf_reset(&back);
        ck_assert_int_eq(ethd_rlp_decode(m.p, m.n, &it), 0);
        ck_assert_int_eq(ethd_eth_receipts_from69(&it, &back), ETHD_EPROTO);
        free(m.p);
    }
    /* And malformed eth/66-68 lists, too. */
    struct ethd_rlp_enc e;
    ethd_buf_reset(&b69);
    ethd_rlp_enc_init(&e, &b69);
    ck_assert_int_eq(ethd_eth_receipts_to69((const uint8_t *)"\xc2\xc1\xc0", 3, &e), ETHD_EPROTO);
    ethd_buf_free(&b69);
    ethd_buf_free(&back);
    free(all);
}
END_TEST

START_TEST(response_bad_forms)
{
    static const char *const bad[] = {"c3820457", "c4820457" "80", "c6820457c0c0", "c1c0",
                                      "c0", "80", "c5820457c1"};
    struct ethd_rlp_item list;
    uint64_t id;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct bytes m = hx(bad[i]);
        ck_assert_msg(ethd_eth_resp_decode(m.p, m.n, &id, &list) == ETHD_EPROTO, "bad %zu", i);
        free(m.p);
    }
}
END_TEST

/* ---- announcements ---- */

START_TEST(new_block_hashes)
{
    uint8_t hs[3][32];
    uint64_t nums[3] = {1, 300, UINT64_MAX};
    for (int i = 0; i < 3; i++)
        hash_of((uint32_t)i, hs[i]);
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_eth_nbh_encode((const uint8_t(*)[32])hs, nums, 3, &b), 0);
    struct ethd_rlp_item list;
    struct ethd_rlp_iter it;
    size_t count;
    ck_assert_int_eq(ethd_eth_nbh_decode(b.data, b.len, &list, &count), 0);
    ck_assert_uint_eq(count, 3);
    ethd_rlp_iter_init(&it, &list);
    const uint8_t *h;
    uint64_t num;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(ethd_eth_nbh_next(&it, &h, &num), 1);
        ck_assert_mem_eq(h, hs[i], 32);
        ck_assert_uint_eq(num, nums[i]);
    }
    ck_assert_int_eq(ethd_eth_nbh_next(&it, &h, &num), 0);
    ethd_buf_free(&b);
    static const char *const bad[] = {
        "e3e2" H32,                  /* no number */
        "e5e4" H32 "0101",           /* three elements */
        "e3e2" H31 "01",             /* 31-byte hash */
        "e4e3" H32 "c0",             /* number is a list */
        "e2" H32 "01",               /* entries not lists */
        "80",                        /* not a list */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct bytes m = hx(bad[i]);
        ck_assert_msg(ethd_eth_nbh_decode(m.p, m.n, &list, &count) == ETHD_EPROTO, "bad %zu", i);
        free(m.p);
    }
    struct bytes m = hx("c0");
    ck_assert_int_eq(ethd_eth_nbh_decode(m.p, m.n, &list, &count), 0);
    ck_assert_uint_eq(count, 0);
    free(m.p);
}
END_TEST

START_TEST(new_block_fixture)
{
    /* NewBlock [block, td] with devnet-a block 1 (td 3). */
    size_t len;
    uint8_t *chain = read_fixture("devnet-a/chain.rlp", &len);
    const uint8_t *p = chain;
    size_t left = len;
    struct ethd_rlp_item blk;
    ck_assert_int_eq(ethd_rlp_next(&p, &left, &blk), 0);
    uint8_t td[32] = {0}, td2[32];
    td[31] = 3;
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_eth_new_block_encode(blk.raw, blk.raw_len, td, &b), 0);
    struct ethd_rlp_item got;
    ck_assert_int_eq(ethd_eth_new_block_decode(b.data, b.len, &got, td2), 0);
    ck_assert_uint_eq(got.raw_len, blk.raw_len);
    ck_assert_mem_eq(got.raw, blk.raw, blk.raw_len);
    ck_assert_mem_eq(td, td2, 32);
    struct ethd_block block;
    ck_assert_int_eq(ethd_block_decode_item(&got, &block), 0);
    ck_assert_uint_eq(block.header.number, 1);
    ethd_block_free(&block);
    ethd_buf_free(&b);
    /* Bad: td with a leading zero, a 33-byte td, block not a list, extra. */
    const char *const tds[] = {"820003", "a1" "01000000000000000000000000000000000000000000000000"
                                         "00000000000000",
                               NULL};
    for (int i = 0; tds[i]; i++) {
        struct bytes t = hx(tds[i]);
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &b);
        ethd_rlp_list_begin(&e);
        ethd_rlp_raw(&e, blk.raw, blk.raw_len);
        ethd_rlp_raw(&e, t.p, t.n);
        ethd_rlp_list_end(&e);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        ck_assert_int_eq(ethd_eth_new_block_decode(b.data, b.len, &got, td2), ETHD_EPROTO);
        ethd_buf_free(&b);
        free(t.p);
    }
    static const char *const bad[] = {"c3820102" "03", "c4c00303", "c1c0", "c0"};
    for (size_t i = 0; i < 4; i++) {
        struct bytes m = hx(bad[i]);
        ck_assert_msg(ethd_eth_new_block_decode(m.p, m.n, &got, td2) == ETHD_EPROTO, "bad %zu",
                      i);
        free(m.p);
    }
    free(chain);
}
END_TEST

START_TEST(block_range_update)
{
    uint8_t h[32], h2[32];
    uint64_t e, l;
    hash_of(300, h);
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_eth_range_encode(0, 300, h, &b), 0);
    ck_assert_int_eq(ethd_eth_range_decode(b.data, b.len, &e, &l, h2), 0);
    ck_assert_uint_eq(e, 0);
    ck_assert_uint_eq(l, 300);
    ck_assert_mem_eq(h, h2, 32);
    ethd_buf_free(&b);
    static const char *const bad[] = {"e38082012c" H31, "e58082012c" H32 "01", "c48082012c",
                                      "e4c082012c" H32};
    for (size_t i = 0; i < 4; i++) {
        struct bytes m = hx(bad[i]);
        ck_assert_msg(ethd_eth_range_decode(m.p, m.n, &e, &l, h2) == ETHD_EPROTO, "bad %zu", i);
        free(m.p);
    }
}
END_TEST

START_TEST(pooled_announcements)
{
    uint8_t hs[2][32], types[2] = {0, 2};
    uint32_t sizes[2] = {110, 250};
    hash_of(1, hs[0]);
    hash_of(2, hs[1]);
    struct ethd_eth_pooled_ann a;
    struct ethd_buf b = ETHD_BUF_INIT;
    /* eth/66-67: a plain hash list. */
    ck_assert_int_eq(ethd_eth_pooled_ann_encode(67, types, sizes, (const uint8_t(*)[32])hs, 2, &b),
                     0);
    ck_assert_int_eq(ethd_eth_pooled_ann_decode(67, b.data, b.len, &a), 0);
    ck_assert_uint_eq(a.n, 2);
    ck_assert_ptr_null(a.types);
    ck_assert_int_eq(ethd_eth_pooled_ann_decode(68, b.data, b.len, &a), ETHD_EPROTO);
    ethd_buf_reset(&b);
    /* eth/68 (EIP-5793): [types, [sizes], [hashes]]. */
    ck_assert_int_eq(ethd_eth_pooled_ann_encode(68, types, sizes, (const uint8_t(*)[32])hs, 2, &b),
                     0);
    ck_assert_int_eq(ethd_eth_pooled_ann_decode(68, b.data, b.len, &a), 0);
    ck_assert_uint_eq(a.n, 2);
    ck_assert_mem_eq(a.types, types, 2);
    ck_assert_int_eq(ethd_eth_pooled_ann_decode(67, b.data, b.len, &a), ETHD_EPROTO);
    ethd_buf_free(&b);
    static const char *const bad68[] = {
        "e6" "8200" "c2016e" "e1" H32,               /* 2 types, 2 sizes, 1 hash */
        "e5" "82" "0002" "c1" "6e" "e1" H32,          /* 2 types, 1 size */
        "e5" "c0" "c2016e" "e1" H32,                   /* types is a list */
        "e7" "81" "02" "c1" "6e" "e1" H32 "80",        /* extra element */
    };
    for (size_t i = 0; i < sizeof(bad68) / sizeof(*bad68); i++) {
        struct bytes bm = hx(bad68[i]);
        ck_assert_msg(ethd_eth_pooled_ann_decode(68, bm.p, bm.n, &a) == ETHD_EPROTO, "bad68 %zu",
                      i);
        free(bm.p);
    }
    /* A size over 32 bits, well formed. */
    struct bytes m = hx("e9" "81" "02" "c6" "850100000000" "e1" H32);
    ck_assert_int_eq(ethd_eth_pooled_ann_decode(68, m.p, m.n, &a), ETHD_EPROTO);
    free(m.p);
    m = hx("e2" H31 "00");
    ck_assert_int_eq(ethd_eth_pooled_ann_decode(66, m.p, m.n, &a), ETHD_EPROTO);
    free(m.p);
}
END_TEST

START_TEST(transactions_check)
{
    size_t n;
    /* The two legacy transactions of the EIP-2481 PooledTransactions case,
     * plus a typed one as a string item. */
    struct bytes v = hx(V_POOLED);
    struct ethd_rlp_item list;
    uint64_t id;
    ck_assert_int_eq(ethd_eth_resp_decode(v.p, v.n, &id, &list), 0);
    ck_assert_int_eq(ethd_eth_txs_check(list.raw, list.raw_len, &n), 0);
    ck_assert_uint_eq(n, 2);
    free(v.p);
    struct bytes ok = hx("c4" "83" "02c180");
    ck_assert_int_eq(ethd_eth_txs_check(ok.p, ok.n, &n), 0);
    ck_assert_uint_eq(n, 1);
    free(ok.p);
    static const char *const bad[] = {"c2" "81" "85", "c1" "80", "c4" "83" "c2c180", "80",
                                      "c3" "82" "02c1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct bytes m = hx(bad[i]);
        ck_assert_msg(ethd_eth_txs_check(m.p, m.n, &n) == ETHD_EPROTO, "bad %zu", i);
        free(m.p);
    }
}
END_TEST

START_TEST(message_names)
{
    ck_assert_str_eq(ethd_eth_msg_name(ETH_STATUS), "Status");
    ck_assert_str_eq(ethd_eth_msg_name(ETH_GET_BLOCK_HEADERS), "GetBlockHeaders");
    ck_assert_str_eq(ethd_eth_msg_name(ETH_BLOCK_RANGE_UPDATE), "BlockRangeUpdate");
    ck_assert_str_eq(ethd_eth_msg_name(0x0b), "unknown");
    ck_assert_str_eq(ethd_eth_msg_name(UINT64_MAX), "unknown");
    ck_assert_uint_eq(ETH_LENGTH_66, 17);
    ck_assert_uint_eq(ETH_LENGTH_69, 18);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("eth_msg");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, status_68_known_encoding);
    tcase_add_test(tc, status_69_known_encoding);
    tcase_add_test(tc, status_bad_forms);
    suite_add_tcase(s, tc);
    tc = tcase_create("requests");
    tcase_add_test(tc, get_headers_eip2481);
    tcase_add_test(tc, get_headers_bad_forms);
    tcase_add_test(tc, hash_requests_eip2481);
    tcase_add_test(tc, hash_requests_bad_forms);
    tcase_add_test(tc, hash_request_100k);
    suite_add_tcase(s, tc);
    tc = tcase_create("responses");
    tcase_add_test(tc, block_headers_eip2481);
    tcase_add_test(tc, block_bodies_eip2481);
    tcase_add_test(tc, receipts_eip2481);
    tcase_add_test(tc, receipts_69_round_trip_fixture);
    tcase_add_test(tc, response_bad_forms);
    suite_add_tcase(s, tc);
    tc = tcase_create("announcements");
    tcase_add_test(tc, new_block_hashes);
    tcase_add_test(tc, new_block_fixture);
    tcase_add_test(tc, block_range_update);
    tcase_add_test(tc, pooled_announcements);
    tcase_add_test(tc, transactions_check);
    tcase_add_test(tc, message_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
