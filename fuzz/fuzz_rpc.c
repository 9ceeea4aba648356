/* libFuzzer target: bytes as an HTTP body for ethd_rpc_server_dispatch, on a
 * server (never started) with sync, failing and async methods. Checks that
 * `done` runs exactly once with valid JSON-RPC answers, including when async
 * calls finish after dispatch returns or after the server is freed. */
#include "rpc/server.h"

#include <ethd/error.h>

#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HELD 64

struct state {
    struct ethd_rpc_call *held[MAX_HELD];
    size_t n_held;
    int done_calls;
};

static int m_echo(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    *result = json_incref(params);
    return 0;
}

static int m_error(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err)
{
    if (json_array_size(params) == 0)
        return ETHD_EIO;
    err->data = json_deep_copy(params);
    return ethd_rpc_fail(err, -32005, "failed with %zu params", json_array_size(params));
}

static int a_hold(void *self, json_t *params, struct ethd_rpc_call *call,
                  struct ethd_rpc_error *err)
{
    struct state *st = self;
    if (st->n_held == MAX_HELD)
        return ethd_rpc_fail(err, ETHD_RPC_RESOURCE_UNAVAILABLE, "busy");
    st->held[st->n_held++] = call;
    return 0;
}

static int a_now(void *self, json_t *params, struct ethd_rpc_call *call,
                 struct ethd_rpc_error *err)
{
    ethd_rpc_call_done(call, json_string("now"), NULL);
    return 0;
}

static const struct ethd_rpc_method methods[] = {
    {.name = "fz_echo", .fn = m_echo},
    {.name = "fz_error", .fn = m_error},
    {.name = "fz_hold", .async_fn = a_hold},
    {.name = "fz_now", .async_fn = a_now},
};
static const struct ethd_api api = {"fz", "1.0", methods, 4};
static const struct ethd_rpc_method hidden_methods[] = {{.name = "hidden_echo", .fn = m_echo}};
static const struct ethd_api hidden = {"hidden", "1.0", hidden_methods, 1};
static const char *const allow[] = {"fz"};

static void check_answer(json_t *a)
{
    if (!json_is_object(a) || !json_object_get(a, "id") ||
        strcmp(json_string_value(json_object_get(a, "jsonrpc")), "2.0") != 0)
        abort();
    json_t *e = json_object_get(a, "error");
    if (!json_object_get(a, "result") == !e)
        abort();
    if (e && (!json_is_integer(json_object_get(e, "code")) ||
              !json_is_string(json_object_get(e, "message"))))
        abort();
}

static void on_done(json_t *resp, void *arg)
{
    struct state *st = arg;
    st->done_calls++;
    if (!resp)
        return;
    if (json_is_array(resp)) {
        if (json_array_size(resp) == 0)
            abort();
        for (size_t i = 0; i < json_array_size(resp); i++)
            check_answer(json_array_get(resp, i));
    } else {
        check_answer(resp);
    }
    char *s = json_dumps(resp, JSON_COMPACT);
    if (!s)
        abort();
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct event_base *base;
    if (!base)
        base = event_base_new();
    struct state st = {0};
    struct ethd_rpc_server_opts o = {.max_body = 1 << 16, .max_batch = 100,
                                     .namespaces = allow, .n_namespaces = 1};
    struct ethd_rpc_server *srv;
    if (ethd_rpc_server_new(base, &o, &srv) < 0)
        return 0;
    ethd_rpc_server_add_api(srv, &api, &st, "fuzz");
    ethd_rpc_server_add_api(srv, &hidden, &st, "fuzz");
    int rc = ethd_rpc_server_dispatch(srv, (const char *)data, size, on_done, &st);
    if (rc < 0 && rc != ETHD_ETOOBIG)
        abort();
    /* Finish held calls in reverse order; on odd sizes free the server first
     * so the late answers take the dropped path. */
    bool free_first = size & 1;
    if (free_first)
        ethd_rpc_server_free(srv);
    for (size_t i = st.n_held; i-- > 0;) {
        if (i & 1) {
            struct ethd_rpc_error e = {.code = -32001, .data = json_true()};
            strcpy(e.message, "late failure");
            ethd_rpc_call_done(st.held[i], NULL, &e);
        } else {
            ethd_rpc_call_done(st.held[i], json_integer((json_int_t)i), NULL);
        }
    }
    if (!free_first)
        ethd_rpc_server_free(srv);
    if (st.done_calls != (rc == 0 ? 1 : 0))
        abort();
    return 0;
}
