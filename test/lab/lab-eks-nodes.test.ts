// The EKS node kinds of the lab: the AL2023 managed node group, the Bottlerocket managed node group and
// Karpenter's NodePool `default` (with a Spot node); the CoreDNS and kube-proxy add-ons; EC2's refusal
// to stop a Spot Instance; Karpenter's interruption handling of a stopped instance. Node names of
// Karpenter nodes change in here (a replacement), so nothing below relies on fixed Karpenter names.
import { expect } from 'chai';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { DescribeInstancesCommand, StartInstancesCommand, StopInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { nodeReady } from '../../lab/kube.js';
import { ADDONS, DEMO } from '../../lab/manifests.js';
import { parseProviderID } from '../../lab/topology.js';
import { eventually, testLab, type TestLab } from '../support/lab.js';
import { errorName, labAws, type LabAws } from '../support/aws.js';

const live = (p: V1Pod) => !p.metadata?.deletionTimestamp;
const podReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const lbl = (n: V1Node) => n.metadata?.labels ?? {};

describe('lab: EKS node kinds, add-ons and Karpenter interruption', function () {
  this.timeout(240_000);
  let lab: TestLab;
  let aws: LabAws;
  before(() => {
    lab = testLab();
    aws = labAws(lab);
  });

  const nodes = async () => (await lab.kube.core.listNode()).items;
  const instancesById = async (ids: string[]): Promise<Instance[]> =>
    (await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap((r) => r.Instances!);
  const instanceOf = async (n: V1Node) => (await instancesById([parseProviderID(n.spec!.providerID!)!.instanceId]))[0];
  const worldSnapshot = async () => (await aws.control('GET', 'world')) as { nodeClaims: Array<{ name: string; nodePool: string; capacityType: string; instanceId: string; nodeName: string }> };
  const karpenterNodes = async () => (await nodes()).filter((n) => lbl(n)['karpenter.sh/nodepool']);

  it('has the three kinds with their labels, OS images and EC2 lifecycle', async () => {
    const all = await nodes();
    const cluster = lab.state.options.clusterName;
    const al = all.filter((n) => lbl(n)['eks.amazonaws.com/nodegroup']?.startsWith(`${cluster}-ng-`));
    expect(al, 'AL2023 managed nodes').to.have.length(6);
    for (const n of al) {
      expect(lbl(n)['eks.amazonaws.com/capacityType']).to.equal('ON_DEMAND');
      expect(n.status!.nodeInfo!.osImage).to.match(/^Amazon Linux 2023\./);
      expect(n.status!.nodeInfo!.containerRuntimeVersion).to.equal('containerd://1.7.27');
    }
    const br = all.filter((n) => lbl(n)['eks.amazonaws.com/nodegroup'] === `${cluster}-bottlerocket`);
    expect(br.length, 'Bottlerocket nodes').to.be.at.least(1);
    for (const n of br) {
      expect(lbl(n)['eks.amazonaws.com/capacityType']).to.equal('ON_DEMAND');
      expect(n.status!.nodeInfo!.osImage).to.match(/^Bottlerocket OS 1\.\d+\.\d+ \(aws-k8s-1\.36\)$/);
      expect(n.status!.nodeInfo!.kernelVersion).to.match(/^\d+\.\d+\.\d+$/);
      expect(n.status!.nodeInfo!.containerRuntimeVersion).to.match(/\+bottlerocket$/);
      const tags = Object.fromEntries((await instanceOf(n)).Tags!.map((t) => [t.Key, t.Value]));
      expect(tags['aws:autoscaling:groupName']).to.equal(`eks-${cluster}-bottlerocket`);
    }
    const k = all.filter((n) => lbl(n)['karpenter.sh/nodepool']);
    expect(k, 'Karpenter nodes').to.have.length(2);
    const claims = (await worldSnapshot()).nodeClaims;
    for (const n of k) {
      expect(lbl(n)).to.include({ 'karpenter.sh/nodepool': 'default', 'karpenter.k8s.aws/ec2nodeclass': 'default', 'karpenter.sh/registered': 'true', 'karpenter.sh/initialized': 'true' });
      expect(lbl(n)).to.not.have.property('eks.amazonaws.com/nodegroup');
      expect(n.status!.nodeInfo!.osImage).to.match(/^Amazon Linux 2023\./);
      const i = await instanceOf(n);
      const tags = Object.fromEntries(i.Tags!.map((t) => [t.Key, t.Value]));
      expect(tags).to.not.have.property('aws:autoscaling:groupName');
      expect(tags).to.include({ 'karpenter.sh/nodepool': 'default', 'karpenter.k8s.aws/ec2nodeclass': 'default', [`kubernetes.io/cluster/${cluster}`]: 'owned', 'eks:eks-cluster-name': cluster });
      const claim = claims.find((c) => c.instanceId === i.InstanceId);
      expect(claim, `NodeClaim of ${n.metadata!.name}`).to.not.equal(undefined);
      expect(tags['karpenter.sh/nodeclaim']).to.equal(claim!.name);
      expect([claim!.nodeName, claim!.capacityType]).to.deep.equal([n.metadata!.name, lbl(n)['karpenter.sh/capacity-type']]);
      if (lbl(n)['karpenter.sh/capacity-type'] === 'spot') {
        expect(i.InstanceLifecycle).to.equal('spot');
        expect(i.SpotInstanceRequestId).to.match(/^sir-[0-9a-f]{8}$/);
      } else {
        expect(lbl(n)['karpenter.sh/capacity-type']).to.equal('on-demand');
        expect(i.InstanceLifecycle).to.equal(undefined);
      }
    }
    expect(k.filter((n) => lbl(n)['karpenter.sh/capacity-type'] === 'spot').length).to.be.at.least(1);
    expect(claims).to.have.length(k.length);
  });

  it('runs kube-proxy (DaemonSet) with a Running, Ready pod on every node', async () => {
    const ds = await lab.kube.apps.readNamespacedDaemonSet({ name: ADDONS.kubeProxy.name, namespace: ADDONS.namespace });
    expect(ds.metadata!.labels).to.include({ 'k8s-app': 'kube-proxy', 'eks.amazonaws.com/component': 'kube-proxy' });
    expect(ds.spec!.template.spec!.hostNetwork).to.equal(true);
    // One pod per existing Node. A Node deleted by an earlier test (Auto Scaling or Karpenter replaced
    // its instance) leaves its pod behind until the PodGC controller removes orphans (a 40 s
    // quarantine, checked every 20 s, as on any cluster): such a pod is not the DaemonSet's to count.
    const pods = await eventually('a Ready kube-proxy pod on every node', 60_000, async () => {
      const all = await nodes();
      const names = new Set(all.map((n) => n.metadata!.name!));
      const ps = (await lab.kube.core.listNamespacedPod({ namespace: ADDONS.namespace, labelSelector: ADDONS.kubeProxy.selector }))
        .items.filter(live).filter((p) => names.has(p.spec!.nodeName!));
      const onEach = all.map((n) => ps.filter((p) => p.spec!.nodeName === n.metadata!.name));
      return onEach.every((mine) => mine.length === 1 && mine[0].status?.phase === 'Running' && podReady(mine[0])) ? ps : undefined;
    });
    for (const p of pods) expect(p.status!.podIP, 'hostNetwork: the node IP').to.equal(p.status!.hostIP);
  });

  it('runs CoreDNS: 2 replicas, the kube-dns ClusterIP Service on 53/UDP+TCP, a PDB with maxUnavailable 1', async () => {
    const d = await lab.kube.apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' });
    expect(d.spec!.replicas).to.equal(2);
    expect(d.status!.availableReplicas).to.equal(2);
    expect(d.metadata!.labels).to.include({ 'k8s-app': 'kube-dns', 'eks.amazonaws.com/component': 'coredns' });
    const svc = await lab.kube.core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' });
    expect(svc.spec!.type).to.equal('ClusterIP');
    expect(svc.spec!.ports!.filter((p) => p.port === 53).map((p) => p.protocol).sort()).to.deep.equal(['TCP', 'UDP']);
    const pdb = await lab.kube.kc.makeApiClient((await import('@kubernetes/client-node')).PolicyV1Api).readNamespacedPodDisruptionBudget({ name: 'coredns', namespace: 'kube-system' });
    expect(pdb.spec!.maxUnavailable).to.equal(1);
  });

  it('StopInstances on the Spot instance fails with UnsupportedOperation and stops nothing, even beside another id', async () => {
    const spotNode = (await karpenterNodes()).find((n) => lbl(n)['karpenter.sh/capacity-type'] === 'spot')!;
    const spot = await instanceOf(spotNode);
    const managed = await instanceOf((await nodes()).find((n) => lbl(n)['eks.amazonaws.com/nodegroup']?.includes('-ng-'))!);
    const err = await aws.ec2.send(new StopInstancesCommand({ InstanceIds: [managed.InstanceId!, spot.InstanceId!] })).then(() => undefined, (e: Error) => e);
    expect(err?.name).to.equal('UnsupportedOperation');
    expect(err?.message).to.equal(`You can't stop the Spot Instance '${spot.InstanceId}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`);
    expect(await errorName(aws.ec2.send(new StopInstancesCommand({ InstanceIds: [spot.InstanceId!], DryRun: true })))).to.equal('UnsupportedOperation');
    const after = await instancesById([managed.InstanceId!, spot.InstanceId!]);
    expect(after.map((i) => i.State!.Name)).to.deep.equal(['running', 'running']);
    expect(nodeReady(await lab.kube.core.readNode({ name: spotNode.metadata!.name! }))).to.equal(true);
  });

  describe('stopping a Karpenter on-demand instance: interruption handling', () => {
    const guard = 'karpenter-guard';
    const policy = async () => lab.kube.kc.makeApiClient((await import('@kubernetes/client-node')).PolicyV1Api);
    after(async () => {
      // leave the lab as found: no guard workload, the demo fully available
      await lab.kube.apps.deleteNamespacedDeployment({ name: guard, namespace: DEMO.namespace }).catch(() => {});
      await (await policy()).deleteNamespacedPodDisruptionBudget({ name: guard, namespace: DEMO.namespace }).catch(() => {});
      await eventually('demo fully available', 120_000, async () => {
        const d = await lab.kube.apps.readNamespacedDeployment({ name: DEMO.name, namespace: DEMO.namespace });
        return (d.status?.availableReplicas ?? 0) === DEMO.replicas || undefined;
      }, 500);
    });

    it('taints, drains respecting a PDB (429s retried), deletes the NodeClaim, terminates, deletes the Node and launches a Ready replacement', async () => {
      const victim = (await karpenterNodes()).find((n) => lbl(n)['karpenter.sh/capacity-type'] === 'on-demand')!;
      expect(victim, 'an on-demand Karpenter node').to.not.equal(undefined);
      const name = victim.metadata!.name!;
      const inst = await instanceOf(victim);
      const claim = (await worldSnapshot()).nodeClaims.find((c) => c.instanceId === inst.InstanceId)!;
      // A pod on the victim whose PDB allows no disruption: the drain must wait for it.
      const labels = { app: guard };
      await lab.kube.apps.createNamespacedDeployment({ namespace: DEMO.namespace, body: {
        metadata: { name: guard, labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: {
          automountServiceAccountToken: false, nodeSelector: { 'kubernetes.io/hostname': name }, containers: [{ name: 'c', image: 'public.ecr.aws/docker/library/busybox:1.36' }] } } },
      } });
      await (await policy()).createNamespacedPodDisruptionBudget({ namespace: DEMO.namespace, body: { metadata: { name: guard }, spec: { minAvailable: 1, selector: { matchLabels: labels } } } });
      await eventually('guard pod Ready on the victim and its PDB at 0 disruptions allowed', 60_000, async () => {
        const ps = (await lab.kube.core.listNamespacedPod({ namespace: DEMO.namespace, labelSelector: `app=${guard}` })).items.filter(live);
        const pdb = await (await policy()).readNamespacedPodDisruptionBudget({ name: guard, namespace: DEMO.namespace });
        return ps.some((p) => p.spec!.nodeName === name && podReady(p)) && pdb.status?.currentHealthy === 1 && pdb.status.disruptionsAllowed === 0 || undefined;
      });

      const mark = Date.now();
      const since = (event: string, pred: (e: Record<string, unknown>) => boolean = () => true) => lab.world.read().filter((e) => Date.parse(e.time) >= mark && e.event === event && pred(e));
      const ofVictim = (e: Record<string, unknown>) => e.instanceId === inst.InstanceId;
      const r = await aws.ec2.send(new StopInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
      expect(r.StoppingInstances![0].CurrentState!.Name).to.equal('stopping');

      const interruption = await eventually('karpenter.interruption', 60_000, async () => since('karpenter.interruption', ofVictim)[0], 250);
      expect(interruption).to.include({ node: name, nodeClaim: claim.name, nodePool: 'default', state: 'stopping' });
      await eventually('karpenter.node.tainted', 30_000, async () => since('karpenter.node.tainted', ofVictim)[0], 250);
      const tainted = await lab.kube.core.readNode({ name });
      expect(tainted.spec!.taints!.map((t) => `${t.key}:${t.effect}`)).to.include('karpenter.sh/disrupted:NoSchedule');
      const blocked = await eventually('guard eviction refused (429) and retried', 60_000, async () =>
        since('karpenter.eviction.blocked', (e) => ofVictim(e) && String(e.pod).startsWith(`${DEMO.namespace}/${guard}-`))[0], 250);
      expect(blocked.status).to.equal(429);
      // while the PDB holds, the drain is not done: the NodeClaim and the Node are still there
      await new Promise((res) => setTimeout(res, 3000));
      expect(since('karpenter.node.drained', ofVictim), 'not drained while the PDB blocks').to.have.length(0);
      expect((await worldSnapshot()).nodeClaims.map((c) => c.name)).to.include(claim.name);
      expect((await lab.kube.core.readNode({ name })).metadata!.name).to.equal(name);
      expect(lab.world.read().filter((e) => Date.parse(e.time) >= mark && e.event === 'karpenter.pod.evicted' && e.pod === blocked.pod), 'guard not evicted yet').to.have.length(0);

      // the PDB lifted: the eviction goes through on a retry and the flow completes
      await (await policy()).deleteNamespacedPodDisruptionBudget({ name: guard, namespace: DEMO.namespace });
      const evicted = await eventually('guard evicted', 60_000, async () => since('karpenter.pod.evicted', (e) => ofVictim(e) && e.pod === blocked.pod)[0], 250);
      expect(Number(evicted.attempts)).to.be.above(1);
      const launched = await eventually('replacement launched', 60_000, async () => since('karpenter.instance.launched', (e) => e.replaces === claim.name)[0], 250);
      const fresh = String(launched.node);
      expect(fresh).to.not.equal(name);
      expect(launched.instanceId).to.not.equal(inst.InstanceId);
      expect(launched).to.include({ nodePool: 'default', capacityType: 'on-demand', zone: lbl(victim)['topology.kubernetes.io/zone'] });
      await eventually('old instance terminated', 60_000, async () => (await instancesById([inst.InstanceId!]))[0].State!.Name === 'terminated' || undefined, 500);
      await eventually('old Node deleted', 60_000, async () => (await nodes()).every((n) => n.metadata!.name !== name) || undefined, 500);
      const node = await eventually('replacement Node Ready', 60_000, async () => {
        const n = await lab.kube.core.readNode({ name: fresh }).catch(() => undefined);
        return n && nodeReady(n) ? n : undefined;
      }, 500);
      expect(lbl(node)).to.include({ 'karpenter.sh/nodepool': 'default', 'karpenter.sh/capacity-type': 'on-demand', 'karpenter.k8s.aws/ec2nodeclass': 'default' });
      const claims = (await worldSnapshot()).nodeClaims;
      expect(claims.map((c) => c.name)).to.not.include(claim.name);
      expect(claims.find((c) => c.instanceId === launched.instanceId)?.nodeName).to.equal(fresh);
      await eventually('kube-proxy Ready on the replacement', 60_000, async () =>
        (await lab.kube.core.listNamespacedPod({ namespace: ADDONS.namespace, labelSelector: ADDONS.kubeProxy.selector })).items.some((p) => p.spec!.nodeName === fresh && podReady(p)) || undefined, 500);

      // the order of the steps, by the world log's monotonic clock
      const at = (event: string, pred: (e: Record<string, unknown>) => boolean) => BigInt(since(event, pred)[0]!.monoNs as string);
      const steps = [
        at('karpenter.interruption', ofVictim), at('karpenter.node.tainted', ofVictim), at('karpenter.eviction.blocked', ofVictim),
        at('karpenter.node.drained', ofVictim), at('karpenter.nodeclaim.deleted', (e) => e.nodeClaim === claim.name),
        at('instance.state', (e) => ofVictim(e) && e.to === 'shutting-down'), at('karpenter.instance.launched', (e) => e.replaces === claim.name),
        at('instance.state', (e) => ofVictim(e) && e.to === 'terminated'), at('node.deleted', (e) => e.node === name),
      ];
      for (let i = 1; i < steps.length; i++) expect(steps[i] >= steps[i - 1], `step ${i} after step ${i - 1}`).to.equal(true);
      // a terminated instance cannot be started again
      expect(await errorName(aws.ec2.send(new StartInstancesCommand({ InstanceIds: [inst.InstanceId!] })))).to.equal('IncorrectInstanceState');
    });
  });
});
