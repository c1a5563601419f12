// Fault specifications: data, validated before anything runs (zod), with the field named in every
// error. Each kind's schema lives in its module; the union comes from the registry.
export { describeIssues, durationField, Limits, selectionFields } from './schema.js';
export { isLabelSelector } from '../selector.js';
export { FaultSpec, type FaultSpecInput } from './registry.js';
export { NodeStopSpec } from './node-stop.js';
export { DaemonKillSpec, DAEMONS } from './daemon-kill.js';
export { AzBlackholeSpec } from './az-blackhole.js';
