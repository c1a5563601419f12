import { expect } from 'chai';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { labUp } from '../../lab/cluster.js';
import { setHeartbeat } from '../../lab/heartbeat.js';
import { nodeReady } from '../../lab/kube.js';
import { DEMO } from '../../lab/manifests.js';
import { HEARTBEAT_LABEL, LAB_ZONES, OS_IMAGES, parseProviderID, RUNTIME_VERSIONS } from '../../lab/topology.js';
import { eventually, testLab, TEST_CLUSTER, TEST_LAB_DIR, type TestLab } from '../support/lab.js';
import { labPaths } from '../../lab/paths.js';

const unreachable = (n: V1Node) => (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
const live = (p: V1Pod) => !p.metadata?.deletionTimestamp;
const podReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('lab part 1: control plane and KWOK nodes', function () {
  let lab: TestLab;
  let core: TestLab['kube']['core'];
  let apps: TestLab['kube']['apps'];
  before(() => {
    lab = testLab();
    ({ core, apps } = lab.kube);
  });
  const demoPods = async () => (await core.listNamespacedPod({ namespace: DEMO.namespace, labelSelector: DEMO.selector })).items;

  it('runs the control plane built from upstream v1.36 source', async () => {
    const v = await lab.kube.kc.makeApiClient((await import('@kubernetes/client-node')).VersionApi).getCode();
    expect(v.gitVersion).to.equal('v1.36.3');
  });

  it('has 3 Ready nodes in each of 3 zones (2 AL2023 managed + Bottlerocket or Karpenter) with AWS labels and providerIDs', async () => {
    const nodes = (await core.listNode()).items;
    // 6 in the per-zone AL2023 groups, 1 Bottlerocket, 2 Karpenter (the default node kinds)
    expect(nodes).to.have.length(9);
    for (const n of nodes) {
      const labels = n.metadata?.labels ?? {};
      expect(nodeReady(n), `${n.metadata?.name} Ready`).to.equal(true);
      expect(labels['topology.kubernetes.io/region']).to.equal('us-east-1');
      expect(LAB_ZONES).to.include(labels['topology.kubernetes.io/zone']);
      expect(labels['node.kubernetes.io/instance-type']).to.equal('m5.large');
      const ids = parseProviderID(n.spec?.providerID ?? '');
      expect(ids, n.spec?.providerID).to.not.equal(undefined);
      expect(ids!.zone).to.equal(labels['topology.kubernetes.io/zone']);
      expect(n.status?.nodeInfo?.containerRuntimeVersion).to.equal(labels['eks.amazonaws.com/nodegroup']?.endsWith('-bottlerocket') ? OS_IMAGES.bottlerocket.containerd : RUNTIME_VERSIONS.containerd);
      expect(n.status?.nodeInfo?.kubeletVersion).to.equal('v1.36.3');
    }
    const perZone = LAB_ZONES.map((z) => nodes.filter((n) => n.metadata?.labels?.['topology.kubernetes.io/zone'] === z).length);
    expect(perZone).to.deep.equal([3, 3, 3]);
    const managed = nodes.filter((n) => n.metadata?.labels?.['eks.amazonaws.com/nodegroup']?.includes('-ng-us-east-1'));
    expect(LAB_ZONES.map((z) => managed.filter((n) => n.metadata?.labels?.['topology.kubernetes.io/zone'] === z).length)).to.deep.equal([2, 2, 2]);
  });

  it('runs the demo Deployment spread over the zones, with a PDB and a LoadBalancer Service', async () => {
    const d = await apps.readNamespacedDeployment({ name: DEMO.name, namespace: DEMO.namespace });
    expect(d.status?.availableReplicas).to.equal(DEMO.replicas);
    const svc = await core.readNamespacedService({ name: DEMO.name, namespace: DEMO.namespace });
    expect(svc.spec?.type).to.equal('LoadBalancer');
    const nodes = (await core.listNode()).items;
    const zoneOf = new Map(nodes.map((n) => [n.metadata!.name!, n.metadata!.labels!['topology.kubernetes.io/zone']]));
    const zones = new Set((await demoPods()).filter(live).map((p) => zoneOf.get(p.spec!.nodeName!)));
    expect(zones.size).to.equal(3);
  });

  it('lab up is idempotent: a second call reuses the running cluster', async () => {
    const r = await labUp({ clusterName: TEST_CLUSTER, nodesPerZone: 2, timing: 'fast', runtime: 'containerd' }, () => {}, labPaths(TEST_LAB_DIR));
    expect(r.reused).to.equal(true);
    expect(r.state.apiserverUrl).to.equal(lab.state.apiserverUrl);
    console.log(`      lab up on a running lab: ${r.seconds.toFixed(2)} s`);
  });

  describe('a node that stops heart-beating', function () {
    this.timeout(180_000);
    let victim = '';
    let stoppedAt = 0;
    let t: TestLab['state']['timing'];

    before(async () => {
      t = lab.state.timing;
      // The node holding the most demo pods, so eviction and replacement are exercised.
      const counts = new Map<string, number>();
      for (const p of (await demoPods()).filter(live)) counts.set(p.spec!.nodeName!, (counts.get(p.spec!.nodeName!) ?? 0) + 1);
      victim = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
      stoppedAt = Date.now();
      await setHeartbeat(lab.kube, lab.world, victim, false, 'test');
    });

    after(async () => {
      // Leave the lab as found even when a test failed half-way.
      await setHeartbeat(lab.kube, lab.world, victim, true, 'test-cleanup').catch(() => {});
    });

    it(`becomes NotReady within the grace period plus slack and is tainted unreachable:NoExecute`, async () => {
      const limitMs = (t.nodeMonitorGracePeriodSeconds + t.nodeLeaseDurationSeconds / 4 + t.nodeMonitorPeriodSeconds + 4) * 1000;
      const n = await eventually('victim NotReady and tainted', limitMs + 5000, async () => {
        const n = await core.readNode({ name: victim });
        return !nodeReady(n) && unreachable(n) ? n : undefined;
      });
      const took = Date.now() - stoppedAt;
      console.log(`      NotReady + tainted after ${(took / 1000).toFixed(1)} s (grace ${t.nodeMonitorGracePeriodSeconds} s, limit ${(limitMs / 1000).toFixed(1)} s)`);
      expect(took).to.be.below(limitMs);
      // the grace period counts from the last lease renewal, which is up to a quarter lease before the stop
      expect(took, 'not before the grace period').to.be.above((t.nodeMonitorGracePeriodSeconds - t.nodeLeaseDurationSeconds / 4 - 1) * 1000);
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status).to.equal('Unknown');
    });

    it('has its pods evicted and replaced on other nodes until the Deployment is fully available again', async () => {
      await eventually('replacement pods Ready elsewhere', (t.tolerationSeconds + 60) * 1000, async () => {
        const pods = (await demoPods()).filter(live);
        const ok = pods.length === DEMO.replicas && pods.every((p) => p.spec?.nodeName !== victim && podReady(p));
        if (!ok) return undefined;
        const d = await apps.readNamespacedDeployment({ name: DEMO.name, namespace: DEMO.namespace });
        return (d.status?.availableReplicas ?? 0) === DEMO.replicas || undefined;
      });
      // The evicted pods stay Terminating on the dead node (no kubelet confirms their end) and do not count.
      const stuck = (await demoPods()).filter((p) => p.spec?.nodeName === victim);
      expect(stuck.every((p) => !live(p))).to.equal(true);
    });

    it('is Ready and untainted again after resuming, and the world log records both changes', async () => {
      await setHeartbeat(lab.kube, lab.world, victim, true, 'test');
      await eventually('victim Ready and untainted', 30_000, async () => {
        const n = await core.readNode({ name: victim });
        return nodeReady(n) && !(n.spec?.taints ?? []).length && n.metadata?.labels?.[HEARTBEAT_LABEL] === 'on' ? n : undefined;
      });
      // KWOK manages the node again, so it also finishes the deletions left Terminating there.
      await eventually('Terminating pods on the victim removed', 30_000, async () => (await demoPods()).every((p) => p.spec?.nodeName !== victim || live(p)) || undefined);
      const events = lab.world.read().filter((e) => e.node === victim);
      const stopped = events.findLast((e) => e.event === 'node.heartbeat.stopped');
      const resumed = events.findLast((e) => e.event === 'node.heartbeat.resumed');
      expect(stopped, 'stopped event').to.not.equal(undefined);
      expect(resumed, 'resumed event').to.not.equal(undefined);
      expect(BigInt(resumed!.monoNs) > BigInt(stopped!.monoNs)).to.equal(true);
      expect(Date.parse(stopped!.time)).to.be.within(stoppedAt - 1000, stoppedAt + 5000);
    });
  });
});
