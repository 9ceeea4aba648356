/* chaingen: write a long, valid clique (EIP-225) chain quickly, for sync
 * tests and benchmarks.
 *
 *   chaingen --blocks N --out DIR [--signers K] [--txs-per-block T]
 *            [--period P] [--epoch E] [--chain-id C] [--timestamp TS]
 *            [--seed S] [--fork-after K]
 *
 * DIR gets:
 *   genesis.json   geth format: clique (period P, epoch E), every fork
 *                  through London at block 0, the K signers in extra-data,
 *                  a prefunded sender and the signers in alloc;
 *   chain.rlp      blocks 1..N, concatenated block RLPs (geth export /
 *                  `ethd import` / EthereumJS --loadBlocksFromRlp format);
 *   receipts.rlp   per block, the eth/66-68 Receipts list (as in the
 *                  devnet-a fixture, for `ethd import --receipts`);
 *   keys.json      the signer keys and the sender key (test keys);
 *   expected.json  genesis hash, head, and every block hash.
 *
 * Block n is sealed by signer n % K of the sorted signer list, which is the
 * in-turn signer (EIP-225 "in-turn": block number mod signer count), so
 * every block has difficulty 2 and no signer signs twice within K/2+1
 * blocks. Timestamps step by P from TS. The gas limit stays at 30M; the
 * base fee follows EIP-1559 from 1 gwei.
 *
 * With T > 0 each block carries T EIP-1559 value transfers from the sender
 * (chain id C, consecutive nonces, priority fee 0, max fee twice the base
 * fee) to eight fixed recipients. The state is small (sender, signers,
 * recipients; no code, no storage), so its root is recomputed exactly per
 * block: the sender pays value + 21000 * base fee (burnt), each recipient
 * gains the value; with a zero tip the block's beneficiary gains nothing,
 * and the signers are prefunded so that "touching" them changes nothing
 * either way (EIP-161). Receipts are type 2, status 1, no logs.
 *
 * Keys are derived from the seed (keccak256 of a label, the seed and an
 * index), so the same arguments give byte-identical files. --fork-after K
 * gives blocks after K another vanity: the same genesis and keys, a
 * different (equally valid) chain from block K+1 on, for fork tests. */
#include "chaingen_build.h"

#include <ethd/block.h>
#include <ethd/buf.h>
#include <ethd/error.h>
#include <ethd/genesis.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>
#include <ethd/trie.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_SIGNERS 256
#define N_RECIPIENTS 8
#define GAS_LIMIT 30000000u
#define TRANSFER_GAS 21000u
#define TRANSFER_VALUE 1000000000u /* 1 gwei */

struct account {
    uint8_t addr[20];
    uint64_t nonce;
    unsigned __int128 balance;
    bool exists;
};

struct gen {
    uint64_t blocks, period, epoch, chain_id, timestamp, seed, txs, fork_after;
    size_t n_signers;
    const char *out;
    struct ethd_secp *secp;
    uint8_t keys[MAX_SIGNERS][32];
    uint8_t signers[MAX_SIGNERS][20]; /* sorted ascending; keys[] in the same order */
    uint8_t sender_key[32];
    /* accounts: [0] sender, [1..K] signers, then the recipients */
    struct account acct[1 + MAX_SIGNERS + N_RECIPIENTS];
    size_t n_acct;
    uint8_t empty_code_hash[32];
    uint8_t (*hashes)[32]; /* hashes[i] = block i+1 */
};

