/* geth-format genesis.json -> chain config + genesis header (go-ethereum
 * core/genesis.go ToBlock and params/config.go CheckConfigForkOrder give
 * the semantics; the code here is our own). */
#include <ethd/error.h>
#include <ethd/genesis.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/trie.h>

#include <jansson.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EIP-7685: sha256 of the empty string, the requests hash of a block
 * without requests. */
const uint8_t ethd_empty_requests_hash[32] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

/* keccak256(rlp([])): the uncles hash of a block without uncles. */
static const uint8_t empty_uncles_hash[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
};

/* go-ethereum params: GenesisGasLimit, GenesisDifficulty, InitialBaseFee. */
#define DEFAULT_GAS_LIMIT 4712388u
#define DEFAULT_DIFFICULTY 131072u
#define DEFAULT_BASE_FEE 1000000000u
/* Clique (EIP-225) extra-data: 32 vanity bytes, signers, 65 seal bytes. */
#define CLIQUE_VANITY 32
#define CLIQUE_SEAL 65
/* Bound on code and extra-data in a genesis file (memory, not consensus). */
#define MAX_HEX_BYTES (16u << 20)

struct ctx {
    const char *name;
    char *err;
    size_t err_len;
};

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const char *path,
                                                      const char *fmt, ...)
{
    if (c->err && c->err_len) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (path && *path)
            snprintf(c->err, c->err_len, "%s: %s: %s", c->name, path, msg);
        else
            snprintf(c->err, c->err_len, "%s: %s", c->name, msg);
    }
    return ETHD_ECONFIG;
}

/* ---------- lexical pass: big integer literals become strings ---------- */

/* jansson stores integers as int64 and refuses larger literals, yet geth
 * files carry e.g. terminalTotalDifficulty = 58750000000000000000000 as a
 * bare number. Every integer literal with more than 18 digits is wrapped in
 * quotes before parsing; all quantity readers accept strings, so the value
 * is read exactly. Reals (with '.', 'e') are left alone and refused later.
 * *out: caller frees with free(). */
static int quote_big_ints(const char *in, size_t len, char **out, size_t *out_len)
{
    size_t extra = 0, i = 0;
    /* Two passes: count, then copy. */
    for (int pass = 0; pass < 2; pass++) {
        char *o = NULL;
        size_t w = 0;
        if (pass == 1) {
            o = malloc(len + extra + 1);
            if (!o)
                return ETHD_ENOMEM;
        }
        bool in_str = false;
        for (i = 0; i < len;) {
            char ch = in[i];
            if (in_str) {
                if (ch == '\\' && i + 1 < len) {
                    if (o) {
                        o[w] = ch;
                        o[w + 1] = in[i + 1];
                    }
                    w += 2;
                    i += 2;
                    continue;
                }
                if (ch == '"')
                    in_str = false;
            } else if (ch == '"') {
                in_str = true;
            } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
                size_t j = i + (ch == '-');
                size_t d0 = j;
                while (j < len && in[j] >= '0' && in[j] <= '9')
                    j++;
                bool real = j < len && (in[j] == '.' || in[j] == 'e' || in[j] == 'E');
                if (!real && j - d0 > 18) {
                    if (o) {
                        o[w] = '"';
                        memcpy(o + w + 1, in + i, j - i);
                        o[w + 1 + j - i] = '"';
                    } else {
                        extra += 2;
                    }
                    w += j - i + 2;
                    i = j;
                    continue;
                }
                if (o)
                    memcpy(o + w, in + i, j - i);
                w += j - i;
                i = j;
                continue;
            }
            if (o)
                o[w] = ch;
            w++;
            i++;
        }
        if (o) {
            o[w] = 0;
            *out = o;
            *out_len = w;
        }
    }
    return 0;
}

/* ---------- value readers ---------- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Unsigned quantity of at most `max` bytes (8 or 32) into out[32]
 * (big-endian): a non-negative JSON integer, a "0x" hex string or a decimal
 * string (geth's math.HexOrDecimal256: "" is zero, "0x" alone is not). */
