/* The client version string this node gives out: web3_clientVersion and
 * the client id of its p2p Hello, "ethd/v<version>/<os>-<arch>" in the
 * form other clients use ("Geth/v1.14.0-stable/linux-amd64"). Internal to
 * core; <ethd/version.h> is the SDK's version number. */
#ifndef ETHD_CORE_VERSION_H
#define ETHD_CORE_VERSION_H
#include <stddef.h>

/* Room for any result: uname's sysname and machine are at most 64
 * characters each on Linux. */
#define ETHD_CLIENT_VERSION_MAX 256

/* "ethd/v0.1.0/linux-x86_64" into buf (os lower-cased, "unknown" for what
 * uname cannot tell). 0, or ETHD_ETOOBIG if len is too small (buf then
 * holds a cut, terminated string); ETHD_CLIENT_VERSION_MAX is enough. */
int ethd_client_version(char *buf, size_t len);

#endif
