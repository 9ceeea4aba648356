/* RLP decode (ethd_rlp_decode's full validation plus a walk over every item
 * with the iterator and readers) and encode throughput on a header-like and
 * a body-like payload. Best of 3, CLOCK_MONOTONIC. Figures only. */
#include <ethd/buf.h>
#include <ethd/rlp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile size_t sink;

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (uint8_t)(seed >> 24);
    }
}

/* A post-Shanghai header: 17 fields. */
struct header {
    uint8_t parent[32], ommers[32], coinbase[20], state[32], txs[32], receipts[32];
    uint8_t bloom[256];
    uint64_t difficulty, number, gas_limit, gas_used, time;
    uint8_t extra[32], mix[32], nonce[8];
    uint64_t base_fee;
    uint8_t withdrawals[32];
};

struct tx {
    uint64_t nonce, gas_price, gas;
    uint8_t to[20];
    uint8_t value[32];
    uint8_t data[100];
    uint64_t v;
    uint8_t r[32], s[32];
};

#define NTX 200

static void enc_header(struct ethd_rlp_enc *e, const struct header *h)
{
    ethd_rlp_list_begin(e);
    ethd_rlp_bytes(e, h->parent, 32);
    ethd_rlp_bytes(e, h->ommers, 32);
    ethd_rlp_bytes(e, h->coinbase, 20);
    ethd_rlp_bytes(e, h->state, 32);
    ethd_rlp_bytes(e, h->txs, 32);
    ethd_rlp_bytes(e, h->receipts, 32);
    ethd_rlp_bytes(e, h->bloom, 256);
    ethd_rlp_uint(e, h->difficulty);
    ethd_rlp_uint(e, h->number);
    ethd_rlp_uint(e, h->gas_limit);
    ethd_rlp_uint(e, h->gas_used);
    ethd_rlp_uint(e, h->time);
    ethd_rlp_bytes(e, h->extra, 32);
    ethd_rlp_bytes(e, h->mix, 32);
    ethd_rlp_bytes(e, h->nonce, 8);
    ethd_rlp_uint(e, h->base_fee);
    ethd_rlp_bytes(e, h->withdrawals, 32);
    ethd_rlp_list_end(e);
}

static void enc_body(struct ethd_rlp_enc *e, const struct tx *t)
{
    ethd_rlp_list_begin(e);
    ethd_rlp_list_begin(e);
    for (int i = 0; i < NTX; i++) {
        ethd_rlp_list_begin(e);
        ethd_rlp_uint(e, t[i].nonce);
        ethd_rlp_uint(e, t[i].gas_price);
        ethd_rlp_uint(e, t[i].gas);
        ethd_rlp_bytes(e, t[i].to, 20);
        ethd_rlp_u256(e, t[i].value);
        ethd_rlp_bytes(e, t[i].data, 100);
        ethd_rlp_uint(e, t[i].v);
        ethd_rlp_bytes(e, t[i].r, 32);
        ethd_rlp_bytes(e, t[i].s, 32);
        ethd_rlp_list_end(e);
    }
    ethd_rlp_list_end(e);
    ethd_rlp_list_begin(e); /* ommers */
    ethd_rlp_list_end(e);
    ethd_rlp_list_end(e);
}

/* Visit every item; strings are read with the typed readers a real consumer
 * would use (uint64 for short ones, bytes otherwise). */
static size_t walk(const struct ethd_rlp_item *it)
{
    if (!it->is_list) {
        uint64_t v;
        const uint8_t *p;
        size_t n;
        if (it->len <= 8 && ethd_rlp_get_uint64(it, &v) == 0)
            return (size_t)v;
        ethd_rlp_get_bytes(it, &p, &n);
        return n;
    }
    struct ethd_rlp_iter iter;
    struct ethd_rlp_item c;
    size_t acc = 0;
    ethd_rlp_iter_init(&iter, it);
    while (ethd_rlp_iter_next(&iter, &c) == 0)
        acc += walk(&c);
    return acc;
}

struct job {
    int kind; /* 0 header, 1 body */
    const struct header *h;
    const struct tx *t;
    const uint8_t *enc;
    size_t enc_len;
    struct ethd_buf *buf;
};

static void run_decode(size_t iters, const struct job *j)
{
    for (size_t i = 0; i < iters; i++) {
        struct ethd_rlp_item it;
        if (ethd_rlp_decode(j->enc, j->enc_len, &it) != 0)
            abort();
        sink += walk(&it);
    }
}

static void run_encode(size_t iters, const struct job *j)
{
    for (size_t i = 0; i < iters; i++) {
        struct ethd_rlp_enc e;
        ethd_buf_reset(j->buf);
        ethd_rlp_enc_init(&e, j->buf);
        if (j->kind == 0)
            enc_header(&e, j->h);
        else
            enc_body(&e, j->t);
        if (ethd_rlp_enc_finish(&e) != 0)
            abort();
        sink += j->buf->len;
    }
}

static double rate(void (*fn)(size_t, const struct job *), const struct job *j)
{
    size_t iters = 1;
    for (;;) {
        double t0 = now();
        fn(iters, j);
        double dt = now() - t0;
        if (dt > 0.1) {
            iters = (size_t)((double)iters * 0.4 / dt) + 1;
            break;
        }
        iters *= 4;
    }
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        fn(iters, j);
        double v = (double)iters / (now() - t0);
        if (v > best)
            best = v;
    }
    return best;
}

static void bench(const char *name, struct job *j)
{
    struct ethd_buf out = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &out);
    if (j->kind == 0)
        enc_header(&e, j->h);
    else
        enc_body(&e, j->t);
    if (ethd_rlp_enc_finish(&e) != 0)
        abort();
    j->enc = out.data;
    j->enc_len = out.len;
    struct ethd_buf scratch = ETHD_BUF_INIT;
    j->buf = &scratch;

    double d = rate(run_decode, j), en = rate(run_encode, j);
    double mb = (double)out.len / 1e6;
    printf("rlp %s (%zu B): decode+walk %.0f MB/s (%.1f k/s)  encode %.0f MB/s (%.1f k/s)\n",
           name, out.len, d * mb, d / 1e3, en * mb, en / 1e3);
    ethd_buf_free(&scratch);
    ethd_buf_free(&out);
}

int main(void)
{
    struct header h;
    fill((uint8_t *)&h, sizeof(h), 1);
    h.difficulty = 0;
    h.number = 19000000;
    h.gas_limit = 30000000;
    h.gas_used = 12345678;
    h.time = 1700000000;
    h.base_fee = 25000000000ull;

    struct tx *t = calloc(NTX, sizeof(*t));
    if (!t)
        return 1;
    for (int i = 0; i < NTX; i++) {
        fill((uint8_t *)&t[i], sizeof(t[i]), (uint32_t)i + 7);
        t[i].nonce = (uint64_t)i * 3;
        t[i].gas_price = 30000000000ull + (uint64_t)i;
        t[i].gas = 21000 + (uint64_t)i * 100;
        memset(t[i].value, 0, 24);
        t[i].v = 37 + (uint64_t)(i & 1);
    }

    struct job jh = {.kind = 0, .h = &h}, jb = {.kind = 1, .t = t};
    bench("header (17 fields)", &jh);
    bench("body (200 txs x 9 fields)", &jb);
    free(t);
    return 0;
}
