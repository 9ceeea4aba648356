/* Receipts (core/chain/receipt.c):
 *  - $ETHD_FIXTURES/devnet-a/receipts.rlp: each block's list (eth/66-68
 *    wire form) decodes; the receipts root of the consensus encodings equals
 *    expected.json's receiptsRoot, the OR of the receipt blooms hashes to
 *    logsBloomHash, each receipt's bloom equals the bloom of its logs, the
 *    types follow txTypes, the cumulative gas ends at gasUsed; the list
 *    re-encodes byte for byte; the eth/69 form round-trips (bloom
 *    recomputed).
 *  - execution-apis debug_getRawReceipts (consensus form) for its block:
 *    root equals the block's receiptsRoot in chain.rlp.
 *  - pre-Byzantium post-state receipts, the bloom bit rule, and bad input. */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>

#include "chain_util.h"

START_TEST(test_devnet_a_receipts)
{
    char path[4096];
    size_t len;
    uint8_t *data = cu_read(cu_path("ETHD_FIXTURES", "devnet-a/receipts.rlp", path, sizeof path),
                            &len);
    json_t *exp = cu_load_json(cu_path("ETHD_FIXTURES", "devnet-a/expected.json", path,
                                       sizeof path));
    const json_t *blocks = json_object_get(exp, "blocks");
    const uint8_t *p = data;
    size_t left = len, nb = 0, nr = 0, nlogs = 0;
    while (left) {
        struct ethd_rlp_item list;
        ck_assert_int_eq(ethd_rlp_next(&p, &left, &list), 0);
        const json_t *e = json_array_get(blocks, nb);
        ck_assert_ptr_nonnull(e);
        struct ethd_receipt *rs;
        size_t n;
        ck_assert_int_eq(ethd_receipts_decode_list(&list, &rs, &n), 0);
        const json_t *types = json_object_get(e, "txTypes");
        ck_assert_uint_eq(n, json_array_size(types));

        uint8_t root[32], bloom[256] = {0}, bh[32];
        ck_assert_int_eq(ethd_receipts_root(rs, n, root), 0);
        cu_hex_fixed(cu_str(e, "receiptsRoot"), bh, 32);
        ck_assert_msg(memcmp(root, bh, 32) == 0, "block %zu: receipts root", nb + 1);
        uint64_t prev = 0;
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_eq(ethd_receipt_check_bloom(&rs[i]), 0);
            ck_assert_uint_eq(rs[i].type, cu_u64(json_array_get(types, i)));
            ck_assert(!rs[i].has_post_state);
            ck_assert_uint_ge(rs[i].cumulative_gas, prev);
            prev = rs[i].cumulative_gas;
            for (int k = 0; k < 256; k++)
                bloom[k] |= rs[i].bloom[k];
            nlogs += rs[i].n_logs;

            /* Consensus form round trip. */
            struct ethd_buf c = ETHD_BUF_INIT, c2 = ETHD_BUF_INIT;
            struct ethd_receipt back;
            ck_assert_int_eq(ethd_receipt_encode(&rs[i], &c), 0);
            ck_assert_int_eq(ethd_receipt_decode(c.data, c.len, &back), 0);
            ck_assert_int_eq(ethd_receipt_encode(&back, &c2), 0);
            ck_assert(c.len == c2.len && memcmp(c.data, c2.data, c.len) == 0);
            ethd_receipt_free(&back);

            /* eth/69: no bloom on the wire; decoding recomputes it. */
            struct ethd_buf w = ETHD_BUF_INIT;
            struct ethd_rlp_enc enc;
            ethd_rlp_enc_init(&enc, &w);
            ethd_receipt_encode_69(&enc, &rs[i]);
            ck_assert_int_eq(ethd_rlp_enc_finish(&enc), 0);
            ck_assert_uint_lt(w.len, c.len);
            struct ethd_rlp_item it;
            ck_assert_int_eq(ethd_rlp_decode(w.data, w.len, &it), 0);
            ck_assert_int_eq(ethd_receipt_decode_69(&it, &back), 0);
            ethd_buf_reset(&c2);
            ck_assert_int_eq(ethd_receipt_encode(&back, &c2), 0);
            ck_assert(c.len == c2.len && memcmp(c.data, c2.data, c.len) == 0);
            ethd_receipt_free(&back);
            ethd_buf_free(&w);
            ethd_buf_free(&c);
            ethd_buf_free(&c2);
        }
        ck_assert_uint_eq(prev, cu_u64(json_object_get(e, "gasUsed")));
        ethd_keccak256(bloom, 256, bh);
        uint8_t want[32];
        cu_hex_fixed(cu_str(e, "logsBloomHash"), want, 32);
        ck_assert_msg(memcmp(bh, want, 32) == 0, "block %zu: logs bloom", nb + 1);

        /* The wire list re-encodes to the same bytes. */
        struct ethd_buf out = ETHD_BUF_INIT;
        struct ethd_rlp_enc enc;
        ethd_rlp_enc_init(&enc, &out);
        ethd_rlp_list_begin(&enc);
        for (size_t i = 0; i < n; i++)
            ethd_receipt_encode_rlp(&enc, &rs[i]);
        ethd_rlp_list_end(&enc);
        ck_assert_int_eq(ethd_rlp_enc_finish(&enc), 0);
        ck_assert(out.len == list.raw_len && memcmp(out.data, list.raw, out.len) == 0);
        ethd_buf_free(&out);
        ethd_receipts_free(rs, n);
        nb++;
        nr += n;
    }
    printf("devnet-a receipts: %zu blocks, %zu receipts, %zu logs\n", nb, nr, nlogs);
    ck_assert_uint_eq(nb, 300);
    ck_assert_uint_eq(nr, cu_u64(json_object_get(exp, "totalTxs")));
    ck_assert_uint_gt(nlogs, 200);
    json_decref(exp);
    free(data);
}
END_TEST

