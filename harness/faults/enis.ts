// What an AZ black-hole cuts: every ENI in the subnets it swaps, attributed to its owner (pure; the
// reads are in az-blackhole.ts). A black-holed subnet holds more than the zone's nodes: the NLB's ENI of
// that zone, NAT gateways, interface VPC endpoints, the EKS control plane's cross-account ENIs, and
// whatever else lives there. Those a real zone loss cuts too (endpoints, the control plane) are named as
// collateral; a NAT gateway (it carries the egress of every zone routed through it) and ENIs the harness
// cannot attribute to the cluster are refused unless the scenario allows them by name.
import type { EniInfo } from '../aws/index.js';

export type EniKind = 'node' | 'nlb' | 'natGateway' | 'vpcEndpoint' | 'eksControlPlane' | 'unknown';
/** The kinds a scenario may allow (`allow: [...]`); the others are never refused. */
export const ALLOWABLE = ['natGateway', 'unknown'] as const;
export type Allowable = (typeof ALLOWABLE)[number];

export interface EniEntry {
  id: string;
  subnetId: string;
  kind: EniKind;
  /** who it belongs to: the node, the NLB, the NAT gateway, the endpoint's service, the cluster */
  owner: string;
  /** what it is (primary ENI, VPC CNI secondary ENI, …) and why it is attributed so */
  detail: string;
  privateIp: string;
  publicIp?: string;
  /** cut by a real zone loss too: named in the plan and the report, never refused */
  collateral?: boolean;
}

export interface Attribution {
  cluster: string;
  /** the cluster's nodes: instance id → node name */
  nodes: Map<string, string>;
  /** NLB name → the LoadBalancer Service whose status names its DNS name; undefined: Services unreadable */
  loadBalancers?: Map<string, string>;
  /** interface VPC endpoint id → service name */
  endpointServices: Map<string, string>;
}

export const KIND_LABEL: Record<EniKind, string> = {
  node: 'node', nlb: 'NLB', natGateway: 'NAT gateway', vpcEndpoint: 'VPC endpoint', eksControlPlane: 'EKS control plane', unknown: 'unknown',
};

/** `ELB net/<name>/<id>` (NLB), `ELB app/<name>/<id>` (ALB): the ENI descriptions ELB gives its nodes. */
export function elbName(description: string): string | undefined {
  return /^ELB (?:net|app)\/([^/]+)\/[0-9a-f]+$/.exec(description)?.[1];
}

/**
 * NLB name → Service, from the hostnames the AWS Load Balancer Controller writes into
 * status.loadBalancer.ingress[].hostname: `<name>-<hex>.elb.<region>.amazonaws.com`.
 */
export function loadBalancersByName(hostnames: Array<{ service: string; hostname: string }>): Map<string, string> {
  const m = new Map<string, string>();
  for (const { service, hostname } of hostnames) {
    const label = hostname.split('.')[0].replace(/^internal-/, '');
    const name = /^(.+)-[0-9a-f]+$/.exec(label)?.[1];
    if (name) m.set(name, service);
  }
  return m;
}

export function classifyEni(e: EniInfo, a: Attribution): EniEntry {
  const base = { id: e.id, subnetId: e.subnetId, privateIp: e.privateIp, ...(e.publicIp ? { publicIp: e.publicIp } : {}) };
  const what = `${e.interfaceType}${e.description ? ` "${e.description}"` : ''}`;
  if (e.interfaceType === 'natGateway') {
    return { ...base, kind: 'natGateway', owner: /nat-[0-9a-f]+/.exec(e.description)?.[0] ?? 'NAT gateway', detail: 'the NAT gateway: the internet egress of every subnet routed through it, in every zone' };
  }
  const lb = elbName(e.description);
  if (lb !== undefined) {
    const svc = a.loadBalancers?.get(lb);
    if (svc) return { ...base, kind: 'nlb', owner: lb, detail: `the load balancer of Service ${svc}: its node in this zone` };
    return { ...base, kind: 'unknown', owner: lb, detail: `${what}: ${a.loadBalancers ? 'not the load balancer of a LoadBalancer Service of this cluster' : 'the cluster\'s Services could not be read to tell whose load balancer it is'}` };
  }
  const vpce = /^VPC Endpoint Interface:? (vpce-[0-9a-f]+)/.exec(e.description)?.[1];
  if (e.interfaceType === 'vpc_endpoint' || vpce) {
    const svc = vpce ? a.endpointServices.get(vpce) : undefined;
    return { ...base, kind: 'vpcEndpoint', owner: svc ?? vpce ?? 'VPC endpoint', detail: `interface VPC endpoint ${vpce ?? ''}`.trim(), collateral: true };
  }
  if (e.description === `Amazon EKS ${a.cluster}`) {
    return { ...base, kind: 'eksControlPlane', owner: a.cluster, detail: 'a cross-account ENI of the EKS control plane (the apiserver stays reachable through the other zones\' ENIs)', collateral: true };
  }
  const node = e.instanceId ? a.nodes.get(e.instanceId) : undefined;
  if (node) {
    const role = e.interfaceType === 'trunk' ? 'trunk ENI (security groups for pods)'
      : e.description.startsWith('aws-K8S-') ? `VPC CNI secondary ENI (device ${e.deviceIndex ?? '?'})`
        : e.deviceIndex === 0 ? 'primary ENI' : `ENI device ${e.deviceIndex ?? '?'}`;
    return { ...base, kind: 'node', owner: `${node} (${e.instanceId})`, detail: role };
  }
  // VPC CNI ENIs not attached (warm, or left by a terminated node) carry the cluster's name as a tag
  if (!e.instanceId && (e.tags['cluster.k8s.amazonaws.com/name'] === a.cluster || e.tags['eks:eks-cluster-name'] === a.cluster)) {
    const inst = e.tags['node.k8s.amazonaws.com/instance_id'];
    return { ...base, kind: 'node', owner: inst ? `VPC CNI of ${inst}` : `cluster ${a.cluster}`, detail: `${what}, ${e.status}, tagged for cluster ${a.cluster}` };
  }
  return { ...base, kind: 'unknown', owner: e.instanceId ?? e.requesterId ?? 'unknown', detail: `${what}${e.instanceId ? `, attached to ${e.instanceId}, not a node of cluster ${a.cluster}` : ''}: not attributable to cluster ${a.cluster}` };
}

/** One plan line per ENI. */
export function eniLine(x: EniEntry): string {
  const ip = `${x.privateIp}${x.publicIp ? `, public ${x.publicIp}` : ''}`;
  return `  ENI ${x.id} [${KIND_LABEL[x.kind]}] ${x.owner}: ${x.detail} (${ip})${x.collateral ? ' — collateral a real zone loss has too' : ''}`;
}

/** What the scenario must allow before these ENIs may be cut: kind → the ENIs of that kind, for each refused kind not allowed. */
export function refused(entries: EniEntry[], allow: readonly string[]): Map<Allowable, EniEntry[]> {
  const out = new Map<Allowable, EniEntry[]>();
  for (const k of ALLOWABLE) {
    if (allow.includes(k)) continue;
    const hit = entries.filter((x) => x.kind === k);
    if (hit.length) out.set(k, hit);
  }
  return out;
}

/** "6 node, 6 VPC endpoint, 1 EKS control plane" */
export function countByKind(entries: EniEntry[]): string {
  const n = new Map<EniKind, number>();
  for (const x of entries) n.set(x.kind, (n.get(x.kind) ?? 0) + 1);
  return [...n].map(([k, c]) => `${c} ${KIND_LABEL[k]}`).join(', ');
}
