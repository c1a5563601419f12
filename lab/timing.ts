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
}

export const TIMINGS: Record<TimingName, Timing> = {
  fast: {
    name: 'fast',
    nodeMonitorPeriodSeconds: 1,
    nodeMonitorGracePeriodSeconds: 10,
    nodeStartupGracePeriodSeconds: 20,
    tolerationSeconds: 10,
    nodeLeaseDurationSeconds: 8,
  },
  upstream: {
    name: 'upstream',
    nodeMonitorPeriodSeconds: 5,
    nodeMonitorGracePeriodSeconds: 50,
    nodeStartupGracePeriodSeconds: 60,
    tolerationSeconds: 300,
    nodeLeaseDurationSeconds: 40,
  },
};

export function parseTiming(name: string): Timing {
  if (name === 'fast' || name === 'upstream') return TIMINGS[name];
  throw new Error(`--timing must be "fast" or "upstream", got "${name}"`);
}
