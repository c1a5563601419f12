// Objects and config files the lab writes: Node objects for KWOK, the demo workload, KWOK's stages
// and the apiserver's audit policy.
import type { V1Node } from '@kubernetes/client-node';
import {
  CAPACITY_TYPE_LABEL, HEARTBEAT_LABEL, KARPENTER_CAPACITY_TYPE_LABEL, KARPENTER_NODECLASS, KARPENTER_NODECLASS_LABEL, KARPENTER_NODEPOOL_LABEL,
  LAB_INSTANCE_TYPE, LAB_K8S_VERSION, LAB_REGION, NODEGROUP_LABEL, OS_IMAGES, runtimeVersion,
  type LabNodeSpec,
} from './topology.js';

/**
 * The labels that tell the node kinds apart, as EKS and Karpenter set them:
 * - managed node group: `eks.amazonaws.com/nodegroup=<name>`, `eks.amazonaws.com/capacityType=ON_DEMAND|SPOT`
 *   (EKS docs, "Managed node groups": the labels EKS adds to the nodes it launches)
 * - Karpenter: `karpenter.sh/nodepool`, `karpenter.sh/capacity-type=on-demand|spot`,
 *   `karpenter.k8s.aws/ec2nodeclass`, `karpenter.sh/registered=true` and `karpenter.sh/initialized=true`
 *   once the NodeClaim is registered and initialised (karpenter.sh/docs/concepts/nodeclaims), and the
 *   instance-type labels `karpenter.k8s.aws/instance-{category,family,size}`.
 */
export function kindLabels(spec: LabNodeSpec): Record<string, string> {
  if (spec.provisioner === 'karpenter') {
    const [family, size] = LAB_INSTANCE_TYPE.split('.');
    return {
      [KARPENTER_NODEPOOL_LABEL]: spec.nodePool ?? 'default',
      [KARPENTER_CAPACITY_TYPE_LABEL]: spec.capacityType,
      [KARPENTER_NODECLASS_LABEL]: KARPENTER_NODECLASS,
      'karpenter.sh/registered': 'true',
      'karpenter.sh/initialized': 'true',
      'karpenter.k8s.aws/instance-category': family.replace(/\d.*$/, ''),
      'karpenter.k8s.aws/instance-family': family,
      'karpenter.k8s.aws/instance-size': size,
    };
  }
  return {
    [NODEGROUP_LABEL]: spec.nodeGroup ?? '',
    [CAPACITY_TYPE_LABEL]: spec.capacityType === 'spot' ? 'SPOT' : 'ON_DEMAND',
  };
}

export function nodeObject(spec: LabNodeSpec): V1Node {
  const image = OS_IMAGES[spec.os];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/region': LAB_REGION,
        'topology.kubernetes.io/zone': spec.zone,
        'node.kubernetes.io/instance-type': LAB_INSTANCE_TYPE,
        ...kindLabels(spec),
        [HEARTBEAT_LABEL]: 'on',
        type: 'kwok',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'lab.chaos.local/instance-id': spec.instanceId },
    },
    spec: { providerID: spec.providerID, podCIDR: spec.podCIDR, podCIDRs: [spec.podCIDR] },
    status: {
      addresses: [
        { type: 'InternalIP', address: spec.privateIp },
        { type: 'InternalDNS', address: spec.privateDnsName },
        { type: 'Hostname', address: spec.privateDnsName },
      ],
      capacity: { cpu: '2', memory: '7934Mi', pods: '29', 'ephemeral-storage': '20Gi' },
      allocatable: { cpu: '1930m', memory: '7220Mi', pods: '29', 'ephemeral-storage': '18Gi' },
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: runtimeVersion(spec),
        kernelVersion: image.kernelVersion,
        kubeProxyVersion: LAB_K8S_VERSION,
        kubeletVersion: LAB_K8S_VERSION,
        machineID: spec.instanceId.replace(/^i-/, ''),
        operatingSystem: 'linux',
        osImage: image.osImage,
        systemUUID: spec.instanceId,
      },
    },
  };
}