static int usage(void)
{
    fprintf(stderr, "usage: chaingen --blocks N --out DIR [--signers K] [--txs-per-block T]\n"
                    "                [--period P] [--epoch E] [--chain-id C] [--timestamp TS]\n"
                    "                [--seed S] [--fork-after K]\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

/* keccak256(label || seed (8 bytes BE) || index (8 bytes BE)) */
static void derive(const char *label, uint64_t seed, uint64_t index, uint8_t out[32])
{
    struct ethd_keccak k;
    uint8_t b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(seed >> (56 - 8 * i));
        b[8 + i] = (uint8_t)(index >> (56 - 8 * i));
    }
    ethd_keccak_init(&k);
    ethd_keccak_update(&k, label, strlen(label));
    ethd_keccak_update(&k, b, sizeof(b));
    ethd_keccak_final(&k, out);
}

static int derive_key(const struct gen *g, const char *label, uint64_t index, uint8_t key[32],
                      uint8_t addr[20])
{
    uint8_t pub[64];
    /* A hash that is not a valid scalar (probability ~2^-128) moves on. */
    for (uint64_t k = 0; k < 16; k++) {
        derive(label, g->seed, index + (k << 32), key);
        if (ethd_secp_seckey_check(g->secp, key) == 0 && ethd_secp_pubkey(g->secp, key, pub) == 0) {
            ethd_secp_address(pub, addr);
            return 0;
        }
    }
    return ETHD_ECRYPTO;
}

static void u128_be(unsigned __int128 v, uint8_t be[32])
{
    memset(be, 0, 32);
    for (int i = 31; i >= 16; i--, v >>= 8)
        be[i] = (uint8_t)v;
}

static int u256_to_u128(const uint8_t be[32], unsigned __int128 *v)
{
    *v = 0;
    for (int i = 0; i < 32; i++) {
        if (i < 16 && be[i])
            return ETHD_ERANGE;
        if (i >= 16)
            *v = *v << 8 | be[i];
    }
    return 0;
}

/* Secure trie of RLP([nonce, balance, storageRoot, codeHash]) over the
 * existing accounts (Yellow Paper 4.1). */
static int state_root(const struct gen *g, uint8_t root[32])
{
    struct ethd_buf vals[1 + MAX_SIGNERS + N_RECIPIENTS];
    struct ethd_trie_kv kv[1 + MAX_SIGNERS + N_RECIPIENTS] = {{0}};
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < g->n_acct; i++) {
        const struct account *a = &g->acct[i];
        if (!a->exists)
            continue;
        uint8_t bal[32];
        u128_be(a->balance, bal);
        vals[n] = (struct ethd_buf)ETHD_BUF_INIT;
        struct ethd_rlp_enc e;
        ethd_rlp_enc_init(&e, &vals[n]);
        ethd_rlp_list_begin(&e);
        ethd_rlp_uint(&e, a->nonce);
        ethd_rlp_u256(&e, bal);
        ethd_rlp_bytes(&e, ethd_trie_empty_root, 32);
        ethd_rlp_bytes(&e, g->empty_code_hash, 32);
        ethd_rlp_list_end(&e);
        int erc = ethd_rlp_enc_finish(&e);
        if (erc && !rc)
            rc = erc;
        kv[n] = (struct ethd_trie_kv){a->addr, 20, vals[n].data, vals[n].len};
        n++;
    }
    if (!rc)
        rc = ethd_trie_secure_root(kv, n, root);
    for (size_t i = 0; i < n; i++)
        ethd_buf_free(&vals[i]);
    return rc;
}

static int cmp_addr(const void *a, const void *b)
{
    return memcmp(a, b, 20);
}

static int setup_keys(struct gen *g)
{
    struct {
        uint8_t addr[20];
        uint8_t key[32];
    } s[MAX_SIGNERS];
    for (size_t i = 0; i < g->n_signers; i++)
        if (derive_key(g, "ethd chaingen signer", i, s[i].key, s[i].addr))
            return ETHD_ECRYPTO;
    /* EIP-225 checkpoints list signers in ascending order; in-turn is
     * decided by the position in that order. */
    qsort(s, g->n_signers, sizeof(s[0]), cmp_addr);
    for (size_t i = 0; i < g->n_signers; i++) {
        memcpy(g->signers[i], s[i].addr, 20);
        memcpy(g->keys[i], s[i].key, 32);
    }
    explicit_bzero(s, sizeof(s));
    struct account *snd = &g->acct[0];
    if (derive_key(g, "ethd chaingen sender", 0, g->sender_key, snd->addr))
        return ETHD_ECRYPTO;
    snd->balance = (unsigned __int128)1000000000000000ull * 1000000000000000ull; /* 10^30 wei */
    snd->exists = true;
    for (size_t i = 0; i < g->n_signers; i++) {
        struct account *a = &g->acct[1 + i];
        memcpy(a->addr, g->signers[i], 20);
        a->balance = 1000000000000000000ull; /* 1 ether */
        a->exists = true;
    }
    for (size_t i = 0; i < N_RECIPIENTS; i++) {
        uint8_t h[32];
        derive("ethd chaingen recipient", g->seed, i, h);
        memcpy(g->acct[1 + g->n_signers + i].addr, h + 12, 20);
    }
    g->n_acct = 1 + g->n_signers + N_RECIPIENTS;
    return 0;
}

