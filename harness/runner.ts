// Runs one scenario, one function per phase: observe, the steady-state hypothesis, inject, hold (with
// stop conditions), revert, recovery, then judge the recorded timeline against the SLOs. Mocha drives it (runWithMocha): the
// scenario is a suite, each SLO an `it`, and injection/revert live in hooks that always run.
import Mocha from 'mocha';
import { ExitCode, HarnessError, invalid } from './exit-codes.js';
import { injectAndRevert, planFault, sleep, type FaultContext, type FaultRunResult, type Plan, type PlannedFault } from './faults/index.js';
import { faultScope, NO_FAULT, type FaultScope } from './slo/health.js';
import { missingEffect } from './faults/effects.js';
import { recheckBeforeInject, whereOf } from './recover.js';
import { Observer, workloadKey } from './observe/observer.js';
import { Prober } from './probes/prober.js';
import { Recorder, type Timeline } from './timeline.js';
import { analyze, type AddressZones, type Analysis } from './slo/analyze.js';
import { evaluate, formatMeasured, notJudged, type Verdict } from './slo/evaluate.js';
import { formatDuration } from './duration.js';
import { refuseNonLoopback, type Scenario } from './scenario.js';
import type { ResolvedTarget } from './target.js';
import { recordChaosEvent, type EventTarget } from './k8s/events.js';
import { judgeGaps } from './slo/gaps.js';

/** How long the harness waits for the Kubernetes Events that mark a fault window (never for the revert). */
const EVENT_TIMEOUT_MS = 10_000;
/** How long the first list of every watched resource may take before the run gives up (nothing injected yet). */
const OBSERVER_START_TIMEOUT_MS = 5 * 60_000;

export interface RunStatus {
  phase: 'setup' | 'steady' | 'fault' | 'recovery' | 'end';
  elapsedMs: number;
  fault: 'pending' | 'injected' | 'reverted';
  probes: Array<{ name: string; attempts: number; ok: number }>;
  workloads: Array<{ key: string; healthy: number; desired: number }>;
  nodesReady: number;
  nodes: number;
}

export interface RunDeps {
  /** called about once a second while the scenario runs (live status) */
  onStatus?: (s: RunStatus) => void;
  t: ResolvedTarget;
  ctx: FaultContext;
  stateDir: string;
  log: (m: string) => void;
  signal?: AbortSignal;
  /** applied to everything mocha prints (titles, failure messages): it writes to stdout itself */
  redact?: (text: string) => string;
}

export type VerdictName = 'pass' | 'fail' | 'aborted' | 'error' | 'revert-failed' | 'invalid' | 'not-taken';

export interface ScenarioResult {
  scenario: string;
  verdict: VerdictName;
  exitCode: number;
  startedAt: string;
  endedAt: string;
  seed: number;
  runId: string;
  plan?: Plan;
  fault?: Pick<FaultRunResult, 'injectedAt' | 'revertedAt' | 'revert' | 'journal'> & Partial<Pick<FaultRunResult, 'verification'>>;
  verdicts: Verdict[];
  analysis?: Analysis;
  timeline: Timeline;
  error?: string;
  errorDetails?: string[];
  /** what did not fail the run but an SRE should know (nodes outside the scope not Ready, …) */
  warnings: string[];
  /** the zone of each address the probes sent to, from the target at the end of the run (collectAddressZones) */
  addressZones?: AddressZones;
  /** how each probe connected: its mode, the pool's cap, the TCP connections it opened (extra: beyond the cap) */
  probeConnections?: Record<string, ProbeConnections>;
  /** nodes replaced as the scenario expected (Karpenter): which Node took over, Ready how long after the injection */
  replacements?: Array<{ replaced: string; pool: string; by?: string; readyAfterMs?: number }>;
}

export interface ProbeConnections { mode: 'keep-alive' | 'new'; pool: number | null; opened: number; extra: number }

/** Everything one run shares between its phases. */
class Run {
  readonly rec = new Recorder();
  readonly observer: Observer;
  readonly probes: Prober[];
  phase: RunStatus['phase'] = 'setup';
  faultState: RunStatus['fault'] = 'pending';
  faulted: FaultScope = NO_FAULT;
  /** the fault's candidate nodes and zones (the nodes that matter beside the workloads' hosts) */
  scope: { nodes: string[]; zones: string[] } = { nodes: [], zones: [] };
  /** nodes the fault expects to be replaced (Karpenter), and the replacement once seen Ready */
  replacements: NonNullable<ScenarioResult['replacements']> = [];
  readonly warnings = new Set<string>();
  private readonly counts = new Map<string, { attempts: number; ok: number }>();
  private statusTimer?: NodeJS.Timeout;
  private gapSince?: number;

