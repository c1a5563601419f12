// What the lab's shims do on a simulated node: `systemctl`, `systemd-run`, `pkill`, `pgrep`, `kill`
// and `crictl`, acting on the node's simulated daemons in the World. Anything else is "command not
// found", as on a node without that tool.
import type { DaemonName, Instance, World } from './model.js';

export interface ShimResult { stdout: string; stderr: string; code: number }

const UNITS: Record<string, DaemonName> = {
  kubelet: 'kubelet', 'kubelet.service': 'kubelet',
  'kube-proxy': 'kube-proxy', 'kube-proxy.service': 'kube-proxy',
  containerd: 'containerd', 'containerd.service': 'containerd',
  docker: 'docker', 'docker.service': 'docker',
};

const SIGNALS: Record<string, number> = { KILL: 9, TERM: 15, INT: 2, HUP: 1, QUIT: 3, STOP: 19, CONT: 18 };

function signalOf(s: string): number | undefined {
  const x = s.replace(/^-/, '').replace(/^SIG/i, '').toUpperCase();
  if (/^\d+$/.test(x)) return Number(x);
  return SIGNALS[x];
}

const ok = (stdout = ''): ShimResult => ({ stdout, stderr: '', code: 0 });
const fail = (stderr: string, code = 1): ShimResult => ({ stdout: '', stderr: stderr.endsWith('\n') ? stderr : stderr + '\n', code });

function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|sec|m|min|h)?$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * ({ ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 } as Record<string, number>)[unit];
}

export class NodeSim {
  private unitSeq = 0;
  constructor(private readonly world: World) {}

  run(inst: Instance, argv: string[]): ShimResult {
    const [cmd, ...args] = argv;
    switch (cmd) {
      case 'systemctl': return this.systemctl(inst, args);
      case 'systemd-run': return this.systemdRun(inst, args);
      case 'pgrep': return this.pgrep(inst, args);
      case 'pkill': return this.pkill(inst, args);
      case 'kill': return this.kill(inst, args);
      case 'crictl': return this.crictl(inst, args);
      default: return fail(`bash: ${cmd}: command not found`, 127);
    }
  }

  private unit(inst: Instance, name: string | undefined): DaemonName | ShimResult {
    const d = name ? UNITS[name] : undefined;
    if (!d || !inst.daemons.has(d)) return fail(`Failed to act on ${name ?? '(none)'}: Unit ${name?.replace(/\.service$/, '') ?? ''}.service not loaded.`, 5);
    return d;
  }

  private systemctl(inst: Instance, args: string[]): ShimResult {
    const flags = args.filter((a) => a.startsWith('-'));
    const pos = args.filter((a) => !a.startsWith('-'));
    const [verb, ...units] = pos;
    const quiet = flags.includes('--quiet') || flags.includes('-q');
    if (!verb) return fail('systemctl: missing verb');
    if (verb === 'daemon-reload') return ok();
    if (!units.length) return fail(`Too few arguments.`);
    let out = '';
    let code = 0;
    for (const u of units) {
      if (u.endsWith('.timer')) {
        // transient timers made by systemd-run: is-active (waiting = active), stop (cancels it)
        const name = u.slice(0, -'.timer'.length);
        const h = inst.transientUnits.get(name);
        if (verb === 'is-active') { if (!quiet) out += h ? 'active\n' : 'inactive\n'; if (!h) code = 3; continue; }
        if (verb === 'stop') { if (h) { clearTimeout(h); inst.transientUnits.delete(name); this.world.onEvent('node.timer.stopped', { instanceId: inst.id, node: inst.spec.name, unit: name }); } continue; }
        return fail(`Unknown command verb ${verb} for ${u} in the lab (is-active and stop only).`);
      }
      const d = this.unit(inst, u);
      if (typeof d !== 'string') {
        if (verb === 'is-active') { out += quiet ? '' : 'inactive\n'; code = 3; continue; }
        return d;
      }
      switch (verb) {
        case 'stop': this.world.daemonStop(inst, d, 'stop'); break;
        case 'start': this.world.daemonStart(inst, d, 'systemctl start'); break;
        case 'restart': this.world.daemonStop(inst, d, 'stop'); this.world.daemonStart(inst, d, 'systemctl restart'); break;
        case 'kill': {
          const sigArg = flags.find((f) => f.startsWith('--signal=') || f.startsWith('-s'));
          const i = args.indexOf('-s');
          const sig = sigArg?.startsWith('--signal=') ? sigArg.slice(9) : i >= 0 ? args[i + 1] : 'TERM';
          const n = signalOf(sig ?? 'TERM');
          if (n === undefined) return fail(`Failed to parse signal string ${sig}.`);
          if (n === 9 || n === 15 || n === 2 || n === 3) this.world.daemonStop(inst, d, n === 15 || n === 2 ? 'stop' : 'kill');
          break;
        }
        case 'is-active': {
          const active = this.world.daemonActive(inst, d);
          if (!quiet) out += active ? 'active\n' : 'inactive\n';
          if (!active) code = 3;
          break;
        }
        case 'status': {
          const dd = inst.daemons.get(d)!;
          const active = this.world.daemonActive(inst, d);
          out += `● ${d}.service\n     Loaded: loaded (/etc/systemd/system/${d}.service; enabled)\n     Active: ${active ? 'active (running)' : 'inactive (dead)'}\n${active ? `   Main PID: ${dd.pid} (${d})\n` : ''}`;
          if (!active) code = 3;
          break;
        }
        default: return fail(`Unknown command verb ${verb}.`);
      }
    }
    return { stdout: out, stderr: '', code };
  }

