// Karpenter's interruption handling, as the lab daemon runs it for the Karpenter-provisioned nodes.
//
// Karpenter (karpenter.sh/docs/concepts/disruption/#interruption) watches an SQS queue that
// EventBridge feeds with EC2 events — Spot interruption warnings, scheduled change health events,
// instance terminating events and instance stopping events — and "when Karpenter detects one of these
// events will occur to your nodes, it automatically taints, drains, and terminates the node(s) ahead
// of the interruption event". Its termination controller (same page, "Termination Controller"):
//   1. taints the Node `karpenter.sh/disrupted:NoSchedule`,
//   2. evicts the pods through the Kubernetes Eviction API, so PodDisruptionBudgets hold (a refused
//      eviction, HTTP 429, is retried with backoff); pods that tolerate the disrupted taint (e.g.
//      DaemonSet pods with `operator: Exists`) and mirror pods are not evicted,
//   3. terminates the instance and deletes the NodeClaim, and the Node goes.
// The evicted pods then need a home, for which the provisioner launches a new NodeClaim.
//
// The lab's version: an EC2 state change to `stopping` of a Karpenter instance (StopInstances on an
// on-demand one; Spot ones cannot be stopped) reaches "Karpenter" after `karpenterInterruptionSeconds`;
// then taint, drain (real Eviction API calls against the lab's kube-apiserver, which enforces the
// PDBs), NodeClaim deleted, instance terminated (shutting-down → terminated; the reconciler deletes
// the Node then), and a replacement launched in the same NodePool, capacity type and zone (the lab
// keeps the NodePool's node count instead of simulating Karpenter's bin-packing of pending pods).
// Every step is a world-log event: karpenter.interruption, karpenter.node.tainted,
// karpenter.eviction.blocked, karpenter.node.drained, karpenter.nodeclaim.deleted,
// karpenter.instance.terminating, karpenter.nodeclaim.created, karpenter.instance.launched.
import type * as k8s from '@kubernetes/client-node';
import { httpStatus, type LabKube } from './kube.js';
import { TIMINGS, type Timing } from './timing.js';
import { KARPENTER_DISRUPTED_TAINT } from './topology.js';
import type { Instance, World } from './aws/model.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Does the pod tolerate `karpenter.sh/disrupted:NoSchedule`? (Kubernetes toleration matching.) */
export function toleratesDisrupted(pod: k8s.V1Pod): boolean {
  return (pod.spec?.tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== 'NoSchedule') return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== KARPENTER_DISRUPTED_TAINT) return false;
    return t.operator === 'Exists' || (t.value ?? '') === '';
  });
}

/** The pods Karpenter's drain evicts: live, not terminal, not mirror pods, not tolerating the disrupted taint. */
export function evictable(pod: k8s.V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror']) return false;
  return !toleratesDisrupted(pod);
}

