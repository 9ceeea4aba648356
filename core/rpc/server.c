/* JSON-RPC 2.0 over HTTP: libevent evhttp for transport, jansson for JSON.
 *
 * Transport (HTTP/1.1):
 *   - POST with a JSON body is served on every path ("/" is the documented
 *     one; clients that append a path still work). An explicit Content-Type
 *     other than application/json gets 415, so a browser page cannot reach the
 *     node with a CORS "simple request" (text/plain form post); a missing one
 *     is accepted (curl without -H).
 *   - OPTIONS gets 200 with an Allow header and no CORS headers; every other
 *     method gets 405 with a short text.
 *   - Bodies over max_body get 413 (libevent reads and discards the rest of
 *     the body first, so the client sees the status instead of a reset);
 *     headers are limited to MAX_HEADERS bytes; idle/slow connections time
 *     out after CONN_TIMEOUT_S seconds.
 *   - Every JSON-RPC answer, errors included, is HTTP 200 with Content-Type
 *     application/json; a request holding only notifications gets 200 with
 *     an empty body.
 *
 * JSON-RPC (https://www.jsonrpc.org/specification):
 *   - single requests and batches (section 6); a batch answers in item order,
 *     leaving out notifications; [] and batches over max_batch get one -32600;
 *   - section 4.1: a request without "id" is a notification: it runs, and no
 *     answer is sent, errors included. An invalid request object is not a
 *     notification and is always answered (id null when no valid id);
 *   - section 4.2: params must be structured; Ethereum methods only take
 *     positional params, so an object gets -32602 and absent params become [];
 *     "params": null is not structured and gets -32600;
 *   - any valid JSON parses: "\u0000" in strings is accepted (method lookup
 *     compares full lengths), integers beyond int64 are read as reals rather
 *     than failing as -32700.
 *
 * Asynchronous methods: every HTTP (or dispatch) request is a reference-
 * counted `struct req`. The pipeline holds one reference until the answer is
 * sent; every in-flight ethd_rpc_call holds one more. When the client's
 * connection is closed or the server is freed, the request is marked dead and
 * the pipeline reference dropped; later ethd_rpc_call_done calls only release
 * theirs. libevent 2.1 stops reading a connection while its request waits for
 * an answer, so a client that hangs up is normally noticed only when the
 * answer is written (libevent then drops the connection itself); the close
 * callback covers the cases where libevent frees the connection earlier.
 * An async method's params are borrowed only for the async_fn call (incref
 * to keep them). A dispatched request still pending when the server is freed
 * gets its `done` then, with the unanswered items as -32000. */
#include "rpc/server.h"

#include <ethd/error.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_MAX_BODY ((size_t)5 << 20)
#define DEFAULT_MAX_BATCH 1000
#define DEFAULT_CALL_TIMEOUT_MS 30000
#define MAX_HEADERS 16384 /* request line + headers */
#define CONN_TIMEOUT_S 30
#define LISTEN_BACKLOG 128
#define LOG_ID_MAX 64     /* bytes of an id shown in a log line */
#define MSG_NAME_MAX 128  /* bytes of a method name quoted in an error message */
#define ERRBUF 256

/* ---- registrations and the method table --------------------------------- */

struct reg {
    const struct ethd_api *api; /* borrowed until the server is freed */
    void *self;
    char *owner;
    bool allowed;
};

struct slot {
    const char *name; /* borrowed from the api; NULL = empty slot */
    size_t len;
    uint32_t hash;
    const struct ethd_rpc_method *m;
    size_t reg; /* index into srv->regs (that array moves when it grows) */
};

struct req;

struct ethd_rpc_server {
    struct event_base *base;
    char *host;
    uint16_t port;
    size_t max_body, max_batch;
    uint64_t call_timeout_ms;
    char **namespaces; /* allow-list; NULL = all */
    size_t n_namespaces;
    const struct ethd_logger *log;

    struct reg *regs;
    size_t n_regs, cap_regs;
    struct slot *table; /* open addressing, linear probing, power-of-2 size */
    size_t table_cap, table_used;

    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    uint16_t bound_port;

    struct req *reqs; /* live requests (answer not yet sent), doubly linked */
    char err[ERRBUF];
};

/* ---- in-flight requests ------------------------------------------------- */

struct item {
    json_t *resp; /* answer; NULL for a notification or while pending */
    json_t *id;   /* while an async call is in flight: its id (NULL = notification) */
    bool pending; /* an async call is in flight for it */
};

struct req {
    struct ethd_rpc_server *srv; /* NULL once dead */
    struct req *prev, *next;
    struct evhttp_request *http;  /* NULL for dispatch, or once dead */
    ethd_rpc_done_fn done;        /* dispatch only */
    void *done_arg;
    unsigned refs;       /* pipeline (until answered or dead) + one per call */
    size_t outstanding;  /* unanswered async items, +1 while dispatching */
    bool batch, dead;
    size_t n;
    struct item *items;
    struct event *timer; /* armed while async items are pending */
};

