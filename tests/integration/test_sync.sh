#!/bin/bash
# Three ethd nodes on loopback (plugins/downloader):
#   S serves devnet-a (init + import with receipts; eth only);
#   F (eth + downloader-full) and L (eth + downloader-light) start empty and
#   dial S. F ends with every block: each hash, state root and total
#   difficulty equals expected.json, receipts equal S's, eth_syncing is
#   false, and `ethd export` of F is chain.rlp byte for byte. L ends with
#   every header (hashes equal) and no bodies (its head block stays 0).
#   admin_peers shows the downloader's per-peer figures; downloader_status
#   and the log show the sync; a restart of F finds nothing to do.
# Loopback only; every wait is bounded.
. "$(dirname "$0")/lib.sh"

FIX="${ETHD_FIXTURES:-$ETHD_SRCDIR/../shared/fixtures}/devnet-a"
EXP="$FIX/expected.json"
for f in "$FIX/genesis.json" "$FIX/chain.rlp" "$FIX/receipts.rlp" "$EXP"; do
    [ -e "$f" ] || { not_ok "needs $f"; finish; exit 1; }
done
export ETHD_PLUGIN_PATH="$ETHD_BUILDDIR/plugins/eth:$ETHD_BUILDDIR/plugins/downloader:$ETHD_PLUGIN_PATH"
N=$(jq .head.number "$EXP")
HEX_N=$(printf '0x%x' "$N")
dump() { for f in "$@"; do echo "# --- $f"; tail -25 "$f" | sed 's/^/#   /' | cut -c1-300; done; }
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }
wait_for() { t=$(($1 * 5)); shift; while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.2; t=$((t - 1)); done; return 1; }
cfg() { # cfg NAME DATADIR PLUGINS SERVICES STATIC
    cat >"$T_TMP/$1.yaml" <<YAML
node: {datadir: "$2", mode: full}
log: {level: debug}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [$3]}
rpc: {port: 0}
p2p: {port: 0, static_peers: [$5]}
services:
$4
YAML
}
# batch PORT METHOD-FOR-N: JSON array of results for blocks 1..N
blocks_json() {
    body="["; sep=""
    for n in $(seq 1 "$N"); do
        body="$body$sep{\"jsonrpc\":\"2.0\",\"id\":$n,\"method\":\"$2\",\"params\":[\"$(printf '0x%x' "$n")\"$3]}"; sep=","
    done
    curl -s --max-time 30 -H 'Content-Type: application/json' --data-binary "$body]" "http://127.0.0.1:$1/" |
        jq -c 'sort_by(.id) | [.[].result]'
}

# ---- S: the server ----
"$ETHD_BIN" --datadir "$T_TMP/s" init --genesis "$FIX/genesis.json" >"$T_TMP/init.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$T_TMP/s" import "$FIX/chain.rlp" --receipts "$FIX/receipts.rlp" >"$T_TMP/import.log" 2>&1 ||
    { not_ok "S: init + import devnet-a"; dump "$T_TMP/init.log" "$T_TMP/import.log"; finish; exit 1; }
cfg s "$T_TMP/s" "eth" "  eth: {}" ""
start_node s -c "$T_TMP/s.yaml" || { not_ok "S starts"; dump "$NODE_LOG"; finish; exit 1; }
S_PORT=$NODE_PORT; S_LOG=$NODE_LOG
ENODE=$(enode_of "$S_LOG")

# ---- F (full) and L (light) ----
cfg f "$T_TMP/f" "eth, downloader-full" "  eth: {}
  downloader-full: {force_interval: 1s, skeleton_span: 32, skeleton_anchors: 4, max_bodies_per_request: 32}" "\"$ENODE\""
cfg l "$T_TMP/l" "eth, downloader-light" "  eth: {}
  downloader-light: {force_interval: 1s, skeleton_span: 40}" "\"$ENODE\""
start_node f -c "$T_TMP/f.yaml" || { not_ok "F starts"; dump "$NODE_LOG"; finish; exit 1; }
F_PORT=$NODE_PORT; F_LOG=$NODE_LOG; F_PID=$NODE_PID
start_node l -c "$T_TMP/l.yaml" || { not_ok "L starts"; dump "$NODE_LOG"; finish; exit 1; }
L_PORT=$NODE_PORT; L_LOG=$NODE_LOG
check "F logs 'downloader running' in full mode" grep -q 'downloader running mode=full' "$F_LOG"
check "L logs 'downloader running' in light mode" grep -q 'downloader running mode=light' "$L_LOG"

