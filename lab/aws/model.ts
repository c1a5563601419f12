// The lab's simulated AWS account: one VPC in us-east-1, subnets per zone, network ACLs, one EC2
// instance per lab node (in a per-zone Auto Scaling group), the node's systemd-style daemons, and SSM
// registration. Pure state + timers; the HTTP front ends (ec2.ts, autoscaling.ts, ssm.ts) and the
// cluster reconciler (lab/daemon.ts) sit on top. Every change is reported through `onEvent`.
import { createHash, randomBytes } from 'node:crypto';
import {
  bottlerocketNodeGroup, bottlerocketSpec, KARPENTER_MAX_ORDINAL, KARPENTER_NODECLASS, karpenterSpec,
  LAB_INSTANCE_TYPE, LAB_REGION, LAB_ZONES, nodeSpec, type CapacityType, type LabNodeSpec, type NodeOs, type Runtime,
} from '../topology.js';
import type { Timing } from '../timing.js';

export const ACCOUNT_ID = '123456789012';

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
export const STATE_CODES: Record<InstanceState, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };

export type DaemonName = 'kubelet' | 'kube-proxy' | 'containerd' | 'docker';
export const DAEMON_NAMES: readonly DaemonName[] = ['kubelet', 'kube-proxy', 'containerd', 'docker'];

/**
 * A node daemon. `unit`: a systemd service (Restart=/RestartSec= from the AMI's unit file). `container`:
 * a DaemonSet pod's container (kube-proxy on every EKS node), restarted by the kubelet after its
 * container restart backoff, never by systemd.
 */
export interface Daemon {
  name: DaemonName;
  kind: 'unit' | 'container';
  /** the process exists (systemd: active; a stopped/frozen process is still active) */
  active: boolean;
  /** SIGSTOPped: the process exists but does nothing until SIGCONT */
  frozen: boolean;
  /** a SIGTERM (or INT/HUP) that reached a frozen process: it acts on it once thawed */
  pendingTerm?: boolean;
  restart: 'always' | 'on-failure' | 'no';
  restartSec: number;
  /** systemd Requires= (a stop of that unit stops this one; a restart restarts it) */
  requires?: DaemonName;
  /** systemd Wants= (starting this unit starts that one; nothing propagates back) */
  wants?: DaemonName;
  pid: number;
  /** process name as pgrep/ps see it (comm) and its command line (pgrep -f) */
  comm: string;
  cmdline: string;
  restartTimer?: NodeJS.Timeout;
  /** container only: consecutive restarts (the backoff doubles with each), and when it last started */
  restarts: number;
  startedAt: number;
  /** container only: died while the kubelet or the runtime was down; restarted once both serve again */
  restartPending?: boolean;
}

export type Quirk = 'ignore-stop';
export const QUIRKS: readonly Quirk[] = ['ignore-stop'];

export interface Instance {
  id: string;
  spec: LabNodeSpec;
  subnetId: string;
  /** the Auto Scaling group (managed node groups); none for Karpenter's instances */
  asg?: string;
  /** Spot: the one-time Spot request the instance was launched with (EC2 Fleet `instant`, as Karpenter launches) */
  spotInstanceRequestId?: string;
  state: InstanceState;
  stateReason?: { code: string; message: string };
  stateTransitionReason: string;
  launchTime: Date;
  daemons: Map<DaemonName, Daemon>;
  timers: Set<NodeJS.Timeout>;
  /** when SSM last heard from the agent (ms epoch); drives PingStatus */
  lastPing: number;
  health: 'Healthy' | 'Unhealthy';
  /** transient systemd timers (systemd-run --on-active) */
  transientUnits: Map<string, NodeJS.Timeout>;
  /** lab quirks (`npm run lab -- quirk`): faults that do not take on this node */
  quirks: Map<DaemonName, Set<Quirk>>;
}

export interface AclEntry {
  ruleNumber: number;
  protocol: string;
  ruleAction: 'allow' | 'deny';
  egress: boolean;
  cidrBlock?: string;
  ipv6CidrBlock?: string;
  portRange?: { from: number; to: number };
}

export interface NetworkAcl {
  id: string;
  vpcId: string;
  isDefault: boolean;
  entries: AclEntry[];
  /** association id → subnet id */
  associations: Map<string, string>;
}

export interface Subnet { id: string; vpcId: string; zone: string; cidr: string; ipv6Cidr: string; role: 'nodes' | 'utility' | 'public' }
export interface Vpc { id: string; cidr: string; ipv6Cidr: string }
export interface Asg {
  name: string;
  /** what it launches: the AL2023/AL2 group (one ASG per zone) or the Bottlerocket group (one ASG over the zones) */
  kind: 'managed' | 'bottlerocket';
  zones: string[];
  subnetIds: string[];
  /** tags set through CreateOrUpdateTags (beside the cluster's own, which groupXml always lists) */
  userTags?: Map<string, string>;
  zone: string;
  subnetId: string;
  min: number;
  max: number;
  desired: number;
  suspended: Map<string, string>;
  nextOrdinal: number;
}

export const ASG_PROCESSES = ['Launch', 'Terminate', 'AddToLoadBalancer', 'AlarmNotification', 'AZRebalance', 'HealthCheck', 'InstanceRefresh', 'ReplaceUnhealthy', 'ScheduledActions'];

export interface WorldTimings {
  stopMs: number;
  startMs: number;
  terminateMs: number;
  /** delay before Auto Scaling finds a stopped instance unhealthy and replaces it */
  asgReplaceMs: number;
  /** silence after which SSM shows ConnectionLost */
  ssmPingTimeoutMs: number;
  /** how long GetCommandInvocation answers InvocationDoesNotExist after SendCommand */
  invocationVisibleMs: number;
  /** SSM delivery: how long a command waits for an unreachable instance before it is Undeliverable */
  ssmDeliveryTimeoutMs: number;
  /** kubelet's container restart backoff: initial period, cap, and how long a container must run for it to reset */
  containerBackoffMs: number;
  containerBackoffMaxMs: number;
  containerBackoffResetMs: number;
}

export function worldTimings(t: Timing): WorldTimings {
  return t.name === 'fast'
    ? { stopMs: 2000, startMs: 2000, terminateMs: 1500, asgReplaceMs: 30_000, ssmPingTimeoutMs: 3000, invocationVisibleMs: 300, ssmDeliveryTimeoutMs: 10_000,
      containerBackoffMs: 2000, containerBackoffMaxMs: 60_000, containerBackoffResetMs: 120_000 }
    // kubernetes pkg/kubelet/kubelet.go: containerBackOffPeriod = 10 s, MaxContainerBackOff = 300 s; the
    // backoff entry is dropped after 2 × the cap without a crash (flowcontrol.Backoff GC: 10 min).
    : { stopMs: 8000, startMs: 10_000, terminateMs: 5000, asgReplaceMs: 90_000, ssmPingTimeoutMs: 30_000, invocationVisibleMs: 500, ssmDeliveryTimeoutMs: 60_000,
      containerBackoffMs: 10_000, containerBackoffMaxMs: 300_000, containerBackoffResetMs: 600_000 };
}

