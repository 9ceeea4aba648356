/* Full sync, after the headers (downloader.h): bodies for the stored
 * canonical headers above the head block, from every idle peer, each body
 * matched to its header by the transactions root, uncles hash and
 * withdrawals root before it is kept; then insert_blocks in order. A block
 * whose header says it is empty gets its empty body without a request.
 *
 * Receipts come after: the stored blocks with transactions whose receipts
 * are missing are queued (a scan from block 1 that also finds what a
 * restart left) and fetched from any idle peer that has not said it lacks
 * them; insert_blocks with the stored block and the receipt list adds them
 * after checking the receipts root. A block no peer has receipts for stays
 * queued ("receipts pending") and is tried again when peers come. */
#include "downloader.h"

#include <ethd/rlp.h>
#include <ethd/trie.h>

#include <stdlib.h>
#include <string.h>

#define RCPT_QUEUE 4096

/* ---- bodies ---- */

static void blk_clear(struct dl_blk *b)
{
    free(b->body);
    b->body = NULL;
    if (b->sender)
        ethd_peer_unref(b->sender);
    b->sender = NULL;
}

void ethd_dl_blocks_reset(struct dl *dl)
{
    for (size_t i = 0; i < dl->n_blks; i++)
        blk_clear(&dl->blks[i]);
    free(dl->blks);
    dl->blks = NULL;
    dl->n_blks = dl->blk_done = 0;
    dl->blk_next = 0;
}

bool ethd_dl_blocks_pending(const struct dl *dl)
{
    return dl->blk_done < dl->n_blks;
}

static const uint8_t empty_list_hash[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47};

static bool body_is_empty(const struct dl_blk *b)
{
    return memcmp(b->tx_root, ethd_trie_empty_root, 32) == 0 &&
           memcmp(b->uncles_hash, empty_list_hash, 32) == 0 &&
           (!b->has_wd || memcmp(b->wd_root, ethd_trie_empty_root, 32) == 0);
}

/* Add the next canonical blocks (up to the head header) to the window. */
static void refill(struct dl *dl)
{
    struct ethd_chain_head hh, hb;
    dl->chain->head_header(dl->chain_impl, &hh);
    dl->chain->head_block(dl->chain_impl, &hb);
    if (dl->blk_done == dl->n_blks) {
        for (size_t i = 0; i < dl->n_blks; i++)
            blk_clear(&dl->blks[i]);
        dl->n_blks = dl->blk_done = 0;
    } else if (dl->blk_done > dl->blocks_window / 2) {
        /* Slide: nothing below blk_done is referenced any more. */
        memmove(dl->blks, dl->blks + dl->blk_done, (dl->n_blks - dl->blk_done) * sizeof(*dl->blks));
        dl->n_blks -= dl->blk_done;
        dl->blk_done = 0;
    }
    if (dl->n_blks == 0 || dl->blk_next <= hb.number)
        dl->blk_next = hb.number + 1;
    if (!dl->blks && !(dl->blks = calloc(dl->blocks_window, sizeof(*dl->blks))))
        return;
    while (dl->n_blks < dl->blocks_window && dl->blk_next <= hh.number) {
        struct ethd_header h;
        uint8_t hash[32];
        if (dl->chain->hash_by_number(dl->chain_impl, dl->blk_next, hash) ||
            dl->chain->header_by_hash(dl->chain_impl, hash, &h))
            break;
        struct dl_blk *b = &dl->blks[dl->n_blks];
        memset(b, 0, sizeof(*b));
        b->number = dl->blk_next;
        memcpy(b->hash, hash, 32);
        memcpy(b->tx_root, h.tx_root, 32);
        memcpy(b->uncles_hash, h.uncles_hash, 32);
        b->has_wd = (h.present & ETHD_HDR_WITHDRAWALS) != 0;
        memcpy(b->wd_root, h.withdrawals_root, 32);
        ethd_header_free(&h);
        if (body_is_empty(b)) {
            static const uint8_t e2[] = {0xc2, 0xc0, 0xc0}, e3[] = {0xc3, 0xc0, 0xc0, 0xc0};
            b->body_len = b->has_wd ? sizeof(e3) : sizeof(e2);
            b->body = malloc(b->body_len);
            if (!b->body)
                break;
            memcpy(b->body, b->has_wd ? e3 : e2, b->body_len);
            b->have = true;
        }
        dl->n_blks++;
        dl->blk_next++;
    }
}

static struct dl_blk *find_blk(struct dl *dl, const uint8_t hash[32])
{
    for (size_t i = dl->blk_done; i < dl->n_blks; i++)
        if (memcmp(dl->blks[i].hash, hash, 32) == 0)
            return &dl->blks[i];
    return NULL;
}

