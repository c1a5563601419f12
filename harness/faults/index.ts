// The run of one fault, whatever its kind: plan → (sweep check) → journal → inject → verify → hold →
// revert in `finally`, also on SIGINT/SIGTERM (a second Ctrl-C is reported, not obeyed, until reverted).
import { ExitCode, FaultNotTaken, HarnessError, invalid } from '../exit-codes.js';
import { Journal } from '../journal.js';
import { explainAwsError } from '../aws/errors.js';
import { faults, type AnyFaultKind, type FaultRegistry } from './registry.js';
import { missingEffect } from './effects.js';
import { NOT_CHECKED, type Faulted, type Verification } from './kind.js';
import { sleep, type FaultContext, type Leftover, type Plan, type RevertContext, type RevertReport } from './types.js';

export * from './types.js';
export * from './kind.js';
export { faults, FaultRegistry, FaultSpec, type AnyFaultKind, type FaultSpecInput } from './registry.js';
export { Limits, describeIssues } from './schema.js';

/** A planned fault: its kind, the validated spec and the plan (a value). */
export interface PlannedFault { kind: AnyFaultKind; spec: { kind: string; duration: number }; plan: Plan; faulted: Faulted }

/** Resolves targets and checks limits for `spec` with its kind's module. Touches nothing. */
export async function planFault(ctx: FaultContext, spec: { kind: string; duration: number }, registry: FaultRegistry = faults): Promise<PlannedFault> {
  const kind = registry.get(spec.kind);
  if (!kind) throw invalid(`fault.kind: unknown fault kind "${spec.kind}" (kinds: ${registry.kinds().join(', ')})`);
  const plan = await kind.plan(ctx, spec);
  return { kind, spec, plan, faulted: kind.faulted(plan) };
}

/** Pauses between the passes of a revert that left something (throttling storms, 5xx, a slow instance). */
export const REVERT_PASS_WAITS_MS = [2000, 5000];

/**
 * Reverts a run from its journal and closes it when nothing is left. Safe to call twice. The revert
 * is idempotent, so when a pass leaves something (a call that failed after all its retries) it runs
 * again, up to 1 + REVERT_PASS_WAITS_MS.length passes; the leftovers reported are the last pass's.
 */
export async function revertRun(ctx: RevertContext, j: Journal, waitsMs: number[] = REVERT_PASS_WAITS_MS, registry: Pick<FaultRegistry, 'get'> = faults): Promise<RevertReport> {
  const kind = j.header?.kind;
  const revert = registry.get(kind)?.revert;
  if (!revert) return { actions: [], leftovers: [{ what: `journal ${j.file} has an unknown fault kind "${kind}"`, fix: [`inspect ${j.file} and revert by hand`] }] };
  const actions: string[] = [];
  let report: RevertReport;
  for (let pass = 0; ; pass++) {
    try {
      report = await revert(ctx, j);
    } catch (err) {
      report = { actions: [], leftovers: [{ what: `revert of run ${j.runId} (${kind}) failed: ${(err as Error).name}: ${(err as Error).message}`, fix: [...(explainAwsError(err) ? [explainAwsError(err)!] : []), 'run `npm run chaos -- recover` again once the cause is fixed', `the journal is ${j.file}`] }] };
    }
    actions.push(...report.actions);
    if (!report.leftovers.length || pass >= waitsMs.length) break;
    ctx.log(`revert pass ${pass + 1} left ${report.leftovers.length} thing(s) (${report.leftovers.map((l) => l.what).join('; ')}); reverting again in ${waitsMs[pass] / 1000} s`);
    await sleep(waitsMs[pass]);
  }
  report = { actions, leftovers: report.leftovers };
  j.write('run.end', 'note', { status: report.leftovers.length ? 'revert-failed' : 'reverted', actions: report.actions, leftovers: report.leftovers });
  return report;
}

/** Ctrl-C / SIGTERM / SIGHUP: the first aborts the hold and starts the revert; later ones are reported, not obeyed. */
export class SignalGuard {
  readonly controller = new AbortController();
  private count = 0;
  private settled = false;
  private readonly handler = (sig: NodeJS.Signals) => {
    this.count++;
    if (this.settled) this.log(`${sig}: the fault is already reverted; exiting`);
    else if (this.count === 1) {
      this.log(`${sig}: reverting the fault now (a second ${sig} will not stop the revert)`);
      this.controller.abort(new HarnessError(`interrupted by ${sig}`, ExitCode.Aborted));
    } else this.log(`${sig} again: still reverting; the harness exits when the fault is reverted (use \`npm run chaos -- recover\` if it is killed)`);
  };
  /** An error thrown where no one catches it (a stray callback) still reverts the fault. */
  private readonly crash = (err: unknown) => {
    this.log(`uncaught error: ${(err as Error)?.stack ?? String(err)}; reverting`);
    if (!this.controller.signal.aborted) this.controller.abort(new HarnessError(`uncaught error: ${(err as Error)?.message ?? String(err)}`, ExitCode.Error));
  };
  constructor(private readonly log: (m: string) => void) {}
  install(): this {
    // SIGHUP: the terminal or SSH session went away; revert as for Ctrl-C
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
    process.on('SIGHUP', this.handler);
    process.on('uncaughtException', this.crash);
    process.on('unhandledRejection', this.crash);
    return this;
  }
  /** After the revert: later signals are acknowledged (and must not kill the process mid-report). */
  settle(): void {
    this.settled = true;
  }
  uninstall(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
    process.off('SIGHUP', this.handler);
    process.off('uncaughtException', this.crash);
    process.off('unhandledRejection', this.crash);
  }
}

