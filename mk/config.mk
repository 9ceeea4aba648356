# config fragment: the YAML configuration tree (libyaml), its unit test and
# fuzz target. include/ethd/config.h and core/conf.h are listed in core.mk.
libethd_la_SOURCES += core/conf.c

check_PROGRAMS += tests/unit/test_conf
TESTS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_conf_LDADD = $(ETHD_UNIT_LIBS)
EXTRA_DIST += tests/unit/conf

FUZZ_NAMES += yaml
FUZZ_SRCS_yaml = fuzz/fuzz_yaml.c core/conf.c core/error.c
FUZZ_LIBS_yaml = $(YAML_LIBS)
