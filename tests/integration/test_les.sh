#!/bin/bash
# The les-server service (plugin les) on real ethd processes, driven by
# les_probe (tests/integration/les_probe.c, a scripted RLPx les client):
#   A. node A holds devnet-a, MRR 1 unit/s (so reply BVs are exact cost-table
#      arithmetic) and 64-block CHT sections: les/2..4 Status with the server
#      keys and flow-control parameters; GetBlockHeaders shapes checked
#      against expected.json (skip overflow, amount 1,000,000 capped);
#      bodies, receipts, tx status, an unavailable state proof; CHT proofs
#      verified against the section root; BV in each reply; admin_peers and
#      admin_nodeInfo show the flow-control state;
#   B. bad input, one connection each: wrong genesis / network / fork id,
#      a garbage Status, a les/1 message, a malformed proof request, a
#      request over the buffer (les/2: disconnect), a client that ignores
#      its buffer (StopMsg, then a disconnect);
#   C. node B (BL 30,000, MRR 60,000/s): a well-behaved client is never
#      stopped; a short burst gets StopMsg and then ResumeMsg;
#   D. max_clients: the client over the cap is refused with TooManyPeers.
# Loopback only; every wait is bounded.
. "$(dirname "$0")/lib.sh"

FIX="${ETHD_FIXTURES:-$ETHD_SRCDIR/../shared/fixtures}/devnet-a"
EXP="$FIX/expected.json"
PROBE="$ETHD_BUILDDIR/tests/integration/les_probe"
for f in "$FIX/genesis.json" "$FIX/chain.rlp" "$FIX/receipts.rlp" "$EXP" "$PROBE"; do
    [ -e "$f" ] || { not_ok "needs $f"; finish; exit 1; }
done
GENESIS=$(jq -r .genesisHash "$EXP")
HEAD=$(jq -r .head.hash "$EXP")
hash_of() { if [ "$1" = 0 ]; then echo "$GENESIS"; else jq -r ".blocks[$1 - 1].hash" "$EXP"; fi; }
want_hashes() {
    printf '['; s=""
    for n in "$@"; do printf '%s"%s"' "$s" "$(hash_of "$n")"; s=,; done
    printf ']'
}
probe() { n=$1; shift; timeout 60 "$PROBE" "$ENODE" "$@" >"$T_TMP/$n.ev" 2>"$T_TMP/$n.err"; }
ev() { jq -c "select($2)" "$T_TMP/$1.ev" 2>/dev/null | head -1; }
evs() { jq -c "select($2)" "$T_TMP/$1.ev" 2>/dev/null; }
has() { [ -n "$(ev "$1" "$2")" ]; }
dump() { for f in "$@"; do echo "# --- $f"; sed 's/^/#   /' "$f" | tail -30 | cut -c1-300; done; }
node_cfg() { # node_cfg NAME DATADIR LES-SETTINGS
    cat >"$T_TMP/$1.yaml" <<YAML
node: {datadir: "$2", mode: full}
log: {level: debug}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth, les]}
rpc: {port: 0}
p2p: {port: 0}
services:
  eth: {}
  les-server: {status_timeout: 2s, $3}
YAML
}
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }

DA="$T_TMP/a"
if "$ETHD_BIN" --datadir "$DA" init --genesis "$FIX/genesis.json" >"$T_TMP/init.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$DA" import "$FIX/chain.rlp" --receipts "$FIX/receipts.rlp" >"$T_TMP/import.log" 2>&1; then
    ok "ethd init + import devnet-a"
else
    not_ok "ethd init + import devnet-a"; dump "$T_TMP/init.log" "$T_TMP/import.log"; finish; exit 1
fi
cp -a "$DA" "$T_TMP/b"

# Unknown keys under services.les-server are errors.
node_cfg bad "$T_TMP/b" "no_such_key: 1"
"$ETHD_BIN" -c "$T_TMP/bad.yaml" --rpc-port 0 --p2p-port 0 >"$T_TMP/bad.log" 2>&1 &
BP=$!; wait_exit $BP 15
check "an unknown key under services.les-server stops the node" \
    sh -c "[ $EXIT_CODE -ne 0 ] && [ $EXIT_CODE -ne 124 ] && grep -q no_such_key '$T_TMP/bad.log'"
node_cfg bad2 "$T_TMP/b" "buffer_limit: 100"
"$ETHD_BIN" -c "$T_TMP/bad2.yaml" --rpc-port 0 --p2p-port 0 >"$T_TMP/bad2.log" 2>&1 &
BP=$!; wait_exit $BP 15
check "a buffer_limit below the largest request cost is refused with a message" \
    sh -c "[ $EXIT_CODE -ne 0 ] && grep -q 'below the cost' '$T_TMP/bad2.log'"

