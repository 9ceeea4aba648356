/* Merkle-Patricia trie roots against $ETHD_VECTORS/trie: trietest.json and
 * trietest_secureTrie.json (ordered updates, null = delete),
 * trieanyorder.json and trieanyorder_secureTrie.json (also shuffled and
 * reversed), hex_encoded_securetrie_test.json, hexencodetest.json (hex-prefix
 * encoding). trietestnextprev.json is not used: it tests next/prev key
 * iteration over a stored trie, which this in-memory root builder does not
 * offer.
 *
 * Ordered-list roots are checked against the generic API with RLP(index)
 * keys (lists around every RLP length boundary), and against real blocks:
 * transactionsTrie and withdrawalsRoot of the blocks in three
 * BlockchainTests files, recomputed from the block RLP. */
#include "testutil.h"

#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/trie.h>

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A decoded key or value; storage freed by kvs_free. */
struct kvs {
    struct ethd_trie_kv *kv;
    uint8_t **mem;
    size_t n, cap, nmem;
};

static uint8_t *kvs_keep(struct kvs *s, uint8_t *p)
{
    s->mem = realloc(s->mem, (s->nmem + 1) * sizeof *s->mem);
    ck_assert_ptr_nonnull(s->mem);
    s->mem[s->nmem++] = p;
    return p;
}

/* "0x..." is hex, anything else raw ASCII (README, "trie/"); NULL (JSON
 * null) is the empty value, i.e. a deletion. Raw strings are borrowed from
 * the JSON document. */
static void decode_field(struct kvs *s, const char *str, const uint8_t **p, size_t *len)
{
    if (str == NULL) {
        *p = NULL;
        *len = 0;
    } else if (strncmp(str, "0x", 2) == 0) {
        *p = kvs_keep(s, tu_hex_alloc(str, len));
    } else {
        *p = (const uint8_t *)str;
        *len = strlen(str);
    }
}

/* `k` is a string, `v` a string or null. */
static void kvs_add(struct kvs *s, const char *k, json_t *v)
{
    ck_assert_msg(k != NULL, "key is not a string");
    ck_assert_msg(json_is_null(v) || json_is_string(v), "value is neither a string nor null");
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->kv = realloc(s->kv, s->cap * sizeof *s->kv);
        ck_assert_ptr_nonnull(s->kv);
    }
    struct ethd_trie_kv *e = &s->kv[s->n++];
    decode_field(s, k, &e->key, &e->key_len);
    decode_field(s, json_string_value(v), &e->val, &e->val_len);
}

static void kvs_free(struct kvs *s)
{
    for (size_t i = 0; i < s->nmem; i++)
        free(s->mem[i]);
    free(s->mem);
    free(s->kv);
    memset(s, 0, sizeof *s);
}

static void expect_root(const char *file, const char *name, json_t *c, const uint8_t got[32])
{
    const char *hex = json_string_value(json_object_get(c, "root"));
    ck_assert_msg(hex != NULL, "%s/%s: no root", file, name);
    uint8_t want[32];
    tu_hex_fixed(hex, want, 32);
    char g[67];
    ethd_hex_encode(got, 32, g);
    ck_assert_msg(memcmp(got, want, 32) == 0, "%s/%s: root %s, want %s", file, name, g, hex);
}

static int root_of(const struct kvs *s, bool secure, uint8_t out[32])
{
    return secure ? ethd_trie_secure_root(s->kv, s->n, out) : ethd_trie_root(s->kv, s->n, out);
}

/* Ordered updates: applying them in order equals "the last write of each
 * key wins, empty = absent", which is what ethd_trie_root does with the
 * whole array. Also cross-check against the reduced final set built here
 * and fed in reverse. */
