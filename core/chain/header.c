/* Block header codec (Yellow Paper 4.3, with the fields appended by
 * EIP-1559, EIP-4895, EIP-4844, EIP-4788 and EIP-7685). */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/keccak.h>

#include <stdlib.h>
#include <string.h>

/* 15 base fields, then up to 6 optional ones. The two blob-gas fields
 * arrive together, so 18 fields is never valid. */
#define BASE_FIELDS 15
#define MAX_FIELDS 21

/* Field count for each valid `present` set, or 0 if the set is invalid. */
static unsigned count_for_present(unsigned present)
{
    switch (present) {
    case 0:
        return 15;
    case ETHD_HDR_BASE_FEE:
        return 16;
    case ETHD_HDR_BASE_FEE | ETHD_HDR_WITHDRAWALS:
        return 17;
    case ETHD_HDR_BASE_FEE | ETHD_HDR_WITHDRAWALS | ETHD_HDR_BLOB_GAS:
        return 19;
    case ETHD_HDR_BASE_FEE | ETHD_HDR_WITHDRAWALS | ETHD_HDR_BLOB_GAS | ETHD_HDR_BEACON_ROOT:
        return 20;
    case ETHD_HDR_BASE_FEE | ETHD_HDR_WITHDRAWALS | ETHD_HDR_BLOB_GAS | ETHD_HDR_BEACON_ROOT |
        ETHD_HDR_REQUESTS:
        return 21;
    default:
        return 0;
    }
}

static unsigned present_for_count(size_t n)
{
    switch (n) {
    case 15:
        return 0;
    case 16:
        return ETHD_HDR_BASE_FEE;
    case 17:
        return ETHD_HDR_BASE_FEE | ETHD_HDR_WITHDRAWALS;
    case 19:
        return ETHD_HDR_BASE_FEE | ETHD_HDR_WITHDRAWALS | ETHD_HDR_BLOB_GAS;
    case 20:
        return ETHD_HDR_BASE_FEE | ETHD_HDR_WITHDRAWALS | ETHD_HDR_BLOB_GAS |
               ETHD_HDR_BEACON_ROOT;
    default: /* 21 */
        return ETHD_HDR_BASE_FEE | ETHD_HDR_WITHDRAWALS | ETHD_HDR_BLOB_GAS |
               ETHD_HDR_BEACON_ROOT | ETHD_HDR_REQUESTS;
    }
}

/* A fixed-size byte field: wrong kind -> ETHD_ETYPE, wrong size -> EINVAL. */
static int get_fixed(const struct ethd_rlp_item *it, void *out, size_t n)
{
    return ethd_rlp_get_fixed(it, out, n);
}

int ethd_header_decode_item(const struct ethd_rlp_item *it, struct ethd_header *h)
{
    struct ethd_rlp_item f[MAX_FIELDS];
    struct ethd_rlp_iter iter;
    size_t n = 0;
    int rc;

    memset(h, 0, sizeof *h);
    if (!it->is_list)
        return ETHD_ETYPE;
    if ((rc = ethd_rlp_iter_init(&iter, it)) != 0)
        return rc;
    while (ethd_rlp_iter_more(&iter)) {
        if (n == MAX_FIELDS)
            return ETHD_EINVAL; /* too many fields */
        if ((rc = ethd_rlp_iter_next(&iter, &f[n])) != 0)
            return rc;
        n++;
    }
    if (n < BASE_FIELDS || n == 18)
        return ETHD_EINVAL;

    if ((rc = get_fixed(&f[0], h->parent_hash, 32)) || (rc = get_fixed(&f[1], h->uncles_hash, 32)) ||
        (rc = get_fixed(&f[2], h->coinbase, 20)) || (rc = get_fixed(&f[3], h->state_root, 32)) ||
        (rc = get_fixed(&f[4], h->tx_root, 32)) || (rc = get_fixed(&f[5], h->receipts_root, 32)) ||
        (rc = get_fixed(&f[6], h->bloom, 256)) || (rc = ethd_rlp_get_u256(&f[7], h->difficulty)) ||
        (rc = ethd_rlp_get_uint64(&f[8], &h->number)) ||
        (rc = ethd_rlp_get_uint64(&f[9], &h->gas_limit)) ||
        (rc = ethd_rlp_get_uint64(&f[10], &h->gas_used)) ||
        (rc = ethd_rlp_get_uint64(&f[11], &h->timestamp)))
        goto fail;
    if (f[12].is_list) {
        rc = ETHD_ETYPE;
        goto fail;
    }
    if (f[12].len > ETHD_HDR_MAX_EXTRA) {
        rc = ETHD_ETOOBIG;
        goto fail;
    }
    if ((rc = get_fixed(&f[13], h->mix_hash, 32)) || (rc = get_fixed(&f[14], h->nonce, 8)))
        goto fail;

    h->present = present_for_count(n);
    if ((h->present & ETHD_HDR_BASE_FEE) && (rc = ethd_rlp_get_u256(&f[15], h->base_fee)))
        goto fail;
    if ((h->present & ETHD_HDR_WITHDRAWALS) && (rc = get_fixed(&f[16], h->withdrawals_root, 32)))
        goto fail;
    if ((h->present & ETHD_HDR_BLOB_GAS) &&
        ((rc = ethd_rlp_get_uint64(&f[17], &h->blob_gas_used)) ||
         (rc = ethd_rlp_get_uint64(&f[18], &h->excess_blob_gas))))
        goto fail;
    if ((h->present & ETHD_HDR_BEACON_ROOT) && (rc = get_fixed(&f[19], h->parent_beacon_root, 32)))
        goto fail;
    if ((h->present & ETHD_HDR_REQUESTS) && (rc = get_fixed(&f[20], h->requests_hash, 32)))
        goto fail;

    /* Allocate last so that every earlier failure has nothing to free. */
    if (f[12].len) {
        h->extra = malloc(f[12].len);
        if (!h->extra) {
            rc = ETHD_ENOMEM;
            goto fail;
        }
        memcpy(h->extra, f[12].payload, f[12].len);
        h->extra_len = f[12].len;
    }
    return 0;
fail:
    ethd_header_free(h);
    return rc;
}

