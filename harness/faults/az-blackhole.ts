// az-blackhole: ONE deny-all network ACL (a new ACL denies all IPv4 and, in an IPv6 VPC, IPv6 traffic
// both ways through its `*` rules), tagged with the run id, expiry, and each subnet's original ACL;
// every chosen subnet of the zone is swapped onto it (originals journaled first), and revert swaps
// each back after re-reading its current association, then deletes the ACL. Swaps and restores run in
// parallel with bounded concurrency.
import pLimit from 'p-limit';
import { formatDuration } from '../duration.js';
import { invalid } from '../exit-codes.js';
import type { Journal } from '../journal.js';
import { checkZoneBlastRadius, toTarget, verifyInstances, type TargetNode } from './targets.js';
import { MANAGED_BY, TAG, type Fault, type FaultContext, type Plan, type Reverter, type RevertReport } from './types.js';
import type { AzBlackholeSpec } from './spec.js';

export const SWAP_CONCURRENCY = 8;

export interface AzBlackholeOptions {
  /**
   * ACL swaps (and restores) in flight at once, default SWAP_CONCURRENCY; 1 swaps one subnet after
   * the other (bench/revert.ts compares the two). Journaled with the ACL, so the revert uses it too.
   */
  concurrency?: number;
}

function checkConcurrency(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 50) throw new TypeError(`az-blackhole: concurrency must be an integer from 1 to 50, got ${String(n)}`);
  return n;
}

/** The swap concurrency a run journaled (with its acl.create intent); SWAP_CONCURRENCY for older journals. */
function journaledConcurrency(j: Journal): number {
  const c = j.intents('acl.create')[0]?.data.concurrency;
  try {
    return c === undefined ? SWAP_CONCURRENCY : checkConcurrency(c);
  } catch {
    return SWAP_CONCURRENCY;
  }
}

interface SubnetPlan { subnetId: string; associationId: string; originalAclId: string }

export class AzBlackhole implements Fault {
  readonly kind = 'az-blackhole';
  private zone = '';
  private vpcId = '';
  private ipv6 = false;
  private subnets: SubnetPlan[] = [];
  private nodes: TargetNode[] = [];
  private readonly concurrency: number;

  constructor(private readonly ctx: FaultContext, private readonly spec: AzBlackholeSpec, opts: AzBlackholeOptions = {}) {
    this.concurrency = checkConcurrency(opts.concurrency ?? SWAP_CONCURRENCY);
  }

  /** `auto`: the zone holding the most pods of the scenario's workloads (ties: first by name). */
  private async autoZone(all: TargetNode[]): Promise<string> {
    const zoneOf = new Map(all.map((n) => [n.name, n.zone]));
    const counts = new Map<string, number>();
    for (const w of this.ctx.workloads ?? []) {
      for (const p of await this.ctx.kube.pods(w.namespace, w.selector)) {
        if (p.metadata?.deletionTimestamp) continue;
        const z = zoneOf.get(p.spec?.nodeName ?? '');
        if (z) counts.set(z, (counts.get(z) ?? 0) + 1);
      }
    }
    if (!counts.size) throw invalid('az-blackhole: zone "auto" needs workloads with running pods to choose a zone; none found');
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
  }

