/* DATADIR/nodekey: load or create (see nodekey.h). */
#include "p2p/nodekey.h"

#include <ethd/error.h>
#include <ethd/hex.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_HEX_LEN (2 * ETHD_SECP_SECKEY_LEN)

static int read_key(const struct ethd_secp *secp, const char *path, int fd,
                    uint8_t key[ETHD_SECP_SECKEY_LEN], char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        return ETHD_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        return ETHD_EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen,
                 "%s has mode %04o: it holds the node's private key and must be private to its "
                 "owner (run: chmod 600 %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        return ETHD_EINVAL;
    }
    char buf[KEY_HEX_LEN + 3]; /* key, optional "\r\n", one byte to detect more */
    size_t n = 0;
    while (n < sizeof(buf)) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            return ETHD_EIO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    size_t digits = n;
    if (digits > KEY_HEX_LEN && buf[digits - 1] == '\n')
        digits--;
    if (digits > KEY_HEX_LEN && buf[digits - 1] == '\r')
        digits--;
    char hex[KEY_HEX_LEN + 1];
    if (digits != KEY_HEX_LEN) {
        snprintf(err, errlen, "%s must hold exactly %d hex digits (a secp256k1 private key)",
                 path, KEY_HEX_LEN);
        return ETHD_EINVAL;
    }
    memcpy(hex, buf, KEY_HEX_LEN);
    hex[KEY_HEX_LEN] = '\0';
    int rc = ethd_hex_decode_fixed(hex, key, ETHD_SECP_SECKEY_LEN);
    explicit_bzero(hex, sizeof(hex));
    explicit_bzero(buf, sizeof(buf));
    if (rc != 0) { /* "0x" + 62 digits decodes to 31 bytes and fails too */
        snprintf(err, errlen, "%s must hold exactly %d hex digits (a secp256k1 private key)",
                 path, KEY_HEX_LEN);
        return ETHD_EINVAL;
    }
    if (ethd_secp_seckey_check(secp, key) != 0) {
        explicit_bzero(key, ETHD_SECP_SECKEY_LEN);
        snprintf(err, errlen, "%s does not hold a valid secp256k1 private key", path);
        return ETHD_EINVAL;
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int create_key(const struct ethd_secp *secp, const char *path,
                      uint8_t key[ETHD_SECP_SECKEY_LEN], char *err, size_t errlen)
{
    int rc = ethd_secp_keygen(secp, key);
    if (rc) {
        snprintf(err, errlen, "cannot generate a node key: %s", ethd_strerror(rc));
        return rc;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "data directory path too long");
        return ETHD_EINVAL;
    }
    char hex[KEY_HEX_LEN + 1];
    ethd_hex_encode_bare(key, ETHD_SECP_SECKEY_LEN, hex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    rc = 0;
    if (fd < 0 || fchmod(fd, 0600) != 0 || write_all(fd, hex, KEY_HEX_LEN) != 0 ||
        fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        rc = ETHD_EIO;
    }
    explicit_bzero(hex, sizeof(hex));
    if (fd >= 0 && close(fd) != 0 && !rc) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        rc = ETHD_EIO;
    }
    if (!rc && rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        rc = ETHD_EIO;
    }
    if (rc) {
        unlink(tmp);
        explicit_bzero(key, ETHD_SECP_SECKEY_LEN);
    }
    return rc;
}

int ethd_nodekey_load(const struct ethd_secp *secp, const char *datadir,
                      uint8_t key[ETHD_SECP_SECKEY_LEN], bool *created, char *err, size_t errlen)
{
    char path[4096];
    *created = false;
    if (snprintf(path, sizeof(path), "%s/nodekey", datadir) >= (int)sizeof(path)) {
        snprintf(err, errlen, "data directory path too long");
        return ETHD_EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        int rc = read_key(secp, path, fd, key, err, errlen);
        close(fd);
        return rc;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return ETHD_EIO;
    }
    int rc = create_key(secp, path, key, err, errlen);
    if (rc == 0)
        *created = true;
    return rc;
}
