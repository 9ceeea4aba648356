# rlpx fragment: RLPx transport codec (handshake, framing, snappy).
libethd_la_SOURCES += core/p2p/rlpx.c
noinst_HEADERS += core/p2p/rlpx.h

check_PROGRAMS += tests/unit/test_rlpx
TESTS += tests/unit/test_rlpx
tests_unit_test_rlpx_SOURCES = tests/unit/test_rlpx.c tests/unit/testutil.h
tests_unit_test_rlpx_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_rlpx_LDADD = $(ETHD_UNIT_LIBS)

noinst_PROGRAMS += bench/bench_rlpx
bench_bench_rlpx_SOURCES = bench/bench_rlpx.c
bench_bench_rlpx_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_rlpx_LDADD = libethd.la $(DEP_LIBS)

RLPX_FUZZ_DEPS = core/p2p/rlpx.c core/crypto/ecies.c core/crypto/secp256k1.c core/crypto/random.c \
	core/crypto/keccak.c core/rlp.c core/buf.c core/error.c
FUZZ_NAMES += rlpx_auth rlpx_frame
FUZZ_SRCS_rlpx_auth = fuzz/fuzz_rlpx_auth.c $(RLPX_FUZZ_DEPS)
FUZZ_LIBS_rlpx_auth = $(SECP256K1_LIBS) $(NETTLE_LIBS) $(SNAPPY_LIBS)
FUZZ_SRCS_rlpx_frame = fuzz/fuzz_rlpx_frame.c $(RLPX_FUZZ_DEPS)
FUZZ_LIBS_rlpx_frame = $(SECP256K1_LIBS) $(NETTLE_LIBS) $(SNAPPY_LIBS)
