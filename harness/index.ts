// What scenario files import.
export { defineScenario, type ScenarioInput } from './scenario.js';
export { ExitCode } from './exit-codes.js';
