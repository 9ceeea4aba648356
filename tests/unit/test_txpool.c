/* The eth service's transaction pool (plugins/eth/txpool.c): admission
 * checks, duplicates, replacement by sender and nonce, bounded memory with
 * eviction of the cheapest, order, removal, and the indexes under churn. */
#include "txpool.h"

#include <ethd/error.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN_ID 1337

static struct ethd_secp *secp;
static struct ethd_rules rules;

static void setup(void)
{
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    ck_assert_int_eq(ethd_rules_for_fork("London", CHAIN_ID, &rules), 0);
}

static void teardown(void)
{
    ethd_secp_free(secp);
}

static void key_of(unsigned k, uint8_t key[32])
{
    memset(key, 0, 32);
    key[31] = (uint8_t)(k + 1);
    key[30] = (uint8_t)((k + 1) >> 8);
}

static void u256(uint64_t v, uint8_t out[32])
{
    memset(out, 0, 32);
    for (int i = 0; i < 8; i++)
        out[31 - i] = (uint8_t)(v >> (8 * i));
}

/* A signed tx in canonical form: key k, nonce, fee (gas price or max fee),
 * type 0 or 2; `data_len` bytes of calldata. */
static void make_tx(unsigned k, uint64_t nonce, uint64_t fee, uint8_t type, size_t data_len,
                    uint64_t chain_id, struct ethd_buf *out, uint8_t hash[32])
{
    struct ethd_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = type;
    tx.has_chain_id = true;
    tx.chain_id = chain_id;
    tx.nonce = nonce;
    if (type == ETHD_TX_LEGACY) {
        u256(fee, tx.gas_price);
    } else {
        u256(fee, tx.max_fee);
        u256(1, tx.max_priority_fee);
    }
    tx.gas = 21000 + 16 * data_len;
    tx.has_to = true;
    memset(tx.to, 0x42, 20);
    u256(1, tx.value);
    if (data_len) {
        tx.data = malloc(data_len);
        memset(tx.data, 0xab, data_len);
        tx.data_len = data_len;
    }
    uint8_t key[32];
    key_of(k, key);
    ck_assert_int_eq(ethd_tx_sign(secp, &tx, key), 0);
    ethd_buf_reset(out);
    ck_assert_int_eq(ethd_tx_encode(&tx, out), 0);
    if (hash)
        memcpy(hash, tx.hash, 32);
    ethd_tx_free(&tx);
}

static struct ethd_txpool *pool_with(uint64_t max_txs, uint64_t max_bytes)
{
    struct ethd_txpool_config c = {.max_txs = max_txs, .max_bytes = max_bytes};
    struct ethd_txpool *p;
    ck_assert_int_eq(ethd_txpool_new(&c, &p), 0);
    return p;
}

START_TEST(test_add_get_duplicate)
{
    struct ethd_txpool *p = pool_with(0, 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    uint8_t h[32];
    struct ethd_txpool_verdict v;
    make_tx(0, 0, 1000000000, ETHD_TX_DYNAMIC_FEE, 0, CHAIN_ID, &b, h);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    ck_assert_mem_eq(v.hash, h, 32);
    ck_assert(ethd_txpool_has(p, h));
    ck_assert_uint_eq(ethd_txpool_count(p), 1);
    ck_assert_uint_eq(ethd_txpool_bytes(p), b.len);
    struct ethd_txpool_tx t;
    ck_assert_int_eq(ethd_txpool_get(p, h, &t), 0);
    ck_assert_uint_eq(t.len, b.len);
    ck_assert_mem_eq(t.raw, b.data, b.len);
    ck_assert_uint_eq(t.type, ETHD_TX_DYNAMIC_FEE);
    ck_assert_uint_eq(t.nonce, 0);
    /* the same tx again */
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), ETHD_EEXIST);
    ck_assert_str_eq(v.reason, "already known");
    ck_assert_uint_eq(ethd_txpool_count(p), 1);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

