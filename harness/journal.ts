// The run journal: an append-only JSON-lines file per run under the state dir, fsynced on every
// write. Intent is written BEFORE each change and the result after, so a revert can be driven by the
// journal alone, by this process or by `chaos recover` after a crash.
import fs from 'node:fs';
import path from 'node:path';
import { appendJsonLine, readJsonLines } from './jsonl.js';

export type Phase = 'intent' | 'done' | 'failed' | 'note';

export interface JournalEntry {
  seq: number;
  time: string;
  runId: string;
  step: string;
  phase: Phase;
  data: Record<string, unknown>;
}

export interface RunHeader {
  runId: string;
  pid: number;
  /** /proc/<pid>/stat start time, to tell a live run from a recycled pid */
  pidStart?: string;
  kind: string;
  cluster: string;
  region: string;
  /** the AWS account the run acted in (STS); `recover` refuses a journal of another account or region */
  account?: string;
  target: string;
  startedAt: string;
  fault: Record<string, unknown>;
}

function procStart(pid: number): string | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export class Journal {
  readonly entries: JournalEntry[] = [];
  private seq = 0;
  private crashAt?: { key: string; n: number };

  private constructor(readonly file: string, readonly runId: string) {
    // Test hook for the crash matrix: CHAOS_TEST_CRASH_AT=step:phase[:n] SIGKILLs this process right
    // after the n-th (default first) such entry is on disk.
    const c = process.env.CHAOS_TEST_CRASH_AT;
    if (c) {
      const [step, phase, n] = c.split(':');
      this.crashAt = { key: `${step}:${phase}`, n: Number(n ?? 1) };
    }
  }

  static dir(stateDir: string): string {
    return path.join(stateDir, 'journal');
  }

  static create(stateDir: string, header: Omit<RunHeader, 'pid' | 'pidStart' | 'startedAt'>): Journal {
    const dir = Journal.dir(stateDir);
    fs.mkdirSync(dir, { recursive: true });
    const j = new Journal(path.join(dir, `${header.runId}.jsonl`), header.runId);
    if (fs.existsSync(j.file)) throw new Error(`journal ${j.file} already exists`);
    j.write('run.start', 'note', { ...header, pid: process.pid, pidStart: procStart(process.pid), startedAt: new Date().toISOString() });
    return j;
  }

  /** Re-opens a run's journal (recover): appends continue its sequence. */
  static open(file: string): Journal {
    const entries = Journal.read(file);
    const runId = entries[0]?.runId ?? path.basename(file, '.jsonl');
    const j = new Journal(file, runId);
    j.entries.push(...entries);
    j.seq = entries.length ? entries[entries.length - 1].seq : 0;
    return j;
  }

  static read(file: string): JournalEntry[] {
    // a torn last line (crash mid-write) is skipped: its change was not made yet
    if (!fs.existsSync(file)) throw Object.assign(new Error(`ENOENT: no journal ${file}`), { code: 'ENOENT' });
    return readJsonLines<JournalEntry>(file);
  }

  static list(stateDir: string): string[] {
    const dir = Journal.dir(stateDir);
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(dir, f));
  }

  get header(): RunHeader {
    return this.entries[0]?.data as unknown as RunHeader;
  }

  /** The run ended with everything reverted (or nothing injected). */
  get closed(): boolean {
    return this.entries.some((e) => e.step === 'run.end' && e.data.status === 'reverted');
  }

  /** The process that wrote this journal is still running. */
  get ownerAlive(): boolean {
    const h = this.header;
    return !!h && procStart(h.pid) !== undefined && procStart(h.pid) === h.pidStart;
  }

  write(step: string, phase: Phase, data: Record<string, unknown> = {}): JournalEntry {
    const e: JournalEntry = { seq: ++this.seq, time: new Date().toISOString(), runId: this.runId, step, phase, data };
    appendJsonLine(this.file, e);
    this.entries.push(e);
    if (this.crashAt && this.crashAt.key === `${step}:${phase}` && --this.crashAt.n === 0) process.kill(process.pid, 'SIGKILL');
    return e;
  }

  /** intent → fn → done (with its result) or failed (with the error), rethrowing. */
  async step<T>(step: string, intent: Record<string, unknown>, fn: () => Promise<T>, result: (t: T) => Record<string, unknown> = () => ({})): Promise<T> {
    const i = this.write(step, 'intent', intent);
    try {
      const t = await fn();
      this.write(step, 'done', { ...intent, ...result(t), intentSeq: i.seq });
      return t;
    } catch (err) {
      this.write(step, 'failed', { ...intent, error: `${(err as Error).name}: ${(err as Error).message}`, intentSeq: i.seq });
      throw err;
    }
  }

  /** Intents of `step` (in order), whether or not they completed: a crash may hit between the two. */
  intents(step: string): JournalEntry[] {
    return this.entries.filter((e) => e.step === step && e.phase === 'intent');
  }

  doneFor(step: string): JournalEntry[] {
    return this.entries.filter((e) => e.step === step && e.phase === 'done');
  }
}
