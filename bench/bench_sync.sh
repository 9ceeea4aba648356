#!/bin/bash
# bench_sync: how fast downloader-full syncs a long clique chain from another
# ethd over loopback, next to the import bound measured in the same run.
#
#   1. tools/chaingen writes BLOCKS blocks (3 signers, empty blocks);
#   2. bound: `ethd import` of that file into the server's data dir (the
#      same verification and writes, no network) -> blocks/s;
#   3. the server runs eth; a fresh node with eth + downloader-full has it
#      as a static peer; time from start to eth_blockNumber = BLOCKS and
#      eth_syncing false -> blocks/s, and the ratio to the bound; the
#      syncing node's peak RSS (VmHWM) and its RSS at the end;
#      headers/s: the same with downloader-light (headers only), if that
#      plugin runs on eth peers;
#   4. peer comparison: the EthereumJS client (tests/interop, pinned
#      @ethereumjs/client) syncing EJS_BLOCKS blocks from ethd (ethd dials
#      it; the client waits ~20 s before it starts, so the figure is taken
#      from its first imported block to the last).
# Prints figures only. Run from the build directory:
#   bench/bench_sync.sh [BLOCKS [EJS_BLOCKS]]     (defaults 100000, 2000)
# Environment: ETHD_BUILDDIR (default .), ETHD_SRCDIR (default: this
# script's ../), KEEP=1 keeps the work directory.
set -u
B=${ETHD_BUILDDIR:-$PWD}
SRC=${ETHD_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BLOCKS=${1:-100000}
EJS_BLOCKS=${2:-2000}
E=$B/ethd
CG=$B/tools/chaingen
for f in "$E" "$CG" "$B/plugins/eth/eth.la"; do
    [ -e "$f" ] || { echo "bench_sync: needs $f (make in the build directory)"; exit 1; }
done
export ETHD_PLUGIN_PATH="$B/plugins/downloader:$B/plugins/eth"
W=$(mktemp -d /tmp/ethd-bench-sync-XXXXXX)
PIDS=""
cleanup() { exec 2>/dev/null; for p in $PIDS; do kill -9 "$p"; wait "$p"; done; [ "${KEEP:-0}" = 1 ] || rm -rf "$W"; }
trap cleanup EXIT
now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }
call() { curl -s --max-time 10 -H 'Content-Type: application/json' \
    --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":${3:-[]}}" "http://127.0.0.1:$1/" | jq -c .result; }
