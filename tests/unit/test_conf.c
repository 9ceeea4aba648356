/* Unit tests for core/conf.c: YAML parsing into the config tree, typed
 * readers and their messages, unknown-key detection, CLI overrides. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ethd/config.h>
#include <ethd/error.h>

#include "conf.h"

static char err[2048];

static struct ethd_conf *load(const char *text)
{
    struct ethd_conf *c = NULL;
    int rc = ethd_conf_load_string("t.yaml", text, strlen(text), &c, err, sizeof(err));
    ck_assert_msg(rc == 0, "load failed (%d): %s", rc, err);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(err, "");
    return c;
}

static void load_fails(const char *text, int code, const char *msg)
{
    struct ethd_conf *c = (struct ethd_conf *)1;
    int rc = ethd_conf_load_string("t.yaml", text, strlen(text), &c, err, sizeof(err));
    ck_assert_int_eq(rc, code);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, msg);
}

/* Path of a file in tests/unit/conf/ of the source tree. */
static const char *datafile(const char *name)
{
    static char path[PATH_MAX];
    const char *src = getenv("ETHD_SRCDIR");
    ck_assert_msg(src != NULL, "ETHD_SRCDIR is not set (run through make check)");
    snprintf(path, sizeof(path), "%s/tests/unit/conf/%s", src, name);
    return path;
}

static char *where(const struct ethd_conf *n)
{
    static char buf[256];
    ethd_conf_where(n, buf, sizeof(buf));
    return buf;
}

static char *path(const struct ethd_conf *n)
{
    static char buf[256];
    ethd_conf_path(n, buf, sizeof(buf));
    return buf;
}

/* ---- parsing ---- */

START_TEST(parse_representative_file)
{
    const char *file = datafile("node.yaml");
    struct ethd_conf *c = NULL;
    ck_assert_int_eq(ethd_conf_load_file(file, &c, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(ethd_conf_type(c), ETHD_CONF_MAP);

    /* top-level keys in file order */
    static const char *const top[] = {"node", "p2p", "plugins", "rpc", "services"};
    ck_assert_uint_eq(ethd_conf_len(c), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(ethd_conf_key_at(c, i), top[i]);
    ck_assert_ptr_null(ethd_conf_key_at(c, 5));
    ck_assert_ptr_null(ethd_conf_at(c, 5));

    const struct ethd_conf *node = ethd_conf_get(c, "node");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(node, "mode")), "full");
    /* quoted string, trailing comment stripped */
    const char *dd;
    ck_assert_int_eq(ethd_conf_string(node, "datadir", NULL, &dd), 0);
    ck_assert_str_eq(dd, "/var/lib/ethd");

    const struct ethd_conf *p2p = ethd_conf_get(c, "p2p"), *peers;
    ck_assert_int_eq(ethd_conf_list(p2p, "static_peers", &peers), 0);
    ck_assert_uint_eq(ethd_conf_len(peers), 3);
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_at(peers, 1)), "enode://bb@10.0.0.2:30303");
    ck_assert_int_eq(ethd_conf_type(ethd_conf_at(peers, 2)), ETHD_CONF_LIST);
    ck_assert_ptr_null(ethd_conf_scalar(ethd_conf_at(peers, 2)));
    ck_assert_ptr_null(ethd_conf_at(peers, 3));

    /* flow list, mixed quoting */
    const struct ethd_conf *load_list;
    ck_assert_int_eq(ethd_conf_list(ethd_conf_get(c, "plugins"), "load", &load_list), 0);
    ck_assert_uint_eq(ethd_conf_len(load_list), 3);
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_at(load_list, 0)), "eth");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_at(load_list, 1)), "downloader-full");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_at(load_list, 2)), "les");

    /* `namespaces:` with nothing after it is NULL; NULL reads as absent */
    const struct ethd_conf *rpc = ethd_conf_get(c, "rpc"), *ns = (void *)1;
    ck_assert_int_eq(ethd_conf_type(ethd_conf_get(rpc, "namespaces")), ETHD_CONF_NULL);
    ck_assert_int_eq(ethd_conf_list(rpc, "namespaces", &ns), 0);
    ck_assert_ptr_null(ns);

    /* map order within a nested map, `~` and `{}` */
    const struct ethd_conf *svc = ethd_conf_get(c, "services");
    ck_assert_str_eq(ethd_conf_key_at(svc, 0), "example");
    ck_assert_str_eq(ethd_conf_key_at(svc, 1), "zeta");
    ck_assert_str_eq(ethd_conf_key_at(svc, 2), "alpha");
    ck_assert_int_eq(ethd_conf_type(ethd_conf_at(svc, 1)), ETHD_CONF_NULL);
    ck_assert_int_eq(ethd_conf_type(ethd_conf_at(svc, 2)), ETHD_CONF_MAP);
    ck_assert_uint_eq(ethd_conf_len(ethd_conf_at(svc, 2)), 0);
    const struct ethd_conf *ex = ethd_conf_get(svc, "example");
    ck_assert_str_eq(ethd_conf_key_at(ex, 0), "greeting");
    ck_assert_str_eq(ethd_conf_key_at(ex, 1), "gretting");
    ck_assert_str_eq(ethd_conf_key_at(ex, 2), "tick_interval");

    /* locations are the file's, 1-based */
    char exp[PATH_MAX + 32];
    snprintf(exp, sizeof(exp), "%s:7:14", file);
    ck_assert_str_eq(where(ethd_conf_get(p2p, "max_peers")), exp);
    snprintf(exp, sizeof(exp), "%s:3:1", file); /* the map starts at its first key */
    ck_assert_str_eq(where(c), exp);
    ck_assert_str_eq(path(c), "");
    ck_assert_str_eq(path(ethd_conf_get(ex, "greeting")), "services.example.greeting");
    ck_assert_str_eq(path(ethd_conf_at(peers, 2)), "p2p.static_peers[2]");
    ck_assert_str_eq(path(ethd_conf_at(ethd_conf_at(peers, 2), 1)), "p2p.static_peers[2][1]");
    ethd_conf_free(c);
}
END_TEST

