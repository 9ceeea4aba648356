/* Transactions (core/chain/tx.c) against $ETHD_VECTORS:
 *  - transactions/TransactionTests/ (58 files, all subfolders): for every case and every
 *    fork in `result`, a valid transaction must decode, re-encode to the
 *    same bytes, hash to `hash`, have intrinsic gas `intrinsicGas` and
 *    recover `sender`; an invalid one must be rejected by ethd_tx_decode or
 *    ethd_tx_validate under that fork's rules. No case is out of scope:
 *    every exception in these files has a stateless rule here.
 *  - transactions/basic/txtest.json: the unsigned RLP, then signing with
 *    the key gives `signed` (same r; the second vector predates EIP-2 and
 *    has the high-s twin of our low-s signature, so s = n - ours there).
 *  - blocks/execution-apis: eth_sendRawTransaction requests (legacy, 2930,
 *    1559, blob tx in its EIP-7594 network form) hash to the result;
 *    debug_getRawTransaction decodes.
 *  - sign/recover round trips for all five types, bad signature values,
 *    the body-item form, and truncated/garbage input. */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include "chain_util.h"

#include <dirent.h>
#include <sys/stat.h>

static struct ethd_secp *secp;

static void setup(void)
{
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
}

static void teardown(void)
{
    ethd_secp_free(secp);
    secp = NULL;
}

/* ---------- TransactionTests ---------- */

struct paths {
    char **v;
    size_t n, cap;
};

static void collect(const char *dir, struct paths *ps)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            collect(p, ps);
        } else if (strlen(p) > 5 && strcmp(p + strlen(p) - 5, ".json") == 0) {
            if (ps->n == ps->cap) {
                ps->cap = ps->cap ? 2 * ps->cap : 64;
                ps->v = realloc(ps->v, ps->cap * sizeof *ps->v);
                ck_assert_ptr_nonnull(ps->v);
            }
            ps->v[ps->n++] = strdup(p);
        }
    }
    closedir(d);
}

static const char *const forks[] = {"Frontier",  "Homestead",      "EIP150",
                                    "EIP158",    "Byzantium",      "Constantinople",
                                    "ConstantinopleFix", "Istanbul", "Berlin",
                                    "London",    "Paris",          "Shanghai",
                                    "Cancun",    "Prague",         "Osaka"};
#define N_FORKS (sizeof forks / sizeof forks[0])

