/* Unit tests for core/rpc/server.c: a real HTTP client over loopback against
 * a server on an ephemeral port, plus the in-process dispatch path.
 *
 * Server and client share one thread: the client socket is non-blocking and
 * every wait pumps the server's event_base (EVLOOP_NONBLOCK) between polls. */
#include "log.h"
#include "rpc/server.h"

#include <ethd/error.h>

#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY 65536
#define MAX_BATCH 10
#define WAIT_S 20 /* hang guard only, never a timing assertion */

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    struct event_base *base;
    struct ethd_rpc_server *srv;
    uint16_t port;
    int calls;            /* sync method invocations (self check) */
    int async_started;
    int async_completed;
    struct ethd_rpc_call *held[8]; /* calls of test_hold, in arrival order */
    int n_held;
    struct ethd_log_sink *sink;
    struct ethd_logger *lg;
    char logpath[64];
};

static int m_echo(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    struct fx *f = self;
    f->calls++;
    *result = json_incref(params);
    return 0;
}

static int m_add(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    if (json_array_size(params) != 2 || !json_is_integer(json_array_get(params, 0)) ||
        !json_is_integer(json_array_get(params, 1)))
        return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "expected two integers");
    *result = json_integer(json_integer_value(json_array_get(params, 0)) +
                           json_integer_value(json_array_get(params, 1)));
    return 0;
}

static int m_fail(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    err->data = json_string("d");
    return ethd_rpc_fail(err, -32010, "custom failure %d", 7);
}

static int m_einval(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    return ETHD_EINVAL;
}

static int m_eio(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    return ETHD_EIO;
}

static int m_null(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    *result = json_null();
    return 0;
}

static int m_noresult(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    return 0; /* contract violation: success without a result */
}

static int m_badutf8(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    return ethd_rpc_fail(err, -32012, "bad \xff\xfe bytes \xe2\x82");
}

struct later {
    struct fx *f;
    struct ethd_rpc_call *call;
};

static void later_cb(evutil_socket_t fd, short what, void *arg)
{
    struct later *l = arg;
    l->f->async_completed++;
    ethd_rpc_call_done(l->call, json_string("later"), NULL);
    free(l);
}

static int a_later(void *self, json_t *params, struct ethd_rpc_call *call,
                   struct ethd_rpc_error *err)
{
    struct fx *f = self;
    struct later *l = malloc(sizeof(*l));
    if (!l)
        return ETHD_ENOMEM;
    l->f = f;
    l->call = call;
    struct timeval tv = {0, 10000};
    if (event_base_once(f->base, -1, EV_TIMEOUT, later_cb, l, &tv) < 0) {
        free(l);
        return ETHD_EIO;
    }
    f->async_started++;
    return 0;
}

static int a_hold(void *self, json_t *params, struct ethd_rpc_call *call,
                  struct ethd_rpc_error *err)
{
    struct fx *f = self;
    if (f->n_held == 8)
        return ethd_rpc_fail(err, ETHD_RPC_RESOURCE_UNAVAILABLE, "too many held calls");
    f->held[f->n_held++] = call;
    f->async_started++;
    return 0;
}

static int a_now(void *self, json_t *params, struct ethd_rpc_call *call,
                 struct ethd_rpc_error *err)
{
    ethd_rpc_call_done(call, json_string("now"), NULL);
    return 0;
}

static int a_fail(void *self, json_t *params, struct ethd_rpc_call *call,
                  struct ethd_rpc_error *err)
{
    return ethd_rpc_fail(err, -32011, "async refused");
}

static int a_err(void *self, json_t *params, struct ethd_rpc_call *call,
                 struct ethd_rpc_error *err)
{
    struct ethd_rpc_error e = {.code = ETHD_RPC_RESOURCE_UNAVAILABLE};
    snprintf(e.message, sizeof(e.message), "busy");
    e.data = json_integer(5);
    ethd_rpc_call_done(call, NULL, &e);
    return 0;
}

static int a_null(void *self, json_t *params, struct ethd_rpc_call *call,
                  struct ethd_rpc_error *err)
{
    ethd_rpc_call_done(call, NULL, NULL); /* neither result nor error */
    return 0;
}

static int a_twice(void *self, json_t *params, struct ethd_rpc_call *call,
                   struct ethd_rpc_error *err)
{
    /* contract violation: answers, then reports a failure as well */
    ethd_rpc_call_done(call, json_string("first"), NULL);
    return ethd_rpc_fail(err, -32013, "second");
}

static const struct ethd_rpc_method test_methods[] = {
    {.name = "test_echo", .fn = m_echo},
    {.name = "test_add", .fn = m_add},
    {.name = "test_fail", .fn = m_fail},
    {.name = "test_einval", .fn = m_einval},
    {.name = "test_eio", .fn = m_eio},
    {.name = "test_null", .fn = m_null},
    {.name = "test_noresult", .fn = m_noresult},
    {.name = "test_badutf8", .fn = m_badutf8},
    {.name = "test_later", .async_fn = a_later},
    {.name = "test_hold", .async_fn = a_hold},
    {.name = "test_now", .async_fn = a_now},
    {.name = "test_afail", .async_fn = a_fail},
    {.name = "test_aerr", .async_fn = a_err},
    {.name = "test_anull", .async_fn = a_null},
    {.name = "test_atwice", .async_fn = a_twice},
};
static const struct ethd_api test_api = {"test", "1.0", test_methods,
                                         sizeof(test_methods) / sizeof(test_methods[0])};

static const struct ethd_rpc_method secret_methods[] = {{.name = "secret_get", .fn = m_null}};
static const struct ethd_api secret_api = {"secret", "2.0", secret_methods, 1};

static const char *const allowed_ns[] = {"test", "web3"};

