/* Configuration tree (parsed from YAML). A service receives its own subtree
 * (the value under services.<name>) through ethd_ctx_config().
 *
 * Typed readers: an absent key, or a null value (`key:` or `~`), gives the
 * default and returns 0; a NULL `map` argument reads as an empty map; a value of the
 * wrong type or out of range returns ETHD_ECONFIG and records a message of
 * the form "FILE:LINE:COL: expected an integer for p2p.max_peers" that
 * ethd_conf_error() returns. Every key read through these functions is marked
 * as used: after services are created the node reports any key nobody read as
 * "unknown key", so a typo in YAML is an error, not a silent default.
 *
 * Nodes are owned by the tree; pointers are borrowed until the node is freed
 * (for a service: until its destroy hook returns). */
#ifndef ETHD_CONFIG_H
#define ETHD_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ethd_conf;

enum ethd_conf_type {
    ETHD_CONF_NULL = 0, /* empty value (`key:` or `~`) */
    ETHD_CONF_SCALAR,
    ETHD_CONF_LIST,
    ETHD_CONF_MAP,
};

enum ethd_conf_type ethd_conf_type(const struct ethd_conf *n);
/* Child of a map by key, or NULL (absent, or `map` is not a map). Marks it used. */
const struct ethd_conf *ethd_conf_get(const struct ethd_conf *map, const char *key);
/* Number of items of a list or entries of a map; 0 for scalars. */
size_t ethd_conf_len(const struct ethd_conf *n);
/* i-th list item or map value (marks it used); NULL past the end. */
const struct ethd_conf *ethd_conf_at(const struct ethd_conf *n, size_t i);
/* i-th map key; NULL past the end or if not a map. */
const char *ethd_conf_key_at(const struct ethd_conf *n, size_t i);
/* Text of a scalar; NULL for other types. */
const char *ethd_conf_scalar(const struct ethd_conf *n);
/* "FILE:LINE:COL" of the node into buf. */
void ethd_conf_where(const struct ethd_conf *n, char *buf, size_t len);
/* Dotted path from the root ("services.example.greeting") into buf. */
void ethd_conf_path(const struct ethd_conf *n, char *buf, size_t len);

int ethd_conf_string(const struct ethd_conf *map, const char *key, const char *def,
                     const char **out);
int ethd_conf_int(const struct ethd_conf *map, const char *key, int64_t min, int64_t max,
                  int64_t def, int64_t *out);
int ethd_conf_uint(const struct ethd_conf *map, const char *key, uint64_t min, uint64_t max,
                   uint64_t def, uint64_t *out);
int ethd_conf_bool(const struct ethd_conf *map, const char *key, bool def, bool *out);
/* "250ms", "15s", "2m", "1h", "1d" or a bare integer (seconds) -> milliseconds. */
int ethd_conf_duration(const struct ethd_conf *map, const char *key, uint64_t def_ms,
                       uint64_t *out_ms);
/* "512", "64KiB", "2MiB", "1GiB", "10kB", "5MB" -> bytes. */
int ethd_conf_size(const struct ethd_conf *map, const char *key, uint64_t def, uint64_t *out);
/* A list value (an absent key gives *out = NULL, returns 0; a non-list is an error). */
int ethd_conf_list(const struct ethd_conf *map, const char *key, const struct ethd_conf **out);
/* A map value (absent -> *out = NULL, returns 0; a non-map is an error). */
int ethd_conf_map(const struct ethd_conf *map, const char *key, const struct ethd_conf **out);

/* Record a service's own validation failure at node `n`: the message becomes
 * "FILE:LINE:COL: <fmt...>". Returns ETHD_ECONFIG. */
int ethd_conf_fail(const struct ethd_conf *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Last error recorded anywhere in the tree ("" if none); borrowed. */
const char *ethd_conf_error(const struct ethd_conf *n);

#endif
