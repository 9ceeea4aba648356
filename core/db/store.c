/* Key/value store on RocksDB through its C API (<rocksdb/c.h>, RocksDB 7.8).
 *
 * One rocksdb_t per data directory; each kind of data lives in its own column
 * family. Every column family, whether found at open or created later, gets
 * the same options: a block-based table with a 10 bits/key bloom filter (the C
 * API's defaults have none, so a miss would cost a full block read, PERF.md),
 * one shared LRU block cache and snappy compression.
 *
 * Threads: RocksDB handles are thread-safe; the only state of ours that is
 * shared is the column-family cache, guarded by cf_lock. Batches and
 * iterators are single-owner. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <rocksdb/c.h>

#include <ethd/error.h>
#include <ethd/log.h>
#include <ethd/store.h>

#include "db/store.h"

#define CF_NAME_MAX 64
#define BLOCK_CACHE_BYTES ((size_t)32 << 20)
#define BLOOM_BITS_PER_KEY 10.0
/* Each open table file keeps its index and filter in memory; bounding the
 * open files bounds that memory and the descriptors we use. */
#define MAX_OPEN_FILES 512
#define BACKGROUND_JOBS 2
/* RocksDB's own info LOG: keep a few bounded files instead of 1,000. */
#define INFO_LOG_FILES 4
#define INFO_LOG_BYTES ((size_t)16 << 20)

struct ethd_store_cf {
    struct ethd_store *st;
    rocksdb_column_family_handle_t *h;
    struct ethd_store_cf *next;
    char name[CF_NAME_MAX + 1];
};

struct ethd_store {
    rocksdb_t *db;
    rocksdb_options_t *opts; /* DB options, also used for every column family */
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *wopts;
    rocksdb_writeoptions_t *wopts_sync;
    rocksdb_readoptions_t *ropts;
    rocksdb_flushoptions_t *fopts;
    const struct ethd_logger *log;
    pthread_mutex_t cf_lock; /* guards cfs */
    struct ethd_store_cf *cfs;
};

struct ethd_batch {
    struct ethd_store *st;
    rocksdb_writebatch_t *wb;
    size_t count;
    bool committed;
};

struct ethd_iter {
    struct ethd_store *st;
    rocksdb_readoptions_t *ro;
    rocksdb_iterator_t *it;
};

/* ---- helpers ---- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Log and free a RocksDB error string; the caller returns ETHD_EIO. */
static int rocks_fail(const struct ethd_store *st, const char *op, const char *cf, char *msg)
{
    ethd_log(st->log, ETHD_LOG_ERROR, "store error", "op=%s cf=%s err=\"%s\"", op,
             cf != NULL ? cf : "-", msg != NULL ? msg : "?");
    free(msg);
    return ETHD_EIO;
}

static bool valid_cf_name(const char *name)
{
    size_t n = 0;

    if (name == NULL)
        return false;
    for (; name[n] != '\0'; n++) {
        char c = name[n];
        if (n >= CF_NAME_MAX)
            return false;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

/* mkdir -p with mode 0700 for what we create; an existing directory is fine. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);
    struct stat sb;

    if (len == 0 || len >= sizeof(path)) {
        set_err(err, errlen, "invalid database directory \"%s\"", dir);
        return ETHD_EINVAL;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            set_err(err, errlen, "cannot create directory %s: %s", path, strerror(errno));
            return ETHD_EIO;
        }
        path[i] = saved;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        set_err(err, errlen, "%s is not a directory", dir);
        return ETHD_EIO;
    }
    return 0;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n > m && strcmp(s + n - m, suf) == 0;
}

/* Is there a database in `dir`? 1 yes (CURRENT exists), 0 no (safe to create),
 * negative if the directory holds table files or a non-empty write-ahead log
 * but no CURRENT: RocksDB would create a fresh database over them and could
 * later delete them as obsolete, so we refuse and let a human look. */
static int probe_dir(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct stat sb;
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if ((size_t)snprintf(path, sizeof(path), "%s/CURRENT", dir) >= sizeof(path)) {
        set_err(err, errlen, "database directory name too long");
        return ETHD_EINVAL;
    }
    if (lstat(path, &sb) == 0)
        return 1;
    if (errno != ENOENT) {
        set_err(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        return ETHD_EIO;
    }
    d = opendir(dir);
    if (d == NULL) {
        set_err(err, errlen, "cannot read directory %s: %s", dir, strerror(errno));
        return ETHD_EIO;
    }
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        bool data = has_suffix(n, ".sst") || has_suffix(n, ".blob");
        if (!data && has_suffix(n, ".log") && n[0] >= '0' && n[0] <= '9') {
            if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, n) < sizeof(path) &&
                stat(path, &sb) == 0 && sb.st_size > 0)
                data = true;
        }
        if (data) {
            set_err(err, errlen,
                    "%s holds RocksDB data (%s) but no CURRENT file; refusing to create a "
                    "new database over it",
                    dir, n);
            rc = ETHD_EIO;
            break;
        }
    }
    closedir(d);
    return rc;
}

