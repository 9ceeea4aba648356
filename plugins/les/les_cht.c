/* Canonical hash trie builder and MPT proofs (see les_cht.h). Node forms
 * are the Yellow Paper's (appendix D): leaf [HP(path, 1), value],
 * extension [HP(path, 0), child], branch [c0 .. c15, value]; a child whose
 * encoding is shorter than 32 bytes is embedded, otherwise referenced by
 * its Keccak-256 hash. */
#include "les_cht.h"

#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>

#include <string.h>

#define MAX_NIBBLES 128 /* keys up to 64 bytes */

int ethd_les_cht_value(const uint8_t hash[32], const uint8_t td[32], struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, hash, 32);
    ethd_rlp_u256(&e, td);
    ethd_rlp_list_end(&e);
    return ethd_rlp_enc_finish(&e) ? ETHD_ENOMEM : 0;
}

/* ---- builder over the implicit keys BE64(lo) .. BE64(hi-1) ---- */

struct build {
    ethd_les_cht_entry_fn get;
    void *get_arg;
    ethd_les_trie_node_fn emit;
    void *emit_arg;
};

static unsigned nibble_of(uint64_t n, unsigned i)
{
    return (unsigned)(n >> (60 - 4 * i)) & 0xfu;
}

static void put_path(struct ethd_rlp_enc *e, uint64_t n, unsigned from, unsigned to, int leaf)
{
    uint8_t nib[16], hp[9];
    size_t len = 0;
    for (unsigned i = from; i < to; i++)
        nib[i - from] = (uint8_t)nibble_of(n, i);
    if (ethd_trie_hex_prefix(nib, to - from, leaf, hp, sizeof(hp), &len)) {
        e->err = e->err ? e->err : ETHD_EINVAL;
        return;
    }
    ethd_rlp_bytes(e, hp, len);
}

static int build_node(struct build *b, uint64_t lo, uint64_t hi, unsigned depth,
                      struct ethd_buf *out);

/* Append the reference to the subtree [lo, hi) at `depth` to `e`. */
static int put_child(struct build *b, struct ethd_rlp_enc *e, uint64_t lo, uint64_t hi,
                     unsigned depth)
{
    struct ethd_buf child = ETHD_BUF_INIT;
    int rc = build_node(b, lo, hi, depth, &child);
    if (!rc) {
        if (child.len < 32) {
            ethd_rlp_raw(e, child.data, child.len);
        } else {
            uint8_t h[32];
            ethd_keccak256(child.data, child.len, h);
            if (b->emit)
                rc = b->emit(b->emit_arg, h, child.data, child.len);
            ethd_rlp_bytes(e, h, 32);
        }
    }
    ethd_buf_free(&child);
    return rc;
}

static int build_node(struct build *b, uint64_t lo, uint64_t hi, unsigned depth,
                      struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    int rc = 0;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    if (hi - lo == 1) {
        uint8_t hash[32], td[32];
        struct ethd_buf val = ETHD_BUF_INIT;
        rc = b->get(b->get_arg, lo, hash, td);
        if (!rc)
            rc = ethd_les_cht_value(hash, td, &val);
        if (!rc) {
            put_path(&e, lo, depth, 16, 1);
            ethd_rlp_bytes(&e, val.data, val.len);
        }
        ethd_buf_free(&val);
    } else {
        unsigned k = 0;
        while (depth + k < 16 && nibble_of(lo, depth + k) == nibble_of(hi - 1, depth + k))
            k++;
        if (k > 0) {
            put_path(&e, lo, depth, depth + k, 0);
            rc = put_child(b, &e, lo, hi, depth + k);
        } else {
            uint64_t span = (uint64_t)1 << (4 * (15 - depth));
            uint64_t base = depth == 0 ? 0 : lo & ~((span << 4) - 1);
            for (uint64_t v = 0; v < 16 && !rc; v++) {
                uint64_t s = base + v * span;
                uint64_t end = s > UINT64_MAX - span ? UINT64_MAX : s + span;
                uint64_t a = s > lo ? s : lo, z = end < hi ? end : hi;
                if (a < z)
                    rc = put_child(b, &e, a, z, depth + 1);
                else
                    ethd_rlp_bytes(&e, NULL, 0);
            }
            ethd_rlp_bytes(&e, NULL, 0); /* no key ends at a branch */
        }
    }
    ethd_rlp_list_end(&e);
    int erc = ethd_rlp_enc_finish(&e);
    if (!rc && erc)
        rc = ETHD_ENOMEM;
    return rc;
}

