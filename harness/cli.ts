#!/usr/bin/env node
// `chaos <command>` (`npm run chaos -- <command>` in this repository): the harness's command line.
// Start-up is kept light (`chaos --help` and `chaos list` under a second): the AWS SDK,
// @kubernetes/client-node, mocha, the faults, the reports and the lab are imported inside the
// commands that need them, never at the top of this file.
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ExitCode, HarnessError, invalid, worstExitCode } from './exit-codes.js';
import { describeIssues, Limits } from './faults/schema.js';
import { faults, type FaultRegistry, type FaultSpec } from './faults/registry.js';
import type { FaultContext } from './faults/index.js';
import type { RunLock } from './lock.js';
import { defaultTarget, resolveTarget, type ResolvedTarget } from './target.js';
import { loadProviders, providers } from './providers.js';
import { packageJson, projectDir, projectPaths, setProjectDir } from './project.js';
import { expandProbeUrls } from './scenario.js';
import { listScenarioFiles, loadScenario, SCENARIO_EXTENSIONS } from './scenario-load.js';
import type { RunStatus } from './runner.js';
import { formatDuration, formatMs, formatSeconds } from './duration.js';
import type { ReportV1 } from './report/index.js';
import { Redactor } from './report/redact.js';
import { formatMeasured } from './slo/evaluate.js';

// Everything printed passes through the redactor: no credential, token or signed URL reaches a log.
const redactor = new Redactor();
const output = { quiet: false, jsonLog: undefined as string | undefined, statusShown: false };
function clearStatus(): void {
  if (output.statusShown) { process.stderr.write('\r\x1b[2K'); output.statusShown = false; }
}
const log = (m: string, level: 'info' | 'error' = 'info') => {
  const line = redactor.text(m);
  if (output.jsonLog) fs.appendFileSync(output.jsonLog, JSON.stringify({ time: new Date().toISOString(), level, msg: line }) + '\n');
  if (output.quiet && level !== 'error') return;
  clearStatus();
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};
const out = (m = '') => { clearStatus(); process.stdout.write(redactor.text(`${m}\n`)); };

