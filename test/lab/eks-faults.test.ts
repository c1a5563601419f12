// Faults on the EKS-like lab, end to end through `chaos run FILE`: a node-stop on a Karpenter node
// that expects the replacement (judged: a new Node of the NodePool Ready, its time reported, the
// terminated instance never started), and a kubelet stop that does not take (the lab's quirk
// ignore-stop) ending in exit 6 with every SLO not judged; a NotReady node outside the scope is a warning.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../../harness/exit-codes.js';
import type { ReportV1 } from '../../harness/report/index.js';
import { REPO_ROOT } from '../../lab/paths.js';
import { eventually, testLab, TEST_LAB_DIR, type TestLab } from '../support/lab.js';
import { labAws, type LabAws } from '../support/aws.js';
import { harnessTarget, leftovers, runCli, tempStateDir } from '../support/harness.js';
import type { ResolvedTarget } from '../../harness/target.js';

function labCli(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'lab/cli.ts'), ...args], { cwd: REPO_ROOT, env: { ...process.env, LAB_DIR: TEST_LAB_DIR }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A scenario file on the demo workload and its probe (10 req/s): `lines` add the fault, the SLOs and the rest. */
async function runScenarioYaml(name: string, lines: string[]): Promise<{ code: number | null; out: string; report: ReportV1 }> {
  const yaml = [`name: ${name}`, ...lines.slice(0, 2), 'workloads: [{ namespace: default, selector: app=demo }]', 'probes: [{ name: demo, url: "${LAB_SERVICE_URL}/", rate: 10, timeout: 2s }]', ...lines.slice(2), ''].join('\n');
  const dir = tempStateDir();
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  const reportDir = path.join(dir, 'report');
  const r = await runCli(['run', file, '--state-dir', path.join(dir, 'state'), '--report-dir', reportDir], {}, 600_000);
  const out = r.stdout + r.stderr;
  expect(fs.existsSync(path.join(reportDir, 'report.json')), out).to.equal(true);
  return { code: r.code, out, report: JSON.parse(fs.readFileSync(path.join(reportDir, 'report.json'), 'utf8')) as ReportV1 };
}

describe('EKS node kinds: faults that prove they took', function () {
  this.timeout(600_000);
  let lab: TestLab;
  let aws: LabAws;
  let t: ResolvedTarget;
  before(async () => {
    lab = testLab();
    aws = labAws(lab);
    t = await harnessTarget();
  });
  afterEach(async () => {
    await eventually('nothing left behind', 60_000, async () => ((await leftovers(aws, t)).length ? undefined : true), 1000);
  });

  it('node-stop on a Karpenter node with karpenter: expect-replacement: the replacement is judged and timed; the terminated instance is not started', async () => {
    const before = (await lab.kube.core.listNode({ labelSelector: 'karpenter.sh/nodepool=default,karpenter.sh/capacity-type=on-demand' })).items.map((n) => n.metadata!.name!);
    expect(before.length, 'the test lab has an on-demand Karpenter node').to.be.at.least(1);
    const mark = Date.now();
    const { code, out, report } = await runScenarioYaml('karpenter-stop', [
      'description: Stop a Karpenter node; Karpenter replaces it',
      'fault: { kind: node-stop, selector: "karpenter.sh/nodepool=default,karpenter.sh/capacity-type=on-demand", count: 1, karpenter: expect-replacement, duration: 20s }',
      'recoveryTimeout: 3m',
      'slos:',
      '  pods ready: recovery < 3m',
      '  demo mostly up: availability(demo) >= 90%',
    ]);
    expect(code, out).to.equal(ExitCode.Ok);
    expect(report.verdict).to.equal('pass');
    const f = report.faults[0];
    expect(f.verification?.status, JSON.stringify(f.verification)).to.equal('taken');
    const stopped = (f.targets as { nodes: Array<{ name: string; instanceId: string }> }).nodes[0];
    expect(before).to.include(stopped.name);
    expect(f.replacements, 'the report names the replacement').to.have.length(1);
    const rep = f.replacements![0];
    expect(rep.replaced).to.equal(stopped.name);
    expect(rep.pool).to.equal('default');
    expect(rep.by).to.be.a('string').and.not.equal(stopped.name);
    expect(rep.readyAfterMs).to.be.a('number').and.above(0);
    expect(out).to.contain(`replacement of ${stopped.name} (NodePool default): ${rep.by} Ready`);
    expect(f.reverted.join('\n')).to.contain(`${stopped.instanceId} was`).and.contain('replaced by Karpenter');
    // the lab did what Karpenter does, and the harness never tried to start the terminated instance
    const events = lab.world.read().filter((e) => Date.parse(e.time) >= mark);
    const claim = events.find((e) => e.event === 'karpenter.interruption' && e.instanceId === stopped.instanceId)?.nodeClaim;
    expect(claim, 'Karpenter saw the interruption of the stopped instance').to.be.a('string');
    // every step names the stopped instance; the launch names the NodeClaim it replaces
    const order = ['karpenter.interruption', 'karpenter.node.tainted', 'karpenter.node.drained', 'karpenter.instance.launched'].map((ev) => events.findIndex((e) => e.event === ev && (ev === 'karpenter.instance.launched' ? e.replaces === claim : e.instanceId === stopped.instanceId)));
    expect(order.every((i) => i >= 0), JSON.stringify(order)).to.equal(true);
    expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
    expect(events.some((e) => e.event === 'instance.state' && e.instanceId === stopped.instanceId && e.to === 'pending'), 'never started again').to.equal(false);
    const node = await lab.kube.core.readNode({ name: rep.by! });
    expect(node.metadata?.labels?.['karpenter.sh/nodepool']).to.equal('default');
  });

  it('a kubelet stop that does not take (quirk ignore-stop) reverts and exits 6: verdict not-taken, every SLO not judged, the missing effect named', async () => {
    const pods = (await lab.kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=demo' })).items;
    const al2023 = new Set((await lab.kube.core.listNode({ labelSelector: 'eks.amazonaws.com/nodegroup' })).items.filter((n) => n.status?.nodeInfo?.osImage?.startsWith('Amazon Linux 2023')).map((n) => n.metadata!.name!));
    const victim = pods.map((p) => p.spec?.nodeName).find((n): n is string => !!n && al2023.has(n));
    expect(victim, 'a demo pod runs on an AL2023 node').to.be.a('string');
    const q = labCli(['quirk', victim!, 'ignore-stop', 'kubelet']);
    expect(q.code, q.out).to.equal(0);
    try {
      const mark = Date.now();
      const { code, out, report } = await runScenarioYaml('kubelet-not-taken', [
        'description: kubelet stop on a node that ignores it',
        `fault: { kind: daemon-kill, daemon: kubelet, selector: "kubernetes.io/hostname=${victim}", count: 1, duration: 30s }`,
        'slos:',
        '  pods ready: recovery < 2m',
        '  demo up: availability(demo) >= 99%',
      ]);
      expect(code, out).to.equal(ExitCode.NotTaken);
      expect(report.verdict).to.equal('not-taken');
      expect(report.exitCode).to.equal(6);
      expect(report.slos.map((s) => [s.name, s.judged, s.pass])).to.deep.equal([['pods ready', false, false], ['demo up', false, false]]);
      expect(report.slos[0].detail).to.match(/^not judged: the fault did not take effect/);
      const v = report.faults[0].verification!;
      expect(v.status).to.equal('not-taken');
      expect(v.detail.join('\n')).to.contain('kubelet is still active after systemctl stop: the fault did not take');
      expect(out).to.contain('NOT JUDGED  pods ready');
      // nothing was stopped, and the run reverted (the restore document ran) and closed its journal
      const events = lab.world.read().filter((e) => Date.parse(e.time) >= mark);
      expect(events.some((e) => e.event === 'daemon.stopped' && e.node === victim && e.daemon === 'kubelet')).to.equal(false);
      expect(report.faults[0].reverted.join('\n')).to.contain('started kubelet');
      expect(report.faults[0].leftovers).to.deep.equal([]);
    } finally {
      expect(labCli(['quirk', victim!, 'clear']).code).to.equal(0);
    }
  });

  it('a NotReady, cordoned node outside the scope (autoscaler churn: a node still joining) is a warning, not a failure', async () => {
    // A Node object KWOK does not manage (no heartbeat label): it never posts Ready, as a node the
    // autoscaler launched whose kubelet has not registered its status yet; cordoned, so nothing lands there.
    const churn = 'ip-10-0-1-249.ec2.internal';
    await lab.kube.core.createNode({ body: {
      metadata: { name: churn, labels: { 'kubernetes.io/hostname': churn, 'topology.kubernetes.io/zone': 'us-east-1a', 'eks.amazonaws.com/nodegroup': `${lab.state.options.clusterName}-ng-us-east-1a` } },
      spec: { unschedulable: true },
    } });
    try {
      const pods = (await lab.kube.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=demo' })).items;
      const al2023 = new Set((await lab.kube.core.listNode({ labelSelector: 'eks.amazonaws.com/nodegroup' })).items.filter((n) => n.status?.nodeInfo?.osImage?.startsWith('Amazon Linux 2023')).map((n) => n.metadata!.name!));
      const victim = pods.map((p) => p.spec?.nodeName).find((n): n is string => !!n && al2023.has(n));
      expect(victim, 'a demo pod runs on an AL2023 node').to.be.a('string');
      const { code, out, report } = await runScenarioYaml('churn-warning', [
        'description: kubelet stop beside a node that is still joining',
        `fault: { kind: daemon-kill, daemon: kubelet, selector: "kubernetes.io/hostname=${victim}", count: 1, duration: 30s }`,
        'recoveryTimeout: 2m',
        'slos:',
        '  pods ready: recovery < 2m',
        '  node back: node-recovery < 1m',
      ]);
      expect(code, out).to.equal(ExitCode.Ok);
      expect(report.verdict).to.equal('pass');
      const w = report.warnings.find((x) => x.includes(churn));
      expect(w, JSON.stringify(report.warnings)).to.match(/nodes outside the scenario's scope/);
      expect(w).to.contain(`${churn} (not Ready, cordoned)`);
      expect(out).to.contain(`warning: nodes outside the scenario's scope`);
      expect(report.slos.every((x) => x.judged && x.pass), JSON.stringify(report.slos)).to.equal(true);
    } finally {
      await lab.kube.core.deleteNode({ name: churn });
    }
  });
});
