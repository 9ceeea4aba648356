/* Unit tests for plugins/les/les_cht.c: the canonical hash trie (caps/les.md,
 * "Canonical Hash Trie") and MPT proofs. The builder's root is checked
 * against the public trie (ethd_trie_root over the same key/value set),
 * and proofs are walked through the nodes the builder emitted. */
#include "les_cht.h"

#include <check.h>
#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>
#include <stdlib.h>
#include <string.h>

/* A generated chain: hash(n) = keccak(BE64(n)), td(n) = 1 + 2n. */
static int gen_entry(void *arg, uint64_t n, uint8_t hash[32], uint8_t td[32])
{
    (void)arg;
    uint8_t k[8];
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)(n >> (56 - 8 * i));
    ethd_keccak256(k, 8, hash);
    memset(td, 0, 32);
    uint64_t t = 1 + 2 * n;
    for (int i = 0; i < 8; i++)
        td[24 + i] = (uint8_t)(t >> (56 - 8 * i));
    return 0;
}

/* In-memory node store. */
struct store {
    uint8_t (*hash)[32];
    struct ethd_buf *node;
    size_t n, cap;
};

static int emit(void *arg, const uint8_t hash[32], const uint8_t *node, size_t len)
{
    struct store *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->hash = realloc(s->hash, s->cap * 32);
        s->node = realloc(s->node, s->cap * sizeof(*s->node));
    }
    memcpy(s->hash[s->n], hash, 32);
    s->node[s->n] = (struct ethd_buf)ETHD_BUF_INIT;
    ethd_buf_append(&s->node[s->n], node, len);
    s->n++;
    return 0;
}

static int lookup(void *arg, const uint8_t hash[32], struct ethd_buf *out)
{
    struct store *s = arg;
    for (size_t i = s->n; i-- > 0;)
        if (memcmp(s->hash[i], hash, 32) == 0)
            return ethd_buf_append(out, s->node[i].data, s->node[i].len);
    return ETHD_ENOTFOUND;
}

static void store_free(struct store *s)
{
    for (size_t i = 0; i < s->n; i++)
        ethd_buf_free(&s->node[i]);
    free(s->hash);
    free(s->node);
    memset(s, 0, sizeof(*s));
}

/* Reference root from the public trie. */
static void reference_root(uint64_t n, uint8_t root[32])
{
    struct ethd_trie_kv *kv = calloc(n, sizeof(*kv));
    uint8_t(*keys)[8] = calloc(n, 8);
    struct ethd_buf *vals = calloc(n, sizeof(*vals));
    ck_assert_ptr_nonnull(kv);
    for (uint64_t i = 0; i < n; i++) {
        uint8_t h[32], td[32];
        gen_entry(NULL, i, h, td);
        for (int b = 0; b < 8; b++)
            keys[i][b] = (uint8_t)(i >> (56 - 8 * b));
        ck_assert_int_eq(ethd_les_cht_value(h, td, &vals[i]), 0);
        kv[i] = (struct ethd_trie_kv){keys[i], 8, vals[i].data, vals[i].len};
    }
    ck_assert_int_eq(ethd_trie_root(kv, (size_t)n, root), 0);
    for (uint64_t i = 0; i < n; i++)
        ethd_buf_free(&vals[i]);
    free(vals);
    free(keys);
    free(kv);
}

static void check_root(uint64_t n)
{
    uint8_t a[32], b[32];
    ck_assert_int_eq(ethd_les_cht_build(n, gen_entry, NULL, NULL, NULL, a), 0);
    reference_root(n, b);
    ck_assert_mem_eq(a, b, 32);
}

START_TEST(test_root_small_sizes)
{
    static const uint64_t sizes[] = {1, 2, 3, 15, 16, 17, 255, 256, 257, 300, 4097};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
        check_root(sizes[i]);
}
END_TEST

START_TEST(test_root_one_section)
{
    check_root(LES_CHT_SECTION_SIZE);
}
END_TEST

START_TEST(test_empty_is_error)
{
    uint8_t r[32];
    ck_assert_int_eq(ethd_les_cht_build(0, gen_entry, NULL, NULL, NULL, r), ETHD_EINVAL);
}
END_TEST

static void be64(uint64_t n, uint8_t k[8])
{
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)(n >> (56 - 8 * i));
}

/* Wrap concatenated proof nodes as an RLP list for the verifier. */
static void as_list(const struct ethd_buf *nodes, struct ethd_buf *list, struct ethd_rlp_item *it)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, list);
    ethd_rlp_list_begin(&e);
    ethd_rlp_raw(&e, nodes->data, nodes->len);
    ethd_rlp_list_end(&e);
    ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
    ck_assert_int_eq(ethd_rlp_decode(list->data, list->len, it), 0);
}