  constructor(readonly s: Scenario, readonly d: RunDeps) {
    this.observer = new Observer(d.t.kube, this.rec, s.workloads);
    this.probes = s.probes.map((p) => new Prober({ name: p.name, url: p.url, rate: p.rate, timeoutMs: p.timeout, expectStatus: p.expectStatus, connection: p.connection, connections: p.connections, resolver: p.resolver, refuseAddress: s.probesLoopbackOnly ? refuseNonLoopback(new URL(p.url).hostname) : undefined }, this.rec));
    this.rec.onProbe = (name, ok) => { const c = this.counts.get(name) ?? { attempts: 0, ok: 0 }; c.attempts++; if (ok) c.ok++; this.counts.set(name, c); };
  }

  /** Enters a phase: recorded on the timeline and shown in the status line. */
  enter(phase: Exclude<RunStatus['phase'], 'setup'>): void {
    this.rec.add({ type: 'phase', phase });
    this.phase = phase;
  }

  /** The live status, about once a second; says so in the log when the watches lose and regain the apiserver. */
  startStatus(): void {
    this.statusTimer = setInterval(() => {
      const { rec, observer, d } = this;
      if (observer.inGap() && this.gapSince === undefined) { this.gapSince = rec.now(); d.log('apiserver unreachable: the cluster timeline has a gap until it answers again (probes and the fault carry on)'); }
      else if (!observer.inGap() && this.gapSince !== undefined) { d.log(`apiserver reachable again after ${formatDuration(rec.now() - this.gapSince)}`); this.gapSince = undefined; }
      const h = observer.healthy(this.faultState === 'injected' ? this.faulted : NO_FAULT);
      d.onStatus?.({
        phase: this.phase, elapsedMs: rec.now(), fault: this.faultState,
        probes: this.probes.map((p) => ({ name: p.spec.name, ...(this.counts.get(p.spec.name) ?? { attempts: 0, ok: 0 }) })),
        workloads: this.s.workloads.map((w) => ({ key: workloadKey(w), healthy: h.get(workloadKey(w)) ?? 0, desired: observer.desired.get(workloadKey(w)) ?? 0 })),
        nodesReady: [...observer.nodes.values()].filter((n) => n.ready).length, nodes: observer.nodes.size,
      });
    }, 1000);
  }

  /** The steady state over the nodes that matter; warnings about the others are kept for the report. */
  steady(): { ok: boolean; why: string[] } {
    const replaced = new Set(this.replacements.map((r) => r.replaced));
    const st = this.observer.steady(NO_FAULT, this.observer.nodesThatMatter(this.scope.nodes.filter((n) => !replaced.has(n)), this.scope.zones));
    for (const w of st.warnings) if (!this.warnings.has(w)) { this.warnings.add(w); this.d.log(`warning: ${w}`); }
    return st;
  }

  /** Karpenter replacements: a Node of the pool created after the injection and Ready (from the recorded node events). */
  replacementsReady(injectedT: number | undefined): boolean {
    for (const r of this.replacements) {
      if (r.by) continue;
      for (const [name, n] of this.observer.nodes) {
        if (name === r.replaced || n.nodePool !== r.pool || !n.ready || this.replacements.some((x) => x.by === name)) continue;
        if (n.created === undefined || n.created < this.injectedAtMs - 1000) continue;
        const readyT = this.rec.events.find((e) => e.type === 'node' && e.name === name && e.ready)?.t;
        r.by = name;
        r.readyAfterMs = readyT !== undefined && injectedT !== undefined ? readyT - injectedT : undefined;
        this.rec.add({ type: 'note', text: `replacement: node ${name} (NodePool ${r.pool}) Ready${r.readyAfterMs !== undefined ? ` ${formatDuration(r.readyAfterMs)} after the injection` : ''}, replacing ${r.replaced}` });
        this.d.log(`replacement: ${name} (NodePool ${r.pool}) is Ready, replacing ${r.replaced}`);
        break;
      }
    }
    return this.replacements.every((r) => r.by);
  }

