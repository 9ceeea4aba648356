# codec fragment: byte buffer, RLP, hex, Keccak-256.
libethd_la_SOURCES += core/buf.c core/rlp.c core/hex.c core/crypto/keccak.c
ethdinclude_HEADERS += include/ethd/buf.h include/ethd/rlp.h include/ethd/hex.h \
	include/ethd/keccak.h

check_PROGRAMS += tests/unit/test_rlp tests/unit/test_hex tests/unit/test_keccak
TESTS += tests/unit/test_rlp tests/unit/test_hex tests/unit/test_keccak
tests_unit_test_rlp_SOURCES = tests/unit/test_rlp.c tests/unit/testutil.h
tests_unit_test_rlp_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_rlp_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_hex_SOURCES = tests/unit/test_hex.c
tests_unit_test_hex_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_hex_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_keccak_SOURCES = tests/unit/test_keccak.c tests/unit/testutil.h
tests_unit_test_keccak_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_keccak_LDADD = $(ETHD_UNIT_LIBS)

FUZZ_NAMES += rlp
FUZZ_SRCS_rlp = fuzz/fuzz_rlp.c core/rlp.c core/buf.c core/error.c
FUZZ_LIBS_rlp =

noinst_PROGRAMS += bench/bench_keccak bench/bench_rlp
bench_bench_keccak_SOURCES = bench/bench_keccak.c
bench_bench_keccak_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_keccak_LDADD = libethd.la $(DEP_LIBS)
bench_bench_rlp_SOURCES = bench/bench_rlp.c
bench_bench_rlp_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_rlp_LDADD = libethd.la $(DEP_LIBS)
