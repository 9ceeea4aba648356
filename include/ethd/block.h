/* Chain data types and their RLP codecs: block headers (every field through
 * Prague), transactions of types 0-4, receipts, block bodies and blocks,
 * plus the roots a body/receipt list commits to (Yellow Paper 4.3, 4.4;
 * EIP-1559, 2718, 2930, 4844, 4895, 7685, 7702; devp2p caps/eth.md).
 *
 * Conventions:
 *   - 256-bit quantities (difficulty, fees, values) are uint8_t[32] big-endian.
 *   - Decoders are strict (see <ethd/rlp.h>): a value decoded and encoded
 *     again gives the same bytes, so hashes of re-encodings are the hashes of
 *     what was received.
 *   - Structs are caller-owned; the memory they point to is described per
 *     field. A struct filled by a decoder must be released with its _free
 *     function, whether or not later calls succeeded. _free on a zeroed struct
 *     is a no-op, and every decoder zeroes its output first (also on failure,
 *     after freeing what it allocated).
 *   - Errors: ETHD_EINVAL / ETHD_ETYPE / ETHD_ENONCANON / ETHD_ETRUNC /
 *     ETHD_ETRAILING / ETHD_ERANGE for malformed input, ETHD_ENOMEM,
 *     ETHD_ECRYPTO for bad signatures. */
#ifndef ETHD_BLOCK_H
#define ETHD_BLOCK_H
#include <ethd/buf.h>
#include <ethd/rlp.h>
#include <ethd/trie.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_secp;
struct ethd_chain_config; /* <ethd/genesis.h> */

#define ETHD_HASH_LEN 32
#define ETHD_ADDR_LEN 20
#define ETHD_BLOOM_LEN 256

/* =====================================================================
 * Headers
 * ===================================================================== */

/* Optional trailing header fields, in RLP order. Each needs all the
 * previous ones (a header is a list; a later field cannot be present without
 * the earlier ones): requests needs beacon root needs blob gas needs
 * withdrawals needs base fee. */
#define ETHD_HDR_BASE_FEE 0x01u    /* London, EIP-1559 */
#define ETHD_HDR_WITHDRAWALS 0x02u /* Shanghai, EIP-4895 */
#define ETHD_HDR_BLOB_GAS 0x04u    /* Cancun, EIP-4844: blob_gas_used and excess_blob_gas */
#define ETHD_HDR_BEACON_ROOT 0x08u /* Cancun, EIP-4788 */
#define ETHD_HDR_REQUESTS 0x10u    /* Prague, EIP-7685 */

/* Largest extra-data accepted by the decoder. Consensus limits it to 32
 * bytes on mainnet, but clique puts vanity + signers + seal there, so the
 * codec only bounds memory; verifiers apply the real rule. */
#define ETHD_HDR_MAX_EXTRA (64 * 1024)

struct ethd_header {
    uint8_t parent_hash[32];
    uint8_t uncles_hash[32];
    uint8_t coinbase[20];
    uint8_t state_root[32];
    uint8_t tx_root[32];
    uint8_t receipts_root[32];
    uint8_t bloom[256];
    uint8_t difficulty[32];
    uint64_t number;
    uint64_t gas_limit;
    uint64_t gas_used;
    uint64_t timestamp;
    uint8_t *extra; /* owned (malloc); NULL when extra_len == 0 */
    size_t extra_len;
    uint8_t mix_hash[32];
    uint8_t nonce[8];
    unsigned present; /* ETHD_HDR_* bits of the optional fields below */
    uint8_t base_fee[32];
    uint8_t withdrawals_root[32];
    uint64_t blob_gas_used;
    uint64_t excess_blob_gas;
    uint8_t parent_beacon_root[32];
    uint8_t requests_hash[32];
};

/* Decode one RLP header occupying all of `in`. `h` is overwritten (not
 * freed first); h->extra: caller frees with ethd_header_free. ETHD_EINVAL
 * for a wrong field count/size or an optional field without its
 * predecessors, plus the RLP errors. */
