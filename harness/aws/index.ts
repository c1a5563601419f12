// The harness's only door to AWS. Clients are built here (endpoint override for the lab, default
// credential chain otherwise) or passed in; every call goes through `call`, which retries
// (throttling, 5xx, network) and records what was called, for --verbose, the report and the IAM
// policy check.
import {
  CreateNetworkAclCommand, CreateTagsCommand, DeleteNetworkAclCommand, DeleteTagsCommand, DescribeInstancesCommand,
  DescribeNetworkAclsCommand, DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, DescribeVpcsCommand, EC2Client, ReplaceNetworkAclAssociationCommand,
  StartInstancesCommand, StopInstancesCommand, type Filter,
} from '@aws-sdk/client-ec2';
import {
  CreateDocumentCommand, DescribeDocumentCommand, DescribeInstanceInformationCommand, GetCommandInvocationCommand, GetDocumentCommand, ListCommandsCommand, SendCommandCommand,
  SSMClient, UpdateDocumentCommand, UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  AutoScalingClient, CreateOrUpdateTagsCommand, DeleteTagsCommand as AsgDeleteTagsCommand, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, ResumeProcessesCommand, SuspendProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import { invalid } from '../exit-codes.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import { HARNESS_DOCUMENTS, sameDocumentContent, type HarnessDocument } from './ssm-documents.js';

export { isRetryable, withRetry, DEFAULT_RETRY, type RetryOptions } from './retry.js';

export type TargetKind = 'lab' | 'aws';

export interface AwsClients { ec2: EC2Client; ssm: SSMClient; asg: AutoScalingClient; /** the account check (callerIdentity); makeClients always sets it */ sts?: STSClient }

export interface ApiCall { time: string; action: string; ok: boolean; error?: string; ms: number; dryRun?: boolean }

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\]|::1)$/;

/** The lab target talks to 127.0.0.1 only: a lab run can never reach a real AWS endpoint. */
export function checkEndpoint(kind: TargetKind, endpoint: string | undefined): void {
  if (kind === 'lab') {
    if (!endpoint) throw invalid('the lab target needs an AWS endpoint on 127.0.0.1 (AWS_ENDPOINT_URL from .lab/env); run `npm run lab -- up`');
    let host: string;
    try {
      host = new URL(endpoint).hostname;
    } catch {
      throw invalid(`AWS endpoint "${endpoint}" is not a URL`);
    }
    if (!LOOPBACK.test(host)) throw invalid(`the lab target refuses the non-loopback AWS endpoint ${endpoint}: the lab only ever runs on 127.0.0.1`);
  } else if (endpoint) {
    throw invalid(`--target aws uses AWS's own endpoints, but AWS_ENDPOINT_URL is set to ${endpoint}; unset it (or use --target lab)`);
  }
}

export interface MakeClientsOptions {
  kind: TargetKind;
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** per-attempt bounds, so no call hangs on a black-holed path (default AWS_TIMEOUTS) */
  timeouts?: { connectMs: number; requestMs: number };
}

/**
 * Every attempt of every call gives up after these (then p-retry decides, a timeout counting as a
 * network error): a TCP connect that gets no answer (a black-holed route, an unreachable VPC
 * endpoint) and a request that gets no response.
 */
export const AWS_TIMEOUTS = { connectMs: 3000, requestMs: 20_000 };

export function makeClients(o: MakeClientsOptions): AwsClients {
  checkEndpoint(o.kind, o.endpoint);
  // The pinned SDK warns on every start that its releases after January 2027 need Node 22; this
  // project targets Node 20.19+ with pinned versions (README), so the notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // maxAttempts 1: retries are ours (p-retry), so they are counted, logged and bounded in one place.
  const t = o.timeouts ?? AWS_TIMEOUTS;
  const cfg = {
    region: o.region, maxAttempts: 1,
    // the SDK's Node handler options (connectionTimeout: TCP connect; requestTimeout: socket idle while waiting for the response)
    requestHandler: { connectionTimeout: t.connectMs, requestTimeout: t.requestMs, throwOnRequestTimeout: true },
    ...(o.endpoint ? { endpoint: o.endpoint } : {}), ...(o.credentials ? { credentials: o.credentials } : {}),
  };
  return { ec2: new EC2Client(cfg), ssm: new SSMClient(cfg), asg: new AutoScalingClient(cfg), sts: new STSClient(cfg) };
}

