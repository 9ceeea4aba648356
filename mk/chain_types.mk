# chain types fragment: header / transaction / receipt / body / block codecs,
# chain config and genesis.json, EIP-2124 fork id.
libethd_la_SOURCES += core/chain/header.c core/chain/tx.c core/chain/receipt.c \
	core/chain/body.c core/chain/chainconfig.c core/chain/genesis.c core/chain/forkid.c
ethdinclude_HEADERS += include/ethd/block.h include/ethd/genesis.h include/ethd/forkid.h

check_PROGRAMS += tests/unit/test_header tests/unit/test_tx tests/unit/test_receipt \
	tests/unit/test_genesis tests/unit/test_forkid
TESTS += tests/unit/test_header tests/unit/test_tx tests/unit/test_receipt \
	tests/unit/test_genesis tests/unit/test_forkid
noinst_HEADERS += tests/unit/chain_util.h
tests_unit_test_header_SOURCES = tests/unit/test_header.c
tests_unit_test_header_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_header_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_tx_SOURCES = tests/unit/test_tx.c
tests_unit_test_tx_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_tx_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_receipt_SOURCES = tests/unit/test_receipt.c
tests_unit_test_receipt_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_receipt_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_genesis_SOURCES = tests/unit/test_genesis.c
tests_unit_test_genesis_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_genesis_LDADD = $(ETHD_UNIT_LIBS)
tests_unit_test_forkid_SOURCES = tests/unit/test_forkid.c
tests_unit_test_forkid_CFLAGS = $(ETHD_UNIT_CFLAGS)
tests_unit_test_forkid_LDADD = $(ETHD_UNIT_LIBS)

FUZZ_NAMES += block
FUZZ_SRCS_block = fuzz/fuzz_block.c core/chain/header.c core/chain/tx.c core/chain/receipt.c \
	core/chain/body.c core/chain/chainconfig.c core/chain/genesis.c core/chain/forkid.c \
	core/rlp.c core/buf.c core/error.c core/trie.c core/crypto/keccak.c \
	core/crypto/secp256k1.c core/crypto/random.c
FUZZ_LIBS_block = $(SECP256K1_LIBS) $(NETTLE_LIBS) $(JANSSON_LIBS)

noinst_PROGRAMS += bench/bench_chain_codec
bench_bench_chain_codec_SOURCES = bench/bench_chain_codec.c
bench_bench_chain_codec_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_chain_codec_LDADD = libethd.la $(DEP_LIBS)
