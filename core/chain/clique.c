/* Clique proof-of-authority consensus (EIP-225), verification side.
 *
 * The snapshot rules follow EIP-225 "Snapshots" and "Voting": votes reset at
 * every epoch checkpoint; a signer may keep one vote per candidate; a vote
 * passes with more than half of the signers; a dropped signer's open votes
 * are discarded; a signer may sign at most once in any floor(N/2)+1
 * consecutive blocks. The tally of a candidate is the number of open votes
 * naming it (every counted vote is kept in the vote list, so the two are the
 * same thing). */
#include "chain/clique.h"

#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_CACHE 64      /* snapshots kept in memory */
#define SIG_CACHE 4096     /* recovered signers kept (direct-mapped by hash) */
#define MAX_THREADS 8

/* keccak256(rlp([])): the uncles hash of a header with no uncles. */
static const uint8_t empty_uncles_hash[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47};

static const uint8_t nonce_auth[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t nonce_drop[8] = {0};

struct vote {
    uint8_t signer[20];
    uint8_t addr[20];
    bool authorize;
    uint64_t block;
};

struct recent {
    uint64_t number;
    uint8_t signer[20];
};

struct snap {
    uint64_t number;
    uint8_t hash[32];
    uint8_t (*signers)[20]; /* sorted ascending, no duplicates */
    size_t n_signers;
    struct recent *recents;
    size_t n_recents;
    struct vote *votes;
    size_t n_votes;
};

struct snap_slot {
    struct snap *s;
    uint64_t used;
};

struct sig_slot {
    bool valid;
    uint8_t hash[32];
    uint8_t signer[20];
};

struct ethd_clique {
    const struct ethd_secp *secp;
    uint64_t period, epoch;
    struct snap_slot snaps[SNAP_CACHE];
    uint64_t tick;
    struct sig_slot *sigs; /* SIG_CACHE entries */
};

static void fail(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static int cmp_addr(const void *a, const void *b)
{
    return memcmp(a, b, 20);
}

/* ---- snapshots ---- */

static void snap_free(struct snap *s)
{
    if (!s)
        return;
    free(s->signers);
    free(s->recents);
    free(s->votes);
    free(s);
}

static struct snap *snap_dup(const struct snap *s)
{
    struct snap *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->number = s->number;
    memcpy(d->hash, s->hash, 32);
    d->n_signers = s->n_signers;
    d->n_recents = s->n_recents;
    d->n_votes = s->n_votes;
    /* +1: room for one more signer / recent / vote without a realloc. */
    d->signers = malloc((s->n_signers + 1) * 20);
    d->recents = malloc((s->n_recents + 1) * sizeof(struct recent));
    d->votes = malloc((s->n_votes + 1) * sizeof(struct vote));
    if (!d->signers || !d->recents || !d->votes) {
        snap_free(d);
        return NULL;
    }
    memcpy(d->signers, s->signers, s->n_signers * 20);
    memcpy(d->recents, s->recents, s->n_recents * sizeof(struct recent));
    memcpy(d->votes, s->votes, s->n_votes * sizeof(struct vote));
    return d;
}

static long signer_index(const struct snap *s, const uint8_t addr[20])
{
    const uint8_t(*p)[20] = bsearch(addr, s->signers, s->n_signers, 20, cmp_addr);
    return p ? (long)(p - s->signers) : -1;
}

/* A snapshot from a signer list (genesis or a trusted checkpoint). */
static struct snap *snap_from_list(uint64_t number, const uint8_t hash[32],
                                   const uint8_t (*list)[20], size_t n)
{
    struct snap *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->number = number;
    memcpy(s->hash, hash, 32);
    s->signers = malloc((n + 1) * 20);
    s->recents = malloc(sizeof(struct recent));
    s->votes = malloc(sizeof(struct vote));
    if (!s->signers || !s->recents || !s->votes) {
        snap_free(s);
        return NULL;
    }
    memcpy(s->signers, list, n * 20);
    qsort(s->signers, n, 20, cmp_addr);
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (w == 0 || memcmp(s->signers[w - 1], s->signers[i], 20) != 0)
            memmove(s->signers[w++], s->signers[i], 20);
    s->n_signers = w;
    return s;
}

static size_t tally(const struct snap *s, const uint8_t addr[20])
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_votes; i++)
        n += memcmp(s->votes[i].addr, addr, 20) == 0;
    return n;
}

