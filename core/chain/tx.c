/* Transactions: the EIP-2718 envelope and types 0-4 (legacy with and without
 * EIP-155, EIP-2930, EIP-1559, EIP-4844, EIP-7702), signing hashes, sender
 * recovery and the checks that need no state. */
#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/secp256k1.h>

#include <stdlib.h>
#include <string.h>

/* Field counts of each form (EIP-2930/1559/4844/7702 "TransactionPayload"). */
#define LEGACY_FIELDS 9
#define MAX_TX_FIELDS 14

/* ---------- 256-bit helpers ---------- */

static bool u256_is_zero(const uint8_t a[32])
{
    for (int i = 0; i < 32; i++)
        if (a[i])
            return false;
    return true;
}

/* a <=> b as big-endian numbers. */
static int u256_cmp(const uint8_t a[32], const uint8_t b[32])
{
    return memcmp(a, b, 32);
}

static bool u256_fits64(const uint8_t a[32], uint64_t *out)
{
    for (int i = 0; i < 24; i++)
        if (a[i])
            return false;
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | a[i];
    *out = v;
    return true;
}

static void u256_from128(uint8_t out[32], unsigned __int128 v)
{
    memset(out, 0, 32);
    for (int i = 31; i >= 16; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* What a legacy v says (Yellow Paper appendix F; EIP-155): 27/28 is an
 * unprotected signature, 35 + 2*chain_id + {0,1} a protected one.
 * ETHD_EINVAL for any other value, ETHD_ERANGE for a chain id above 2^64-1. */
static int legacy_v_info(const uint8_t v[32], bool *protected_, uint64_t *chain_id, uint8_t *rec)
{
    uint64_t small;
    if (u256_fits64(v, &small)) {
        if (small == 27 || small == 28) {
            *protected_ = false;
            *chain_id = 0;
            *rec = (uint8_t)(small - 27);
            return 0;
        }
        if (small < 35)
            return ETHD_EINVAL;
        *protected_ = true;
        *chain_id = (small - 35) / 2;
        *rec = (uint8_t)((small - 35) & 1);
        return 0;
    }
    /* v >= 2^64: t = v - 35 computed byte-wise, then chain = t >> 1 must
     * fit in 64 bits, i.e. t < 2^65. */
    uint8_t t[32];
    int borrow = 0, sub = 35;
    for (int i = 31; i >= 0; i--) {
        int d = v[i] - (i == 31 ? sub : 0) - borrow;
        borrow = d < 0;
        t[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    for (int i = 0; i < 23; i++)
        if (t[i])
            return ETHD_ERANGE;
    if (t[23] > 1)
        return ETHD_ERANGE;
    unsigned __int128 tv = 0;
    for (int i = 23; i < 32; i++)
        tv = tv << 8 | t[i];
    *protected_ = true;
    *chain_id = (uint64_t)(tv >> 1);
    *rec = (uint8_t)(tv & 1);
    return 0;
}

/* ---------- decoding helpers ---------- */

static int get_to(const struct ethd_rlp_item *it, struct ethd_tx *tx, bool required)
{
    if (it->is_list)
        return ETHD_ETYPE;
    if (it->len == 0) {
        tx->has_to = false;
        return required ? ETHD_EINVAL : 0;
    }
    if (it->len != 20)
        return ETHD_EINVAL;
    memcpy(tx->to, it->payload, 20);
    tx->has_to = true;
    return 0;
}

static int dup_mem(const void *p, size_t n, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (n == 0)
        return 0;
    *out = malloc(n);
    if (!*out)
        return ETHD_ENOMEM;
    memcpy(*out, p, n);
    *out_len = n;
    return 0;
}

static int get_data(const struct ethd_rlp_item *it, struct ethd_tx *tx)
{
    if (it->is_list)
        return ETHD_ETYPE;
    return dup_mem(it->payload, it->len, &tx->data, &tx->data_len);
}

/* EIP-2930: accessList = [[address (20 bytes), [storageKey (32 bytes), ...]], ...] */
static int check_access_list(const struct ethd_rlp_item *list, size_t *addrs, size_t *keys)
{
    struct ethd_rlp_iter it, entry_it, keys_it;
    struct ethd_rlp_item entry, addr, ks, key;
    int rc;

    *addrs = *keys = 0;
    if ((rc = ethd_rlp_iter_init(&it, list)) != 0)
        return rc;
    while (ethd_rlp_iter_more(&it)) {
        if ((rc = ethd_rlp_iter_next(&it, &entry)) != 0)
            return rc;
        if ((rc = ethd_rlp_iter_init(&entry_it, &entry)) != 0)
            return rc;
        if (ethd_rlp_iter_next(&entry_it, &addr) || ethd_rlp_iter_next(&entry_it, &ks) ||
            ethd_rlp_iter_more(&entry_it))
            return ETHD_EINVAL;
        if (addr.is_list || !ks.is_list)
            return ETHD_ETYPE;
        if (addr.len != 20)
            return ETHD_EINVAL;
        (*addrs)++;
        if ((rc = ethd_rlp_iter_init(&keys_it, &ks)) != 0)
            return rc;
        while (ethd_rlp_iter_more(&keys_it)) {
            if ((rc = ethd_rlp_iter_next(&keys_it, &key)) != 0)
                return rc;
            if (key.is_list)
                return ETHD_ETYPE;
            if (key.len != 32)
                return ETHD_EINVAL;
            (*keys)++;
        }
    }
    return 0;
}

/* EIP-7702: authorizationList = [[chain_id, address, nonce, y_parity, r, s], ...] */
static int check_auth_list(const struct ethd_rlp_item *list, size_t *count)
{
    struct ethd_rlp_iter it, fit;
    struct ethd_rlp_item entry, f[6];
    uint8_t u[32];
    uint64_t x;
    int rc;

    *count = 0;
    if ((rc = ethd_rlp_iter_init(&it, list)) != 0)
        return rc;
    while (ethd_rlp_iter_more(&it)) {
        if ((rc = ethd_rlp_iter_next(&it, &entry)) != 0)
            return rc;
        if ((rc = ethd_rlp_iter_init(&fit, &entry)) != 0)
            return rc;
        for (int i = 0; i < 6; i++)
            if (ethd_rlp_iter_next(&fit, &f[i]))
                return ETHD_EINVAL;
        if (ethd_rlp_iter_more(&fit))
            return ETHD_EINVAL;
        if ((rc = ethd_rlp_get_u256(&f[0], u)) != 0)
            return rc;
        if (f[1].is_list)
            return ETHD_ETYPE;
        if (f[1].len != 20)
            return ETHD_EINVAL;
        if ((rc = ethd_rlp_get_uint64(&f[2], &x)) != 0)
            return rc;
        if ((rc = ethd_rlp_get_uint64(&f[3], &x)) != 0)
            return rc;
        if (x > 255)
            return ETHD_ERANGE; /* y_parity is a uint8 */
        if ((rc = ethd_rlp_get_u256(&f[4], u)) != 0 || (rc = ethd_rlp_get_u256(&f[5], u)) != 0)
            return rc;
        (*count)++;
    }
    return 0;
}

static int get_blob_hashes(const struct ethd_rlp_item *list, struct ethd_tx *tx)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item h;
    size_t n;
    int rc;

    if ((rc = ethd_rlp_list_count(list, &n)) != 0)
        return rc;
    if (n == 0)
        return 0;
    tx->blob_hashes = calloc(n, 32);
    if (!tx->blob_hashes)
        return ETHD_ENOMEM;
    if ((rc = ethd_rlp_iter_init(&it, list)) != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = ethd_rlp_iter_next(&it, &h)) != 0)
            return rc;
        if ((rc = ethd_rlp_get_fixed(&h, tx->blob_hashes[i], 32)) != 0)
            return rc;
        tx->n_blob_hashes++;
    }
    return 0;
}

static int decode_legacy(const struct ethd_rlp_item *it, struct ethd_tx *tx)
{
    struct ethd_rlp_item f[LEGACY_FIELDS];
    struct ethd_rlp_iter iter;
    int rc;
    size_t n = 0;

    if ((rc = ethd_rlp_iter_init(&iter, it)) != 0)
        return rc;
    while (ethd_rlp_iter_more(&iter)) {
        if (n == LEGACY_FIELDS)
            return ETHD_EINVAL;
        if ((rc = ethd_rlp_iter_next(&iter, &f[n])) != 0)
            return rc;
        n++;
    }
    if (n != LEGACY_FIELDS)
        return ETHD_EINVAL;
    tx->type = ETHD_TX_LEGACY;
    if ((rc = ethd_rlp_get_uint64(&f[0], &tx->nonce)) ||
        (rc = ethd_rlp_get_u256(&f[1], tx->gas_price)) ||
        (rc = ethd_rlp_get_uint64(&f[2], &tx->gas)) || (rc = get_to(&f[3], tx, false)) ||
        (rc = ethd_rlp_get_u256(&f[4], tx->value)) || (rc = ethd_rlp_get_u256(&f[6], tx->v)) ||
        (rc = ethd_rlp_get_u256(&f[7], tx->r)) || (rc = ethd_rlp_get_u256(&f[8], tx->s)))
        return rc;
    if (f[5].is_list)
        return ETHD_ETYPE;
    bool prot;
    uint64_t chain;
    uint8_t rec;
    /* An invalid v is kept: the sender check reports it. */
    if (legacy_v_info(tx->v, &prot, &chain, &rec) == 0) {
        tx->has_chain_id = prot;
        tx->chain_id = chain;
        tx->y_parity = rec;
    }
    return get_data(&f[5], tx);
}

static int decode_typed(uint8_t type, const struct ethd_rlp_item *it, struct ethd_tx *tx)
{
    static const size_t counts[5] = {0, 11, 12, 14, 13};
    struct ethd_rlp_item f[MAX_TX_FIELDS];
    struct ethd_rlp_iter iter;
    size_t n = 0, i = 0;
    int rc;

    if (!it->is_list)
        return ETHD_ETYPE;
    if ((rc = ethd_rlp_iter_init(&iter, it)) != 0)
        return rc;
    while (ethd_rlp_iter_more(&iter)) {
        if (n == counts[type])
            return ETHD_EINVAL;
        if ((rc = ethd_rlp_iter_next(&iter, &f[n])) != 0)
            return rc;
        n++;
    }
    if (n != counts[type])
        return ETHD_EINVAL;

    tx->type = type;
    tx->has_chain_id = true;
    if ((rc = ethd_rlp_get_uint64(&f[i++], &tx->chain_id)) ||
        (rc = ethd_rlp_get_uint64(&f[i++], &tx->nonce)))
        return rc;
    if (type == ETHD_TX_ACCESS_LIST) {
        if ((rc = ethd_rlp_get_u256(&f[i++], tx->gas_price)))
            return rc;
    } else {
        if ((rc = ethd_rlp_get_u256(&f[i++], tx->max_priority_fee)) ||
            (rc = ethd_rlp_get_u256(&f[i++], tx->max_fee)))
            return rc;
    }
    if ((rc = ethd_rlp_get_uint64(&f[i++], &tx->gas)))
        return rc;
    /* Blob and set-code transactions cannot create contracts. */
    if ((rc = get_to(&f[i++], tx, type >= ETHD_TX_BLOB)) ||
        (rc = ethd_rlp_get_u256(&f[i++], tx->value)))
        return rc;
    const struct ethd_rlp_item *data = &f[i++];
    const struct ethd_rlp_item *al = &f[i++];
    if (data->is_list)
        return ETHD_ETYPE;
    if (!al->is_list)
        return ETHD_ETYPE;
    if ((rc = check_access_list(al, &tx->access_list_addrs, &tx->access_list_keys)))
        return rc;
    if (type == ETHD_TX_BLOB) {
        if ((rc = ethd_rlp_get_u256(&f[i++], tx->max_fee_per_blob_gas)))
            return rc;
        if (!f[i].is_list)
            return ETHD_ETYPE;
        if ((rc = get_blob_hashes(&f[i++], tx)))
            return rc;
    }
    const struct ethd_rlp_item *auth = NULL;
    if (type == ETHD_TX_SET_CODE) {
        auth = &f[i++];
        if (!auth->is_list)
            return ETHD_ETYPE;
        if ((rc = check_auth_list(auth, &tx->n_auth)))
            return rc;
    }
    if ((rc = ethd_rlp_get_u256(&f[i++], tx->v)) || (rc = ethd_rlp_get_u256(&f[i++], tx->r)) ||
        (rc = ethd_rlp_get_u256(&f[i++], tx->s)))
        return rc;
    tx->y_parity = tx->v[31];
    if ((rc = dup_mem(data->payload, data->len, &tx->data, &tx->data_len)) ||
        (rc = dup_mem(al->raw, al->raw_len, &tx->access_list, &tx->access_list_len)))
        return rc;
    if (auth && (rc = dup_mem(auth->raw, auth->raw_len, &tx->auth_list, &tx->auth_list_len)))
        return rc;
    return 0;
}

int ethd_tx_decode(const uint8_t *in, size_t len, struct ethd_tx *tx)
{
    struct ethd_rlp_item it;
    int rc;

    memset(tx, 0, sizeof *tx);
    if (!in || len == 0)
        return ETHD_ETRUNC;
    if (in[0] >= 0xc0) {
        if ((rc = ethd_rlp_decode(in, len, &it)) == 0)
            rc = decode_legacy(&it, tx);
    } else if (in[0] < 0x80) {
        /* EIP-2718: TransactionType || TransactionPayload. */
        uint8_t type = in[0];
        if (type == 0 || type > ETHD_TX_SET_CODE)
            return ETHD_ENOTSUP;
        if ((rc = ethd_rlp_decode(in + 1, len - 1, &it)) == 0)
            rc = decode_typed(type, &it, tx);
    } else {
        return ETHD_ETYPE; /* an RLP string is neither form */
    }
    if (rc) {
        ethd_tx_free(tx);
        return rc;
    }
    ethd_keccak256(in, len, tx->hash);
    return 0;
}

int ethd_tx_decode_item(const struct ethd_rlp_item *it, struct ethd_tx *tx)
{
    if (it->is_list)
        return ethd_tx_decode(it->raw, it->raw_len, tx);
    memset(tx, 0, sizeof *tx);
    /* A string item holds a typed envelope, never a legacy list. */
    if (it->len == 0)
        return ETHD_ETRUNC;
    if (it->payload[0] >= 0x80)
        return ETHD_ETYPE;
    return ethd_tx_decode(it->payload, it->len, tx);
}

/* ---------- encoding ---------- */

/* The payload list. `sig` false gives the fields that are signed. */
static void encode_fields(struct ethd_rlp_enc *e, const struct ethd_tx *tx, bool sig)
{
    static const uint8_t zero[32];
    ethd_rlp_list_begin(e);
    if (tx->type == ETHD_TX_LEGACY) {
        ethd_rlp_uint(e, tx->nonce);
        ethd_rlp_u256(e, tx->gas_price);
        ethd_rlp_uint(e, tx->gas);
        ethd_rlp_bytes(e, tx->to, tx->has_to ? 20 : 0);
        ethd_rlp_u256(e, tx->value);
        ethd_rlp_bytes(e, tx->data, tx->data_len);
        if (sig) {
            ethd_rlp_u256(e, tx->v);
            ethd_rlp_u256(e, tx->r);
            ethd_rlp_u256(e, tx->s);
        } else if (tx->has_chain_id) {
            /* EIP-155: (nonce, gasprice, startgas, to, value, data, chainid, 0, 0) */
            ethd_rlp_uint(e, tx->chain_id);
            ethd_rlp_u256(e, zero);
            ethd_rlp_u256(e, zero);
        }
        ethd_rlp_list_end(e);
        return;
    }
    ethd_rlp_uint(e, tx->chain_id);
    ethd_rlp_uint(e, tx->nonce);
    if (tx->type == ETHD_TX_ACCESS_LIST) {
        ethd_rlp_u256(e, tx->gas_price);
    } else {
        ethd_rlp_u256(e, tx->max_priority_fee);
        ethd_rlp_u256(e, tx->max_fee);
    }
    ethd_rlp_uint(e, tx->gas);
    ethd_rlp_bytes(e, tx->to, tx->has_to ? 20 : 0);
    ethd_rlp_u256(e, tx->value);
    ethd_rlp_bytes(e, tx->data, tx->data_len);
    if (tx->access_list_len) {
        ethd_rlp_raw(e, tx->access_list, tx->access_list_len);
    } else {
        ethd_rlp_list_begin(e);
        ethd_rlp_list_end(e);
    }
    if (tx->type == ETHD_TX_BLOB) {
        ethd_rlp_u256(e, tx->max_fee_per_blob_gas);
        ethd_rlp_list_begin(e);
        for (size_t i = 0; i < tx->n_blob_hashes; i++)
            ethd_rlp_bytes(e, tx->blob_hashes[i], 32);
        ethd_rlp_list_end(e);
    }
    if (tx->type == ETHD_TX_SET_CODE) {
        if (tx->auth_list_len) {
            ethd_rlp_raw(e, tx->auth_list, tx->auth_list_len);
        } else {
            ethd_rlp_list_begin(e);
            ethd_rlp_list_end(e);
        }
    }
    if (sig) {
        ethd_rlp_u256(e, tx->v);
        ethd_rlp_u256(e, tx->r);
        ethd_rlp_u256(e, tx->s);
    }
    ethd_rlp_list_end(e);
}

static int encode_form(const struct ethd_tx *tx, bool sig, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    size_t mark = out->len;
    int rc;

    if (tx->type > ETHD_TX_SET_CODE)
        return ETHD_EINVAL;
    if (tx->type != ETHD_TX_LEGACY && (rc = ethd_buf_append(out, &tx->type, 1)) != 0)
        return rc;
    ethd_rlp_enc_init(&e, out);
    encode_fields(&e, tx, sig);
    rc = ethd_rlp_enc_finish(&e);
    if (rc)
        out->len = mark;
    return rc;
}

int ethd_tx_encode(const struct ethd_tx *tx, struct ethd_buf *out)
{
    return encode_form(tx, true, out);
}

void ethd_tx_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_tx *tx)
{
    if (tx->type == ETHD_TX_LEGACY) {
        encode_fields(e, tx, true);
        return;
    }
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc = encode_form(tx, true, &b);
    if (rc) {
        if (!e->err)
            e->err = rc;
    } else {
        ethd_rlp_bytes(e, b.data, b.len);
    }
    ethd_buf_free(&b);
}

