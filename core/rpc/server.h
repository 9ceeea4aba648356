/* JSON-RPC 2.0 over HTTP (libevent evhttp + jansson). Internal to core.
 *
 * The server dispatches single and batch requests to methods of registered
 * APIs, answers rpc_modules itself, and only serves namespaces on its
 * allow-list. All calls are made from the loop thread. */
#ifndef ETHD_CORE_RPC_SERVER_H
#define ETHD_CORE_RPC_SERVER_H
#include <ethd/log.h>
#include <ethd/rpc.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ethd_rpc_server;

struct ethd_rpc_server_opts {
    const char *host;                /* default "127.0.0.1" */
    uint16_t port;                   /* 0 = pick a free port (see ethd_rpc_server_port) */
    size_t max_body;                 /* request body limit in bytes; 0 = 5 MiB */
    size_t max_batch;                /* items per batch; 0 = 1000 */
    uint64_t call_timeout_ms;        /* async methods answer by then or get -32000; 0 = 30 s */
    const char *const *namespaces;   /* allow-list; NULL = every registered namespace */
    size_t n_namespaces;
    const struct ethd_logger *log;   /* borrowed; may be NULL */
};

/* *out: caller frees with ethd_rpc_server_free. Options are copied. */
int ethd_rpc_server_new(struct event_base *base, const struct ethd_rpc_server_opts *opts,
                        struct ethd_rpc_server **out);
/* Register an API whose methods are called with `self`. `api` is borrowed
 * until the server is freed; `owner` (service name) is copied. ETHD_EEXIST
 * (with message) if a method name is already registered, ETHD_EINVAL if a
 * method's name does not start with "<namespace>_". */
int ethd_rpc_server_add_api(struct ethd_rpc_server *srv, const struct ethd_api *api, void *self,
                            const char *owner);
/* Bind and listen. ETHD_EIO if the address cannot be bound (message via
 * ethd_rpc_server_error). */
int ethd_rpc_server_start(struct ethd_rpc_server *srv);
uint16_t ethd_rpc_server_port(const struct ethd_rpc_server *srv);
/* Message of the last failure; borrowed. */
const char *ethd_rpc_server_error(const struct ethd_rpc_server *srv);
/* Closes the listener and every connection; pending async calls are dropped
 * (their later ethd_rpc_call_done calls are harmless no-ops). */
void ethd_rpc_server_free(struct ethd_rpc_server *srv);

/* Handle one HTTP body in-process, exactly as a POST would be: `done` is
 * called once with the response (borrowed for the call; NULL when the
 * request held only notifications). Used by tests and by the fuzz target. */
typedef void (*ethd_rpc_done_fn)(json_t *response, void *arg);
int ethd_rpc_server_dispatch(struct ethd_rpc_server *srv, const char *body, size_t len,
                             ethd_rpc_done_fn done, void *arg);

#endif