static void fx_init_timeout(struct fx *f, bool start, uint64_t call_timeout_ms)
{
    memset(f, 0, sizeof(*f));
    f->base = event_base_new();
    ck_assert_ptr_nonnull(f->base);
    strcpy(f->logpath, "/tmp/ethd-test-rpc-XXXXXX");
    int lfd = mkstemp(f->logpath);
    ck_assert_int_ge(lfd, 0);
    close(lfd);
    char ebuf[128];
    ck_assert_int_eq(ethd_log_sink_open(f->logpath, ETHD_LOG_DEBUG, &f->sink, ebuf, sizeof(ebuf)), 0);
    ck_assert_int_eq(ethd_logger_new(f->sink, "rpc", &f->lg), 0);
    struct ethd_rpc_server_opts o = {
        .host = "127.0.0.1",
        .port = 0,
        .max_body = MAX_BODY,
        .max_batch = MAX_BATCH,
        .namespaces = allowed_ns,
        .n_namespaces = 2,
        .log = f->lg,
        .call_timeout_ms = call_timeout_ms,
    };
    ck_assert_int_eq(ethd_rpc_server_new(f->base, &o, &f->srv), 0);
    ck_assert_int_eq(ethd_rpc_server_add_api(f->srv, &test_api, f, "tester"), 0);
    ck_assert_int_eq(ethd_rpc_server_add_api(f->srv, &secret_api, f, "hidden"), 0);
    if (start) {
        int rc = ethd_rpc_server_start(f->srv);
        ck_assert_msg(rc == 0, "start: %s", ethd_rpc_server_error(f->srv));
        f->port = ethd_rpc_server_port(f->srv);
        ck_assert_uint_ne(f->port, 0);
    }
}

static void fx_init(struct fx *f, bool start)
{
    fx_init_timeout(f, start, 0);
}

static void fx_free(struct fx *f)
{
    ethd_rpc_server_free(f->srv);
    f->srv = NULL;
    event_base_free(f->base);
    ethd_logger_free(f->lg);
    ethd_log_sink_close(f->sink);
    unlink(f->logpath);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pump(struct fx *f, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
}

static void pump_until(struct fx *f, const int *v, int want)
{
    double end = now_s() + WAIT_S;
    while (*v < want) {
        ck_assert_msg(now_s() < end, "timed out waiting for the server");
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        usleep(500);
    }
}

/* ---- a small HTTP/1.1 client ---------------------------------------------- */

struct resp {
    int status;      /* 0 = no response (connection closed first) */
    char head[4096]; /* status line and headers */
    char *body;      /* NUL-terminated; caller frees */
    size_t body_len;
};

static int client_connect(struct fx *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The kernel completes a loopback handshake from the listen backlog. */
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    return fd;
}

/* Send `req` and read one response on `fd`, pumping the server meanwhile. */
static void exchange(struct fx *f, int fd, const char *req, size_t len, struct resp *out)
{
    memset(out, 0, sizeof(*out));
    size_t sent = 0, cap = 4096, have = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    double end = now_s() + WAIT_S;
    bool closed = false, send_failed = false;
    size_t need = SIZE_MAX; /* total bytes of head + body once known */
    while (!closed && have < need) {
        ck_assert_msg(now_s() < end, "timed out waiting for an HTTP response");
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        if (sent < len && !send_failed) {
            ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                send_failed = true; /* the server may answer and close early */
        }
        for (;;) {
            if (cap - have < 2048) {
                cap *= 2;
                buf = realloc(buf, cap);
                ck_assert_ptr_nonnull(buf);
            }
            ssize_t n = recv(fd, buf + have, cap - have - 1, 0);
            if (n > 0) {
                have += (size_t)n;
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                closed = true;
            break;
        }
        buf[have] = '\0';
        char *eoh = strstr(buf, "\r\n\r\n");
        if (eoh && need == SIZE_MAX) {
            size_t hl = (size_t)(eoh - buf) + 4;
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            if (cl && cl < eoh)
                need = hl + strtoul(cl + 17, NULL, 10);
        }
        if (have < need && !closed) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 1);
        }
    }
    char *eoh = strstr(buf, "\r\n\r\n");
    if (eoh) {
        size_t hl = (size_t)(eoh - buf);
        memcpy(out->head, buf, hl < sizeof(out->head) - 1 ? hl : sizeof(out->head) - 1);
        sscanf(buf, "HTTP/1.%*d %d", &out->status);
        size_t blen = have - hl - 4;
        if (need != SIZE_MAX && need - hl - 4 < blen)
            blen = need - hl - 4;
        out->body = malloc(blen + 1);
        memcpy(out->body, eoh + 4, blen);
        out->body[blen] = '\0';
        out->body_len = blen;
    } else {
        out->body = calloc(1, 1);
    }
    free(buf);
}

static char *make_req(const char *method, const char *ctype, const char *extra_headers,
                      const char *body, size_t blen, bool keepalive, size_t *len_out)
{
#define REQ_FMT "%s / HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%sContent-Length: %zu\r\n%s\r\n"
    const char *ct1 = ctype ? "Content-Type: " : "", *ct2 = ctype ? ctype : "";
    const char *ct3 = ctype ? "\r\n" : "", *ex = extra_headers ? extra_headers : "";
    const char *conn = keepalive ? "" : "Connection: close\r\n";
    int hl = snprintf(NULL, 0, REQ_FMT, method, ct1, ct2, ct3, ex, blen, conn);
    ck_assert_int_gt(hl, 0);
    char *r = malloc((size_t)hl + blen + 1);
    ck_assert_ptr_nonnull(r);
    snprintf(r, (size_t)hl + 1, REQ_FMT, method, ct1, ct2, ct3, ex, blen, conn);
    if (blen)
        memcpy(r + hl, body, blen);
    r[hl + blen] = '\0';
    *len_out = (size_t)hl + blen;
    return r;
}

static void http_raw(struct fx *f, const char *method, const char *ctype, const char *body,
                     size_t blen, struct resp *out)
{
    size_t len;
    char *req = make_req(method, ctype, NULL, body, blen, false, &len);
    int fd = client_connect(f);
    exchange(f, fd, req, len, out);
    close(fd);
    free(req);
}

/* POST a JSON body; returns the parsed answer (NULL for an empty body). */
static json_t *post(struct fx *f, const char *body, int *status)
{
    struct resp r;
    http_raw(f, "POST", "application/json", body, strlen(body), &r);
    if (status)
        *status = r.status;
    else
        ck_assert_int_eq(r.status, 200);
    json_t *j = NULL;
    if (r.body_len) {
        ck_assert_msg(strcasestr(r.head, "Content-Type: application/json") != NULL,
                      "headers: %s", r.head);
        json_error_t e;
        j = json_loads(r.body, 0, &e);
        ck_assert_msg(j != NULL, "bad JSON answer: %s", r.body);
    }
    free(r.body);
    return j;
}

static void assert_error(json_t *resp, int code)
{
    ck_assert_ptr_nonnull(resp);
    ck_assert_str_eq(json_string_value(json_object_get(resp, "jsonrpc")), "2.0");
    json_t *e = json_object_get(resp, "error");
    ck_assert_msg(json_is_object(e), "no error object");
    ck_assert_int_eq(json_integer_value(json_object_get(e, "code")), code);
    ck_assert(json_is_string(json_object_get(e, "message")));
    ck_assert_ptr_null(json_object_get(resp, "result"));
}