int ethd_tx_signing_hash(const struct ethd_tx *tx, uint8_t out[32])
{
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc = encode_form(tx, false, &b);
    if (rc == 0)
        ethd_keccak256(b.data, b.len, out);
    ethd_buf_free(&b);
    return rc;
}

/* ---------- signatures ---------- */

int ethd_tx_sender(const struct ethd_secp *secp, const struct ethd_tx *tx, bool homestead,
                   uint8_t addr[20])
{
    uint8_t sig[65], hash[32], pub[64];
    uint8_t rec;

    if (tx->type == ETHD_TX_LEGACY) {
        bool prot;
        uint64_t chain;
        if (legacy_v_info(tx->v, &prot, &chain, &rec) != 0)
            return ETHD_ECRYPTO;
        /* The struct's chain id is what gets hashed; it must agree with v. */
        if (prot != tx->has_chain_id || (prot && chain != tx->chain_id))
            return ETHD_ECRYPTO;
    } else {
        uint64_t yp;
        if (!u256_fits64(tx->v, &yp) || yp > 1)
            return ETHD_ECRYPTO;
        rec = (uint8_t)yp;
    }
    memcpy(sig, tx->r, 32);
    memcpy(sig + 32, tx->s, 32);
    sig[64] = rec;
    /* EIP-2: from Homestead, s above secp256k1n/2 is invalid. */
    if (homestead && ethd_secp_sig_check_low_s(secp, sig, 65) != 0)
        return ETHD_ECRYPTO;
    int rc = ethd_tx_signing_hash(tx, hash);
    if (rc)
        return rc;
    if (ethd_secp_recover(secp, hash, sig, 65, pub) != 0)
        return ETHD_ECRYPTO;
    ethd_secp_address(pub, addr);
    return 0;
}