struct ethd_rpc_call {
    struct req *req;
    size_t idx;
    json_t *id; /* NULL for a notification */
    const char *method; /* borrowed from the api; only read while req is alive */
    struct timespec t0;
};

static const struct ethd_rpc_method builtin_methods[];
static const struct ethd_api builtin_api;

/* ---- small helpers ------------------------------------------------------ */

static void set_err(struct ethd_rpc_server *srv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(struct ethd_rpc_server *srv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(srv->err, sizeof(srv->err), fmt, ap);
    va_end(ap);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static struct timespec now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}

static long elapsed_us(struct timespec t0)
{
    struct timespec t = now();
    return (long)(t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000L;
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid (RFC 3629:
 * no overlongs, no surrogates, nothing above U+10FFFF — what jansson wants). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* A JSON string of at most `max` bytes of `s`, with invalid UTF-8 (including a
 * sequence cut by the limit) replaced by '?'. New reference; NULL on OOM. */
static json_t *text_n(const char *s, size_t n, size_t max)
{
    if (n > max)
        n = max;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq((const unsigned char *)s + i, n - i);
        if (l == 0 || (l == 1 && s[i] == '\0')) {
            buf[o++] = '?';
            i++;
        } else {
            memcpy(buf + o, s + i, l);
            o += l;
            i += l;
        }
    }
    json_t *j = json_stringn(buf, o);
    free(buf);
    return j;
}

static json_t *text(const char *s)
{
    return text_n(s, strlen(s), SIZE_MAX);
}

static const char *code_text(int code)
{
    switch (code) {
    case ETHD_RPC_PARSE_ERROR: return "parse error";
    case ETHD_RPC_INVALID_REQUEST: return "invalid request";
    case ETHD_RPC_METHOD_NOT_FOUND: return "method not found";
    case ETHD_RPC_INVALID_PARAMS: return "invalid params";
    case ETHD_RPC_INTERNAL_ERROR: return "internal error";
    case ETHD_RPC_RESOURCE_UNAVAILABLE: return "resource unavailable";
    default: return "server error";
    }
}

/* {"jsonrpc":"2.0","id":id,"error":{"code","message"[,"data"]}}.
 * id borrowed (NULL = null); msg taken (NULL = the code's text); data taken. */
static json_t *error_resp(json_t *id, int code, json_t *msg, json_t *data)
{
    json_t *e = json_object();
    json_t *r = json_object();
    if (!msg)
        msg = json_string(code_text(code));
    if (!e || !r || !msg) {
        json_decref(e);
        json_decref(r);
        json_decref(msg);
        json_decref(data);
        return NULL;
    }
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", msg);
    if (data)
        json_object_set_new(e, "data", data);
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set(r, "id", id ? id : json_null());
    json_object_set_new(r, "error", e);
    return r;
}

static json_t *error_respf(json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *error_respf(json_t *id, int code, const char *fmt, ...)
{
    char buf[ERRBUF];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return error_resp(id, code, text(buf), NULL);
}

/* id borrowed; result taken. */
static json_t *result_resp(json_t *id, json_t *result)
{
    json_t *r = json_object();
    if (!r) {
        json_decref(result);
        return NULL;
    }
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set(r, "id", id ? id : json_null());
    json_object_set_new(r, "result", result);
    return r;
}

/* The answer for a method outcome (rpc.h: the mapping of return codes).
 * result taken; err->data taken. *code_out gets the error code (0 = success). */
static json_t *outcome_resp(json_t *id, int rc, json_t *result, struct ethd_rpc_error *err,
                            int *code_out)
{
    if (rc >= 0 && result) {
        json_decref(err->data);
        err->data = NULL;
        *code_out = 0;
        return result_resp(id, result);
    }
    json_decref(result);
    err->message[ETHD_RPC_ERRMSG_MAX - 1] = '\0';
    int code = err->code;
    json_t *msg = NULL;
    if (rc >= 0) {
        code = ETHD_RPC_INTERNAL_ERROR;
        msg = json_string("internal error: method returned no result");
    } else if (code == 0) {
        code = rc == ETHD_EINVAL ? ETHD_RPC_INVALID_PARAMS : ETHD_RPC_INTERNAL_ERROR;
    }
    if (!msg && err->message[0])
        msg = text(err->message);
    if (!msg && code == ETHD_RPC_INTERNAL_ERROR && rc < 0) {
        char buf[ERRBUF];
        snprintf(buf, sizeof(buf), "internal error: %s", ethd_strerror(rc));
        msg = json_string(buf);
    }
    json_t *data = err->data;
    err->data = NULL;
    *code_out = code;
    return error_resp(id, code, msg, data);
}

/* ---- method table ------------------------------------------------------- */

static const struct slot *lookup(const struct ethd_rpc_server *srv, const char *name, size_t len)
{
    if (srv->table_cap == 0)
        return NULL;
    uint32_t h = hash_bytes(name, len);
    size_t mask = srv->table_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct slot *s = &srv->table[i];
        if (!s->name)
            return NULL;
        if (s->hash == h && s->len == len && memcmp(s->name, name, len) == 0)
            return s;
    }
}

static void table_put(struct slot *table, size_t cap, const struct slot *in)
{
    size_t mask = cap - 1;
    size_t i = in->hash & mask;
    while (table[i].name)
        i = (i + 1) & mask;
    table[i] = *in;
}

/* Make room for `more` entries at a load factor of at most 1/2. */
static int table_reserve(struct ethd_rpc_server *srv, size_t more)
{
    size_t need = srv->table_used + more;
    if (need * 2 <= srv->table_cap)
        return 0;
    size_t cap = srv->table_cap ? srv->table_cap : 64;
    while (need * 2 > cap) {
        if (cap > SIZE_MAX / 4 / sizeof(struct slot))
            return ETHD_ENOMEM;
        cap *= 2;
    }
    struct slot *t = calloc(cap, sizeof(*t));
    if (!t)
        return ETHD_ENOMEM;
    for (size_t i = 0; i < srv->table_cap; i++)
        if (srv->table[i].name)
            table_put(t, cap, &srv->table[i]);
    free(srv->table);
    srv->table = t;
    srv->table_cap = cap;
    return 0;
}

static bool ns_allowed(const struct ethd_rpc_server *srv, const char *ns)
{
    if (strcmp(ns, "rpc") == 0 || !srv->namespaces)
        return true;
    for (size_t i = 0; i < srv->n_namespaces; i++)
        if (strcmp(srv->namespaces[i], ns) == 0)
            return true;
    return false;
}

static int add_api(struct ethd_rpc_server *srv, const struct ethd_api *api, void *self,
                   const char *owner)
{
    const char *ns = api->namespace;
    if (!ns || !ns[0]) {
        set_err(srv, "api of %s: empty namespace", owner);
        return ETHD_EINVAL;
    }
    for (const char *p = ns; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) {
            set_err(srv, "api of %s: namespace \"%s\" must be letters and digits", owner, ns);
            return ETHD_EINVAL;
        }
    }
    if (api->n_methods && !api->methods) {
        set_err(srv, "api %s of %s: no method array", ns, owner);
        return ETHD_EINVAL;
    }
    size_t nslen = strlen(ns);
    /* Check everything first so a failed registration changes nothing. */
    for (size_t i = 0; i < api->n_methods; i++) {
        const struct ethd_rpc_method *m = &api->methods[i];
        if (!m->name || strncmp(m->name, ns, nslen) != 0 || m->name[nslen] != '_' ||
            m->name[nslen + 1] == '\0') {
            set_err(srv, "method %s of %s does not start with \"%s_\"",
                    m->name ? m->name : "(null)", owner, ns);
            return ETHD_EINVAL;
        }
        if (!m->fn == !m->async_fn) {
            set_err(srv, "method %s of %s must set exactly one of fn and async_fn", m->name,
                    owner);
            return ETHD_EINVAL;
        }
        const struct slot *s = lookup(srv, m->name, strlen(m->name));
        if (s) {
            set_err(srv, "method %s of %s is already registered by %s", m->name, owner,
                    srv->regs[s->reg].owner);
            return ETHD_EEXIST;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(api->methods[j].name, m->name) == 0) {
                set_err(srv, "method %s of %s is listed twice", m->name, owner);
                return ETHD_EEXIST;
            }
        }
    }
    if (srv->n_regs == srv->cap_regs) {
        size_t cap = srv->cap_regs ? srv->cap_regs * 2 : 8;
        struct reg *r = realloc(srv->regs, cap * sizeof(*r));
        if (!r)
            return ETHD_ENOMEM;
        srv->regs = r;
        srv->cap_regs = cap;
    }
    char *own = dup_str(owner);
    if (!own || table_reserve(srv, api->n_methods) < 0) {
        free(own);
        return ETHD_ENOMEM;
    }
    size_t ri = srv->n_regs++;
    srv->regs[ri] = (struct reg){.api = api, .self = self, .owner = own,
                                 .allowed = ns_allowed(srv, ns)};
    for (size_t i = 0; i < api->n_methods; i++) {
        const struct ethd_rpc_method *m = &api->methods[i];
        size_t len = strlen(m->name);
        struct slot s = {.name = m->name, .len = len, .hash = hash_bytes(m->name, len), .m = m,
                         .reg = ri};
        table_put(srv->table, srv->table_cap, &s);
        srv->table_used++;
    }
    ETHD_DEBUG(srv->log, "rpc api added", "namespace=%s owner=%s methods=%zu allowed=%d", ns,
               owner, api->n_methods, (int)srv->regs[ri].allowed);
    return 0;
}

