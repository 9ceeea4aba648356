# eth fragment: the `eth` plugin (eth/66-69 wire protocol, serving, block
# propagation, eth_ RPC), its syncer contract header, unit and integration
# tests (docs/config.md "services.eth", docs/rpc.md "eth").
ethdinclude_HEADERS += include/ethd/syncer.h

ETH_PLUGIN_SRCS = plugins/eth/eth.c plugins/eth/eth_msg.c plugins/eth/eth_peerset.c \
	plugins/eth/eth_serve.c plugins/eth/eth_announce.c plugins/eth/eth_rpc.c \
	plugins/eth/txpool.c plugins/eth/eth_txrelay.c
plugin_LTLIBRARIES += plugins/eth/eth.la
plugins_eth_eth_la_SOURCES = $(ETH_PLUGIN_SRCS)
plugins_eth_eth_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
plugins_eth_eth_la_LDFLAGS = $(ETHD_MODULE_FLAGS)
plugins_eth_eth_la_LIBADD = libethd.la $(LIBEVENT_LIBS) $(JANSSON_LIBS)
noinst_HEADERS += plugins/eth/eth.h plugins/eth/eth_msg.h plugins/eth/txpool.h

# Message codecs: the plugin's codec file linked straight into the test.
check_PROGRAMS += tests/unit/test_eth_msg
TESTS += tests/unit/test_eth_msg
tests_unit_test_eth_msg_SOURCES = tests/unit/test_eth_msg.c plugins/eth/eth_msg.c
tests_unit_test_eth_msg_CFLAGS = $(ETHD_UNIT_CFLAGS) -I$(top_srcdir)/plugins/eth
tests_unit_test_eth_msg_LDADD = $(ETHD_UNIT_LIBS)

# Integration: ethd processes serving devnet-a to a scripted eth peer
# (tests/integration/eth_probe.c, a blocking RLPx client built for the test).
check_PROGRAMS += tests/integration/eth_probe
tests_integration_eth_probe_SOURCES = tests/integration/eth_probe.c
tests_integration_eth_probe_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
tests_integration_eth_probe_LDADD = libethd.la $(DEP_LIBS)
ETH_INTEGRATION_TESTS = tests/integration/test_eth.sh
TESTS += $(ETH_INTEGRATION_TESTS)
check_SCRIPTS += $(ETH_INTEGRATION_TESTS)
EXTRA_DIST += $(ETH_INTEGRATION_TESTS)

# Interop with EthereumJS (tests/interop/README.md): a devp2p ETH peer's
# queries and a full sync by @ethereumjs/client. Skips without node/npm.
ETH_INTEROP_TESTS = tests/interop/test_eth_interop.sh
TESTS += $(ETH_INTEROP_TESTS)
check_SCRIPTS += $(ETH_INTEROP_TESTS)
EXTRA_DIST += $(ETH_INTEROP_TESTS) tests/interop/eth_query.mjs

# A stand-in downloader for test_eth.sh: publishes syncer/1, uses eth/1.
check_LTLIBRARIES += tests/integration/ethsyncer.la
tests_integration_ethsyncer_la_SOURCES = tests/integration/eth_syncer_plugin.c
tests_integration_ethsyncer_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_ethsyncer_la_LDFLAGS = $(TEST_PLUGIN_FLAGS)
tests_integration_ethsyncer_la_LIBADD = libethd.la $(JANSSON_LIBS)

# libFuzzer target over every eth message decoder (fuzz/corpus/eth_msg/).
FUZZ_NAMES += eth_msg
FUZZ_SRCS_eth_msg = fuzz/fuzz_eth_msg.c plugins/eth/eth_msg.c core/chain/header.c core/chain/tx.c \
	core/chain/receipt.c core/chain/body.c core/chain/chainconfig.c core/chain/genesis.c \
	core/chain/forkid.c core/rlp.c core/buf.c core/error.c core/trie.c core/crypto/keccak.c \
	core/crypto/secp256k1.c core/crypto/random.c
FUZZ_LIBS_eth_msg = $(SECP256K1_LIBS) $(NETTLE_LIBS) $(JANSSON_LIBS)
