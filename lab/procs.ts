// Starting and stopping the lab's long-running processes. Each runs detached (it outlives
// `npm run lab -- up`), logs to `.lab/logs/<name>.log`, and is recorded with its pid and start time
// so `down` never kills a recycled pid.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface ProcRecord {
  name: string;
  pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot): identifies the process beyond its pid. */
  startTicks: string;
  cmd: string[];
  log: string;
}

export function procStartTicks(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; fields after the closing paren are space separated.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 overall: starttime
  } catch {
    return undefined;
  }
}

export function isAlive(p: ProcRecord): boolean {
  const ticks = procStartTicks(p.pid);
  if (ticks === undefined || ticks !== p.startTicks) return false;
  try {
    const state = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return !/\) Z /.test(state);
  } catch {
    return false;
  }
}

export function startProc(name: string, cmd: string[], logDir: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): ProcRecord {
  fs.mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `${name}.log`);
  const fd = fs.openSync(log, 'a');
  const child = spawn(cmd[0], cmd.slice(1), { detached: true, stdio: ['ignore', fd, fd], env, cwd });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name}: ${cmd[0]}`);
  child.unref();
  const startTicks = procStartTicks(child.pid) ?? '';
  return { name, pid: child.pid, startTicks, cmd, log };
}

export async function stopProc(p: ProcRecord, graceMs = 5000): Promise<void> {
  if (!isAlive(p)) return;
  try { process.kill(p.pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(p)) return;
    await sleep(100);
  }
  try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  const hard = Date.now() + 2000;
  while (isAlive(p) && Date.now() < hard) await sleep(50);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A free TCP port on 127.0.0.1 (bound then released: racy in theory, fine for one lab at a time). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
