/* eth_probe: a scripted eth peer for tests/integration/test_eth.sh.
 *
 * A blocking RLPx client (core/p2p/rlpx.h codec, our own sockets) that
 * dials one node, says Hello with the eth versions it is told to offer,
 * exchanges Status, then runs the commands given on its command line in
 * order, printing one JSON object per line for everything it sees. It can
 * send anything, well formed or not, so the test drives every bad-input
 * case through it.
 *
 *   eth_probe ENODE [options] [COMMAND ARGS]...
 *   options:
 *     --caps 66,67,68,69   eth versions offered (default all four)
 *     --status MODE        our Status: ok (copied from the node's, the
 *                          default), none, genesis, network, forkid,
 *                          version, garbage, late (after the commands)
 *     --chain FILE         chain file (blocks 1..N) for newblock/serve
 *     --client-id S
 *   commands:
 *     headers ORIGIN AMOUNT SKIP REVERSE   ORIGIN: decimal number or 0x hash
 *     bodies HASH...                      receipts HASH...
 *     bodies-repeat N HASH                one GetBlockBodies of N copies
 *     bodies-unknown N                    N distinct unknown hashes
 *     raw CODE HEX                        any payload, any eth code
 *     big CODE BYTES                      RLP string of BYTES zero bytes
 *     status MODE                         another Status
 *     newblock N TD                       block N of --chain as NewBlock
 *     newblock-bad N TD                   the same with one byte of its
 *                                         extra-data changed (bad seal)
 *     newblockhashes N                    [[hash of block N, N]]
 *     serve SECONDS                       answer GetBlockHeaders/Bodies
 *                                         from --chain for that long
 *     listen SECONDS                      print what arrives for that long
 *     ping                                p2p Ping, wait for Pong
 *   events (stdout): hello, status, headers, bodies, receipts, newblock,
 *   newblockhashes, rangeupdate, request (served), msg (other), pong,
 *   disconnect {reason}, eof, error {msg}, done.
 * Exit status: 0 when every command ran (a disconnect ends the run with
 * 0 too: the test checks the events), 2 for usage, 1 for local failures.
 * Every wait is bounded (10 s per answer by default). */
#include "p2p/enode.h"
#include "p2p/rlpx.h"

#include <ethd/block.h>
#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/keccak.h>
#include <ethd/rlp.h>
#include <ethd/secp256k1.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BASE 0x10 /* eth is our only capability: it starts right after p2p */
#define WAIT_MS 10000

