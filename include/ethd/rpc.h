/* JSON-RPC 2.0 methods that services contribute through their APIs hook.
 * JSON values are jansson's json_t. */
#ifndef ETHD_RPC_H
#define ETHD_RPC_H
#include <jansson.h>
#include <stddef.h>

/* JSON-RPC 2.0 error codes (spec section 5.1) and the execution-apis ones. */
enum {
    ETHD_RPC_PARSE_ERROR = -32700,
    ETHD_RPC_INVALID_REQUEST = -32600,
    ETHD_RPC_METHOD_NOT_FOUND = -32601,
    ETHD_RPC_INVALID_PARAMS = -32602,
    ETHD_RPC_INTERNAL_ERROR = -32603,
    ETHD_RPC_SERVER_ERROR = -32000, /* generic server-side failure */
    ETHD_RPC_RESOURCE_UNAVAILABLE = -32002,
};

#define ETHD_RPC_ERRMSG_MAX 256

/* Error a method fills when it fails. `data` (optional) is taken by the server. */
struct ethd_rpc_error {
    int code;
    char message[ETHD_RPC_ERRMSG_MAX];
    json_t *data;
};

/* Fill `err` with code and printf-style message; returns ETHD_EINVAL so a
 * method can `return ethd_rpc_fail(err, ETHD_RPC_INVALID_PARAMS, "...")`. */
int ethd_rpc_fail(struct ethd_rpc_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct ethd_rpc_call; /* an in-flight asynchronous call */

/* A method answers synchronously through `fn`, or later through `async_fn`
 * (exactly one of them is set).
 *
 * fn: `params` is borrowed (always an array; positional params, [] when
 * absent). Return 0 and set *result (taken by the server; json_null() for
 * null), or return a negative code and fill *err (if err->code is left 0 the
 * server answers -32602 for ETHD_EINVAL and -32603 otherwise).
 *
 * async_fn: `params` is borrowed only during the call (json_incref it to keep
 * it). Return 0 and later call ethd_rpc_call_done() exactly once from the
 * loop thread; or return an error (filling *err) and never call it. `self` is
 * the service instance that exported the API. */
struct ethd_rpc_method {
    const char *name; /* full name: "example_echo" */
    int (*fn)(void *self, json_t *params, json_t **result, struct ethd_rpc_error *err);
    int (*async_fn)(void *self, json_t *params, struct ethd_rpc_call *call,
                    struct ethd_rpc_error *err);
};

/* Complete an async call: result (taken) on success, or err (copied, its data
 * taken) when result is NULL. The call handle is freed by this function. If the
 * HTTP client went away meanwhile, the answer is dropped. */
void ethd_rpc_call_done(struct ethd_rpc_call *call, json_t *result,
                        const struct ethd_rpc_error *err);

/* A namespace of methods. Borrowed from the service until its destroy hook. */
struct ethd_api {
    const char *namespace; /* "example": every method name starts with "example_" */
    const char *version;   /* shown by rpc_modules: "1.0" */
    const struct ethd_rpc_method *methods;
    size_t n_methods;
};

#endif