static void remove_vote(struct snap *s, size_t i)
{
    memmove(&s->votes[i], &s->votes[i + 1], (s->n_votes - i - 1) * sizeof(struct vote));
    s->n_votes--;
}

static void remove_recent_number(struct snap *s, uint64_t number)
{
    for (size_t i = 0; i < s->n_recents; i++) {
        if (s->recents[i].number == number) {
            s->recents[i] = s->recents[--s->n_recents];
            return;
        }
    }
}

/* EIP-225: apply one header (signed by `signer`) to `s` in place. */
static int snap_apply(struct snap *s, const struct ethd_header *h, const uint8_t hash[32],
                      const uint8_t signer[20], uint64_t epoch, char *why, size_t whylen)
{
    char hex[43];
    if (h->number != s->number + 1 || memcmp(h->parent_hash, s->hash, 32) != 0) {
        fail(why, whylen, "header %llu does not extend snapshot %llu",
             (unsigned long long)h->number, (unsigned long long)s->number);
        return ETHD_EINVAL;
    }
    uint64_t number = h->number;
    if (number % epoch == 0)
        s->n_votes = 0; /* votes reset at each checkpoint */
    uint64_t limit = s->n_signers / 2 + 1;
    if (number >= limit)
        remove_recent_number(s, number - limit);
    if (signer_index(s, signer) < 0) {
        ethd_hex_encode(signer, 20, hex);
        fail(why, whylen, "unauthorized signer %s", hex);
        return ETHD_EINVAL;
    }
    for (size_t i = 0; i < s->n_recents; i++) {
        if (memcmp(s->recents[i].signer, signer, 20) == 0) {
            ethd_hex_encode(signer, 20, hex);
            fail(why, whylen, "signer %s recently signed block %llu", hex,
                 (unsigned long long)s->recents[i].number);
            return ETHD_EINVAL;
        }
    }
    s->recents[s->n_recents].number = number;
    memcpy(s->recents[s->n_recents].signer, signer, 20);
    s->n_recents++;

    /* A signer's earlier vote on the same candidate is replaced. */
    for (size_t i = 0; i < s->n_votes; i++) {
        if (memcmp(s->votes[i].signer, signer, 20) == 0 &&
            memcmp(s->votes[i].addr, h->coinbase, 20) == 0) {
            remove_vote(s, i);
            break;
        }
    }
    bool authorize;
    if (memcmp(h->nonce, nonce_auth, 8) == 0)
        authorize = true;
    else if (memcmp(h->nonce, nonce_drop, 8) == 0)
        authorize = false;
    else {
        fail(why, whylen, "invalid vote nonce");
        return ETHD_EINVAL;
    }
    bool is_signer = signer_index(s, h->coinbase) >= 0;
    if (authorize != is_signer) { /* a meaningful vote */
        struct vote *v = &s->votes[s->n_votes++];
        memcpy(v->signer, signer, 20);
        memcpy(v->addr, h->coinbase, 20);
        v->authorize = authorize;
        v->block = number;
    }
    if (tally(s, h->coinbase) > s->n_signers / 2) {
        if (authorize) {
            if (s->n_signers >= ETHD_CLIQUE_MAX_SIGNERS) {
                fail(why, whylen, "signer set above %d", ETHD_CLIQUE_MAX_SIGNERS);
                return ETHD_ERANGE;
            }
            memcpy(s->signers[s->n_signers++], h->coinbase, 20);
            qsort(s->signers, s->n_signers, 20, cmp_addr);
        } else {
            long idx = signer_index(s, h->coinbase);
            memmove(s->signers[idx], s->signers[idx + 1], (s->n_signers - (size_t)idx - 1) * 20);
            s->n_signers--;
            /* The set shrank: the recent window shrinks with it. */
            limit = s->n_signers / 2 + 1;
            if (number >= limit)
                remove_recent_number(s, number - limit);
            /* The dropped signer's open votes no longer count. */
            for (size_t i = 0; i < s->n_votes;) {
                if (memcmp(s->votes[i].signer, h->coinbase, 20) == 0)
                    remove_vote(s, i);
                else
                    i++;
            }
        }
        /* The candidate's votes are settled. */
        for (size_t i = 0; i < s->n_votes;) {
            if (memcmp(s->votes[i].addr, h->coinbase, 20) == 0)
                remove_vote(s, i);
            else
                i++;
        }
    }
    s->number = number;
    memcpy(s->hash, hash, 32);
    return 0;
}

