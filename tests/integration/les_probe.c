/* les_probe: a scripted les client for tests/integration/test_les.sh.
 *
 * A blocking RLPx client (core/p2p/rlpx.h codec, our own sockets) that
 * dials one node, says Hello with les (versions from --version), exchanges
 * the les Status, then runs the commands given on its command line in order,
 * printing one JSON object per line. It keeps the client-side estimate of
 * its flow-control buffer (BLE, caps/les.md "Client Side Flow Control") from
 * the server's flowControl/BL, /MRR and /MRC, so the test can compare the BV
 * of every reply with the cost-table arithmetic.
 *
 *   les_probe ENODE [--version 2|3|4] [--status ok|genesis|network|forkid|garbage]
 *             [--announce-type N] [COMMAND ARGS]...
 *   commands:
 *     headers ORIGIN AMOUNT SKIP REVERSE   ORIGIN: decimal number or 0x hash
 *     bodies HASH...                      receipts HASH...
 *     txstatus HASH...
 *     proofsv2 HASH                       a state proof request (no state here)
 *     cht SECTION NUMBER                  root (auxReq 1), then the proof with
 *                                         the header (auxReq 2): verified here
 *     raw CODE HEX                        any payload, any les code
 *     flood N                             N GetBlockHeaders(0, max) at once,
 *                                         ignoring the buffer; then reads
 *     behave N                            N GetBlockHeaders(0, max), each sent
 *                                         only when BLE >= its MaxCost
 *     listen SECONDS                      print what arrives for that long
 *   events: hello, status {bl, mrr, mrc...}, headers/bodies/receipts/...
 *   {id, bv, ble, cost, count, hashes}, stop, resume {bv}, announce,
 *   cht {verified, ...}, disconnect {reason}, eof, error {msg}, done.
 * Exit status 0 when every command ran (a disconnect ends the run with 0
 * too: the test checks the events), 2 for usage, 1 for local failures. */
#include "les_cht.h"
#include "les_fc.h"
#include "les_msg.h"
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

#define BASE 0x10 /* les is our only capability: it starts right after p2p */
#define WAIT_MS 10000

struct probe {
    int fd;
    struct ethd_rlpx_frame *frame;
    struct ethd_buf in;
    struct ethd_secp *secp;
    uint32_t version; /* negotiated les version */
    uint32_t want_version;
    bool snappy;
    bool closed;
    struct ethd_les_status srv; /* the server's Status */
    struct ethd_les_fc ble;     /* our estimate of the server's buffer */
    uint64_t next_id;
    bool stopped;
    uint64_t stops, resumes;
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

static int send_les(struct probe *pr, uint64_t code, const struct ethd_buf *b)
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
        ethd_rlp_bytes(&e, "les", 3);
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
        if (nm.len != 3 || memcmp(nm.payload, "les", 3) != 0)
            continue;
        for (size_t i = 0; i < ncaps; i++)
            if (caps[i] == v && v > pr->version)
                pr->version = (uint32_t)v;
    }
    out("{\"ev\":\"hello\",\"clientId\":\"%s\",\"les\":%u}", cid, pr->version);
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
    if (!rc && code != BASE) {
        out("{\"ev\":\"error\",\"msg\":\"first les message is code 0x%llx, not Status\"}",
            (unsigned long long)(code - BASE));
        rc = ETHD_EPROTO;
    }
    if (!rc && ethd_les_status_decode(pr->version, b.data, b.len, &pr->srv)) {
        out("{\"ev\":\"error\",\"msg\":\"server Status does not decode\"}");
        rc = ETHD_EPROTO;
    }
    if (!rc) {
        struct ethd_les_status *s = &pr->srv;
        char td[80], head[80], gen[80], fh[16];
        ethd_hex_quantity_u256(s->head_td, td);
        hex_of(s->head_hash, 32, head);
        hex_of(s->genesis, 32, gen);
        hex_of(s->forkid.hash, 4, fh);
        printf("{\"ev\":\"status\",\"version\":%llu,\"networkId\":%llu,\"td\":\"%s\","
               "\"head\":\"%s\",\"headNum\":%llu,\"genesis\":\"%s\",\"forkHash\":\"%s\","
               "\"forkNext\":%llu,\"serveHeaders\":%s,\"serveChainSince\":%lld,"
               "\"recentTxLookup\":%lld,\"bl\":%llu,\"mrr\":%llu,\"mrc\":[",
               (unsigned long long)s->version, (unsigned long long)s->network_id, td, head,
               (unsigned long long)s->head_num, gen, s->has_forkid ? fh : "",
               (unsigned long long)s->forkid.next, s->serve_headers ? "true" : "false",
               s->has_serve_chain_since ? (long long)s->serve_chain_since : -1LL,
               s->has_recent_tx_lookup ? (long long)s->recent_tx_lookup : -1LL,
               (unsigned long long)s->bl, (unsigned long long)s->mrr);
        for (size_t i = 0; i < s->n_mrc; i++)
            printf("%s[%llu,%llu,%llu]", i ? "," : "", (unsigned long long)s->mrc[i].code,
                   (unsigned long long)s->mrc[i].base, (unsigned long long)s->mrc[i].req);
        out("]}");
        if (!s->has_bl || !s->has_mrr || !s->has_mrc) {
            out("{\"ev\":\"error\",\"msg\":\"no flow control parameters\"}");
            rc = ETHD_EPROTO;
        }
        ethd_les_fc_init(&pr->ble, s->bl, s->mrr, now_ms());
    }
    ethd_buf_free(&b);
    return rc;
}

