/* Public-key recovery through ethd_secp_recover against libsecp256k1 called
 * directly (parse + recover + serialize, the same work) in the same run, as
 * a ratio; also signing and ECDH rates. Best of 3 runs, CLOCK_MONOTONIC.
 * Usage: bench_ecrecover [count]   (default 10000 operations per run) */
#include <ethd/secp256k1.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>
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

static void rnd(uint8_t *p, size_t n)
{
    if (getrandom(p, n, 0) != (ssize_t)n) {
        fprintf(stderr, "getrandom failed\n");
        exit(1);
    }
}

struct sample {
    uint8_t key[32], pub[64], hash[32], sig[65];
};

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    if (n == 0)
        n = 1;
    struct ethd_secp *secp;
    if (ethd_secp_new(&secp) != 0) {
        fprintf(stderr, "ethd_secp_new failed\n");
        return 1;
    }
    /* A handful of distinct keys and hashes, reused cyclically. */
    enum { K = 256 };
    struct sample *s = calloc(K, sizeof *s);
    if (s == NULL)
        return 1;
    for (size_t i = 0; i < K; i++) {
        ethd_secp_keygen(secp, s[i].key);
        ethd_secp_pubkey(secp, s[i].key, s[i].pub);
        rnd(s[i].hash, 32);
        ethd_secp_sign(secp, s[i].key, s[i].hash, s[i].sig);
    }
    secp256k1_context *raw = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t seed[32];
    rnd(seed, sizeof seed);
    if (raw == NULL || !secp256k1_context_randomize(raw, seed))
        return 1;

    double best_ethd = 1e9, best_raw = 1e9, best_sign = 1e9, best_ecdh = 1e9;
    uint8_t out[65];
    unsigned long bad = 0;
    for (int run = 0; run < RUNS; run++) {
        /* ethd and direct calls alternate in chunks of 500 so that load
         * from other processes hits both sides alike. */
        double te = 0, tr = 0;
        for (size_t base = 0; base < n; base += 500) {
            size_t end = base + 500 < n ? base + 500 : n;
            double a = now();
            for (size_t i = base; i < end; i++) {
                struct sample *x = &s[i % K];
                if (ethd_secp_recover(secp, x->hash, x->sig, 65, out) != 0 ||
                    memcmp(out, x->pub, 64) != 0)
                    bad++;
            }
            double b = now();
            for (size_t i = base; i < end; i++) {
                struct sample *x = &s[i % K];
                secp256k1_ecdsa_recoverable_signature rs;
                secp256k1_pubkey pk;
                size_t len = 65;
                if (!secp256k1_ecdsa_recoverable_signature_parse_compact(raw, &rs, x->sig,
                                                                         x->sig[64]) ||
                    !secp256k1_ecdsa_recover(raw, &pk, &rs, x->hash) ||
                    !secp256k1_ec_pubkey_serialize(raw, out, &len, &pk,
                                                   SECP256K1_EC_UNCOMPRESSED) ||
                    memcmp(out + 1, x->pub, 64) != 0)
                    bad++;
            }
            double c = now();
            te += b - a;
            tr += c - b;
        }
        double t2 = now();
        for (size_t i = 0; i < n; i++) {
            struct sample *x = &s[i % K];
            if (ethd_secp_sign(secp, x->key, x->hash, out) != 0)
                bad++;
        }
        double t3 = now();
        for (size_t i = 0; i < n; i++) {
            if (ethd_secp_ecdh(secp, s[i % K].key, s[(i + 1) % K].pub, out) != 0)
                bad++;
        }
        double t4 = now();
        if (te < best_ethd) best_ethd = te;
        if (tr < best_raw) best_raw = tr;
        if (t3 - t2 < best_sign) best_sign = t3 - t2;
        if (t4 - t3 < best_ecdh) best_ecdh = t4 - t3;
    }
    if (bad != 0) {
        fprintf(stderr, "%lu operations failed\n", bad);
        return 1;
    }
    double r_ethd = (double)n / best_ethd, r_raw = (double)n / best_raw;
    printf("bench_ecrecover: %zu ops per run, best of %d (CLOCK_MONOTONIC)\n", n, RUNS);
    printf("  recover  ethd          %9.0f /s  (%6.1f us)\n", r_ethd, 1e6 / r_ethd);
    printf("  recover  libsecp256k1  %9.0f /s  (%6.1f us)\n", r_raw, 1e6 / r_raw);
    printf("  recover  ratio ethd/libsecp256k1 = %.3f\n", r_ethd / r_raw);
    printf("  sign     ethd          %9.0f /s\n", (double)n / best_sign);
    printf("  ecdh     ethd          %9.0f /s\n", (double)n / best_ecdh);

    secp256k1_context_destroy(raw);
    ethd_secp_free(secp);
    free(s);
    return 0;
}
