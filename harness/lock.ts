// One run at a time per cluster, and a safety lever (in the spirit of AWS FIS's stop conditions and
// account-level lever):
// - the lock is a coordination.k8s.io/v1 Lease `chaos-harness-lock` in the harness namespace
//   (CHAOS_NAMESPACE, default `default`), holder `<run id>@<host>`, renewed every RENEW_S while the run
//   lives, held from the plan to the end of the revert. A second run exits 2 naming the holder. A
//   lease whose holder stopped renewing (renewTime + leaseDurationSeconds in the past) is stale: a new
//   run still refuses it — only `chaos recover` takes it over (it reverts what the dead run left).
// - the lever is a ConfigMap `chaos-harness-stop` in the same namespace (`chaos stop --reason`):
//   every running harness reads it every LEVER_POLL_MS, reverts at once and exits 3; while it exists
//   every new run exits 2 saying why and how to release it (`chaos stop --release`).
import os from 'node:os';
import { ExitCode, HarnessError, invalid } from './exit-codes.js';
import { apiStatus, type Kube, type V1Lease } from './k8s/index.js';

export const LOCK_NAME = 'chaos-harness-lock';
export const LEVER_NAME = 'chaos-harness-stop';
export const LEASE_S = 30;
export const RENEW_S = 10;
export const LEVER_POLL_MS = 1000;

export function harnessNamespace(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHAOS_NAMESPACE || 'default';
}

export interface LeverState { reason: string; by: string; at: string }
export interface LockState { holder: string; runId: string; renewTime?: Date; stale: boolean; leaseDurationSeconds: number }

const holderOf = (l: V1Lease) => l.spec?.holderIdentity ?? '';

/**
 * A MicroTime as the apiserver parses it (RFC 3339 with 6 fractional digits). client-node passes
 * its Date through JSON (3 digits), which the apiserver refuses, so the string goes as is.
 */
