/* Configuration tree: YAML (libyaml event API) into NULL/SCALAR/LIST/MAP
 * nodes, typed readers, command-line overrides and the unknown-key check.
 *
 * Decisions the headers leave open, fixed here:
 * - Only plain YAML is accepted. Anchors and aliases are refused (they are
 *   also the "billion laughs" amplification). Tags: the standard ones
 *   ("!!str", "!!int", ... i.e. tag:yaml.org,2002:*) and the non-specific
 *   "!" are accepted and ignored, except that an explicitly tagged scalar is
 *   never null ("!!str ~" is the text "~") unless the tag is "!!null".
 *   Any other tag ("!foo") is refused, so a config never silently means
 *   something an application-specific tag promised.
 * - A scalar is NULL when it is plain (unquoted), untagged and is empty,
 *   "~", "null", "Null" or "NULL" (YAML 1.2 core schema). A typed reader
 *   treats a NULL value exactly as an absent key: it gives the default
 *   (`port:` on its own line means "use the default"). Map keys must be
 *   non-null scalars; a key is a plain string, never interpreted.
 * - Integers follow the YAML 1.2 core schema: [-+]?[0-9]+ (leading zeros are
 *   decimal, not octal) or [-+]?0x[0-9a-fA-F]+. Any scalar, quoted or not, is
 *   parsed by the typed readers ("8545" and 8545 are the same port), because
 *   command-line overrides are always text.
 * - An empty stream, a stream of comments, or a document that is a single
 *   null scalar ("---" alone) is an empty map. More than one document is an
 *   error. Scalars containing a NUL character are refused.
 * - Nesting depth counts containers, the top-level map being level 1.
 * - Nodes created by ethd_conf_set have no line/column: their location reads
 *   "<command line>".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include <ethd/error.h>

#include "conf.h"

#define ERR_LEN 1024
#define PATH_LEN 512
static const char CMDLINE[] = "<command line>";

struct ethd_conf {
    enum ethd_conf_type type;
    bool used;                  /* read by someone (key and value) */
    unsigned line, col;         /* 1-based position of the value; 0 = none */
    unsigned key_line, key_col; /* position of the key in the parent map */
    const char *file;           /* the tree's file name or CMDLINE; not owned */
    struct ethd_conf *parent;   /* NULL for the root */
    char *key;                  /* key in the parent map (owned); NULL otherwise */
    size_t index;               /* position in the parent */
    char *text;                 /* SCALAR: owned, NUL-terminated */
    struct ethd_conf **kids;    /* LIST items / MAP values in file order */
    size_t n, cap;
};

/* The root node is embedded first so a root pointer is also a tree pointer. */
struct tree {
    struct ethd_conf root;
    char *file;
    char err[ERR_LEN];
};

/* ---- node basics ---- */

static struct tree *tree_of(const struct ethd_conf *n)
{
    while (n->parent)
        n = n->parent;
    return (struct tree *)(uintptr_t)n;
}

static void node_clear(struct ethd_conf *n);

static void node_free(struct ethd_conf *n)
{
    if (!n)
        return;
    node_clear(n);
    free(n->key);
    free(n);
}

/* Drop a node's contents (text, children), keeping its identity in the tree. */
static void node_clear(struct ethd_conf *n)
{
    for (size_t i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    n->kids = NULL;
    n->n = n->cap = 0;
    n->text = NULL;
}

static struct ethd_conf *node_new(enum ethd_conf_type type, const char *file, unsigned line,
                                  unsigned col)
{
    struct ethd_conf *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->type = type;
    n->file = file;
    n->line = line;
    n->col = col;
    return n;
}

/* Append `kid` to container `n`; takes `kid` on success only. */
static int node_append(struct ethd_conf *n, struct ethd_conf *kid)
{
    if (n->n == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 4;
        struct ethd_conf **k = realloc(n->kids, cap * sizeof(*k));
        if (!k)
            return ETHD_ENOMEM;
        n->kids = k;
        n->cap = cap;
    }
    kid->parent = n;
    kid->index = n->n;
    n->kids[n->n++] = kid;
    return 0;
}

static struct ethd_conf *map_find(const struct ethd_conf *map, const char *key)
{
    if (!map || map->type != ETHD_CONF_MAP || !key)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->kids[i]->key, key) == 0)
            return map->kids[i];
    return NULL;
}

/* Marking a node also marks its ancestors: whoever reached a value through
 * its parents read their keys too. */
