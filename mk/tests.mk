# Unit tests of the core runtime, integration tests (ethd processes on
# loopback) and the out-of-tree SDK test.
check_PROGRAMS += tests/unit/test_node tests/unit/test_bus tests/unit/test_cli
TESTS += tests/unit/test_node tests/unit/test_bus tests/unit/test_cli
tests_unit_test_node_SOURCES = tests/unit/test_node.c
tests_unit_test_node_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_node_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_bus_SOURCES = tests/unit/test_bus.c
tests_unit_test_bus_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_bus_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_cli_SOURCES = tests/unit/test_cli.c
tests_unit_test_cli_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_cli_LDADD = $(ETHD_UNIT_LIBS)

# Integration tests: real ethd processes on 127.0.0.1 (bash + curl + jq).
INTEGRATION_TESTS = tests/integration/test_run.sh tests/integration/test_cli.sh \
	tests/integration/test_sdk.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib.sh tests/summary.sh
# The integration tests need the binary, the plugins and the test plugins built.
check_SCRIPTS += $(INTEGRATION_TESTS)
