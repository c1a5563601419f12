// Observer at scale: the harness's Observer (harness/observe/observer.ts) watching a lab cluster grown
// to 100, 300 (and with --full 1,000) extra KWOK nodes with 30 pods each, measured in a child process
// of its own (this file, started with BENCH_SCALE_CHILD=1) so its memory and CPU are its own:
// RSS after the initial list, peak RSS, CPU for list + sync and per 1,000 watch events, and event lag
// (observer's record time − the apiserver's commit time from the audit log) for changes made at a
// fixed rate. The extra nodes are Node objects created here (KWOK heart-beats them; no EC2 instance
// behind them) and the pods are created with spec.nodeName set (the scheduler would be far too slow).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDist, type BenchOptions, type BenchResult, type Table, type Target } from './common.js';
import { auditTimeMs, readAuditLines } from './audit.js';
import { NS, type ChildMsg, type ChildPodEvent } from './scale-child.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(THIS_FILE), '..');
/** The observer child, compiled by `npm run build` (tsconfig.build.json) and run under plain node. */
const CHILD_JS = path.join(ROOT, 'dist', 'bench', 'scale-child.js');
/** Peak RSS at 1,006 nodes / 30,000 pods with the child under tsx (npm run bench -- --only scale --full, 2026-11-26). */
const TSX_PEAK_RSS_MB_1006 = 382;
const PODS_PER_NODE = 30;
const CHANGE_RATE = 20; // changes per second in the lag window
const DEFAULT_WINDOW_S = 30;
const CREATE_CONCURRENCY = 50;
const UA = 'chaos-bench-scale';
const TARGET_RSS_MB = 300;
const TARGET_LAG_P99_MS = 1000;
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

// ---------------------------------------------------------------------------------------------
// The parent: grows the lab, drives changes, reads the audit log.
// ---------------------------------------------------------------------------------------------

interface Res { status: number; body: string; doneNs: bigint }

/** A small keep-alive HTTPS client for the lab apiserver (client-node opens a connection per call). */
export class Api {
  private readonly agent = new https.Agent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: false });
  constructor(private readonly server: string, private readonly token: string) {}
  close(): void { this.agent.destroy(); }
  req(method: string, p: string, body?: unknown, contentType = 'application/json'): Promise<Res> {
    const url = new URL(this.server + p);
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const r = https.request({
        method, host: url.hostname, port: url.port, path: url.pathname + url.search, agent: this.agent,
        headers: { Authorization: `Bearer ${this.token}`, 'User-Agent': UA, Accept: 'application/json', ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), doneNs: process.hrtime.bigint() }));
        res.on('error', reject);
      });
      r.setTimeout(60_000, () => r.destroy(new Error(`${method} ${p}: timeout`)));
      r.on('error', reject);
      if (data) r.write(data);
      r.end();
    });
  }
  /** retried on 429/5xx/connection errors; returns the last answer */
  async call(method: string, p: string, body?: unknown, contentType?: string, ok: number[] = [200, 201]): Promise<Res> {
    let last: Res | undefined;
    for (let i = 0; i < 8; i++) {
      try {
        last = await this.req(method, p, body, contentType);
        if (ok.includes(last.status) || (last.status < 500 && last.status !== 429)) return last;
      } catch (err) {
        if (i === 7) throw err;
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
    return last!;
  }
}

export async function pool<T>(items: T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function scaleNodeName(k: number): string {
  return `scale-${ZONES[k % 3]}-${String(Math.floor(k / 3)).padStart(4, '0')}`;
}

/** The shape of lab/manifests.ts nodeObject, without an EC2 instance (no providerID), up to 110 pods. */
export function scaleNode(k: number, cluster: string, labels: { heartbeat: string; zone: string; region: string; nodegroup: string }): Record<string, unknown> {
  const zone = ZONES[k % 3];
  const z = k % 3;
  const o = Math.floor(k / 3);
  const name = scaleNodeName(k);
  const ip = `10.${64 + z}.${o >> 8}.${(o & 255)}`;
  const podCIDR = `10.${128 + z * 2 + (o >> 8)}.${o & 255}.0/24`;
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
        [labels.region]: 'us-east-1', [labels.zone]: zone, 'node.kubernetes.io/instance-type': 'm5.large',
        [labels.nodegroup]: `${cluster}-scale-${zone}`, [labels.heartbeat]: 'on', type: 'kwok', 'lab.chaos.local/scale': 'true',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
    spec: { podCIDR, podCIDRs: [podCIDR] },
    status: {
      addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }],
      capacity: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      allocatable: { cpu: '15890m', memory: '62Gi', pods: '110', 'ephemeral-storage': '90Gi' },
      nodeInfo: {
        architecture: 'amd64', bootID: '', containerRuntimeVersion: 'containerd://1.7.27', kernelVersion: '6.1.119-129.201.amzn2023.x86_64',
        kubeProxyVersion: 'v1.36.3', kubeletVersion: 'v1.36.3', machineID: name, operatingSystem: 'linux', osImage: 'Amazon Linux 2023.6.20241212', systemUUID: name,
      },
    },
  };
}

