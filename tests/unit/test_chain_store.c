/* Unit tests for the chain store (core/chain/store.c), the consensus-
 * independent checks (core/chain/verify.c) and the chain commands
 * (core/chain/cli_chain.c), on the devnet-a fixture (a 300-block clique
 * chain made by EthereumJS; $ETHD_FIXTURES/devnet-a/README.md):
 *   - init + import with receipts gives every hash, root, bloom and total
 *     difficulty of expected.json; export is byte-identical to chain.rlp;
 *     look-ups by number / hash / transaction; chain/1 raw ranges;
 *   - bad input: a body that does not match its header, a bad seal, an
 *     unauthorised signer, a gap, a different genesis, a truncated file;
 *   - a process killed (SIGKILL) in the middle of an import leaves a
 *     consistent chain, and importing again completes it. */
#include "chain/chain.h"
#include "chain/clique.h"
#include "chain/verify.h"
#include "bus.h"
#include "cli.h"
#include "conf.h"
#include "db/store.h"
#include "log.h"

#include "chain_util.h"

#include <ethd/chain.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NBLOCKS 300

static char base_dir[64];

/* ---- fixture ---- */

struct fixture {
    uint8_t *chain;
    size_t chain_len;
    uint8_t *rcpt;
    size_t rcpt_len;
    char *genesis;
    size_t genesis_len;
    json_t *exp;
    struct ethd_block blocks[NBLOCKS];
    struct ethd_trie_item receipts[NBLOCKS];
    size_t block_off[NBLOCKS + 1]; /* byte offset of each block in chain.rlp */
};

static struct fixture *fixture_load(void)
{
    char p[512];
    struct fixture *f = calloc(1, sizeof(*f));
    ck_assert_ptr_nonnull(f);
    f->chain = cu_read(cu_path("ETHD_FIXTURES", "devnet-a/chain.rlp", p, sizeof p), &f->chain_len);
    f->rcpt = cu_read(cu_path("ETHD_FIXTURES", "devnet-a/receipts.rlp", p, sizeof p), &f->rcpt_len);
    f->genesis = (char *)cu_read(cu_path("ETHD_FIXTURES", "devnet-a/genesis.json", p, sizeof p),
                                 &f->genesis_len);
    f->exp = cu_load_json(cu_path("ETHD_FIXTURES", "devnet-a/expected.json", p, sizeof p));
    const uint8_t *q = f->chain, *r = f->rcpt;
    size_t left = f->chain_len, rleft = f->rcpt_len;
    for (size_t i = 0; i < NBLOCKS; i++) {
        struct ethd_rlp_item it, ri;
        f->block_off[i] = f->chain_len - left;
        ck_assert_int_eq(ethd_rlp_next(&q, &left, &it), 0);
        ck_assert_int_eq(ethd_block_decode_item(&it, &f->blocks[i]), 0);
        ck_assert_uint_eq(f->blocks[i].header.number, i + 1);
        ck_assert_int_eq(ethd_rlp_next(&r, &rleft, &ri), 0);
        f->receipts[i].data = ri.raw;
        f->receipts[i].len = ri.raw_len;
    }
    f->block_off[NBLOCKS] = f->chain_len - left;
    ck_assert_uint_eq(left, 0);
    ck_assert_uint_eq(rleft, 0);
    return f;
}