static int read_qty(struct ctx *c, const char *path, const json_t *v, size_t max, uint8_t out[32])
{
    memset(out, 0, 32);
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0)
            return fail(c, path, "negative number");
        for (int i = 0; i < 8; i++)
            out[31 - i] = (uint8_t)((uint64_t)x >> (8 * i));
        return 0;
    }
    if (json_is_real(v))
        return fail(c, path, "not an integer");
    if (!json_is_string(v))
        return fail(c, path, "not a number");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
        if (n == 0)
            return fail(c, path, "not a number: empty hex");
        while (n > 1 && *s == '0') {
            s++;
            n--;
        }
        if (n > 2 * max)
            return fail(c, path, "number too large (more than %zu bits)", max * 8);
        for (size_t i = 0; i < n; i++) {
            int d = hexval(s[n - 1 - i]);
            if (d < 0)
                return fail(c, path, "not a number: bad hex digit");
            out[31 - i / 2] |= (uint8_t)(d << (4 * (i % 2)));
        }
        return 0;
    }
    if (n && s[0] == '-')
        return fail(c, path, "negative number");
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(c, path, "not a number");
        /* out = out * 10 + digit, watching the top `max` bytes. */
        unsigned carry = (unsigned)(s[i] - '0');
        for (int k = 31; k >= 0; k--) {
            unsigned t = out[k] * 10u + carry;
            out[k] = (uint8_t)t;
            carry = t >> 8;
        }
        if (carry)
            return fail(c, path, "number too large (more than %zu bits)", max * 8);
        for (size_t k = 0; k < 32 - max; k++)
            if (out[k])
                return fail(c, path, "number too large (more than %zu bits)", max * 8);
    }
    return 0;
}

static int read_u64(struct ctx *c, const char *path, const json_t *v, uint64_t *out)
{
    uint8_t b[32];
    int rc = read_qty(c, path, v, 8, b);
    if (rc)
        return rc;
    uint64_t x = 0;
    for (int i = 24; i < 32; i++)
        x = x << 8 | b[i];
    *out = x;
    return 0;
}

/* Hex data ("0x" optional, even digit count). With `heap` NULL: exactly
 * `fixed` bytes into fixed_out, or with `pad` at most `fixed` bytes,
 * right-aligned (geth's storageJSON). With `heap`: any length up to
 * MAX_HEX_BYTES into *heap (caller frees with free()). */
static int parse_hex(struct ctx *c, const char *path, const char *s, size_t n,
                     uint8_t *fixed_out, size_t fixed, bool pad, uint8_t **heap, size_t *heap_len)
{
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
    }
    if (n % 2)
        return fail(c, path, "odd number of hex digits");
    size_t bytes = n / 2;
    uint8_t *dst;
    if (heap) {
        *heap = NULL;
        *heap_len = 0;
        if (bytes > MAX_HEX_BYTES)
            return fail(c, path, "too long (%zu bytes)", bytes);
        if (bytes == 0)
            return 0;
        dst = malloc(bytes);
        if (!dst)
            return ETHD_ENOMEM;
    } else {
        if (pad ? bytes > fixed : bytes != fixed)
            return fail(c, path, "expected %s%zu bytes of hex, got %zu", pad ? "at most " : "",
                        fixed, bytes);
        memset(fixed_out, 0, fixed);
        dst = fixed_out + (fixed - bytes);
    }
    for (size_t i = 0; i < bytes; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            if (heap)
                free(dst);
            return fail(c, path, "bad hex digit");
        }
        dst[i] = (uint8_t)(hi << 4 | lo);
    }
    if (heap) {
        *heap = dst;
        *heap_len = bytes;
    }
    return 0;
}

static int read_hex(struct ctx *c, const char *path, const json_t *v, uint8_t *fixed_out,
                    size_t fixed, bool pad, uint8_t **heap, size_t *heap_len)
{
    if (!json_is_string(v))
        return fail(c, path, "not a hex string");
    return parse_hex(c, path, json_string_value(v), json_string_length(v), fixed_out, fixed, pad,
                     heap, heap_len);
}

static int read_bool(struct ctx *c, const char *path, const json_t *v, bool *out)
{
    if (!json_is_boolean(v))
        return fail(c, path, "not a boolean");
    *out = json_is_true(v);
    return 0;
}

/* Reject keys outside `known` (NULL-terminated). */
static int check_keys(struct ctx *c, const char *where, const json_t *obj,
                      const char *const *known)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            if (strcmp(key, known[i]) == 0)
                ok = true;
        if (!ok) {
            char path[300];
            snprintf(path, sizeof path, "%s%s%s", where, *where ? "." : "", key);
            return fail(c, path, "unknown field");
        }
        (void)val;
    }
    return 0;
}

/* Member that is present and not null, else NULL. */
static const json_t *member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return v && !json_is_null(v) ? v : NULL;
}

/* ---------- config ---------- */

