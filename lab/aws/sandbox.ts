// Runs an SSM AWS-RunShellScript document's text the way the agent would, but inside a sandbox:
// new mount, network, PID and UTS namespaces (no network at all), a private tmpfs over /tmp and
// /dev/shm, the uid of `nobody`, an empty environment and a PATH holding only the lab's node shims
// and a few harmless tools. The shims talk to the lab daemon over a Unix socket (bind-mounted at
// /mnt), so a script acts on the simulated node and never on this machine.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const SHIM_COMMANDS = ['systemctl', 'systemd-run', 'pgrep', 'pkill', 'kill', 'crictl'];
const SAFE_TOOLS = ['echo', 'printf', 'cat', 'sleep', 'date', 'true', 'false', 'test', '[', 'grep', 'sed', 'awk', 'head', 'tail', 'wc',
  'sort', 'uniq', 'tr', 'cut', 'seq', 'id', 'uname', 'ls', 'env', 'basename', 'dirname', 'timeout', 'xargs', 'mktemp', 'touch', 'rm', 'mkdir', 'hostname', 'sh', 'bash'];

/** The client the shims run: one JSON request over the socket, prints the answer, exits with its code. */
const SHIM_CLIENT = `import net from 'node:net';
const [name, ...args] = process.argv.slice(2);
const sock = net.createConnection(process.env.LAB_NODE_SOCK);
let buf = '';
sock.on('connect', () => sock.write(JSON.stringify({ instanceId: process.env.LAB_INSTANCE_ID, token: process.env.LAB_NODE_TOKEN, argv: [name, ...args] }) + '\\n'));
sock.on('data', (d) => { buf += d; });
sock.on('end', () => {
  try { const r = JSON.parse(buf); process.stdout.write(r.stdout); process.stderr.write(r.stderr); process.exitCode = r.code; }
  catch { process.stderr.write(name + ': lab node agent gave no answer\\n'); process.exitCode = 1; }
});
sock.on('error', (e) => { process.stderr.write(name + ': cannot reach the lab node agent: ' + e.message + '\\n'); process.exitCode = 1; });
`;

export interface SandboxLayout { dir: string; bin: string; socket: string; isolation: 'namespaces' | 'none' }

/** Writes the shims and the tool links; `dir` is bind-mounted at /mnt inside the sandbox. */
export function prepareSandbox(dir: string): SandboxLayout {
  const bin = path.join(dir, 'bin');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(bin, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'shim.mjs'), SHIM_CLIENT, { mode: 0o644 });
  for (const c of SHIM_COMMANDS) {
    fs.writeFileSync(path.join(bin, c), `#!/bin/sh\nexec ${process.execPath} --no-warnings /mnt/shim.mjs ${c} "$@"\n`, { mode: 0o755 });
  }
  for (const t of SAFE_TOOLS) {
    const real = ['/usr/bin', '/bin'].map((d) => path.join(d, t)).find((p) => fs.existsSync(p));
    if (real) fs.symlinkSync(real, path.join(bin, t));
  }
  const probe = spawnSync('unshare', ['-m', '-n', '-p', '-u', '--fork', 'true'], { timeout: 5000 });
  return { dir, bin, socket: path.join(dir, 'node.sock'), isolation: probe.status === 0 ? 'namespaces' : 'none' };
}

export interface ScriptResult { stdout: string; stderr: string; code: number; timedOut: boolean }

export function runScript(layout: SandboxLayout, opts: { instanceId: string; hostname: string; token: string; script: string; timeoutMs: number }): { done: Promise<ScriptResult>; cancel: () => void } {
  // `kill` is a bash builtin; disable it so `kill -9 <pid>` reaches the node's (simulated) processes.
  const script = `enable -n kill\n${opts.script}`;
  const env = ['env', '-i', 'PATH=/mnt/bin', 'HOME=/tmp', 'TMPDIR=/tmp', 'LANG=C', `LAB_NODE_SOCK=/mnt/node.sock`, `LAB_INSTANCE_ID=${opts.instanceId}`, `LAB_NODE_TOKEN=${opts.token}`, `LAB_SCRIPT=${script}`,
    '/bin/bash', '--noprofile', '--norc', '-c', 'eval "$LAB_SCRIPT"'];
  let cmd: string[];
  if (layout.isolation === 'namespaces') {
    const inner = `mount --bind "$0" /mnt && mount -t tmpfs -o size=16m none /tmp && mount -t tmpfs -o size=1m none /dev/shm && hostname "$1" && cd /tmp && shift && exec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs "$@"`;
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