static void assert_id_null(json_t *resp)
{
    json_t *id = json_object_get(resp, "id");
    ck_assert_msg(id && json_is_null(id), "id is not null");
}

static const char *err_msg(json_t *resp)
{
    return json_string_value(json_object_get(json_object_get(resp, "error"), "message"));
}

/* ---- tests: HTTP --------------------------------------------------------- */

START_TEST(test_single_success)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\",\"params\":[1,\"a\"]}",
                     NULL);
    ck_assert_str_eq(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
    json_t *want = json_loads("[1,\"a\"]", 0, NULL);
    ck_assert(json_equal(json_object_get(r, "result"), want));
    ck_assert_ptr_null(json_object_get(r, "error"));
    ck_assert_int_eq(f.calls, 1); /* called with the registration's self */
    json_decref(want);
    json_decref(r);
    fx_free(&f);
}
END_TEST

START_TEST(test_params)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_add\",\"params\":[2,3]}", NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "result")), 5);
    json_decref(r);
    /* absent params reach the method as [] */
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_echo\"}", NULL);
    ck_assert(json_is_array(json_object_get(r, "result")));
    ck_assert_int_eq(json_array_size(json_object_get(r, "result")), 0);
    json_decref(r);
    /* the method's own -32602 */
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test_add\",\"params\":[\"x\"]}", NULL);
    assert_error(r, ETHD_RPC_INVALID_PARAMS);
    ck_assert_str_eq(err_msg(r), "expected two integers");
    json_decref(r);
    /* null result is a result */
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"test_null\",\"params\":[]}", NULL);
    ck_assert(json_is_null(json_object_get(r, "result")));
    json_decref(r);
    fx_free(&f);
}
END_TEST

START_TEST(test_method_not_found)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":\"test_nope\"}", NULL);
    assert_error(r, ETHD_RPC_METHOD_NOT_FOUND);
    ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "q");
    ck_assert(strstr(err_msg(r), "test_nope") != NULL);
    json_decref(r);
    /* a NUL inside the name must not match "test_echo" */
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\\u0000x\"}", NULL);
    assert_error(r, ETHD_RPC_METHOD_NOT_FOUND);
    json_decref(r);
    ck_assert_int_eq(f.calls, 0);
    fx_free(&f);
}
END_TEST

START_TEST(test_namespace_allow_list)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"secret_get\"}", NULL);
    assert_error(r, ETHD_RPC_METHOD_NOT_FOUND);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"rpc_modules\"}", NULL);
    json_t *m = json_object_get(r, "result");
    ck_assert(json_is_object(m));
    ck_assert_str_eq(json_string_value(json_object_get(m, "test")), "1.0");
    ck_assert_str_eq(json_string_value(json_object_get(m, "rpc")), "1.0");
    ck_assert_ptr_null(json_object_get(m, "secret"));
    ck_assert_int_eq(json_object_size(m), 2);
    json_decref(r);
    fx_free(&f);
}
END_TEST

START_TEST(test_parse_errors)
{
    struct fx f;
    fx_init(&f, true);
    const char *bad[] = {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"", "hello",
                         "", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"},",
                         "{\"id\":1} trailing", "\xff\xfe"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *r = post(&f, bad[i], NULL);
        assert_error(r, ETHD_RPC_PARSE_ERROR);
        assert_id_null(r);
        json_decref(r);
    }
    ck_assert_int_eq(f.calls, 0);
    fx_free(&f);
}
END_TEST

START_TEST(test_invalid_requests)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f, "{\"jsonrpc\":\"1.0\",\"id\":9,\"method\":\"test_echo\"}", NULL);
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 9);
    json_decref(r);
    r = post(&f, "{\"id\":9,\"method\":\"test_echo\"}", NULL);
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"method\":1,\"params\":\"bar\"}", NULL);
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    assert_id_null(r);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"test_echo\"}", NULL);
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    assert_id_null(r);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"test_echo\"}", NULL);
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_echo\",\"params\":\"x\"}", NULL);
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 3);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_echo\",\"params\":null}", NULL);
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    json_decref(r);
    r = post(&f, "42", NULL);
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    assert_id_null(r);
    json_decref(r);
    /* [1,2,3]: one -32600 per element (spec section 7 example) */
    r = post(&f, "[1,2,3]", NULL);
    ck_assert(json_is_array(r));
    ck_assert_int_eq(json_array_size(r), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_error(json_array_get(r, i), ETHD_RPC_INVALID_REQUEST);
        assert_id_null(json_array_get(r, i));
    }
    json_decref(r);
    /* empty batch: one error object, not an array */
    r = post(&f, " [ ] ", NULL);
    ck_assert(json_is_object(r));
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    assert_id_null(r);
    json_decref(r);
    /* params by name */
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test_echo\",\"params\":{\"a\":1}}", NULL);
    assert_error(r, ETHD_RPC_INVALID_PARAMS);
    ck_assert(strstr(err_msg(r), "params must be an array") != NULL);
    json_decref(r);
    ck_assert_int_eq(f.calls, 0);
    fx_free(&f);
}
END_TEST

START_TEST(test_batch_mixed)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f,
                     "[{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"test_echo\",\"params\":[1]},"
                     " {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_nope\"},"
                     " {\"jsonrpc\":\"2.0\",\"method\":\"test_echo\",\"params\":[\"n\"]},"
                     " {\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"test_fail\"},"
                     " {\"jsonrpc\":\"2.0\",\"method\":\"test_nope\"},"
                     " {\"foo\":1},"
                     " {\"jsonrpc\":\"2.0\",\"id\":3.5,\"method\":\"test_add\",\"params\":[1,1]}]",
                     NULL);
    ck_assert(json_is_array(r));
    ck_assert_int_eq(json_array_size(r), 5);
    json_t *a = json_array_get(r, 0);
    ck_assert_str_eq(json_string_value(json_object_get(a, "id")), "a");
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(a, "result"), 0)), 1);
    a = json_array_get(r, 1);
    assert_error(a, ETHD_RPC_METHOD_NOT_FOUND);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "id")), 2);
    a = json_array_get(r, 2);
    assert_error(a, -32010);
    assert_id_null(a);
    a = json_array_get(r, 3);
    assert_error(a, ETHD_RPC_INVALID_REQUEST);
    assert_id_null(a);
    a = json_array_get(r, 4);
    ck_assert(json_real_value(json_object_get(a, "id")) == 3.5);
    ck_assert_int_eq(json_integer_value(json_object_get(a, "result")), 2);
    ck_assert_int_eq(f.calls, 2); /* the notification ran too */
    json_decref(r);
    fx_free(&f);
}
END_TEST