static void fixture_free(struct fixture *f)
{
    for (size_t i = 0; i < NBLOCKS; i++)
        ethd_block_free(&f->blocks[i]);
    json_decref(f->exp);
    free(f->chain);
    free(f->rcpt);
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

/* ---- temp dirs, store, chain ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_dir(void)
{
    char *d = malloc(128);
    ck_assert_ptr_nonnull(d);
    snprintf(d, 128, "%s/t-XXXXXX", base_dir);
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static struct ethd_store *store_open(const char *dir)
{
    struct ethd_store *st;
    char err[256], db[200];
    snprintf(db, sizeof db, "%s/chaindata", dir);
    ck_assert_msg(ethd_store_open(db, NULL, &st, err, sizeof err) == 0, "%s", err);
    return st;
}

static struct ethd_chain *chain_open(struct ethd_store *st, const char *genesis, size_t len)
{
    struct ethd_chain *c;
    char err[512];
    int rc = ethd_chain_open(st, genesis, len, "genesis.json", NULL, &c, err, sizeof err);
    ck_assert_msg(rc == 0, "chain open: %s", err);
    return c;
}

/* Insert blocks [from, to) (0-based indexes) in batches of `batch`. */
static void import_range(struct ethd_chain *c, struct fixture *f, size_t from, size_t to,
                         size_t batch, bool with_receipts)
{
    for (size_t i = from; i < to; i += batch) {
        size_t n = to - i < batch ? to - i : batch;
        struct ethd_chain_insert_result res;
        int rc = ethd_chain_insert_blocks(c, &f->blocks[i], with_receipts ? &f->receipts[i] : NULL,
                                          n, &res);
        ck_assert_msg(rc == 0, "insert at %zu: block %llu: %s", i + 1,
                      (unsigned long long)res.bad_number, res.reason);
        ck_assert_uint_eq(res.n_done, n);
    }
}

static void hex_eq(const uint8_t *got, size_t n, const char *want_hex, const char *what,
                   size_t number)
{
    uint8_t want[64];
    cu_hex_fixed(want_hex, want, n);
    ck_assert_msg(memcmp(got, want, n) == 0, "block %zu: %s differs", number, what);
}

/* ---- tests: the fixture round trip ---- */

START_TEST(test_fixture_roundtrip)
{
    struct fixture *f = fixture_load();
    char *dir = tmp_dir();
    struct ethd_store *st = store_open(dir);
    struct ethd_chain *c = chain_open(st, f->genesis, f->genesis_len);
    const struct ethd_chain_iface_v1 *ci = ethd_chain_iface();

    /* Genesis. */
    uint8_t gh[32];
    ci->genesis_hash(c, gh);
    hex_eq(gh, 32, cu_str(f->exp, "genesisHash"), "genesis hash", 0);
    struct ethd_chain_head h;
    ci->head_header(c, &h);
    ck_assert_uint_eq(h.number, 0);
    ck_assert_uint_eq(ci->network_id(c), 1337801);
    struct ethd_forkid id;
    ci->fork_id(c, &id);
    hex_eq(id.hash, 4, cu_str(json_object_get(f->exp, "forkIdAtGenesis"), "hash"), "fork id", 0);
    ck_assert_uint_eq(id.next, 5);

    import_range(c, f, 0, NBLOCKS, 64, true);

    /* Every block as expected.json says. */
    for (size_t n = 1; n <= NBLOCKS; n++) {
        const json_t *e = exp_block(f, n);
        uint8_t hash[32], td[32], want_td[32], bh[32];
        ck_assert_int_eq(ci->hash_by_number(c, n, hash), 0);
        hex_eq(hash, 32, cu_str(e, "hash"), "hash", n);
        struct ethd_header hd;
        ck_assert_int_eq(ci->header_by_number(c, n, &hd), 0);
        hex_eq(hd.state_root, 32, cu_str(e, "stateRoot"), "stateRoot", n);
        hex_eq(hd.tx_root, 32, cu_str(e, "transactionsRoot"), "transactionsRoot", n);
        hex_eq(hd.receipts_root, 32, cu_str(e, "receiptsRoot"), "receiptsRoot", n);
        ethd_keccak256(hd.bloom, 256, bh);
        hex_eq(bh, 32, cu_str(e, "logsBloomHash"), "logsBloomHash", n);
        ethd_header_free(&hd);
        ck_assert_int_eq(ci->header_by_hash(c, hash, &hd), 0);
        ck_assert_uint_eq(hd.number, n);
        ethd_header_free(&hd);
        ck_assert_int_eq(ci->td_by_hash(c, hash, td), 0);
        cu_u256(cu_str(e, "totalDifficulty"), want_td);
        ck_assert_msg(memcmp(td, want_td, 32) == 0, "block %zu: total difficulty", n);
        unsigned flags;
        ck_assert_int_eq(ci->block_status(c, hash, &flags), 0);
        ck_assert_uint_eq(flags, ETHD_CHAIN_HAS_HEADER | ETHD_CHAIN_HAS_BODY |
                                     ETHD_CHAIN_HAS_RECEIPTS | ETHD_CHAIN_CANONICAL);
        /* The stored receipts are the wire lists that were given. */
        struct ethd_buf rb = ETHD_BUF_INIT;
        ck_assert_int_eq(ci->raw_receipts_by_hash(c, hash, &rb), 0);
        ck_assert_uint_eq(rb.len, f->receipts[n - 1].len);
        ck_assert(memcmp(rb.data, f->receipts[n - 1].data, rb.len) == 0);
        ethd_buf_free(&rb);
        /* Every transaction is found at its place. */
        const json_t *txs = json_object_get(e, "txHashes");
        for (size_t k = 0; k < json_array_size(txs); k++) {
            uint8_t th[32], blk[32];
            uint64_t num;
            uint32_t idx;
            cu_hex_fixed(json_string_value(json_array_get(txs, k)), th, 32);
            ck_assert_int_eq(ci->tx_lookup(c, th, &num, blk, &idx), 0);
            ck_assert_uint_eq(num, n);
            ck_assert_uint_eq(idx, k);
            ck_assert(memcmp(blk, hash, 32) == 0);
        }
    }
    ci->head_header(c, &h);
    const json_t *head = json_object_get(f->exp, "head");
    ck_assert_uint_eq(h.number, 300);
    hex_eq(h.hash, 32, cu_str(head, "hash"), "head hash", 300);
    uint8_t td259[32];
    cu_u256("0x259", td259);
    ck_assert(memcmp(h.td, td259, 32) == 0);
    struct ethd_chain_head hb;
    ci->head_block(c, &hb);
    ck_assert(memcmp(&hb, &h, sizeof h) == 0);
    ci->fork_id(c, &id);
    hex_eq(id.hash, 4, cu_str(json_object_get(f->exp, "forkId"), "hash"), "fork id at head", 300);
    ck_assert_uint_eq(id.next, 0);
    ck_assert_int_eq(ci->validate_fork_id(c, &id), ETHD_FORKID_ACCEPT);

    /* Export 1..300 is chain.rlp, byte for byte. */
    struct ethd_buf out = ETHD_BUF_INIT;
    for (size_t n = 1; n <= NBLOCKS; n++) {
        uint8_t hash[32];
        ck_assert_int_eq(ci->hash_by_number(c, n, hash), 0);
        ck_assert_int_eq(ci->raw_block_by_hash(c, hash, &out), 0);
    }
    ck_assert_uint_eq(out.len, f->chain_len);
    ck_assert(memcmp(out.data, f->chain, f->chain_len) == 0);

    /* Raw header ranges: forward contiguous (iterators), reverse with skip,
     * the byte cap, and a skip that would overflow. */
    struct ethd_buf hr = ETHD_BUF_INIT, want = ETHD_BUF_INIT;
    uint64_t got;
    ck_assert_int_eq(ci->raw_headers_by_number(c, 1, 300, 0, false, SIZE_MAX, &hr, &got), 0);
    ck_assert_uint_eq(got, 300);
    for (size_t i = 0; i < NBLOCKS; i++)
        ethd_buf_append(&want, f->blocks[i].header_raw, f->blocks[i].header_raw_len);
    ck_assert_uint_eq(hr.len, want.len);
    ck_assert(memcmp(hr.data, want.data, want.len) == 0);
    ethd_buf_reset(&hr);
    ck_assert_int_eq(ci->raw_headers_by_number(c, 300, 10, 49, true, SIZE_MAX, &hr, &got), 0);
    ck_assert_uint_eq(got, 7); /* 300, 250, ..., 50, 0 (genesis) */
    ck_assert(memcmp(hr.data, f->blocks[299].header_raw, f->blocks[299].header_raw_len) == 0);
    ethd_buf_reset(&hr);
    ck_assert_int_eq(ci->raw_headers_by_number(c, 250, 100, 0, false, 1, &hr, &got), 0);
    ck_assert_uint_eq(got, 1); /* at least one, then the cap */
    ethd_buf_reset(&hr);
    ck_assert_int_eq(
        ci->raw_headers_by_number(c, 5, 3, UINT64_MAX - 2, false, SIZE_MAX, &hr, &got), 0);
    ck_assert_uint_eq(got, 1);
    ethd_buf_reset(&hr);
    ck_assert_int_eq(ci->raw_headers_by_number(c, 301, 3, 0, false, SIZE_MAX, &hr, &got), 0);
    ck_assert_uint_eq(got, 0);
    ethd_buf_free(&hr);
    ethd_buf_free(&want);

    /* Unknown items. */
    uint8_t zero[32] = {0}, tmp[32];
    struct ethd_header hd;
    ck_assert_int_eq(ci->hash_by_number(c, 301, tmp), ETHD_ENOTFOUND);
    ck_assert_int_eq(ci->header_by_hash(c, zero, &hd), ETHD_ENOTFOUND);
    uint64_t num;
    uint32_t idx;
    ck_assert_int_eq(ci->tx_lookup(c, zero, &num, tmp, &idx), ETHD_ENOTFOUND);

    /* Importing again is a no-op (resumable), and the heads survive a reopen. */
    struct ethd_chain_insert_result res;
    ck_assert_int_eq(ethd_chain_insert_blocks(c, f->blocks, f->receipts, NBLOCKS, &res), 0);
    ck_assert_uint_eq(res.n_done, NBLOCKS);
    ck_assert_uint_eq(res.n_new, 0);
    ck_assert(!res.head_changed);
    ethd_chain_close(c);
    c = chain_open(st, NULL, 0);
    ci->head_block(c, &hb);
    ck_assert(memcmp(&hb, &h, sizeof h) == 0);
    ethd_chain_close(c);
    ethd_store_close(st);
    ethd_buf_free(&out);
    rm_rf(dir);
    free(dir);
    fixture_free(f);
}
END_TEST

/* Light path: headers first (head block stays), then the bodies fill in. */
START_TEST(test_headers_then_bodies)
{
    struct fixture *f = fixture_load();
    char *dir = tmp_dir();
    struct ethd_store *st = store_open(dir);
    struct ethd_chain *c = chain_open(st, f->genesis, f->genesis_len);
    struct ethd_bus *bus;
    ck_assert_int_eq(ethd_bus_new(&bus), 0);
    ck_assert_int_eq(ethd_chain_attach_bus(c, bus, NULL), 0);

    struct ethd_header *hs = calloc(NBLOCKS, sizeof(*hs));
    for (size_t i = 0; i < NBLOCKS; i++)
        ck_assert_int_eq(ethd_header_copy(&hs[i], &f->blocks[i].header), 0);
    struct ethd_chain_insert_result res;
    ck_assert_int_eq(ethd_chain_insert_headers(c, hs, 100, &res), 0);
    ck_assert_uint_eq(res.n_new, 100);
    struct ethd_chain_head h, hb;
    ethd_chain_head_header(c, &h);
    ethd_chain_head_block(c, &hb);
    ck_assert_uint_eq(h.number, 100);
    ck_assert_uint_eq(hb.number, 0);
    uint8_t hash[32];
    ck_assert_int_eq(ethd_chain_hash_by_number(c, 100, hash), 0);
    ck_assert(memcmp(hash, f->blocks[99].hash, 32) == 0);
    unsigned flags;
    ck_assert_int_eq(ethd_chain_iface()->block_status(c, hash, &flags), 0);
    ck_assert_uint_eq(flags, ETHD_CHAIN_HAS_HEADER | ETHD_CHAIN_CANONICAL);
    /* No body: no transaction index yet. */
    const json_t *txs = json_object_get(exp_block(f, 50), "txHashes");
    uint8_t th[32], blk[32];
    uint64_t num;
    uint32_t idx;
    cu_hex_fixed(json_string_value(json_array_get(txs, 0)), th, 32);
    ck_assert_int_eq(ethd_chain_tx_lookup(c, th, &num, blk, &idx), ETHD_ENOTFOUND);

    /* Bodies for 1..60 move the head block to 60 and index their txs. */
    import_range(c, f, 0, 60, 25, false);
    ethd_chain_head_block(c, &hb);
    ck_assert_uint_eq(hb.number, 60);
    ck_assert_int_eq(ethd_chain_tx_lookup(c, th, &num, blk, &idx), 0);
    ck_assert_uint_eq(num, 50);
    /* Blocks beyond the header head: both heads move. */
    import_range(c, f, 60, NBLOCKS, 100, false);
    ethd_chain_head_header(c, &h);
    ethd_chain_head_block(c, &hb);
    ck_assert_uint_eq(h.number, 300);
    ck_assert_uint_eq(hb.number, 300);
    /* Receipts were not given: empty blocks got [], the others have none. */
    struct ethd_buf rb = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_chain_raw_receipts_by_hash(c, f->blocks[6].hash, &rb), 0); /* #7 empty */
    ck_assert_uint_eq(rb.len, 1);
    ck_assert_int_eq(ethd_chain_raw_receipts_by_hash(c, f->blocks[9].hash, &rb), ETHD_ENOTFOUND);
    /* Adding them later to known blocks works and checks them. */
    struct ethd_chain_insert_result r2;
    ck_assert_int_eq(ethd_chain_insert_blocks(c, &f->blocks[9], &f->receipts[10], 1, &r2),
                     ETHD_EINVAL);
    ck_assert_uint_eq(r2.n_done, 0);
    ck_assert_int_eq(ethd_chain_insert_blocks(c, &f->blocks[9], &f->receipts[9], 1, &r2), 0);
    ck_assert_int_eq(ethd_chain_raw_receipts_by_hash(c, f->blocks[9].hash, &rb), 0);
    ck_assert_uint_eq(rb.len - 1, f->receipts[9].len);
    ethd_buf_free(&rb);

    for (size_t i = 0; i < NBLOCKS; i++)
        ethd_header_free(&hs[i]);
    free(hs);
    ethd_chain_close(c);
    ethd_bus_free(bus);
    ethd_store_close(st);
    rm_rf(dir);
    free(dir);
    fixture_free(f);
}
END_TEST

