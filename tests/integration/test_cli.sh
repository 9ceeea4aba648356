#!/bin/bash
# The command line and configuration errors as a user meets them: --help,
# --version, usage errors, --check-config on good and broken files (with
# FILE:LINE:COL), `ethd plugins`, and the RPC namespace allow-list.
. "$(dirname "$0")/lib.sh"
E=$ETHD_BIN

out=$("$E" --help); rc=$?
check "--help exits 0 and shows usage" bash -c "[ $rc -eq 0 ] && grep -q '^Usage: ethd' <<<'$out'"
check "--version prints version and ABI" bash -c "'$E' --version | grep -Eq '^ethd [0-9.]+ \\(plugin ABI [0-9]+\\)$'"
"$E" --bogus >/dev/null 2>"$T_TMP/err"; rc=$?
check "an unknown option exits 2 with a message" bash -c "[ $rc -eq 2 ] && grep -q 'unknown option --bogus' '$T_TMP/err'"
"$E" --rpc-port >/dev/null 2>"$T_TMP/err"; rc=$?
check "a flag without its value exits 2" bash -c "[ $rc -eq 2 ] && grep -q 'needs a value' '$T_TMP/err'"

check "--check-config accepts etc/ethd.yaml" bash -c "'$E' --check-config -c '$ETHD_SRCDIR/etc/ethd.yaml' | grep -q 'configuration OK'"
check "--check-config accepts the embedded default" bash -c "'$E' --check-config | grep -q 'configuration OK: <embedded default>'"

# bad_config NAME EXPECTED-SUBSTRING YAML: --check-config must exit 2 saying so.
bad_config() {
    printf '%s' "$3" >"$T_TMP/$1.yaml"
    "$E" --check-config -c "$T_TMP/$1.yaml" >/dev/null 2>"$T_TMP/$1.err"; rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$2" "$T_TMP/$1.err"; then ok "check-config rejects $1: $(cat "$T_TMP/$1.err")"
    else not_ok "check-config rejects $1 (rc=$rc, wanted '$2', got '$(cat "$T_TMP/$1.err")')"; fi
}
bad_config broken-yaml "$T_TMP/broken-yaml.yaml:3:1: did not find expected ','" $'rpc:\n  port: [1, 2\n'
bad_config bad-indent "$T_TMP/bad-indent.yaml:" $'rpc:\n  port: 1\n bad: 2\n'
bad_config unknown-key "$T_TMP/unknown-key.yaml:2:1: unknown key 'rcp'" $'node: {mode: dev}\nrcp: {port: 1}\n'
bad_config nested-unknown "unknown key 'prot' in rpc" $'rpc:\n  prot: 1\n'
bad_config wrong-type "$T_TMP/wrong-type.yaml:1:13:" $'rpc: {port: many}\n'
bad_config out-of-range "between 0 and 65535" $'rpc: {port: 65536}\n'
bad_config top-level-list "top level must be a mapping" $'- a\n- b\n'
bad_config missing-plugin "plugin 'nosuch' not found; searched:" $'plugins: {load: [nosuch]}\n'
bad_config no-such-service "service 'ghost' is not provided by any loaded plugin" $'services: {ghost: {}}\n'
bad_config bad-abi "built for ABI" $'plugins: {load: [badabi]}\n'
bad_config not-a-plugin "not an ethd plugin" $'plugins: {load: [notaplugin]}\n'
bad_config bad-log-level "log.level must be" $'log: {level: loud}\n'
"$E" --check-config -c "$T_TMP/does-not-exist.yaml" 2>"$T_TMP/err"; rc=$?
check "a missing config file exits 2 naming it" bash -c "[ $rc -eq 2 ] && grep -q 'does-not-exist.yaml' '$T_TMP/err'"
"$E" --check-config --rpc-port 99999 2>"$T_TMP/err"; rc=$?
check "a bad --rpc-port is reported against the command line" bash -c "[ $rc -eq 2 ] && grep -q '<command line>' '$T_TMP/err'"

# A service setting nobody reads stops the node at start, naming the line.
printf 'node: {datadir: "%s"}\nplugins: {load: [example]}\nservices:\n  example:\n    greting: hi\n' "$T_TMP/d1" >"$T_TMP/typo.yaml"
"$E" -c "$T_TMP/typo.yaml" --rpc-port 0 --p2p-port 0 >"$T_TMP/typo.log" 2>&1; rc=$?
check "a misspelt service key stops the node with FILE:LINE:COL" \
    bash -c "[ $rc -eq 2 ] && grep -q 'typo.yaml:5:5: unknown key .greting. in services.example' '$T_TMP/typo.log'"

"$E" plugins >"$T_TMP/plugins.out" 2>&1
check "'ethd plugins' lists the example plugin with its version" grep -Eq '^example +1\.0\.0 ' "$T_TMP/plugins.out"
env -u ETHD_PLUGIN_PATH "$E" plugins >"$T_TMP/plugins-bt.out" 2>&1
check "an uninstalled ethd finds the build tree's plugins without ETHD_PLUGIN_PATH" \
    grep -q "$ETHD_BUILDDIR/plugins/example/example.la" "$T_TMP/plugins-bt.out"
check "... and reports a broken file instead of failing" grep -q 'badabi .*built for ABI' "$T_TMP/plugins.out"

# The namespace allow-list hides what is not listed.
printf 'node: {datadir: "%s"}\nrpc: {namespaces: [rpc, web3]}\nplugins: {load: [example]}\nservices: {example: {}}\n' "$T_TMP/d2" >"$T_TMP/ns.yaml"
if start_node ns -c "$T_TMP/ns.yaml"; then
    check "rpc_modules shows only allowed namespaces" test "$(call $NODE_PORT rpc_modules | jq -c keys)" = '["rpc","web3"]'
    check "a method outside the allow-list is -32601" test "$(call $NODE_PORT example_echo '[1]' | jq .code)" = -32601
    kill -TERM "$NODE_PID"; wait_exit "$NODE_PID" 10
else
    not_ok "node with an allow-list starts"; cat "$NODE_LOG"
fi
# Every shipped configuration passes --check-config (its plugins load, no
# unknown keys), and --light without -c names the embedded light config.
G="${ETHD_FIXTURES:-$ETHD_SRCDIR/../shared/fixtures}/devnet-a/genesis.json"
check "etc/dev.yaml is valid" "$E" --check-config -c "$ETHD_SRCDIR/etc/dev.yaml"
check "etc/ethd.yaml is valid" "$E" --check-config -c "$ETHD_SRCDIR/etc/ethd.yaml"
check "etc/full.yaml is valid (with --genesis)" "$E" --check-config -c "$ETHD_SRCDIR/etc/full.yaml" --genesis "$G"
check "etc/light.yaml is valid" "$E" --check-config -c "$ETHD_SRCDIR/etc/light.yaml"
check "--light alone runs the embedded light config" \
    sh -c "'$E' --light --check-config 2>/dev/null | grep -q 'configuration OK: <embedded light config>'"
finish
