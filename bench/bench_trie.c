/* Trie root speed: ordered-list roots of 1,000 and 100,000 items of 110
 * bytes (a transactions/receipts root), and the secure root of 100,000
 * 32-byte keys with 32-byte values (a storage root). Prints ms per root,
 * items/s and an estimate of Keccak's share: the Keccak-f permutations the
 * root needed (ethd_trie_root_ex's counters, plus one per key for the
 * secure trie's key hashing) times the measured cost of a one-block digest.
 * Best of 3 runs, CLOCK_MONOTONIC. */
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/trie.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RUNS 3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *rnd_alloc(size_t n)
{
    uint8_t *p = malloc(n);
    if (p == NULL)
        exit(1);
    for (size_t off = 0; off < n;) {
        ssize_t r = getrandom(p + off, n - off > 65536 ? 65536 : n - off, 0);
        if (r <= 0)
            exit(1);
        off += (size_t)r;
    }
    return p;
}

/* Seconds per Keccak-f permutation, measured as one-block (100-byte)
 * digests, best of RUNS. */
static double keccak_block_cost(void)
{
    uint8_t buf[100] = {0}, d[32];
    enum { M = 200000 };
    double best = 1e9;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now();
        for (int i = 0; i < M; i++) {
            ethd_keccak256(buf, sizeof buf, d);
            buf[i % sizeof buf] ^= d[0];
        }
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    return best / M;
}

static double per_block;

/* `extra_blocks`: permutations done outside the node hashing (secure keys). */
static void report(const char *what, size_t n, double best, const struct ethd_trie_stats *st,
                   uint64_t extra_blocks)
{
    double kc = (double)(st->hashed_blocks + extra_blocks) * per_block;
    printf("  %-32s %8.2f ms/root %10.0f items/s  nodes=%llu hashed=%llu perms=%llu  "
           "keccak ~%.0f%%\n",
           what, best * 1e3, (double)n / best, (unsigned long long)st->nodes,
           (unsigned long long)st->hashed_nodes,
           (unsigned long long)(st->hashed_blocks + extra_blocks),
           best > 0 ? 100.0 * kc / best : 0.0);
}

static int bench_ordered(size_t n, size_t vlen)
{
    uint8_t *vals = rnd_alloc(n * vlen);
    struct ethd_trie_item *items = calloc(n, sizeof *items);
    struct ethd_trie_kv *kv = calloc(n, sizeof *kv);
    uint8_t *keys = calloc(n, 9);
    if (items == NULL || kv == NULL || keys == NULL)
        return 1;
    struct ethd_buf b = ETHD_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        items[i].data = vals + i * vlen;
        items[i].len = vlen;
        struct ethd_rlp_enc e;
        ethd_buf_reset(&b);
        ethd_rlp_enc_init(&e, &b);
        ethd_rlp_uint(&e, i);
        if (ethd_rlp_enc_finish(&e) != 0 || b.len > 9)
            return 1;
        memcpy(keys + 9 * i, b.data, b.len);
        kv[i].key = keys + 9 * i;
        kv[i].key_len = b.len;
        kv[i].val = items[i].data;
        kv[i].val_len = vlen;
    }
    ethd_buf_free(&b);

    uint8_t root[32], check[32];
    double best = 1e9;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now();
        if (ethd_trie_ordered_root(items, n, root) != 0)
            return 1;
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    struct ethd_trie_stats st;
    if (ethd_trie_root_ex(kv, n, 0, check, &st) != 0 || memcmp(root, check, 32) != 0) {
        fprintf(stderr, "ordered root mismatch\n");
        return 1;
    }
    char what[64];
    snprintf(what, sizeof what, "ordered root, %zu x %zu B", n, vlen);
    report(what, n, best, &st, 0);
    free(vals);
    free(items);
    free(kv);
    free(keys);
    return 0;
}

static int bench_secure(size_t n)
{
    uint8_t *keys = rnd_alloc(n * 32), *vals = rnd_alloc(n * 32);
    struct ethd_trie_kv *kv = calloc(n, sizeof *kv);
    if (kv == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        kv[i].key = keys + 32 * i;
        kv[i].key_len = 32;
        kv[i].val = vals + 32 * i;
        kv[i].val_len = 32;
    }
    uint8_t root[32];
    struct ethd_trie_stats st;
    double best = 1e9;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now();
        if (ethd_trie_root_ex(kv, n, ETHD_TRIE_SECURE, root, &st) != 0)
            return 1;
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    char what[64];
    snprintf(what, sizeof what, "secure root, %zu x 32 B keys", n);
    report(what, n, best, &st, n);
    free(keys);
    free(vals);
    free(kv);
    return 0;
}

int main(void)
{
    per_block = keccak_block_cost();
    printf("bench_trie: best of %d (CLOCK_MONOTONIC); keccak%% = permutations x %.0f ns "
           "(one-block digest) / time\n", RUNS, per_block * 1e9);
    if (bench_ordered(1000, 110) || bench_ordered(100000, 110) || bench_secure(100000))
        return 1;
    return 0;
}
