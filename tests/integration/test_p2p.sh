#!/bin/bash
# Two ethd processes on loopback speaking devp2p: B dials A as a static peer
# (--static-peer), both report each other in admin_peers, the example
# plugin's exa/1 greetings cross both ways, admin_removePeer/admin_addPeer,
# SIGTERM on A (B sees Quitting and keeps re-dialing with back-off), A's
# restart with the same node key (same enode), B reconnecting.
. "$(dirname "$0")/lib.sh"

# p2p_port LOG / enode_of LOG: what a node logged at start.
p2p_port() { sed -n 's/.*p2p listening host=[^ ]* port=\([0-9]*\).*/\1/p' "$1" | tail -1; }
enode_of() { sed -n 's/.*p2p node enode=\(enode:[^ ]*\).*/\1/p' "$1" | tail -1; }
# wait_for SECONDS COMMAND...: poll (every 0.1 s) until COMMAND succeeds.
wait_for() {
    t=$1; shift; i=0
    while [ $i -lt $((t * 10)) ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done
    return 1
}
# has_peer RPCPORT ID: admin_peers lists exactly one peer with that node ID.
has_peer() { call "$1" admin_peers | jq -e --arg id "$2" '[.[] | select(.id == $id)] | length == 1' >/dev/null; }
peer_count_is() { test "$(call "$1" net_peerCount)" = "\"$2\""; }
# greeted RPCPORT GREETING ECHO: exa/1 greeted us with GREETING and echoed ours.
greeted() {
    call "$1" example_peers |
        jq -e --arg g "$2" --arg e "$3" 'length == 1 and .[0].greeting == $g and .[0].echo == $e and .[0].in == 2 and .[0].out == 2' >/dev/null
}
cfg() { # cfg NAME GREETING
    printf 'node: {datadir: "%s"}\nplugins: {load: [example]}\np2p: {port: 0}\nservices:\n  example: {greeting: "%s"}\n' \
        "$T_TMP/$1" "$2" >"$T_TMP/$1.yaml"
}
cfg a "Hi from A"
cfg b "Hi from B"

if ! start_node a -c "$T_TMP/a.yaml"; then
    not_ok "node A starts"; cat "$NODE_LOG"; finish; exit 1
fi
PA=$NODE_PORT; A=$NODE_PID; ALOG=$NODE_LOG
AP2P=$(p2p_port "$ALOG"); AENODE=$(enode_of "$ALOG")
check "A logs its p2p port ($AP2P) and enode" bash -c "[ -n '$AP2P' ] && [[ '$AENODE' == enode://*@127.0.0.1:$AP2P ]]"
check "the enode printed at start is admin_nodeInfo's" test "$(call $PA admin_nodeInfo | jq -r .enode)" = "$AENODE"
check "admin_nodeInfo: listener port, name, exa/1 node info" \
    test "$(call $PA admin_nodeInfo | jq -c '[.ports.listener, (.name | startswith("ethd/v")), .protocols.exa.greeting, .listenAddr]')" = "[$AP2P,true,\"Hi from A\",\"127.0.0.1:$AP2P\"]"
check "the node key is DATADIR/nodekey, mode 600" test "$(stat -c %a "$T_TMP/a/nodekey")" = 600
check "net_listening is true" test "$(call $PA net_listening)" = true
check "no peers yet: net_peerCount is 0x0" peer_count_is $PA 0x0
AID=$(call $PA admin_nodeInfo | jq -r .id)

if ! start_node b -c "$T_TMP/b.yaml" --static-peer "$AENODE" --log-level debug; then
    not_ok "node B starts"; cat "$NODE_LOG"; finish; exit 1
fi
PB=$NODE_PORT; B=$NODE_PID; BLOG=$NODE_LOG
BID=$(call $PB admin_nodeInfo | jq -r .id)

check "B connects to its static peer A" wait_for 10 has_peer $PB "$AID"
check "A reports B" wait_for 10 has_peer $PA "$BID"
check "A's view of B: caps [exa/1], inbound, not static" \
    test "$(call $PA admin_peers | jq -c '.[0] | [.caps, .network.inbound, .network.static, .protocols.exa.version]')" = '[["exa/1"],true,false,1]'
check "B's view of A: caps [exa/1], outbound, static, remote address is A's listener" \
    test "$(call $PB admin_peers | jq -c '.[0] | [.caps, .network.inbound, .network.static, .network.remoteAddress]')" = "[[\"exa/1\"],false,true,\"127.0.0.1:$AP2P\"]"
both_one() { peer_count_is $PA 0x1 && peer_count_is $PB 0x1; }
check "net_peerCount is 0x1 on both" both_one
check "A was greeted by B and got its greeting echoed (exa/1)" wait_for 5 greeted $PA "Hi from B" "Hi from A"
check "B was greeted by A and got its greeting echoed (exa/1)" wait_for 5 greeted $PB "Hi from A" "Hi from B"
check "admin_peers stats count the traffic" \
    test "$(call $PA admin_peers | jq '.[0].stats | .msgsIn >= 3 and .msgsOut >= 3 and .bytesIn > 0 and .connectedSince > 0')" = true
check "example node info counts messages" \
    test "$(call $PA admin_nodeInfo | jq -c '.protocols.exa | [.messagesIn, .messagesOut]')" = '[2,2]'

# Bad parameters are refused clearly.
check "admin_addPeer with a bad URL is -32602" test "$(call $PB admin_addPeer '["enode://xyz@1.2.3.4:5"]' | jq .code)" = -32602
names_refused() { call $PB admin_addPeer "[\"${AENODE%@*}@localhost:1\"]" | jq -r .message | grep -q 'host names are not supported'; }
check "admin_addPeer with a host name says names are not supported" names_refused
check "admin_addPeer without params is -32602" test "$(call $PB admin_addPeer | jq .code)" = -32602

# removePeer disconnects and stops re-dialing; addPeer brings it back.
check "admin_removePeer returns true" test "$(call $PB admin_removePeer "[\"$AENODE\"]")" = true
check "... B drops A" wait_for 10 peer_count_is $PB 0x0
check "... A sees B gone" wait_for 10 peer_count_is $PA 0x0
sleep 2.5
check "... and B does not dial A again" peer_count_is $PB 0x0
check "admin_removePeer of an unknown peer returns false" test "$(call $PB admin_removePeer "[\"$AENODE\"]")" = false
check "admin_addPeer returns true" test "$(call $PB admin_addPeer "[\"$AENODE\"]")" = true
check "... and B reconnects to A" wait_for 10 has_peer $PB "$AID"
check "... greeting again" wait_for 5 greeted $PB "Hi from A" "Hi from B"

# A quits: B is told (Disconnect Quitting) and keeps re-dialing with back-off.
kill -TERM "$A"; wait_exit "$A" 10
check "A stops cleanly on SIGTERM" test "$EXIT_CODE" -eq 0
check "... disconnecting its peers (client quitting)" grep -q 'peer disconnected .*reason=0x08' "$ALOG"
check "B sees A gone" wait_for 10 peer_count_is $PB 0x0
check "... told why: client quitting, by the remote" grep -q 'peer disconnected .*reason=0x08 (client quitting) by=remote' "$BLOG"
check "B keeps re-dialing A with back-off" \
    wait_for 15 bash -c "[ \$(grep -c 'static peer re-dial scheduled' '$BLOG') -ge 2 ]"

if start_node a2 -c "$T_TMP/a.yaml" --p2p-port "$AP2P"; then
    PA=$NODE_PORT; A=$NODE_PID; ALOG=$NODE_LOG
    check "A restarted: same node key, same enode" test "$(enode_of "$ALOG")" = "$AENODE"
    check "... the key was reused, not created" bash -c "! grep -q 'node key created' '$ALOG'"
    check "B reconnects to the restarted A" wait_for 40 has_peer $PB "$AID"
    check "... and A reports B" wait_for 10 has_peer $PA "$BID"
    check "... greetings cross again" wait_for 5 greeted $PA "Hi from B" "Hi from A"
    kill -TERM "$A"; wait_exit "$A" 10
    check "A stops cleanly again" test "$EXIT_CODE" -eq 0
else
    not_ok "A restarts on its old port"; cat "$NODE_LOG"
fi
kill -TERM "$B"; wait_exit "$B" 10
check "B stops cleanly" test "$EXIT_CODE" -eq 0

# A node key readable by others is refused at start, naming the fix.
chmod 644 "$T_TMP/a/nodekey"
"$ETHD_BIN" -c "$T_TMP/a.yaml" --rpc-port 0 >"$T_TMP/perm.log" 2>&1; rc=$?
check "a world-readable node key stops the node (exit 1) with 'chmod 600'" \
    bash -c "[ $rc -eq 1 ] && grep -q 'chmod 600' '$T_TMP/perm.log'"
# A bad --static-peer is a usage error.
"$ETHD_BIN" --static-peer "enode://1234@127.0.0.1:1" --rpc-port 0 >"$T_TMP/sp.log" 2>&1; rc=$?
check "a malformed --static-peer exits 2 naming the flag" \
    bash -c "[ $rc -eq 2 ] && grep -q -- '--static-peer: enode node id must be 128 hex digits' '$T_TMP/sp.log'"
# Configuration errors name the place.
printf 'p2p:\n  static_peers:\n    - "enode://abc@127.0.0.1:1"\n' >"$T_TMP/badsp.yaml"
"$ETHD_BIN" --check-config -c "$T_TMP/badsp.yaml" >"$T_TMP/badsp.log" 2>&1; rc=$?
check "a bad p2p.static_peers entry is reported at FILE:LINE:COL" \
    bash -c "[ $rc -eq 2 ] && grep -q 'badsp.yaml:3:7: enode node id must be 128 hex digits' '$T_TMP/badsp.log'"
printf 'p2p: {host: example.org}\n' >"$T_TMP/badhost.yaml"
"$ETHD_BIN" --check-config -c "$T_TMP/badhost.yaml" >"$T_TMP/badhost.log" 2>&1; rc=$?
check "a host name in p2p.host is refused" \
    bash -c "[ $rc -eq 2 ] && grep -q 'p2p.host must be an IP address' '$T_TMP/badhost.log'"
finish