static void run_ordered_file(const char *file, bool secure, size_t want_cases)
{
    json_t *root = tu_load_vectors(file);
    const char *name;
    json_t *c;
    size_t cases = 0;
    json_object_foreach(root, name, c) {
        json_t *in = json_object_get(c, "in");
        ck_assert_msg(json_is_array(in), "%s/%s: in is not an array", file, name);
        struct kvs s = {0};
        size_t i;
        json_t *pair;
        json_array_foreach(in, i, pair) {
            ck_assert(json_is_array(pair) && json_array_size(pair) == 2);
            kvs_add(&s, json_string_value(json_array_get(pair, 0)), json_array_get(pair, 1));
        }
        uint8_t got[32];
        ck_assert_int_eq(root_of(&s, secure, got), 0);
        expect_root(file, name, c, got);

        /* Final set by hand: keep an entry only if no later one has its key. */
        struct kvs fin = {0};
        fin.kv = calloc(s.n ? s.n : 1, sizeof *fin.kv);
        ck_assert_ptr_nonnull(fin.kv);
        for (size_t a = s.n; a-- > 0;) {
            bool later = false;
            for (size_t b = a + 1; b < s.n && !later; b++)
                later = s.kv[b].key_len == s.kv[a].key_len &&
                        memcmp(s.kv[b].key, s.kv[a].key, s.kv[a].key_len) == 0;
            if (!later && s.kv[a].val_len > 0)
                fin.kv[fin.n++] = s.kv[a]; /* reverse order */
        }
        uint8_t got2[32];
        ck_assert_int_eq(root_of(&fin, secure, got2), 0);
        ck_assert_mem_eq(got2, got, 32);
        free(fin.kv);
        kvs_free(&s);
        cases++;
    }
    ck_assert_uint_eq(cases, want_cases);
    json_decref(root);
}

/* Any-order files: the root of the object's entries, in file order,
 * reversed, and shuffled. */
static void run_anyorder_file(const char *file, bool secure, size_t want_cases)
{
    json_t *root = tu_load_vectors(file);
    const char *name;
    json_t *c;
    size_t cases = 0;
    json_object_foreach(root, name, c) {
        json_t *in = json_object_get(c, "in");
        ck_assert_msg(json_is_object(in), "%s/%s: in is not an object", file, name);
        struct kvs s = {0};
        const char *k;
        json_t *v;
        json_object_foreach(in, k, v)
            kvs_add(&s, k, v);
        uint8_t got[32];
        ck_assert_int_eq(root_of(&s, secure, got), 0);
        expect_root(file, name, c, got);

        for (size_t a = 0, b = s.n ? s.n - 1 : 0; a < b; a++, b--) {
            struct ethd_trie_kv t = s.kv[a];
            s.kv[a] = s.kv[b];
            s.kv[b] = t;
        }
        ck_assert_int_eq(root_of(&s, secure, got), 0);
        expect_root(file, name, c, got);
        for (int round = 0; round < 5; round++) {
            for (size_t a = s.n; a > 1; a--) {
                uint32_t r;
                tu_rand_bytes(&r, sizeof r);
                size_t b = r % a;
                struct ethd_trie_kv t = s.kv[a - 1];
                s.kv[a - 1] = s.kv[b];
                s.kv[b] = t;
            }
            ck_assert_int_eq(root_of(&s, secure, got), 0);
            expect_root(file, name, c, got);
        }
        kvs_free(&s);
        cases++;
    }
    ck_assert_uint_eq(cases, want_cases);
    json_decref(root);
}

START_TEST(test_trietest)
{
    run_ordered_file("trie/trietest.json", false, 5);
}
END_TEST

START_TEST(test_trietest_secure)
{
    run_ordered_file("trie/trietest_secureTrie.json", true, 3);
}
END_TEST

START_TEST(test_anyorder)
{
    run_anyorder_file("trie/trieanyorder.json", false, 7);
}
END_TEST

START_TEST(test_anyorder_secure)
{
    run_anyorder_file("trie/trieanyorder_secureTrie.json", true, 7);
}
END_TEST

