/* les client-side flow control arithmetic (devp2p caps/les.md, "Client Side
 * Flow Control"), shared by the server's per-client buffer and the client's
 * estimate of it (BLE). Pure functions, no clock: callers pass the time.
 *
 * Units: costs and buffer values are abstract "cost units"; MRR is in cost
 * units per second, as the spec states it (go-ethereum's implementation
 * counts per millisecond; docs/les.md says so). The buffer is kept in
 * milli-units so that recharge over whole milliseconds is exact:
 * bv_milli += MRR * dt_ms, capped at BL * 1000. */
#ifndef ETHD_PLUGIN_LES_FC_H
#define ETHD_PLUGIN_LES_FC_H
#include "les_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_les_fc {
    uint64_t bl;       /* buffer limit */
    uint64_t mrr;      /* minimum recharge rate, units per second */
    uint64_t bv_milli; /* buffer value * 1000 */
    uint64_t last_ms;  /* time of the last recharge */
};

/* A full buffer (BV = BL) at time now_ms. */
void ethd_les_fc_init(struct ethd_les_fc *fc, uint64_t bl, uint64_t mrr, uint64_t now_ms);
/* Recharge up to now_ms (a time before the last one recharges nothing). */
void ethd_les_fc_recharge(struct ethd_les_fc *fc, uint64_t now_ms);
/* Buffer value in whole units at now_ms (recharges first; rounds down). */
uint64_t ethd_les_fc_value(struct ethd_les_fc *fc, uint64_t now_ms);
/* Deduct `cost` at now_ms. ETHD_EAGAIN, deducting nothing, when the buffer
 * holds less than `cost` (a buffer underrun). */
int ethd_les_fc_charge(struct ethd_les_fc *fc, uint64_t now_ms, uint64_t cost);
/* Set the buffer to `bv` units at now_ms (client side: a reply's BV minus
 * what is still in flight), capped at BL. */
void ethd_les_fc_set(struct ethd_les_fc *fc, uint64_t bv, uint64_t now_ms);
/* Milliseconds from now_ms until the buffer holds at least `target` units
 * (0 if it already does; UINT64_MAX if it never will: MRR 0 or target > BL). */
uint64_t ethd_les_fc_wait_ms(struct ethd_les_fc *fc, uint64_t now_ms, uint64_t target);

/* MaxCost of a request with `count` elements by the table (caps/les.md:
 * BaseCost + ReqCost * N), saturating at UINT64_MAX. ETHD_ENOTFOUND if the
 * table has no entry for the code. */
int ethd_les_fc_cost(const struct ethd_les_cost *table, size_t n, uint64_t code, uint64_t count,
                     uint64_t *cost);

#endif
