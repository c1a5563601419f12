// The AZ black-hole's ENI attribution and refusals, with fake AWS and Kubernetes adapters (no lab): which
// subnets scope nodes takes (every ENI of the zone's nodes, ENIConfig subnets), how each ENI is
// attributed (node, NLB of a Service, NAT gateway, VPC endpoint service, EKS control plane, unknown),
// what is refused with exit 2 unless allowed, and the cluster tag scope zone requires.
import { expect } from 'chai';
import type { Aws, EniInfo, SubnetInfo } from '../../harness/aws/index.js';
import { ExitCode, HarnessError } from '../../harness/exit-codes.js';
import { faults, Limits, type FaultContext } from '../../harness/faults/index.js';
import { classifyEni, elbName, loadBalancersByName, refused, type Attribution } from '../../harness/faults/enis.js';
import type { AzBlackholeResources } from '../../harness/faults/az-blackhole.js';
import type { Kube, V1Node } from '../../harness/k8s/index.js';

const CLUSTER = 'prod';
const node = (name: string, zone: string, id: string): V1Node => ({
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, 'kubernetes.io/hostname': name } },
  spec: { providerID: `aws:///${zone}/${id}` },
  status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { containerRuntimeVersion: 'containerd://1.7', osImage: 'Amazon Linux 2023' } as never },
});
const NODES = [node('b1', 'us-east-1b', 'i-0b1'), node('b2', 'us-east-1b', 'i-0b2'), node('c1', 'us-east-1c', 'i-0c1'), node('c2', 'us-east-1c', 'i-0c2')];

const eni = (id: string, subnetId: string, over: Partial<EniInfo>): EniInfo => ({
  id, subnetId, zone: 'us-east-1b', vpcId: 'vpc-1', interfaceType: 'interface', description: '', privateIp: '10.0.2.9', requesterManaged: false, status: 'in-use', tags: {}, ...over,
});
const nodeEnis = (inst: string, subnet: string, cniSubnet = subnet): EniInfo[] => [
  eni(`eni-${inst}-0`, subnet, { instanceId: inst, deviceIndex: 0 }),
  eni(`eni-${inst}-1`, cniSubnet, { instanceId: inst, deviceIndex: 1, description: `aws-K8S-${inst}`, tags: { 'node.k8s.amazonaws.com/instance_id': inst, 'cluster.k8s.amazonaws.com/name': CLUSTER } }),
];
const NLB = eni('eni-nlb', 'subnet-pub', { interfaceType: 'network_load_balancer', description: 'ELB net/k8s-default-demo-0123456789/0a1b2c3d4e5f6789', requesterManaged: true, publicIp: '3.3.3.3' });
const NAT = eni('eni-nat', 'subnet-pub', { interfaceType: 'natGateway', description: 'Interface for NAT Gateway nat-0abc', requesterManaged: true });
const SSM = eni('eni-ssm', 'subnet-b', { interfaceType: 'vpc_endpoint', description: 'VPC Endpoint Interface vpce-0aa', requesterManaged: true });
const EKS = eni('eni-eks', 'subnet-b', { description: `Amazon EKS ${CLUSTER}`, requesterId: '589012345678', instanceOwnerId: '589012345678' });

interface World { enis: EniInfo[]; subnets: SubnetInfo[]; eniConfigs?: Array<{ name: string; subnet: string }> | Error; hostnames?: Array<{ service: string; hostname: string }> }

function fakes(w: World) {
  const calls: string[] = [];
  const aws = {
    describeInstances: async (ids: string[]) => ids.map((id) => {
      const n = NODES.find((x) => x.spec!.providerID!.endsWith(id))!;
      const zone = n.metadata!.labels!['topology.kubernetes.io/zone'];
      return { id, state: 'running', zone, subnetId: zone === 'us-east-1b' ? 'subnet-b' : 'subnet-c', vpcId: 'vpc-1', tags: { [`kubernetes.io/cluster/${CLUSTER}`]: 'owned' } };
    }),
    describeNetworkInterfaces: async (f: Record<string, string[]>) => {
      calls.push(`enis ${Object.keys(f).join(',')}`);
      return w.enis.filter((e) => (!f['subnet-id'] || f['subnet-id'].includes(e.subnetId)) && (!f['attachment.instance-id'] || f['attachment.instance-id'].includes(e.instanceId ?? '')));
    },
    describeSubnets: async (f: Record<string, string[]>) => w.subnets.filter((s) => (!f['subnet-id'] || f['subnet-id'].includes(s.id)) && (!f['availability-zone'] || f['availability-zone'].includes(s.zone))),
    vpcEndpointServices: async (ids: string[]) => new Map(ids.map((id) => [id, `com.amazonaws.us-east-1.ssm`])),
    describeNetworkAcls: async (f: Record<string, string[]>) => (f['association.subnet-id'] ?? []).map((s, i) => ({ id: 'acl-orig', vpcId: 'vpc-1', isDefault: true, associations: [{ id: `aclassoc-${i}`, subnetId: s }], tags: {} })),
    vpcHasIpv6: async () => false,
  } as unknown as Aws;
  const kube = {
    nodes: async () => NODES, pods: async () => [],
    eniConfigs: async () => { if (w.eniConfigs instanceof Error) throw w.eniConfigs; return w.eniConfigs ?? []; },
    loadBalancerHostnames: async () => w.hostnames ?? [],
  } as unknown as Kube;
  const ctx = { aws, kube, guard: { cluster: CLUSTER, region: 'us-east-1', accounts: [] }, limits: Limits.parse({}), seed: 1, runId: 'chaos-t', expiresAt: '', log: () => {}, unknownSelfZone: 'allow' } as unknown as FaultContext;
  return { ctx, calls };
}

