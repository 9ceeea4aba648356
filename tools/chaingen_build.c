/* Clique block building for generated chains (see chaingen_build.h). */
#include "chaingen_build.h"

#include <ethd/error.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/trie.h>

#include <stdlib.h>
#include <string.h>

const uint8_t ethd_chaingen_empty_uncles[32] = {
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
};

/* EIP-1559 constants. */
#define ELASTICITY 2
#define CHANGE_DENOMINATOR 8

static int load_u128(const uint8_t be[32], unsigned __int128 *v)
{
    for (int i = 0; i < 16; i++)
        if (be[i])
            return ETHD_ERANGE;
    unsigned __int128 x = 0;
    for (int i = 16; i < 32; i++)
        x = x << 8 | be[i];
    *v = x;
    return 0;
}

static void store_u128(unsigned __int128 v, uint8_t be[32])
{
    memset(be, 0, 16);
    for (int i = 31; i >= 16; i--, v >>= 8)
        be[i] = (uint8_t)v;
}

int ethd_chaingen_base_fee(const struct ethd_header *parent, uint8_t out[32])
{
    if (!(parent->present & ETHD_HDR_BASE_FEE))
        return ETHD_EINVAL;
    unsigned __int128 fee;
    if (load_u128(parent->base_fee, &fee))
        return ETHD_ERANGE;
    /* Below 2^96 the products below stay under 2^128. */
    if (fee >> 96)
        return ETHD_ERANGE;
    uint64_t target = parent->gas_limit / ELASTICITY;
    if (target == 0 || parent->gas_used == target) {
        memcpy(out, parent->base_fee, 32);
        return 0;
    }
    if (parent->gas_used > target) {
        unsigned __int128 d = fee * (parent->gas_used - target) / target / CHANGE_DENOMINATOR;
        fee += d ? d : 1;
    } else {
        unsigned __int128 d = fee * (target - parent->gas_used) / target / CHANGE_DENOMINATOR;
        fee -= d;
    }
    store_u128(fee, out);
    return 0;
}

int ethd_chaingen_header(const struct ethd_header *parent, const uint8_t parent_hash[32],
                         uint64_t period, uint64_t epoch, const uint8_t *vanity,
                         const uint8_t (*signers)[20], size_t n_signers, struct ethd_header *h)
{
    memset(h, 0, sizeof(*h));
    if (parent->number == UINT64_MAX || parent->timestamp > UINT64_MAX - period || epoch == 0)
        return ETHD_ERANGE;
    memcpy(h->parent_hash, parent_hash, 32);
    memcpy(h->uncles_hash, ethd_chaingen_empty_uncles, 32);
    memcpy(h->state_root, parent->state_root, 32);
    memcpy(h->tx_root, ethd_trie_empty_root, 32);
    memcpy(h->receipts_root, ethd_trie_empty_root, 32);
    h->difficulty[31] = 2; /* EIP-225 DIFF_INTURN */
    h->number = parent->number + 1;
    h->gas_limit = parent->gas_limit;
    h->timestamp = parent->timestamp + period;
    size_t ns = h->number % epoch == 0 ? n_signers : 0;
    h->extra_len = ETHD_CHAINGEN_VANITY + 20 * ns + ETHD_CHAINGEN_SEAL;
    h->extra = calloc(1, h->extra_len);
    if (!h->extra)
        return ETHD_ENOMEM;
    if (vanity)
        memcpy(h->extra, vanity, ETHD_CHAINGEN_VANITY);
    for (size_t i = 0; i < ns; i++)
        memcpy(h->extra + ETHD_CHAINGEN_VANITY + 20 * i, signers[i], 20);
    h->present = ETHD_HDR_BASE_FEE;
    return ethd_chaingen_base_fee(parent, h->base_fee);
}

int ethd_chaingen_seal(const struct ethd_secp *secp, struct ethd_header *h,
                       const uint8_t key[ETHD_SECP_SECKEY_LEN])
{
    if (h->extra_len < ETHD_CHAINGEN_SEAL)
        return ETHD_EINVAL;
    struct ethd_header unsealed = *h; /* shallow: shares extra, only read */
    unsealed.extra_len -= ETHD_CHAINGEN_SEAL;
    if (unsealed.extra_len == 0)
        unsealed.extra = NULL;
    struct ethd_buf b = ETHD_BUF_INIT;
    uint8_t hash[32], sig[ETHD_SECP_SIG_LEN];
    int rc = ethd_header_encode(&unsealed, &b);
    if (!rc) {
        ethd_keccak256(b.data, b.len, hash);
        rc = ethd_secp_sign(secp, key, hash, sig);
    }
    if (!rc)
        memcpy(h->extra + h->extra_len - ETHD_CHAINGEN_SEAL, sig, ETHD_CHAINGEN_SEAL);
    ethd_buf_free(&b);
    return rc;
}

int ethd_chaingen_block_encode(const struct ethd_header *h, const struct ethd_trie_item *txs,
                               size_t n_txs, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_header_encode_rlp(&e, h);
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < n_txs; i++) {
        /* EIP-2718: a typed envelope is a byte string item, a legacy tx its list. */
        if (txs[i].len && txs[i].data[0] < 0x80)
            ethd_rlp_bytes(&e, txs[i].data, txs[i].len);
        else
            ethd_rlp_raw(&e, txs[i].data, txs[i].len);
    }
    ethd_rlp_list_end(&e);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    return ethd_rlp_enc_finish(&e);
}