START_TEST(test_proof_section)
{
    struct store st = {0};
    uint8_t root[32];
    const uint64_t n = LES_CHT_SECTION_SIZE;
    ck_assert_int_eq(ethd_les_cht_build(n, gen_entry, NULL, emit, &st, root), 0);
    static const uint64_t nums[] = {0, 1, 255, 256, 4095, 12345, 32766, 32767};
    for (size_t i = 0; i < sizeof(nums) / sizeof(*nums); i++) {
        uint8_t key[8], h[32], td[32];
        be64(nums[i], key);
        struct ethd_buf proof = ETHD_BUF_INIT, list = ETHD_BUF_INIT, want = ETHD_BUF_INIT;
        size_t cnt = 0;
        ck_assert_int_eq(ethd_les_trie_prove(root, key, 8, 0, lookup, &st, &proof, &cnt), 0);
        ck_assert_uint_ge(cnt, 2);
        struct ethd_rlp_item it;
        as_list(&proof, &list, &it);
        const uint8_t *val;
        size_t vlen;
        ck_assert_int_eq(ethd_les_trie_verify(root, key, 8, &it, &val, &vlen), 0);
        gen_entry(NULL, nums[i], h, td);
        ethd_les_cht_value(h, td, &want);
        ck_assert_uint_eq(vlen, want.len);
        ck_assert_mem_eq(val, want.data, vlen);
        /* A different key is not proven by this proof's value. */
        uint8_t other[8];
        be64(nums[i] ^ 1, other);
        const uint8_t *v2;
        size_t l2;
        int rc = ethd_les_trie_verify(root, other, 8, &it, &v2, &l2);
        ck_assert(rc != 0 || l2 != vlen || memcmp(v2, val, vlen) != 0);
        /* fromLevel: the first nodes are left out, so the proof alone no
         * longer reaches the root. */
        struct ethd_buf p1 = ETHD_BUF_INIT, l1 = ETHD_BUF_INIT;
        size_t c1 = 0;
        ck_assert_int_eq(ethd_les_trie_prove(root, key, 8, 1, lookup, &st, &p1, &c1), 0);
        ck_assert_uint_eq(c1, cnt - 1);
        as_list(&p1, &l1, &it);
        ck_assert_int_eq(ethd_les_trie_verify(root, key, 8, &it, &v2, &l2), ETHD_EPROTO);
        ethd_buf_free(&p1);
        ethd_buf_free(&l1);
        ethd_buf_free(&proof);
        ethd_buf_free(&list);
        ethd_buf_free(&want);
    }
    store_free(&st);
}
END_TEST

START_TEST(test_proof_absent_and_tampered)
{
    struct store st = {0};
    uint8_t root[32], key[8];
    ck_assert_int_eq(ethd_les_cht_build(300, gen_entry, NULL, emit, &st, root), 0);
    /* Beyond the last block: the walk proves absence. */
    be64(5000, key);
    struct ethd_buf proof = ETHD_BUF_INIT, list = ETHD_BUF_INIT;
    size_t cnt = 0;
    ck_assert_int_eq(ethd_les_trie_prove(root, key, 8, 0, lookup, &st, &proof, &cnt), 0);
    struct ethd_rlp_item it;
    as_list(&proof, &list, &it);
    const uint8_t *val;
    size_t vlen;
    ck_assert_int_eq(ethd_les_trie_verify(root, key, 8, &it, &val, &vlen), ETHD_ENOTFOUND);
    ethd_buf_free(&proof);
    ethd_buf_free(&list);
    /* Tamper with one byte of a proof node: the hash chain breaks. */
    be64(123, key);
    ck_assert_int_eq(ethd_les_trie_prove(root, key, 8, 0, lookup, &st, &proof, &cnt), 0);
    proof.data[proof.len - 3] ^= 0x01;
    as_list(&proof, &list, &it);
    ck_assert_int_ne(ethd_les_trie_verify(root, key, 8, &it, &val, &vlen), 0);
    ethd_buf_free(&proof);
    ethd_buf_free(&list);
    /* A wrong root. */
    ck_assert_int_eq(ethd_les_trie_prove(root, key, 8, 0, lookup, &st, &proof, &cnt), 0);
    as_list(&proof, &list, &it);
    uint8_t bad[32];
    memcpy(bad, root, 32);
    bad[0] ^= 0xff;
    ck_assert_int_eq(ethd_les_trie_verify(bad, key, 8, &it, &val, &vlen), ETHD_EPROTO);
    /* Unknown root for the prover. */
    struct ethd_buf p2 = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_les_trie_prove(bad, key, 8, 0, lookup, &st, &p2, &cnt), ETHD_ENOTFOUND);
    ck_assert_uint_eq(p2.len, 0);
    ethd_buf_free(&p2);
    ethd_buf_free(&proof);
    ethd_buf_free(&list);
    store_free(&st);
}
END_TEST

START_TEST(test_verify_garbage)
{
    uint8_t root[32] = {1}, key[8] = {0};
    const uint8_t *val;
    size_t vlen;
    struct ethd_rlp_item it;
    static const uint8_t str[] = {0x83, 'a', 'b', 'c'};
    ck_assert_int_eq(ethd_rlp_decode(str, sizeof(str), &it), 0);
    ck_assert_int_eq(ethd_les_trie_verify(root, key, 8, &it, &val, &vlen), ETHD_EPROTO);
    static const uint8_t empty[] = {0xc0};
    ck_assert_int_eq(ethd_rlp_decode(empty, 1, &it), 0);
    ck_assert_int_eq(ethd_les_trie_verify(root, key, 8, &it, &val, &vlen), ETHD_EPROTO);
    uint8_t longkey[65] = {0};
    ck_assert_int_eq(ethd_les_trie_verify(root, longkey, 65, &it, &val, &vlen), ETHD_EINVAL);
    /* A node that hashes to the root but is a malformed node. */
    static const uint8_t node[] = {0xc3, 0x01, 0x02, 0x03};
    uint8_t r2[32];
    ethd_keccak256(node, sizeof(node), r2);
    static const uint8_t lst[] = {0xc4, 0xc3, 0x01, 0x02, 0x03};
    ck_assert_int_eq(ethd_rlp_decode(lst, sizeof(lst), &it), 0);
    ck_assert_int_eq(ethd_les_trie_verify(r2, key, 8, &it, &val, &vlen), ETHD_EPROTO);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("les_cht");
    TCase *tc = tcase_create("cht");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_root_small_sizes);
    tcase_add_test(tc, test_root_one_section);
    tcase_add_test(tc, test_empty_is_error);
    tcase_add_test(tc, test_proof_section);
    tcase_add_test(tc, test_proof_absent_and_tampered);
    tcase_add_test(tc, test_verify_garbage);
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
