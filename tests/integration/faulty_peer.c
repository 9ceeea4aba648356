/* faulty_peer: an eth server that misbehaves on purpose, for the sync tests
 * (tests/integration/test_sync_faulty.sh).
 *
 * It listens on 127.0.0.1, completes RLPx (as the recipient), the p2p Hello
 * and the eth Status (eth/66-68; eth/68 with ethd) for a chain read from
 * genesis.json + chain.rlp (+ receipts.rlp), and answers GetBlockHeaders,
 * GetBlockBodies and GetReceipts from it, except as --fault says:
 *
 *   none         answers correctly;
 *   bad-seal     in every BlockHeaders answer one header (block --fault-at
 *                when the answer holds it, else the answer's last header
 *                above genesis) has a byte of its clique seal changed;
 *   slow         every answer is sent --delay seconds late (the connection
 *                stays alive: Pings are still answered at once);
 *   other-chain  serves another chain with the same genesis: blocks
 *                1..--fork-after from the file, then empty blocks sealed
 *                by a key that is not a signer (so invalid from K+1 on),
 *                --fork-extra blocks longer than the file's chain; Status
 *                announces that chain's head and total difficulty (higher
 *                than the real one, so a syncer wants it);
 *   stall        answers the first --stall-after requests, then none
 *                (keeps the connection and answers Pings).
 *
 *   faulty_peer --genesis FILE --chain FILE [--receipts FILE]
 *               [--fault MODE] [--fault-at N] [--delay SECONDS]
 *               [--stall-after N] [--fork-after K] [--fork-extra N]
 *               [--port P] [--max-seconds S]
 *
 * stdout: one JSON object per line: {"ev":"listening","enode":...} first,
 * then per connection (each served by its own child process): accept,
 * hello, status, request {kind, id, count, served, fault}, answer (a
 * delayed answer leaving), disconnect {reason}, eof, error {msg}.
 * Every wait is bounded: the process and its children end after
 * --max-seconds (default 300). Uses core internals (the RLPx codec and
 * hello.h's version) as a test program may. */
#include "p2p/rlpx.h"

#include "../../tools/chaingen_build.h"

#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/forkid.h>
#include <ethd/genesis.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BASE 0x10 /* eth right after the p2p codes */
#define WAIT_MS 10000
#define MAX_SERVE 1024            /* headers/bodies/receipts per answer */
#define SOFT_LIMIT (2u << 20)     /* caps/eth.md: ~2 MiB answers */
#define MAX_MSG (16u << 20)

/* eth/66+ message codes (caps/eth.md) */
#define ETH_STATUS 0x00
#define ETH_GET_HEADERS 0x03
#define ETH_HEADERS 0x04
#define ETH_GET_BODIES 0x05
#define ETH_BODIES 0x06
#define ETH_GET_RECEIPTS 0x0f
#define ETH_RECEIPTS 0x10

enum fault { F_NONE, F_BAD_SEAL, F_SLOW, F_OTHER_CHAIN, F_STALL };
static const char *const fault_names[] = {"none", "bad-seal", "slow", "other-chain", "stall"};

struct blk {
    const uint8_t *hdr; /* header RLP, borrowed from the chain buffers */
    size_t hdr_len;
    const uint8_t *body; /* the block list's items after the header */
    size_t body_len;
    const uint8_t *rcpt; /* receipt list RLP, or NULL (then an empty list) */
    size_t rcpt_len;
    uint8_t hash[32];
};

struct chain {
    struct ethd_genesis g;
    struct ethd_buf genesis_hdr;
    uint8_t *file, *rfile;
    size_t file_len, rfile_len;
    struct ethd_buf fork; /* generated blocks (other-chain) */
    struct blk *b;        /* b[0] genesis, b[i] block i */
    size_t n;             /* blocks 1..n */
    uint8_t td[32];
    uint64_t head_time;
};

struct opts {
    enum fault fault;
    uint64_t fault_at, delay_s, stall_after, fork_after, fork_extra, max_s;
    int port;
};

struct pending {
    uint64_t due;
    uint64_t code;
    struct ethd_buf msg;
};