/* The small profile (light nodes): a few MB of memtables and cache in all. */
#define SMALL_BLOCK_CACHE_BYTES ((size_t)2 << 20)
#define SMALL_WRITE_BUFFER_BYTES ((size_t)1 << 20)
#define SMALL_DB_WRITE_BUFFER_BYTES ((size_t)4 << 20)
#define SMALL_MAX_OPEN_FILES 64

static rocksdb_options_t *make_options(rocksdb_cache_t *cache, enum ethd_store_profile profile)
{
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();

    /* Takes ownership of the filter policy. */
    rocksdb_block_based_options_set_filter_policy(
        t, rocksdb_filterpolicy_create_bloom_full(BLOOM_BITS_PER_KEY));
    rocksdb_block_based_options_set_block_cache(t, cache);
    /* The factory copies the table options (shared pointers included). */
    rocksdb_options_set_block_based_table_factory(o, t);
    rocksdb_block_based_options_destroy(t);

    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_options_set_create_missing_column_families(o, 1);
    rocksdb_options_set_compression(o, rocksdb_snappy_compression);
    rocksdb_options_set_max_open_files(o, MAX_OPEN_FILES);
    rocksdb_options_increase_parallelism(o, BACKGROUND_JOBS);
    rocksdb_options_set_max_background_jobs(o, BACKGROUND_JOBS);
    rocksdb_options_set_keep_log_file_num(o, INFO_LOG_FILES);
    rocksdb_options_set_max_log_file_size(o, INFO_LOG_BYTES);
    if (profile == ETHD_STORE_SMALL) {
        /* Memtables are what grows with a sync: small ones, flushed early,
         * and a shared cap over all column families. */
        rocksdb_options_set_write_buffer_size(o, SMALL_WRITE_BUFFER_BYTES);
        rocksdb_options_set_max_write_buffer_number(o, 2);
        rocksdb_options_set_db_write_buffer_size(o, SMALL_DB_WRITE_BUFFER_BYTES);
        rocksdb_options_set_max_open_files(o, SMALL_MAX_OPEN_FILES);
        rocksdb_options_set_max_background_jobs(o, 1);
    }
    return o;
}

static struct ethd_store_cf *cf_wrap(struct ethd_store *st, const char *name,
                                     rocksdb_column_family_handle_t *h)
{
    struct ethd_store_cf *cf = calloc(1, sizeof(*cf));

    if (cf == NULL)
        return NULL;
    cf->st = st;
    cf->h = h;
    snprintf(cf->name, sizeof(cf->name), "%s", name);
    cf->next = st->cfs;
    st->cfs = cf;
    return cf;
}