static int send_status(struct probe *pr, const char *mode, int64_t announce_type)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    int rc;
    if (!strcmp(mode, "garbage")) {
        ethd_buf_append(&b, "\xc3\x01\x02\x03", 4);
    } else {
        struct ethd_les_status s;
        memset(&s, 0, sizeof(s));
        s.version = pr->version;
        s.network_id = pr->srv.network_id;
        memcpy(s.head_td, pr->srv.head_td, 32);
        memcpy(s.head_hash, pr->srv.head_hash, 32);
        s.head_num = pr->srv.head_num;
        memcpy(s.genesis, pr->srv.genesis, 32);
        s.has_forkid = pr->version >= 4;
        s.forkid = pr->srv.forkid;
        if (announce_type >= 0) {
            s.has_announce_type = true;
            s.announce_type = (uint64_t)announce_type;
        }
        if (!strcmp(mode, "genesis"))
            s.genesis[0] ^= 0xff;
        else if (!strcmp(mode, "network"))
            s.network_id = 424242;
        else if (!strcmp(mode, "forkid")) {
            memcpy(s.forkid.hash, "\xde\xad\xbe\xef", 4);
            s.forkid.next = 0;
        }
        if (ethd_les_status_encode(&s, &b)) {
            ethd_buf_free(&b);
            return ETHD_ENOMEM;
        }
    }
    rc = send_les(pr, LES_STATUS, &b);
    ethd_buf_free(&b);
    return rc;
}

/* ---- flow control, client side ---- */

static uint64_t max_cost(struct probe *pr, uint64_t code, uint64_t n)
{
    uint64_t c = 0;
    ethd_les_fc_cost(pr->srv.mrc, pr->srv.n_mrc, code, n, &c);
    return c;
}

/* In-flight requests: id -> MaxCost, for BLE = BV - Sum(MaxCost of later). */
#define MAX_FLIGHT 4096
struct flight {
    uint64_t id[MAX_FLIGHT], cost[MAX_FLIGHT];
    size_t n;
};

static void flight_add(struct flight *f, uint64_t id, uint64_t cost)
{
    if (f->n < MAX_FLIGHT) {
        f->id[f->n] = id;
        f->cost[f->n] = cost;
        f->n++;
    }
}

/* A reply for `id` with BV: BLE := BV - the MaxCost of requests sent after it. */
static uint64_t flight_reply(struct probe *pr, struct flight *f, uint64_t id, uint64_t bv)
{
    size_t i = 0;
    while (i < f->n && f->id[i] != id)
        i++;
    if (i == f->n)
        return UINT64_MAX;
    uint64_t later = 0;
    for (size_t k = i + 1; k < f->n; k++)
        later += f->cost[k];
    memmove(&f->id[i], &f->id[i + 1], (f->n - i - 1) * sizeof(uint64_t));
    memmove(&f->cost[i], &f->cost[i + 1], (f->n - i - 1) * sizeof(uint64_t));
    f->n--;
    ethd_les_fc_set(&pr->ble, bv > later ? bv - later : 0, now_ms());
    return later;
}

