# crypto fragment: secp256k1 wrappers, RLPx ECIES, Merkle-Patricia trie roots.
libethd_la_SOURCES += core/crypto/random.c core/crypto/secp256k1.c core/crypto/ecies.c core/trie.c
ethdinclude_HEADERS += include/ethd/random.h include/ethd/secp256k1.h include/ethd/trie.h
noinst_HEADERS += core/crypto/ecies.h

check_PROGRAMS += tests/unit/test_secp256k1 tests/unit/test_ecies tests/unit/test_trie
TESTS += tests/unit/test_secp256k1 tests/unit/test_ecies tests/unit/test_trie
tests_unit_test_secp256k1_SOURCES = tests/unit/test_secp256k1.c tests/unit/testutil.h
tests_unit_test_secp256k1_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_secp256k1_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_ecies_SOURCES = tests/unit/test_ecies.c tests/unit/testutil.h
tests_unit_test_ecies_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_ecies_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_trie_SOURCES = tests/unit/test_trie.c tests/unit/testutil.h
tests_unit_test_trie_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_trie_LDADD = $(ETHD_UNIT_LIBS)

noinst_PROGRAMS += bench/bench_ecrecover bench/bench_trie
bench_bench_ecrecover_SOURCES = bench/bench_ecrecover.c
bench_bench_ecrecover_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_ecrecover_LDADD = libethd.la $(DEP_LIBS)
bench_bench_trie_SOURCES = bench/bench_trie.c
bench_bench_trie_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_trie_LDADD = libethd.la $(DEP_LIBS)

FUZZ_NAMES += ecies
FUZZ_SRCS_ecies = fuzz/fuzz_ecies.c core/crypto/ecies.c core/crypto/secp256k1.c core/crypto/random.c \
	core/crypto/keccak.c core/error.c
FUZZ_LIBS_ecies = $(SECP256K1_LIBS) $(NETTLE_LIBS)
