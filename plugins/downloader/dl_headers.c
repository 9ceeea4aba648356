/* Header sync (downloader.h): the target's head, the common ancestor, then
 * windows of a skeleton (every skeleton_span-th header, from the target) and
 * gap fills (from any idle peer), inserted in order through chain/1.
 *
 * Trust: the target's skeleton is the reference. A fill must be a linked run
 * ending at its anchor; a fill from another peer that disagrees is asked of
 * the target itself, and whichever of the two is contradicted by the
 * target's own fill is dropped. insert_headers verifies every header (seal,
 * signer set, gas, base fee, timestamps); a failure there is the target's
 * (the data matched its skeleton), so the target is dropped, nothing after
 * the failing header is stored, and the next cycle starts from what was. */
#include "downloader.h"

#include <ethd/keccak.h>
#include <ethd/rlp.h>

#include <stdlib.h>
#include <string.h>

#define ANCESTOR_SPAN 64

/* ---- decoding an answer ---- */

/* Decode a BlockHeaders list into caller-freed arrays (free_headers). */
static int decode_headers(const uint8_t *items, size_t len, struct ethd_header **hs,
                          uint8_t (**hashes)[32], size_t *n)
{
    struct ethd_rlp_item list, it;
    struct ethd_rlp_iter iter;
    size_t count = 0;
    *hs = NULL;
    *hashes = NULL;
    *n = 0;
    if (ethd_rlp_decode(items, len, &list) || ethd_rlp_list_count(&list, &count))
        return ETHD_EPROTO;
    if (count == 0)
        return 0;
    *hs = calloc(count, sizeof(**hs));
    *hashes = malloc(count * 32);
    if (!*hs || !*hashes)
        return ETHD_ENOMEM;
    ethd_rlp_iter_init(&iter, &list);
    for (size_t i = 0; i < count; i++) {
        if (ethd_rlp_iter_next(&iter, &it))
            return ETHD_EPROTO;
        (*n)++;
        if (ethd_header_decode_item(&it, &(*hs)[i]))
            return ETHD_EPROTO;
        ethd_keccak256(it.raw, it.raw_len, (*hashes)[i]);
    }
    return 0;
}

static void free_headers(struct ethd_header *hs, uint8_t (*hashes)[32], size_t n)
{
    for (size_t i = 0; hs && i < n; i++)
        ethd_header_free(&hs[i]);
    free(hs);
    free(hashes);
}

/* ---- segments ---- */

static void seg_clear(struct dl_seg *s)
{
    if (s->headers)
        free_headers(s->headers, s->hashes, s->count);
    s->headers = NULL;
    s->hashes = NULL;
    if (s->sender)
        ethd_peer_unref(s->sender);
    s->sender = NULL;
}

void ethd_dl_headers_reset(struct dl *dl)
{
    for (size_t i = 0; i < dl->n_segs; i++) {
        seg_clear(&dl->segs[i]);
        if (dl->segs[i].suspect)
            ethd_peer_unref(dl->segs[i].suspect);
    }
    free(dl->segs);
    dl->segs = NULL;
    dl->n_segs = dl->seg_done = 0;
    dl->skeleton_inflight = false;
}

static void window_start(struct dl *dl);

static void bad_target(struct dl *dl, const char *why)
{
    if (dl->target)
        ethd_dl_drop(dl, dl->target, ETHD_DISC_USELESS_PEER, why);
    else
        ethd_dl_abort(dl, why);
}

/* ---- ancestor ---- */

static bool canonical_at(struct dl *dl, uint64_t number, const uint8_t hash[32])
{
    uint8_t h[32];
    return dl->chain->hash_by_number(dl->chain_impl, number, h) == 0 && memcmp(h, hash, 32) == 0;
}

static void ancestor_found(struct dl *dl, uint64_t number)
{
    dl->from = number + 1;
    if (dl->chain->hash_by_number(dl->chain_impl, number, dl->from_parent)) {
        ethd_dl_abort(dl, "the common ancestor is not canonical");
        return;
    }
    ETHD_DEBUG(dl->log, "sync ancestor", "number=%llu target=%llu",
               (unsigned long long)number, (unsigned long long)dl->target_number);
    dl->phase = PH_HEADERS;
    window_start(dl);
}

