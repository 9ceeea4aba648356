/* Command-line parsing. Flags override the configuration file: each is
 * written into the config tree as if it had been there, so one set of readers
 * validates both (and errors name "<command line>"). */
#include "cli.h"
#include "node.h"

#include "p2p/enode.h"

#include <ethd/error.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

const char *ethd_cli_default_config(size_t *len)
{
    *len = (size_t)ethd_default_config_len;
    return ethd_default_config;
}

const char *ethd_cli_base_config(const struct ethd_cli *cli, size_t *len, const char **name)
{
    if (cli->mode && strcmp(cli->mode, "light") == 0) {
        *name = "<embedded light config>";
        *len = (size_t)ethd_light_config_len;
        return ethd_light_config;
    }
    *name = "<embedded default>";
    return ethd_cli_default_config(len);
}

const char *ethd_cli_usage(void)
{
    return "Usage: ethd [OPTIONS] [COMMAND]\n"
           "\n"
           "A modular Ethereum node: a small core that loads protocol plugins.\n"
           "\n"
           "Commands:\n"
           "  (none)                run the node\n"
           "  plugins               list the plugins found in the search path\n"
           "  init --genesis FILE   write the genesis block of a geth genesis.json into the\n"
           "                        data dir (refused over a chain with another genesis)\n"
           "  import FILE.rlp       verify and store the blocks of a chain file (geth export\n"
           "                        format); resumable; --receipts FILE adds receipt lists\n"
           "  export FILE.rlp [FIRST [LAST]]\n"
           "                        write canonical blocks FIRST..LAST (default 1..head)\n"
           "\n"
           "Options:\n"
           "  -c, --config FILE     YAML configuration (default: the embedded dev config)\n"
           "      --check-config    validate the configuration and plugins, then exit\n"
           "      --datadir DIR     data directory (node.datadir)\n"
           "      --rpc-port N      JSON-RPC port on the RPC host (rpc.port)\n"
           "      --p2p-port N      devp2p listening port (p2p.port)\n"
           "      --static-peer URL dial enode://ID@IP:PORT and keep it connected\n"
           "                        (repeatable; added to p2p.static_peers)\n"
           "      --log-level L     error, warn, info, debug or trace (log.level)\n"
           "      --log-file FILE   log to FILE instead of stderr (log.file)\n"
           "      --dev             run as a dev node (node.mode=dev)\n"
           "      --light           run as a light node (node.mode=light); without -c,\n"
           "                        the embedded etc/light.yaml (les-client +\n"
           "                        downloader-light on the dev chain)\n"
           "      --full            run as a full node (node.mode=full)\n"
           "      --genesis FILE    geth genesis.json: the chain to run (chain.genesis),\n"
           "                        to init, or to import into an empty data dir\n"
           "      --receipts FILE   receipt lists for import, one RLP list per block\n"
           "  -h, --help            show this help\n"
           "  -V, --version         show the version and plugin ABI\n"
           "\n"
           "Environment:\n"
           "  ETHD_PLUGIN_PATH      colon-separated plugin directories, searched after\n"
           "                        plugins.path and before the installed directory\n"
           "\n"
           "Exit status: 0 on a clean stop, 1 on a runtime failure, 2 on a usage or\n"
           "configuration error.\n";
}

enum {
    OPT_CHECK = 256,
    OPT_DATADIR,
    OPT_RPC_PORT,
    OPT_P2P_PORT,
    OPT_STATIC_PEER,
    OPT_LOG_LEVEL,
    OPT_LOG_FILE,
    OPT_DEV,
    OPT_LIGHT,
    OPT_FULL,
    OPT_GENESIS,
    OPT_RECEIPTS,
};

