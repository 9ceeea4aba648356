#!/bin/bash
# kill -9 during a sync (plugins/downloader, chain store atomicity): a chain
# made by tools/chaingen (30000 blocks, 3 signers, 2 transfers per block) is
# served by node S; node X (eth +
# downloader-full, small requests so the sync takes many steps) is killed
# with SIGKILL at a random point of its sync, 12 times. After each kill
# `ethd export` must open the store and write a chain that is a prefix of
# the served one (nothing half-written, nothing foreign); each restart must
# go on from there. At the end X holds the whole chain: its export equals
# the served chain.rlp byte for byte, receipts included (eth_getBlockReceipts
# of sampled blocks equal S's). Loopback only; every wait is bounded.
. "$(dirname "$0")/lib.sh"

GEN="$ETHD_BUILDDIR/tools/chaingen"
[ -x "$GEN" ] || { not_ok "needs $GEN"; finish; exit 1; }
export ETHD_PLUGIN_PATH="$ETHD_BUILDDIR/plugins/eth:$ETHD_BUILDDIR/plugins/downloader:$ETHD_PLUGIN_PATH"
dump() { for f in "$@"; do echo "# --- $f"; tail -25 "$f" | sed 's/^/#   /' | cut -c1-300; done; }
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }
N=30000
KILLS=12
C="$T_TMP/chain"
"$GEN" --blocks $N --signers 3 --txs-per-block 2 --out "$C" >"$T_TMP/gen.log" 2>&1 ||
    { not_ok "chaingen $N blocks"; dump "$T_TMP/gen.log"; finish; exit 1; }
"$ETHD_BIN" --datadir "$T_TMP/s" init --genesis "$C/genesis.json" >"$T_TMP/init.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$T_TMP/s" import "$C/chain.rlp" --receipts "$C/receipts.rlp" >"$T_TMP/import.log" 2>&1 ||
    { not_ok "S: import the generated chain"; dump "$T_TMP/init.log" "$T_TMP/import.log"; finish; exit 1; }
ok "a $N-block chain generated and imported into S"

cat >"$T_TMP/s.yaml" <<YAML
node: {datadir: "$T_TMP/s", mode: full}
chain: {genesis: "$C/genesis.json"}
plugins: {load: [eth]}
rpc: {port: 0}
p2p: {port: 0}
services:
  eth: {}
YAML
start_node s -c "$T_TMP/s.yaml" || { not_ok "S starts"; dump "$NODE_LOG"; finish; exit 1; }
S_PORT=$NODE_PORT
ENODE=$(enode_of "$NODE_LOG")
cat >"$T_TMP/x.yaml" <<YAML
node: {datadir: "$T_TMP/x", mode: full}
log: {level: info}
chain: {genesis: "$C/genesis.json"}
plugins: {load: [eth, downloader-full]}
rpc: {port: 0}
p2p: {port: 0, static_peers: ["$ENODE"]}
services:
  eth: {}
  downloader-full:
    force_interval: 500ms
    skeleton_span: 16
    skeleton_anchors: 4
    insert_batch: 8
    max_bodies_per_request: 8
    max_receipts_per_request: 8
YAML

# prefix_ok FILE: FILE's bytes are a prefix of the served chain.rlp.
prefix_ok() {
    sz=$(stat -c %s "$1")
    cmp -s -n "$sz" "$1" "$C/chain.rlp"
}
heights=""
bad=0
for i in $(seq 1 $KILLS); do
    start_node "x$i" -c "$T_TMP/x.yaml" || { not_ok "X starts (run $i)"; dump "$NODE_LOG"; bad=1; break; }
    pid=$NODE_PID
    # a random moment: 0.1 .. 0.5 s after RPC came up
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.1 + (r % 40) / 100 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if ! "$ETHD_BIN" --datadir "$T_TMP/x" export "$T_TMP/x$i.rlp" >"$T_TMP/export$i.log" 2>&1; then
        if grep -q 'the chain has blocks 0..0' "$T_TMP/export$i.log"; then
            : >"$T_TMP/x$i.rlp" # killed before the first block: an empty prefix
        else
            not_ok "after kill $i the store opens and exports"; dump "$T_TMP/export$i.log"; bad=1; break
        fi
    fi
    if ! prefix_ok "$T_TMP/x$i.rlp"; then
        not_ok "after kill $i the stored chain is a prefix of the served one"; bad=1; break
    fi
    h=$(sed -En 's/.*export done .*last=([0-9]+).*/\1/p' "$T_TMP/export$i.log" | tail -1)
    heights="$heights ${h:-0}"
done
[ $bad = 0 ] && ok "$KILLS kills at random points: each time the store opened and held a prefix of the chain (heights:$heights)"

start_node xf -c "$T_TMP/x.yaml" || { not_ok "X starts for the last time"; dump "$NODE_LOG"; finish; exit 1; }
X_PORT=$NODE_PORT; X_PID=$NODE_PID
done_sync() {
    [ "$(call "$X_PORT" eth_blockNumber)" = "\"$(printf '0x%x' $N)\"" ] && [ "$(call "$X_PORT" eth_syncing)" = false ]
}
t=0; while [ $t -lt 600 ] && ! done_sync; do sleep 0.2; t=$((t + 1)); done
check "the last run finishes the sync (head $N, eth_syncing false)" done_sync
same=1
for n in 1 2 777 15000 29999 30000; do
    q=$(printf '0x%x' $n)
    [ "$(call "$X_PORT" eth_getBlockReceipts "[\"$q\"]")" = "$(call "$S_PORT" eth_getBlockReceipts "[\"$q\"]")" ] || same=0
done
check "receipts of sampled blocks equal S's" test $same = 1
kill -TERM "$X_PID"; wait_exit "$X_PID" 20
"$ETHD_BIN" --datadir "$T_TMP/x" export "$T_TMP/final.rlp" >"$T_TMP/final.log" 2>&1
check "X's export equals the served chain.rlp byte for byte" cmp -s "$T_TMP/final.rlp" "$C/chain.rlp"
finish