full_done() { [ "$(call "$F_PORT" eth_blockNumber)" = "\"$HEX_N\"" ] && [ "$(call "$F_PORT" eth_syncing)" = false ]; }
check "F syncs to block $N and eth_syncing turns false (<= 90 s)" wait_for 90 full_done
light_done() { [ "$(call "$L_PORT" downloader_status | jq .headHeader)" = "$N" ] && [ "$(call "$L_PORT" downloader_status | jq .syncing)" = false ]; }
check "L syncs every header to $N (<= 90 s)" wait_for 90 light_done

# ---- F: blocks, roots, total difficulty, receipts ----
GOT=$(blocks_json "$F_PORT" eth_getBlockByNumber ",false")
check "F: every block hash equals expected.json" \
    test "$(echo "$GOT" | jq -c '[.[].hash]')" = "$(jq -c '[.blocks[].hash]' "$EXP")"
check "F: every state root equals expected.json" \
    test "$(echo "$GOT" | jq -c '[.[].stateRoot]')" = "$(jq -c '[.blocks[].stateRoot]' "$EXP")"
check "F: every transactions root and tx hash list equals expected.json" \
    test "$(echo "$GOT" | jq -c '[.[] | [.transactionsRoot, .transactions]]')" = "$(jq -c '[.blocks[] | [.transactionsRoot, .txHashes]]' "$EXP")"
check "F: the head's total difficulty (admin_nodeInfo) equals expected.json" \
    test "$(call "$F_PORT" admin_nodeInfo | jq -r '.protocols.eth.difficulty')" = "$(jq -r '.head.totalDifficulty // .blocks[-1].totalDifficulty' "$EXP" | xargs printf '%d')"
check "F: receipts of every block equal S's" \
    test "$(blocks_json "$F_PORT" eth_getBlockReceipts "" | md5sum)" = "$(blocks_json "$S_PORT" eth_getBlockReceipts "" | md5sum)"
check "F: a receipt by transaction hash" \
    test "$(call "$F_PORT" eth_getTransactionReceipt "[$(jq '.blocks[298].txHashes[0]' "$EXP")]" | jq -r .blockNumber)" = 0x12b
check "F: downloader_status: phase idle, nothing pending, S not dropped" \
    test "$(call "$F_PORT" downloader_status | jq -c '[.phase, .receiptsPending, .droppedPeers, .headHeader, .headBlock]')" = "[\"idle\",0,0,$N,$N]"
check "F: the log shows progress and 'sync done'" \
    sh -c "grep -q 'sync started mode=full' '$F_LOG' && grep -q 'sync done head=$N' '$F_LOG'"
check "F: admin_peers shows the per-peer record under protocols.eth.sync" \
    test "$(call "$F_PORT" admin_peers | jq -c '.[0].protocols.eth.sync | [has("headers"), has("bodies"), has("receipts"), (.headers.delivered > 0), (.bodies.delivered > 0), (.receipts.delivered > 0)]')" = '[true,true,true,true,true,true]'

# ---- L: headers only ----
# (eth_ numbers stop at the head block, 0 on a light node: ask by hash.)
BODY=$(jq -c '[.blocks | to_entries[] | {jsonrpc: "2.0", id: (.key + 1), method: "eth_getHeaderByHash", params: [.value.hash]}]' "$EXP")
GOTL=$(curl -s --max-time 30 -H 'Content-Type: application/json' --data-binary "$BODY" "http://127.0.0.1:$L_PORT/" | jq -c 'sort_by(.id) | [.[].result | [.hash, .parentHash]]')
check "L: every header of expected.json is stored (hash and parent)" \
    test "$GOTL" = "$(jq -c '[.blocks[] | [.hash, .parentHash]]' "$EXP")"
check "L: no bodies (head block stays 0, eth_blockNumber 0x0)" \
    test "$(call "$L_PORT" downloader_status | jq -c '[.headBlock, .mode]')/$(call "$L_PORT" eth_blockNumber)" = '[0,"light"]/"0x0"'

# ---- F restarts: the store is whole, nothing left to do ----
kill -TERM "$F_PID"; wait_exit "$F_PID" 20
check "F stops cleanly" test "$EXIT_CODE" = 0
"$ETHD_BIN" --datadir "$T_TMP/f" export "$T_TMP/f.rlp" >"$T_TMP/export.log" 2>&1
check "F's export is chain.rlp byte for byte" cmp -s "$T_TMP/f.rlp" "$FIX/chain.rlp"
start_node f2 -c "$T_TMP/f.yaml" || { not_ok "F restarts"; dump "$NODE_LOG"; }
F2_PORT=$NODE_PORT
check "after a restart F is at $N and not syncing" \
    wait_for 10 sh -c "[ \"\$(curl -s -H 'Content-Type: application/json' --data-binary '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_syncing\",\"params\":[]}' http://127.0.0.1:$F2_PORT/ | jq -c .result)\" = false ]"
finish
