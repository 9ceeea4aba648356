/* `ethd init`, `ethd import`, `ethd export`: the chain commands, like
 * geth's init/import/export and interoperable with their files (a chain file
 * is block RLPs [header, txs, uncles(, withdrawals)] back to back).
 *
 * Import streams the file through a bounded buffer (one block at most
 * ETHD_IMPORT_MAX_ITEM bytes), verifies every block and writes it in
 * batches of up to IMPORT_BATCH blocks, each one atomic write, so a crash or
 * a stop keeps a consistent prefix; blocks already stored are skipped, so
 * running it again resumes. It stops at the first bad block and says
 * "block N: reason". */
#include "chain/chain.h"

#include "cli.h"
#include "conf.h"
#include "datadir.h"
#include "db/store.h"
#include "log.h"

#include <ethd/error.h>
#include <ethd/hex.h>
#include <ethd/log.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IMPORT_BATCH 1024                       /* blocks per atomic write */
#define IMPORT_BATCH_BYTES ((size_t)16 << 20)   /* ... or this many bytes of blocks */
#define READ_CHUNK ((size_t)4 << 20)            /* initial read buffer */
#define ETHD_IMPORT_MAX_ITEM ((size_t)128 << 20) /* largest block / receipt list accepted */
#define PROGRESS_NS 2000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- streaming reader of concatenated RLP items ---- */

struct reader {
    const char *path;
    FILE *f;
    uint8_t *buf;
    size_t cap, len, pos;
    bool eof;
    size_t want;       /* size of the item that did not fit (to grow for it) */
    uint64_t consumed; /* bytes before buf[0] */
};

enum { RD_ITEM = 0, RD_END = 1, RD_MORE = 2 };

static int reader_open(struct reader *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->path = path;
    if (!(r->f = fopen(path, "rb"))) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return ETHD_EIO;
    }
    r->cap = READ_CHUNK;
    if (!(r->buf = malloc(r->cap))) {
        fclose(r->f);
        r->f = NULL;
        return ETHD_ENOMEM;
    }
    return 0;
}

static void reader_close(struct reader *r)
{
    if (r->f)
        fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

/* Move the unread bytes to the front, grow if one item needs it, read more.
 * Only when nothing borrows from the buffer. */
static int reader_fill(struct reader *r, char *err, size_t errlen)
{
    if (r->pos) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->consumed += r->pos;
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->want > r->cap) {
        size_t nc = r->cap;
        while (nc < r->want)
            nc *= 2;
        uint8_t *nb = realloc(r->buf, nc);
        if (!nb)
            return ETHD_ENOMEM;
        r->buf = nb;
        r->cap = nc;
    }
    r->want = 0;
    while (!r->eof && r->len < r->cap) {
        size_t got = fread(r->buf + r->len, 1, r->cap - r->len, r->f);
        r->len += got;
        if (got == 0) {
            if (ferror(r->f)) {
                snprintf(err, errlen, "cannot read %s: %s", r->path, strerror(errno));
                return ETHD_EIO;
            }
            r->eof = true;
        }
    }
    return 0;
}

/* Size of the RLP item at p (prefix + payload); 0 if more bytes are needed
 * to tell. */
static int item_size(const uint8_t *p, size_t avail, uint64_t *size)
{
    if (avail == 0)
        return RD_MORE;
    uint8_t b0 = p[0];
    if (b0 < 0x80) {
        *size = 1;
        return 0;
    }
    if (b0 <= 0xb7 || (b0 >= 0xc0 && b0 <= 0xf7)) {
        *size = 1 + (uint64_t)(b0 - (b0 >= 0xc0 ? 0xc0 : 0x80));
        return 0;
    }
    size_t ll = b0 >= 0xf8 ? (size_t)(b0 - 0xf7) : (size_t)(b0 - 0xb7);
    if (avail < 1 + ll)
        return RD_MORE;
    uint64_t n = 0;
    for (size_t i = 0; i < ll; i++)
        n = n << 8 | p[1 + i];
    if (ll == 8 && n > UINT64_MAX - 9)
        return ETHD_ETOOBIG;
    *size = 1 + ll + n;
    return 0;
}

