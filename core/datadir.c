/* Data directory creation and the single-node lock. flock() is released by
 * the kernel when the process dies, so a crashed node never leaves a stale
 * lock behind; the pid in the file is only there for the error message. */
#include "datadir.h"

#include <ethd/error.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct ethd_datadir_lock {
    int fd;
    char *path;
};

int ethd_mkdir_p(const char *dir, unsigned mode)
{
    char *p = strdup(dir);
    if (!p)
        return ETHD_ENOMEM;
    int rc = 0;
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                rc = ETHD_EIO;
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    if (rc == 0) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            rc = ETHD_EIO;
        }
    }
    return rc;
}

int ethd_datadir_lock(const char *dir, struct ethd_datadir_lock **out, char *err, size_t errlen)
{
    if (!dir || !*dir) {
        snprintf(err, errlen, "no data directory configured (node.datadir)");
        return ETHD_EINVAL;
    }
    if (ethd_mkdir_p(dir, 0700) != 0) {
        snprintf(err, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
        return ETHD_EIO;
    }
    struct ethd_datadir_lock *l = calloc(1, sizeof(*l));
    if (!l || asprintf(&l->path, "%s/ethd.lock", dir) < 0) {
        free(l);
        return ETHD_ENOMEM;
    }
    l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", l->path, strerror(errno));
        free(l->path);
        free(l);
        return ETHD_EIO;
    }
    if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        char pid[32] = "";
        ssize_t n = pread(l->fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (busy)
            snprintf(err, errlen,
                     "data directory %s is in use by another ethd (pid %s); stop it or choose "
                     "another --datadir",
                     dir, *pid ? pid : "unknown");
        else
            snprintf(err, errlen, "cannot lock %s: %s", l->path, strerror(errno));
        close(l->fd);
        free(l->path);
        free(l);
        return busy ? ETHD_EBUSY : ETHD_EIO;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, pid, (size_t)n, 0) != n) {
        /* The lock holds regardless; the pid is only informative. */
    }
    *out = l;
    return 0;
}

void ethd_datadir_unlock(struct ethd_datadir_lock *l)
{
    if (!l)
        return;
    if (ftruncate(l->fd, 0) != 0) {
        /* ignore: unlocking matters, the content does not */
    }
    close(l->fd); /* releases the flock */
    free(l->path);
    free(l);
}
