/* Clique signer snapshot for the sealer (see snapshot.h). The vote rules
 * are EIP-225's "Voting" section with go-ethereum's tally semantics: one
 * open vote per (signer, target); a vote counts only if it would change the
 * target's membership; a target with more than half of the signers' votes
 * is added or dropped, the votes about it are discarded, and a dropped
 * signer's own open votes go with it; every checkpoint clears all votes. */
#include "snapshot.h"

#include "seal.h"

#include <ethd/error.h>
#include <ethd/hex.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_EPOCH 30000

static const uint8_t nonce_auth[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t nonce_drop[8] = {0};
static const uint8_t zero_addr[20] = {0};

static void fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

void ethd_sealer_snap_init(struct ethd_sealer_snap *s, uint64_t epoch)
{
    memset(s, 0, sizeof(*s));
    s->epoch = epoch ? epoch : DEFAULT_EPOCH;
}

void ethd_sealer_snap_free(struct ethd_sealer_snap *s)
{
    free(s->signers);
    free(s->votes);
    uint64_t epoch = s->epoch;
    ethd_sealer_snap_init(s, epoch);
}

bool ethd_sealer_snap_is_signer(const struct ethd_sealer_snap *s, const uint8_t addr[20],
                                size_t *index)
{
    for (size_t i = 0; i < s->n_signers; i++) {
        int c = memcmp(s->signers[i], addr, 20);
        if (c == 0) {
            if (index)
                *index = i;
            return true;
        }
        if (c > 0)
            break;
    }
    return false;
}

bool ethd_sealer_snap_in_turn(const struct ethd_sealer_snap *s, uint64_t number,
                              const uint8_t addr[20])
{
    size_t i;
    return s->n_signers && ethd_sealer_snap_is_signer(s, addr, &i) &&
           number % s->n_signers == i;
}

/* ---- signer list changes ---- */

static int add_signer(struct ethd_sealer_snap *s, const uint8_t addr[20])
{
    size_t pos = 0;
    while (pos < s->n_signers && memcmp(s->signers[pos], addr, 20) < 0)
        pos++;
    if (pos < s->n_signers && memcmp(s->signers[pos], addr, 20) == 0)
        return 0;
    uint8_t(*a)[20] = realloc(s->signers, (s->n_signers + 1) * 20);
    if (!a)
        return ETHD_ENOMEM;
    s->signers = a;
    memmove(a[pos + 1], a[pos], (s->n_signers - pos) * 20);
    memcpy(a[pos], addr, 20);
    s->n_signers++;
    return 0;
}

static void drop_signer(struct ethd_sealer_snap *s, const uint8_t addr[20])
{
    size_t i;
    if (!ethd_sealer_snap_is_signer(s, addr, &i))
        return;
    memmove(s->signers[i], s->signers[i + 1], (s->n_signers - i - 1) * 20);
    s->n_signers--;
}

/* The checkpoint's extra-data: vanity || signers (20 bytes each) || seal. */
static int load_checkpoint(struct ethd_sealer_snap *s, const struct ethd_header *h, char *why,
                           size_t whylen)
{
    size_t fixed = ETHD_SEALER_VANITY + ETHD_SEALER_SEAL;
    if (h->extra_len < fixed + 20 || (h->extra_len - fixed) % 20) {
        fail(why, whylen, "checkpoint block %llu has no valid signer list in its extra-data",
             (unsigned long long)h->number);
        return ETHD_EINVAL;
    }
    s->n_signers = 0;
    s->n_votes = 0;
    size_t n = (h->extra_len - fixed) / 20;
    for (size_t i = 0; i < n; i++) {
        int rc = add_signer(s, h->extra + ETHD_SEALER_VANITY + 20 * i);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- votes ---- */

static size_t tally(const struct ethd_sealer_snap *s, const uint8_t addr[20])
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_votes; i++)
        n += memcmp(s->votes[i].addr, addr, 20) == 0;
    return n;
}

static void remove_vote(struct ethd_sealer_snap *s, size_t i)
{
    memmove(&s->votes[i], &s->votes[i + 1], (s->n_votes - i - 1) * sizeof(*s->votes));
    s->n_votes--;
}

/* Remove every vote whose signer (by_signer) or target equals addr. */
static void remove_votes(struct ethd_sealer_snap *s, const uint8_t addr[20], bool by_signer)
{
    for (size_t i = 0; i < s->n_votes;) {
        const uint8_t *k = by_signer ? s->votes[i].signer : s->votes[i].addr;
        if (memcmp(k, addr, 20) == 0)
            remove_vote(s, i);
        else
            i++;
    }
}

static int apply_vote(struct ethd_sealer_snap *s, const uint8_t signer[20],
                      const struct ethd_header *h)
{
    bool authorize;
    if (memcmp(h->nonce, nonce_auth, 8) == 0)
        authorize = true;
    else if (memcmp(h->nonce, nonce_drop, 8) == 0)
        authorize = false;
    else
        return ETHD_EINVAL; /* the chain refuses such headers */
    /* A signer's newer vote about the same target replaces its older one. */
    for (size_t i = 0; i < s->n_votes; i++) {
        if (memcmp(s->votes[i].signer, signer, 20) == 0 &&
            memcmp(s->votes[i].addr, h->coinbase, 20) == 0) {
            remove_vote(s, i);
            break;
        }
    }
    /* Only a vote that would change membership counts. */
    if (ethd_sealer_snap_is_signer(s, h->coinbase, NULL) != authorize) {
        if (s->n_votes == s->cap_votes) {
            size_t cap = s->cap_votes ? 2 * s->cap_votes : 8;
            struct ethd_sealer_vote *v = realloc(s->votes, cap * sizeof(*v));
            if (!v)
                return ETHD_ENOMEM;
            s->votes = v;
            s->cap_votes = cap;
        }
        struct ethd_sealer_vote *v = &s->votes[s->n_votes++];
        memcpy(v->signer, signer, 20);
        memcpy(v->addr, h->coinbase, 20);
        v->authorize = authorize;
    }
    /* The tally is checked even when this vote did not count: the signer
     * set may have shrunk since the earlier votes were cast. All open votes
     * about one target point the same way (a passed vote clears them). */
    size_t n = tally(s, h->coinbase);
    if (n == 0 || n <= s->n_signers / 2)
        return 0;
    for (size_t i = 0; i < s->n_votes; i++) {
        if (memcmp(s->votes[i].addr, h->coinbase, 20) == 0) {
            authorize = s->votes[i].authorize;
            break;
        }
    }
    if (authorize) {
        int rc = add_signer(s, h->coinbase);
        if (rc)
            return rc;
    } else {
        drop_signer(s, h->coinbase);
        remove_votes(s, h->coinbase, true);
    }
    remove_votes(s, h->coinbase, false);
    return 0;
}

/* ---- walking the chain ---- */

static int apply_header(struct ethd_sealer_snap *s, const struct ethd_secp *secp,
                        const struct ethd_header *h, char *why, size_t whylen)
{
    if (h->number % s->epoch == 0)
        return load_checkpoint(s, h, why, whylen);
    /* A header without a vote changes nothing, unless its signer had an
     * open vote about the zero address, which this one would replace. */
    if (memcmp(h->coinbase, zero_addr, 20) == 0 && memcmp(h->nonce, nonce_drop, 8) == 0 &&
        tally(s, zero_addr) == 0)
        return 0;
    uint8_t signer[20];
    int rc = ethd_sealer_recover(secp, h, signer);
    if (!rc)
        rc = apply_vote(s, signer, h);
    if (rc) {
        fail(why, whylen, "block %llu: cannot apply its vote: %s", (unsigned long long)h->number,
             ethd_strerror(rc));
        return rc == ETHD_ENOMEM ? rc : ETHD_EINVAL;
    }
    return 0;
}

static int rebuild_from_checkpoint(struct ethd_sealer_snap *s,
                                   const struct ethd_chain_iface_v1 *chain, void *impl,
                                   uint64_t number, char *why, size_t whylen)
{
    uint64_t cp = number - number % s->epoch;
    struct ethd_header h;
    memset(&h, 0, sizeof(h));
    int rc = chain->header_by_number(impl, cp, &h);
    if (rc) {
        fail(why, whylen, "checkpoint block %llu: %s", (unsigned long long)cp, ethd_strerror(rc));
        return rc;
    }
    s->n_signers = 0;
    s->n_votes = 0;
    rc = load_checkpoint(s, &h, why, whylen);
    if (!rc)
        rc = ethd_header_hash(&h, s->hash);
    s->number = cp;
    ethd_header_free(&h);
    return rc;
}

int ethd_sealer_snap_update(struct ethd_sealer_snap *s, const struct ethd_chain_iface_v1 *chain,
                            void *impl, const struct ethd_secp *secp, uint64_t number,
                            const uint8_t hash[32], char *why, size_t whylen)
{
    int rc = 0;
    uint8_t canon[32];
    /* Incremental when the snapshot's block is still canonical below the
     * target (no reorg since); otherwise start again at the checkpoint. */
    bool extend = s->valid && s->number <= number &&
                  chain->hash_by_number(impl, s->number, canon) == 0 &&
                  memcmp(canon, s->hash, 32) == 0;
    s->valid = false;
    if (!extend && (rc = rebuild_from_checkpoint(s, chain, impl, number, why, whylen)))
        return rc;
    struct ethd_header h;
    memset(&h, 0, sizeof(h));
    while (s->number < number) {
        uint8_t hh[32];
        if ((rc = chain->header_by_number(impl, s->number + 1, &h))) {
            fail(why, whylen, "block %llu: %s", (unsigned long long)s->number + 1,
                 ethd_strerror(rc));
            return rc;
        }
        if (memcmp(h.parent_hash, s->hash, 32) != 0) {
            ethd_header_free(&h);
            fail(why, whylen, "the canonical chain changed at block %llu",
                 (unsigned long long)s->number + 1);
            return ETHD_EAGAIN;
        }
        rc = ethd_header_hash(&h, hh);
        if (!rc)
            rc = apply_header(s, secp, &h, why, whylen);
        ethd_header_free(&h);
        if (rc)
            return rc;
        memcpy(s->hash, hh, 32);
        s->number++;
    }
    if (memcmp(s->hash, hash, 32) != 0) {
        fail(why, whylen, "block %llu is no longer canonical", (unsigned long long)number);
        return ETHD_EAGAIN;
    }
    s->valid = true;
    return 0;
}

int ethd_sealer_snap_recent(const struct ethd_sealer_snap *s,
                            const struct ethd_chain_iface_v1 *chain, void *impl,
                            const struct ethd_secp *secp, const uint8_t addr[20], bool *recent,
                            uint64_t *last)
{
    *recent = false;
    /* The block after s->number may not be sealed by the signer of any of
     * the last floor(n/2) blocks (go-ethereum: seen > number - limit with
     * limit = n/2 + 1). The genesis has no signer. */
    uint64_t window = s->n_signers / 2;
    for (uint64_t k = 0; k < window && k < s->number; k++) {
        struct ethd_header h;
        memset(&h, 0, sizeof(h));
        uint8_t signer[20];
        int rc = chain->header_by_number(impl, s->number - k, &h);
        if (!rc)
            rc = ethd_sealer_recover(secp, &h, signer);
        ethd_header_free(&h);
        if (rc)
            return rc;
        if (memcmp(signer, addr, 20) == 0) {
            *recent = true;
            if (last)
                *last = s->number - k;
            return 0;
        }
    }
    return 0;
}
