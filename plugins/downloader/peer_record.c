/* Per-peer request sizing and timeouts (peer_record.h). */
#include "peer_record.h"

#include <ethd/error.h>
#include <ethd/p2p.h>

#include <string.h>

#define IMPACT 0.1           /* weight of one measurement (geth: measurementImpact) */
#define START_CAPACITY 64.0  /* items/s before anything is measured */
#define MIN_CAPACITY 1.0

void ethd_dl_rate_config_default(struct dl_rate_config *c)
{
    c->target_rtt_ms = 3000;
    c->min_rtt_ms = 2000;
    c->max_rtt_ms = 20000;
    c->max_timeout_ms = 60000;
    c->max_items[DL_HEADERS] = 1024;
    c->max_items[DL_BODIES] = 128;
    c->max_items[DL_RECEIPTS] = 256;
    c->max_items[DL_STATE] = 384;
}

int ethd_dl_peer_record_init(struct dl_peer_record *r, size_t lacking_cap)
{
    memset(r, 0, sizeof(*r));
    for (int k = 0; k < DL_KINDS; k++) {
        r->rate[k].idle = true;
        r->rate[k].capacity = START_CAPACITY;
        r->rate[k].rtt_ms = 0; /* unknown: the clamp's floor is used */
        r->rate[k].confidence = 0.5;
    }
    return ethd_known_set_new(lacking_cap ? lacking_cap : 1, &r->lacking) ? ETHD_ENOMEM : 0;
}

void ethd_dl_peer_record_free(struct dl_peer_record *r)
{
    ethd_known_set_free(r->lacking);
    r->lacking = NULL;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

uint32_t ethd_dl_rate_request_size(const struct dl_rate *r, const struct dl_rate_config *c,
                                   enum dl_kind kind)
{
    double n = r->capacity * (double)c->target_rtt_ms / 1000.0;
    double cap = c->max_items[kind] ? c->max_items[kind] : 1;
    return (uint32_t)clampd(n, 1.0, cap);
}

uint64_t ethd_dl_rate_timeout(const struct dl_rate *r, const struct dl_rate_config *c)
{
    double rtt = clampd(r->rtt_ms, (double)c->min_rtt_ms, (double)c->max_rtt_ms);
    /* Low confidence widens the margin (up to 2x at confidence 0). */
    double t = 3.0 * rtt * (2.0 - clampd(r->confidence, 0.0, 1.0));
    return (uint64_t)clampd(t, (double)c->min_rtt_ms, (double)c->max_timeout_ms);
}

void ethd_dl_rate_begin(struct dl_rate *r, uint32_t asked, uint64_t now_ms)
{
    r->idle = false;
    r->asked = asked;
    r->started_ms = now_ms;
}

void ethd_dl_rate_deliver(struct dl_rate *r, const struct dl_rate_config *c, uint32_t got,
                          uint64_t now_ms)
{
    r->idle = true;
    uint64_t took = now_ms > r->started_ms ? now_ms - r->started_ms : 1;
    if (got == 0) {
        /* An empty answer says nothing about speed, only that the peer lacks
         * the data: ask it for less. */
        r->empties++;
        r->capacity = clampd(r->capacity / 2.0, MIN_CAPACITY, 1e9);
        return;
    }
    r->delivered += got;
    double measured = (double)got * 1000.0 / (double)took;
    r->capacity = (1.0 - IMPACT) * r->capacity + IMPACT * measured;
    if (r->capacity < MIN_CAPACITY)
        r->capacity = MIN_CAPACITY;
    double rtt = clampd((double)took, 1.0, (double)c->max_rtt_ms);
    r->rtt_ms = r->rtt_ms <= 0 ? rtt : (1.0 - IMPACT) * r->rtt_ms + IMPACT * rtt;
    /* A short answer counts as half a success. */
    double gain = got >= r->asked ? 1.0 : 0.5;
    r->confidence = clampd(r->confidence + (1.0 - r->confidence) * IMPACT * gain, 0.0, 1.0);
}

void ethd_dl_rate_timeout_hit(struct dl_rate *r, const struct dl_rate_config *c)
{
    r->idle = true;
    r->timeouts++;
    r->capacity = clampd(r->capacity / 4.0, MIN_CAPACITY, 1e9);
    r->confidence = clampd(r->confidence / 2.0, 0.0, 1.0);
    /* The round trip was at least the timeout it took. */
    double floor = (double)ethd_dl_rate_timeout(r, c) / 3.0;
    if (r->rtt_ms < floor)
        r->rtt_ms = clampd(floor, 0.0, (double)c->max_rtt_ms);
}

void ethd_dl_peer_lacks(struct dl_peer_record *r, const uint8_t hash[32])
{
    if (!ethd_known_set_has(r->lacking, hash)) {
        ethd_known_set_add(r->lacking, hash);
        r->lacking_added++;
    }
}

bool ethd_dl_peer_lacking(const struct dl_peer_record *r, const uint8_t hash[32])
{
    return ethd_known_set_has(r->lacking, hash);
}

static const char *const kind_names[DL_KINDS] = {"headers", "bodies", "receipts", "state"};

json_t *ethd_dl_peer_record_json(const struct dl_peer_record *r)
{
    json_t *o = json_object();
    for (int k = 0; o && k < DL_KINDS; k++) {
        const struct dl_rate *x = &r->rate[k];
        json_object_set_new(
            o, kind_names[k],
            json_pack("{s:b, s:f, s:f, s:f, s:I, s:I, s:I}", "idle", x->idle, "capacity",
                      x->capacity, "rttMs", x->rtt_ms, "confidence", x->confidence, "delivered",
                      (json_int_t)x->delivered, "timeouts", (json_int_t)x->timeouts, "empties",
                      (json_int_t)x->empties));
    }
    if (o)
        json_object_set_new(o, "lacking",
                            json_integer((json_int_t)ethd_known_set_count(r->lacking)));
    return o;
}