struct probe {
    int fd;
    struct ethd_rlpx_frame *frame;
    struct ethd_buf in;
    struct ethd_secp *secp;
    uint32_t version;       /* negotiated eth version */
    bool snappy;
    uint8_t status[1024];   /* the node's Status payload */
    size_t status_len;
    uint64_t next_id;
    /* --chain */
    uint8_t *chain;
    size_t chain_len;
    struct ethd_rlp_item *blocks; /* blocks[i] = block i+1 */
    size_t n_blocks;
    bool closed;
};

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void hex_of(const uint8_t *p, size_t n, char *buf)
{
    ethd_hex_encode(p, n, buf);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- transport ---- */

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return ETHD_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Fill from the socket, waiting at most until `deadline` (ms). */
static int fill(struct probe *pr, uint64_t deadline)
{
    uint64_t now = now_ms();
    if (now >= deadline)
        return ETHD_ETIMEDOUT;
    struct pollfd pfd = {pr->fd, POLLIN, 0};
    int r = poll(&pfd, 1, (int)(deadline - now));
    if (r == 0)
        return ETHD_ETIMEDOUT;
    if (r < 0)
        return ETHD_EIO;
    if (ethd_buf_reserve(&pr->in, 65536))
        return ETHD_ENOMEM;
    ssize_t got = recv(pr->fd, pr->in.data + pr->in.len, 65536, 0);
    if (got <= 0)
        return ETHD_ECLOSED;
    pr->in.len += (size_t)got;
    return 0;
}

static void consume(struct ethd_buf *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static int send_msg(struct probe *pr, uint64_t code, const uint8_t *p, size_t n)
{
    struct ethd_buf z = ETHD_BUF_INIT, o = ETHD_BUF_INIT;
    int rc = 0;
    if (pr->snappy && code != 0x00) { /* EIP-706: everything after Hello */
        rc = ethd_rlpx_snappy_compress(p, n, &z);
        p = z.data;
        n = z.len;
    }
    if (!rc)
        rc = ethd_rlpx_frame_write(pr->frame, code, p, n, &o);
    if (!rc)
        rc = send_all(pr->fd, o.data, o.len);
    ethd_buf_free(&z);
    ethd_buf_free(&o);
    return rc;
}

static int send_eth(struct probe *pr, uint64_t code, const struct ethd_buf *b)
{
    return send_msg(pr, BASE + code, b->data, b->len);
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

/* Next message (p2p Ping answered, Disconnect reported). The payload is
 * decompressed into *payload. ETHD_ECLOSED after a Disconnect or EOF. */
static int read_msg(struct probe *pr, uint64_t deadline, uint64_t *code, struct ethd_buf *payload)
{
    for (;;) {
        if (pr->closed)
            return ETHD_ECLOSED;
        if (pr->in.len) {
            size_t consumed = 0, need = 0, plen = 0;
            const uint8_t *p = NULL;
            int rc = ethd_rlpx_frame_read(pr->frame, pr->in.data, pr->in.len, &consumed, &need,
                                          code, &p, &plen);
            if (rc == 0) {
                ethd_buf_reset(payload);
                int zrc = -1;
                if (pr->snappy && *code != 0x00)
                    zrc = ethd_rlpx_snappy_decompress(p, plen, 16u << 20, payload);
                if (zrc != 0) {
                    ethd_buf_reset(payload);
                    ethd_buf_append(payload, p ? p : (const uint8_t *)"", plen);
                }
                consume(&pr->in, consumed);
                if (*code == 0x01) {
                    out("{\"ev\":\"disconnect\",\"reason\":%d}",
                        reason_of(payload->data, payload->len));
                    pr->closed = true;
                    return ETHD_ECLOSED;
                }
                if (*code == 0x02) { /* Ping */
                    static const uint8_t empty = 0xc0;
                    send_msg(pr, 0x03, &empty, 1);
                    continue;
                }
                return 0;
            }
            if (rc != ETHD_EAGAIN)
                return rc;
        }
        int rc = fill(pr, deadline);
        if (rc == ETHD_ECLOSED) {
            out("{\"ev\":\"eof\"}");
            pr->closed = true;
        }
        if (rc)
            return rc;
    }
}

/* ---- handshake ---- */

static int connect_to(const struct ethd_enode *en)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    ethd_enode_sockaddr(en, &ss, &sl);
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int handshake(struct probe *pr, const struct ethd_enode *en, const uint8_t key[32],
                     const uint32_t *caps, size_t ncaps, const char *client_id)
{
    struct ethd_rlpx_handshake hs;
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t deadline = now_ms() + WAIT_MS;
    int rc = ethd_rlpx_hs_init(&hs, pr->secp, true, key, en->id);
    if (!rc)
        rc = ethd_rlpx_hs_write_auth(&hs, &b);
    if (!rc)
        rc = send_all(pr->fd, b.data, b.len);
    while (!rc) {
        size_t consumed = 0, need = 0;
        rc = pr->in.len ? ethd_rlpx_hs_read_ack(&hs, pr->in.data, pr->in.len, &consumed, &need)
                        : ETHD_EAGAIN;
        if (rc == 0) {
            consume(&pr->in, consumed);
            break;
        }
        if (rc == ETHD_EAGAIN)
            rc = fill(pr, deadline);
    }
    struct ethd_rlpx_secrets s;
    if (!rc)
        rc = ethd_rlpx_hs_secrets(&hs, &s);
    if (!rc)
        rc = ethd_rlpx_frame_new(&s, 0, &pr->frame);
    ethd_rlpx_hs_free(&hs);
    if (rc)
        goto done;
    /* Hello: [5, client id, [[eth, v]...], 0, node id] */
    uint8_t pub[64];
    ethd_secp_pubkey(pr->secp, key, pub);
    struct ethd_rlp_enc e;
    ethd_buf_reset(&b);
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, 5);
    ethd_rlp_bytes(&e, client_id, strlen(client_id));
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < ncaps; i++) {
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, "eth", 3);
        ethd_rlp_uint(&e, caps[i]);
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    ethd_rlp_uint(&e, 0);
    ethd_rlp_bytes(&e, pub, 64);
    ethd_rlp_list_end(&e);
    rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_msg(pr, 0x00, b.data, b.len);
    /* Their Hello: the highest eth version we both have. */
    uint64_t code = 0;
    while (!rc) {
        rc = read_msg(pr, deadline, &code, &b);
        if (rc || code == 0x00)
            break;
    }
    if (rc)
        goto done;
    pr->snappy = true;
    struct ethd_rlp_item top, it, capl, cap, nm, vr;
    struct ethd_rlp_iter ti, ci, cii;
    char cid[256] = "";
    if (ethd_rlp_decode(b.data, b.len, &top) || ethd_rlp_iter_init(&ti, &top) ||
        ethd_rlp_iter_next(&ti, &it) || ethd_rlp_iter_next(&ti, &it) ||
        ethd_rlp_iter_next(&ti, &capl) || ethd_rlp_iter_init(&ci, &capl)) {
        rc = ETHD_EPROTO;
        goto done;
    }
    snprintf(cid, sizeof(cid), "%.*s", (int)(it.len < 200 ? it.len : 200),
             (const char *)it.payload);
    for (char *c = cid; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '?';
    while (ethd_rlp_iter_next(&ci, &cap) == 0) {
        uint64_t v;
        if (ethd_rlp_iter_init(&cii, &cap) || ethd_rlp_iter_next(&cii, &nm) ||
            ethd_rlp_iter_next(&cii, &vr) || ethd_rlp_get_uint64(&vr, &v))
            continue;
        if (nm.len != 3 || memcmp(nm.payload, "eth", 3) != 0)
            continue;
        for (size_t i = 0; i < ncaps; i++)
            if (caps[i] == v && v > pr->version)
                pr->version = (uint32_t)v;
    }
    out("{\"ev\":\"hello\",\"clientId\":\"%s\",\"eth\":%u}", cid, pr->version);
    if (!pr->version)
        rc = ETHD_ENOTSUP;
done:
    ethd_buf_free(&b);
    return rc;
}

/* ---- Status ---- */

static int read_status(struct probe *pr)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t code;
    int rc = read_msg(pr, now_ms() + WAIT_MS, &code, &b);
    if (rc)
        goto done;
    if (code != BASE || b.len > sizeof(pr->status)) {
        out("{\"ev\":\"error\",\"msg\":\"first eth message is code 0x%llx, not Status\"}",
            (unsigned long long)(code - BASE));
        rc = ETHD_EPROTO;
        goto done;
    }
    memcpy(pr->status, b.data, b.len);
    pr->status_len = b.len;
    /* Print its fields. */
    struct ethd_rlp_item top, f[7];
    struct ethd_rlp_iter it;
    size_t n = 0;
    if (ethd_rlp_decode(b.data, b.len, &top) || ethd_rlp_iter_init(&it, &top)) {
        rc = ETHD_EPROTO;
        goto done;
    }
    while (n < 7 && ethd_rlp_iter_next(&it, &f[n]) == 0)
        n++;
    uint64_t ver = 0, net = 0;
    ethd_rlp_get_uint64(&f[0], &ver);
    ethd_rlp_get_uint64(&f[1], &net);
    char h1[80] = "", h2[80] = "", fh[16] = "";
    uint64_t next = 0;
    struct ethd_rlp_item fid = pr->version >= 69 ? f[3] : f[5], fhi, fni;
    struct ethd_rlp_iter fi;
    if (ethd_rlp_iter_init(&fi, &fid) == 0 && ethd_rlp_iter_next(&fi, &fhi) == 0 &&
        ethd_rlp_iter_next(&fi, &fni) == 0) {
        hex_of(fhi.payload, fhi.len < 4 ? fhi.len : 4, fh);
        ethd_rlp_get_uint64(&fni, &next);
    }
    if (pr->version >= 69 && n == 7) {
        uint64_t earliest = 0, latest = 0;
        ethd_rlp_get_uint64(&f[4], &earliest);
        ethd_rlp_get_uint64(&f[5], &latest);
        hex_of(f[2].payload, f[2].len, h1);
        hex_of(f[6].payload, f[6].len, h2);
        out("{\"ev\":\"status\",\"version\":%llu,\"networkId\":%llu,\"genesis\":\"%s\","
            "\"forkHash\":\"%s\",\"forkNext\":%llu,\"earliest\":%llu,\"latest\":%llu,"
            "\"head\":\"%s\"}",
            (unsigned long long)ver, (unsigned long long)net, h1, fh, (unsigned long long)next,
            (unsigned long long)earliest, (unsigned long long)latest, h2);
    } else if (n == 6) {
        char td[80];
        uint8_t tdb[32] = {0};
        ethd_rlp_get_u256(&f[2], tdb);
        ethd_hex_quantity_u256(tdb, td);
        hex_of(f[3].payload, f[3].len, h2);
        hex_of(f[4].payload, f[4].len, h1);
        out("{\"ev\":\"status\",\"version\":%llu,\"networkId\":%llu,\"td\":\"%s\",\"head\":\"%s\","
            "\"genesis\":\"%s\",\"forkHash\":\"%s\",\"forkNext\":%llu}",
            (unsigned long long)ver, (unsigned long long)net, td, h2, h1, fh,
            (unsigned long long)next);
    } else {
        out("{\"ev\":\"error\",\"msg\":\"status has %zu elements\"}", n);
        rc = ETHD_EPROTO;
    }
done:
    ethd_buf_free(&b);
    return rc;
}

/* Our Status: the node's own, changed as `mode` says. */
static int send_status(struct probe *pr, const char *mode)
{
    if (!strcmp(mode, "none"))
        return 0;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_item top, f[7];
    struct ethd_rlp_iter it;
    size_t n = 0;
    int rc = 0;
    if (!strcmp(mode, "garbage")) {
        ethd_buf_append(&b, "\xc3\x01\x02", 3); /* a list that is not a Status */
        rc = send_eth(pr, 0x00, &b);
        ethd_buf_free(&b);
        return rc;
    }
    ethd_rlp_decode(pr->status, pr->status_len, &top);
    ethd_rlp_iter_init(&it, &top);
    while (n < 7 && ethd_rlp_iter_next(&it, &f[n]) == 0)
        n++;
    size_t gi = pr->version >= 69 ? 2 : 4, fi = pr->version >= 69 ? 3 : 5;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 && !strcmp(mode, "version")) {
            ethd_rlp_uint(&e, pr->version == 66 ? 67 : pr->version - 1);
        } else if (i == 1 && !strcmp(mode, "network")) {
            ethd_rlp_uint(&e, 424242);
        } else if (i == gi && !strcmp(mode, "genesis")) {
            uint8_t g[32];
            memcpy(g, f[i].payload, 32);
            g[0] ^= 0xff;
            ethd_rlp_bytes(&e, g, 32);
        } else if (i == fi && !strcmp(mode, "forkid")) {
            /* A fork hash nobody knows, with no next fork: rule 4 of
             * EIP-2124 rejects it. */
            ethd_rlp_list_begin(&e);
            ethd_rlp_bytes(&e, "\xde\xad\xbe\xef", 4);
            ethd_rlp_uint(&e, 0);
            ethd_rlp_list_end(&e);
        } else {
            ethd_rlp_raw(&e, f[i].raw, f[i].raw_len);
        }
    }
    ethd_rlp_list_end(&e);
    rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_eth(pr, 0x00, &b);
    ethd_buf_free(&b);
    return rc;
}

