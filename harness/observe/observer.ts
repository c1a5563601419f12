// Watches nodes, the workloads' pods and controllers, and EndpointSlices, and writes what changed to
// the run's timeline: node readiness, each pod's node/readiness/deletion, desired replicas, ready
// endpoints per service, and gaps while the apiserver cannot be reached.
import { isNodeReady, type Kube, type KubernetesObject, type V1Deployment, type V1EndpointSlice, type V1Node, type V1Pod } from '../k8s/index.js';
import { ListWatch, type ListResult, type WatchHandlers } from '../k8s/watch.js';
import type { Recorder } from '../timeline.js';
import { healthyCounts, NO_FAULT, type FaultScope } from '../slo/health.js';
import { matchesLabels, selectorOrThrow, ZONE_LABEL } from '../selector.js';
import { KARPENTER_NODEPOOL_LABEL } from '../faults/node-kinds.js';
import type { NodeCondition } from '../faults/types.js';

export interface WorkloadRef { namespace: string; selector: string }

export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.selector}`;
}

/** A pod belongs to a workload when it is in its namespace and its labels match the selector. */
export function podMatches(p: V1Pod, w: WorkloadRef): boolean {
  return p.metadata?.namespace === w.namespace && matchesLabels(p.metadata?.labels, selectorOrThrow(w.selector));
}

/** A Deployment belongs to a workload when its pod template's labels match the selector. */
export function deploymentMatches(d: V1Deployment, w: WorkloadRef): boolean {
  return d.metadata?.namespace === w.namespace && matchesLabels(d.spec?.template?.metadata?.labels, selectorOrThrow(w.selector));
}

interface PodState { node?: string; ready: boolean; deleted: boolean; created: number }

/**
 * Items per list page (limit/continue): a list of a large cluster is read and reduced a page at a
 * time, so the whole deserialized list is never in memory at once (30,000 pods: hundreds of MB).
 * 100 rather than 500: a page's garbage (JSON text, parsed and deserialized objects, about 4 MB at
 * 100 pods) then mostly dies young instead of being promoted; with 1,006 nodes / 30,000 pods against
 * a local fake apiserver the process peaked 35–45 MB lower, list time unchanged (~6 s).
 */
export const LIST_PAGE_SIZE = 100;

/** Every page of a list (one consistent snapshot), each item reduced by `slim` as its page arrives. */
async function listPaged<T, S>(page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { resourceVersion?: string; _continue?: string } }>, slim: (x: T) => S): Promise<ListResult<S>> {
  const items: S[] = [];
  let cont: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const r = await page(cont);
    for (const x of r.items) items.push(slim(x));
    resourceVersion = r.metadata?.resourceVersion;
    cont = r.metadata?._continue || undefined;
  } while (cont);
  return { items, metadata: { resourceVersion } };
}


const NODE_LABELS_KEPT = [ZONE_LABEL, KARPENTER_NODEPOOL_LABEL];

/** The fields node() reads; the rest of a listed Node is dropped. */
function slimNode(n: V1Node): V1Node {
  const labels = Object.fromEntries(NODE_LABELS_KEPT.flatMap((k) => (n.metadata?.labels?.[k] === undefined ? [] : [[k, n.metadata.labels[k]]])));
  return {
    metadata: { name: n.metadata?.name, labels, creationTimestamp: n.metadata?.creationTimestamp, deletionTimestamp: n.metadata?.deletionTimestamp },
    spec: { unschedulable: n.spec?.unschedulable },
    status: { conditions: n.status?.conditions?.filter((c) => c.type === 'Ready') },
  };
}

/** What the run knows of a node: readiness (and its Ready condition as posted), zone, cordon, deletion. */
export interface NodeState {
  ready: boolean;
  zone?: string;
  condition: NodeCondition;
  cordoned: boolean;
  deleting: boolean;
  /** Karpenter's NodePool, for judging a replacement */
  nodePool?: string;
  /** creationTimestamp, ms epoch */
  created?: number;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The fields recomputeEndpoints() reads: service, and each endpoint's ready condition. */
function slimSlice(s: V1EndpointSlice): V1EndpointSlice {
  const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
  return {
    metadata: { name: s.metadata?.name, namespace: s.metadata?.namespace, labels: svc === undefined ? undefined : { [SERVICE_NAME_LABEL]: svc } },
    addressType: s.addressType,
    endpoints: s.endpoints?.map((e) => ({ addresses: [], conditions: { ready: e.conditions?.ready } })) as V1EndpointSlice['endpoints'],
  };
}

/** The fields pod() reads; the rest of a listed Pod is dropped. */
function slimPod(p: V1Pod): V1Pod {
  return {
    metadata: { name: p.metadata?.name, namespace: p.metadata?.namespace, deletionTimestamp: p.metadata?.deletionTimestamp },
    spec: p.spec ? { nodeName: p.spec.nodeName, containers: [] } : undefined,
    status: { conditions: p.status?.conditions?.filter((c) => c.type === 'Ready') },
  };
}

export class Observer {
  readonly nodes = new Map<string, NodeState>();
  readonly pods = new Map<string, PodState & { workload: string }>();
  readonly desired = new Map<string, number>();
  private readonly deployments = new Map<string, V1Deployment>();
  private readonly endpoints = new Map<string, number>();
  private readonly slices = new Map<string, V1EndpointSlice>();
  private readonly watches: ListWatch<never>[] = [];
  /** set once the initial lists are in: pods first seen later count as created then */
  started = false;

  /** `pollMs`: list every pollMs instead of watching (only for comparing with polling tools) */
  constructor(private readonly kube: Kube, private readonly rec: Recorder, readonly workloads: WorkloadRef[], private readonly opts: { pollMs?: number } = {}) {}

  /** Gaps still open, per resource: recorded (without an end) if the run stops before they close. */
  private readonly openGaps = new Map<string, { start: number; error: string }>();

  private gapHandlers(resource: string) {
    return {
      onGap: (error: string) => { this.openGaps.set(resource, { start: this.rec.now(), error }); },
      onGapEnd: () => {
        const g = this.openGaps.get(resource);
        if (!g) return;
        this.openGaps.delete(resource);
        this.rec.add({ t: g.start, type: 'gap', resource, error: g.error, end: this.rec.now() });
      },
    };
  }

  /** Some watch cannot reach the apiserver right now: the cached cluster state may be stale. */
  inGap(): boolean {
    return this.openGaps.size > 0;
  }

  /** The Deployments behind the workloads, from the watch cache (no apiserver call). */
  deploymentsOf(): Array<{ name: string; namespace: string; uid?: string }> {
    return [...this.deployments.values()].filter((d) => this.workloads.some((w) => deploymentMatches(d, w)))
      .map((d) => ({ name: d.metadata!.name!, namespace: d.metadata!.namespace!, uid: d.metadata?.uid }));
  }

  /** One node as a watch delivers it (also used to replay ground truth, bench/accuracy.ts). */
  node(n: V1Node, deleted = false): void {
    const name = n.metadata!.name!;
    const ready = !deleted && isNodeReady(n);
    const zone = n.metadata?.labels?.[ZONE_LABEL];
    const prev = this.nodes.get(name);
    const c = n.status?.conditions?.find((x) => x.type === 'Ready');
    const created = n.metadata?.creationTimestamp ? new Date(n.metadata.creationTimestamp).getTime() : undefined;
    if (deleted) this.nodes.delete(name);
    else {
      this.nodes.set(name, {
        ready, zone, cordoned: !!n.spec?.unschedulable, deleting: !!n.metadata?.deletionTimestamp, nodePool: n.metadata?.labels?.[KARPENTER_NODEPOOL_LABEL], created,
        condition: c ? { status: c.status as NodeCondition['status'], reason: c.reason, message: c.message } : { status: 'absent' },
      });
    }
    if (!prev || prev.ready !== ready || deleted) this.rec.add({ type: 'node', name, zone, ready, ...(deleted ? { deleted: true } : {}) });
  }

  /** One pod of workload `w` (its key) as a watch delivers it. */
  pod(w: string, p: V1Pod, deleted = false): void {
    const key = `${p.metadata!.namespace}/${p.metadata!.name}`;
    const prev = this.pods.get(key);
    const state: PodState = {
      node: p.spec?.nodeName,
      ready: !deleted && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false),
      deleted: deleted || !!p.metadata?.deletionTimestamp,
      created: prev?.created ?? (this.started ? this.rec.now() : -1),
    };
    if (prev && prev.node === state.node && prev.ready === state.ready && prev.deleted === state.deleted) return;
    if (deleted) this.pods.delete(key);
    else this.pods.set(key, { ...state, workload: w });
    this.rec.add({ type: 'pod', key, workload: w, ...state });
  }

  /** One Deployment of a watched namespace as a watch delivers it. */
  deployment(d: V1Deployment, deleted = false): void {
    const k = `${d.metadata!.namespace}/${d.metadata!.name}`;
    if (deleted) this.deployments.delete(k);
    else this.deployments.set(k, d);
    for (const w of this.workloads) this.recomputeDesired(w);
  }

  /** One EndpointSlice of a watched namespace as a watch delivers it. */
  endpointSlice(s: V1EndpointSlice, deleted = false): void {
    const k = `${s.metadata!.namespace}/${s.metadata!.name}`;
    if (deleted) this.slices.delete(k);
    else this.slices.set(k, slimSlice(s));
    this.recomputeEndpoints();
  }

  private listWatch<T extends KubernetesObject>(path: string, list: () => Promise<ListResult<T>>, h: WatchHandlers<T>): ListWatch<T> {
    return new ListWatch<T>(this.kube, path, list, h, 60, this.opts.pollMs);
  }

  private recomputeDesired(w: WorkloadRef): void {
    let n = 0;
    for (const d of this.deployments.values()) if (deploymentMatches(d, w)) n += d.spec?.replicas ?? 1;
    const key = workloadKey(w);
    if (this.desired.get(key) !== n) {
      this.desired.set(key, n);
      this.rec.add({ type: 'workload', workload: key, desired: n });
    }
  }

  private recomputeEndpoints(): void {
    const per = new Map<string, number>();
    for (const s of this.slices.values()) {
      const svc = `${s.metadata?.namespace}/${s.metadata?.labels?.['kubernetes.io/service-name']}`;
      per.set(svc, (per.get(svc) ?? 0) + (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length);
    }
    for (const [svc, n] of per) {
      if (this.endpoints.get(svc) !== n) { this.endpoints.set(svc, n); this.rec.add({ type: 'endpoints', service: svc, ready: n }); }
    }
  }

  async start(): Promise<void> {
    const core = this.kube.core;
    const add = <T>(lw: ListWatch<T & { metadata?: object }>) => { this.watches.push(lw as unknown as ListWatch<never>); return lw.start(); };
    const starts: Promise<void>[] = [];
    starts.push(add(this.listWatch<V1Node>('/api/v1/nodes', () => listPaged((cont) => core.listNode({ limit: LIST_PAGE_SIZE, _continue: cont }), slimNode), {
      onList: (items) => {
        const seen = new Set(items.map((n) => n.metadata!.name!));
        for (const name of [...this.nodes.keys()]) if (!seen.has(name)) this.node({ metadata: { name } }, true);
        for (const n of items) this.node(n);
      },
      onEvent: (type, n) => this.node(n, type === 'DELETED'),
      ...this.gapHandlers('nodes'),
    })));
    const namespaces = [...new Set(this.workloads.map((w) => w.namespace))];
    for (const w of this.workloads) {
      const key = workloadKey(w);
      starts.push(add(this.listWatch<V1Pod>(`/api/v1/namespaces/${w.namespace}/pods?labelSelector=${encodeURIComponent(w.selector)}`,
        () => listPaged((cont) => core.listNamespacedPod({ namespace: w.namespace, labelSelector: w.selector, limit: LIST_PAGE_SIZE, _continue: cont }), slimPod), {
          onList: (items) => {
            const seen = new Set(items.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`));
            for (const [k, p] of [...this.pods]) if (p.workload === key && !seen.has(k)) this.pod(key, { metadata: { namespace: k.split('/')[0], name: k.split('/')[1] } }, true);
            for (const p of items) this.pod(key, p);
          },
          onEvent: (type, p) => this.pod(key, p, type === 'DELETED'),
          ...this.gapHandlers(`pods ${key}`),
        })));
    }
    for (const ns of namespaces) {
      starts.push(add(this.listWatch<V1Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments`, () => this.kube.apps.listNamespacedDeployment({ namespace: ns }), {
        onList: (items) => { for (const [k, d] of [...this.deployments]) if (d.metadata?.namespace === ns) this.deployments.delete(k); for (const d of items) this.deployments.set(`${ns}/${d.metadata!.name}`, d); for (const w of this.workloads) this.recomputeDesired(w); },
        onEvent: (type, d) => this.deployment(d, type === 'DELETED'),
        ...this.gapHandlers(`deployments ${ns}`),
      })));
      starts.push(add(this.listWatch<V1EndpointSlice>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, () => listPaged((cont) => this.kube.discovery.listNamespacedEndpointSlice({ namespace: ns, limit: LIST_PAGE_SIZE, _continue: cont }), slimSlice), {
        onList: (items) => { for (const [k] of [...this.slices]) if (k.startsWith(`${ns}/`)) this.slices.delete(k); for (const s of items) this.slices.set(`${ns}/${s.metadata!.name}`, s); this.recomputeEndpoints(); },
        onEvent: (type, s) => this.endpointSlice(s, type === 'DELETED'),
        ...this.gapHandlers(`endpointslices ${ns}`),
      })));
    }
    await Promise.all(starts);
    this.started = true;
  }

  /** Watch events received so far over every watched resource (bookmarks not counted). */
  watchEvents(): number {
    return this.watches.reduce((n, w) => n + w.events, 0);
  }

  stop(): void {
    for (const w of this.watches) w.stop();
    // A gap still open when the run ends is recorded without an end (it lasted at least until then).
    for (const [resource, g] of this.openGaps) this.rec.add({ t: g.start, type: 'gap', resource, error: g.error });
    this.openGaps.clear();
  }

  /** Healthy replicas per workload (slo/health.ts: Ready, not terminating, on a Ready node, outside the fault). */
  healthy(faulted: FaultScope = NO_FAULT): Map<string, number> {
    return healthyCounts(Array.from(this.pods, ([key, p]) => ({ ...p, key })), (n) => this.nodes.get(n), faulted, this.workloads.map(workloadKey));
  }

  /**
   * The nodes that matter for the steady state: those running a (live) pod of a watched workload,
   * plus `extra` (the fault's candidate nodes) and the nodes of `zones`.
   */
  nodesThatMatter(extra: Iterable<string> = [], zones: Iterable<string> = []): Set<string> {
    const out = new Set(extra);
    for (const p of this.pods.values()) if (p.node && !p.deleted) out.add(p.node);
    const zs = new Set(zones);
    if (zs.size) for (const [name, n] of this.nodes) if (n.zone !== undefined && zs.has(n.zone)) out.add(name);
    return out;
  }

  /**
   * Every workload at its desired replicas on healthy nodes, and every node that matters Ready
   * (`mustBeReady`; default: every node). Other nodes that are not Ready, cordoned or being deleted
   * (autoscaler churn) are warnings, not failures.
   */
  steady(faulted: FaultScope = NO_FAULT, mustBeReady?: ReadonlySet<string>): { ok: boolean; why: string[]; warnings: string[] } {
    const why: string[] = [];
    const warnings: string[] = [];
    const h = this.healthy(faulted);
    for (const w of this.workloads) {
      const k = workloadKey(w);
      const want = this.desired.get(k) ?? 0;
      if (!want) why.push(`${k}: no Deployment with pods matching the selector`);
      else if ((h.get(k) ?? 0) < want) why.push(`${k}: ${h.get(k) ?? 0}/${want} ready on healthy nodes`);
    }
    const matters = (name: string) => !mustBeReady || mustBeReady.has(name);
    const notReady = [...this.nodes].filter(([name, n]) => !n.ready && matters(name)).map(([name]) => name);
    if (notReady.length) why.push(`nodes not Ready: ${notReady.join(', ')}`);
    const others = [...this.nodes].filter(([name, n]) => !matters(name) && (!n.ready || n.cordoned || n.deleting))
      .map(([name, n]) => `${name} (${[!n.ready && 'not Ready', n.cordoned && 'cordoned', n.deleting && 'being deleted'].filter(Boolean).join(', ')})`);
    if (others.length) warnings.push(`nodes outside the scenario's scope (no watched pod, not a fault candidate): ${others.join(', ')}`);
    // What the cache says is not what the cluster is while a watch cannot reach the apiserver.
    if (this.openGaps.size) why.push(`apiserver unreachable (${[...this.openGaps.keys()].join(', ')}): the cluster state is not known`);
    return { ok: why.length === 0, why, warnings };
  }
}
