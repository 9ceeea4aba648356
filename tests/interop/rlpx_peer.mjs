// An EthereumJS RLPx peer (@ethereumjs/devp2p) driven line by line, for the
// interop tests. It either dials an enode (--dial) or listens on 127.0.0.1
// (--listen PORT, 0 = ephemeral), offers the capability exa/1 (the `example`
// plugin's: 0 greet [greeting], 1 echo [...]) and reports what happens as one
// JSON object per line on stdout:
//   {"ev":"ready","id":HEX,"clientId":S}            always first
//   {"ev":"listening","port":N,"enode":S}           --listen only
//   {"ev":"hello","clientId":S,"caps":["exa/1"],"protocolVersion":N,"port":N,"id":HEX,"shared":["exa/1"]}
//   {"ev":"ping"}                                   a Ping arrived (answered by devp2p)
//   {"ev":"pong","rtt_ms":N}                        a Pong answered our ping
//   {"ev":"exa","code":N,"payload":[S|HEX,...]}     an exa/1 message (items as text when printable)
//   {"ev":"disconnect","reason":N|null,"name":S,"by":"us"|"them"}
//   {"ev":"peer_error","msg":S} / {"ev":"error","msg":S} / {"ev":"timeout"}
// Commands on stdin, one per line: `ping`, `exa CODE TEXT` (sends [TEXT],
// the rest of the line, as exa message CODE), `disconnect REASON`, `quit`. EOF on stdin
// and --max-seconds (default 60) both end the process: nothing here can hang.
// Only 127.0.0.1 is ever used.
import { createInterface } from 'node:readline';
import { RLP } from '@ethereumjs/rlp';
import { DISCONNECT_REASON, DisconnectReasonNames, RLPx, SNAP, genPrivateKey } from '@ethereumjs/devp2p';
import { bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes } from '@ethereumjs/util';
import * as snappy from 'snappyjs';

function arg(name, def) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const hex = (b) => bytesToHex(b).slice(2);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// devp2p 10 exports ETH and SNAP but not their base class Protocol, which a
// new capability needs: take it from SNAP's prototype chain.
const Protocol = Object.getPrototypeOf(SNAP);

// exa/1 on the EthereumJS side. The Protocol base class arms a 5 s "status"
// timer for every protocol except snap and disconnects with 0x0b when it
// fires (it assumes an eth-style Status handshake); exa has no status, so the
// timer is cancelled here.
class EXA extends Protocol {
    constructor(version, peer, send) {
        super(peer, send, 'exa', version, { GREET: 0, ECHO: 1 });
        clearTimeout(this._statusTimeoutId);
        this._statusTimeoutId = undefined;
    }
    _handleMessage(code, data) {
        const items = RLP.decode(data);
        const show = (x) => {
            if (!(x instanceof Uint8Array)) return x.map(show);
            const s = bytesToUtf8(x);
            return /^[\x20-\x7e]*$/.test(s) ? s : '0x' + hex(x);
        };
        emit({ ev: 'exa', code, payload: Array.isArray(items) ? items.map(show) : show(items) });
    }
    sendMessage(code, items) {
        let payload = RLP.encode(items);
        // Sub-protocols compress their own payloads (EIP-706) in devp2p 10.
        if ((this._peer._hello?.protocolVersion ?? 0) >= 5) payload = snappy.compress(payload);
        this._send(code, payload);
    }
    getVersion() {
        return this._version;
    }
}
EXA.exa = { name: 'exa', version: 1, length: 2, constructor: EXA };

const key = arg('key') ? hexToBytes('0x' + arg('key')) : genPrivateKey();
const clientId = arg('client-id', 'ethereumjs-devp2p/v10.0.0/ethd-interop');
const maxSeconds = Number(arg('max-seconds', '60'));
const listenPort = arg('listen');
const dial = arg('dial');

const rlpx = new RLPx(key, {
    clientId: utf8ToBytes(clientId),
    capabilities: [EXA.exa],
    maxPeers: 4,
    timeout: 10000,
    listenPort: null,
});
const id = rlpx.id;
emit({ ev: 'ready', id: hex(id), clientId });

