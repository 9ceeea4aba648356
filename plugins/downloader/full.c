/* Plugin "downloader-full": headers, bodies and receipts (downloader.h). */
#include "downloader.h"

extern const struct ethd_service_ops ethd_dl_full_service;

static int full_init(struct ethd_registry *reg)
{
    return ethd_registry_add_service(reg, &ethd_dl_full_service);
}

ETHD_PLUGIN_DEFINE("downloader-full", "1.0.0",
                   "Full sync: header skeleton + fill, bodies and receipts from all peers",
                   full_init);