static int read_blob_schedule(struct ctx *c, const json_t *obj, struct ethd_chain_config *cfg)
{
    static const char *const names[ETHD_BLOB_N + 1] = {
        "cancun", "prague", "osaka", "bpo1", "bpo2", "bpo3", "bpo4", "bpo5", "amsterdam", "verkle",
        NULL};
    static const char *const fields[] = {"target", "max", "baseFeeUpdateFraction", NULL};
    char path[128];
    int rc;

    if (!json_is_object(obj))
        return fail(c, "config.blobSchedule", "not an object");
    if ((rc = check_keys(c, "config.blobSchedule", obj, names)))
        return rc;
    for (int i = 0; i < ETHD_BLOB_N; i++) {
        const json_t *e = member(obj, names[i]);
        if (!e)
            continue;
        snprintf(path, sizeof path, "config.blobSchedule.%s", names[i]);
        if (!json_is_object(e))
            return fail(c, path, "not an object");
        if ((rc = check_keys(c, path, e, fields)))
            return rc;
        struct ethd_blob_params *p = &cfg->blob_schedule[i];
        uint64_t *dst[3] = {&p->target, &p->max, &p->update_fraction};
        for (int k = 0; k < 3; k++) {
            const json_t *f = member(e, fields[k]);
            snprintf(path, sizeof path, "config.blobSchedule.%s.%s", names[i], fields[k]);
            if (!f)
                return fail(c, path, "missing");
            if ((rc = read_u64(c, path, f, dst[k])))
                return rc;
        }
        if (p->target > p->max)
            return fail(c, path, "target above max");
        if (p->update_fraction == 0)
            return fail(c, path, "baseFeeUpdateFraction is zero");
        p->set = true;
    }
    return 0;
}

/* geth's CheckConfigForkOrder, restated: each mandatory fork must be set
 * when any later fork is, and activations never go backwards. Optional
 * forks may be skipped. */
static int check_fork_order(struct ctx *c, const struct ethd_chain_config *cfg)
{
    static const bool block_optional[ETHD_BF_N] = {
        [ETHD_BF_DAO] = true,           [ETHD_BF_MUIR_GLACIER] = true,
        [ETHD_BF_ARROW_GLACIER] = true, [ETHD_BF_GRAY_GLACIER] = true,
        [ETHD_BF_MERGE_NETSPLIT] = true,
    };
    static const bool time_optional[ETHD_TF_N] = {
        [ETHD_TF_OSAKA] = true, [ETHD_TF_BPO1] = true,      [ETHD_TF_BPO2] = true,
        [ETHD_TF_BPO3] = true,  [ETHD_TF_BPO4] = true,      [ETHD_TF_BPO5] = true,
        [ETHD_TF_AMSTERDAM] = true, [ETHD_TF_VERKLE] = true,
    };
    char path[64];
    const char *last = NULL;
    uint64_t last_val = ETHD_FORK_UNSET;
    bool last_is_time = false;

    for (int k = 0; k < ETHD_BF_N + ETHD_TF_N; k++) {
        bool is_time = k >= ETHD_BF_N;
        int f = is_time ? k - ETHD_BF_N : k;
        uint64_t v = is_time ? cfg->fork_time[f] : cfg->fork_block[f];
        const char *name = is_time ? ethd_time_fork_name(f) : ethd_block_fork_name(f);
        bool opt = is_time ? time_optional[f] : block_optional[f];
        snprintf(path, sizeof path, "config.%s", name);
        if (last && v != ETHD_FORK_UNSET) {
            if (last_val == ETHD_FORK_UNSET)
                return fail(c, path, "set, but the earlier fork %s is not", last);
            if (last_is_time == is_time && last_val > v)
                return fail(c, path, "%llu is before %s (%llu)", (unsigned long long)v, last,
                            (unsigned long long)last_val);
        }
        if (!opt || v != ETHD_FORK_UNSET) {
            last = name;
            last_val = v;
            last_is_time = is_time;
        }
    }
    return 0;
}

