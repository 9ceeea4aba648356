#!/bin/sh
# From a fresh clone: install packages, generate the build system, configure.
# Extra arguments go to ./configure.
set -eu
cd "$(dirname "$0")/.."
build-aux/deps.sh
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure "$@"
