// moto's server (PyPI `moto[server]`, see lab/requirements-test.txt) on 127.0.0.1, for the contract check.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, sleep } from '../../lab/procs.js';

export interface Moto { endpoint: string; stop(): Promise<void> }

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto server exited (${child.exitCode}); install it with: python3 -m pip install -r lab/requirements-test.txt\n${err.slice(-2000)}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (r.status < 500) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) { child.kill(); throw new Error(`moto server did not start on ${endpoint}: ${err.slice(-2000)}`); }
    await sleep(200);
  }
  return {
    endpoint,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
