#!/bin/bash
# `ethd init / import / export` through the real binary on the devnet-a
# fixture: exit codes, messages, progress lines, byte-identical export, the
# valid prefix kept at a bad block, resumption, and the node opening the
# chain (and refusing another genesis).
. "$(dirname "$0")/lib.sh"
E=$ETHD_BIN
: "${ETHD_FIXTURES:?run through make check}"
F=$ETHD_FIXTURES/devnet-a
for f in genesis.json chain.rlp receipts.rlp expected.json; do
    [ -r "$F/$f" ] || { not_ok "fixture $F/$f is missing"; finish; exit 1; }
done
GENESIS_HASH=$(jq -r .genesisHash "$F/expected.json")
HEAD_HASH=$(jq -r .head.hash "$F/expected.json")
D=$T_TMP/data

# ---- init ----
"$E" --datadir "$D" init --genesis "$F/genesis.json" >"$T_TMP/init.out" 2>"$T_TMP/init.err"; rc=$?
check "init exits 0" test $rc -eq 0
check "... printing the fixture's genesis hash" grep -q "genesis $GENESIS_HASH (chain id 1337801)" "$T_TMP/init.out"
"$E" --datadir "$D" init --genesis "$F/genesis.json" >/dev/null 2>&1; rc=$?
check "init again with the same genesis exits 0" test $rc -eq 0
sed 's/"timestamp": "0x6553f100"/"timestamp": "0x6553f101"/' "$F/genesis.json" >"$T_TMP/other.json"
"$E" --datadir "$D" init --genesis "$T_TMP/other.json" >/dev/null 2>"$T_TMP/other.err"; rc=$?
check "init with another genesis over the chain exits 1" test $rc -eq 1
check "... naming both genesis hashes" bash -c "grep -q 'holds a chain with genesis $GENESIS_HASH' '$T_TMP/other.err' && grep -q 'other.json gives genesis 0x' '$T_TMP/other.err'"
"$E" --datadir "$D" init >/dev/null 2>"$T_TMP/err"; rc=$?
check "init without --genesis is a usage error (2)" bash -c "[ $rc -eq 2 ] && grep -q 'needs --genesis' '$T_TMP/err'"
echo '{"config": {"chainId": 1}, "bogus": 1}' >"$T_TMP/bad.json"
"$E" --datadir "$T_TMP/bad" init --genesis "$T_TMP/bad.json" >/dev/null 2>"$T_TMP/err"; rc=$?
check "init with a malformed genesis exits 2 naming the key" bash -c "[ $rc -eq 2 ] && grep -q 'bogus' '$T_TMP/err'"

# ---- import ----
"$E" --datadir "$D" import "$F/chain.rlp" --receipts "$F/receipts.rlp" >"$T_TMP/imp.out" 2>"$T_TMP/imp.log"; rc=$?
check "import with receipts exits 0" test $rc -eq 0
check "... logging progress with blocks/s and ETA" grep -Eq 'import progress blocks=300 new=300 head=300 rate=[0-9]+/s done=100.0% eta=' "$T_TMP/imp.log"
check "... ending at the fixture's head #300" grep -q "import done blocks=300 new=300 head=300 hash=$HEAD_HASH" "$T_TMP/imp.log"
"$E" --datadir "$D" import "$F/chain.rlp" >/dev/null 2>"$T_TMP/imp2.log"; rc=$?
check "importing the same file again is a no-op (resumable)" bash -c "[ $rc -eq 0 ] && grep -q 'import done blocks=300 new=0 head=300' '$T_TMP/imp2.log'"

# ---- export ----
"$E" --datadir "$D" export "$T_TMP/all.rlp" 2>"$T_TMP/exp.log"; rc=$?
check "export exits 0" test $rc -eq 0
check "... the whole chain byte-identical to chain.rlp" cmp -s "$T_TMP/all.rlp" "$F/chain.rlp"
check "... logging its progress" grep -q 'export progress block=300' "$T_TMP/exp.log"
"$E" --datadir "$D" export "$T_TMP/r.rlp" 1 300 2>/dev/null
check "export 1 300 is chain.rlp" cmp -s "$T_TMP/r.rlp" "$F/chain.rlp"
"$E" --datadir "$D" export "$T_TMP/r.rlp" 1 20 2>/dev/null
SIZE20=$(jq '[.blocks[0:20][].size] | add' "$F/expected.json")
check "export 1 20 is the first 20 blocks of chain.rlp" bash -c "[ \$(stat -c %s '$T_TMP/r.rlp') -eq $SIZE20 ] && cmp -s -n $SIZE20 '$T_TMP/r.rlp' '$F/chain.rlp'"
"$E" --datadir "$D" export "$T_TMP/r.rlp" 5 400 2>"$T_TMP/err"; rc=$?
check "export past the head is a usage error (2)" bash -c "[ $rc -eq 2 ] && grep -q 'the chain has blocks 0..300' '$T_TMP/err'"
"$E" --datadir "$D" export "$T_TMP/r.rlp" x 2>/dev/null; rc=$?
check "export with a non-number is a usage error (2)" test $rc -eq 2
"$E" --datadir "$D" import 2>"$T_TMP/err"; rc=$?
check "import without a file is a usage error (2)" bash -c "[ $rc -eq 2 ] && grep -q 'needs a chain file' '$T_TMP/err'"
"$E" --datadir "$T_TMP/empty" import "$F/chain.rlp" 2>"$T_TMP/err"; rc=$?
check "import into a data dir without a chain exits 1" bash -c "[ $rc -eq 1 ] && grep -q 'holds no chain' '$T_TMP/err'"
"$E" --datadir "$T_TMP/g" import "$F/chain.rlp" --genesis "$F/genesis.json" 2>/dev/null; rc=$?
check "import --genesis initialises an empty data dir" test $rc -eq 0

