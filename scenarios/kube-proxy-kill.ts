import { defineScenario } from '../harness/index.js';

// kube-proxy is stopped on one node for 45 seconds: the node keeps its last view of the service
// endpoints. Nothing is rescheduled; the service must stay available as long as the endpoints do not change.
export default defineScenario({
  name: 'kube-proxy-kill',
  description: 'Stop kube-proxy on one node for 45 seconds',
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