/* ---- printing what arrives ---- */

static void print_hashes_of_items(const struct ethd_rlp_item *list, bool numbers)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item x;
    ethd_rlp_iter_init(&it, list);
    printf("\"hashes\":[");
    bool first = true;
    char h[80];
    while (ethd_rlp_iter_next(&it, &x) == 0) {
        uint8_t k[32];
        ethd_keccak256(x.raw, x.raw_len, k);
        hex_of(k, 32, h);
        printf("%s\"%s\"", first ? "" : ",", h);
        first = false;
    }
    printf("]");
    if (numbers) {
        printf(",\"numbers\":[");
        ethd_rlp_iter_init(&it, list);
        first = true;
        while (ethd_rlp_iter_next(&it, &x) == 0) {
            struct ethd_header hd;
            if (ethd_header_decode(x.raw, x.raw_len, &hd) == 0) {
                printf("%s%llu", first ? "" : ",", (unsigned long long)hd.number);
                ethd_header_free(&hd);
            } else {
                printf("%snull", first ? "" : ",");
            }
            first = false;
        }
        printf("]");
    }
}

/* One line for a message we did not ask for (announcements, others). */
static void print_other(struct probe *pr, uint64_t code, const struct ethd_buf *b)
{
    (void)pr;
    uint64_t c = code - BASE;
    char h[80];
    if (code < BASE) {
        out("{\"ev\":\"p2p\",\"code\":%llu,\"len\":%zu}", (unsigned long long)code, b->len);
    } else if (c == 0x07) {
        struct ethd_rlp_item top, blk, tdi, hdr;
        struct ethd_rlp_iter it, bi;
        uint8_t td[32] = {0}, k[32];
        struct ethd_header hd;
        char tds[80];
        if (ethd_rlp_decode(b->data, b->len, &top) || ethd_rlp_iter_init(&it, &top) ||
            ethd_rlp_iter_next(&it, &blk) || ethd_rlp_iter_next(&it, &tdi) ||
            ethd_rlp_iter_init(&bi, &blk) || ethd_rlp_iter_next(&bi, &hdr) ||
            ethd_header_decode(hdr.raw, hdr.raw_len, &hd)) {
            out("{\"ev\":\"newblock\",\"bad\":true}");
            return;
        }
        ethd_rlp_get_u256(&tdi, td);
        ethd_hex_quantity_u256(td, tds);
        ethd_keccak256(hdr.raw, hdr.raw_len, k);
        hex_of(k, 32, h);
        out("{\"ev\":\"newblock\",\"number\":%llu,\"hash\":\"%s\",\"td\":\"%s\"}",
            (unsigned long long)hd.number, h, tds);
        ethd_header_free(&hd);
    } else if (c == 0x01) {
        struct ethd_rlp_item top, ent, hi, ni;
        struct ethd_rlp_iter it, ei;
        printf("{\"ev\":\"newblockhashes\",\"items\":[");
        if (ethd_rlp_decode(b->data, b->len, &top) == 0 && ethd_rlp_iter_init(&it, &top) == 0) {
            bool first = true;
            while (ethd_rlp_iter_next(&it, &ent) == 0 && ethd_rlp_iter_init(&ei, &ent) == 0 &&
                   ethd_rlp_iter_next(&ei, &hi) == 0 && ethd_rlp_iter_next(&ei, &ni) == 0) {
                uint64_t n = 0;
                ethd_rlp_get_uint64(&ni, &n);
                hex_of(hi.payload, hi.len, h);
                printf("%s{\"hash\":\"%s\",\"number\":%llu}", first ? "" : ",", h,
                       (unsigned long long)n);
                first = false;
            }
        }
        out("]}");
    } else if (c == 0x11) {
        struct ethd_rlp_item top, a, l, hh;
        struct ethd_rlp_iter it;
        uint64_t e = 0, la = 0;
        if (ethd_rlp_decode(b->data, b->len, &top) == 0 && ethd_rlp_iter_init(&it, &top) == 0 &&
            ethd_rlp_iter_next(&it, &a) == 0 && ethd_rlp_iter_next(&it, &l) == 0 &&
            ethd_rlp_iter_next(&it, &hh) == 0) {
            ethd_rlp_get_uint64(&a, &e);
            ethd_rlp_get_uint64(&l, &la);
            hex_of(hh.payload, hh.len, h);
            out("{\"ev\":\"rangeupdate\",\"earliest\":%llu,\"latest\":%llu,\"hash\":\"%s\"}",
                (unsigned long long)e, (unsigned long long)la, h);
        }
    } else if (b->len <= 4096) {
        /* Small enough to show whole (transaction messages, empty answers). */
        char *hx = malloc(b->len * 2 + 1);
        if (hx)
            ethd_hex_encode_bare(b->data, b->len, hx);
        out("{\"ev\":\"msg\",\"code\":%llu,\"len\":%zu,\"hex\":\"%s\"}",
            (unsigned long long)c, b->len, hx ? hx : "");
        free(hx);
    } else {
        out("{\"ev\":\"msg\",\"code\":%llu,\"len\":%zu}", (unsigned long long)c, b->len);
    }
}