static int head_events;
static uint64_t head_event_number;

static void on_head(const char *topic, const void *event, void *arg)
{
    const struct ethd_chain_head_event *e = event;
    (void)topic;
    (void)arg;
    head_events++;
    head_event_number = e->header.number;
}

START_TEST(test_head_event)
{
    struct fixture *f = fixture_load();
    char *dir = tmp_dir();
    struct ethd_store *st = store_open(dir);
    struct ethd_chain *c = chain_open(st, f->genesis, f->genesis_len);
    struct ethd_bus *bus;
    uint64_t sub;
    ck_assert_int_eq(ethd_bus_new(&bus), 0);
    ck_assert_int_eq(ethd_bus_subscribe(bus, ETHD_CHAIN_TOPIC_HEAD, on_head, NULL, &sub), 0);
    ck_assert_int_eq(ethd_chain_attach_bus(c, bus, NULL), 0);
    head_events = 0;
    import_range(c, f, 0, 20, 10, true);
    ck_assert_int_eq(head_events, 2);
    ck_assert_uint_eq(head_event_number, 20);
    import_range(c, f, 0, 20, 10, true); /* known blocks: no event */
    ck_assert_int_eq(head_events, 2);
    ethd_chain_close(c);
    ethd_bus_free(bus);
    ethd_store_close(st);
    rm_rf(dir);
    free(dir);
    fixture_free(f);
}
END_TEST