/**
 * The lab's stand-in for Karpenter's NodeClaim (karpenter.sh/v1): one per Karpenter-launched instance,
 * kept in the world (no CRDs in the cluster). Created at launch, deleted by the interruption flow.
 */
export interface NodeClaim {
  name: string;
  nodePool: string;
  nodeClassRef: { group: 'karpenter.k8s.aws'; kind: 'EC2NodeClass'; name: string };
  capacityType: CapacityType;
  instanceType: string;
  zone: string;
  instanceId: string;
  providerID: string;
  nodeName: string;
  createdAt: string;
  /** set when the termination flow started (Karpenter sets the NodeClaim's deletionTimestamp) */
  deleting?: string;
  /** the NodeClaim this one replaces (lab: interruption replacement) */
  replaces?: string;
}

export type EventSink = (event: string, fields: Record<string, unknown>) => void;

export function hexId(prefix: string, seed?: string): string {
  const h = seed ? createHash('sha256').update(seed).digest('hex') : randomBytes(16).toString('hex');
  return `${prefix}-0${h.slice(0, 16)}`;
}

// ---- IPv4 helpers ----
export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad IPv4 address ${ip}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}
export function parseCidr(cidr: string): { base: number; bits: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const bits = Number(m[2]);
  if (bits > 32) return undefined;
  try {
    return { base: ipToInt(m[1]), bits };
  } catch {
    return undefined;
  }
}
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  if (!c) return false;
  const mask = c.bits === 0 ? 0 : (~0 << (32 - c.bits)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((c.base & mask) >>> 0);
}

/** Network ACL evaluation: lowest-numbered matching rule wins, `*` (no match) denies. IPv4 only. */
export function aclAllows(acl: NetworkAcl, egress: boolean, protocol: 'tcp' | 'udp', port: number, peerIp: string): boolean {
  const proto = protocol === 'tcp' ? '6' : '17';
  const rules = acl.entries.filter((e) => e.egress === egress && e.cidrBlock).sort((a, b) => a.ruleNumber - b.ruleNumber);
  for (const r of rules) {
    if (!cidrContains(r.cidrBlock!, peerIp)) continue;
    if (r.protocol !== '-1' && r.protocol !== proto) continue;
    if (r.protocol !== '-1' && r.portRange && (port < r.portRange.from || port > r.portRange.to)) continue;
    return r.ruleAction === 'allow';
  }
  return false;
}

export const CONTROL_PLANE_IP = '52.94.0.10'; // stands for the EKS endpoint and the SSM endpoints (public)
export const LB_IP = '10.0.200.10'; // the NLB's private address inside the VPC
export const EPHEMERAL = 40000;

type DaemonPolicy = Pick<Daemon, 'kind' | 'restart' | 'restartSec' | 'requires' | 'wants' | 'comm' | 'cmdline'>;

/**
 * Which daemons a node runs and how, by OS, as the EKS AMIs ship them:
 * - AL2023 (awslabs/amazon-eks-ami templates/al2023/runtime/rootfs/etc/systemd/system/kubelet.service):
 *   kubelet `Wants=containerd.service`, `Restart=on-failure`, `RestartSec=5` — it does not stop when
 *   containerd stops. containerd is the AL2023 package's unit, upstream's containerd.service (as copied in
 *   templates/al2/runtime/containerd.service): `Restart=always`, `RestartSec=5`, `KillMode=process` — a
 *   stop or a crash of containerd leaves the containerd-shim processes, so the pods keep running.
 * - AL2 with docker (templates/al2/runtime/kubelet.service, before the AL2 removal in #2645):
 *   kubelet `Requires=docker.service`, `Restart=always`, `RestartSec=5`. docker.service is moby's
 *   (contrib/init/systemd/docker.service: `Restart=always`, `RestartSec=2`), and the AMI's
 *   /etc/docker/daemon.json (templates/al2/runtime/docker-daemon.json) sets `"live-restore": true`:
 *   containers keep running while dockerd is down. AL2 with containerd (files/kubelet-containerd.service):
 *   `Requires=containerd.service`, `Restart=on-failure`.
 * - Bottlerocket: kubelet and containerd are host units the SSM agent cannot see (it runs in the
 *   control container); their policy here matters only to the lab itself.
 * - kube-proxy is never a systemd unit on EKS: it is the kube-proxy DaemonSet's container (the EKS add-on).
 */
export function daemonPolicies(os: NodeOs, runtime: Runtime): Map<DaemonName, DaemonPolicy> {
  const m = new Map<DaemonName, DaemonPolicy>();
  const kubeletCmd = '/usr/bin/kubelet --config /etc/kubernetes/kubelet/config.json --kubeconfig /var/lib/kubelet/kubeconfig --container-runtime-endpoint unix:///run/containerd/containerd.sock';
  if (os === 'al2') {
    m.set('kubelet', { kind: 'unit', restart: runtime === 'docker' ? 'always' : 'on-failure', restartSec: 5, requires: runtime, comm: 'kubelet', cmdline: kubeletCmd });
  } else {
    m.set('kubelet', { kind: 'unit', restart: 'on-failure', restartSec: 5, wants: runtime, comm: 'kubelet', cmdline: kubeletCmd });
  }
  if (runtime === 'docker') m.set('docker', { kind: 'unit', restart: 'always', restartSec: 2, comm: 'dockerd', cmdline: '/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock' });
  else m.set('containerd', { kind: 'unit', restart: 'always', restartSec: 5, comm: 'containerd', cmdline: '/usr/bin/containerd' });
  m.set('kube-proxy', { kind: 'container', restart: 'always', restartSec: 0, comm: 'kube-proxy', cmdline: 'kube-proxy --v=2 --config=/var/lib/kube-proxy-config/config --hostname-override=$(NODE_NAME)' });
  return m;
}

/**
 * An NLB as the AWS Load Balancer Controller provisions it for a Service of type LoadBalancer
 * (lab/dataplane.ts creates and updates it; lab/aws serves it through ELBv2 Describe* and EC2
 * DescribeNetworkInterfaces). One entry per Service, keyed by "namespace/name".
 */
