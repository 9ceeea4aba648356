/* Building, sealing and checking clique headers (see seal.h). */
#include "seal.h"

#include <ethd/buf.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/trie.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* keccak256(RLP([])): the uncles hash of a block without uncles. */
static const uint8_t empty_uncles_hash[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
};

/* EIP-1559 constants. */
#define ELASTICITY_MULTIPLIER 2
#define BASE_FEE_MAX_CHANGE_DENOMINATOR 8
/* Yellow Paper 4.3.4: the gas limit moves by less than parent/1024 per block
 * and stays at or above 5000. */
#define GAS_LIMIT_BOUND_DIVISOR 1024
#define MIN_GAS_LIMIT 5000

/* ---- 256-bit numbers: big-endian bytes, little-endian 64-bit limbs with
 * one limb of headroom so a product by a 64-bit number cannot wrap ---- */

static void u256_load(const uint8_t be[32], uint64_t l[5])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = v << 8 | be[24 - 8 * i + k];
        l[i] = v;
    }
    l[4] = 0;
}

static int u256_store(const uint64_t l[5], uint8_t be[32])
{
    if (l[4])
        return ETHD_ERANGE;
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 8; k++)
            be[31 - 8 * i - k] = (uint8_t)(l[i] >> (8 * k));
    return 0;
}

static void u256_mul(uint64_t l[5], uint64_t m)
{
    unsigned __int128 carry = 0;
    for (int i = 0; i < 5; i++) {
        unsigned __int128 p = (unsigned __int128)l[i] * m + carry;
        l[i] = (uint64_t)p;
        carry = p >> 64;
    }
}

