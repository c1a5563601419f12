// The benchmark's target: a minimal HTTP/1.1 responder over node:net on 127.0.0.1, in its own process
// (so its CPU is not charged to the load generator). Every GET gets the same small pre-built 200
// (keep-alive, Content-Length). It is deliberately cheaper per request than node:http, so that at
// saturation the generators, not the target, are the bottleneck. IPC control:
//   { cmd: 'stall', ms }  → the target freezes for ms: every request that arrives before now + ms is
//                           answered at now + ms (as in a GC pause or a stop-the-world failover)
//   { cmd: 'stats' }      → { served, connections } since the last { cmd: 'reset' }
//   { cmd: 'reset' }      → zero the counters
// On start it sends { ready: true, port }.
import net from 'node:net';

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n', 'latin1');
const END = Buffer.from('\r\n\r\n');
let stallUntil = 0;
let served = 0;
let connections = 0;

const server = net.createServer({ noDelay: true }, (sock) => {
  connections++;
  let pending: Buffer | undefined;
  /** responses for this connection are written in order, after any held ones */
  let heldUntil = 0;
  const answer = (n: number) => {
    served += n;
    sock.write(n === 1 ? RESPONSE : Buffer.concat(Array.from({ length: n }, () => RESPONSE)));
  };
  sock.on('data', (d: Buffer) => {
    let buf = pending ? Buffer.concat([pending, d]) : d;
    pending = undefined;
    let n = 0;
    let off = 0;
    for (let e; (e = buf.indexOf(END, off)) >= 0; off = e + 4) n++; // GETs only: no request bodies
    if (off < buf.length) pending = Buffer.from(buf.subarray(off));
    if (!n) return;
    const now = performance.now();
    const at = Math.max(stallUntil, heldUntil);
    if (at > now) { heldUntil = at; setTimeout(() => { if (!sock.destroyed) answer(n); }, at - now); }
    else answer(n);
  });
  sock.on('error', () => { /* the client went away */ });
});

type Msg = { cmd: 'stall'; ms: number; id?: number } | { cmd: 'stats'; id?: number } | { cmd: 'reset'; id?: number };
process.on('message', (m: Msg) => {
  if (m.cmd === 'stall') { stallUntil = performance.now() + m.ms; process.send!({ id: m.id, stalled: m.ms }); }
  else if (m.cmd === 'stats') process.send!({ id: m.id, served, connections });
  else if (m.cmd === 'reset') { served = 0; connections = 0; process.send!({ id: m.id, reset: true }); }
});
process.on('disconnect', () => process.exit(0));

server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  const a = server.address();
  process.send!({ ready: true, port: typeof a === 'object' && a ? a.port : 0 });
});