  /** `systemd-run --on-active=60s [--unit=NAME] [--timer-property=…] CMD ARGS…`: a transient timer. */
  private systemdRun(inst: Instance, args: string[]): ShimResult {
    let delayMs: number | undefined;
    let unit: string | undefined;
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i];
      if (!a.startsWith('-')) break;
      if (a.startsWith('--on-active=')) delayMs = parseDuration(a.slice(12));
      else if (a === '--on-active') delayMs = parseDuration(args[++i] ?? '');
      else if (a.startsWith('--unit=')) unit = a.slice(7);
      else if (a === '--unit' || a === '-u') unit = args[++i];
      else if (a.startsWith('--timer-property=') || a === '--collect' || a === '--no-block' || a === '-q' || a === '--quiet' || a.startsWith('--description=')) continue;
      else return fail(`systemd-run: unrecognized option '${a}'`);
    }
    const cmd = args.slice(i);
    if (!cmd.length) return fail('systemd-run: command line to execute required.');
    if (delayMs === undefined) {
      return this.run(inst, cmd);
    }
    const name = unit ?? `run-r${(++this.unitSeq).toString(16)}${Date.now().toString(16)}`;
    if (inst.transientUnits.has(name)) return fail(`Failed to start transient timer unit: Unit ${name}.timer was already loaded or has a fragment file.`);
    const h = setTimeout(() => {
      inst.transientUnits.delete(name);
      const r = this.run(inst, cmd);
      this.world.onEvent('node.timer.fired', { instanceId: inst.id, node: inst.spec.name, unit: name, command: cmd.join(' '), code: r.code });
    }, delayMs);
    inst.transientUnits.set(name, h);
    this.world.onEvent('node.timer.created', { instanceId: inst.id, node: inst.spec.name, unit: name, command: cmd.join(' '), delayMs });
    return { stdout: '', stderr: `Running timer as unit: ${name}.timer\nWill run service as unit: ${name}.service\n`, code: 0 };
  }

  /** Running daemons by process name: the docker unit's process is dockerd (the docker CLI is another program). */
  private procs(inst: Instance): Array<{ pid: number; name: string; daemon: DaemonName }> {
    return [...inst.daemons.values()].filter((d) => this.world.daemonActive(inst, d.name)).map((d) => ({ pid: d.pid, name: d.name === 'docker' ? 'dockerd' : d.name, daemon: d.name }));
  }

  private match(inst: Instance, args: string[]): { sig: number; hits: Array<{ pid: number; name: string; daemon: DaemonName }> } | ShimResult {
    let sig = 15;
    let exact = false;
    let pattern: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-x' || a === '--exact') exact = true;
      else if (a === '-f' || a === '--full') continue;
      else if (a === '--signal' || a === '-s') sig = signalOf(args[++i] ?? '') ?? -1;
      else if (/^-[A-Z0-9]+$/i.test(a) && signalOf(a) !== undefined) sig = signalOf(a)!;
      else if (a.startsWith('-')) return fail(`pkill: invalid option -- '${a}'`, 2);
      else pattern = a;
    }
    if (!pattern) return fail('pgrep: no matching criteria specified', 2);
    if (sig < 0) return fail('pkill: invalid signal', 2);
    const re = new RegExp(exact ? `^${pattern}$` : pattern);
    return { sig, hits: this.procs(inst).filter((p) => re.test(p.name)) };
  }

  private pgrep(inst: Instance, args: string[]): ShimResult {
    const m = this.match(inst, args);
    if ('code' in m) return m;
    return m.hits.length ? ok(m.hits.map((h) => `${h.pid}\n`).join('')) : { stdout: '', stderr: '', code: 1 };
  }

  private signal(inst: Instance, name: DaemonName, sig: number): void {
    if (sig === 9 || sig === 3 || sig === 6) this.world.daemonStop(inst, name, 'kill');
    else if (sig === 15 || sig === 2) this.world.daemonStop(inst, name, 'stop');
  }

  private pkill(inst: Instance, args: string[]): ShimResult {
    const m = this.match(inst, args);
    if ('code' in m) return m;
    for (const h of m.hits) this.signal(inst, h.daemon, m.sig);
    return { stdout: '', stderr: '', code: m.hits.length ? 0 : 1 };
  }

  private kill(inst: Instance, args: string[]): ShimResult {
    let sig = 15;
    const pids: number[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-s') sig = signalOf(args[++i] ?? '') ?? -1;
      else if (a.startsWith('-') && signalOf(a) !== undefined) sig = signalOf(a)!;
      else if (/^\d+$/.test(a)) pids.push(Number(a));
      else return fail(`kill: ${a}: arguments must be process or job IDs`);
    }
    if (sig < 0) return fail('kill: invalid signal specification');
    let code = 0;
    let err = '';
    for (const pid of pids) {
      const p = this.procs(inst).find((x) => x.pid === pid);
      if (!p) { err += `kill: (${pid}) - No such process\n`; code = 1; continue; }
      this.signal(inst, p.daemon, sig);
    }
    return { stdout: '', stderr: err, code };
  }

  /** crictl: the lab runs no kube-proxy container (it is a systemd unit on lab nodes). */
  private crictl(inst: Instance, args: string[]): ShimResult {
    if (inst.spec.runtime === 'docker') return fail('crictl: failed to connect: connection error: dial unix /run/containerd/containerd.sock: no such file or directory', 1);
    if (args[0] === 'ps') return ok('');
    if (args[0] === 'stop' || args[0] === 'rm') return fail(`crictl: container "${args[1] ?? ''}" not found`, 1);
    return fail(`crictl: unsupported in the lab: ${args.join(' ')}`, 1);
  }
}