export interface FaultRunResult {
  plan: Plan;
  /** did the fault take effect (the kind's verify; "not-checked" when it has none or the inject failed) */
  verification: Verification;
  runId: string;
  journal: string;
  injectedAt?: string;
  revertedAt?: string;
  revert: RevertReport;
  error?: HarnessError | Error;
  aborted: boolean;
  exitCode: number;
}

export interface FaultRunOptions {
  stateDir: string;
  target: string;
  /** called while the fault is in place; resolves when the hold is over (default: sleep the duration) */
  during?: (plan: Plan, signal: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** called when the revert starts */
  onReverting?: () => void;
  /** how long the caller waits after the revert (recovery), for the expiry tag */
  afterRevertMs?: number;
  /** called when the kind's effect check has an answer */
  onVerified?: (v: Verification) => void;
}

/** What a revert may take at most (passes, instances leaving `stopping`, starting): part of the expiry. */
export const REVERT_BUDGET_MS = 15 * 60_000;

/** The expiry a fault injected now carries: the hold, the revert and the wait after it. */
export function expiryAt(now: number, holdMs: number, afterRevertMs = 0): string {
  return new Date(now + holdMs + REVERT_BUDGET_MS + afterRevertMs).toISOString();
}

/** Injects a planned fault (from planFault) and always reverts it. */
export async function injectAndRevert(ctx: FaultContext, pf: PlannedFault, o: FaultRunOptions): Promise<FaultRunResult> {
  const { kind, plan, spec } = pf;
  const j = Journal.create(o.stateDir, { runId: ctx.runId, kind: kind.kind, cluster: ctx.guard.cluster, region: ctx.guard.region, account: ctx.guard.account, target: o.target, fault: { ...spec, plan: plan.resources } });
  const res: FaultRunResult = { plan, verification: NOT_CHECKED, runId: ctx.runId, journal: j.file, revert: { actions: [], leftovers: [] }, aborted: false, exitCode: ExitCode.Ok };
  const abort = new AbortController();
  const onAbort = () => abort.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (o.signal?.aborted) throw o.signal.reason;
    const now = Date.now();
    res.injectedAt = new Date(now).toISOString();
    // computed here, not when the run was prepared: the steady state and the plan took time
    ctx.expiresAt = expiryAt(now, plan.durationMs, o.afterRevertMs);
    try {
      await kind.inject(ctx, plan, j);
    } catch (err) {
      // a node script that checked its own effect and did not see it: the fault did not take
      if (err instanceof FaultNotTaken) res.verification = { status: 'not-taken', detail: [err.message, ...err.details] };
      throw err;
    }
    // the effect check runs beside the hold: a fault that did not take ends the hold early
    const checked = (kind.verify ? kind.verify(ctx, plan, j) : Promise.resolve(NOT_CHECKED))
      .catch((err: unknown): Verification => ({ status: 'not-checked', detail: [`the effect check failed: ${(err as Error).message}`] }))
      .then((v) => {
        res.verification = v;
        o.onVerified?.(v);
        if (v.status === 'not-taken') abort.abort(new FaultNotTaken(`the fault did not take effect: ${missingEffect(v) ?? 'no effect seen'}`, v.detail));
        else ctx.log(`effect ${v.status}: ${v.detail.join('; ')}`);
      });
    await (o.during ? o.during(plan, abort.signal) : sleep(plan.durationMs, abort.signal));
    // the verdict needs the check: the hold ends, the check may still be within its bound (an abort
    // — Ctrl-C, a stop condition, the lever — does not wait for it: the revert starts at once)
    if (!abort.signal.aborted) await Promise.race([checked, new Promise<void>((r) => abort.signal.addEventListener('abort', () => r(), { once: true }))]);
    if (abort.signal.aborted) throw abort.signal.reason ?? new HarnessError('aborted', ExitCode.Aborted);
  } catch (err) {
    res.error = err as Error;
    res.aborted = err instanceof HarnessError && err.exitCode === ExitCode.Aborted;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    ctx.log('reverting');
    o.onReverting?.();
    // the planned kind reverts its own journal (a kind outside the default registry too)
    res.revert = await revertRun(ctx, j, REVERT_PASS_WAITS_MS, { get: (k) => (k === kind.kind ? kind : faults.get(k)) });
    res.revertedAt = new Date().toISOString();
  }
  res.exitCode = res.revert.leftovers.length ? ExitCode.RevertIncomplete
    : res.error ? (res.error instanceof HarnessError ? res.error.exitCode : ExitCode.Error) : ExitCode.Ok;
  return res;
}

export function formatLeftovers(leftovers: Leftover[]): string[] {
  const out = ['REVERT INCOMPLETE: manual action needed. Left behind:'];
  for (const l of leftovers) {
    out.push(`  - ${l.what}`);
    for (const f of l.fix) out.push(`      fix: ${f}`);
  }
  out.push('  then run `npm run chaos -- recover` to check nothing is left.');
  return out;
}