START_TEST(test_hex_encoded_secure)
{
    json_t *root = tu_load_vectors("trie/hex_encoded_securetrie_test.json");
    const char *name;
    json_t *c;
    size_t cases = 0;
    json_object_foreach(root, name, c) {
        ck_assert(json_is_true(json_object_get(c, "hexEncoded")));
        json_t *in = json_object_get(c, "in");
        struct kvs s = {0};
        const char *k;
        json_t *v;
        json_object_foreach(in, k, v) {
            ck_assert_msg(strncmp(k, "0x", 2) == 0, "%s: key %s not hex", name, k);
            kvs_add(&s, k, v);
        }
        uint8_t got[32];
        ck_assert_int_eq(ethd_trie_secure_root(s.kv, s.n, got), 0);
        expect_root("hex_encoded_securetrie_test.json", name, c, got);
        /* The same through ethd_trie_root with hand-hashed keys. */
        uint8_t *hk = calloc(s.n ? s.n : 1, 32);
        struct ethd_trie_kv *kv = calloc(s.n ? s.n : 1, sizeof *kv);
        for (size_t i = 0; i < s.n; i++) {
            ethd_keccak256(s.kv[i].key, s.kv[i].key_len, hk + 32 * i);
            kv[i] = s.kv[i];
            kv[i].key = hk + 32 * i;
            kv[i].key_len = 32;
        }
        uint8_t got2[32];
        ck_assert_int_eq(ethd_trie_root(kv, s.n, got2), 0);
        ck_assert_mem_eq(got2, got, 32);
        free(hk);
        free(kv);
        kvs_free(&s);
        cases++;
    }
    ck_assert_uint_eq(cases, 3);
    json_decref(root);
}
END_TEST

START_TEST(test_hexencode)
{
    json_t *root = tu_load_vectors("trie/hexencodetest.json");
    const char *name;
    json_t *c;
    size_t cases = 0;
    json_object_foreach(root, name, c) {
        json_t *seq = json_object_get(c, "seq");
        uint8_t nib[64], out[64], want[64];
        size_t n = json_array_size(seq), olen = 0, wlen = 0;
        ck_assert_uint_le(n, sizeof nib);
        for (size_t i = 0; i < n; i++)
            nib[i] = (uint8_t)json_integer_value(json_array_get(seq, i));
        int term = json_is_true(json_object_get(c, "term"));
        ck_assert_int_eq(ethd_hex_decode(json_string_value(json_object_get(c, "out")), want,
                                         sizeof want, &wlen),
                         0);
        ck_assert_int_eq(ethd_trie_hex_prefix(nib, n, term, out, sizeof out, &olen), 0);
        ck_assert_msg(olen == wlen && memcmp(out, want, wlen) == 0, "hexencodetest %s", name);
        /* Exactly n/2 + 1 bytes are needed. */
        ck_assert_int_eq(ethd_trie_hex_prefix(nib, n, term, out, n / 2, &olen), ETHD_ETOOBIG);
        cases++;
    }
    ck_assert_uint_eq(cases, 12);
    json_decref(root);

    uint8_t out[4], bad[2] = {1, 16};
    size_t olen;
    ck_assert_int_eq(ethd_trie_hex_prefix(bad, 2, 0, out, sizeof out, &olen), ETHD_EINVAL);
    ck_assert_int_eq(ethd_trie_hex_prefix(NULL, 0, 1, out, sizeof out, &olen), 0);
    ck_assert_uint_eq(olen, 1);
    ck_assert_uint_eq(out[0], 0x20);
}
END_TEST