int ethd_cli_parse(int argc, char **argv, struct ethd_cli *cli, char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"datadir", required_argument, NULL, OPT_DATADIR},
        {"rpc-port", required_argument, NULL, OPT_RPC_PORT},
        {"p2p-port", required_argument, NULL, OPT_P2P_PORT},
        {"static-peer", required_argument, NULL, OPT_STATIC_PEER},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"log-file", required_argument, NULL, OPT_LOG_FILE},
        {"dev", no_argument, NULL, OPT_DEV},
        {"light", no_argument, NULL, OPT_LIGHT},
        {"full", no_argument, NULL, OPT_FULL},
        {"genesis", required_argument, NULL, OPT_GENESIS},
        {"receipts", required_argument, NULL, OPT_RECEIPTS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"list-plugins", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    memset(cli, 0, sizeof(*cli));
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cli->config = optarg; break;
        case OPT_CHECK: cli->check_config = true; break;
        case OPT_DATADIR: cli->datadir = optarg; break;
        case OPT_RPC_PORT: cli->rpc_port = optarg; break;
        case OPT_P2P_PORT: cli->p2p_port = optarg; break;
        case OPT_STATIC_PEER: {
            struct ethd_enode n;
            char msg[300];
            if (ethd_enode_parse(optarg, &n, msg, sizeof(msg)) != 0) {
                snprintf(err, errlen, "--static-peer: %s", msg);
                return ETHD_EINVAL;
            }
            if (cli->n_static_peers == ETHD_CLI_MAX_STATIC_PEERS) {
                snprintf(err, errlen, "at most %d --static-peer flags (list more in p2p.static_peers)",
                         ETHD_CLI_MAX_STATIC_PEERS);
                return ETHD_EINVAL;
            }
            cli->static_peers[cli->n_static_peers++] = optarg;
            break;
        }
        case OPT_LOG_LEVEL: cli->log_level = optarg; break;
        case OPT_LOG_FILE: cli->log_file = optarg; break;
        case OPT_DEV:
        case OPT_LIGHT:
        case OPT_FULL: {
            const char *m = c == OPT_DEV ? "dev" : c == OPT_LIGHT ? "light" : "full";
            if (cli->mode && strcmp(cli->mode, m) != 0) {
                snprintf(err, errlen, "--%s conflicts with --%s", m, cli->mode);
                return ETHD_EINVAL;
            }
            cli->mode = m;
            break;
        }
        case OPT_GENESIS: cli->genesis = optarg; break;
        case OPT_RECEIPTS: cli->receipts = optarg; break;
        case 'h': cli->cmd = ETHD_CMD_HELP; return 0;
        case 'V': cli->cmd = ETHD_CMD_VERSION; return 0;
        case 'L': cli->cmd = ETHD_CMD_PLUGINS; break;
        case ':':
            snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
            return ETHD_EINVAL;
        default:
            snprintf(err, errlen, "unknown option %s (see ethd --help)", argv[optind - 1]);
            return ETHD_EINVAL;
        }
    }
    if (optind < argc) {
        const char *cmd = argv[optind++];
        if (strcmp(cmd, "plugins") == 0)
            cli->cmd = ETHD_CMD_PLUGINS;
        else if (strcmp(cmd, "help") == 0)
            cli->cmd = ETHD_CMD_HELP;
        else if (strcmp(cmd, "version") == 0)
            cli->cmd = ETHD_CMD_VERSION;
        else if (strcmp(cmd, "init") == 0)
            cli->cmd = ETHD_CMD_INIT;
        else if (strcmp(cmd, "import") == 0)
            cli->cmd = ETHD_CMD_IMPORT;
        else if (strcmp(cmd, "export") == 0)
            cli->cmd = ETHD_CMD_EXPORT;
        else {
            snprintf(err, errlen, "unknown command '%s' (see ethd --help)", cmd);
            return ETHD_EINVAL;
        }
        /* init takes none, import one, export up to three positional arguments. */
        size_t max_args = cli->cmd == ETHD_CMD_IMPORT   ? 1
                          : cli->cmd == ETHD_CMD_EXPORT ? ETHD_CLI_MAX_ARGS
                                                        : 0;
        while (optind < argc && cli->n_args < max_args)
            cli->args[cli->n_args++] = argv[optind++];
        if (optind < argc) {
            snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
            return ETHD_EINVAL;
        }
        if ((cli->cmd == ETHD_CMD_IMPORT || cli->cmd == ETHD_CMD_EXPORT) && cli->n_args == 0) {
            snprintf(err, errlen, "%s needs a chain file (see ethd --help)", cmd);
            return ETHD_EINVAL;
        }
    }
    if (cli->receipts && cli->cmd != ETHD_CMD_IMPORT) {
        snprintf(err, errlen, "--receipts is only for import");
        return ETHD_EINVAL;
    }
    return 0;
}

int ethd_cli_apply(const struct ethd_cli *cli, struct ethd_conf *root, char *err, size_t errlen)
{
    const struct {
        const char *value, *path;
    } set[] = {
        {cli->datadir, "node.datadir"},   {cli->rpc_port, "rpc.port"},
        {cli->p2p_port, "p2p.port"},      {cli->log_level, "log.level"},
        {cli->log_file, "log.file"},      {cli->mode, "node.mode"},
        {cli->cmd == ETHD_CMD_RUN ? cli->genesis : NULL, "chain.genesis"},
    };
    for (size_t i = 0; i < sizeof(set) / sizeof(*set); i++) {
        if (!set[i].value)
            continue;
        int rc = ethd_conf_set(root, set[i].path, set[i].value);
        if (rc) {
            snprintf(err, errlen, "cannot apply the command line to %s: %s", set[i].path,
                     ethd_conf_error(root));
            return rc;
        }
    }
    return 0;
}