export interface LabLoadBalancer {
  /** the Service, "namespace/name" */
  service: string;
  /** the controller's naming: k8s-<namespace>-<service>-<10 hex>, at most 32 characters */
  name: string;
  arn: string;
  /** <name>-<16 hex>.elb.<region>.amazonaws.com: what status.loadBalancer.ingress[].hostname says */
  dnsName: string;
  scheme: 'internet-facing' | 'internal';
  targetType: 'instance' | 'ip';
  crossZone: boolean;
  /** the listener port, the same on every zone's address */
  port: number;
  /** one load balancer node per zone: `address` is the loopback listener the lab serves (it stands for the
   *  ENI's public IP of an internet-facing NLB: Association.PublicIp), `privateIp` the ENI's address in the VPC */
  zones: Array<{ zone: string; subnetId: string; address: string; privateIp: string; eniId: string }>;
  targetGroupArn: string;
  healthCheck: { protocol: 'TCP' | 'HTTP'; port: string; path?: string; intervalSeconds: number; timeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number };
  /** registered targets by id (an instance id, or a pod IP for `ip` targets), as DescribeTargetHealth reports them */
  targets: Map<string, { id: string; port: number; zone: string; state: 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unused'; reason?: string }>;
}

/** An ENI as EC2 DescribeNetworkInterfaces returns it (InterfaceType values from the EC2 API reference). */
export interface LabNetworkInterface {
  id: string;
  subnetId: string;
  zone: string;
  vpcId: string;
  interfaceType: 'interface' | 'natGateway' | 'network_load_balancer' | 'vpc_endpoint' | 'branch' | 'trunk';
  description: string;
  privateIp: string;
  secondaryIps: string[];
  /** Association.PublicIp (an NLB's zone address in the lab is its loopback listener address) */
  publicIp?: string;
  attachment?: { instanceId?: string; instanceOwnerId?: string; deviceIndex: number; status: 'attached' | 'detached' };
  requesterId?: string;
  requesterManaged: boolean;
  status: 'in-use' | 'available';
  tags: Record<string, string>;
}

/** An interface VPC endpoint: one ENI in each of its subnets. */
export interface LabVpcEndpoint { id: string; serviceName: string; subnetIds: string[]; eniIds: string[] }

/** The interface endpoints of a private EKS cluster (EKS User Guide, "Deploy private clusters with limited internet access"). */
export const VPC_ENDPOINT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages', 'sts', 'ecr.api', 'ecr.dkr'] as const;
/** Placeholders for the AWS-owned accounts that request service ENIs (AWS does not document them). */
export const AWS_SERVICE_ACCOUNT = '210987654321';
export const EKS_SERVICE_ACCOUNT = '589012345678';
/** The VPC CNI's ENIs are requested by the node's instance role session (the lab: its role id + instance id). */
export const LAB_CNI_REQUESTER = 'AROALABNODEROLE0000000';

export class World {
  readonly vpc: Vpc;
  readonly subnets: Subnet[] = [];
  readonly acls = new Map<string, NetworkAcl>();
  readonly instances = new Map<string, Instance>();
  readonly asgs = new Map<string, Asg>();
  readonly tags = new Map<string, Map<string, string>>();
  readonly clientTokens = new Map<string, { aclId: string; vpcId: string }>();
  /** Karpenter NodeClaim records, by name */
  readonly nodeClaims = new Map<string, NodeClaim>();
  /** NLBs of LoadBalancer Services, by "namespace/name" (see LabLoadBalancer) */
  readonly loadBalancers = new Map<string, LabLoadBalancer>();
  /** ENIs that are not derived from instances (NLB, NAT gateway, VPC endpoints, EKS control plane), by id */
  readonly networkInterfaces = new Map<string, LabNetworkInterface>();
  /** NAT gateways (their ENIs are in `networkInterfaces`) and interface VPC endpoints (EC2 DescribeVpcEndpoints) */
  readonly natGateways: Array<{ id: string; zone: string; subnetId: string; eniId: string; privateIp: string; publicIp: string }> = [];
  readonly vpcEndpoints: LabVpcEndpoint[] = [];
  private nextKarpenterOrdinal = 0;
  private nextPid = 2000;

  constructor(
    readonly cluster: string,
    readonly runtime: Runtime,
    readonly t: WorldTimings,
    readonly onEvent: EventSink,
    nodes: LabNodeSpec[],
    readonly extraSubnetsPerZone = 1,
  ) {
    this.vpc = { id: hexId('vpc', `${cluster}/vpc`), cidr: '10.0.0.0/16', ipv6Cidr: '2600:1f18:4a3:6e00::/56' };
    this.setTags(this.vpc.id, { Name: `${cluster}-vpc`, [`kubernetes.io/cluster/${cluster}`]: 'shared' });
    const defaultAcl: NetworkAcl = { id: hexId('acl', `${cluster}/default-acl`), vpcId: this.vpc.id, isDefault: true, entries: [], associations: new Map() };
    for (const egress of [false, true]) {
      defaultAcl.entries.push({ ruleNumber: 100, protocol: '-1', ruleAction: 'allow', egress, cidrBlock: '0.0.0.0/0' });
      defaultAcl.entries.push({ ruleNumber: 101, protocol: '-1', ruleAction: 'allow', egress, ipv6CidrBlock: '::/0' });
    }
    this.acls.set(defaultAcl.id, defaultAcl);
    LAB_ZONES.forEach((zone, z) => {
      const roles: Array<Subnet['role']> = ['nodes', ...Array.from({ length: extraSubnetsPerZone }, () => 'utility' as const)];
      roles.forEach((role, k) => {
        // nodes 10.0.1-3.x, utility k = 1..24 at 10.0.(10k+11+z); beyond that (--subnets-per-zone > 25)
        // the /24s ending in 4-6 (10.0.14-16, 24-26, …), so every CIDR stays a valid /24 of the VPC
        const third = role === 'nodes' ? z + 1 : k <= 24 ? 10 * (k + 1) + z + 1 : 10 * (k - 24) + z + 4;
        const s: Subnet = {
          id: hexId('subnet', `${cluster}/${zone}/${role}/${k}`), vpcId: this.vpc.id, zone, role,
          cidr: `10.0.${third}.0/24`, ipv6Cidr: `2600:1f18:4a3:6e${third.toString(16).padStart(2, '0')}::/64`,
        };
        this.subnets.push(s);
        defaultAcl.associations.set(hexId('aclassoc', `${cluster}/${s.id}/initial`), s.id);
        this.setTags(s.id, { Name: `${cluster}-${role}-${zone}${k > 1 ? `-${k}` : ''}`, [`kubernetes.io/cluster/${cluster}`]: 'shared', ...(role === 'nodes' ? { 'kubernetes.io/role/internal-elb': '1' } : {}) });
      });
      // One public subnet per zone (10.0.4-6.0/24), tagged for internet-facing load balancers as the AWS Load
      // Balancer Controller discovers them (kubernetes-sigs/aws-load-balancer-controller docs, "Subnet
      // auto-discovery": kubernetes.io/role/elb=1): the NLB's zone ENIs and the NAT gateway live here.
      const pub: Subnet = {
        id: hexId('subnet', `${cluster}/${zone}/public/0`), vpcId: this.vpc.id, zone, role: 'public',
        cidr: `10.0.${z + 4}.0/24`, ipv6Cidr: `2600:1f18:4a3:6e${(z + 4).toString(16).padStart(2, '0')}::/64`,
      };
      this.subnets.push(pub);
      defaultAcl.associations.set(hexId('aclassoc', `${cluster}/${pub.id}/initial`), pub.id);
      this.setTags(pub.id, { Name: `${cluster}-public-${zone}`, [`kubernetes.io/cluster/${cluster}`]: 'shared', 'kubernetes.io/role/elb': '1' });
      const asgName = nodesAsgName(cluster, zone);
      const zoneNodes = nodes.filter((n) => n.zone === zone && n.provisioner === 'managed' && n.os !== 'bottlerocket');
      this.asgs.set(asgName, { name: asgName, kind: 'managed', zones: [zone], subnetIds: [this.nodeSubnet(zone).id], zone, subnetId: this.nodeSubnet(zone).id, min: zoneNodes.length, max: zoneNodes.length + 1, desired: zoneNodes.length, suspended: new Map(), nextOrdinal: Math.max(-1, ...zoneNodes.map((n) => n.ordinal)) + 1 });
    });
    // The Bottlerocket managed node group: one ASG over the three zones' node subnets, as EKS creates it.
    const br = nodes.filter((n) => n.os === 'bottlerocket');
    if (br.length) {
      const name = bottlerocketAsgName(cluster);
      this.asgs.set(name, {
        name, kind: 'bottlerocket', zones: [...LAB_ZONES], subnetIds: LAB_ZONES.map((z) => this.nodeSubnet(z).id), zone: LAB_ZONES[0], subnetId: this.nodeSubnet(LAB_ZONES[0]).id,
        min: br.length, max: br.length + 1, desired: br.length, suspended: new Map(), nextOrdinal: Math.max(-1, ...br.map((n) => n.ordinal)) + 1,
      });
    }
    this.nextKarpenterOrdinal = Math.max(-1, ...nodes.filter((n) => n.provisioner === 'karpenter').map((n) => n.ordinal)) + 1;
    for (const n of nodes) this.addInstance(n, 'running');
    this.addServiceInterfaces();
  }