static void mark(const struct ethd_conf *cn)
{
    for (struct ethd_conf *n = (struct ethd_conf *)(uintptr_t)cn; n && !n->used; n = n->parent)
        n->used = true;
}

static void mark_all(struct ethd_conf *n)
{
    n->used = true;
    for (size_t i = 0; i < n->n; i++)
        mark_all(n->kids[i]);
}

/* ---- locations and messages ---- */

static void where_at(const char *file, unsigned line, unsigned col, char *buf, size_t len)
{
    if (!len)
        return;
    if (line)
        snprintf(buf, len, "%s:%u:%u", file, line, col);
    else
        snprintf(buf, len, "%s", file);
}

static size_t path_put(const struct ethd_conf *n, char *buf, size_t len, size_t pos)
{
    if (!n->parent)
        return pos;
    pos = path_put(n->parent, buf, len, pos);
    if (pos >= len)
        return pos;
    int w;
    if (n->key)
        w = snprintf(buf + pos, len - pos, "%s%s", pos ? "." : "", n->key);
    else
        w = snprintf(buf + pos, len - pos, "[%zu]", n->index);
    return w < 0 ? len : pos + (size_t)w;
}

__attribute__((format(printf, 5, 0))) static void vrecord(const struct ethd_conf *n,
                                                          const char *file, unsigned line,
                                                          unsigned col, const char *fmt,
                                                          va_list ap)
{
    /* Built aside: the arguments may point into the tree's own buffer
     * (a service re-wrapping ethd_conf_error()). */
    struct tree *t = tree_of(n);
    char msg[ERR_LEN];
    where_at(file, line, col, msg, sizeof(msg));
    size_t pos = strlen(msg);
    if (pos + 2 < sizeof(msg)) {
        memcpy(msg + pos, ": ", 3);
        pos += 2;
        vsnprintf(msg + pos, sizeof(msg) - pos, fmt, ap);
    }
    memcpy(t->err, msg, sizeof(msg));
}

/* Record "WHERE-OF-n: msg" in n's tree; returns ETHD_ECONFIG. */
__attribute__((format(printf, 2, 3))) static int fail(const struct ethd_conf *n, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord(n, n->file, n->line, n->col, fmt, ap);
    va_end(ap);
    return ETHD_ECONFIG;
}

static const char *path_of(const struct ethd_conf *n, char *buf)
{
    ethd_conf_path(n, buf, PATH_LEN);
    return buf;
}

/* ---- public reader API (include/ethd/config.h) ---- */

enum ethd_conf_type ethd_conf_type(const struct ethd_conf *n)
{
    return n ? n->type : ETHD_CONF_NULL;
}

const struct ethd_conf *ethd_conf_get(const struct ethd_conf *map, const char *key)
{
    struct ethd_conf *n = map_find(map, key);
    if (n)
        mark(n);
    return n;
}

size_t ethd_conf_len(const struct ethd_conf *n)
{
    return n && (n->type == ETHD_CONF_LIST || n->type == ETHD_CONF_MAP) ? n->n : 0;
}

const struct ethd_conf *ethd_conf_at(const struct ethd_conf *n, size_t i)
{
    if (!n || (n->type != ETHD_CONF_LIST && n->type != ETHD_CONF_MAP) || i >= n->n)
        return NULL;
    mark(n->kids[i]);
    return n->kids[i];
}

const char *ethd_conf_key_at(const struct ethd_conf *n, size_t i)
{
    if (!n || n->type != ETHD_CONF_MAP || i >= n->n)
        return NULL;
    return n->kids[i]->key;
}

const char *ethd_conf_scalar(const struct ethd_conf *n)
{
    return n && n->type == ETHD_CONF_SCALAR ? n->text : NULL;
}

void ethd_conf_where(const struct ethd_conf *n, char *buf, size_t len)
{
    if (!buf || !len)
        return;
    if (!n) {
        buf[0] = '\0';
        return;
    }
    where_at(n->file, n->line, n->col, buf, len);
}

void ethd_conf_path(const struct ethd_conf *n, char *buf, size_t len)
{
    if (!buf || !len)
        return;
    buf[0] = '\0';
    if (n)
        path_put(n, buf, len, 0);
}

int ethd_conf_fail(const struct ethd_conf *n, const char *fmt, ...)
{
    if (!n || !fmt)
        return ETHD_ECONFIG;
    va_list ap;
    va_start(ap, fmt);
    vrecord(n, n->file, n->line, n->col, fmt, ap);
    va_end(ap);
    return ETHD_ECONFIG;
}

