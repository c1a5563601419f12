// node-stop: StopInstances, hold, StartInstances, wait for running. Knows Auto Scaling: suspends
// HealthCheck/ReplaceUnhealthy for the duration (default) or expects the group to replace the
// instance, and says which in the plan.
import { formatDuration } from '../duration.js';
import type { InstanceInfo } from '../aws/index.js';
import type { Journal } from '../journal.js';
import { chooseNodes, verifyInstances, workloadHosts, type Resolved } from './targets.js';
import { TAG, until, type Fault, type FaultContext, type Plan, type Reverter, type RevertReport } from './types.js';
import type { NodeStopSpec } from './spec.js';

const ASG_PROCESSES = ['HealthCheck', 'ReplaceUnhealthy'];

export class NodeStop implements Fault {
  readonly kind = 'node-stop';
  private resolved?: Resolved;
  private instances = new Map<string, InstanceInfo>();
  private asgs = new Map<string, string>();

  constructor(private readonly ctx: FaultContext, private readonly spec: NodeStopSpec) {}

  async plan(): Promise<Plan> {
    const r = (this.resolved = await chooseNodes(this.ctx.kube, this.spec, this.ctx.limits, this.ctx.seed, this.ctx.workloads ? await workloadHosts(this.ctx.kube, this.ctx.workloads) : undefined));
    const ids = r.chosen.map((n) => n.instanceId);
    this.instances = await verifyInstances(this.ctx.aws, ids, this.ctx.guard);
    for (const [id, i] of this.instances) if (i.state !== 'running') throw new Error(`instance ${id} is ${i.state}, not running`);
    const tagged = [...this.instances.values()].filter((i) => i.tags['aws:autoscaling:groupName']);
    for (const i of tagged) this.asgs.set(i.id, i.tags['aws:autoscaling:groupName']);
    const untagged = ids.filter((id) => !this.asgs.has(id));
    if (untagged.length) for (const [id, g] of await this.ctx.aws.asgOfInstances(untagged)) this.asgs.set(id, g);
    const groups = [...new Set(this.asgs.values())];
    const lines = r.chosen.map((n) => `stop ${n.instanceId} (node ${n.name}, ${n.zone}${this.asgs.has(n.instanceId) ? `, Auto Scaling group ${this.asgs.get(n.instanceId)}` : ''})`);
    lines.push(`hold ${formatDuration(this.spec.duration)}, then start them and wait for running`);
    if (groups.length) {
      lines.push(this.spec.asg === 'suspend'
        ? `Auto Scaling: suspend ${ASG_PROCESSES.join(', ')} on ${groups.join(', ')} for the duration (set asg: expect-replacement to let the group replace the instance instead)`
        : `Auto Scaling: ${groups.join(', ')} will find the stopped instance unhealthy and REPLACE it (asg: expect-replacement); the new node is expected to join`);
    } else lines.push('Auto Scaling: the instances are in no Auto Scaling group');
    lines.push(`seed ${r.seed}: ${r.chosen.length} of ${r.matching.length} matching Ready nodes${this.ctx.workloads ? ' running the scenario\'s workloads' : ''}`);
    return {
      kind: this.kind,
      summary: `stop ${ids.length} instance(s) for ${formatDuration(this.spec.duration)}`,
      lines,
      durationMs: this.spec.duration,
      resources: { nodes: r.chosen, asg: Object.fromEntries(this.asgs), asgMode: this.spec.asg },
      calls: [
        ...(groups.length && this.spec.asg === 'suspend' ? [{ action: 'autoscaling:SuspendProcesses', resources: groups, when: 'inject' as const }] : []),
        { action: 'ec2:CreateTags', resources: ids, when: 'inject' },
        { action: 'ec2:StopInstances', resources: ids, when: 'inject' },
        { action: 'ec2:DescribeInstances', resources: ids, when: 'revert' },
        { action: 'ec2:StartInstances', resources: ids, when: 'revert' },
        { action: 'ec2:DeleteTags', resources: ids, when: 'revert' },
        ...(groups.length && this.spec.asg === 'suspend' ? [{ action: 'autoscaling:ResumeProcesses', resources: groups, when: 'revert' as const }] : []),
      ],
    };
  }

  async checkPermissions(): Promise<string[]> {
    const ids = [...this.instances.keys()];
    await this.ctx.aws.stopInstances(ids, true);
    await this.ctx.aws.startInstances(ids, true);
    await this.ctx.aws.createTags(ids, { [TAG.stoppedBy]: this.ctx.runId }, true);
    return ['ec2:StopInstances', 'ec2:StartInstances', 'ec2:CreateTags'].map((a) => `${a}: allowed (DryRun)`);
  }

  async inject(j: Journal): Promise<void> {
    const ids = [...this.instances.keys()];
    if (this.spec.asg === 'suspend') {
      for (const g of new Set(this.asgs.values())) {
        const cur = await this.ctx.aws.asgGroup(g);
        const already = (cur?.suspended ?? []).filter((p) => ASG_PROCESSES.includes(p));
        await j.step('asg.suspend', { asg: g, processes: ASG_PROCESSES, alreadySuspended: already }, () => this.ctx.aws.suspendProcesses(g, ASG_PROCESSES));
      }
    }
    // Tag first: an instance stopped by the harness can always be found again, journal or not.
    await j.step('instance.tag', { instanceIds: ids, key: TAG.stoppedBy }, () => this.ctx.aws.createTags(ids, { [TAG.stoppedBy]: this.ctx.runId, [TAG.expiresAt]: this.ctx.expiresAt }));
    await j.step('instance.stop', { instanceIds: ids, asgMode: this.spec.asg }, () => this.ctx.aws.stopInstances(ids));
    this.ctx.log(`stopping ${ids.join(', ')}`);
  }
}

export const revertNodeStop: Reverter = async (ctx, j) => {
  const report: RevertReport = { actions: [], leftovers: [] };
  const stopped = [...new Set(j.intents('instance.stop').flatMap((e) => e.data.instanceIds as string[]))];
  const tagged = [...new Set(j.intents('instance.tag').flatMap((e) => e.data.instanceIds as string[]))];
  const expectReplacement = j.intents('instance.stop').some((e) => e.data.asgMode === 'expect-replacement');
  if (stopped.length) {
    const waitStable = async () => until('instances to leave stopping', 10 * 60_000, async () => {
      const xs = await ctx.aws.describeInstances(stopped);
      return xs.some((x) => x.state === 'stopping') ? undefined : xs;
    }, 1000);
    const infos = await waitStable();
    const toStart = infos.filter((i) => i.state === 'stopped').map((i) => i.id);
    for (const i of infos) {
      if (i.state === 'terminated' || i.state === 'shutting-down') {
        const msg = `${i.id} was ${i.state} (replaced by Auto Scaling)`;
        if (expectReplacement) report.actions.push(`${msg}, as the scenario expected`);
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
        report.leftovers.push({ what: `instance(s) ${pending.join(', ')} did not reach running`, fix: [`aws ec2 start-instances --instance-ids ${pending.join(' ')}`, `aws ec2 describe-instances --instance-ids ${pending.join(' ')} --query 'Reservations[].Instances[].State'`] });
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
      report.leftovers.push({ what: `Auto Scaling group ${g} still has ${procs.join(', ')} suspended (${(err as Error).message})`, fix: [`aws autoscaling resume-processes --auto-scaling-group-name ${g} --scaling-processes ${procs.join(' ')}`] });
    }
  }
  return report;
};
