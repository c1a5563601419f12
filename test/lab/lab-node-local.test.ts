// Node-local semantics end to end: the command sequences the harness's SSM documents run (kube-proxy
// frozen with a node-local thaw timer, checked through ps and its healthz; a unit stopped and checked
// inactive), sent through the real SSM API (AWS-RunShellScript) into the sandbox, and checked against
// the world; and a quirk (`npm run lab -- quirk NODE ignore-stop kubelet`) that makes the stop not take.
// The data-plane rows (routing by a frozen kube-proxy view, pods serving while containerd is down) are
// in lab-effects.test.ts.
import { expect } from 'chai';
import { labMain } from '../../lab/cli.js';
import { eventually, testLab, TEST_LAB_DIR, type TestLab } from '../support/lab.js';
import { labAws, runScript, type LabAws } from '../support/aws.js';

interface Snap { instances: Array<{ id: string; node: string; os: string; state: string; daemons: Record<string, { active: boolean; frozen: boolean; pid: number; kind: string }>; timers: string[]; quirks: string[] }> }

/** What the harness's kube-proxy freeze document will run (issue 13), with the seconds and the timer substituted. */
const freezeScript = (seconds: number, timer: string) => [
  'set -euo pipefail',
  'pid=$(pgrep -o -x kube-proxy)',
  `systemd-run --on-active=${seconds}s --unit=${timer} pkill -CONT -x kube-proxy`,
  `if ! systemctl is-active --quiet ${timer}.timer; then echo "chaos: the thaw timer is not active" >&2; exit 4; fi`,
  'kill -STOP $pid',
  'st=$(ps -o stat= -p $pid)',
  'case "$st" in T*) ;; *) echo "chaos: kube-proxy (pid $pid) is $st, not stopped: effect did not appear" >&2; exit 5;; esac',
  'if curl -fsS -m 2 -o /dev/null http://127.0.0.1:10256/healthz; then echo "chaos: kube-proxy healthz still answers: effect did not appear" >&2; exit 5; fi',
  'echo "chaos: kube-proxy (pid $pid) frozen ($st); timer thaws it"',
];

/** What the harness's unit stop document will run: stop, then the unit must report inactive. */
const stopScript = (daemon: string) => [
  'set -euo pipefail',
  `systemctl stop ${daemon}`,
  `if systemctl is-active --quiet ${daemon}; then echo "chaos: ${daemon} still active after systemctl stop: effect did not appear" >&2; exit 5; fi`,
  `echo "chaos: ${daemon} stopped"`,
];

