/* Unit tests for core/db/store.c (RocksDB store). Every test works in its own
 * mkdtemp directory under the run's base directory in /tmp and removes it;
 * main() removes the base directory too, so a failed test leaves nothing. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include <ethd/error.h>
#include <ethd/store.h>

#include "db/store.h"
#include "log.h"

/* Set once in main() before any test runs. */
static char base_dir[64];

/* ---- helpers ---- */

static char *tmp_dir(void)
{
    char *d = malloc(128);

    ck_assert_ptr_nonnull(d);
    snprintf(d, 128, "%s/t-XXXXXX", base_dir);
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void done_dir(char *d)
{
    rm_rf(d);
    free(d);
}

static struct ethd_store *open_ok(const char *dir)
{
    struct ethd_store *st = NULL;
    char err[512];
    int rc = ethd_store_open(dir, NULL, &st, err, sizeof(err));

    ck_assert_msg(rc == 0, "open %s: %d %s", dir, rc, err);
    ck_assert_ptr_nonnull(st);
    return st;
}

static struct ethd_store_cf *cf_ok(struct ethd_store *st, const char *name)
{
    struct ethd_store_cf *cf = NULL;

    ck_assert_int_eq(ethd_store_cf(st, name, &cf), 0);
    ck_assert_ptr_nonnull(cf);
    return cf;
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t rd_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void put_s(struct ethd_store *st, struct ethd_store_cf *cf, const char *k, const char *v)
{
    ck_assert_int_eq(ethd_store_put(st, cf, k, strlen(k), v, strlen(v)), 0);
}

/* Assert key k holds exactly v. */
static void expect(struct ethd_store *st, struct ethd_store_cf *cf, const char *k, const char *v)
{
    uint8_t *val = NULL;
    size_t vlen = 0;
    int rc = ethd_store_get(st, cf, k, strlen(k), &val, &vlen);

    ck_assert_msg(rc == 0, "get %s: %d", k, rc);
    ck_assert_uint_eq(vlen, strlen(v));
    ck_assert(memcmp(val, v, vlen) == 0);
    free(val);
}

static void expect_missing(struct ethd_store *st, struct ethd_store_cf *cf, const void *k,
                           size_t klen)
{
    uint8_t *val = (uint8_t *)1;
    size_t vlen = 99;

    ck_assert_int_eq(ethd_store_get(st, cf, k, klen, &val, &vlen), ETHD_ENOTFOUND);
    ck_assert_ptr_null(val);
    ck_assert_uint_eq(vlen, 0);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Assert the file still holds exactly `data`. */
static void same_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[256];
    uint8_t buf[4096];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s was removed", path);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(buf, data, len) == 0);
}

static void fill_garbage(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* ---- basic operations ---- */

START_TEST(test_put_get_delete)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *def = cf_ok(st, "default");
    struct ethd_store_cf *a = cf_ok(st, "a");
    struct ethd_store_cf *b = cf_ok(st, "b-2_x");

    ck_assert_ptr_ne(a, b);
    ck_assert_ptr_ne(a, def);
    /* The same key in three column families holds three values. */
    put_s(st, def, "k", "in-default");
    put_s(st, a, "k", "in-a");
    put_s(st, b, "k", "in-b");
    expect(st, def, "k", "in-default");
    expect(st, a, "k", "in-a");
    expect(st, b, "k", "in-b");

    put_s(st, a, "k", "overwritten");
    expect(st, a, "k", "overwritten");
    expect(st, b, "k", "in-b");

    ck_assert_int_eq(ethd_store_delete(st, a, "k", 1), 0);
    expect_missing(st, a, "k", 1);
    expect(st, b, "k", "in-b");
    expect(st, def, "k", "in-default");
    /* Deleting an absent key is not an error (RocksDB writes a tombstone). */
    ck_assert_int_eq(ethd_store_delete(st, a, "nope", 4), 0);

    /* Binary keys and values with NUL bytes round-trip. */
    const uint8_t bk[5] = {0, 1, 0, 0xff, 0};
    const uint8_t bv[4] = {0, 0, 7, 0};
    uint8_t *val;
    size_t vlen;
    ck_assert_int_eq(ethd_store_put(st, b, bk, sizeof(bk), bv, sizeof(bv)), 0);
    ck_assert_int_eq(ethd_store_get(st, b, bk, sizeof(bk), &val, &vlen), 0);
    ck_assert_uint_eq(vlen, sizeof(bv));
    ck_assert(memcmp(val, bv, sizeof(bv)) == 0);
    free(val);
    expect_missing(st, b, bk, 4); /* a prefix is another key */

    ethd_store_close(st);
    done_dir(d);
}
END_TEST

/* The small profile (light nodes): more data than its memtables hold goes
 * through flushes and comes back whole, also after a reopen with the
 * default profile (the profile is memory only, not a format). */
START_TEST(test_small_profile)
{
    char *d = tmp_dir();
    struct ethd_store *st = NULL;
    char err[512];
    ck_assert_int_eq(ethd_store_open_profile(d, NULL, ETHD_STORE_SMALL, &st, err, sizeof(err)), 0);
    struct ethd_store_cf *a = cf_ok(st, "a");
    static uint8_t v[4096];
    for (uint32_t i = 0; i < 3000; i++) { /* 12 MB: several 1 MiB memtables */
        memset(v, (int)(i & 0xff), sizeof(v));
        ck_assert_int_eq(ethd_store_put(st, a, &i, sizeof(i), v, sizeof(v)), 0);
    }
    ethd_store_close(st);
    st = open_ok(d);
    a = cf_ok(st, "a");
    for (uint32_t i = 0; i < 3000; i += 7) {
        uint8_t *val;
        size_t n;
        ck_assert_int_eq(ethd_store_get(st, a, &i, sizeof(i), &val, &n), 0);
        ck_assert_uint_eq(n, sizeof(v));
        ck_assert_uint_eq(val[0], i & 0xff);
        ck_assert_uint_eq(val[n - 1], i & 0xff);
        free(val);
    }
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

START_TEST(test_missing_key)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *a = cf_ok(st, "a");
    struct ethd_store_cf *fresh = cf_ok(st, "fresh");

    expect_missing(st, a, "absent", 6);
    expect_missing(st, fresh, "absent", 6);
    put_s(st, a, "present", "1");
    expect_missing(st, fresh, "present", 7); /* other CF */
    expect_missing(st, a, "presen", 6);
    expect_missing(st, a, "present2", 8);
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

START_TEST(test_empty_values)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *a = cf_ok(st, "a");
    uint8_t *val = NULL;
    size_t vlen = 99;

    ck_assert_int_eq(ethd_store_put(st, a, "e1", 2, NULL, 0), 0);
    ck_assert_int_eq(ethd_store_put(st, a, "e2", 2, "x", 0), 0);
    ck_assert_int_eq(ethd_store_get(st, a, "e1", 2, &val, &vlen), 0);
    ck_assert_ptr_nonnull(val);
    ck_assert_uint_eq(vlen, 0);
    free(val);
    val = NULL;
    vlen = 99;
    ck_assert_int_eq(ethd_store_get(st, a, "e2", 2, &val, &vlen), 0);
    ck_assert_ptr_nonnull(val);
    ck_assert_uint_eq(vlen, 0);
    free(val);

    /* The empty key is a key too. */
    ck_assert_int_eq(ethd_store_put(st, a, NULL, 0, "v", 1), 0);
    expect(st, a, "", "v");

    /* Still found (and still empty) after a flush to table files. */
    ethd_store_close(st);
    st = open_ok(d);
    a = cf_ok(st, "a");
    val = NULL;
    ck_assert_int_eq(ethd_store_get(st, a, "e1", 2, &val, &vlen), 0);
    ck_assert_ptr_nonnull(val);
    ck_assert_uint_eq(vlen, 0);
    free(val);
    expect_missing(st, a, "e3", 2);
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

/* ---- column families ---- */

START_TEST(test_cf_persist)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *h = cf_ok(st, "headers");
    struct ethd_store_cf *b = cf_ok(st, "bodies");
    char *rerr = NULL;
    size_t n = 0;
    char **names;
    rocksdb_options_t *o;
    int seen = 0;

    put_s(st, h, "h1", "header one");
    put_s(st, b, "b1", "body one");
    put_s(st, cf_ok(st, "default"), "d", "dv");
    ethd_store_close(st);

    /* The column family list is on disk, read by RocksDB itself. */
    o = rocksdb_options_create();
    names = rocksdb_list_column_families(o, d, &n, &rerr);
    ck_assert_msg(rerr == NULL, "%s", rerr);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "default") == 0)
            seen |= 1;
        else if (strcmp(names[i], "headers") == 0)
            seen |= 2;
        else if (strcmp(names[i], "bodies") == 0)
            seen |= 4;
    }
    ck_assert_int_eq(seen, 7);
    rocksdb_list_column_families_destroy(names, n);
    rocksdb_options_destroy(o);

    /* Reopen: data is there, and the families were opened (not re-created,
     * which RocksDB would refuse with "Column family already exists"). */
    st = open_ok(d);
    h = cf_ok(st, "headers");
    b = cf_ok(st, "bodies");
    expect(st, h, "h1", "header one");
    expect(st, b, "b1", "body one");
    expect(st, cf_ok(st, "default"), "d", "dv");
    expect_missing(st, h, "b1", 2);
    /* A new family after reopen works and persists as well. */
    put_s(st, cf_ok(st, "receipts"), "r1", "receipt");
    ethd_store_close(st);

    st = open_ok(d);
    expect(st, cf_ok(st, "receipts"), "r1", "receipt");
    expect(st, cf_ok(st, "headers"), "h1", "header one");
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

