/* Peers and the p2p server as services see them (devp2p rlpx.md, "p2p
 * Capability"). A service's protocol descriptor (struct ethd_protocol in
 * <ethd/plugin.h>) receives on_connect / on_message / on_disconnect for
 * every peer that negotiated its capability; it answers through these calls.
 *
 * Threading: every callback runs on the loop thread. ethd_peer_send,
 * ethd_peer_disconnect, ethd_peer_ref/unref and the read-only accessors are
 * safe from any thread.
 *
 * Lifetime: a peer is reference-counted. It is valid during callbacks; keep
 * it longer with ethd_peer_ref and release with ethd_peer_unref. After
 * on_disconnect, sends fail with ETHD_ECLOSED but accessors keep working
 * until the last reference goes. */
#ifndef ETHD_P2P_H
#define ETHD_P2P_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_peer;
struct ethd_p2p_server;
struct ethd_protocol;

/* Disconnect reasons (rlpx.md, "Disconnect (0x01)"). */
enum ethd_disc_reason {
    ETHD_DISC_REQUESTED = 0x00,
    ETHD_DISC_NETWORK_ERROR = 0x01,
    ETHD_DISC_PROTOCOL_ERROR = 0x02, /* breach of protocol */
    ETHD_DISC_USELESS_PEER = 0x03,
    ETHD_DISC_TOO_MANY_PEERS = 0x04,
    ETHD_DISC_ALREADY_CONNECTED = 0x05,
    ETHD_DISC_INCOMPATIBLE_VERSION = 0x06,
    ETHD_DISC_INVALID_IDENTITY = 0x07,
    ETHD_DISC_QUITTING = 0x08,
    ETHD_DISC_UNEXPECTED_IDENTITY = 0x09,
    ETHD_DISC_SELF = 0x0a,
    ETHD_DISC_TIMEOUT = 0x0b, /* ping timeout */
    ETHD_DISC_SUBPROTOCOL = 0x10,
};
/* "too many peers", ...; never NULL ("unknown reason" for others). */
const char *ethd_disc_reason_str(int reason);

/* Called exactly once for a send that returned 0: status 0 when the frame
 * was handed to the kernel, ETHD_ECLOSED if the peer went away first. Runs on
 * the loop thread. */
typedef void (*ethd_peer_sent_fn)(struct ethd_peer *peer, int status, void *arg);

/* Send message `code` (relative to the protocol's own message space) of
 * protocol `proto` (the descriptor the service registered). `payload` is the
 * RLP body; it is copied, compressed and framed by the transport.
 * ETHD_ECLOSED if the peer is disconnected or disconnecting; ETHD_EINVAL if
 * the peer did not negotiate `proto` or code >= proto->length; ETHD_ETOOBIG
 * over the message size limit; ETHD_EBUSY if the peer's outbound queue is
 * full (the peer is slow: the caller decides whether to drop it). */
int ethd_peer_send(struct ethd_peer *peer, const struct ethd_protocol *proto, uint64_t code,
                   const void *payload, size_t len, ethd_peer_sent_fn sent, void *arg);
/* Send Disconnect(reason), flush briefly, close. Idempotent; on_disconnect
 * follows on the loop thread. */
void ethd_peer_disconnect(struct ethd_peer *peer, int reason);

void ethd_peer_ref(struct ethd_peer *peer);
void ethd_peer_unref(struct ethd_peer *peer);

bool ethd_peer_connected(const struct ethd_peer *peer);
bool ethd_peer_inbound(const struct ethd_peer *peer);
/* 64-byte node id (public key); borrowed for the peer's lifetime. */
const uint8_t *ethd_peer_id(const struct ethd_peer *peer);
/* Client id from its Hello, "ip:port" of the remote end; borrowed. */
const char *ethd_peer_client_id(const struct ethd_peer *peer);
const char *ethd_peer_remote_addr(const struct ethd_peer *peer);
/* Negotiated version of capability `name`, 0 if not shared. */
uint32_t ethd_peer_version(const struct ethd_peer *peer, const char *name);

/* One pointer of private state per (peer, protocol), for the service's own
 * per-peer record. Loop thread only. */
void ethd_peer_set_data(struct ethd_peer *peer, const struct ethd_protocol *proto, void *data);
void *ethd_peer_get_data(const struct ethd_peer *peer, const struct ethd_protocol *proto);

struct ethd_peer_stats {
    uint64_t bytes_in, bytes_out; /* on the wire, framing included */
    uint64_t msgs_in, msgs_out;
    uint64_t connected_at_ms;     /* unix time, ms */
    uint64_t last_rtt_us;         /* last Ping->Pong round trip; 0 = none yet */
    size_t queued;                /* messages waiting to be written */
};
int ethd_peer_stats(const struct ethd_peer *peer, struct ethd_peer_stats *out);

/* Be told when the peer closes (any reason): fn runs once on the loop
 * thread; *id cancels it with ethd_peer_unwatch. */
typedef void (*ethd_peer_closed_fn)(struct ethd_peer *peer, int reason, void *arg);
int ethd_peer_watch_close(struct ethd_peer *peer, ethd_peer_closed_fn fn, void *arg, uint64_t *id);
void ethd_peer_unwatch(struct ethd_peer *peer, uint64_t id);

/* Known-item set: a bounded set of 32-byte hashes with FIFO eviction, for
 * "this peer has seen block/tx X" so nothing is sent back where it came from.
 * Not thread-safe. *out: caller frees with ethd_known_set_free. */
struct ethd_known_set;
int ethd_known_set_new(size_t capacity, struct ethd_known_set **out);
void ethd_known_set_free(struct ethd_known_set *set);
void ethd_known_set_add(struct ethd_known_set *set, const uint8_t hash[32]);
bool ethd_known_set_has(const struct ethd_known_set *set, const uint8_t hash[32]);
size_t ethd_known_set_count(const struct ethd_known_set *set);

/* ---- the server, from a service's start hook on ---- */
size_t ethd_p2p_peer_count(const struct ethd_p2p_server *srv);
/* Call fn for every connected peer (that negotiated capability `cap`, or all
 * when cap is NULL). Loop thread only; fn must not free the server. */
typedef void (*ethd_peer_each_fn)(struct ethd_peer *peer, void *arg);
void ethd_p2p_each_peer(struct ethd_p2p_server *srv, const char *cap, ethd_peer_each_fn fn,
                        void *arg);
/* Dial "enode://<128 hex>@ip:port" and keep it connected (static peer). */
int ethd_p2p_add_peer(struct ethd_p2p_server *srv, const char *enode);
/* This node's 64-byte id; borrowed. */
const uint8_t *ethd_p2p_node_id(const struct ethd_p2p_server *srv);

#endif