int ethd_tx_sign(const struct ethd_secp *secp, struct ethd_tx *tx, const uint8_t seckey[32])
{
    uint8_t hash[32], sig[65];
    int rc = ethd_tx_signing_hash(tx, hash);
    if (rc)
        return rc;
    if ((rc = ethd_secp_sign(secp, seckey, hash, sig)) != 0)
        return rc;
    if (sig[64] > 1)
        return ETHD_ECRYPTO; /* r >= n: astronomically unlikely */
    memcpy(tx->r, sig, 32);
    memcpy(tx->s, sig + 32, 32);
    tx->y_parity = sig[64];
    if (tx->type == ETHD_TX_LEGACY) {
        unsigned __int128 v = tx->has_chain_id ? (unsigned __int128)tx->chain_id * 2 + 35 : 27;
        u256_from128(tx->v, v + sig[64]);
    } else {
        u256_from128(tx->v, sig[64]);
    }
    struct ethd_buf b = ETHD_BUF_INIT;
    if ((rc = ethd_tx_encode(tx, &b)) == 0)
        ethd_keccak256(b.data, b.len, tx->hash);
    ethd_buf_free(&b);
    return rc;
}

void ethd_tx_free(struct ethd_tx *tx)
{
    if (!tx)
        return;
    free(tx->data);
    free(tx->access_list);
    free(tx->blob_hashes);
    free(tx->auth_list);
    memset(tx, 0, sizeof *tx);
}

