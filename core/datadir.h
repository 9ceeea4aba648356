/* Data directory: created on first run, locked while a node uses it. */
#ifndef ETHD_CORE_DATADIR_H
#define ETHD_CORE_DATADIR_H
#include <stddef.h>

struct ethd_datadir_lock;

/* Create `dir` (and parents, mode 0700) if missing, then take an exclusive
 * lock on DIR/ethd.lock holding our pid. ETHD_EBUSY if another process holds
 * it (err names its pid), ETHD_EIO on file-system errors.
 * *out: caller releases with ethd_datadir_unlock. */
int ethd_datadir_lock(const char *dir, struct ethd_datadir_lock **out, char *err, size_t errlen);
void ethd_datadir_unlock(struct ethd_datadir_lock *l);

/* mkdir -p with the given mode. */
int ethd_mkdir_p(const char *dir, unsigned mode);

#endif