struct conn {
    int fd;
    struct ethd_secp *secp;
    struct ethd_rlpx_frame *frame;
    struct ethd_buf in;
    bool snappy, closed;
    uint32_t version;
    const struct chain *c;
    const struct opts *o;
    uint64_t requests;
    struct pending q[64];
    size_t nq;
};

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line: children share stdout. */
    ssize_t w = write(STDOUT_FILENO, line, (size_t)n);
    (void)w;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- chain ---- */

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ETHD_EIO;
    struct ethd_buf b = ETHD_BUF_INIT;
    uint8_t tmp[65536];
    size_t r;
    int rc = 0;
    while ((r = fread(tmp, 1, sizeof(tmp), f)) > 0)
        if ((rc = ethd_buf_append(&b, tmp, r)))
            break;
    if (ferror(f))
        rc = ETHD_EIO;
    fclose(f);
    if (rc) {
        ethd_buf_free(&b);
        return rc;
    }
    *data = b.data;
    *len = b.len;
    return 0;
}

/* Index the blocks of a concatenation of block RLPs into c->b[from..]. */
static int index_blocks(struct chain *c, const uint8_t *p, size_t left, size_t from, size_t max)
{
    size_t i = from;
    while (left && i <= max) {
        struct ethd_rlp_item blk, hdr;
        struct ethd_rlp_iter it;
        int rc = ethd_rlp_next(&p, &left, &blk);
        if (rc || !blk.is_list || ethd_rlp_iter_init(&it, &blk) || ethd_rlp_iter_next(&it, &hdr))
            return rc ? rc : ETHD_EPROTO;
        struct blk *b = &c->b[i];
        b->hdr = hdr.raw;
        b->hdr_len = hdr.raw_len;
        b->body = hdr.raw + hdr.raw_len;
        b->body_len = (size_t)(blk.payload + blk.len - b->body);
        ethd_keccak256(b->hdr, b->hdr_len, b->hash);
        i++;
    }
    c->n = i - 1;
    return 0;
}

static int index_receipts(struct chain *c)
{
    const uint8_t *p = c->rfile;
    size_t left = c->rfile_len;
    for (size_t i = 1; left && i <= c->n; i++) {
        struct ethd_rlp_item r;
        if (ethd_rlp_next(&p, &left, &r) || !r.is_list)
            return ETHD_EPROTO;
        c->b[i].rcpt = r.raw;
        c->b[i].rcpt_len = r.raw_len;
    }
    return 0;
}

/* other-chain: empty blocks on top of block K sealed by a key that is not
 * one of the chain's signers. */
static int build_fork(struct chain *c, const struct opts *o, struct ethd_secp *secp,
                      size_t *n_fork)
{
    uint64_t k = o->fork_after;
    uint64_t total = c->n + o->fork_extra;
    if (k > c->n || total <= k)
        return ETHD_EINVAL;
    struct ethd_header parent, h;
    memset(&h, 0, sizeof(h));
    uint8_t parent_hash[32], key[32], vanity[32] = {0};
    memcpy(vanity, "faulty_peer other-chain", 23);
    int rc = ethd_header_decode(c->b[k].hdr, c->b[k].hdr_len, &parent);
    if (rc)
        return rc;
    memcpy(parent_hash, c->b[k].hash, 32);
    /* A fixed outsider key: keccak("faulty_peer outsider"). */
    ethd_keccak256("faulty_peer outsider", 20, key);
    uint64_t epoch = c->g.config.clique_epoch ? c->g.config.clique_epoch : 30000;
    uint64_t period = c->g.config.clique_period ? c->g.config.clique_period : 1;
    for (uint64_t n = k + 1; n <= total && !rc; n++) {
        rc = ethd_chaingen_header(&parent, parent_hash, period, epoch, vanity, NULL, 0, &h);
        if (!rc)
            rc = ethd_chaingen_seal(secp, &h, key);
        if (!rc)
            rc = ethd_header_hash(&h, parent_hash);
        if (!rc)
            rc = ethd_chaingen_block_encode(&h, NULL, 0, &c->fork);
        ethd_header_free(&parent);
        parent = h;
        memset(&h, 0, sizeof(h));
    }
    ethd_header_free(&parent);
    *n_fork = (size_t)(total - k);
    return rc;
}