/* ---------- rules and stateless validation ---------- */

int ethd_rules_for_fork(const char *name, uint64_t chain_id, struct ethd_rules *r)
{
    /* Each name turns on its own fork and every earlier one. */
    static const char *const names[] = {
        "Frontier", "Homestead", "EIP150", "EIP158", "Byzantium", "Constantinople",
        "ConstantinopleFix", "Istanbul", "MuirGlacier", "Berlin", "London", "ArrowGlacier",
        "GrayGlacier", "Paris", "Shanghai", "Cancun", "Prague", "Osaka",
    };
    int level = -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            level = (int)i;
    if (level < 0 && (strcmp(name, "Merge") == 0))
        level = 13;
    if (level < 0 && strcmp(name, "Petersburg") == 0)
        level = 6;
    if (level < 0 && strcmp(name, "TangerineWhistle") == 0)
        level = 2;
    if (level < 0 && strcmp(name, "SpuriousDragon") == 0)
        level = 3;
    if (level < 0)
        return ETHD_ENOTFOUND;
    memset(r, 0, sizeof *r);
    r->chain_id = chain_id;
    r->homestead = level >= 1;
    r->eip150 = level >= 2;
    r->eip155 = r->eip158 = level >= 3;
    r->byzantium = level >= 4;
    r->constantinople = level >= 5;
    r->petersburg = level >= 6;
    r->istanbul = level >= 7;
    r->berlin = level >= 9;
    r->london = level >= 10;
    r->merge = level >= 13;
    r->shanghai = level >= 14;
    r->cancun = level >= 15;
    r->prague = level >= 16;
    r->osaka = level >= 17;
    return 0;
}

