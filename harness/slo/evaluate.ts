// Verdicts: each SLO against the analysis of the recorded timeline. Pure.
import { compare, parseSlo, type Slo } from './grammar.js';
import type { Analysis, ProbeStats } from './analyze.js';
import { formatMs } from '../duration.js';

export interface Verdict {
  name: string;
  objective: string;
  /** measured value in `unit`; null when it could not be measured (never reached, no samples) */
  measured: number | null;
  unit: Slo['unit'];
  pass: boolean;
  /** false: not judged (the fault did not take, or there is nothing to compare with); `pass` is then false */
  judged: boolean;
  detail: string;
}

/** Every SLO "not judged", with why (a fault that did not take tested nothing). */
export function notJudged(slos: Record<string, string>, why: string): Verdict[] {
  return Object.entries(slos).map(([name, text]) => {
    const slo = parseSlo(text);
    return { name, objective: text, measured: null, unit: slo.unit, pass: false, judged: false, detail: `not judged: ${why}` };
  });
}

/**
 * The stats an SLO with a zone or address qualifier reads: the probe's attempts sent to that zone's
 * addresses (or that address) in the phase. undefined with why when there are none: "not judged".
 */
export function qualifiedStats(slo: Slo, a: Analysis): { stats: ProbeStats; what: string } | { notJudged: string } {
  const name = slo.probe!;
  const addrs = a.byAddress?.[name] ?? [];
  const seen = addrs.map((x) => `${x.addr ?? 'no address'} (${x.zone})`).join(', ');
  if (!addrs.length) return { notJudged: `probe ${name} recorded no addresses (its attempts carry no addr), so there is nothing per ${slo.addr ? 'address' : 'zone'}` };
  if (slo.addr) {
    const g = addrs.find((x) => x.addr === slo.addr);
    const s = g?.stats[slo.phase];
    if (!s?.attempts) return { notJudged: `probe ${name} sent no attempts to ${slo.addr} in phase ${slo.phase} (addresses seen: ${seen})` };
    return { stats: s, what: `to ${slo.addr} (${g!.zone})` };
  }
  const zones = slo.zone === 'faulted' ? a.faultZones ?? [] : [slo.zone!];
  if (!zones.length) return { notJudged: 'zone=faulted, but the fault took no zone' };
  const groups = (a.byZone?.[name] ?? []).filter((z) => zones.includes(z.zone));
  const phase = groups.map((g) => g.stats[slo.phase]).filter((s) => s.attempts);
  const label = `zone ${zones.join('+')}${slo.zone === 'faulted' ? ' (the faulted zone)' : ''}`;
  if (!phase.length) return { notJudged: `probe ${name} sent no attempts to ${label} in phase ${slo.phase} (addresses seen: ${seen})` };
  if (phase.length === 1) return { stats: phase[0], what: `to ${label}` };
  // several faulted zones: their attempts together
  return { stats: mergeStats(phase), what: `to ${label}` };
}

/** Stats of several zones together (faulted zones): counts add up; percentiles and outages take the worst. */
function mergeStats(l: ProbeStats[]): ProbeStats {
  const attempts = l.reduce((n, s) => n + s.attempts, 0);
  const successes = l.reduce((n, s) => n + s.successes, 0);
  const worst = (f: (s: ProbeStats) => number) => Math.max(...l.map(f));
  return {
    attempts, successes, errors: attempts - successes, availability: (successes * 100) / attempts,
    p50: worst((s) => s.p50), p90: worst((s) => s.p90), p95: worst((s) => s.p95), p99: worst((s) => s.p99), max: worst((s) => s.max),
    percentile: (p) => worst((s) => s.percentile(p)), maxOutageMs: worst((s) => s.maxOutageMs),
  };
}

export function measure(slo: Slo, a: Analysis): { value: number | null; detail: string; notJudged?: string } {
  switch (slo.metric) {
    case 'recovery':
      return a.recoveryMs === undefined
        ? { value: null, detail: `not every workload self-healed within the run (${a.workloads.map((w) => `${w.workload}: ${w.recoveryMs === undefined ? 'no' : 'yes'}`).join(', ')})` }
        : { value: a.recoveryMs, detail: a.workloads.map((w) => `${w.workload}: detect ${formatMs(w.detectMs)}, reschedule ${formatMs(w.rescheduleMs)}, ready ${formatMs(w.readyMs)}, recovered ${formatMs(w.recoveryMs)}`).join('; ') };
    case 'node-recovery':
      return a.nodeRecoveryMs === undefined ? { value: null, detail: 'not every node was Ready again within the run' } : { value: a.nodeRecoveryMs, detail: 'from revert until every node was Ready' };
    default: {
      const p = a.probes[slo.probe!];
      if (!p) return { value: null, detail: `no probe named "${slo.probe}" ran` };
      let s = p[slo.phase];
      let to = '';
      if (slo.zone || slo.addr) {
        const q = qualifiedStats(slo, a);
        if ('notJudged' in q) return { value: null, detail: `not judged: ${q.notJudged}`, notJudged: q.notJudged };
        s = q.stats;
        to = ` ${q.what}`;
      }
      if (!s.attempts) return { value: null, detail: `probe ${slo.probe} made no attempts in phase ${slo.phase}` };
      const detail = `${s.successes}/${s.attempts} ok${to} in phase ${slo.phase}`;
      if (slo.metric === 'availability') return { value: round(s.availability, 3), detail };
      if (slo.metric === 'errors') return { value: s.errors, detail };
      if (slo.metric === 'max-outage') return { value: s.maxOutageMs, detail };
      return { value: s.percentile(slo.percentile!), detail: `${detail}; latency from intended send time, failures at their timeout` };
    }
  }
}

export function evaluate(slos: Record<string, string>, a: Analysis): Verdict[] {
  return Object.entries(slos).map(([name, text]) => {
    const slo = parseSlo(text);
    const m = measure(slo, a);
    const pass = m.value !== null && compare(m.value, slo.op, slo.value);
    // a zone or address that got no attempts: nothing to compare with, so not judged (pass stays false)
    return { name, objective: text, measured: m.value, unit: slo.unit, pass, judged: m.notJudged === undefined, detail: m.detail };
  });
}

export function formatMeasured(v: Pick<Verdict, 'measured'> & { unit: string; judged?: boolean }): string {
  if (v.judged === false) return 'not judged';
  if (v.measured === null) return 'not measured';
  if (v.unit === 'percent') return `${v.measured}%`;
  if (v.unit === 'count') return String(v.measured);
  return formatMs(v.measured);
}

function round(v: number, d: number): number {
  const k = 10 ** d;
  return Math.floor(v * k) / k;
}