static FILE *open_out(const struct gen *g, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", g->out, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "chaingen: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static void hexs(const uint8_t *p, size_t n, char *buf)
{
    ethd_hex_encode(p, n, buf);
}

static int write_genesis(const struct gen *g)
{
    FILE *f = open_out(g, "genesis.json");
    if (!f)
        return ETHD_EIO;
    char extra[2 + 2 * (32 + 20 * MAX_SIGNERS + 65) + 1] = "0x";
    char *p = extra + 2;
    for (int i = 0; i < 32; i++, p += 2)
        memcpy(p, "00", 2);
    for (size_t i = 0; i < g->n_signers; i++, p += 40)
        ethd_hex_encode_bare(g->signers[i], 20, p);
    for (int i = 0; i < 65; i++, p += 2)
        memcpy(p, "00", 2);
    *p = '\0';
    fprintf(f,
            "{\n  \"config\": {\n    \"chainId\": %" PRIu64 ",\n    \"homesteadBlock\": 0,\n"
            "    \"eip150Block\": 0,\n    \"eip155Block\": 0,\n    \"eip158Block\": 0,\n"
            "    \"byzantiumBlock\": 0,\n    \"constantinopleBlock\": 0,\n"
            "    \"petersburgBlock\": 0,\n    \"istanbulBlock\": 0,\n    \"muirGlacierBlock\": 0,\n"
            "    \"berlinBlock\": 0,\n    \"londonBlock\": 0,\n"
            "    \"clique\": {\n      \"period\": %" PRIu64 ",\n      \"epoch\": %" PRIu64
            "\n    }\n  },\n",
            g->chain_id, g->period, g->epoch);
    fprintf(f,
            "  \"nonce\": \"0x0\",\n  \"timestamp\": \"0x%" PRIx64 "\",\n  \"extraData\": \"%s\",\n"
            "  \"gasLimit\": \"0x%x\",\n  \"difficulty\": \"0x1\",\n"
            "  \"mixHash\": \"0x0000000000000000000000000000000000000000000000000000000000000000\",\n"
            "  \"coinbase\": \"0x0000000000000000000000000000000000000000\",\n"
            "  \"baseFeePerGas\": \"0x3b9aca00\",\n  \"alloc\": {\n",
            g->timestamp, extra, GAS_LIMIT);
    for (size_t i = 0; i < 1 + g->n_signers; i++) {
        char a[48], bal[80];
        uint8_t be[32];
        ethd_hex_encode_bare(g->acct[i].addr, 20, a);
        u128_be(g->acct[i].balance, be);
        ethd_hex_quantity_u256(be, bal);
        fprintf(f, "    \"%s\": {\n      \"balance\": \"%s\"\n    }%s\n", a, bal,
                i == g->n_signers ? "" : ",");
    }
    fprintf(f, "  },\n  \"number\": \"0x0\",\n  \"gasUsed\": \"0x0\",\n"
               "  \"parentHash\": \"0x0000000000000000000000000000000000000000000000000000000000000000\"\n}\n");
    return fclose(f) == 0 ? 0 : ETHD_EIO;
}

static int write_keys(const struct gen *g)
{
    FILE *f = open_out(g, "keys.json");
    if (!f)
        return ETHD_EIO;
    char a[48], k[72];
    fprintf(f, "{\n  \"note\": \"test keys derived from seed %" PRIu64
               "; never use on a real network\",\n  \"signers\": [\n",
            g->seed);
    for (size_t i = 0; i < g->n_signers; i++) {
        hexs(g->signers[i], 20, a);
        hexs(g->keys[i], 32, k);
        fprintf(f, "    {\n      \"address\": \"%s\",\n      \"privateKey\": \"%s\"\n    }%s\n", a,
                k, i + 1 == g->n_signers ? "" : ",");
    }
    hexs(g->acct[0].addr, 20, a);
    hexs(g->sender_key, 32, k);
    fprintf(f,
            "  ],\n  \"sender\": {\n    \"address\": \"%s\",\n    \"privateKey\": \"%s\",\n"
            "    \"nextNonce\": %" PRIu64 "\n  }\n}\n",
            a, k, g->acct[0].nonce);
    return fclose(f) == 0 ? 0 : ETHD_EIO;
}

static int write_expected(const struct gen *g, const struct ethd_genesis *gen,
                          const struct ethd_header *head, const uint8_t head_hash[32])
{
    FILE *f = open_out(g, "expected.json");
    if (!f)
        return ETHD_EIO;
    char h[80], s[80], td[80];
    uint8_t tdb[32];
    /* Genesis difficulty 1, then 2 per block (all in turn). */
    u128_be((unsigned __int128)1 + 2 * (unsigned __int128)g->blocks, tdb);
    ethd_hex_quantity_u256(tdb, td);
    hexs(gen->hash, 32, h);
    fprintf(f, "{\n  \"chainId\": %" PRIu64 ",\n  \"networkId\": %" PRIu64
               ",\n  \"genesisHash\": \"%s\",\n",
            g->chain_id, g->chain_id, h);
    hexs(head_hash, 32, h);
    hexs(head->state_root, 32, s);
    fprintf(f,
            "  \"head\": {\n    \"number\": %" PRIu64 ",\n    \"hash\": \"%s\",\n"
            "    \"stateRoot\": \"%s\",\n    \"totalDifficulty\": \"%s\",\n"
            "    \"timestamp\": %" PRIu64 "\n  },\n  \"totalTxs\": %" PRIu64
            ",\n  \"signers\": [",
            head->number, h, s, td, head->timestamp, g->blocks * g->txs);
    for (size_t i = 0; i < g->n_signers; i++) {
        hexs(g->signers[i], 20, h);
        fprintf(f, "%s\"%s\"", i ? ", " : "", h);
    }
    fprintf(f, "],\n  \"hashes\": [");
    for (uint64_t i = 0; i < g->blocks; i++) {
        hexs(g->hashes[i], 32, h);
        fprintf(f, "%s\n    \"%s\"", i ? "," : "", h);
    }
    fprintf(f, "\n  ]\n}\n");
    return fclose(f) == 0 ? 0 : ETHD_EIO;
}

/* The transfers of one block: fills h's tx root, receipts root, gas used
 * and state root, appends the canonical txs to `txbuf` (their offsets in
 * offs[0..T]) and the block's receipt list to `rcpt`. */
static int add_transfers(struct gen *g, struct ethd_header *h, struct ethd_buf *txbuf,
                         size_t *offs, struct ethd_trie_item *items, struct ethd_receipt *rs,
                         struct ethd_rlp_enc *rcpt)
{
    unsigned __int128 base;
    if (u256_to_u128(h->base_fee, &base) || base >> 64)
        return ETHD_ERANGE;
    ethd_buf_reset(txbuf);
    int rc = 0;
    for (uint64_t j = 0; j < g->txs && !rc; j++) {
        struct account *snd = &g->acct[0];
        struct account *to =
            &g->acct[1 + g->n_signers + (size_t)((snd->nonce) % N_RECIPIENTS)];
        struct ethd_tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.type = ETHD_TX_DYNAMIC_FEE;
        tx.has_chain_id = true;
        tx.chain_id = g->chain_id;
        tx.nonce = snd->nonce;
        u128_be(base * 2, tx.max_fee); /* priority fee stays 0 */
        tx.gas = TRANSFER_GAS;
        tx.has_to = true;
        memcpy(tx.to, to->addr, 20);
        u128_be(TRANSFER_VALUE, tx.value);
        offs[j] = txbuf->len;
        rc = ethd_tx_sign(g->secp, &tx, g->sender_key);
        if (!rc)
            rc = ethd_tx_encode(&tx, txbuf);
        ethd_tx_free(&tx);
        /* EIP-1559: effective price = min(max fee, base + tip) = base; the
         * base fee part is burnt, the tip (0) goes to the beneficiary. */
        unsigned __int128 cost = base * TRANSFER_GAS + TRANSFER_VALUE;
        if (snd->balance < cost)
            return ETHD_ERANGE;
        snd->balance -= cost;
        snd->nonce++;
        to->balance += TRANSFER_VALUE;
        to->exists = true;
        memset(&rs[j], 0, sizeof(rs[j]));
        rs[j].type = ETHD_TX_DYNAMIC_FEE;
        rs[j].status = 1;
        rs[j].cumulative_gas = (j + 1) * TRANSFER_GAS;
    }
    if (rc)
        return rc;
    offs[g->txs] = txbuf->len;
    for (uint64_t j = 0; j < g->txs; j++) {
        items[j].data = txbuf->data + offs[j];
        items[j].len = offs[j + 1] - offs[j];
    }
    if ((rc = ethd_trie_ordered_root(items, g->txs, h->tx_root)))
        return rc;
    if ((rc = ethd_receipts_root(rs, g->txs, h->receipts_root)))
        return rc;
    ethd_rlp_list_begin(rcpt);
    for (uint64_t j = 0; j < g->txs; j++)
        ethd_receipt_encode_rlp(rcpt, &rs[j]);
    ethd_rlp_list_end(rcpt);
    h->gas_used = g->txs * TRANSFER_GAS;
    return state_root(g, h->state_root);
}

static int generate(struct gen *g)
{
    char err[512] = "", path[4096];
    int rc;
    if ((rc = setup_keys(g)))
        return rc;
    if ((rc = write_genesis(g)))
        return rc;
    struct ethd_genesis gen;
    snprintf(path, sizeof(path), "%s/genesis.json", g->out);
    if ((rc = ethd_genesis_load(path, &gen, err, sizeof(err)))) {
        fprintf(stderr, "chaingen: own genesis refused: %s\n", err);
        return rc;
    }
    /* Our state-root code must agree with the genesis loader's before it is
     * trusted for the blocks. */
    uint8_t root[32];
    if ((rc = state_root(g, root)) || memcmp(root, gen.header.state_root, 32) != 0) {
        fprintf(stderr, "chaingen: internal error: genesis state root mismatch\n");
        ethd_genesis_free(&gen);
        return rc ? rc : ETHD_EINVAL;
    }
    FILE *fc = open_out(g, "chain.rlp"), *fr = open_out(g, "receipts.rlp");
    g->hashes = calloc(g->blocks ? g->blocks : 1, 32);
    size_t *offs = calloc(g->txs + 1, sizeof(*offs));
    struct ethd_trie_item *items = calloc(g->txs + 1, sizeof(*items));
    struct ethd_receipt *rs = calloc(g->txs + 1, sizeof(*rs));
    struct ethd_header parent, h;
    uint8_t parent_hash[32];
    struct ethd_buf blk = ETHD_BUF_INIT, txbuf = ETHD_BUF_INIT, rbuf = ETHD_BUF_INIT;
    memset(&h, 0, sizeof(h));
    rc = ethd_header_copy(&parent, &gen.header);
    memcpy(parent_hash, gen.hash, 32);
    if (!fc || !fr || !g->hashes || !offs || !items || !rs)
        rc = rc ? rc : (!fc || !fr) ? ETHD_EIO : ETHD_ENOMEM;
    uint8_t vanity[32] = {0}, fork_vanity[32] = {0};
    memcpy(fork_vanity, "ethd chaingen fork", 18);
    for (uint64_t n = 1; n <= g->blocks && !rc; n++) {
        bool forked = g->fork_after != UINT64_MAX && n > g->fork_after;
        rc = ethd_chaingen_header(&parent, parent_hash, g->period, g->epoch,
                                  forked ? fork_vanity : vanity,
                                  (const uint8_t(*)[20])g->signers, g->n_signers, &h);
        ethd_buf_reset(&rbuf);
        struct ethd_rlp_enc re;
        ethd_rlp_enc_init(&re, &rbuf);
        if (!rc && g->txs)
            rc = add_transfers(g, &h, &txbuf, offs, items, rs, &re);
        if (!rc && !g->txs) {
            ethd_rlp_list_begin(&re);
            ethd_rlp_list_end(&re);
        }
        if (!rc)
            rc = ethd_rlp_enc_finish(&re);
        if (!rc)
            rc = ethd_chaingen_seal(g->secp, &h, g->keys[n % g->n_signers]);
        if (!rc)
            rc = ethd_header_hash(&h, g->hashes[n - 1]);
        ethd_buf_reset(&blk);
        if (!rc)
            rc = ethd_chaingen_block_encode(&h, items, g->txs, &blk);
        if (!rc && (fwrite(blk.data, 1, blk.len, fc) != blk.len ||
                    fwrite(rbuf.data, 1, rbuf.len, fr) != rbuf.len))
            rc = ETHD_EIO;
        ethd_header_free(&parent);
        parent = h;
        memset(&h, 0, sizeof(h));
        memcpy(parent_hash, g->hashes[n - 1], 32);
    }
    if (fc && fclose(fc) != 0 && !rc)
        rc = ETHD_EIO;
    if (fr && fclose(fr) != 0 && !rc)
        rc = ETHD_EIO;
    if (!rc)
        rc = write_keys(g);
    if (!rc)
        rc = write_expected(g, &gen, &parent, parent_hash);
    if (!rc) {
        char hh[80];
        hexs(parent_hash, 32, hh);
        printf("chaingen: %" PRIu64 " blocks, %zu signers, %" PRIu64
               " txs/block, head #%" PRIu64 " %s\n",
               g->blocks, g->n_signers, g->txs, parent.number, hh);
    }
    ethd_header_free(&h);
    ethd_header_free(&parent);
    ethd_genesis_free(&gen);
    ethd_buf_free(&blk);
    ethd_buf_free(&txbuf);
    ethd_buf_free(&rbuf);
    free(offs);
    free(items);
    free(rs);
    free(g->hashes);
    return rc;
}

int main(int argc, char **argv)
{
    struct gen g;
    memset(&g, 0, sizeof(g));
    g.n_signers = 1;
    g.period = 1;
    g.epoch = 30000;
    g.chain_id = 1337;
    g.timestamp = 1700000000;
    g.fork_after = UINT64_MAX;
    bool have_blocks = false;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x = 0;
        if (!strcmp(o, "--out") && v) {
            g.out = v;
        } else if (v && parse_u64(v, &x) == 0) {
            if (!strcmp(o, "--blocks")) {
                g.blocks = x;
                have_blocks = true;
            } else if (!strcmp(o, "--signers") && x >= 1 && x <= MAX_SIGNERS) {
                g.n_signers = (size_t)x;
            } else if (!strcmp(o, "--txs-per-block") && x <= GAS_LIMIT / TRANSFER_GAS) {
                g.txs = x;
            } else if (!strcmp(o, "--period") && x >= 1 && x <= 3600) {
                g.period = x;
            } else if (!strcmp(o, "--epoch") && x >= 1) {
                g.epoch = x;
            } else if (!strcmp(o, "--chain-id") && x >= 1) {
                g.chain_id = x;
            } else if (!strcmp(o, "--timestamp")) {
                g.timestamp = x;
            } else if (!strcmp(o, "--seed")) {
                g.seed = x;
            } else if (!strcmp(o, "--fork-after")) {
                g.fork_after = x;
            } else {
                fprintf(stderr, "chaingen: bad option or value: %s %s\n", o, v);
                return usage();
            }
        } else {
            fprintf(stderr, "chaingen: bad option or value: %s%s%s\n", o, v ? " " : "",
                    v ? v : "");
            return usage();
        }
        i++;
    }
    if (!have_blocks || !g.out)
        return usage();
    if (g.blocks > 100000000 ||
        g.timestamp > UINT64_MAX / 2 - (g.blocks + 1) * g.period) {
        fprintf(stderr, "chaingen: --blocks too large\n");
        return 2;
    }
    if (mkdir(g.out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "chaingen: cannot create %s: %s\n", g.out, strerror(errno));
        return 1;
    }
    if (ethd_secp_new(&g.secp)) {
        fprintf(stderr, "chaingen: no secp256k1 context\n");
        return 1;
    }
    ethd_keccak256("", 0, g.empty_code_hash);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = generate(&g);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    explicit_bzero(g.keys, sizeof(g.keys));
    explicit_bzero(g.sender_key, sizeof(g.sender_key));
    ethd_secp_free(g.secp);
    if (rc) {
        fprintf(stderr, "chaingen: failed: %s\n", ethd_strerror(rc));
        return 1;
    }
    fprintf(stderr, "chaingen: %.2f s\n",
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