static int load_chain(struct chain *c, const char *genesis, const char *chain, const char *rcpts,
                      const struct opts *o, struct ethd_secp *secp)
{
    char err[512];
    int rc = ethd_genesis_load(genesis, &c->g, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "faulty_peer: %s\n", err);
        return rc;
    }
    if ((rc = read_file(chain, &c->file, &c->file_len))) {
        fprintf(stderr, "faulty_peer: cannot read %s\n", chain);
        return rc;
    }
    if (rcpts && (rc = read_file(rcpts, &c->rfile, &c->rfile_len))) {
        fprintf(stderr, "faulty_peer: cannot read %s\n", rcpts);
        return rc;
    }
    /* Count the blocks first (an upper bound for the index). */
    size_t count = 0;
    const uint8_t *p = c->file;
    size_t left = c->file_len;
    struct ethd_rlp_item it;
    while (left && ethd_rlp_next(&p, &left, &it) == 0)
        count++;
    c->b = calloc(count + o->fork_extra + 2, sizeof(*c->b));
    if (!c->b)
        return ETHD_ENOMEM;
    if ((rc = ethd_header_encode(&c->g.header, &c->genesis_hdr)))
        return rc;
    static const uint8_t empty_body[2] = {0xc0, 0xc0};
    c->b[0] = (struct blk){c->genesis_hdr.data, c->genesis_hdr.len, empty_body, 2, NULL, 0, {0}};
    memcpy(c->b[0].hash, c->g.hash, 32);
    if ((rc = index_blocks(c, c->file, c->file_len, 1, count))) {
        fprintf(stderr, "faulty_peer: %s: not a chain file\n", chain);
        return rc;
    }
    if (c->rfile && (rc = index_receipts(c))) {
        fprintf(stderr, "faulty_peer: %s: not a receipts file\n", rcpts);
        return rc;
    }
    if (o->fault == F_OTHER_CHAIN) {
        size_t n_fork = 0;
        if ((rc = build_fork(c, o, secp, &n_fork))) {
            fprintf(stderr, "faulty_peer: cannot build the fork: %s\n", ethd_strerror(rc));
            return rc;
        }
        size_t k = (size_t)o->fork_after;
        for (size_t i = k + 1; i <= c->n; i++)
            c->b[i].rcpt = NULL;
        if ((rc = index_blocks(c, c->fork.data, c->fork.len, k + 1, k + n_fork)))
            return rc;
    }
    /* Total difficulty of the served chain (clique difficulties are 1 or 2,
     * so 64 bits are plenty). */
    uint64_t td = 0;
    for (size_t i = 0; i <= c->n; i++) {
        struct ethd_header h;
        if ((rc = ethd_header_decode(c->b[i].hdr, c->b[i].hdr_len, &h)))
            return rc;
        uint64_t d = 0;
        for (int k = 24; k < 32; k++)
            d = d << 8 | h.difficulty[k];
        td += d;
        if (i == c->n)
            c->head_time = h.timestamp;
        ethd_header_free(&h);
    }
    memset(c->td, 0, 32);
    for (int k = 31; k >= 24; k--, td >>= 8)
        c->td[k] = (uint8_t)td;
    return 0;
}

static void free_chain(struct chain *c)
{
    ethd_genesis_free(&c->g);
    ethd_buf_free(&c->genesis_hdr);
    ethd_buf_free(&c->fork);
    free(c->file);
    free(c->rfile);
    free(c->b);
}

static const struct blk *by_hash(const struct chain *c, const uint8_t h[32], uint64_t *num)
{
    for (size_t i = 0; i <= c->n; i++)
        if (memcmp(c->b[i].hash, h, 32) == 0) {
            *num = i;
            return &c->b[i];
        }
    return NULL;
}

/* ---- transport ---- */

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ETHD_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fill(struct conn *cn, uint64_t deadline)
{
    uint64_t now = now_ms();
    if (now >= deadline)
        return ETHD_ETIMEDOUT;
    struct pollfd pfd = {cn->fd, POLLIN, 0};
    int r = poll(&pfd, 1, (int)(deadline - now));
    if (r == 0)
        return ETHD_ETIMEDOUT;
    if (r < 0)
        return errno == EINTR ? ETHD_ETIMEDOUT : ETHD_EIO;
    if (cn->in.len > MAX_MSG + 65536)
        return ETHD_ETOOBIG;
    if (ethd_buf_reserve(&cn->in, 65536))
        return ETHD_ENOMEM;
    ssize_t got = recv(cn->fd, cn->in.data + cn->in.len, 65536, 0);
    if (got <= 0)
        return ETHD_ECLOSED;
    cn->in.len += (size_t)got;
    return 0;
}