# ======== A ========
node_cfg a "$DA" "min_recharge: 1, cht_section_size: 64, cht_confirmations: 0, max_clients: 4"
if ! start_node a -c "$T_TMP/a.yaml"; then
    not_ok "node A starts with eth + les"; dump "$NODE_LOG"; finish; exit 1
fi
A_RPC=$NODE_PORT; A_LOG=$NODE_LOG
ENODE=$(enode_of "$A_LOG")
wait_log() { i=0; while ! grep -Eq "$1" "$2" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; grep -Eq "$1" "$2"; }
check "node A logs 'les-server running' with 4 CHT sections (300 blocks / 64)" \
    wait_log 'les-server running .*head=300 .*cht_sections=4' "$A_LOG"

for v in 2 3 4; do
    probe st$v --version $v
    s=$(ev st$v '.ev == "status"')
    check "les/$v negotiated" test "$(ev st$v '.ev == "hello"' | jq .les)" = $v
    want_fork='"0x271ca03f"'; [ $v -lt 4 ] && want_fork='""'
    check "les/$v Status: network, td 0x259, head, genesis, serveHeaders, flow control" \
        test "$(echo "$s" | jq -c "[.version,.networkId,.td,.head,.headNum,.genesis,.forkHash,.serveHeaders,.serveChainSince,.bl,.mrr]")" = \
        "[$v,1337801,\"0x259\",\"$HEAD\",300,\"$GENESIS\",$want_fork,true,0,300000,1]"
    check "les/$v: not disconnected after the handshake" sh -c "! grep -q disconnect '$T_TMP/st$v.ev'"
done
MRC=$(ev st4 '.ev == "status"' | jq -c .mrc)
check "MRC table covers the les/2+ requests" \
    test "$(echo "$MRC" | jq -c '[.[][0]] | sort')" = "[2,4,6,10,15,17,19,20]"
check "les/4 Status carries recentTxLookup" test "$(ev st4 '.ev == "status"' | jq .recentTxLookup)" = 0
cost_of() { echo "$MRC" | jq "map(select(.[0] == $1))[0] | .[1] + .[2] * $2"; }

hq() { # hq NAME ORIGIN AMOUNT SKIP REVERSE -- WANT-NUMBERS...
    name=$1; shift
    o=$1; a=$2; sk=$3; r=$4; shift 5
    probe hq headers "$o" "$a" "$sk" "$r"
    got=$(ev hq '.ev == "headers"' | jq -c .hashes)
    check "GetBlockHeaders $name" test "$got" = "$(want_hashes "$@")"
}
hq "by number 0, 10" 0 10 0 0 -- 0 1 2 3 4 5 6 7 8 9
hq "by number 295, 20: ends at the head" 295 20 0 0 -- 295 296 297 298 299 300
hq "by number 100, skip 9" 100 5 9 0 -- 100 110 120 130 140
hq "reverse from the head, skip 1" 300 4 1 1 -- 300 298 296 294
hq "reverse, skip 2, stops at genesis" 10 10 2 1 -- 10 7 4 1
hq "by hash of 150" "$(hash_of 150)" 3 0 0 -- 150 151 152
hq "skip overflow (2^64-1) upwards: just the origin" 5 3 18446744073709551615 0 -- 5
hq "skip overflow downwards: just the origin" 200 3 18446744073709551615 1 -- 200
hq "past the head: empty" 301 5 0 0 --
hq "unknown hash: empty" 0x1111111111111111111111111111111111111111111111111111111111111111 5 0 0 --

# amount 1,000,000: capped at max_headers (192) and charged as 192.
probe big headers 0 1000000 0 0
b=$(ev big '.ev == "headers"')
check "GetBlockHeaders amount 1,000,000: 192 headers (the cap)" test "$(echo "$b" | jq .count)" = 192
check "  ... charged as 192 headers: BV = BL - cost(192)" \
    test "$(echo "$b" | jq .bv)" = $((300000 - $(cost_of 2 192)))
check "  ... and the client stays connected" sh -c "! grep -q '\"disconnect\"' '$T_TMP/big.ev'"