/* Checked a + b*c into *acc. */
static bool add_mul(uint64_t *acc, uint64_t b, uint64_t c)
{
    uint64_t p;
    if (__builtin_mul_overflow(b, c, &p))
        return false;
    return !__builtin_add_overflow(*acc, p, acc);
}

static void count_data(const struct ethd_tx *tx, uint64_t *zeros, uint64_t *nonzeros)
{
    uint64_t z = 0;
    for (size_t i = 0; i < tx->data_len; i++)
        z += tx->data[i] == 0;
    *zeros = z;
    *nonzeros = tx->data_len - z;
}

int ethd_tx_intrinsic_gas(const struct ethd_tx *tx, const struct ethd_rules *r, uint64_t *gas)
{
    uint64_t g = 21000, zeros, nonzeros;
    bool create = !tx->has_to;

    if (create && r->homestead)
        g += 32000;
    count_data(tx, &zeros, &nonzeros);
    /* Yellow Paper G_txdatazero = 4, G_txdatanonzero = 68; EIP-2028 makes it 16. */
    if (!add_mul(&g, zeros, 4) || !add_mul(&g, nonzeros, r->istanbul ? 16 : 68))
        return ETHD_ERANGE;
    /* EIP-3860: 2 gas per 32-byte word of initcode. */
    if (create && r->shanghai && !add_mul(&g, (tx->data_len + 31) / 32, 2))
        return ETHD_ERANGE;
    /* EIP-2930: 2400 per address, 1900 per storage key. */
    if (!add_mul(&g, tx->access_list_addrs, 2400) || !add_mul(&g, tx->access_list_keys, 1900))
        return ETHD_ERANGE;
    /* EIP-7702: PER_EMPTY_ACCOUNT_COST per authorization. */
    if (!add_mul(&g, tx->n_auth, 25000))
        return ETHD_ERANGE;
    *gas = g;
    return 0;
}

