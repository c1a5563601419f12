// Timing profiles. `fast` shrinks every Kubernetes failure-detection knob so a rehearsal takes a
// couple of minutes; `upstream` keeps the upstream defaults so a run shows what a real cluster does.
export type TimingName = 'fast' | 'upstream';

export interface Timing {
  name: TimingName;
  /** kube-controller-manager --node-monitor-period (how often the node-lifecycle controller looks). */
  nodeMonitorPeriodSeconds: number;
  /** kube-controller-manager --node-monitor-grace-period (silence before Ready=Unknown). */
  nodeMonitorGracePeriodSeconds: number;
  /** kube-controller-manager --node-startup-grace-period. */
  nodeStartupGracePeriodSeconds: number;
  /** kube-apiserver --default-{not-ready,unreachable}-toleration-seconds (eviction delay). */
  tolerationSeconds: number;
  /** kwok --node-lease-duration-seconds (lease renewed every quarter of it). */
  nodeLeaseDurationSeconds: number;
  /**
   * Karpenter's interruption handling: from an EC2 instance state-change (stopping) to Karpenter acting
   * on it. EventBridge delivers the "EC2 Instance State-change Notification" to the interruption SQS
   * queue within seconds and Karpenter long-polls the queue (karpenter.sh/docs/concepts/disruption/#interruption);
   * the lab takes 2 s (fast) and 15 s (upstream, a typical observed delivery + reaction).
   */
  karpenterInterruptionSeconds: number;
  /**
   * Karpenter's eviction queue retries an eviction the apiserver refused (429, a PodDisruptionBudget)
   * with exponential backoff from this base … (upstream: 100 ms)
   */
  karpenterEvictionRetryBaseMs: number;
  /** … up to this (upstream: 10 s). */
  karpenterEvictionRetryMaxMs: number;
}

export const TIMINGS: Record<TimingName, Timing> = {
  fast: {
    name: 'fast',
    nodeMonitorPeriodSeconds: 1,
    nodeMonitorGracePeriodSeconds: 10,
    nodeStartupGracePeriodSeconds: 20,
    tolerationSeconds: 10,
    nodeLeaseDurationSeconds: 8,
    karpenterInterruptionSeconds: 2,
    karpenterEvictionRetryBaseMs: 500,
    karpenterEvictionRetryMaxMs: 1000,
  },
  // EKS runs kube-controller-manager and kube-apiserver with the upstream defaults for these (they
  // cannot be changed on EKS): --node-monitor-period 5s; --node-monitor-grace-period 50s since
  // Kubernetes 1.32 (kubernetes/kubernetes#126287 raised it from 40s, the lease-based kubelet
  // needs > 4 × 10 s of renewals); --node-startup-grace-period 1m; DefaultTolerationSeconds 300 s
  // for not-ready/unreachable; the kubelet's node lease is 40 s (nodeLeaseDurationSeconds), renewed
  // every 10 s.
  upstream: {
    name: 'upstream',
    nodeMonitorPeriodSeconds: 5,
    nodeMonitorGracePeriodSeconds: 50,
    nodeStartupGracePeriodSeconds: 60,
    tolerationSeconds: 300,
    nodeLeaseDurationSeconds: 40,
    karpenterInterruptionSeconds: 15,
    karpenterEvictionRetryBaseMs: 100,
    karpenterEvictionRetryMaxMs: 10_000,
  },
};

export function parseTiming(name: string): Timing {
  if (name === 'fast' || name === 'upstream') return TIMINGS[name];
  throw new Error(`--timing must be "fast" or "upstream", got "${name}"`);
}