START_TEST(test_execution_apis_raw_receipts)
{
    char path[4096];
    size_t n;
    char *t = (char *)cu_read(cu_path("ETHD_VECTORS",
                                      "blocks/execution-apis/tests/debug_getRawReceipts/get-block-n.io",
                                      path, sizeof path),
                              &n);
    char *req = strstr(t, ">> "), *resp = strstr(t, "<< ");
    ck_assert(req && resp);
    json_error_t je;
    json_t *jq = json_loads(req + 3, JSON_DISABLE_EOF_CHECK, &je);
    json_t *jr = json_loads(resp + 3, JSON_DISABLE_EOF_CHECK, &je);
    ck_assert(jq && jr);
    uint64_t num = cu_u64(json_array_get(json_object_get(jq, "params"), 0));
    const json_t *arr = json_object_get(jr, "result");
    size_t count = json_array_size(arr);
    ck_assert_uint_gt(count, 0);
    struct ethd_receipt *rs = calloc(count, sizeof *rs);
    for (size_t i = 0; i < count; i++) {
        size_t len;
        uint8_t *raw = cu_hex(json_string_value(json_array_get(arr, i)), &len);
        ck_assert_int_eq(ethd_receipt_decode(raw, len, &rs[i]), 0);
        ck_assert_int_eq(ethd_receipt_check_bloom(&rs[i]), 0);
        struct ethd_buf b = ETHD_BUF_INIT;
        ck_assert_int_eq(ethd_receipt_encode(&rs[i], &b), 0);
        ck_assert(b.len == len && memcmp(b.data, raw, len) == 0);
        ethd_buf_free(&b);
        free(raw);
    }
    uint8_t root[32];
    ck_assert_int_eq(ethd_receipts_root(rs, count, root), 0);

    /* Block `num` of chain.rlp. */
    size_t len;
    uint8_t *chain = cu_read(cu_path("ETHD_VECTORS", "blocks/execution-apis/tests/chain.rlp",
                                     path, sizeof path),
                             &len);
    const uint8_t *p = chain;
    size_t left = len;
    struct ethd_rlp_item it;
    struct ethd_block b;
    for (uint64_t k = 1; k <= num; k++)
        ck_assert_int_eq(ethd_rlp_next(&p, &left, &it), 0);
    ck_assert_int_eq(ethd_block_decode_item(&it, &b), 0);
    ck_assert_uint_eq(b.header.number, num);
    ck_assert(memcmp(root, b.header.receipts_root, 32) == 0);
    ethd_block_free(&b);
    free(chain);
    ethd_receipts_free(rs, count);
    json_decref(jq);
    json_decref(jr);
    free(t);
}
END_TEST

/* A receipt with two logs; caller frees with ethd_receipt_free. */
static void make_receipt(struct ethd_receipt *r, uint8_t type)
{
    memset(r, 0, sizeof *r);
    r->type = type;
    r->status = 1;
    r->cumulative_gas = 123456;
    r->n_logs = 2;
    r->logs = calloc(2, sizeof *r->logs);
    memset(r->logs[0].address, 0x11, 20);
    r->logs[0].n_topics = 2;
    r->logs[0].topics = calloc(2, 32);
    memset(r->logs[0].topics[0], 0xaa, 32);
    r->logs[0].topics[1][31] = 1;
    r->logs[0].data = malloc(3);
    memcpy(r->logs[0].data, "abc", 3);
    r->logs[0].data_len = 3;
    memset(r->logs[1].address, 0x22, 20);
    ethd_logs_bloom(r->logs, r->n_logs, r->bloom);
}

