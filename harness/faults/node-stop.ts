// node-stop: StopInstances, hold, StartInstances, wait for running. Knows Auto Scaling: suspends
// HealthCheck/ReplaceUnhealthy for the duration (default) or expects the group to replace the
// instance, and says which in the plan.
import { z } from 'zod';
import { formatDuration } from '../duration.js';
import { chooseNodes, describeNode, verifyInstances, workloadHosts, type Eligibility, type TargetNode } from './targets.js';
import { KARPENTER_WHY, SPOT_LABELS, SPOT_WHY } from './node-kinds.js';
import { parseLabelSelector } from '../selector.js';
import { invalid } from '../exit-codes.js';
import { heartbeatLossExpected, MISSING, nodeEffectBoundMs, nodesReach, skipped, verification, waitForEffect } from './effects.js';
import { formatMs } from '../duration.js';
import { TAG, until, type RevertContext, type RevertReport } from './types.js';
import type { Journal } from '../journal.js';
import { NODE_STOP, NODE_STOP_REQUESTS } from '../iam/statements.js';
import { defineFaultKind, type SweepResult } from './kind.js';
import { shellCommand, shellQuote } from '../shell.js';
import { durationField, durationFlag, selectionFields, selectionFlags } from './schema.js';

const ASG_PROCESSES = ['HealthCheck', 'ReplaceUnhealthy'];

export const NodeStopSpec = z.object({
  kind: z.literal('node-stop'),
  ...selectionFields,
  duration: durationField(),
  /** Auto Scaling: `suspend` HealthCheck/ReplaceUnhealthy for the duration, or `expect-replacement` */
  asg: z.enum(['suspend', 'expect-replacement']).default('suspend'),
  /**
   * Karpenter nodes: `refuse` (never chosen: Karpenter drains and replaces a stopped instance, the
   * node never returns) or `expect-replacement` (chosen; the run judges the replacement Node)
   */
  karpenter: z.enum(['refuse', 'expect-replacement']).default('refuse'),
}).strict();
export type NodeStopSpec = z.output<typeof NodeStopSpec>;

export interface NodeStopResources {
  nodes: TargetNode[]; asg: Record<string, string>; asgMode: NodeStopSpec['asg'];
  /** chosen Karpenter nodes (karpenter: expect-replacement): node name → NodePool; the run waits for a replacement */
  karpenter?: Record<string, string>;
}

/** Spot never; Karpenter only when the scenario expects the replacement. */
export function nodeStopEligibility(spec: Pick<NodeStopSpec, 'karpenter'>): Eligibility {
  return (n) => (n.kind.spot ? SPOT_WHY : n.kind.provisioner === 'karpenter' && spec.karpenter !== 'expect-replacement' ? KARPENTER_WHY : undefined);
}

/** A selector that asks for Spot capacity by its label (exit 2: Spot instances cannot be stopped). */
export function asksForSpot(selector: string | undefined): string | undefined {
  const reqs = selector ? parseLabelSelector(selector) ?? [] : [];
  const r = reqs.find((x) => x.key in SPOT_LABELS && (x.op === '=' || x.op === 'in') && x.values.some((v) => v.toLowerCase() === 'spot'));
  return r ? `${r.key}${r.op === '=' ? '=' : ' in '}${r.values.join(',')}` : undefined;
}