START_TEST(typed_errors_in_file)
{
    const char *file = datafile("node.yaml");
    struct ethd_conf *c = NULL;
    ck_assert_int_eq(ethd_conf_load_file(file, &c, err, sizeof(err)), 0);
    const struct ethd_conf *p2p = ethd_conf_get(c, "p2p");
    int64_t v = 0;
    ck_assert_int_eq(ethd_conf_int(p2p, "max_peers", 0, 1000, 25, &v), ETHD_ECONFIG);
    ck_assert_int_eq(v, 25);
    char exp[PATH_MAX + 128];
    snprintf(exp, sizeof(exp), "%s:7:14: expected an integer for p2p.max_peers", file);
    ck_assert_str_eq(ethd_conf_error(c), exp);
    /* the one error buffer is reachable from any node of the tree */
    ck_assert_str_eq(ethd_conf_error(ethd_conf_get(c, "rpc")), exp);

    const char *s;
    const struct ethd_conf *peers;
    ck_assert_int_eq(ethd_conf_list(p2p, "static_peers", &peers), 0);
    ck_assert_int_eq(ethd_conf_string(ethd_conf_at(peers, 2), "x", "d", &s), ETHD_ECONFIG);
    snprintf(exp, sizeof(exp), "%s:12:7: expected a mapping for p2p.static_peers[2]", file);
    ck_assert_str_eq(ethd_conf_error(c), exp);

    const struct ethd_conf *rpc = ethd_conf_get(c, "rpc");
    ck_assert_int_eq(ethd_conf_int(rpc, "port", 1, 65535, 1, &v), 0); /* quoted "8545" */
    ck_assert_int_eq(v, 8545);
    bool b = false;
    ck_assert_int_eq(ethd_conf_bool(rpc, "enabled", false, &b), 0);
    ck_assert(b);
    uint64_t u;
    ck_assert_int_eq(ethd_conf_size(rpc, "max_body", 0, &u), 0);
    ck_assert_uint_eq(u, 5u << 20);
    ck_assert_int_eq(ethd_conf_duration(rpc, "timeout", 0, &u), 0);
    ck_assert_uint_eq(u, 30000);
    ck_assert_int_eq(ethd_conf_map(c, "plugins", &peers), 0);
    ck_assert_int_eq(ethd_conf_map(peers, "load", &peers), ETHD_ECONFIG);
    ck_assert_ptr_null(peers);
    snprintf(exp, sizeof(exp), "%s:14:9: expected a mapping for plugins.load", file);
    ck_assert_str_eq(ethd_conf_error(c), exp);
    ethd_conf_free(c);
}
END_TEST

START_TEST(empty_documents)
{
    static const char *const texts[] = {"", "# only\n# comments\n", "\n\n", "---\n", "--- ~\n",
                                        "---\n...\n", "{}"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct ethd_conf *c = load(texts[i]);
        ck_assert_int_eq(ethd_conf_type(c), ETHD_CONF_MAP);
        ck_assert_uint_eq(ethd_conf_len(c), 0);
        ck_assert_str_eq(ethd_conf_error(c), "");
        ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), 0);
        ethd_conf_free(c);
    }
    /* readers on an empty tree give defaults */
    struct ethd_conf *c = load("");
    int64_t v;
    ck_assert_int_eq(ethd_conf_int(c, "x", 0, 10, 7, &v), 0);
    ck_assert_int_eq(v, 7);
    ethd_conf_free(c);
}
END_TEST

START_TEST(null_and_scalars)
{
    struct ethd_conf *c = load("a:\nb: ~\nc: null\nd: NULL\ne: ''\nf: \"~\"\ng: 'null'\n"
                               "h: !!str ~\ni: !!null x\nj: nulls\n");
    static const struct {
        const char *k;
        enum ethd_conf_type t;
        const char *text;
    } want[] = {
        {"a", ETHD_CONF_NULL, NULL},       {"b", ETHD_CONF_NULL, NULL},
        {"c", ETHD_CONF_NULL, NULL},       {"d", ETHD_CONF_NULL, NULL},
        {"e", ETHD_CONF_SCALAR, ""},       {"f", ETHD_CONF_SCALAR, "~"},
        {"g", ETHD_CONF_SCALAR, "null"},   {"h", ETHD_CONF_SCALAR, "~"},
        {"i", ETHD_CONF_NULL, NULL},       {"j", ETHD_CONF_SCALAR, "nulls"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct ethd_conf *n = ethd_conf_get(c, want[i].k);
        ck_assert_msg(n != NULL, "key %s", want[i].k);
        ck_assert_int_eq(ethd_conf_type(n), want[i].t);
        if (want[i].text)
            ck_assert_str_eq(ethd_conf_scalar(n), want[i].text);
        else
            ck_assert_ptr_null(ethd_conf_scalar(n));
    }
    /* a NULL value reads as absent: the default */
    const char *s;
    ck_assert_int_eq(ethd_conf_string(c, "a", "dflt", &s), 0);
    ck_assert_str_eq(s, "dflt");
    ck_assert_int_eq(ethd_conf_string(c, "e", "dflt", &s), 0);
    ck_assert_str_eq(s, "");
    /* multi-line and escaped scalars */
    ethd_conf_free(c);
    c = load("a: |\n  line1\n  line2\nb: \"tab\\there\"\nc: >\n  folded\n  text\n");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(c, "a")), "line1\nline2\n");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(c, "b")), "tab\there");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(c, "c")), "folded text\n");
    ethd_conf_free(c);
}
END_TEST

/* ---- typed readers ---- */