/** A compact live line on a terminal; a plain line every 10 s otherwise (CI logs). */
function statusPrinter(): (s: RunStatus) => void {
  let last = 0;
  return (s) => {
    const line = `${s.phase.padEnd(8)} ${formatDuration(s.elapsedMs).padStart(6)}  fault ${s.fault}  ${s.probes.map((p) => `${p.name} ${p.attempts ? ((p.ok * 100) / p.attempts).toFixed(1) : '—'}% of ${p.attempts}`).join(' ')}  ${s.workloads.map((w) => `${w.key} ${w.healthy}/${w.desired}`).join(' ')}  nodes ${s.nodesReady}/${s.nodes} Ready`;
    if (output.jsonLog) fs.appendFileSync(output.jsonLog, JSON.stringify({ time: new Date().toISOString(), level: 'status', ...s }) + '\n');
    if (output.quiet) return;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 200) - 1)}`);
      output.statusShown = true;
    } else if (s.elapsedMs - last >= 10_000) {
      last = s.elapsedMs;
      process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
    }
  };
}

interface Common { allowUnknownSelfZone?: boolean; target: string; context?: string; region?: string; yes?: boolean; dryRun?: boolean; seed?: number; stateDir?: string; config?: string; verbose?: boolean; quiet?: boolean; jsonLog?: string }

/** --state-dir, else CHAOS_STATE_DIR, else .chaos in the project directory */
const stateDirOf = (o: Common) => (o.stateDir ? path.resolve(o.stateDir) : projectPaths().state);

export function seedArg(v: string): number {
  // digits only: Number('') is 0, so an unset `--seed "$SEED"` would silently replay seed 0
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('must be an integer from 0 to 4294967295');
  return n;
}

function common(cmd: Command): Command {
  const kinds = providers().map((p) => p.kind);
  return cmd
    .addOption(new Option('--target <target>', `where to act: ${providers().map((p) => `${p.kind} (${p.description})`).join('; ')}`).choices(kinds).default(defaultTarget()))
    .option('--context <name>', 'kube context (must be allowed in chaos.targets.json)')
    .option('--region <region>', 'AWS region (must be allowed in chaos.targets.json)')
    .option('--yes', 'confirm acting on a real account (accepted, and not needed, for the lab)')
    .option('--dry-run', 'resolve targets, print the exact plan and check IAM permissions (EC2 DryRun); change nothing')
    .addOption(new Option('--seed <n>', 'random seed for choosing targets (printed on every run; replays a choice)').argParser(seedArg))
    .option('--state-dir <dir>', 'journals of runs (for recover) (default: $CHAOS_STATE_DIR, else .chaos/ in the project directory)')
    .option('--config <file>', 'target allow-lists (default: chaos.targets.json in the project directory)')
    .option('--verbose', 'print every AWS API call as it is made')
    .option('--quiet', 'print only the result (and errors)')
    .option('--json-log <file>', 'also append every log line and status as JSON lines to this file')
    .option('--allow-unknown-self-zone', 'aws: black-hole a zone even when the harness cannot tell its own zone (only when it runs outside the cluster\'s VPC: inside the zone it would cut off its own revert)');
}

export function newRunId(): string {
  return `chaos-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase()}-${randomBytes(3).toString('hex')}`;
}

/** STS GetCallerIdentity: the account must be an allowed one (exit 2 naming it); recorded in the guard for the journal. */
async function checkCallerAccount(t: ResolvedTarget): Promise<void> {
  const { checkAccount } = await import('./iam/account.js');
  const who = await t.aws.callerIdentity();
  checkAccount(who, t.guard.accounts);
  t.guard.account = who.account;
}

/** Where the credentials act, for the sweeps (recover.ts whereOf, loaded with the commands that sweep). */
const whereOf = async (t: ResolvedTarget) => (await import('./recover.js')).whereOf(t.guard);

export interface PreparedRun { t: ResolvedTarget; ctx: FaultContext; /** the run lock (not for a dry run); release it when the revert is over */ lock?: RunLock }

/** Target, run lock and safety lever, sweep (report-only: refuse while something is left), context. */
export async function prepare(o: Common, runId: string, maxDurationMs: number, workloads?: FaultContext['workloads']): Promise<PreparedRun> {
  output.quiet = !!o.quiet;
  output.jsonLog = o.jsonLog;
  const t = await resolveTarget({ target: o.target, context: o.context, region: o.region, yes: o.yes, config: o.config, log, startLab: true });
  const [{ formatSweep, sweep }, { acquireRunLock, readLever }, { whereAmI }, { expiryAt }] = await Promise.all([import('./recover.js'), import('./lock.js'), import('./self.js'), import('./faults/index.js')]);
  if (o.verbose) t.aws.onCall = (c) => log(`  api ${c.action}${c.dryRun ? ' (DryRun)' : ''} → ${c.ok ? 'ok' : c.error} ${c.ms.toFixed(0)}ms`);
  t.aws.retry.onRetry = ({ attempt, error, retriesLeft }) => log(`  retrying after ${error.name} (attempt ${attempt}, ${retriesLeft} left)`);
  // the account before anything: credentials for another account exit 2 here
  await checkCallerAccount(t);
  // one run at a time, and never while the safety lever is engaged (a dry run only checks the lever)
  let lock: RunLock | undefined;
  if (o.dryRun) {
    const lever = await readLever(t.kube);
    if (lever) throw invalid(`the safety lever is engaged (${lever.reason}; by ${lever.by} at ${lever.at}); release it with \`chaos stop --release\``);
  } else lock = await acquireRunLock(t.kube, { runId, log });
  try {
    const found = await sweep({ aws: t.aws, kube: t.kube, stateDir: stateDirOf(o), cluster: t.guard.cluster, act: false, log, where: await whereOf(t) });
    if (found.findings.length) {
      throw invalid('an earlier run left something behind; run `chaos recover` (npm run chaos -- recover) first', formatSweep(found, false));
    }
    const seed = o.seed ?? randomInt(0, 0xffffffff);
    const self = await whereAmI(t.kube, t.kind);
    if (self.node) log(`the harness runs on node ${self.node}${self.zone ? ` in ${self.zone}` : ''}: it is never chosen`);
    const ctx: FaultContext = {
      aws: t.aws, kube: t.kube, guard: t.guard, limits: Limits.parse({}), seed, runId,
      // provisional (dry runs print it); injectAndRevert sets the real expiry when it injects
      expiresAt: expiryAt(Date.now(), maxDurationMs),
      log, selfZone: self.zone, selfNode: self.node, workloads,
      unknownSelfZone: t.kind === 'aws' && !o.allowUnknownSelfZone ? 'refuse' : 'allow',
      nodeGracePeriodMs: t.nodeGracePeriodMs,
    };
    return { t, ctx, lock };
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

export function faultFromFlags(kind: string, f: Record<string, unknown>, registry: FaultRegistry = faults): FaultSpec {
  const raw: Record<string, unknown> = { kind };
  for (const fl of registry.list().flatMap((k) => k.flags)) {
    if (f[fl.field] === undefined || fl.field in raw) continue;
    raw[fl.field] = fl.parse === 'number' ? Number(f[fl.field]) : f[fl.field];
  }
  const r = registry.schema().safeParse(raw);
  if (!r.success) throw invalid(`invalid fault`, describeIssues(r.error, 'fault'));
  return r.data as FaultSpec;
}
export function addFaultCommands(parent: Command, registry: FaultRegistry = faults, run: (kind: string, flags: Record<string, unknown> & Common) => Promise<number> = runFaultCommand): Command {
  const fault = parent.command('fault')
    .description(`inject one fault (${registry.kinds().join(' | ')}), hold it for --duration, revert it; no SLOs`)
    .argument('[kind]')
    // a kind that is not registered is an input error naming fault.kind, as in a scenario file
    // (whatever flags follow it: they belong to no kind)
    .allowUnknownOption()
    .allowExcessArguments()
    .action((kind?: string) => { faultFromFlags(kind ?? '', { duration: '30s' }, registry); });
  for (const k of registry.list()) {
    const sub = common(fault.command(k.kind).description(k.doc.summary));
    for (const fl of k.flags) {
      const o = new Option(fl.flag, fl.help);
      if (fl.choices) o.choices(fl.choices);
      if (fl.default !== undefined) o.default(fl.default);
      sub.addOption(o);
    }
    sub.action(async (flags: Record<string, unknown> & Common) => { process.exitCode = await run(k.kind, flags); });
  }
  return fault;
}

async function runFaultCommand(kind: string, flags: Record<string, unknown> & Common): Promise<number> {
  const spec = faultFromFlags(kind, flags);
  const runId = newRunId();
  const { t, ctx, lock } = await prepare(flags, runId, spec.duration);
  try {
    return await runPreparedFault(t, ctx, spec, flags, lock);
  } finally {
    await lock?.release();
  }
}

/** What stops a run early: Ctrl-C / SIGTERM / SIGHUP, the safety lever, or losing the run lock. */
function runSignal(guard: { controller: AbortController }, lock?: RunLock): AbortSignal {
  return lock ? AbortSignal.any([guard.controller.signal, lock.signal]) : guard.controller.signal;
}

async function runPreparedFault(t: ResolvedTarget, ctx: FaultContext, spec: FaultSpec, flags: Common, lock?: RunLock): Promise<number> {
  const runId = ctx.runId;
  const { formatLeftovers, injectAndRevert, planFault, SignalGuard } = await import('./faults/index.js');
  log(`run ${runId} on ${t.kind} (context ${t.context}, cluster ${t.guard.cluster}, region ${t.guard.region}); seed ${ctx.seed} (--seed ${ctx.seed} replays this choice)`);
  const pf = await planFault(ctx, spec);
  const { plan } = pf;
  out(`plan: ${plan.summary}`);
  for (const l of plan.lines) out(`  - ${l}`);
  out('  API calls:');
  for (const c of plan.calls) out(`    ${c.when.padEnd(6)} ${c.action} ${c.resources.join(' ')}`);
  if (flags.dryRun) {
    for (const l of await pf.kind.checkPermissions(ctx, plan)) out(`  permission ${l}`);
    out('dry run: nothing was changed');
    return ExitCode.Ok;
  }
  const { recheckBeforeInject } = await import('./recover.js');
  await recheckBeforeInject({ aws: ctx.aws, kube: ctx.kube, stateDir: stateDirOf(flags), cluster: ctx.guard.cluster, log, where: await whereOf(t) });
  const guard = new SignalGuard(log).install();
  try {
    const r = await injectAndRevert(ctx, pf, { stateDir: stateDirOf(flags), target: t.kind, signal: runSignal(guard, lock) });
    for (const a of r.revert.actions) log(`reverted: ${a}`);
    if (r.revert.leftovers.length) for (const l of formatLeftovers(r.revert.leftovers)) out(l);
    if (r.error) log(`${r.aborted ? 'aborted' : 'error'}: ${r.error.message}${r.error instanceof HarnessError && r.error.details.length ? `\n  ${r.error.details.join('\n  ')}` : ''}`);
    out(`fault ${r.revert.leftovers.length ? 'NOT fully reverted' : 'reverted'}; journal ${r.journal}`);
    return r.exitCode;
  } finally {
    guard.settle();
  }
}

/** The command line; built after the target providers are loaded (their kinds and commands are in it). */
function buildProgram(): Command {
  const program = new Command('chaos')
    .description('Chaos harness for Kubernetes on AWS: injects node, daemon and zone faults and always reverts them.')
    .option('--project <dir>', 'the project directory: chaos.targets.json, scenarios/, reports/, .chaos/ and .lab/ (default: the current directory)')
    .version(packageJson().version)
    .showHelpAfterError()
    .exitOverride();
  program.hook('preAction', () => { setProjectDir(program.opts<{ project?: string }>().project); });

  addFaultCommands(program);

  common(program.command('recover')
    .description('revert everything earlier runs left (journals, harness-tagged ACLs and stopped instances) and say what was done'))
    .option('--force', 'also sweep harness resources of unknown runs that have not expired')
    .option('--report-only', 'only say what is left')
    .action(async (o: Common & { force?: boolean; reportOnly?: boolean }) => {
      const t = await resolveTarget({ target: o.target, context: o.context, region: o.region, yes: o.yes, config: o.config, log, startLab: false });
      const { formatSweep, sweep } = await import('./recover.js');
      if (o.verbose) t.aws.onCall = (c) => log(`  api ${c.action} → ${c.ok ? 'ok' : c.error}`);
      // recover acts only while it holds the run lock (sweep takes it, over a lock whose run is gone)
      await checkCallerAccount(t);
      {
        const r = await sweep({ aws: t.aws, kube: t.kube, stateDir: stateDirOf(o), cluster: t.guard.cluster, act: !o.reportOnly, force: o.force, log, where: await whereOf(t) });
        for (const l of formatSweep(r, !o.reportOnly)) out(l);
        process.exitCode = r.leftovers.length ? ExitCode.RevertIncomplete : ExitCode.Ok;
      }
    });

  const runCmd = common(program.command('run <scenario>', { isDefault: true })
    .description(`run a scenario: a name (scenarios/<name>.{${SCENARIO_EXTENSIONS.map((e) => e.slice(1)).join(',')}} in the project) or a file path: precheck, fault, recovery, SLO verdicts; \`chaos az-outage\``))
    .option('--report-dir <dir>', 'where to write the report (default reports/<scenario>-<UTC time>/ in the project directory)');
  runCmd.action(async (name: string, o: Common & { reportDir?: string }) => {
    process.exitCode = (await runScenarioCommand(name, o)).code;
  });

  common(program.command('gate')
    .description('run a suite of scenarios one after the other (stopping at the first revert failure); one combined summary.md and junit.xml; exits with the worst code'))
    .option('--suite <name>', 'a suite from the suites file', 'default')
    .option('--suites <file>', 'the suites file (scenario names or paths) (default: scenarios/suites.json in the project directory)')
    .option('--report-dir <dir>', 'where to write the combined reports (default reports/gate-<suite>-<UTC time>/)')
    .action(async (o: Common & { suite: string; suites?: string; reportDir?: string }) => {
      process.exitCode = await gateCommand({ ...o, suites: o.suites ?? projectPaths().suites });
    });

  common(program.command('stop')
    .description('the safety lever: every running harness on this cluster reverts at once and exits 3; new runs exit 2 until `chaos stop --release`'))
    .option('--reason <text>', 'why (shown to every run that stops or is refused)', 'stopped by hand')
    .option('--release', 'release the lever: runs may start again')
    .action(async (o: Common & { reason: string; release?: boolean }) => {
      const { engageLever, LEVER_POLL_MS, releaseLever } = await import('./lock.js');
      const t = await resolveTarget({ target: o.target, context: o.context, region: o.region, yes: true, config: o.config, log, startLab: false });
      if (o.release) {
        out((await releaseLever(t.kube)) ? `safety lever released on ${t.guard.cluster}: runs may start again` : `the safety lever was not engaged on ${t.guard.cluster}`);
        return;
      }
      await engageLever(t.kube, o.reason);
      out(`safety lever engaged on ${t.guard.cluster} (${o.reason}): running harnesses revert within ${2 * LEVER_POLL_MS / 1000} s and exit 3; new runs exit 2 until \`chaos stop --release\``);
    });

  common(program.command('status')
    .description('who holds the run lock, whether the safety lever is engaged, and what `recover` would find'))
    .action(async (o: Common) => {
      const t = await resolveTarget({ target: o.target, context: o.context, region: o.region, yes: true, config: o.config, log, startLab: false });
      const { harnessNamespace, readLever, readLock } = await import('./lock.js');
      const { formatSweep, sweep } = await import('./recover.js');
      const [{ state }, lever] = [await readLock(t.kube), await readLever(t.kube)];
      out(`cluster ${t.guard.cluster} (${t.kind}, context ${t.context}, namespace ${harnessNamespace()})`);
      out(`  run lock: ${state ? `${state.stale ? 'STALE (its run stopped renewing; `chaos recover` takes it over)' : 'held'} by run ${state.runId} (${state.holder}), renewed ${state.renewTime?.toISOString() ?? '?'}` : 'free'}`);
      out(`  safety lever: ${lever ? `ENGAGED (${lever.reason}; by ${lever.by} at ${lever.at}); release with \`chaos stop --release\`` : 'released'}`);
      const found = await sweep({ aws: t.aws, kube: t.kube, stateDir: stateDirOf(o), cluster: t.guard.cluster, act: false, log });
      out('  recover would find:');
      for (const l of formatSweep(found, false)) out(`    ${l}`);
    });

  program.command('list').description('list the scenario files of the project (scenarios/*.ts, *.yaml, *.yml, *.json) with their faults').action(async () => {
    const files = listScenarioFiles();
    if (!files.length) out(`no scenario files in ${projectPaths().scenarios} (\`chaos init\` writes one)`);
    const dup = new Set(files.filter((f, i) => files.findIndex((g) => g.name === f.name) !== i).map((f) => f.name));
    for (const { name, file } of files) {
      const label = `${name}${path.extname(file)}`.padEnd(24);
      if (dup.has(name)) { out(`${label} AMBIGUOUS: more than one file is named ${name}; run it by path (chaos run scenarios/${path.basename(file)})`); continue; }
      try {
        const s = await loadScenario(file);
        out(`${label} ${s.fault.kind.padEnd(13)} ${s.description}`);
      } catch (err) {
        const e = err as Error & { details?: string[] };
        out(`${label} INVALID: ${e.message}${e.details?.length ? `\n${' '.repeat(26)}${e.details.join(`\n${' '.repeat(26)}`)}` : ''}`);
      }
    }
  });

  program.command('init')
    .description('write a starter chaos.targets.json, scenarios/az-outage.yaml and .gitignore lines (reports/, .chaos/, .lab/) in the project directory; exit 2 when any exists')
    .option('--force', 'overwrite chaos.targets.json and scenarios/az-outage.yaml; append the missing lines to .gitignore')
    .action(async (o: { force?: boolean }) => {
      const { initProject } = await import('./init.js');
      const entries = providers().flatMap((p) => (p.starterEntry ? [p.starterEntry] : []));
      process.exitCode = initProject({ dir: projectDir(), force: o.force, entries, log: (m) => out(m) });
    });

  program.command('iam-policy')
    .description('print the least-privilege IAM policy the harness needs (the shared read-only statements plus each fault kind\'s)')
    .option('--cluster <name>', 'cluster name for the tag conditions', '${ClusterName}')
    .option('--vpc <id>', 'the cluster\'s VPC: subnets and network ACLs outside it are denied (recommended)')
    .option('--region <region>', 'pin the region (default: any)')
    .option('--account <id>', 'pin the account (default: any)')
    .option('--install-documents', 'also ssm:CreateDocument/UpdateDocument of the harness documents: for an admin role, never the run role')
    .action(async (o: { cluster: string; vpc?: string; region?: string; account?: string; installDocuments?: boolean }) => {
      const { iamPolicy, policyCaveats } = await import('./iam/index.js');
      const opts = { vpcId: o.vpc, region: o.region, account: o.account, installDocuments: o.installDocuments };
      let doc;
      try {
        doc = iamPolicy(o.cluster, opts);
      } catch (err) {
        throw invalid((err as Error).message);
      }
      out(JSON.stringify(doc, null, 2));
      for (const c of policyCaveats(opts)) log(`note: ${c}`);
    });

  common(program.command('install-documents')
    .description('create or update the harness\'s SSM documents in the account and region (needs an admin role: `chaos iam-policy --install-documents`); --dry-run says what would change'))
    .action(async (o: Common) => {
      const t = await resolveTarget({ target: o.target, context: o.context, region: o.region, yes: o.yes, config: o.config, log, startLab: false });
      for (const d of await t.aws.installDocuments({ dryRun: !!o.dryRun })) out(`${d.name}: ${d.action}${'version' in d && d.version ? ` (version ${String(d.version)})` : ''}`);
    });

  // commands the providers bring (the lab: `chaos lab up|down|status|…`), their arguments passed on as they are
  for (const p of providers()) {
    for (const c of p.commands ?? []) {
      program.command(c.name)
        .description(c.description)
        .argument('[args...]')
        .helpOption(false)
        .allowUnknownOption()
        .allowExcessArguments()
        .action(async (args: string[]) => {
          process.exitCode = await c.run(args, { projectDir: projectDir(), programName: `chaos ${c.name}` });
        });
    }
  }
  return program;
}

async function gateCommand(o: Common & { suite: string; suites: string; reportDir?: string }): Promise<number> {
  let suites: Record<string, string[] | string>;
  try {
    suites = JSON.parse(fs.readFileSync(o.suites, 'utf8')) as Record<string, string[] | string>;
  } catch (err) {
    throw invalid(`cannot read the suites file ${o.suites}: ${(err as Error).message}`);
  }
  const names = suites[o.suite];
  if (!Array.isArray(names)) throw invalid(`no suite "${o.suite}" in ${o.suites} (suites: ${Object.keys(suites).filter((k) => Array.isArray(suites[k])).join(', ')})`);
  const base = path.dirname(o.suites);
  // a name is a scenario of the project; a path (a slash or a scenario extension) is relative to the suites file
  const isPath = (n: string) => /[/\\]/.test(n) || SCENARIO_EXTENSIONS.some((e) => n.endsWith(e));
  const resolveName = (n: string) => (isPath(n) ? path.resolve(base, n) : n);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const { junitXml, summaryMd, updateLatest } = await import('./report/index.js');
  const root = projectPaths().reports;
  const dir = o.reportDir ?? path.join(root, `gate-${o.suite}-${stamp}`);
  const reports: ReportV1[] = [];
  const codes: Array<[string, number]> = [];
  for (const name of names) {
    log(`gate ${o.suite}: scenario ${codes.length + 1}/${names.length}: ${name}`);
    let code: number;
    try {
      const r = await runScenarioCommand(resolveName(name), { ...o, reportDir: path.join(dir, path.basename(name, path.extname(name))) });
      code = r.code;
      if (r.report) reports.push(r.report);
    } catch (err) {
      code = err instanceof HarnessError ? err.exitCode : ExitCode.Error;
      log(`${name}: ${(err as Error).message}`);
      if (err instanceof HarnessError) for (const x of err.details) log(`  ${x}`);
    }
    codes.push([name, code]);
    if (code === ExitCode.RevertIncomplete) { log(`gate stopped: ${name} could not revert completely`); break; }
  }
  fs.mkdirSync(dir, { recursive: true });
  const redacted = reports.map((r) => redactor.value(r));
  fs.writeFileSync(path.join(dir, 'junit.xml'), junitXml(redacted));
  fs.writeFileSync(path.join(dir, 'summary.md'), `## Chaos gate \`${o.suite}\`: ${codes.every(([, c]) => c === 0) ? 'PASS' : 'FAIL'}\n\n${codes.map(([n, c]) => `- ${c === 0 ? '✅' : '❌'} ${n}: exit ${c}`).join('\n')}\n\n${summaryMd(redacted)}`);
  if (!o.reportDir) updateLatest(root, dir);
  const worst = worstExitCode(codes.map(([, c]) => c));
  out('');
  out(`gate ${o.suite}: ${codes.map(([n, c]) => `${n} ${c}`).join(', ')} → exit ${worst}`);
  out(`  reports: ${path.relative(process.cwd(), dir)} (junit.xml, summary.md, one folder per scenario)`);
  return worst;
}

async function runScenarioCommand(name: string, o: Common & { reportDir?: string }): Promise<{ code: number; report?: ReportV1 }> {
  const loaded = await loadScenario(name);
  const runId = newRunId();
  const { t, ctx, lock } = await prepare(o, runId, loaded.fault.duration + loaded.recoveryTimeout, loaded.workloads);
  try {
    return await runPreparedScenario(loaded, t, ctx, o, lock);
  } finally {
    await lock?.release();
  }
}

async function runPreparedScenario(loaded: Awaited<ReturnType<typeof loadScenario>>, t: ResolvedTarget, ctx: FaultContext, o: Common & { reportDir?: string }, lock?: RunLock): Promise<{ code: number; report?: ReportV1 }> {
  const runId = ctx.runId;
  const s = expandProbeUrls(loaded, { ...process.env, ...t.env }, t.kind === 'lab');
  ctx.limits = s.limits;
  log(`run ${runId}: scenario ${s.name} on ${t.kind} (context ${t.context}, cluster ${t.guard.cluster}); seed ${ctx.seed} (--seed ${ctx.seed} replays this choice)`);
  const { formatLeftovers, planFault, SignalGuard } = await import('./faults/index.js');
  if (o.dryRun) {
    const { kind, plan } = await planFault(ctx, s.fault);
    out(`plan: ${plan.summary}`);
    for (const l of plan.lines) out(`  - ${l}`);
    for (const c of plan.calls) out(`    ${c.when.padEnd(6)} ${c.action} ${c.resources.join(' ')}`);
    for (const l of await kind.checkPermissions(ctx, plan)) out(`  permission ${l}`);
    out('dry run: nothing was changed');
    return { code: ExitCode.Ok };
  }
  const { runWithMocha } = await import('./runner.js');
  const { buildReport, updateLatest, writeReportFiles } = await import('./report/index.js');
  const guard = new SignalGuard(log).install();
  try {
    const r = await runWithMocha(s, { t, ctx, stateDir: stateDirOf(o), log, signal: runSignal(guard, lock), onStatus: statusPrinter(), redact: (x) => redactor.text(x) }, o.quiet ? 'dot' : 'spec');
    const root = projectPaths().reports;
    const dir = o.reportDir ?? path.join(root, `${s.name}-${r.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`);
    const report = buildReport(r, { description: s.description, target: { kind: t.kind, context: t.context, cluster: t.guard.cluster, region: t.guard.region } });
    const files = writeReportFiles(dir, report, redactor);
    if (!o.reportDir) updateLatest(root, dir);
    const file = files.json;
    out('');
    out(`scenario ${s.name}: ${r.verdict.toUpperCase()} (exit ${r.exitCode})`);
    if (r.fault?.verification) out(`  effect ${r.fault.verification.status}: ${r.fault.verification.detail.join('; ')}`);
    for (const v of r.verdicts) out(`  ${v.judged === false ? 'NOT JUDGED' : v.pass ? 'PASS' : 'FAIL'}  ${v.name}: ${v.objective} — ${v.judged === false ? v.detail : `measured ${formatMeasured(v)}`}`);
    for (const x of r.replacements ?? []) out(`  replacement of ${x.replaced} (NodePool ${x.pool}): ${x.by ? `${x.by} Ready${x.readyAfterMs !== undefined ? ` ${formatMs(x.readyAfterMs)} after the injection` : ''}` : 'none Ready'}`);
    for (const w of r.warnings) out(`  warning: ${w}`);
    for (const w of r.analysis?.workloads ?? []) out(`  workload ${w.workload}: detect ${formatMs(w.detectMs)}, reschedule ${formatMs(w.rescheduleMs)}, ready ${formatMs(w.readyMs)}, recovered ${formatMs(w.recoveryMs)}`);
    for (const [n, ph] of Object.entries(r.analysis?.probes ?? {})) out(`  probe ${n}: ${(['steady', 'fault', 'recovery'] as const).map((p) => `${p} ${ph[p].attempts ? `${ph[p].availability.toFixed(2)}% p99 ${ph[p].p99}ms` : '—'}`).join(', ')}; longest outage ${formatMs(ph.all.maxOutageMs)}`);
    for (const [n, zones] of Object.entries(r.analysis?.byZone ?? {})) for (const z of zones) out(`    zone ${z.zone} (${z.addrs.map((x) => x ?? 'unresolved').join(', ')}): ${z.stats.all.availability.toFixed(2)}% of ${z.stats.all.attempts}, fault ${z.stats.fault.attempts ? `${z.stats.fault.availability.toFixed(2)}%` : '—'}${z.firstFailure !== undefined ? `, failing t=${formatSeconds(z.firstFailure)}..${formatSeconds(z.lastFailure!)}` : ''}, last sent t=${formatSeconds(z.lastAttempt)}`);
    if (r.error) out(`  ${r.verdict}: ${r.error}${r.errorDetails?.length ? `\n    ${r.errorDetails.join('\n    ')}` : ''}`);
    if (r.fault?.revert.leftovers.length) for (const l of formatLeftovers(r.fault.revert.leftovers)) out(l);
    out(`  report: ${path.relative(process.cwd(), file)} (+ junit.xml, summary.md, report.html)`);
    return { code: r.exitCode, report };
  } finally {
    guard.settle();
    guard.uninstall();
  }
}


export async function main(argv: string[]): Promise<number> {
  try {
    await loadProviders();
    await buildProgram().parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return ExitCode.Invalid;
    if (err instanceof HarnessError) {
      log(`${err.exitCode === ExitCode.Invalid ? 'invalid' : 'error'}: ${err.message}`, 'error');
      for (const d of err.details) log(`  ${d}`, 'error');
      return err.exitCode;
    }
    const { explainAwsError } = await import('./aws/errors.js');
    const advice = explainAwsError(err);
    if (advice) { log(`error: ${advice}`, 'error'); return ExitCode.Error; }
    log(`error: ${e.stack ?? e.message}`, 'error');
    return ExitCode.Error;
  }
}

// run when this file is the program (`node dist/harness/cli.js`, tsx, or npx's node_modules/.bin/chaos symlink)
const invoked = (() => { try { return fs.realpathSync(process.argv[1] ?? ''); } catch { return ''; } })();
if (invoked === fileURLToPath(import.meta.url)) {
  void main(process.argv).then((code) => process.exit(code));
}

