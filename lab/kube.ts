// Kubernetes clients for the lab's own use (setting up nodes and the demo workload, toggling
// heartbeats). The harness has its own adapter in harness/k8s.
import * as k8s from '@kubernetes/client-node';

export interface LabKube {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  objects: k8s.KubernetesObjectApi;
}

export function labKube(kubeconfigPath: string): LabKube {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
  };
}

export function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  for (const v of [e?.code, e?.statusCode, e?.response?.statusCode]) if (typeof v === 'number') return v;
  return undefined;
}

/** Create, or leave alone when it already exists. */
export async function ensureObject(kube: LabKube, obj: Record<string, unknown>): Promise<'created' | 'exists'> {
  try {
    await kube.objects.create(obj as k8s.KubernetesObject);
    return 'created';
  } catch (err) {
    if (httpStatus(err) === 409) return 'exists';
    throw err;
  }
}

export const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export function nodeReady(node: k8s.V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
