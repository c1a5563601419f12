// What scenario files import (`import { defineScenario } from 'k8s-aws-chaos-harness'`, or
// '../harness/index.js' in this repository). Light: types only, besides defineScenario and ExitCode.
export { defineScenario } from './define.js';
export type { Scenario, ScenarioInput } from './scenario.js';
export type { FaultSpecInput } from './faults/spec.js';
export { ExitCode } from './exit-codes.js';
