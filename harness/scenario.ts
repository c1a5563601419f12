// Scenario files: data, typed with defineScenario, validated at load time (zod) with the file, the
// line and the field in every error, before anything is injected.
import path from 'node:path';
import { z } from 'zod';
import { FaultSpec, Limits, describeIssues, durationField, type FaultSpecInput } from './faults/spec.js';
import { isEqualitySelector } from './selector.js';
import { SECRET_NAME } from './report/redact.js';
import { parseSlo, SloSyntaxError } from './slo/grammar.js';
import { invalid } from './exit-codes.js';
import { RESOLVER_ADDRESS } from './probes/prober.js';

const durationMs = durationField();
const percent = z.string().regex(/^\d+(\.\d+)?%$/, 'write a percentage like 50%').transform((s) => Number(s.slice(0, -1))).refine((n) => n <= 100, 'a percentage is at most 100%');

/** `>= 99%`: a comparison and a percentage (the availability every probe needs in the steady state). */
const availabilityThreshold = z.string().transform((text, ctx) => {
  const m = /^\s*(>=|>)\s*(\d+(?:\.\d+)?)%\s*$/.exec(text);
  if (!m || Number(m[2]) > 100) {
    ctx.addIssue({ code: 'custom', message: `write the probes' steady-state availability as ">= 99%" or "> 99.5%", got "${text}"` });
    return z.NEVER;
  }
  return { op: m[1] as '>=' | '>', percent: Number(m[2]), text: text.trim() };
});

export const SteadySchema = z.object({
  /** how long the steady state is observed before the fault */
  window: durationMs.prefault('10s'),
  /** every probe's availability over the window */
  probes: availabilityThreshold.prefault('>= 99%'),
}).strict();
export type SteadyHypothesis = z.output<typeof SteadySchema>;

export const ProbeSchema = z.object({
  /** referenced by SLOs: availability(name), p99(name), … */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  /** http(s) URL; ${VAR} expands from the environment (the lab's .lab/env for the lab target) */
  url: z.string().min(1),
  /** requests per second, sent open-loop */
  rate: z.number().positive().max(1000),
  /** a request without an answer by then is a failure counted at this latency */
  timeout: durationMs.prefault('2s'),
  /** statuses that count as success (default 2xx/3xx) */
  expectStatus: z.array(z.number().int().min(100).max(599)).optional(),
  /**
   * how the probe connects: 'keep-alive' (default) reuses idle connections, as a pooling client does;
   * 'new' opens a new TCP connection per request (`Connection: close`), as a client without a pool
   * does — behind an NLB every request then picks its own target, where a kept-alive connection stays
   * pinned to the target it first met.
   */
  connection: z.enum(['keep-alive', 'new']).optional(),
  /**
   * 'keep-alive' only: at most this many pooled connections; a request that finds all of them busy
   * goes out on a short-lived extra connection (counted in the report). Unbounded without it.
   */
  connections: z.number().int().min(1).max(1000).optional(),
  /**
   * a DNS server ('IPv4[:PORT]', ${VAR} expands as in the URL) that resolves the URL's host name: the
   * answer is cached for its TTL and asked again, new connections go round robin over its addresses,
   * and every attempt records the address it went to (per-address and per-zone results)
   */
  resolver: z.string().min(1).optional(),
}).strict().superRefine((p, ctx) => {
  if (p.connection === 'new' && p.connections !== undefined) ctx.addIssue({ code: 'custom', path: ['connections'], message: 'connections caps the keep-alive pool; with connection: \'new\' every request opens its own connection (remove connections, or use connection: \'keep-alive\')' });
});

export const ScenarioSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.string().min(1),
  fault: FaultSpec,
  /** what must self-heal: pods by namespace and equality label selector */
  workloads: z.array(z.object({ namespace: z.string().min(1).default('default'), selector: z.string().refine(isEqualitySelector, 'an equality label selector like app=demo') }).strict()).min(1),
  probes: z.array(ProbeSchema).default([]),
  /**
   * Environment variables the probe URLs may use as ${NAME} (besides LAB_*, which the lab writes):
   * nothing else of the environment is expanded, so a URL can never carry AWS_SESSION_TOKEN or the like.
   */
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name: letters, digits and _').refine((n) => !SECRET_NAME.test(n), 'looks like a credential; probe URLs never expand secrets')).default([]),
  /** name → objective in the SLO grammar (see README); syntax is checked per SLO, even when other fields are wrong */
  slos: z.record(z.string(), z.string().superRefine((text, ctx) => {
    try {
      parseSlo(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof SloSyntaxError ? err.message : String(err) });
    }
  })).refine((r) => Object.keys(r).length > 0, 'at least one SLO'),
  limits: Limits,
  /**
   * The steady-state hypothesis, checked before anything is injected (else exit 2): for `window`,
   * every workload at its desired replicas on Ready nodes, every node Ready, and each probe's
   * availability meeting `probes`. A duration alone (`steady: '10s'`) is the window.
   */
  steady: z.preprocess((v) => (typeof v === 'string' ? { window: v } : v), SteadySchema).prefault({}),
  /** healthy this long counts as recovered */
  settle: durationMs.prefault('10s'),
  /** give up waiting for recovery after this long (after the revert) */
  recoveryTimeout: durationMs.prefault('5m'),
  /** stop conditions: revert at once and exit 3 when a probe's availability over the window falls below the floor */
  abort: z.array(z.object({ probe: z.string(), availabilityBelow: percent, window: durationMs }).strict()).default([]),
}).strict().superRefine((s, ctx) => {
  const names = new Set(s.probes.map((p) => p.name));
  for (const [key, text] of Object.entries(s.slos)) {
    let slo: ReturnType<typeof parseSlo>;
    try { slo = parseSlo(text); } catch { continue; } // a syntax error is already reported on slos.<key>
    if (slo.probe && !names.has(slo.probe)) ctx.addIssue({ code: 'custom', path: ['slos', key], message: `no probe named "${slo.probe}" (probes: ${[...names].join(', ') || 'none'})` });
  }
  for (const [i, a] of s.abort.entries()) if (!names.has(a.probe)) ctx.addIssue({ code: 'custom', path: ['abort', i, 'probe'], message: `no probe named "${a.probe}"` });
  if (new Set(s.probes.map((p) => p.name)).size !== s.probes.length) ctx.addIssue({ code: 'custom', path: ['probes'], message: 'probe names must be unique' });
});

