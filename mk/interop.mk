# Interop tests against EthereumJS (tests/interop/README.md). The test skips
# (exit 77) without node/npm; with them it installs the pinned packages
# (package-lock.json) with `npm ci` into $(builddir)/tests/interop/.
INTEROP_TESTS = tests/interop/test_rlpx_interop.sh
TESTS += $(INTEROP_TESTS)
check_SCRIPTS += $(INTEROP_TESTS)
EXTRA_DIST += $(INTEROP_TESTS) tests/interop/README.md tests/interop/package.json \
	tests/interop/package-lock.json tests/interop/rlpx_peer.mjs

# What the interop test copies or installs into the build tree. In an
# in-tree build only the installed packages go (the sources stay).
clean-local: clean-interop
clean-interop:
	rm -rf tests/interop/node_modules tests/interop/node_modules.lock tests/interop/npm-ci.log
	if test "$(srcdir)" != "."; then \
	  rm -f tests/interop/package.json tests/interop/package-lock.json tests/interop/*.mjs; \
	fi
.PHONY: clean-interop

# p2p network benchmark (prints figures; never run by make check).
noinst_PROGRAMS += bench/bench_p2p
bench_bench_p2p_SOURCES = bench/bench_p2p.c
bench_bench_p2p_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_bench_p2p_LDADD = libethd.la $(DEP_LIBS)
