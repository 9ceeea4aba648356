/* Chain codec throughput on the devnet-a chain (300 blocks, 633 txs) and
 * its receipts: block decode + re-encode, header hash, body root checks,
 * transaction decode, sender recovery, receipts decode + root. Each figure
 * is shown next to a floor measured in the same run: ethd_rlp_decode of the
 * same bytes plus the header's Keccak (the block hash) for block decoding,
 * ethd_rlp_decode alone for receipt lists (the root then costs an encode and
 * a Keccak per trie node on top), plain Keccak of the raw header for header
 * hashing, and the raw ecrecover for sender recovery.
 * Best of 3, CLOCK_MONOTONIC. Figures only. Usage: bench_chain_codec
 * [FIXTURES_DIR] (default $ETHD_FIXTURES or ../shared/fixtures). */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>

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

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *p = malloc((size_t)n);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

struct items {
    struct ethd_rlp_item *v;
    size_t n;
};

static void split(const uint8_t *p, size_t len, struct items *out)
{
    out->v = NULL;
    out->n = 0;
    while (len) {
        out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
        if (!out->v || ethd_rlp_next(&p, &len, &out->v[out->n]) != 0) {
            fprintf(stderr, "bad chain file\n");
            exit(1);
        }
        out->n++;
    }
}

typedef void (*bench_fn)(const struct items *it, void *ctx);

/* Best of 3 runs of `reps` repetitions; returns seconds per repetition. */
static double best(bench_fn fn, const struct items *it, void *ctx, int reps)
{
    double b = 1e99;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        for (int k = 0; k < reps; k++)
            fn(it, ctx);
        double t = (now() - t0) / reps;
        if (t < b)
            b = t;
    }
    return b;
}

static void rlp_only(const struct items *it, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < it->n; i++) {
        struct ethd_rlp_item x;
        sink += ethd_rlp_decode(it->v[i].raw, it->v[i].raw_len, &x) == 0;
    }
}

/* What any block decoder must at least do: validate the RLP and hash the
 * header (the block hash). */
static void rlp_and_hash(const struct items *it, void *ctx)
{
    (void)ctx;
    uint8_t h[32];
    for (size_t i = 0; i < it->n; i++) {
        struct ethd_rlp_item x, hdr;
        struct ethd_rlp_iter iter;
        if (ethd_rlp_decode(it->v[i].raw, it->v[i].raw_len, &x) == 0 &&
            ethd_rlp_iter_init(&iter, &x) == 0 && ethd_rlp_iter_next(&iter, &hdr) == 0) {
            ethd_keccak256(hdr.raw, hdr.raw_len, h);
            sink += h[0];
        }
    }
}

static void block_decode(const struct items *it, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < it->n; i++) {
        struct ethd_block b;
        if (ethd_block_decode(it->v[i].raw, it->v[i].raw_len, &b) == 0) {
            sink += b.body.n_txs;
            ethd_block_free(&b);
        }
    }
}

static void block_roundtrip(const struct items *it, void *ctx)
{
    struct ethd_buf *buf = ctx;
    for (size_t i = 0; i < it->n; i++) {
        struct ethd_block b;
        if (ethd_block_decode(it->v[i].raw, it->v[i].raw_len, &b) == 0) {
            ethd_buf_reset(buf);
            sink += ethd_block_encode(&b, buf) == 0 && buf->len == it->v[i].raw_len;
            ethd_block_free(&b);
        }
    }
}

struct decoded {
    struct ethd_block *b;
    size_t n;
    const struct ethd_secp *secp;
    struct ethd_tx *txs;
    size_t n_txs;
};

static void header_hash(const struct items *it, void *ctx)
{
    struct decoded *d = ctx;
    (void)it;
    uint8_t h[32];
    for (size_t i = 0; i < d->n; i++)
        sink += ethd_header_hash(&d->b[i].header, h) == 0 ? h[0] : 0;
}

static void keccak_headers(const struct items *it, void *ctx)
{
    struct decoded *d = ctx;
    (void)it;
    uint8_t h[32];
    for (size_t i = 0; i < d->n; i++) {
        ethd_keccak256(d->b[i].header_raw, d->b[i].header_raw_len, h);
        sink += h[0];
    }
}

static void body_verify(const struct items *it, void *ctx)
{
    struct decoded *d = ctx;
    (void)it;
    for (size_t i = 0; i < d->n; i++)
        sink += ethd_body_verify(&d->b[i].header, &d->b[i].body, NULL) == 0;
}

static void tx_decode(const struct items *it, void *ctx)
{
    struct decoded *d = ctx;
    (void)it;
    for (size_t i = 0; i < d->n; i++)
        for (size_t t = 0; t < d->b[i].body.n_txs; t++) {
            struct ethd_tx tx;
            if (ethd_tx_decode(d->b[i].body.txs[t].data, d->b[i].body.txs[t].len, &tx) == 0) {
                sink += tx.nonce;
                ethd_tx_free(&tx);
            }
        }
}

static void tx_sender(const struct items *it, void *ctx)
{
    struct decoded *d = ctx;
    (void)it;
    uint8_t a[20];
    for (size_t i = 0; i < d->n_txs; i++)
        sink += ethd_tx_sender(d->secp, &d->txs[i], true, a) == 0 ? a[0] : 0;
}

