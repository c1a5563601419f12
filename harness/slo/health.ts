// "This replica is healthy": one definition for the live wait (Observer.healthy / steady), the
// recorded analysis (slo/analyze.ts) and the report's chart (report/html.ts). A replica is healthy
// when it is Ready, not terminating, scheduled on a node that is known and Ready, and — while a fault
// is in place — not on a faulted node, not in a faulted zone, and not itself a faulted pod.
export interface ReplicaState { key?: string; node?: string; ready: boolean; deleted: boolean }
export interface NodeHealth { ready: boolean; zone?: string }

/** What a fault takes away while it is in place (from the kind's `faulted(plan)`). */
export interface FaultScope { nodes: ReadonlySet<string>; zones: ReadonlySet<string>; pods: ReadonlySet<string> }

export const NO_FAULT: FaultScope = { nodes: new Set(), zones: new Set(), pods: new Set() };

export function faultScope(f: { nodes?: string[]; zones?: string[]; pods?: string[] } | undefined): FaultScope {
  return f ? { nodes: new Set(f.nodes ?? []), zones: new Set(f.zones ?? []), pods: new Set(f.pods ?? []) } : NO_FAULT;
}

export function replicaHealthy(p: ReplicaState, node: NodeHealth | undefined, faulted: FaultScope = NO_FAULT): boolean {
  if (p.deleted || !p.ready || !p.node) return false;
  if (!node?.ready) return false;
  if (faulted.nodes.has(p.node)) return false;
  if (node.zone !== undefined && faulted.zones.has(node.zone)) return false;
  if (p.key !== undefined && faulted.pods.has(p.key)) return false;
  return true;
}

/** Healthy replicas per workload (every workload in `workloads` is present, 0 when none). */
export function healthyCounts(pods: Iterable<ReplicaState & { workload: string }>, nodeOf: (name: string) => NodeHealth | undefined, faulted: FaultScope = NO_FAULT, workloads: Iterable<string> = []): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of workloads) m.set(w, 0);
  for (const p of pods) if (replicaHealthy(p, p.node ? nodeOf(p.node) : undefined, faulted)) m.set(p.workload, (m.get(p.workload) ?? 0) + 1);
  return m;
}