  /**
   * The ENIs AWS services keep in the VPC (stored in `networkInterfaces`; the nodes' and the NLBs' are
   * derived at Describe time, see allNetworkInterfaces):
   * - one NAT gateway in us-east-1a's public subnet: eksctl's default (`vpc.nat.gateway: Single`, eksctl
   *   docs "VPC Configuration"); its ENI is requester-managed, type `natGateway`, description
   *   `Interface for NAT Gateway nat-…` (EC2 User Guide, "Requester-managed network interfaces");
   * - interface VPC endpoints for a private cluster (EKS User Guide, "Deploy private clusters with limited
   *   internet access": ssm, ssmmessages, ec2messages, sts, ecr.api, ecr.dkr), one ENI per zone in the node
   *   subnets, type `vpc_endpoint`, description `VPC Endpoint Interface vpce-…`;
   * - the EKS control plane's cross-account ENIs (EKS User Guide, "View Amazon EKS networking requirements
   *   for VPC and subnets": EKS creates them in two of the cluster's subnets, description
   *   `Amazon EKS <cluster>`), type `interface`, requested by an AWS-owned account.
   * The requester and owner account ids of AWS services are placeholders (AWS does not document them).
   * The lab lists these ENIs; it routes no traffic through them.
   */
  private addServiceInterfaces(): void {
    const c = this.cluster;
    const add = (e: Omit<LabNetworkInterface, 'vpcId' | 'zone' | 'status' | 'secondaryIps'> & { secondaryIps?: string[] }) => {
      const s = this.subnetById(e.subnetId)!;
      this.networkInterfaces.set(e.id, { vpcId: this.vpc.id, zone: s.zone, status: 'in-use', secondaryIps: [], ...e });
    };
    const natId = `nat-0${hexId('x', `${c}/nat/0`).slice(3, 19)}`;
    this.natGateways.push({ id: natId, zone: LAB_ZONES[0], subnetId: this.publicSubnet(LAB_ZONES[0]).id, eniId: hexId('eni', `${c}/nat/0`), privateIp: '10.0.4.250', publicIp: '198.51.100.10' });
    for (const n of this.natGateways) {
      add({ id: n.eniId, subnetId: n.subnetId, interfaceType: 'natGateway', description: `Interface for NAT Gateway ${n.id}`, privateIp: n.privateIp, publicIp: n.publicIp,
        attachment: { instanceOwnerId: 'amazon-aws', deviceIndex: 1, status: 'attached' }, requesterId: AWS_SERVICE_ACCOUNT, requesterManaged: true, tags: {} });
    }
    VPC_ENDPOINT_SERVICES.forEach((svc, k) => {
      const vpceId = `vpce-0${hexId('x', `${c}/vpce/${svc}`).slice(3, 19)}`;
      const ep: LabVpcEndpoint = { id: vpceId, serviceName: `com.amazonaws.${LAB_REGION}.${svc}`, subnetIds: [], eniIds: [] };
      LAB_ZONES.forEach((zone, z) => {
        const subnet = this.nodeSubnet(zone);
        const eniId = hexId('eni', `${c}/vpce/${svc}/${zone}`);
        ep.subnetIds.push(subnet.id);
        ep.eniIds.push(eniId);
        add({ id: eniId, subnetId: subnet.id, interfaceType: 'vpc_endpoint', description: `VPC Endpoint Interface ${vpceId}`, privateIp: `10.0.${z + 1}.${4 + k}`,
          requesterId: AWS_SERVICE_ACCOUNT, requesterManaged: true, tags: {} });
      });
      this.vpcEndpoints.push(ep);
    });
    for (const zone of LAB_ZONES.slice(1)) {
      const z = LAB_ZONES.indexOf(zone);
      add({ id: hexId('eni', `${c}/eks/${zone}`), subnetId: this.nodeSubnet(zone).id, interfaceType: 'interface', description: `Amazon EKS ${c}`, privateIp: `10.0.${z + 1}.250`,
        attachment: { instanceOwnerId: EKS_SERVICE_ACCOUNT, deviceIndex: 1, status: 'attached' }, requesterId: EKS_SERVICE_ACCOUNT, requesterManaged: false, tags: {} });
    }
  }

  publicSubnet(zone: string): Subnet {
    return this.subnets.find((s) => s.zone === zone && s.role === 'public')!;
  }