static void ancestor_request(struct dl *dl, uint64_t origin, uint64_t amount, bool reverse);

static void on_ancestor(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                        size_t len)
{
    struct dl_req *r = arg;
    struct dl *dl = r->dl;
    (void)peer;
    struct ethd_header *hs = NULL;
    uint8_t(*hashes)[32] = NULL;
    size_t n = 0;
    int rc = status == 0 ? decode_headers(items, len, &hs, &hashes, &n) : 0;
    struct dl_peer *p = ethd_dl_reply_begin(r, status, (uint32_t)n);
    if (!p || dl->phase != PH_ANCESTOR || p != dl->target) {
        if (p == NULL && r->gen == dl->gen && dl->phase == PH_ANCESTOR && status != 0)
            ethd_dl_abort(dl, "the target did not answer the ancestor search");
        goto out;
    }
    if (rc) {
        bad_target(dl, "undecodable headers");
        goto out;
    }
    if (n == 0) {
        ethd_dl_abort(dl, "the target sent no headers for the ancestor search");
        goto out;
    }
    if (r->n > 1) {
        /* The span: [origin, origin-1, ...] (reverse). */
        uint64_t origin = r->task;
        for (size_t i = 0; i < n; i++) {
            if (hs[i].number != origin - i || n > r->n) {
                bad_target(dl, "ancestor span out of order");
                goto out;
            }
            if (canonical_at(dl, hs[i].number, hashes[i])) {
                ancestor_found(dl, hs[i].number);
                goto out;
            }
        }
        uint64_t lowest = origin - (n - 1);
        if (lowest == 0) {
            bad_target(dl, "a different genesis");
            goto out;
        }
        dl->anc_lo = 0;
        dl->anc_hi = lowest;
    } else {
        uint64_t mid = r->task;
        if (hs[0].number != mid) {
            bad_target(dl, "ancestor probe with the wrong number");
            goto out;
        }
        if (canonical_at(dl, mid, hashes[0]))
            dl->anc_lo = mid;
        else
            dl->anc_hi = mid;
    }
    if (dl->anc_hi - dl->anc_lo <= 1)
        ancestor_found(dl, dl->anc_lo);
    else
        ancestor_request(dl, dl->anc_lo + (dl->anc_hi - dl->anc_lo) / 2, 1, false);
out:
    free_headers(hs, hashes, n);
    ethd_dl_req_free(r);
}

static void ancestor_request(struct dl *dl, uint64_t origin, uint64_t amount, bool reverse)
{
    struct ethd_eth_headers_query q = {.number = origin, .amount = amount, .reverse = reverse};
    if (ethd_dl_request_headers(dl, dl->target, &q, (size_t)origin, on_ancestor))
        ethd_dl_abort(dl, "cannot ask the target for headers");
}

static void find_ancestor(struct dl *dl)
{
    dl->phase = PH_ANCESTOR;
    struct ethd_chain_head hh;
    dl->chain->head_header(dl->chain_impl, &hh);
    uint64_t top = hh.number < dl->target_number ? hh.number : dl->target_number;
    if (top == 0) {
        ancestor_found(dl, 0);
        return;
    }
    uint64_t amount = top + 1 < ANCESTOR_SPAN ? top + 1 : ANCESTOR_SPAN;
    ancestor_request(dl, top, amount, true);
}

/* ---- the target's head ---- */

static void on_head(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                    size_t len)
{
    struct dl_req *r = arg;
    struct dl *dl = r->dl;
    (void)peer;
    struct ethd_header *hs = NULL;
    uint8_t(*hashes)[32] = NULL;
    size_t n = 0;
    int rc = status == 0 ? decode_headers(items, len, &hs, &hashes, &n) : 0;
    struct dl_peer *p = ethd_dl_reply_begin(r, status, (uint32_t)n);
    if (!p || dl->phase != PH_HEAD || p != dl->target) {
        if (!p && r->gen == dl->gen && dl->phase == PH_HEAD)
            ethd_dl_abort(dl, "the target did not answer for its head");
        goto out;
    }
    if (rc || n != 1 || memcmp(hashes[0], p->head.hash, 32) != 0) {
        if (rc || n >= 1)
            bad_target(dl, "a wrong answer for its own head");
        else
            ethd_dl_abort(dl, "the target does not serve its head");
        goto out;
    }
    p->head.number = hs[0].number;
    dl->target_number = hs[0].number;
    memcpy(dl->target_hash, hashes[0], 32);
    find_ancestor(dl);
out:
    free_headers(hs, hashes, n);
    ethd_dl_req_free(r);
}

