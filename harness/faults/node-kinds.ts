// What kind of EKS node a Node is, from what the Node itself says (labels, status.nodeInfo) and,
// when known, what EC2 says (InstanceLifecycle): the operating system image, who provisioned it
// (a managed node group, Karpenter, or something else) and whether it is Spot capacity. The faults
// act differently on each kind, and refuse where they cannot act:
//  - Bottlerocket: SSM's agent runs in the control container, which has no host systemd and cannot
//    see the host's processes (https://bottlerocket.dev/en/os/latest/#/concepts/host-containers/ and
//    the Bottlerocket README "Control container"): node-local daemon faults cannot act there.
//  - Spot: "You can't stop a Spot Instance that is associated with a one-time Spot Instance request"
//    (EC2 StopInstances fails with UnsupportedOperation;
//    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/stop-spot-instances.html).
//  - Karpenter: a stopped instance is an interruption: Karpenter taints the node
//    karpenter.sh/disrupted, drains it, terminates the instance and launches a replacement
//    (https://karpenter.sh/docs/concepts/disruption/#interruption), so the stopped node never comes back.
import type { V1Node } from '../k8s/index.js';
import type { InstanceInfo } from '../aws/index.js';
import { NODEGROUP_LABEL } from '../selector.js';

export type NodeOs = 'al2023' | 'al2' | 'bottlerocket' | 'other';
export type Provisioner = 'managed' | 'karpenter' | 'self-managed';

export interface NodeKind {
  os: NodeOs;
  /** status.nodeInfo.osImage as the node reports it */
  osImage: string;
  provisioner: Provisioner;
  /** the managed node group (eks.amazonaws.com/nodegroup) or Karpenter NodePool */
  group?: string;
  spot: boolean;
}

export const KARPENTER_NODEPOOL_LABEL = 'karpenter.sh/nodepool';
/** Karpenter before v1beta1 (v0.31 and older) */
export const KARPENTER_PROVISIONER_LABEL = 'karpenter.sh/provisioner-name';
export const KARPENTER_CAPACITY_LABEL = 'karpenter.sh/capacity-type';
export const EKS_CAPACITY_LABEL = 'eks.amazonaws.com/capacityType';
/** the capacity labels and the value that means Spot (EKS managed node groups: SPOT; Karpenter: spot) */
export const SPOT_LABELS: Record<string, string> = { [EKS_CAPACITY_LABEL]: 'SPOT', [KARPENTER_CAPACITY_LABEL]: 'spot', 'node.kubernetes.io/lifecycle': 'spot' };

export function osOf(osImage: string): NodeOs {
  if (/^Bottlerocket/i.test(osImage)) return 'bottlerocket';
  if (/^Amazon Linux 2023/i.test(osImage)) return 'al2023';
  if (/^Amazon Linux 2\b/i.test(osImage)) return 'al2';
  return 'other';
}

/** The node's kind from the Node, refined by EC2's InstanceLifecycle when the instance is known. */
export function nodeKindOf(n: V1Node, inst?: Pick<InstanceInfo, 'lifecycle'>): NodeKind {
  const labels = n.metadata?.labels ?? {};
  const osImage = n.status?.nodeInfo?.osImage ?? '';
  const pool = labels[KARPENTER_NODEPOOL_LABEL] ?? labels[KARPENTER_PROVISIONER_LABEL];
  const provisioner: Provisioner = pool ? 'karpenter' : labels[NODEGROUP_LABEL] ? 'managed' : 'self-managed';
  const spot = inst?.lifecycle === 'spot' || Object.entries(SPOT_LABELS).some(([k, v]) => labels[k] === v);
  return { os: osOf(osImage), osImage, provisioner, group: pool ?? labels[NODEGROUP_LABEL], spot };
}

const OS_NAMES: Record<NodeOs, string> = { al2023: 'AL2023', al2: 'AL2', bottlerocket: 'Bottlerocket', other: 'other OS' };

/** "AL2023, managed node group ng-a" / "Bottlerocket, Karpenter NodePool default, Spot". */
export function describeKind(k: NodeKind): string {
  const by = k.provisioner === 'karpenter' ? `Karpenter NodePool ${k.group}` : k.provisioner === 'managed' ? `managed node group ${k.group}` : 'self-managed';
  return `${OS_NAMES[k.os]}${k.os === 'other' && k.osImage ? ` (${k.osImage})` : ''}, ${by}${k.spot ? ', Spot' : ''}`;
}

/** Why Bottlerocket nodes cannot take a node-local daemon fault (the plan's message). */
export const BOTTLEROCKET_WHY = "Bottlerocket: SSM reaches the control container only, which has no host systemd and cannot see kubelet, containerd or kube-proxy";
export const SPOT_WHY = 'Spot: a one-time Spot instance cannot be stopped (EC2 StopInstances: UnsupportedOperation)';
export const KARPENTER_WHY = "Karpenter: it answers a stopped instance by draining and terminating it and launching a replacement; the node never comes back (say karpenter: 'expect-replacement' to test that)";
