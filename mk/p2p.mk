# p2p fragment: peers, the p2p server (listen, dial, static peers), the `p2p`
# base protocol, node key, enode URLs, known-item sets, admin_/net_ RPC.
# The RLPx codec itself is mk/rlpx.mk.
libethd_la_SOURCES += core/p2p/server.c core/p2p/peer.c core/p2p/hello.c core/p2p/enode.c \
	core/p2p/nodekey.c core/p2p/known_set.c core/p2p/admin_api.c
ethdinclude_HEADERS += include/ethd/p2p.h
noinst_HEADERS += core/p2p/server.h core/p2p/peer.h core/p2p/hello.h core/p2p/enode.h \
	core/p2p/nodekey.h

check_PROGRAMS += tests/unit/test_enode tests/unit/test_hello tests/unit/test_peer
TESTS += tests/unit/test_enode tests/unit/test_hello tests/unit/test_peer
tests_unit_test_enode_SOURCES = tests/unit/test_enode.c tests/unit/testutil.h
tests_unit_test_enode_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_enode_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_hello_SOURCES = tests/unit/test_hello.c tests/unit/testutil.h
tests_unit_test_hello_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_hello_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_peer_SOURCES = tests/unit/test_peer.c
tests_unit_test_peer_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_peer_LDADD = $(ETHD_UNIT_LIBS)

# Two ethd processes on loopback: static dial, admin_/net_ RPC, exa/1 traffic,
# re-dial with back-off, node key persistence.
P2P_INTEGRATION_TESTS = tests/integration/test_p2p.sh
TESTS += $(P2P_INTEGRATION_TESTS)
check_SCRIPTS += $(P2P_INTEGRATION_TESTS)
EXTRA_DIST += $(P2P_INTEGRATION_TESTS)

# libFuzzer: the Hello decoder (with an encode/decode round trip) and the
# enode URL parser (with a format/parse round trip).
FUZZ_NAMES += hello enode
FUZZ_SRCS_hello = fuzz/fuzz_hello.c core/p2p/hello.c core/rlp.c core/buf.c core/error.c
FUZZ_LIBS_hello =
FUZZ_SRCS_enode = fuzz/fuzz_enode.c core/p2p/enode.c core/hex.c core/error.c
FUZZ_LIBS_enode =
