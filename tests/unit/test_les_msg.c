/* Unit tests for plugins/les/les_msg.c: les/2-4 message codecs
 * (devp2p caps/les.md). */
#include "les_msg.h"

#include <check.h>
#include <ethd/error.h>
#include <stdlib.h>
#include <string.h>

static void full_status(struct ethd_les_status *s)
{
    memset(s, 0, sizeof(*s));
    s->version = 4;
    s->network_id = 1337801;
    s->head_td[31] = 0x59;
    s->head_td[30] = 0x02;
    memset(s->head_hash, 0xaa, 32);
    s->head_num = 300;
    memset(s->genesis, 0x4c, 32);
    s->has_forkid = true;
    memcpy(s->forkid.hash, "\x27\x1c\xa0\x3f", 4);
    s->has_recent_tx_lookup = true;
    s->serve_headers = true;
    s->has_serve_chain_since = true;
    s->serve_chain_since = 7;
    s->has_serve_recent_chain = true;
    s->serve_recent_chain = 1000;
    s->has_bl = s->has_mrr = s->has_mrc = true;
    s->bl = 300000;
    s->mrr = 50000;
    s->n_mrc = 2;
    s->mrc[0] = (struct ethd_les_cost){2, 150, 30};
    s->mrc[1] = (struct ethd_les_cost){4, 200, 700};
}

START_TEST(test_status_roundtrip)
{
    struct ethd_les_status a, b;
    struct ethd_buf buf = ETHD_BUF_INIT;
    full_status(&a);
    ck_assert_int_eq(ethd_les_status_encode(&a, &buf), 0);
    ck_assert_int_eq(ethd_les_status_decode(4, buf.data, buf.len, &b), 0);
    ck_assert_uint_eq(b.version, 4);
    ck_assert_uint_eq(b.network_id, 1337801);
    ck_assert_mem_eq(b.head_td, a.head_td, 32);
    ck_assert_mem_eq(b.head_hash, a.head_hash, 32);
    ck_assert_uint_eq(b.head_num, 300);
    ck_assert_mem_eq(b.genesis, a.genesis, 32);
    ck_assert(b.has_forkid);
    ck_assert_mem_eq(b.forkid.hash, a.forkid.hash, 4);
    ck_assert(b.serve_headers);
    ck_assert(b.has_serve_chain_since && b.serve_chain_since == 7);
    ck_assert(b.has_serve_recent_chain && b.serve_recent_chain == 1000);
    ck_assert(b.has_recent_tx_lookup && b.recent_tx_lookup == 0);
    ck_assert(!b.tx_relay && !b.has_announce_type);
    ck_assert(b.has_bl && b.bl == 300000 && b.has_mrr && b.mrr == 50000);
    ck_assert_uint_eq(b.n_mrc, 2);
    ck_assert_uint_eq(b.mrc[1].code, 4);
    ck_assert_uint_eq(b.mrc[1].base, 200);
    ck_assert_uint_eq(b.mrc[1].req, 700);
    ethd_buf_free(&buf);
}
END_TEST

/* Build a Status by hand from (key, encoded value) pairs. */
static void raw_status(struct ethd_buf *out, const char *const *keys, size_t n, bool forkid,
                       const char *extra_key)
{
    struct ethd_rlp_enc e;
    uint8_t h[32] = {1};
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < n; i++) {
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, keys[i], strlen(keys[i]));
        if (!strcmp(keys[i], "headHash") || !strcmp(keys[i], "genesisHash"))
            ethd_rlp_bytes(&e, h, 32);
        else
            ethd_rlp_uint(&e, 3);
        ethd_rlp_list_end(&e);
    }
    if (forkid) {
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, "forkID", 6);
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, "\x01\x02\x03\x04", 4);
        ethd_rlp_uint(&e, 0);
        ethd_rlp_list_end(&e);
        ethd_rlp_list_end(&e);
    }
    if (extra_key) {
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, extra_key, strlen(extra_key));
        ethd_rlp_list_begin(&e); /* any value */
        ethd_rlp_list_end(&e);
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
}

static const char *const required[] = {"protocolVersion", "networkId", "headTd",
                                       "headHash",        "headNum",   "genesisHash"};

