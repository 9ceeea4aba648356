/* Transaction pool (txpool.h): a slot array with a free list, two
 * open-addressing indexes (by hash; by sender and nonce) and an arrival-order
 * list. Indexes use linear probing with backward-shift deletion, so no
 * tombstones accumulate however many transactions come and go. */
#include "txpool.h"

#include <ethd/error.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct entry {
    bool used;
    uint8_t hash[32];
    uint8_t sn_key[32];  /* sender (20) || nonce (8, big-endian) || 0000 */
    uint8_t fee_cap[32]; /* gas price, or max fee per gas: what eviction compares */
    uint8_t sender[20];
    uint64_t nonce;
    uint8_t type;
    uint8_t *raw;
    size_t len;
    uint32_t prev, next; /* arrival order, or the free list (next) */
};

struct index {
    uint32_t *slot; /* entry index + 1; 0 = empty */
    size_t mask;
};

struct ethd_txpool {
    struct ethd_txpool_config cfg;
    struct entry *e;
    uint32_t n_alloc, n_used;
    uint32_t free_head;
    uint32_t oldest, newest;
    uint64_t bytes;
    struct index by_hash, by_sn;
};

/* ---- indexes ---- */

static size_t key_pos(const uint8_t key[32], size_t mask)
{
    /* Keys are keccak outputs or addresses (themselves keccak-derived) with a
     * nonce: mixing the first and the nonce words spreads both. */
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 20, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return (size_t)(h >> 17) & mask;
}

static const uint8_t *entry_key(const struct ethd_txpool *p, const struct index *ix, uint32_t i)
{
    return ix == &p->by_hash ? p->e[i].hash : p->e[i].sn_key;
}

static int index_init(struct index *ix, size_t max)
{
    size_t cap = 16;
    while (cap < max * 2)
        cap <<= 1;
    ix->slot = calloc(cap, sizeof(*ix->slot));
    ix->mask = cap - 1;
    return ix->slot ? 0 : ETHD_ENOMEM;
}

static uint32_t index_find(const struct ethd_txpool *p, const struct index *ix,
                           const uint8_t key[32])
{
    for (size_t pos = key_pos(key, ix->mask);; pos = (pos + 1) & ix->mask) {
        uint32_t s = ix->slot[pos];
        if (s == 0)
            return NIL;
        if (memcmp(entry_key(p, ix, s - 1), key, 32) == 0)
            return s - 1;
    }
}

static void index_put(struct ethd_txpool *p, struct index *ix, uint32_t i)
{
    size_t pos = key_pos(entry_key(p, ix, i), ix->mask);
    while (ix->slot[pos] != 0)
        pos = (pos + 1) & ix->mask;
    ix->slot[pos] = i + 1;
}

static void index_del(struct ethd_txpool *p, struct index *ix, uint32_t i)
{
    size_t pos = key_pos(entry_key(p, ix, i), ix->mask);
    while (ix->slot[pos] != i + 1)
        pos = (pos + 1) & ix->mask;
    /* Backward shift: pull later members of the probe run into the hole
     * when their home position allows it. */
    size_t hole = pos;
    for (size_t j = (hole + 1) & ix->mask; ix->slot[j] != 0; j = (j + 1) & ix->mask) {
        size_t home = key_pos(entry_key(p, ix, ix->slot[j] - 1), ix->mask);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            ix->slot[hole] = ix->slot[j];
            hole = j;
        }
    }
    ix->slot[hole] = 0;
}

/* ---- pool ---- */

int ethd_txpool_new(const struct ethd_txpool_config *cfg, struct ethd_txpool **out)
{
    *out = NULL;
    struct ethd_txpool *p = calloc(1, sizeof(*p));
    if (!p)
        return ETHD_ENOMEM;
    if (cfg)
        p->cfg = *cfg;
    if (!p->cfg.max_txs)
        p->cfg.max_txs = ETHD_TXPOOL_DEFAULT_MAX_TXS;
    if (!p->cfg.max_bytes)
        p->cfg.max_bytes = ETHD_TXPOOL_DEFAULT_MAX_BYTES;
    if (!p->cfg.max_tx_size)
        p->cfg.max_tx_size = ETHD_TXPOOL_DEFAULT_MAX_TX_SIZE;
    if (!p->cfg.price_bump)
        p->cfg.price_bump = ETHD_TXPOOL_DEFAULT_PRICE_BUMP;
    if (p->cfg.max_txs > (1u << 20) || p->cfg.price_bump > 1000) {
        free(p);
        return ETHD_EINVAL;
    }
    p->free_head = p->oldest = p->newest = NIL;
    if (index_init(&p->by_hash, p->cfg.max_txs) || index_init(&p->by_sn, p->cfg.max_txs)) {
        ethd_txpool_free(p);
        return ETHD_ENOMEM;
    }
    *out = p;
    return 0;
}

