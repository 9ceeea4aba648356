/* libFuzzer target for the chain-type decoders. The first byte picks the
 * decoder, the rest is its input. Any input either fails with an error code
 * or decodes to a value that (a) re-encodes to exactly the input where the
 * form is canonical (blocks, headers, transactions, receipts, bodies, fork
 * ids) and (b) can be used: hashes, roots, sender recovery, validation.
 * Selector 8 feeds the bytes to the genesis.json loader. */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/forkid.h>
#include <ethd/genesis.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ethd_secp *get_secp(void)
{
    /* One context for the whole run: creating one per input would dominate. */
    static struct ethd_secp *secp;
    if (!secp && ethd_secp_new(&secp) != 0)
        abort();
    return secp;
}

static void same(const struct ethd_buf *b, const uint8_t *p, size_t n)
{
    if (b->len != n || memcmp(b->data, p, n) != 0)
        abort();
}

static void use_tx(const struct ethd_tx *tx)
{
    uint8_t h[32], addr[20];
    struct ethd_rules r;
    if (ethd_tx_signing_hash(tx, h) != 0)
        abort();
    (void)ethd_tx_sender(get_secp(), tx, true, addr);
    if (ethd_rules_for_fork("Prague", tx->chain_id, &r) != 0)
        abort();
    (void)ethd_tx_validate(get_secp(), tx, &r, addr);
    uint64_t g;
    (void)ethd_tx_intrinsic_gas(tx, &r, &g);
}

static void fuzz_block(const uint8_t *p, size_t n)
{
    struct ethd_block b;
    if (ethd_block_decode(p, n, &b) != 0)
        return;
    struct ethd_buf out = ETHD_BUF_INIT;
    if (ethd_block_encode(&b, &out) != 0)
        abort();
    same(&out, p, n);
    uint8_t h[32];
    if (ethd_header_hash(&b.header, h) != 0 || memcmp(h, b.hash, 32) != 0)
        abort();
    const char *why;
    (void)ethd_body_verify(&b.header, &b.body, &why);
    for (size_t i = 0; i < b.body.n_txs; i++) {
        struct ethd_tx tx;
        if (ethd_tx_decode(b.body.txs[i].data, b.body.txs[i].len, &tx) == 0) {
            use_tx(&tx);
            ethd_tx_free(&tx);
        }
    }
    ethd_buf_free(&out);
    ethd_block_free(&b);
}

static void fuzz_header(const uint8_t *p, size_t n)
{
    struct ethd_header h, c;
    if (ethd_header_decode(p, n, &h) != 0)
        return;
    struct ethd_buf out = ETHD_BUF_INIT;
    if (ethd_header_encode(&h, &out) != 0)
        abort();
    same(&out, p, n);
    if (ethd_header_copy(&c, &h) != 0)
        abort();
    uint8_t a[32], b[32];
    if (ethd_header_hash(&c, a) != 0)
        abort();
    ethd_keccak256(p, n, b);
    if (memcmp(a, b, 32) != 0)
        abort();
    ethd_header_free(&c);
    ethd_header_free(&h);
    ethd_buf_free(&out);
}

static void fuzz_tx(const uint8_t *p, size_t n, bool pooled)
{
    struct ethd_tx tx;
    bool sidecar = false;
    int rc = pooled ? ethd_tx_decode_pooled(p, n, &tx, &sidecar) : ethd_tx_decode(p, n, &tx);
    if (rc != 0)
        return;
    struct ethd_buf out = ETHD_BUF_INIT;
    if (ethd_tx_encode(&tx, &out) != 0)
        abort();
    if (!sidecar)
        same(&out, p, n);
    uint8_t h[32];
    ethd_keccak256(out.data, out.len, h);
    if (memcmp(h, tx.hash, 32) != 0)
        abort();
    use_tx(&tx);
    ethd_buf_free(&out);
    ethd_tx_free(&tx);
}