START_TEST(test_status_required_keys)
{
    struct ethd_les_status s;
    struct ethd_buf b = ETHD_BUF_INIT;
    raw_status(&b, required, 6, true, NULL);
    ck_assert_int_eq(ethd_les_status_decode(4, b.data, b.len, &s), 0);
    ck_assert_uint_eq(s.version, 3);
    /* Each required key missing in turn. */
    for (size_t skip = 0; skip < 6; skip++) {
        const char *keys[5];
        size_t n = 0;
        for (size_t i = 0; i < 6; i++)
            if (i != skip)
                keys[n++] = required[i];
        ethd_buf_reset(&b);
        raw_status(&b, keys, n, true, NULL);
        ck_assert_int_eq(ethd_les_status_decode(4, b.data, b.len, &s), ETHD_EPROTO);
    }
    /* les/4 needs forkID; les/3 does not. */
    ethd_buf_reset(&b);
    raw_status(&b, required, 6, false, NULL);
    ck_assert_int_eq(ethd_les_status_decode(4, b.data, b.len, &s), ETHD_EPROTO);
    ck_assert_int_eq(ethd_les_status_decode(3, b.data, b.len, &s), 0);
    /* Unknown keys are ignored, whatever their value. */
    ethd_buf_reset(&b);
    raw_status(&b, required, 6, true, "someFutureKey");
    ck_assert_int_eq(ethd_les_status_decode(4, b.data, b.len, &s), 0);
    /* A required key twice is refused. */
    const char *dup[] = {"protocolVersion", "networkId", "headTd", "headHash",
                         "headNum",         "genesisHash", "networkId"};
    ethd_buf_reset(&b);
    raw_status(&b, dup, 7, true, NULL);
    ck_assert_int_eq(ethd_les_status_decode(4, b.data, b.len, &s), ETHD_EPROTO);
    ethd_buf_free(&b);
}
END_TEST

START_TEST(test_status_garbage)
{
    struct ethd_les_status s;
    static const uint8_t not_list[] = {0x83, 1, 2, 3};
    static const uint8_t bad_pair[] = {0xc2, 0x81, 0xff};
    static const uint8_t truncated[] = {0xc5, 0xc4, 0x83};
    ck_assert_int_eq(ethd_les_status_decode(4, not_list, sizeof(not_list), &s), ETHD_EPROTO);
    ck_assert_int_eq(ethd_les_status_decode(4, bad_pair, sizeof(bad_pair), &s), ETHD_EPROTO);
    ck_assert_int_eq(ethd_les_status_decode(4, truncated, sizeof(truncated), &s), ETHD_EPROTO);
    ck_assert_int_eq(ethd_les_status_decode(4, NULL, 0, &s), ETHD_EPROTO);
}
END_TEST

START_TEST(test_get_headers)
{
    struct ethd_eth_headers_query q = {0}, r;
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t id;
    q.number = 100;
    q.amount = 1000000;
    q.skip = UINT64_MAX;
    q.reverse = true;
    ck_assert_int_eq(ethd_les_get_headers_encode(77, &q, &b), 0);
    ck_assert_int_eq(ethd_les_get_headers_decode(b.data, b.len, &id, &r), 0);
    ck_assert_uint_eq(id, 77);
    ck_assert(!r.by_hash && r.number == 100 && r.amount == 1000000 && r.skip == UINT64_MAX &&
              r.reverse);
    ethd_buf_reset(&b);
    q.by_hash = true;
    memset(q.hash, 0x11, 32);
    q.reverse = false;
    ck_assert_int_eq(ethd_les_get_headers_encode(1, &q, &b), 0);
    ck_assert_int_eq(ethd_les_get_headers_decode(b.data, b.len, &id, &r), 0);
    ck_assert(r.by_hash && !r.reverse);
    ck_assert_mem_eq(r.hash, q.hash, 32);
    /* reverse = 2 */
    static const uint8_t bad_rev[] = {0xc6, 0x01, 0xc4, 0x01, 0x01, 0x00, 0x02};
    ck_assert_int_eq(ethd_les_get_headers_decode(bad_rev, sizeof(bad_rev), &id, &r), ETHD_EPROTO);
    /* missing element */
    static const uint8_t short_q[] = {0xc5, 0x01, 0xc3, 0x01, 0x01, 0x00};
    ck_assert_int_eq(ethd_les_get_headers_decode(short_q, sizeof(short_q), &id, &r), ETHD_EPROTO);
    ethd_buf_free(&b);
}
END_TEST