/* ---- tests: consensus-independent header rules ---- */

START_TEST(test_verify_header_rules)
{
    struct fixture *f = fixture_load();
    struct ethd_genesis g;
    char err[256], why[256];
    ck_assert_int_eq(ethd_genesis_parse("g", f->genesis, f->genesis_len, &g, err, sizeof err), 0);
    const struct ethd_header *p9 = &f->blocks[8].header, *p10 = &f->blocks[9].header,
                             *p11 = &f->blocks[10].header;
    /* The London block (10) doubles the parent's gas limit for the check. */
    ck_assert_uint_eq(p9->gas_limit, 15000000);
    ck_assert_uint_eq(p10->gas_limit, 30000000);
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, p10, p9, f->blocks[8].hash, why,
                                              sizeof why), 0);
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, p11, p10, f->blocks[9].hash, why,
                                              sizeof why), 0);
    uint8_t fee[32], gwei[32];
    ethd_chain_u256_from_u64(1000000000, gwei);
    ck_assert_int_eq(ethd_chain_calc_base_fee(&g.config, p9, fee), 0);
    ck_assert(memcmp(fee, gwei, 32) == 0);
    ck_assert(memcmp(p10->base_fee, gwei, 32) == 0);

    struct ethd_header h;
    /* Gas limit moves by parent/1024 or more. */
    ck_assert_int_eq(ethd_header_copy(&h, p11), 0);
    h.gas_limit = p10->gas_limit + p10->gas_limit / 1024;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, &h, p10, f->blocks[9].hash, why,
                                              sizeof why), ETHD_EINVAL);
    ck_assert_msg(strstr(why, "gas limit") != NULL, "%s", why);
    h.gas_limit = p10->gas_limit + p10->gas_limit / 1024 - 1;
    h.base_fee[31] ^= 1;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, &h, p10, f->blocks[9].hash, why,
                                              sizeof why), ETHD_EINVAL);
    ck_assert_msg(strstr(why, "base fee") != NULL, "%s", why);
    h.base_fee[31] ^= 1;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, &h, p10, f->blocks[9].hash, why,
                                              sizeof why), 0);
    /* Base fee missing after London. */
    h.present = 0;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, &h, p10, f->blocks[9].hash, why,
                                              sizeof why), ETHD_EINVAL);
    h.present = ETHD_HDR_BASE_FEE;
    /* Gas used above the limit; below 5000. */
    h.gas_used = h.gas_limit + 1;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, &h, p10, f->blocks[9].hash, why,
                                              sizeof why), ETHD_EINVAL);
    h.gas_used = 0;
    /* Wrong number, wrong parent. */
    h.number = 12;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, &h, p10, f->blocks[9].hash, why,
                                              sizeof why), ETHD_EINVAL);
    h.number = 11;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, true, &h, p10, f->blocks[8].hash, why,
                                              sizeof why), ETHD_EINVAL);
    /* Without clique: timestamp must increase, extra at most 32 bytes. */
    h.timestamp = p10->timestamp;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, false, &h, p10, f->blocks[9].hash, why,
                                              sizeof why), ETHD_EINVAL);
    ck_assert_msg(strstr(why, "timestamp") != NULL, "%s", why);
    h.timestamp = p10->timestamp + 1;
    ck_assert_int_eq(ethd_chain_verify_header(&g.config, false, &h, p10, f->blocks[9].hash, why,
                                              sizeof why), ETHD_EINVAL);
    ck_assert_msg(strstr(why, "extra-data") != NULL, "%s", why);
    ethd_header_free(&h);

    /* Base fee arithmetic: full block +12.5%, empty block -12.5%. */
    struct ethd_header par;
    memset(&par, 0, sizeof par);
    par.number = 20;
    par.present = ETHD_HDR_BASE_FEE;
    par.gas_limit = 30000000;
    ethd_chain_u256_from_u64(1000000000, par.base_fee);
    par.gas_used = 30000000;
    ck_assert_int_eq(ethd_chain_calc_base_fee(&g.config, &par, fee), 0);
    ethd_chain_u256_from_u64(1125000000, gwei);
    ck_assert(memcmp(fee, gwei, 32) == 0);
    par.gas_used = 0;
    ck_assert_int_eq(ethd_chain_calc_base_fee(&g.config, &par, fee), 0);
    ethd_chain_u256_from_u64(875000000, gwei);
    ck_assert(memcmp(fee, gwei, 32) == 0);
    par.gas_used = 15000001; /* tiny excess: at least +1 */
    ethd_chain_u256_from_u64(7, par.base_fee);
    ck_assert_int_eq(ethd_chain_calc_base_fee(&g.config, &par, fee), 0);
    ethd_chain_u256_from_u64(8, gwei);
    ck_assert(memcmp(fee, gwei, 32) == 0);
    ethd_genesis_free(&g);
    fixture_free(f);
}
END_TEST

