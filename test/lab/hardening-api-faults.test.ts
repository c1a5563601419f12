// Hardening against API faults: (a) every fault kind the five scenarios use, with the lab answering
// EC2, SSM and Auto Scaling with throttling, 5xx and latency for the whole run (revert included),
// still reverts completely; (b) a scenario run during which kube-apiserver is stopped for 30 s
// completes, reverts, and its report marks the gap (and does not pass recovery measured across it).
// HARDENING_FULL=1 adds the long variants: more fault modes under API faults, and the outage run for
// node-stop and az-blackhole too (several minutes).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiserverStart, apiserverStop } from '../../lab/cluster.js';
import { REPO_ROOT } from '../../lab/paths.js';
import { ExitCode } from '../../harness/exit-codes.js';
import { Journal } from '../../harness/journal.js';
import { gapLines, type ReportV1 } from '../../harness/report/index.js';
import { apiserverOutages, judgeGaps } from '../../harness/slo/gaps.js';
import { analyze } from '../../harness/slo/analyze.js';
import { evaluate } from '../../harness/slo/evaluate.js';
import type { TimelineEvent } from '../../harness/timeline.js';
import type { ResolvedTarget } from '../../harness/target.js';
import { eventually, testLab, TEST_LAB_DIR, type TestLab } from '../support/lab.js';
import { labAws, type LabAws } from '../support/aws.js';
import { harnessTarget, leftovers, runCli, tempStateDir } from '../support/harness.js';
import { scripted } from '../support/timelines.js';

const FULL = process.env.HARDENING_FULL === '1';
const THROTTLED = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);
const SERVER_ERRORS = new Set(['InternalError', 'InternalFailure', 'InternalServerError']);

/** Throttling, 5xx and 200 ms of latency, each on 30 % of the calls to each service. */
const API_FAULTS = (['ec2', 'ssm', 'autoscaling'] as const).flatMap((service) => [
  { service, action: '*', kind: 'throttle', probability: 0.3 },
  { service, action: '*', kind: '5xx', probability: 0.3 },
  { service, action: '*', kind: 'latency', latencyMs: 200, probability: 0.3 },
]);

interface LabCall { time: string; service: string; action: string; status: number; error?: string }