export const nodeStop = defineFaultKind<NodeStopSpec, NodeStopResources>({
  kind: 'node-stop',
  doc: {
    summary: 'stop EC2 instances of chosen nodes for `duration`, then start them',
    fields: '`count`/`percent`, `selector`, `nodeGroup`, `zone`, `duration`, `asg: suspend | expect-replacement`, `karpenter: refuse | expect-replacement`',
    effect: 'heartbeat stops → NotReady → taint → eviction; Auto Scaling health checks suspended (or a replacement expected); never Spot; Karpenter nodes only with a replacement expected · verified: instance stopped, Node not Ready',
  },
  schema: NodeStopSpec,
  flags: [...selectionFlags, durationFlag,
    { field: 'asg', flag: '--asg <mode>', help: 'suspend Auto Scaling health checks, or expect a replacement', choices: ['suspend', 'expect-replacement'] },
    { field: 'karpenter', flag: '--karpenter <mode>', help: 'Karpenter nodes: refuse them, or stop one and expect its replacement', choices: ['refuse', 'expect-replacement'] }],
  iam: NODE_STOP,
  iamRequests: NODE_STOP_REQUESTS,
  rbac: [{ scope: 'cluster', apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],

  async plan(ctx, spec) {
    const spot = asksForSpot(spec.selector);
    if (spot) throw invalid(`node-stop: the selector asks for Spot capacity (${spot}); ${SPOT_WHY}`, ['select On-Demand nodes (e.g. eks.amazonaws.com/capacityType=ON_DEMAND), or use az-blackhole / daemon-kill on Spot nodes']);
    const r = await chooseNodes(ctx.kube, spec, ctx.limits, ctx.seed, ctx.workloads ? await workloadHosts(ctx.kube, ctx.workloads) : undefined, ctx.selfNode, nodeStopEligibility(spec), 'node-stop');
    const ids = r.chosen.map((n) => n.instanceId);
    const instances = await verifyInstances(ctx.aws, ids, ctx.guard);
    for (const [id, i] of instances) if (i.state !== 'running') throw new Error(`instance ${id} is ${i.state}, not running`);
    // EC2 knows Spot even when the node carries no capacity label
    const spotIds = [...instances.values()].filter((i) => i.lifecycle === 'spot').map((i) => i.id);
    if (spotIds.length) throw invalid(`node-stop: EC2 says ${spotIds.join(', ')} ${spotIds.length > 1 ? 'are' : 'is a'} Spot instance${spotIds.length > 1 ? 's' : ''} (InstanceLifecycle=spot) although the node${spotIds.length > 1 ? 's carry' : ' carries'} no Spot label; ${SPOT_WHY}`, ['select other nodes (selector, nodeGroup) or pass another --seed']);
    const karpenter = Object.fromEntries(r.chosen.filter((n) => n.kind.provisioner === 'karpenter').map((n) => [n.name, n.kind.group ?? '']));
    const asgs = new Map<string, string>();
    for (const i of instances.values()) if (i.tags['aws:autoscaling:groupName']) asgs.set(i.id, i.tags['aws:autoscaling:groupName']);
    const untagged = ids.filter((id) => !asgs.has(id));
    if (untagged.length) for (const [id, g] of await ctx.aws.asgOfInstances(untagged)) asgs.set(id, g);
    const groups = [...new Set(asgs.values())];
    const lines = r.chosen.map((n) => `stop ${describeNode(n)}${asgs.has(n.instanceId) ? `, Auto Scaling group ${asgs.get(n.instanceId)}` : ''}: ${n.kind.provisioner === 'karpenter' ? `Karpenter will drain and terminate it and launch a replacement (karpenter: expect-replacement); the run waits for a new Node of NodePool ${n.kind.group} to be Ready` : 'StopInstances, StartInstances at the revert'}`);
    for (const x of r.skipped) lines.push(`skipped ${x.node.name}: ${x.why}`);
    lines.push(`hold ${formatDuration(spec.duration)}, then start them and wait for running`);
    if (groups.length) {
      lines.push(spec.asg === 'suspend'
        ? `Auto Scaling: suspend ${ASG_PROCESSES.join(', ')} on ${groups.join(', ')} for the duration (set asg: expect-replacement to let the group replace the instance instead)`
        : `Auto Scaling: ${groups.join(', ')} will find the stopped instance unhealthy and REPLACE it (asg: expect-replacement); the new node is expected to join`);
    } else lines.push('Auto Scaling: the instances are in no Auto Scaling group');
    lines.push(`seed ${r.seed}: ${r.chosen.length} of ${r.matching.length} matching Ready nodes${ctx.workloads ? ' running the scenario\'s workloads' : ''}`);
    const suspend = groups.length && spec.asg === 'suspend';
    return {
      kind: 'node-stop',
      summary: `stop ${ids.length} instance(s) for ${formatDuration(spec.duration)}`,
      lines,
      durationMs: spec.duration,
      resources: { nodes: r.chosen, asg: Object.fromEntries(asgs), asgMode: spec.asg, ...(Object.keys(karpenter).length ? { karpenter } : {}) },
      calls: [
        ...(suspend ? [{ action: 'autoscaling:SuspendProcesses', resources: groups, when: 'inject' as const }] : []),
        { action: 'ec2:CreateTags', resources: ids, when: 'inject' },
        { action: 'ec2:StopInstances', resources: ids, when: 'inject' },
        { action: 'ec2:DescribeInstances', resources: ids, when: 'revert' },
        { action: 'ec2:StartInstances', resources: ids, when: 'revert' },
        { action: 'ec2:DeleteTags', resources: ids, when: 'revert' },
        ...(suspend ? [{ action: 'autoscaling:ResumeProcesses', resources: groups, when: 'revert' as const }] : []),
      ],
    };
  },

  async checkPermissions(ctx, plan) {
    const ids = plan.resources.nodes.map((n) => n.instanceId);
    await ctx.aws.stopInstances(ids, true);
    await ctx.aws.startInstances(ids, true);
    await ctx.aws.createTags(ids, { [TAG.stoppedBy]: ctx.runId }, true);
    return ['ec2:StopInstances', 'ec2:StartInstances', 'ec2:CreateTags'].map((a) => `${a}: allowed (DryRun)`);
  },

  async inject(ctx, plan, j) {
    const { nodes, asg, asgMode } = plan.resources;
    const ids = nodes.map((n) => n.instanceId);
    if (asgMode === 'suspend') {
      for (const g of new Set(Object.values(asg))) {
        const cur = await ctx.aws.asgGroup(g);
        const already = (cur?.suspended ?? []).filter((p) => ASG_PROCESSES.includes(p));
        // tag first: a suspension the harness made is found again by `recover`, journal or not
        const tags = { [TAG.suspendedBy]: ctx.runId, [TAG.suspendedProcesses]: ASG_PROCESSES.filter((p) => !already.includes(p)).join(','), [TAG.expiresAt]: ctx.expiresAt };
        await j.step('asg.tag', { asg: g, keys: Object.keys(tags) }, () => ctx.aws.tagGroup(g, tags));
        await j.step('asg.suspend', { asg: g, processes: ASG_PROCESSES, alreadySuspended: already }, () => ctx.aws.suspendProcesses(g, ASG_PROCESSES));
      }
    }
    // Tag first: an instance stopped by the harness can always be found again, journal or not.
    await j.step('instance.tag', { instanceIds: ids, key: TAG.stoppedBy }, () => ctx.aws.createTags(ids, { [TAG.stoppedBy]: ctx.runId, [TAG.expiresAt]: ctx.expiresAt }));
    await j.step('instance.stop', { instanceIds: ids, asgMode, karpenter: nodes.filter((n) => plan.resources.karpenter?.[n.name] !== undefined).map((n) => n.instanceId) }, () => ctx.aws.stopInstances(ids));
    ctx.log(`stopping ${ids.join(', ')}`);
  },

  /** Every instance leaves running for stopped (or, under Karpenter, terminated) and every Node is no longer Ready. */
  async verify(ctx, plan) {
    const { nodes, karpenter } = plan.resources;
    const ok = new Set(['stopped']);
    const bound = Math.max(nodeEffectBoundMs(ctx), 5 * 60_000);
    const inst = await Promise.all(nodes.map(async (n) => {
      const allowed = karpenter?.[n.name] !== undefined ? new Set([...ok, 'shutting-down', 'terminated']) : ok;
      let state = '';
      const r = await waitForEffect(bound, async () => { state = (await ctx.aws.describeInstances([n.instanceId]))[0]?.state ?? 'not found'; return allowed.has(state) ? undefined : state; }, 1000);
      return { ok: r.seen, lines: [r.seen ? `instance ${n.instanceId}: ${state} after ${formatMs(r.afterMs)}` : `${MISSING}instance ${n.instanceId}: still ${r.last} after ${formatMs(r.afterMs)}; expected ${[...allowed].join(' or ')}`] };
    }));
    const why = heartbeatLossExpected(ctx, plan.durationMs);
    const node = why ? skipped(why) : await nodesReach(ctx, nodes.map((n) => n.name), 'not-ready');
    return verification([...inst, node]);
  },

  faulted: (plan) => ({
    nodes: plan.resources.nodes.map((n) => n.name), zones: [], pods: [],
    ...(plan.resources.karpenter ? { replaced: Object.entries(plan.resources.karpenter).map(([node, pool]) => ({ node, pool })) } : {}),
  }),

  revert: revertNodeStop,

  /** Instances tagged chaos:stopped-by of this cluster: started (when stopped) and untagged; groups tagged chaos:suspended-by: resumed and untagged. */
  async sweep(ctx): Promise<SweepResult> {
    const out: SweepResult = { findings: [], leftovers: [] };
    for (const g of await ctx.aws.groupsByTag(TAG.suspendedBy)) {
      if (!(`kubernetes.io/cluster/${ctx.cluster}` in g.tags)) continue;
      const procs = (g.tags[TAG.suspendedProcesses] ?? '').split(',').filter(Boolean);
      const f: SweepResult['findings'][number] = { kind: 'asg', id: g.name, detail: `Auto Scaling group tagged ${TAG.suspendedBy}=${g.tags[TAG.suspendedBy]} (suspended: ${procs.join(', ') || 'none by the harness'})` };
      const skip = ctx.leaveAlone({ [TAG.runId]: g.tags[TAG.suspendedBy], [TAG.expiresAt]: g.tags[TAG.expiresAt] ?? '' });
      if (skip) { f.skipped = skip; out.findings.push(f); continue; }
      if (ctx.act) {
        try {
          if (procs.length) await ctx.aws.resumeProcesses(g.name, procs);
          await ctx.aws.untagGroup(g.name, [TAG.suspendedBy, TAG.suspendedProcesses, TAG.expiresAt]);
          f.action = `${procs.length ? `resumed ${procs.join(', ')}, ` : ''}tags removed`;
        } catch (err) {
          out.leftovers.push({ what: `Auto Scaling group ${g.name} still has ${procs.join(', ')} suspended (${(err as Error).name}: ${(err as Error).message})`, fix: [shellCommand(['aws', 'autoscaling', 'resume-processes', '--auto-scaling-group-name', g.name, '--scaling-processes', ...procs])] });
        }
      }
      out.findings.push(f);
    }
    for (const inst of await ctx.aws.describeInstancesByTag(TAG.stoppedBy, ['*'])) {
      if (!(`kubernetes.io/cluster/${ctx.cluster}` in inst.tags) || inst.state === 'terminated') continue;
      const f = { kind: 'instance', id: inst.id, detail: `instance ${inst.state}, tagged ${TAG.stoppedBy}=${inst.tags[TAG.stoppedBy]}` } as SweepResult['findings'][number];
      const skip = ctx.leaveAlone(inst.tags);
      if (skip) { f.skipped = skip; out.findings.push(f); continue; }
      if (ctx.act) {
        // one instance that fails is reported; the others are still swept
        try {
          // an instance still `stopping` is waited out and started, not just untagged
          const state = inst.state === 'stopping'
            ? await until(`${inst.id} to leave stopping`, 10 * 60_000, async () => { const s = (await ctx.aws.describeInstances([inst.id]))[0]?.state; return s === 'stopping' ? undefined : s ?? 'terminated'; }, 1000)
            : inst.state;
          if (state === 'stopped') await ctx.aws.startInstances([inst.id]);
          if (state !== 'terminated') await ctx.aws.deleteTags([inst.id], [TAG.stoppedBy, TAG.expiresAt]);
          f.action = state === 'stopped' ? `${inst.state === 'stopping' ? 'waited until stopped, ' : ''}started, tag removed` : state === 'terminated' ? 'terminated meanwhile' : 'tag removed';
        } catch (err) {
          out.leftovers.push({ what: `instance ${inst.id} (${inst.state}, tagged ${TAG.stoppedBy}) could not be restored: ${(err as Error).name}: ${(err as Error).message}`, fix: [`aws ec2 start-instances --instance-ids ${shellQuote(inst.id)}`, `aws ec2 delete-tags --resources ${shellQuote(inst.id)} --tags Key=${TAG.stoppedBy} Key=${TAG.expiresAt}`] });
        }
      }
      out.findings.push(f);
    }
    return out;
  },
});

async function revertNodeStop(ctx: RevertContext, j: Journal): Promise<RevertReport> {
  const report: RevertReport = { actions: [], leftovers: [] };
  const stopped = [...new Set(j.intents('instance.stop').flatMap((e) => e.data.instanceIds as string[]))];
  const tagged = [...new Set(j.intents('instance.tag').flatMap((e) => e.data.instanceIds as string[]))];
  const expectReplacement = j.intents('instance.stop').some((e) => e.data.asgMode === 'expect-replacement');
  const byKarpenter = new Set(j.intents('instance.stop').flatMap((e) => (e.data.karpenter as string[] | undefined) ?? []));
  if (stopped.length) {
    const waitStable = async () => until('instances to leave stopping', 10 * 60_000, async () => {
      const xs = await ctx.aws.describeInstances(stopped);
      return xs.some((x) => x.state === 'stopping') ? undefined : xs;
    }, 1000);
    const infos = await waitStable();
    const toStart = infos.filter((i) => i.state === 'stopped').map((i) => i.id);
    for (const i of infos) {
      if (i.state === 'terminated' || i.state === 'shutting-down') {
        // never started again: a terminated instance cannot be (and Karpenter or the group launched another)
        const msg = `${i.id} was ${i.state} (replaced by ${byKarpenter.has(i.id) ? 'Karpenter' : 'Auto Scaling'})`;
        if (expectReplacement || byKarpenter.has(i.id)) report.actions.push(`${msg}, as the scenario expected`);
        else report.actions.push(`${msg}; nothing to start`);
      }
    }
    if (toStart.length) {
      await j.step('instance.start', { instanceIds: toStart }, () => ctx.aws.startInstances(toStart));
      report.actions.push(`started ${toStart.join(', ')}`);
    }
    const pending = infos.filter((i) => i.state === 'pending' || toStart.includes(i.id)).map((i) => i.id);
    if (pending.length) {
      try {
        await until('instances running', 10 * 60_000, async () => ((await ctx.aws.describeInstances(pending)).every((x) => x.state === 'running') ? true : undefined), 1000);
      } catch {
        report.leftovers.push({ what: `instance(s) ${pending.join(', ')} did not reach running`, fix: [shellCommand(['aws', 'ec2', 'start-instances', '--instance-ids', ...pending]), shellCommand(['aws', 'ec2', 'describe-instances', '--instance-ids', ...pending, '--query', 'Reservations[].Instances[].State'])] });
      }
    }
  }
  if (tagged.length) {
    const live = (await ctx.aws.describeInstances(tagged)).filter((i) => i.state !== 'terminated' && TAG.stoppedBy in i.tags).map((i) => i.id);
    if (live.length) {
      await j.step('instance.untag', { instanceIds: live }, () => ctx.aws.deleteTags(live, [TAG.stoppedBy, TAG.expiresAt]));
      report.actions.push(`removed ${TAG.stoppedBy} from ${live.join(', ')}`);
    }
  }
  const resumed = new Set(j.doneFor('asg.resume').map((e) => e.data.asg as string));
  for (const e of j.intents('asg.suspend')) {
    const g = e.data.asg as string;
    if (resumed.has(g)) continue;
    const procs = (e.data.processes as string[]).filter((p) => !(e.data.alreadySuspended as string[]).includes(p));
    try {
      await j.step('asg.resume', { asg: g, processes: procs }, () => ctx.aws.resumeProcesses(g, procs));
      resumed.add(g);
      report.actions.push(`resumed ${procs.join(', ')} on ${g}`);
    } catch (err) {
      report.leftovers.push({ what: `Auto Scaling group ${g} still has ${procs.join(', ')} suspended (${(err as Error).message})`, fix: [shellCommand(['aws', 'autoscaling', 'resume-processes', '--auto-scaling-group-name', g, '--scaling-processes', ...procs])] });
    }
  }
  const untagged = new Set(j.doneFor('asg.untag').map((e) => e.data.asg as string));
  for (const e of j.intents('asg.tag')) {
    const g = e.data.asg as string;
    // untag once its suspension is undone (or was never made: a crash between the tag and the suspend)
    const suspendedHere = j.intents('asg.suspend').some((x) => x.data.asg === g);
    if (untagged.has(g) || (suspendedHere && !resumed.has(g))) continue;
    try {
      await j.step('asg.untag', { asg: g }, () => ctx.aws.untagGroup(g, e.data.keys as string[]));
      untagged.add(g);
    } catch (err) {
      report.leftovers.push({ what: `Auto Scaling group ${g} still carries ${TAG.suspendedBy} (${(err as Error).message})`, fix: [shellCommand(['aws', 'autoscaling', 'delete-tags', '--tags', ...(e.data.keys as string[]).map((k) => `ResourceId=${g},ResourceType=auto-scaling-group,Key=${k}`)])] });
    }
  }
  return report;
}