const char *ethd_conf_error(const struct ethd_conf *n)
{
    return n ? tree_of(n)->err : "";
}

/* Common start of every typed reader: *v is the value, or NULL when the key
 * is absent or null (the caller then uses its default). A `map` that is NULL
 * or a null node reads as an empty map. */
static int lookup(const struct ethd_conf *map, const char *key, const struct ethd_conf **v)
{
    *v = NULL;
    if (!key)
        return ETHD_EINVAL;
    if (!map || map->type == ETHD_CONF_NULL)
        return 0;
    if (map->type != ETHD_CONF_MAP) {
        char p[PATH_LEN];
        return fail(map, "expected a mapping for %s", path_of(map, p));
    }
    const struct ethd_conf *n = ethd_conf_get(map, key);
    if (n && n->type != ETHD_CONF_NULL)
        *v = n;
    return 0;
}

int ethd_conf_string(const struct ethd_conf *map, const char *key, const char *def,
                     const char **out)
{
    const struct ethd_conf *v;
    int rc = lookup(map, key, &v);
    *out = def;
    if (rc || !v)
        return rc;
    if (v->type != ETHD_CONF_SCALAR) {
        char p[PATH_LEN];
        return fail(v, "expected a string for %s", path_of(v, p));
    }
    *out = v->text;
    return 0;
}

/* [-+]?(0x[0-9a-fA-F]+|[0-9]+) into sign and magnitude; *ovf when the
 * magnitude does not fit 64 bits. False if the text is not an integer. */
static bool parse_integer(const char *s, bool *neg, uint64_t *mag, bool *ovf)
{
    *neg = false;
    *mag = 0;
    *ovf = false;
    if (*s == '-' || *s == '+')
        *neg = *s++ == '-';
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (*mag > (UINT64_MAX - d) / base)
            *ovf = true;
        else
            *mag = *mag * base + d;
    }
    return true;
}

int ethd_conf_int(const struct ethd_conf *map, const char *key, int64_t min, int64_t max,
                  int64_t def, int64_t *out)
{
    const struct ethd_conf *v;
    int rc = lookup(map, key, &v);
    *out = def;
    if (rc || !v)
        return rc;
    char p[PATH_LEN];
    bool neg, ovf;
    uint64_t mag;
    if (v->type != ETHD_CONF_SCALAR || !parse_integer(v->text, &neg, &mag, &ovf))
        return fail(v, "expected an integer for %s", path_of(v, p));
    int64_t x;
    if (ovf || (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX))
        goto range;
    if (!neg)
        x = (int64_t)mag;
    else if (mag == (uint64_t)INT64_MAX + 1)
        x = INT64_MIN;
    else
        x = -(int64_t)mag;
    if (x < min || x > max)
        return fail(v, "%s must be between %" PRId64 " and %" PRId64 ", got %" PRId64,
                    path_of(v, p), min, max, x);
    *out = x;
    return 0;
range:
    return fail(v, "%s must be between %" PRId64 " and %" PRId64 ", got %.64s", path_of(v, p),
                min, max, v->text);
}

int ethd_conf_uint(const struct ethd_conf *map, const char *key, uint64_t min, uint64_t max,
                   uint64_t def, uint64_t *out)
{
    const struct ethd_conf *v;
    int rc = lookup(map, key, &v);
    *out = def;
    if (rc || !v)
        return rc;
    char p[PATH_LEN];
    bool neg, ovf;
    uint64_t mag;
    if (v->type != ETHD_CONF_SCALAR || !parse_integer(v->text, &neg, &mag, &ovf))
        return fail(v, "expected an integer for %s", path_of(v, p));
    if (ovf || (neg && mag))
        return fail(v, "%s must be between %" PRIu64 " and %" PRIu64 ", got %.64s",
                    path_of(v, p), min, max, v->text);
    if (mag < min || mag > max)
        return fail(v, "%s must be between %" PRIu64 " and %" PRIu64 ", got %" PRIu64,
                    path_of(v, p), min, max, mag);
    *out = mag;
    return 0;
}

int ethd_conf_bool(const struct ethd_conf *map, const char *key, bool def, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    const struct ethd_conf *v;
    int rc = lookup(map, key, &v);
    *out = def;
    if (rc || !v)
        return rc;
    if (v->type == ETHD_CONF_SCALAR) {
        for (size_t i = 0; i < 3; i++) {
            if (strcasecmp(v->text, yes[i]) == 0) {
                *out = true;
                return 0;
            }
            if (strcasecmp(v->text, no[i]) == 0) {
                *out = false;
                return 0;
            }
        }
    }
    char p[PATH_LEN];
    return fail(v, "expected a boolean (true/false) for %s", path_of(v, p));
}

