/* Chain configuration and genesis block from a geth-format genesis.json
 * (go-ethereum core/genesis.go, params/config.go field names).
 *
 * Quantities may be written as JSON numbers, "0x" hex strings or decimal
 * strings, as geth accepts them (integer literals of any size: they are
 * read exactly, not through a double). Hex data may omit the "0x". A null
 * value is the same as an absent key. Unknown keys at the top level, in "config", in "clique", in an
 * alloc account or in "blobSchedule" are errors naming the key; so are
 * values of the wrong form ("genesis.json: alloc.0x12..: balance: not a
 * number"). */
#ifndef ETHD_GENESIS_H
#define ETHD_GENESIS_H
#include <ethd/block.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value of a fork block/time that is not scheduled. */
#define ETHD_FORK_UNSET UINT64_MAX

/* EIP-4844/7691 blob parameters of one fork (config.blobSchedule). */
struct ethd_blob_params {
    bool set;
    uint64_t target;
    uint64_t max;
    uint64_t update_fraction;
};

/* Time-forked blob schedules, in order (index into blob_schedule[]). */
enum ethd_blob_fork {
    ETHD_BLOB_CANCUN = 0,
    ETHD_BLOB_PRAGUE,
    ETHD_BLOB_OSAKA,
    ETHD_BLOB_BPO1,
    ETHD_BLOB_BPO2,
    ETHD_BLOB_BPO3,
    ETHD_BLOB_BPO4,
    ETHD_BLOB_BPO5,
    ETHD_BLOB_AMSTERDAM,
    ETHD_BLOB_VERKLE,
    ETHD_BLOB_N,
};

/* Time forks, in activation order (index into fork_time[]). */
enum ethd_time_fork {
    ETHD_TF_SHANGHAI = 0,
    ETHD_TF_CANCUN,
    ETHD_TF_PRAGUE,
    ETHD_TF_OSAKA,
    ETHD_TF_BPO1,
    ETHD_TF_BPO2,
    ETHD_TF_BPO3,
    ETHD_TF_BPO4,
    ETHD_TF_BPO5,
    ETHD_TF_AMSTERDAM,
    ETHD_TF_VERKLE,
    ETHD_TF_N,
};

/* Block forks, in activation order (index into fork_block[]). */
enum ethd_block_fork {
    ETHD_BF_HOMESTEAD = 0,
    ETHD_BF_DAO,
    ETHD_BF_EIP150,
    ETHD_BF_EIP155,
    ETHD_BF_EIP158,
    ETHD_BF_BYZANTIUM,
    ETHD_BF_CONSTANTINOPLE,
    ETHD_BF_PETERSBURG,
    ETHD_BF_ISTANBUL,
    ETHD_BF_MUIR_GLACIER,
    ETHD_BF_BERLIN,
    ETHD_BF_LONDON,
    ETHD_BF_ARROW_GLACIER,
    ETHD_BF_GRAY_GLACIER,
    ETHD_BF_MERGE_NETSPLIT,
    ETHD_BF_N,
};

struct ethd_chain_config {
    uint64_t chain_id;
    /* Fork activation block numbers; ETHD_FORK_UNSET when absent. */
    uint64_t fork_block[ETHD_BF_N];
    bool dao_support;                 /* daoForkSupport */
    /* Fork activation timestamps; ETHD_FORK_UNSET when absent. */
    uint64_t fork_time[ETHD_TF_N];
    bool has_ttd;                     /* terminalTotalDifficulty given */
    uint8_t ttd[32];
    bool ttd_passed;                  /* terminalTotalDifficultyPassed */
    bool has_clique;                  /* config.clique present */
    uint64_t clique_period;           /* seconds */
    uint64_t clique_epoch;            /* blocks; geth's default 30000 when 0 */
    bool has_ethash;                  /* config.ethash present */
    bool has_deposit_contract;
    uint8_t deposit_contract[20];     /* depositContractAddress */
    struct ethd_blob_params blob_schedule[ETHD_BLOB_N];
};