/* ---- printing replies ---- */

static void print_hashes(const struct ethd_rlp_item *list, bool numbers)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item x;
    char h[80];
    bool first = true;
    ethd_rlp_iter_init(&it, list);
    printf("\"hashes\":[");
    while (ethd_rlp_iter_next(&it, &x) == 0) {
        uint8_t k[32];
        ethd_keccak256(x.raw, x.raw_len, k);
        hex_of(k, 32, h);
        printf("%s\"%s\"", first ? "" : ",", h);
        first = false;
    }
    printf("]");
    if (!numbers)
        return;
    printf(",\"numbers\":[");
    first = true;
    ethd_rlp_iter_init(&it, list);
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

static const char *ev_name(uint64_t c)
{
    switch (c) {
    case LES_BLOCK_HEADERS:
        return "headers";
    case LES_BLOCK_BODIES:
        return "bodies";
    case LES_RECEIPTS:
        return "receipts";
    case LES_PROOFS_V2:
        return "proofsv2";
    case LES_CONTRACT_CODES:
        return "codes";
    case LES_HELPER_TRIE_PROOFS:
        return "htproofs";
    case LES_TX_STATUS:
        return "txstatus";
    default:
        return "msg";
    }
}

/* Handle one message: flow-control messages update state, replies are
 * printed. *reply_id gets the id of a reply (UINT64_MAX otherwise). */
static void handle(struct probe *pr, struct flight *f, uint64_t code, const struct ethd_buf *b,
                   uint64_t *reply_id, struct ethd_buf *keep)
{
    uint64_t c = code - BASE;
    *reply_id = UINT64_MAX;
    if (code < BASE) {
        out("{\"ev\":\"p2p\",\"code\":%llu}", (unsigned long long)code);
        return;
    }
    if (c == LES_STOP) {
        pr->stopped = true;
        pr->stops++;
        /* caps/les.md: unanswered requests are cancelled. */
        f->n = 0;
        out("{\"ev\":\"stop\"}");
        return;
    }
    if (c == LES_RESUME) {
        uint64_t bv = 0;
        int rc = ethd_les_resume_decode(b->data, b->len, &bv);
        pr->stopped = false;
        pr->resumes++;
        ethd_les_fc_set(&pr->ble, bv, now_ms());
        out("{\"ev\":\"resume\",\"bv\":%llu,\"ok\":%s}", (unsigned long long)bv,
            rc ? "false" : "true");
        return;
    }
    if (c == LES_ANNOUNCE) {
        struct ethd_les_announce a;
        if (ethd_les_announce_decode(b->data, b->len, &a)) {
            out("{\"ev\":\"announce\",\"malformed\":true}");
            return;
        }
        char h[80], td[80];
        hex_of(a.hash, 32, h);
        ethd_hex_quantity_u256(a.td, td);
        out("{\"ev\":\"announce\",\"hash\":\"%s\",\"number\":%llu,\"td\":\"%s\",\"reorgDepth\":%llu,"
            "\"signed\":%s}",
            h, (unsigned long long)a.number, td, (unsigned long long)a.reorg_depth,
            a.has_sig ? "true" : "false");
        return;
    }
    uint64_t id, bv;
    struct ethd_rlp_item body;
    if (ethd_les_reply_decode(b->data, b->len, &id, &bv, &body)) {
        out("{\"ev\":\"msg\",\"code\":%llu,\"malformed\":true}", (unsigned long long)c);
        return;
    }
    uint64_t later = flight_reply(pr, f, id, bv);
    size_t count = 0;
    ethd_rlp_list_count(&body, &count);
    printf("{\"ev\":\"%s\",\"id\":%llu,\"bv\":%llu,\"later\":%lld,\"count\":%zu,", ev_name(c),
           (unsigned long long)id, (unsigned long long)bv,
           later == UINT64_MAX ? -1LL : (long long)later, count);
    if (c == LES_BLOCK_HEADERS)
        print_hashes(&body, true);
    else
        print_hashes(&body, false);
    out("}");
    *reply_id = id;
    if (keep) {
        ethd_buf_reset(keep);
        ethd_buf_append(keep, b->data, b->len);
    }
}

