// Open-loop HTTP probes: requests leave at a fixed rate whether or not earlier ones returned (no
// coordinated omission); latency is measured from the intended send time; a timeout is a failure
// counted at the timeout value. Every attempt goes to the run's timeline.
//
// The engine is a lean HTTP/1.1 client over net/tls sockets, a few times cheaper per request than
// node:http: one pre-built GET request; a keep-alive pool of connections (optionally capped, with
// short-lived extras beyond the cap), or a new connection per request (`connection: 'new'`); a minimal response parser
// (status line, Content-Length, chunked, read-until-close, Connection: close, 1xx interim responses;
// a response head identical to the previous one is recognised by a byte compare and not parsed
// again). A connection carries one request at a time, never pipelined: when every open connection is
// busy a new one is opened, so a stalled response never delays a later request. A request written to
// a reused keep-alive connection that the server closed before sending a single byte back (the
// keep-alive race) is sent again, once, on a fresh connection; it keeps its intended time. Timeouts
// are kept by one timer armed for the earliest deadline in flight, not one timer per request.
import { promises as dnsp } from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import * as hdr from 'hdr-histogram-js';
import type { Recorder } from '../timeline.js';

export interface ProbeSpec {
  name: string; url: string; rate: number; timeoutMs: number; expectStatus?: number[];
  /** 'keep-alive' (default): reuse idle connections; 'new': one TCP connection per request, `Connection: close` */
  connection?: 'keep-alive' | 'new';
  /** keep-alive: the pool's cap; a request finding every pooled connection busy uses a short-lived extra one */
  connections?: number;
  /**
   * a DNS server ('IPv4[:PORT]') that resolves the URL's host: the answer is cached for its TTL, then
   * asked again; each new connection takes the next address (round robin), and every attempt records
   * the address it went to. Without it the OS resolver connects, and attempts carry no address.
   */
  resolver?: string;
  /** an answer this refuses (returns why) is not connected to: the attempt fails with the reason */
  refuseAddress?: (ip: string) => string | undefined;
}

/** a probe's resolver: an IPv4 address (group 1) with an optional port (group 2) */
export const RESOLVER_ADDRESS = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/;

/** a failed lookup is asked again after this; a TTL is used at least this long */
const DNS_RETRY_MS = 1000;

/** at most this many due requests are sent in one go before I/O (responses) gets a turn */
const SEND_CHUNK = 64;
/** idle keep-alive connections unused this long are closed (below node's default 5 s server keep-alive) */
const IDLE_CLOSE_MS = 4_000;
/** as node:http: a response head larger than this is an error */
const MAX_HEAD = 16 * 1024;
/** outcomes kept for windowAvailability (a ring of the newest) */
const RECENT = 1 << 16;
/** schedule lag is recorded in µs up to an hour */
const LAG_MAX_US = 3_600_000_000;
const CRLFCRLF = Buffer.from('\r\n\r\n');

const enum S { Head, Length, Chunk, ChunkData, ChunkEnd, Trailer, UntilClose }

interface Attempt extends ProbeAttempt { retried: boolean }

/** What a response head says about the response (the part the engine needs). */
interface Head { status: number; close: boolean; state: S; length: number }

class Conn {
  attempt?: Attempt;
  /** the current attempt went out on a connection that had carried a response before */
  reused = false;
  /** response bytes received for the current attempt */
  got = 0;
  served = 0;
  idleSince = 0;
  state = S.Head;
  status = 0;
  remaining = 0;
  close = false;
  pending?: Buffer;
  line = '';
  err?: NodeJS.ErrnoException;
  /** the peer ended or the socket closed: never reuse */
  closed = false;
  /** one request only (connection 'new', or an extra beyond the pool's cap): closed after its response */
  oneShot = false;
  /** the address it connected to (with a resolver) */
  addr?: string;
  socket!: net.Socket;
  reset(): void {
    this.state = S.Head; this.status = 0; this.remaining = 0; this.close = false; this.pending = undefined; this.line = ''; this.got = 0;
  }
}