/* RocksDB reports a held LOCK file as an IOError whose text names it. */
static bool is_lock_error(const char *msg)
{
    return strstr(msg, "LOCK") != NULL &&
           (strstr(msg, "lock file") != NULL || strstr(msg, "lock hold") != NULL ||
            strstr(msg, "Resource temporarily unavailable") != NULL);
}

static void free_store(struct ethd_store *st)
{
    struct ethd_store_cf *cf, *next;

    for (cf = st->cfs; cf != NULL; cf = next) {
        next = cf->next;
        if (cf->h != NULL)
            rocksdb_column_family_handle_destroy(cf->h);
        free(cf);
    }
    if (st->db != NULL)
        rocksdb_close(st->db);
    if (st->opts != NULL)
        rocksdb_options_destroy(st->opts);
    if (st->cache != NULL)
        rocksdb_cache_destroy(st->cache);
    if (st->wopts != NULL)
        rocksdb_writeoptions_destroy(st->wopts);
    if (st->wopts_sync != NULL)
        rocksdb_writeoptions_destroy(st->wopts_sync);
    if (st->ropts != NULL)
        rocksdb_readoptions_destroy(st->ropts);
    if (st->fopts != NULL)
        rocksdb_flushoptions_destroy(st->fopts);
    pthread_mutex_destroy(&st->cf_lock);
    free(st);
}

/* ---- open / close ---- */

int ethd_store_open(const char *dir, const struct ethd_logger *log, struct ethd_store **out,
                    char *err, size_t errlen)
{
    return ethd_store_open_profile(dir, log, ETHD_STORE_DEFAULT, out, err, errlen);
}

int ethd_store_open_profile(const char *dir, const struct ethd_logger *log,
                            enum ethd_store_profile profile, struct ethd_store **out, char *err,
                            size_t errlen)
{
    struct ethd_store *st;
    char *rerr = NULL;
    char **names = NULL;
    size_t ncf = 0;
    const char *fresh[] = {"default"};
    const char *const *cfnames;
    const rocksdb_options_t **cfopts = NULL;
    rocksdb_column_family_handle_t **handles = NULL;
    int rc, exists;

    set_err(err, errlen, "%s", "");
    if (out == NULL || dir == NULL) {
        set_err(err, errlen, "no database directory");
        return ETHD_EINVAL;
    }
    *out = NULL;
    if ((rc = make_dirs(dir, err, errlen)) != 0)
        return rc;
    if ((exists = probe_dir(dir, err, errlen)) < 0)
        return exists;

    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        set_err(err, errlen, "out of memory");
        return ETHD_ENOMEM;
    }
    pthread_mutex_init(&st->cf_lock, NULL);
    st->log = log;
    st->cache = rocksdb_cache_create_lru(profile == ETHD_STORE_SMALL ? SMALL_BLOCK_CACHE_BYTES
                                                                     : BLOCK_CACHE_BYTES);
    st->opts = make_options(st->cache, profile);
    st->wopts = rocksdb_writeoptions_create();
    st->wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st->wopts_sync, 1);
    st->ropts = rocksdb_readoptions_create();
    st->fopts = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(st->fopts, 1);

    if (exists) {
        names = rocksdb_list_column_families(st->opts, dir, &ncf, &rerr);
        if (rerr != NULL) {
            /* RocksDB allocates the (empty) list even on failure. */
            if (names != NULL)
                rocksdb_list_column_families_destroy(names, ncf);
            set_err(err, errlen, "%s", rerr);
            ethd_log(log, ETHD_LOG_ERROR, "store open failed", "dir=%s err=\"%s\"", dir, rerr);
            free(rerr);
            free_store(st);
            return ETHD_EIO;
        }
        cfnames = (const char *const *)names;
    } else {
        ncf = 1;
        cfnames = fresh;
    }
    if (ncf == 0 || ncf > INT_MAX) {
        set_err(err, errlen, "%s: no column families listed", dir);
        rc = ETHD_EIO;
        goto fail;
    }
    cfopts = calloc(ncf, sizeof(*cfopts));
    handles = calloc(ncf, sizeof(*handles));
    if (cfopts == NULL || handles == NULL) {
        set_err(err, errlen, "out of memory");
        rc = ETHD_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < ncf; i++)
        cfopts[i] = st->opts;

    st->db = rocksdb_open_column_families(st->opts, dir, (int)ncf, cfnames, cfopts, handles,
                                          &rerr);
    if (rerr != NULL) {
        set_err(err, errlen, "%s", rerr);
        rc = is_lock_error(rerr) ? ETHD_EBUSY : ETHD_EIO;
        ethd_log(log, ETHD_LOG_ERROR, "store open failed", "dir=%s err=\"%s\"", dir, rerr);
        free(rerr);
        st->db = NULL;
        goto fail;
    }
    for (size_t i = 0; i < ncf; i++) {
        if (cf_wrap(st, cfnames[i], handles[i]) == NULL) {
            /* Handles not yet wrapped are destroyed here; wrapped ones by free_store. */
            for (size_t j = i; j < ncf; j++)
                rocksdb_column_family_handle_destroy(handles[j]);
            set_err(err, errlen, "out of memory");
            rc = ETHD_ENOMEM;
            goto fail;
        }
    }
    ethd_log(log, ETHD_LOG_INFO, "store opened", "dir=%s column_families=%zu created=%s", dir,
             ncf, exists ? "no" : "yes");
    free(cfopts);
    free(handles);
    if (names != NULL)
        rocksdb_list_column_families_destroy(names, ncf);
    *out = st;
    return 0;

