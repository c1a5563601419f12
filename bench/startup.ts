// CLI start-up: wall time (median of 5) of `chaos --help` and `chaos list` from the compiled dist/
// under plain node (as `npx chaos` runs in an installed package), beside the tsx way this repository's
// `npm run chaos` uses (tsx compiling harness/cli.ts on the fly), and `list` in a project whose
// scenarios are YAML (what `chaos init` writes: no tsx loaded at all). `node -e 0` is the floor.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../lab/paths.js';
import { ensureDist, fmt, quantile, type Bench, type Table, type Target } from './common.js';

const RUNS = 5;
const TARGET_S = 1;
const CLI_JS = path.join(REPO_ROOT, 'dist', 'harness', 'cli.js');
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

interface Case { what: string; cmd: string; args: string[]; cwd?: string; target?: boolean }

function time(c: Case): { medianS: number; minS: number; maxS: number; runs: number[] } {
  const runs: number[] = [];
  // one unmeasured run first: the OS file cache (and tsx's transform cache) warm, as on a developer's machine
  for (let i = 0; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { cwd: c.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${c.what}: exit ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
    if (i > 0) runs.push(s);
  }
  return { medianS: quantile(runs, 0.5), minS: Math.min(...runs), maxS: Math.max(...runs), runs };
}

const bench: Bench = async ({ log }) => {
  ensureDist(CLI_JS, log);
  const yamlProject = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-startup-'));
  const init = spawnSync(process.execPath, [CLI_JS, '--project', yamlProject, 'init'], { stdio: 'pipe' });
  if (init.status !== 0) throw new Error(`chaos init: ${init.stderr.toString()}`);
  const cases: Case[] = [
    { what: 'node -e 0 (the floor)', cmd: process.execPath, args: ['-e', '0'] },
    { what: 'chaos --help: node dist/harness/cli.js --help', cmd: process.execPath, args: [CLI_JS, '--help'], target: true },
    { what: 'chaos --help: tsx harness/cli.ts --help (npm run chaos)', cmd: TSX, args: ['harness/cli.ts', '--help'] },
    { what: 'chaos list (5 .ts scenarios): node dist/harness/cli.js list', cmd: process.execPath, args: [CLI_JS, 'list'], target: true },
    { what: 'chaos list (5 .ts scenarios): tsx harness/cli.ts list (npm run chaos)', cmd: TSX, args: ['harness/cli.ts', 'list'] },
    { what: 'chaos list (chaos init\'s YAML scenario): node dist/harness/cli.js list', cmd: process.execPath, args: [CLI_JS, 'list'], cwd: yamlProject, target: true },
  ];
  const results = cases.map((c) => {
    const r = time(c);
    log(`${c.what}: median ${fmt(r.medianS, 2)} s (${r.runs.map((x) => fmt(x, 2)).join(', ')})`);
    return { ...c, ...r };
  });
  fs.rmSync(yamlProject, { recursive: true, force: true });
  const table: Table = {
    title: `CLI start-up, wall time of ${RUNS} runs after one warm-up (s)`,
    columns: ['command', 'median', 'min', 'max'],
    rows: results.map((r) => [r.what, fmt(r.medianS, 2), fmt(r.minS, 2), fmt(r.maxS, 2)]),
  };
  const targets: Target[] = results.filter((r) => r.target).map((r) => ({ what: r.what, target: `< ${TARGET_S} s median`, measured: `${fmt(r.medianS, 2)} s`, met: r.medianS < TARGET_S }));
  const load = os.loadavg()[0];
  return {
    name: 'startup',
    title: 'CLI start-up: compiled dist/ under plain node vs tsx',
    tables: [table],
    targets,
    setup: { runs: RUNS, node: process.version, loadavg1: load, cpus: os.cpus().length },
    figures: { cases: results.map(({ what, medianS, minS, maxS, runs }) => ({ what, medianS, minS, maxS, runs })) },
    notes: [
      `load average (1 min) when measured: ${fmt(load, 2)} on ${os.cpus().length} CPUs; start-up is mostly CPU, so a loaded machine stretches every row alike`,
      'dist/ imports only commander, zod (the fault and target schemas) and the providers at start; the AWS SDK, @kubernetes/client-node, mocha, the faults, the reports and the lab are imported inside the commands that use them',
      'list on .ts scenarios registers tsx\'s loaders (tsx/esm/api and tsx/cjs/api) when the first .ts scenario is loaded; YAML and JSON scenarios never load tsx',
    ],
  };
};

export default bench;
