/* Consensus-independent block checks: header against its parent (Yellow
 * Paper 4.3.4; EIP-1559 gas limit and base fee), body against its header,
 * receipts against their header. Internal to core (the chain store and the
 * tests use it). Every check returns 0, or ETHD_EINVAL (or another negative
 * code) with a human reason written to why (may be NULL). */
#ifndef ETHD_CORE_CHAIN_VERIFY_H
#define ETHD_CORE_CHAIN_VERIFY_H
#include <ethd/block.h>
#include <ethd/genesis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_GAS_LIMIT_MIN 5000u             /* params.MinGasLimit */
#define ETHD_GAS_LIMIT_MAX 0x7fffffffffffffffull /* 2^63 - 1 */
#define ETHD_GAS_LIMIT_BOUND_DIVISOR 1024u
#define ETHD_BASE_FEE_CHANGE_DENOMINATOR 8u   /* EIP-1559 */
#define ETHD_ELASTICITY_MULTIPLIER 2u         /* EIP-1559 */
#define ETHD_INITIAL_BASE_FEE 1000000000u     /* EIP-1559: 1 gwei at the fork block */
#define ETHD_MAX_EXTRA_DATA 32u               /* params.MaximumExtraDataSize */

/* Header rules that need only the parent: parent hash link, number =
 * parent + 1, timestamp (> parent unless `clique`, whose own rule is
 * >= parent + period), extra-data size (32 bytes unless `clique`), gas used
 * <= gas limit <= 2^63-1, gas limit within parent/1024 of the parent's (the
 * parent's doubled at the London block) and >= 5000, the optional fields the
 * active forks require, and the EIP-1559 base fee. `parent_hash` is the
 * parent's block hash. */
int ethd_chain_verify_header(const struct ethd_chain_config *cfg, bool clique,
                             const struct ethd_header *h, const struct ethd_header *parent,
                             const uint8_t parent_hash[32], char *why, size_t whylen);

/* EIP-1559 base fee of the child of `parent`: 1 gwei if `parent` is before
 * London, else from the parent's gas used against its target. */
int ethd_chain_calc_base_fee(const struct ethd_chain_config *cfg, const struct ethd_header *parent,
                             uint8_t out[32]);

/* Body against header: transactions root, uncles hash, withdrawals
 * (ethd_body_verify), and a bound on the uncle count (2). */
int ethd_chain_verify_body(const struct ethd_header *h, const struct ethd_body *b, char *why,
                           size_t whylen);

/* A receipt list in the eth/66-68 wire form (an RLP list item) against the
 * header: one receipt per transaction (n_txs), each receipt's bloom equals
 * the bloom of its logs, the OR of the blooms equals the header's logs
 * bloom, the last cumulative gas equals gas used, and the ordered trie of
 * the consensus encodings equals the receipts root. */
int ethd_chain_verify_receipts(const struct ethd_header *h, const struct ethd_rlp_item *list,
                               size_t n_txs, char *why, size_t whylen);

/* 256-bit big-endian helpers. */
/* out = a + b; ETHD_ERANGE on overflow (out may alias a or b). */
int ethd_chain_u256_add(const uint8_t a[32], const uint8_t b[32], uint8_t out[32]);
/* memcmp-style comparison. */
int ethd_chain_u256_cmp(const uint8_t a[32], const uint8_t b[32]);
void ethd_chain_u256_from_u64(uint64_t v, uint8_t out[32]);

#endif
