// The CloudFormation template that ships the harness's run role and its SSM documents
// (examples/iam/chaos-harness.yaml), built from the same data as `chaos iam-policy` and
// `chaos install-documents`: harness/iam/statements.ts and harness/aws/ssm-documents.ts.
// examples/iam/generate.ts writes the YAML; test/unit/iam-cloudformation.test.ts checks the file is
// what this produces and lints it with cfn-lint.
//
// The role trusts the cluster's OIDC provider for one Kubernetes ServiceAccount (IRSA). Its policy
// names the cluster in condition *keys* (aws:ResourceTag/kubernetes.io/cluster/NAME), which
// CloudFormation cannot substitute in a mapping key, so the policy and the trust are JSON strings
// under Fn::Sub; IAM's own ${aws:…} variables are escaped as ${!aws:…}.
import { HARNESS_DOCUMENTS } from '../aws/ssm-documents.js';
import { allGroups } from './index.js';
import type { IamStatement } from './statements.js';

const LOGICAL_IDS: Record<string, string> = {
  'ChaosHarness-DaemonStop': 'DaemonStopDocument',
  'ChaosHarness-DaemonKill': 'DaemonKillDocument',
  'ChaosHarness-DaemonRestore': 'DaemonRestoreDocument',
};

/** statements.ts placeholders → CloudFormation: parameters stay, region/account become pseudo parameters. */
export function toSub(text: string): string {
  return text
    .replace(/\$\{(aws:[^}]+)\}/g, '$${!$1}')
    .replace(/\$\{Region\}/g, '$${AWS::Region}')
    .replace(/\$\{Account\}/g, '$${AWS::AccountId}');
}

export function runRolePolicyText(groups: IamStatement[][] = allGroups()): string {
  return toSub(JSON.stringify({ Version: '2012-10-17', Statement: groups.flat() }, null, 2));
}

export const TRUST_POLICY_TEXT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{
    Sid: 'ServiceAccountOfTheClusterOnly',
    Effect: 'Allow',
    Principal: { Federated: '${OidcProviderArn}' },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: {
      StringEquals: {
        '${OidcIssuer}:sub': 'system:serviceaccount:${ServiceAccountNamespace}:${ServiceAccountName}',
        '${OidcIssuer}:aud': 'sts.amazonaws.com',
      },
    },
  }],
}, null, 2);

export function cloudFormationTemplate(): Record<string, unknown> {
  const documents = Object.fromEntries(HARNESS_DOCUMENTS.map((d) => [LOGICAL_IDS[d.name], {
    Type: 'AWS::SSM::Document',
    Condition: 'InstallDocuments',
    Properties: {
      Name: d.name,
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      UpdateMethod: 'NewVersion',
      Content: d.content,
      Tags: [{ Key: 'chaos:managed-by', Value: 'k8s-chaos-harness' }],
    },
  }]));
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'k8s-chaos-harness: the least-privilege run role (IRSA) for one EKS cluster and the harness SSM documents',
    Parameters: {
      ClusterName: { Type: 'String', Description: 'The EKS cluster name (nodes, subnets and node groups carry kubernetes.io/cluster/NAME = owned or shared)', AllowedPattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$' },
      VpcId: { Type: 'AWS::EC2::VPC::Id', Description: 'The cluster VPC: the only VPC whose subnets and network ACLs the role may touch' },
      OidcProviderArn: {
        Type: 'String',
        Description: 'The cluster\'s IAM OIDC provider, arn:aws:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com/id/ID',
        AllowedPattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$',
      },
      ServiceAccountNamespace: { Type: 'String', Default: 'chaos', Description: 'Namespace of the harness ServiceAccount', AllowedPattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
      ServiceAccountName: { Type: 'String', Default: 'chaos-harness', Description: 'Name of the harness ServiceAccount', AllowedPattern: '^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$' },
      InstallDocuments: { Type: 'String', Default: 'true', AllowedValues: ['true', 'false'], Description: 'Create the SSM documents (one set per account and region: false for a second cluster\'s stack)' },
    },
    Conditions: { InstallDocuments: { 'Fn::Equals': [{ Ref: 'InstallDocuments' }, 'true'] } },
    Resources: {
      HarnessRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Description: { 'Fn::Sub': 'k8s-chaos-harness run role for EKS cluster ${ClusterName}' },
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            'Fn::Sub': [TRUST_POLICY_TEXT, { OidcIssuer: { 'Fn::Select': [1, { 'Fn::Split': ['oidc-provider/', { Ref: 'OidcProviderArn' }] }] } }],
          },
          Policies: [{ PolicyName: 'k8s-chaos-harness', PolicyDocument: { 'Fn::Sub': runRolePolicyText() } }],
          Tags: [{ Key: 'chaos:managed-by', Value: 'k8s-chaos-harness' }, { Key: 'chaos:cluster', Value: { Ref: 'ClusterName' } }],
        },
      },
      ...documents,
    },
    Outputs: {
      RoleArn: { Description: 'Annotate the harness ServiceAccount with eks.amazonaws.com/role-arn: this', Value: { 'Fn::GetAtt': ['HarnessRole', 'Arn'] } },
    },
  };
}