START_TEST(int_reader)
{
    struct ethd_conf *c = load("a: 42\nb: -7\nc: 0x1F\nd: +5\ne: 007\nf: 12abc\ng: 1.5\n"
                               "h: 9223372036854775807\ni: -9223372036854775808\n"
                               "j: 9223372036854775808\nk: 99999999999999999999999\n"
                               "l: [1]\nm: 0x\nn: ''\no: '-0x10'\np: \" 1\"\n");
    int64_t v;
    ck_assert_int_eq(ethd_conf_int(c, "a", INT64_MIN, INT64_MAX, 0, &v), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(ethd_conf_int(c, "b", INT64_MIN, INT64_MAX, 0, &v), 0);
    ck_assert_int_eq(v, -7);
    ck_assert_int_eq(ethd_conf_int(c, "c", INT64_MIN, INT64_MAX, 0, &v), 0);
    ck_assert_int_eq(v, 31);
    ck_assert_int_eq(ethd_conf_int(c, "d", INT64_MIN, INT64_MAX, 0, &v), 0);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(ethd_conf_int(c, "e", INT64_MIN, INT64_MAX, 0, &v), 0);
    ck_assert_int_eq(v, 7); /* decimal, not octal (YAML 1.2 core schema) */
    ck_assert_int_eq(ethd_conf_int(c, "h", INT64_MIN, INT64_MAX, 0, &v), 0);
    ck_assert_int_eq(v, INT64_MAX);
    ck_assert_int_eq(ethd_conf_int(c, "i", INT64_MIN, INT64_MAX, 0, &v), 0);
    ck_assert_int_eq(v, INT64_MIN);
    ck_assert_int_eq(ethd_conf_int(c, "o", INT64_MIN, INT64_MAX, 0, &v), 0);
    ck_assert_int_eq(v, -16);
    ck_assert_int_eq(ethd_conf_int(c, "absent", 0, 10, 3, &v), 0);
    ck_assert_int_eq(v, 3);

    ck_assert_int_eq(ethd_conf_int(c, "f", 0, 100, 9, &v), ETHD_ECONFIG);
    ck_assert_int_eq(v, 9);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:6:4: expected an integer for f");
    ck_assert_int_eq(ethd_conf_int(c, "g", 0, 100, 9, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:7:4: expected an integer for g");
    ck_assert_int_eq(ethd_conf_int(c, "j", INT64_MIN, INT64_MAX, 0, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c),
                     "t.yaml:10:4: j must be between -9223372036854775808 and "
                     "9223372036854775807, got 9223372036854775808");
    ck_assert_int_eq(ethd_conf_int(c, "k", INT64_MIN, INT64_MAX, 0, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c),
                     "t.yaml:11:4: k must be between -9223372036854775808 and "
                     "9223372036854775807, got 99999999999999999999999");
    ck_assert_int_eq(ethd_conf_int(c, "l", 0, 100, 0, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:12:4: expected an integer for l");
    ck_assert_int_eq(ethd_conf_int(c, "m", 0, 100, 0, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:13:4: expected an integer for m");
    ck_assert_int_eq(ethd_conf_int(c, "n", 0, 100, 0, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:14:4: expected an integer for n");
    ck_assert_int_eq(ethd_conf_int(c, "p", 0, 100, 0, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:16:4: expected an integer for p");
    ethd_conf_free(c);
}
END_TEST

START_TEST(int_ranges)
{
    struct ethd_conf *c = load("services:\n  x:\n    port: 70000\n    low: -3\n    hex: 0x10000\n"
                               "    ok: 65535\n");
    const struct ethd_conf *x = ethd_conf_get(ethd_conf_get(c, "services"), "x");
    int64_t v = 0;
    ck_assert_int_eq(ethd_conf_int(x, "port", 1, 65535, 8545, &v), ETHD_ECONFIG);
    ck_assert_int_eq(v, 8545);
    ck_assert_str_eq(ethd_conf_error(c),
                     "t.yaml:3:11: services.x.port must be between 1 and 65535, got 70000");
    ck_assert_int_eq(ethd_conf_int(x, "low", 0, 10, 1, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c),
                     "t.yaml:4:10: services.x.low must be between 0 and 10, got -3");
    ck_assert_int_eq(ethd_conf_int(x, "hex", 1, 65535, 1, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c),
                     "t.yaml:5:10: services.x.hex must be between 1 and 65535, got 65536");
    ck_assert_int_eq(ethd_conf_int(x, "ok", 1, 65535, 1, &v), 0);
    ck_assert_int_eq(v, 65535);
    ck_assert_int_eq(ethd_conf_int(x, "ok", 1, 65534, 1, &v), ETHD_ECONFIG);
    ethd_conf_free(c);
}
END_TEST

START_TEST(uint_reader)
{
    struct ethd_conf *c = load("a: 18446744073709551615\nb: 18446744073709551616\nc: -1\n"
                               "d: -0\ne: 0xffffffffffffffff\nf: 0x10000000000000000\ng: 5\n"
                               "h: yes\n");
    uint64_t u;
    ck_assert_int_eq(ethd_conf_uint(c, "a", 0, UINT64_MAX, 0, &u), 0);
    ck_assert_uint_eq(u, UINT64_MAX);
    ck_assert_int_eq(ethd_conf_uint(c, "b", 0, UINT64_MAX, 0, &u), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:2:4: b must be between 0 and "
                                         "18446744073709551615, got 18446744073709551616");
    ck_assert_int_eq(ethd_conf_uint(c, "c", 0, 100, 4, &u), ETHD_ECONFIG);
    ck_assert_uint_eq(u, 4);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:3:4: c must be between 0 and 100, got -1");
    ck_assert_int_eq(ethd_conf_uint(c, "d", 0, 100, 4, &u), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_int_eq(ethd_conf_uint(c, "e", 0, UINT64_MAX, 0, &u), 0);
    ck_assert_uint_eq(u, UINT64_MAX);
    ck_assert_int_eq(ethd_conf_uint(c, "f", 0, UINT64_MAX, 0, &u), ETHD_ECONFIG);
    ck_assert_int_eq(ethd_conf_uint(c, "g", 10, 20, 15, &u), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:7:4: g must be between 10 and 20, got 5");
    ck_assert_int_eq(ethd_conf_uint(c, "h", 0, 1, 0, &u), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:8:4: expected an integer for h");
    ck_assert_int_eq(ethd_conf_uint(c, "absent", 0, 1, 1, &u), 0);
    ck_assert_uint_eq(u, 1);
    ethd_conf_free(c);
}
END_TEST

START_TEST(bool_reader)
{
    static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "on", "ON"};
    static const char *const f[] = {"false", "False", "no", "NO", "off", "Off"};
    char yaml[64];
    bool b;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        snprintf(yaml, sizeof(yaml), "k: %s\n", t[i]);
        struct ethd_conf *c = load(yaml);
        b = false;
        ck_assert_int_eq(ethd_conf_bool(c, "k", false, &b), 0);
        ck_assert_msg(b, "%s", t[i]);
        ethd_conf_free(c);
    }
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        snprintf(yaml, sizeof(yaml), "k: %s\n", f[i]);
        struct ethd_conf *c = load(yaml);
        b = true;
        ck_assert_int_eq(ethd_conf_bool(c, "k", true, &b), 0);
        ck_assert_msg(!b, "%s", f[i]);
        ethd_conf_free(c);
    }
    struct ethd_conf *c = load("rpc:\n  enabled: 1\n  x: [true]\n  y: truee\n");
    const struct ethd_conf *rpc = ethd_conf_get(c, "rpc");
    ck_assert_int_eq(ethd_conf_bool(rpc, "enabled", true, &b), ETHD_ECONFIG);
    ck_assert(b); /* default on error */
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:2:12: expected a boolean (true/false) for rpc.enabled");
    ck_assert_int_eq(ethd_conf_bool(rpc, "x", true, &b), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:3:6: expected a boolean (true/false) for rpc.x");
    ck_assert_int_eq(ethd_conf_bool(rpc, "y", true, &b), ETHD_ECONFIG);
    ck_assert_int_eq(ethd_conf_bool(rpc, "absent", false, &b), 0);
    ck_assert(!b);
    ethd_conf_free(c);
}
END_TEST

START_TEST(duration_reader)
{
    static const struct {
        const char *text;
        uint64_t ms;
    } good[] = {
        {"0", 0},
        {"15", 15000},
        {"250ms", 250},
        {"0ms", 0},
        {"15s", 15000},
        {"2m", 120000},
        {"1h", 3600000},
        {"1d", 86400000},
        {"007s", 7000},
        {"18446744073709551615ms", UINT64_MAX},
        {"213503982334d", 213503982334ull * 86400000ull},
    };
    char yaml[96];
    uint64_t ms;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(yaml, sizeof(yaml), "d: %s\n", good[i].text);
        struct ethd_conf *c = load(yaml);
        ck_assert_msg(ethd_conf_duration(c, "d", 1, &ms) == 0, "%s: %s", good[i].text,
                      ethd_conf_error(c));
        ck_assert_msg(ms == good[i].ms, "%s gave %llu", good[i].text, (unsigned long long)ms);
        ethd_conf_free(c);
    }
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"-5s", "t.yaml:1:4: d must not be negative, got -5s"},
        {"-1", "t.yaml:1:4: d must not be negative, got -1"},
        {"1.5s", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"15 s", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"5S", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"5sec", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"1h30m", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"s", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"''", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"0x10", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"{}", "t.yaml:1:4: expected a duration (e.g. 250ms, 15s, 2m, 1h, 1d) for d"},
        {"18446744073709551616ms", "t.yaml:1:4: d is too large, got 18446744073709551616ms"},
        {"18446744073709552s", "t.yaml:1:4: d is too large, got 18446744073709552s"},
        {"213503982335d", "t.yaml:1:4: d is too large, got 213503982335d"},
        {"99999999999999999999999h", "t.yaml:1:4: d is too large, got 99999999999999999999999h"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), "d: %s\n", bad[i].text);
        struct ethd_conf *c = load(yaml);
        ck_assert_msg(ethd_conf_duration(c, "d", 77, &ms) == ETHD_ECONFIG, "%s", bad[i].text);
        ck_assert_uint_eq(ms, 77);
        ck_assert_str_eq(ethd_conf_error(c), bad[i].msg);
        ethd_conf_free(c);
    }
    struct ethd_conf *c = load("d:\n");
    ck_assert_int_eq(ethd_conf_duration(c, "d", 5000, &ms), 0);
    ck_assert_uint_eq(ms, 5000);
    ethd_conf_free(c);
}
END_TEST

START_TEST(size_reader)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {
        {"0", 0},
        {"512", 512},
        {"512B", 512},
        {"10kB", 10000},
        {"10KB", 10000},
        {"64KiB", 65536},
        {"5MB", 5000000},
        {"2MiB", 2097152},
        {"3GB", 3000000000ull},
        {"1GiB", 1073741824ull},
        {"2TB", 2000000000000ull},
        {"1TiB", 1099511627776ull},
        {"18446744073709551615", UINT64_MAX},
        {"16777215TiB", 16777215ull << 40},
    };
    char yaml[96];
    uint64_t v;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(yaml, sizeof(yaml), "s: %s\n", good[i].text);
        struct ethd_conf *c = load(yaml);
        ck_assert_msg(ethd_conf_size(c, "s", 1, &v) == 0, "%s: %s", good[i].text,
                      ethd_conf_error(c));
        ck_assert_msg(v == good[i].bytes, "%s gave %llu", good[i].text, (unsigned long long)v);
        ethd_conf_free(c);
    }
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"-1KiB", "t.yaml:1:4: s must not be negative, got -1KiB"},
        {"1kiB", "t.yaml:1:4: expected a size (e.g. 512, 64KiB, 2MiB, 10kB) for s"},
        {"1mb", "t.yaml:1:4: expected a size (e.g. 512, 64KiB, 2MiB, 10kB) for s"},
        {"1K", "t.yaml:1:4: expected a size (e.g. 512, 64KiB, 2MiB, 10kB) for s"},
        {"1.5MiB", "t.yaml:1:4: expected a size (e.g. 512, 64KiB, 2MiB, 10kB) for s"},
        {"1 MiB", "t.yaml:1:4: expected a size (e.g. 512, 64KiB, 2MiB, 10kB) for s"},
        {"MiB", "t.yaml:1:4: expected a size (e.g. 512, 64KiB, 2MiB, 10kB) for s"},
        {"[1]", "t.yaml:1:4: expected a size (e.g. 512, 64KiB, 2MiB, 10kB) for s"},
        {"16777216TiB", "t.yaml:1:4: s is too large, got 16777216TiB"},
        {"18446744073709551616", "t.yaml:1:4: s is too large, got 18446744073709551616"},
        {"18446744073709552KB", "t.yaml:1:4: s is too large, got 18446744073709552KB"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), "s: %s\n", bad[i].text);
        struct ethd_conf *c = load(yaml);
        ck_assert_msg(ethd_conf_size(c, "s", 9, &v) == ETHD_ECONFIG, "%s", bad[i].text);
        ck_assert_uint_eq(v, 9);
        ck_assert_str_eq(ethd_conf_error(c), bad[i].msg);
        ethd_conf_free(c);
    }
}
END_TEST

START_TEST(string_list_map_readers)
{
    struct ethd_conf *c = load("s: hello world\nq: \"123\"\nn: 42\nl: [a, b]\nm: {x: 1}\n"
                               "plugins:\n  load: eth\n  opts: [1]\n");
    const char *s;
    ck_assert_int_eq(ethd_conf_string(c, "s", NULL, &s), 0);
    ck_assert_str_eq(s, "hello world");
    ck_assert_int_eq(ethd_conf_string(c, "q", NULL, &s), 0);
    ck_assert_str_eq(s, "123");
    ck_assert_int_eq(ethd_conf_string(c, "n", NULL, &s), 0); /* a plain number is text too */
    ck_assert_str_eq(s, "42");
    ck_assert_int_eq(ethd_conf_string(c, "absent", "dflt", &s), 0);
    ck_assert_str_eq(s, "dflt");
    ck_assert_int_eq(ethd_conf_string(c, "absent", NULL, &s), 0);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(ethd_conf_string(c, "l", "d", &s), ETHD_ECONFIG);
    ck_assert_str_eq(s, "d");
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:4:4: expected a string for l");
    ck_assert_int_eq(ethd_conf_string(c, "m", "d", &s), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:5:4: expected a string for m");

    const struct ethd_conf *out;
    ck_assert_int_eq(ethd_conf_list(c, "l", &out), 0);
    ck_assert_uint_eq(ethd_conf_len(out), 2);
    ck_assert_int_eq(ethd_conf_map(c, "m", &out), 0);
    ck_assert_uint_eq(ethd_conf_len(out), 1);
    ck_assert_int_eq(ethd_conf_list(c, "absent", &out), 0);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(ethd_conf_map(c, "absent", &out), 0);
    ck_assert_ptr_null(out);
    const struct ethd_conf *pl;
    ck_assert_int_eq(ethd_conf_map(c, "plugins", &pl), 0);
    ck_assert_int_eq(ethd_conf_list(pl, "load", &out), ETHD_ECONFIG);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:7:9: expected a list for plugins.load");
    ck_assert_int_eq(ethd_conf_map(pl, "opts", &out), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:8:9: expected a mapping for plugins.opts");

    /* readers on a non-map `map` argument fail; on NULL they give defaults */
    int64_t v;
    ck_assert_int_eq(ethd_conf_int(ethd_conf_get(c, "l"), "x", 0, 1, 0, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:4:4: expected a mapping for l");
    ck_assert_int_eq(ethd_conf_int(NULL, "x", 0, 9, 5, &v), 0);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(ethd_conf_int(c, NULL, 0, 9, 5, &v), ETHD_EINVAL);

    /* accessors on the wrong types */
    const struct ethd_conf *sn = ethd_conf_get(c, "s");
    ck_assert_uint_eq(ethd_conf_len(sn), 0);
    ck_assert_ptr_null(ethd_conf_at(sn, 0));
    ck_assert_ptr_null(ethd_conf_key_at(ethd_conf_get(c, "l"), 0));
    ck_assert_ptr_null(ethd_conf_get(sn, "x"));
    ck_assert_ptr_null(ethd_conf_scalar(ethd_conf_get(c, "m")));
    ck_assert_int_eq(ethd_conf_type(NULL), ETHD_CONF_NULL);
    ck_assert_uint_eq(ethd_conf_len(NULL), 0);
    ck_assert_str_eq(ethd_conf_error(NULL), "");
    ethd_conf_free(c);
}
END_TEST

START_TEST(fail_and_error_buffer)
{
    struct ethd_conf *c = load("services:\n  example:\n    greeting: hi\n");
    ck_assert_str_eq(ethd_conf_error(c), "");
    const struct ethd_conf *g =
        ethd_conf_get(ethd_conf_get(ethd_conf_get(c, "services"), "example"), "greeting");
    ck_assert_int_eq(ethd_conf_fail(g, "greeting must be at most %d characters", 1), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:3:15: greeting must be at most 1 characters");
    ck_assert_str_eq(ethd_conf_error(g), ethd_conf_error(c));
    /* re-wrapping the current message (arguments overlap the buffer) */
    ck_assert_int_eq(ethd_conf_fail(c, "wrapped: %s", ethd_conf_error(c)), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c),
                     "t.yaml:1:1: wrapped: t.yaml:3:15: greeting must be at most 1 characters");
    ck_assert_int_eq(ethd_conf_fail(NULL, "x"), ETHD_ECONFIG);
    ethd_conf_free(c);
}
END_TEST

/* ---- unknown keys ---- */

START_TEST(unknown_top_level)
{
    struct ethd_conf *c = load("node:\n  mode: dev\nnode2: x\n");
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:1:1: unknown key 'node' at the top level");
    ck_assert_str_eq(ethd_conf_error(c), err);
    const struct ethd_conf *node = ethd_conf_get(c, "node");
    /* `node` was read but its child was not */
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:2:3: unknown key 'mode' in node");
    const char *s;
    ck_assert_int_eq(ethd_conf_string(node, "mode", NULL, &s), 0);
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:3:1: unknown key 'node2' at the top level");
    ck_assert_ptr_nonnull(ethd_conf_get(c, "node2"));
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), 0);
    ck_assert_str_eq(err, "");
    ethd_conf_free(c);
}
END_TEST

START_TEST(unknown_in_service)
{
    struct ethd_conf *c = load("services:\n  example:\n    greeting: Hello\n    gretting: typo\n"
                               "  other:\n    a: 1\n");
    const struct ethd_conf *svc = ethd_conf_get(c, "services");
    const struct ethd_conf *ex = ethd_conf_get(svc, "example");
    const struct ethd_conf *other = ethd_conf_get(svc, "other");
    const char *s;
    ck_assert_int_eq(ethd_conf_string(ex, "greeting", NULL, &s), 0);
    /* a service checks only its own subtree */
    ck_assert_int_eq(ethd_conf_check_unused(ex, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:4:5: unknown key 'gretting' in services.example");
    int64_t v;
    ck_assert_int_eq(ethd_conf_int(other, "a", 0, 9, 0, &v), 0);
    ck_assert_int_eq(ethd_conf_check_unused(other, err, sizeof(err)), 0);
    /* the whole tree reports the typo first (file order) */
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:4:5: unknown key 'gretting' in services.example");
    /* err may be NULL: the message is still in the tree */
    ck_assert_int_eq(ethd_conf_check_unused(c, NULL, 0), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:4:5: unknown key 'gretting' in services.example");
    ethd_conf_mark_used(ethd_conf_get(ex, "gretting"), false);
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), 0);
    ethd_conf_free(c);
}
END_TEST

START_TEST(unknown_in_lists)
{
    struct ethd_conf *c = load("p2p:\n  static_peers: [a, b, c]\n  bootnodes:\n"
                               "    - {url: x, weight: 1}\n    - {url: y, wieght: 2}\n");
    const struct ethd_conf *p2p = ethd_conf_get(c, "p2p"), *l;
    /* reading a list covers its scalar items */
    ck_assert_int_eq(ethd_conf_list(p2p, "static_peers", &l), 0);
    /* but maps inside a list need their keys read */
    ck_assert_int_eq(ethd_conf_list(p2p, "bootnodes", &l), 0);
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:4:8: unknown key 'url' in p2p.bootnodes[0]");
    for (size_t i = 0; i < ethd_conf_len(l); i++) {
        const char *s;
        uint64_t w;
        ck_assert_int_eq(ethd_conf_string(ethd_conf_at(l, i), "url", NULL, &s), 0);
        ck_assert_int_eq(ethd_conf_uint(ethd_conf_at(l, i), "weight", 0, 9, 0, &w), 0);
    }
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:5:16: unknown key 'wieght' in p2p.bootnodes[1]");
    ethd_conf_free(c);
}
END_TEST

START_TEST(mark_used_recursive)
{
    struct ethd_conf *c = load("a:\n  b:\n    c: 1\n    d: [ {e: 1} ]\nz: 2\n");
    ethd_conf_mark_used(ethd_conf_get(c, "a"), true);
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:5:1: unknown key 'z' at the top level");
    ethd_conf_free(c);

    /* non-recursive marks only the node (and its ancestors) */
    c = load("a:\n  b:\n    c: 1\n");
    struct ethd_conf *copy = c;
    const struct ethd_conf *b = ethd_conf_at(ethd_conf_at(copy, 0), 0);
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:3:5: unknown key 'c' in a.b");
    ethd_conf_mark_used(ethd_conf_at(b, 0), false);
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), 0);
    ethd_conf_free(c);
}
END_TEST

/* ---- rejected documents ---- */

START_TEST(duplicate_keys)
{
    load_fails("a: 1\nb: 2\na: 3\n", ETHD_ECONFIG, "t.yaml:3:1: duplicate key 'a'");
    load_fails("x:\n  p: 1\n  q: 2\n  p: 3\n", ETHD_ECONFIG, "t.yaml:4:3: duplicate key 'p'");
    load_fails("m: {k: 1, k: 2}\n", ETHD_ECONFIG, "t.yaml:1:11: duplicate key 'k'");
    load_fails("l:\n  - {k: 1}\n  - {k: 2, j: 1, k: 3}\n", ETHD_ECONFIG,
               "t.yaml:3:18: duplicate key 'k'");
    /* the same key in different maps is fine, as are 'a' vs "a " */
    struct ethd_conf *c = load("a: {k: 1}\nb: {k: 2}\nk: 3\n'a ': 4\n");
    ck_assert_uint_eq(ethd_conf_len(c), 4);
    ethd_conf_free(c);
}
END_TEST

START_TEST(duplicate_keys_many)
{
    /* thousands of keys: found via the hash set, not a quadratic scan */
    size_t n = 20000, cap = n * 16 + 64, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "k%zu: %zu\n", i, i);
    struct ethd_conf *c = NULL;
    ck_assert_int_eq(ethd_conf_load_string("t.yaml", text, len, &c, err, sizeof(err)), 0);
    ck_assert_uint_eq(ethd_conf_len(c), n);
    ck_assert_str_eq(ethd_conf_key_at(c, n - 1), "k19999");
    ethd_conf_free(c);
    len += (size_t)snprintf(text + len, cap - len, "k12345: again\n");
    ck_assert_int_eq(ethd_conf_load_string("t.yaml", text, len, &c, err, sizeof(err)),
                     ETHD_ECONFIG);
    ck_assert_str_eq(err, "t.yaml:20001:1: duplicate key 'k12345'");
    free(text);
}
END_TEST

START_TEST(aliases_refused)
{
    load_fails("base: &b {x: 1}\nother: *b\n", ETHD_ECONFIG,
               "t.yaml:1:7: anchors and aliases are not supported ('&b')");
    load_fails("a: 1\nb: *nowhere\n", ETHD_ECONFIG,
               "t.yaml:2:4: anchors and aliases are not supported ('*nowhere')");
    load_fails("a: [&x 1]\n", ETHD_ECONFIG,
               "t.yaml:1:5: anchors and aliases are not supported ('&x')");
    /* billion laughs: refused at the first anchor, no expansion */
    load_fails("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\n"
               "c: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n",
               ETHD_ECONFIG, "t.yaml:1:4: anchors and aliases are not supported ('&a')");
    load_fails("<<: {a: 1}\nx: &y 2\n", ETHD_ECONFIG,
               "t.yaml:2:4: anchors and aliases are not supported ('&y')");
}
END_TEST

START_TEST(tags)
{
    struct ethd_conf *c = load("a: !!str 123\nb: !!int 5\nc: ! x\nd: !!map {k: v}\ne: !!seq [1]\n");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(c, "a")), "123");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(c, "c")), "x");
    ck_assert_int_eq(ethd_conf_type(ethd_conf_get(c, "d")), ETHD_CONF_MAP);
    ck_assert_int_eq(ethd_conf_type(ethd_conf_get(c, "e")), ETHD_CONF_LIST);
    ethd_conf_free(c);
    load_fails("a: !custom 1\n", ETHD_ECONFIG, "t.yaml:1:4: unsupported tag '!custom'");
    load_fails("a: !<tag:example.com,2000:x> {}\n", ETHD_ECONFIG,
               "t.yaml:1:4: unsupported tag 'tag:example.com,2000:x'");
}
END_TEST

