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
import { ALLOWABLE, classifyEni, countByKind, eniLine, KIND_LABEL, loadBalancersByName, refused, type Allowable, type EniEntry } from './enis.js';
import type { Aws } from '../aws/index.js';
import type { Kube } from '../k8s/index.js';

export const SWAP_CONCURRENCY = 8;

export const AzBlackholeSpec = z.object({
  kind: z.literal('az-blackhole'),
  /** a zone name, or `auto`: the zone with the most targeted pods */
  zone: z.string().regex(/^(auto|[a-z]{2}(-gov)?-[a-z]+-\d[a-z])$/, 'zone must be "auto" or look like us-east-1a'),
  /**
   * `nodes`: the subnets of every ENI of the zone's nodes (primary and VPC CNI ENIs) and the VPC CNI custom
   * networking subnets (ENIConfigs) of the zone; `zone`: every subnet of the zone in the VPC (each must
   * carry the cluster tag)
   */
  scope: z.enum(['nodes', 'zone']).default('nodes'),
  /**
   * ENI kinds the scenario accepts to cut, refused otherwise (exit 2): `natGateway` (a NAT gateway in a
   * black-holed subnet cuts the egress of every zone routed through it), `unknown` (ENIs the harness cannot
   * attribute to the cluster)
   */
  allow: z.array(z.enum(ALLOWABLE)).optional(),
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
  /** every ENI in the chosen subnets, by kind and owner (what the black-hole cuts) */
  enis?: EniEntry[];
  /** the ENIs a real loss of the zone cuts too (VPC endpoints, EKS control plane), one line each */
  collateral?: string[];
  /** the refused kinds the scenario allowed */
  allowed?: Allowable[];
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
    fields: '`zone: us-east-1a | auto`, `scope: nodes | zone`, `allow: [natGateway, unknown]`, `duration`',
    effect: 'the zone\'s nodes lose heartbeat; traffic to and from its pods hangs; SSM ConnectionLost · verified: every subnet on the black-hole ACL, the zone\'s nodes Ready=Unknown',
  },
  schema: AzBlackholeSpec,
  flags: [
    { field: 'zone', flag: '--zone <zone>', help: 'the zone, or "auto" (the zone with the most targeted pods)' },
    { field: 'scope', flag: '--scope <scope>', help: 'the subnets of the nodes\' ENIs (and ENIConfigs), or every subnet of the zone', choices: ['nodes', 'zone'] },
    { field: 'allow', flag: '--allow <kind...>', help: 'ENI kinds to cut that are refused otherwise', choices: ALLOWABLE },
    durationFlag,
  ],
  iam: AZ_BLACKHOLE,
  iamRequests: AZ_BLACKHOLE_REQUESTS,
  rbac: [
    { scope: 'cluster', apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }, { scope: 'namespace', apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    // whose NLB an ENI is (LoadBalancer Services' status), the VPC CNI's custom networking subnets (ENIConfigs)
    { scope: 'cluster', apiGroups: [''], resources: ['services'], verbs: ['list'] }, { scope: 'cluster', apiGroups: ['crd.k8s.amazonaws.com'], resources: ['eniconfigs'], verbs: ['list'] },
  ],

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
    const instanceIds = nodes.map((n) => n.instanceId);
    const nodeEnis = instanceIds.length ? await ctx.aws.describeNetworkInterfaces({ 'attachment.instance-id': instanceIds }) : [];
    const why = new Map<string, string>();
    const note = (id: string, reason: string) => { if (id && !why.has(id)) why.set(id, reason); };
    if (spec.scope === 'nodes') {
      for (const i of insts.values()) note(i.subnetId ?? '', 'the nodes\' primary ENIs');
      for (const e of nodeEnis) note(e.subnetId, e.description.startsWith('aws-K8S-') ? 'VPC CNI ENIs of the nodes' : 'ENIs of the nodes');
      for (const [id, name] of await customNetworkingSubnets(ctx.kube, ctx.aws, vpcId, zone)) note(id, `VPC CNI custom networking (ENIConfig ${name})`);
    } else {
      for (const s of await ctx.aws.describeSubnets({ 'vpc-id': [vpcId], 'availability-zone': [zone] })) note(s.id, 'every subnet of the zone');
    }
    const subnetIds = [...why.keys()];
    if (!subnetIds.length) throw invalid(`az-blackhole: no subnet found in ${zone}`);
    const subnetInfo = await ctx.aws.describeSubnets({ 'subnet-id': subnetIds });
    if (spec.scope === 'zone') {
      // scope zone takes subnets no node is in: only those the cluster's tag says belong to it (the swap's IAM condition too)
      const tag = `kubernetes.io/cluster/${ctx.guard.cluster}`;
      const untagged = subnetIds.filter((id) => !['owned', 'shared'].includes(subnetInfo.find((s) => s.id === id)?.tags[tag] ?? ''));
      if (untagged.length) {
        throw invalid(`az-blackhole: scope zone would black-hole ${untagged.length} subnet(s) of ${zone} without the cluster tag ${tag} (owned or shared): ${untagged.join(', ')}`,
          [...untagged.map((id) => `${id}${subnetInfo.find((s) => s.id === id)?.tags.Name ? ` (${subnetInfo.find((s) => s.id === id)!.tags.Name})` : ''}: no ${tag}`), 'tag the subnets that belong to the cluster, or use scope: nodes (the subnets of the zone\'s nodes only)']);
      }
    }
    const enis = await attributeEnis(ctx, subnetIds, all);
    const allow = spec.allow ?? [];
    const refusedKinds = refused(enis, allow);
    if (refusedKinds.size) {
      const details = [...refusedKinds].flatMap(([k, xs]) => [
        `${k === 'natGateway' ? 'a NAT gateway (it carries the internet egress of every subnet routed through it, in every zone)' : `ENIs the harness cannot attribute to cluster ${ctx.guard.cluster}`} — allow with \`allow: ['${k}']\` (--allow ${k}):`,
        ...xs.map((x) => `  subnet ${x.subnetId}: ${x.id} ${x.owner}: ${x.detail}`),
      ]);
      throw invalid(`az-blackhole: refusing to black-hole ${[...new Set([...refusedKinds.values()].flat().map((x) => x.subnetId))].join(', ')} of ${zone}: ${[...refusedKinds.keys()].map((k) => k === 'natGateway' ? 'a NAT gateway' : 'ENIs not attributable to the cluster').join(' and ')} (allow: ${[...refusedKinds.keys()].map((k) => `'${k}'`).join(', ')} permits it)`, details);
    }
    const collateral = enis.filter((x) => x.collateral).map((x) => `${KIND_LABEL[x.kind]} ${x.owner} (${x.id} in ${x.subnetId})`);
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
      ...subnets.flatMap((s) => {
        const name = subnetInfo.find((x) => x.id === s.subnetId)?.tags.Name;
        const mine = enis.filter((x) => x.subnetId === s.subnetId);
        return [`swap subnet ${s.subnetId}${name ? ` (${name})` : ''} from ${s.originalAclId} (association ${s.associationId}) to it — ${why.get(s.subnetId)}; it holds ${mine.length} ENI(s)${mine.length ? ':' : ''}`, ...mine.map(eniLine)];
      }),
      ...(collateral.length ? [`collateral a real loss of ${zone} has too (named in the report): ${collateral.join('; ')}`] : []),
      ...(allow.length ? [`allowed by the scenario: ${allow.join(', ')}`] : []),
      `hold ${formatDuration(spec.duration)}, then swap each subnet back (re-reading its association) and delete the ACL; up to ${concurrency} swaps at once`,
    ];
    return {
      kind: 'az-blackhole',
      summary: `black-hole ${subnets.length} subnet(s) of ${zone} for ${formatDuration(spec.duration)}${enis.length ? ` (${enis.length} ENIs: ${countByKind(enis)}${collateral.length ? `; collateral a zone loss has too: ${collateralSummary(enis)}` : ''})` : ''}`,
      lines,
      durationMs: spec.duration,
      resources: { zone, vpcId, ipv6, subnets, nodes, concurrency, enis, collateral, allowed: allow },
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

/** "VPC endpoints ssm, sts (2 ENIs); EKS control plane prod (1 ENI)": the collateral, by kind and owner, for the summary. */
function collateralSummary(enis: EniEntry[]): string {
  const parts: string[] = [];
  for (const k of ['vpcEndpoint', 'eksControlPlane'] as const) {
    const xs = enis.filter((x) => x.collateral && x.kind === k);
    if (!xs.length) continue;
    const owners = [...new Set(xs.map((x) => x.owner.replace(/^com\.amazonaws\.[a-z0-9-]+\./, '')))];
    parts.push(`${KIND_LABEL[k]}${k === 'vpcEndpoint' && owners.length > 1 ? 's' : ''} ${owners.join(', ')} (${xs.length} ENI${xs.length > 1 ? 's' : ''})`);
  }
  return parts.join('; ');
}

/**
 * VPC CNI custom networking: the subnets of the ENIConfigs (amazon-vpc-cni-k8s docs, "Custom networking":
 * pods get ENIs in the ENIConfig's subnet, one ENIConfig per zone) that lie in this zone. No CRD: none.
 */
async function customNetworkingSubnets(kube: Kube, aws: Aws, vpcId: string, zone: string): Promise<Map<string, string>> {
  let configs: Array<{ name: string; subnet: string }>;
  try {
    configs = await kube.eniConfigs();
  } catch (err) {
    throw invalid(`az-blackhole: cannot list the VPC CNI's ENIConfigs (crd.k8s.amazonaws.com) to find the zone's pod subnets: ${(err as Error).message}`, ['grant list on eniconfigs.crd.k8s.amazonaws.com (cluster-wide)']);
  }
  const out = new Map<string, string>();
  if (!configs.length) return out;
  const subnets = await aws.describeSubnets({ 'subnet-id': [...new Set(configs.map((c) => c.subnet))] });
  for (const c of configs) {
    const s = subnets.find((x) => x.id === c.subnet);
    if (s && s.zone === zone && s.vpcId === vpcId && !out.has(s.id)) out.set(s.id, c.name);
  }
  return out;
}

/** Every ENI in the subnets, classified: the nodes (all of the cluster's), the NLBs of its Services, the endpoints' services. */
async function attributeEnis(ctx: FaultContext, subnetIds: string[], all: TargetNode[]): Promise<EniEntry[]> {
  const raw = await ctx.aws.describeNetworkInterfaces({ 'subnet-id': subnetIds });
  let loadBalancers: Map<string, string> | undefined;
  if (raw.some((e) => /^ELB /.test(e.description))) {
    try {
      loadBalancers = loadBalancersByName(await ctx.kube.loadBalancerHostnames());
    } catch (err) {
      ctx.log(`az-blackhole: the cluster's Services could not be read (${(err as Error).message}): its load balancers' ENIs are not attributable`);
    }
  }
  const vpces = [...new Set(raw.map((e) => /vpce-[0-9a-f]+/.exec(e.description)?.[0]).filter((x): x is string => !!x))];
  const endpointServices = await ctx.aws.vpcEndpointServices(vpces);
  const attribution = { cluster: ctx.guard.cluster, nodes: new Map(all.map((n) => [n.instanceId, n.name])), loadBalancers, endpointServices };
  const order = (x: EniEntry) => ['node', 'nlb', 'natGateway', 'vpcEndpoint', 'eksControlPlane', 'unknown'].indexOf(x.kind);
  return raw.map((e) => classifyEni(e, attribution)).sort((a, b) => a.subnetId.localeCompare(b.subnetId) || order(a) - order(b) || a.owner.localeCompare(b.owner) || a.id.localeCompare(b.id));
}

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
