/* Block bodies and blocks: [header, transactions, uncles(, withdrawals)]
 * (Yellow Paper 4.4; EIP-4895 withdrawals), and the roots a header commits
 * to for them. */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>

#include <stdlib.h>
#include <string.h>

void ethd_body_free(struct ethd_body *b)
{
    if (!b)
        return;
    free(b->txs);
    for (size_t i = 0; i < b->n_uncles; i++)
        ethd_header_free(&b->uncles[i]);
    free(b->uncles);
    free(b->withdrawals);
    memset(b, 0, sizeof *b);
}

/* A tx item is a legacy list or a string holding `type || rlp(list)`; the
 * view kept is the canonical encoding either way. */
static int tx_view(const struct ethd_rlp_item *it, struct ethd_trie_item *v)
{
    if (it->is_list) {
        v->data = it->raw;
        v->len = it->raw_len;
        return 0;
    }
    if (it->len < 2)
        return ETHD_ETRUNC;
    if (it->payload[0] >= 0x80)
        return ETHD_ETYPE;
    if (it->payload[0] == 0 || it->payload[0] > ETHD_TX_SET_CODE)
        return ETHD_ENOTSUP;
    /* The rest must be exactly one RLP list, so the view is a well-formed
     * envelope even though its fields are not decoded here. */
    struct ethd_rlp_item inner;
    int rc = ethd_rlp_decode(it->payload + 1, it->len - 1, &inner);
    if (rc)
        return rc;
    if (!inner.is_list)
        return ETHD_ETYPE;
    v->data = it->payload;
    v->len = it->len;
    return 0;
}

static int tx_elem(const struct ethd_rlp_item *it, void *elem, void *arg)
{
    (void)arg;
    return tx_view(it, elem);
}

static int decode_txs(const struct ethd_rlp_item *list, struct ethd_body *b)
{
    void *arr;
    int rc = ethd_rlp_decode_array(list, sizeof *b->txs, tx_elem, NULL, &arr, &b->n_txs);
    b->txs = arr;
    return rc;
}

static int uncle_elem(const struct ethd_rlp_item *it, void *elem, void *arg)
{
    (void)arg;
    return ethd_header_decode_item(it, elem);
}

static int decode_uncles(const struct ethd_rlp_item *list, struct ethd_body *b)
{
    void *arr;
    int rc =
        ethd_rlp_decode_array(list, sizeof *b->uncles, uncle_elem, NULL, &arr, &b->n_uncles);
    b->uncles = arr;
    return rc;
}

/* withdrawal = [index, validatorIndex, address, amount] (EIP-4895) */
static int withdrawal_elem(const struct ethd_rlp_item *it, void *elem, void *arg)
{
    struct ethd_withdrawal *w = elem;
    struct ethd_rlp_iter fit;
    struct ethd_rlp_item f[4];
    int rc;
    (void)arg;
    if ((rc = ethd_rlp_iter_init(&fit, it)) != 0)
        return rc;
    for (int k = 0; k < 4; k++)
        if (ethd_rlp_iter_next(&fit, &f[k]))
            return ETHD_EINVAL;
    if (ethd_rlp_iter_more(&fit))
        return ETHD_EINVAL;
    if ((rc = ethd_rlp_get_uint64(&f[0], &w->index)) ||
        (rc = ethd_rlp_get_uint64(&f[1], &w->validator)) ||
        (rc = ethd_rlp_get_fixed(&f[2], w->address, 20)) ||
        (rc = ethd_rlp_get_uint64(&f[3], &w->amount)))
        return rc;
    return 0;
}

static int decode_withdrawals(const struct ethd_rlp_item *list, struct ethd_body *b)
{
    b->has_withdrawals = true;
    void *arr;
    int rc = ethd_rlp_decode_array(list, sizeof *b->withdrawals, withdrawal_elem, NULL, &arr,
                                   &b->n_withdrawals);
    b->withdrawals = arr;
    return rc;
}

