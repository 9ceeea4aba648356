/* In-memory Merkle-Patricia trie roots (Yellow Paper appendix D).
 *
 * Instead of inserting keys one by one into a node structure, the entries are
 * sorted by key (byte order is nibble order) and the trie is produced by
 * recursion over sorted ranges: a range of one entry is a leaf; a range whose
 * keys share more nibbles than the current depth is an extension over a
 * branch; otherwise it is a branch whose children are the sub-ranges grouped
 * by the next nibble (and whose value is the key ending exactly here). Each
 * node is RLP-encoded once its children's references are known; a node whose
 * RLP is 32 bytes or longer is referenced by its Keccak-256, a shorter one is
 * embedded (appendix D, the function c(J, i) / n(J, i)). */
#include <ethd/buf.h>
#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/trie.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const uint8_t ethd_trie_empty_root[ETHD_TRIE_HASH_LEN] = {
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
};

/* A node reference as it appears inside its parent: either the RLP of the
 * 32-byte hash (0xa0 || hash, 33 bytes) or the embedded node RLP (< 32). */
#define REF_MAX 33

struct ent {
    uint64_t pfx; /* first 8 key bytes, big-endian, zero-padded: most
                   * comparisons end here without touching the key */
    const uint8_t *key;
    size_t klen;
    const uint8_t *val;
    size_t vlen;
    size_t idx; /* input position: later entries win over earlier ones */
};

/* Child references of the branch being built at one recursion level. */
struct level {
    uint8_t ref[16][REF_MAX];
    uint8_t len[16]; /* 0 = no child */
};

struct build {
    const struct ent *e;
    struct level **lv; /* one slot per branch depth, allocated on first use */
    size_t nlv;
    uint8_t *hp;       /* hex-prefix scratch, max key length + 1 bytes */
    struct ethd_buf buf; /* RLP of the node being encoded */
    struct ethd_rlp_enc enc; /* kept here, not on the recursion's stack */
    struct ethd_trie_stats st;
};

static inline unsigned nib(const uint8_t *key, size_t i)
{
    return (i & 1) ? key[i >> 1] & 0x0f : key[i >> 1] >> 4;
}

static uint64_t key_prefix(const uint8_t *key, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        v = v << 8 | (i < len ? key[i] : 0);
    return v;
}

