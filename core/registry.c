/* Service-type registry. Plugins add types from init(); the node looks them
 * up by the names listed under `services:` in the configuration. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The oldest service-ops layout the core accepts: up to and including destroy. */
#define OPS_MIN_SIZE (offsetof(struct ethd_service_ops, destroy) + sizeof(void (*)(void *)))

void ethd_registry_init(struct ethd_registry *reg)
{
    memset(reg, 0, sizeof(*reg));
}

void ethd_registry_free(struct ethd_registry *reg)
{
    free(reg->types);
    memset(reg, 0, sizeof(*reg));
}

const struct ethd_service_type *ethd_registry_find(const struct ethd_registry *reg,
                                                   const char *name)
{
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->types[i].ops->name, name) == 0)
            return &reg->types[i];
    return NULL;
}

int ethd_registry_add_service(struct ethd_registry *reg, const struct ethd_service_ops *ops)
{
    const char *plugin = reg->current_plugin ? reg->current_plugin : "?";
    if (!ops || !ops->name || !*ops->name) {
        snprintf(reg->err, sizeof(reg->err), "a service has no name");
        return ETHD_EINVAL;
    }
    if (ops->struct_size < OPS_MIN_SIZE || ops->struct_size > sizeof(struct ethd_service_ops)) {
        snprintf(reg->err, sizeof(reg->err),
                 "service '%s' has an ops struct of %u bytes; this ethd accepts %zu to %zu",
                 ops->name, ops->struct_size, (size_t)OPS_MIN_SIZE,
                 sizeof(struct ethd_service_ops));
        return ETHD_EABI;
    }
    if (!ops->create || !ops->destroy) {
        snprintf(reg->err, sizeof(reg->err), "service '%s' lacks a create or destroy hook",
                 ops->name);
        return ETHD_EINVAL;
    }
    const struct ethd_service_type *dup = ethd_registry_find(reg, ops->name);
    if (dup) {
        snprintf(reg->err, sizeof(reg->err), "service '%s' is already registered by plugin '%s'",
                 ops->name, dup->plugin);
        return ETHD_EEXIST;
    }
    if (reg->n == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 8;
        struct ethd_service_type *t = realloc(reg->types, cap * sizeof(*t));
        if (!t)
            return ETHD_ENOMEM;
        reg->types = t;
        reg->cap = cap;
    }
    reg->types[reg->n++] = (struct ethd_service_type){.ops = ops, .plugin = plugin};
    return 0;
}