/* The body fields from an iterator positioned at the transactions list. */
static int decode_body_fields(struct ethd_rlp_iter *iter, struct ethd_body *b)
{
    struct ethd_rlp_item txs, uncles, wd;
    int rc;

    if (ethd_rlp_iter_next(iter, &txs) || ethd_rlp_iter_next(iter, &uncles))
        return ETHD_EINVAL;
    if (!txs.is_list || !uncles.is_list)
        return ETHD_ETYPE;
    if ((rc = decode_txs(&txs, b)) || (rc = decode_uncles(&uncles, b)))
        return rc;
    if (ethd_rlp_iter_more(iter)) {
        if ((rc = ethd_rlp_iter_next(iter, &wd)) != 0)
            return rc;
        if (!wd.is_list)
            return ETHD_ETYPE;
        if ((rc = decode_withdrawals(&wd, b)) != 0)
            return rc;
    }
    if (ethd_rlp_iter_more(iter))
        return ETHD_EINVAL;
    return 0;
}

int ethd_body_decode_item(const struct ethd_rlp_item *it, struct ethd_body *b)
{
    struct ethd_rlp_iter iter;
    int rc;

    memset(b, 0, sizeof *b);
    if (!it->is_list)
        return ETHD_ETYPE;
    if ((rc = ethd_rlp_iter_init(&iter, it)) == 0)
        rc = decode_body_fields(&iter, b);
    if (rc)
        ethd_body_free(b);
    return rc;
}

static void encode_withdrawal(struct ethd_rlp_enc *e, const struct ethd_withdrawal *w)
{
    ethd_rlp_list_begin(e);
    ethd_rlp_uint(e, w->index);
    ethd_rlp_uint(e, w->validator);
    ethd_rlp_bytes(e, w->address, 20);
    ethd_rlp_uint(e, w->amount);
    ethd_rlp_list_end(e);
}

static void encode_uncles(struct ethd_rlp_enc *e, const struct ethd_body *b)
{
    ethd_rlp_list_begin(e);
    for (size_t i = 0; i < b->n_uncles; i++)
        ethd_header_encode_rlp(e, &b->uncles[i]);
    ethd_rlp_list_end(e);
}

/* The body's elements without the enclosing list (a block puts them after
 * the header in its own list). */
static void encode_body_fields(struct ethd_rlp_enc *e, const struct ethd_body *b)
{
    ethd_rlp_list_begin(e);
    for (size_t i = 0; i < b->n_txs; i++) {
        const struct ethd_trie_item *t = &b->txs[i];
        if (t->len && t->data[0] >= 0xc0)
            ethd_rlp_raw(e, t->data, t->len); /* legacy: the list itself */
        else
            ethd_rlp_bytes(e, t->data, t->len); /* typed: wrapped in a string */
    }
    ethd_rlp_list_end(e);
    encode_uncles(e, b);
    if (b->has_withdrawals) {
        ethd_rlp_list_begin(e);
        for (size_t i = 0; i < b->n_withdrawals; i++)
            encode_withdrawal(e, &b->withdrawals[i]);
        ethd_rlp_list_end(e);
    }
}

void ethd_body_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_body *b)
{
    ethd_rlp_list_begin(e);
    encode_body_fields(e, b);
    ethd_rlp_list_end(e);
}

int ethd_body_tx_root(const struct ethd_body *b, uint8_t root[32])
{
    return ethd_trie_ordered_root(b->txs, b->n_txs, root);
}

int ethd_body_uncles_hash(const struct ethd_body *b, uint8_t out[32])
{
    struct ethd_buf buf = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &buf);
    encode_uncles(&e, b);
    int rc = ethd_rlp_enc_finish(&e);
    if (rc == 0)
        ethd_keccak256(buf.data, buf.len, out);
    ethd_buf_free(&buf);
    return rc;
}

