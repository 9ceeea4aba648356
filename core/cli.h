/* Command line of the ethd executable. Internal to core. */
#ifndef ETHD_CORE_CLI_H
#define ETHD_CORE_CLI_H
#include "conf.h"
#include <stdbool.h>
#include <stddef.h>

enum ethd_cli_command {
    ETHD_CMD_RUN = 0,
    ETHD_CMD_PLUGINS,
    ETHD_CMD_HELP,
    ETHD_CMD_VERSION,
    ETHD_CMD_INIT,   /* ethd init --genesis FILE */
    ETHD_CMD_IMPORT, /* ethd import FILE.rlp [--receipts FILE] */
    ETHD_CMD_EXPORT, /* ethd export FILE.rlp [FIRST [LAST]] */
};

#define ETHD_CLI_MAX_ARGS 3

#define ETHD_CLI_MAX_STATIC_PEERS 32

struct ethd_cli {
    enum ethd_cli_command cmd;
    const char *config;    /* -c FILE; NULL = embedded default */
    const char *datadir;   /* --datadir */
    const char *rpc_port;  /* --rpc-port (validated through the config readers) */
    const char *p2p_port;  /* --p2p-port */
    const char *log_level; /* --log-level */
    const char *log_file;  /* --log-file */
    const char *mode;      /* --dev / --light / --full */
    bool check_config;     /* --check-config */
    const char *static_peers[ETHD_CLI_MAX_STATIC_PEERS]; /* --static-peer (repeatable) */
    size_t n_static_peers;
    const char *genesis;  /* --genesis FILE (init, import) */
    const char *receipts; /* --receipts FILE (import) */
    const char *args[ETHD_CLI_MAX_ARGS]; /* positional arguments of init/import/export */
    size_t n_args;
};

/* Parse argv (not modified). On a usage error returns ETHD_EINVAL with the
 * message in err. Strings point into argv. */
int ethd_cli_parse(int argc, char **argv, struct ethd_cli *cli, char *err, size_t errlen);
/* Apply the flags that override configuration keys. */
int ethd_cli_apply(const struct ethd_cli *cli, struct ethd_conf *root, char *err, size_t errlen);
/* The embedded default configuration (etc/ethd.yaml compiled in). A function,
 * not the data symbol itself, so the executable never holds a copy-relocated
 * copy that goes stale when libethd is rebuilt with another default. */
const char *ethd_cli_default_config(size_t *len);
/* The configuration a run without -c starts from: etc/light.yaml for
 * --light, else the embedded default (--dev and --full only set node.mode).
 * Sets *name to how errors refer to it. */
const char *ethd_cli_base_config(const struct ethd_cli *cli, size_t *len, const char **name);

/* The --help text. */
const char *ethd_cli_usage(void);

#endif
