/* les wire messages (devp2p caps/les.md, les/2..4): codes, the Status
 * key/value list, request and reply codecs, Announce, StopMsg/ResumeMsg.
 * Pure functions over bytes, no I/O: the unit test and the fuzz target link
 * this file directly.
 *
 * Decoders are strict about the documented form (unknown Status keys are
 * ignored, as the spec asks), allocate nothing, and return views borrowed
 * from the input. Errors: ETHD_EPROTO for a message that does not have the
 * form of its code, ETHD_ENOMEM from encoders. */
#ifndef ETHD_PLUGIN_LES_MSG_H
#define ETHD_PLUGIN_LES_MSG_H
#include <ethd/buf.h>
#include <ethd/forkid.h>
#include <ethd/rlp.h>
#include <ethd/syncer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message codes, relative to the capability's offset (caps/les.md). */
enum {
    LES_STATUS = 0x00,
    LES_ANNOUNCE = 0x01,
    LES_GET_BLOCK_HEADERS = 0x02,
    LES_BLOCK_HEADERS = 0x03,
    LES_GET_BLOCK_BODIES = 0x04,
    LES_BLOCK_BODIES = 0x05,
    LES_GET_RECEIPTS = 0x06,
    LES_RECEIPTS = 0x07,
    LES_GET_PROOFS = 0x08,        /* les/1 only */
    LES_PROOFS = 0x09,            /* les/1 only */
    LES_GET_CONTRACT_CODES = 0x0a,
    LES_CONTRACT_CODES = 0x0b,
    LES_SEND_TX = 0x0c,           /* les/1 only */
    LES_GET_HEADER_PROOFS = 0x0d, /* les/1 only */
    LES_HEADER_PROOFS = 0x0e,     /* les/1 only */
    LES_GET_PROOFS_V2 = 0x0f,
    LES_PROOFS_V2 = 0x10,
    LES_GET_HELPER_TRIE_PROOFS = 0x11,
    LES_HELPER_TRIE_PROOFS = 0x12,
    LES_SEND_TX_V2 = 0x13,
    LES_GET_TX_STATUS = 0x14,
    LES_TX_STATUS = 0x15,
    LES_STOP = 0x16,   /* les/3 */
    LES_RESUME = 0x17, /* les/3 */
};

/* Message space: les/2 ends at TxStatus, les/3 and les/4 add Stop/Resume. */
#define LES_LENGTH_2 0x16u
#define LES_LENGTH_3 0x18u

/* Announce types (caps/les.md, Status "announceType"). */
#define LES_ANNOUNCE_NONE 0
#define LES_ANNOUNCE_SIMPLE 1
#define LES_ANNOUNCE_SIGNED 2

/* Helper trie types (GetHelperTrieProofs subType). */
#define LES_HT_CHT 0
#define LES_HT_BLOOMBITS 1
/* auxReq values. */
#define LES_AUX_ROOT 1
#define LES_AUX_HEADER 2

/* Name of a code for logs ("GetBlockHeaders"); "unknown" otherwise. */
const char *ethd_les_msg_name(uint64_t code);
/* True for the on-demand request codes of les/2+ (the ones in the MRC table). */
bool ethd_les_is_request(uint64_t code);
/* The reply code of a request code (0 for others). */
uint64_t ethd_les_reply_code(uint64_t req_code);

/* One flowControl/MRC entry: MaxCost = base + req * N (caps/les.md,
 * "Client Side Flow Control"). */
struct ethd_les_cost {
    uint64_t code, base, req;
};
#define LES_MAX_COSTS 16

/* Status key/value list. has_* say which optional keys are present; the
 * decoder requires protocolVersion, networkId, headTd, headHash, headNum,
 * genesisHash, and forkID when `form` (the negotiated version) is >= 4. */
