/* Command-line parsing, overrides into the config tree, and the logger. */
#include "cli.h"
#include "conf.h"
#include "log.h"

#include <check.h>
#include <stdarg.h>
#include <ethd/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(struct ethd_cli *cli, char *err, size_t len, int argc, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    argv[0] = "ethd";
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    return ethd_cli_parse(argc, argv, cli, err, len);
}

START_TEST(flags_and_commands)
{
    struct ethd_cli cli;
    char err[256];
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 7, "-c", "x.yaml", "--datadir", "/d",
                           "--rpc-port", "9"),
                     0);
    ck_assert_str_eq(cli.config, "x.yaml");
    ck_assert_str_eq(cli.datadir, "/d");
    ck_assert_str_eq(cli.rpc_port, "9");
    ck_assert_int_eq(cli.cmd, ETHD_CMD_RUN);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 2, "plugins"), 0);
    ck_assert_int_eq(cli.cmd, ETHD_CMD_PLUGINS);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 2, "--list-plugins"), 0);
    ck_assert_int_eq(cli.cmd, ETHD_CMD_PLUGINS);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 2, "--help"), 0);
    ck_assert_int_eq(cli.cmd, ETHD_CMD_HELP);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 2, "-V"), 0);
    ck_assert_int_eq(cli.cmd, ETHD_CMD_VERSION);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 3, "--dev", "--check-config"), 0);
    ck_assert_str_eq(cli.mode, "dev");
    ck_assert(cli.check_config);
}
END_TEST

START_TEST(usage_errors)
{
    struct ethd_cli cli;
    char err[256];
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 2, "--bogus"), ETHD_EINVAL);
    ck_assert_msg(strstr(err, "unknown option --bogus"), "%s", err);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 2, "-c"), ETHD_EINVAL);
    ck_assert_msg(strstr(err, "needs a value"), "%s", err);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 2, "frobnicate"), ETHD_EINVAL);
    ck_assert_msg(strstr(err, "unknown command 'frobnicate'"), "%s", err);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 3, "--dev", "--light"), ETHD_EINVAL);
    ck_assert_msg(strstr(err, "conflicts"), "%s", err);
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 3, "plugins", "extra"), ETHD_EINVAL);
}
END_TEST

START_TEST(flags_override_config)
{
    const char *yaml = "node: {datadir: /from/file}\nrpc: {port: 1234}\n";
    struct ethd_conf *c;
    char err[256];
    ck_assert_int_eq(ethd_conf_load_string("f.yaml", yaml, strlen(yaml), &c, err, sizeof(err)), 0);
    struct ethd_cli cli;
    ck_assert_int_eq(parse(&cli, err, sizeof(err), 6, "--datadir", "/cli", "--rpc-port", "99999",
                           "--light"),
                     0);
    ck_assert_int_eq(ethd_cli_apply(&cli, c, err, sizeof(err)), 0);
    const char *s;
    ck_assert_int_eq(ethd_conf_string(ethd_conf_get(c, "node"), "datadir", NULL, &s), 0);
    ck_assert_str_eq(s, "/cli");
    ck_assert_int_eq(ethd_conf_string(ethd_conf_get(c, "node"), "mode", NULL, &s), 0);
    ck_assert_str_eq(s, "light");
    int64_t port;
    /* The override is validated by the same reader as the file. */
    ck_assert_int_eq(ethd_conf_int(ethd_conf_get(c, "rpc"), "port", 0, 65535, 0, &port),
                     ETHD_ECONFIG);
    ck_assert_msg(strstr(ethd_conf_error(c), "<command line>"), "%s", ethd_conf_error(c));
    ethd_conf_free(c);
}
END_TEST

START_TEST(log_lines_and_levels)
{
    char path[] = "/tmp/ethd-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    struct ethd_log_sink *s;
    char err[256];
    ck_assert_int_eq(ethd_log_sink_open(path, ETHD_LOG_INFO, &s, err, sizeof(err)), 0);
    struct ethd_logger *lg;
    ck_assert_int_eq(ethd_logger_new(s, "eth", &lg), 0);
    ETHD_INFO(lg, "imported block", "number=%d hash=%s", 7, "0xab");
    ETHD_DEBUG(lg, "hidden", NULL);
    ethd_log(NULL, ETHD_LOG_ERROR, "no logger is a no-op", NULL);
    ck_assert(!ethd_log_enabled(lg, ETHD_LOG_DEBUG));
    ethd_log_sink_set_level(s, ETHD_LOG_DEBUG);
    ETHD_DEBUG(lg, "shown", NULL);
    ethd_logger_free(lg);
    ethd_log_sink_close(s);
    FILE *f = fopen(path, "r");
    char l1[256], l2[256], l3[256] = "";
    ck_assert_ptr_nonnull(fgets(l1, sizeof(l1), f));
    ck_assert_ptr_nonnull(fgets(l2, sizeof(l2), f));
    ck_assert_ptr_null(fgets(l3, sizeof(l3), f));
    fclose(f);
    unlink(path);
    ck_assert_msg(strstr(l1, "Z INFO  [eth] imported block number=7 hash=0xab\n"), "%s", l1);
    ck_assert_msg(strstr(l2, "DEBUG [eth] shown\n"), "%s", l2);
    enum ethd_log_level lv;
    ck_assert_int_eq(ethd_log_parse_level("Warning", &lv), 0);
    ck_assert_int_eq(lv, ETHD_LOG_WARN);
    ck_assert_int_eq(ethd_log_parse_level("loud", &lv), ETHD_EINVAL);
    ck_assert_int_eq(ethd_log_sink_open("/nonexistent/dir/x.log", ETHD_LOG_INFO, &s, err,
                                        sizeof(err)),
                     ETHD_EIO);
    ck_assert_msg(strstr(err, "/nonexistent/dir/x.log"), "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_test(tc, flags_and_commands);
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, flags_override_config);
    tcase_add_test(tc, log_lines_and_levels);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
