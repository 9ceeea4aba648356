/* Keccak-256 throughput next to the bound of this machine: the raw nettle
 * Keccak-f[1600] rate, measured alternately with each hash figure so that
 * load from other processes hits both alike. A hash of n bytes costs
 * floor(n / 136) + 1 permutations, so the ceiling for that size is
 * permutations/s divided by that count. Best of 3, CLOCK_MONOTONIC. */
#include <ethd/keccak.h>

#include <nettle/sha3.h>
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

static volatile uint8_t sink;

struct job {
    const uint8_t *data;
    size_t len;
    size_t chunk; /* 0: one-shot; else incremental updates of this size */
};

static void run_perm(size_t iters, const struct job *j)
{
    (void)j;
    struct sha3_state st;
    memset(&st, 0, sizeof(st));
    for (size_t i = 0; i < iters; i++)
        sha3_permute(&st);
    sink ^= (uint8_t)st.a[0];
}

static void run_hash(size_t iters, const struct job *j)
{
    uint8_t d[32];
    for (size_t i = 0; i < iters; i++) {
        if (j->chunk == 0) {
            ethd_keccak256(j->data, j->len, d);
        } else {
            struct ethd_keccak k;
            ethd_keccak_init(&k);
            for (size_t off = 0; off < j->len; off += j->chunk)
                ethd_keccak_update(&k, j->data + off,
                                   j->len - off < j->chunk ? j->len - off : j->chunk);
            ethd_keccak_final(&k, d);
        }
        sink ^= d[0];
    }
}

static void report(const char *label, double hps, size_t len, double perm)
{
    double perms_per_hash = (double)(len / ETHD_KECCAK256_RATE + 1);
    double ceiling = perm / perms_per_hash; /* hashes/s */
    double mbs = hps * (double)len / 1e6;
    if (len >= 1 << 20)
        printf("%s: %.1f MB/s  (%.2f x permutation ceiling %.1f MB/s at %.2f M perm/s)\n", label,
               mbs, hps / ceiling, ceiling * (double)len / 1e6, perm / 1e6);
    else if (hps >= 1e6)
        printf("%s: %.2f M hash/s  %.1f MB/s  (%.2f x permutation ceiling %.2f M/s)\n", label,
               hps / 1e6, mbs, hps / ceiling, ceiling / 1e6);
    else
        printf("%s: %.0f k hash/s  %.1f MB/s  (%.2f x permutation ceiling %.0f k/s)\n", label,
               hps / 1e3, mbs, hps / ceiling, ceiling / 1e3);
}

/* Iterations that take about 0.3 s. */
static size_t calibrate(void (*fn)(size_t, const struct job *), const struct job *j)
{
    size_t iters = 1;
    for (;;) {
        double t0 = now();
        fn(iters, j);
        double dt = now() - t0;
        if (dt > 0.05)
            return (size_t)((double)iters * 0.3 / dt) + 1;
        iters *= 4;
    }
}

static double once(void (*fn)(size_t, const struct job *), const struct job *j, size_t iters)
{
    double t0 = now();
    fn(iters, j);
    return (double)iters / (now() - t0);
}

/* Best of 3 for the hash and for the bare permutation, run alternately so
 * that load from other processes hits both alike. perm_iters is calibrated
 * once in main. */
static void measure(const char *label, const struct job *j, size_t perm_iters)
{
    size_t iters = calibrate(run_hash, j);
    double best = 0, perm = 0;
    for (int r = 0; r < 3; r++) {
        double p = once(run_perm, NULL, perm_iters);
        double h = once(run_hash, j, iters);
        if (p > perm)
            perm = p;
        if (h > best)
            best = h;
    }
    report(label, best, j->len, perm);
}

int main(void)
{
    size_t big = 1 << 20;
    uint8_t *buf = malloc(big);
    if (!buf)
        return 1;
    for (size_t i = 0; i < big; i++)
        buf[i] = (uint8_t)(i * 131 + 7);

    size_t perm_iters = calibrate(run_perm, NULL);
    double perm = 0;
    for (int r = 0; r < 3; r++) {
        double p = once(run_perm, NULL, perm_iters);
        if (p > perm)
            perm = p;
    }
    printf("nettle sha3_permute: %.2f M perm/s  (ceiling %.1f MB/s absorbed at 136 B each)\n",
           perm / 1e6, perm * ETHD_KECCAK256_RATE / 1e6);

    struct job j32 = {buf, 32, 0}, j550 = {buf, 550, 0}, j1m = {buf, big, 0},
               j1mc = {buf, big, 4096}, j550c = {buf, 550, 37};
    measure("keccak256 32B", &j32, perm_iters);
    measure("keccak256 550B", &j550, perm_iters);
    measure("keccak256 550B (update in 37 B pieces)", &j550c, perm_iters);
    measure("keccak256 1MiB", &j1m, perm_iters);
    measure("keccak256 1MiB (update in 4 KiB pieces)", &j1mc, perm_iters);
    free(buf);
    return 0;
}
