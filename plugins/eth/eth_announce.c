/* Block propagation (caps/eth.md, "Block Propagation"; PoW/PoA networks).
 *
 * Out: on every new head block (bus topic ETHD_CHAIN_TOPIC_HEAD) the block
 * goes as NewBlock to ceil(sqrt(n)) of the n eth/66-68 peers not known to
 * have it and as NewBlockHashes to the others; eth/69 has no block
 * announcements for us to send, so its peers get BlockRangeUpdate (after
 * range_update_blocks new blocks, or range_update_interval; by default every
 * block on a chain without a merge, whose blocks still propagate, and once
 * per 32 blocks otherwise, as EIP-7642 recommends). Nothing is sent
 * to a peer whose known-block set has the hash (it announced it, or we did),
 * and nothing while a syncer reports progress.
 *
 * In: NewBlock and NewBlockHashes mark the block known for the sender and
 * move its head. A NewBlock whose parent is stored is inserted through
 * chain/1 (which verifies it; a bad block drops the peer with UselessPeer);
 * an announced hash whose block is missing is fetched from the announcer
 * (GetBlockHeaders by hash, then GetBlockBodies) when its parent is stored.
 * A BlockRangeUpdate whose latest block extends ours is fetched the same
 * way. Anything else is left to the syncer (syncer/1), if one is loaded.
 * NewBlock and NewBlockHashes are accepted from eth/69 peers too, though
 * eth/69 peers are never sent them. */
#include "eth.h"

#include <ethd/keccak.h>
#include <event2/event.h>

#include <stdlib.h>
#include <string.h>

/* A block (or a short run of blocks ending at it) being fetched from the
 * peer that announced it. */
struct eth_fetch {
    struct eth_fetch *next;
    struct eth *eth;
    uint8_t hash[32];       /* the announced block */
    uint64_t number;
    uint64_t from, count;   /* blocks from..number */
    struct ethd_header *headers; /* count decoded headers, once fetched */
    struct ethd_buf raw;    /* their RLPs back to back */
    size_t *raw_off;        /* offset of each in raw */
    uint8_t (*hashes)[32];
};

static void start_fetch(struct eth_peer *ep, const uint8_t hash[32], uint64_t number);

/* ---- importing ---- */

static bool has(struct eth *eth, const uint8_t hash[32], unsigned flag)
{
    unsigned flags = 0;
    return eth->chain->block_status(eth->chain_impl, hash, &flags) == 0 && (flags & flag);
}

/* Insert one block received from `peer`; a block that fails verification
 * gets the peer dropped (UselessPeer). */
static void import_block(struct eth *eth, struct ethd_peer *peer, const struct ethd_block *b)
{
    struct ethd_chain_insert_result res;
    memset(&res, 0, sizeof(res));
    int rc = eth->chain->insert_blocks(eth->chain_impl, b, NULL, 1, &res);
    if (rc == 0) {
        if (res.n_new)
            eth->blocks_imported++;
        ETHD_DEBUG(eth->log, "block imported", "number=%llu new=%zu head_changed=%d addr=%s",
                   (unsigned long long)b->header.number, res.n_new, (int)res.head_changed,
                   ethd_peer_remote_addr(peer));
        return;
    }
    if (rc == ETHD_ENOMEM || rc == ETHD_EIO) {
        ETHD_WARN(eth->log, "block import failed", "number=%llu error=\"%s\"",
                  (unsigned long long)b->header.number, ethd_strerror(rc));
        return;
    }
    ETHD_INFO(eth->log, "bad block from peer", "addr=%s number=%llu reason=\"%s\"",
              ethd_peer_remote_addr(peer), (unsigned long long)b->header.number,
              res.reason[0] ? res.reason : ethd_strerror(rc));
    ethd_peer_disconnect(peer, ETHD_DISC_USELESS_PEER);
}