/* ---- snapshot blob (persisted by the chain) ---- */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int snap_encode(const struct snap *s, struct ethd_buf *out)
{
    uint8_t hdr[4 + 8 + 32 + 4];
    memcpy(hdr, "CLQ1", 4);
    put_u64(hdr + 4, s->number);
    memcpy(hdr + 12, s->hash, 32);
    put_u32(hdr + 44, (uint32_t)s->n_signers);
    int rc = ethd_buf_append(out, hdr, sizeof(hdr));
    if (!rc)
        rc = ethd_buf_append(out, s->signers, s->n_signers * 20);
    uint8_t n[4];
    put_u32(n, (uint32_t)s->n_recents);
    if (!rc)
        rc = ethd_buf_append(out, n, 4);
    for (size_t i = 0; !rc && i < s->n_recents; i++) {
        uint8_t r[28];
        put_u64(r, s->recents[i].number);
        memcpy(r + 8, s->recents[i].signer, 20);
        rc = ethd_buf_append(out, r, sizeof(r));
    }
    put_u32(n, (uint32_t)s->n_votes);
    if (!rc)
        rc = ethd_buf_append(out, n, 4);
    for (size_t i = 0; !rc && i < s->n_votes; i++) {
        uint8_t v[49];
        memcpy(v, s->votes[i].signer, 20);
        memcpy(v + 20, s->votes[i].addr, 20);
        v[40] = s->votes[i].authorize;
        put_u64(v + 41, s->votes[i].block);
        rc = ethd_buf_append(out, v, sizeof(v));
    }
    return rc;
}

static int snap_decode(const uint8_t *p, size_t len, struct snap **out)
{
    size_t off = 48;
    if (len < off || memcmp(p, "CLQ1", 4) != 0)
        return ETHD_EINVAL;
    size_t ns = get_u32(p + 44);
    if (ns == 0 || ns > ETHD_CLIQUE_MAX_SIGNERS || len - off < ns * 20 + 4)
        return ETHD_EINVAL;
    struct snap *s = snap_from_list(get_u64(p + 4), p + 12, (const uint8_t(*)[20])(p + off), ns);
    if (!s)
        return ETHD_ENOMEM;
    off += ns * 20;
    size_t nr = get_u32(p + off);
    off += 4;
    if (nr > ns || (len - off) / 28 < nr || len - off - nr * 28 < 4)
        goto bad;
    free(s->recents);
    if (!(s->recents = malloc((nr + 1) * sizeof(struct recent))))
        goto nomem;
    for (size_t i = 0; i < nr; i++, off += 28) {
        s->recents[i].number = get_u64(p + off);
        memcpy(s->recents[i].signer, p + off + 8, 20);
    }
    s->n_recents = nr;
    size_t nv = get_u32(p + off);
    off += 4;
    if ((len - off) / 49 != nv || (len - off) % 49 != 0)
        goto bad;
    free(s->votes);
    if (!(s->votes = malloc((nv + 1) * sizeof(struct vote))))
        goto nomem;
    for (size_t i = 0; i < nv; i++, off += 49) {
        memcpy(s->votes[i].signer, p + off, 20);
        memcpy(s->votes[i].addr, p + off + 20, 20);
        s->votes[i].authorize = p[off + 40] != 0;
        s->votes[i].block = get_u64(p + off + 41);
    }
    s->n_votes = nv;
    *out = s;
    return 0;
bad:
    snap_free(s);
    return ETHD_EINVAL;
nomem:
    snap_free(s);
    return ETHD_ENOMEM;
}

