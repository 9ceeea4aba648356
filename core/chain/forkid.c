/* EIP-2124 fork identifier with EIP-6122 timestamp forks. */
#include <ethd/error.h>
#include <ethd/forkid.h>
#include <ethd/genesis.h>

#include <stdlib.h>
#include <string.h>

/* EIP-2124 "FORK_NEXT" may be a block number or (EIP-6122) a timestamp; a
 * value above mainnet's genesis timestamp is taken to be a timestamp. */
#define TIMESTAMP_THRESHOLD 1438269973u

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bitwise: the
 * inputs are 32 + 8 bytes per fork, so a table buys nothing. The running
 * value is kept in its final (xor-ed) form, like zlib's crc32(). */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t crc_fork(uint32_t crc, uint64_t fork)
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(fork >> (56 - 8 * i));
    return crc32_update(crc, be, 8);
}

static void put32(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort, drop values <= `floor` and duplicates; returns the new count. */
static size_t normalise(uint64_t *v, size_t n, uint64_t floor)
{
    qsort(v, n, sizeof *v, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] <= floor)
            continue;
        if (w && v[w - 1] == v[i])
            continue;
        v[w++] = v[i];
    }
    return w;
}

void ethd_forkid_forks(const struct ethd_chain_config *c, uint64_t genesis_time,
                       uint64_t *blocks, size_t *n_blocks, uint64_t *times, size_t *n_times)
{
    size_t nb = 0, nt = 0;
    /* Every scheduled fork counts, including the DAO block whatever
     * daoForkSupport says (the fork id tracks the schedule, not the side). */
    for (int f = 0; f < ETHD_BF_N && nb < ETHD_FORKID_MAX_FORKS; f++)
        if (c->fork_block[f] != ETHD_FORK_UNSET)
            blocks[nb++] = c->fork_block[f];
    for (int f = 0; f < ETHD_TF_N && nt < ETHD_FORKID_MAX_FORKS; f++)
        if (c->fork_time[f] != ETHD_FORK_UNSET)
            times[nt++] = c->fork_time[f];
    /* Block forks at 0 are part of the genesis rules; time forks at or
     * before the genesis timestamp likewise. */
    *n_blocks = normalise(blocks, nb, 0);
    *n_times = normalise(times, nt, genesis_time);
}

/* CRC after the genesis hash and the first k forks (blocks, then times). */
static uint32_t checksum_upto(const uint8_t genesis_hash[32], const uint64_t *blocks,
                              size_t n_blocks, const uint64_t *times, size_t k)
{
    uint32_t crc = crc32_update(0, genesis_hash, 32);
    for (size_t i = 0; i < k; i++)
        crc = crc_fork(crc, i < n_blocks ? blocks[i] : times[i - n_blocks]);
    return crc;
}

void ethd_forkid_from_forks(const uint8_t genesis_hash[32], const uint64_t *blocks,
                            size_t n_blocks, const uint64_t *times, size_t n_times,
                            uint64_t head_number, uint64_t head_time, struct ethd_forkid *out)
{
    uint32_t crc = crc32_update(0, genesis_hash, 32);
    out->next = 0;
    for (size_t i = 0; i < n_blocks + n_times; i++) {
        bool by_time = i >= n_blocks;
        uint64_t fork = by_time ? times[i - n_blocks] : blocks[i];
        if ((by_time ? head_time : head_number) < fork) {
            out->next = fork;
            break;
        }
        crc = crc_fork(crc, fork);
    }
    put32(out->hash, crc);
}

void ethd_forkid_compute(const struct ethd_chain_config *c, const uint8_t genesis_hash[32],
                         uint64_t genesis_time, uint64_t head_number, uint64_t head_time,
                         struct ethd_forkid *out)
{
    uint64_t blocks[ETHD_FORKID_MAX_FORKS], times[ETHD_FORKID_MAX_FORKS];
    size_t nb, nt;
    ethd_forkid_forks(c, genesis_time, blocks, &nb, times, &nt);
    ethd_forkid_from_forks(genesis_hash, blocks, nb, times, nt, head_number, head_time, out);
}

