# chain fragment: the chain store in RocksDB (headers, bodies, receipts, total
# difficulty, canonical and transaction indexes), clique (EIP-225) and
# consensus-independent verification, the "chain/1" interface, and the
# `ethd init | import | export` commands.
libethd_la_SOURCES += core/chain/store.c core/chain/lookup.c core/chain/clique.c core/chain/verify.c \
	core/chain/cli_chain.c
ethdinclude_HEADERS += include/ethd/chain.h
noinst_HEADERS += core/chain/chain.h core/chain/store_priv.h core/chain/clique.h core/chain/verify.h

check_PROGRAMS += tests/unit/test_chain_store tests/unit/test_clique
TESTS += tests/unit/test_chain_store tests/unit/test_clique
tests_unit_test_chain_store_SOURCES = tests/unit/test_chain_store.c
tests_unit_test_chain_store_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_chain_store_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_clique_SOURCES = tests/unit/test_clique.c
tests_unit_test_clique_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_clique_LDADD = $(ETHD_UNIT_LIBS)

# Integration: ethd init / import / export through the real binary.
TESTS += tests/integration/test_chain_cli.sh
check_SCRIPTS += tests/integration/test_chain_cli.sh
EXTRA_DIST += tests/integration/test_chain_cli.sh

# Benchmark (built by `make`, never run by `make check`): ./bench/bench_import
noinst_PROGRAMS += bench/bench_import
bench_bench_import_SOURCES = bench/bench_import.c
bench_bench_import_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_import_LDADD = libethd.la $(DEP_LIBS)