  /**
   * Every ENI of the VPC, as DescribeNetworkInterfaces lists them: the instances' (derived from them), the
   * NLBs' (derived from `loadBalancers`), and the services' (`networkInterfaces`).
   * Instances (amazon-vpc-cni-k8s docs, "ENI and IP address management"; ipamd keeps WARM_ENI_TARGET=1 ENI
   * of free addresses): the primary ENI (device 0, the node's private IP, DeleteOnTermination) and one VPC
   * CNI secondary ENI (device 1, description `aws-K8S-<instance-id>`, tags
   * `node.k8s.amazonaws.com/instance_id` and `cluster.k8s.amazonaws.com/name`), each with 9 secondary
   * addresses for pods. Lab simplification: the pod addresses are the node's podCIDR's (KWOK assigns pod IPs
   * from it), outside the subnet's CIDR. A terminated instance has none (both attachments are
   * DeleteOnTermination: the CNI sets it on the ENIs it attaches).
   */
  allNetworkInterfaces(): LabNetworkInterface[] {
    const out: LabNetworkInterface[] = [];
    for (const i of this.instances.values()) {
      if (i.state === 'terminated') continue;
      const pod = i.spec.podCIDR.replace(/\.0\/24$/, '');
      const base = { subnetId: i.subnetId, zone: i.spec.zone, vpcId: this.vpc.id, interfaceType: 'interface' as const, requesterManaged: false, status: 'in-use' as const };
      out.push({ ...base, id: hexId('eni', `${i.id}/eth0`), description: '', privateIp: i.spec.privateIp, secondaryIps: Array.from({ length: 9 }, (_, k) => `${pod}.${k + 1}`),
        attachment: { instanceId: i.id, instanceOwnerId: ACCOUNT_ID, deviceIndex: 0, status: 'attached' }, requesterId: undefined, tags: {} });
      out.push({ ...base, id: hexId('eni', `${i.id}/eth1`), description: `aws-K8S-${i.id}`, privateIp: `${pod}.10`, secondaryIps: Array.from({ length: 9 }, (_, k) => `${pod}.${k + 11}`),
        attachment: { instanceId: i.id, instanceOwnerId: ACCOUNT_ID, deviceIndex: 1, status: 'attached' }, requesterId: LAB_CNI_REQUESTER,
        tags: { 'node.k8s.amazonaws.com/instance_id': i.id, 'cluster.k8s.amazonaws.com/name': this.cluster } });
    }
    // An NLB has one ENI per enabled zone, requester-managed by ELB, description `ELB net/<name>/<id>` (the
    // ARN's last two parts; EC2 User Guide, "Requester-managed network interfaces"); an internet-facing NLB's
    // zone address is the ENI's public IP (here its loopback listener, contract §2).
    for (const lb of this.loadBalancers.values()) {
      const arnTail = lb.arn.split(':loadbalancer/net/')[1] ?? lb.name;
      for (const z of lb.zones) {
        out.push({
          id: z.eniId, subnetId: z.subnetId, zone: z.zone, vpcId: this.vpc.id, interfaceType: 'network_load_balancer', description: `ELB net/${arnTail}`,
          privateIp: z.privateIp, secondaryIps: [], publicIp: lb.scheme === 'internet-facing' ? z.address : undefined,
          attachment: { instanceOwnerId: 'amazon-elb', deviceIndex: 1, status: 'attached' }, requesterId: 'amazon-elb', requesterManaged: true, status: 'in-use', tags: {},
        });
      }
    }
    out.push(...this.networkInterfaces.values());
    return out;
  }

  nodeSubnet(zone: string): Subnet {
    return this.subnets.find((s) => s.zone === zone && s.role === 'nodes')!;
  }

  private addInstance(spec: LabNodeSpec, state: InstanceState): Instance {
    const asg = spec.provisioner === 'karpenter' ? undefined : spec.os === 'bottlerocket' ? bottlerocketAsgName(this.cluster) : nodesAsgName(this.cluster, spec.zone);
    const inst: Instance = {
      id: spec.instanceId, spec, subnetId: this.nodeSubnet(spec.zone).id, asg, state, stateTransitionReason: '',
      launchTime: new Date(), daemons: new Map(), timers: new Set(), lastPing: Date.now(), health: 'Healthy', transientUnits: new Map(), quirks: new Map(),
    };
    if (spec.capacityType === 'spot') inst.spotInstanceRequestId = `sir-${hexId('x', `${spec.instanceId}/spot-request`).slice(3, 11)}`;
    for (const [d, policy] of daemonPolicies(spec.os, spec.runtime)) {
      inst.daemons.set(d, { name: d, active: state === 'running', frozen: false, ...policy, pid: this.nextPid++, restarts: 0, startedAt: Date.now() });
    }
    this.instances.set(inst.id, inst);
    if (spec.provisioner === 'karpenter') {
      // The tags Karpenter puts on every instance it launches (karpenter.sh/docs/concepts/nodeclasses, spec.tags:
      // Name, karpenter.sh/nodeclaim, karpenter.sh/nodepool, karpenter.k8s.aws/ec2nodeclass,
      // kubernetes.io/cluster/<cluster>: owned, eks:eks-cluster-name). No ASG, no EKS node group.
      this.setTags(inst.id, {
        Name: spec.name,
        'karpenter.sh/nodepool': spec.nodePool ?? 'default',
        'karpenter.sh/nodeclaim': spec.nodeClaim ?? '',
        'karpenter.k8s.aws/ec2nodeclass': KARPENTER_NODECLASS,
        [`kubernetes.io/cluster/${this.cluster}`]: 'owned',
        'eks:eks-cluster-name': this.cluster,
      });
      this.nodeClaims.set(spec.nodeClaim!, {
        name: spec.nodeClaim!, nodePool: spec.nodePool ?? 'default', nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: KARPENTER_NODECLASS },
        capacityType: spec.capacityType, instanceType: LAB_INSTANCE_TYPE, zone: spec.zone, instanceId: inst.id, providerID: spec.providerID, nodeName: spec.name,
        createdAt: new Date().toISOString(),
      });
    } else {
      this.setTags(inst.id, {
        Name: `${this.cluster}-node`,
        [`kubernetes.io/cluster/${this.cluster}`]: 'owned',
        'aws:autoscaling:groupName': asg!,
        'eks:cluster-name': this.cluster,
        'eks:nodegroup-name': spec.nodeGroup ?? '',
      });
    }
    return inst;
  }

  /** A Karpenter node's NodeClaim record (undefined for managed nodes). */
  nodeClaimOf(inst: Instance): NodeClaim | undefined {
    return inst.spec.nodeClaim ? this.nodeClaims.get(inst.spec.nodeClaim) : undefined;
  }

  /** Karpenter deletes the NodeClaim once the node is drained (its finalizer then terminates the instance). */
  deleteNodeClaim(name: string): void {
    const c = this.nodeClaims.get(name);
    if (!c) return;
    this.nodeClaims.delete(name);
    this.onEvent('karpenter.nodeclaim.deleted', { nodeClaim: name, nodePool: c.nodePool, node: c.nodeName, instanceId: c.instanceId });
  }

