/* The `p2p` Hello message: decoding and encoding (see hello.h). */
#include "p2p/hello.h"

#include <ethd/error.h>
#include <ethd/rlp.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool printable_name(const uint8_t *s, size_t n)
{
    if (n == 0 || n > ETHD_P2P_HELLO_CAP_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return false;
    return true;
}

/* A client id as text we can log and put in JSON: printable ASCII only. */
static char *sanitize(const uint8_t *s, size_t n)
{
    if (n > ETHD_P2P_HELLO_CLIENT_ID_MAX)
        n = ETHD_P2P_HELLO_CLIENT_ID_MAX;
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++)
        o[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    o[n] = '\0';
    return o;
}

/* [capName, capVersion, ...] into c; ETHD_EPROTO or ETHD_ENOMEM. */
static int decode_cap(const struct ethd_rlp_item *cap, struct ethd_p2p_hello_cap *c)
{
    struct ethd_rlp_iter it;
    struct ethd_rlp_item nm, vr;
    const uint8_t *name;
    size_t name_len;
    if (ethd_rlp_iter_init(&it, cap) || ethd_rlp_iter_next(&it, &nm) ||
        ethd_rlp_iter_next(&it, &vr) || ethd_rlp_get_bytes(&nm, &name, &name_len) ||
        !printable_name(name, name_len) || ethd_rlp_get_uint64(&vr, &c->version))
        return ETHD_EPROTO;
    if (!(c->name = strndup((const char *)name, name_len)))
        return ETHD_ENOMEM;
    return 0;
}

int ethd_p2p_hello_decode(const uint8_t *payload, size_t len, struct ethd_p2p_hello *out)
{
    struct ethd_p2p_hello h = {0};
    struct ethd_rlp_item top, it, caps_it;
    struct ethd_rlp_iter iter, ci;
    const uint8_t *cid;
    size_t cid_len, ncaps;
    int rc = ETHD_EPROTO;

    memset(out, 0, sizeof(*out));
    if (len > ETHD_P2P_BASE_MAX_MSG)
        return ETHD_ETOOBIG;
    /* rlpx.md, "Hello (0x00)"; EIP-8: ignore further elements. */
    if (ethd_rlp_decode(payload, len, &top) || ethd_rlp_iter_init(&iter, &top))
        return ETHD_EPROTO;
    if (ethd_rlp_iter_next(&iter, &it) || ethd_rlp_get_uint64(&it, &h.version))
        return ETHD_EPROTO;
    if (ethd_rlp_iter_next(&iter, &it) || ethd_rlp_get_bytes(&it, &cid, &cid_len))
        return ETHD_EPROTO;
    if (ethd_rlp_iter_next(&iter, &caps_it) || ethd_rlp_list_count(&caps_it, &ncaps))
        return ETHD_EPROTO;
    /* ncaps is bounded by the payload size: each entry takes >= 1 byte. */
    if (!(h.caps = calloc(ncaps ? ncaps : 1, sizeof(*h.caps))))
        return ETHD_ENOMEM;
    ethd_rlp_iter_init(&ci, &caps_it);
    while (ethd_rlp_iter_more(&ci)) {
        struct ethd_rlp_item cap;
        if (ethd_rlp_iter_next(&ci, &cap)) {
            rc = ETHD_EPROTO;
            goto fail;
        }
        if ((rc = decode_cap(&cap, &h.caps[h.n_caps])) != 0)
            goto fail;
        h.n_caps++;
    }
    rc = ETHD_EPROTO;
    if (ethd_rlp_iter_next(&iter, &it) || ethd_rlp_get_uint64(&it, &h.listen_port))
        goto fail;
    if (ethd_rlp_iter_next(&iter, &it) || ethd_rlp_get_fixed(&it, h.id, sizeof(h.id)))
        goto fail;
    if (!(h.client_id = sanitize(cid, cid_len))) {
        rc = ETHD_ENOMEM;
        goto fail;
    }
    *out = h;
    return 0;
fail:
    ethd_p2p_hello_free(&h);
    return rc;
}

int ethd_p2p_hello_encode(const struct ethd_p2p_hello *h, struct ethd_buf *out)
{
    struct ethd_rlp_enc e;
    const char *cid = h->client_id ? h->client_id : "";
    ethd_rlp_enc_init(&e, out);
    ethd_rlp_list_begin(&e);
    ethd_rlp_uint(&e, h->version);
    ethd_rlp_bytes(&e, cid, strlen(cid));
    ethd_rlp_list_begin(&e);
    for (size_t i = 0; i < h->n_caps; i++) {
        ethd_rlp_list_begin(&e);
        ethd_rlp_bytes(&e, h->caps[i].name, strlen(h->caps[i].name));
        ethd_rlp_uint(&e, h->caps[i].version);
        ethd_rlp_list_end(&e);
    }
    ethd_rlp_list_end(&e);
    ethd_rlp_uint(&e, h->listen_port);
    ethd_rlp_bytes(&e, h->id, sizeof(h->id));
    ethd_rlp_list_end(&e);
    return ethd_rlp_enc_finish(&e);
}

void ethd_p2p_hello_free(struct ethd_p2p_hello *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_caps; i++)
        free(h->caps[i].name);
    free(h->caps);
    free(h->client_id);
    memset(h, 0, sizeof(*h));
}
