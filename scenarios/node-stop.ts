import { defineScenario } from '../harness/index.js';

// One EC2 node is stopped for a minute (Auto Scaling health checks suspended meanwhile, so the same
// instance comes back). Its pods must be rescheduled on the other nodes, and the service must stay up
// through the load balancer's health checks.
export default defineScenario({
  name: 'node-stop',
  description: 'Stop one EC2 node for 1 minute, then start it again',
  fault: { kind: 'node-stop', count: 1, duration: '1m', asg: 'suspend' },
  workloads: [{ namespace: 'default', selector: 'app=demo' }],
  probes: [{ name: 'demo', url: '${LAB_SERVICE_URL}/', rate: 20, timeout: '2s' }],
  slos: {
    'pods ready again': 'recovery < 2m',
    'node back after start': 'node-recovery < 1m',
    'demo availability': 'availability(demo) >= 94%',
    'demo p90 latency': 'p90(demo) < 500ms',
    'demo longest outage': 'max-outage(demo) < 5s',
  },
  limits: { maxNodes: 1 },
});