static void raw_recover(const struct items *it, void *ctx)
{
    struct decoded *d = ctx;
    (void)it;
    uint8_t sig[65], pub[64], h[32];
    for (size_t i = 0; i < d->n_txs; i++) {
        /* The floor: the signing hash is not included, only the recovery. */
        memcpy(sig, d->txs[i].r, 32);
        memcpy(sig + 32, d->txs[i].s, 32);
        sig[64] = d->txs[i].y_parity;
        memcpy(h, d->txs[i].hash, 32);
        sink += ethd_secp_recover(d->secp, h, sig, 65, pub) != ETHD_EINVAL;
    }
}

static void receipts(const struct items *it, void *ctx)
{
    (void)ctx;
    uint8_t root[32];
    for (size_t i = 0; i < it->n; i++) {
        struct ethd_receipt *rs;
        size_t n;
        if (ethd_receipts_decode_list(&it->v[i], &rs, &n) == 0) {
            sink += ethd_receipts_root(rs, n, root) == 0;
            ethd_receipts_free(rs, n);
        }
    }
}

static void row(const char *what, double t, size_t units, const char *unit, size_t bytes,
                const char *floor_name, double floor_t)
{
    printf("%-28s %9.1f %s/s  %7.1f MB/s", what, units / t, unit, bytes / t / 1e6);
    if (floor_name)
        printf("   floor %-22s %9.1f %s/s (x%.2f)", floor_name, units / floor_t, unit, t / floor_t);
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("ETHD_FIXTURES");
    if (!dir)
        dir = "../shared/fixtures";
    char path[4096];
    size_t clen, rlen;
    snprintf(path, sizeof path, "%s/devnet-a/chain.rlp", dir);
    uint8_t *chain = slurp(path, &clen);
    snprintf(path, sizeof path, "%s/devnet-a/receipts.rlp", dir);
    uint8_t *rcpt = slurp(path, &rlen);
    struct items blocks, rlists;
    split(chain, clen, &blocks);
    split(rcpt, rlen, &rlists);

    struct decoded d = {0};
    struct ethd_secp *secp;
    if (ethd_secp_new(&secp) != 0)
        return 1;
    d.secp = secp;
    d.b = calloc(blocks.n, sizeof *d.b);
    for (size_t i = 0; i < blocks.n; i++) {
        if (ethd_block_decode(blocks.v[i].raw, blocks.v[i].raw_len, &d.b[i]) != 0)
            return 1;
        d.n_txs += d.b[i].body.n_txs;
    }
    d.n = blocks.n;
    d.txs = calloc(d.n_txs, sizeof *d.txs);
    size_t k = 0, tx_bytes = 0, hdr_bytes = 0;
    for (size_t i = 0; i < d.n; i++) {
        hdr_bytes += d.b[i].header_raw_len;
        for (size_t t = 0; t < d.b[i].body.n_txs; t++, k++) {
            tx_bytes += d.b[i].body.txs[t].len;
            if (ethd_tx_decode(d.b[i].body.txs[t].data, d.b[i].body.txs[t].len, &d.txs[k]) != 0)
                return 1;
        }
    }
    struct ethd_buf buf = ETHD_BUF_INIT;
    printf("devnet-a: %zu blocks (%zu bytes), %zu txs, %zu receipt lists (%zu bytes)\n",
           blocks.n, clen, d.n_txs, rlists.n, rlen);

    double floor = best(rlp_and_hash, &blocks, NULL, 50);
    printf("(ethd_rlp_decode alone: %.1f blocks/s)\n", blocks.n / best(rlp_only, &blocks, NULL, 50));
    row("block decode", best(block_decode, &blocks, NULL, 50), blocks.n, "blocks", clen,
        "rlp_decode+hdr keccak", floor);
    row("block decode+encode", best(block_roundtrip, &blocks, &buf, 50), blocks.n, "blocks", clen,
        "rlp_decode+hdr keccak", floor);
    row("header hash (encode+keccak)", best(header_hash, &blocks, &d, 200), d.n, "hdrs",
        hdr_bytes, "keccak of raw header", best(keccak_headers, &blocks, &d, 200));
    row("body verify (3 roots)", best(body_verify, &blocks, &d, 50), d.n, "bodies", clen, NULL, 0);
    row("tx decode", best(tx_decode, &blocks, &d, 50), d.n_txs, "txs", tx_bytes, NULL, 0);
    row("tx sender (hash+recover)", best(tx_sender, &blocks, &d, 3), d.n_txs, "txs", tx_bytes,
        "ethd_secp_recover", best(raw_recover, &blocks, &d, 3));
    row("receipts decode+root", best(receipts, &rlists, NULL, 50), rlists.n, "lists", rlen,
        "ethd_rlp_decode", best(rlp_only, &rlists, NULL, 50));

    for (size_t i = 0; i < d.n_txs; i++)
        ethd_tx_free(&d.txs[i]);
    for (size_t i = 0; i < d.n; i++)
        ethd_block_free(&d.b[i]);
    free(d.txs);
    free(d.b);
    ethd_buf_free(&buf);
    ethd_secp_free(secp);
    free(blocks.v);
    free(rlists.v);
    free(chain);
    free(rcpt);
    return sink == 42 ? 2 : 0;
}
