// Reading `.lab/env` (written by `lab up`): shared by the lab, its tests and the harness's lab target.
import fs from 'node:fs';

/** Parses a shell-sourceable env file written by writeEnvFile (single-quoted values only). */
export function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    out[m[1]] = m[2].replace(/^'|'$/g, '').replaceAll(`'\\''`, "'");
  }
  return out;
}
