/* p2p server, first part: the capability table built from the services'
 * protocol descriptors. Listening, dialing and peers come with RLPx. */
#include "p2p/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ethd_p2p_server {
    struct event_base *base;
    const struct ethd_logger *log;
    struct ethd_p2p_protocol_entry *protos;
    size_t n, cap;
    int running;
};

int ethd_p2p_server_new(struct event_base *base, const struct ethd_logger *lg,
                        struct ethd_p2p_server **out)
{
    struct ethd_p2p_server *s = calloc(1, sizeof(*s));
    if (!s)
        return ETHD_ENOMEM;
    s->base = base;
    s->log = lg;
    *out = s;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct ethd_p2p_protocol_entry *x = a, *y = b;
    int c = strcmp(x->proto->name, y->proto->name);
    if (c)
        return c;
    return x->proto->version < y->proto->version ? -1 : x->proto->version > y->proto->version;
}

int ethd_p2p_server_add_protocol(struct ethd_p2p_server *srv, const struct ethd_protocol *p,
                                 void *self, const char *owner, char *err, size_t errlen)
{
    if (!p || !p->name || !*p->name || p->version == 0 || p->length == 0) {
        snprintf(err, errlen, "service '%s' offers a protocol without name, version or length",
                 owner);
        return ETHD_EINVAL;
    }
    for (size_t i = 0; i < srv->n; i++) {
        const struct ethd_protocol *q = srv->protos[i].proto;
        if (strcmp(q->name, p->name) == 0 && q->version == p->version) {
            snprintf(err, errlen, "protocol %s/%u is offered by both '%s' and '%s'", p->name,
                     p->version, srv->protos[i].owner, owner);
            return ETHD_EEXIST;
        }
    }
    if (srv->n == srv->cap) {
        size_t cap = srv->cap ? srv->cap * 2 : 8;
        struct ethd_p2p_protocol_entry *e = realloc(srv->protos, cap * sizeof(*e));
        if (!e)
            return ETHD_ENOMEM;
        srv->protos = e;
        srv->cap = cap;
    }
    srv->protos[srv->n++] = (struct ethd_p2p_protocol_entry){p, self, owner};
    qsort(srv->protos, srv->n, sizeof(*srv->protos), cmp_entry);
    return 0;
}

size_t ethd_p2p_server_protocol_count(const struct ethd_p2p_server *srv)
{
    return srv->n;
}

const struct ethd_p2p_protocol_entry *ethd_p2p_server_protocol_at(const struct ethd_p2p_server *srv,
                                                                  size_t i)
{
    return i < srv->n ? &srv->protos[i] : NULL;
}

int ethd_p2p_server_start(struct ethd_p2p_server *srv)
{
    char caps[512] = "";
    size_t n = 0;
    for (size_t i = 0; i < srv->n && n < sizeof(caps); i++)
        n += (size_t)snprintf(caps + n, sizeof(caps) - n, "%s%s/%u", i ? "," : "",
                              srv->protos[i].proto->name, srv->protos[i].proto->version);
    ETHD_INFO(srv->log, "p2p capabilities", "caps=%s count=%zu", srv->n ? caps : "none", srv->n);
    srv->running = 1;
    return 0;
}

void ethd_p2p_server_stop(struct ethd_p2p_server *srv)
{
    if (srv)
        srv->running = 0;
}

void ethd_p2p_server_free(struct ethd_p2p_server *srv)
{
    if (!srv)
        return;
    free(srv->protos);
    free(srv);
}
