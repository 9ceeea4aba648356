/* The clique sealer's building blocks (plugins/clique/seal.c, snapshot.c)
 * against the chain store's own verification (core/chain: clique seal,
 * signer, difficulty, timestamp, gas limit, base fee, checkpoint lists):
 *   - the dev genesis (embedded = etc/dev-genesis.json, signer = dev key);
 *   - a sealed sequence on the dev chain is accepted block by block, with the
 *     right signer, difficulty 2, timestamps max(parent + period, now), the
 *     EIP-1559 base fee, and continues after the chain is reopened;
 *   - an unauthorised key: the snapshot says so, and the chain refuses it;
 *   - the London transition and the base fee against the devnet-a fixture
 *     (EthereumJS-made blocks: gas limit doubling, 1 gwei, every next fee);
 *   - the gas limit moving toward a target within the 1/1024 bound;
 *   - a checkpoint block listing the signers;
 *   - three signers with votes (add, drop), in/out of turn and the
 *     recent-signer rule, the snapshot checked against the chain's own;
 *   - Shanghai refused; the signer key file (permissions, generation). */
#include "chain/chain.h"
#include "db/store.h"
#include "seal.h"
#include "snapshot.h"

#include "chain_util.h"

#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The compiled-in dev genesis (core/dev_genesis.c). */
extern const char ethd_dev_genesis[];
extern const unsigned long ethd_dev_genesis_len;

#define DEV_KEY "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define DEV_ADDR "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define OTHER_KEY "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
#define FIXTURE_BLOCKS 300

static char base_dir[64];

/* ---- temp dirs, store, chain ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

struct env {
    char dir[128];
    struct ethd_store *st;
    struct ethd_chain *c;
    const struct ethd_chain_iface_v1 *ci;
    struct ethd_secp *secp;
};

static void env_open_chain(struct env *e, const char *genesis, size_t len)
{
    char db[200], err[512];
    snprintf(db, sizeof db, "%s/chaindata", e->dir);
    ck_assert_msg(ethd_store_open(db, NULL, &e->st, err, sizeof err) == 0, "%s", err);
    int rc = ethd_chain_open(e->st, genesis, len, "genesis.json", NULL, &e->c, err, sizeof err);
    ck_assert_msg(rc == 0, "chain open: %s", err);
}

static void env_init(struct env *e, const char *genesis, size_t len)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->dir, sizeof e->dir, "%s/t-XXXXXX", base_dir);
    ck_assert_ptr_nonnull(mkdtemp(e->dir));
    ck_assert_int_eq(ethd_secp_new(&e->secp), 0);
    e->ci = ethd_chain_iface();
    env_open_chain(e, genesis, len);
}

static void env_close_chain(struct env *e)
{
    ethd_chain_close(e->c);
    ethd_store_close(e->st);
    e->c = NULL;
    e->st = NULL;
}

static void env_free(struct env *e)
{
    env_close_chain(e);
    ethd_secp_free(e->secp);
    nftw(e->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void key_of(const char *hex, uint8_t key[32])
{
    cu_hex_fixed(hex, key, 32);
}

static void addr_of(const struct ethd_secp *secp, const uint8_t key[32], uint8_t addr[20])
{
    uint8_t pub[64];
    ck_assert_int_eq(ethd_secp_pubkey(secp, key, pub), 0);
    ethd_secp_address(pub, addr);
}

static uint64_t u256_low(const uint8_t be[32])
{
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | be[i];
    return v;
}

static void head_header(struct env *e, struct ethd_header *h, uint8_t hash[32])
{
    struct ethd_chain_head head;
    ethd_chain_head_header(e->c, &head);
    memcpy(hash, head.hash, 32);
    ck_assert_int_eq(ethd_chain_header_by_hash(e->c, head.hash, h), 0);
}

/* Insert one empty block; returns the chain's code, reason in res. */
static int insert(struct env *e, const struct ethd_header *h, struct ethd_chain_insert_result *res)
{
    struct ethd_block b;
    memset(&b, 0, sizeof(b));
    b.header = *h; /* shallow: h keeps its extra */
    return ethd_chain_insert_blocks(e->c, &b, NULL, 1, res);
}

/* Build on the head with `key`, sign, insert; the result code. *out (may be
 * NULL) gets the sealed header (caller frees). */
static int seal_on_head(struct env *e, const uint8_t key[32], const struct ethd_sealer_params *p0,
                        struct ethd_header *out, struct ethd_chain_insert_result *res)
{
    struct ethd_header parent, h;
    uint8_t ph[32];
    head_header(e, &parent, ph);
    const struct ethd_genesis *g = ethd_chain_genesis(e->c);
    const char *why = NULL;
    ck_assert_int_eq(ethd_sealer_build(&g->config, &parent, ph, p0, &h, &why), 0);
    ck_assert_int_eq(ethd_sealer_sign(e->secp, &h, key), 0);
    int rc = insert(e, &h, res);
    if (out)
        *out = h;
    else
        ethd_header_free(&h);
    ethd_header_free(&parent);
    return rc;
}

/* ---- the dev genesis ---- */