/* Send a request (payload with id already in it) and note its MaxCost. */
static int send_req(struct probe *pr, struct flight *f, uint64_t code, uint64_t id,
                    uint64_t count, const struct ethd_buf *b)
{
    uint64_t cost = max_cost(pr, code, count);
    ethd_les_fc_charge(&pr->ble, now_ms(), cost); /* may run dry: flood ignores it */
    flight_add(f, id, cost);
    return send_les(pr, code, b);
}

/* Wait for the reply with this id (other messages are handled on the way). */
static int await(struct probe *pr, struct flight *f, uint64_t id, struct ethd_buf *keep)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t deadline = now_ms() + WAIT_MS, code, got;
    int rc;
    for (;;) {
        rc = read_msg(pr, deadline, &code, &b);
        if (rc)
            break;
        handle(pr, f, code, &b, &got, keep);
        if (got == id)
            break;
        if (pr->stopped && f->n == 0) {
            rc = ETHD_ECANCELED;
            break;
        }
    }
    ethd_buf_free(&b);
    if (rc == ETHD_ETIMEDOUT)
        out("{\"ev\":\"timeout\",\"id\":%llu}", (unsigned long long)id);
    return rc;
}

static int parse_hash(const char *s, uint8_t h[32])
{
    return ethd_hex_decode_fixed(s, h, 32);
}

static int cmd_headers(struct probe *pr, struct flight *f, char **a)
{
    struct ethd_eth_headers_query q;
    memset(&q, 0, sizeof(q));
    if (!strncmp(a[0], "0x", 2) && strlen(a[0]) == 66) {
        q.by_hash = true;
        if (parse_hash(a[0], q.hash))
            return ETHD_EINVAL;
    } else {
        q.number = strtoull(a[0], NULL, 10);
    }
    q.amount = strtoull(a[1], NULL, 10);
    q.skip = strtoull(a[2], NULL, 10);
    q.reverse = atoi(a[3]) != 0;
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t id = pr->next_id++;
    int rc = ethd_les_get_headers_encode(id, &q, &b);
    if (!rc)
        rc = send_req(pr, f, LES_GET_BLOCK_HEADERS, id, q.amount, &b);
    ethd_buf_free(&b);
    return rc ? rc : await(pr, f, id, NULL);
}

static int cmd_hashes(struct probe *pr, struct flight *f, uint64_t code, char **a, int n)
{
    uint8_t(*hs)[32] = calloc((size_t)n + 1, 32);
    if (!hs)
        return ETHD_ENOMEM;
    for (int i = 0; i < n; i++)
        if (parse_hash(a[i], hs[i])) {
            free(hs);
            return ETHD_EINVAL;
        }
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t id = pr->next_id++;
    int rc = ethd_les_hashes_encode(id, hs, (size_t)n, &b);
    free(hs);
    if (!rc)
        rc = send_req(pr, f, code, id, (uint64_t)n, &b);
    ethd_buf_free(&b);
    return rc ? rc : await(pr, f, id, NULL);
}

static int cmd_proofsv2(struct probe *pr, struct flight *f, const char *hash)
{
    uint8_t h[32], key[32] = {0};
    if (parse_hash(hash, h))
        return ETHD_EINVAL;
    struct ethd_buf b = ETHD_BUF_INIT;
    struct ethd_rlp_enc e;
    uint64_t id = pr->next_id++;
    ethd_rlp_enc_init(&e, &b);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, id);
    ethd_rlp_list_begin(&e);
    ethd_rlp_list_begin(&e);
    ethd_rlp_bytes(&e, h, 32);
    ethd_rlp_bytes(&e, key, 32);
    ethd_rlp_bytes(&e, NULL, 0);
    ethd_rlp_uint(&e, 0);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    ethd_rlp_list_end(&e);
    int rc = ethd_rlp_enc_finish(&e);
    if (!rc)
        rc = send_req(pr, f, LES_GET_PROOFS_V2, id, 1, &b);
    ethd_buf_free(&b);
    return rc ? rc : await(pr, f, id, NULL);
}

/* CHT: ask the section root (auxReq 1), then the proof of NUMBER with its
 * header (auxReq 2); verify value [hash, td] against the root and the
 * header's hash against the value. */
