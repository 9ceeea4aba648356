#!/bin/bash
# eth interop with EthereumJS (versions pinned in package.json):
#   1. an @ethereumjs/devp2p ETH peer (eth_query.mjs) dials ethd, which
#      serves devnet-a, on eth/66, eth/67 and eth/68, and checks the answer
#      to every GetBlockHeaders shape (by number / hash, skip, reverse, past
#      the head, skip overflow, amount 0, over the cap), GetBlockBodies,
#      GetReceipts and (eth/66) GetNodeData against expected.json;
#   2. the EthereumJS client (@ethereumjs/client 0.10.5, full sync, with the
#      clique load hook from ../shared/interop) syncs the whole chain from
#      ethd; every block hash it then reports over its JSON-RPC must equal
#      expected.json.
# The client only bootstraps through discv4 (it pings a bootnode over UDP
# first), which ethd does not speak, so ethd dials the client instead
# (admin_addPeer); the client then syncs from its only peer.
# Skips (exit 77) without node/npm. Loopback only; every wait is bounded.
set -u
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node not found (install nodejs and npm to run the EthereumJS interop tests)"
    exit 77
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$NODE_MAJOR" -lt 18 ]; then
    echo "SKIP: node $(node --version) is older than 18 (EthereumJS 10 needs >= 18)"
    exit 77
fi
. "$(dirname "$0")/../integration/lib.sh"
trap '' PIPE

SRC="$ETHD_SRCDIR/tests/interop"
JS="$ETHD_BUILDDIR/tests/interop"
FIX="${ETHD_FIXTURES:-$ETHD_SRCDIR/../shared/fixtures}/devnet-a"
EXP="$FIX/expected.json"
HOOK="$ETHD_SRCDIR/../shared/interop/ejs-clique-exec-fix.mjs"
dump() { for f in "$@"; do echo "# --- $f"; sed 's/^/#   /' "$f" | tail -40 | cut -c1-300; done; }

# ---- the pinned EthereumJS packages (shared with test_rlpx_interop.sh:
# same directory, same lock, same stamp) ----
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
if install_js && [ -f "$JS/node_modules/@ethereumjs/client/package.json" ]; then
    ok "npm ci installed the pinned packages (@ethereumjs/client $(node -p "require('$JS/node_modules/@ethereumjs/client/package.json').version"))"
else
    not_ok "npm ci installed the pinned packages (@ethereumjs/client)"; finish; exit 1
fi
for f in "$FIX/genesis.json" "$FIX/chain.rlp" "$FIX/receipts.rlp" "$EXP" "$HOOK"; do
    [ -e "$f" ] || { not_ok "needs $f"; finish; exit 1; }
done

# ---- ethd with devnet-a ----
DA="$T_TMP/a"
if "$ETHD_BIN" --datadir "$DA" init --genesis "$FIX/genesis.json" >"$T_TMP/init.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$DA" import "$FIX/chain.rlp" --receipts "$FIX/receipts.rlp" >"$T_TMP/import.log" 2>&1; then
    ok "ethd init + import devnet-a"
else
    not_ok "ethd init + import devnet-a"; dump "$T_TMP/init.log" "$T_TMP/import.log"; finish; exit 1
fi
cat >"$T_TMP/a.yaml" <<YAML
node: {datadir: "$DA", mode: full}
log: {level: debug}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth]}
rpc: {port: 0}
p2p: {port: 0}
services:
  eth: {}
YAML
if ! start_node a -c "$T_TMP/a.yaml"; then
    not_ok "ethd starts with the eth plugin"; dump "$NODE_LOG"; finish; exit 1