function microTime(d = new Date()): Date {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}
/** Whether a holder `<run>@<host>/<pid>` is a process of this host that is gone (a crashed run). */
function deadHere(holder: string): boolean {
  const m = /@([^/]+)\/(\d+)$/.exec(holder);
  if (!m || m[1] !== os.hostname()) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The lock's holder, and whether it is stale: not renewed within its duration, or its process (on this host) is gone. */
export function lockState(l: V1Lease, now = Date.now()): LockState | undefined {
  const holder = holderOf(l);
  if (!holder) return undefined;
  const renew = l.spec?.renewTime ? new Date(l.spec.renewTime) : undefined;
  const dur = l.spec?.leaseDurationSeconds ?? LEASE_S;
  return { holder, runId: holder.split('@')[0], renewTime: renew, leaseDurationSeconds: dur, stale: !renew || renew.getTime() + dur * 1000 < now || deadHere(holder) };
}

export async function readLock(kube: Kube, ns = harnessNamespace()): Promise<{ lease?: V1Lease; state?: LockState }> {
  try {
    const lease = await kube.coordination.readNamespacedLease({ name: LOCK_NAME, namespace: ns });
    return { lease, state: lockState(lease) };
  } catch (err) {
    if (apiStatus(err) === 404) return {};
    throw err;
  }
}

export async function readLever(kube: Kube, ns = harnessNamespace()): Promise<LeverState | undefined> {
  try {
    const cm = await kube.core.readNamespacedConfigMap({ name: LEVER_NAME, namespace: ns });
    return { reason: cm.data?.reason ?? '(no reason given)', by: cm.data?.by ?? '?', at: cm.data?.at ?? cm.metadata?.creationTimestamp?.toString() ?? '?' };
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

const leverMessage = (l: LeverState) => `the safety lever is engaged (${l.reason}; by ${l.by} at ${l.at}): no run may start; release it with \`chaos stop --release\``;

/** `chaos stop`: engage the lever. */
export async function engageLever(kube: Kube, reason: string, ns = harnessNamespace()): Promise<void> {
  const body = { metadata: { name: LEVER_NAME, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'k8s-chaos-harness' } }, data: { reason, by: `${os.userInfo().username}@${os.hostname()}`, at: new Date().toISOString() } };
  try {
    await kube.core.createNamespacedConfigMap({ namespace: ns, body });
  } catch (err) {
    if (apiStatus(err) !== 409) throw err;
    await kube.core.replaceNamespacedConfigMap({ name: LEVER_NAME, namespace: ns, body });
  }
}

/** `chaos stop --release`. */
export async function releaseLever(kube: Kube, ns = harnessNamespace()): Promise<boolean> {
  try {
    await kube.core.deleteNamespacedConfigMap({ name: LEVER_NAME, namespace: ns });
    return true;
  } catch (err) {
    if (apiStatus(err) === 404) return false;
    throw err;
  }
}

export interface RunLock {
  readonly holder: string;
  /** aborted when the lever is engaged (reason: an exit-3 HarnessError) or the lease is lost */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface AcquireOptions {
  runId: string;
  namespace?: string;
  /** `recover`: take over a stale lease (a dead run's) */
  takeOverStale?: boolean;
  log: (m: string) => void;
  renewMs?: number;
  leverPollMs?: number;
}

/** Refuses (exit 2) while the lever is engaged or another run holds the lock; else takes it and keeps it renewed. */
export async function acquireRunLock(kube: Kube, o: AcquireOptions): Promise<RunLock> {
  const ns = o.namespace ?? harnessNamespace();
  const lever = await readLever(kube, ns);
  if (lever) throw invalid(leverMessage(lever));
  const holder = `${o.runId}@${os.hostname()}/${process.pid}`;
  const spec = () => ({ holderIdentity: holder, leaseDurationSeconds: LEASE_S, renewTime: microTime(), acquireTime: microTime() });
  const cur = await readLock(kube, ns);
  if (!cur.lease) {
    try {
      await kube.coordination.createNamespacedLease({ namespace: ns, body: { metadata: { name: LOCK_NAME, namespace: ns }, spec: spec() } });
    } catch (err) {
      if (apiStatus(err) === 409) return refuse(await readLock(kube, ns));
      throw err;
    }
  } else {
    const st = cur.state;
    if (st && !st.stale) return refuse(cur);
    if (st?.stale && !o.takeOverStale) {
      throw invalid(`run ${st.runId} (${st.holder}) holds the run lock but is gone (last renewed ${st.renewTime?.toISOString() ?? '?'}): it probably crashed; run \`chaos recover\`, which reverts what it left and takes the lock over`);
    }
    if (st?.stale) o.log(`taking over the run lock from ${st.holder}, which stopped renewing it at ${st.renewTime?.toISOString()}`);
    try {
      // optimistic concurrency: the resourceVersion read above, so two takers cannot both win
      await kube.coordination.replaceNamespacedLease({ name: LOCK_NAME, namespace: ns, body: { metadata: { name: LOCK_NAME, namespace: ns, resourceVersion: cur.lease.metadata?.resourceVersion }, spec: spec() } });
    } catch (err) {
      if (apiStatus(err) === 409) return refuse(await readLock(kube, ns));
      throw err;
    }
  }
  return keep(kube, ns, holder, o);
}

function refuse(cur: { state?: LockState }): never {
  const st = cur.state;
  throw invalid(`another chaos run holds the run lock on this cluster: run ${st?.runId ?? '?'} (${st?.holder ?? '?'}, renewed ${st?.renewTime?.toISOString() ?? '?'}); one run at a time`, ['`chaos status` shows it; wait for it to end, or `chaos stop` to make it revert now']);
}

function keep(kube: Kube, ns: string, holder: string, o: AcquireOptions): RunLock {
  const ctl = new AbortController();
  let released = false;
  const renew = setInterval(() => {
    void (async () => {
      try {
        const l = await kube.coordination.readNamespacedLease({ name: LOCK_NAME, namespace: ns });
        if (holderOf(l) !== holder) {
          o.log(`the run lock was taken over by ${holderOf(l) || 'nobody'}; reverting`);
          ctl.abort(new HarnessError(`lost the run lock to ${holderOf(l) || 'nobody'}`, ExitCode.Aborted));
          return;
        }
        l.spec = { ...l.spec, renewTime: microTime() };
        await kube.coordination.replaceNamespacedLease({ name: LOCK_NAME, namespace: ns, body: l });
      } catch (err) {
        o.log(`could not renew the run lock (${(err as Error).message}); trying again in ${RENEW_S} s`);
      }
    })();
  }, o.renewMs ?? RENEW_S * 1000);
  const poll = setInterval(() => {
    void readLever(kube, ns).then((l) => {
      if (l && !ctl.signal.aborted) {
        o.log(`safety lever engaged (${l.reason}, by ${l.by}): reverting now`);
        ctl.abort(new HarnessError(`stopped by the safety lever: ${l.reason} (by ${l.by} at ${l.at}); release it with \`chaos stop --release\``, ExitCode.Aborted));
      }
    }, () => { /* an unreachable apiserver: the lease renewal says so */ });
  }, o.leverPollMs ?? LEVER_POLL_MS);
  renew.unref();
  poll.unref();
  return {
    holder,
    signal: ctl.signal,
    async release() {
      if (released) return;
      released = true;
      clearInterval(renew);
      clearInterval(poll);
      try {
        const l = await kube.coordination.readNamespacedLease({ name: LOCK_NAME, namespace: ns });
        if (holderOf(l) === holder) await kube.coordination.deleteNamespacedLease({ name: LOCK_NAME, namespace: ns });
      } catch (err) {
        if (apiStatus(err) !== 404) o.log(`could not release the run lock (${(err as Error).message}); it expires by itself after ${LEASE_S} s, then \`chaos recover\` takes it over`);
      }
    },
  };
}