START_TEST(test_notifications_only)
{
    struct fx f;
    fx_init(&f, true);
    struct resp r;
    const char *one = "{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\",\"params\":[]}";
    http_raw(&f, "POST", "application/json", one, strlen(one), &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    free(r.body);
    const char *batch = "[{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"test_nope\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"test_later\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\",\"params\":{\"a\":1}}]";
    http_raw(&f, "POST", "application/json", batch, strlen(batch), &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    free(r.body);
    ck_assert_int_eq(f.calls, 2);
    ck_assert_int_eq(f.async_completed, 1); /* the answer waited for the async one */
    fx_free(&f);
}
END_TEST

START_TEST(test_body_too_large)
{
    struct fx f;
    fx_init(&f, true);
    size_t n = MAX_BODY * 2;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "[", 1);
    big[n - 1] = ']';
    big[n] = '\0';
    struct resp r;
    http_raw(&f, "POST", "application/json", big, n, &r);
    ck_assert_int_eq(r.status, 413);
    free(r.body);
    free(big);
    /* the server still serves */
    json_t *j = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_add\",\"params\":[1,2]}", NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "result")), 3);
    json_decref(j);
    /* a body of exactly the limit is accepted */
    char *exact = malloc(MAX_BODY + 1);
    const char *call = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"test_null\"}";
    memset(exact, ' ', MAX_BODY);
    memcpy(exact, call, strlen(call));
    exact[MAX_BODY] = '\0';
    j = post(&f, exact, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), 7);
    json_decref(j);
    free(exact);
    fx_free(&f);
}
END_TEST

START_TEST(test_headers_too_large)
{
    struct fx f;
    fx_init(&f, true);
    size_t hn = 40000;
    char *hdr = malloc(hn + 32);
    strcpy(hdr, "X-Big: ");
    memset(hdr + 7, 'a', hn);
    strcpy(hdr + 7 + hn, "\r\n");
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_null\"}";
    size_t len;
    char *req = make_req("POST", "application/json", hdr, body, strlen(body), false, &len);
    int fd = client_connect(&f);
    struct resp r;
    exchange(&f, fd, req, len, &r);
    close(fd);
    ck_assert_msg(r.status == 0 || r.status >= 400, "status %d", r.status);
    free(r.body);
    free(req);
    free(hdr);
    json_t *j = post(&f, body, NULL);
    ck_assert(json_is_null(json_object_get(j, "result")));
    json_decref(j);
    fx_free(&f);
}
END_TEST

START_TEST(test_batch_limit)
{
    struct fx f;
    fx_init(&f, true);
    char body[4096] = "[";
    for (int i = 0; i < MAX_BATCH + 1; i++) {
        char item[96];
        snprintf(item, sizeof(item), "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"test_echo\"}",
                 i ? "," : "", i);
        strcat(body, item);
        if (i == MAX_BATCH - 1) {
            /* exactly max_batch: served */
            char ok[sizeof(body) + 2];
            snprintf(ok, sizeof(ok), "%s]", body);
            json_t *r = post(&f, ok, NULL);
            ck_assert_int_eq(json_array_size(r), MAX_BATCH);
            ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, 9), "id")), 9);
            json_decref(r);
        }
    }
    strcat(body, "]");
    int calls = f.calls;
    json_t *r = post(&f, body, NULL);
    ck_assert(json_is_object(r));
    assert_error(r, ETHD_RPC_INVALID_REQUEST);
    assert_id_null(r);
    ck_assert(strstr(err_msg(r), "batch too large") != NULL);
    ck_assert_int_eq(f.calls, calls); /* nothing ran */
    json_decref(r);
    fx_free(&f);
}
END_TEST

START_TEST(test_http_methods)
{
    struct fx f;
    fx_init(&f, true);
    struct resp r;
    http_raw(&f, "GET", NULL, "", 0, &r);
    ck_assert_int_eq(r.status, 405);
    ck_assert(strcasestr(r.head, "Allow: POST") != NULL);
    ck_assert(r.body_len > 0);
    free(r.body);
    http_raw(&f, "PUT", "application/json", "{}", 2, &r);
    ck_assert_int_eq(r.status, 405);
    free(r.body);
    http_raw(&f, "OPTIONS", NULL, "", 0, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strcasestr(r.head, "Allow: POST") != NULL);
    ck_assert(strcasestr(r.head, "Access-Control-Allow-Origin") == NULL);
    free(r.body);
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}";
    http_raw(&f, "POST", "text/plain", body, strlen(body), &r);
    ck_assert_int_eq(r.status, 415);
    free(r.body);
    ck_assert_int_eq(f.calls, 0);
    /* a charset parameter and no Content-Type at all are fine; any path too */
    http_raw(&f, "POST", "Application/JSON; charset=utf-8", body, strlen(body), &r);
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    http_raw(&f, "POST", NULL, body, strlen(body), &r);
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    ck_assert_int_eq(f.calls, 2);
    fx_free(&f);
}
END_TEST

START_TEST(test_method_errors)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_fail\"}", NULL);
    assert_error(r, -32010);
    ck_assert_str_eq(err_msg(r), "custom failure 7");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "data")), "d");
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_einval\"}", NULL);
    assert_error(r, ETHD_RPC_INVALID_PARAMS);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_eio\"}", NULL);
    assert_error(r, ETHD_RPC_INTERNAL_ERROR);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test_noresult\"}", NULL);
    assert_error(r, ETHD_RPC_INTERNAL_ERROR);
    json_decref(r);
    /* invalid UTF-8 in a method's message still gives valid JSON */
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"test_badutf8\"}", NULL);
    assert_error(r, -32012);
    ck_assert_str_eq(err_msg(r), "bad ?? bytes ??");
    json_decref(r);
    fx_free(&f);
}
END_TEST