/* Byte order of the keys (= nibble order), then input position. */
static inline int ent_cmp(const struct ent *x, const struct ent *y)
{
    if (x->pfx != y->pfx)
        return x->pfx < y->pfx ? -1 : 1;
    /* Equal prefixes: the first min(len, 8) bytes agree. */
    size_t m = x->klen < y->klen ? x->klen : y->klen;
    int c = m > 8 ? memcmp(x->key + 8, y->key + 8, m - 8) : 0;
    if (c != 0)
        return c;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Stable merge sort of e[0..n) using tmp[0..n) (O(n log n) whatever the
 * input; qsort's generic element moves cost more than the comparisons for
 * these 48-byte entries). */
static void sort_ents(struct ent *e, struct ent *tmp, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            struct ent x = e[i];
            size_t j = i;
            while (j > 0 && ent_cmp(&e[j - 1], &x) > 0) {
                e[j] = e[j - 1];
                j--;
            }
            e[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_ents(e, tmp, h);
    sort_ents(e + h, tmp + h, n - h);
    if (ent_cmp(&e[h - 1], &e[h]) <= 0)
        return; /* already in order */
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = ent_cmp(&e[j], &e[i]) < 0 ? e[j++] : e[i++];
    while (i < h)
        tmp[k++] = e[i++];
    /* e[j..n) is already in place. */
    memcpy(e, tmp, k * sizeof *e);
}

/* Hex-prefix encoding of key nibbles [s, e) (appendix C). Returns the length
 * (e - s) / 2 + 1. */
static size_t hp_key(const uint8_t *key, size_t s, size_t e, bool leaf, uint8_t *out)
{
    size_t n = e - s;
    uint8_t *p = out;
    *p = (uint8_t)((leaf ? 0x20 : 0x00) | ((n & 1) ? 0x10 : 0x00));
    if (n & 1)
        *p |= (uint8_t)nib(key, s++);
    p++;
    if ((s & 1) == 0) {
        memcpy(p, key + s / 2, (e - s) / 2);
        p += (e - s) / 2;
    } else {
        for (; s < e; s += 2)
            *p++ = (uint8_t)(nib(key, s) << 4 | nib(key, s + 1));
    }
    return (size_t)(p - out);
}

/* Start encoding a node into b->buf. */
static struct ethd_rlp_enc *begin_node(struct build *b)
{
    ethd_buf_reset(&b->buf);
    ethd_rlp_enc_init(&b->enc, &b->buf);
    ethd_rlp_list_begin(&b->enc);
    return &b->enc;
}

/* Close the node in b->buf and turn it into the node's reference. */
static int finish_node(struct build *b, uint8_t ref[REF_MAX], uint8_t *ref_len)
{
    ethd_rlp_list_end(&b->enc);
    int rc = ethd_rlp_enc_finish(&b->enc);
    if (rc != 0)
        return rc;
    b->st.nodes++;
    if (b->buf.len >= 32) {
        ref[0] = 0xa0;
        ethd_keccak256(b->buf.data, b->buf.len, ref + 1);
        *ref_len = REF_MAX;
        b->st.hashed_nodes++;
        b->st.hashed_bytes += b->buf.len;
        b->st.hashed_blocks += b->buf.len / ETHD_KECCAK256_RATE + 1;
    } else {
        memcpy(ref, b->buf.data, b->buf.len);
        *ref_len = (uint8_t)b->buf.len;
    }
    return 0;
}

static int build_node(struct build *b, size_t lo, size_t hi, size_t depth, size_t level,
                      uint8_t ref[REF_MAX], uint8_t *ref_len);

/* Branch over [lo, hi) at nibble `depth`, all keys sharing depth nibbles. */
static int build_branch(struct build *b, size_t lo, size_t hi, size_t depth, size_t level,
                        uint8_t ref[REF_MAX], uint8_t *ref_len)
{
    if (level >= b->nlv)
        return ETHD_EDEPTH; /* cannot happen: nlv covers every key length */
    if (b->lv[level] == NULL) {
        b->lv[level] = malloc(sizeof(struct level));
        if (b->lv[level] == NULL)
            return ETHD_ENOMEM;
    }
    struct level *L = b->lv[level];
    memset(L->len, 0, sizeof L->len);

    const struct ent *value = NULL;
    if (b->e[lo].klen * 2 == depth)
        value = &b->e[lo++]; /* sorted first: a prefix precedes its extensions */
    size_t i = lo;
    while (i < hi) {
        unsigned c = nib(b->e[i].key, depth);
        size_t j = i + 1;
        while (j < hi && nib(b->e[j].key, depth) == c)
            j++;
        int rc = build_node(b, i, j, depth + 1, level + 1, L->ref[c], &L->len[c]);
        if (rc != 0)
            return rc;
        i = j;
    }

    struct ethd_rlp_enc *enc = begin_node(b);
    for (unsigned c = 0; c < 16; c++) {
        if (L->len[c] == 0)
            ethd_rlp_bytes(enc, "", 0);
        else
            ethd_rlp_raw(enc, L->ref[c], L->len[c]);
    }
    if (value != NULL)
        ethd_rlp_bytes(enc, value->val, value->vlen);
    else
        ethd_rlp_bytes(enc, "", 0);
    return finish_node(b, ref, ref_len);
}

/* Node for the non-empty range [lo, hi), whose keys share `depth` nibbles. */
static int build_node(struct build *b, size_t lo, size_t hi, size_t depth, size_t level,
                      uint8_t ref[REF_MAX], uint8_t *ref_len)
{
    const struct ent *first = &b->e[lo];
    struct ethd_rlp_enc *enc;

    if (hi - lo == 1) {
        size_t n = hp_key(first->key, depth, first->klen * 2, true, b->hp);
        enc = begin_node(b);
        ethd_rlp_bytes(enc, b->hp, n);
        ethd_rlp_bytes(enc, first->val, first->vlen);
        return finish_node(b, ref, ref_len);
    }

    /* Sorted, so the prefix common to the whole range is the one common to
     * its first and last keys. */
    const struct ent *last = &b->e[hi - 1];
    size_t end = first->klen < last->klen ? first->klen * 2 : last->klen * 2;
    size_t cp = depth;
    while (cp < end && nib(first->key, cp) == nib(last->key, cp))
        cp++;
    if (cp == depth)
        return build_branch(b, lo, hi, depth, level, ref, ref_len);

    uint8_t child[REF_MAX], child_len = 0;
    int rc = build_branch(b, lo, hi, cp, level, child, &child_len);
    if (rc != 0)
        return rc;
    size_t n = hp_key(first->key, depth, cp, false, b->hp);
    enc = begin_node(b);
    ethd_rlp_bytes(enc, b->hp, n);
    ethd_rlp_raw(enc, child, child_len);
    return finish_node(b, ref, ref_len);
}

/* Sort (unless `sorted`: distinct keys already in order), keep the last
 * entry of each key, drop empty values, build. `e` is owned by the caller
 * and reordered. */
static int root_of_entries(struct ent *e, size_t n, bool sorted, uint8_t root[ETHD_TRIE_HASH_LEN],
                           struct ethd_trie_stats *stats)
{
    if (n > 1 && !sorted) {
        struct ent *tmp = malloc(n * sizeof *tmp);
        if (tmp == NULL)
            return ETHD_ENOMEM;
        sort_ents(e, tmp, n);
        free(tmp);
    }
    size_t m = 0, maxk = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && e[i + 1].klen == e[i].klen &&
            (e[i].klen == 0 || memcmp(e[i + 1].key, e[i].key, e[i].klen) == 0))
            continue; /* a later update of the same key follows */
        if (e[i].vlen == 0)
            continue; /* empty value: absent */
        if (e[i].klen > maxk)
            maxk = e[i].klen;
        e[m++] = e[i];
    }
    if (m == 0) {
        memcpy(root, ethd_trie_empty_root, ETHD_TRIE_HASH_LEN);
        return 0;
    }

    struct build b;
    memset(&b, 0, sizeof b);
    b.e = e;
    b.nlv = 2 * maxk + 2; /* a branch sits at each depth 0 .. 2 * maxk */
    b.lv = calloc(b.nlv, sizeof *b.lv);
    b.hp = malloc(maxk + 1);
    int rc = (b.lv == NULL || b.hp == NULL) ? ETHD_ENOMEM : 0;
    uint8_t ref[REF_MAX], ref_len = 0;
    if (rc == 0)
        rc = build_node(&b, 0, m, 0, 0, ref, &ref_len);
    if (rc == 0) {
        /* The root is always hashed, even when its RLP is short. */
        if (ref_len == REF_MAX) {
            memcpy(root, ref + 1, ETHD_TRIE_HASH_LEN);
        } else {
            ethd_keccak256(ref, ref_len, root);
            b.st.hashed_nodes++;
            b.st.hashed_bytes += ref_len;
            b.st.hashed_blocks += 1;
        }
        if (stats != NULL)
            *stats = b.st;
    }
    if (b.lv != NULL)
        for (size_t i = 0; i < b.nlv; i++)
            free(b.lv[i]);
    free(b.lv);
    free(b.hp);
    ethd_buf_free(&b.buf);
    return rc;
}

