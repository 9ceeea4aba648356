#!/bin/bash
# The SDK as a third-party author uses it: install ethd into a temporary
# prefix, build plugins/example/example.c out of tree with nothing but
# `pkg-config ethd-plugin`, then load it into ethd and call its RPC.
. "$(dirname "$0")/lib.sh"
DEST="$T_TMP/root"
if ! make -s -C "$ETHD_BUILDDIR" install DESTDIR="$DEST" >"$T_TMP/install.log" 2>&1; then
    not_ok "make install into a temporary root"; tail -20 "$T_TMP/install.log"; finish; exit 1
fi
ok "make install into a temporary root"
prefix=$(sed -n 's/^prefix=//p' "$ETHD_BUILDDIR/ethd-plugin.pc")
PC="pkg-config --define-variable=prefix=$DEST$prefix"
export PKG_CONFIG_PATH="$DEST$prefix/lib/pkgconfig"
check "ethd-plugin.pc is installed and found" $PC --exists ethd-plugin
inc="$DEST$prefix/include/ethd"
check "public headers are installed (plugin.h, rpc.h, rlp.h, keccak.h)" \
    test -f "$inc/plugin.h" -a -f "$inc/rpc.h" -a -f "$inc/rlp.h" -a -f "$inc/keccak.h"

mkdir -p "$T_TMP/oot"
cp "$ETHD_SRCDIR/plugins/example/example.c" "$T_TMP/oot/"
if cc -std=gnu11 -Wall -Werror -shared -fPIC -o "$T_TMP/oot/example.so" "$T_TMP/oot/example.c" \
        $($PC --cflags --libs ethd-plugin) 2>"$T_TMP/cc.log"; then
    ok "example.c builds out of tree with pkg-config --cflags --libs ethd-plugin"
else
    not_ok "example.c builds out of tree"; cat "$T_TMP/cc.log"; finish; exit 1
fi
# Every installed header compiles on its own (no hidden include-order needs).
hdr_ok=1
for h in "$inc"/*.h; do
    echo "#include <ethd/$(basename "$h")>" | cc -std=gnu11 -fsyntax-only -Werror -x c - $($PC --cflags ethd-plugin) 2>>"$T_TMP/hdr.log" || { hdr_ok=0; echo "# $h"; }
done
check "each installed header is self-contained" test $hdr_ok -eq 1

# Load the out-of-tree build (and only it) into the node.
export ETHD_PLUGIN_PATH="$T_TMP/oot"
"$ETHD_BIN" plugins >"$T_TMP/list" 2>&1
check "'ethd plugins' finds the out-of-tree build" grep -q "$T_TMP/oot/example.so" "$T_TMP/list"
printf 'node: {datadir: "%s"}\nplugins: {load: [example]}\nservices:\n  example: {greeting: Ahoy}\n' "$T_TMP/d" >"$T_TMP/oot.yaml"
if start_node oot -c "$T_TMP/oot.yaml"; then
    check "the out-of-tree plugin is the one loaded" grep -q "file=$T_TMP/oot/example.so" "$NODE_LOG"
    check "its RPC answers with the configured greeting" \
        test "$(call $NODE_PORT example_greet '["SDK"]')" = '"Ahoy, SDK!"'
    kill -TERM "$NODE_PID"; wait_exit "$NODE_PID" 10
    check "and the node stops cleanly" test "$EXIT_CODE" -eq 0
else
    not_ok "node starts with the out-of-tree plugin"; cat "$NODE_LOG"
fi
finish