describe('lab: node-local semantics through SSM', function () {
  this.timeout(90_000);
  let lab: TestLab;
  let aws: LabAws;
  let node: Snap['instances'][number];
  const suffix = Math.random().toString(16).slice(2, 8);
  const snap = async () => (await aws.control('GET', 'world')) as Snap;
  const inst = async () => (await snap()).instances.find((i) => i.id === node.id)!;
  const since = (mark: number, event: string) => lab.world.read().filter((e) => Date.parse(e.time) >= mark && e.event === event && e.instanceId === node.id);

  before(async () => {
    lab = testLab();
    aws = labAws(lab);
    node = (await snap()).instances.find((i) => i.state === 'running' && i.daemons.kubelet?.active && i.daemons['kube-proxy']?.active)!;
  });

  it('AL2023 node: kube-proxy is a process, not a unit; no crictl; the OS commands are on PATH by name and by absolute path', async () => {
    expect(node.os).to.equal('al2023');
    expect(node.daemons['kube-proxy'].kind).to.equal('container');
    const r = await runScript(aws, node.id, [
      'systemctl stop kube-proxy || echo "stop rc=$?"',
      'systemctl status kube-proxy || echo "status rc=$?"',
      'command -v crictl || echo "no crictl"',
      'command -v curl ps pgrep',
      '/usr/bin/pgrep -x kube-proxy >/dev/null && echo "abs pgrep ok"',
      'crictl ps; echo "crictl rc=$?"',
    ]);
    expect(r.Status, r.StandardErrorContent).to.equal('Success');
    expect(r.StandardOutputContent).to.contain('stop rc=5').and.contain('status rc=4').and.contain('no crictl').and.contain('crictl rc=127');
    expect(r.StandardOutputContent).to.contain('abs pgrep ok').and.match(/\/curl\n.*\/ps\n.*\/pgrep\n/);
    expect(r.StandardErrorContent).to.contain('Failed to stop kube-proxy.service: Unit kube-proxy.service not loaded.')
      .and.contain('Unit kube-proxy.service could not be found.').and.contain('crictl: command not found');
  });

  it('kube-proxy freeze: pgrep -o, a node-local thaw timer, kill -STOP, ps T, healthz fails; the timer thaws it and healthz answers again', async () => {
    const timer = `chaos-restore-kube-proxy-${suffix}`;
    const mark = Date.now();
    const pid = node.daemons['kube-proxy'].pid;
    const r = await runScript(aws, node.id, freezeScript(10, timer));
    expect(r.Status, r.StandardErrorContent).to.equal('Success');
    expect(r.StandardOutputContent).to.match(new RegExp(`kube-proxy \\(pid ${pid}\\) frozen \\(T`));
    const frozen = await inst();
    expect(frozen.daemons['kube-proxy']).to.deep.include({ active: true, frozen: true, pid });
    expect(frozen.timers).to.include(timer);
    const ev = since(mark, 'daemon.frozen');
    expect(ev).to.have.length(1);
    expect(ev[0]).to.include({ daemon: 'kube-proxy', node: node.node, pid, by: 'kill -STOP' });
    // while frozen: the process is listed, healthz times out (exit 28), kubelet is unaffected
    const during = await runScript(aws, node.id, ['pgrep -x kube-proxy', 'curl -sS -m 1 http://127.0.0.1:10256/healthz || echo "rc=$?"', 'curl -fsS http://localhost:10248/healthz']);
    expect(during.StandardOutputContent).to.equal(`${pid}\nrc=28\nok`);
    expect(during.StandardErrorContent).to.contain('curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received');
    const thawed = await eventually('the timer thaws kube-proxy', 15_000, async () => since(mark, 'daemon.thawed')[0]);
    expect(thawed).to.include({ daemon: 'kube-proxy', node: node.node, pid, by: 'pkill -CONT' });
    expect(since(mark, 'node.timer.fired').map((e) => e.unit)).to.include(timer);
    const after = await runScript(aws, node.id, ['set -euo pipefail', `ps -o stat=,comm= -p ${pid}`, 'curl -fsS -m 2 -o /dev/null http://127.0.0.1:10256/healthz', 'echo healthy']);
    expect(after.Status, after.StandardErrorContent).to.equal('Success');
    expect(after.StandardOutputContent).to.equal('Ssl kube-proxy\nhealthy\n');
    expect((await inst()).daemons['kube-proxy']).to.deep.include({ frozen: false, pid });
  });

  it('kube-proxy SIGKILL: healthz refused (exit 7) until the kubelet restarts the container after its backoff (new pid)', async () => {
    const mark = Date.now();
    const pid = (await inst()).daemons['kube-proxy'].pid;
    const r = await runScript(aws, node.id, ['pkill -9 -x kube-proxy', 'curl -fsS -m 2 -o /dev/null http://127.0.0.1:10256/healthz || echo "rc=$?"']);
    expect(r.StandardOutputContent).to.equal('rc=7\n');
    expect(r.StandardErrorContent).to.contain("curl: (7) Failed to connect to 127.0.0.1 port 10256 after 0 ms: Couldn't connect to server");
    const started = await eventually('kube-proxy restarted by the kubelet', 15_000, async () => lab.world.read().find((e) => Date.parse(e.time) >= mark && e.event === 'daemon.started' && e.instanceId === node.id && e.daemon === 'kube-proxy'));
    expect(started.cause).to.equal('kubelet-container-restart');
    expect(started.pid).to.not.equal(pid);
    const backoff = since(mark, 'container.backoff')[0];
    expect(backoff.delayMs).to.be.at.least(2000); // fast timing: 2 s initial (upstream: 10 s)
  });

  it('a unit stop as the harness checks it: systemctl stop kubelet, then is-active must say inactive', async () => {
    const r = await runScript(aws, node.id, stopScript('kubelet'));
    expect(r.Status, r.StandardErrorContent).to.equal('Success');
    expect((await inst()).daemons.kubelet.active).to.equal(false);
    await runScript(aws, node.id, ['systemctl start kubelet']);
    expect((await inst()).daemons.kubelet.active).to.equal(true);
  });

  it('quirk ignore-stop (npm run lab -- quirk): systemctl stop kubelet answers 0, kubelet stays active, the harness check exits 5; clear undoes it', async () => {
    const saved = process.env.LAB_DIR;
    process.env.LAB_DIR = TEST_LAB_DIR;
    const mark = Date.now();
    try {
      expect(await labMain(['quirk', node.node, 'ignore-stop', 'kubelet'])).to.equal(0);
      expect(await labMain(['quirk', node.id, 'ignore-stop', 'kube-proxy'])).to.equal(0);
      expect((await inst()).quirks).to.have.members(['ignore-stop:kubelet', 'ignore-stop:kube-proxy']);
      expect(await labMain(['quirk', 'no-such-node', 'ignore-stop', 'kubelet'])).to.equal(1);
      const plain = await runScript(aws, node.id, ['systemctl stop kubelet', 'echo "rc=$?"', 'systemctl is-active kubelet']);
      expect(plain.Status).to.equal('Success');
      expect(plain.StandardOutputContent).to.equal('rc=0\nactive\n');
      const checked = await runScript(aws, node.id, stopScript('kubelet'));
      expect([checked.Status, checked.ResponseCode]).to.deep.equal(['Failed', 5]);
      expect(checked.StandardErrorContent).to.contain('effect did not appear');
      // the freeze does not take either: the document's own check catches it
      const freeze = await runScript(aws, node.id, freezeScript(5, `chaos-restore-kube-proxy-q${suffix}`));
      expect([freeze.Status, freeze.ResponseCode]).to.deep.equal(['Failed', 5]);
      expect(freeze.StandardErrorContent).to.contain('not stopped: effect did not appear');
      expect((await inst()).daemons.kubelet.active).to.equal(true);
      expect(since(mark, 'quirk.set').map((e) => e.daemon)).to.deep.equal(['kubelet', 'kube-proxy']);
      expect(since(mark, 'quirk.applied').map((e) => e.action)).to.deep.equal(['systemctl stop', 'systemctl stop', 'kill -STOP']);
    } finally {
      expect(await labMain(['quirk', node.node, 'clear'])).to.equal(0);
      if (saved === undefined) delete process.env.LAB_DIR;
      else process.env.LAB_DIR = saved;
    }
    expect((await inst()).quirks).to.deep.equal([]);
    expect(since(mark, 'quirk.cleared')).to.have.length(1);
    const r = await runScript(aws, node.id, stopScript('kubelet'));
    expect(r.Status, r.StandardErrorContent).to.equal('Success');
    await runScript(aws, node.id, ['systemctl start kubelet']);
  });
});