# ---- bad chain files: the valid prefix stays ----
# Truncated inside block 151.
CUT=$(( $(jq '[.blocks[0:150][].size] | add' "$F/expected.json") + 100 ))
head -c "$CUT" "$F/chain.rlp" >"$T_TMP/trunc.rlp"
"$E" --datadir "$T_TMP/t" import "$T_TMP/trunc.rlp" --genesis "$F/genesis.json" 2>"$T_TMP/trunc.log"; rc=$?
check "a truncated file exits 1" test $rc -eq 1
check "... naming the block: $(grep -o 'block 151: .*' "$T_TMP/trunc.log" | head -1)" grep -q 'ethd: block 151: the file ends inside the block (truncated)' "$T_TMP/trunc.log"
"$E" --datadir "$T_TMP/t" export "$T_TMP/t.rlp" 2>/dev/null
SIZE150=$(jq '[.blocks[0:150][].size] | add' "$F/expected.json")
check "... keeping blocks 1..150" bash -c "[ \$(stat -c %s '$T_TMP/t.rlp') -eq $SIZE150 ] && cmp -s -n $SIZE150 '$T_TMP/t.rlp' '$F/chain.rlp'"
"$E" --datadir "$T_TMP/t" import "$F/chain.rlp" 2>"$T_TMP/resume.log"; rc=$?
check "... and the full file resumes from #151" bash -c "[ $rc -eq 0 ] && grep -q 'import done blocks=300 new=150 head=300' '$T_TMP/resume.log'"

# Block 20 with one flipped byte in its last transaction's signature: the
# RLP stays well-formed, the transactions root no longer matches.
END20=$SIZE20
cp "$F/chain.rlp" "$T_TMP/bad.rlp"
OFF=$((END20 - 2)) # the byte before block 20's empty uncle list (0xc0)
B=$(od -An -tu1 -j "$OFF" -N1 "$F/chain.rlp" | tr -d ' ')
printf "$(printf '\\%03o' $(( B ^ 1 )))" | dd of="$T_TMP/bad.rlp" bs=1 seek="$OFF" conv=notrunc status=none
"$E" --datadir "$T_TMP/b" import "$T_TMP/bad.rlp" --genesis "$F/genesis.json" 2>"$T_TMP/bad.log"; rc=$?
check "a block whose transactions root does not match exits 1" test $rc -eq 1
check "... saying 'block 20: transactions root mismatch'" grep -q 'ethd: block 20: transactions root mismatch' "$T_TMP/bad.log"
"$E" --datadir "$T_TMP/b" export "$T_TMP/b.rlp" 2>/dev/null
SIZE19=$(jq '[.blocks[0:19][].size] | add' "$F/expected.json")
check "... keeping blocks 1..19" test "$(stat -c %s "$T_TMP/b.rlp")" -eq "$SIZE19"

# A gap: blocks 1..5 then 7..10.
"$E" --datadir "$D" export "$T_TMP/a.rlp" 1 5 2>/dev/null
"$E" --datadir "$D" export "$T_TMP/c.rlp" 7 10 2>/dev/null
cat "$T_TMP/a.rlp" "$T_TMP/c.rlp" >"$T_TMP/gap.rlp"
"$E" --datadir "$T_TMP/gap" import "$T_TMP/gap.rlp" --genesis "$F/genesis.json" 2>"$T_TMP/gap.log"; rc=$?
check "a gap exits 1 with 'block 7: unknown parent block'" bash -c "[ $rc -eq 1 ] && grep -q 'ethd: block 7: unknown parent block' '$T_TMP/gap.log'"

# Receipts that belong to other blocks.
"$E" --datadir "$T_TMP/rc" import "$F/chain.rlp" --receipts "$T_TMP/all.rlp" --genesis "$F/genesis.json" 2>"$T_TMP/rc.log"; rc=$?
check "a wrong receipts file exits 1 naming block 1" bash -c "[ $rc -eq 1 ] && grep -q 'ethd: block 1: ' '$T_TMP/rc.log'"

# ---- the node opens the chain ----
if start_node chain --datadir "$D" --p2p-port 0; then
    ok "a node starts on the imported data dir"
    check "... opening the chain at head 300" grep -q "chain opened genesis=$GENESIS_HASH chain_id=1337801 head=300" "$NODE_LOG"
    "$E" --datadir "$D" import "$F/chain.rlp" 2>"$T_TMP/busy.log"; rc=$?
    check "... while it runs, import refuses the locked data dir" bash -c "[ $rc -eq 1 ] && grep -q 'in use' '$T_TMP/busy.log'"
    kill -TERM "$NODE_PID"; wait_exit "$NODE_PID" 10
    check "... and stops cleanly" test "$EXIT_CODE" -eq 0
else
    not_ok "a node starts on the imported data dir"; cat "$NODE_LOG"
fi
"$E" --datadir "$D" --rpc-port 0 --p2p-port 0 --genesis "$T_TMP/other.json" >"$T_TMP/node2.log" 2>&1; rc=$?
check "a node given another genesis (chain.genesis) refuses to start (exit 1)" test $rc -eq 1
check "... naming both hashes" grep -q "chain: the database holds a chain with genesis $GENESIS_HASH" "$T_TMP/node2.log"
finish
