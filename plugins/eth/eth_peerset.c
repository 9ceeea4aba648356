/* The eth peer set: one record per eth connection, the heads peers
 * announce, best-peer choice, outgoing requests (EIP-2481 request ids,
 * timeouts, exactly-once completion) and the eth/1 interface syncers use. */
#include "eth.h"

#include <event2/event.h>

#include <stdlib.h>
#include <string.h>

/* ---- records ---- */

int ethd_eth_peer_new(struct eth *eth, struct ethd_peer *peer, const struct ethd_protocol *proto,
                      struct eth_peer **out)
{
    struct eth_peer *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return ETHD_ENOMEM;
    if (ethd_known_set_new((size_t)eth->known_blocks, &ep->known_blocks) ||
        ethd_known_set_new(ETH_KNOWN_TXS, &ep->known_txs)) {
        ethd_known_set_free(ep->known_blocks);
        free(ep);
        return ETHD_ENOMEM;
    }
    ep->eth = eth;
    ep->peer = peer;
    ep->proto = proto;
    ep->version = proto->version;
    ep->head.version = proto->version;
    ep->head.number = ETHD_SYNC_NUMBER_UNKNOWN;
    ep->next = eth->peers;
    if (eth->peers)
        eth->peers->prev = ep;
    eth->peers = ep;
    ethd_peer_set_data(peer, proto, ep);
    *out = ep;
    return 0;
}

struct eth_peer *ethd_eth_peer_of(struct ethd_peer *peer)
{
    uint32_t v = ethd_peer_version(peer, "eth");
    for (size_t i = 0; i < 4; i++)
        if (ethd_eth_protocols[i].version == v)
            return ethd_peer_get_data(peer, &ethd_eth_protocols[i]);
    return NULL;
}

static void req_free(struct eth_req *r)
{
    if (r->timer)
        event_free(r->timer);
    free(r);
}

/* Unlink r from its peer's list (it must be there). */
static void req_unlink(struct eth_req *r)
{
    for (struct eth_req **pp = &r->ep->reqs; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            r->next = NULL;
            return;
        }
    }
}

/* Complete every pending request of ep with `status`. Each is unlinked
 * before its callback runs, so callbacks may cancel or add others. */
static void fail_requests(struct eth_peer *ep, int status)
{
    while (ep->reqs) {
        struct eth_req *r = ep->reqs;
        ep->reqs = r->next;
        r->next = NULL;
        r->fn(r->arg, ep->peer, status, NULL, 0);
        req_free(r);
    }
}

void ethd_eth_peer_free(struct eth_peer *ep)
{
    struct eth *eth = ep->eth;
    ep->closing = true;
    if (ep->status_timer) {
        event_free(ep->status_timer);
        ep->status_timer = NULL;
    }
    fail_requests(ep, ETHD_ECANCELED);
    if (ep->active) {
        ep->active = false;
        eth->n_active--;
        if (eth->syncer && eth->syncer->peer_gone)
            eth->syncer->peer_gone(eth->syncer_impl, ep->peer);
    }
    ethd_peer_set_data(ep->peer, ep->proto, NULL);
    if (ep->prev)
        ep->prev->next = ep->next;
    else
        eth->peers = ep->next;
    if (ep->next)
        ep->next->prev = ep->prev;
    ethd_known_set_free(ep->known_blocks);
    ethd_known_set_free(ep->known_txs);
    free(ep);
}

void ethd_eth_peer_activate(struct eth_peer *ep)
{
    struct eth *eth = ep->eth;
    if (ep->status_timer) {
        event_free(ep->status_timer);
        ep->status_timer = NULL;
    }
    ep->active = true;
    eth->n_active++;
    ep->range_sent_ms = ethd_eth_now_ms(); /* Status carried our range */
    {
        struct ethd_chain_head hb;
        eth->chain->head_block(eth->chain_impl, &hb);
        ep->range_sent_number = hb.number;
    }
    ETHD_INFO(eth->log, "eth peer", "addr=%s version=%u client=\"%s\" peers=%zu",
              ethd_peer_remote_addr(ep->peer), ep->version, ethd_peer_client_id(ep->peer),
              eth->n_active);
    if (eth->syncer && eth->syncer->new_peer)
        eth->syncer->new_peer(eth->syncer_impl, ep->peer, &ep->head);
    ethd_eth_tx_new_peer(ep);
}