static int cmd_cht(struct probe *pr, struct flight *f, uint64_t section, uint64_t number)
{
    uint8_t key[8];
    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t)(number >> (56 - 8 * i));
    struct ethd_les_ht_req r = {LES_HT_CHT, section, key, 8, 0, LES_AUX_ROOT};
    struct ethd_buf b = ETHD_BUF_INIT, keep = ETHD_BUF_INIT;
    uint8_t root[32];
    bool have_root = false, verified = false, header_ok = false;
    uint64_t id = pr->next_id++;
    int rc = ethd_les_ht_req_encode(id, &r, 1, &b);
    if (!rc)
        rc = send_req(pr, f, LES_GET_HELPER_TRIE_PROOFS, id, 1, &b);
    if (!rc)
        rc = await(pr, f, id, &keep);
    struct ethd_rlp_item body, nodes, aux, a0;
    struct ethd_rlp_iter it, ai;
    uint64_t rid, bv;
    if (!rc && ethd_les_reply_decode(keep.data, keep.len, &rid, &bv, &body) == 0 &&
        ethd_rlp_iter_init(&it, &body) == 0 && ethd_rlp_iter_next(&it, &nodes) == 0 &&
        ethd_rlp_iter_next(&it, &aux) == 0 && ethd_rlp_iter_init(&ai, &aux) == 0 &&
        ethd_rlp_iter_next(&ai, &a0) == 0 && ethd_rlp_get_fixed(&a0, root, 32) == 0)
        have_root = true;
    size_t n_nodes = 0;
    if (!rc) {
        r.aux_req = LES_AUX_HEADER;
        id = pr->next_id++;
        ethd_buf_reset(&b);
        rc = ethd_les_ht_req_encode(id, &r, 1, &b);
        if (!rc)
            rc = send_req(pr, f, LES_GET_HELPER_TRIE_PROOFS, id, 1, &b);
        if (!rc)
            rc = await(pr, f, id, &keep);
    }
    if (!rc && have_root && ethd_les_reply_decode(keep.data, keep.len, &rid, &bv, &body) == 0 &&
        ethd_rlp_iter_init(&it, &body) == 0 && ethd_rlp_iter_next(&it, &nodes) == 0 &&
        ethd_rlp_iter_next(&it, &aux) == 0) {
        const uint8_t *val;
        size_t vlen;
        ethd_rlp_list_count(&nodes, &n_nodes);
        if (ethd_les_trie_verify(root, key, 8, &nodes, &val, &vlen) == 0) {
            struct ethd_rlp_item v, vh;
            struct ethd_rlp_iter vi;
            uint8_t vhash[32];
            verified = ethd_rlp_decode(val, vlen, &v) == 0 && ethd_rlp_iter_init(&vi, &v) == 0 &&
                       ethd_rlp_iter_next(&vi, &vh) == 0 &&
                       ethd_rlp_get_fixed(&vh, vhash, 32) == 0;
            const uint8_t *hp;
            size_t hl;
            if (verified && ethd_rlp_iter_init(&ai, &aux) == 0 &&
                ethd_rlp_iter_next(&ai, &a0) == 0 && ethd_rlp_get_bytes(&a0, &hp, &hl) == 0 &&
                hl > 0) {
                uint8_t hh[32];
                struct ethd_header hd;
                ethd_keccak256(hp, hl, hh);
                header_ok = memcmp(hh, vhash, 32) == 0 &&
                            ethd_header_decode(hp, hl, &hd) == 0 && hd.number == number;
                if (header_ok)
                    ethd_header_free(&hd);
            }
        }
    }
    char rh[80] = "";
    if (have_root)
        hex_of(root, 32, rh);
    out("{\"ev\":\"cht\",\"section\":%llu,\"number\":%llu,\"root\":\"%s\",\"nodes\":%zu,"
        "\"verified\":%s,\"header\":%s}",
        (unsigned long long)section, (unsigned long long)number, rh, n_nodes,
        verified ? "true" : "false", header_ok ? "true" : "false");
    ethd_buf_free(&b);
    ethd_buf_free(&keep);
    return rc;
}