  async plan(): Promise<Plan> {
    const all = (await this.ctx.kube.nodes()).map(toTarget).filter((x): x is TargetNode => !!x);
    this.zone = this.spec.zone === 'auto' ? await this.autoZone(all) : this.spec.zone;
    if (!this.zone.startsWith(this.ctx.guard.region)) throw invalid(`az-blackhole: zone ${this.zone} is not in the target region ${this.ctx.guard.region}`);
    if (this.ctx.selfZone === this.zone) throw invalid(`az-blackhole: the harness itself runs in ${this.zone}; black-holing it would cut the harness off (run it from another zone)`);
    checkZoneBlastRadius(this.zone, all, this.ctx.limits);
    this.nodes = all.filter((n) => n.zone === this.zone);
    const insts = await verifyInstances(this.ctx.aws, this.nodes.map((n) => n.instanceId), this.ctx.guard);
    const vpcs = new Set([...insts.values()].map((i) => i.vpcId).filter(Boolean));
    if (vpcs.size !== 1) throw invalid(`az-blackhole: the zone's nodes are in ${vpcs.size} VPCs (${[...vpcs].join(', ')}); expected one`);
    this.vpcId = [...vpcs][0]!;
    const subnetIds = this.spec.scope === 'nodes'
      ? [...new Set([...insts.values()].map((i) => i.subnetId!).filter(Boolean))]
      : (await this.ctx.aws.describeSubnets({ 'vpc-id': [this.vpcId], 'availability-zone': [this.zone] })).map((s) => s.id);
    if (!subnetIds.length) throw invalid(`az-blackhole: no subnet found in ${this.zone}`);
    if (subnetIds.length > 45) throw invalid(`az-blackhole: ${subnetIds.length} subnets is more than the 45 this fault tags for recovery`);
    const acls = await this.ctx.aws.describeNetworkAcls({ 'association.subnet-id': subnetIds });
    this.subnets = subnetIds.map((s) => {
      const acl = acls.find((a) => a.associations.some((x) => x.subnetId === s));
      if (!acl) throw invalid(`az-blackhole: subnet ${s} has no network ACL association`);
      if (acl.tags[TAG.managedBy] === MANAGED_BY) throw invalid(`az-blackhole: subnet ${s} is already on harness ACL ${acl.id}; run \`npm run chaos -- recover\``);
      return { subnetId: s, associationId: acl.associations.find((x) => x.subnetId === s)!.id, originalAclId: acl.id };
    });
    this.ipv6 = await this.ctx.aws.vpcHasIpv6(this.vpcId);
    const lines = [
      `zone ${this.zone}${this.spec.zone === 'auto' ? ' (auto: most targeted pods)' : ''}, VPC ${this.vpcId}, scope ${this.spec.scope}: ${this.nodes.length} node(s) (${this.nodes.map((n) => n.name).join(', ')})`,
      `create one deny-all network ACL (ingress and egress, IPv4${this.ipv6 ? ' and IPv6' : ''}: a new ACL's * rules deny everything), tagged ${TAG.runId}=${this.ctx.runId}, ${TAG.expiresAt}=${this.ctx.expiresAt}`,
      ...this.subnets.map((s) => `swap subnet ${s.subnetId} from ${s.originalAclId} (association ${s.associationId}) to it`),
      `hold ${formatDuration(this.spec.duration)}, then swap each subnet back (re-reading its association) and delete the ACL; up to ${this.concurrency} swaps at once`,
    ];
    return {
      kind: this.kind,
      summary: `black-hole ${this.subnets.length} subnet(s) of ${this.zone} for ${formatDuration(this.spec.duration)}`,
      lines,
      durationMs: this.spec.duration,
      resources: { zone: this.zone, vpcId: this.vpcId, ipv6: this.ipv6, subnets: this.subnets, nodes: this.nodes },
      calls: [
        { action: 'ec2:CreateNetworkAcl', resources: [this.vpcId], when: 'inject' },
        { action: 'ec2:CreateTags', resources: ['network-acl (at creation)'], when: 'inject' },
        { action: 'ec2:ReplaceNetworkAclAssociation', resources: this.subnets.map((s) => s.subnetId), when: 'inject' },
        { action: 'ec2:DescribeNetworkAcls', resources: this.subnets.map((s) => s.subnetId), when: 'revert' },
        { action: 'ec2:ReplaceNetworkAclAssociation', resources: this.subnets.map((s) => s.subnetId), when: 'revert' },
        { action: 'ec2:DeleteNetworkAcl', resources: ['the black-hole ACL'], when: 'revert' },
      ],
    };
  }

  private tags(): Record<string, string> {
    const t: Record<string, string> = {
      Name: `chaos-blackhole-${this.zone}-${this.ctx.runId}`,
      [TAG.managedBy]: MANAGED_BY, [TAG.runId]: this.ctx.runId, [TAG.cluster]: this.ctx.guard.cluster, [TAG.expiresAt]: this.ctx.expiresAt,
    };
    for (const s of this.subnets) t[`${TAG.restorePrefix}${s.subnetId}`] = s.originalAclId;
    return t;
  }

  async checkPermissions(): Promise<string[]> {
    await this.ctx.aws.createNetworkAcl(this.vpcId, this.tags(), `${this.ctx.runId}-dryrun`, true);
    await this.ctx.aws.replaceNetworkAclAssociation(this.subnets[0].associationId, this.subnets[0].originalAclId, true);
    return ['ec2:CreateNetworkAcl', 'ec2:ReplaceNetworkAclAssociation'].map((a) => `${a}: allowed (DryRun)`);
  }

