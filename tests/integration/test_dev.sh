#!/bin/bash
# Dev mode (docs/config.md, "Dev mode"): ethd on etc/dev.yaml seals the dev
# chain with the dev key (log lines, clique_ RPC, eth_blockNumber rising), the
# intervals respect the period, a restart continues the same chain from its
# head, the file genesis equals the built-in one, an unauthorised key seals
# nothing and says why, a sealer without a chain or with a bad period or key
# refuses to start, a generated key file is private, and a second node (eth,
# no sealer) follows the dev node.
. "$(dirname "$0")/lib.sh"
E=$ETHD_BIN
DEV_YAML=$ETHD_SRCDIR/etc/dev.yaml
DEV_ADDR=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266
OTHER_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
OTHER_ADDR=0x70997970c51812dc3a010c7d01b50e0d17dc79c8
export ETHD_PLUGIN_PATH="$ETHD_BUILDDIR/plugins/clique:$ETHD_BUILDDIR/plugins/eth:$ETHD_PLUGIN_PATH"

# wait_log FILE ERE SECONDS: poll until a line matches.
wait_log() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# sealed FILE: the numbers of the blocks sealed, one per line.
sealed() { sed -n 's/.*sealed block number=\([0-9]*\) .*/\1/p' "$1"; }
# stop PID: SIGTERM and wait; sets EXIT_CODE.
stop() { kill -TERM "$1"; wait_exit "$1" 15; }
# block_number PORT: eth_blockNumber as a decimal number.
block_number() { v=$(call "$1" eth_blockNumber | tr -d '"'); case $v in 0x*) printf '%d' "$v" ;; *) echo -1 ;; esac; }

D=$T_TMP/dev
# ---- the dev node seals ----
if ! start_node dev -c "$DEV_YAML" --datadir "$D"; then
    not_ok "ethd -c etc/dev.yaml starts"; cat "$NODE_LOG"; finish; exit 1
fi
ok "ethd -c etc/dev.yaml starts (RPC on 127.0.0.1:$NODE_PORT)"
P=$NODE_PORT; A=$NODE_PID; ALOG=$NODE_LOG
check "... on the built-in dev genesis (chain id 1337)" grep -q 'chain opened genesis=0x[0-9a-f]* chain_id=1337 head=0' "$ALOG"
DEV_GENESIS=$(sed -n 's/.*chain opened genesis=\(0x[0-9a-f]*\) .*/\1/p' "$ALOG" | head -1)
check "... the sealer starts with the dev key" grep -q "sealer started signer=$DEV_ADDR period=1s" "$ALOG"
check "... saying it seals empty blocks (no executor)" grep -q 'sealing empty blocks reason="no executor plugin: transactions stay in the pool"' "$ALOG"
if wait_log "$ALOG" 'sealed block number=4 ' 20; then ok "blocks 1..4 sealed within 20 s"
else not_ok "blocks 1..4 sealed within 20 s"; tail -20 "$ALOG"; fi
check "... each logged with number, hash, signer, interval, difficulty 2, txs=0" \
    grep -Eq "sealed block number=2 hash=0x[0-9a-f]{64} signer=$DEV_ADDR interval=[0-9]+s difficulty=2 txs=0" "$ALOG"
check "... numbered 1, 2, 3, ... without gaps" \
    bash -c "[ \"\$(sed -n 's/.*sealed block number=\([0-9]*\) .*/\1/p' '$ALOG' | head -4 | tr '\n' ' ')\" = '1 2 3 4 ' ]"
# The period is 1 s: no interval (timestamp - parent timestamp) below it.
check "... no interval shorter than the 1 s period" \
    bash -c "! sed -n 's/.*sealed block .* interval=\([0-9]*\)s .*/\1/p' '$ALOG' | grep -qx 0"
check "clique_getSigners is the dev signer" test "$(call $P clique_getSigners)" = "[\"$DEV_ADDR\"]"
st=$(call $P clique_sealerStatus)
check "clique_sealerStatus: sealing, authorised, head >= 4 ($st)" \
    test "$(jq -r '[.state, .authorized, .signer, (.head >= 4), .executor] | join(",")' <<<"$st")" = "sealing,true,$DEV_ADDR,true,false"