int ethd_body_withdrawals_root(const struct ethd_body *b, uint8_t root[32])
{
    struct ethd_buf buf = ETHD_BUF_INIT;
    struct ethd_trie_item *items = NULL;
    size_t *offs = NULL;
    size_t n = b->n_withdrawals;
    int rc = 0;

    if (n == 0)
        return ethd_trie_ordered_root(NULL, 0, root);
    items = calloc(n, sizeof *items);
    offs = calloc(n + 1, sizeof *offs);
    if (!items || !offs) {
        rc = ETHD_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct ethd_rlp_enc e;
        offs[i] = buf.len;
        ethd_rlp_enc_init(&e, &buf);
        encode_withdrawal(&e, &b->withdrawals[i]);
        if ((rc = ethd_rlp_enc_finish(&e)) != 0)
            goto out;
    }
    offs[n] = buf.len;
    for (size_t i = 0; i < n; i++) {
        items[i].data = buf.data + offs[i];
        items[i].len = offs[i + 1] - offs[i];
    }
    rc = ethd_trie_ordered_root(items, n, root);
out:
    free(items);
    free(offs);
    ethd_buf_free(&buf);
    return rc;
}

int ethd_body_verify(const struct ethd_header *h, const struct ethd_body *b, const char **why)
{
    uint8_t root[32];
    const char *dummy;
    int rc;

    if (!why)
        why = &dummy;
    *why = NULL;
    if ((rc = ethd_body_tx_root(b, root)) != 0) {
        *why = "cannot compute transactions root";
        return rc;
    }
    if (memcmp(root, h->tx_root, 32) != 0) {
        *why = "transactions root mismatch";
        return ETHD_EINVAL;
    }
    if ((rc = ethd_body_uncles_hash(b, root)) != 0) {
        *why = "cannot compute uncles hash";
        return rc;
    }
    if (memcmp(root, h->uncles_hash, 32) != 0) {
        *why = "uncles hash mismatch";
        return ETHD_EINVAL;
    }
    bool want = (h->present & ETHD_HDR_WITHDRAWALS) != 0;
    if (want != b->has_withdrawals) {
        *why = want ? "withdrawals missing from body" : "unexpected withdrawals in body";
        return ETHD_EINVAL;
    }
    if (want) {
        if ((rc = ethd_body_withdrawals_root(b, root)) != 0) {
            *why = "cannot compute withdrawals root";
            return rc;
        }
        if (memcmp(root, h->withdrawals_root, 32) != 0) {
            *why = "withdrawals root mismatch";
            return ETHD_EINVAL;
        }
    }
    return 0;
}

int ethd_block_decode_item(const struct ethd_rlp_item *it, struct ethd_block *b)
{
    struct ethd_rlp_iter iter;
    struct ethd_rlp_item hdr;
    int rc;

    memset(b, 0, sizeof *b);
    if (!it->is_list)
        return ETHD_ETYPE;
    if ((rc = ethd_rlp_iter_init(&iter, it)) != 0)
        return rc;
    if (ethd_rlp_iter_next(&iter, &hdr))
        return ETHD_EINVAL;
    if ((rc = ethd_header_decode_item(&hdr, &b->header)) != 0)
        return rc;
    if ((rc = decode_body_fields(&iter, &b->body)) != 0) {
        ethd_block_free(b);
        return rc;
    }
    b->header_raw = hdr.raw;
    b->header_raw_len = hdr.raw_len;
    b->raw = it->raw;
    b->raw_len = it->raw_len;
    ethd_keccak256(hdr.raw, hdr.raw_len, b->hash);
    return 0;
}

int ethd_block_decode(const uint8_t *in, size_t len, struct ethd_block *b)
{
    struct ethd_rlp_item it;
    int rc = ethd_rlp_decode(in, len, &it);
    if (rc) {
        memset(b, 0, sizeof *b);
        return rc;
    }
    return ethd_block_decode_item(&it, b);
}

int ethd_block_encode(const struct ethd_block *b, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    size_t mark = out->len;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_header_encode_rlp(&e, &b->header);
    encode_body_fields(&e, &b->body);
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e);
    if (rc)
        out->len = mark;
    return rc;
}

void ethd_block_free(struct ethd_block *b)
{
    if (!b)
        return;
    ethd_header_free(&b->header);
    ethd_body_free(&b->body);
    memset(b, 0, sizeof *b);
}
