/* The downloader's record of one peer (modelled on the peer-connection record
 * of go-ethereum's downloader): for each request kind an idle flag, a
 * throughput estimate and a round-trip estimate, from which the size of the
 * next request and its timeout follow; and a bounded set of hashes the peer
 * did not have, so they are not asked of it again.
 *
 *   request size   capacity (items/s) x target round trip, at least 1, at
 *                  most the kind's cap;
 *   timeout        3 x the round-trip estimate, scaled up while confidence
 *                  is low, clamped to [min_rtt, max_timeout].
 *
 * A delivery of n items after t ms moves capacity towards n / t (an
 * exponential average, weight 1/10 as geth's measurementImpact); a timeout
 * or an empty answer drops the capacity to a quarter and the confidence
 * with it, so a slow or empty peer gets small requests and others get the
 * work. Pure bookkeeping: no I/O, no clock (callers pass the times). */
#ifndef ETHD_PLUGIN_DL_PEER_RECORD_H
#define ETHD_PLUGIN_DL_PEER_RECORD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum dl_kind { DL_HEADERS = 0, DL_BODIES, DL_RECEIPTS, DL_STATE, DL_KINDS };

struct dl_rate_config {
    uint64_t target_rtt_ms; /* aim: a request answers within this */
    uint64_t min_rtt_ms;    /* round-trip clamp (2 s) ... */
    uint64_t max_rtt_ms;    /* ... (20 s) */
    uint64_t max_timeout_ms;/* a request never waits longer (1 min) */
    uint32_t max_items[DL_KINDS]; /* per request */
};

struct dl_rate {
    bool idle;
    double capacity;     /* items per second */
    double rtt_ms;       /* round-trip estimate */
    double confidence;   /* 0..1: how much the estimates are to be trusted */
    uint64_t started_ms; /* of the request in flight */
    uint32_t asked;      /* items in that request */
    uint64_t delivered, timeouts, empties;
};

struct ethd_known_set;

struct dl_peer_record {
    struct dl_rate rate[DL_KINDS];
    struct ethd_known_set *lacking; /* hashes it answered without */
    uint64_t lacking_added;
};

/* Defaults: target 3 s, clamp 2..20 s, timeout <= 60 s, 1024/128/256/384. */
void ethd_dl_rate_config_default(struct dl_rate_config *c);

/* Fresh record: idle, a modest starting capacity, confidence 0.5. The
 * lacking set holds the last `lacking_cap` hashes. ETHD_ENOMEM. Free with
 * dl_peer_record_free. */
int ethd_dl_peer_record_init(struct dl_peer_record *r, size_t lacking_cap);
void ethd_dl_peer_record_free(struct dl_peer_record *r);

/* Items to ask for in the next request of this kind (>= 1). */
uint32_t ethd_dl_rate_request_size(const struct dl_rate *r, const struct dl_rate_config *c,
                              enum dl_kind kind);
/* Timeout for the next request, in ms. */
uint64_t ethd_dl_rate_timeout(const struct dl_rate *r, const struct dl_rate_config *c);
/* A request of `asked` items goes out at now_ms: the kind is busy. */
void ethd_dl_rate_begin(struct dl_rate *r, uint32_t asked, uint64_t now_ms);
/* Its answer came at now_ms with `got` items (0 = empty: the peer lacks
 * them); the kind is idle again. */
void ethd_dl_rate_deliver(struct dl_rate *r, const struct dl_rate_config *c, uint32_t got,
                     uint64_t now_ms);
/* It timed out (or the peer failed it): capacity and confidence drop. */
void ethd_dl_rate_timeout_hit(struct dl_rate *r, const struct dl_rate_config *c);

/* Remember / ask whether the peer lacks a hash. */
void ethd_dl_peer_lacks(struct dl_peer_record *r, const uint8_t hash[32]);
bool ethd_dl_peer_lacking(const struct dl_peer_record *r, const uint8_t hash[32]);

/* {headers: {idle, capacity, rttMs, confidence, delivered, timeouts, empties},
 *  bodies: ..., receipts: ..., state: ..., lacking: n}. Caller frees. */
json_t *ethd_dl_peer_record_json(const struct dl_peer_record *r);

#endif
