// Schema pieces the fault kinds share (zod), with the field named in every error: durations, the
// node selection, and the blast-radius limits.
import { z } from 'zod';
import { MAX_DURATION_MS, parseDuration } from '../duration.js';
import { isLabelSelector, LABEL_VALUE_RE } from '../selector.js';

/** A positive duration string (`90s`, `2m`) → milliseconds, at most MAX_DURATION_MS. */
export const durationField = () => z.string().transform((s, ctx) => {
  try {
    const ms = parseDuration(s);
    if (ms <= 0) ctx.addIssue({ code: 'custom', message: `duration must be positive, got "${s}"` });
    else if (ms > MAX_DURATION_MS) ctx.addIssue({ code: 'custom', message: `duration "${s}" is over the limit of ${MAX_DURATION_MS / 60_000} minutes` });
    return ms;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const ZONE_RE = /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/;

/** Which nodes a node fault takes: selector, node group, zone, and how many. */
export const selectionFields = {
  /** Kubernetes label selector over nodes, e.g. `eks.amazonaws.com/nodegroup=ng-1` */
  selector: z.string().min(1).refine(isLabelSelector, 'not a Kubernetes label selector (write e.g. app=web, or eks.amazonaws.com/nodegroup in (ng-1,ng-2))').optional(),
  /** shorthand for the node group label (`eks.amazonaws.com/nodegroup`) */
  nodeGroup: z.string().regex(LABEL_VALUE_RE, 'a node group name is a label value: letters, digits, - _ . (at most 63)').optional(),
  /** only nodes of this zone */
  zone: z.string().regex(ZONE_RE, 'zone must look like us-east-1a').optional(),
  /** how many of the matching nodes (default 1) */
  count: z.number().int().positive().max(1000).optional(),
  /** or which share of them, rounded up */
  percent: z.number().positive().max(100).optional(),
};

/** The `chaos fault <kind>` flags of selectionFields. */
export const selectionFlags = [
  { field: 'selector', flag: '--selector <labels>', help: 'node label selector' },
  { field: 'nodeGroup', flag: '--node-group <name>', help: 'only nodes of this node group' },
  { field: 'zone', flag: '--zone <zone>', help: 'only nodes of this zone' },
  { field: 'count', flag: '--count <n>', help: 'how many matching nodes (default 1)', parse: 'number' as const },
  { field: 'percent', flag: '--percent <p>', help: 'or which share of the matching nodes', parse: 'number' as const },
];

export const durationFlag = { field: 'duration', flag: '--duration <d>', help: 'how long the fault stays (e.g. 90s, 2m)', default: '30s' };

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