struct unit {
    const char *name;
    uint64_t factor;
};

/* A decimal number followed directly by one of `units` (the entry named ""
 * is the bare number). Returns 1 on success, 0 if malformed, -1 if negative,
 * -2 on overflow. */
static int parse_with_unit(const char *s, const struct unit *units, size_t nunits,
                           uint64_t *out)
{
    if (*s == '-' && s[1] >= '0' && s[1] <= '9')
        return -1;
    if (*s < '0' || *s > '9')
        return 0;
    uint64_t x = 0;
    bool ovf = false;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10)
            ovf = true;
        else
            x = x * 10 + d;
    }
    for (size_t i = 0; i < nunits; i++) {
        if (strcmp(s, units[i].name) != 0)
            continue;
        if (ovf || (units[i].factor && x > UINT64_MAX / units[i].factor))
            return -2;
        *out = x * units[i].factor;
        return 1;
    }
    return 0;
}

int ethd_conf_duration(const struct ethd_conf *map, const char *key, uint64_t def_ms,
                       uint64_t *out_ms)
{
    static const struct unit units[] = {
        {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    const struct ethd_conf *v;
    int rc = lookup(map, key, &v);
    *out_ms = def_ms;
    if (rc || !v)
        return rc;
    char p[PATH_LEN];
    int r = v->type == ETHD_CONF_SCALAR
                ? parse_with_unit(v->text, units, sizeof(units) / sizeof(units[0]), out_ms)
                : 0;
    if (r == 1)
        return 0;
    *out_ms = def_ms;
    if (r == -1)
        return fail(v, "%s must not be negative, got %.64s", path_of(v, p), v->text);
    if (r == -2)
        return fail(v, "%s is too large, got %.64s", path_of(v, p), v->text);
    return fail(v, "expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for %s", path_of(v, p));
}

int ethd_conf_size(const struct ethd_conf *map, const char *key, uint64_t def, uint64_t *out)
{
    static const struct unit units[] = {
        {"", 1},
        {"B", 1},
        {"kB", 1000},
        {"KB", 1000},
        {"KiB", 1024},
        {"MB", 1000000},
        {"MiB", 1048576},
        {"GB", 1000000000},
        {"GiB", 1073741824},
        {"TB", 1000000000000ull},
        {"TiB", 1099511627776ull},
    };
    const struct ethd_conf *v;
    int rc = lookup(map, key, &v);
    *out = def;
    if (rc || !v)
        return rc;
    char p[PATH_LEN];
    int r = v->type == ETHD_CONF_SCALAR
                ? parse_with_unit(v->text, units, sizeof(units) / sizeof(units[0]), out)
                : 0;
    if (r == 1)
        return 0;
    *out = def;
    if (r == -1)
        return fail(v, "%s must not be negative, got %.64s", path_of(v, p), v->text);
    if (r == -2)
        return fail(v, "%s is too large, got %.64s", path_of(v, p), v->text);
    return fail(v, "expected a size (e.g. 512, 64KiB, 2MiB, 10kB) for %s", path_of(v, p));
}

static int container(const struct ethd_conf *map, const char *key, enum ethd_conf_type type,
                     const char *what, const struct ethd_conf **out)
{
    const struct ethd_conf *v;
    int rc = lookup(map, key, &v);
    *out = NULL;
    if (rc || !v)
        return rc;
    if (v->type != type) {
        char p[PATH_LEN];
        return fail(v, "expected %s for %s", what, path_of(v, p));
    }
    *out = v;
    return 0;
}

int ethd_conf_list(const struct ethd_conf *map, const char *key, const struct ethd_conf **out)
{
    return container(map, key, ETHD_CONF_LIST, "a list", out);
}

int ethd_conf_map(const struct ethd_conf *map, const char *key, const struct ethd_conf **out)
{
    return container(map, key, ETHD_CONF_MAP, "a mapping", out);
}

/* ---- internal API (core/conf.h) ---- */

void ethd_conf_free(struct ethd_conf *root)
{
    if (!root)
        return;
    struct tree *t = tree_of(root);
    node_clear(&t->root);
    free(t->file);
    free(t);
}

void ethd_conf_mark_used(const struct ethd_conf *n, bool recursive)
{
    if (!n)
        return;
    mark(n);
    if (recursive)
        mark_all((struct ethd_conf *)(uintptr_t)n);
}

/* The first map entry under n, depth-first in file order, that nobody read.
 * Scalars in a list have no key of their own: reading the list covers them;
 * maps inside a list still need their keys read. */
static const struct ethd_conf *first_unused(const struct ethd_conf *n)
{
    for (size_t i = 0; i < n->n; i++) {
        const struct ethd_conf *k = n->kids[i];
        if (n->type == ETHD_CONF_MAP && !k->used)
            return k;
        const struct ethd_conf *r = first_unused(k);
        if (r)
            return r;
    }
    return NULL;
}

int ethd_conf_check_unused(const struct ethd_conf *n, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!n)
        return 0;
    const struct ethd_conf *u = first_unused(n);
    if (!u)
        return 0;
    struct tree *t = tree_of(u);
    char p[PATH_LEN], w[PATH_LEN];
    where_at(u->file, u->key_line, u->key_col, w, sizeof(w));
    path_of(u->parent, p);
    /* Precisions keep the worst case inside the buffer (no truncation warning). */
    if (p[0])
        snprintf(t->err, sizeof(t->err), "%.300s: unknown key '%.200s' in %.400s", w, u->key, p);
    else
        snprintf(t->err, sizeof(t->err), "%.300s: unknown key '%.200s' at the top level", w,
                 u->key);
    if (err && errlen)
        snprintf(err, errlen, "%s", t->err);
    return ETHD_ECONFIG;
}

/* Replacing a value frees what was there: pointers into the replaced
 * subtree die, which is why overrides are applied right after loading,
 * before anyone reads the tree. */
int ethd_conf_set(struct ethd_conf *root, const char *path, const char *value)
{
    if (!root || !path)
        return ETHD_EINVAL;
    struct tree *t = tree_of(root);
    /* Validate the whole path before changing anything. */
    size_t parts = 1;
    for (const char *c = path;; c++) {
        const char *dot = strchr(c, '.');
        size_t len = dot ? (size_t)(dot - c) : strlen(c);
        if (len == 0) {
            snprintf(t->err, sizeof(t->err), "%s: invalid key path '%.200s'", CMDLINE, path);
            return ETHD_ECONFIG;
        }
        if (!dot)
            break;
        c = dot;
        parts++;
    }
    if (parts > ETHD_CONF_MAX_DEPTH) {
        snprintf(t->err, sizeof(t->err), "%s: key path '%.200s' is nested deeper than %d levels",
                 CMDLINE, path, ETHD_CONF_MAX_DEPTH);
        return ETHD_ECONFIG;
    }
    /* Check that every existing component on the way is a map (or null,
     * which becomes one), so a failed set leaves the tree untouched. */
    struct ethd_conf *n = root;
    char *copy = strdup(path);
    if (!copy)
        return ETHD_ENOMEM;
    char *save = NULL, *part = strtok_r(copy, ".", &save);
    for (; n && part; part = strtok_r(NULL, ".", &save)) {
        if (n->type != ETHD_CONF_MAP && n->type != ETHD_CONF_NULL) {
            char p[PATH_LEN];
            fail(n, "cannot set %.200s from the command line: %s is not a mapping", path,
                 path_of(n, p));
            free(copy);
            return ETHD_ECONFIG;
        }
        n = map_find(n, part);
    }
    free(copy);

    copy = strdup(path);
    if (!copy)
        return ETHD_ENOMEM;
    int rc = 0;
    n = root;
    save = NULL;
    part = strtok_r(copy, ".", &save);
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        if (n->type == ETHD_CONF_NULL)
            n->type = ETHD_CONF_MAP;
        struct ethd_conf *k = map_find(n, part);
        if (!k) {
            k = node_new(ETHD_CONF_NULL, CMDLINE, 0, 0);
            char *key = strdup(part);
            if (!k || !key || node_append(n, k) < 0) {
                free(key);
                free(k);
                rc = ETHD_ENOMEM;
                break;
            }
            k->key = key;
            /* A new map on the way is NULL until its own child is added
             * (turned into a map just above on the next turn). */
        }
        if (!next) {
            char *text = value ? strdup(value) : NULL;
            if (value && !text) {
                rc = ETHD_ENOMEM;
                break;
            }
            node_clear(k);
            k->type = value ? ETHD_CONF_SCALAR : ETHD_CONF_NULL;
            k->text = text;
            k->file = CMDLINE;
            k->line = k->col = k->key_line = k->key_col = 0;
            k->used = false;
        }
        n = k;
        part = next;
    }
    free(copy);
    return rc;
}

