// Truthful on EKS nodes, without the lab: node kinds from what the Node says, which nodes each fault
// may act on (Bottlerocket never for daemons, Spot never for stops, Karpenter only when a replacement
// is expected), a fault whose effect does not appear ends as not-taken (exit 6) with every SLO not
// judged, and the steady state / node recovery look only at the nodes that matter.
import { expect } from 'chai';
import { z } from 'zod';
import { ExitCode, FaultNotTaken, HarnessError, worstExitCode } from '../../harness/exit-codes.js';
import { defineFaultKind, injectAndRevert, Limits, planFault, FaultRegistry, type FaultContext, type Verification } from '../../harness/faults/index.js';
import { chooseNodes, type TargetNode } from '../../harness/faults/targets.js';
import { describeKind, nodeKindOf } from '../../harness/faults/node-kinds.js';
import { asksForSpot, nodeStopEligibility } from '../../harness/faults/node-stop.js';
import { howItActs, verifiedLine } from '../../harness/faults/daemon-kill.js';
import { heartbeatLossExpected, nodesReach, verification, waitForEffect } from '../../harness/faults/effects.js';
import { durationField } from '../../harness/faults/schema.js';
import { judge, type ScenarioResult } from '../../harness/runner.js';
import { analyze } from '../../harness/slo/analyze.js';
import { Observer } from '../../harness/observe/observer.js';
import { Recorder, type Timeline } from '../../harness/timeline.js';
import { tempStateDir } from '../support/harness.js';
import type { Kube, V1Node } from '../../harness/k8s/index.js';

const AL2023 = 'Amazon Linux 2023.6.20241212';
const BR = 'Bottlerocket OS 1.26.1 (aws-k8s-1.32)';
function node(name: string, zone: string, o: { os?: string; labels?: Record<string, string>; ready?: boolean } = {}): V1Node {
  return {
    metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { providerID: `aws:///${zone}/i-0${name.replace(/[^0-9a-f]/g, '').padStart(16, '0')}` },
    status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'Unknown' : 'True' }], nodeInfo: { containerRuntimeVersion: 'containerd://1.7.27', osImage: o.os ?? AL2023 } as never },
  };
}
const ng = (g: string) => ({ 'eks.amazonaws.com/nodegroup': g, 'eks.amazonaws.com/capacityType': 'ON_DEMAND' });
const CLUSTER = [
  node('a1', 'us-east-1a', { labels: ng('al') }), node('a2', 'us-east-1a', { labels: ng('al') }),
  node('b1', 'us-east-1b', { labels: ng('al') }), node('b2', 'us-east-1b', { labels: ng('al') }),
  node('c1', 'us-east-1c', { os: BR, labels: ng('br') }),
  node('d1', 'us-east-1c', { labels: { 'karpenter.sh/nodepool': 'default', 'karpenter.sh/capacity-type': 'on-demand' } }),
  node('d2', 'us-east-1a', { labels: { 'karpenter.sh/nodepool': 'default', 'karpenter.sh/capacity-type': 'spot' } }),
  node('e1', 'us-east-1b', { labels: { 'eks.amazonaws.com/nodegroup': 'spot', 'eks.amazonaws.com/capacityType': 'SPOT' } }),
];
/** label selectors the way the apiserver applies them, for `k=v` and `k!=v` terms */
const fakeKube = (nodes = CLUSTER) => ({
  nodes: async (sel?: string) => (sel ? nodes.filter((n) => sel.split(',').every((t) => {
    const ne = t.split('!=');
    if (ne.length === 2) return n.metadata?.labels?.[ne[0]] !== ne[1];
    const [k, v] = t.split('=');
    return n.metadata?.labels?.[k] === v;
  })) : nodes),
  pods: async () => [],
}) as unknown as Kube;
const limits = Limits.parse({});
const nameOf = (n: TargetNode) => n.name;

