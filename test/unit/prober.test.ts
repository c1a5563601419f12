// The open-loop prober against local servers (no lab needed: SKIP_LAB=1 npx mocha test/prober.test.ts).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Prober } from '../../harness/probes/prober.js';
import { Recorder } from '../../harness/timeline.js';

type ProbeEvent = { t: number; latency: number; ok: boolean; status?: number; error?: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const probes = (rec: Recorder) => rec.events.filter((e) => e.type === 'probe') as unknown as ProbeEvent[];

const servers: Array<net.Server> = [];
async function listen<S extends net.Server>(s: S): Promise<{ server: S; port: number }> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { server: s, port: (s.address() as net.AddressInfo).port };
}
/** A raw server: `onRequest(socket, n)` for every request head received (n counts from 1 per connection). */
function rawServer(onRequest: (sock: net.Socket, n: number) => void) {
  /** `closedByClient`: connections the client closed (FIN) */
  const stats = { connections: 0, requests: 0, closedByClient: 0 };
  const server = net.createServer((sock) => {
    stats.connections++;
    let buf = '';
    let n = 0;
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) { buf = buf.slice(i + 4); stats.requests++; onRequest(sock, ++n); }
    });
    sock.on('error', () => {});
    sock.on('end', () => { stats.closedByClient++; });
  });
  return { server, stats };
}
/** Writes the pieces with a pause between them, so the client reads them separately. */
async function dribble(sock: net.Socket, pieces: string[]) {
  for (const p of pieces) { if (sock.destroyed) return; sock.write(p); await sleep(3); }
}

/** Runs a prober for `ms` and stops it (waiting for in-flight requests as stop() does). */
async function run(url: string, rate: number, ms: number, extra: { timeoutMs?: number; expectStatus?: number[]; rec?: Recorder; beforeStop?: () => void } = {}) {
  const rec = extra.rec ?? new Recorder();
  const p = new Prober({ name: 'p', url, rate, timeoutMs: extra.timeoutMs ?? 2000, expectStatus: extra.expectStatus }, rec);
  const t0 = rec.now();
  p.begin();
  await sleep(ms);
  extra.beforeStop?.();
  await p.stop();
  return { p, rec, t0, events: probes(rec) };
}