  async inject(j: Journal): Promise<void> {
    const aclId = (await j.step('acl.create', { vpcId: this.vpcId, clientToken: this.ctx.runId, zone: this.zone, tags: this.tags(), concurrency: this.concurrency },
      () => this.ctx.aws.createNetworkAcl(this.vpcId, this.tags(), this.ctx.runId), (id) => ({ aclId: id })))!;
    const limit = pLimit(this.concurrency);
    await Promise.all(this.subnets.map((s) => limit(() => j.step('acl.swap', { ...s, blackholeAclId: aclId },
      () => this.ctx.aws.replaceNetworkAclAssociation(s.associationId, aclId), (n) => ({ newAssociationId: n })))));
    this.ctx.log(`${this.subnets.length} subnet(s) of ${this.zone} are on black-hole ACL ${aclId}`);
  }
}

export const revertAzBlackhole: Reverter = async (ctx, j) => {
  const report: RevertReport = { actions: [], leftovers: [] };
  const creates = j.intents('acl.create');
  if (!creates.length) return report;
  // The ACL id is in the `done` entry; after a crash between intent and done, CreateNetworkAcl with
  // the same ClientToken returns the same ACL (or finds none to make), and the run-id tag finds it.
  const existing = await ctx.aws.describeNetworkAcls({ [`tag:${TAG.runId}`]: [j.runId] });
  const aclIds = new Set(j.doneFor('acl.create').map((e) => e.data.aclId as string));
  for (const a of existing) aclIds.add(a.id);
  const deleted = new Set(j.doneFor('acl.delete').map((e) => e.data.aclId as string));
  const live = [...aclIds].filter((id) => !deleted.has(id));
  if (!live.length) return report;
  const originals = new Map<string, string>();
  for (const e of j.intents('acl.swap')) originals.set(e.data.subnetId as string, e.data.originalAclId as string);
  for (const a of existing) for (const [k, v] of Object.entries(a.tags)) if (k.startsWith(TAG.restorePrefix) && !originals.has(k.slice(TAG.restorePrefix.length))) originals.set(k.slice(TAG.restorePrefix.length), v);
  const ours = new Set(existing.map((a) => a.id));
  const onOurs = existing.flatMap((a) => a.associations.map((x) => ({ ...x, aclId: a.id })));
  const limit = pLimit(journaledConcurrency(j));
  await Promise.all(onOurs.map((as) => limit(async () => {
    const original = originals.get(as.subnetId);
    if (!original) {
      report.leftovers.push({ what: `subnet ${as.subnetId} is on black-hole ACL ${as.aclId} and its original ACL is unknown`, fix: [`aws ec2 describe-network-acls --filters Name=vpc-id,Values=<vpc> Name=default,Values=true`, `aws ec2 replace-network-acl-association --association-id ${as.id} --network-acl-id <the original or default ACL id>`] });
      return;
    }
    try {
      // Re-read: the association id may have changed since the journal was written.
      const cur = await ctx.aws.subnetAssociation(as.subnetId);
      if (!ours.has(cur.aclId)) return;
      await j.step('acl.restore', { subnetId: as.subnetId, fromAclId: cur.aclId, toAclId: original, associationId: cur.associationId },
        () => ctx.aws.replaceNetworkAclAssociation(cur.associationId, original), (n) => ({ newAssociationId: n }));
      report.actions.push(`subnet ${as.subnetId} back on ${original}`);
    } catch (err) {
      report.leftovers.push({ what: `subnet ${as.subnetId} is still on black-hole ACL ${as.aclId} (${(err as Error).message})`, fix: [`aws ec2 replace-network-acl-association --association-id ${as.id} --network-acl-id ${original}`] });
    }
  })));
  for (const a of existing) {
    try {
      await j.step('acl.delete', { aclId: a.id }, () => ctx.aws.deleteNetworkAcl(a.id));
      report.actions.push(`deleted black-hole ACL ${a.id}`);
    } catch (err) {
      if ((err as Error).name === 'InvalidNetworkAclID.NotFound') continue;
      report.leftovers.push({ what: `black-hole ACL ${a.id} could not be deleted (${(err as Error).name})`, fix: [`aws ec2 delete-network-acl --network-acl-id ${a.id}`] });
    }
  }
  return report;
};
