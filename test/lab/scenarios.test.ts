// The five scenarios end to end on the lab through `npm run chaos -- gate` (each scenario's four report
// files checked against each other, the terminal output, the schema and Chromium), a gate whose SLO
// cannot be met (exit 1, the SLO named), a stop condition (exit 3), invalid files (exit 2, nothing
// changed), and docker-kill on a lab whose nodes report docker.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { labDown, labUp } from '../../lab/cluster.js';
import { labPaths, REPO_ROOT } from '../../lab/paths.js';
import { ExitCode } from '../../harness/exit-codes.js';
import { formatMeasured } from '../../harness/slo/evaluate.js';
import type { ReportV1 } from '../../harness/report/index.js';
import { testLab, type TestLab } from '../support/lab.js';
import { changesSince, runCli, tempStateDir, type CliResult } from '../support/harness.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/scenarios');
const DOCKER_LAB = path.join(REPO_ROOT, '.lab-test-docker');
const FIVE = ['node-stop', 'kubelet-kill', 'kube-proxy-kill', 'docker-kill', 'az-outage'];
const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'harness/report/schema.json'), 'utf8')) as object;

async function runScenario(name: string, env: Record<string, string> = {}): Promise<{ r: CliResult; report?: ReportV1 }> {
  const reportDir = tempStateDir();
  const r = await runCli([name, '--state-dir', tempStateDir(), '--report-dir', reportDir, '--seed', '11'], env, 600_000);
  const file = path.join(reportDir, 'report.json');
  return { r, report: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ReportV1) : undefined };
}

type JunitDoc = { testsuites: { testsuite: JunitSuite | JunitSuite[] } };
type JunitSuite = { name: string; failures: string; testcase: JunitCase | JunitCase[] };
type JunitCase = { name: string; failure?: { message: string } };
const arr = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);
const parseJunit = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as JunitDoc;

/** The four files of one run agree with each other and with what the terminal printed. */
async function checkReportFiles(dir: string, stdout: string, page?: import('playwright-core').Page): Promise<ReportV1> {
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as ReportV1;
  const ajv = new Ajv({ allErrors: true, strict: true });
  expect(ajv.validate(schema, report), JSON.stringify(ajv.errors)).to.equal(true);
  const junit = fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8');
  expect(XMLValidator.validate(junit)).to.equal(true);
  const suite = arr(parseJunit(junit).testsuites.testsuite)[0];
  expect(suite.name).to.equal(report.scenario);
  expect(arr(suite.testcase).map((c) => c.name)).to.deep.equal(report.slos.map((s) => s.name));
  expect(arr(suite.testcase).filter((c) => c.failure).map((c) => c.name)).to.deep.equal(report.slos.filter((s) => s.judged && !s.pass).map((s) => s.name));
  const md = fs.readFileSync(path.join(dir, 'summary.md'), 'utf8');
  for (const s of report.slos) {
    const measured = formatMeasured(s);
    expect(md).to.contain(`| ${s.name} | \`${s.objective}\` | ${measured} | ${!s.judged ? '➖' : s.pass ? '✅' : '❌'} |`);
    expect(stdout).to.contain(!s.judged ? `NOT JUDGED  ${s.name}: ${s.objective} — ${s.detail}` : `${s.pass ? 'PASS' : 'FAIL'}  ${s.name}: ${s.objective} — measured ${measured}`);
  }
  // per-zone tables whenever the probes recorded addresses (issue 14 §2)
  for (const [name, p] of Object.entries(report.probes)) if (p.byZone?.length) expect(md).to.contain(`**Probe ${name} per zone**`);
  if (page) {
    await page.goto(`file://${path.join(dir, 'report.html')}`);
    await page.waitForFunction(() => Number(document.body.dataset.chartsDrawn) >= 2, undefined, { timeout: 10_000 });
    expect((await page.textContent('#verdict'))?.toLowerCase()).to.equal(report.verdict);
  }
  return report;
}