/* Next whole item: RD_ITEM (*it borrows the buffer), RD_END (clean end),
 * RD_MORE (refill first), or a negative error (ETHD_ETRUNC: the file ends
 * inside an item; ETHD_ETOOBIG; an RLP error). */
static int reader_next(struct reader *r, struct ethd_rlp_item *it)
{
    size_t avail = r->len - r->pos;
    if (avail == 0)
        return r->eof ? RD_END : RD_MORE;
    uint64_t size;
    int rc = item_size(r->buf + r->pos, avail, &size);
    if (rc == RD_MORE)
        return r->eof ? ETHD_ETRUNC : RD_MORE;
    if (rc)
        return rc;
    if (size > ETHD_IMPORT_MAX_ITEM)
        return ETHD_ETOOBIG;
    if (size > avail) {
        if (r->eof)
            return ETHD_ETRUNC;
        r->want = (size_t)size;
        return RD_MORE;
    }
    if ((rc = ethd_rlp_decode(r->buf + r->pos, (size_t)size, it)))
        return rc;
    r->pos += (size_t)size;
    return RD_ITEM;
}

/* ---- helpers ---- */

static void fmt_duration(double s, char *out, size_t len)
{
    if (s < 0 || s > 1e9)
        snprintf(out, len, "?");
    else if (s < 60)
        snprintf(out, len, "%.0fs", s);
    else if (s < 3600)
        snprintf(out, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(out, len, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

struct session {
    struct ethd_logger *log;
    struct ethd_datadir_lock *lock;
    struct ethd_store *st;
    struct ethd_chain *chain;
    const char *datadir;
};

static void session_close(struct session *s)
{
    ethd_chain_close(s->chain);
    ethd_store_close(s->st);
    ethd_datadir_unlock(s->lock);
    ethd_logger_free(s->log);
}

/* Lock the data dir, open the store and the chain (initialising it from
 * `genesis_path` when given). Exit status on failure, 0 on success. */
static int session_open(struct session *s, struct ethd_conf *conf, struct ethd_log_sink *sink,
                        const char *genesis_path)
{
    char err[1024];
    const struct ethd_conf *node = NULL, *chain = NULL;
    uint64_t network_id = 0;
    bool from_cli = genesis_path != NULL;
    memset(s, 0, sizeof(*s));
    if (ethd_conf_map(conf, "node", &node) ||
        ethd_conf_string(node, "datadir", "./ethd-data", &s->datadir) ||
        ethd_conf_map(conf, "chain", &chain) ||
        ethd_conf_uint(chain, "network_id", 0, UINT64_MAX, 0, &network_id) ||
        (!genesis_path && ethd_conf_string(chain, "genesis", NULL, &genesis_path))) {
        fprintf(stderr, "ethd: %s\n", ethd_conf_error(conf));
        return 2;
    }
    /* chain.genesis "dev" is the node's built-in dev chain (docs/config.md):
     * the commands work on whatever chain the data dir holds. */
    if (!from_cli && genesis_path && strcmp(genesis_path, "dev") == 0)
        genesis_path = NULL;
    if (ethd_logger_new(sink, "chain", &s->log)) {
        fprintf(stderr, "ethd: out of memory\n");
        return 1;
    }
    int rc = ethd_datadir_lock(s->datadir, &s->lock, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "ethd: %s\n", err);
        return 1;
    }
    char dbdir[4096];
    snprintf(dbdir, sizeof(dbdir), "%s/chaindata", s->datadir);
    if ((rc = ethd_store_open(dbdir, s->log, &s->st, err, sizeof(err)))) {
        fprintf(stderr, "ethd: cannot open the database in %s: %s\n", dbdir, err);
        return 1;
    }
    if (!genesis_path && !ethd_chain_present(s->st)) {
        fprintf(stderr,
                "ethd: %s holds no chain: run `ethd init --genesis FILE` first (or pass "
                "--genesis)\n",
                s->datadir);
        return 1;
    }
    struct ethd_chain_opts o = {.log = s->log, .network_id = network_id};
    if ((rc = ethd_chain_open_path(s->st, genesis_path, &o, &s->chain, err, sizeof(err)))) {
        fprintf(stderr, "ethd: %s\n", err);
        return rc == ETHD_ECONFIG ? 2 : 1;
    }
    return 0;
}

/* ---- init ---- */

static int cmd_init(const struct ethd_cli *cli, struct ethd_conf *conf, struct ethd_log_sink *sink)
{
    if (!cli->genesis) {
        fprintf(stderr, "ethd: init needs --genesis FILE\n");
        return 2;
    }
    struct session s;
    int status = session_open(&s, conf, sink, cli->genesis);
    if (status == 0) {
        char hx[67];
        struct ethd_chain_head h;
        ethd_chain_head_header(s.chain, &h);
        ethd_hex_encode(ethd_chain_genesis(s.chain)->hash, 32, hx);
        printf("genesis %s (chain id %" PRIu64 ") in %s; head #%" PRIu64 "\n", hx,
               ethd_chain_genesis(s.chain)->config.chain_id, s.datadir, h.number);
    }
    session_close(&s);
    return status;
}

/* ---- import ---- */

struct import_state {
    struct session *s;
    uint64_t file_size;
    uint64_t t0, last_report;
    uint64_t blocks, fresh, next_number;
};

static void report(struct import_state *im, const struct reader *r, bool final)
{
    uint64_t t = now_ns();
    if (!final && t - im->last_report < PROGRESS_NS)
        return;
    im->last_report = t;
    double el = (double)(t - im->t0) / 1e9;
    uint64_t done = r->consumed + r->pos;
    double rate = el > 0 ? (double)im->blocks / el : 0;
    double eta = done > 0 && im->file_size > done ? el * (double)(im->file_size - done) / (double)done
                                                  : 0;
    char etas[32];
    fmt_duration(eta, etas, sizeof(etas));
    struct ethd_chain_head h;
    ethd_chain_head_block(im->s->chain, &h);
    ETHD_INFO(im->s->log, "import progress",
              "blocks=%" PRIu64 " new=%" PRIu64 " head=%" PRIu64 " rate=%.0f/s done=%.1f%% eta=%s",
              im->blocks, im->fresh, h.number, rate,
              im->file_size ? 100.0 * (double)done / (double)im->file_size : 100.0, etas);
}

static int cmd_import(const struct ethd_cli *cli, struct ethd_conf *conf,
                      struct ethd_log_sink *sink, volatile sig_atomic_t *stop)
{
    struct session s;
    int status = session_open(&s, conf, sink, cli->genesis);
    if (status) {
        session_close(&s);
        return status;
    }
    char err[1024];
    struct reader br, rr;
    bool have_r = cli->receipts != NULL;
    memset(&rr, 0, sizeof(rr));
    if (reader_open(&br, cli->args[0], err, sizeof(err)) ||
        (have_r && reader_open(&rr, cli->receipts, err, sizeof(err)))) {
        fprintf(stderr, "ethd: %s\n", err);
        reader_close(&br);
        session_close(&s);
        return 1;
    }
    struct stat sb;
    struct import_state im = {.s = &s, .t0 = now_ns()};
    im.last_report = im.t0;
    if (fstat(fileno(br.f), &sb) == 0)
        im.file_size = (uint64_t)sb.st_size;
    struct ethd_block *blocks = calloc(IMPORT_BATCH, sizeof(*blocks));
    struct ethd_trie_item *rcpts = calloc(IMPORT_BATCH, sizeof(*rcpts));
    if (!blocks || !rcpts) {
        fprintf(stderr, "ethd: out of memory\n");
        status = 1;
        goto out;
    }
    ETHD_INFO(s.log, "import started", "file=%s receipts=%s size=%" PRIu64, cli->args[0],
              have_r ? cli->receipts : "-", im.file_size);
    const uint8_t *genesis_hash = ethd_chain_genesis(s.chain)->hash;
    uint64_t expect = 0; /* number the next block should have (for messages) */
    bool done = false;
    int rc = 0;
    if ((rc = reader_fill(&br, err, sizeof(err))) ||
        (have_r && (rc = reader_fill(&rr, err, sizeof(err))))) {
        fprintf(stderr, "ethd: %s\n", err);
        status = 1;
        goto out;
    }
    while (!done) {
        size_t nb = 0, bytes = 0;
        bool need_more = false;
        while (nb < IMPORT_BATCH && bytes < IMPORT_BATCH_BYTES) {
            struct ethd_rlp_item it, ri;
            size_t save = br.pos;
            int r = reader_next(&br, &it);
            if (r == RD_MORE) {
                need_more = true;
                break;
            }
            if (r == RD_END) {
                done = true;
                break;
            }
            uint64_t num = nb ? blocks[nb - 1].header.number + 1 : expect + 1;
            if (r < 0) {
                snprintf(err, sizeof(err), "block %" PRIu64 ": %s", num,
                         r == ETHD_ETRUNC   ? "the file ends inside the block (truncated)"
                         : r == ETHD_ETOOBIG ? "block too large"
                                             : "malformed block RLP");
                rc = r;
                break;
            }
            if ((r = ethd_block_decode_item(&it, &blocks[nb]))) {
                snprintf(err, sizeof(err), "block %" PRIu64 ": cannot decode the block: %s", num,
                         ethd_strerror(r));
                rc = r;
                break;
            }
            if (blocks[nb].header.number == 0) {
                /* geth's export starts with the genesis; it must be ours. */
                bool same = memcmp(blocks[nb].hash, genesis_hash, 32) == 0;
                ethd_block_free(&blocks[nb]);
                if (!same) {
                    snprintf(err, sizeof(err), "block 0: the file's genesis is not this chain's");
                    rc = ETHD_EINVAL;
                    break;
                }
                continue;
            }
            if (have_r) {
                r = reader_next(&rr, &ri);
                if (r == RD_MORE) {
                    ethd_block_free(&blocks[nb]);
                    br.pos = save;
                    need_more = true;
                    break;
                }
                if (r != RD_ITEM || !ri.is_list) {
                    snprintf(err, sizeof(err), "block %" PRIu64 ": %s",
                             blocks[nb].header.number,
                             r == RD_END ? "the receipts file has no list for this block"
                                         : "malformed receipt list in the receipts file");
                    ethd_block_free(&blocks[nb]);
                    rc = ETHD_EINVAL;
                    break;
                }
                rcpts[nb].data = ri.raw;
                rcpts[nb].len = ri.raw_len;
            }
            bytes += it.raw_len;
            nb++;
        }
        if (nb > 0) {
            struct ethd_chain_insert_result res;
            int irc = ethd_chain_insert_blocks(s.chain, blocks, have_r ? rcpts : NULL, nb, &res);
            im.blocks += res.n_done;
            im.fresh += res.n_new;
            expect = blocks[nb - 1].header.number;
            for (size_t i = 0; i < nb; i++)
                ethd_block_free(&blocks[i]);
            if (irc) {
                snprintf(err, sizeof(err), "block %" PRIu64 ": %s", res.bad_number, res.reason);
                rc = irc;
            }
        }
        if (rc)
            break;
        if (*stop) {
            fprintf(stderr, "ethd: import interrupted; %" PRIu64
                            " blocks are stored, run the same command again to resume\n",
                    im.blocks);
            status = 1;
            goto out;
        }
        report(&im, &br, false);
        if (done)
            break;
        if (need_more || nb > 0) {
            if ((rc = reader_fill(&br, err, sizeof(err))) ||
                (have_r && (rc = reader_fill(&rr, err, sizeof(err)))))
                break;
        }
    }
    if (!rc && have_r) {
        struct ethd_rlp_item ri;
        if (reader_next(&rr, &ri) != RD_END)
            ETHD_WARN(s.log, "receipts file has more lists than the chain file has blocks", NULL);
    }
    report(&im, &br, true);
    if (rc) {
        fprintf(stderr, "ethd: %s\n", err);
        ETHD_ERROR(s.log, "import stopped", "error=\"%s\"", err);
        status = 1;
    } else {
        struct ethd_chain_head h;
        char hx[67];
        ethd_chain_head_block(s.chain, &h);
        ethd_hex_encode(h.hash, 32, hx);
        double el = (double)(now_ns() - im.t0) / 1e9;
        ETHD_INFO(s.log, "import done",
                  "blocks=%" PRIu64 " new=%" PRIu64 " head=%" PRIu64 " hash=%s elapsed=%.2fs",
                  im.blocks, im.fresh, h.number, hx, el);
    }
out:
    free(blocks);
    free(rcpts);
    reader_close(&br);
    reader_close(&rr);
    session_close(&s);
    return status;
}

/* ---- export ---- */

static int parse_num(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return ETHD_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return ETHD_EINVAL;
    *out = v;
    return 0;
}

static int cmd_export(const struct ethd_cli *cli, struct ethd_conf *conf,
                      struct ethd_log_sink *sink, volatile sig_atomic_t *stop)
{
    uint64_t first = 1, last = UINT64_MAX;
    if ((cli->n_args > 1 && parse_num(cli->args[1], &first)) ||
        (cli->n_args > 2 && parse_num(cli->args[2], &last))) {
        fprintf(stderr, "ethd: export FILE [FIRST [LAST]]: FIRST and LAST are block numbers\n");
        return 2;
    }
    struct session s;
    int status = session_open(&s, conf, sink, NULL);
    if (status) {
        session_close(&s);
        return status;
    }
    struct ethd_chain_head h;
    ethd_chain_head_block(s.chain, &h);
    if (last == UINT64_MAX)
        last = h.number;
    if (first > last || last > h.number) {
        fprintf(stderr, "ethd: cannot export blocks %" PRIu64 "..%" PRIu64
                        ": the chain has blocks 0..%" PRIu64 "\n",
                first, last, h.number);
        session_close(&s);
        return 2;
    }
    FILE *f = fopen(cli->args[0], "wb");
    if (!f) {
        fprintf(stderr, "ethd: cannot create %s: %s\n", cli->args[0], strerror(errno));
        session_close(&s);
        return 1;
    }
    struct ethd_buf buf = ETHD_BUF_INIT;
    uint64_t t0 = now_ns(), last_report = t0, bytes = 0;
    int rc = 0;
    for (uint64_t n = first; n <= last; n++) {
        uint8_t hash[32];
        ethd_buf_reset(&buf);
        if ((rc = ethd_chain_hash_by_number(s.chain, n, hash)) ||
            (rc = ethd_chain_raw_block_by_hash(s.chain, hash, &buf))) {
            fprintf(stderr, "ethd: block %" PRIu64 ": %s\n", n, ethd_strerror(rc));
            break;
        }
        if (fwrite(buf.data, 1, buf.len, f) != buf.len) {
            fprintf(stderr, "ethd: cannot write %s: %s\n", cli->args[0], strerror(errno));
            rc = ETHD_EIO;
            break;
        }
        bytes += buf.len;
        uint64_t t = now_ns();
        if (t - last_report >= PROGRESS_NS || n == last) {
            last_report = t;
            double el = (double)(t - t0) / 1e9, cnt = (double)(n - first + 1);
            char etas[32];
            fmt_duration(cnt > 0 ? el * (double)(last - n) / cnt : 0, etas, sizeof(etas));
            ETHD_INFO(s.log, "export progress", "block=%" PRIu64 " rate=%.0f/s eta=%s", n,
                      el > 0 ? cnt / el : 0, etas);
        }
        if (*stop) {
            fprintf(stderr, "ethd: export interrupted at block %" PRIu64 "\n", n);
            rc = ETHD_ECANCELED;
            break;
        }
        if (n == UINT64_MAX)
            break;
    }
    if (fclose(f) != 0 && !rc) {
        fprintf(stderr, "ethd: cannot write %s: %s\n", cli->args[0], strerror(errno));
        rc = ETHD_EIO;
    }
    if (rc) {
        unlink(cli->args[0]); /* never leave a partial file that looks complete */
        status = 1;
    } else {
        ETHD_INFO(s.log, "export done",
                  "file=%s first=%" PRIu64 " last=%" PRIu64 " blocks=%" PRIu64 " bytes=%" PRIu64,
                  cli->args[0], first, last, last - first + 1, bytes);
    }
    ethd_buf_free(&buf);
    session_close(&s);
    return status;
}

int ethd_chain_cli_main(const struct ethd_cli *cli, struct ethd_conf *conf,
                        struct ethd_log_sink *sink, volatile sig_atomic_t *stop)
{
    volatile sig_atomic_t never = 0;
    if (!stop)
        stop = &never;
    switch (cli->cmd) {
    case ETHD_CMD_INIT:
        return cmd_init(cli, conf, sink);
    case ETHD_CMD_IMPORT:
        return cmd_import(cli, conf, sink, stop);
    case ETHD_CMD_EXPORT:
        return cmd_export(cli, conf, sink, stop);
    default:
        return 2;
    }
}