/* ---- tests: bad input ---- */

/* Import 1..k-1, then a bad block k: refused with its number, prefix kept. */
static void expect_bad(struct ethd_chain *c, struct fixture *f, const struct ethd_block *bad,
                       int want_rc, const char *want_reason)
{
    struct ethd_chain_insert_result res;
    size_t k = bad->header.number;
    struct ethd_block *arr = calloc(k + 1, sizeof(*arr));
    memcpy(arr, f->blocks, (k - 1) * sizeof(*arr));
    arr[k - 1] = *bad;
    arr[k] = f->blocks[k]; /* a good block after it is not reached */
    int rc = ethd_chain_insert_blocks(c, arr, NULL, k + 1, &res);
    ck_assert_int_eq(rc, want_rc);
    ck_assert_int_eq(res.code, want_rc);
    ck_assert_uint_eq(res.n_done, k - 1);
    ck_assert_uint_eq(res.bad_number, k);
    ck_assert_msg(strstr(res.reason, want_reason) != NULL, "reason '%s' lacks '%s'", res.reason,
                  want_reason);
    struct ethd_chain_head h;
    ethd_chain_head_block(c, &h);
    ck_assert_uint_eq(h.number, k - 1);
    ethd_chain_head_header(c, &h);
    ck_assert_uint_eq(h.number, k - 1);
    uint8_t hash[32];
    ck_assert_int_eq(ethd_chain_hash_by_number(c, k, hash), ETHD_ENOTFOUND);
    free(arr);
}