static void consume(struct ethd_buf *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static int send_msg(struct conn *cn, uint64_t code, const uint8_t *p, size_t n)
{
    struct ethd_buf z = ETHD_BUF_INIT, o = ETHD_BUF_INIT;
    int rc = 0;
    if (cn->snappy && code != 0x00) { /* EIP-706: everything after Hello */
        rc = ethd_rlpx_snappy_compress(p, n, &z);
        p = z.data;
        n = z.len;
    }
    if (!rc)
        rc = ethd_rlpx_frame_write(cn->frame, code, p, n, &o);
    if (!rc)
        rc = send_all(cn->fd, o.data, o.len);
    ethd_buf_free(&z);
    ethd_buf_free(&o);
    return rc;
}

static int reason_of(const uint8_t *p, size_t n)
{
    struct ethd_rlp_item it, first;
    struct ethd_rlp_iter iter;
    uint64_t v;
    if (ethd_rlp_decode(p, n, &it))
        return -1;
    if (it.is_list) {
        ethd_rlp_iter_init(&iter, &it);
        if (ethd_rlp_iter_next(&iter, &first))
            return 0;
        it = first;
    }
    return ethd_rlp_get_uint64(&it, &v) ? -1 : (int)v;
}

/* Next message; p2p Ping answered, Disconnect reported (ETHD_ECLOSED). */
static int read_msg(struct conn *cn, uint64_t deadline, uint64_t *code, struct ethd_buf *payload)
{
    for (;;) {
        if (cn->closed)
            return ETHD_ECLOSED;
        if (cn->in.len) {
            size_t consumed = 0, need = 0, plen = 0;
            const uint8_t *p = NULL;
            int rc = ethd_rlpx_frame_read(cn->frame, cn->in.data, cn->in.len, &consumed, &need,
                                          code, &p, &plen);
            if (rc == 0) {
                ethd_buf_reset(payload);
                int zrc = -1;
                if (cn->snappy && *code != 0x00)
                    zrc = ethd_rlpx_snappy_decompress(p, plen, MAX_MSG, payload);
                if (zrc != 0) {
                    ethd_buf_reset(payload);
                    ethd_buf_append(payload, p ? p : (const uint8_t *)"", plen);
                }
                consume(&cn->in, consumed);
                if (*code == 0x01) {
                    out("{\"ev\":\"disconnect\",\"reason\":%d,\"requests\":%llu}",
                        reason_of(payload->data, payload->len),
                        (unsigned long long)cn->requests);
                    cn->closed = true;
                    return ETHD_ECLOSED;
                }
                if (*code == 0x02) { /* Ping */
                    static const uint8_t empty = 0xc0;
                    send_msg(cn, 0x03, &empty, 1);
                    continue;
                }
                return 0;
            }
            if (rc == ETHD_EPROTO) {
                consume(&cn->in, consumed);
                continue;
            }
            if (rc != ETHD_EAGAIN)
                return rc;
        }
        int rc = fill(cn, deadline);
        if (rc == ETHD_ECLOSED) {
            out("{\"ev\":\"eof\",\"requests\":%llu}", (unsigned long long)cn->requests);
            cn->closed = true;
        }
        if (rc)
            return rc;
    }
}

/* ---- handshake ---- */

static int handshake(struct conn *cn, const uint8_t key[32])
{
    struct ethd_rlpx_handshake hs;
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t deadline = now_ms() + WAIT_MS;
    int rc = ethd_rlpx_hs_init(&hs, cn->secp, false, key, NULL);
    while (!rc) {
        size_t consumed = 0, need = 0;
        rc = cn->in.len ? ethd_rlpx_hs_read_auth(&hs, cn->in.data, cn->in.len, &consumed, &need)
                        : ETHD_EAGAIN;
        if (rc == 0) {
            consume(&cn->in, consumed);
            break;
        }
        if (rc == ETHD_EAGAIN)
            rc = fill(cn, deadline);
    }
    if (!rc)
        rc = ethd_rlpx_hs_write_ack(&hs, &b);
    if (!rc)
        rc = send_all(cn->fd, b.data, b.len);
    struct ethd_rlpx_secrets s;
    if (!rc)
        rc = ethd_rlpx_hs_secrets(&hs, &s);
    if (!rc)
        rc = ethd_rlpx_frame_new(&s, 0, &cn->frame);
    ethd_rlpx_hs_free(&hs);
    if (rc)
        goto done;
    /* Hello: [5, client id, [[eth, 66], [eth, 67], [eth, 68]], 0, node id] */
    uint8_t pub[64];
    char cid[64];
    ethd_secp_pubkey(cn->secp, key, pub);
    snprintf(cid, sizeof(cid), "faulty_peer/%s", fault_names[cn->o->fault]);
    struct ethd_rlp_enc e;
    ethd_buf_reset(&b);
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 5);
    ethd_rlp_bytes(&e, cid, strlen(cid));
    ethd_rlp_list_begin(&e);
    for (uint32_t v = 66; v <= 68; v++) {
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, "eth", 3);
        ethd_rlp_uint(&e, v);
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    ethd_rlp_uint(&e, 0);
    ethd_rlp_bytes(&e, pub, 64);
    ethd_rlp_list_end(&e);
    rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_msg(cn, 0x00, b.data, b.len);
    uint64_t code = 0;
    while (!rc) {
        rc = read_msg(cn, deadline, &code, &b);
        if (rc || code == 0x00)
            break;
    }
    if (rc)
        goto done;
    cn->snappy = true;
    struct ethd_rlp_item top, it, capl, cap, nm, vr;
    struct ethd_rlp_iter ti, ci, cii;
    if (ethd_rlp_decode(b.data, b.len, &top) || ethd_rlp_iter_init(&ti, &top) ||
        ethd_rlp_iter_next(&ti, &it) || ethd_rlp_iter_next(&ti, &it) ||
        ethd_rlp_iter_next(&ti, &capl) || ethd_rlp_iter_init(&ci, &capl)) {
        rc = ETHD_EPROTO;
        goto done;
    }
    while (ethd_rlp_iter_next(&ci, &cap) == 0) {
        uint64_t v;
        if (ethd_rlp_iter_init(&cii, &cap) || ethd_rlp_iter_next(&cii, &nm) ||
            ethd_rlp_iter_next(&cii, &vr) || ethd_rlp_get_uint64(&vr, &v))
            continue;
        if (nm.len == 3 && memcmp(nm.payload, "eth", 3) == 0 && v >= 66 && v <= 68 &&
            v > cn->version)
            cn->version = (uint32_t)v;
    }
    out("{\"ev\":\"hello\",\"eth\":%u}", cn->version);
    if (!cn->version)
        rc = ETHD_ENOTSUP;
done:
    ethd_buf_free(&b);
    return rc;
}