check "a bad clique_getSigners parameter is -32602" test "$(call $P clique_getSigners '[{}]' | jq .code)" = -32602
n1=$(block_number $P); sleep 2.5; n2=$(block_number $P)
check "eth_blockNumber rises ($n1 -> $n2)" test "$n1" -ge 1 -a "$n2" -gt "$n1"

stop "$A"
check "SIGTERM stops the dev node cleanly (exit 0)" test "$EXIT_CODE" -eq 0
check "... the sealer stopping with its count" grep -q 'sealer stopped sealed=[0-9]' "$ALOG"
N=$(sealed "$ALOG" | tail -1)
"$E" -c "$DEV_YAML" --datadir "$D" export "$T_TMP/first.rlp" 1 "$N" 2>"$T_TMP/exp1.log"; rc=$?
check "ethd export of blocks 1..$N of the dev chain" test $rc -eq 0

# ---- restart: the same chain continues from its head ----
if start_node dev2 -c "$DEV_YAML" --datadir "$D"; then
    ok "the dev node restarts on its data dir"
    B=$NODE_PID; BLOG=$NODE_LOG
    check "... opening the chain at head $N" grep -q "chain opened genesis=$DEV_GENESIS chain_id=1337 head=$N" "$BLOG"
    if wait_log "$BLOG" "sealed block number=$((N + 2)) " 15; then ok "... sealing on: blocks $((N + 1)) and $((N + 2))"
    else not_ok "... sealing on from block $((N + 1))"; tail -20 "$BLOG"; fi
    check "... its first block is $((N + 1)), not a new chain" test "$(sealed "$BLOG" | head -1)" = $((N + 1))
    stop "$B"
    check "... and stops cleanly" test "$EXIT_CODE" -eq 0
    "$E" -c "$DEV_YAML" --datadir "$D" export "$T_TMP/again.rlp" 1 "$N" 2>/dev/null
    check "blocks 1..$N are byte-identical after the restart" cmp -s "$T_TMP/first.rlp" "$T_TMP/again.rlp"
else
    not_ok "the dev node restarts on its data dir"; cat "$NODE_LOG"
fi

# ---- the genesis file is the built-in one ----
if start_node file --dev --datadir "$T_TMP/file" --genesis "$ETHD_SRCDIR/etc/dev-genesis.json"; then
    check "--genesis etc/dev-genesis.json gives the built-in dev genesis $DEV_GENESIS" \
        grep -q "chain opened genesis=$DEV_GENESIS chain_id=1337" "$NODE_LOG"
    check "... ethd --dev runs in dev mode" grep -q 'starting ethd .*mode=dev' "$NODE_LOG"
    check "... and its embedded default seals on that genesis" wait_log "$NODE_LOG" 'sealed block number=1 ' 10
    stop "$NODE_PID"
else
    not_ok "a node on --genesis etc/dev-genesis.json starts"; cat "$NODE_LOG"
fi

# ---- an unauthorised key ----
cat >"$T_TMP/unauth.yaml" <<YAML
node: {mode: dev}
plugins: {load: [clique]}
chain: {genesis: dev}
services:
  clique-sealer: {key: "$OTHER_KEY"}
YAML
if start_node unauth -c "$T_TMP/unauth.yaml" --datadir "$T_TMP/unauth"; then
    ok "a node with a key that is not a signer starts"
    check "... warning once why: not an authorised signer (signers: the dev key)" \
        wait_log "$NODE_LOG" "WARN .*not an authorised signer signer=$OTHER_ADDR signers=$DEV_ADDR" 5
    sleep 3
    check "... sealing nothing in 3 s" bash -c "! grep -q 'sealed block' '$NODE_LOG'"
    check "... the warning only once" test "$(grep -c 'not an authorised signer' "$NODE_LOG")" -eq 1
    check "... clique_sealerStatus says unauthorised at head 0" \
        test "$(call $NODE_PORT clique_sealerStatus | jq -r '[.state, .authorized, .head] | join(",")')" = "unauthorised,false,0"
    stop "$NODE_PID"
else
    not_ok "a node with a key that is not a signer starts"; cat "$NODE_LOG"
fi