describe('EKS node kinds', () => {
  it('classifies nodes from osImage, the provisioner labels and capacity (and EC2 InstanceLifecycle)', () => {
    const table: Array<[V1Node, string]> = [
      [CLUSTER[0], 'AL2023, managed node group al'],
      [CLUSTER[4], 'Bottlerocket, managed node group br'],
      [CLUSTER[5], 'AL2023, Karpenter NodePool default'],
      [CLUSTER[6], 'AL2023, Karpenter NodePool default, Spot'],
      [CLUSTER[7], 'AL2023, managed node group spot, Spot'],
      [node('x', 'us-east-1a', { os: 'Amazon Linux 2' }), 'AL2, self-managed'],
      [node('y', 'us-east-1a', { os: 'Ubuntu 22.04.4 LTS' }), 'other OS (Ubuntu 22.04.4 LTS), self-managed'],
    ];
    for (const [n, want] of table) expect(describeKind(nodeKindOf(n)), n.metadata!.name).to.equal(want);
    expect(nodeKindOf(CLUSTER[0], { lifecycle: 'spot' }).spot).to.equal(true);
    expect(nodeKindOf(CLUSTER[0], {}).spot).to.equal(false);
  });

  it('daemon faults skip Bottlerocket nodes, and exit 2 naming why and what to select when only Bottlerocket matches', async () => {
    const eligible = (n: TargetNode) => (n.kind.os === 'bottlerocket' ? 'Bottlerocket: no host systemd' : undefined);
    for (let seed = 1; seed < 30; seed++) {
      const r = await chooseNodes(fakeKube(), { count: 1, zone: 'us-east-1c' }, limits, seed, undefined, undefined, eligible, 'daemon-kill');
      expect(r.chosen.map(nameOf)).to.deep.equal(['d1']);
      expect(r.skipped.map((x) => x.node.name)).to.deep.equal(['c1']);
    }
    const err = await chooseNodes(fakeKube(), { nodeGroup: 'br' }, limits, 1, undefined, undefined, eligible, 'daemon-kill').catch((e: HarnessError) => e);
    expect(err).to.be.instanceOf(HarnessError);
    expect((err as HarnessError).exitCode).to.equal(ExitCode.Invalid);
    expect((err as HarnessError).message).to.contain('daemon-kill: none of the 1 matching Ready node(s) can take this fault');
    expect((err as HarnessError).details.join('\n')).to.contain('c1 (').and.contain('Bottlerocket: no host systemd').and.contain('nodeGroup: al');
  });

  it('node-stop never picks Spot; Karpenter only with karpenter: expect-replacement; a Spot selector exits 2', async () => {
    const refuse = nodeStopEligibility({ karpenter: 'refuse' });
    const expectRepl = nodeStopEligibility({ karpenter: 'expect-replacement' });
    const seen = new Set<string>();
    for (let seed = 1; seed < 60; seed++) for (const n of (await chooseNodes(fakeKube(), { count: 2 }, limits, seed, undefined, undefined, refuse)).chosen) seen.add(n.name);
    expect([...seen].sort()).to.deep.equal(['a1', 'a2', 'b1', 'b2', 'c1']);
    const kp = await chooseNodes(fakeKube(), { selector: 'karpenter.sh/nodepool=default' }, limits, 1, undefined, undefined, expectRepl);
    expect(kp.chosen.map(nameOf)).to.deep.equal(['d1']);
    expect(kp.skipped.map((x) => x.why)).to.have.length(1).and.satisfy((w: string[]) => w[0].startsWith('Spot'));
    const kErr = await chooseNodes(fakeKube(), { selector: 'karpenter.sh/nodepool=default' }, limits, 1, undefined, undefined, refuse, 'node-stop').catch((e: HarnessError) => e);
    expect((kErr as HarnessError).exitCode).to.equal(ExitCode.Invalid);
    expect((kErr as HarnessError).details.join('\n')).to.contain("karpenter: 'expect-replacement'");
    expect(asksForSpot('eks.amazonaws.com/capacityType=SPOT')).to.equal('eks.amazonaws.com/capacityType=SPOT');
    expect(asksForSpot('karpenter.sh/capacity-type in (spot,on-demand)')).to.contain('karpenter.sh/capacity-type');
    expect(asksForSpot('karpenter.sh/capacity-type=on-demand')).to.equal(undefined);
    expect(asksForSpot('karpenter.sh/capacity-type!=spot')).to.equal(undefined);
    expect(asksForSpot(undefined)).to.equal(undefined);
  });

  it('the plan says how the fault acts on each node kind', () => {
    const t = (n: V1Node): TargetNode => ({ name: n.metadata!.name!, zone: 'z', instanceId: 'i-1', ready: true, runtime: 'containerd', kind: nodeKindOf(n) });
    expect(howItActs('kube-proxy', 'stop', t(CLUSTER[0]))).to.contain('SIGSTOP').and.contain('DaemonSet');
    expect(howItActs('kubelet', 'stop', t(CLUSTER[0]))).to.contain('Restart=on-failure').and.contain('Ready=Unknown');
    expect(howItActs('containerd', 'stop', t(CLUSTER[0]))).to.contain('KillMode=process');
    expect(howItActs('docker', 'stop', t(node('x', 'z', { os: 'Amazon Linux 2' })))).to.contain('Requires=docker');
    expect(verifiedLine('a\nchaos: verified: kubelet is inactive\nb')).to.equal('kubelet is inactive');
    expect(verifiedLine('chaos: kubelet stopped')).to.equal(undefined);
  });
});

