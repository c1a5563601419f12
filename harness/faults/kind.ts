// The fault-kind contract: everything the harness knows about one kind of fault lives in one module
// (harness/faults/<kind>.ts) that exports one FaultKind. The registry (registry.ts) lists the kinds;
// the scenario schema, the `fault` sub-commands, `recover`, `iam-policy`, the report schema's enum,
// the fuzz generator and the README's fault table are all derived from it.
import type { z } from 'zod';
import type { Journal } from '../journal.js';
import type { FaultContext, Leftover, Plan, RevertContext, RevertReport } from './types.js';

import type { IamRequest, IamStatement } from '../iam/statements.js';

export type { IamRequest, IamStatement };

/** A Kubernetes RBAC rule the kind needs (`scope`: cluster-wide, or in the workloads' namespaces). */
export interface RbacRule { scope: 'cluster' | 'namespace'; apiGroups: string[]; resources: string[]; verbs: string[] }

/** One flag of `chaos fault <kind>`: `field` is the spec field it sets. */
export interface FaultFlag {
  field: string;
  /** commander flag text, e.g. `--node-group <name>` */
  flag: string;
  help: string;
  choices?: readonly string[];
  default?: string;
  /** how the string is turned into the spec value (default: as is) */
  parse?: 'number' | 'string';
}

/** What "faulted" means for judging: pods on these nodes, in these zones, or these pods are not healthy while the fault is in place. */
export interface Faulted {
  nodes: string[]; zones: string[]; pods: string[];
  /** nodes the fault expects to be replaced, not to come back (Karpenter): recovery waits for a new Ready Node of the pool */
  replaced?: Array<{ node: string; pool: string }>;
}

/** The outcome of `verify`: did the fault take effect? */
export interface Verification {
  status: 'taken' | 'not-taken' | 'not-checked';
  /** what was expected, and what was seen */
  detail: string[];
}

/** What `recover` may use to find a kind's leftovers by their tags, without a journal. */
export interface SweepContext extends RevertContext {
  cluster: string;
  /** act (revert what is found), or only report */
  act: boolean;
  /**
   * Why a tagged resource must be left alone (its run is in progress, or unknown and not expired),
   * or undefined when it may be swept. Looks at the run id and expiry tags.
   */
  leaveAlone(tags: Record<string, string>): string | undefined;
}

export interface SweepFinding { kind: string; id: string; detail: string; action?: string; skipped?: string }
export interface SweepResult { findings: SweepFinding[]; leftovers: Leftover[] }

/** A row of the README's fault table (checked against the registry by a test). */
export interface FaultDoc { summary: string; fields: string; effect: string }

export interface FaultKind<S extends { kind: string; duration: number } = { kind: string; duration: number }, R = Record<string, unknown>> {
  readonly kind: S['kind'];
  readonly doc: FaultDoc;
  /** the scenario schema of this kind's `fault:` (a zod object with `kind: z.literal(kind)`, `.strict()`) */
  readonly schema: z.ZodType<S>;
  /** `chaos fault <kind>` flags; each sets one spec field */
  readonly flags: FaultFlag[];
  /** the IAM statements this kind needs (beside COMMON; placeholders filled by `chaos iam-policy`) */
  readonly iam: IamStatement[];
  /** every AWS request the kind makes (plan, dry run, inject, revert, recover): the IAM simulator test proves each is allowed */
  readonly iamRequests: IamRequest[];
  /** the Kubernetes RBAC it needs (beside the observer's reads) */
  readonly rbac: RbacRule[];
  /** resolve targets and check limits: touches nothing, throws exit-2 errors; the plan is a value */
  plan(ctx: FaultContext, spec: S): Promise<Plan<R>>;
  /** `--dry-run`: the permission checks the APIs allow (EC2 DryRun); lines to print */
  checkPermissions(ctx: FaultContext, plan: Plan<R>): Promise<string[]>;
  /** make the change, journaling intent before each step */
  inject(ctx: FaultContext, plan: Plan<R>, j: Journal): Promise<void>;
  /**
   * Did it take effect? Runs right after `inject`, beside the hold, and waits (bounded) for the
   * expected effect; "not-taken" ends the hold, reverts, and the run exits 6. The journal holds what
   * inject saw (e.g. the node scripts' own checks). Default: not checked.
   */
  verify?(ctx: FaultContext, plan: Plan<R>, j: Journal): Promise<Verification>;
  /** undo what the journal says was (or may have been) done; idempotent; journal alone, after a crash too */
  revert(ctx: RevertContext, j: Journal): Promise<RevertReport>;
  /** what `recover` finds by tags without a journal (and reverts when ctx.act) */
  sweep(ctx: SweepContext): Promise<SweepResult>;
  /** what "faulted" means for judging this plan */
  faulted(plan: Plan<R>): Faulted;
}

/** Types a fault-kind module's export. */
export function defineFaultKind<S extends { kind: string; duration: number }, R>(k: FaultKind<S, R>): FaultKind<S, R> {
  return k;
}

export const NOT_CHECKED: Verification = { status: 'not-checked', detail: ['this fault kind does not verify its effect'] };