describe('scenarios end to end on the lab', function () {
  this.timeout(1_200_000);
  let lab: TestLab;
  before(() => { lab = testLab(); });

  describe('`chaos gate` (the five scenarios, one after the other)', function () {
    let dir: string;
    let r: CliResult;
    let browser: import('playwright-core').Browser;
    let page: import('playwright-core').Page;
    before(async function () {
      dir = tempStateDir();
      r = await runCli(['gate', '--state-dir', tempStateDir(), '--report-dir', dir, '--seed', '11'], {}, 1_100_000);
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
      page = await browser.newPage();
    });
    after(async () => { await browser?.close(); });

    it('exits 0 and says each scenario passed', () => {
      expect(r.code, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`).to.equal(ExitCode.Ok);
      expect(r.stdout).to.contain(`gate default: ${FIVE.map((n) => `${n} 0`).join(', ')} → exit 0`);
    });

    for (const name of FIVE) {
      it(`${name}: passes its SLOs, and its four report files agree with the terminal`, async () => {
        // the terminal printed each scenario's section; check its files against that section
        const at = r.stdout.indexOf(`scenario ${name}: `);
        expect(at, `no section for ${name} in the gate's output`).to.be.at.least(0);
        const section = r.stdout.slice(at);
        const rep = await checkReportFiles(path.join(dir, name), section.slice(0, section.indexOf('report:')), page);
        console.log(`      ${name}: ${rep.slos.map((s) => `${s.name} ${formatMeasured(s)}`).join(' · ')}`);
        expect(rep.verdict, `${name}: ${rep.slos.filter((s) => !s.pass).map((s) => `${s.name}: ${s.objective} — measured ${formatMeasured(s)}`).join('; ')}`).to.equal('pass');
      });
    }

    it('writes one combined junit.xml and summary.md, and marks the fault windows with Kubernetes Events', async () => {
      const combined = parseJunit(fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8'));
      expect(arr(combined.testsuites.testsuite).map((s) => s.name)).to.deep.equal(FIVE);
      expect(fs.readFileSync(path.join(dir, 'summary.md'), 'utf8')).to.contain('## Chaos gate `default`: PASS');
      const events = (await lab.kube.core.listEventForAllNamespaces({})).items.filter((e) => e.source?.component === 'k8s-chaos-harness');
      const reasons = new Set(events.map((e) => `${e.reason}/${e.involvedObject.kind}`));
      for (const want of ['ChaosFaultInjected/Node', 'ChaosFaultReverted/Node', 'ChaosFaultInjected/Deployment', 'ChaosFaultReverted/Deployment']) expect(reasons.has(want), want).to.equal(true);
    });
  });

  it('a gate with an unmeetable SLO exits 1 and names the breached SLO', async () => {
    const dir = tempStateDir();
    const r = await runCli(['gate', '--suites', path.join(REPO_ROOT, 'test/fixtures/suites.json'), '--suite', 'unmeetable', '--state-dir', tempStateDir(), '--report-dir', dir], {}, 300_000);
    expect(r.code, r.stdout + r.stderr).to.equal(ExitCode.SloBreached);
    expect(r.stdout).to.contain('FAIL  recovers in a blink: recovery < 1s — measured');
    expect(r.stdout).to.contain('PASS  demo mostly up');
    const rep = await checkReportFiles(path.join(dir, 'unmeetable'), r.stdout);
    expect(rep.verdict).to.equal('fail');
    const failed = arr(arr(parseJunit(fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8')).testsuites.testsuite)[0].testcase).filter((c) => c.failure);
    expect(failed.map((c) => c.name)).to.deep.equal(['recovers in a blink']);
    expect(failed[0].failure!.message).to.match(/^recovery < 1s — measured \d/);
  });

  it('a stop condition reverts at once and exits 3', async () => {
    const t0 = Date.now();
    const { r, report } = await runScenario(path.join(FIXTURES, 'abort.ts'));
    expect(r.code, r.stdout + r.stderr).to.equal(ExitCode.Aborted);
    expect(report!.verdict).to.equal('aborted');
    expect(r.stdout + r.stderr).to.match(/stop condition: demo availability \d+(\.\d)?% over 3s is below 99%/);
    expect(Date.now() - t0, 'well before the 2 minute fault ended').to.be.below(100_000);
  });

  it('invalid scenario files exit 2, name the file, line and field, and change nothing in the lab', async () => {
    const mark = Date.now();
    const cases: Array<[string, RegExp[]]> = [
      ['invalid-fields.ts', [/invalid-fields\.ts:6: fault\.duration: "-2m" is not a duration/, /invalid-fields\.ts:10: slos\.bad syntax: availability is a percentage.* at position 27/]],
      ['unknown-probe.ts', [/unknown-probe\.ts:9: slos\.tail latency: no probe named "nope" \(probes: demo\)/]],
      ['throws.ts', [/throws\.ts:4: the scenario file failed to load: Error: no zones configured/]],
      ['unexpanded.ts', [/probes\[0\]\.url: \$\{NO_SUCH_SERVICE_URL\} is not set/]],
      ['no-such-file.ts', [/does not exist/]],
    ];
    for (const [file, res] of cases) {
      const { r } = await runScenario(path.join(FIXTURES, file));
      expect(r.code, `${file}: ${r.stderr}`).to.equal(ExitCode.Invalid);
      for (const re of res) expect(r.stderr, file).to.match(re);
    }
    expect(changesSince(lab, mark), 'nothing changed in the world').to.deep.equal([]);
  });

  describe('on a lab whose nodes report docker (older AMIs)', () => {
    before(async function () {
      this.timeout(120_000);
      await labUp({ clusterName: 'chaos-lab-test-docker', nodesPerZone: 2, timing: 'fast', runtime: 'docker' }, () => {}, labPaths(DOCKER_LAB));
    });
    after(async () => {
      if (process.env.LAB_KEEP !== '1') await labDown(() => {}, labPaths(DOCKER_LAB));
    });

    it('docker-kill stops docker (what the nodes report) and passes its SLOs', async () => {
      const { r, report } = await runScenario('docker-kill', { LAB_DIR: DOCKER_LAB });
      expect(r.code, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-1500)}`).to.equal(ExitCode.Ok);
      expect(report!.verdict).to.equal('pass');
      expect(r.stderr).to.match(/chaos: verified: docker is inactive after systemctl stop/);
    });
  });
});