/* ---- parsing ---- */

/* Open-addressing set of (map, key) pairs seen while parsing, so duplicate
 * keys are found in O(1) even in a megabyte of keys. */
struct keyset {
    struct ethd_conf **slot;
    uint64_t *hash;
    size_t cap, n;
};

static uint64_t key_hash(const struct ethd_conf *map, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)(uintptr_t)map * 0x9e3779b97f4a7c15ull);
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

static struct ethd_conf *keyset_find(const struct keyset *s, const struct ethd_conf *map,
                                     const char *key, uint64_t h)
{
    if (!s->cap)
        return NULL;
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        struct ethd_conf *e = s->slot[i];
        if (!e)
            return NULL;
        if (s->hash[i] == h && e->parent == map && strcmp(e->key, key) == 0)
            return e;
    }
}

static void keyset_put_slot(struct keyset *s, struct ethd_conf *e, uint64_t h)
{
    size_t i = h & (s->cap - 1);
    while (s->slot[i])
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = e;
    s->hash[i] = h;
    s->n++;
}

static int keyset_add(struct keyset *s, struct ethd_conf *e, uint64_t h)
{
    if ((s->n + 1) * 2 > s->cap) {
        struct keyset g = {.cap = s->cap ? s->cap * 2 : 64};
        g.slot = calloc(g.cap, sizeof(*g.slot));
        g.hash = calloc(g.cap, sizeof(*g.hash));
        if (!g.slot || !g.hash) {
            free(g.slot);
            free(g.hash);
            return ETHD_ENOMEM;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                keyset_put_slot(&g, s->slot[i], s->hash[i]);
        free(s->slot);
        free(s->hash);
        *s = g;
    }
    keyset_put_slot(s, e, h);
    return 0;
}

struct parser {
    const char *name;
    const unsigned char *text;
    size_t len;
    char *err;
    size_t errlen;
    struct tree *t;
    bool have_root, seen_doc;
    struct ethd_conf *stack[ETHD_CONF_MAX_DEPTH];
    size_t depth;
    char *key; /* pending map key, waiting for its value */
    uint64_t key_hash;
    unsigned key_line, key_col;
    struct keyset keys;
};

__attribute__((format(printf, 4, 5))) static int perr(struct parser *p, unsigned line,
                                                      unsigned col, const char *fmt, ...)
{
    if (!p->err || !p->errlen)
        return ETHD_ECONFIG;
    where_at(p->name, line, col, p->err, p->errlen);
    size_t pos = strlen(p->err);
    if (pos + 2 < p->errlen) {
        memcpy(p->err + pos, ": ", 3);
        pos += 2;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + pos, p->errlen - pos, fmt, ap);
        va_end(ap);
    }
    return ETHD_ECONFIG;
}

