/* Keccak-256 (Keccak[r=1088, c=512]) with the original Keccak pad10*1
 * padding (first pad byte 0x01, last byte |= 0x80), as the Yellow Paper and
 * every Ethereum hash use it; FIPS-202 SHA3-256 differs only in the domain
 * byte (0x06). The permutation is nettle's Keccak-f[1600], whose state is 25
 * 64-bit lanes a[x + 5y]; the sponge XORs input bytes into the lanes in
 * little-endian order (Keccak reference, "bit and byte numbering"). */
#include <ethd/keccak.h>

#include <nettle/sha3.h>
#include <string.h>

/* nettle's state must be exactly our 25 lanes so we can permute in place. */
_Static_assert(sizeof(struct sha3_state) == 25 * sizeof(uint64_t),
               "nettle sha3_state is not 25 lanes");
_Static_assert(ETHD_KECCAK256_RATE % 8 == 0, "rate is a whole number of lanes");

#define RATE_LANES (ETHD_KECCAK256_RATE / 8)

const uint8_t ethd_keccak256_empty[ETHD_KECCAK256_LEN] = {
    0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d,
    0xb2, 0xdc, 0xc7, 0x03, 0xc0, 0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82,
    0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70,
};

static inline uint64_t load_le64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
#endif
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline void permute(uint64_t s[25])
{
    sha3_permute((struct sha3_state *)(void *)s);
}

/* XOR one full rate block into the state and permute. */
static inline void absorb_block(uint64_t s[25], const uint8_t *blk)
{
    for (unsigned i = 0; i < RATE_LANES; i++)
        s[i] ^= load_le64(blk + 8 * i);
    permute(s);
}

void ethd_keccak_init(struct ethd_keccak *k)
{
    memset(k->state, 0, sizeof(k->state));
    k->fill = 0;
}

void ethd_keccak_update(struct ethd_keccak *k, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (len == 0)
        return;
    if (k->fill) {
        size_t take = ETHD_KECCAK256_RATE - k->fill;
        if (take > len)
            take = len;
        memcpy(k->block + k->fill, p, take);
        k->fill += take;
        p += take;
        len -= take;
        if (k->fill < ETHD_KECCAK256_RATE)
            return;
        absorb_block(k->state, k->block);
        k->fill = 0;
    }
    /* Hot path: whole blocks straight from the input, no copy. */
    while (len >= ETHD_KECCAK256_RATE) {
        absorb_block(k->state, p);
        p += ETHD_KECCAK256_RATE;
        len -= ETHD_KECCAK256_RATE;
    }
    if (len) {
        memcpy(k->block, p, len);
        k->fill = len;
    }
}

/* Absorb the pending tail (fill < rate bytes at blk) with its padding
 * straight into the lanes, permute, and squeeze 32 bytes. Padding is
 * pad10*1 with Keccak's original domain byte: 0x01 after the message, 0x80
 * in the last byte of the block (the two coincide in one 0x81 byte when
 * fill == rate - 1). */
static void finish(uint64_t s[25], const uint8_t *blk, size_t fill,
                   uint8_t out[ETHD_KECCAK256_LEN])
{
    size_t full = fill / 8, rem = fill % 8;
    for (size_t i = 0; i < full; i++)
        s[i] ^= load_le64(blk + 8 * i);
    uint64_t last = (uint64_t)0x01 << (8 * rem);
    for (size_t j = 0; j < rem; j++)
        last |= (uint64_t)blk[8 * full + j] << (8 * j);
    s[full] ^= last;
    s[RATE_LANES - 1] ^= (uint64_t)0x80 << 56;
    permute(s);
    for (unsigned i = 0; i < ETHD_KECCAK256_LEN / 8; i++)
        store_le64(out + 8 * i, s[i]);
}

void ethd_keccak_final(struct ethd_keccak *k, uint8_t out[ETHD_KECCAK256_LEN])
{
    finish(k->state, k->block, k->fill, out);
}

void ethd_keccak_peek(const struct ethd_keccak *k, uint8_t out[ETHD_KECCAK256_LEN])
{
    uint64_t s[25];

    memcpy(s, k->state, sizeof(s));
    finish(s, k->block, k->fill, out);
}

void ethd_keccak256(const void *data, size_t len, uint8_t out[ETHD_KECCAK256_LEN])
{
    const uint8_t *p = data;
    uint64_t s[25] = {0};

    while (len >= ETHD_KECCAK256_RATE) {
        absorb_block(s, p);
        p += ETHD_KECCAK256_RATE;
        len -= ETHD_KECCAK256_RATE;
    }
    finish(s, p, len, out);
}
