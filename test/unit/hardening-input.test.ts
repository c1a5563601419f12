// Hardening against bad input: every invalid scenario file or CLI flag exits 2 with a message that
// names the field (or the flag), and nothing reaches AWS or Kubernetes.
//
// Layer 1 (in-process, fast, many cases): fast-check generates valid scenarios (the generator is
// checked to be honest), mutates exactly one field into an invalid value and checks that the schema
// rejects it without throwing and names that field, the same way the CLI prints it (describeIssues);
// a subset goes through the full loadScenario path from a file on disk (file:line: field). Also
// properties for probe URL expansion and for `fault <kind>` flags (faultFromFlags, seedArg).
//
// Layer 2 (the real CLI against the lab, a fixed list of cases, two at a time): exit 2, the field or
// flag named, and nothing changed: no world change, no mutating AWS call (the lab's call log), no
// write by the harness in the apiserver audit log, no chaos Event, no journal.
//
// HARDENING_LONG=1 runs 20x as many generated cases; HARDENING_SEED=N replays one fast-check seed.
import { expect } from 'chai';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { expandProbeUrls, loadScenario, ScenarioSchema, type Scenario } from '../../harness/scenario.js';
import { describeIssues } from '../../harness/faults/spec.js';
import { faults } from '../../harness/faults/index.js';
import { SECRET_NAME } from '../../harness/report/redact.js';
import { faultArb as faultArbOf, faultFields, labelKey, labelName, nodeSelector, validDuration, zone } from '../support/fault-arb.js';
import { faultFromFlags, seedArg } from '../../harness/cli.js';
import { ExitCode, HarnessError } from '../../harness/exit-codes.js';
import { REPO_ROOT } from '../../lab/paths.js';

const LONG = process.env.HARDENING_LONG === '1';
const runs = (n: number) => (LONG ? n * 20 : n);
const fcOpts = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: runs(numRuns), ...(process.env.HARDENING_SEED ? { seed: Number(process.env.HARDENING_SEED) } : {}) });

type Obj = Record<string, unknown>;
type PathKey = string | number;
/** The field as describeIssues prints it: `fault.duration`, `probes.0.rate`, `slos.<key>`, `(root)`. */
const dotted = (p: PathKey[]) => p.map(String).join('.') || '(root)';

// ---------------------------------------------------------------------------------------------
// Arbitraries: valid values of every documented field
// ---------------------------------------------------------------------------------------------

const KINDS = faults.kinds();
const int = (min: number, max: number) => fc.integer({ min, max });
// valid fault specs of every registered kind, derived from the registry
const faultArb: fc.Arbitrary<Obj> = faultArbOf(faults);
/** Equality selectors, the only kind `workloads` takes. */
const workloadSelector = fc.array(fc.tuple(labelKey, fc.constantFrom('=', '=='), labelName), { minLength: 1, maxLength: 3 }).map((r) => r.map(([k, op, v]) => `${k}${op}${v}`).join(','));
const workload = fc.record({ namespace: labelName, selector: workloadSelector }, { requiredKeys: ['selector'] });
const probeName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
const probe = (name: string) => fc.record({
  name: fc.constant(name),
  url: fc.constantFrom('http://127.0.0.1:8080/', '${LAB_SERVICE_URL}/', 'https://demo.example.com/healthz'),
  rate: fc.oneof(int(1, 1000), fc.double({ min: 0.001, max: 1000, noNaN: true })),
  timeout: validDuration,
  expectStatus: fc.array(int(100, 599), { maxLength: 3 }),
}, { requiredKeys: ['name', 'url', 'rate'] });
const num = fc.oneof(int(0, 10_000).map(String), fc.tuple(int(0, 999), int(0, 99)).map(([a, b]) => `${a}.${b}`));
const ws = fc.constantFrom('', ' ', '  ', '\t');
const op = fc.constantFrom('<', '<=', '>', '>=', '==', '!=');
const timeValue = fc.tuple(num, fc.constantFrom('ms', 's', 'm', 'h')).map(([n, u]) => n + u);
const percentValue = fc.oneof(int(0, 100).map(String), fc.tuple(int(0, 99), int(0, 9)).map(([a, b]) => `${a}.${b}`)).map((v) => `${v}%`);
const percentile = fc.oneof(int(1, 100).map(String), fc.tuple(int(0, 99), int(1, 9)).map(([a, b]) => `${a}.${b}`));
/** SLO texts in the README grammar, over the given probe names. */
function sloText(names: string[]): fc.Arbitrary<string> {
  const cmp = (v: fc.Arbitrary<string>) => fc.tuple(ws, op, ws, v).map((t) => t.join(''));
  const arms: Array<fc.Arbitrary<string>> = [fc.tuple(fc.constantFrom('recovery', 'node-recovery'), cmp(timeValue)).map(([m, c]) => m + c)];
  if (names.length) {
    const ref = fc.tuple(ws, fc.constantFrom(...names), fc.constantFrom('', '@steady', '@fault', '@recovery', '@all'), ws).map(([a, n, ph, b]) => `(${a}${n}${ph}${b})`);
    arms.push(
      fc.tuple(ref, cmp(percentValue)).map(([r, c]) => `availability${r}${c}`),
      fc.tuple(ref, cmp(timeValue)).map(([r, c]) => `max-outage${r}${c}`),
      fc.tuple(ref, cmp(num)).map(([r, c]) => `errors${r}${c}`),
      fc.tuple(percentile, ref, cmp(timeValue)).map(([p, r, c]) => `p${p}${r}${c}`),
      fc.tuple(ws, percentile, ws, ref, cmp(timeValue)).map(([a, p, b, r, c]) => `p(${a}${p}${b})${r}${c}`),
    );
  }
  return fc.tuple(ws, fc.oneof(...arms), ws).map((t) => t.join(''));
}
const sloKey = fc.string({ minLength: 1, maxLength: 20 }).filter((k) => k !== '__proto__');
const limits = fc.record({ maxNodes: int(1, 1000), maxPercent: fc.oneof(int(1, 100), fc.double({ min: 0.01, max: 100, noNaN: true })), maxZones: fc.constant(1) }, { requiredKeys: [] });

