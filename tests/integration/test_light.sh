#!/bin/bash
# Light mode (plugin les: service les-client, with downloader-light) on real
# ethd processes over loopback:
#   A. S serves devnet-a (init + import with receipts; eth + les-server) with
#      a small buffer (BL 30,000, MRR 50,000/s), so the light node L has to
#      wait for its buffer estimate to recharge. L (les + downloader-light)
#      syncs all 300 headers (eth_blockNumber 0x12c, every header hash equals
#      expected.json), answers eth_getBlockByNumber for every block with the
#      bodies fetched on demand (tx hashes, sizes equal expected.json; full
#      transactions for a sample), eth_getBlockByHash, eth_syncing,
#      eth_chainId, net_version; admin_peers shows the flow-control state on
#      both sides; L was never stopped (StopMsg) nor disconnected by S.
#      les/2 and les/3 light nodes sync and fetch too. With S frozen
#      (SIGSTOP) a fetch times out into -32002, and a light node stopped with
#      a fetch in flight exits cleanly.
#   B. refusals: an unknown key under services.les-client; les-server and
#      les-client in one node; a light node on another genesis is rejected
#      by the Status check and stays at block 0.
#   C. dev mode: a dev node (eth + clique sealer + les-server) seals blocks;
#      `ethd --light` (the compiled-in etc/light.yaml) follows it: its
#      eth_blockNumber rises and its headers equal the dev node's.
# Every wait is bounded.
. "$(dirname "$0")/lib.sh"

FIX="${ETHD_FIXTURES:-$ETHD_SRCDIR/../shared/fixtures}/devnet-a"
EXP="$FIX/expected.json"
B=$ETHD_BUILDDIR/plugins
for f in "$FIX/genesis.json" "$FIX/chain.rlp" "$FIX/receipts.rlp" "$EXP" "$B/les/les.la" \
    "$B/downloader/downloader-light.la" "$B/eth/eth.la" "$B/clique/clique.la"; do
    [ -e "$f" ] || { not_ok "needs $f"; finish; exit 1; }
done
export ETHD_PLUGIN_PATH="$B/les:$B/downloader:$B/eth:$B/clique:$ETHD_PLUGIN_PATH"
N=$(jq .head.number "$EXP")
HEX_N=$(printf '0x%x' "$N")
GENESIS=$(jq -r .genesisHash "$EXP")
dump() { for f in "$@"; do echo "# --- $f"; tail -30 "$f" | sed 's/^/#   /' | cut -c1-300; done; }
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }
wait_for() { t=$(($1 * 5)); shift; while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.2; t=$((t - 1)); done; return 1; }
# batch PORT METHOD EXTRA FROM TO: [results] of METHOD(number, EXTRA) for FROM..TO
batch() {
    body="["; sep=""
    for n in $(seq "$4" "$5"); do
        body="$body$sep{\"jsonrpc\":\"2.0\",\"id\":$n,\"method\":\"$2\",\"params\":[\"$(printf '0x%x' "$n")\"$3]}"; sep=","
    done
    curl -s --max-time 60 -H 'Content-Type: application/json' --data-binary "$body]" "http://127.0.0.1:$1/" |
        jq -c 'sort_by(.id) | [.[] | if has("result") then .result else {error: .error} end]'
}
peer_les() { call "$1" admin_peers | jq -c '[.[] | .protocols.les // empty][0]'; }

# ======== A: the fixture chain ========
"$ETHD_BIN" --datadir "$T_TMP/s" init --genesis "$FIX/genesis.json" >"$T_TMP/init.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$T_TMP/s" import "$FIX/chain.rlp" --receipts "$FIX/receipts.rlp" >"$T_TMP/import.log" 2>&1 ||
    { not_ok "S: init + import devnet-a"; dump "$T_TMP/init.log" "$T_TMP/import.log"; finish; exit 1; }
cat >"$T_TMP/s.yaml" <<YAML
node: {datadir: "$T_TMP/s", mode: full}
log: {level: debug}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth, les]}
services:
  eth: {}
  les-server: {buffer_limit: 30000, min_recharge: 50000, max_receipts: 32, max_proofs: 8, max_txs: 32}
