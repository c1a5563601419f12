// az-blackhole: ONE deny-all network ACL (a new ACL denies all IPv4 and, in an IPv6 VPC, IPv6 traffic
// both ways through its `*` rules), tagged with the run id, expiry, and each subnet's original ACL;
// every chosen subnet of the zone is swapped onto it (originals journaled first), and revert swaps
// each back after re-reading its current association, then deletes the ACL. Swaps and restores run in
// parallel with bounded concurrency.
import pLimit from 'p-limit';
import { z } from 'zod';
import { formatDuration } from '../duration.js';
import { invalid } from '../exit-codes.js';
import type { Journal } from '../journal.js';
import { checkZoneBlastRadius, toTarget, verifyInstances, type TargetNode } from './targets.js';
import { MANAGED_BY, TAG, type FaultContext, type Plan, type RevertContext, type RevertReport } from './types.js';
import { AZ_BLACKHOLE, AZ_BLACKHOLE_REQUESTS } from '../iam/statements.js';
import { defineFaultKind, type SweepResult } from './kind.js';
import { durationField, durationFlag } from './schema.js';
import { heartbeatLossExpected, MISSING, nodesReach, skipped, verification } from './effects.js';
import { shellQuote } from '../shell.js';

export const SWAP_CONCURRENCY = 8;

export const AzBlackholeSpec = z.object({
  kind: z.literal('az-blackhole'),
  /** a zone name, or `auto`: the zone with the most targeted pods */
  zone: z.string().regex(/^(auto|[a-z]{2}(-gov)?-[a-z]+-\d[a-z])$/, 'zone must be "auto" or look like us-east-1a'),
  /** `nodes`: subnets of that zone holding cluster nodes; `zone`: every subnet of the zone in the VPC */
  scope: z.enum(['nodes', 'zone']).default('nodes'),
  duration: durationField(),
}).strict();
export type AzBlackholeSpec = z.output<typeof AzBlackholeSpec>;

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

export interface AzBlackholeResources {
  zone: string; vpcId: string; ipv6: boolean; subnets: SubnetPlan[]; nodes: TargetNode[];
  /**
   * ACL swaps (and restores) in flight at once, default SWAP_CONCURRENCY; 1 swaps one subnet after
   * the other (bench/revert.ts sets it on the plan to compare the two). Journaled with the ACL, so
   * the revert uses it too.
   */
  concurrency: number;
}

/** `auto`: the zone holding the most pods of the scenario's workloads (ties: first by name). */
async function autoZone(ctx: FaultContext, all: TargetNode[]): Promise<string> {
  const zoneOf = new Map(all.map((n) => [n.name, n.zone]));
  const counts = new Map<string, number>();
  for (const w of ctx.workloads ?? []) {
    for (const p of await ctx.kube.pods(w.namespace, w.selector)) {
      if (p.metadata?.deletionTimestamp) continue;
      const z = zoneOf.get(p.spec?.nodeName ?? '');
      if (z) counts.set(z, (counts.get(z) ?? 0) + 1);
    }
  }
  if (!counts.size) throw invalid('az-blackhole: zone "auto" needs workloads with running pods to choose a zone; none found');
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
}

function aclTags(ctx: FaultContext, r: AzBlackholeResources): Record<string, string> {
  const t: Record<string, string> = {
    Name: `chaos-blackhole-${r.zone}-${ctx.runId}`,
    [TAG.managedBy]: MANAGED_BY, [TAG.runId]: ctx.runId, [TAG.cluster]: ctx.guard.cluster, [TAG.expiresAt]: ctx.expiresAt,
  };
  for (const s of r.subnets) t[`${TAG.restorePrefix}${s.subnetId}`] = s.originalAclId;
  return t;
}