/* Send request `code` (payload carries id) and wait for answer code+1 with
 * the same id; prints other traffic meanwhile. *resp gets the payload. */
static int await_answer(struct probe *pr, uint64_t want_code, uint64_t id, struct ethd_buf *resp,
                        struct ethd_rlp_item *list)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    for (;;) {
        uint64_t code;
        int rc = read_msg(pr, deadline, &code, resp);
        if (rc == ETHD_ETIMEDOUT)
            out("{\"ev\":\"timeout\",\"waiting_for\":%llu}", (unsigned long long)want_code);
        if (rc)
            return rc;
        if (code == BASE + want_code) {
            struct ethd_rlp_item top, idi;
            struct ethd_rlp_iter it;
            uint64_t got = 0;
            if (ethd_rlp_decode(resp->data, resp->len, &top) || ethd_rlp_iter_init(&it, &top) ||
                ethd_rlp_iter_next(&it, &idi) || ethd_rlp_get_uint64(&idi, &got) ||
                ethd_rlp_iter_next(&it, list) || !list->is_list) {
                out("{\"ev\":\"error\",\"msg\":\"malformed answer\"}");
                return ETHD_EPROTO;
            }
            if (got == id)
                return 0;
            out("{\"ev\":\"error\",\"msg\":\"answer with id %llu, asked %llu\"}",
                (unsigned long long)got, (unsigned long long)id);
            return ETHD_EPROTO;
        }
        print_other(pr, code, resp);
    }
}