export type ScenarioInput = Omit<z.input<typeof ScenarioSchema>, 'fault'> & { fault: FaultSpecInput };
export type Scenario = z.output<typeof ScenarioSchema> & { file: string; /** set by expandProbeUrls for the lab target: probes may connect to 127.0.0.0/8 only */ probesLoopbackOnly?: boolean };

/** Why an address is refused on a loopback-only target (the lab), or undefined. */
export function refuseNonLoopback(host: string): (ip: string) => string | undefined {
  return (ip) => (/^127(?:\.\d{1,3}){3}$/.test(ip) ? undefined : `refused: the lab target probes only 127.0.0.0/8, DNS answered ${ip} for ${host}`);
}

/** Types a scenario file (in harness/define.ts, so that scenario files load without zod). */
export { defineScenario } from './define.js';

// Finding and loading files (.ts, .yaml, .yml, .json) lives in scenario-load.ts; re-exported here.
export { listScenarioFiles, listScenarios, lineOf, loadScenario, SCENARIO_DIR, SCENARIO_EXTENSIONS, scenarioFile, scenariosDir } from './scenario-load.js';

/** Expands ${VAR} in probe URLs; a variable left unset is an error naming the probe. */
export function expandProbeUrls(s: Scenario, env: Record<string, string | undefined>, loopbackOnly: boolean): Scenario {
  const probes = s.probes.map((p, i) => {
    const bad = /\$\{(?![A-Za-z_][A-Za-z0-9_]*\})[^}]*\}?/.exec(p.url);
    if (bad) throw invalid(`${path.relative(process.cwd(), s.file)}: probes[${i}].url: "${bad[0]}" is not a variable reference (write \${NAME}: letters, digits and _)`);
    const expand = (text: string, field: string) => text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, v: string) => {
      if (!v.startsWith('LAB_') && !(s.env ?? []).includes(v)) throw invalid(`${path.relative(process.cwd(), s.file)}: probes[${i}].${field}: \${${v}} is not allowed: only LAB_* and the variables the scenario lists in \`env:\` are expanded (add env: ['${v}'] if it is meant)`);
      const val = env[v];
      if (val === undefined || val === '') throw invalid(`${path.relative(process.cwd(), s.file)}: probes[${i}].${field}: \${${v}} is not set${v.startsWith('LAB_') ? ' (it comes from the lab\'s .lab/env: run `npm run lab -- up`)' : ''}`);
      return val;
    });
    const url = expand(p.url, 'url');
    const resolver = p.resolver === undefined ? undefined : expand(p.resolver, 'resolver');
    if (resolver !== undefined) {
      const m = RESOLVER_ADDRESS.exec(resolver);
      if (!m || m[1].split('.').some((o) => Number(o) > 255) || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) throw invalid(`${path.relative(process.cwd(), s.file)}: probes[${i}].resolver: "${resolver}" is not an IPv4 address with an optional port (write 127.0.0.1:5353)`);
      if (loopbackOnly && !m[1].startsWith('127.')) throw invalid(`probes[${i}].resolver: the lab target asks only a DNS server on 127.0.0.0/8, got ${m[1]}`);
    }
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw invalid(`${path.relative(process.cwd(), s.file)}: probes[${i}].url: "${url}" is not a URL`);
    }
    if (!/^https?:$/.test(u.protocol)) throw invalid(`probes[${i}].url: only http and https probes are supported, got ${u.protocol}`);
    if (resolver !== undefined && /^[\d.]+$|^\[/.test(u.hostname)) throw invalid(`probes[${i}].resolver: the URL's host ${u.hostname} is an address, nothing to resolve (use a host name, or drop resolver)`);
    // with a resolver the host is a name: what the DNS answers is checked when the probe connects
    if (loopbackOnly && resolver === undefined && !/^(127(?:\.\d{1,3}){3}|localhost|\[::1\])$/.test(u.hostname)) throw invalid(`probes[${i}].url: the lab target probes only 127.0.0.1, got ${u.hostname}`);
    return { ...p, url, ...(resolver !== undefined ? { resolver } : {}) };
  });
  return { ...s, probes, probesLoopbackOnly: loopbackOnly };
}
