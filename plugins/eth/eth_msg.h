/* eth wire protocol messages (devp2p caps/eth.md; EIP-2481 request ids,
 * EIP-5793 eth/68, EIP-7642 eth/69): codes, and the codecs of every
 * message eth/66..69 carry. Pure functions over bytes, no I/O: the unit test
 * links this file directly.
 *
 * Decoders are strict (every element of the documented form, nothing more),
 * allocate nothing, and return views borrowed from the input. Errors:
 * ETHD_EPROTO for a message that does not have the form of its code (the
 * service disconnects with ProtocolError), ETHD_ENOMEM from encoders. */
#ifndef ETHD_PLUGIN_ETH_MSG_H
#define ETHD_PLUGIN_ETH_MSG_H
#include <ethd/buf.h>
#include <ethd/forkid.h>
#include <ethd/rlp.h>
#include <ethd/syncer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message codes, relative to the capability's offset (caps/eth.md). */
enum {
    ETH_STATUS = 0x00,
    ETH_NEW_BLOCK_HASHES = 0x01,
    ETH_TRANSACTIONS = 0x02,
    ETH_GET_BLOCK_HEADERS = 0x03,
    ETH_BLOCK_HEADERS = 0x04,
    ETH_GET_BLOCK_BODIES = 0x05,
    ETH_BLOCK_BODIES = 0x06,
    ETH_NEW_BLOCK = 0x07,
    ETH_NEW_POOLED_TX_HASHES = 0x08,
    ETH_GET_POOLED_TXS = 0x09,
    ETH_POOLED_TXS = 0x0a,
    ETH_GET_NODE_DATA = 0x0d, /* eth/66 only (EIP-4938 removed it in eth/67) */
    ETH_NODE_DATA = 0x0e,
    ETH_GET_RECEIPTS = 0x0f,
    ETH_RECEIPTS = 0x10,
    ETH_BLOCK_RANGE_UPDATE = 0x11, /* eth/69 */
};

/* Message space of each version: the highest code + 1. eth/67 and eth/68
 * keep 0x0d/0x0e reserved, so all three use 17; eth/69 adds 0x11. */
#define ETH_LENGTH_66 17u
#define ETH_LENGTH_69 18u

/* Name of a code for logs ("GetBlockHeaders"); "unknown" otherwise. */
const char *ethd_eth_msg_name(uint64_t code);

/* Status. eth/66-68: [version, networkid, td, blockhash, genesis, forkid];
 * eth/69: [version, networkid, genesis, forkid, earliest, latest,
 * latestHash]. The form is chosen by the negotiated version, not by the
 * version field, which the receiver compares. */
struct ethd_eth_status {
    uint64_t version;
    uint64_t network_id;
    uint8_t td[32];   /* eth/66-68 */
    uint8_t head[32]; /* eth/66-68: head block hash; eth/69: latestHash */
    uint8_t genesis[32];
    struct ethd_forkid forkid;
    uint64_t earliest, latest; /* eth/69 */
};
int ethd_eth_status_encode(uint32_t form, const struct ethd_eth_status *s, struct ethd_buf *out);
int ethd_eth_status_decode(uint32_t form, const uint8_t *in, size_t len,
                           struct ethd_eth_status *s);

/* GetBlockHeaders: [request-id, [origin: {P, B_32}, amount, skip, reverse: {0, 1}]]. */
int ethd_eth_get_headers_encode(uint64_t req_id, const struct ethd_eth_headers_query *q,
                                struct ethd_buf *out);
int ethd_eth_get_headers_decode(const uint8_t *in, size_t len, uint64_t *req_id,
                                struct ethd_eth_headers_query *q);

/* Requests by hash (GetBlockBodies, GetReceipts, GetPooledTransactions,
 * GetNodeData): [request-id, [hash, ...]]. The decoder checks the form of
 * the whole list (every item a 32-byte string) and returns the list item;
 * walk it with ethd_eth_hash_next. */
int ethd_eth_hashes_encode(uint64_t req_id, const uint8_t (*hashes)[32], size_t n,
                           struct ethd_buf *out);
int ethd_eth_hashes_decode(const uint8_t *in, size_t len, uint64_t *req_id,
                           struct ethd_rlp_item *list, size_t *count);