START_TEST(test_empty_root)
{
    uint8_t want[32], got[32];
    tu_hex_fixed("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421", want, 32);
    ck_assert_mem_eq(ethd_trie_empty_root, want, 32);
    ethd_keccak256("\x80", 1, got);
    ck_assert_mem_eq(got, want, 32);
    memset(got, 0, 32);
    ck_assert_int_eq(ethd_trie_root(NULL, 0, got), 0);
    ck_assert_mem_eq(got, want, 32);
    memset(got, 0, 32);
    ck_assert_int_eq(ethd_trie_secure_root(NULL, 0, got), 0);
    ck_assert_mem_eq(got, want, 32);
    memset(got, 0, 32);
    ck_assert_int_eq(ethd_trie_ordered_root(NULL, 0, got), 0);
    ck_assert_mem_eq(got, want, 32);
    /* Only empty values (all deleted) is the empty trie too. */
    struct ethd_trie_kv kv[2] = {{(const uint8_t *)"a", 1, NULL, 0},
                                 {(const uint8_t *)"b", 1, (const uint8_t *)"", 0}};
    memset(got, 0, 32);
    ck_assert_int_eq(ethd_trie_root(kv, 2, got), 0);
    ck_assert_mem_eq(got, want, 32);
}
END_TEST

/* Single small entry: the root node is embedded-size (< 32 bytes) but the
 * root is still its hash. Leaf [HP("a", leaf) = 0x20 0x61, "b"] encodes as
 * c4 82 20 61 62 (Yellow Paper appendix D). */
START_TEST(test_small_root_is_hashed)
{
    struct ethd_trie_kv kv = {(const uint8_t *)"a", 1, (const uint8_t *)"b", 1};
    uint8_t got[32], want[32];
    static const uint8_t node[] = {0xc4, 0x82, 0x20, 0x61, 0x62};
    ethd_keccak256(node, sizeof node, want);
    ck_assert_int_eq(ethd_trie_root(&kv, 1, got), 0);
    ck_assert_mem_eq(got, want, 32);
    struct ethd_trie_stats st;
    ck_assert_int_eq(ethd_trie_root_ex(&kv, 1, 0, got, &st), 0);
    ck_assert_uint_eq(st.nodes, 1);
    ck_assert_uint_eq(st.hashed_nodes, 1);
    ck_assert_uint_eq(st.hashed_bytes, sizeof node);
    /* Empty key: leaf with HP of no nibbles = 0x20. */
    struct ethd_trie_kv e = {(const uint8_t *)"", 0, (const uint8_t *)"v", 1};
    static const uint8_t node2[] = {0xc2, 0x20, 0x76};
    ethd_keccak256(node2, sizeof node2, want);
    ck_assert_int_eq(ethd_trie_root(&e, 1, got), 0);
    ck_assert_mem_eq(got, want, 32);
}
END_TEST

/* Duplicate keys: the later entry wins; an empty later value deletes. */
START_TEST(test_duplicates)
{
    struct ethd_trie_kv a[] = {
        {(const uint8_t *)"dog", 3, (const uint8_t *)"puppy", 5},
        {(const uint8_t *)"do", 2, (const uint8_t *)"verb", 4},
        {(const uint8_t *)"dog", 3, (const uint8_t *)"hound", 5},
    };
    struct ethd_trie_kv b[] = {
        {(const uint8_t *)"do", 2, (const uint8_t *)"verb", 4},
        {(const uint8_t *)"dog", 3, (const uint8_t *)"hound", 5},
    };
    uint8_t ra[32], rb[32];
    ck_assert_int_eq(ethd_trie_root(a, 3, ra), 0);
    ck_assert_int_eq(ethd_trie_root(b, 2, rb), 0);
    ck_assert_mem_eq(ra, rb, 32);
    struct ethd_trie_kv c[] = {
        {(const uint8_t *)"do", 2, (const uint8_t *)"verb", 4},
        {(const uint8_t *)"dog", 3, (const uint8_t *)"hound", 5},
        {(const uint8_t *)"dog", 3, NULL, 0},
    };
    ck_assert_int_eq(ethd_trie_root(c, 3, ra), 0);
    ck_assert_int_eq(ethd_trie_root(b, 1, rb), 0);
    ck_assert_mem_eq(ra, rb, 32);
}
END_TEST

