// The least-privilege IAM policy the harness needs: COMMON (harness/iam/statements.ts) plus the
// statements each registered fault kind declares in its module (`iam`), with the cluster, VPC,
// region and account filled in.
// test/unit/iam-policy.test.ts proves it with an independent IAM simulator: every request the
// harness makes is allowed, the misuses listed there are denied.
import { COMMON, COMMON_GROUP, fill, INSTALL_DOCUMENTS, type IamGroup, type IamStatement } from './statements.js';
import { faults, type FaultRegistry } from '../faults/registry.js';

export * from './statements.js';
export { checkAccount, journalMatches, subnetPolicyProblems, type JournalMatch, type JournalWhere } from './account.js';

export interface PolicyDoc { Version: string; Statement: Array<{ Sid: string; Effect: string; Action: string[]; Resource: string | string[]; Condition?: unknown }> }

export interface PolicyOptions {
  /** the cluster's VPC (vpc-…): subnets and ACLs outside it are denied. Strongly recommended. */
  vpcId?: string;
  /** the cluster's region; default `*` */
  region?: string;
  /** the account id; default `*` */
  account?: string;
  /** the statement groups to include; default COMMON and every registered fault kind's */
  groups?: IamStatement[][];
  /** the kinds whose statements are included (default: the shipped registry) */
  registry?: FaultRegistry;
  /** add INSTALL_DOCUMENTS (ssm:CreateDocument/UpdateDocument of the harness documents): for an admin, never the run role */
  installDocuments?: boolean;
}

/** The groups the policy is proven for: COMMON, then each registered kind's statements and requests (its module's `iam`, `iamRequests`). */
export function iamGroups(registry: FaultRegistry = faults): IamGroup[] {
  return [COMMON_GROUP, ...registry.list().map((k) => ({ name: k.kind, statements: k.iam, requests: k.iamRequests }))];
}

/** COMMON, then each registered kind's statements. */
export function allGroups(registry: FaultRegistry = faults): IamStatement[][] {
  return iamGroups(registry).map((g) => g.statements);
}

const CLUSTER_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** The identity policy for the harness's role. `cluster` defaults to the ${ClusterName} placeholder. */
export function iamPolicy(cluster = '${ClusterName}', opts: PolicyOptions = {}): PolicyDoc {
  if (cluster !== '${ClusterName}' && !CLUSTER_RE.test(cluster)) throw new Error(`iam-policy: "${cluster}" is not an EKS cluster name`);
  if (opts.vpcId !== undefined && !/^vpc-[0-9a-f]{8,17}$/.test(opts.vpcId)) throw new Error(`iam-policy: "${opts.vpcId}" is not a VPC id (vpc-…)`);
  if (opts.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(opts.region)) throw new Error(`iam-policy: "${opts.region}" is not an AWS region`);
  if (opts.account !== undefined && !/^\d{12}$/.test(opts.account)) throw new Error(`iam-policy: "${opts.account}" is not a 12-digit account id`);
  const statements = [...(opts.groups ?? allGroups(opts.registry)).flat(), ...(opts.installDocuments ? INSTALL_DOCUMENTS : [])];
  const filled = fill(structuredClone(statements), {
    ClusterName: cluster, VpcId: opts.vpcId ?? '*', Region: opts.region ?? '*', Account: opts.account ?? '*',
  });
  return { Version: '2012-10-17', Statement: filled };
}

/** What the policy does not pin down with these options: print it beside the policy. */
export function policyCaveats(opts: PolicyOptions = {}): string[] {
  const out: string[] = [];
  if (!opts.vpcId) out.push('no --vpc: subnets are limited by the cluster tag and ACLs to the account, not to the cluster\'s VPC (EC2 itself keeps an ACL and its subnet in one VPC); pass --vpc vpc-… to pin both');
  if (!opts.region) out.push('no --region: the policy allows every region');
  if (!opts.account) out.push('no --account: resource ARNs name any account (the harness documents are limited to the caller\'s own account by aws:ResourceAccount)');
  return out;
}

export function allowedActions(doc: PolicyDoc = iamPolicy()): Set<string> {
  return new Set(doc.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action));
}