describe('a fault that did not take (exit 6)', () => {
  const Spec = z.object({ kind: z.literal('fake-noop'), duration: durationField(), answer: z.enum(['taken', 'not-taken', 'script']) }).strict();
  let reverted = 0;
  const noop = defineFaultKind<z.output<typeof Spec>, { answer: string }>({
    kind: 'fake-noop',
    doc: { summary: 'does nothing', fields: '', effect: '' },
    schema: Spec, flags: [], iam: [], iamRequests: [], rbac: [],
    async plan(_c, spec) { return { kind: 'fake-noop', summary: 'noop', lines: [], calls: [], durationMs: spec.duration, resources: { answer: spec.answer } }; },
    async checkPermissions() { return []; },
    async inject(_c, plan, j) {
      await j.step('noop', {}, async () => undefined);
      if (plan.resources.answer === 'script') throw new FaultNotTaken('the node script saw no effect', ['missing: i-1: kubelet is still active after systemctl stop']);
    },
    async verify(_c, plan): Promise<Verification> {
      await new Promise((r) => setTimeout(r, 50));
      return plan.resources.answer === 'taken' ? { status: 'taken', detail: ['node a1: Ready=Unknown'] } : { status: 'not-taken', detail: ['missing: node a1: still Ready=True after 40s'] };
    },
    async revert() { reverted++; return { actions: ['undid nothing'], leftovers: [] }; },
    async sweep() { return { findings: [], leftovers: [] }; },
    faulted: () => ({ nodes: ['a1'], zones: [], pods: [] }),
  });
  const registry = new FaultRegistry([noop]);
  const ctx = () => ({ runId: `chaos-t-${Math.random().toString(16).slice(2, 8)}`, guard: { cluster: 'c', region: 'us-east-1', accounts: [] }, log: () => {}, expiresAt: '' }) as unknown as FaultContext;

  it('verify "not-taken" ends the hold early, reverts, and the run exits 6 with what was missing', async () => {
    for (const answer of ['not-taken', 'script'] as const) {
      reverted = 0;
      const c = ctx();
      const pf = await planFault(c, Spec.parse({ kind: 'fake-noop', duration: '20s', answer }), registry);
      const t0 = Date.now();
      const r = await injectAndRevert(c, pf, { stateDir: tempStateDir(), target: 'lab' }, );
      expect(Date.now() - t0, 'the 20 s hold ended early').to.be.below(5000);
      expect(r.exitCode, answer).to.equal(ExitCode.NotTaken);
      expect(r.verification.status).to.equal('not-taken');
      expect(r.error).to.be.instanceOf(FaultNotTaken);
      expect(r.verification.detail.join('\n')).to.contain(answer === 'script' ? 'kubelet is still active' : 'still Ready=True');
      expect(reverted, 'reverted once').to.equal(1);
    }
  });

  it('a fault that took holds for its duration and is verified "taken"', async () => {
    const c = ctx();
    const pf = await planFault(c, Spec.parse({ kind: 'fake-noop', duration: '300ms', answer: 'taken' }), registry);
    const r = await injectAndRevert(c, pf, { stateDir: tempStateDir(), target: 'lab' });
    expect(r.exitCode).to.equal(ExitCode.Ok);
    expect(r.verification).to.deep.equal({ status: 'taken', detail: ['node a1: Ready=Unknown'] });
  });

  it('judging a not-taken run: verdict not-taken, every SLO not judged (pass false), exit 6; a gate ranks it below a revert left behind and an error', () => {
    const tl: Timeline = { startedAt: 0, events: [{ t: 0, type: 'phase', phase: 'fault' }, { t: 1, type: 'fault', action: 'injected', nodes: ['a1'], zones: [], pods: [] }, { t: 2, type: 'fault', action: 'reverted', nodes: ['a1'], zones: [], pods: [] }] } as unknown as Timeline;
    const res = { scenario: 's', verdict: 'error', exitCode: ExitCode.NotTaken, startedAt: '', endedAt: '', seed: 1, runId: 'r', verdicts: [], warnings: [], timeline: tl,
      fault: { revert: { actions: [], leftovers: [] }, journal: 'j', verification: { status: 'not-taken', detail: ['node a1: x', 'missing: node a1: still Ready=True'] } } } as unknown as ScenarioResult;
    const out = judge(res, { slos: { r: 'recovery < 1m', a: 'availability(demo) >= 99%' }, settle: 1000 });
    expect(out.verdict).to.equal('not-taken');
    expect(out.exitCode).to.equal(ExitCode.NotTaken);
    expect(out.verdicts.map((v) => [v.name, v.judged, v.pass])).to.deep.equal([['r', false, false], ['a', false, false]]);
    expect(out.verdicts[0].detail).to.equal('not judged: the fault did not take effect (node a1: still Ready=True)');
    expect(worstExitCode([0, 1, 6, 2])).to.equal(6);
    expect(worstExitCode([6, 4])).to.equal(4);
    expect(worstExitCode([6, 5, 4])).to.equal(5);
    expect(worstExitCode([0, 3, 6])).to.equal(6);
    expect(worstExitCode([0, 0])).to.equal(0);
  });
});

