#!/bin/bash
# downloader-full against faulty peers (tests/integration/faulty_peer.c).
# Node S holds devnet-a (init + import with receipts) and serves it with the
# eth plugin. For each fault mode a fresh node X (eth + downloader-full)
# first meets only the faulty peer (a static peer) until the downloader has
# asked it something, then gets S through admin_addPeer. Checked each time:
#   - the sync completes: eth_blockNumber 300, eth_syncing false, every
#     block hash equals expected.json, and a sample of receipts equals S's;
#   - the faulty peer was dropped by X (a Disconnect reaching it after its
#     bad answers; "none" is the control: it is the only peer and X syncs
#     everything from it);
#   - nothing it sent is stored: `ethd export` of X is chain.rlp byte for
#     byte, and (other-chain) its fork head is unknown to X.
# Faults: bad-seal (one header per answer with a changed seal), slow
# (answers 20 s late; X's eth request timeout is 2 s), other-chain (a fork
# after block 150 sealed by an outsider, 20 blocks longer, announced with
# its higher total difficulty), stall (answers two requests, then nothing
# while keeping the connection). Loopback only; every wait is bounded.
. "$(dirname "$0")/lib.sh"

FIX="${ETHD_FIXTURES:-$ETHD_SRCDIR/../shared/fixtures}/devnet-a"
EXP="$FIX/expected.json"
FP="$ETHD_BUILDDIR/tests/integration/faulty_peer"
for f in "$FIX/genesis.json" "$FIX/chain.rlp" "$FIX/receipts.rlp" "$EXP" "$FP"; do
    [ -e "$f" ] || { not_ok "needs $f"; finish; exit 1; }
done
PLUGDIR="$ETHD_BUILDDIR/plugins/downloader"
ls "$PLUGDIR"/downloader-full.la >/dev/null 2>&1 ||
    { not_ok "needs the downloader-full plugin in $PLUGDIR"; finish; exit 1; }
N=$(jq .head.number "$EXP")
dump() { for f in "$@"; do echo "# --- $f"; tail -25 "$f" | sed 's/^/#   /' | cut -c1-300; done; }
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }

# Every block hash of node on PORT, in one batch, equals expected.json's.
hashes_match() {
    body="["; sep=""
    for n in $(seq 1 "$N"); do body="$body$sep{\"jsonrpc\":\"2.0\",\"id\":$n,\"method\":\"eth_getBlockByNumber\",\"params\":[\"$(printf '0x%x' "$n")\",false]}"; sep=","; done
    body="$body]"
    got=$(curl -s --max-time 20 -H 'Content-Type: application/json' --data-binary "$body" "http://127.0.0.1:$1/" |
        jq -c 'sort_by(.id) | [.[].result.hash]')
    want=$(jq -c '[.blocks[].hash]' "$EXP")
    [ -n "$got" ] && [ "$got" = "$want" ]
}
# Receipts of a sample of blocks with transactions equal S's.
receipts_match() {
    for n in 1 2 3 50 150 151 200 299 300; do
        q=$(printf '0x%x' "$n")
        a=$(call "$1" eth_getBlockReceipts "[\"$q\"]")
        b=$(call "$S_PORT" eth_getBlockReceipts "[\"$q\"]")
        [ "$a" = "$b" ] && [ "$a" != null ] || { echo "# block $n: receipts differ: $(echo "$a" | cut -c1-120)"; return 1; }
    done
}
# wait_for SECONDS COMMAND...: poll every 0.5 s.
wait_for() {
    t=$(($1 * 2)); shift
    while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.5; t=$((t - 1)); done
    return 1
}
head_is() { [ "$(call "$1" eth_blockNumber)" = "\"$(printf '0x%x' "$N")\"" ] && [ "$(call "$1" eth_syncing)" = false ]; }
fp_engaged() { grep -q '"ev":"request"\|"ev":"disconnect"' "$1"; }
fp_dropped() { grep -q '"ev":"disconnect","reason":\([0-79]\|1[0-9]\)' "$1"; }

# ======== S: the good server ========
DS=$T_TMP/s
if "$ETHD_BIN" --datadir "$DS" init --genesis "$FIX/genesis.json" >"$T_TMP/s-init.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$DS" import "$FIX/chain.rlp" --receipts "$FIX/receipts.rlp" >"$T_TMP/s-import.log" 2>&1; then
    ok "server S: devnet-a imported ($N blocks with receipts)"
else
    not_ok "server S: init + import"; dump "$T_TMP/s-init.log" "$T_TMP/s-import.log"; finish; exit 1
fi
cat >"$T_TMP/s.yaml" <<YAML
node: {datadir: "$DS", mode: full}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth]}
services:
  eth: {}
YAML
if ! start_node s -c "$T_TMP/s.yaml"; then
    not_ok "server S starts"; dump "$NODE_LOG"; finish; exit 1