START_TEST(test_async_http)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_later\"}", NULL);
    ck_assert_str_eq(json_string_value(json_object_get(r, "result")), "later");
    ck_assert_int_eq(f.async_completed, 1);
    json_decref(r);
    r = post(&f,
             "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_later\"},"
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_echo\",\"params\":[2]},"
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test_now\"},"
             "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"test_afail\"},"
             "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"test_later\"},"
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"test_aerr\"}]",
             NULL);
    ck_assert_int_eq(json_array_size(r), 6);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(r, i), "id")), i + 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "result")), "later");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 2), "result")), "now");
    assert_error(json_array_get(r, 3), -32011);
    ck_assert_str_eq(err_msg(json_array_get(r, 3)), "async refused");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 4), "result")), "later");
    assert_error(json_array_get(r, 5), ETHD_RPC_RESOURCE_UNAVAILABLE);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(json_array_get(r, 5), "error"), "data")), 5);
    ck_assert_int_eq(f.async_completed, 3);
    json_decref(r);
    fx_free(&f);
}
END_TEST

START_TEST(test_async_client_gone)
{
    struct fx f;
    fx_init(&f, true);
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_later\"}";
    size_t len;
    char *req = make_req("POST", "application/json", NULL, body, strlen(body), true, &len);
    int fd = client_connect(&f);
    ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    free(req);
    pump_until(&f, &f.async_started, 1);
    close(fd); /* the client hangs up before the answer */
    pump_until(&f, &f.async_completed, 1);
    pump(&f, 20); /* let the answer hit the closed socket */
    /* still serving */
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_later\"}", NULL);
    ck_assert_str_eq(json_string_value(json_object_get(r, "result")), "later");
    json_decref(r);
    /* the same with a reset (SO_LINGER 0) instead of a clean close */
    req = make_req("POST", "application/json", NULL, body, strlen(body), true, &len);
    fd = client_connect(&f);
    ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    free(req);
    pump_until(&f, &f.async_started, 3);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    pump_until(&f, &f.async_completed, 3);
    pump(&f, 20);
    fx_free(&f);
}
END_TEST

START_TEST(test_keepalive)
{
    struct fx f;
    fx_init(&f, true);
    int fd = client_connect(&f);
    for (int i = 0; i < 3; i++) {
        const char *body = i == 1 ? "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}"
                                  : "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_later\"}";
        size_t len;
        char *req = make_req("POST", "application/json", NULL, body, strlen(body), true, &len);
        struct resp r;
        exchange(&f, fd, req, len, &r);
        ck_assert_int_eq(r.status, 200);
        json_t *j = json_loads(r.body, 0, NULL);
        ck_assert_ptr_nonnull(json_object_get(j, "result"));
        json_decref(j);
        free(r.body);
        free(req);
    }
    close(fd);
    pump(&f, 5);
    fx_free(&f);
}
END_TEST

START_TEST(test_free_with_pending_http)
{
    struct fx f;
    fx_init(&f, true);
    const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_hold\"}";
    size_t len;
    char *req = make_req("POST", "application/json", NULL, body, strlen(body), false, &len);
    int fd = client_connect(&f);
    ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    free(req);
    pump_until(&f, &f.async_started, 1);
    ck_assert_int_eq(f.n_held, 1);
    ethd_rpc_server_free(f.srv);
    f.srv = NULL;
    /* the late answer is a harmless no-op (and must not leak under ASan) */
    ethd_rpc_call_done(f.held[0], json_string("too late"), NULL);
    /* the client sees the connection close without an answer */
    char c;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, WAIT_S * 1000), 1);
    ssize_t n = recv(fd, &c, 1, 0);
    ck_assert(n <= 0);
    close(fd);
    fx_free(&f);
}
END_TEST

/* ---- tests: dispatch ---------------------------------------------------- */

struct dres {
    int count;
    json_t *resp;
};

static void on_done(json_t *response, void *arg)
{
    struct dres *d = arg;
    d->count++;
    json_decref(d->resp);
    d->resp = response ? json_incref(response) : NULL;
}

static int dispatch(struct fx *f, const char *body, struct dres *d)
{
    return ethd_rpc_server_dispatch(f->srv, body, strlen(body), on_done, d);
}

/* An async method that never answers: after call_timeout the client gets
 * -32000 (the other items of its batch are answered normally), and the
 * method's late answer is dropped. */
START_TEST(test_async_timeout)
{
    struct fx f;
    fx_init_timeout(&f, false, 200);
    struct dres d = {0};
    ck_assert_int_eq(dispatch(&f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_hold\"},"
                                  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_add\","
                                  "\"params\":[1,2]}]", &d), 0);
    ck_assert_int_eq(d.count, 0);
    ck_assert_int_eq(f.n_held, 1);
    pump_until(&f, &d.count, 1);
    ck_assert(json_is_array(d.resp));
    ck_assert_uint_eq(json_array_size(d.resp), 2);
    json_t *held = json_array_get(d.resp, 0), *add = json_array_get(d.resp, 1);
    assert_error(held, ETHD_RPC_SERVER_ERROR);
    ck_assert_ptr_nonnull(strstr(err_msg(held), "did not answer within 200 ms"));
    ck_assert_int_eq(json_integer_value(json_object_get(add, "result")), 3);
    /* the late answer is dropped: no second done */
    ethd_rpc_call_done(f.held[0], json_string("too late"), NULL);
    ck_assert_int_eq(d.count, 1);
    /* a held notification times out silently */
    ck_assert_int_eq(dispatch(&f, "{\"jsonrpc\":\"2.0\",\"method\":\"test_hold\"}", &d), 0);
    pump_until(&f, &d.count, 2);
    ck_assert_ptr_null(d.resp);
    ethd_rpc_call_done(f.held[1], json_string("too late"), NULL);
    json_decref(d.resp);
    fx_free(&f);
}
END_TEST

START_TEST(test_dispatch)
{
    struct fx f;
    fx_init(&f, false);
    struct dres d = {0};
    ck_assert_int_eq(dispatch(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_add\",\"params\":[1,2]}", &d), 0);
    ck_assert_int_eq(d.count, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(d.resp, "result")), 3);
    ck_assert_int_eq(dispatch(&f, "{\"jsonrpc\":\"2.0\",\"method\":\"test_echo\"}", &d), 0);
    ck_assert_int_eq(d.count, 2);
    ck_assert_ptr_null(d.resp);
    ck_assert_int_eq(dispatch(&f, "nope", &d), 0);
    ck_assert_int_eq(d.count, 3);
    assert_error(d.resp, ETHD_RPC_PARSE_ERROR);
    /* async through the base */
    ck_assert_int_eq(dispatch(&f, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"test_later\"}", &d), 0);
    ck_assert_int_eq(d.count, 3);
    int want = 4;
    pump_until(&f, &d.count, want);
    ck_assert_str_eq(json_string_value(json_object_get(d.resp, "result")), "later");
    /* over the body limit: refused, done not called */
    char *big = malloc(MAX_BODY + 2);
    memset(big, ' ', MAX_BODY + 1);
    big[MAX_BODY + 1] = '\0';
    ck_assert_int_eq(dispatch(&f, big, &d), ETHD_ETOOBIG);
    free(big);
    ck_assert_int_eq(d.count, 4);
    ck_assert_int_eq(ethd_rpc_server_dispatch(f.srv, "x", 1, NULL, NULL), ETHD_EINVAL);
    json_decref(d.resp);
    fx_free(&f);
}
END_TEST