fail:
    free(cfopts);
    free(handles);
    if (names != NULL)
        rocksdb_list_column_families_destroy(names, ncf);
    free_store(st);
    return rc;
}

void ethd_store_close(struct ethd_store *st)
{
    char *rerr = NULL;

    if (st == NULL)
        return;
    /* Writes are not synced one by one: make the log durable, then flush the
     * memtables so the next open need not replay it. A failure here loses
     * nothing that the WAL does not still hold, so it is logged only. */
    rocksdb_flush_wal(st->db, 1, &rerr);
    if (rerr != NULL)
        rocks_fail(st, "flush_wal", NULL, rerr);
    for (struct ethd_store_cf *cf = st->cfs; cf != NULL; cf = cf->next) {
        rerr = NULL;
        rocksdb_flush_cf(st->db, st->fopts, cf->h, &rerr);
        if (rerr != NULL)
            rocks_fail(st, "flush", cf->name, rerr);
    }
    ethd_log(st->log, ETHD_LOG_INFO, "store closed", NULL);
    free_store(st);
}

/* ---- column families ---- */

int ethd_store_cf(struct ethd_store *st, const char *name, struct ethd_store_cf **cf)
{
    struct ethd_store_cf *c;
    rocksdb_column_family_handle_t *h;
    char *rerr = NULL;
    int rc = 0;

    if (cf != NULL)
        *cf = NULL;
    if (st == NULL || cf == NULL || !valid_cf_name(name))
        return ETHD_EINVAL;
    pthread_mutex_lock(&st->cf_lock);
    for (c = st->cfs; c != NULL; c = c->next) {
        if (strcmp(c->name, name) == 0)
            goto done;
    }
    /* Created under the lock so two threads asking for the same new name
     * cannot both try to create it. */
    h = rocksdb_create_column_family(st->db, st->opts, name, &rerr);
    if (rerr != NULL) {
        rc = rocks_fail(st, "create_cf", name, rerr);
        goto done;
    }
    c = cf_wrap(st, name, h);
    if (c == NULL) {
        /* The family exists on disk now; it is opened again at the next open. */
        rocksdb_column_family_handle_destroy(h);
        rc = ETHD_ENOMEM;
        goto done;
    }
    ethd_log(st->log, ETHD_LOG_DEBUG, "store column family created", "cf=%s", name);
done:
    pthread_mutex_unlock(&st->cf_lock);
    if (rc == 0)
        *cf = c;
    return rc;
}