void ethd_eth_peer_set_head(struct eth_peer *ep, const uint8_t hash[32], uint64_t number,
                            const uint8_t *td)
{
    struct ethd_sync_head *h = &ep->head;
    bool newer;
    if (td && h->has_td)
        newer = memcmp(td, h->td, 32) >= 0;
    else
        newer = h->number == ETHD_SYNC_NUMBER_UNKNOWN || number >= h->number;
    if (!newer)
        return;
    memcpy(h->hash, hash, 32);
    h->number = number;
    if (td) {
        h->has_td = true;
        memcpy(h->td, td, 32);
    }
    struct eth *eth = ep->eth;
    if (eth->syncer && eth->syncer->peer_head)
        eth->syncer->peer_head(eth->syncer_impl, ep->peer, h);
}

struct eth_peer *ethd_eth_best_peer(struct eth *eth)
{
    struct eth_peer *best_td = NULL, *best_num = NULL;
    for (struct eth_peer *ep = eth->peers; ep; ep = ep->next) {
        if (!ep->active)
            continue;
        if (ep->head.has_td) {
            if (!best_td || memcmp(ep->head.td, best_td->head.td, 32) > 0)
                best_td = ep;
        } else if (ep->head.number != ETHD_SYNC_NUMBER_UNKNOWN) {
            if (!best_num || ep->head.number > best_num->head.number)
                best_num = ep;
        }
    }
    return best_td ? best_td : best_num;
}

/* ---- requests ---- */

static void on_req_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct eth_req *r = arg;
    (void)fd;
    (void)what;
    req_unlink(r);
    ETHD_DEBUG(r->eth->log, "request timed out", "addr=%s msg=%s id=%llu",
               ethd_peer_remote_addr(r->ep->peer), ethd_eth_msg_name(r->code),
               (unsigned long long)r->id);
    r->fn(r->arg, r->ep->peer, ETHD_ETIMEDOUT, NULL, 0);
    req_free(r);
}

/* Send `msg` (already carrying request id `id`) and track it. */
static int start_request(struct eth *eth, struct eth_peer *ep, uint64_t code, uint64_t id,
                         const struct ethd_buf *msg, uint64_t timeout_ms, ethd_eth_reply_fn fn,
                         void *arg)
{
    struct eth_req *r = calloc(1, sizeof(*r));
    if (!r)
        return ETHD_ENOMEM;
    r->eth = eth;
    r->ep = ep;
    r->id = id;
    r->code = code;
    r->fn = fn;
    r->arg = arg;
    if (!timeout_ms)
        timeout_ms = eth->request_timeout_ms;
    struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
    r->timer = evtimer_new(eth->loop, on_req_timeout, r);
    if (!r->timer || evtimer_add(r->timer, &tv)) {
        req_free(r);
        return ETHD_ENOMEM;
    }
    int rc = ethd_eth_send(ep, code, msg);
    if (rc) {
        req_free(r);
        return rc;
    }
    r->next = ep->reqs;
    ep->reqs = r;
    return 0;
}

static int check_peer(struct eth_peer *ep, ethd_eth_reply_fn fn)
{
    if (!ep || !ep->active)
        return ETHD_ENOTFOUND;
    if (ep->closing || !ep->eth->running)
        return ETHD_ECLOSED;
    return fn ? 0 : ETHD_EINVAL;
}

