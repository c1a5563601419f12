// What the lab's shims do on a simulated node: `systemctl`, `systemd-run`, `pgrep`, `pkill`, `kill`,
// `ps`, `curl`, `crictl` and `apiclient`, acting on the node's simulated daemons in the World. Which
// of them exist depends on the node's OS (OS_COMMANDS); anything else is "command not found", as on a
// node without that tool. Commands are matched by basename, so `/usr/bin/pkill` is `pkill`.
//
// Per OS (what an SSM Run Command script sees):
// - al2023: systemd units kubelet and containerd; kube-proxy is the DaemonSet's container (a process,
//   no unit). No crictl: the AL2023 EKS AMI installs nerdctl, not cri-tools
//   (amazon-eks-ami templates/al2023/provisioners/install-worker.sh).
// - al2: units kubelet and docker (or containerd); crictl from cri-tools (templates/al2/provisioners/
//   install-worker.sh: "install cri-tools for crictl").
// - bottlerocket: the SSM agent runs in the control container: no host systemd (no systemctl,
//   systemd-run), no crictl, and its own PID namespace (pgrep/pkill/kill/ps see no host process). It
//   does share the host's network namespace (bottlerocket sources/host-ctr: every host container gets
//   oci.WithHostNamespace(runtimespec.NetworkNamespace)), so curl reaches 127.0.0.1:10256 and :10248.
//   The Bottlerocket API client is mounted at /usr/local/bin/apiclient in every host container
//   (Bottlerocket docs, concepts/host-containers: "API Access"); the lab answers `apiclient get os`.
import path from 'node:path';
import type { NodeOs } from '../topology.js';
import type { Daemon, DaemonName, Instance, World } from './model.js';

export interface ShimResult {
  stdout: string;
  stderr: string;
  code: number;
  /** the shim waits this long before it answers (curl to a frozen daemon: until its --max-time) */
  delayMs?: number;
  /** curl -o FILE: the client writes the body there */
  outFile?: { path: string; data: string };
}

export const OS_COMMANDS: Record<NodeOs, readonly string[]> = {
  al2023: ['systemctl', 'systemd-run', 'pgrep', 'pkill', 'kill', 'ps', 'curl'],
  al2: ['systemctl', 'systemd-run', 'pgrep', 'pkill', 'kill', 'ps', 'curl', 'crictl'],
  bottlerocket: ['pgrep', 'pkill', 'kill', 'ps', 'curl', 'apiclient'],
};

const UNIT_NAMES: Record<string, DaemonName> = { kubelet: 'kubelet', containerd: 'containerd', docker: 'docker', 'kube-proxy': 'kube-proxy' };

const UNIT_FILES: Record<NodeOs, Record<string, string>> = {
  al2023: { kubelet: '/etc/systemd/system/kubelet.service', containerd: '/usr/lib/systemd/system/containerd.service' },
  al2: { kubelet: '/etc/systemd/system/kubelet.service', docker: '/usr/lib/systemd/system/docker.service', containerd: '/usr/lib/systemd/system/containerd.service' },
  bottlerocket: {},
};

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ABRT: 6, KILL: 9, USR1: 10, USR2: 12, PIPE: 13, TERM: 15, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22 };

function signalOf(s: string): number | undefined {
  const x = s.replace(/^-/, '').replace(/^SIG/i, '').toUpperCase();
  if (/^\d+$/.test(x)) return Number(x) <= 64 ? Number(x) : undefined;
  return SIGNALS[x];
}

const ok = (stdout = ''): ShimResult => ({ stdout, stderr: '', code: 0 });
const fail = (stderr: string, code = 1): ShimResult => ({ stdout: '', stderr: stderr.endsWith('\n') ? stderr : stderr + '\n', code });
const notFound = (argv0: string): ShimResult => (argv0.includes('/') ? fail(`bash: ${argv0}: No such file or directory`, 127) : fail(`bash: ${argv0}: command not found`, 127));

