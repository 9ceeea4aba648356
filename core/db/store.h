/* Opening and closing the node's RocksDB store (internal; services see only
 * include/ethd/store.h and get the store through their context). */
#ifndef ETHD_CORE_DB_STORE_H
#define ETHD_CORE_DB_STORE_H
#include <stddef.h>

#include <ethd/store.h>

struct ethd_logger;

/* Open (creating if needed) the database in directory `dir` (created if
 * missing, mode 0700); every existing column family is opened.
 * Returns 0, ETHD_EINVAL (bad argument), ETHD_EBUSY (another process or
 * handle holds the directory's LOCK), ETHD_EIO (any other RocksDB or file
 * system failure, e.g. a corrupt CURRENT/MANIFEST) or ETHD_ENOMEM. On failure
 * a human message goes into err (RocksDB's own text where there is one); err
 * may be NULL or errlen 0. A directory that holds RocksDB data files but no
 * CURRENT is refused rather than initialised over, so a damaged database is
 * never silently replaced by an empty one.
 * `log` is borrowed until ethd_store_close (may be NULL).
 * *out: caller frees with ethd_store_close. */
int ethd_store_open(const char *dir, const struct ethd_logger *log, struct ethd_store **out,
                    char *err, size_t errlen);
/* Memory profiles: DEFAULT (32 MiB block cache, RocksDB's 64 MiB memtables)
 * or SMALL, for a light node (2 MiB cache, 1 MiB memtables capped at 4 MiB
 * over all column families, 64 open files). */
enum ethd_store_profile { ETHD_STORE_DEFAULT = 0, ETHD_STORE_SMALL };
int ethd_store_open_profile(const char *dir, const struct ethd_logger *log,
                            enum ethd_store_profile profile, struct ethd_store **out, char *err,
                            size_t errlen);

/* Sync the write-ahead log, flush every column family's memtable and close;
 * every column family handle (and every struct ethd_store_cf lent out) is
 * destroyed. Batches and iterators must be freed before. NULL is a no-op. */
void ethd_store_close(struct ethd_store *st);

#endif
