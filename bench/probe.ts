// Probe engine benchmark: the harness's open-loop Prober vs autocannon (closed loop) against the same
// local HTTP target, one generator at a time, each in its own process (CPU measured inside it around
// the load only), the target in a third process. A third generator, "prober (undici)", is the same
// prober with undici as its engine instead of the hand-written HTTP/1.1 client. Fixed rates, saturation, and a 2 s target stall
// (coordinated omission: the prober measures from the intended send time, so the stall must show).
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../lab/paths.js';
import { fmt, type Bench, type Table, type Target } from './common.js';
import type { LoadJob, LoadResult } from './probe/load.js';

const DIR = path.join(REPO_ROOT, 'bench', 'probe');
const CHILD_OPTS = { cwd: REPO_ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[] };

export interface TargetProc { proc: ChildProcess; port: number; call: (m: Record<string, unknown>) => Promise<Record<string, number>> }

export async function startTarget(): Promise<TargetProc> {
  const proc = fork(path.join(DIR, 'target.ts'), [], CHILD_OPTS);
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (c) => reject(new Error(`target exited (${c}) before it was ready`)));
    proc.once('message', (m: { port: number }) => resolve(m.port));
  });
  let id = 0;
  const call = (m: Record<string, unknown>) => new Promise<Record<string, number>>((resolve) => {
    const my = ++id;
    const on = (r: Record<string, number>) => { if (r.id === my) { proc.off('message', on); resolve(r); } };
    proc.on('message', on);
    proc.send({ ...m, id: my });
  });
  return { proc, port, call };
}

