/* Node lifecycle, plugin loader, registry and interfaces, driven through the
 * real loader with the test plugins in tests/plugin/. */
#include "conf.h"
#include "log.h"
#include "node.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];
static char trace_path[300];
static char plugin_dir[512];
static struct ethd_log_sink *sink;

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ethd-test-node-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(trace_path, sizeof(trace_path), "%s/trace", tmpdir);
    const char *b = getenv("ETHD_BUILDDIR");
    ck_assert_msg(b != NULL, "ETHD_BUILDDIR not set (run through make check)");
    snprintf(plugin_dir, sizeof(plugin_dir), "%s/tests/plugin", b);
    ck_assert_int_eq(ethd_log_sink_open(NULL, ETHD_LOG_WARN, &sink, NULL, 0), 0);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    ethd_log_sink_close(sink);
}

/* Config with the test plugin dir and a temp datadir; `body` adds plugins/services. */
static struct ethd_conf *make_conf(const char *plugins, const char *services)
{
    char *yaml;
    ck_assert_int_ge(asprintf(&yaml,
                              "node: {mode: dev, datadir: '%s/data'}\n"
                              "plugins:\n  path: ['%s']\n  load: [%s]\n"
                              "rpc: {enabled: true, port: 0}\n"
                              "p2p: {port: 0}\n"
                              "services:\n%s",
                              tmpdir, plugin_dir, plugins, services),
                     0);
    struct ethd_conf *c = NULL;
    char err[512];
    int rc = ethd_conf_load_string("test.yaml", yaml, strlen(yaml), &c, err, sizeof(err));
    ck_assert_msg(rc == 0, "config: %s\n%s", err, yaml);
    free(yaml);
    return c;
}