int ethd_eth_request_headers(struct eth *eth, struct eth_peer *ep,
                             const struct ethd_eth_headers_query *q, uint64_t timeout_ms,
                             ethd_eth_reply_fn fn, void *arg, uint64_t *id)
{
    int rc = check_peer(ep, fn);
    if (rc)
        return rc;
    if (!q || q->amount == 0 || q->amount > ETH_MAX_REQUEST_ITEMS)
        return ETHD_EINVAL;
    uint64_t rid = eth->next_req_id++;
    struct ethd_buf msg = ETHD_BUF_INIT;
    rc = ethd_eth_get_headers_encode(rid, q, &msg);
    if (!rc)
        rc = start_request(eth, ep, ETH_GET_BLOCK_HEADERS, rid, &msg, timeout_ms, fn, arg);
    ethd_buf_free(&msg);
    if (!rc && id)
        *id = rid;
    return rc;
}

static int request_hashes(struct eth *eth, struct eth_peer *ep, uint64_t code,
                          const uint8_t (*hashes)[32], size_t n, uint64_t timeout_ms,
                          ethd_eth_reply_fn fn, void *arg, uint64_t *id)
{
    int rc = check_peer(ep, fn);
    if (rc)
        return rc;
    if (!hashes || n == 0 || n > ETH_MAX_REQUEST_ITEMS)
        return ETHD_EINVAL;
    uint64_t rid = eth->next_req_id++;
    struct ethd_buf msg = ETHD_BUF_INIT;
    rc = ethd_eth_hashes_encode(rid, hashes, n, &msg);
    if (!rc)
        rc = start_request(eth, ep, code, rid, &msg, timeout_ms, fn, arg);
    ethd_buf_free(&msg);
    if (!rc && id)
        *id = rid;
    return rc;
}

int ethd_eth_request_pooled_txs(struct eth *eth, struct eth_peer *ep, const uint8_t (*hashes)[32],
                                size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                                uint64_t *id)
{
    return request_hashes(eth, ep, ETH_GET_POOLED_TXS, hashes, n, timeout_ms, fn, arg, id);
}

int ethd_eth_request_bodies(struct eth *eth, struct eth_peer *ep, const uint8_t (*hashes)[32],
                            size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                            uint64_t *id)
{
    return request_hashes(eth, ep, ETH_GET_BLOCK_BODIES, hashes, n, timeout_ms, fn, arg, id);
}

/* eth/69 Receipts: re-encode every block's list in the eth/66-68 wire form
 * so syncers see one form. */
static int receipts_to68(const struct ethd_rlp_item *list, struct ethd_buf *out)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item blk;
    struct ethd_buf one = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    int rc = ethd_rlp_iter_init(&it, list) ? ETHD_EPROTO : 0;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    while (!rc && ethd_rlp_iter_more(&it)) {
        ethd_buf_reset(&one);
        if (ethd_rlp_iter_next(&it, &blk))
            rc = ETHD_EPROTO;
        if (!rc)
            rc = ethd_eth_receipts_from69(&blk, &one);
        if (!rc)
            ethd_rlp_raw(&e, one.data, one.len);
    }
    ethd_rlp_list_end(&e);
    if (ethd_rlp_enc_finish(&e) && !rc)
        rc = ETHD_ENOMEM;
    ethd_buf_free(&one);
    return rc;
}

int ethd_eth_peer_deliver(struct eth_peer *ep, uint64_t code, const uint8_t *payload, size_t len)
{
    uint64_t id;
    struct ethd_rlp_item list;
    if (ethd_eth_resp_decode(payload, len, &id, &list))
        return ETHD_EPROTO;
    struct eth_req *r = ep->reqs;
    while (r && !(r->id == id && r->code + 1 == code))
        r = r->next;
    if (!r) {
        /* Late (after a timeout) or never asked for: dropped. */
        ETHD_DEBUG(ep->eth->log, "unrequested answer", "addr=%s msg=%s id=%llu",
                   ethd_peer_remote_addr(ep->peer), ethd_eth_msg_name(code),
                   (unsigned long long)id);
        return 0;
    }
    req_unlink(r);
    int rc = 0;
    if (code == ETH_RECEIPTS && ep->version >= 69) {
        struct ethd_buf conv = ETHD_BUF_INIT;
        rc = receipts_to68(&list, &conv);
        if (!rc)
            r->fn(r->arg, ep->peer, 0, conv.data, conv.len);
        else
            r->fn(r->arg, ep->peer, rc, NULL, 0);
        ethd_buf_free(&conv);
    } else {
        r->fn(r->arg, ep->peer, 0, list.raw, list.raw_len);
    }
    req_free(r);
    return rc == ETHD_EPROTO ? ETHD_EPROTO : 0;
}

