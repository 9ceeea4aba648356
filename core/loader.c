/* Plugin loader on libltdl: search, open, check the descriptor, call init.
 * The descriptor is checked before anything in the plugin runs (nginx checks
 * its module signature the same way): a plugin built for another ABI, or
 * against a newer SDK whose descriptor is larger than ours, is refused with a
 * message naming the file. */
#include "loader.h"

#include <dirent.h>
#include <errno.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef ETHD_PLUGIN_DIR
#define ETHD_PLUGIN_DIR "/usr/local/lib/ethd/plugins"
#endif

/* Smallest descriptor we can read: everything up to and including init. */
#define DESC_MIN_SIZE (offsetof(struct ethd_plugin, init) + sizeof(void *))

static int add_dir(struct ethd_loader *ld, const char *d, size_t n)
{
    if (n == 0)
        return 0;
    char **dirs = realloc(ld->dirs, (ld->n_dirs + 1) * sizeof(*dirs));
    if (!dirs)
        return ETHD_ENOMEM;
    ld->dirs = dirs;
    if (!(dirs[ld->n_dirs] = strndup(d, n)))
        return ETHD_ENOMEM;
    ld->n_dirs++;
    return 0;
}

/* An ethd that runs uninstalled, from its build tree, also searches that
 * tree's plugins/<name>/ directories, so `./ethd` works right after `make`.
 * An installed binary never does. */