int ethd_les_cht_build(uint64_t n, ethd_les_cht_entry_fn get, void *get_arg,
                       ethd_les_trie_node_fn emit, void *emit_arg, uint8_t root[32])
{
    if (n == 0 || !get)
        return ETHD_EINVAL;
    struct build b = {get, get_arg, emit, emit_arg};
    struct ethd_buf node = ETHD_BUF_INIT;
    int rc = build_node(&b, 0, n, 0, &node);
    if (!rc) {
        ethd_keccak256(node.data, node.len, root);
        if (emit)
            rc = emit(emit_arg, root, node.data, node.len);
    }
    ethd_buf_free(&node);
    return rc;
}

/* ---- walking a path ---- */

enum step { STEP_CHILD, STEP_FOUND, STEP_ABSENT };

/* One node on the path of nib[*pos..]: the next child reference, the value,
 * or absence. */
static int step(const struct ethd_rlp_item *node, const uint8_t *nib, size_t nlen, size_t *pos,
                struct ethd_rlp_item *next, enum step *res)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item items[17];
    size_t n = 0;
    if (!node->is_list || ethd_rlp_iter_init(&it, node))
        return ETHD_EPROTO;
    while (ethd_rlp_iter_more(&it)) {
        if (n == 17 || ethd_rlp_iter_next(&it, &items[n]))
            return ETHD_EPROTO;
        n++;
    }
    if (n == 17) {
        if (*pos == nlen) {
            *next = items[16];
            *res = items[16].len ? STEP_FOUND : STEP_ABSENT;
            return items[16].is_list ? ETHD_EPROTO : 0;
        }
        *next = items[nib[*pos]];
        (*pos)++;
        *res = (!next->is_list && next->len == 0) ? STEP_ABSENT : STEP_CHILD;
        return 0;
    }
    if (n != 2 || items[0].is_list || items[0].len == 0)
        return ETHD_EPROTO;
    const uint8_t *hp = items[0].payload;
    unsigned flag = hp[0] >> 4;
    if (flag > 3)
        return ETHD_EPROTO;
    bool leaf = flag & 2, odd = flag & 1;
    uint8_t path[MAX_NIBBLES + 2];
    size_t plen = 0;
    if (items[0].len * 2 > sizeof(path))
        return ETHD_EPROTO;
    if (odd)
        path[plen++] = hp[0] & 0xf;
    for (size_t i = 1; i < items[0].len; i++) {
        path[plen++] = hp[i] >> 4;
        path[plen++] = hp[i] & 0xf;
    }
    if (plen > nlen - *pos || memcmp(path, nib + *pos, plen) != 0) {
        *res = STEP_ABSENT;
        return 0;
    }
    *pos += plen;
    *next = items[1];
    if (leaf) {
        *res = *pos == nlen ? STEP_FOUND : STEP_ABSENT;
        return items[1].is_list ? ETHD_EPROTO : 0;
    }
    *res = STEP_CHILD;
    return 0;
}

static int key_nibbles(const uint8_t *key, size_t klen, uint8_t *nib)
{
    if (klen > MAX_NIBBLES / 2)
        return ETHD_EINVAL;
    for (size_t i = 0; i < klen; i++) {
        nib[2 * i] = key[i] >> 4;
        nib[2 * i + 1] = key[i] & 0xf;
    }
    return 0;
}

