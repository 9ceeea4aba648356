/* The chain store: headers, bodies, receipts, total difficulty, canonical
 * index and transaction index in RocksDB column families (layout in
 * chain/chain.h), with verified inserts that are each one atomic batch.
 *
 * An insert runs under the chain's mutex: every item is checked against its
 * parent (which may be an earlier item of the same insert: those live in a
 * small in-memory overlay until the batch commits), written to the batch,
 * and at the end the canonical index is moved to the heaviest branch
 * (BRIEF.md "Storage"; the fork-choice of a total-difficulty chain, ties
 * keeping the current head), rewriting canon and txlookup from the fork
 * point in the same batch. Readers never take the mutex except to copy the
 * head. */
#include "chain/chain.h"

#include "chain/clique.h"
#include "chain/verify.h"

#include <ethd/bus.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/log.h>
#include <ethd/secp256k1.h>

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_VERSION "1"
#define GENESIS_MAX ((size_t)256 << 20)
#define DEFAULT_THREADS 2

#include "chain/store_priv.h"


/* ---- keys ---- */

void ethd_chain_num_key(uint64_t n, uint8_t k[8])
{
    for (int i = 7; i >= 0; i--, n >>= 8)
        k[i] = (uint8_t)n;
}

uint64_t ethd_chain_key_num(const uint8_t k[8])
{
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = n << 8 | k[i];
    return n;
}

void ethd_chain_nh_key(uint64_t n, const uint8_t hash[32], uint8_t k[40])
{
    ethd_chain_num_key(n, k);
    memcpy(k + 8, hash, 32);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- plain reads ---- */

int ethd_chain_get_number(struct ethd_chain *c, const uint8_t hash[32], uint64_t *n)
{
    uint8_t *v;
    size_t vl;
    int rc = ethd_store_get(c->st, c->hashnum, hash, 32, &v, &vl);
    if (rc)
        return rc;
    if (vl != 8) {
        free(v);
        return ETHD_EIO;
    }
    *n = ethd_chain_key_num(v);
    free(v);
    return 0;
}

int ethd_chain_get_canon(struct ethd_chain *c, uint64_t n, uint8_t hash[32])
{
    uint8_t k[8], *v;
    size_t vl;
    ethd_chain_num_key(n, k);
    int rc = ethd_store_get(c->st, c->canon, k, 8, &v, &vl);
    if (rc)
        return rc;
    if (vl != 32) {
        free(v);
        return ETHD_EIO;
    }
    memcpy(hash, v, 32);
    free(v);
    return 0;
}

int ethd_chain_get_nh(struct ethd_chain *c, struct ethd_store_cf *cf, uint64_t n,
                      const uint8_t hash[32], uint8_t **v, size_t *vl)
{
    uint8_t k[40];
    ethd_chain_nh_key(n, hash, k);
    return ethd_store_get(c->st, cf, k, 40, v, vl);
}

bool ethd_chain_has_nh(struct ethd_chain *c, struct ethd_store_cf *cf, uint64_t n,
                       const uint8_t hash[32])
{
    uint8_t *v;
    size_t vl;
    if (ethd_chain_get_nh(c, cf, n, hash, &v, &vl) != 0)
        return false;
    free(v);
    return true;
}

int ethd_chain_get_td(struct ethd_chain *c, uint64_t n, const uint8_t hash[32], uint8_t td[32])
{
    uint8_t *v;
    size_t vl;
    int rc = ethd_chain_get_nh(c, c->td, n, hash, &v, &vl);
    if (rc)
        return rc;
    if (vl != 32) {
        free(v);
        return ETHD_EIO;
    }
    memcpy(td, v, 32);
    free(v);
    return 0;
}

int ethd_chain_get_header(struct ethd_chain *c, uint64_t n, const uint8_t hash[32],
                          struct ethd_header *h)
{
    uint8_t *v;
    size_t vl;
    int rc = ethd_chain_get_nh(c, c->headers, n, hash, &v, &vl);
    if (rc)
        return rc;
    rc = ethd_header_decode(v, vl, h);
    free(v);
    return rc ? ETHD_EIO : 0;
}

/* ---- heads ---- */

static int load_head(struct ethd_chain *c, const char *key, struct ethd_chain_head *out)
{
    uint8_t *v;
    size_t vl;
    struct ethd_header h;
    int rc = ethd_store_get(c->st, c->meta, key, strlen(key), &v, &vl);
    if (rc)
        return rc == ETHD_ENOTFOUND ? ETHD_EIO : rc;
    if (vl != 32) {
        free(v);
        return ETHD_EIO;
    }
    memcpy(out->hash, v, 32);
    free(v);
    if ((rc = ethd_chain_get_number(c, out->hash, &out->number)) ||
        (rc = ethd_chain_get_td(c, out->number, out->hash, out->td)) ||
        (rc = ethd_chain_get_header(c, out->number, out->hash, &h)))
        return rc == ETHD_ENOTFOUND ? ETHD_EIO : rc;
    out->timestamp = h.timestamp;
    ethd_header_free(&h);
    return 0;
}

/* ---- opening ---- */

static int open_cfs(struct ethd_chain *c)
{
    static const char *const names[] = {"headers", "hashnum", "bodies", "receipts", "td",
                                        "canon",   "txlookup", "clique", "meta"};
    struct ethd_store_cf **slots[] = {&c->headers, &c->hashnum, &c->bodies, &c->receipts, &c->td,
                                      &c->canon,   &c->txlookup, &c->cliq,  &c->meta};
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        int rc = ethd_store_cf(c->st, names[i], slots[i]);
        if (rc)
            return rc;
    }
    return 0;
}

bool ethd_chain_present(struct ethd_store *st)
{
    struct ethd_store_cf *meta;
    uint8_t *v;
    size_t vl;
    if (ethd_store_cf(st, "meta", &meta) != 0)
        return false;
    if (ethd_store_get(st, meta, "genesis", 7, &v, &vl) != 0)
        return false;
    free(v);
    return true;
}

