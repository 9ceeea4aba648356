/* Plugin loader on libltdl. Internal to core.
 *
 * Search order for plugin NAME: each directory of the configuration's
 * plugins.path, then of $ETHD_PLUGIN_PATH (colon-separated), then (only for
 * an ethd running uninstalled from its build tree) that tree's plugins/NAME/
 * directories, then the installed plugin directory. In each, NAME.la (libtool) then NAME.so. */
#ifndef ETHD_CORE_LOADER_H
#define ETHD_CORE_LOADER_H
#include "registry.h"
#include <ethd/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct ethd_loaded_plugin {
    char *name;
    char *file;                           /* full path it was loaded from */
    const struct ethd_plugin *desc;       /* borrowed from the loaded object */
    void *handle;                         /* lt_dlhandle */
};

struct ethd_loader {
    char **dirs; /* search path, in order */
    size_t n_dirs;
    struct ethd_loaded_plugin *plugins;
    size_t n_plugins, cap;
    bool lt_ready;
};

/* Build the search path from `extra` (may be NULL/0), $ETHD_PLUGIN_PATH and the
 * installed directory. Strings are copied. */
int ethd_loader_init(struct ethd_loader *ld, const char *const *extra, size_t n_extra);
/* Unload every plugin (in reverse load order) and free the loader. */
void ethd_loader_free(struct ethd_loader *ld);

/* Find, open and check plugin `name`, then call its init() with `reg`.
 * Errors (message in err, always naming the file or the directories searched):
 * ETHD_ENOTFOUND not found; ETHD_EINVAL not a plugin (no descriptor), or
 * descriptor malformed; ETHD_EABI wrong ABI or a descriptor larger than this
 * core knows; the init() code when init fails; ETHD_EEXIST when listed twice
 * or a service name is taken. */
int ethd_loader_load(struct ethd_loader *ld, const char *name, struct ethd_registry *reg,
                     char *err, size_t errlen);

struct ethd_plugin_info {
    char name[64];
    char version[32];
    char description[200];
};

/* Open and check a plugin file without calling init, copy its descriptor
 * strings into *info, and close it again (for `ethd plugins`). */
int ethd_loader_probe(struct ethd_loader *ld, const char *file, struct ethd_plugin_info *info,
                      char *err, size_t errlen);

/* Call fn for every candidate plugin file in the search path (first
 * occurrence of each name wins), in directory then name order. */
typedef void (*ethd_loader_list_fn)(const char *name, const char *file, void *arg);
void ethd_loader_list(struct ethd_loader *ld, ethd_loader_list_fn fn, void *arg);

#endif