void ethd_txpool_free(struct ethd_txpool *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->n_alloc; i++)
        free(p->e[i].raw);
    free(p->e);
    free(p->by_hash.slot);
    free(p->by_sn.slot);
    free(p);
}

static void unlink_entry(struct ethd_txpool *p, uint32_t i)
{
    struct entry *x = &p->e[i];
    index_del(p, &p->by_hash, i);
    index_del(p, &p->by_sn, i);
    if (x->prev != NIL)
        p->e[x->prev].next = x->next;
    else
        p->oldest = x->next;
    if (x->next != NIL)
        p->e[x->next].prev = x->prev;
    else
        p->newest = x->prev;
    p->bytes -= x->len;
    p->n_used--;
    free(x->raw);
    memset(x, 0, sizeof(*x));
    x->next = p->free_head;
    p->free_head = i;
}

static int take_slot(struct ethd_txpool *p, uint32_t *out)
{
    if (p->free_head != NIL) {
        *out = p->free_head;
        p->free_head = p->e[*out].next;
        return 0;
    }
    if (p->n_alloc == p->cfg.max_txs)
        return ETHD_EBUSY; /* callers evict first; not reached */
    uint32_t n = p->n_alloc ? p->n_alloc * 2 : 64;
    if (n > p->cfg.max_txs)
        n = (uint32_t)p->cfg.max_txs;
    struct entry *e = realloc(p->e, (size_t)n * sizeof(*e));
    if (!e)
        return ETHD_ENOMEM;
    memset(e + p->n_alloc, 0, (size_t)(n - p->n_alloc) * sizeof(*e));
    p->e = e;
    for (uint32_t i = n - 1; i > p->n_alloc; i--) {
        e[i].next = p->free_head;
        p->free_head = i;
    }
    *out = p->n_alloc;
    p->n_alloc = n;
    return 0;
}

/* a * m as a 40-byte big-endian number (a is 32 bytes, m small). */
static void mul_small(const uint8_t a[32], uint32_t m, uint8_t out[40])
{
    uint64_t carry = 0;
    memset(out, 0, 40);
    for (int i = 31; i >= 0; i--) {
        uint64_t v = (uint64_t)a[i] * m + carry;
        out[i + 8] = (uint8_t)v;
        carry = v >> 8;
    }
    for (int i = 7; i >= 0 && carry; i--) {
        out[i] = (uint8_t)carry;
        carry >>= 8;
    }
}

/* new >= old * (100 + bump) / 100 */
static bool bumped_enough(const uint8_t new_fee[32], const uint8_t old_fee[32], uint64_t bump)
{
    uint8_t l[40], r[40];
    mul_small(new_fee, 100, l);
    mul_small(old_fee, (uint32_t)(100 + bump), r);
    return memcmp(l, r, 40) >= 0;
}

static uint32_t cheapest(const struct ethd_txpool *p)
{
    uint32_t best = NIL;
    for (uint32_t i = p->oldest; i != NIL; i = p->e[i].next)
        if (best == NIL || memcmp(p->e[i].fee_cap, p->e[best].fee_cap, 32) < 0)
            best = i;
    return best;
}

static int refuse(struct ethd_txpool_verdict *v, int rc, const char *why)
{
    if (v)
        snprintf(v->reason, sizeof(v->reason), "%s", why);
    return rc;
}

static const char *validate_reason(int rc)
{
    switch (rc) {
    case ETHD_ENOTSUP:
        return "transaction type not supported at the head";
    case ETHD_ERANGE:
        return "intrinsic gas too low, or nonce too high";
    case ETHD_EINVAL:
        return "invalid chain id or fee fields";
    case ETHD_ETOOBIG:
        return "max initcode size exceeded";
    case ETHD_ECRYPTO:
        return "invalid sender";
    default:
        return ethd_strerror(rc);
    }
}

