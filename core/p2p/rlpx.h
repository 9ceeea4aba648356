/* RLPx transport codec (devp2p rlpx.md; EIP-8 handshake; EIP-706 snappy):
 * pure functions and state machines over byte buffers, no sockets. The peer
 * (core/p2p/peer.c) feeds it what the socket gives and writes what it makes. */
#ifndef ETHD_CORE_P2P_RLPX_H
#define ETHD_CORE_P2P_RLPX_H
#include <ethd/buf.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_RLPX_AUTH_LEGACY_LEN 307 /* pre-EIP-8 auth on the wire */
#define ETHD_RLPX_ACK_LEGACY_LEN 210  /* pre-EIP-8 ack on the wire */
#define ETHD_RLPX_HANDSHAKE_MAX 2048  /* larger auth/ack sizes are refused */
#define ETHD_RLPX_FRAME_MAX 0xffffffu /* frame-size is 24 bits: the most a frame can claim */

/* ---- handshake ("Initial Handshake") ---- */
struct ethd_rlpx_handshake {
    const struct ethd_secp *secp; /* borrowed */
    bool initiator;
    uint8_t static_priv[32];      /* our node key */
    uint8_t remote_pub[64];       /* initiator: known in advance; recipient: from auth */
    uint8_t eph_priv[32];
    uint8_t nonce[32];
    uint8_t remote_eph_pub[64];
    uint8_t remote_nonce[32];
    uint64_t remote_version;      /* auth-vsn / ack-vsn the other side sent (4 for legacy) */
    bool remote_eip8;             /* the other side used the EIP-8 format */
    struct ethd_buf auth;         /* exact auth bytes on the wire (prefix included) */
    struct ethd_buf ack;          /* exact ack bytes on the wire */
};

/* Set up a handshake. The initiator passes the recipient's public key;
 * the recipient passes NULL. Fresh ephemeral key and nonce from getrandom().
 * Free with ethd_rlpx_hs_free. */
int ethd_rlpx_hs_init(struct ethd_rlpx_handshake *hs, const struct ethd_secp *secp,
                      bool initiator, const uint8_t static_priv[32], const uint8_t *remote_pub);
/* For tests: replace the random ephemeral key and nonce. */
void ethd_rlpx_hs_set_ephemeral(struct ethd_rlpx_handshake *hs, const uint8_t eph_priv[32],
                                const uint8_t nonce[32]);
void ethd_rlpx_hs_free(struct ethd_rlpx_handshake *hs);

/* Initiator: build auth in the EIP-8 format (size prefix, padding) into `out`
 * (appended) and remember it. */
int ethd_rlpx_hs_write_auth(struct ethd_rlpx_handshake *hs, struct ethd_buf *out);
/* Recipient: parse auth from the first `len` bytes received, either format.
 * ETHD_EAGAIN (with *need set to the total bytes needed when known, else 0)
 * if incomplete; ETHD_ECRYPTO if it does not decrypt or its signature does
 * not recover; ETHD_ETOOBIG if the size prefix exceeds the maximum; ETHD_EPROTO
 * for bad contents. On success *consumed is the message length. */
int ethd_rlpx_hs_read_auth(struct ethd_rlpx_handshake *hs, const uint8_t *in, size_t len,
                           size_t *consumed, size_t *need);
/* Recipient: build ack (EIP-8 format if the auth was EIP-8, else legacy). */
int ethd_rlpx_hs_write_ack(struct ethd_rlpx_handshake *hs, struct ethd_buf *out);
/* Initiator: parse ack (either format); same conventions as read_auth. */
int ethd_rlpx_hs_read_ack(struct ethd_rlpx_handshake *hs, const uint8_t *in, size_t len,
                          size_t *consumed, size_t *need);

/* Session secrets ("Handshake" section: ephemeral-key, shared-secret,
 * aes-secret, mac-secret, egress-mac, ingress-mac). */
struct ethd_rlpx_secrets {
    uint8_t aes[32];
    uint8_t mac[32];
    struct ethd_keccak egress_mac;  /* already seeded as the spec says */
    struct ethd_keccak ingress_mac;
    uint8_t remote_pub[64];
};
int ethd_rlpx_hs_secrets(const struct ethd_rlpx_handshake *hs, struct ethd_rlpx_secrets *out);

/* ---- framing ("Framing") ---- */
struct ethd_rlpx_frame; /* opaque: AES-256-CTR states, MAC states, read state */

/* *out: caller frees with ethd_rlpx_frame_free. max_frame <= ETHD_RLPX_FRAME_MAX;
 * 0 means ETHD_RLPX_FRAME_MAX. */
int ethd_rlpx_frame_new(const struct ethd_rlpx_secrets *s, size_t max_frame,
                        struct ethd_rlpx_frame **out);
void ethd_rlpx_frame_free(struct ethd_rlpx_frame *f);
/* Append one frame carrying message `code` (frame-data = RLP(code) || payload)
 * to out. ETHD_ETOOBIG if it exceeds max_frame. */
int ethd_rlpx_frame_write(struct ethd_rlpx_frame *f, uint64_t code, const uint8_t *payload,
                          size_t len, struct ethd_buf *out);
/* Read one frame from `in` (what has arrived so far). ETHD_EAGAIN with *need
 * = total bytes needed (header first, then header + body) if incomplete; the
 * header is decrypted once, so call again with the same start of input.
 * ETHD_ECRYPTO on a bad header or frame MAC; ETHD_ETOOBIG if the header
 * claims more than max_frame; ETHD_EPROTO if frame-data does not start with a
 * valid RLP message code (*consumed is still set: the stream stays usable).
 * ETHD_ECRYPTO and ETHD_ETOOBIG are permanent: the state refuses every later
 * read. On success: *consumed bytes used; *code, *payload, *plen describe the
 * message (payload borrowed until the next read call, even one that returns
 * ETHD_EAGAIN, or free). */
int ethd_rlpx_frame_read(struct ethd_rlpx_frame *f, const uint8_t *in, size_t len,
                         size_t *consumed, size_t *need, uint64_t *code, const uint8_t **payload,
                         size_t *plen);

/* ---- snappy (EIP-706): payloads of p2p version >= 5 ---- */
/* Compress into out (replacing its content). */
int ethd_rlpx_snappy_compress(const uint8_t *in, size_t len, struct ethd_buf *out);
/* Decompress into out (replacing its content). The declared length is checked
 * against `max` BEFORE any allocation: ETHD_ETOOBIG if larger, ETHD_EPROTO if
 * the input is not valid snappy. */
int ethd_rlpx_snappy_decompress(const uint8_t *in, size_t len, size_t max, struct ethd_buf *out);

#endif
