import { defineScenario } from '../harness/index.js';

// kubelet is stopped (systemctl stop, through SSM) on one node for a minute. The node goes NotReady
// and its pods are evicted and replaced, but the pods themselves keep serving until their endpoints
// are removed: traffic should barely notice. A node-local timer restarts kubelet even if the harness dies.
export default defineScenario({
  name: 'kubelet-kill',
  description: 'Stop kubelet on one node for 1 minute',
  fault: { kind: 'daemon-kill', daemon: 'kubelet', mode: 'stop', count: 1, duration: '1m' },
  workloads: [{ namespace: 'default', selector: 'app=demo' }],
  probes: [{ name: 'demo', url: '${LAB_SERVICE_URL}/', rate: 20, timeout: '2s' }],
  slos: {
    'pods ready again': 'recovery < 2m',
    'node ready after kubelet returns': 'node-recovery < 1m',
    'demo availability': 'availability(demo) >= 99.5%',
    'demo p99 latency': 'p99(demo) < 500ms',
  },
});
