/* The eth service (plugin "eth"): internal declarations shared by its files.
 *
 *   eth.c          service hooks, protocol descriptors eth/66..69, Status
 *                  handshake, message dispatch, node_info / peer_info
 *   eth_msg.c      message codecs (eth_msg.h)
 *   eth_peerset.c  per-peer records, best peer, outgoing requests with ids
 *                  and timeouts, the eth/1 interface for syncers
 *   eth_serve.c    answers to GetBlockHeaders / GetBlockBodies / GetReceipts
 *   eth_announce.c block propagation out (NewBlock, NewBlockHashes,
 *                  BlockRangeUpdate) and in (import or hand-off to a syncer)
 *   eth_rpc.c      eth_ and net_version JSON-RPC methods
 *   txpool.c       the transaction pool (txpool.h)
 *   eth_txrelay.c  transaction exchange, eth_sendRawTransaction, txpool_status
 *
 * Everything runs on the loop thread. Non-static names start with ethd_eth_
 * (the plugin exports only its descriptor; the prefix keeps the project's
 * naming rule). */
#ifndef ETHD_PLUGIN_ETH_H
#define ETHD_PLUGIN_ETH_H
#include "eth_msg.h"
#include "txpool.h"

#include <ethd/chain.h>
#include <ethd/ethd.h>
#include <ethd/p2p.h>
#include <ethd/secp256k1.h>
#include <ethd/syncer.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;

/* Defaults (docs/config.md, "services.eth"). */
#define ETH_DEFAULT_MAX_MSG ((size_t)10 << 20)     /* caps/eth.md: "typically 10 MiB" */
#define ETH_DEFAULT_SOFT_LIMIT ((size_t)2 << 20)   /* recommended response soft limit */
#define ETH_DEFAULT_MAX_SERVE 1024                 /* headers / bodies / receipt lists */
#define ETH_DEFAULT_STATUS_TIMEOUT_MS 5000
#define ETH_DEFAULT_REQUEST_TIMEOUT_MS 10000
#define ETH_DEFAULT_KNOWN_BLOCKS 1024
#define ETH_DEFAULT_RANGE_BLOCKS 32                /* EIP-7642: at most once per epoch */
#define ETH_DEFAULT_RANGE_INTERVAL_MS 120000       /* caps/eth.md: about every two minutes */
#define ETH_MAX_REQUEST_ITEMS 1024                 /* eth/1 request bound */
#define ETH_MAX_FETCHES 16                         /* announced blocks fetched at once */
#define ETH_MAX_CATCHUP 64                         /* gap fetched without a syncer */
#define ETH_MAX_ANNOUNCED 256                      /* NewBlockHashes entries looked at */
#define ETH_KNOWN_TXS 8192                         /* per peer, tx hashes not to send back */
#define ETH_TX_REQUESTED 8192                      /* recently fetched tx hashes */
#define ETH_TX_QUEUE 4096                          /* new txs waiting for the broadcast */
#define ETH_TX_ANN_PACK 256                        /* hashes per NewPooledTransactionHashes */
#define ETH_TX_FETCH_MAX 256                       /* hashes per GetPooledTransactions */
#define ETH_TX_SERVE_MAX 1024                      /* hashes looked up per request */
#define ETH_TX_SCAN_BLOCKS 64                      /* new blocks scanned for included txs */

struct eth_peer;
struct eth_fetch; /* eth_announce.c: a block fetch after NewBlockHashes */

/* An outgoing request waiting for its answer (EIP-2481 request id). */
struct eth_req {
    struct eth_req *next;
    struct eth *eth;
    struct eth_peer *ep;
    uint64_t id;
    uint64_t code;          /* the request's message code */
    struct event *timer;
    ethd_eth_reply_fn fn;
    void *arg;
};

struct eth_peer {
    struct eth_peer *prev, *next;
    struct eth *eth;
    struct ethd_peer *peer;             /* borrowed until on_disconnect */
    const struct ethd_protocol *proto;  /* the negotiated descriptor */
    uint32_t version;
    bool active;                        /* Status exchanged and accepted */
    bool closing;                       /* being freed: no new requests */
    struct event *status_timer;
    struct ethd_sync_head head;
    struct ethd_known_set *known_blocks;
    struct ethd_known_set *known_txs;
    struct eth_req *reqs;
    uint64_t range_sent_number, range_sent_ms; /* eth/69 BlockRangeUpdate */
    uint64_t served_headers, served_bodies, served_receipts;
};

struct eth {
    struct ethd_service_ctx *ctx;
    const struct ethd_logger *log;
    struct event_base *loop;
    const struct ethd_chain_iface_v1 *chain; /* NULL until found */
    void *chain_impl;
    const struct ethd_syncer_iface_v1 *syncer; /* optional */
    const struct ethd_syncer_iface_v2 *syncer2; /* when the syncer offers v2 */
    void *syncer_impl;
    struct ethd_p2p_server *p2p;        /* borrowed from start until stop */
    bool running;

    /* settings */
    uint64_t network_id_override;       /* 0: the chain's */
    size_t max_msg, soft_limit;
    uint64_t max_headers, max_bodies, max_receipts;
    uint64_t status_timeout_ms, request_timeout_ms;
    uint64_t known_blocks;
    uint64_t range_blocks, range_interval_ms;
    bool announce;
    uint64_t max_version;               /* offer eth/66..max_version */

    /* peers: every eth connection, active or still in the handshake */
    struct eth_peer *peers;
    size_t n_active;
    uint64_t next_req_id;