int ethd_header_decode(const uint8_t *in, size_t len, struct ethd_header *h);
/* Same from an already-decoded RLP item (borrowed for the call). */
int ethd_header_decode_item(const struct ethd_rlp_item *it, struct ethd_header *h);
/* Append the RLP encoding of `h` to `out`. ETHD_EINVAL if h->present is
 * not a valid prefix set; ETHD_ENOMEM. */
int ethd_header_encode(const struct ethd_header *h, struct ethd_buf *out);
/* Append the header as one item to an encoder that is being built (for
 * block and header-list encodings); errors are reported by the encoder,
 * and an invalid `present` sets it to ETHD_EINVAL. */
void ethd_header_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_header *h);
/* keccak256 of the RLP encoding: the block hash. ETHD_EINVAL, ETHD_ENOMEM. */
int ethd_header_hash(const struct ethd_header *h, uint8_t out[32]);
/* Deep copy; dst->extra: caller frees with ethd_header_free. `dst` is
 * overwritten (not freed first). */
int ethd_header_copy(struct ethd_header *dst, const struct ethd_header *src);
/* Replace h->extra with a copy of p[0..n) (frees the old one). */
int ethd_header_set_extra(struct ethd_header *h, const void *p, size_t n);
/* Frees h->extra and zeroes the struct; the struct itself is the caller's. */
void ethd_header_free(struct ethd_header *h);

/* =====================================================================
 * Transactions (EIP-2718 envelope; types 0-4)
 * ===================================================================== */

enum ethd_tx_type {
    ETHD_TX_LEGACY = 0,
    ETHD_TX_ACCESS_LIST = 1, /* EIP-2930 */
    ETHD_TX_DYNAMIC_FEE = 2, /* EIP-1559 */
    ETHD_TX_BLOB = 3,        /* EIP-4844 (network wrapper with blobs not accepted here) */
    ETHD_TX_SET_CODE = 4,    /* EIP-7702 */
};

struct ethd_tx {
    uint8_t type;           /* enum ethd_tx_type */
    bool has_chain_id;      /* typed: always; legacy: EIP-155 signature (v >= 35) */
    uint64_t chain_id;      /* larger chain ids are rejected (ETHD_ERANGE) */
    uint64_t nonce;
    uint8_t gas_price[32];  /* types 0, 1 */
    uint8_t max_priority_fee[32]; /* types 2, 3, 4 */
    uint8_t max_fee[32];          /* types 2, 3, 4 */
    uint64_t gas;
    bool has_to;            /* false: contract creation (types 0-2 only) */
    uint8_t to[20];
    uint8_t value[32];
    uint8_t *data;          /* owned; NULL when data_len == 0 */
    size_t data_len;
    /* Access list (types 1-4): its whole RLP list encoding, kept verbatim. */
    uint8_t *access_list;   /* owned; NULL for type 0 */
    size_t access_list_len;
    size_t access_list_addrs; /* number of [address, keys] entries */
    size_t access_list_keys;  /* storage keys over all entries */
    uint8_t max_fee_per_blob_gas[32]; /* type 3 */
    uint8_t (*blob_hashes)[32];       /* owned; type 3 */
    size_t n_blob_hashes;
    /* Authorization list (type 4): whole RLP list encoding, verbatim. Each
     * entry is [chain_id, address, nonce, y_parity, r, s]. */
    uint8_t *auth_list;     /* owned; NULL unless type 4 */
    size_t auth_list_len;
    size_t n_auth;
    /* The signature's v field as encoded: legacy 27/28 or 35+2*chain_id+{0,1}
     * (can exceed 64 bits); typed: the y parity (0/1 when valid). Decoders
     * keep any canonical value; ethd_tx_sender rejects invalid ones. */
    uint8_t v[32];
    uint8_t y_parity;       /* recovery id derived from v (0/1) when v is valid */
    uint8_t r[32];
    uint8_t s[32];
    uint8_t hash[32];       /* keccak of the canonical encoding; set by decode/sign */
};