START_TEST(test_refusals)
{
    struct ethd_txpool *p = pool_with(0, 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_txpool_verdict v;
    /* garbage */
    static const uint8_t junk[] = {0xc3, 0x01, 0x02};
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, junk, sizeof(junk), &v), ETHD_EPROTO);
    static const uint8_t junk2[] = {0x02, 0xff, 0x00};
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, junk2, sizeof(junk2), &v), ETHD_EPROTO);
    /* unknown type byte */
    static const uint8_t t7[] = {0x07, 0xc0};
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, t7, sizeof(t7), &v), ETHD_ENOTSUP);
    /* wrong chain id */
    make_tx(0, 0, 1000, ETHD_TX_DYNAMIC_FEE, 0, 1, &b, NULL);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), ETHD_EINVAL);
    /* a signature with r = 0: no key recovers */
    {
        struct ethd_tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.type = ETHD_TX_DYNAMIC_FEE;
        tx.has_chain_id = true;
        tx.chain_id = CHAIN_ID;
        u256(1000, tx.max_fee);
        tx.gas = 21000;
        tx.has_to = true;
        uint8_t key[32];
        key_of(0, key);
        ck_assert_int_eq(ethd_tx_sign(secp, &tx, key), 0);
        memset(tx.r, 0, 32);
        ethd_buf_reset(&b);
        ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
        ethd_tx_free(&tx);
    }
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), ETHD_ECRYPTO);
    ck_assert_str_eq(v.reason, "invalid sender");
    /* type 2 before London */
    struct ethd_rules berlin;
    ck_assert_int_eq(ethd_rules_for_fork("Berlin", CHAIN_ID, &berlin), 0);
    make_tx(1, 0, 1000, ETHD_TX_DYNAMIC_FEE, 0, CHAIN_ID, &b, NULL);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &berlin, b.data, b.len, &v), ETHD_ENOTSUP);
    /* oversized: above the 128 KiB default */
    make_tx(2, 0, 1000, ETHD_TX_LEGACY, 140 * 1024, CHAIN_ID, &b, NULL);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), ETHD_ETOOBIG);
    ck_assert_uint_eq(ethd_txpool_count(p), 0);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

START_TEST(test_intrinsic_gas)
{
    struct ethd_txpool *p = pool_with(0, 0);
    struct ethd_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = ETHD_TX_LEGACY;
    tx.has_chain_id = true;
    tx.chain_id = CHAIN_ID;
    u256(1000, tx.gas_price);
    tx.gas = 20999;
    tx.has_to = true;
    uint8_t key[32];
    key_of(3, key);
    ck_assert_int_eq(ethd_tx_sign(secp, &tx, key), 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
    struct ethd_txpool_verdict v;
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), ETHD_ERANGE);
    ck_assert_uint_eq(ethd_txpool_count(p), 0);
    ethd_tx_free(&tx);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