int ethd_header_decode(const uint8_t *in, size_t len, struct ethd_header *h)
{
    struct ethd_rlp_item it;
    int rc = ethd_rlp_decode(in, len, &it);
    if (rc) {
        memset(h, 0, sizeof *h);
        return rc;
    }
    return ethd_header_decode_item(&it, h);
}

void ethd_header_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_header *h)
{
    if (!count_for_present(h->present) || (h->extra_len && !h->extra)) {
        if (!e->err)
            e->err = ETHD_EINVAL;
        return;
    }
    ethd_rlp_list_begin(e);
    ethd_rlp_bytes(e, h->parent_hash, 32);
    ethd_rlp_bytes(e, h->uncles_hash, 32);
    ethd_rlp_bytes(e, h->coinbase, 20);
    ethd_rlp_bytes(e, h->state_root, 32);
    ethd_rlp_bytes(e, h->tx_root, 32);
    ethd_rlp_bytes(e, h->receipts_root, 32);
    ethd_rlp_bytes(e, h->bloom, 256);
    ethd_rlp_u256(e, h->difficulty);
    ethd_rlp_uint(e, h->number);
    ethd_rlp_uint(e, h->gas_limit);
    ethd_rlp_uint(e, h->gas_used);
    ethd_rlp_uint(e, h->timestamp);
    ethd_rlp_bytes(e, h->extra, h->extra_len);
    ethd_rlp_bytes(e, h->mix_hash, 32);
    ethd_rlp_bytes(e, h->nonce, 8);
    if (h->present & ETHD_HDR_BASE_FEE)
        ethd_rlp_u256(e, h->base_fee);
    if (h->present & ETHD_HDR_WITHDRAWALS)
        ethd_rlp_bytes(e, h->withdrawals_root, 32);
    if (h->present & ETHD_HDR_BLOB_GAS) {
        ethd_rlp_uint(e, h->blob_gas_used);
        ethd_rlp_uint(e, h->excess_blob_gas);
    }
    if (h->present & ETHD_HDR_BEACON_ROOT)
        ethd_rlp_bytes(e, h->parent_beacon_root, 32);
    if (h->present & ETHD_HDR_REQUESTS)
        ethd_rlp_bytes(e, h->requests_hash, 32);
    ethd_rlp_list_end(e);
}

int ethd_header_encode(const struct ethd_header *h, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    size_t mark = out->len;
    ethd_rlp_enc_init(&e, out);
    ethd_header_encode_rlp(&e, h);
    int rc = ethd_rlp_enc_finish(&e);
    if (rc)
        out->len = mark;
    return rc;
}

int ethd_header_hash(const struct ethd_header *h, uint8_t out[32])
{
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc = ethd_header_encode(h, &b);
    if (rc == 0)
        ethd_keccak256(b.data, b.len, out);
    ethd_buf_free(&b);
    return rc;
}

int ethd_header_set_extra(struct ethd_header *h, const void *p, size_t n)
{
    uint8_t *x = NULL;
    if (n > ETHD_HDR_MAX_EXTRA)
        return ETHD_ETOOBIG;
    if (n) {
        if (!p)
            return ETHD_EINVAL;
        x = malloc(n);
        if (!x)
            return ETHD_ENOMEM;
        memcpy(x, p, n);
    }
    free(h->extra);
    h->extra = x;
    h->extra_len = n;
    return 0;
}

int ethd_header_copy(struct ethd_header *dst, const struct ethd_header *src)
{
    *dst = *src;
    dst->extra = NULL;
    dst->extra_len = 0;
    int rc = ethd_header_set_extra(dst, src->extra, src->extra_len);
    if (rc)
        memset(dst, 0, sizeof *dst);
    return rc;
}

void ethd_header_free(struct ethd_header *h)
{
    if (!h)
        return;
    free(h->extra);
    memset(h, 0, sizeof *h);
}
