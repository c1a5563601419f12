// Revert speed: the harness's az-blackhole fault (scope `zone`) on a zone with 30 subnets, every EC2
// call slowed by 100 ms in the lab (POST /_lab/faults), run through the real harness code (plan,
// injectAndRevert with its journal). Measured per run: plan time, inject time (first change call →
// last swap done), revert time (revert start → black-hole ACL deleted), API calls (the lab's own call
// log), and afterwards every subnet must be back on its original ACL. The default bounded parallelism
// (SWAP_CONCURRENCY) is compared with one swap at a time.
import fs from 'node:fs';
import path from 'node:path';
import { labDown, labUp, readState, type LabOptions } from '../lab/cluster.js';
import { labPaths, REPO_ROOT } from '../lab/paths.js';
import { loadTargets, resolveTarget, type ResolvedTarget } from '../harness/target.js';
import { FaultSpec, injectAndRevert, Limits, planFault, sleep, type FaultContext } from '../harness/faults/index.js';
import { SWAP_CONCURRENCY } from '../harness/faults/az-blackhole.js';
import type { ApiCall } from '../harness/aws/index.js';
import { fmt, quantile, type Bench, type BenchResult, type Table } from './common.js';

const LAB_DIR = path.join(REPO_ROOT, '.lab-bench');
const CLUSTER = 'chaos-lab-bench';
const ZONE = 'us-east-1b';
const SUBNETS_PER_ZONE = 30;
const LATENCY_MS = 100;
const HOLD = '3s';
const TARGET_REVERT_S = 2;

interface CallRec extends ApiCall { start: number; end: number }
interface LabCall { time: string; service: string; action: string; status: number; dryRun?: boolean }
interface WorldSnap { subnets: Array<{ id: string; zone: string; networkAclId: string }>; acls: Array<{ id: string; isDefault: boolean; subnets: string[] }> }

interface RunFigures {
  variant: string;
  concurrency: number;
  run: number;
  subnets: number;
  planS: number;
  injectS: number;
  revertS: number;
  /** revert start → last subnet back on its original ACL */
  restoredS: number;
  injectCalls: number;
  revertCalls: number;
  labCalls: number;
  labCallsByAction: Record<string, number>;
  exitCode: number;
  restored: boolean;
  problems: string[];
}