START_TEST(test_dispatch_free_pending)
{
    struct fx f;
    fx_init(&f, false);
    struct dres d = {0};
    ck_assert_int_eq(dispatch(&f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_hold\"},"
                                  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_null\"}]", &d), 0);
    ck_assert_int_eq(d.count, 0);
    ck_assert_int_eq(f.n_held, 1);
    ethd_rpc_server_free(f.srv);
    f.srv = NULL;
    /* done ran once, the pending item answered -32000 */
    ck_assert_int_eq(d.count, 1);
    ck_assert_int_eq(json_array_size(d.resp), 2);
    assert_error(json_array_get(d.resp, 0), ETHD_RPC_SERVER_ERROR);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(d.resp, 0), "id")), 1);
    ck_assert(json_is_null(json_object_get(json_array_get(d.resp, 1), "result")));
    struct ethd_rpc_error e = {.code = 1, .data = json_string("taken")};
    ethd_rpc_call_done(f.held[0], NULL, &e);
    ck_assert_int_eq(d.count, 1);
    json_decref(d.resp);
    fx_free(&f);
}
END_TEST

START_TEST(test_ids_preserved)
{
    struct fx f;
    fx_init(&f, true);
    const char *ids[] = {"\"abc\"", "7", "-1", "0", "9007199254740993", "1.5", "null", "\"\"",
                         "\"\\u00e9\\n\""};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"test_null\"}",
                 ids[i]);
        json_t *r = post(&f, body, NULL);
        json_t *want = json_loads(ids[i], JSON_DECODE_ANY, NULL);
        ck_assert_msg(json_equal(json_object_get(r, "id"), want), "id %s not preserved", ids[i]);
        ck_assert(json_is_null(json_object_get(r, "result")));
        json_decref(want);
        json_decref(r);
    }
    /* beyond int64: still a request (not a parse error) */
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,\"method\":\"test_null\"}",
                     NULL);
    ck_assert_ptr_null(json_object_get(r, "error"));
    ck_assert(json_is_number(json_object_get(r, "id")));
    json_decref(r);
    fx_free(&f);
}
END_TEST

START_TEST(test_registration)
{
    struct fx f;
    fx_init(&f, false);
    /* duplicate of a registered method */
    static const struct ethd_rpc_method dup[] = {{.name = "test_other", .fn = m_null},
                                                 {.name = "test_echo", .fn = m_null}};
    static const struct ethd_api dup_api = {"test", "1.0", dup, 2};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &dup_api, NULL, "dupper"), ETHD_EEXIST);
    ck_assert(strstr(ethd_rpc_server_error(f.srv), "test_echo") != NULL);
    ck_assert(strstr(ethd_rpc_server_error(f.srv), "tester") != NULL);
    /* nothing of the failed api was registered */
    struct dres d = {0};
    dispatch(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_other\"}", &d);
    assert_error(d.resp, ETHD_RPC_METHOD_NOT_FOUND);
    /* duplicate inside one api */
    static const struct ethd_rpc_method twice[] = {{.name = "web3_a", .fn = m_null},
                                                   {.name = "web3_a", .fn = m_null}};
    static const struct ethd_api twice_api = {"web3", "1.0", twice, 2};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &twice_api, NULL, "x"), ETHD_EEXIST);
    /* wrong prefix */
    static const struct ethd_rpc_method wrong[] = {{.name = "web3x_a", .fn = m_null}};
    static const struct ethd_api wrong_api = {"web3", "1.0", wrong, 1};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &wrong_api, NULL, "x"), ETHD_EINVAL);
    static const struct ethd_rpc_method bare[] = {{.name = "web3_", .fn = m_null}};
    static const struct ethd_api bare_api = {"web3", "1.0", bare, 1};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &bare_api, NULL, "x"), ETHD_EINVAL);
    /* both or neither of fn/async_fn */
    static const struct ethd_rpc_method both[] = {{.name = "web3_b", .fn = m_null, .async_fn = a_now}};
    static const struct ethd_api both_api = {"web3", "1.0", both, 1};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &both_api, NULL, "x"), ETHD_EINVAL);
    static const struct ethd_rpc_method none[] = {{.name = "web3_b"}};
    static const struct ethd_api none_api = {"web3", "1.0", none, 1};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &none_api, NULL, "x"), ETHD_EINVAL);
    /* the built-in namespace */
    static const struct ethd_rpc_method rpcm[] = {{.name = "rpc_modules", .fn = m_null}};
    static const struct ethd_api rpc_api = {"rpc", "1.0", rpcm, 1};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &rpc_api, NULL, "x"), ETHD_EEXIST);
    /* a good one after the failures; many methods grow the table */
    static struct ethd_rpc_method many[300];
    static char names[300][24];
    for (int i = 0; i < 300; i++) {
        snprintf(names[i], sizeof(names[i]), "web3_m%d", i);
        many[i] = (struct ethd_rpc_method){.name = names[i], .fn = m_echo};
    }
    static const struct ethd_api many_api = {"web3", "3.0", many, 300};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &many_api, &f, "many"), 0);
    dispatch(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"web3_m299\",\"params\":[9]}", &d);
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(d.resp, "result"), 0)), 9);
    dispatch(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_echo\"}", &d);
    ck_assert_ptr_nonnull(json_object_get(d.resp, "result"));
    dispatch(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc_modules\"}", &d);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d.resp, "result"), "web3")),
                     "3.0");
    json_decref(d.resp);
    fx_free(&f);
}
END_TEST

