/* libFuzzer target for the p2p Hello decoder (core/p2p/hello.c). Any input
 * is refused with one of the documented codes and leaves nothing to free,
 * or decodes to a Hello that keeps the decoder's promises (a printable
 * client id of at most 255 bytes, capability names of 1..32 printable
 * characters) and survives a round trip: it encodes, the encoding decodes
 * to the same values, and encoding that again gives the same bytes (the
 * extra EIP-8 elements of the input are dropped on the first encode, so
 * only the second is compared byte for byte).
 * Seeds (fuzz/corpus/hello/): Hellos as ethd and Geth send them, one with
 * EIP-8 extra elements, one with a long non-printable client id, one with a
 * 63-byte node id. */
#include "p2p/hello.h"

#include <ethd/buf.h>
#include <ethd/error.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool printable(const char *s, int lo)
{
    for (; *s; s++)
        if (*s < lo || *s > 0x7e)
            return false;
    return true;
}

static void check_valid(const struct ethd_p2p_hello *h)
{
    if (!h->client_id || strlen(h->client_id) > ETHD_P2P_HELLO_CLIENT_ID_MAX ||
        !printable(h->client_id, 0x20))
        abort();
    if (h->n_caps > 0 && !h->caps)
        abort();
    for (size_t i = 0; i < h->n_caps; i++) {
        size_t n = h->caps[i].name ? strlen(h->caps[i].name) : 0;
        if (n == 0 || n > ETHD_P2P_HELLO_CAP_NAME_MAX || !printable(h->caps[i].name, 0x21))
            abort();
    }
}

static void check_same(const struct ethd_p2p_hello *a, const struct ethd_p2p_hello *b)
{
    if (a->version != b->version || strcmp(a->client_id, b->client_id) != 0 ||
        a->n_caps != b->n_caps || a->listen_port != b->listen_port ||
        memcmp(a->id, b->id, sizeof(a->id)) != 0)
        abort();
    for (size_t i = 0; i < a->n_caps; i++)
        if (a->caps[i].version != b->caps[i].version ||
            strcmp(a->caps[i].name, b->caps[i].name) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ethd_p2p_hello h, h2, h3;
    int rc = ethd_p2p_hello_decode(data, size, &h);
    if (rc != 0) {
        if (rc != ETHD_EPROTO && rc != ETHD_ETOOBIG)
            abort();
        if (rc == ETHD_ETOOBIG && size <= ETHD_P2P_BASE_MAX_MSG)
            abort();
        if (h.client_id || h.caps || h.n_caps)
            abort();
        return 0;
    }
    if (size > ETHD_P2P_BASE_MAX_MSG)
        abort();
    check_valid(&h);

    struct ethd_buf b1 = ETHD_BUF_INIT, b2 = ETHD_BUF_INIT;
    if (ethd_p2p_hello_encode(&h, &b1) != 0 || b1.len > size)
        abort(); /* canonical input, extras dropped: never longer */
    if (ethd_p2p_hello_decode(b1.data, b1.len, &h2) != 0)
        abort();
    check_same(&h, &h2);
    if (ethd_p2p_hello_encode(&h2, &b2) != 0 || b2.len != b1.len ||
        memcmp(b1.data, b2.data, b1.len) != 0)
        abort();
    if (ethd_p2p_hello_decode(b2.data, b2.len, &h3) != 0)
        abort();
    check_same(&h2, &h3);

    ethd_p2p_hello_free(&h3);
    ethd_p2p_hello_free(&h2);
    ethd_p2p_hello_free(&h);
    ethd_buf_free(&b2);
    ethd_buf_free(&b1);
    return 0;
}
