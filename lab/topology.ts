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

export const RUNTIME_VERSIONS: Record<Runtime, string> = {
  containerd: 'containerd://1.7.27',
  docker: 'docker://20.10.25',
};

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
  nodeGroup: string;
  providerID: string;
  /** what the node runs and how it came to be (shared by the Kubernetes side and the AWS side) */
  os: NodeOs;
  runtime: Runtime;
  provisioner: Provisioner;
  capacityType: CapacityType;
  /** Karpenter's NodePool (provisioner 'karpenter' only) */
  nodePool?: string;
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
  if (ordinal < 0 || ordinal > 200) throw new Error(`node ordinal ${ordinal} out of range 0..200`);
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

export function initialNodes(cluster: string, nodesPerZone: number, runtime: Runtime = 'containerd'): LabNodeSpec[] {
  if (!Number.isInteger(nodesPerZone) || nodesPerZone < 1 || nodesPerZone > 100) {
    throw new Error(`--nodes-per-zone must be an integer from 1 to 100, got ${nodesPerZone}`);
  }
  const out: LabNodeSpec[] = [];
  for (let z = 0; z < LAB_ZONES.length; z++) for (let i = 0; i < nodesPerZone; i++) out.push(nodeSpec(cluster, z, i, runtime));
  return out;
}

export function parseProviderID(providerID: string): { zone: string; instanceId: string } | undefined {
  const m = /^aws:\/\/\/([a-z0-9-]+)\/(i-[0-9a-f]+)$/.exec(providerID);
  return m ? { zone: m[1], instanceId: m[2] } : undefined;
}