int ethd_rpc_server_add_api(struct ethd_rpc_server *srv, const struct ethd_api *api, void *self,
                            const char *owner)
{
    if (!srv || !api)
        return ETHD_EINVAL;
    if (!owner)
        owner = "?";
    if (api->namespace && strcmp(api->namespace, "rpc") == 0) {
        set_err(srv, "api of %s: namespace rpc is built in", owner);
        return ETHD_EEXIST;
    }
    return add_api(srv, api, self, owner);
}

/* rpc_modules: {"namespace": "version"} of what this server serves. */
static int rpc_modules(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct ethd_rpc_server *srv = self;
    json_t *o = json_object();
    if (!o)
        return ETHD_ENOMEM;
    for (size_t i = 0; i < srv->n_regs; i++) {
        const struct reg *r = &srv->regs[i];
        if (!r->allowed || json_object_get(o, r->api->namespace))
            continue;
        json_object_set_new(o, r->api->namespace,
                            text(r->api->version ? r->api->version : "1.0"));
    }
    *result = o;
    return 0;
}

static const struct ethd_rpc_method builtin_methods[] = {
    {.name = "rpc_modules", .fn = rpc_modules},
};
static const struct ethd_api builtin_api = {
    .namespace = "rpc", .version = "1.0", .methods = builtin_methods, .n_methods = 1,
};