int ethd_txpool_add(struct ethd_txpool *p, const struct ethd_secp *secp,
                    const struct ethd_rules *rules, const uint8_t *raw, size_t len,
                    struct ethd_txpool_verdict *v)
{
    if (v)
        memset(v, 0, sizeof(*v));
    if (len > p->cfg.max_tx_size)
        return refuse(v, ETHD_ETOOBIG, "oversized data");
    struct ethd_tx tx;
    int rc = ethd_tx_decode(raw, len, &tx);
    if (rc)
        return refuse(v, rc == ETHD_ENOMEM || rc == ETHD_ENOTSUP ? rc : ETHD_EPROTO,
                      rc == ETHD_ENOTSUP ? "transaction type not supported"
                                         : "transaction does not decode");
    if (v)
        memcpy(v->hash, tx.hash, 32);
    if (index_find(p, &p->by_hash, tx.hash) != NIL) {
        ethd_tx_free(&tx);
        return refuse(v, ETHD_EEXIST, "already known");
    }
    if (tx.type == ETHD_TX_BLOB) {
        ethd_tx_free(&tx);
        return refuse(v, ETHD_ENOTSUP, "blob transactions are not pooled");
    }
    uint8_t sender[20];
    rc = ethd_tx_validate(secp, &tx, rules, sender);
    if (rc) {
        ethd_tx_free(&tx);
        return refuse(v, rc, validate_reason(rc));
    }
    struct entry nx;
    memset(&nx, 0, sizeof(nx));
    memcpy(nx.hash, tx.hash, 32);
    memcpy(nx.sender, sender, 20);
    memcpy(nx.sn_key, sender, 20);
    for (int i = 0; i < 8; i++)
        nx.sn_key[20 + i] = (uint8_t)(tx.nonce >> (56 - 8 * i));
    nx.nonce = tx.nonce;
    nx.type = tx.type;
    memcpy(nx.fee_cap, tx.type <= ETHD_TX_ACCESS_LIST ? tx.gas_price : tx.max_fee, 32);
    ethd_tx_free(&tx);

    /* Same sender and nonce: a replacement must pay price_bump% more. */
    uint32_t old = index_find(p, &p->by_sn, nx.sn_key);
    if (old != NIL && !bumped_enough(nx.fee_cap, p->e[old].fee_cap, p->cfg.price_bump))
        return refuse(v, ETHD_EBUSY, "replacement transaction underpriced");
    if (len > p->cfg.max_bytes)
        return refuse(v, ETHD_ETOOBIG, "larger than the whole pool");
    nx.raw = malloc(len ? len : 1);
    if (!nx.raw)
        return ETHD_ENOMEM;
    memcpy(nx.raw, raw, len);
    nx.len = len;
    if (old != NIL) {
        unlink_entry(p, old);
        if (v)
            v->replaced = true;
    }
    /* Make room: drop the cheapest while full, unless the newcomer is no
     * better than it. */
    while (p->n_used >= p->cfg.max_txs || p->bytes + len > p->cfg.max_bytes) {
        uint32_t c = cheapest(p);
        if (c == NIL || memcmp(nx.fee_cap, p->e[c].fee_cap, 32) <= 0) {
            free(nx.raw);
            return refuse(v, ETHD_EBUSY, "txpool is full");
        }
        unlink_entry(p, c);
        if (v)
            v->evicted = true;
    }
    uint32_t i;
    rc = take_slot(p, &i);
    if (rc) {
        free(nx.raw);
        return rc;
    }
    nx.used = true;
    nx.prev = p->newest;
    nx.next = NIL;
    p->e[i] = nx;
    if (p->newest != NIL)
        p->e[p->newest].next = i;
    else
        p->oldest = i;
    p->newest = i;
    index_put(p, &p->by_hash, i);
    index_put(p, &p->by_sn, i);
    p->n_used++;
    p->bytes += len;
    return 0;
}

bool ethd_txpool_has(const struct ethd_txpool *p, const uint8_t hash[32])
{
    return index_find(p, &p->by_hash, hash) != NIL;
}

static void fill_tx(const struct entry *x, struct ethd_txpool_tx *out)
{
    memcpy(out->hash, x->hash, 32);
    memcpy(out->sender, x->sender, 20);
    out->nonce = x->nonce;
    out->type = x->type;
    out->raw = x->raw;
    out->len = x->len;
}

int ethd_txpool_get(const struct ethd_txpool *p, const uint8_t hash[32],
                    struct ethd_txpool_tx *out)
{
    uint32_t i = index_find(p, &p->by_hash, hash);
    if (i == NIL)
        return ETHD_ENOTFOUND;
    fill_tx(&p->e[i], out);
    return 0;
}

bool ethd_txpool_remove(struct ethd_txpool *p, const uint8_t hash[32])
{
    uint32_t i = index_find(p, &p->by_hash, hash);
    if (i == NIL)
        return false;
    unlink_entry(p, i);
    return true;
}

size_t ethd_txpool_count(const struct ethd_txpool *p)
{
    return p->n_used;
}

uint64_t ethd_txpool_bytes(const struct ethd_txpool *p)
{
    return p->bytes;
}

void ethd_txpool_each(const struct ethd_txpool *p, ethd_txpool_each_fn fn, void *arg)
{
    struct ethd_txpool_tx t;
    for (uint32_t i = p->oldest; i != NIL; i = p->e[i].next) {
        fill_tx(&p->e[i], &t);
        if (!fn(&t, arg))
            return;
    }
}