struct ethd_les_status {
    uint64_t version, network_id;
    uint8_t head_td[32];
    uint8_t head_hash[32];
    uint64_t head_num;
    uint8_t genesis[32];
    bool has_forkid;
    struct ethd_forkid forkid;
    bool has_announce_type;
    uint64_t announce_type;
    bool serve_headers;
    bool has_serve_chain_since, has_serve_recent_chain;
    uint64_t serve_chain_since, serve_recent_chain;
    bool has_serve_state_since, has_serve_recent_state;
    uint64_t serve_state_since, serve_recent_state;
    bool tx_relay;
    bool has_recent_tx_lookup;
    uint64_t recent_tx_lookup;
    bool has_bl, has_mrr, has_mrc;
    uint64_t bl, mrr;
    struct ethd_les_cost mrc[LES_MAX_COSTS];
    size_t n_mrc;
};
int ethd_les_status_encode(const struct ethd_les_status *s, struct ethd_buf *out);
int ethd_les_status_decode(uint32_t form, const uint8_t *in, size_t len,
                           struct ethd_les_status *s);

/* GetBlockHeaders: [reqID, [origin: {P, B_32}, amount, skip, reverse]]. */
int ethd_les_get_headers_encode(uint64_t req_id, const struct ethd_eth_headers_query *q,
                                struct ethd_buf *out);
int ethd_les_get_headers_decode(const uint8_t *in, size_t len, uint64_t *req_id,
                                struct ethd_eth_headers_query *q);

/* Requests [reqID, [item, ...]] (GetBlockBodies, GetReceipts, GetTxStatus:
 * items are 32-byte hashes; GetProofsV2, GetContractCodes: items are lists;
 * SendTxV2: transactions). The decoder checks the form of every item for
 * the given code and returns the list and its count. */
int ethd_les_req_decode(uint64_t code, const uint8_t *in, size_t len, uint64_t *req_id,
                        struct ethd_rlp_item *list, size_t *count);
int ethd_les_hashes_encode(uint64_t req_id, const uint8_t (*hashes)[32], size_t n,
                           struct ethd_buf *out);

/* One GetHelperTrieProofs entry: [subType, sectionIdx, key, fromLevel, auxReq]. */
struct ethd_les_ht_req {
    uint64_t sub_type, section;
    const uint8_t *key; /* borrowed from the message */
    size_t key_len;
    uint64_t from_level, aux_req;
};
/* Next entry of a list checked by ethd_les_req_decode(LES_GET_HELPER_TRIE_PROOFS). */
int ethd_les_ht_req_next(struct ethd_rlp_iter *it, struct ethd_les_ht_req *r);
int ethd_les_ht_req_encode(uint64_t req_id, const struct ethd_les_ht_req *reqs, size_t n,
                           struct ethd_buf *out);

/* Replies [reqID, BV, [item, ...]]: items are already-encoded RLP items,
 * concatenated (copied verbatim). */
int ethd_les_reply_encode(uint64_t req_id, uint64_t bv, const uint8_t *items, size_t items_len,
                          struct ethd_buf *out);
/* HelperTrieProofs and ProofsV2 use a different body; the encoder takes
 * the whole third element already encoded. */
int ethd_les_reply_encode_raw(uint64_t req_id, uint64_t bv, const uint8_t *body, size_t body_len,
                              struct ethd_buf *out);
/* Decode [reqID, BV, body]: body is any item (a list for every reply). */
int ethd_les_reply_decode(const uint8_t *in, size_t len, uint64_t *req_id, uint64_t *bv,
                          struct ethd_rlp_item *body);

/* Announce: [headHash, headNumber, headTd, reorgDepth, [[key, value], ...]].
 * `sig` (65 bytes) is the "sign" key's value when set. */
struct ethd_les_announce {
    uint8_t hash[32];
    uint64_t number;
    uint8_t td[32];
    uint64_t reorg_depth;
    bool has_sig;
    uint8_t sig[65];
};
int ethd_les_announce_encode(const struct ethd_les_announce *a, struct ethd_buf *out);
int ethd_les_announce_decode(const uint8_t *in, size_t len, struct ethd_les_announce *a);
/* The bytes a signed announcement signs: RLP [headHash, headNumber, headTd]. */
int ethd_les_announce_signed_data(const struct ethd_les_announce *a, struct ethd_buf *out);

/* StopMsg: an empty list. ResumeMsg: [BV] (a bare integer is accepted too,
 * as some implementations send it). */
int ethd_les_stop_encode(struct ethd_buf *out);
int ethd_les_stop_decode(const uint8_t *in, size_t len);
int ethd_les_resume_encode(uint64_t bv, struct ethd_buf *out);
int ethd_les_resume_decode(const uint8_t *in, size_t len, uint64_t *bv);

#endif