export interface InstanceInfo {
  id: string;
  state: string;
  zone: string;
  subnetId?: string;
  vpcId?: string;
  privateDnsName?: string;
  ownerId?: string;
  /** EC2 InstanceLifecycle: 'spot' or 'scheduled'; undefined for On-Demand */
  lifecycle?: string;
  tags: Record<string, string>;
}

/** The network interface that holds an address (EC2 DescribeNetworkInterfaces). */
export interface AddressInterface {
  zone: string;
  /** EC2's InterfaceType: interface, network_load_balancer, natGateway, vpc_endpoint, … */
  interfaceType: string;
  description: string;
  eniId: string;
}

export interface SubnetInfo { id: string; vpcId: string; zone: string; tags: Record<string, string> }
/** An ENI as DescribeNetworkInterfaces reports it (the fields the harness reads). */
export interface EniInfo {
  id: string; subnetId: string; zone: string; vpcId: string;
  /** EC2's InterfaceType: interface, natGateway, network_load_balancer, vpc_endpoint, trunk, branch, lambda, … */
  interfaceType: string;
  description: string; privateIp: string; publicIp?: string;
  instanceId?: string; instanceOwnerId?: string; deviceIndex?: number;
  requesterId?: string; requesterManaged: boolean; status: string;
  tags: Record<string, string>;
}
export interface AclInfo { id: string; vpcId: string; isDefault: boolean; associations: Array<{ id: string; subnetId: string }>; tags: Record<string, string> }
/** Who the credentials are (STS GetCallerIdentity). */
export interface CallerIdentity { account: string; arn: string; userId: string }

/** What installDocuments did (or, with dryRun, would do) for one harness document. */
export interface DocumentInstall {
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'missing' | 'differs';
  /** the default version after the call (before it, for dryRun) */
  version?: string;
  detail: string;
}

export interface InvocationInfo { status: string; statusDetails?: string; responseCode?: number; stdout: string; stderr: string }