/* ---- commands ---- */

static int parse_hash(const char *s, uint8_t h[32])
{
    return ethd_hex_decode_fixed(s, h, 32);
}

static int cmd_headers(struct probe *pr, char **a)
{
    struct ethd_buf b = ETHD_BUF_INIT, r = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    uint64_t id = pr->next_id++;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, id);
    ethd_rlp_list_begin(&e);
    uint8_t h[32];
    if (!strncmp(a[0], "0x", 2) && strlen(a[0]) == 66) {
        if (parse_hash(a[0], h))
            return ETHD_EINVAL;
        ethd_rlp_bytes(&e, h, 32);
    } else {
        ethd_rlp_uint(&e, strtoull(a[0], NULL, 0));
    }
    ethd_rlp_uint(&e, strtoull(a[1], NULL, 0));
    ethd_rlp_uint(&e, strtoull(a[2], NULL, 0));
    ethd_rlp_uint(&e, strtoull(a[3], NULL, 0));
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_eth(pr, 0x03, &b);
    struct ethd_rlp_item list;
    if (!rc)
        rc = await_answer(pr, 0x04, id, &r, &list);
    if (!rc) {
        size_t n = 0;
        ethd_rlp_list_count(&list, &n);
        printf("{\"ev\":\"headers\",\"id\":%llu,\"n\":%zu,\"bytes\":%zu,", (unsigned long long)id,
               n, r.len);
        print_hashes_of_items(&list, true);
        out("}");
    }
    ethd_buf_free(&b);
    ethd_buf_free(&r);
    return rc;
}

/* GetBlockBodies / GetReceipts of `n` hashes from hs. */
static int by_hashes(struct probe *pr, uint64_t code, const uint8_t (*hs)[32], size_t n)
{
    struct ethd_buf b = ETHD_BUF_INIT, r = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    uint64_t id = pr->next_id++;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, id);
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < n; i++)
        ethd_rlp_bytes(&e, hs[i], 32);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_eth(pr, code, &b);
    struct ethd_rlp_item list, x;
    struct ethd_rlp_iter it;
    if (!rc)
        rc = await_answer(pr, code + 1, id, &r, &list);
    if (!rc) {
        size_t cnt = 0;
        ethd_rlp_list_count(&list, &cnt);
        printf("{\"ev\":\"%s\",\"id\":%llu,\"n\":%zu,\"bytes\":%zu,\"items\":[",
               code == 0x05 ? "bodies" : "receipts", (unsigned long long)id, cnt, r.len);
        ethd_rlp_iter_init(&it, &list);
        bool first = true;
        while (ethd_rlp_iter_next(&it, &x) == 0) {
            if (code == 0x05) {
                /* body: [txs, uncles(, withdrawals)] -> tx count */
                struct ethd_body body;
                if (ethd_body_decode_item(&x, &body) == 0) {
                    printf("%s{\"txs\":%zu,\"uncles\":%zu}", first ? "" : ",", body.n_txs,
                           body.n_uncles);
                    ethd_body_free(&body);
                } else {
                    printf("%snull", first ? "" : ",");
                }
            } else {
                /* receipt list: count, and whether items are eth/69 lists
                 * of 4 ([type, status, gas, logs]) */
                struct ethd_rlp_iter ri;
                struct ethd_rlp_item rc0;
                size_t rn = 0, fields = 0;
                ethd_rlp_list_count(&x, &rn);
                ethd_rlp_iter_init(&ri, &x);
                if (ethd_rlp_iter_next(&ri, &rc0) == 0 && rc0.is_list)
                    ethd_rlp_list_count(&rc0, &fields);
                /* receiptsRoot of the list, in either wire form */
                struct ethd_receipt *rs = calloc(rn ? rn : 1, sizeof(*rs));
                size_t got = 0;
                bool ok = rs != NULL;
                if (ok && pr->version >= 69) {
                    struct ethd_rlp_item one;
                    ethd_rlp_iter_init(&ri, &x);
                    while (ok && ethd_rlp_iter_next(&ri, &one) == 0)
                        ok = ethd_receipt_decode_69(&one, &rs[got++]) == 0;
                } else if (ok) {
                    free(rs);
                    rs = NULL;
                    ok = ethd_receipts_decode_list(&x, &rs, &got) == 0;
                }
                uint8_t root[32];
                char h[80] = "";
                if (ok && ethd_receipts_root(rs, got, root) == 0)
                    hex_of(root, 32, h);
                ethd_receipts_free(rs, got);
                printf("%s{\"receipts\":%zu,\"firstFields\":%zu,\"root\":\"%s\"}",
                       first ? "" : ",", rn, fields, h);
            }
            first = false;
        }
        out("]}");
    }
    ethd_buf_free(&b);
    ethd_buf_free(&r);
    return rc;
}