describe('hardening: SLOs across an apiserver gap (pure)', () => {
  // scripted(): injected at 10 s, replacements Ready at 26 s (recovery 16 s), revert at 70 s, n1 Ready at 75 s.
  const SLOS = { rec: 'recovery < 1m', nodes: 'node-recovery < 30s', avail: 'availability(demo) >= 90%' };
  const judge = (gaps: Array<[number, number | undefined]>) => {
    const tl = scripted();
    for (const [i, [start, end]] of gaps.entries()) {
      for (const resource of ['nodes', 'pods w']) tl.events.push({ t: start * 1000 + i * 300, type: 'gap', resource, error: 'connect ECONNREFUSED', ...(end === undefined ? {} : { end: end * 1000 }) } as TimelineEvent);
    }
    const a = analyze(tl, { settleMs: 10_000 });
    return Object.fromEntries(judgeGaps(evaluate(SLOS, a), a, 10_000).map((v) => [v.name, v]));
  };

  it('does not pass recovery or node-recovery whose window overlaps a gap; probe SLOs and gaps elsewhere change nothing', () => {
    const clean = judge([]);
    expect(Object.values(clean).map((v) => v.pass)).to.deep.equal([true, true, true]);
    expect(judge([[2, 6], [50, 60]])).to.deep.equal(clean);
    const inFault = judge([[15, 45]]);
    expect(inFault.rec).to.include({ pass: false, measured: null });
    expect(inFault.rec.detail).to.match(/^not judged: apiserver unreachable 30\.0 s from t=15\.0 s overlaps .*as observed: 16\.0s/);
    expect(inFault.nodes).to.deep.equal(clean.nodes);
    expect(inFault.avail).to.deep.equal(clean.avail);
    const atRevert = judge([[68, 72]]);
    expect(atRevert.rec).to.deep.equal(clean.rec);
    expect(atRevert.nodes).to.include({ pass: false, measured: null });
    const open = judge([[73, undefined]]);
    expect(open.nodes.detail).to.match(/from t=73\.0 s to the end of the run/);
  });

  it('merges the watches\' gaps into outages and words them for summary.md and report.html', () => {
    const gaps = [
      { resource: 'nodes', start: 10_000, end: 40_000, error: 'Premature close' },
      { resource: 'pods w', start: 10_400, end: 41_500, error: 'connect ECONNREFUSED' },
      { resource: 'nodes', start: 80_000, error: 'connect ECONNREFUSED' },
    ];
    expect(apiserverOutages(gaps)).to.deep.equal([
      { start: 10_000, end: 41_500, resources: ['nodes', 'pods w'], error: 'Premature close' },
      { start: 80_000, resources: ['nodes'], error: 'connect ECONNREFUSED' },
    ]);
    const lines = gapLines({ gaps, phases: { steady: 0, fault: 5000, recovery: 60_000, end: 90_000 } } as unknown as ReportV1);
    expect(lines[0]).to.match(/^apiserver unreachable 31\.5 s from t=10\.0 s to t=41\.5 s \(fault phase; 2 watches: nodes, pods w; Premature close\)/);
    expect(lines[1]).to.match(/^apiserver unreachable from t=80\.0 s until the end of the run \(recovery phase; 1 watch: nodes/);
  });
});

describe('hardening: API faults', function () {
  this.timeout(FULL ? 1_200_000 : 240_000);
  let lab: TestLab;
  let aws: LabAws;
  let t: ResolvedTarget;

  before(async () => {
    lab = testLab();
    aws = labAws(lab);
    t = await harnessTarget();
  });

  // Never leave the shared test lab broken: faults off, apiserver up, every node Ready, demo available.
  after(async function () {
    this.timeout(240_000);
    if (!lab) return;
    await aws?.control('DELETE', 'faults').catch(() => {});
    await apiserverStart(lab.paths);
    await allReady(120_000);
    await eventually('demo Deployment available', 120_000, async () => {
      const d = await lab.kube.apps.readNamespacedDeployment({ name: 'demo', namespace: 'default' });
      return (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1) || undefined;
    }, 500);
  });

  async function allReady(timeoutMs = 90_000): Promise<void> {
    await eventually('all nodes Ready', timeoutMs, async () => (await lab.kube.core.listNode()).items.every((x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) || undefined, 500);
  }

  async function callsSince(mark: number): Promise<LabCall[]> {
    return ((await aws.control('GET', 'calls')) as LabCall[]).filter((c) => Date.parse(c.time) >= mark);
  }

  describe('(a) throttling, 5xx and latency on EC2, SSM and Auto Scaling for the whole run, revert included', () => {
    const injected = { throttle: new Set<string>(), server: new Set<string>() };
    // Auto Scaling sees three calls a run (node-stop only): one throttled and one 5xx answer on top, for sure.
    const cases: Array<[string, string[], object[]?]> = [
      ['node-stop', ['fault', 'node-stop', '--zone', 'us-east-1a'], [
        { service: 'autoscaling', action: 'SuspendProcesses', kind: 'throttle', count: 1 },
        { service: 'autoscaling', action: 'ResumeProcesses', kind: '5xx', count: 1 },
      ]],
      ['daemon-kill kubelet', ['fault', 'daemon-kill', '--daemon', 'kubelet', '--zone', 'us-east-1b']],
      ['daemon-kill kube-proxy', ['fault', 'daemon-kill', '--daemon', 'kube-proxy', '--zone', 'us-east-1c']],
      ['daemon-kill runtime', ['fault', 'daemon-kill', '--daemon', 'runtime', '--zone', 'us-east-1a']],
      ['az-blackhole', ['fault', 'az-blackhole', '--zone', 'us-east-1b']],
      ...(FULL ? [
        ['daemon-kill kubelet --mode kill', ['fault', 'daemon-kill', '--daemon', 'kubelet', '--mode', 'kill', '--zone', 'us-east-1a']],
        ['az-blackhole --scope zone', ['fault', 'az-blackhole', '--zone', 'us-east-1c', '--scope', 'zone']],
      ] as Array<[string, string[]]> : []),
    ];

    for (const [name, args, extra] of cases) {
      // pending the harness's kube-proxy freeze (issue 13): kube-proxy is no longer a systemd unit on lab
      // nodes and AL2023 has no crictl, so today's daemon-kill documents exit 3 for it
      const test = name === 'daemon-kill kube-proxy' ? it.skip : it;
      test(`${name}: reverted completely, journal closed, exit 0`, async () => {
        await allReady();
        const dir = tempStateDir();
        const mark = Date.now();
        await aws.control('POST', 'faults', [...(extra ?? []), ...API_FAULTS]);
        let r;
        try {
          r = await runCli([...args, '--duration', FULL ? '20s' : '3s', '--state-dir', dir], {}, 300_000);
        } finally {
          await aws.control('DELETE', 'faults');
        }
        const calls = await callsSince(mark);
        const hit = calls.filter((c) => c.error && (THROTTLED.has(c.error) || SERVER_ERRORS.has(c.error)));
        for (const c of hit) (THROTTLED.has(c.error!) ? injected.throttle : injected.server).add(c.service);
        console.log(`      ${calls.length} AWS calls, ${hit.length} answered with throttling/5xx, ${(r.stderr.match(/retrying after/g) ?? []).length} retries; the CLI ran ${((Date.now() - mark) / 1000).toFixed(1)} s, exit ${r.code}`);
        expect(hit.length, 'the lab injected errors into this run').to.be.at.least(1);
        expect(r.stderr, 'the harness retried').to.contain('retrying after');
        // 30 % of calls fail, but 15 retries a call and three revert passes make a leftover a
        // (1 − 0.3^16)-unlikely event: the run must inject, revert completely and exit 0.
        expect(r.code, `${name}: exit ${r.code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`).to.equal(ExitCode.Ok);
        const left = await leftovers(aws, t);
        expect(left, `${name}: nothing left`).to.deep.equal([]);
        const file = /journal (\S+\.jsonl)/.exec(r.stdout)?.[1];
        expect(file, r.stdout).to.be.a('string');
        const j = Journal.open(file!);
        expect(j.closed, `journal ${file} is closed`).to.equal(true);
      });
    }

    it('the errors hit every service: throttling and 5xx on EC2, SSM and Auto Scaling', () => {
      expect([...injected.throttle].sort(), 'throttled').to.deep.equal(['autoscaling', 'ec2', 'ssm']);
      expect([...injected.server].sort(), '5xx').to.deep.equal(['autoscaling', 'ec2', 'ssm']);
    });
  });

  describe('(b) kube-apiserver stopped for 30 s in the middle of a fault', () => {
    const kinds: Array<[string, Record<string, unknown>]> = [
      ['daemon-kill', { kind: 'daemon-kill', daemon: 'kubelet', zone: 'us-east-1c', duration: '45s' }],
      ...(FULL ? [
        ['node-stop', { kind: 'node-stop', zone: 'us-east-1b', duration: '45s' }],
        ['az-blackhole', { kind: 'az-blackhole', zone: 'us-east-1a', duration: '45s' }],
      ] as Array<[string, Record<string, unknown>]> : []),
    ];
    for (const [kind, fault] of kinds) {
      it(`${kind}: the run completes, reverts, and the report marks the gap; recovery across it is not judged`, async function () {
        this.timeout(300_000);
        await allReady();
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-hardening-'));
        const file = path.join(tmp, `apiserver-outage-${kind}.ts`);
        fs.writeFileSync(file, `export default ${JSON.stringify({
          name: `apiserver-outage-${kind}`,
          description: `${kind} while kube-apiserver is down for 30 s`,
          fault,
          workloads: [{ namespace: 'default', selector: 'app=demo' }],
          probes: [{ name: 'demo', url: '${LAB_SERVICE_URL}/', rate: 20, timeout: '2s' }],
          slos: { 'pods ready again': 'recovery < 3m', 'nodes back': 'node-recovery < 2m', 'demo availability': 'availability(demo) >= 50%' },
          steady: '5s', settle: '5s', recoveryTimeout: '2m',
        }, null, 2)};\n`);
        const reportDir = path.join(tmp, 'report');
        const stateDir = tempStateDir();
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'harness/cli.ts'), file, '--report-dir', reportDir, '--state-dir', stateDir], {
          cwd: REPO_ROOT, env: { ...process.env, LAB_DIR: TEST_LAB_DIR }, stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
        const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
        let stoppedAt = 0;
        let startedAt = 0;
        try {
          const mark = Date.now();
          const caused = /^(daemon\.stopped|instance\.state|acl\.association\.replaced)$/;
          await eventually('the fault injected', 90_000, async () => (child.exitCode !== null ? Promise.reject(new Error(`the run exited ${child.exitCode}: ${err.slice(-2000)}`))
            : lab.world.read().some((e) => Date.parse(e.time) >= mark && caused.test(e.event)) || undefined), 200);
          await new Promise((r) => setTimeout(r, 3000));
          expect(await apiserverStop(lab.paths)).to.equal(true);
          stoppedAt = Date.now();
          await new Promise((r) => setTimeout(r, 30_000));
          startedAt = Date.now();
          await apiserverStart(lab.paths);
        } finally {
          if (!startedAt) await apiserverStart(lab.paths);
        }
        const code = await closed;
        const outage = (startedAt - stoppedAt) / 1000;
        console.log(`      apiserver down ${outage.toFixed(1)} s (+ /readyz); run exit ${code}`);
        expect(code, `exit ${code}\n${out}\n${err.slice(-3000)}`).to.not.be.oneOf([ExitCode.Error, ExitCode.RevertIncomplete, null]);
        expect(await leftovers(aws, t), 'nothing left').to.deep.equal([]);
        expect(err).to.contain('apiserver unreachable: the cluster timeline has a gap').and.match(/apiserver reachable again after \d+(\.\d)?s/);

        const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'report.json'), 'utf8')) as ReportV1;
        const sec = (ms: number | undefined) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);
        const notReady = report.timeline.events.filter((e) => e.type === 'node' && !e.ready && e.t > (report.phases.fault ?? 0)).length;
        console.log(`      gaps ${report.gaps.map((g) => sec((g.end ?? NaN) - g.start)).join(', ')}; fault ${sec((report.phases.recovery ?? 0) - (report.phases.fault ?? 0))}, recovery phase ${sec((report.phases.end ?? 0) - (report.phases.recovery ?? 0))}; ${notReady} node NotReady transitions after injection; nodes back ${sec(report.nodeRecoveryMs ?? undefined)} after the revert`);
        expect(report.faults[0].leftovers).to.deep.equal([]);
        expect(report.faults[0].revertedAt).to.be.a('string');
        const resources = ['nodes', 'pods default/app=demo', 'deployments default', 'endpointslices default'];
        expect(report.gaps.map((g) => g.resource).sort(), 'one gap per watched resource').to.deep.equal([...resources].sort());
        for (const g of report.gaps) {
          expect(g.end, `${g.resource}: the gap ended`).to.be.a('number');
          expect((g.end! - g.start) / 1000, `${g.resource}: gap length`).to.be.within(25, outage + 20);
        }
        // The decision (README, Reports): recovery measured across the gap is not judged, so it does not pass.
        const rec = report.slos.find((s) => s.name === 'pods ready again')!;
        expect(rec.pass).to.equal(false);
        expect(rec.measured).to.equal(null);
        expect(rec.detail).to.match(/^not judged: apiserver unreachable \d+\.\d s from t=/);
        // Probe SLOs do not depend on the apiserver and are judged as usual.
        const avail = report.slos.find((s) => s.name === 'demo availability')!;
        expect(avail.measured).to.be.a('number');
        expect(avail.detail).to.not.contain('not judged');
        expect(code).to.equal(ExitCode.SloBreached);
        expect(report.verdict).to.equal('fail');

        const md = fs.readFileSync(path.join(reportDir, 'summary.md'), 'utf8');
        expect(md).to.match(/apiserver unreachable \d+\.\d s from t=\d+\.\d s to t=\d+\.\d s \(fault phase; 4 watches/);
        const html = fs.readFileSync(path.join(reportDir, 'report.html'), 'utf8');
        expect(html).to.match(/<p class="gap">⚠ apiserver unreachable \d+\.\d s from t=/);
        expect(html).to.match(/"gaps":\[\{"start":\d+(\.\d+)?,"end":\d+(\.\d+)?\}\]/);
        fs.rmSync(tmp, { recursive: true, force: true });
      });
    }
  });
});
