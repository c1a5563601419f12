// What every fault run shares: its context, the plan (exactly what it will do, against which
// resources: a value), and the revert report. The per-kind contract is in kind.ts.
import type { Aws } from '../aws/index.js';
import type { Kube } from '../k8s/index.js';
import type { Guard } from './targets.js';
import type { Limits } from './schema.js';

export const MANAGED_BY = 'k8s-chaos-harness';
export const TAG = {
  managedBy: 'chaos:managed-by',
  runId: 'chaos:run-id',
  cluster: 'chaos:cluster',
  expiresAt: 'chaos:expires-at',
  stoppedBy: 'chaos:stopped-by',
  /** on an Auto Scaling group whose processes a run suspended: the run id, and which processes */
  suspendedBy: 'chaos:suspended-by',
  suspendedProcesses: 'chaos:suspended-processes',
  restorePrefix: 'chaos:restore:',
} as const;

export interface FaultContext {
  aws: Aws;
  kube: Kube;
  guard: Guard;
  limits: Limits;
  seed: number;
  runId: string;
  /**
   * when leftovers may be swept by anyone, ISO-8601: set at injection (injectAndRevert) to cover the
   * hold, the revert and the recovery wait
   */
  expiresAt: string;
  log: (msg: string) => void;
  /** the zone the harness itself runs in, when known (IMDS / NODE_NAME) */
  selfZone?: string;
  /** the node the harness itself runs on (NODE_NAME, or the IMDS instance id's node): never chosen */
  selfNode?: string;
  /**
   * `refuse` (the aws target's default): a zone fault exits 2 when the harness cannot tell its own
   * zone, since it might black-hole itself; `allow`: the run was told it runs outside the VPC
   */
  unknownSelfZone?: 'refuse' | 'allow';
  /** the scenario's workloads, for `zone: auto` */
  workloads?: Array<{ namespace: string; selector: string }>;
  /**
   * the control plane's node-monitor-grace-period (how long a silent node stays Ready): a fault's
   * effect check waits this long plus EFFECT_MARGIN_MS for a node to lose its heartbeat.
   * Default DEFAULT_NODE_GRACE_MS.
   */
  nodeGracePeriodMs?: number;
  /**
   * A node's Ready condition from the run's watch cache (the Observer), when a scenario runs; effect
   * checks read it instead of polling the apiserver. Undefined: they read the Node from the apiserver.
   */
  nodeCondition?: (name: string) => NodeCondition | undefined;
  /**
   * True while the run's watch cache cannot reach the apiserver (the Observer is in a gap): what
   * nodeCondition returns then is stale, so effect checks do not count that time against their bound.
   */
  clusterBlind?: () => boolean;
}

/** A node's Ready condition, as an effect check needs it. */
export interface NodeCondition { status: 'True' | 'False' | 'Unknown' | 'absent'; reason?: string; message?: string }

/**
 * Kubernetes' default --node-monitor-grace-period since 1.32 (40 s before); EKS does not change it
 * (https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/).
 */
export const DEFAULT_NODE_GRACE_MS = 50_000;
/** beyond the grace period: the node-monitor period, a lease renewal, a busy apiserver */
export const EFFECT_MARGIN_MS = 30_000;

export interface PlannedCall { action: string; resources: string[]; when: 'inject' | 'revert' | 'check' }

export interface Plan<R = Record<string, unknown>> {
  kind: string;
  summary: string;
  /** human-readable lines: targets, what happens, what Auto Scaling will do */
  lines: string[];
  calls: PlannedCall[];
  durationMs: number;
  /** the resources, for inject, the report and the journal: plain data */
  resources: R;
}

export interface Leftover { what: string; fix: string[] }
export interface RevertReport { actions: string[]; leftovers: Leftover[] }

/** What a revert (and `recover`) gets: the clients, never the run's in-memory state. */
export type RevertContext = Pick<FaultContext, 'aws' | 'kube' | 'log'>;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}