/* Decode the canonical form: a legacy RLP list, or `type || rlp(fields)`
 * (what eth_sendRawTransaction and transaction test vectors carry, and what
 * the transactions trie stores). Sets tx->hash. Caller frees with
 * ethd_tx_free. ETHD_ENOTSUP for an unknown type byte (0x00, 0x05..0x7f),
 * ETHD_ETYPE for a first byte 0x80..0xbf, ETHD_EINVAL for a wrong field
 * count or size (to not 20 bytes, a type-3/4 creation, an access-list
 * address not 20 bytes or key not 32 bytes, ...), ETHD_ERANGE for a typed
 * chain id above 2^64-1 or a value wider than its field. Signature values
 * are only checked by ethd_tx_sender / ethd_tx_validate. */
int ethd_tx_decode(const uint8_t *in, size_t len, struct ethd_tx *tx);
/* Decode a transaction as eth_sendRawTransaction and the eth
 * PooledTransactions message carry it: like ethd_tx_decode, but a blob
 * transaction may also come in its network form with the sidecar,
 *   3 || rlp([tx_payload_body, blobs, commitments, proofs])        (EIP-4844)
 *   3 || rlp([tx_payload_body, 1, blobs, commitments, cell_proofs]) (EIP-7594)
 * The sidecar's shape is checked against the blob hashes (131072-byte
 * blobs, 48-byte commitments and proofs; one proof per blob, or 128 cell
 * proofs per blob) but it is not verified (no KZG) and not kept. tx->hash
 * is the hash of the canonical form. *had_sidecar (may be NULL) tells
 * whether the network form was used; whether it was required is the
 * caller's rule. */
int ethd_tx_decode_pooled(const uint8_t *in, size_t len, struct ethd_tx *tx, bool *had_sidecar);
/* Decode a transaction as it appears as an item of a block body or a
 * Transactions message: a list item is a legacy tx, a string item holds a
 * typed envelope (and must not itself hold a legacy list). */
int ethd_tx_decode_item(const struct ethd_rlp_item *it, struct ethd_tx *tx);
/* Append the canonical form (see ethd_tx_decode) to `out`. */
int ethd_tx_encode(const struct ethd_tx *tx, struct ethd_buf *out);
/* Append the tx as one item of a body/message list (legacy: the list;
 * typed: a string holding the envelope). Errors go to the encoder. */
void ethd_tx_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_tx *tx);
/* Hash that is signed: legacy keccak(rlp([nonce, gasPrice, gas, to, value,
 * data])) or, for EIP-155, with [chain_id, 0, 0] appended (the chain id
 * taken from tx->chain_id when has_chain_id); typed keccak(type ||
 * rlp(fields without the signature)). */
int ethd_tx_signing_hash(const struct ethd_tx *tx, uint8_t out[32]);
/* Recover the sender. Checks: r, s in [1, n); typed y_parity 0/1; legacy v
 * 27/28 or 35+2*chain_id+{0,1}; if `homestead` (EIP-2), s <= n/2.
 * ETHD_ECRYPTO on any failure. `secp` borrowed. */
int ethd_tx_sender(const struct ethd_secp *secp, const struct ethd_tx *tx, bool homestead,
                   uint8_t addr[20]);
/* Sign `tx` with seckey: fills v/y_parity, r, s and hash. For a legacy tx,
 * tx->has_chain_id selects EIP-155. ETHD_ECRYPTO for a bad key. */
int ethd_tx_sign(const struct ethd_secp *secp, struct ethd_tx *tx, const uint8_t seckey[32]);
/* Frees the owned arrays and zeroes the struct. */
void ethd_tx_free(struct ethd_tx *tx);

/* The protocol rules in force at one block (like geth's params.Rules). */
struct ethd_rules {
    uint64_t chain_id;
    bool homestead, eip150, eip155, eip158, byzantium, constantinople, petersburg, istanbul,
        berlin, london, merge, shanghai, cancun, prague, osaka;
};
/* Rules for a named fork of the ethereum/tests families ("Frontier",
 * "Homestead", "EIP150", "EIP158", "Byzantium", "Constantinople",
 * "ConstantinopleFix", "Istanbul", "MuirGlacier", "Berlin", "London",
 * "ArrowGlacier", "GrayGlacier", "Paris"/"Merge", "Shanghai", "Cancun",
 * "Prague", "Osaka"): every fork up to it active. ETHD_ENOTFOUND. */