/** One request: when it should have left and when it did; `done` once its outcome is recorded. */
export interface ProbeAttempt { intended: number; sentAt: number; done: boolean; /** the IP address it was sent to (with a resolver) */ addr?: string }

/**
 * What every probe engine shares: the open-loop schedule (every request whose intended time has come
 * leaves, however late the timer fired, in chunks of SEND_CHUNK), the schedule-lag histogram, and the
 * records (one timeline event per attempt, latency from the intended time, a timeout recorded at the
 * timeout value; the recent outcomes for stop conditions). An engine sends and says what is in flight.
 */
export abstract class OpenLoopProbe<A extends ProbeAttempt = ProbeAttempt> {
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private k = 0;
  private start = 0;
  protected running = false;
  private readonly interval: number;
  private drained?: () => void;
  /** recent outcomes (intended time, ok) for stop conditions: a ring of the newest */
  private readonly recentT = new Float64Array(RECENT);
  private readonly recentOk = new Uint8Array(RECENT);
  private recentN = 0;
  /** schedule lag (actual send − intended send) of every request, in µs */
  private readonly lag = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: LAG_MAX_US, numberOfSignificantValueDigits: 3 });
  sent = 0;
  maxLagMs = 0;

  constructor(readonly spec: ProbeSpec, protected readonly rec: Recorder) {
    this.interval = 1000 / spec.rate;
  }

  /** Sends one request that should have left at `intended` (ms on the recorder's clock). */
  protected abstract send(intended: number, sentAt: number): void;
  /** Requests in flight. */
  protected abstract inFlight(): number;

  begin(): void {
    this.running = true;
    this.start = this.rec.now();
    this.k = 0;
    this.tick();
  }

  private readonly tick = (): void => {
    this.timer = this.immediate = undefined;
    if (!this.running) return;
    const now = this.rec.now();
    // fire every request whose intended time has come, even if we woke up late (in chunks, so that
    // responses are read and connections reused in between when far behind)
    for (let n = 0; this.start + this.k * this.interval <= now; n++) {
      if (n === SEND_CHUNK) { this.immediate = setImmediate(this.tick); return; }
      this.fire(this.start + this.k * this.interval);
      this.k++;
    }
    this.timer = setTimeout(this.tick, Math.max(1, Math.ceil(this.start + this.k * this.interval - this.rec.now())));
  };

  private fire(intended: number): void {
    this.sent++;
    const now = this.rec.now();
    const lag = now - intended;
    if (lag > this.maxLagMs) this.maxLagMs = lag;
    this.lag.recordValue(Math.min(LAG_MAX_US, Math.max(1, Math.round(lag * 1000))));
    this.send(intended, now);
  }

  /** Records the attempt's outcome, once; call it after the attempt has left the engine's in-flight set. */
  protected finish(a: A, ok: boolean, status: number | undefined, error: string | undefined, timedOut = false, now = this.rec.now()): void {
    if (a.done) return;
    a.done = true;
    // an answer (or error) that came after the timeout had passed is a timeout, as with a precise timer
    if (!timedOut && now - a.sentAt >= this.spec.timeoutMs) { timedOut = true; ok = false; status = undefined; error = 'timeout'; }
    const latency = timedOut ? this.spec.timeoutMs : now - a.intended;
    this.rec.add({ t: a.intended, type: 'probe', probe: this.spec.name, latency, ok, status, error, ...(a.addr ? { addr: a.addr } : {}) });
    const j = this.recentN++ & (RECENT - 1);
    this.recentT[j] = a.intended;
    this.recentOk[j] = ok ? 1 : 0;
    if (!this.inFlight()) this.drained?.();
  }

  /** Availability (percent) of attempts intended in the last `ms`; undefined without attempts. */
  windowAvailability(ms: number): number | undefined {
    const since = this.rec.now() - ms;
    let n = 0;
    let ok = 0;
    for (let i = 0, m = Math.min(this.recentN, RECENT); i < m; i++) {
      if (this.recentT[i] >= since) { n++; ok += this.recentOk[i]; }
    }
    return n ? (ok * 100) / n : undefined;
  }

  /** Schedule lag (actual send − intended send) at a percentile (0..100) over every request so far, in ms; NaN before the first. */
  lagPercentile(percentile: number): number {
    return this.lag.totalCount ? this.lag.getValueAtPercentile(percentile) / 1000 : NaN;
  }

  /** Stops sending; resolves when nothing is in flight any more, or once the timeout (+ 500 ms) has passed. */
  protected async stopSending(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    if (!this.inFlight()) return;
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(resolve, this.spec.timeoutMs + 500);
      this.drained = () => { clearTimeout(deadline); resolve(); };
    });
    this.drained = undefined;
  }

  abstract stop(): Promise<void>;
}