int ethd_les_trie_prove(const uint8_t root[32], const uint8_t *key, size_t klen,
                        uint64_t from_level, ethd_les_trie_lookup_fn lookup, void *arg,
                        struct ethd_buf *out, size_t *n_out)
{
    uint8_t nib[MAX_NIBBLES];
    size_t pos = 0, nlen = klen * 2;
    uint64_t level = 0;
    *n_out = 0;
    int rc = key_nibbles(key, klen, nib);
    if (rc)
        return rc;
    struct ethd_buf node = ETHD_BUF_INIT;
    size_t start = out->len;
    uint8_t hash[32];
    memcpy(hash, root, 32);
    for (;;) {
        ethd_buf_reset(&node);
        rc = lookup(arg, hash, &node);
        if (rc)
            break;
        struct ethd_rlp_item cur, next;
        if (ethd_rlp_decode(node.data, node.len, &cur)) {
            rc = ETHD_EPROTO;
            break;
        }
        if (level++ >= from_level) {
            if (ethd_buf_append(out, node.data, node.len)) {
                rc = ETHD_ENOMEM;
                break;
            }
            (*n_out)++;
        }
        enum step res;
        /* Embedded children live inside this node's buffer. */
        for (;;) {
            rc = step(&cur, nib, nlen, &pos, &next, &res);
            if (rc || res != STEP_CHILD || !next.is_list)
                break;
            cur = next;
        }
        if (rc || res != STEP_CHILD)
            break;
        if (next.len != 32) {
            rc = ETHD_EPROTO;
            break;
        }
        memcpy(hash, next.payload, 32);
    }
    ethd_buf_free(&node);
    if (rc) {
        out->len = start;
        *n_out = 0;
    }
    return rc;
}

/* Find the node with this hash among the proof's items. */
static int find_node(const struct ethd_rlp_item *nodes, const uint8_t hash[32],
                     struct ethd_rlp_item *out)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item x;
    if (ethd_rlp_iter_init(&it, nodes))
        return ETHD_EPROTO;
    while (ethd_rlp_iter_next(&it, &x) == 0) {
        uint8_t h[32];
        if (x.is_list) {
            ethd_keccak256(x.raw, x.raw_len, h);
            if (memcmp(h, hash, 32) == 0) {
                *out = x;
                return 0;
            }
        } else {
            ethd_keccak256(x.payload, x.len, h);
            if (memcmp(h, hash, 32) == 0)
                return ethd_rlp_decode(x.payload, x.len, out) ? ETHD_EPROTO : 0;
        }
    }
    return ETHD_EPROTO;
}

int ethd_les_trie_verify(const uint8_t root[32], const uint8_t *key, size_t klen,
                         const struct ethd_rlp_item *nodes, const uint8_t **val, size_t *vlen)
{
    uint8_t nib[MAX_NIBBLES];
    size_t pos = 0, nlen = klen * 2;
    *val = NULL;
    *vlen = 0;
    int rc = key_nibbles(key, klen, nib);
    if (rc)
        return rc;
    if (!nodes->is_list)
        return ETHD_EPROTO;
    struct ethd_rlp_item cur, next;
    rc = find_node(nodes, root, &cur);
    /* Every step consumes at least one nibble or ends, except extension
     * nodes with an empty path, which are malformed; bound the walk. */
    for (unsigned guard = 0; !rc && guard < 2 * MAX_NIBBLES + 2; guard++) {
        enum step res;
        size_t before = pos;
        rc = step(&cur, nib, nlen, &pos, &next, &res);
        if (rc)
            break;
        if (res == STEP_FOUND) {
            *val = next.payload;
            *vlen = next.len;
            return 0;
        }
        if (res == STEP_ABSENT)
            return ETHD_ENOTFOUND;
        if (pos == before)
            return ETHD_EPROTO;
        if (next.is_list) {
            if (next.raw_len >= 32)
                return ETHD_EPROTO; /* must have been referenced by hash */
            cur = next;
        } else if (next.len == 32) {
            rc = find_node(nodes, next.payload, &cur);
        } else {
            rc = ETHD_EPROTO;
        }
    }
    return rc ? rc : ETHD_EPROTO;
}