int ethd_rules_for_fork(const char *name, uint64_t chain_id, struct ethd_rules *r);

/* Intrinsic gas (Yellow Paper 6.2 and later EIPs: 21000, +32000 creation
 * from Homestead, calldata 4/68 or 4/16 from Istanbul (EIP-2028), access
 * list 2400/1900 (EIP-2930), initcode 2 per word from Shanghai (EIP-3860),
 * 25000 per authorization (EIP-7702)). ETHD_ERANGE if it exceeds 2^64-1. */
int ethd_tx_intrinsic_gas(const struct ethd_tx *tx, const struct ethd_rules *r, uint64_t *gas);
/* Every check possible without state, returning the first failure:
 *   ETHD_ENOTSUP  the type is not active under the rules;
 *   ETHD_ERANGE   nonce 2^64-1 (EIP-2681), gas below the intrinsic gas, or
 *                 below the EIP-7623 floor (Prague), or above 2^24 (Osaka,
 *                 EIP-7825);
 *   ETHD_EINVAL   chain id differs from r->chain_id, max_priority_fee >
 *                 max_fee, a type-3 tx without blob hashes or with a hash
 *                 whose version byte is not 0x01, a type-4 tx with an
 *                 empty authorization list;
 *   ETHD_ETOOBIG  initcode above 49152 bytes (EIP-3860, Shanghai);
 *   ETHD_ECRYPTO  an EIP-155 signature before EIP-155, r or s zero or
 *                 >= n, high s from Homestead (EIP-2), bad v, or no key
 *                 recovers.
 * If `sender` is not NULL it gets the recovered address. Not checked
 * (needs state or the block): balance, account nonce, fee vs base fee,
 * blob count vs the schedule, gas vs the block gas limit. */
int ethd_tx_validate(const struct ethd_secp *secp, const struct ethd_tx *tx,
                     const struct ethd_rules *r, uint8_t sender[20]);

/* =====================================================================
 * Receipts and logs
 * ===================================================================== */

struct ethd_log {
    uint8_t address[20];
    uint8_t (*topics)[32]; /* owned */
    size_t n_topics;
    uint8_t *data;         /* owned; NULL when data_len == 0 */
    size_t data_len;
};

struct ethd_receipt {
    uint8_t type;            /* tx type the receipt belongs to */
    bool has_post_state;     /* pre-Byzantium: post-state root instead of status */
    uint8_t post_state[32];
    uint8_t status;          /* 0 failed, 1 success (when !has_post_state) */
    uint64_t cumulative_gas;
    uint8_t bloom[256];
    struct ethd_log *logs;   /* owned */
    size_t n_logs;
};

/* Consensus form (what the receipts trie stores): legacy = RLP list
 * [status, cumulativeGas, bloom, logs]; typed = type || rlp(same). The
 * bloom is taken as received (check it with ethd_receipt_check_bloom).
 * Caller frees with ethd_receipt_free. */
int ethd_receipt_decode(const uint8_t *in, size_t len, struct ethd_receipt *r);
/* eth/66-68 Receipts wire item: a list (legacy) or a string holding the
 * typed consensus form. */
int ethd_receipt_decode_item(const struct ethd_rlp_item *it, struct ethd_receipt *r);
int ethd_receipt_encode(const struct ethd_receipt *r, struct ethd_buf *out);
void ethd_receipt_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_receipt *r);
/* eth/69 (EIP-7642) wire item: [type, status, cumulativeGas, logs], no
 * bloom; decoding recomputes the bloom from the logs. */
int ethd_receipt_decode_69(const struct ethd_rlp_item *it, struct ethd_receipt *r);
void ethd_receipt_encode_69(struct ethd_rlp_enc *e, const struct ethd_receipt *r);
/* Yellow Paper 4.3.1: for each of the three 11-bit values taken from the
 * first six bytes of keccak(p), set that bit (counted from the low end) of
 * the 2048-bit bloom. */