static void cancel_id(struct eth *eth, uint64_t id)
{
    for (struct eth_peer *ep = eth->peers; ep; ep = ep->next) {
        for (struct eth_req *r = ep->reqs; r; r = r->next) {
            if (r->id == id) {
                req_unlink(r);
                r->fn(r->arg, ep->peer, ETHD_ECANCELED, NULL, 0);
                req_free(r);
                return;
            }
        }
    }
}

void ethd_eth_cancel_all(struct eth *eth)
{
    for (struct eth_peer *ep = eth->peers; ep; ep = ep->next)
        fail_requests(ep, ETHD_ECANCELED);
}

/* ---- eth/1 ---- */

static size_t if_peer_count(void *impl)
{
    return ((struct eth *)impl)->n_active;
}

static void if_each_peer(void *impl, ethd_eth_peer_fn fn, void *arg)
{
    struct eth *eth = impl;
    struct eth_peer *ep = eth->peers;
    while (ep) {
        struct eth_peer *next = ep->next; /* records are only freed from on_disconnect */
        if (ep->active)
            fn(ep->peer, &ep->head, arg);
        ep = next;
    }
}

static int if_peer_head(void *impl, struct ethd_peer *peer, struct ethd_sync_head *out)
{
    (void)impl;
    struct eth_peer *ep = peer ? ethd_eth_peer_of(peer) : NULL;
    if (!ep || !ep->active)
        return ETHD_ENOTFOUND;
    *out = ep->head;
    return 0;
}

static struct ethd_peer *if_best_peer(void *impl)
{
    struct eth_peer *ep = ethd_eth_best_peer(impl);
    return ep ? ep->peer : NULL;
}

static int if_request_headers(void *impl, struct ethd_peer *peer,
                              const struct ethd_eth_headers_query *q, uint64_t timeout_ms,
                              ethd_eth_reply_fn fn, void *arg, uint64_t *id)
{
    return ethd_eth_request_headers(impl, peer ? ethd_eth_peer_of(peer) : NULL, q, timeout_ms, fn,
                                    arg, id);
}

static int if_request_bodies(void *impl, struct ethd_peer *peer, const uint8_t (*hashes)[32],
                             size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                             uint64_t *id)
{
    return request_hashes(impl, peer ? ethd_eth_peer_of(peer) : NULL, ETH_GET_BLOCK_BODIES, hashes,
                          n, timeout_ms, fn, arg, id);
}

static int if_request_receipts(void *impl, struct ethd_peer *peer, const uint8_t (*hashes)[32],
                               size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                               uint64_t *id)
{
    return request_hashes(impl, peer ? ethd_eth_peer_of(peer) : NULL, ETH_GET_RECEIPTS, hashes, n,
                          timeout_ms, fn, arg, id);
}

static void if_cancel(void *impl, uint64_t id)
{
    cancel_id(impl, id);
}

static void if_drop_peer(void *impl, struct ethd_peer *peer, int reason)
{
    struct eth *eth = impl;
    if (!peer)
        return;
    ETHD_INFO(eth->log, "dropping peer", "addr=%s reason=%s (asked by the syncer)",
              ethd_peer_remote_addr(peer), ethd_disc_reason_str(reason));
    ethd_peer_disconnect(peer, reason);
}

static void if_set_progress(void *impl, const struct ethd_sync_progress *p)
{
    struct eth *eth = impl;
    eth->syncing = p != NULL;
    if (p)
        eth->progress = *p;
}

const struct ethd_eth_iface_v1 ethd_eth_iface = {
    if_peer_count,     if_each_peer, if_peer_head, if_best_peer,   if_request_headers,
    if_request_bodies, if_request_receipts,        if_cancel,      if_drop_peer,
    if_set_progress,
};