async function control(endpoint: string, method: string, what: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`${endpoint}/_lab/${what}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) throw new Error(`lab control ${method} ${what}: ${r.status} ${await r.text()}`);
  return r.json();
}

const med = (xs: number[]) => quantile(xs, 0.5);
const max = (xs: number[]) => Math.max(...xs);

async function oneRun(t: ResolvedTarget, endpoint: string, stateDir: string, variant: string, concurrency: number, run: number, log: (m: string) => void): Promise<RunFigures> {
  const runId = `bench-revert-${Date.now()}-${concurrency}-${run}`;
  const ctx: FaultContext = {
    aws: t.aws, kube: t.kube, guard: t.guard, limits: Limits.parse({}), seed: 1, runId,
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(), log: () => {},
  };
  const spec = FaultSpec.parse({ kind: 'az-blackhole', zone: ZONE, scope: 'zone', duration: HOLD });
  if (spec.kind !== 'az-blackhole') throw new Error('unreachable');
  const calls: CallRec[] = [];
  t.aws.onCall = (c) => { const end = performance.now(); calls.push({ ...c, start: end - c.ms, end }); };
  const before = ((await control(endpoint, 'GET', 'calls')) as LabCall[]).length;

  const p0 = performance.now();
  const pf = await planFault(ctx, spec);
  // the plan is a value: the sequential variant only changes how many swaps run at once
  (pf.plan.resources as { concurrency: number }).concurrency = concurrency;
  const p1 = performance.now();
  let injected = 0;
  let reverting = 0;
  const res = await injectAndRevert(ctx, pf, {
    stateDir, target: 'lab',
    during: async (pl, signal) => { injected = performance.now(); await sleep(pl.durationMs, signal); },
    onReverting: () => { reverting = performance.now(); },
  });
  const done = performance.now();
  t.aws.onCall = undefined;

  const injCalls = calls.filter((c) => c.start >= p1 && c.end <= injected && !c.dryRun);
  const revCalls = calls.filter((c) => c.start >= reverting && c.end <= done);
  const firstChange = Math.min(...injCalls.filter((c) => c.action === 'ec2:CreateNetworkAcl').map((c) => c.start));
  const lastSwap = Math.max(...injCalls.filter((c) => c.action === 'ec2:ReplaceNetworkAclAssociation').map((c) => c.end));
  const aclDeleted = Math.max(...revCalls.filter((c) => c.action === 'ec2:DeleteNetworkAcl').map((c) => c.end));
  const lastRestore = Math.max(...revCalls.filter((c) => c.action === 'ec2:ReplaceNetworkAclAssociation').map((c) => c.end));

  const labCalls = ((await control(endpoint, 'GET', 'calls')) as LabCall[]).slice(before).filter((c) => c.service === 'ec2');
  const byAction: Record<string, number> = {};
  for (const c of labCalls) byAction[c.action] = (byAction[c.action] ?? 0) + 1;

  // Afterwards: every planned subnet on the ACL it had before, no harness ACL left.
  const subnets = (pf.plan.resources.subnets as Array<{ subnetId: string; originalAclId: string }>);
  const w = (await control(endpoint, 'GET', 'world')) as WorldSnap;
  const problems: string[] = [];
  for (const s of subnets) {
    const now = w.subnets.find((x) => x.id === s.subnetId)?.networkAclId;
    if (now !== s.originalAclId) problems.push(`subnet ${s.subnetId} on ${now}, expected ${s.originalAclId}`);
  }
  for (const a of w.acls) if (!a.isDefault) problems.push(`ACL ${a.id} still exists (${a.subnets.length} subnets)`);
  if (res.exitCode !== 0) problems.push(`exit code ${res.exitCode}${res.error ? ` (${res.error.message})` : ''}; leftovers: ${res.revert.leftovers.map((l) => l.what).join('; ')}`);

  const f: RunFigures = {
    variant, concurrency, run, subnets: subnets.length,
    planS: (p1 - p0) / 1000, injectS: (lastSwap - firstChange) / 1000, revertS: (aclDeleted - reverting) / 1000, restoredS: (lastRestore - reverting) / 1000,
    injectCalls: injCalls.length, revertCalls: revCalls.length, labCalls: labCalls.length, labCallsByAction: byAction,
    exitCode: res.exitCode, restored: problems.length === 0, problems,
  };
  log(`${variant} run ${run}: ${f.subnets} subnets, plan ${fmt(f.planS, 2)} s, inject ${fmt(f.injectS, 2)} s, revert ${fmt(f.revertS, 2)} s, ` +
    `${f.labCalls} EC2 calls (${Object.entries(byAction).map(([a, n]) => `${a} ${n}`).join(', ')}), ${f.restored ? 'all subnets restored' : `PROBLEMS: ${problems.join('; ')}`}`);
  return f;
}

const bench: Bench = async ({ full, log }) => {
  const reps = full ? 5 : 3;
  const paths = labPaths(LAB_DIR);
  const opts: LabOptions = { clusterName: CLUSTER, nodesPerZone: 2, timing: 'fast', runtime: 'containerd', subnetsPerZone: SUBNETS_PER_ZONE };
  const t0 = Date.now();
  if (readState(paths)) await labDown(log, paths); // a lab left by an earlier (crashed) bench run
  const runs: RunFigures[] = [];
  let upS = 0;
  try {
    const up = await labUp(opts, log, paths);
    upS = up.seconds;
    // The harness only acts on kube contexts chaos.targets.json allows: the same file plus this lab's.
    const targets = loadTargets();
    targets.lab.contexts = [...targets.lab.contexts, CLUSTER];
    const config = path.join(paths.dir, 'targets.json');
    fs.writeFileSync(config, JSON.stringify(targets, null, 2));
    const t = await resolveTarget({ target: 'lab', env: { ...process.env, LAB_DIR: paths.dir }, config, log, startLab: false });
    const endpoint = t.env.AWS_ENDPOINT_URL;
    const stateDir = path.join(paths.dir, 'chaos-state');
    await control(endpoint, 'POST', 'faults', { service: 'ec2', action: '*', kind: 'latency', latencyMs: LATENCY_MS });
    log(`lab up in ${fmt(upS, 1)} s with ${SUBNETS_PER_ZONE} subnets per zone; +${LATENCY_MS} ms on every EC2 call`);
    for (const [variant, concurrency] of [[`parallel (${SWAP_CONCURRENCY})`, SWAP_CONCURRENCY], ['sequential (1)', 1]] as const) {
      for (let i = 1; i <= reps; i++) {
        runs.push(await oneRun(t, endpoint, stateDir, variant, concurrency, i, log));
        await sleep(1500); // let the lab's reconciler bring the zone's heartbeats back between runs
      }
    }
    await control(endpoint, 'DELETE', 'faults');
  } finally {
    await labDown(log, paths);
  }

  const variants = [...new Set(runs.map((r) => r.variant))];
  const perRun: Table = {
    title: `AZ black-hole of ${ZONE} (scope zone: ${runs[0]?.subnets ?? '?'} subnets), +${LATENCY_MS} ms on every EC2 call, hold ${HOLD}: each run`,
    columns: ['swaps in flight', 'run', 'plan s', 'inject s', 'revert s', 'restored after s', 'EC2 calls inject/revert/total', 'subnets back on original ACL'],
    rows: runs.map((r) => [r.variant, r.run, fmt(r.planS, 2), fmt(r.injectS, 2), fmt(r.revertS, 2), fmt(r.restoredS, 2), `${r.injectCalls}/${r.revertCalls}/${r.labCalls}`, r.restored ? `${r.subnets}/${r.subnets}` : `NO (${r.problems.length} problems)`]),
  };
  const summary: Table = {
    title: `median / max over ${reps} runs`,
    columns: ['swaps in flight', 'plan s', 'inject s', 'revert s', 'EC2 calls per run'],
    rows: variants.map((v) => {
      const rs = runs.filter((r) => r.variant === v);
      const mm = (k: 'planS' | 'injectS' | 'revertS') => `${fmt(med(rs.map((r) => r[k])), 2)} / ${fmt(max(rs.map((r) => r[k])), 2)}`;
      return [v, mm('planS'), mm('injectS'), mm('revertS'), `${med(rs.map((r) => r.labCalls))}`];
    }),
  };
  const par = runs.filter((r) => r.concurrency === SWAP_CONCURRENCY);
  const seq = runs.filter((r) => r.concurrency === 1);
  const ratio = (k: 'injectS' | 'revertS') => med(seq.map((r) => r[k])) / med(par.map((r) => r[k]));
  const worstRevert = max(par.map((r) => r.revertS));
  const allRestored = runs.every((r) => r.restored);
  const result: BenchResult = {
    name: 'revert',
    title: `Revert speed: az-blackhole on ${SUBNETS_PER_ZONE} subnets with +${LATENCY_MS} ms API latency`,
    tables: [perRun, summary],
    targets: [
      { what: `revert (revert start → ACL deleted), max of ${par.length} runs at ${SWAP_CONCURRENCY} in flight`, target: `< ${TARGET_REVERT_S} s`, measured: `${fmt(worstRevert, 2)} s`, met: worstRevert < TARGET_REVERT_S },
      { what: 'every subnet back on its original ACL, no harness ACL left (GET /_lab/world)', target: 'all runs', measured: `${runs.filter((r) => r.restored).length}/${runs.length} runs`, met: allRestored },
    ],
    setup: {
      lab: opts, zone: ZONE, scope: 'zone', hold: HOLD, addedLatencyMs: LATENCY_MS, repetitions: reps,
      concurrency: { default: SWAP_CONCURRENCY, compared: 1 }, labUpS: upS, totalS: (Date.now() - t0) / 1000,
    },
    figures: { runs },
    notes: [
      `sequential / parallel (median): inject ×${fmt(ratio('injectS'), 1)}, revert ×${fmt(ratio('revertS'), 1)}: each restore is a DescribeNetworkAcls re-read plus a ReplaceNetworkAclAssociation, 2 × ${LATENCY_MS} ms per subnet one after the other`,
      `inject time: CreateNetworkAcl start → last ReplaceNetworkAclAssociation done; revert time: revert start (injectAndRevert's onReverting) → DeleteNetworkAcl done, including the journal's fsyncs; plan time includes the Kubernetes node list`,
      `EC2 calls: counted by the lab endpoint (GET /_lab/calls) over the whole run (plan + inject + revert); inject/revert: the harness's own call records in each phase`,
    ],
  };
  return result;
};

export default bench;