static int cmd_raw(struct probe *pr, const char *code, const char *hex)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    uint8_t *p = NULL;
    size_t n = 0;
    if (strcmp(hex, "-") != 0 && ethd_hex_decode_alloc(hex, &p, &n))
        return ETHD_EINVAL;
    ethd_buf_append(&b, p ? p : (const uint8_t *)"", n);
    free(p);
    int rc = send_eth(pr, strtoull(code, NULL, 0), &b);
    ethd_buf_free(&b);
    return rc;
}

static int cmd_big(struct probe *pr, const char *code, const char *size)
{
    size_t n = strtoull(size, NULL, 0);
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    uint8_t *z = calloc(1, n ? n : 1);
    if (!z)
        return ETHD_ENOMEM;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_bytes(&e, z, n);
    free(z);
    int rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_eth(pr, strtoull(code, NULL, 0), &b);
    ethd_buf_free(&b);
    return rc;
}

static int load_chain(struct probe *pr, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ETHD_EIO;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    pr->chain = malloc((size_t)n + 1);
    if (!pr->chain || fread(pr->chain, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return ETHD_EIO;
    }
    fclose(f);
    pr->chain_len = (size_t)n;
    const uint8_t *p = pr->chain;
    size_t left = pr->chain_len, cap = 0;
    while (left) {
        if (pr->n_blocks == cap) {
            cap = cap ? cap * 2 : 512;
            pr->blocks = realloc(pr->blocks, cap * sizeof(*pr->blocks));
            if (!pr->blocks)
                return ETHD_ENOMEM;
        }
        if (ethd_rlp_next(&p, &left, &pr->blocks[pr->n_blocks]))
            return ETHD_EINVAL;
        pr->n_blocks++;
    }
    return 0;
}

/* Header item and hash of block `n` (1-based) of --chain. */
static int chain_block(struct probe *pr, uint64_t n, struct ethd_rlp_item *hdr, uint8_t hash[32])
{
    struct ethd_rlp_iter it;
    if (n == 0 || n > pr->n_blocks || ethd_rlp_iter_init(&it, &pr->blocks[n - 1]) ||
        ethd_rlp_iter_next(&it, hdr))
        return ETHD_ENOTFOUND;
    ethd_keccak256(hdr->raw, hdr->raw_len, hash);
    return 0;
}

static int cmd_newblock(struct probe *pr, const char *num, const char *td, bool corrupt)
{
    uint64_t n = strtoull(num, NULL, 0);
    struct ethd_rlp_item hdr;
    uint8_t h[32], tdb[32] = {0};
    if (chain_block(pr, n, &hdr, h))
        return ETHD_ENOTFOUND;
    if (corrupt) {
        /* extraData is the 13th header field; its first (vanity) byte
         * changes the hash, so the clique seal no longer recovers the
         * signer. The chain buffer is ours: flip it in place, once. */
        struct ethd_rlp_iter it;
        struct ethd_rlp_item f;
        ethd_rlp_iter_init(&it, &hdr);
        for (int i = 0; i < 13; i++)
            if (ethd_rlp_iter_next(&it, &f))
                return ETHD_EINVAL;
        if (f.len == 0)
            return ETHD_EINVAL;
        ((uint8_t *)f.payload)[0] ^= 0x01;
    }
    uint64_t t = strtoull(td, NULL, 0);
    for (int i = 0; i < 8; i++)
        tdb[31 - i] = (uint8_t)(t >> (8 * i));
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_raw(&e, pr->blocks[n - 1].raw, pr->blocks[n - 1].raw_len);
    ethd_rlp_u256(&e, tdb);
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_eth(pr, 0x07, &b);
    ethd_buf_free(&b);
    return rc;
}

static int cmd_newblockhashes(struct probe *pr, const char *num)
{
    uint64_t n = strtoull(num, NULL, 0);
    struct ethd_rlp_item hdr;
    uint8_t h[32];
    if (chain_block(pr, n, &hdr, h))
        return ETHD_ENOTFOUND;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, h, 32);
    ethd_rlp_uint(&e, n);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_eth(pr, 0x01, &b);
    ethd_buf_free(&b);
    return rc;
}

/* Answer a GetBlockHeaders (by hash or number, amount 1 only... and more)
 * or GetBlockBodies from --chain. */
