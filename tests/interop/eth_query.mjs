// An EthereumJS eth peer (@ethereumjs/devp2p ETH class, pinned) that dials
// ethd, exchanges Status and sends every GetBlockHeaders shape (by number
// and by hash, skip, reverse, past the head, the skip-overflow attack,
// amount 0 and over the cap), plus GetBlockBodies, GetReceipts and (eth/66)
// GetNodeData, and checks each answer against the fixture's expected.json.
//
//   node eth_query.mjs --dial ENODE --genesis genesis.json --expected expected.json
//                      [--version 66|67|68] [--max-seconds 60]
//
// One JSON object per line on stdout:
//   {"ev":"ready"} {"ev":"hello","shared":"eth/68"} {"ev":"status",...}
//   {"ev":"check","name":S,"ok":BOOL,"got":[...],"want":[...]}
//   {"ev":"done","passed":N,"failed":N}  or {"ev":"error","msg":S} / {"ev":"timeout"}
// Only 127.0.0.1 is ever dialled; --max-seconds bounds the run.
import { readFileSync } from 'node:fs';
import { RLP } from '@ethereumjs/rlp';
import { createCommonFromGethGenesis } from '@ethereumjs/common';
import { ETH, RLPx, genPrivateKey } from '@ethereumjs/devp2p';
import { bigIntToBytes, bytesToBigInt, bytesToHex, hexToBytes, intToBytes, utf8ToBytes } from '@ethereumjs/util';
import { keccak256 } from 'ethereum-cryptography/keccak.js';

function arg(name, def) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const dial = arg('dial');
const version = Number(arg('version', '68'));
const maxSeconds = Number(arg('max-seconds', '60'));
const genesisJson = JSON.parse(readFileSync(arg('genesis'), 'utf8'));
const expected = JSON.parse(readFileSync(arg('expected'), 'utf8'));

const head = expected.head.number;
const hashOf = (n) => (n === 0 ? expected.genesisHash : expected.blocks[n - 1].hash);
const numberOfHash = new Map([[expected.genesisHash, 0], ...expected.blocks.map((b) => [b.hash, b.number])]);

const common = createCommonFromGethGenesis(genesisJson, {
    chain: 'devnet-a',
    genesisHash: hexToBytes(expected.genesisHash),
});
common.setHardforkBy({ blockNumber: BigInt(head) });
const cap = { 66: ETH.eth66, 67: ETH.eth67, 68: ETH.eth68 }[version];
if (!cap) {
    emit({ ev: 'error', msg: `no eth/${version} in @ethereumjs/devp2p` });
    process.exit(2);
}

const m = /^enode:\/\/([0-9a-fA-F]{128})@([0-9.]+):(\d+)$/.exec(dial ?? '');
if (!m || m[2] !== '127.0.0.1') {
    emit({ ev: 'error', msg: `refusing to dial ${dial}: only enode://ID@127.0.0.1:PORT` });
    process.exit(2);
}

const rlpx = new RLPx(genPrivateKey(), {
    clientId: utf8ToBytes('ethereumjs-devp2p/v10.0.0/ethd-eth-query'),
    capabilities: [cap],
    common,
    maxPeers: 2,
    timeout: 10000,
    listenPort: null,
});
emit({ ev: 'ready' });

let passed = 0;
let failed = 0;
const pending = new Map(); // request id -> resolve
function check(name, got, want) {
    const ok = JSON.stringify(got) === JSON.stringify(want);
    if (ok) passed++;
    else failed++;
    emit({ ev: 'check', name, ok, got, want });
}
function request(eth, code, body) {
    const id = BigInt(pending.size + 1000 + passed + failed);
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            pending.delete(id);
            reject(new Error(`no answer to code ${code} in 10 s`));
        }, 10000);
        pending.set(id, (list) => {
            clearTimeout(timer);
            resolve(list);
        });
        eth.sendMessage(code, [bigIntToBytes(id), body]);
    });
}
// RLP integers are unpadded: 0 is the empty string (0x00 would be non-canonical).
const u = (n) => (BigInt(n) === 0n ? new Uint8Array() : bigIntToBytes(BigInt(n)));
const numbersOf = (headers) =>
    headers.map((h) => {
        const hash = bytesToHex(keccak256(RLP.encode(h)));
        return numberOfHash.has(hash) ? numberOfHash.get(hash) : `unknown ${hash}`;
    });

async function headers(eth, name, origin, amount, skip, reverse, want) {
    const o = typeof origin === 'string' ? hexToBytes(origin) : u(origin);
    const list = await request(eth, 0x03, [
        o,
        u(amount),
        u(skip),
        u(reverse ? 1 : 0),
    ]);
    check(name, numbersOf(list), want);
}

const range = (from, n, step) => Array.from({ length: n }, (_, i) => from + i * step);
const MAX64 = (1n << 64n) - 1n;

