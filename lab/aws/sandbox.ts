// Runs an SSM AWS-RunShellScript document's text the way the agent would, but inside a sandbox:
// new mount, network, PID and UTS namespaces (no network at all), a private tmpfs over /tmp and
// /dev/shm, the uid of `nobody`, an empty environment and a PATH holding only the lab's node shims
// and a few harmless tools. The shims talk to the lab daemon over a Unix socket (bind-mounted at
// /mnt), so a script acts on the simulated node and never on this machine.
//
// PATH holds only the commands the node's OS has (nodesim.ts OS_COMMANDS: no crictl on AL2023, no
// systemctl on Bottlerocket's control container), so `command -v crictl` answers as the node would.
// Absolute paths work too: inside the sandbox's private mount namespace every host copy of a shim
// command (/usr/bin/pkill, /bin/kill, /usr/bin/systemctl, …) is covered by a bind mount of the shim,
// which answers by basename (and "No such file or directory", 127, where the node's OS lacks it).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { NodeOs } from '../topology.js';
import { OS_COMMANDS } from './nodesim.js';

export const SHIM_COMMANDS = ['systemctl', 'systemd-run', 'pgrep', 'pkill', 'kill', 'ps', 'curl', 'crictl', 'apiclient'];
const OSES = Object.keys(OS_COMMANDS) as NodeOs[];
const SAFE_TOOLS = ['echo', 'printf', 'cat', 'sleep', 'date', 'true', 'false', 'test', '[', 'grep', 'sed', 'awk', 'head', 'tail', 'wc',
  'sort', 'uniq', 'tr', 'cut', 'seq', 'id', 'uname', 'ls', 'env', 'basename', 'dirname', 'timeout', 'xargs', 'mktemp', 'touch', 'rm', 'mkdir', 'hostname', 'sh', 'bash'];

/** The client the shims run: one JSON request over the socket, prints the answer, exits with its code. */
const SHIM_CLIENT = `import net from 'node:net';
import fs from 'node:fs';
const [name, ...args] = process.argv.slice(2);
const sock = net.createConnection(process.env.LAB_NODE_SOCK);
let buf = '';
sock.on('connect', () => sock.write(JSON.stringify({ instanceId: process.env.LAB_INSTANCE_ID, token: process.env.LAB_NODE_TOKEN, argv: [name, ...args] }) + '\\n'));
sock.on('data', (d) => { buf += d; });
sock.on('end', () => {
  let r;
  try { r = JSON.parse(buf); } catch { process.stderr.write(name + ': lab node agent gave no answer\\n'); process.exitCode = 1; return; }
  setTimeout(() => {
    if (r.outFile) { try { fs.writeFileSync(r.outFile.path, r.outFile.data); } catch (e) { process.stderr.write('curl: (23) Failure writing output to destination: ' + e.message + '\\n'); process.exitCode = 23; return; } }
    process.stdout.write(r.stdout); process.stderr.write(r.stderr); process.exitCode = r.code;
  }, r.delayMs || 0);
});
sock.on('error', (e) => { process.stderr.write(name + ': cannot reach the lab node agent: ' + e.message + '\\n'); process.exitCode = 1; });
`;

export interface SandboxLayout {
  dir: string;
  /** every shim (what the absolute-path bind mounts point at) */
  bin: string;
  socket: string;
  isolation: 'namespaces' | 'none';
  /** host files that are shim commands (real paths): covered by the shim inside the sandbox */
  overlays: Array<{ name: string; target: string }>;
}