struct env {
    struct fixture *f;
    char *dir;
    struct ethd_store *st;
    struct ethd_chain *c;
};

static void env_open(struct env *e)
{
    e->f = fixture_load();
    e->dir = tmp_dir();
    e->st = store_open(e->dir);
    e->c = chain_open(e->st, e->f->genesis, e->f->genesis_len);
}

static void env_close(struct env *e)
{
    ethd_chain_close(e->c);
    ethd_store_close(e->st);
    rm_rf(e->dir);
    free(e->dir);
    fixture_free(e->f);
}

START_TEST(test_bad_tx_root)
{
    struct env e;
    env_open(&e);
    /* Block 12: drop its last transaction; the header (and seal) stay. */
    struct ethd_block b = e.f->blocks[11];
    ck_assert_uint_gt(b.body.n_txs, 0);
    b.body.n_txs--;
    b.raw = NULL;
    expect_bad(e.c, e.f, &b, ETHD_EINVAL, "transactions root mismatch");
    env_close(&e);
}
END_TEST

START_TEST(test_bad_receipts)
{
    struct env e;
    env_open(&e);
    struct ethd_chain_insert_result res;
    /* Block 3's receipts given for block 2. */
    ck_assert_int_eq(ethd_chain_insert_blocks(e.c, e.f->blocks, e.f->receipts, 1, &res), 0);
    ck_assert_int_eq(ethd_chain_insert_blocks(e.c, &e.f->blocks[1], &e.f->receipts[2], 1, &res),
                     ETHD_EINVAL);
    ck_assert_uint_eq(res.bad_number, 2);
    /* A receipt list with a flipped bloom bit. */
    uint8_t *copy = malloc(e.f->receipts[1].len);
    memcpy(copy, e.f->receipts[1].data, e.f->receipts[1].len);
    struct ethd_rlp_item list, first;
    struct ethd_rlp_iter it;
    ck_assert_int_eq(ethd_rlp_decode(copy, e.f->receipts[1].len, &list), 0);
    ck_assert_int_eq(ethd_rlp_iter_init(&it, &list), 0);
    ck_assert_int_eq(ethd_rlp_iter_next(&it, &first), 0);
    /* The bloom is the 3rd field of [status, gas, bloom, logs]: 256 bytes
     * after a 3-byte b9 0100 prefix; flip a byte inside it. */
    uint8_t *pb = NULL;
    for (size_t i = 0; i + 3 < first.raw_len; i++)
        if (first.raw[i] == 0xb9 && first.raw[i + 1] == 0x01 && first.raw[i + 2] == 0x00) {
            pb = (uint8_t *)first.raw + i + 3;
            break;
        }
    ck_assert_ptr_nonnull(pb);
    pb[100] ^= 0x10;
    struct ethd_trie_item bad = {copy, e.f->receipts[1].len};
    ck_assert_int_eq(ethd_chain_insert_blocks(e.c, &e.f->blocks[1], &bad, 1, &res), ETHD_EINVAL);
    ck_assert_msg(strstr(res.reason, "bloom") != NULL, "%s", res.reason);
    free(copy);
    env_close(&e);
}
END_TEST

START_TEST(test_bad_seal)
{
    struct env e;
    env_open(&e);
    struct ethd_block b = e.f->blocks[4];
    ck_assert_int_eq(ethd_header_copy(&b.header, &e.f->blocks[4].header), 0);
    b.header_raw = NULL;
    b.raw = NULL;
    b.header.extra[b.header.extra_len - 1] = 9; /* v = 9: no key recovers */
    expect_bad(e.c, e.f, &b, ETHD_EINVAL, "bad clique seal");
    /* A flipped byte of s: recovers some other key. */
    b.header.extra[b.header.extra_len - 1] = e.f->blocks[4].header.extra[b.header.extra_len - 1];
    b.header.extra[b.header.extra_len - 10] ^= 0x55;
    expect_bad(e.c, e.f, &b, ETHD_EINVAL, "unauthorized signer");
    ethd_header_free(&b.header);
    env_close(&e);
}
END_TEST

START_TEST(test_unauthorized_signer)
{
    struct env e;
    env_open(&e);
    struct ethd_secp *secp;
    uint8_t key[32], pub[64], addr[20];
    char hx[43], want[80];
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    ck_assert_int_eq(ethd_secp_keygen(secp, key), 0);
    ck_assert_int_eq(ethd_secp_pubkey(secp, key, pub), 0);
    ethd_secp_address(pub, addr);
    ethd_hex_encode(addr, 20, hx);
    snprintf(want, sizeof want, "unauthorized signer %s", hx);
    struct ethd_block b = e.f->blocks[2];
    ck_assert_int_eq(ethd_header_copy(&b.header, &e.f->blocks[2].header), 0);
    b.header_raw = NULL;
    b.raw = NULL;
    b.header.gas_limit -= 1; /* a different header, validly sealed by an outsider */
    ck_assert_int_eq(ethd_clique_seal(secp, &b.header, key), 0);
    expect_bad(e.c, e.f, &b, ETHD_EINVAL, want);
    ethd_header_free(&b.header);
    ethd_secp_free(secp);
    env_close(&e);
}
END_TEST

