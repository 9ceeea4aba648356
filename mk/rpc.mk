# rpc fragment: the JSON-RPC 2.0 HTTP server (libevent evhttp + jansson), its
# unit test and fuzz target. core/rpc/server.h is listed in core.mk.
libethd_la_SOURCES += core/rpc/server.c

check_PROGRAMS += tests/unit/test_rpc
TESTS += tests/unit/test_rpc
tests_unit_test_rpc_SOURCES = tests/unit/test_rpc.c
tests_unit_test_rpc_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_rpc_LDADD = $(ETHD_UNIT_LIBS)

FUZZ_NAMES += rpc
FUZZ_SRCS_rpc = fuzz/fuzz_rpc.c core/rpc/server.c core/error.c core/log.c
FUZZ_LIBS_rpc = $(LIBEVENT_LIBS) $(JANSSON_LIBS)
