// The prober's connection modes against a local server: 'new' opens one TCP connection per request
// and says `Connection: close`; 'keep-alive' reuses, and with `connections: N` never pools more
// than N, sending the overflow on short-lived extra connections.
import net from 'node:net';
import { expect } from 'chai';
import { Prober, type ProbeSpec } from '../../harness/probes/prober.js';
import { Recorder } from '../../harness/timeline.js';
import { expandProbeUrls, refuseNonLoopback, ScenarioSchema } from '../../harness/scenario.js';
import { startDns } from '../support/dns.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server that answers every request after `delayMs`; it counts connections, requests and the Connection headers it saw. */
async function server(delayMs: number) {
  const stats = { connections: 0, requests: 0, close: 0, keepAlive: 0, open: 0, maxOpen: 0 };
  const s = net.createServer((sock) => {
    stats.connections++; stats.open++; stats.maxOpen = Math.max(stats.maxOpen, stats.open);
    sock.on('close', () => { stats.open--; });
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, i).toLowerCase();
        buf = buf.slice(i + 4);
        stats.requests++;
        const close = head.includes('\r\nconnection: close');
        if (close) stats.close++; else if (head.includes('\r\nconnection: keep-alive')) stats.keepAlive++;
        setTimeout(() => { if (!sock.destroyed) sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${close ? 'Connection: close\r\n' : ''}\r\nok`); if (close) sock.end(); }, delayMs);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { s, stats, url: `http://127.0.0.1:${(s.address() as net.AddressInfo).port}/` };
}

async function run(spec: Omit<ProbeSpec, 'name' | 'timeoutMs'>, ms: number) {
  const rec = new Recorder();
  const p = new Prober({ name: 'p', timeoutMs: 2000, ...spec }, rec);
  p.begin();
  await sleep(ms);
  await p.stop();
  const events = rec.events.filter((e) => e.type === 'probe') as unknown as Array<{ ok: boolean; error?: string }>;
  return { p, events };
}

describe('prober connection modes', function () {
  this.timeout(15_000);
  const open: net.Server[] = [];
  afterEach(() => { for (const s of open.splice(0)) s.close(); });

  it("connection 'new': one TCP connection per request, each with Connection: close", async () => {
    const srv = await server(5); open.push(srv.s);
    const { p, events } = await run({ url: srv.url, rate: 100, connection: 'new' }, 1000);
    expect(events.length).to.be.within(90, 110);
    expect(events.every((e) => e.ok), JSON.stringify(events.filter((e) => !e.ok).slice(0, 3))).to.equal(true);
    expect(srv.stats.requests).to.equal(events.length);
    expect(srv.stats.connections, 'a connection per request').to.equal(events.length);
    expect(srv.stats.close, 'every request said Connection: close').to.equal(events.length);
    expect(p.connectionsOpened).to.equal(events.length);
  });

  it("'keep-alive' (the default) reuses connections: a few for a fast target", async () => {
    const srv = await server(5); open.push(srv.s);
    const { events } = await run({ url: srv.url, rate: 100 }, 1000);
    expect(events.every((e) => e.ok)).to.equal(true);
    expect(srv.stats.keepAlive).to.equal(events.length);
    expect(srv.stats.connections, 'reused').to.be.below(10);
  });

  it("'keep-alive' with connections: N pools at most N; a request finding them busy goes out on a counted short-lived extra", async () => {
    // 100 req/s against 100 ms answers: about 10 in flight, with a pool of 3
    const srv = await server(100); open.push(srv.s);
    const { p, events } = await run({ url: srv.url, rate: 100, connection: 'keep-alive', connections: 3 }, 1500);
    expect(events.every((e) => e.ok), JSON.stringify(events.filter((e) => !e.ok).slice(0, 3))).to.equal(true);
    expect(p.extraConnections, 'extras were needed').to.be.at.least(50);
    expect(srv.stats.close, 'each extra said Connection: close').to.equal(p.extraConnections);
    expect(srv.stats.keepAlive, 'the rest went over the pool').to.equal(events.length - p.extraConnections);
    expect(p.connectionsOpened - p.extraConnections, 'pooled connections opened').to.equal(3);
    // without the cap the same load opens about as many connections as are in flight, and no extras
    const srv2 = await server(100); open.push(srv2.s);
    const free = await run({ url: srv2.url, rate: 100 }, 1500);
    expect(free.p.extraConnections).to.equal(0);
    expect(srv2.stats.close).to.equal(0);
    expect(free.p.connectionsOpened).to.be.at.least(8);
  });

  it('the scenario schema takes connection and connections, and refuses connections with connection: new', () => {
    const base = { name: 'x', description: 'x', fault: { kind: 'node-stop', zone: 'us-east-1a', duration: '30s' }, workloads: [{ namespace: 'default', selector: 'app=demo' }], slos: { a: 'availability(demo) >= 99%' } };
    const probe = { name: 'demo', url: 'http://127.0.0.1/', rate: 10 };
    expect(ScenarioSchema.safeParse({ ...base, probes: [{ ...probe, connection: 'new' }] }).success).to.equal(true);
    expect(ScenarioSchema.safeParse({ ...base, probes: [{ ...probe, connection: 'keep-alive', connections: 4 }] }).success).to.equal(true);
    const bad = ScenarioSchema.safeParse({ ...base, probes: [{ ...probe, connection: 'new', connections: 4 }] });
    expect(bad.success).to.equal(false);
    expect(JSON.stringify(bad.error?.issues)).to.contain('connections caps the keep-alive pool');
    expect(ScenarioSchema.safeParse({ ...base, probes: [{ ...probe, connection: 'pooled' }] }).success).to.equal(false);
    expect(() => new Prober({ name: 'p', url: 'http://127.0.0.1/', rate: 1, timeoutMs: 100, connection: 'new', connections: 2 }, new Recorder())).to.throw(/connections caps the keep-alive pool/);
  });
});

describe('prober DNS re-resolution (resolver against a local DNS server)', function () {
  this.timeout(20_000);
  const open: Array<{ close(): unknown }> = [];
  afterEach(async () => { for (const s of open.splice(0)) await s.close(); });

  /** an HTTP server on one loopback address; counts requests */
  async function at(host: string, port = 0) {
    const hits = { n: 0 };
    const s = net.createServer((sock) => {
      let buf = '';
      sock.on('data', (d) => { buf += d.toString('latin1'); let i; while ((i = buf.indexOf('\r\n\r\n')) >= 0) { buf = buf.slice(i + 4); hits.n++; sock.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'); } });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => s.listen(port, host, r));
    open.push(s);
    return { hits, port: (s.address() as net.AddressInfo).port };
  }

  it("asks again every TTL, spreads new connections over the answer, records each attempt's address, and follows a changed answer", async () => {
    const dns = await startDns(); open.push(dns);
    const a = await at('127.0.0.2');
    const b = await at('127.0.0.3', a.port);
    dns.set('demo.test', ['127.0.0.2', '127.0.0.3'], 1);
    const rec = new Recorder();
    const p = new Prober({ name: 'p', url: `http://demo.test:${a.port}/`, rate: 50, timeoutMs: 1000, connection: 'new', resolver: dns.server }, rec);
    await p.ready();
    p.begin();
    await sleep(1500);
    const changedAt = rec.now();
    dns.set('demo.test', ['127.0.0.3'], 1); // as a DNS that dropped a zone's address
    await sleep(2500);
    await p.stop();
    const ev = rec.events.filter((e) => e.type === 'probe') as unknown as Array<{ t: number; ok: boolean; addr?: string }>;
    expect(ev.every((e) => e.ok)).to.equal(true);
    const before = ev.filter((e) => e.t < changedAt);
    const n2 = before.filter((e) => e.addr === '127.0.0.2').length;
    const n3 = before.filter((e) => e.addr === '127.0.0.3').length;
    expect(Math.abs(n2 - n3), `round robin: ${n2} vs ${n3}`).to.be.at.most(2);
    expect(a.hits.n, 'server .2 got what the events say').to.equal(ev.filter((e) => e.addr === '127.0.0.2').length);
    expect(b.hits.n).to.equal(ev.filter((e) => e.addr === '127.0.0.3').length);
    // within a TTL (+ the retry) of the change, nothing goes to the dropped address any more
    const late = ev.filter((e) => e.t > changedAt + 1500);
    expect(late.length).to.be.above(30);
    expect(late.every((e) => e.addr === '127.0.0.3'), 'the dropped address gets nothing after the TTL').to.equal(true);
    expect(p.lookups, 'asked about once per TTL').to.be.within(3, 7);
    expect(dns.queries).to.be.at.least(p.lookups);
  });

  it('a name that does not resolve fails the attempts ("DNS <host>: ENOTFOUND") and recovers once it does', async () => {
    const dns = await startDns(); open.push(dns);
    const a = await at('127.0.0.2');
    const rec = new Recorder();
    const p = new Prober({ name: 'p', url: `http://missing.test:${a.port}/`, rate: 50, timeoutMs: 1000, resolver: dns.server }, rec);
    await p.ready();
    p.begin();
    await sleep(500);
    dns.set('missing.test', ['127.0.0.2'], 1);
    await sleep(2000);
    await p.stop();
    const ev = rec.events.filter((e) => e.type === 'probe') as unknown as Array<{ ok: boolean; error?: string; addr?: string }>;
    expect(ev[0]).to.include({ ok: false, error: 'DNS missing.test: ENOTFOUND' });
    expect(ev[0].addr).to.equal(undefined);
    expect(ev.at(-1)).to.include({ ok: true, addr: '127.0.0.2' });
  });

  it('on the lab an answer outside 127.0.0.0/8 is never connected to: the attempt fails, naming the answer', async () => {
    const dns = await startDns(); open.push(dns);
    dns.set('far.test', ['10.1.2.3'], 60);
    const rec = new Recorder();
    const p = new Prober({ name: 'p', url: 'http://far.test:8080/', rate: 20, timeoutMs: 500, connection: 'new', resolver: dns.server, refuseAddress: refuseNonLoopback('far.test') }, rec);
    await p.ready();
    p.begin();
    await sleep(300);
    await p.stop();
    const ev = rec.events.filter((e) => e.type === 'probe') as unknown as Array<{ ok: boolean; error?: string }>;
    expect(ev.length).to.be.at.least(3);
    expect(p.connectionsOpened, 'no connection was opened').to.equal(0);
    expect(ev.every((e) => !e.ok && e.error === 'refused: the lab target probes only 127.0.0.0/8, DNS answered 10.1.2.3 for far.test')).to.equal(true);
  });

  it('scenario resolver: ${VAR} expands; an address with a port is required; on the lab only a loopback server and a host name', () => {
    const base = { name: 'x', description: 'x', fault: { kind: 'node-stop', zone: 'us-east-1a', duration: '30s' }, workloads: [{ namespace: 'default', selector: 'app=demo' }], slos: { a: 'availability(demo) >= 99%' } };
    const load = (probe: Record<string, unknown>) => ({ ...ScenarioSchema.parse({ ...base, probes: [{ name: 'demo', rate: 10, ...probe }] }), file: '/tmp/x.yaml' });
    const s = expandProbeUrls(load({ url: 'http://demo.lab:8080/', resolver: '${LAB_DNS_SERVER}' }), { LAB_DNS_SERVER: '127.0.0.1:5353' }, true);
    expect(s.probes[0].resolver).to.equal('127.0.0.1:5353');
    expect(s.probesLoopbackOnly).to.equal(true);
    expect(() => expandProbeUrls(load({ url: 'http://demo.lab/', resolver: '${LAB_DNS_SERVER}' }), {}, true)).to.throw(/probes\[0\]\.resolver: \$\{LAB_DNS_SERVER\} is not set/);
    expect(() => expandProbeUrls(load({ url: 'http://demo.lab/', resolver: 'dns.example' }), {}, true)).to.throw(/not an IPv4 address with an optional port/);
    expect(() => expandProbeUrls(load({ url: 'http://demo.lab/', resolver: '10.0.0.2:53' }), {}, true)).to.throw(/only a DNS server on 127\.0\.0\.0\/8/);
    expect(() => expandProbeUrls(load({ url: 'http://127.0.0.1/', resolver: '127.0.0.1:53' }), {}, true)).to.throw(/is an address, nothing to resolve/);
    expect(() => expandProbeUrls(load({ url: 'http://demo.lab/' }), {}, true), 'a name without a resolver stays refused on the lab').to.throw(/probes only 127\.0\.0\.1/);
    expect(expandProbeUrls(load({ url: 'http://demo.example.com/', resolver: '10.0.0.2' }), {}, false).probes[0].resolver).to.equal('10.0.0.2');
  });
});
