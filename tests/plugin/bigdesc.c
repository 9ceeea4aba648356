/* A plugin built against a "newer SDK": its descriptor is larger than ours. */
#include <ethd/plugin.h>
#include <stdlib.h>
static int bigdesc_init(struct ethd_registry *reg) { (void)reg; abort(); }
struct bigger {
    struct ethd_plugin base;
    void *more[8];
};
const struct bigger ethd_plugin_descriptor = {
    {ETHD_ABI_VERSION, sizeof(struct bigger), "bigdesc", "0", "newer SDK", bigdesc_init, {0}}, {0}};
