// One load generator run, in its own process so process.cpuUsage() charges it alone. Receives one
// job over IPC, sends { started: true } when the load begins and the result when it is over, then exits.
// CPU is measured inside this process around the load only (not the module loading before it, not
// the percentile arithmetic after it).
import fs from 'node:fs';
import autocannon from 'autocannon';
import { Prober } from '../../harness/probes/prober.js';
import { Recorder } from '../../harness/timeline.js';
import { UndiciProber } from './undici-prober.js';

export interface LoadJob {
  /** prober: the harness's (hand-written engine); prober (undici): the same prober with undici as the engine */
  tool: 'prober' | 'prober (undici)' | 'autocannon';
  url: string;
  /** requests per second; for autocannon undefined = unthrottled (closed loop, as fast as it can) */
  rate?: number;
  durationMs: number;
  /** autocannon connections */
  connections?: number;
  /** probers: the scenario probe option connection ('keep-alive' by default) */
  connection?: 'keep-alive' | 'new';
  timeoutMs: number;
  /** latencies at or above this count as "slow" */
  slowMs: number;
}

export interface LoadResult {
  tool: LoadJob['tool'];
  /** requests the generator sent (prober: attempts; autocannon: its `requests.sent`) */
  sent: number;
  /** responses received (any status) */
  completed: number;
  /** failed attempts: connection errors, timeouts, non-2xx */
  errors: number;
  wallS: number;
  cpuS: number;
  userS: number;
  systemS: number;
  p50: number;
  p99: number;
  max: number;
  /** responses with latency >= slowMs */
  slow: number;
  /** probers only: schedule lag (actual send − intended send) */
  lagP50?: number;
  lagP99?: number;
  lagMax?: number;
  /** autocannon only: its own latency summary (HdrHistogram with its coordinated-omission correction when rate-limited) */
  ownP50?: number;
  ownP99?: number;
  ownMax?: number;
  rssMb: number;
  /** voluntary context switches of this process during the load (each is the event loop going to sleep and waking up again); undefined off Linux */
  wakeups?: number;
}

/** Voluntary context switches of this process so far (Linux), else undefined. */
function voluntarySwitches(): number | undefined {
  try {
    const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch { return undefined; }
}
const diff = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : b - a);

function stats(xs: Float64Array | number[], slowMs: number): { p50: number; p99: number; max: number; slow: number } {
  const s = Float64Array.from(xs).sort();
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] : NaN);
  let slow = 0;
  for (const x of s) if (x >= slowMs) slow++;
  return { p50: q(0.5), p99: q(0.99), max: s.length ? s[s.length - 1] : NaN, slow };
}

async function runProber(j: LoadJob): Promise<LoadResult> {
  const rec = new Recorder();
  const p = new (j.tool === 'prober (undici)' ? UndiciProber : Prober)({ name: 'bench', url: j.url, rate: j.rate ?? 1, timeoutMs: j.timeoutMs, connection: j.connection }, rec);
  const w0 = voluntarySwitches();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  process.send!({ started: true });
  p.begin();
  await new Promise((r) => setTimeout(r, j.durationMs));
  await p.stop();
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const wakeups = diff(w0, voluntarySwitches());
  const lat: number[] = [];
  let errors = 0;
  for (const e of rec.events) {
    if (e.type !== 'probe') continue;
    if (!e.ok) errors++;
    if (e.status !== undefined) lat.push(e.latency);
  }
  return {
    tool: j.tool, sent: p.sent, completed: lat.length, errors, wallS,
    cpuS: (c.user + c.system) / 1e6, userS: c.user / 1e6, systemS: c.system / 1e6,
    ...stats(lat, j.slowMs),
    lagP50: p.lagPercentile(50), lagP99: p.lagPercentile(99), lagMax: p.maxLagMs,
    rssMb: process.memoryUsage.rss() / 1e6, wakeups,
  };
}

async function runAutocannon(j: LoadJob): Promise<LoadResult> {
  const lat: number[] = [];
  const w0 = voluntarySwitches();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  process.send!({ started: true });
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const inst = autocannon({
      url: j.url,
      connections: j.connections ?? 10,
      duration: j.durationMs / 1000,
      timeout: j.timeoutMs / 1000,
      ...(j.rate ? { overallRate: j.rate } : {}),
      headers: { 'user-agent': 'autocannon-bench' },
    }, (err, r) => (err ? reject(err as Error) : resolve(r)));
    inst.on('response', (_client, _status, _bytes, responseTime) => { lat.push(responseTime); });
  });
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const wakeups = diff(w0, voluntarySwitches());
  return {
    tool: 'autocannon', sent: result.requests.sent, completed: lat.length, errors: result.errors + result.non2xx, wallS,
    cpuS: (c.user + c.system) / 1e6, userS: c.user / 1e6, systemS: c.system / 1e6,
    ...stats(lat, j.slowMs),
    ownP50: result.latency.p50, ownP99: result.latency.p99, ownMax: result.latency.max,
    rssMb: process.memoryUsage.rss() / 1e6, wakeups,
  };
}

process.once('message', (j: LoadJob) => {
  (j.tool === 'autocannon' ? runAutocannon(j) : runProber(j)).then(
    (r) => process.send!({ result: r }, undefined, {}, () => process.exit(0)),
    (e: Error) => process.send!({ error: e.stack ?? String(e) }, undefined, {}, () => process.exit(1)),
  );
});
process.send!({ ready: true });