/* ---- caches ---- */

static struct snap *cache_get(struct ethd_clique *c, const uint8_t hash[32])
{
    for (size_t i = 0; i < SNAP_CACHE; i++) {
        if (c->snaps[i].s && memcmp(c->snaps[i].s->hash, hash, 32) == 0) {
            c->snaps[i].used = ++c->tick;
            return c->snaps[i].s;
        }
    }
    return NULL;
}

/* Takes `s` (frees it if an equal snapshot is cached already). */
static struct snap *cache_put(struct ethd_clique *c, struct snap *s)
{
    size_t victim = SNAP_CACHE;
    for (size_t i = 0; i < SNAP_CACHE; i++) {
        if (c->snaps[i].s && memcmp(c->snaps[i].s->hash, s->hash, 32) == 0) {
            victim = i;
            break;
        }
        if (!c->snaps[i].s) {
            if (victim == SNAP_CACHE || c->snaps[victim].s)
                victim = i; /* an empty slot beats any eviction */
        } else if (victim == SNAP_CACHE ||
                   (c->snaps[victim].s && c->snaps[i].used < c->snaps[victim].used)) {
            victim = i;
        }
    }
    snap_free(c->snaps[victim].s);
    c->snaps[victim].s = s;
    c->snaps[victim].used = ++c->tick;
    return s;
}

static struct sig_slot *sig_slot(struct ethd_clique *c, const uint8_t hash[32])
{
    return &c->sigs[((size_t)hash[0] << 8 | hash[1]) % SIG_CACHE];
}

void ethd_clique_reset_cache(struct ethd_clique *c)
{
    for (size_t i = 0; i < SNAP_CACHE; i++) {
        snap_free(c->snaps[i].s);
        c->snaps[i].s = NULL;
        c->snaps[i].used = 0;
    }
}

/* ---- public: engine ---- */

int ethd_clique_new(const struct ethd_secp *secp, uint64_t period, uint64_t epoch,
                    struct ethd_clique **out)
{
    if (!secp || !out)
        return ETHD_EINVAL;
    struct ethd_clique *c = calloc(1, sizeof(*c));
    if (!c)
        return ETHD_ENOMEM;
    if (!(c->sigs = calloc(SIG_CACHE, sizeof(*c->sigs)))) {
        free(c);
        return ETHD_ENOMEM;
    }
    c->secp = secp;
    c->period = period;
    c->epoch = epoch ? epoch : ETHD_CLIQUE_DEFAULT_EPOCH;
    *out = c;
    return 0;
}

void ethd_clique_free(struct ethd_clique *c)
{
    if (!c)
        return;
    ethd_clique_reset_cache(c);
    free(c->sigs);
    free(c);
}

uint64_t ethd_clique_epoch(const struct ethd_clique *c)
{
    return c->epoch;
}

int ethd_clique_extra_signers(const uint8_t *extra, size_t len, uint8_t (**signers)[20],
                              size_t *n)
{
    if (len < ETHD_CLIQUE_VANITY + ETHD_CLIQUE_SEAL)
        return ETHD_EINVAL;
    size_t bytes = len - ETHD_CLIQUE_VANITY - ETHD_CLIQUE_SEAL;
    if (bytes % 20 != 0 || bytes / 20 > ETHD_CLIQUE_MAX_SIGNERS)
        return ETHD_EINVAL;
    *n = bytes / 20;
    *signers = malloc(bytes ? bytes : 1);
    if (!*signers)
        return ETHD_ENOMEM;
    memcpy(*signers, extra + ETHD_CLIQUE_VANITY, bytes);
    return 0;
}