const scenarioArb: fc.Arbitrary<Obj> = fc.uniqueArray(probeName, { maxLength: 3 }).chain((names) => fc.record({
  name: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,30}$/),
  description: fc.string({ minLength: 1, maxLength: 40 }),
  fault: faultArb,
  workloads: fc.array(workload, { minLength: 1, maxLength: 3 }),
  probes: fc.tuple(...names.map(probe)),
  slos: fc.dictionary(sloKey, sloText(names), { minKeys: 1, maxKeys: 4 }),
  limits,
  steady: validDuration,
  settle: validDuration,
  recoveryTimeout: validDuration,
  abort: names.length ? fc.array(fc.record({ probe: fc.constantFrom(...names), availabilityBelow: percentValue, window: validDuration }), { maxLength: 2 }) : fc.constant([]),
}, { requiredKeys: ['name', 'description', 'fault', 'workloads', 'slos', ...(names.length ? ['probes' as const] : [])] }));

// ---------------------------------------------------------------------------------------------
// Invalid values, and mutations that put exactly one of them into a valid scenario
// ---------------------------------------------------------------------------------------------

const DURATION_GRAMMAR = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const badDuration: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('-5s', '0s', '0ms', '0h', '0.0s', '-0s', '999999h', '7h', '6h1ms', '361m', '21600001ms', 'abc', '', ' ', '5', '5x', '1e3s', 'NaN', 'Infinitys',
    '1m-30s', '2 m', '1.5.5s', '5S', '${DURATION}', '10years', '1d', '.5s', '5.s', '٥s'),
  int(21_601, 1e9).map((n) => `${n}s`),
  int(1, 1e6).map((n) => `-${n}s`),
  fc.string().filter((s) => !DURATION_GRAMMAR.test(s.trim())),
  fc.constantFrom(30, 0, -1, NaN, null, true, ['1m'], { ms: 5 }),
);
const BAD_SLOS = (p: string) => [
  'recovery', 'recovery <', 'recovery < 5', 'recovery < 5 m', 'recovery << 5m', 'recovery = 5m', 'recovery < -5m', 'recovery < 5mins', 'recovery < 5m and more',
  'recovery <5m;', 'node-recovery', 'node recovery < 1m', 'Recovery < 5m', 'recovery < 5m\n', '5m > recovery', 'recovery < 5m recovery < 6m', '', '   ', '<',
  `availability(${p}) >= 99.5`, `availability(${p}) >= 101%`, 'availability() > 5%', `availability(${p}@later) > 5%`, `availability(${p} > 5%`, `availability ${p} > 5%`,
  `p0(${p}) < 1s`, `p101(${p}) < 1s`, `p(99(${p}) < 1s`, `p(0)(${p}) < 1s`, `p99(${p}) < 1`, `p99(${p}) < 1%`, `p(${p}) < 1s`, `latency(${p}) < 1s`,
  `errors(${p}) == 1%`, `errors(${p}) == -1`, `errors(${p})`, `max-outage(${p}) < 5%`, `max-outage(${p}) < 5`,
];
/** SLO texts that are not in the grammar: fixed shapes, valid ones with a tail, anything without a lower-case letter. */
const badSlo = (names: string[]): fc.Arbitrary<string> => {
  const p = names[0] ?? 'demo';
  return fc.oneof(
    fc.constantFrom(...BAD_SLOS(p)),
    fc.tuple(sloText(names), fc.constantFrom('x', ')', '#', ';', ' and x', '%%', ',', '(')).map(([s, t]) => s.trimEnd() + t),
    fc.string().filter((s) => !/[a-z]/.test(s)),
  );
};
/** Keys no schema knows (the schemas are strict). */
const unknownKey = (known: string[]) => fc.stringMatching(/^[a-z][A-Za-z0-9]{0,12}$/).filter((k) => !known.includes(k));
const FAULT_FIELDS: Record<string, string[]> = faultFields(faults);
const TOP = ['name', 'description', 'fault', 'workloads', 'probes', 'env', 'slos', 'limits', 'steady', 'settle', 'recoveryTimeout', 'abort'];
const BAD = {
  kind: fc.oneof(fc.string().filter((k) => !KINDS.includes(k)), fc.constantFrom('teleport', 'NODE-STOP', 'node_stop', 'node-stop ', null, 5)),
  count: fc.constantFrom(0, -1, -1000, 1.5, 1001, 1e9, NaN, Infinity, -Infinity, -0, '3', null),
  percent: fc.constantFrom(0, -5, 100.0001, 300, NaN, Infinity, '50%', '50', null),
  zone: fc.oneof(fc.constantFrom('eu-west-1', 'US-EAST-1A', 'moon-1', '', 'us-east-1a ', 'us-east-1ab', 'us-east-12', '${ZONE}', 5), fc.string().filter((z) => !/^(auto|[a-z]{2}(-gov)?-[a-z]+-\d[a-z])$/.test(z))),
  selector: fc.constantFrom('', 'app in (', 'a b=c', '=x', 'app=demo,', ',', 'app in ()', 'app notin', '!', 'app=de mo', 'app=demo)', '(app=demo)', 'app=${ZONE}', '${NODE_SELECTOR}', `${'a'.repeat(64)}=x`, 'UPPER.example.com/x=y', 'app>x', 5),
  nodeGroup: fc.constantFrom('', 'ng 1', '-ng', 'ng/1', 'x'.repeat(64), '${NODE_GROUP}', 7),
  daemon: fc.constantFrom('sshd', 'Kubelet', '', 'kubelet ', 'runtime2', null),
  mode: fc.constantFrom('terminate', 'STOP', '', 1),
  scope: fc.constantFrom('region', 'Nodes', '', true),
  asg: fc.constantFrom('replace', 'SUSPEND', '', false),
  rate: fc.constantFrom(0, -0, -1, -0.001, 1000.001, 1e6, NaN, Infinity, '5', null),
  probeName: fc.constantFrom('', 'a b', 'dé', 'x/y', 'p(1)', 'a@b', '${NAME}', 5),
  expectStatus: fc.constantFrom([99], [600], [200.5], [NaN], ['200'], 200, [200, 1000]),
  url: fc.constantFrom('', 5, null),
  workloadSelector: fc.constantFrom('', 'app', 'app in (demo)', 'app!=demo', '=demo', 'app=demo,', 'app=de mo', '${SELECTOR}', 'a=b=c', 'app:demo', 5),
  namespace: fc.constantFrom('', 5, null),
  name: fc.constantFrom('', 'Bad', '-x', 'a_b', 'a b', 'ä', 'x.y', 5),
  maxNodes: fc.constantFrom(0, -1, 1.5, NaN, '2', null),
  maxPercent: fc.constantFrom(0, -1, 101, NaN, Infinity, '50'),
  maxZones: fc.constantFrom(0, 2, 1.5, -1, NaN),
  availabilityBelow: fc.constantFrom('50', '-5%', '101%', '100.5%', '', '50 %', '5e1%', 50, null),
};

