#!/bin/bash
# RLPx interop with EthereumJS (@ethereumjs/devp2p, pinned in package.json):
#   1. an EthereumJS peer dials ethd;
#   2. ethd dials an EthereumJS listener (--static-peer).
# In both directions: Hello completes with the right client ids and caps on
# both sides, a Ping is answered with a Pong, the exa/1 capability carries
# messages, and a Disconnect carries its reason to the other side.
# Skips (exit 77) when node/npm are missing. Installs the pinned packages
# with `npm ci` into $ETHD_BUILDDIR/tests/interop/node_modules when they are
# missing or older than package-lock.json. Loopback (127.0.0.1) only; every
# wait is bounded.
set -u
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node not found (install nodejs and npm to run the EthereumJS interop tests)"
    exit 77
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$NODE_MAJOR" -lt 18 ]; then
    echo "SKIP: node $(node --version) is older than 18 (@ethereumjs/devp2p 10 needs >= 18)"
    exit 77
fi
. "$(dirname "$0")/../integration/lib.sh"
trap '' PIPE # a dead EthereumJS process must fail a write, not kill this script

SRC="$ETHD_SRCDIR/tests/interop"
JS="$ETHD_BUILDDIR/tests/interop"

# ---- the pinned EthereumJS packages ----
# npm ci runs under a lock (other interop tests may share node_modules) and
# only when the lock file changed since the last install.
install_js() {
    mkdir -p "$JS" || return 1
    if [ "$(cd "$SRC" && pwd -P)" != "$(cd "$JS" && pwd -P)" ]; then
        cp "$SRC/package.json" "$SRC/package-lock.json" "$SRC"/*.mjs "$JS/" || return 1
    fi
    want=$(sha256sum "$JS/package-lock.json" | cut -d' ' -f1)
    (
        flock -w 300 9 || exit 1
        [ -d "$JS/node_modules" ] && [ "$(cat "$JS/node_modules/.ethd-stamp" 2>/dev/null)" = "$want" ] && exit 0
        rm -rf "$JS/node_modules"
        echo "# npm ci in $JS (first run, or package-lock.json changed)"
        (cd "$JS" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$JS/npm-ci.log" 2>&1 ||
            { sed 's/^/# /' "$JS/npm-ci.log" | tail -20; exit 1; }
        echo "$want" >"$JS/node_modules/.ethd-stamp"
    ) 9>"$JS/node_modules.lock"
}
if install_js; then
    ok "npm ci installed the pinned EthereumJS packages (@ethereumjs/devp2p $(node -p "require('$JS/node_modules/@ethereumjs/devp2p/package.json').version"))"
else
    not_ok "npm ci installed the pinned EthereumJS packages"; finish; exit 1
fi

# ---- helpers ----
# ejs_start NAME FD ARGS...: run rlpx_peer.mjs; its events go to $T_TMP/NAME.ev,
# commands are written to file descriptor FD.
ejs_start() {
    n=$1; fd=$2; shift 2
    mkfifo "$T_TMP/$n.ctl"
    node "$JS/rlpx_peer.mjs" --max-seconds 90 "$@" <"$T_TMP/$n.ctl" >"$T_TMP/$n.ev" 2>"$T_TMP/$n.err" &
    EJS_PID=$!
    T_PIDS="$T_PIDS $EJS_PID"
    eval "exec $fd>\"\$T_TMP/\$n.ctl\""
}
# ev NAME FILTER: the first event of NAME matching the jq FILTER (compact), or "".
ev() { jq -c -R "fromjson? | select($2)" "$T_TMP/$1.ev" 2>/dev/null | head -1; }
# wait_ev NAME FILTER SECONDS: poll for such an event; prints it; 1 on timeout.
wait_ev() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        e=$(ev "$1" "$2")
        [ -n "$e" ] && { echo "$e"; return 0; }
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
has_ev() { wait_ev "$@" >/dev/null; }
# wait_rpc PORT METHOD PARAMS JQ-TEST SECONDS: poll until `call` output passes the test.
wait_rpc() {
    i=0
    while [ $i -lt $(($5 * 10)) ]; do
        call "$1" "$2" "$3" | jq -e "$4" >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# wait_log FILE REGEX SECONDS
wait_log() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -Eq "$2" "$1" && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
dump() { for f in "$@"; do echo "# --- $f"; sed 's/^/#   /' "$f" | tail -40; done; }
yaml() { # yaml NAME: a node config with its own datadir, ephemeral ports
    cat >"$T_TMP/$1.yaml" <<YAML
node: {datadir: "$T_TMP/$1"}
log: {level: debug}
plugins: {load: [example]}
rpc: {port: 0}
p2p: {port: 0, ping_interval: 1s}
services:
  example: {greeting: "Hello from ethd"}
YAML
}
GREETING="Hello from ethd"
# Hello checks, the same in both directions. $1 = events name, $2 = ethd id.
check_hello() {
    h=$(ev "$1" '.ev == "hello"')
    check "$3: EthereumJS sees ethd's client id ($(echo "$h" | jq -r .clientId))" \
        test "$(echo "$h" | jq -r '.clientId | startswith("ethd/v")')" = true
    check "$3: ... ethd's caps are [exa/1] and exa/1 is shared" \
        test "$(echo "$h" | jq -c '[.caps, .shared]')" = '[["exa/1"],["exa/1"]]'
    check "$3: ... ethd's Hello says p2p version 5 and carries its node id" \
        test "$(echo "$h" | jq -r '"\(.protocolVersion) \(.id)"')" = "5 $2"
}
# check_admin_peer PORT EJS-ID CLIENT-ID INBOUND DIRECTION: ethd's view of the peer.
check_admin_peer() {
    p=$(call "$1" admin_peers | jq -c --arg id "$2" '[.[] | select((.enode // "") | contains($id))][0]')
    check "$5: ethd's admin_peers lists the EthereumJS peer ($(echo "$p" | jq -r .name))" \
        test "$(echo "$p" | jq -r .name)" = "$3"
    check "$5: ... with caps [exa/1]" test "$(echo "$p" | jq -c .caps)" = '["exa/1"]'
    if [ "$4" = true ]; then dir=inbound; else dir=outbound; fi
    check "$5: ... as an $dir peer" \
        test "$(echo "$p" | jq -r .network.inbound)" = "$4"
    if [ "$4" = true ]; then st=false; else st=true; fi
    check "$5: ... static: $st" test "$(echo "$p" | jq -r .network.static)" = "$st"
}
# check_ethd_ping NAME PORT DIRECTION: ethd pings (p2p.ping_interval 1s) and
# records the round trip of EthereumJS's Pong.
check_ethd_ping() {
    check "$3: ethd pings EthereumJS (p2p.ping_interval: 1s)" has_ev "$1" '.ev == "ping"' 5
    check "$3: ... and records the RTT of EthereumJS's Pong in admin_peers" \
        wait_rpc "$2" admin_peers '[]' 'length == 1 and .[0].stats.lastRttMs > 0' 5
}
# check_exa NAME FD PORT DIRECTION: the exa/1 exchange of the example plugin
# (0 greet [text] from both sides on connect, 1 echo [text] answers a greet).
check_exa() {
    g=$(wait_ev "$1" '.ev == "exa" and .code == 0' 5)
    check "$4: ethd's example service greets over exa/1 ([\"$GREETING\"])" \
        test "$(echo "$g" | jq -c .payload)" = "[\"$GREETING\"]"
    echo "exa 1 $GREETING" >&"$2"
    echo "exa 0 Greetings from EthereumJS ($1)" >&"$2"
    e=$(wait_ev "$1" '.ev == "exa" and .code == 1' 5)
    check "$4: ethd answers EthereumJS's greet with an echo of it" \
        test "$(echo "$e" | jq -c .payload)" = "[\"Greetings from EthereumJS ($1)\"]"
    check "$4: example_peers shows EthereumJS's greeting and its echo of ethd's" \
        wait_rpc "$3" example_peers '[]' \
        "any(.[]; .greeting == \"Greetings from EthereumJS ($1)\" and .echo == \"$GREETING\")" 5
}
ethd_id() { call "$1" admin_nodeInfo | jq -r '.enode // "" | capture("enode://(?<id>[0-9a-f]{128})@").id'; }

# ======== 1. EthereumJS dials ethd ========
yaml a
if ! start_node a -c "$T_TMP/a.yaml"; then
    not_ok "ethd (node a) starts"; dump "$NODE_LOG"; finish; exit 1
fi
A_RPC=$NODE_PORT; A_PID=$NODE_PID; A_LOG=$NODE_LOG
wait_log "$A_LOG" 'p2p listening.* port=[0-9]+' 10
A_P2P=$(sed -En 's/.*p2p listening.* port=([0-9]+).*/\1/p' "$A_LOG" | head -1)
A_ID=$(ethd_id "$A_RPC")
if [ -z "$A_P2P" ] || [ -z "$A_ID" ]; then
    not_ok "ethd reports its p2p port ($A_P2P) and node id (admin_nodeInfo)"; dump "$A_LOG"; finish; exit 1
fi
ok "ethd listens for p2p on 127.0.0.1:$A_P2P"
check "ethd prints its enode at start (the id admin_nodeInfo gives)" grep -Eq "enode://$A_ID@" "$A_LOG"

EJS_KEY_B=8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a
ejs_start b 5 --dial "enode://$A_ID@127.0.0.1:$A_P2P" --key $EJS_KEY_B
B_ID=$(wait_ev b '.ev == "ready"' 10 | jq -r .id)
B_CID=$(ev b '.ev == "ready"' | jq -r .clientId)
D="EthereumJS -> ethd"
if wait_ev b '.ev == "hello"' 15 >/dev/null; then
    ok "$D: Hello completes"
    check_hello b "$A_ID" "$D"
    if wait_rpc "$A_RPC" admin_peers '[]' 'length == 1' 5; then
        check_admin_peer "$A_RPC" "$B_ID" "$B_CID" true "$D"
    else
        not_ok "$D: ethd's admin_peers lists the EthereumJS peer"; call "$A_RPC" admin_peers | sed 's/^/# /'
    fi
    echo ping >&5
    check "$D: ethd answers EthereumJS's Ping with a Pong" has_ev b '.ev == "pong"' 5
    check_exa b 5 "$A_RPC" "$D"
    check_ethd_ping b "$A_RPC" "$D"
    echo "disconnect 8" >&5
    check "$D: EthereumJS disconnects with reason 0x08 (client quitting)" \
        has_ev b '.ev == "disconnect" and .by == "us" and .reason == 8' 10
    check "$D: ethd drops the peer from admin_peers" wait_rpc "$A_RPC" admin_peers '[]' 'length == 0' 10
    check "$D: ethd logs the peer's reason (client quitting)" \
        wait_log "$A_LOG" 'peer (disconnected|gone|closed|dropped).*(reason=(8|0x08)\b|quitting)' 5
else
    not_ok "$D: Hello completes"; dump "$T_TMP/b.ev" "$T_TMP/b.err" "$A_LOG"
fi
echo quit >&5; exec 5>&-
kill -TERM "$A_PID"; wait_exit "$A_PID" 15
check "ethd (node a) stops cleanly on SIGTERM" test "$EXIT_CODE" -eq 0

# ======== 2. ethd dials EthereumJS ========
EJS_KEY_C=2f3b5c1c0f7a6f9f8e1d2c3b4a59687766554433221100ffeeddccbbaa998877
ejs_start c 6 --listen 0 --key $EJS_KEY_C
l=$(wait_ev c '.ev == "listening"' 10)
C_ENODE=$(echo "$l" | jq -r .enode)
C_ID=$(ev c '.ev == "ready"' | jq -r .id)
C_CID=$(ev c '.ev == "ready"' | jq -r .clientId)
D="ethd -> EthereumJS"
if [ -z "$l" ]; then
    not_ok "EthereumJS listens on 127.0.0.1"; dump "$T_TMP/c.ev" "$T_TMP/c.err"; finish; exit 1
fi
yaml b
if ! start_node b -c "$T_TMP/b.yaml" --static-peer "$C_ENODE"; then
    not_ok "ethd (node b) starts with --static-peer"; dump "$NODE_LOG"; finish; exit 1
fi
B_RPC=$NODE_PORT; B_PID=$NODE_PID; B_LOG=$NODE_LOG
B_ETHD_ID=$(ethd_id "$B_RPC")
if wait_ev c '.ev == "hello"' 15 >/dev/null; then
    ok "$D: Hello completes"
    check_hello c "$B_ETHD_ID" "$D"
    if wait_rpc "$B_RPC" admin_peers '[]' 'length == 1' 5; then
        check_admin_peer "$B_RPC" "$C_ID" "$C_CID" false "$D"
    else
        not_ok "$D: ethd's admin_peers lists the EthereumJS peer"; call "$B_RPC" admin_peers | sed 's/^/# /'
    fi
    echo ping >&6
    check "$D: ethd answers EthereumJS's Ping with a Pong" has_ev c '.ev == "pong"' 5
    check_exa c 6 "$B_RPC" "$D"
    check_ethd_ping c "$B_RPC" "$D"

    # admin_removePeer: ethd says "disconnect requested" (0x00).
    check "$D: admin_removePeer accepts the enode" \
        test "$(call "$B_RPC" admin_removePeer "[\"$C_ENODE\"]")" = true
    check "$D: EthereumJS is told 0x00 (disconnect requested)" \
        has_ev c '.ev == "disconnect" and .by == "them" and .reason == 0' 10
    check "$D: ethd drops the peer from admin_peers" wait_rpc "$B_RPC" admin_peers '[]' 'length == 0' 10

    # admin_addPeer dials it again; SIGTERM then says "client quitting" (0x08).
    check "$D: admin_addPeer accepts the enode" \
        test "$(call "$B_RPC" admin_addPeer "[\"$C_ENODE\"]")" = true
    if wait_rpc "$B_RPC" admin_peers '[]' 'length == 1' 15; then
        ok "$D: ... and ethd connects again"
        kill -TERM "$B_PID"; wait_exit "$B_PID" 15
        check "$D: ethd stops cleanly on SIGTERM with a peer connected" test "$EXIT_CODE" -eq 0
        check "$D: EthereumJS is told 0x08 (client quitting) when ethd stops" \
            has_ev c '.ev == "disconnect" and .by == "them" and .reason == 8' 10
    else
        not_ok "$D: ... and ethd connects again"; dump "$T_TMP/c.ev" "$B_LOG"
    fi
else
    not_ok "$D: Hello completes"; dump "$T_TMP/c.ev" "$T_TMP/c.err" "$B_LOG"
fi
kill -TERM "$B_PID" 2>/dev/null && wait_exit "$B_PID" 15
echo quit >&6; exec 6>&-
# Anything EthereumJS reported as an error is worth seeing, pass or fail.
for n in b c; do
    jq -c -R 'fromjson? | select(.ev == "error" or .ev == "peer_error" or .ev == "timeout")' "$T_TMP/$n.ev" 2>/dev/null |
        sed "s/^/# EthereumJS ($n): /"
done
[ "$T_FAIL" -eq 0 ] || dump "$A_LOG" "$B_LOG" "$T_TMP/b.ev" "$T_TMP/c.ev"
finish
