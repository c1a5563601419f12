// EC2 Query API (Version 2016-11-15) over the lab world, with AWS's documented semantics and error
// codes for the actions the harness uses.
import { AwsError, ec2Filters, listParam, structList, type Filter, type QueryParams, type XmlNode } from './wire.js';
import { ACCOUNT_ID, hexId, STATE_CODES, type AclEntry, type Instance, type LabNetworkInterface, type NetworkAcl, type World } from './model.js';

type Handler = (w: World, p: QueryParams) => XmlNode;

const ID_PATTERNS: Record<string, RegExp> = {
  instance: /^i-[0-9a-f]{8}([0-9a-f]{9})?$/,
  acl: /^acl-[0-9a-f]{8}([0-9a-f]{9})?$/,
  subnet: /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/,
  vpc: /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/,
  aclassoc: /^aclassoc-[0-9a-f]{8}([0-9a-f]{9})?$/,
  eni: /^eni-[0-9a-f]{8}([0-9a-f]{9})?$/,
  vpce: /^vpce-[0-9a-f]{8}([0-9a-f]{9})?$/,
};

function need(p: QueryParams, name: string): string {
  const v = p.get(name);
  if (v === undefined || v === '') throw new AwsError('MissingParameter', `The request must contain the parameter ${name}`);
  return v;
}

function checkId(kind: keyof typeof ID_PATTERNS, id: string, code: string): void {
  if (!ID_PATTERNS[kind].test(id)) throw new AwsError(code, `Invalid id: "${id}"`);
}