static int write_genesis(struct ethd_chain *c, const char *json, size_t len)
{
    struct ethd_buf raw = ETHD_BUF_INIT;
    struct ethd_batch *b = NULL;
    const struct ethd_header *h = &c->g.header;
    const uint8_t *hash = c->g.hash;
    int rc = ethd_header_encode(h, &raw);
    if (rc)
        goto out;
    if ((rc = ethd_batch_new(c->st, &b)))
        goto out;
    uint8_t k[40], nk[8];
    ethd_chain_nh_key(0, hash, k);
    ethd_chain_num_key(0, nk);
    /* An empty body: [[], []], with [] withdrawals if the genesis has the
     * Shanghai field. The receipts of no transactions: []. */
    static const uint8_t body2[] = {0xc2, 0xc0, 0xc0}, body3[] = {0xc3, 0xc0, 0xc0, 0xc0},
                         rcpts[] = {0xc0};
    bool w = (h->present & ETHD_HDR_WITHDRAWALS) != 0;
    if ((rc = ethd_batch_put(b, c->headers, k, 40, raw.data, raw.len)) ||
        (rc = ethd_batch_put(b, c->hashnum, hash, 32, nk, 8)) ||
        (rc = ethd_batch_put(b, c->td, k, 40, h->difficulty, 32)) ||
        (rc = ethd_batch_put(b, c->canon, nk, 8, hash, 32)) ||
        (rc = ethd_batch_put(b, c->bodies, k, 40, w ? body3 : body2, w ? 4 : 3)) ||
        (rc = ethd_batch_put(b, c->receipts, k, 40, rcpts, 1)) ||
        (rc = ethd_batch_put(b, c->meta, "genesis", 7, hash, 32)) ||
        (rc = ethd_batch_put(b, c->meta, "genesis.json", 12, json, len)) ||
        (rc = ethd_batch_put(b, c->meta, "head_header", 11, hash, 32)) ||
        (rc = ethd_batch_put(b, c->meta, "head_block", 10, hash, 32)) ||
        (rc = ethd_batch_put(b, c->meta, "version", 7, META_VERSION, 1)))
        goto out;
    rc = ethd_batch_commit(b, true);
out:
    ethd_batch_free(b);
    ethd_buf_free(&raw);
    return rc;
}

int ethd_chain_open(struct ethd_store *st, const char *genesis_json, size_t len, const char *name,
                    const struct ethd_chain_opts *opts, struct ethd_chain **out, char *err,
                    size_t errlen)
{
    struct ethd_chain *c = calloc(1, sizeof(*c));
    char msg[512];
    uint8_t *v = NULL;
    size_t vl;
    int rc;
    if (!c)
        return ETHD_ENOMEM;
    c->st = st;
    c->log = opts ? opts->log : NULL;
    c->threads = opts && opts->threads ? opts->threads : DEFAULT_THREADS;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->ev_mu, NULL);
    if ((rc = open_cfs(c))) {
        set_err(err, errlen, "cannot open the chain's column families: %s", ethd_strerror(rc));
        goto fail;
    }
    uint8_t stored_hash[32];
    bool have = false;
    rc = ethd_store_get(st, c->meta, "genesis", 7, &v, &vl);
    if (rc == 0) {
        if (vl != 32) {
            free(v);
            set_err(err, errlen, "the database's genesis record is corrupt");
            rc = ETHD_EIO;
            goto fail;
        }
        memcpy(stored_hash, v, 32);
        free(v);
        have = true;
    } else if (rc != ETHD_ENOTFOUND) {
        set_err(err, errlen, "cannot read the database: %s", ethd_strerror(rc));
        goto fail;
    }
    if (!genesis_json && !have) {
        set_err(err, errlen, "the database holds no chain (initialise it with a genesis file)");
        rc = ETHD_ENOTFOUND;
        goto fail;
    }
    const char *text = genesis_json;
    size_t tlen = len;
    char *stored_text = NULL;
    if (!genesis_json) {
        rc = ethd_store_get(st, c->meta, "genesis.json", 12, (uint8_t **)&stored_text, &tlen);
        if (rc) {
            set_err(err, errlen, "the database's chain configuration is missing");
            rc = ETHD_EIO;
            goto fail;
        }
        text = stored_text;
        name = "stored genesis.json";
    }
    rc = ethd_genesis_parse(name ? name : "genesis", text, tlen, &c->g, msg, sizeof(msg));
    free(stored_text);
    if (rc) {
        set_err(err, errlen, "%s", msg);
        goto fail;
    }
    if (have && memcmp(stored_hash, c->g.hash, 32) != 0) {
        char a[67], b[67];
        ethd_hex_encode(stored_hash, 32, a);
        ethd_hex_encode(c->g.hash, 32, b);
        if (genesis_json)
            set_err(err, errlen,
                    "the database holds a chain with genesis %s, but %s gives genesis %s "
                    "(use another data directory)",
                    a, name ? name : "the genesis file", b);
        else
            set_err(err, errlen, "the stored chain configuration gives genesis %s, not %s", b, a);
        rc = genesis_json ? ETHD_EEXIST : ETHD_EIO;
        goto fail;
    }
    if (!have) {
        if ((rc = write_genesis(c, genesis_json, len))) {
            set_err(err, errlen, "cannot write the genesis block: %s", ethd_strerror(rc));
            goto fail;
        }
        char hx[67];
        ethd_hex_encode(c->g.hash, 32, hx);
        ETHD_INFO(c->log, "chain initialised", "genesis=%s chain_id=%llu", hx,
                  (unsigned long long)c->g.config.chain_id);
    } else if (genesis_json) {
        /* Same genesis: the file's config (e.g. a newly scheduled fork)
         * replaces the stored one. */
        if ((rc = ethd_store_put(st, c->meta, "genesis.json", 12, genesis_json, len))) {
            set_err(err, errlen, "cannot store the chain configuration: %s", ethd_strerror(rc));
            goto fail;
        }
    }
    if ((rc = load_head(c, "head_header", &c->hh)) || (rc = load_head(c, "head_block", &c->hb))) {
        set_err(err, errlen, "the database's head records are missing or corrupt: %s",
                ethd_strerror(rc));
        goto fail;
    }
    c->network_id = opts && opts->network_id ? opts->network_id : c->g.config.chain_id;
    if ((rc = ethd_secp_new(&c->secp))) {
        set_err(err, errlen, "secp256k1: %s", ethd_strerror(rc));
        goto fail;
    }
    if (c->g.config.has_clique &&
        (rc = ethd_clique_new(c->secp, c->g.config.clique_period, c->g.config.clique_epoch,
                              &c->clique))) {
        set_err(err, errlen, "clique: %s", ethd_strerror(rc));
        goto fail;
    }
    *out = c;
    return 0;
