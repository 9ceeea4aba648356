/* libFuzzer target: the eth wire message decoders of the eth plugin
 * (plugins/eth/eth_msg.c), every message a peer can send. The first byte
 * picks the decoder, the rest is the message. Properties checked beyond
 * "no crash": a message that decodes encodes back to the same bytes
 * (decoders are strict), and receipt lists convert between the eth/66-68
 * and eth/69 forms without loss. */
#include "../plugins/eth/eth_msg.h"

#include <ethd/block.h>
#include <ethd/error.h>

#include <stdlib.h>
#include <string.h>

static void same(const struct ethd_buf *b, const uint8_t *in, size_t len)
{
    if (b->len != len || memcmp(b->data, in, len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_item list, it;
    struct ethd_rlp_iter iter;
    uint64_t id, a, c;
    size_t n;
    uint8_t h[32];
    switch (sel % 10) {
    case 0: { /* Status, both forms */
        struct ethd_eth_status s;
        uint32_t form = sel & 0x10 ? 69 : 68;
        if (ethd_eth_status_decode(form, in, len, &s) == 0 &&
            ethd_eth_status_encode(form, &s, &b) == 0)
            same(&b, in, len);
        break;
    }
    case 1: { /* GetBlockHeaders */
        struct ethd_eth_headers_query q;
        if (ethd_eth_get_headers_decode(in, len, &id, &q) == 0 &&
            ethd_eth_get_headers_encode(id, &q, &b) == 0)
            same(&b, in, len);
        break;
    }
    case 2: { /* GetBlockBodies / GetReceipts / GetPooledTransactions */
        if (ethd_eth_hashes_decode(in, len, &id, &list, &n) == 0) {
            const uint8_t *p;
            size_t k = 0;
            ethd_rlp_iter_init(&iter, &list);
            while (ethd_eth_hash_next(&iter, &p))
                k++;
            if (k != n)
                abort();
        }
        break;
    }
    case 3: /* NewBlockHashes */
        if (ethd_eth_nbh_decode(in, len, &list, &n) == 0) {
            const uint8_t *p;
            size_t k = 0;
            ethd_rlp_iter_init(&iter, &list);
            while (ethd_eth_nbh_next(&iter, &p, &a))
                k++;
            if (k != n)
                abort();
        }
        break;
    case 4: { /* NewBlock, then the block itself */
        uint8_t td[32];
        struct ethd_block blk;
        if (ethd_eth_new_block_decode(in, len, &it, td) == 0 &&
            ethd_block_decode_item(&it, &blk) == 0)
            ethd_block_free(&blk);
        break;
    }
    case 5: /* BlockRangeUpdate */
        if (ethd_eth_range_decode(in, len, &a, &c, h) == 0 &&
            ethd_eth_range_encode(a, c, h, &b) == 0)
            same(&b, in, len);
        break;
    case 6: { /* NewPooledTransactionHashes, both forms */
        struct ethd_eth_pooled_ann ann;
        ethd_eth_pooled_ann_decode(sel & 0x10 ? 68 : 66, in, len, &ann);
        break;
    }
    case 7: /* Transactions */
        ethd_eth_txs_check(in, len, &n);
        break;
    case 8: /* Receipts answer (eth/66-68): each list to eth/69 and back */
        if (ethd_eth_resp_decode(in, len, &id, &list) == 0 &&
            ethd_rlp_iter_init(&iter, &list) == 0) {
            while (ethd_rlp_iter_next(&iter, &it) == 0) {
                struct ethd_buf b69 = ETHD_BUF_INIT, back = ETHD_BUF_INIT;
                struct ethd_rlp_enc e;
                struct ethd_rlp_item l69;
                ethd_rlp_enc_init(&e, &b69);
                if (ethd_eth_receipts_to69(it.raw, it.raw_len, &e) == 0 &&
                    ethd_rlp_enc_finish(&e) == 0 && ethd_rlp_decode(b69.data, b69.len, &l69) == 0)
                    ethd_eth_receipts_from69(&l69, &back);
                ethd_buf_free(&b69);
                ethd_buf_free(&back);
            }
        }
        break;
    case 9: /* Receipts answer (eth/69) */
        if (ethd_eth_resp_decode(in, len, &id, &list) == 0 &&
            ethd_rlp_iter_init(&iter, &list) == 0) {
            while (ethd_rlp_iter_next(&iter, &it) == 0) {
                ethd_buf_reset(&b);
                ethd_eth_receipts_from69(&it, &b);
            }
        }
        break;
    }
    ethd_buf_free(&b);
    return 0;
}