START_TEST(broken_yaml)
{
    load_fails("a: \"unterminated\nb: 1\n", ETHD_ECONFIG,
               "t.yaml:3:1: found unexpected end of stream while scanning a quoted scalar "
               "(started at line 1, column 4)");
    load_fails("a:\n  b: 1\n c: 2\n", ETHD_ECONFIG,
               "t.yaml:3:2: did not find expected key while parsing a block mapping "
               "(started at line 1, column 1)");
    load_fails("a:\n\tb: 1\n", ETHD_ECONFIG,
               "t.yaml:2:1: found character that cannot start any token while scanning for the "
               "next token (tabs are not allowed for indentation)");
    load_fails("a: 1\nb: c: d\n", ETHD_ECONFIG,
               "t.yaml:2:5: mapping values are not allowed in this context");
    load_fails("a: [1, 2\n", ETHD_ECONFIG,
               "t.yaml:2:1: did not find expected ',' or ']' while parsing a flow sequence "
               "(started at line 1, column 4)");
    /* reader-level errors are located from their byte offset */
    load_fails("a: 1\nb: x\x01y\n", ETHD_ECONFIG, "t.yaml:2:5: control characters are not allowed");
    load_fails("a: 1\n\xc3\xa9: \xff\n", ETHD_ECONFIG, "t.yaml:2:4: invalid leading UTF-8 octet");
    load_fails("a: \"x\\0y\"\n", ETHD_ECONFIG, "t.yaml:1:4: NUL characters are not supported");
    struct ethd_conf *c = (void *)1;
    ck_assert_int_eq(ethd_conf_load_string("t.yaml", "a: 1\0b: 2", 9, &c, err, sizeof(err)),
                     ETHD_ECONFIG);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, "t.yaml:1:5: control characters are not allowed");
    /* a tiny error buffer is truncated, never overrun */
    char small[8];
    ck_assert_int_eq(ethd_conf_load_string("t.yaml", "a: [", 4, &c, small, sizeof(small)),
                     ETHD_ECONFIG);
    ck_assert_str_eq(small, "t.yaml:");
    ck_assert_int_eq(ethd_conf_load_string("t.yaml", "a: [", 4, &c, NULL, 0), ETHD_ECONFIG);
}
END_TEST