START_TEST(test_gap)
{
    struct env e;
    env_open(&e);
    struct ethd_chain_insert_result res;
    ck_assert_int_eq(ethd_chain_insert_blocks(e.c, e.f->blocks, NULL, 3, &res), 0);
    /* 5 after 3: its parent (4) is unknown. */
    ck_assert_int_eq(ethd_chain_insert_blocks(e.c, &e.f->blocks[4], NULL, 1, &res),
                     ETHD_ENOTFOUND);
    ck_assert_uint_eq(res.bad_number, 5);
    ck_assert_msg(strstr(res.reason, "unknown parent") != NULL, "%s", res.reason);
    struct ethd_chain_head h;
    ethd_chain_head_block(e.c, &h);
    ck_assert_uint_eq(h.number, 3);
    /* Headers too. */
    ck_assert_int_eq(ethd_chain_insert_headers(e.c, &e.f->blocks[6].header, 1, &res),
                     ETHD_ENOTFOUND);
    env_close(&e);
}
END_TEST

START_TEST(test_other_genesis_refused)
{
    struct env e;
    env_open(&e);
    struct ethd_chain_insert_result res;
    ck_assert_int_eq(ethd_chain_insert_blocks(e.c, e.f->blocks, NULL, 5, &res), 0);
    ethd_chain_close(e.c);
    e.c = NULL;
    /* The same genesis with another timestamp: another genesis hash. */
    char *other = strdup(e.f->genesis);
    char *ts = strstr(other, "0x6553f100");
    ck_assert_ptr_nonnull(ts);
    ts[9] = '1';
    struct ethd_chain *c2 = NULL;
    char err[512];
    int rc = ethd_chain_open(e.st, other, strlen(other), "other.json", NULL, &c2, err, sizeof err);
    ck_assert_int_eq(rc, ETHD_EEXIST);
    ck_assert_ptr_null(c2);
    ck_assert_msg(strstr(err, cu_str(e.f->exp, "genesisHash")) != NULL, "%s", err);
    ck_assert_msg(strstr(err, "other.json") != NULL, "%s", err);
    /* The chain is untouched. */
    e.c = chain_open(e.st, e.f->genesis, e.f->genesis_len);
    struct ethd_chain_head h;
    ethd_chain_head_block(e.c, &h);
    ck_assert_uint_eq(h.number, 5);
    free(other);
    env_close(&e);
}
END_TEST

/* A process killed while it imports leaves the chain at a batch boundary
 * (every insert is one atomic write), and importing again completes it. */
START_TEST(test_crash_resume)
{
    struct fixture *f = fixture_load();
    char *dir = tmp_dir();
    { /* init first, so the child only imports */
        struct ethd_store *st = store_open(dir);
        ethd_chain_close(chain_open(st, f->genesis, f->genesis_len));
        ethd_store_close(st);
    }
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        struct ethd_store *st = store_open(dir);
        struct ethd_chain *c = chain_open(st, NULL, 0);
        for (size_t i = 0; i < NBLOCKS; i += 10) {
            struct ethd_chain_insert_result res;
            if (ethd_chain_insert_blocks(c, &f->blocks[i], &f->receipts[i], 10, &res) != 0)
                _exit(3);
            char b = 1;
            if (write(fds[1], &b, 1) != 1)
                _exit(4);
            if (i >= 50)
                usleep(2000);
        }
        for (;;)
            pause(); /* finished before the kill: wait for it */
    }
    close(fds[1]);
    char b;
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(read(fds[0], &b, 1), 1);
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status));
    close(fds[0]);

    struct ethd_store *st = store_open(dir);
    struct ethd_chain *c = chain_open(st, NULL, 0);
    struct ethd_chain_head h, hb;
    ethd_chain_head_header(c, &h);
    ethd_chain_head_block(c, &hb);
    ck_assert_uint_ge(h.number, 50);
    ck_assert_uint_eq(h.number % 10, 0);
    ck_assert(memcmp(&h, &hb, sizeof h) == 0);
    ck_assert(memcmp(h.hash, f->blocks[h.number - 1].hash, 32) == 0);
    for (uint64_t n = 0; n <= h.number; n++) {
        uint8_t hash[32];
        unsigned flags;
        ck_assert_int_eq(ethd_chain_hash_by_number(c, n, hash), 0);
        ck_assert_int_eq(ethd_chain_iface()->block_status(c, hash, &flags), 0);
        ck_assert_uint_eq(flags, ETHD_CHAIN_HAS_HEADER | ETHD_CHAIN_HAS_BODY |
                                     ETHD_CHAIN_HAS_RECEIPTS | ETHD_CHAIN_CANONICAL);
    }
    uint8_t hash[32];
    ck_assert_int_eq(ethd_chain_hash_by_number(c, h.number + 1, hash), ETHD_ENOTFOUND);
    /* Resume: everything again, the stored prefix is skipped. */
    struct ethd_chain_insert_result res;
    ck_assert_int_eq(ethd_chain_insert_blocks(c, f->blocks, f->receipts, NBLOCKS, &res), 0);
    ck_assert_uint_eq(res.n_done, NBLOCKS);
    ck_assert_uint_eq(res.n_new, NBLOCKS - h.number);
    ethd_chain_head_block(c, &hb);
    ck_assert_uint_eq(hb.number, 300);
    hex_eq(hb.hash, 32, cu_str(json_object_get(f->exp, "head"), "hash"), "head", 300);
    ethd_chain_close(c);
    ethd_store_close(st);
    rm_rf(dir);
    free(dir);
    fixture_free(f);
}
END_TEST

