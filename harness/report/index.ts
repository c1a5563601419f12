// Report files for a run: report.json (versioned schema, harness/report/schema.json), junit.xml (one
// testsuite per scenario, one testcase per SLO), summary.md (for $GITHUB_STEP_SUMMARY or a PR
// comment), and the `reports/latest` link. Everything passes through the redactor first.
import fs from 'node:fs';
import path from 'node:path';
import type { ProbeConnections, ScenarioResult } from '../runner.js';
import { perSecond } from '../runner.js';
import { apiserverOutages } from '../slo/gaps.js';
import { formatMeasured } from '../slo/evaluate.js';
import type { GroupResult, ProbeStats } from '../slo/analyze.js';
import { Redactor } from './redact.js';
import { reportHtml } from './html.js';
import { formatMs, formatSeconds } from '../duration.js';
import { faults as registry, type FaultRegistry, type Verification } from '../faults/index.js';

const SCHEMA_FILE = new URL('./schema.json', import.meta.url);

/**
 * The report.json JSON Schema (version 1), with `faults[].kind` the registry's kinds. The committed
 * schema.json lists the shipped kinds (a test keeps the two equal); a registered extension kind
 * appears here.
 */
export function reportSchema(faults: FaultRegistry = registry): Record<string, unknown> {
  const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as { properties: { faults: { items: { properties: { kind: { enum: string[] } } } } } };
  schema.properties.faults.items.properties.kind.enum = faults.kinds();
  return schema as unknown as Record<string, unknown>;
}

export const REPORT_SCHEMA_VERSION = 1;

export interface ReportV1 {
  schemaVersion: 1;
  scenario: string;
  description: string;
  target: { kind: string; context: string; cluster: string; region: string };
  verdict: ScenarioResult['verdict'];
  exitCode: number;
  startedAt: string;
  endedAt: string;
  seed: number;
  runId: string;
  faults: Array<{ kind: string; summary: string; targets: unknown; injectedAt: string | null; revertedAt: string | null; reverted: string[]; leftovers: Array<{ what: string; fix: string[] }>; verification?: Verification; replacements?: NonNullable<ScenarioResult['replacements']> }>;
  slos: Array<{ name: string; objective: string; measured: number | null; unit: string; pass: boolean; judged: boolean; detail: string }>;
  /** what did not fail the run but deserves a look (nodes outside the scope not Ready, a missing replacement, …) */
  warnings: string[];
  phases: Record<string, number>;
  workloads: Array<{ workload: string; desired: number; detectMs: number | null; rescheduleMs: number | null; readyMs: number | null; recoveryMs: number | null }>;
  nodeRecoveryMs: number | null;
  probes: Record<string, ProbeReport>;
  series: ReturnType<typeof perSecond>;
  gaps: Array<{ resource: string; start: number; end?: number; error: string }>;
  error: string | null;
  errorDetails: string[];
  timeline: ScenarioResult['timeline'];
}

export interface StatsJson { attempts: number; successes: number; availability: number | null; p50: number | null; p90: number | null; p95: number | null; p99: number | null; max: number | null; maxOutageMs: number }
export interface GroupStatsJson extends StatsJson { firstAttempt: number; lastAttempt: number; firstFailure: number | null; lastFailure: number | null }
export interface GroupJson { stats: GroupStatsJson; phases: Record<'steady' | 'fault' | 'recovery', StatsJson> }
export interface AddressJson extends GroupJson { addr: string | null; zone: string; interfaceType: string | null; eniId?: string }
export interface ZoneJson extends GroupJson { zone: string; addrs: Array<string | null> }
/** one probe: its stats per phase, and per address / per zone (absent in reports written before them) */
export type ProbeReport = Record<'steady' | 'fault' | 'recovery' | 'all', StatsJson> & { byAddress?: AddressJson[]; byZone?: ZoneJson[]; connections?: ProbeConnections };

const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? null : v);
const statsJson = (st: ProbeStats): StatsJson => ({
  attempts: st.attempts, successes: st.successes, availability: num(st.availability), p50: num(st.p50), p90: num(st.p90), p95: num(st.p95), p99: num(st.p99), max: num(st.max), maxOutageMs: st.maxOutageMs,
});
const groupJson = (g: GroupResult): GroupJson => ({
  stats: { ...statsJson(g.stats.all), firstAttempt: g.firstAttempt, lastAttempt: g.lastAttempt, firstFailure: num(g.firstFailure), lastFailure: num(g.lastFailure) },
  phases: { steady: statsJson(g.stats.steady), fault: statsJson(g.stats.fault), recovery: statsJson(g.stats.recovery) },
});

