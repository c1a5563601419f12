// The probe engine against the anchor a user would pick instead: vegeta (github.com/tsenart/vegeta,
// MIT, built with `go install` from the Go module proxy into the cache outside the repo; k6, which the
// issue named, is AGPL and not taken as a dependency here). At 200, 1,000 and 2,000 req/s, in both
// connection modes (keep-alive; a new TCP connection per request), side by side in one run, beside
// autocannon (keep-alive only: it has no new-connection mode): requests per CPU-second and latency
// from the intended send time. vegeta's `attack -rate` is open loop like the prober (a pacer hands
// each hit to a worker); its own latency starts when the worker sends, so here its latency from the
// intended time is recomputed from its results (the i-th hit was due at start + i/rate).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, quantile, type Bench, type Table, type Target } from './common.js';
import { runLoad, startTarget } from './probe.js';
import type { LoadResult } from './probe/load.js';

const VEGETA_VERSION = 'v12.13.0';
const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'k8s-chaos-harness', `vegeta-${VEGETA_VERSION}`);
const VEGETA = path.join(CACHE, 'vegeta');

/** vegeta from the Go module proxy, cached (a rebuild only when the binary is missing). */
function ensureVegeta(log: (m: string) => void): string {
  if (fs.existsSync(VEGETA)) return VEGETA;
  log(`building vegeta ${VEGETA_VERSION} with go install into ${CACHE}`);
  fs.mkdirSync(CACHE, { recursive: true });
  execFileSync('go', ['install', `github.com/tsenart/vegeta/v12@${VEGETA_VERSION}`], { env: { ...process.env, GOBIN: CACHE, GOFLAGS: '-mod=mod' }, stdio: 'inherit' });
  return VEGETA;
}

interface VegetaResult { completed: number; errors: number; cpuS: number; wallS: number; p50: number; p99: number; max: number; ownP99: number }

