// The lab's ground truth: every change the lab makes to the simulated world is appended to
// `.lab/world.jsonl`, one JSON object a line, with a wall-clock time and a monotonic time
// (CLOCK_MONOTONIC in nanoseconds, comparable across processes on this machine).
import fs from 'node:fs';

export interface WorldEvent {
  /** ISO-8601 wall-clock time */
  time: string;
  /** CLOCK_MONOTONIC in ns, as a decimal string (exceeds 2^53) */
  monoNs: string;
  event: string;
  [k: string]: unknown;
}

export function monoNs(): bigint {
  return process.hrtime.bigint();
}

export class WorldLog {
  constructor(readonly file: string) {}

  append(event: string, fields: Record<string, unknown> = {}, at: bigint = monoNs()): WorldEvent {
    const rec: WorldEvent = { time: new Date().toISOString(), monoNs: at.toString(), event, ...fields };
    const fd = fs.openSync(this.file, 'a');
    try {
      fs.writeSync(fd, JSON.stringify(rec) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return rec;
  }

  read(): WorldEvent[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as WorldEvent);
  }
}