/* ---- server lifecycle --------------------------------------------------- */

int ethd_rpc_server_new(struct event_base *base, const struct ethd_rpc_server_opts *opts,
                        struct ethd_rpc_server **out)
{
    *out = NULL;
    if (!base)
        return ETHD_EINVAL;
    struct ethd_rpc_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return ETHD_ENOMEM;
    srv->base = base;
    const char *host = opts && opts->host && opts->host[0] ? opts->host : DEFAULT_HOST;
    srv->host = dup_str(host);
    srv->port = opts ? opts->port : 0;
    srv->max_body = opts && opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
    srv->max_batch = opts && opts->max_batch ? opts->max_batch : DEFAULT_MAX_BATCH;
    srv->call_timeout_ms =
        opts && opts->call_timeout_ms ? opts->call_timeout_ms : DEFAULT_CALL_TIMEOUT_MS;
    srv->log = opts ? opts->log : NULL;
    int rc = srv->host ? 0 : ETHD_ENOMEM;
    if (rc == 0 && opts && opts->namespaces) {
        srv->namespaces = calloc(opts->n_namespaces ? opts->n_namespaces : 1, sizeof(char *));
        if (!srv->namespaces)
            rc = ETHD_ENOMEM;
        for (size_t i = 0; rc == 0 && i < opts->n_namespaces; i++) {
            srv->namespaces[i] = dup_str(opts->namespaces[i] ? opts->namespaces[i] : "");
            if (!srv->namespaces[i])
                rc = ETHD_ENOMEM;
            srv->n_namespaces = i + 1;
        }
    }
    if (rc == 0)
        rc = add_api(srv, &builtin_api, srv, "core");
    if (rc < 0) {
        ethd_rpc_server_free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

uint16_t ethd_rpc_server_port(const struct ethd_rpc_server *srv)
{
    return srv ? srv->bound_port : 0;
}

const char *ethd_rpc_server_error(const struct ethd_rpc_server *srv)
{
    return srv ? srv->err : "";
}

/* ---- request pipeline --------------------------------------------------- */

static void req_unlink(struct req *r)
{
    struct ethd_rpc_server *srv = r->srv;
    if (!srv)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else
        srv->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    r->srv = NULL;
}

static void req_unref(struct req *r)
{
    if (--r->refs > 0)
        return;
    for (size_t i = 0; i < r->n; i++) {
        json_decref(r->items[i].resp);
        json_decref(r->items[i].id);
    }
    free(r->items);
    free(r);
}

static void req_stop_timer(struct req *r)
{
    if (r->timer) {
        event_free(r->timer);
        r->timer = NULL;
    }
}

/* Drop a request whose answer can no longer be delivered. */
static void req_kill(struct req *r)
{
    if (r->dead)
        return;
    r->dead = true;
    req_stop_timer(r);
    req_unlink(r);
    req_unref(r); /* the pipeline's reference */
}

static void log_call(const struct ethd_rpc_server *srv, const char *method, json_t *id,
                     struct timespec t0, int code)
{
    if (!ethd_log_enabled(srv->log, ETHD_LOG_DEBUG))
        return;
    char *ids = id ? json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    ETHD_DEBUG(srv->log, "rpc call", "method=%.*s id=%.*s us=%ld code=%d", MSG_NAME_MAX,
               method, LOG_ID_MAX, ids ? ids : "-", elapsed_us(t0), code);
    free(ids);
}

/* Send the assembled answer and drop the pipeline's reference. */
static void req_finish(struct req *r)
{
    json_t *out = NULL;
    if (!r->batch) {
        out = json_incref(r->items[0].resp);
    } else {
        out = json_array();
        for (size_t i = 0; out && i < r->n; i++)
            if (r->items[i].resp)
                json_array_append(out, r->items[i].resp);
        if (out && json_array_size(out) == 0) {
            json_decref(out);
            out = NULL;
        }
    }
    struct evhttp_request *http = r->http;
    r->http = NULL;
    r->dead = true;
    req_stop_timer(r);
    req_unlink(r);
    if (http) {
        struct evhttp_connection *conn = evhttp_request_get_connection(http);
        if (conn)
            evhttp_connection_set_closecb(conn, NULL, NULL);
        struct evbuffer *buf = evbuffer_new();
        char *s = out ? json_dumps(out, JSON_COMPACT) : NULL;
        if (out && !s)
            s = dup_str("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,"
                        "\"message\":\"internal error: cannot encode the answer\"}}");
        if (buf && s) {
            evhttp_add_header(evhttp_request_get_output_headers(http), "Content-Type",
                              "application/json");
            evbuffer_add(buf, s, strlen(s));
        }
        free(s);
        if (buf) {
            evhttp_send_reply(http, HTTP_OK, "OK", buf);
            evbuffer_free(buf);
        } else {
            evhttp_send_reply(http, HTTP_INTERNAL, "Internal Server Error", NULL);
        }
    } else if (r->done) {
        r->done(out, r->done_arg);
    }
    json_decref(out);
    req_unref(r);
}

static void item_answered(struct req *r)
{
    if (--r->outstanding == 0 && !r->dead)
        req_finish(r);
}

/* Async items still unanswered after call_timeout get -32000; their calls'
 * later ethd_rpc_call_done finds them answered and only frees. */
static void on_call_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct req *r = arg;
    (void)fd;
    (void)what;
    if (r->dead)
        return;
    ETHD_WARN(r->srv->log, "rpc call timed out", "pending=%zu timeout_ms=%llu",
              r->outstanding, (unsigned long long)r->srv->call_timeout_ms);
    r->outstanding++; /* hold: finish once, after the loop */
    for (size_t i = 0; i < r->n; i++) {
        struct item *it = &r->items[i];
        if (!it->pending)
            continue;
        it->pending = false;
        if (it->id)
            it->resp = error_respf(it->id, ETHD_RPC_SERVER_ERROR,
                                   "the method did not answer within %llu ms",
                                   (unsigned long long)r->srv->call_timeout_ms);
        json_decref(it->id);
        it->id = NULL;
        r->outstanding--;
    }
    item_answered(r);
}

/* Validate one request object and run its method; the answer (if any) goes
 * to r->items[idx].resp now, or later for an async method. */
static void run_item(struct req *r, size_t idx, json_t *item)
{
    struct ethd_rpc_server *srv = r->srv;
    struct item *it = &r->items[idx];
    struct timespec t0 = now();

    if (!json_is_object(item)) {
        it->resp = error_respf(NULL, ETHD_RPC_INVALID_REQUEST,
                               "invalid request: not an object");
        return;
    }
    json_t *id = json_object_get(item, "id");
    if (id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id)) {
        it->resp = error_respf(NULL, ETHD_RPC_INVALID_REQUEST,
                               "invalid request: id must be a string, number or null");
        return;
    }
    bool notify = id == NULL;
    json_t *v = json_object_get(item, "jsonrpc");
    if (!json_is_string(v) || json_string_length(v) != 3 || memcmp(json_string_value(v), "2.0", 3)) {
        it->resp = error_respf(id, ETHD_RPC_INVALID_REQUEST,
                               "invalid request: jsonrpc must be \"2.0\"");
        return;
    }
    json_t *mv = json_object_get(item, "method");
    if (!json_is_string(mv)) {
        it->resp = error_respf(id, ETHD_RPC_INVALID_REQUEST,
                               "invalid request: method must be a string");
        return;
    }
    const char *name = json_string_value(mv);
    size_t name_len = json_string_length(mv);
    json_t *params = json_object_get(item, "params");
    if (params && !json_is_array(params) && !json_is_object(params)) {
        it->resp = error_respf(id, ETHD_RPC_INVALID_REQUEST,
                               "invalid request: params must be an array or an object");
        return;
    }

