// Which nodes and instances a fault may touch: nodes come from Kubernetes (selector, node group,
// zone), map to instances through spec.providerID, and an instance is touched only if it carries
// the cluster's tag in an allowed account and region. Choice is random with a printed seed.
// Blast radius is checked before anything is touched.
import { invalid } from '../exit-codes.js';
import { isNodeReady, parseProviderID, type Kube, type V1Node } from '../k8s/index.js';
import type { Aws, InstanceInfo } from '../aws/index.js';
import { NODEGROUP_LABEL, ZONE_LABEL } from '../selector.js';
import type { Limits } from './schema.js';
import { describeKind, nodeKindOf, type NodeKind } from './node-kinds.js';

export { NODEGROUP_LABEL, ZONE_LABEL };

export interface Selection { selector?: string; nodeGroup?: string; zone?: string; count?: number; percent?: number }
export interface TargetNode {
  name: string; zone: string; instanceId: string; ready: boolean;
  /** from status.nodeInfo.containerRuntimeVersion */
  runtime: string;
  /** OS image, provisioner, Spot (node-kinds.ts) */
  kind: NodeKind;
}

export interface Guard {
  cluster: string;
  region: string;
  /** allowed AWS account ids; empty: any (the lab) */
  accounts: string[];
  /** the account the credentials are for (STS GetCallerIdentity, checked against `accounts` before anything) */
  account?: string;
}

/** mulberry32: small, seedable, good enough to replay a choice with `--seed`. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(items: T[], n: number, seed: number): T[] {
  const r = rng(seed);
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

export function toTarget(n: V1Node): TargetNode | undefined {
  const ids = parseProviderID(n.spec?.providerID);
  if (!ids) return undefined;
  const runtime = (n.status?.nodeInfo?.containerRuntimeVersion ?? '').split('://')[0] || 'unknown';
  return { name: n.metadata!.name!, zone: n.metadata?.labels?.[ZONE_LABEL] ?? ids.zone, instanceId: ids.instanceId, ready: isNodeReady(n), runtime, kind: nodeKindOf(n) };
}

export function selectorOf(s: Selection): string | undefined {
  const parts = [s.selector, s.nodeGroup && `${NODEGROUP_LABEL}=${s.nodeGroup}`, s.zone && `${ZONE_LABEL}=${s.zone}`].filter(Boolean);
  return parts.length ? parts.join(',') : undefined;
}

export interface Resolved {
  all: TargetNode[]; matching: TargetNode[]; chosen: TargetNode[]; seed: number;
  /** matching Ready nodes the fault cannot act on, and why */
  skipped: Array<{ node: TargetNode; why: string }>;
}

/** Why the fault cannot act on this node (undefined: it can): Bottlerocket for daemons, Spot for stops, … */
export type Eligibility = (n: TargetNode) => string | undefined;

/** `node (i-…, zone): AL2023, managed node group ng`: how the plan names a node. */
export function describeNode(n: TargetNode): string {
  return `${n.name} (${n.instanceId}, ${n.zone}; ${describeKind(n.kind)})`;
}

/** Nodes running at least one (non-terminating) pod of the given workloads. */
export async function workloadHosts(kube: Kube, workloads: Array<{ namespace: string; selector: string }> | undefined): Promise<Set<string>> {
  const hosts = new Set<string>();
  for (const w of workloads ?? []) for (const p of await kube.pods(w.namespace, w.selector)) if (!p.metadata?.deletionTimestamp && p.spec?.nodeName) hosts.add(p.spec.nodeName);
  return hosts;
}

/**
 * Resolves and picks nodes, then checks the blast radius. Throws exit-2 errors; touches nothing.
 * With `hosts` (the nodes running the scenario's workloads), the choice is among matching nodes that
 * run them, so a fault never lands on a node the scenario does not exercise.
 */
