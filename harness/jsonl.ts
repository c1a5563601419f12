// Append-only JSON-lines files that survive a crash: each record is one line, written and fsynced
// before the call returns (the run journal, and the lab's world log). A torn last line (a crash
// mid-write) is skipped when reading: its change was not made yet.
import fs from 'node:fs';

export function appendJsonLine(file: string, record: unknown): void {
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, JSON.stringify(record) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every whole record of the file ([] when it does not exist). */
export function readJsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn last line
    }
  }
  return out;
}
