#!/bin/sh
# Install the Debian packages ethd needs to build and test, if any is missing.
# Safe to run repeatedly: it only calls apt-get when something is absent.
set -eu
PKGS="build-essential autoconf automake libtool libltdl-dev pkg-config
libyaml-dev libevent-dev libjansson-dev libsecp256k1-dev nettle-dev
librocksdb-dev libsnappy-dev check clang libclang-rt-14-dev curl jq procps bc"
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
# The interop tests need Node.js (>= 18) and npm; keep an installed node as it is.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
