// The five scenarios end to end on the lab through `npm run chaos -- <scenario>`, plus a scenario
// whose SLO cannot be met (exit 1, the SLO named) and invalid files (exit 2, nothing changed).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { labDown, labUp } from '../lab/cluster.js';
import { labPaths, REPO_ROOT } from '../lab/paths.js';
import { ExitCode } from '../harness/exit-codes.js';
import { testLab, type TestLab } from './support/lab.js';
import { runCli, tempStateDir, type CliResult } from './support/harness.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/scenarios');
const DOCKER_LAB = path.join(REPO_ROOT, '.lab-test-docker');

interface Report { verdict: string; exitCode: number; slos: Array<{ name: string; pass: boolean; measured: number | null }>; faults: Array<{ kind: string; injectedAt: string; revertedAt: string }> }

async function runScenario(name: string, env: Record<string, string> = {}): Promise<{ r: CliResult; report?: Report }> {
  const reportDir = tempStateDir();
  const r = await runCli([name, '--state-dir', tempStateDir(), '--report-dir', reportDir, '--seed', '11'], env, 600_000);
  const file = path.join(reportDir, 'report.json');
  return { r, report: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Report) : undefined };
}

function expectPass(name: string, { r, report }: { r: CliResult; report?: Report }): void {
  const tail = `${r.stdout.slice(-2500)}\n${r.stderr.slice(-1500)}`;
  expect(r.code, `${name}:\n${tail}`).to.equal(ExitCode.Ok);
  expect(report?.verdict, tail).to.equal('pass');
  for (const s of report!.slos) expect(r.stdout).to.contain(`PASS  ${s.name}`);
  expect(r.stdout).to.match(/measured \d/);
  console.log(r.stdout.split('\n').filter((l) => /^\s+(PASS|FAIL)|workload|probe /.test(l)).map((l) => `      ${l.trim()}`).join('\n'));
}

describe('scenarios end to end on the lab', function () {
  this.timeout(900_000);
  let lab: TestLab;
  before(() => { lab = testLab(); });

  for (const name of ['node-stop', 'kubelet-kill', 'kube-proxy-kill', 'docker-kill', 'az-outage']) {
    it(`${name} passes its SLOs`, async () => {
      expectPass(name, await runScenario(name));
    });
  }

  it('a scenario whose SLO cannot be met exits 1 and names the breached SLO', async () => {
    const { r, report } = await runScenario(path.join(FIXTURES, 'unmeetable.ts'));
    expect(r.code, r.stdout + r.stderr).to.equal(ExitCode.SloBreached);
    expect(report!.verdict).to.equal('fail');
    expect(r.stdout).to.contain('FAIL  recovers in a blink: recovery < 1s — measured');
    expect(r.stdout).to.contain('PASS  demo mostly up');
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
    const before = fs.readFileSync(lab.paths.world, 'utf8').length;
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
    expect(fs.readFileSync(lab.paths.world, 'utf8').length, 'world log unchanged').to.equal(before);
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
      const res = await runScenario('docker-kill', { LAB_DIR: DOCKER_LAB });
      expectPass('docker-kill (docker)', res);
      const journalLine = res.r.stderr.split('\n').find((l) => /chaos: docker stopped/.test(l));
      expect(journalLine, res.r.stderr.slice(-2000)).to.not.equal(undefined);
    });
  });
});
