/* EIP-2124 / EIP-6122 fork ids (core/chain/forkid.c) against
 * $ETHD_VECTORS/forkid/eip2124.json — every network case of the
 * Petersburg-era EIP text (mainnet, ropsten, rinkeby, goerli), the current
 * mainnet schedule with timestamp forks (cases and the hash after each
 * fork), every validation case and every encoding — and devnet-a's fork ids
 * at blocks 0, 4, 5, 9, 10 and 300 from its README / expected.json. Plus
 * timestamp-fork validation paths and malformed encodings. */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/forkid.h>
#include <ethd/genesis.h>

#include "chain_util.h"

static void check_id(const struct ethd_forkid *id, const json_t *want_hash, uint64_t want_next,
                     const char *what)
{
    uint8_t h[4];
    cu_hex_fixed(json_string_value(want_hash), h, 4);
    ck_assert_msg(memcmp(h, id->hash, 4) == 0 && id->next == want_next,
                  "%s: got %02x%02x%02x%02x next %llu, want %s next %llu", what, id->hash[0],
                  id->hash[1], id->hash[2], id->hash[3], (unsigned long long)id->next,
                  json_string_value(want_hash), (unsigned long long)want_next);
}

static json_t *load(void)
{
    char path[4096];
    return cu_load_json(cu_path("ETHD_VECTORS", "forkid/eip2124.json", path, sizeof path));
}

/* Sorted, de-duplicated block list of a network entry. */
static size_t block_list(const json_t *net, uint64_t *out)
{
    size_t i, n = 0;
    json_t *f;
    json_array_foreach(json_object_get(net, "fork_blocks"), i, f) {
        uint64_t b = cu_u64(json_object_get(f, "block"));
        if (n && out[n - 1] == b)
            continue;
        ck_assert(n == 0 || out[n - 1] < b);
        out[n++] = b;
    }
    return n;
}

START_TEST(test_eip2124_networks)
{
    json_t *doc = load();
    const json_t *nets = json_object_get(json_object_get(doc, "eip2124_petersburg_cap"), "networks");
    size_t i, total = 0;
    json_t *net;
    ck_assert_uint_eq(json_array_size(nets), 4);
    json_array_foreach(nets, i, net) {
        uint8_t genesis[32];
        uint64_t blocks[ETHD_FORKID_MAX_FORKS];
        cu_hex_fixed(cu_str(net, "genesis_hash"), genesis, 32);
        size_t nb = block_list(net, blocks);
        ck_assert_uint_eq(json_array_size(json_object_get(net, "fork_times")), 0);
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(net, "cases"), k, c) {
            struct ethd_forkid id;
            ethd_forkid_from_forks(genesis, blocks, nb, NULL, 0,
                                   cu_u64(json_object_get(c, "head")), 0, &id);
            check_id(&id, json_object_get(c, "hash"), cu_u64(json_object_get(c, "next")),
                     cu_str(net, "network"));
            total++;
        }
    }
    printf("eip2124 network cases: %zu\n", total);
    ck_assert_uint_eq(total, 14 + 12 + 13 + 4);
    json_decref(doc);
}
END_TEST

/* Chain config from the mainnet_all_forks fork names. */
static void mainnet_config(const json_t *net, struct ethd_chain_config *c)
{
    static const struct {
        const char *name;
        int slot, slot2;
    } blocks[] = {{"Homestead", ETHD_BF_HOMESTEAD, -1},
                  {"DAOFork", ETHD_BF_DAO, -1},
                  {"TangerineWhistle", ETHD_BF_EIP150, -1},
                  {"SpuriousDragon", ETHD_BF_EIP155, ETHD_BF_EIP158},
                  {"Byzantium", ETHD_BF_BYZANTIUM, -1},
                  {"Constantinople", ETHD_BF_CONSTANTINOPLE, -1},
                  {"Petersburg", ETHD_BF_PETERSBURG, -1},
                  {"Istanbul", ETHD_BF_ISTANBUL, -1},
                  {"MuirGlacier", ETHD_BF_MUIR_GLACIER, -1},
                  {"Berlin", ETHD_BF_BERLIN, -1},
                  {"London", ETHD_BF_LONDON, -1},
                  {"ArrowGlacier", ETHD_BF_ARROW_GLACIER, -1},
                  {"GrayGlacier", ETHD_BF_GRAY_GLACIER, -1}};
    static const struct {
        const char *name;
        int slot;
    } times[] = {{"Shanghai", ETHD_TF_SHANGHAI}, {"Cancun", ETHD_TF_CANCUN},
                 {"Prague", ETHD_TF_PRAGUE},     {"Osaka", ETHD_TF_OSAKA},
                 {"BPO1", ETHD_TF_BPO1},         {"BPO2", ETHD_TF_BPO2}};
    ethd_chain_config_init(c);
    c->chain_id = 1;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(net, "fork_blocks"), i, f) {
        const char *name = cu_str(f, "fork");
        size_t k = 0;
        while (k < sizeof blocks / sizeof blocks[0] && strcmp(blocks[k].name, name) != 0)
            k++;
        ck_assert_msg(k < sizeof blocks / sizeof blocks[0], "fork %s", name);
        uint64_t at = cu_u64(json_object_get(f, "block"));
        c->fork_block[blocks[k].slot] = at;
        if (blocks[k].slot2 >= 0)
            c->fork_block[blocks[k].slot2] = at;
    }
    json_array_foreach(json_object_get(net, "fork_times"), i, f) {
        const char *name = cu_str(f, "fork");
        size_t k = 0;
        while (k < sizeof times / sizeof times[0] && strcmp(times[k].name, name) != 0)
            k++;
        ck_assert_msg(k < sizeof times / sizeof times[0], "fork %s", name);
        c->fork_time[times[k].slot] = cu_u64(json_object_get(f, "timestamp"));
    }
}

