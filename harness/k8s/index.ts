// The harness's only door to Kubernetes (client-node). Clients are built from a kubeconfig and a
// context, or passed in.
import * as k8s from '@kubernetes/client-node';
import { invalid } from '../exit-codes.js';

export type { V1Node, V1Pod, V1Deployment, V1EndpointSlice, V1Lease, V1ConfigMap, KubernetesObject } from '@kubernetes/client-node';

/** The HTTP status of a client-node ApiException (404, 409, …), or undefined. */
export function apiStatus(err: unknown): number | undefined {
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'number' ? c : undefined;
}

export interface KubeOptions { kubeconfig?: string; context?: string }

export class Kube {
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly discovery: k8s.DiscoveryV1Api;
  readonly coordination: k8s.CoordinationV1Api;
  readonly custom: k8s.CustomObjectsApi;
  constructor(readonly kc: k8s.KubeConfig) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  }

  static load(o: KubeOptions = {}): Kube {
    const kc = new k8s.KubeConfig();
    if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromDefault();
    if (o.context) {
      if (!kc.getContextObject(o.context)) throw invalid(`kube context "${o.context}" is not in the kubeconfig (contexts: ${kc.getContexts().map((c) => c.name).join(', ')})`);
      kc.setCurrentContext(o.context);
    }
    return new Kube(kc);
  }

  get context(): string {
    return this.kc.getCurrentContext();
  }

  async nodes(labelSelector?: string): Promise<k8s.V1Node[]> {
    return (await this.core.listNode({ labelSelector })).items;
  }

  async pods(namespace: string, labelSelector?: string): Promise<k8s.V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  /**
   * VPC CNI custom networking: the ENIConfigs (crd.k8s.amazonaws.com/v1alpha1, cluster-scoped) and the
   * subnet each puts pod ENIs in (amazon-vpc-cni-k8s docs, "Custom networking"). No CRD: none.
   */
  async eniConfigs(): Promise<Array<{ name: string; subnet: string }>> {
    try {
      const r = (await this.custom.listClusterCustomObject({ group: 'crd.k8s.amazonaws.com', version: 'v1alpha1', plural: 'eniconfigs' })) as { items?: Array<{ metadata?: { name?: string }; spec?: { subnet?: string } }> };
      return (r.items ?? []).filter((x) => x.spec?.subnet).map((x) => ({ name: x.metadata?.name ?? '', subnet: x.spec!.subnet! }));
    } catch (err) {
      if (apiStatus(err) === 404) return [];
      throw err;
    }
  }

  /** The hostnames in LoadBalancer Services' status (the AWS Load Balancer Controller sets the NLB's DNS name there). */
  async loadBalancerHostnames(): Promise<Array<{ service: string; hostname: string }>> {
    const out: Array<{ service: string; hostname: string }> = [];
    for (const s of (await this.core.listServiceForAllNamespaces({})).items) {
      if (s.spec?.type !== 'LoadBalancer') continue;
      for (const i of s.status?.loadBalancer?.ingress ?? []) if (i.hostname) out.push({ service: `${s.metadata?.namespace}/${s.metadata?.name}`, hostname: i.hostname });
    }
    return out;
  }
}

export function isNodeReady(n: k8s.V1Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function parseProviderID(providerID: string | undefined): { zone: string; instanceId: string } | undefined {
  const m = /^aws:\/\/\/([a-z0-9-]+)\/(i-[0-9a-f]+)$/.exec(providerID ?? '');
  return m ? { zone: m[1], instanceId: m[2] } : undefined;
}