START_TEST(structure_errors)
{
    load_fails("- a\n- b\n", ETHD_ECONFIG, "t.yaml:1:1: the top level must be a mapping");
    load_fails("[a, b]\n", ETHD_ECONFIG, "t.yaml:1:1: the top level must be a mapping");
    load_fails("just text\n", ETHD_ECONFIG, "t.yaml:1:1: the top level must be a mapping");
    load_fails("# c\n\n  42\n", ETHD_ECONFIG, "t.yaml:3:3: the top level must be a mapping");
    load_fails("a: 1\n---\nb: 2\n", ETHD_ECONFIG, "t.yaml:2:1: only one YAML document is allowed");
    load_fails("? [a]\n: 1\n", ETHD_ECONFIG, "t.yaml:1:3: a mapping key must be a scalar");
    load_fails("? {a: 1}\n: 1\n", ETHD_ECONFIG, "t.yaml:1:3: a mapping key must be a scalar");
    load_fails("~: 1\n", ETHD_ECONFIG, "t.yaml:1:1: a mapping key must not be empty or null");
    load_fails("a: 1\n? \n: 2\n", ETHD_ECONFIG, "t.yaml:2:2: a mapping key must not be empty or null");
    load_fails("{~: 1}\n", ETHD_ECONFIG, "t.yaml:1:2: a mapping key must not be empty or null");
    /* quoted empty / "null" keys are ordinary strings */
    struct ethd_conf *c = load("'': 1\n\"null\": 2\n");
    ck_assert_str_eq(ethd_conf_key_at(c, 0), "");
    ck_assert_str_eq(ethd_conf_key_at(c, 1), "null");
    ethd_conf_free(c);
}
END_TEST