START_TEST(test_bad_input)
{
    uint8_t r[32];
    struct ethd_trie_kv kv = {NULL, 3, (const uint8_t *)"x", 1};
    ck_assert_int_eq(ethd_trie_root(&kv, 1, r), ETHD_EINVAL);
    kv.key = (const uint8_t *)"abc";
    kv.val = NULL;
    ck_assert_int_eq(ethd_trie_root(&kv, 1, r), ETHD_EINVAL);
    ck_assert_int_eq(ethd_trie_root(NULL, 1, r), ETHD_EINVAL);
    kv.val = (const uint8_t *)"x";
    ck_assert_int_eq(ethd_trie_root(&kv, 1, NULL), ETHD_EINVAL);
    ck_assert_int_eq(ethd_trie_root_ex(&kv, 1, 0x80, r, NULL), ETHD_EINVAL);
    struct ethd_trie_item it = {NULL, 5};
    ck_assert_int_eq(ethd_trie_ordered_root(&it, 1, r), ETHD_EINVAL);
    ck_assert_int_eq(ethd_trie_ordered_root(NULL, 2, r), ETHD_EINVAL);

    /* Key length limit for plain tries; the secure trie hashes it away. */
    uint8_t *big = calloc(1, ETHD_TRIE_MAX_KEY_LEN + 1);
    struct ethd_trie_kv kb = {big, ETHD_TRIE_MAX_KEY_LEN + 1, (const uint8_t *)"x", 1};
    ck_assert_int_eq(ethd_trie_root(&kb, 1, r), ETHD_ETOOBIG);
    ck_assert_int_eq(ethd_trie_secure_root(&kb, 1, r), 0);
    kb.key_len = ETHD_TRIE_MAX_KEY_LEN;
    ck_assert_int_eq(ethd_trie_root(&kb, 1, r), 0);
    free(big);
}
END_TEST

/* Deepest shapes the key limit allows; must not crash and must be
 * deterministic:
 * - keys that are prefixes of each other up to the maximum length (every
 *   branch has a value and one child, with a 1-nibble extension between);
 * - a branch at every nibble: the maximal key plus, for each nibble
 *   position d, a copy of it that differs at nibble d.
 * Also: two maximal keys differing only in their last nibble. */
START_TEST(test_deep_keys)
{
    enum { L = ETHD_TRIE_MAX_KEY_LEN };
    uint8_t *k = malloc(L);
    memset(k, 0x11, L);
    struct ethd_trie_kv *kv = calloc(2 * L + 1, sizeof *kv);
    for (size_t i = 0; i < L; i++) {
        kv[i].key = k;
        kv[i].key_len = i + 1;
        kv[i].val = (const uint8_t *)"v";
        kv[i].val_len = 1;
    }
    uint8_t r1[32], r2[32];
    ck_assert_int_eq(ethd_trie_root(kv, L, r1), 0);
    ck_assert_int_eq(ethd_trie_root(kv, L, r2), 0);
    ck_assert_mem_eq(r1, r2, 32);

    uint8_t *var = malloc((size_t)2 * L * L);
    for (size_t d = 0; d < 2 * L; d++) {
        uint8_t *v = var + d * L;
        memcpy(v, k, L);
        v[d / 2] ^= (d & 1) ? 0x01 : 0x10; /* flip nibble d */
        kv[d].key = v;
        kv[d].key_len = L;
        kv[d].val = (const uint8_t *)"w";
        kv[d].val_len = 1;
    }
    kv[2 * L].key = k;
    kv[2 * L].key_len = L;
    kv[2 * L].val = (const uint8_t *)"m";
    kv[2 * L].val_len = 1;
    struct ethd_trie_stats st;
    ck_assert_int_eq(ethd_trie_root_ex(kv, 2 * L + 1, 0, r1, &st), 0);
    /* 2L branches (one per nibble) and 2L + 1 leaves, no extensions. */
    ck_assert_uint_eq(st.nodes, 4 * L + 1);
    ck_assert_int_eq(ethd_trie_root(kv, 2 * L + 1, r2), 0);
    ck_assert_mem_eq(r1, r2, 32);

    uint8_t *k2 = malloc(L);
    memcpy(k2, k, L);
    k2[L - 1] ^= 0x01;
    struct ethd_trie_kv two[2] = {{k, L, (const uint8_t *)"a", 1}, {k2, L, (const uint8_t *)"b", 1}};
    ck_assert_int_eq(ethd_trie_root_ex(two, 2, 0, r1, &st), 0);
    ck_assert_uint_eq(st.nodes, 4); /* extension, branch, two leaves */
    ck_assert_int_ne(memcmp(r1, ethd_trie_empty_root, 32), 0);
    free(k);
    free(k2);
    free(var);
    free(kv);
}
END_TEST

