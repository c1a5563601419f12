import { defineScenario } from '../harness/index.js';

// The container runtime a node reports (containerd on today's AMIs, docker on older ones, per
// status.nodeInfo.containerRuntimeVersion) is stopped on one node for 45 seconds. kubelet reports the
// node NotReady. With containerd (AL2023: KillMode=process) the running containers keep serving; with
// docker (AL2: live-restore off, kubelet Requires=docker) they stop and must be replaced elsewhere.
// Bottlerocket nodes are never chosen (SSM there cannot reach the host's systemd).
export default defineScenario({
  name: 'docker-kill',
  description: 'Stop the container runtime (containerd or docker) on one node for 45 seconds',
  fault: { kind: 'daemon-kill', daemon: 'runtime', mode: 'stop', count: 1, duration: '45s' },
  workloads: [{ namespace: 'default', selector: 'app=demo' }],
  probes: [{ name: 'demo', url: '${LAB_SERVICE_URL}/', rate: 20, timeout: '2s' }],
  slos: {
    'pods ready again': 'recovery < 2m',
    'node ready after the runtime returns': 'node-recovery < 1m',
    'demo availability': 'availability(demo) >= 93%',
    'demo longest outage': 'max-outage(demo) < 5s',
  },
});