START_TEST(test_transaction_tests)
{
    char dir[4096];
    struct paths ps = {0};
    size_t valid[N_FORKS] = {0}, invalid[N_FORKS] = {0}, cases = 0, bad = 0;

    collect(cu_path("ETHD_VECTORS", "transactions/TransactionTests", dir, sizeof dir), &ps);
    ck_assert_uint_eq(ps.n, 58);
    for (size_t fi = 0; fi < ps.n; fi++) {
        json_t *doc = cu_load_json(ps.v[fi]);
        const char *name;
        json_t *tc;
        json_object_foreach(doc, name, tc) {
            size_t len;
            uint8_t *bytes = cu_hex(cu_str(tc, "txbytes"), &len);
            json_t *results = json_object_get(tc, "result");
            const char *fork;
            json_t *res;
            cases++;
            ck_assert_uint_gt(json_object_size(results), 0);
            json_object_foreach(results, fork, res) {
                size_t k = 0;
                while (k < N_FORKS && strcmp(forks[k], fork) != 0)
                    k++;
                ck_assert_msg(k < N_FORKS, "%s: unknown fork %s", name, fork);
                struct ethd_rules r;
                ck_assert_int_eq(ethd_rules_for_fork(fork, 1, &r), 0);
                struct ethd_tx tx;
                uint8_t sender[20];
                int rc = ethd_tx_decode(bytes, len, &tx);
                int drc = rc;
                if (rc == 0)
                    rc = ethd_tx_validate(secp, &tx, &r, sender);
                bool expect_ok = json_object_get(res, "exception") == NULL;
                if (expect_ok) {
                    valid[k]++;
                    if (rc != 0) {
                        fprintf(stderr, "MISMATCH %s [%s]: valid, got %s (decode %d)\n", name,
                                fork, ethd_strerror(rc), drc);
                        bad++;
                    } else {
                        uint8_t h[32], want_sender[20];
                        cu_hex_fixed(cu_str(res, "hash"), h, 32);
                        ck_assert_msg(memcmp(h, tx.hash, 32) == 0, "%s [%s]: hash", name, fork);
                        cu_hex_fixed(cu_str(res, "sender"), want_sender, 20);
                        ck_assert_msg(memcmp(want_sender, sender, 20) == 0, "%s [%s]: sender",
                                      name, fork);
                        uint64_t ig;
                        ck_assert_int_eq(ethd_tx_intrinsic_gas(&tx, &r, &ig), 0);
                        ck_assert_msg(ig == cu_u64(json_object_get(res, "intrinsicGas")),
                                      "%s [%s]: intrinsic gas %llu", name, fork,
                                      (unsigned long long)ig);
                        struct ethd_buf b = ETHD_BUF_INIT;
                        ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
                        ck_assert_msg(b.len == len && memcmp(b.data, bytes, len) == 0,
                                      "%s: re-encoding differs", name);
                        ethd_buf_free(&b);
                    }
                } else {
                    invalid[k]++;
                    if (rc == 0) {
                        fprintf(stderr, "MISMATCH %s [%s]: accepted, expected %s\n", name,
                                fork, json_string_value(json_object_get(res, "exception")));
                        bad++;
                    }
                }
                ethd_tx_free(&tx);
            }
            free(bytes);
        }
        json_decref(doc);
        free(ps.v[fi]);
    }
    free(ps.v);
    printf("TransactionTests: %zu cases\n", cases);
    for (size_t k = 0; k < N_FORKS; k++)
        if (valid[k] + invalid[k])
            printf("  %-18s valid %3zu  invalid %3zu\n", forks[k], valid[k], invalid[k]);
    ck_assert_uint_eq(cases, 58);
    ck_assert_msg(bad == 0, "%zu fork results differ (see stderr)", bad);
}
END_TEST

/* ---------- basic/txtest.json ---------- */

static const uint8_t secp_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