START_TEST(test_no_allow_list)
{
    struct event_base *base = event_base_new();
    struct ethd_rpc_server *srv;
    ck_assert_int_eq(ethd_rpc_server_new(base, NULL, &srv), 0);
    ck_assert_int_eq(ethd_rpc_server_add_api(srv, &secret_api, NULL, "hidden"), 0);
    struct dres d = {0};
    const char *b = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc_modules\"}";
    ck_assert_int_eq(ethd_rpc_server_dispatch(srv, b, strlen(b), on_done, &d), 0);
    json_t *m = json_object_get(d.resp, "result");
    ck_assert_str_eq(json_string_value(json_object_get(m, "secret")), "2.0");
    ck_assert_str_eq(json_string_value(json_object_get(m, "rpc")), "1.0");
    json_decref(d.resp);
    ethd_rpc_server_free(srv);
    event_base_free(base);
}
END_TEST

START_TEST(test_port_in_use)
{
    struct fx f;
    fx_init(&f, true);
    struct ethd_rpc_server *other;
    struct ethd_rpc_server_opts o = {.host = "127.0.0.1", .port = f.port};
    ck_assert_int_eq(ethd_rpc_server_new(f.base, &o, &other), 0);
    ck_assert_int_eq(ethd_rpc_server_start(other), ETHD_EIO);
    ck_assert_msg(strstr(ethd_rpc_server_error(other), "in use") != NULL, "message: %s",
                  ethd_rpc_server_error(other));
    ck_assert_uint_eq(ethd_rpc_server_port(other), 0);
    ethd_rpc_server_free(other);
    /* an unresolvable host is EIO with a message too */
    o.host = "not a host name";
    o.port = 0;
    ck_assert_int_eq(ethd_rpc_server_new(f.base, &o, &other), 0);
    ck_assert_int_eq(ethd_rpc_server_start(other), ETHD_EIO);
    ck_assert(strlen(ethd_rpc_server_error(other)) > 0);
    ethd_rpc_server_free(other);
    /* starting twice */
    ck_assert_int_eq(ethd_rpc_server_start(f.srv), ETHD_ESTATE);
    fx_free(&f);
}
END_TEST

START_TEST(test_logging)
{
    struct fx f;
    fx_init(&f, true);
    json_t *r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"test_echo\"}", NULL);
    json_decref(r);
    r = post(&f, "{\"jsonrpc\":\"2.0\",\"id\":43,\"method\":\"test_eio\"}", NULL);
    json_decref(r);
    /* the file sink is line-buffered */
    FILE *fp = fopen(f.logpath, "r");
    ck_assert_ptr_nonnull(fp);
    char line[2048];
    bool call = false, warn = false;
    while (fgets(line, sizeof(line), fp)) {
        if (strstr(line, "rpc call") && strstr(line, "method=test_echo") && strstr(line, "id=42"))
            call = true;
        if (strstr(line, "WARN") && strstr(line, "method=test_eio"))
            warn = true;
    }
    fclose(fp);
    ck_assert(call);
    ck_assert(warn);
    fx_free(&f);
}
END_TEST

START_TEST(test_fail_helper)
{
    struct ethd_rpc_error e = {0};
    char longmsg[600];
    memset(longmsg, 'x', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    ck_assert_int_eq(ethd_rpc_fail(&e, -32005, "%s", longmsg), ETHD_EINVAL);
    ck_assert_int_eq(e.code, -32005);
    ck_assert_uint_eq(strlen(e.message), ETHD_RPC_ERRMSG_MAX - 1);
}
END_TEST

START_TEST(test_concurrent_http)
{
    struct fx f;
    fx_init(&f, true);
    int fds[3];
    for (int i = 0; i < 3; i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"}", i,
                 i == 1 ? "test_hold" : "test_later");
        size_t len;
        char *req = make_req("POST", "application/json", NULL, body, strlen(body), false, &len);
        fds[i] = client_connect(&f);
        ck_assert_int_eq(send(fds[i], req, len, MSG_NOSIGNAL), (ssize_t)len);
        free(req);
    }
    pump_until(&f, &f.async_started, 3); /* all three are in flight together */
    ck_assert_int_eq(f.n_held, 1);
    for (int i = 2; i >= 0; i--) {
        if (i == 1)
            ethd_rpc_call_done(f.held[0], json_string("held"), NULL);
        struct resp r;
        exchange(&f, fds[i], "", 0, &r);
        ck_assert_int_eq(r.status, 200);
        json_t *j = json_loads(r.body, 0, NULL);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "id")), i);
        ck_assert_str_eq(json_string_value(json_object_get(j, "result")), i == 1 ? "held" : "later");
        json_decref(j);
        free(r.body);
        close(fds[i]);
    }
    fx_free(&f);
}
END_TEST