static int read_config(struct ctx *c, const json_t *obj, struct ethd_chain_config *cfg)
{
    static const char *const known[] = {
        "chainId", "homesteadBlock", "daoForkBlock", "daoForkSupport", "eip150Block",
        "eip150Hash", "eip155Block", "eip158Block", "byzantiumBlock", "constantinopleBlock",
        "petersburgBlock", "istanbulBlock", "muirGlacierBlock", "berlinBlock", "londonBlock",
        "arrowGlacierBlock", "grayGlacierBlock", "mergeNetsplitBlock", "shanghaiTime",
        "cancunTime", "pragueTime", "osakaTime", "bpo1Time", "bpo2Time", "bpo3Time", "bpo4Time",
        "bpo5Time", "amsterdamTime", "verkleTime", "terminalTotalDifficulty",
        "terminalTotalDifficultyPassed", "depositContractAddress", "enableVerkleAtGenesis",
        "ethash", "clique", "blobSchedule", NULL};
    static const char *const clique_known[] = {"period", "epoch", NULL};
    char path[96];
    const json_t *v;
    uint8_t tmp[32];
    int rc;

    ethd_chain_config_init(cfg);
    if (!obj)
        return 0; /* no config: no forks scheduled (pre-London genesis) */
    if (!json_is_object(obj))
        return fail(c, "config", "not an object");
    if ((rc = check_keys(c, "config", obj, known)))
        return rc;
    if ((v = member(obj, "chainId")) && (rc = read_u64(c, "config.chainId", v, &cfg->chain_id)))
        return rc;
    for (int f = 0; f < ETHD_BF_N; f++) {
        const char *name = ethd_block_fork_name(f);
        snprintf(path, sizeof path, "config.%s", name);
        if ((v = member(obj, name))) {
            if ((rc = read_u64(c, path, v, &cfg->fork_block[f])))
                return rc;
            if (cfg->fork_block[f] == ETHD_FORK_UNSET)
                return fail(c, path, "2^64-1 is reserved for \"not scheduled\"");
        }
    }
    for (int f = 0; f < ETHD_TF_N; f++) {
        const char *name = ethd_time_fork_name(f);
        snprintf(path, sizeof path, "config.%s", name);
        if ((v = member(obj, name))) {
            if ((rc = read_u64(c, path, v, &cfg->fork_time[f])))
                return rc;
            if (cfg->fork_time[f] == ETHD_FORK_UNSET)
                return fail(c, path, "2^64-1 is reserved for \"not scheduled\"");
        }
    }
    if ((v = member(obj, "daoForkSupport")) &&
        (rc = read_bool(c, "config.daoForkSupport", v, &cfg->dao_support)))
        return rc;
    /* eip150Hash: obsolete and unused, but still written by older tools. */
    if ((v = member(obj, "eip150Hash")) &&
        (rc = read_hex(c, "config.eip150Hash", v, tmp, 32, false, NULL, NULL)))
        return rc;
    if ((v = member(obj, "terminalTotalDifficulty"))) {
        if ((rc = read_qty(c, "config.terminalTotalDifficulty", v, 32, cfg->ttd)))
            return rc;
        cfg->has_ttd = true;
    }
    if ((v = member(obj, "terminalTotalDifficultyPassed")) &&
        (rc = read_bool(c, "config.terminalTotalDifficultyPassed", v, &cfg->ttd_passed)))
        return rc;
    if ((v = member(obj, "depositContractAddress"))) {
        if ((rc = read_hex(c, "config.depositContractAddress", v, cfg->deposit_contract, 20,
                           false, NULL, NULL)))
            return rc;
        cfg->has_deposit_contract = true;
    }
    if ((v = member(obj, "enableVerkleAtGenesis"))) {
        bool verkle = false;
        if ((rc = read_bool(c, "config.enableVerkleAtGenesis", v, &verkle)))
            return rc;
        if (verkle)
            return fail(c, "config.enableVerkleAtGenesis", "verkle genesis is not supported");
    }
    if ((v = member(obj, "ethash"))) {
        if (!json_is_object(v))
            return fail(c, "config.ethash", "not an object");
        if (json_object_size(v))
            return fail(c, "config.ethash", "expected an empty object");
        cfg->has_ethash = true;
    }
    if ((v = member(obj, "clique"))) {
        const json_t *x;
        if (!json_is_object(v))
            return fail(c, "config.clique", "not an object");
        if ((rc = check_keys(c, "config.clique", v, clique_known)))
            return rc;
        cfg->has_clique = true;
        if ((x = member(v, "period")) &&
            (rc = read_u64(c, "config.clique.period", x, &cfg->clique_period)))
            return rc;
        if ((x = member(v, "epoch")) &&
            (rc = read_u64(c, "config.clique.epoch", x, &cfg->clique_epoch)))
            return rc;
        if (cfg->clique_epoch == 0)
            cfg->clique_epoch = 30000; /* geth's default epoch length */
    }
    if (cfg->has_clique && cfg->has_ethash)
        return fail(c, "config", "both clique and ethash given; choose one consensus engine");
    if ((v = member(obj, "blobSchedule")) && (rc = read_blob_schedule(c, v, cfg)))
        return rc;
    return check_fork_order(c, cfg);
}