describe('effect checks', () => {
  it('waitForEffect: seen when the check says so, else what it saw last at the bound', async () => {
    let n = 0;
    const seen = await waitForEffect(2000, async () => (++n >= 3 ? undefined : `try ${n}`), 10);
    expect(seen.seen).to.equal(true);
    const never = await waitForEffect(100, async () => 'still Ready=True', 10);
    expect(never).to.include({ seen: false, last: 'still Ready=True' });
  });

  it('a heartbeat loss is expected only of a fault that outlasts the grace period plus a monitor period', () => {
    expect(heartbeatLossExpected({ nodeGracePeriodMs: 10_000 }, 15_000)).to.equal(undefined);
    expect(heartbeatLossExpected({ nodeGracePeriodMs: 10_000 }, 14_999)).to.contain('not beyond the node-monitor-grace-period 10.0s');
    expect(heartbeatLossExpected({}, 54_000)).to.contain('50.0s');
    expect(heartbeatLossExpected({}, 55_000)).to.equal(undefined);
  });

  it('nodesReach reads the watch cache: Unknown for a lost heartbeat, not Ready for a runtime down, absent counts as not Ready', async () => {
    const conds: Record<string, { status: 'True' | 'False' | 'Unknown' | 'absent'; reason?: string }> = { a: { status: 'Unknown', reason: 'NodeStatusUnknown' }, b: { status: 'False', reason: 'KubeletNotReady' }, c: { status: 'absent' }, d: { status: 'True' } };
    const ctx = { kube: {} as Kube, nodeCondition: (n: string) => conds[n], nodeGracePeriodMs: 0 };
    expect((await nodesReach(ctx, ['a'], 'unknown', 50)).ok).to.equal(true);
    expect((await nodesReach(ctx, ['b'], 'unknown', 50)).ok).to.equal(false);
    expect((await nodesReach(ctx, ['a', 'b', 'c'], 'not-ready', 50)).ok).to.equal(true);
    const d = await nodesReach(ctx, ['d'], 'not-ready', 50);
    expect(d.ok).to.equal(false);
    expect(d.lines[0]).to.match(/^missing: node d: still Ready=True after/);
  });

  it('an apiserver outage stops the bound\'s clock: the effect seen after it is taken; unseen through it is not-checked, not not-taken', async () => {
    // blind for the first 300 ms; the effect appears at 500 ms; the bound is 300 ms of visible time
    const t0 = performance.now();
    const blind = () => performance.now() - t0 < 300;
    const late = await waitForEffect(300, async () => (performance.now() - t0 >= 500 ? undefined : 'Ready=True'), 10, undefined, blind);
    expect(late.seen, 'seen after the outage').to.equal(true);
    expect(late.blindMs).to.be.within(250, 1000);
    // without the outage the same bound ends before the effect, and it is missing, not cut off
    const t1 = performance.now();
    const early = await waitForEffect(100, async () => (performance.now() - t1 >= 800 ? undefined : 'Ready=True'), 10, undefined, () => false);
    expect(early).to.include({ seen: false, blindMs: 0, cutOff: false });
    // a stale cache that shows the effect does not count as seen; the wait ends at twice the bound, cut off
    const stale = await waitForEffect(50, async () => undefined, 10, undefined, () => true);
    expect(stale).to.include({ seen: false, cutOff: true });
    expect(stale.afterMs, 'at most twice the bound (+ a look)').to.be.within(100, 600);
    // a short blind spell inside a bound that was watched in full: missing, not cut off
    const t3 = performance.now();
    const brief = await waitForEffect(200, async () => 'Ready=True', 10, undefined, () => { const x = performance.now() - t3; return x > 20 && x < 60; });
    expect(brief).to.include({ seen: false, cutOff: false });
    expect(brief.blindMs).to.be.above(0);
    // with blind, a check that throws is blind time too; without it an error is just "not seen yet"
    const t2 = performance.now();
    const failing = await waitForEffect(100, async () => { if (performance.now() - t2 < 200) throw new Error('connect ECONNREFUSED'); return undefined; }, 10, undefined, () => false);
    expect(failing.seen, 'seen once the apiserver answers').to.equal(true);
    const t4 = performance.now();
    const aws = await waitForEffect(100, async () => { if (performance.now() - t4 < 400) throw new Error('AccessDenied'); return undefined; }, 10);
    expect(aws).to.include({ seen: false, blindMs: 0, cutOff: false });

    const conds = { a: { status: 'True' as const }, b: { status: 'True' as const } };
    const ctx = { kube: {} as Kube, nodeCondition: (n: string) => conds[n as 'a' | 'b'], nodeGracePeriodMs: 0, clusterBlind: () => true };
    const r = await nodesReach(ctx, ['a'], 'unknown', 100);
    expect(r).to.include({ ok: false, unknown: true });
    expect(r.lines[0]).to.match(/^unseen: node a: still .* the apiserver was unreachable for/);
    expect(verification([r]).status).to.equal('not-checked');
    const missing = await nodesReach({ ...ctx, clusterBlind: () => false }, ['b'], 'unknown', 30);
    expect(missing.unknown).to.equal(false);
    expect(verification([r, missing]).status, 'a check that saw the effect missing wins').to.equal('not-taken');
    expect(verification([{ ok: true, lines: [] }]).status).to.equal('taken');
  });
});