export const azBlackhole = defineFaultKind<AzBlackholeSpec, AzBlackholeResources>({
  kind: 'az-blackhole',
  doc: {
    summary: 'swap every node subnet (or every subnet) of one zone onto one deny-all network ACL, then back',
    fields: '`zone: us-east-1a | auto`, `scope: nodes | zone`, `duration`',
    effect: 'the zone\'s nodes lose heartbeat; traffic to and from its pods hangs; SSM ConnectionLost · verified: every subnet on the black-hole ACL, the zone\'s nodes Ready=Unknown',
  },
  schema: AzBlackholeSpec,
  flags: [
    { field: 'zone', flag: '--zone <zone>', help: 'the zone, or "auto" (the zone with the most targeted pods)' },
    { field: 'scope', flag: '--scope <scope>', help: 'subnets holding nodes, or every subnet of the zone', choices: ['nodes', 'zone'] },
    durationFlag,
  ],
  iam: AZ_BLACKHOLE,
  iamRequests: AZ_BLACKHOLE_REQUESTS,
  rbac: [{ scope: 'cluster', apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }, { scope: 'namespace', apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],

  async plan(ctx, spec) {
    const all = (await ctx.kube.nodes()).map(toTarget).filter((x): x is TargetNode => !!x);
    const zone = spec.zone === 'auto' ? await autoZone(ctx, all) : spec.zone;
    if (!zone.startsWith(ctx.guard.region)) throw invalid(`az-blackhole: zone ${zone} is not in the target region ${ctx.guard.region}`);
    if (ctx.selfZone === zone) throw invalid(`az-blackhole: the harness itself runs in ${zone}; black-holing it would cut the harness off (run it from another zone)`);
    if (ctx.selfZone === undefined && ctx.unknownSelfZone === 'refuse') {
      throw invalid('az-blackhole: the harness cannot tell which zone it runs in (no NODE_NAME, no EC2 instance metadata), so it cannot rule out black-holing itself and losing the revert',
        ['set NODE_NAME to the node it runs on (the Downward API in a pod), or run it on an EC2 instance', 'or pass --allow-unknown-self-zone if it runs outside the cluster\'s VPC (risk: if it is inside the zone, the revert cannot reach AWS until the ACL is removed by hand or by `chaos recover` from elsewhere)']);
    }
    checkZoneBlastRadius(zone, all, ctx.limits);
    const nodes = all.filter((n) => n.zone === zone);
    const insts = await verifyInstances(ctx.aws, nodes.map((n) => n.instanceId), ctx.guard);
    const vpcs = new Set([...insts.values()].map((i) => i.vpcId).filter(Boolean));
    if (vpcs.size !== 1) throw invalid(`az-blackhole: the zone's nodes are in ${vpcs.size} VPCs (${[...vpcs].join(', ')}); expected one`);
    const vpcId = [...vpcs][0]!;
    const subnetIds = spec.scope === 'nodes'
      ? [...new Set([...insts.values()].map((i) => i.subnetId!).filter(Boolean))]
      : (await ctx.aws.describeSubnets({ 'vpc-id': [vpcId], 'availability-zone': [zone] })).map((s) => s.id);
    if (!subnetIds.length) throw invalid(`az-blackhole: no subnet found in ${zone}`);
    if (subnetIds.length > 45) throw invalid(`az-blackhole: ${subnetIds.length} subnets is more than the 45 this fault tags for recovery`);
    const acls = await ctx.aws.describeNetworkAcls({ 'association.subnet-id': subnetIds });
    const subnets = subnetIds.map((s) => {
      const acl = acls.find((a) => a.associations.some((x) => x.subnetId === s));
      if (!acl) throw invalid(`az-blackhole: subnet ${s} has no network ACL association`);
      if (acl.tags[TAG.managedBy] === MANAGED_BY) throw invalid(`az-blackhole: subnet ${s} is already on harness ACL ${acl.id}; run \`npm run chaos -- recover\``);
      return { subnetId: s, associationId: acl.associations.find((x) => x.subnetId === s)!.id, originalAclId: acl.id };
    });
    const ipv6 = await ctx.aws.vpcHasIpv6(vpcId);
    const concurrency = SWAP_CONCURRENCY;
    const lines = [
      `zone ${zone}${spec.zone === 'auto' ? ' (auto: most targeted pods)' : ''}, VPC ${vpcId}, scope ${spec.scope}: ${nodes.length} node(s) (${nodes.map((n) => n.name).join(', ')})`,
      `create one deny-all network ACL (ingress and egress, IPv4${ipv6 ? ' and IPv6' : ''}: a new ACL's * rules deny everything), tagged ${TAG.runId}=${ctx.runId} and ${TAG.expiresAt} (injection + hold + revert + recovery wait)`,
      ...subnets.map((s) => `swap subnet ${s.subnetId} from ${s.originalAclId} (association ${s.associationId}) to it`),
      `hold ${formatDuration(spec.duration)}, then swap each subnet back (re-reading its association) and delete the ACL; up to ${concurrency} swaps at once`,
    ];
    return {
      kind: 'az-blackhole',
      summary: `black-hole ${subnets.length} subnet(s) of ${zone} for ${formatDuration(spec.duration)}`,
      lines,
      durationMs: spec.duration,
      resources: { zone, vpcId, ipv6, subnets, nodes, concurrency },
      calls: [
        { action: 'ec2:CreateNetworkAcl', resources: [vpcId], when: 'inject' },
        { action: 'ec2:CreateTags', resources: ['network-acl (at creation)'], when: 'inject' },
        { action: 'ec2:ReplaceNetworkAclAssociation', resources: subnets.map((s) => s.subnetId), when: 'inject' },
        { action: 'ec2:DescribeNetworkAcls', resources: subnets.map((s) => s.subnetId), when: 'revert' },
        { action: 'ec2:ReplaceNetworkAclAssociation', resources: subnets.map((s) => s.subnetId), when: 'revert' },
        { action: 'ec2:DeleteNetworkAcl', resources: ['the black-hole ACL'], when: 'revert' },
      ],
    };
  },

  async checkPermissions(ctx, plan) {
    const r = plan.resources;
    await ctx.aws.createNetworkAcl(r.vpcId, aclTags(ctx, r), `${ctx.runId}-dryrun`, true);
    await ctx.aws.replaceNetworkAclAssociation(r.subnets[0].associationId, r.subnets[0].originalAclId, true);
    return ['ec2:CreateNetworkAcl', 'ec2:ReplaceNetworkAclAssociation'].map((a) => `${a}: allowed (DryRun)`);
  },

  async inject(ctx, plan, j) {
    const r = plan.resources;
    const concurrency = checkConcurrency(r.concurrency);
    const tags = aclTags(ctx, r);
    const aclId = (await j.step('acl.create', { vpcId: r.vpcId, clientToken: ctx.runId, zone: r.zone, tags, concurrency },
      () => ctx.aws.createNetworkAcl(r.vpcId, tags, ctx.runId), (id) => ({ aclId: id })))!;
    const limit = pLimit(concurrency);
    await Promise.all(r.subnets.map((s) => limit(() => j.step('acl.swap', { ...s, blackholeAclId: aclId },
      () => ctx.aws.replaceNetworkAclAssociation(s.associationId, aclId), (n) => ({ newAssociationId: n })))));
    ctx.log(`${r.subnets.length} subnet(s) of ${r.zone} are on black-hole ACL ${aclId}`);
  },

  /** Every chosen subnet is associated with the black-hole ACL (EC2 says so), and the zone's nodes lose their heartbeat. */
  async verify(ctx, plan, j) {
    const r = plan.resources;
    const aclId = j.doneFor('acl.create')[0]?.data.aclId as string | undefined;
    const acl = aclId ? (await ctx.aws.describeNetworkAcls({}, [aclId]))[0] : undefined;
    const on = new Set(acl?.associations.map((a) => a.subnetId) ?? []);
    const assoc = {
      ok: !!acl && r.subnets.every((s) => on.has(s.subnetId)),
      lines: r.subnets.map((s) => (on.has(s.subnetId) ? `subnet ${s.subnetId}: associated with black-hole ACL ${aclId}` : `${MISSING}subnet ${s.subnetId}: not associated with the black-hole ACL ${aclId ?? '(not created)'}`)),
    };
    const why = heartbeatLossExpected(ctx, plan.durationMs);
    return verification([assoc, why ? skipped(why) : await nodesReach(ctx, r.nodes.map((n) => n.name), 'unknown')]);
  },

  faulted: (plan) => ({ nodes: plan.resources.nodes.map((n) => n.name), zones: [plan.resources.zone], pods: [] }),

  revert: revertAzBlackhole,

  /** Harness-tagged ACLs of this cluster: each subnet back on its original ACL (tag), then the ACL deleted. */
  async sweep(ctx): Promise<SweepResult> {
    const out: SweepResult = { findings: [], leftovers: [] };
    for (const acl of await ctx.aws.describeNetworkAcls({ [`tag:${TAG.managedBy}`]: [MANAGED_BY], [`tag:${TAG.cluster}`]: [ctx.cluster] })) {
      const f: SweepResult['findings'][number] = { kind: 'acl', id: acl.id, detail: `harness network ACL (run ${acl.tags[TAG.runId]}) with ${acl.associations.length} subnet(s)` };
      const skip = ctx.leaveAlone(acl.tags);
      if (skip) { f.skipped = skip; out.findings.push(f); continue; }
      if (ctx.act) {
        const done: string[] = [];
        // one subnet that cannot be restored is reported; the others are still restored
        for (const as of acl.associations) {
          try {
            const original = acl.tags[`${TAG.restorePrefix}${as.subnetId}`] ?? (await ctx.aws.describeNetworkAcls({ 'vpc-id': [acl.vpcId], default: ['true'] }))[0]?.id;
            if (!original) { out.leftovers.push({ what: `subnet ${as.subnetId} on harness ACL ${acl.id}: no original ACL known`, fix: [`aws ec2 replace-network-acl-association --association-id ${shellQuote(as.id)} --network-acl-id <original>`] }); continue; }
            await ctx.aws.replaceNetworkAclAssociation(as.id, original);
            done.push(`subnet ${as.subnetId} → ${original}`);
          } catch (err) {
            out.leftovers.push({ what: `subnet ${as.subnetId} is still on harness ACL ${acl.id} (${(err as Error).name}: ${(err as Error).message})`, fix: [`aws ec2 replace-network-acl-association --association-id ${shellQuote(as.id)} --network-acl-id ${shellQuote(acl.tags[`${TAG.restorePrefix}${as.subnetId}`] ?? '<original>')}`] });
          }
        }
        try {
          await ctx.aws.deleteNetworkAcl(acl.id);
          done.push(`deleted ${acl.id}`);
        } catch (err) {
          out.leftovers.push({ what: `harness ACL ${acl.id} could not be deleted (${(err as Error).name})`, fix: [`aws ec2 delete-network-acl --network-acl-id ${shellQuote(acl.id)}`] });
        }
        f.action = done.join('; ');
      }
      out.findings.push(f);
    }
    return out;
  },
});

async function revertAzBlackhole(ctx: RevertContext, j: Journal): Promise<RevertReport> {
  const report: RevertReport = { actions: [], leftovers: [] };
  const creates = j.intents('acl.create');
  if (!creates.length) return report;
  // The ACL id is in the `done` entry; after a crash between intent and done, CreateNetworkAcl with
  // the same ClientToken returns the same ACL (or finds none to make), and the run-id tag finds it.
  const byTag = await ctx.aws.describeNetworkAcls({ [`tag:${TAG.runId}`]: [j.runId] });
  const aclIds = new Set(j.doneFor('acl.create').map((e) => e.data.aclId as string));
  // the journaled ACL ids too, not only the tags (someone may have removed or changed them)
  const existing = [...byTag];
  for (const id of aclIds) {
    if (existing.some((a) => a.id === id)) continue;
    try {
      existing.push(...(await ctx.aws.describeNetworkAcls({}, [id])));
    } catch (err) {
      if ((err as Error).name !== 'InvalidNetworkAclID.NotFound') throw err;
    }
  }
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
      report.leftovers.push({ what: `subnet ${as.subnetId} is on black-hole ACL ${as.aclId} and its original ACL is unknown`, fix: [`aws ec2 describe-network-acls --filters Name=vpc-id,Values=<vpc> Name=default,Values=true`, `aws ec2 replace-network-acl-association --association-id ${shellQuote(as.id)} --network-acl-id <the original or default ACL id>`] });
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
      report.leftovers.push({ what: `subnet ${as.subnetId} is still on black-hole ACL ${as.aclId} (${(err as Error).message})`, fix: [`aws ec2 replace-network-acl-association --association-id ${shellQuote(as.id)} --network-acl-id ${shellQuote(original)}`] });
    }
  })));
  for (const a of existing) {
    try {
      await j.step('acl.delete', { aclId: a.id }, () => ctx.aws.deleteNetworkAcl(a.id));
      report.actions.push(`deleted black-hole ACL ${a.id}`);
    } catch (err) {
      if ((err as Error).name === 'InvalidNetworkAclID.NotFound') continue;
      report.leftovers.push({ what: `black-hole ACL ${a.id} could not be deleted (${(err as Error).name})`, fix: [`aws ec2 delete-network-acl --network-acl-id ${shellQuote(a.id)}`] });
    }
  }
  return report;
}
