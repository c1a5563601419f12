// What every benchmark returns and how `npm run bench` prints it. A benchmark is a script that
// measures and prints figures (ratios side by side from one run), never a timed test.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lab/paths.js';

export interface Target {
  /** what is compared, e.g. "p99 error" */
  what: string;
  /** the target as text, e.g. "<= 100 ms" */
  target: string;
  /** the measured value as text, e.g. "12 ms" */
  measured: string;
  met: boolean;
}

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

export interface BenchResult {
  /** short id: accuracy | probe | scale | revert */
  name: string;
  title: string;
  tables: Table[];
  targets: Target[];
  /** what was run (sizes, durations, versions), so a reader can repeat it */
  setup: Record<string, unknown>;
  /** raw figures behind the tables, for reports/bench.json */
  figures: Record<string, unknown>;
  notes: string[];
}

export interface BenchOptions {
  /** larger / longer variants (e.g. the full 1,000-node scale run) */
  full: boolean;
  log: (m: string) => void;
}

export type Bench = (o: BenchOptions) => Promise<BenchResult>;

/** p-quantile (0..1) of numbers by the nearest-rank method; NaN for none. */
export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '—';
}

export function renderTable(t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(String))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [`${t.title}`, line(t.columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export function renderResult(r: BenchResult): string {
  const out = [`== ${r.title}`, ...r.tables.map(renderTable)];
  if (r.targets.length) out.push('targets:', ...r.targets.map((t) => `  ${t.met ? 'MET   ' : 'MISSED'} ${t.what}: ${t.target} — measured ${t.measured}`));
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

export const BENCH_JSON = path.join(REPO_ROOT, 'reports', 'bench.json');

/** Merges results into reports/bench.json (one entry per bench name, newest wins). */
export function writeBenchJson(results: BenchResult[], file = BENCH_JSON): void {
  let prev: { benches?: Record<string, unknown> } = {};
  try { prev = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof prev; } catch { /* first run */ }
  const benches = { ...(prev.benches ?? {}) } as Record<string, unknown>;
  for (const r of results) benches[r.name] = { ...r, at: new Date().toISOString() };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ version: 1, machine: machineInfo(), benches }, null, 2) + '\n');
}

export function machineInfo(): Record<string, unknown> {
  return { node: process.version, platform: `${process.platform}/${process.arch}`, cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency };
}

/** Newest mtime of the .ts files under dir (recursively). */
function newestTs(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const f = path.join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newestTs(f) : e.name.endsWith('.ts') ? fs.statSync(f).mtimeMs : 0);
  }, 0);
}

/**
 * Builds dist/ (`npm run build`) when `file` (a compiled output) is missing or older than a source
 * under harness/, lab/ or one of `extra` (bench files compiled with them).
 */
export function ensureDist(file: string, log: (m: string) => void, extra: string[] = []): void {
  const src = Math.max(newestTs(path.join(REPO_ROOT, 'harness')), newestTs(path.join(REPO_ROOT, 'lab')), ...extra.map((f) => fs.statSync(path.join(REPO_ROOT, f)).mtimeMs));
  if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= src) return;
  log(`building dist/ (npm run build): ${path.relative(REPO_ROOT, file)} is missing or older than its sources`);
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
}
