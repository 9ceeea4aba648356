/* Test plugin "lifecycle": three identical services lc-a, lc-b, lc-c that
 * append every hook call to a trace file, and fail, publish or look up
 * interfaces on request. Used by tests/unit/test_node.c and the integration
 * tests to check ordering and unwinding. Settings (all optional):
 *   trace: FILE         append "<hook> <service>" lines
 *   fail: create|start|stop   make that hook fail
 *   publish: name/N     publish an interface at create
 *   lookup: name/N      look one up at start (failure fails start)
 *   start_delay: DUR    sleep in start (to signal the node mid start-up) */
#include <ethd/ethd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lc {
    struct ethd_service_ctx *ctx;
    const char *trace, *fail, *lookup;
    uint64_t delay_ms;
};

static const int lc_iface = 42; /* any non-NULL interface pointer */

static void trace(struct lc *lc, const char *hook)
{
    if (!lc->trace || !*lc->trace)
        return;
    FILE *f = fopen(lc->trace, "a");
    if (f) {
        fprintf(f, "%s %s\n", hook, ethd_ctx_name(lc->ctx));
        fclose(f);
    }
}

static int lc_create(struct ethd_service_ctx *ctx, void **self)
{
    struct lc *lc = calloc(1, sizeof(*lc));
    if (!lc)
        return ETHD_ENOMEM;
    lc->ctx = ctx;
    const struct ethd_conf *c = ethd_ctx_config(ctx);
    const char *publish = NULL;
    int rc = ethd_conf_string(c, "trace", NULL, &lc->trace);
    if (!rc)
        rc = ethd_conf_string(c, "fail", "", &lc->fail);
    if (!rc)
        rc = ethd_conf_string(c, "publish", NULL, &publish);
    if (!rc)
        rc = ethd_conf_string(c, "lookup", NULL, &lc->lookup);
    if (!rc)
        rc = ethd_conf_duration(c, "start_delay", 0, &lc->delay_ms);
    if (rc) {
        free(lc);
        return rc;
    }
    trace(lc, "create");
    if (strcmp(lc->fail, "create") == 0) {
        ethd_ctx_set_error(ctx, "asked to fail at create");
        free(lc);
        return ETHD_EINVAL;
    }
    if (publish && (rc = ethd_ctx_publish(ctx, publish, &lc_iface, lc))) {
        free(lc);
        return rc;
    }
    *self = lc;
    return 0;
}

static int lc_start(void *self, struct ethd_p2p_server *srv)
{
    struct lc *lc = self;
    (void)srv;
    trace(lc, "start");
    if (lc->delay_ms) {
        struct timespec ts = {(time_t)(lc->delay_ms / 1000), (long)(lc->delay_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0) {
        }
    }
    if (lc->lookup) {
        const void *iface;
        void *impl;
        int rc = ethd_ctx_lookup(lc->ctx, lc->lookup, &iface, &impl);
        if (rc)
            return rc;
        trace(lc, "found");
    }
    if (strcmp(lc->fail, "start") == 0) {
        ethd_ctx_set_error(lc->ctx, "asked to fail at start");
        return ETHD_EIO;
    }
    return 0;
}

static int lc_stop(void *self)
{
    struct lc *lc = self;
    trace(lc, "stop");
    return strcmp(lc->fail, "stop") == 0 ? ETHD_EIO : 0;
}

static void lc_destroy(void *self)
{
    struct lc *lc = self;
    trace(lc, "destroy");
    free(lc);
}

#define LC_OPS(NAME)                                                                           \
    {                                                                                          \
        .struct_size = sizeof(struct ethd_service_ops), .name = NAME, .create = lc_create,     \
        .start = lc_start, .stop = lc_stop, .destroy = lc_destroy                              \
    }
static const struct ethd_service_ops lc_ops[] = {LC_OPS("lc-a"), LC_OPS("lc-b"), LC_OPS("lc-c")};

static int lc_init(struct ethd_registry *reg)
{
    for (size_t i = 0; i < sizeof(lc_ops) / sizeof(*lc_ops); i++) {
        int rc = ethd_registry_add_service(reg, &lc_ops[i]);
        if (rc)
            return rc;
    }
    return 0;
}

ETHD_PLUGIN_DEFINE("lifecycle", "0.1", "test services that trace their hooks", lc_init);