void ethd_bloom_add(uint8_t bloom[256], const void *p, size_t n);
/* Bloom of all logs (addresses and topics). */
void ethd_logs_bloom(const struct ethd_log *logs, size_t n, uint8_t bloom[256]);
/* 0 if r->bloom equals the bloom of r->logs, ETHD_EINVAL otherwise. */
int ethd_receipt_check_bloom(const struct ethd_receipt *r);
void ethd_receipt_free(struct ethd_receipt *r);

/* A block's receipt list in the eth/66-68 wire form (an RLP list of
 * receipt items). *out: caller frees with ethd_receipts_free. */
int ethd_receipts_decode_list(const struct ethd_rlp_item *list, struct ethd_receipt **out,
                              size_t *n);
void ethd_receipts_free(struct ethd_receipt *rs, size_t n);
/* Ordered trie of the consensus encodings: the header's receiptsRoot. */
int ethd_receipts_root(const struct ethd_receipt *rs, size_t n, uint8_t root[32]);

/* =====================================================================
 * Bodies and blocks
 * ===================================================================== */

struct ethd_withdrawal { /* EIP-4895 */
    uint64_t index;
    uint64_t validator;
    uint8_t address[20];
    uint64_t amount; /* Gwei */
};

/* A body. Transactions are kept as their canonical encodings (legacy list
 * bytes, or type || rlp), each a view *borrowed* from the buffer passed to
 * the decoder (valid while that buffer is); decode one with ethd_tx_decode.
 * The arrays themselves are owned by the body. */
struct ethd_body {
    struct ethd_trie_item *txs; /* owned array of borrowed views */
    size_t n_txs;
    struct ethd_header *uncles; /* owned; each freed by ethd_body_free */
    size_t n_uncles;
    bool has_withdrawals;       /* the body list had a third element */
    struct ethd_withdrawal *withdrawals; /* owned */
    size_t n_withdrawals;
};

/* Decode [txs, uncles] or [txs, uncles, withdrawals] (eth BlockBodies item).
 * Caller frees with ethd_body_free; views borrow the item's buffer.
 * Each tx item is only checked to be a list, or a string holding a known
 * type byte followed by one RLP list; the fields are not decoded here. */
int ethd_body_decode_item(const struct ethd_rlp_item *it, struct ethd_body *b);
/* Append the body list ([txs, uncles(, withdrawals)]) to an encoder. */
void ethd_body_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_body *b);
int ethd_body_tx_root(const struct ethd_body *b, uint8_t root[32]);
/* keccak of the RLP list of the uncle headers (ommersHash). */
int ethd_body_uncles_hash(const struct ethd_body *b, uint8_t out[32]);
/* Ordered trie of RLP([index, validator, address, amount]). */
int ethd_body_withdrawals_root(const struct ethd_body *b, uint8_t root[32]);
/* Check the body against the header: tx root, uncles hash, and withdrawals
 * present exactly when the header has a withdrawals root, with that root.
 * 0 if it matches; ETHD_EINVAL otherwise, with a static reason in *why
 * (may be NULL) such as "transactions root mismatch". */
int ethd_body_verify(const struct ethd_header *h, const struct ethd_body *b, const char **why);
void ethd_body_free(struct ethd_body *b);

/* A block: [header, txs, uncles(, withdrawals)] as in chain.rlp files and
 * NewBlock messages. */
struct ethd_block {
    struct ethd_header header;     /* owned (free with ethd_block_free) */
    const uint8_t *header_raw;     /* borrowed from the decoder's input */
    size_t header_raw_len;
    struct ethd_body body;         /* views borrowed from the decoder's input */
    const uint8_t *raw;            /* the whole block encoding, borrowed */
    size_t raw_len;
    uint8_t hash[32];              /* keccak(header_raw) */
};

/* Decode one block occupying all of `in` (borrowed: must outlive *b). */
int ethd_block_decode(const uint8_t *in, size_t len, struct ethd_block *b);
/* Same from an item (e.g. the next item of a chain file, ethd_rlp_next). */
int ethd_block_decode_item(const struct ethd_rlp_item *it, struct ethd_block *b);
/* Append the block's RLP to `out` (from header + body, not raw). */
int ethd_block_encode(const struct ethd_block *b, struct ethd_buf *out);
void ethd_block_free(struct ethd_block *b);

#endif