/**
 * The EKS default add-ons the lab runs (pods run by KWOK):
 * - CoreDNS (EKS add-on `coredns`): Deployment `kube-system/coredns`, 2 replicas, labels
 *   `k8s-app=kube-dns` + `eks.amazonaws.com/component=coredns`, Service `kube-dns` (ClusterIP .10 of the
 *   service range, 53/UDP, 53/TCP, 9153/TCP metrics), and the PodDisruptionBudget the add-on ships
 *   (`maxUnavailable: 1`, its configuration schema's `podDisruptionBudget` default; EKS docs
 *   "Manage CoreDNS for DNS in Amazon EKS clusters").
 * - kube-proxy (EKS add-on `kube-proxy`): DaemonSet `kube-system/kube-proxy`, labels `k8s-app=kube-proxy`
 *   + `eks.amazonaws.com/component=kube-proxy`, hostNetwork, `system-node-critical`, tolerates every
 *   taint (`operator: Exists`), RollingUpdate `maxUnavailable: 10%` (EKS docs "Manage kube-proxy in
 *   Amazon EKS clusters"; the DaemonSet as the add-on installs it).
 * The node-local kube-proxy process the SSM shims act on is modelled in lab/aws (not these pods).
 */
export const ADDONS = {
  namespace: 'kube-system',
  coredns: { name: 'coredns', replicas: 2, selector: 'k8s-app=kube-dns', image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.12.4-eksbuild.1' },
  kubeDnsClusterIp: '172.20.0.10',
  kubeProxy: { name: 'kube-proxy', selector: 'k8s-app=kube-proxy', image: `602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:${LAB_K8S_VERSION}-eksbuild.1` },
} as const;

export function addonObjects(): Record<string, unknown>[] {
  const ns = ADDONS.namespace;
  const dnsLabels = { 'k8s-app': 'kube-dns', 'eks.amazonaws.com/component': 'coredns' };
  const proxyLabels = { 'k8s-app': 'kube-proxy', 'eks.amazonaws.com/component': 'kube-proxy' };
  const linuxAffinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [
          { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
          { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
        ] }],
      },
    },
  };
  const corefile = `.:53 {
    errors
    health {
        lameduck 5s
      }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
`;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: ns, labels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' } } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: ns, labels: dnsLabels }, data: { Corefile: corefile } },
    {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: ADDONS.coredns.name, namespace: ns, labels: { ...dnsLabels, 'kubernetes.io/name': 'CoreDNS' } },
      spec: {
        replicas: ADDONS.coredns.replicas,
        selector: { matchLabels: dnsLabels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
        template: {
          metadata: { labels: dnsLabels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            affinity: {
              ...linuxAffinity,
              podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchExpressions: [{ key: 'k8s-app', operator: 'In', values: ['kube-dns'] }] } } }] },
            },
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
            dnsPolicy: 'Default',
            containers: [{
              name: 'coredns', image: ADDONS.coredns.image, args: ['-conf', '/etc/coredns/Corefile'],
              ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }, { name: 'metrics', containerPort: 9153, protocol: 'TCP' }],
              resources: { requests: { cpu: '100m', memory: '70Mi' }, limits: { memory: '170Mi' } },
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
              livenessProbe: { httpGet: { path: '/health', port: 8080 }, initialDelaySeconds: 60, timeoutSeconds: 5, failureThreshold: 5 },
              readinessProbe: { httpGet: { path: '/ready', port: 8181 } },
            }],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kube-dns', namespace: ns, labels: { ...dnsLabels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' }, annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' } },
      spec: {
        type: 'ClusterIP', clusterIP: ADDONS.kubeDnsClusterIp, selector: { 'k8s-app': 'kube-dns' },
        ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }, { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 }],
      },
    },
    {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
      metadata: { name: 'coredns', namespace: ns, labels: dnsLabels },
      spec: { maxUnavailable: 1, selector: { matchLabels: dnsLabels } },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: ns, labels: { 'eks.amazonaws.com/component': 'kube-proxy' } } },
    {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy-config', namespace: ns, labels: proxyLabels },
      data: { config: 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig\nmode: "iptables"\nclusterCIDR: ""\n' },
    },
    {
      apiVersion: 'apps/v1', kind: 'DaemonSet',
      metadata: { name: ADDONS.kubeProxy.name, namespace: ns, labels: proxyLabels },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-proxy' } },
          spec: {
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [
              { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
              { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
              { key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate', 'auto', 'hybrid'] },
            ] }] } } },
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            serviceAccountName: 'kube-proxy',
            tolerations: [{ operator: 'Exists' }],
            containers: [{
              name: 'kube-proxy', image: ADDONS.kubeProxy.image,
              command: ['kube-proxy', '--v=2', '--config=/var/lib/kube-proxy-config/config', '--hostname-override=$(NODE_NAME)'],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
              resources: { requests: { cpu: '100m' } },
              securityContext: { privileged: true },
              volumeMounts: [
                { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
                { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true },
                { name: 'config', mountPath: '/var/lib/kube-proxy-config/' },
              ],
            }],
            volumes: [
              { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
              { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
              { name: 'config', configMap: { name: 'kube-proxy-config' } },
            ],
          },
        },
      },
    },
  ];
}

