// Ground truth from the lab: the apiserver's audit log (wall-clock µs) read after a byte offset, and
// the one wall − monotonic offset that puts its times on the timeline's CLOCK_MONOTONIC.
import fs from 'node:fs';
import path from 'node:path';

/** wall-clock ms minus CLOCK_MONOTONIC ms, sampled tightly (Date.now() floors to ms: keep the largest). */
export function wallMinusMonoMs(): number {
  let best = -Infinity;
  for (let i = 0; i < 2000; i++) best = Math.max(best, Date.now() - Number(process.hrtime.bigint()) / 1e6);
  return best + 0.5;
}

/** RFC 3339 with µs (an audit stageTimestamp) → epoch ms with the µs kept. */
export function auditTimeMs(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) return Date.parse(s);
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/**
 * The audit log's entries written after byte `offset` whose raw line passes `keep` (a cheap text
 * test before JSON.parse). Rotation-aware: when the file is smaller than the offset, the newest
 * backup is read from the offset, then the new file.
 */
export function readAuditLines<T>(file: string, offset: number, keep: (line: string) => boolean = () => true): T[] {
  const chunks: string[] = [];
  const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
  if (size >= offset) {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      chunks.push(buf.toString('utf8'));
    } finally { fs.closeSync(fd); }
  } else {
    const dir = path.dirname(file);
    const backups = fs.readdirSync(dir).filter((f) => /^audit-.*\.log$/.test(f)).sort();
    const last = backups.at(-1);
    if (last) chunks.push(fs.readFileSync(path.join(dir, last), 'utf8').slice(offset));
    chunks.push(fs.readFileSync(file, 'utf8'));
  }
  const out: T[] = [];
  for (const text of chunks) {
    for (const line of text.split('\n')) {
      if (!line || !keep(line)) continue;
      try { out.push(JSON.parse(line) as T); } catch { /* torn line */ }
    }
  }
  return out;
}
