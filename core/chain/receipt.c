/* Receipts and logs (Yellow Paper 4.3.1; EIP-658 status; EIP-2718 typed
 * receipts; devp2p caps/eth.md Receipts for eth/66-68 and eth/69). */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>

#include <stdlib.h>
#include <string.h>

/* Upper bound on topics per log: LOG0..LOG4. */
#define MAX_TOPICS 4

void ethd_bloom_add(uint8_t bloom[256], const void *p, size_t n)
{
    uint8_t h[32];
    ethd_keccak256(p, n, h);
    /* Yellow Paper 4.3.1, M3:2048: the low 11 bits of each of the first
     * three big-endian byte pairs of the hash select a bit; bit 0 is the
     * lowest bit of the last byte of the bloom. */
    for (int i = 0; i < 6; i += 2) {
        unsigned bit = ((unsigned)h[i] << 8 | h[i + 1]) & 2047u;
        bloom[255 - bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
}

void ethd_logs_bloom(const struct ethd_log *logs, size_t n, uint8_t bloom[256])
{
    memset(bloom, 0, 256);
    for (size_t i = 0; i < n; i++) {
        ethd_bloom_add(bloom, logs[i].address, 20);
        for (size_t t = 0; t < logs[i].n_topics; t++)
            ethd_bloom_add(bloom, logs[i].topics[t], 32);
    }
}

int ethd_receipt_check_bloom(const struct ethd_receipt *r)
{
    uint8_t b[256];
    ethd_logs_bloom(r->logs, r->n_logs, b);
    return memcmp(b, r->bloom, 256) == 0 ? 0 : ETHD_EINVAL;
}

static void free_logs(struct ethd_log *logs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(logs[i].topics);
        free(logs[i].data);
    }
    free(logs);
}

void ethd_receipt_free(struct ethd_receipt *r)
{
    if (!r)
        return;
    free_logs(r->logs, r->n_logs);
    memset(r, 0, sizeof *r);
}

/* log = [address, [topic, ...], data] */
static int decode_log(const struct ethd_rlp_item *it, struct ethd_log *log)
{
    struct ethd_rlp_iter iter, titer;
    struct ethd_rlp_item addr, topics, data, t;
    size_t nt;
    int rc;

    if ((rc = ethd_rlp_iter_init(&iter, it)) != 0)
        return rc;
    if (ethd_rlp_iter_next(&iter, &addr) || ethd_rlp_iter_next(&iter, &topics) ||
        ethd_rlp_iter_next(&iter, &data) || ethd_rlp_iter_more(&iter))
        return ETHD_EINVAL;
    if ((rc = ethd_rlp_get_fixed(&addr, log->address, 20)) != 0)
        return rc;
    if (data.is_list)
        return ETHD_ETYPE;
    if ((rc = ethd_rlp_list_count(&topics, &nt)) != 0)
        return rc;
    if (nt > MAX_TOPICS)
        return ETHD_EINVAL;
    if (nt) {
        log->topics = calloc(nt, 32);
        if (!log->topics)
            return ETHD_ENOMEM;
        ethd_rlp_iter_init(&titer, &topics);
        for (size_t i = 0; i < nt; i++) {
            if ((rc = ethd_rlp_iter_next(&titer, &t)) != 0 ||
                (rc = ethd_rlp_get_fixed(&t, log->topics[i], 32)) != 0)
                return rc;
            log->n_topics++;
        }
    }
    if (data.len) {
        log->data = malloc(data.len);
        if (!log->data)
            return ETHD_ENOMEM;
        memcpy(log->data, data.payload, data.len);
        log->data_len = data.len;
    }
    return 0;
}

static int log_elem(const struct ethd_rlp_item *it, void *elem, void *arg)
{
    (void)arg;
    return decode_log(it, elem);
}

static int decode_logs(const struct ethd_rlp_item *list, struct ethd_receipt *r)
{
    void *arr;
    int rc = ethd_rlp_decode_array(list, sizeof *r->logs, log_elem, NULL, &arr, &r->n_logs);
    r->logs = arr;
    return rc;
}

/* post-state-or-status: 32 bytes (pre-Byzantium root) or 0 / 1 (EIP-658). */
static int decode_status(const struct ethd_rlp_item *it, struct ethd_receipt *r)
{
    if (it->is_list)
        return ETHD_ETYPE;
    if (it->len == 32) {
        r->has_post_state = true;
        memcpy(r->post_state, it->payload, 32);
        return 0;
    }
    if (it->len == 0) {
        r->status = 0;
        return 0;
    }
    if (it->len == 1 && it->payload[0] == 1) {
        r->status = 1;
        return 0;
    }
    return ETHD_EINVAL;
}

/* [status, cumulativeGas, bloom, logs] */
static int decode_body(const struct ethd_rlp_item *it, struct ethd_receipt *r)
{
    struct ethd_rlp_iter iter;
    struct ethd_rlp_item f[4];
    int rc;

    if ((rc = ethd_rlp_iter_init(&iter, it)) != 0)
        return rc;
    for (int i = 0; i < 4; i++)
        if (ethd_rlp_iter_next(&iter, &f[i]))
            return ETHD_EINVAL;
    if (ethd_rlp_iter_more(&iter))
        return ETHD_EINVAL;
    if ((rc = decode_status(&f[0], r)) || (rc = ethd_rlp_get_uint64(&f[1], &r->cumulative_gas)) ||
        (rc = ethd_rlp_get_fixed(&f[2], r->bloom, 256)))
        return rc;
    if (!f[3].is_list)
        return ETHD_ETYPE;
    return decode_logs(&f[3], r);
}

int ethd_receipt_decode(const uint8_t *in, size_t len, struct ethd_receipt *r)
{
    struct ethd_rlp_item it;
    int rc;

    memset(r, 0, sizeof *r);
    if (!in || len == 0)
        return ETHD_ETRUNC;
    if (in[0] >= 0xc0) {
        rc = ethd_rlp_decode(in, len, &it);
    } else if (in[0] < 0x80) {
        if (in[0] == 0 || in[0] > ETHD_TX_SET_CODE)
            return ETHD_ENOTSUP;
        r->type = in[0];
        rc = ethd_rlp_decode(in + 1, len - 1, &it);
        if (rc == 0 && !it.is_list)
            rc = ETHD_ETYPE;
    } else {
        return ETHD_ETYPE;
    }
    if (rc == 0)
        rc = decode_body(&it, r);
    if (rc)
        ethd_receipt_free(r);
    return rc;
}

int ethd_receipt_decode_item(const struct ethd_rlp_item *it, struct ethd_receipt *r)
{
    if (it->is_list)
        return ethd_receipt_decode(it->raw, it->raw_len, r);
    memset(r, 0, sizeof *r);
    if (it->len == 0)
        return ETHD_ETRUNC;
    if (it->payload[0] >= 0x80)
        return ETHD_ETYPE; /* a string holds a typed receipt only */
    return ethd_receipt_decode(it->payload, it->len, r);
}

static void encode_status(struct ethd_rlp_enc *e, const struct ethd_receipt *r)
{
    if (r->has_post_state)
        ethd_rlp_bytes(e, r->post_state, 32);
    else
        ethd_rlp_uint(e, r->status ? 1 : 0);
}

static void encode_logs(struct ethd_rlp_enc *e, const struct ethd_receipt *r)
{
    ethd_rlp_list_begin(e);
    for (size_t i = 0; i < r->n_logs; i++) {
        const struct ethd_log *l = &r->logs[i];
        ethd_rlp_list_begin(e);
        ethd_rlp_bytes(e, l->address, 20);
        ethd_rlp_list_begin(e);
        for (size_t t = 0; t < l->n_topics; t++)
            ethd_rlp_bytes(e, l->topics[t], 32);
        ethd_rlp_list_end(e);
        ethd_rlp_bytes(e, l->data, l->data_len);
        ethd_rlp_list_end(e);
    }
    ethd_rlp_list_end(e);
}

static void encode_body(struct ethd_rlp_enc *e, const struct ethd_receipt *r)
{
    ethd_rlp_list_begin(e);
    encode_status(e, r);
    ethd_rlp_uint(e, r->cumulative_gas);
    ethd_rlp_bytes(e, r->bloom, 256);
    encode_logs(e, r);
    ethd_rlp_list_end(e);
}

int ethd_receipt_encode(const struct ethd_receipt *r, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    size_t mark = out->len;
    int rc;

    if (r->type > ETHD_TX_SET_CODE)
        return ETHD_EINVAL;
    if (r->type != ETHD_TX_LEGACY && (rc = ethd_buf_append(out, &r->type, 1)) != 0)
        return rc;
    ethd_rlp_enc_init(&e, out);
    encode_body(&e, r);
    rc = ethd_rlp_enc_finish(&e);
    if (rc)
        out->len = mark;
    return rc;
}

void ethd_receipt_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_receipt *r)
{
    if (r->type == ETHD_TX_LEGACY) {
        encode_body(e, r);
        return;
    }
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc = ethd_receipt_encode(r, &b);
    if (rc) {
        if (!e->err)
            e->err = rc;
    } else {
        ethd_rlp_bytes(e, b.data, b.len);
    }
    ethd_buf_free(&b);
}