START_TEST(test_mainnet_all_forks)
{
    json_t *doc = load();
    const json_t *net = json_object_get(doc, "mainnet_all_forks");
    struct ethd_chain_config cfg;
    uint8_t genesis[32];
    cu_hex_fixed(cu_str(net, "genesis_hash"), genesis, 32);
    mainnet_config(net, &cfg);

    uint64_t blocks[ETHD_FORKID_MAX_FORKS], times[ETHD_FORKID_MAX_FORKS];
    size_t nb, nt;
    ethd_forkid_forks(&cfg, 0, blocks, &nb, times, &nt);
    ck_assert_uint_eq(nb, 12); /* 13 block forks, Constantinople = Petersburg */
    ck_assert_uint_eq(nt, 6);

    size_t i, n = 0;
    json_t *c;
    json_array_foreach(json_object_get(net, "cases"), i, c) {
        struct ethd_forkid id;
        ethd_forkid_compute(&cfg, genesis, 0, cu_u64(json_object_get(c, "head")),
                            cu_u64(json_object_get(c, "time")), &id);
        check_id(&id, json_object_get(c, "hash"), cu_u64(json_object_get(c, "next")),
                 cu_str(c, "comment"));
        /* A node announcing exactly our id is accepted. */
        ck_assert_int_eq(ethd_forkid_validate(&cfg, genesis, 0, cu_u64(json_object_get(c, "head")),
                                              cu_u64(json_object_get(c, "time")), &id),
                         ETHD_FORKID_ACCEPT);
        n++;
    }
    /* The hash after each fork: a head exactly at each activation. */
    json_array_foreach(json_object_get(net, "fork_hash_after_each_fork"), i, c) {
        const json_t *act = json_object_get(c, "activation");
        uint64_t head = 0, time = 0;
        if (act && json_object_get(act, "block"))
            head = cu_u64(json_object_get(act, "block"));
        if (act && json_object_get(act, "timestamp")) {
            head = 15050000; /* past every block fork */
            time = cu_u64(json_object_get(act, "timestamp"));
        }
        struct ethd_forkid id;
        ethd_forkid_compute(&cfg, genesis, 0, head, time, &id);
        check_id(&id, json_object_get(c, "fork_hash"), cu_u64(json_object_get(c, "fork_next")),
                 cu_str(c, "after"));
        n++;
    }
    printf("mainnet_all_forks: %zu checks\n", n);
    ck_assert_uint_ge(n, 30);
    json_decref(doc);
}
END_TEST

START_TEST(test_validation_cases)
{
    json_t *doc = load();
    const json_t *mainnet =
        json_array_get(json_object_get(json_object_get(doc, "eip2124_petersburg_cap"), "networks"),
                       0);
    ck_assert_str_eq(cu_str(mainnet, "network"), "mainnet");
    uint8_t genesis[32];
    uint64_t blocks[ETHD_FORKID_MAX_FORKS];
    cu_hex_fixed(cu_str(mainnet, "genesis_hash"), genesis, 32);
    size_t nb = block_list(mainnet, blocks);
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(doc, "validation_cases"), "cases"), i, c) {
        const json_t *r = json_object_get(c, "remote");
        struct ethd_forkid remote;
        cu_hex_fixed(cu_str(r, "hash"), remote.hash, 4);
        remote.next = cu_u64(json_object_get(r, "next"));
        int got = ethd_forkid_validate_forks(genesis, blocks, nb, NULL, 0,
                                             cu_u64(json_object_get(c, "local_head")), 0, &remote);
        const char *exp = cu_str(c, "expected");
        int want = strcmp(exp, "accept") == 0                 ? ETHD_FORKID_ACCEPT
                   : strcmp(exp, "ErrRemoteStale") == 0       ? ETHD_FORKID_REMOTE_STALE
                   : strcmp(exp, "ErrLocalIncompatibleOrStale") == 0 ? ETHD_FORKID_LOCAL_INCOMPATIBLE
                                                               : -1;
        ck_assert_msg(want >= 0, "unknown expectation %s", exp);
        ck_assert_msg(got == want, "case %zu (%s): got %d", i, cu_str(c, "comment"), got);
        n++;
    }
    printf("validation cases: %zu\n", n);
    ck_assert_uint_eq(n, 15);
    json_decref(doc);
}
END_TEST