int ethd_eth_on_new_block(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct eth *eth = ep->eth;
    struct ethd_rlp_item bi;
    uint8_t td[32];
    struct ethd_block b;
    if (ethd_eth_new_block_decode(payload, len, &bi, td) || ethd_block_decode_item(&bi, &b))
        return ETHD_EPROTO;
    ethd_known_set_add(ep->known_blocks, b.hash);
    ethd_eth_peer_set_head(ep, b.hash, b.header.number, td);
    if (!has(eth, b.hash, ETHD_CHAIN_HAS_BODY)) {
        if (has(eth, b.header.parent_hash, ETHD_CHAIN_HAS_HEADER))
            import_block(eth, ep->peer, &b);
        else if (eth->syncer && eth->syncer->orphan_block)
            eth->syncer->orphan_block(eth->syncer_impl, ep->peer, bi.raw, bi.raw_len);
        else if (!eth->syncer)
            start_fetch(ep, b.hash, b.header.number); /* a short gap: catch up */
    }
    ethd_block_free(&b);
    return 0;
}

/* ---- fetching announced blocks ---- */

static void fetch_done(struct eth_fetch *f)
{
    struct eth *eth = f->eth;
    for (struct eth_fetch **pp = &eth->fetches; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            eth->n_fetches--;
            break;
        }
    }
    if (f->headers)
        for (uint64_t i = 0; i < f->count; i++)
            ethd_header_free(&f->headers[i]);
    free(f->headers);
    free(f->raw_off);
    free(f->hashes);
    ethd_buf_free(&f->raw);
    free(f);
}

static void on_fetch_bodies(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                            size_t len)
{
    struct eth_fetch *f = arg;
    struct eth *eth = f->eth;
    struct ethd_rlp_item list, it;
    struct ethd_rlp_iter li;
    if (status != 0 || !eth->running || ethd_rlp_decode(items, len, &list) ||
        ethd_rlp_iter_init(&li, &list)) {
        fetch_done(f);
        return;
    }
    /* Bodies answer in request order; a short answer (soft limit) imports
     * the leading blocks it covers. */
    struct ethd_block *blocks = calloc((size_t)f->count, sizeof(*blocks));
    size_t n = 0;
    bool bad = false;
    while (blocks && n < f->count && ethd_rlp_iter_next(&li, &it) == 0) {
        struct ethd_block *b = &blocks[n];
        if (ethd_body_decode_item(&it, &b->body)) {
            bad = true;
            break;
        }
        b->header = f->headers[n]; /* borrowed: freed with the fetch */
        b->header_raw = f->raw.data + f->raw_off[n];
        b->header_raw_len = f->raw_off[n + 1] - f->raw_off[n];
        memcpy(b->hash, f->hashes[n], 32);
        n++;
    }
    if (bad || ethd_rlp_iter_more(&li)) {
        ETHD_INFO(eth->log, "bad block bodies from peer", "addr=%s number=%llu",
                  ethd_peer_remote_addr(peer), (unsigned long long)f->number);
        ethd_peer_disconnect(peer, ETHD_DISC_USELESS_PEER);
    } else if (n > 0) {
        struct ethd_chain_insert_result res;
        memset(&res, 0, sizeof(res));
        int rc = eth->chain->insert_blocks(eth->chain_impl, blocks, NULL, n, &res);
        if (rc == 0) {
            eth->blocks_imported += res.n_new;
            ETHD_DEBUG(eth->log, "blocks imported", "from=%llu n=%zu new=%zu addr=%s",
                       (unsigned long long)f->from, n, res.n_new, ethd_peer_remote_addr(peer));
        } else if (rc == ETHD_ENOMEM || rc == ETHD_EIO) {
            ETHD_WARN(eth->log, "block import failed", "error=\"%s\"", ethd_strerror(rc));
        } else {
            ETHD_INFO(eth->log, "bad block from peer", "addr=%s number=%llu reason=\"%s\"",
                      ethd_peer_remote_addr(peer), (unsigned long long)res.bad_number,
                      res.reason[0] ? res.reason : ethd_strerror(rc));
            ethd_peer_disconnect(peer, ETHD_DISC_USELESS_PEER);
        }
    }
    for (size_t i = 0; i < n; i++)
        ethd_body_free(&blocks[i].body); /* headers stay the fetch's */
    free(blocks);
    fetch_done(f);
}