int ethd_clique_seal_hash(const struct ethd_header *h, uint8_t out[32])
{
    if (h->extra_len < ETHD_CLIQUE_SEAL)
        return ETHD_EINVAL;
    struct ethd_header tmp = *h; /* shallow: only the length changes */
    tmp.extra_len -= ETHD_CLIQUE_SEAL;
    if (tmp.extra_len == 0)
        tmp.extra = NULL;
    return ethd_header_hash(&tmp, out);
}

int ethd_clique_seal(const struct ethd_secp *secp, struct ethd_header *h, const uint8_t seckey[32])
{
    uint8_t sh[32], sig[65];
    int rc = ethd_clique_seal_hash(h, sh);
    if (rc)
        return rc;
    if ((rc = ethd_secp_sign(secp, seckey, sh, sig)))
        return rc;
    memcpy(h->extra + h->extra_len - ETHD_CLIQUE_SEAL, sig, 65);
    return 0;
}

static int recover_raw(const struct ethd_secp *secp, const struct ethd_header *h,
                       uint8_t signer[20])
{
    uint8_t sh[32], pub[64];
    int rc = ethd_clique_seal_hash(h, sh);
    if (rc)
        return rc;
    rc = ethd_secp_recover(secp, sh, h->extra + h->extra_len - ETHD_CLIQUE_SEAL, ETHD_CLIQUE_SEAL,
                           pub);
    if (rc)
        return ETHD_ECRYPTO;
    ethd_secp_address(pub, signer);
    return 0;
}

int ethd_clique_recover(struct ethd_clique *c, const struct ethd_header *h, const uint8_t hash[32],
                        uint8_t signer[20])
{
    struct sig_slot *slot = sig_slot(c, hash);
    if (slot->valid && memcmp(slot->hash, hash, 32) == 0) {
        memcpy(signer, slot->signer, 20);
        return 0;
    }
    int rc = recover_raw(c->secp, h, signer);
    if (rc)
        return rc;
    slot->valid = true;
    memcpy(slot->hash, hash, 32);
    memcpy(slot->signer, signer, 20);
    return 0;
}

struct recover_job {
    const struct ethd_secp *secp;
    const struct ethd_header *const *hs;
    uint8_t (*out)[20];
    int *rc;
    size_t from, to;
};

static void *recover_worker(void *arg)
{
    struct recover_job *j = arg;
    for (size_t i = j->from; i < j->to; i++)
        j->rc[i] = recover_raw(j->secp, j->hs[i], j->out[i]);
    return NULL;
}

int ethd_clique_recover_batch(struct ethd_clique *c, const struct ethd_header *const *hs,
                              const uint8_t (*hashes)[32], size_t n, unsigned threads)
{
    if (n == 0)
        return 0;
    uint8_t(*out)[20] = malloc(n * 20);
    int *rcs = malloc(n * sizeof(int));
    if (!out || !rcs) {
        free(out);
        free(rcs);
        return ETHD_ENOMEM;
    }
    if (threads < 1)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads > n)
        threads = (unsigned)n;
    struct recover_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    size_t per = (n + threads - 1) / threads;
    for (unsigned t = 0; t < threads; t++) {
        jobs[t] = (struct recover_job){c->secp, hs, out, rcs, t * per, (t + 1) * per};
        if (jobs[t].to > n)
            jobs[t].to = n;
        if (jobs[t].from > n)
            jobs[t].from = n;
        /* The calling thread does the first share itself. */
        if (t > 0 && pthread_create(&tids[t], NULL, recover_worker, &jobs[t]) == 0)
            started[t] = true;
    }
    recover_worker(&jobs[0]);
    for (unsigned t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            recover_worker(&jobs[t]); /* thread creation failed: do it here */
    }
    for (size_t i = 0; i < n; i++) {
        if (rcs[i])
            continue;
        struct sig_slot *slot = sig_slot(c, hashes[i]);
        slot->valid = true;
        memcpy(slot->hash, hashes[i], 32);
        memcpy(slot->signer, out[i], 20);
    }
    free(out);
    free(rcs);
    return 0;
}