START_TEST(test_blob_refused)
{
    struct ethd_txpool *p = pool_with(0, 0);
    struct ethd_rules cancun;
    ck_assert_int_eq(ethd_rules_for_fork("Cancun", CHAIN_ID, &cancun), 0);
    struct ethd_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = ETHD_TX_BLOB;
    tx.has_chain_id = true;
    tx.chain_id = CHAIN_ID;
    u256(1000, tx.max_fee);
    u256(1000, tx.max_fee_per_blob_gas);
    tx.gas = 21000;
    tx.has_to = true;
    tx.blob_hashes = calloc(1, 32);
    tx.blob_hashes[0][0] = 0x01;
    tx.n_blob_hashes = 1;
    uint8_t key[32];
    key_of(4, key);
    ck_assert_int_eq(ethd_tx_sign(secp, &tx, key), 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
    struct ethd_txpool_verdict v;
    ck_assert_int_eq(ethd_txpool_add(p, secp, &cancun, b.data, b.len, &v), ETHD_ENOTSUP);
    ck_assert_str_eq(v.reason, "blob transactions are not pooled");
    ethd_tx_free(&tx);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

START_TEST(test_replacement)
{
    struct ethd_txpool *p = pool_with(0, 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    uint8_t h1[32], h2[32], h3[32];
    struct ethd_txpool_verdict v;
    make_tx(5, 7, 1000, ETHD_TX_DYNAMIC_FEE, 0, CHAIN_ID, &b, h1);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    /* same sender and nonce, 9% more: refused */
    make_tx(5, 7, 1090, ETHD_TX_DYNAMIC_FEE, 0, CHAIN_ID, &b, h2);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), ETHD_EBUSY);
    ck_assert_str_eq(v.reason, "replacement transaction underpriced");
    ck_assert(!ethd_txpool_has(p, h2));
    /* exactly 10% more: replaces */
    make_tx(5, 7, 1100, ETHD_TX_DYNAMIC_FEE, 0, CHAIN_ID, &b, h3);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    ck_assert(v.replaced);
    ck_assert(!ethd_txpool_has(p, h1));
    ck_assert(ethd_txpool_has(p, h3));
    ck_assert_uint_eq(ethd_txpool_count(p), 1);
    /* another nonce of the same sender is independent */
    make_tx(5, 8, 1, ETHD_TX_LEGACY, 0, CHAIN_ID, &b, NULL);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    ck_assert_uint_eq(ethd_txpool_count(p), 2);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

START_TEST(test_eviction_by_count)
{
    struct ethd_txpool *p = pool_with(4, 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    uint8_t h[5][32];
    struct ethd_txpool_verdict v;
    /* fees 300, 100, 400, 200 */
    static const uint64_t fee[4] = {300, 100, 400, 200};
    for (unsigned i = 0; i < 4; i++) {
        make_tx(10 + i, 0, fee[i], ETHD_TX_LEGACY, 0, CHAIN_ID, &b, h[i]);
        ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    }
    /* full; a tx paying 100 (= the cheapest) is refused */
    make_tx(20, 0, 100, ETHD_TX_LEGACY, 0, CHAIN_ID, &b, NULL);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), ETHD_EBUSY);
    ck_assert_str_eq(v.reason, "txpool is full");
    /* one paying 150 evicts the 100 one */
    make_tx(21, 0, 150, ETHD_TX_LEGACY, 0, CHAIN_ID, &b, h[4]);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    ck_assert(v.evicted);
    ck_assert(!ethd_txpool_has(p, h[1]));
    ck_assert(ethd_txpool_has(p, h[0]) && ethd_txpool_has(p, h[2]) && ethd_txpool_has(p, h[3]) &&
              ethd_txpool_has(p, h[4]));
    ck_assert_uint_eq(ethd_txpool_count(p), 4);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

START_TEST(test_eviction_by_bytes)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    make_tx(30, 0, 10, ETHD_TX_LEGACY, 1000, CHAIN_ID, &b, NULL);
    size_t one = b.len;
    /* room for three such txs */
    struct ethd_txpool *p = pool_with(100, (uint64_t)(one * 3 + one / 2));
    struct ethd_txpool_verdict v;
    for (unsigned i = 0; i < 3; i++) {
        make_tx(30 + i, 0, 10 + i, ETHD_TX_LEGACY, 1000, CHAIN_ID, &b, NULL);
        ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    }
    make_tx(40, 0, 50, ETHD_TX_LEGACY, 1000, CHAIN_ID, &b, NULL);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    ck_assert(v.evicted);
    ck_assert_uint_eq(ethd_txpool_count(p), 3);
    ck_assert_uint_le(ethd_txpool_bytes(p), one * 3 + one / 2);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

struct order {
    uint8_t (*h)[32];
    size_t n;
};

static bool visit(const struct ethd_txpool_tx *t, void *arg)
{
    struct order *o = arg;
    memcpy(o->h[o->n++], t->hash, 32);
    return true;
}

START_TEST(test_order_and_remove)
{
    struct ethd_txpool *p = pool_with(0, 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    uint8_t h[5][32], seen[5][32];
    struct ethd_txpool_verdict v;
    for (unsigned i = 0; i < 5; i++) {
        make_tx(50 + i, 0, 100, ETHD_TX_LEGACY, 0, CHAIN_ID, &b, h[i]);
        ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    }
    ck_assert(ethd_txpool_remove(p, h[2]));
    ck_assert(!ethd_txpool_remove(p, h[2]));
    ck_assert(ethd_txpool_remove(p, h[0]));
    struct order o = {seen, 0};
    ethd_txpool_each(p, visit, &o);
    ck_assert_uint_eq(o.n, 3);
    ck_assert_mem_eq(seen[0], h[1], 32);
    ck_assert_mem_eq(seen[1], h[3], 32);
    ck_assert_mem_eq(seen[2], h[4], 32);
    /* a removed tx can come back */
    make_tx(50, 0, 100, ETHD_TX_LEGACY, 0, CHAIN_ID, &b, NULL);
    ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
    ck_assert_uint_eq(ethd_txpool_count(p), 4);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

/* Many adds and removes through a small table: every pooled tx stays
 * findable (the backward-shift deletion keeps probe runs intact). */
START_TEST(test_churn)
{
    enum { N = 300 };
    struct ethd_txpool *p = pool_with(64, 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    static uint8_t h[N][32];
    static bool in[N];
    struct ethd_txpool_verdict v;
    memset(in, 0, sizeof(in));
    size_t live = 0;
    for (unsigned i = 0; i < N; i++) {
        make_tx(100 + i, i, 1000, ETHD_TX_LEGACY, 0, CHAIN_ID, &b, h[i]);
        if (live == 64) {
            /* remove the oldest live one, then every third live one */
            for (unsigned j = 0; j < i; j++)
                if (in[j] && (j % 3 == 0 || live == 64)) {
                    ck_assert(ethd_txpool_remove(p, h[j]));
                    in[j] = false;
                    live--;
                }
        }
        ck_assert_int_eq(ethd_txpool_add(p, secp, &rules, b.data, b.len, &v), 0);
        in[i] = true;
        live++;
        for (unsigned j = 0; j <= i; j++)
            ck_assert(ethd_txpool_has(p, h[j]) == in[j]);
    }
    ck_assert_uint_eq(ethd_txpool_count(p), live);
    ethd_buf_free(&b);
    ethd_txpool_free(p);
}
END_TEST

START_TEST(test_bad_config)
{
    struct ethd_txpool_config c = {.max_txs = (1u << 20) + 1};
    struct ethd_txpool *p = NULL;
    ck_assert_int_eq(ethd_txpool_new(&c, &p), ETHD_EINVAL);
    ck_assert_ptr_null(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("txpool");
    TCase *tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_add_get_duplicate);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_intrinsic_gas);
    tcase_add_test(tc, test_blob_refused);
    tcase_add_test(tc, test_replacement);
    tcase_add_test(tc, test_eviction_by_count);
    tcase_add_test(tc, test_eviction_by_bytes);
    tcase_add_test(tc, test_order_and_remove);
    tcase_add_test(tc, test_churn);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
