// The harness's list+watch against a scripted apiserver on 127.0.0.1: bookmarks and resourceVersions,
// relist on 410 Gone, and an apiserver that goes away recorded as a gap (not a crash) that ends when it
// comes back.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { Kube } from '../../harness/k8s/index.js';
import { ListWatch } from '../../harness/k8s/watch.js';
import { eventually } from '../support/lab.js';

interface Fake { port: number; lists: number; watches: string[]; mode: 'ok' | 'gone'; close(): Promise<void>; open(): Promise<void> }

async function fakeApiserver(port = 0): Promise<Fake> {
  const sockets = new Set<Socket>();
  let server: http.Server;
  const f: Fake = {
    port, lists: 0, watches: [], mode: 'ok',
    async close() { for (const s of sockets) s.destroy(); await new Promise((r) => server.close(r)); },
    async open() {
      server = http.createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const node = (name: string, rv: string) => ({ kind: 'Node', apiVersion: 'v1', metadata: { name, resourceVersion: rv } });
        if (url.searchParams.get('watch') !== 'true') {
          f.lists++;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: String(10 * f.lists) }, items: [node('n1', String(10 * f.lists))] }));
          return;
        }
        f.watches.push(url.searchParams.get('resourceVersion') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        if (f.mode === 'gone') {
          f.mode = 'ok';
          res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } }) + '\n');
          return;
        }
        const rv = Number(url.searchParams.get('resourceVersion'));
        res.write(JSON.stringify({ type: 'ADDED', object: node(`n-${rv + 1}`, String(rv + 1)) }) + '\n');
        res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: String(rv + 5) } } }) + '\n');
        // stays open, like a real watch, until the test closes the server
      });
      server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
      await new Promise<void>((r) => server.listen(f.port, '127.0.0.1', r));
      f.port = (server.address() as AddressInfo).port;
    },
  };
  await f.open();
  return f;
}

function kubeFor(port: number): Kube {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }], contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }], currentContext: 'fake',
  });
  return new Kube(kc);
}

describe('list + watch', function () {
  this.timeout(30_000);

  it('watches from the list resourceVersion, follows bookmarks, and relists on 410 Gone', async () => {
    const api = await fakeApiserver();
    const kube = kubeFor(api.port);
    const seen: string[] = [];
    let lists = 0;
    const lw = new ListWatch<k8s.V1Node>(kube, '/api/v1/nodes', () => kube.core.listNode(), { onList: () => { lists++; }, onEvent: (t, n) => seen.push(`${t} ${n.metadata!.name}`) }, 2);
    try {
      await lw.start();
      await eventually('an event', 5000, async () => seen.length > 0 || undefined, 20);
      expect(seen[0]).to.equal('ADDED n-11');
      expect(api.watches[0]).to.equal('10');
      api.mode = 'gone';
      await api.close();
      await api.open();
      await eventually('relisted after 410', 10_000, async () => (lists >= 2 ? true : undefined), 50);
      // after the 410 the watch resumes from the new list's resourceVersion, not the expired one
      await eventually('watch from the new list', 10_000, async () => (api.watches.includes(String(10 * api.lists)) ? true : undefined), 50);
    } finally {
      lw.stop();
      await api.close();
    }
  });

  it('records an unreachable apiserver as a gap and carries on when it returns', async () => {
    const api = await fakeApiserver();
    const kube = kubeFor(api.port);
    const gaps: string[] = [];
    let ended = 0;
    const lw = new ListWatch<k8s.V1Node>(kube, '/api/v1/nodes', () => kube.core.listNode(), { onList: () => {}, onEvent: () => {}, onGap: (e) => gaps.push(e), onGapEnd: () => { ended++; } }, 2);
    try {
      await lw.start();
      await api.close();
      await eventually('a gap', 10_000, async () => (gaps.length ? true : undefined), 50);
      expect(gaps).to.have.length(1);
      await new Promise((r) => setTimeout(r, 1500));
      expect(gaps, 'one gap, however many retries').to.have.length(1);
      await api.open();
      await eventually('the gap ends', 10_000, async () => (ended === 1 ? true : undefined), 50);
      expect(lw.reconnects).to.be.above(1);
    } finally {
      lw.stop();
      await api.close();
    }
  });
});
