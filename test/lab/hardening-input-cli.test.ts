// Hardening against bad input, layer 2: the real CLI against the lab (layer 1, in-process, is
// test/unit/hardening-input.test.ts). A fixed list of cases, two at a time: exit 2, the field or flag
// named, and nothing changed: no world change, no mutating AWS call (the lab's call log), no write by
// the harness in the apiserver audit log, no chaos Event, no journal.
import { expect } from 'chai';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { expandProbeUrls, loadScenario, ScenarioSchema, type Scenario } from '../../harness/scenario.js';
import { describeIssues } from '../../harness/faults/spec.js';
import { faultFromFlags, seedArg } from '../../harness/cli.js';
import { ExitCode, HarnessError } from '../../harness/exit-codes.js';
import { REPO_ROOT } from '../../lab/paths.js';
import { testLab, type TestLab } from '../support/lab.js';
import { labAws, type LabAws } from '../support/aws.js';
import { changesSince, runCli, tempStateDir, type CliResult } from '../support/harness.js';

// ---------------------------------------------------------------------------------------------
// Layer 2: the real CLI against the lab
// ---------------------------------------------------------------------------------------------

interface Case { name: string; args: string[]; file?: string; expect: RegExp[] }
interface Ran extends Case { r: CliResult; start: number; end: number; ms: number; stateDir: string }
interface AwsCall { time: string; service: string; action: string; status: number; dryRun?: boolean }
interface AuditEntry { verb: string; stage: string; userAgent?: string; requestURI: string; requestReceivedTimestamp: string; objectRef?: { resource?: string; name?: string } }

/** The control plane's own writers; anything else writing during a case is the harness. */
const SYSTEM_AGENTS = /^(kwok|kube-controller-manager|kube-scheduler|kube-apiserver)\//;
const READ_ONLY_ACTION = /^(Describe|Get|List)/;

/** Runs `fn` over `items`, at most `n` at a time, results in order. */
async function pool<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  }));
  return out;
}