    json_t *resp = NULL;
    int code = 0;
    const char *logname = name;
    const struct slot *s = lookup(srv, name, name_len);
    if (!s || !srv->regs[s->reg].allowed) {
        code = ETHD_RPC_METHOD_NOT_FOUND;
        json_t *msg = NULL;
        json_t *q = text_n(name, name_len, MSG_NAME_MAX);
        if (q) {
            char buf[ERRBUF];
            snprintf(buf, sizeof(buf), "the method %s does not exist/is not available",
                     json_string_value(q));
            msg = json_string(buf);
            json_decref(q);
        }
        resp = error_resp(id, code, msg, NULL);
        logname = "(unknown)";
    } else if (params && json_is_object(params)) {
        code = ETHD_RPC_INVALID_PARAMS;
        resp = error_respf(id, code, "invalid params: params must be an array");
    } else {
        const struct reg *rg = &srv->regs[s->reg];
        logname = s->m->name;
        json_t *owned = NULL;
        if (!params)
            params = owned = json_array();
        struct ethd_rpc_error err = {0};
        if (!params) {
            code = ETHD_RPC_INTERNAL_ERROR;
            resp = error_respf(id, code, "internal error: out of memory");
        } else if (s->m->fn) {
            json_t *result = NULL;
            int rc = s->m->fn(rg->self, params, &result, &err);
            resp = outcome_resp(id, rc, result, &err, &code);
        } else {
            struct ethd_rpc_call *call = calloc(1, sizeof(*call));
            if (!call) {
                code = ETHD_RPC_INTERNAL_ERROR;
                resp = error_respf(id, code, "internal error: out of memory");
            } else {
                call->req = r;
                call->idx = idx;
                call->id = json_incref(id);
                call->method = s->m->name;
                call->t0 = t0;
                it->pending = true;
                it->id = json_incref(id);
                r->outstanding++;
                r->refs++;
                int rc = s->m->async_fn(rg->self, params, call, &err);
                if (rc >= 0) {
                    json_decref(owned);
                    return; /* answered (maybe already) through ethd_rpc_call_done */
                }
                if (it->pending) {
                    it->pending = false;
                    json_decref(it->id);
                    it->id = NULL;
                    r->outstanding--;
                    r->refs--;
                    json_decref(call->id);
                    free(call);
                    resp = outcome_resp(id, rc, NULL, &err, &code);
                } else {
                    /* rpc.h: an async method that fails must not call done. */
                    ETHD_WARN(srv->log, "rpc async method answered and failed",
                              "method=%s rc=%d", s->m->name, rc);
                    json_decref(err.data);
                    json_decref(owned);
                    return;
                }
            }
        }
        json_decref(owned);
    }
    if (code == ETHD_RPC_INTERNAL_ERROR)
        ETHD_WARN(srv->log, "rpc internal error", "method=%s", logname);
    log_call(srv, logname, id, t0, code);
    if (notify) {
        json_decref(resp);
        resp = NULL;
    }
    it->resp = resp;
}

