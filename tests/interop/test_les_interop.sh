#!/bin/bash
# les interop with EthereumJS: an @ethereumjs/devp2p 6.1.3 LES client
# (les_query.mjs; devp2p 6.x is the last line that ships les, pinned in
# package.json as "@ethereumjs/devp2p-les") dials ethd's les-server, which
# serves devnet-a, on les/2, les/3 and les/4: Status handshake, the
# flow-control parameters, and GetBlockHeaders answers (and their BV)
# checked against expected.json.
# Skips (exit 77) without node/npm. Loopback only; every wait is bounded.
set -u
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node not found (install nodejs and npm to run the EthereumJS interop tests)"
    exit 77
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$NODE_MAJOR" -lt 18 ]; then
    echo "SKIP: node $(node --version) is older than 18"
    exit 77
fi
. "$(dirname "$0")/../integration/lib.sh"
trap '' PIPE

SRC="$ETHD_SRCDIR/tests/interop"
JS="$ETHD_BUILDDIR/tests/interop"
FIX="${ETHD_FIXTURES:-$ETHD_SRCDIR/../shared/fixtures}/devnet-a"
EXP="$FIX/expected.json"
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
if install_js && [ -f "$JS/node_modules/@ethereumjs/devp2p-les/package.json" ]; then
    ok "npm ci installed the pinned packages (@ethereumjs/devp2p-les = devp2p $(node -p "require('$JS/node_modules/@ethereumjs/devp2p-les/package.json').version"))"
else
    not_ok "npm ci installed the pinned packages (@ethereumjs/devp2p-les)"; finish; exit 1
fi
for f in "$FIX/genesis.json" "$FIX/chain.rlp" "$FIX/receipts.rlp" "$EXP"; do
    [ -e "$f" ] || { not_ok "needs $f"; finish; exit 1; }
done

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
plugins: {load: [eth, les]}
rpc: {port: 0}
p2p: {port: 0}
services:
  eth: {}
  les-server: {}
YAML
if ! start_node a -c "$T_TMP/a.yaml"; then
    not_ok "ethd starts with les-server"; dump "$NODE_LOG"; finish; exit 1
fi
ENODE=$(sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$NODE_LOG" | head -1)
for v in 2 3 4; do
    out="$T_TMP/q$v.ev"
    (cd "$JS" && timeout 90 node les_query.mjs --dial "$ENODE" --genesis "$FIX/genesis.json" \
        --expected "$EXP" --version $v --max-seconds 60) >"$out" 2>"$T_TMP/q$v.err"
    done_ev=$(jq -c 'select(.ev == "done")' "$out" 2>/dev/null | head -1)
    check "EthereumJS les/$v: handshake, flow-control params, headers and BVs match (${done_ev})" \
        sh -c "[ \"\$(echo '$done_ev' | jq -c '[.passed, .failed]')\" = '[12,0]' ]"
    check "  ... it read BL/MRR/MRC from ethd's Status" \
        test "$(jq -c 'select(.ev == "status") | [.bl, .mrr, (.mrcCodes | length)]' "$out")" = "[300000,50000,8]"
    [ "$(echo "$done_ev" | jq -r .failed 2>/dev/null)" = 0 ] || dump "$out" "$T_TMP/q$v.err"
done
check "ethd logged the EthereumJS light client" grep -q 'light client connected' "$NODE_LOG"
finish