async function run(eth) {
    await headers(eth, 'by number: 0..9', 0, 10, 0, false, range(0, 10, 1));
    await headers(eth, 'by number past the head: 290.. (20) ends at the head', 290, 20, 0, false, range(290, 11, 1));
    await headers(eth, 'by number with skip 9: 100,110,..,140', 100, 5, 9, false, range(100, 5, 10));
    await headers(eth, 'by number reverse: 300..296', head, 5, 0, true, range(300, 5, -1));
    await headers(eth, 'by number reverse with skip 2 stops at genesis: 10,7,4,1', 10, 10, 2, true, [10, 7, 4, 1]);
    await headers(eth, 'by hash: 150,151,152', hashOf(150), 3, 0, false, [150, 151, 152]);
    await headers(eth, 'by hash reverse with skip 49: 150,100,50,0', hashOf(150), 10, 49, true, [150, 100, 50, 0]);
    await headers(eth, 'by hash of the head forward: only the head', hashOf(head), 5, 0, false, [head]);
    await headers(eth, 'by number past the head: none', head + 1, 5, 0, false, []);
    await headers(eth, 'by unknown hash: none', '0x' + 'ee'.repeat(32), 5, 0, false, []);
    await headers(eth, 'skip overflow by hash: head + 2^64 does not wrap', hashOf(head), 3, MAX64, false, [head]);
    await headers(eth, 'skip overflow by number: 1 + (2^64-1) does not wrap', 1, 3, MAX64 - 1n, false, [1]);
    await headers(eth, 'skip overflow reverse: stops at genesis', 5, 3, MAX64, true, [5]);
    await headers(eth, 'amount 0: none', 0, 0, 0, false, []);
    await headers(eth, 'amount 5000 from genesis: the whole chain (under the 1024 cap)', 0, 5000, 0, false, range(0, head + 1, 1));

    // Bodies: transaction counts of blocks 1, 2, 150 (and an unknown hash skipped).
    const bodies = await request(eth, 0x05, [hexToBytes(hashOf(1)), hexToBytes('0x' + 'ee'.repeat(32)), hexToBytes(hashOf(2)), hexToBytes(hashOf(150))]);
    check('GetBlockBodies: tx counts of 1, 2, 150 (unknown hash skipped)', bodies.map((b) => b[0].length), [1, 2, 150].map((n) => expected.blocks[n - 1].txHashes.length));
    // Receipts: one list per known block, as many receipts as transactions.
    const receipts = await request(eth, 0x0f, [hexToBytes(hashOf(3)), hexToBytes(hashOf(150))]);
    check('GetReceipts: receipt counts of blocks 3, 150', receipts.map((r) => r.length), [3, 150].map((n) => expected.blocks[n - 1].txHashes.length));
    if (version === 66) {
        const nd = await request(eth, 0x0d, [hexToBytes(expected.head.stateRoot)]);
        check('GetNodeData (eth/66): an empty NodeData answer', nd.length, 0);
    }
}

const timer = setTimeout(() => {
    emit({ ev: 'timeout' });
    finish(3);
}, maxSeconds * 1000);
timer.unref();

function finish(code) {
    try {
        rlpx.destroy();
    } catch {
        // already destroyed
    }
    setTimeout(() => process.exit(code), 100).unref();
}

rlpx.events.on('peer:added', (peer) => {
    const eth = peer.getProtocols().find((p) => p instanceof ETH);
    emit({ ev: 'hello', clientId: peer.getHelloMessage().clientId, shared: eth ? `eth/${eth.getVersion()}` : null });
    if (!eth) return finish(1);
    eth.events.on('message', (code, payload) => {
        // Answers: [request id, list]
        if ([0x04, 0x06, 0x10, 0x0e].includes(code)) {
            const id = bytesToBigInt(payload[0]);
            const resolve = pending.get(id);
            if (resolve) {
                pending.delete(id);
                resolve(payload[1]);
            }
        }
    });
    eth.events.on('status', (st) => {
        emit({
            ev: 'status',
            networkId: Number(bytesToBigInt(st.chainId)),
            td: Number(bytesToBigInt(st.td)),
            bestHash: bytesToHex(st.bestHash),
            genesisHash: bytesToHex(st.genesisHash),
            forkHash: bytesToHex(st.forkId[0]),
        });
        run(eth)
            .then(() => {
                emit({ ev: 'done', passed, failed });
                finish(failed === 0 ? 0 : 1);
            })
            .catch((err) => {
                emit({ ev: 'error', msg: String(err?.message ?? err) });
                finish(1);
            });
    });
    eth.sendStatus({
        td: bigIntToBytes(BigInt(expected.head.totalDifficulty)),
        bestHash: hexToBytes(expected.head.hash),
        genesisHash: hexToBytes(expected.genesisHash),
        latestBlock: intToBytes(head),
    });
});
rlpx.events.on('peer:removed', (peer, reason) => {
    emit({ ev: 'disconnect', reason: typeof reason === 'number' ? reason : null });
    finish(1);
});
rlpx.events.on('peer:error', (peer, err) => emit({ ev: 'error', msg: String(err?.message ?? err) }));
rlpx.events.on('error', (err) => emit({ ev: 'error', msg: String(err?.message ?? err) }));
rlpx.connect({ id: hexToBytes('0x' + m[1]), address: m[2], tcpPort: Number(m[3]) })
    .catch((err) => {
        emit({ ev: 'error', msg: `dial: ${err?.message ?? err}` });
        finish(1);
    });
setInterval(() => {}, 1000);
