// The installable package: `npm pack` (prepack builds dist/), the tarball installed into an empty
// directory, then, there, `npx chaos init`, `npx chaos list`, `npx chaos az-outage --dry-run` against
// the running test lab (LAB_DIR points at it; the starter chaos.targets.json gains its context, as a
// user would add theirs), `npx chaos lab status`, and a YAML scenario with an invalid field (exit 2,
// file:line:col and the field named, nothing changed in the lab).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../lab/paths.js';
import { ExitCode } from '../../harness/exit-codes.js';
import { TEST_CLUSTER, TEST_LAB_DIR, testLab } from '../support/lab.js';
import { changesSince } from '../support/harness.js';

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

/** The environment of a user's shell: none of the npm_* variables of a surrounding `npm test`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE_OPTIONS'));
  return { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr, ms: Date.now() - t0 }); });
  });
}

const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describe('the package, installed from its tarball (npm pack → npm install → npx chaos)', function () {
  this.timeout(900_000);
  let work: string;
  let project: string;
  let tarball: string;
  const env = () => cleanEnv({ LAB_DIR: TEST_LAB_DIR });
  const chaos = (...args: string[]) => run('npx', ['--no', '--', 'chaos', ...args], project, env(), 180_000);

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-package-'));
    const packed = await run('npm', ['pack', '--pack-destination', work, '--no-audit', '--no-fund'], REPO_ROOT, cleanEnv(), 600_000);
    expect(packed.code, show(packed)).to.equal(0);
    const tgz = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
    expect(tgz).to.have.length(1);
    tarball = path.join(work, tgz[0]);
    project = path.join(work, 'team-repo');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'team-repo', version: '1.0.0', private: true }, null, 2));
    // offline-friendly: everything comes from npm's cache when it can (npm ci filled it)
    const installed = await run('npm', ['install', '--save-dev', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel', 'error'], project, cleanEnv(), 600_000);
    expect(installed.code, show(installed)).to.equal(0);
  });

  after(() => {
    if (work && process.env.KEEP_PACKAGE_TEST !== '1') fs.rmSync(work, { recursive: true, force: true });
  });

  it('ships the compiled CLI, the lab, lab/build.sh and the scenario schema; no TypeScript sources, tests or benches', async () => {
    const listed = await run('tar', ['tzf', tarball], work, cleanEnv());
    const files = listed.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'README.md', 'dist/harness/cli.js', 'dist/harness/index.js', 'dist/harness/index.d.ts', 'dist/harness/report/schema.json', 'dist/lab/provider.js', 'dist/lab/daemon.js', 'lab/build.sh', 'schema/scenario.schema.json']) {
      expect(files, f).to.include(f);
    }
    expect(files.filter((f) => /\.ts$/.test(f) && !/\.d\.ts$/.test(f)), 'TypeScript sources').to.deep.equal([]);
    expect(files.filter((f) => /^(test|bench|dist\/bench|scenarios|examples)\//.test(f))).to.deep.equal([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'k8s-aws-chaos-harness', 'package.json'), 'utf8')) as { bin: Record<string, string>; private?: boolean };
    expect(pkg.bin).to.deep.equal({ chaos: 'dist/harness/cli.js' });
    expect(pkg.private).to.equal(undefined);
  });

  it('npx chaos init writes the starter project; a second init exits 2 and writes nothing', async () => {
    const r = await chaos('init');
    expect(r.code, show(r)).to.equal(0);
    for (const f of ['chaos.targets.json', 'scenarios/az-outage.yaml', '.gitignore']) expect(fs.existsSync(path.join(project, f)), f).to.equal(true);
    const yaml = fs.readFileSync(path.join(project, 'scenarios', 'az-outage.yaml'), 'utf8');
    const schemaRef = /^# yaml-language-server: \$schema=(\S+)$/m.exec(yaml)?.[1];
    expect(schemaRef).to.equal('../node_modules/k8s-aws-chaos-harness/schema/scenario.schema.json');
    expect(fs.existsSync(path.resolve(project, 'scenarios', schemaRef!)), 'the schema the YAML names is installed').to.equal(true);
    const again = await chaos('init');
    expect(again.code, show(again)).to.equal(ExitCode.Invalid);
    expect(again.stdout + again.stderr).to.match(/already exist/);
    expect(fs.readFileSync(path.join(project, 'scenarios', 'az-outage.yaml'), 'utf8')).to.equal(yaml);
    // the test lab's context, as a team adds its own kube contexts
    const targets = JSON.parse(fs.readFileSync(path.join(project, 'chaos.targets.json'), 'utf8')) as { lab: { contexts: string[] } };
    targets.lab.contexts.push(TEST_CLUSTER);
    fs.writeFileSync(path.join(project, 'chaos.targets.json'), JSON.stringify(targets, null, 2));
  });

  it('npx chaos --help and list run from the compiled JavaScript, finding the project\'s scenarios', async () => {
    const help = await chaos('--help');
    expect(help.code, show(help)).to.equal(0);
    expect(help.stdout).to.match(/Usage: chaos/).and.match(/\n {2}init /).and.match(/\n {2}lab /);
    const list = await chaos('list');
    expect(list.code, show(list)).to.equal(0);
    expect(list.stdout).to.match(/^az-outage\.yaml\s+az-blackhole\s+Black-hole every node subnet of one zone for 2 minutes$/m);
    expect(list.stdout.trim().split('\n')).to.have.length(1);
    const iam = await chaos('iam-policy', '--cluster', 'prod-eks');
    expect(iam.code, show(iam)).to.equal(0);
    expect((JSON.parse(iam.stdout) as { Version: string }).Version).to.equal('2012-10-17');
    expect(iam.stdout).to.contain('prod-eks');
  });

  it('a TypeScript scenario importing defineScenario from the package loads (tsx registered on demand)', async () => {
    fs.writeFileSync(path.join(project, 'scenarios', 'kubelet.ts'), [
      `import { defineScenario, type ScenarioInput } from 'k8s-aws-chaos-harness';`,
      `const s: ScenarioInput = {`,
      `  name: 'kubelet', description: 'Stop kubelet on one node for 1 minute',`,
      `  fault: { kind: 'daemon-kill', daemon: 'kubelet', duration: '1m' },`,
      `  workloads: [{ namespace: 'default', selector: 'app=demo' }],`,
      `  slos: { 'pods ready again': 'recovery < 2m' },`,
      `};`,
      `export default defineScenario(s);`,
      ``,
    ].join('\n'));
    try {
      const list = await chaos('list');
      expect(list.code, show(list)).to.equal(0);
      expect(list.stdout).to.match(/^kubelet\.ts\s+daemon-kill\s+Stop kubelet on one node for 1 minute$/m);
    } finally {
      fs.rmSync(path.join(project, 'scenarios', 'kubelet.ts'));
    }
  });

  it('npx chaos lab status and lab up (through the lab provider, from dist/lab) see the running test lab', async () => {
    const r = await chaos('lab', 'status');
    expect(r.code, show(r)).to.equal(0);
    expect(r.stdout).to.contain(`lab "${TEST_CLUSTER}": up`);
    const up = await run('npx', ['--no', '--', 'chaos', 'lab', 'up'], project, cleanEnv({ LAB_DIR: TEST_LAB_DIR, LAB_CLUSTER_NAME: TEST_CLUSTER }), 180_000);
    expect(up.code, show(up)).to.equal(0);
    expect(up.stderr).to.match(/already up in [\d.]+s: \d+ nodes/);
    const help = await chaos('lab', '--help');
    expect(help.code, show(help)).to.equal(0);
    expect(help.stdout).to.match(/Usage: chaos lab/).and.match(/\n {2}up /);
  });

  it('npx chaos az-outage --dry-run plans the fault on the test lab and changes nothing', async () => {
    const lab = testLab();
    const mark = Date.now();
    const r = await chaos('az-outage', '--dry-run', '--seed', '5');
    expect(r.code, show(r)).to.equal(0);
    expect(r.stderr).to.match(/scenario az-outage on lab \(context chaos-lab-test, cluster chaos-lab-test\); seed 5/);
    expect(r.stdout).to.match(/^plan: black-hole/m).and.match(/ReplaceNetworkAclAssociation/).and.match(/dry run: nothing was changed/);
    expect(r.stderr).to.not.match(/starting it/);
    expect(fs.existsSync(path.join(project, '.lab')), 'no lab started in the project').to.equal(false);
    expect(changesSince(lab, mark)).to.deep.equal([]);
  });

  it('a YAML scenario with an invalid field exits 2 naming file:line:col and the field, and touches nothing', async () => {
    const lab = testLab();
    const mark = Date.now();
    const good = fs.readFileSync(path.join(project, 'scenarios', 'az-outage.yaml'), 'utf8');
    const bad = good.replace('name: az-outage', 'name: broken').replace('  duration: 2m', '  duration: 2 minutes');
    const line = bad.split('\n').findIndex((l) => l.includes('duration: 2 minutes')) + 1;
    expect(line).to.be.greaterThan(0);
    fs.writeFileSync(path.join(project, 'scenarios', 'broken.yaml'), bad);
    const r = await chaos('broken', '--dry-run');
    expect(r.code, show(r)).to.equal(ExitCode.Invalid);
    expect(r.stderr).to.contain(`scenarios/broken.yaml:${line}:13: fault.duration: "2 minutes" is not a duration`);
    const byPath = await chaos('run', 'scenarios/broken.yaml');
    expect(byPath.code, show(byPath)).to.equal(ExitCode.Invalid);
    expect(byPath.stderr).to.contain(`scenarios/broken.yaml:${line}:13: fault.duration`);
    expect(changesSince(lab, mark)).to.deep.equal([]);
  });
});