/* A column family handle is only meaningful for the store that lent it. */
static bool cf_ok(const struct ethd_store *st, const struct ethd_store_cf *cf)
{
    return st != NULL && cf != NULL && cf->st == st;
}

/* ---- single-key operations ---- */

int ethd_store_get(struct ethd_store *st, struct ethd_store_cf *cf, const void *key, size_t klen,
                   uint8_t **val, size_t *vlen)
{
    rocksdb_pinnableslice_t *ps;
    const char *p;
    size_t n = 0;
    uint8_t *copy;
    char *rerr = NULL;

    if (val != NULL)
        *val = NULL;
    if (vlen != NULL)
        *vlen = 0;
    if (!cf_ok(st, cf) || (key == NULL && klen > 0) || val == NULL || vlen == NULL)
        return ETHD_EINVAL;
    /* The pinned form tells "absent" (NULL) from "empty value" unambiguously,
     * and lets us copy straight from the block cache. */
    ps = rocksdb_get_pinned_cf(st->db, st->ropts, cf->h, key, klen, &rerr);
    if (rerr != NULL)
        return rocks_fail(st, "get", cf->name, rerr);
    if (ps == NULL)
        return ETHD_ENOTFOUND;
    p = rocksdb_pinnableslice_value(ps, &n);
    copy = malloc(n > 0 ? n : 1);
    if (copy == NULL) {
        rocksdb_pinnableslice_destroy(ps);
        return ETHD_ENOMEM;
    }
    if (n > 0)
        memcpy(copy, p, n);
    rocksdb_pinnableslice_destroy(ps);
    *val = copy;
    *vlen = n;
    return 0;
}

int ethd_store_put(struct ethd_store *st, struct ethd_store_cf *cf, const void *key, size_t klen,
                   const void *val, size_t vlen)
{
    char *rerr = NULL;

    if (!cf_ok(st, cf) || (key == NULL && klen > 0) || (val == NULL && vlen > 0))
        return ETHD_EINVAL;
    rocksdb_put_cf(st->db, st->wopts, cf->h, key, klen, val, vlen, &rerr);
    if (rerr != NULL)
        return rocks_fail(st, "put", cf->name, rerr);
    return 0;
}

int ethd_store_delete(struct ethd_store *st, struct ethd_store_cf *cf, const void *key,
                      size_t klen)
{
    char *rerr = NULL;

    if (!cf_ok(st, cf) || (key == NULL && klen > 0))
        return ETHD_EINVAL;
    rocksdb_delete_cf(st->db, st->wopts, cf->h, key, klen, &rerr);
    if (rerr != NULL)
        return rocks_fail(st, "delete", cf->name, rerr);
    return 0;
}

/* ---- batches ---- */

int ethd_batch_new(struct ethd_store *st, struct ethd_batch **b)
{
    struct ethd_batch *nb;

    if (b != NULL)
        *b = NULL;
    if (st == NULL || b == NULL)
        return ETHD_EINVAL;
    nb = calloc(1, sizeof(*nb));
    if (nb == NULL)
        return ETHD_ENOMEM;
    nb->st = st;
    nb->wb = rocksdb_writebatch_create();
    *b = nb;
    return 0;
}

int ethd_batch_put(struct ethd_batch *b, struct ethd_store_cf *cf, const void *key, size_t klen,
                   const void *val, size_t vlen)
{
    if (b == NULL || !cf_ok(b->st, cf) || (key == NULL && klen > 0) ||
        (val == NULL && vlen > 0))
        return ETHD_EINVAL;
    if (b->committed)
        return ETHD_ESTATE;
    rocksdb_writebatch_put_cf(b->wb, cf->h, key, klen, val, vlen);
    b->count++;
    return 0;
}

