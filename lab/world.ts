// The lab's ground truth: every change the lab makes to the simulated world is appended to
// `.lab/world.jsonl`, one JSON object a line, with a wall-clock time and a monotonic time
// (CLOCK_MONOTONIC in nanoseconds, comparable across processes on this machine).
import { appendJsonLine, readJsonLines } from '../harness/jsonl.js';

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
    appendJsonLine(this.file, rec);
    return rec;
  }

  read(): WorldEvent[] {
    return readJsonLines<WorldEvent>(this.file);
  }
}
