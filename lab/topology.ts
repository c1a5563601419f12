// The lab's simulated AWS topology: one region, three zones, N nodes per zone. Pure functions, so the
// Kubernetes side (nodes) and the AWS side (instances) always agree on ids, names and addresses.
import { createHash } from 'node:crypto';

export type Runtime = 'containerd' | 'docker';
/** The node's operating system image: the EKS AL2023 and AL2 (docker runtime) AMIs, or Bottlerocket. */
export type NodeOs = 'al2023' | 'al2' | 'bottlerocket';
/** How the node was provisioned: an EKS managed node group (an Auto Scaling group) or Karpenter (no ASG). */
export type Provisioner = 'managed' | 'karpenter';
export type CapacityType = 'on-demand' | 'spot';

export const LAB_REGION = 'us-east-1';
export const LAB_ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;
export const LAB_INSTANCE_TYPE = 'm5.large';
export const LAB_K8S_VERSION = 'v1.36.3';
/** The label KWOK selects nodes by (`--manage-nodes-with-label-selector`): removing it stops the heartbeat. */
export const HEARTBEAT_LABEL = 'lab.chaos.local/heartbeat';
export const HEARTBEAT_SELECTOR = `${HEARTBEAT_LABEL}=on`;
export const NODEGROUP_LABEL = 'eks.amazonaws.com/nodegroup';
/** EKS managed node groups label their nodes ON_DEMAND or SPOT (EKS docs: "Managed node groups", capacity types). */
export const CAPACITY_TYPE_LABEL = 'eks.amazonaws.com/capacityType';
/** Karpenter's well-known labels (karpenter.sh/docs/reference/instance-types, concepts/scheduling). */
export const KARPENTER_NODEPOOL_LABEL = 'karpenter.sh/nodepool';
export const KARPENTER_CAPACITY_TYPE_LABEL = 'karpenter.sh/capacity-type';
export const KARPENTER_NODECLASS_LABEL = 'karpenter.k8s.aws/ec2nodeclass';
export const KARPENTER_NODEPOOL = 'default';
export const KARPENTER_NODECLASS = 'default';
/** The taint Karpenter's termination controller puts on a node before draining it (karpenter.sh/docs/concepts/disruption). */
export const KARPENTER_DISRUPTED_TAINT = 'karpenter.sh/disrupted';

export const RUNTIME_VERSIONS: Record<Runtime, string> = {
  containerd: 'containerd://1.7.27',
  docker: 'docker://20.10.25',
};

/**
 * What each OS image reports in the Node's status.nodeInfo (kubectl get nodes -o wide):
 * - AL2023: "Amazon Linux 2023.6.20241212", kernel 6.1.x-…amzn2023.x86_64, containerd://1.7.27
 *   (amazon-eks-ami AL2023 release notes; e.g. "Amazon Linux 2023.8.20250818 6.12.40-63.114.amzn2023.x86_64 containerd://1.7.27").
 * - AL2 (the docker runtime): "Amazon Linux 2", kernel 5.10.x-…amzn2.x86_64.
 * - Bottlerocket: "Bottlerocket OS <version> (<variant>)", the bare upstream kernel version, containerd with a
 *   "+bottlerocket" suffix (e.g. "Bottlerocket OS 1.44.0 (aws-k8s-1.33)  6.12.37  containerd://2.0.5+bottlerocket";
 *   the aws-k8s-1.36 variant seen as "Bottlerocket OS 1.66.0 (aws-k8s-1.36)", kernel 6.18.48, containerd 2.2.8+bottlerocket).
 */
export const OS_IMAGES: Record<NodeOs, { osImage: string; kernelVersion: string; containerd: string }> = {
  al2023: { osImage: 'Amazon Linux 2023.6.20241212', kernelVersion: '6.1.119-129.201.amzn2023.x86_64', containerd: 'containerd://1.7.27' },
  al2: { osImage: 'Amazon Linux 2', kernelVersion: '5.10.230-223.885.amzn2.x86_64', containerd: 'containerd://1.7.27' },
  bottlerocket: { osImage: 'Bottlerocket OS 1.66.0 (aws-k8s-1.36)', kernelVersion: '6.18.48', containerd: 'containerd://2.2.8+bottlerocket' },
};

