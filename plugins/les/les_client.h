/* les-client: declarations shared by les_client.c (the service, the
 * les/2..4 client side, flow control towards servers, the les-client/1
 * request table) and les_rpc.c (the light eth_ RPC methods).
 *
 * Loop thread only. */
#ifndef ETHD_PLUGIN_LES_CLIENT_H
#define ETHD_PLUGIN_LES_CLIENT_H
#include "les.h"

#include <ethd/chain.h>
#include <ethd/p2p.h>
#include <ethd/syncer.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct lc_peer;
struct les_cli;

/* One request of the les-client/1 table (or of the RPC fetcher): queued
 * until the server's buffer estimate covers its cost, then in flight. */
struct lc_req {
    struct lc_req *next;
    struct les_cli *cli;
    struct lc_peer *lp;
    uint64_t id;       /* the caller's id (stable across a resend) */
    uint64_t wire_id;  /* les reqID of the current send */
    uint64_t code;     /* LES_GET_BLOCK_HEADERS / _BODIES / _RECEIPTS */
    uint64_t count;    /* items asked (after the cost clamp) */
    uint64_t cost;     /* MaxCost by the server's MRC table */
    uint64_t seq;      /* send order on this peer */
    uint64_t timeout_ms;
    uint64_t sent_ms;
    struct ethd_eth_headers_query q;
    uint8_t (*hashes)[32];
    struct event *timer;
    ethd_eth_reply_fn fn;
    void *arg;
};

struct lc_peer {
    struct lc_peer *prev, *next;
    struct les_cli *cli;
    struct ethd_peer *peer; /* borrowed until on_disconnect */
    const struct ethd_protocol *proto;
    uint32_t version;
    bool active, closing;
    struct event *status_timer, *send_timer;
    struct ethd_sync_head head;
    /* the server's Status */
    uint64_t announce_type;
    uint64_t serve_chain_since, serve_recent_chain;
    bool has_recent_chain;
    struct ethd_les_cost mrc[LES_MAX_COSTS];
    size_t n_mrc;
    /* flow control: our estimate of the server's buffer for us (BLE) */
    struct ethd_les_fc fc;
    bool stopped;
    struct lc_req *q_head, *q_tail; /* waiting to be sent, FIFO */
    size_t n_queued;
    struct lc_req *inflight;
    size_t n_inflight;
    uint64_t seq;
    /* figures for admin_peers */
    uint64_t sent, replies, timeouts, stops, resumes, waits, resent, cost_sent, announces;
    uint64_t last_bv;
};

struct les_cli {
    struct ethd_service_ctx *ctx;
    const struct ethd_logger *log;
    struct event_base *loop;
    const struct ethd_chain_iface_v1 *chain;
    void *chain_impl;
    const struct ethd_syncer_iface_v1 *syncer;
    const struct ethd_syncer_iface_v2 *syncer2;
    void *syncer_impl;
    struct ethd_p2p_server *p2p;
    struct ethd_secp *secp;
    bool running;

    /* settings (docs/les.md, "services.les-client") */
    uint64_t max_version, max_servers, max_msg;
    uint64_t status_timeout_ms, request_timeout_ms, fetch_timeout_ms;
    uint64_t max_inflight, max_queued, fetch_attempts;
    bool announce;

    struct lc_peer *peers;
    size_t n_active;
    uint64_t next_id;

    bool syncing;
    struct ethd_sync_progress progress;
    uint64_t fetches, fetch_failures;

    struct ethd_api apis[2];
};

/* les_client.c */
extern const struct ethd_service_ops ethd_les_client_service;
extern const struct ethd_eth_iface_v1 ethd_les_client_iface;
/* The client's record of a peer; NULL if it is not an active les server. */
struct lc_peer *ethd_les_client_peer_of(struct ethd_peer *peer);

/* les_rpc.c */
extern const struct ethd_api ethd_les_client_apis[2];

#endif