  injectedAtMs = Number.POSITIVE_INFINITY;

  async stop(): Promise<void> {
    this.phase = 'end';
    clearInterval(this.statusTimer);
    await Promise.all(this.probes.map((p) => p.stop()));
    this.observer.stop();
  }
}

/** Setup: the watches' initial lists, and every workload matches something (else exit 2). */
async function observe(run: Run): Promise<void> {
  let startTimer: NodeJS.Timeout | undefined;
  await Promise.race([run.observer.start(), new Promise<never>((_, reject) => {
    startTimer = setTimeout(() => reject(new HarnessError(`the initial lists of nodes and the workloads' pods, Deployments and EndpointSlices did not complete within ${OBSERVER_START_TIMEOUT_MS / 60_000} minutes (apiserver unreachable?); nothing was injected`, ExitCode.Error)), OBSERVER_START_TIMEOUT_MS);
  })]).finally(() => clearTimeout(startTimer));
  // a workload that matches nothing is an input error, found before the plan and the steady state
  const unmatched = run.s.workloads.flatMap((w, i) => (run.observer.desired.get(workloadKey(w)) ? [] : [`workloads[${i}].selector: no Deployment in namespace ${w.namespace} has pods matching "${w.selector}" (or its replicas are 0)`]));
  if (unmatched.length) throw invalid(`${unmatched[0]}; nothing was injected`, unmatched.slice(1));
}

/**
 * The steady-state hypothesis (scenario `steady`): for its window, every workload at its desired
 * replicas on Ready nodes, every node Ready, and each probe's availability meeting the threshold.
 * Not met: exit 2, nothing injected.
 */
async function checkSteadyState(run: Run): Promise<void> {
  const { s, d } = run;
  const h = s.steady;
  run.enter('steady');
  // probes with a resolver look their host up first (a failed lookup fails their attempts until it answers)
  await Promise.all(run.probes.map((p) => p.ready()));
  for (const p of run.probes) p.begin();
  d.log(`steady state: checking for ${formatDuration(h.window)} (workloads available, nodes Ready, probes ${h.probes.text})`);
  await sleep(h.window, d.signal);
  if (d.signal?.aborted) throw d.signal.reason;
  const st = run.steady();
  const meets = (a: number) => (h.probes.op === '>=' ? a >= h.probes.percent : a > h.probes.percent);
  const probeProblems = run.probes.map((p) => ({ p, a: p.windowAvailability(h.window) })).filter((x) => x.a === undefined || !meets(x.a))
    .map((x) => `probe ${x.p.spec.name}: ${x.a === undefined ? 'no attempts' : `${x.a.toFixed(1)}% ok`} (needs ${h.probes.text})`);
  if (!st.ok || probeProblems.length) throw invalid('steady-state check failed; nothing was injected', [...st.why, ...probeProblems]);
}

