/* bench_import: how fast the chain store imports the devnet-a fixture
 * (300 clique blocks), next to a per-block bound measured in the same run.
 *
 * Bound (one core): what a block costs at the very least — one secp256k1
 * public-key recovery of the clique seal, one Keccak-256 of the header RLP
 * and one store write (a put in a 300-key RocksDB write batch). The import
 * does that plus the seal hash (a second Keccak), header/body/receipt
 * checks (tries), the snapshot update and the indexes; signer recovery is
 * spread over `threads` threads, so on 2 cores the ratio may exceed what
 * one core allows.
 *
 * Usage: bench_import [RUNS [FIXTURES_DIR]]  (default 20 runs; $ETHD_FIXTURES or
 * ../shared/fixtures) */
#include "chain/chain.h"
#include "chain/clique.h"
#include "db/store.h"

#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 300

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

struct fixture {
    uint8_t *chain, *rcpt;
    char *genesis;
    size_t chain_len, rcpt_len, genesis_len;
    struct ethd_block blocks[N];
    struct ethd_trie_item receipts[N];
    struct ethd_header headers[N];
};

static void load(struct fixture *f, const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/devnet-a/chain.rlp", dir);
    f->chain = slurp(p, &f->chain_len);
    snprintf(p, sizeof p, "%s/devnet-a/receipts.rlp", dir);
    f->rcpt = slurp(p, &f->rcpt_len);
    snprintf(p, sizeof p, "%s/devnet-a/genesis.json", dir);
    f->genesis = (char *)slurp(p, &f->genesis_len);
    const uint8_t *q = f->chain, *r = f->rcpt;
    size_t left = f->chain_len, rleft = f->rcpt_len;
    for (size_t i = 0; i < N; i++) {
        struct ethd_rlp_item it, ri;
        if (ethd_rlp_next(&q, &left, &it) || ethd_block_decode_item(&it, &f->blocks[i]) ||
            ethd_rlp_next(&r, &rleft, &ri) || ethd_header_copy(&f->headers[i], &f->blocks[i].header)) {
            fprintf(stderr, "bad fixture at block %zu\n", i + 1);
            exit(1);
        }
        f->receipts[i].data = ri.raw;
        f->receipts[i].len = ri.raw_len;
    }
}

/* A fresh store with the genesis; the clock runs only around `what`. */
enum what { HEADERS, BLOCKS };

static double run_import(struct fixture *f, enum what w, unsigned threads)
{
    char dir[] = "/tmp/ethd-bench-import-XXXXXX", db[128], err[512];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(db, sizeof db, "%s/chaindata", dir);
    struct ethd_store *st;
    struct ethd_chain *c;
    struct ethd_chain_opts o = {.threads = threads};
    if (ethd_store_open(db, NULL, &st, err, sizeof err) ||
        ethd_chain_open(st, f->genesis, f->genesis_len, "genesis.json", &o, &c, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    struct ethd_chain_insert_result res;
    double t0 = now();
    int rc = w == HEADERS ? ethd_chain_insert_headers(c, f->headers, N, &res)
                          : ethd_chain_insert_blocks(c, f->blocks, f->receipts, N, &res);
    double t = now() - t0;
    if (rc) {
        fprintf(stderr, "import failed: block %llu: %s\n", (unsigned long long)res.bad_number,
                res.reason);
        exit(1);
    }
    ethd_chain_close(c);
    ethd_store_close(st);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return t;
}

static double run_bound(struct fixture *f, const struct ethd_secp *secp)
{
    char dir[] = "/tmp/ethd-bench-bound-XXXXXX", db[128], err[512];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(db, sizeof db, "%s/chaindata", dir);
    struct ethd_store *st;
    struct ethd_store_cf *cf;
    if (ethd_store_open(db, NULL, &st, err, sizeof err) || ethd_store_cf(st, "headers", &cf)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    /* Seal hashes are precomputed: the bound counts one Keccak per block. */
    static uint8_t seal_hash[N][32];
    for (size_t i = 0; i < N; i++)
        ethd_clique_seal_hash(&f->headers[i], seal_hash[i]);
    struct ethd_batch *b;
    ethd_batch_new(st, &b);
    double t0 = now();
    for (size_t i = 0; i < N; i++) {
        const struct ethd_header *h = &f->headers[i];
        uint8_t hash[32], pub[64];
        ethd_keccak256(f->blocks[i].header_raw, f->blocks[i].header_raw_len, hash);
        if (ethd_secp_recover(secp, seal_hash[i], h->extra + h->extra_len - 65, 65, pub)) {
            fprintf(stderr, "recover failed\n");
            exit(1);
        }
        ethd_batch_put(b, cf, hash, 32, f->blocks[i].header_raw, f->blocks[i].header_raw_len);
    }
    ethd_batch_commit(b, false);
    double t = now() - t0;
    ethd_batch_free(b);
    ethd_store_close(st);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return t;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 20;
    if (runs < 1)
        runs = 1;
    const char *fx = argc > 2 ? argv[2] : getenv("ETHD_FIXTURES");
    if (!fx)
        fx = "../shared/fixtures";
    static struct fixture f;
    load(&f, fx);
    struct ethd_secp *secp;
    if (ethd_secp_new(&secp)) {
        fprintf(stderr, "secp256k1 context\n");
        return 1;
    }
    double best_bound = 1e9, best_h2 = 1e9, best_b2 = 1e9, best_h1 = 1e9, best_b1 = 1e9;
    for (int r = 0; r < runs; r++) {
        double t;
        if ((t = run_bound(&f, secp)) < best_bound)
            best_bound = t;
        if ((t = run_import(&f, HEADERS, 1)) < best_h1)
            best_h1 = t;
        if ((t = run_import(&f, HEADERS, 2)) < best_h2)
            best_h2 = t;
        if ((t = run_import(&f, BLOCKS, 1)) < best_b1)
            best_b1 = t;
        if ((t = run_import(&f, BLOCKS, 2)) < best_b2)
            best_b2 = t;
    }
    double bound = N / best_bound;
    size_t txs = 0;
    for (size_t i = 0; i < N; i++)
        txs += f.blocks[i].body.n_txs;
    printf("bench_import: devnet-a, %d blocks (%zu bytes, %zu txs), best of %d runs, fresh DB each\n",
           N, f.chain_len, txs, runs);
    printf("  %-52s %9.0f /s\n", "bound: 1 ecrecover + 1 keccak(header) + 1 put (1 core)", bound);
    const struct {
        const char *name;
        double t;
    } rows[] = {
        {"insert_headers (verify + clique), 1 thread", best_h1},
        {"insert_headers (verify + clique), 2 threads", best_h2},
        {"insert_blocks + receipts (all checks), 1 thread", best_b1},
        {"insert_blocks + receipts (all checks), 2 threads", best_b2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        double rate = N / rows[i].t;
        printf("  %-52s %9.0f /s   ratio %.2f of the bound\n", rows[i].name, rate, rate / bound);
    }
    for (size_t i = 0; i < N; i++) {
        ethd_block_free(&f.blocks[i]);
        ethd_header_free(&f.headers[i]);
    }
    free(f.chain);
    free(f.rcpt);
    free(f.genesis);
    ethd_secp_free(secp);
    return 0;
}