static char *nested(size_t levels, bool flow)
{
    char *t = malloc(levels * (flow ? 8 : 2 * levels + 16) + 64);
    size_t len = 0;
    ck_assert_ptr_nonnull(t);
    if (flow) {
        /* the top-level map is level 1; k: [[...[1]...]] adds levels - 1 lists */
        len += (size_t)sprintf(t, "k: ");
        for (size_t i = 1; i < levels; i++)
            t[len++] = '[';
        t[len++] = '1';
        for (size_t i = 1; i < levels; i++)
            t[len++] = ']';
        t[len++] = '\n';
    } else {
        for (size_t i = 0; i < levels; i++)
            len += (size_t)sprintf(t + len, "%*sk%zu:\n", (int)(2 * i), "", i);
        len += (size_t)sprintf(t + len, "%*sleaf: 1\n", (int)(2 * levels), "");
    }
    t[len] = '\0';
    return t;
}

START_TEST(nesting_depth)
{
    /* block maps: levels keys + leaf -> levels + 1 maps including the root */
    char *t = nested(ETHD_CONF_MAX_DEPTH - 1, false);
    struct ethd_conf *c = load(t);
    ethd_conf_free(c);
    free(t);
    t = nested(ETHD_CONF_MAX_DEPTH, false);
    char exp[128];
    /* the map holding `leaf` is one level too many; it starts at `leaf` */
    snprintf(exp, sizeof(exp), "t.yaml:%d:%d: nesting deeper than %d levels",
             ETHD_CONF_MAX_DEPTH + 1, 2 * ETHD_CONF_MAX_DEPTH + 1, ETHD_CONF_MAX_DEPTH);
    load_fails(t, ETHD_ECONFIG, exp);
    free(t);

    t = nested(ETHD_CONF_MAX_DEPTH, true);
    c = load(t);
    const struct ethd_conf *n = ethd_conf_get(c, "k");
    for (int i = 2; i < ETHD_CONF_MAX_DEPTH; i++)
        n = ethd_conf_at(n, 0);
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_at(n, 0)), "1");
    ethd_conf_free(c);
    free(t);
    t = nested(ETHD_CONF_MAX_DEPTH + 1, true);
    snprintf(exp, sizeof(exp), "t.yaml:1:%d: nesting deeper than %d levels",
             3 + ETHD_CONF_MAX_DEPTH, ETHD_CONF_MAX_DEPTH);
    load_fails(t, ETHD_ECONFIG, exp);
    free(t);
    /* very deep flow nesting is refused quickly, without recursion */
    size_t deep = 100000;
    t = malloc(deep + 8);
    memcpy(t, "k: ", 3);
    memset(t + 3, '[', deep);
    t[deep + 3] = '\0';
    ck_assert_int_eq(ethd_conf_load_string("t.yaml", t, strlen(t), &c, err, sizeof(err)),
                     ETHD_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "nesting deeper than"));
    free(t);
}
END_TEST