static void serve_one(struct probe *pr, uint64_t code, const struct ethd_buf *req)
{
    struct ethd_rlp_item top, idi, q, x;
    struct ethd_rlp_iter it, qi;
    uint64_t id = 0;
    if (ethd_rlp_decode(req->data, req->len, &top) || ethd_rlp_iter_init(&it, &top) ||
        ethd_rlp_iter_next(&it, &idi) || ethd_rlp_get_uint64(&idi, &id) ||
        ethd_rlp_iter_next(&it, &q) || ethd_rlp_iter_init(&qi, &q))
        return;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, id);
    ethd_rlp_list_begin(&e);
    size_t served = 0;
    if (code == BASE + 0x03) {
        /* [origin, amount, skip, reverse]: forward, skip 0 served. */
        uint64_t origin = 0, amount = 0;
        if (ethd_rlp_iter_next(&qi, &x) == 0) {
            if (x.len == 32) {
                for (uint64_t n = 1; n <= pr->n_blocks; n++) {
                    struct ethd_rlp_item hdr;
                    uint8_t h[32];
                    if (chain_block(pr, n, &hdr, h) == 0 && !memcmp(h, x.payload, 32)) {
                        origin = n;
                        break;
                    }
                }
            } else {
                ethd_rlp_get_uint64(&x, &origin);
            }
        }
        if (ethd_rlp_iter_next(&qi, &x) == 0)
            ethd_rlp_get_uint64(&x, &amount);
        for (uint64_t n = origin; origin && n < origin + amount && n <= pr->n_blocks; n++) {
            struct ethd_rlp_item hdr;
            uint8_t h[32];
            chain_block(pr, n, &hdr, h);
            ethd_rlp_raw(&e, hdr.raw, hdr.raw_len);
            served++;
        }
    } else {
        while (ethd_rlp_iter_next(&qi, &x) == 0) {
            for (uint64_t n = 1; n <= pr->n_blocks; n++) {
                struct ethd_rlp_item hdr, txs, unc;
                struct ethd_rlp_iter bi;
                uint8_t h[32];
                if (chain_block(pr, n, &hdr, h) || memcmp(h, x.payload, 32))
                    continue;
                ethd_rlp_iter_init(&bi, &pr->blocks[n - 1]);
                ethd_rlp_iter_next(&bi, &hdr);
                ethd_rlp_iter_next(&bi, &txs);
                ethd_rlp_iter_next(&bi, &unc);
                ethd_rlp_list_begin(&e);
                ethd_rlp_raw(&e, txs.raw, txs.raw_len);
                ethd_rlp_raw(&e, unc.raw, unc.raw_len);
                ethd_rlp_list_end(&e);
                served++;
                break;
            }
        }
    }
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    if (ethd_rlp_enc_finish(&e) == 0)
        send_msg(pr, code + 1, b.data, b.len);
    out("{\"ev\":\"request\",\"code\":%llu,\"id\":%llu,\"served\":%zu}",
        (unsigned long long)(code - BASE), (unsigned long long)id, served);
    ethd_buf_free(&b);
}

/* Print (and with `serve`, answer) whatever arrives for `secs`. */
static int listen_for(struct probe *pr, double secs, bool serve)
{
    uint64_t deadline = now_ms() + (uint64_t)(secs * 1000);
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc;
    for (;;) {
        uint64_t code;
        rc = read_msg(pr, deadline, &code, &b);
        if (rc)
            break;
        if (serve && (code == BASE + 0x03 || code == BASE + 0x05))
            serve_one(pr, code, &b);
        else if (code == 0x03)
            out("{\"ev\":\"pong\"}");
        else
            print_other(pr, code, &b);
    }
    ethd_buf_free(&b);
    return rc == ETHD_ETIMEDOUT ? 0 : rc;
}

static int cmd_ping(struct probe *pr)
{
    static const uint8_t empty = 0xc0;
    int rc = send_msg(pr, 0x02, &empty, 1);
    uint64_t deadline = now_ms() + WAIT_MS;
    struct ethd_buf b = ETHD_BUF_INIT;
    while (!rc) {
        uint64_t code;
        rc = read_msg(pr, deadline, &code, &b);
        if (!rc && code == 0x03) {
            out("{\"ev\":\"pong\"}");
            break;
        }
        if (!rc)
            print_other(pr, code, &b);
    }
    ethd_buf_free(&b);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: eth_probe ENODE [--caps 66,67,68,69] [--status MODE] [--chain FILE] "
                    "[COMMAND ARGS]...\n(see the comment at the top of eth_probe.c)\n");
    return 2;
}

