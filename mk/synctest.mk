# synctest fragment: issue 9's test tooling around the downloaders --
# tools/chaingen (long valid clique chains), the faulty eth server used by
# the sync tests, the sync integration/interop tests and bench/bench_sync.sh.

# tools/chaingen: built by `make`, not installed (tools/chaingen.c says how).
CHAINGEN_BUILD_SRCS = tools/chaingen_build.c
noinst_HEADERS += tools/chaingen_build.h
noinst_PROGRAMS += tools/chaingen
tools_chaingen_SOURCES = tools/chaingen.c $(CHAINGEN_BUILD_SRCS)
tools_chaingen_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
tools_chaingen_LDADD = libethd.la $(DEP_LIBS)

SYNCTEST_INTEGRATION_TESTS = tests/integration/test_chaingen.sh
TESTS += $(SYNCTEST_INTEGRATION_TESTS)
check_SCRIPTS += $(SYNCTEST_INTEGRATION_TESTS)
EXTRA_DIST += $(SYNCTEST_INTEGRATION_TESTS)

# A misbehaving eth server for the sync tests (tests/integration/faulty_peer.c).
check_PROGRAMS += tests/integration/faulty_peer
tests_integration_faulty_peer_SOURCES = tests/integration/faulty_peer.c $(CHAINGEN_BUILD_SRCS)
tests_integration_faulty_peer_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
tests_integration_faulty_peer_LDADD = libethd.la $(DEP_LIBS)

# downloader-full against faulty peers (needs plugins/downloader).
SYNCTEST_SYNC_TESTS = tests/integration/test_sync_faulty.sh
TESTS += $(SYNCTEST_SYNC_TESTS)
check_SCRIPTS += $(SYNCTEST_SYNC_TESTS)
EXTRA_DIST += $(SYNCTEST_SYNC_TESTS)

# downloader-full syncing from the EthereumJS client (skips without node).
SYNCTEST_INTEROP_TESTS = tests/interop/test_sync_from_ejs.sh
TESTS += $(SYNCTEST_INTEROP_TESTS)
check_SCRIPTS += $(SYNCTEST_INTEROP_TESTS)
EXTRA_DIST += $(SYNCTEST_INTEROP_TESTS)

# Sync benchmark (prints figures; never run by make check): chaingen chain,
# import bound, downloader-full sync, EthereumJS peer comparison.
EXTRA_DIST += bench/bench_sync.sh