START_TEST(test_bloom_rule)
{
    /* Yellow Paper 4.3.1, recomputed by hand for one input: the three
     * 11-bit values of keccak(p)'s first six bytes select bits counted
     * from the end of the bloom. */
    uint8_t h[32], bloom[256] = {0}, want[256] = {0};
    ethd_keccak256("ethd", 4, h);
    for (int i = 0; i < 6; i += 2) {
        unsigned bit = (unsigned)((h[i] & 7) << 8 | h[i + 1]);
        want[255 - bit / 8] |= (uint8_t)(1 << (bit % 8));
    }
    ethd_bloom_add(bloom, "ethd", 4);
    ck_assert(memcmp(bloom, want, 256) == 0);
    int bits = 0;
    for (int i = 0; i < 256; i++)
        bits += __builtin_popcount(bloom[i]);
    ck_assert(bits >= 1 && bits <= 3);

    struct ethd_receipt r;
    make_receipt(&r, 2);
    ck_assert_int_eq(ethd_receipt_check_bloom(&r), 0);
    r.bloom[0] ^= 0x80;
    ck_assert_int_eq(ethd_receipt_check_bloom(&r), ETHD_EINVAL);
    ethd_receipt_free(&r);
}
END_TEST

START_TEST(test_post_state_and_types)
{
    for (int type = 0; type <= 4; type++) {
        for (int ps = 0; ps < 2; ps++) {
            struct ethd_receipt r, back;
            make_receipt(&r, (uint8_t)type);
            if (ps) {
                r.has_post_state = true;
                memset(r.post_state, 0x5a, 32);
            }
            struct ethd_buf b = ETHD_BUF_INIT, b2 = ETHD_BUF_INIT;
            ck_assert_int_eq(ethd_receipt_encode(&r, &b), 0);
            ck_assert(type == 0 ? b.data[0] >= 0xc0 : b.data[0] == type);
            ck_assert_int_eq(ethd_receipt_decode(b.data, b.len, &back), 0);
            ck_assert_uint_eq(back.type, type);
            ck_assert(back.has_post_state == !!ps);
            ck_assert_uint_eq(back.n_logs, 2);
            ck_assert_uint_eq(back.logs[0].n_topics, 2);
            ck_assert(back.logs[0].data_len == 3 && memcmp(back.logs[0].data, "abc", 3) == 0);
            ck_assert_int_eq(ethd_receipt_encode(&back, &b2), 0);
            ck_assert(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
            ethd_receipt_free(&back);

            /* Wire item: list for legacy, string around the typed form. */
            struct ethd_buf w = ETHD_BUF_INIT;
            struct ethd_rlp_enc e;
            ethd_rlp_enc_init(&e, &w);
            ethd_receipt_encode_rlp(&e, &r);
            ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
            struct ethd_rlp_item it;
            ck_assert_int_eq(ethd_rlp_decode(w.data, w.len, &it), 0);
            ck_assert(it.is_list == (type == 0));
            ck_assert_int_eq(ethd_receipt_decode_item(&it, &back), 0);
            ck_assert(memcmp(back.bloom, r.bloom, 256) == 0);
            ethd_receipt_free(&back);
            ethd_buf_free(&w);
            ethd_buf_free(&b);
            ethd_buf_free(&b2);
            ethd_receipt_free(&r);
        }
    }
}
END_TEST

START_TEST(test_bad_receipts)
{
    struct ethd_receipt r, back;
    struct ethd_buf b = ETHD_BUF_INIT;
    make_receipt(&r, 2);
    ck_assert_int_eq(ethd_receipt_encode(&r, &b), 0);
    for (size_t n = 0; n < b.len; n++)
        ck_assert_int_ne(ethd_receipt_decode(b.data, n, &back), 0);
    /* Unknown type, and a 0x80..0xbf first byte. */
    b.data[0] = 5;
    ck_assert_int_eq(ethd_receipt_decode(b.data, b.len, &back), ETHD_ENOTSUP);
    b.data[0] = 0x85;
    ck_assert_int_eq(ethd_receipt_decode(b.data, b.len, &back), ETHD_ETYPE);
    ethd_receipt_free(&r);

    /* Hand-built lists: [status, gas, bloom, logs] with one thing wrong. */
    struct {
        int status;  /* -1: 2-byte status */
        int topics;  /* number of topics on the log */
        int topic_len;
        int addr_len;
        int fields;  /* receipt list length */
        int want;
    } cases[] = {
        {1, 1, 32, 20, 4, 0},
        {2, 1, 32, 20, 4, ETHD_EINVAL},  /* status must be 0 or 1 */
        {-1, 1, 32, 20, 4, ETHD_EINVAL}, /* neither 32 bytes nor a status */
        {1, 5, 32, 20, 4, ETHD_EINVAL},  /* LOG4 is the most */
        {1, 1, 31, 20, 4, ETHD_EINVAL},  /* short topic */
        {1, 1, 32, 19, 4, ETHD_EINVAL},  /* short address */
        {1, 1, 32, 20, 5, ETHD_EINVAL},  /* extra field */
        {1, 1, 32, 20, 3, ETHD_EINVAL},  /* missing logs */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t zero[256] = {0};
        struct ethd_buf x = ETHD_BUF_INIT;
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &x);
        ethd_rlp_list_begin(&e);
        if (cases[i].status < 0)
            ethd_rlp_bytes(&e, "\x01\x01", 2);
        else
            ethd_rlp_uint(&e, (uint64_t)cases[i].status);
        ethd_rlp_uint(&e, 21000);
        ethd_rlp_bytes(&e, zero, 256);
        if (cases[i].fields >= 4) {
            ethd_rlp_list_begin(&e);
            ethd_rlp_list_begin(&e);
            ethd_rlp_bytes(&e, zero, (size_t)cases[i].addr_len);
            ethd_rlp_list_begin(&e);
            for (int t = 0; t < cases[i].topics; t++)
                ethd_rlp_bytes(&e, zero, (size_t)cases[i].topic_len);
            ethd_rlp_list_end(&e);
            ethd_rlp_bytes(&e, "", 0);
            ethd_rlp_list_end(&e);
            ethd_rlp_list_end(&e);
        }
        if (cases[i].fields == 5)
            ethd_rlp_uint(&e, 1);
        ethd_rlp_list_end(&e);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        int rc = ethd_receipt_decode(x.data, x.len, &back);
        ck_assert_msg(rc == cases[i].want, "case %zu: %d", i, rc);
        if (rc == 0) {
            /* Valid shape, but its zero bloom does not match its log. */
            ck_assert_int_eq(ethd_receipt_check_bloom(&back), ETHD_EINVAL);
            ethd_receipt_free(&back);
        }
        ethd_buf_free(&x);
    }
    /* eth/69 with a bloom (5 fields) is refused; a string is refused. */
    make_receipt(&r, 0);
    struct ethd_buf w = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &w);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 0);
    ethd_rlp_uint(&e, 1);
    ethd_rlp_uint(&e, 5);
    ethd_rlp_bytes(&e, r.bloom, 256);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    struct ethd_rlp_item it;
    ck_assert_int_eq(ethd_rlp_decode(w.data, w.len, &it), 0);
    ck_assert_int_eq(ethd_receipt_decode_69(&it, &back), ETHD_EINVAL);
    static const uint8_t str[] = {0x82, 1, 2};
    ck_assert_int_eq(ethd_rlp_decode(str, sizeof str, &it), 0);
    ck_assert_int_eq(ethd_receipt_decode_69(&it, &back), ETHD_ETYPE);
    /* A wire string holding a legacy list is not a typed receipt. */
    static const uint8_t wrapped[] = {0x81, 0xc0};
    ck_assert_int_eq(ethd_rlp_decode(wrapped, sizeof wrapped, &it), 0);
    ck_assert_int_eq(ethd_receipt_decode_item(&it, &back), ETHD_ETYPE);
    /* A list of receipts with one bad member frees the good ones. */
    ethd_buf_reset(&w);
    ethd_rlp_enc_init(&e, &w);
    ethd_rlp_list_begin(&e);
    ethd_receipt_encode_rlp(&e, &r);
    ethd_receipt_encode_rlp(&e, &r);
    ethd_rlp_bytes(&e, "\x05\xc0", 2);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(ethd_rlp_decode(w.data, w.len, &it), 0);
    struct ethd_receipt *rs;
    size_t n;
    ck_assert_int_eq(ethd_receipts_decode_list(&it, &rs, &n), ETHD_ENOTSUP);
    ck_assert_ptr_null(rs);
    ethd_buf_free(&w);
    ethd_receipt_free(&r);
    ethd_buf_free(&b);
    /* The empty list has the empty trie root. */
    uint8_t root[32];
    ck_assert_int_eq(ethd_receipts_root(NULL, 0, root), 0);
    ck_assert(memcmp(root, ethd_trie_empty_root, 32) == 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("receipt");
    TCase *tc = tcase_create("vectors");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_devnet_a_receipts);
    tcase_add_test(tc, test_execution_apis_raw_receipts);
    suite_add_tcase(s, tc);
    tc = tcase_create("codec");
    tcase_add_test(tc, test_bloom_rule);
    tcase_add_test(tc, test_post_state_and_types);
    tcase_add_test(tc, test_bad_receipts);
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