/* Next hash of a list checked by ethd_eth_hashes_decode: 1 and *hash, or 0
 * at the end. */
int ethd_eth_hash_next(struct ethd_rlp_iter *it, const uint8_t **hash);

/* Responses (BlockHeaders, BlockBodies, Receipts, PooledTransactions,
 * NodeData): [request-id, [item, ...]]. Building one: begin, then append
 * each item's encoding (raw) to `items`, then finish. */
struct ethd_eth_resp {
    struct ethd_buf items; /* concatenated item encodings */
    size_t n;
};
void ethd_eth_resp_init(struct ethd_eth_resp *r);
int ethd_eth_resp_add(struct ethd_eth_resp *r, const void *item, size_t len);
/* Encode [req_id, [items]] into out (replacing its content). */
int ethd_eth_resp_encode(const struct ethd_eth_resp *r, uint64_t req_id, struct ethd_buf *out);
void ethd_eth_resp_free(struct ethd_eth_resp *r);
/* Decode [request-id, list]; `list` must be a list (its items are not checked). */
int ethd_eth_resp_decode(const uint8_t *in, size_t len, uint64_t *req_id,
                         struct ethd_rlp_item *list);

/* NewBlockHashes: [[hash, number], ...]. encode from arrays; the decoder
 * checks every entry and returns the count; walk with ethd_eth_nbh_next. */
int ethd_eth_nbh_encode(const uint8_t (*hashes)[32], const uint64_t *numbers, size_t n,
                        struct ethd_buf *out);
int ethd_eth_nbh_decode(const uint8_t *in, size_t len, struct ethd_rlp_item *list, size_t *count);
int ethd_eth_nbh_next(struct ethd_rlp_iter *it, const uint8_t **hash, uint64_t *number);

/* NewBlock: [block, td]. The block is only checked to be a list here
 * (ethd_block_decode_item does the rest). */
int ethd_eth_new_block_encode(const uint8_t *block, size_t len, const uint8_t td[32],
                              struct ethd_buf *out);
int ethd_eth_new_block_decode(const uint8_t *in, size_t len, struct ethd_rlp_item *block,
                              uint8_t td[32]);

/* BlockRangeUpdate (eth/69): [earliest, latest, latestHash]. */
int ethd_eth_range_encode(uint64_t earliest, uint64_t latest, const uint8_t hash[32],
                          struct ethd_buf *out);
int ethd_eth_range_decode(const uint8_t *in, size_t len, uint64_t *earliest, uint64_t *latest,
                          uint8_t hash[32]);

/* NewPooledTransactionHashes. eth/66-67: [hash, ...]; eth/68+: [types: B,
 * [size, ...], [hash, ...]] with as many types as sizes and hashes. The
 * decoder checks the form and returns the number of announced hashes and,
 * for eth/68, the types string and size/hash lists. */
struct ethd_eth_pooled_ann {
    size_t n;
    const uint8_t *types;        /* eth/68: n bytes; NULL before */
    struct ethd_rlp_item sizes;  /* eth/68 */
    struct ethd_rlp_item hashes;
};
int ethd_eth_pooled_ann_decode(uint32_t version, const uint8_t *in, size_t len,
                               struct ethd_eth_pooled_ann *a);
int ethd_eth_pooled_ann_encode(uint32_t version, const uint8_t *types, const uint32_t *sizes,
                               const uint8_t (*hashes)[32], size_t n, struct ethd_buf *out);

/* Transactions: [tx, ...]; each item a legacy list or a string holding a
 * typed transaction. Returns the count (transactions are not decoded). */
int ethd_eth_txs_check(const uint8_t *in, size_t len, size_t *count);

/* One block's receipt list between the eth/66-68 wire form (what the chain
 * stores) and the eth/69 form ([type, status, cumulativeGas, logs] per
 * receipt, no bloom): to69 appends the eth/69 list as one item to `e`;
 * from69 appends the eth/66-68 list encoding to `out` (blooms recomputed).
 * ETHD_EPROTO for a malformed list. */
int ethd_eth_receipts_to69(const uint8_t *list68, size_t len, struct ethd_rlp_enc *e);
int ethd_eth_receipts_from69(const struct ethd_rlp_item *list69, struct ethd_buf *out);

#endif