static int cmd_raw(struct probe *pr, const char *code, const char *hex)
{
    uint8_t *p = NULL;
    size_t n = 0;
    if (ethd_hex_decode_alloc(hex, &p, &n))
        return ETHD_EINVAL;
    int rc = send_msg(pr, BASE + strtoull(code, NULL, 0), p, n);
    free(p);
    return rc;
}

/* Read everything for `ms` (or until the connection ends). */
static int drain(struct probe *pr, struct flight *f, uint64_t ms)
{
    struct ethd_buf b = ETHD_BUF_INIT;
    uint64_t deadline = now_ms() + ms, code, got;
    int rc;
    while ((rc = read_msg(pr, deadline, &code, &b)) == 0)
        handle(pr, f, code, &b, &got, NULL);
    ethd_buf_free(&b);
    return rc == ETHD_ETIMEDOUT ? 0 : rc;
}

/* N requests at once, ignoring flow control: a client that "ignores its
 * buffer". Then reads for a while (StopMsg, then the disconnect). */
static int cmd_flood(struct probe *pr, struct flight *f, uint64_t n)
{
    struct ethd_eth_headers_query q;
    memset(&q, 0, sizeof(q));
    q.amount = 192;
    uint64_t sent = 0;
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        struct ethd_buf b = ETHD_BUF_INIT;
        uint64_t id = pr->next_id++;
        rc = ethd_les_get_headers_encode(id, &q, &b);
        if (!rc)
            rc = send_req(pr, f, LES_GET_BLOCK_HEADERS, id, q.amount, &b);
        ethd_buf_free(&b);
        if (!rc)
            sent++;
    }
    out("{\"ev\":\"flooded\",\"sent\":%llu}", (unsigned long long)sent);
    if (rc == ETHD_EIO)
        rc = 0; /* the server may already have closed */
    int drc = drain(pr, f, 5000);
    return rc ? rc : drc;
}

/* N requests, each sent only when the estimate allows it. */
static int cmd_behave(struct probe *pr, struct flight *f, uint64_t n)
{
    struct ethd_eth_headers_query q;
    memset(&q, 0, sizeof(q));
    q.amount = 192;
    uint64_t cost = max_cost(pr, LES_GET_BLOCK_HEADERS, q.amount), waited = 0;
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint64_t w = ethd_les_fc_wait_ms(&pr->ble, now_ms(), cost);
        if (w == UINT64_MAX) {
            out("{\"ev\":\"error\",\"msg\":\"MaxCost above BL\"}");
            return ETHD_ERANGE;
        }
        if (w) {
            waited += w;
            usleep((useconds_t)(w + 1) * 1000);
        }
        struct ethd_buf b = ETHD_BUF_INIT;
        uint64_t id = pr->next_id++;
        rc = ethd_les_get_headers_encode(id, &q, &b);
        if (!rc)
            rc = send_req(pr, f, LES_GET_BLOCK_HEADERS, id, q.amount, &b);
        ethd_buf_free(&b);
        if (!rc)
            rc = await(pr, f, id, NULL);
    }
    out("{\"ev\":\"behaved\",\"requests\":%llu,\"waitedMs\":%llu,\"stops\":%llu}",
        (unsigned long long)n, (unsigned long long)waited, (unsigned long long)pr->stops);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: les_probe ENODE [--version N] [--status MODE] [--announce-type N] "
                    "[COMMAND ARGS]...\n");
    return 2;
}

static int nargs(const char *cmd)
{
    if (!strcmp(cmd, "headers"))
        return 4;
    if (!strcmp(cmd, "cht") || !strcmp(cmd, "raw"))
        return 2;
    if (!strcmp(cmd, "proofsv2") || !strcmp(cmd, "flood") || !strcmp(cmd, "behave") ||
        !strcmp(cmd, "listen"))
        return 1;
    return -1; /* variadic: hashes up to the next command */
}