/* eth/69 (EIP-7642): [tx-type, post-state-or-status, cumulative-gas, logs] */
int ethd_receipt_decode_69(const struct ethd_rlp_item *it, struct ethd_receipt *r)
{
    struct ethd_rlp_iter iter;
    struct ethd_rlp_item f[4];
    uint64_t type;
    int rc;

    memset(r, 0, sizeof *r);
    if (!it->is_list)
        return ETHD_ETYPE;
    if ((rc = ethd_rlp_iter_init(&iter, it)) != 0)
        return rc;
    for (int i = 0; i < 4; i++)
        if (ethd_rlp_iter_next(&iter, &f[i]))
            return ETHD_EINVAL;
    if (ethd_rlp_iter_more(&iter))
        return ETHD_EINVAL;
    if ((rc = ethd_rlp_get_uint64(&f[0], &type)) != 0)
        return rc;
    if (type > ETHD_TX_SET_CODE)
        return ETHD_ENOTSUP;
    r->type = (uint8_t)type;
    if ((rc = decode_status(&f[1], r)) || (rc = ethd_rlp_get_uint64(&f[2], &r->cumulative_gas)))
        goto fail;
    if (!f[3].is_list) {
        rc = ETHD_ETYPE;
        goto fail;
    }
    if ((rc = decode_logs(&f[3], r)) != 0)
        goto fail;
    ethd_logs_bloom(r->logs, r->n_logs, r->bloom);
    return 0;
fail:
    ethd_receipt_free(r);
    return rc;
}

