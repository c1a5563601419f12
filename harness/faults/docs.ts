// The README's fault table, generated from the registry (a test checks README.md holds exactly
// this between its fault-table markers; `npm run docs:faults` rewrites the block).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { faults as registry, type FaultRegistry } from './registry.js';

export function faultTable(faults: FaultRegistry = registry): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const rows = faults.list().map((k) => `| \`${k.kind}\` | ${cell(k.doc.summary)} | ${cell(k.doc.fields)} | ${cell(k.doc.effect)} |`);
  return ['| kind | what it does | fields | what it does to the cluster |', '|---|---|---|---|', ...rows, ''].join('\n');
}

/** Rewrites the block between `<!-- fault-table:start -->` and `<!-- fault-table:end -->` in `file`. */
export function writeFaultTable(file: string, faults: FaultRegistry = registry): void {
  const text = fs.readFileSync(file, 'utf8');
  const re = /(<!-- fault-table:start -->\n)[\s\S]*?(<!-- fault-table:end -->)/;
  if (!re.test(text)) throw new Error(`${file} has no <!-- fault-table:start --> … <!-- fault-table:end --> block`);
  fs.writeFileSync(file, text.replace(re, (_, a: string, b: string) => `${a}${faultTable(faults)}${b}`));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFaultTable(path.resolve(process.argv[2] ?? 'README.md'));
}
