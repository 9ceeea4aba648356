/* The `p2p` Hello message (devp2p rlpx.md, "Hello (0x00)"):
 *
 *     [protocolVersion, clientId, [[capName, capVersion], ...], listenPort, nodeId, ...]
 *
 * Decoded with the limits a peer applies before trusting any of it, and
 * encoded from the same struct, so the two can be checked against each
 * other (tests/unit/test_hello.c, fuzz/fuzz_hello.c). Whether the node id is
 * acceptable (not zero, the key the RLPx handshake proved) and which
 * capabilities are shared is the peer's business (peer.c). Internal to core. */
#ifndef ETHD_CORE_P2P_HELLO_H
#define ETHD_CORE_P2P_HELLO_H
#include <ethd/buf.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_P2P_VERSION 5            /* devp2p version we speak (EIP-706) */
#define ETHD_P2P_BASE_MAX_MSG 4096    /* bound on Hello/Disconnect/Ping/Pong payloads */
#define ETHD_P2P_HELLO_CLIENT_ID_MAX 255 /* longer client ids are cut */
#define ETHD_P2P_HELLO_CAP_NAME_MAX 32   /* longer capability names are refused */

struct ethd_p2p_hello_cap {
    char *name;       /* 1..32 printable ASCII characters (0x21..0x7e) */
    uint64_t version;
};

struct ethd_p2p_hello {
    uint64_t version;                /* the sender's devp2p version */
    char *client_id;                 /* printable ASCII; see ethd_p2p_hello_decode */
    struct ethd_p2p_hello_cap *caps; /* as advertised, in the sender's order */
    size_t n_caps;
    uint64_t listen_port;            /* as sent: not checked to fit 16 bits */
    uint8_t id[64];                  /* the sender's secp256k1 public key */
};

/* Decode a Hello payload (after the message id, uncompressed: EIP-706).
 * Refused: more than ETHD_P2P_BASE_MAX_MSG bytes (ETHD_ETOOBIG); anything
 * that is not canonical RLP of the form above, a capability name that is
 * empty, longer than ETHD_P2P_HELLO_CAP_NAME_MAX or not printable, a node id
 * of other than 64 bytes (ETHD_EPROTO). Elements after the node id, and
 * after the version inside a capability, are ignored (EIP-8). The client id
 * is cut to ETHD_P2P_HELLO_CLIENT_ID_MAX bytes and every byte outside
 * 0x20..0x7e becomes '?', so it can be logged and put in JSON as is.
 * On success *out owns its strings and array: caller frees with
 * ethd_p2p_hello_free. On failure *out holds nothing to free. */
int ethd_p2p_hello_decode(const uint8_t *payload, size_t len, struct ethd_p2p_hello *out);

/* Append the RLP of h to out (h borrowed, read only; a NULL client_id is
 * sent as the empty string). 0, or the encoder's error (ETHD_ENOMEM...). */
int ethd_p2p_hello_encode(const struct ethd_p2p_hello *h, struct ethd_buf *out);

/* Free what ethd_p2p_hello_decode allocated and zero *h; NULL-safe. */
void ethd_p2p_hello_free(struct ethd_p2p_hello *h);

#endif