/* eth/66-68 Status: [version, networkid, td, head, genesis, forkid]. */
static int exchange_status(struct conn *cn)
{
    const struct chain *c = cn->c;
    struct ethd_forkid fid;
    ethd_forkid_compute(&c->g.config, c->g.hash, c->g.header.timestamp, c->n, c->head_time, &fid);
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, cn->version);
    ethd_rlp_uint(&e, c->g.config.chain_id);
    ethd_rlp_u256(&e, c->td);
    ethd_rlp_bytes(&e, c->b[c->n].hash, 32);
    ethd_rlp_bytes(&e, c->g.hash, 32);
    ethd_forkid_encode_rlp(&e, &fid);
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_msg(cn, BASE + ETH_STATUS, b.data, b.len);
    uint64_t code = 0;
    if (!rc)
        rc = read_msg(cn, now_ms() + WAIT_MS, &code, &b);
    if (!rc && code != BASE + ETH_STATUS)
        rc = ETHD_EPROTO;
    if (!rc) {
        char td[80], head[80];
        ethd_hex_quantity_u256(c->td, td);
        ethd_hex_encode(c->b[c->n].hash, 32, head);
        out("{\"ev\":\"status\",\"version\":%u,\"head\":%zu,\"headHash\":\"%s\",\"td\":\"%s\"}",
            cn->version, c->n, head, td);
    }
    ethd_buf_free(&b);
    return rc;
}

/* ---- serving ---- */

/* A copy of a header RLP with one byte of its seal changed. */
static int corrupt_seal(const struct blk *b, struct ethd_buf *outb)
{
    struct ethd_header h;
    int rc = ethd_header_decode(b->hdr, b->hdr_len, &h);
    if (rc)
        return rc;
    if (h.extra_len >= 65)
        h.extra[h.extra_len - 65 + 40] ^= 0x01; /* inside s */
    rc = ethd_header_encode(&h, outb);
    ethd_header_free(&h);
    return rc;
}

static int parse_request(const struct ethd_buf *req, uint64_t *id, struct ethd_rlp_item *body)
{
    struct ethd_rlp_item top, idit;
    struct ethd_rlp_iter it;
    if (ethd_rlp_decode(req->data, req->len, &top) || ethd_rlp_iter_init(&it, &top) ||
        ethd_rlp_iter_next(&it, &idit) || ethd_rlp_get_uint64(&idit, id) ||
        ethd_rlp_iter_next(&it, body) || !body->is_list)
        return ETHD_EPROTO;
    return 0;
}