export async function chooseNodes(kube: Kube, s: Selection, limits: Limits, seed: number, hosts?: Set<string>, selfNode?: string, eligible?: Eligibility, fault = 'fault'): Promise<Resolved> {
  if (s.count !== undefined && s.percent !== undefined) throw invalid('fault: give either count or percent, not both');
  const allNodes = await kube.nodes();
  const all = allNodes.map(toTarget).filter((x): x is TargetNode => !!x);
  const noProvider = allNodes.length - all.length;
  const sel = selectorOf(s);
  const matchingNodes = sel ? await kube.nodes(sel) : allNodes;
  // the harness's own node is never a candidate: stopping it would stop the revert
  let matching = matchingNodes.map(toTarget).filter((x): x is TargetNode => !!x && x.ready && x.name !== selfNode);
  const skipped: Resolved['skipped'] = [];
  if (eligible && matching.length) {
    const ok = matching.filter((x) => { const why = eligible(x); if (why) skipped.push({ node: x, why }); return !why; });
    if (!ok.length) {
      const groups = [...new Set(all.filter((x) => x.ready && !eligible(x)).map((x) => x.kind.group).filter(Boolean))].sort();
      throw invalid(`${fault}: none of the ${matching.length} matching Ready node(s) can take this fault${sel ? ` (selector "${sel}")` : ''}`, [
        ...skipped.map((x) => `${describeNode(x.node)}: ${x.why}`),
        groups.length ? `select nodes it can act on, e.g. nodeGroup: ${groups[0]}${groups.length > 1 ? ` (groups that can: ${groups.join(', ')})` : ''}, or a selector that excludes these` : 'no node of this cluster can take this fault',
      ]);
    }
    matching = ok;
  }
  if (hosts?.size && matching.some((x) => hosts.has(x.name))) matching = matching.filter((x) => hosts.has(x.name));
  if (!matching.length) {
    throw invalid(`fault: no Ready node matches ${sel ? `selector "${sel}"` : 'the cluster'}${noProvider ? ` (${noProvider} nodes have no aws:/// providerID)` : ''}${selfNode && matchingNodes.some((n) => n.metadata?.name === selfNode) ? ` (the harness's own node ${selfNode} is never chosen)` : ''}`);
  }
  const n = s.percent !== undefined ? Math.max(1, Math.ceil((matching.length * s.percent) / 100)) : (s.count ?? 1);
  if (n > matching.length) throw invalid(`fault: count ${n} is more than the ${matching.length} matching Ready nodes`);
  const chosen = pick(matching, n, seed);
  checkNodeBlastRadius(chosen, all, limits);
  return { all, matching, chosen, seed, skipped };
}

export function checkNodeBlastRadius(chosen: TargetNode[], all: TargetNode[], limits: Limits): void {
  const ready = all.filter((x) => x.ready);
  if (chosen.length >= ready.length) throw invalid(`blast radius: the fault would take all ${ready.length} Ready nodes; at least one must stay`);
  if (limits.maxNodes !== undefined && chosen.length > limits.maxNodes) throw invalid(`blast radius: ${chosen.length} nodes is over limits.maxNodes ${limits.maxNodes}`);
  if (limits.maxPercent !== undefined && (chosen.length * 100) / all.length > limits.maxPercent) {
    throw invalid(`blast radius: ${chosen.length} of ${all.length} nodes (${((chosen.length * 100) / all.length).toFixed(0)}%) is over limits.maxPercent ${limits.maxPercent}%`);
  }
  const zones = new Set(all.map((x) => x.zone));
  const hitZones = new Set(chosen.map((x) => x.zone));
  if (zones.size > 1 && hitZones.size === zones.size && chosen.length === all.length) throw invalid('blast radius: the fault would take every zone');
}

export function checkZoneBlastRadius(zone: string, all: TargetNode[], limits: Limits): void {
  const zones = new Set(all.map((x) => x.zone));
  if (!zones.has(zone)) throw invalid(`az-blackhole: no cluster node is in zone ${zone} (zones: ${[...zones].sort().join(', ')})`);
  if (zones.size < 2) throw invalid(`blast radius: the cluster has nodes in one zone only (${zone}); black-holing it would take every zone`);
  if (limits.maxZones < 1) throw invalid('blast radius: limits.maxZones is below 1');
  const readyElsewhere = all.filter((x) => x.ready && x.zone !== zone);
  if (!readyElsewhere.length) throw invalid(`blast radius: no Ready node outside ${zone}; the fault would take every Ready node`);
}

/** Every instance must exist, carry the cluster tag, and live in the allowed region and account. */
export async function verifyInstances(aws: Aws, ids: string[], g: Guard): Promise<Map<string, InstanceInfo>> {
  const found = new Map((await aws.describeInstances(ids)).map((i) => [i.id, i]));
  const problems: string[] = [];
  for (const id of ids) {
    const i = found.get(id);
    if (!i) { problems.push(`${id}: not found`); continue; }
    if (!(`kubernetes.io/cluster/${g.cluster}` in i.tags)) problems.push(`${id}: lacks the tag kubernetes.io/cluster/${g.cluster}`);
    if (!i.zone.startsWith(g.region)) problems.push(`${id}: in ${i.zone}, outside the allowed region ${g.region}`);
    if (g.accounts.length && !g.accounts.includes(i.ownerId ?? '')) problems.push(`${id}: account ${i.ownerId} is not among the allowed ${g.accounts.join(', ')}`);
  }
  if (problems.length) throw invalid(`refusing to touch instances that are not this cluster's:`, problems);
  return found;
}
