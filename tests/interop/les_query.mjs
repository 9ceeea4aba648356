// An EthereumJS LES client (@ethereumjs/devp2p 6.1.3's LES class, pinned in
// package.json as "@ethereumjs/devp2p-les", the last devp2p line that ships
// les) that dials ethd's les-server, completes the les/N Status handshake,
// reads the flow-control parameters (flowControl/BL, /MRR, /MRC) and sends
// GetBlockHeaders of several shapes, checking every answer (and its BV)
// against the fixture's expected.json.
//
//   node les_query.mjs --dial ENODE --genesis genesis.json --expected expected.json
//                      [--version 2|3|4] [--max-seconds 60]
//
// One JSON object per line on stdout: {"ev":"status",...},
// {"ev":"check","name":S,"ok":BOOL,...}, {"ev":"done","passed":N,"failed":N}
// or {"ev":"error","msg":S} / {"ev":"timeout"}. Only 127.0.0.1 is dialled.
import { readFileSync } from 'node:fs';
import { LES, RLPx, genPrivateKey } from '@ethereumjs/devp2p-les';
// devp2p 6.x works with @ethereumjs/common 4.x, installed nested under it.
import { Common } from './node_modules/@ethereumjs/devp2p-les/node_modules/@ethereumjs/common/dist/esm/index.js';
import { RLP } from './node_modules/@ethereumjs/devp2p-les/node_modules/@ethereumjs/rlp/dist/esm/index.js';
import { keccak256 } from 'ethereum-cryptography/keccak.js';

function arg(name, def) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const hex = (b) => '0x' + Buffer.from(b).toString('hex');
const fromHex = (s) => Uint8Array.from(Buffer.from(s.replace(/^0x/, ''), 'hex'));
const toInt = (b) => (b.length ? Number(BigInt(hex(b))) : 0);
const intBytes = (n) => {
    if (n === 0 || n === 0n) return Uint8Array.from([]);
    let h = BigInt(n).toString(16);
    if (h.length % 2) h = '0' + h;
    return fromHex(h);
};

const dial = arg('dial');
const version = Number(arg('version', '4'));
const maxSeconds = Number(arg('max-seconds', '60'));
const genesisJson = JSON.parse(readFileSync(arg('genesis'), 'utf8'));
const expected = JSON.parse(readFileSync(arg('expected'), 'utf8'));
const head = expected.head.number;
const hashOf = (n) => (n === 0 ? expected.genesisHash : expected.blocks[n - 1].hash);

const m = /^enode:\/\/([0-9a-fA-F]{128})@([0-9.]+):(\d+)$/.exec(dial ?? '');
if (!m || m[2] !== '127.0.0.1') {
    emit({ ev: 'error', msg: `refusing to dial ${dial}: only enode://ID@127.0.0.1:PORT` });
    process.exit(2);
}
const cap = { 2: LES.les2, 3: LES.les3, 4: LES.les4 }[version];
const common = Common.fromGethGenesis(genesisJson, {
    chain: 'devnet-a',
    genesisHash: fromHex(expected.genesisHash),
});
const rlpx = new RLPx(genPrivateKey(), {
    clientId: new TextEncoder().encode('ethereumjs-devp2p/v6.1.3/ethd-les-query'),
    capabilities: [cap],
    common,
    maxPeers: 2,
    timeout: 10000,
    listenPort: null,
});

