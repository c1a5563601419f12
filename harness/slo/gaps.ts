// Apiserver gaps in a recorded timeline: merged into outages, and the rule that a cluster-state SLO
// whose window overlaps one is not judged. Pure, like the rest of the SLO engine.
import { parseSlo } from './grammar.js';
import { formatMeasured, type Verdict } from './evaluate.js';
import type { Analysis } from './analyze.js';
import { formatSeconds } from '../duration.js';

export interface Outage { start: number; end?: number; resources: string[]; error: string }

/**
 * The apiserver gaps of a run merged into outages: the watches notice an outage within a second or
 * two of each other, so gaps that overlap (or touch within 2 s) are one outage. `end` is absent when
 * the run ended before the apiserver was reachable again.
 */
export function apiserverOutages(gaps: Array<{ resource: string; start: number; end?: number; error: string }>): Outage[] {
  const out: Outage[] = [];
  for (const g of [...gaps].sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1];
    if (last && (last.end === undefined || g.start <= last.end + 2000)) {
      if (!last.resources.includes(g.resource)) last.resources.push(g.resource);
      if (last.end !== undefined && g.end !== undefined) last.end = Math.max(last.end, g.end);
      else delete last.end;
    } else out.push({ start: g.start, ...(g.end === undefined ? {} : { end: g.end }), resources: [g.resource], error: g.error });
  }
  return out;
}

/**
 * SLOs judged from the cluster state (recovery, node-recovery) cannot pass across a gap in the
 * timeline: while the apiserver was unreachable nothing was observed, and what changed then is
 * stamped when it came back. Such an SLO whose window (recovery: injection until recovered + settle;
 * node-recovery: revert until every node Ready; to the end of the run when never reached) overlaps a
 * gap is not measured, so it does not pass; its detail says so and gives the value as observed. Probe
 * SLOs are measured by the harness's own requests, which do not go through the apiserver: unchanged.
 */
export function judgeGaps(verdicts: Verdict[], a: Analysis, settleMs: number): Verdict[] {
  const outages = apiserverOutages(a.gaps);
  if (!outages.length) return verdicts;
  const end = a.phases.end ?? Math.max(0, ...outages.map((o) => o.end ?? o.start));
  return verdicts.map((v) => {
    const metric = parseSlo(v.objective).metric;
    let from: number | undefined;
    let to: number | undefined;
    if (metric === 'recovery' && a.injectedAt !== undefined) { from = a.injectedAt; to = a.recoveryMs === undefined ? end : a.injectedAt + a.recoveryMs + settleMs; }
    else if (metric === 'node-recovery' && a.revertedAt !== undefined) { from = a.revertedAt; to = a.nodeRecoveryMs === undefined ? end : a.revertedAt + a.nodeRecoveryMs; }
    if (from === undefined || to === undefined) return v;
    const hit = outages.filter((o) => o.start <= to! && (o.end ?? end) >= from!);
    if (!hit.length) return v;
    const what = hit.map((o) => `apiserver unreachable ${o.end === undefined ? `from t=${formatSeconds(o.start)} to the end of the run` : `${formatSeconds(o.end - o.start)} from t=${formatSeconds(o.start)}`}`).join(', ');
    return { ...v, measured: null, pass: false, detail: `not judged: ${what} overlaps this SLO's window, so the timeline has no data there (as observed: ${formatMeasured(v)}; ${v.detail})` };
  });
}