void ethd_dl_headers_start(struct dl *dl)
{
    ethd_dl_headers_reset(dl);
    struct dl_peer *t = dl->target;
    memcpy(dl->target_hash, t->head.hash, 32);
    if (t->head.number != ETHD_SYNC_NUMBER_UNKNOWN && t->head.version >= 69) {
        dl->target_number = t->head.number;
        find_ancestor(dl);
        return;
    }
    /* eth/66-68 Status carries no number: ask for the head header. */
    dl->phase = PH_HEAD;
    struct ethd_eth_headers_query q = {.by_hash = true, .amount = 1};
    memcpy(q.hash, t->head.hash, 32);
    if (ethd_dl_request_headers(dl, t, &q, 0, on_head))
        ethd_dl_abort(dl, "cannot ask the target for its head");
}

/* ---- skeleton and fill ---- */

static void on_skeleton(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                        size_t len)
{
    struct dl_req *r = arg;
    struct dl *dl = r->dl;
    (void)peer;
    struct ethd_header *hs = NULL;
    uint8_t(*hashes)[32] = NULL;
    size_t n = 0;
    int rc = status == 0 ? decode_headers(items, len, &hs, &hashes, &n) : 0;
    struct dl_peer *p = ethd_dl_reply_begin(r, status, (uint32_t)n);
    if (!p || dl->phase != PH_HEADERS || p != dl->target) {
        if (r->gen == dl->gen && dl->phase == PH_HEADERS) {
            dl->skeleton_inflight = false;
            if (status != 0)
                ethd_dl_abort(dl, "the target did not answer the skeleton");
        }
        goto out;
    }
    dl->skeleton_inflight = false;
    if (rc || n > r->n) {
        bad_target(dl, "a malformed skeleton");
        goto out;
    }
    size_t anchored = 0;
    for (size_t i = 0; i < dl->n_segs && dl->segs[i].has_anchor; i++)
        anchored++;
    for (size_t i = 0; i < n; i++) {
        if (hs[i].number != dl->segs[i].start + dl->segs[i].count - 1) {
            bad_target(dl, "a skeleton header with the wrong number");
            goto out;
        }
        memcpy(dl->segs[i].anchor, hashes[i], 32);
    }
    if (n < anchored) {
        /* The target gave fewer anchors than asked: this window shrinks to
         * what it gave (nothing: the sync stops until the next cycle). */
        for (size_t i = n; i < dl->n_segs; i++)
            seg_clear(&dl->segs[i]);
        dl->n_segs = n;
        if (n == 0) {
            /* Some clients (EthereumJS) answer skip queries with nothing:
             * from this target, fetch plain runs checked by linkage. */
            ETHD_INFO(dl->log, "sync without skeleton", "addr=%s reason=\"empty skeleton\"",
                      ethd_peer_remote_addr(p->peer));
            p->no_skeleton = true;
            window_start(dl);
            goto out;
        }
    }
    for (size_t i = 0; i < dl->n_segs; i++)
        if (dl->segs[i].has_anchor)
            dl->segs[i].state = SEG_EMPTY;
    ethd_dl_headers_pump(dl);
out:
    free_headers(hs, hashes, n);
    ethd_dl_req_free(r);
}