/* n - x (x < n), big-endian. */
static void n_minus(const uint8_t x[32], uint8_t out[32])
{
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = secp_n[i] - x[i] - borrow;
        borrow = d < 0;
        out[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}


START_TEST(test_txtest_signing)
{
    char path[4096];
    json_t *doc = cu_load_json(cu_path("ETHD_VECTORS", "transactions/basic/txtest.json", path,
                                       sizeof path));
    size_t i;
    json_t *c;
    ck_assert_uint_eq(json_array_size(doc), 2);
    json_array_foreach(doc, i, c) {
        struct ethd_tx tx;
        uint8_t key[32];
        memset(&tx, 0, sizeof tx);
        cu_hex_fixed(cu_str(c, "key"), key, 32);
        tx.nonce = cu_u64(json_object_get(c, "nonce"));
        uint64_t gp = cu_u64(json_object_get(c, "gasprice"));
        for (int b = 0; b < 8; b++)
            tx.gas_price[31 - b] = (uint8_t)(gp >> (8 * b));
        tx.gas = cu_u64(json_object_get(c, "startgas"));
        const char *to = cu_str(c, "to");
        if (*to) {
            cu_hex_fixed(to, tx.to, 20);
            tx.has_to = true;
        }
        uint64_t val = cu_u64(json_object_get(c, "value"));
        for (int b = 0; b < 8; b++)
            tx.value[31 - b] = (uint8_t)(val >> (8 * b));
        tx.data = cu_hex(cu_str(c, "data"), &tx.data_len);

        /* "unsigned" is the transaction with v = r = s = 0. */
        size_t ulen, slen;
        uint8_t *want_u = cu_hex(cu_str(c, "unsigned"), &ulen);
        uint8_t *want_s = cu_hex(cu_str(c, "signed"), &slen);
        struct ethd_buf b = ETHD_BUF_INIT;
        ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
        ck_assert(b.len == ulen && memcmp(b.data, want_u, ulen) == 0);
        ethd_buf_reset(&b);

        ck_assert_int_eq(ethd_tx_sign(secp, &tx, key), 0);
        struct ethd_tx back;
        ck_assert_int_eq(ethd_tx_decode(want_s, slen, &back), 0);
        ck_assert(memcmp(back.r, tx.r, 32) == 0);
        bool twin = memcmp(back.s, tx.s, 32) != 0;
        if (twin) {
            /* Pre-EIP-2 signer: (n - s, other parity) is the same signature. */
            uint8_t ns[32];
            n_minus(tx.s, ns);
            ck_assert_msg(memcmp(back.s, ns, 32) == 0, "case %zu: s", i);
            memcpy(tx.s, ns, 32);
            tx.v[31] = tx.v[31] == 27 ? 28 : 27;
        }
        ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
        ck_assert_msg(b.len == slen && memcmp(b.data, want_s, slen) == 0, "case %zu: signed", i);
        uint8_t h[32];
        ethd_keccak256(b.data, b.len, h);
        ck_assert(memcmp(back.hash, h, 32) == 0);

        /* And back: the signed bytes recover the key's address (from
         * Homestead on only if s is low). */
        uint8_t pub[64], addr[20], rec[20];
        ck_assert_int_eq(ethd_secp_pubkey(secp, key, pub), 0);
        ethd_secp_address(pub, addr);
        ck_assert_int_eq(ethd_tx_sender(secp, &back, false, rec), 0);
        ck_assert(memcmp(addr, rec, 20) == 0);
        ck_assert_int_eq(ethd_tx_sender(secp, &back, true, rec), twin ? ETHD_ECRYPTO : 0);
        ethd_tx_free(&back);
        ethd_buf_free(&b);
        free(want_u);
        free(want_s);
        ethd_tx_free(&tx);
    }
    json_decref(doc);
}
END_TEST

/* ---------- execution-apis ---------- */

/* The first ">>" request's params[0] and the "<<" result of an .io file. */
static void read_io(const char *rel, json_t **req, json_t **resp)
{
    char path[4096];
    size_t n;
    char *t = (char *)cu_read(cu_path("ETHD_VECTORS", rel, path, sizeof path), &n);
    *req = *resp = NULL;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        if (strncmp(line, ">> ", 3) == 0 && !*req)
            *req = json_loads(line + 3, 0, &je);
        else if (strncmp(line, "<< ", 3) == 0 && !*resp)
            *resp = json_loads(line + 3, 0, &je);
    }
    free(t);
    ck_assert_msg(*req && *resp, "%s: no request/response", rel);
}

