// Pure analysis of a recorded timeline: phases, per-workload recovery (detect, reschedule, ready,
// total), node recovery, and per-probe availability, latency percentiles (HdrHistogram), errors and
// the longest outage, per phase; the same per address the probes sent to and per zone of those
// addresses (given an address → zone map). Same timeline in, same numbers out.
import * as hdr from 'hdr-histogram-js';
import type { PhaseName, Timeline, TimelineEvent } from '../timeline.js';
import type { Phase } from './grammar.js';
import { faultScope, healthyCounts, NO_FAULT, type NodeHealth } from './health.js';

export interface ProbeStats {
  attempts: number;
  successes: number;
  errors: number;
  /** percent 0..100; NaN without attempts */
  availability: number;
  /** latency percentiles in ms (failures count at their timeout) */
  p50: number; p90: number; p95: number; p99: number; max: number;
  percentile(p: number): number;
  /** longest span with no successful response, ms */
  maxOutageMs: number;
}

export interface WorkloadRecovery {
  workload: string;
  desired: number;
  /** ms from injection until a faulted node was seen NotReady */
  detectMs?: number;
  /** ms from injection until the first replacement pod was scheduled */
  rescheduleMs?: number;
  /** ms from injection until desired replicas were Ready on healthy, unfaulted nodes */
  readyMs?: number;
  /** readyMs, once it held for the settle period: self-healed */
  recoveryMs?: number;
}

/** What the target knows of an address a probe sent to (harness/aws networkInterfacesByAddress). */
export interface AddressInfo { zone: string; interfaceType?: string; description?: string; eniId?: string }
/** address → what the target knows of it; an address missing here is in zone "unknown" */
export type AddressZones = Record<string, AddressInfo>;

/** The zone of addresses the target did not know (or of attempts that never got an address). */
export const UNKNOWN_ZONE = 'unknown';

/** One group of a probe's attempts (one address, or one zone): its stats per phase and when it failed. */
export interface GroupResult {
  stats: Record<Phase, ProbeStats>;
  /** ms on the run clock (intended send time) */
  firstAttempt: number;
  lastAttempt: number;
  firstFailure?: number;
  lastFailure?: number;
}
export interface AddressResult extends GroupResult {
  /** null: attempts that got no address (the name did not resolve) */
  addr: string | null;
  zone: string;
  interfaceType?: string;
}
export interface ZoneResult extends GroupResult { zone: string; addrs: Array<string | null> }

export interface Analysis {
  phases: Partial<Record<PhaseName, number>>;
  injectedAt?: number;
  revertedAt?: number;
  workloads: WorkloadRecovery[];
  /** max of the workloads' recoveryMs; undefined when one never recovered */
  recoveryMs?: number;
  /** ms from revert until every node that matters (the workloads' hosts, the fault's nodes and zones) was Ready */
  nodeRecoveryMs?: number;
  probes: Record<string, Record<Phase, ProbeStats>>;
  /**
   * per probe, its attempts grouped by the address they were sent to (the timeline's probe `addr`),
   * sorted by address; empty for a probe whose events carry no address (a prober without it)
   */
  byAddress: Record<string, AddressResult[]>;
  /** the same grouped by the addresses' zones (AddressZones; "unknown" when not known), sorted by zone */
  byZone: Record<string, ZoneResult[]>;
  /** the zones the fault took (its injected event), for `zone=faulted` */
  faultZones: string[];
  gaps: Array<{ resource: string; start: number; end?: number; error: string }>;
}

type ProbeEvent = Extract<TimelineEvent, { type: 'probe' }>;

export function probeStats(samples: ProbeEvent[]): ProbeStats {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
  let ok = 0;
  for (const s of samples) {
    h.recordValue(Math.max(1, Math.round(s.latency)));
    if (s.ok) ok++;
  }
  // longest outage: from the first failure after a success (or the start) to the next success
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  let maxOutage = 0;
  let failStart: number | undefined;
  for (const s of sorted) {
    if (!s.ok) failStart ??= s.t;
    else if (failStart !== undefined) { maxOutage = Math.max(maxOutage, s.t - failStart); failStart = undefined; }
  }
  if (failStart !== undefined && sorted.length) maxOutage = Math.max(maxOutage, sorted[sorted.length - 1].t + sorted[sorted.length - 1].latency - failStart);
  const pct = (p: number) => (samples.length ? h.getValueAtPercentile(p) : NaN);
  return {
    attempts: samples.length, successes: ok, errors: samples.length - ok,
    availability: samples.length ? (ok * 100) / samples.length : NaN,
    p50: pct(50), p90: pct(90), p95: pct(95), p99: pct(99), max: samples.length ? h.maxValue : NaN,
    percentile: pct, maxOutageMs: maxOutage,
  };
}