YAML
start_node s -c "$T_TMP/s.yaml" || { not_ok "S starts (eth + les-server)"; dump "$NODE_LOG"; finish; exit 1; }
S_PORT=$NODE_PORT; S_LOG=$NODE_LOG; S_PID=$NODE_PID
ENODE=$(enode_of "$S_LOG")
check "S: les-server running at head $N with BL 30000" grep -q "les-server running .*head=$N .*BL=30000" "$S_LOG"

light_cfg() { # light_cfg NAME DATADIR GENESIS STATIC [EXTRA-SERVICES]
    cat >"$T_TMP/$1.yaml" <<YAML
node: {datadir: "$2", mode: light}
log: {level: debug}
chain: {genesis: "$3"}
plugins: {load: [les, downloader-light]}
p2p: {static_peers: [$4]}
services:
  les-client: {}
  downloader-light: {force_interval: 1s}
${5:-}
YAML
}
light_cfg l "$T_TMP/l" "$FIX/genesis.json" "\"$ENODE\""
start_node l -c "$T_TMP/l.yaml" || { not_ok "L starts (les-client + downloader-light)"; dump "$NODE_LOG"; finish; exit 1; }
L_PORT=$NODE_PORT; L_LOG=$NODE_LOG; L_PID=$NODE_PID
check "L: les-client running with the syncer's hooks (syncer/2)" grep -q 'les-client running .*syncer=syncer/2' "$L_LOG"
check "L: downloader running in light mode on les-client/1" grep -q 'downloader running mode=light sources=les-client/1' "$L_LOG"

synced() { [ "$(call "$L_PORT" eth_blockNumber)" = "\"$HEX_N\"" ]; }
if wait_for 90 synced; then ok "L: eth_blockNumber reaches $HEX_N (all headers, <= 90 s)"
else not_ok "L: eth_blockNumber reaches $HEX_N (got $(call "$L_PORT" eth_blockNumber))"; dump "$L_LOG"; fi
check "L: the server's Status was accepted (les/4, BL 30000, MRR 50000)" \
    grep -q 'les server connected .*version=4 head=300 BL=30000 MRR=50000' "$L_LOG"
not_syncing() { [ "$(call "$L_PORT" eth_syncing)" = false ]; }
check "L: eth_syncing turns false" wait_for 30 not_syncing
check "L: eth_chainId is the fixture's" test "$(call "$L_PORT" eth_chainId)" = "\"$(printf '0x%x' "$(jq .chainId "$EXP")")\""
check "L: net_version is the fixture's network id" test "$(call "$L_PORT" net_version)" = "\"$(jq .networkId "$EXP")\""

HDRS=$(batch "$L_PORT" eth_getHeaderByNumber "" 1 "$N")
check "L: every header hash (1..$N) equals expected.json" \
    test "$(echo "$HDRS" | jq -c '[.[].hash]')" = "$(jq -c '[.blocks[].hash]' "$EXP")"
check "L: genesis header is the fixture's" test "$(call "$L_PORT" eth_getHeaderByNumber '["0x0"]' | jq -r .hash)" = "$GENESIS"

# Bodies on demand: all 300 blocks in one batch (259 with transactions).
BLKS=$(batch "$L_PORT" eth_getBlockByNumber ",false" 1 "$N")
check "L: eth_getBlockByNumber for 1..$N answers with no error" \
    test "$(echo "$BLKS" | jq '[.[] | select(type != "object" or has("error"))] | length')" = 0
check "L: every block's transaction hashes equal expected.json (bodies fetched and checked)" \
    test "$(echo "$BLKS" | jq -c '[.[] | .transactions]')" = "$(jq -c '[.blocks[].txHashes]' "$EXP")"
check "L: every block's hash and transactions root equal expected.json" \
    test "$(echo "$BLKS" | jq -c '[.[] | [.hash, .transactionsRoot]]')" = "$(jq -c '[.blocks[] | [.hash, .transactionsRoot]]' "$EXP")"
