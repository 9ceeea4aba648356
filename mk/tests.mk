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
