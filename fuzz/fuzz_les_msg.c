/* libFuzzer target: the les wire message decoders of the les plugin
 * (plugins/les/les_msg.c) and the proof verifier (les_cht.c), everything a
 * les peer can send. The first byte picks the decoder, the rest is the
 * message. Beyond "no crash": a GetBlockHeaders, reply or resume that
 * decodes encodes back to the same bytes (the decoders are strict). */
#include "../plugins/les/les_cht.h"
#include "../plugins/les/les_msg.h"

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
    struct ethd_rlp_item list, body;
    struct ethd_rlp_iter it;
    uint64_t id, bv;
    size_t n;
    switch (sel % 10) {
    case 0: {
        struct ethd_les_status s;
        if (ethd_les_status_decode(2 + (sel / 10) % 3, in, len, &s) == 0)
            if (ethd_les_status_encode(&s, &b) != 0)
                abort();
        break;
    }
    case 1: {
        struct ethd_eth_headers_query q;
        if (ethd_les_get_headers_decode(in, len, &id, &q) == 0) {
            ethd_les_get_headers_encode(id, &q, &b);
            same(&b, in, len);
        }
        break;
    }
    case 2: {
        static const uint64_t codes[] = {0x04, 0x06, 0x0a, 0x0f, 0x11, 0x13, 0x14};
        uint64_t code = codes[(sel / 10) % 7];
        if (ethd_les_req_decode(code, in, len, &id, &list, &n) == 0 && code == 0x11) {
            struct ethd_les_ht_req r;
            size_t k = 0;
            ethd_rlp_iter_init(&it, &list);
            while (ethd_les_ht_req_next(&it, &r) == 0)
                k++;
            if (k != n)
                abort();
        }
        break;
    }
    case 3:
        if (ethd_les_reply_decode(in, len, &id, &bv, &body) == 0) {
            ethd_les_reply_encode_raw(id, bv, body.raw, body.raw_len, &b);
            same(&b, in, len);
        }
        break;
    case 4: {
        struct ethd_les_announce a;
        if (ethd_les_announce_decode(in, len, &a) == 0)
            ethd_les_announce_encode(&a, &b);
        break;
    }
    case 5:
        ethd_les_stop_decode(in, len);
        if (ethd_les_resume_decode(in, len, &bv) == 0 && len && in[0] >= 0xc0) {
            ethd_les_resume_encode(bv, &b);
            same(&b, in, len);
        }
        break;
    default: {
        /* A proof (HelperTrieProofs node list) checked against a root and
         * key taken from the input's first 40 bytes. */
        if (len < 40)
            break;
        struct ethd_rlp_item nodes;
        const uint8_t *val;
        size_t vlen;
        if (ethd_rlp_decode(in + 40, len - 40, &nodes) == 0)
            ethd_les_trie_verify(in, in + 32, 8, &nodes, &val, &vlen);
        break;
    }
    }
    ethd_buf_free(&b);
    return 0;
}