START_TEST(test_send_raw_transaction)
{
    static const struct {
        const char *file;
        uint8_t type;
        bool sidecar;
    } io[] = {
        {"eth_sendRawTransaction/send-legacy-transaction.io", 0, false},
        {"eth_sendRawTransaction/send-access-list-transaction.io", 1, false},
        {"eth_sendRawTransaction/send-dynamic-fee-transaction.io", 2, false},
        {"eth_sendRawTransaction/send-dynamic-fee-access-list-transaction.io", 2, false},
        {"eth_sendRawTransaction/send-blob-tx.io", 3, true},
    };
    struct ethd_rules r;
    ck_assert_int_eq(ethd_rules_for_fork("Osaka", 3503995874084926ull, &r), 0);
    for (size_t i = 0; i < sizeof io / sizeof io[0]; i++) {
        char rel[256];
        json_t *req, *resp;
        snprintf(rel, sizeof rel, "blocks/execution-apis/tests/%s", io[i].file);
        read_io(rel, &req, &resp);
        size_t len;
        uint8_t *raw = cu_hex(json_string_value(json_array_get(json_object_get(req, "params"), 0)),
                              &len);
        uint8_t want[32], sender[20];
        cu_hex_fixed(cu_str(resp, "result"), want, 32);
        struct ethd_tx tx;
        bool sc;
        ck_assert_int_eq(ethd_tx_decode_pooled(raw, len, &tx, &sc), 0);
        ck_assert_int_eq(tx.type, io[i].type);
        ck_assert(sc == io[i].sidecar);
        ck_assert_msg(memcmp(tx.hash, want, 32) == 0, "%s: hash", io[i].file);
        ck_assert_int_eq(ethd_tx_validate(secp, &tx, &r, sender), 0);
        if (!io[i].sidecar) {
            struct ethd_buf b = ETHD_BUF_INIT;
            ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
            ck_assert(b.len == len && memcmp(b.data, raw, len) == 0);
            ethd_buf_free(&b);
        } else {
            /* Plain decoding refuses the network form; a damaged sidecar
             * (one proof missing) is refused by the pooled decoder. */
            struct ethd_tx t2;
            ck_assert_int_ne(ethd_tx_decode(raw, len, &t2), 0);
            ck_assert_int_ne(ethd_tx_decode_pooled(raw, len - 49, &t2, NULL), 0);
        }
        ethd_tx_free(&tx);
        free(raw);
        json_decref(req);
        json_decref(resp);
    }
    json_t *req, *resp;
    read_io("blocks/execution-apis/tests/debug_getRawTransaction/get-tx.io", &req, &resp);
    size_t len;
    uint8_t *raw = cu_hex(cu_str(resp, "result"), &len);
    uint8_t want[32];
    cu_hex_fixed(json_string_value(json_array_get(json_object_get(req, "params"), 0)), want, 32);
    struct ethd_tx tx;
    ck_assert_int_eq(ethd_tx_decode(raw, len, &tx), 0);
    ck_assert(memcmp(tx.hash, want, 32) == 0);
    ck_assert(!tx.has_to); /* a contract creation */
    ethd_tx_free(&tx);
    free(raw);
    json_decref(req);
    json_decref(resp);
}
END_TEST

/* ---------- round trips of every type ---------- */

static const uint8_t test_key[32] = {
    0x45, 0xa9, 0x15, 0xe4, 0xd0, 0x60, 0x14, 0x9e, 0xb4, 0x36, 0x59, 0x60, 0xe6, 0xa7, 0xa4, 0x5f,
    0x33, 0x43, 0x93, 0x09, 0x30, 0x61, 0x11, 0x6b, 0x19, 0x7e, 0x32, 0x40, 0x06, 0x5f, 0xf2, 0xd8,
};

/* A filled-in transaction of `type`; caller frees with ethd_tx_free. */
static void make_tx(struct ethd_tx *tx, uint8_t type, bool eip155)
{
    static const uint8_t al[] = {
        /* [[0x11..11, [0x00..01]]] */
        0xf8, 0x38, 0xf7, 0x94, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0xe1, 0xa0, 0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    1};
    memset(tx, 0, sizeof *tx);
    tx->type = type;
    tx->nonce = 7;
    tx->gas = 100000;
    tx->has_to = true;
    memset(tx->to, 0x22, 20);
    tx->value[31] = 5;
    tx->data = malloc(3);
    memcpy(tx->data, "\x01\x00\x02", 3);
    tx->data_len = 3;
    tx->has_chain_id = type != 0 || eip155;
    tx->chain_id = 1337;
    if (type <= 1) {
        tx->gas_price[31] = 10;
    } else {
        tx->max_priority_fee[31] = 2;
        tx->max_fee[31] = 30;
    }
    if (type >= 1) {
        tx->access_list = malloc(sizeof al);
        memcpy(tx->access_list, al, sizeof al);
        tx->access_list_len = sizeof al;
        tx->access_list_addrs = 1;
        tx->access_list_keys = 1;
    }
    if (type == 3) {
        tx->max_fee_per_blob_gas[31] = 9;
        tx->blob_hashes = calloc(2, 32);
        tx->blob_hashes[0][0] = 1;
        tx->blob_hashes[1][0] = 1;
        tx->blob_hashes[1][31] = 0xaa;
        tx->n_blob_hashes = 2;
    }
    if (type == 4) {
        /* [[1337, 0x33..33, 0, 1, 0x05, 0x06]] */
        static const uint8_t auth[] = {0xdd, 0xdc, 0x82, 0x05, 0x39, 0x94, 0x33, 0x33,
                                       0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
                                       0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
                                       0x33, 0x33, 0x80, 0x01, 0x05, 0x06};
        tx->auth_list = malloc(sizeof auth);
        memcpy(tx->auth_list, auth, sizeof auth);
        tx->auth_list_len = sizeof auth;
        tx->n_auth = 1;
    }
}

