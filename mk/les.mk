# les fragment: the `les` plugin (les-server: les/2-4 with flow control and
# CHT proofs; les-client: light mode with downloader-light), its unit,
# integration and interop tests, fuzz target and benchmarks (docs/les.md).

LES_PLUGIN_SRCS = plugins/les/les.c plugins/les/les_server.c plugins/les/les_msg.c \
	plugins/les/les_fc.c plugins/les/les_cht.c plugins/les/les_client.c plugins/les/les_rpc.c
plugin_LTLIBRARIES += plugins/les/les.la
plugins_les_les_la_SOURCES = $(LES_PLUGIN_SRCS)
plugins_les_les_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
plugins_les_les_la_LDFLAGS = $(ETHD_MODULE_FLAGS)
plugins_les_les_la_LIBADD = libethd.la $(LIBEVENT_LIBS) $(JANSSON_LIBS)
noinst_HEADERS += plugins/les/les.h plugins/les/les_msg.h plugins/les/les_fc.h \
	plugins/les/les_cht.h plugins/les/les_client.h

# Unit tests: the plugin's pure modules linked straight into each test.
check_PROGRAMS += tests/unit/test_les_msg tests/unit/test_les_fc tests/unit/test_les_cht
TESTS += tests/unit/test_les_msg tests/unit/test_les_fc tests/unit/test_les_cht
tests_unit_test_les_msg_SOURCES = tests/unit/test_les_msg.c plugins/les/les_msg.c
tests_unit_test_les_msg_CFLAGS = $(ETHD_UNIT_CFLAGS) -I$(top_srcdir)/plugins/les
tests_unit_test_les_msg_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_les_fc_SOURCES = tests/unit/test_les_fc.c plugins/les/les_fc.c
tests_unit_test_les_fc_CFLAGS = $(ETHD_UNIT_CFLAGS) -I$(top_srcdir)/plugins/les
tests_unit_test_les_fc_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_les_cht_SOURCES = tests/unit/test_les_cht.c plugins/les/les_cht.c
tests_unit_test_les_cht_CFLAGS = $(ETHD_UNIT_CFLAGS) -I$(top_srcdir)/plugins/les
tests_unit_test_les_cht_LDADD = $(ETHD_UNIT_LIBS)

# Integration: an ethd node with devnet-a serving les to a scripted client
# (tests/integration/les_probe.c, a blocking RLPx les client built for the test).
check_PROGRAMS += tests/integration/les_probe
tests_integration_les_probe_SOURCES = tests/integration/les_probe.c plugins/les/les_msg.c \
	plugins/les/les_fc.c plugins/les/les_cht.c
tests_integration_les_probe_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) -I$(top_srcdir)/plugins/les
tests_integration_les_probe_LDADD = libethd.la $(DEP_LIBS)
LES_INTEGRATION_TESTS = tests/integration/test_les.sh tests/integration/test_light.sh
TESTS += $(LES_INTEGRATION_TESTS)
check_SCRIPTS += $(LES_INTEGRATION_TESTS)
EXTRA_DIST += $(LES_INTEGRATION_TESTS)

# libFuzzer target over every les message decoder and the proof verifier
# (fuzz/corpus/les_msg/).
FUZZ_NAMES += les_msg
FUZZ_SRCS_les_msg = fuzz/fuzz_les_msg.c plugins/les/les_msg.c plugins/les/les_cht.c \
	core/chain/forkid.c core/rlp.c core/buf.c core/error.c core/trie.c core/crypto/keccak.c
FUZZ_LIBS_les_msg = $(NETTLE_LIBS)

# Interop with EthereumJS (tests/interop/README.md, "les"): an
# @ethereumjs/devp2p 6.1.3 LES client against les-server. Skips without node.
LES_INTEROP_TESTS = tests/interop/test_les_interop.sh
TESTS += $(LES_INTEROP_TESTS)
check_SCRIPTS += $(LES_INTEROP_TESTS)
EXTRA_DIST += $(LES_INTEROP_TESTS) tests/interop/les_query.mjs