static void u256_div(uint64_t l[5], uint64_t d)
{
    unsigned __int128 rem = 0;
    for (int i = 4; i >= 0; i--) {
        unsigned __int128 cur = rem << 64 | l[i];
        l[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
}

static void u256_add(uint64_t a[5], const uint64_t b[5])
{
    unsigned __int128 carry = 0;
    for (int i = 0; i < 5; i++) {
        unsigned __int128 s = (unsigned __int128)a[i] + b[i] + carry;
        a[i] = (uint64_t)s;
        carry = s >> 64;
    }
}

/* a -= b, saturating at zero. */
static void u256_sub_sat(uint64_t a[5], const uint64_t b[5])
{
    for (int i = 4; i >= 0; i--) {
        if (a[i] != b[i]) {
            if (a[i] < b[i]) {
                memset(a, 0, 5 * sizeof(*a));
                return;
            }
            break;
        }
    }
    uint64_t borrow = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t x = a[i] - b[i] - borrow;
        borrow = (a[i] < b[i] || (a[i] == b[i] && borrow)) ? 1 : 0;
        a[i] = x;
    }
}

static bool u256_is_zero(const uint64_t l[5])
{
    return !(l[0] | l[1] | l[2] | l[3] | l[4]);
}

/* ---- gas limit and base fee ---- */

/* Is `number` London's own activation block (after genesis)? */
static bool is_london_block(const struct ethd_chain_config *cfg, uint64_t number)
{
    return cfg->fork_block[ETHD_BF_LONDON] == number && number > 0;
}

uint64_t ethd_sealer_gas_limit(const struct ethd_chain_config *cfg,
                               const struct ethd_header *parent, uint64_t target)
{
    uint64_t limit = parent->gas_limit;
    /* EIP-1559: at the fork block the parent's limit counts doubled, so the
     * gas target stays what the limit was. */
    if (is_london_block(cfg, parent->number + 1) && limit <= UINT64_MAX / ELASTICITY_MULTIPLIER)
        limit *= ELASTICITY_MULTIPLIER;
    if (target == 0)
        return limit;
    if (target < MIN_GAS_LIMIT)
        target = MIN_GAS_LIMIT;
    /* Strictly less than parent/1024 per step. */
    uint64_t delta = limit / GAS_LIMIT_BOUND_DIVISOR;
    delta = delta ? delta - 1 : 0;
    if (limit < target)
        return limit + delta > target ? target : limit + delta;
    if (limit > target)
        return limit - delta < target ? target : limit - delta;
    return limit;
}

int ethd_sealer_base_fee(const struct ethd_chain_config *cfg, const struct ethd_header *parent,
                         bool *present, uint8_t out[32])
{
    uint64_t number = parent->number + 1;
    memset(out, 0, 32);
    *present = ethd_chain_block_active(cfg, ETHD_BF_LONDON, number);
    if (!*present)
        return 0;
    if (is_london_block(cfg, number)) {
        uint64_t v = ETHD_SEALER_INITIAL_BASE_FEE;
        for (int i = 31; i >= 24; i--, v >>= 8)
            out[i] = (uint8_t)v;
        return 0;
    }
    if (!(parent->present & ETHD_HDR_BASE_FEE))
        return ETHD_EINVAL;
    uint64_t target = parent->gas_limit / ELASTICITY_MULTIPLIER;
    uint64_t fee[5], delta[5];
    u256_load(parent->base_fee, fee);
    if (parent->gas_used == target || target == 0) {
        memcpy(out, parent->base_fee, 32);
        return 0;
    }
    memcpy(delta, fee, sizeof(fee));
    if (parent->gas_used > target) {
        /* base + max(base * (used - target) / target / 8, 1) */
        u256_mul(delta, parent->gas_used - target);
        u256_div(delta, target);
        u256_div(delta, BASE_FEE_MAX_CHANGE_DENOMINATOR);
        if (u256_is_zero(delta))
            delta[0] = 1;
        u256_add(fee, delta);
    } else {
        /* base - base * (target - used) / target / 8 */
        u256_mul(delta, target - parent->gas_used);
        u256_div(delta, target);
        u256_div(delta, BASE_FEE_MAX_CHANGE_DENOMINATOR);
        u256_sub_sat(fee, delta);
    }
    return u256_store(fee, out);
}

/* ---- the header ---- */

int ethd_sealer_build(const struct ethd_chain_config *cfg, const struct ethd_header *parent,
                      const uint8_t parent_hash[32], const struct ethd_sealer_params *p,
                      struct ethd_header *h, const char **why)
{
    static const char *no_reason = "";
    if (!why)
        why = &no_reason;
    *why = "";
    memset(h, 0, sizeof(*h));
    if (parent->number == UINT64_MAX || p->period == 0)
        return ETHD_EINVAL;
    uint64_t epoch = p->epoch ? p->epoch : 30000;
    memcpy(h->parent_hash, parent_hash, 32);
    memcpy(h->uncles_hash, empty_uncles_hash, 32);
    memcpy(h->state_root, parent->state_root, 32);
    memcpy(h->tx_root, ethd_trie_empty_root, 32);
    memcpy(h->receipts_root, ethd_trie_empty_root, 32);
    h->difficulty[31] = p->in_turn ? ETHD_SEALER_DIFF_INTURN : ETHD_SEALER_DIFF_NOTURN;
    h->number = parent->number + 1;
    h->gas_limit = ethd_sealer_gas_limit(cfg, parent, p->gas_target);
    h->gas_used = 0;
    if (parent->timestamp > UINT64_MAX - p->period)
        return ETHD_ERANGE;
    h->timestamp = parent->timestamp + p->period;
    if (p->now > h->timestamp)
        h->timestamp = p->now;

    /* EIP-225 extra-data: vanity || signers (checkpoints only) || seal. */
    bool checkpoint = h->number % epoch == 0;
    size_t n_signers = checkpoint ? p->n_signers : 0;
    size_t len = ETHD_SEALER_VANITY + 20 * n_signers + ETHD_SEALER_SEAL;
    h->extra = calloc(1, len);
    if (!h->extra)
        return ETHD_ENOMEM;
    h->extra_len = len;
    if (p->vanity)
        memcpy(h->extra, p->vanity, ETHD_SEALER_VANITY);
    for (size_t i = 0; i < n_signers; i++)
        memcpy(h->extra + ETHD_SEALER_VANITY + 20 * i, p->signers[i], 20);

    bool london;
    int rc = ethd_sealer_base_fee(cfg, parent, &london, h->base_fee);
    if (rc)
        return rc;
    if (london)
        h->present |= ETHD_HDR_BASE_FEE;
    /* Shanghai and later need withdrawals (and more) that a clique chain
     * cannot carry: go-ethereum's clique refuses them too. */
    if (ethd_chain_check_header_fields(cfg, h, why))
        return ETHD_ENOTSUP;
    return 0;
}

int ethd_sealer_seal_hash(const struct ethd_header *h, uint8_t out[32])
{
    if (h->extra_len < ETHD_SEALER_SEAL)
        return ETHD_EINVAL;
    struct ethd_header unsealed = *h; /* shallow: shares extra, only read */
    unsealed.extra_len -= ETHD_SEALER_SEAL;
    if (unsealed.extra_len == 0)
        unsealed.extra = NULL;
    struct ethd_buf buf = ETHD_BUF_INIT;
    int rc = ethd_header_encode(&unsealed, &buf);
    if (!rc)
        ethd_keccak256(buf.data, buf.len, out);
    ethd_buf_free(&buf);
    return rc;
}

int ethd_sealer_sign(const struct ethd_secp *secp, struct ethd_header *h,
                     const uint8_t key[ETHD_SECP_SECKEY_LEN])
{
    uint8_t hash[32], sig[ETHD_SECP_SIG_LEN];
    int rc = ethd_sealer_seal_hash(h, hash);
    if (!rc)
        rc = ethd_secp_sign(secp, key, hash, sig);
    if (!rc)
        memcpy(h->extra + h->extra_len - ETHD_SEALER_SEAL, sig, ETHD_SEALER_SEAL);
    return rc;
}

int ethd_sealer_recover(const struct ethd_secp *secp, const struct ethd_header *h,
                        uint8_t signer[20])
{
    uint8_t hash[32], pub[ETHD_SECP_PUBKEY_LEN];
    int rc = ethd_sealer_seal_hash(h, hash);
    if (!rc)
        rc = ethd_secp_recover(secp, hash, h->extra + h->extra_len - ETHD_SEALER_SEAL,
                               ETHD_SEALER_SEAL, pub);
    if (!rc)
        ethd_secp_address(pub, signer);
    return rc;
}

/* ---- the signer key ---- */

#define KEY_HEX 64

int ethd_sealer_key_parse(const struct ethd_secp *secp, const char *hex,
                          uint8_t key[ETHD_SECP_SECKEY_LEN])
{
    if (ethd_hex_decode_fixed(hex, key, ETHD_SECP_SECKEY_LEN) ||
        ethd_secp_seckey_check(secp, key)) {
        explicit_bzero(key, ETHD_SECP_SECKEY_LEN);
        return ETHD_EINVAL;
    }
    return 0;
}

static int write_new_key(const struct ethd_secp *secp, const char *path,
                         uint8_t key[ETHD_SECP_SECKEY_LEN], char *err, size_t errlen)
{
    int rc = ethd_secp_keygen(secp, key);
    if (rc) {
        snprintf(err, errlen, "cannot generate a signer key: %s", ethd_strerror(rc));
        return rc;
    }
    char hex[KEY_HEX + 2];
    ethd_hex_encode_bare(key, ETHD_SECP_SECKEY_LEN, hex);
    hex[KEY_HEX] = '\n';
    /* O_EXCL: never overwrite a key someone put there meanwhile. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    int e = errno;
    rc = 0;
    if (fd < 0) {
        rc = ETHD_EIO;
    } else {
        size_t off = 0;
        while (off < KEY_HEX + 1) {
            ssize_t w = write(fd, hex + off, KEY_HEX + 1 - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                e = w < 0 ? errno : EIO;
                rc = ETHD_EIO;
                break;
            }
            off += (size_t)w;
        }
        if (!rc && fsync(fd) != 0) {
            e = errno;
            rc = ETHD_EIO;
        }
        if (close(fd) != 0 && !rc) {
            e = errno;
            rc = ETHD_EIO;
        }
        if (rc)
            unlink(path);
    }
    explicit_bzero(hex, sizeof(hex));
    if (rc) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        explicit_bzero(key, ETHD_SECP_SECKEY_LEN);
    }
    return rc;
}

int ethd_sealer_key_load(const struct ethd_secp *secp, const char *path, bool generate,
                         uint8_t key[ETHD_SECP_SECKEY_LEN], bool *generated, char *err,
                         size_t errlen)
{
    *generated = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (!generate) {
            snprintf(err, errlen,
                     "no signer key: %s does not exist (set key or key_file, or generate_key: "
                     "true to create one)",
                     path);
            return ETHD_ENOTFOUND;
        }
        int rc = write_new_key(secp, path, key, err, errlen);
        *generated = rc == 0;
        return rc;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return ETHD_EIO;
    }
    struct stat st;
    int rc = 0;
    char buf[KEY_HEX + 8];
    size_t n = 0;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        rc = ETHD_EIO;
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        rc = ETHD_EINVAL;
    } else if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "%s has mode %04o: it holds the signer's private key and must be private to "
                 "its owner (run: chmod 600 %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        rc = ETHD_EINVAL;
    }
    while (!rc && n < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            rc = ETHD_EIO;
        }
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!rc) {
        buf[n] = '\0';
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
            buf[--n] = '\0';
        if (ethd_sealer_key_parse(secp, buf, key)) {
            snprintf(err, errlen, "%s must hold one secp256k1 private key as 64 hex digits", path);
            rc = ETHD_EINVAL;
        }
    }
    explicit_bzero(buf, sizeof(buf));
    return rc;
}
