#!/bin/bash
# bench_light: what a light node costs, and how many header requests a
# les-server answers (issue: "light node in a few MB").
#
#   1. tools/chaingen writes BLOCKS empty blocks (3 signers); a server (eth +
#      les-server) imports them;
#   2. a light node (les + downloader-light, the shipped etc/light.yaml
#      settings) syncs every header from it: seconds, headers/s, peak RSS
#      (VmHWM) and steady RSS (VmRSS 5 s after the sync), beside a full node
#      (eth + downloader-full) syncing the same chain from the same server;
#      the goal line is 16 MiB steady for the light node;
#   3. CLIENTS simulated light clients (tests/integration/les_probe, each a
#      real RLPx + les connection that respects its flow-control buffer) each
#      send REQS GetBlockHeaders of 192 headers at once: answered requests/s
#      and headers/s for the server.
# Prints figures only. Run from the build directory:
#   bench/bench_light.sh [BLOCKS [CLIENTS [REQS]]]   (defaults 100000, 100, 50)
# Environment: ETHD_BUILDDIR (default .), ETHD_SRCDIR, KEEP=1 keeps the work dir.
set -u
B=${ETHD_BUILDDIR:-$PWD}
SRC=${ETHD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BLOCKS=${1:-100000}
CLIENTS=${2:-100}
REQS=${3:-50}
E=$B/ethd
CG=$B/tools/chaingen
PROBE=$B/tests/integration/les_probe
[ -x "$PROBE" ] || make -C "$B" tests/integration/les_probe >/dev/null 2>&1
for f in "$E" "$CG" "$PROBE" "$B/plugins/les/les.la" "$B/plugins/downloader/downloader-light.la"; do
    [ -e "$f" ] || { echo "bench_light: needs $f (make; make tests/integration/les_probe)"; exit 1; }
done
W=$(mktemp -d /tmp/ethd-bench-light-XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; [ "${KEEP:-0}" = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
now() { date +%s.%N; }
rpc() { curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":[]}" "http://127.0.0.1:$1/" | jq -c .result; }
port_of() { sed -n 's/.*rpc listening host=[^ ]* port=\([0-9]*\).*/\1/p' "$1" | head -1; }
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }
wait_port() { for _ in $(seq 1 300); do p=$(port_of "$1"); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.1; done; }
kib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo "# bench_light: $BLOCKS blocks, $CLIENTS clients x $REQS requests"
"$CG" --blocks "$BLOCKS" --signers 3 --out "$W/chain" >/dev/null || exit 1
"$E" --datadir "$W/s" init --genesis "$W/chain/genesis.json" >/dev/null 2>&1
"$E" --datadir "$W/s" import "$W/chain/chain.rlp" >/dev/null 2>&1 || { echo "import failed"; exit 1; }
cat >"$W/s.yaml" <<YAML
node: {datadir: "$W/s", mode: full}
log: {level: info}
chain: {genesis: "$W/chain/genesis.json"}
plugins: {load: [eth, les]}
rpc: {port: 0}
p2p: {port: 0, max_peers: $((CLIENTS + 10)), max_inbound: $((CLIENTS + 8))}
services:
  eth: {}
  les-server: {max_clients: $((CLIENTS + 4)), buffer_limit: 3000000, min_recharge: 3000000}
YAML
"$E" -c "$W/s.yaml" >"$W/s.log" 2>&1 & PIDS="$PIDS $!"
SP=$(wait_port "$W/s.log"); ENODE=$(enode_of "$W/s.log")

# sync_node NAME PLUGINS SERVICES WANT-METHOD: prints "seconds peak_kib steady_kib"
sync_node() {
    cat >"$W/$1.yaml" <<YAML
node: {datadir: "$W/$1", mode: $5}
log: {level: info}
chain: {genesis: "$W/chain/genesis.json"}
plugins: {load: [$2]}
rpc: {port: 0}
p2p: {port: 0, static_peers: ["$ENODE"]}
services:
$3
YAML
    t0=$(now)
    "$E" -c "$W/$1.yaml" >"$W/$1.log" 2>&1 & pid=$!; PIDS="$PIDS $pid"
    p=$(wait_port "$W/$1.log")
    for _ in $(seq 1 6000); do
        [ "$(rpc "$p" "$4")" = "$(printf '"0x%x"' "$BLOCKS")" ] && break
        sleep 0.1
    done
    t1=$(now)
    sleep 5
    peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    steady=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    kill -TERM "$pid"; wait "$pid" 2>/dev/null
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $peak $steady"
}
read -r LS LPEAK LSTEADY < <(sync_node light "les, downloader-light" "  les-client: {}
  downloader-light: {}" eth_blockNumber light)
read -r FS FPEAK FSTEADY < <(sync_node full "eth, downloader-full" "  eth: {}
  downloader-full: {}" eth_blockNumber full)
printf 'light node: %d headers in %.1f s = %.0f headers/s; peak RSS %s, steady RSS %s (goal: under 16 MiB steady: %s)\n' \
    "$BLOCKS" "$LS" "$(awk -v n="$BLOCKS" -v t="$LS" 'BEGIN { print n / t }')" "$(kib "$LPEAK")" "$(kib "$LSTEADY")" \
    "$([ "$LSTEADY" -lt 16384 ] && echo met || echo NOT met)"
printf 'full node:  %d blocks in %.1f s = %.0f blocks/s; peak RSS %s, steady RSS %s\n' \
    "$BLOCKS" "$FS" "$(awk -v n="$BLOCKS" -v t="$FS" 'BEGIN { print n / t }')" "$(kib "$FPEAK")" "$(kib "$FSTEADY")"
printf 'light / full steady RSS: %.2f\n' "$(awk -v a="$LSTEADY" -v b="$FSTEADY" 'BEGIN { print a / b }')"

# ---- les-server header requests/s from CLIENTS clients ----
t0=$(now)
for c in $(seq 1 "$CLIENTS"); do
    timeout 300 "$PROBE" "$ENODE" --version 4 behave "$REQS" >"$W/c$c.ev" 2>&1 &
    CP="${CP:-} $!"
done
for p in $CP; do wait "$p"; done
t1=$(now)
answered=$(cat "$W"/c*.ev | grep -c '"ev":"headers"')
hdrs=$(cat "$W"/c*.ev | jq -r 'select(.ev == "headers") | .count' 2>/dev/null | awk '{s += $1} END {print s + 0}')
stops=$(cat "$W"/c*.ev | grep -c '"ev":"stop"')
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
printf 'les-server: %d clients, %d GetBlockHeaders answered in %.1f s = %.0f requests/s, %.0f headers/s (StopMsg: %d)\n' \
    "$CLIENTS" "$answered" "$secs" "$(awk -v n="$answered" -v t="$secs" 'BEGIN { print n / t }')" "$(awk -v n="$hdrs" -v t="$secs" 'BEGIN { print n / t }')" "$stops"