/* ---------- alloc and state root ---------- */

static int cmp_kv(const void *a, const void *b)
{
    const struct ethd_trie_kv *x = a, *y = b;
    return memcmp(x->key, y->key, x->key_len);
}

/* RLP of a value without its leading zero bytes, appended to `buf`. */
static int rlp_trimmed(struct ethd_buf *buf, const uint8_t v[32])
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, buf);
    ethd_rlp_u256(&e, v);
    return ethd_rlp_enc_finish(&e);
}

/* Storage root of one account: secure trie keccak(slot) -> RLP(value),
 * zero values absent (Yellow Paper 4.1, storageRoot). */
static int storage_root(struct ctx *c, const char *where, const json_t *st, uint8_t root[32])
{
    size_t n = json_object_size(st), i = 0, k = 0;
    struct ethd_trie_kv *kv = NULL;
    uint8_t *slots = NULL, *vals = NULL;
    struct ethd_buf enc = ETHD_BUF_INIT;
    size_t *offs = NULL;
    const char *key;
    json_t *val;
    char path[400];
    int rc = 0;

    if (n == 0)
        return ethd_trie_secure_root(NULL, 0, root);
    kv = calloc(n, sizeof *kv);
    slots = calloc(n, 32);
    vals = calloc(n, 32);
    offs = calloc(n + 1, sizeof *offs);
    if (!kv || !slots || !vals || !offs) {
        rc = ETHD_ENOMEM;
        goto out;
    }
    json_object_foreach((json_t *)st, key, val) {
        snprintf(path, sizeof path, "%s.storage.%s", where, key);
        if ((rc = parse_hex(c, path, key, strlen(key), slots + 32 * i, 32, true, NULL, NULL)))
            goto out;
        if ((rc = read_hex(c, path, val, vals + 32 * i, 32, true, NULL, NULL)))
            goto out;
        i++;
    }
    /* Same slot written twice ("0x03" and "0x0003"): refuse, as geth's map
     * would keep an arbitrary one. */
    for (i = 0; i < n; i++) {
        kv[i].key = slots + 32 * i;
        kv[i].key_len = 32;
    }
    qsort(kv, n, sizeof *kv, cmp_kv);
    for (i = 1; i < n; i++)
        if (memcmp(kv[i - 1].key, kv[i].key, 32) == 0) {
            char hx[80];
            for (int b = 0; b < 32; b++)
                snprintf(hx + 2 * b, 3, "%02x", kv[i].key[b]);
            snprintf(path, sizeof path, "%s.storage", where);
            rc = fail(c, path, "slot 0x%s given twice", hx);
            goto out;
        }
    /* Encode the non-zero values (the kv keys are the slot arrays). */
    k = 0;
    for (i = 0; i < n; i++) {
        size_t idx = (size_t)(kv[i].key - slots) / 32;
        const uint8_t *v = vals + 32 * idx;
        bool zero = true;
        for (int b = 0; b < 32; b++)
            zero &= v[b] == 0;
        if (zero)
            continue;
        offs[k] = enc.len;
        if ((rc = rlp_trimmed(&enc, v)))
            goto out;
        kv[k].key = kv[i].key;
        kv[k].key_len = 32;
        k++;
    }
    offs[k] = enc.len;
    for (i = 0; i < k; i++) {
        kv[i].val = enc.data + offs[i];
        kv[i].val_len = offs[i + 1] - offs[i];
    }
    rc = ethd_trie_secure_root(kv, k, root);
out:
    free(kv);
    free(slots);
    free(vals);
    free(offs);
    ethd_buf_free(&enc);
    return rc;
}

struct account {
    uint8_t addr[20];
    size_t off, len; /* RLP([nonce, balance, storageRoot, codeHash]) in the shared buffer */
};

static int cmp_account(const void *a, const void *b)
{
    return memcmp(((const struct account *)a)->addr, ((const struct account *)b)->addr, 20);
}

static int read_account(struct ctx *c, const char *addr_key, const json_t *acc,
                        struct account *out, struct ethd_buf *enc)
{
    static const char *const known[] = {"balance", "nonce", "code", "storage", "secretKey",
                                        NULL};
    char where[300], path[340];
    uint8_t balance[32] = {0}, sroot[32], chash[32];
    uint64_t nonce = 0;
    const json_t *v;
    int rc;

