#!/usr/bin/env node
// The test tiers. `npm test` runs the unit tier (test/unit: no lab, under a minute) and then the lab
// tier (test/lab: starts the test lab once, through the global fixtures in test/lab/hooks.ts).
//   node test/run.mjs                 both tiers (npm test, after tsc --noEmit)
//   node test/run.mjs --unit | --lab  one tier (npm run test:unit, npm run test:lab)
//   node test/run.mjs FILE... [mocha flags]   only those files; the lab is started only when one of
//                                     them is under test/lab/ (npm test -- test/unit/slo.test.ts)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const args = process.argv.slice(2);
const tiers = { unit: ['test/unit/**/*.test.ts'], lab: ['test/lab/**/*.test.ts'] };
const isFile = (a) => /\.test\.ts$/.test(a);
const files = args.filter(isFile);
const flags = args.filter((a) => !isFile(a) && a !== '--unit' && a !== '--lab');
const labFile = (f) => path.relative(root, path.resolve(f)).split(path.sep)[1] === 'lab';

const runs = [];
if (files.length) {
  const lab = files.filter(labFile);
  const unit = files.filter((f) => !labFile(f));
  if (unit.length) runs.push({ name: 'unit', spec: unit });
  if (lab.length) runs.push({ name: 'lab', spec: lab });
} else {
  if (!args.includes('--lab')) runs.push({ name: 'unit', spec: tiers.unit });
  if (!args.includes('--unit')) runs.push({ name: 'lab', spec: tiers.lab });
}

let code = 0;
for (const r of runs) {
  // the unit tier runs its files in parallel (one worker per core): it stays under a minute on 2 cores;
  // the lab tier shares one lab, one file after the other
  const extra = r.name === 'lab' ? ['--require', 'test/lab/hooks.ts'] : (r.spec.length > 1 || r.spec[0].includes('*') ? ['--parallel', '--jobs', '2'] : []);
  process.stderr.write(`\n== ${r.name} tier: ${r.spec.join(' ')}\n`);
  const t0 = Date.now();
  const res = spawnSync(process.execPath, [mocha, ...extra, ...flags, ...r.spec], { cwd: root, stdio: 'inherit' });
  const rc = res.status ?? 1;
  process.stderr.write(`== ${r.name} tier: exit ${rc} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  if (rc !== 0) code = rc;
}
process.exit(code);
