// Where the harness itself runs: never a target. NODE_NAME (the Downward API in a pod) names its node;
// on EC2 the instance metadata (IMDSv2) gives its instance id and zone. Only --target aws asks IMDS:
// the lab never leaves 127.0.0.1.
import { parseProviderID, type Kube } from './k8s/index.js';
import { ZONE_LABEL } from './selector.js';

export interface Self { node?: string; zone?: string }

/** IMDSv2: instance id and zone, or undefined when not on EC2 (300 ms per request at most). */
export type Imds = () => Promise<{ instanceId: string; zone: string } | undefined>;

export const imdsV2: Imds = async () => {
  try {
    const base = 'http://169.254.169.254/latest';
    const tok = await (await fetch(`${base}/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }, signal: AbortSignal.timeout(300) })).text();
    const get = async (p: string) => {
      const r = await fetch(`${base}/meta-data/${p}`, { headers: { 'X-aws-ec2-metadata-token': tok }, signal: AbortSignal.timeout(300) });
      return r.ok ? (await r.text()).trim() : undefined;
    };
    const [instanceId, zone] = [await get('instance-id'), await get('placement/availability-zone')];
    return instanceId && zone ? { instanceId, zone } : undefined;
  } catch {
    return undefined;
  }
};

export async function whereAmI(kube: Kube, target: string, env: NodeJS.ProcessEnv = process.env, imds: Imds = imdsV2): Promise<Self> {
  const self: Self = {};
  const nodeName = env.NODE_NAME;
  if (nodeName) {
    self.node = nodeName;
    const n = (await kube.nodes(`kubernetes.io/hostname=${nodeName}`))[0] ?? (await kube.nodes()).find((x) => x.metadata?.name === nodeName);
    if (n?.metadata?.name) self.node = n.metadata.name;
    self.zone = n?.metadata?.labels?.[ZONE_LABEL];
  }
  if (target === 'aws' && (!self.node || !self.zone)) {
    const me = await imds();
    if (me) {
      self.zone ??= me.zone;
      self.node ??= (await kube.nodes()).find((n) => parseProviderID(n.spec?.providerID)?.instanceId === me.instanceId)?.metadata?.name;
    }
  }
  return self;
}