let current = null; // the one peer this script talks to
let pingSent = 0;

rlpx.events.on('peer:added', (peer) => {
    current = peer;
    const h = peer.getHelloMessage();
    // devp2p 10 has no event for Ping/Pong: wrap the peer's handlers.
    const onPing = peer._handlePing.bind(peer);
    peer._handlePing = () => {
        emit({ ev: 'ping' });
        onPing();
    };
    const onPong = peer._handlePong.bind(peer);
    peer._handlePong = () => {
        emit({ ev: 'pong', rtt_ms: pingSent ? Date.now() - pingSent : null });
        onPong();
    };
    emit({
        ev: 'hello',
        clientId: h.clientId,
        caps: h.capabilities.map((c) => `${c.name}/${c.version}`),
        protocolVersion: h.protocolVersion,
        port: h.port,
        id: hex(h.id),
        shared: peer.getProtocols().map((p) => `${p.constructor === EXA ? 'exa' : p.constructor.name}/${p.getVersion()}`),
    });
});
rlpx.events.on('peer:removed', (peer, reason, disconnectWe) => {
    const r = typeof reason === 'number' ? reason : null;
    emit({ ev: 'disconnect', reason: r, name: r === null ? null : DisconnectReasonNames[r], by: disconnectWe ? 'us' : 'them' });
    if (peer === current) current = null;
});
rlpx.events.on('peer:error', (peer, err) => emit({ ev: 'peer_error', msg: String(err?.message ?? err) }));
rlpx.events.on('error', (err) => emit({ ev: 'error', msg: String(err?.message ?? err) }));

if (listenPort !== undefined) {
    rlpx.events.once('listening', () => {
        const port = rlpx._server.address().port;
        rlpx._listenPort = port; // advertised in our Hello
        emit({ ev: 'listening', port, enode: `enode://${hex(id)}@127.0.0.1:${port}` });
    });
    rlpx.listen(Number(listenPort), '127.0.0.1');
}
if (dial !== undefined) {
    const m = /^enode:\/\/([0-9a-fA-F]{128})@([0-9.]+):(\d+)/.exec(dial);
    if (!m || m[2] !== '127.0.0.1') {
        emit({ ev: 'error', msg: `refusing to dial ${dial}: only enode://ID@127.0.0.1:PORT` });
        process.exit(2);
    }
    rlpx.connect({ id: hexToBytes('0x' + m[1]), address: m[2], tcpPort: Number(m[3]) })
        .catch((err) => emit({ ev: 'error', msg: `dial: ${err?.message ?? err}` }));
}

function quit(code) {
    try {
        rlpx.destroy();
    } catch {
        // already destroyed
    }
    setTimeout(() => process.exit(code), 100).unref();
}
setTimeout(() => {
    emit({ ev: 'timeout' });
    quit(3);
}, maxSeconds * 1000).unref();

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
    const [cmd, ...rest] = line.trim().split(/\s+/);
    if (cmd === '') return;
    if (cmd === 'quit') return quit(0);
    if (!current) return emit({ ev: 'error', msg: `${cmd}: no peer connected` });
    if (cmd === 'ping') {
        pingSent = Date.now();
        current._sendPing();
    } else if (cmd === 'disconnect') {
        current.disconnect(Number(rest[0] ?? DISCONNECT_REASON.DISCONNECT_REQUESTED));
    } else if (cmd === 'exa') {
        const exa = current.getProtocols().find((p) => p instanceof EXA);
        if (!exa) return emit({ ev: 'error', msg: 'exa not negotiated' });
        const text = line.trim().replace(/^exa\s+\S+\s*/, '');
        exa.sendMessage(Number(rest[0]), text === '' ? [] : [utf8ToBytes(text)]);
    } else {
        emit({ ev: 'error', msg: `unknown command ${cmd}` });
    }
});
rl.on('close', () => quit(0));
// The process stays up for its timers (and the server when listening); the
// --max-seconds timer is unref'd so it alone never holds the process open.
setInterval(() => {}, 1000);