fail:
    ethd_chain_close(c);
    return rc;
}

int ethd_chain_open_path(struct ethd_store *st, const char *genesis_path,
                         const struct ethd_chain_opts *opts, struct ethd_chain **out, char *err,
                         size_t errlen)
{
    if (!genesis_path)
        return ethd_chain_open(st, NULL, 0, NULL, opts, out, err, errlen);
    FILE *f = fopen(genesis_path, "rb");
    if (!f) {
        set_err(err, errlen, "cannot open %s: %s", genesis_path, strerror(errno));
        return ETHD_EIO;
    }
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc = 0;
    for (;;) {
        if (b.len >= GENESIS_MAX) {
            set_err(err, errlen, "%s is larger than %zu MiB", genesis_path,
                    (size_t)GENESIS_MAX >> 20);
            rc = ETHD_ETOOBIG;
            break;
        }
        if ((rc = ethd_buf_reserve(&b, 1 << 16)))
            break;
        size_t got = fread(b.data + b.len, 1, b.cap - b.len, f);
        b.len += got;
        if (got == 0) {
            if (ferror(f)) {
                set_err(err, errlen, "cannot read %s: %s", genesis_path, strerror(errno));
                rc = ETHD_EIO;
            }
            break;
        }
    }
    fclose(f);
    if (!rc)
        rc = ethd_chain_open(st, b.len ? (const char *)b.data : "", b.len, genesis_path, opts, out,
                             err, errlen);
    ethd_buf_free(&b);
    return rc;
}

void ethd_chain_close(struct ethd_chain *c)
{
    if (!c)
        return;
    if (c->ev)
        event_free(c->ev);
    ethd_clique_free(c->clique);
    ethd_secp_free(c->secp);
    ethd_genesis_free(&c->g);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->ev_mu);
    free(c);
}

/* ---- head events ---- */

static void on_head_event(evutil_socket_t fd, short what, void *arg)
{
    struct ethd_chain *c = arg;
    (void)fd;
    (void)what;
    struct ethd_chain_head_event e;
    pthread_mutex_lock(&c->ev_mu);
    e = c->ev_data;
    c->ev_pending = false;
    pthread_mutex_unlock(&c->ev_mu);
    ethd_bus_publish(c->bus, ETHD_CHAIN_TOPIC_HEAD, &e, NULL);
}

int ethd_chain_attach_bus(struct ethd_chain *c, struct ethd_bus *bus, struct event_base *base)
{
    c->bus = bus;
    if (base && !(c->ev = event_new(base, -1, 0, on_head_event, c)))
        return ETHD_ENOMEM;
    return 0;
}

static void announce(struct ethd_chain *c, bool reorg, uint64_t ancestor)
{
    if (!c->bus)
        return;
    pthread_mutex_lock(&c->ev_mu);
    bool was = c->ev_pending;
    pthread_mutex_lock(&c->mu);
    c->ev_data.header = c->hh;
    c->ev_data.block = c->hb;
    pthread_mutex_unlock(&c->mu);
    if (!was) {
        c->ev_data.reorg = reorg;
        c->ev_data.ancestor = ancestor;
    } else if (reorg) {
        if (!c->ev_data.reorg || ancestor < c->ev_data.ancestor)
            c->ev_data.ancestor = ancestor;
        c->ev_data.reorg = true;
    }
    c->ev_pending = true;
    pthread_mutex_unlock(&c->ev_mu);
    if (c->ev) {
        if (!was)
            event_active(c->ev, EV_TIMEOUT, 0);
    } else {
        on_head_event(-1, 0, c);
    }
}

/* ---- inserts ---- */

struct pend {
    uint8_t hash[32];
    uint64_t number;
    uint8_t td[32];
    uint8_t parent[32];
    const struct ethd_header *h; /* borrowed from the caller */
    const struct ethd_body *body; /* borrowed; NULL if the body is in the store or absent */
    bool has_body;                /* stored, or written by this insert */
    bool is_new;                  /* header written by this insert */
};

struct canon_entry {
    uint8_t hash[32];
};

struct txn {
    struct ethd_chain *c;
    struct ethd_batch *b;
    struct pend *p;
    size_t n, cap;
    uint32_t *idx; /* open-addressing index of p by hash (idx_cap slots, 0 = empty) */
    size_t idx_cap;
    /* canonical overlay after set_canonical: numbers (fork, top] */
    bool canon_changed;
    uint64_t fork, top;
    struct canon_entry *newcanon;
    struct ethd_buf scratch;
};

static size_t idx_slot(const uint8_t hash[32], size_t cap)
{
    uint64_t v;
    memcpy(&v, hash, 8);
    return (size_t)(v & (cap - 1));
}

static int idx_rebuild(struct txn *t, size_t cap)
{
    uint32_t *idx = calloc(cap, sizeof(*idx));
    if (!idx)
        return ETHD_ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        size_t s = idx_slot(t->p[i].hash, cap);
        while (idx[s])
            s = (s + 1) & (cap - 1);
        idx[s] = (uint32_t)(i + 1);
    }
    free(t->idx);
    t->idx = idx;
    t->idx_cap = cap;
    return 0;
}