export function podObject(name: string, node: string): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'scale' } },
    spec: {
      nodeName: node, automountServiceAccountToken: false, terminationGracePeriodSeconds: 30,
      containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '10m', memory: '32Mi' } } }],
    },
  };
}

interface ProcSample { name: string; rssMB: number; cpuS: number }
const CLK_TCK = 100;
function procSample(p: { name: string; pid: number }): ProcSample {
  try {
    const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8');
    return { name: p.name, rssMB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN) / 1024, cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK };
  } catch {
    return { name: p.name, rssMB: NaN, cpuS: NaN };
  }
}

interface AuditLine { stage?: string; verb?: string; userAgent?: string; objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string }; responseStatus?: { code?: number }; stageTimestamp?: string }

interface Change { kind: 'create' | 'notready' | 'delete'; name: string; sentNs: bigint; doneNs?: bigint; status?: number }

interface SizeFigures {
  scaleNodes: number;
  nodes: number;
  pods: number;
  createNodesS: number;
  createPodsS: number;
  podsRunningS: number;
  createdPerS: number;
  baseRssMB: number;
  listS: number;
  listCpuS: number;
  rssAfterListMB: number;
  peakRssMB: number;
  heapAfterListMB: number;
  windowCpuS: number;
  windowEvents: number;
  cpuPer1kEventsS: number;
  changes: number;
  matched: number;
  lagAudit: { p50: number; p99: number; max: number; n: number };
  lagClient: { p50: number; p99: number; max: number; n: number };
  byKind: Record<string, { n: number; p50: number; p99: number; max: number }>;
  lab: ProcSample[];
  labCpuDuringCreateS: Record<string, number>;
}