/* ---- public: verification ---- */

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

int ethd_clique_verify_fields(const struct ethd_clique *c, const struct ethd_header *h, char *why,
                              size_t whylen)
{
    bool checkpoint = h->number % c->epoch == 0;
    if (h->extra_len < ETHD_CLIQUE_VANITY) {
        fail(why, whylen, "extra-data shorter than the 32-byte vanity");
        return ETHD_EINVAL;
    }
    if (h->extra_len < ETHD_CLIQUE_VANITY + ETHD_CLIQUE_SEAL) {
        fail(why, whylen, "extra-data has no 65-byte seal");
        return ETHD_EINVAL;
    }
    size_t signer_bytes = h->extra_len - ETHD_CLIQUE_VANITY - ETHD_CLIQUE_SEAL;
    if (!checkpoint && signer_bytes != 0) {
        fail(why, whylen, "signer list in extra-data outside a checkpoint");
        return ETHD_EINVAL;
    }
    if (checkpoint && signer_bytes % 20 != 0) {
        fail(why, whylen, "checkpoint signer list is not a multiple of 20 bytes");
        return ETHD_EINVAL;
    }
    if (checkpoint && !all_zero(h->coinbase, 20)) {
        fail(why, whylen, "non-zero beneficiary at a checkpoint");
        return ETHD_EINVAL;
    }
    if (memcmp(h->nonce, nonce_auth, 8) != 0 && memcmp(h->nonce, nonce_drop, 8) != 0) {
        fail(why, whylen, "vote nonce is neither 0x00..00 nor 0xff..ff");
        return ETHD_EINVAL;
    }
    if (checkpoint && memcmp(h->nonce, nonce_drop, 8) != 0) {
        fail(why, whylen, "vote nonce at a checkpoint");
        return ETHD_EINVAL;
    }
    if (!all_zero(h->mix_hash, 32)) {
        fail(why, whylen, "non-zero mix digest");
        return ETHD_EINVAL;
    }
    if (memcmp(h->uncles_hash, empty_uncles_hash, 32) != 0) {
        fail(why, whylen, "uncles are not allowed in clique");
        return ETHD_EINVAL;
    }
    if (h->number > 0 && (!all_zero(h->difficulty, 31) ||
                          (h->difficulty[31] != ETHD_CLIQUE_DIFF_INTURN &&
                           h->difficulty[31] != ETHD_CLIQUE_DIFF_NOTURN))) {
        fail(why, whylen, "difficulty must be 1 or 2");
        return ETHD_EINVAL;
    }
    if (h->present & ETHD_HDR_WITHDRAWALS) {
        /* go-ethereum: "clique does not support shanghai fork". */
        fail(why, whylen, "clique does not support the Shanghai fork fields");
        return ETHD_EINVAL;
    }
    return 0;
}

struct walk_item {
    struct ethd_header h;
    uint8_t hash[32];
};

/* Snapshot after block (hash, number); borrowed from the cache (valid until
 * the next call that may evict). */
