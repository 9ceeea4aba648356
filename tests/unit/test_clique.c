/* Unit tests for clique (EIP-225, core/chain/clique.c) and for fork choice
 * in the chain store (core/chain/store.c):
 *   - the devnet-a fixture: the signer is recovered for every block, every
 *     block is in turn (difficulty 2); corrupted seals and an outsider's
 *     seal are rejected;
 *   - synthetic chains signed in the test by 3 keys it generates: in-turn /
 *     out-of-turn difficulty, the recent-signer rule, votes adding and
 *     dropping signers, checkpoint signer lists and vote reset, timestamp
 *     >= parent + period, the checkpoint field rules;
 *   - reorgs: the heavier branch becomes canonical and canon and txlookup
 *     are rewritten; equal total difficulty keeps the head. */
#include "chain/chain.h"
#include "chain/clique.h"
#include "chain/verify.h"
#include "db/store.h"

#include "chain_util.h"

#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static char base_dir[64];

static const uint8_t empty_uncles[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47};

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

/* ---- the fixture through the engine ---- */

struct fx {
    uint8_t *chain;
    size_t len;
    struct ethd_block blocks[300];
    struct ethd_genesis g;
};

static struct fx *fx_load(void)
{
    char p[512], err[256];
    struct fx *f = calloc(1, sizeof(*f));
    f->chain = cu_read(cu_path("ETHD_FIXTURES", "devnet-a/chain.rlp", p, sizeof p), &f->len);
    const uint8_t *q = f->chain;
    size_t left = f->len;
    for (size_t i = 0; i < 300; i++) {
        struct ethd_rlp_item it;
        ck_assert_int_eq(ethd_rlp_next(&q, &left, &it), 0);
        ck_assert_int_eq(ethd_block_decode_item(&it, &f->blocks[i]), 0);
    }
    ck_assert_int_eq(ethd_genesis_load(cu_path("ETHD_FIXTURES", "devnet-a/genesis.json", p,
                                               sizeof p),
                                       &f->g, err, sizeof err),
                     0);
    return f;
}

static void fx_free(struct fx *f)
{
    for (size_t i = 0; i < 300; i++)
        ethd_block_free(&f->blocks[i]);
    ethd_genesis_free(&f->g);
    free(f->chain);
    free(f);
}

/* A source over the fixture: genesis and blocks 1..300 by hash. */
static int fx_get(void *arg, const uint8_t hash[32], uint64_t number, struct ethd_header *out)
{
    struct fx *f = arg;
    if (number == 0 && memcmp(hash, f->g.hash, 32) == 0)
        return ethd_header_copy(out, &f->g.header);
    if (number >= 1 && number <= 300 && memcmp(hash, f->blocks[number - 1].hash, 32) == 0)
        return ethd_header_copy(out, &f->blocks[number - 1].header);
    return ETHD_ENOTFOUND;
}