/* Ordered root == generic root over RLP(index) keys. RLP(i) is written out
 * by hand here (0x80 for 0, the byte itself below 0x80, else 0x80+len and
 * the big-endian bytes). */
static size_t rlp_index(size_t i, uint8_t out[9])
{
    if (i == 0) {
        out[0] = 0x80;
        return 1;
    }
    if (i < 0x80) {
        out[0] = (uint8_t)i;
        return 1;
    }
    size_t n = 0;
    for (size_t v = i; v; v >>= 8)
        n++;
    out[0] = (uint8_t)(0x80 + n);
    for (size_t j = 0; j < n; j++)
        out[1 + j] = (uint8_t)(i >> (8 * (n - 1 - j)));
    return 1 + n;
}

START_TEST(test_ordered_vs_generic)
{
    static const size_t sizes[] = {1, 2, 3, 16, 17, 127, 128, 129, 255, 256, 257, 300, 1000, 5000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        struct ethd_trie_item *items = calloc(n, sizeof *items);
        struct ethd_trie_kv *kv = calloc(n, sizeof *kv);
        uint8_t *keys = calloc(n, 9), *vals = malloc(n * 40 + 1);
        ck_assert(items && kv && keys && vals);
        tu_rand_bytes(vals, n * 40);
        for (size_t i = 0; i < n; i++) {
            size_t vlen = 1 + (vals[i * 40] % 40); /* 1..40: embedded and hashed leaves */
            items[i].data = vals + i * 40;
            items[i].len = vlen;
            kv[i].key = keys + 9 * i;
            kv[i].key_len = rlp_index(i, keys + 9 * i);
            kv[i].val = items[i].data;
            kv[i].val_len = vlen;
        }
        uint8_t a[32], b[32];
        ck_assert_int_eq(ethd_trie_ordered_root(items, n, a), 0);
        ck_assert_int_eq(ethd_trie_root(kv, n, b), 0);
        ck_assert_msg(memcmp(a, b, 32) == 0, "ordered root differs at n=%zu", n);
        free(items);
        free(kv);
        free(keys);
        free(vals);
    }
}
END_TEST

/* Items from a block body list: legacy transactions and withdrawals are RLP
 * lists (their raw encoding is the value); typed transactions appear as RLP
 * strings holding type || payload (EIP-2718), the string's bytes are the
 * value. */
static size_t body_items(const struct ethd_rlp_item *list, struct ethd_trie_item *out,
                         size_t cap)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item x;
    size_t n = 0;
    ck_assert_int_eq(ethd_rlp_iter_init(&it, list), 0);
    while (ethd_rlp_iter_more(&it)) {
        ck_assert_int_eq(ethd_rlp_iter_next(&it, &x), 0);
        ck_assert_uint_lt(n, cap);
        if (x.is_list) {
            out[n].data = x.raw;
            out[n].len = x.raw_len;
        } else {
            out[n].data = x.payload;
            out[n].len = x.len;
        }
        n++;
    }
    return n;
}

