// One run at a time, and the safety lever, on the lab: a second run against the same cluster exits
// 2 within seconds naming the holder; `chaos stop` makes the running harness revert at once and exit
// 3, and refuses new runs until `chaos stop --release`; a crashed run's lock is taken over only by
// `recover`; SIGHUP reverts like SIGINT.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../../harness/exit-codes.js';
import { LOCK_NAME, readLever, readLock } from '../../harness/lock.js';
import { REPO_ROOT } from '../../lab/paths.js';
import { eventually, testLab, TEST_LAB_DIR, type TestLab } from '../support/lab.js';
import { labAws, type LabAws } from '../support/aws.js';
import { harnessTarget, leftovers, runCli, tempStateDir, world } from '../support/harness.js';
import type { ResolvedTarget } from '../../harness/target.js';

function startFault(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'harness/cli.ts'), ...args], { cwd: REPO_ROOT, env: { ...process.env, LAB_DIR: TEST_LAB_DIR, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const io = { out: '', err: '' };
  child.stdout.on('data', (d: Buffer) => { io.out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { io.err += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { child, io, exited };
}

describe('run lock and safety lever', function () {
  this.timeout(300_000);
  let lab: TestLab;
  let aws: LabAws;
  let t: ResolvedTarget;
  before(async () => { lab = testLab(); aws = labAws(lab); t = await harnessTarget(); });
  afterEach(async () => { await runCli(['stop', '--release']); });

  it('a second run exits 2 within seconds naming the holder; `chaos stop` reverts the first at once (exit 3) and refuses new runs until released', async () => {
    const first = startFault(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--duration', '5m', '--state-dir', tempStateDir()]);
    await eventually('injected', 60_000, async () => (first.io.err.includes('are on black-hole ACL') ? true : undefined), 100);
    const runId = /run (chaos-\S+) on lab/.exec(first.io.err)?.[1];
    expect(runId, first.io.err).to.be.a('string');
    const { state } = await readLock(t.kube);
    expect(state?.runId).to.equal(runId);

    const t0 = Date.now();
    const second = await runCli(['fault', 'node-stop', '--duration', '2s', '--state-dir', tempStateDir()]);
    expect(second.code, second.stderr).to.equal(ExitCode.Invalid);
    expect(second.stderr).to.contain(`run ${runId}`).and.contain('holds the run lock');
    expect(Date.now() - t0, 'refused within seconds').to.be.below(30_000);

    const stopAt = Date.now();
    const stop = await runCli(['stop', '--reason', 'game day over']);
    expect(stop.code, stop.stderr).to.equal(0);
    const code = await first.exited;
    const noticedMs = Date.now() - stopAt;
    expect(code, first.io.err.slice(-2000)).to.equal(ExitCode.Aborted);
    expect(first.io.err).to.contain('safety lever engaged (game day over');
    expect(first.io.err).to.contain('deleted black-hole ACL');
    console.log(`      the running harness reverted and exited ${(noticedMs / 1000).toFixed(1)} s after \`chaos stop\``);
    expect(await leftovers(aws, t)).to.deep.equal([]);
    expect((await readLock(t.kube)).state, 'the lock is released').to.equal(undefined);

    const refused = await runCli(['fault', 'node-stop', '--duration', '2s', '--state-dir', tempStateDir()]);
    expect(refused.code).to.equal(ExitCode.Invalid);
    expect(refused.stderr).to.contain('game day over').and.contain('chaos stop --release');
    const status = await runCli(['status']);
    expect(status.stdout).to.contain('safety lever: ENGAGED (game day over');
    expect((await runCli(['stop', '--release'])).code).to.equal(0);
    expect(await readLever(t.kube)).to.equal(undefined);
  });

  it("a crashed run's lock is refused by a new run and taken over by recover", async () => {
    const dir = tempStateDir();
    const r = await runCli(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--duration', '2s', '--state-dir', dir], { CHAOS_TEST_CRASH_AT: 'acl.swap:done' });
    expect(r.signal).to.equal('SIGKILL');
    expect((await readLock(t.kube)).state?.stale, 'the dead run still holds the lock, and it is stale').to.equal(true);
    const refused = await runCli(['fault', 'node-stop', '--duration', '2s', '--state-dir', dir]);
    expect(refused.code).to.equal(ExitCode.Invalid);
    expect(refused.stderr).to.contain('chaos recover');
    const rec = await runCli(['recover', '--state-dir', dir]);
    expect(rec.code, rec.stderr).to.equal(0);
    expect(rec.stderr).to.contain('taking over the run lock');
    expect(await leftovers(aws, t)).to.deep.equal([]);
    expect((await readLock(t.kube)).state).to.equal(undefined);
  });

  it('an Auto Scaling suspension left by a crashed run is found by its tag and resumed by recover, with no journal', async () => {
    const dir = tempStateDir();
    const r = await runCli(['fault', 'node-stop', '--zone', 'us-east-1c', '--duration', '3s', '--state-dir', dir], { CHAOS_TEST_CRASH_AT: 'asg.suspend:done' });
    expect(r.signal, r.stderr.slice(-1500)).to.equal('SIGKILL');
    const suspended = (await world(aws)).asgs.filter((g) => g.suspended.length);
    expect(suspended.length, 'the crashed run left a group suspended').to.equal(1);
    fs.rmSync(path.join(dir, 'journal'), { recursive: true, force: true }); // the journal is lost
    const rec = await runCli(['recover', '--force', '--state-dir', dir]);
    expect(rec.code, rec.stdout + rec.stderr).to.equal(0);
    expect(rec.stdout).to.match(/asg \S+: Auto Scaling group tagged chaos:suspended-by=\S+ .*→ resumed HealthCheck, ReplaceUnhealthy, tags removed/);
    expect((await world(aws)).asgs.filter((g) => g.suspended.length)).to.deep.equal([]);
    // the stopped instance is found by its own tag too
    await eventually('nothing left', 120_000, async () => ((await leftovers(aws, t)).length ? undefined : true), 1000);
  });

  it('credentials for an account that is not allowed exit 2 naming it (STS, before anything is touched)', async () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'chaos.targets.json'), 'utf8')) as { lab: { accounts: string[] } };
    cfg.lab.accounts = ['999999999999'];
    const file = path.join(tempStateDir(), 'targets.json');
    fs.writeFileSync(file, JSON.stringify(cfg));
    const r = await runCli(['fault', 'node-stop', '--duration', '2s', '--config', file, '--state-dir', tempStateDir()]);
    expect(r.code, r.stderr).to.equal(ExitCode.Invalid);
    expect(r.stderr).to.contain('account 123456789012').and.contain('999999999999');
    expect((await readLock(t.kube)).state, 'no lock was taken').to.equal(undefined);
  });

  it('SIGHUP (a dropped SSH session) reverts and exits 3', async () => {
    const run = startFault(['fault', 'az-blackhole', '--zone', 'us-east-1b', '--duration', '5m', '--state-dir', tempStateDir()]);
    await eventually('injected', 60_000, async () => (run.io.err.includes('are on black-hole ACL') ? true : undefined), 100);
    run.child.kill('SIGHUP');
    expect(await run.exited, run.io.err.slice(-2000)).to.equal(ExitCode.Aborted);
    expect(run.io.err).to.contain('SIGHUP: reverting the fault now');
    expect(await leftovers(aws, t)).to.deep.equal([]);
    expect((await t.kube.coordination.listNamespacedLease({ namespace: 'default' })).items.map((l) => l.metadata?.name)).to.not.include(LOCK_NAME);
  });
});