# BV arithmetic over a sequence (MRR is 1 unit/s: a second at most adds 1-2).
H1=$(hash_of 1); H2=$(hash_of 2); H3=$(hash_of 3)
probe seq headers 0 10 0 0 bodies "$H1" "$H2" "$H3" receipts "$H1" "$H2" headers 7 1 0 0
c1=$(cost_of 2 10); c2=$(cost_of 4 3); c3=$(cost_of 6 2); c4=$(cost_of 2 1)
got=$(evs seq '.id != null' | jq -s -c 'map(.bv)')
bvok() { # bvok GOT-ARRAY WANT1 WANT2...: each within [want, want+3]
    python3 - "$@" <<'PY'
import json, sys
got = json.loads(sys.argv[1]); want = [int(x) for x in sys.argv[2:]]
sys.exit(0 if len(got) == len(want) and all(w <= g <= w + 3 for g, w in zip(got, want)) else 1)
PY
}
check "BV in each reply = BL - running sum of MaxCost (cost table), in order" \
    bvok "$got" $((300000 - c1)) $((300000 - c1 - c2)) $((300000 - c1 - c2 - c3)) $((300000 - c1 - c2 - c3 - c4))
check "bodies: 3 bodies for blocks 1..3" test "$(ev seq '.ev == "bodies"' | jq .count)" = 3
check "receipts: 2 lists" test "$(ev seq '.ev == "receipts"' | jq .count)" = 2
TX=$(jq -r '.blocks[0].txHashes[0]' "$EXP")
probe txs txstatus "$TX" 0x2222222222222222222222222222222222222222222222222222222222222222
check "GetTxStatus: one included, one unknown (2 entries)" test "$(ev txs '.ev == "txstatus"' | jq .count)" = 2
probe pv2 proofsv2 "$HEAD"
check "GetProofsV2 (no state): an empty ProofsV2 with a BV, client kept" \
    sh -c "[ \"\$(jq -c 'select(.ev == \"proofsv2\") | [.count, (.bv > 0)]' '$T_TMP/pv2.ev')\" = '[0,true]' ] && ! grep -q '\"disconnect\"' '$T_TMP/pv2.ev'"

# CHT (64-block sections): proofs verified against the section root.
probe cht cht 0 5 cht 3 255 cht 3 17 cht 9 1
check "CHT section 0, block 5: proof verifies, header matches the proven hash" \
    test "$(ev cht '.ev == "cht" and .section == 0' | jq -c '[.verified, .header]')" = "[true,true]"
check "CHT section 3, block 255 (last of the trie)" \
    test "$(ev cht '.ev == "cht" and .number == 255' | jq -c '[.verified, .header]')" = "[true,true]"
check "CHT section 3, block 17 (cumulative trie holds earlier sections)" \
    test "$(ev cht '.ev == "cht" and .number == 17' | jq -c '[.verified, .header]')" = "[true,true]"
check "CHT section 9 (not built): no root, nothing verified, client kept" \
    sh -c "[ \"\$(jq -c 'select(.ev == \"cht\" and .section == 9) | [.root, .verified]' '$T_TMP/cht.ev')\" = '[\"\",false]' ] && ! grep -q '\"disconnect\"' '$T_TMP/cht.ev'"
R0=$(ev cht '.ev == "cht" and .section == 0' | jq -r .root)
R3=$(ev cht '.ev == "cht" and .section == 3' | jq -r .root)
check "section roots differ and are logged" sh -c "[ '$R0' != '$R3' ] && grep -q 'cht section built.*root=$R3' '$A_LOG'"

# admin_peers / admin_nodeInfo while a client is connected.
timeout 20 "$PROBE" "$ENODE" headers 0 3 0 0 listen 3 >"$T_TMP/held.ev" 2>&1 &
HP=$!
sleep 1.5
peers=$(call "$A_RPC" admin_peers)
les=$(echo "$peers" | jq -c '[.[] | .protocols.les | select(. != null)][0]')
check "admin_peers shows the les client's flow control (BL, MRR, BV, stopped)" \
    test "$(echo "$les" | jq -c '[.version, .flowControl.bufferLimit, .flowControl.minRecharge, .flowControl.stopped, (.flowControl.bufferValue < 300000), .served.headers]')" = "[4,300000,1,false,true,3]"
ni=$(call "$A_RPC" admin_nodeInfo | jq -c .protocols.les)
check "admin_nodeInfo shows the les server (BL, MRR, MRC, CHT sections)" \
    test "$(echo "$ni" | jq -c '[.flowControl.BL, .flowControl.MRR, (.flowControl.MRC | length), .cht.sections, .cht.sectionSize]')" = "[300000,1,8,4,64]"
wait $HP 2>/dev/null

# ======== B: bad input ========
for m in genesis network forkid garbage; do
    probe bad$m --status $m listen 2
    r=$(ev bad$m '.ev == "disconnect"' | jq .reason)
    case $m in garbage) want=2 ;; *) want=16 ;; esac
    check "Status with wrong $m: disconnected (reason $want)" test "$r" = "$want"