# ---- a generated key file ----
printf 'node: {mode: dev}\nplugins: {load: [clique]}\nchain: {genesis: dev}\nservices:\n  clique-sealer: {generate_key: true}\n' >"$T_TMP/gen.yaml"
if start_node gen -c "$T_TMP/gen.yaml" --datadir "$T_TMP/gen"; then
    check "generate_key: true writes DATADIR/signer.key" grep -q "generated a signer key file=$T_TMP/gen/signer.key" "$NODE_LOG"
    check "... with mode 0600" test "$(stat -c %a "$T_TMP/gen/signer.key")" = 600
    check "... whose address (not a dev signer) is refused" wait_log "$NODE_LOG" 'not an authorised signer' 5
    stop "$NODE_PID"
    chmod 644 "$T_TMP/gen/signer.key"
    "$E" -c "$T_TMP/gen.yaml" --datadir "$T_TMP/gen" --rpc-port 0 --p2p-port 0 >"$T_TMP/gen2.log" 2>&1; rc=$?
    check "a key file others can read stops the node (exit $rc), saying chmod 600" \
        bash -c "[ $rc -ne 0 ] && grep -q 'chmod 600' '$T_TMP/gen2.log'"
else
    not_ok "a node with generate_key starts"; cat "$NODE_LOG"
fi
printf 'node: {mode: dev}\nplugins: {load: [clique]}\nchain: {genesis: dev}\nservices:\n  clique-sealer: {}\n' >"$T_TMP/nokey.yaml"
"$E" -c "$T_TMP/nokey.yaml" --datadir "$T_TMP/nokey" --rpc-port 0 --p2p-port 0 >"$T_TMP/nokey.log" 2>&1; rc=$?
check "no key at all stops the node (exit $rc) naming key, key_file and generate_key" \
    bash -c "[ $rc -ne 0 ] && grep -q 'no signer key: .*/signer.key does not exist (set key or key_file, or generate_key: true' '$T_TMP/nokey.log'"

# ---- configuration errors ----
printf 'node: {mode: dev}\nplugins: {load: [clique]}\nservices:\n  clique-sealer: {key: "%s"}\n' "$OTHER_KEY" >"$T_TMP/nochain.yaml"
"$E" -c "$T_TMP/nochain.yaml" --datadir "$T_TMP/nochain" --rpc-port 0 --p2p-port 0 >"$T_TMP/nochain.log" 2>&1; rc=$?
check "a sealer without a chain refuses to start (exit $rc): needs a chain: set chain.genesis" \
    bash -c "[ $rc -ne 0 ] && grep -q 'clique-sealer needs a chain: set chain.genesis' '$T_TMP/nochain.log'"
printf 'plugins: {load: [clique]}\nchain: {genesis: dev}\nservices:\n  clique-sealer:\n    key: "%s"\n    period: 1500ms\n' "$OTHER_KEY" >"$T_TMP/period.yaml"
"$E" -c "$T_TMP/period.yaml" --datadir "$T_TMP/period" --rpc-port 0 --p2p-port 0 >"$T_TMP/period.log" 2>&1; rc=$?
check "a period that is not whole seconds is a located config error (exit 2)" \
    bash -c "[ $rc -eq 2 ] && grep -q 'period.yaml:6:13: services.clique-sealer.period must be whole seconds' '$T_TMP/period.log'"
printf 'plugins: {load: [clique]}\nchain: {genesis: dev}\nservices:\n  clique-sealer: {key: "0x1234"}\n' >"$T_TMP/badkey.yaml"
"$E" -c "$T_TMP/badkey.yaml" --datadir "$T_TMP/badkey" --rpc-port 0 --p2p-port 0 >"$T_TMP/badkey.log" 2>&1; rc=$?
check "a malformed key is a located config error (exit 2)" \
    bash -c "[ $rc -eq 2 ] && grep -q 'badkey.yaml:4:24: services.clique-sealer.key must be a secp256k1 private key' '$T_TMP/badkey.log'"