/* Headers from..number: consecutive, linked, ending at the announced hash,
 * the first one extending a header we have. */
static void on_fetch_headers(void *arg, struct ethd_peer *peer, int status, const uint8_t *items,
                             size_t len)
{
    struct eth_fetch *f = arg;
    struct eth *eth = f->eth;
    struct ethd_rlp_item list, it;
    struct ethd_rlp_iter li;
    size_t n = 0;
    if (status != 0 || !eth->running || ethd_rlp_decode(items, len, &list) ||
        ethd_rlp_iter_init(&li, &list) || ethd_rlp_list_count(&list, &n) || n == 0) {
        fetch_done(f); /* nothing (it may have reorganised meanwhile) */
        return;
    }
    if (n != f->count) {
        fetch_done(f); /* its chain moved on (or back) since it announced */
        return;
    }
    f->headers = calloc((size_t)f->count, sizeof(*f->headers));
    f->raw_off = calloc((size_t)f->count + 1, sizeof(*f->raw_off));
    f->hashes = calloc((size_t)f->count, 32);
    if (!f->headers || !f->raw_off || !f->hashes) {
        fetch_done(f);
        return;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n && ethd_rlp_iter_next(&li, &it) == 0; i++) {
        struct ethd_header *h = &f->headers[i];
        f->raw_off[i] = f->raw.len;
        ok = ethd_header_decode(it.raw, it.raw_len, h) == 0 && h->number == f->from + i &&
             ethd_buf_append(&f->raw, it.raw, it.raw_len) == 0;
        if (ok)
            ethd_keccak256(it.raw, it.raw_len, f->hashes[i]);
        if (ok && i > 0)
            ok = memcmp(h->parent_hash, f->hashes[i - 1], 32) == 0;
        f->raw_off[i + 1] = f->raw.len;
    }
    /* By hash, the answer must be that header; by number, a run that does
     * not end at the announced hash means the announcer reorganised: drop
     * it quietly. Malformed or unlinked headers are the peer's fault. */
    bool same = memcmp(f->hashes[f->count - 1], f->hash, 32) == 0;
    if (!ok || (f->count == 1 && !same)) {
        ETHD_INFO(eth->log, "bad headers from peer", "addr=%s number=%llu",
                  ethd_peer_remote_addr(peer), (unsigned long long)f->number);
        ethd_peer_disconnect(peer, ETHD_DISC_USELESS_PEER);
        fetch_done(f);
        return;
    }
    if (!same) {
        fetch_done(f);
        return;
    }
    struct eth_peer *ep = ethd_eth_peer_of(peer);
    if (!has(eth, f->headers[0].parent_hash, ETHD_CHAIN_HAS_HEADER) || !ep ||
        ethd_eth_request_bodies(eth, ep, (const uint8_t(*)[32])f->hashes, (size_t)f->count, 0,
                                on_fetch_bodies, f, NULL))
        fetch_done(f); /* a gap after all: the syncer (peer_head) takes it */
}

/* Fetch the announced block `hash` (#number) from ep. Without a syncer a
 * short gap behind it (up to ETH_MAX_CATCHUP blocks) is fetched too, so
 * a node that missed a few announcements catches up; longer gaps, and any
 * gap when a syncer is loaded, are the syncer's. */
static void start_fetch(struct eth_peer *ep, const uint8_t hash[32], uint64_t number)
{
    struct eth *eth = ep->eth;
    struct ethd_chain_head hh;
    eth->chain->head_header(eth->chain_impl, &hh);
    uint64_t from = number <= hh.number + 1 ? number : hh.number + 1;
    uint64_t count = number - from + 1;
    if (count > 1 && (eth->syncer || count > ETH_MAX_CATCHUP))
        return;
    if (eth->n_fetches >= ETH_MAX_FETCHES)
        return;
    for (struct eth_fetch *f = eth->fetches; f; f = f->next)
        if (memcmp(f->hash, hash, 32) == 0 || (count > 1 && f->count > 1))
            return; /* already asked someone, or one catch-up at a time */
    struct eth_fetch *f = calloc(1, sizeof(*f));
    if (!f)
        return;
    f->eth = eth;
    memcpy(f->hash, hash, 32);
    f->number = number;
    f->from = from;
    f->count = count;
    /* One block by hash (it may be a side block); a run by number from the
     * announcer's canonical chain, checked to end at the hash. */
    struct ethd_eth_headers_query q = {.by_hash = count == 1, .number = from, .amount = count};
    memcpy(q.hash, hash, 32);
    f->next = eth->fetches;
    eth->fetches = f;
    eth->n_fetches++;
    if (ethd_eth_request_headers(eth, ep, &q, 0, on_fetch_headers, f, NULL))
        fetch_done(f);
}