/** One vegeta attack in its own process; CPU of the attack only (bash's `times` for its children), results decoded after. */
async function runVegeta(bin: string, url: string, rate: number, durationMs: number, keepalive: boolean): Promise<VegetaResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-vegeta-'));
  const out = path.join(dir, 'results.bin');
  try {
    const t0 = performance.now();
    const script = `echo "GET ${url}" | "$0" attack -rate=${rate}/s -duration=${durationMs}ms -timeout=5s -keepalive=${keepalive} -output "$1"; times`;
    const times = await new Promise<string>((resolve, reject) => {
      const p = spawn('bash', ['-c', script, bin, out], { stdio: ['ignore', 'pipe', 'inherit'] });
      let s = '';
      p.stdout.on('data', (d: Buffer) => { s += d.toString(); });
      p.on('error', reject);
      p.on('close', (c) => (c === 0 ? resolve(s) : reject(new Error(`vegeta attack exited ${c}`))));
    });
    const wallS = (performance.now() - t0) / 1000;
    // `times`: the shell's user/sys, then its children's (the attack)
    const sec = (t: string) => { const m = /^(\d+)m([\d.]+)s$/.exec(t); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; };
    const [u, sy] = times.trim().split('\n').at(-1)!.trim().split(/\s+/);
    const csv = execFileSync(bin, ['encode', '--to', 'csv', out], { maxBuffer: 1 << 28 }).toString().trim().split('\n').filter(Boolean);
    // timestamp (ns since the epoch), code, latency (ns), bytes out, bytes in, error, …
    const hits = csv.map((l) => { const f = l.split(','); return { ts: Number(f[0]), code: Number(f[1]), lat: Number(f[2]) / 1e6 }; }).sort((a, b) => a.ts - b.ts);
    const start = hits[0]?.ts ?? 0;
    const fromIntended = hits.map((h, i) => (h.ts - start) / 1e6 + h.lat - (i * 1000) / rate);
    const own = hits.map((h) => h.lat);
    const ok = hits.filter((h) => h.code >= 200 && h.code < 400);
    return { completed: ok.length, errors: hits.length - ok.length, cpuS: sec(u) + sec(sy), wallS, p50: quantile(fromIntended, 0.5), p99: quantile(fromIntended, 0.99), max: Math.max(...fromIntended), ownP99: quantile(own, 0.99) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const perCpu = (completed: number, cpuS: number) => (cpuS > 0 ? completed / cpuS : NaN);
const ms = (x: number) => fmt(x, 2);

const bench: Bench = async ({ full, log }) => {
  const D = full ? 15_000 : 6_000;
  const RATES = [200, 1_000, 2_000];
  const bin = ensureVegeta(log);
  const vegetaVersion = execFileSync(bin, ['-version']).toString().split('\n')[0].trim();
  const target = await startTarget();
  const url = `http://127.0.0.1:${target.port}/`;
  const rows: Array<{ rate: number; mode: 'keep-alive' | 'new'; prober: LoadResult; vegeta: VegetaResult; autocannon?: LoadResult }> = [];
  try {
    for (const rate of RATES) {
      for (const mode of ['keep-alive', 'new'] as const) {
        log(`${rate}/s ${mode}: prober`);
        const prober = await runLoad({ tool: 'prober', url, rate, durationMs: D, timeoutMs: 5000, slowMs: 100, connection: mode }, 0);
        log(`${rate}/s ${mode}: vegeta`);
        const vegeta = await runVegeta(bin, url, rate, D, mode === 'keep-alive');
        let ac: LoadResult | undefined;
        if (mode === 'keep-alive') { log(`${rate}/s keep-alive: autocannon`); ac = await runLoad({ tool: 'autocannon', url, rate, durationMs: D, timeoutMs: 5000, slowMs: 100, connections: 10 }, 0); }
        rows.push({ rate, mode, prober, vegeta, autocannon: ac });
      }
    }
  } finally {
    target.proc.kill();
  }
  const main: Table = {
    title: 'Prober vs vegeta (and autocannon) at fixed rates: requests per CPU-second, latency from the intended send time (ms)',
    columns: ['rate', 'connection', 'prober req/CPU-s', 'vegeta req/CPU-s', 'prober ÷ vegeta', 'autocannon req/CPU-s', 'prober ÷ autocannon', 'prober p50 / p99', 'vegeta p50 / p99 (from intended)', 'vegeta own p99', 'completed p / v'],
    rows: rows.map((r) => {
      const p = perCpu(r.prober.completed, r.prober.cpuS);
      const v = perCpu(r.vegeta.completed, r.vegeta.cpuS);
      const a = r.autocannon ? perCpu(r.autocannon.completed, r.autocannon.cpuS) : NaN;
      return [r.rate, r.mode, fmt(p, 0), fmt(v, 0), `${fmt(p / v, 2)}×`, r.autocannon ? fmt(a, 0) : '—', r.autocannon ? `${fmt(p / a, 2)}×` : '—', `${ms(r.prober.p50)} / ${ms(r.prober.p99)}`, `${ms(r.vegeta.p50)} / ${ms(r.vegeta.p99)}`, ms(r.vegeta.ownP99), `${r.prober.completed} / ${r.vegeta.completed}`];
    }),
  };
  const targets: Target[] = rows.map((r) => {
    const ratio = perCpu(r.prober.completed, r.prober.cpuS) / perCpu(r.vegeta.completed, r.vegeta.cpuS);
    return { what: `prober requests per CPU-second vs vegeta at ${r.rate}/s, ${r.mode}`, target: '>= 1.0×', measured: `${fmt(ratio, 2)}×`, met: ratio >= 1 };
  });
  for (const r of rows.filter((x) => x.autocannon)) {
    const ratio = perCpu(r.prober.completed, r.prober.cpuS) / perCpu(r.autocannon!.completed, r.autocannon!.cpuS);
    targets.push({ what: `prober requests per CPU-second vs autocannon at ${r.rate}/s, keep-alive`, target: '>= 1.0×', measured: `${fmt(ratio, 2)}×`, met: ratio >= 1 });
  }
  return {
    name: 'anchor', title: 'Probe engine vs vegeta (the anchor) and autocannon', tables: [main], targets,
    notes: [
      `${vegetaVersion} built from the Go module proxy (cache ${CACHE}); attack -rate=R/s -duration, -keepalive=true|false, its default workers; CPU: its process's user+sys (bash \`times\`), decoding excluded.`,
      'latency from the intended send time: prober as it records it; vegeta recomputed as (hit timestamp − first timestamp + latency) − i/rate for the i-th hit in time order. "vegeta own p99" is its latency from when the worker sent.',
      'autocannon: overallRate with 10 connections (closed loop, per-second bursts), keep-alive only.',
      'each generator in its own process, one at a time, against the same local target in a third process; a shared 2-core machine, so ratios (side by side in one run) are the figures, not absolutes.',
    ],
    setup: { durationS: D / 1000, rates: RATES, vegeta: vegetaVersion, autocannonConnections: 10 },
    figures: { rows },
  };
};
export default bench;