sizes() { echo "$BLKS" | jq -r '.[].size' | while read -r h; do printf '%d\n' "$h"; done | tr '\n' ' '; }
check "L: every block's size (header + fetched body) equals expected.json" \
    test "$(sizes)" = "$(jq -r '.blocks[].size' "$EXP" | tr '\n' ' ')"
# Full transactions for a sample; the same object S (eth) gives.
for n in 1 2 150 $N; do
    hx=$(printf '0x%x' "$n")
    LB=$(call "$L_PORT" eth_getBlockByNumber "[\"$hx\", true]")
    SB=$(call "$S_PORT" eth_getBlockByNumber "[\"$hx\", true]")
    check "L: block $n with full transactions equals S's (txs: $(echo "$LB" | jq '.transactions | length'))" \
        sh -c "[ -n '$(echo "$LB" | jq -c .hash)' ] && [ '$(echo "$LB" | jq -cS .)' = '$(echo "$SB" | jq -cS .)' ]"
done
check "L: full transactions carry the expected hashes (block 150)" \
    test "$(call "$L_PORT" eth_getBlockByNumber '["0x96", true]' | jq -c '[.transactions[].hash]')" = "$(jq -c '.blocks[149].txHashes' "$EXP")"
H7=$(jq -r '.blocks[6].hash' "$EXP")
check "L: eth_getBlockByHash (block 7) equals S's" \
    test "$(call "$L_PORT" eth_getBlockByHash "[\"$H7\", false]" | jq -cS .)" = "$(call "$S_PORT" eth_getBlockByHash "[\"$H7\", false]" | jq -cS .)"
check "L: latest is block $N" test "$(call "$L_PORT" eth_getBlockByNumber '["latest", false]' | jq -r .number)" = "$HEX_N"
check "L: a block past the head is null" test "$(call "$L_PORT" eth_getBlockByNumber '["0x1000", false]')" = null
check "L: an unknown hash is null" \
    test "$(call "$L_PORT" eth_getBlockByHash '["0x1111111111111111111111111111111111111111111111111111111111111111", true]')" = null
check "L: a bad parameter is -32602" test "$(call "$L_PORT" eth_getBlockByNumber '["0x1"]' | jq .code)" = -32602
check "L: a bad tag is -32602" test "$(call "$L_PORT" eth_getBlockByNumber '["nope", false]' | jq .code)" = -32602

LP=$(peer_les "$L_PORT")
check "L: admin_peers shows the server's flow control (BL 30000, MRR 50000, MRC, estimate <= BL)" \
    test "$(echo "$LP" | jq -c '[.role, .version, .flowControl.bufferLimit, .flowControl.minRecharge, (.flowControl.MRC | length > 0), (.flowControl.bufferEstimate <= 30000)]')" = '["server",4,30000,50000,true,true]'
check "L: admin_peers: requests sent, all answered, none stopped ($(echo "$LP" | jq -c '.flowControl | {requests, replies, waits, stops, timeouts}'))" \
    test "$(echo "$LP" | jq -c '.flowControl | [(.requests > 0), (.replies == .requests), .stops, .resumes, .stopped]')" = '[true,true,0,0,false]'
check "L: it waited for the buffer to recharge (waits > 0)" test "$(echo "$LP" | jq .flowControl.waits)" -gt 0
check "L: admin_peers carries the syncer's per-peer record" test "$(echo "$LP" | jq 'has("sync")')" = true
SP=$(peer_les "$S_PORT")
check "S: admin_peers shows L as a client, never stopped ($(echo "$SP" | jq -c '.flowControl | {requests, stops, costCharged}'))" \
    test "$(echo "$SP" | jq -c '[.role, .flowControl.stops, .flowControl.stopped, (.flowControl.requests > 10)]')" = '["client",0,false,true]'
check "S: served headers and bodies to L" test "$(echo "$SP" | jq -c '[.served.headers >= 300, .served.bodies >= 259]')" = '[true,true]'
check "S: no buffer underrun, no StopMsg, no drop in its log" \
    sh -c "! grep -Eq 'buffer underrun|client ignores StopMsg|dropping light client' '$S_LOG'"
