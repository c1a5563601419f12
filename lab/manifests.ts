// Objects and config files the lab writes: Node objects for KWOK, the demo workload, KWOK's stages
// and the apiserver's audit policy.
import type { V1Node } from '@kubernetes/client-node';
import {
  HEARTBEAT_LABEL, LAB_INSTANCE_TYPE, LAB_K8S_VERSION, LAB_REGION, NODEGROUP_LABEL, RUNTIME_VERSIONS,
  type LabNodeSpec, type Runtime,
} from './topology.js';

export function nodeObject(spec: LabNodeSpec): V1Node {
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
        [NODEGROUP_LABEL]: spec.nodeGroup,
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
        containerRuntimeVersion: RUNTIME_VERSIONS[spec.runtime],
        kernelVersion: '6.1.119-129.201.amzn2023.x86_64',
        kubeProxyVersion: LAB_K8S_VERSION,
        kubeletVersion: LAB_K8S_VERSION,
        machineID: spec.instanceId.replace(/^i-/, ''),
        operatingSystem: 'linux',
        osImage: 'Amazon Linux 2023.6.20241212',
        systemUUID: spec.instanceId,
      },
    },
  };
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