static bool body_matches(const struct dl_blk *b, const struct ethd_body *body)
{
    uint8_t r[32];
    if (ethd_body_tx_root(body, r) || memcmp(r, b->tx_root, 32) != 0)
        return false;
    if (ethd_body_uncles_hash(body, r) || memcmp(r, b->uncles_hash, 32) != 0)
        return false;
    if (b->has_wd != body->has_withdrawals)
        return false;
    if (b->has_wd && (ethd_body_withdrawals_root(body, r) || memcmp(r, b->wd_root, 32) != 0))
        return false;
    return true;
}

static void insert_bodies(struct dl *dl);

static void on_bodies(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                      size_t len)
{
    struct dl_req *r = arg;
    struct dl *dl = r->dl;
    (void)peer;
    struct ethd_rlp_item list, it;
    struct ethd_rlp_iter iter;
    size_t count = 0;
    bool ok = status == 0 && ethd_rlp_decode(items, len, &list) == 0 &&
              ethd_rlp_list_count(&list, &count) == 0 && count <= r->n;
    struct dl_peer *p = ethd_dl_reply_begin(r, status, ok ? (uint32_t)count : 0);
    bool live = r->gen == dl->gen;
    size_t j = 0; /* next requested hash */
    if (!p || !live) {
        goto release;
    }
    if (!ok) {
        ethd_dl_drop(dl, p, ETHD_DISC_PROTOCOL_ERROR, "malformed block bodies");
        goto release;
    }
    ethd_rlp_iter_init(&iter, &list);
    for (size_t i = 0; i < count; i++) {
        struct ethd_body body;
        if (ethd_rlp_iter_next(&iter, &it) || ethd_body_decode_item(&it, &body)) {
            ethd_dl_drop(dl, p, ETHD_DISC_PROTOCOL_ERROR, "undecodable block body");
            goto release;
        }
        /* Bodies come in request order, unknown ones left out. */
        bool matched = false;
        for (; j < r->n && !matched; j++) {
            struct dl_blk *b = find_blk(dl, r->hashes[j]);
            if (b && !b->have && body_matches(b, &body)) {
                b->body = malloc(it.raw_len);
                if (b->body) {
                    memcpy(b->body, it.raw, it.raw_len);
                    b->body_len = it.raw_len;
                    b->have = true;
                    b->sender = p->peer;
                    ethd_peer_ref(p->peer);
                }
                b->inflight = false;
                matched = true;
            } else if (b && !b->have) {
                ethd_dl_peer_lacks(&p->rec, b->hash); /* skipped over */
                b->inflight = false;
            }
        }
        ethd_body_free(&body);
        if (!matched) {
            ethd_dl_drop(dl, p, ETHD_DISC_USELESS_PEER, "a body that matches no header asked for");
            goto release;
        }
    }
    /* What it did not send, it lacks. */
    for (; j < r->n; j++) {
        struct dl_blk *b = find_blk(dl, r->hashes[j]);
        if (b && !b->have)
            ethd_dl_peer_lacks(&p->rec, b->hash);
    }
release:
    if (live)
        for (size_t k = 0; k < r->n; k++) {
            struct dl_blk *b = find_blk(dl, r->hashes[k]);
            if (b && !b->have)
                b->inflight = false;
        }
    if (live && dl->phase == PH_BLOCKS) {
        insert_bodies(dl);
        ethd_dl_kick(dl);
    }
    ethd_dl_req_free(r);
}