static int perr_mark(struct parser *p, yaml_mark_t m, const char *msg)
{
    return perr(p, (unsigned)m.line + 1, (unsigned)m.column + 1, "%s", msg);
}

/* Line and column (1-based, in characters) of a byte offset of the input:
 * libyaml reports reader errors (bad UTF-8, control characters) by offset. */
static void offset_mark(const struct parser *p, size_t off, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < off && i < p->len; i++) {
        if (p->text[i] == '\n') {
            l++;
            c = 1;
        } else if ((p->text[i] & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* The input byte at a 0-based libyaml line/column (columns count
 * characters), or -1 past the end. */
static int char_at(const struct parser *p, size_t line, size_t col)
{
    size_t i = 0;
    for (size_t l = 0; l < line && i < p->len; i++)
        if (p->text[i] == '\n')
            l++;
    for (size_t c = 0; i < p->len; i++) {
        if ((p->text[i] & 0xc0) == 0x80)
            continue;
        if (c++ == col)
            return p->text[i];
        if (p->text[i] == '\n')
            return -1;
    }
    return -1;
}

static int yaml_error(struct parser *p, const yaml_parser_t *y)
{
    if (y->error == YAML_MEMORY_ERROR) {
        perr(p, 0, 0, "out of memory while parsing");
        return ETHD_ENOMEM;
    }
    const char *problem = y->problem ? y->problem : "invalid YAML";
    unsigned line, col;
    if (y->error == YAML_READER_ERROR) {
        offset_mark(p, y->problem_offset, &line, &col);
        return perr(p, line, col, "%s", problem);
    }
    yaml_mark_t pm = y->problem_mark, cm = y->context_mark;
    line = (unsigned)pm.line + 1;
    col = (unsigned)pm.column + 1;
    /* libyaml's text for a tab is the cryptic "found character that cannot
     * start any token": say what it is. */
    const char *hint = "";
    if (y->error == YAML_SCANNER_ERROR && !strstr(problem, "tab") &&
        char_at(p, pm.line, pm.column) == '\t')
        hint = " (tabs are not allowed for indentation)";
    if (y->context && (cm.line != pm.line || cm.column != pm.column))
        return perr(p, line, col, "%s %s (started at line %u, column %u)%s", problem, y->context,
                    (unsigned)cm.line + 1, (unsigned)cm.column + 1, hint);
    if (y->context)
        return perr(p, line, col, "%s %s%s", problem, y->context, hint);
    return perr(p, line, col, "%s%s", problem, hint);
}

static bool tag_ok(const unsigned char *tag)
{
    static const char std[] = "tag:yaml.org,2002:";
    return !tag || strcmp((const char *)tag, "!") == 0 ||
           strncmp((const char *)tag, std, sizeof(std) - 1) == 0;
}

/* Anchors, aliases and non-standard tags are refused on every node. */
static int check_props(struct parser *p, const yaml_event_t *ev, const unsigned char *anchor,
                       const unsigned char *tag)
{
    if (anchor)
        return perr(p, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                    "anchors and aliases are not supported ('&%.64s')", (const char *)anchor);
    if (!tag_ok(tag))
        return perr(p, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                    "unsupported tag '%.64s'", (const char *)tag);
    return 0;
}

static bool scalar_is_null(const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag)
        return strcmp(tag, "tag:yaml.org,2002:null") == 0;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    return n == 0 || (n == 1 && s[0] == '~') ||
           (n == 4 && (!strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")));
}

/* Place a new node: as the document root, a list item, or the value of the
 * pending key. Takes `n` (freed on failure). */
static int attach(struct parser *p, struct ethd_conf *n, const yaml_event_t *ev)
{
    if (!p->have_root) {
        p->have_root = true;
        if (n->type == ETHD_CONF_NULL) { /* "---" alone: an empty document */
            free(n);
            return 0;
        }
        if (n->type != ETHD_CONF_MAP) {
            node_free(n);
            return perr_mark(p, ev->start_mark, "the top level must be a mapping");
        }
        free(n);
        p->t->root.line = (unsigned)ev->start_mark.line + 1;
        p->t->root.col = (unsigned)ev->start_mark.column + 1;
        p->stack[p->depth++] = &p->t->root;
        return 0;
    }
    struct ethd_conf *top = p->stack[p->depth - 1];
    int rc = node_append(top, n);
    if (rc < 0) {
        node_free(n);
        return rc;
    }
    if (top->type == ETHD_CONF_MAP) {
        n->key = p->key;
        n->key_line = p->key_line;
        n->key_col = p->key_col;
        p->key = NULL;
        rc = keyset_add(&p->keys, n, p->key_hash);
        if (rc < 0)
            return rc;
    }
    if (n->type == ETHD_CONF_MAP || n->type == ETHD_CONF_LIST) {
        if (p->depth >= ETHD_CONF_MAX_DEPTH)
            return perr(p, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                        "nesting deeper than %d levels", ETHD_CONF_MAX_DEPTH);
        p->stack[p->depth++] = n;
    }
    return 0;
}

static bool expecting_key(const struct parser *p)
{
    return p->depth && p->stack[p->depth - 1]->type == ETHD_CONF_MAP && !p->key;
}

static int on_scalar(struct parser *p, const yaml_event_t *ev)
{
    int rc = check_props(p, ev, ev->data.scalar.anchor, ev->data.scalar.tag);
    if (rc)
        return rc;
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(s, '\0', len))
        return perr_mark(p, ev->start_mark, "NUL characters are not supported");
    unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
    if (expecting_key(p)) {
        if (scalar_is_null(ev))
            return perr_mark(p, ev->start_mark, "a mapping key must not be empty or null");
        struct ethd_conf *map = p->stack[p->depth - 1];
        uint64_t h = key_hash(map, s);
        if (keyset_find(&p->keys, map, s, h))
            return perr(p, line, col, "duplicate key '%.200s'", s);
        p->key = strndup(s, len);
        if (!p->key)
            return ETHD_ENOMEM;
        p->key_hash = h;
        p->key_line = line;
        p->key_col = col;
        return 0;
    }
    bool null = scalar_is_null(ev);
    struct ethd_conf *n = node_new(null ? ETHD_CONF_NULL : ETHD_CONF_SCALAR, p->t->file, line, col);
    if (!n)
        return ETHD_ENOMEM;
    if (!null && !(n->text = strndup(s, len))) {
        free(n);
        return ETHD_ENOMEM;
    }
    return attach(p, n, ev);
}

static int on_start(struct parser *p, const yaml_event_t *ev, enum ethd_conf_type type)
{
    bool map = type == ETHD_CONF_MAP;
    int rc = check_props(p, ev, map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor,
                         map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
    if (rc)
        return rc;
    if (expecting_key(p))
        return perr_mark(p, ev->start_mark, "a mapping key must be a scalar");
    struct ethd_conf *n = node_new(type, p->t->file, (unsigned)ev->start_mark.line + 1,
                                   (unsigned)ev->start_mark.column + 1);
    if (!n)
        return ETHD_ENOMEM;
    return attach(p, n, ev);
}

static int on_event(struct parser *p, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (p->seen_doc)
            return perr_mark(p, ev->start_mark, "only one YAML document is allowed");
        p->seen_doc = true;
        return 0;
    case YAML_ALIAS_EVENT:
        return perr(p, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                    "anchors and aliases are not supported ('*%.64s')",
                    (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        return on_scalar(p, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(p, ev, ETHD_CONF_LIST);
    case YAML_MAPPING_START_EVENT:
        return on_start(p, ev, ETHD_CONF_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (p->depth)
            p->depth--;
        return 0;
    default: /* stream start/end, document end */
        return 0;
    }
}

int ethd_conf_load_string(const char *name, const char *text, size_t len, struct ethd_conf **root,
                          char *err, size_t errlen)
{
    struct parser p = {.name = name ? name : "<string>", .text = (const unsigned char *)text,
                       .len = len, .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!root)
        return ETHD_EINVAL;
    *root = NULL;
    if (!text && len)
        return ETHD_EINVAL;
    if (len > ETHD_CONF_MAX_FILE) {
        perr(&p, 0, 0, "file is larger than %u bytes", ETHD_CONF_MAX_FILE);
        return ETHD_ETOOBIG;
    }
    p.t = calloc(1, sizeof(*p.t));
    if (!p.t || !(p.t->file = strdup(p.name))) {
        free(p.t);
        return ETHD_ENOMEM;
    }
    p.t->root.type = ETHD_CONF_MAP;
    p.t->root.file = p.t->file;
    p.t->root.line = p.t->root.col = 1;

    yaml_parser_t y;
    if (!yaml_parser_initialize(&y)) {
        ethd_conf_free(&p.t->root);
        return ETHD_ENOMEM;
    }
    yaml_parser_set_input_string(&y, p.text ? p.text : (const unsigned char *)"", len);
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&y, &ev)) {
            rc = yaml_error(&p, &y);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&p, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&y);
    free(p.key);
    free(p.keys.slot);
    free(p.keys.hash);
    if (rc) {
        if (rc == ETHD_ENOMEM && err && errlen && !err[0])
            perr(&p, 0, 0, "out of memory while parsing");
        ethd_conf_free(&p.t->root);
        return rc;
    }
    *root = &p.t->root;
    return 0;
}

int ethd_conf_load_file(const char *path, struct ethd_conf **root, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!root || !path)
        return ETHD_EINVAL;
    *root = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return ETHD_EIO;
    }
    /* Read at most one byte past the limit: enough to know it is too big,
     * and bounded even for /dev/zero or a growing file. */
    size_t cap = ETHD_CONF_MAX_FILE + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return ETHD_ENOMEM;
    }
    while (len < cap) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            if (err && errlen)
                snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
            free(buf);
            close(fd);
            return ETHD_EIO;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    int rc;
    if (len > ETHD_CONF_MAX_FILE) {
        if (err && errlen)
            snprintf(err, errlen, "%s: file is larger than %u bytes", path, ETHD_CONF_MAX_FILE);
        rc = ETHD_ETOOBIG;
    } else {
        rc = ethd_conf_load_string(path, buf, len, root, err, errlen);
    }
    free(buf);
    return rc;
}