static char *read_trace(void)
{
    static char buf[4096];
    buf[0] = '\0';
    FILE *f = fopen(trace_path, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Start a node from conf; returns the start code; err filled. */
static int start_node(struct ethd_conf *c, struct ethd_node **out, char *err, size_t len)
{
    int rc = ethd_node_new(c, sink, out, err, len);
    if (rc)
        return rc;
    return ethd_node_start(*out, err, len);
}


static struct ethd_conf *lc_conf(const char *extra_a, const char *extra_b, const char *extra_c)
{
    char *svc;
    ck_assert_int_ge(asprintf(&svc,
                              "  lc-a: {trace: '%s'%s}\n  lc-b: {trace: '%s'%s}\n"
                              "  lc-c: {trace: '%s'%s}\n",
                              trace_path, extra_a, trace_path, extra_b, trace_path, extra_c),
                     0);
    struct ethd_conf *c = make_conf("lifecycle", svc);
    free(svc);
    return c;
}

START_TEST(order_start_and_reverse_stop)
{
    struct ethd_conf *c = lc_conf("", "", "");
    struct ethd_node *node = NULL;
    char err[1024] = "";
    ck_assert_msg(start_node(c, &node, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_ne(ethd_node_rpc_port(node), 0);
    ethd_node_free(node);
    ck_assert_str_eq(read_trace(), "create lc-a\ncreate lc-b\ncreate lc-c\n"
                                   "start lc-a\nstart lc-b\nstart lc-c\n"
                                   "stop lc-c\nstop lc-b\nstop lc-a\n"
                                   "destroy lc-c\ndestroy lc-b\ndestroy lc-a\n");
    ethd_conf_free(c);
}
END_TEST

START_TEST(start_failure_unwinds_in_reverse)
{
    struct ethd_conf *c = lc_conf("", ", fail: start", "");
    struct ethd_node *node = NULL;
    char err[1024] = "";
    int rc = start_node(c, &node, err, sizeof(err));
    ck_assert_int_eq(rc, ETHD_EIO);
    ck_assert_msg(strstr(err, "service 'lc-b' (plugin lifecycle) failed to start: asked to fail "
                              "at start"),
                  "%s", err);
    ck_assert_str_eq(read_trace(), "create lc-a\ncreate lc-b\ncreate lc-c\n"
                                   "start lc-a\nstart lc-b\nstop lc-a\n"
                                   "destroy lc-c\ndestroy lc-b\ndestroy lc-a\n");
    /* The data dir lock was released by the unwind: a new node can start. */
    ethd_node_free(node);
    ethd_conf_free(c);
    c = lc_conf("", "", "");
    ck_assert_msg(start_node(c, &node, err, sizeof(err)) == 0, "%s", err);
    ethd_node_free(node);
    ethd_conf_free(c);
}
END_TEST

START_TEST(create_failure_destroys_only_created)
{
    struct ethd_conf *c = lc_conf("", ", fail: create", "");
    struct ethd_node *node = NULL;
    char err[1024] = "";
    ck_assert_int_eq(start_node(c, &node, err, sizeof(err)), ETHD_EINVAL);
    ck_assert_msg(strstr(err, "service 'lc-b' (plugin lifecycle) failed to create"), "%s", err);
    ck_assert_str_eq(read_trace(), "create lc-a\ncreate lc-b\ndestroy lc-a\n");
    ethd_node_free(node);
    ethd_conf_free(c);
}
END_TEST

START_TEST(stop_failure_is_logged_and_shutdown_continues)
{
    struct ethd_conf *c = lc_conf("", ", fail: stop", "");
    struct ethd_node *node = NULL;
    char err[1024] = "";
    ck_assert_msg(start_node(c, &node, err, sizeof(err)) == 0, "%s", err);
    ethd_node_free(node);
    ck_assert_str_eq(read_trace(), "create lc-a\ncreate lc-b\ncreate lc-c\n"
                                   "start lc-a\nstart lc-b\nstart lc-c\n"
                                   "stop lc-c\nstop lc-b\nstop lc-a\n"
                                   "destroy lc-c\ndestroy lc-b\ndestroy lc-a\n");
    ethd_conf_free(c);
}
END_TEST

START_TEST(stop_request_during_startup_unwinds)
{
    struct ethd_conf *c = lc_conf("", "", "");
    struct ethd_node *node = NULL;
    char err[1024] = "";
    ck_assert_int_eq(ethd_node_new(c, sink, &node, err, sizeof(err)), 0);
    ethd_node_request_stop(node); /* what the SIGTERM handler does */
    ck_assert_int_eq(ethd_node_start(node, err, sizeof(err)), ETHD_ECANCELED);
    ck_assert_msg(strstr(err, "interrupted"), "%s", err);
    ck_assert_str_eq(read_trace(), "");
    ethd_node_free(node);
    ethd_conf_free(c);
}
END_TEST

START_TEST(interfaces_publish_and_lookup)
{
    struct ethd_conf *c = lc_conf(", publish: thing/2", ", lookup: thing/1", "");
    struct ethd_node *node = NULL;
    char err[1024] = "";
    ck_assert_msg(start_node(c, &node, err, sizeof(err)) == 0, "%s", err);
    ck_assert_msg(strstr(read_trace(), "start lc-b\nfound lc-b\n"), "%s", read_trace());
    ethd_node_free(node);
    ethd_conf_free(c);

    unlink(trace_path);
    c = lc_conf(", publish: thing/2", "", ", lookup: thing/3");
    ck_assert_int_eq(start_node(c, &node, err, sizeof(err)), ETHD_EABI);
    ck_assert_msg(strstr(err, "needs interface thing/3, but service 'lc-a' publishes thing/2"),
                  "%s", err);
    ethd_node_free(node);
    ethd_conf_free(c);

    c = lc_conf("", ", lookup: chain/1", "");
    ck_assert_int_eq(start_node(c, &node, err, sizeof(err)), ETHD_ENOTFOUND);
    ck_assert_msg(strstr(err, "needs interface chain/1, which no service publishes"), "%s", err);
    ethd_node_free(node);
    ethd_conf_free(c);

    c = lc_conf(", publish: thing/1", ", publish: thing/1", "");
    ck_assert_int_eq(start_node(c, &node, err, sizeof(err)), ETHD_EEXIST);
    ck_assert_msg(strstr(err, "already published by service 'lc-a'"), "%s", err);
    ethd_node_free(node);
    ethd_conf_free(c);
}
END_TEST

static void expect_load_error(const char *plugins, int code, const char *needle)
{
    struct ethd_conf *c = make_conf(plugins, "  {}\n");
    struct ethd_node *node = NULL;
    char err[1024] = "";
    ck_assert_int_eq(ethd_node_new(c, sink, &node, err, sizeof(err)), 0);
    int rc = ethd_node_start(node, err, sizeof(err));
    ck_assert_msg(rc == code, "plugins [%s]: got %d (%s), want %d", plugins, rc, err, code);
    ck_assert_msg(strstr(err, needle), "plugins [%s]: message '%s' lacks '%s'", plugins, err,
                  needle);
    ethd_node_free(node);
    ethd_conf_free(c);
}

START_TEST(loader_errors_name_the_file)
{
    char needle[700];
    expect_load_error("nosuch", ETHD_ENOTFOUND, "plugin 'nosuch' not found; searched:");
    snprintf(needle, sizeof(needle), "searched: %s", plugin_dir);
    expect_load_error("nosuch", ETHD_ENOTFOUND, needle);
    snprintf(needle, sizeof(needle), "%s/notaplugin.la: not an ethd plugin", plugin_dir);
    expect_load_error("notaplugin", ETHD_EINVAL, needle);
    snprintf(needle, sizeof(needle), "%s/badabi.la: built for ABI %d, this ethd speaks ABI %d",
             plugin_dir, ETHD_ABI_VERSION + 998, ETHD_ABI_VERSION);
    expect_load_error("badabi", ETHD_EABI, needle);
    expect_load_error("bigdesc", ETHD_EABI, "built against a newer SDK");
    snprintf(needle, sizeof(needle), "%s/initfail.la: init failed", plugin_dir);
    expect_load_error("initfail", ETHD_EINVAL, needle);
    expect_load_error("lifecycle, dupservice", ETHD_EEXIST,
                      "service 'lc-a' is already registered by plugin 'lifecycle'");
    expect_load_error("lifecycle, lifecycle", ETHD_EEXIST, "plugin 'lifecycle' is listed twice");
    expect_load_error("'../etc'", ETHD_EINVAL, "is not valid");
}
END_TEST

START_TEST(unknown_service_and_unknown_keys)
{
    struct ethd_conf *c = make_conf("lifecycle", "  lc-z: {}\n");
    struct ethd_node *node = NULL;
    char err[1024] = "";
    ck_assert_int_eq(start_node(c, &node, err, sizeof(err)), ETHD_ENOTFOUND);
    ck_assert_msg(strstr(err, "test.yaml:") &&
                      strstr(err, "service 'lc-z' is not provided by any loaded plugin (loaded: "
                                  "lifecycle)"),
                  "%s", err);
    ethd_node_free(node);
    ethd_conf_free(c);

    /* A misspelt key inside a service's settings is an error naming it. */
    c = make_conf("lifecycle", "  lc-a: {trace: '', colour: blue}\n");
    ck_assert_int_eq(start_node(c, &node, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_msg(strstr(err, "test.yaml:") && strstr(err, "unknown key 'colour'"), "%s", err);
    ethd_node_free(node);
    ethd_conf_free(c);

    /* And at the top level. */
    const char *yaml = "node: {datadir: /tmp/x}\nfrobnicate: 1\n";
    ck_assert_int_eq(ethd_conf_load_string("t.yaml", yaml, strlen(yaml), &c, err, sizeof(err)), 0);
    ck_assert_int_eq(ethd_node_new(c, sink, &node, err, sizeof(err)), 0);
    ck_assert_int_eq(ethd_node_load_plugins(node, err, sizeof(err)), 0);
    ck_assert_int_eq(ethd_conf_check_unused(c, err, sizeof(err)), ETHD_ECONFIG);
    ck_assert_msg(strstr(err, "t.yaml:2:1: unknown key 'frobnicate'"), "%s", err);
    ethd_node_free(node);
    ethd_conf_free(c);
}
END_TEST

START_TEST(bad_node_settings)
{
    static const struct {
        const char *yaml, *needle;
    } cases[] = {
        {"node: {mode: turbo}\n", "t.yaml:1:14: node.mode must be full, light or dev"},
        {"rpc: {port: 70000}\n", "t.yaml:1:13:"},
        {"rpc: {port: eighty}\n", "t.yaml:1:13:"},
        {"rpc: {max_body: 12}\n", "rpc.max_body must be between"},
        {"rpc: {call_timeout: 0s}\n", "rpc.call_timeout must be between"},
        {"rpc: {call_timeout: soon}\n", "t.yaml:1:"},
        {"plugins: {load: example}\n", "t.yaml:1:"},
        {"plugins: {load: [[a]]}\n", "expected a string"},
        {"services: [a, b]\n", "t.yaml:1:"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct ethd_conf *c;
        char err[1024] = "";
        ck_assert_int_eq(ethd_conf_load_string("t.yaml", cases[i].yaml, strlen(cases[i].yaml), &c,
                                               err, sizeof(err)),
                         0);
        struct ethd_node *node = NULL;
        ck_assert_msg(ethd_node_new(c, sink, &node, err, sizeof(err)) == ETHD_ECONFIG,
                      "accepted: %s", cases[i].yaml);
        ck_assert_msg(strstr(err, cases[i].needle), "%s: '%s' lacks '%s'", cases[i].yaml, err,
                      cases[i].needle);
        ck_assert_ptr_null(node);
        ethd_conf_free(c);
    }
}
END_TEST

START_TEST(second_node_on_same_datadir_is_refused)
{
    struct ethd_conf *c1 = lc_conf("", "", "");
    struct ethd_conf *c2 = lc_conf("", "", "");
    struct ethd_node *n1 = NULL, *n2 = NULL;
    char err[1024] = "";
    ck_assert_msg(start_node(c1, &n1, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(start_node(c2, &n2, err, sizeof(err)), ETHD_EBUSY);
    char needle[64];
    snprintf(needle, sizeof(needle), "in use by another ethd (pid %ld)", (long)getpid());
    ck_assert_msg(strstr(err, needle), "%s", err);
    ethd_node_free(n2);
    ethd_node_free(n1);
    ethd_conf_free(c1);
    ethd_conf_free(c2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("node");
    TCase *tc = tcase_create("lifecycle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, order_start_and_reverse_stop);
    tcase_add_test(tc, start_failure_unwinds_in_reverse);
    tcase_add_test(tc, create_failure_destroys_only_created);
    tcase_add_test(tc, stop_failure_is_logged_and_shutdown_continues);
    tcase_add_test(tc, stop_request_during_startup_unwinds);
    tcase_add_test(tc, interfaces_publish_and_lookup);
    tcase_add_test(tc, loader_errors_name_the_file);
    tcase_add_test(tc, unknown_service_and_unknown_keys);
    tcase_add_test(tc, bad_node_settings);
    tcase_add_test(tc, second_node_on_same_datadir_is_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
