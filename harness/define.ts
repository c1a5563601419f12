// defineScenario on its own: a scenario file imports it (through harness/index.ts or the package's
// main export) without loading zod or the schema; the harness validates the file when it loads it.
import type { ScenarioInput } from './scenario.js';

/** Types a scenario file; validation happens when the harness loads it. */
export function defineScenario(s: ScenarioInput): ScenarioInput {
  return s;
}