/** The Kubernetes Events that mark the fault window: best effort, at most EVENT_TIMEOUT_MS each. */
function eventMarker(run: Run, nodes: string[]): (reason: 'ChaosFaultInjected' | 'ChaosFaultReverted', msg: string) => Promise<void> {
  // The Deployments come from the watch cache: no apiserver call stands between the plan and the injection.
  const targets: EventTarget[] = [
    ...nodes.map((name) => ({ kind: 'Node' as const, name })),
    ...run.observer.deploymentsOf().map((x) => ({ kind: 'Deployment' as const, ...x })),
  ];
  return async (reason, msg) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string[]>((r) => { timer = setTimeout(() => r([`every target: no answer from the apiserver within ${EVENT_TIMEOUT_MS / 1000} s`]), EVENT_TIMEOUT_MS); });
    try {
      const errors = await Promise.race([recordChaosEvent(run.d.t.kube, targets, reason, msg, run.d.ctx.runId).catch((e: unknown) => [`every target: ${String(e)}`]), timedOut]);
      for (const e of errors) run.d.log(`could not record the ${reason} event on ${e}`);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Fault: inject, hold while watching the stop conditions, revert (always). */
async function faultPhase(run: Run, pf: PlannedFault): Promise<FaultRunResult> {
  const { s, d, rec } = run;
  const f = pf.faulted;
  run.enter('fault');
  run.faultState = 'injected';
  run.injectedAtMs = Date.now();
  rec.add({ type: 'fault', action: 'injected', nodes: f.nodes, zones: f.zones, pods: f.pods });
  d.log(`injecting: ${pf.plan.summary}`);
  const mark = eventMarker(run, f.nodes);
  await mark('ChaosFaultInjected', `chaos run ${d.ctx.runId} (${s.name}): ${pf.plan.summary}`);
  const fr = await injectAndRevert(d.ctx, pf, {
    stateDir: d.stateDir, target: d.t.kind, signal: d.signal, afterRevertMs: s.recoveryTimeout + s.settle,
    // the effect check's answer is part of the timeline (what it expected, what it saw)
    onVerified: (v) => rec.add({ type: 'note', text: `effect ${v.status}: ${v.detail.join('; ')}` }),
    // node recovery counts from the moment the revert starts
    onReverting: () => { rec.add({ type: 'fault', action: 'reverted', nodes: f.nodes, zones: f.zones, pods: f.pods }); run.faultState = 'reverted'; },
    during: async (_plan, signal) => {
      const t0 = rec.now();
      while (rec.now() - t0 < s.fault.duration && !signal.aborted) {
        await sleep(250, signal);
        const stop = stopCondition(run, rec.now() - t0);
        if (stop) throw new HarnessError(stop, ExitCode.Aborted);
      }
    },
  });
  rec.add({ type: 'note', text: `revert finished: ${fr.revert.actions.join('; ') || 'nothing to undo'}` });
  await mark('ChaosFaultReverted', `chaos run ${d.ctx.runId} (${s.name}): ${fr.revert.leftovers.length ? `revert INCOMPLETE: ${fr.revert.leftovers.map((l) => l.what).join('; ')}` : 'reverted'}`);
  for (const a of fr.revert.actions) d.log(`reverted: ${a}`);
  return fr;
}

/** The first stop condition that holds `heldMs` into the fault, as a message; undefined when none. */
function stopCondition(run: Run, heldMs: number): string | undefined {
  for (const a of run.s.abort) {
    if (heldMs < a.window) continue;
    const av = run.probes.find((p) => p.spec.name === a.probe)!.windowAvailability(a.window);
    if (av !== undefined && av < a.availabilityBelow) return `stop condition: ${a.probe} availability ${av.toFixed(1)}% over ${formatDuration(a.window)} is below ${a.availabilityBelow}%`;
  }
  return undefined;
}

/** Recovery: until the steady state holds for `settle` (at most `recoveryTimeout`). */
async function recoveryPhase(run: Run): Promise<void> {
  const { s, d, rec } = run;
  d.log(`recovery: waiting until every workload is healed and every node Ready for ${formatDuration(s.settle)} (at most ${formatDuration(s.recoveryTimeout)})`);
  const t0 = rec.now();
  const injectedT = rec.events.find((e) => e.type === 'fault' && e.action === 'injected')?.t;
  if (run.replacements.length) d.log(`recovery: waiting for a replacement of ${run.replacements.map((r) => `${r.replaced} (NodePool ${r.pool})`).join(', ')}`);
  let since: number | undefined;
  while (rec.now() - t0 < s.recoveryTimeout) {
    const replaced = run.replacementsReady(injectedT);
    if (run.steady().ok && replaced) { since ??= rec.now(); if (rec.now() - since >= s.settle) break; } else since = undefined;
    await sleep(250);
  }
}

const VERDICTS: Record<number, VerdictName> = { [ExitCode.Ok]: 'pass', [ExitCode.SloBreached]: 'fail', [ExitCode.Aborted]: 'aborted', [ExitCode.Error]: 'error', [ExitCode.RevertIncomplete]: 'revert-failed', [ExitCode.Invalid]: 'invalid', [ExitCode.NotTaken]: 'not-taken' };

/** Judging: the recorded timeline → analysis → SLO verdicts (pure), and the run's verdict. */
export function judge(res: ScenarioResult, s: Pick<Scenario, 'slos' | 'settle'>): ScenarioResult {
  if (res.fault) {
    res.analysis = analyze(res.timeline, { settleMs: s.settle, zones: res.addressZones });
    // a fault that did not take tested nothing: no SLO is judged (exit 6)
    const missing = res.fault.verification?.status === 'not-taken' ? missingEffect(res.fault.verification) : undefined;
    res.verdicts = res.exitCode === ExitCode.NotTaken ? notJudged(s.slos, `the fault did not take effect (${missing ?? res.error ?? 'no effect seen'})`) : judgeGaps(evaluate(s.slos, res.analysis), res.analysis, s.settle);
    // an SLO not judged (a zone that got no attempts) does not fail the run: it is named in the warnings
    if (res.exitCode === ExitCode.Ok && res.verdicts.some((v) => v.judged && !v.pass)) res.exitCode = ExitCode.SloBreached;
    if (res.exitCode !== ExitCode.NotTaken) for (const v of res.verdicts) if (!v.judged) res.warnings.push(`SLO "${v.name}" (${v.objective}) was ${v.detail}`);
  }
  res.verdict = VERDICTS[res.exitCode] ?? 'error';
  return res;
}

/** How long the end-of-run lookup of the probes' addresses may take before their zone is "unknown". */
const ZONE_LOOKUP_TIMEOUT_MS = 30_000;

/**
 * The zone of every address the probes sent to (the timeline's probe `addr`), from the target's EC2
 * (DescribeNetworkInterfaces). Never fails the run: a failed lookup, or an address no interface
 * holds, leaves those addresses in zone "unknown" with a warning.
 */
export async function collectAddressZones(aws: Pick<FaultContext['aws'], 'networkInterfacesByAddress'>, tl: Timeline, warn: (m: string) => void, timeoutMs = ZONE_LOOKUP_TIMEOUT_MS): Promise<AddressZones> {
  const ips = [...new Set(tl.events.flatMap((e) => (e.type === 'probe' && e.addr ? [e.addr] : [])))].sort();
  if (!ips.length) return {};
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      aws.networkInterfacesByAddress(ips),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs); }),
    ]);
    const out: AddressZones = {};
    for (const [ip, n] of found) if (n.zone) out[ip] = { zone: n.zone, interfaceType: n.interfaceType || undefined, description: n.description || undefined, eniId: n.eniId || undefined };
    const missing = ips.filter((ip) => !out[ip]);
    if (missing.length) warn(`no network interface of the target holds ${missing.join(', ')} (DescribeNetworkInterfaces): the probe results for ${missing.length === 1 ? 'it are' : 'them are'} in zone "unknown"`);
    return out;
  } catch (err) {
    warn(`could not look up the zones of the probes' addresses (${ips.join(', ')}): ${(err as Error).name === 'Error' ? (err as Error).message : `${(err as Error).name}: ${(err as Error).message}`}; their results are in zone "unknown"`);
    return {};
  } finally {
    clearTimeout(timer);
  }
}