interface Mutated { obj: Obj; path: PathKey[]; /** text the message must also contain (e.g. the unknown key) */ mention?: string; what: string; /** the field was deleted (so no line holds it) */ missing?: true }
type Mutation = (s: Obj) => Mutated;
const clone = <T>(x: T): T => structuredClone(x);
const fieldOf = (s: Obj) => s.fault as Obj;
/** The fault field, or (when this fault kind has no such field) the unknown key on `fault`. */
const faultField = (s: Obj, key: string, value: unknown): Mutated => {
  const f = fieldOf(s);
  if (key === 'count') delete f.percent;
  if (key === 'percent') delete f.count;
  f[key] = value;
  const known = FAULT_FIELDS[f.kind as string].includes(key);
  return { obj: s, path: known ? ['fault', key] : ['fault'], mention: known ? undefined : key, what: `fault.${key} = ${show(value)} (${String(f.kind)})` };
};
/** Makes sure the scenario has a probe (and an abort on it) to mutate; adds valid ones if not. */
const withProbe = (s: Obj): number => {
  const probes = ((s.probes as Obj[] | undefined) ??= []);
  if (!probes.length) probes.push({ name: 'fuzz-probe-added', url: 'http://127.0.0.1:8080/', rate: 5 });
  return probes.length - 1;
};
/** Index of an existing probe (one is added when there is none). */
const pickProbe = (s: Obj, n: number): number => { withProbe(s); return n % (s.probes as Obj[]).length; };
const withAbort = (s: Obj): number => {
  const p = withProbe(s);
  const abort = ((s.abort as Obj[] | undefined) ??= []);
  if (!abort.length) abort.push({ probe: (s.probes as Obj[])[p].name, availabilityBelow: '50%', window: '10s' });
  return abort.length - 1;
};
const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v));
const firstSloKey = (s: Obj) => Object.keys(s.slos as Obj)[0];
const probeNames = (s: Obj) => ((s.probes as Obj[] | undefined) ?? []).map((p) => p.name as string);

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  // fault
  BAD.kind.map((v): Mutation => (s) => { fieldOf(s).kind = v; return { obj: s, path: ['fault', 'kind'], what: `fault.kind = ${show(v)}` }; }),
  fc.constant((s: Obj): Mutated => { delete fieldOf(s).kind; return { obj: s, path: ['fault', 'kind'], what: 'fault.kind missing', missing: true }; }),
  badDuration.map((v): Mutation => (s) => faultField(s, 'duration', v)),
  fc.constant((s: Obj): Mutated => { delete fieldOf(s).duration; return { obj: s, path: ['fault', 'duration'], what: 'fault.duration missing', missing: true }; }),
  BAD.count.map((v): Mutation => (s) => faultField(s, 'count', v)),
  BAD.percent.map((v): Mutation => (s) => faultField(s, 'percent', v)),
  BAD.zone.map((v): Mutation => (s) => faultField(s, 'zone', v)),
  fc.constant((s: Obj): Mutated => faultField(s, 'zone', fieldOf(s).kind === 'az-blackhole' ? 'moon' : 'auto')),
  BAD.selector.map((v): Mutation => (s) => faultField(s, 'selector', v)),
  BAD.nodeGroup.map((v): Mutation => (s) => faultField(s, 'nodeGroup', v)),
  BAD.daemon.map((v): Mutation => (s) => faultField(s, 'daemon', v)),
  BAD.mode.map((v): Mutation => (s) => faultField(s, 'mode', v)),
  BAD.scope.map((v): Mutation => (s) => faultField(s, 'scope', v)),
  BAD.asg.map((v): Mutation => (s) => faultField(s, 'asg', v)),
  unknownKey(Object.values(FAULT_FIELDS).flat()).map((k): Mutation => (s) => { fieldOf(s)[k] = 1; return { obj: s, path: ['fault'], mention: k, what: `fault.${k} (unknown key)` }; }),
  fc.constantFrom(null, 'node-stop', 5, []).map((v): Mutation => (s) => { s.fault = v; return { obj: s, path: ['fault'], what: `fault = ${show(v)}` }; }),
  // workloads
  fc.constantFrom([], 'app=demo', null).map((v): Mutation => (s) => { s.workloads = v; return { obj: s, path: ['workloads'], what: `workloads = ${show(v)}` }; }),
  fc.tuple(BAD.workloadSelector, fc.nat()).map(([v, n]): Mutation => (s) => {
    const ws = s.workloads as Obj[]; const i = n % ws.length; ws[i].selector = v;
    return { obj: s, path: ['workloads', i, 'selector'], what: `workloads[${i}].selector = ${show(v)}` };
  }),
  fc.tuple(BAD.namespace, fc.nat()).map(([v, n]): Mutation => (s) => {
    const ws = s.workloads as Obj[]; const i = n % ws.length; ws[i].namespace = v;
    return { obj: s, path: ['workloads', i, 'namespace'], what: `workloads[${i}].namespace = ${show(v)}` };
  }),
  fc.tuple(unknownKey(['namespace', 'selector']), fc.nat()).map(([k, n]): Mutation => (s) => {
    const ws = s.workloads as Obj[]; const i = n % ws.length; ws[i][k] = 'x';
    return { obj: s, path: ['workloads', i], mention: k, what: `workloads[${i}].${k} (unknown key)` };
  }),
  // probes
  fc.tuple(BAD.rate, fc.nat()).map(([v, n]): Mutation => (s) => { const i = pickProbe(s, n); (s.probes as Obj[])[i].rate = v; return { obj: s, path: ['probes', i, 'rate'], what: `probes[${i}].rate = ${show(v)}` }; }),
  fc.constant((s: Obj): Mutated => { const i = withProbe(s); delete (s.probes as Obj[])[i].rate; return { obj: s, path: ['probes', i, 'rate'], what: `probes[${i}].rate missing`, missing: true }; }),
  fc.tuple(BAD.probeName, fc.nat()).map(([v, n]): Mutation => (s) => { const i = pickProbe(s, n); (s.probes as Obj[])[i].name = v; return { obj: s, path: ['probes', i, 'name'], what: `probes[${i}].name = ${show(v)}` }; }),
  fc.tuple(badDuration, fc.nat()).map(([v, n]): Mutation => (s) => { const i = pickProbe(s, n); (s.probes as Obj[])[i].timeout = v; return { obj: s, path: ['probes', i, 'timeout'], what: `probes[${i}].timeout = ${show(v)}` }; }),
  fc.tuple(BAD.expectStatus, fc.nat()).map(([v, n]): Mutation => (s) => { const i = pickProbe(s, n); (s.probes as Obj[])[i].expectStatus = v; return { obj: s, path: ['probes', i, 'expectStatus'], what: `probes[${i}].expectStatus = ${show(v)}` }; }),
  fc.tuple(BAD.url, fc.nat()).map(([v, n]): Mutation => (s) => { const i = pickProbe(s, n); (s.probes as Obj[])[i].url = v; return { obj: s, path: ['probes', i, 'url'], what: `probes[${i}].url = ${show(v)}` }; }),
  fc.constant((s: Obj): Mutated => { withProbe(s); const ps = s.probes as Obj[]; ps.push(clone(ps[0])); return { obj: s, path: ['probes'], mention: 'unique', what: `probes: "${String(ps[0].name)}" twice` }; }),
  fc.tuple(unknownKey(['name', 'url', 'rate', 'timeout', 'expectStatus']), fc.nat()).map(([k, n]): Mutation => (s) => { const i = pickProbe(s, n); (s.probes as Obj[])[i][k] = 1; return { obj: s, path: ['probes', i], mention: k, what: `probes[${i}].${k} (unknown key)` }; }),
);
// SLO mutations need the scenario's probe names, so they are drawn per scenario (sloMutation below).
const sloMutation = (s: Obj): fc.Arbitrary<Mutation> => fc.oneof(
  badSlo(probeNames(s)).map((v): Mutation => (x) => { const k = firstSloKey(x); (x.slos as Obj)[k] = v; return { obj: x, path: ['slos', k], what: `slos[${JSON.stringify(k)}] = ${JSON.stringify(v)}` }; }),
  fc.constantFrom('availability(no-such-probe-zz) > 5%', 'p99(no-such-probe-zz) < 1s', 'errors(no-such-probe-zz@fault) == 0').map((v): Mutation => (x) => {
    const k = firstSloKey(x); (x.slos as Obj)[k] = v; return { obj: x, path: ['slos', k], mention: 'no probe named', what: `slos[${JSON.stringify(k)}] = ${JSON.stringify(v)}` };
  }),
  fc.constantFrom(5, null, {}, ['recovery < 5m']).map((v): Mutation => (x) => { const k = firstSloKey(x); (x.slos as Obj)[k] = v; return { obj: x, path: ['slos', k], what: `slos[${JSON.stringify(k)}] = ${show(v)}` }; }),
  fc.constantFrom({}, [], 'recovery < 5m', null).map((v): Mutation => (x) => { x.slos = v; return { obj: x, path: ['slos'], what: `slos = ${show(v)}` }; }),
);
const topMutations: fc.Arbitrary<Mutation> = fc.oneof(
  BAD.name.map((v): Mutation => (s) => { s.name = v; return { obj: s, path: ['name'], what: `name = ${show(v)}` }; }),
  fc.constantFrom('', 5, null).map((v): Mutation => (s) => { s.description = v; return { obj: s, path: ['description'], what: `description = ${show(v)}` }; }),
  unknownKey(TOP).map((k): Mutation => (s) => { s[k] = '10s'; return { obj: s, path: [], mention: k, what: `${k} (unknown top-level key)` }; }),
  fc.constantFrom('name', 'description', 'fault', 'workloads', 'slos').map((k): Mutation => (s) => { delete s[k]; return { obj: s, path: [k], what: `${k} missing`, missing: true }; }),
  fc.tuple(fc.constantFrom('steady', 'settle', 'recoveryTimeout'), badDuration).map(([k, v]): Mutation => (s) => { s[k] = v; return { obj: s, path: [k], what: `${k} = ${show(v)}` }; }),
  (fc.constantFrom('maxNodes', 'maxPercent', 'maxZones') as fc.Arbitrary<'maxNodes' | 'maxPercent' | 'maxZones'>).chain((k) => BAD[k].map((v): Mutation => (s) => {
    s.limits = { ...((s.limits as Obj | undefined) ?? {}), [k]: v }; return { obj: s, path: ['limits', k], what: `limits.${k} = ${show(v)}` };
  })),
  unknownKey(['maxNodes', 'maxPercent', 'maxZones']).map((k): Mutation => (s) => { s.limits = { ...((s.limits as Obj | undefined) ?? {}), [k]: 1 }; return { obj: s, path: ['limits'], mention: k, what: `limits.${k} (unknown key)` }; }),
  badDuration.map((v): Mutation => (s) => { const i = withAbort(s); (s.abort as Obj[])[i].window = v; return { obj: s, path: ['abort', i, 'window'], what: `abort[${i}].window = ${show(v)}` }; }),
  BAD.availabilityBelow.map((v): Mutation => (s) => { const i = withAbort(s); (s.abort as Obj[])[i].availabilityBelow = v; return { obj: s, path: ['abort', i, 'availabilityBelow'], what: `abort[${i}].availabilityBelow = ${show(v)}` }; }),
  fc.constant((s: Obj): Mutated => { const i = withAbort(s); (s.abort as Obj[])[i].probe = 'no-such-probe-zz'; return { obj: s, path: ['abort', i, 'probe'], mention: 'no probe named', what: `abort[${i}].probe unknown` }; }),
  unknownKey(['probe', 'availabilityBelow', 'window']).map((k): Mutation => (s) => { const i = withAbort(s); (s.abort as Obj[])[i][k] = 1; return { obj: s, path: ['abort', i], mention: k, what: `abort[${i}].${k} (unknown key)` }; }),
);
/** A valid scenario and one mutation of it. */
const mutatedScenario: fc.Arbitrary<Mutated> = scenarioArb.chain((s) => fc.oneof(mutations, topMutations, sloMutation(s)).map((m) => m(clone(s))));