    snprintf(where, sizeof where, "alloc.%s", addr_key);
    if ((rc = parse_hex(c, where, addr_key, strlen(addr_key), out->addr, 20, false, NULL, NULL)))
        return rc;
    if (!json_is_object(acc))
        return fail(c, where, "not an object");
    if ((rc = check_keys(c, where, acc, known)))
        return rc;
    snprintf(path, sizeof path, "%s.balance", where);
    if ((v = member(acc, "balance")) && (rc = read_qty(c, path, v, 32, balance)))
        return rc;
    snprintf(path, sizeof path, "%s.nonce", where);
    if ((v = member(acc, "nonce")) && (rc = read_u64(c, path, v, &nonce)))
        return rc;
    snprintf(path, sizeof path, "%s.secretKey", where);
    if ((v = member(acc, "secretKey"))) {
        uint8_t sk[32];
        if ((rc = read_hex(c, path, v, sk, 32, false, NULL, NULL)))
            return rc;
    }
    memcpy(chash, ethd_keccak256_empty, 32);
    snprintf(path, sizeof path, "%s.code", where);
    if ((v = member(acc, "code"))) {
        uint8_t *code;
        size_t code_len;
        if ((rc = read_hex(c, path, v, NULL, 0, false, &code, &code_len)))
            return rc;
        ethd_keccak256(code, code_len, chash);
        free(code);
    }
    if ((v = member(acc, "storage"))) {
        snprintf(path, sizeof path, "%s.storage", where);
        if (!json_is_object(v))
            return fail(c, path, "not an object");
        if ((rc = storage_root(c, where, v, sroot)))
            return rc;
    } else {
        memcpy(sroot, ethd_trie_empty_root, 32);
    }
    struct ethd_rlp_enc e;
    out->off = enc->len;
    ethd_rlp_enc_init(&e, enc);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, nonce);
    ethd_rlp_u256(&e, balance);
    ethd_rlp_bytes(&e, sroot, 32);
    ethd_rlp_bytes(&e, chash, 32);
    ethd_rlp_list_end(&e);
    if ((rc = ethd_rlp_enc_finish(&e)))
        return rc;
    out->len = enc->len - out->off;
    return 0;
}

/* State root: secure trie keccak(address) -> RLP(account). */
static int alloc_root(struct ctx *c, const json_t *alloc, uint8_t root[32], size_t *count)
{
    size_t n = alloc ? json_object_size(alloc) : 0, i = 0;
    struct account *acc = NULL;
    struct ethd_trie_kv *kv = NULL;
    struct ethd_buf enc = ETHD_BUF_INIT;
    const char *key;
    json_t *val;
    int rc = 0;

    *count = n;
    if (n == 0)
        return ethd_trie_secure_root(NULL, 0, root);
    acc = calloc(n, sizeof *acc);
    kv = calloc(n, sizeof *kv);
    if (!acc || !kv) {
        rc = ETHD_ENOMEM;
        goto out;
    }
    json_object_foreach((json_t *)alloc, key, val) {
        if ((rc = read_account(c, key, val, &acc[i], &enc)))
            goto out;
        i++;
    }
    qsort(acc, n, sizeof *acc, cmp_account);
    for (i = 0; i < n; i++) {
        if (i && memcmp(acc[i - 1].addr, acc[i].addr, 20) == 0) {
            char hx[48];
            for (int b = 0; b < 20; b++)
                snprintf(hx + 2 * b, 3, "%02x", acc[i].addr[b]);
            rc = fail(c, "alloc", "account 0x%s given twice", hx);
            goto out;
        }
        kv[i].key = acc[i].addr;
        kv[i].key_len = 20;
        kv[i].val = enc.data + acc[i].off;
        kv[i].val_len = acc[i].len;
    }
    rc = ethd_trie_secure_root(kv, n, root);
out:
    free(acc);
    free(kv);
    ethd_buf_free(&enc);
    return rc;
}

/* ---------- genesis ---------- */