static int snapshot(struct ethd_clique *c, const uint8_t hash[32], uint64_t number,
                    const struct ethd_clique_src *src, struct snap **out, char *why,
                    size_t whylen)
{
    struct snap *s = cache_get(c, hash);
    if (s) {
        *out = s;
        return 0;
    }
    struct walk_item *items = NULL;
    size_t n = 0, cap = 0;
    uint8_t cur[32];
    memcpy(cur, hash, 32);
    uint64_t num = number;
    int rc = 0;
    struct snap *base = NULL;
    for (;;) {
        if ((base = cache_get(c, cur))) {
            base = snap_dup(base);
            if (!base)
                rc = ETHD_ENOMEM;
            break;
        }
        if (src->load_snapshot) {
            uint8_t *blob;
            size_t bl;
            if (src->load_snapshot(src->arg, cur, &blob, &bl) == 0) {
                rc = snap_decode(blob, bl, &base);
                free(blob);
                if (rc == 0 && (base->number != num || memcmp(base->hash, cur, 32) != 0)) {
                    snap_free(base);
                    base = NULL;
                    rc = ETHD_EINVAL;
                }
                if (rc)
                    fail(why, whylen, "stored clique snapshot of block %llu is corrupt",
                         (unsigned long long)num);
                break;
            }
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct walk_item *ni = realloc(items, nc * sizeof(*ni));
            if (!ni) {
                rc = ETHD_ENOMEM;
                break;
            }
            items = ni;
            cap = nc;
        }
        struct walk_item *it = &items[n];
        if ((rc = src->get_header(src->arg, cur, num, &it->h))) {
            fail(why, whylen, "clique snapshot: ancestor %llu unknown", (unsigned long long)num);
            break;
        }
        memcpy(it->hash, cur, 32);
        n++;
        bool trusted = num == 0;
        if (!trusted && num % c->epoch == 0) {
            /* A checkpoint whose parent we do not have (a chain started from
             * a checkpoint): its signer list is the snapshot. */
            struct ethd_header ph;
            int prc = src->get_header(src->arg, it->h.parent_hash, num - 1, &ph);
            if (prc == 0)
                ethd_header_free(&ph);
            trusted = prc == ETHD_ENOTFOUND;
        }
        if (trusted) {
            uint8_t(*list)[20];
            size_t nl;
            rc = ethd_clique_extra_signers(it->h.extra, it->h.extra_len, &list, &nl);
            if (rc || nl == 0) {
                if (!rc)
                    free(list);
                fail(why, whylen, "block %llu: no signer list in the checkpoint extra-data",
                     (unsigned long long)num);
                rc = ETHD_EINVAL;
                break;
            }
            base = snap_from_list(num, cur, (const uint8_t(*)[20])list, nl);
            free(list);
            if (!base)
                rc = ETHD_ENOMEM;
            ethd_header_free(&it->h);
            n--;
            break;
        }
        memcpy(cur, it->h.parent_hash, 32);
        num--;
    }
    if (!rc && n > 0) {
        /* Recover the walked headers' signers on both cores first. */
        if (n >= 64) {
            const struct ethd_header **hs = malloc(n * sizeof(*hs));
            uint8_t(*hh)[32] = malloc(n * 32);
            if (hs && hh) {
                for (size_t i = 0; i < n; i++) {
                    hs[i] = &items[i].h;
                    memcpy(hh[i], items[i].hash, 32);
                }
                ethd_clique_recover_batch(c, hs, (const uint8_t(*)[32])hh, n, 2);
            }
            free(hs);
            free(hh);
        }
        for (size_t i = n; i-- > 0 && !rc;) {
            uint8_t signer[20];
            struct snap *next = NULL;
            if ((rc = ethd_clique_recover(c, &items[i].h, items[i].hash, signer))) {
                fail(why, whylen, "block %llu: bad seal", (unsigned long long)items[i].h.number);
                break;
            }
            if (!(next = snap_dup(base))) {
                rc = ETHD_ENOMEM;
                break;
            }
            snap_free(base);
            base = next;
            rc = snap_apply(base, &items[i].h, items[i].hash, signer, c->epoch, why, whylen);
        }
    }
    for (size_t i = 0; i < n; i++)
        ethd_header_free(&items[i].h);
    free(items);
    if (rc) {
        snap_free(base);
        return rc;
    }
    *out = cache_put(c, base);
    return 0;
}

