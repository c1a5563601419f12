// examples/iam/chaos-harness.yaml: generated from the harness's own policy statements and SSM
// documents (the file must be what examples/iam/generate.ts writes), the same policy `chaos iam-policy`
// prints once CloudFormation has substituted it, and clean under cfn-lint (pinned, installed by
// .ci/install-iam-tools.sh into its own venv).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { renderTemplate, TEMPLATE_FILE } from '../../examples/iam/generate.js';
import { HARNESS_DOCUMENTS } from '../../harness/aws/ssm-documents.js';
import { iamPolicy } from '../../harness/iam/index.js';
import { REPO_ROOT } from '../../lab/paths.js';

const INSTALL = path.join(REPO_ROOT, '.ci/install-iam-tools.sh');
const PINNED = /CFN_LINT_VERSION=(\S+)/.exec(fs.readFileSync(INSTALL, 'utf8'))![1];
const VENV = process.env.IAM_TOOLS_VENV ?? path.join(os.homedir(), '.cache/k8s-chaos-harness/venv-iam');
const CFN_LINT = path.join(VENV, 'bin/cfn-lint');

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/** Fn::Sub as CloudFormation evaluates it, for a string and a variable map. */
function sub(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(!?)([^}]+)\}/g, (m, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    if (!(name in vars)) throw new Error(`Fn::Sub: unresolved \${${name}}`);
    return vars[name];
  });
}

function cfnLint(file: string) {
  if (!fs.existsSync(CFN_LINT)) throw new Error(`cfn-lint is not installed (looked for ${CFN_LINT}); install it with: bash .ci/install-iam-tools.sh`);
  const v = spawnSync(CFN_LINT, ['--version'], { encoding: 'utf8' });
  if (v.stdout.trim() !== `cfn-lint ${PINNED}`) throw new Error(`cfn-lint at ${CFN_LINT} is "${(v.stdout || v.stderr).trim()}", not the pinned ${PINNED}; install it with: bash .ci/install-iam-tools.sh`);
  return spawnSync(CFN_LINT, ['--format', 'parseable', file], { encoding: 'utf8' });
}

describe('IAM CloudFormation template', function () {
  this.timeout(120_000);
  const text = fs.readFileSync(TEMPLATE_FILE, 'utf8');
  const t = YAML.parse(text) as Template;

  it('is exactly what examples/iam/generate.ts writes from the policy statements and the SSM documents', () => {
    expect(text === renderTemplate(), 'examples/iam/chaos-harness.yaml is stale: run `npx tsx examples/iam/generate.ts`').to.equal(true);
  });

  it('its role policy, substituted, is the policy `chaos iam-policy --cluster C --vpc V --region R --account A` prints', () => {
    const role = t.Resources.HarnessRole;
    expect(role.Type).to.equal('AWS::IAM::Role');
    const policies = role.Properties.Policies as Array<{ PolicyDocument: { 'Fn::Sub': string } }>;
    expect(policies).to.have.length(1);
    const vars = { ClusterName: 'prod-eks', VpcId: 'vpc-0a1b2c3d4e5f60718', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '111122223333' };
    const got = JSON.parse(sub(policies[0].PolicyDocument['Fn::Sub'], vars));
    expect(got).to.deep.equal(iamPolicy('prod-eks', { vpcId: vars.VpcId, region: vars['AWS::Region'], account: vars['AWS::AccountId'] }));
    expect(JSON.stringify(got)).to.not.contain('ssm:UpdateDocument').and.not.contain('AWS-RunShellScript');
  });

  it('trusts one ServiceAccount through the cluster\'s OIDC provider (IRSA)', () => {
    const trust = t.Resources.HarnessRole.Properties.AssumeRolePolicyDocument as { 'Fn::Sub': [string, Record<string, unknown>] };
    const arn = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    const issuer = arn.split('oidc-provider/')[1];
    expect(trust['Fn::Sub'][1]).to.deep.equal({ OidcIssuer: { 'Fn::Select': [1, { 'Fn::Split': ['oidc-provider/', { Ref: 'OidcProviderArn' }] }] } });
    const doc = JSON.parse(sub(trust['Fn::Sub'][0], { OidcProviderArn: arn, OidcIssuer: issuer, ServiceAccountNamespace: 'chaos', ServiceAccountName: 'chaos-harness' }));
    expect(doc.Statement).to.deep.equal([{
      Sid: 'ServiceAccountOfTheClusterOnly', Effect: 'Allow', Principal: { Federated: arn }, Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${issuer}:sub`]: 'system:serviceaccount:chaos:chaos-harness', [`${issuer}:aud`]: 'sts.amazonaws.com' } },
    }]);
  });

  it('ships the harness SSM documents with the content the harness installs and checks', () => {
    const docs = Object.values(t.Resources).filter((r) => r.Type === 'AWS::SSM::Document');
    expect(docs.map((d) => d.Properties.Name)).to.deep.equal(HARNESS_DOCUMENTS.map((d) => d.name));
    for (const d of docs) {
      const ours = HARNESS_DOCUMENTS.find((x) => x.name === d.Properties.Name)!;
      expect(d.Properties.Content, ours.name).to.deep.equal(ours.content);
      expect([d.Properties.DocumentType, d.Properties.UpdateMethod]).to.deep.equal(['Command', 'NewVersion']);
    }
  });

  it(`passes cfn-lint ${PINNED} (and cfn-lint does fail a broken copy)`, () => {
    const r = cfnLint(TEMPLATE_FILE);
    expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-cfn-'));
    try {
      const broken = YAML.parse(text) as Template;
      (broken.Resources.HarnessRole.Properties as Record<string, unknown>).MaxSessionDuration = 'an hour';
      fs.writeFileSync(path.join(dir, 'broken.yaml'), YAML.stringify(broken, { aliasDuplicateObjects: false }));
      const b = cfnLint(path.join(dir, 'broken.yaml'));
      expect(b.status).to.not.equal(0);
      expect(b.stdout).to.match(/:E3012:'an hour' is not of type 'integer'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
