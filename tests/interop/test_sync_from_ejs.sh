#!/bin/bash
# ethd's downloader-full syncs devnet-a FROM the EthereumJS client
# (@ethereumjs/client 0.10.5, pinned in package.json), the reverse of
# test_eth_interop.sh. The client imports the chain at start
# (--loadBlocksFromRlp chain.rlp, discovery off) and ethd dials it (a static
# peer). That client never answers GetReceipts and answers some queries with
# nothing (tests/interop/README.md, ../shared/interop/README.md), so:
#   A. EthereumJS alone: ethd gets every header and body (all 300 hashes and
#      transaction counts equal expected.json), keeps the receipts pending
#      (eth_syncing still reports the sync; no receipts invented) and does
#      not stall (RPC answers, the peer stays usable); then an ethd server
#      with receipts is added (admin_addPeer) and the receipts complete
#      (eth_syncing false, receipts equal the server's);
#   B. EthereumJS and an ethd server from the start: the sync completes with
#      the receipts from the ethd server; `ethd export` equals chain.rlp.
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
PLUGDIR="$ETHD_BUILDDIR/plugins/downloader"
dump() { for f in "$@"; do echo "# --- $f"; sed 's/^/#   /' "$f" | tail -40 | cut -c1-300; done; }
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }

# ---- the pinned EthereumJS packages (same directory, lock and stamp as
# the other interop tests) ----
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
ls "$PLUGDIR"/downloader-full.la >/dev/null 2>&1 ||
    { not_ok "needs the downloader-full plugin in $PLUGDIR"; finish; exit 1; }
export ETHD_PLUGIN_PATH="$PLUGDIR:$ETHD_PLUGIN_PATH"
N=$(jq .head.number "$EXP")
HEXN=$(printf '0x%x' "$N")

# ---- the EthereumJS client holding devnet-a ----
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
EJS_P2P=$(free_port); EJS_RPC=$(free_port)
mkdir -p "$T_TMP/ejs"
(cd "$T_TMP/ejs" && exec timeout 400 node --import "$HOOK" "$JS/node_modules/@ethereumjs/client/dist/esm/bin/cli.js" \
    --gethGenesis "$FIX/genesis.json" --dataDir "$T_TMP/ejs/data" --port "$EJS_P2P" --extIP 127.0.0.1 \
    --rpc --rpcAddr 127.0.0.1 --rpcPort "$EJS_RPC" --discDns=false --discV4=false --sync full \
    --loadBlocksFromRlp "$FIX/chain.rlp" >"$T_TMP/ejs.log" 2>&1) &
EJS_PID=$!; T_PIDS="$T_PIDS $EJS_PID"
ejs() { curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary "$1" "http://127.0.0.1:$EJS_RPC/"; }
i=0; EJS_ENODE=""; bn=""
while [ $i -lt 600 ]; do
    [ -z "$EJS_ENODE" ] && EJS_ENODE=$(grep -o 'url=enode://[0-9a-f]*@[0-9.]*:[0-9]*' "$T_TMP/ejs.log" 2>/dev/null | head -1 | sed 's/^url=//')
    bn=$(ejs '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' 2>/dev/null | jq -r '.result // empty' 2>/dev/null)
    [ -n "$EJS_ENODE" ] && [ "$bn" = "$HEXN" ] && break
    kill -0 "$EJS_PID" 2>/dev/null || break
    sleep 0.1; i=$((i + 1))
done
if [ -z "$EJS_ENODE" ] || [ "$bn" != "$HEXN" ]; then
    not_ok "the EthereumJS client starts with devnet-a loaded (enode '$EJS_ENODE', block '$bn')"; dump "$T_TMP/ejs.log"; finish; exit 1
fi
EJS_ENODE=$(echo "$EJS_ENODE" | sed "s/@[0-9.]*:/@127.0.0.1:/")
ok "the EthereumJS client holds devnet-a (block $N, --loadBlocksFromRlp)"
check "... its head is expected.json's" test \
    "$(ejs '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["latest",false]}' | jq -r .result.hash)" = "$(jq -r .head.hash "$EXP")"

# ---- the ethd server S (for receipts) ----
DS=$T_TMP/s
"$ETHD_BIN" --datadir "$DS" init --genesis "$FIX/genesis.json" >/dev/null 2>&1 &&
    "$ETHD_BIN" --datadir "$DS" import "$FIX/chain.rlp" --receipts "$FIX/receipts.rlp" >"$T_TMP/s-import.log" 2>&1 ||
    { not_ok "ethd server: init + import"; dump "$T_TMP/s-import.log"; finish; exit 1; }
cat >"$T_TMP/s.yaml" <<YAML
node: {datadir: "$DS", mode: full}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth]}
services:
  eth: {}
YAML
start_node s -c "$T_TMP/s.yaml" || { not_ok "ethd server starts"; dump "$NODE_LOG"; finish; exit 1; }
S_PORT=$NODE_PORT; S_ENODE=$(enode_of "$NODE_LOG")

# x_cfg NAME STATIC-PEERS-JSON: a fresh syncing node's config.
x_cfg() {
    "$ETHD_BIN" --datadir "$T_TMP/$1" init --genesis "$FIX/genesis.json" >/dev/null 2>&1
    cat >"$T_TMP/$1.yaml" <<YAML
node: {datadir: "$T_TMP/$1", mode: full}
log: {level: debug}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth, downloader-full]}
p2p: {static_peers: $2}
services:
  eth: {}
  downloader-full: {}