static void window_start(struct dl *dl)
{
    ethd_dl_headers_reset(dl);
    /* Follow the target while it moves. */
    if (dl->target && dl->target->head.number != ETHD_SYNC_NUMBER_UNKNOWN &&
        dl->target->head.number > dl->target_number)
        dl->target_number = dl->target->head.number;
    if (dl->from > dl->target_number) {
        ethd_dl_headers_done(dl);
        return;
    }
    uint64_t remaining = dl->target_number - dl->from + 1;
    uint64_t span = dl->skeleton_span;
    uint64_t anchors = remaining / span;
    if (anchors > dl->skeleton_anchors)
        anchors = dl->skeleton_anchors;
    bool runs_only = dl->target && dl->target->no_skeleton;
    if (runs_only)
        anchors = 0;
    uint64_t tail = anchors == dl->skeleton_anchors ? 0 : remaining - anchors * span;
    uint64_t tail_cap = runs_only ? ethd_dl_rate_request_size(&dl->target->rec.rate[DL_HEADERS],
                                                              &dl->rate, DL_HEADERS)
                                  : dl->rate.max_items[DL_HEADERS];
    if (tail > tail_cap)
        tail = tail_cap;
    dl->n_segs = (size_t)(anchors + (tail ? 1 : 0));
    dl->segs = calloc(dl->n_segs, sizeof(*dl->segs));
    if (!dl->segs) {
        dl->n_segs = 0;
        ethd_dl_abort(dl, "out of memory");
        return;
    }
    for (uint64_t i = 0; i < anchors; i++) {
        dl->segs[i].start = dl->from + i * span;
        dl->segs[i].count = (uint32_t)span;
        dl->segs[i].has_anchor = true;
        dl->segs[i].state = SEG_INFLIGHT; /* until the skeleton arrives */
    }
    if (tail) {
        struct dl_seg *s = &dl->segs[anchors];
        s->start = dl->from + anchors * span;
        s->count = (uint32_t)tail;
        s->from_target_only = true; /* nothing to check it against but linkage */
        s->state = SEG_EMPTY;
    }
    if (anchors) {
        struct ethd_eth_headers_query q = {
            .number = dl->from + span - 1, .amount = anchors, .skip = span - 1};
        dl->skeleton_inflight = true;
        if (ethd_dl_request_headers(dl, dl->target, &q, 0, on_skeleton)) {
            dl->skeleton_inflight = false;
            ethd_dl_abort(dl, "cannot ask the target for the skeleton");
            return;
        }
    }
    ethd_dl_headers_pump(dl);
}

/* The lowest filled segments, in order: link, insert, advance. */
static void insert_ready(struct dl *dl)
{
    while (dl->phase == PH_HEADERS && dl->seg_done < dl->n_segs &&
           dl->segs[dl->seg_done].state == SEG_FILLED) {
        struct dl_seg *s = &dl->segs[dl->seg_done];
        if (memcmp(s->headers[0].parent_hash, dl->from_parent, 32) != 0) {
            struct dl_peer *sender = ethd_dl_peer_of(dl, s->sender);
            if (!sender || sender == dl->target) {
                bad_target(dl, "headers that do not link to the previous run");
                return;
            }
            /* Ask the target itself; the sender is the suspect. */
            if (s->suspect)
                ethd_peer_unref(s->suspect);
            s->suspect = s->sender;
            ethd_peer_ref(s->suspect);
            seg_clear(s);
            s->state = SEG_EMPTY;
            s->from_target_only = true;
            ethd_dl_headers_pump(dl);
            return;
        }
        struct ethd_chain_insert_result res;
        int rc = dl->chain->insert_headers(dl->chain_impl, s->headers, s->count, &res);
        dl->headers_done += res.n_new;
        if (rc) {
            ETHD_WARN(dl->log, "sync headers refused", "number=%llu reason=\"%s\"",
                      (unsigned long long)res.bad_number, res.reason);
            bad_target(dl, res.reason[0] ? res.reason : "invalid headers");
            return;
        }
        dl->from = s->start + s->count;
        memcpy(dl->from_parent, s->hashes[s->count - 1], 32);
        seg_clear(s);
        dl->seg_done++;
    }
    if (dl->phase == PH_HEADERS && dl->seg_done == dl->n_segs && !dl->skeleton_inflight)
        window_start(dl);
}