/** The container runtime version a node reports: Bottlerocket ships its own containerd build. */
export function runtimeVersion(spec: Pick<LabNodeSpec, 'os' | 'runtime'>): string {
  if (spec.runtime === 'docker') return RUNTIME_VERSIONS.docker;
  return OS_IMAGES[spec.os].containerd;
}

export interface LabNodeSpec {
  name: string;
  instanceId: string;
  zone: string;
  zoneIndex: number;
  /** position among the zone's nodes (0-based), generation-aware for replacements */
  ordinal: number;
  privateIp: string;
  privateDnsName: string;
  podCIDR: string;
  /** the EKS managed node group (absent for Karpenter nodes) */
  nodeGroup?: string;
  providerID: string;
  /** what the node runs and how it came to be (shared by the Kubernetes side and the AWS side) */
  os: NodeOs;
  runtime: Runtime;
  provisioner: Provisioner;
  capacityType: CapacityType;
  /** Karpenter's NodePool (provisioner 'karpenter' only) */
  nodePool?: string;
  /** Karpenter's NodeClaim name (provisioner 'karpenter' only): `<nodepool>-<5 chars>` */
  nodeClaim?: string;
}

/**
 * Addresses: one /24 per zone (10.0.{zone+1}.0/24), host part by kind so no two kinds ever collide:
 *   managed AL2023/AL2 (per-zone ASGs)  .10–.149  (ordinal 0–139, replacements included)
 *   Bottlerocket managed group          .150–.169 (ordinal 0–19)
 *   Karpenter NodePool "default"        .170–.249 (ordinal 0–79)
 * Pod CIDRs 10.{100+zone}.{host-offset}.0/24 follow the same split (managed ordinal, 150+, 170+).
 */
export const MANAGED_MAX_ORDINAL = 139;
export const BOTTLEROCKET_BASE = 150;
export const BOTTLEROCKET_MAX_ORDINAL = 19;
export const KARPENTER_BASE = 170;
export const KARPENTER_MAX_ORDINAL = 79;

function addressed(zoneIndex: number, host: number, podThird: number, seed: string): Pick<LabNodeSpec, 'name' | 'instanceId' | 'zone' | 'zoneIndex' | 'privateIp' | 'privateDnsName' | 'podCIDR' | 'providerID'> {
  const zone = LAB_ZONES[zoneIndex];
  if (!zone) throw new Error(`zone index ${zoneIndex} out of range`);
  const privateIp = `10.0.${zoneIndex + 1}.${host}`;
  const privateDnsName = `ip-${privateIp.replaceAll('.', '-')}.ec2.internal`;
  const h = createHash('sha256').update(seed).digest('hex');
  const instanceId = `i-0${h.slice(0, 16)}`;
  return { name: privateDnsName, instanceId, zone, zoneIndex, privateIp, privateDnsName, podCIDR: `10.${100 + zoneIndex}.${podThird}.0/24`, providerID: `aws:///${zone}/${instanceId}` };
}

export function bottlerocketNodeGroup(cluster: string): string {
  return `${cluster}-bottlerocket`;
}

/** Bottlerocket nodes spread over the zones starting in us-east-1c, so the default lab has 3 nodes in every zone. */
export function bottlerocketZone(ordinal: number): number {
  return (2 + ordinal) % LAB_ZONES.length;
}

