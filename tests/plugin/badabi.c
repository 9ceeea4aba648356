/* A plugin that claims to be built for another ABI. Its init must never run. */
#include <ethd/plugin.h>
#include <stdlib.h>
static int badabi_init(struct ethd_registry *reg) { (void)reg; abort(); }
const struct ethd_plugin ethd_plugin_descriptor = {
    ETHD_ABI_VERSION + 998, sizeof(struct ethd_plugin), "badabi", "0", "wrong ABI", badabi_init, {0}};
