/* enode URLs (devp2p: the "enode" URL scheme of node records):
 *
 *     enode://<node id: 128 hex digits>@<ip>:<tcp port>[?discport=<udp port>]
 *
 * The node id is the 64-byte secp256k1 public key. The host must be an IP
 * literal (IPv6 in brackets): resolving names would make a static peer list
 * depend on DNS at start-up, so they are refused with a message saying so.
 * Internal to core. */
#ifndef ETHD_CORE_P2P_ENODE_H
#define ETHD_CORE_P2P_ENODE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ETHD_ENODE_MAX_LEN 256 /* longer URLs are refused; formatted ones are shorter */

struct ethd_enode {
    uint8_t id[64];
    int family;        /* AF_INET or AF_INET6 */
    uint8_t ip[16];    /* 4 bytes for AF_INET */
    uint16_t tcp_port; /* 1..65535 */
    uint16_t udp_port; /* equals tcp_port unless ?discport= said otherwise */
};

/* Parse `url` strictly. ETHD_EINVAL with a human message in err (which may
 * be NULL) for anything else: wrong scheme, an id that is not 128 hex
 * digits, a host name, a missing or out-of-range port, unknown query
 * parameters, trailing bytes. The id is not checked to be on the curve
 * (ethd_secp_pubkey_check does that). */
int ethd_enode_parse(const char *url, struct ethd_enode *out, char *err, size_t errlen);
/* "enode://...@ip:port" into out. ETHD_ETOOBIG if len is too small
 * (ETHD_ENODE_MAX_LEN is always enough). */
int ethd_enode_format(const struct ethd_enode *n, char *out, size_t len);
/* The IP as text, without brackets ("127.0.0.1", "::1"); len >= 46. */
void ethd_enode_ip_str(const struct ethd_enode *n, char *out, size_t len);
/* Socket address to dial (tcp_port). */
void ethd_enode_sockaddr(const struct ethd_enode *n, struct sockaddr_storage *ss,
                         socklen_t *sslen);

#endif
