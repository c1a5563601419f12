// The fault kinds. Everything that depends on which kinds exist is derived from this list: the
// scenario schema union (and the JSON Schema made from it), the `fault` sub-commands, `recover`'s
// sweeps, `iam-policy`, the report schema's enum, the fuzz generator and the README's fault table.
// A new kind is one module under harness/faults/ plus one line here (README "Adding a fault kind").
import { z } from 'zod';
import { azBlackhole, type AzBlackholeSpec } from './az-blackhole.js';
import { daemonKill, type DaemonKillSpec } from './daemon-kill.js';
import { nodeStop, type NodeStopSpec } from './node-stop.js';
import type { FaultKind } from './kind.js';

/** A kind with its spec and resource types erased, as the registry holds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFaultKind = FaultKind<any, any>;

export class FaultRegistry {
  private readonly byKind = new Map<string, AnyFaultKind>();
  private union?: z.ZodType;
  constructor(kinds: AnyFaultKind[] = []) {
    for (const k of kinds) this.register(k);
  }

  register(k: AnyFaultKind): this {
    if (this.byKind.has(k.kind)) throw new Error(`fault kind "${k.kind}" is registered twice`);
    this.byKind.set(k.kind, k);
    this.union = undefined;
    return this;
  }

  /** Removes a kind (tests that register a fake one clean up with this). */
  unregister(kind: string): void {
    this.byKind.delete(kind);
    this.union = undefined;
  }

  get(kind: string): AnyFaultKind | undefined {
    return this.byKind.get(kind);
  }

  list(): AnyFaultKind[] {
    return [...this.byKind.values()];
  }

  kinds(): string[] {
    return [...this.byKind.keys()];
  }

  /** The scenario's `fault:` schema: a union discriminated by `kind` over every registered kind. */
  schema(): z.ZodType {
    if (!this.union) {
      const schemas = this.list().map((k) => k.schema as z.ZodObject<{ kind: z.ZodLiteral<string> }>);
      this.union = schemas.length === 1 ? schemas[0] : z.discriminatedUnion('kind', schemas as [z.ZodObject<{ kind: z.ZodLiteral<string> }>, ...z.ZodObject<{ kind: z.ZodLiteral<string> }>[]]);
    }
    return this.union;
  }
}

/** The kinds that ship with the harness. */
export const faults = new FaultRegistry([nodeStop, daemonKill, azBlackhole]);

/** The spec types of the shipped kinds (a registered extension kind is checked by its own schema at run time). */
export type FaultSpec = NodeStopSpec | DaemonKillSpec | AzBlackholeSpec;
export type FaultSpecInput = z.input<typeof nodeStop.schema> | z.input<typeof daemonKill.schema> | z.input<typeof azBlackhole.schema>;

/**
 * The `fault:` field of a scenario: parsed by the registry's union as it is at parse time, so
 * registering a kind is enough (z.lazy would cache the first union it sees). Its issues keep their
 * messages and paths. The JSON Schema of this field is the union's (scenario-schema.ts).
 */
export const FaultSpec = z.unknown().transform((v, ctx) => {
  const r = faults.schema().safeParse(v);
  if (r.success) return r.data;
  for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path as PropertyKey[] });
  return z.NEVER;
}) as unknown as z.ZodType<FaultSpec, FaultSpecInput>;
