// The AZ black-hole knows which ENIs it cuts (issue 14 §3), on the lab: the lab's EC2 answers
// DescribeNetworkInterfaces through the real SDK client for every filter and InterfaceType it models;
// `chaos fault az-blackhole --dry-run` lists every ENI of the subnets to cut by kind and owner; a NAT
// gateway subnet in scope exits 2 unless the scenario allows it; scope zone needs the cluster tag; a
// VPC CNI custom networking subnet (an ENIConfig) joins scope nodes. Nothing is changed by any of it.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { CreateTagsCommand, DeleteTagsCommand, DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, type Filter, type NetworkInterface } from '@aws-sdk/client-ec2';
import { ExitCode } from '../../harness/exit-codes.js';
import { testLab, type TestLab } from '../support/lab.js';
import { labAws, type LabAws } from '../support/aws.js';
import { changesSince, runCli, tempStateDir } from '../support/harness.js';

const f = (Name: string, ...Values: string[]): Filter => ({ Name, Values });

describe('az-blackhole and the ENIs it cuts (lab)', function () {
  this.timeout(180_000);
  let lab: TestLab;
  let aws: LabAws;
  const enis = async (Filters?: Filter[]): Promise<NetworkInterface[]> => {
    const out: NetworkInterface[] = [];
    let NextToken: string | undefined;
    do {
      const r = await aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters, MaxResults: 50, NextToken }));
      out.push(...(r.NetworkInterfaces ?? []));
      NextToken = r.NextToken;
    } while (NextToken);
    return out;
  };
  const subnetOf = async (zone: string, role: string) =>
    (await aws.ec2.send(new DescribeSubnetsCommand({ Filters: [f('availability-zone', zone), f('tag:Name', `*-${role}-${zone}`)] }))).Subnets![0].SubnetId!;

  before(() => {
    lab = testLab();
    aws = labAws(lab);
  });

  it('DescribeNetworkInterfaces: node, VPC CNI, NAT gateway, endpoint and control-plane ENIs, by each filter', async () => {
    const nodes = (await lab.kube.core.listNode()).items;
    const all = await enis();
    const types = new Set<string>(all.map((e) => e.InterfaceType ?? ""));
    for (const t of ['interface', 'natGateway', 'vpc_endpoint']) expect(types.has(t), t).to.equal(true);
    const node = nodes.find((n) => n.metadata?.labels?.['topology.kubernetes.io/zone'] === 'us-east-1b')!;
    const instanceId = node.spec!.providerID!.split('/').pop()!;
    const mine = await enis([f('attachment.instance-id', instanceId)]);
    expect(mine.map((e) => [e.Attachment?.DeviceIndex, e.Description])).to.deep.equal([[0, ''], [1, `aws-K8S-${instanceId}`]]);
    const ip = node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address;
    expect((await enis([f('private-ip-address', ip)])).map((e) => e.NetworkInterfaceId)).to.deep.equal([mine[0].NetworkInterfaceId]);
    expect((await enis([f('addresses.private-ip-address', ip)])).map((e) => e.NetworkInterfaceId)).to.deep.equal([mine[0].NetworkInterfaceId]);
    const nodeSubnet = await subnetOf('us-east-1b', 'nodes');
    const inSubnet = await enis([f('subnet-id', nodeSubnet)]);
    expect(inSubnet.filter((e) => e.InterfaceType === 'vpc_endpoint')).to.have.length(6);
    expect(inSubnet.filter((e) => e.Description === 'Amazon EKS chaos-lab-test')).to.have.length(1);
    expect(await enis([f('availability-zone', 'us-east-1b'), f('interface-type', 'natGateway')])).to.deep.equal([]);
    const nat = await enis([f('interface-type', 'natGateway')]);
    expect(nat.map((e) => [e.AvailabilityZone, e.SubnetId])).to.deep.equal([['us-east-1a', await subnetOf('us-east-1a', 'public')]]);
    expect(await enis([f('vpc-id', mine[0].VpcId!), f('tag:cluster.k8s.amazonaws.com/name', 'chaos-lab-test')])).to.have.length(all.filter((e) => e.Description?.startsWith('aws-K8S-')).length);
    expect((await enis([f('network-interface-id', nat[0].NetworkInterfaceId!)])).length).to.equal(1);
    // NLB ENIs follow the lab's load balancers (H1's data plane fills them): each has a public (loopback) address
    for (const e of await enis([f('interface-type', 'network_load_balancer')])) {
      expect(e.Description).to.match(/^ELB net\/k8s-[^/]+\/[0-9a-f]+$/);
      expect(e.Association?.PublicIp).to.match(/^127\./);
      expect((await enis([f('association.public-ip', e.Association!.PublicIp!)])).map((x) => x.NetworkInterfaceId)).to.deep.equal([e.NetworkInterfaceId]);
    }
  });

  it('--dry-run lists every ENI in the subnets to cut, by kind and owner, with the collateral', async () => {
    const mark = Date.now();
    const r = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--dry-run', '--state-dir', tempStateDir()]);
    expect(r.code, r.stderr).to.equal(0);
    const out = r.stdout;
    expect(out).to.match(/plan: black-hole 1 subnet\(s\) of us-east-1b for 30s \(\d+ ENIs: \d+ node, 6 VPC endpoint, 1 EKS control plane; collateral a zone loss has too: VPC endpoints ec2messages, ecr\.api, ecr\.dkr, ssm, ssmmessages, sts \(6 ENIs\); EKS control plane chaos-lab-test \(1 ENI\)\)/);
    expect(out).to.match(/ENI eni-[0-9a-f]+ \[node\] ip-10-0-2-10\.ec2\.internal \(i-[0-9a-f]+\): primary ENI \(10\.0\.2\.10\)/);
    expect(out).to.match(/ENI eni-[0-9a-f]+ \[node\] ip-10-0-2-10\.ec2\.internal \(i-[0-9a-f]+\): VPC CNI secondary ENI \(device 1\)/);
    for (const svc of ['ssm', 'ssmmessages', 'ec2messages', 'sts', 'ecr.api', 'ecr.dkr']) expect(out).to.contain(`[VPC endpoint] com.amazonaws.us-east-1.${svc}: interface VPC endpoint vpce-`);
    expect(out).to.contain('[EKS control plane] chaos-lab-test: a cross-account ENI of the EKS control plane');
    expect(out).to.match(/collateral a real loss of us-east-1b has too \(named in the report\): VPC endpoint com\.amazonaws\.us-east-1\.[a-z0-9.]+ \(eni-[0-9a-f]+ in subnet-[0-9a-f]+\);.* EKS control plane chaos-lab-test \(eni-/);
    expect(out).to.not.contain('[unknown]').and.not.contain('[NAT gateway]');
    expect(changesSince(lab, mark)).to.deep.equal([]);
  });

  it('a NAT gateway subnet in scope exits 2 naming it and the allow value; allowed, the plan lists it', async () => {
    const mark = Date.now();
    const pub = await subnetOf('us-east-1a', 'public');
    const refusedRun = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1a', '--scope', 'zone', '--dry-run', '--state-dir', tempStateDir()]);
    expect(refusedRun.code, refusedRun.stderr).to.equal(ExitCode.Invalid);
    expect(refusedRun.stderr).to.contain(`refusing to black-hole ${pub} of us-east-1a: a NAT gateway (allow: 'natGateway' permits it)`);
    expect(refusedRun.stderr).to.match(/allow with `allow: \['natGateway'\]` \(--allow natGateway\)/);
    expect(refusedRun.stderr).to.match(new RegExp(`subnet ${pub}: eni-[0-9a-f]+ nat-[0-9a-f]+: the NAT gateway`));
    const allowed = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1a', '--scope', 'zone', '--allow', 'natGateway', '--dry-run', '--state-dir', tempStateDir()]);
    expect(allowed.code, allowed.stderr).to.equal(0);
    expect(allowed.stdout).to.match(/\[NAT gateway\] nat-[0-9a-f]+: the NAT gateway/);
    expect(allowed.stdout).to.contain('allowed by the scenario: natGateway');
    expect(allowed.stdout).to.contain(`swap subnet ${pub} (chaos-lab-test-public-us-east-1a)`);
    // the same through a scenario file
    const dir = fs.mkdtempSync(path.join(tempStateDir(), 'sc-'));
    const file = path.join(dir, 'nat.yaml');
    const scenario = (allow: string) => [
      'name: az-nat', 'description: black-hole every subnet of us-east-1a',
      `fault: { kind: az-blackhole, zone: us-east-1a, scope: zone, duration: 30s${allow} }`,
      'workloads: [{ namespace: default, selector: app=demo }]', 'slos: { ready: "recovery < 5m" }', '',
    ].join('\n');
    fs.writeFileSync(file, scenario(''));
    const sRefused = await runCli(['run', file, '--dry-run', '--state-dir', tempStateDir()]);
    expect(sRefused.code, sRefused.stderr + sRefused.stdout).to.equal(ExitCode.Invalid);
    expect(sRefused.stderr + sRefused.stdout).to.contain("allow: 'natGateway' permits it");
    fs.writeFileSync(file, scenario(', allow: [natGateway]'));
    const sAllowed = await runCli(['run', file, '--dry-run', '--state-dir', tempStateDir()]);
    expect(sAllowed.code, sAllowed.stderr + sAllowed.stdout).to.equal(0);
    expect(sAllowed.stdout).to.match(/\[NAT gateway\] nat-[0-9a-f]+/);
    expect(changesSince(lab, mark)).to.deep.equal([]);
  });

  it('scope zone refuses (exit 2) a subnet of the zone without the cluster tag', async () => {
    const util = await subnetOf('us-east-1c', 'utility');
    await aws.ec2.send(new DeleteTagsCommand({ Resources: [util], Tags: [{ Key: 'kubernetes.io/cluster/chaos-lab-test' }] }));
    try {
      const r = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1c', '--scope', 'zone', '--dry-run', '--state-dir', tempStateDir()]);
      expect(r.code, r.stderr).to.equal(ExitCode.Invalid);
      expect(r.stderr).to.contain(`without the cluster tag kubernetes.io/cluster/chaos-lab-test (owned or shared): ${util}`);
    } finally {
      await aws.ec2.send(new CreateTagsCommand({ Resources: [util], Tags: [{ Key: 'kubernetes.io/cluster/chaos-lab-test', Value: 'shared' }] }));
    }
    const ok = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1c', '--scope', 'zone', '--dry-run', '--state-dir', tempStateDir()]);
    expect(ok.code, ok.stderr).to.equal(0);
  });

  it('scope nodes takes the subnet of an ENIConfig (VPC CNI custom networking) in the zone', async () => {
    const util = await subnetOf('us-east-1b', 'utility');
    // the CRD as amazon-vpc-cni-k8s ships it (charts/aws-vpc-cni/crds: ENIConfig, crd.k8s.amazonaws.com/v1alpha1, cluster-scoped), schema trimmed to spec
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'eniconfigs.crd.k8s.amazonaws.com' },
      spec: {
        group: 'crd.k8s.amazonaws.com', scope: 'Cluster', names: { plural: 'eniconfigs', singular: 'eniconfig', kind: 'ENIConfig', listKind: 'ENIConfigList' },
        versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: {
          type: 'object',
          properties: { spec: { type: 'object', properties: { subnet: { type: 'string' }, securityGroups: { type: 'array', items: { type: 'string' } } } } },
        } } }],
      },
    };
    const { ApiextensionsV1Api, CustomObjectsApi } = await import('@kubernetes/client-node');
    const ext = lab.kube.kc.makeApiClient(ApiextensionsV1Api);
    const custom = lab.kube.kc.makeApiClient(CustomObjectsApi);
    const before = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--dry-run', '--state-dir', tempStateDir()]);
    expect(before.code, before.stderr).to.equal(0);
    expect(before.stdout).to.not.contain(util);
    await ext.createCustomResourceDefinition({ body: crd as never });
    try {
      const body = { apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', metadata: { name: 'us-east-1b' }, spec: { subnet: util, securityGroups: [] } };
      for (let i = 0; ; i++) {
        try { await custom.createClusterCustomObject({ group: 'crd.k8s.amazonaws.com', version: 'v1alpha1', plural: 'eniconfigs', body }); break; } catch (err) {
          if (i > 40) throw err;
          await new Promise((r) => setTimeout(r, 250)); // the CRD is being established
        }
      }
      const r = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--dry-run', '--state-dir', tempStateDir()]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/black-hole 2 subnet\(s\) of us-east-1b/);
      expect(r.stdout).to.contain(`swap subnet ${util} (chaos-lab-test-utility-us-east-1b)`).and.contain('VPC CNI custom networking (ENIConfig us-east-1b)');
    } finally {
      await ext.deleteCustomResourceDefinition({ name: crd.metadata.name });
    }
  });
});
