// Auto Scaling Query API (Version 2011-01-01): the per-zone node groups.
import { AwsError, listParam, structList, type QueryParams, type XmlNode } from './wire.js';
import { ACCOUNT_ID, ASG_PROCESSES, type Asg, type World } from './model.js';

type Handler = (w: World, p: QueryParams) => XmlNode | undefined;

function groupXml(w: World, g: Asg): XmlNode {
  const members = [...w.instances.values()].filter((i) => i.asg === g.name && i.state !== 'terminated');
  return {
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: `arn:aws:autoscaling:us-east-1:${ACCOUNT_ID}:autoScalingGroup:00000000-0000-4000-8000-000000000000:autoScalingGroupName/${g.name}`,
    MinSize: g.min, MaxSize: g.max, DesiredCapacity: g.desired, DefaultCooldown: 300,
    AvailabilityZones: g.zones,
    HealthCheckType: 'EC2', HealthCheckGracePeriod: 15,
    // comma-separated subnet ids, as the API returns them for a group over several subnets
    VPCZoneIdentifier: g.subnetIds.join(','),
    CreatedTime: '2026-01-01T00:00:00.000Z',
    Instances: members.map((i) => ({
      InstanceId: i.id, InstanceType: w.instanceType(), AvailabilityZone: i.spec.zone,
      LifecycleState: lifecycle(i.state), HealthStatus: i.health, ProtectedFromScaleIn: false,
      LaunchTemplate: { LaunchTemplateId: 'lt-0a1b2c3d4e5f60718', LaunchTemplateName: `${g.name}-lt`, Version: '1' },
    })),
    SuspendedProcesses: [...g.suspended.entries()].map(([ProcessName, SuspensionReason]) => ({ ProcessName, SuspensionReason })),
    Tags: [
      { ResourceId: g.name, ResourceType: 'auto-scaling-group', Key: `kubernetes.io/cluster/${w.cluster}`, Value: 'owned', PropagateAtLaunch: true },
      { ResourceId: g.name, ResourceType: 'auto-scaling-group', Key: 'eks:cluster-name', Value: w.cluster, PropagateAtLaunch: true },
      ...[...(g.userTags ?? new Map<string, string>())].map(([Key, Value]) => ({ ResourceId: g.name, ResourceType: 'auto-scaling-group', Key, Value, PropagateAtLaunch: false })),
    ],
    TerminationPolicies: ['AllocationStrategy', 'OldestLaunchTemplate', 'OldestInstance'],
  };
}

function lifecycle(state: string): string {
  return ({ pending: 'Pending', running: 'InService', stopping: 'InService', stopped: 'InService', 'shutting-down': 'Terminating', terminated: 'Terminated' } as Record<string, string>)[state] ?? 'InService';
}

function findGroup(w: World, name: string | undefined): Asg {
  if (!name) throw new AwsError('ValidationError', "1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null");
  const g = w.asgs.get(name);
  if (!g) throw new AwsError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
  return g;
}

function processes(p: QueryParams): string[] {
  const list = listParam(p, 'ScalingProcesses', true);
  for (const x of list) if (!ASG_PROCESSES.includes(x)) throw new AwsError('ValidationError', `Process ${x} is not a valid process`);
  return list.length ? list : ASG_PROCESSES;
}

export const asgHandlers: Record<string, Handler> = {
  DescribeAutoScalingGroups(w, p) {
    const names = listParam(p, 'AutoScalingGroupNames', true);
    const filters = structList(p, 'Filters', true).map((g) => ({ name: g.get('Name') ?? '', values: listParam(g, 'Values', true) }));
    let groups = [...w.asgs.values()].filter((g) => !names.length || names.includes(g.name));
    for (const f of filters) {
      groups = groups.filter((g) => {
        const tags = (groupXml(w, g).Tags as Array<{ Key: string; Value: string }>);
        if (f.name.startsWith('tag:')) return tags.some((t) => t.Key === f.name.slice(4) && f.values.includes(t.Value));
        if (f.name === 'tag-key') return tags.some((t) => f.values.includes(t.Key));
        if (f.name === 'tag-value') return tags.some((t) => f.values.includes(t.Value));
        throw new AwsError('ValidationError', `Filter type ${f.name} is not correct. Allowed Filter types are: tag-key tag-value tag:<key>`);
      });
    }
    return { AutoScalingGroups: groups.map((g) => groupXml(w, g)) };
  },
  DescribeAutoScalingInstances(w, p) {
    const ids = listParam(p, 'InstanceIds', true);
    if (ids.length > 50) throw new AwsError('ValidationError', 'The number of instance ids that may be passed in is limited to 50');
    // only instances in an Auto Scaling group (Karpenter's are not)
    const insts = [...w.instances.values()].filter((i) => i.asg && i.state !== 'terminated' && (!ids.length || ids.includes(i.id)));
    return {
      AutoScalingInstances: insts.map((i) => ({
        InstanceId: i.id, InstanceType: w.instanceType(), AutoScalingGroupName: i.asg!, AvailabilityZone: i.spec.zone,
        LifecycleState: lifecycle(i.state), HealthStatus: i.health.toUpperCase(), ProtectedFromScaleIn: false,
      })),
    };
  },
  // Tags.member.N.{ResourceId, ResourceType, Key, Value, PropagateAtLaunch}, as the Auto Scaling Query API takes them
  CreateOrUpdateTags(w, p) {
    for (const t of structList(p, 'Tags', true)) {
      if (t.get('ResourceType') !== 'auto-scaling-group') throw new AwsError('ValidationError', `ResourceType must be auto-scaling-group, got ${t.get('ResourceType')}`);
      const g = findGroup(w, t.get('ResourceId'));
      const key = t.get('Key');
      if (!key) throw new AwsError('ValidationError', 'Tag key must not be empty');
      (g.userTags ??= new Map()).set(key, t.get('Value') ?? '');
      w.onEvent('asg.tags.set', { asg: g.name, key, value: t.get('Value') ?? '' });
    }
    return undefined;
  },
  DeleteTags(w, p) {
    for (const t of structList(p, 'Tags', true)) {
      const g = findGroup(w, t.get('ResourceId'));
      g.userTags?.delete(t.get('Key') ?? '');
      w.onEvent('asg.tags.deleted', { asg: g.name, key: t.get('Key') });
    }
    return undefined;
  },
  SuspendProcesses(w, p) {
    const g = findGroup(w, p.get('AutoScalingGroupName'));
    const procs = processes(p);
    for (const x of procs) g.suspended.set(x, `User suspended at ${new Date().toISOString()}`);
    w.onEvent('asg.processes.suspended', { asg: g.name, processes: procs });
    return undefined;
  },
  ResumeProcesses(w, p) {
    const g = findGroup(w, p.get('AutoScalingGroupName'));
    const procs = processes(p);
    for (const x of procs) g.suspended.delete(x);
    w.onEvent('asg.processes.resumed', { asg: g.name, processes: procs });
    return undefined;
  },
};
