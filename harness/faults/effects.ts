// Effect checks for the kinds' `verify`: did the fault take? Each check waits, within a bound, for
// one observable effect (a node's Ready condition, an instance's state, an ACL association) and
// says what it expected and what it saw. Node conditions come from the run's watch cache when a
// scenario runs (ctx.nodeCondition), else from the apiserver.
import { apiStatus } from '../k8s/index.js';
import type { Verification } from './kind.js';
import { DEFAULT_NODE_GRACE_MS, EFFECT_MARGIN_MS, sleep, type FaultContext, type NodeCondition } from './types.js';
import { formatMs } from '../duration.js';

/** How long a check waits for a node to lose its heartbeat: the grace period plus a margin. */
export function nodeEffectBoundMs(ctx: Pick<FaultContext, 'nodeGracePeriodMs'>): number {
  return (ctx.nodeGracePeriodMs ?? DEFAULT_NODE_GRACE_MS) + EFFECT_MARGIN_MS;
}

/**
 * Whether a fault of this duration can make a node lose its heartbeat at all: only when it lasts
 * beyond the grace period plus a node-monitor period (5 s upstream); a shorter one (the node-local
 * timer restarts kubelet first) is checked on the node only. Returns why not, or undefined.
 */
export function heartbeatLossExpected(ctx: Pick<FaultContext, 'nodeGracePeriodMs'>, durationMs: number): string | undefined {
  const grace = ctx.nodeGracePeriodMs ?? DEFAULT_NODE_GRACE_MS;
  return durationMs >= grace + 5000 ? undefined : `the Node is not expected to lose its heartbeat: the fault lasts ${formatMs(durationMs)}, not beyond the node-monitor-grace-period ${formatMs(grace)} + 5s`;
}

/** kubelet reports a runtime that is gone within about 20 s (its runtime check every 5 s, status every 10 s); a shorter fault is checked on the node only. */
export const RUNTIME_NOT_READY_MS = 20_000;

/** One skipped check, as a line of the verification. */
export const skipped = (why: string) => ({ ok: true, lines: [why] });

export async function readNodeCondition(ctx: Pick<FaultContext, 'kube' | 'nodeCondition'>, name: string): Promise<NodeCondition> {
  const cached = ctx.nodeCondition?.(name);
  if (cached) return cached;
  try {
    const n = await ctx.kube.core.readNode({ name });
    const c = n.status?.conditions?.find((x) => x.type === 'Ready');
    return c ? { status: c.status as NodeCondition['status'], reason: c.reason, message: c.message } : { status: 'absent' };
  } catch (err) {
    if (apiStatus(err) === 404) return { status: 'absent', reason: 'NodeDeleted' };
    throw err;
  }
}

export interface EffectResult {
  seen: boolean;
  afterMs: number;
  last: string;
  /** time the check could not see the cluster (blind, or the check failed): not counted against the bound */
  blindMs: number;
  /** not seen, and the wait did not watch a visible cluster for the whole bound (the 2× cap ended it, or the last look was blind) */
  cutOff: boolean;
}

/**
 * Waits until `check` says the effect is there (returns undefined = seen, or a string saying what
 * it sees instead), at most `boundMs` of time in which the cluster could be seen. With `blind`
 * (the apiserver is unreachable: answers are stale), time while it says so or while a check throws
 * stops the bound's clock, up to `boundMs` more — the node-lifecycle controller cannot mark a node
 * either while the apiserver is down, so a bound that ran through an outage would call a fault that
 * took "not taken". Without `blind` an error is "not seen yet", as any other answer.
 */
export async function waitForEffect(boundMs: number, check: () => Promise<string | undefined>, everyMs = 250, signal?: AbortSignal, blind?: () => boolean): Promise<EffectResult> {
  const t0 = performance.now();
  let last = 'not checked yet';
  let blindMs = 0;
  for (;;) {
    const before = performance.now();
    let lookBlind = false;
    try {
      const stale = blind?.() ?? false;
      const r = await check();
      if (r === undefined && !stale) return { seen: true, afterMs: performance.now() - t0, last: '', blindMs, cutOff: false };
      last = r === undefined ? 'the effect, but from a watch cache that cannot reach the apiserver' : r;
      lookBlind = stale;
    } catch (err) {
      last = `check failed: ${(err as Error).message}`;
      lookBlind = blind !== undefined;
    }
    const now = performance.now();
    // a blind look stops the clock from its start until now (the sleep before the next look too, below)
    if (lookBlind) blindMs += now - before;
    const elapsed = now - t0;
    const visible = elapsed - blindMs;
    const capped = elapsed >= 2 * boundMs;
    if (visible >= boundMs || capped || signal?.aborted) return { seen: false, afterMs: elapsed, last, blindMs, cutOff: lookBlind || (capped && visible < boundMs) };
    await sleep(everyMs, signal);
    if (lookBlind) blindMs += performance.now() - now;
  }
}

