// The recorded timeline of a run: everything the SLO engine judges, each event stamped with the
// run's monotonic clock (ms since the run's origin; the origin's CLOCK_MONOTONIC ns is in the header,
// so figures can be compared with the lab's world log and the apiserver's audit log).
export type PhaseName = 'steady' | 'fault' | 'recovery' | 'end';

export type TimelineEvent =
  | { t: number; type: 'phase'; phase: PhaseName }
  /** what the fault takes away while in place (its kind's `faulted`): nodes, and optionally zones and pods */
  | { t: number; type: 'fault'; action: 'injected' | 'reverted'; nodes: string[]; zones?: string[]; pods?: string[] }
  | { t: number; type: 'node'; name: string; zone?: string; ready: boolean; /** the Node object was deleted */ deleted?: boolean }
  | { t: number; type: 'pod'; key: string; workload: string; node?: string; ready: boolean; deleted: boolean; created: number }
  | { t: number; type: 'workload'; workload: string; desired: number }
  | { t: number; type: 'probe'; probe: string; latency: number; ok: boolean; status?: number; error?: string; /** the IP address the request was sent to (no port) */ addr?: string }
  | { t: number; type: 'endpoints'; service: string; ready: number }
  | { t: number; type: 'gap'; resource: string; error: string; end?: number }
  | { t: number; type: 'note'; text: string };

/** An event without its time (stamped on arrival) or with one (stamped at the source). */
export type EventInput = TimelineEvent extends infer E ? (E extends TimelineEvent ? Omit<E, 't'> & { t?: number } : never) : never;

export interface Timeline {
  /** CLOCK_MONOTONIC ns at t = 0, as a decimal string */
  originMonoNs: string;
  /** wall-clock ISO time at t = 0 */
  originWall: string;
  events: TimelineEvent[];
}

export class Recorder {
  readonly events: TimelineEvent[] = [];
  readonly originNs: bigint;
  readonly originWall: string;
  constructor() {
    this.originNs = process.hrtime.bigint();
    this.originWall = new Date().toISOString();
  }
  /** ms since the origin, on the monotonic clock */
  now(): number {
    return Number(process.hrtime.bigint() - this.originNs) / 1e6;
  }
  /** live counters for status lines (not part of the record) */
  onProbe?: (probe: string, ok: boolean) => void;
  add(e: EventInput): void {
    this.events.push({ ...e, t: e.t ?? this.now() } as TimelineEvent);
    if (e.type === 'probe') this.onProbe?.(e.probe, e.ok);
  }
  timeline(): Timeline {
    return { originMonoNs: this.originNs.toString(), originWall: this.originWall, events: [...this.events].sort((a, b) => a.t - b.t) };
  }
}