int ethd_batch_delete(struct ethd_batch *b, struct ethd_store_cf *cf, const void *key,
                      size_t klen)
{
    if (b == NULL || !cf_ok(b->st, cf) || (key == NULL && klen > 0))
        return ETHD_EINVAL;
    if (b->committed)
        return ETHD_ESTATE;
    rocksdb_writebatch_delete_cf(b->wb, cf->h, key, klen);
    b->count++;
    return 0;
}

size_t ethd_batch_count(const struct ethd_batch *b)
{
    return b != NULL ? b->count : 0;
}

int ethd_batch_commit(struct ethd_batch *b, bool sync)
{
    char *rerr = NULL;

    if (b == NULL)
        return ETHD_EINVAL;
    if (b->committed)
        return ETHD_ESTATE;
    rocksdb_write(b->st->db, sync ? b->st->wopts_sync : b->st->wopts, b->wb, &rerr);
    if (rerr != NULL)
        return rocks_fail(b->st, "commit", NULL, rerr);
    b->committed = true;
    return 0;
}

void ethd_batch_free(struct ethd_batch *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

/* ---- iterators ---- */

int ethd_iter_new(struct ethd_store *st, struct ethd_store_cf *cf, struct ethd_iter **it)
{
    struct ethd_iter *ni;

    if (it != NULL)
        *it = NULL;
    if (!cf_ok(st, cf) || it == NULL)
        return ETHD_EINVAL;
    ni = calloc(1, sizeof(*ni));
    if (ni == NULL)
        return ETHD_ENOMEM;
    ni->st = st;
    /* Its own read options: the iterator keeps a pointer to them. */
    ni->ro = rocksdb_readoptions_create();
    ni->it = rocksdb_create_iterator_cf(st->db, ni->ro, cf->h);
    *it = ni;
    return 0;
}

void ethd_iter_seek(struct ethd_iter *it, const void *key, size_t klen)
{
    if (it != NULL && (key != NULL || klen == 0))
        rocksdb_iter_seek(it->it, key, klen);
}

void ethd_iter_seek_first(struct ethd_iter *it)
{
    if (it != NULL)
        rocksdb_iter_seek_to_first(it->it);
}

void ethd_iter_seek_last(struct ethd_iter *it)
{
    if (it != NULL)
        rocksdb_iter_seek_to_last(it->it);
}

bool ethd_iter_valid(const struct ethd_iter *it)
{
    return it != NULL && rocksdb_iter_valid(it->it) != 0;
}

/* RocksDB requires a valid position for next/prev/key/value. */
void ethd_iter_next(struct ethd_iter *it)
{
    if (ethd_iter_valid(it))
        rocksdb_iter_next(it->it);
}

void ethd_iter_prev(struct ethd_iter *it)
{
    if (ethd_iter_valid(it))
        rocksdb_iter_prev(it->it);
}

const uint8_t *ethd_iter_key(const struct ethd_iter *it, size_t *klen)
{
    size_t n = 0;
    const char *k = NULL;

    if (ethd_iter_valid(it))
        k = rocksdb_iter_key(it->it, &n);
    if (klen != NULL)
        *klen = n;
    return (const uint8_t *)k;
}

const uint8_t *ethd_iter_value(const struct ethd_iter *it, size_t *vlen)
{
    size_t n = 0;
    const char *v = NULL;

    if (ethd_iter_valid(it))
        v = rocksdb_iter_value(it->it, &n);
    if (vlen != NULL)
        *vlen = n;
    return (const uint8_t *)v;
}

int ethd_iter_status(const struct ethd_iter *it)
{
    char *rerr = NULL;

    if (it == NULL)
        return ETHD_EINVAL;
    rocksdb_iter_get_error(it->it, &rerr);
    if (rerr != NULL)
        return rocks_fail(it->st, "iterate", NULL, rerr);
    return 0;
}

void ethd_iter_free(struct ethd_iter *it)
{
    if (it == NULL)
        return;
    rocksdb_iter_destroy(it->it);
    rocksdb_readoptions_destroy(it->ro);
    free(it);
}