/** One scenario: observe → plan → steady state → fault (inject, hold, revert) → recovery → judge. */
export async function executeScenario(s: Scenario, d: RunDeps): Promise<ScenarioResult> {
  const run = new Run(s, d);
  const { rec } = run;
  const startedAt = new Date().toISOString();
  const res: ScenarioResult = { scenario: s.name, verdict: 'error', exitCode: ExitCode.Error, startedAt, endedAt: startedAt, seed: d.ctx.seed, runId: d.ctx.runId, verdicts: [], warnings: [], timeline: rec.timeline() };
  // effect checks read node conditions from the watch cache
  d.ctx.nodeCondition = (name) => run.observer.nodes.get(name)?.condition;
  d.ctx.clusterBlind = () => run.observer.inGap();
  run.startStatus();
  try {
    await observe(run);
    const pf = await planFault(d.ctx, s.fault);
    res.plan = pf.plan;
    d.log(`plan: ${pf.plan.summary}`);
    for (const l of pf.plan.lines) d.log(`  - ${l}`);
    run.faulted = faultScope(pf.faulted);
    run.scope = { nodes: pf.faulted.nodes, zones: pf.faulted.zones };
    run.replacements = (pf.faulted.replaced ?? []).map((r) => ({ replaced: r.node, pool: r.pool }));
    await checkSteadyState(run);
    await recheckBeforeInject({ aws: d.ctx.aws, kube: d.ctx.kube, stateDir: d.stateDir, cluster: d.ctx.guard.cluster, log: d.log, where: whereOf(d.ctx.guard) });
    const fr = await faultPhase(run, pf);
    res.fault = { injectedAt: fr.injectedAt, revertedAt: fr.revertedAt, revert: fr.revert, journal: fr.journal, verification: fr.verification };
    run.enter('recovery');
    if (!fr.revert.leftovers.length) await recoveryPhase(run);
    run.enter('end');
    if (fr.error) { res.error = fr.error.message; res.errorDetails = fr.error instanceof HarnessError ? fr.error.details : []; }
    res.exitCode = fr.exitCode;
  } catch (err) {
    res.error = (err as Error).message;
    res.errorDetails = err instanceof HarnessError ? err.details : [];
    res.exitCode = err instanceof HarnessError ? err.exitCode : ExitCode.Error;
    if (!rec.events.some((e) => e.type === 'phase' && e.phase === 'end')) rec.add({ type: 'phase', phase: 'end' });
  } finally {
    await run.stop();
  }
  res.endedAt = new Date().toISOString();
  res.timeline = rec.timeline();
  res.warnings = [...run.warnings];
  res.probeConnections = Object.fromEntries(run.probes.map((p) => [p.spec.name, { mode: p.spec.connection ?? 'keep-alive', pool: p.spec.connections ?? null, opened: p.connectionsOpened, extra: p.extraConnections }]));
  if (res.fault) res.addressZones = await collectAddressZones(d.ctx.aws, res.timeline, (w) => { res.warnings.push(w); d.log(`warning: ${w}`); });
  if (run.replacements.length) {
    res.replacements = run.replacements;
    for (const r of run.replacements) if (!r.by) res.warnings.push(`no replacement of ${r.replaced} (NodePool ${r.pool}) was Ready within the recovery timeout`);
  }
  return judge(res, s);
}

