// The harness's SSM documents (harness/aws/ssm-documents.ts): their parameters refuse anything but the
// four daemons, digits and timer names; their scripts, rendered as SSM renders them, run here under
// bash against stub commands that log what they were asked to do: the timer is armed and checked
// before the daemon is touched, and every failure ends the script non-zero. Also the account checks.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DAEMONS, DOCUMENT_NAMES, HARNESS_DOCUMENTS, NOT_TAKEN_EXIT, VERIFIED_MARK, daemonFaultCall, daemonRestoreCall, harnessDocument, parameterProblems, renderScript, restoreFixCommand, sameDocumentContent,
} from '../../harness/aws/ssm-documents.js';
import { timerUnit } from '../../harness/faults/daemon-kill.js';
import { checkAccount, journalMatches, subnetPolicyProblems } from '../../harness/iam/index.js';
import { ExitCode, HarnessError } from '../../harness/exit-codes.js';

const STUBS: Record<string, string> = {
  'systemd-run': 'log systemd-run "$@"; exit "${RUN_RC:-0}"',
  systemctl: [
    'log systemctl "$@"',
    'case "$1" in',
    // after `systemctl stop X` the unit is inactive (3) unless STOP_IGNORED (a stop that did nothing)
    '  is-active) case "$*" in *.timer*) exit "${TIMER_RC:-0}";; esac; rc="${ACTIVE_RC:-0}"; if grep -q "^systemctl stop" "$LOG" && [ -z "${STOP_IGNORED:-}" ]; then rc=3; fi; [ "$rc" = 0 ] && { [[ "$*" == *--quiet* ]] || echo active; }; exit "$rc";;',
    '  status) exit "${STATUS_RC:-0}";;',
    '  *) exit "${CTL_RC:-0}";;',
    'esac',
  ].join('\n'),
  pgrep: 'log pgrep "$@"; [ -n "${PIDS:-}" ] && echo "$PIDS" && exit 0; exit 1',
  pkill: 'log pkill "$@"; exit 0',
  kill: 'log kill "$@"; exit 0',
  // after kill -STOP: T (unless SIGSTOP_IGNORED); after kill -9: gone (unless KILL_IGNORED)
  ps: 'log ps "$@"; if grep -q "^kill -9" "$LOG"; then [ -n "${KILL_IGNORED:-}" ] && { echo Ssl; exit 0; }; exit 1; fi; if grep -q "^kill -STOP" "$LOG" && [ -z "${SIGSTOP_IGNORED:-}" ]; then echo Tl; else echo Ssl; fi',
  // kube-proxy healthz answers unless frozen (HEALTHZ_RC overrides)
  curl: 'log curl "$@"; if [ -n "${HEALTHZ_RC:-}" ]; then exit "$HEALTHZ_RC"; fi; if grep -q "^kill -STOP" "$LOG" && [ -z "${SIGSTOP_IGNORED:-}" ] && ! grep -q "^pkill -CONT" "$LOG"; then exit 28; fi; exit 0',
  sleep: 'exit 0',
  crictl: 'log crictl "$@"; if [ "$1" = ps ]; then [ -n "${CONTAINERS:-}" ] && echo "$CONTAINERS"; fi; exit 0',
};

