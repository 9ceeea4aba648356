/* Store benchmark: ethd's RocksDB store against a raw RocksDB C API loop with
 * default options (no bloom filter), measured in the same run, in a temporary
 * directory removed afterwards. Prints figures only.
 *
 *   bench/bench_store [keys]      (default 1,000,000)
 *
 * Phases, each for ethd and for raw RocksDB:
 *   put   N random 32-byte keys, 64-byte values, WriteBatch of 1,000, WAL, no sync
 *   (close and reopen: memtables flushed, reads come from table files)
 *   get   random-order point look-ups of present keys (hit) and absent ones (miss)
 *   scan  N 8-byte big-endian keys, 32-byte values: full forward scan, and
 *         random ranges of 1,024 (the GetBlockHeaders(1024) access pattern)
 * The bounds from /work/shared/PERF.md are printed alongside. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rocksdb/c.h>

#include <ethd/error.h>
#include <ethd/store.h>

#include "db/store.h"

#define KEY_LEN 32
#define VAL_LEN 64
#define SCAN_VAL_LEN 32
#define BATCH 1000
#define RANGE 1024
#define PERF_PUTS 197e3
#define PERF_GETS_LO 115e3
#define PERF_GETS_HI 210e3

struct result {
    double put, get_hit, get_miss, put_seq, scan_full, scan_range;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Key i: 32 pseudo-random bytes, like a hash. */
static void hash_key(uint8_t k[KEY_LEN], uint64_t i)
{
    for (int j = 0; j < KEY_LEN / 8; j++) {
        uint64_t v = splitmix(i * 4 + (uint64_t)j);
        memcpy(k + 8 * j, &v, 8);
    }
}