function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|sec|m|min|h)?$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * ({ ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 } as Record<string, number>)[unit];
}

interface Proc { pid: number; comm: string; cmdline: string; daemon: Daemon }

/** Go's time.Time String() (what kube-proxy's healthz prints), to the millisecond. */
function goTime(d: Date): string {
  return `${d.toISOString().replace('T', ' ').replace('Z', '')} +0000 UTC`;
}

export class NodeSim {
  private unitSeq = 0;
  constructor(private readonly world: World) {}

  run(inst: Instance, argv: string[]): ShimResult {
    const [argv0, ...args] = argv;
    const cmd = path.basename(argv0 ?? '');
    if (!OS_COMMANDS[inst.spec.os].includes(cmd)) return notFound(argv0 ?? '');
    switch (cmd) {
      case 'systemctl': return this.systemctl(inst, args);
      case 'systemd-run': return this.systemdRun(inst, args);
      case 'pgrep': return this.pgrep(inst, args);
      case 'pkill': return this.pkill(inst, args);
      case 'kill': return this.kill(inst, args);
      case 'ps': return this.ps(inst, args);
      case 'curl': return this.curl(inst, args);
      case 'crictl': return this.crictl(inst, args);
      case 'apiclient': return this.apiclient(inst, args);
      default: return notFound(argv0 ?? '');
    }
  }

  /** Did a quirk swallow this action? Then it is logged and the caller answers success. */
  private quirked(inst: Instance, d: DaemonName, action: string): boolean {
    if (!this.world.hasQuirk(inst, d, 'ignore-stop')) return false;
    this.world.onEvent('quirk.applied', { instanceId: inst.id, node: inst.spec.name, daemon: d, quirk: 'ignore-stop', action });
    return true;
  }

