/* Consensus-independent header, body and receipt checks (Yellow Paper
 * 4.3.4 "Block Header Validity"; EIP-1559 "Specification" for the gas
 * limit at the fork block and the base fee; go-ethereum's VerifyGaslimit
 * and CalcBaseFee give the same rules). */
#include "chain/verify.h"

#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* ---- 256-bit arithmetic (big-endian bytes; limbs little-endian) ---- */

static void to_limbs(const uint8_t be[32], uint64_t l[5])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = v << 8 | be[32 - 8 * (i + 1) + k];
        l[i] = v;
    }
    l[4] = 0;
}

/* ETHD_ERANGE if the value needs more than 256 bits. */
static int from_limbs(const uint64_t l[5], uint8_t be[32])
{
    if (l[4])
        return ETHD_ERANGE;
    for (int i = 0; i < 4; i++) {
        uint64_t v = l[i];
        for (int k = 7; k >= 0; k--, v >>= 8)
            be[32 - 8 * (i + 1) + k] = (uint8_t)v;
    }
    return 0;
}

static void mul_small(uint64_t l[5], uint64_t m)
{
    unsigned __int128 carry = 0;
    for (int i = 0; i < 5; i++) {
        unsigned __int128 p = (unsigned __int128)l[i] * m + carry;
        l[i] = (uint64_t)p;
        carry = p >> 64;
    }
}

