// The shipped IAM policy, evaluated by an independent IAM simulator (@cloud-copilot/iam-simulate, a
// dev dependency: AGPL, used by this test only). Every request the harness makes, as each statement
// group declares them (harness/iam/statements.ts: each fault, revert, recover, dry-run), must be
// allowed; every misuse below must be denied by the identity policy itself. The simulator also checks
// each request's context keys against its copy of the Service Authorization Reference: a key that does
// not apply to the action and resource type would be ignored there, and fails here.
import { expect } from 'chai';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import {
  allowedActions, ec2ResourceTags, fill, HARNESS_ACL_TAGS, iamGroups, iamPolicy, INSTALL_GROUP, requestTags, UNCONDITIONED_BY_DESIGN,
  CLUSTER_TAG, INSTANCE_TAG_KEYS, type IamRequest, type PolicyDoc, type PolicyOptions, type Placeholders,
} from '../../harness/iam/index.js';
import { DOCUMENT_NAMES } from '../../harness/aws/ssm-documents.js';

const P: Placeholders = { ClusterName: 'prod-eks', VpcId: 'vpc-0a1b2c3d4e5f60718', Region: 'us-east-1', Account: '111122223333' };
const OTHER_ACCOUNT = '444455556666';
const PRINCIPAL = `arn:aws:iam::${P.Account}:role/chaos-harness`;
const VPC_ARN = `arn:aws:ec2:${P.Region}:${P.Account}:vpc/${P.VpcId}`;
const OTHER_VPC_ARN = `arn:aws:ec2:${P.Region}:${P.Account}:vpc/vpc-0ffee0ffee0ffee00`;
const ec2 = (r: string) => `arn:aws:ec2:${P.Region}:${P.Account}:${r}`;
const doc = (name: string, account = P.Account) => `arn:aws:ssm:${P.Region}:${account}:document/${name}`;
/** A KMS key needs a key policy that lets IAM policies decide: the default key policy does. */
const DEFAULT_KEY_POLICY = { Version: '2012-10-17', Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${P.Account}:root` }, Action: 'kms:*', Resource: '*' }] };

interface Case { group: string; when: string; what: string; action: string; resource: string; context: Record<string, string | string[]>; expect: 'Allowed' | 'Denied'; pinnedOnly?: boolean }
interface Outcome { c: Case; overall: string; identity: string; ignored: string[]; error?: string }

const f = <T>(v: T) => fill(v, P);
const cluster = (v = 'owned') => ec2ResourceTags({ [f(CLUSTER_TAG)]: v });
const other = (v = 'owned') => ec2ResourceTags({ 'kubernetes.io/cluster/other-eks': v });
const harnessAclTags = f(HARNESS_ACL_TAGS);

/** The harness's own requests, from what each registered fault kind declares (its module's iamRequests) plus the common ones. */
function harnessCases(): Case[] {
  const out: Case[] = [];
  for (const g of iamGroups()) for (const r of g.requests) out.push(fromRequest(g.name, r, 'Allowed'));
  return out;
}

function fromRequest(group: string, r: IamRequest, e: Case['expect']): Case {
  const x = f(r);
  return { group, when: x.when.join(','), what: x.what, action: x.action, resource: x.resource, context: x.context, expect: e };
}

const denied = (group: string, what: string, action: string, resource: string, context: Case['context'], pinnedOnly = false): Case => ({ group, when: 'misuse', what, action, resource, context, expect: 'Denied', pinnedOnly });

/** The misuses the policy must deny (issue 12 §1), shaped like the requests above. */
function deniedCases(): Case[] {
  const inst = ec2('instance/i-0fedcba9876543210');
  const subnet = ec2('subnet/subnet-0fedcba9876543210');
  const acl = ec2('network-acl/acl-0fedcba9876543210');
  const newAcl = ec2('network-acl/acl-0ffffffffffffffff');
  const tags = (t: Record<string, string>) => requestTags(t);
  return [
    // node-stop
    denied('node-stop', 'stop an instance of another cluster', 'ec2:StopInstances', inst, other()),
    denied('node-stop', 'stop an untagged instance', 'ec2:StopInstances', inst, {}),
    denied('node-stop', 'start an instance of another cluster', 'ec2:StartInstances', inst, other('shared')),
    denied('node-stop', 'stop an instance in another account', 'ec2:StopInstances', `arn:aws:ec2:${P.Region}:${OTHER_ACCOUNT}:instance/i-0fedcba9876543210`, cluster(), true),
    denied('node-stop', 'stop a cluster instance in another region', 'ec2:StopInstances', `arn:aws:ec2:eu-west-1:${P.Account}:instance/i-0fedcba9876543210`, cluster(), true),
    denied('node-stop', 'tag a cluster instance with the cluster tag (a non-chaos key)', 'ec2:CreateTags', inst, { ...cluster(), ...tags({ [f(CLUSTER_TAG)]: 'owned' }) }),
    denied('node-stop', 'tag a cluster instance with chaos:stopped-by and another key', 'ec2:CreateTags', inst, { ...cluster(), ...tags({ 'chaos:stopped-by': 'x', Owner: 'me' }) }),
    denied('node-stop', 'tag another cluster\'s instance with chaos:stopped-by', 'ec2:CreateTags', inst, { ...other(), ...tags({ 'chaos:stopped-by': 'x' }) }),
    denied('node-stop', 'delete the cluster tag from a cluster instance', 'ec2:DeleteTags', inst, { ...cluster(), 'aws:TagKeys': [f(CLUSTER_TAG)] }),
    denied('node-stop', 'delete chaos tags from another cluster\'s instance', 'ec2:DeleteTags', inst, { ...other(), 'aws:TagKeys': INSTANCE_TAG_KEYS }),
    denied('node-stop', 'suspend processes of another cluster\'s group', 'autoscaling:SuspendProcesses', `arn:aws:autoscaling:${P.Region}:${P.Account}:autoScalingGroup:0e0e0e0e-1111-2222-3333-444444444444:autoScalingGroupName/other`, { 'autoscaling:ResourceTag/kubernetes.io/cluster/other-eks': 'owned', 'aws:ResourceTag/kubernetes.io/cluster/other-eks': 'owned' }),
    denied('node-stop', 'resume processes of an untagged group', 'autoscaling:ResumeProcesses', `arn:aws:autoscaling:${P.Region}:${P.Account}:autoScalingGroup:0e0e0e0e-1111-2222-3333-444444444444:autoScalingGroupName/other`, {}),
    denied('node-stop', 'kms:CreateGrant called directly (not through EC2)', 'kms:CreateGrant', `arn:aws:kms:${P.Region}:${P.Account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, { 'kms:GrantIsForAWSResource': 'false', 'kms:CallerAccount': P.Account }),
    denied('node-stop', 'kms:CreateGrant through another service', 'kms:CreateGrant', `arn:aws:kms:${P.Region}:${P.Account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, { 'kms:ViaService': `rds.${P.Region}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true', 'kms:CallerAccount': P.Account }),
    denied('node-stop', 'kms:CreateGrant through EC2, not for an AWS resource', 'kms:CreateGrant', `arn:aws:kms:${P.Region}:${P.Account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, { 'kms:ViaService': `ec2.${P.Region}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'false', 'kms:CallerAccount': P.Account }),
    // az-blackhole
    denied('az-blackhole', 'CreateTags chaos:* on an existing ACL (no ec2:CreateAction)', 'ec2:CreateTags', acl, { 'ec2:Vpc': VPC_ARN, ...tags({ 'chaos:managed-by': 'k8s-chaos-harness', 'chaos:cluster': P.ClusterName }) }),
    denied('az-blackhole', 'CreateTags chaos:* on an existing subnet', 'ec2:CreateTags', subnet, { ...cluster('shared'), 'ec2:Vpc': VPC_ARN, ...tags({ 'chaos:managed-by': 'k8s-chaos-harness', 'chaos:cluster': P.ClusterName }) }),
    denied('az-blackhole', 'CreateTags chaos:* on an existing VPC', 'ec2:CreateTags', VPC_ARN, tags({ 'chaos:managed-by': 'k8s-chaos-harness', 'chaos:cluster': P.ClusterName })),
    denied('az-blackhole', 'tag a new ACL with a non-chaos key too', 'ec2:CreateTags', newAcl, { 'ec2:CreateAction': 'CreateNetworkAcl', ...tags({ ...harnessAclTags, Owner: 'me' }) }),
    denied('az-blackhole', 'tag a new ACL as another cluster\'s', 'ec2:CreateTags', newAcl, { 'ec2:CreateAction': 'CreateNetworkAcl', ...tags({ ...harnessAclTags, 'chaos:cluster': 'other-eks' }) }),
    denied('az-blackhole', 'create an ACL without the harness tags', 'ec2:CreateNetworkAcl', newAcl, tags({ Name: 'x' })),
    denied('az-blackhole', 'create an ACL in another VPC', 'ec2:CreateNetworkAcl', OTHER_VPC_ARN, { 'ec2:VpcID': 'vpc-0ffee0ffee0ffee00' }),
    denied('az-blackhole', 'swap an untagged subnet of the VPC', 'ec2:ReplaceNetworkAclAssociation', subnet, { 'ec2:Vpc': VPC_ARN }),
    denied('az-blackhole', 'swap a subnet of another cluster in the VPC', 'ec2:ReplaceNetworkAclAssociation', subnet, { ...other('shared'), 'ec2:Vpc': VPC_ARN }),
    denied('az-blackhole', 'swap a subnet with the cluster tag outside the cluster VPC', 'ec2:ReplaceNetworkAclAssociation', subnet, { ...cluster('shared'), 'ec2:Vpc': OTHER_VPC_ARN }),
    denied('az-blackhole', 'swap onto an ACL outside the cluster VPC', 'ec2:ReplaceNetworkAclAssociation', acl, { 'ec2:Vpc': OTHER_VPC_ARN }),
    denied('az-blackhole', 'swap onto a harness-tagged ACL outside the cluster VPC', 'ec2:ReplaceNetworkAclAssociation', acl, { ...ec2ResourceTags(harnessAclTags), 'ec2:Vpc': OTHER_VPC_ARN }),
    denied('az-blackhole', 'delete an ACL the harness did not create (the default ACL)', 'ec2:DeleteNetworkAcl', acl, { 'ec2:Vpc': VPC_ARN }),
    denied('az-blackhole', 'delete an ACL tagged chaos:managed-by only', 'ec2:DeleteNetworkAcl', acl, { ...ec2ResourceTags({ 'chaos:managed-by': 'k8s-chaos-harness' }), 'ec2:Vpc': VPC_ARN }),
    denied('az-blackhole', 'delete another cluster\'s harness ACL', 'ec2:DeleteNetworkAcl', acl, { ...ec2ResourceTags({ ...harnessAclTags, 'chaos:cluster': 'other-eks' }), 'ec2:Vpc': VPC_ARN }),
    denied('az-blackhole', 'delete a harness ACL outside the cluster VPC', 'ec2:DeleteNetworkAcl', acl, { ...ec2ResourceTags(harnessAclTags), 'ec2:Vpc': OTHER_VPC_ARN }),
    // daemon-kill
    // AWS's own documents have an empty account segment (arn:aws:ssm:REGION::document/AWS-RunShellScript),
    // which the simulator cannot parse; evaluated with the account filled in, and the real ARN is checked
    // against every Resource pattern below.
    denied('daemon-kill', 'SendCommand AWS-RunShellScript (root shell)', 'ssm:SendCommand', doc('AWS-RunShellScript'), {}),
    denied('daemon-kill', 'SendCommand another document of the account', 'ssm:SendCommand', doc('Ops-RunAnything'), {}),
    denied('daemon-kill', 'SendCommand a same-named document shared from another account', 'ssm:SendCommand', doc(DOCUMENT_NAMES.stop, OTHER_ACCOUNT), {}),
    denied('daemon-kill', 'SendCommand to an instance of another cluster', 'ssm:SendCommand', inst, { 'ssm:resourceTag/kubernetes.io/cluster/other-eks': 'owned', 'aws:ResourceTag/kubernetes.io/cluster/other-eks': 'owned' }),
    denied('daemon-kill', 'SendCommand to an untagged instance', 'ssm:SendCommand', inst, {}),
    denied('daemon-kill', 'rewrite a harness document (UpdateDocument)', 'ssm:UpdateDocument', doc(DOCUMENT_NAMES.restore), { 'ssm:DocumentType': 'Command' }),
    denied('daemon-kill', 'create a document', 'ssm:CreateDocument', doc('ChaosHarness-Anything'), { 'ssm:DocumentType': 'Command' }),
    denied('daemon-kill', 'switch a harness document\'s default version', 'ssm:UpdateDocumentDefaultVersion', doc(DOCUMENT_NAMES.stop), { 'ssm:DocumentType': 'Command' }),
    denied('daemon-kill', 'open a shell on a cluster node (StartSession)', 'ssm:StartSession', inst, { 'ssm:resourceTag/kubernetes.io/cluster/prod-eks': 'owned', 'aws:ResourceTag/kubernetes.io/cluster/prod-eks': 'owned' }),
  ];
}