START_TEST(test_sign_roundtrip_all_types)
{
    uint8_t pub[64], addr[20];
    ck_assert_int_eq(ethd_secp_pubkey(secp, test_key, pub), 0);
    ethd_secp_address(pub, addr);
    struct ethd_rules r;
    ck_assert_int_eq(ethd_rules_for_fork("Prague", 1337, &r), 0);
    for (int v = 0; v < 6; v++) {
        uint8_t type = v == 5 ? 0 : (uint8_t)v;
        bool eip155 = v != 5;
        struct ethd_tx tx, back;
        make_tx(&tx, type, eip155);
        ck_assert_int_eq(ethd_tx_sign(secp, &tx, test_key), 0);
        struct ethd_buf b = ETHD_BUF_INIT;
        ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
        ck_assert_int_eq(ethd_tx_decode(b.data, b.len, &back), 0);
        ck_assert_int_eq(back.type, type);
        ck_assert(memcmp(back.hash, tx.hash, 32) == 0);
        ck_assert_uint_eq(back.access_list_keys, type >= 1 ? 1 : 0);
        ck_assert_uint_eq(back.n_blob_hashes, type == 3 ? 2 : 0);
        ck_assert_uint_eq(back.n_auth, type == 4 ? 1 : 0);
        ck_assert(back.has_chain_id == eip155);
        uint8_t who[20];
        ck_assert_int_eq(ethd_tx_validate(secp, &back, &r, who), 0);
        ck_assert(memcmp(who, addr, 20) == 0);

        /* Body-item form: legacy is the list, typed a string around it. */
        struct ethd_buf item = ETHD_BUF_INIT;
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &item);
        ethd_tx_encode_rlp(&e, &back);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        struct ethd_rlp_item it;
        ck_assert_int_eq(ethd_rlp_decode(item.data, item.len, &it), 0);
        ck_assert(it.is_list == (type == 0));
        struct ethd_tx t3;
        ck_assert_int_eq(ethd_tx_decode_item(&it, &t3), 0);
        ck_assert(memcmp(t3.hash, tx.hash, 32) == 0);
        ethd_tx_free(&t3);

        /* Wrong chain id (an unprotected legacy tx names none); type not
         * active a fork earlier. */
        struct ethd_rules other = r;
        other.chain_id = 1;
        ck_assert_int_eq(ethd_tx_validate(secp, &back, &other, NULL), eip155 ? ETHD_EINVAL : 0);
        if (type) {
            static const char *const before[] = {"", "Istanbul", "Berlin", "Shanghai", "Cancun"};
            struct ethd_rules old;
            ck_assert_int_eq(ethd_rules_for_fork(before[type], 1337, &old), 0);
            ck_assert_int_eq(ethd_tx_validate(secp, &back, &old, NULL), ETHD_ENOTSUP);
        }
        ethd_buf_free(&item);
        ethd_buf_free(&b);
        ethd_tx_free(&back);
        ethd_tx_free(&tx);
    }
}
END_TEST

