# store fragment: the RocksDB key/value store (core/db/store.c).
libethd_la_SOURCES += core/db/store.c
noinst_HEADERS += core/db/store.h

check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_store_LDADD = $(ETHD_UNIT_LIBS)

# Benchmark (built by `make`, never run by `make check`): ./bench/bench_store
noinst_PROGRAMS += bench/bench_store
bench_bench_store_SOURCES = bench/bench_store.c
bench_bench_store_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_store_LDADD = libethd.la $(DEP_LIBS)