START_TEST(test_dev_genesis)
{
    char p[512];
    size_t n;
    char *file = (char *)cu_read(cu_path("ETHD_SRCDIR", "etc/dev-genesis.json", p, sizeof p), &n);
    ck_assert_uint_eq(n, ethd_dev_genesis_len);
    ck_assert_msg(memcmp(file, ethd_dev_genesis, n) == 0,
                  "the embedded dev genesis differs from etc/dev-genesis.json");
    struct ethd_genesis g;
    char err[256];
    ck_assert_int_eq(ethd_genesis_parse("dev", file, n, &g, err, sizeof err), 0);
    ck_assert_uint_eq(g.config.chain_id, 1337);
    ck_assert(g.config.has_clique);
    ck_assert_uint_ge(g.config.clique_period, 1);
    ck_assert_uint_le(g.config.clique_period, 2);
    ck_assert_uint_eq(g.config.clique_epoch, 30000);
    for (int f = ETHD_BF_HOMESTEAD; f <= ETHD_BF_LONDON; f++)
        if (f != ETHD_BF_DAO)
            ck_assert_msg(g.config.fork_block[f] == 0, "%s not at 0", ethd_block_fork_name(f));
    ck_assert_uint_eq(g.config.fork_block[ETHD_BF_DAO], ETHD_FORK_UNSET);
    for (int f = ETHD_BF_ARROW_GLACIER; f < ETHD_BF_N; f++)
        ck_assert_uint_eq(g.config.fork_block[f], ETHD_FORK_UNSET);
    for (int f = 0; f < ETHD_TF_N; f++)
        ck_assert_msg(g.config.fork_time[f] == ETHD_FORK_UNSET, "%s is scheduled",
                      ethd_time_fork_name(f));
    ck_assert(!g.config.has_ttd);
    ck_assert_uint_eq(g.n_alloc, 3);
    /* One signer: the documented dev key's address. */
    ck_assert_uint_eq(g.header.extra_len, 32 + 20 + 65);
    struct ethd_secp *secp;
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    uint8_t key[32], addr[20], want[20];
    key_of(DEV_KEY, key);
    addr_of(secp, key, addr);
    cu_hex_fixed(DEV_ADDR, want, 20);
    ck_assert_mem_eq(addr, want, 20);
    ck_assert_mem_eq(g.header.extra + 32, addr, 20);
    ck_assert(g.header.present & ETHD_HDR_BASE_FEE);
    ck_assert_uint_eq(u256_low(g.header.base_fee), 1000000000u);
    ethd_secp_free(secp);
    ethd_genesis_free(&g);
    free(file);
}
END_TEST

/* ---- a sealed sequence on the dev chain ---- */

