// Each row of the lab's effects table: a fault made through the real SDK clients, its effect seen
// through the Kubernetes API, HTTP requests to the demo load balancer, SSM, and the world log.
import { expect } from 'chai';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import {
  CreateNetworkAclCommand, DeleteNetworkAclCommand, DescribeInstancesCommand, DescribeNetworkAclsCommand, DescribeSubnetsCommand,
  ReplaceNetworkAclAssociationCommand, StartInstancesCommand, StopInstancesCommand, type Instance,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { DescribeAutoScalingGroupsCommand, ResumeProcessesCommand, SuspendProcessesCommand } from '@aws-sdk/client-auto-scaling';
import { MERGE_PATCH, nodeReady } from '../../lab/kube.js';
import { DEMO } from '../../lab/manifests.js';
import { parseProviderID } from '../../lab/topology.js';
import { eventually, testLab, type TestLab } from '../support/lab.js';
import { hits, labAws, runScript, type HttpResult, type LabAws } from '../support/aws.js';

const live = (p: V1Pod) => !p.metadata?.deletionTimestamp;
const readyCond = (n: V1Node) => n.status?.conditions?.find((c) => c.type === 'Ready');
const summary = (rs: HttpResult[]) => {
  const c: Record<string, number> = {};
  for (const r of rs) { const k = r.ok ? `ok@${r.node}` : r.error ?? 'fail'; c[k] = (c[k] ?? 0) + 1; }
  return JSON.stringify(c);
};

describe('lab part 2: each fault has its real effect', function () {
  this.timeout(120_000);
  let lab: TestLab;
  let aws: LabAws;
  let t: TestLab['state']['timing'];
  const notReadyWithin = () => (t.nodeMonitorGracePeriodSeconds + t.nodeLeaseDurationSeconds / 4 + t.nodeMonitorPeriodSeconds + 6) * 1000;

  before(() => {
    lab = testLab();
    aws = labAws(lab);
    t = lab.state.timing;
  });

  const demoPods = async () => (await lab.kube.core.listNamespacedPod({ namespace: DEMO.namespace, labelSelector: DEMO.selector })).items.filter(live);
  const node = (name: string) => lab.kube.core.readNode({ name });
  async function instances(): Promise<Instance[]> {
    return (await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running', 'pending', 'stopping', 'stopped'] }] }))).Reservations!.flatMap((r) => r.Instances!);
  }
  async function instanceOf(nodeName: string): Promise<Instance> {
    const n = await node(nodeName);
    const id = parseProviderID(n.spec!.providerID!)!.instanceId;
    return (await instances()).find((i) => i.InstanceId === id)!;
  }
  /**
   * A Ready node of the AL2023 managed node group (per-zone ASGs) holding at least one demo pod,
   * preferring the busiest. The Bottlerocket and Karpenter nodes have their own tests
   * (lab-eks-nodes.test.ts): Karpenter replaces a stopped instance itself and its Spot ones cannot be stopped.
   */
  async function busyNode(exclude: string[] = []): Promise<string> {
    const managed = new Set((await lab.kube.core.listNode()).items.filter((n) => n.metadata?.labels?.['eks.amazonaws.com/nodegroup']?.includes('-ng-us-east-1')).map((n) => n.metadata!.name!));
    const counts = new Map<string, number>();
    for (const p of await demoPods()) if (!exclude.includes(p.spec!.nodeName!) && managed.has(p.spec!.nodeName!)) counts.set(p.spec!.nodeName!, (counts.get(p.spec!.nodeName!) ?? 0) + 1);
    const name = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (!name) throw new Error('no node holds a demo pod');
    return name;
  }
  async function ping(id: string): Promise<string | undefined> {
    const l = (await aws.ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }))).InstanceInformationList!;
    return l[0]?.PingStatus;
  }
  async function waitReady(name: string, ready: boolean, ms: number): Promise<V1Node> {
    return eventually(`${name} ${ready ? 'Ready' : 'NotReady'}`, ms, async () => { const n = await node(name); return nodeReady(n) === ready ? n : undefined; });
  }
  async function deploymentAvailable(): Promise<void> {
    await eventually('demo fully available', 90_000, async () => {
      const d = await lab.kube.apps.readNamespacedDeployment({ name: DEMO.name, namespace: DEMO.namespace });
      return (d.status?.availableReplicas ?? 0) === DEMO.replicas && (await demoPods()).filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === DEMO.replicas;
    });
  }
  function worldSince(mark: number, event: string, pred: (e: Record<string, unknown>) => boolean = () => true) {
    return lab.world.read().filter((e) => Date.parse(e.time) >= mark && e.event === event && pred(e));
  }
  async function ssmRun(id: string, commands: string[]) {
    const r = await runScript(aws, id, commands);
    expect(r.Status, `${commands.join('; ')}: ${r.StandardErrorContent}`).to.equal('Success');
    return r;
  }

  beforeEach(async () => {
    await deploymentAvailable();
    for (const n of (await lab.kube.core.listNode()).items) expect(nodeReady(n), `${n.metadata!.name} Ready before the test`).to.equal(true);
  });

  it('instance stopped: no heartbeat → NotReady → taint; its pods unreachable at once; SSM ConnectionLost. Started: Ready, serves, Online', async () => {
    const victim = await busyNode();
    const inst = await instanceOf(victim);
    const asgName = inst.Tags!.find((x) => x.Key === 'aws:autoscaling:groupName')!.Value!;
    await aws.asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: asgName, ScalingProcesses: ['HealthCheck', 'ReplaceUnhealthy'] }));
    const mark = Date.now();
    try {
      const r = await aws.ec2.send(new StopInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
      expect(r.StoppingInstances![0].CurrentState!.Name).to.equal('stopping');
      const traffic = await hits(aws.serviceUrl, 40, 800);
      expect(traffic.filter((x) => x.ok && x.node === victim), summary(traffic)).to.have.length(0);
      expect(traffic.some((x) => x.error === 'timeout'), `a request to its pods hangs: ${summary(traffic)}`).to.equal(true);
      expect(traffic.some((x) => x.error && x.error !== 'timeout'), `hangs, not resets: ${summary(traffic)}`).to.equal(false);
      await eventually('stopped', 10_000, async () => (await instanceOf(victim)).State!.Name === 'stopped' || undefined);
      await eventually('ConnectionLost', 10_000, async () => (await ping(inst.InstanceId!)) === 'ConnectionLost' || undefined);
      const n = await waitReady(victim, false, notReadyWithin());
      expect(readyCond(n)?.status).to.equal('Unknown');
      await eventually('unreachable taint', 10_000, async () => (await node(victim)).spec?.taints?.some((x) => x.key === 'node.kubernetes.io/unreachable') || undefined);
      expect(worldSince(mark, 'node.heartbeat.stopped', (e) => e.node === victim)).to.have.length(1);
      await deploymentAvailable();

      await aws.ec2.send(new StartInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
      await eventually('running', 10_000, async () => (await instanceOf(victim)).State!.Name === 'running' || undefined);
      await waitReady(victim, true, 20_000);
      await eventually('Online', 10_000, async () => (await ping(inst.InstanceId!)) === 'Online' || undefined);
      // Its pods were evicted; the node serves again as an LB target once health checks pass.
      await eventually('the load balancer routes via the node again', 30_000, async () => (await hits(aws.serviceUrl, 12, 800)).some((x) => x.ok && x.via === victim) || undefined, 500);
      expect(worldSince(mark, 'instance.state', (e) => e.instanceId === inst.InstanceId).map((e) => e.to)).to.deep.equal(['stopping', 'stopped', 'pending', 'running']);
    } finally {
      await aws.ec2.send(new StartInstancesCommand({ InstanceIds: [inst.InstanceId!] })).catch(() => {});
      await aws.asg.send(new ResumeProcessesCommand({ AutoScalingGroupName: asgName, ScalingProcesses: ['HealthCheck', 'ReplaceUnhealthy'] }));
    }
  });

  it('kubelet stopped (systemctl stop via SSM): heartbeat stops, pods keep serving, SSM stays Online; it stays down until started', async () => {
    const victim = await busyNode();
    const inst = await instanceOf(victim);
    const mark = Date.now();
    await ssmRun(inst.InstanceId!, ['systemctl stop kubelet']);
    const early = await hits(aws.serviceUrl, 30, 800);
    expect(early.every((x) => x.ok), summary(early)).to.equal(true);
    expect(early.some((x) => x.node === victim), `its pods still answer: ${summary(early)}`).to.equal(true);
    const n = await waitReady(victim, false, notReadyWithin());
    expect(readyCond(n)?.status).to.equal('Unknown');
    expect(await ping(inst.InstanceId!)).to.equal('Online');
    const after = await hits(aws.serviceUrl, 20, 800);
    expect(after.every((x) => x.ok), summary(after)).to.equal(true);
    expect((await ssmRun(inst.InstanceId!, ['systemctl is-active kubelet || true'])).StandardOutputContent).to.equal('inactive\n');
    await ssmRun(inst.InstanceId!, ['systemctl start kubelet']);
    await waitReady(victim, true, 20_000);
    expect(worldSince(mark, 'daemon.stopped', (e) => e.node === victim && e.daemon === 'kubelet')).to.have.length(1);
  });

  it('kubelet killed with SIGKILL: systemd restarts it after 5 s (Restart=on-failure)', async () => {
    const victim = await busyNode();
    const inst = await instanceOf(victim);
    const mark = Date.now();
    await ssmRun(inst.InstanceId!, ['kill -9 $(pgrep -x kubelet)', 'systemctl is-active kubelet || true']);
    const started = await eventually('kubelet restarted', 15_000, async () => worldSince(mark, 'daemon.started', (e) => e.node === victim && e.cause === 'systemd-restart-policy')[0]);
    const killed = worldSince(mark, 'daemon.killed', (e) => e.node === victim)[0];
    const gapS = Number(BigInt(started.monoNs) - BigInt(killed.monoNs)) / 1e9;
    // RestartSec=5, and the restart came exactly then (plus however late the lab's own timer fired)
    expect(killed.restartSec).to.equal(5);
    expect(gapS).to.be.closeTo(5 + Number(started.timerLateMs) / 1000, 0.05);
    expect((await node(victim)).metadata?.name).to.equal(victim);
    expect(nodeReady(await node(victim)), 'a 5 s gap is shorter than the grace period').to.equal(true);
  });

  it('kube-proxy frozen (SIGSTOP of the DaemonSet container\'s process): node stays Ready; that node routes by its frozen EndpointSlice view', async () => {
    const victim = await busyNode();
    const inst = await instanceOf(victim);
    // kube-proxy is not a systemd unit on EKS nodes (issue 13): it is frozen, as the harness does it
    await ssmRun(inst.InstanceId!, ['set -euo pipefail', 'kill -STOP "$(pgrep -o -x kube-proxy)"']);
    let cordoned = '';
    try {
      // Replace a pod elsewhere: every other node learns the new endpoint, the victim keeps the old one.
      // Its node is cordoned first so the replacement lands elsewhere and cannot reuse the IP.
      const other = (await demoPods()).find((p) => p.spec!.nodeName !== victim)!;
      const oldIp = other.status!.podIP!;
      cordoned = other.spec!.nodeName!;
      await lab.kube.core.patchNode({ name: cordoned, body: { spec: { unschedulable: true } } }, MERGE_PATCH);
      await lab.kube.core.deleteNamespacedPod({ name: other.metadata!.name!, namespace: DEMO.namespace, gracePeriodSeconds: 0 });
      await deploymentAvailable();
      const views = await eventually('views diverge', 10_000, async () => {
        const w = (await aws.control('GET', 'world')) as { dataPlane: { views: Record<string, Record<string, string[]>> } };
        const v = w.dataPlane.views;
        const others = Object.entries(v).filter(([n]) => n !== victim);
        return v[victim]['default/demo'].includes(oldIp) && others.every(([, m]) => !m['default/demo'].includes(oldIp)) ? v : undefined;
      });
      expect(views[victim]['default/demo']).to.include(oldIp);
      // kube-proxy picks an endpoint at random, so a request via the victim reaches the gone pod with
      // probability 1/6: send batches until one hangs (300 requests: a miss is a ~1e-4 event).
      const traffic: HttpResult[] = [];
      for (let i = 0; i < 10 && !traffic.some((x) => x.error === 'timeout'); i++) traffic.push(...(await hits(aws.serviceUrl, 30, 800)));
      expect(traffic.some((x) => x.error === 'timeout'), `requests via ${victim} to the gone pod hang: ${summary(traffic)}`).to.equal(true);
      expect(traffic.every((x) => x.ok || x.error === 'timeout'), `hangs, never resets: ${summary(traffic)}`).to.equal(true);
      expect(nodeReady(await node(victim))).to.equal(true);
      expect(await ping(inst.InstanceId!)).to.equal('Online');
    } finally {
      await ssmRun(inst.InstanceId!, ['pkill -CONT -x kube-proxy']);
      if (cordoned) await lab.kube.core.patchNode({ name: cordoned, body: { spec: { unschedulable: false } } }, MERGE_PATCH);
    }
    // thawed, kube-proxy resyncs (the lab: at the next data-plane tick); wait until every node's view is the same
    await eventually('views converge', 15_000, async () => {
      const w = (await aws.control('GET', 'world')) as { dataPlane: { views: Record<string, Record<string, string[]>> } };
      const all = Object.values(w.dataPlane.views).map((m) => JSON.stringify([...(m['default/demo'] ?? [])].sort()));
      return all.every((v) => v === all[0]) || undefined;
    }, 500);
    await eventually('view refreshed, no hangs', 15_000, async () => (await hits(aws.serviceUrl, 30, 800)).every((x) => x.ok) || undefined, 500);
  });

  it(`container runtime stopped (containerd, KillMode=process): its pods keep serving, no resets; node NotReady (runtime down); SSM Online`, async () => {
    const victim = await busyNode();
    const inst = await instanceOf(victim);
    const runtime = lab.state.options.runtime;
    await ssmRun(inst.InstanceId!, [`systemctl stop ${runtime}`]);
    try {
      // the containerd-shims and their containers outlive containerd (KillMode=process): the pods still answer
      const early = await hits(aws.serviceUrl, 30, 800);
      expect(early.every((x) => x.ok), `no resets, no hangs: ${summary(early)}`).to.equal(true);
      expect(early.some((x) => x.node === victim), `its pods still answer: ${summary(early)}`).to.equal(true);
      const n = await waitReady(victim, false, 10_000);
      expect(readyCond(n)?.status).to.equal('False');
      expect(readyCond(n)?.message).to.contain('container runtime is down');
      expect(await ping(inst.InstanceId!)).to.equal('Online');
      // the node lifecycle controller marks its pods not ready: they leave the endpoints, the rest serve everything
      await eventually('traffic served by the other nodes', 30_000, async () => { const r = await hits(aws.serviceUrl, 20, 800); return r.every((x) => x.ok && x.node !== victim) || undefined; }, 500);
      // kubelet still heart-beats: the node is NotReady, not Unknown, for longer than the grace period
      await new Promise((r) => setTimeout(r, (t.nodeMonitorGracePeriodSeconds + 2) * 1000));
      expect(readyCond(await node(victim))?.status).to.equal('False');
    } finally {
      await ssmRun(inst.InstanceId!, [`systemctl start ${runtime}`]);
    }
    await waitReady(victim, true, 20_000);
  });

  it('every subnet of a zone on a deny-all ACL: the zone loses heartbeat, its traffic hangs, SSM ConnectionLost and Undeliverable; restored: all back', async () => {
    const zone = 'us-east-1c';
    const vpcId = (await aws.ec2.send(new DescribeSubnetsCommand({}))).Subnets![0].VpcId!;
    const subnets = (await aws.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: [zone] }] }))).Subnets!;
    const acl = (await aws.ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId }))).NetworkAcl!;
    const saved: Array<{ subnet: string; acl: string }> = [];
    const zoneNodes = (await lab.kube.core.listNode({ labelSelector: `topology.kubernetes.io/zone=${zone}` })).items.map((n) => n.metadata!.name!);
    const zoneInsts = await Promise.all(zoneNodes.map(instanceOf));
    try {
      for (const s of subnets) {
        const cur = (await aws.ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [s.SubnetId!] }] }))).NetworkAcls![0];
        saved.push({ subnet: s.SubnetId!, acl: cur.NetworkAclId! });
        const assoc = cur.Associations!.find((a) => a.SubnetId === s.SubnetId)!.NetworkAclAssociationId!;
        await aws.ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: acl.NetworkAclId! }));
      }
      const traffic = await hits(aws.serviceUrl, 40, 800);
      expect(traffic.filter((x) => x.ok && x.zone === zone), summary(traffic)).to.have.length(0);
      expect(traffic.some((x) => x.error === 'timeout'), summary(traffic)).to.equal(true);
      expect(traffic.some((x) => x.error && x.error !== 'timeout'), `no resets: ${summary(traffic)}`).to.equal(false);
      await eventually('ConnectionLost', 10_000, async () => (await Promise.all(zoneInsts.map((i) => ping(i.InstanceId!)))).every((p) => p === 'ConnectionLost') || undefined);
      const sent = await aws.ssm.send(new SendCommandCommand({ InstanceIds: [zoneInsts[0].InstanceId!], DocumentName: 'AWS-RunShellScript', Parameters: { commands: ['systemctl stop kubelet'] } }));
      for (const n of zoneNodes) await waitReady(n, false, notReadyWithin());
      const inv = await eventually('Undeliverable', 20_000, async () => {
        const x = await aws.ssm.send(new GetCommandInvocationCommand({ CommandId: sent.Command!.CommandId!, InstanceId: zoneInsts[0].InstanceId! })).catch(() => undefined);
        return x && x.Status !== 'Pending' ? x : undefined;
      });
      expect([inv.Status, inv.StatusDetails]).to.deep.equal(['Failed', 'Undeliverable']);
      // Once endpoints drop the zone's pods and the LB marks its nodes unhealthy, the other zones serve everything.
      await eventually('served by the other zones only', 40_000, async () => { const r = await hits(aws.serviceUrl, 30, 800); return r.every((x) => x.ok && x.zone !== zone) || undefined; }, 500);
    } finally {
      for (const s of saved) {
        const cur = (await aws.ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [s.subnet] }] }))).NetworkAcls![0];
        const assoc = cur.Associations!.find((a) => a.SubnetId === s.subnet)!.NetworkAclAssociationId!;
        if (cur.NetworkAclId !== s.acl) await aws.ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc, NetworkAclId: s.acl }));
      }
      await aws.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: acl.NetworkAclId! }));
    }
    for (const n of zoneNodes) await waitReady(n, true, 20_000);
    await eventually('Online', 10_000, async () => (await Promise.all(zoneInsts.map((i) => ping(i.InstanceId!)))).every((p) => p === 'Online') || undefined);
    await deploymentAvailable();
    await eventually('the zone serves again', 40_000, async () => (await hits(aws.serviceUrl, 20, 800)).some((x) => x.ok && x.via && zoneNodes.includes(x.via)) || undefined, 500);
  });

  it('Auto Scaling replaces a stopped instance: terminated, a new instance and Node join, the old Node is deleted', async () => {
    const victim = await busyNode();
    const inst = await instanceOf(victim);
    const mark = Date.now();
    await aws.ec2.send(new StopInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    const launched = await eventually('replacement launched', 60_000, async () => worldSince(mark, 'asg.instance.launched', (e) => e.replaces === inst.InstanceId)[0], 500);
    const fresh = String(launched.node);
    await waitReady(fresh, true, 30_000);
    await eventually('old Node deleted', 30_000, async () => (await lab.kube.core.listNode()).items.every((n) => n.metadata!.name !== victim) || undefined);
    const all = (await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst.InstanceId!] }))).Reservations![0].Instances![0];
    expect(all.State!.Name).to.equal('terminated');
    const group = (await aws.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [inst.Tags!.find((x) => x.Key === 'aws:autoscaling:groupName')!.Value!] }))).AutoScalingGroups![0];
    expect(group.Instances!.map((i) => i.InstanceId)).to.include(String(launched.instanceId)).and.not.include(inst.InstanceId);
    await deploymentAvailable();
  });
});