/** The per-address and per-zone results of one probe's attempts (pure). */
export function groupByAddress(mine: ProbeEvent[], zones: AddressZones, inPhase: (t: number, p: Phase) => boolean): { byAddress: AddressResult[]; byZone: ZoneResult[] } {
  if (!mine.some((e) => e.addr !== undefined)) return { byAddress: [], byZone: [] };
  const group = (evs: ProbeEvent[]): GroupResult => {
    const fails = evs.filter((e) => !e.ok);
    return {
      stats: Object.fromEntries((['steady', 'fault', 'recovery', 'all'] as Phase[]).map((p) => [p, probeStats(evs.filter((s) => inPhase(s.t, p)))])) as Record<Phase, ProbeStats>,
      firstAttempt: evs[0].t, lastAttempt: evs[evs.length - 1].t,
      ...(fails.length ? { firstFailure: fails[0].t, lastFailure: fails[fails.length - 1].t } : {}),
    };
  };
  const byAddr = new Map<string | null, ProbeEvent[]>();
  for (const e of mine) { const k = e.addr ?? null; const l = byAddr.get(k) ?? []; l.push(e); byAddr.set(k, l); }
  const zoneOf = (a: string | null) => (a === null ? UNKNOWN_ZONE : zones[a]?.zone || UNKNOWN_ZONE);
  const cmp = (a: string | null, b: string | null) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b, 'en', { numeric: true }));
  const addrs = [...byAddr.keys()].sort(cmp);
  const byAddress = addrs.map((a): AddressResult => ({ addr: a, zone: zoneOf(a), ...(a !== null && zones[a]?.interfaceType ? { interfaceType: zones[a].interfaceType } : {}), ...group(byAddr.get(a)!) }));
  const zoneNames = [...new Set(addrs.map(zoneOf))].sort((a, b) => (a === UNKNOWN_ZONE ? 1 : b === UNKNOWN_ZONE ? -1 : a.localeCompare(b)));
  const byZone = zoneNames.map((z): ZoneResult => {
    const inZone = addrs.filter((a) => zoneOf(a) === z);
    return { zone: z, addrs: inZone, ...group(mine.filter((e) => zoneOf(e.addr ?? null) === z)) };
  });
  return { byAddress, byZone };
}

