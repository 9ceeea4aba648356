#!/bin/bash
# tools/chaingen: the chains it writes are valid for ethd's full import path
# (header rules, EIP-1559 base fee, clique seals, in-turn signer order and
# checkpoint signer lists, tx/receipt roots), byte-identical from run to
# run, and what expected.json says: 2000 blocks with 3 signers (epoch 500,
# so checkpoints 500..2000 carry the signer list) imported and exported
# back byte for byte, the head read over eth RPC; a chain with transfers
# (tx and receipts roots checked at import with --receipts); a fork made
# with --fork-after sharing blocks up to K; and a corrupted seal refused.
. "$(dirname "$0")/lib.sh"
CG="$ETHD_BUILDDIR/tools/chaingen"
[ -x "$CG" ] || { not_ok "needs $CG (make tools/chaingen)"; finish; exit 1; }
E=$ETHD_BIN
dump() { for f in "$@"; do echo "# --- $f"; tail -20 "$f" | sed 's/^/#   /' | cut -c1-300; done; }

# ---- 2000 empty blocks, 3 signers ----
G=$T_TMP/g
"$CG" --blocks 2000 --signers 3 --epoch 500 --out "$G" >"$T_TMP/cg.out" 2>&1; rc=$?
check "chaingen --blocks 2000 --signers 3 exits 0" test $rc -eq 0
for f in genesis.json chain.rlp receipts.rlp keys.json expected.json; do
    check "... writes $f" test -s "$G/$f"
done
HEAD=$(jq -r .head.hash "$G/expected.json")
GEN=$(jq -r .genesisHash "$G/expected.json")
check "expected.json: head #2000, 2000 hashes, 3 signers, TD 1+2*2000" \
    test "$(jq -c '[.head.number, (.hashes|length), (.signers|length), .head.totalDifficulty]' "$G/expected.json")" = '[2000,2000,3,"0xfa1"]'
check "keys.json holds the 3 signer keys, listed in genesis extraData" bash -c "
    for a in \$(jq -r '.signers[].address' '$G/keys.json'); do
        jq -r .extraData '$G/genesis.json' | grep -q \"\${a#0x}\" || exit 1; done
    [ \$(jq '.signers|length' '$G/keys.json') -eq 3 ]"
"$CG" --blocks 2000 --signers 3 --epoch 500 --out "$T_TMP/g2" >/dev/null 2>&1
check "the same arguments give byte-identical files" bash -c "
    for f in genesis.json chain.rlp receipts.rlp keys.json expected.json; do cmp -s '$G/'\$f '$T_TMP/g2/'\$f || exit 1; done"

D=$T_TMP/d
"$E" --datadir "$D" init --genesis "$G/genesis.json" >"$T_TMP/init.out" 2>"$T_TMP/init.log"; rc=$?
check "ethd init takes genesis.json (genesis $GEN)" bash -c "[ $rc -eq 0 ] && grep -q 'genesis $GEN (chain id 1337)' '$T_TMP/init.out'"
"$E" --datadir "$D" import "$G/chain.rlp" --receipts "$G/receipts.rlp" >/dev/null 2>"$T_TMP/imp.log"; rc=$?
check "ethd import accepts all 2000 blocks (clique seals verified)" \
    bash -c "[ $rc -eq 0 ] && grep -q 'import done blocks=2000 new=2000 head=2000 hash=$HEAD' '$T_TMP/imp.log'" ||
    dump "$T_TMP/imp.log"
"$E" --datadir "$D" export "$T_TMP/out.rlp" >/dev/null 2>&1
check "ethd export gives chain.rlp back byte for byte" cmp -s "$T_TMP/out.rlp" "$G/chain.rlp"

