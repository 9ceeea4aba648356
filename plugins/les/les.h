/* The les plugin: internal declarations shared by its files.
 *
 *   les_msg.c     message codecs (les_msg.h)
 *   les_fc.c      flow control arithmetic (les_fc.h)
 *   les_cht.c     canonical hash trie and MPT proofs (les_cht.h)
 *   les_server.c  service "les-server": les/2..4 serving light clients
 *   les.c         the plugin descriptor (registers the services)
 *
 * Everything runs on the loop thread. Non-static names start with ethd_les_
 * (the plugin exports only its descriptor; the prefix keeps the project's
 * naming rule). */
#ifndef ETHD_PLUGIN_LES_H
#define ETHD_PLUGIN_LES_H
#include "les_cht.h"
#include "les_fc.h"
#include "les_msg.h"

#include <ethd/ethd.h>
#include <ethd/secp256k1.h>

#include <stdbool.h>
#include <stdint.h>

struct ethd_service_ops;
struct ethd_protocol;

/* les_server.c */
extern const struct ethd_service_ops ethd_les_server_service;
extern const struct ethd_protocol ethd_les_server_protocols[3];

/* Monotonic milliseconds. */
uint64_t ethd_les_now_ms(void);

/* The node key from DATADIR/nodekey (64 hex digits, geth's format) when its
 * public key is `node_id`: 0 and *key, or ETHD_ENOTFOUND (no such file, or
 * another key: the node was given its key some other way). There is no
 * public signing API for the node key yet (docs/les.md). */
int ethd_les_load_node_key(const struct ethd_secp *secp, const char *datadir,
                           const uint8_t node_id[64], uint8_t key[32]);

#endif