static void on_fill(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                    size_t len)
{
    struct dl_req *r = arg;
    struct dl *dl = r->dl;
    (void)peer;
    struct ethd_header *hs = NULL;
    uint8_t(*hashes)[32] = NULL;
    size_t n = 0;
    int rc = status == 0 ? decode_headers(items, len, &hs, &hashes, &n) : 0;
    struct dl_peer *p = ethd_dl_reply_begin(r, status, (uint32_t)n);
    struct dl_seg *s = r->gen == dl->gen && r->task < dl->n_segs ? &dl->segs[r->task] : NULL;
    if (s && s->state == SEG_INFLIGHT && (!p || status != 0))
        s->state = SEG_EMPTY; /* asked again of someone */
    if (!p || !s || dl->phase != PH_HEADERS || s->state != SEG_INFLIGHT)
        goto out;
    s->state = SEG_EMPTY;
    if (rc) {
        ethd_dl_drop(dl, p, ETHD_DISC_PROTOCOL_ERROR, "undecodable headers");
        goto out;
    }
    bool tail = !s->has_anchor;
    if (n == 0 || (n < s->count && !tail)) {
        /* It lacks them: not asked of it again for this run. */
        if (s->has_anchor)
            ethd_dl_peer_lacks(&p->rec, s->anchor);
        if (p == dl->target && (tail || n == 0))
            ethd_dl_abort(dl, "the target lacks the headers it announced");
        goto out;
    }
    const char *bad = NULL;
    if (n > s->count)
        bad = "more headers than asked";
    for (size_t i = 0; !bad && i < n; i++) {
        if (hs[i].number != s->start + i)
            bad = "headers out of order";
        else if (i > 0 && memcmp(hs[i].parent_hash, hashes[i - 1], 32) != 0)
            bad = "headers that do not link";
    }
    if (!bad && s->has_anchor && memcmp(hashes[n - 1], s->anchor, 32) != 0)
        bad = "headers that do not reach the skeleton";
    if (bad) {
        if (p == dl->target) {
            bad_target(dl, bad);
        } else {
            if (s->suspect)
                ethd_peer_unref(s->suspect);
            s->suspect = p->peer;
            ethd_peer_ref(s->suspect);
            s->from_target_only = true;
            ETHD_DEBUG(dl->log, "sync fill disagrees", "addr=%s number=%llu why=\"%s\"",
                       ethd_peer_remote_addr(p->peer), (unsigned long long)s->start, bad);
            ethd_dl_headers_pump(dl);
        }
        goto out;
    }
    if (s->suspect) {
        /* The target's own fill agrees with its skeleton: the earlier
         * sender was wrong. */
        struct dl_peer *sp = ethd_dl_peer_of(dl, s->suspect);
        if (sp && sp != p)
            ethd_dl_drop(dl, sp, ETHD_DISC_USELESS_PEER, "headers that contradict the target");
        ethd_peer_unref(s->suspect);
        s->suspect = NULL;
    }
    s->count = (uint32_t)n; /* the tail may be shorter */
    s->headers = hs;
    s->hashes = hashes;
    s->sender = p->peer;
    ethd_peer_ref(p->peer);
    s->state = SEG_FILLED;
    hs = NULL;
    hashes = NULL;
    n = 0;
    insert_ready(dl);
    if (dl->phase == PH_HEADERS)
        ethd_dl_headers_pump(dl);
out:
    free_headers(hs, hashes, n);
    ethd_dl_req_free(r);
}

void ethd_dl_headers_pump(struct dl *dl)
{
    if (dl->phase != PH_HEADERS)
        return;
    for (size_t i = dl->seg_done; i < dl->n_segs; i++) {
        struct dl_seg *s = &dl->segs[i];
        if (s->state != SEG_EMPTY)
            continue;
        struct dl_peer *p = NULL;
        if (s->from_target_only) {
            if (dl->target && dl->target->rec.rate[DL_HEADERS].idle && !dl->target->dropped)
                p = dl->target;
        } else {
            /* The best idle peer that has not said it lacks this run. */
            for (struct dl_peer *q = dl->peers; q; q = q->next) {
                if (q->dropped || !q->rec.rate[DL_HEADERS].idle ||
                    (s->has_anchor && ethd_dl_peer_lacking(&q->rec, s->anchor)))
                    continue;
                if (!p || q->rec.rate[DL_HEADERS].capacity > p->rec.rate[DL_HEADERS].capacity)
                    p = q;
            }
            if (!p && dl->target && !dl->target->dropped &&
                dl->target->rec.rate[DL_HEADERS].idle)
                p = dl->target; /* everyone else lacks it: the target must have it */
        }
        if (!p)
            break;
        struct ethd_eth_headers_query q = {.number = s->start, .amount = s->count};
        s->state = SEG_INFLIGHT;
        if (ethd_dl_request_headers(dl, p, &q, i, on_fill)) {
            s->state = SEG_EMPTY;
            break;
        }
    }
    insert_ready(dl);
}