static void check_block_roots(const char *file, size_t *blocks, size_t *nonempty)
{
    json_t *root = tu_load_vectors(file);
    const char *name;
    json_t *t;
    json_object_foreach(root, name, t) {
        json_t *bl = json_object_get(t, "blocks");
        size_t i;
        json_t *b;
        json_array_foreach(bl, i, b) {
            json_t *hdr = json_object_get(b, "blockHeader");
            if (hdr == NULL)
                continue; /* an invalid block (expectException): no header to compare */
            size_t rlen;
            uint8_t *rlp = tu_hex_alloc(tu_jstr(b, "rlp"), &rlen);
            struct ethd_rlp_item blk, hd, txs, unc, wds;
            ck_assert_int_eq(ethd_rlp_decode(rlp, rlen, &blk), 0);
            struct ethd_rlp_iter it;
            ck_assert_int_eq(ethd_rlp_iter_init(&it, &blk), 0);
            ck_assert_int_eq(ethd_rlp_iter_next(&it, &hd), 0);
            ck_assert_int_eq(ethd_rlp_iter_next(&it, &txs), 0);
            ck_assert_int_eq(ethd_rlp_iter_next(&it, &unc), 0);
            struct ethd_trie_item items[64];
            uint8_t got[32], want[32];
            size_t n = body_items(&txs, items, 64);
            ck_assert_int_eq(ethd_trie_ordered_root(items, n, got), 0);
            tu_hex_fixed(tu_jstr(hdr, "transactionsTrie"), want, 32);
            ck_assert_msg(memcmp(got, want, 32) == 0, "%s %s block %zu: transactionsTrie", file,
                          name, i);
            if (n > 1)
                (*nonempty)++;
            json_t *wr = json_object_get(hdr, "withdrawalsRoot");
            if (wr != NULL) {
                ck_assert_int_eq(ethd_rlp_iter_next(&it, &wds), 0);
                size_t m = body_items(&wds, items, 64);
                ck_assert_int_eq(ethd_trie_ordered_root(items, m, got), 0);
                tu_hex_fixed(tu_jstr(hdr, "withdrawalsRoot"), want, 32);
                ck_assert_msg(memcmp(got, want, 32) == 0, "%s %s block %zu: withdrawalsRoot",
                              file, name, i);
                if (m > 1)
                    (*nonempty)++;
            }
            (*blocks)++;
            free(rlp);
        }
    }
    json_decref(root);
}

START_TEST(test_block_roots)
{
    size_t blocks = 0, nonempty = 0;
    check_block_roots(
        "blocks/BlockchainTests/ValidBlocks/bcEIP4844-blobtransactions/blockWithAllTransactionTypes.json",
        &blocks, &nonempty);
    check_block_roots("blocks/BlockchainTests/ValidBlocks/bcEIP1559/transType.json", &blocks,
                      &nonempty);
    check_block_roots(
        "blocks/BlockchainTests/GeneralStateTests/Pyspecs/shanghai/eip4895_withdrawals/zero_amount.json",
        &blocks, &nonempty);
    /* Known contents: 12 blocks with a header; 4 of them carry several
     * transactions (4, 3, 2, 2), 8 carry 2..4 withdrawals. */
    ck_assert_uint_eq(blocks, 12);
    ck_assert_uint_eq(nonempty, 12);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trie");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_trietest);
    tcase_add_test(tc, test_trietest_secure);
    tcase_add_test(tc, test_anyorder);
    tcase_add_test(tc, test_anyorder_secure);
    tcase_add_test(tc, test_hex_encoded_secure);
    tcase_add_test(tc, test_hexencode);
    suite_add_tcase(s, tc);
    tc = tcase_create("shapes");
    tcase_add_test(tc, test_empty_root);
    tcase_add_test(tc, test_small_root_is_hashed);
    tcase_add_test(tc, test_duplicates);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_deep_keys);
    suite_add_tcase(s, tc);
    tc = tcase_create("ordered");
    tcase_add_test(tc, test_ordered_vs_generic);
    tcase_add_test(tc, test_block_roots);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