let passed = 0;
let failed = 0;
function check(name, got, want) {
    const ok = JSON.stringify(got) === JSON.stringify(want);
    if (ok) passed++;
    else failed++;
    emit({ ev: 'check', name, ok, got, want });
}
const pending = new Map();
let nextId = 1;
function request(les, code, body) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to code ${code}`)), 10000);
        pending.set(id, (payload) => {
            clearTimeout(timer);
            resolve(payload);
        });
        les.sendMessage(code, [intBytes(id), body]);
    });
}
const finish = (code) => {
    emit({ ev: 'done', passed, failed });
    try {
        rlpx.destroy();
    } catch {}
    process.exit(code);
};
setTimeout(() => {
    emit({ ev: 'timeout' });
    finish(1);
}, maxSeconds * 1000);

rlpx.events.on('error', (e) => emit({ ev: 'rlpx-error', msg: String(e?.message ?? e) }));
rlpx.events.on('peer:error', (peer, e) => emit({ ev: 'peer-error', msg: String(e?.message ?? e) }));
rlpx.events.on('peer:removed', (peer, reason) => {
    emit({ ev: 'removed', reason: String(reason) });
});
rlpx.events.on('peer:added', (peer) => {
    const les = peer.getProtocols().find((p) => p instanceof LES);
    if (!les) {
        emit({ ev: 'error', msg: 'no les protocol negotiated' });
        finish(1);
        return;
    }
    emit({ ev: 'hello', shared: `les/${les.getVersion()}` });
    les.events.on('message', (code, payload) => {
        if (code === LES.MESSAGE_CODES.STOP_MSG || code === LES.MESSAGE_CODES.RESUME_MSG) {
            emit({ ev: code === LES.MESSAGE_CODES.STOP_MSG ? 'stop' : 'resume' });
            return;
        }
        if (code === LES.MESSAGE_CODES.ANNOUNCE) return;
        const id = toInt(payload[0]);
        const fn = pending.get(id);
        if (fn) {
            pending.delete(id);
            fn(payload);
        }
    });
    les.events.on('status', async (st) => {
        const bl = st['flowControl/BL'] ? toInt(st['flowControl/BL']) : null;
        const mrr = st['flowControl/MRR'] ? toInt(st['flowControl/MRR']) : null;
        const mrc = st['flowControl/MRC'] ? st['flowControl/MRC'].map((e) => e.map(toInt)) : null;
        emit({
            ev: 'status',
            version: toInt(st.protocolVersion),
            networkId: toInt(st.networkId),
            headNum: toInt(st.headNum),
            headHash: hex(st.headHash),
            genesis: hex(st.genesisHash),
            serveHeaders: st.serveHeaders !== undefined,
            bl,
            mrr,
            mrcCodes: mrc ? mrc.map((e) => e[0]) : null,
        });
        check('status head and genesis', [toInt(st.headNum), hex(st.headHash), hex(st.genesisHash)], [
            head,
            expected.head.hash,
            expected.genesisHash,
        ]);
        check('flow control parameters present', [bl > 0, mrr > 0, (mrc ?? []).length > 0], [true, true, true]);
        const costOf = (code, n) => {
            const e = (mrc ?? []).find((x) => x[0] === code);
            return e ? e[1] + e[2] * n : 0;
        };
        let ble = bl;
        const q = async (name, origin, amount, skip, reverse, want) => {
            const body = [typeof origin === 'string' ? fromHex(origin) : intBytes(origin), intBytes(amount), intBytes(skip), intBytes(reverse ? 1 : 0)];
            const cost = costOf(LES.MESSAGE_CODES.GET_BLOCK_HEADERS, Math.min(amount, 192));
            ble -= cost;
            const p = await request(les, LES.MESSAGE_CODES.GET_BLOCK_HEADERS, body);
            const bv = toInt(p[1]);
            const got = p[2].map((h) => hex(keccak256(RLP.encode(h))));
            check(`GetBlockHeaders ${name}`, got, want.map(hashOf));
            // BV is at least our lower estimate and at most BL.
            check(`BV of ${name} within [BLE, BL]`, [bv >= ble, bv <= bl], [true, true]);
            ble = bv;
        };
        try {
            await q('0..9', 0, 10, 0, false, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
            await q('head reverse skip 1', head, 3, 1, true, [head, head - 2, head - 4]);
            await q('by hash of 150', hashOf(150), 3, 0, false, [150, 151, 152]);
            await q('skip overflow', 5, 3, 18446744073709551615n, false, [5]);
            await q('past the head', head + 1, 5, 0, false, []);
            finish(failed ? 1 : 0);
        } catch (e) {
            emit({ ev: 'error', msg: String(e?.message ?? e) });
            finish(1);
        }
    });
    const status = {
        headTd: intBytes(1),
        headHash: fromHex(expected.genesisHash),
        headNum: intBytes(0),
        genesisHash: fromHex(expected.genesisHash),
    };
    if (version >= 4) status.forkID = [fromHex(expected.forkIdAtGenesis.hash), intBytes(expected.forkIdAtGenesis.next)];
    les.sendStatus(status);
});
rlpx.connect({ id: fromHex(m[1]), address: m[2], tcpPort: Number(m[3]) }).catch((e) => {
    emit({ ev: 'error', msg: `connect: ${e?.message ?? e}` });
    finish(1);
});