START_TEST(test_dev_sequence)
{
    struct env e;
    env_init(&e, ethd_dev_genesis, ethd_dev_genesis_len);
    const struct ethd_chain_config *cfg = &ethd_chain_genesis(e.c)->config;
    uint8_t key[32], me[20];
    key_of(DEV_KEY, key);
    addr_of(e.secp, key, me);
    uint64_t period = cfg->clique_period;
    struct ethd_sealer_snap snap;
    ethd_sealer_snap_init(&snap, cfg->clique_epoch);
    /* "now" before, at and after parent + period. */
    const uint64_t nows[] = {0, 1700000000, 1700000001, 1700000001, 1700000100, 5, 1700000200};
    uint64_t fee = 1000000000u;
    for (size_t i = 0; i < 14; i++) {
        struct ethd_header parent, h;
        uint8_t ph[32];
        head_header(&e, &parent, ph);
        char why[256];
        ck_assert_int_eq(ethd_sealer_snap_update(&snap, e.ci, e.c, e.secp, parent.number, ph, why,
                                                 sizeof why),
                         0);
        ck_assert(ethd_sealer_snap_is_signer(&snap, me, NULL));
        ck_assert(ethd_sealer_snap_in_turn(&snap, parent.number + 1, me));
        bool recent = true;
        ck_assert_int_eq(ethd_sealer_snap_recent(&snap, e.ci, e.c, e.secp, me, &recent, NULL), 0);
        ck_assert(!recent); /* one signer: never recent */
        struct ethd_sealer_params p = {.now = nows[i % 7], .period = period, .in_turn = true};
        struct ethd_chain_insert_result res;
        int rc = seal_on_head(&e, key, &p, &h, &res);
        ck_assert_msg(rc == 0, "block %zu refused: %s", i + 1, res.reason);
        ck_assert(res.head_changed);
        /* The block as the chain stored it. */
        uint8_t signer[20];
        ck_assert_int_eq(ethd_sealer_recover(e.secp, &h, signer), 0);
        ck_assert_mem_eq(signer, me, 20);
        ck_assert_uint_eq(h.number, parent.number + 1);
        ck_assert_uint_eq(h.difficulty[31], 2);
        uint64_t want_ts = parent.timestamp + period > nows[i % 7] ? parent.timestamp + period
                                                                   : nows[i % 7];
        ck_assert_uint_eq(h.timestamp, want_ts);
        ck_assert_uint_ge(h.timestamp, parent.timestamp + period);
        ck_assert_uint_eq(h.gas_limit, parent.gas_limit);
        ck_assert_uint_eq(h.gas_used, 0);
        ck_assert_mem_eq(h.state_root, parent.state_root, 32);
        ck_assert_uint_eq(h.extra_len, 32 + 65);
        /* EIP-1559 with an empty parent: -1/8 per block. */
        ck_assert(h.present == ETHD_HDR_BASE_FEE);
        fee -= fee / 8; /* the genesis is London's: 1 gwei, then -1/8 */
        ck_assert_uint_eq(u256_low(h.base_fee), fee);
        struct ethd_chain_head head;
        ethd_chain_head_block(e.c, &head);
        ck_assert_uint_eq(head.number, i + 1);
        ethd_header_free(&h);
        ethd_header_free(&parent);
    }
    /* The chain's own snapshot agrees. */
    struct ethd_chain_head head;
    ethd_chain_head_header(e.c, &head);
    uint8_t(*signers)[20];
    size_t n;
    ck_assert_int_eq(ethd_chain_clique_signers(e.c, head.hash, head.number, &signers, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_mem_eq(signers[0], me, 20);
    free(signers);

    /* Reopened (a restart): the same head, and sealing continues on it. */
    uint8_t hash14[32];
    ck_assert_int_eq(ethd_chain_hash_by_number(e.c, 14, hash14), 0);
    env_close_chain(&e);
    env_open_chain(&e, ethd_dev_genesis, ethd_dev_genesis_len);
    ethd_chain_head_header(e.c, &head);
    ck_assert_uint_eq(head.number, 14);
    ck_assert_mem_eq(head.hash, hash14, 32);
    struct ethd_sealer_params p = {.now = 1800000000, .period = period, .in_turn = true};
    struct ethd_chain_insert_result res;
    ck_assert_int_eq(seal_on_head(&e, key, &p, NULL, &res), 0);
    ethd_chain_head_header(e.c, &head);
    ck_assert_uint_eq(head.number, 15);
    ethd_sealer_snap_free(&snap);
    env_free(&e);
}
END_TEST

START_TEST(test_period_enforced)
{
    struct env e;
    env_init(&e, ethd_dev_genesis, ethd_dev_genesis_len);
    uint8_t key[32];
    key_of(DEV_KEY, key);
    const struct ethd_chain_config *cfg = &ethd_chain_genesis(e.c)->config;
    struct ethd_sealer_params p = {.now = 1700000000, .period = cfg->clique_period,
                                   .in_turn = true};
    struct ethd_chain_insert_result res;
    ck_assert_int_eq(seal_on_head(&e, key, &p, NULL, &res), 0);
    /* A slower period (the sealer's override) is fine... */
    p.period = cfg->clique_period + 4;
    p.now = 0;
    struct ethd_header h;
    ck_assert_int_eq(seal_on_head(&e, key, &p, &h, &res), 0);
    ck_assert_uint_eq(h.timestamp, 1700000000 + cfg->clique_period + 4);
    ethd_header_free(&h);
    /* ...a block sooner than parent + period is not: what the sealer never
     * builds, the chain refuses. */
    struct ethd_header parent;
    uint8_t ph[32];
    head_header(&e, &parent, ph);
    p.period = cfg->clique_period;
    const char *why;
    ck_assert_int_eq(ethd_sealer_build(cfg, &parent, ph, &p, &h, &why), 0);
    ck_assert_uint_eq(h.timestamp, parent.timestamp + cfg->clique_period);
    h.timestamp = parent.timestamp + cfg->clique_period - 1;
    ck_assert_int_eq(ethd_sealer_sign(e.secp, &h, key), 0);
    ck_assert_int_ne(insert(&e, &h, &res), 0);
    ck_assert_msg(strstr(res.reason, "timestamp") != NULL, "%s", res.reason);
    /* A wrong difficulty (out of turn with one signer) is refused too. */
    h.timestamp = parent.timestamp + cfg->clique_period;
    h.difficulty[31] = 1;
    ck_assert_int_eq(ethd_sealer_sign(e.secp, &h, key), 0);
    ck_assert_int_ne(insert(&e, &h, &res), 0);
    ck_assert_msg(strstr(res.reason, "difficulty") != NULL, "%s", res.reason);
    ethd_header_free(&h);
    ethd_header_free(&parent);
    env_free(&e);
}
END_TEST

START_TEST(test_unauthorised)
{
    struct env e;
    env_init(&e, ethd_dev_genesis, ethd_dev_genesis_len);
    uint8_t key[32], addr[20];
    key_of(OTHER_KEY, key);
    addr_of(e.secp, key, addr);
    struct ethd_header parent;
    uint8_t ph[32];
    head_header(&e, &parent, ph);
    struct ethd_sealer_snap snap;
    ethd_sealer_snap_init(&snap, 30000);
    char why[256];
    ck_assert_int_eq(
        ethd_sealer_snap_update(&snap, e.ci, e.c, e.secp, parent.number, ph, why, sizeof why), 0);
    ck_assert(!ethd_sealer_snap_is_signer(&snap, addr, NULL));
    ck_assert(!ethd_sealer_snap_in_turn(&snap, 1, addr));
    /* Sealed anyway, the chain refuses it naming the signer. */
    struct ethd_sealer_params p = {.now = 1700000000, .period = 1, .in_turn = true};
    struct ethd_chain_insert_result res;
    ck_assert_int_ne(seal_on_head(&e, key, &p, NULL, &res), 0);
    char hx[43];
    ethd_hex_encode(addr, 20, hx);
    ck_assert_msg(strstr(res.reason, "unauthorized") && strstr(res.reason, hx), "%s", res.reason);
    struct ethd_chain_head head;
    ethd_chain_head_header(e.c, &head);
    ck_assert_uint_eq(head.number, 0);
    /* A snapshot asked about a block that is not canonical says "again". */
    uint8_t bogus[32] = {1};
    ck_assert_int_eq(ethd_sealer_snap_update(&snap, e.ci, e.c, e.secp, 0, bogus, why, sizeof why),
                     ETHD_EAGAIN);
    ck_assert(!snap.valid);
    ethd_sealer_snap_free(&snap);
    ethd_header_free(&parent);
    env_free(&e);
}
END_TEST

/* ---- devnet-a: London transition and base fees ---- */

struct fixture {
    uint8_t *chain;
    size_t chain_len;
    char *genesis;
    size_t genesis_len;
    json_t *exp;
    struct ethd_block blocks[FIXTURE_BLOCKS];
};

static struct fixture *fixture_load(void)
{
    char p[512];
    struct fixture *f = calloc(1, sizeof(*f));
    ck_assert_ptr_nonnull(f);
    f->chain = cu_read(cu_path("ETHD_FIXTURES", "devnet-a/chain.rlp", p, sizeof p), &f->chain_len);
    f->genesis = (char *)cu_read(cu_path("ETHD_FIXTURES", "devnet-a/genesis.json", p, sizeof p),
                                 &f->genesis_len);
    f->exp = cu_load_json(cu_path("ETHD_FIXTURES", "devnet-a/expected.json", p, sizeof p));
    const uint8_t *q = f->chain;
    size_t left = f->chain_len;
    for (size_t i = 0; i < FIXTURE_BLOCKS; i++) {
        struct ethd_rlp_item it;
        ck_assert_int_eq(ethd_rlp_next(&q, &left, &it), 0);
        ck_assert_int_eq(ethd_block_decode_item(&it, &f->blocks[i]), 0);
    }
    return f;
}

static void fixture_free(struct fixture *f)
{
    for (size_t i = 0; i < FIXTURE_BLOCKS; i++)
        ethd_block_free(&f->blocks[i]);
    json_decref(f->exp);
    free(f->chain);
    free(f->genesis);
    free(f);
}

static const json_t *exp_block(const struct fixture *f, size_t number)
{
    const json_t *b = json_array_get(json_object_get(f->exp, "blocks"), number - 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(cu_u64(json_object_get(b, "number")), number);
    return b;
}

static void fixture_signer_key(uint8_t key[32])
{
    char p[512];
    json_t *k = cu_load_json(cu_path("ETHD_FIXTURES", "devnet-a/keys.json", p, sizeof p));
    const char *hex = json_string_value(json_object_get(json_object_get(k, "signer"),
                                                        "privateKey"));
    ck_assert_ptr_nonnull(hex);
    cu_hex_fixed(hex, key, 32);
    json_decref(k);
}

START_TEST(test_fixture_base_fee_and_gas_limit)
{
    struct fixture *f = fixture_load();
    struct ethd_genesis g;
    char err[256];
    ck_assert_int_eq(ethd_genesis_parse("g", f->genesis, f->genesis_len, &g, err, sizeof err), 0);
    /* Blocks 1..300 made by EthereumJS: what we would put after block n is
     * what it put in block n + 1. */
    for (size_t n = 1; n < FIXTURE_BLOCKS; n++) {
        const struct ethd_header *parent = &f->blocks[n - 1].header;
        const json_t *next = exp_block(f, n + 1);
        bool present;
        uint8_t fee[32], want[32];
        ck_assert_int_eq(ethd_sealer_base_fee(&g.config, parent, &present, fee), 0);
        const json_t *wf = json_object_get(next, "baseFeePerGas");
        ck_assert_msg(present == !json_is_null(wf), "block %zu: base fee presence", n + 1);
        if (present) {
            cu_u256(json_string_value(wf), want);
            ck_assert_msg(memcmp(fee, want, 32) == 0, "block %zu: base fee", n + 1);
        }
        ck_assert_uint_eq(ethd_sealer_gas_limit(&g.config, parent, 0),
                          cu_u64(json_object_get(next, "gasLimit")));
    }
    ethd_genesis_free(&g);
    fixture_free(f);
}
END_TEST

START_TEST(test_fixture_london_transition_and_tip)
{
    struct fixture *f = fixture_load();
    struct env e;
    env_init(&e, f->genesis, f->genesis_len);
    uint8_t key[32];
    fixture_signer_key(key);
    struct ethd_chain_insert_result res;
    /* Blocks 1..9 (Berlin at 5), then our own block 10: London's fork block. */
    ck_assert_int_eq(ethd_chain_insert_blocks(e.c, f->blocks, NULL, 9, &res), 0);
    struct ethd_sealer_params p = {.now = 0, .period = 2, .in_turn = true};
    struct ethd_header h;
    int rc = seal_on_head(&e, key, &p, &h, &res);
    ck_assert_msg(rc == 0, "%s", res.reason);
    ck_assert_uint_eq(h.number, 10);
    ck_assert_uint_eq(h.gas_limit, 2 * f->blocks[8].header.gas_limit);
    ck_assert_uint_eq(h.gas_limit, cu_u64(json_object_get(exp_block(f, 10), "gasLimit")));
    ck_assert(h.present & ETHD_HDR_BASE_FEE);
    ck_assert_uint_eq(u256_low(h.base_fee), 1000000000u);
    ck_assert(!(f->blocks[8].header.present & ETHD_HDR_BASE_FEE));
    ethd_header_free(&h);
    env_free(&e);

    /* On top of the whole fixture (its blocks carry transactions, so the
     * base fee moves with their gas used): accepted by the chain. */
    env_init(&e, f->genesis, f->genesis_len);
    ck_assert_int_eq(ethd_chain_insert_blocks(e.c, f->blocks, NULL, FIXTURE_BLOCKS, &res), 0);
    rc = seal_on_head(&e, key, &p, &h, &res);
    ck_assert_msg(rc == 0, "%s", res.reason);
    ck_assert_uint_eq(h.number, FIXTURE_BLOCKS + 1);
    ck_assert_uint_eq(h.timestamp, f->blocks[FIXTURE_BLOCKS - 1].header.timestamp + 2);
    ethd_header_free(&h);
    env_free(&e);
    fixture_free(f);
}
END_TEST

START_TEST(test_gas_limit_target)
{
    struct env e;
    env_init(&e, ethd_dev_genesis, ethd_dev_genesis_len);
    uint8_t key[32];
    key_of(DEV_KEY, key);
    uint64_t limit = ethd_chain_genesis(e.c)->header.gas_limit;
    struct ethd_sealer_params p = {.period = 1, .in_turn = true, .gas_target = limit + 50000};
    for (int i = 0; i < 3; i++) {
        struct ethd_header h;
        struct ethd_chain_insert_result res;
        int rc = seal_on_head(&e, key, &p, &h, &res);
        ck_assert_msg(rc == 0, "%s", res.reason);
        uint64_t step = limit / 1024 - 1;
        uint64_t want = limit + step > p.gas_target ? p.gas_target : limit + step;
        ck_assert_uint_eq(h.gas_limit, want);
        limit = h.gas_limit;
        ethd_header_free(&h);
    }
    ck_assert_uint_eq(limit, p.gas_target); /* reached in two steps, then kept */
    /* Downward, and never below 5000. */
    struct ethd_header parent;
    memset(&parent, 0, sizeof(parent));
    struct ethd_chain_config cfg;
    ethd_chain_config_init(&cfg);
    parent.gas_limit = 6000;
    ck_assert_uint_eq(ethd_sealer_gas_limit(&cfg, &parent, 1), 6000 - (6000 / 1024 - 1));
    parent.gas_limit = 5003;
    ck_assert_uint_eq(ethd_sealer_gas_limit(&cfg, &parent, 1), 5000);
    env_free(&e);
}
END_TEST

/* ---- custom clique genesis: checkpoints, several signers, votes ---- */

/* Genesis JSON with these signers (sorted here) and this epoch; London at 0. */
static char *clique_genesis(uint8_t (*signers)[20], size_t n, uint64_t epoch, size_t *len)
{
    /* sort */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (memcmp(signers[j], signers[i], 20) < 0) {
                uint8_t t[20];
                memcpy(t, signers[i], 20);
                memcpy(signers[i], signers[j], 20);
                memcpy(signers[j], t, 20);
            }
    char extra[2 + 64 + 40 * 16 + 130 + 1] = "0x";
    size_t off = 2;
    memset(extra + off, '0', 64);
    off += 64;
    for (size_t i = 0; i < n; i++) {
        ethd_hex_encode_bare(signers[i], 20, extra + off);
        off += 40;
    }
    memset(extra + off, '0', 130);
    off += 130;
    extra[off] = 0;
    char *out;
    int l = asprintf(&out,
                     "{\"config\": {\"chainId\": 4242, \"homesteadBlock\": 0, \"eip150Block\": 0,"
                     " \"eip155Block\": 0, \"eip158Block\": 0, \"byzantiumBlock\": 0,"
                     " \"constantinopleBlock\": 0, \"petersburgBlock\": 0, \"istanbulBlock\": 0,"
                     " \"berlinBlock\": 0, \"londonBlock\": 0,"
                     " \"clique\": {\"period\": 1, \"epoch\": %llu}},"
                     " \"timestamp\": \"0x10\", \"extraData\": \"%s\", \"gasLimit\": \"0x1c9c380\","
                     " \"difficulty\": \"0x1\", \"alloc\": {}}",
                     (unsigned long long)epoch, extra);
    ck_assert_int_gt(l, 0);
    *len = (size_t)l;
    return out;
}

START_TEST(test_checkpoint_lists_signers)
{
    struct ethd_secp *secp;
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    uint8_t key[32], addr[1][20];
    key_of(DEV_KEY, key);
    addr_of(secp, key, addr[0]);
    size_t len;
    char *gj = clique_genesis(addr, 1, 4, &len);
    struct env e;
    env_init(&e, gj, len);
    struct ethd_sealer_snap snap;
    ethd_sealer_snap_init(&snap, 4);
    for (int i = 0; i < 9; i++) {
        struct ethd_header parent, h;
        uint8_t ph[32];
        char why[256];
        head_header(&e, &parent, ph);
        ck_assert_int_eq(ethd_sealer_snap_update(&snap, e.ci, e.c, e.secp, parent.number, ph, why,
                                                 sizeof why),
                         0);
        struct ethd_sealer_params p = {.period = 1, .in_turn = true, .epoch = 4,
                                       .signers = (const uint8_t(*)[20])snap.signers,
                                       .n_signers = snap.n_signers};
        struct ethd_chain_insert_result res;
        int rc = seal_on_head(&e, key, &p, &h, &res);
        ck_assert_msg(rc == 0, "block %d: %s", i + 1, res.reason);
        if (h.number % 4 == 0) {
            ck_assert_uint_eq(h.extra_len, 32 + 20 + 65);
            ck_assert_mem_eq(h.extra + 32, addr[0], 20);
        } else {
            ck_assert_uint_eq(h.extra_len, 32 + 65);
        }
        ethd_header_free(&h);
        ethd_header_free(&parent);
    }
    /* A checkpoint without the list is refused by the chain. */
    struct ethd_header parent, h;
    uint8_t ph[32];
    head_header(&e, &parent, ph);
    ck_assert_uint_eq(parent.number, 9);
    struct ethd_chain_insert_result res;
    struct ethd_sealer_params p = {.period = 1, .in_turn = true, .epoch = 4};
    const char *why;
    /* Block 10 is not a checkpoint; make one at 12 with epoch 4 but no list. */
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(seal_on_head(&e, key, &p, NULL, &res), 0);
    }
    ethd_header_free(&parent);
    head_header(&e, &parent, ph);
    ck_assert_int_eq(ethd_sealer_build(&ethd_chain_genesis(e.c)->config, &parent, ph, &p, &h, &why),
                     0);
    ck_assert_uint_eq(h.number, 12);
    ck_assert_uint_eq(h.extra_len, 32 + 65); /* n_signers 0: nothing to list */
    ck_assert_int_eq(ethd_sealer_sign(e.secp, &h, key), 0);
    ck_assert_int_ne(insert(&e, &h, &res), 0);
    ethd_header_free(&h);
    ethd_header_free(&parent);
    ethd_sealer_snap_free(&snap);
    env_free(&e);
    free(gj);
    ethd_secp_free(secp);
}
END_TEST

struct signer {
    uint8_t key[32];
    uint8_t addr[20];
};

/* Seal the next block by `who` (in turn or not as the snapshot says), with
 * an optional vote; check the snapshot against the chain's afterwards. */
static int seal_by(struct env *e, struct ethd_sealer_snap *snap, const struct signer *who,
                   const uint8_t *vote_addr, bool authorize, struct ethd_chain_insert_result *res)
{
    struct ethd_header parent, h;
    uint8_t ph[32];
    char why[256];
    head_header(e, &parent, ph);
    ck_assert_int_eq(
        ethd_sealer_snap_update(snap, e->ci, e->c, e->secp, parent.number, ph, why, sizeof why),
        0);
    struct ethd_sealer_params p = {
        .period = 1,
        .in_turn = ethd_sealer_snap_in_turn(snap, parent.number + 1, who->addr),
        .epoch = snap->epoch,
        .signers = (const uint8_t(*)[20])snap->signers,
        .n_signers = snap->n_signers,
    };
    const char *w;
    ck_assert_int_eq(ethd_sealer_build(&ethd_chain_genesis(e->c)->config, &parent, ph, &p, &h, &w),
                     0);
    if (vote_addr) {
        memcpy(h.coinbase, vote_addr, 20);
        memset(h.nonce, authorize ? 0xff : 0x00, 8);
    }
    ck_assert_int_eq(ethd_sealer_sign(e->secp, &h, who->key), 0);
    int rc = insert(e, &h, res);
    if (rc == 0) {
        uint8_t hh[32], (*cs)[20];
        size_t n;
        ck_assert_int_eq(ethd_header_hash(&h, hh), 0);
        ck_assert_int_eq(ethd_sealer_snap_update(snap, e->ci, e->c, e->secp, h.number, hh, why,
                                                 sizeof why),
                         0);
        ck_assert_int_eq(ethd_chain_clique_signers(e->c, hh, h.number, &cs, &n), 0);
        ck_assert_uint_eq(n, snap->n_signers);
        ck_assert_msg(memcmp(cs, snap->signers, 20 * n) == 0,
                      "block %llu: signer sets differ", (unsigned long long)h.number);
        free(cs);
    }
    ethd_header_free(&h);
    ethd_header_free(&parent);
    return rc;
}

/* Who seals the block after the head: the in-turn signer if it may (not
 * excluded, not recent), else the first signer that may; -1 if none. */
static int pick(struct env *e, struct ethd_sealer_snap *snap, const struct signer *all,
                size_t n_all, const bool *exclude)
{
    struct ethd_chain_head head;
    char why[256];
    ethd_chain_head_header(e->c, &head);
    ck_assert_int_eq(ethd_sealer_snap_update(snap, e->ci, e->c, e->secp, head.number, head.hash,
                                             why, sizeof why),
                     0);
    int best = -1;
    for (size_t i = 0; i < n_all; i++) {
        bool recent;
        if (exclude[i] || !ethd_sealer_snap_is_signer(snap, all[i].addr, NULL))
            continue;
        ck_assert_int_eq(
            ethd_sealer_snap_recent(snap, e->ci, e->c, e->secp, all[i].addr, &recent, NULL), 0);
        if (recent)
            continue;
        if (ethd_sealer_snap_in_turn(snap, head.number + 1, all[i].addr))
            return (int)i;
        if (best < 0)
            best = (int)i;
    }
    return best;
}

START_TEST(test_votes_turns_and_recents)
{
    struct ethd_secp *secp;
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    struct signer sg[4];
    for (int i = 0; i < 4; i++) {
        /* keccak("sealer-test-i") as keys */
        char label[32];
        snprintf(label, sizeof label, "sealer-test-%d", i);
        ethd_keccak256(label, strlen(label), sg[i].key);
        addr_of(secp, sg[i].key, sg[i].addr);
    }
    uint8_t gs[3][20];
    for (int i = 0; i < 3; i++)
        memcpy(gs[i], sg[i].addr, 20);
    size_t len;
    char *gj = clique_genesis(gs, 3, 30000, &len);
    struct env e;
    env_init(&e, gj, len);
    struct ethd_sealer_snap snap;
    ethd_sealer_snap_init(&snap, 30000);
    struct ethd_chain_insert_result res;
    const struct signer *d = &sg[3];

    /* Block 1 by the in-turn signer. */
    bool no_d[4] = {false, false, false, true};
    int i1 = pick(&e, &snap, sg, 4, no_d);
    ck_assert_int_ge(i1, 0);
    const struct signer *s1 = &sg[i1];
    ck_assert(ethd_sealer_snap_in_turn(&snap, 1, s1->addr));
    ck_assert_int_eq(seal_by(&e, &snap, s1, NULL, false, &res), 0);
    /* It signed the last block: with 3 signers it is "recent" (window 1),
     * and the chain agrees. */
    bool recent = false;
    uint64_t last = 0;
    ck_assert_int_eq(ethd_sealer_snap_recent(&snap, e.ci, e.c, e.secp, s1->addr, &recent, &last),
                     0);
    ck_assert(recent);
    ck_assert_uint_eq(last, 1);
    ck_assert_int_ne(seal_by(&e, &snap, s1, NULL, false, &res), 0);
    ck_assert_msg(strstr(res.reason, "recent") != NULL, "%s", res.reason);
    /* An out-of-turn signer that is not recent seals with difficulty 1. */
    const struct signer *other = NULL;
    for (int i = 0; i < 3; i++)
        if (&sg[i] != s1 && !ethd_sealer_snap_in_turn(&snap, 2, sg[i].addr))
            other = &sg[i];
    ck_assert_ptr_nonnull(other);
    ck_assert(!ethd_sealer_snap_in_turn(&snap, 2, other->addr));
    ck_assert_int_eq(ethd_sealer_snap_recent(&snap, e.ci, e.c, e.secp, other->addr, &recent, NULL),
                     0);
    ck_assert(!recent);
    ck_assert_int_eq(seal_by(&e, &snap, other, NULL, false, &res), 0);
    struct ethd_header h;
    ck_assert_int_eq(ethd_chain_header_by_number(e.c, 2, &h), 0);
    ck_assert_uint_eq(h.difficulty[31], 1);
    ethd_header_free(&h);

    /* Votes to add D: the first one opens a tally, a second vote by the
     * same signer does not count twice, one by another signer (2 > 3/2)
     * passes it. */
    ck_assert(!ethd_sealer_snap_is_signer(&snap, d->addr, NULL));
    bool excl[4] = {false, false, false, true};
    int v1 = pick(&e, &snap, sg, 4, excl);
    ck_assert_int_ge(v1, 0);
    ck_assert_int_eq(seal_by(&e, &snap, &sg[v1], d->addr, true, &res), 0);
    ck_assert(!ethd_sealer_snap_is_signer(&snap, d->addr, NULL));
    ck_assert_uint_eq(snap.n_votes, 1);
    /* v1 again (after someone else sealed in between). */
    bool only_v1[4] = {true, true, true, true};
    only_v1[v1] = false;
    while (pick(&e, &snap, sg, 4, only_v1) < 0) {
        excl[v1] = true;
        int w = pick(&e, &snap, sg, 4, excl);
        ck_assert_int_ge(w, 0);
        ck_assert_int_eq(seal_by(&e, &snap, &sg[w], NULL, false, &res), 0);
        excl[v1] = false;
    }
    ck_assert_int_eq(seal_by(&e, &snap, &sg[v1], d->addr, true, &res), 0);
    ck_assert(!ethd_sealer_snap_is_signer(&snap, d->addr, NULL));
    ck_assert_uint_eq(snap.n_votes, 1);
    excl[v1] = true;
    int v2 = pick(&e, &snap, sg, 4, excl);
    ck_assert_int_ge(v2, 0);
    ck_assert_int_eq(seal_by(&e, &snap, &sg[v2], d->addr, true, &res), 0);
    ck_assert(ethd_sealer_snap_is_signer(&snap, d->addr, NULL));
    ck_assert_uint_eq(snap.n_signers, 4);
    ck_assert_uint_eq(snap.n_votes, 0);

    /* D seals, in turn. */
    bool d_sealed = false;
    bool none[4] = {false, false, false, false};
    for (int k = 0; k < 8 && !d_sealed; k++) {
        int w = pick(&e, &snap, sg, 4, none);
        ck_assert_int_ge(w, 0);
        d_sealed = w == 3 && ethd_sealer_snap_in_turn(&snap, snap.number + 1, d->addr);
        ck_assert_int_eq(seal_by(&e, &snap, &sg[w], NULL, false, &res), 0);
    }
    ck_assert(d_sealed);

    /* Votes to drop sg[0] by the three others (3 > 4/2). */
    const uint8_t *target = sg[0].addr;
    bool voted[4] = {true, false, false, false};
    int votes = 0;
    for (int k = 0; k < 20 && votes < 3; k++) {
        int w = pick(&e, &snap, sg, 4, voted);
        if (w >= 0) {
            ck_assert_int_eq(seal_by(&e, &snap, &sg[w], target, false, &res), 0);
            voted[w] = true;
            votes++;
        } else {
            w = pick(&e, &snap, sg, 4, none);
            ck_assert_int_ge(w, 0);
            ck_assert_int_eq(seal_by(&e, &snap, &sg[w], NULL, false, &res), 0);
        }
        ck_assert(votes == 3 || ethd_sealer_snap_is_signer(&snap, target, NULL));
    }
    ck_assert_int_eq(votes, 3);
    ck_assert(!ethd_sealer_snap_is_signer(&snap, target, NULL));
    ck_assert_uint_eq(snap.n_signers, 3);
    /* The dropped signer is refused now. */
    ck_assert_int_ne(seal_by(&e, &snap, &sg[0], NULL, false, &res), 0);
    ck_assert_msg(strstr(res.reason, "unauthorized") != NULL, "%s", res.reason);

    /* A fresh snapshot (rebuilt from the checkpoint) reaches the same set. */
    struct ethd_sealer_snap fresh;
    ethd_sealer_snap_init(&fresh, 30000);
    struct ethd_chain_head head;
    ethd_chain_head_header(e.c, &head);
    char why[256];
    ck_assert_int_eq(ethd_sealer_snap_update(&fresh, e.ci, e.c, e.secp, head.number, head.hash,
                                             why, sizeof why),
                     0);
    ck_assert_uint_eq(fresh.n_signers, snap.n_signers);
    ck_assert_mem_eq(fresh.signers, snap.signers, 20 * snap.n_signers);
    ethd_sealer_snap_free(&fresh);
    ethd_sealer_snap_free(&snap);
    env_free(&e);
    free(gj);
    ethd_secp_free(secp);
}
END_TEST

/* ---- Shanghai, seal hash, keys ---- */

START_TEST(test_shanghai_refused)
{
    struct ethd_chain_config cfg;
    ethd_chain_config_init(&cfg);
    for (int f = ETHD_BF_HOMESTEAD; f <= ETHD_BF_LONDON; f++)
        if (f != ETHD_BF_DAO)
            cfg.fork_block[f] = 0;
    cfg.fork_time[ETHD_TF_SHANGHAI] = 1000;
    struct ethd_header parent, h;
    memset(&parent, 0, sizeof(parent));
    parent.number = 5;
    parent.timestamp = 998;
    parent.gas_limit = 30000000;
    parent.present = ETHD_HDR_BASE_FEE;
    parent.base_fee[31] = 7;
    uint8_t ph[32] = {0};
    struct ethd_sealer_params p = {.period = 1, .in_turn = true};
    const char *why = NULL;
    ck_assert_int_eq(ethd_sealer_build(&cfg, &parent, ph, &p, &h, &why), 0); /* t = 999 */
    ethd_header_free(&h);
    p.now = 1000;
    ck_assert_int_eq(ethd_sealer_build(&cfg, &parent, ph, &p, &h, &why), ETHD_ENOTSUP);
    ck_assert_msg(why && strstr(why, "withdrawals"), "%s", why ? why : "(null)");
    ethd_header_free(&h);
    /* A London parent without a base fee is malformed. */
    parent.present = 0;
    p.now = 0;
    ck_assert_int_eq(ethd_sealer_build(&cfg, &parent, ph, &p, &h, &why), ETHD_EINVAL);
    ethd_header_free(&h);
    /* Period 0 would seal a block with the parent's timestamp. */
    parent.present = ETHD_HDR_BASE_FEE;
    p.period = 0;
    ck_assert_int_eq(ethd_sealer_build(&cfg, &parent, ph, &p, &h, &why), ETHD_EINVAL);
    ethd_header_free(&h);
}
END_TEST

START_TEST(test_seal_hash_and_recover)
{
    struct ethd_secp *secp;
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    struct ethd_header h;
    memset(&h, 0, sizeof(h));
    uint8_t out[32], key[32], addr[20], got[20];
    ck_assert_int_eq(ethd_sealer_seal_hash(&h, out), ETHD_EINVAL); /* no room for a seal */
    ck_assert_int_eq(ethd_header_set_extra(&h, (const uint8_t[97]){0}, 97), 0);
    h.number = 3;
    key_of(DEV_KEY, key);
    addr_of(secp, key, addr);
    ck_assert_int_eq(ethd_sealer_sign(secp, &h, key), 0);
    ck_assert_int_eq(ethd_sealer_recover(secp, &h, got), 0);
    ck_assert_mem_eq(got, addr, 20);
    /* The seal hash leaves the seal out: re-signing gives the same bytes. */
    uint8_t a[32], b[32];
    ck_assert_int_eq(ethd_sealer_seal_hash(&h, a), 0);
    h.extra[96] ^= 1;
    ck_assert_int_eq(ethd_sealer_seal_hash(&h, b), 0);
    ck_assert_mem_eq(a, b, 32);
    /* Any other change moves it, and the signer no longer recovers as ours. */
    h.number = 4;
    h.extra[96] ^= 1;
    ck_assert_int_eq(ethd_sealer_seal_hash(&h, b), 0);
    ck_assert(memcmp(a, b, 32) != 0);
    int rc = ethd_sealer_recover(secp, &h, got);
    ck_assert(rc != 0 || memcmp(got, addr, 20) != 0);
    ethd_header_free(&h);
    ethd_secp_free(secp);
}
END_TEST

START_TEST(test_key_file)
{
    struct ethd_secp *secp;
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    char dir[128], path[200], err[512];
    snprintf(dir, sizeof dir, "%s/k-XXXXXX", base_dir);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/signer.key", dir);
    uint8_t key[32], key2[32], want[32];
    bool gen = true;
    /* Absent, not generating. */
    ck_assert_int_eq(ethd_sealer_key_load(secp, path, false, key, &gen, err, sizeof err),
                     ETHD_ENOTFOUND);
    ck_assert(!gen);
    ck_assert_msg(strstr(err, "generate_key") != NULL, "%s", err);
    /* Generated with 0600, then loaded as is. */
    ck_assert_int_eq(ethd_sealer_key_load(secp, path, true, key, &gen, err, sizeof err), 0);
    ck_assert(gen);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(ethd_sealer_key_load(secp, path, true, key2, &gen, err, sizeof err), 0);
    ck_assert(!gen);
    ck_assert_mem_eq(key, key2, 32);
    /* Readable by others: refused with the fix. */
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(ethd_sealer_key_load(secp, path, false, key2, &gen, err, sizeof err),
                     ETHD_EINVAL);
    ck_assert_msg(strstr(err, "chmod 600") != NULL, "%s", err);
    /* "0x" and a newline are fine; junk is not. */
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "0x%s\n", DEV_KEY);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(ethd_sealer_key_load(secp, path, false, key2, &gen, err, sizeof err), 0);
    key_of(DEV_KEY, want);
    ck_assert_mem_eq(key2, want, 32);
    const char *bad[] = {"zz", DEV_KEY "00", "0000000000000000000000000000000000000000000000000000000000000000",
                         "", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(bad[i], f);
        fclose(f);
        ck_assert_msg(ethd_sealer_key_load(secp, path, false, key2, &gen, err, sizeof err) ==
                          ETHD_EINVAL,
                      "accepted key file '%s'", bad[i]);
        ck_assert_msg(ethd_sealer_key_parse(secp, bad[i], key2) == ETHD_EINVAL, "parsed '%s'",
                      bad[i]);
    }
    ck_assert_int_eq(ethd_sealer_key_parse(secp, "0x" DEV_KEY, key2), 0);
    ck_assert_mem_eq(key2, want, 32);
    /* A directory is not a key file. */
    ck_assert_int_eq(ethd_sealer_key_load(secp, dir, false, key2, &gen, err, sizeof err),
                     ETHD_EINVAL);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    ethd_secp_free(secp);
}
END_TEST

int main(void)
{
    snprintf(base_dir, sizeof base_dir, "/tmp/ethd-sealer-XXXXXX");
    if (!mkdtemp(base_dir))
        return 1;
    Suite *s = suite_create("clique_sealer");
    TCase *tc = tcase_create("dev chain");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_dev_genesis);
    tcase_add_test(tc, test_dev_sequence);
    tcase_add_test(tc, test_period_enforced);
    tcase_add_test(tc, test_unauthorised);
    tcase_add_test(tc, test_gas_limit_target);
    suite_add_tcase(s, tc);
    tc = tcase_create("devnet-a fixture");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fixture_base_fee_and_gas_limit);
    tcase_add_test(tc, test_fixture_london_transition_and_tip);
    suite_add_tcase(s, tc);
    tc = tcase_create("signers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_checkpoint_lists_signers);
    tcase_add_test(tc, test_votes_turns_and_recents);
    suite_add_tcase(s, tc);
    tc = tcase_create("building blocks");
    tcase_add_test(tc, test_shanghai_refused);
    tcase_add_test(tc, test_seal_hash_and_recover);
    tcase_add_test(tc, test_key_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}
