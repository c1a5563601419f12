// Valid fault specs of every registered kind for the fuzz tests, derived from the registry: each
// field of a kind's zod schema gets candidates by its name (durations, selectors, zones, counts…) or
// its type (an enum's options, numbers), filtered through the field's own schema, so a new kind is
// fuzzed without touching this file.
import fc from 'fast-check';
import type { z } from 'zod';
import type { FaultRegistry } from '../../harness/faults/index.js';

type Obj = Record<string, unknown>;
const int = (min: number, max: number) => fc.integer({ min, max });

/** Positive durations up to the 6 h limit, in every documented shape (90s, 2m, 1m30s, 500ms, 1.5s). */
export const validDuration = fc.oneof(
  int(1, 21_600).map((n) => `${n}s`),
  int(1, 360).map((n) => `${n}m`),
  int(1, 6).map((n) => `${n}h`),
  int(1, 21_600_000).map((n) => `${n}ms`),
  fc.tuple(int(0, 5), int(0, 59), int(1, 59)).map(([h, m, s]) => `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s}s`),
  fc.tuple(int(0, 99), int(1, 9)).map(([a, b]) => `${a}.${b}s`),
);
export const zone = fc.tuple(fc.constantFrom('us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1', 'ca-central-1'), fc.constantFrom(...'abcdef')).map(([r, z]) => `${r}${z}`);
export const labelName = fc.stringMatching(/^[a-z0-9]([a-z0-9._-]{0,10}[a-z0-9])?$/).filter((s) => s !== 'in' && s !== 'notin');
export const labelKey = fc.tuple(fc.constantFrom('', 'eks.amazonaws.com/', 'node.kubernetes.io/', 'example.com/'), labelName).map(([p, n]) => p + n);
const requirement = fc.oneof(
  fc.tuple(labelKey, fc.constantFrom('=', '==', '!='), fc.oneof(labelName, fc.constant(''))).map(([k, op, v]) => `${k}${op}${v}`),
  fc.tuple(labelKey, fc.constantFrom(' in ', ' notin '), fc.array(labelName, { minLength: 1, maxLength: 3 })).map(([k, op, vs]) => `${k}${op}(${vs.join(',')})`),
  labelKey,
  labelKey.map((k) => `!${k}`),
  fc.tuple(labelKey, fc.constantFrom('>', '<'), int(0, 99)).map(([k, op, n]) => `${k}${op}${n}`),
);
export const nodeSelector = fc.array(requirement, { minLength: 1, maxLength: 3 }).map((r) => r.join(','));

/** Candidates by field name; the field's own schema then keeps the valid ones. */
const BY_NAME: Record<string, fc.Arbitrary<unknown>> = {
  duration: validDuration,
  selector: nodeSelector,
  nodeGroup: labelName,
  zone: fc.oneof(fc.constant('auto'), zone),
  count: int(1, 1000),
  percent: fc.oneof(int(1, 100), fc.double({ min: 0.01, max: 100, noNaN: true })),
};

interface ZodDefLike { def: { type: string; innerType?: ZodDefLike }; options?: unknown[] }
/** The schema under optional/default/prefault wrappers, and whether the field may be left out. */
function unwrap(s: ZodDefLike): { inner: ZodDefLike; optional: boolean } {
  let t = s;
  let optional = false;
  while (['optional', 'default', 'prefault', 'nullable'].includes(t.def.type) && t.def.innerType) { optional = true; t = t.def.innerType; }
  return { inner: t, optional };
}

function fieldArb(name: string, schema: z.ZodType): fc.Arbitrary<unknown> | undefined {
  const { inner } = unwrap(schema as unknown as ZodDefLike);
  const base = BY_NAME[name]
    ?? (inner.def.type === 'enum' ? fc.constantFrom(...(inner.options as unknown[])) : undefined)
    ?? (inner.def.type === 'number' ? fc.oneof(int(-5, 20), int(0, 1000), fc.double({ min: 0, max: 1000, noNaN: true })) : undefined)
    ?? (inner.def.type === 'boolean' ? fc.boolean() : undefined)
    ?? (inner.def.type === 'string' ? fc.oneof(labelName, fc.string({ maxLength: 12 })) : undefined);
  return base?.filter((v) => schema.safeParse(v).success);
}

/** The fields of each kind's spec (for naming the field a mutation breaks). */
export function faultFields(registry: FaultRegistry): Record<string, string[]> {
  return Object.fromEntries(registry.list().map((k) => [k.kind, Object.keys((k.schema as unknown as z.ZodObject).shape)]));
}

/** One valid spec of a kind: required fields always, optional ones sometimes; `count` and `percent` never together. */
export function kindArb(k: ReturnType<FaultRegistry['list']>[number]): fc.Arbitrary<Obj> {
  const shape = (k.schema as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  const required: string[] = [];
  for (const [name, s] of Object.entries(shape)) {
    if (name === 'kind') continue;
    const a = fieldArb(name, s);
    const { optional } = unwrap(s as unknown as ZodDefLike);
    if (!a) {
      if (!optional) throw new Error(`fuzz: no candidates for the required field ${k.kind}.${name}; add them to test/support/fault-arb.ts BY_NAME`);
      continue;
    }
    fields[name] = a;
    if (!optional) required.push(name);
  }
  return fc.record(fields, { requiredKeys: required }).map((f) => {
    const o: Obj = { kind: k.kind, ...f };
    if (o.count !== undefined && o.percent !== undefined) delete o.percent;
    return o;
  }).filter((o) => k.schema.safeParse(o).success);
}

/** A valid spec of any registered kind. */
export function faultArb(registry: FaultRegistry): fc.Arbitrary<Obj> {
  return fc.oneof(...registry.list().map(kindArb));
}
