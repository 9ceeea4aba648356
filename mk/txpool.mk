# txpool fragment: the eth service's transaction pool (plugins/eth/txpool.c,
# built into the eth plugin by mk/eth.mk) tested on its own.
check_PROGRAMS += tests/unit/test_txpool
TESTS += tests/unit/test_txpool
tests_unit_test_txpool_SOURCES = tests/unit/test_txpool.c plugins/eth/txpool.c
tests_unit_test_txpool_CFLAGS = $(ETHD_UNIT_CFLAGS) -I$(top_srcdir)/plugins/eth
tests_unit_test_txpool_LDADD = $(ETHD_UNIT_LIBS)

# Integration: transactions between ethd nodes and a scripted eth peer
# (tests/integration/txsign.c prints signed transactions for it).
check_PROGRAMS += tests/integration/txsign
tests_integration_txsign_SOURCES = tests/integration/txsign.c
tests_integration_txsign_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
tests_integration_txsign_LDADD = libethd.la $(DEP_LIBS)
TESTS += tests/integration/test_txpool.sh
check_SCRIPTS += tests/integration/test_txpool.sh
EXTRA_DIST += tests/integration/test_txpool.sh