function probesJson(r: ScenarioResult): Record<string, ProbeReport> {
  const a = r.analysis;
  return Object.fromEntries(Object.entries(a?.probes ?? {}).map(([n, ph]) => [n, {
    ...(Object.fromEntries(Object.entries(ph).map(([p, st]) => [p, statsJson(st)])) as Record<'steady' | 'fault' | 'recovery' | 'all', StatsJson>),
    byAddress: (a?.byAddress?.[n] ?? []).map((x) => {
      const eniId = x.addr === null ? undefined : r.addressZones?.[x.addr]?.eniId;
      return { addr: x.addr, zone: x.zone, interfaceType: x.interfaceType ?? null, ...(eniId ? { eniId } : {}), ...groupJson(x) };
    }),
    byZone: (a?.byZone?.[n] ?? []).map((z) => ({ zone: z.zone, addrs: z.addrs, ...groupJson(z) })),
    ...(r.probeConnections?.[n] ? { connections: r.probeConnections[n] } : {}),
  }]));
}

export function buildReport(r: ScenarioResult, meta: { description: string; target: ReportV1['target'] }): ReportV1 {
  return {
    schemaVersion: 1,
    scenario: r.scenario, description: meta.description, target: meta.target, verdict: r.verdict, exitCode: r.exitCode,
    startedAt: r.startedAt, endedAt: r.endedAt, seed: r.seed, runId: r.runId,
    faults: r.plan ? [{ kind: r.plan.kind, summary: r.plan.summary, targets: r.plan.resources, injectedAt: r.fault?.injectedAt ?? null, revertedAt: r.fault?.revertedAt ?? null, reverted: r.fault?.revert.actions ?? [], leftovers: r.fault?.revert.leftovers ?? [], ...(r.fault?.verification ? { verification: r.fault.verification } : {}), ...(r.replacements ? { replacements: r.replacements } : {}) }] : [],
    slos: r.verdicts.map((v) => ({ name: v.name, objective: v.objective, measured: v.measured, unit: v.unit, pass: v.pass, judged: v.judged, detail: v.detail })),
    warnings: r.warnings ?? [],
    phases: Object.fromEntries(Object.entries(r.analysis?.phases ?? {}).filter(([, v]) => v !== undefined)) as Record<string, number>,
    workloads: (r.analysis?.workloads ?? []).map((w) => ({ workload: w.workload, desired: w.desired, detectMs: num(w.detectMs), rescheduleMs: num(w.rescheduleMs), readyMs: num(w.readyMs), recoveryMs: num(w.recoveryMs) })),
    nodeRecoveryMs: num(r.analysis?.nodeRecoveryMs),
    probes: probesJson(r),
    series: perSecond(r.timeline),
    gaps: r.analysis?.gaps ?? [],
    error: r.error ?? null,
    errorDetails: r.errorDetails ?? [],
    timeline: r.timeline,
  };
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/** JUnit XML as GitHub, GitLab and Jenkins read it: testsuites > testsuite (scenario) > testcase (SLO). */
export function junitXml(reports: ReportV1[]): string {
  const secs = (r: ReportV1) => ((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000).toFixed(3);
  const suites = reports.map((r) => {
    const judged = (s: ReportV1['slos'][number]) => s.judged !== false;
    const failures = r.slos.filter((s) => judged(s) && !s.pass).length;
    const skipped = r.slos.filter((s) => !judged(s)).length;
    // a run that tested nothing (not-taken) or never judged an SLO is an error of the suite
    const errored = (r.slos.length === 0 || r.verdict === 'not-taken') && r.verdict !== 'pass';
    const cases = r.slos.map((s) => `    <testcase classname="chaos.${xmlEscape(r.scenario)}" name="${xmlEscape(s.name)}" time="0">${!judged(s) ? `\n      <skipped message="${xmlEscape(s.detail)}"/>\n    ` : s.pass ? '' : `\n      <failure message="${xmlEscape(`${s.objective} — measured ${formatMeasured(s)}`)}" type="SLOBreached">${xmlEscape(s.detail)}</failure>\n    `}</testcase>`);
    if (errored) cases.push(`    <testcase classname="chaos.${xmlEscape(r.scenario)}" name="run" time="${secs(r)}">\n      <error message="${xmlEscape(`${r.verdict}: ${r.error ?? ''}`)}" type="${xmlEscape(r.verdict)}">${xmlEscape(r.errorDetails.join('\n'))}</error>\n    </testcase>`);
    return `  <testsuite name="${xmlEscape(r.scenario)}" tests="${cases.length}" failures="${failures}" errors="${errored ? 1 : 0}" skipped="${skipped}" time="${secs(r)}" timestamp="${r.startedAt.replace(/\.\d+Z$/, '')}">\n    <properties>\n      <property name="verdict" value="${r.verdict}"/>\n      <property name="seed" value="${r.seed}"/>\n      <property name="runId" value="${xmlEscape(r.runId)}"/>\n    </properties>\n${cases.join('\n')}\n  </testsuite>`;
  });
  const total = (f: (r: ReportV1) => number) => reports.reduce((a, r) => a + f(r), 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="chaos" tests="${total((r) => r.slos.length + ((r.slos.length === 0 || r.verdict === 'not-taken') && r.verdict !== 'pass' ? 1 : 0))}" failures="${total((r) => r.slos.filter((s) => s.judged !== false && !s.pass).length)}" errors="${total((r) => ((r.slos.length === 0 || r.verdict === 'not-taken') && r.verdict !== 'pass' ? 1 : 0))}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export function summaryMd(reports: ReportV1[]): string {
  const icon = (v: string) => (v === 'pass' ? '✅' : v === 'fail' ? '❌' : '⚠️');
  const out: string[] = [];
  for (const r of reports) {
    out.push(`### ${icon(r.verdict)} ${r.scenario}: ${r.verdict.toUpperCase()}`, '');
    out.push(`${r.description} — ${r.faults[0]?.summary ?? 'no fault injected'} on ${r.target.kind} \`${r.target.cluster}\` (${r.target.region}), seed ${r.seed}, exit ${r.exitCode}.`, '');
    if (r.slos.length) {
      out.push('| SLO | objective | measured | |', '|---|---|---|---|');
      for (const s of r.slos) out.push(`| ${s.name.replace(/\|/g, '\\|')} | \`${s.objective}\` | ${formatMeasured(s)} | ${s.judged === false ? '➖' : s.pass ? '✅' : '❌'} |`);
      out.push('');
    }
    const conns = Object.entries(r.probes).filter(([, p]) => p.connections);
    if (conns.length) out.push(`Probe connections: ${conns.map(([n, p]) => connectionsText(n, p.connections!)).join('; ')}.`, '');
    out.push(...zoneTables(r));
    const v = r.faults[0]?.verification;
    if (v) out.push(`**Effect ${v.status}:**`, '', ...v.detail.map((l) => `- ${l}`), '');
    for (const x of r.faults[0]?.replacements ?? []) out.push(`- replacement of \`${x.replaced}\` (NodePool ${x.pool}): ${x.by ? `\`${x.by}\` Ready ${x.readyAfterMs !== undefined ? `${formatSeconds(x.readyAfterMs)} after the injection` : ''}` : '**none Ready**'}`);
    for (const w of r.warnings ?? []) out.push(`> ⚠️ ${w}`, '');
    for (const l of gapLines(r)) out.push(`> ⚠️ ${l}`, '');
    if (r.error) out.push(`> ${r.verdict}: ${r.error}`, '');
    for (const l of r.faults[0]?.leftovers ?? []) out.push(`- **left behind:** ${l.what} — fix: \`${l.fix[0] ?? ''}\``);
  }
  return out.join('\n') + '\n';
}

const pct = (v: number | null) => (v === null ? '–' : `${Math.floor(v * 1000) / 1000}%`);
const ms = (v: number | null) => (v === null ? '–' : formatMs(v));
const at = (v: number | null) => (v === null ? '–' : `t=${formatSeconds(v)}`);

/** `demo: a new connection per request (1,200 opened)` / `demo: keep-alive, pool of 4 (6 opened, 2 extra beyond the pool)` */
export function connectionsText(name: string, c: ProbeConnections): string {
  if (c.mode === 'new') return `${name}: a new connection per request (${c.opened} opened)`;
  return `${name}: keep-alive, ${c.pool === null ? 'unbounded pool' : `pool of ${c.pool}`} (${c.opened} opened${c.extra ? `, ${c.extra} short-lived beyond the pool` : ''})`;
}

/**
 * Per probe, the per-zone and per-address tables (summary.md): availability, latency, the longest
 * outage, and when each was first/last failing and last sent to: an address DNS dropped stops
 * receiving attempts (its "last sent" is early).
 */
export function zoneTables(r: ReportV1): string[] {
  const out: string[] = [];
  const head = '| attempts | ok | availability | during the fault | p50 | p95 | p99 | max outage | first failure | last failure | last sent |';
  const cells = (g: GroupJson) => `| ${g.stats.attempts} | ${g.stats.successes} | ${pct(g.stats.availability)} | ${pct(g.phases.fault.availability)} | ${ms(g.stats.p50)} | ${ms(g.stats.p95)} | ${ms(g.stats.p99)} | ${ms(g.stats.maxOutageMs)} | ${at(g.stats.firstFailure)} | ${at(g.stats.lastFailure)} | ${at(g.stats.lastAttempt)} |`;
  for (const [name, p] of Object.entries(r.probes)) {
    if (!p.byZone?.length) continue;
    out.push(`**Probe ${name} per zone** (attempts by the zone of the address they were sent to; t = seconds since the start of the run):`, '');
    out.push(`| zone | addresses ${head}`, `|---|---${'|---'.repeat(11)}|`);
    for (const z of p.byZone) out.push(`| ${z.zone} | ${z.addrs.map((a) => a ?? 'unresolved').join(', ')} ${cells(z)}`);
    out.push('');
    out.push(`**Probe ${name} per address:**`, '');
    out.push(`| address | zone | interface ${head}`, `|---|---|---${'|---'.repeat(11)}|`);
    for (const x of p.byAddress ?? []) out.push(`| ${x.addr ?? 'unresolved'} | ${x.zone} | ${x.interfaceType ?? '–'} ${cells(x)}`);
    out.push('');
  }
  return out;
}

/**
 * One line per apiserver outage (the watches' gaps merged): how long, from when, in which phase, which
 * watches, and what it means for the SLOs (summary.md, report.html).
 */
export function gapLines(r: ReportV1): string[] {
  const s = formatSeconds;
  const phases = Object.entries(r.phases).filter(([p]) => p !== 'end').sort((a, b) => a[1] - b[1]);
  const phaseAt = (t: number) => [...phases].reverse().find(([, at]) => at <= t)?.[0] ?? 'setup';
  return apiserverOutages(r.gaps).map((o) => `apiserver unreachable ${o.end === undefined ? `from t=${s(o.start)} until the end of the run` : `${s(o.end - o.start)} from t=${s(o.start)} to t=${s(o.end)}`} (${phaseAt(o.start)} phase; ${o.resources.length} watch${o.resources.length === 1 ? '' : 'es'}: ${o.resources.join(', ')}; ${o.error}): the timeline has no cluster data there, and recovery SLOs whose window overlaps it are not judged`);
}

export interface WrittenReport { dir: string; json: string; junit: string; md: string; html: string }

/** Writes the three files for one run into `dir`, and points `<root>/latest` at it. */
export function writeReportFiles(dir: string, report: ReportV1, redactor = new Redactor()): WrittenReport {
  fs.mkdirSync(dir, { recursive: true });
  const safe = redactor.value(report);
  const files = { dir, json: path.join(dir, 'report.json'), junit: path.join(dir, 'junit.xml'), md: path.join(dir, 'summary.md'), html: path.join(dir, 'report.html') };
  fs.writeFileSync(files.json, JSON.stringify(safe, null, 2) + '\n');
  fs.writeFileSync(files.junit, junitXml([safe]));
  fs.writeFileSync(files.md, summaryMd([safe]));
  fs.writeFileSync(files.html, reportHtml(safe));
  return files;
}

export function updateLatest(root: string, dir: string): void {
  const link = path.join(root, 'latest');
  try { fs.rmSync(link, { force: true, recursive: false }); } catch { /* a directory named latest: leave it */ }
  try { fs.symlinkSync(path.relative(root, dir), link); } catch { /* filesystems without symlinks: no latest */ }
}
