/* A plugin whose init fails after registering a service. */
#include <ethd/plugin.h>
static int nop_create(struct ethd_service_ctx *ctx, void **self) { (void)ctx; *self = 0; return 0; }
static void nop_destroy(void *self) { (void)self; }
static const struct ethd_service_ops ops = {sizeof(struct ethd_service_ops), "initfail-svc",
                                            nop_create, 0, 0, 0, 0, nop_destroy};
static int initfail_init(struct ethd_registry *reg)
{
    ethd_registry_add_service(reg, &ops);
    return ETHD_EINVAL;
}
ETHD_PLUGIN_DEFINE("initfail", "0", "init fails", initfail_init);