static int build(struct ctx *c, const json_t *root, struct ethd_genesis *g)
{
    static const char *const known[] = {
        "config", "nonce", "timestamp", "extraData", "gasLimit", "difficulty", "mixHash",
        "coinbase", "alloc", "number", "gasUsed", "parentHash", "baseFeePerGas",
        "excessBlobGas", "blobGasUsed", NULL};
    struct ethd_header *h = &g->header;
    const json_t *v;
    uint64_t nonce = 0;
    int rc;

    if (!json_is_object(root))
        return fail(c, NULL, "top level is not an object");
    if ((rc = check_keys(c, "", root, known)))
        return rc;
    if ((rc = read_config(c, member(root, "config"), &g->config)))
        return rc;
    const struct ethd_chain_config *cfg = &g->config;

    if ((v = member(root, "nonce")) && (rc = read_u64(c, "nonce", v, &nonce)))
        return rc;
    for (int i = 0; i < 8; i++)
        h->nonce[i] = (uint8_t)(nonce >> (56 - 8 * i));
    if ((v = member(root, "timestamp")) && (rc = read_u64(c, "timestamp", v, &h->timestamp)))
        return rc;
    if ((v = member(root, "number")) && (rc = read_u64(c, "number", v, &h->number)))
        return rc;
    if ((v = member(root, "gasUsed")) && (rc = read_u64(c, "gasUsed", v, &h->gas_used)))
        return rc;
    if ((v = member(root, "gasLimit")) && (rc = read_u64(c, "gasLimit", v, &h->gas_limit)))
        return rc;
    if (h->gas_limit == 0)
        h->gas_limit = DEFAULT_GAS_LIMIT;
    if (h->gas_used > h->gas_limit)
        return fail(c, "gasUsed", "above gasLimit");
    if ((v = member(root, "extraData"))) {
        uint8_t *x;
        size_t n;
        if ((rc = read_hex(c, "extraData", v, NULL, 0, false, &x, &n)))
            return rc;
        if (n > ETHD_HDR_MAX_EXTRA) {
            free(x);
            return fail(c, "extraData", "too long (%zu bytes)", n);
        }
        h->extra = x;
        h->extra_len = n;
    }
    if (cfg->has_clique &&
        (h->extra_len < CLIQUE_VANITY + CLIQUE_SEAL ||
         (h->extra_len - CLIQUE_VANITY - CLIQUE_SEAL) % 20 != 0 ||
         h->extra_len == CLIQUE_VANITY + CLIQUE_SEAL))
        return fail(c, "extraData",
                    "clique needs 32 vanity bytes, at least one 20-byte signer and 65 seal "
                    "bytes (got %zu bytes)",
                    h->extra_len);
    if ((v = member(root, "mixHash")) &&
        (rc = read_hex(c, "mixHash", v, h->mix_hash, 32, false, NULL, NULL)))
        return rc;
    if ((v = member(root, "coinbase")) &&
        (rc = read_hex(c, "coinbase", v, h->coinbase, 20, false, NULL, NULL)))
        return rc;
    if ((v = member(root, "parentHash")) &&
        (rc = read_hex(c, "parentHash", v, h->parent_hash, 32, false, NULL, NULL)))
        return rc;
    if ((v = member(root, "difficulty"))) {
        if ((rc = read_qty(c, "difficulty", v, 32, h->difficulty)))
            return rc;
    } else {
        /* geth: without a difficulty, a post-merge (non-ethash) config
         * starts at 0; otherwise GenesisDifficulty unless a mixHash is
         * given. */
        bool zero_mix = true;
        for (int i = 0; i < 32; i++)
            zero_mix &= h->mix_hash[i] == 0;
        if (!(member(root, "config") && !cfg->has_ethash) && zero_mix) {
            h->difficulty[29] = (uint8_t)(DEFAULT_DIFFICULTY >> 16);
            h->difficulty[30] = (uint8_t)(DEFAULT_DIFFICULTY >> 8);
            h->difficulty[31] = (uint8_t)DEFAULT_DIFFICULTY;
        }
    }

    memcpy(h->uncles_hash, empty_uncles_hash, 32);
    memcpy(h->tx_root, ethd_trie_empty_root, 32);
    memcpy(h->receipts_root, ethd_trie_empty_root, 32);

    struct ethd_rules r;
    ethd_chain_rules(cfg, h->number, h->timestamp, &r);
    const json_t *bf = member(root, "baseFeePerGas");
    const json_t *ebg = member(root, "excessBlobGas");
    const json_t *bgu = member(root, "blobGasUsed");
    if (r.london) {
        h->present |= ETHD_HDR_BASE_FEE;
        if (bf) {
            if ((rc = read_qty(c, "baseFeePerGas", bf, 32, h->base_fee)))
                return rc;
        } else {
            h->base_fee[28] = (uint8_t)(DEFAULT_BASE_FEE >> 24);
            h->base_fee[29] = (uint8_t)(DEFAULT_BASE_FEE >> 16);
            h->base_fee[30] = (uint8_t)(DEFAULT_BASE_FEE >> 8);
            h->base_fee[31] = (uint8_t)DEFAULT_BASE_FEE;
        }
    } else if (bf) {
        return fail(c, "baseFeePerGas", "given, but London is not active at genesis");
    }
    if (r.shanghai) {
        h->present |= ETHD_HDR_WITHDRAWALS;
        memcpy(h->withdrawals_root, ethd_trie_empty_root, 32);
    }
    if (r.cancun) {
        h->present |= ETHD_HDR_BLOB_GAS | ETHD_HDR_BEACON_ROOT;
        if (ebg && (rc = read_u64(c, "excessBlobGas", ebg, &h->excess_blob_gas)))
            return rc;
        if (bgu && (rc = read_u64(c, "blobGasUsed", bgu, &h->blob_gas_used)))
            return rc;
    } else if (ebg || bgu) {
        return fail(c, ebg ? "excessBlobGas" : "blobGasUsed",
                    "given, but Cancun is not active at genesis");
    }
    if (r.prague) {
        h->present |= ETHD_HDR_REQUESTS;
        memcpy(h->requests_hash, ethd_empty_requests_hash, 32);
    }

    const json_t *alloc = member(root, "alloc");
    if (alloc && !json_is_object(alloc))
        return fail(c, "alloc", "not an object");
    if ((rc = alloc_root(c, alloc, h->state_root, &g->n_alloc)))
        return rc;
    return ethd_header_hash(h, g->hash);
}