const tagMap = (tags: Array<{ Key?: string; Value?: string }> | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
const filters = (f: Record<string, string[]>): Filter[] => Object.entries(f).map(([Name, Values]) => ({ Name, Values }));

export class Aws {
  readonly calls: ApiCall[] = [];
  onCall?: (c: ApiCall) => void;

  readonly retry: RetryOptions;

  constructor(readonly clients: AwsClients, retry: RetryOptions = DEFAULT_RETRY) {
    this.retry = { ...retry };
  }

  /** One API action, retried on throttling/5xx/network errors, recorded. */
  async call<T>(action: string, fn: () => Promise<T>, dryRun = false): Promise<T> {
    const t0 = performance.now();
    try {
      const out = await withRetry(fn, this.retry);
      this.record({ time: new Date().toISOString(), action, ok: true, ms: performance.now() - t0, dryRun });
      return out;
    } catch (err) {
      const name = (err as Error).name;
      this.record({ time: new Date().toISOString(), action, ok: name === 'DryRunOperation', error: name, ms: performance.now() - t0, dryRun });
      throw err;
    }
  }

  private record(c: ApiCall): void {
    this.calls.push(c);
    this.onCall?.(c);
  }

  /** EC2 DryRun: resolves when the caller would be allowed, rejects with UnauthorizedOperation otherwise. */
  async dryRun(action: string, fn: () => Promise<unknown>): Promise<'allowed'> {
    try {
      await this.call(action, fn, true);
    } catch (err) {
      if ((err as Error).name === 'DryRunOperation') return 'allowed';
      throw err;
    }
    throw new Error(`${action} with DryRun=true did not answer DryRunOperation`);
  }

  // ---- STS ----
  /** The account, ARN and user id of the credentials in use: checked (checkAccount) before anything. */
  async callerIdentity(): Promise<CallerIdentity> {
    const sts = this.clients.sts;
    if (!sts) throw new Error('no STS client: build the clients with makeClients()');
    const r = await this.call('sts:GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
    if (!r.Account || !r.Arn) throw new Error('STS GetCallerIdentity answered without an Account or Arn');
    return { account: r.Account, arn: r.Arn, userId: r.UserId ?? '' };
  }

  // ---- EC2 ----
  async describeInstances(ids: string[]): Promise<InstanceInfo[]> {
    const out: InstanceInfo[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const r = await this.call('ec2:DescribeInstances', () => this.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: chunk })));
      for (const res of r.Reservations ?? []) for (const x of res.Instances ?? []) {
        out.push({ id: x.InstanceId!, state: x.State?.Name ?? 'unknown', zone: x.Placement?.AvailabilityZone ?? '', subnetId: x.SubnetId, vpcId: x.VpcId, privateDnsName: x.PrivateDnsName, ownerId: res.OwnerId, lifecycle: x.InstanceLifecycle, tags: tagMap(x.Tags) });
      }
    }
    return out;
  }

  async describeInstancesByTag(key: string, values: string[]): Promise<InstanceInfo[]> {
    const out: InstanceInfo[] = [];
    let token: string | undefined;
    do {
      const r = await this.call('ec2:DescribeInstances', () => this.clients.ec2.send(new DescribeInstancesCommand({ Filters: filters({ [`tag:${key}`]: values }), MaxResults: 1000, NextToken: token })));
      for (const res of r.Reservations ?? []) for (const x of res.Instances ?? []) {
        out.push({ id: x.InstanceId!, state: x.State?.Name ?? 'unknown', zone: x.Placement?.AvailabilityZone ?? '', subnetId: x.SubnetId, vpcId: x.VpcId, privateDnsName: x.PrivateDnsName, ownerId: res.OwnerId, lifecycle: x.InstanceLifecycle, tags: tagMap(x.Tags) });
      }
      token = r.NextToken;
    } while (token);
    return out;
  }

  async stopInstances(ids: string[], dryRun = false): Promise<void> {
    const f = () => this.clients.ec2.send(new StopInstancesCommand({ InstanceIds: ids, DryRun: dryRun }));
    if (dryRun) await this.dryRun('ec2:StopInstances', f);
    else await this.call('ec2:StopInstances', f);
  }

  async startInstances(ids: string[], dryRun = false): Promise<void> {
    const f = () => this.clients.ec2.send(new StartInstancesCommand({ InstanceIds: ids, DryRun: dryRun }));
    if (dryRun) await this.dryRun('ec2:StartInstances', f);
    else await this.call('ec2:StartInstances', f);
  }

  async describeSubnets(f: Record<string, string[]>): Promise<SubnetInfo[]> {
    const out: SubnetInfo[] = [];
    let token: string | undefined;
    do {
      const r = await this.call('ec2:DescribeSubnets', () => this.clients.ec2.send(new DescribeSubnetsCommand({ Filters: filters(f), MaxResults: 1000, NextToken: token })));
      for (const s of r.Subnets ?? []) out.push({ id: s.SubnetId!, vpcId: s.VpcId!, zone: s.AvailabilityZone!, tags: tagMap(s.Tags) });
      token = r.NextToken;
    } while (token);
    return out;
  }

  /**
   * The network interface (zone, InterfaceType, description, id) holding each of `ips`, as a public
   * IP (its Elastic IP / public association: an internet-facing NLB's per-zone address) or a private
   * IP (an internal NLB, a pod with `ip` targets): EC2 DescribeNetworkInterfaces with the filters
   * `association.public-ip` and `addresses.private-ip-address`, one call (paged) per filter and chunk.
   * An address no interface holds is absent from the map.
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkInterfaces.html
   */
  async networkInterfacesByAddress(ips: string[]): Promise<Map<string, AddressInterface>> {
    const want = new Set(ips);
    const out = new Map<string, AddressInterface>();
    const uniq = [...want];
    for (const filter of ['association.public-ip', 'addresses.private-ip-address']) {
      for (let i = 0; i < uniq.length; i += 100) {
        const chunk = uniq.slice(i, i + 100).filter((a) => !out.has(a));
        if (!chunk.length) continue;
        let token: string | undefined;
        do {
          const r = await this.call('ec2:DescribeNetworkInterfaces', () => this.clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters({ [filter]: chunk }), MaxResults: 1000, NextToken: token })));
          for (const n of r.NetworkInterfaces ?? []) {
            const info: AddressInterface = { zone: n.AvailabilityZone ?? '', interfaceType: n.InterfaceType ?? '', description: n.Description ?? '', eniId: n.NetworkInterfaceId ?? '' };
            const held = [n.Association?.PublicIp, n.PrivateIpAddress, ...(n.PrivateIpAddresses ?? []).flatMap((p) => [p.PrivateIpAddress, p.Association?.PublicIp])];
            for (const a of held) if (a && want.has(a) && !out.has(a)) out.set(a, info);
          }
          token = r.NextToken;
        } while (token);
      }
    }
    return out;
  }

  /**
   * ENIs by filters (DescribeNetworkInterfaces: `subnet-id`, `attachment.instance-id`, …), every page. A
   * filter takes at most 200 values (EC2), so longer value lists are asked for in chunks.
   */
  async describeNetworkInterfaces(f: Record<string, string[]>): Promise<EniInfo[]> {
    const out = new Map<string, EniInfo>();
    const long = Object.entries(f).find(([, v]) => v.length > 200);
    if (long) {
      for (let i = 0; i < long[1].length; i += 200) for (const e of await this.describeNetworkInterfaces({ ...f, [long[0]]: long[1].slice(i, i + 200) })) out.set(e.id, e);
      return [...out.values()];
    }
    let token: string | undefined;
    do {
      const r = await this.call('ec2:DescribeNetworkInterfaces', () => this.clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters(f), MaxResults: 1000, NextToken: token })));
      for (const e of r.NetworkInterfaces ?? []) {
        out.set(e.NetworkInterfaceId!, {
          id: e.NetworkInterfaceId!, subnetId: e.SubnetId ?? '', zone: e.AvailabilityZone ?? '', vpcId: e.VpcId ?? '', interfaceType: e.InterfaceType ?? 'interface',
          description: e.Description ?? '', privateIp: e.PrivateIpAddress ?? '', publicIp: e.Association?.PublicIp,
          instanceId: e.Attachment?.InstanceId, instanceOwnerId: e.Attachment?.InstanceOwnerId, deviceIndex: e.Attachment?.DeviceIndex,
          requesterId: e.RequesterId, requesterManaged: e.RequesterManaged ?? false, status: e.Status ?? '', tags: tagMap(e.TagSet),
        });
      }
      token = r.NextToken;
    } while (token);
    return [...out.values()];
  }

  /** Interface VPC endpoints by id: id → service name (com.amazonaws.<region>.<service>). */
  async vpcEndpointServices(ids: string[]): Promise<Map<string, string>> {
    const m = new Map<string, string>();
    if (!ids.length) return m;
    let token: string | undefined;
    do {
      const r = await this.call('ec2:DescribeVpcEndpoints', () => this.clients.ec2.send(new DescribeVpcEndpointsCommand({ Filters: filters({ 'vpc-endpoint-id': ids }), MaxResults: 1000, NextToken: token })));
      for (const e of r.VpcEndpoints ?? []) m.set(e.VpcEndpointId!, e.ServiceName ?? '');
      token = r.NextToken;
    } while (token);
    return m;
  }

  async vpcHasIpv6(vpcId: string): Promise<boolean> {
    const r = await this.call('ec2:DescribeVpcs', () => this.clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })));
    return (r.Vpcs?.[0]?.Ipv6CidrBlockAssociationSet ?? []).some((a) => a.Ipv6CidrBlockState?.State === 'associated');
  }

  async describeNetworkAcls(f: Record<string, string[]>, ids?: string[]): Promise<AclInfo[]> {
    const out: AclInfo[] = [];
    let token: string | undefined;
    do {
      const r = await this.call('ec2:DescribeNetworkAcls', () => this.clients.ec2.send(new DescribeNetworkAclsCommand({ Filters: ids ? undefined : filters(f), NetworkAclIds: ids, MaxResults: ids ? undefined : 1000, NextToken: token })));
      for (const a of r.NetworkAcls ?? []) {
        out.push({ id: a.NetworkAclId!, vpcId: a.VpcId!, isDefault: a.IsDefault ?? false, associations: (a.Associations ?? []).map((x) => ({ id: x.NetworkAclAssociationId!, subnetId: x.SubnetId! })), tags: tagMap(a.Tags) });
      }
      token = r.NextToken;
    } while (token);
    return out;
  }

  /** The ACL a subnet is associated with now, and the association id. */
  async subnetAssociation(subnetId: string): Promise<{ aclId: string; associationId: string }> {
    const [acl] = await this.describeNetworkAcls({ 'association.subnet-id': [subnetId] });
    const assoc = acl?.associations.find((a) => a.subnetId === subnetId);
    if (!acl || !assoc) throw new Error(`subnet ${subnetId} has no network ACL association`);
    return { aclId: acl.id, associationId: assoc.id };
  }

  createNetworkAcl(vpcId: string, tags: Record<string, string>, clientToken: string, dryRun = false) {
    const f = () => this.clients.ec2.send(new CreateNetworkAclCommand({
      VpcId: vpcId, ClientToken: clientToken, DryRun: dryRun,
      TagSpecifications: [{ ResourceType: 'network-acl', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    }));
    if (dryRun) return this.dryRun('ec2:CreateNetworkAcl', f).then(() => undefined);
    return this.call('ec2:CreateNetworkAcl', f).then((r) => r.NetworkAcl!.NetworkAclId!);
  }

  replaceNetworkAclAssociation(associationId: string, aclId: string, dryRun = false) {
    const f = () => this.clients.ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: associationId, NetworkAclId: aclId, DryRun: dryRun }));
    if (dryRun) return this.dryRun('ec2:ReplaceNetworkAclAssociation', f).then(() => undefined);
    return this.call('ec2:ReplaceNetworkAclAssociation', f).then((r) => r.NewAssociationId!);
  }

  async deleteNetworkAcl(aclId: string, dryRun = false): Promise<void> {
    const f = () => this.clients.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: aclId, DryRun: dryRun }));
    if (dryRun) await this.dryRun('ec2:DeleteNetworkAcl', f);
    else await this.call('ec2:DeleteNetworkAcl', f);
  }

  async createTags(ids: string[], tags: Record<string, string>, dryRun = false): Promise<void> {
    const f = () => this.clients.ec2.send(new CreateTagsCommand({ Resources: ids, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), DryRun: dryRun }));
    if (dryRun) await this.dryRun('ec2:CreateTags', f);
    else await this.call('ec2:CreateTags', f);
  }

  async deleteTags(ids: string[], keys: string[]): Promise<void> {
    await this.call('ec2:DeleteTags', () => this.clients.ec2.send(new DeleteTagsCommand({ Resources: ids, Tags: keys.map((Key) => ({ Key })) })));
  }

  // ---- Auto Scaling ----
  async asgOfInstances(ids: string[]): Promise<Map<string, string>> {
    const m = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 50) {
      const r = await this.call('autoscaling:DescribeAutoScalingInstances', () => this.clients.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids.slice(i, i + 50) })));
      for (const x of r.AutoScalingInstances ?? []) m.set(x.InstanceId!, x.AutoScalingGroupName!);
    }
    return m;
  }

  async asgGroup(name: string): Promise<{ name: string; suspended: string[]; instances: Array<{ id: string; lifecycle: string; health: string }> } | undefined> {
    const r = await this.call('autoscaling:DescribeAutoScalingGroups', () => this.clients.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })));
    const g = r.AutoScalingGroups?.[0];
    if (!g) return undefined;
    return { name, suspended: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName!), instances: (g.Instances ?? []).map((i) => ({ id: i.InstanceId!, lifecycle: i.LifecycleState!, health: i.HealthStatus! })) };
  }

  /** Tags on an Auto Scaling group (the harness's chaos:* marks of a suspension). */
  async tagGroup(asg: string, tags: Record<string, string>): Promise<void> {
    await this.call('autoscaling:CreateOrUpdateTags', () => this.clients.asg.send(new CreateOrUpdateTagsCommand({
      Tags: Object.entries(tags).map(([Key, Value]) => ({ ResourceId: asg, ResourceType: 'auto-scaling-group', Key, Value, PropagateAtLaunch: false })),
    })));
  }

  async untagGroup(asg: string, keys: string[]): Promise<void> {
    await this.call('autoscaling:DeleteTags', () => this.clients.asg.send(new AsgDeleteTagsCommand({ Tags: keys.map((Key) => ({ ResourceId: asg, ResourceType: 'auto-scaling-group', Key })) })));
  }

  /** Auto Scaling groups carrying a tag key, with their tags and suspended processes. */
  async groupsByTag(key: string): Promise<Array<{ name: string; tags: Record<string, string>; suspended: string[] }>> {
    const r = await this.call('autoscaling:DescribeAutoScalingGroups', () => this.clients.asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag-key', Values: [key] }] })));
    return (r.AutoScalingGroups ?? []).map((g) => ({
      name: g.AutoScalingGroupName ?? '',
      tags: Object.fromEntries((g.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      suspended: (g.SuspendedProcesses ?? []).map((x) => x.ProcessName ?? ''),
    }));
  }

  async suspendProcesses(asg: string, processes: string[]): Promise<void> {
    await this.call('autoscaling:SuspendProcesses', () => this.clients.asg.send(new SuspendProcessesCommand({ AutoScalingGroupName: asg, ScalingProcesses: processes })));
  }

  async resumeProcesses(asg: string, processes: string[]): Promise<void> {
    await this.call('autoscaling:ResumeProcesses', () => this.clients.asg.send(new ResumeProcessesCommand({ AutoScalingGroupName: asg, ScalingProcesses: processes })));
  }

  // ---- SSM ----
  async pingStatus(ids: string[]): Promise<Map<string, string>> {
    const m = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 50) {
      let token: string | undefined;
      do {
        const r = await this.call('ssm:DescribeInstanceInformation', () => this.clients.ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: ids.slice(i, i + 50) }], MaxResults: 50, NextToken: token })));
        for (const x of r.InstanceInformationList ?? []) m.set(x.InstanceId!, x.PingStatus!);
        token = r.NextToken;
      } while (token);
    }
    return m;
  }

  async sendShellScript(ids: string[], commands: string[], comment: string, executionTimeoutSeconds: number): Promise<string> {
    if (ids.length > 50) throw new Error(`SendCommand takes at most 50 instance ids, got ${ids.length}`);
    const r = await this.call('ssm:SendCommand', () => this.clients.ssm.send(new SendCommandCommand({
      InstanceIds: ids, DocumentName: 'AWS-RunShellScript', Comment: comment.slice(0, 100), TimeoutSeconds: 60,
      Parameters: { commands, executionTimeout: [String(executionTimeoutSeconds)] },
    })));
    return r.Command!.CommandId!;
  }

  /**
   * Runs one of the harness's own SSM documents (harness/aws/ssm-documents.ts) on ≤ 50 instances; the
   * document's default version, the parameters as given (SSM validates them against the document's
   * allowedValues/allowedPattern) plus executionTimeout. Returns the command id.
   */
  async sendDocument(ids: string[], documentName: string, parameters: Record<string, string>, comment: string, timeoutSeconds: number): Promise<string> {
    if (ids.length > 50) throw new Error(`SendCommand takes at most 50 instance ids, got ${ids.length}`);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) throw new Error(`sendDocument: timeoutSeconds must be a positive integer, got ${timeoutSeconds}`);
    const params: Record<string, string[]> = Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, [v]]));
    params.executionTimeout ??= [String(timeoutSeconds)];
    const Comment = comment.slice(0, 100);
    // A SendCommand that failed on the network or with a 5xx may have been delivered: before sending
    // again, look for it by its comment (unique per run and action) and use that one.
    let attempted = false;
    const r = await this.call('ssm:SendCommand', async () => {
      if (attempted) {
        const sent = (await this.clients.ssm.send(new ListCommandsCommand({ InstanceId: ids[0] }))).Commands
          ?.find((c) => c.Comment === Comment && c.DocumentName === documentName && ids.every((id) => c.InstanceIds?.includes(id)));
        if (sent?.CommandId) return { Command: sent };
      }
      attempted = true;
      return this.clients.ssm.send(new SendCommandCommand({ InstanceIds: ids, DocumentName: documentName, DocumentVersion: '$DEFAULT', Comment, TimeoutSeconds: 60, Parameters: params }));
    });
    return r.Command!.CommandId!;
  }

  /**
   * Makes the account's copies of the harness's SSM documents match harness/aws/ssm-documents.ts:
   * creates a missing one, updates one whose default version differs (a new version, made the
   * default), leaves an equal one alone, and says which. With dryRun only reads (DescribeDocument,
   * GetDocument) and reports missing / differs / unchanged: what daemon-kill checks before it runs.
   */
  async installDocuments(opts: { dryRun?: boolean; documents?: readonly HarnessDocument[] } = {}): Promise<DocumentInstall[]> {
    const out: DocumentInstall[] = [];
    for (const d of opts.documents ?? HARNESS_DOCUMENTS) out.push(await this.installDocument(d, opts.dryRun ?? false));
    return out;
  }

  private async installDocument(d: HarnessDocument, dryRun: boolean): Promise<DocumentInstall> {
    const ssm = this.clients.ssm;
    let desc;
    try {
      desc = (await this.call('ssm:DescribeDocument', () => ssm.send(new DescribeDocumentCommand({ Name: d.name })))).Document;
    } catch (err) {
      if ((err as Error).name !== 'InvalidDocument') throw err;
    }
    if (!desc) {
      if (dryRun) return { name: d.name, action: 'missing', detail: `${d.name} is not in the account (run: npm run chaos -- install-documents)` };
      const c = await this.call('ssm:CreateDocument', () => ssm.send(new CreateDocumentCommand({ Name: d.name, Content: d.text, DocumentType: 'Command', DocumentFormat: 'JSON' })));
      return { name: d.name, action: 'created', version: c.DocumentDescription?.DefaultVersion ?? '1', detail: `created ${d.name} (sha256 ${d.hash.slice(0, 12)})` };
    }
    const same = async (version?: string) => {
      const g = await this.call('ssm:GetDocument', () => ssm.send(new GetDocumentCommand({ Name: d.name, DocumentVersion: version, DocumentFormat: 'JSON' })));
      try {
        return sameDocumentContent(JSON.parse(g.Content ?? ''), d.content);
      } catch {
        return false;
      }
    };
    const def = desc.DefaultVersion;
    if (await same(def)) return { name: d.name, action: 'unchanged', version: def, detail: `${d.name} version ${def} matches` };
    if (dryRun) return { name: d.name, action: 'differs', version: def, detail: `${d.name} default version ${def} differs from the harness's (run: npm run chaos -- install-documents)` };
    // UpdateDocument refuses content equal to the latest version (DuplicateDocumentContent): when the
    // latest already is ours (an earlier install stopped before making it the default), only switch.
    let version = desc.LatestVersion;
    if (!(version && version !== def && (await same(version)))) {
      const u = await this.call('ssm:UpdateDocument', () => ssm.send(new UpdateDocumentCommand({ Name: d.name, Content: d.text, DocumentVersion: '$LATEST', DocumentFormat: 'JSON' })));
      version = u.DocumentDescription?.DocumentVersion;
    }
    if (!version) throw new Error(`UpdateDocument of ${d.name} answered without a DocumentVersion`);
    await this.call('ssm:UpdateDocumentDefaultVersion', () => ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: d.name, DocumentVersion: version })));
    return { name: d.name, action: 'updated', version, detail: `updated ${d.name}: version ${version} (sha256 ${d.hash.slice(0, 12)}) is the default now, was ${def}` };
  }

  /** undefined while SSM still answers InvocationDoesNotExist (right after SendCommand). */
  async invocation(commandId: string, instanceId: string): Promise<InvocationInfo | undefined> {
    try {
      const r = await this.call('ssm:GetCommandInvocation', () => this.clients.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })));
      return { status: r.Status!, statusDetails: r.StatusDetails, responseCode: r.ResponseCode, stdout: r.StandardOutputContent ?? '', stderr: r.StandardErrorContent ?? '' };
    } catch (err) {
      if ((err as Error).name === 'InvocationDoesNotExist') return undefined;
      throw err;
    }
  }
}
