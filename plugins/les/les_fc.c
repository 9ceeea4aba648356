/* les flow control arithmetic (see les_fc.h). */
#include "les_fc.h"

#include <ethd/error.h>

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    if (a && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void ethd_les_fc_init(struct ethd_les_fc *fc, uint64_t bl, uint64_t mrr, uint64_t now_ms)
{
    fc->bl = bl;
    fc->mrr = mrr;
    fc->bv_milli = mul_sat(bl, 1000);
    fc->last_ms = now_ms;
}

void ethd_les_fc_recharge(struct ethd_les_fc *fc, uint64_t now_ms)
{
    if (now_ms <= fc->last_ms)
        return;
    uint64_t cap = mul_sat(fc->bl, 1000);
    fc->bv_milli = add_sat(fc->bv_milli, mul_sat(fc->mrr, now_ms - fc->last_ms));
    if (fc->bv_milli > cap)
        fc->bv_milli = cap;
    fc->last_ms = now_ms;
}

uint64_t ethd_les_fc_value(struct ethd_les_fc *fc, uint64_t now_ms)
{
    ethd_les_fc_recharge(fc, now_ms);
    return fc->bv_milli / 1000;
}

int ethd_les_fc_charge(struct ethd_les_fc *fc, uint64_t now_ms, uint64_t cost)
{
    ethd_les_fc_recharge(fc, now_ms);
    uint64_t c = mul_sat(cost, 1000);
    if (c > fc->bv_milli)
        return ETHD_EAGAIN;
    fc->bv_milli -= c;
    return 0;
}

void ethd_les_fc_set(struct ethd_les_fc *fc, uint64_t bv, uint64_t now_ms)
{
    if (bv > fc->bl)
        bv = fc->bl;
    fc->bv_milli = mul_sat(bv, 1000);
    fc->last_ms = now_ms;
}

uint64_t ethd_les_fc_wait_ms(struct ethd_les_fc *fc, uint64_t now_ms, uint64_t target)
{
    ethd_les_fc_recharge(fc, now_ms);
    uint64_t want = mul_sat(target, 1000);
    if (fc->bv_milli >= want)
        return 0;
    if (target > fc->bl || fc->mrr == 0)
        return UINT64_MAX;
    uint64_t need = want - fc->bv_milli;
    return need / fc->mrr + (need % fc->mrr != 0);
}

int ethd_les_fc_cost(const struct ethd_les_cost *table, size_t n, uint64_t code, uint64_t count,
                     uint64_t *cost)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].code == code) {
            *cost = add_sat(table[i].base, mul_sat(table[i].req, count));
            return 0;
        }
    }
    *cost = 0;
    return ETHD_ENOTFOUND;
}
