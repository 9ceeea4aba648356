/* enode URL parsing and formatting (see enode.h). */
#include "p2p/enode.h"

#include <ethd/error.h>
#include <ethd/hex.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char scheme[] = "enode://";

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return ETHD_EINVAL;
}

/* Decimal 0..65535, digits only, no sign, at most 5 digits. */
static bool parse_port(const char *s, size_t n, uint16_t *out)
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

static bool looks_like_hostname(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-')
            return true;
    return false;
}

int ethd_enode_parse(const char *url, struct ethd_enode *out, char *err, size_t errlen)
{
    if (!url || !out)
        return fail(err, errlen, "no enode URL given");
    size_t total = strnlen(url, ETHD_ENODE_MAX_LEN + 1);
    if (total > ETHD_ENODE_MAX_LEN)
        return fail(err, errlen, "enode URL longer than %d characters", ETHD_ENODE_MAX_LEN);
    if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
        return fail(err, errlen, "'%s' is not an enode URL (expected enode://<node id>@<ip>:<port>)",
                    url);
    struct ethd_enode n;
    memset(&n, 0, sizeof(n));
    const char *p = url + sizeof(scheme) - 1;
    const char *at = strchr(p, '@');
    size_t idlen = at ? (size_t)(at - p) : strlen(p);
    if (idlen != 128)
        return fail(err, errlen, "enode node id must be 128 hex digits, got %zu characters", idlen);
    char idhex[129];
    memcpy(idhex, p, 128);
    idhex[128] = '\0';
    if (strncmp(idhex, "0x", 2) == 0 || strncmp(idhex, "0X", 2) == 0 ||
        ethd_hex_decode_fixed(idhex, n.id, sizeof(n.id)) != 0)
        return fail(err, errlen, "enode node id must be 128 hex digits (no 0x prefix)");
    if (!at)
        return fail(err, errlen, "enode URL lacks '@<ip>:<port>'");
    p = at + 1;

    /* Host: an IPv4 literal, or an IPv6 literal in brackets. */
    const char *host, *host_end, *rest;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end)
            return fail(err, errlen, "enode IPv6 address lacks its closing ']'");
        rest = host_end + 1;
    } else {
        host = p;
        host_end = host + strcspn(host, ":?#/");
        rest = host_end;
        if (*rest == ':' && memchr(rest + 1, ':', strcspn(rest + 1, "?#/")))
            return fail(err, errlen, "enode IPv6 addresses must be written in brackets: [addr]:port");
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0)
        return fail(err, errlen, "enode URL has an empty host");
    char hbuf[64];
    if (hlen >= sizeof(hbuf))
        return fail(err, errlen, "enode host is not an IP address");
    memcpy(hbuf, host, hlen);
    hbuf[hlen] = '\0';
    if (*p == '[') {
        if (inet_pton(AF_INET6, hbuf, n.ip) != 1)
            return fail(err, errlen, "enode host [%s] is not an IPv6 address", hbuf);
        n.family = AF_INET6;
    } else if (inet_pton(AF_INET, hbuf, n.ip) == 1) {
        n.family = AF_INET;
    } else if (looks_like_hostname(hbuf, hlen)) {
        return fail(err, errlen,
                    "enode host '%s' is a name: host names are not supported, use an IP address",
                    hbuf);
    } else {
        return fail(err, errlen, "enode host '%s' is not an IPv4 address", hbuf);
    }

    if (*rest != ':')
        return fail(err, errlen, "enode URL lacks ':<port>' after the host");
    rest++;
    size_t plen = strcspn(rest, "?#/");
    if (!parse_port(rest, plen, &n.tcp_port) || n.tcp_port == 0)
        return fail(err, errlen, "enode TCP port must be a number from 1 to 65535, got '%.*s'",
                    (int)(plen > 16 ? 16 : plen), rest);
    n.udp_port = n.tcp_port;
    rest += plen;
    if (*rest == '?') {
        static const char dp[] = "discport=";
        rest++;
        if (strncmp(rest, dp, sizeof(dp) - 1) != 0)
            return fail(err, errlen, "enode URL: unsupported query '%.32s' (only discport=N)", rest);
        rest += sizeof(dp) - 1;
        size_t dlen = strcspn(rest, "&#/");
        if (!parse_port(rest, dlen, &n.udp_port))
            return fail(err, errlen, "enode discport must be a number from 0 to 65535");
        rest += dlen;
    }
    if (*rest)
        return fail(err, errlen, "unexpected '%.32s' at the end of the enode URL", rest);
    *out = n;
    return 0;
}

void ethd_enode_ip_str(const struct ethd_enode *n, char *out, size_t len)
{
    if (!inet_ntop(n->family, n->ip, out, (socklen_t)len) && len)
        out[0] = '\0';
}

int ethd_enode_format(const struct ethd_enode *n, char *out, size_t len)
{
    char id[129], ip[INET6_ADDRSTRLEN];
    ethd_hex_encode_bare(n->id, sizeof(n->id), id);
    ethd_enode_ip_str(n, ip, sizeof(ip));
    bool v6 = n->family == AF_INET6;
    int w = snprintf(out, len, "%s%s@%s%s%s:%u", scheme, id, v6 ? "[" : "", ip, v6 ? "]" : "",
                     n->tcp_port);
    if (w > 0 && (size_t)w < len && n->udp_port != n->tcp_port)
        w += snprintf(out + w, len - (size_t)w, "?discport=%u", n->udp_port);
    return w < 0 || (size_t)w >= len ? ETHD_ETOOBIG : 0;
}

void ethd_enode_sockaddr(const struct ethd_enode *n, struct sockaddr_storage *ss,
                         socklen_t *sslen)
{
    memset(ss, 0, sizeof(*ss));
    if (n->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(n->tcp_port);
        memcpy(&s6->sin6_addr, n->ip, 16);
        *sslen = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(n->tcp_port);
        memcpy(&s4->sin_addr, n->ip, 4);
        *sslen = sizeof(*s4);
    }
}