static void insert_bodies(struct dl *dl)
{
    while (dl->blk_done < dl->n_blks && dl->blks[dl->blk_done].have) {
        size_t n = 0;
        while (dl->blk_done + n < dl->n_blks && n < dl->insert_batch &&
               dl->blks[dl->blk_done + n].have)
            n++;
        struct ethd_block *blocks = calloc(n, sizeof(*blocks));
        if (!blocks)
            return;
        int rc = 0;
        size_t built = 0;
        for (; built < n && !rc; built++) {
            struct dl_blk *b = &dl->blks[dl->blk_done + built];
            struct ethd_rlp_item it;
            if ((rc = dl->chain->header_by_hash(dl->chain_impl, b->hash, &blocks[built].header)))
                break;
            if (ethd_rlp_decode(b->body, b->body_len, &it) ||
                ethd_body_decode_item(&it, &blocks[built].body)) {
                built++;
                rc = ETHD_EPROTO;
                break;
            }
        }
        struct ethd_chain_insert_result res;
        memset(&res, 0, sizeof(res));
        if (!rc)
            rc = dl->chain->insert_blocks(dl->chain_impl, blocks, NULL, n, &res);
        for (size_t i = 0; i < built; i++) {
            ethd_header_free(&blocks[i].header);
            ethd_body_free(&blocks[i].body);
        }
        free(blocks);
        if (rc && res.n_done < n && res.reason[0]) {
            /* Its body was checked against the header's roots, so this is
             * rare (e.g. a transaction that does not decode): the sender
             * goes and the body is asked again elsewhere. */
            struct dl_blk *b = &dl->blks[dl->blk_done + res.n_done];
            ETHD_WARN(dl->log, "sync block refused", "number=%llu reason=\"%s\"",
                      (unsigned long long)b->number, res.reason);
            struct dl_peer *sp = b->sender ? ethd_dl_peer_of(dl, b->sender) : NULL;
            if (sp)
                ethd_dl_drop(dl, sp, ETHD_DISC_USELESS_PEER, res.reason);
            blk_clear(b);
            b->have = false;
        }
        for (size_t i = 0; i < res.n_done; i++)
            blk_clear(&dl->blks[dl->blk_done + i]);
        dl->blk_done += res.n_done;
        dl->blocks_done += res.n_new;
        if (rc)
            return;
    }
}

void ethd_dl_blocks_pump(struct dl *dl)
{
    if (!dl->full || dl->phase != PH_BLOCKS)
        return;
    refill(dl);
    insert_bodies(dl);
    refill(dl);
    uint8_t(*want)[32] = malloc((size_t)dl->rate.max_items[DL_BODIES] * 32);
    if (!want)
        return;
    for (struct dl_peer *p = dl->peers; p; p = p->next) {
        if (p->dropped || !p->rec.rate[DL_BODIES].idle)
            continue;
        uint32_t size = ethd_dl_rate_request_size(&p->rec.rate[DL_BODIES], &dl->rate, DL_BODIES);
        uint32_t n = 0;
        for (size_t i = dl->blk_done; i < dl->n_blks && n < size; i++) {
            struct dl_blk *b = &dl->blks[i];
            if (b->have || b->inflight || ethd_dl_peer_lacking(&p->rec, b->hash))
                continue;
            memcpy(want[n++], b->hash, 32);
        }
        if (!n)
            continue;
        if (ethd_dl_request_hashes(dl, p, DL_BODIES, (const uint8_t(*)[32])want, n, 0,
                                   on_bodies) == 0)
            for (uint32_t k = 0; k < n; k++) {
                struct dl_blk *b = find_blk(dl, want[k]);
                if (b)
                    b->inflight = true;
            }
    }
    free(want);
}

/* ---- receipts ---- */

void ethd_dl_receipts_reset(struct dl *dl)
{
    free(dl->rcpts);
    dl->rcpts = NULL;
    dl->n_rcpts = dl->cap_rcpts = 0;
}

static struct dl_rcpt *find_rcpt(struct dl *dl, const uint8_t hash[32])
{
    for (size_t i = 0; i < dl->n_rcpts; i++)
        if (memcmp(dl->rcpts[i].hash, hash, 32) == 0)
            return &dl->rcpts[i];
    return NULL;
}

static void rcpt_remove(struct dl *dl, struct dl_rcpt *x)
{
    size_t i = (size_t)(x - dl->rcpts);
    memmove(x, x + 1, (dl->n_rcpts - i - 1) * sizeof(*x));
    dl->n_rcpts--;
}

void ethd_dl_receipts_scan(struct dl *dl, size_t max)
{
    struct ethd_chain_head hb;
    dl->chain->head_block(dl->chain_impl, &hb);
    if (!dl->rcpts) {
        dl->rcpts = calloc(RCPT_QUEUE, sizeof(*dl->rcpts));
        if (!dl->rcpts)
            return;
        dl->cap_rcpts = RCPT_QUEUE;
    }
    for (size_t k = 0; k < max && dl->rscan_next <= hb.number && dl->n_rcpts < dl->cap_rcpts;
         k++, dl->rscan_next++) {
        uint8_t hash[32];
        struct ethd_header h;
        unsigned flags = 0;
        if (dl->chain->hash_by_number(dl->chain_impl, dl->rscan_next, hash) ||
            dl->chain->block_status(dl->chain_impl, hash, &flags))
            break;
        if (flags & ETHD_CHAIN_HAS_RECEIPTS)
            continue;
        if (dl->chain->header_by_hash(dl->chain_impl, hash, &h))
            break;
        bool has_txs = memcmp(h.tx_root, ethd_trie_empty_root, 32) != 0;
        ethd_header_free(&h);
        if (!has_txs)
            continue; /* its receipt list is empty: served as such */
        struct dl_rcpt *x = &dl->rcpts[dl->n_rcpts++];
        memset(x, 0, sizeof(*x));
        x->number = dl->rscan_next;
        memcpy(x->hash, hash, 32);
        if (!dl->syncing) {
            /* Receipts missing after a restart or an import: report it. */
            dl->syncing = true;
            dl->sync_start_ms = dl->last_log_ms = ethd_dl_now_ms();
            dl->sync_start_number = dl->last_log_number = hb.number;
        }
    }
}