/** Exponential backoff of Karpenter's eviction queue: base · 2^attempt, capped. */
export function evictionBackoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export class KarpenterInterruption {
  private readonly t: Pick<Timing, 'karpenterInterruptionSeconds' | 'karpenterEvictionRetryBaseMs' | 'karpenterEvictionRetryMaxMs'>;

  constructor(private readonly world: World, private readonly kube: LabKube, timing: Timing, private readonly log: (m: string) => void) {
    // a state file written before these knobs existed: the profile's values
    const d = TIMINGS[timing.name];
    this.t = {
      karpenterInterruptionSeconds: timing.karpenterInterruptionSeconds ?? d.karpenterInterruptionSeconds,
      karpenterEvictionRetryBaseMs: timing.karpenterEvictionRetryBaseMs ?? d.karpenterEvictionRetryBaseMs,
      karpenterEvictionRetryMaxMs: timing.karpenterEvictionRetryMaxMs ?? d.karpenterEvictionRetryMaxMs,
    };
  }

  /** Fed every world event: an EC2 state-change notification for a Karpenter instance starts the flow. */
  onWorldEvent(event: string, fields: Record<string, unknown>): void {
    if (event !== 'instance.state' || fields.to !== 'stopping') return;
    const inst = this.world.instances.get(String(fields.instanceId));
    if (!inst || inst.spec.provisioner !== 'karpenter') return;
    const claim = this.world.nodeClaimOf(inst);
    if (!claim || claim.deleting) return;
    claim.deleting = new Date().toISOString();
    const delayMs = this.t.karpenterInterruptionSeconds * 1000;
    setTimeout(() => void this.handle(inst, String(fields.to), delayMs).catch((err: unknown) => this.log(`karpenter interruption of ${inst.id}: ${String(err)}`)), delayMs);
  }

  private event(name: string, fields: Record<string, unknown>): void {
    this.world.onEvent(name, fields);
  }

  /** Retries a step while the apiserver is unreachable or answers 5xx / conflicts (up to 5 min). */
  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 300_000;
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (err) {
        const code = httpStatus(err);
        if (code === 404 || Date.now() > deadline) throw err;
        if (i === 1 || i % 10 === 0) this.log(`karpenter: ${what} failed (${code ?? String(err)}), retrying`);
        await sleep(1000);
      }
    }
  }

  private async handle(inst: Instance, state: string, delayMs: number): Promise<void> {
    const claim = this.world.nodeClaimOf(inst);
    if (!claim) return;
    const node = inst.spec.name;
    const base = { node, instanceId: inst.id, nodeClaim: claim.name, nodePool: claim.nodePool };
    this.event('karpenter.interruption', { ...base, kind: 'InstanceStateChange', state, capacityType: claim.capacityType, delayMs });

    const exists = await this.retry(`tainting ${node}`, async () => {
      try {
        const n = await this.kube.core.readNode({ name: node });
        const taints = n.spec?.taints ?? [];
        if (!taints.some((x) => x.key === KARPENTER_DISRUPTED_TAINT)) {
          n.spec = { ...n.spec, taints: [...taints, { key: KARPENTER_DISRUPTED_TAINT, effect: 'NoSchedule', timeAdded: new Date() }] };
          await this.kube.core.replaceNode({ name: node, body: n }); // 409 on a concurrent write: retried
        }
        return true;
      } catch (err) {
        if (httpStatus(err) === 404) return false;
        throw err;
      }
    });
    if (exists) {
      this.event('karpenter.node.tainted', { ...base, taint: `${KARPENTER_DISRUPTED_TAINT}:NoSchedule` });
      const r = await this.drain(node, base);
      this.event('karpenter.node.drained', { ...base, evicted: r.evicted, blockedEvictions: r.blocked });
    }
    this.world.deleteNodeClaim(claim.name);
    this.event('karpenter.instance.terminating', { ...base });
    this.world.terminate(inst, `User initiated (${new Date().toISOString().replace('T', ' ').slice(0, 19)} GMT)`);
    this.world.launchKarpenter(inst, claim.name);
  }

  /** Evicts every evictable pod on the node through the Eviction API, retrying 429s (PDBs) with backoff. */
  private async drain(node: string, base: Record<string, unknown>): Promise<{ evicted: number; blocked: number }> {
    const pods = await this.retry(`listing pods on ${node}`, () => this.kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }));
    const targets = pods.items.filter(evictable);
    let blocked = 0;
    await Promise.all(targets.map(async (p) => {
      const name = p.metadata!.name!;
      const namespace = p.metadata!.namespace!;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.kube.core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
          this.event('karpenter.pod.evicted', { ...base, pod: `${namespace}/${name}`, attempts: attempt });
          return;
        } catch (err) {
          const code = httpStatus(err);
          if (code === 404) return; // gone already
          if (code === 429) {
            blocked++;
            // the first refusal, then every 10th: the PDB-respecting path without flooding the log
            if (attempt === 1 || attempt % 10 === 0) {
              const body = (err as { body?: unknown }).body;
              const message = typeof body === 'string' ? (/"message":"([^"]*)"/.exec(body)?.[1] ?? body.slice(0, 200)) : String((err as Error).message ?? '').slice(0, 200);
              this.event('karpenter.eviction.blocked', { ...base, pod: `${namespace}/${name}`, status: 429, attempt, message });
            }
          } else if (attempt === 1 || attempt % 10 === 0) {
            this.log(`karpenter: evicting ${namespace}/${name}: ${code ?? String(err)}, retrying`);
          }
          await sleep(evictionBackoffMs(attempt, this.t.karpenterEvictionRetryBaseMs, this.t.karpenterEvictionRetryMaxMs));
        }
      }
    }));
    return { evicted: targets.length, blocked };
  }
}
