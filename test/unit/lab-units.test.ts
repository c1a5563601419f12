// Pure parts of the lab, table-tested: topology, node objects, ACL evaluation, Query parsing.
import { expect } from 'chai';
import { checkNodeKinds, DEFAULT_NODE_KINDS, initialNodes, LAB_ZONES, nodeSpec, parseProviderID, RUNTIME_VERSIONS } from '../../lab/topology.js';
import { addonObjects, nodeObject } from '../../lab/manifests.js';
import { aclAllows, cidrContains, World, worldTimings, type NetworkAcl } from '../../lab/aws/model.js';
import { ec2Handlers } from '../../lab/aws/ec2.js';
import { asgHandlers } from '../../lab/aws/autoscaling.js';
import { AwsError, ec2Filters, listParam, parseQuery, xml } from '../../lab/aws/wire.js';
import { parseTiming, TIMINGS } from '../../lab/timing.js';
import { evictable, evictionBackoffMs } from '../../lab/karpenter.js';

describe('lab units', () => {
  it('lays out N nodes per zone with providerIDs that round-trip', () => {
    const nodes = initialNodes('c', 3);
    expect(nodes).to.have.length(9);
    expect(new Set(nodes.map((n) => n.instanceId)).size).to.equal(9);
    for (const n of nodes) expect(parseProviderID(n.providerID)).to.deep.equal({ zone: n.zone, instanceId: n.instanceId });
    expect(nodeSpec('c', 1, 0).name).to.equal('ip-10-0-2-10.ec2.internal');
    expect(() => initialNodes('c', 0)).to.throw(/--nodes-per-zone/);
    expect(parseProviderID('gce://p/z/n')).to.equal(undefined);
  });

  it('nodes report the runtime chosen with --runtime', () => {
    for (const rt of ['containerd', 'docker'] as const) {
      expect(nodeObject(nodeSpec('c', 0, 0, rt)).status!.nodeInfo!.containerRuntimeVersion).to.equal(RUNTIME_VERSIONS[rt]);
    }
    expect(RUNTIME_VERSIONS.docker).to.match(/^docker:\/\//);
  });

  it('evaluates network ACL rules lowest number first, * denies', () => {
    const acl: NetworkAcl = { id: 'acl-1', vpcId: 'v', isDefault: false, associations: new Map(), entries: [
      { ruleNumber: 200, protocol: '-1', ruleAction: 'allow', egress: false, cidrBlock: '0.0.0.0/0' },
      { ruleNumber: 100, protocol: '6', ruleAction: 'deny', egress: false, cidrBlock: '10.0.0.0/8', portRange: { from: 443, to: 443 } },
    ] };
    const table: Array<[boolean, 'tcp' | 'udp', number, string, boolean]> = [
      [false, 'tcp', 443, '10.1.2.3', false], // rule 100 denies
      [false, 'tcp', 80, '10.1.2.3', true], // falls to 200
      [false, 'udp', 443, '10.1.2.3', true], // protocol mismatch on 100
      [true, 'tcp', 443, '8.8.8.8', false], // no egress rule: *
    ];
    for (const [egress, proto, port, ip, want] of table) expect(aclAllows(acl, egress, proto, port, ip), `${egress} ${proto} ${port} ${ip}`).to.equal(want);
    expect(cidrContains('10.0.1.0/24', '10.0.1.255')).to.equal(true);
    expect(cidrContains('10.0.1.0/24', '10.0.2.0')).to.equal(false);
    expect(cidrContains('0.0.0.0/0', '1.2.3.4')).to.equal(true);
  });

  it('parses Query lists and filters, and writes EC2 XML lists as items', () => {
    const p = parseQuery('Action=X&InstanceId.2=b&InstanceId.1=a&Filter.1.Name=tag%3AName&Filter.1.Value.1=x&Filter.1.Value.2=y');
    expect(listParam(p, 'InstanceId')).to.deep.equal(['a', 'b']);
    expect(ec2Filters(p)).to.deep.equal([{ name: 'tag:Name', values: ['x', 'y'] }]);
    expect(xml({ set: [{ a: 1 }, { a: '<&>' }] }, 'item')).to.equal('<set><item><a>1</a></item><item><a>&lt;&amp;&gt;</a></item></set>');
  });

  it('refuses unknown timing profiles', () => {
    expect(parseTiming('upstream').tolerationSeconds).to.equal(300);
    expect(() => parseTiming('slow')).to.throw('--timing must be "fast" or "upstream", got "slow"');
  });

  describe('EKS node kinds', () => {
    const nodes = initialNodes('c', 2, 'containerd', DEFAULT_NODE_KINDS);
    const byKind = (f: (n: (typeof nodes)[number]) => boolean) => nodes.filter(f);

    it('the default layout: 6 AL2023 managed, 1 Bottlerocket, 2 Karpenter (1 Spot), 3 per zone, no id or address twice', () => {
      expect(nodes).to.have.length(9);
      expect(byKind((n) => n.provisioner === 'managed' && n.os === 'al2023')).to.have.length(6);
      expect(byKind((n) => n.os === 'bottlerocket').map((n) => [n.zone, n.privateIp, n.nodeGroup])).to.deep.equal([['us-east-1c', '10.0.3.150', 'c-bottlerocket']]);
      const k = byKind((n) => n.provisioner === 'karpenter');
      expect(k.map((n) => [n.zone, n.privateIp, n.capacityType, n.nodePool, n.nodeGroup])).to.deep.equal([
        ['us-east-1a', '10.0.1.170', 'spot', 'default', undefined], ['us-east-1b', '10.0.2.171', 'on-demand', 'default', undefined]]);
      for (const n of k) expect(n.nodeClaim).to.match(/^default-[a-z0-9]{5}$/);
      expect(LAB_ZONES.map((z) => nodes.filter((n) => n.zone === z).length)).to.deep.equal([3, 3, 3]);
      for (const key of ['instanceId', 'privateIp', 'name', 'podCIDR'] as const) expect(new Set(nodes.map((n) => n[key])).size, key).to.equal(9);
      // deterministic
      expect(initialNodes('c', 2, 'containerd', DEFAULT_NODE_KINDS)).to.deep.equal(nodes);
      // the managed scheme stays below the Bottlerocket block, replacements included
      expect(() => nodeSpec('c', 0, 140)).to.throw(/out of range/);
      expect(nodeSpec('c', 0, 139).privateIp).to.equal('10.0.1.149');
    });

    it('checks the kind counts (--bottlerocket-nodes 0..3, --karpenter-nodes 0..6, at least one Spot)', () => {
      expect(checkNodeKinds({ nodesPerZone: 1 })).to.include({ bottlerocketNodes: 1, karpenterNodes: 2, karpenterSpot: 1 });
      expect(checkNodeKinds({ nodesPerZone: 1, karpenterNodes: 0 })).to.include({ karpenterSpot: 0 });
      expect(() => checkNodeKinds({ nodesPerZone: 1, bottlerocketNodes: 4 })).to.throw(/--bottlerocket-nodes/);
      expect(() => checkNodeKinds({ nodesPerZone: 1, karpenterNodes: 7 })).to.throw(/--karpenter-nodes/);
      expect(() => checkNodeKinds({ nodesPerZone: 1, karpenterNodes: 2, karpenterSpot: 0 })).to.throw(/at least 1/);
      expect(() => checkNodeKinds({ nodesPerZone: 1, karpenterNodes: 2, karpenterSpot: 3 })).to.throw(/--karpenter-spot/);
    });

    it('labels and nodeInfo per kind', () => {
      const labels = (n: (typeof nodes)[number]) => nodeObject(n).metadata!.labels!;
      const info = (n: (typeof nodes)[number]) => nodeObject(n).status!.nodeInfo!;
      const al = nodes[0];
      expect(labels(al)).to.include({ 'eks.amazonaws.com/nodegroup': 'c-ng-us-east-1a', 'eks.amazonaws.com/capacityType': 'ON_DEMAND' });
      expect(info(al).osImage).to.match(/^Amazon Linux 2023\./);
      const br = nodes.find((n) => n.os === 'bottlerocket')!;
      expect(labels(br)).to.include({ 'eks.amazonaws.com/nodegroup': 'c-bottlerocket', 'eks.amazonaws.com/capacityType': 'ON_DEMAND' });
      expect(info(br).osImage).to.match(/^Bottlerocket OS 1\.\d+\.\d+ \(aws-k8s-1\.36\)$/);
      expect(info(br).kernelVersion).to.match(/^\d+\.\d+\.\d+$/);
      expect(info(br).containerRuntimeVersion).to.match(/^containerd:\/\/2\.\d+\.\d+\+bottlerocket$/);
      for (const k of nodes.filter((n) => n.provisioner === 'karpenter')) {
        expect(labels(k)).to.include({ 'karpenter.sh/nodepool': 'default', 'karpenter.sh/capacity-type': k.capacityType, 'karpenter.k8s.aws/ec2nodeclass': 'default', 'karpenter.sh/registered': 'true', 'karpenter.sh/initialized': 'true' });
        expect(labels(k)).to.not.have.property('eks.amazonaws.com/nodegroup');
        expect(info(k).osImage).to.match(/^Amazon Linux 2023\./);
      }
    });

    it('the add-ons: coredns 2 replicas + PDB maxUnavailable 1 + kube-dns Service; kube-proxy DaemonSet on every node', () => {
      const objs = addonObjects() as Array<{ kind: string; metadata: { name: string; namespace: string; labels?: Record<string, string> }; spec: any }>;
      const get = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;
      const dns = get('Deployment', 'coredns');
      expect(dns.spec.replicas).to.equal(2);
      expect(dns.metadata.labels).to.include({ 'k8s-app': 'kube-dns', 'eks.amazonaws.com/component': 'coredns' });
      expect(get('PodDisruptionBudget', 'coredns').spec.maxUnavailable).to.equal(1);
      const svc = get('Service', 'kube-dns');
      expect(svc.spec.type).to.equal('ClusterIP');
      expect(svc.spec.ports.filter((p: { port: number }) => p.port === 53).map((p: { protocol: string }) => p.protocol).sort()).to.deep.equal(['TCP', 'UDP']);
      const kp = get('DaemonSet', 'kube-proxy');
      expect(kp.metadata.labels).to.include({ 'k8s-app': 'kube-proxy', 'eks.amazonaws.com/component': 'kube-proxy' });
      expect(kp.spec.updateStrategy).to.deep.equal({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } });
      expect(kp.spec.template.spec).to.include({ hostNetwork: true, priorityClassName: 'system-node-critical' });
      expect(kp.spec.template.spec.tolerations).to.deep.equal([{ operator: 'Exists' }]);
      expect(kp.spec.template.spec.containers[0].image).to.match(/^602401143452\.dkr\.ecr\.us-east-1\.amazonaws\.com\/eks\/kube-proxy:v1\.36\.\d+-eksbuild\.1$/);
    });

    it('EC2: Spot instances report InstanceLifecycle=spot; StopInstances refuses them (whole call, dry run too); no ASG for Karpenter', () => {
      const events: string[] = [];
      const w = new World('c', 'containerd', worldTimings(TIMINGS.fast), (e) => events.push(e), nodes);
      const ec2 = ec2Handlers(new Set());
      const spot = nodes.find((n) => n.capacityType === 'spot')!;
      const od = nodes.find((n) => n.provisioner === 'karpenter' && n.capacityType === 'on-demand')!;
      const desc = JSON.stringify(ec2.DescribeInstances(w, parseQuery(`InstanceId.1=${spot.instanceId}&InstanceId.2=${od.instanceId}`)));
      expect(desc).to.match(/"instanceLifecycle":"spot","spotInstanceRequestId":"sir-[0-9a-f]{8}"/);
      expect(desc.match(/instanceLifecycle/g)).to.have.length(1);
      const tags = Object.fromEntries(w.tagsOf(spot.instanceId).map((t) => [t.key, t.value]));
      expect(tags).to.include({ 'karpenter.sh/nodepool': 'default', 'karpenter.sh/nodeclaim': spot.nodeClaim, 'karpenter.k8s.aws/ec2nodeclass': 'default', 'kubernetes.io/cluster/c': 'owned', 'eks:eks-cluster-name': 'c' });
      expect(tags).to.not.have.property('aws:autoscaling:groupName');
      const stop = (q: string) => { try { ec2.StopInstances(w, parseQuery(q)); return 'ok'; } catch (e) { return `${(e as AwsError).code}: ${(e as Error).message}`; } };
      expect(stop(`InstanceId.1=${od.instanceId}&InstanceId.2=${spot.instanceId}`)).to.equal(`UnsupportedOperation: You can't stop the Spot Instance '${spot.instanceId}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`);
      expect(stop(`InstanceId.1=${spot.instanceId}&DryRun=true`)).to.match(/^UnsupportedOperation/);
      expect(stop(`InstanceId.1=${od.instanceId}&DryRun=true`)).to.match(/^DryRunOperation/);
      expect([...w.instances.values()].every((i) => i.state === 'running')).to.equal(true);
      expect(events).to.not.include('instance.state');
      expect(w.nodeClaims.size).to.equal(2);
      const groups = (asgHandlers.DescribeAutoScalingGroups!(w, parseQuery('')) as { AutoScalingGroups: Array<{ AutoScalingGroupName: string; AvailabilityZones: string[]; Instances: unknown[] }> }).AutoScalingGroups;
      expect(groups.map((g) => [g.AutoScalingGroupName, g.AvailabilityZones.length, g.Instances.length])).to.deep.equal([
        ['eks-c-ng-us-east-1a', 1, 2], ['eks-c-ng-us-east-1b', 1, 2], ['eks-c-ng-us-east-1c', 1, 2], ['eks-c-bottlerocket', 3, 1]]);
      const asgInsts = (asgHandlers.DescribeAutoScalingInstances!(w, parseQuery('')) as { AutoScalingInstances: unknown[] }).AutoScalingInstances;
      expect(asgInsts).to.have.length(7);
      // a terminated instance cannot be started again
      const i = w.instances.get(od.instanceId)!;
      i.state = 'terminated';
      expect(() => ec2.StartInstances(w, parseQuery(`InstanceId.1=${od.instanceId}`))).to.throw(/not in a state from which it can be started/);
    });

    it("Karpenter's drain skips pods tolerating the disrupted taint, mirror and terminating pods; backoff doubles to its cap", () => {
      const pod = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({ metadata: { name: 'p', ...meta }, spec: { containers: [], ...spec }, status: { phase: 'Running' } });
      expect(evictable(pod())).to.equal(true);
      expect(evictable(pod({ tolerations: [{ operator: 'Exists' }] }))).to.equal(false);
      expect(evictable(pod({ tolerations: [{ key: 'karpenter.sh/disrupted', operator: 'Exists', effect: 'NoSchedule' }] }))).to.equal(false);
      expect(evictable(pod({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] }))).to.equal(true);
      expect(evictable(pod({}, { annotations: { 'kubernetes.io/config.mirror': 'x' } }))).to.equal(false);
      expect(evictable(pod({}, { deletionTimestamp: new Date() }))).to.equal(false);
      expect([1, 2, 3, 4, 10].map((a) => evictionBackoffMs(a, 100, 1000))).to.deep.equal([100, 200, 400, 800, 1000]);
    });
  });
});