void ethd_rpc_call_done(struct ethd_rpc_call *call, json_t *result,
                        const struct ethd_rpc_error *err)
{
    if (!call) {
        json_decref(result);
        if (err)
            json_decref(err->data);
        return;
    }
    struct req *r = call->req;
    struct ethd_rpc_error e = {0};
    if (err)
        e = *err;
    if (r->dead || !r->items[call->idx].pending) {
        json_decref(result);
        json_decref(e.data);
    } else {
        int code = 0;
        int rc = result ? 0 : ETHD_EIO;
        if (!result && !err)
            snprintf(e.message, sizeof(e.message), "internal error: method gave no answer");
        json_t *resp = outcome_resp(call->id, rc, result, &e, &code);
        if (code == ETHD_RPC_INTERNAL_ERROR)
            ETHD_WARN(r->srv->log, "rpc internal error", "method=%s", call->method);
        log_call(r->srv, call->method, call->id, call->t0, code);
        struct item *it = &r->items[call->idx];
        it->pending = false;
        json_decref(it->id);
        it->id = NULL;
        if (call->id)
            it->resp = resp;
        else
            json_decref(resp);
        item_answered(r);
    }
    json_decref(call->id);
    free(call);
    req_unref(r);
}

/* Parse `body` and run every item; `r` holds its pipeline reference. */
static void req_process(struct req *r, const char *body, size_t len)
{
    struct ethd_rpc_server *srv = r->srv;
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    /* jansson refuses integers beyond int64; such a request is still JSON. */
    if (!root && json_error_code(&je) == json_error_numeric_overflow)
        root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    json_t *single = NULL;
    if (!root) {
        single = error_respf(NULL, ETHD_RPC_PARSE_ERROR, "parse error: %s at line %d column %d",
                             je.text, je.line, je.column);
        ETHD_DEBUG(srv->log, "rpc parse error", "bytes=%zu pos=%d", len, je.position);
    } else if (json_is_array(root) && json_array_size(root) == 0) {
        single = error_respf(NULL, ETHD_RPC_INVALID_REQUEST, "invalid request: empty batch");
    } else if (json_is_array(root) && json_array_size(root) > srv->max_batch) {
        single = error_respf(NULL, ETHD_RPC_INVALID_REQUEST,
                             "invalid request: batch too large (%zu items, limit %zu)",
                             json_array_size(root), srv->max_batch);
        ETHD_WARN(srv->log, "rpc batch too large", "items=%zu limit=%zu",
                  json_array_size(root), srv->max_batch);
    }
    r->batch = root && json_is_array(root) && !single;
    r->n = r->batch ? json_array_size(root) : 1;
    r->items = calloc(r->n, sizeof(*r->items));
    r->outstanding = 1; /* held while dispatching, so early async answers wait */
    if (!r->items) {
        r->batch = false;
        r->n = 0;
        json_decref(single);
        json_decref(root);
        r->items = calloc(1, sizeof(*r->items));
        if (r->items) {
            r->n = 1;
            r->items[0].resp = error_respf(NULL, ETHD_RPC_INTERNAL_ERROR,
                                           "internal error: out of memory");
        }
        item_answered(r);
        return;
    }
    if (single) {
        r->items[0].resp = single;
    } else if (r->batch) {
        for (size_t i = 0; i < r->n && !r->dead; i++)
            run_item(r, i, json_array_get(root, i));
    } else {
        run_item(r, 0, root);
    }
    json_decref(root);
    /* Async calls left in flight: bound how long the client waits. */
    if (r->outstanding > 1 && !r->dead && r->srv) {
        r->timer = evtimer_new(r->srv->base, on_call_timeout, r);
        struct timeval tv = {(time_t)(r->srv->call_timeout_ms / 1000),
                             (suseconds_t)(r->srv->call_timeout_ms % 1000) * 1000};
        if (r->timer && evtimer_add(r->timer, &tv)) {
            event_free(r->timer);
            r->timer = NULL;
        }
    }
    item_answered(r);
}

