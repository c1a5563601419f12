// The lab's AWS endpoint through the real SDK clients: world layout, documented semantics, error names.
import { expect } from 'chai';
import {
  CreateNetworkAclCommand, CreateNetworkAclEntryCommand, CreateTagsCommand, DeleteNetworkAclCommand, DeleteNetworkAclEntryCommand,
  DeleteTagsCommand, DescribeInstancesCommand, DescribeNetworkAclsCommand, DescribeSubnetsCommand, DescribeTagsCommand, DescribeVpcsCommand,
  ReplaceNetworkAclAssociationCommand, StopInstancesCommand, type NetworkAcl,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, SendCommandCommand, CancelCommandCommand } from '@aws-sdk/client-ssm';
import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, ResumeProcessesCommand, SuspendProcessesCommand } from '@aws-sdk/client-auto-scaling';
import { parseProviderID } from '../../lab/topology.js';
import { eventually, testLab, type TestLab } from '../support/lab.js';
import { labAws, runScript, type LabAws, errorName } from '../support/aws.js';


describe('lab part 2: the AWS endpoint (real SDK clients)', function () {
  this.timeout(60_000);
  let lab: TestLab;
  let aws: LabAws;
  let single: LabAws;
  let vpcId: string;
  before(() => {
    lab = testLab();
    aws = labAws(lab);
    single = labAws(lab, 1);
  });
  afterEach(async () => {
    await aws.control('DELETE', 'faults');
    await aws.control('PUT', 'iam/deny', []);
  });

  describe('the world', () => {
    it('has one VPC with IPv6, subnets in every zone, and the default ACL on every subnet', async () => {
      const vpcs = (await aws.ec2.send(new DescribeVpcsCommand({}))).Vpcs!;
      expect(vpcs).to.have.length(1);
      vpcId = vpcs[0].VpcId!;
      expect(vpcs[0].Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock).to.match(/::\/56$/);
      const subnets = (await aws.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets!;
      expect(new Set(subnets.map((s) => s.AvailabilityZone))).to.deep.equal(new Set(['us-east-1a', 'us-east-1b', 'us-east-1c']));
      const acls = (await aws.ec2.send(new DescribeNetworkAclsCommand({}))).NetworkAcls!;
      expect(acls).to.have.length(1);
      expect(acls[0].IsDefault).to.equal(true);
      expect(new Set(acls[0].Associations!.map((a) => a.SubnetId))).to.deep.equal(new Set(subnets.map((s) => s.SubnetId)));
    });

    it('has one running instance per node: id from providerID, private DNS name, subnet, zone and tags', async () => {
      const nodes = (await lab.kube.core.listNode()).items;
      const res = await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:kubernetes.io/cluster/${lab.state.options.clusterName}`, Values: ['owned'] }, { Name: 'instance-state-name', Values: ['running'] }] }));
      const insts = res.Reservations!.flatMap((r) => r.Instances!);
      expect(insts).to.have.length(nodes.length);
      const subnets = (await aws.ec2.send(new DescribeSubnetsCommand({}))).Subnets!;
      for (const n of nodes) {
        const ids = parseProviderID(n.spec!.providerID!)!;
        const i = insts.find((x) => x.InstanceId === ids.instanceId);
        expect(i, n.metadata!.name).to.not.equal(undefined);
        expect(i!.PrivateDnsName).to.equal(n.metadata!.name);
        expect(i!.Placement!.AvailabilityZone).to.equal(ids.zone);
        expect(subnets.find((s) => s.SubnetId === i!.SubnetId)!.AvailabilityZone).to.equal(ids.zone);
        const tags = Object.fromEntries(i!.Tags!.map((t) => [t.Key, t.Value]));
        const cluster = lab.state.options.clusterName;
        const group = n.metadata!.labels!['eks.amazonaws.com/nodegroup'];
        if (n.metadata!.labels!['karpenter.sh/nodepool']) {
          // Karpenter's instances: no Auto Scaling group, no EKS node group, Karpenter's own tags
          expect(group).to.equal(undefined);
          expect(tags).to.not.have.property('aws:autoscaling:groupName');
          expect(tags['karpenter.sh/nodepool']).to.equal(n.metadata!.labels!['karpenter.sh/nodepool']);
        } else if (group === `${cluster}-bottlerocket`) {
          expect(tags['aws:autoscaling:groupName']).to.equal(`eks-${cluster}-bottlerocket`);
          expect(tags['eks:nodegroup-name']).to.equal(group);
        } else {
          expect(tags['aws:autoscaling:groupName']).to.match(/us-east-1[abc]$/);
          expect(tags['eks:nodegroup-name']).to.equal(group);
        }
      }
    });

    it('filters by zone and paginates with MaxResults/NextToken', async () => {
      const a = await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1a'] }] }));
      expect(a.Reservations!.flatMap((r) => r.Instances!).every((i) => i.Placement!.AvailabilityZone === 'us-east-1a')).to.equal(true);
      const p1 = await aws.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
      expect(p1.Reservations).to.have.length(5);
      expect(p1.NextToken).to.be.a('string');
      const p2 = await aws.ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: p1.NextToken }));
      expect(p2.Reservations!.length).to.be.at.least(1);
      expect(await errorName(aws.ec2.send(new DescribeInstancesCommand({ MaxResults: 2 })))).to.equal('InvalidParameterValue');
      expect(await errorName(aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })))).to.equal('InvalidParameterValue');
    });
  });

  describe('EC2 errors and guards', () => {
    it('answers like AWS for unknown and malformed ids, unknown actions and missing parameters', async () => {
      expect(await errorName(aws.ec2.send(new StopInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })))).to.equal('InvalidInstanceID.NotFound');
      expect(await errorName(aws.ec2.send(new StopInstancesCommand({ InstanceIds: ['not-an-id'] })))).to.equal('InvalidInstanceID.Malformed');
      expect(await errorName(aws.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: 'acl-0123456789abcdef0' })))).to.equal('InvalidNetworkAclID.NotFound');
      const raw = await fetch(aws.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=LaunchRockets&Version=2016-11-15' });
      expect(raw.status).to.equal(400);
      expect(await raw.text()).to.contain('<Code>InvalidAction</Code>');
      expect(await errorName(aws.ec2.send(new CreateNetworkAclCommand({ VpcId: undefined as unknown as string })))).to.equal('MissingParameter');
    });

    it('DryRun answers DryRunOperation, or UnauthorizedOperation when the lab IAM policy denies the action', async () => {
      const [i] = (await aws.ec2.send(new DescribeInstancesCommand({}))).Reservations![0].Instances!;
      expect(await errorName(aws.ec2.send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!], DryRun: true })))).to.equal('DryRunOperation');
      await aws.control('PUT', 'iam/deny', ['ec2:StopInstances']);
      expect(await errorName(aws.ec2.send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!], DryRun: true })))).to.equal('UnauthorizedOperation');
      const after = (await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0].Instances![0];
      expect(after.State!.Name).to.equal('running');
    });

    it('injects throttling, 5xx and latency for chosen actions; the SDK raises the names it would on AWS', async () => {
      await aws.control('POST', 'faults', { service: 'ec2', action: 'DescribeVpcs', kind: 'throttle' });
      expect(await errorName(single.ec2.send(new DescribeVpcsCommand({})))).to.equal('RequestLimitExceeded');
      await aws.control('DELETE', 'faults');
      await aws.control('POST', 'faults', { service: 'ec2', action: 'DescribeVpcs', kind: '5xx' });
      expect(await errorName(single.ec2.send(new DescribeVpcsCommand({})))).to.equal('InternalError');
      await aws.control('DELETE', 'faults');
      await aws.control('POST', 'faults', { service: 'ssm', action: 'DescribeInstanceInformation', kind: 'throttle' });
      expect(await errorName(single.ssm.send(new DescribeInstanceInformationCommand({})))).to.equal('ThrottlingException');
      await aws.control('DELETE', 'faults');
      // One throttled answer, then success: the SDK's own retry gets through.
      await aws.control('POST', 'faults', { service: 'ec2', action: 'DescribeVpcs', kind: 'throttle', count: 1 });
      expect((await aws.ec2.send(new DescribeVpcsCommand({}))).Vpcs).to.have.length(1);
      await aws.control('POST', 'faults', { service: 'ec2', action: 'DescribeVpcs', kind: 'latency', latencyMs: 300 });
      const t0 = performance.now();
      await aws.ec2.send(new DescribeVpcsCommand({}));
      expect(performance.now() - t0).to.be.at.least(290);
    });
  });

  describe('network ACLs', () => {
    let acl: NetworkAcl;
    it('CreateNetworkAcl tags the new ACL, starts with the * deny entries, and is idempotent per ClientToken', async () => {
      const token = `lab-test-${Date.now()}`;
      const input = { VpcId: vpcId, ClientToken: token, TagSpecifications: [{ ResourceType: 'network-acl' as const, Tags: [{ Key: 'chaos:run-id', Value: 'test-1' }] }] };
      acl = (await aws.ec2.send(new CreateNetworkAclCommand(input))).NetworkAcl!;
      expect(acl.IsDefault).to.equal(false);
      expect(acl.Tags).to.deep.include({ Key: 'chaos:run-id', Value: 'test-1' });
      const stars = acl.Entries!.filter((e) => e.RuleNumber === 32767);
      expect(stars.map((e) => [e.Egress, e.RuleAction, e.CidrBlock])).to.have.deep.members([[false, 'deny', '0.0.0.0/0'], [true, 'deny', '0.0.0.0/0']]);
      const again = (await aws.ec2.send(new CreateNetworkAclCommand(input))).NetworkAcl!;
      expect(again.NetworkAclId).to.equal(acl.NetworkAclId);
      const byTag = (await aws.ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'tag:chaos:run-id', Values: ['test-1'] }] }))).NetworkAcls!;
      expect(byTag.map((a) => a.NetworkAclId)).to.deep.equal([acl.NetworkAclId]);
    });

    it('adds and deletes entries, refusing duplicates', async () => {
      const entry = { NetworkAclId: acl.NetworkAclId!, RuleNumber: 100, Protocol: '-1', RuleAction: 'deny' as const, Egress: false, CidrBlock: '0.0.0.0/0' };
      await aws.ec2.send(new CreateNetworkAclEntryCommand(entry));
      expect(await errorName(aws.ec2.send(new CreateNetworkAclEntryCommand(entry)))).to.equal('NetworkAclEntryAlreadyExists');
      await aws.ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: acl.NetworkAclId!, RuleNumber: 100, Egress: false }));
      expect(await errorName(aws.ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: acl.NetworkAclId!, RuleNumber: 100, Egress: false })))).to.equal('InvalidNetworkAclEntry.NotFound');
    });

    it('ReplaceNetworkAclAssociation returns a new association id and invalidates the old one; DeleteNetworkAcl waits for no associations', async () => {
      const subnet = (await aws.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1c'] }, { Name: 'tag:Name', Values: ['*utility*'] }] }))).Subnets![0];
      const cur = (await aws.ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnet.SubnetId!] }] }))).NetworkAcls![0];
      const oldAssoc = cur.Associations!.find((a) => a.SubnetId === subnet.SubnetId)!.NetworkAclAssociationId!;
      const r = await aws.ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: oldAssoc, NetworkAclId: acl.NetworkAclId! }));
      expect(r.NewAssociationId).to.match(/^aclassoc-/).and.not.equal(oldAssoc);
      expect(await errorName(aws.ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: oldAssoc, NetworkAclId: cur.NetworkAclId! })))).to.equal('InvalidAssociationID.NotFound');
      expect(await errorName(aws.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: acl.NetworkAclId! })))).to.equal('DependencyViolation');
      expect(await errorName(aws.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: cur.NetworkAclId! })))).to.equal('InvalidParameterValue');
      await aws.ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: r.NewAssociationId!, NetworkAclId: cur.NetworkAclId! }));
      await aws.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: acl.NetworkAclId! }));
      expect(await errorName(aws.ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [acl.NetworkAclId!] })))).to.equal('InvalidNetworkAclID.NotFound');
    });

    it('CreateTags / DescribeTags / DeleteTags', async () => {
      await aws.ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'chaos:test', Value: 'yes' }] }));
      const tags = (await aws.ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['chaos:test'] }] }))).Tags!;
      expect(tags.map((t) => [t.ResourceId, t.ResourceType, t.Value])).to.deep.equal([[vpcId, 'vpc', 'yes']]);
      await aws.ec2.send(new DeleteTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'chaos:test' }] }));
      expect((await aws.ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['chaos:test'] }] }))).Tags).to.have.length(0);
      expect(await errorName(aws.ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'aws:x', Value: '1' }] })))).to.equal('InvalidParameterValue');
    });
  });

  describe('Auto Scaling', () => {
    it('describes one AL2023 group per zone and the Bottlerocket group over the 3 zones, and suspends/resumes processes', async () => {
      const all = (await aws.asg.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups!;
      const cluster = lab.state.options.clusterName;
      const groups = all.filter((g) => g.AutoScalingGroupName!.includes('-ng-'));
      expect(groups.map((g) => g.AvailabilityZones!).sort()).to.deep.equal([['us-east-1a'], ['us-east-1b'], ['us-east-1c']]);
      const br = all.filter((g) => g.AutoScalingGroupName === `eks-${cluster}-bottlerocket`);
      expect(br).to.have.length(1);
      expect([...br[0].AvailabilityZones!].sort()).to.deep.equal(['us-east-1a', 'us-east-1b', 'us-east-1c']);
      expect(br[0].VPCZoneIdentifier!.split(',')).to.have.length(3);
      expect(all).to.have.length(4);
      // Karpenter's instances belong to no group
      const listed = (await aws.asg.send(new DescribeAutoScalingInstancesCommand({}))).AutoScalingInstances!.map((i) => i.InstanceId);
      const karpenter = (await lab.kube.core.listNode({ labelSelector: 'karpenter.sh/nodepool' })).items.map((n) => parseProviderID(n.spec!.providerID!)!.instanceId);
      expect(karpenter.length).to.be.at.least(1);
      for (const id of karpenter) expect(listed).to.not.include(id);
      const g = groups[0];
      const inst = (await aws.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [g.Instances![0].InstanceId!] }))).AutoScalingInstances!;
      expect(inst[0].AutoScalingGroupName).to.equal(g.AutoScalingGroupName);
      await aws.asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: g.AutoScalingGroupName, ScalingProcesses: ['HealthCheck', 'ReplaceUnhealthy'] }));
      const s = (await aws.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [g.AutoScalingGroupName!] }))).AutoScalingGroups![0];
      expect(s.SuspendedProcesses!.map((p) => p.ProcessName).sort()).to.deep.equal(['HealthCheck', 'ReplaceUnhealthy']);
      await aws.asg.send(new ResumeProcessesCommand({ AutoScalingGroupName: g.AutoScalingGroupName, ScalingProcesses: ['HealthCheck', 'ReplaceUnhealthy'] }));
      expect(await errorName(aws.asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'nope' })))).to.equal('ValidationError');
    });
  });

  describe('SSM Run Command', () => {
    let id: string;
    before(async () => {
      id = (await aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }))).Reservations![0].Instances![0].InstanceId!;
    });

    it('lists every instance Online and refuses unknown instances and more than 50 ids', async () => {
      const info = (await aws.ssm.send(new DescribeInstanceInformationCommand({}))).InstanceInformationList!;
      expect(info.length).to.be.at.least(6);
      expect(info.every((i) => i.PingStatus === 'Online')).to.equal(true);
      const send = (ids: string[]) => aws.ssm.send(new SendCommandCommand({ InstanceIds: ids, DocumentName: 'AWS-RunShellScript', Parameters: { commands: ['true'] } }));
      expect(await errorName(send(['i-0123456789abcdef0']))).to.equal('InvalidInstanceId');
      expect(await errorName(send(Array.from({ length: 51 }, () => id)))).to.equal('ValidationException');
    });

    it('answers InvocationDoesNotExist right after SendCommand, then runs the script: Success with stdout', async () => {
      const sent = await aws.ssm.send(new SendCommandCommand({ InstanceIds: [id], DocumentName: 'AWS-RunShellScript', Parameters: { commands: ['echo hello', 'systemctl is-active kubelet'] } }));
      expect(await errorName(aws.ssm.send(new GetCommandInvocationCommand({ CommandId: sent.Command!.CommandId!, InstanceId: id })))).to.equal('InvocationDoesNotExist');
      const r = await eventually('Success', 10_000, async () => {
        const x = await aws.ssm.send(new GetCommandInvocationCommand({ CommandId: sent.Command!.CommandId!, InstanceId: id })).catch(() => undefined);
        return x?.Status === 'Success' ? x : undefined;
      });
      expect(r.StandardOutputContent).to.equal('hello\nactive\n');
      expect(r.ResponseCode).to.equal(0);
      const list = (await aws.ssm.send(new ListCommandInvocationsCommand({ CommandId: sent.Command!.CommandId!, Details: true }))).CommandInvocations!;
      expect(list[0].Status).to.equal('Success');
    });

    it('reports Failed with the exit code and stderr, and TimedOut past executionTimeout', async () => {
      const f = await runScript(aws, id, ['echo oops >&2', 'exit 7']);
      expect([f.Status, f.ResponseCode, f.StandardErrorContent]).to.deep.equal(['Failed', 7, 'oops\n']);
      const nf = await runScript(aws, id, ['nmap 10.0.0.1']);
      expect(nf.ResponseCode).to.equal(127);
      const t = await runScript(aws, id, ['sleep 5'], { executionTimeout: ['1'] });
      expect(t.Status).to.equal('TimedOut');
    });

    it('runs scripts sandboxed: as nobody, without network, writing only a private /tmp', async () => {
      const r = await runScript(aws, id, ['id -u', 'hostname', `touch ${lab.paths.dir}/escaped 2>&1 || echo denied`, 'echo x > /tmp/inside && cat /tmp/inside',
        `bash -c 'echo > /dev/tcp/127.0.0.1/${new URL(aws.endpoint).port}' 2>&1 || echo nonet`]);
      const lines = r.StandardOutputContent!.trim().split('\n');
      expect(lines[0]).to.equal('65534');
      expect(lines[1]).to.match(/^ip-10-0-\d+-\d+\.ec2\.internal$/);
      expect(r.StandardOutputContent).to.contain('denied').and.contain('nonet').and.contain('x\n');
      const fs = await import('node:fs');
      expect(fs.existsSync(`${lab.paths.dir}/escaped`)).to.equal(false);
    });

    it('CancelCommand cancels a running invocation', async () => {
      const sent = await aws.ssm.send(new SendCommandCommand({ InstanceIds: [id], DocumentName: 'AWS-RunShellScript', Parameters: { commands: ['sleep 20'] } }));
      const cid = sent.Command!.CommandId!;
      await eventually('InProgress', 10_000, async () => (await aws.ssm.send(new GetCommandInvocationCommand({ CommandId: cid, InstanceId: id })).catch(() => undefined))?.Status === 'InProgress' || undefined);
      await aws.ssm.send(new CancelCommandCommand({ CommandId: cid }));
      const r = await eventually('Cancelled', 10_000, async () => {
        const x = await aws.ssm.send(new GetCommandInvocationCommand({ CommandId: cid, InstanceId: id }));
        return x.Status === 'Cancelled' ? x : undefined;
      });
      expect(r.Status).to.equal('Cancelled');
    });
  });
});