/* ---- files ---- */

static char *tmpfile_with(const char *text, size_t len)
{
    static char name[64];
    strcpy(name, "/tmp/ethd-test-conf-XXXXXX");
    int fd = mkstemp(name);
    ck_assert_int_ge(fd, 0);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        ck_assert_int_gt(w, 0);
        off += (size_t)w;
    }
    close(fd);
    return name;
}

START_TEST(file_errors)
{
    struct ethd_conf *c = (void *)1;
    ck_assert_int_eq(ethd_conf_load_file("/nonexistent/ethd.yaml", &c, err, sizeof(err)),
                     ETHD_EIO);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, "/nonexistent/ethd.yaml: cannot open: No such file or directory");
    ck_assert_int_eq(ethd_conf_load_file("/tmp", &c, err, sizeof(err)), ETHD_EIO);
    ck_assert_str_eq(err, "/tmp: cannot read: Is a directory");
    ck_assert_int_eq(ethd_conf_load_file(NULL, &c, err, sizeof(err)), ETHD_EINVAL);

    /* exactly the limit is fine (a big comment), one byte more is not */
    size_t max = ETHD_CONF_MAX_FILE;
    char *big = malloc(max + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', max + 1);
    memcpy(big, "a: 1\n#", 6);
    big[max - 1] = '\n';
    char *name = tmpfile_with(big, max);
    ck_assert_int_eq(ethd_conf_load_file(name, &c, err, sizeof(err)), 0);
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(c, "a")), "1");
    ethd_conf_free(c);
    unlink(name);
    big[max] = '\n';
    name = tmpfile_with(big, max + 1);
    ck_assert_int_eq(ethd_conf_load_file(name, &c, err, sizeof(err)), ETHD_ETOOBIG);
    ck_assert_ptr_null(c);
    char exp[128];
    snprintf(exp, sizeof(exp), "%s: file is larger than %u bytes", name, ETHD_CONF_MAX_FILE);
    ck_assert_str_eq(err, exp);
    unlink(name);
    ck_assert_int_eq(ethd_conf_load_string("<embedded default>", big, max + 1, &c, err,
                                           sizeof(err)),
                     ETHD_ETOOBIG);
    snprintf(exp, sizeof(exp), "<embedded default>: file is larger than %u bytes",
             ETHD_CONF_MAX_FILE);
    ck_assert_str_eq(err, exp);
    free(big);
    /* an endless device is bounded by the limit */
    ck_assert_int_eq(ethd_conf_load_file("/dev/zero", &c, err, sizeof(err)), ETHD_ETOOBIG);

    /* a syntax error names the file */
    name = tmpfile_with("a: 1\nb: c: d\n", 13);
    ck_assert_int_eq(ethd_conf_load_file(name, &c, err, sizeof(err)), ETHD_ECONFIG);
    snprintf(exp, sizeof(exp), "%s:2:5: mapping values are not allowed in this context", name);
    ck_assert_str_eq(err, exp);
    unlink(name);
}
END_TEST

START_TEST(embedded_name)
{
    const char text[] = "rpc:\n  port: x\n";
    struct ethd_conf *c = NULL;
    ck_assert_int_eq(ethd_conf_load_string("<embedded default>", text, sizeof(text) - 1, &c, err,
                                           sizeof(err)),
                     0);
    int64_t v;
    ck_assert_int_eq(ethd_conf_int(ethd_conf_get(c, "rpc"), "port", 1, 65535, 8545, &v),
                     ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "<embedded default>:2:9: expected an integer for rpc.port");
    ck_assert_str_eq(where(ethd_conf_get(c, "rpc")), "<embedded default>:2:3");
    ethd_conf_free(c);
}
END_TEST

/* ---- command-line overrides ---- */

