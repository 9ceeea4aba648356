/* The ethd executable: command line, configuration, signals, node. */
#include "chain/chain.h"
#include "cli.h"
#include "conf.h"
#include "loader.h"
#include "log.h"
#include "node.h"

#include <ethd/version.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Signal delivery is the one place a process-wide variable is unavoidable:
 * the handler only counts and pokes the node's self-pipe. */
static volatile sig_atomic_t signals_seen;
static volatile int wake_fd = -1;

static void on_signal(int sig)
{
    (void)sig;
    if (++signals_seen >= 2) {
        static const char msg[] = "ethd: second signal, exiting now\n";
        ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)n;
        _exit(130);
    }
    if (wake_fd >= 0) {
        char c = 1;
        ssize_t n = write(wake_fd, &c, 1);
        (void)n;
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a peer closing a socket must not kill the node */
}

static void print_plugin(const char *name, const char *file, void *arg)
{
    struct ethd_loader *ld = arg;
    struct ethd_plugin_info info;
    char err[512];
    if (ethd_loader_probe(ld, file, &info, err, sizeof(err)) == 0)
        printf("%-18s %-10s %s\n  %s\n", info.name, info.version, info.description, file);
    else
        printf("%-18s %-10s %s\n", name, "-", err);
}

static int list_plugins(struct ethd_conf *conf)
{
    const struct ethd_conf *sec = NULL, *paths = NULL;
    if (ethd_conf_map(conf, "plugins", &sec) || ethd_conf_list(sec, "path", &paths)) {
        fprintf(stderr, "ethd: %s\n", ethd_conf_error(conf));
        return 2;
    }
    size_t n = paths ? ethd_conf_len(paths) : 0;
    const char *dirs[64];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++)
        dirs[i] = ethd_conf_scalar(ethd_conf_at(paths, i));
    struct ethd_loader ld;
    if (ethd_loader_init(&ld, dirs, n) != 0) {
        fprintf(stderr, "ethd: cannot initialise the plugin loader\n");
        return 1;
    }
    printf("Plugin search path:\n");
    for (size_t i = 0; i < ld.n_dirs; i++)
        printf("  %s\n", ld.dirs[i]);
    printf("\n%-18s %-10s %s\n", "NAME", "VERSION", "DESCRIPTION");
    ethd_loader_list(&ld, print_plugin, &ld);
    ethd_loader_free(&ld);
    return 0;
}

int main(int argc, char **argv)
{
    char err[1024] = "";
    struct ethd_cli cli;
    if (ethd_cli_parse(argc, argv, &cli, err, sizeof(err)) != 0) {
        fprintf(stderr, "ethd: %s\n", err);
        return 2;
    }
    if (cli.cmd == ETHD_CMD_HELP) {
        fputs(ethd_cli_usage(), stdout);
        return 0;
    }
    if (cli.cmd == ETHD_CMD_VERSION) {
        printf("ethd %s (plugin ABI %d)\n", ETHD_VERSION, ETHD_ABI_VERSION);
        return 0;
    }
    install_signals();

    struct ethd_conf *conf = NULL;
    size_t default_len;
    const char *default_name;
    const char *default_text = ethd_cli_base_config(&cli, &default_len, &default_name);
    int rc = cli.config
                 ? ethd_conf_load_file(cli.config, &conf, err, sizeof(err))
                 : ethd_conf_load_string(default_name, default_text, default_len, &conf, err,
                                         sizeof(err));
    if (rc == 0)
        rc = ethd_cli_apply(&cli, conf, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "ethd: %s\n", err);
        ethd_conf_free(conf);
        return 2;
    }
    if (cli.cmd == ETHD_CMD_PLUGINS) {
        rc = list_plugins(conf);
        ethd_conf_free(conf);
        return rc;
    }

    const struct ethd_conf *logsec = NULL;
    const char *level_s = "info", *log_file = "";
    enum ethd_log_level level = ETHD_LOG_INFO;
    if (ethd_conf_map(conf, "log", &logsec) ||
        ethd_conf_string(logsec, "level", "info", &level_s) ||
        ethd_conf_string(logsec, "file", "", &log_file)) {
        fprintf(stderr, "ethd: %s\n", ethd_conf_error(conf));
        ethd_conf_free(conf);
        return 2;
    }
    if (ethd_log_parse_level(level_s, &level) != 0) {
        ethd_conf_fail(ethd_conf_get(logsec, "level"),
                       "log.level must be error, warn, info, debug or trace, got '%s'", level_s);
        fprintf(stderr, "ethd: %s\n", ethd_conf_error(conf));
        ethd_conf_free(conf);
        return 2;
    }
    struct ethd_log_sink *sink = NULL;
    if (ethd_log_sink_open(log_file, level, &sink, err, sizeof(err)) != 0) {
        fprintf(stderr, "ethd: %s\n", err);
        ethd_conf_free(conf);
        return 2;
    }

    if (cli.cmd == ETHD_CMD_INIT || cli.cmd == ETHD_CMD_IMPORT || cli.cmd == ETHD_CMD_EXPORT) {
        int status = ethd_chain_cli_main(&cli, conf, sink, &signals_seen);
        ethd_log_sink_close(sink);
        ethd_conf_free(conf);
        return status;
    }

    struct ethd_node *node = NULL;
    if ((rc = ethd_node_new(conf, sink, &node, err, sizeof(err))) != 0) {
        fprintf(stderr, "ethd: %s\n", err);
        ethd_log_sink_close(sink);
        ethd_conf_free(conf);
        return 2;
    }

    ethd_node_set_static_peers(node, cli.static_peers, cli.n_static_peers);
    int status = 0;
    if (cli.check_config) {
        /* Service settings are validated by each service when it is created;
         * here: syntax, node-level keys, plugins and service names. */
        ethd_conf_mark_used(ethd_conf_get(conf, "services"), true);
        if ((rc = ethd_node_load_plugins(node, err, sizeof(err))) == 0)
            rc = ethd_conf_check_unused(conf, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "ethd: %s\n", err);
            status = 2;
        } else {
            printf("configuration OK: %s\n", cli.config ? cli.config : default_name);
        }
    } else {
        wake_fd = ethd_node_wake_fd(node);
        if (signals_seen)
            ethd_node_request_stop(node);
        if ((rc = ethd_node_start(node, err, sizeof(err))) == ETHD_ECANCELED) {
            fprintf(stderr, "ethd: %s; stopped cleanly\n", err);
        } else if (rc != 0) {
            fprintf(stderr, "ethd: %s\n", err);
            status = rc == ETHD_ECONFIG ? 2 : 1;
        } else if (ethd_node_run(node) != 0) {
            status = 1;
        }
        wake_fd = -1;
    }
    ethd_node_free(node);
    ethd_log_sink_close(sink);
    ethd_conf_free(conf);
    return status;
}
