// `chaos recover` and the pre-run sweep: finds what earlier runs left (unclosed journals, and what each
// fault kind's own sweep finds by its tags) and, when acting, reverts it, saying what it did. A run's
// resources are left alone while the process that owns the run is alive.
import { Journal } from './journal.js';
import { faults, formatLeftovers, revertRun, TAG, type FaultRegistry, type Leftover, type SweepFinding } from './faults/index.js';
import type { Aws } from './aws/index.js';
import type { Kube } from './k8s/index.js';
import { journalMatches } from './iam/account.js';
import { invalid } from './exit-codes.js';

export type { SweepFinding };
export interface SweepReport { findings: SweepFinding[]; leftovers: Leftover[] }

export interface SweepOptions {
  aws: Aws;
  kube: Kube;
  stateDir: string;
  cluster: string;
  act: boolean;
  /** also sweep harness resources of unknown runs that have not expired yet */
  force?: boolean;
  log: (m: string) => void;
  now?: Date;
  registry?: FaultRegistry;
  /** where the credentials act (STS account, region): a journal written elsewhere is refused, not reverted */
  where?: { account: string; region: string };
  /**
   * when acting, hold the run lock (taking over one whose run is gone: only recover may) and release
   * it at the end; default true (false only for tests with a stand-in Kubernetes client)
   */
  takeLock?: boolean;
}

/** recover (act) holds the run lock while it acts: it takes over a lock whose run is gone, never a live one (exit 2). */
export async function sweep(o: SweepOptions): Promise<SweepReport> {
  if (!o.act || o.takeLock === false) return sweepUnlocked(o);
  const { acquireRunLock } = await import('./lock.js');
  const lock = await acquireRunLock(o.kube, { runId: `recover-${process.pid}-${Date.now().toString(36)}`, takeOverStale: true, log: o.log });
  try {
    return await sweepUnlocked(o);
  } finally {
    await lock.release();
  }
}

async function sweepUnlocked(o: SweepOptions): Promise<SweepReport> {
  const registry = o.registry ?? faults;
  const report: SweepReport = { findings: [], leftovers: [] };
  const inProgress = new Set<string>();
  const known = new Set<string>();
  for (const file of Journal.list(o.stateDir)) {
    const j = Journal.open(file);
    known.add(j.runId);
    if (j.closed || !j.header) continue;
    if (j.header.cluster !== o.cluster) continue;
    if (o.where) {
      const m = journalMatches({ runId: j.runId, account: j.header.account, region: j.header.region }, { account: o.where.account }, o.where.region);
      if (!m.match) {
        report.findings.push({ kind: 'journal', id: j.runId, detail: `${j.header.kind} run started ${j.header.startedAt} was not fully reverted (${file})`, skipped: `refused: ${m.reason}; run recover with that account's credentials in that region` });
        continue;
      }
    }
    if (j.ownerAlive && j.header.pid !== process.pid) {
      inProgress.add(j.runId);
      report.findings.push({ kind: 'journal', id: j.runId, detail: `${j.header.kind} run in progress (pid ${j.header.pid})`, skipped: 'owner alive' });
      continue;
    }
    const f: SweepFinding = { kind: 'journal', id: j.runId, detail: `${j.header.kind} run started ${j.header.startedAt} was not fully reverted (${file})` };
    if (o.act) {
      const r = await revertRun({ aws: o.aws, kube: o.kube, log: o.log }, j, undefined, registry);
      f.action = r.actions.length ? r.actions.join('; ') : 'nothing was left to undo';
      report.leftovers.push(...r.leftovers);
    }
    report.findings.push(f);
  }
  const now = o.now ?? new Date();
  const expired = (tags: Record<string, string>) => Date.parse(tags[TAG.expiresAt] ?? '') < now.getTime();
  const leaveAlone = (tags: Record<string, string>) => {
    const run = tags[TAG.runId] ?? tags[TAG.stoppedBy];
    if (run && inProgress.has(run)) return 'its run is in progress';
    if (run && known.has(run)) return undefined; // its journal was handled above
    if (o.force || expired(tags)) return undefined;
    return `run ${run ?? '?'} is unknown here and not expired (${tags[TAG.expiresAt] ?? 'no expiry'}); --force sweeps it`;
  };
  // Each kind finds its own tagged leftovers; one kind failing does not stop the others.
  for (const k of registry.list()) {
    try {
      const r = await k.sweep({ aws: o.aws, kube: o.kube, log: o.log, cluster: o.cluster, act: o.act, leaveAlone });
      report.findings.push(...r.findings);
      report.leftovers.push(...r.leftovers);
    } catch (err) {
      report.leftovers.push({ what: `the ${k.kind} sweep failed: ${(err as Error).name}: ${(err as Error).message}`, fix: ['run `npm run chaos -- recover` again once the cause is fixed'] });
    }
  }
  return report;
}

/** Where a run's credentials act (its guard, once STS has checked the account): what `sweep`'s `where` takes. */
export function whereOf(guard: { account?: string; region: string }): SweepOptions['where'] {
  return guard.account ? { account: guard.account, region: guard.region } : undefined;
}

/**
 * The pre-run sweep again, right before injecting (the plan and the steady state took time): exit 2,
 * nothing injected, when anything of an earlier run has appeared since.
 */
export async function recheckBeforeInject(o: Omit<SweepOptions, 'act' | 'force'>): Promise<void> {
  const found = await sweep({ ...o, act: false });
  if (found.findings.length || found.leftovers.length) {
    throw invalid('right before injecting, the sweep found something an earlier run left; nothing was injected: run `chaos recover`', formatSweep(found, false));
  }
}

export function formatSweep(r: SweepReport, acted: boolean): string[] {
  if (!r.findings.length && !r.leftovers.length) return ['nothing left behind by earlier runs'];
  const lines = r.findings.map((f) => `${f.kind} ${f.id}: ${f.detail}${f.action ? ` → ${f.action}` : ''}${f.skipped ? ` (left alone: ${f.skipped})` : acted ? '' : ' (not touched: report only)'}`);
  if (r.leftovers.length) lines.push(...formatLeftovers(r.leftovers));
  return lines;
}