START_TEST(test_fixture_signers)
{
    struct fx *f = fx_load();
    struct ethd_secp *secp;
    struct ethd_clique *c;
    char p[512];
    ck_assert_int_eq(ethd_secp_new(&secp), 0);
    ck_assert_int_eq(ethd_clique_new(secp, f->g.config.clique_period, f->g.config.clique_epoch, &c),
                     0);
    ck_assert_uint_eq(ethd_clique_epoch(c), 30000);
    json_t *exp = cu_load_json(cu_path("ETHD_FIXTURES", "devnet-a/expected.json", p, sizeof p));
    uint8_t signer[20], want[20];
    cu_hex_fixed(cu_str(exp, "signer"), want, 20);
    struct ethd_clique_src src = {fx_get, NULL, f};
    char why[200];
    for (size_t i = 0; i < 300; i++) {
        const struct ethd_header *h = &f->blocks[i].header;
        ck_assert_int_eq(ethd_clique_recover(c, h, f->blocks[i].hash, signer), 0);
        ck_assert_msg(memcmp(signer, want, 20) == 0, "block %zu: signer", i + 1);
        ck_assert_uint_eq(h->difficulty[31], ETHD_CLIQUE_DIFF_INTURN);
        const struct ethd_header *parent = i ? &f->blocks[i - 1].header : &f->g.header;
        const uint8_t *ph = i ? f->blocks[i - 1].hash : f->g.hash;
        ck_assert_msg(ethd_clique_verify(c, h, f->blocks[i].hash, parent, ph, &src, why,
                                         sizeof why) == 0,
                      "block %zu: %s", i + 1, why);
    }
    /* The signer set (from the genesis checkpoint) is that one signer. */
    uint8_t(*signers)[20];
    size_t n;
    ck_assert_int_eq(ethd_clique_signers(c, f->blocks[299].hash, 300, &src, &signers, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert(memcmp(signers[0], want, 20) == 0);
    free(signers);
    /* The seal hash excludes the seal: re-sealing with the right key gives
     * the same signature back (RFC 6979 is deterministic). */
    json_t *keys = cu_load_json(cu_path("ETHD_FIXTURES", "devnet-a/keys.json", p, sizeof p));
    uint8_t key[32];
    cu_hex_fixed(cu_str(json_object_get(keys, "signer"), "privateKey"), key, 32);
    struct ethd_header h;
    ck_assert_int_eq(ethd_header_copy(&h, &f->blocks[41].header), 0);
    memset(h.extra + h.extra_len - 65, 0, 65);
    ck_assert_int_eq(ethd_clique_seal(secp, &h, key), 0);
    uint8_t hh[32];
    ck_assert_int_eq(ethd_header_hash(&h, hh), 0);
    ck_assert(memcmp(hh, f->blocks[41].hash, 32) == 0);
    ethd_header_free(&h);
    json_decref(keys);

    /* A corrupted seal on a fresh engine: rejected. */
    ethd_clique_free(c);
    ck_assert_int_eq(ethd_clique_new(secp, 2, 30000, &c), 0);
    ck_assert_int_eq(ethd_header_copy(&h, &f->blocks[0].header), 0);
    h.extra[h.extra_len - 10] ^= 1; /* inside s: recovers some other key */
    uint8_t fake[32];
    ck_assert_int_eq(ethd_header_hash(&h, fake), 0);
    ck_assert_int_eq(ethd_clique_verify(c, &h, fake, &f->g.header, f->g.hash, &src, why,
                                        sizeof why), ETHD_EINVAL);
    ck_assert_msg(strstr(why, "unauthorized signer") != NULL, "%s", why);
    h.extra[h.extra_len - 1] = 7; /* v out of range */
    ck_assert_int_eq(ethd_header_hash(&h, fake), 0);
    ck_assert_int_eq(ethd_clique_verify(c, &h, fake, &f->g.header, f->g.hash, &src, why,
                                        sizeof why), ETHD_ECRYPTO);
    /* An outsider's valid seal. */
    memcpy(h.extra, f->blocks[0].header.extra, h.extra_len);
    h.timestamp += 1;
    uint8_t other[32];
    ck_assert_int_eq(ethd_secp_keygen(secp, other), 0);
    ck_assert_int_eq(ethd_clique_seal(secp, &h, other), 0);
    ck_assert_int_eq(ethd_header_hash(&h, fake), 0);
    ck_assert_int_eq(ethd_clique_verify(c, &h, fake, &f->g.header, f->g.hash, &src, why,
                                        sizeof why), ETHD_EINVAL);
    ck_assert_msg(strstr(why, "unauthorized signer") != NULL, "%s", why);
    /* The seal must be there at all. */
    h.extra_len = 40;
    ck_assert_int_eq(ethd_clique_verify_fields(c, &h, why, sizeof why), ETHD_EINVAL);
    h.extra_len = 97;
    ethd_header_free(&h);
    json_decref(exp);
    ethd_clique_free(c);
    ethd_secp_free(secp);
    fx_free(f);
}
END_TEST

/* ---- synthetic clique chains through the chain store ---- */

#define NKEYS 4
#define PERIOD 1

struct synth {
    char *dir;
    struct ethd_store *st;
    struct ethd_chain *c;
    struct ethd_secp *secp;
    uint8_t keys[NKEYS][32];
    uint8_t addrs[NKEYS][20]; /* keys 0..2 are the genesis signers; 3 is an outsider */
    uint64_t epoch;
    uint64_t nonce; /* tx nonce counter */
};

static void synth_open(struct synth *s, uint64_t epoch)
{
    memset(s, 0, sizeof(*s));
    s->epoch = epoch;
    ck_assert_int_eq(ethd_secp_new(&s->secp), 0);
    for (int i = 0; i < NKEYS; i++) {
        uint8_t pub[64];
        ck_assert_int_eq(ethd_secp_keygen(s->secp, s->keys[i]), 0);
        ck_assert_int_eq(ethd_secp_pubkey(s->secp, s->keys[i], pub), 0);
        ethd_secp_address(pub, s->addrs[i]);
    }
    /* Keys 0..2 sorted by address, so index = in-turn slot. */
    for (int i = 0; i < 3; i++)
        for (int k = i + 1; k < 3; k++)
            if (memcmp(s->addrs[k], s->addrs[i], 20) < 0) {
                uint8_t t[32], ta[20];
                memcpy(t, s->keys[i], 32);
                memcpy(s->keys[i], s->keys[k], 32);
                memcpy(s->keys[k], t, 32);
                memcpy(ta, s->addrs[i], 20);
                memcpy(s->addrs[i], s->addrs[k], 20);
                memcpy(s->addrs[k], ta, 20);
            }
    char extra[2 + 64 + 3 * 40 + 130 + 1], *w = extra;
    w += sprintf(w, "0x");
    for (int i = 0; i < 32; i++)
        w += sprintf(w, "00");
    for (int i = 0; i < 3; i++) {
        ethd_hex_encode_bare(s->addrs[i], 20, w);
        w += 40;
    }
    for (int i = 0; i < 65; i++)
        w += sprintf(w, "00");
    char json[2048];
    int n = snprintf(json, sizeof json,
                     "{\"config\":{\"chainId\":1337,\"homesteadBlock\":0,\"eip150Block\":0,"
                     "\"eip155Block\":0,\"eip158Block\":0,\"byzantiumBlock\":0,"
                     "\"constantinopleBlock\":0,\"petersburgBlock\":0,\"istanbulBlock\":0,"
                     "\"berlinBlock\":0,\"clique\":{\"period\":%d,\"epoch\":%llu}},"
                     "\"timestamp\":\"0x1000\",\"extraData\":\"%s\",\"gasLimit\":\"0x7a1200\","
                     "\"difficulty\":\"0x1\",\"alloc\":{}}",
                     PERIOD, (unsigned long long)epoch, extra);
    ck_assert_int_lt(n, (int)sizeof json);
    s->dir = malloc(128);
    snprintf(s->dir, 128, "%s/s-XXXXXX", base_dir);
    ck_assert_ptr_nonnull(mkdtemp(s->dir));
    char db[200], err[512];
    snprintf(db, sizeof db, "%s/chaindata", s->dir);
    ck_assert_msg(ethd_store_open(db, NULL, &s->st, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(ethd_chain_open(s->st, json, (size_t)n, "synth", NULL, &s->c, err, sizeof err) ==
                      0,
                  "%s", err);
}

static void synth_close(struct synth *s)
{
    ethd_chain_close(s->c);
    ethd_store_close(s->st);
    ethd_secp_free(s->secp);
    rm_rf(s->dir);
    free(s->dir);
}

/* A block built on `parent` (hash ph), sealed by key `signer`. `list` (n
 * addresses) goes into a checkpoint's extra. `tx` (may be NULL) is one
 * transaction's canonical encoding to carry. The block owns header.extra
 * and body.txs; free with blk_free. */
struct blk {
    struct ethd_block b;
    uint8_t *tx;
    size_t tx_len;
};

static void blk_make(struct synth *s, struct blk *out, const struct ethd_header *parent,
                     const uint8_t ph[32], int signer, uint8_t difficulty, uint64_t dt,
                     const uint8_t *coinbase, bool auth, const uint8_t (*list)[20], size_t n,
                     const uint8_t *tx, size_t tx_len)
{
    memset(out, 0, sizeof(*out));
    struct ethd_header *h = &out->b.header;
    memcpy(h->parent_hash, ph, 32);
    memcpy(h->uncles_hash, empty_uncles, 32);
    if (coinbase)
        memcpy(h->coinbase, coinbase, 20);
    memcpy(h->state_root, parent->state_root, 32);
    memcpy(h->receipts_root, ethd_trie_empty_root, 32);
    h->difficulty[31] = difficulty;
    h->number = parent->number + 1;
    h->gas_limit = parent->gas_limit;
    h->timestamp = parent->timestamp + dt;
    if (auth)
        memset(h->nonce, 0xff, 8);
    size_t el = 32 + n * 20 + 65;
    uint8_t *extra = calloc(1, el);
    if (n)
        memcpy(extra + 32, list, n * 20);
    ck_assert_int_eq(ethd_header_set_extra(h, extra, el), 0);
    free(extra);
    if (tx) {
        out->tx = malloc(tx_len);
        memcpy(out->tx, tx, tx_len);
        out->tx_len = tx_len;
        out->b.body.txs = calloc(1, sizeof(struct ethd_trie_item));
        out->b.body.txs[0].data = out->tx;
        out->b.body.txs[0].len = tx_len;
        out->b.body.n_txs = 1;
        ck_assert_int_eq(ethd_trie_ordered_root(out->b.body.txs, 1, h->tx_root), 0);
        h->gas_used = 21000;
    } else {
        memcpy(h->tx_root, ethd_trie_empty_root, 32);
    }
    if (signer >= 0)
        ck_assert_int_eq(ethd_clique_seal(s->secp, h, s->keys[signer]), 0);
    ck_assert_int_eq(ethd_header_hash(h, out->b.hash), 0);
}

static void blk_free(struct blk *b)
{
    ethd_header_free(&b->b.header);
    free(b->b.body.txs);
    free(b->tx);
}

/* A signed transfer; out gets its canonical encoding, hash its hash. */
static size_t make_tx(struct synth *s, uint8_t *out, size_t cap, uint8_t hash[32])
{
    struct ethd_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = ETHD_TX_LEGACY;
    tx.has_chain_id = true;
    tx.chain_id = 1337;
    tx.nonce = s->nonce++;
    tx.gas_price[31] = 1;
    tx.gas = 21000;
    tx.has_to = true;
    tx.to[19] = 0x42;
    tx.value[31] = 1;
    ck_assert_int_eq(ethd_tx_sign(s->secp, &tx, s->keys[0]), 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    ck_assert_int_eq(ethd_tx_encode(&tx, &b), 0);
    ck_assert_uint_le(b.len, cap);
    memcpy(out, b.data, b.len);
    memcpy(hash, tx.hash, 32);
    size_t n = b.len;
    ethd_buf_free(&b);
    ethd_tx_free(&tx);
    return n;
}

static int insert1(struct synth *s, struct blk *b, struct ethd_chain_insert_result *res)
{
    return ethd_chain_insert_blocks(s->c, &b->b, NULL, 1, res);
}

/* A linear chain extender that tracks the parent. */
struct cursor {
    struct ethd_header h;
    uint8_t hash[32];
};

static void cursor_genesis(struct synth *s, struct cursor *cur)
{
    ck_assert_int_eq(ethd_header_copy(&cur->h, &ethd_chain_genesis(s->c)->header), 0);
    memcpy(cur->hash, ethd_chain_genesis(s->c)->hash, 32);
}

static void cursor_set(struct cursor *cur, const struct blk *b)
{
    ethd_header_free(&cur->h);
    ck_assert_int_eq(ethd_header_copy(&cur->h, &b->b.header), 0);
    memcpy(cur->hash, b->b.hash, 32);
}

/* Extend with a block by `signer` and expect success. */
static void extend(struct synth *s, struct cursor *cur, int signer, uint8_t diff,
                   const uint8_t *coinbase, bool auth, const uint8_t (*list)[20], size_t n)
{
    struct blk b;
    struct ethd_chain_insert_result res;
    blk_make(s, &b, &cur->h, cur->hash, signer, diff, PERIOD, coinbase, auth, list, n, NULL, 0);
    ck_assert_msg(insert1(s, &b, &res) == 0, "block %llu: %s",
                  (unsigned long long)b.b.header.number, res.reason);
    cursor_set(cur, &b);
    blk_free(&b);
}

static void expect_reject(struct synth *s, struct cursor *cur, int signer, uint8_t diff,
                          uint64_t dt, const char *why)
{
    struct blk b;
    struct ethd_chain_insert_result res;
    blk_make(s, &b, &cur->h, cur->hash, signer, diff, dt, NULL, false, NULL, 0, NULL, 0);
    ck_assert_int_ne(insert1(s, &b, &res), 0);
    ck_assert_msg(strstr(res.reason, why) != NULL, "reason '%s' lacks '%s'", res.reason, why);
    blk_free(&b);
}

static size_t signers_now(struct synth *s, const struct cursor *cur, uint8_t (**out)[20])
{
    size_t n;
    ck_assert_int_eq(ethd_chain_clique_signers(s->c, cur->hash, cur->h.number, out, &n), 0);
    return n;
}

START_TEST(test_turns_and_recents)
{
    struct synth s;
    synth_open(&s, 30000);
    struct cursor cur;
    cursor_genesis(&s, &cur);
    /* Block 1: in turn is signer 1 % 3 = 1. */
    expect_reject(&s, &cur, 1, 1, PERIOD, "wrong difficulty");
    expect_reject(&s, &cur, 0, 2, PERIOD, "wrong difficulty");
    expect_reject(&s, &cur, 3, 1, PERIOD, "unauthorized signer");
    expect_reject(&s, &cur, 1, 2, 0, "invalid timestamp");
    extend(&s, &cur, 1, 2, NULL, false, NULL, 0);
    /* Block 2: signer 1 again is too soon (3 signers: once per 2 blocks). */
    expect_reject(&s, &cur, 1, 1, PERIOD, "recently signed");
    extend(&s, &cur, 0, 1, NULL, false, NULL, 0); /* out of turn: difficulty 1 */
    /* Block 3: signer 1 may sign again (out of turn); signer 0 may not. */
    expect_reject(&s, &cur, 0, 2, PERIOD, "recently signed");
    extend(&s, &cur, 1, 1, NULL, false, NULL, 0);
    extend(&s, &cur, 2, 1, NULL, false, NULL, 0); /* 4 % 3 = 1 is in turn; 2 is out */
    struct ethd_chain_head h;
    ethd_chain_head_header(s.c, &h);
    ck_assert_uint_eq(h.number, 4);
    uint8_t td[32];
    ethd_chain_u256_from_u64(1 + 2 + 1 + 1 + 1, td);
    ck_assert(memcmp(h.td, td, 32) == 0);
    /* Non-clique field rules through the store: a non-zero mix digest. */
    struct blk b;
    struct ethd_chain_insert_result res;
    blk_make(&s, &b, &cur.h, cur.hash, -1, 2, PERIOD, NULL, false, NULL, 0, NULL, 0);
    b.b.header.mix_hash[0] = 1;
    ck_assert_int_eq(ethd_clique_seal(s.secp, &b.b.header, s.keys[2]), 0);
    ck_assert_int_eq(ethd_header_hash(&b.b.header, b.b.hash), 0);
    ck_assert_int_eq(insert1(&s, &b, &res), ETHD_EINVAL);
    ck_assert_msg(strstr(res.reason, "mix digest") != NULL, "%s", res.reason);
    blk_free(&b);
    ethd_header_free(&cur.h);
    synth_close(&s);
}
END_TEST

/* Pick a signer for block `num` that is authorised and not recent: the
 * in-turn one when possible. signer_of[k] is the key that sealed block k. */
static int choose(struct synth *s, const struct cursor *cur, const int *signer_of, uint8_t *diff)
{
    uint8_t(*sg)[20];
    size_t n = signers_now(s, cur, &sg);
    uint64_t num = cur->h.number + 1, limit = n / 2 + 1;
    int pick = -1;
    for (size_t slot = 0; slot < n; slot++) {
        size_t sl = (size_t)((num + slot) % n); /* in turn first */
        int key = -1;
        for (int i = 0; i < NKEYS; i++)
            if (memcmp(sg[sl], s->addrs[i], 20) == 0)
                key = i;
        bool recent = false;
        for (uint64_t k = num > limit ? num - limit + 1 : 1; k < num; k++)
            recent |= signer_of[k] == key;
        if (!recent) {
            pick = key;
            *diff = slot == 0 ? 2 : 1;
            break;
        }
    }
    free(sg);
    ck_assert_int_ge(pick, 0);
    return pick;
}

START_TEST(test_votes)
{
    struct synth s;
    synth_open(&s, 30000);
    struct cursor cur;
    cursor_genesis(&s, &cur);
    int signer_of[64];
    memset(signer_of, -1, sizeof signer_of);
    uint8_t(*sg)[20], diff;
    ck_assert_uint_eq(signers_now(&s, &cur, &sg), 3);
    free(sg);
    /* Two of three vote key 3 in (a majority needs > 3/2 votes). */
    int who = choose(&s, &cur, signer_of, &diff);
    extend(&s, &cur, who, diff, s.addrs[3], true, NULL, 0);
    signer_of[1] = who;
    ck_assert_uint_eq(signers_now(&s, &cur, &sg), 3);
    free(sg);
    who = choose(&s, &cur, signer_of, &diff);
    extend(&s, &cur, who, diff, s.addrs[3], true, NULL, 0);
    signer_of[2] = who;
    size_t n = signers_now(&s, &cur, &sg);
    ck_assert_uint_eq(n, 4);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= memcmp(sg[i], s.addrs[3], 20) == 0;
    ck_assert(found);
    free(sg);
    /* Drop key 0: needs > 4/2 = 3 votes, from three different signers
     * (the recent rule makes three consecutive signers distinct). A vote
     * for a candidate that is already in is not counted. */
    for (uint64_t num = 3; num <= 5; num++) {
        who = choose(&s, &cur, signer_of, &diff);
        extend(&s, &cur, who, diff, s.addrs[0], false, NULL, 0);
        signer_of[num] = who;
        n = signers_now(&s, &cur, &sg);
        free(sg);
        ck_assert_uint_eq(n, num < 5 ? 4 : 3);
    }
    n = signers_now(&s, &cur, &sg);
    for (size_t i = 0; i < n; i++)
        ck_assert(memcmp(sg[i], s.addrs[0], 20) != 0);
    free(sg);
    /* Key 0 is no longer authorised. */
    expect_reject(&s, &cur, 0, 1, PERIOD, "unauthorized signer");
    ethd_header_free(&cur.h);
    synth_close(&s);
}
END_TEST

START_TEST(test_checkpoints)
{
    struct synth s;
    synth_open(&s, 4); /* a checkpoint every 4 blocks */
    struct cursor cur;
    cursor_genesis(&s, &cur);
    uint8_t list[3][20];
    memcpy(list, s.addrs, sizeof list);
    /* Block 1..3: one vote for key 3 (not enough: needs 2). */
    extend(&s, &cur, 1, 2, s.addrs[3], true, NULL, 0);
    extend(&s, &cur, 2, 2, NULL, false, NULL, 0);
    extend(&s, &cur, 0, 2, NULL, false, NULL, 0);
    /* Block 4 is a checkpoint: it must list the signers, sorted. */
    struct blk b;
    struct ethd_chain_insert_result res;
    blk_make(&s, &b, &cur.h, cur.hash, 1, 2, PERIOD, NULL, false, NULL, 0, NULL, 0);
    ck_assert_int_eq(insert1(&s, &b, &res), ETHD_EINVAL);
    ck_assert_msg(strstr(res.reason, "checkpoint signer list") != NULL, "%s", res.reason);
    blk_free(&b);
    uint8_t wrong[3][20];
    memcpy(wrong[0], list[1], 20);
    memcpy(wrong[1], list[0], 20);
    memcpy(wrong[2], list[2], 20);
    blk_make(&s, &b, &cur.h, cur.hash, 1, 2, PERIOD, NULL, false, (const uint8_t(*)[20])wrong, 3,
             NULL, 0);
    ck_assert_int_eq(insert1(&s, &b, &res), ETHD_EINVAL);
    blk_free(&b);
    /* No votes at a checkpoint. */
    blk_make(&s, &b, &cur.h, cur.hash, 1, 2, PERIOD, s.addrs[3], false,
             (const uint8_t(*)[20])list, 3, NULL, 0);
    ck_assert_int_eq(insert1(&s, &b, &res), ETHD_EINVAL);
    ck_assert_msg(strstr(res.reason, "beneficiary") != NULL, "%s", res.reason);
    blk_free(&b);
    blk_make(&s, &b, &cur.h, cur.hash, 1, 2, PERIOD, NULL, true, (const uint8_t(*)[20])list, 3,
             NULL, 0);
    ck_assert_int_eq(insert1(&s, &b, &res), ETHD_EINVAL);
    blk_free(&b);
    extend(&s, &cur, 1, 2, NULL, false, (const uint8_t(*)[20])list, 3);
    /* A signer list outside a checkpoint is refused. */
    blk_make(&s, &b, &cur.h, cur.hash, 2, 2, PERIOD, NULL, false, (const uint8_t(*)[20])list, 3,
             NULL, 0);
    ck_assert_int_eq(insert1(&s, &b, &res), ETHD_EINVAL);
    blk_free(&b);
    /* Votes were reset: one more vote for key 3 is again just one. */
    extend(&s, &cur, 2, 2, s.addrs[3], true, NULL, 0);
    uint8_t(*sg)[20];
    ck_assert_uint_eq(signers_now(&s, &cur, &sg), 3);
    free(sg);
    extend(&s, &cur, 0, 2, s.addrs[3], true, NULL, 0);
    ck_assert_uint_eq(signers_now(&s, &cur, &sg), 4);
    free(sg);
    /* The snapshot survives a reopen (rebuilt from the stored headers). */
    ethd_chain_close(s.c);
    char err[256];
    ck_assert_int_eq(ethd_chain_open(s.st, NULL, 0, NULL, NULL, &s.c, err, sizeof err), 0);
    ck_assert_uint_eq(signers_now(&s, &cur, &sg), 4);
    free(sg);
    ethd_header_free(&cur.h);
    synth_close(&s);
}
END_TEST

/* Snapshot blobs (what the chain persists every 1024 blocks) carry the
 * signers, recents and open votes: an engine that only has the blob for
 * block 6 continues exactly as one that walked from genesis. */
struct blob_src {
    struct synth *s;
    uint8_t hash[32];
    struct ethd_buf blob;
};

static int chain_src_get(void *arg, const uint8_t hash[32], uint64_t number,
                         struct ethd_header *out)
{
    struct synth *s = arg;
    (void)number;
    return ethd_chain_header_by_hash(s->c, hash, out);
}

static int none_get(void *arg, const uint8_t hash[32], uint64_t number, struct ethd_header *out)
{
    (void)arg;
    (void)hash;
    (void)number;
    (void)out;
    return ETHD_ENOTFOUND;
}

static int blob_load(void *arg, const uint8_t hash[32], uint8_t **data, size_t *len)
{
    struct blob_src *b = arg;
    if (memcmp(hash, b->hash, 32) != 0)
        return ETHD_ENOTFOUND;
    *data = malloc(b->blob.len);
    memcpy(*data, b->blob.data, b->blob.len);
    *len = b->blob.len;
    return 0;
}

START_TEST(test_snapshot_blob)
{
    struct synth s;
    synth_open(&s, 30000);
    struct cursor cur;
    cursor_genesis(&s, &cur);
    extend(&s, &cur, 1, 2, NULL, false, NULL, 0);
    extend(&s, &cur, 2, 2, NULL, false, NULL, 0);
    extend(&s, &cur, 0, 2, s.addrs[3], true, NULL, 0); /* one open vote for key 3 */
    struct ethd_clique *e1, *e2;
    ck_assert_int_eq(ethd_clique_new(s.secp, PERIOD, 30000, &e1), 0);
    ck_assert_int_eq(ethd_clique_new(s.secp, PERIOD, 30000, &e2), 0);
    struct ethd_clique_src src1 = {chain_src_get, NULL, &s};
    struct blob_src bs = {&s, {0}, ETHD_BUF_INIT};
    memcpy(bs.hash, cur.hash, 32);
    ck_assert_int_eq(ethd_clique_snapshot_blob(e1, cur.hash, 3, &src1, &bs.blob), 0);
    struct ethd_clique_src src2 = {none_get, blob_load, &bs};
    uint8_t(*a)[20], (*b)[20];
    size_t na, nb;
    ck_assert_int_eq(ethd_clique_signers(e1, cur.hash, 3, &src1, &a, &na), 0);
    ck_assert_int_eq(ethd_clique_signers(e2, cur.hash, 3, &src2, &b, &nb), 0);
    ck_assert_uint_eq(na, 3);
    ck_assert_uint_eq(nb, 3);
    ck_assert(memcmp(a, b, 3 * 20) == 0);
    free(a);
    free(b);
    char why[200];
    struct blk blk;
    /* Recents came along: key 0 sealed #3, so it may not seal #4. */
    blk_make(&s, &blk, &cur.h, cur.hash, 0, 1, PERIOD, NULL, false, NULL, 0, NULL, 0);
    ck_assert_int_eq(ethd_clique_verify(e2, &blk.b.header, blk.b.hash, &cur.h, cur.hash, &src2,
                                        why, sizeof why), ETHD_EINVAL);
    ck_assert_msg(strstr(why, "recently signed") != NULL, "%s", why);
    blk_free(&blk);
    /* Votes came along: a second vote for key 3 passes. */
    blk_make(&s, &blk, &cur.h, cur.hash, 1, 2, PERIOD, s.addrs[3], true, NULL, 0, NULL, 0);
    ck_assert_msg(ethd_clique_verify(e2, &blk.b.header, blk.b.hash, &cur.h, cur.hash, &src2, why,
                                     sizeof why) == 0, "%s", why);
    ck_assert_int_eq(ethd_clique_signers(e2, blk.b.hash, 4, &src2, &b, &nb), 0);
    ck_assert_uint_eq(nb, 4);
    free(b);
    blk_free(&blk);
    /* A damaged blob is refused, not trusted. */
    struct ethd_clique *e3;
    ck_assert_int_eq(ethd_clique_new(s.secp, PERIOD, 30000, &e3), 0);
    bs.blob.len -= 3;
    ck_assert_int_ne(ethd_clique_signers(e3, cur.hash, 3, &src2, &b, &nb), 0);
    bs.blob.len += 3;
    bs.blob.data[4] ^= 1; /* the number inside no longer matches */
    ck_assert_int_ne(ethd_clique_signers(e3, cur.hash, 3, &src2, &b, &nb), 0);
    ethd_clique_free(e1);
    ethd_clique_free(e2);
    ethd_clique_free(e3);
    ethd_buf_free(&bs.blob);
    ethd_header_free(&cur.h);
    synth_close(&s);
}
END_TEST

/* The chain persists the snapshot of every 1024th block in the same write
 * as the block, and a reopened chain continues from it. */
START_TEST(test_persisted_snapshot)
{
    struct synth s;
    synth_open(&s, 30000);
    struct cursor cur;
    cursor_genesis(&s, &cur);
    enum { B = 128 };
    struct blk bl[B];
    struct ethd_block arr[B];
    uint8_t h1023[32], h1024[32];
    for (uint64_t start = 1; start <= 1030; start += B) {
        size_t n = 0;
        for (uint64_t num = start; num < start + B && num <= 1030; num++, n++) {
            const struct ethd_header *ph = n ? &bl[n - 1].b.header : &cur.h;
            const uint8_t *phash = n ? bl[n - 1].b.hash : cur.hash;
            blk_make(&s, &bl[n], ph, phash, (int)(num % 3), 2, PERIOD, NULL, false, NULL, 0,
                     NULL, 0);
            arr[n] = bl[n].b;
            if (num == 1023)
                memcpy(h1023, bl[n].b.hash, 32);
            if (num == 1024)
                memcpy(h1024, bl[n].b.hash, 32);
        }
        struct ethd_chain_insert_result res;
        ck_assert_msg(ethd_chain_insert_blocks(s.c, arr, NULL, n, &res) == 0, "%s", res.reason);
        cursor_set(&cur, &bl[n - 1]);
        for (size_t i = 0; i < n; i++)
            blk_free(&bl[i]);
    }
    struct ethd_store_cf *cf;
    uint8_t *v;
    size_t vl;
    ck_assert_int_eq(ethd_store_cf(s.st, "clique", &cf), 0);
    ck_assert_int_eq(ethd_store_get(s.st, cf, h1023, 32, &v, &vl), ETHD_ENOTFOUND);
    ck_assert_int_eq(ethd_store_get(s.st, cf, h1024, 32, &v, &vl), 0);
    ck_assert(vl > 48 && memcmp(v, "CLQ1", 4) == 0);
    free(v);
    ethd_chain_close(s.c);
    char err[256];
    ck_assert_int_eq(ethd_chain_open(s.st, NULL, 0, NULL, NULL, &s.c, err, sizeof err), 0);
    extend(&s, &cur, 1031 % 3, 2, NULL, false, NULL, 0);
    uint8_t(*sg)[20];
    ck_assert_uint_eq(signers_now(&s, &cur, &sg), 3);
    free(sg);
    ethd_header_free(&cur.h);
    synth_close(&s);
}
END_TEST

/* ---- reorgs ---- */

static void lookup_is(struct synth *s, const uint8_t th[32], uint64_t want_num,
                      const uint8_t want_hash[32])
{
    uint64_t num;
    uint8_t bh[32];
    uint32_t idx;
    int rc = ethd_chain_tx_lookup(s->c, th, &num, bh, &idx);
    if (!want_hash) {
        ck_assert_int_eq(rc, ETHD_ENOTFOUND);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(num, want_num);
    ck_assert(memcmp(bh, want_hash, 32) == 0);
    ck_assert_uint_eq(idx, 0);
}

static void canon_is(struct synth *s, uint64_t n, const uint8_t *want)
{
    uint8_t h[32];
    int rc = ethd_chain_hash_by_number(s->c, n, h);
    if (!want) {
        ck_assert_int_eq(rc, ETHD_ENOTFOUND);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(memcmp(h, want, 32) == 0, "canon[%llu]", (unsigned long long)n);
}

START_TEST(test_reorg)
{
    struct synth s;
    synth_open(&s, 30000);
    struct cursor base;
    cursor_genesis(&s, &base);
    extend(&s, &base, 1, 2, NULL, false, NULL, 0);
    extend(&s, &base, 2, 2, NULL, false, NULL, 0); /* common ancestor: #2 */

    uint8_t t1[200], t2[200], t3[200], h1[32], h2[32], h3[32];
    size_t l1 = make_tx(&s, t1, sizeof t1, h1), l2 = make_tx(&s, t2, sizeof t2, h2),
           l3 = make_tx(&s, t3, sizeof t3, h3);

    /* Branch X: #3..#5 all out of turn (td +3); T3 in #3, T1 in #4. */
    struct blk x[3], y[2], z[3];
    struct ethd_chain_insert_result res;
    blk_make(&s, &x[0], &base.h, base.hash, 1, 1, PERIOD, NULL, false, NULL, 0, t3, l3);
    blk_make(&s, &x[1], &x[0].b.header, x[0].b.hash, 2, 1, PERIOD, NULL, false, NULL, 0, t1, l1);
    blk_make(&s, &x[2], &x[1].b.header, x[1].b.hash, 0, 1, PERIOD, NULL, false, NULL, 0, NULL, 0);
    struct ethd_block xb[3] = {x[0].b, x[1].b, x[2].b};
    ck_assert_msg(ethd_chain_insert_blocks(s.c, xb, NULL, 3, &res) == 0, "%s", res.reason);
    struct ethd_chain_head h;
    ethd_chain_head_header(s.c, &h);
    ck_assert_uint_eq(h.number, 5);
    lookup_is(&s, h3, 3, x[0].b.hash);
    lookup_is(&s, h1, 4, x[1].b.hash);
    lookup_is(&s, h2, 0, NULL);

    /* Branch Y: #3, #4 in turn (td +4 > +3); T2 in #3, T3 in #4. */
    blk_make(&s, &y[0], &base.h, base.hash, 0, 2, PERIOD, NULL, false, NULL, 0, t2, l2);
    ck_assert_msg(insert1(&s, &y[0], &res) == 0, "%s", res.reason);
    ethd_chain_head_header(s.c, &h);
    ck_assert_uint_eq(h.number, 5); /* Y #3: 1+2+2+2 = 7 < X: 1+2+2+3 = 8 */
    blk_make(&s, &y[1], &y[0].b.header, y[0].b.hash, 1, 2, PERIOD, NULL, false, NULL, 0, t3, l3);
    ck_assert_msg(insert1(&s, &y[1], &res) == 0, "%s", res.reason);
    ck_assert(res.head_changed);
    ethd_chain_head_header(s.c, &h); /* Y: 1+2+2+2+2 = 9 > X: 8 */
    uint8_t td[32];
    ethd_chain_u256_from_u64(9, td);
    ck_assert_uint_eq(h.number, 4);
    ck_assert(memcmp(h.td, td, 32) == 0);
    ck_assert(memcmp(h.hash, y[1].b.hash, 32) == 0);
    struct ethd_chain_head hb;
    ethd_chain_head_block(s.c, &hb);
    ck_assert(memcmp(&hb, &h, sizeof h) == 0);
    canon_is(&s, 2, base.hash);
    canon_is(&s, 3, y[0].b.hash);
    canon_is(&s, 4, y[1].b.hash);
    canon_is(&s, 5, NULL);
    lookup_is(&s, h1, 0, NULL);           /* only in X */
    lookup_is(&s, h2, 3, y[0].b.hash);    /* only in Y */
    lookup_is(&s, h3, 4, y[1].b.hash);    /* in both: now Y's place */
    unsigned flags;
    ck_assert_int_eq(ethd_chain_iface()->block_status(s.c, x[2].b.hash, &flags), 0);
    ck_assert_uint_eq(flags, ETHD_CHAIN_HAS_HEADER | ETHD_CHAIN_HAS_BODY |
                                 ETHD_CHAIN_HAS_RECEIPTS); /* kept, not canonical */

    /* Branch Z: the same difficulties as Y but other timestamps: equal td
     * keeps the head; one more block makes Z heavier. */
    blk_make(&s, &z[0], &base.h, base.hash, 0, 2, PERIOD + 1, NULL, false, NULL, 0, NULL, 0);
    blk_make(&s, &z[1], &z[0].b.header, z[0].b.hash, 1, 2, PERIOD, NULL, false, NULL, 0, NULL, 0);
    struct ethd_block zb[2] = {z[0].b, z[1].b};
    ck_assert_msg(ethd_chain_insert_blocks(s.c, zb, NULL, 2, &res) == 0, "%s", res.reason);
    ck_assert(!res.head_changed);
    ethd_chain_head_header(s.c, &h);
    ck_assert(memcmp(h.hash, y[1].b.hash, 32) == 0);
    canon_is(&s, 3, y[0].b.hash);
    /* Headers only for Z's next block: the head header moves to Z, the
     * head block falls back to the common ancestor (Z has bodies: so it
     * follows up to Z #4). */
    blk_make(&s, &z[2], &z[1].b.header, z[1].b.hash, 2, 2, PERIOD, NULL, false, NULL, 0, NULL, 0);
    ck_assert_msg(ethd_chain_insert_headers(s.c, &z[2].b.header, 1, &res) == 0, "%s", res.reason);
    ethd_chain_head_header(s.c, &h);
    ethd_chain_head_block(s.c, &hb);
    ck_assert_uint_eq(h.number, 5);
    ck_assert(memcmp(h.hash, z[2].b.hash, 32) == 0);
    ck_assert_uint_eq(hb.number, 4);
    ck_assert(memcmp(hb.hash, z[1].b.hash, 32) == 0);
    canon_is(&s, 3, z[0].b.hash);
    canon_is(&s, 4, z[1].b.hash);
    lookup_is(&s, h2, 0, NULL);
    lookup_is(&s, h3, 0, NULL);
    /* Its body completes the head block. */
    ck_assert_msg(insert1(&s, &z[2], &res) == 0, "%s", res.reason);
    ethd_chain_head_block(s.c, &hb);
    ck_assert_uint_eq(hb.number, 5);

    for (int i = 0; i < 3; i++) {
        blk_free(&x[i]);
        blk_free(&z[i]);
    }
    blk_free(&y[0]);
    blk_free(&y[1]);
    ethd_header_free(&base.h);
    synth_close(&s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("clique");
    TCase *tc = tcase_create("fixture");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fixture_signers);
    suite_add_tcase(s, tc);
    tc = tcase_create("synthetic");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_turns_and_recents);
    tcase_add_test(tc, test_votes);
    tcase_add_test(tc, test_checkpoints);
    tcase_add_test(tc, test_snapshot_blob);
    tcase_add_test(tc, test_persisted_snapshot);
    suite_add_tcase(s, tc);
    tc = tcase_create("reorg");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_reorg);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    snprintf(base_dir, sizeof base_dir, "/tmp/ethd-clique-XXXXXX");
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
