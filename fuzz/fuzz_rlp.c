/* libFuzzer target for the RLP decoder. Any input either fails to decode
 * with an error code, or decodes to a tree that (a) can be walked with the
 * iterator and typed readers without error and (b) re-encodes to exactly the
 * input: the decoder accepts canonical RLP only, and canonical RLP has one
 * encoding per tree. */
#include <ethd/buf.h>
#include <ethd/error.h>
#include <ethd/rlp.h>

#include <stdlib.h>
#include <string.h>

static void walk(struct ethd_rlp_enc *e, const struct ethd_rlp_item *it, unsigned depth)
{
    if (!it->is_list) {
        const uint8_t *p;
        size_t n;
        uint8_t u[32], fixed[32];
        uint64_t v;
        if (ethd_rlp_get_bytes(it, &p, &n) != 0 || p != it->payload || n != it->len)
            abort();
        /* Integer readers: a result must agree with the bytes. */
        int rc = ethd_rlp_get_uint64(it, &v);
        if (rc == 0) {
            if (n > 8 || (n && p[0] == 0))
                abort();
            for (size_t i = 0; i < n; i++)
                if (p[i] != (uint8_t)(v >> (8 * (n - 1 - i))))
                    abort();
        } else if (rc != ETHD_ERANGE && rc != ETHD_ENONCANON) {
            abort();
        }
        rc = ethd_rlp_get_u256(it, u);
        if (rc == 0) {
            if (n > 32 || memcmp(u + 32 - n, p, n) != 0)
                abort();
        } else if (rc != ETHD_ERANGE && rc != ETHD_ENONCANON) {
            abort();
        }
        if (n <= 32 && (ethd_rlp_get_fixed(it, fixed, n) != 0 || memcmp(fixed, p, n) != 0))
            abort();
        if (ethd_rlp_get_fixed(it, fixed, n == 0 ? 1 : n - 1) != ETHD_EINVAL)
            abort();
        struct ethd_rlp_iter bad;
        if (ethd_rlp_iter_init(&bad, it) != ETHD_ETYPE)
            abort();
        ethd_rlp_bytes(e, p, n);
        return;
    }
    if (depth > ETHD_RLP_MAX_DEPTH)
        abort();
    size_t count, seen = 0;
    if (ethd_rlp_list_count(it, &count) != 0)
        abort();
    struct ethd_rlp_iter iter;
    if (ethd_rlp_iter_init(&iter, it) != 0)
        abort();
    ethd_rlp_list_begin(e);
    while (ethd_rlp_iter_more(&iter)) {
        struct ethd_rlp_item c;
        if (ethd_rlp_iter_next(&iter, &c) != 0)
            abort();
        if (c.raw < it->payload || c.raw + c.raw_len > it->payload + it->len)
            abort();
        walk(e, &c, depth + 1);
        seen++;
    }
    struct ethd_rlp_item none;
    if (seen != count || ethd_rlp_iter_next(&iter, &none) != ETHD_ENOTFOUND)
        abort();
    ethd_rlp_list_end(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ethd_rlp_item top;
    int rc = ethd_rlp_decode(data, size, &top);

    /* The stream reader agrees with the whole-input decoder on the first item. */
    const uint8_t *p = data;
    size_t left = size;
    struct ethd_rlp_item first;
    int rc2 = ethd_rlp_next(&p, &left, &first);
    if (rc == 0 && (rc2 != 0 || left != 0))
        abort();
    if (rc2 == 0 && (first.raw != data || first.raw_len + left != size))
        abort();
    if (rc == ETHD_ETRAILING && (rc2 != 0 || left == 0))
        abort();

    if (rc != 0) {
        if (rc != ETHD_ETRUNC && rc != ETHD_ENONCANON && rc != ETHD_ETRAILING &&
            rc != ETHD_EDEPTH)
            abort();
        return 0;
    }
    if (top.raw != data || top.raw_len != size)
        abort();

    struct ethd_buf buf = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &buf);
    walk(&e, &top, 1);
    if (ethd_rlp_enc_finish(&e) != 0)
        abort();
    if (buf.len != size || memcmp(buf.data, data, size) != 0)
        abort();
    if (!top.is_list && ethd_rlp_bytes_size(top.len, top.len ? top.payload[0] : 0) != size)
        abort();
    if (top.is_list && ethd_rlp_list_prefix_size(top.len) + top.len != size)
        abort();
    ethd_buf_free(&buf);
    return 0;
}