int ethd_trie_root_ex(const struct ethd_trie_kv *kv, size_t n, unsigned flags,
                      uint8_t root[ETHD_TRIE_HASH_LEN], struct ethd_trie_stats *stats)
{
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if (root == NULL || (n > 0 && kv == NULL) || (flags & ~ETHD_TRIE_SECURE) != 0)
        return ETHD_EINVAL;
    bool secure = (flags & ETHD_TRIE_SECURE) != 0;
    for (size_t i = 0; i < n; i++) {
        if ((kv[i].key_len > 0 && kv[i].key == NULL) || (kv[i].val_len > 0 && kv[i].val == NULL))
            return ETHD_EINVAL;
        if (!secure && kv[i].key_len > ETHD_TRIE_MAX_KEY_LEN)
            return ETHD_ETOOBIG;
    }
    if (n > SIZE_MAX / sizeof(struct ent) || n > SIZE_MAX / ETHD_KECCAK256_LEN)
        return ETHD_ENOMEM;

    struct ent *e = malloc(n ? n * sizeof *e : 1);
    uint8_t *hashed = secure ? malloc(n ? n * ETHD_KECCAK256_LEN : 1) : NULL;
    if (e == NULL || (secure && hashed == NULL)) {
        free(e);
        free(hashed);
        return ETHD_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (secure) {
            ethd_keccak256(kv[i].key, kv[i].key_len, hashed + i * ETHD_KECCAK256_LEN);
            e[i].key = hashed + i * ETHD_KECCAK256_LEN;
            e[i].klen = ETHD_KECCAK256_LEN;
        } else {
            e[i].key = kv[i].key;
            e[i].klen = kv[i].key_len;
        }
        e[i].pfx = key_prefix(e[i].key, e[i].klen);
        e[i].val = kv[i].val;
        e[i].vlen = kv[i].val_len;
        e[i].idx = i;
    }
    int rc = root_of_entries(e, n, false, root, stats);
    free(e);
    free(hashed);
    return rc;
}