/** Runs one generator in a fresh process at the given nice value; `onStarted` fires when its load begins. */
export async function runLoad(job: LoadJob, nice: number, onStarted?: () => void): Promise<LoadResult> {
  const child = fork(path.join(DIR, 'load.ts'), [], CHILD_OPTS);
  if (nice && child.pid) os.setPriority(child.pid, nice);
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => reject(new Error(`${job.tool} child exited (${c}) without a result`)));
      child.on('message', (m: { ready?: true; started?: true; result?: LoadResult; error?: string }) => {
        if (m.ready) child.send(job);
        else if (m.started) onStarted?.();
        else if (m.result) resolve(m.result);
        else if (m.error) reject(new Error(`${job.tool}: ${m.error}`));
      });
    });
  } finally {
    if (child.exitCode === null) await new Promise((r) => { child.once('exit', r); setTimeout(() => { child.kill(); r(undefined); }, 2000); });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const perCpu = (r: LoadResult) => (r.cpuS > 0 ? r.completed / r.cpuS : NaN);
const rate = (r: LoadResult) => r.completed / r.wallS;
const ms = (x: number | undefined) => (x === undefined ? '—' : fmt(x, 1));

interface Run { scenario: string; nice: number; r: LoadResult; targetServed: number; targetConnections: number }

const bench: Bench = async ({ full, log }) => {
  const D = full ? 15_000 : 6_000;
  const FIXED = [200, 1_000, 2_000];
  const SAT_RATE = 50_000;
  const AC_CONNECTIONS = 10;
  const SAT_NICE = 19;
  const STALL = { rate: 200, durationMs: 8_000, stallAtMs: 3_000, stallMs: 2_000 };
  const TIMEOUT = 5_000;
  const SLOW = 1_000;
  const acVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  const undiciVersion = (createRequire(import.meta.url)('undici/package.json') as { version: string }).version;

  const target = await startTarget();
  const url = `http://127.0.0.1:${target.port}/`;
  log(`target on ${url}`);
  const runs: Run[] = [];
  const one = async (scenario: string, job: LoadJob, nice: number, onStarted?: () => void) => {
    await target.call({ cmd: 'reset' });
    log(`${scenario}: ${job.tool}${job.rate ? ` at ${job.rate}/s` : ` unthrottled, ${job.connections} connections`} for ${job.durationMs / 1000} s${nice ? ` at nice ${nice}` : ''}`);
    const r = await runLoad(job, nice, onStarted);
    const { served, connections } = await target.call({ cmd: 'stats' });
    runs.push({ scenario, nice, r, targetServed: served, targetConnections: connections });
    log(`  ${r.completed} responses, ${fmt(rate(r), 0)}/s, ${fmt(r.cpuS, 2)} CPU-s, ${fmt(perCpu(r), 0)} req/CPU-s, p99 ${fmt(r.p99, 1)} ms, ${connections} connections`);
    await sleep(300);
    return r;
  };
  const base = { url, durationMs: D, timeoutMs: TIMEOUT, slowMs: SLOW };
  const pairs: Array<{ scenario: string; p: LoadResult; u: LoadResult; a: LoadResult }> = [];
  let stall: { p: LoadResult; u: LoadResult; a: LoadResult };
  try {
    // rotate which tool goes first, so a drift in the machine's load does not favour one
    let turn = 0;
    const pair = async (scenario: string, pj: LoadJob, aj: LoadJob, nice = 0, hook?: () => void) => {
      const jobs = [pj, { ...pj, tool: 'prober (undici)' as const }, aj];
      const order = [...jobs.slice(turn % 3), ...jobs.slice(0, turn % 3)];
      turn++;
      const out: Partial<Record<LoadJob['tool'], LoadResult>> = {};
      for (const j of order) out[j.tool] = await one(scenario, j, nice, hook);
      const p = { scenario, p: out.prober!, u: out['prober (undici)']!, a: out.autocannon! };
      pairs.push(p);
      return p;
    };
    for (const r of FIXED) await pair(`fixed ${r}/s`, { ...base, tool: 'prober', rate: r }, { ...base, tool: 'autocannon', rate: r, connections: AC_CONNECTIONS });
    await pair(`saturation, nice ${SAT_NICE}`, { ...base, tool: 'prober', rate: SAT_RATE }, { ...base, tool: 'autocannon', connections: AC_CONNECTIONS }, SAT_NICE);
    await pair('saturation, nice 0', { ...base, tool: 'prober', rate: SAT_RATE }, { ...base, tool: 'autocannon', connections: AC_CONNECTIONS }, 0);
    const stallHook = () => { setTimeout(() => { void target.call({ cmd: 'stall', ms: STALL.stallMs }); }, STALL.stallAtMs); };
    const sj = { ...base, durationMs: STALL.durationMs, rate: STALL.rate };
    const s = await pair('stall', { ...sj, tool: 'prober' }, { ...sj, tool: 'autocannon', connections: AC_CONNECTIONS }, 0, stallHook);
    pairs.pop();
    stall = { p: s.p, u: s.u, a: s.a };
  } finally {
    target.proc.disconnect();
    target.proc.kill();
  }

  const main: Table = {
    title: `Fixed rates and saturation (${D / 1000} s each, one generator at a time, each in its own process)`,
    columns: ['scenario', 'tool', 'asked req/s', 'achieved req/s', 'errors', 'CPU-s', 'req per CPU-s', 'CPU-s per 1k req', 'wakeups per req', 'connections', 'p50 ms', 'p99 ms', 'max ms', 'lag p99 ms'],
    rows: runs.filter((x) => x.scenario !== 'stall').map(({ scenario, r, targetConnections }) => [
      scenario, r.tool, scenario.startsWith('saturation') ? (r.tool !== 'autocannon' ? `${SAT_RATE} (open)` : `max (${AC_CONNECTIONS} conn)`) : scenario.slice(6, -2),
      fmt(rate(r), 0), r.errors, fmt(r.cpuS, 2), fmt(perCpu(r), 0), fmt((r.cpuS * 1000) / r.completed, 3),
      r.wakeups === undefined ? '—' : fmt(r.wakeups / r.completed, 2), targetConnections,
      ms(r.p50), ms(r.p99), ms(r.max), ms(r.lagP99),
    ]),
  };
  const ratios = pairs.map((x) => ({ scenario: x.scenario, p: perCpu(x.p), a: perCpu(x.a), ratio: perCpu(x.p) / perCpu(x.a), rateRatio: rate(x.p) / rate(x.a) }));
  const ratioTable: Table = {
    title: 'Prober vs autocannon: requests per CPU-second, side by side in this run',
    columns: ['scenario', 'prober req/CPU-s', 'autocannon req/CPU-s', 'ratio', 'achieved rate ratio'],
    rows: ratios.map((x) => [x.scenario, fmt(x.p, 0), fmt(x.a, 0), `${fmt(x.ratio, 2)}×`, `${fmt(x.rateRatio, 2)}×`]),
  };
  const conns = (r: LoadResult) => runs.find((x) => x.r === r)!.targetConnections;
  const engines = pairs.map((x) => ({ scenario: x.scenario, p: perCpu(x.p), u: perCpu(x.u), ratio: perCpu(x.u) / perCpu(x.p), rateRatio: rate(x.u) / rate(x.p), pConn: conns(x.p), uConn: conns(x.u) }));
  const engineTable: Table = {
    title: 'undici engine vs hand-written engine (req per CPU-s), side by side in this run',
    columns: ['scenario', 'hand-written req/CPU-s', 'undici req/CPU-s', 'undici / hand-written', 'achieved rate ratio', 'connections (hand-written / undici)'],
    rows: engines.map((x) => [x.scenario, fmt(x.p, 0), fmt(x.u, 0), `${fmt(x.ratio, 2)}×`, `${fmt(x.rateRatio, 2)}×`, `${x.pConn} / ${x.uConn}`]),
  };
  const expectedSlow = (STALL.rate * (STALL.stallMs / 1000)) / 2;
  const stallTable: Table = {
    title: `Target stall: ${STALL.rate}/s for ${STALL.durationMs / 1000} s; at t = ${STALL.stallAtMs / 1000} s the target holds every response for ${STALL.stallMs / 1000} s`,
    columns: ['tool', 'responses', 'p50 ms', 'p99 ms', 'max ms', `latency >= ${SLOW / 1000} s`, 'tool\'s own p99 ms'],
    rows: [stall.p, stall.u, stall.a].map((r) => [r.tool, r.completed, ms(r.p50), ms(r.p99), ms(r.max), r.slow, r.tool !== 'autocannon' ? ms(r.p99) : ms(r.ownP99)]),
  };

  const sat = ratios.find((x) => x.scenario === `saturation, nice ${SAT_NICE}`)!;
  const targets: Target[] = [
    { what: `prober requests per CPU-second vs autocannon at saturation (both generators at nice ${SAT_NICE})`, target: '>= 1.0×', measured: `${fmt(sat.ratio, 2)}× (${fmt(sat.p, 0)} vs ${fmt(sat.a, 0)})`, met: sat.ratio >= 1 },
    {
      what: `stall visible: prober responses with latency >= ${SLOW / 1000} s, and its p99`,
      target: `>= ${fmt(0.9 * expectedSlow, 0)} (0.9 × rate × stall / 2: the requests intended in the stall's first ${STALL.stallMs / 2000} s wait >= ${SLOW / 1000} s) and p99 >= ${SLOW / 1000} s`,
      measured: `${stall.p.slow}, p99 ${fmt(stall.p.p99, 0)} ms (autocannon: ${stall.a.slow}, p99 ${fmt(stall.a.p99, 0)} ms)`,
      met: stall.p.slow >= 0.9 * expectedSlow && stall.p.p99 >= SLOW,
    },
  ];
  const fixed = ratios.filter((x) => x.scenario.startsWith('fixed'));
  const notes = [
    `autocannon ${acVersion}, programmatic, in its own process: fixed rates with overallRate and ${AC_CONNECTIONS} connections (closed loop; autocannon gives each connection a per-second budget, spent as a back-to-back burst at the start of each second), saturation unthrottled with ${AC_CONNECTIONS} connections, pipelining 1.`,
    `fixed rates (not a target): prober ${fixed.map((x) => `${fmt(x.ratio, 2)}×`).join(', ')} of autocannon's requests per CPU-second. An open-loop prober must wake up at every intended send time and again for each response (the "wakeups per req" column: voluntary context switches of the generator's event-loop thread); autocannon's per-second bursts coalesce everything into few wakeups. On this shared machine a wakeup costs tens of µs, which dominates at low rates.`,
    `saturation: the prober is asked for ${SAT_RATE}/s and stays open loop (a new connection whenever every open one is busy). A generator at least as fast as its target then grows its in-flight requests and connections without bound whenever the target is descheduled; so in the target row both generators run at nice ${SAT_NICE} and the target at normal priority. The nice-0 pair shows the same without that (connection count, and the CPU spent opening them).`,
    'latencies: each response\'s own time from one per-response record (prober: from the intended send time; autocannon: from when it wrote the request, via its \'response\' event). "tool\'s own p99" for autocannon is its summary histogram, which when rate-limited applies HdrHistogram\'s coordinated-omission correction (synthetic samples) — its measured responses still show only a handful of slow ones.',
    `prober (undici): the harness's prober with undici ${undiciVersion} as its engine (bench/probe/undici-prober.ts: Pool with unlimited connections, pipelining 1, keep-alive 4 s, pool.dispatch with a minimal handler, one sweep timer for timeouts); same schedule, timeouts, records and stall semantics as the hand-written engine. Not part of the targets.`,
    'target: a minimal HTTP/1.1 responder over node:net (pre-built 3-byte 200, keep-alive) in its own process; CPU = process.cpuUsage() user+system of the generator process around the load only. The machine is shared (2 cores, other labs running): absolute numbers are noisy; compare ratios within one run.',
  ];
  return {
    name: 'probe', title: 'Probe engine: harness prober vs autocannon', tables: [main, ratioTable, engineTable, stallTable], targets, notes,
    setup: {
      durationS: D / 1000, fixedRates: FIXED, saturationRate: SAT_RATE, saturationNice: SAT_NICE, autocannon: { version: acVersion, connections: AC_CONNECTIONS, pipelining: 1 }, undici: { version: undiciVersion, pipelining: 1, connections: 'unlimited' },
      stall: STALL, timeoutMs: TIMEOUT, slowMs: SLOW, node: process.version, cpus: os.cpus().length, loadAvg: os.loadavg(),
      target: 'node:net HTTP/1.1 responder on 127.0.0.1 in a child process, 3-byte 200 responses, keep-alive',
    },
    figures: { runs, ratios, engines, stall, expectedSlow },
  };
};

export default bench;
