// Kubernetes Events marking each fault window on the affected nodes and workloads, so dashboards and
// `kubectl get events` show when chaos was in place (reasons ChaosFaultInjected / ChaosFaultReverted).
import type { Kube } from './index.js';

export interface EventTarget { kind: 'Node' | 'Deployment'; name: string; namespace?: string; uid?: string }

export async function recordChaosEvent(kube: Kube, targets: EventTarget[], reason: 'ChaosFaultInjected' | 'ChaosFaultReverted', message: string, runId: string): Promise<string[]> {
  const errors: string[] = [];
  const now = new Date();
  await Promise.all(targets.map(async (t) => {
    // Node events live in the default namespace, as the kubelet's do.
    const namespace = t.namespace ?? 'default';
    try {
      await kube.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `chaos-${t.name.slice(0, 40)}-`, namespace, labels: { 'chaos.k8s-chaos-harness/run-id': runId.slice(0, 63) } },
          involvedObject: { kind: t.kind, name: t.name, namespace: t.kind === 'Node' ? undefined : namespace, uid: t.uid, apiVersion: t.kind === 'Node' ? 'v1' : 'apps/v1' },
          reason, message, type: reason === 'ChaosFaultInjected' ? 'Warning' : 'Normal',
          source: { component: 'k8s-chaos-harness' }, reportingComponent: 'k8s-chaos-harness', reportingInstance: runId.slice(0, 128),
          firstTimestamp: now, lastTimestamp: now, count: 1,
        },
      });
    } catch (err) {
      errors.push(`${t.kind} ${t.name}: ${(err as Error).message}`);
    }
  }));
  return errors;
}