describe('the nodes that matter', () => {
  it('steady state: a NotReady or cordoned node with no watched pod and outside the fault is a warning, not a failure', () => {
    const rec = new Recorder();
    const o = new Observer({} as Kube, rec, [{ namespace: 'demo', selector: 'app=demo' }]);
    o.node(node('a1', 'us-east-1a'));
    o.node(node('b1', 'us-east-1b'));
    const churn = node('k9', 'us-east-1c', { ready: false });
    churn.spec!.unschedulable = true;
    o.node(churn);
    o.desired.set('demo/app=demo', 1);
    o.pod('demo/app=demo', { metadata: { namespace: 'demo', name: 'p1', creationTimestamp: new Date() }, spec: { nodeName: 'a1', containers: [] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    const everyNode = o.steady();
    expect(everyNode.ok).to.equal(false);
    const scoped = o.steady(undefined, o.nodesThatMatter(['b1']));
    expect(scoped.ok, scoped.why.join('; ')).to.equal(true);
    expect(scoped.warnings[0]).to.contain('k9 (not Ready, cordoned)');
    // a fault candidate that is not Ready does fail it
    expect(o.steady(undefined, o.nodesThatMatter(['k9'])).ok).to.equal(false);
    expect([...o.nodesThatMatter([], ['us-east-1c'])].sort()).to.deep.equal(['a1', 'k9']);
  });

  it('node recovery ignores nodes outside the scope, and a deleted node (Karpenter terminated it) is gone, not NotReady', () => {
    const ev = (t: number, e: Record<string, unknown>) => ({ t, ...e });
    const tl = { startedAt: 0, events: [
      ev(0, { type: 'phase', phase: 'steady' }),
      ev(1, { type: 'node', name: 'a1', zone: 'z1', ready: true }), ev(1, { type: 'node', name: 'k1', zone: 'z2', ready: true }), ev(1, { type: 'node', name: 'x9', zone: 'z3', ready: false }),
      ev(2, { type: 'workload', workload: 'w', desired: 1 }),
      ev(3, { type: 'pod', key: 'd/p1', workload: 'w', node: 'a1', ready: true, deleted: false, created: 0 }),
      ev(10, { type: 'phase', phase: 'fault' }),
      ev(10, { type: 'fault', action: 'injected', nodes: ['k1'], zones: [], pods: [] }),
      ev(20, { type: 'node', name: 'k1', zone: 'z2', ready: false }),
      ev(30, { type: 'fault', action: 'reverted', nodes: ['k1'], zones: [], pods: [] }),
      ev(35, { type: 'node', name: 'k1', zone: 'z2', ready: false, deleted: true }),
      ev(40, { type: 'phase', phase: 'end' }),
    ] } as unknown as Timeline;
    const a = analyze(tl, { settleMs: 1 });
    // x9 (never hosting a watched pod, not faulted) does not hold node recovery; k1 counts until it is deleted
    expect(a.nodeRecoveryMs).to.equal(5);
  });
});