  /**
   * Karpenter launches a new instance for the NodePool (EC2 CreateFleet, type instant): new ordinal,
   * instance id, name and NodeClaim, same NodePool, capacity type and zone as `like`. Pending, running
   * after the start delay; the reconciler then creates its Node.
   */
  launchKarpenter(like: Instance, replaces?: string): Instance {
    if (this.nextKarpenterOrdinal > KARPENTER_MAX_ORDINAL) throw new Error('the lab has run out of Karpenter node addresses');
    const spec = karpenterSpec(this.cluster, this.nextKarpenterOrdinal++, like.spec.capacityType, like.spec.zoneIndex, like.spec.nodePool);
    const fresh = this.addInstance(spec, 'pending');
    const claim = this.nodeClaims.get(spec.nodeClaim!)!;
    claim.replaces = replaces;
    this.onEvent('karpenter.nodeclaim.created', { nodeClaim: claim.name, nodePool: claim.nodePool, capacityType: claim.capacityType, zone: claim.zone, instanceId: fresh.id, node: spec.name, ...(replaces ? { replaces } : {}) });
    this.onEvent('karpenter.instance.launched', { instanceId: fresh.id, node: spec.name, nodeClaim: claim.name, nodePool: claim.nodePool, capacityType: claim.capacityType, zone: claim.zone, ...(replaces ? { replaces } : {}) });
    this.later(fresh, this.t.startMs, () => {
      for (const d of fresh.daemons.values()) d.active = true;
      this.setState(fresh, 'running');
    });
    return fresh;
  }

  setTags(resourceId: string, tags: Record<string, string>): void {
    const m = this.tags.get(resourceId) ?? new Map<string, string>();
    for (const [k, v] of Object.entries(tags)) m.set(k, v);
    this.tags.set(resourceId, m);
  }

  tagsOf(id: string): Array<{ key: string; value: string }> {
    return [...(this.tags.get(id) ?? new Map()).entries()].map(([key, value]) => ({ key, value }));
  }

  aclOfSubnet(subnetId: string): { acl: NetworkAcl; associationId: string } {
    for (const acl of this.acls.values()) for (const [assoc, sid] of acl.associations) if (sid === subnetId) return { acl, associationId: assoc };
    throw new Error(`subnet ${subnetId} has no network ACL association`);
  }

  subnetById(id: string): Subnet | undefined {
    return this.subnets.find((s) => s.id === id);
  }

  // ---- reachability (used by the reconciler, SSM and the data plane) ----
  /** Can a TCP flow from this instance to `peerIp:port` (and its replies) cross the instance subnet's ACL? */
  outboundOk(inst: Instance, peerIp: string, port: number): boolean {
    const { acl } = this.aclOfSubnet(inst.subnetId);
    return aclAllows(acl, true, 'tcp', port, peerIp) && aclAllows(acl, false, 'tcp', EPHEMERAL, peerIp);
  }
  /** Can a TCP flow from `peerIp` to this instance on `port` (and its replies) cross the ACL? */
  inboundOk(inst: Instance, peerIp: string, port: number): boolean {
    const { acl } = this.aclOfSubnet(inst.subnetId);
    return aclAllows(acl, false, 'tcp', port, peerIp) && aclAllows(acl, true, 'tcp', EPHEMERAL, peerIp);
  }
  controlPlaneReachable(inst: Instance): boolean {
    return inst.state === 'running' && this.outboundOk(inst, CONTROL_PLANE_IP, 443);
  }
  /** The daemon's process exists (systemd's `active`): a frozen (SIGSTOPped) one too. */
  daemonActive(inst: Instance, d: DaemonName): boolean {
    return inst.state === 'running' && (inst.daemons.get(d)?.active ?? false);
  }
  /** The daemon's process exists and is not frozen: it does its job (heart-beats, answers CRI, programs rules, serves healthz). */
  daemonServing(inst: Instance, d: DaemonName): boolean {
    return this.daemonActive(inst, d) && !inst.daemons.get(d)!.frozen;
  }
  /** The container runtime answers the kubelet's CRI calls. */
  runtimeActive(inst: Instance): boolean {
    return this.daemonServing(inst, inst.spec.runtime);
  }
  /** SSM: the agent pings while the instance runs and can reach the SSM endpoint. */
  pingStatus(inst: Instance): 'Online' | 'ConnectionLost' | 'Inactive' {
    if (inst.state === 'terminated') return 'Inactive';
    if (this.controlPlaneReachable(inst)) inst.lastPing = Date.now();
    return Date.now() - inst.lastPing <= this.t.ssmPingTimeoutMs ? 'Online' : 'ConnectionLost';
  }

  // ---- instance lifecycle ----
  private later(inst: Instance, ms: number, fn: () => void): void {
    const h = setTimeout(() => { inst.timers.delete(h); fn(); }, ms);
    inst.timers.add(h);
  }

  private setState(inst: Instance, state: InstanceState, reason = ''): void {
    const prev = inst.state;
    inst.state = state;
    if (reason) inst.stateTransitionReason = reason;
    this.onEvent('instance.state', { instanceId: inst.id, node: inst.spec.name, zone: inst.spec.zone, from: prev, to: state });
  }

