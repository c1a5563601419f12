// The harness's Prober (harness/probes/prober.ts: same constructor, methods and semantics — open loop,
// latency from the intended send time, a timeout is a failure recorded at the timeout value, one
// timeline event per attempt, one resend of a GET the server dropped before answering) with undici
// as the engine instead of the hand-written HTTP/1.1 client, to compare the two on requests per
// CPU-second. A Pool with unlimited connections and no pipelining: when every connection is busy
// the pool opens another, so a stalled response never delays a later request. Requests go out
// through pool.dispatch with a minimal handler, the body dropped as it arrives (1.5-1.7× the
// requests per CPU-second of pool.request + body.dump() + an AbortController per request).
// Timeouts: undici's own are off (its timers are coarse above 1 s); one timer is armed for the
// oldest deadline in flight (attempts are kept in send order) and aborts the request, which closes
// its connection.
import { Pool, type Dispatcher } from 'undici';
import { OpenLoopProbe, type ProbeAttempt, type ProbeSpec } from '../../harness/probes/prober.js';
import type { Recorder } from '../../harness/timeline.js';

const IDLE_CLOSE_MS = 4_000;

class Attempt implements ProbeAttempt, Dispatcher.DispatchHandler {
  status?: number;
  abort?: (err?: Error) => void;
  done = false;
  retried = false;
  constructor(readonly p: UndiciProber, readonly intended: number, readonly sentAt: number) {}
  onConnect(abort: (err?: Error) => void): void { if (this.done) abort(); else this.abort = abort; }
  onHeaders(status: number): boolean { this.status = status; return true; }
  onData(): boolean { return true; }
  onComplete(): void { this.p.complete(this); }
  onError(err: Error): void { this.p.error(this, err as NodeJS.ErrnoException); }
}

/** The harness's open-loop schedule and records (OpenLoopProbe) with undici as the engine. */
export class UndiciProber extends OpenLoopProbe<Attempt> {
  private sweeper?: NodeJS.Timeout;
  private readonly pool: Pool;
  private readonly opts: Dispatcher.DispatchOptions;
  /** attempts in flight, in send order (so by deadline) */
  private readonly inflight = new Set<Attempt>();

  constructor(spec: ProbeSpec, rec: Recorder) {
    super(spec, rec);
    const u = new URL(spec.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`probe ${spec.name}: unsupported protocol ${u.protocol} (http: or https:)`);
    const headers: Record<string, string> = { 'user-agent': 'k8s-chaos-harness-probe' };
    if (u.username || u.password) headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    this.opts = { path: `${u.pathname}${u.search}`, method: 'GET', headers };
    this.pool = new Pool(u.origin, { connections: null, pipelining: 1, keepAliveTimeout: IDLE_CLOSE_MS, headersTimeout: 0, bodyTimeout: 0 });
  }

  protected inFlight(): number {
    return this.inflight.size;
  }

  protected send(intended: number, sentAt: number): void {
    const a = new Attempt(this, intended, sentAt);
    this.inflight.add(a);
    this.sweeper ??= setTimeout(this.sweep, this.spec.timeoutMs);
    this.pool.dispatch(this.opts, a);
  }

  complete(a: Attempt): void {
    const status = a.status!;
    const ok = this.spec.expectStatus ? this.spec.expectStatus.includes(status) : status >= 200 && status < 400;
    this.end(a, ok, status, ok ? undefined : `HTTP ${status}`);
  }

  error(a: Attempt, e: NodeJS.ErrnoException): void {
    if (a.done) return;
    // keep-alive race: the server closed the connection before answering; send again, once
    if (e.code === 'UND_ERR_SOCKET' && a.status === undefined && !a.retried && this.running) {
      a.retried = true;
      a.abort = undefined;
      this.pool.dispatch(this.opts, a);
      return;
    }
    this.end(a, false, a.status, e.code ?? e.message);
  }

  private end(a: Attempt, ok: boolean, status: number | undefined, error: string | undefined, timedOut = false): void {
    this.inflight.delete(a);
    this.finish(a, ok, status, error, timedOut);
  }

  /** Times out the attempts past their deadline (the oldest first); re-arms for the next one. */
  private readonly sweep = (): void => {
    this.sweeper = undefined;
    const now = this.rec.now();
    for (const a of this.inflight) {
      const deadline = a.sentAt + this.spec.timeoutMs;
      if (deadline > now) { this.sweeper = setTimeout(this.sweep, Math.max(1, Math.ceil(deadline - now))); return; }
      this.end(a, false, undefined, 'timeout', true);
      a.abort?.();
    }
  };

  async stop(): Promise<void> {
    await this.stopSending();
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
    const now = this.rec.now();
    for (const a of [...this.inflight]) {
      const late = now - a.sentAt >= this.spec.timeoutMs;
      this.end(a, false, undefined, late ? 'timeout' : 'ECONNRESET', late);
    }
    await this.pool.destroy();
  }
}