/** Whether one of the CLI's lines names the field: `<field>: …` or `<field>.<deeper>: …`, plus the mention. */
function names(lines: string[], m: Pick<Mutated, 'path' | 'mention'>): boolean {
  const field = dotted(m.path);
  return lines.some((l) => (l.startsWith(`${field}: `) || (field !== '(root)' && l.startsWith(`${field}.`))) && (!m.mention || l.includes(m.mention)));
}

/** A TypeScript literal of `v` (NaN, Infinity, -0 kept), one key per line, as a scenario file would be written. */
function lit(v: unknown, ind = ''): string {
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : Object.is(v, -0) ? '-0' : String(v);
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = ind + '  ';
  if (Array.isArray(v)) return v.length ? `[\n${v.map((x) => `${inner}${lit(x, inner)},`).join('\n')}\n${ind}]` : '[]';
  const entries = Object.entries(v).filter(([, x]) => x !== undefined);
  return entries.length ? `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${lit(x, inner)},`).join('\n')}\n${ind}}` : '{}';
}
const scenarioSource = (obj: unknown) => `import { defineScenario } from ${JSON.stringify(path.join(REPO_ROOT, 'harness/index.js'))};\n\nexport default defineScenario(${lit(obj)} as never);\n`;

function harnessError(fn: () => unknown): HarnessError {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(HarnessError);
    return err as HarnessError;
  }
  throw new Error('expected an exit-2 error, got none');
}

// ---------------------------------------------------------------------------------------------
// Layer 1: in-process properties
// ---------------------------------------------------------------------------------------------

describe('hardening: bad input, in-process properties', function () {
  this.timeout(LONG ? 3_600_000 : 120_000);
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-hardening-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('every generated valid scenario parses (the generator is honest)', () => {
    fc.assert(fc.property(scenarioArb, (s) => {
      const r = ScenarioSchema.safeParse(s);
      expect(r.success, `${JSON.stringify(s)}\n${r.success ? '' : describeIssues(r.error).join('\n')}`).to.equal(true);
    }), fcOpts(300));
  });

  it('one invalid field: the schema rejects it without throwing and the message names that field', () => {
    fc.assert(fc.property(mutatedScenario, (m) => {
      let r: ReturnType<typeof ScenarioSchema.safeParse>;
      try {
        r = ScenarioSchema.safeParse(m.obj);
      } catch (err) {
        throw new Error(`${m.what}: safeParse threw ${(err as Error).name}: ${(err as Error).message}`);
      }
      expect(r.success, `${m.what} was accepted`).to.equal(false);
      const lines = describeIssues(r.error!);
      expect(names(lines, m), `${m.what} → expected a line for ${dotted(m.path)}${m.mention ? ` mentioning ${m.mention}` : ''}, got:\n  ${lines.join('\n  ')}`).to.equal(true);
    }), fcOpts(500));
  });

  it('loadScenario on a file with one invalid field: exit 2, file:line: field', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(mutatedScenario, async (m) => {
      const file = path.join(tmp, `mutated-${++n}.ts`);
      const source = scenarioSource(m.obj);
      fs.writeFileSync(file, source);
      const rel = path.relative(process.cwd(), file);
      const err = await loadScenario(file).then(() => undefined, (e: unknown) => e);
      expect(err, `${m.what}: ${String(err)}`).to.be.instanceOf(HarnessError);
      const e = err as HarnessError;
      expect(e.exitCode, m.what).to.equal(ExitCode.Invalid);
      expect(e.message).to.equal(`${rel}: invalid scenario`);
      // every detail is `<file>[:<line>]: <field>: <message>`
      const parsed = e.details.map((d) => {
        expect(d.startsWith(rel), d).to.equal(true);
        const x = /^(?::(\d+))?: ([\s\S]*)$/.exec(d.slice(rel.length));
        expect(x, d).to.not.equal(null);
        return { d, line: x![1] ? Number(x![1]) : undefined, rest: x![2] };
      });
      const hit = parsed.find((p) => names([p.rest], m));
      expect(hit, `${m.what} → expected ${rel}:N: ${dotted(m.path)}: …, got:\n  ${e.details.join('\n  ')}`).to.not.equal(undefined);
      // the line, when given, is one that holds one of the field's keys (lineOf is a text heuristic:
      // keys with quotes or backslashes in them, e.g. an SLO named `"`, may point at a neighbour)
      const keys = m.path.filter((k): k is string => typeof k === 'string');
      if (keys.some((k) => /["'\\]/.test(k))) return;
      if (hit!.line !== undefined) {
        const text = source.split('\n')[hit!.line - 1] ?? '';
        expect(keys.some((k) => text.includes(JSON.stringify(k))), `${m.what}: line ${hit!.line} is "${text}"`).to.equal(true);
      } else if (keys.length && !m.mention && !m.missing) {
        // a field named by its key is found in the file (keys the serializer escapes excepted)
        expect(keys.some((k) => JSON.stringify(k) !== `"${k}"`), `${m.what}: no line in ${hit!.d}`).to.equal(true);
      }
    }), fcOpts(40));
  });

  it('loadScenario: a file that throws at import names file:line; a syntax error names the file; no default export', async () => {
    const throwing = path.join(tmp, 'throws-at-import.ts');
    fs.writeFileSync(throwing, `import { defineScenario } from ${JSON.stringify(path.join(REPO_ROOT, 'harness/index.js'))};\n\nconst zones: string[] = [];\nif (!zones.length) throw new Error('boom');\nexport default defineScenario({} as never);\n`);
    const broken = path.join(tmp, 'syntax-error.ts');
    fs.writeFileSync(broken, `export default {\n  name: 'x',\n  fault: { kind: 'node-stop', duration: '1m' \n};\n`);
    const noDefault = path.join(tmp, 'no-default.ts');
    fs.writeFileSync(noDefault, `export const scenario = { name: 'x' };\n`);
    const rel = (f: string) => path.relative(process.cwd(), f);
    const cases: Array<[string, RegExp]> = [
      [throwing, new RegExp(`^${rel(throwing).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: the scenario file failed to load: Error: boom$`)],
      [broken, /syntax-error\.ts(:\d+)?: the scenario file failed to load: /],
      [noDefault, /no-default\.ts: no default export/],
      [path.join(tmp, 'missing.ts'), /missing\.ts does not exist/],
    ];
    for (const [file, re] of cases) {
      const err = await loadScenario(file).then(() => undefined, (e: unknown) => e);
      expect(err, file).to.be.instanceOf(HarnessError);
      expect((err as HarnessError).exitCode).to.equal(ExitCode.Invalid);
      expect((err as HarnessError).message).to.match(re);
    }
  });

  // ---- probe URLs ----
  const parsedScenario = (urls: string[], env: string[] = []): Scenario => ({
    ...ScenarioSchema.parse({ name: 'p', description: 'd', fault: { kind: 'node-stop', duration: '1m' }, workloads: [{ selector: 'app=demo' }], slos: { r: 'recovery < 5m' }, env }),
    probes: urls.map((url, i) => ({ name: `p${i}`, url, rate: 5, timeout: 2000 })),
    file: path.join(REPO_ROOT, 'scenarios/fuzz.ts'),
  });
  const varName = fc.tuple(fc.constantFrom('', 'LAB_', 'CHAOS_'), fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/)).map(([p, n]) => p + n).filter((v) => !SECRET_NAME.test(v));

  it('probe URLs: any ${VAR} left unset is an exit-2 error naming probes[i].url and the variable', () => {
    fc.assert(fc.property(
      fc.uniqueArray(varName, { minLength: 1, maxLength: 3 }), fc.array(fc.oneof(fc.constant(undefined), fc.constant(''), fc.stringMatching(/^[a-z0-9]{1,8}$/)), { minLength: 3, maxLength: 3 }), int(0, 2),
      (vars, values, i) => {
        const env = Object.fromEntries(vars.map((v, k) => [v, values[k]]));
        const template = `http://127.0.0.1:8080/${vars.map((v) => `\${${v}}`).join('/')}`;
        const urls = ['http://127.0.0.1:1/', 'http://127.0.0.1:2/', 'http://127.0.0.1:3/'];
        urls[i] = template;
        const unset = vars.find((v) => !env[v]);
        if (unset) {
          const e = harnessError(() => expandProbeUrls(parsedScenario(urls, vars), env, true));
          expect(e.exitCode).to.equal(ExitCode.Invalid);
          expect(e.message).to.contain(`probes[${i}].url: \${${unset}} is not set`);
          if (unset.startsWith('LAB_')) expect(e.message).to.contain('npm run lab -- up');
        } else {
          const out = expandProbeUrls(parsedScenario(urls, vars), env, true);
          // the same URL without the scenario declaring its non-LAB_ variables: refused, whatever the environment holds
          const undeclared = vars.find((v) => !v.startsWith('LAB_'));
          if (undeclared) expect(harnessError(() => expandProbeUrls(parsedScenario(urls), env, true)).message).to.contain(`\${${undeclared}} is not allowed`);
          expect(out.probes[i].url).to.equal(`http://127.0.0.1:8080/${vars.map((v) => env[v]).join('/')}`);
        }
      }), fcOpts(300));
  });

  it('probe URLs: anything that is not an http(s) URL to loopback is an exit-2 error naming probes[i].url; the rest expand', () => {
    const host = fc.oneof(fc.ipV4(), fc.domain(), fc.constantFrom('localhost', '[::1]', '127.0.0.1', '127.255.255.254', '0.0.0.0', '[::]', '169.254.169.254', 'localhost.evil.com', '127.0.0.1.nip.io', '[::ffff:127.0.0.1]', '0x7f000001', '127.1'));
    const url = fc.oneof(
      fc.tuple(fc.constantFrom('http', 'https', 'HTTP', 'ftp', 'file', 'ws', 'wss', 'gopher', 'tcp', 'h2'), host, fc.constantFrom('', ':8080', ':0'), fc.constantFrom('/', '/x?y=1', '')).map(([sc, h, p, rest]) => `${sc}://${h}${p}${rest}`),
      fc.constantFrom('javascript:alert(1)', 'data:text/plain,x', 'mailto:a@b.c', '127.0.0.1:8080/x', 'localhost:8080', '//127.0.0.1/', '/health', 'http://', 'http://[::1', 'not a url', ' '),
      fc.webUrl(),
      fc.string().filter((s) => !s.includes('${')),
    );
    const isLoopback = (h: string) => /^127(\.\d{1,3}){3}$/.test(h) || h === 'localhost' || h === '[::1]';
    fc.assert(fc.property(url, fc.boolean(), int(0, 1), (u, loopbackOnly, i) => {
      const urls = ['http://127.0.0.1:1/', 'http://127.0.0.1:2/'];
      urls[i] = u;
      let parsed: URL | undefined;
      try { parsed = new URL(u); } catch { /* not a URL */ }
      const ok = !!parsed && /^https?:$/.test(parsed.protocol) && (!loopbackOnly || isLoopback(parsed.hostname));
      if (ok) {
        expect(expandProbeUrls(parsedScenario(urls), {}, loopbackOnly).probes[i].url).to.equal(u);
      } else {
        const e = harnessError(() => expandProbeUrls(parsedScenario(urls), {}, loopbackOnly));
        expect(e.exitCode).to.equal(ExitCode.Invalid);
        expect(e.message, u).to.contain(`probes[${i}].url: `);
        if (parsed && /^https?:$/.test(parsed.protocol)) expect(e.message).to.contain(`the lab target probes only 127.0.0.1, got ${parsed.hostname}`);
      }
    }), fcOpts(400));
    // a variable can carry a non-loopback host in: the rule holds after expansion too
    const e = harnessError(() => expandProbeUrls(parsedScenario(['${LAB_SERVICE_URL}/']), { LAB_SERVICE_URL: 'http://10.0.0.5:80' }, true));
    expect(e.message).to.contain('probes[0].url: the lab target probes only 127.0.0.1, got 10.0.0.5');
  });

  it('probe URLs: a malformed ${…} reference is an error, not a literal path', () => {
    fc.assert(fc.property(fc.constantFrom('${}', '${1X}', '${LAB-URL}', '${A B}', '${', '${X', '${X:-y}'), fc.constantFrom('http://127.0.0.1/', ''), (ref, prefix) => {
      const e = harnessError(() => expandProbeUrls(parsedScenario([`${prefix}${ref}/x`]), { X: 'http://127.0.0.1', LAB: 'x' }, true));
      expect(e.message).to.contain('probes[0].url: ');
    }), fcOpts(50));
  });

  // ---- `fault <kind>` flags ----
  // What commander hands over: strings, `duration` defaulting to 30s.
  const validFlags: fc.Arbitrary<[string, Record<string, string>]> = fc.oneof(
    fc.record({ count: int(1, 1000).map(String), selector: nodeSelector, nodeGroup: labelName, zone, asg: fc.constantFrom('suspend', 'expect-replacement') }, { requiredKeys: [] }).map((f): [string, Record<string, string>] => ['node-stop', f]),
    fc.record({ percent: int(1, 100).map(String), daemon: fc.constantFrom('kubelet', 'kube-proxy', 'containerd', 'docker', 'runtime'), mode: fc.constantFrom('stop', 'kill'), zone }, { requiredKeys: ['daemon'] }).map((f): [string, Record<string, string>] => ['daemon-kill', f]),
    fc.record({ zone: fc.oneof(fc.constant('auto'), zone), scope: fc.constantFrom('nodes', 'zone') }, { requiredKeys: ['zone'] }).map((f): [string, Record<string, string>] => ['az-blackhole', f]),
  ).chain(([k, f]) => validDuration.map((duration): [string, Record<string, string>] => [k, { duration, ...f }]));

  it('fault flags: valid ones become a spec; one invalid flag is an exit-2 error naming fault.<field>', () => {
    fc.assert(fc.property(validFlags, ([kind, flags]) => {
      const spec = faultFromFlags(kind, flags);
      expect(spec.kind).to.equal(kind);
      if (flags.count) expect((spec as { count?: number }).count).to.equal(Number(flags.count));
    }), fcOpts(300));
    const badFlag = fc.oneof(
      fc.constantFrom('-1', '0', '1.5', 'abc', '', ' ', '1001', 'Infinity', 'NaN', '${COUNT}', '-0').map((v) => ['count', v] as const),
      fc.constantFrom('300', '0', '-5', '100.5', 'abc', '50%', '', '${PERCENT}').map((v) => ['percent', v] as const),
      fc.oneof(badDuration.filter((d): d is string => typeof d === 'string'), fc.constantFrom('-5s', '10years', '0s', '999999h')).map((v) => ['duration', v] as const),
      BAD.zone.filter((z): z is string => typeof z === 'string').map((v) => ['zone', v] as const),
      BAD.selector.filter((z): z is string => typeof z === 'string').map((v) => ['selector', v] as const),
      BAD.nodeGroup.filter((z): z is string => typeof z === 'string').map((v) => ['nodeGroup', v] as const),
      fc.constantFrom('sshd', 'Kubelet', '').map((v) => ['daemon', v] as const),
      fc.constantFrom('terminate', '').map((v) => ['mode', v] as const),
      fc.constantFrom('region', '').map((v) => ['scope', v] as const),
      fc.constantFrom('replace', '').map((v) => ['asg', v] as const),
    );
    fc.assert(fc.property(validFlags, badFlag, ([kind, flags], [key, value]) => {
      const f: Record<string, string> = { ...flags, [key]: value };
      if (key === 'count') delete f.percent;
      if (key === 'percent') delete f.count;
      if (key === 'zone' && kind === 'az-blackhole' && value === 'auto') return;
      const e = harnessError(() => faultFromFlags(kind, f));
      expect(e.exitCode).to.equal(ExitCode.Invalid);
      expect(e.message).to.equal('invalid fault');
      const known = FAULT_FIELDS[kind].includes(key);
      expect(names(e.details, { path: known ? ['fault', key] : ['fault'], mention: known ? undefined : key }), `${kind} --${key} ${JSON.stringify(value)} → ${e.details.join('; ')}`).to.equal(true);
    }), fcOpts(400));
    fc.assert(fc.property(BAD.kind.filter((k): k is string => typeof k === 'string'), validDuration, (kind, duration) => {
      const e = harnessError(() => faultFromFlags(kind, { duration }));
      expect(names(e.details, { path: ['fault', 'kind'] }), e.details.join('; ')).to.equal(true);
    }), fcOpts(100));
  });

  it('--seed: integers 0..4294967295 only (an empty "$SEED" is not seed 0)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 0xffffffffn }), (n) => { expect(seedArg(String(n))).to.equal(Number(n)); }), fcOpts(200));
    const bad = fc.oneof(
      fc.bigInt({ min: -(10n ** 12n), max: -1n }).map(String), fc.bigInt({ min: 0x100000000n, max: 10n ** 30n }).map(String),
      fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d)).map(String),
      fc.constantFrom('', ' ', 'abc', '1e3', '0x10', ' 5', '5 ', '+5', '${SEED}', 'NaN', 'Infinity', '1_000', '٣'),
      fc.string().filter((s) => !/^\d+$/.test(s)),
    );
    fc.assert(fc.property(bad, (v) => { expect(() => seedArg(v), JSON.stringify(v)).to.throw(InvalidArgumentError); }), fcOpts(300));
  });
});

