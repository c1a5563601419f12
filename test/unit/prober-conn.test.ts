// The prober's connection modes against a local server: 'new' opens one TCP connection per request
// and says `Connection: close`; 'keep-alive' reuses, and with `connections: N` never pools more
// than N, sending the overflow on short-lived extra connections.
import net from 'node:net';
import { expect } from 'chai';
import { Prober, type ProbeSpec } from '../../harness/probes/prober.js';
import { Recorder } from '../../harness/timeline.js';
import { ScenarioSchema } from '../../harness/scenario.js';

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
