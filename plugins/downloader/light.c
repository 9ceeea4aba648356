/* Plugin "downloader-light": verified headers only (downloader.h). */
#include "downloader.h"

extern const struct ethd_service_ops ethd_dl_light_service;

static int light_init(struct ethd_registry *reg)
{
    return ethd_registry_add_service(reg, &ethd_dl_light_service);
}

ETHD_PLUGIN_DEFINE("downloader-light", "1.0.0",
                   "Light sync: header skeleton + fill with clique verification, headers only",
                   light_init);