static void on_receipts(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                        size_t len)
{
    struct dl_req *r = arg;
    struct dl *dl = r->dl;
    (void)peer;
    struct ethd_rlp_item list, it;
    struct ethd_rlp_iter iter;
    size_t count = 0;
    bool ok = status == 0 && ethd_rlp_decode(items, len, &list) == 0 &&
              ethd_rlp_list_count(&list, &count) == 0 && count <= r->n;
    struct dl_peer *p = ethd_dl_reply_begin(r, status, ok ? (uint32_t)count : 0);
    struct dl_peer *lp = ethd_dl_peer_of(dl, r->peer);
    size_t done = 0;
    if (p && !ok) {
        ethd_dl_drop(dl, p, ETHD_DISC_PROTOCOL_ERROR, "malformed receipts");
    } else if (p) {
        ethd_rlp_iter_init(&iter, &list);
        for (; done < count; done++) {
            struct dl_rcpt *x = find_rcpt(dl, r->hashes[done]);
            if (ethd_rlp_iter_next(&iter, &it))
                break;
            if (!x)
                continue;
            struct ethd_buf raw = ETHD_BUF_INIT;
            struct ethd_block b;
            struct ethd_chain_insert_result res;
            int rc = dl->chain->raw_block_by_hash(dl->chain_impl, x->hash, &raw);
            if (!rc)
                rc = ethd_block_decode(raw.data, raw.len, &b);
            if (!rc) {
                struct ethd_trie_item ri = {it.raw, it.raw_len};
                rc = dl->chain->insert_blocks(dl->chain_impl, &b, &ri, 1, &res);
                ethd_block_free(&b);
                if (rc) {
                    ethd_buf_free(&raw);
                    ETHD_WARN(dl->log, "sync receipts refused", "number=%llu reason=\"%s\"",
                              (unsigned long long)x->number, res.reason);
                    ethd_dl_drop(dl, p, ETHD_DISC_USELESS_PEER, "receipts that do not match");
                    break;
                }
                dl->receipts_done++;
                rcpt_remove(dl, x);
            }
            ethd_buf_free(&raw);
        }
    }
    /* Everything not delivered: in the queue again, lacking at this peer
     * (a timeout counts too: some clients never answer GetReceipts). */
    for (size_t k = 0; k < r->n; k++) {
        struct dl_rcpt *x = find_rcpt(dl, r->hashes[k]);
        if (!x)
            continue;
        x->inflight = false;
        if (lp && k >= done && ((p && status == 0) || status == ETHD_ETIMEDOUT))
            ethd_dl_peer_lacks(&lp->rec, x->hash);
    }
    if (dl->running)
        ethd_dl_kick(dl);
    ethd_dl_req_free(r);
}

void ethd_dl_receipts_pump(struct dl *dl)
{
    if (!dl->full || dl->n_rcpts == 0)
        return;
    uint8_t(*want)[32] = malloc((size_t)dl->rate.max_items[DL_RECEIPTS] * 32);
    if (!want)
        return;
    for (struct dl_peer *p = dl->peers; p; p = p->next) {
        if (p->dropped || !p->rec.rate[DL_RECEIPTS].idle)
            continue;
        uint32_t size =
            ethd_dl_rate_request_size(&p->rec.rate[DL_RECEIPTS], &dl->rate, DL_RECEIPTS);
        uint32_t n = 0;
        for (size_t i = 0; i < dl->n_rcpts && n < size; i++) {
            struct dl_rcpt *x = &dl->rcpts[i];
            if (x->inflight || ethd_dl_peer_lacking(&p->rec, x->hash))
                continue;
            memcpy(want[n++], x->hash, 32);
        }
        if (!n)
            continue;
        if (ethd_dl_request_hashes(dl, p, DL_RECEIPTS, (const uint8_t(*)[32])want, n, 0,
                                   on_receipts) == 0)
            for (uint32_t k = 0; k < n; k++) {
                struct dl_rcpt *x = find_rcpt(dl, want[k]);
                if (x)
                    x->inflight = true;
            }
    }
    free(want);
}
