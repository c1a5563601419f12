// Fault specifications: data, validated before anything runs (zod), with the field named in every error.
import { z } from 'zod';
import { parseDuration } from '../duration.js';

const duration = (max: number) => z.string().transform((s, ctx) => {
  try {
    const ms = parseDuration(s);
    if (ms <= 0) ctx.addIssue({ code: 'custom', message: `duration must be positive, got "${s}"` });
    else if (ms > max) ctx.addIssue({ code: 'custom', message: `duration "${s}" is over the limit of ${max / 60_000} minutes` });
    return ms;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

// Label selector syntax as the apiserver parses it (labels.Parse), checked here so that a malformed
// selector is an input error (exit 2) and never reaches Kubernetes.
const LABEL_NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_KEY = `(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?${LABEL_NAME}`;
const REQUIREMENT = new RegExp(`^\\s*(?:!\\s*${LABEL_KEY}|${LABEL_KEY}(?:\\s*(?:==?|!=)\\s*(?:${LABEL_NAME})?|\\s+(?:in|notin)\\s*\\(\\s*${LABEL_NAME}(?:\\s*,\\s*${LABEL_NAME})*\\s*\\)|\\s*[<>]\\s*\\d+)?)\\s*$`);

/** Whether `s` is a Kubernetes label selector (equality, set-based, exists, `!key`, `key>N`). */
export function isLabelSelector(s: string): boolean {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (depth < 0 || depth > 1) return false;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  parts.push(cur);
  return depth === 0 && parts.every((p) => REQUIREMENT.test(p));
}

const selection = {
  /** Kubernetes label selector over nodes, e.g. `eks.amazonaws.com/nodegroup=ng-1` */
  selector: z.string().min(1).refine(isLabelSelector, 'not a Kubernetes label selector (write e.g. app=web, or eks.amazonaws.com/nodegroup in (ng-1,ng-2))').optional(),
  /** shorthand for the node group label (`eks.amazonaws.com/nodegroup`) */
  nodeGroup: z.string().regex(new RegExp(`^${LABEL_NAME}$`), 'a node group name is a label value: letters, digits, - _ . (at most 63)').optional(),
  /** only nodes of this zone */
  zone: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'zone must look like us-east-1a').optional(),
  /** how many of the matching nodes (default 1) */
  count: z.number().int().positive().max(1000).optional(),
  /** or which share of them, rounded up */
  percent: z.number().positive().max(100).optional(),
};

export const NodeStopSpec = z.object({
  kind: z.literal('node-stop'),
  ...selection,
  duration: duration(6 * 3_600_000),
  /** Auto Scaling: `suspend` HealthCheck/ReplaceUnhealthy for the duration, or `expect-replacement` */
  asg: z.enum(['suspend', 'expect-replacement']).default('suspend'),
}).strict();

export const DAEMONS = ['kubelet', 'kube-proxy', 'containerd', 'docker'] as const;
export const DaemonKillSpec = z.object({
  kind: z.literal('daemon-kill'),
  daemon: z.enum([...DAEMONS, 'runtime']),
  /** `stop`: systemctl stop, down for `duration`; `kill`: SIGKILL, systemd's policy decides the restart */
  mode: z.enum(['stop', 'kill']).default('stop'),
  ...selection,
  duration: duration(6 * 3_600_000),
}).strict();

export const AzBlackholeSpec = z.object({
  kind: z.literal('az-blackhole'),
  /** a zone name, or `auto`: the zone with the most targeted pods */
  zone: z.string().regex(/^(auto|[a-z]{2}(-gov)?-[a-z]+-\d[a-z])$/, 'zone must be "auto" or look like us-east-1a'),
  /** `nodes`: subnets of that zone holding cluster nodes; `zone`: every subnet of the zone in the VPC */
  scope: z.enum(['nodes', 'zone']).default('nodes'),
  duration: duration(6 * 3_600_000),
}).strict();

export const FaultSpec = z.discriminatedUnion('kind', [NodeStopSpec, DaemonKillSpec, AzBlackholeSpec]);
export type FaultSpecInput = z.input<typeof FaultSpec>;
export type FaultSpec = z.output<typeof FaultSpec>;
export type NodeStopSpec = z.output<typeof NodeStopSpec>;
export type DaemonKillSpec = z.output<typeof DaemonKillSpec>;
export type AzBlackholeSpec = z.output<typeof AzBlackholeSpec>;

export const Limits = z.object({
  /** at most this many nodes touched */
  maxNodes: z.number().int().positive().optional(),
  /** at most this share of the cluster's nodes */
  maxPercent: z.number().positive().max(100).optional(),
  /** at most this many zones (AZ faults never take more than 1) */
  maxZones: z.number().int().positive().max(1).default(1),
}).strict().default({ maxZones: 1 });
export type Limits = z.output<typeof Limits>;

/** Zod issues as `field: message` lines. */
export function describeIssues(err: z.ZodError, prefix = ''): string[] {
  return err.issues.map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)'}: ${i.message}`);
}
