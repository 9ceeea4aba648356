/* libFuzzer target for core/conf.c: parse arbitrary bytes as a config; on
 * success walk the whole tree through every reader, check the unknown-key
 * invariant, exercise CLI overrides, and free. Crashes, leaks, sanitizer
 * reports and broken invariants (abort) are findings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ethd/config.h>
#include <ethd/error.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Readers by key are linear lookups; bound them so a map of thousands of
 * keys does not make one input quadratic. */
#define KEYED_READS 64

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void read_all(const struct ethd_conf *map, const char *key)
{
    const char *s;
    int64_t i;
    uint64_t u;
    bool b;
    const struct ethd_conf *n;
    int rc;
    rc = ethd_conf_string(map, key, "d", &s);
    check(rc == 0 || rc == ETHD_ECONFIG);
    check(s != NULL);
    rc = ethd_conf_int(map, key, -5, 70000, 1, &i);
    check(rc == 0 ? (i == 1 || (i >= -5 && i <= 70000)) : (rc == ETHD_ECONFIG && i == 1));
    rc = ethd_conf_int(map, key, INT64_MIN, INT64_MAX, 0, &i);
    check(rc == 0 || rc == ETHD_ECONFIG);
    rc = ethd_conf_uint(map, key, 1, 100, 7, &u);
    check(rc == 0 ? (u == 7 || (u >= 1 && u <= 100)) : (rc == ETHD_ECONFIG && u == 7));
    rc = ethd_conf_bool(map, key, true, &b);
    check(rc == 0 || rc == ETHD_ECONFIG);
    rc = ethd_conf_duration(map, key, 3, &u);
    check(rc == 0 || (rc == ETHD_ECONFIG && u == 3));
    rc = ethd_conf_size(map, key, 3, &u);
    check(rc == 0 || (rc == ETHD_ECONFIG && u == 3));
    rc = ethd_conf_list(map, key, &n);
    check(rc == 0 ? (n == NULL || ethd_conf_type(n) == ETHD_CONF_LIST) : n == NULL);
    rc = ethd_conf_map(map, key, &n);
    check(rc == 0 ? (n == NULL || ethd_conf_type(n) == ETHD_CONF_MAP) : n == NULL);
    if (rc)
        check(strlen(ethd_conf_error(map)) > 0);
}

static void walk(const struct ethd_conf *n, unsigned depth)
{
    char buf[256];
    check(depth <= ETHD_CONF_MAX_DEPTH + 1);
    enum ethd_conf_type t = ethd_conf_type(n);
    ethd_conf_where(n, buf, sizeof(buf));
    check(buf[0] != '\0');
    ethd_conf_path(n, buf, sizeof(buf));
    check((ethd_conf_scalar(n) != NULL) == (t == ETHD_CONF_SCALAR));
    size_t len = ethd_conf_len(n);
    check(len == 0 || t == ETHD_CONF_LIST || t == ETHD_CONF_MAP);
    read_all(n, "a");
    for (size_t i = 0; i < len; i++) {
        const char *k = ethd_conf_key_at(n, i);
        check((k != NULL) == (t == ETHD_CONF_MAP));
        if (k && i < KEYED_READS) {
            check(ethd_conf_get(n, k) != NULL);
            read_all(n, k);
        }
        const struct ethd_conf *kid = ethd_conf_at(n, i);
        check(kid != NULL);
        walk(kid, depth + 1);
    }
    check(ethd_conf_at(n, len) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct ethd_conf *root = NULL;
    int rc = ethd_conf_load_string("fuzz.yaml", (const char *)data, size, &root, err, sizeof(err));
    if (rc) {
        check(root == NULL);
        check(rc == ETHD_ECONFIG || rc == ETHD_ETOOBIG || rc == ETHD_ENOMEM);
        check(err[0] != '\0');
        return 0;
    }
    check(root && ethd_conf_type(root) == ETHD_CONF_MAP && err[0] == '\0');
    rc = ethd_conf_check_unused(root, err, sizeof(err));
    check(rc == 0 ? ethd_conf_len(root) == 0 : (rc == ETHD_ECONFIG && err[0] != '\0'));

    walk(root, 1);
    /* ethd_conf_at reached every node: nothing can be unknown now */
    check(ethd_conf_check_unused(root, err, sizeof(err)) == 0);
    ethd_conf_fail(root, "%s", ethd_conf_error(root));

    /* Overrides through the first keys (which may contain dots). */
    for (size_t i = 0; i < 2 && i < ethd_conf_len(root); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s.x", ethd_conf_key_at(root, i));
        rc = ethd_conf_set(root, path, "1");
        check(rc == 0 || rc == ETHD_ECONFIG);
        rc = ethd_conf_set(root, ethd_conf_key_at(root, i), i ? NULL : "v");
        check(rc == 0 || rc == ETHD_ECONFIG);
    }
    ethd_conf_set(root, "services.example.greeting", "hi");
    ethd_conf_mark_used(root, true);
    check(ethd_conf_check_unused(root, err, sizeof(err)) == 0);
    ethd_conf_free(root);
    return 0;
}
