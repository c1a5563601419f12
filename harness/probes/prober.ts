// Open-loop HTTP probes: requests leave at a fixed rate whether or not earlier ones returned (no
// coordinated omission); latency is measured from the intended send time; a timeout is a failure
// counted at the timeout value. Every attempt goes to the run's timeline.
import http from 'node:http';
import https from 'node:https';
import type { Recorder } from '../timeline.js';

export interface ProbeSpec { name: string; url: string; rate: number; timeoutMs: number; expectStatus?: number[] }

export class Prober {
  private timer?: NodeJS.Timeout;
  private k = 0;
  private start = 0;
  private running = false;
  private readonly inflight = new Set<http.ClientRequest>();
  private readonly agent: http.Agent;
  /** recent outcomes (intended time, ok) for stop conditions */
  private readonly recent: Array<{ t: number; ok: boolean }> = [];
  sent = 0;
  maxLagMs = 0;

  constructor(readonly spec: ProbeSpec, private readonly rec: Recorder) {
    const mod = spec.url.startsWith('https:') ? https : http;
    this.agent = new mod.Agent({ keepAlive: true, maxSockets: Infinity });
  }

  begin(): void {
    this.running = true;
    this.start = this.rec.now();
    this.k = 0;
    this.tick();
  }

  private tick(): void {
    if (!this.running) return;
    const interval = 1000 / this.spec.rate;
    const now = this.rec.now();
    // fire every request whose intended time has come, even if we woke up late
    while (this.start + this.k * interval <= now) {
      const intended = this.start + this.k * interval;
      this.maxLagMs = Math.max(this.maxLagMs, now - intended);
      this.fire(intended);
      this.k++;
    }
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.start + this.k * interval - this.rec.now()));
  }

  private fire(intended: number): void {
    this.sent++;
    const mod = this.spec.url.startsWith('https:') ? https : http;
    let done = false;
    const finish = (ok: boolean, status?: number, error?: string, timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(to);
      this.inflight.delete(req);
      const latency = timedOut ? this.spec.timeoutMs : this.rec.now() - intended;
      this.rec.add({ t: intended, type: 'probe', probe: this.spec.name, latency, ok, status, error });
      this.recent.push({ t: intended, ok });
      if (this.recent.length > 100_000) this.recent.splice(0, 50_000);
    };
    const req = mod.get(this.spec.url, { agent: this.agent, headers: { 'user-agent': 'k8s-chaos-harness-probe' } }, (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const ok = this.spec.expectStatus ? this.spec.expectStatus.includes(status) : status >= 200 && status < 400;
        finish(ok, status, ok ? undefined : `HTTP ${status}`);
      });
      res.on('error', (e) => finish(false, res.statusCode, e.message));
    });
    this.inflight.add(req);
    const to = setTimeout(() => { finish(false, undefined, 'timeout', true); req.destroy(); }, this.spec.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(false, undefined, e.code ?? e.message));
  }

  /** Availability (percent) of attempts intended in the last `ms`; undefined without attempts. */
  windowAvailability(ms: number): number | undefined {
    const since = this.rec.now() - ms;
    const xs = this.recent.filter((r) => r.t >= since);
    return xs.length ? (xs.filter((r) => r.ok).length * 100) / xs.length : undefined;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    // let in-flight requests finish or time out, so every attempt is recorded
    const deadline = Date.now() + this.spec.timeoutMs + 500;
    while (this.inflight.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const r of this.inflight) r.destroy();
    this.agent.destroy();
  }
}