/* Name of a fork slot as in genesis.json ("homesteadBlock", "cancunTime"). */
const char *ethd_block_fork_name(enum ethd_block_fork f);
const char *ethd_time_fork_name(enum ethd_time_fork f);

/* A config with chain_id 0 and every fork unset. */
void ethd_chain_config_init(struct ethd_chain_config *c);
/* The rules in force for a block with this number and timestamp. Time
 * forks count only once London is active (as in geth). `merge` is set when
 * the merge netsplit block is reached or Shanghai is active; whether a PoW
 * chain has passed its terminal total difficulty is chain state, so callers
 * that track it set r->merge themselves. Petersburg defaults to the
 * Constantinople block when unset (geth's IsPetersburg). */
void ethd_chain_rules(const struct ethd_chain_config *c, uint64_t number, uint64_t time,
                      struct ethd_rules *r);
/* Activation helpers: number/time at or past the fork's own activation
 * (false if unset); no implied dependencies. */
bool ethd_chain_block_active(const struct ethd_chain_config *c, enum ethd_block_fork f,
                             uint64_t number);
bool ethd_chain_time_active(const struct ethd_chain_config *c, enum ethd_time_fork f,
                            uint64_t time);

/* 0 if `h` carries exactly the optional fields the forks active at its
 * number/timestamp require: base fee from London, withdrawals root from
 * Shanghai, blob gas fields and parent beacon root from Cancun, requests
 * hash from Prague. ETHD_EINVAL otherwise, with a static reason in *why
 * (may be NULL), e.g. "base fee missing (London is active)". */
int ethd_chain_check_header_fields(const struct ethd_chain_config *c, const struct ethd_header *h,
                                   const char **why);

/* The result of loading a genesis file. */
struct ethd_genesis {
    struct ethd_chain_config config;
    struct ethd_header header; /* the genesis header; owned, freed by ethd_genesis_free */
    uint8_t hash[32];          /* keccak of the header RLP */
    size_t n_alloc;            /* accounts in alloc (the alloc itself is not kept) */
};

/* Parse genesis JSON text (`len` bytes, need not be NUL-terminated) and
 * build the genesis header: state root from the alloc (secure trie of
 * RLP([nonce, balance, storageRoot, codeHash]); storage secure trie of
 * RLP(value without leading zeros)), and the fork-dependent fields at block
 * 0 / the genesis timestamp: base fee (London; baseFeePerGas or 10^9),
 * withdrawals root = empty trie (Shanghai), blob gas fields and zero beacon
 * root (Cancun), requests hash = sha256("") (Prague, EIP-7685).
 * `name` prefixes error messages (e.g. the file name): "NAME: PATH: what",
 * PATH being the dotted JSON path ("alloc.0x12...ab.balance",
 * "config.londonBlock"). On failure the message is written to err (if
 * err_len > 0), ETHD_ECONFIG (or ETHD_ENOMEM) returned and *g zeroed.
 * Caller frees with ethd_genesis_free. */
int ethd_genesis_parse(const char *name, const char *text, size_t len, struct ethd_genesis *g,
                       char *err, size_t err_len);
/* RLP of the genesis block: [header, [], []], plus an empty withdrawals
 * list when the header has a withdrawals root (Shanghai at genesis).
 * Appended to `out`. ETHD_ENOMEM. */
int ethd_genesis_encode_block(const struct ethd_genesis *g, struct ethd_buf *out);
/* Same, reading the file at `path` (ETHD_EIO if it cannot be read,
 * ETHD_ETOOBIG above 256 MiB); messages are prefixed with `path`. */
int ethd_genesis_load(const char *path, struct ethd_genesis *g, char *err, size_t err_len);
void ethd_genesis_free(struct ethd_genesis *g);

/* EIP-7685 requests hash of an empty request list: sha256 of nothing. */
extern const uint8_t ethd_empty_requests_hash[32];

#endif
