// Fault injectors on the lab: each changes exactly the planned resources, revert restores them, a
// second revert is a no-op; over-limit and unknown targets change nothing; throttling and 5xx are
// survived; SIGKILL at every journaled step of every fault, then `recover`, leaves nothing behind.
import { expect } from 'chai';
import fs from 'node:fs';
import { DescribeInstancesCommand, DescribeNetworkAclsCommand } from '@aws-sdk/client-ec2';
import { formatLeftovers, injectAndRevert, planFault, revertRun, FaultSpec, type FaultContext } from '../../harness/faults/index.js';
import { Journal } from '../../harness/journal.js';
import { sweep } from '../../harness/recover.js';
import { ExitCode, HarnessError } from '../../harness/exit-codes.js';
import { allowedActions } from '../../harness/iam/index.js';
import type { ResolvedTarget } from '../../harness/target.js';
import { eventually, testLab, type TestLab } from '../support/lab.js';
import { labAws, type LabAws } from '../support/aws.js';
import { changesSince, faultContext, harnessTarget, leftovers, runCli, tempStateDir, world } from '../support/harness.js';

const MUTATING = /^(ec2|ssm|autoscaling):(?!Describe|Get|List)/;

describe('faults on the lab', function () {
  this.timeout(180_000);
  let lab: TestLab;
  let aws: LabAws;
  let t: ResolvedTarget;
  let n = 0;
  const runId = () => `chaos-test-${Date.now().toString(36)}-${(++n).toString(16).padStart(6, '0')}`;

  before(async () => {
    lab = testLab();
    aws = labAws(lab);
    t = await harnessTarget();
  });
  afterEach(async () => {
    await aws.control('DELETE', 'faults');
    expect(await leftovers(aws, t), 'nothing left after the test').to.deep.equal([]);
  });

  async function allReady(): Promise<void> {
    await eventually('all nodes Ready', 60_000, async () => (await lab.kube.core.listNode()).items.every((x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) || undefined, 500);
  }

  async function runAndCheck(specIn: unknown, during: (ctx: FaultContext) => Promise<void>, worldCheck: (events: ReturnType<TestLab['world']['read']>, plan: Record<string, unknown>) => void) {
    await allReady();
    const spec = FaultSpec.parse(specIn);
    const ctx = faultContext(t, runId());
    const pf = await planFault(ctx, spec);
    const { plan } = pf;
    const stateDir = tempStateDir();
    const mark = Date.now();
    const r = await injectAndRevert(ctx, pf, { stateDir, target: 'lab', during: async () => during(ctx) });
    expect(r.error, String(r.error)).to.equal(undefined);
    expect(r.exitCode).to.equal(ExitCode.Ok);
    expect(r.revert.leftovers).to.deep.equal([]);
    worldCheck(lab.world.read().filter((e) => Date.parse(e.time) >= mark), plan.resources);
    // A second revert, from the journal alone, changes nothing.
    const before = t.aws.calls.length;
    const again = await revertRun(ctx, Journal.open(r.journal));
    expect(again.leftovers).to.deep.equal([]);
    expect(t.aws.calls.slice(before).filter((c) => MUTATING.test(c.action)).map((c) => c.action)).to.deep.equal([]);
    // Every call made is allowed by the shipped IAM policy, and every planned call is too.
    const allowed = allowedActions();
    for (const c of t.aws.calls) expect(allowed.has(c.action), c.action).to.equal(true);
    for (const c of plan.calls) expect(allowed.has(c.action), c.action).to.equal(true);
    return { plan, r };
  }

  it('node-stop stops exactly the planned instance, suspends its group, and reverts', async () => {
    let stoppedSeen: string[] = [];
    const { plan } = await runAndCheck({ kind: 'node-stop', zone: 'us-east-1a', duration: '3s' }, async () => {
      await eventually('stopped', 10_000, async () => {
        const xs = (await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['stopped', 'stopping'] }] }))).Reservations!.flatMap((x) => x.Instances!);
        stoppedSeen = xs.map((x) => x.InstanceId!);
        return xs.length ? xs : undefined;
      });
      const w = await world(aws);
      expect(w.asgs.find((g) => g.name.endsWith('us-east-1a'))!.suspended.sort()).to.deep.equal(['HealthCheck', 'ReplaceUnhealthy']);
    }, (events, res) => {
      const planned = (res.nodes as Array<{ instanceId: string }>).map((x) => x.instanceId);
      const touched = [...new Set(events.filter((e) => e.event === 'instance.state').map((e) => e.instanceId as string))];
      expect(touched).to.deep.equal(planned);
    });
    expect(stoppedSeen).to.deep.equal((plan.resources.nodes as Array<{ instanceId: string }>).map((x) => x.instanceId));
  });

  it('daemon-kill stops the daemon on exactly the planned node through SSM, arms the node-local timer, and reverts', async () => {
    await runAndCheck({ kind: 'daemon-kill', daemon: 'kubelet', zone: 'us-east-1b', duration: '3s' }, async () => {
      const w = await world(aws);
      const down = w.instances.filter((i) => i.state === 'running' && !i.daemons.kubelet.active);
      expect(down).to.have.length(1);
      expect(down[0].timers.some((x) => x.startsWith('chaos-restore-kubelet-'))).to.equal(true);
    }, (events, res) => {
      const planned = (res.nodes as Array<{ name: string }>).map((x) => x.name);
      expect([...new Set(events.filter((e) => e.event === 'daemon.stopped').map((e) => e.node))]).to.deep.equal(planned);
      expect(events.filter((e) => e.event === 'daemon.started' && e.cause === 'systemctl start').map((e) => e.node)).to.deep.equal(planned);
    });
  });

  it('daemon-kill in kill mode leaves the restart to systemd (kubelet back within 5 s)', async () => {
    const mark = Date.now();
    await runAndCheck({ kind: 'daemon-kill', daemon: 'kubelet', mode: 'kill', zone: 'us-east-1c', duration: '7s' }, async () => {
      // hold until systemd's restart happened (RestartSec=5), however loaded the machine, before the revert could start it
      await eventually('kubelet restarted by its Restart= policy', 30_000, async () => lab.world.read().some((e) => Date.parse(e.time) >= mark && e.event === 'daemon.started' && e.cause === 'systemd-restart-policy'));
    }, (events) => {
      expect(events.filter((e) => e.event === 'daemon.killed')).to.have.length(1);
      expect(events.filter((e) => e.event === 'daemon.started' && e.cause === 'systemd-restart-policy')).to.have.length(1);
    });
  });

  it('az-blackhole swaps exactly the zone subnets onto one deny-all ACL and back, then deletes it', async () => {
    await runAndCheck({ kind: 'az-blackhole', zone: 'us-east-1c', scope: 'zone', duration: '3s' }, async () => {
      const acls = (await aws.ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'tag:chaos:managed-by', Values: ['k8s-chaos-harness'] }] }))).NetworkAcls!;
      expect(acls).to.have.length(1);
      // the zone's nodes, utility and public subnets
      expect(acls[0].Associations).to.have.length(3);
    }, (events, res) => {
      const planned = (res.subnets as Array<{ subnetId: string }>).map((s) => s.subnetId).sort();
      const swapped = events.filter((e) => e.event === 'acl.association.replaced');
      expect(swapped).to.have.length(planned.length * 2);
      expect([...new Set(swapped.map((e) => e.subnetId as string))].sort()).to.deep.equal(planned);
      expect(swapped.every((e) => e.zone === 'us-east-1c')).to.equal(true);
      expect(events.filter((e) => e.event === 'acl.created')).to.have.length(1);
      expect(events.filter((e) => e.event === 'acl.deleted')).to.have.length(1);
    });
  });

  it('over-limit, unknown and invalid targets exit 2 and change nothing', async () => {
    const mark = Date.now();
    const cases: Array<[string[], RegExp]> = [
      [['fault', 'node-stop', '--count', '10'], /count 10 is more than the 7 matching Ready nodes/],
      // EKS node kinds: Spot is never stopped, Karpenter only with a replacement expected, no daemon fault on Bottlerocket
      [['fault', 'node-stop', '--selector', 'karpenter.sh/capacity-type=spot'], /asks for Spot capacity/],
      [['fault', 'node-stop', '--selector', 'karpenter.sh/nodepool=default'], /Karpenter: it answers a stopped instance[^]*expect-replacement/],
      [['fault', 'daemon-kill', '--daemon', 'kubelet', '--node-group', 'chaos-lab-test-bottlerocket'], /none of the 1 matching Ready node\(s\) can take this fault[^]*Bottlerocket: SSM reaches the control container/],
      [['fault', 'node-stop', '--selector', 'no-such-label=x'], /no Ready node matches/],
      [['fault', 'az-blackhole', '--zone', 'us-west-2a'], /not in the target region|no cluster node/],
      [['fault', 'az-blackhole', '--zone', 'us-east-1d'], /no cluster node is in zone us-east-1d/],
      [['fault', 'daemon-kill', '--daemon', 'docker'], /runs containerd, not docker/],
      [['fault', 'node-stop', '--duration', '-3s'], /fault.duration/],
      [['fault', 'node-explode'], /fault.kind/],
      [['fault', 'az-blackhole', '--zone', 'us-east-1a'], /harness itself runs in us-east-1a/],
      [['fault', 'node-stop', '--target', 'aws'], /--yes/],
      [['fault', 'node-stop', '--context', 'prod'], /kube context "prod"/],
    ];
    for (const [args, re] of cases) {
      const env: Record<string, string> = args.includes('us-east-1a') ? { NODE_NAME: 'ip-10-0-1-10.ec2.internal' } : {};
      const r = await runCli([...args, '--state-dir', tempStateDir()], env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(ExitCode.Invalid);
      expect(r.stderr, args.join(' ')).to.match(re);
    }
    expect(changesSince(lab, mark), 'nothing changed in the world').to.deep.equal([]);
  });

  it('an instance without the cluster tag is refused', async () => {
    const ctx = faultContext(t, runId(), { guard: { ...t.guard, cluster: 'some-other-cluster' } });
    const err = await planFault(ctx, FaultSpec.parse({ kind: 'node-stop', duration: '1m' })).catch((e: unknown) => e as HarnessError);
    expect(err).to.be.instanceOf(HarnessError);
    expect((err as HarnessError).exitCode).to.equal(ExitCode.Invalid);
    expect((err as HarnessError).details.join()).to.contain('lacks the tag kubernetes.io/cluster/some-other-cluster');
  });

  it('survives injected throttling and 5xx answers on EC2, SSM and Auto Scaling', async () => {
    await aws.control('POST', 'faults', [
      { service: 'ec2', action: 'CreateNetworkAcl', kind: 'throttle', count: 2 },
      { service: 'ec2', action: 'ReplaceNetworkAclAssociation', kind: '5xx', count: 2 },
      { service: 'ec2', action: 'DeleteNetworkAcl', kind: 'throttle', count: 1 },
      { service: 'ec2', action: 'DescribeNetworkAcls', kind: 'latency', latencyMs: 100 },
    ]);
    let retries = 0;
    t.aws.retry.onRetry = () => { retries++; };
    try {
      await runAndCheck({ kind: 'az-blackhole', zone: 'us-east-1b', duration: '1s' }, async () => {}, () => {});
      expect(retries).to.be.at.least(5);
      await aws.control('POST', 'faults', [
        { service: 'ssm', action: 'SendCommand', kind: 'throttle', count: 2 },
        { service: 'ssm', action: 'GetCommandInvocation', kind: '5xx', count: 1 },
        { service: 'autoscaling', action: 'SuspendProcesses', kind: 'throttle', count: 1 },
        { service: 'ec2', action: 'StartInstances', kind: '5xx', count: 1 },
      ]);
      await runAndCheck({ kind: 'daemon-kill', daemon: 'kube-proxy', duration: '1s' }, async () => {}, () => {});
      await runAndCheck({ kind: 'node-stop', duration: '2s' }, async () => {}, () => {});
      expect(retries).to.be.at.least(10);
    } finally {
      t.aws.retry.onRetry = undefined;
    }
  });

  it('--dry-run prints the plan and the DryRun permission checks, and changes nothing', async () => {
    const mark = Date.now();
    const r = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--dry-run', '--state-dir', tempStateDir()]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('plan: black-hole').and.contain('ec2:CreateNetworkAcl: allowed (DryRun)').and.contain('nothing was changed');
    expect(changesSince(lab, mark)).to.deep.equal([]);
    await aws.control('PUT', 'iam/deny', ['ec2:CreateNetworkAcl']);
    try {
      const denied = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--dry-run', '--state-dir', tempStateDir()]);
      expect(denied.code).to.not.equal(0);
      expect(denied.stderr).to.contain('UnauthorizedOperation');
    } finally {
      await aws.control('PUT', 'iam/deny', []);
    }
  });

  it('SIGINT reverts at once; a second SIGINT is reported, not obeyed; exit 3', async () => {
    await allReady();
    const { spawn } = await import('node:child_process');
    const path = await import('node:path');
    const { REPO_ROOT } = await import('../../lab/paths.js');
    const { TEST_LAB_DIR } = await import('../support/lab.js');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'harness/cli.ts'), 'fault', 'az-blackhole', '--zone', 'us-east-1b', '--duration', '5m', '--state-dir', tempStateDir()], { env: { ...process.env, LAB_DIR: TEST_LAB_DIR }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    await eventually('injected', 30_000, async () => (err.includes('are on black-hole ACL') ? true : undefined), 100);
    // A slow revert, so the second Ctrl-C lands while it runs.
    await aws.control('POST', 'faults', { service: 'ec2', action: 'ReplaceNetworkAclAssociation', kind: 'latency', latencyMs: 1500 });
    child.kill('SIGINT');
    // the second Ctrl-C once the revert has begun (each swap back takes 1.5 s, so it is still running)
    await eventually('the revert started', 30_000, async () => (err.includes('SIGINT: reverting the fault now') ? true : undefined), 20);
    expect(err, 'the revert finished before the second SIGINT').to.not.contain('deleted black-hole ACL');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).to.equal(ExitCode.Aborted);
    expect(err).to.contain('SIGINT: reverting the fault now');
    expect(err).to.contain('SIGINT again: still reverting');
    expect(err).to.contain('deleted black-hole ACL');
  });

  it('a revert that cannot complete exits 5 and says exactly what is left and how to fix it', async () => {
    await allReady();
    const spec = FaultSpec.parse({ kind: 'az-blackhole', zone: 'us-east-1b', duration: '1s' });
    const ctx = faultContext(t, runId());
    const pf = await planFault(ctx, spec);
    const { plan } = pf;
    const stateDir = tempStateDir();
    const r = await injectAndRevert(ctx, pf, { stateDir, target: 'lab', during: async () => { await aws.control('PUT', 'iam/deny', ['ec2:ReplaceNetworkAclAssociation']); } });
    await aws.control('PUT', 'iam/deny', []);
    expect(r.exitCode).to.equal(ExitCode.RevertIncomplete);
    const text = formatLeftovers(r.revert.leftovers).join('\n');
    expect(text).to.contain('REVERT INCOMPLETE').and.match(/still on black-hole ACL acl-/).and.contain('aws ec2 replace-network-acl-association --association-id aclassoc-');
    const rep = await sweep({ aws: t.aws, kube: t.kube, stateDir, cluster: t.guard.cluster, act: true, log: () => {} });
    expect(rep.leftovers).to.deep.equal([]);
  });

  describe('crash matrix: SIGKILL right after every journaled step, then recover', function () {
    this.timeout(900_000);
    const kinds: Array<[string, string[]]> = [
      ['az-blackhole', ['fault', 'az-blackhole', '--zone', 'us-east-1c', '--scope', 'zone', '--duration', '2s']],
      ['node-stop', ['fault', 'node-stop', '--zone', 'us-east-1b', '--seed', '3', '--duration', '2s']],
      ['daemon-kill', ['fault', 'daemon-kill', '--daemon', 'kubelet', '--zone', 'us-east-1a', '--seed', '5', '--duration', '2s']],
    ];
    const matrix: string[] = [];
    after(() => console.log(`\n      crash matrix (fault · killed after · recover):\n${matrix.map((m) => `        ${m}`).join('\n')}`));

    for (const [kind, args] of kinds) {
      it(`${kind}: every crash point recovers to nothing left`, async () => {
        await allReady();
        const dir0 = tempStateDir();
        const full = await runCli([...args, '--state-dir', dir0]);
        expect(full.code, full.stderr).to.equal(0);
        const entries = Journal.read(Journal.list(dir0)[0]);
        const seen = new Map<string, number>();
        const points = entries.map((e) => { const k = `${e.step}:${e.phase}`; const c = (seen.get(k) ?? 0) + 1; seen.set(k, c); return `${k}:${c}`; });
        expect(points.length).to.be.at.least(4);
        for (const point of points) {
          await allReady();
          const dir = tempStateDir();
          const r = await runCli([...args, '--state-dir', dir], { CHAOS_TEST_CRASH_AT: point });
          const killed = r.signal === 'SIGKILL';
          const rep = await sweep({ aws: t.aws, kube: t.kube, stateDir: dir, cluster: t.guard.cluster, act: true, log: () => {} });
          const left = await leftovers(aws, t);
          matrix.push(`${kind.padEnd(13)} ${point.padEnd(24)} ${killed ? 'killed' : `exit ${r.code}`} · recover: ${rep.findings.map((f) => f.action ?? f.detail).join('; ').slice(0, 90) || 'nothing to do'} · left: ${left.length ? left.join(', ') : 'nothing'}`);
          expect(killed, `${point}: the process was SIGKILLed`).to.equal(true);
          expect(rep.leftovers, point).to.deep.equal([]);
          expect(left, `${kind} crash at ${point}`).to.deep.equal([]);
          const again = await sweep({ aws: t.aws, kube: t.kube, stateDir: dir, cluster: t.guard.cluster, act: false, log: () => {} });
          expect(again.findings, `${point}: a second look finds nothing`).to.deep.equal([]);
        }
      });
    }

    it('daemon-kill: the node-local timer heals the node with no harness at all', async () => {
      await allReady();
      const dir = tempStateDir();
      const r = await runCli(['fault', 'daemon-kill', '--daemon', 'kubelet', '--zone', 'us-east-1b', '--duration', '3s', '--state-dir', dir], { CHAOS_TEST_CRASH_AT: 'ssm.kill:done' });
      expect(r.signal).to.equal('SIGKILL');
      const down = (await world(aws)).instances.filter((i) => i.state === 'running' && !i.daemons.kubelet.active);
      expect(down).to.have.length(1);
      await eventually('kubelet started by the node-local timer', 10_000, async () => (await world(aws)).instances.every((i) => i.state !== 'running' || i.daemons.kubelet.active) || undefined, 250);
      expect(lab.world.read().some((e) => e.event === 'node.timer.fired' && e.node === down[0].node)).to.equal(true);
      // recover closes the journal; starting an active kubelet changes nothing
      const rep = await sweep({ aws: t.aws, kube: t.kube, stateDir: dir, cluster: t.guard.cluster, act: true, log: () => {} });
      expect(rep.leftovers).to.deep.equal([]);
    });

    it('a run refuses to start while an earlier run left something, and recover clears it', async () => {
      await allReady();
      const dir = tempStateDir();
      const r = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--duration', '2s', '--state-dir', dir], { CHAOS_TEST_CRASH_AT: 'acl.swap:done' });
      expect(r.signal).to.equal('SIGKILL');
      const refused = await runCli(['fault', 'node-stop', '--duration', '2s', '--state-dir', dir]);
      expect(refused.code).to.equal(ExitCode.Invalid);
      expect(refused.stderr).to.contain('recover');
      const rec = await runCli(['recover', '--state-dir', dir]);
      expect(rec.code, rec.stderr).to.equal(0);
      expect(rec.stdout).to.match(/back on acl-/).and.match(/deleted black-hole ACL/);
    });
  });
});