/** Mocha: the scenario is a suite; executing it is the `before` hook; each SLO is an `it`. */
export async function runWithMocha(s: Scenario, d: RunDeps, reporter = 'spec'): Promise<ScenarioResult> {
  const mocha = new Mocha({ reporter, timeout: 0, color: process.stdout.isTTY });
  const r = d.redact ?? ((x: string) => x);
  const suite = Mocha.Suite.create(mocha.suite, r(`scenario ${s.name}: ${s.description}`));
  let result: ScenarioResult | undefined;
  suite.beforeAll(`precheck, inject ${s.fault.kind}, hold, revert, recover`, async function () {
    result = await executeScenario(s, d);
    if (!result.fault) throw new HarnessError(r(result.error ?? 'the run did not inject the fault'), result.exitCode as never, result.errorDetails?.map(r));
  });
  for (const name of Object.keys(s.slos)) {
    suite.addTest(new Mocha.Test(r(name), function (this: Mocha.Context) {
      const v = result!.verdicts.find((x) => x.name === name)!;
      if (!v.judged) this.skip();
      if (!v.pass) throw new Error(r(`${v.objective} — measured ${formatMeasured(v)} (${v.detail})`));
    }));
  }
  suite.afterAll('revert (always)', async function () {
    // executeScenario reverts in its own `finally`; this hook only proves it, from the journal.
    if (result?.fault?.journal) {
      const { Journal } = await import('./journal.js');
      const j = Journal.open(result.fault.journal);
      if (!j.closed && !result.fault.revert.leftovers.length) throw new Error(`run ${j.runId} is not closed in its journal`);
    }
  });
  await new Promise<void>((resolve) => mocha.run(() => resolve()));
  if (!result) throw new Error('the scenario did not run');
  return result;
}

/** Per-second probe series (by intended send time): attempts, successes and the slowest latency. */
export function perSecond(tl: Timeline): Record<string, Array<{ second: number; attempts: number; ok: number; maxLatencyMs: number }>> {
  const out: Record<string, Map<number, { second: number; attempts: number; ok: number; maxLatencyMs: number }>> = {};
  for (const e of tl.events) {
    if (e.type !== 'probe') continue;
    const m = (out[e.probe] ??= new Map());
    const sec = Math.floor(e.t / 1000);
    const b = m.get(sec) ?? { second: sec, attempts: 0, ok: 0, maxLatencyMs: 0 };
    b.attempts++;
    if (e.ok) b.ok++;
    b.maxLatencyMs = Math.max(b.maxLatencyMs, Math.round(e.latency));
    m.set(sec, b);
  }
  return Object.fromEntries(Object.entries(out).map(([k, m]) => [k, [...m.values()].sort((a, b) => a.second - b.second)]));
}