# ---- a slower period ----
printf 'plugins: {load: [clique]}\nchain: {genesis: dev}\nservices:\n  clique-sealer:\n    key: "%s"\n    period: 2s\n' \
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" >"$T_TMP/slow.yaml"
if start_node slow -c "$T_TMP/slow.yaml" --datadir "$T_TMP/slow"; then
    if wait_log "$NODE_LOG" 'sealed block number=3 ' 12; then
        # Timestamps are max(parent + period, now): never closer than 2 s
        # (a busy machine may make them later, never earlier).
        iv=$(sed -n 's/.*sealed block number=[23] .* interval=\([0-9]*\)s .*/\1/p' "$NODE_LOG" | tr '\n' ' ')
        check "period: 2s seals blocks at least 2 s apart (intervals: $iv)" \
            bash -c "set -- $iv; [ \$# -eq 2 ] && [ \$1 -ge 2 ] && [ \$2 -ge 2 ]"
    else
        not_ok "period: 2s seals blocks 1..3 within 12 s"; tail "$NODE_LOG"
    fi
    stop "$NODE_PID"
else
    not_ok "a node with period: 2s starts"; cat "$NODE_LOG"
fi

# ---- a second node follows the dev chain (eth) ----
# B (mode full, eth, no sealer) holds the dev chain so far (ethd import) and
# listens; A, the dev node with eth and a 4 s period, dials it at start, so
# B is connected before A's next block and gets every new one announced.
GENESIS=$ETHD_SRCDIR/etc/dev-genesis.json
cat >"$T_TMP/a.yaml" <<YAML
node: {mode: dev}
plugins: {load: [eth, clique]}
chain: {genesis: dev}
services:
  eth: {}
  clique-sealer: {key: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", period: 4s}
YAML
cat >"$T_TMP/b.yaml" <<YAML
node: {mode: full, datadir: "$T_TMP/full"}
plugins: {load: [eth]}
chain: {genesis: "$GENESIS"}
services:
  eth: {}
YAML
# A seals once more now, so that its head is recent when it restarts.
if start_node pre -c "$T_TMP/a.yaml" --datadir "$D"; then
    wait_log "$NODE_LOG" 'sealed block number=' 10
    stop "$NODE_PID"
fi
"$E" -c "$T_TMP/a.yaml" --datadir "$D" export "$T_TMP/sofar.rlp" 2>/dev/null
"$E" -c "$T_TMP/b.yaml" import "$T_TMP/sofar.rlp" 2>"$T_TMP/bimport.log"; rc=$?
H=$(sed -n 's/.*import done blocks=[0-9]* new=[0-9]* head=\([0-9]*\) .*/\1/p' "$T_TMP/bimport.log")
check "the follower's data dir holds the dev chain up to block $H" test $rc -eq 0 -a -n "$H"
if start_node full -c "$T_TMP/b.yaml"; then
    BP=$NODE_PORT; BPID=$NODE_PID; BLOG=$NODE_LOG
    BENODE=$(sed -n 's/.*p2p node enode=\(enode:[^ ]*\).*/\1/p' "$BLOG" | head -1)
    if start_node dev3 -c "$T_TMP/a.yaml" --datadir "$D" --static-peer "$BENODE"; then
        AP=$NODE_PORT; APID=$NODE_PID
        target=$((H + 2))
        i=0
        while [ $i -lt 600 ] && [ "$(block_number $BP)" -lt "$target" ]; do sleep 0.1; i=$((i + 1)); done
        fn=$(block_number $BP)
        # Two ethd nodes speak eth/69, which has no NewBlock: each
        # BlockRangeUpdate is the announcement, and the follower fetches
        # the block it names (GetBlockHeaders, GetBlockBodies).
        ver=$(call $BP admin_peers | jq -r '.[0].protocols.eth.version // empty')
        check "a full node (eth/$ver, no sealer) follows the dev node's new blocks to $target (at $fn)" \
            test "$fn" -ge "$target"
        tx=$(printf '0x%x' "$target")
        h1=$(call $AP eth_getBlockByNumber "[\"$tx\", false]" | jq -r .hash)
        h2=$(call $BP eth_getBlockByNumber "[\"$tx\", false]" | jq -r .hash)
        check "... with the same block $target ($h2)" test -n "$h2" -a "$h1" = "$h2"
        check "... the follower seals nothing of its own" bash -c "! grep -q 'sealed block' '$BLOG'"
        stop "$APID"
    else
        not_ok "the dev node starts with the follower as static peer"; cat "$NODE_LOG"
    fi
    stop "$BPID"
else
    not_ok "a full node (the follower) starts"; cat "$NODE_LOG"
fi
finish