  stop(inst: Instance): { prev: InstanceState; cur: InstanceState } {
    const prev = inst.state;
    if (prev === 'stopped' || prev === 'stopping') return { prev, cur: prev };
    this.setState(inst, 'stopping', `User initiated (${new Date().toISOString().replace('T', ' ').slice(0, 19)} GMT)`);
    inst.stateReason = { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
    this.stopDaemons(inst);
    this.later(inst, this.t.stopMs, () => {
      if (inst.state !== 'stopping') return;
      this.setState(inst, 'stopped');
      this.scheduleAsgCheck(inst);
    });
    return { prev, cur: 'stopping' };
  }

  start(inst: Instance): { prev: InstanceState; cur: InstanceState } {
    const prev = inst.state;
    if (prev === 'running' || prev === 'pending') return { prev, cur: prev };
    this.setState(inst, 'pending');
    inst.stateReason = undefined;
    this.later(inst, this.t.startMs, () => {
      if (inst.state !== 'pending') return;
      inst.launchTime = new Date();
      for (const d of inst.daemons.values()) { d.active = true; d.pid = this.nextPid++; }
      inst.health = 'Healthy';
      inst.lastPing = Date.now();
      this.setState(inst, 'running');
    });
    return { prev, cur: 'pending' };
  }

  private stopDaemons(inst: Instance): void {
    // A stop is a shutdown: every daemon ends and transient units (systemd-run timers) are gone.
    for (const d of inst.daemons.values()) {
      d.active = false; d.frozen = false; d.pendingTerm = false; d.restartPending = false; d.restarts = 0;
      if (d.restartTimer) clearTimeout(d.restartTimer);
      d.restartTimer = undefined;
    }
    for (const t of inst.transientUnits.values()) clearTimeout(t);
    inst.transientUnits.clear();
  }

  terminate(inst: Instance, reason: string): void {
    if (inst.state === 'terminated' || inst.state === 'shutting-down') return;
    for (const t of inst.timers) clearTimeout(t);
    inst.timers.clear();
    this.stopDaemons(inst);
    this.setState(inst, 'shutting-down', reason);
    this.later(inst, this.t.terminateMs, () => this.setState(inst, 'terminated'));
  }

  /** EC2 health check of the Auto Scaling group: a stopped instance is unhealthy and gets replaced. */
  private scheduleAsgCheck(inst: Instance): void {
    this.later(inst, this.t.asgReplaceMs, () => {
      const asg = inst.asg ? this.asgs.get(inst.asg) : undefined;
      if (!asg || inst.state !== 'stopped') return;
      if (asg.suspended.has('HealthCheck')) return;
      inst.health = 'Unhealthy';
      this.onEvent('asg.instance.unhealthy', { asg: asg.name, instanceId: inst.id, node: inst.spec.name });
      if (asg.suspended.has('ReplaceUnhealthy')) return;
      this.terminate(inst, 'Service initiated: Auto Scaling (EC2 health check: instance stopped)');
      this.onEvent('asg.instance.replacing', { asg: asg.name, instanceId: inst.id, node: inst.spec.name });
      if (asg.suspended.has('Launch')) return;
      // the replacement goes to the replaced instance's zone (the lab's simplification of AZ balancing)
      const spec = asg.kind === 'bottlerocket'
        ? bottlerocketSpec(this.cluster, asg.nextOrdinal++, inst.spec.zoneIndex)
        : nodeSpec(this.cluster, LAB_ZONES.indexOf(asg.zone as (typeof LAB_ZONES)[number]), asg.nextOrdinal++, this.runtime);
      const fresh = this.addInstance(spec, 'pending');
      this.onEvent('asg.instance.launched', { asg: asg.name, instanceId: fresh.id, node: spec.name, replaces: inst.id });
      this.later(fresh, this.t.startMs, () => {
        for (const d of fresh.daemons.values()) d.active = true;
        this.setState(fresh, 'running');
      });
    });
  }

  // ---- node daemons: systemd units and the kube-proxy container ----
  private daemon(inst: Instance, name: DaemonName): Daemon {
    const d = inst.daemons.get(name);
    if (!d) throw new Error(`no daemon ${name} on ${inst.spec.name}`);
    return d;
  }

  private fields(inst: Instance, d: Daemon): Record<string, unknown> {
    return { instanceId: inst.id, node: inst.spec.name, daemon: d.name, pid: d.pid };
  }

  /**
   * The daemon's process ends. `how`: 'stop' = `systemctl stop` (never restarted by systemd), 'term' =
   * it exited on SIGTERM/SIGINT/SIGHUP (a clean exit for systemd: Restart=always restarts it,
   * Restart=on-failure does not), 'kill' = SIGKILL/SIGQUIT/SIGABRT (a failure: both policies restart it).
   * A container (kube-proxy) is restarted by the kubelet however it ended (restartPolicy: Always).
   */
  daemonStop(inst: Instance, name: DaemonName, how: 'stop' | 'term' | 'kill', by = ''): void {
    const d = this.daemon(inst, name);
    if (d.restartTimer) { clearTimeout(d.restartTimer); d.restartTimer = undefined; }
    const was = d.active;
    d.active = false;
    d.frozen = false;
    d.pendingTerm = false;
    d.restartPending = false;
    if (d.kind === 'container') {
      this.onEvent(how === 'kill' ? 'daemon.killed' : 'daemon.stopped', { ...this.fields(inst, d), wasActive: was, how, ...(by ? { by } : {}) });
      if (was) this.scheduleContainerRestart(inst, d);
      return;
    }
    const restarts = was && how !== 'stop' && (d.restart === 'always' || (d.restart === 'on-failure' && how === 'kill'));
    this.onEvent(how === 'kill' ? 'daemon.killed' : 'daemon.stopped', { ...this.fields(inst, d), wasActive: was, ...(how === 'term' ? { how } : {}), ...(by ? { by } : {}), ...(restarts ? { restartSec: d.restartSec } : {}) });
    // systemd.unit(5) Requires=: "If this unit gets deactivated or its activation fails, ... if one of the
    // other units is explicitly stopped (or restarted), this unit will be stopped (or restarted) too." An
    // unexpected death of the required unit is not propagated.
    if (how === 'stop' && was) {
      for (const dep of inst.daemons.values()) if (dep.requires === name && dep.active) this.daemonStop(inst, dep.name, 'stop', `Requires=${name}.service`);
    }
    // systemd: Restart=on-failure/always restarts after a signal death, never after `systemctl stop`.
    if (restarts) {
      const due = performance.now() + d.restartSec * 1000;
      d.restartTimer = setTimeout(() => {
        d.restartTimer = undefined;
        if (inst.state !== 'running' || d.active) return;
        // how late this process's timer fired (a busy machine): the world log says so, so the gap can be checked exactly
        this.daemonStart(inst, name, 'systemd-restart-policy', { timerLateMs: Math.max(0, performance.now() - due) });
        // the auto-restart is a restart job: it propagates to units that Require= this one as try-restart
        for (const dep of inst.daemons.values()) if (dep.requires === name && dep.active) this.daemonRestart(inst, dep.name, `Requires=${name}.service restarted`);
      }, d.restartSec * 1000);
    }
  }

  /** kubelet restarts a dead container after its backoff (10 s, doubling to 5 min; fast: 2 s to 60 s). */
  private scheduleContainerRestart(inst: Instance, d: Daemon): void {
    if (Date.now() - d.startedAt >= this.t.containerBackoffResetMs) d.restarts = 0;
    const delayMs = Math.min(this.t.containerBackoffMs * 2 ** d.restarts, this.t.containerBackoffMaxMs);
    const due = performance.now() + delayMs;
    this.onEvent('container.backoff', { ...this.fields(inst, d), delayMs, restarts: d.restarts });
    d.restartTimer = setTimeout(() => {
      d.restartTimer = undefined;
      if (inst.state !== 'running' || d.active) return;
      // the kubelet starts containers only while it runs and the runtime answers
      if (!this.daemonServing(inst, 'kubelet') || !this.runtimeActive(inst)) { d.restartPending = true; return; }
      d.restarts++;
      this.daemonStart(inst, d.name, 'kubelet-container-restart', { timerLateMs: Math.max(0, performance.now() - due), backoffMs: delayMs });
    }, delayMs);
  }

  /** After the kubelet or the runtime comes back: containers whose backoff ran out while they were down start now. */
  private resumeContainers(inst: Instance): void {
    if (!this.daemonServing(inst, 'kubelet') || !this.runtimeActive(inst)) return;
    for (const d of inst.daemons.values()) {
      if (d.kind === 'container' && d.restartPending && !d.active) { d.restartPending = false; d.restarts++; this.daemonStart(inst, d.name, 'kubelet-container-restart'); }
    }
  }

  /** `systemctl start`: Requires=/Wants= pull their unit in first. */
  daemonStart(inst: Instance, name: DaemonName, cause: string, extra: Record<string, unknown> = {}): void {
    const d = this.daemon(inst, name);
    const dep = d.requires ?? d.wants;
    if (dep && inst.daemons.has(dep) && !inst.daemons.get(dep)!.active) this.daemonStart(inst, dep, `${d.requires ? 'Requires' : 'Wants'}= of ${name}.service`);
    if (d.restartTimer) { clearTimeout(d.restartTimer); d.restartTimer = undefined; }
    if (d.active) return;
    d.active = true;
    d.frozen = false;
    d.restartPending = false;
    d.pid = this.nextPid++;
    d.startedAt = Date.now();
    this.onEvent('daemon.started', { ...this.fields(inst, d), cause, ...extra });
    this.resumeContainers(inst);
  }

  /** A restart job (`systemctl restart`, or one propagated by Requires=): stop and start, a new pid. */
  daemonRestart(inst: Instance, name: DaemonName, cause: string): void {
    const d = this.daemon(inst, name);
    if (d.active) {
      d.active = false;
      d.frozen = false;
      this.onEvent('daemon.stopped', { ...this.fields(inst, d), wasActive: true, by: cause });
      if (d.restartTimer) { clearTimeout(d.restartTimer); d.restartTimer = undefined; }
      for (const x of inst.daemons.values()) if (x.requires === name && x.active) this.daemonRestart(inst, x.name, `Requires=${name}.service restarted`);
    }
    this.daemonStart(inst, name, cause);
  }

  /** SIGSTOP: the process stays (systemd and pgrep still see it) but does nothing. */
  daemonFreeze(inst: Instance, name: DaemonName, by: string): void {
    const d = this.daemon(inst, name);
    if (!d.active || d.frozen) return;
    d.frozen = true;
    this.onEvent('daemon.frozen', { ...this.fields(inst, d), by });
  }

  /** SIGCONT: the process runs again; a SIGTERM that arrived while it was stopped takes effect now. */
  daemonThaw(inst: Instance, name: DaemonName, by: string): void {
    const d = this.daemon(inst, name);
    if (!d.active || !d.frozen) return;
    d.frozen = false;
    this.onEvent('daemon.thawed', { ...this.fields(inst, d), by });
    if (d.pendingTerm) { d.pendingTerm = false; this.daemonStop(inst, name, 'term', `${by} (pending SIGTERM)`); return; }
    this.resumeContainers(inst);
  }

  /** A signal sent to the daemon's process (kill, pkill, systemctl kill). */
  daemonSignal(inst: Instance, name: DaemonName, sig: number, by: string): void {
    const d = this.daemon(inst, name);
    if (!d.active) return;
    if (sig === 19 || sig === 20 || sig === 21 || sig === 22) return this.daemonFreeze(inst, name, by); // STOP, TSTP, TTIN, TTOU: default action stop
    if (sig === 18) return this.daemonThaw(inst, name, by);
    if (sig === 9) return this.daemonStop(inst, name, 'kill', by); // SIGKILL ends a stopped process too
    if (sig === 1 || sig === 2 || sig === 15 || sig === 3 || sig === 6) {
      // a stopped process handles these only once continued (the Go runtime's handlers run in the process)
      if (d.frozen) { d.pendingTerm = true; return; }
      this.daemonStop(inst, name, sig === 3 || sig === 6 ? 'kill' : 'term', by); // SIGQUIT/SIGABRT: Go dumps and exits 2, a failure
    }
    // sig 0 and the rest: no effect in the lab
  }

  // ---- quirks: faults that do not take (so the harness can prove it notices) ----
  setQuirk(inst: Instance, daemon: DaemonName, quirk: Quirk, by: string): void {
    if (!inst.daemons.has(daemon)) throw new Error(`${inst.spec.name} runs no ${daemon}`);
    const s = inst.quirks.get(daemon) ?? new Set<Quirk>();
    s.add(quirk);
    inst.quirks.set(daemon, s);
    this.onEvent('quirk.set', { instanceId: inst.id, node: inst.spec.name, daemon, quirk, by });
  }

  clearQuirks(inst: Instance, by: string): Array<{ daemon: DaemonName; quirk: Quirk }> {
    const gone = [...inst.quirks].flatMap(([daemon, s]) => [...s].map((quirk) => ({ daemon, quirk })));
    inst.quirks.clear();
    this.onEvent('quirk.cleared', { instanceId: inst.id, node: inst.spec.name, quirks: gone.map((q) => `${q.quirk}:${q.daemon}`), by });
    return gone;
  }

  hasQuirk(inst: Instance, daemon: DaemonName, quirk: Quirk): boolean {
    return inst.quirks.get(daemon)?.has(quirk) ?? false;
  }

  listQuirks(): Array<{ node: string; instanceId: string; daemon: DaemonName; quirk: Quirk }> {
    return [...this.instances.values()].flatMap((i) => [...i.quirks].flatMap(([daemon, s]) => [...s].map((quirk) => ({ node: i.spec.name, instanceId: i.id, daemon, quirk }))));
  }

  /** A node by name or instance id (not terminated). */
  findInstance(nodeOrId: string): Instance | undefined {
    for (const i of this.instances.values()) if (i.state !== 'terminated' && (i.id === nodeOrId || i.spec.name === nodeOrId)) return i;
    return undefined;
  }

  describeDaemons(inst: Instance): Record<string, { active: boolean; frozen: boolean; pid: number; kind: Daemon['kind'] }> {
    return Object.fromEntries([...inst.daemons.values()].map((d) => [d.name, { active: this.daemonActive(inst, d.name), frozen: this.daemonActive(inst, d.name) && d.frozen, pid: d.pid, kind: d.kind }]));
  }

  snapshot(): Record<string, unknown> {
    return {
      vpc: this.vpc,
      subnets: this.subnets.map((s) => ({ ...s, networkAclId: this.aclOfSubnet(s.id).acl.id })),
      acls: [...this.acls.values()].map((a) => ({ id: a.id, isDefault: a.isDefault, subnets: [...a.associations.values()], tags: Object.fromEntries(this.tags.get(a.id) ?? []) })),
      instances: [...this.instances.values()].map((i) => ({
        id: i.id, node: i.spec.name, zone: i.spec.zone, state: i.state, asg: i.asg, health: i.health,
        ping: this.pingStatus(i), daemons: this.describeDaemons(i), timers: [...i.transientUnits.keys()],
        ...{ os: i.spec.os, provisioner: i.spec.provisioner, capacityType: i.spec.capacityType, nodeGroup: i.spec.nodeGroup, nodePool: i.spec.nodePool, nodeClaim: i.spec.nodeClaim },
        quirks: [...i.quirks].flatMap(([daemon, q]) => [...q].map((quirk) => `${quirk}:${daemon}`)),
      })),
      nodeClaims: [...this.nodeClaims.values()],
      asgs: [...this.asgs.values()].map((a) => ({ name: a.name, kind: a.kind, zone: a.zone, zones: a.zones, suspended: [...a.suspended.keys()] })),
    };
  }

  instanceType(): string {
    return LAB_INSTANCE_TYPE;
  }
  region(): string {
    return LAB_REGION;
  }
}

export function nodesAsgName(cluster: string, zone: string): string {
  return `eks-${cluster}-ng-${zone}`;
}

/** The Bottlerocket managed node group's ASG (EKS names them eks-<nodegroup>-<uuid>; the lab leaves out the uuid). */
export function bottlerocketAsgName(cluster: string): string {
  return `eks-${bottlerocketNodeGroup(cluster)}`;
}