/** How a verification's detail line marks an effect that did not appear. */
export const MISSING = 'missing: ';

/** The effect a verification found missing (its first `missing:` line, else its first line), for messages. */
export function missingEffect(v: Pick<Verification, 'detail'>): string | undefined {
  const l = v.detail.find((x) => x.startsWith(MISSING)) ?? v.detail[0];
  return l?.startsWith(MISSING) ? l.slice(MISSING.length) : l;
}

const describe = (c: NodeCondition) => `Ready=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`;

/**
 * Each node's Ready condition reaches a wanted state within the bound: `unknown` (the heartbeat
 * stopped: the node-lifecycle controller set Ready=Unknown) or `not-ready` (False or Unknown, or the
 * Node is gone). One line per node, for the verification.
 */
export async function nodesReach(ctx: Pick<FaultContext, 'kube' | 'nodeCondition' | 'nodeGracePeriodMs' | 'clusterBlind'>, names: string[], want: 'unknown' | 'not-ready', boundMs = nodeEffectBoundMs(ctx)): Promise<Check> {
  const wanted = (c: NodeCondition) => (want === 'unknown' ? c.status === 'Unknown' : c.status !== 'True');
  const expected = want === 'unknown' ? 'Ready=Unknown (heartbeat lost)' : 'not Ready';
  const results = await Promise.all(names.map(async (name) => {
    let seen: NodeCondition | undefined;
    const r = await waitForEffect(boundMs, async () => {
      const c = await readNodeCondition(ctx, name);
      if (wanted(c)) { seen = c; return undefined; }
      return describe(c);
    }, 250, undefined, ctx.clusterBlind);
    if (r.seen) return { ok: true, line: `node ${name}: ${describe(seen!)} after ${formatMs(r.afterMs)} (expected ${want === 'unknown' ? 'Ready=Unknown: heartbeat lost' : 'not Ready'})` };
    // the apiserver was out of reach for part of the wait: not seen is not "not taken"
    if (r.cutOff) return { ok: false, unknown: true, line: `${UNSEEN}node ${name}: still ${r.last} after ${formatMs(r.afterMs)}, of which the apiserver was unreachable for ${formatMs(r.blindMs)}; expected ${expected}, which the cluster could not show meanwhile` };
    return { ok: false, line: `${MISSING}node ${name}: still ${r.last} after ${formatMs(r.afterMs)}; expected ${expected} within ${formatMs(boundMs)} (node-monitor-grace-period ${formatMs(ctx.nodeGracePeriodMs ?? DEFAULT_NODE_GRACE_MS)} + ${formatMs(EFFECT_MARGIN_MS)})` };
  }));
  // unknown only when every node that failed could not be seen: one seen missing makes it not-taken
  const unseen = (x: (typeof results)[number]) => 'unknown' in x && x.unknown === true;
  return { ok: results.every((x) => x.ok), unknown: results.some((x) => !x.ok) && results.every((x) => x.ok || unseen(x)), lines: results.map((x) => x.line) };
}

/** One effect check: it held, or not; `unknown` when it could not be seen (the apiserver was unreachable). */
export interface Check { ok: boolean; lines: string[]; unknown?: boolean }

/** How a verification's detail line marks an effect that could not be seen (the cluster was out of reach). */
export const UNSEEN = 'unseen: ';

/**
 * A verification from checks: taken when every check holds; not-taken when one saw the effect
 * missing; not-checked when the only failures are checks that could not see the cluster.
 */
export function verification(checks: Check[]): Verification {
  const status = checks.every((c) => c.ok) ? 'taken' : checks.some((c) => !c.ok && !c.unknown) ? 'not-taken' : 'not-checked';
  return { status, detail: checks.flatMap((c) => c.lines) };
}