int ethd_genesis_parse(const char *name, const char *text, size_t len, struct ethd_genesis *g,
                       char *err, size_t err_len)
{
    struct ctx c = {name ? name : "genesis", err, err_len};
    char *q = NULL;
    size_t qlen = 0;
    json_error_t je;
    int rc;

    memset(g, 0, sizeof *g);
    if (err && err_len)
        err[0] = 0;
    if (!text)
        return fail(&c, NULL, "no input");
    if ((rc = quote_big_ints(text, len, &q, &qlen)))
        return rc;
    json_t *root = json_loadb(q, qlen, JSON_REJECT_DUPLICATES, &je);
    free(q);
    if (!root)
        return fail(&c, NULL, "%d:%d: %s", je.line, je.column, je.text);
    rc = build(&c, root, g);
    json_decref(root);
    if (rc) {
        if (rc == ETHD_ENOMEM)
            fail(&c, NULL, "out of memory");
        ethd_genesis_free(g);
    }
    return rc;
}

int ethd_genesis_load(const char *path, struct ethd_genesis *g, char *err, size_t err_len)
{
    struct ctx c = {path, err, err_len};
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(&c, NULL, "cannot open: %s", strerror(errno));
        return ETHD_EIO;
    }
    /* Genesis files are small; 256 MiB bounds a mistaken path. */
    const size_t cap = 256u << 20;
    size_t n = 0, sz = 1 << 16;
    char *buf = malloc(sz);
    int rc = 0;
    while (buf) {
        size_t got = fread(buf + n, 1, sz - n, f);
        n += got;
        if (n < sz) {
            if (ferror(f)) {
                fail(&c, NULL, "read error: %s", strerror(errno));
                rc = ETHD_EIO;
            }
            break;
        }
        if (sz >= cap) {
            fail(&c, NULL, "file larger than %zu bytes", cap);
            rc = ETHD_ETOOBIG;
            break;
        }
        char *nb = realloc(buf, sz * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        sz *= 2;
    }
    fclose(f);
    if (!buf) {
        fail(&c, NULL, "out of memory");
        return ETHD_ENOMEM;
    }
    if (rc == 0)
        rc = ethd_genesis_parse(path, buf, n, g, err, err_len);
    free(buf);
    return rc;
}

void ethd_genesis_free(struct ethd_genesis *g)
{
    if (!g)
        return;
    ethd_header_free(&g->header);
    memset(g, 0, sizeof *g);
}

int ethd_genesis_encode_block(const struct ethd_genesis *g, struct ethd_buf *out)
{
    struct ethd_block b;
    memset(&b, 0, sizeof b);
    b.header = g->header; /* borrowed for the call; not freed here */
    b.body.has_withdrawals = (g->header.present & ETHD_HDR_WITHDRAWALS) != 0;
    return ethd_block_encode(&b, out);
}