function accountOf(arn: string): string {
  const a = arn.split(':')[4];
  return a === undefined || a === '' ? (arn === '*' ? P.Account : 'aws') : a;
}

async function evaluate(policy: PolicyDoc, c: Case): Promise<Outcome> {
  const account = accountOf(c.resource);
  const sim: Simulation = {
    request: {
      principal: PRINCIPAL, action: c.action, resource: { resource: c.resource, accountId: account === 'aws' ? '000000000000' : account },
      contextVariables: { 'aws:PrincipalAccount': P.Account, 'aws:PrincipalArn': PRINCIPAL, ...(account === 'aws' ? {} : { 'aws:ResourceAccount': account }), ...c.context },
    },
    identityPolicies: [{ name: 'chaos-harness', policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(c.action.startsWith('kms:') ? { resourcePolicy: DEFAULT_KEY_POLICY } : {}),
  };
  const r = await runSimulation(sim, {});
  if (r.resultType === 'error') return { c, overall: 'error', identity: 'error', ignored: [], error: JSON.stringify(r.errors) };
  const res = r.resultType === 'single' ? r.result : r.results[0];
  return { c, overall: r.overallResult, identity: res?.analysis?.identityAnalysis?.result ?? 'none', ignored: res?.ignoredContextKeys ?? [] };
}

const pinned: PolicyOptions = { vpcId: P.VpcId, region: P.Region, account: P.Account };
const variants: Array<{ name: string; opts: PolicyOptions }> = [
  { name: 'pinned (--vpc, --region, --account)', opts: pinned },
  { name: 'any account and region (--vpc only)', opts: { vpcId: P.VpcId } },
];

function table(rows: Outcome[]): string {
  const short = (s: string) => s.replace(/^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d*:/, '');
  const head = ['group', 'when', 'action', 'resource', 'what', 'expected', 'simulator'];
  const body = rows.map((o) => [o.c.group, o.c.when, o.c.action, short(o.c.resource).slice(0, 58), o.c.what.slice(0, 62), o.c.expect, o.overall]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(w[i])).join(' | ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('-|-'), ...body.map(line)].join('\n');
}

describe('IAM policy: least privilege, proven with an IAM simulator', function () {
  this.timeout(60_000);

  for (const v of variants) {
    it(`${v.name}: every harness request is allowed, every misuse denied`, async () => {
      const policy = iamPolicy(P.ClusterName, v.opts);
      const isPinned = v.opts === pinned;
      const cases = [...harnessCases(), ...deniedCases().filter((c) => isPinned || !c.pinnedOnly)];
      const outcomes: Outcome[] = [];
      for (const c of cases) outcomes.push(await evaluate(policy, c));
      const allowed = outcomes.filter((o) => o.c.expect === 'Allowed');
      const denials = outcomes.filter((o) => o.c.expect === 'Denied');
      if (isPinned) {
        console.log(`\n${table(outcomes)}\n`);
        console.log(`harness requests allowed: ${allowed.filter((o) => o.overall === 'Allowed').length}/${allowed.length}; misuses denied: ${denials.filter((o) => o.overall !== 'Allowed').length}/${denials.length}\n`);
      }
      const problems: string[] = [];
      for (const o of outcomes) {
        const id = `${o.c.action} ${o.c.resource} (${o.c.what})`;
        if (o.error) { problems.push(`${id}: simulator error ${o.error}`); continue; }
        if (o.ignored.length) problems.push(`${id}: context keys that do not apply to the action/resource: ${o.ignored.join(', ')}`);
        if (o.c.expect === 'Allowed' && o.overall !== 'Allowed') problems.push(`${id}: expected Allowed, got ${o.overall} (identity policy: ${o.identity})`);
        // A misuse must be refused by this policy itself, not only by a missing key policy or cross-account rule.
        if (o.c.expect === 'Denied' && (o.overall === 'Allowed' || o.identity === 'Allowed')) problems.push(`${id}: expected the identity policy to deny it, got ${o.identity} (overall ${o.overall})`);
      }
      expect(problems).to.deep.equal([]);
    });
  }

  it('the install policy (for an admin) allows installing the documents, and only those', async () => {
    const policy = iamPolicy(P.ClusterName, { ...pinned, groups: [], installDocuments: true });
    const ok = await Promise.all(INSTALL_GROUP.requests.map((r) => evaluate(policy, fromRequest('install', r, 'Allowed'))));
    expect(ok.filter((o) => o.overall !== 'Allowed' || o.ignored.length).map((o) => `${o.c.action} ${o.c.resource}: ${o.overall} ${o.ignored}`)).to.deep.equal([]);
    const no = await evaluate(policy, denied('install', 'update another document', 'ssm:UpdateDocument', doc('AWS-RunShellScript'), { 'ssm:DocumentType': 'Command' }));
    expect(no.identity).to.not.equal('Allowed');
    // and the run role never gets it
    expect(allowedActions(iamPolicy(P.ClusterName, pinned)).has('ssm:UpdateDocument')).to.equal(false);
  });

  it('grants no action that no harness request needs, and every changing statement is conditioned or pinned', () => {
    const policy = iamPolicy(P.ClusterName, pinned);
    const used = new Set(iamGroups().flatMap((g) => g.requests.map((r) => r.action)));
    expect([...allowedActions(policy)].filter((a) => !used.has(a))).to.deep.equal([]);
    expect([...used].filter((a) => !allowedActions(policy).has(a))).to.deep.equal([]);
    for (const s of policy.Statement) {
      if (s.Action.every((a) => /:(Describe|Get|List)/.test(a))) continue;
      expect(s.Condition !== undefined || s.Sid in UNCONDITIONED_BY_DESIGN, s.Sid).to.equal(true);
      expect(s.Resource, s.Sid).to.not.include('*');
    }
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).to.equal(true);
    // AWS's own documents (empty account segment) match no Resource of the policy, with or without --account.
    for (const p of [policy, iamPolicy(P.ClusterName)]) {
      const glob = (pat: string) => new RegExp(`^${pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      const resources = p.Statement.filter((s) => s.Action.includes('ssm:SendCommand')).flatMap((s) => [s.Resource].flat());
      for (const d of ['AWS-RunShellScript', 'AWS-RunPowerShellScript', 'AWS-RunRemoteScript']) {
        expect(resources.filter((r) => glob(r).test(`arn:aws:ssm:${P.Region}::document/${d}`)), d).to.deep.equal([]);
      }
    }
    expect(new Set(policy.Statement.map((s) => s.Sid)).size).to.equal(policy.Statement.length);
  });

  it('fills every placeholder; keeps the old API (iamPolicy(cluster), allowedActions())', () => {
    const text = JSON.stringify(iamPolicy('prod-eks', pinned));
    expect(text).to.not.match(/\$\{(ClusterName|VpcId|Region|Account)\}/);
    expect(text.match(/\$\{[^}]*\}/g)).to.deep.equal(['${aws:PrincipalAccount}']);
    const loose = JSON.stringify(iamPolicy('prod-eks'));
    expect(loose).to.contain('kubernetes.io/cluster/prod-eks').and.not.match(/\$\{(ClusterName|VpcId|Region|Account)\}/);
    expect(JSON.stringify(iamPolicy())).to.contain('${ClusterName}');
    for (const a of ['ec2:StopInstances', 'ec2:StartInstances', 'ec2:CreateNetworkAcl', 'ec2:ReplaceNetworkAclAssociation', 'ec2:DeleteNetworkAcl', 'ssm:SendCommand', 'autoscaling:SuspendProcesses', 'sts:GetCallerIdentity', 'kms:CreateGrant']) {
      expect(allowedActions().has(a), a).to.equal(true);
    }
    expect(() => iamPolicy('prod eks')).to.throw(/cluster name/);
    expect(() => iamPolicy('prod', { vpcId: 'vpc-x' })).to.throw(/VPC id/);
  });
});