static void fuzz_receipt(const uint8_t *p, size_t n)
{
    struct ethd_receipt r;
    if (ethd_receipt_decode(p, n, &r) != 0)
        return;
    struct ethd_buf out = ETHD_BUF_INIT;
    if (ethd_receipt_encode(&r, &out) != 0)
        abort();
    same(&out, p, n);
    (void)ethd_receipt_check_bloom(&r);
    uint8_t root[32];
    if (ethd_receipts_root(&r, 1, root) != 0)
        abort();
    ethd_buf_free(&out);
    ethd_receipt_free(&r);
}

/* Selector 5: a wire item (list of receipts, eth/66-68), 6: one eth/69
 * receipt, 7: a body, 9: a fork id. */
static void fuzz_item(uint8_t sel, const uint8_t *p, size_t n)
{
    struct ethd_rlp_item it;
    if (ethd_rlp_decode(p, n, &it) != 0)
        return;
    struct ethd_buf out = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &out);
    if (sel == 5) {
        struct ethd_receipt *rs;
        size_t k;
        if (ethd_receipts_decode_list(&it, &rs, &k) == 0) {
            ethd_rlp_list_begin(&e);
            for (size_t i = 0; i < k; i++)
                ethd_receipt_encode_rlp(&e, &rs[i]);
            ethd_rlp_list_end(&e);
            if (ethd_rlp_enc_finish(&e) != 0)
                abort();
            same(&out, p, n);
            ethd_receipts_free(rs, k);
        }
    } else if (sel == 6) {
        struct ethd_receipt r;
        if (ethd_receipt_decode_69(&it, &r) == 0) {
            ethd_receipt_encode_69(&e, &r);
            if (ethd_rlp_enc_finish(&e) != 0 || ethd_receipt_check_bloom(&r) != 0)
                abort();
            same(&out, p, n);
            ethd_receipt_free(&r);
        }
    } else if (sel == 7) {
        struct ethd_body b;
        if (ethd_body_decode_item(&it, &b) == 0) {
            ethd_body_encode_rlp(&e, &b);
            if (ethd_rlp_enc_finish(&e) != 0)
                abort();
            same(&out, p, n);
            uint8_t root[32];
            if (ethd_body_tx_root(&b, root) || ethd_body_uncles_hash(&b, root) ||
                ethd_body_withdrawals_root(&b, root))
                abort();
            ethd_body_free(&b);
        }
    } else {
        struct ethd_forkid id;
        if (ethd_forkid_decode_item(&it, &id) == 0) {
            ethd_forkid_encode_rlp(&e, &id);
            if (ethd_rlp_enc_finish(&e) != 0)
                abort();
            same(&out, p, n);
        }
    }
    ethd_buf_free(&out);
}

static void fuzz_genesis(const uint8_t *p, size_t n)
{
    struct ethd_genesis g;
    char err[256];
    if (ethd_genesis_parse("fuzz", (const char *)p, n, &g, err, sizeof err) != 0) {
        if (strnlen(err, sizeof err) == sizeof err)
            abort(); /* message must be terminated */
        return;
    }
    struct ethd_forkid id;
    ethd_forkid_compute(&g.config, g.hash, g.header.timestamp, 0, g.header.timestamp, &id);
    (void)ethd_forkid_validate(&g.config, g.hash, g.header.timestamp, 1, 1, &id);
    (void)ethd_chain_check_header_fields(&g.config, &g.header, NULL);
    ethd_genesis_free(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 10) {
    case 0: fuzz_block(p, n); break;
    case 1: fuzz_header(p, n); break;
    case 2: fuzz_tx(p, n, false); break;
    case 3: fuzz_tx(p, n, true); break;
    case 4: fuzz_receipt(p, n); break;
    case 8: fuzz_genesis(p, n); break;
    default: fuzz_item((uint8_t)(data[0] % 10), p, n); break;
    }
    return 0;
}