export function analyze(tl: Timeline, opts: { settleMs: number; /** address → zone (from the target at the end of the run) */ zones?: AddressZones }): Analysis {
  const ev = [...tl.events].sort((a, b) => a.t - b.t);
  const phases: Analysis['phases'] = {};
  for (const e of ev) if (e.type === 'phase' && phases[e.phase] === undefined) phases[e.phase] = e.t;
  const inj = ev.find((e): e is Extract<TimelineEvent, { type: 'fault' }> => e.type === 'fault' && e.action === 'injected');
  const rev = ev.find((e) => e.type === 'fault' && e.action === 'reverted');
  const scope = faultScope(inj);
  const end = phases.end ?? (ev.length ? ev[ev.length - 1].t : 0);

  // ---- replay cluster state ----
  const nodes = new Map<string, NodeHealth>();
  const pods = new Map<string, Extract<TimelineEvent, { type: 'pod' }>>();
  const desired = new Map<string, number>();
  const healthyAt: Array<{ t: number; counts: Map<string, number>; allNodesReady: boolean }> = [];
  const workloads = new Map<string, WorkloadRecovery>();
  const count = (t: number) => {
    const inFault = inj !== undefined && t >= inj.t && (rev === undefined || t < rev.t);
    return healthyCounts(pods.values(), (n) => nodes.get(n), inFault ? scope : NO_FAULT);
  };
  // the nodes that matter (as the live wait: Observer.nodesThatMatter): hosts of the workloads' live
  // pods, the fault's nodes and the nodes of its zones; other nodes' churn is not the scenario's
  const nodesThatMatterReady = () => {
    const hosts = new Set(scope.nodes);
    for (const p of pods.values()) if (p.node && !p.deleted) hosts.add(p.node);
    return [...nodes].every(([name, n]) => n.ready || !(hosts.has(name) || (n.zone !== undefined && scope.zones.has(n.zone))));
  };
  for (const e of ev) {
    if (e.type === 'node') { if (e.deleted) nodes.delete(e.name); else nodes.set(e.name, { ready: e.ready, zone: e.zone }); }
    else if (e.type === 'pod') {
      pods.set(e.key, e);
      const w = workloads.get(e.workload) ?? { workload: e.workload, desired: desired.get(e.workload) ?? 0 };
      workloads.set(e.workload, w);
      if (inj && e.t >= inj.t && w.rescheduleMs === undefined && e.node && e.created >= inj.t && !e.deleted) w.rescheduleMs = e.t - inj.t;
    } else if (e.type === 'workload') {
      desired.set(e.workload, e.desired);
      const w = workloads.get(e.workload) ?? { workload: e.workload, desired: e.desired };
      w.desired = e.desired;
      workloads.set(e.workload, w);
    }
    if (e.type === 'node' || e.type === 'pod' || e.type === 'workload' || e.type === 'fault') {
      healthyAt.push({ t: e.t, counts: count(e.t), allNodesReady: nodesThatMatterReady() });
    }
    if (inj && e.type === 'node' && !e.ready && (scope.nodes.has(e.name) || (e.zone !== undefined && scope.zones.has(e.zone))) && e.t >= inj.t) {
      for (const w of workloads.values()) if (w.detectMs === undefined) w.detectMs = e.t - inj.t;
    }
  }
  if (inj) {
    for (const w of workloads.values()) {
      w.desired = desired.get(w.workload) ?? w.desired;
      const after = healthyAt.filter((h) => h.t >= inj.t);
      // readiness: first moment at or after injection with desired healthy replicas
      const states = after.map((h) => ({ t: h.t, ok: (h.counts.get(w.workload) ?? 0) >= w.desired && w.desired > 0 }));
      const firstOk = states.find((s) => s.ok);
      if (firstOk) w.readyMs = firstOk.t - inj.t;
      // recovery: the start of a healthy stretch that lasts the settle period (within the timeline)
      for (let i = 0; i < states.length; i++) {
        if (!states[i].ok || (i > 0 && states[i - 1].ok)) continue;
        const j = states.findIndex((s, k) => k > i && !s.ok);
        const until = j < 0 ? end : states[j].t;
        if (until - states[i].t >= opts.settleMs) { w.recoveryMs = states[i].t - inj.t; break; }
      }
    }
  }
  const ws = [...workloads.values()];
  const recoveryMs = inj && ws.length && ws.every((w) => w.recoveryMs !== undefined) ? Math.max(...ws.map((w) => w.recoveryMs!)) : undefined;
  let nodeRecoveryMs: number | undefined;
  if (rev) {
    const first = healthyAt.find((h) => h.t >= rev.t && h.allNodesReady);
    const atRevert = [...healthyAt].reverse().find((h) => h.t <= rev.t);
    nodeRecoveryMs = atRevert?.allNodesReady ? 0 : first ? first.t - rev.t : undefined;
  }

  // ---- probes per phase ----
  const probeEvents = ev.filter((e): e is ProbeEvent => e.type === 'probe');
  const names = [...new Set(probeEvents.map((p) => p.probe))];
  const inPhase = (t: number, p: Phase) => {
    if (p === 'all') return true;
    const start = phases[p];
    const next = p === 'steady' ? phases.fault ?? phases.end : p === 'fault' ? phases.recovery ?? phases.end : phases.end;
    return start !== undefined && t >= start && (next === undefined || t < next);
  };
  const probes: Analysis['probes'] = {};
  const byAddress: Analysis['byAddress'] = {};
  const byZone: Analysis['byZone'] = {};
  for (const n of names) {
    const mine = probeEvents.filter((p) => p.probe === n);
    probes[n] = Object.fromEntries((['steady', 'fault', 'recovery', 'all'] as Phase[]).map((p) => [p, probeStats(mine.filter((s) => inPhase(s.t, p)))])) as Record<Phase, ProbeStats>;
    ({ byAddress: byAddress[n], byZone: byZone[n] } = groupByAddress(mine, opts.zones ?? {}, inPhase));
  }
  const gaps = ev.filter((e): e is Extract<TimelineEvent, { type: 'gap' }> => e.type === 'gap').map((g) => ({ resource: g.resource, start: g.t, end: g.end, error: g.error }));
  return { phases, injectedAt: inj?.t, revertedAt: rev?.t, workloads: ws, recoveryMs, nodeRecoveryMs, probes, byAddress, byZone, faultZones: inj?.zones ?? [], gaps };
}