const tagged = { [`kubernetes.io/cluster/${CLUSTER}`]: 'shared' };
const SUBNETS: SubnetInfo[] = [
  { id: 'subnet-b', vpcId: 'vpc-1', zone: 'us-east-1b', tags: { ...tagged, Name: 'nodes-b' } },
  { id: 'subnet-b-pods', vpcId: 'vpc-1', zone: 'us-east-1b', tags: tagged },
  { id: 'subnet-pub', vpcId: 'vpc-1', zone: 'us-east-1b', tags: tagged },
  { id: 'subnet-c', vpcId: 'vpc-1', zone: 'us-east-1c', tags: tagged },
];
const kind = faults.get('az-blackhole')!;
const plan = async (ctx: FaultContext, spec: Record<string, unknown>) =>
  kind.plan(ctx, kind.schema.parse({ kind: 'az-blackhole', zone: 'us-east-1b', duration: '1m', ...spec })) as Promise<{ summary: string; lines: string[]; resources: AzBlackholeResources }>;
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: HarnessError) => e);

describe('az-blackhole ENI attribution and refusals (fake adapters)', () => {
  it('scope nodes: the subnets of every ENI of the zone\'s nodes, not only their primary subnet', async () => {
    const { ctx, calls } = fakes({ enis: [...nodeEnis('i-0b1', 'subnet-b', 'subnet-b-pods'), ...nodeEnis('i-0b2', 'subnet-b'), ...nodeEnis('i-0c1', 'subnet-c'), SSM, EKS], subnets: SUBNETS });
    const p = await plan(ctx, {});
    expect(p.resources.subnets.map((s) => s.subnetId)).to.deep.equal(['subnet-b', 'subnet-b-pods']);
    expect(calls[0]).to.equal('enis attachment.instance-id');
    expect(p.lines.join('\n')).to.contain('swap subnet subnet-b-pods from acl-orig (association aclassoc-1) to it — VPC CNI ENIs of the nodes; it holds 1 ENI(s):');
    // every ENI in them, by kind and owner
    expect(p.resources.enis!.map((x) => [x.id, x.kind, x.owner])).to.deep.equal([
      ['eni-i-0b1-0', 'node', 'b1 (i-0b1)'], ['eni-i-0b2-0', 'node', 'b2 (i-0b2)'], ['eni-i-0b2-1', 'node', 'b2 (i-0b2)'],
      ['eni-ssm', 'vpcEndpoint', 'com.amazonaws.us-east-1.ssm'], ['eni-eks', 'eksControlPlane', CLUSTER], ['eni-i-0b1-1', 'node', 'b1 (i-0b1)'],
    ]);
    expect(p.resources.collateral).to.deep.equal(['VPC endpoint com.amazonaws.us-east-1.ssm (eni-ssm in subnet-b)', `EKS control plane ${CLUSTER} (eni-eks in subnet-b)`]);
    expect(p.summary).to.equal('black-hole 2 subnet(s) of us-east-1b for 1m (6 ENIs: 4 node, 1 VPC endpoint, 1 EKS control plane; collateral a zone loss has too: VPC endpoint ssm (1 ENI); EKS control plane prod (1 ENI))');
  });

  it('scope nodes: an ENIConfig\'s subnet in the zone joins; one in another zone does not; no CRD = none', async () => {
    const w: World = { enis: [...nodeEnis('i-0b1', 'subnet-b'), ...nodeEnis('i-0b2', 'subnet-b')], subnets: SUBNETS, eniConfigs: [{ name: 'us-east-1b', subnet: 'subnet-b-pods' }, { name: 'us-east-1c', subnet: 'subnet-c' }] };
    const p = await plan(fakes(w).ctx, {});
    expect(p.resources.subnets.map((s) => s.subnetId)).to.deep.equal(['subnet-b', 'subnet-b-pods']);
    expect(p.lines.join('\n')).to.contain('VPC CNI custom networking (ENIConfig us-east-1b)');
    w.eniConfigs = [];
    expect((await plan(fakes(w).ctx, {})).resources.subnets.map((s) => s.subnetId)).to.deep.equal(['subnet-b']);
    w.eniConfigs = Object.assign(new Error('forbidden'), { code: 403 });
    const err = await failure(plan(fakes(w).ctx, {}));
    expect(err.exitCode).to.equal(ExitCode.Invalid);
    expect(err.message).to.contain('cannot list the VPC CNI\'s ENIConfigs');
  });

  it('a NAT gateway in scope exits 2 naming the subnet and the allow value; allow: [natGateway] accepts it', async () => {
    const w: World = { enis: [...nodeEnis('i-0b1', 'subnet-b'), ...nodeEnis('i-0b2', 'subnet-b'), NAT, NLB], subnets: SUBNETS, hostnames: [{ service: 'default/demo', hostname: 'k8s-default-demo-0123456789-0a1b2c3d4e5f6789.elb.us-east-1.amazonaws.com' }] };
    const err = await failure(plan(fakes(w).ctx, { scope: 'zone' }));
    expect(err).to.be.instanceOf(HarnessError);
    expect(err.exitCode).to.equal(ExitCode.Invalid);
    expect(err.message).to.equal("az-blackhole: refusing to black-hole subnet-pub of us-east-1b: a NAT gateway (allow: 'natGateway' permits it)");
    expect(err.details.join('\n')).to.contain("allow with `allow: ['natGateway']` (--allow natGateway)").and.contain('subnet subnet-pub: eni-nat nat-0abc: the NAT gateway');
    const p = await plan(fakes(w).ctx, { scope: 'zone', allow: ['natGateway'] });
    expect(p.resources.subnets.map((s) => s.subnetId)).to.deep.equal(['subnet-b', 'subnet-b-pods', 'subnet-pub']);
    expect(p.resources.enis!.filter((x) => x.subnetId === 'subnet-pub').map((x) => [x.kind, x.owner])).to.deep.equal([['nlb', 'k8s-default-demo-0123456789'], ['natGateway', 'nat-0abc']]);
    expect(p.resources.allowed).to.deep.equal(['natGateway']);
    // scope nodes never reaches the public subnet: nothing to refuse
    expect((await plan(fakes(w).ctx, {})).resources.subnets.map((s) => s.subnetId)).to.deep.equal(['subnet-b']);
  });

  it('ENIs it cannot attribute (a foreign instance, another cluster\'s control plane, an NLB of no Service) exit 2 unless allow: [unknown]', async () => {
    const foreign = eni('eni-bastion', 'subnet-b', { instanceId: 'i-0bastion', deviceIndex: 0 });
    const otherEks = eni('eni-eks2', 'subnet-b', { description: 'Amazon EKS other' });
    const w: World = { enis: [...nodeEnis('i-0b1', 'subnet-b'), ...nodeEnis('i-0b2', 'subnet-b'), foreign, otherEks, { ...NLB, subnetId: 'subnet-b' }], subnets: SUBNETS, hostnames: [] };
    const err = await failure(plan(fakes(w).ctx, {}));
    expect(err.exitCode).to.equal(ExitCode.Invalid);
    expect(err.message).to.equal("az-blackhole: refusing to black-hole subnet-b of us-east-1b: ENIs not attributable to the cluster (allow: 'unknown' permits it)");
    const d = err.details.join('\n');
    expect(d).to.contain(`ENIs the harness cannot attribute to cluster ${CLUSTER} — allow with \`allow: ['unknown']\` (--allow unknown)`);
    expect(d).to.contain(`eni-bastion i-0bastion: interface, attached to i-0bastion, not a node of cluster ${CLUSTER}`);
    expect(d).to.contain('eni-eks2').and.contain('"Amazon EKS other"');
    expect(d).to.contain('not the load balancer of a LoadBalancer Service of this cluster');
    // both refused kinds at once: one message naming both allow values
    const both = await failure(plan(fakes({ ...w, enis: [...w.enis, { ...NAT, subnetId: 'subnet-b' }] }).ctx, {}));
    expect(both.message).to.contain("allow: 'natGateway', 'unknown' permits it");
    const p = await plan(fakes(w).ctx, { allow: ['unknown'] });
    expect(p.resources.enis!.filter((x) => x.kind === 'unknown').map((x) => x.id).sort()).to.deep.equal(['eni-bastion', 'eni-eks2', 'eni-nlb']);
  });

  it('scope zone requires the cluster tag on every subnet it touches', async () => {
    const w: World = { enis: [...nodeEnis('i-0b1', 'subnet-b'), ...nodeEnis('i-0b2', 'subnet-b')], subnets: SUBNETS.map((s) => (s.id === 'subnet-b-pods' ? { ...s, tags: { Name: 'pods-b', [`kubernetes.io/cluster/${CLUSTER}`]: 'nope' } } : s)) };
    const err = await failure(plan(fakes(w).ctx, { scope: 'zone' }));
    expect(err.exitCode).to.equal(ExitCode.Invalid);
    expect(err.message).to.equal(`az-blackhole: scope zone would black-hole 1 subnet(s) of us-east-1b without the cluster tag kubernetes.io/cluster/${CLUSTER} (owned or shared): subnet-b-pods`);
    expect(err.details[0]).to.equal(`subnet-b-pods (pods-b): no kubernetes.io/cluster/${CLUSTER}`);
    expect((await plan(fakes({ ...w, subnets: SUBNETS }).ctx, { scope: 'zone' })).resources.subnets).to.have.length(3);
  });

  it('classifies by EC2\'s fields: NLB by Service hostname, detached VPC CNI ENIs by their cluster tag, trunk ENIs', () => {
    const a: Attribution = { cluster: CLUSTER, nodes: new Map([['i-0b1', 'b1']]), loadBalancers: loadBalancersByName([{ service: 'shop/web', hostname: 'k8s-shop-web-abcdef0123-0123456789abcdef.elb.us-east-1.amazonaws.com' }]), endpointServices: new Map() };
    expect(elbName('ELB net/k8s-shop-web-abcdef0123/0123456789abcdef')).to.equal('k8s-shop-web-abcdef0123');
    expect(elbName('ELB app/k8s-shop-alb/0123')).to.equal('k8s-shop-alb');
    expect(elbName('something else')).to.equal(undefined);
    const web = classifyEni(eni('e1', 's', { interfaceType: 'network_load_balancer', description: 'ELB net/k8s-shop-web-abcdef0123/0123456789abcdef' }), a);
    expect([web.kind, web.owner, web.detail]).to.deep.equal(['nlb', 'k8s-shop-web-abcdef0123', 'the load balancer of Service shop/web: its node in this zone']);
    const noServices = classifyEni(eni('e1', 's', { interfaceType: 'network_load_balancer', description: 'ELB net/k8s-shop-web-abcdef0123/01' }), { ...a, loadBalancers: undefined });
    expect([noServices.kind, noServices.detail]).to.deep.equal(['unknown', 'network_load_balancer "ELB net/k8s-shop-web-abcdef0123/01": the cluster\'s Services could not be read to tell whose load balancer it is']);
    const warm = classifyEni(eni('e2', 's', { status: 'available', description: 'aws-K8S-i-0dead', tags: { 'cluster.k8s.amazonaws.com/name': CLUSTER, 'node.k8s.amazonaws.com/instance_id': 'i-0dead' } }), a);
    expect([warm.kind, warm.owner]).to.deep.equal(['node', 'VPC CNI of i-0dead']);
    const otherCluster = classifyEni(eni('e3', 's', { status: 'available', description: 'aws-K8S-i-0x', tags: { 'cluster.k8s.amazonaws.com/name': 'other' } }), a);
    expect(otherCluster.kind).to.equal('unknown');
    const trunk = classifyEni(eni('e4', 's', { interfaceType: 'trunk', instanceId: 'i-0b1', deviceIndex: 2 }), a);
    expect([trunk.kind, trunk.detail]).to.deep.equal(['node', 'trunk ENI (security groups for pods)']);
    // an older endpoint ENI reports InterfaceType interface; its description still names it
    const oldVpce = classifyEni(eni('e5', 's', { description: 'VPC Endpoint Interface: vpce-0f00567fa8477a1e6' }), a);
    expect([oldVpce.kind, oldVpce.collateral]).to.deep.equal(['vpcEndpoint', true]);
    expect([...refused([web, warm, trunk, oldVpce], [])]).to.deep.equal([]);
    expect([...refused([noServices], ['unknown'])]).to.deep.equal([]);
    expect([...refused([noServices], ['natGateway'])].map(([k, xs]) => [k, xs.length])).to.deep.equal([['unknown', 1]]);
  });

  it('allow takes only the refusable kinds', () => {
    expect(kind.schema.safeParse({ kind: 'az-blackhole', zone: 'us-east-1b', duration: '1m', allow: ['natGateway', 'unknown'] }).success).to.equal(true);
    expect(kind.schema.safeParse({ kind: 'az-blackhole', zone: 'us-east-1b', duration: '1m', allow: ['vpcEndpoint'] }).success).to.equal(false);
  });
});