/** Writes the shims and the tool links; `dir` is bind-mounted at /mnt inside the sandbox. */
export function prepareSandbox(dir: string): SandboxLayout {
  const bin = path.join(dir, 'bin');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(bin, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'shim.mjs'), SHIM_CLIENT, { mode: 0o644 });
  // the shim passes the name it was invoked by ("$0": /usr/bin/pkill or pkill), the node answers by basename
  const shim = () => `#!/bin/sh\nexec ${process.execPath} --no-warnings /mnt/shim.mjs "$0" "$@"\n`;
  for (const c of SHIM_COMMANDS) fs.writeFileSync(path.join(bin, c), shim(), { mode: 0o755 });
  const tools = SAFE_TOOLS.map((t) => [t, ['/usr/bin', '/bin'].map((d) => path.join(d, t)).find((p) => fs.existsSync(p))] as const);
  for (const [t, real] of tools) if (real) fs.symlinkSync(real, path.join(bin, t));
  for (const os of OSES) {
    const osBin = path.join(dir, `bin-${os}`);
    fs.mkdirSync(osBin, { mode: 0o755 });
    for (const c of OS_COMMANDS[os]) fs.writeFileSync(path.join(osBin, c), shim(), { mode: 0o755 });
    for (const [t, real] of tools) if (real) fs.symlinkSync(real, path.join(osBin, t));
  }
  const overlays: SandboxLayout['overlays'] = [];
  for (const c of SHIM_COMMANDS) {
    for (const d of ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/local/sbin']) {
      const p = path.join(d, c);
      let real: string;
      try { real = fs.realpathSync(p); } catch { continue; }
      if (!overlays.some((o) => o.target === real) && fs.statSync(real).isFile()) overlays.push({ name: c, target: real });
    }
  }
  const probe = spawnSync('unshare', ['-m', '-n', '-p', '-u', '--fork', 'true'], { timeout: 5000 });
  return { dir, bin, socket: path.join(dir, 'node.sock'), isolation: probe.status === 0 ? 'namespaces' : 'none', overlays };
}

export interface ScriptResult { stdout: string; stderr: string; code: number; timedOut: boolean }

export function runScript(layout: SandboxLayout, opts: { instanceId: string; hostname: string; token: string; script: string; timeoutMs: number; os?: NodeOs }): { done: Promise<ScriptResult>; cancel: () => void } {
  // `kill` is a bash builtin; disable it so `kill -9 <pid>` reaches the node's (simulated) processes.
  const script = `enable -n kill\n${opts.script}`;
  const env = ['env', '-i', `PATH=/mnt/bin-${opts.os ?? 'al2023'}`, 'HOME=/tmp', 'TMPDIR=/tmp', 'LANG=C', `LAB_NODE_SOCK=/mnt/node.sock`, `LAB_INSTANCE_ID=${opts.instanceId}`, `LAB_NODE_TOKEN=${opts.token}`, `LAB_SCRIPT=${script}`,
    '/bin/bash', '--noprofile', '--norc', '-c', 'eval "$LAB_SCRIPT"'];
  let cmd: string[];
  if (layout.isolation === 'namespaces') {
    // unshare -m makes the new mount namespace's propagation private: none of these mounts reach the host
    const covers = layout.overlays.map((o) => `mount --bind /mnt/bin/${o.name} ${o.target} && `).join('');
    const inner = `mount --bind "$0" /mnt && ${covers}mount -t tmpfs -o size=16m none /tmp && mount -t tmpfs -o size=1m none /dev/shm && hostname "$1" && cd /tmp && shift && exec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs "$@"`;
    cmd = ['unshare', '-m', '-n', '-p', '-u', '--fork', '--kill-child', '/bin/sh', '-c', inner, layout.dir, opts.hostname, ...env];
  } else {
    throw new Error('the lab cannot sandbox SSM scripts here: `unshare -m -n -p -u` failed (needs root or user namespaces)');
  }
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.on('data', (d: Buffer) => { if (stdout.length < 100_000) stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 100_000) stderr += d.toString(); });
  const killAll = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  const timer = setTimeout(() => { timedOut = true; killAll(); }, opts.timeoutMs);
  const done = new Promise<ScriptResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? (signal ? 128 + 9 : 1), timedOut });
    });
  });
  return { done, cancel: killAll };
}
