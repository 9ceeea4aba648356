/* The clique sealer's block building blocks (EIP-225 "Block authorization
 * signing", EIP-1559 "Specification"): the next header on top of a parent,
 * the gas limit and base fee rules, the seal hash, signing and signer
 * recovery, and the signer key file.
 *
 * Pure functions over <ethd/...> types: the clique-sealer service
 * (clique.c) drives them, and tests/unit/test_clique_sealer.c links this
 * file directly. Nothing here touches the chain store. */
#ifndef ETHD_PLUGIN_CLIQUE_SEAL_H
#define ETHD_PLUGIN_CLIQUE_SEAL_H
#include <ethd/block.h>
#include <ethd/genesis.h>
#include <ethd/secp256k1.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHD_SEALER_VANITY 32 /* EIP-225 EXTRA_VANITY */
#define ETHD_SEALER_SEAL 65   /* EIP-225 EXTRA_SEAL */
#define ETHD_SEALER_DIFF_INTURN 2
#define ETHD_SEALER_DIFF_NOTURN 1
#define ETHD_SEALER_INITIAL_BASE_FEE 1000000000u /* EIP-1559 INITIAL_BASE_FEE */

/* What the next block looks like, apart from the parent. */
struct ethd_sealer_params {
    uint64_t now;        /* wall clock, seconds */
    uint64_t period;     /* seconds between blocks (at least the chain's clique period) */
    uint64_t gas_target; /* desired gas limit; 0 keeps the parent's */
    bool in_turn;        /* difficulty 2 (in turn) or 1 (out of turn) */
    /* Checkpoint blocks (number % epoch == 0) list the signers, sorted
     * ascending; borrowed for the call. Ignored elsewhere. */
    const uint8_t (*signers)[20];
    size_t n_signers;
    uint64_t epoch;      /* 0: 30000 */
    const uint8_t *vanity; /* 32 bytes, or NULL for zeros */
};

/* EIP-1559 base fee of the block after `parent` (whose number + 1 is the
 * new block's): the initial 1 gwei at the London block, else from the
 * parent's gas used against its target (gas limit / 2). *present is false
 * (and out zeroed) when London is not active at the new block.
 * ETHD_EINVAL if the parent lacks a base fee after London;
 * ETHD_ERANGE on 256-bit overflow. */
int ethd_sealer_base_fee(const struct ethd_chain_config *cfg, const struct ethd_header *parent,
                         bool *present, uint8_t out[32]);

/* Gas limit of the block after `parent`: the parent's (doubled at the
 * London block, EIP-1559's elasticity), moved toward `target` by at most
 * parent/1024 - 1 (Yellow Paper 4.3.4; never below 5000). target 0 keeps
 * it. */
uint64_t ethd_sealer_gas_limit(const struct ethd_chain_config *cfg,
                               const struct ethd_header *parent, uint64_t target);

/* Build the unsealed header of the block after `parent` (block hash
 * `parent_hash`) for an empty block: uncles hash of [], coinbase and nonce
 * zero (no vote), the parent's state root (no transactions and no rewards
 * leave the state as it is), empty transactions and receipts roots, zero
 * bloom, gas used 0, timestamp max(parent + period, now), extra-data
 * vanity (|| signers at a checkpoint) || 65 zero bytes for the seal, and
 * the base fee when London is active. *out: caller frees with
 * ethd_header_free (also on failure). ETHD_ENOTSUP with a reason in *why
 * when the forks active at the new block need fields clique cannot give
 * (Shanghai and later); ETHD_EINVAL, ETHD_ERANGE, ETHD_ENOMEM. */
int ethd_sealer_build(const struct ethd_chain_config *cfg, const struct ethd_header *parent,
                      const uint8_t parent_hash[32], const struct ethd_sealer_params *p,
                      struct ethd_header *out, const char **why);

/* EIP-225 sigHash: keccak256 of the header's RLP with the last 65 bytes of
 * extra-data removed. ETHD_EINVAL if extra-data is shorter than 65 bytes. */
int ethd_sealer_seal_hash(const struct ethd_header *h, uint8_t out[32]);
/* Sign `h` in place: r || s || v (v = recovery id 0/1) into the last 65
 * bytes of extra-data. ETHD_EINVAL (no room for the seal), ETHD_ECRYPTO. */
int ethd_sealer_sign(const struct ethd_secp *secp, struct ethd_header *h,
                     const uint8_t key[ETHD_SECP_SECKEY_LEN]);
/* Address that sealed `h`. ETHD_EINVAL (no seal), ETHD_ECRYPTO. */
int ethd_sealer_recover(const struct ethd_secp *secp, const struct ethd_header *h,
                        uint8_t signer[20]);

/* The signer key file: 64 hex digits (an optional "0x" and a trailing
 * newline allowed), private to its owner (no group/other permission bits).
 * With `generate` and no file at `path`, a fresh key is written there with
 * mode 0600 (*generated set). Errors: ETHD_ENOTFOUND (no file and not
 * generating), ETHD_EINVAL (bad content or permissions), ETHD_EIO; err
 * gets the message. */
int ethd_sealer_key_load(const struct ethd_secp *secp, const char *path, bool generate,
                         uint8_t key[ETHD_SECP_SECKEY_LEN], bool *generated, char *err,
                         size_t errlen);
/* A key given as hex text (optional "0x"). ETHD_EINVAL if it is not 32
 * bytes or not a valid secp256k1 private key. */
int ethd_sealer_key_parse(const struct ethd_secp *secp, const char *hex,
                          uint8_t key[ETHD_SECP_SECKEY_LEN]);

#endif