static void div_small(uint64_t l[5], uint64_t d)
{
    unsigned __int128 rem = 0;
    for (int i = 4; i >= 0; i--) {
        unsigned __int128 cur = rem << 64 | l[i];
        l[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
}

int ethd_chain_u256_add(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
    unsigned carry = 0;
    uint8_t tmp[32];
    for (int i = 31; i >= 0; i--) {
        unsigned s = (unsigned)a[i] + b[i] + carry;
        tmp[i] = (uint8_t)s;
        carry = s >> 8;
    }
    if (carry)
        return ETHD_ERANGE;
    memcpy(out, tmp, 32);
    return 0;
}

int ethd_chain_u256_cmp(const uint8_t a[32], const uint8_t b[32])
{
    return memcmp(a, b, 32);
}

void ethd_chain_u256_from_u64(uint64_t v, uint8_t out[32])
{
    memset(out, 0, 24);
    for (int i = 31; i >= 24; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* ---- header ---- */

int ethd_chain_calc_base_fee(const struct ethd_chain_config *cfg, const struct ethd_header *parent,
                             uint8_t out[32])
{
    if (!ethd_chain_block_active(cfg, ETHD_BF_LONDON, parent->number)) {
        ethd_chain_u256_from_u64(ETHD_INITIAL_BASE_FEE, out);
        return 0;
    }
    if (!(parent->present & ETHD_HDR_BASE_FEE))
        return ETHD_EINVAL;
    uint64_t target = parent->gas_limit / ETHD_ELASTICITY_MULTIPLIER;
    if (parent->gas_used == target || target == 0) {
        memcpy(out, parent->base_fee, 32);
        return 0;
    }
    uint64_t l[5];
    to_limbs(parent->base_fee, l);
    if (parent->gas_used > target) {
        mul_small(l, parent->gas_used - target);
        div_small(l, target);
        div_small(l, ETHD_BASE_FEE_CHANGE_DENOMINATOR);
        uint8_t delta[32];
        if (from_limbs(l, delta))
            return ETHD_ERANGE;
        static const uint8_t one[32] = {[31] = 1};
        if (memcmp(delta, (const uint8_t[32]){0}, 32) == 0)
            memcpy(delta, one, 32);
        return ethd_chain_u256_add(parent->base_fee, delta, out);
    }
    mul_small(l, target - parent->gas_used);
    div_small(l, target);
    div_small(l, ETHD_BASE_FEE_CHANGE_DENOMINATOR);
    uint64_t b[5];
    to_limbs(parent->base_fee, b);
    /* b - l, saturating at zero (the delta never exceeds the fee here). */
    unsigned __int128 borrow = 0;
    for (int i = 0; i < 5; i++) {
        unsigned __int128 d = (unsigned __int128)b[i] - l[i] - borrow;
        b[i] = (uint64_t)d;
        borrow = (d >> 64) ? 1 : 0;
    }
    if (borrow)
        memset(b, 0, sizeof(b));
    return from_limbs(b, out);
}

static int check_gas_limit(uint64_t parent_limit, uint64_t limit, char *why, size_t whylen)
{
    uint64_t diff = parent_limit > limit ? parent_limit - limit : limit - parent_limit;
    uint64_t bound = parent_limit / ETHD_GAS_LIMIT_BOUND_DIVISOR;
    if (diff >= bound) {
        fail(why, whylen, "invalid gas limit %llu: it may change by less than %llu from %llu",
             (unsigned long long)limit, (unsigned long long)bound,
             (unsigned long long)parent_limit);
        return ETHD_EINVAL;
    }
    if (limit < ETHD_GAS_LIMIT_MIN) {
        fail(why, whylen, "invalid gas limit %llu: below the minimum %u", (unsigned long long)limit,
             ETHD_GAS_LIMIT_MIN);
        return ETHD_EINVAL;
    }
    return 0;
}

int ethd_chain_verify_header(const struct ethd_chain_config *cfg, bool clique,
                             const struct ethd_header *h, const struct ethd_header *parent,
                             const uint8_t parent_hash[32], char *why, size_t whylen)
{
    if (memcmp(h->parent_hash, parent_hash, 32) != 0) {
        fail(why, whylen, "parent hash does not match the previous block");
        return ETHD_EINVAL;
    }
    if (parent->number == UINT64_MAX || h->number != parent->number + 1) {
        fail(why, whylen, "invalid number %llu after parent %llu", (unsigned long long)h->number,
             (unsigned long long)parent->number);
        return ETHD_EINVAL;
    }
    if (!clique && h->timestamp <= parent->timestamp) {
        fail(why, whylen, "timestamp %llu is not after the parent's %llu",
             (unsigned long long)h->timestamp, (unsigned long long)parent->timestamp);
        return ETHD_EINVAL;
    }
    if (!clique && h->extra_len > ETHD_MAX_EXTRA_DATA) {
        fail(why, whylen, "extra-data too long: %zu bytes (at most %u)", h->extra_len,
             ETHD_MAX_EXTRA_DATA);
        return ETHD_EINVAL;
    }
    if (h->gas_limit > ETHD_GAS_LIMIT_MAX) {
        fail(why, whylen, "gas limit %llu above 2^63-1", (unsigned long long)h->gas_limit);
        return ETHD_EINVAL;
    }
    if (h->gas_used > h->gas_limit) {
        fail(why, whylen, "gas used %llu above the gas limit %llu", (unsigned long long)h->gas_used,
             (unsigned long long)h->gas_limit);
        return ETHD_EINVAL;
    }
    const char *fw = NULL;
    if (ethd_chain_check_header_fields(cfg, h, &fw) != 0) {
        fail(why, whylen, "%s", fw ? fw : "header fields do not match the active forks");
        return ETHD_EINVAL;
    }
    int rc;
    if (ethd_chain_block_active(cfg, ETHD_BF_LONDON, h->number)) {
        uint64_t parent_limit = parent->gas_limit;
        /* EIP-1559: at the fork block the target is the old limit, so the
         * limit itself is compared with twice the parent's. */
        if (!ethd_chain_block_active(cfg, ETHD_BF_LONDON, parent->number)) {
            if (parent_limit > UINT64_MAX / ETHD_ELASTICITY_MULTIPLIER) {
                fail(why, whylen, "parent gas limit too large");
                return ETHD_EINVAL;
            }
            parent_limit *= ETHD_ELASTICITY_MULTIPLIER;
        }
        if ((rc = check_gas_limit(parent_limit, h->gas_limit, why, whylen)))
            return rc;
        uint8_t want[32];
        if (ethd_chain_calc_base_fee(cfg, parent, want) != 0) {
            fail(why, whylen, "cannot compute the base fee from the parent");
            return ETHD_EINVAL;
        }
        if (memcmp(want, h->base_fee, 32) != 0) {
            char a[80], b[80];
            ethd_hex_quantity_u256(h->base_fee, a);
            ethd_hex_quantity_u256(want, b);
            fail(why, whylen, "invalid base fee %s, expected %s", a, b);
            return ETHD_EINVAL;
        }
    } else if ((rc = check_gas_limit(parent->gas_limit, h->gas_limit, why, whylen))) {
        return rc;
    }
    return 0;
}

/* ---- body and receipts ---- */

int ethd_chain_verify_body(const struct ethd_header *h, const struct ethd_body *b, char *why,
                           size_t whylen)
{
    if (b->n_uncles > 2) {
        fail(why, whylen, "%zu uncles (at most 2)", b->n_uncles);
        return ETHD_EINVAL;
    }
    const char *w = NULL;
    int rc = ethd_body_verify(h, b, &w);
    if (rc)
        fail(why, whylen, "%s", w ? w : "body does not match the header");
    return rc;
}

int ethd_chain_verify_receipts(const struct ethd_header *h, const struct ethd_rlp_item *list,
                               size_t n_txs, char *why, size_t whylen)
{
    if (!list->is_list) {
        fail(why, whylen, "receipts are not an RLP list");
        return ETHD_EINVAL;
    }
    struct ethd_receipt *rs = NULL;
    size_t n = 0;
    int rc = ethd_receipts_decode_list(list, &rs, &n);
    if (rc) {
        fail(why, whylen, "malformed receipt list: %s", ethd_strerror(rc));
        return rc;
    }
    struct ethd_trie_item *items = NULL;
    if (n != n_txs) {
        fail(why, whylen, "%zu receipts for %zu transactions", n, n_txs);
        rc = ETHD_EINVAL;
        goto out;
    }
    uint8_t bloom[256] = {0};
    for (size_t i = 0; i < n; i++) {
        if (ethd_receipt_check_bloom(&rs[i]) != 0) {
            fail(why, whylen, "receipt %zu: bloom does not match its logs", i);
            rc = ETHD_EINVAL;
            goto out;
        }
        if (i > 0 && rs[i].cumulative_gas < rs[i - 1].cumulative_gas) {
            fail(why, whylen, "receipt %zu: cumulative gas decreases", i);
            rc = ETHD_EINVAL;
            goto out;
        }
        for (size_t k = 0; k < 256; k++)
            bloom[k] |= rs[i].bloom[k];
    }
    uint64_t used = n ? rs[n - 1].cumulative_gas : 0;
    if (used != h->gas_used) {
        fail(why, whylen, "receipts use %llu gas, the header says %llu", (unsigned long long)used,
             (unsigned long long)h->gas_used);
        rc = ETHD_EINVAL;
        goto out;
    }
    if (memcmp(bloom, h->bloom, 256) != 0) {
        fail(why, whylen, "logs bloom mismatch");
        rc = ETHD_EINVAL;
        goto out;
    }
    /* The trie holds the consensus encodings: a legacy receipt's list as is,
     * a typed receipt's bytes (the wire form wraps them in a string). */
    items = calloc(n ? n : 1, sizeof(*items));
    if (!items) {
        rc = ETHD_ENOMEM;
        goto out;
    }
    struct ethd_rlp_iter it;
    struct ethd_rlp_item ri;
    ethd_rlp_iter_init(&it, list);
    for (size_t i = 0; i < n && ethd_rlp_iter_next(&it, &ri) == 0; i++) {
        items[i].data = ri.is_list ? ri.raw : ri.payload;
        items[i].len = ri.is_list ? ri.raw_len : ri.len;
    }
    uint8_t root[32];
    if ((rc = ethd_trie_ordered_root(items, n, root)))
        goto out;
    if (memcmp(root, h->receipts_root, 32) != 0) {
        fail(why, whylen, "receipts root mismatch");
        rc = ETHD_EINVAL;
    }
out:
    free(items);
    ethd_receipts_free(rs, n);
    return rc;
}
