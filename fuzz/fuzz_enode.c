/* libFuzzer target for enode URL parsing (core/p2p/enode.c). The input,
 * cut at its first NUL, is parsed. A refusal is ETHD_EINVAL with a message;
 * an accepted URL has a port in range, formats without error into
 * ETHD_ENODE_MAX_LEN, the formatted URL parses to the same node, and
 * formatting that gives the same text (the canonical form: lower-case hex,
 * the shortest IP text, discport only when it differs).
 * Seeds (fuzz/corpus/enode/): IPv4, IPv6 with discport, IPv4-mapped IPv6
 * with an upper-case id, and refused forms (host name, short id,
 * unbracketed IPv6). */
#include "p2p/enode.h"

#include <ethd/error.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct ethd_enode *a, const struct ethd_enode *b)
{
    size_t iplen = a->family == AF_INET6 ? 16 : 4;
    return a->family == b->family && memcmp(a->id, b->id, sizeof(a->id)) == 0 &&
           memcmp(a->ip, b->ip, iplen) == 0 && a->tcp_port == b->tcp_port &&
           a->udp_port == b->udp_port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * ETHD_ENODE_MAX_LEN)
        return 0; /* longer is refused by length alone; nothing more to learn */
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';

    struct ethd_enode n, n2;
    char err[256];
    err[0] = '\0';
    int rc = ethd_enode_parse(url, &n, err, sizeof(err));
    if (rc != 0) {
        if (rc != ETHD_EINVAL || err[0] == '\0' || !memchr(err, '\0', sizeof(err)))
            abort();
        free(url);
        return 0;
    }
    if ((n.family != AF_INET && n.family != AF_INET6) || n.tcp_port == 0)
        abort();

    char out[ETHD_ENODE_MAX_LEN], out2[ETHD_ENODE_MAX_LEN];
    if (ethd_enode_format(&n, out, sizeof(out)) != 0)
        abort();
    if (ethd_enode_parse(out, &n2, err, sizeof(err)) != 0 || !same(&n, &n2))
        abort();
    if (ethd_enode_format(&n2, out2, sizeof(out2)) != 0 || strcmp(out, out2) != 0)
        abort();
    /* a buffer one byte short is refused, never overrun */
    size_t len = strlen(out);
    char *tight = malloc(len);
    if (!tight || ethd_enode_format(&n, tight, len) != ETHD_ETOOBIG)
        abort();
    free(tight);
    free(url);
    return 0;
}
