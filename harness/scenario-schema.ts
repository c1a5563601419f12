// The JSON Schema of scenario files (YAML and JSON), generated from the zod ScenarioSchema with
// zod 4's z.toJSONSchema (io: 'input': what a file may say, before defaults and transforms). Shipped
// as schema/scenario.schema.json (`npm run schema` writes it, `npm run build` too); a unit test checks
// the committed file equals a fresh generation. The schema checks shapes; the loader still validates
// what a JSON Schema cannot say (SLO grammar, probe references, duration values) with zod.
import { z } from 'zod';
import { ScenarioSchema } from './scenario.js';
import { faults, FaultSpec } from './faults/registry.js';

export function scenarioJsonSchema(): Record<string, unknown> {
  // `fault` is parsed by the fault registry's union at parse time: its JSON Schema is that union's
  const s = z.toJSONSchema(ScenarioSchema, {
    io: 'input', unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema === (FaultSpec as unknown)) {
        const { $schema: _, ...u } = z.toJSONSchema(faults.schema(), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
        for (const k of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[k];
        Object.assign(ctx.jsonSchema, u);
      }
    },
  }) as Record<string, unknown> & { properties?: Record<string, unknown> };
  // editors may name the schema in the file itself; the loader ignores it
  const properties = { $schema: { type: 'string', description: 'the JSON Schema of this file (ignored by the harness)' }, ...(s.properties ?? {}) };
  return {
    $schema: s.$schema,
    title: 'k8s-aws-chaos-harness scenario',
    description: 'A chaos scenario: one fault, the workloads that must self-heal, HTTP probes, SLOs, limits and stop conditions (README: Scenario files).',
    ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$schema')),
    properties,
  };
}

export const scenarioJsonSchemaText = () => `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