fi
S_PORT=$NODE_PORT; S_LOG=$NODE_LOG
S_ENODE=$(enode_of "$S_LOG")

# run_case MODE FAULTY-ARGS...
run_case() {
    mode=$1; shift
    ev="$T_TMP/fp-$mode.ev"
    "$FP" --genesis "$FIX/genesis.json" --chain "$FIX/chain.rlp" --receipts "$FIX/receipts.rlp" \
        --fault "$mode" --max-seconds 240 "$@" >"$ev" 2>"$T_TMP/fp-$mode.err" &
    fp_pid=$!; T_PIDS="$T_PIDS $fp_pid"
    wait_for 10 grep -q listening "$ev"
    fen=$(head -1 "$ev" | jq -r .enode 2>/dev/null)
    if [ -z "$fen" ] || [ "$fen" = null ]; then
        not_ok "[$mode] faulty_peer listens"; dump "$T_TMP/fp-$mode.err"; return
    fi
    dx="$T_TMP/x-$mode"
    "$ETHD_BIN" --datadir "$dx" init --genesis "$FIX/genesis.json" >/dev/null 2>&1
    cat >"$T_TMP/x-$mode.yaml" <<YAML
node: {datadir: "$dx", mode: full}
log: {level: debug}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth, downloader-full]}
p2p: {static_peers: ["$fen"]}
services:
  eth: {request_timeout: 2s}
  downloader-full: {}
YAML
    if ! ETHD_PLUGIN_PATH="$PLUGDIR:$ETHD_PLUGIN_PATH" start_node "x-$mode" -c "$T_TMP/x-$mode.yaml"; then
        not_ok "[$mode] node X starts with downloader-full"; dump "$NODE_LOG"; kill "$fp_pid"; return
    fi
    xp=$NODE_PORT; xpid=$NODE_PID; xlog=$NODE_LOG
    if wait_for 30 fp_engaged "$ev"; then
        ok "[$mode] the downloader asked the faulty peer ($(grep -c '"ev":"request"' "$ev") requests so far)"
    else
        not_ok "[$mode] the downloader asked the faulty peer within 30 s"; dump "$ev" "$xlog"
    fi
    if [ "$mode" != none ]; then
        r=$(call "$xp" admin_addPeer "[\"$S_ENODE\"]")
        check "[$mode] admin_addPeer S" test "$r" = true
    fi
    if wait_for 120 head_is "$xp"; then
        ok "[$mode] sync completes: head #$N, eth_syncing false"
    else
        not_ok "[$mode] sync completes within 120 s (head $(call "$xp" eth_blockNumber), syncing $(call "$xp" eth_syncing | cut -c1-200))"
        dump "$ev" "$xlog"
    fi
    check "[$mode] all $N block hashes equal expected.json" hashes_match "$xp"
    check "[$mode] receipts of sampled blocks equal S's" receipts_match "$xp"
    if [ "$mode" = none ]; then
        check "[none] the correct peer was not dropped" bash -c "! grep -q '\"ev\":\"disconnect\"' '$ev'"
        check "[none] ... and served the whole sync (bodies and receipts too)" bash -c "
            grep -q '\"kind\":\"bodies\"' '$ev' && grep -q '\"kind\":\"receipts\"' '$ev'"
    else
        if [ "$mode" = slow ] || [ "$mode" = stall ]; then
            # A peer that does not answer is noticed only after X's timeouts.
            wait_for 30 fp_dropped "$ev"
        fi
        check "[$mode] X dropped the faulty peer ($(grep -o '"ev":"disconnect","reason":[0-9]*' "$ev" | head -1))" fp_dropped "$ev" ||
            dump "$ev"
    fi
    if [ "$mode" = other-chain ]; then
        fh=$(grep '"ev":"status"' "$ev" | head -1 | jq -r .headHash)
        check "[other-chain] the fork's head $fh is unknown to X" \
            test "$(call "$xp" eth_getBlockByHash "[\"$fh\",false]")" = null
        check "[other-chain] no block above #$N" test "$(call "$xp" eth_getBlockByNumber "[\"$(printf '0x%x' $((N + 1)))\",false]")" = null
    fi
    kill "$fp_pid" 2>/dev/null
    kill "$xpid"; wait_exit "$xpid" 15
    check "[$mode] X stops cleanly (exit $EXIT_CODE)" test "$EXIT_CODE" = 0
    "$ETHD_BIN" --datadir "$dx" export "$T_TMP/x-$mode.rlp" >/dev/null 2>&1
    check "[$mode] nothing of the faulty peer is stored: ethd export of X is chain.rlp" \
        cmp -s "$T_TMP/x-$mode.rlp" "$FIX/chain.rlp"
}

run_case none
run_case bad-seal
run_case slow --delay 20
run_case other-chain --fork-after 150 --fork-extra 20
run_case stall --stall-after 2
finish
