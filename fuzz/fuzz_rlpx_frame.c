/* libFuzzer target for RLPx framing and snappy (core/p2p/rlpx.c).
 *
 * Byte 0 selects the mode (the rest of the input is `body`):
 *   even: `body` is a received stream, fed to ethd_rlpx_frame_read of a
 *         reader built from fixed secrets, frame after frame, in pieces
 *         whose sizes come from byte 1; only documented results, consumed
 *         bytes stay within the input, EAGAIN's need beyond it.
 *   odd:  `body` is a list of messages (code byte, length byte, payload);
 *         a writer whose egress state is the reader's ingress frames them,
 *         one bit is flipped if byte 0 & 2 (position from the input), and
 *         the reader must return every message intact up to the first
 *         damaged frame, which must fail with ETHD_ECRYPTO.
 * Every input also goes to ethd_rlpx_snappy_decompress with a small max
 * (and a successful result must re-compress and round-trip).
 * Seeds (fuzz/corpus/rlpx_frame/): message lists, and streams of valid frames
 * under these fixed secrets. */
#include "p2p/rlpx.h"

#include <ethd/error.h>
#include <ethd/keccak.h>

#include <stdlib.h>
#include <string.h>

#define SNAPPY_MAX 4096
#define MAX_FRAME 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same fixed secrets on both ends: the writer's egress MAC is the
 * reader's ingress MAC. */
static void secrets(struct ethd_rlpx_secrets *w, struct ethd_rlpx_secrets *r)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < 32; i++) {
        w->aes[i] = (uint8_t)(0x11 * i + 1);
        w->mac[i] = (uint8_t)(0x07 * i + 3);
    }
    ethd_keccak_init(&w->egress_mac);
    ethd_keccak_update(&w->egress_mac, "fuzz egress", 11);
    ethd_keccak_init(&w->ingress_mac);
    ethd_keccak_update(&w->ingress_mac, "fuzz ingress", 12);
    *r = *w;
    r->ingress_mac = w->egress_mac;
    r->egress_mac = w->ingress_mac;
}

static void read_stream(struct ethd_rlpx_frame *f, const uint8_t *in, size_t len, size_t step)
{
    size_t off = 0, avail = step < len ? step : len;
    for (;;) {
        size_t consumed = 0, need = 0, plen = 0;
        uint64_t code = 0;
        const uint8_t *p = NULL;
        int rc = ethd_rlpx_frame_read(f, in + off, avail - off, &consumed, &need, &code, &p, &plen);
        if (rc == 0 || rc == ETHD_EPROTO) {
            if (consumed < 48 || consumed > avail - off || consumed % 16 != 0)
                abort();
            if (rc == 0 && plen > MAX_FRAME)
                abort();
            off += consumed;
            continue;
        }
        if (rc == ETHD_EAGAIN) {
            if (need <= avail - off || need > 32 + MAX_FRAME + 16 + 16)
                abort();
            if (avail == len)
                return; /* the input is exhausted */
            avail = avail + step < len ? avail + step : len;
            continue;
        }
        if (rc != ETHD_ECRYPTO && rc != ETHD_ETOOBIG)
            abort();
        /* sticky */
        if (ethd_rlpx_frame_read(f, in + off, avail - off, &consumed, &need, &code, &p, &plen) != rc)
            abort();
        return;
    }
}

static void write_read(struct ethd_rlpx_frame *w, struct ethd_rlpx_frame *r, const uint8_t *body,
                       size_t len, bool flip, size_t flip_seed)
{
    struct ethd_buf wire = ETHD_BUF_INIT;
    size_t ends[256], starts[256], nmsg = 0;
    const uint8_t *msgs[256];
    size_t mlen[256];
    uint64_t codes[256];
    size_t pos = 0;
    while (pos + 2 <= len && nmsg < 256) {
        uint64_t code = (uint64_t)body[pos] * 4099u; /* spread codes over several bytes */
        size_t n = body[pos + 1];
        pos += 2;
        if (n > len - pos)
            n = len - pos;
        starts[nmsg] = wire.len;
        if (ethd_rlpx_frame_write(w, code, body + pos, n, &wire) != 0)
            abort();
        ends[nmsg] = wire.len;
        msgs[nmsg] = body + pos;
        mlen[nmsg] = n;
        codes[nmsg] = code;
        nmsg++;
        pos += n;
    }
    size_t bad = SIZE_MAX;
    if (flip && wire.len > 0) {
        size_t at = flip_seed % wire.len;
        wire.data[at] ^= (uint8_t)(1u << (flip_seed % 8));
        for (size_t i = 0; i < nmsg; i++)
            if (at >= starts[i] && at < ends[i]) {
                bad = i;
                break;
            }
    }
    size_t off = 0;
    for (size_t i = 0; i < nmsg; i++) {
        size_t consumed = 0, need = 0, plen = 0;
        uint64_t code = 0;
        const uint8_t *p = NULL;
        int rc = ethd_rlpx_frame_read(r, wire.data + off, wire.len - off, &consumed, &need, &code,
                                      &p, &plen);
        if (i == bad) {
            /* a damaged header may also claim a size beyond the input or
             * the limit; it must never be accepted */
            if (rc != ETHD_ECRYPTO)
                abort();
            break;
        }
        if (rc != 0 || consumed != ends[i] - starts[i] || code != codes[i] || plen != mlen[i] ||
            (plen && memcmp(p, msgs[i], plen) != 0))
            abort();
        off += consumed;
    }
    ethd_buf_free(&wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ethd_buf out = ETHD_BUF_INIT, back = ETHD_BUF_INIT;
    int rc = ethd_rlpx_snappy_decompress(data, size, SNAPPY_MAX, &out);
    if (rc == 0) {
        if (out.len > SNAPPY_MAX)
            abort();
        if (ethd_rlpx_snappy_compress(out.data, out.len, &back) != 0 ||
            ethd_rlpx_snappy_decompress(back.data, back.len, out.len, &out) != 0)
            abort();
    } else if (rc != ETHD_EPROTO && rc != ETHD_ETOOBIG) {
        abort();
    }
    ethd_buf_free(&out);
    ethd_buf_free(&back);

    if (size < 2)
        return 0;
    struct ethd_rlpx_secrets sw, sr;
    secrets(&sw, &sr);
    struct ethd_rlpx_frame *w = NULL, *r = NULL;
    if (ethd_rlpx_frame_new(&sw, MAX_FRAME, &w) != 0 || ethd_rlpx_frame_new(&sr, MAX_FRAME, &r) != 0)
        abort();
    const uint8_t *body = data + 2;
    size_t len = size - 2;
    if ((data[0] & 1) == 0) {
        read_stream(r, body, len, (size_t)data[1] * 7 + 1);
    } else {
        size_t seed = (size_t)data[1] * 2654435761u + size;
        write_read(w, r, body, len, (data[0] & 2) != 0, seed);
    }
    ethd_rlpx_frame_free(w);
    ethd_rlpx_frame_free(r);
    return 0;
}