    uint64_t head_sub;                  /* bus subscription id */
    bool subscribed;
    uint8_t last_announced[32];
    struct event *range_timer;
    struct eth_fetch *fetches;          /* in flight, at most ETH_MAX_FETCHES */
    size_t n_fetches;

    bool syncing;
    struct ethd_sync_progress progress;
    struct ethd_secp *secp;             /* sender recovery for RPC */

    uint64_t blocks_imported, blocks_announced;

    /* transactions (eth_txrelay.c) */
    struct ethd_txpool *txpool;
    struct ethd_known_set *tx_requested;
    uint8_t (*tx_queue)[32];
    size_t n_tx_queue;
    struct event *tx_flush;
    uint64_t tx_sub;
    bool tx_subscribed;
    uint64_t tx_seen_head;
    uint64_t txs_pooled, txs_refused, txs_broadcast, txs_included;

    struct ethd_api apis[4];            /* eth_rpc.c's and eth_txrelay.c's */
};

/* eth.c */
extern const struct ethd_protocol ethd_eth_protocols[4];
uint64_t ethd_eth_network_id(const struct eth *eth);
uint64_t ethd_eth_now_ms(void);
/* Send a message to an eth peer (code relative to eth). */
int ethd_eth_send(struct eth_peer *ep, uint64_t code, const struct ethd_buf *payload);

/* eth_peerset.c */
int ethd_eth_peer_new(struct eth *eth, struct ethd_peer *peer, const struct ethd_protocol *proto,
                      struct eth_peer **out);
/* Unlink and free; pending requests complete with ETHD_ECANCELED first. */
void ethd_eth_peer_free(struct eth_peer *ep);
struct eth_peer *ethd_eth_peer_of(struct ethd_peer *peer);
void ethd_eth_peer_activate(struct eth_peer *ep);
/* Record a newer head announced by the peer (and tell the syncer). */
void ethd_eth_peer_set_head(struct eth_peer *ep, const uint8_t hash[32], uint64_t number,
                            const uint8_t *td);
struct eth_peer *ethd_eth_best_peer(struct eth *eth);
/* An answer (BlockHeaders, BlockBodies, Receipts) arrived: complete its
 * request. ETHD_EPROTO if malformed; unsolicited answers are ignored. */
int ethd_eth_peer_deliver(struct eth_peer *ep, uint64_t code, const uint8_t *payload, size_t len);
int ethd_eth_request_headers(struct eth *eth, struct eth_peer *ep,
                             const struct ethd_eth_headers_query *q, uint64_t timeout_ms,
                             ethd_eth_reply_fn fn, void *arg, uint64_t *id);
int ethd_eth_request_bodies(struct eth *eth, struct eth_peer *ep, const uint8_t (*hashes)[32],
                            size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                            uint64_t *id);
int ethd_eth_request_pooled_txs(struct eth *eth, struct eth_peer *ep, const uint8_t (*hashes)[32],
                                size_t n, uint64_t timeout_ms, ethd_eth_reply_fn fn, void *arg,
                                uint64_t *id);
void ethd_eth_cancel_all(struct eth *eth);
extern const struct ethd_eth_iface_v1 ethd_eth_iface;
json_t *ethd_eth_head_json(const struct ethd_sync_head *h);
/* td (32 bytes big-endian) as a JSON number when it fits 63 bits, else a
 * decimal string. */
json_t *ethd_eth_u256_json(const uint8_t v[32]);

/* eth_serve.c */
int ethd_eth_serve_headers(struct eth_peer *ep, const uint8_t *payload, size_t len);
int ethd_eth_serve_bodies(struct eth_peer *ep, const uint8_t *payload, size_t len);
int ethd_eth_serve_receipts(struct eth_peer *ep, const uint8_t *payload, size_t len);
/* Empty answers (no tx pool; no state trie): PooledTransactions, NodeData. */
int ethd_eth_serve_empty(struct eth_peer *ep, uint64_t answer_code, const uint8_t *payload,
                         size_t len);

/* eth_announce.c */
int ethd_eth_announce_start(struct eth *eth);
void ethd_eth_announce_stop(struct eth *eth);
int ethd_eth_on_new_block(struct eth_peer *ep, const uint8_t *payload, size_t len);
int ethd_eth_on_new_block_hashes(struct eth_peer *ep, const uint8_t *payload, size_t len);
int ethd_eth_on_range_update(struct eth_peer *ep, const uint8_t *payload, size_t len);
size_t ethd_eth_ceil_sqrt(size_t n);

/* eth_txrelay.c */
/* Read the txpool settings and make the pool; 0 or an error (config errors
 * through ethd_conf_fail). */
int ethd_eth_tx_create(struct eth *eth, const struct ethd_conf *c);
int ethd_eth_tx_start(struct eth *eth);
void ethd_eth_tx_stop(struct eth *eth);
void ethd_eth_tx_destroy(struct eth *eth);
int ethd_eth_on_transactions(struct eth_peer *ep, const uint8_t *payload, size_t len);
int ethd_eth_on_pooled_ann(struct eth_peer *ep, const uint8_t *payload, size_t len);
int ethd_eth_serve_pooled(struct eth_peer *ep, const uint8_t *payload, size_t len);
/* Announce the pool to a peer that just completed Status. */
void ethd_eth_tx_new_peer(struct eth_peer *ep);
extern const struct ethd_api ethd_eth_tx_apis[2];

/* eth_rpc.c */
extern const struct ethd_api ethd_eth_apis[2];

#endif