START_TEST(set_overrides)
{
    struct ethd_conf *c = load("rpc:\n  port: 8545\n  host: localhost\nempty:\nlist: [1]\n");
    /* replace an existing value, keeping its place */
    ck_assert_int_eq(ethd_conf_set(c, "rpc.port", "8546"), 0);
    const struct ethd_conf *rpc = ethd_conf_get(c, "rpc");
    ck_assert_str_eq(ethd_conf_key_at(rpc, 0), "port");
    int64_t v;
    ck_assert_int_eq(ethd_conf_int(rpc, "port", 1, 65535, 1, &v), 0);
    ck_assert_int_eq(v, 8546);
    ck_assert_str_eq(where(ethd_conf_get(rpc, "port")), "<command line>");
    ck_assert_int_eq(ethd_conf_set(c, "rpc.port", "x"), 0);
    ck_assert_int_eq(ethd_conf_int(rpc, "port", 1, 65535, 1, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "<command line>: expected an integer for rpc.port");

    /* new path: maps are created on the way, in order after existing keys */
    ck_assert_int_eq(ethd_conf_set(c, "services.example.greeting", "hi there"), 0);
    ck_assert_uint_eq(ethd_conf_len(c), 4);
    ck_assert_str_eq(ethd_conf_key_at(c, 3), "services");
    const struct ethd_conf *ex = ethd_conf_get(ethd_conf_get(c, "services"), "example");
    ck_assert_int_eq(ethd_conf_type(ex), ETHD_CONF_MAP);
    const char *s;
    ck_assert_int_eq(ethd_conf_string(ex, "greeting", NULL, &s), 0);
    ck_assert_str_eq(s, "hi there");
    ck_assert_str_eq(path(ethd_conf_get(ex, "greeting")), "services.example.greeting");

    /* into a null value: it becomes a map */
    ck_assert_int_eq(ethd_conf_set(c, "empty.x", "1"), 0);
    ck_assert_int_eq(ethd_conf_type(ethd_conf_get(c, "empty")), ETHD_CONF_MAP);

    /* replacing a map by a scalar frees the subtree (checked by LeakSanitizer) */
    ck_assert_int_eq(ethd_conf_set(c, "services.example", "off"), 0);
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(ethd_conf_get(c, "services"), "example")),
                     "off");
    ck_assert_int_eq(ethd_conf_set(c, "rpc.host", NULL), 0);
    ck_assert_int_eq(ethd_conf_type(ethd_conf_get(rpc, "host")), ETHD_CONF_NULL);

    /* into a scalar or a list: error, tree unchanged */
    ck_assert_int_eq(ethd_conf_set(c, "rpc.port.deeper.x", "1"), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "<command line>: cannot set rpc.port.deeper.x from the "
                                         "command line: rpc.port is not a mapping");
    ck_assert_str_eq(ethd_conf_scalar(ethd_conf_get(rpc, "port")), "x");
    ck_assert_int_eq(ethd_conf_set(c, "list.a", "1"), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c),
                     "t.yaml:5:7: cannot set list.a from the command line: list is not a mapping");
    ck_assert_uint_eq(ethd_conf_len(ethd_conf_get(c, "list")), 1);

    /* malformed paths */
    ck_assert_int_eq(ethd_conf_set(c, "a..b", "1"), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "<command line>: invalid key path 'a..b'");
    ck_assert_int_eq(ethd_conf_set(c, "", "1"), ETHD_ECONFIG);
    ck_assert_int_eq(ethd_conf_set(c, ".a", "1"), ETHD_ECONFIG);
    ck_assert_int_eq(ethd_conf_set(c, "a.", "1"), ETHD_ECONFIG);
    ck_assert_int_eq(ethd_conf_set(NULL, "a", "1"), ETHD_EINVAL);
    ck_assert_uint_eq(ethd_conf_len(c), 4);
    ethd_conf_free(c);
}
END_TEST

START_TEST(set_unknown_and_depth)
{
    struct ethd_conf *c = load("");
    ck_assert_int_eq(ethd_conf_set(c, "rpc.prot", "1"), 0);
    ck_assert_ptr_nonnull(ethd_conf_get(c, "rpc"));
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_str_eq(err, "<command line>: unknown key 'prot' in rpc");

    char p[4 * ETHD_CONF_MAX_DEPTH + 8] = "";
    for (int i = 0; i < ETHD_CONF_MAX_DEPTH; i++)
        strcat(p, i ? ".a" : "a");
    ck_assert_int_eq(ethd_conf_set(c, p, "1"), 0);
    strcat(p, ".a");
    ck_assert_int_eq(ethd_conf_set(c, p, "1"), ETHD_ECONFIG);
    ck_assert_ptr_nonnull(strstr(ethd_conf_error(c), "is nested deeper than 32 levels"));
    ethd_conf_free(c);
}
END_TEST

START_TEST(where_and_path)
{
    struct ethd_conf *c = load("p2p:\n  static_peers:\n    - a\n    - b\n    - c\n"
                               "l: [[x, {y: [z]}]]\n");
    const struct ethd_conf *sp = ethd_conf_get(ethd_conf_get(c, "p2p"), "static_peers");
    ck_assert_str_eq(path(ethd_conf_at(sp, 2)), "p2p.static_peers[2]");
    ck_assert_str_eq(where(ethd_conf_at(sp, 2)), "t.yaml:5:7");
    ck_assert_str_eq(where(sp), "t.yaml:3:5");
    const struct ethd_conf *y = ethd_conf_get(ethd_conf_at(ethd_conf_at(ethd_conf_get(c, "l"), 0), 1), "y");
    ck_assert_str_eq(path(ethd_conf_at(y, 0)), "l[0][1].y[0]");
    ck_assert_str_eq(where(ethd_conf_at(y, 0)), "t.yaml:6:14");
    /* an error on a list item carries the indexed path */
    int64_t v;
    ck_assert_int_eq(ethd_conf_int(ethd_conf_at(sp, 1), "k", 0, 1, 0, &v), ETHD_ECONFIG);
    ck_assert_str_eq(ethd_conf_error(c), "t.yaml:4:7: expected a mapping for p2p.static_peers[1]");
    /* truncation is safe */
    char small[6];
    ethd_conf_path(ethd_conf_at(sp, 2), small, sizeof(small));
    ck_assert_str_eq(small, "p2p.s");
    ethd_conf_where(ethd_conf_at(sp, 2), small, sizeof(small));
    ck_assert_str_eq(small, "t.yam");
    ethd_conf_where(NULL, small, sizeof(small));
    ck_assert_str_eq(small, "");
    ethd_conf_path(c, small, 0); /* len 0: nothing written */
    ethd_conf_free(c);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parse_representative_file);
    tcase_add_test(tc, typed_errors_in_file);
    tcase_add_test(tc, empty_documents);
    tcase_add_test(tc, null_and_scalars);
    tcase_add_test(tc, embedded_name);
    tcase_add_test(tc, where_and_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("readers");
    tcase_add_test(tc, int_reader);
    tcase_add_test(tc, int_ranges);
    tcase_add_test(tc, uint_reader);
    tcase_add_test(tc, bool_reader);
    tcase_add_test(tc, duration_reader);
    tcase_add_test(tc, size_reader);
    tcase_add_test(tc, string_list_map_readers);
    tcase_add_test(tc, fail_and_error_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("unknown_keys");
    tcase_add_test(tc, unknown_top_level);
    tcase_add_test(tc, unknown_in_service);
    tcase_add_test(tc, unknown_in_lists);
    tcase_add_test(tc, mark_used_recursive);
    suite_add_tcase(s, tc);

    tc = tcase_create("rejected");
    tcase_add_test(tc, duplicate_keys);
    tcase_add_test(tc, duplicate_keys_many);
    tcase_add_test(tc, aliases_refused);
    tcase_add_test(tc, tags);
    tcase_add_test(tc, broken_yaml);
    tcase_add_test(tc, structure_errors);
    tcase_add_test(tc, nesting_depth);
    tcase_add_test(tc, file_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("set");
    tcase_add_test(tc, set_overrides);
    tcase_add_test(tc, set_unknown_and_depth);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
