/* The canonical hash trie (devp2p caps/les.md, "Canonical Hash Trie") and
 * Merkle proofs over it.
 *
 * CHT[i] maps every block number 0 .. (i+1) * section_size - 1 to
 * RLP [blockHash, totalDifficulty] under the key BE64(number): a plain
 * (not secure) Merkle-Patricia trie. Because the keys are consecutive
 * numbers, the builder never sorts or stores them: the subtree under a key
 * prefix is an interval of numbers, computed arithmetically, so memory is
 * O(trie depth) and each entry is read once through a callback.
 *
 * The proof walker and verifier are generic (any MPT): the server walks its
 * stored nodes, the client (and the tests) verify a proof against a root. */
#ifndef ETHD_PLUGIN_LES_CHT_H
#define ETHD_PLUGIN_LES_CHT_H
#include <ethd/buf.h>
#include <ethd/rlp.h>
#include <stddef.h>
#include <stdint.h>

#define LES_CHT_SECTION_SIZE 32768u /* caps/les.md: "for every 32768 blocks" */
#define LES_CHT_CONFIRMATIONS 2048u /* "only generated after 2048 confirmations" */

/* The CHT value of a block: RLP [hash, td] (td without leading zeros). */
int ethd_les_cht_value(const uint8_t hash[32], const uint8_t td[32], struct ethd_buf *out);

/* Entry source: the canonical hash and total difficulty of `number`. */
typedef int (*ethd_les_cht_entry_fn)(void *arg, uint64_t number, uint8_t hash[32],
                                     uint8_t td[32]);
/* Node sink: a node referenced by hash (encoding >= 32 bytes, and the root),
 * both borrowed for the call. A non-zero return stops the build. */
typedef int (*ethd_les_trie_node_fn)(void *arg, const uint8_t hash[32], const uint8_t *node,
                                     size_t len);

/* Root of the CHT over blocks 0 .. n-1 (n >= 1). `emit` may be NULL.
 * Errors from `get`/`emit` are returned as they are; ETHD_ENOMEM. */
int ethd_les_cht_build(uint64_t n, ethd_les_cht_entry_fn get, void *get_arg,
                       ethd_les_trie_node_fn emit, void *emit_arg, uint8_t root[32]);

/* Node source for the prover: append the node with this hash to *out;
 * ETHD_ENOTFOUND if unknown. */
typedef int (*ethd_les_trie_lookup_fn)(void *arg, const uint8_t hash[32], struct ethd_buf *out);

/* Proof of `key` in the trie with `root`: the hashed nodes on the path from
 * the root, in order, appended to *out as raw RLP items (one after another,
 * no list prefix), leaving out the first `from_level` of them. *n_out gets
 * the number appended. A key that is absent gets the nodes that prove its
 * absence. ETHD_ENOTFOUND if a node is missing from the source; ETHD_EPROTO
 * for a node that does not decode. Keys longer than 64 bytes: ETHD_EINVAL. */
int ethd_les_trie_prove(const uint8_t root[32], const uint8_t *key, size_t klen,
                        uint64_t from_level, ethd_les_trie_lookup_fn lookup, void *arg,
                        struct ethd_buf *out, size_t *n_out);

/* Verify a proof: `nodes` is a list whose items are trie nodes (raw RLP
 * lists, or byte strings holding a node's encoding), in any order. On
 * success *val / *vlen is the value stored under `key`, borrowed from
 * `nodes`. ETHD_ENOTFOUND when the proof shows the key is absent;
 * ETHD_EPROTO when a needed node is missing or does not decode;
 * ETHD_EINVAL for keys over 64 bytes. */
int ethd_les_trie_verify(const uint8_t root[32], const uint8_t *key, size_t klen,
                         const struct ethd_rlp_item *nodes, const uint8_t **val, size_t *vlen);

#endif
