// List + watch, the way the harness needs it (not the client's informer): watch from the list's
// resourceVersion with bookmarks and a server timeout, reconnect at once when a watch ends, relist
// on 410 Gone, and report an unreachable apiserver as a gap instead of dying.
import * as k8s from '@kubernetes/client-node';
import type { Kube } from './index.js';

export interface ListResult<T> { items: T[]; metadata?: { resourceVersion?: string } }

export interface WatchHandlers<T> {
  /** a full (re)list: replace the cache */
  onList(items: T[]): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
  /** the apiserver could not be reached from `since` (ms epoch) */
  onGap?(error: string): void;
  onGapEnd?(): void;
}

export class ListWatch<T extends k8s.KubernetesObject> {
  private running = false;
  private abort?: AbortController;
  private rv?: string;
  private inGap = false;
  relists = 0;
  reconnects = 0;
  /** watch events delivered (bookmarks not counted) */
  events = 0;

  constructor(
    private readonly kube: Kube,
    readonly path: string,
    private readonly list: () => Promise<ListResult<T>>,
    private readonly h: WatchHandlers<T>,
    private readonly timeoutSeconds = 60,
    /** relist every `pollMs` instead of watching: only to compare with polling observers (bench/accuracy.ts) */
    private readonly pollMs?: number,
  ) {}

  /** Resolves after the first successful list. */
  async start(): Promise<void> {
    this.running = true;
    let firstList!: () => void;
    const listed = new Promise<void>((r) => { firstList = r; });
    void this.loop(firstList);
    await listed;
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
  }

  private gap(err: unknown): void {
    if (!this.inGap) {
      this.inGap = true;
      this.h.onGap?.(err instanceof Error ? err.message : String(err));
    }
  }

  private healed(): void {
    if (this.inGap) {
      this.inGap = false;
      this.h.onGapEnd?.();
    }
  }

  /**
   * One list, handed to onList. A method of its own so that the list (every item of a large cluster)
   * is garbage once onList returns: held in loop()'s frame it stayed alive for the whole watch that
   * follows (about 16 MB at 30,000 pods).
   */
  private async relist(): Promise<void> {
    const l = await this.list();
    this.rv = l.metadata?.resourceVersion;
    this.relists++;
    this.h.onList(l.items);
  }

  private async loop(firstList: () => void): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        if (!this.rv || this.pollMs) {
          await this.relist();
          firstList();
          this.healed();
        }
        if (this.pollMs) await new Promise((r) => setTimeout(r, this.pollMs));
        else await this.watchOnce();
        backoff = 100;
      } catch (err) {
        if (!this.running) break;
        const e = err as { statusCode?: number; code?: number; message?: string };
        if (e.statusCode === 410 || e.code === 410 || /\bGone\b/.test(e.message ?? '')) { this.rv = undefined; continue; }
        this.gap(err);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  private watchOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w = new k8s.Watch(this.kube.kc);
      let settled = false;
      // client-side watchdog: a connection that went silent (e.g. a dropped network path) is recycled
      const dog = setTimeout(() => this.abort?.abort(), (this.timeoutSeconds + 15) * 1000);
      const done = (err?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(dog);
        this.reconnects++;
        if (err && (err as { name?: string }).name !== 'AbortError') reject(err);
        else resolve();
      };
      w.watch(this.path, { resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds: this.timeoutSeconds },
        (type: string, obj: T & { code?: number }) => {
          this.healed();
          if (type === 'ERROR') {
            // 410 Gone: our resourceVersion is too old; relist.
            if (obj.code === 410) this.rv = undefined;
            this.abort?.abort();
            return;
          }
          if (obj.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
          if (type === 'BOOKMARK') return;
          this.events++;
          this.h.onEvent(type as 'ADDED' | 'MODIFIED' | 'DELETED', obj);
        },
        (err: unknown) => done(err))
        .then((ac) => {
          this.abort = ac;
          if (!this.running) ac.abort();
          // The watch was answered 200 and is streaming: the apiserver is back, even for a resource
          // with no changes to send (events from the old resourceVersion, or a 410, follow).
          else if (!settled) this.healed();
        })
        .catch((err: unknown) => done(err ?? new Error('watch failed')));
    });
  }
}

export { k8s };
