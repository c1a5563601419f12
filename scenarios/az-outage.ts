import { defineScenario } from '../harness/index.js';

// A whole availability zone goes dark: every subnet of the zone holding cluster nodes is swapped onto a
// deny-all network ACL for 2 minutes. The nodes lose their heartbeat, the node-lifecycle controller
// evicts their pods, and the other zones must carry the service (cross-zone load balancing on).
export default defineScenario({
  name: 'az-outage',
  description: 'Black-hole every node subnet of one zone for 2 minutes',
  fault: { kind: 'az-blackhole', zone: 'auto', duration: '2m' },
  workloads: [{ namespace: 'default', selector: 'app=demo' }], // what must self-heal
  probes: [{ name: 'demo', url: '${LAB_SERVICE_URL}/', rate: 20, timeout: '2s' }],
  slos: {
    'pods ready again': 'recovery < 5m',
    'nodes ready after the zone returns': 'node-recovery < 1m',
    'demo availability': 'availability(demo) >= 92%',
    'demo p95 latency': 'p95(demo) < 2s',
    'demo longest outage': 'max-outage(demo) < 10s',
  },
  limits: { maxZones: 1 },
  abort: [{ probe: 'demo', availabilityBelow: '20%', window: '30s' }],
});