static int answer_headers(struct conn *cn, const struct ethd_rlp_item *q, struct ethd_rlp_enc *e,
                          size_t *served, const char **fault)
{
    const struct chain *c = cn->c;
    struct ethd_rlp_item f[4];
    struct ethd_rlp_iter it;
    uint64_t origin = 0, amount, skip, reverse;
    if (ethd_rlp_iter_init(&it, q))
        return ETHD_EPROTO;
    for (int i = 0; i < 4; i++)
        if (ethd_rlp_iter_next(&it, &f[i]))
            return ETHD_EPROTO;
    if (ethd_rlp_get_uint64(&f[1], &amount) || ethd_rlp_get_uint64(&f[2], &skip) ||
        ethd_rlp_get_uint64(&f[3], &reverse))
        return ETHD_EPROTO;
    bool found = true;
    if (!f[0].is_list && f[0].len == 32) {
        found = by_hash(c, f[0].payload, &origin) != NULL;
    } else if (ethd_rlp_get_uint64(&f[0], &origin)) {
        return ETHD_EPROTO;
    }
    size_t idx[MAX_SERVE], n = 0, bytes = 0;
    uint64_t num = origin;
    if (amount > MAX_SERVE)
        amount = MAX_SERVE;
    while (found && n < amount && num <= c->n && bytes < SOFT_LIMIT) {
        idx[n++] = (size_t)num;
        bytes += c->b[num].hdr_len;
        if (reverse) {
            if (num < skip + 1)
                break;
            num -= skip + 1;
        } else {
            if (skip >= UINT64_MAX - num)
                break;
            num += skip + 1;
        }
    }
    /* bad-seal: the --fault-at header if present, else the last above 0. */
    size_t bad = SIZE_MAX;
    if (cn->o->fault == F_BAD_SEAL) {
        for (size_t i = 0; i < n; i++)
            if (idx[i] == cn->o->fault_at)
                bad = i;
        if (bad == SIZE_MAX && cn->o->fault_at == 0)
            for (size_t i = n; i-- > 0;)
                if (idx[i] > 0) {
                    bad = i;
                    break;
                }
    }
    ethd_rlp_list_begin(e);
    for (size_t i = 0; i < n; i++) {
        if (i == bad) {
            struct ethd_buf hb = ETHD_BUF_INIT;
            int rc = corrupt_seal(&c->b[idx[i]], &hb);
            if (!rc)
                ethd_rlp_raw(e, hb.data, hb.len);
            ethd_buf_free(&hb);
            if (rc)
                return rc;
            *fault = "bad-seal";
        } else {
            ethd_rlp_raw(e, c->b[idx[i]].hdr, c->b[idx[i]].hdr_len);
        }
    }
    ethd_rlp_list_end(e);
    *served = n;
    return 0;
}

static int answer_by_hashes(struct conn *cn, uint64_t kind, const struct ethd_rlp_item *q,
                            struct ethd_rlp_enc *e, size_t *served)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item h;
    size_t n = 0, bytes = 0;
    if (ethd_rlp_iter_init(&it, q))
        return ETHD_EPROTO;
    ethd_rlp_list_begin(e);
    while (n < MAX_SERVE && bytes < SOFT_LIMIT && ethd_rlp_iter_next(&it, &h) == 0) {
        uint64_t num;
        const struct blk *b = h.len == 32 && !h.is_list ? by_hash(cn->c, h.payload, &num) : NULL;
        if (!b)
            continue; /* unknown: skipped, as caps/eth.md allows */
        if (kind == ETH_GET_BODIES) {
            ethd_rlp_list_begin(e);
            ethd_rlp_raw(e, b->body, b->body_len);
            ethd_rlp_list_end(e);
            bytes += b->body_len;
        } else if (b->rcpt) {
            ethd_rlp_raw(e, b->rcpt, b->rcpt_len);
            bytes += b->rcpt_len;
        } else {
            ethd_rlp_list_begin(e);
            ethd_rlp_list_end(e);
        }
        n++;
    }
    ethd_rlp_list_end(e);
    *served = n;
    return 0;
}