YAML
}
# headers_bodies_match PORT: all blocks' hashes and tx counts equal expected.json.
headers_bodies_match() {
    batch=$(for n in $(seq 1 "$N"); do printf '{"jsonrpc":"2.0","id":%d,"method":"eth_getBlockByNumber","params":["0x%x",false]}\n' "$n" "$n"; done | jq -sc .)
    got=$(curl -s --max-time 20 -H 'Content-Type: application/json' --data-binary "$batch" "http://127.0.0.1:$1/" |
        jq -c 'sort_by(.id) | [.[].result | if . == null then null else [.hash, (.transactions | length)] end]' 2>/dev/null)
    [ -n "$got" ] && [ "$got" = "$(jq -c '[.blocks[] | [.hash, (.txHashes | length)]]' "$EXP")" ]
}
receipts_match() {
    for n in 1 2 50 140 200 299 300; do
        q=$(printf '0x%x' "$n")
        a=$(call "$1" eth_getBlockReceipts "[\"$q\"]"); b=$(call "$S_PORT" eth_getBlockReceipts "[\"$q\"]")
        [ "$a" = "$b" ] && [ "$a" != null ] || { echo "# block $n: receipts $(echo "$a" | cut -c1-100)"; return 1; }
    done
}
wait_for() { t=$(($1 * 2)); shift; while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.5; t=$((t - 1)); done; return 1; }
synced() { [ "$(call "$1" eth_syncing)" = false ] && [ "$(call "$1" eth_blockNumber)" = "\"$HEXN\"" ]; }
ejs_peer() { call "$1" admin_peers | jq -e '[.[] | select(.name | startswith("EthereumJS"))] | length > 0' >/dev/null; }

# ======== A. EthereumJS alone, then S added ========
x_cfg xa "[\"$EJS_ENODE\"]"
if start_node xa -c "$T_TMP/xa.yaml"; then
    XA=$NODE_PORT; XA_PID=$NODE_PID; XA_LOG=$NODE_LOG
    check "A: ethd connects to the EthereumJS client (admin_peers)" wait_for 30 ejs_peer "$XA"
    if wait_for 150 headers_bodies_match "$XA"; then
        ok "A: every header and body from EthereumJS: $N hashes and tx counts equal expected.json"
    else
        not_ok "A: every header and body from EthereumJS within 150 s (head $(call "$XA" eth_blockNumber))"; dump "$XA_LOG"
    fi
    sleep 3 # the receipts requests have gone unanswered meanwhile
    s=$(call "$XA" eth_syncing)
    check "A: receipts stay pending: eth_syncing still reports the sync ($(echo "$s" | cut -c1-160))" test "$s" != false
    check "A: ... no receipts are invented for block 200 (eth_getBlockReceipts is null)" \
        test "$(call "$XA" eth_getBlockReceipts '["0xc8"]')" = null
    check "A: ... and the log says which receipts are pending" grep -qi 'receipt' "$XA_LOG"
    check "A: no stall: ethd answers RPC and keeps the EthereumJS peer" ejs_peer "$XA"
    check "A: admin_addPeer of the ethd server" test "$(call "$XA" admin_addPeer "[\"$S_ENODE\"]")" = true
    if wait_for 90 synced "$XA"; then ok "A: receipts complete from the ethd server: eth_syncing false"; else
        not_ok "A: receipts complete within 90 s ($(call "$XA" eth_syncing | cut -c1-200))"; dump "$XA_LOG"
    fi
    check "A: receipts of sampled blocks equal the server's" receipts_match "$XA"
    kill "$XA_PID"; wait_exit "$XA_PID" 15
    check "A: ethd stops cleanly" test "$EXIT_CODE" = 0
else
    not_ok "A: ethd starts with downloader-full"; dump "$NODE_LOG"
fi

# ======== B. EthereumJS and the ethd server together ========
x_cfg xb "[\"$EJS_ENODE\", \"$S_ENODE\"]"
if start_node xb -c "$T_TMP/xb.yaml"; then
    XB=$NODE_PORT; XB_PID=$NODE_PID; XB_LOG=$NODE_LOG
    check "B: ethd connects to the EthereumJS client too" wait_for 30 ejs_peer "$XB"
    if wait_for 150 synced "$XB"; then ok "B: sync completes (head #$N, eth_syncing false)"; else
        not_ok "B: sync completes within 150 s ($(call "$XB" eth_blockNumber), $(call "$XB" eth_syncing | cut -c1-200))"; dump "$XB_LOG"
    fi
    check "B: $N hashes and tx counts equal expected.json" headers_bodies_match "$XB"
    check "B: receipts (from the ethd server) equal the server's" receipts_match "$XB"
    kill "$XB_PID"; wait_exit "$XB_PID" 15
    check "B: ethd stops cleanly" test "$EXIT_CODE" = 0
    "$ETHD_BIN" --datadir "$T_TMP/xb" export "$T_TMP/xb.rlp" >/dev/null 2>&1
    check "B: ethd export is chain.rlp byte for byte" cmp -s "$T_TMP/xb.rlp" "$FIX/chain.rlp"
else
    not_ok "B: ethd starts with downloader-full"; dump "$NODE_LOG"
fi
kill -TERM "$EJS_PID" 2>/dev/null; wait_exit "$EJS_PID" 20
finish
