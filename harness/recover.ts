// `chaos recover` and the pre-run sweep: finds what earlier runs left (unclosed journals, ACLs and
// instances the harness tagged) and, when acting, reverts it, saying what it did. A run's resources
// are left alone while the process that owns the run is alive.
import { Journal } from './journal.js';
import { formatLeftovers, MANAGED_BY, revertRun, TAG, type Leftover } from './faults/index.js';
import type { Aws } from './aws/index.js';

export interface SweepFinding { kind: 'journal' | 'acl' | 'instance'; id: string; detail: string; action?: string; skipped?: string }
export interface SweepReport { findings: SweepFinding[]; leftovers: Leftover[] }

export interface SweepOptions {
  aws: Aws;
  stateDir: string;
  cluster: string;
  act: boolean;
  /** also sweep harness resources of unknown runs that have not expired yet */
  force?: boolean;
  log: (m: string) => void;
  now?: Date;
}

export async function sweep(o: SweepOptions): Promise<SweepReport> {
  const report: SweepReport = { findings: [], leftovers: [] };
  const inProgress = new Set<string>();
  const known = new Set<string>();
  for (const file of Journal.list(o.stateDir)) {
    const j = Journal.open(file);
    known.add(j.runId);
    if (j.closed || !j.header) continue;
    if (j.header.cluster !== o.cluster) continue;
    if (j.ownerAlive && j.header.pid !== process.pid) {
      inProgress.add(j.runId);
      report.findings.push({ kind: 'journal', id: j.runId, detail: `${j.header.kind} run in progress (pid ${j.header.pid})`, skipped: 'owner alive' });
      continue;
    }
    const f: SweepFinding = { kind: 'journal', id: j.runId, detail: `${j.header.kind} run started ${j.header.startedAt} was not fully reverted (${file})` };
    if (o.act) {
      const r = await revertRun({ aws: o.aws, log: o.log }, j);
      f.action = r.actions.length ? r.actions.join('; ') : 'nothing was left to undo';
      report.leftovers.push(...r.leftovers);
    }
    report.findings.push(f);
  }
  const now = o.now ?? new Date();
  const expired = (tags: Record<string, string>) => Date.parse(tags[TAG.expiresAt] ?? '') < now.getTime();
  const sweepable = (tags: Record<string, string>) => {
    const run = tags[TAG.runId] ?? tags[TAG.stoppedBy];
    if (run && inProgress.has(run)) return 'its run is in progress';
    if (run && known.has(run)) return undefined; // its journal was handled above
    if (o.force || expired(tags)) return undefined;
    return `run ${run ?? '?'} is unknown here and not expired (${tags[TAG.expiresAt] ?? 'no expiry'}); --force sweeps it`;
  };

  for (const acl of await o.aws.describeNetworkAcls({ [`tag:${TAG.managedBy}`]: [MANAGED_BY], [`tag:${TAG.cluster}`]: [o.cluster] })) {
    const f: SweepFinding = { kind: 'acl', id: acl.id, detail: `harness network ACL (run ${acl.tags[TAG.runId]}) with ${acl.associations.length} subnet(s)` };
    const skip = sweepable(acl.tags);
    if (skip) { f.skipped = skip; report.findings.push(f); continue; }
    if (o.act) {
      const done: string[] = [];
      for (const as of acl.associations) {
        const original = acl.tags[`${TAG.restorePrefix}${as.subnetId}`] ?? (await o.aws.describeNetworkAcls({ 'vpc-id': [acl.vpcId], default: ['true'] }))[0]?.id;
        if (!original) { report.leftovers.push({ what: `subnet ${as.subnetId} on harness ACL ${acl.id}: no original ACL known`, fix: [`aws ec2 replace-network-acl-association --association-id ${as.id} --network-acl-id <original>`] }); continue; }
        await o.aws.replaceNetworkAclAssociation(as.id, original);
        done.push(`subnet ${as.subnetId} → ${original}`);
      }
      try {
        await o.aws.deleteNetworkAcl(acl.id);
        done.push(`deleted ${acl.id}`);
      } catch (err) {
        report.leftovers.push({ what: `harness ACL ${acl.id} could not be deleted (${(err as Error).name})`, fix: [`aws ec2 delete-network-acl --network-acl-id ${acl.id}`] });
      }
      f.action = done.join('; ');
    }
    report.findings.push(f);
  }

  for (const inst of await o.aws.describeInstancesByTag(TAG.stoppedBy, ['*'])) {
    if (!(`kubernetes.io/cluster/${o.cluster}` in inst.tags) || inst.state === 'terminated') continue;
    const f: SweepFinding = { kind: 'instance', id: inst.id, detail: `instance ${inst.state}, tagged ${TAG.stoppedBy}=${inst.tags[TAG.stoppedBy]}` };
    const skip = sweepable(inst.tags);
    if (skip) { f.skipped = skip; report.findings.push(f); continue; }
    if (o.act) {
      if (inst.state === 'stopped') await o.aws.startInstances([inst.id]);
      await o.aws.deleteTags([inst.id], [TAG.stoppedBy, TAG.expiresAt]);
      f.action = inst.state === 'stopped' ? 'started, tag removed' : 'tag removed';
    }
    report.findings.push(f);
  }
  return report;
}

export function formatSweep(r: SweepReport, acted: boolean): string[] {
  if (!r.findings.length) return ['nothing left behind by earlier runs'];
  const lines = r.findings.map((f) => `${f.kind} ${f.id}: ${f.detail}${f.action ? ` → ${f.action}` : ''}${f.skipped ? ` (left alone: ${f.skipped})` : acted ? '' : ' (not touched: report only)'}`);
  if (r.leftovers.length) lines.push(...formatLeftovers(r.leftovers));
  return lines;
}
