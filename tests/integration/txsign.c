/* txsign: prints a signed transaction for tests/integration/test_txpool.sh.
 *
 *   txsign --key HEX --nonce N --chain-id N [--type 0|2] [--fee WEI]
 *          [--gas N] [--data-bytes N] [--bad-sig]
 *
 * Output, one line: RAW HASH ITEM, where RAW is the canonical form as
 * eth_sendRawTransaction takes it (0x-prefixed), HASH its hash, and ITEM
 * (bare hex) an eth Transactions message payload holding just this tx.
 * --bad-sig zeroes r after signing, so no key recovers the sender.
 *
 *   txsign --from-chain FILE --block N --index I
 *
 * prints RAW HASH of transaction I of block N (blocks 1.. in order) of a
 * chain file instead. */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void u256(uint64_t v, uint8_t out[32])
{
    memset(out, 0, 32);
    for (int i = 0; i < 8; i++)
        out[31 - i] = (uint8_t)(v >> (8 * i));
}

static int usage(void)
{
    fprintf(stderr, "usage: txsign --key HEX --nonce N --chain-id N [--type 0|2] [--fee WEI] "
                    "[--gas N] [--data-bytes N] [--bad-sig]\n");
    return 2;
}

static char *hex_alloc(const uint8_t *p, size_t n);

/* Transaction `index` of block `number` of a chain file (blocks 1..). */
static int from_chain(const char *file, uint64_t number, uint64_t index)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        perror(file);
        return 1;
    }
    struct ethd_buf all = ETHD_BUF_INIT;
    uint8_t chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (ethd_buf_append(&all, chunk, got))
            return 1;
    fclose(f);
    const uint8_t *p = all.data;
    size_t left = all.len;
    struct ethd_rlp_item blk, hdr, txs, tx;
    struct ethd_rlp_iter it;
    for (uint64_t n = 1; n <= number; n++)
        if (ethd_rlp_next(&p, &left, &blk)) {
            fprintf(stderr, "txsign: no block %llu\n", (unsigned long long)number);
            return 1;
        }
    if (ethd_rlp_iter_init(&it, &blk) || ethd_rlp_iter_next(&it, &hdr) ||
        ethd_rlp_iter_next(&it, &txs) || ethd_rlp_iter_init(&it, &txs))
        return 1;
    for (uint64_t i = 0; i <= index; i++)
        if (ethd_rlp_iter_next(&it, &tx)) {
            fprintf(stderr, "txsign: block %llu has no tx %llu\n", (unsigned long long)number,
                    (unsigned long long)index);
            return 1;
        }
    const uint8_t *raw = tx.is_list ? tx.raw : tx.payload;
    size_t len = tx.is_list ? tx.raw_len : tx.len;
    struct ethd_tx t;
    if (ethd_tx_decode(raw, len, &t))
        return 1;
    char *r = hex_alloc(raw, len), *h = hex_alloc(t.hash, 32);
    if (!r || !h)
        return 1;
    printf("%s %s\n", r, h);
    free(r);
    free(h);
    ethd_tx_free(&t);
    ethd_buf_free(&all);
    return 0;
}

static char *hex_alloc(const uint8_t *p, size_t n)
{
    char *s = malloc(n * 2 + 3);
    if (s)
        ethd_hex_encode(p, n, s);
    return s;
}

int main(int argc, char **argv)
{
    uint8_t key[32];
    bool have_key = false, bad_sig = false;
    uint64_t nonce = 0, chain_id = 0, type = 2, fee = 1000000000, gas = 0, data_bytes = 0;
    uint64_t block = 0, index = 0;
    const char *chain_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--bad-sig") == 0) {
            bad_sig = true;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--from-chain") == 0)
            chain_file = v;
        else if (strcmp(a, "--block") == 0)
            block = strtoull(v, NULL, 10);
        else if (strcmp(a, "--index") == 0)
            index = strtoull(v, NULL, 10);
        else if (strcmp(a, "--key") == 0)
            have_key = ethd_hex_decode_fixed(v, key, 32) == 0;
        else if (strcmp(a, "--nonce") == 0)
            nonce = strtoull(v, NULL, 10);
        else if (strcmp(a, "--chain-id") == 0)
            chain_id = strtoull(v, NULL, 10);
        else if (strcmp(a, "--type") == 0)
            type = strtoull(v, NULL, 10);
        else if (strcmp(a, "--fee") == 0)
            fee = strtoull(v, NULL, 10);
        else if (strcmp(a, "--gas") == 0)
            gas = strtoull(v, NULL, 10);
        else if (strcmp(a, "--data-bytes") == 0)
            data_bytes = strtoull(v, NULL, 10);
        else
            return usage();
    }
    if (chain_file)
        return block ? from_chain(chain_file, block, index) : usage();
    if (!have_key || (type != 0 && type != 2) || data_bytes > (1u << 24))
        return usage();
    struct ethd_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = (uint8_t)type;
    tx.has_chain_id = true;
    tx.chain_id = chain_id;
    tx.nonce = nonce;
    if (type == 0) {
        u256(fee, tx.gas_price);
    } else {
        u256(fee, tx.max_fee);
        u256(fee < 1000000000 ? fee : 1000000000, tx.max_priority_fee);
    }
    tx.gas = gas ? gas : 21000 + 16 * data_bytes;
    tx.has_to = true;
    memset(tx.to, 0x5a, 20);
    u256(1000, tx.value);
    if (data_bytes) {
        tx.data = malloc(data_bytes);
        if (!tx.data)
            return 1;
        memset(tx.data, 0x7e, data_bytes);
        tx.data_len = data_bytes;
    }
    struct ethd_secp *secp;
    if (ethd_secp_new(&secp) || ethd_tx_sign(secp, &tx, key)) {
        fprintf(stderr, "txsign: cannot sign\n");
        return 1;
    }
    if (bad_sig)
        memset(tx.r, 0, 32);
    struct ethd_buf raw = ETHD_BUF_INIT, msg = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &msg);
    ethd_rlp_list_begin(&e);
    ethd_tx_encode_rlp(&e, &tx);
    ethd_rlp_list_end(&e);
    if (ethd_tx_encode(&tx, &raw) || ethd_rlp_enc_finish(&e)) {
        fprintf(stderr, "txsign: cannot encode\n");
        return 1;
    }
    /* The hash of what was encoded (bad-sig changes it). */
    struct ethd_tx back;
    if (ethd_tx_decode(raw.data, raw.len, &back)) {
        fprintf(stderr, "txsign: the encoding does not decode\n");
        return 1;
    }
    char *r = hex_alloc(raw.data, raw.len), *h = hex_alloc(back.hash, 32),
         *m = hex_alloc(msg.data, msg.len);
    if (!r || !h || !m)
        return 1;
    printf("%s %s %s\n", r, h, m + 2);
    free(r);
    free(h);
    free(m);
    ethd_tx_free(&back);
    ethd_tx_free(&tx);
    ethd_buf_free(&raw);
    ethd_buf_free(&msg);
    ethd_secp_free(secp);
    return 0;
}
