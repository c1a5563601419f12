// What every fault is: a plan (exactly what it will do, against which resources), an inject, and a
// revert driven by the journal alone, so `recover` can run it after a crash.
import type { Aws } from '../aws/index.js';
import type { Kube } from '../k8s/index.js';
import type { Journal } from '../journal.js';
import type { Guard } from './targets.js';
import type { Limits } from './spec.js';

export const MANAGED_BY = 'k8s-chaos-harness';
export const TAG = {
  managedBy: 'chaos:managed-by',
  runId: 'chaos:run-id',
  cluster: 'chaos:cluster',
  expiresAt: 'chaos:expires-at',
  stoppedBy: 'chaos:stopped-by',
  restorePrefix: 'chaos:restore:',
} as const;

export interface FaultContext {
  aws: Aws;
  kube: Kube;
  guard: Guard;
  limits: Limits;
  seed: number;
  runId: string;
  /** when leftovers may be swept by anyone (fault end + margin), ISO-8601 */
  expiresAt: string;
  log: (msg: string) => void;
  /** the zone the harness itself runs in, when known (IMDS / NODE_NAME) */
  selfZone?: string;
  /** the scenario's workloads, for `zone: auto` */
  workloads?: Array<{ namespace: string; selector: string }>;
}

export interface PlannedCall { action: string; resources: string[]; when: 'inject' | 'revert' | 'check' }

export interface Plan {
  kind: string;
  summary: string;
  /** human-readable lines: targets, what happens, what Auto Scaling will do */
  lines: string[];
  calls: PlannedCall[];
  durationMs: number;
  /** the resources, for the report and the journal */
  resources: Record<string, unknown>;
}

export interface Leftover { what: string; fix: string[] }
export interface RevertReport { actions: string[]; leftovers: Leftover[] }

export interface Fault {
  readonly kind: string;
  plan(): Promise<Plan>;
  /** IAM checks with EC2 DryRun where the API allows it (after plan) */
  checkPermissions(): Promise<string[]>;
  inject(j: Journal): Promise<void>;
}

/** Reverts what a run's journal says was (or may have been) done. Idempotent. */
export type Reverter = (ctx: RevertContext, j: Journal) => Promise<RevertReport>;
export type RevertContext = Pick<FaultContext, 'aws' | 'log'>;

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