static int serve(struct conn *cn, uint64_t code, const struct ethd_buf *req)
{
    uint64_t id = 0;
    struct ethd_rlp_item body;
    const char *kind = code == ETH_GET_HEADERS ? "headers"
                       : code == ETH_GET_BODIES ? "bodies"
                                                : "receipts";
    if (parse_request(req, &id, &body)) {
        out("{\"ev\":\"error\",\"msg\":\"malformed %s request\"}", kind);
        return ETHD_EPROTO;
    }
    cn->requests++;
    size_t count = 0;
    ethd_rlp_list_count(&body, &count);
    if (cn->o->fault == F_STALL && cn->requests > cn->o->stall_after) {
        out("{\"ev\":\"request\",\"kind\":\"%s\",\"id\":%llu,\"count\":%zu,\"served\":0,"
            "\"fault\":\"stall\"}",
            kind, (unsigned long long)id, code == ETH_GET_HEADERS ? (size_t)0 : count);
        return 0;
    }
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, id);
    size_t served = 0;
    const char *fault = cn->o->fault == F_OTHER_CHAIN ? "other-chain" : "none";
    int rc = code == ETH_GET_HEADERS ? answer_headers(cn, &body, &e, &served, &fault)
                                     : answer_by_hashes(cn, code, &body, &e, &served);
    ethd_rlp_list_end(&e);
    if (!rc)
        rc = ethd_rlp_enc_finish(&e);
    uint64_t reply = code == ETH_GET_HEADERS ? ETH_HEADERS
                     : code == ETH_GET_BODIES ? ETH_BODIES
                                              : ETH_RECEIPTS;
    if (!rc && cn->o->fault == F_SLOW && cn->nq < sizeof(cn->q) / sizeof(cn->q[0])) {
        struct pending *p = &cn->q[cn->nq++];
        p->due = now_ms() + cn->o->delay_s * 1000;
        p->code = reply;
        p->msg = b;
        b = (struct ethd_buf)ETHD_BUF_INIT;
        fault = "slow";
    } else if (!rc) {
        rc = send_msg(cn, BASE + reply, b.data, b.len);
    }
    out("{\"ev\":\"request\",\"kind\":\"%s\",\"id\":%llu,\"count\":%zu,\"served\":%zu,"
        "\"fault\":\"%s\"}",
        kind, (unsigned long long)id, code == ETH_GET_HEADERS ? (size_t)0 : count, served, fault);
    ethd_buf_free(&b);
    return rc;
}

static void send_due(struct conn *cn)
{
    uint64_t now = now_ms();
    for (size_t i = 0; i < cn->nq;) {
        if (cn->q[i].due > now) {
            i++;
            continue;
        }
        send_msg(cn, BASE + cn->q[i].code, cn->q[i].msg.data, cn->q[i].msg.len);
        out("{\"ev\":\"answer\",\"late\":true}");
        ethd_buf_free(&cn->q[i].msg);
        cn->q[i] = cn->q[--cn->nq];
    }
}

static void run_conn(int fd, const struct chain *c, const struct opts *o, const uint8_t key[32])
{
    struct conn cn;
    memset(&cn, 0, sizeof(cn));
    cn.fd = fd;
    cn.c = c;
    cn.o = o;
    if (ethd_secp_new(&cn.secp))
        return;
    int rc = handshake(&cn, key);
    if (!rc)
        rc = exchange_status(&cn);
    if (rc && !cn.closed)
        out("{\"ev\":\"error\",\"msg\":\"handshake: %s\"}", ethd_strerror(rc));
    struct ethd_buf b = ETHD_BUF_INIT;
    while (!rc) {
        send_due(&cn);
        uint64_t wait = 1000;
        for (size_t i = 0; i < cn.nq; i++) {
            uint64_t now = now_ms();
            uint64_t d = cn.q[i].due > now ? cn.q[i].due - now : 0;
            if (d < wait)
                wait = d;
        }
        uint64_t code = 0;
        rc = read_msg(&cn, now_ms() + wait + 1, &code, &b);
        if (rc == ETHD_ETIMEDOUT) {
            rc = 0;
            continue;
        }
        if (rc)
            break;
        if (code == BASE + ETH_GET_HEADERS || code == BASE + ETH_GET_BODIES ||
            code == BASE + ETH_GET_RECEIPTS)
            rc = serve(&cn, code - BASE, &b);
        /* Announcements, transactions, ... are ignored. */
    }
    if (rc && rc != ETHD_ECLOSED)
        out("{\"ev\":\"error\",\"msg\":\"%s\"}", ethd_strerror(rc));
    for (size_t i = 0; i < cn.nq; i++)
        ethd_buf_free(&cn.q[i].msg);
    ethd_buf_free(&b);
    ethd_buf_free(&cn.in);
    ethd_rlpx_frame_free(cn.frame);
    ethd_secp_free(cn.secp);
}