# start NAME CONFIG: sets PID PORT LOG; waits <= 30 s for RPC.
start() {
    LOG=$W/$1.log
    "$E" --rpc-port 0 --p2p-port 0 -c "$2" >"$LOG" 2>&1 &
    PID=$!; PIDS="$PIDS $PID"
    for _ in $(seq 300); do
        PORT=$(sed -n 's/.*rpc listening host=[^ ]* port=\([0-9]*\).*/\1/p' "$LOG" | head -1)
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench_sync: $1 did not start:"; tail -5 "$LOG"; return 1
}
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }
hwm() { awk '/VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
rss() { awk '/VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

echo "bench_sync: $BLOCKS blocks, 3 signers, empty blocks; work dir $W"
t0=$(now)
"$CG" --blocks "$BLOCKS" --signers 3 --out "$W/chain" >/dev/null 2>&1 || { echo "chaingen failed"; exit 1; }
t1=$(now)
echo "chaingen:                 $(rate "$BLOCKS" "$(echo "$t1 - $t0" | bc)") blocks/s ($(du -m "$W/chain/chain.rlp" | cut -f1) MB)"

# ---- bound: ethd import ----
t0=$(now)
"$E" --datadir "$W/s" import "$W/chain/chain.rlp" --genesis "$W/chain/genesis.json" >/dev/null 2>"$W/import.log" ||
    { echo "import failed"; tail -3 "$W/import.log"; exit 1; }
t1=$(now)
IMP=$(echo "$t1 - $t0" | bc)
IMP_RATE=$(rate "$BLOCKS" "$IMP")
echo "import bound (ethd import, same chain): $IMP_RATE blocks/s (${IMP} s)"

cat >"$W/s.yaml" <<YAML
node: {datadir: "$W/s", mode: full}
chain: {genesis: "$W/chain/genesis.json"}
plugins: {load: [eth]}
services:
  eth: {}
YAML
start s "$W/s.yaml" || exit 1
S_PID=$PID; S_PORT=$PORT; S_ENODE=$(enode_of "$LOG")

# sync_run NAME PLUGIN: a fresh node syncing from the server; prints the rate.
sync_run() {
    "$E" --datadir "$W/$1" init --genesis "$W/chain/genesis.json" >/dev/null 2>&1
    cat >"$W/$1.yaml" <<YAML
node: {datadir: "$W/$1", mode: $3}
chain: {genesis: "$W/chain/genesis.json"}
plugins: {load: [eth, $2]}
p2p: {static_peers: ["$S_ENODE"]}
services:
  eth: {}
  $2: {}
YAML
    t0=$(now)
    start "$1" "$W/$1.yaml" || return 1
    X_PID=$PID; X_PORT=$PORT
    want=$(printf '"0x%x"' "$BLOCKS")
    # Bounded: 20 ms per block at the very least 120 s.
    limit=$(( BLOCKS / 50 > 120 ? BLOCKS / 50 : 120 ))
    peak=0
    while :; do
        h=$(hwm "$X_PID"); [ -n "$h" ] && peak=$h
        if [ "$2" = downloader-light ]; then
            # eth_ numbers stop at the head block (0 on a light node)
            [ "$(call "$X_PORT" downloader_status | jq -r .headHeader)" = "$BLOCKS" ] && break
        else
            [ "$(call "$X_PORT" eth_blockNumber)" = "$want" ] && [ "$(call "$X_PORT" eth_syncing)" = false ] && break
        fi
        kill -0 "$X_PID" 2>/dev/null || { echo "  $1: the node exited"; tail -5 "$W/$1.log"; return 1; }
        if [ "$(echo "$(now) - $t0 > $limit" | bc)" = 1 ]; then
            echo "  $1: not done after $limit s (head $(call "$X_PORT" eth_blockNumber), syncing $(call "$X_PORT" eth_syncing | cut -c1-120))"
            return 1
        fi
        sleep 0.2
    done
    t1=$(now)
    SYNC_T=$(echo "$t1 - $t0" | bc)
    SYNC_RATE=$(rate "$BLOCKS" "$SYNC_T")
    PEAK_MB=$(awk -v k="$(hwm "$X_PID")" 'BEGIN { printf "%.1f", k / 1024 }')
    END_MB=$(awk -v k="$(rss "$X_PID")" 'BEGIN { printf "%.1f", k / 1024 }')
    kill "$X_PID"; wait "$X_PID" 2>/dev/null
}

if [ ! -e "$B/plugins/downloader/downloader-full.la" ]; then
    echo "downloader-full sync:     n/a (no plugins/downloader/downloader-full.la in $B)"
elif sync_run x downloader-full full; then
    echo "downloader-full sync:     $SYNC_RATE blocks/s (${SYNC_T} s from start, incl. connect)  ratio to import bound $(awk -v a="$SYNC_RATE" -v b="$IMP_RATE" 'BEGIN { printf "%.2f", a / b }')"
    echo "  syncing node memory:    peak RSS (VmHWM) $PEAK_MB MB, RSS at the end $END_MB MB"
fi
if [ ! -e "$B/plugins/downloader/downloader-light.la" ]; then
    echo "downloader-light (headers only): n/a (no plugins/downloader/downloader-light.la)"
elif sync_run l downloader-light light 2>/dev/null; then
    echo "downloader-light (headers only): $SYNC_RATE headers/s (${SYNC_T} s)  ratio to import bound $(awk -v a="$SYNC_RATE" -v b="$IMP_RATE" 'BEGIN { printf "%.2f", a / b }'); peak RSS $PEAK_MB MB"
else
    echo "downloader-light (headers only): n/a (did not run on eth peers in this build; see $W/l.log with KEEP=1)"
fi
kill "$S_PID"; wait "$S_PID" 2>/dev/null

# ---- peer comparison: EthereumJS syncing from ethd ----
JS=$B/tests/interop
HOOK=$SRC/../shared/interop/ejs-clique-exec-fix.mjs
CLI=$JS/node_modules/@ethereumjs/client/dist/esm/bin/cli.js
if ! command -v node >/dev/null || [ ! -f "$CLI" ] || [ ! -f "$HOOK" ]; then
    echo "EthereumJS comparison: skipped (needs node and $CLI: run the interop tests once)"
    exit 0
fi
"$CG" --blocks "$EJS_BLOCKS" --signers 3 --out "$W/small" >/dev/null 2>&1
"$E" --datadir "$W/s2" import "$W/small/chain.rlp" --genesis "$W/small/genesis.json" >/dev/null 2>&1
sed "s#$W/s\"#$W/s2\"#; s#$W/chain/genesis.json#$W/small/genesis.json#" "$W/s.yaml" >"$W/s2.yaml"
start s2 "$W/s2.yaml" || exit 1
S2_PORT=$PORT
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
EP=$(free_port); ER=$(free_port)
mkdir -p "$W/ejs"
(cd "$W/ejs" && exec timeout 900 node --import "$HOOK" "$CLI" --gethGenesis "$W/small/genesis.json" \
    --dataDir "$W/ejs/data" --port "$EP" --extIP 127.0.0.1 --rpc --rpcAddr 127.0.0.1 --rpcPort "$ER" \
    --discDns=false --discV4=false --sync full >"$W/ejs.log" 2>&1) &
EJS_PID=$!; PIDS="$PIDS $EJS_PID"
EN=""
for _ in $(seq 600); do
    EN=$(grep -o 'url=enode://[0-9a-f]*@[0-9.]*:[0-9]*' "$W/ejs.log" 2>/dev/null | head -1 | sed 's/^url=//; s/@[0-9.]*:/@127.0.0.1:/')
    [ -n "$EN" ] && break; sleep 0.1
done
[ -n "$EN" ] || { echo "EthereumJS comparison: the client did not start"; exit 0; }
call "$S2_PORT" admin_addPeer "[\"$EN\"]" >/dev/null
ejs_bn() { curl -s --max-time 5 -H 'Content-Type: application/json' \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "http://127.0.0.1:$ER/" | jq -r '.result // "0x0"' 2>/dev/null; }
first=""; t0=$(now)
while :; do
    bn=$(( $(ejs_bn || echo 0x0) ))
    [ -z "$first" ] && [ "$bn" -gt 0 ] && { first=$(now); first_bn=$bn; }
    [ "$bn" -ge "$EJS_BLOCKS" ] && break
    kill -0 "$EJS_PID" 2>/dev/null || { echo "EthereumJS comparison: the client exited"; exit 0; }
    [ "$(echo "$(now) - $t0 > 600" | bc)" = 1 ] && { echo "EthereumJS comparison: not done after 600 s (block $bn)"; exit 0; }
    sleep 0.2
done
t1=$(now)
echo "EthereumJS client ($EJS_BLOCKS blocks from ethd): $(rate $((EJS_BLOCKS - first_bn)) "$(echo "$t1 - $first" | bc)") blocks/s from its first block to the last ($(echo "$t1 - $t0" | bc) s in all, with its start-up wait)"