static struct pend *find_pend(const struct txn *t, const uint8_t hash[32])
{
    if (!t->idx_cap)
        return NULL;
    for (size_t s = idx_slot(hash, t->idx_cap); t->idx[s]; s = (s + 1) & (t->idx_cap - 1)) {
        struct pend *p = &t->p[t->idx[s] - 1];
        if (memcmp(p->hash, hash, 32) == 0)
            return p;
    }
    return NULL;
}

static struct pend *push_pend(struct txn *t)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        struct pend *np = realloc(t->p, nc * sizeof(*np));
        if (!np)
            return NULL;
        t->p = np;
        t->cap = nc;
    }
    if ((t->n + 1) * 2 > t->idx_cap && idx_rebuild(t, t->idx_cap ? t->idx_cap * 2 : 256))
        return NULL;
    struct pend *p = &t->p[t->n];
    memset(p, 0, sizeof(*p));
    return p;
}

/* Make the last pushed entry visible (after its hash is set). */
static void commit_pend(struct txn *t)
{
    size_t s = idx_slot(t->p[t->n].hash, t->idx_cap);
    while (t->idx[s])
        s = (s + 1) & (t->idx_cap - 1);
    t->idx[s] = (uint32_t)(t->n + 1);
    t->n++;
}

/* Header (hash, number) from the overlay or the store, decoded. */
static int txn_header(struct txn *t, const uint8_t hash[32], uint64_t number,
                      struct ethd_header *out)
{
    struct pend *p = find_pend(t, hash);
    if (p)
        return ethd_header_copy(out, p->h);
    return ethd_chain_get_header(t->c, number, hash, out);
}

static int src_get_header(void *arg, const uint8_t hash[32], uint64_t number,
                          struct ethd_header *out)
{
    return txn_header(arg, hash, number, out);
}

static int src_load_snapshot(void *arg, const uint8_t hash[32], uint8_t **data, size_t *len)
{
    struct txn *t = arg;
    return ethd_store_get(t->c->st, t->c->cliq, hash, 32, data, len);
}

static void txn_free(struct txn *t)
{
    ethd_batch_free(t->b);
    free(t->p);
    free(t->idx);
    free(t->newcanon);
    ethd_buf_free(&t->scratch);
}