/* EIP-3860 MAX_INITCODE_SIZE = 2 * MAX_CODE_SIZE (EIP-170). */
#define MAX_INITCODE_SIZE (2 * 24576)
/* EIP-7825 (Osaka): transaction gas limit cap. */
#define OSAKA_TX_GAS_CAP (1ull << 24)

int ethd_tx_validate(const struct ethd_secp *secp, const struct ethd_tx *tx,
                     const struct ethd_rules *r, uint8_t sender[20])
{
    uint8_t addr[20];
    uint64_t g;
    int rc;

    switch (tx->type) {
    case ETHD_TX_LEGACY:
        break;
    case ETHD_TX_ACCESS_LIST:
        if (!r->berlin)
            return ETHD_ENOTSUP;
        break;
    case ETHD_TX_DYNAMIC_FEE:
        if (!r->london)
            return ETHD_ENOTSUP;
        break;
    case ETHD_TX_BLOB:
        if (!r->cancun)
            return ETHD_ENOTSUP;
        break;
    case ETHD_TX_SET_CODE:
        if (!r->prague)
            return ETHD_ENOTSUP;
        break;
    default:
        return ETHD_ENOTSUP;
    }
    /* EIP-2681: the nonce must stay below 2^64-1 so it can be incremented. */
    if (tx->nonce == UINT64_MAX)
        return ETHD_ERANGE;
    /* Chain id: a protected legacy signature needs EIP-155 and our chain;
     * typed transactions always name the chain. */
    if (tx->has_chain_id) {
        if (tx->type == ETHD_TX_LEGACY && !r->eip155)
            return ETHD_ECRYPTO;
        if (tx->chain_id != r->chain_id)
            return ETHD_EINVAL;
    }
    if (tx->type >= ETHD_TX_DYNAMIC_FEE && u256_cmp(tx->max_priority_fee, tx->max_fee) > 0)
        return ETHD_EINVAL;
    if (tx->type == ETHD_TX_BLOB) {
        if (tx->n_blob_hashes == 0)
            return ETHD_EINVAL;
        for (size_t i = 0; i < tx->n_blob_hashes; i++)
            if (tx->blob_hashes[i][0] != 0x01) /* VERSIONED_HASH_VERSION_KZG */
                return ETHD_EINVAL;
    }
    if (tx->type == ETHD_TX_SET_CODE && tx->n_auth == 0)
        return ETHD_EINVAL;
    if (!tx->has_to && r->shanghai && tx->data_len > MAX_INITCODE_SIZE)
        return ETHD_ETOOBIG;
    if (r->osaka && tx->gas > OSAKA_TX_GAS_CAP)
        return ETHD_ERANGE;
    if ((rc = ethd_tx_intrinsic_gas(tx, r, &g)) != 0)
        return rc;
    if (tx->gas < g)
        return ETHD_ERANGE;
    if (r->prague) {
        /* EIP-7623: gas >= 21000 + 10 * tokens, tokens = zeros + 4 * nonzeros. */
        uint64_t zeros, nonzeros, floor = 21000;
        count_data(tx, &zeros, &nonzeros);
        if (!add_mul(&floor, zeros, 10) || !add_mul(&floor, nonzeros, 40) || tx->gas < floor)
            return ETHD_ERANGE;
    }
    if (u256_is_zero(tx->r) || u256_is_zero(tx->s))
        return ETHD_ECRYPTO;
    if ((rc = ethd_tx_sender(secp, tx, r->homestead, addr)) != 0)
        return rc;
    if (sender)
        memcpy(sender, addr, 20);
    return 0;
}