/* ---------- bad signatures and bad input ---------- */

START_TEST(test_bad_signatures)
{
    uint8_t a[20];
    for (int type = 0; type <= 4; type++) {
        struct ethd_tx tx;
        make_tx(&tx, (uint8_t)type, true);
        ck_assert_int_eq(ethd_tx_sign(secp, &tx, test_key), 0);
        ck_assert_int_eq(ethd_tx_sender(secp, &tx, true, a), 0);
        struct ethd_tx t = tx;

        memset(t.r, 0, 32);
        ck_assert_int_eq(ethd_tx_sender(secp, &t, true, a), ETHD_ECRYPTO);
        t = tx;
        memset(t.s, 0, 32);
        ck_assert_int_eq(ethd_tx_sender(secp, &t, true, a), ETHD_ECRYPTO);
        t = tx;
        memcpy(t.r, secp_n, 32);
        ck_assert_int_eq(ethd_tx_sender(secp, &t, true, a), ETHD_ECRYPTO);
        t = tx;
        memcpy(t.s, secp_n, 32);
        ck_assert_int_eq(ethd_tx_sender(secp, &t, false, a), ETHD_ECRYPTO);
        /* High s (n - s, flipping the parity): refused from Homestead on,
         * accepted (same sender) before. */
        t = tx;
        n_minus(tx.s, t.s);
        t.v[31] = (uint8_t)(tx.y_parity ? t.v[31] - 1 : t.v[31] + 1);
        ck_assert_int_eq(ethd_tx_sender(secp, &t, true, a), ETHD_ECRYPTO);
        uint8_t b[20], c[20];
        ck_assert_int_eq(ethd_tx_sender(secp, &t, false, b), 0);
        ck_assert_int_eq(ethd_tx_sender(secp, &tx, true, c), 0);
        ck_assert(memcmp(b, c, 20) == 0);
        /* v out of range. */
        t = tx;
        t.v[31] = type == 0 ? 29 : 2;
        ck_assert_int_eq(ethd_tx_sender(secp, &t, true, a), ETHD_ECRYPTO);
        t = tx;
        t.v[0] = 1;
        ck_assert_int_eq(ethd_tx_sender(secp, &t, true, a), ETHD_ECRYPTO);
        ethd_tx_free(&tx);
    }
    /* EIP-155 v that disagrees with the chain id in the struct. */
    struct ethd_tx tx;
    make_tx(&tx, 0, true);
    ck_assert_int_eq(ethd_tx_sign(secp, &tx, test_key), 0);
    tx.chain_id++;
    ck_assert_int_eq(ethd_tx_sender(secp, &tx, true, a), ETHD_ECRYPTO);
    ethd_tx_free(&tx);
}
END_TEST

