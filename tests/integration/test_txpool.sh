#!/bin/bash
# Transactions between ethd nodes (plugins/eth/txpool.c, eth_txrelay.c):
#   - eth_sendRawTransaction on node A; A's pool has it; node B (A's peer)
#     gets it as a whole Transactions message; sending it again to B is
#     "already known";
#   - RPC bad input: bad hex, garbage, wrong chain id, a signature no key
#     recovers, too little gas: clear errors, nothing pooled;
#   - a scripted eth/68 peer (eth_probe) is announced the pool on connect
#     (NewPooledTransactionHashes with types and sizes), fetches a tx with
#     GetPooledTransactions (and gets nothing for an unknown hash), and sends
#     a tx in a Transactions message, which A pools and relays to B;
#   - garbage in Transactions drops that peer only; A keeps serving B;
#   - node C joins late: A announces its pool, C fetches every tx with
#     GetPooledTransactions (the announcement path between ethd nodes);
#   - an eth/66 peer gets the announcement in the hashes-only form;
#   - node D (blocks 1..298) pools three txs of blocks 299 and 300; when a
#     peer brings those blocks (NewBlock), they leave D's pool.
# Loopback only; every wait is bounded.
. "$(dirname "$0")/lib.sh"

FIX="${ETHD_FIXTURES:-$ETHD_SRCDIR/../shared/fixtures}/devnet-a"
PROBE="$ETHD_BUILDDIR/tests/integration/eth_probe"
SIGN="$ETHD_BUILDDIR/tests/integration/txsign"
for f in "$FIX/genesis.json" "$FIX/chain.rlp" "$PROBE" "$SIGN"; do
    [ -e "$f" ] || { not_ok "needs $f"; finish; exit 1; }
done
CHAIN_ID=$(jq .config.chainId "$FIX/genesis.json")
KEY1=0x$(printf '11%.0s' $(seq 32))
KEY2=0x$(printf '22%.0s' $(seq 32))
KEY3=0x$(printf '33%.0s' $(seq 32))
probe() { n=$1; shift; timeout 60 "$PROBE" "$ENODE" "$@" >"$T_TMP/$n.ev" 2>"$T_TMP/$n.err"; }
ev() { jq -c "select($2)" "$T_TMP/$1.ev" 2>/dev/null | head -1; }
has() { [ -n "$(ev "$1" "$2")" ]; }
dump() { for f in "$@"; do echo "# --- $f"; sed 's/^/#   /' "$f" | tail -30 | cut -c1-300; done; }
enode_of() { sed -En 's/.*p2p node enode=(enode:[^ ]*).*/\1/p' "$1" | head -1; }
node_cfg() { # node_cfg NAME DATADIR STATIC-PEERS
    cat >"$T_TMP/$1.yaml" <<YAML
node: {datadir: "$2", mode: full}
log: {level: debug}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth]}
rpc: {port: 0}
p2p: {port: 0, static_peers: [$3]}
services:
  eth: {status_timeout: 2s}