export class Prober extends OpenLoopProbe<Attempt> {
  private sweeper?: NodeJS.Timeout;
  private sweepAt = Infinity;
  private readonly secure: boolean;
  private readonly host: string;
  private readonly port: number;
  private readonly servername?: string;
  private readonly request: Buffer;
  /** the same request with `Connection: close`, for one-shot connections */
  private readonly requestClose: Buffer;
  private readonly mode: 'keep-alive' | 'new';
  private readonly cap: number;
  /** pooled (reusable) connections open now: busy or idle */
  private pooled = 0;
  /** with a resolver: the cached answer, the next address to use, why there is none, the refresh timer */
  private readonly resolver?: dnsp.Resolver;
  private addrs: string[] = [];
  private rr = 0;
  private dnsError = 'not resolved yet';
  private dnsTimer?: NodeJS.Timeout;
  /** DNS lookups made (with a resolver) */
  lookups = 0;
  private readonly readBuf = Buffer.allocUnsafe(64 * 1024);
  private tlsSession?: Buffer;
  /** the last final response head (bytes up to and including CRLFCRLF) and what it said */
  private lastHead?: Buffer;
  private lastParsed?: Head;
  /** connections with a request in flight */
  private readonly busy = new Set<Conn>();
  /** idle keep-alive connections, oldest first (taken from the end; closed ones are skipped) */
  private readonly idle: Conn[] = [];

