# libFuzzer targets, built with clang (FUZZ_CC) straight from the sources so
# the code under test carries coverage instrumentation. A subsystem adds one:
#   FUZZ_NAMES += rlp
#   FUZZ_SRCS_rlp = fuzz/fuzz_rlp.c core/rlp.c core/buf.c core/error.c
#   FUZZ_LIBS_rlp = $(NETTLE_LIBS)
# Seeds live in fuzz/corpus/NAME/. `make fuzz` builds them all; the test suite
# runs each for a few seconds (tests/fuzz_smoke.sh); docs/fuzzing.md has the
# command for long runs.
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -I$(top_srcdir)/include -I$(top_builddir)/include \
	-I$(top_srcdir)/core -I$(top_builddir) $(DEP_CFLAGS)
FUZZ_BINS = $(addprefix fuzz/fuzz_,$(FUZZ_NAMES))

.SECONDEXPANSION:
$(FUZZ_BINS): fuzz/fuzz_%: $$(addprefix $$(top_srcdir)/,$$(FUZZ_SRCS_$$*)) include/ethd/version.h
	@mkdir -p fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(FUZZ_LIBS_$*)

fuzz: $(FUZZ_BINS)
CLEANFILES += $(FUZZ_BINS)
EXTRA_DIST += fuzz tests/fuzz_smoke.sh

if HAVE_FUZZ_CC
check_DATA = $(FUZZ_BINS)
TESTS += tests/fuzz_smoke.sh
endif