static int run(struct probe *pr, int argc, char **argv, int i)
{
    int rc = 0;
    while (i < argc && !rc) {
        const char *c = argv[i++];
        int left = argc - i;
#define NEED(k)                                                                                  \
    do {                                                                                         \
        if (left < (k))                                                                          \
            return usage();                                                                      \
    } while (0)
        if (!strcmp(c, "headers")) {
            NEED(4);
            rc = cmd_headers(pr, &argv[i]);
            i += 4;
        } else if (!strcmp(c, "bodies") || !strcmp(c, "receipts")) {
            int n = 0;
            while (i + n < argc && !strncmp(argv[i + n], "0x", 2))
                n++;
            uint8_t(*hs)[32] = calloc(n ? (size_t)n : 1, 32);
            for (int k = 0; k < n; k++)
                if (parse_hash(argv[i + k], hs[k]))
                    rc = ETHD_EINVAL;
            if (!rc)
                rc = by_hashes(pr, c[0] == 'b' ? 0x05 : 0x0f, (const uint8_t(*)[32])hs, (size_t)n);
            free(hs);
            i += n;
        } else if (!strcmp(c, "bodies-repeat") || !strcmp(c, "bodies-unknown")) {
            bool repeat = c[7] == 'r';
            NEED(repeat ? 2 : 1);
            size_t n = strtoull(argv[i], NULL, 0);
            uint8_t h[32];
            if (repeat && parse_hash(argv[i + 1], h))
                return usage();
            uint8_t(*hs)[32] = calloc(n ? n : 1, 32);
            if (!hs)
                return 1;
            for (size_t k = 0; k < n; k++) {
                if (repeat) {
                    memcpy(hs[k], h, 32);
                } else {
                    memset(hs[k], 0x77, 32);
                    memcpy(hs[k], &k, sizeof(k));
                }
            }
            rc = by_hashes(pr, 0x05, (const uint8_t(*)[32])hs, n);
            free(hs);
            i += repeat ? 2 : 1;
        } else if (!strcmp(c, "raw")) {
            NEED(2);
            rc = cmd_raw(pr, argv[i], argv[i + 1]);
            i += 2;
        } else if (!strcmp(c, "big")) {
            NEED(2);
            rc = cmd_big(pr, argv[i], argv[i + 1]);
            i += 2;
        } else if (!strcmp(c, "status")) {
            NEED(1);
            rc = send_status(pr, argv[i++]);
        } else if (!strcmp(c, "newblock") || !strcmp(c, "newblock-bad")) {
            NEED(2);
            rc = cmd_newblock(pr, argv[i], argv[i + 1], c[8] == '-');
            i += 2;
        } else if (!strcmp(c, "newblockhashes")) {
            NEED(1);
            rc = cmd_newblockhashes(pr, argv[i++]);
        } else if (!strcmp(c, "serve") || !strcmp(c, "listen")) {
            NEED(1);
            rc = listen_for(pr, strtod(argv[i++], NULL), c[0] == 's');
        } else if (!strcmp(c, "ping")) {
            rc = cmd_ping(pr);
        } else {
            fprintf(stderr, "unknown command %s\n", c);
            return usage();
        }
        if (rc && rc != ETHD_ECLOSED)
            out("{\"ev\":\"error\",\"msg\":\"%s: %s\"}", c, ethd_strerror(rc));
    }
    return rc == ETHD_ECLOSED ? 0 : rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    struct ethd_enode en;
    char err[256];
    if (ethd_enode_parse(argv[1], &en, err, sizeof(err))) {
        fprintf(stderr, "eth_probe: %s\n", err);
        return 2;
    }
    uint32_t caps[4] = {66, 67, 68, 69};
    size_t ncaps = 4;
    const char *status = "ok", *chain = NULL, *client_id = "eth_probe/v1";
    int i = 2;
    while (i < argc && !strncmp(argv[i], "--", 2)) {
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--caps")) {
            ncaps = 0;
            for (char *s = argv[i + 1]; *s && ncaps < 4;) {
                caps[ncaps++] = (uint32_t)strtoul(s, &s, 10);
                if (*s == ',')
                    s++;
                else if (*s)
                    return usage();
            }
        } else if (!strcmp(argv[i], "--status")) {
            status = argv[i + 1];
        } else if (!strcmp(argv[i], "--chain")) {
            chain = argv[i + 1];
        } else if (!strcmp(argv[i], "--client-id")) {
            client_id = argv[i + 1];
        } else {
            return usage();
        }
        i += 2;
    }
    struct probe pr;
    memset(&pr, 0, sizeof(pr));
    pr.next_id = 1000;
    uint8_t key[32];
    if (ethd_secp_new(&pr.secp) || ethd_secp_keygen(pr.secp, key))
        return 1;
    if (chain && load_chain(&pr, chain)) {
        fprintf(stderr, "eth_probe: cannot read chain file %s\n", chain);
        return 1;
    }
    pr.fd = connect_to(&en);
    if (pr.fd < 0) {
        out("{\"ev\":\"error\",\"msg\":\"connect: %s\"}", strerror(errno));
        return 1;
    }
    int rc = handshake(&pr, &en, key, caps, ncaps, client_id);
    if (!rc)
        rc = read_status(&pr);
    if (!rc && strcmp(status, "late") != 0)
        rc = send_status(&pr, status);
    int ec = 0;
    if (rc && rc != ETHD_ECLOSED) {
        out("{\"ev\":\"error\",\"msg\":\"handshake: %s\"}", ethd_strerror(rc));
        ec = 1;
    } else if (!rc) {
        ec = run(&pr, argc, argv, i);
        if (!ec && !pr.closed && !strcmp(status, "late"))
            send_status(&pr, "ok");
    }
    out("{\"ev\":\"done\"}");
    close(pr.fd);
    ethd_rlpx_frame_free(pr.frame);
    ethd_buf_free(&pr.in);
    ethd_secp_free(pr.secp);
    free(pr.blocks);
    free(pr.chain);
    return ec;
}