/* ---- tests: the commands, in process ---- */

static int run_cli(const char *dir, const char *cmd, const char *a0, const char *a1,
                   const char *a2, const char *genesis, const char *receipts)
{
    char *argv[12];
    int argc = 0;
    char dd[160];
    snprintf(dd, sizeof dd, "--datadir=%s", dir);
    argv[argc++] = (char *)"ethd";
    argv[argc++] = dd;
    argv[argc++] = (char *)cmd;
    if (a0)
        argv[argc++] = (char *)a0;
    if (a1)
        argv[argc++] = (char *)a1;
    if (a2)
        argv[argc++] = (char *)a2;
    if (genesis) {
        argv[argc++] = (char *)"--genesis";
        argv[argc++] = (char *)genesis;
    }
    if (receipts) {
        argv[argc++] = (char *)"--receipts";
        argv[argc++] = (char *)receipts;
    }
    argv[argc] = NULL;
    struct ethd_cli cli;
    char err[512];
    ck_assert_msg(ethd_cli_parse(argc, argv, &cli, err, sizeof err) == 0, "%s", err);
    struct ethd_conf *conf;
    ck_assert_int_eq(ethd_conf_load_string("t", "node: {mode: dev}\n", 17, &conf, err, sizeof err),
                     0);
    ck_assert_int_eq(ethd_cli_apply(&cli, conf, err, sizeof err), 0);
    struct ethd_log_sink *sink;
    ck_assert_int_eq(ethd_log_sink_open("/dev/null", ETHD_LOG_INFO, &sink, err, sizeof err), 0);
    int status = ethd_chain_cli_main(&cli, conf, sink, NULL);
    ethd_log_sink_close(sink);
    ethd_conf_free(conf);
    return status;
}

START_TEST(test_cli_truncated_and_resume)
{
    struct fixture *f = fixture_load();
    char *dir = tmp_dir();
    char p[512], g[512], r[512], trunc[256], out[256];
    cu_path("ETHD_FIXTURES", "devnet-a/genesis.json", g, sizeof g);
    cu_path("ETHD_FIXTURES", "devnet-a/receipts.rlp", r, sizeof r);
    cu_path("ETHD_FIXTURES", "devnet-a/chain.rlp", p, sizeof p);
    ck_assert_int_eq(run_cli(dir, "init", NULL, NULL, NULL, g, NULL), 0);
    /* Cut the file in the middle of block 150. */
    snprintf(trunc, sizeof trunc, "%s/trunc.rlp", dir);
    FILE *t = fopen(trunc, "wb");
    size_t cut = f->block_off[149] + 17;
    ck_assert_uint_eq(fwrite(f->chain, 1, cut, t), cut);
    fclose(t);
    ck_assert_int_eq(run_cli(dir, "import", trunc, NULL, NULL, NULL, r), 1);
    {
        struct ethd_store *st = store_open(dir);
        struct ethd_chain *c = chain_open(st, NULL, 0);
        struct ethd_chain_head h;
        ethd_chain_head_block(c, &h);
        ck_assert_uint_eq(h.number, 149); /* the valid prefix */
        ethd_chain_close(c);
        ethd_store_close(st);
    }
    /* The whole file resumes from there. */
    ck_assert_int_eq(run_cli(dir, "import", p, NULL, NULL, NULL, r), 0);
    snprintf(out, sizeof out, "%s/out.rlp", dir);
    ck_assert_int_eq(run_cli(dir, "export", out, NULL, NULL, NULL, NULL), 0);
    size_t n;
    uint8_t *data = cu_read(out, &n);
    ck_assert_uint_eq(n, f->chain_len);
    ck_assert(memcmp(data, f->chain, n) == 0);
    free(data);
    /* Partial export range; a range past the head is a usage error. */
    ck_assert_int_eq(run_cli(dir, "export", out, "1", NULL, NULL, NULL), 0);
    ck_assert_int_eq(run_cli(dir, "export", out, "299", "400", NULL, NULL), 2);
    rm_rf(dir);
    free(dir);
    fixture_free(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("chain_store");
    TCase *tc = tcase_create("fixture");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fixture_roundtrip);
    tcase_add_test(tc, test_headers_then_bodies);
    tcase_add_test(tc, test_head_event);
    tcase_add_test(tc, test_verify_header_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_input");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bad_tx_root);
    tcase_add_test(tc, test_bad_receipts);
    tcase_add_test(tc, test_bad_seal);
    tcase_add_test(tc, test_unauthorized_signer);
    tcase_add_test(tc, test_gap);
    tcase_add_test(tc, test_other_genesis_refused);
    tcase_add_test(tc, test_crash_resume);
    tcase_add_test(tc, test_cli_truncated_and_resume);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    snprintf(base_dir, sizeof base_dir, "/tmp/ethd-chain-XXXXXX");
    if (!mkdtemp(base_dir)) {
        perror("mkdtemp");
        return 1;
    }
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rm_rf(base_dir);
    return failed ? 1 : 0;
}
