/* A plugin registering a service name the lifecycle plugin already uses. */
#include <ethd/plugin.h>
static int nop_create(struct ethd_service_ctx *ctx, void **self) { (void)ctx; *self = 0; return 0; }
static void nop_destroy(void *self) { (void)self; }
static const struct ethd_service_ops ops = {sizeof(struct ethd_service_ops), "lc-a", nop_create,
                                            0, 0, 0, 0, nop_destroy};
static int dup_init(struct ethd_registry *reg) { return ethd_registry_add_service(reg, &ops); }
ETHD_PLUGIN_DEFINE("dupservice", "0", "registers lc-a again", dup_init);