START_TEST(test_bad_input)
{
    struct ethd_tx tx;
    struct ethd_buf b = ETHD_BUF_INIT;
    make_tx(&tx, 2, true);
    ck_assert_int_eq(ethd_tx_sign(secp, &tx, test_key), 0);
    ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
    ethd_tx_free(&tx);

    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < b.len; n++)
        ck_assert_int_ne(ethd_tx_decode(b.data, n, &tx), 0);
    /* Trailing byte. */
    uint8_t *x = malloc(b.len + 1);
    memcpy(x, b.data, b.len);
    x[b.len] = 0;
    ck_assert_int_ne(ethd_tx_decode(x, b.len + 1, &tx), 0);
    /* Unknown types and the reserved 0x00. */
    for (int t = 5; t < 0x80; t += 7) {
        x[0] = (uint8_t)t;
        ck_assert_int_eq(ethd_tx_decode(x, b.len, &tx), ETHD_ENOTSUP);
    }
    x[0] = 0;
    ck_assert_int_eq(ethd_tx_decode(x, b.len, &tx), ETHD_ENOTSUP);
    /* Right envelope, wrong field count: type 1 with a type-2 payload. */
    x[0] = 1;
    ck_assert_int_eq(ethd_tx_decode(x, b.len, &tx), ETHD_EINVAL);
    free(x);
    /* A string item holding a legacy list is not a body item. */
    static const uint8_t wrapped[] = {0x83, 0xc2, 0x80, 0x80};
    struct ethd_rlp_item it;
    ck_assert_int_eq(ethd_rlp_decode(wrapped, sizeof wrapped, &it), 0);
    ck_assert_int_eq(ethd_tx_decode_item(&it, &tx), ETHD_ETYPE);
    ck_assert_int_eq(ethd_tx_decode(NULL, 0, &tx), ETHD_ETRUNC);
    /* Blob tx creating a contract (to empty) is malformed. */
    make_tx(&tx, 3, true);
    tx.has_to = false;
    ethd_buf_reset(&b);
    ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
    ethd_tx_free(&tx);
    ck_assert_int_eq(ethd_tx_decode(b.data, b.len, &tx), ETHD_EINVAL);
    ethd_buf_free(&b);
}
END_TEST

START_TEST(test_intrinsic_gas)
{
    struct ethd_tx tx;
    struct ethd_rules fr, ist, sh, pr;
    uint64_t g;
    ethd_rules_for_fork("Frontier", 1, &fr);
    ethd_rules_for_fork("Istanbul", 1, &ist);
    ethd_rules_for_fork("Shanghai", 1, &sh);
    ethd_rules_for_fork("Prague", 1, &pr);
    make_tx(&tx, 4, true); /* data 01 00 02, 1 address + 1 key, 1 authorization */
    ck_assert_int_eq(ethd_tx_intrinsic_gas(&tx, &fr, &g), 0);
    ck_assert_uint_eq(g, 21000 + 4 + 2 * 68 + 2400 + 1900 + 25000);
    ck_assert_int_eq(ethd_tx_intrinsic_gas(&tx, &ist, &g), 0);
    ck_assert_uint_eq(g, 21000 + 4 + 2 * 16 + 2400 + 1900 + 25000);
    ethd_tx_free(&tx);
    make_tx(&tx, 0, true);
    tx.has_to = false; /* creation: +32000 from Homestead, +2/word from Shanghai */
    ck_assert_int_eq(ethd_tx_intrinsic_gas(&tx, &fr, &g), 0);
    ck_assert_uint_eq(g, 21000 + 4 + 2 * 68);
    ck_assert_int_eq(ethd_tx_intrinsic_gas(&tx, &sh, &g), 0);
    ck_assert_uint_eq(g, 21000 + 32000 + 4 + 2 * 16 + 2);
    /* EIP-7623 floor (Prague): 3 bytes = 1 + 4*2 tokens -> 21090 > 21036. */
    tx.has_to = true;
    tx.gas = 21036;
    ck_assert_int_eq(ethd_tx_sign(secp, &tx, test_key), 0);
    ck_assert_int_eq(ethd_tx_validate(secp, &tx, &sh, NULL), ETHD_EINVAL); /* chain id 1337 */
    struct ethd_rules pr1337 = pr, sh1337 = sh;
    pr1337.chain_id = sh1337.chain_id = 1337;
    ck_assert_int_eq(ethd_tx_validate(secp, &tx, &sh1337, NULL), 0);
    ck_assert_int_eq(ethd_tx_validate(secp, &tx, &pr1337, NULL), ETHD_ERANGE);
    ethd_tx_free(&tx);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tx");
    TCase *tc = tcase_create("vectors");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_transaction_tests);
    tcase_add_test(tc, test_txtest_signing);
    tcase_add_test(tc, test_send_raw_transaction);
    suite_add_tcase(s, tc);
    tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sign_roundtrip_all_types);
    tcase_add_test(tc, test_bad_signatures);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_intrinsic_gas);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