/** Node `ordinal` of the Bottlerocket managed node group (one ASG over the three zones). */
export function bottlerocketSpec(cluster: string, ordinal: number, zoneIndex = bottlerocketZone(ordinal)): LabNodeSpec {
  if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal > BOTTLEROCKET_MAX_ORDINAL) throw new Error(`bottlerocket ordinal ${ordinal} out of range 0..${BOTTLEROCKET_MAX_ORDINAL}`);
  const a = addressed(zoneIndex, BOTTLEROCKET_BASE + ordinal, BOTTLEROCKET_BASE + ordinal, `${cluster}/bottlerocket/${ordinal}`);
  // Bottlerocket has no docker: containerd only (bottlerocket-os/bottlerocket: the aws-k8s variants)
  return { ...a, ordinal, nodeGroup: bottlerocketNodeGroup(cluster), os: 'bottlerocket', runtime: 'containerd', provisioner: 'managed', capacityType: 'on-demand' };
}

/** Karpenter names a NodeClaim `<nodepool>-<5 random lowercase alphanumerics>`; the lab derives them from the ordinal. */
export function nodeClaimName(cluster: string, nodePool: string, ordinal: number): string {
  const h = createHash('sha256').update(`${cluster}/nodeclaim/${nodePool}/${ordinal}`).digest();
  const abc = 'bcdfghjklmnpqrstvwxz2456789';
  return `${nodePool}-${[...h.subarray(0, 5)].map((b) => abc[b % abc.length]).join('')}`;
}

/** Karpenter nodes spread over the zones from us-east-1a. */
export function karpenterZone(ordinal: number): number {
  return ordinal % LAB_ZONES.length;
}

/** Node `ordinal` of Karpenter's NodePool `default` (no ASG: Karpenter launches instances itself, through EC2 CreateFleet). */
export function karpenterSpec(cluster: string, ordinal: number, capacityType: CapacityType, zoneIndex = karpenterZone(ordinal), nodePool = KARPENTER_NODEPOOL): LabNodeSpec {
  if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal > KARPENTER_MAX_ORDINAL) throw new Error(`karpenter ordinal ${ordinal} out of range 0..${KARPENTER_MAX_ORDINAL}`);
  const a = addressed(zoneIndex, KARPENTER_BASE + ordinal, KARPENTER_BASE + ordinal, `${cluster}/karpenter/${ordinal}`);
  return { ...a, ordinal, os: 'al2023', runtime: 'containerd', provisioner: 'karpenter', capacityType, nodePool, nodeClaim: nodeClaimName(cluster, nodePool, ordinal) };
}

export interface NodeKinds {
  /** AL2023 (AL2 with docker) managed node group: nodes in each zone */
  nodesPerZone: number;
  runtime?: Runtime;
  /** Bottlerocket managed node group: nodes in all (0..3) */
  bottlerocketNodes?: number;
  /** Karpenter NodePool `default`: nodes in all (0..6) … */
  karpenterNodes?: number;
  /** … of which Spot (0..karpenterNodes) */
  karpenterSpot?: number;
}

export const DEFAULT_NODE_KINDS = { bottlerocketNodes: 1, karpenterNodes: 2, karpenterSpot: 1 } as const;

export function checkNodeKinds(k: NodeKinds): Required<NodeKinds> {
  const br = k.bottlerocketNodes ?? DEFAULT_NODE_KINDS.bottlerocketNodes;
  const kn = k.karpenterNodes ?? DEFAULT_NODE_KINDS.karpenterNodes;
  const ks = k.karpenterSpot ?? Math.min(DEFAULT_NODE_KINDS.karpenterSpot, kn);
  if (!Number.isInteger(br) || br < 0 || br > 3) throw new Error(`--bottlerocket-nodes must be an integer from 0 to 3, got ${br}`);
  if (!Number.isInteger(kn) || kn < 0 || kn > 6) throw new Error(`--karpenter-nodes must be an integer from 0 to 6, got ${kn}`);
  if (!Number.isInteger(ks) || ks < 0 || ks > kn) throw new Error(`--karpenter-spot must be an integer from 0 to --karpenter-nodes (${kn}), got ${ks}`);
  if (kn >= 1 && ks < 1) throw new Error('--karpenter-spot must be at least 1 when there are Karpenter nodes (the lab always has a Spot node to rehearse with)');
  return { nodesPerZone: k.nodesPerZone, runtime: k.runtime ?? 'containerd', bottlerocketNodes: br, karpenterNodes: kn, karpenterSpot: ks };
}

