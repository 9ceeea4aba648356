/* The node key: the secp256k1 private key whose public key is this node's
 * devp2p identity. Kept in DATADIR/nodekey as 64 hex digits (the format geth
 * uses), created on first run, reused afterwards. Internal to core. */
#ifndef ETHD_CORE_P2P_NODEKEY_H
#define ETHD_CORE_P2P_NODEKEY_H
#include <ethd/secp256k1.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Load DATADIR/nodekey, or create it (mode 0600, written to a temporary file
 * and renamed, so a crash never leaves half a key) when it does not exist.
 * *created says which happened. Refused, with the reason in err:
 *   - a file that group or others may read or write (mode & 077): it holds
 *     a private key; ETHD_EINVAL, the message says to chmod 600 it;
 *   - anything but 64 hex digits with an optional trailing newline, or a key
 *     that is not a valid scalar: ETHD_EINVAL (the file is never replaced);
 *   - file-system errors: ETHD_EIO. */
int ethd_nodekey_load(const struct ethd_secp *secp, const char *datadir,
                      uint8_t key[ETHD_SECP_SECKEY_LEN], bool *created, char *err, size_t errlen);

#endif
