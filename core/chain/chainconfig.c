/* Chain configuration: fork activation, the rules in force at a block, and
 * the header fields each fork requires (go-ethereum params/config.go names
 * and semantics). */
#include <ethd/error.h>
#include <ethd/genesis.h>

#include <string.h>

static const char *const block_fork_names[ETHD_BF_N] = {
    [ETHD_BF_HOMESTEAD] = "homesteadBlock",
    [ETHD_BF_DAO] = "daoForkBlock",
    [ETHD_BF_EIP150] = "eip150Block",
    [ETHD_BF_EIP155] = "eip155Block",
    [ETHD_BF_EIP158] = "eip158Block",
    [ETHD_BF_BYZANTIUM] = "byzantiumBlock",
    [ETHD_BF_CONSTANTINOPLE] = "constantinopleBlock",
    [ETHD_BF_PETERSBURG] = "petersburgBlock",
    [ETHD_BF_ISTANBUL] = "istanbulBlock",
    [ETHD_BF_MUIR_GLACIER] = "muirGlacierBlock",
    [ETHD_BF_BERLIN] = "berlinBlock",
    [ETHD_BF_LONDON] = "londonBlock",
    [ETHD_BF_ARROW_GLACIER] = "arrowGlacierBlock",
    [ETHD_BF_GRAY_GLACIER] = "grayGlacierBlock",
    [ETHD_BF_MERGE_NETSPLIT] = "mergeNetsplitBlock",
};

static const char *const time_fork_names[ETHD_TF_N] = {
    [ETHD_TF_SHANGHAI] = "shanghaiTime", [ETHD_TF_CANCUN] = "cancunTime",
    [ETHD_TF_PRAGUE] = "pragueTime",     [ETHD_TF_OSAKA] = "osakaTime",
    [ETHD_TF_BPO1] = "bpo1Time",         [ETHD_TF_BPO2] = "bpo2Time",
    [ETHD_TF_BPO3] = "bpo3Time",         [ETHD_TF_BPO4] = "bpo4Time",
    [ETHD_TF_BPO5] = "bpo5Time",         [ETHD_TF_AMSTERDAM] = "amsterdamTime",
    [ETHD_TF_VERKLE] = "verkleTime",
};

const char *ethd_block_fork_name(enum ethd_block_fork f)
{
    return (unsigned)f < ETHD_BF_N ? block_fork_names[f] : "?";
}

const char *ethd_time_fork_name(enum ethd_time_fork f)
{
    return (unsigned)f < ETHD_TF_N ? time_fork_names[f] : "?";
}

void ethd_chain_config_init(struct ethd_chain_config *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < ETHD_BF_N; i++)
        c->fork_block[i] = ETHD_FORK_UNSET;
    for (int i = 0; i < ETHD_TF_N; i++)
        c->fork_time[i] = ETHD_FORK_UNSET;
}

bool ethd_chain_block_active(const struct ethd_chain_config *c, enum ethd_block_fork f,
                             uint64_t number)
{
    return (unsigned)f < ETHD_BF_N && c->fork_block[f] != ETHD_FORK_UNSET &&
           number >= c->fork_block[f];
}

bool ethd_chain_time_active(const struct ethd_chain_config *c, enum ethd_time_fork f,
                            uint64_t time)
{
    return (unsigned)f < ETHD_TF_N && c->fork_time[f] != ETHD_FORK_UNSET &&
           time >= c->fork_time[f];
}

void ethd_chain_rules(const struct ethd_chain_config *c, uint64_t number, uint64_t time,
                      struct ethd_rules *r)
{
    memset(r, 0, sizeof *r);
    r->chain_id = c->chain_id;
    r->homestead = ethd_chain_block_active(c, ETHD_BF_HOMESTEAD, number);
    r->eip150 = ethd_chain_block_active(c, ETHD_BF_EIP150, number);
    r->eip155 = ethd_chain_block_active(c, ETHD_BF_EIP155, number);
    r->eip158 = ethd_chain_block_active(c, ETHD_BF_EIP158, number);
    r->byzantium = ethd_chain_block_active(c, ETHD_BF_BYZANTIUM, number);
    r->constantinople = ethd_chain_block_active(c, ETHD_BF_CONSTANTINOPLE, number);
    r->petersburg = ethd_chain_block_active(c, ETHD_BF_PETERSBURG, number) ||
                    (c->fork_block[ETHD_BF_PETERSBURG] == ETHD_FORK_UNSET && r->constantinople);
    r->istanbul = ethd_chain_block_active(c, ETHD_BF_ISTANBUL, number);
    r->berlin = ethd_chain_block_active(c, ETHD_BF_BERLIN, number);
    r->london = ethd_chain_block_active(c, ETHD_BF_LONDON, number);
    r->shanghai = r->london && ethd_chain_time_active(c, ETHD_TF_SHANGHAI, time);
    r->cancun = r->london && ethd_chain_time_active(c, ETHD_TF_CANCUN, time);
    r->prague = r->london && ethd_chain_time_active(c, ETHD_TF_PRAGUE, time);
    r->osaka = r->london && ethd_chain_time_active(c, ETHD_TF_OSAKA, time);
    r->merge = ethd_chain_block_active(c, ETHD_BF_MERGE_NETSPLIT, number) || r->shanghai;
}

int ethd_chain_check_header_fields(const struct ethd_chain_config *c, const struct ethd_header *h,
                                   const char **why)
{
    struct ethd_rules r;
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    ethd_chain_rules(c, h->number, h->timestamp, &r);
    struct {
        bool active;
        unsigned bits;
        const char *missing, *unexpected;
    } checks[] = {
        {r.london, ETHD_HDR_BASE_FEE, "base fee missing (London is active)",
         "base fee present before London"},
        {r.shanghai, ETHD_HDR_WITHDRAWALS, "withdrawals root missing (Shanghai is active)",
         "withdrawals root present before Shanghai"},
        {r.cancun, ETHD_HDR_BLOB_GAS | ETHD_HDR_BEACON_ROOT,
         "blob gas fields or parent beacon root missing (Cancun is active)",
         "blob gas fields or parent beacon root present before Cancun"},
        {r.prague, ETHD_HDR_REQUESTS, "requests hash missing (Prague is active)",
         "requests hash present before Prague"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        unsigned have = h->present & checks[i].bits;
        if (checks[i].active && have != checks[i].bits) {
            *why = checks[i].missing;
            return ETHD_EINVAL;
        }
        if (!checks[i].active && have) {
            *why = checks[i].unexpected;
            return ETHD_EINVAL;
        }
    }
    return 0;
}
