# Shared helpers for the integration tests: start ethd processes on loopback,
# wait for their RPC, call it, and report TAP-style "ok"/"not ok" lines.
# Sourced by tests/integration/test_*.sh; every wait is bounded.
set -u
: "${ETHD_BIN:?run through make check}"
: "${ETHD_BUILDDIR:?run through make check}"
: "${ETHD_SRCDIR:?run through make check}"
export ETHD_PLUGIN_PATH="$ETHD_BUILDDIR/plugins/example:$ETHD_BUILDDIR/tests/plugin"

T_PASS=0
T_FAIL=0
T_TMP=$(mktemp -d /tmp/ethd-it-XXXXXX)
T_PIDS=""

cleanup() {
    for p in $T_PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T_TMP"
}
trap cleanup EXIT

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
finish() {
    echo "# $T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
}

# start_node NAME ARGS...: run ethd in the background with RPC on a free port;
# sets NODE_PID and NODE_LOG. Waits (≤ 15 s) until RPC answers; returns 1 if
# the process died or never listened.
start_node() {
    name=$1; shift
    NODE_LOG="$T_TMP/$name.log"
    # Port 0 for both RPC and p2p: tests run in parallel and must never collide.
    "$ETHD_BIN" --rpc-port 0 --p2p-port 0 "$@" >"$NODE_LOG" 2>&1 &
    NODE_PID=$!
    T_PIDS="$T_PIDS $NODE_PID"
    i=0
    while [ $i -lt 150 ]; do
        NODE_PORT=$(sed -n 's/.*rpc listening host=[^ ]* port=\([0-9]*\).*/\1/p' "$NODE_LOG" | head -1)
        [ -n "$NODE_PORT" ] && return 0
        kill -0 "$NODE_PID" 2>/dev/null || return 1
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# wait_exit PID SECONDS: wait for PID to exit; sets EXIT_CODE (124 on timeout).
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$1" 2>/dev/null; then EXIT_CODE=124; kill -9 "$1"; wait "$1" 2>/dev/null; return; fi
    wait "$1"; EXIT_CODE=$?
}

# rpc PORT BODY: POST a JSON body; prints the response body.
rpc() {
    curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary "$2" "http://127.0.0.1:$1/"
}
# rpc_status PORT BODY-FILE: prints only the HTTP status.
rpc_status() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        --data-binary "@$2" "http://127.0.0.1:$1/"
}
# call PORT METHOD PARAMS-JSON: prints .result (or the error object) compactly.
call() {
    rpc "$1" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":${3:-[]}}" | jq -c 'if has("result") then .result else .error end'
}
