/* RLP, Ethereum Yellow Paper appendix B.
 *
 * An item is one of
 *   [0x00, 0x7f]          the byte itself (a 1-byte string)
 *   0x80 + n, n < 56      a string of n bytes
 *   0xb7 + k, BE(n)       a string of n >= 56 bytes, n in k bytes
 *   0xc0 + n, n < 56      a list whose payload is n bytes
 *   0xf7 + k, BE(n)       a list with a payload of n >= 56 bytes
 * The canonical (and only accepted) form is the shortest: a byte < 0x80 is
 * never wrapped, the long form is only for n >= 56, and BE(n) has no leading
 * zero byte (appendix B, eqs. 180-186: BE is the minimal big-endian form).
 *
 * The decoder validates the whole nested structure with an explicit stack
 * bounded by ETHD_RLP_MAX_DEPTH, so that after ethd_rlp_decode succeeds,
 * walking the item with the iterator cannot meet malformed data. */
#include <ethd/error.h>
#include <ethd/rlp.h>

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- sizes */

static unsigned be_len(uint64_t v)
{
    unsigned n = 0;
    while (v) {
        n++;
        v >>= 8;
    }
    return n;
}

static void put_be(uint8_t *out, uint64_t v, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

size_t ethd_rlp_bytes_size(size_t n, uint8_t b0)
{
    if (n == 1 && b0 < 0x80)
        return 1;
    if (n < 56)
        return 1 + n;
    return 1 + be_len(n) + n;
}

size_t ethd_rlp_list_prefix_size(size_t n)
{
    return n < 56 ? 1 : 1 + be_len(n);
}

/* -------------------------------------------------------------- encoder */

void ethd_rlp_enc_init(struct ethd_rlp_enc *e, struct ethd_buf *buf)
{
    e->buf = buf;
    e->depth = 0;
    e->err = 0;
}

static inline uint8_t *enc_grow(struct ethd_rlp_enc *e, size_t n)
{
    if (e->err)
        return NULL;
    int rc = ethd_buf_reserve(e->buf, n);
    if (rc) {
        e->err = rc;
        return NULL;
    }
    uint8_t *w = e->buf->data + e->buf->len;
    e->buf->len += n;
    return w;
}

/* Prefix for a payload of n bytes; `base` is 0x80 (string) or 0xc0 (list).
 * Returns the prefix length (at most 9). */
static inline unsigned put_prefix(uint8_t *w, size_t n, uint8_t base)
{
    if (n < 56) {
        w[0] = (uint8_t)(base + n);
        return 1;
    }
    unsigned k = be_len(n);
    w[0] = (uint8_t)(base + 55 + k);
    put_be(w + 1, n, k);
    return 1 + k;
}

void ethd_rlp_bytes(struct ethd_rlp_enc *e, const void *p, size_t n)
{
    const uint8_t *s = p;
    uint8_t *w;

    if (n == 1 && s[0] < 0x80) {
        if ((w = enc_grow(e, 1)))
            w[0] = s[0];
        return;
    }
    if (n > SIZE_MAX - 9) {
        if (!e->err)
            e->err = ETHD_ETOOBIG;
        return;
    }
    size_t pre = n < 56 ? 1 : 1 + be_len(n);
    if (!(w = enc_grow(e, pre + n)))
        return;
    put_prefix(w, n, 0x80);
    if (n)
        memcpy(w + pre, s, n);
}

void ethd_rlp_uint(struct ethd_rlp_enc *e, uint64_t v)
{
    uint8_t *w;

    if (v != 0 && v < 0x80) {
        if ((w = enc_grow(e, 1)))
            w[0] = (uint8_t)v;
        return;
    }
    unsigned k = be_len(v); /* 0 for v == 0 -> the empty string 0x80 */
    if (!(w = enc_grow(e, 1 + k)))
        return;
    w[0] = (uint8_t)(0x80 + k);
    put_be(w + 1, v, k);
}

void ethd_rlp_u256(struct ethd_rlp_enc *e, const uint8_t be[32])
{
    unsigned i = 0;
    while (i < 32 && be[i] == 0)
        i++;
    ethd_rlp_bytes(e, be + i, 32 - i);
}

void ethd_rlp_raw(struct ethd_rlp_enc *e, const void *p, size_t n)
{
    uint8_t *w;
    if (n && (w = enc_grow(e, n)))
        memcpy(w, p, n);
}

/* A list starts with one reserved byte: short lists (payload < 56) need no
 * move at all; a long list shifts its payload right by the length-of-length. */
void ethd_rlp_list_begin(struct ethd_rlp_enc *e)
{
    if (e->err)
        return;
    if (e->depth >= ETHD_RLP_MAX_DEPTH) {
        e->err = ETHD_EDEPTH;
        return;
    }
    size_t at = e->buf->len;
    if (!enc_grow(e, 1))
        return;
    e->open[e->depth++] = at;
}

void ethd_rlp_list_end(struct ethd_rlp_enc *e)
{
    if (e->err)
        return;
    if (e->depth == 0) {
        e->err = ETHD_ESTATE;
        return;
    }
    size_t at = e->open[--e->depth];
    size_t n = e->buf->len - at - 1;
    if (n < 56) {
        e->buf->data[at] = (uint8_t)(0xc0 + n);
        return;
    }
    unsigned k = be_len(n);
    if (!enc_grow(e, k))
        return;
    uint8_t *d = e->buf->data;
    memmove(d + at + 1 + k, d + at + 1, n);
    put_prefix(d + at, n, 0xc0);
}

int ethd_rlp_enc_finish(struct ethd_rlp_enc *e)
{
    if (!e->err && e->depth != 0)
        e->err = ETHD_ESTATE;
    return e->err;
}

/* -------------------------------------------------------------- decoder */

/* Parse the item header at p (left bytes available). Checks canonical form
 * and that the whole item fits in `left`; does not look inside lists. */
static inline int parse_item(const uint8_t *p, size_t left, struct ethd_rlp_item *out)
{
    if (left == 0)
        return ETHD_ETRUNC;
    uint8_t b0 = p[0];
    size_t hdr, n;

    out->raw = p;
    if (b0 < 0x80) {
        out->payload = p;
        out->len = 1;
        out->raw_len = 1;
        out->is_list = false;
        return 0;
    }
    bool is_list = b0 >= 0xc0;
    uint8_t s = is_list ? (uint8_t)(b0 - 0xc0) : (uint8_t)(b0 - 0x80);
    if (s < 56) {
        hdr = 1;
        n = s;
        if (n > left - 1)
            return ETHD_ETRUNC;
        /* A single byte < 0x80 must be encoded as itself. */
        if (!is_list && n == 1 && p[1] < 0x80)
            return ETHD_ENONCANON;
    } else {
        unsigned k = (unsigned)(s - 55); /* 1..8 */
        if (k > left - 1)
            return ETHD_ETRUNC;
        if (p[1] == 0)
            return ETHD_ENONCANON; /* leading zero in the length */
        uint64_t v = 0;
        for (unsigned i = 1; i <= k; i++)
            v = v << 8 | p[i];
        if (v < 56)
            return ETHD_ENONCANON; /* long form for a short payload */
        hdr = 1 + k;
        /* Compare in uint64 so a declared length wider than size_t (32-bit
         * hosts) is reported as truncation rather than wrapping. */
        if (v > (uint64_t)(left - hdr))
            return ETHD_ETRUNC;
        n = (size_t)v;
    }
    out->payload = p + hdr;
    out->len = n;
    out->raw_len = hdr + n;
    out->is_list = is_list;
    return 0;
}

/* Parse and fully validate one item at the start of p[0..left). */
static int decode_one(const uint8_t *p, size_t left, struct ethd_rlp_item *out)
{
    int rc = parse_item(p, left, out);
    if (rc || !out->is_list)
        return rc;

    /* ends[d] is where the payload of the list at depth d+1 ends. */
    const uint8_t *ends[ETHD_RLP_MAX_DEPTH];
    unsigned depth = 1;
    const uint8_t *cur = out->payload;
    ends[0] = out->payload + out->len;
    struct ethd_rlp_item it;

    for (;;) {
        while (cur == ends[depth - 1]) {
            if (--depth == 0)
                return 0;
        }
        rc = parse_item(cur, (size_t)(ends[depth - 1] - cur), &it);
        if (rc)
            return rc;
        if (it.is_list) {
            if (depth >= ETHD_RLP_MAX_DEPTH)
                return ETHD_EDEPTH;
            ends[depth++] = it.payload + it.len;
            cur = it.payload;
        } else {
            cur += it.raw_len;
        }
    }
}

/* The item is validated before trailing bytes are looked at, so decode and
 * next report the same error for a malformed first item. */
int ethd_rlp_decode(const uint8_t *in, size_t len, struct ethd_rlp_item *out)
{
    struct ethd_rlp_item it;
    int rc = decode_one(in, len, &it);
    if (rc)
        return rc;
    if (it.raw_len != len)
        return ETHD_ETRAILING;
    *out = it;
    return 0;
}

int ethd_rlp_next(const uint8_t **p, size_t *left, struct ethd_rlp_item *out)
{
    struct ethd_rlp_item it;
    int rc = decode_one(*p, *left, &it);
    if (rc)
        return rc;
    *p += it.raw_len;
    *left -= it.raw_len;
    *out = it;
    return 0;
}

int ethd_rlp_iter_init(struct ethd_rlp_iter *it, const struct ethd_rlp_item *list)
{
    if (!list->is_list)
        return ETHD_ETYPE;
    it->p = list->payload;
    it->left = list->len;
    /* Items carry no depth of their own; an iterator starts at 1 and the
     * nesting bound was already enforced when the top item was decoded. */
    it->depth = 1;
    return 0;
}

bool ethd_rlp_iter_more(const struct ethd_rlp_iter *it)
{
    return it->left > 0;
}

int ethd_rlp_iter_next(struct ethd_rlp_iter *it, struct ethd_rlp_item *out)
{
    if (it->left == 0)
        return ETHD_ENOTFOUND;
    /* Re-checking the header keeps the iterator memory-safe even on an item
     * that did not come from ethd_rlp_decode. */
    int rc = parse_item(it->p, it->left, out);
    if (rc)
        return rc;
    it->p += out->raw_len;
    it->left -= out->raw_len;
    return 0;
}

int ethd_rlp_list_count(const struct ethd_rlp_item *list, size_t *count)
{
    if (!list->is_list)
        return ETHD_ETYPE;
    const uint8_t *p = list->payload;
    size_t left = list->len, n = 0;
    struct ethd_rlp_item it;
    while (left) {
        int rc = parse_item(p, left, &it);
        if (rc)
            return rc;
        p += it.raw_len;
        left -= it.raw_len;
        n++;
    }
    *count = n;
    return 0;
}

int ethd_rlp_decode_array(const struct ethd_rlp_item *list, size_t elem_size, ethd_rlp_elem_fn fn,
                          void *arg, void **out, size_t *n)
{
    size_t count;
    *out = NULL;
    *n = 0;
    int rc = ethd_rlp_list_count(list, &count);
    if (rc || count == 0)
        return rc;
    uint8_t *arr = calloc(count, elem_size);
    if (!arr)
        return ETHD_ENOMEM;
    *out = arr;
    struct ethd_rlp_iter it;
    struct ethd_rlp_item item;
    ethd_rlp_iter_init(&it, list);
    for (size_t i = 0; i < count; i++) {
        if ((rc = ethd_rlp_iter_next(&it, &item)) != 0)
            return rc;
        (*n)++;
        if ((rc = fn(&item, arr + i * elem_size, arg)) != 0)
            return rc;
    }
    return 0;
}

int ethd_rlp_get_bytes(const struct ethd_rlp_item *it, const uint8_t **p, size_t *len)
{
    if (it->is_list)
        return ETHD_ETYPE;
    *p = it->payload;
    *len = it->len;
    return 0;
}

int ethd_rlp_get_fixed(const struct ethd_rlp_item *it, void *out, size_t n)
{
    if (it->is_list)
        return ETHD_ETYPE;
    if (it->len != n)
        return ETHD_EINVAL;
    if (n)
        memcpy(out, it->payload, n);
    return 0;
}

/* Integers are big-endian with no leading zero byte; zero is the empty
 * string (Yellow Paper appendix B, "BE(x)" is the minimal form). */
static int check_int(const struct ethd_rlp_item *it, size_t max)
{
    if (it->is_list)
        return ETHD_ETYPE;
    if (it->len > 0 && it->payload[0] == 0)
        return ETHD_ENONCANON;
    if (it->len > max)
        return ETHD_ERANGE;
    return 0;
}

int ethd_rlp_get_uint64(const struct ethd_rlp_item *it, uint64_t *out)
{
    int rc = check_int(it, 8);
    if (rc)
        return rc;
    uint64_t v = 0;
    for (size_t i = 0; i < it->len; i++)
        v = v << 8 | it->payload[i];
    *out = v;
    return 0;
}

int ethd_rlp_get_u256(const struct ethd_rlp_item *it, uint8_t out[32])
{
    int rc = check_int(it, 32);
    if (rc)
        return rc;
    memset(out, 0, 32 - it->len);
    if (it->len)
        memcpy(out + 32 - it->len, it->payload, it->len);
    return 0;
}