START_TEST(test_encodings)
{
    json_t *doc = load();
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(json_object_get(doc, "encodings"), i, c) {
        const json_t *j = json_object_get(c, "id");
        struct ethd_forkid id, back;
        cu_hex_fixed(cu_str(j, "hash"), id.hash, 4);
        id.next = cu_u64(json_object_get(j, "next"));
        ck_assert_uint_eq(id.next, cu_u64(json_object_get(j, "next_hex")));
        size_t len;
        uint8_t *want = cu_hex(cu_str(c, "rlp"), &len);
        struct ethd_buf b = ETHD_BUF_INIT;
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &b);
        ethd_forkid_encode_rlp(&e, &id);
        ck_assert_int_eq(ethd_rlp_enc_finish(&e), 0);
        ck_assert(b.len == len && memcmp(b.data, want, len) == 0);
        struct ethd_rlp_item it;
        ck_assert_int_eq(ethd_rlp_decode(want, len, &it), 0);
        ck_assert_int_eq(ethd_forkid_decode_item(&it, &back), 0);
        ck_assert(memcmp(back.hash, id.hash, 4) == 0 && back.next == id.next);
        ethd_buf_free(&b);
        free(want);
        n++;
    }
    ck_assert_uint_eq(n, 3);
    json_decref(doc);

    /* Malformed: three elements, a 5-byte hash, a string, a 9-byte next. */
    static const uint8_t three[] = {0xc7, 0x84, 1, 2, 3, 4, 0x80, 0x80};
    static const uint8_t hash5[] = {0xc7, 0x85, 1, 2, 3, 4, 5, 0x80};
    static const uint8_t str[] = {0x84, 1, 2, 3, 4};
    static const uint8_t next9[] = {0xcf, 0x84, 1, 2, 3, 4, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    static const struct {
        const uint8_t *p;
        size_t n;
    } bad[] = {{three, sizeof three}, {hash5, sizeof hash5}, {str, sizeof str},
               {next9, sizeof next9}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct ethd_rlp_item it;
        struct ethd_forkid id;
        ck_assert_int_eq(ethd_rlp_decode(bad[k].p, bad[k].n, &it), 0);
        ck_assert_int_ne(ethd_forkid_decode_item(&it, &id), 0);
    }
}
END_TEST

START_TEST(test_devnet_a)
{
    char path[4096], err[512];
    struct ethd_genesis g;
    ck_assert_msg(ethd_genesis_load(cu_path("ETHD_FIXTURES", "devnet-a/genesis.json", path,
                                            sizeof path),
                                    &g, err, sizeof err) == 0,
                  "%s", err);
    /* README "How to check an import", step 4. */
    static const struct {
        uint64_t block;
        uint8_t hash[4];
        uint64_t next;
    } want[] = {
        {0, {0x83, 0xbd, 0xfb, 0x83}, 5},   {4, {0x83, 0xbd, 0xfb, 0x83}, 5},
        {5, {0xfe, 0x97, 0x0d, 0x15}, 10},  {9, {0xfe, 0x97, 0x0d, 0x15}, 10},
        {10, {0x27, 0x1c, 0xa0, 0x3f}, 0},  {300, {0x27, 0x1c, 0xa0, 0x3f}, 0},
    };
    uint64_t gt = g.header.timestamp;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct ethd_forkid id;
        ethd_forkid_compute(&g.config, g.hash, gt, want[i].block, gt + 2 * want[i].block, &id);
        ck_assert_msg(memcmp(id.hash, want[i].hash, 4) == 0 && id.next == want[i].next,
                      "block %llu", (unsigned long long)want[i].block);
    }
    json_t *exp = cu_load_json(cu_path("ETHD_FIXTURES", "devnet-a/expected.json", path,
                                       sizeof path));
    struct ethd_forkid id;
    ethd_forkid_compute(&g.config, g.hash, gt, 300, gt + 600, &id);
    check_id(&id, json_object_get(json_object_get(exp, "forkId"), "hash"),
             cu_u64(json_object_get(json_object_get(exp, "forkId"), "next")), "head");
    ethd_forkid_compute(&g.config, g.hash, gt, 0, gt, &id);
    check_id(&id, json_object_get(json_object_get(exp, "forkIdAtGenesis"), "hash"),
             cu_u64(json_object_get(json_object_get(exp, "forkIdAtGenesis"), "next")), "genesis");
    /* A peer at genesis (knowing Berlin at 5) is fine for a node at the head;
     * one at genesis that does not know of Berlin must update. */
    ck_assert_int_eq(ethd_forkid_validate(&g.config, g.hash, gt, 300, gt + 600, &id),
                     ETHD_FORKID_ACCEPT);
    id.next = 0;
    ck_assert_int_eq(ethd_forkid_validate(&g.config, g.hash, gt, 300, gt + 600, &id),
                     ETHD_FORKID_REMOTE_STALE);
    json_decref(exp);
    ethd_genesis_free(&g);
}
END_TEST

