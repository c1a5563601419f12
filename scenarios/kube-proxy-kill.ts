import { defineScenario } from '../harness/index.js';

// kube-proxy is kept down on one node for 45 seconds. On EKS it is the kube-proxy add-on's DaemonSet
// container, which kubelet restarts when it is killed, so the fault freezes the process (SIGSTOP; a
// node-local timer sends SIGCONT) and checks its health endpoint stops answering. The node keeps its last
// view of the service endpoints (the iptables rules stay). Nothing is rescheduled; the service must stay
// available as long as the endpoints do not change.
export default defineScenario({
  name: 'kube-proxy-kill',
  description: 'Freeze kube-proxy (the DaemonSet container) on one node for 45 seconds',
  fault: { kind: 'daemon-kill', daemon: 'kube-proxy', mode: 'stop', count: 1, duration: '45s' },
  workloads: [{ namespace: 'default', selector: 'app=demo' }],
  probes: [{ name: 'demo', url: '${LAB_SERVICE_URL}/', rate: 20, timeout: '2s' }],
  slos: {
    'pods healthy after the fault': 'recovery < 2m',
    'nodes stay ready': 'node-recovery < 10s',
    'demo availability': 'availability(demo) >= 99.5%',
    'no errors while nothing moves': 'errors(demo@steady) == 0',
    'demo p99 latency': 'p99(demo) < 500ms',
  },
});