static bool is_command(const char *s)
{
    static const char *const cmds[] = {"headers", "bodies",  "receipts", "txstatus", "proofsv2",
                                       "cht",     "raw",     "flood",    "behave",   "listen"};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++)
        if (!strcmp(s, cmds[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    struct ethd_enode en;
    char err[256];
    if (ethd_enode_parse(argv[1], &en, err, sizeof(err))) {
        fprintf(stderr, "les_probe: %s\n", err);
        return 2;
    }
    const char *status = "ok";
    int64_t announce_type = -1;
    uint32_t version = 4;
    int i = 2;
    while (i < argc && !strncmp(argv[i], "--", 2)) {
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--version"))
            version = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--status"))
            status = argv[i + 1];
        else if (!strcmp(argv[i], "--announce-type"))
            announce_type = strtoll(argv[i + 1], NULL, 10);
        else
            return usage();
        i += 2;
    }
    struct probe pr;
    memset(&pr, 0, sizeof(pr));
    pr.next_id = 1;
    pr.want_version = version;
    struct flight *f = calloc(1, sizeof(*f));
    uint8_t key[32];
    if (!f || ethd_secp_new(&pr.secp) || ethd_secp_keygen(pr.secp, key))
        return 1;
    pr.fd = connect_to(&en);
    if (pr.fd < 0) {
        out("{\"ev\":\"error\",\"msg\":\"connect: %s\"}", strerror(errno));
        return 1;
    }
    uint32_t caps[1] = {version};
    int rc = handshake(&pr, &en, key, caps, 1, "les_probe/v1");
    if (!rc)
        rc = read_status(&pr);
    if (!rc && strcmp(status, "none") != 0)
        rc = send_status(&pr, status, announce_type);
    int ec = 0;
    if (rc && rc != ETHD_ECLOSED) {
        out("{\"ev\":\"error\",\"msg\":\"handshake: %s\"}", ethd_strerror(rc));
        ec = 1;
    }
    while (!rc && i < argc) {
        const char *cmd = argv[i++];
        int na = nargs(cmd);
        if (!is_command(cmd) || (na > 0 && i + na > argc)) {
            ec = usage();
            break;
        }
        if (na < 0) {
            na = 0;
            while (i + na < argc && !is_command(argv[i + na]))
                na++;
        }
        char **a = &argv[i];
        i += na;
        if (!strcmp(cmd, "headers"))
            rc = cmd_headers(&pr, f, a);
        else if (!strcmp(cmd, "bodies"))
            rc = cmd_hashes(&pr, f, LES_GET_BLOCK_BODIES, a, na);
        else if (!strcmp(cmd, "receipts"))
            rc = cmd_hashes(&pr, f, LES_GET_RECEIPTS, a, na);
        else if (!strcmp(cmd, "txstatus"))
            rc = cmd_hashes(&pr, f, LES_GET_TX_STATUS, a, na);
        else if (!strcmp(cmd, "proofsv2"))
            rc = cmd_proofsv2(&pr, f, a[0]);
        else if (!strcmp(cmd, "cht"))
            rc = cmd_cht(&pr, f, strtoull(a[0], NULL, 10), strtoull(a[1], NULL, 10));
        else if (!strcmp(cmd, "raw"))
            rc = cmd_raw(&pr, a[0], a[1]);
        else if (!strcmp(cmd, "flood"))
            rc = cmd_flood(&pr, f, strtoull(a[0], NULL, 10));
        else if (!strcmp(cmd, "behave"))
            rc = cmd_behave(&pr, f, strtoull(a[0], NULL, 10));
        else if (!strcmp(cmd, "listen"))
            rc = drain(&pr, f, strtoull(a[0], NULL, 10) * 1000);
    }
    /* After the commands (or a failed handshake), report what closes the
     * connection, if anything comes within a second. */
    if (!pr.closed && (rc == 0 || rc == ETHD_ECANCELED))
        drain(&pr, f, rc ? 3000 : 300);
    if (rc && rc != ETHD_ECLOSED && rc != ETHD_ECANCELED && rc != ETHD_ETIMEDOUT && !ec) {
        out("{\"ev\":\"error\",\"msg\":\"%s\"}", ethd_strerror(rc));
        ec = 1;
    }
    out("{\"ev\":\"done\",\"stops\":%llu,\"resumes\":%llu,\"closed\":%s}",
        (unsigned long long)pr.stops, (unsigned long long)pr.resumes,
        pr.closed ? "true" : "false");
    close(pr.fd);
    ethd_rlpx_frame_free(pr.frame);
    ethd_buf_free(&pr.in);
    ethd_secp_free(pr.secp);
    free(f);
    return ec;
}