static void res_fail(struct ethd_chain_insert_result *res, int code, uint64_t number,
                     const uint8_t hash[32], const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void res_fail(struct ethd_chain_insert_result *res, int code, uint64_t number,
                     const uint8_t hash[32], const char *fmt, ...)
{
    res->code = code;
    res->bad_number = number;
    if (hash)
        memcpy(res->bad_hash, hash, 32);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
    va_end(ap);
}

/* Add one header (verified against its parent) to the insert, or find it
 * stored/pending already. *out: its overlay entry. */
static int add_header(struct txn *t, const struct ethd_header *h, const uint8_t *raw, size_t rawlen,
                      const uint8_t hash[32], struct pend **out,
                      struct ethd_chain_insert_result *res)
{
    struct ethd_chain *c = t->c;
    struct pend *p = find_pend(t, hash);
    if (p) {
        *out = p;
        return 0;
    }
    if (!(p = push_pend(t))) {
        res_fail(res, ETHD_ENOMEM, h->number, hash, "out of memory");
        return ETHD_ENOMEM;
    }
    memcpy(p->hash, hash, 32);
    p->number = h->number;
    p->h = h;
    memcpy(p->parent, h->parent_hash, 32);
    uint64_t known;
    int rc = ethd_chain_get_number(c, hash, &known);
    if (rc == 0) {
        if (known != h->number || (rc = ethd_chain_get_td(c, known, hash, p->td))) {
            res_fail(res, ETHD_EIO, h->number, hash, "stored header record is inconsistent");
            return ETHD_EIO;
        }
        p->has_body = ethd_chain_has_nh(c, c->bodies, known, hash);
        commit_pend(t);
        *out = &t->p[t->n - 1];
        return 0;
    }
    if (rc != ETHD_ENOTFOUND) {
        res_fail(res, rc, h->number, hash, "storage error: %s", ethd_strerror(rc));
        return rc;
    }
    if (h->number == 0) {
        res_fail(res, ETHD_EINVAL, 0, hash, "a different genesis block");
        return ETHD_EINVAL;
    }
    /* The parent: an earlier item, or stored. */
    struct ethd_header stored;
    const struct ethd_header *parent;
    uint8_t parent_td[32];
    bool free_parent = false;
    struct pend *pp = find_pend(t, h->parent_hash);
    if (pp) {
        parent = pp->h;
        memcpy(parent_td, pp->td, 32);
    } else {
        uint64_t pn;
        rc = ethd_chain_get_number(c, h->parent_hash, &pn);
        if (rc == 0) {
            rc = ethd_chain_get_header(c, pn, h->parent_hash, &stored);
            if (rc == 0 && (rc = ethd_chain_get_td(c, pn, h->parent_hash, parent_td)))
                ethd_header_free(&stored);
        }
        if (rc) {
            if (rc == ETHD_ENOTFOUND)
                res_fail(res, rc, h->number, hash, "unknown parent block");
            else
                res_fail(res, rc, h->number, hash, "storage error: %s", ethd_strerror(rc));
            return rc;
        }
        parent = &stored;
        free_parent = true;
    }
    char why[200] = "";
    rc = ethd_chain_verify_header(&c->g.config, c->clique != NULL, h, parent, h->parent_hash, why,
                                  sizeof(why));
    if (!rc && c->clique) {
        struct ethd_clique_src src = {src_get_header, src_load_snapshot, t};
        rc = ethd_clique_verify(c->clique, h, hash, parent, h->parent_hash, &src, why, sizeof(why));
    }
    if (free_parent)
        ethd_header_free(&stored);
    if (rc) {
        res_fail(res, rc == ETHD_ENOMEM || rc == ETHD_EIO ? rc : ETHD_EINVAL, h->number, hash,
                 "%s", why[0] ? why : ethd_strerror(rc));
        return res->code;
    }
    if (ethd_chain_u256_add(parent_td, h->difficulty, p->td)) {
        res_fail(res, ETHD_ERANGE, h->number, hash, "total difficulty overflows 256 bits");
        return ETHD_ERANGE;
    }
    uint8_t k[40], nk[8];
    ethd_chain_nh_key(h->number, hash, k);
    ethd_chain_num_key(h->number, nk);
    if ((rc = ethd_batch_put(t->b, c->headers, k, 40, raw, rawlen)) ||
        (rc = ethd_batch_put(t->b, c->hashnum, hash, 32, nk, 8)) ||
        (rc = ethd_batch_put(t->b, c->td, k, 40, p->td, 32))) {
        res_fail(res, rc, h->number, hash, "storage error: %s", ethd_strerror(rc));
        return rc;
    }
    p->is_new = true;
    commit_pend(t);
    *out = &t->p[t->n - 1];
    if (c->clique && h->number % ETHD_CLIQUE_SNAP_INTERVAL == 0) {
        /* Persist the snapshot so a later walk-back stops here. */
        struct ethd_clique_src src = {src_get_header, src_load_snapshot, t};
        ethd_buf_reset(&t->scratch);
        if ((rc = ethd_clique_snapshot_blob(c->clique, hash, h->number, &src, &t->scratch)) ||
            (rc = ethd_batch_put(t->b, c->cliq, hash, 32, t->scratch.data, t->scratch.len))) {
            t->n--; /* not visible: the insert stops here */
            res_fail(res, rc, h->number, hash, "cannot store the clique snapshot: %s",
                     ethd_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* ---- canonical index ---- */

/* Canonical hash at n as it will be after the batch. */
static int canon_at(struct txn *t, uint64_t n, uint8_t hash[32])
{
    if (t->canon_changed) {
        if (n > t->top)
            return ETHD_ENOTFOUND;
        if (n > t->fork) {
            memcpy(hash, t->newcanon[n - t->fork - 1].hash, 32);
            return 0;
        }
    }
    return ethd_chain_get_canon(t->c, n, hash);
}

static bool body_at(struct txn *t, uint64_t n, const uint8_t hash[32])
{
    struct pend *p = find_pend(t, hash);
    if (p)
        return p->has_body;
    return ethd_chain_has_nh(t->c, t->c->bodies, n, hash);
}

/* Write (put) or remove (del) the txlookup entries of block (n, hash). */
static int index_txs(struct txn *t, uint64_t n, const uint8_t hash[32], bool put)
{
    struct pend *p = find_pend(t, hash);
    const struct ethd_body *body = p ? p->body : NULL;
    struct ethd_body stored;
    uint8_t *raw = NULL;
    size_t rl;
    int rc;
    memset(&stored, 0, sizeof(stored));
    if (!body) {
        rc = ethd_chain_get_nh(t->c, t->c->bodies, n, hash, &raw, &rl);
        if (rc == ETHD_ENOTFOUND)
            return 0;
        if (rc)
            return rc;
        struct ethd_rlp_item it;
        if ((rc = ethd_rlp_decode(raw, rl, &it)) || (rc = ethd_body_decode_item(&it, &stored))) {
            free(raw);
            return ETHD_EIO;
        }
        body = &stored;
    }
    uint8_t v[12];
    ethd_chain_num_key(n, v);
    rc = 0;
    for (size_t i = 0; i < body->n_txs && !rc; i++) {
        uint8_t th[32];
        ethd_keccak256(body->txs[i].data, body->txs[i].len, th);
        v[8] = (uint8_t)(i >> 24);
        v[9] = (uint8_t)(i >> 16);
        v[10] = (uint8_t)(i >> 8);
        v[11] = (uint8_t)i;
        rc = put ? ethd_batch_put(t->b, t->c->txlookup, th, 32, v, 12)
                 : ethd_batch_delete(t->b, t->c->txlookup, th, 32);
    }
    ethd_body_free(&stored);
    free(raw);
    return rc;
}

/* Parent hash of (n, hash) from the overlay or the store. */
static int parent_of(struct txn *t, uint64_t n, const uint8_t hash[32], uint8_t parent[32])
{
    struct pend *p = find_pend(t, hash);
    if (p) {
        memcpy(parent, p->parent, 32);
        return 0;
    }
    struct ethd_header h;
    int rc = ethd_chain_get_header(t->c, n, hash, &h);
    if (rc)
        return rc;
    memcpy(parent, h.parent_hash, 32);
    ethd_header_free(&h);
    return 0;
}

/* Make `best` the canonical head: canon and txlookup rewritten from the
 * fork point with the current canonical chain. */
static int set_canonical(struct txn *t, const struct pend *best, uint64_t *fork_out)
{
    struct ethd_chain *c = t->c;
    uint64_t n = best->number;
    uint8_t cur[32], have[32];
    memcpy(cur, best->hash, 32);
    size_t cap = 64, cnt = 0;
    struct canon_entry *list = malloc(cap * sizeof(*list)); /* top-down */
    int rc = list ? 0 : ETHD_ENOMEM;
    while (!rc) {
        rc = ethd_chain_get_canon(c, n, have);
        if (rc == 0 && memcmp(have, cur, 32) == 0)
            break;
        if (rc && rc != ETHD_ENOTFOUND)
            break;
        rc = 0;
        if (n == 0) {
            rc = ETHD_EIO; /* a branch that does not reach our genesis */
            break;
        }
        if (cnt == cap) {
            struct canon_entry *nl = realloc(list, cap * 2 * sizeof(*nl));
            if (!nl) {
                rc = ETHD_ENOMEM;
                break;
            }
            list = nl;
            cap *= 2;
        }
        memcpy(list[cnt++].hash, cur, 32);
        if ((rc = parent_of(t, n, cur, cur)))
            break;
        n--;
    }
    if (rc) {
        free(list);
        return rc;
    }
    uint64_t fork = n, old_top = c->hh.number;
    /* Old canonical blocks above the fork point leave the tx index. */
    for (uint64_t k = fork + 1; k <= old_top && !rc; k++) {
        if ((rc = ethd_chain_get_canon(c, k, have)) == ETHD_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (!rc)
            rc = index_txs(t, k, have, false);
    }
    /* The new branch enters canon and the tx index (where bodies exist). */
    t->newcanon = malloc((cnt ? cnt : 1) * sizeof(*t->newcanon));
    if (!t->newcanon && !rc)
        rc = ETHD_ENOMEM;
    for (size_t i = 0; i < cnt && !rc; i++) {
        uint64_t k = fork + 1 + i;
        const uint8_t *h = list[cnt - 1 - i].hash;
        uint8_t nk[8];
        ethd_chain_num_key(k, nk);
        memcpy(t->newcanon[i].hash, h, 32);
        if (!(rc = ethd_batch_put(t->b, c->canon, nk, 8, h, 32)) && body_at(t, k, h))
            rc = index_txs(t, k, h, true);
    }
    for (uint64_t k = best->number + 1; k <= old_top && !rc; k++) {
        uint8_t nk[8];
        ethd_chain_num_key(k, nk);
        rc = ethd_batch_delete(t->b, c->canon, nk, 8);
    }
    if (!rc)
        rc = ethd_batch_put(t->b, c->meta, "head_header", 11, best->hash, 32);
    free(list);
    if (!rc) {
        t->canon_changed = true;
        t->fork = fork;
        t->top = best->number;
        *fork_out = fork;
    }
    return rc;
}

/* Td of (n, hash) from the overlay or the store. */
static int td_of(struct txn *t, uint64_t n, const uint8_t hash[32], uint8_t td[32])
{
    struct pend *p = find_pend(t, hash);
    if (p) {
        memcpy(td, p->td, 32);
        return 0;
    }
    return ethd_chain_get_td(t->c, n, hash, td);
}

static int timestamp_of(struct txn *t, uint64_t n, const uint8_t hash[32], uint64_t *ts)
{
    struct pend *p = find_pend(t, hash);
    if (p) {
        *ts = p->h->timestamp;
        return 0;
    }
    struct ethd_header h;
    int rc = ethd_chain_get_header(t->c, n, hash, &h);
    if (rc)
        return rc;
    *ts = h.timestamp;
    ethd_header_free(&h);
    return 0;
}

/* After the items: move the canonical head to the heaviest new header and
 * the head block as far along canon as bodies go; commit. */
static int finish(struct txn *t, struct ethd_chain_insert_result *res, bool *reorg,
                  uint64_t *ancestor)
{
    struct ethd_chain *c = t->c;
    const struct pend *best = NULL;
    const uint8_t *top_td = c->hh.td;
    for (size_t i = 0; i < t->n; i++) {
        if (t->p[i].is_new && ethd_chain_u256_cmp(t->p[i].td, top_td) > 0) {
            best = &t->p[i];
            top_td = best->td;
        }
    }
    struct ethd_chain_head hh = c->hh, hb = c->hb;
    uint64_t fork = 0;
    int rc = 0;
    *reorg = false;
    if (best) {
        if ((rc = set_canonical(t, best, &fork)))
            return rc;
        hh.number = best->number;
        memcpy(hh.hash, best->hash, 32);
        memcpy(hh.td, best->td, 32);
        hh.timestamp = best->h->timestamp;
        if (fork < c->hh.number) {
            *reorg = true;
            *ancestor = fork;
        }
        if (hb.number > fork) { /* the head block left canon: back to the fork point */
            hb.number = fork;
            if ((rc = canon_at(t, fork, hb.hash)) || (rc = td_of(t, fork, hb.hash, hb.td)) ||
                (rc = timestamp_of(t, fork, hb.hash, &hb.timestamp)))
                return rc;
        }
    }
    /* Advance the head block over canonical blocks that have bodies. */
    uint8_t h[32];
    bool moved = false;
    while (hb.number < hh.number && canon_at(t, hb.number + 1, h) == 0 &&
           body_at(t, hb.number + 1, h)) {
        hb.number++;
        memcpy(hb.hash, h, 32);
        moved = true;
    }
    if (moved && ((rc = td_of(t, hb.number, hb.hash, hb.td)) ||
                  (rc = timestamp_of(t, hb.number, hb.hash, &hb.timestamp))))
        return rc;
    bool hb_changed = memcmp(hb.hash, c->hb.hash, 32) != 0;
    if (hb_changed && (rc = ethd_batch_put(t->b, c->meta, "head_block", 10, hb.hash, 32)))
        return rc;
    if (ethd_batch_count(t->b) > 0 && (rc = ethd_batch_commit(t->b, false)))
        return rc;
    res->head_changed = best != NULL || hb_changed;
    c->hh = hh;
    c->hb = hb;
    if (*reorg) {
        char a[67];
        ethd_hex_encode(hh.hash, 32, a);
        ETHD_INFO(c->log, "chain reorg", "ancestor=%llu head=%llu hash=%s",
                  (unsigned long long)fork, (unsigned long long)hh.number, a);
    }
    return 0;
}

static void res_init(struct ethd_chain_insert_result *res)
{
    memset(res, 0, sizeof(*res));
}

/* Recover the clique signers of a run of headers on all threads first. */
static void prerecover(struct ethd_chain *c, const struct ethd_header *const *hs,
                       const uint8_t (*hashes)[32], size_t n)
{
    if (c->clique && n >= 16 && c->threads > 1)
        ethd_clique_recover_batch(c->clique, hs, hashes, n, c->threads);
}

static int run_finish(struct ethd_chain *c, struct txn *t, struct ethd_chain_insert_result *res,
                      bool *reorg, uint64_t *ancestor)
{
    *reorg = false;
    *ancestor = 0;
    int rc = finish(t, res, reorg, ancestor);
    if (rc) {
        /* Nothing was committed. */
        res->n_done = res->n_new = 0;
        res->head_changed = false;
        *reorg = false;
        res_fail(res, rc, res->bad_number, NULL, "cannot write the chain: %s", ethd_strerror(rc));
        ETHD_ERROR(c->log, "chain write failed", "error=\"%s\"", ethd_strerror(rc));
        return rc;
    }
    return 0;
}

/* Start an insert: take the chain lock, open the write batch, and recover
 * the clique signers of the run on all threads. On failure the lock is not
 * held and res says why. */
static int txn_begin(struct txn *t, const struct ethd_header *const *hs,
                     const uint8_t (*hashes)[32], size_t n, struct ethd_chain_insert_result *res)
{
    struct ethd_chain *c = t->c;
    pthread_mutex_lock(&c->mu);
    int rc = ethd_batch_new(c->st, &t->b);
    if (rc) {
        pthread_mutex_unlock(&c->mu);
        res_fail(res, rc, 0, NULL, "storage error: %s", ethd_strerror(rc));
        return rc;
    }
    prerecover(c, hs, hashes, n);
    return 0;
}

/* End an insert begun by txn_begin: commit what was added, release the
 * lock, announce a new head. Returns the commit's error, else item_rc. */
static int txn_end(struct txn *t, struct ethd_chain_insert_result *res, int item_rc)
{
    struct ethd_chain *c = t->c;
    bool reorg;
    uint64_t ancestor;
    int rc = run_finish(c, t, res, &reorg, &ancestor);
    pthread_mutex_unlock(&c->mu);
    if (!rc)
        rc = item_rc;
    if (res->head_changed)
        announce(c, reorg, ancestor);
    return rc;
}

int ethd_chain_insert_headers(struct ethd_chain *c, const struct ethd_header *headers, size_t n,
                              struct ethd_chain_insert_result *res)
{
    struct ethd_chain_insert_result dummy;
    if (!res)
        res = &dummy;
    res_init(res);
    struct txn t = {.c = c};
    uint8_t(*hashes)[32] = malloc((n ? n : 1) * 32);
    size_t *offs = malloc((n + 1) * sizeof(size_t));
    struct ethd_buf raws = ETHD_BUF_INIT;
    const struct ethd_header **hp = calloc(n ? n : 1, sizeof(*hp));
    int rc = hashes && offs && hp ? 0 : ETHD_ENOMEM;
    if (offs)
        offs[0] = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = ethd_header_encode(&headers[i], &raws)))
            break;
        offs[i + 1] = raws.len;
        ethd_keccak256(raws.data + offs[i], offs[i + 1] - offs[i], hashes[i]);
        hp[i] = &headers[i];
    }
    if (rc) {
        res_fail(res, rc, 0, NULL, "cannot encode the headers: %s", ethd_strerror(rc));
        goto out;
    }
    if ((rc = txn_begin(&t, hp, (const uint8_t(*)[32])hashes, n, res)))
        goto out;
    int item_rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct pend *p;
        size_t before = t.n;
        if ((item_rc = add_header(&t, &headers[i], raws.data + offs[i], offs[i + 1] - offs[i],
                                  hashes[i], &p, res)))
            break;
        res->n_done++;
        res->n_new += t.n > before && p->is_new;
    }
    rc = txn_end(&t, res, item_rc);
out:
    txn_free(&t);
    ethd_buf_free(&raws);
    free(hashes);
    free(offs);
    free(hp);
    return rc;
}

/* The body list [txs, uncles(, withdrawals)] of a block, appended to out. */
static int body_rlp(const struct ethd_block *b, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    if (b->raw && b->header_raw && b->header_raw >= b->raw &&
        b->header_raw + b->header_raw_len <= b->raw + b->raw_len) {
        const uint8_t *start = b->header_raw + b->header_raw_len;
        ethd_rlp_list_begin(&e);
        ethd_rlp_raw(&e, start, (size_t)(b->raw + b->raw_len - start));
        ethd_rlp_list_end(&e);
    } else {
        ethd_body_encode_rlp(&e, &b->body);
    }
    return ethd_rlp_enc_finish(&e);
}

static const uint8_t empty_receipts[] = {0xc0};

/* Check a block's receipts (`rl` bytes of wire-form list) against its header. */
static int check_receipts(const struct ethd_header *h, const uint8_t hash[32], size_t n_txs,
                          const uint8_t *r, size_t rl, struct ethd_chain_insert_result *res)
{
    struct ethd_rlp_item it;
    char why[200] = "";
    int rc = ethd_rlp_decode(r, rl, &it);
    if (rc) {
        res_fail(res, ETHD_EINVAL, h->number, hash, "malformed receipts: %s", ethd_strerror(rc));
        return ETHD_EINVAL;
    }
    if ((rc = ethd_chain_verify_receipts(h, &it, n_txs, why, sizeof(why)))) {
        res_fail(res, rc == ETHD_ENOMEM ? rc : ETHD_EINVAL, h->number, hash, "%s", why);
        return res->code;
    }
    return 0;
}

static int put_nh(struct txn *t, struct ethd_store_cf *cf, const struct ethd_header *h,
                  const uint8_t hash[32], const uint8_t *v, size_t vl,
                  struct ethd_chain_insert_result *res)
{
    uint8_t k[40];
    ethd_chain_nh_key(h->number, hash, k);
    int rc = ethd_batch_put(t->b, cf, k, 40, v, vl);
    if (rc)
        res_fail(res, rc, h->number, hash, "storage error: %s", ethd_strerror(rc));
    return rc;
}

/* Body and receipts of a block whose body is not stored: checked before
 * anything of the block is staged, so a bad block leaves no trace. */
static int check_block(const struct ethd_block *b, const uint8_t hash[32], const uint8_t **r,
                       size_t *rl, struct ethd_chain_insert_result *res)
{
    const struct ethd_header *h = &b->header;
    char why[200] = "";
    if (ethd_chain_verify_body(h, &b->body, why, sizeof(why))) {
        res_fail(res, ETHD_EINVAL, h->number, hash, "%s", why);
        return ETHD_EINVAL;
    }
    if (!*r && b->body.n_txs == 0) {
        /* No transactions: the receipts are known to be []. */
        *r = empty_receipts;
        *rl = 1;
    }
    return *r ? check_receipts(h, hash, b->body.n_txs, *r, *rl, res) : 0;
}

int ethd_chain_insert_blocks(struct ethd_chain *c, const struct ethd_block *blocks,
                             const struct ethd_trie_item *receipts, size_t n,
                             struct ethd_chain_insert_result *res)
{
    struct ethd_chain_insert_result dummy;
    if (!res)
        res = &dummy;
    res_init(res);
    struct txn t = {.c = c};
    uint8_t(*hashes)[32] = malloc((n ? n : 1) * 32);
    const struct ethd_header **hp = calloc(n ? n : 1, sizeof(*hp));
    struct ethd_buf hraw = ETHD_BUF_INIT, braw = ETHD_BUF_INIT;
    int rc = hashes && hp ? 0 : ETHD_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        if (blocks[i].header_raw)
            ethd_keccak256(blocks[i].header_raw, blocks[i].header_raw_len, hashes[i]);
        else
            rc = ethd_header_hash(&blocks[i].header, hashes[i]);
        hp[i] = &blocks[i].header;
    }
    if (rc) {
        res_fail(res, rc, 0, NULL, "cannot hash the headers: %s", ethd_strerror(rc));
        goto out;
    }
    if ((rc = txn_begin(&t, hp, (const uint8_t(*)[32])hashes, n, res)))
        goto out;
    int item_rc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ethd_block *b = &blocks[i];
        const struct ethd_header *h = &b->header;
        const uint8_t *hr = b->header_raw;
        size_t hl = b->header_raw_len;
        const uint8_t *r = receipts && receipts[i].len ? receipts[i].data : NULL;
        size_t rl = r ? receipts[i].len : 0;
        uint64_t kn;
        bool known = find_pend(&t, hashes[i]) || ethd_chain_get_number(c, hashes[i], &kn) == 0;
        if (!known && (item_rc = check_block(b, hashes[i], &r, &rl, res)))
            break;
        if (!hr) {
            ethd_buf_reset(&hraw);
            if ((item_rc = ethd_header_encode(h, &hraw))) {
                res_fail(res, item_rc, h->number, hashes[i], "cannot encode the header");
                break;
            }
            hr = hraw.data;
            hl = hraw.len;
        }
        struct pend *p;
        if ((item_rc = add_header(&t, h, hr, hl, hashes[i], &p, res)))
            break;
        if (p->has_body) {
            /* Known block: only receipts it lacks are added. */
            if (r && !p->body && !ethd_chain_has_nh(c, c->receipts, h->number, hashes[i])) {
                struct ethd_body kb;
                uint8_t *raw;
                size_t l;
                struct ethd_rlp_item it;
                memset(&kb, 0, sizeof(kb));
                if ((item_rc = ethd_chain_get_nh(c, c->bodies, h->number, hashes[i], &raw, &l))) {
                    res_fail(res, item_rc, h->number, hashes[i], "storage error");
                    break;
                }
                item_rc = ethd_rlp_decode(raw, l, &it);
                if (!item_rc)
                    item_rc = ethd_body_decode_item(&it, &kb);
                if (item_rc)
                    res_fail(res, ETHD_EIO, h->number, hashes[i], "stored body is corrupt");
                else if (!(item_rc = check_receipts(h, hashes[i], kb.n_txs, r, rl, res)))
                    item_rc = put_nh(&t, c->receipts, h, hashes[i], r, rl, res);
                ethd_body_free(&kb);
                free(raw);
                if (item_rc)
                    break;
            }
            res->n_done++;
            continue;
        }
        if (known && (item_rc = check_block(b, hashes[i], &r, &rl, res)))
            break;
        if (r && (item_rc = put_nh(&t, c->receipts, h, hashes[i], r, rl, res)))
            break;
        ethd_buf_reset(&braw);
        if ((item_rc = body_rlp(b, &braw))) {
            res_fail(res, item_rc, h->number, hashes[i], "cannot encode the body");
            break;
        }
        if ((item_rc = put_nh(&t, c->bodies, h, hashes[i], braw.data, braw.len, res)))
            break;
        p->has_body = true;
        p->body = &b->body;
        /* A body for a header that is canonical already enters the index
         * now (new headers are indexed by set_canonical). */
        if (!p->is_new) {
            uint8_t ch[32];
            if (ethd_chain_get_canon(c, h->number, ch) == 0 && memcmp(ch, hashes[i], 32) == 0 &&
                (item_rc = index_txs(&t, h->number, hashes[i], true))) {
                res_fail(res, item_rc, h->number, hashes[i], "storage error");
                break;
            }
        }
        res->n_done++;
        res->n_new++;
    }
    rc = txn_end(&t, res, item_rc);
out:
    txn_free(&t);
    ethd_buf_free(&hraw);
    ethd_buf_free(&braw);
    free(hashes);
    free(hp);
    return rc;
}

int ethd_chain_clique_signers(struct ethd_chain *c, const uint8_t hash[32], uint64_t number,
                              uint8_t (**signers)[20], size_t *n)
{
    if (!c->clique)
        return ETHD_ENOTSUP;
    struct txn t = {.c = c};
    struct ethd_clique_src src = {src_get_header, src_load_snapshot, &t};
    pthread_mutex_lock(&c->mu);
    int rc = ethd_clique_signers(c->clique, hash, number, &src, signers, n);
    pthread_mutex_unlock(&c->mu);
    txn_free(&t);
    return rc;
}
