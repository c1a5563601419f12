// The lab daemon (`lab up` starts it, detached): hosts the AWS endpoint (EC2, Auto Scaling, SSM), the
// node agent socket the SSM sandbox's shims talk to, the service data plane, and the reconciler that
// makes each world change do to the cluster what it does on AWS:
//   instance stopped / kubelet down / subnet black-holed → KWOK stops the node's heartbeat
//   container runtime down → kubelet still heart-beats (the daemon renews the lease) but reports Ready=False
//   instance terminated by Auto Scaling → Node deleted (cloud-node-lifecycle); replacement → new Node
//   Karpenter instance stopping → Karpenter's interruption handling (lab/karpenter.ts): taint, drain,
//   NodeClaim deleted, instance terminated (→ Node deleted), replacement launched (→ new Node)
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { DEFAULT_SUBNETS_PER_ZONE, readState } from './cluster.js';
import { labPaths } from './paths.js';
import { labKube, MERGE_PATCH, nodeReady, httpStatus } from './kube.js';
import { setHeartbeat } from './heartbeat.js';
import { nodeObject } from './manifests.js';
import { HEARTBEAT_LABEL } from './topology.js';
import { WorldLog } from './world.js';
import { World, worldTimings, type Instance } from './aws/model.js';
import { NodeSim } from './aws/nodesim.js';
import { prepareSandbox } from './aws/sandbox.js';
import { Ssm } from './aws/ssm.js';
import { createAwsEndpoint } from './aws/server.js';
import { DataPlane, healthCheckConfig } from './dataplane.js';
import { KarpenterInterruption } from './karpenter.js';

const dir = process.argv[2];
if (!dir) { console.error('usage: daemon.ts <lab dir>'); process.exit(2); }
const paths = labPaths(dir);
const state = readState(paths);
if (!state) { console.error(`no lab state in ${dir}`); process.exit(2); }
const log = (m: string) => console.log(`${new Date().toISOString()} ${m}`);
const worldLog = new WorldLog(paths.world);
const kube = labKube(paths.kubeconfig);
const coord = kube.kc.makeApiClient(k8s.CoordinationV1Api);

let reconcileSoon: () => void = () => {};
let karpenter: KarpenterInterruption | undefined;
const world = new World(state.options.clusterName, state.options.runtime, worldTimings(state.timing), (event, fields) => {
  worldLog.append(event, fields);
  log(`${event} ${JSON.stringify(fields)}`);
  karpenter?.onWorldEvent(event, fields);
  reconcileSoon();
}, state.nodes, (state.options.subnetsPerZone ?? DEFAULT_SUBNETS_PER_ZONE) - 1);
karpenter = new KarpenterInterruption(world, kube, state.timing, log);

// ---- node agent socket for the SSM sandbox's shims ----
const sandbox = prepareSandbox(path.join(paths.dir, 'aws-node'));
const ssm = new Ssm(world, sandbox);
const sim = new NodeSim(world);
const agent = net.createServer((sock) => {
  let buf = '';
  sock.on('data', (d) => {
    buf += d.toString();
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    let reply = { stdout: '', stderr: 'lab node agent: bad request\n', code: 1 };
    try {
      const req = JSON.parse(buf.slice(0, nl)) as { instanceId: string; token: string; argv: string[] };
      const inst = world.instances.get(req.instanceId);
      if (req.token !== ssm.nodeToken || !inst) reply = { stdout: '', stderr: 'lab node agent: unknown node\n', code: 1 };
      else if (inst.state !== 'running') reply = { stdout: '', stderr: `${req.argv[0]}: the instance is ${inst.state}\n`, code: 1 };
      else reply = sim.run(inst, req.argv);
    } catch (err) {
      reply = { stdout: '', stderr: `lab node agent: ${String(err)}\n`, code: 1 };
    }
    sock.end(JSON.stringify(reply));
  });
  sock.on('error', () => {});
});
fs.rmSync(sandbox.socket, { force: true });
agent.listen(sandbox.socket, () => fs.chmodSync(sandbox.socket, 0o666));

// ---- the data plane and the caches it needs ----
const lbPorts: Record<string, number> = {};
const dataPlane = new DataPlane(world, healthCheckConfig(state.timing), async (key, port) => {
  lbPorts[key] = port;
  const [namespace, name] = key.split('/');
  await kube.core.patchNamespacedServiceStatus({ namespace, name, body: { status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'Proxy', ports: [{ port, protocol: 'TCP' }] }] } } } }, MERGE_PATCH)
    .catch((err: unknown) => log(`could not set ${key} load balancer status: ${String(err)}`));
  writeEndpointFile();
  log(`load balancer for ${key} on 127.0.0.1:${port}`);
});
const nodes = new Map<string, k8s.V1Node>();