fi
A_RPC=$NODE_PORT; A_PID=$NODE_PID; A_LOG=$NODE_LOG
ENODE=$(sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$A_LOG" | head -1)

# ======== 1. EthereumJS devp2p ETH peer: query shapes ========
for v in 66 67 68; do
    out="$T_TMP/q$v.ev"
    (cd "$JS" && timeout 90 node eth_query.mjs --dial "$ENODE" --genesis "$FIX/genesis.json" \
        --expected "$EXP" --version $v --max-seconds 60) >"$out" 2>"$T_TMP/q$v.err"
    if [ -z "$(jq -c 'select(.ev == "status")' "$out" 2>/dev/null | head -1)" ]; then
        not_ok "eth/$v: EthereumJS completes the Status handshake with ethd"; dump "$out" "$T_TMP/q$v.err"
        continue
    fi
    ok "eth/$v: EthereumJS completes the Status handshake with ethd ($(jq -r 'select(.ev == "hello") | .shared' "$out"))"
    st=$(jq -c 'select(.ev == "status") | [.networkId, .td, .bestHash, .genesisHash, .forkHash]' "$out")
    check "eth/$v: ethd's Status as EthereumJS reads it (network, td 601, head, genesis, fork hash)" \
        test "$st" = "$(jq -c '[.networkId, 601, .head.hash, .genesisHash, .forkId.hash]' "$EXP")"
    while IFS= read -r line; do
        name=$(echo "$line" | jq -r .name)
        if [ "$(echo "$line" | jq -r .ok)" = true ]; then ok "eth/$v: $name"; else
            not_ok "eth/$v: $name"; echo "# got $(echo "$line" | jq -c .got | cut -c1-200) want $(echo "$line" | jq -c .want | cut -c1-200)"
        fi
    done < <(jq -c 'select(.ev == "check")' "$out")
    check "eth/$v: every query answered (done, none failed)" \
        test "$(jq -c 'select(.ev == "done") | [.failed, (.passed > 15)]' "$out")" = "[0,true]"
    jq -c 'select(.ev == "error" or .ev == "timeout")' "$out" | sed "s/^/# eth\/$v: /"
done
check "ethd is still running after the query peers" kill -0 "$A_PID"

# ======== 2. the EthereumJS client syncs devnet-a from ethd ========
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
EJS_P2P=$(free_port); EJS_RPC=$(free_port)
mkdir -p "$T_TMP/ejs"
(cd "$T_TMP/ejs" && exec timeout 240 node --import "$HOOK" "$JS/node_modules/@ethereumjs/client/dist/esm/bin/cli.js" \
    --gethGenesis "$FIX/genesis.json" --dataDir "$T_TMP/ejs/data" --port "$EJS_P2P" --extIP 127.0.0.1 \
    --rpc --rpcAddr 127.0.0.1 --rpcPort "$EJS_RPC" --discDns=false --discV4=false --sync full \
    >"$T_TMP/ejs.log" 2>&1) &
EJS_PID=$!; T_PIDS="$T_PIDS $EJS_PID"
i=0; EJS_ENODE=""
while [ $i -lt 300 ] && [ -z "$EJS_ENODE" ]; do
    EJS_ENODE=$(grep -o 'url=enode://[0-9a-f]*@[0-9.]*:[0-9]*' "$T_TMP/ejs.log" 2>/dev/null | head -1 | sed 's/^url=//')
    sleep 0.1; i=$((i + 1))
done
if [ -z "$EJS_ENODE" ]; then
    not_ok "the EthereumJS client starts (its rlpx listener's enode)"; dump "$T_TMP/ejs.log"; finish; exit 1
fi
ok "the EthereumJS client starts ($EJS_ENODE)"
check "... with the clique load hook applied" sh -c "! grep -q 'fix NOT applied' '$T_TMP/ejs.log'"
EJS_ENODE=$(echo "$EJS_ENODE" | sed "s/@[0-9.]*:/@127.0.0.1:/")
check "ethd dials it (admin_addPeer)" test "$(call "$A_RPC" admin_addPeer "[\"$EJS_ENODE\"]")" = true
i=0; p=""
while [ $i -lt 300 ]; do
    p=$(call "$A_RPC" admin_peers | jq -c '[.[] | select(.name | startswith("EthereumJS"))][0].protocols.eth.version // empty')
    [ -n "$p" ] && break; sleep 0.1; i=$((i + 1))
done
check "ethd sees the EthereumJS client as an eth/68 peer" test "$p" = 68
ejs() { curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary "$1" "http://127.0.0.1:$EJS_RPC/"; }
# The client waits ~20 s before it starts a sync, then imports and executes
# 300 blocks: poll up to 150 s.
i=0; bn=""
while [ $i -lt 300 ]; do
    bn=$(ejs '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' | jq -r '.result // empty' 2>/dev/null)
    [ "$bn" = 0x12c ] && break
    kill -0 "$EJS_PID" 2>/dev/null || break
    sleep 0.5; i=$((i + 1))
done
if check "the EthereumJS client reaches block 300 by syncing from ethd (at $bn)" test "$bn" = 0x12c; then
    batch=$(for n in $(seq 1 300); do printf '{"jsonrpc":"2.0","id":%d,"method":"eth_getBlockByNumber","params":["0x%x",false]}\n' "$n" "$n"; done | jq -sc .)
    got=$(ejs "$batch" | jq -c 'sort_by(.id) | [.[].result.hash]')
    want=$(jq -c '[.blocks[].hash]' "$EXP")
    check "every block 1..300 the client reports has the hash of expected.json" test "$got" = "$want"
    check "... and its head state root is devnet-a's (it executed every block)" \
        test "$(ejs '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["latest",false]}' | jq -r .result.stateRoot)" = \
        "$(jq -r .head.stateRoot "$EXP")"
else
    dump "$T_TMP/ejs.log"
fi
kill -TERM "$EJS_PID" 2>/dev/null; wait_exit "$EJS_PID" 20
kill -TERM "$A_PID"; wait_exit "$A_PID" 15
check "ethd stops cleanly" test "$EXIT_CODE" -eq 0
[ "$T_FAIL" -eq 0 ] || dump "$A_LOG"
finish
