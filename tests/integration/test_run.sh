#!/bin/bash
# The node on its embedded default: RPC built-ins, the example plugin, bad
# requests, the data-dir lock, graceful stop, restart, and SIGTERM during
# start-up (including the forced exit on a second signal).
. "$(dirname "$0")/lib.sh"
D="$T_TMP/data"

if ! start_node a --datadir "$D"; then
    not_ok "default node starts"; cat "$NODE_LOG"; finish; exit 1
fi
ok "default node starts (RPC on 127.0.0.1:$NODE_PORT)"
P=$NODE_PORT; A=$NODE_PID; ALOG=$NODE_LOG

check "rpc_modules lists admin, clique, eth, ethd, example, net, rpc, txpool, web3" \
    test "$(call $P rpc_modules | jq -c 'keys')" = '["admin","clique","eth","ethd","example","net","rpc","txpool","web3"]'
check "the default runs the dev chain: the clique-sealer seals with the dev key" \
    test "$(call $P clique_sealerStatus | jq -r '[.state, .signer] | join(",")')" = "sealing,0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
check "... on chain id 1337 (eth_chainId)" test "$(call $P eth_chainId)" = '"0x539"'
check "ethd_plugins: example plugin loaded, service running" \
    test "$(call $P ethd_plugins | jq -r '[.plugins[0].name, .services[0].name, .services[0].state, ([.protocols[].name] | index("exa") != null)] | join(",")')" = "example,example,running,true"
check "example_greet uses the configured greeting" \
    test "$(call $P example_greet '["Ada"]')" = '"Hello from ethd, Ada!"'
check "example_echo returns its argument" \
    test "$(call $P example_echo '[{"a":[1,2]}]')" = '{"a":[1,2]}'
check "web3_sha3 is Keccak-256" \
    test "$(call $P web3_sha3 '["0x68656c6c6f20776f726c64"]')" = '"0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad"'
v=$(call $P web3_clientVersion)
check "web3_clientVersion names ethd ($v)" test "${v#\"ethd/v}" != "$v"
check "web3_sha3 rejects non-hex with -32602" \
    test "$(call $P web3_sha3 '["0xzz"]' | jq .code)" = -32602
check "unknown method -> -32601" test "$(call $P eth_nothing | jq .code)" = -32601
check "malformed JSON -> -32700" \
    test "$(rpc $P '{"jsonrpc":"2.0",' | jq .error.code)" = -32700
check "batch keeps ids and mixes results and errors" \
    test "$(rpc $P '[{"jsonrpc":"2.0","id":"x","method":"example_echo","params":[5]},{"jsonrpc":"2.0","id":7,"method":"nope"},{"jsonrpc":"2.0","method":"example_echo","params":[1]}]' | jq -c '[.[] | [.id, (.result // .error.code)]]')" = '[["x",5],[7,-32601]]'
head -c 6000000 /dev/zero | tr '\0' ' ' >"$T_TMP/big.json"
check "a body over rpc.max_body (5 MiB) gets HTTP 413" test "$(rpc_status $P "$T_TMP/big.json")" = 413
check "the node still answers after the oversized request" \
    test "$(call $P example_echo '[1]')" = 1

# A second node on the same data directory is refused, clearly.
"$ETHD_BIN" --datadir "$D" --rpc-port 0 --p2p-port 0 >"$T_TMP/second.log" 2>&1
rc=$?
check "second node on the same datadir exits 1" test $rc -eq 1
check "... saying the data dir is in use by pid $A" grep -q "is in use by another ethd (pid $A)" "$T_TMP/second.log"

kill -TERM "$A"; wait_exit "$A" 10
check "SIGTERM stops the node cleanly (exit 0)" test "$EXIT_CODE" -eq 0
check "... stopping the service and closing the store" \
    bash -c "grep -q 'service stopped service=example' '$ALOG' && grep -q 'store closed' '$ALOG' && grep -q '\[node\] stopped' '$ALOG'"

if start_node b --datadir "$D"; then
    ok "restart on the same data dir"
    check "... and serves again" test "$(call $NODE_PORT example_echo '[2]')" = 2
    kill -INT "$NODE_PID"; wait_exit "$NODE_PID" 10
    check "SIGINT stops it cleanly" test "$EXIT_CODE" -eq 0
else
    not_ok "restart on the same data dir"; cat "$NODE_LOG"
fi

# SIGTERM while a service is still starting: the node unwinds what it did.
cat >"$T_TMP/slow.yaml" <<YAML
node: {datadir: "$T_TMP/slow"}
plugins: {load: [lifecycle]}
services:
  lc-a: {trace: "$T_TMP/trace", start_delay: 2s}
  lc-b: {trace: "$T_TMP/trace"}
YAML
"$ETHD_BIN" -c "$T_TMP/slow.yaml" --rpc-port 0 --p2p-port 0 >"$T_TMP/slow.log" 2>&1 &
S=$!; T_PIDS="$T_PIDS $S"
for i in $(seq 50); do grep -q "start lc-a" "$T_TMP/trace" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$S"; wait_exit "$S" 10
check "SIGTERM during start-up exits 0" test "$EXIT_CODE" -eq 0
check "... reporting the interrupted start-up" grep -q "start-up interrupted" "$T_TMP/slow.log"
check "... having stopped and destroyed what had started, in reverse" \
    test "$(tr '\n' ' ' <"$T_TMP/trace")" = "create lc-a create lc-b start lc-a stop lc-a destroy lc-b destroy lc-a "

# Two signals: the second forces the exit even while start-up is blocked.
rm -f "$T_TMP/trace"
sed -i 's/start_delay: 2s/start_delay: 20s/' "$T_TMP/slow.yaml"
"$ETHD_BIN" -c "$T_TMP/slow.yaml" --rpc-port 0 --p2p-port 0 >"$T_TMP/slow2.log" 2>&1 &
S=$!; T_PIDS="$T_PIDS $S"
for i in $(seq 50); do grep -q "start lc-a" "$T_TMP/trace" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$S"; sleep 0.2; kill -TERM "$S"; wait_exit "$S" 5
check "a second signal forces exit (130) without waiting" test "$EXIT_CODE" -eq 130
finish