YAML
}
pending() { call "$1" txpool_status | jq -r .pending; }
# wait_pending PORT N: up to 20 s for the pool to hold N txs.
wait_pending() {
    i=0
    while [ $i -lt 200 ]; do
        [ "$(pending "$1")" = "$(printf '0x%x' "$2")" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
wait_peers() { # wait_peers PORT N
    i=0
    while [ $i -lt 200 ]; do
        [ "$(call "$1" admin_peers | jq '[.[] | select(.protocols.eth.head)] | length')" -ge "$2" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# ---- nodes A and B (B dials A) ----
for n in a b c; do
    "$ETHD_BIN" --datadir "$T_TMP/$n" init --genesis "$FIX/genesis.json" >"$T_TMP/init-$n.log" 2>&1 ||
        { not_ok "ethd init $n"; dump "$T_TMP/init-$n.log"; finish; exit 1; }
done
# D holds blocks 1..298 (exported from a full copy before any node runs).
"$ETHD_BIN" --datadir "$T_TMP/d" init --genesis "$FIX/genesis.json" >"$T_TMP/init-d.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$T_TMP/a" import "$FIX/chain.rlp" >"$T_TMP/import-a0.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$T_TMP/a" export "$T_TMP/c298.rlp" 1 298 >"$T_TMP/export.log" 2>&1 &&
    "$ETHD_BIN" --datadir "$T_TMP/d" import "$T_TMP/c298.rlp" >"$T_TMP/import-d.log" 2>&1 ||
    { not_ok "node D's data dir (blocks 1..298)"; dump "$T_TMP"/*.log; finish; exit 1; }
# All three hold devnet-a: a pool checks txs against the rules at its own
# head (London from block 10 here), so an unsynced node would refuse type 2.
for n in b c; do
    "$ETHD_BIN" --datadir "$T_TMP/$n" import "$FIX/chain.rlp" >"$T_TMP/import-$n.log" 2>&1 ||
        { not_ok "import devnet-a into $n"; dump "$T_TMP/import-$n.log"; finish; exit 1; }
done
node_cfg a "$T_TMP/a" ""
start_node a -c "$T_TMP/a.yaml" || { not_ok "node A starts"; dump "$NODE_LOG"; finish; exit 1; }
A_RPC=$NODE_PORT; A_LOG=$NODE_LOG
ENODE=$(enode_of "$A_LOG")
node_cfg b "$T_TMP/b" "\"$ENODE\""
start_node b -c "$T_TMP/b.yaml" || { not_ok "node B starts"; dump "$NODE_LOG"; finish; exit 1; }
B_RPC=$NODE_PORT; B_LOG=$NODE_LOG
check "B is A's eth peer" wait_peers "$A_RPC" 1

check "txpool_status of an empty pool: pending 0x0, queued 0x0" \
    test "$(call "$A_RPC" txpool_status)" = '{"pending":"0x0","queued":"0x0"}'

# ---- eth_sendRawTransaction on A reaches B ----
read -r RAW1 HASH1 _ < <("$SIGN" --key "$KEY1" --nonce 0 --chain-id "$CHAIN_ID" --type 2)
check "eth_sendRawTransaction answers the tx hash" \
    test "$(call "$A_RPC" eth_sendRawTransaction "[\"$RAW1\"]")" = "\"$HASH1\""
check "A's pool holds it (pending 0x1)" test "$(pending "$A_RPC")" = 0x1
check "B's pool gets it from A (Transactions)" wait_pending "$B_RPC" 1
check "... the same tx again at B: error -32000 'already known'" \
    test "$(call "$B_RPC" eth_sendRawTransaction "[\"$RAW1\"]")" = '{"code":-32000,"message":"already known"}'
check "A logs the submission" grep -q "tx submitted hash=$HASH1" "$A_LOG"

# ---- RPC bad input ----
err_code() { call "$A_RPC" eth_sendRawTransaction "$1" | jq -r .code; }
err_msg() { call "$A_RPC" eth_sendRawTransaction "$1" | jq -r .message; }
check "bad hex: -32602" test "$(err_code '["0xzz"]')" = -32602
check "no parameter: -32602" test "$(err_code '[]')" = -32602
check "empty data: -32602" test "$(err_code '["0x"]')" = -32602
check "garbage bytes: -32000 'transaction does not decode'" \
    test "$(err_msg '["0xc3010203"]')" = "transaction does not decode"
read -r RAWC _ _ < <("$SIGN" --key "$KEY2" --nonce 0 --chain-id 1 --type 2)
check "wrong chain id: refused" test "$(err_msg "[\"$RAWC\"]")" = "invalid chain id or fee fields"
read -r RAWS _ _ < <("$SIGN" --key "$KEY2" --nonce 0 --chain-id "$CHAIN_ID" --bad-sig)
check "a signature no key recovers: 'invalid sender'" test "$(err_msg "[\"$RAWS\"]")" = "invalid sender"
read -r RAWG _ _ < <("$SIGN" --key "$KEY2" --nonce 0 --chain-id "$CHAIN_ID" --gas 20000)
check "gas below 21000: refused" test "$(err_code "[\"$RAWG\"]")" = -32000
check "nothing of that was pooled (pending still 0x1)" test "$(pending "$A_RPC")" = 0x1

# ---- a scripted eth/68 peer ----
read -r RAW2 HASH2 MSG2 < <("$SIGN" --key "$KEY2" --nonce 0 --chain-id "$CHAIN_ID" --type 0 --fee 2000000000)
UNKNOWN=$(printf 'ab%.0s' $(seq 32))
# GetPooledTransactions [1111, [HASH1, unknown]]
GPT="f847820457f842a0${HASH1#0x}a0$UNKNOWN"
probe p68 --caps 68 listen 1 raw 0x09 "$GPT" listen 1 raw 0x02 "$MSG2" listen 1
ANN=$(ev p68 '.ev == "msg" and .code == 8')
check "on connect the probe is announced the pool (NewPooledTransactionHashes with HASH1)" \
    sh -c "echo '$ANN' | jq -r .hex | grep -q '${HASH1#0x}'"
# eth/68 form: [types, [sizes], [hashes]]: types = 0x02 (one byte: 02), size = len(RAW1)
LEN1=$(( (${#RAW1} - 2) / 2 ))
# [types "02", [size], [hash]]: the size list is c1 LEN (LEN < 128) or c2 81 LEN.
if [ "$LEN1" -lt 128 ]; then SIZES=$(printf 'c1%02x' "$LEN1"); else SIZES=$(printf 'c281%02x' "$LEN1"); fi
BODY="02${SIZES}e1a0${HASH1#0x}"
WANT_ANN=$(printf '%02x' $((0xc0 + ${#BODY} / 2)))$BODY
check "... exactly [0x02, [$LEN1], [HASH1]] (eth/68: type and canonical size)" \
    test "$(echo "$ANN" | jq -r .hex)" = "$WANT_ANN"
POOLED=$(ev p68 '.ev == "msg" and .code == 10')
check "GetPooledTransactions: PooledTransactions with id 1111 and HASH1's tx (unknown hash skipped)" \
    sh -c "echo '$POOLED' | jq -r .hex | grep -q '^f.*820457' && echo '$POOLED' | jq -r .hex | grep -q '${RAW1#0x}' && test \"\$(echo '$POOLED' | jq .len)\" -lt $((LEN1 + 20))"
check "a tx sent by the peer (Transactions) is pooled by A" wait_pending "$A_RPC" 2
check "... and relayed to B" wait_pending "$B_RPC" 2
check "... not sent back to the peer that sent it" \
    bash -c "! grep -q '${RAW2#0x}' <(jq -r 'select(.ev == \"msg\" and .code == 2) | .hex' '$T_TMP/p68.ev')"

# ---- garbage transactions ----
probe garb --caps 68 raw 0x02 "c382c001" listen 3
check "a Transactions item that is a string holding a list: peer dropped (ProtocolError)" \
    has garb '.ev == "disconnect" and .reason == 2'
probe garb2 --caps 68 raw 0x02 "c20101" listen 3
check "a Transactions item that is not a transaction: peer dropped (ProtocolError)" \
    has garb2 '.ev == "disconnect" and .reason == 2'
probe garb3 --caps 68 raw 0x08 "c3c0c0c0" listen 3
check "a malformed NewPooledTransactionHashes: peer dropped" has garb3 '.ev == "disconnect"'
read -r RAW3 HASH3 MSG3 < <("$SIGN" --key "$KEY3" --nonce 5 --chain-id 1 --type 2)
probe inval --caps 68 raw 0x02 "$MSG3" listen 1 ping
check "a well-formed but invalid tx (wrong chain id) is dropped, the peer kept" \
    has inval '.ev == "pong"'
check "pools still hold exactly 2 on A and B" \
    test "$(pending "$A_RPC")/$(pending "$B_RPC")" = 0x2/0x2

# ---- node C joins later: announcement + GetPooledTransactions ----
node_cfg c "$T_TMP/c" "\"$ENODE\""
start_node c -c "$T_TMP/c.yaml" || { not_ok "node C starts"; dump "$NODE_LOG"; }
C_RPC=$NODE_PORT; C_LOG=$NODE_LOG
check "C fetches both txs announced by A" wait_pending "$C_RPC" 2
check "C's log shows the fetch answered (PooledTransactions)" \
    grep -q 'txs received .*msg=PooledTransactions added=' "$C_LOG"

# ---- eth/66: hashes-only announcements ----
probe p66 --caps 66 listen 1
ANN66=$(ev p66 '.ev == "msg" and .code == 8')
check "an eth/66 peer gets [hash, ...] (no types, no sizes)" \
    sh -c "echo '$ANN66' | jq -r .hex | grep -Eq '^f8(42|44)a0' && echo '$ANN66' | jq -r .hex | grep -q '${HASH1#0x}'"

# ---- included transactions leave the pool ----
cat >"$T_TMP/d.yaml" <<YAML
node: {datadir: "$T_TMP/d", mode: full}
log: {level: debug}
chain: {genesis: "$FIX/genesis.json"}
plugins: {load: [eth]}
rpc: {port: 0}
p2p: {port: 0}
services:
  eth: {}
YAML
if start_node d -c "$T_TMP/d.yaml"; then
    D_RPC=$NODE_PORT; D_LOG=$NODE_LOG
    n_ok=0
    for bi in "299 0" "299 1" "300 1"; do
        set -- $bi
        read -r RAWX HASHX < <("$SIGN" --from-chain "$FIX/chain.rlp" --block "$1" --index "$2")
        [ "$(call "$D_RPC" eth_sendRawTransaction "[\"$RAWX\"]")" = "\"$HASHX\"" ] && n_ok=$((n_ok + 1))
    done
    check "D pools three txs of blocks 299 and 300 (types 2, 1, 0)" test "$n_ok/$(pending "$D_RPC")" = 3/0x3
    SAVE=$ENODE; ENODE=$(enode_of "$D_LOG")
    probe inc --chain "$FIX/chain.rlp" newblock 299 599 newblock 300 601 listen 2
    ENODE=$SAVE
    check "D imports blocks 299 and 300 from the peer" \
        sh -c "test \"\$(curl -s -H 'Content-Type: application/json' --data-binary '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\",\"params\":[]}' http://127.0.0.1:$D_RPC/ | jq -r .result)\" = 0x12c"
    check "... and its pool drops the three included txs (pending 0x0)" wait_pending "$D_RPC" 0
else
    not_ok "node D starts"; dump "$NODE_LOG"
fi

check "A still answers RPC after all of it (eth_blockNumber 0x12c)" \
    test "$(call "$A_RPC" eth_blockNumber)" = '"0x12c"'
check "B is still A's peer" wait_peers "$A_RPC" 2
finish