int ethd_trie_root(const struct ethd_trie_kv *kv, size_t n, uint8_t root[ETHD_TRIE_HASH_LEN])
{
    return ethd_trie_root_ex(kv, n, 0, root, NULL);
}

int ethd_trie_secure_root(const struct ethd_trie_kv *kv, size_t n,
                          uint8_t root[ETHD_TRIE_HASH_LEN])
{
    return ethd_trie_root_ex(kv, n, ETHD_TRIE_SECURE, root, NULL);
}

/* RLP of a uint64 is at most 9 bytes. */
#define IDX_KEY_MAX 9

/* Position of index i in the byte order of the keys RLP(i): the one-byte
 * keys 0x01..0x7f (i = 1..127) come first, then 0x80 (i = 0), then the
 * keys 0x81 xx (128..255), 0x82 xx xx (256..65535), ...; within one length
 * numeric order is byte order. So the sorted sequence is known in advance
 * and no sort is needed. */
static size_t ordered_index(size_t pos, size_t n)
{
    size_t small = n < 128 ? n - 1 : 127; /* how many of 1..127 exist */
    if (pos < small)
        return pos + 1;
    if (pos == small)
        return 0;
    return pos;
}

int ethd_trie_ordered_root(const struct ethd_trie_item *items, size_t n,
                           uint8_t root[ETHD_TRIE_HASH_LEN])
{
    if (root == NULL || (n > 0 && items == NULL))
        return ETHD_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (items[i].len > 0 && items[i].data == NULL)
            return ETHD_EINVAL;
    if (n > SIZE_MAX / sizeof(struct ent) || n > SIZE_MAX / IDX_KEY_MAX)
        return ETHD_ENOMEM;

    struct ent *e = malloc(n ? n * sizeof *e : 1);
    uint8_t *keys = malloc(n ? n * IDX_KEY_MAX : 1);
    struct ethd_buf kb = ETHD_BUF_INIT;
    int rc = (e == NULL || keys == NULL) ? ETHD_ENOMEM : 0;
    for (size_t pos = 0; rc == 0 && pos < n; pos++) {
        size_t i = ordered_index(pos, n);
        struct ethd_rlp_enc enc;
        ethd_buf_reset(&kb);
        ethd_rlp_enc_init(&enc, &kb);
        ethd_rlp_uint(&enc, (uint64_t)i);
        rc = ethd_rlp_enc_finish(&enc);
        if (rc != 0)
            break;
        if (kb.len > IDX_KEY_MAX) {
            rc = ETHD_EINVAL; /* the RLP encoder broke its contract */
            break;
        }
        memcpy(keys + pos * IDX_KEY_MAX, kb.data, kb.len);
        e[pos].key = keys + pos * IDX_KEY_MAX;
        e[pos].klen = kb.len;
        e[pos].pfx = key_prefix(e[pos].key, e[pos].klen);
        e[pos].val = items[i].data;
        e[pos].vlen = items[i].len;
        e[pos].idx = i;
    }
    for (size_t pos = 1; rc == 0 && pos < n; pos++)
        if (ent_cmp(&e[pos - 1], &e[pos]) >= 0)
            rc = ETHD_ESTATE; /* ordered_index is wrong: never expected */
    if (rc == 0)
        rc = root_of_entries(e, n, true, root, NULL);
    ethd_buf_free(&kb);
    free(e);
    free(keys);
    return rc;
}

int ethd_trie_hex_prefix(const uint8_t *nibbles, size_t n, int leaf, uint8_t *out, size_t cap,
                         size_t *out_len)
{
    if ((n > 0 && nibbles == NULL) || out == NULL || out_len == NULL)
        return ETHD_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (nibbles[i] > 15)
            return ETHD_EINVAL;
    if (cap < n / 2 + 1)
        return ETHD_ETOOBIG;
    size_t i = 0, k = 0;
    out[k] = (uint8_t)((leaf ? 0x20 : 0x00) | ((n & 1) ? 0x10 : 0x00));
    if (n & 1)
        out[k] |= nibbles[i++];
    k++;
    for (; i < n; i += 2)
        out[k++] = (uint8_t)(nibbles[i] << 4 | nibbles[i + 1]);
    *out_len = k;
    return 0;
}