describe('prober (open loop, lean HTTP client)', function () {
  this.timeout(15_000);
  afterEach(() => { for (const s of servers.splice(0)) { s.close(); (s as http.Server).closeAllConnections?.(); } });

  it('keeps sending at the rate while the target stalls, and measures the stalled requests from their intended time', async () => {
    const rec = new Recorder();
    const arrivals: number[] = [];
    const held: http.ServerResponse[] = [];
    let releasedAt = NaN;
    const { port } = await listen(http.createServer((req, res) => {
      const now = rec.now();
      arrivals.push(now);
      // the stall ends when HELD requests are waiting (not after a fixed time: a busy machine sends later)
      if (Number.isNaN(releasedAt)) { held.push(res); if (held.length >= HELD) release(); } else res.end('ok');
    }));
    const rate = 50; // every 20 ms
    const HELD = 15;
    const release = () => { if (!Number.isNaN(releasedAt)) return; releasedAt = rec.now(); for (const r of held) r.end('ok'); };
    const p = new Prober({ name: 'p', url: `http://127.0.0.1:${port}/`, rate, timeoutMs: 5000 }, rec);
    const safety = setTimeout(release, 4000);
    p.begin();
    while (Number.isNaN(releasedAt)) await sleep(20);
    clearTimeout(safety);
    await sleep(300);
    await p.stop();
    const endAt = rec.now();
    const ev = probes(rec).sort((a, b) => a.t - b.t);
    expect(ev.length).to.equal(p.sent);
    expect(arrivals.length, 'the server saw every request').to.equal(p.sent);
    expect(ev.every((e) => e.ok && e.status === 200)).to.equal(true);
    // requests kept leaving while none had been answered: HELD of them were waiting at once
    expect(held.length, 'requests waiting unanswered at once (a closed loop would have sent one)').to.equal(HELD);
    // intended times are the schedule, 20 ms apart
    for (let i = 1; i < ev.length; i++) expect(ev[i].t - ev[i - 1].t).to.be.closeTo(20, 0.001);
    // a held request's latency runs from its intended time to (at least) the release: the stall is in
    // the record, however late the prober actually sent it
    const stalled = ev.slice(0, HELD);
    for (const e of stalled) {
      expect(e.latency).to.be.at.least(releasedAt - e.t - 1);
      expect(e.latency).to.be.at.most(endAt - e.t);
    }
    // the first one waited for the whole stall: HELD − 1 schedule slots at least
    expect(stalled[0].latency).to.be.at.least((HELD - 1) * 20 - 1);
    expect(p.lagPercentile(99)).to.be.a('number').and.to.be.at.least(0);
    expect(p.maxLagMs + 0.01).to.be.at.least(p.lagPercentile(99) * 0.99);
  });

  it('measures latency from the intended send time even when the prober itself sends late', async () => {
    const { port } = await listen(http.createServer((_req, res) => res.end('ok')));
    const rec = new Recorder();
    const p = new Prober({ name: 'p', url: `http://127.0.0.1:${port}/`, rate: 50, timeoutMs: 2000 }, rec);
    p.begin();
    const until = performance.now() + 300;
    while (performance.now() < until) { /* the event loop is blocked: requests fall behind their schedule */ }
    await sleep(300);
    await p.stop();
    const ev = probes(rec).sort((a, b) => a.t - b.t);
    expect(ev.length).to.equal(p.sent);
    expect(ev.every((e) => e.ok)).to.equal(true);
    // the request intended 20 ms after the start left ~280 ms late: its latency includes that
    expect(ev[1].t).to.be.closeTo(ev[0].t + 20, 0.001);
    expect(ev[1].latency).to.be.greaterThan(250);
    expect(p.maxLagMs).to.be.greaterThan(250);
    expect(p.lagPercentile(100)).to.be.greaterThan(250);
  });

  it('records a timeout as a failure at the timeout value, and stop() waits for requests in flight', async () => {
    const { server, stats } = rawServer(() => { /* never answer */ });
    const { port } = await listen(server);
    const { p, events } = await run(`http://127.0.0.1:${port}/`, 20, 300, { timeoutMs: 250 });
    expect(p.sent).to.be.greaterThan(3);
    expect(events.length).to.equal(p.sent);
    for (const e of events) expect(e).to.include({ ok: false, latency: 250, error: 'timeout', status: undefined });
    // every request went out on its own connection (none was free), none was pipelined
    expect(stats.connections).to.equal(p.sent);
  });

  it('counts a non-2xx/3xx status as a failure "HTTP nnn" unless expectStatus lists it', async () => {
    let n = 0;
    const { port } = await listen(http.createServer((_req, res) => { res.statusCode = n++ % 2 ? 503 : 200; res.end('x'); }));
    const a = await run(`http://127.0.0.1:${port}/`, 50, 400);
    expect(a.events.length).to.equal(a.p.sent);
    const bad = a.events.filter((e) => !e.ok);
    expect(bad.length).to.be.greaterThan(0);
    for (const e of bad) expect(e).to.include({ status: 503, error: 'HTTP 503' });
    expect(a.events.filter((e) => e.ok).every((e) => e.status === 200 && e.error === undefined)).to.equal(true);
    // the server alternates 200 and 503: exactly every other answer failed
    const ok = a.events.filter((e) => e.ok).length;
    expect(Math.abs(ok - bad.length)).to.be.at.most(1);
    expect(a.p.windowAvailability(60_000)).to.equal((ok * 100) / a.events.length);
    const b = await run(`http://127.0.0.1:${port}/`, 50, 200, { expectStatus: [503] });
    expect(b.events.filter((e) => e.ok).every((e) => e.status === 503)).to.equal(true);
    expect(b.events.filter((e) => !e.ok).every((e) => e.error === 'HTTP 200')).to.equal(true);
  });

  it('records a refused connection as a failure', async () => {
    const { server, port } = await listen(net.createServer());
    await new Promise((r) => server.close(r));
    const { p, events } = await run(`http://127.0.0.1:${port}/`, 20, 200);
    expect(p.sent).to.be.greaterThan(0);
    expect(events.length).to.equal(p.sent);
    for (const e of events) expect(e).to.include({ ok: false, error: 'ECONNREFUSED', status: undefined });
    expect(p.windowAvailability(60_000)).to.equal(0);
  });

  it('parses Content-Length, chunked (extensions, trailers), 1xx and read-until-close bodies split across reads, reusing connections', async () => {
    const kinds = ['length', 'chunked', 'interim', 'empty'] as const;
    let i = 0;
    const { server, stats } = rawServer((sock) => {
      const kind = kinds[i++ % kinds.length];
      const pieces = {
        length: ['HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 11\r\nX-A: b\r\n', '\r', '\nhello', ' world'],
        chunked: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r', '\nhello\r\n', '6\r\n wo', 'rld\r\n0\r\nX-Trailer: y\r\n', '\r\n'],
        interim: ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n'],
        empty: ['HTTP/1.1 301 Moved\r\nContent-Length: 0\r\nLocation: /x\r\n\r\n'],
      }[kind];
      void dribble(sock, pieces);
    });
    const { port } = await listen(server);
    let closedBeforeStop = NaN;
    const { p, events } = await run(`http://127.0.0.1:${port}/`, 20, 1000, { beforeStop: () => { closedBeforeStop = stats.closedByClient; } });
    expect(p.sent).to.be.greaterThan(10);
    expect(events.length).to.equal(p.sent);
    expect(events.map((e) => e.error).filter(Boolean)).to.deep.equal([]);
    expect(new Set(events.map((e) => e.status))).to.deep.equal(new Set([200, 204, 301]));
    // each response was consumed exactly, so no connection was dropped for stray bytes and the next
    // request reused one (at 20/s one or two suffice)
    expect(closedBeforeStop).to.equal(0);
    // a connection is opened only when every open one is busy: never more than the peak in flight
    // (however slow the machine makes each request), and each was one the server saw
    expect(stats.connections).to.equal(p.connectionsOpened);
    expect(p.connectionsOpened).to.be.at.most(p.maxInFlight);
    expect(p.connectionsOpened).to.be.lessThan(p.sent);

    // a body without a length ends with the connection
    const close = rawServer((sock) => { void dribble(sock, ['HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome', ' body']).then(() => sock.end()); });
    const c = await run(`http://127.0.0.1:${(await listen(close.server)).port}/`, 20, 300);
    expect(c.events.length).to.equal(c.p.sent);
    expect(c.events.every((e) => e.ok && e.status === 200)).to.equal(true);
    expect(close.stats.connections).to.equal(c.p.sent);
  });

  it('fails a response cut short or malformed, and never retries a fresh connection', async () => {
    const short = rawServer((sock) => { void dribble(sock, ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc']).then(() => sock.destroy()); });
    const a = await run(`http://127.0.0.1:${(await listen(short.server)).port}/`, 20, 200);
    expect(a.events.length).to.equal(a.p.sent);
    for (const e of a.events) expect(e).to.include({ ok: false, status: 200, error: 'aborted' });

    const junk = rawServer((sock) => { sock.write('SSH-2.0-OpenSSH\r\n\r\n'); });
    const b = await run(`http://127.0.0.1:${(await listen(junk.server)).port}/`, 20, 200);
    for (const e of b.events) expect(e).to.include({ ok: false, error: 'HPE_INVALID_RESPONSE' });

    const reset = rawServer((sock) => { sock.destroy(); });
    const c = await run(`http://127.0.0.1:${(await listen(reset.server)).port}/`, 20, 200);
    expect(c.events.length).to.equal(c.p.sent);
    expect(reset.stats.requests).to.equal(c.p.sent); // one try each
    for (const e of c.events) expect(e).to.include({ ok: false, error: 'ECONNRESET' });
  });

  it('sends again, once, on a fresh connection when a reused keep-alive connection is closed before any answer', async () => {
    // the server answers the first request of a connection, and closes it on the second (keep-alive race)
    const { server, stats } = rawServer((sock, n) => {
      if (n === 1) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'); else sock.destroy();
    });
    const { port } = await listen(server);
    const { p, events } = await run(`http://127.0.0.1:${port}/`, 20, 500);
    expect(events.length).to.equal(p.sent);
    expect(events.every((e) => e.ok)).to.equal(true);
    expect(stats.requests).to.be.greaterThan(p.sent); // the retries
  });

  it('speaks https (verifying the certificate as node:https does)', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prober-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
      this.skip();
    }
    const { port } = await listen(https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      res.write('path '); // write + end: a chunked body
      res.end(req.url);
    }));
    fs.rmSync(dir, { recursive: true, force: true });
    const url = `https://127.0.0.1:${port}/a?b=1`;
    const untrusted = await run(url, 20, 200);
    expect(untrusted.events.length).to.be.greaterThan(0);
    for (const e of untrusted.events) expect(e).to.include({ ok: false, error: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const prev = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const trusted = await run(url, 20, 400);
      expect(trusted.events.length).to.equal(trusted.p.sent).and.to.be.greaterThan(3);
      expect(trusted.events.every((e) => e.ok && e.status === 200)).to.equal(true);
    } finally {
      if (prev === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED; else process.env.NODE_TLS_REJECT_UNAUTHORIZED = prev;
    }
  });
});