static void be64(uint8_t k[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        k[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void fill_val(uint8_t *v, size_t n, uint64_t i)
{
    for (size_t j = 0; j < n; j += 8) {
        uint64_t x = splitmix(i ^ (j << 40));
        memcpy(v + j, &x, n - j < 8 ? n - j : 8);
    }
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, msg);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc != 0)
        die(what, ethd_strerror(rc));
}

static void rcheck(char *err, const char *what)
{
    if (err != NULL)
        die(what, err);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Random-order sample of look-up indexes, the same for both stores. */
static uint64_t *sample(size_t n, uint64_t lo, uint64_t span, uint64_t seed)
{
    uint64_t *s = malloc(n * sizeof(*s));
    if (s == NULL)
        die("malloc", "out of memory");
    for (size_t i = 0; i < n; i++)
        s[i] = lo + splitmix(seed + i) % span;
    return s;
}

/* ---- ethd store ---- */

static struct ethd_store *e_open(const char *dir)
{
    struct ethd_store *st;
    char err[512];
    if (ethd_store_open(dir, NULL, &st, err, sizeof(err)) != 0)
        die("ethd_store_open", err);
    return st;
}

static struct ethd_store_cf *e_cf(struct ethd_store *st, const char *name)
{
    struct ethd_store_cf *cf;
    check(ethd_store_cf(st, name, &cf), "ethd_store_cf");
    return cf;
}

static double e_load(struct ethd_store *st, struct ethd_store_cf *cf, size_t n, bool seq)
{
    uint8_t k[KEY_LEN], v[VAL_LEN];
    size_t klen = seq ? 8 : KEY_LEN, vlen = seq ? SCAN_VAL_LEN : VAL_LEN;
    double t0 = now();

    for (size_t i = 0; i < n; i += BATCH) {
        struct ethd_batch *b;
        check(ethd_batch_new(st, &b), "ethd_batch_new");
        for (size_t j = i; j < i + BATCH && j < n; j++) {
            if (seq)
                be64(k, j);
            else
                hash_key(k, j);
            fill_val(v, vlen, j);
            check(ethd_batch_put(b, cf, k, klen, v, vlen), "ethd_batch_put");
        }
        check(ethd_batch_commit(b, false), "ethd_batch_commit");
        ethd_batch_free(b);
    }
    return (double)n / (now() - t0);
}

static double e_gets(struct ethd_store *st, struct ethd_store_cf *cf, const uint64_t *idx,
                     size_t n, int want)
{
    uint8_t k[KEY_LEN];
    double t0 = now();

    for (size_t i = 0; i < n; i++) {
        uint8_t *v;
        size_t vlen;
        hash_key(k, idx[i]);
        int rc = ethd_store_get(st, cf, k, KEY_LEN, &v, &vlen);
        if (rc != want)
            die("ethd_store_get", rc == 0 ? "unexpected hit" : ethd_strerror(rc));
        if (rc == 0)
            free(v);
    }
    return (double)n / (now() - t0);
}

static double e_scan_full(struct ethd_store *st, struct ethd_store_cf *cf, size_t n)
{
    struct ethd_iter *it;
    size_t count = 0, kl, vl;
    uint64_t sink = 0;
    double t0 = now();

    check(ethd_iter_new(st, cf, &it), "ethd_iter_new");
    for (ethd_iter_seek_first(it); ethd_iter_valid(it); ethd_iter_next(it)) {
        sink += ethd_iter_key(it, &kl)[7] + ethd_iter_value(it, &vl)[0];
        count++;
    }
    check(ethd_iter_status(it), "ethd_iter_status");
    ethd_iter_free(it);
    if (count != n)
        die("scan", "wrong key count");
    (void)sink;
    return (double)count / (now() - t0);
}

static double e_scan_ranges(struct ethd_store *st, struct ethd_store_cf *cf,
                            const uint64_t *starts, size_t nranges)
{
    struct ethd_iter *it;
    size_t count = 0, kl, vl;
    uint64_t sink = 0;
    uint8_t k[8];
    double t0 = now();

    check(ethd_iter_new(st, cf, &it), "ethd_iter_new");
    for (size_t r = 0; r < nranges; r++) {
        be64(k, starts[r]);
        ethd_iter_seek(it, k, 8);
        for (int j = 0; j < RANGE && ethd_iter_valid(it); j++, ethd_iter_next(it)) {
            sink += ethd_iter_key(it, &kl)[7] + ethd_iter_value(it, &vl)[0];
            count++;
        }
    }
    ethd_iter_free(it);
    (void)sink;
    return (double)count / (now() - t0);
}

static void run_ethd(const char *dir, size_t n, const uint64_t *hits, const uint64_t *misses,
                     size_t ng, const uint64_t *starts, size_t nranges, struct result *r)
{
    struct ethd_store *st = e_open(dir);

    r->put = e_load(st, e_cf(st, "hashed"), n, false);
    r->put_seq = e_load(st, e_cf(st, "scan"), n, true);
    ethd_store_close(st); /* flushes the memtables */
    st = e_open(dir);
    struct ethd_store_cf *h = e_cf(st, "hashed"), *s = e_cf(st, "scan");
    r->get_hit = e_gets(st, h, hits, ng, 0);
    r->get_miss = e_gets(st, h, misses, ng, ETHD_ENOTFOUND);
    r->scan_full = e_scan_full(st, s, n);
    r->scan_range = e_scan_ranges(st, s, starts, nranges);
    ethd_store_close(st);
}

/* ---- raw RocksDB, default options ---- */

struct raw {
    rocksdb_options_t *o;
    rocksdb_t *db;
    rocksdb_column_family_handle_t *cf[2]; /* default (hashed keys), scan */
};

static void raw_open(struct raw *r, const char *dir)
{
    const char *names[2] = {"default", "scan"};
    const rocksdb_options_t *opts[2];
    char *err = NULL;

    r->o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(r->o, 1);
    rocksdb_options_set_create_missing_column_families(r->o, 1);
    opts[0] = opts[1] = r->o;
    r->db = rocksdb_open_column_families(r->o, dir, 2, names, opts, r->cf, &err);
    rcheck(err, "rocksdb_open_column_families");
}

static void raw_close(struct raw *r, bool flush)
{
    char *err = NULL;
    if (flush) {
        rocksdb_flushoptions_t *f = rocksdb_flushoptions_create();
        rocksdb_flushoptions_set_wait(f, 1);
        for (int i = 0; i < 2; i++) {
            rocksdb_flush_cf(r->db, f, r->cf[i], &err);
            rcheck(err, "rocksdb_flush_cf");
        }
        rocksdb_flushoptions_destroy(f);
    }
    for (int i = 0; i < 2; i++)
        rocksdb_column_family_handle_destroy(r->cf[i]);
    rocksdb_close(r->db);
    rocksdb_options_destroy(r->o);
}

static double raw_load(struct raw *r, int cfi, size_t n, bool seq)
{
    uint8_t k[KEY_LEN], v[VAL_LEN];
    size_t klen = seq ? 8 : KEY_LEN, vlen = seq ? SCAN_VAL_LEN : VAL_LEN;
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    char *err = NULL;
    double t0 = now();

    for (size_t i = 0; i < n; i += BATCH) {
        rocksdb_writebatch_t *b = rocksdb_writebatch_create();
        for (size_t j = i; j < i + BATCH && j < n; j++) {
            if (seq)
                be64(k, j);
            else
                hash_key(k, j);
            fill_val(v, vlen, j);
            rocksdb_writebatch_put_cf(b, r->cf[cfi], (const char *)k, klen, (const char *)v,
                                      vlen);
        }
        rocksdb_write(r->db, wo, b, &err);
        rcheck(err, "rocksdb_write");
        rocksdb_writebatch_destroy(b);
    }
    double rate = (double)n / (now() - t0);
    rocksdb_writeoptions_destroy(wo);
    return rate;
}

static double raw_gets(struct raw *r, const uint64_t *idx, size_t n, bool want_hit)
{
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    uint8_t k[KEY_LEN];
    char *err = NULL;
    double t0 = now();

    for (size_t i = 0; i < n; i++) {
        size_t vlen;
        hash_key(k, idx[i]);
        char *v = rocksdb_get_cf(r->db, ro, r->cf[0], (const char *)k, KEY_LEN, &vlen, &err);
        rcheck(err, "rocksdb_get_cf");
        if ((v != NULL) != want_hit)
            die("rocksdb_get_cf", "unexpected result");
        free(v);
    }
    double rate = (double)n / (now() - t0);
    rocksdb_readoptions_destroy(ro);
    return rate;
}

static double raw_scan(struct raw *r, const uint64_t *starts, size_t nranges, size_t n)
{
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(r->db, ro, r->cf[1]);
    size_t count = 0, kl, vl;
    uint64_t sink = 0;
    uint8_t k[8];
    double t0 = now();

    if (starts == NULL) {
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            sink += (uint8_t)rocksdb_iter_key(it, &kl)[7] + (uint8_t)rocksdb_iter_value(it, &vl)[0];
            count++;
        }
        if (count != n)
            die("raw scan", "wrong key count");
    } else {
        for (size_t q = 0; q < nranges; q++) {
            be64(k, starts[q]);
            rocksdb_iter_seek(it, (const char *)k, 8);
            for (int j = 0; j < RANGE && rocksdb_iter_valid(it); j++, rocksdb_iter_next(it)) {
                sink += (uint8_t)rocksdb_iter_key(it, &kl)[7] +
                        (uint8_t)rocksdb_iter_value(it, &vl)[0];
                count++;
            }
        }
    }
    double rate = (double)count / (now() - t0);
    (void)sink;
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    return rate;
}

static void run_raw(const char *dir, size_t n, const uint64_t *hits, const uint64_t *misses,
                    size_t ng, const uint64_t *starts, size_t nranges, struct result *r)
{
    struct raw db;

    raw_open(&db, dir);
    r->put = raw_load(&db, 0, n, false);
    r->put_seq = raw_load(&db, 1, n, true);
    raw_close(&db, true);
    raw_open(&db, dir);
    r->get_hit = raw_gets(&db, hits, ng, true);
    r->get_miss = raw_gets(&db, misses, ng, false);
    r->scan_full = raw_scan(&db, NULL, 0, n);
    r->scan_range = raw_scan(&db, starts, nranges, n);
    raw_close(&db, false);
}

static void row(const char *what, double e, double raw, const char *bound)
{
    printf("  %-34s %10.0f /s %10.0f /s   %5.2fx   %s\n", what, e, raw, e / raw, bound);
}

int main(int argc, char **argv)
{
    size_t n = 1000000, ng, nranges;
    char base[] = "/tmp/ethd-bench-store-XXXXXX";
    char edir[64], rdir[64];
    struct result e, r;
    double t0 = now();

    if (argc > 1) {
        n = strtoul(argv[1], NULL, 10);
        if (n < 2 * RANGE)
            die("usage", "bench_store [keys >= 2048]");
    }
    ng = n / 8;
    nranges = n / RANGE / 2;
    if (mkdtemp(base) == NULL)
        die("mkdtemp", "cannot create a temporary directory");
    snprintf(edir, sizeof(edir), "%s/ethd", base);
    snprintf(rdir, sizeof(rdir), "%s/raw", base);

    uint64_t *hits = sample(ng, 0, n, 1);
    uint64_t *misses = sample(ng, n, n, 2);
    uint64_t *starts = sample(nranges, 0, n - RANGE, 3);

    run_ethd(edir, n, hits, misses, ng, starts, nranges, &e);
    run_raw(rdir, n, hits, misses, ng, starts, nranges, &r);

    printf("bench_store: %zu keys (%d B hashed keys / %d B values; %d B big-endian keys / %d B "
           "values for scans),\n  %zu random-order look-ups each for hits and misses, "
           "%zu ranges of %d\n",
           n, KEY_LEN, VAL_LEN, 8, SCAN_VAL_LEN, ng, nranges, RANGE);
    printf("  %-34s %13s %13s %8s   %s\n", "", "ethd", "raw RocksDB", "ratio",
           "PERF.md bound");
    row("put, batch 1000, WAL, no sync", e.put, r.put, "197 k/s");
    row("put, same, sequential 8 B keys", e.put_seq, r.put_seq, "-");
    row("get hit (random order)", e.get_hit, r.get_hit, "115-210 k/s");
    row("get miss (random order)", e.get_miss, r.get_miss, "115-210 k/s (no bloom)");
    row("scan, full, keys", e.scan_full, r.scan_full, "-");
    row("scan, ranges of 1024, keys", e.scan_range, r.scan_range, "-");
    printf("  ethd vs PERF.md: puts %.2fx of 197 k/s; get hits %.2f-%.2fx and misses "
           "%.2f-%.2fx of 115-210 k/s\n",
           e.put / PERF_PUTS, e.get_hit / PERF_GETS_HI, e.get_hit / PERF_GETS_LO,
           e.get_miss / PERF_GETS_HI, e.get_miss / PERF_GETS_LO);
    printf("  raw RocksDB = C API, default options (no bloom filter, 8 MiB block "
           "cache); ethd = bloom 10 bits/key, 32 MiB LRU, snappy\n");
    printf("  total %.1f s\n", now() - t0);

    free(hits);
    free(misses);
    free(starts);
    nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