int ethd_eth_on_new_block_hashes(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    struct eth *eth = ep->eth;
    struct ethd_rlp_item list;
    struct ethd_rlp_iter it;
    size_t count;
    const uint8_t *hash, *best = NULL;
    uint64_t number, best_num = 0;
    if (ethd_eth_nbh_decode(payload, len, &list, &count))
        return ETHD_EPROTO;
    ethd_rlp_iter_init(&it, &list);
    /* Only the first entries are looked at: each costs a look-up, and a
     * 10 MiB message could otherwise hold 250,000 of them. */
    for (size_t k = 0; k < ETH_MAX_ANNOUNCED && ethd_eth_nbh_next(&it, &hash, &number); k++) {
        ethd_known_set_add(ep->known_blocks, hash);
        if (!best || number > best_num) {
            best = hash;
            best_num = number;
        }
        if (!has(eth, hash, ETHD_CHAIN_HAS_BODY))
            start_fetch(ep, hash, number);
    }
    if (best)
        ethd_eth_peer_set_head(ep, best, best_num, NULL);
    return 0;
}

int ethd_eth_on_range_update(struct eth_peer *ep, const uint8_t *payload, size_t len)
{
    uint64_t earliest, latest;
    uint8_t hash[32];
    if (ethd_eth_range_decode(payload, len, &earliest, &latest, hash))
        return ETHD_EPROTO;
    if (earliest > latest)
        return ETHD_EPROTO; /* caps/eth.md: "the peer should be disconnected" */
    ep->head.earliest = earliest;
    ethd_known_set_add(ep->known_blocks, hash);
    ethd_eth_peer_set_head(ep, hash, latest, NULL);
    /* eth/69 has no NewBlock: on a chain that still propagates blocks the
     * update is the announcement, so a block that extends ours is fetched
     * as after NewBlockHashes. */
    struct eth *eth = ep->eth;
    if (!has(eth, hash, ETHD_CHAIN_HAS_BODY))
        start_fetch(ep, hash, latest);
    return 0;
}

/* ---- announcing ---- */

size_t ethd_eth_ceil_sqrt(size_t n)
{
    size_t k = 0;
    while (k * k < n)
        k++;
    return k;
}

static void announce_block(struct eth *eth, const struct ethd_chain_head *b)
{
    if (memcmp(eth->last_announced, b->hash, 32) == 0)
        return;
    memcpy(eth->last_announced, b->hash, 32);
    size_t n = 0;
    for (struct eth_peer *ep = eth->peers; ep; ep = ep->next)
        if (ep->active && ep->version <= 68 && !ethd_known_set_has(ep->known_blocks, b->hash))
            n++;
    if (n == 0)
        return;
    struct eth_peer **targets = calloc(n, sizeof(*targets));
    struct ethd_buf raw = ETHD_BUF_INIT, nb = ETHD_BUF_INIT, nbh = ETHD_BUF_INIT;
    if (!targets || eth->chain->raw_block_by_hash(eth->chain_impl, b->hash, &raw) ||
        ethd_eth_new_block_encode(raw.data, raw.len, b->td, &nb) ||
        ethd_eth_nbh_encode((const uint8_t(*)[32])b->hash, &b->number, 1, &nbh))
        goto out;
    size_t i = 0;
    for (struct eth_peer *ep = eth->peers; ep && i < n; ep = ep->next)
        if (ep->active && ep->version <= 68 && !ethd_known_set_has(ep->known_blocks, b->hash))
            targets[i++] = ep;
    /* A random rotation picks which peers get the whole block. */
    uint32_t r = 0;
    ethd_random_bytes(&r, sizeof(r));
    size_t start = r % n, full = ethd_eth_ceil_sqrt(n);
    for (size_t k = 0; k < n; k++) {
        struct eth_peer *ep = targets[(start + k) % n];
        ethd_known_set_add(ep->known_blocks, b->hash);
        ethd_eth_send(ep, k < full ? ETH_NEW_BLOCK : ETH_NEW_BLOCK_HASHES, k < full ? &nb : &nbh);
    }
    eth->blocks_announced++;
    ETHD_DEBUG(eth->log, "block announced", "number=%llu new_block=%zu hashes=%zu",
               (unsigned long long)b->number, full, n - full);
out:
    free(targets);
    ethd_buf_free(&raw);
    ethd_buf_free(&nb);
    ethd_buf_free(&nbh);
}

