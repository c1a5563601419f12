#!/usr/bin/env node
// `npm run build` (also `prepack`): compiles harness/ and lab/ to dist/ (tsconfig.build.json), copies
// the JSON files the modules read at run time beside them, marks the CLI executable and writes the
// scenario JSON Schema (schema/scenario.schema.json) from the compiled zod schema.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const t0 = Date.now();
fs.rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// run-time assets: harness/**/*.json (the IAM policy, the report schema)
const copy = (dir) => {
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) copy(rel);
    else if (e.name.endsWith('.json')) {
      fs.mkdirSync(path.join(dist, dir), { recursive: true });
      fs.copyFileSync(path.join(root, rel), path.join(dist, rel));
    }
  }
};
copy('harness');
fs.chmodSync(path.join(dist, 'harness', 'cli.js'), 0o755);

const { scenarioJsonSchemaText } = await import(pathToFileURL(path.join(dist, 'harness', 'scenario-schema.js')).href);
fs.mkdirSync(path.join(root, 'schema'), { recursive: true });
fs.writeFileSync(path.join(root, 'schema', 'scenario.schema.json'), scenarioJsonSchemaText());
console.error(`build: dist/ and schema/scenario.schema.json in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