int ethd_clique_verify(struct ethd_clique *c, const struct ethd_header *h, const uint8_t hash[32],
                       const struct ethd_header *parent, const uint8_t parent_hash[32],
                       const struct ethd_clique_src *src, char *why, size_t whylen)
{
    int rc = ethd_clique_verify_fields(c, h, why, whylen);
    if (rc)
        return rc;
    if (h->number == 0 || parent->number + 1 != h->number ||
        memcmp(h->parent_hash, parent_hash, 32) != 0) {
        fail(why, whylen, "parent does not match");
        return ETHD_EINVAL;
    }
    if (parent->timestamp > UINT64_MAX - c->period || parent->timestamp + c->period > h->timestamp) {
        fail(why, whylen, "invalid timestamp: %llu is before parent %llu + period %llu",
             (unsigned long long)h->timestamp, (unsigned long long)parent->timestamp,
             (unsigned long long)c->period);
        return ETHD_EINVAL;
    }
    struct snap *s;
    if ((rc = snapshot(c, parent_hash, parent->number, src, &s, why, whylen)))
        return rc;
    if (h->number % c->epoch == 0) {
        size_t bytes = h->extra_len - ETHD_CLIQUE_VANITY - ETHD_CLIQUE_SEAL;
        if (bytes != s->n_signers * 20 ||
            memcmp(h->extra + ETHD_CLIQUE_VANITY, s->signers, bytes) != 0) {
            fail(why, whylen, "checkpoint signer list does not match the signer set");
            return ETHD_EINVAL;
        }
    }
    uint8_t signer[20];
    char hex[43];
    if ((rc = ethd_clique_recover(c, h, hash, signer))) {
        fail(why, whylen, "bad clique seal: the signature does not recover");
        return ETHD_ECRYPTO;
    }
    long idx = signer_index(s, signer);
    if (idx < 0) {
        ethd_hex_encode(signer, 20, hex);
        fail(why, whylen, "unauthorized signer %s", hex);
        return ETHD_EINVAL;
    }
    uint64_t limit = s->n_signers / 2 + 1;
    for (size_t i = 0; i < s->n_recents; i++) {
        if (memcmp(s->recents[i].signer, signer, 20) == 0 &&
            s->recents[i].number + limit > h->number) {
            ethd_hex_encode(signer, 20, hex);
            fail(why, whylen, "signer %s recently signed block %llu", hex,
                 (unsigned long long)s->recents[i].number);
            return ETHD_EINVAL;
        }
    }
    bool inturn = h->number % s->n_signers == (uint64_t)idx;
    uint8_t want = inturn ? ETHD_CLIQUE_DIFF_INTURN : ETHD_CLIQUE_DIFF_NOTURN;
    if (h->difficulty[31] != want) {
        fail(why, whylen, "wrong difficulty %u: the signer is %s, so it must be %u",
             h->difficulty[31], inturn ? "in turn" : "out of turn", want);
        return ETHD_EINVAL;
    }
    struct snap *next = snap_dup(s);
    if (!next)
        return ETHD_ENOMEM;
    if ((rc = snap_apply(next, h, hash, signer, c->epoch, why, whylen))) {
        snap_free(next);
        return rc;
    }
    cache_put(c, next);
    return 0;
}

int ethd_clique_signers(struct ethd_clique *c, const uint8_t hash[32], uint64_t number,
                        const struct ethd_clique_src *src, uint8_t (**signers)[20], size_t *n)
{
    struct snap *s;
    char why[160];
    int rc = snapshot(c, hash, number, src, &s, why, sizeof(why));
    if (rc)
        return rc;
    *signers = malloc(s->n_signers * 20 + 1);
    if (!*signers)
        return ETHD_ENOMEM;
    memcpy(*signers, s->signers, s->n_signers * 20);
    *n = s->n_signers;
    return 0;
}

int ethd_clique_snapshot_blob(struct ethd_clique *c, const uint8_t hash[32], uint64_t number,
                              const struct ethd_clique_src *src, struct ethd_buf *out)
{
    struct snap *s;
    char why[160];
    int rc = snapshot(c, hash, number, src, &s, why, sizeof(why));
    return rc ? rc : snap_encode(s, out);
}