  constructor(spec: ProbeSpec, rec: Recorder) {
    super(spec, rec);
    const u = new URL(spec.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`probe ${spec.name}: unsupported protocol ${u.protocol} (http: or https:)`);
    this.secure = u.protocol === 'https:';
    this.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.port = u.port ? Number(u.port) : this.secure ? 443 : 80;
    if (this.secure && !net.isIP(this.host)) this.servername = this.host;
    const auth = u.username || u.password ? `Authorization: Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}\r\n` : '';
    const head = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: k8s-chaos-harness-probe\r\n${auth}`;
    this.request = Buffer.from(`${head}Connection: keep-alive\r\n\r\n`, 'latin1');
    this.requestClose = Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1');
    this.mode = spec.connection ?? 'keep-alive';
    if (this.mode === 'new' && spec.connections !== undefined) throw new Error(`probe ${spec.name}: connections caps the keep-alive pool; with connection 'new' every request opens its own connection`);
    this.cap = spec.connections ?? Infinity;
    if (spec.resolver !== undefined) {
      const m = RESOLVER_ADDRESS.exec(spec.resolver);
      if (!m || !net.isIPv4(m[1])) throw new Error(`probe ${spec.name}: resolver must be an IPv4 address with an optional port (127.0.0.1:5353), got "${spec.resolver}"`);
      if (net.isIP(this.host)) throw new Error(`probe ${spec.name}: resolver is set but the URL's host ${this.host} is an address: nothing to resolve`);
      this.resolver = new dnsp.Resolver({ timeout: 1000, tries: 2 });
      this.resolver.setServers([spec.resolver.includes(':') ? spec.resolver : `${spec.resolver}:53`]);
    }
  }

  protected inFlight(): number {
    return this.busy.size;
  }

  /** the most requests in flight at once, and the connections opened (a new one only when every open one is busy) */
  maxInFlight = 0;
  connectionsOpened = 0;
  /** keep-alive with a cap: short-lived connections opened because every pooled one was busy */
  extraConnections = 0;

  protected send(intended: number, sentAt: number): void {
    this.dispatch({ intended, sentAt, done: false, retried: false }, false);
  }

  /** With a resolver: the first lookup (resolves when it answered or failed; attempts before it fail). */
  async ready(): Promise<void> {
    if (this.resolver && !this.addrs.length) await this.lookup();
  }

  private async lookup(): Promise<void> {
    clearTimeout(this.dnsTimer);
    this.lookups++;
    let next = DNS_RETRY_MS;
    try {
      const answer = await this.resolver!.resolve4(this.host, { ttl: true });
      if (!answer.length) throw Object.assign(new Error('no A record'), { code: 'ENODATA' });
      const addrs = answer.map((x) => x.address);
      // a changed answer: the round robin starts over on it; the same one keeps its turn
      if (addrs.join() !== this.addrs.join()) { this.addrs = addrs; this.rr = 0; }
      next = Math.max(DNS_RETRY_MS, Math.min(...answer.map((x) => x.ttl)) * 1000);
    } catch (err) {
      // a failed lookup: no answer to use (a client whose cached answer expired has none either)
      this.addrs = [];
      this.dnsError = `DNS ${this.host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
    clearTimeout(this.dnsTimer);
    if (!this.stopped) this.dnsTimer = setTimeout(() => { void this.lookup(); }, next).unref();
  }

  private stopped = false;

  /** The address for a new connection (round robin over the answer), or why there is none. */
  private pick(): { addr?: string; error?: string } {
    if (!this.resolver) return {};
    if (!this.addrs.length) return { error: this.dnsError };
    const addr = this.addrs[this.rr++ % this.addrs.length];
    const why = this.spec.refuseAddress?.(addr);
    return why ? { error: why } : { addr };
  }

  private dispatch(a: Attempt, fresh: boolean): void {
    let c: Conn | undefined;
    if (this.mode !== 'new' && !fresh) while ((c = this.idle.pop()) && c.closed);
    if (!c) {
      const to = this.pick();
      if (to.error) { a.addr = undefined; this.finish(a, false, undefined, to.error); return; }
      if (this.mode === 'new') c = this.connect(true, to.addr);
      else if (this.pooled >= this.cap) { this.extraConnections++; c = this.connect(true, to.addr); }
      else c = this.connect(false, to.addr);
    }
    a.addr = c.addr;
    c.reset();
    c.reused = c.served > 0;
    c.attempt = a;
    this.busy.add(c);
    if (this.busy.size > this.maxInFlight) this.maxInFlight = this.busy.size;
    const deadline = a.sentAt + this.spec.timeoutMs;
    if (deadline < this.sweepAt) this.armSweep(deadline);
    c.socket.write(c.oneShot ? this.requestClose : this.request);
  }

  private connect(oneShot: boolean, addr?: string): Conn {
    this.connectionsOpened++;
    const c = new Conn();
    c.oneShot = oneShot;
    c.addr = addr;
    const host = addr ?? this.host;
    if (!oneShot) this.pooled++;
    let socket: net.Socket;
    if (this.secure) {
      socket = tls.connect({ host, port: this.port, servername: this.servername, session: this.tlsSession, ALPNProtocols: ['http/1.1'] });
      socket.setNoDelay(true);
      socket.on('session', (s: Buffer) => { this.tlsSession = s; });
      socket.on('data', (d: Buffer) => this.onData(c, d));
    } else {
      // onread: bytes land in one reused buffer and reach the parser without the stream machinery
      socket = net.connect({ host, port: this.port, noDelay: true, onread: { buffer: this.readBuf, callback: (n: number, buf: Uint8Array) => { this.onData(c, (buf as Buffer).subarray(0, n)); return true; } } });
    }
    c.socket = socket;
    socket.on('error', (e: NodeJS.ErrnoException) => { c.err ??= e; });
    socket.on('end', () => { c.closed = true; });
    socket.on('close', () => { if (!c.oneShot) this.pooled--; this.onClose(c); });
    return c;
  }

  /** New bytes on c (for http a view of the shared read buffer: nothing may keep it). */
  private onData(c: Conn, chunk: Buffer): void {
    if (!c.attempt) { c.socket.destroy(); return; } // bytes nobody asked for
    c.got += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      if (!c.attempt) { c.socket.destroy(); return; } // more than one response: protocol error
      switch (c.state) {
        case S.Head: {
          if (c.pending) { chunk = Buffer.concat([c.pending, chunk.subarray(off)]); off = 0; c.pending = undefined; }
          const last = this.lastHead;
          if (last && chunk.length - off >= last.length && chunk.compare(last, 0, last.length, off, off + last.length) === 0) {
            off += last.length;
            this.apply(c, this.lastParsed!);
            break;
          }
          const end = chunk.indexOf(CRLFCRLF, off);
          if (end < 0) {
            if (chunk.length - off > MAX_HEAD) return this.fail(c, undefined, 'HPE_HEADER_OVERFLOW');
            c.pending = Buffer.from(chunk.subarray(off));
            return;
          }
          if (end - off > MAX_HEAD) return this.fail(c, undefined, 'HPE_HEADER_OVERFLOW');
          const h = parseHead(chunk.toString('latin1', off, end));
          if (!h) return this.fail(c, undefined, 'HPE_INVALID_RESPONSE');
          if (h.status >= 100 && h.status < 200 && h.status !== 101) { off = end + 4; break; } // interim: the real head follows
          this.lastHead = Buffer.from(chunk.subarray(off, end + 4));
          this.lastParsed = h;
          off = end + 4;
          this.apply(c, h);
          break;
        }
        case S.Length:
        case S.ChunkData: {
          const take = Math.min(c.remaining, chunk.length - off);
          off += take;
          c.remaining -= take;
          if (c.remaining === 0) {
            if (c.state === S.Length) this.complete(c);
            else c.state = S.ChunkEnd;
          }
          break;
        }
        case S.UntilClose:
          return;
        default: { // a line: a chunk size, the CRLF after chunk data, or a trailer
          const nl = chunk.indexOf(10, off);
          if (nl < 0) {
            c.line += chunk.toString('latin1', off, chunk.length);
            if (c.line.length > MAX_HEAD) return this.fail(c, c.status, 'HPE_CHUNK_EXTENSIONS_OVERFLOW');
            return;
          }
          let line = c.line + chunk.toString('latin1', off, nl);
          c.line = '';
          off = nl + 1;
          if (line.endsWith('\r')) line = line.slice(0, -1);
          if (c.state === S.Chunk) {
            const semi = line.indexOf(';');
            const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
            if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return this.fail(c, c.status, 'HPE_INVALID_CHUNK_SIZE');
            c.remaining = parseInt(hex, 16);
            c.state = c.remaining === 0 ? S.Trailer : S.ChunkData;
          } else if (c.state === S.ChunkEnd) {
            if (line !== '') return this.fail(c, c.status, 'HPE_STRICT');
            c.state = S.Chunk;
          } else if (line === '') this.complete(c); // the empty line after the trailers
        }
      }
    }
  }

  private apply(c: Conn, h: Head): void {
    c.status = h.status;
    c.close = h.close;
    c.state = h.state;
    c.remaining = h.length;
    if (h.state === S.Length && h.length === 0) this.complete(c);
  }

  private complete(c: Conn): void {
    const a = c.attempt!;
    const status = c.status;
    const ok = this.spec.expectStatus ? this.spec.expectStatus.includes(status) : status >= 200 && status < 400;
    c.attempt = undefined;
    c.served++;
    this.busy.delete(c);
    const now = this.rec.now();
    if (c.close || c.closed || c.oneShot || !this.running) c.socket.destroy();
    else { c.idleSince = now; this.idle.push(c); }
    this.finish(a, ok, status, ok ? undefined : `HTTP ${status}`, false, now);
  }

  /** The current attempt on c failed; c is done for. */
  private fail(c: Conn, status: number | undefined, error: string, timedOut = false): void {
    const a = c.attempt;
    c.attempt = undefined;
    c.closed = true;
    this.busy.delete(c);
    c.socket.destroy();
    if (a) this.finish(a, false, status, error, timedOut);
  }

  private onClose(c: Conn): void {
    c.closed = true;
    const a = c.attempt;
    if (!a) return;
    if (c.state === S.UntilClose && !c.err) { c.close = true; return this.complete(c); }
    c.attempt = undefined;
    this.busy.delete(c);
    // keep-alive race: the server closed a reused connection before answering; send again, once
    if (c.reused && c.got === 0 && !a.retried) { a.retried = true; return this.dispatch(a, true); }
    const error = c.err ? (c.err.code ?? c.err.message) : c.state === S.Head ? 'ECONNRESET' : 'aborted';
    this.finish(a, false, c.state === S.Head ? undefined : c.status, error);
  }

  private armSweep(at: number): void {
    clearTimeout(this.sweeper);
    this.sweepAt = at;
    this.sweeper = setTimeout(this.sweep, Math.max(1, Math.ceil(at - this.rec.now())));
  }

  /** Times out requests in flight for the timeout; closes idle connections unused for a while; re-arms for the next deadline. */
  private readonly sweep = (): void => {
    this.sweeper = undefined;
    this.sweepAt = Infinity;
    const now = this.rec.now();
    let next = Infinity;
    for (const c of this.busy) {
      const a = c.attempt;
      if (!a) continue;
      const deadline = a.sentAt + this.spec.timeoutMs;
      if (deadline <= now) this.fail(c, undefined, 'timeout', true);
      else if (deadline < next) next = deadline;
    }
    while (this.idle.length && (this.idle[0].closed || now - this.idle[0].idleSince >= IDLE_CLOSE_MS)) this.idle.shift()!.socket.destroy();
    if (this.idle.length) next = Math.min(next, this.idle[0].idleSince + IDLE_CLOSE_MS);
    if (next < Infinity) this.armSweep(next);
  };

  async stop(): Promise<void> {
    // let in-flight requests finish or time out, so every attempt is recorded
    await this.stopSending();
    this.stopped = true;
    clearTimeout(this.dnsTimer);
    this.resolver?.cancel();
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
    this.sweepAt = Infinity;
    // only if the event loop was blocked: what timed out is a timeout, the rest is cut off
    const now = this.rec.now();
    for (const c of [...this.busy]) {
      const late = !!c.attempt && now - c.attempt.sentAt >= this.spec.timeoutMs;
      this.fail(c, undefined, late ? 'timeout' : 'ECONNRESET', late);
    }
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }
}

/** Parses a response head (without its final CRLFCRLF); undefined when it is not HTTP/1.x. */
function parseHead(head: string): Head | undefined {
  if (!head.startsWith('HTTP/1.') || head.charCodeAt(8) !== 32) return undefined;
  const status = Number(head.slice(9, 12));
  if (!Number.isInteger(status) || status < 100 || status > 999) return undefined;
  const h = head.toLowerCase();
  const header = (name: string): string | undefined => {
    const i = h.indexOf(`\r\n${name}:`);
    if (i < 0) return undefined;
    const e = h.indexOf('\r\n', i + 2);
    return h.slice(i + name.length + 3, e < 0 ? h.length : e).trim();
  };
  const connection = header('connection');
  let close = head.charCodeAt(7) === 48 /* HTTP/1.0 */ ? !(connection && /(^|[\s,])keep-alive($|[\s,])/.test(connection)) : !!connection && /(^|[\s,])close($|[\s,])/.test(connection);
  const te = header('transfer-encoding');
  const cl = header('content-length');
  if (status < 200 || status === 204 || status === 304) return { status, close: close || status === 101, state: S.Length, length: 0 };
  if (te !== undefined && /(^|[\s,])chunked$/.test(te)) return { status, close, state: S.Chunk, length: 0 };
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) return undefined;
    return { status, close, state: S.Length, length: Number(cl) };
  }
  close = true;
  return { status, close, state: S.UntilClose, length: 0 };
}