/* In the newest OPTIONS-N file RocksDB wrote in dir, does section `sect`
 * contain line `  line`? */
static bool options_has(const char *dir, const char *sect, const char *line)
{
    char path[512], buf[1024];
    unsigned long best = 0, n;
    struct dirent *de;
    DIR *d = opendir(dir);
    FILE *f;
    bool in = false, found = false;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL)
        if (sscanf(de->d_name, "OPTIONS-%lu", &n) == 1 && n > best)
            best = n;
    closedir(d);
    ck_assert_uint_gt(best, 0);
    snprintf(path, sizeof(path), "%s/OPTIONS-%06lu", dir, best);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (!found && fgets(buf, sizeof(buf), f) != NULL) {
        buf[strcspn(buf, "\n")] = '\0';
        if (buf[0] == '[')
            in = strcmp(buf, sect) == 0;
        else if (in && strncmp(buf, "  ", 2) == 0 && strcmp(buf + 2, line) == 0)
            found = true;
    }
    fclose(f);
    return found;
}

/* The options RocksDB recorded: every family, opened at open or created
 * later, has the bloom filter and snappy; the DB-wide bounds are set. */
START_TEST(test_options_on_disk)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    static const char *const cfs[] = {"default", "early", "late"};
    char sect[128];

    cf_ok(st, "early");
    ethd_store_close(st);
    st = open_ok(d); /* "early" is now opened from disk */
    cf_ok(st, "late");
    ethd_store_close(st);

    ck_assert(options_has(d, "[DBOptions]", "max_open_files=512"));
    ck_assert(options_has(d, "[DBOptions]", "max_background_jobs=2"));
    ck_assert(options_has(d, "[DBOptions]", "create_missing_column_families=true"));
    for (size_t i = 0; i < sizeof(cfs) / sizeof(cfs[0]); i++) {
        snprintf(sect, sizeof(sect), "[TableOptions/BlockBasedTable \"%s\"]", cfs[i]);
        ck_assert_msg(options_has(d, sect, "filter_policy=bloomfilter"), "no bloom on %s",
                      cfs[i]);
        ck_assert(options_has(d, sect, "whole_key_filtering=true"));
        snprintf(sect, sizeof(sect), "[CFOptions \"%s\"]", cfs[i]);
        ck_assert_msg(options_has(d, sect, "compression=kSnappyCompression"),
                      "no snappy on %s", cfs[i]);
    }
    done_dir(d);
}
END_TEST