let dir: string;
function run(docName: string, params: Record<string, string>, env: Record<string, string> = {}) {
  const script = renderScript(harnessDocument(docName).content, params);
  const log = path.join(dir, `log-${Math.random().toString(16).slice(2)}`);
  fs.writeFileSync(log, '');
  // `kill` is a bash builtin: disable it (as the lab's sandbox does) so the stub on PATH answers.
  const r = spawnSync('/bin/bash', ['--noprofile', '--norc', '-c', `enable -n kill\n${script}`], {
    env: { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`, LOG: log, ...env }, encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}

describe('harness SSM documents', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-docs-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    for (const [name, body] of Object.entries(STUBS)) {
      fs.writeFileSync(path.join(dir, 'bin', name), `#!/bin/bash\nlog() { echo "$*" >> "$LOG"; }\n${body}\n`, { mode: 0o755 });
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('are schema 2.2 Command documents, one aws:runShellScript step, strict shell, every parameter restricted', () => {
    expect(HARNESS_DOCUMENTS.map((d) => d.name)).to.deep.equal(Object.values(DOCUMENT_NAMES));
    for (const d of HARNESS_DOCUMENTS) {
      expect(d.content.schemaVersion).to.equal('2.2');
      expect(d.content.mainSteps).to.have.length(1);
      expect(d.content.mainSteps[0].action).to.equal('aws:runShellScript');
      expect(d.content.mainSteps[0].inputs.runCommand[0]).to.equal('set -euo pipefail');
      expect(d.hash).to.equal(createHash('sha256').update(d.text).digest('hex'));
      expect(JSON.parse(d.text)).to.deep.equal(d.content);
      for (const [k, p] of Object.entries(d.content.parameters)) expect(p.allowedValues ?? p.allowedPattern, `${d.name} ${k}`).to.not.equal(undefined);
      expect(d.content.parameters.daemon.allowedValues).to.deep.equal([...DAEMONS]);
    }
  });

  it('refuse parameters outside allowedValues / allowedPattern, as SSM does', () => {
    const c = harnessDocument(DOCUMENT_NAMES.stop).content;
    const ok = { daemon: 'kubelet', seconds: '60', timer: timerUnit('kubelet', 'chaos-20260101t000000z-a1b2c3') };
    expect(parameterProblems(c, ok)).to.deep.equal([]);
    for (const daemon of DAEMONS) expect(parameterProblems(c, { ...ok, daemon, timer: timerUnit(daemon, 'chaos-x-0f') }), daemon).to.deep.equal([]);
    expect(parameterProblems(c, { ...ok, daemon: 'kubelet; rm -rf /' })[0]).to.match(/daemon/);
    expect(parameterProblems(c, { ...ok, daemon: 'sshd' })[0]).to.match(/not one of/);
    expect(parameterProblems(c, { ...ok, seconds: '60; reboot' })[0]).to.match(/seconds/);
    expect(parameterProblems(c, { ...ok, seconds: '123456' })[0]).to.match(/seconds/);
    expect(parameterProblems(c, { ...ok, timer: 'x; reboot' })[0]).to.match(/timer/);
    expect(parameterProblems(c, { ...ok, timer: 'chaos-restore-sshd-1' })[0]).to.match(/timer/);
    expect(parameterProblems(c, { daemon: 'kubelet' })).to.have.length(2);
    expect(parameterProblems(c, { ...ok, commands: 'reboot' })[0]).to.match(/not declared/);
    expect(daemonFaultCall('kubelet', 'kill', 30, ok.timer)).to.deep.equal({ documentName: DOCUMENT_NAMES.kill, parameters: { daemon: 'kubelet', seconds: '30', timer: ok.timer } });
    expect(() => daemonFaultCall('kubelet', 'stop', 1.5, ok.timer)).to.throw(/seconds/);
    expect(daemonRestoreCall('containerd')).to.deep.equal({ documentName: DOCUMENT_NAMES.restore, parameters: { daemon: 'containerd' } });
    expect(() => daemonRestoreCall('sshd')).to.throw();
    expect(daemonRestoreCall('kubelet', ok.timer)).to.deep.equal({ documentName: DOCUMENT_NAMES.restore, parameters: { daemon: 'kubelet', timer: ok.timer } });
    expect(() => daemonRestoreCall('kubelet', 'x; reboot')).to.throw(/timer/);
    expect(restoreFixCommand('i-1', 'kubelet')).to.equal('aws ssm send-command --document-name ChaosHarness-DaemonRestore --instance-ids i-1 --parameters daemon=kubelet');
  });

  const stop = { daemon: 'kubelet', seconds: '60', timer: 'chaos-restore-kubelet-a1b2c3' };

  it('stop: arms the timer, checks it, stops the daemon and checks it is inactive (else exit 86: not taken)', () => {
    const r = run(DOCUMENT_NAMES.stop, stop);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.calls).to.deep.equal([
      'systemd-run --on-active=60s --unit=chaos-restore-kubelet-a1b2c3 systemctl start kubelet',
      'systemctl is-active --quiet chaos-restore-kubelet-a1b2c3.timer',
      'systemctl stop kubelet',
      'systemctl is-active --quiet kubelet',
    ]);
    expect(r.stdout).to.contain(`${VERIFIED_MARK}kubelet is inactive after systemctl stop; node-local timer chaos-restore-kubelet-a1b2c3 starts it in 60s`);
    // a stop that returns 0 and does nothing (the lab's quirk ignore-stop) is caught by the script itself
    const ignored = run(DOCUMENT_NAMES.stop, stop, { STOP_IGNORED: '1' });
    expect(ignored.code).to.equal(NOT_TAKEN_EXIT);
    expect(ignored.stderr).to.contain('kubelet is still active after systemctl stop: the fault did not take');
    expect(ignored.stdout).to.not.contain(VERIFIED_MARK);
  });

  it('every script refuses a host without systemctl (Bottlerocket\'s control container) and touches nothing', () => {
    for (const [doc, params] of [[DOCUMENT_NAMES.stop, stop], [DOCUMENT_NAMES.kill, stop], [DOCUMENT_NAMES.restore, { daemon: 'kubelet' }]] as const) {
      const script = renderScript(harnessDocument(doc).content, params);
      const r = spawnSync('/bin/bash', ['--noprofile', '--norc', '-c', script], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
      expect(r.status, doc).to.equal(3);
      expect(r.stderr).to.contain('no systemctl here');
    }
  });

  it('stop: touches nothing and fails when the timer cannot be armed or is not there after arming', () => {
    const noTimer = run(DOCUMENT_NAMES.stop, stop, { TIMER_RC: '3' });
    expect(noTimer.code).to.equal(4);
    expect(noTimer.stderr).to.contain('restore timer chaos-restore-kubelet-a1b2c3.timer is not active');
    expect(noTimer.calls.some((c) => c.startsWith('systemctl stop'))).to.equal(false);
    const runFails = run(DOCUMENT_NAMES.stop, stop, { RUN_RC: '1' });
    expect(runFails.code).to.equal(1);
    expect(runFails.calls).to.deep.equal(['systemd-run --on-active=60s --unit=chaos-restore-kubelet-a1b2c3 systemctl start kubelet']);
    const stopFails = run(DOCUMENT_NAMES.stop, stop, { CTL_RC: '5' });
    expect(stopFails.code).to.equal(5);
    expect(stopFails.stdout).to.not.contain('stopped');
  });

  it('kill: arms the timer, then SIGKILLs the daemon; fails when it is not running', () => {
    const r = run(DOCUMENT_NAMES.kill, stop, { PIDS: '4242' });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.calls).to.deep.equal([
      'systemd-run --on-active=60s --unit=chaos-restore-kubelet-a1b2c3 systemctl start kubelet',
      'systemctl is-active --quiet chaos-restore-kubelet-a1b2c3.timer',
      'pgrep -o -x kubelet',
      'kill -9 4242',
      'ps -o stat= -p 4242',
    ]);
    expect(r.stdout).to.contain(`${VERIFIED_MARK}kubelet (pid 4242) killed with SIGKILL`);
    const survived = run(DOCUMENT_NAMES.kill, stop, { PIDS: '4242', KILL_IGNORED: '1' });
    expect(survived.code).to.equal(NOT_TAKEN_EXIT);
    expect(survived.stderr).to.contain('still runs after SIGKILL');
    const gone = run(DOCUMENT_NAMES.kill, stop);
    expect(gone.code).to.equal(3);
    expect(gone.stderr).to.contain('kubelet is not running');
    expect(run(DOCUMENT_NAMES.kill, stop, { PIDS: '1', TIMER_RC: '3' }).calls.some((c) => c.startsWith('kill'))).to.equal(false);
    // docker: the daemon's process is dockerd, never the docker CLI
    const docker = run(DOCUMENT_NAMES.kill, { ...stop, daemon: 'docker', timer: 'chaos-restore-docker-a1b2c3' }, { PIDS: '77' });
    expect(docker.calls).to.include('pgrep -o -x dockerd').and.not.include('pgrep -o -x docker');
  });

  it('kube-proxy: the unit path when it is a systemd unit, else the DaemonSet container is frozen (SIGSTOP) after arming a SIGCONT timer, and checked', () => {
    const kp = { daemon: 'kube-proxy', seconds: '45', timer: 'chaos-restore-kube-proxy-a1b2c3' };
    const unit = run(DOCUMENT_NAMES.stop, kp);
    expect(unit.code).to.equal(0);
    expect(unit.calls).to.include('systemctl stop kube-proxy');
    const frozen = run(DOCUMENT_NAMES.stop, kp, { STATUS_RC: '4', PIDS: '31337' });
    expect(frozen.code, frozen.stderr).to.equal(0);
    expect(frozen.calls).to.deep.equal([
      'systemctl status kube-proxy',
      'pgrep -o -x kube-proxy',
      'systemd-run --on-active=45s --unit=chaos-restore-kube-proxy-a1b2c3 pkill -CONT -x kube-proxy',
      'systemctl is-active --quiet chaos-restore-kube-proxy-a1b2c3.timer',
      'kill -STOP 31337',
      'ps -o stat= -p 31337',
      'curl -fsS -m 2 -o /dev/null http://127.0.0.1:10256/healthz',
    ]);
    expect(frozen.stdout).to.contain(`${VERIFIED_MARK}kube-proxy (pid 31337, the DaemonSet's container) is frozen`);
    // the timer is armed before the process is touched: no timer, no SIGSTOP
    const noTimer = run(DOCUMENT_NAMES.stop, kp, { STATUS_RC: '4', PIDS: '31337', TIMER_RC: '3' });
    expect(noTimer.code).to.equal(4);
    expect(noTimer.calls.some((c) => c.startsWith('kill'))).to.equal(false);
    // the effect is checked: a SIGSTOP that did nothing, or a health endpoint that still answers, is exit 5
    const notStopped = run(DOCUMENT_NAMES.stop, kp, { STATUS_RC: '4', PIDS: '31337', SIGSTOP_IGNORED: '1' });
    expect(notStopped.code).to.equal(NOT_TAKEN_EXIT);
    expect(notStopped.stderr).to.contain('is not stopped after SIGSTOP (state Ssl): the fault did not take');
    const answers = run(DOCUMENT_NAMES.stop, kp, { STATUS_RC: '4', PIDS: '31337', HEALTHZ_RC: '0' });
    expect(answers.code).to.equal(NOT_TAKEN_EXIT);
    expect(answers.stderr).to.contain('still answers after SIGSTOP');
    const neither = run(DOCUMENT_NAMES.kill, kp, { STATUS_RC: '4' });
    expect(neither.code).to.equal(3);
    expect(neither.stderr).to.contain('neither a systemd unit nor a running process');
    // kill mode on the container: SIGKILL, checked gone; kubelet restarts it (no timer to arm)
    const killed = run(DOCUMENT_NAMES.kill, kp, { STATUS_RC: '4', PIDS: '31337' });
    expect(killed.code, killed.stderr).to.equal(0);
    expect(killed.calls).to.include('kill -9 31337');
    expect(killed.calls.some((c) => c.startsWith('systemd-run'))).to.equal(false);
  });

  it('restore: starts the daemon and fails unless it is active; kube-proxy as a container gets SIGCONT and must answer on its health endpoint', () => {
    const r = run(DOCUMENT_NAMES.restore, { daemon: 'containerd' });
    expect(r.code, r.stderr).to.equal(0);
    // a runtime's restore also starts kubelet (a kubelet that Requires= the runtime went down with it)
    expect(r.calls).to.deep.equal(['systemctl start containerd', 'systemctl is-active containerd', 'systemctl start kubelet', 'systemctl is-active kubelet']);
    expect(run(DOCUMENT_NAMES.restore, { daemon: 'kubelet' }).calls).to.deep.equal(['systemctl start kubelet', 'systemctl is-active kubelet']);
    expect(run(DOCUMENT_NAMES.restore, { daemon: 'containerd' }, { ACTIVE_RC: '3' }).code).to.equal(3);
    // kube-proxy stopped as a unit: status says inactive (3), and it is started (the old restoreScript did not).
    const kp = run(DOCUMENT_NAMES.restore, { daemon: 'kube-proxy' }, { STATUS_RC: '3' });
    expect(kp.code).to.equal(0);
    expect(kp.calls).to.include('systemctl start kube-proxy');
    const ds = run(DOCUMENT_NAMES.restore, { daemon: 'kube-proxy' }, { STATUS_RC: '4' });
    expect(ds.code, ds.stderr).to.equal(0);
    expect(ds.calls).to.include('pkill -CONT -x kube-proxy');
    expect(ds.calls.some((c) => c.includes('systemctl start'))).to.equal(false);
    const silent = run(DOCUMENT_NAMES.restore, { daemon: 'kube-proxy' }, { STATUS_RC: '4', HEALTHZ_RC: '7' });
    expect(silent.code).to.equal(6);
    expect(silent.stderr).to.contain('does not answer 30 s after SIGCONT');
  });

  it('restore with the run\'s timer disarms it once the daemon is back, and keeps it when the restore fails', () => {
    const timer = 'chaos-restore-kubelet-a1b2c3';
    expect(run(DOCUMENT_NAMES.restore, { daemon: 'kubelet', timer }).calls).to.deep.equal(['systemctl start kubelet', 'systemctl is-active kubelet', `systemctl stop ${timer}.timer`]);
    // the daemon is not back: the timer stays armed (the node's own safety net)
    const failed = run(DOCUMENT_NAMES.restore, { daemon: 'kubelet', timer }, { ACTIVE_RC: '3' });
    expect(failed.code).to.equal(3);
    expect(failed.calls.some((c) => c.includes('.timer'))).to.equal(false);
    const kp = run(DOCUMENT_NAMES.restore, { daemon: 'kube-proxy', timer: 'chaos-restore-kube-proxy-a1b2c3' }, { STATUS_RC: '4' });
    expect(kp.code, kp.stderr).to.equal(0);
    expect(kp.calls.at(-1)).to.equal('systemctl stop chaos-restore-kube-proxy-a1b2c3.timer');
    expect(run(DOCUMENT_NAMES.restore, { daemon: 'kube-proxy' }, { STATUS_RC: '4', HEALTHZ_RC: '7' }).calls.some((c) => c.includes('.timer'))).to.equal(false);
  });

  it('compares installed content by value, not by formatting', () => {
    const d = harnessDocument(DOCUMENT_NAMES.stop);
    const reordered = JSON.parse(JSON.stringify({ mainSteps: d.content.mainSteps, parameters: d.content.parameters, description: d.content.description, schemaVersion: '2.2' }));
    expect(sameDocumentContent(reordered, d.content)).to.equal(true);
    reordered.mainSteps[0].inputs.runCommand.push('reboot');
    expect(sameDocumentContent(reordered, d.content)).to.equal(false);
  });
});

describe('account checks', () => {
  it('checkAccount: exit 2 naming the account when it is not allowed; any account for an empty list', () => {
    checkAccount({ account: '123456789012', arn: 'arn:aws:iam::123456789012:user/lab' }, ['123456789012']);
    checkAccount({ account: '123456789012', arn: 'x' }, []);
    try {
      checkAccount({ account: '444455556666', arn: 'arn:aws:sts::444455556666:assumed-role/x/y' }, ['111122223333']);
      expect.fail('no error');
    } catch (err) {
      expect(err).to.be.instanceOf(HarnessError);
      expect((err as HarnessError).exitCode).to.equal(ExitCode.Invalid);
      expect((err as Error).message).to.contain('444455556666').and.contain('111122223333');
    }
    expect(() => checkAccount({ account: 'nope', arn: 'x' }, [])).to.throw(/12-digit/);
  });

  it('journalMatches: same account and region only; an old journal without an account matches on the region', () => {
    const me = { account: '111122223333' };
    expect(journalMatches({ runId: 'r', account: '111122223333', region: 'us-east-1' }, me, 'us-east-1').match).to.equal(true);
    const other = journalMatches({ runId: 'r', account: '444455556666', region: 'us-east-1' }, me, 'us-east-1');
    expect(other.match).to.equal(false);
    expect(other.reason).to.contain('444455556666');
    expect(journalMatches({ account: '111122223333', region: 'eu-west-1' }, me, 'us-east-1').match).to.equal(false);
    const old = journalMatches({ region: 'us-east-1' }, me, 'us-east-1');
    expect(old.match).to.equal(true);
    expect(old.reason).to.contain('predates');
  });

  it('subnetPolicyProblems: the subnets the policy would refuse to swap, before anything is touched', () => {
    const ok = { id: 'subnet-1', vpcId: 'vpc-1', tags: { 'kubernetes.io/cluster/prod': 'shared' } };
    expect(subnetPolicyProblems([ok, { ...ok, id: 'subnet-2', tags: { 'kubernetes.io/cluster/prod': 'owned' } }], 'prod', 'vpc-1')).to.deep.equal([]);
    expect(subnetPolicyProblems([{ ...ok, tags: {} }], 'prod')[0]).to.contain('subnet-1 lacks the tag kubernetes.io/cluster/prod');
    expect(subnetPolicyProblems([{ ...ok, tags: { 'kubernetes.io/cluster/other': 'shared' } }], 'prod')).to.have.length(1);
    expect(subnetPolicyProblems([{ ...ok, vpcId: 'vpc-2' }], 'prod', 'vpc-1')[0]).to.contain('not the cluster VPC vpc-1');
    expect(subnetPolicyProblems([{ ...ok, vpcId: 'vpc-2' }], 'prod')).to.deep.equal([]);
  });
});
