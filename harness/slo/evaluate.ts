// Verdicts: each SLO against the analysis of the recorded timeline. Pure.
import { compare, parseSlo, type Slo } from './grammar.js';
import type { Analysis } from './analyze.js';
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

export function measure(slo: Slo, a: Analysis): { value: number | null; detail: string } {
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
      const s = p[slo.phase];
      if (!s.attempts) return { value: null, detail: `probe ${slo.probe} made no attempts in phase ${slo.phase}` };
      const detail = `${s.successes}/${s.attempts} ok in phase ${slo.phase}`;
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
    return { name, objective: text, measured: m.value, unit: slo.unit, pass, judged: true, detail: m.detail };
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