/* ---- main ---- */

static int usage(void)
{
    fprintf(stderr,
            "usage: faulty_peer --genesis FILE --chain FILE [--receipts FILE]\n"
            "         [--fault none|bad-seal|slow|other-chain|stall] [--fault-at N]\n"
            "         [--delay SECONDS] [--stall-after N] [--fork-after K] [--fork-extra N]\n"
            "         [--port P] [--max-seconds S]\n");
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

int main(int argc, char **argv)
{
    struct opts o = {F_NONE, 0, 30, 2, UINT64_MAX, 20, 300, 0};
    const char *genesis = NULL, *chain = NULL, *rcpts = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x = 0;
        if (!v)
            return usage();
        if (!strcmp(k, "--genesis")) {
            genesis = v;
        } else if (!strcmp(k, "--chain")) {
            chain = v;
        } else if (!strcmp(k, "--receipts")) {
            rcpts = v;
        } else if (!strcmp(k, "--fault")) {
            size_t f;
            for (f = 0; f < sizeof(fault_names) / sizeof(fault_names[0]); f++)
                if (!strcmp(v, fault_names[f]))
                    break;
            if (f == sizeof(fault_names) / sizeof(fault_names[0]))
                return usage();
            o.fault = (enum fault)f;
        } else if (parse_u64(v, &x) != 0) {
            return usage();
        } else if (!strcmp(k, "--fault-at")) {
            o.fault_at = x;
        } else if (!strcmp(k, "--delay")) {
            o.delay_s = x;
        } else if (!strcmp(k, "--stall-after")) {
            o.stall_after = x;
        } else if (!strcmp(k, "--fork-after")) {
            o.fork_after = x;
        } else if (!strcmp(k, "--fork-extra") && x <= 100000) {
            o.fork_extra = x;
        } else if (!strcmp(k, "--port") && x <= 65535) {
            o.port = (int)x;
        } else if (!strcmp(k, "--max-seconds") && x >= 1 && x <= 86400) {
            o.max_s = x;
        } else {
            return usage();
        }
    }
    if (!genesis || !chain)
        return usage();
    struct ethd_secp *secp;
    if (ethd_secp_new(&secp))
        return 1;
    struct chain c;
    memset(&c, 0, sizeof(c));
    int rc = 0;
    if (o.fault == F_OTHER_CHAIN && o.fork_after == UINT64_MAX) {
        /* The fork point defaults to half the chain: load once to count. */
        struct opts probe = o;
        probe.fault = F_NONE;
        struct chain tmp;
        memset(&tmp, 0, sizeof(tmp));
        rc = load_chain(&tmp, genesis, chain, rcpts, &probe, secp);
        if (!rc)
            o.fork_after = tmp.n / 2;
        free_chain(&tmp);
    }
    if (!rc)
        rc = load_chain(&c, genesis, chain, rcpts, &o, secp);
    if (rc) {
        free_chain(&c);
        ethd_secp_free(secp);
        return 1;
    }
    uint8_t key[32], pub[64];
    if (ethd_secp_keygen(secp, key) || ethd_secp_pubkey(secp, key, pub))
        return 1;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 8) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        fprintf(stderr, "faulty_peer: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    char id[129];
    ethd_hex_encode_bare(pub, 64, id);
    out("{\"ev\":\"listening\",\"enode\":\"enode://%s@127.0.0.1:%u\",\"fault\":\"%s\","
        "\"head\":%zu}",
        id, ntohs(sa.sin_port), fault_names[o.fault], c.n);
    /* Children exit with us: one process group, ended by the alarm. */
    signal(SIGCHLD, SIG_IGN);
    alarm((unsigned)o.max_s);
    for (;;) {
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        int fd = accept(lfd, (struct sockaddr *)&peer, &pl);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        out("{\"ev\":\"accept\",\"from\":\"127.0.0.1:%u\"}", ntohs(peer.sin_port));
        pid_t pid = fork();
        if (pid == 0) {
            /* Bounded like the parent, and gone when the parent is. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            alarm((unsigned)o.max_s);
            close(lfd);
            run_conn(fd, &c, &o, key);
            close(fd);
            _exit(0);
        }
        close(fd);
    }
    free_chain(&c);
    ethd_secp_free(secp);
    return 0;
}