/** list + watch with relist on every end; good enough for the lab's own caches. */
function listWatch<T extends k8s.KubernetesObject>(pathname: string, list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>, onSync: (items: T[]) => void, onEvent: (type: string, obj: T) => void): void {
  const watch = new k8s.Watch(kube.kc);
  const run = async (): Promise<void> => {
    try {
      const l = await list();
      onSync(l.items);
      await new Promise<void>((resolve) => {
        void watch.watch(pathname, { resourceVersion: l.metadata?.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
          (type, obj: T) => { if (type !== 'BOOKMARK') onEvent(type, obj); }, () => resolve()).catch(() => resolve());
      });
    } catch (err) {
      log(`watch ${pathname}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    setImmediate(() => void run());
  };
  void run();
}

const keyOf = (o: k8s.KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
listWatch<k8s.V1Service>('/api/v1/services', () => kube.core.listServiceForAllNamespaces(), (items) => { for (const s of items) void dataPlane.upsertService(s); },
  (type, s) => (type === 'DELETED' ? dataPlane.deleteService(keyOf(s)) : void dataPlane.upsertService(s)));
const discovery = kube.kc.makeApiClient(k8s.DiscoveryV1Api);
listWatch<k8s.V1EndpointSlice>('/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces(),
  (items) => { dataPlane.slices.clear(); for (const s of items) dataPlane.slices.set(keyOf(s), s); dataPlane.refreshViews(); },
  (type, s) => { if (type === 'DELETED') dataPlane.slices.delete(keyOf(s)); else dataPlane.slices.set(keyOf(s), s); dataPlane.refreshViews(); });
listWatch<k8s.V1Pod>('/api/v1/pods', () => kube.core.listPodForAllNamespaces(),
  (items) => { dataPlane.pods.clear(); for (const p of items) dataPlane.pods.set(keyOf(p), p); },
  (type, p) => { if (type === 'DELETED') dataPlane.pods.delete(keyOf(p)); else dataPlane.pods.set(keyOf(p), p); });
listWatch<k8s.V1Node>('/api/v1/nodes', () => kube.core.listNode(),
  (items) => { nodes.clear(); for (const n of items) nodes.set(n.metadata!.name!, n); reconcileSoon(); },
  (type, n) => { if (type === 'DELETED') nodes.delete(n.metadata!.name!); else nodes.set(n.metadata!.name!, n); });

// ---- reconciler: world → cluster ----
type Mode = 'heartbeat' | 'runtime-down' | 'silent' | 'gone';
function desiredMode(i: Instance): Mode {
  if (i.state === 'terminated') return 'gone';
  // a frozen (SIGSTOPped) kubelet is active for systemd but posts nothing
  if (!world.daemonServing(i, 'kubelet') || !world.controlPlaneReachable(i)) return 'silent';
  return world.runtimeActive(i) ? 'heartbeat' : 'runtime-down';
}

// Edge-triggered: the reconciler acts when an instance's mode changes, so a heartbeat toggled by hand
// (`npm run lab -- stop-heartbeat`) stays as set until that instance's world changes.
const lastMode = new Map<string, Mode>();
for (const i of world.instances.values()) lastMode.set(i.id, desiredMode(i));
let busy = false;
let again = false;
async function reconcile(): Promise<void> {
  if (busy) { again = true; return; }
  busy = true;
  try {
    do {
      again = false;
      for (const inst of world.instances.values()) {
        const mode = desiredMode(inst);
        const name = inst.spec.name;
        const node = nodes.get(name);
        if (mode === 'gone') {
          if (node) {
            await kube.core.deleteNode({ name }).catch((e: unknown) => { if (httpStatus(e) !== 404) throw e; });
            nodes.delete(name);
            worldLog.append('node.deleted', { node: name, instanceId: inst.id, cause: 'instance terminated' });
          }
          continue;
        }
        if (!node) {
          if (inst.state !== 'running') continue;
          const obj = nodeObject(inst.spec);
          obj.metadata!.labels![HEARTBEAT_LABEL] = mode === 'heartbeat' ? 'on' : 'off';
          const created = await kube.core.createNode({ body: obj }).catch((e: unknown) => { if (httpStatus(e) === 409) return undefined; throw e; });
          if (created) { nodes.set(name, created); lastMode.set(inst.id, mode); worldLog.append('node.created', { node: name, instanceId: inst.id, zone: inst.spec.zone, cause: 'instance launched' }); }
          continue;
        }
        if (lastMode.get(inst.id) === mode) continue;
        const labelled = node.metadata?.labels?.[HEARTBEAT_LABEL] === 'on';
        const want = mode === 'heartbeat';
        if (labelled !== want) {
          await setHeartbeat(kube, worldLog, name, want, `lab-daemon:${mode}`);
          node.metadata!.labels![HEARTBEAT_LABEL] = want ? 'on' : 'off';
        }
        lastMode.set(inst.id, mode);
      }
    } while (again);
  } catch (err) {
    log(`reconcile: ${String(err)}`);
  } finally {
    busy = false;
  }
}
let pending: NodeJS.Timeout | undefined;
reconcileSoon = () => { if (!pending) pending = setTimeout(() => { pending = undefined; void reconcile(); }, 10); };
setInterval(() => void reconcile(), 500);

// A kubelet whose runtime is down keeps renewing its lease and posts Ready=False.
const leaseEvery = Math.max(500, (state.timing.nodeLeaseDurationSeconds * 1000) / 4);
setInterval(() => {
  for (const inst of world.instances.values()) {
    if (desiredMode(inst) !== 'runtime-down') continue;
    const name = inst.spec.name;
    void (async () => {
      const now = new Date();
      await coord.patchNamespacedLease({ name, namespace: 'kube-node-lease', body: { spec: { renewTime: now.toISOString().replace('Z', '000Z'), holderIdentity: name } } }, MERGE_PATCH).catch(() => {});
      const node = await kube.core.readNode({ name }).catch(() => undefined);
      if (!node?.status) return;
      const conds = node.status.conditions ?? [];
      const ready = conds.find((c) => c.type === 'Ready');
      const was = ready?.status;
      const msg = `container runtime is down, PLEG is not healthy: ${inst.spec.runtime} is not running`;
      const next = conds.filter((c) => c.type !== 'Ready').concat([{
        type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: msg,
        lastHeartbeatTime: now, lastTransitionTime: was === 'False' && ready?.lastTransitionTime ? ready.lastTransitionTime : now,
      }]);
      node.status.conditions = next;
      await kube.core.replaceNodeStatus({ name, body: node }).catch(() => {});
      if (was !== 'False') worldLog.append('node.runtime-down.reported', { node: name, instanceId: inst.id, ready: nodeReady(node) });
    })();
  }
}, leaseEvery);

// ---- the AWS endpoint ----
const endpoint = createAwsEndpoint(world, ssm, () => ({
  ...world.snapshot(), loadBalancers: lbPorts, sandbox: sandbox.isolation,
  dataPlane: {
    views: Object.fromEntries([...dataPlane.views].map(([n, m]) => [n, Object.fromEntries([...m].map(([k, eps]) => [k, eps.map((e) => e.ip)]))])),
    health: Object.fromEntries([...dataPlane.lbs].map(([k, lb]) => [k, Object.fromEntries([...lb.health].map(([n, h]) => [n, h.healthy]))])),
  },
}));
let awsPort = 0;
function writeEndpointFile(): void {
  const file = path.join(paths.dir, 'aws.json');
  fs.writeFileSync(file + '.tmp', JSON.stringify({ pid: process.pid, awsPort, loadBalancers: lbPorts, sandbox: sandbox.isolation }, null, 2));
  fs.renameSync(file + '.tmp', file);
}
endpoint.server.listen(Number(process.env.LAB_AWS_PORT ?? 0), '127.0.0.1', () => {
  awsPort = (endpoint.server.address() as { port: number }).port;
  writeEndpointFile();
  log(`AWS endpoint on http://127.0.0.1:${awsPort} (sandbox: ${sandbox.isolation})`);
});
dataPlane.start();

function shutdown(): void {
  log('shutting down');
  dataPlane.stop();
  endpoint.server.close();
  agent.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
// The lab must outlive a bug in one request: log it and keep serving.
process.on('uncaughtException', (err) => log(`uncaught: ${err.stack ?? String(err)}`));
process.on('unhandledRejection', (err) => log(`unhandled rejection: ${String(err)}`));
process.on('SIGINT', shutdown);