done
check "  ... the genesis mismatch is logged" grep -q 'status rejected.*genesis mismatch' "$A_LOG"
probe nost --status none listen 4
check "no Status: disconnected on timeout (reason 11)" test "$(ev nost '.ev == "disconnect"' | jq .reason)" = 11
probe les1 raw 0x08 c0
check "a les/1 GetProofs (0x08): ProtocolError" test "$(ev les1 '.ev == "disconnect"' | jq .reason)" = 2
probe badht raw 0x11 c701c5c480808080
check "malformed GetHelperTrieProofs (4-element entry): ProtocolError" \
    test "$(ev badht '.ev == "disconnect"' | jq .reason)" = 2
probe badht2 raw 0x11 c3018080
check "malformed GetHelperTrieProofs (not a list of entries): ProtocolError" \
    test "$(ev badht2 '.ev == "disconnect"' | jq .reason)" = 2
probe badhdr raw 0x02 c6c0c4010100ff
check "malformed GetBlockHeaders: ProtocolError" test "$(ev badhdr '.ev == "disconnect"' | jq .reason)" = 2
probe status2 raw 0x00 c0
check "a second Status: ProtocolError" test "$(ev status2 '.ev == "disconnect"' | jq .reason)" = 2

# Over the buffer: 60 requests of MaxCost 5910 > BL 300000 at once.
probe flood flood 80
n_served=$(evs flood '.ev == "headers"' | wc -l)
check "a client that ignores its buffer is served while BV lasts ($n_served of 80)" \
    sh -c "[ $n_served -ge 40 ] && [ $n_served -le 51 ]"
check "  ... then gets StopMsg" has flood '.ev == "stop"'
check "  ... then, still sending, is disconnected (ProtocolError)" \
    test "$(ev flood '.ev == "disconnect"' | jq .reason)" = 2
check "  ... and the server logs why" grep -q 'client ignores StopMsg' "$A_LOG"
probe flood2 --version 2 flood 60
check "les/2 (no StopMsg): a request over the buffer disconnects at once" \
    sh -c "! grep -q '\"stop\"' '$T_TMP/flood2.ev' && [ \"\$(jq -c 'select(.ev == \"disconnect\") | .reason' '$T_TMP/flood2.ev')\" = 2 ]"

# ======== C: node B, a fast recharge ========
node_cfg b "$T_TMP/b" "buffer_limit: 30000, min_recharge: 60000, max_bodies: 8, max_receipts: 8, max_proofs: 8, max_txs: 16"
if ! start_node b -c "$T_TMP/b.yaml"; then
    not_ok "node B starts"; dump "$NODE_LOG"; finish; exit 1
fi
B_RPC=$NODE_PORT
ENODE=$(enode_of "$NODE_LOG")
probe behave behave 25
bh=$(ev behave '.ev == "behaved"')
check "a well-behaved client (BLE >= MaxCost before each send) is never stopped" \
    test "$(echo "$bh" | jq -c '[.requests, .stops]')" = "[25,0]"
check "  ... it had to wait for recharge, and got all 25 answers" \
    sh -c "[ \$(echo '$bh' | jq .waitedMs) -gt 0 ] && [ \$(grep -c '\"ev\":\"headers\"' '$T_TMP/behave.ev') = 25 ]"
check "  ... every BV was >= its own estimate (BLE), never above BL" \
    test "$(evs behave '.ev == "headers"' | jq -s 'map(select(.bv > 30000)) | length')" = 0
probe burst flood 8
check "a burst over the buffer gets StopMsg" has burst '.ev == "stop"'
check "  ... then ResumeMsg with a BV of at least half the buffer" \
    sh -c "[ \$(jq -c 'select(.ev == \"resume\") | .bv' '$T_TMP/burst.ev' | head -1) -ge 15000 ]"
check "  ... and is not disconnected" sh -c "! grep -q '\"disconnect\"' '$T_TMP/burst.ev'"
has burst '.ev == "resume"' || dump "$T_TMP/burst.ev"

# ======== D: max_clients (A allows 4) ========
HOLD=""
for k in 1 2 3 4; do
    timeout 20 "$PROBE" "$(enode_of "$A_LOG")" listen 4 >"$T_TMP/hold$k.ev" 2>&1 &
    HOLD="$HOLD $!"
done
sleep 1.5
ENODE=$(enode_of "$A_LOG")
probe fifth listen 1
check "a fifth light client is refused with TooManyPeers (4)" \
    test "$(ev fifth '.ev == "disconnect"' | jq .reason)" = 4
for p in $HOLD; do wait "$p" 2>/dev/null; done

check "node A is still serving" test "$(call "$A_RPC" eth_blockNumber)" = '"0x12c"'
check "no crash or sanitizer report in the logs" \
    sh -c "! grep -Eq 'AddressSanitizer|runtime error|Segmentation' '$A_LOG' '$T_TMP/b.log'"
finish