static struct req *req_new(struct ethd_rpc_server *srv)
{
    struct req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->srv = srv;
    r->refs = 1;
    r->next = srv->reqs;
    if (srv->reqs)
        srv->reqs->prev = r;
    srv->reqs = r;
    return r;
}

int ethd_rpc_server_dispatch(struct ethd_rpc_server *srv, const char *body, size_t len,
                             ethd_rpc_done_fn done, void *arg)
{
    if (!srv || !done || (!body && len))
        return ETHD_EINVAL;
    if (len > srv->max_body)
        return ETHD_ETOOBIG;
    struct req *r = req_new(srv);
    if (!r)
        return ETHD_ENOMEM;
    r->done = done;
    r->done_arg = arg;
    req_process(r, body ? body : "", len);
    return 0;
}

/* ---- HTTP --------------------------------------------------------------- */

static void on_conn_close(struct evhttp_connection *conn, void *arg)
{
    struct req *r = arg;
    (void)conn;
    evhttp_connection_set_closecb(conn, NULL, NULL);
    if (r->http && !evhttp_request_get_connection(r->http)) {
        /* libevent detached the request from the failed connection (client
         * EOF or timeout): nobody else frees it now. */
        evhttp_request_free(r->http);
    }
    r->http = NULL;
    if (r->srv)
        ETHD_DEBUG(r->srv->log, "rpc client gone", "pending=%zu", r->outstanding);
    req_kill(r);
}

static void send_text(struct evhttp_request *http, int status, const char *reason,
                      const char *msg)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(http);
    struct evbuffer *buf = evbuffer_new();
    evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
    if (buf)
        evbuffer_add(buf, msg, strlen(msg));
    evhttp_send_reply(http, status, reason, buf);
    if (buf)
        evbuffer_free(buf);
}

/* "application/json", any case, optionally followed by parameters. */
static bool is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
        return false;
    char c = ct[sizeof(want) - 1];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

static void on_http(struct evhttp_request *http, void *arg)
{
    struct ethd_rpc_server *srv = arg;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(http);
    struct evkeyvalq *out = evhttp_request_get_output_headers(http);
    if (cmd == EVHTTP_REQ_OPTIONS) {
        evhttp_add_header(out, "Allow", "POST, OPTIONS");
        evhttp_send_reply(http, HTTP_OK, "OK", NULL);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        evhttp_add_header(out, "Allow", "POST, OPTIONS");
        send_text(http, 405, "Method Not Allowed",
                  "JSON-RPC: send requests with POST and a JSON body\n");
        return;
    }
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(http), "Content-Type");
    if (ct && !is_json_type(ct)) {
        send_text(http, 415, "Unsupported Media Type",
                  "JSON-RPC: Content-Type must be application/json\n");
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(http);
    size_t len = evbuffer_get_length(in);
    if (len > srv->max_body) { /* libevent enforces it; keep the invariant local */
        send_text(http, 413, "Payload Too Large", "JSON-RPC: request body too large\n");
        return;
    }
    const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
    struct req *r = body ? req_new(srv) : NULL;
    if (!r) {
        send_text(http, HTTP_INTERNAL, "Internal Server Error", "out of memory\n");
        return;
    }
    r->http = http;
    struct evhttp_connection *conn = evhttp_request_get_connection(http);
    if (conn)
        evhttp_connection_set_closecb(conn, on_conn_close, r);
    req_process(r, body, len);
}