cat >"$T_TMP/n.yaml" <<YAML
node: {datadir: "$D", mode: full}
chain: {genesis: "$G/genesis.json"}
plugins: {load: [eth]}
services: {eth: {}}
YAML
if start_node n -c "$T_TMP/n.yaml"; then
    P=$NODE_PORT
    check "eth_blockNumber is 2000" test "$(call "$P" eth_blockNumber)" = '"0x7d0"'
    check "eth_getBlockByNumber(latest) has the head hash" \
        test "$(call "$P" eth_getBlockByNumber '["latest",false]' | jq -r .hash)" = "$HEAD"
    B1000=$(jq -r '.hashes[999]' "$G/expected.json")
    R=$(call "$P" eth_getBlockByNumber '["0x3e8",false]')
    check "block 1000: hash, difficulty 2, signer list in its checkpoint extraData" bash -c "
        [ \"\$(echo '$R' | jq -r .hash)\" = '$B1000' ] && [ \"\$(echo '$R' | jq -r .difficulty)\" = 0x2 ] &&
        [ \$(echo '$R' | jq -r .extraData | wc -c) -eq \$((2 + 2 * (32 + 60 + 65) + 1)) ]"
    R=$(call "$P" eth_getBlockByNumber '["0x3e9",false]')
    check "block 1001: no signer list, timestamp genesis + 1001, base fee below 1 gwei" bash -c "
        [ \$(echo '$R' | jq -r .extraData | wc -c) -eq \$((2 + 2 * (32 + 65) + 1)) ] &&
        [ \$((\$(echo '$R' | jq -r .timestamp))) -eq \$((1700000000 + 1001)) ] &&
        [ \$((\$(echo '$R' | jq -r .baseFeePerGas))) -lt 1000000000 ]"
    kill "$NODE_PID"; wait_exit "$NODE_PID" 10
else
    not_ok "ethd starts on the imported chain"; dump "$NODE_LOG"
fi

# ---- transfers ----
T=$T_TMP/t
"$CG" --blocks 300 --signers 2 --txs-per-block 25 --period 2 --chain-id 4242 --seed 7 --out "$T" >/dev/null 2>&1; rc=$?
check "chaingen --txs-per-block 25 --chain-id 4242 exits 0" test $rc -eq 0
"$E" --datadir "$T_TMP/dt" import "$T/chain.rlp" --genesis "$T/genesis.json" --receipts "$T/receipts.rlp" >/dev/null 2>"$T_TMP/impt.log"; rc=$?
check "ethd import --receipts accepts 300 blocks of 25 transfers (tx and receipts roots)" \
    bash -c "[ $rc -eq 0 ] && grep -q 'import done blocks=300 new=300 head=300 hash=$(jq -r .head.hash "$T/expected.json")' '$T_TMP/impt.log'" ||
    dump "$T_TMP/impt.log"
check "keys.json: the sender's next nonce is 300*25" test "$(jq .sender.nextNonce "$T/keys.json")" = 7500
cat >"$T_TMP/t.yaml" <<YAML
node: {datadir: "$T_TMP/dt", mode: full}
chain: {genesis: "$T/genesis.json"}
plugins: {load: [eth]}
services: {eth: {}}
YAML
if start_node t -c "$T_TMP/t.yaml"; then
    P=$NODE_PORT
    R=$(call "$P" eth_getBlockByNumber '["0x96",true]')
    SENDER=$(jq -r .sender.address "$T/keys.json")
    check "block 150: 25 type-2 transfers from the sender, chain id 4242, nonces 3725..3749" bash -c "
        echo '$R' | jq -e '(.transactions|length) == 25 and
            all(.transactions[]; .type == \"0x2\" and .chainId == \"0x1092\" and (.from|ascii_downcase) == \"$SENDER\") and
            (.transactions[0].nonce == \"0xe8d\") and (.transactions[24].nonce == \"0xea5\") and .gasUsed == \"0x802c8\"' >/dev/null"
    kill "$NODE_PID"; wait_exit "$NODE_PID" 10
else
    not_ok "ethd starts on the transfer chain"; dump "$NODE_LOG"
fi

# ---- a fork after block 100 ----
"$CG" --blocks 200 --signers 3 --fork-after 100 --out "$T_TMP/f" >/dev/null 2>&1
"$CG" --blocks 200 --signers 3 --out "$T_TMP/m" >/dev/null 2>&1
check "--fork-after 100: same genesis, same blocks 1..100, other blocks 101..200" bash -c "
    [ \"\$(jq -c '[.genesisHash, .hashes[0:100]]' '$T_TMP/f/expected.json')\" = \"\$(jq -c '[.genesisHash, .hashes[0:100]]' '$T_TMP/m/expected.json')\" ] &&
    [ \"\$(jq -r '.hashes[100]' '$T_TMP/f/expected.json')\" != \"\$(jq -r '.hashes[100]' '$T_TMP/m/expected.json')\" ]"
"$E" --datadir "$T_TMP/df" import "$T_TMP/f/chain.rlp" --genesis "$T_TMP/f/genesis.json" >/dev/null 2>"$T_TMP/impf.log"; rc=$?
check "... and the fork is itself a valid chain" bash -c "[ $rc -eq 0 ] && grep -q 'import done blocks=200 new=200 head=200' '$T_TMP/impf.log'"

# ---- a corrupted seal is refused ----
# Block 1 of the 2000-block chain: its extra-data ends 3 bytes before the
# block's end (then mix hash 33, nonce 9, base fee 5, txs c0, uncles c0
# follow); flip a byte in the middle of its 65-byte seal instead.
SZ1=$(( $(od -An -tu1 -j 1 -N2 --endian=big "$G/chain.rlp" | awk '{print $1*256+$2}') + 3 ))
OFF=$((SZ1 - 2 - 5 - 9 - 33 - 30))
head -c "$((SZ1 * 5))" "$G/chain.rlp" >"$T_TMP/bad.rlp"
B=$(od -An -tu1 -j "$OFF" -N1 "$T_TMP/bad.rlp" | tr -d ' ')
printf "$(printf '\\%03o' $(( (B + 1) % 256 )))" | dd of="$T_TMP/bad.rlp" bs=1 seek="$OFF" conv=notrunc 2>/dev/null
"$E" --datadir "$T_TMP/db" import "$T_TMP/bad.rlp" --genesis "$G/genesis.json" >/dev/null 2>"$T_TMP/impb.log"; rc=$?
check "a chain with block 1's seal changed is refused at block 1 ($(grep -o 'block 1: .*' "$T_TMP/impb.log" | head -1 | cut -c1-80))" \
    bash -c "[ $rc -ne 0 ] && grep -q 'block 1: ' '$T_TMP/impb.log'"

# ---- usage errors ----
"$CG" --blocks 10 >/dev/null 2>&1; rc=$?
check "chaingen without --out is a usage error (2)" test $rc -eq 2
"$CG" --blocks 10 --signers 0 --out "$T_TMP/x" >/dev/null 2>&1; rc=$?
check "chaingen --signers 0 is a usage error (2)" test $rc -eq 2
"$CG" --blocks 10 --txs-per-block 5000 --out "$T_TMP/x" >/dev/null 2>&1; rc=$?
check "chaingen --txs-per-block above the gas limit is a usage error (2)" test $rc -eq 2
finish