check "L: never stopped or disconnected by S" sh -c "! grep -Eq 'les server stopped us|les server gone' '$L_LOG'"

# les/2 (no StopMsg/ResumeMsg in that version) and les/3 clients of the same server.
for v in 2 3; do
    light_cfg l$v "$T_TMP/l$v" "$FIX/genesis.json" "\"$ENODE\""
    sed -i "s/  les-client: {}/  les-client: {max_version: $v}/" "$T_TMP/l$v.yaml"
    if start_node l$v -c "$T_TMP/l$v.yaml"; then
        P=$NODE_PORT; LG=$NODE_LOG
        synced_v() { [ "$(call "$P" eth_blockNumber)" = "\"$HEX_N\"" ]; }
        check "les/$v light node: syncs to $HEX_N" wait_for 60 synced_v
        check "les/$v light node: negotiated les/$v" grep -q "les server connected .*version=$v " "$LG"
        check "les/$v light node: block 150 with full transactions equals S's" \
            test "$(call "$P" eth_getBlockByNumber '["0x96", true]' | jq -cS .)" = "$(call "$S_PORT" eth_getBlockByNumber '["0x96", true]' | jq -cS .)"
        kill -TERM "$NODE_PID"; wait_exit "$NODE_PID" 15
        check "les/$v light node: stops cleanly on SIGTERM" \
            sh -c "[ $EXIT_CODE -eq 0 ] && ! grep -q Sanitizer '$LG'"
    else
        not_ok "les/$v light node starts"; dump "$NODE_LOG"
    fi
done
check "S: still no buffer underrun or drop after the les/2 and les/3 clients" \
    sh -c "! grep -Eq 'buffer underrun|client ignores StopMsg|dropping light client' '$S_LOG'"

# ======== B: refusals ========
light_cfg bad "$T_TMP/bad" "$FIX/genesis.json" "" "  les-server: {}"
"$ETHD_BIN" -c "$T_TMP/bad.yaml" --rpc-port 0 --p2p-port 0 >"$T_TMP/bad.log" 2>&1 &
BP=$!; wait_exit $BP 15
check "les-server and les-client in one node: refused at start, saying why" \
    sh -c "[ $EXIT_CODE -ne 0 ] && [ $EXIT_CODE -ne 124 ] && grep -q 'offered by both' '$T_TMP/bad.log'"
sed 's/  les-client: {}/  les-client: {no_such_key: 1}/' "$T_TMP/l.yaml" | sed "s#$T_TMP/l\"#$T_TMP/bad2\"#" >"$T_TMP/bad2.yaml"
"$ETHD_BIN" -c "$T_TMP/bad2.yaml" --rpc-port 0 --p2p-port 0 >"$T_TMP/bad2.log" 2>&1 &
BP=$!; wait_exit $BP 15
check "an unknown key under services.les-client stops the node" \
    sh -c "[ $EXIT_CODE -ne 0 ] && [ $EXIT_CODE -ne 124 ] && grep -q no_such_key '$T_TMP/bad2.log'"
light_cfg w "$T_TMP/w" dev "\"$ENODE\""
if start_node w -c "$T_TMP/w.yaml"; then
    W_PORT=$NODE_PORT; W_LOG=$NODE_LOG
    rejected() { grep -Eq 'les server rejected .*genesis mismatch|les server gone' "$W_LOG"; }
    check "a light node on another genesis: the server is rejected (or drops it)" wait_for 20 rejected
    check "... and it stays at block 0" test "$(call "$W_PORT" eth_blockNumber)" = '"0x0"'
    check "... and has no les server" test "$(call "$W_PORT" admin_peers | jq '[.[] | select(.protocols.les.role == "server")] | length')" = 0
else
    not_ok "a light node on the dev genesis starts"; dump "$NODE_LOG"
fi