START_TEST(test_hash_requests)
{
    uint8_t hs[3][32];
    memset(hs, 0x22, sizeof(hs));
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_item list;
    uint64_t id;
    size_t n;
    ck_assert_int_eq(ethd_les_hashes_encode(9, hs, 3, &b), 0);
    ck_assert_int_eq(ethd_les_req_decode(LES_GET_BLOCK_BODIES, b.data, b.len, &id, &list, &n), 0);
    ck_assert_uint_eq(id, 9);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(ethd_les_req_decode(LES_GET_RECEIPTS, b.data, b.len, &id, &list, &n), 0);
    ck_assert_int_eq(ethd_les_req_decode(LES_GET_TX_STATUS, b.data, b.len, &id, &list, &n), 0);
    /* 32-byte strings are not contract code requests. */
    ck_assert_int_eq(ethd_les_req_decode(LES_GET_CONTRACT_CODES, b.data, b.len, &id, &list, &n),
                     ETHD_EPROTO);
    /* A 31-byte hash. */
    static const uint8_t short_hash[] = {0xe2, 0x01, 0xe0, 0x9f, 0};
    uint8_t m[64] = {0xe2, 0x01, 0xe0, 0x9f};
    (void)short_hash;
    ck_assert_int_eq(ethd_les_req_decode(LES_GET_BLOCK_BODIES, m, 4 + 31, &id, &list, &n),
                     ETHD_EPROTO);
    ethd_buf_free(&b);
}
END_TEST

START_TEST(test_helper_trie_requests)
{
    uint8_t key[8] = {0, 0, 0, 0, 0, 0, 0, 5};
    struct ethd_les_ht_req reqs[2] = {{0, 0, key, 8, 0, 2}, {1, 3, key, 8, 2, 0}}, r;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_item list;
    struct ethd_rlp_iter it;
    uint64_t id;
    size_t n;
    ck_assert_int_eq(ethd_les_ht_req_encode(5, reqs, 2, &b), 0);
    ck_assert_int_eq(
        ethd_les_req_decode(LES_GET_HELPER_TRIE_PROOFS, b.data, b.len, &id, &list, &n), 0);
    ck_assert_uint_eq(n, 2);
    ethd_rlp_iter_init(&it, &list);
    ck_assert_int_eq(ethd_les_ht_req_next(&it, &r), 0);
    ck_assert(r.sub_type == 0 && r.section == 0 && r.key_len == 8 && r.aux_req == 2);
    ck_assert_mem_eq(r.key, key, 8);
    ck_assert_int_eq(ethd_les_ht_req_next(&it, &r), 0);
    ck_assert(r.sub_type == 1 && r.section == 3 && r.from_level == 2);
    ck_assert_int_ne(ethd_les_ht_req_next(&it, &r), 0);
    /* Entries with 4 elements, or a list as the key: malformed. */
    static const uint8_t four[] = {0xc7, 0x01, 0xc5, 0xc4, 0x80, 0x80, 0x80, 0x80};
    ck_assert_int_eq(ethd_les_req_decode(LES_GET_HELPER_TRIE_PROOFS, four, sizeof(four), &id,
                                         &list, &n),
                     ETHD_EPROTO);
    static const uint8_t listkey[] = {0xc8, 0x01, 0xc6, 0xc5, 0x80, 0x80, 0xc0, 0x80, 0x80};
    ck_assert_int_eq(ethd_les_req_decode(LES_GET_HELPER_TRIE_PROOFS, listkey, sizeof(listkey),
                                         &id, &list, &n),
                     ETHD_EPROTO);
    ethd_buf_free(&b);
}
END_TEST

START_TEST(test_replies)
{
    static const uint8_t items[] = {0xc0, 0x82, 0x01, 0x02};
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_item body;
    uint64_t id, bv;
    size_t n;
    ck_assert_int_eq(ethd_les_reply_encode(42, 123456, items, sizeof(items), &b), 0);
    ck_assert_int_eq(ethd_les_reply_decode(b.data, b.len, &id, &bv, &body), 0);
    ck_assert_uint_eq(id, 42);
    ck_assert_uint_eq(bv, 123456);
    ck_assert_int_eq(ethd_rlp_list_count(&body, &n), 0);
    ck_assert_uint_eq(n, 2);
    ethd_buf_reset(&b);
    ck_assert_int_eq(ethd_les_reply_encode(1, 0, NULL, 0, &b), 0);
    ck_assert_int_eq(ethd_les_reply_decode(b.data, b.len, &id, &bv, &body), 0);
    ck_assert_uint_eq(body.len, 0);
    /* Missing BV. */
    static const uint8_t nobv[] = {0xc2, 0x01, 0xc0};
    ck_assert_int_eq(ethd_les_reply_decode(nobv, sizeof(nobv), &id, &bv, &body), ETHD_EPROTO);
    ethd_buf_free(&b);
}
END_TEST

