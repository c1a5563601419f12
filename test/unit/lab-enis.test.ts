// The lab's EC2 DescribeNetworkInterfaces / DescribeVpcEndpoints through the real SDK client, against the
// lab's AWS endpoint run in-process on 127.0.0.1 (no lab cluster): every InterfaceType the lab models,
// every filter the harness and the address lookup use, ids, and pagination as EC2 does it.
import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, EC2Client, type Filter, type NetworkInterface } from '@aws-sdk/client-ec2';
import { createAwsEndpoint } from '../../lab/aws/server.js';
import { hexId, World, worldTimings, type LabLoadBalancer } from '../../lab/aws/model.js';
import type { Ssm } from '../../lab/aws/ssm.js';
import { initialNodes, LAB_ZONES } from '../../lab/topology.js';
import { TIMINGS } from '../../lab/timing.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const CLUSTER = 'c';

/** An NLB entry as H1's data plane makes them (contract §1-2): zone i listens on 127.0.10.(1+i). */
function nlb(w: World): LabLoadBalancer {
  const name = 'k8s-default-demo-0123456789';
  return {
    service: 'default/demo', name, arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/${name}/0a1b2c3d4e5f6789`,
    dnsName: `${name}-0a1b2c3d4e5f6789.elb.us-east-1.amazonaws.com`, scheme: 'internet-facing', targetType: 'instance', crossZone: false, port: 8080,
    zones: LAB_ZONES.map((zone, z) => ({ zone, subnetId: w.publicSubnet(zone).id, address: `127.0.10.${z + 1}`, privateIp: `10.0.${z + 4}.20`, eniId: hexId('eni', `nlb/${zone}`) })),
    targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-default-demo/0a1b2c3d4e5f6789',
    healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 }, targets: new Map(),
  };
}

describe('lab EC2 network interfaces (SDK client, in-process endpoint)', function () {
  let w: World;
  let ec2: EC2Client;
  let close: () => void;
  const nodes = initialNodes(CLUSTER, 2, 'containerd', { bottlerocketNodes: 1, karpenterNodes: 2, karpenterSpot: 1 });

  before(async () => {
    w = new World(CLUSTER, 'containerd', worldTimings(TIMINGS.fast), () => {}, nodes);
    const lb = nlb(w);
    w.loadBalancers.set(lb.service, lb);
    const ep = createAwsEndpoint(w, {} as Ssm, () => ({}));
    await new Promise<void>((r) => ep.server.listen(0, '127.0.0.1', r));
    close = () => ep.server.close();
    ec2 = new EC2Client({ endpoint: `http://127.0.0.1:${(ep.server.address() as AddressInfo).port}`, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIALABDUMMY00000000', secretAccessKey: 'x' } });
  });
  after(() => { ec2.destroy(); close(); });

  const describe_ = async (Filters?: Filter[], ids?: string[]): Promise<NetworkInterface[]> =>
    (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters, NetworkInterfaceIds: ids }))).NetworkInterfaces ?? [];
  const f = (Name: string, ...Values: string[]): Filter => ({ Name, Values });

  it('lists every kind with EC2\'s InterfaceType values and descriptions', async () => {
    const all = await describe_();
    const byType = (t: string) => all.filter((e) => e.InterfaceType === t);
    // 2 ENIs per instance (primary + VPC CNI secondary), 3 NLB zones, 1 NAT gateway, 6 endpoints × 3 zones, 2 EKS control-plane ENIs
    expect(all).to.have.length(nodes.length * 2 + 3 + 1 + 18 + 2);
    expect(byType('network_load_balancer').map((e) => e.Description)).to.deep.equal(Array(3).fill('ELB net/k8s-default-demo-0123456789/0a1b2c3d4e5f6789'));
    expect(byType('natGateway')).to.have.length(1);
    expect(byType('natGateway')[0].Description).to.match(/^Interface for NAT Gateway nat-0[0-9a-f]{16}$/);
    expect(byType('natGateway')[0].AvailabilityZone).to.equal('us-east-1a');
    expect(byType('vpc_endpoint')).to.have.length(18);
    for (const e of byType('vpc_endpoint')) expect(e.Description).to.match(/^VPC Endpoint Interface vpce-0[0-9a-f]{16}$/);
    const eks = all.filter((e) => e.Description === `Amazon EKS ${CLUSTER}`);
    expect(eks.map((e) => [e.InterfaceType, e.AvailabilityZone])).to.deep.equal([['interface', 'us-east-1b'], ['interface', 'us-east-1c']]);
    expect(eks[0].RequesterId).to.match(/^\d{12}$/).and.not.equal('123456789012');
    for (const e of [...byType('network_load_balancer'), ...byType('natGateway'), ...byType('vpc_endpoint')]) expect(e.RequesterManaged, e.Description).to.equal(true);
  });

  it('node ENIs: the primary (device 0, the node\'s IP) and the VPC CNI secondary (device 1, aws-K8S-<id>, its tags)', async () => {
    const n = nodes[0];
    const enis = await describe_([f('attachment.instance-id', n.instanceId)]);
    expect(enis.map((e) => e.Attachment?.DeviceIndex)).to.deep.equal([0, 1]);
    const [eth0, eth1] = enis;
    expect(eth0).to.deep.include({ InterfaceType: 'interface', PrivateIpAddress: n.privateIp, SubnetId: w.nodeSubnet(n.zone).id, AvailabilityZone: n.zone, RequesterManaged: false, Status: 'in-use' });
    expect(eth0.Attachment).to.deep.include({ InstanceId: n.instanceId, InstanceOwnerId: '123456789012', Status: 'attached', DeleteOnTermination: true });
    expect(eth0.Attachment?.AttachmentId).to.match(/^eni-attach-0[0-9a-f]{16}$/);
    expect(eth0.PrivateIpAddresses?.filter((a) => a.Primary).map((a) => a.PrivateIpAddress)).to.deep.equal([n.privateIp]);
    expect(eth0.PrivateIpAddresses).to.have.length(10);
    expect(eth1.Description).to.equal(`aws-K8S-${n.instanceId}`);
    expect(Object.fromEntries((eth1.TagSet ?? []).map((t) => [t.Key, t.Value]))).to.deep.equal({ 'node.k8s.amazonaws.com/instance_id': n.instanceId, 'cluster.k8s.amazonaws.com/name': CLUSTER });
    // a terminated instance has no ENI any more
    const inst = w.instances.get(n.instanceId)!;
    inst.state = 'terminated';
    try {
      expect(await describe_([f('attachment.instance-id', n.instanceId)])).to.deep.equal([]);
    } finally {
      inst.state = 'running';
    }
  });

  it('serves each filter the harness and the address lookup use (contract §6), with wildcards', async () => {
    const b = w.nodeSubnet('us-east-1b');
    const ids = (es: NetworkInterface[]) => es.map((e) => e.NetworkInterfaceId).sort();
    const bNodes = nodes.filter((n) => n.zone === 'us-east-1b');
    const inB = await describe_([f('subnet-id', b.id)]);
    // node ENIs of the zone's nodes, 6 endpoint ENIs, 1 control-plane ENI
    expect(inB).to.have.length(bNodes.length * 2 + 6 + 1);
    expect(await describe_([f('availability-zone', 'us-east-1b'), f('interface-type', 'vpc_endpoint')])).to.have.length(6);
    expect(await describe_([f('vpc-id', w.vpc.id)])).to.have.length((await describe_()).length);
    expect(await describe_([f('vpc-id', 'vpc-0000000000000000f')])).to.deep.equal([]);
    const lbEnis = await describe_([f('association.public-ip', '127.0.10.2')]);
    expect(lbEnis.map((e) => [e.InterfaceType, e.AvailabilityZone, e.Association?.PublicIp, e.PrivateIpAddress])).to.deep.equal([['network_load_balancer', 'us-east-1b', '127.0.10.2', '10.0.5.20']]);
    expect(lbEnis[0].SubnetId).to.equal(w.publicSubnet('us-east-1b').id);
    expect(ids(await describe_([f('addresses.private-ip-address', '10.0.5.20')]))).to.deep.equal(ids(lbEnis));
    // a pod address (a secondary IP) finds its node's ENI; `private-ip-address` is the primary address only
    const podIp = `${bNodes[0].podCIDR.replace(/\.0\/24$/, '')}.3`;
    const byPod = await describe_([f('addresses.private-ip-address', podIp)]);
    expect(byPod.map((e) => e.Attachment?.InstanceId)).to.deep.equal([bNodes[0].instanceId]);
    expect(await describe_([f('private-ip-address', podIp)])).to.deep.equal([]);
    expect(ids(await describe_([f('network-interface-id', lbEnis[0].NetworkInterfaceId!)]))).to.deep.equal(ids(lbEnis));
    expect(await describe_([f('tag:cluster.k8s.amazonaws.com/name', CLUSTER)])).to.have.length(nodes.length);
    expect(await describe_([f('tag:node.k8s.amazonaws.com/instance_id', 'i-*')])).to.have.length(nodes.length);
    expect(await describe_([f('description', 'Amazon EKS *')])).to.have.length(2);
    for (const t of ['interface', 'network_load_balancer', 'natGateway', 'vpc_endpoint']) {
      const got = await describe_([f('interface-type', t)]);
      expect(got.length, t).to.be.above(0);
      expect(got.every((e) => e.InterfaceType === t), t).to.equal(true);
    }
    const err = await describe_([f('no-such-filter', 'x')]).catch((e: Error) => e.name);
    expect(err).to.equal('InvalidParameterValue');
  });

  it('NetworkInterfaceIds: found in order; unknown ones NotFound, malformed ones Malformed', async () => {
    const all = await describe_();
    const pick = [all[5].NetworkInterfaceId!, all[0].NetworkInterfaceId!];
    expect((await describe_(undefined, pick)).map((e) => e.NetworkInterfaceId)).to.deep.equal(pick);
    expect(await describe_(undefined, ['eni-0ffffffffffffffff']).catch((e: Error) => e.name)).to.equal('InvalidNetworkInterfaceID.NotFound');
    expect(await describe_(undefined, ['nic-1']).catch((e: Error) => e.name)).to.equal('InvalidNetworkInterfaceID.Malformed');
  });

  it('paginates with MaxResults/NextToken as EC2 does (5..1000; not with ids)', async () => {
    const all = await describe_();
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 7, NextToken: token }));
      expect(r.NetworkInterfaces!.length).to.be.at.most(7);
      seen.push(...r.NetworkInterfaces!.map((e) => e.NetworkInterfaceId!));
      token = r.NextToken;
      pages++;
    } while (token);
    expect(pages).to.equal(Math.ceil(all.length / 7));
    expect(seen).to.deep.equal(all.map((e) => e.NetworkInterfaceId));
    expect(await ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 4 })).catch((e: Error) => e.name)).to.equal('InvalidParameterValue');
    expect(await ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5, NetworkInterfaceIds: [all[0].NetworkInterfaceId!] })).catch((e: Error) => e.name)).to.equal('InvalidParameterCombination');
  });

  it('DescribeVpcEndpoints names each endpoint\'s service and ENIs; public subnets are tagged for the NLB', async () => {
    const eps = (await ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? [];
    expect(eps.map((e) => e.ServiceName)).to.deep.equal(['ssm', 'ssmmessages', 'ec2messages', 'sts', 'ecr.api', 'ecr.dkr'].map((s) => `com.amazonaws.us-east-1.${s}`));
    const enis = await describe_([f('interface-type', 'vpc_endpoint')]);
    for (const e of eps) {
      expect(e.VpcEndpointType).to.equal('Interface');
      expect(e.NetworkInterfaceIds).to.have.length(3);
      for (const id of e.NetworkInterfaceIds!) expect(enis.find((x) => x.NetworkInterfaceId === id)?.Description).to.equal(`VPC Endpoint Interface ${e.VpcEndpointId}`);
    }
    const pub = (await ec2.send(new DescribeSubnetsCommand({ Filters: [f('tag:kubernetes.io/role/elb', '1')] }))).Subnets ?? [];
    expect(pub.map((s) => [s.AvailabilityZone, s.CidrBlock])).to.deep.equal([['us-east-1a', '10.0.4.0/24'], ['us-east-1b', '10.0.5.0/24'], ['us-east-1c', '10.0.6.0/24']]);
  });
});