/** AWS filter values accept `*` and `?` wildcards. */
function matches(values: string[], actual: string | undefined): boolean {
  if (actual === undefined) return false;
  return values.some((v) => new RegExp(`^${v.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(actual));
}

type Getter<T> = (item: T, name: string) => string | string[] | undefined;

function applyFilters<T>(w: World, items: T[], filters: Filter[], idOf: (t: T) => string, get: Getter<T>, known: string[], tagsOf: (t: T) => Map<string, string> | undefined = (t) => w.tags.get(idOf(t))): T[] {
  for (const f of filters) {
    if (!f.name.startsWith('tag:') && f.name !== 'tag-key' && !known.includes(f.name)) {
      throw new AwsError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
    }
  }
  return items.filter((it) => filters.every((f) => {
    if (f.name.startsWith('tag:')) return matches(f.values, tagsOf(it)?.get(f.name.slice(4)));
    if (f.name === 'tag-key') return [...(tagsOf(it)?.keys() ?? [])].some((k) => matches(f.values, k));
    const v = get(it, f.name);
    return Array.isArray(v) ? v.some((x) => matches(f.values, x)) : matches(f.values, v);
  }));
}

function dryRun(w: World, p: QueryParams, action: string, denied: Set<string>, validate: () => void = () => {}): void {
  if (denied.has(`ec2:${action}`)) throw new AwsError('UnauthorizedOperation', `You are not authorized to perform this operation. User: arn:aws:iam::${'123456789012'}:user/lab is not authorized to perform: ec2:${action} because no identity-based policy allows the ec2:${action} action`, 403);
  validate();
  if ((p.get('DryRun') ?? '').toLowerCase() === 'true') throw new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
}

function paginate<T>(items: T[], p: QueryParams, min: number, max: number, allowed = true, idsParam = 'instancesSet'): { page: T[]; nextToken?: string } {
  const mr = p.get('MaxResults');
  const tok = p.get('NextToken');
  let start = 0;
  if (tok) {
    const m = /^lab-page-(\d+)$/.exec(Buffer.from(tok, 'base64').toString());
    if (!m) throw new AwsError('InvalidParameterValue', `Invalid value '${tok}' for nextToken`);
    start = Number(m[1]);
  }
  if (mr === undefined) return { page: items.slice(start) };
  if (!allowed) throw new AwsError('InvalidParameterCombination', `The parameter ${idsParam} cannot be used with the parameter maxResults`);
  const n = Number(mr);
  if (!Number.isInteger(n) || n < min || n > max) throw new AwsError('InvalidParameterValue', `Value ( ${mr} ) for parameter maxResults is invalid. Expecting a value between ${min} and ${max}.`);
  const page = items.slice(start, start + n);
  const next = start + n < items.length ? Buffer.from(`lab-page-${start + n}`).toString('base64') : undefined;
  return { page, nextToken: next };
}

function tagSet(w: World, id: string): XmlNode[] {
  return w.tagsOf(id).map(({ key, value }) => ({ key, value }));
}

function instanceXml(w: World, i: Instance): XmlNode {
  const s = w.subnetById(i.subnetId)!;
  return {
    instanceId: i.id,
    imageId: AMI_IDS[i.spec.os],
    instanceState: { code: STATE_CODES[i.state], name: i.state },
    privateDnsName: i.state === 'terminated' ? '' : i.spec.privateDnsName,
    dnsName: '',
    reason: i.stateTransitionReason,
    amiLaunchIndex: 0,
    instanceType: w.instanceType(),
    // EC2 DescribeInstances: instanceLifecycle is `spot` for Spot Instances and absent for On-Demand ones
    instanceLifecycle: i.spec.capacityType === 'spot' ? 'spot' : undefined,
    spotInstanceRequestId: i.spotInstanceRequestId,
    launchTime: i.launchTime.toISOString(),
    placement: { availabilityZone: i.spec.zone, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: i.state === 'terminated' ? undefined : s.id,
    vpcId: i.state === 'terminated' ? undefined : s.vpcId,
    privateIpAddress: i.state === 'terminated' ? undefined : i.spec.privateIp,
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    stateReason: i.stateReason ? { code: i.stateReason.code, message: i.stateReason.message } : undefined,
    tagSet: tagSet(w, i.id),
    privateDnsNameOptions: { hostnameType: 'ip-name', enableResourceNameDnsARecord: false, enableResourceNameDnsAAAARecord: false },
  };
}

/** One AMI per OS image (the EKS-optimized AL2023, AL2 and Bottlerocket aws-k8s AMIs), fixed ids. */
const AMI_IDS: Record<Instance['spec']['os'], string> = { al2023: 'ami-0b1e2c9a7d3f4e5a6', al2: 'ami-0c2f3d4e5a6b7c8d9', bottlerocket: 'ami-0d3a4b5c6d7e8f901' };

/**
 * StopInstances on a Spot Instance: EC2 refuses with UnsupportedOperation unless the instance came
 * from a persistent Spot request (EC2 User Guide, "Stop a Spot Instance": only Spot Instances of a
 * persistent request can be stopped). Karpenter launches Spot through EC2 Fleet `instant`, i.e.
 * one-time requests, so its Spot nodes can never be stopped. EC2 fails the whole call (nothing is
 * stopped) when any id is such an instance. The message is EC2's, as the CLI/SDKs print it.
 */
function refuseSpotStop(insts: Instance[]): void {
  const spot = insts.find((i) => i.spec.capacityType === 'spot' && i.state !== 'terminated');
  if (spot) {
    throw new AwsError('UnsupportedOperation', `You can't stop the Spot Instance '${spot.id}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`);
  }
}

function lookupInstances(w: World, ids: string[]): Instance[] {
  for (const id of ids) checkId('instance', id, 'InvalidInstanceID.Malformed');
  const missing = ids.filter((id) => !w.instances.has(id));
  if (missing.length) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist`);
  return ids.map((id) => w.instances.get(id)!);
}

function aclXml(w: World, a: NetworkAcl): XmlNode {
  return {
    networkAclId: a.id,
    vpcId: a.vpcId,
    default: a.isDefault,
    entrySet: [...a.entries, ...defaultDenies(w, a)]
      .sort((x, y) => Number(x.egress) - Number(y.egress) || x.ruleNumber - y.ruleNumber)
      .map((e) => ({
        ruleNumber: e.ruleNumber, protocol: e.protocol, ruleAction: e.ruleAction, egress: e.egress,
        cidrBlock: e.cidrBlock, ipv6CidrBlock: e.ipv6CidrBlock,
        portRange: e.portRange ? { from: e.portRange.from, to: e.portRange.to } : undefined,
      })),
    associationSet: [...a.associations.entries()].map(([id, subnetId]) => ({ networkAclAssociationId: id, networkAclId: a.id, subnetId })),
    tagSet: tagSet(w, a.id),
    ownerId: '123456789012',
  };
}

/** The `*` rules every ACL ends with (IPv6 ones too, since the VPC has an IPv6 block). */
function defaultDenies(_w: World, _a: NetworkAcl): AclEntry[] {
  const out: AclEntry[] = [];
  for (const egress of [false, true]) {
    out.push({ ruleNumber: 32767, protocol: '-1', ruleAction: 'deny', egress, cidrBlock: '0.0.0.0/0' });
    out.push({ ruleNumber: 32768, protocol: '-1', ruleAction: 'deny', egress, ipv6CidrBlock: '::/0' });
  }
  return out;
}

function tagSpecs(p: QueryParams): Array<{ resourceType: string; tags: Record<string, string> }> {
  return structList(p, 'TagSpecification').map((g) => {
    const tags: Record<string, string> = {};
    for (const t of structList(g, 'Tag')) tags[t.get('Key') ?? ''] = t.get('Value') ?? '';
    return { resourceType: g.get('ResourceType') ?? '', tags };
  });
}

function findAcl(w: World, id: string): NetworkAcl {
  checkId('acl', id, 'InvalidNetworkAclID.Malformed');
  const a = w.acls.get(id);
  if (!a) throw new AwsError('InvalidNetworkAclID.NotFound', `The networkAcl ID '${id}' does not exist`);
  return a;
}

function resourceType(id: string): string {
  const prefix = id.split('-')[0];
  return ({ i: 'instance', acl: 'network-acl', subnet: 'subnet', vpc: 'vpc' } as Record<string, string>)[prefix] ?? prefix;
}

function resourceExists(w: World, id: string): boolean {
  return w.instances.has(id) || w.acls.has(id) || w.subnets.some((s) => s.id === id) || w.vpc.id === id || (id.startsWith('eni-') && w.allNetworkInterfaces().some((e) => e.id === id));
}

/** An ENI's tags: its own (the VPC CNI's) and any set through CreateTags. */
function eniTags(w: World, e: LabNetworkInterface): Map<string, string> {
  return new Map([...Object.entries(e.tags), ...(w.tags.get(e.id) ?? new Map<string, string>())]);
}

/** The filters DescribeNetworkInterfaces supports (EC2 API Reference, DescribeNetworkInterfaces), by value. */
function eniFilterValue(w: World, e: LabNetworkInterface, name: string): string | string[] | undefined {
  const a = e.attachment;
  switch (name) {
    case 'network-interface-id': return e.id;
    case 'subnet-id': return e.subnetId;
    case 'vpc-id': return e.vpcId;
    case 'availability-zone': return e.zone;
    case 'interface-type': return e.interfaceType;
    case 'description': return e.description;
    case 'status': return e.status;
    case 'owner-id': return ACCOUNT_ID;
    case 'requester-id': return e.requesterId;
    case 'requester-managed': return String(e.requesterManaged);
    case 'source-dest-check': return 'true';
    case 'private-ip-address': return e.privateIp;
    case 'private-dns-name': return privateDnsName(e.privateIp);
    case 'addresses.private-ip-address': return [e.privateIp, ...e.secondaryIps];
    case 'addresses.primary': return e.secondaryIps.length ? ['true', 'false'] : ['true'];
    case 'association.public-ip': return e.publicIp;
    case 'addresses.association.public-ip': return e.publicIp;
    case 'association.ip-owner-id': return e.publicIp ? 'amazon' : undefined;
    case 'association.public-dns-name': return e.publicIp ? publicDnsName(e.publicIp) : undefined;
    case 'attachment.instance-id': return a?.instanceId;
    case 'attachment.instance-owner-id': return a?.instanceOwnerId;
    case 'attachment.device-index': return a ? String(a.deviceIndex) : undefined;
    case 'attachment.status': return a?.status;
    case 'attachment.attachment-id': return a ? attachmentId(e) : undefined;
    case 'attachment.delete-on-termination': return a ? String(!!a.instanceId) : undefined;
    default: return undefined;
  }
}
const ENI_FILTERS = ['network-interface-id', 'subnet-id', 'vpc-id', 'availability-zone', 'interface-type', 'description', 'status', 'owner-id', 'requester-id', 'requester-managed',
  'source-dest-check', 'private-ip-address', 'private-dns-name', 'addresses.private-ip-address', 'addresses.primary', 'association.public-ip', 'addresses.association.public-ip',
  'association.ip-owner-id', 'association.public-dns-name', 'attachment.instance-id', 'attachment.instance-owner-id', 'attachment.device-index', 'attachment.status',
  'attachment.attachment-id', 'attachment.delete-on-termination'];

const privateDnsName = (ip: string) => `ip-${ip.replaceAll('.', '-')}.ec2.internal`;
const publicDnsName = (ip: string) => `ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com`;
/** Instances' attachments are `eni-attach-…`; those of requester-managed ENIs `ela-attach-…` (as EC2 shows them). */
const attachmentId = (e: LabNetworkInterface) => hexId(e.attachment?.instanceId ? 'eni-attach' : 'ela-attach', `${e.id}/attachment`);
/** A locally administered MAC address, stable per ENI. */
const macOf = (id: string) => `02:${hexId('x', `${id}/mac`).slice(3, 13).match(/../g)!.join(':')}`;

/** One ENI as EC2's describeNetworkInterfaces XML has it (networkInterfaceSet/item). */
function eniXml(w: World, e: LabNetworkInterface): XmlNode {
  const assoc = e.publicIp ? { publicIp: e.publicIp, publicDnsName: publicDnsName(e.publicIp), ipOwnerId: 'amazon' } : undefined;
  return {
    networkInterfaceId: e.id,
    subnetId: e.subnetId,
    vpcId: e.vpcId,
    availabilityZone: e.zone,
    description: e.description,
    ownerId: ACCOUNT_ID,
    requesterId: e.requesterId,
    requesterManaged: e.requesterManaged,
    status: e.status,
    macAddress: macOf(e.id),
    privateIpAddress: e.privateIp,
    privateDnsName: privateDnsName(e.privateIp),
    sourceDestCheck: true,
    groupSet: [{ groupId: hexId('sg', `${w.vpc.id}/${e.interfaceType === 'interface' && !e.requesterManaged ? 'cluster' : e.interfaceType}`), groupName: e.interfaceType === 'interface' ? `eks-cluster-sg-${w.cluster}` : 'default' }],
    attachment: e.attachment ? {
      attachmentId: attachmentId(e), instanceId: e.attachment.instanceId, instanceOwnerId: e.attachment.instanceOwnerId, deviceIndex: e.attachment.deviceIndex,
      networkCardIndex: 0, status: e.attachment.status, attachTime: '2026-01-01T00:00:00.000Z', deleteOnTermination: !!e.attachment.instanceId,
    } : undefined,
    association: assoc,
    tagSet: [...eniTags(w, e)].map(([key, value]) => ({ key, value })),
    privateIpAddressesSet: [
      { privateIpAddress: e.privateIp, privateDnsName: privateDnsName(e.privateIp), primary: true, association: assoc },
      ...e.secondaryIps.map((ip) => ({ privateIpAddress: ip, privateDnsName: privateDnsName(ip), primary: false })),
    ],
    ipv6AddressesSet: [],
    interfaceType: e.interfaceType,
  };
}

function entryFromParams(p: QueryParams): AclEntry {
  const ruleNumber = Number(need(p, 'RuleNumber'));
  if (!Number.isInteger(ruleNumber) || ruleNumber < 1 || ruleNumber > 32766) throw new AwsError('InvalidParameterValue', `Invalid value '${p.get('RuleNumber')}' for ruleNumber. It must be an integer between 1 and 32766`);
  const protocol = need(p, 'Protocol');
  const protoNum = ({ tcp: '6', udp: '17', icmp: '1', all: '-1' } as Record<string, string>)[protocol.toLowerCase()] ?? protocol;
  if (!/^(-1|\d{1,3})$/.test(protoNum)) throw new AwsError('InvalidParameterValue', `Invalid value '${protocol}' for protocol`);
  const ruleAction = need(p, 'RuleAction');
  if (ruleAction !== 'allow' && ruleAction !== 'deny') throw new AwsError('InvalidParameterValue', `Invalid value '${ruleAction}' for ruleAction`);
  const cidr = p.get('CidrBlock');
  const v6 = p.get('Ipv6CidrBlock');
  if (!cidr && !v6) throw new AwsError('MissingParameter', 'Either CidrBlock or Ipv6CidrBlock must be specified');
  if (cidr && v6) throw new AwsError('InvalidParameterCombination', 'Only one of CidrBlock and Ipv6CidrBlock may be specified');
  if (cidr && !/^\d+\.\d+\.\d+\.\d+\/\d{1,2}$/.test(cidr)) throw new AwsError('InvalidParameterValue', `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
  let portRange: AclEntry['portRange'];
  if (protoNum === '6' || protoNum === '17') {
    const from = p.get('PortRange.From');
    const to = p.get('PortRange.To');
    if (from === undefined || to === undefined) throw new AwsError('InvalidParameterValue', 'PortRange is required for protocol tcp/udp');
    portRange = { from: Number(from), to: Number(to) };
  }
  return { ruleNumber, protocol: protoNum, ruleAction, egress: (p.get('Egress') ?? 'false').toLowerCase() === 'true', cidrBlock: cidr, ipv6CidrBlock: v6, portRange };
}

export function ec2Handlers(denied: Set<string>): Record<string, Handler> {
  return {
    DescribeInstances(w, p) {
      const ids = listParam(p, 'InstanceId');
      const filters = ec2Filters(p);
      let items = ids.length ? lookupInstances(w, ids) : [...w.instances.values()];
      items = applyFilters(w, items, filters, (i) => i.id, (i, n) => ({
        'instance-id': i.id, 'instance-state-name': i.state, 'instance-state-code': String(STATE_CODES[i.state]),
        'availability-zone': i.spec.zone, 'subnet-id': i.subnetId, 'vpc-id': w.vpc.id, 'private-dns-name': i.spec.privateDnsName,
        'private-ip-address': i.spec.privateIp, 'instance-type': w.instanceType(),
        ...(i.spec.capacityType === 'spot' ? { 'instance-lifecycle': 'spot', 'spot-instance-request-id': i.spotInstanceRequestId } : {}),
      } as Record<string, string>)[n], ['instance-id', 'instance-state-name', 'instance-state-code', 'availability-zone', 'subnet-id', 'vpc-id', 'private-dns-name', 'private-ip-address', 'instance-type', 'instance-lifecycle', 'spot-instance-request-id']);
      const { page, nextToken } = paginate(items, p, 5, 1000, ids.length === 0);
      // One reservation per instance, as an Auto Scaling group launches them one at a time.
      return {
        reservationSet: page.map((i) => ({ reservationId: hexId('r', `${i.id}/reservation`), ownerId: '123456789012', groupSet: [], instancesSet: [instanceXml(w, i)] })),
        nextToken,
      };
    },
    StopInstances(w, p) {
      const ids = listParam(p, 'InstanceId');
      if (!ids.length) throw new AwsError('MissingParameter', 'The request must contain the parameter InstanceId');
      const insts = lookupInstances(w, ids);
      // The Spot check comes before DryRunOperation: a dry run answers whether the request would
      // succeed, and this one would not. (Whether EC2 orders it so is not documented; the lab picks
      // UnsupportedOperation for a dry run too, after the IAM check.)
      dryRun(w, p, 'StopInstances', denied, () => refuseSpotStop(insts));
      for (const i of insts) {
        if (i.state === 'pending' || i.state === 'shutting-down' || i.state === 'terminated') {
          throw new AwsError('IncorrectInstanceState', `This instance '${i.id}' is not in a state from which it can be stopped.`);
        }
      }
      return { instancesSet: insts.map((i) => { const r = w.stop(i); return { instanceId: i.id, currentState: { code: STATE_CODES[r.cur], name: r.cur }, previousState: { code: STATE_CODES[r.prev], name: r.prev } }; }) };
    },
    StartInstances(w, p) {
      const ids = listParam(p, 'InstanceId');
      if (!ids.length) throw new AwsError('MissingParameter', 'The request must contain the parameter InstanceId');
      const insts = lookupInstances(w, ids);
      dryRun(w, p, 'StartInstances', denied);
      for (const i of insts) {
        if (i.state === 'stopping' || i.state === 'shutting-down' || i.state === 'terminated') {
          throw new AwsError('IncorrectInstanceState', `The instance '${i.id}' is not in a state from which it can be started.`);
        }
      }
      return { instancesSet: insts.map((i) => { const r = w.start(i); return { instanceId: i.id, currentState: { code: STATE_CODES[r.cur], name: r.cur }, previousState: { code: STATE_CODES[r.prev], name: r.prev } }; }) };
    },
    DescribeNetworkInterfaces(w, p) {
      const ids = listParam(p, 'NetworkInterfaceId');
      for (const id of ids) checkId('eni', id, 'InvalidNetworkInterfaceID.Malformed');
      const all = w.allNetworkInterfaces();
      let items = all;
      if (ids.length) {
        const missing = ids.filter((id) => !all.some((e) => e.id === id));
        if (missing.length) throw new AwsError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID${missing.length > 1 ? 's' : ''} '${missing.join(', ')}' ${missing.length > 1 ? 'do' : 'does'} not exist`);
        items = ids.map((id) => all.find((e) => e.id === id)!);
      }
      items = applyFilters(w, items, ec2Filters(p), (e) => e.id, (e, n) => eniFilterValue(w, e, n), ENI_FILTERS, (e) => eniTags(w, e));
      // "You cannot specify this parameter and the network interface IDs parameter in the same request." (MaxResults 5-1000)
      const { page, nextToken } = paginate(items, p, 5, 1000, ids.length === 0, 'networkInterfaceIdSet');
      return { networkInterfaceSet: page.map((e) => eniXml(w, e)), nextToken };
    },
    DescribeVpcEndpoints(w, p) {
      const ids = listParam(p, 'VpcEndpointId');
      for (const id of ids) checkId('vpce', id, 'InvalidVpcEndpointId.Malformed');
      const missing = ids.filter((id) => !w.vpcEndpoints.some((e) => e.id === id));
      if (missing.length) throw new AwsError('InvalidVpcEndpointId.NotFound', `The Vpc Endpoint Id '${missing.join(', ')}' does not exist`);
      let items = ids.length ? w.vpcEndpoints.filter((e) => ids.includes(e.id)) : [...w.vpcEndpoints];
      items = applyFilters(w, items, ec2Filters(p), (e) => e.id, (e, n) => ({ 'vpc-endpoint-id': e.id, 'vpc-id': w.vpc.id, 'service-name': e.serviceName, 'vpc-endpoint-type': 'Interface', 'vpc-endpoint-state': 'available' } as Record<string, string>)[n],
        ['vpc-endpoint-id', 'vpc-id', 'service-name', 'vpc-endpoint-type', 'vpc-endpoint-state']);
      const { page, nextToken } = paginate(items, p, 5, 1000);
      return {
        vpcEndpointSet: page.map((e) => ({
          vpcEndpointId: e.id, vpcEndpointType: 'Interface', vpcId: w.vpc.id, serviceName: e.serviceName, state: 'available', privateDnsEnabled: true, requesterManaged: false,
          subnetIdSet: e.subnetIds, networkInterfaceIdSet: e.eniIds, ownerId: ACCOUNT_ID, ipAddressType: 'ipv4', creationTimestamp: '2026-01-01T00:00:00.000Z', tagSet: tagSet(w, e.id),
        })),
        nextToken,
      };
    },
    DescribeVpcs(w, p) {
      const ids = listParam(p, 'VpcId');
      for (const id of ids) { checkId('vpc', id, 'InvalidVpcID.Malformed'); if (id !== w.vpc.id) throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`); }
      const items = applyFilters(w, [w.vpc], ec2Filters(p), (v) => v.id, (v, n) => ({ 'vpc-id': v.id, 'cidr-block': v.cidr, state: 'available', 'is-default': 'false' } as Record<string, string>)[n], ['vpc-id', 'cidr-block', 'state', 'is-default']);
      return {
        vpcSet: items.map((v) => ({
          vpcId: v.id, state: 'available', cidrBlock: v.cidr, ownerId: '123456789012', instanceTenancy: 'default', isDefault: false,
          cidrBlockAssociationSet: [{ associationId: hexId('vpc-cidr-assoc', `${v.id}/v4`), cidrBlock: v.cidr, cidrBlockState: { state: 'associated' } }],
          ipv6CidrBlockAssociationSet: [{ associationId: hexId('vpc-cidr-assoc', `${v.id}/v6`), ipv6CidrBlock: v.ipv6Cidr, ipv6CidrBlockState: { state: 'associated' }, networkBorderGroup: 'us-east-1', ipv6Pool: 'Amazon' }],
          tagSet: tagSet(w, v.id),
        })),
      };
    },
    DescribeSubnets(w, p) {
      const ids = listParam(p, 'SubnetId');
      for (const id of ids) { checkId('subnet', id, 'InvalidSubnetID.Malformed'); if (!w.subnetById(id)) throw new AwsError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`); }
      let items = ids.length ? ids.map((id) => w.subnetById(id)!) : [...w.subnets];
      items = applyFilters(w, items, ec2Filters(p), (s) => s.id, (s, n) => ({ 'subnet-id': s.id, 'vpc-id': s.vpcId, 'availability-zone': s.zone, availabilityZone: s.zone, 'cidr-block': s.cidr, cidrBlock: s.cidr, state: 'available' } as Record<string, string>)[n], ['subnet-id', 'vpc-id', 'availability-zone', 'availabilityZone', 'cidr-block', 'cidrBlock', 'state']);
      const { page, nextToken } = paginate(items, p, 5, 1000);
      return {
        subnetSet: page.map((s) => ({
          subnetId: s.id, subnetArn: `arn:aws:ec2:us-east-1:123456789012:subnet/${s.id}`, state: 'available', vpcId: s.vpcId, cidrBlock: s.cidr,
          ipv6CidrBlockAssociationSet: [{ associationId: hexId('subnet-cidr-assoc', s.id), ipv6CidrBlock: s.ipv6Cidr, ipv6CidrBlockState: { state: 'associated' } }],
          availableIpAddressCount: 245, availabilityZone: s.zone, availabilityZoneId: `use1-az${['1', '2', '4'][['us-east-1a', 'us-east-1b', 'us-east-1c'].indexOf(s.zone)] ?? '1'}`,
          defaultForAz: false, mapPublicIpOnLaunch: false, ownerId: '123456789012', tagSet: tagSet(w, s.id),
        })),
        nextToken,
      };
    },
    DescribeNetworkAcls(w, p) {
      const ids = listParam(p, 'NetworkAclId');
      let items = ids.length ? ids.map((id) => findAcl(w, id)) : [...w.acls.values()];
      items = applyFilters(w, items, ec2Filters(p), (a) => a.id, (a, n) => {
        switch (n) {
          case 'network-acl-id': return a.id;
          case 'vpc-id': return a.vpcId;
          case 'default': return String(a.isDefault);
          case 'association.subnet-id': return [...a.associations.values()];
          case 'association.association-id': return [...a.associations.keys()];
          case 'association.network-acl-id': return a.associations.size ? a.id : undefined;
          case 'owner-id': return '123456789012';
          default: return undefined;
        }
      }, ['network-acl-id', 'vpc-id', 'default', 'association.subnet-id', 'association.association-id', 'association.network-acl-id', 'owner-id']);
      const { page, nextToken } = paginate(items, p, 5, 1000);
      return { networkAclSet: page.map((a) => aclXml(w, a)), nextToken };
    },
    CreateNetworkAcl(w, p) {
      const vpcId = need(p, 'VpcId');
      checkId('vpc', vpcId, 'InvalidVpcID.Malformed');
      if (vpcId !== w.vpc.id) throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
      dryRun(w, p, 'CreateNetworkAcl', denied);
      const token = p.get('ClientToken');
      if (token) {
        const prev = w.clientTokens.get(token);
        if (prev) {
          if (prev.vpcId !== vpcId) throw new AwsError('IdempotentParameterMismatch', 'The client token you have provided is associated with a resource that has different parameters.');
          const a = w.acls.get(prev.aclId);
          if (a) return { networkAcl: aclXml(w, a), clientToken: token };
        }
      }
      const specs = tagSpecs(p);
      for (const s of specs) if (s.resourceType !== 'network-acl') throw new AwsError('InvalidParameterValue', `'${s.resourceType}' is not a valid taggable resource type for this operation.`);
      const acl: NetworkAcl = { id: hexId('acl'), vpcId, isDefault: false, entries: [], associations: new Map() };
      w.acls.set(acl.id, acl);
      for (const s of specs) w.setTags(acl.id, s.tags);
      if (token) w.clientTokens.set(token, { aclId: acl.id, vpcId });
      w.onEvent('acl.created', { networkAclId: acl.id, tags: Object.fromEntries(w.tags.get(acl.id) ?? []) });
      return { networkAcl: aclXml(w, acl), clientToken: token };
    },
    CreateNetworkAclEntry(w, p) {
      const acl = findAcl(w, need(p, 'NetworkAclId'));
      const e = entryFromParams(p);
      dryRun(w, p, 'CreateNetworkAclEntry', denied);
      if (acl.entries.some((x) => x.ruleNumber === e.ruleNumber && x.egress === e.egress)) {
        throw new AwsError('NetworkAclEntryAlreadyExists', `The network acl entry identified by ${e.ruleNumber} already exists.`);
      }
      acl.entries.push(e);
      w.onEvent('acl.entry.created', { networkAclId: acl.id, ...e });
      return { return: true };
    },
    DeleteNetworkAclEntry(w, p) {
      const acl = findAcl(w, need(p, 'NetworkAclId'));
      const rule = Number(need(p, 'RuleNumber'));
      const egress = (need(p, 'Egress')).toLowerCase() === 'true';
      dryRun(w, p, 'DeleteNetworkAclEntry', denied);
      const i = acl.entries.findIndex((x) => x.ruleNumber === rule && x.egress === egress);
      if (i < 0) throw new AwsError('InvalidNetworkAclEntry.NotFound', `The network acl entry identified by ${rule} ${egress ? 'egress' : 'ingress'} does not exist`);
      acl.entries.splice(i, 1);
      w.onEvent('acl.entry.deleted', { networkAclId: acl.id, ruleNumber: rule, egress });
      return { return: true };
    },
    ReplaceNetworkAclAssociation(w, p) {
      const assocId = need(p, 'AssociationId');
      checkId('aclassoc', assocId, 'InvalidAssociationID.Malformed');
      const target = findAcl(w, need(p, 'NetworkAclId'));
      const from = [...w.acls.values()].find((a) => a.associations.has(assocId));
      if (!from) throw new AwsError('InvalidAssociationID.NotFound', `The association ID '${assocId}' does not exist`);
      if (target.vpcId !== from.vpcId) throw new AwsError('InvalidParameterValue', 'The network ACL and the subnet must be in the same VPC');
      dryRun(w, p, 'ReplaceNetworkAclAssociation', denied);
      const subnetId = from.associations.get(assocId)!;
      from.associations.delete(assocId);
      const newId = hexId('aclassoc');
      target.associations.set(newId, subnetId);
      w.onEvent('acl.association.replaced', { subnetId, zone: w.subnetById(subnetId)?.zone, fromAcl: from.id, toAcl: target.id, oldAssociationId: assocId, newAssociationId: newId });
      return { newAssociationId: newId };
    },
    DeleteNetworkAcl(w, p) {
      const acl = findAcl(w, need(p, 'NetworkAclId'));
      dryRun(w, p, 'DeleteNetworkAcl', denied);
      if (acl.isDefault) throw new AwsError('InvalidParameterValue', `cannot delete default network ACL ${acl.id}`);
      if (acl.associations.size) throw new AwsError('DependencyViolation', `The networkAcl '${acl.id}' has dependencies and cannot be deleted.`);
      w.acls.delete(acl.id);
      w.tags.delete(acl.id);
      w.onEvent('acl.deleted', { networkAclId: acl.id });
      return { return: true };
    },
    CreateTags(w, p) {
      const ids = listParam(p, 'ResourceId');
      if (!ids.length) throw new AwsError('MissingParameter', 'The request must contain the parameter ResourceId');
      const tags = structList(p, 'Tag');
      if (!tags.length) throw new AwsError('MissingParameter', 'The request must contain the parameter Tag');
      dryRun(w, p, 'CreateTags', denied);
      for (const id of ids) if (!resourceExists(w, id)) throw new AwsError(notFoundCode(id), `The ID '${id}' does not exist`);
      for (const id of ids) {
        const rec: Record<string, string> = {};
        for (const t of tags) {
          const k = t.get('Key') ?? '';
          if (k.startsWith('aws:')) throw new AwsError('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
          rec[k] = t.get('Value') ?? '';
        }
        w.setTags(id, rec);
      }
      w.onEvent('tags.created', { resources: ids, tags: tags.map((t) => t.get('Key')) });
      return { return: true };
    },
    DeleteTags(w, p) {
      const ids = listParam(p, 'ResourceId');
      if (!ids.length) throw new AwsError('MissingParameter', 'The request must contain the parameter ResourceId');
      dryRun(w, p, 'DeleteTags', denied);
      const tags = structList(p, 'Tag');
      for (const id of ids) {
        const m = w.tags.get(id);
        if (!m) continue;
        if (!tags.length) { for (const k of [...m.keys()]) if (!k.startsWith('aws:')) m.delete(k); continue; }
        for (const t of tags) {
          const k = t.get('Key') ?? '';
          if (!t.has('Value') || m.get(k) === t.get('Value')) m.delete(k);
        }
      }
      w.onEvent('tags.deleted', { resources: ids });
      return { return: true };
    },
    DescribeTags(w, p) {
      const rows: Array<{ resourceId: string; resourceType: string; key: string; value: string }> = [];
      for (const [id, m] of w.tags) for (const [key, value] of m) rows.push({ resourceId: id, resourceType: resourceType(id), key, value });
      const filtered = applyFilters(w, rows, ec2Filters(p), (r) => r.resourceId, (r, n) => ({ 'resource-id': r.resourceId, 'resource-type': r.resourceType, key: r.key, value: r.value } as Record<string, string>)[n], ['resource-id', 'resource-type', 'key', 'value']);
      const { page, nextToken } = paginate(filtered, p, 5, 1000);
      return { tagSet: page.map((r) => ({ ...r })), nextToken };
    },
  };
}

function notFoundCode(id: string): string {
  const t = id.split('-')[0];
  return ({ i: 'InvalidInstanceID.NotFound', acl: 'InvalidNetworkAclID.NotFound', subnet: 'InvalidSubnetID.NotFound', vpc: 'InvalidVpcID.NotFound' } as Record<string, string>)[t] ?? 'InvalidID';
}
