// Stopping and resuming a node's heartbeat. KWOK renews the lease and status only of nodes carrying
// HEARTBEAT_LABEL=on (its --manage-nodes-with-label-selector). Removing the label makes KWOK drop the
// node, exactly like a kubelet that stopped talking to the apiserver; the real node-lifecycle
// controller then does the rest. Both changes are written to the world log.
import { HEARTBEAT_LABEL, parseProviderID } from './topology.js';
import { MERGE_PATCH, type LabKube } from './kube.js';
import { monoNs, WorldLog } from './world.js';

export async function setHeartbeat(kube: LabKube, world: WorldLog, node: string, on: boolean, cause = 'lab'): Promise<void> {
  const before = monoNs();
  const res = await kube.core.patchNode(
    { name: node, body: { metadata: { labels: { [HEARTBEAT_LABEL]: on ? 'on' : null } } } },
    MERGE_PATCH,
  );
  const ids = parseProviderID(res.spec?.providerID ?? '');
  world.append(on ? 'node.heartbeat.resumed' : 'node.heartbeat.stopped', {
    node, instanceId: ids?.instanceId, zone: ids?.zone, cause, requestMonoNs: before.toString(),
  });
}