# ======== C: following a dev-mode server ========
DEV_KEY=$(sed -n 's/^ *key: "\(0x[0-9a-f]*\)".*/\1/p' "$ETHD_SRCDIR/etc/dev.yaml" | head -1)
cat >"$T_TMP/d.yaml" <<YAML
node: {datadir: "$T_TMP/d", mode: dev}
log: {level: debug}
chain: {genesis: dev}
plugins: {load: [eth, clique, les]}
services:
  eth: {}
  clique-sealer: {key: "$DEV_KEY"}
  les-server: {}
YAML
if ! start_node d -c "$T_TMP/d.yaml"; then
    not_ok "dev node (eth + clique + les-server) starts"; dump "$NODE_LOG"; finish; exit 1
fi
D_PORT=$NODE_PORT; D_LOG=$NODE_LOG
D_ENODE=$(enode_of "$D_LOG")
start_node lite --light --datadir "$T_TMP/lite" --static-peer "$D_ENODE" ||
    { not_ok "ethd --light --static-peer <dev node> starts"; dump "$NODE_LOG"; finish; exit 1; }
V_PORT=$NODE_PORT; V_LOG=$NODE_LOG; V_PID=$NODE_PID
ok "ethd --light (compiled-in light.yaml) starts"
num() { v=$(call "$1" eth_blockNumber | tr -d '"'); case $v in 0x*) printf '%d' "$v" ;; *) echo -1 ;; esac; }
past3() { [ "$(num "$V_PORT")" -ge 3 ]; }
check "the light node follows the dev chain to block >= 3 (<= 30 s)" wait_for 30 past3
n1=$(num "$V_PORT")
risen() { [ "$(num "$V_PORT")" -gt "$n1" ]; }
check "its eth_blockNumber keeps rising (from $n1)" wait_for 20 risen
n2=$(num "$V_PORT"); hx=$(printf '0x%x' "$n2")
check "its header $n2 equals the dev node's" \
    test "$(call "$V_PORT" eth_getHeaderByNumber "[\"$hx\"]" | jq -r .hash)" = "$(call "$D_PORT" eth_getBlockByNumber "[\"$hx\", false]" | jq -r .hash)"
check "an empty dev block is answered without a fetch (transactions [])" \
    test "$(call "$V_PORT" eth_getBlockByNumber "[\"$hx\", true]" | jq -c '[.number, .transactions]')" = "[\"$hx\",[]]"
check "the dev node's les-server never stopped the light node" \
    sh -c "! grep -Eq 'buffer underrun|client ignores StopMsg' '$D_LOG'"
# Stop the light nodes with work pending: S is frozen (SIGSTOP) so L's body
# fetch for an RPC call stays in flight; the shutdown cancels it cleanly.
kill -STOP "$S_PID"
curl -s --max-time 15 -H 'Content-Type: application/json' --data-binary \
    '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x5",true]}' "http://127.0.0.1:$L_PORT/" >"$T_TMP/pending.out" &
CURL_PID=$!
sleep 1
check "a body fetch is in flight to the frozen server" \
    test "$(peer_les "$L_PORT" | jq '.flowControl.inflight + .flowControl.queued')" -ge 1
wait "$CURL_PID" 2>/dev/null
check "after fetch_timeout (5 s) with no other server: -32002 naming the block ($(head -c 160 "$T_TMP/pending.out"))" \
    test "$(jq -c '[.error.code, (.error.message | test("block 5: no les server delivered its body"))]' "$T_TMP/pending.out")" = '[-32002,true]'
curl -s --max-time 5 -H 'Content-Type: application/json' --data-binary \
    '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x6",true]}' "http://127.0.0.1:$L_PORT/" >/dev/null &
CURL_PID=$!
sleep 1
for p in "$L_PID" "$V_PID"; do
    kill -TERM "$p"; wait_exit "$p" 15
    check "light node $p stops cleanly on SIGTERM (exit $EXIT_CODE)" test "$EXIT_CODE" -eq 0
done
check "no sanitizer report in the light nodes' logs" sh -c "! grep -q Sanitizer '$L_LOG' '$V_LOG'"
wait "$CURL_PID" 2>/dev/null
kill -CONT "$S_PID"

finish