export const DEMO = { namespace: 'default', name: 'demo', replicas: 6, selector: 'app=demo' } as const;

export function demoObjects(): Record<string, unknown>[] {
  const labels = { app: DEMO.name };
  return [
    {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: DEMO.name, namespace: DEMO.namespace, labels },
      spec: {
        replicas: DEMO.replicas,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 30,
            topologySpreadConstraints: [
              // ScheduleAnyway: with DoNotSchedule, replacements for a lost zone could never be placed.
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
              { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
            ],
            containers: [{
              name: 'web',
              image: 'public.ecr.aws/nginx/nginx:1.27',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            }],
          },
        },
      },
    },
    {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
      metadata: { name: DEMO.name, namespace: DEMO.namespace },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: {
        name: DEMO.name, namespace: DEMO.namespace, labels,
        annotations: {
          'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
          'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'instance',
          'service.beta.kubernetes.io/aws-load-balancer-attributes': 'load_balancing.cross_zone.enabled=true',
        },
      },
      spec: { type: 'LoadBalancer', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    },
  ];
}

/**
 * KWOK stages. Written for this lab (KWOK's stage API, kwok.x-k8s.io/v1alpha1): nodes are initialised
 * and then kept alive by the node lease (KWOK's lease controller); pods become Ready once scheduled,
 * become Ready again after the node-lifecycle controller marked them NotReady and the node came back,
 * and are removed when deleted.
 */
export function kwokStagesYaml(): string {
  const nodeConditions = `
      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}`;
  const podReady = `
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: PodScheduled
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}`;
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |${nodeConditions}
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-heartbeat-with-lease
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - key: '.status.phase'
      operator: In
      values: ['Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: In
      values: ['True']
  delay:
    durationMilliseconds: 300000
    jitterDurationMilliseconds: 310000
  next:
    statusTemplate: |${nodeConditions}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: ['Pending']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |${podReady}
      {{ $hostIPs := NodeIPsWith .spec.nodeName }}
      {{ with $hostIPs }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      {{ with $podIPs }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready-again
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: ['Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |${podReady}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: Exists
  next:
    delete: true
`;
}

/** Audit policy: node and pod writes (incl. status) at Metadata level, nothing else. */
/** Writes to nodes, pods and EndpointSlices, at `level` (RequestResponse: with the objects written). */
export function auditPolicyYaml(level: 'Metadata' | 'RequestResponse' = 'Metadata'): string {
  return `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: ${level}
  verbs: ["create", "update", "patch", "delete"]
  resources:
  - group: ""
    resources: ["nodes", "nodes/status", "pods", "pods/status", "pods/eviction", "pods/binding"]
  - group: "discovery.k8s.io"
    resources: ["endpointslices"]
- level: None
`;
}