/* ---------- EIP-4844 / EIP-7594 network form ---------- */

#define BLOB_SIZE 131072
#define KZG_LEN 48
#define CELLS_PER_BLOB 128

/* Every item of `list` is a string of exactly `size` bytes; *n = count. */
static int check_fixed_list(const struct ethd_rlp_item *list, size_t size, size_t *n)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item x;
    int rc;

    *n = 0;
    if ((rc = ethd_rlp_iter_init(&it, list)) != 0)
        return rc;
    while (ethd_rlp_iter_more(&it)) {
        if ((rc = ethd_rlp_iter_next(&it, &x)) != 0)
            return rc;
        if (x.is_list)
            return ETHD_ETYPE;
        if (x.len != size)
            return ETHD_EINVAL;
        (*n)++;
    }
    return 0;
}

int ethd_tx_decode_pooled(const uint8_t *in, size_t len, struct ethd_tx *tx, bool *had_sidecar)
{
    struct ethd_rlp_item outer, f[5];
    struct ethd_rlp_iter iter;
    size_t n = 0, nb, nc, np;
    uint64_t version = 0;
    int rc;

    if (had_sidecar)
        *had_sidecar = false;
    if (!in || len < 2 || in[0] != ETHD_TX_BLOB || in[1] < 0xc0)
        return ethd_tx_decode(in, len, tx);
    memset(tx, 0, sizeof *tx);
    if ((rc = ethd_rlp_decode(in + 1, len - 1, &outer)) != 0)
        return rc;
    if ((rc = ethd_rlp_iter_init(&iter, &outer)) != 0)
        return rc;
    if (ethd_rlp_iter_next(&iter, &f[0]) != 0)
        return ETHD_EINVAL;
    if (!f[0].is_list)
        return ethd_tx_decode(in, len, tx); /* plain canonical blob tx */
    for (n = 1; ethd_rlp_iter_more(&iter); n++) {
        if (n == 5)
            return ETHD_EINVAL;
        if ((rc = ethd_rlp_iter_next(&iter, &f[n])) != 0)
            return rc;
    }
    size_t b = 1;
    if (n == 5) {
        if ((rc = ethd_rlp_get_uint64(&f[1], &version)) != 0)
            return rc;
        if (version != 1)
            return ETHD_ENOTSUP;
        b = 2;
    } else if (n != 4) {
        return ETHD_EINVAL;
    }
    if ((rc = check_fixed_list(&f[b], BLOB_SIZE, &nb)) ||
        (rc = check_fixed_list(&f[b + 1], KZG_LEN, &nc)) ||
        (rc = check_fixed_list(&f[b + 2], KZG_LEN, &np)))
        return rc;
    /* The canonical form is the type byte followed by the inner list. */
    uint8_t *canon = malloc(1 + f[0].raw_len);
    if (!canon)
        return ETHD_ENOMEM;
    canon[0] = ETHD_TX_BLOB;
    memcpy(canon + 1, f[0].raw, f[0].raw_len);
    rc = ethd_tx_decode(canon, 1 + f[0].raw_len, tx);
    free(canon);
    if (rc)
        return rc;
    size_t want_proofs = version == 1 ? nb * CELLS_PER_BLOB : nb;
    if (nb != tx->n_blob_hashes || nc != nb || np != want_proofs) {
        ethd_tx_free(tx);
        return ETHD_EINVAL;
    }
    if (had_sidecar)
        *had_sidecar = true;
    return 0;
}