START_TEST(test_ipv6)
{
    struct event_base *base = event_base_new();
    struct ethd_rpc_server *srv;
    struct ethd_rpc_server_opts o = {.host = "::1"};
    ck_assert_int_eq(ethd_rpc_server_new(base, &o, &srv), 0);
    int rc = ethd_rpc_server_start(srv);
    if (rc != 0) {
        /* a host without IPv6: the failure must still be EIO with a reason */
        ck_assert_int_eq(rc, ETHD_EIO);
        ck_assert(strstr(ethd_rpc_server_error(srv), "::1") != NULL);
    } else {
        ck_assert_uint_ne(ethd_rpc_server_port(srv), 0);
        int fd = socket(AF_INET6, SOCK_STREAM, 0);
        struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                                 .sin6_port = htons(ethd_rpc_server_port(srv)),
                                 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
        const char *body = "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"rpc_modules\"}";
        size_t len;
        char *req = make_req("POST", "application/json", NULL, body, strlen(body), false, &len);
        struct fx f = {.base = base};
        struct resp r;
        exchange(&f, fd, req, len, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert(strstr(r.body, "\"rpc\":\"1.0\"") != NULL);
        free(r.body);
        free(req);
        close(fd);
    }
    ethd_rpc_server_free(srv);
    event_base_free(base);
}
END_TEST

START_TEST(test_dispatch_interleaved)
{
    struct fx f;
    fx_init(&f, false);
    struct dres d[3] = {{0}};
    for (int i = 0; i < 3; i++) {
        char body[96];
        snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"test_hold\"}", i);
        ck_assert_int_eq(dispatch(&f, body, &d[i]), 0);
    }
    ck_assert_int_eq(f.n_held, 3);
    int order[3] = {1, 0, 2}; /* middle, oldest, newest of the live list */
    for (int k = 0; k < 3; k++) {
        int i = order[k];
        ethd_rpc_call_done(f.held[i], json_integer(100 + i), NULL);
        ck_assert_int_eq(d[i].count, 1);
        ck_assert_int_eq(json_integer_value(json_object_get(d[i].resp, "id")), i);
        ck_assert_int_eq(json_integer_value(json_object_get(d[i].resp, "result")), 100 + i);
    }
    /* a batch of held calls answers once, after the last one, in item order */
    struct dres b = {0};
    f.n_held = 0;
    ck_assert_int_eq(dispatch(&f, "[{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"test_hold\"},"
                                  "{\"jsonrpc\":\"2.0\",\"method\":\"test_hold\"},"
                                  "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":\"test_hold\"}]", &b), 0);
    ck_assert_int_eq(f.n_held, 3);
    ethd_rpc_call_done(f.held[2], json_string("c"), NULL);
    ethd_rpc_call_done(f.held[1], json_string("b"), NULL);
    ck_assert_int_eq(b.count, 0);
    ethd_rpc_call_done(f.held[0], json_string("a"), NULL);
    ck_assert_int_eq(b.count, 1);
    ck_assert_int_eq(json_array_size(b.resp), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(b.resp, 0), "result")), "a");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(b.resp, 1), "id")), "q");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(b.resp, 1), "result")), "c");
    /* an async answer with neither result nor error, and one that answers
     * and then fails: each item still gets exactly one answer */
    struct dres c = {0};
    ck_assert_int_eq(dispatch(&f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test_anull\"},"
                                  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"test_atwice\"}]", &c), 0);
    ck_assert_int_eq(c.count, 1);
    ck_assert_int_eq(json_array_size(c.resp), 2);
    assert_error(json_array_get(c.resp, 0), ETHD_RPC_INTERNAL_ERROR);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(c.resp, 1), "result")), "first");
    for (int i = 0; i < 3; i++)
        json_decref(d[i].resp);
    json_decref(b.resp);
    json_decref(c.resp);
    fx_free(&f);
}
END_TEST

START_TEST(test_message_utf8)
{
    struct fx f;
    fx_init(&f, false);
    /* "a" + 100 x U+00E9: the quoted name is cut at 128 bytes, inside a
     * two-byte sequence, which must come out as '?' rather than bad UTF-8 */
    char name[512] = "a";
    for (int i = 0; i < 100; i++)
        strcat(name, "\xc3\xa9");
    strcat(name, "\xe2\x82\xac\xf0\x9f\x98\x80");
    char body[1024];
    snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"}", name);
    struct dres d = {0};
    ck_assert_int_eq(dispatch(&f, body, &d), 0);
    assert_error(d.resp, ETHD_RPC_METHOD_NOT_FOUND);
    const char *m = err_msg(d.resp);
    ck_assert(strstr(m, "a\xc3\xa9\xc3\xa9") != NULL);
    ck_assert(strstr(m, "\xc3\xa9? does not exist") != NULL);
    /* short names keep 3- and 4-byte characters */
    snprintf(body, sizeof(body),
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\xe2\x82\xac\xf0\x9f\x98\x80\"}");
    ck_assert_int_eq(dispatch(&f, body, &d), 0);
    ck_assert(strstr(err_msg(d.resp), "x\xe2\x82\xac\xf0\x9f\x98\x80 does not") != NULL);
    json_decref(d.resp);
    fx_free(&f);
}
END_TEST

START_TEST(test_bad_namespace)
{
    struct fx f;
    fx_init(&f, false);
    static const struct ethd_rpc_method m1[] = {{.name = "bad-ns_x", .fn = m_null}};
    static const struct ethd_api a1 = {"bad-ns", "1.0", m1, 1};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &a1, NULL, "x"), ETHD_EINVAL);
    ck_assert(strstr(ethd_rpc_server_error(f.srv), "bad-ns") != NULL);
    static const struct ethd_api a2 = {"", "1.0", m1, 1};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &a2, NULL, "x"), ETHD_EINVAL);
    static const struct ethd_api a3 = {"web3", "1.0", NULL, 2};
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &a3, NULL, "x"), ETHD_EINVAL);
    static const struct ethd_api a4 = {"web3", "1.0", NULL, 0}; /* no methods: fine */
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, &a4, NULL, NULL), 0);
    ck_assert_int_eq(ethd_rpc_server_add_api(f.srv, NULL, NULL, "x"), ETHD_EINVAL);
    fx_free(&f);
}
END_TEST

static Suite *rpc_suite(void)
{
    Suite *s = suite_create("rpc");
    TCase *h = tcase_create("http");
    tcase_add_test(h, test_single_success);
    tcase_add_test(h, test_params);
    tcase_add_test(h, test_method_not_found);
    tcase_add_test(h, test_namespace_allow_list);
    tcase_add_test(h, test_parse_errors);
    tcase_add_test(h, test_invalid_requests);
    tcase_add_test(h, test_batch_mixed);
    tcase_add_test(h, test_notifications_only);
    tcase_add_test(h, test_body_too_large);
    tcase_add_test(h, test_headers_too_large);
    tcase_add_test(h, test_batch_limit);
    tcase_add_test(h, test_http_methods);
    tcase_add_test(h, test_method_errors);
    tcase_add_test(h, test_ids_preserved);
    tcase_add_test(h, test_keepalive);
    tcase_add_test(h, test_port_in_use);
    tcase_add_test(h, test_logging);
    tcase_add_test(h, test_ipv6);
    suite_add_tcase(s, h);
    TCase *a = tcase_create("async");
    tcase_add_test(a, test_async_http);
    tcase_add_test(a, test_async_client_gone);
    tcase_add_test(a, test_free_with_pending_http);
    tcase_add_test(a, test_dispatch_free_pending);
    tcase_add_test(a, test_concurrent_http);
    tcase_add_test(a, test_dispatch_interleaved);
    suite_add_tcase(s, a);
    TCase *d = tcase_create("dispatch");
    tcase_add_test(d, test_dispatch);
    tcase_add_test(d, test_async_timeout);
    tcase_add_test(d, test_registration);
    tcase_add_test(d, test_no_allow_list);
    tcase_add_test(d, test_fail_helper);
    tcase_add_test(d, test_message_utf8);
    tcase_add_test(d, test_bad_namespace);
    suite_add_tcase(s, d);
    return s;
}

int main(void)
{
    /* A client that hangs up makes the server's write fail; the node ignores
     * SIGPIPE the same way. */
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(rpc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