static int add_build_tree_dirs(struct ethd_loader *ld)
{
#ifdef ETHD_BUILD_TREE
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    size_t tree_len = strlen(ETHD_BUILD_TREE);
    if (n <= 0 || (size_t)n <= tree_len)
        return 0;
    exe[n] = '\0';
    if (strncmp(exe, ETHD_BUILD_TREE, tree_len) != 0 || exe[tree_len] != '/')
        return 0;
    char *plugins;
    if (asprintf(&plugins, "%s/plugins", ETHD_BUILD_TREE) < 0)
        return ETHD_ENOMEM;
    DIR *dir = opendir(plugins);
    int rc = 0;
    struct dirent *de;
    while (dir && !rc && (de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        char *sub;
        if (asprintf(&sub, "%s/%s", plugins, de->d_name) < 0) {
            rc = ETHD_ENOMEM;
            break;
        }
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            rc = add_dir(ld, sub, strlen(sub));
        free(sub);
    }
    if (dir)
        closedir(dir);
    free(plugins);
    return rc;
#else
    (void)ld;
    return 0;
#endif
}

int ethd_loader_init(struct ethd_loader *ld, const char *const *extra, size_t n_extra)
{
    memset(ld, 0, sizeof(*ld));
    int rc = 0;
    for (size_t i = 0; i < n_extra && !rc; i++)
        rc = add_dir(ld, extra[i], strlen(extra[i]));
    const char *env = getenv("ETHD_PLUGIN_PATH");
    while (env && *env && !rc) {
        const char *colon = strchr(env, ':');
        size_t n = colon ? (size_t)(colon - env) : strlen(env);
        rc = add_dir(ld, env, n);
        env = colon ? colon + 1 : NULL;
    }
    if (!rc)
        rc = add_build_tree_dirs(ld);
    if (!rc)
        rc = add_dir(ld, ETHD_PLUGIN_DIR, strlen(ETHD_PLUGIN_DIR));
    if (!rc && lt_dlinit() != 0)
        rc = ETHD_EIO;
    if (rc) {
        ethd_loader_free(ld);
        return rc;
    }
    ld->lt_ready = true;
    return 0;
}

void ethd_loader_free(struct ethd_loader *ld)
{
    for (size_t i = ld->n_plugins; i-- > 0;) {
        lt_dlclose((lt_dlhandle)ld->plugins[i].handle);
        free(ld->plugins[i].name);
        free(ld->plugins[i].file);
    }
    free(ld->plugins);
    for (size_t i = 0; i < ld->n_dirs; i++)
        free(ld->dirs[i]);
    free(ld->dirs);
    if (ld->lt_ready)
        lt_dlexit();
    memset(ld, 0, sizeof(*ld));
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool valid_name(const char *name)
{
    if (!*name || strlen(name) > 63)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

/* Open `file` and validate its descriptor. On success *h and *desc are set. */
static int open_checked(const char *file, lt_dlhandle *h, const struct ethd_plugin **desc,
                        char *err, size_t errlen)
{
    lt_dlhandle handle = lt_dlopen(file);
    if (!handle) {
        const char *why = lt_dlerror();
        snprintf(err, errlen, "plugin %s: cannot be loaded: %s", file, why ? why : "unknown error");
        return ETHD_EINVAL;
    }
    const struct ethd_plugin *d = lt_dlsym(handle, ETHD_PLUGIN_SYMBOL);
    int rc = 0;
    if (!d) {
        snprintf(err, errlen, "plugin %s: not an ethd plugin (no %s symbol)", file,
                 ETHD_PLUGIN_SYMBOL);
        rc = ETHD_EINVAL;
    } else if (d->abi_version != ETHD_ABI_VERSION) {
        snprintf(err, errlen, "plugin %s: built for ABI %u, this ethd speaks ABI %u", file,
                 d->abi_version, (unsigned)ETHD_ABI_VERSION);
        rc = ETHD_EABI;
    } else if (d->struct_size > sizeof(struct ethd_plugin)) {
        snprintf(err, errlen,
                 "plugin %s: descriptor is %u bytes, this ethd knows %zu: built against a newer SDK",
                 file, d->struct_size, sizeof(struct ethd_plugin));
        rc = ETHD_EABI;
    } else if (d->struct_size < DESC_MIN_SIZE) {
        snprintf(err, errlen, "plugin %s: descriptor is %u bytes, too small to be valid", file,
                 d->struct_size);
        rc = ETHD_EINVAL;
    } else if (!d->name || !valid_name(d->name) || !d->init) {
        snprintf(err, errlen, "plugin %s: descriptor has no valid name or no init function",
                 file);
        rc = ETHD_EINVAL;
    }
    if (rc) {
        lt_dlclose(handle);
        return rc;
    }
    *h = handle;
    *desc = d;
    return 0;
}

static int find_file(const struct ethd_loader *ld, const char *name, char **out)
{
    static const char *const exts[] = {".la", ".so"};
    for (size_t i = 0; i < ld->n_dirs; i++) {
        for (size_t e = 0; e < 2; e++) {
            char *path;
            if (asprintf(&path, "%s/%s%s", ld->dirs[i], name, exts[e]) < 0)
                return ETHD_ENOMEM;
            if (is_file(path)) {
                *out = path;
                return 0;
            }
            free(path);
        }
    }
    return ETHD_ENOTFOUND;
}

int ethd_loader_load(struct ethd_loader *ld, const char *name, struct ethd_registry *reg,
                     char *err, size_t errlen)
{
    if (!valid_name(name)) {
        snprintf(err, errlen, "plugin name '%s' is not valid (use a-z, 0-9, '-', '_')", name);
        return ETHD_EINVAL;
    }
    for (size_t i = 0; i < ld->n_plugins; i++) {
        if (strcmp(ld->plugins[i].name, name) == 0) {
            snprintf(err, errlen, "plugin '%s' is listed twice", name);
            return ETHD_EEXIST;
        }
    }
    char *file = NULL;
    if (find_file(ld, name, &file) != 0) {
        int n = snprintf(err, errlen, "plugin '%s' not found; searched:", name);
        for (size_t i = 0; i < ld->n_dirs && n > 0 && (size_t)n < errlen; i++)
            n += snprintf(err + n, errlen - (size_t)n, " %s", ld->dirs[i]);
        return ETHD_ENOTFOUND;
    }
    lt_dlhandle h;
    const struct ethd_plugin *d;
    int rc = open_checked(file, &h, &d, err, errlen);
    if (rc) {
        free(file);
        return rc;
    }
    if (strcmp(d->name, name) != 0) {
        snprintf(err, errlen, "plugin %s: descriptor names it '%s', expected '%s'", file, d->name,
                 name);
        lt_dlclose(h);
        free(file);
        return ETHD_EINVAL;
    }
    if (ld->n_plugins == ld->cap) {
        size_t cap = ld->cap ? ld->cap * 2 : 8;
        struct ethd_loaded_plugin *p = realloc(ld->plugins, cap * sizeof(*p));
        if (!p) {
            lt_dlclose(h);
            free(file);
            return ETHD_ENOMEM;
        }
        ld->plugins = p;
        ld->cap = cap;
    }
    struct ethd_loaded_plugin *lp = &ld->plugins[ld->n_plugins];
    *lp = (struct ethd_loaded_plugin){.name = strdup(name), .file = file, .desc = d, .handle = h};
    if (!lp->name) {
        lt_dlclose(h);
        free(file);
        return ETHD_ENOMEM;
    }
    ld->n_plugins++; /* kept loaded even if init fails: its ops may be registered */

    size_t before = reg->n;
    reg->current_plugin = lp->name;
    reg->err[0] = '\0';
    rc = d->init(reg);
    reg->current_plugin = NULL;
    if (rc) {
        reg->n = before; /* drop whatever this plugin registered */
        snprintf(err, errlen, "plugin %s: init failed: %s%s%s", file,
                 rc < 0 ? ethd_strerror(rc) : "nonzero return", reg->err[0] ? ": " : "",
                 reg->err);
        return rc < 0 ? rc : ETHD_EINVAL;
    }
    return 0;
}

int ethd_loader_probe(struct ethd_loader *ld, const char *file, struct ethd_plugin_info *info,
                      char *err, size_t errlen)
{
    (void)ld;
    lt_dlhandle h;
    const struct ethd_plugin *d;
    int rc = open_checked(file, &h, &d, err, errlen);
    if (rc)
        return rc;
    snprintf(info->name, sizeof(info->name), "%s", d->name);
    snprintf(info->version, sizeof(info->version), "%s", d->version ? d->version : "");
    snprintf(info->description, sizeof(info->description), "%s",
             d->description ? d->description : "");
    lt_dlclose(h);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void ethd_loader_list(struct ethd_loader *ld, ethd_loader_list_fn fn, void *arg)
{
    char **seen = NULL;
    size_t n_seen = 0;
    for (size_t i = 0; i < ld->n_dirs; i++) {
        DIR *dir = opendir(ld->dirs[i]);
        if (!dir)
            continue;
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t len = strlen(de->d_name);
            bool la = len > 3 && strcmp(de->d_name + len - 3, ".la") == 0;
            bool so = len > 3 && strcmp(de->d_name + len - 3, ".so") == 0;
            if (!la && !so)
                continue;
            char **nn = realloc(names, (n + 1) * sizeof(*nn));
            if (!nn)
                break;
            names = nn;
            names[n++] = strdup(de->d_name);
        }
        closedir(dir);
        qsort(names, n, sizeof(*names), cmp_str);
        for (size_t k = 0; k < n; k++) {
            if (!names[k])
                continue;
            char base[256];
            snprintf(base, sizeof(base), "%.*s", (int)(strlen(names[k]) - 3), names[k]);
            bool dup = false;
            for (size_t s = 0; s < n_seen && !dup; s++)
                dup = strcmp(seen[s], base) == 0;
            if (!dup) {
                char **ns = realloc(seen, (n_seen + 1) * sizeof(*ns));
                if (ns) {
                    seen = ns;
                    seen[n_seen++] = strdup(base);
                    char *path;
                    if (asprintf(&path, "%s/%s", ld->dirs[i], names[k]) >= 0) {
                        fn(base, path, arg);
                        free(path);
                    }
                }
            }
            free(names[k]);
        }
        free(names);
    }
    for (size_t s = 0; s < n_seen; s++)
        free(seen[s]);
    free(seen);
}
