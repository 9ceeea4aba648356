/* Building blocks for generated clique (EIP-225) chains, shared by
 * tools/chaingen.c and the test peer tests/integration/faulty_peer.c (which
 * builds a fork of a fixture chain with them).
 *
 * Only London-and-later clique chains are built (base fee in every header,
 * no withdrawals: clique stops at London, see the devnet-a README). The
 * base fee rule is written out here from EIP-1559 "Specification" rather
 * than taken from core/chain/verify.c, so `ethd import` checks a chain
 * made by an independent implementation of the rule. */
#ifndef ETHD_TOOLS_CHAINGEN_BUILD_H
#define ETHD_TOOLS_CHAINGEN_BUILD_H
#include <ethd/block.h>
#include <ethd/buf.h>
#include <ethd/secp256k1.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_CHAINGEN_VANITY 32 /* EIP-225 EXTRA_VANITY */
#define ETHD_CHAINGEN_SEAL 65   /* EIP-225 EXTRA_SEAL */

/* keccak256(rlp([])): the uncles hash of a block without uncles. */
extern const uint8_t ethd_chaingen_empty_uncles[32];

/* EIP-1559 base fee of the block after `parent` (London active at both):
 * unchanged at the gas target, else moved by parent * |used - target| /
 * target / 8 (at least 1 upwards). ETHD_ERANGE if the parent's base fee
 * does not fit 128 bits or the result would not; ETHD_EINVAL if the parent
 * has no base fee. */
int ethd_chaingen_base_fee(const struct ethd_header *parent, uint8_t out[32]);

/* The unsealed header of an empty in-turn block (difficulty 2) after
 * `parent` (hash `parent_hash`): no uncles, coinbase/nonce/mix zero (no
 * vote), the parent's state root, empty tx/receipt roots and bloom, the
 * parent's gas limit, timestamp parent + period, extra-data = vanity (NULL:
 * zeros) || signers (only when number % epoch == 0; `signers` sorted, as
 * EIP-225 checkpoints list them) || 65 zero bytes, and the base fee.
 * Callers fill transactions fields before sealing. *h: caller frees with
 * ethd_header_free (also on failure). */
int ethd_chaingen_header(const struct ethd_header *parent, const uint8_t parent_hash[32],
                         uint64_t period, uint64_t epoch, const uint8_t *vanity,
                         const uint8_t (*signers)[20], size_t n_signers, struct ethd_header *h);

/* EIP-225 "Block authorization signing": keccak256 of the header RLP
 * without the last 65 bytes of extra-data, signed as r || s || v (v 0/1)
 * into those 65 bytes. ETHD_EINVAL (no room), ETHD_ECRYPTO. `secp`
 * borrowed. */
int ethd_chaingen_seal(const struct ethd_secp *secp, struct ethd_header *h,
                       const uint8_t key[ETHD_SECP_SECKEY_LEN]);

/* Append the block RLP [header, txs, []] to `out`; txs[i] are the
 * canonical transaction encodings (borrowed; typed ones are wrapped in a
 * string as the block format wants, see ethd_tx_encode_rlp). */
int ethd_chaingen_block_encode(const struct ethd_header *h, const struct ethd_trie_item *txs,
                               size_t n_txs, struct ethd_buf *out);

#endif