START_TEST(test_announce)
{
    struct ethd_les_announce a, b;
    struct ethd_buf buf = ETHD_BUF_INIT;
    memset(&a, 0, sizeof(a));
    memset(a.hash, 0x33, 32);
    a.number = 301;
    a.td[31] = 0x5b;
    a.td[30] = 0x02;
    a.reorg_depth = 2;
    ck_assert_int_eq(ethd_les_announce_encode(&a, &buf), 0);
    ck_assert_int_eq(ethd_les_announce_decode(buf.data, buf.len, &b), 0);
    ck_assert(!b.has_sig && b.number == 301 && b.reorg_depth == 2);
    ck_assert_mem_eq(b.td, a.td, 32);
    ethd_buf_reset(&buf);
    a.has_sig = true;
    memset(a.sig, 0x44, 65);
    ck_assert_int_eq(ethd_les_announce_encode(&a, &buf), 0);
    ck_assert_int_eq(ethd_les_announce_decode(buf.data, buf.len, &b), 0);
    ck_assert(b.has_sig);
    ck_assert_mem_eq(b.sig, a.sig, 65);
    ethd_buf_reset(&buf);
    ck_assert_int_eq(ethd_les_announce_signed_data(&a, &buf), 0);
    ck_assert_uint_eq(buf.data[0], 0xc0 + 33 + 3 + 3); /* [hash, 301, 0x025b] */
    /* Truncated: no key/value list. */
    static const uint8_t trunc[] = {0xc3, 0x80, 0x01, 0x02};
    ck_assert_int_eq(ethd_les_announce_decode(trunc, sizeof(trunc), &b), ETHD_EPROTO);
    ethd_buf_free(&buf);
}
END_TEST

START_TEST(test_stop_resume)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t bv;
    ck_assert_int_eq(ethd_les_stop_encode(&b), 0);
    ck_assert_int_eq(ethd_les_stop_decode(b.data, b.len), 0);
    ethd_buf_reset(&b);
    ck_assert_int_eq(ethd_les_resume_encode(150000, &b), 0);
    ck_assert_int_eq(ethd_les_resume_decode(b.data, b.len, &bv), 0);
    ck_assert_uint_eq(bv, 150000);
    static const uint8_t bare[] = {0x82, 0x01, 0x00};
    ck_assert_int_eq(ethd_les_resume_decode(bare, sizeof(bare), &bv), 0);
    ck_assert_uint_eq(bv, 256);
    static const uint8_t two[] = {0xc2, 0x01, 0x02};
    ck_assert_int_eq(ethd_les_resume_decode(two, sizeof(two), &bv), ETHD_EPROTO);
    static const uint8_t lead0[] = {0x82, 0x00, 0x01};
    ck_assert_int_eq(ethd_les_resume_decode(lead0, sizeof(lead0), &bv), ETHD_EPROTO);
    ethd_buf_free(&b);
}
END_TEST

START_TEST(test_names_and_codes)
{
    ck_assert_str_eq(ethd_les_msg_name(LES_GET_HELPER_TRIE_PROOFS), "GetHelperTrieProofs");
    ck_assert_str_eq(ethd_les_msg_name(0x99), "unknown");
    ck_assert(ethd_les_is_request(LES_GET_BLOCK_HEADERS));
    ck_assert(!ethd_les_is_request(LES_GET_PROOFS)); /* les/1 only */
    ck_assert(!ethd_les_is_request(LES_BLOCK_HEADERS));
    ck_assert_uint_eq(ethd_les_reply_code(LES_SEND_TX_V2), LES_TX_STATUS);
    ck_assert_uint_eq(ethd_les_reply_code(LES_STOP), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("les_msg");
    TCase *tc = tcase_create("codecs");
    tcase_add_test(tc, test_status_roundtrip);
    tcase_add_test(tc, test_status_required_keys);
    tcase_add_test(tc, test_status_garbage);
    tcase_add_test(tc, test_get_headers);
    tcase_add_test(tc, test_hash_requests);
    tcase_add_test(tc, test_helper_trie_requests);
    tcase_add_test(tc, test_replies);
    tcase_add_test(tc, test_announce);
    tcase_add_test(tc, test_stop_resume);
    tcase_add_test(tc, test_names_and_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