/* Bind and listen on host:port, trying every address getaddrinfo gives. */
static int open_listener(struct ethd_rpc_server *srv, evutil_socket_t *fd_out)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)srv->port);
    struct evutil_addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    /* No AI_ADDRCONFIG: it hides ::1 on hosts whose only IPv6 address is loopback. */
    hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV;
    int g = evutil_getaddrinfo(srv->host, port, &hints, &ai);
    if (g != 0) {
        set_err(srv, "cannot resolve %s: %s", srv->host, evutil_gai_strerror(g));
        return ETHD_EIO;
    }
    int saved = 0;
    const char *what = "socket";
    evutil_socket_t fd = -1;
    for (struct evutil_addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            what = "socket";
            continue;
        }
        if (evutil_make_socket_nonblocking(fd) < 0 || evutil_make_socket_closeonexec(fd) < 0 ||
            evutil_make_listen_socket_reuseable(fd) < 0) {
            saved = errno;
            what = "setsockopt";
        } else if (bind(fd, a->ai_addr, a->ai_addrlen) < 0) {
            saved = errno;
            what = "bind";
        } else if (listen(fd, LISTEN_BACKLOG) < 0) {
            saved = errno;
            what = "listen";
        } else {
            break;
        }
        evutil_closesocket(fd);
        fd = -1;
    }
    evutil_freeaddrinfo(ai);
    if (fd < 0) {
        set_err(srv, "cannot listen on %s port %u: %s: %s", srv->host, (unsigned)srv->port,
                what, strerror(saved ? saved : EADDRNOTAVAIL));
        return ETHD_EIO;
    }
    *fd_out = fd;
    return 0;
}

int ethd_rpc_server_start(struct ethd_rpc_server *srv)
{
    if (!srv)
        return ETHD_EINVAL;
    if (srv->http) {
        set_err(srv, "server already started");
        return ETHD_ESTATE;
    }
    struct evhttp *http = evhttp_new(srv->base);
    if (!http)
        return ETHD_ENOMEM;
    evhttp_set_max_body_size(http, (ev_ssize_t)srv->max_body);
    evhttp_set_max_headers_size(http, MAX_HEADERS);
    evhttp_set_timeout(http, CONN_TIMEOUT_S);
    /* Let the client finish sending an oversized body so it reads the 413. */
    evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE);
    /* Every method reaches on_http, which answers 405 itself (not 501). */
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                         EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
                                         EVHTTP_REQ_TRACE);
    evhttp_set_gencb(http, on_http, srv);

    evutil_socket_t fd;
    int rc = open_listener(srv, &fd);
    if (rc < 0) {
        evhttp_free(http);
        ETHD_ERROR(srv->log, "rpc listen failed", "host=%s port=%u error=\"%s\"", srv->host,
                   (unsigned)srv->port, srv->err);
        return rc;
    }
    struct evconnlistener *lis = evconnlistener_new(
        srv->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
    if (!lis) {
        evutil_closesocket(fd);
        evhttp_free(http);
        set_err(srv, "cannot create a listener");
        return ETHD_ENOMEM;
    }
    struct evhttp_bound_socket *bound = evhttp_bind_listener(http, lis);
    if (!bound) {
        evconnlistener_free(lis);
        evhttp_free(http);
        set_err(srv, "cannot attach the listener");
        return ETHD_ENOMEM;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    uint16_t port = 0;
    if (getsockname(evconnlistener_get_fd(lis), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    srv->http = http;
    srv->bound = bound;
    srv->bound_port = port;
    ETHD_INFO(srv->log, "rpc listening", "host=%s port=%u", srv->host, (unsigned)port);
    return 0;
}

void ethd_rpc_server_free(struct ethd_rpc_server *srv)
{
    if (!srv)
        return;
    /* Pending requests die first: HTTP ones lose their connection below (no
     * answer); dispatched ones get their `done` now, with the items still in
     * flight answered -32000, so `done` runs exactly once. The calls keep the
     * request alive until their (now no-op) ethd_rpc_call_done. */
    while (srv->reqs) {
        struct req *r = srv->reqs;
        if (r->http) {
            struct evhttp_connection *conn = evhttp_request_get_connection(r->http);
            if (conn)
                evhttp_connection_set_closecb(conn, NULL, NULL);
            r->http = NULL; /* evhttp_free frees it with its connection */
            req_kill(r);
        } else {
            for (size_t i = 0; i < r->n; i++) {
                struct item *it = &r->items[i];
                if (!it->pending)
                    continue;
                it->pending = false;
                if (it->id)
                    it->resp = error_respf(it->id, ETHD_RPC_SERVER_ERROR,
                                           "server stopped before the method answered");
            }
            r->outstanding = 0;
            req_finish(r);
        }
    }
    if (srv->http)
        evhttp_free(srv->http);
    for (size_t i = 0; i < srv->n_regs; i++)
        free(srv->regs[i].owner);
    free(srv->regs);
    free(srv->table);
    for (size_t i = 0; i < srv->n_namespaces; i++)
        free(srv->namespaces[i]);
    free(srv->namespaces);
    free(srv->host);
    free(srv);
}

int ethd_rpc_fail(struct ethd_rpc_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return ETHD_EINVAL;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return ETHD_EINVAL;
}