const firstLine = (r: CliResult) => {
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.replace(/^\[chaos [\d:]+\] /, '').trim());
  const i = lines.findIndex((l) => /^(invalid|error):|^error: |invalid:/.test(l));
  if (i < 0) return lines.find(Boolean) ?? '';
  // "invalid: x: invalid scenario" is a header; the detail under it names the field
  return /invalid scenario$|invalid fault$|steady-state check failed/.test(lines[i]) && lines[i + 1] ? `${lines[i]} → ${lines[i + 1]}` : lines[i];
};
const shellWord = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`);

describe('hardening: bad input on the real CLI against the lab', function () {
  this.timeout(300_000);
  let lab: TestLab;
  let aws: LabAws;
  let dir: string;
  const ran: Ran[] = [];
  let wall = 0;

  const header = `import { defineScenario } from ${JSON.stringify(path.join(REPO_ROOT, 'harness/index.js'))};\n\n`;
  const scenario = (over: Record<string, string>) => {
    const f: Record<string, string> = {
      name: `'hardening-case'`, description: `'a hardening case'`, fault: `{ kind: 'node-stop', duration: '30s' }`,
      workloads: `[{ namespace: 'default', selector: 'app=demo' }]`, probes: `[{ name: 'demo', url: '\${LAB_SERVICE_URL}/', rate: 5, timeout: '1s' }]`,
      slos: `{ 'pods ready again': 'recovery < 5m' }`, steady: `'2s'`, ...over,
    };
    return `${header}export default defineScenario({\n${Object.entries(f).map(([k, v]) => `  ${k}: ${v},`).join('\n')}\n});\n`;
  };
  const cases = (): Case[] => {
    const files: Record<string, string> = {
      'unknown-kind.ts': scenario({ fault: `{ kind: 'teleport', duration: '30s' }` }),
      'negative-duration.ts': scenario({ fault: `{ kind: 'node-stop', duration: '-5s' }` }),
      'absurd-duration.ts': scenario({ fault: `{ kind: 'node-stop', duration: '999999h' }` }),
      'zone-not-in-region.ts': scenario({ fault: `{ kind: 'az-blackhole', zone: 'eu-west-1a', duration: '30s' }` }),
      'no-such-node.ts': scenario({ fault: `{ kind: 'node-stop', selector: 'nope=nothing', duration: '30s' }` }),
      'no-such-pods.ts': scenario({ workloads: `[{ namespace: 'default', selector: 'app=nope' }]` }),
      'slo-syntax.ts': scenario({ slos: `{ fast: 'recovery <' }` }),
      'unset-var.ts': scenario({ probes: `[{ name: 'demo', url: '\${UNSET_VAR_X}/', rate: 5 }]`, slos: `{ up: 'availability(demo) >= 90%' }`, env: `['UNSET_VAR_X']` }),
      'undeclared-var.ts': scenario({ probes: `[{ name: 'demo', url: '\${HOME}/', rate: 5 }]`, slos: `{ up: 'availability(demo) >= 90%' }` }),
      'bad-selector.ts': scenario({ fault: `{ kind: 'node-stop', selector: 'app in (', duration: '30s' }` }),
      'typo-key.ts': scenario({ stedy: `'2s'` }),
      'throws-at-import.ts': `${header}const zones: string[] = [];\nif (!zones.length) throw new Error('boom');\nexport default defineScenario({} as never);\n`,
      'syntax-error.ts': `${header}export default defineScenario({\n  name: 'x',\n  fault: { kind: 'node-stop', duration: '1m' \n});\n`,
    };
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    const file = (f: string, ...expect: RegExp[]): Case => ({ name: f, file: f, args: [path.join(dir, f), '--seed', '1', '--report-dir', path.join(dir, `report-${f}`)], expect });
    const flags = (...args: string[]) => (...expect: RegExp[]): Case => ({ name: args.map(shellWord).join(' '), args, expect });
    return [
      file('unknown-kind.ts', /unknown-kind\.ts:\d+: fault\.kind: Invalid discriminator value/),
      file('negative-duration.ts', /negative-duration\.ts:\d+: fault\.duration: "-5s" is not a duration/),
      file('absurd-duration.ts', /absurd-duration\.ts:\d+: fault\.duration: duration "999999h" is over the limit of 360 minutes/),
      file('zone-not-in-region.ts', /az-blackhole: zone eu-west-1a is not in the target region us-east-1/),
      file('no-such-node.ts', /fault: no Ready node matches selector "nope=nothing"/),
      file('no-such-pods.ts', /workloads\[0\]\.selector: no Deployment in namespace default has pods matching "app=nope"/),
      file('slo-syntax.ts', /slo-syntax\.ts:\d+: slos\.fast: expected a number at position 11 of "recovery <"/),
      file('unset-var.ts', /probes\[0\]\.url: \$\{UNSET_VAR_X\} is not set/),
      file('undeclared-var.ts', /probes\[0\]\.url: \$\{HOME\} is not allowed/),
      file('bad-selector.ts', /bad-selector\.ts:\d+: fault\.selector: not a Kubernetes label selector/),
      file('typo-key.ts', /typo-key\.ts(:\d+)?: \(root\): Unrecognized key: "stedy"/),
      file('throws-at-import.ts', /throws-at-import\.ts:4: the scenario file failed to load: Error: boom/),
      file('syntax-error.ts', /syntax-error\.ts:\d+: the scenario file failed to load: /),
      flags('fault', 'node-stop', '--count', '-1')(/fault\.count: Too small/),
      flags('fault', 'node-stop', '--percent', '300')(/fault\.percent: Too big/),
      flags('fault', 'node-stop', '--duration', '-5s')(/fault\.duration: "-5s" is not a duration/),
      flags('fault', 'node-stop', '--duration', '10years')(/fault\.duration: "10years" is not a duration/),
      flags('fault', 'teleport')(/fault\.kind: Invalid discriminator value/),
      flags('fault', 'az-blackhole', '--zone', 'eu-west-1a')(/az-blackhole: zone eu-west-1a is not in the target region us-east-1/),
      flags('fault', 'node-stop', '--seed', 'abc')(/option '--seed <n>' argument 'abc' is invalid/),
      flags('fault', 'node-stop', '--seed', '')(/option '--seed <n>' argument '' is invalid/),
      flags('fault', 'node-stop', '--colour', 'red')(/unknown option '--colour'/),
      flags('fault', 'node-stop', '--selector', '${NODE_SELECTOR}')(/fault\.selector: not a Kubernetes label selector/),
      flags('fault', 'daemon-kill', '--daemon', 'sshd')(/option '--daemon <daemon>' argument 'sshd' is invalid/),
      flags('fault', 'node-stop', '--count', '2', '--percent', '50')(/fault: give either count or percent/),
    ];
  };

  before(async function () {
    if (process.env.SKIP_LAB === '1') this.skip();
    lab = testLab();
    aws = labAws(lab);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-hardening-cli-'));
    const t0 = Date.now();
    // two cases at a time: each its own harness namespace, so their run locks do not meet
    const all = cases();
    const nsOf = (c: Case) => `chaos-hardening-${all.indexOf(c)}`;
    for (const c of all) await lab.kube.core.createNamespace({ body: { metadata: { name: nsOf(c) } } }).catch(() => {});
    ran.push(...(await pool(all, 2, async (c) => {
      const stateDir = tempStateDir();
      const start = Date.now();
      const r = await runCli([...c.args, '--state-dir', stateDir], { CHAOS_NAMESPACE: nsOf(c) }, 60_000);
      const end = Date.now();
      return { ...c, r, start, end: end + 50, ms: end - start, stateDir };
    })));
    wall = Date.now() - t0;
  });

  after(() => {
    if (!ran.length) return;
    const w = Math.min(60, Math.max(...ran.map((x) => x.name.length)));
    const tmpRel = `${path.relative(REPO_ROOT, dir)}/`;
    console.log(`\n      ${'input'.padEnd(w)}  exit  ${'s'.padStart(4)}  first line of the message (scenario files in ${dir})`);
    for (const x of ran) console.log(`      ${x.name.slice(0, w).padEnd(w)}  ${String(x.r.code).padStart(4)}  ${(x.ms / 1000).toFixed(1).padStart(4)}  ${firstLine(x.r).split(tmpRel).join('').slice(0, 160)}`);
    console.log(`      ${ran.length} CLI runs, two at a time: ${(wall / 1000).toFixed(1)} s`);
    for (const d of [dir, ...ran.map((x) => x.stateDir)]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('every case exits 2 and names the field or flag', () => {
    const bad = ran.flatMap((x) => {
      const all = `${x.r.stdout}\n${x.r.stderr}`;
      const why = [
        ...(x.r.code === ExitCode.Invalid ? [] : [`exit ${x.r.code}${x.r.signal ? ` (${x.r.signal})` : ''}`]),
        ...x.expect.filter((re) => !re.test(all)).map((re) => `no ${re}`),
      ];
      return why.length ? [`${x.name}: ${why.join(', ')}\n${x.r.stderr.slice(-1500)}\n${x.r.stdout.slice(-800)}`] : [];
    });
    expect(bad, bad.join('\n\n')).to.deep.equal([]);
  });

  it('nothing reached AWS or Kubernetes: no world change, no mutating AWS call, no harness write or Event, no journal', async () => {
    const mark = Math.min(...ran.map((x) => x.start));
    const during = (iso: string) => { const t = Date.parse(iso); return ran.filter((x) => t >= x.start && t <= x.end).map((x) => x.name); };
    // the lab's world log: every change an AWS caller caused
    expect(changesSince(lab, mark), 'world changes').to.deep.equal([]);
    // the lab's AWS call log: reads only (Describe*/Get*/List*), not even a DryRun of a change
    const calls = (await aws.control('GET', 'calls')) as AwsCall[];
    const inCases = calls.filter((c) => during(c.time).length);
    const mutating = inCases.filter((c) => !READ_ONLY_ACTION.test(c.action)).map((c) => `${c.time} ${c.service}:${c.action}${c.dryRun ? ' (DryRun)' : ''} during ${during(c.time).join(' | ')}`);
    expect(mutating, 'mutating AWS calls').to.deep.equal([]);
    // some cases only fail after reading the cluster and the account: those reads are allowed
    expect(inCases.length, 'the lab saw the read-only calls of the plan-time cases').to.be.greaterThan(0);
    // the apiserver audit log (writes to nodes, pods, their status, evictions, EndpointSlices): none by the harness
    const audit = fs.readFileSync(lab.paths.audit, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry);
    expect(audit.length, 'the audit log records writes').to.be.greaterThan(0);
    const writes = audit.filter((a) => ['create', 'update', 'patch', 'delete'].includes(a.verb) && during(a.requestReceivedTimestamp).length && !SYSTEM_AGENTS.test(a.userAgent ?? ''));
    expect(writes.map((a) => `${a.requestReceivedTimestamp} ${a.verb} ${a.requestURI} by ${a.userAgent} during ${during(a.requestReceivedTimestamp).join(' | ')}`), 'harness writes in the audit log').to.deep.equal([]);
    // Events are not in the audit policy: list them instead
    const events = (await lab.kube.core.listEventForAllNamespaces({})).items.filter((e) => e.source?.component === 'k8s-chaos-harness' || /^ChaosFault/.test(e.reason ?? ''));
    const fresh = events.filter((e) => (e.metadata?.creationTimestamp ? new Date(e.metadata.creationTimestamp).getTime() : 0) >= mark - 1000);
    expect(fresh.map((e) => `${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}`), 'chaos Events').to.deep.equal([]);
    // and nothing was journaled: no intent to change anything was ever written
    const journals = ran.flatMap((x) => (fs.existsSync(path.join(x.stateDir, 'journal')) ? fs.readdirSync(path.join(x.stateDir, 'journal')).map((f) => `${x.name}: ${f}`) : []));
    expect(journals, 'journals').to.deep.equal([]);
  });
});
