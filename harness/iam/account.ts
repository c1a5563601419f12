// The account check: STS GetCallerIdentity (Aws.callerIdentity) before anything, against the target's
// allow-list, and a journal is only ever reverted with credentials of the account and region it was
// written in. Pure functions; the caller fetches the identity.
import { invalid } from '../exit-codes.js';
import type { CallerIdentity } from '../aws/index.js';

/**
 * Throws the exit-2 error (nothing touched) when the credentials' account is not allowed. An empty
 * list allows any account: only the lab target has one (chaos.targets.json), and the lab's STS
 * answers 123456789012 (LAB_ACCOUNT_ID).
 */
export function checkAccount(identity: Pick<CallerIdentity, 'account' | 'arn'>, allowedAccounts: readonly string[]): void {
  if (!/^\d{12}$/.test(identity.account)) throw invalid(`STS GetCallerIdentity answered account "${identity.account}", not a 12-digit account id`);
  if (!allowedAccounts.length) return;
  if (!allowedAccounts.includes(identity.account)) {
    throw invalid(`the AWS credentials are for account ${identity.account} (${identity.arn}), which is not among the allowed accounts ${allowedAccounts.join(', ')} (chaos.targets.json); nothing was touched`);
  }
}

/** What a journal header records about where it ran (the lead adds `account` to RunHeader). */
export interface JournalWhere { runId?: string; account?: string; region: string }

export interface JournalMatch { match: boolean; reason: string }

/**
 * Whether a journal may be reverted with these credentials in this region: the same account and the
 * same region. A journal written before accounts were recorded (no `account`) matches on the region
 * alone, and says so.
 */
export function journalMatches(header: JournalWhere, identity: Pick<CallerIdentity, 'account'>, region: string): JournalMatch {
  const run = header.runId ? `run ${header.runId}` : 'the journal';
  if (header.region !== region) return { match: false, reason: `${run} was written in region ${header.region}, the credentials act in ${region}` };
  if (header.account === undefined) return { match: true, reason: `${run} predates account recording; region ${region} matches` };
  if (header.account !== identity.account) return { match: false, reason: `${run} was written with account ${header.account}, the credentials are for account ${identity.account}` };
  return { match: true, reason: `${run}: account ${identity.account} and region ${region} match` };
}

/**
 * Why the shipped policy would refuse to swap these subnets (az-blackhole): each must carry the
 * cluster tag kubernetes.io/cluster/NAME = owned | shared and, when the policy pins the VPC, lie in it.
 * Empty when every swap is allowed; the fault's plan can refuse (exit 2) before anything is touched
 * instead of meeting AccessDenied halfway through.
 */
export function subnetPolicyProblems(subnets: ReadonlyArray<{ id: string; vpcId: string; tags: Record<string, string> }>, cluster: string, vpcId?: string): string[] {
  const key = `kubernetes.io/cluster/${cluster}`;
  const out: string[] = [];
  for (const s of subnets) {
    const v = s.tags[key];
    if (v !== 'owned' && v !== 'shared') out.push(`subnet ${s.id} lacks the tag ${key}=shared (or owned), which the IAM policy requires to swap its network ACL`);
    if (vpcId && s.vpcId !== vpcId) out.push(`subnet ${s.id} is in ${s.vpcId}, not the cluster VPC ${vpcId} the IAM policy is pinned to`);
  }
  return out;
}
