// The node-local semantics of the lab's shims (lab/aws/nodesim.ts) on a World with nodes of each OS:
// systemd units as the EKS AMIs ship them, kube-proxy as the DaemonSet's container (a process that
// can be frozen, killed and restarted by the kubelet), ps/curl, Bottlerocket's control container,
// and quirks. No lab: a World and a NodeSim in this process.
import { expect } from 'chai';
import { nodeSpec, type LabNodeSpec, type NodeOs, type Runtime } from '../../lab/topology.js';
import { TIMINGS } from '../../lab/timing.js';
import { World, worldTimings, type Instance } from '../../lab/aws/model.js';
import { NodeSim, OS_COMMANDS, type ShimResult } from '../../lab/aws/nodesim.js';
import { SHIM_COMMANDS } from '../../lab/aws/sandbox.js';

interface Ev { event: string; fields: Record<string, unknown> }

function setup(os: NodeOs, runtime: Runtime = os === 'al2' ? 'docker' : 'containerd') {
  const spec: LabNodeSpec = { ...nodeSpec('c', 0, 0, runtime), os };
  const events: Ev[] = [];
  // a fast world with a short container backoff, so the kubelet's restart is seen within the test
  const world = new World('c', runtime, { ...worldTimings(TIMINGS.fast), containerBackoffMs: 60, containerBackoffMaxMs: 240 }, (event, fields) => events.push({ event, fields }), [spec]);
  const inst = world.instances.get(spec.instanceId)!;
  const sim = new NodeSim(world);
  const sh = (...argv: string[]): ShimResult => sim.run(inst, argv);
  return { world, inst, sim, sh, events };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function cleanup(inst: Instance): void {
  for (const d of inst.daemons.values()) if (d.restartTimer) clearTimeout(d.restartTimer);
  for (const t of inst.transientUnits.values()) clearTimeout(t);
}

describe('lab node-local semantics (NodeSim)', () => {
  it('every OS command is a shim the sandbox installs', () => {
    for (const cmds of Object.values(OS_COMMANDS)) for (const c of cmds) expect(SHIM_COMMANDS).to.include(c);
  });

  it('AL2023: kubelet and containerd are units, kube-proxy is not (systemctl answers as for a missing unit); no crictl', () => {
    const { sh, inst } = setup('al2023');
    expect(inst.daemons.get('kube-proxy')!.kind).to.equal('container');
    expect(sh('systemctl', 'stop', 'kube-proxy')).to.deep.equal({ stdout: '', stderr: 'Failed to stop kube-proxy.service: Unit kube-proxy.service not loaded.\n', code: 5 });
    expect(sh('systemctl', 'status', 'kube-proxy')).to.deep.equal({ stdout: '', stderr: 'Unit kube-proxy.service could not be found.\n', code: 4 });
    expect(sh('systemctl', 'is-active', 'kube-proxy')).to.deep.equal({ stdout: 'inactive\n', stderr: '', code: 3 });
    expect(sh('systemctl', 'start', 'kube-proxy.service').code).to.equal(5);
    expect(sh('crictl', 'ps')).to.deep.equal({ stdout: '', stderr: 'bash: crictl: command not found\n', code: 127 });
    expect(sh('/usr/bin/crictl', 'ps')).to.deep.equal({ stdout: '', stderr: 'bash: /usr/bin/crictl: No such file or directory\n', code: 127 });
    expect(sh('docker', 'ps').code).to.equal(127);
    expect(sh('systemctl', 'is-active', 'kubelet')).to.deep.equal({ stdout: 'active\n', stderr: '', code: 0 });
    expect(sh('systemctl', 'status', 'kubelet').stdout).to.contain('Active: active (running)').and.contain('/etc/systemd/system/kubelet.service');
    cleanup(inst);
  });

  it('AL2023: kubelet Wants=containerd — stopping containerd leaves kubelet running; starting kubelet starts containerd; restart policies', () => {
    const { sh, inst, world, events } = setup('al2023');
    expect(sh('systemctl', 'stop', 'containerd').code).to.equal(0);
    expect(world.daemonActive(inst, 'kubelet')).to.equal(true);
    expect(world.runtimeActive(inst)).to.equal(false);
    expect(sh('systemctl', 'is-active', 'containerd')).to.deep.equal({ stdout: 'inactive\n', stderr: '', code: 3 });
    // the kube-proxy container keeps running (containerd KillMode=process: the shims stay)
    expect(world.daemonServing(inst, 'kube-proxy')).to.equal(true);
    sh('systemctl', 'stop', 'kubelet');
    expect(sh('systemctl', 'start', 'kubelet').code).to.equal(0);
    expect(world.daemonActive(inst, 'containerd')).to.equal(true);
    expect(events.find((e) => e.event === 'daemon.started' && e.fields.daemon === 'containerd')?.fields.cause).to.equal('Wants= of kubelet.service');
    // kill -9 kubelet: on-failure restarts after 5 s; kill -TERM: a clean exit, on-failure does not restart
    const pid = sh('pgrep', '-x', 'kubelet').stdout.trim();
    sh('kill', '-9', pid);
    expect(events.at(-1)).to.deep.include({ event: 'daemon.killed' });
    expect(events.at(-1)!.fields.restartSec).to.equal(5);
    sh('systemctl', 'start', 'kubelet');
    sh('kill', sh('pgrep', '-x', 'kubelet').stdout.trim());
    expect(inst.daemons.get('kubelet')!.restartTimer).to.equal(undefined);
    // containerd (Restart=always) comes back after SIGTERM too
    sh('pkill', '-x', 'containerd');
    expect(inst.daemons.get('containerd')!.restartTimer).to.not.equal(undefined);
    cleanup(inst);
  });

  it('kube-proxy: pgrep (-o, -x), kill -STOP freezes it (ps T, healthz times out), -CONT thaws it; events name the daemon and node', () => {
    const { sh, inst, world, events } = setup('al2023');
    const pid = sh('pgrep', '-o', '-x', 'kube-proxy').stdout.trim();
    expect(pid).to.match(/^\d+$/);
    expect(sh('pgrep', 'kube-proxy').stdout.trim()).to.equal(pid);
    expect(sh('pgrep', '-ox', 'kube-proxy').stdout.trim()).to.equal(pid);
    expect(sh('ps', '-o', 'stat=', '-p', pid)).to.deep.equal({ stdout: 'Ssl\n', stderr: '', code: 0 });
    expect(sh('curl', '-fsS', '-m', '2', '-o', '/dev/null', 'http://127.0.0.1:10256/healthz')).to.deep.include({ code: 0, stdout: '' });
    expect(sh('curl', '-s', 'http://127.0.0.1:10256/healthz').stdout).to.match(/^\{"lastUpdated": ".+","currentTime": ".+", "nodeEligible": true\}$/);
    expect(sh('kill', '-STOP', pid)).to.deep.equal({ stdout: '', stderr: '', code: 0 });
    expect(world.daemonActive(inst, 'kube-proxy')).to.equal(true);
    expect(world.daemonServing(inst, 'kube-proxy')).to.equal(false);
    expect(sh('pgrep', '-x', 'kube-proxy').stdout.trim(), 'a stopped process is still listed').to.equal(pid);
    expect(sh('ps', '-o', 'stat=', '-p', pid).stdout).to.equal('Tsl\n');
    expect(sh('ps', '-o', 'stat=,comm=', '-p', pid).stdout).to.equal('Tsl kube-proxy\n');
    expect(sh('curl', '-fsS', '-m', '2', '-o', '/dev/null', 'http://127.0.0.1:10256/healthz')).to.deep.equal({
      stdout: '', stderr: 'curl: (28) Operation timed out after 2000 milliseconds with 0 bytes received\n', code: 28, delayMs: 2000,
    });
    expect(sh('curl', '-fs', '-m', '2', 'http://127.0.0.1:10256/healthz').stderr, '-s without -S: silent').to.equal('');
    const frozen = events.find((e) => e.event === 'daemon.frozen')!;
    expect(frozen.fields).to.deep.equal({ instanceId: inst.id, node: inst.spec.name, daemon: 'kube-proxy', pid: Number(pid), by: 'kill -STOP' });
    expect(sh('/bin/kill', '-CONT', pid).code).to.equal(0);
    expect(world.daemonServing(inst, 'kube-proxy')).to.equal(true);
    expect(events.at(-1)).to.deep.equal({ event: 'daemon.thawed', fields: { instanceId: inst.id, node: inst.spec.name, daemon: 'kube-proxy', pid: Number(pid), by: 'kill -CONT' } });
    // every spelling of SIGSTOP through pkill
    for (const sig of [['-STOP'], ['-SIGSTOP'], ['--signal', 'STOP'], ['-19'], ['--signal=SIGSTOP']]) {
      expect(sh('pkill', ...sig, '-x', 'kube-proxy').code, sig.join(' ')).to.equal(0);
      expect(world.daemonServing(inst, 'kube-proxy'), sig.join(' ')).to.equal(false);
      expect(sh('/usr/bin/pkill', '-CONT', '-x', 'kube-proxy').code).to.equal(0);
      expect(world.daemonServing(inst, 'kube-proxy')).to.equal(true);
    }
    expect(sh('pkill', '-STOP', '-x', 'kube-prox').code, '-x is exact').to.equal(1);
    cleanup(inst);
  });

  it('kube-proxy: SIGKILL ends it (healthz refused, ps/pgrep find nothing); the kubelet restarts it after its backoff with a new pid', async () => {
    const { sh, inst, world, events } = setup('al2023');
    const pid = sh('pgrep', '-x', 'kube-proxy').stdout.trim();
    sh('kill', '-STOP', pid);
    expect(sh('kill', '-9', pid).code, 'SIGKILL ends a stopped process').to.equal(0);
    expect(world.daemonActive(inst, 'kube-proxy')).to.equal(false);
    expect(sh('pgrep', '-x', 'kube-proxy')).to.deep.equal({ stdout: '', stderr: '', code: 1 });
    expect(sh('ps', '-o', 'stat=', '-p', pid)).to.deep.equal({ stdout: '', stderr: '', code: 1 });
    expect(sh('kill', '-CONT', pid)).to.deep.equal({ stdout: '', stderr: `kill: (${pid}) - No such process\n`, code: 1 });
    expect(sh('curl', '-fsS', '-m', '2', '-o', '/dev/null', 'http://127.0.0.1:10256/healthz')).to.deep.equal({
      stdout: '', stderr: "curl: (7) Failed to connect to 127.0.0.1 port 10256 after 0 ms: Couldn't connect to server\n", code: 7, delayMs: undefined,
    });
    expect(events.find((e) => e.event === 'container.backoff')?.fields.delayMs).to.equal(60);
    await sleep(150);
    const fresh = sh('pgrep', '-x', 'kube-proxy').stdout.trim();
    expect(fresh).to.match(/^\d+$/).and.not.equal(pid);
    expect(events.find((e) => e.event === 'daemon.started' && e.fields.daemon === 'kube-proxy')?.fields.cause).to.equal('kubelet-container-restart');
    // the second crash waits twice as long; a dead kubelet restarts nothing until it is back
    sh('systemctl', 'stop', 'kubelet');
    sh('pkill', '-9', 'kube-proxy');
    expect(events.at(-1)!.fields.delayMs).to.equal(120);
    await sleep(200);
    expect(world.daemonActive(inst, 'kube-proxy')).to.equal(false);
    sh('systemctl', 'start', 'kubelet');
    expect(world.daemonActive(inst, 'kube-proxy')).to.equal(true);
    // SIGTERM to a frozen process waits for SIGCONT
    const p3 = sh('pgrep', '-x', 'kube-proxy').stdout.trim();
    sh('kill', '-STOP', p3);
    sh('kill', '-TERM', p3);
    expect(world.daemonActive(inst, 'kube-proxy')).to.equal(true);
    sh('kill', '-CONT', p3);
    expect(world.daemonActive(inst, 'kube-proxy')).to.equal(false);
    cleanup(inst);
  });

  it('systemd-run --on-active timer runs `pkill -CONT -x kube-proxy` later (absolute command paths accepted)', async () => {
    const { sh, inst, world, events } = setup('al2023');
    const pid = sh('pgrep', '-o', '-x', 'kube-proxy').stdout.trim();
    const r = sh('systemd-run', '--on-active=0.1s', '--unit=chaos-restore-kube-proxy-a1', '/usr/bin/pkill', '-CONT', '-x', 'kube-proxy');
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal('Running timer as unit: chaos-restore-kube-proxy-a1.timer\nWill run service as unit: chaos-restore-kube-proxy-a1.service\n');
    expect(sh('systemctl', 'is-active', '--quiet', 'chaos-restore-kube-proxy-a1.timer').code).to.equal(0);
    sh('kill', '-STOP', pid);
    expect(world.daemonServing(inst, 'kube-proxy')).to.equal(false);
    await sleep(200);
    expect(world.daemonServing(inst, 'kube-proxy')).to.equal(true);
    expect(events.find((e) => e.event === 'node.timer.fired')?.fields).to.deep.include({ unit: 'chaos-restore-kube-proxy-a1', code: 0 });
    expect(events.find((e) => e.event === 'daemon.thawed')?.fields.by).to.equal('pkill -CONT');
    expect(sh('systemctl', 'is-active', '--quiet', 'chaos-restore-kube-proxy-a1.timer').code).to.equal(3);
    expect(sh('systemd-run', '--on-active=5', 'crictl', 'ps')).to.deep.equal({ stdout: '', stderr: 'Failed to find executable crictl: No such file or directory\n', code: 1 });
    cleanup(inst);
  });

  it('curl: kubelet healthz, -f on a 404 is exit 22, other URLs have no network', () => {
    const { sh, inst } = setup('al2023');
    expect(sh('curl', '-s', 'http://localhost:10248/healthz')).to.deep.equal({ stdout: 'ok', stderr: '', code: 0 });
    expect(sh('curl', '-fsS', 'http://127.0.0.1:10256/nope')).to.deep.include({ code: 22, stderr: 'curl: (22) The requested URL returned error: 404\n' });
    expect(sh('curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:10256/healthz').stdout).to.equal('200');
    expect(sh('curl', '-sS', 'http://10.0.1.11:10256/healthz')).to.deep.include({ code: 7 });
    expect(sh('curl', '-sS', 'https://example.com/')).to.deep.include({ code: 6, stderr: 'curl: (6) Could not resolve host: example.com\n' });
    expect(sh('curl', '-sS', 'http://127.0.0.1:8080/')).to.deep.include({ code: 7 });
    sh('pkill', '-STOP', '-x', 'kubelet');
    expect(sh('curl', '-sS', '--max-time', '1.5', 'http://localhost:10248/healthz')).to.deep.include({ code: 28, delayMs: 1500 });
    sh('systemctl', 'stop', 'kubelet');
    expect(sh('curl', '-sS', 'http://localhost:10248/healthz')).to.deep.include({ code: 7, stderr: "curl: (7) Failed to connect to localhost port 10248 after 0 ms: Couldn't connect to server\n" });
    cleanup(inst);
  });

  it('AL2 (docker): kubelet Requires=docker — stopping docker stops kubelet, starting docker does not start it; a killed dockerd does not stop it; crictl exists', () => {
    const { sh, inst, world, events } = setup('al2', 'docker');
    expect(sh('pgrep', '-x', 'dockerd').code).to.equal(0);
    expect(sh('pgrep', '-x', 'docker').code, 'the process is dockerd').to.equal(1);
    sh('systemctl', 'stop', 'docker');
    expect(world.daemonActive(inst, 'kubelet')).to.equal(false);
    expect(events.find((e) => e.event === 'daemon.stopped' && e.fields.daemon === 'kubelet')?.fields.by).to.equal('Requires=docker.service');
    sh('systemctl', 'start', 'docker');
    expect(world.daemonActive(inst, 'kubelet')).to.equal(false);
    sh('systemctl', 'start', 'kubelet');
    sh('kill', '-9', sh('pgrep', '-x', 'dockerd').stdout.trim());
    expect(world.daemonActive(inst, 'kubelet'), 'an unexpected death is not propagated by Requires=').to.equal(true);
    expect(inst.daemons.get('docker')!.restartTimer).to.not.equal(undefined);
    // starting kubelet pulls docker in (Requires=)
    sh('systemctl', 'stop', 'docker');
    sh('systemctl', 'start', 'kubelet');
    expect(world.daemonActive(inst, 'docker')).to.equal(true);
    expect(sh('crictl', 'ps').code).to.equal(1);
    expect(sh('systemctl', 'stop', 'kube-proxy').code).to.equal(5);
    cleanup(inst);
  });

  it('Bottlerocket: the control container has no systemctl/systemd-run/crictl, sees no host process, shares the host network; apiclient get os', () => {
    const { sh, inst, world } = setup('bottlerocket');
    for (const c of ['systemctl', 'systemd-run', 'crictl']) expect(sh(c, 'status'), c).to.deep.equal({ stdout: '', stderr: `bash: ${c}: command not found\n`, code: 127 });
    expect(sh('pgrep', '-x', 'kube-proxy')).to.deep.equal({ stdout: '', stderr: '', code: 1 });
    expect(sh('pkill', '-STOP', '-x', 'kube-proxy').code).to.equal(1);
    const pid = String(inst.daemons.get('kube-proxy')!.pid);
    expect(sh('kill', '-STOP', pid)).to.deep.equal({ stdout: '', stderr: `kill: (${pid}) - No such process\n`, code: 1 });
    expect(sh('ps', '-o', 'stat=', '-p', pid).code).to.equal(1);
    expect(world.daemonServing(inst, 'kube-proxy')).to.equal(true);
    expect(sh('curl', '-fsS', '-m', '2', '-o', '/dev/null', 'http://127.0.0.1:10256/healthz').code).to.equal(0);
    expect(JSON.parse(sh('apiclient', 'get', 'os').stdout).os.variant_id).to.match(/^aws-k8s-/);
    cleanup(inst);
  });

  it('quirk ignore-stop: systemctl stop and SIGSTOP answer 0 and do nothing; SIGKILL still acts; clear removes it', () => {
    const { sh, inst, world, events } = setup('al2023');
    world.setQuirk(inst, 'kubelet', 'ignore-stop', 'test');
    world.setQuirk(inst, 'kube-proxy', 'ignore-stop', 'test');
    expect(events.filter((e) => e.event === 'quirk.set').map((e) => e.fields.daemon)).to.deep.equal(['kubelet', 'kube-proxy']);
    expect(sh('systemctl', 'stop', 'kubelet')).to.deep.equal({ stdout: '', stderr: '', code: 0 });
    expect(sh('systemctl', 'is-active', 'kubelet')).to.deep.equal({ stdout: 'active\n', stderr: '', code: 0 });
    const pid = sh('pgrep', '-o', '-x', 'kube-proxy').stdout.trim();
    expect(sh('kill', '-STOP', pid).code).to.equal(0);
    expect(sh('pkill', '-STOP', '-x', 'kube-proxy').code).to.equal(0);
    expect(sh('ps', '-o', 'stat=', '-p', pid).stdout).to.equal('Ssl\n');
    expect(events.filter((e) => e.event === 'quirk.applied').map((e) => e.fields.action)).to.deep.equal(['systemctl stop', 'kill -STOP', 'pkill -STOP']);
    expect(world.listQuirks()).to.have.length(2);
    expect(world.clearQuirks(inst, 'test')).to.have.length(2);
    expect(events.at(-1)).to.deep.include({ event: 'quirk.cleared' });
    expect(sh('systemctl', 'stop', 'kubelet').code).to.equal(0);
    expect(world.daemonActive(inst, 'kubelet')).to.equal(false);
    expect(() => world.setQuirk(inst, 'docker', 'ignore-stop', 'test')).to.throw(/runs no docker/);
    cleanup(inst);
  });

  it('a frozen kubelet is active for systemd but does not serve; an instance stop clears freezes', () => {
    const { sh, inst, world } = setup('al2023');
    sh('pkill', '-STOP', 'kubelet');
    expect(sh('systemctl', 'is-active', 'kubelet').code).to.equal(0);
    expect(world.daemonServing(inst, 'kubelet')).to.equal(false);
    expect(world.describeDaemons(inst).kubelet).to.deep.include({ active: true, frozen: true, kind: 'unit' });
    world.stop(inst);
    expect(inst.daemons.get('kubelet')!.frozen).to.equal(false);
    for (const t of inst.timers) clearTimeout(t);
    cleanup(inst);
  });
});
