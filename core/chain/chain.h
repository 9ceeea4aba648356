/* The chain store (internal to core): opening a chain in the node's RocksDB
 * store, the chain/1 interface table, and the entry points the node, the
 * CLI (ethd init/import/export) and the tests use.
 *
 * Column families and keys (num = 8-byte big-endian block number, so keys
 * sort by number and one iterator serves a range):
 *   headers   num || hash  -> header RLP
 *   hashnum   hash         -> num
 *   bodies    num || hash  -> body RLP [txs, uncles(, withdrawals)]
 *   receipts  num || hash  -> receipt list RLP (eth/66-68 wire form)
 *   td        num || hash  -> total difficulty (32 bytes big-endian)
 *   canon     num          -> hash of the canonical block
 *   txlookup  tx hash      -> num || index (4 bytes big-endian)
 *   clique    hash         -> clique snapshot (every 1024 blocks)
 *   meta      "genesis", "genesis.json", "head_header", "head_block", "version"
 */
#ifndef ETHD_CORE_CHAIN_CHAIN_H
#define ETHD_CORE_CHAIN_CHAIN_H
#include <ethd/chain.h>
#include <ethd/store.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_chain;
struct ethd_logger;
struct ethd_bus;
struct event_base;
struct ethd_clique;
struct ethd_cli;
struct ethd_conf;
struct ethd_log_sink;

struct ethd_chain_opts {
    const struct ethd_logger *log; /* borrowed until close; may be NULL */
    uint64_t network_id;           /* 0: the chain id */
    unsigned threads;              /* signer recovery threads; 0: 2 */
};

/* Does the store hold a chain (a stored genesis)? */
bool ethd_chain_present(struct ethd_store *st);

/* Open the chain in `st` (borrowed until ethd_chain_close).
 * genesis_json == NULL: open the existing chain; ETHD_ENOTFOUND if there is
 * none. Otherwise `genesis_json` (len bytes of geth genesis.json, `name` for
 * messages) initialises an empty store, or must give the stored genesis hash
 * (ETHD_EEXIST otherwise, err naming both hashes); when it does, its chain
 * config replaces the stored one. Errors: ETHD_ECONFIG (bad genesis file),
 * ETHD_EIO, ETHD_ENOMEM; err gets a message. *out: caller frees with
 * ethd_chain_close. */
int ethd_chain_open(struct ethd_store *st, const char *genesis_json, size_t len, const char *name,
                    const struct ethd_chain_opts *opts, struct ethd_chain **out, char *err,
                    size_t errlen);
/* The same with the genesis read from the file at `genesis_path` (NULL:
 * open the existing chain; at most 256 MiB). */
int ethd_chain_open_path(struct ethd_store *st, const char *genesis_path,
                         const struct ethd_chain_opts *opts, struct ethd_chain **out, char *err,
                         size_t errlen);
/* Close; NULL is a no-op. The store stays open. Call from the loop thread
 * if a bus was attached. */
void ethd_chain_close(struct ethd_chain *c);

/* Announce head changes on `bus` (topic ETHD_CHAIN_TOPIC_HEAD), delivered on
 * `base`'s loop thread (base may be NULL: delivered synchronously from the
 * inserting thread). Both borrowed until close. */
int ethd_chain_attach_bus(struct ethd_chain *c, struct ethd_bus *bus, struct event_base *base);

/* The chain/1 table; its functions take a struct ethd_chain * as impl. */
const struct ethd_chain_iface_v1 *ethd_chain_iface(void);

/* Direct forms of the interface (same contracts as include/ethd/chain.h). */
void ethd_chain_head_header(struct ethd_chain *c, struct ethd_chain_head *out);
void ethd_chain_head_block(struct ethd_chain *c, struct ethd_chain_head *out);
const struct ethd_genesis *ethd_chain_genesis(const struct ethd_chain *c);
int ethd_chain_hash_by_number(struct ethd_chain *c, uint64_t number, uint8_t hash[32]);
int ethd_chain_header_by_hash(struct ethd_chain *c, const uint8_t hash[32],
                              struct ethd_header *out);
int ethd_chain_header_by_number(struct ethd_chain *c, uint64_t number, struct ethd_header *out);
int ethd_chain_td_by_hash(struct ethd_chain *c, const uint8_t hash[32], uint8_t td[32]);
int ethd_chain_tx_lookup(struct ethd_chain *c, const uint8_t tx_hash[32], uint64_t *number,
                         uint8_t block_hash[32], uint32_t *index);
int ethd_chain_raw_block_by_hash(struct ethd_chain *c, const uint8_t hash[32],
                                 struct ethd_buf *out);
int ethd_chain_raw_receipts_by_hash(struct ethd_chain *c, const uint8_t hash[32],
                                    struct ethd_buf *out);
int ethd_chain_insert_headers(struct ethd_chain *c, const struct ethd_header *headers, size_t n,
                              struct ethd_chain_insert_result *res);
int ethd_chain_insert_blocks(struct ethd_chain *c, const struct ethd_block *blocks,
                             const struct ethd_trie_item *receipts, size_t n,
                             struct ethd_chain_insert_result *res);
/* Clique signer set after block (hash, number); *signers: caller frees
 * with free(). ETHD_ENOTSUP if the chain is not clique. */
int ethd_chain_clique_signers(struct ethd_chain *c, const uint8_t hash[32], uint64_t number,
                              uint8_t (**signers)[20], size_t *n);

/* `ethd init | import | export` (core/chain/cli_chain.c): the process exit
 * status (0 ok, 1 failure, 2 usage/configuration error). `stop` is set
 * nonzero by a signal handler: import/export then end after the current
 * batch (everything committed stays). All borrowed. */
int ethd_chain_cli_main(const struct ethd_cli *cli, struct ethd_conf *conf,
                        struct ethd_log_sink *sink, volatile sig_atomic_t *stop);

#endif
