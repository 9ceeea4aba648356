/* Key/value store (RocksDB): one database per data directory, one column
 * family per kind of data, atomic write batches.
 *
 * The store belongs to the node; services get it through ethd_ctx_store() and
 * must not use it after their destroy hook. All calls are safe from any thread
 * (RocksDB is), but iterators and batches are single-owner objects. */
#ifndef ETHD_STORE_H
#define ETHD_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_store;
struct ethd_store_cf;
struct ethd_batch;
struct ethd_iter;

/* Open or create the column family `name` ([a-z0-9_-], at most 64 chars).
 * *cf is borrowed until the store closes. Every column family has a bloom
 * filter, so a point look-up of a missing key is cheap. */
int ethd_store_cf(struct ethd_store *st, const char *name, struct ethd_store_cf **cf);

/* Point look-up. ETHD_ENOTFOUND if absent. *val: caller frees with free(). */
int ethd_store_get(struct ethd_store *st, struct ethd_store_cf *cf, const void *key, size_t klen,
                   uint8_t **val, size_t *vlen);
/* Single-key writes (each atomic on its own). */
int ethd_store_put(struct ethd_store *st, struct ethd_store_cf *cf, const void *key, size_t klen,
                   const void *val, size_t vlen);
int ethd_store_delete(struct ethd_store *st, struct ethd_store_cf *cf, const void *key,
                      size_t klen);

/* A batch of writes applied all-or-nothing by ethd_batch_commit.
 * *b: caller frees with ethd_batch_free (also after a commit). */
int ethd_batch_new(struct ethd_store *st, struct ethd_batch **b);
int ethd_batch_put(struct ethd_batch *b, struct ethd_store_cf *cf, const void *key, size_t klen,
                   const void *val, size_t vlen);
int ethd_batch_delete(struct ethd_batch *b, struct ethd_store_cf *cf, const void *key,
                      size_t klen);
size_t ethd_batch_count(const struct ethd_batch *b);
/* `sync` fsyncs the write-ahead log before returning. */
int ethd_batch_commit(struct ethd_batch *b, bool sync);
void ethd_batch_free(struct ethd_batch *b);

/* Ordered iteration over a column family. *it: caller frees with ethd_iter_free. */
int ethd_iter_new(struct ethd_store *st, struct ethd_store_cf *cf, struct ethd_iter **it);
void ethd_iter_seek(struct ethd_iter *it, const void *key, size_t klen); /* first key >= key */
void ethd_iter_seek_first(struct ethd_iter *it);
void ethd_iter_seek_last(struct ethd_iter *it);
bool ethd_iter_valid(const struct ethd_iter *it);
void ethd_iter_next(struct ethd_iter *it);
void ethd_iter_prev(struct ethd_iter *it);
/* Borrowed until the iterator moves or is freed. */
const uint8_t *ethd_iter_key(const struct ethd_iter *it, size_t *klen);
const uint8_t *ethd_iter_value(const struct ethd_iter *it, size_t *vlen);
/* ETHD_EIO if iteration stopped on a storage error, else 0. */
int ethd_iter_status(const struct ethd_iter *it);
void ethd_iter_free(struct ethd_iter *it);

#endif