/* BlockRangeUpdate to every eth/69 peer due one (EIP-7642). */
static void range_updates(struct eth *eth, bool reorg)
{
    struct ethd_chain_head hb;
    struct ethd_buf msg = ETHD_BUF_INIT;
    eth->chain->head_block(eth->chain_impl, &hb);
    uint64_t now = ethd_eth_now_ms();
    for (struct eth_peer *ep = eth->peers; ep; ep = ep->next) {
        if (!ep->active || ep->version < 69 || hb.number == ep->range_sent_number)
            continue;
        bool due = hb.number >= ep->range_sent_number + eth->range_blocks ||
                   now - ep->range_sent_ms >= eth->range_interval_ms ||
                   (reorg && hb.number < ep->range_sent_number);
        if (!due)
            continue;
        if (!msg.len && ethd_eth_range_encode(0, hb.number, hb.hash, &msg))
            break;
        if (ethd_eth_send(ep, ETH_BLOCK_RANGE_UPDATE, &msg) == 0) {
            ep->range_sent_number = hb.number;
            ep->range_sent_ms = now;
            ethd_known_set_add(ep->known_blocks, hb.hash);
        }
    }
    ethd_buf_free(&msg);
}

static void on_head(const char *topic, const void *event, void *arg)
{
    struct eth *eth = arg;
    const struct ethd_chain_head_event *ev = event;
    (void)topic;
    if (!eth->running || !ev)
        return;
    if (eth->announce && !eth->syncing)
        announce_block(eth, &ev->block);
    range_updates(eth, ev->reorg);
}

static void on_range_timer(evutil_socket_t fd, short what, void *arg)
{
    struct eth *eth = arg;
    (void)fd;
    (void)what;
    if (eth->running)
        range_updates(eth, false);
}

int ethd_eth_announce_start(struct eth *eth)
{
    struct ethd_chain_head hb;
    eth->chain->head_block(eth->chain_impl, &hb);
    memcpy(eth->last_announced, hb.hash, 32); /* the head at start is no news */
    int rc = ethd_bus_subscribe(ethd_ctx_bus(eth->ctx), ETHD_CHAIN_TOPIC_HEAD, on_head, eth,
                                &eth->head_sub);
    if (rc)
        return rc;
    eth->subscribed = true;
    eth->range_timer = event_new(eth->loop, -1, EV_PERSIST, on_range_timer, eth);
    struct timeval tv = {(time_t)(eth->range_interval_ms / 1000),
                         (suseconds_t)(eth->range_interval_ms % 1000) * 1000};
    if (!eth->range_timer || event_add(eth->range_timer, &tv)) {
        ethd_eth_announce_stop(eth);
        return ETHD_ENOMEM;
    }
    return 0;
}

void ethd_eth_announce_stop(struct eth *eth)
{
    if (eth->subscribed) {
        ethd_bus_unsubscribe(ethd_ctx_bus(eth->ctx), eth->head_sub);
        eth->subscribed = false;
    }
    if (eth->range_timer) {
        event_free(eth->range_timer);
        eth->range_timer = NULL;
    }
    /* Fetches end through their requests (cancelled with the peers); any
     * left without a request are freed here. */
    while (eth->fetches)
        fetch_done(eth->fetches);
}