START_TEST(test_cf_cache)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *x1 = cf_ok(st, "x");
    struct ethd_store_cf *x2 = cf_ok(st, "x");
    struct ethd_store_cf *def1 = cf_ok(st, "default");

    ck_assert_ptr_eq(x1, x2);
    ck_assert_ptr_eq(def1, cf_ok(st, "default"));
    ethd_store_close(st);
    /* After reopen, families found at open are in the cache too. */
    st = open_ok(d);
    x1 = cf_ok(st, "x");
    ck_assert_ptr_eq(x1, cf_ok(st, "x"));
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

#define NTHREADS 4
#define NNAMES 24

struct cf_race {
    struct ethd_store *st;
    struct ethd_store_cf *got[NNAMES];
    int rc;
};

static void *cf_race_main(void *arg)
{
    struct cf_race *r = arg;
    char name[16];

    for (int i = 0; i < NNAMES; i++) {
        snprintf(name, sizeof(name), "cf%d", i);
        int rc = ethd_store_cf(r->st, name, &r->got[i]);
        if (rc != 0)
            r->rc = rc;
    }
    return NULL;
}

START_TEST(test_cf_threads)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct cf_race r[NTHREADS];
    pthread_t th[NTHREADS];

    memset(r, 0, sizeof(r));
    for (int t = 0; t < NTHREADS; t++) {
        r[t].st = st;
        ck_assert_int_eq(pthread_create(&th[t], NULL, cf_race_main, &r[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    /* Every thread got the same handle for each name, created once. */
    for (int t = 0; t < NTHREADS; t++) {
        ck_assert_int_eq(r[t].rc, 0);
        for (int i = 0; i < NNAMES; i++) {
            ck_assert_ptr_nonnull(r[t].got[i]);
            ck_assert_ptr_eq(r[t].got[i], r[0].got[i]);
        }
    }
    for (int i = 1; i < NNAMES; i++)
        ck_assert_ptr_ne(r[0].got[i], r[0].got[0]);
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

START_TEST(test_cf_names)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *cf = (struct ethd_store_cf *)1;
    char name[80];
    static const char *const bad[] = {"",      "A",     "a b",  "a/b",  "../x", "a.b",
                                      "héllo", "tab\t", "Upper", "semi;", "x\n"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cf = (struct ethd_store_cf *)1;
        ck_assert_msg(ethd_store_cf(st, bad[i], &cf) == ETHD_EINVAL, "accepted \"%s\"", bad[i]);
        ck_assert_ptr_null(cf);
    }
    ck_assert_int_eq(ethd_store_cf(st, NULL, &cf), ETHD_EINVAL);
    ck_assert_int_eq(ethd_store_cf(st, "ok", NULL), ETHD_EINVAL);
    ck_assert_int_eq(ethd_store_cf(NULL, "ok", &cf), ETHD_EINVAL);

    memset(name, 'z', 64);
    name[64] = '\0';
    cf_ok(st, name); /* 64 characters: the limit */
    name[64] = 'z';
    name[65] = '\0';
    ck_assert_int_eq(ethd_store_cf(st, name, &cf), ETHD_EINVAL);
    cf_ok(st, "0-9_a-z");
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

/* ---- batches ---- */

START_TEST(test_batch_atomic)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *a = cf_ok(st, "a");
    struct ethd_batch *b = NULL;
    uint8_t k[8], v[8];

    put_s(st, a, "gone", "soon");
    ck_assert_int_eq(ethd_batch_new(st, &b), 0);
    ck_assert_uint_eq(ethd_batch_count(b), 0);
    for (uint64_t i = 0; i < 100; i++) {
        be64(k, i);
        be64(v, i * 3);
        ck_assert_int_eq(ethd_batch_put(b, a, k, 8, v, 8), 0);
    }
    ck_assert_int_eq(ethd_batch_delete(b, a, "gone", 4), 0);
    ck_assert_uint_eq(ethd_batch_count(b), 101);
    /* None visible before the commit. */
    for (uint64_t i = 0; i < 100; i++) {
        be64(k, i);
        expect_missing(st, a, k, 8);
    }
    expect(st, a, "gone", "soon");

    ck_assert_int_eq(ethd_batch_commit(b, false), 0);
    /* All visible after. */
    for (uint64_t i = 0; i < 100; i++) {
        uint8_t *val;
        size_t vlen;
        be64(k, i);
        ck_assert_int_eq(ethd_store_get(st, a, k, 8, &val, &vlen), 0);
        ck_assert_uint_eq(vlen, 8);
        ck_assert_uint_eq(rd_be64(val), i * 3);
        free(val);
    }
    expect_missing(st, a, "gone", 4);

    /* A committed batch is spent. */
    ck_assert_int_eq(ethd_batch_commit(b, false), ETHD_ESTATE);
    ck_assert_int_eq(ethd_batch_put(b, a, "x", 1, "y", 1), ETHD_ESTATE);
    ck_assert_int_eq(ethd_batch_delete(b, a, "x", 1), ETHD_ESTATE);
    expect_missing(st, a, "x", 1);
    ck_assert_uint_eq(ethd_batch_count(b), 101);
    ethd_batch_free(b);

    /* A batch freed without commit writes nothing. */
    ck_assert_int_eq(ethd_batch_new(st, &b), 0);
    ck_assert_int_eq(ethd_batch_put(b, a, "never", 5, "x", 1), 0);
    ethd_batch_free(b);
    expect_missing(st, a, "never", 5);

    /* An empty batch commits; a synced one as well. */
    ck_assert_int_eq(ethd_batch_new(st, &b), 0);
    ck_assert_int_eq(ethd_batch_commit(b, true), 0);
    ethd_batch_free(b);
    ethd_batch_free(NULL);

    ethd_store_close(st);
    done_dir(d);
}
END_TEST

START_TEST(test_batch_cross_cf)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *h = cf_ok(st, "headers");
    struct ethd_store_cf *n = cf_ok(st, "numbers");
    struct ethd_store_cf *m = cf_ok(st, "meta");
    struct ethd_batch *b;

    ck_assert_int_eq(ethd_batch_new(st, &b), 0);
    ck_assert_int_eq(ethd_batch_put(b, h, "hash1", 5, "header", 6), 0);
    ck_assert_int_eq(ethd_batch_put(b, n, "1", 1, "hash1", 5), 0);
    ck_assert_int_eq(ethd_batch_put(b, m, "head", 4, "hash1", 5), 0);
    /* Later operations in a batch win over earlier ones on the same key. */
    ck_assert_int_eq(ethd_batch_put(b, m, "tmp", 3, "x", 1), 0);
    ck_assert_int_eq(ethd_batch_delete(b, m, "tmp", 3), 0);
    ck_assert_uint_eq(ethd_batch_count(b), 5);
    expect_missing(st, h, "hash1", 5);
    expect_missing(st, m, "head", 4);
    ck_assert_int_eq(ethd_batch_commit(b, true), 0);
    ethd_batch_free(b);

    expect(st, h, "hash1", "header");
    expect(st, n, "1", "hash1");
    expect(st, m, "head", "hash1");
    expect_missing(st, m, "tmp", 3);
    expect_missing(st, h, "head", 4);

    ethd_store_close(st);
    st = open_ok(d);
    expect(st, cf_ok(st, "headers"), "hash1", "header");
    expect(st, cf_ok(st, "meta"), "head", "hash1");
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

/* ---- iterators ---- */

static const uint64_t iter_nums[] = {0x10000000000ull, 256, 1, 65536, 255, 0, 300, 0x100};
/* Sorted and deduplicated (0x100 == 256). */
static const uint64_t iter_sorted[] = {0, 1, 255, 256, 300, 65536, 0x10000000000ull};
#define NSORTED (sizeof(iter_sorted) / sizeof(iter_sorted[0]))

static struct ethd_store_cf *fill_numbers(struct ethd_store *st)
{
    struct ethd_store_cf *cf = cf_ok(st, "numbers");
    uint8_t k[8], v[8];

    for (size_t i = 0; i < sizeof(iter_nums) / sizeof(iter_nums[0]); i++) {
        be64(k, iter_nums[i]);
        be64(v, ~iter_nums[i]);
        ck_assert_int_eq(ethd_store_put(st, cf, k, 8, v, 8), 0);
    }
    /* A neighbour family must not leak into the iteration. */
    be64(k, 7);
    ck_assert_int_eq(ethd_store_put(st, cf_ok(st, "other"), k, 8, "o", 1), 0);
    return cf;
}

static uint64_t iter_num(struct ethd_iter *it)
{
    size_t klen = 0, vlen = 0;
    const uint8_t *k = ethd_iter_key(it, &klen);
    const uint8_t *v = ethd_iter_value(it, &vlen);

    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(klen, 8);
    ck_assert_uint_eq(vlen, 8);
    ck_assert_uint_eq(rd_be64(v), ~rd_be64(k));
    return rd_be64(k);
}

START_TEST(test_iter_order)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *cf = fill_numbers(st);
    struct ethd_iter *it = NULL;
    size_t i;

    for (int pass = 0; pass < 2; pass++) {
        /* Pass 0 reads the memtable, pass 1 the table files after reopen. */
        if (pass == 1) {
            ethd_store_close(st);
            st = open_ok(d);
            cf = cf_ok(st, "numbers");
        }
        ck_assert_int_eq(ethd_iter_new(st, cf, &it), 0);
        ethd_iter_seek_first(it);
        for (i = 0; ethd_iter_valid(it); i++, ethd_iter_next(it)) {
            ck_assert_uint_lt(i, NSORTED);
            ck_assert_uint_eq(iter_num(it), iter_sorted[i]);
        }
        ck_assert_uint_eq(i, NSORTED);
        ck_assert_int_eq(ethd_iter_status(it), 0);

        /* Backwards from the last key. */
        ethd_iter_seek_last(it);
        for (i = NSORTED; ethd_iter_valid(it); ethd_iter_prev(it)) {
            ck_assert_uint_gt(i, 0);
            i--;
            ck_assert_uint_eq(iter_num(it), iter_sorted[i]);
        }
        ck_assert_uint_eq(i, 0);
        ethd_iter_free(it);
    }
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

START_TEST(test_iter_seek)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *cf = fill_numbers(st);
    struct ethd_iter *it;
    uint8_t k[8];
    size_t len = 99;

    ck_assert_int_eq(ethd_iter_new(st, cf, &it), 0);
    ck_assert(!ethd_iter_valid(it)); /* unpositioned */

    be64(k, 300); /* exact */
    ethd_iter_seek(it, k, 8);
    ck_assert(ethd_iter_valid(it));
    ck_assert_uint_eq(iter_num(it), 300);

    be64(k, 257); /* between: first key >= 257 */
    ethd_iter_seek(it, k, 8);
    ck_assert_uint_eq(iter_num(it), 300);
    ethd_iter_prev(it);
    ck_assert_uint_eq(iter_num(it), 256);
    ethd_iter_next(it);
    ethd_iter_next(it);
    ck_assert_uint_eq(iter_num(it), 65536);

    ethd_iter_seek(it, "\x00", 1); /* a shorter key sorts first */
    ck_assert_uint_eq(iter_num(it), 0);
    ethd_iter_prev(it);
    ck_assert(!ethd_iter_valid(it));
    /* Moving or reading an invalid iterator is harmless. */
    ethd_iter_prev(it);
    ethd_iter_next(it);
    ck_assert(!ethd_iter_valid(it));
    ck_assert_ptr_null(ethd_iter_key(it, &len));
    ck_assert_uint_eq(len, 0);
    len = 99;
    ck_assert_ptr_null(ethd_iter_value(it, &len));
    ck_assert_uint_eq(len, 0);

    be64(k, 0x10000000001ull); /* past the end */
    ethd_iter_seek(it, k, 8);
    ck_assert(!ethd_iter_valid(it));

    ethd_iter_seek_last(it);
    ck_assert_uint_eq(iter_num(it), 0x10000000000ull);
    ethd_iter_next(it);
    ck_assert(!ethd_iter_valid(it));
    ck_assert_int_eq(ethd_iter_status(it), 0);
    ethd_iter_free(it);
    ethd_iter_free(NULL);

    /* An empty family. */
    ck_assert_int_eq(ethd_iter_new(st, cf_ok(st, "empty"), &it), 0);
    ethd_iter_seek_first(it);
    ck_assert(!ethd_iter_valid(it));
    ethd_iter_seek_last(it);
    ck_assert(!ethd_iter_valid(it));
    ck_assert_int_eq(ethd_iter_status(it), 0);
    ethd_iter_free(it);

    ethd_store_close(st);
    done_dir(d);
}
END_TEST

START_TEST(test_iter_snapshot)
{
    /* An iterator reads the state at its creation (RocksDB's implicit
     * snapshot): later writes do not appear in it. */
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *cf = fill_numbers(st);
    struct ethd_iter *it;
    uint8_t k[8], v[8];
    size_t n = 0;

    ck_assert_int_eq(ethd_iter_new(st, cf, &it), 0);
    be64(k, 2);
    be64(v, ~(uint64_t)2);
    ck_assert_int_eq(ethd_store_put(st, cf, k, 8, v, 8), 0);
    for (ethd_iter_seek_first(it); ethd_iter_valid(it); ethd_iter_next(it)) {
        ck_assert_uint_ne(iter_num(it), 2);
        n++;
    }
    ck_assert_uint_eq(n, NSORTED);
    ethd_iter_free(it);
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

/* ---- opening ---- */

START_TEST(test_open_twice)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store *st2 = (struct ethd_store *)1;
    char err[512];
    int rc;

    put_s(st, cf_ok(st, "a"), "k", "v");
    err[0] = '\0';
    rc = ethd_store_open(d, NULL, &st2, err, sizeof(err));
    ck_assert_int_eq(rc, ETHD_EBUSY);
    ck_assert_ptr_null(st2);
    ck_assert_msg(strstr(err, "LOCK") != NULL, "message: %s", err);
    /* The first handle is unharmed. */
    expect(st, cf_ok(st, "a"), "k", "v");
    ethd_store_close(st);

    /* Free again once closed. */
    st = open_ok(d);
    expect(st, cf_ok(st, "a"), "k", "v");
    ethd_store_close(st);
    ethd_store_close(NULL);
    done_dir(d);
}
END_TEST

/* The node's real case: another process holds the directory. */
START_TEST(test_open_locked_by_process)
{
    char *d = tmp_dir();
    struct ethd_store *st = (struct ethd_store *)1;
    int ready[2], release[2], status;
    char err[512], c;
    pid_t pid;

    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(release), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct ethd_store *cst;
        close(ready[0]);
        close(release[1]);
        if (ethd_store_open(d, NULL, &cst, err, sizeof(err)) != 0)
            _exit(2);
        if (write(ready[1], "r", 1) != 1)
            _exit(3);
        (void)!read(release[0], &c, 1); /* until the parent closes its end */
        ethd_store_close(cst);
        _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    err[0] = '\0';
    ck_assert_int_eq(ethd_store_open(d, NULL, &st, err, sizeof(err)), ETHD_EBUSY);
    ck_assert_ptr_null(st);
    ck_assert_msg(strstr(err, "LOCK") != NULL, "message: %s", err);
    close(release[1]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(ready[0]);
    st = open_ok(d);
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

START_TEST(test_open_creates_dir)
{
    char *d = tmp_dir();
    char sub[256];
    struct stat sb;
    struct ethd_store *st;

    snprintf(sub, sizeof(sub), "%s/x/y/db", d);
    st = open_ok(sub);
    ck_assert_int_eq(stat(sub, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    ck_assert_uint_eq(sb.st_mode & 0777, 0700);
    snprintf(sub, sizeof(sub), "%s/x", d);
    ck_assert_int_eq(stat(sub, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0700);
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

START_TEST(test_open_bad_args)
{
    char *d = tmp_dir();
    char path[256];
    char err[256];
    struct ethd_store *st = NULL, *other;
    struct ethd_store_cf *cf, *ocf;
    struct ethd_batch *b;
    struct ethd_iter *it;
    uint8_t *val;
    size_t vlen;

    ck_assert_int_eq(ethd_store_open(NULL, NULL, &st, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_int_eq(ethd_store_open(d, NULL, NULL, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_int_eq(ethd_store_open("", NULL, &st, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_ptr_null(st);

    /* A path that is a regular file. */
    write_file(d, "plain", "x", 1);
    snprintf(path, sizeof(path), "%s/plain", d);
    err[0] = '\0';
    ck_assert_int_ne(ethd_store_open(path, NULL, &st, err, sizeof(err)), 0);
    ck_assert_ptr_null(st);
    ck_assert_msg(strstr(err, "plain") != NULL, "message: %s", err);
    /* A path under a regular file. */
    snprintf(path, sizeof(path), "%s/plain/db", d);
    ck_assert_int_eq(ethd_store_open(path, NULL, &st, err, sizeof(err)), ETHD_EIO);
    ck_assert(err[0] != '\0');
    /* No message buffer is fine. */
    ck_assert_int_eq(ethd_store_open(path, NULL, &st, NULL, 0), ETHD_EIO);

    /* Handles of one store are refused by another. */
    snprintf(path, sizeof(path), "%s/one", d);
    st = open_ok(path);
    snprintf(path, sizeof(path), "%s/two", d);
    other = open_ok(path);
    cf = cf_ok(st, "a");
    ocf = cf_ok(other, "a");
    ck_assert_int_eq(ethd_store_put(st, ocf, "k", 1, "v", 1), ETHD_EINVAL);
    ck_assert_int_eq(ethd_store_get(st, ocf, "k", 1, &val, &vlen), ETHD_EINVAL);
    ck_assert_int_eq(ethd_store_delete(st, ocf, "k", 1), ETHD_EINVAL);
    ck_assert_int_eq(ethd_iter_new(st, ocf, &it), ETHD_EINVAL);
    ck_assert_int_eq(ethd_batch_new(st, &b), 0);
    ck_assert_int_eq(ethd_batch_put(b, ocf, "k", 1, "v", 1), ETHD_EINVAL);
    ck_assert_int_eq(ethd_batch_put(b, NULL, "k", 1, "v", 1), ETHD_EINVAL);
    ck_assert_uint_eq(ethd_batch_count(b), 0);
    ethd_batch_free(b);
    /* NULL pointers with a nonzero length. */
    ck_assert_int_eq(ethd_store_put(st, cf, NULL, 1, "v", 1), ETHD_EINVAL);
    ck_assert_int_eq(ethd_store_put(st, cf, "k", 1, NULL, 1), ETHD_EINVAL);
    ck_assert_int_eq(ethd_store_get(st, cf, "k", 1, NULL, &vlen), ETHD_EINVAL);
    ck_assert_int_eq(ethd_batch_commit(NULL, false), ETHD_EINVAL);
    ck_assert_uint_eq(ethd_batch_count(NULL), 0);
    ck_assert_int_eq(ethd_iter_status(NULL), ETHD_EINVAL);
    ck_assert(!ethd_iter_valid(NULL));
    ethd_store_close(other);
    ethd_store_close(st);
    done_dir(d);
}
END_TEST

/* A corrupt CURRENT (no newline, random bytes) next to RocksDB-like files. */
START_TEST(test_open_garbage_current)
{
    char *d = tmp_dir();
    uint8_t junk[1000];
    char err[512];
    struct ethd_store *st = (struct ethd_store *)1;
    int rc;

    fill_garbage(junk, sizeof(junk), 42);
    write_file(d, "CURRENT", junk, 37);
    write_file(d, "MANIFEST-000001", junk + 100, 500);
    write_file(d, "000003.log", junk + 200, 300);
    write_file(d, "000004.sst", junk + 300, 700);
    err[0] = '\0';
    rc = ethd_store_open(d, NULL, &st, err, sizeof(err));
    ck_assert_int_eq(rc, ETHD_EIO);
    ck_assert_ptr_null(st);
    ck_assert(err[0] != '\0');
    /* The user's files are untouched. */
    same_file(d, "CURRENT", junk, 37);
    same_file(d, "MANIFEST-000001", junk + 100, 500);
    same_file(d, "000003.log", junk + 200, 300);
    same_file(d, "000004.sst", junk + 300, 700);
    /* A second attempt fails the same way (no half-created state). */
    ck_assert_int_eq(ethd_store_open(d, NULL, &st, err, sizeof(err)), ETHD_EIO);
    same_file(d, "000004.sst", junk + 300, 700);
    done_dir(d);
}
END_TEST

/* RocksDB's error text reaches the node's log, too. */
START_TEST(test_open_error_logged)
{
    char *d = tmp_dir();
    char logpath[256], dbdir[256], err[256], text[4096];
    struct ethd_log_sink *sink;
    struct ethd_logger *lg;
    struct ethd_store *st;
    FILE *f;
    size_t n;

    snprintf(logpath, sizeof(logpath), "%s/node.log", d);
    snprintf(dbdir, sizeof(dbdir), "%s/db", d);
    ck_assert_int_eq(ethd_log_sink_open(logpath, ETHD_LOG_DEBUG, &sink, err, sizeof(err)), 0);
    ck_assert_int_eq(ethd_logger_new(sink, "store", &lg), 0);

    st = NULL;
    ck_assert_int_eq(ethd_store_open(dbdir, lg, &st, err, sizeof(err)), 0);
    ethd_store_close(st);
    write_file(dbdir, "CURRENT", "garbage", 7);
    ck_assert_int_eq(ethd_store_open(dbdir, lg, &st, err, sizeof(err)), ETHD_EIO);
    ethd_logger_free(lg);
    ethd_log_sink_close(sink);

    f = fopen(logpath, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    ck_assert_msg(strstr(text, "store opened") != NULL, "log: %s", text);
    ck_assert_msg(strstr(text, "store open failed") != NULL, "log: %s", text);
    ck_assert_msg(strstr(text, err) != NULL, "log lacks \"%s\": %s", err, text);
    done_dir(d);
}
END_TEST

/* CURRENT is well-formed but names a MANIFEST full of garbage, or a missing one. */
START_TEST(test_open_garbage_manifest)
{
    char *d = tmp_dir();
    uint8_t junk[800];
    char err[512];
    struct ethd_store *st = (struct ethd_store *)1;

    fill_garbage(junk, sizeof(junk), 7);
    write_file(d, "CURRENT", "MANIFEST-000005\n", 16);
    write_file(d, "MANIFEST-000005", junk, sizeof(junk));
    write_file(d, "000006.log", junk, 100);
    err[0] = '\0';
    ck_assert_int_eq(ethd_store_open(d, NULL, &st, err, sizeof(err)), ETHD_EIO);
    ck_assert_ptr_null(st);
    ck_assert(err[0] != '\0');
    same_file(d, "CURRENT", "MANIFEST-000005\n", 16);
    same_file(d, "MANIFEST-000005", junk, sizeof(junk));
    same_file(d, "000006.log", junk, 100);

    /* A CURRENT that points nowhere (or outside the directory). */
    write_file(d, "CURRENT", "MANIFEST-000099\n", 16);
    err[0] = '\0';
    ck_assert_int_eq(ethd_store_open(d, NULL, &st, err, sizeof(err)), ETHD_EIO);
    ck_assert(err[0] != '\0');
    write_file(d, "CURRENT", "../../etc/passwd\n", 17);
    ck_assert_int_eq(ethd_store_open(d, NULL, &st, err, sizeof(err)), ETHD_EIO);
    write_file(d, "CURRENT", "", 0);
    ck_assert_int_eq(ethd_store_open(d, NULL, &st, err, sizeof(err)), ETHD_EIO);
    same_file(d, "MANIFEST-000005", junk, sizeof(junk));
    done_dir(d);
}
END_TEST

/* Table files without CURRENT: refuse instead of creating a new DB over them. */
START_TEST(test_open_orphan_tables)
{
    char *d = tmp_dir();
    uint8_t junk[300];
    char err[512];
    struct ethd_store *st = (struct ethd_store *)1;
    struct stat sb;
    char path[256];

    fill_garbage(junk, sizeof(junk), 9);
    write_file(d, "000007.sst", junk, sizeof(junk));
    err[0] = '\0';
    ck_assert_int_eq(ethd_store_open(d, NULL, &st, err, sizeof(err)), ETHD_EIO);
    ck_assert_ptr_null(st);
    ck_assert_msg(strstr(err, "CURRENT") != NULL, "message: %s", err);
    same_file(d, "000007.sst", junk, sizeof(junk));
    snprintf(path, sizeof(path), "%s/CURRENT", d);
    ck_assert_int_eq(stat(path, &sb), -1); /* nothing was created */

    /* Unrelated files do not stop a new database. */
    char *d2 = tmp_dir();
    write_file(d2, "notes.txt", "hello", 5);
    st = open_ok(d2);
    ethd_store_close(st);
    same_file(d2, "notes.txt", "hello", 5);
    done_dir(d2);
    done_dir(d);
}
END_TEST

/* A real database whose table file got damaged: open and reads fail cleanly. */
START_TEST(test_corrupt_table)
{
    char *d = tmp_dir();
    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *cf = cf_ok(st, "a");
    char path[512];
    uint8_t k[8], v[100];
    struct dirent *de;
    DIR *dir;
    int damaged = 0, rc;
    char err[512];

    memset(v, 0x5a, sizeof(v));
    for (uint64_t i = 0; i < 2000; i++) {
        be64(k, i);
        ck_assert_int_eq(ethd_store_put(st, cf, k, 8, v, sizeof(v)), 0);
    }
    ethd_store_close(st); /* flushes to a table file */
    dir = opendir(d);
    ck_assert_ptr_nonnull(dir);
    while ((de = readdir(dir)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".sst") == 0) {
            snprintf(path, sizeof(path), "%s/%s", d, de->d_name);
            int fd = open(path, O_WRONLY);
            ck_assert_int_ge(fd, 0);
            uint8_t junk[4096];
            fill_garbage(junk, sizeof(junk), 3);
            ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
            close(fd);
            damaged++;
        }
    }
    closedir(dir);
    ck_assert_int_gt(damaged, 0);

    /* RocksDB may notice at open (it reads table footers) or at read; either
     * way we get an error code, not a crash. */
    st = NULL;
    rc = ethd_store_open(d, NULL, &st, err, sizeof(err));
    if (rc == 0) {
        struct ethd_iter *it;
        uint8_t *val = NULL;
        size_t vlen, n = 0;
        cf = cf_ok(st, "a");
        be64(k, 5);
        rc = ethd_store_get(st, cf, k, 8, &val, &vlen);
        ck_assert_msg(rc == ETHD_EIO || rc == ETHD_ENOTFOUND, "get: %d", rc);
        free(val);
        ck_assert_int_eq(ethd_iter_new(st, cf, &it), 0);
        for (ethd_iter_seek_first(it); ethd_iter_valid(it); ethd_iter_next(it))
            n++;
        ck_assert(n < 2000 || ethd_iter_status(it) != 0);
        ethd_iter_free(it);
        ethd_store_close(st);
    } else {
        ck_assert_int_eq(rc, ETHD_EIO);
        ck_assert(err[0] != '\0');
    }
    done_dir(d);
}
END_TEST

/* ---- crash consistency ---- */

#define CRASH_CFS 3

/* Child: commit batch i (key i -> i in three families, head -> i) forever,
 * publishing the last committed i through shared memory. */
static void crash_child(const char *dir, volatile uint64_t *committed, int ready_fd)
{
    static const char *const names[CRASH_CFS] = {"c0", "c1", "c2"};
    struct ethd_store *st;
    struct ethd_store_cf *cf[CRASH_CFS], *meta;
    char err[256];

    /* Never outlive a failed test: die with the parent, stop after 60 s. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(7);
    time_t start = time(NULL);
    if (ethd_store_open(dir, NULL, &st, err, sizeof(err)) != 0)
        _exit(2);
    for (int c = 0; c < CRASH_CFS; c++)
        if (ethd_store_cf(st, names[c], &cf[c]) != 0)
            _exit(3);
    if (ethd_store_cf(st, "meta", &meta) != 0)
        _exit(3);
    for (uint64_t i = 1; i < UINT64_MAX; i++) {
        struct ethd_batch *b;
        uint8_t k[8];
        be64(k, i);
        if (ethd_batch_new(st, &b) != 0)
            _exit(4);
        for (int c = 0; c < CRASH_CFS; c++)
            if (ethd_batch_put(b, cf[c], k, 8, k, 8) != 0)
                _exit(4);
        if (ethd_batch_put(b, meta, "head", 4, k, 8) != 0)
            _exit(4);
        if (ethd_batch_commit(b, false) != 0)
            _exit(5);
        ethd_batch_free(b);
        __atomic_store_n(committed, i, __ATOMIC_SEQ_CST);
        if (i == 1 && write(ready_fd, "r", 1) != 1)
            _exit(6);
        if (i % 4096 == 0 && time(NULL) - start > 60)
            _exit(8);
    }
    _exit(0);
}

START_TEST(test_crash_consistency)
{
    /* Kill delays grow with the loop index; each gets random jitter. */
    static const unsigned base_ms[] = {5, 60, 400};
    char *d = tmp_dir();
    volatile uint64_t *committed;
    int fds[2], status;
    char c;
    pid_t pid;
    unsigned delay_us;
    uint64_t last, head;
    struct timespec ts;

    committed = mmap(NULL, sizeof(*committed), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert(committed != MAP_FAILED);
    *committed = 0;
    ck_assert_int_eq(pipe(fds), 0);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    srand((unsigned)ts.tv_nsec ^ (unsigned)getpid());
    delay_us = base_ms[_i] * 1000u + (unsigned)rand() % (base_ms[_i] * 1000u);

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(d, committed, fds[1]);
    }
    close(fds[1]);
    /* Wait until the first batch is in, then kill at a random moment. */
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    usleep(delay_us);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);
    last = __atomic_load_n(committed, __ATOMIC_SEQ_CST);
    ck_assert_uint_ge(last, 1);

    struct ethd_store *st = open_ok(d);
    struct ethd_store_cf *meta = cf_ok(st, "meta");
    uint8_t *val;
    size_t vlen;
    ck_assert_int_eq(ethd_store_get(st, meta, "head", 4, &val, &vlen), 0);
    ck_assert_uint_eq(vlen, 8);
    head = rd_be64(val);
    free(val);
    /* A write that returned survives a process crash (it is in the WAL in the
     * kernel's page cache); at most the one in flight may also be there. */
    ck_assert_msg(head >= last && head <= last + 1, "head %llu, last committed %llu",
                  (unsigned long long)head, (unsigned long long)last);

    /* Each family holds exactly the keys 1..head, nothing beyond. */
    for (int cfi = 0; cfi < CRASH_CFS; cfi++) {
        char name[16];
        struct ethd_iter *it;
        uint64_t want = 1;
        snprintf(name, sizeof(name), "c%d", cfi);
        ck_assert_int_eq(ethd_iter_new(st, cf_ok(st, name), &it), 0);
        for (ethd_iter_seek_first(it); ethd_iter_valid(it); ethd_iter_next(it), want++) {
            size_t kl, vl;
            const uint8_t *k = ethd_iter_key(it, &kl);
            const uint8_t *v = ethd_iter_value(it, &vl);
            ck_assert_uint_eq(kl, 8);
            ck_assert_uint_eq(vl, 8);
            ck_assert_uint_eq(rd_be64(k), want);
            ck_assert_uint_eq(rd_be64(v), want);
        }
        ck_assert_int_eq(ethd_iter_status(it), 0);
        ck_assert_msg(want - 1 == head, "cf %s has %llu keys, head %llu", name,
                      (unsigned long long)(want - 1), (unsigned long long)head);
        ethd_iter_free(it);
    }
    ethd_store_close(st);
    munmap((void *)committed, sizeof(*committed));
    done_dir(d);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc;

    tc = tcase_create("basic");
    tcase_add_test(tc, test_put_get_delete);
    tcase_add_test(tc, test_missing_key);
    tcase_add_test(tc, test_small_profile);
    tcase_add_test(tc, test_empty_values);
    suite_add_tcase(s, tc);

    tc = tcase_create("column_families");
    tcase_add_test(tc, test_cf_persist);
    tcase_add_test(tc, test_options_on_disk);
    tcase_add_test(tc, test_cf_cache);
    tcase_add_test(tc, test_cf_threads);
    tcase_add_test(tc, test_cf_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("batch");
    tcase_add_test(tc, test_batch_atomic);
    tcase_add_test(tc, test_batch_cross_cf);
    suite_add_tcase(s, tc);

    tc = tcase_create("iterator");
    tcase_add_test(tc, test_iter_order);
    tcase_add_test(tc, test_iter_seek);
    tcase_add_test(tc, test_iter_snapshot);
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_add_test(tc, test_open_twice);
    tcase_add_test(tc, test_open_locked_by_process);
    tcase_add_test(tc, test_open_creates_dir);
    tcase_add_test(tc, test_open_bad_args);
    tcase_add_test(tc, test_open_garbage_current);
    tcase_add_test(tc, test_open_error_logged);
    tcase_add_test(tc, test_open_garbage_manifest);
    tcase_add_test(tc, test_open_orphan_tables);
    tcase_add_test(tc, test_corrupt_table);
    suite_add_tcase(s, tc);

    tc = tcase_create("crash");
    tcase_add_loop_test(tc, test_crash_consistency, 0, 3);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    snprintf(base_dir, sizeof(base_dir), "/tmp/ethd-test-store-XXXXXX");
    if (mkdtemp(base_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rm_rf(base_dir);
    return failed == 0 ? 0 : 1;
}
