/* Internals shared by the chain store's two halves: store.c (opening,
 * verified inserts, fork choice) and lookup.c (reads, raw RLP for serving,
 * the chain/1 table). Not installed; nothing outside core/chain includes it. */
#ifndef ETHD_CORE_CHAIN_STORE_PRIV_H
#define ETHD_CORE_CHAIN_STORE_PRIV_H
#include "chain/chain.h"

#include <ethd/bus.h>
#include <ethd/secp256k1.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct event;
struct ethd_clique;

struct ethd_chain {
    struct ethd_store *st;
    struct ethd_store_cf *headers, *hashnum, *bodies, *receipts, *td, *canon, *txlookup, *cliq,
        *meta;
    const struct ethd_logger *log;
    struct ethd_genesis g;
    uint64_t network_id;
    unsigned threads;
    struct ethd_secp *secp;
    struct ethd_clique *clique; /* NULL unless config.clique */

    pthread_mutex_t mu; /* inserts, heads, the clique engine */
    struct ethd_chain_head hh, hb;

    struct ethd_bus *bus;
    struct event *ev;
    pthread_mutex_t ev_mu; /* ev_pending, ev_data */
    bool ev_pending;
    struct ethd_chain_head_event ev_data;
};

/* Keys: block numbers are 8 bytes big-endian so keys sort by number. */
void ethd_chain_num_key(uint64_t n, uint8_t k[8]);
uint64_t ethd_chain_key_num(const uint8_t k[8]);
void ethd_chain_nh_key(uint64_t n, const uint8_t hash[32], uint8_t k[40]);

/* Plain reads (no lock: RocksDB reads are consistent per call). Values from
 * get_nh: caller frees with free(). */
int ethd_chain_get_number(struct ethd_chain *c, const uint8_t hash[32], uint64_t *n);
int ethd_chain_get_canon(struct ethd_chain *c, uint64_t n, uint8_t hash[32]);
int ethd_chain_get_nh(struct ethd_chain *c, struct ethd_store_cf *cf, uint64_t n,
                      const uint8_t hash[32], uint8_t **v, size_t *vl);
bool ethd_chain_has_nh(struct ethd_chain *c, struct ethd_store_cf *cf, uint64_t n,
                       const uint8_t hash[32]);
int ethd_chain_get_td(struct ethd_chain *c, uint64_t n, const uint8_t hash[32], uint8_t td[32]);
int ethd_chain_get_header(struct ethd_chain *c, uint64_t n, const uint8_t hash[32],
                          struct ethd_header *out);

#endif