export function instanceIdFor(cluster: string, zone: string, ordinal: number): string {
  const h = createHash('sha256').update(`${cluster}/${zone}/${ordinal}`).digest('hex');
  return `i-0${h.slice(0, 16)}`;
}

export function nodeGroupFor(cluster: string, zone: string): string {
  return `${cluster}-ng-${zone}`;
}

/** Node `ordinal` of zone `zoneIndex`. Ordinals >= nodesPerZone are replacement instances. */
export function nodeSpec(cluster: string, zoneIndex: number, ordinal: number, runtime: Runtime = 'containerd'): LabNodeSpec {
  const zone = LAB_ZONES[zoneIndex];
  if (!zone) throw new Error(`zone index ${zoneIndex} out of range`);
  if (ordinal < 0 || ordinal > MANAGED_MAX_ORDINAL) throw new Error(`node ordinal ${ordinal} out of range 0..${MANAGED_MAX_ORDINAL}`);
  const privateIp = `10.0.${zoneIndex + 1}.${ordinal + 10}`;
  const privateDnsName = `ip-${privateIp.replaceAll('.', '-')}.ec2.internal`;
  const instanceId = instanceIdFor(cluster, zone, ordinal);
  return {
    name: privateDnsName,
    instanceId,
    zone,
    zoneIndex,
    ordinal,
    privateIp,
    privateDnsName,
    podCIDR: `10.${100 + zoneIndex}.${ordinal}.0/24`,
    nodeGroup: nodeGroupFor(cluster, zone),
    providerID: `aws:///${zone}/${instanceId}`,
    // the docker runtime exists on the EKS AL2 AMIs only (AL2023 ships containerd)
    os: runtime === 'docker' ? 'al2' : 'al2023',
    runtime,
    provisioner: 'managed',
    capacityType: 'on-demand',
  };
}

/**
 * The lab's nodes: the AL2023 managed group first (per zone), then the Bottlerocket group, then the
 * Karpenter nodes (the first `karpenterSpot` of them Spot). Without `kinds` only the managed group.
 */
export function initialNodes(cluster: string, nodesPerZone: number, runtime: Runtime = 'containerd', kinds: Omit<NodeKinds, 'nodesPerZone' | 'runtime'> = { bottlerocketNodes: 0, karpenterNodes: 0, karpenterSpot: 0 }): LabNodeSpec[] {
  if (!Number.isInteger(nodesPerZone) || nodesPerZone < 1 || nodesPerZone > 100) {
    throw new Error(`--nodes-per-zone must be an integer from 1 to 100, got ${nodesPerZone}`);
  }
  const k = checkNodeKinds({ nodesPerZone, runtime, ...kinds });
  const out: LabNodeSpec[] = [];
  for (let z = 0; z < LAB_ZONES.length; z++) for (let i = 0; i < nodesPerZone; i++) out.push(nodeSpec(cluster, z, i, runtime));
  for (let i = 0; i < k.bottlerocketNodes; i++) out.push(bottlerocketSpec(cluster, i));
  for (let i = 0; i < k.karpenterNodes; i++) out.push(karpenterSpec(cluster, i, i < k.karpenterSpot ? 'spot' : 'on-demand'));
  return out;
}

export function parseProviderID(providerID: string): { zone: string; instanceId: string } | undefined {
  const m = /^aws:\/\/\/([a-z0-9-]+)\/(i-[0-9a-f]+)$/.exec(providerID);
  return m ? { zone: m[1], instanceId: m[2] } : undefined;
}