const bench = async ({ full, log }: BenchOptions): Promise<BenchResult> => {
  const { fork } = await import('node:child_process');
  const { labDown, labUp, readState } = await import('../lab/cluster.js');
  const { labPaths, REPO_ROOT } = await import('../lab/paths.js');
  const { labKube } = await import('../lab/kube.js');
  const { HEARTBEAT_LABEL, NODEGROUP_LABEL } = await import('../lab/topology.js');
  const { fmt, quantile } = await import('./common.js');
  const stats = (xs: number[]) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN, n: xs.length });

  // BENCH_SCALE_SIZES=20,50 and BENCH_SCALE_WINDOW_S=10: quick runs while working on the bench itself
  const sizes = process.env.BENCH_SCALE_SIZES ? process.env.BENCH_SCALE_SIZES.split(',').map(Number) : full ? [100, 300, 1000] : [100, 300];
  const WINDOW_S = Number(process.env.BENCH_SCALE_WINDOW_S ?? DEFAULT_WINDOW_S);
  ensureDist(CHILD_JS, log, ['bench/scale-child.ts', 'bench/audit.ts']);
  const paths = labPaths(path.join(REPO_ROOT, '.lab-bench'));
  const opts = { clusterName: 'chaos-lab-bench', nodesPerZone: 2, timing: 'upstream' as const, runtime: 'containerd' as const };
  const t0 = Date.now();
  const figures: SizeFigures[] = [];
  const notes: string[] = [];
  let failure: string | undefined;
  if (readState(paths)) await labDown(log, paths);
  let api: Api | undefined;
  let obsChild: ChildProcess | undefined;
  try {
    const up = await labUp(opts, log, paths);
    const state = up.state;
    const kc = labKube(paths.kubeconfig).kc;
    api = new Api(state.apiserverUrl, kc.getCurrentUser()!.token!);
    const a = api;
    const labProcs = () => state.procs.map(procSample);
    // namespace, its default ServiceAccount (pod admission needs it), a Service over the pods
    await a.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, undefined, [201, 409]);
    for (let i = 0; ; i++) {
      if ((await a.req('GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`)).status === 200) break;
      if (i > 150) throw new Error(`no default ServiceAccount in namespace ${NS} after 30 s`);
      await sleep(200);
    }
    await a.call('POST', `/api/v1/namespaces/${NS}/services`, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'scale', namespace: NS },
      spec: { selector: { app: 'scale' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    }, undefined, [201, 409]);

    let nodesMade = 0;
    let podsMade = 0;
    for (const size of sizes) {
      // ---- grow: nodes, then 30 pods on each new node ----
      const cpuBefore = labProcs();
      let t = performance.now();
      const newNodes = Array.from({ length: size - nodesMade }, (_, i) => nodesMade + i);
      await pool(newNodes, CREATE_CONCURRENCY, async (k) => {
        const r = await a.call('POST', '/api/v1/nodes', scaleNode(k, opts.clusterName, { heartbeat: HEARTBEAT_LABEL, zone: 'topology.kubernetes.io/zone', region: 'topology.kubernetes.io/region', nodegroup: NODEGROUP_LABEL }), undefined, [201, 409]);
        if (r.status !== 201 && r.status !== 409) throw new Error(`create node ${scaleNodeName(k)}: ${r.status} ${r.body.slice(0, 300)}`);
      });
      nodesMade = size;
      for (let i = 0; ; i++) {
        const l = JSON.parse((await a.call('GET', '/api/v1/nodes?labelSelector=lab.chaos.local%2Fscale%3Dtrue')).body) as { items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> };
        const ready = l.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
        if (ready >= size) break;
        if (i > 300) throw new Error(`only ${ready}/${size} scale nodes Ready after 5 min`);
        await sleep(1000);
      }
      const createNodesS = (performance.now() - t) / 1000;
      log(`${size} scale nodes Ready (${newNodes.length} created in ${fmt(createNodesS, 1)} s)`);

      t = performance.now();
      const podJobs: Array<{ name: string; node: string }> = [];
      for (const k of newNodes) for (let j = 0; j < PODS_PER_NODE; j++) podJobs.push({ name: `p-${String(k).padStart(4, '0')}-${String(j).padStart(2, '0')}`, node: scaleNodeName(k) });
      let lastLog = performance.now();
      let done = 0;
      await pool(podJobs, CREATE_CONCURRENCY, async (p) => {
        const r = await a.call('POST', `/api/v1/namespaces/${NS}/pods`, podObject(p.name, p.node), undefined, [201, 409]);
        if (r.status !== 201 && r.status !== 409) throw new Error(`create pod ${p.name}: ${r.status} ${r.body.slice(0, 300)}`);
        if (++done && performance.now() - lastLog > 15_000) { lastLog = performance.now(); log(`  ${done}/${podJobs.length} pods created`); }
      });
      const createPodsS = (performance.now() - t) / 1000;
      podsMade += podJobs.length;
      log(`${podJobs.length} pods created in ${fmt(createPodsS, 1)} s (${fmt(podJobs.length / createPodsS, 0)}/s); waiting for KWOK to run them`);
      for (let i = 0; ; i++) {
        const l = JSON.parse((await a.call('GET', `/api/v1/namespaces/${NS}/pods?fieldSelector=status.phase%3DPending&limit=1`)).body) as { items: unknown[] };
        if (!l.items.length) break;
        if (i > 600) throw new Error('pods still Pending after 10 min');
        await sleep(1000);
      }
      const podsRunningS = (performance.now() - t) / 1000;
      const cpuAfter = labProcs();
      const labCpuDuringCreateS = Object.fromEntries(cpuAfter.map((p, i) => [p.name, p.cpuS - (cpuBefore[i]?.cpuS ?? 0)]));
      log(`all ${podsMade} pods Running ${fmt(podsRunningS, 1)} s after the first create; lab CPU-s meanwhile: ${Object.entries(labCpuDuringCreateS).map(([n, c]) => `${n} ${fmt(c, 0)}`).join(', ')}`);
      await sleep(5000); // EndpointSlices and KWOK settle

      // ---- the observer, in its own process ----
      // plain node: no tsx flags from this process (execArgv), none through NODE_OPTIONS
      const childEnv = { ...process.env, BENCH_SCALE_CHILD: '1', NODE_OPTIONS: (process.env.NODE_OPTIONS ?? '').split(/\s+/).filter((x) => x && !/tsx/.test(x)).join(' ') };
      const c = fork(CHILD_JS, [], { cwd: ROOT, execArgv: [], env: childEnv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      obsChild = c;
      const waitMsg = <K extends ChildMsg['type']>(type: K, timeoutMs = 600_000) => new Promise<Extract<ChildMsg, { type: K }>>((resolve, reject) => {
        const to = setTimeout(() => { cleanup(); reject(new Error(`observer child: no ${type} within ${timeoutMs / 1000} s`)); }, timeoutMs);
        const onMsg = (m: ChildMsg) => {
          if (m.type === 'error') { cleanup(); reject(new Error(`observer child: ${m.error}`)); } else if (m.type === type) { cleanup(); resolve(m as Extract<ChildMsg, { type: K }>); }
        };
        const onExit = (code: number | null, sig: string | null) => { cleanup(); reject(new Error(`observer child exited (${code ?? sig}) while waiting for ${type}`)); };
        const cleanup = () => { clearTimeout(to); c.off('message', onMsg); c.off('exit', onExit); };
        c.on('message', onMsg);
        c.on('exit', onExit);
      });
      const ready = await waitMsg('ready');
      log(`observer child: ${CHILD_JS} under plain node (execArgv ${JSON.stringify(ready.execArgv)}, NODE_OPTIONS ${JSON.stringify(ready.nodeOptions)}), ${fmt(ready.base.rssMB, 0)} MB after its imports`);
      c.send({ cmd: 'start', kubeconfig: paths.kubeconfig });
      const listed = await waitMsg('listed');
      log(`observer: listed ${listed.nodes} nodes and ${listed.pods} pods in ${fmt(listed.listS, 2)} s (${fmt(listed.cpuS, 2)} CPU-s), RSS ${fmt(listed.mem.rssMB, 0)} MB (peak so far ${fmt(listed.mem.hwmMB, 0)} MB; ${fmt(ready.base.rssMB, 0)} MB before the observer started)`);
      await sleep(2000);

      // ---- changes at a fixed rate; lag = observer record time − commit time ----
      const auditOffset = fs.existsSync(paths.audit) ? fs.statSync(paths.audit).size : 0;
      c.send({ cmd: 'mark' });
      await waitMsg('marked');
      const changes: Change[] = [];
      const lagPods: string[] = [];
      const n = CHANGE_RATE * WINDOW_S;
      const start = performance.now();
      const inflight: Promise<void>[] = [];
      let rnd = 12345 + size;
      const rand = (m: number) => { rnd = (rnd * 1103515245 + 12345) & 0x7fffffff; return rnd % m; };
      for (let i = 0; i < n; i++) {
        const due = start + (i * 1000) / CHANGE_RATE;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const kind = (['create', 'notready', 'delete'] as const)[i % 3];
        let name: string;
        let req: () => Promise<Res>;
        if (kind === 'create') {
          name = `lag-${size}-${i}`;
          const node = scaleNodeName(rand(size));
          lagPods.push(name);
          req = () => a.req('POST', `/api/v1/namespaces/${NS}/pods`, podObject(name, node));
        } else if (kind === 'notready') {
          const k = rand(size);
          name = `p-${String(k).padStart(4, '0')}-${String(rand(PODS_PER_NODE)).padStart(2, '0')}`;
          req = () => a.req('PATCH', `/api/v1/namespaces/${NS}/pods/${name}/status`, { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'BenchLagProbe' }] } }, 'application/strategic-merge-patch+json');
        } else {
          // the pod this loop created 10 changes ago (about 1.5 s old)
          name = lagPods.length > 4 ? lagPods.splice(lagPods.length - 4, 1)[0] : lagPods.shift()!;
          req = () => a.req('DELETE', `/api/v1/namespaces/${NS}/pods/${name}`);
        }
        const ch: Change = { kind, name, sentNs: process.hrtime.bigint() };
        changes.push(ch);
        inflight.push(req().then((r) => { ch.doneNs = r.doneNs; ch.status = r.status; }, () => { ch.status = -1; }));
      }
      await Promise.all(inflight);
      const windowWallS = (performance.now() - start) / 1000;
      await sleep(3000);
      c.send({ cmd: 'collect' });
      const got = await waitMsg('collected');
      c.send({ cmd: 'exit' });
      await new Promise((r) => { c.once('exit', r); setTimeout(r, 3000); });
      obsChild = undefined;
      // leave the cluster as it was for the next size: the window's pods go
      await pool(lagPods, 20, async (name) => { await a.req('DELETE', `/api/v1/namespaces/${NS}/pods/${name}`); });

      // commit times from the audit log (the bench's own requests: its User-Agent)
      const audit = readAuditLines<AuditLine>(paths.audit, auditOffset, (l) => l.includes(UA) && l.includes('"ResponseComplete"'));
      const commit = new Map<string, number[]>(); // kind/name → commit times (wall ms), in log order
      for (const e of audit) {
        const r = e.objectRef;
        if (r?.resource !== 'pods' || r.namespace !== NS || !r.name || !e.stageTimestamp) continue;
        const kind = e.verb === 'create' && !r.subresource ? 'create' : e.verb === 'patch' && r.subresource === 'status' ? 'notready' : e.verb === 'delete' && !r.subresource ? 'delete' : undefined;
        if (!kind) continue;
        const key = `${kind}/${r.name}`;
        commit.set(key, [...(commit.get(key) ?? []), auditTimeMs(e.stageTimestamp)]);
      }
      const originMs = Number(BigInt(listed.originNs) / 1000n) / 1000;
      const obsByKey = new Map<string, ChildPodEvent[]>();
      for (const e of got.podEvents) {
        const k = e.key.slice(NS.length + 1);
        const l = obsByKey.get(k) ?? [];
        l.push(e);
        obsByKey.set(k, l);
      }
      const lagA: number[] = [];
      const lagC: number[] = [];
      const byKind: Record<string, number[]> = { create: [], notready: [], delete: [] };
      let matched = 0;
      const unmatched: string[] = [];
      const used = new Set<ChildPodEvent>();
      for (const ch of changes) {
        if (ch.status === undefined || ch.status < 200 || ch.status >= 300) continue;
        const sentMono = Number(ch.sentNs) / 1e6;
        const evs = (obsByKey.get(ch.name) ?? []).filter((e) => !used.has(e) && originMs + e.t >= sentMono);
        const hit = ch.kind === 'create' ? evs[0] : ch.kind === 'notready' ? evs.find((e) => !e.ready && !e.deleted) : evs.find((e) => e.deleted);
        if (!hit) { unmatched.push(`${ch.kind} ${ch.name}: ${(obsByKey.get(ch.name) ?? []).map((e) => `${fmt(originMs + e.t - sentMono, 0)} ms ${e.ready ? 'ready' : 'not-ready'}${e.deleted ? ' deleted' : ''}`).join(', ') || 'no record of it at all'}`); continue; }
        used.add(hit);
        matched++;
        const obsMono = originMs + hit.t;
        // the same pod may be changed twice in a window: its first commit after this request was sent
        const list = commit.get(`${ch.kind}/${ch.name}`) ?? [];
        const ci = list.findIndex((w) => w - listed.wallMinusMonoMs >= sentMono - 1);
        const cm = ci >= 0 ? list.splice(ci, 1)[0] : undefined;
        if (cm !== undefined) {
          const lag = obsMono - (cm - listed.wallMinusMonoMs);
          lagA.push(lag);
          byKind[ch.kind].push(lag);
        }
        if (ch.doneNs !== undefined) lagC.push(obsMono - Number(ch.doneNs) / 1e6);
      }
      const okChanges = changes.filter((c2) => c2.status !== undefined && c2.status >= 200 && c2.status < 300).length;
      const f: SizeFigures = {
        scaleNodes: size, nodes: listed.nodes, pods: listed.pods,
        createNodesS, createPodsS, podsRunningS, createdPerS: podJobs.length / createPodsS,
        baseRssMB: ready.base.rssMB, listS: listed.listS, listCpuS: listed.cpuS, rssAfterListMB: listed.mem.rssMB,
        peakRssMB: Math.max(got.mem.hwmMB, listed.mem.hwmMB), heapAfterListMB: listed.mem.heapMB,
        windowCpuS: got.cpuS, windowEvents: got.events, cpuPer1kEventsS: got.events ? (got.cpuS / got.events) * 1000 : NaN,
        changes: okChanges, matched, lagAudit: stats(lagA), lagClient: stats(lagC),
        byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, stats(v)])),
        lab: labProcs(), labCpuDuringCreateS,
      };
      figures.push(f);
      if (unmatched.length) notes.push(`${f.nodes} nodes: ${unmatched.length} change(s) without a matching observer record (records of that pod after the request was sent): ${unmatched.slice(0, 5).join('; ')}`);
      log(`window: ${okChanges} changes in ${fmt(windowWallS, 1)} s, ${got.events} watch events, ${fmt(got.cpuS, 2)} CPU-s; ` +
        `lag (audit commit → recorded) p50 ${fmt(f.lagAudit.p50, 1)} p99 ${fmt(f.lagAudit.p99, 1)} max ${fmt(f.lagAudit.max, 1)} ms over ${f.lagAudit.n}; matched ${matched}/${okChanges}; ` +
        `peak RSS ${fmt(f.peakRssMB, 0)} MB`);
      log(`lab processes: ${f.lab.map((p) => `${p.name} ${fmt(p.rssMB, 0)} MB`).join(', ')}`);
    }
  } catch (err) {
    failure = (err as Error).stack ?? String(err);
    log(`FAILED: ${failure}`);
  } finally {
    if (obsChild && obsChild.exitCode === null) obsChild.kill('SIGKILL');
    api?.close();
    await labDown(log, paths);
  }

  const last = figures.at(-1);
  const obsTable: Table = {
    title: `Observer (own process) watching the lab: ${PODS_PER_NODE} pods per added node, ${CHANGE_RATE} changes/s for ${WINDOW_S} s (create / NotReady / delete pods, in turn)`,
    columns: ['nodes', 'pods', 'list+sync s', 'RSS before MB', 'RSS after list MB', 'peak RSS MB', 'own peak MB', 'heap MB', 'CPU s list', 'CPU s /1k events', 'events', 'lag p50 ms', 'lag p99 ms', 'lag max ms', 'matched'],
    rows: figures.map((f) => [f.nodes, f.pods, fmt(f.listS, 2), fmt(f.baseRssMB, 0), fmt(f.rssAfterListMB, 0), fmt(f.peakRssMB, 0), fmt(f.peakRssMB - f.baseRssMB, 0), fmt(f.heapAfterListMB, 0), fmt(f.listCpuS, 2),
      fmt(f.cpuPer1kEventsS, 3), f.windowEvents, fmt(f.lagAudit.p50, 1), fmt(f.lagAudit.p99, 1), fmt(f.lagAudit.max, 1), `${f.matched}/${f.changes}`]),
  };
  const growTable: Table = {
    title: 'Growing the lab (this machine): creating the nodes and pods, and the lab processes afterwards',
    columns: ['nodes', 'pods', 'nodes Ready s', 'pods created s', 'create/s', 'all Running s', 'apiserver MB', 'etcd MB', 'kwok MB', 'ctrl-mgr MB', 'lab daemon MB', 'apiserver CPU s', 'lab daemon CPU s'],
    rows: figures.map((f) => {
      const p = (n: string) => f.lab.find((x) => x.name === n)?.rssMB ?? NaN;
      return [f.nodes, f.pods, fmt(f.createNodesS, 1), fmt(f.createPodsS, 1), fmt(f.createdPerS, 0), fmt(f.podsRunningS, 1), fmt(p('kube-apiserver'), 0), fmt(p('etcd'), 0), fmt(p('kwok'), 0), fmt(p('kube-controller-manager'), 0), fmt(p('lab-daemon'), 0),
        fmt(f.labCpuDuringCreateS['kube-apiserver'] ?? NaN, 0), fmt(f.labCpuDuringCreateS['lab-daemon'] ?? NaN, 0)];
    }),
  };
  const lagTable: Table = {
    title: 'Event lag by change (ms; audit commit → observer record) and against the client\'s response time',
    columns: ['nodes', 'create p50/p99', 'NotReady p50/p99', 'delete p50/p99', 'vs client response p50/p99/max'],
    rows: figures.map((f) => [f.nodes, ...(['create', 'notready', 'delete'] as const).map((k) => `${fmt(f.byKind[k]?.p50, 1)} / ${fmt(f.byKind[k]?.p99, 1)}`),
      `${fmt(f.lagClient.p50, 1)} / ${fmt(f.lagClient.p99, 1)} / ${fmt(f.lagClient.max, 1)}`]),
  };
  const targets: Target[] = last ? [
    { what: `observer process peak RSS at ${last.nodes} nodes / ${last.pods} pods (whole process: Node + client-node + Observer, compiled dist/ under plain node)`, target: `< ${TARGET_RSS_MB} MB`, measured: `${fmt(last.peakRssMB, 0)} MB (${fmt(last.baseRssMB, 0)} MB of it before the Observer started; under tsx, 1,006 nodes / 30,000 pods: ${TSX_PEAK_RSS_MB_1006} MB)`, met: last.peakRssMB < TARGET_RSS_MB },
    { what: `event lag p99 at ${last.nodes} nodes / ${last.pods} pods`, target: `< ${TARGET_LAG_P99_MS} ms`, measured: `${fmt(last.lagAudit.p99, 1)} ms`, met: last.lagAudit.p99 < TARGET_LAG_P99_MS },
  ] : [];
  if (full && (figures.length < sizes.length || failure)) targets.push({ what: `largest size run (${sizes.at(-1)} added nodes)`, target: 'completed', measured: `${last?.scaleNodes ?? 0} added nodes${failure ? `; failed: ${failure.split('\n')[0]}` : ''}`, met: false });
  if (failure) notes.push(`run failed after ${figures.length} size(s): ${failure.split('\n')[0]}`);
  notes.push(
    `nodes = ${'`'}scale-<zone>-<n>${'`'} Node objects created by the bench (shape of lab/manifests.ts nodeObject, heartbeat label on so KWOK manages them, no providerID: no EC2 instance behind them) + the lab's 6; pods created with spec.nodeName (no scheduler), label app=scale, behind a ClusterIP Service (EndpointSlices watched too)`,
    'lab timing "upstream" (40 s node leases, renewed every 10 s by KWOK; 50 s grace), so a loaded apiserver does not turn nodes NotReady and evict pods mid-run',
    `RSS = VmRSS of the observer process (Node + client-node + the Observer with its Recorder), run from the compiled dist/bench/scale-child.js under plain node as an installed \`chaos\` runs (until this change it ran under tsx: about 200 MB before the Observer started and ${TSX_PEAK_RSS_MB_1006} MB peak at 1,006 nodes / 30,000 pods); "RSS before" is that process after its imports, before the Observer started; peak RSS = VmHWM; own peak = peak − before; heap = V8 heapUsed right after the list`,
    'lag: CLOCK_MONOTONIC of the observer\'s record − the audit log\'s stageTimestamp (ResponseComplete, µs) of the bench\'s own request, converted with a wall−monotonic offset sampled in the observer process; "vs client response" uses the bench\'s response time instead (can be negative: the watch event may beat the response)',
    'CPU s /1k events: observer CPU during the change window (plus 3 s) / watch events it received (pods, nodes, EndpointSlices, incl. KWOK\'s status writes)',
  );
  return {
    name: 'scale',
    title: `Observer at scale: ${sizes.map((s) => s + 6).join(' → ')} nodes, ${PODS_PER_NODE} pods per added node`,
    tables: [obsTable, lagTable, growTable],
    targets,
    setup: { sizes, podsPerNode: PODS_PER_NODE, changeRate: CHANGE_RATE, windowS: WINDOW_S, createConcurrency: CREATE_CONCURRENCY, lab: opts, totalS: (Date.now() - t0) / 1000 },
    figures: { sizes: figures },
    notes,
  };
};

export default bench;
