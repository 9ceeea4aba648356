/* Service-type registry filled by plugins' init(). Internal to core. */
#ifndef ETHD_CORE_REGISTRY_H
#define ETHD_CORE_REGISTRY_H
#include <ethd/plugin.h>
#include <stddef.h>

struct ethd_service_type {
    const struct ethd_service_ops *ops; /* borrowed from the plugin */
    const char *plugin;                 /* name of the plugin that registered it (borrowed) */
};

struct ethd_registry {
    struct ethd_service_type *types;
    size_t n, cap;
    const char *current_plugin; /* set by the loader around init() */
    char err[256];              /* why the last registration failed */
};

void ethd_registry_init(struct ethd_registry *reg);
void ethd_registry_free(struct ethd_registry *reg);
/* Borrowed; NULL if no plugin registered `name`. */
const struct ethd_service_type *ethd_registry_find(const struct ethd_registry *reg,
                                                   const char *name);

#endif
