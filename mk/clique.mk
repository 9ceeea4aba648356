# clique fragment: the clique-sealer service (plugins/clique/), the dev chain
# (etc/dev.yaml, etc/dev-genesis.json, compiled in for `chain.genesis: dev`)
# and their tests.
plugin_LTLIBRARIES += plugins/clique/clique.la
plugins_clique_clique_la_SOURCES = plugins/clique/clique.c plugins/clique/seal.c \
	plugins/clique/seal.h plugins/clique/snapshot.c plugins/clique/snapshot.h
plugins_clique_clique_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
plugins_clique_clique_la_LDFLAGS = $(ETHD_MODULE_FLAGS)
plugins_clique_clique_la_LIBADD = libethd.la $(LIBEVENT_LIBS) $(JANSSON_LIBS)

# The unit test links the sealer's building blocks directly and drives them
# against the chain store's internal API.
check_PROGRAMS += tests/unit/test_clique_sealer
TESTS += tests/unit/test_clique_sealer
tests_unit_test_clique_sealer_SOURCES = tests/unit/test_clique_sealer.c plugins/clique/seal.c \
	plugins/clique/snapshot.c
tests_unit_test_clique_sealer_CFLAGS = $(ETHD_UNIT_CFLAGS) -I$(top_srcdir)/plugins/clique
tests_unit_test_clique_sealer_LDADD = $(ETHD_UNIT_LIBS)

# Integration: the dev chain through the real binary (sealing, restart,
# an unauthorised key, a second node following when the eth plugin exists).
TESTS += tests/integration/test_dev.sh
check_SCRIPTS += tests/integration/test_dev.sh
EXTRA_DIST += tests/integration/test_dev.sh

# Interop: the dev chain against the EthereumJS client (skips without node).
# Liveness only: its waits are bounded generously, with no per-block latency
# bound (about 70 s).
TESTS += tests/interop/test_dev_follow.sh
check_SCRIPTS += tests/interop/test_dev_follow.sh
EXTRA_DIST += tests/interop/test_dev_follow.sh