void ethd_receipt_encode_69(struct ethd_rlp_enc *e, const struct ethd_receipt *r)
{
    ethd_rlp_list_begin(e);
    ethd_rlp_uint(e, r->type);
    encode_status(e, r);
    ethd_rlp_uint(e, r->cumulative_gas);
    encode_logs(e, r);
    ethd_rlp_list_end(e);
}

void ethd_receipts_free(struct ethd_receipt *rs, size_t n)
{
    if (!rs)
        return;
    for (size_t i = 0; i < n; i++)
        ethd_receipt_free(&rs[i]);
    free(rs);
}

int ethd_receipts_decode_list(const struct ethd_rlp_item *list, struct ethd_receipt **out,
                              size_t *n)
{
    struct ethd_rlp_iter iter;
    struct ethd_rlp_item it;
    struct ethd_receipt *rs = NULL;
    size_t count, i = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if ((rc = ethd_rlp_list_count(list, &count)) != 0)
        return rc;
    if (count) {
        rs = calloc(count, sizeof *rs);
        if (!rs)
            return ETHD_ENOMEM;
    }
    ethd_rlp_iter_init(&iter, list);
    for (; i < count; i++) {
        if ((rc = ethd_rlp_iter_next(&iter, &it)) != 0 ||
            (rc = ethd_receipt_decode_item(&it, &rs[i])) != 0) {
            ethd_receipts_free(rs, i);
            return rc;
        }
    }
    *out = rs;
    *n = count;
    return 0;
}

int ethd_receipts_root(const struct ethd_receipt *rs, size_t n, uint8_t root[32])
{
    struct ethd_trie_item *items = NULL;
    size_t *offs = NULL;
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc = 0;

    if (n == 0)
        return ethd_trie_ordered_root(NULL, 0, root);
    items = calloc(n, sizeof *items);
    offs = calloc(n + 1, sizeof *offs);
    if (!items || !offs) {
        rc = ETHD_ENOMEM;
        goto out;
    }
    /* Encode all into one buffer first: it may move while growing. */
    for (size_t i = 0; i < n; i++) {
        offs[i] = b.len;
        if ((rc = ethd_receipt_encode(&rs[i], &b)) != 0)
            goto out;
    }
    offs[n] = b.len;
    for (size_t i = 0; i < n; i++) {
        items[i].data = b.data + offs[i];
        items[i].len = offs[i + 1] - offs[i];
    }
    rc = ethd_trie_ordered_root(items, n, root);
out:
    free(items);
    free(offs);
    ethd_buf_free(&b);
    return rc;
}