  // ---- systemctl ----
  private systemctl(inst: Instance, args: string[]): ShimResult {
    const flags = args.filter((a) => a.startsWith('-'));
    const pos: string[] = [];
    let sigArg: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-s' || a === '--signal') sigArg = args[++i];
      else if (a.startsWith('--signal=')) sigArg = a.slice(9);
      else if (!a.startsWith('-')) pos.push(a);
    }
    const [verb, ...units] = pos;
    const quiet = flags.includes('--quiet') || flags.includes('-q');
    if (!verb) return fail('systemctl: missing verb');
    if (verb === 'daemon-reload') return ok();
    if (!units.length) return fail('Too few arguments.');
    let out = '';
    let err = '';
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
      const base = u.replace(/\.service$/, '');
      const d = UNIT_NAMES[base];
      const daemon = d ? inst.daemons.get(d) : undefined;
      if (!daemon || daemon.kind !== 'unit') {
        // no such unit (kube-proxy is a container, not a unit, on every EKS node): systemctl's own answers
        const unit = `${base}.service`;
        switch (verb) {
          case 'is-active': case 'is-failed': if (!quiet) out += 'inactive\n'; code = 3; continue;
          case 'status': err += `Unit ${unit} could not be found.\n`; code = 4; continue;
          case 'start': case 'restart': return fail(`Failed to ${verb} ${unit}: Unit ${unit} not found.`, 5);
          case 'stop': return fail(`Failed to stop ${unit}: Unit ${unit} not loaded.`, 5);
          case 'kill': return fail(`Failed to kill unit ${unit}: Unit ${unit} not loaded.`, 5);
          default: return fail(`Unknown command verb ${verb}.`);
        }
      }
      switch (verb) {
        case 'stop':
          if (this.quirked(inst, daemon.name, 'systemctl stop')) break;
          this.world.daemonStop(inst, daemon.name, 'stop', 'systemctl stop');
          break;
        case 'start': this.world.daemonStart(inst, daemon.name, 'systemctl start'); break;
        case 'restart': this.world.daemonRestart(inst, daemon.name, 'systemctl restart'); break;
        case 'kill': {
          const n = signalOf(sigArg ?? 'TERM');
          if (n === undefined) return fail(`Failed to parse signal string ${sigArg}.`);
          if ((n === 19 || n === 20) && this.quirked(inst, daemon.name, `systemctl kill -s ${sigArg}`)) break;
          this.world.daemonSignal(inst, daemon.name, n, `systemctl kill -s ${sigArg ?? 'TERM'}`);
          break;
        }
        case 'is-active': {
          const active = this.world.daemonActive(inst, daemon.name);
          if (!quiet) out += active ? 'active\n' : 'inactive\n';
          if (!active) code = 3;
          break;
        }
        case 'status': {
          const active = this.world.daemonActive(inst, daemon.name);
          out += `● ${base}.service\n     Loaded: loaded (${UNIT_FILES[inst.spec.os][base] ?? `/etc/systemd/system/${base}.service`}; enabled; preset: disabled)\n     Active: ${active ? 'active (running)' : 'inactive (dead)'}\n${active ? `   Main PID: ${daemon.pid} (${daemon.comm})\n` : ''}`;
          if (!active) code = 3;
          break;
        }
        default: return fail(`Unknown command verb ${verb}.`);
      }
    }
    return { stdout: out, stderr: err, code };
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
      else if (a.startsWith('--timer-property=') || a === '--collect' || a === '-G' || a === '--no-block' || a === '-q' || a === '--quiet' || a.startsWith('--description=')) continue;
      else if (a === '--timer-property' || a === '--description' || a === '-p' || a === '--property') i++;
      else return fail(`systemd-run: unrecognized option '${a}'`);
    }
    const cmd = args.slice(i);
    if (!cmd.length) return fail('systemd-run: command line to execute required.');
    // systemd-run looks the executable up in PATH before it creates anything
    if (!OS_COMMANDS[inst.spec.os].includes(path.basename(cmd[0]))) return fail(`Failed to find executable ${cmd[0]}: No such file or directory`);
    if (delayMs === undefined) {
      return this.run(inst, cmd);
    }
    const name = (unit ?? `run-r${(++this.unitSeq).toString(16)}${Date.now().toString(16)}`).replace(/\.(service|timer)$/, '');
    if (inst.transientUnits.has(name)) return fail(`Failed to start transient timer unit: Unit ${name}.timer was already loaded or has a fragment file.`);
    const h = setTimeout(() => {
      inst.transientUnits.delete(name);
      if (inst.state !== 'running') return;
      const r = this.run(inst, cmd);
      this.world.onEvent('node.timer.fired', { instanceId: inst.id, node: inst.spec.name, unit: name, command: cmd.join(' '), code: r.code });
    }, delayMs);
    inst.transientUnits.set(name, h);
    this.world.onEvent('node.timer.created', { instanceId: inst.id, node: inst.spec.name, unit: name, command: cmd.join(' '), delayMs });
    return { stdout: '', stderr: `Running timer as unit: ${name}.timer\nWill run service as unit: ${name}.service\n`, code: 0 };
  }

  // ---- processes ----
  /** The node's processes the script can see: every live daemon, frozen ones too (as real pgrep/ps list them). None on Bottlerocket (the control container's own PID namespace). */
  private procs(inst: Instance): Proc[] {
    if (inst.spec.os === 'bottlerocket') return [];
    return [...inst.daemons.values()].filter((d) => this.world.daemonActive(inst, d.name)).map((d) => ({ pid: d.pid, comm: d.comm, cmdline: d.cmdline, daemon: d })).sort((a, b) => a.pid - b.pid);
  }

  /** pgrep/pkill options: -x -f -o -n -l -a -c (also combined, as -xo), -SIG/-N and --signal SIG for pkill. */
  private match(inst: Instance, args: string[], tool: 'pgrep' | 'pkill'): { sig: number; sigName: string; hits: Proc[]; list: 'pid' | 'name' | 'full'; count: boolean } | ShimResult {
    let sig = 15;
    let sigName = 'TERM';
    let exact = false;
    let full = false;
    let oldest = false;
    let newest = false;
    let list: 'pid' | 'name' | 'full' = 'pid';
    let count = false;
    let pattern: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--exact') exact = true;
      else if (a === '--full') full = true;
      else if (a === '--oldest') oldest = true;
      else if (a === '--newest') newest = true;
      else if (a === '--count') count = true;
      else if (tool === 'pkill' && (a === '--signal' || a.startsWith('--signal='))) {
        sigName = a === '--signal' ? args[++i] ?? '' : a.slice(9);
        sig = signalOf(sigName) ?? -1;
      } else if (tool === 'pkill' && /^-(SIG)?[A-Z]+\d*$|^-\d+$/i.test(a) && signalOf(a) !== undefined && !/^-[xfonlac]+$/.test(a)) {
        sig = signalOf(a)!;
        sigName = a.slice(1);
      } else if (/^-[xfonlac]+$/.test(a)) {
        for (const c of a.slice(1)) {
          if (c === 'x') exact = true;
          else if (c === 'f') full = true;
          else if (c === 'o') oldest = true;
          else if (c === 'n') newest = true;
          else if (c === 'l' && tool === 'pgrep') list = 'name';
          else if (c === 'a' && tool === 'pgrep') list = 'full';
          else if (c === 'c') count = true;
          else return fail(`${tool}: invalid option -- '${c}'`, 2);
        }
      } else if (a.startsWith('-')) return fail(`${tool}: invalid option -- '${a.replace(/^-+/, '')}'`, 2);
      else if (pattern === undefined) pattern = a;
      else return fail(`${tool}: only one pattern can be provided`, 2);
    }
    if (pattern === undefined) return fail(`${tool}: no matching criteria specified\nTry \`${tool} --help' for more information.`, 2);
    if (sig < 0) return fail(`${tool}: Unknown signal "${sigName}".`, 2);
    if (oldest && newest) return fail(`${tool}: -n and -o are mutually exclusive`, 2);
    let re: RegExp;
    try { re = new RegExp(exact ? `^(?:${pattern})$` : pattern); } catch { return fail(`${tool}: invalid regular expression`, 2); }
    let hits = this.procs(inst).filter((p) => re.test(full ? p.cmdline : p.comm.slice(0, 15)));
    if (oldest) hits = hits.slice(0, 1);
    if (newest) hits = hits.slice(-1);
    return { sig, sigName, hits, list, count };
  }

  private pgrep(inst: Instance, args: string[]): ShimResult {
    const m = this.match(inst, args, 'pgrep');
    if ('code' in m) return m;
    if (m.count) return { stdout: `${m.hits.length}\n`, stderr: '', code: m.hits.length ? 0 : 1 };
    const line = (h: Proc) => (m.list === 'name' ? `${h.pid} ${h.comm}` : m.list === 'full' ? `${h.pid} ${h.cmdline}` : `${h.pid}`);
    return m.hits.length ? ok(m.hits.map((h) => `${line(h)}\n`).join('')) : { stdout: '', stderr: '', code: 1 };
  }

  /** Delivers a signal to a daemon's process; ignore-stop swallows SIGSTOP/SIGTSTP. */
  private deliver(inst: Instance, d: DaemonName, sig: number, by: string): void {
    if ((sig === 19 || sig === 20) && this.quirked(inst, d, by)) return;
    this.world.daemonSignal(inst, d, sig, by);
  }

  private pkill(inst: Instance, args: string[]): ShimResult {
    const m = this.match(inst, args, 'pkill');
    if ('code' in m) return m;
    for (const h of m.hits) this.deliver(inst, h.daemon.name, m.sig, `pkill -${m.sigName.replace(/^SIG/i, '')}`);
    if (m.count) return { stdout: `${m.hits.length}\n`, stderr: '', code: m.hits.length ? 0 : 1 };
    return { stdout: '', stderr: '', code: m.hits.length ? 0 : 1 };
  }

  /** kill [-SIG | -N | -s SIG | -n N | --signal SIG] PID…; -0 checks the process exists. */
  private kill(inst: Instance, args: string[]): ShimResult {
    let sig = 15;
    let sigName = 'TERM';
    const pids: number[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-s' || a === '-n' || a === '--signal') { sigName = args[++i] ?? ''; sig = signalOf(sigName) ?? -1; }
      else if (a === '--') continue;
      else if (a.startsWith('-') && !/^-\d+$/.test(a.slice(1)) && signalOf(a) !== undefined) { sig = signalOf(a)!; sigName = a.slice(1); }
      else if (/^\d+$/.test(a)) pids.push(Number(a));
      else if (a.startsWith('-')) return fail(`kill: unknown signal: ${a}`);
      else return fail(`kill: cannot find process "${a}"`);
    }
    if (sig < 0) return fail(`kill: unknown signal: ${sigName}`);
    if (!pids.length) return fail('kill: not enough arguments');
    let code = 0;
    let err = '';
    for (const pid of pids) {
      const p = this.procs(inst).find((x) => x.pid === pid);
      if (!p) { err += `kill: (${pid}) - No such process\n`; code = 1; continue; }
      if (sig !== 0) this.deliver(inst, p.daemon.name, sig, `kill -${sigName.replace(/^SIG/i, '')}`);
    }
    return { stdout: '', stderr: err, code };
  }

  /**
   * ps -o FIELDS -p PID[,PID] (also -e/-A, -C NAME, -q): fields pid, ppid, stat, comm, args/cmd, user;
   * `field=` drops the header. STAT is `Ssl` (sleeping, session leader, threaded: a Go daemon) and `Tsl`
   * when stopped (SIGSTOP). A pid that does not exist: no line, exit 1.
   */
  private ps(inst: Instance, args: string[]): ShimResult {
    let fields: Array<{ name: string; header?: string }> | undefined;
    let pids: number[] | undefined;
    let names: string[] | undefined;
    let all = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-o' || a === '--format') {
        const spec = args[++i] ?? '';
        fields = [...(fields ?? []), ...spec.split(',').map((f) => { const [name, header] = f.split('='); return { name, header: f.includes('=') ? header : undefined }; })];
      } else if (a.startsWith('-o') && a.length > 2) {
        fields = [...(fields ?? []), ...a.slice(2).split(',').map((f) => { const [name, header] = f.split('='); return { name, header: f.includes('=') ? header : undefined }; })];
      } else if (a === '-p' || a === '-q' || a === '--pid') pids = [...(pids ?? []), ...(args[++i] ?? '').split(',').map(Number)];
      else if (/^-p\d/.test(a)) pids = [...(pids ?? []), ...a.slice(2).split(',').map(Number)];
      else if (a === '-C') names = [...(names ?? []), ...(args[++i] ?? '').split(',')];
      else if (a === '-e' || a === '-A') all = true;
      else if (a === '-h' || a === '--no-headers') fields = fields?.map((f) => ({ ...f, header: '' }));
      else return fail(`error: unsupported option in the lab: ${a}\n\nUsage:\n ps [options]`);
    }
    if (pids?.some((p) => !Number.isInteger(p) || p <= 0)) return fail('error: process ID list syntax error', 1);
    fields ??= [{ name: 'pid' }, { name: 'tty' }, { name: 'time' }, { name: 'cmd' }];
    const HEADERS: Record<string, string> = { pid: 'PID', ppid: 'PPID', stat: 'STAT', comm: 'COMMAND', cmd: 'CMD', args: 'COMMAND', user: 'USER', tty: 'TT', time: 'TIME' };
    for (const f of fields) if (!(f.name in HEADERS)) return fail(`error: unknown user-defined format specifier "${f.name}"`);
    const procs = this.procs(inst).filter((p) => all || (pids && pids.includes(p.pid)) || (names && names.includes(p.comm)));
    const value = (p: Proc, f: string): string => {
      switch (f) {
        case 'pid': return String(p.pid).padStart(7);
        case 'ppid': return String(p.daemon.kind === 'container' ? 1500 : 1).padStart(7);
        case 'stat': return p.daemon.frozen ? 'Tsl' : 'Ssl';
        case 'comm': return p.comm;
        case 'cmd': case 'args': return p.cmdline;
        case 'user': return 'root';
        case 'tty': return '?';
        default: return '00:00:01';
      }
    };
    const headerless = fields.every((f) => f.header === '');
    let out = headerless ? '' : `${fields.map((f) => (f.header ?? HEADERS[f.name]).padStart(f.name === 'pid' || f.name === 'ppid' ? 7 : 0)).join(' ')}\n`;
    for (const p of procs) out += `${fields.map((f) => value(p, f.name)).join(' ')}\n`;
    return { stdout: out, stderr: '', code: procs.length ? 0 : 1 };
  }

  /**
   * curl to the node's local health endpoints: kube-proxy's healthz (127.0.0.1:10256/healthz, /livez)
   * and the kubelet's (127.0.0.1:10248/healthz). Running: 200 with the daemon's body. Frozen: the kernel
   * accepts the connection and nobody answers, so curl times out (exit 28) after --max-time (the shim
   * waits that long; without -m it waits until SSM's execution timeout ends the script). Not running:
   * connection refused (exit 7). Anything else: no network in the sandbox (exit 7, or 6 for a name).
   */
  private curl(inst: Instance, args: string[]): ShimResult {
    let failHttp = false;
    let silent = false;
    let showError = false;
    let maxTime: number | undefined;
    let output: string | undefined;
    let writeOut: string | undefined;
    let include = false;
    let url: string | undefined;
    const needs = (i: number, opt: string): string | ShimResult => (args[i] === undefined ? fail(`curl: option ${opt}: requires parameter\ncurl: try 'curl --help' for more information`, 2) : args[i]);
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '--fail' || a === '--fail-with-body') failHttp = true;
      else if (a === '--silent') silent = true;
      else if (a === '--show-error') showError = true;
      else if (a === '--include') include = true;
      else if (a === '--max-time' || a === '--connect-timeout' || a === '--output' || a === '--write-out' || a === '--retry' || a === '--retry-delay') {
        const v = needs(++i, a);
        if (typeof v !== 'string') return v;
        if (a === '--max-time') maxTime = Number(v);
        else if (a === '--output') output = v;
        else if (a === '--write-out') writeOut = v;
      } else if (a.startsWith('--max-time=')) maxTime = Number(a.slice(11));
      else if (/^-[fsSiLkv]*[mow]?$/.test(a) && a.length > 1) {
        const letters = a.slice(1);
        for (const c of letters) {
          if (c === 'f') failHttp = true;
          else if (c === 's') silent = true;
          else if (c === 'S') showError = true;
          else if (c === 'i') include = true;
          else if (c === 'm' || c === 'o' || c === 'w') {
            const v = needs(++i, `-${c}`);
            if (typeof v !== 'string') return v;
            if (c === 'm') maxTime = Number(v);
            else if (c === 'o') output = v;
            else writeOut = v;
          }
        }
      } else if (a.startsWith('-')) return fail(`curl: option ${a}: is unknown\ncurl: try 'curl --help' for more information`, 2);
      else url = a;
    }
    if (maxTime !== undefined && !(maxTime >= 0)) return fail('curl: option -m: expected a proper numerical parameter', 2);
    const err = (code: number, msg: string, delayMs?: number): ShimResult => ({ stdout: '', stderr: !silent || showError ? `curl: (${code}) ${msg}\n` : '', code, delayMs });
    if (!url) return fail("curl: no URL specified\ncurl: try 'curl --help' for more information", 2);
    let u: URL;
    try { u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`); } catch { return err(3, 'URL rejected: Malformed input to a URL function'); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return err(1, `Protocol "${u.protocol.replace(':', '')}" not supported`);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
    if (!loopback) {
      if (!/^[\d.]+$/.test(host) && !host.includes(':')) return err(6, `Could not resolve host: ${host}`);
      return err(7, `Failed to connect to ${host} port ${port} after 0 ms: Couldn't connect to server`);
    }
    const daemon: DaemonName | undefined = port === 10256 ? 'kube-proxy' : port === 10248 ? 'kubelet' : undefined;
    if (!daemon || !this.world.daemonActive(inst, daemon) || u.protocol === 'https:') {
      return err(7, `Failed to connect to ${host} port ${port} after 0 ms: Couldn't connect to server`);
    }
    if (!this.world.daemonServing(inst, daemon)) {
      // frozen: the listen socket's backlog accepts the connection; the process never reads it
      const ms = maxTime !== undefined ? Math.round(maxTime * 1000) : 3_600_000;
      return err(28, `Operation timed out after ${ms} milliseconds with 0 bytes received`, ms);
    }
    let status = 404;
    let body = '404 page not found\n';
    let type = 'text/plain; charset=utf-8';
    if (daemon === 'kube-proxy' && (u.pathname === '/healthz' || u.pathname === '/livez')) {
      // kubernetes pkg/proxy/healthcheck/proxy_health.go healthzHandler
      const now = goTime(new Date());
      status = 200;
      type = 'application/json';
      body = u.pathname === '/healthz' ? `{"lastUpdated": "${now}","currentTime": "${now}", "nodeEligible": true}` : `{"lastUpdated": "${now}","currentTime": "${now}"}`;
    } else if (daemon === 'kubelet' && u.pathname === '/healthz') {
      status = 200;
      body = 'ok';
    }
    const head = `HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Not Found'}\r\nContent-Type: ${type}\r\nDate: ${new Date().toUTCString()}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const wo = writeOut ? writeOut.replace(/%\{http_code\}|%\{response_code\}/g, String(status)).replace(/\\n/g, '\n') : '';
    if (failHttp && status >= 400) return { ...err(22, `The requested URL returned error: ${status}`), stdout: wo };
    const payload = (include ? head : '') + body;
    if (output === '/dev/null') return { stdout: wo, stderr: '', code: 0 };
    if (output && output !== '-') return { stdout: wo, stderr: '', code: 0, outFile: { path: output, data: payload } };
    return { stdout: payload + wo, stderr: '', code: 0 };
  }

  /** crictl (AL2 only, from cri-tools): the lab keeps no CRI container list; kube-proxy is a process here. */
  private crictl(inst: Instance, args: string[]): ShimResult {
    if (inst.spec.runtime === 'docker') return fail('crictl: failed to connect: connection error: dial unix /run/containerd/containerd.sock: no such file or directory', 1);
    if (args[0] === 'ps') return ok('');
    if (args[0] === 'stop' || args[0] === 'rm') return fail(`crictl: container "${args[1] ?? ''}" not found`, 1);
    return fail(`crictl: unsupported in the lab: ${args.join(' ')}`, 1);
  }

  /** The Bottlerocket API client in the control container: the lab answers `apiclient get os` (and `apiclient -u /os`). */
  private apiclient(inst: Instance, args: string[]): ShimResult {
    const os = { arch: 'x86_64', build_id: 'b7e2e3a9', pretty_name: 'Bottlerocket OS 1.32.0 (aws-k8s-1.32)', variant_id: 'aws-k8s-1.32', version_id: '1.32.0' };
    const a = args.join(' ');
    if (a === 'get os' || a === 'get os.' ) return ok(JSON.stringify({ os }, null, 2) + '\n');
    if (a === '-u /os' || a === '--uri /os' || a === 'raw -u /os') return ok(JSON.stringify(os) + '\n');
    return fail(`apiclient: the lab's Bottlerocket API answers \`apiclient get os\` only (node ${inst.spec.name})`, 1);
  }
}