/* Timestamp forks (EIP-6122): a block chain with two time forks. */
START_TEST(test_time_forks)
{
    uint8_t genesis[32];
    memset(genesis, 0xab, 32);
    const uint64_t blocks[] = {10};
    const uint64_t times[] = {1700000000, 1800000000};
    struct ethd_forkid at_genesis, after_t1, after_t2;
    ethd_forkid_from_forks(genesis, blocks, 1, times, 2, 0, 0, &at_genesis);
    ck_assert_uint_eq(at_genesis.next, 10);
    ethd_forkid_from_forks(genesis, blocks, 1, times, 2, 100, 1700000000, &after_t1);
    ck_assert_uint_eq(after_t1.next, 1800000000);
    ethd_forkid_from_forks(genesis, blocks, 1, times, 2, 200, 1800000005, &after_t2);
    ck_assert_uint_eq(after_t2.next, 0);
    ck_assert(memcmp(after_t1.hash, after_t2.hash, 4) != 0);

    /* Local past the second time fork: a remote in the first that knows
     * the second is out of sync (accept); one that does not must update. */
    struct ethd_forkid r = after_t1;
    ck_assert_int_eq(ethd_forkid_validate_forks(genesis, blocks, 1, times, 2, 200, 1800000005, &r),
                     ETHD_FORKID_ACCEPT);
    r.next = 0;
    ck_assert_int_eq(ethd_forkid_validate_forks(genesis, blocks, 1, times, 2, 200, 1800000005, &r),
                     ETHD_FORKID_REMOTE_STALE);
    /* Local in the first time fork; the remote is ahead (accept), or in the
     * same fork announcing a timestamp fork we have already passed (1a). */
    r = after_t2;
    ck_assert_int_eq(ethd_forkid_validate_forks(genesis, blocks, 1, times, 2, 150, 1750000000, &r),
                     ETHD_FORKID_ACCEPT);
    r = after_t1;
    r.next = 1740000000;
    ck_assert_int_eq(ethd_forkid_validate_forks(genesis, blocks, 1, times, 2, 150, 1750000000, &r),
                     ETHD_FORKID_LOCAL_INCOMPATIBLE);
    /* Unrelated chain. */
    memset(r.hash, 0x11, 4);
    ck_assert_int_eq(ethd_forkid_validate_forks(genesis, blocks, 1, times, 2, 150, 1750000000, &r),
                     ETHD_FORKID_LOCAL_INCOMPATIBLE);

    /* Time forks at or before the genesis time are not listed. */
    struct ethd_chain_config c;
    ethd_chain_config_init(&c);
    c.fork_block[ETHD_BF_LONDON] = 0;
    c.fork_time[ETHD_TF_SHANGHAI] = 0;
    c.fork_time[ETHD_TF_CANCUN] = 500;
    c.fork_time[ETHD_TF_PRAGUE] = 900;
    uint64_t b[ETHD_FORKID_MAX_FORKS], t[ETHD_FORKID_MAX_FORKS];
    size_t nb, nt;
    ethd_forkid_forks(&c, 500, b, &nb, t, &nt);
    ck_assert_uint_eq(nb, 0);
    ck_assert_uint_eq(nt, 1);
    ck_assert_uint_eq(t[0], 900);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("forkid");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, test_eip2124_networks);
    tcase_add_test(tc, test_mainnet_all_forks);
    tcase_add_test(tc, test_validation_cases);
    tcase_add_test(tc, test_encodings);
    tcase_add_test(tc, test_devnet_a);
    tcase_add_test(tc, test_time_forks);
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