static uint32_t get32(const uint8_t in[4])
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

int ethd_forkid_validate_forks(const uint8_t genesis_hash[32], const uint64_t *blocks,
                               size_t n_blocks, const uint64_t *times, size_t n_times,
                               uint64_t head_number, uint64_t head_time,
                               const struct ethd_forkid *remote)
{
    size_t n = n_blocks + n_times;
    uint32_t want = get32(remote->hash);

    /* Walk the local forks to the first one not yet passed; index n stands
     * for "no more forks" and is never passed. */
    for (size_t i = 0; i <= n; i++) {
        if (i < n) {
            bool by_time = i >= n_blocks;
            uint64_t fork = by_time ? times[i - n_blocks] : blocks[i];
            if ((by_time ? head_time : head_number) >= fork)
                continue;
        }
        uint32_t here = checksum_upto(genesis_hash, blocks, n_blocks, times, i);
        /* Rule 1: same fork state. 1a: the remote announces a next fork
         * that we have already passed without knowing it -> we are stale
         * or on another chain. 1b: otherwise accept. */
        if (here == want) {
            if (remote->next > 0 &&
                (head_number >= remote->next ||
                 (remote->next > TIMESTAMP_THRESHOLD && head_time >= remote->next)))
                return ETHD_FORKID_LOCAL_INCOMPATIBLE;
            return ETHD_FORKID_ACCEPT;
        }
        /* Rule 2: the remote is in one of our past fork states; it must
         * know the fork that followed it, else it needs an update. */
        for (size_t j = 0; j < i; j++) {
            if (checksum_upto(genesis_hash, blocks, n_blocks, times, j) == want) {
                uint64_t following = j < n_blocks ? blocks[j] : times[j - n_blocks];
                return following == remote->next ? ETHD_FORKID_ACCEPT
                                                 : ETHD_FORKID_REMOTE_STALE;
            }
        }
        /* Rule 3: the remote is in one of our future fork states: we are
         * simply behind. */
        for (size_t j = i + 1; j <= n; j++)
            if (checksum_upto(genesis_hash, blocks, n_blocks, times, j) == want)
                return ETHD_FORKID_ACCEPT;
        /* Rule 4: no match at all. */
        return ETHD_FORKID_LOCAL_INCOMPATIBLE;
    }
    return ETHD_FORKID_LOCAL_INCOMPATIBLE; /* not reached */
}

int ethd_forkid_validate(const struct ethd_chain_config *c, const uint8_t genesis_hash[32],
                         uint64_t genesis_time, uint64_t head_number, uint64_t head_time,
                         const struct ethd_forkid *remote)
{
    uint64_t blocks[ETHD_FORKID_MAX_FORKS], times[ETHD_FORKID_MAX_FORKS];
    size_t nb, nt;
    ethd_forkid_forks(c, genesis_time, blocks, &nb, times, &nt);
    return ethd_forkid_validate_forks(genesis_hash, blocks, nb, times, nt, head_number,
                                      head_time, remote);
}

void ethd_forkid_encode_rlp(struct ethd_rlp_enc *e, const struct ethd_forkid *id)
{
    ethd_rlp_list_begin(e);
    ethd_rlp_bytes(e, id->hash, 4);
    ethd_rlp_uint(e, id->next);
    ethd_rlp_list_end(e);
}

int ethd_forkid_decode_item(const struct ethd_rlp_item *it, struct ethd_forkid *id)
{
    struct ethd_rlp_iter iter;
    struct ethd_rlp_item h, nx;
    int rc;

    memset(id, 0, sizeof *id);
    if ((rc = ethd_rlp_iter_init(&iter, it)) != 0)
        return rc;
    if (ethd_rlp_iter_next(&iter, &h) || ethd_rlp_iter_next(&iter, &nx) ||
        ethd_rlp_iter_more(&iter))
        return ETHD_EINVAL;
    if ((rc = ethd_rlp_get_fixed(&h, id->hash, 4)) != 0)
        return rc;
    return ethd_rlp_get_uint64(&nx, &id->next);
}
