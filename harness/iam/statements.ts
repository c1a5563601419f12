// The harness's IAM policy, grouped by who needs it: COMMON (read-only discovery and the account
// check), NODE_STOP, DAEMON_KILL, AZ_BLACKHOLE, and INSTALL_DOCUMENTS (the admin's
// `chaos install-documents`, never part of the run role: a role that may rewrite its own documents
// may run anything). Each group holds its statements and the requests the harness really makes
// (action, resource ARN, the request context AWS builds for it), so a fault module can declare
// `iam: { statements, requests }` and test/unit/iam-policy.test.ts can prove with an independent IAM
// simulator that every request is allowed and that the misuses it lists are denied.
//
// Placeholders, filled by iamPolicy() (harness/iam/index.ts) or by CloudFormation (!Sub):
//   ${ClusterName}  the EKS cluster name (tag kubernetes.io/cluster/NAME = owned | shared)
//   ${VpcId}        the cluster's VPC (`*` when unknown: then subnets and ACLs are confined by tags
//                   and the account only; see policyCaveats)
//   ${Region}       the cluster's region (`*` when unknown)
//   ${Account}      the account id (`*` when unknown: EC2 and Auto Scaling resources of other accounts are
//                   out of reach anyway; the documents are pinned to the caller's account by condition)
// Statement conditions follow the Service Authorization Reference (checked against the simulator's
// copy of it: a request context key that does not apply to its action and resource type fails the test).
import { MANAGED_BY, TAG } from '../faults/types.js';
import { DOCUMENT_NAMES } from '../aws/ssm-documents.js';

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface IamStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: ConditionBlock;
}

export type RequestPhase = 'discover' | 'check' | 'dry-run' | 'inject' | 'revert' | 'recover' | 'install';

/** One authorization AWS performs for a call the harness makes: one action on one resource. */
export interface IamRequest {
  /** what the harness is doing */
  what: string;
  when: RequestPhase[];
  action: string;
  /** the resource ARN (`*` for actions without resource-level permissions), with placeholders */
  resource: string;
  /** the request context AWS builds for this action and resource (keys and values may hold placeholders) */
  context: Record<string, string | string[]>;
}

export interface IamGroup { name: string; statements: IamStatement[]; requests: IamRequest[] }

// ---- building blocks ----
export const CLUSTER_TAG = 'kubernetes.io/cluster/${ClusterName}';
const CLUSTER_TAG_VALUES = ['owned', 'shared'];
const ARN_EC2 = 'arn:aws:ec2:${Region}:${Account}';
const VPC_ARN = `${ARN_EC2}:vpc/\${VpcId}`;
const INSTANCE_ARNS = `${ARN_EC2}:instance/*`;
const SUBNET_ARNS = `${ARN_EC2}:subnet/*`;
const ACL_ARNS = `${ARN_EC2}:network-acl/*`;
const ASG_ARNS = 'arn:aws:autoscaling:${Region}:${Account}:autoScalingGroup:*:autoScalingGroupName/*';
export const documentArn = (name: string) => `arn:aws:ssm:\${Region}:\${Account}:document/${name}`;
const HARNESS_DOCUMENT_ARNS = Object.values(DOCUMENT_NAMES).map(documentArn);
/** Tag keys the harness puts on instances it stops, and removes again. */
export const INSTANCE_TAG_KEYS = [TAG.stoppedBy, TAG.expiresAt];
export const ASG_TAG_KEYS = [TAG.suspendedBy, TAG.suspendedProcesses, TAG.expiresAt];
/** Tag keys the harness puts on the black-hole ACL when it creates it. */
const ACL_TAG_KEY_PATTERNS = ['Name', 'chaos:*'];

const clusterTagged = (key: 'aws:ResourceTag' | 'autoscaling:ResourceTag' | 'ssm:resourceTag') => ({ StringLike: { [`${key}/${CLUSTER_TAG}`]: CLUSTER_TAG_VALUES } });
const inClusterVpc = { ArnLike: { 'ec2:Vpc': VPC_ARN } };
const harnessAclTags = (key: 'aws:RequestTag' | 'aws:ResourceTag') => ({ [`${key}/${TAG.managedBy}`]: MANAGED_BY, [`${key}/${TAG.cluster}`]: '${ClusterName}' });

// ---- sample resources for the requests (any ids of the same shape) ----
const INSTANCE = `${ARN_EC2}:instance/i-0a1b2c3d4e5f60718`;
const SUBNET = `${ARN_EC2}:subnet/subnet-0a1b2c3d4e5f60718`;
const ORIGINAL_ACL = `${ARN_EC2}:network-acl/acl-0a1b2c3d4e5f60718`;
const HARNESS_ACL = `${ARN_EC2}:network-acl/acl-0c4a5e6f7081928a3`;
const ASG = 'arn:aws:autoscaling:${Region}:${Account}:autoScalingGroup:6d5af669-6c6b-4b8a-9e0e-2b7c1a0f3e11:autoScalingGroupName/eks-ng-a-0a1b2c3d';
const KMS_KEY = 'arn:aws:kms:${Region}:${Account}:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const RUN_ID = 'chaos-20260101t000000z-a1b2c3';
const EXPIRES = '2026-01-01T00:30:00.000Z';
/** EC2 puts a resource's tags in the context twice: aws:ResourceTag/K and ec2:ResourceTag/K. */
export const ec2ResourceTags = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).flatMap(([k, v]) => [[`aws:ResourceTag/${k}`, v], [`ec2:ResourceTag/${k}`, v]]));
export const requestTags = (tags: Record<string, string>) => ({ ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(tags) });
const clusterInstance = { ...ec2ResourceTags({ [CLUSTER_TAG]: 'owned', 'eks:cluster-name': '${ClusterName}' }), 'ec2:AvailabilityZone': '${Region}a' };
const clusterSubnet = { ...ec2ResourceTags({ [CLUSTER_TAG]: 'shared' }), 'ec2:Vpc': VPC_ARN, 'ec2:AvailabilityZone': '${Region}a' };
const SUBNET_ID = 'subnet-0a1b2c3d4e5f60718';
export const HARNESS_ACL_TAGS: Record<string, string> = {
  Name: `chaos-blackhole-\${Region}a-${RUN_ID}`, [TAG.managedBy]: MANAGED_BY, [TAG.runId]: RUN_ID, [TAG.cluster]: '${ClusterName}', [TAG.expiresAt]: EXPIRES,
  [`${TAG.restorePrefix}${SUBNET_ID}`]: 'acl-0a1b2c3d4e5f60718',
};
const harnessAcl = { ...ec2ResourceTags(HARNESS_ACL_TAGS), 'ec2:Vpc': VPC_ARN };
const originalAcl = { 'ec2:Vpc': VPC_ARN };

// ---- COMMON: read-only discovery and the account check ----
export const COMMON: IamStatement[] = [
  {
    // EC2 Describe* calls support no resource-level permissions: "*" is the only resource they take.
    Sid: 'ReadOnlyDiscovery',
    Effect: 'Allow',
    Action: ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeNetworkAcls', 'ec2:DescribeNetworkInterfaces'],
    Resource: ['*'],
  },
  {
    // GetCallerIdentity needs no permission (AWS answers it even under an explicit deny); listed so the
    // account check is visible in the policy.
    Sid: 'AccountCheck',
    Effect: 'Allow',
    Action: ['sts:GetCallerIdentity'],
    Resource: ['*'],
  },
];

export const COMMON_REQUESTS: IamRequest[] = [
  { what: 'account check before anything', when: ['check'], action: 'sts:GetCallerIdentity', resource: '*', context: {} },
  { what: 'nodes → instances, cluster tag and account check; revert waits for states; recover finds stopped instances', when: ['discover', 'revert', 'recover'], action: 'ec2:DescribeInstances', resource: '*', context: {} },
  { what: 'subnets of a zone', when: ['discover'], action: 'ec2:DescribeSubnets', resource: '*', context: {} },
  { what: 'IPv6 of the VPC', when: ['discover'], action: 'ec2:DescribeVpcs', resource: '*', context: {} },
  { what: 'ACL associations; recover finds harness ACLs by tag', when: ['discover', 'revert', 'recover'], action: 'ec2:DescribeNetworkAcls', resource: '*', context: {} },
  { what: 'the zone of each address the probes sent to (end of the run)', when: ['discover'], action: 'ec2:DescribeNetworkInterfaces', resource: '*', context: {} },
];

// ---- NODE_STOP ----
export const NODE_STOP: IamStatement[] = [
  {
    Sid: 'NodeStopAutoScalingDiscovery',
    Effect: 'Allow',
    Action: ['autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeAutoScalingGroups'],
    Resource: ['*'],
  },
  {
    Sid: 'StopStartClusterInstancesOnly',
    Effect: 'Allow',
    Action: ['ec2:StopInstances', 'ec2:StartInstances'],
    Resource: [INSTANCE_ARNS],
    Condition: clusterTagged('aws:ResourceTag'),
  },
  {
    // Only the harness's two marker tags, only on the cluster's instances: it cannot add or remove the
    // cluster tag (or any other) to pull a foreign instance in or push one out.
    Sid: 'MarkClusterInstancesWithHarnessTagsOnly',
    Effect: 'Allow',
    Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
    Resource: [INSTANCE_ARNS],
    Condition: { ...clusterTagged('aws:ResourceTag'), 'ForAllValues:StringEquals': { 'aws:TagKeys': INSTANCE_TAG_KEYS } },
  },
  {
    // StartInstances of an instance with EBS volumes under a customer managed key: EC2 creates a KMS
    // grant on the caller's behalf. Only through EC2 (kms:ViaService) and only for AWS resources.
    Sid: 'StartInstancesWithCustomerManagedKeyVolumes',
    Effect: 'Allow',
    Action: ['kms:CreateGrant'],
    Resource: ['arn:aws:kms:${Region}:*:key/*'],
    Condition: { StringLike: { 'kms:ViaService': 'ec2.${Region}.amazonaws.com' }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
  },
  {
    // autoscaling:ResourceTag/${TagKey}: the condition key the Service Authorization Reference lists
    // for SuspendProcesses / ResumeProcesses on autoScalingGroup (EKS node groups carry the cluster tag).
    Sid: 'SuspendResumeClusterGroupsOnly',
    Effect: 'Allow',
    Action: ['autoscaling:SuspendProcesses', 'autoscaling:ResumeProcesses'],
    Resource: [ASG_ARNS],
    Condition: clusterTagged('autoscaling:ResourceTag'),
  },
  {
    // A suspension is marked on the group (found and resumed by `recover` without a journal): only the
    // harness's own keys, only on the cluster's groups.
    Sid: 'MarkClusterGroupsWithHarnessTagsOnly',
    Effect: 'Allow',
    Action: ['autoscaling:CreateOrUpdateTags', 'autoscaling:DeleteTags'],
    Resource: [ASG_ARNS],
    Condition: { ...clusterTagged('autoscaling:ResourceTag'), 'ForAllValues:StringEquals': { 'aws:TagKeys': ASG_TAG_KEYS } },
  },
];

const asgContext = { [`autoscaling:ResourceTag/${CLUSTER_TAG}`]: 'owned', [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned' };
export const NODE_STOP_REQUESTS: IamRequest[] = [
  { what: 'instances → Auto Scaling groups', when: ['discover'], action: 'autoscaling:DescribeAutoScalingInstances', resource: '*', context: {} },
  { what: 'suspended processes before suspending', when: ['inject'], action: 'autoscaling:DescribeAutoScalingGroups', resource: '*', context: {} },
  { what: 'suspend HealthCheck, ReplaceUnhealthy', when: ['inject'], action: 'autoscaling:SuspendProcesses', resource: ASG, context: asgContext },
  { what: 'resume them', when: ['revert', 'recover'], action: 'autoscaling:ResumeProcesses', resource: ASG, context: asgContext },
  { what: 'mark the suspension on the group', when: ['inject'], action: 'autoscaling:CreateOrUpdateTags', resource: ASG, context: { ...asgContext, 'aws:TagKeys': ASG_TAG_KEYS, ...Object.fromEntries(ASG_TAG_KEYS.map((k) => [`aws:RequestTag/${k}`, 'x'])) } },
  { what: 'remove the mark', when: ['revert', 'recover'], action: 'autoscaling:DeleteTags', resource: ASG, context: { ...asgContext, 'aws:TagKeys': ASG_TAG_KEYS } },
  { what: 'groups a crashed run left suspended (by tag)', when: ['recover'], action: 'autoscaling:DescribeAutoScalingGroups', resource: '*', context: {} },
  { what: 'tag chaos:stopped-by before stopping', when: ['inject'], action: 'ec2:CreateTags', resource: INSTANCE, context: { ...clusterInstance, ...requestTags({ [TAG.stoppedBy]: RUN_ID, [TAG.expiresAt]: EXPIRES }) } },
  { what: 'DryRun CreateTags chaos:stopped-by', when: ['dry-run'], action: 'ec2:CreateTags', resource: INSTANCE, context: { ...clusterInstance, ...requestTags({ [TAG.stoppedBy]: RUN_ID }) } },
  { what: 'stop the node', when: ['inject', 'dry-run'], action: 'ec2:StopInstances', resource: INSTANCE, context: clusterInstance },
  { what: 'start it again', when: ['revert', 'recover', 'dry-run'], action: 'ec2:StartInstances', resource: INSTANCE, context: clusterInstance },
  {
    what: 'EC2 creates a grant for a CMK-encrypted volume while starting it', when: ['revert', 'recover'], action: 'kms:CreateGrant', resource: KMS_KEY,
    context: { 'kms:ViaService': 'ec2.${Region}.amazonaws.com', 'kms:GrantIsForAWSResource': 'true', 'kms:CallerAccount': '${Account}' },
  },
  { what: 'remove chaos:stopped-by, chaos:expires-at', when: ['revert', 'recover'], action: 'ec2:DeleteTags', resource: INSTANCE, context: { ...clusterInstance, 'aws:TagKeys': INSTANCE_TAG_KEYS } },
];

// ---- DAEMON_KILL ----
export const DAEMON_KILL: IamStatement[] = [
  {
    Sid: 'DaemonKillSsmDiscovery',
    Effect: 'Allow',
    // ListCommands: before resending a command whose SendCommand failed on the network, the harness
    // looks for it by its comment (it may have been delivered)
    Action: ['ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation', 'ssm:ListCommands'],
    Resource: ['*'],
  },
  {
    // The harness checks its documents are installed and unmodified before it sends them.
    Sid: 'ReadHarnessDocuments',
    Effect: 'Allow',
    Action: ['ssm:DescribeDocument', 'ssm:GetDocument'],
    Resource: HARNESS_DOCUMENT_ARNS,
  },
  {
    // SendCommand authorizes the document and every instance. The documents: only the harness's own
    // three, by name, of the caller's own account (never AWS-RunShellScript, never a document another
    // account shares under the same name, also when the policy is made without --account); SSM
    // validates their parameters.
    Sid: 'SendHarnessDocumentsOnly',
    Effect: 'Allow',
    Action: ['ssm:SendCommand'],
    Resource: HARNESS_DOCUMENT_ARNS,
    Condition: { StringEquals: { 'aws:ResourceAccount': '${aws:PrincipalAccount}' } },
  },
  {
    // ssm:resourceTag/${TagKey}: the key SSM documents for limiting Run Command to tagged instances.
    Sid: 'SendCommandToClusterInstancesOnly',
    Effect: 'Allow',
    Action: ['ssm:SendCommand'],
    Resource: [INSTANCE_ARNS],
    Condition: clusterTagged('ssm:resourceTag'),
  },
];

const ssmInstance = { [`ssm:resourceTag/${CLUSTER_TAG}`]: 'owned', [`aws:ResourceTag/${CLUSTER_TAG}`]: 'owned' };
export const DAEMON_KILL_REQUESTS: IamRequest[] = [
  { what: 'SSM PingStatus of the nodes', when: ['check', 'revert', 'recover'], action: 'ssm:DescribeInstanceInformation', resource: '*', context: {} },
  ...Object.values(DOCUMENT_NAMES).flatMap((n): IamRequest[] => [
    { what: `${n} is installed`, when: ['check', 'install'], action: 'ssm:DescribeDocument', resource: documentArn(n), context: {} },
    { what: `${n} is unmodified`, when: ['check', 'install'], action: 'ssm:GetDocument', resource: documentArn(n), context: {} },
  ]),
  { what: 'systemctl stop a daemon (document)', when: ['inject'], action: 'ssm:SendCommand', resource: documentArn(DOCUMENT_NAMES.stop), context: {} },
  { what: 'SIGKILL a daemon (document)', when: ['inject'], action: 'ssm:SendCommand', resource: documentArn(DOCUMENT_NAMES.kill), context: {} },
  { what: 'start the daemon again (document)', when: ['revert', 'recover'], action: 'ssm:SendCommand', resource: documentArn(DOCUMENT_NAMES.restore), context: {} },
  { what: 'send to a cluster node', when: ['inject', 'revert', 'recover'], action: 'ssm:SendCommand', resource: INSTANCE, context: ssmInstance },
  { what: 'wait for the invocation', when: ['inject', 'revert', 'recover'], action: 'ssm:GetCommandInvocation', resource: '*', context: {} },
  { what: 'was a failed SendCommand delivered after all? (by its comment)', when: ['inject', 'revert', 'recover'], action: 'ssm:ListCommands', resource: '*', context: {} },
];

// ---- AZ_BLACKHOLE ----
export const AZ_BLACKHOLE: IamStatement[] = [
  {
    // What the black-hole cuts: every ENI in the chosen subnets (and the subnets of the nodes' ENIs), and the
    // service of each interface endpoint among them. Describe* take no resource-level permissions: "*".
    Sid: 'AzBlackholeEniDiscovery',
    Effect: 'Allow',
    Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcEndpoints'],
    Resource: ['*'],
  },
  {
    // CreateNetworkAcl authorizes the VPC too: only the cluster's.
    Sid: 'CreateAclsInClusterVpcOnly',
    Effect: 'Allow',
    Action: ['ec2:CreateNetworkAcl'],
    Resource: [VPC_ARN],
  },
  {
    // Every ACL the role creates carries the harness's tags, so it is found and swept by tag.
    Sid: 'CreateAclsOnlyWithHarnessTags',
    Effect: 'Allow',
    Action: ['ec2:CreateNetworkAcl'],
    Resource: [ACL_ARNS],
    Condition: { StringEquals: harnessAclTags('aws:RequestTag'), 'ForAllValues:StringLike': { 'aws:TagKeys': ACL_TAG_KEY_PATTERNS } },
  },
  {
    // Tags only while CreateNetworkAcl creates the ACL (ec2:CreateAction): the role can never put the
    // harness's tags on an existing ACL (and then delete it), or on anything else.
    Sid: 'TagAclsOnlyAtCreation',
    Effect: 'Allow',
    Action: ['ec2:CreateTags'],
    Resource: [ACL_ARNS],
    Condition: { StringEquals: { 'ec2:CreateAction': 'CreateNetworkAcl', ...harnessAclTags('aws:RequestTag') }, 'ForAllValues:StringLike': { 'aws:TagKeys': ACL_TAG_KEY_PATTERNS } },
  },
  {
    // ReplaceNetworkAclAssociation authorizes the subnet (of the association) and the ACL it moves to:
    // the subnet must be the cluster's (tag) in the cluster's VPC ...
    Sid: 'SwapClusterSubnetsOnly',
    Effect: 'Allow',
    Action: ['ec2:ReplaceNetworkAclAssociation'],
    Resource: [SUBNET_ARNS],
    Condition: { ...clusterTagged('aws:ResourceTag'), ...inClusterVpc },
  },
  {
    // ... and the ACL one of the cluster VPC's: the harness's black-hole ACL on inject, the subnet's
    // original ACL (untagged, often the default ACL) on revert, so no tag condition can tell them apart.
    Sid: 'SwapOntoAclsOfClusterVpcOnly',
    Effect: 'Allow',
    Action: ['ec2:ReplaceNetworkAclAssociation'],
    Resource: [ACL_ARNS],
    Condition: inClusterVpc,
  },
  {
    // Only ACLs the harness created for this cluster (tags set at creation only, see TagAclsOnlyAtCreation).
    Sid: 'DeleteHarnessAclsOnly',
    Effect: 'Allow',
    Action: ['ec2:DeleteNetworkAcl'],
    Resource: [ACL_ARNS],
    Condition: { StringEquals: harnessAclTags('aws:ResourceTag'), ...inClusterVpc },
  },
];

const NEW_ACL = `${ARN_EC2}:network-acl/acl-0ffffffffffffffff`;
export const AZ_BLACKHOLE_REQUESTS: IamRequest[] = [
  { what: 'the ENIs of the zone\'s nodes, and every ENI in the subnets to cut', when: ['discover'], action: 'ec2:DescribeNetworkInterfaces', resource: '*', context: {} },
  { what: 'the service of each interface VPC endpoint in them', when: ['discover'], action: 'ec2:DescribeVpcEndpoints', resource: '*', context: {} },
  { what: 'create the black-hole ACL in the cluster VPC', when: ['inject', 'dry-run'], action: 'ec2:CreateNetworkAcl', resource: VPC_ARN, context: { 'ec2:VpcID': '${VpcId}' } },
  { what: 'create it with the harness tags', when: ['inject', 'dry-run'], action: 'ec2:CreateNetworkAcl', resource: NEW_ACL, context: requestTags(HARNESS_ACL_TAGS) },
  { what: 'tag it at creation (TagSpecifications)', when: ['inject', 'dry-run'], action: 'ec2:CreateTags', resource: NEW_ACL, context: { 'ec2:CreateAction': 'CreateNetworkAcl', ...requestTags(HARNESS_ACL_TAGS) } },
  { what: 'swap a cluster subnet ...', when: ['inject', 'revert', 'recover', 'dry-run'], action: 'ec2:ReplaceNetworkAclAssociation', resource: SUBNET, context: clusterSubnet },
  { what: '... onto the black-hole ACL', when: ['inject'], action: 'ec2:ReplaceNetworkAclAssociation', resource: HARNESS_ACL, context: harnessAcl },
  { what: '... back onto its original ACL (DryRun: onto the one it is on)', when: ['revert', 'recover', 'dry-run'], action: 'ec2:ReplaceNetworkAclAssociation', resource: ORIGINAL_ACL, context: originalAcl },
  { what: 'delete the black-hole ACL', when: ['revert', 'recover'], action: 'ec2:DeleteNetworkAcl', resource: HARNESS_ACL, context: harnessAcl },
];

// ---- INSTALL_DOCUMENTS: the admin's `chaos install-documents`, not the run role ----
export const INSTALL_DOCUMENTS: IamStatement[] = [
  {
    Sid: 'InstallHarnessDocumentsOnly',
    Effect: 'Allow',
    Action: ['ssm:DescribeDocument', 'ssm:GetDocument', 'ssm:CreateDocument', 'ssm:UpdateDocument', 'ssm:UpdateDocumentDefaultVersion'],
    Resource: HARNESS_DOCUMENT_ARNS,
  },
];

export const INSTALL_DOCUMENTS_REQUESTS: IamRequest[] = Object.values(DOCUMENT_NAMES).flatMap((n): IamRequest[] => [
  { what: `create ${n}`, when: ['install'], action: 'ssm:CreateDocument', resource: documentArn(n), context: { 'ssm:DocumentType': 'Command' } },
  { what: `new version of ${n}`, when: ['install'], action: 'ssm:UpdateDocument', resource: documentArn(n), context: { 'ssm:DocumentType': 'Command' } },
  { what: `make it the default`, when: ['install'], action: 'ssm:UpdateDocumentDefaultVersion', resource: documentArn(n), context: { 'ssm:DocumentType': 'Command' } },
]);

export const COMMON_GROUP: IamGroup = { name: 'common', statements: COMMON, requests: COMMON_REQUESTS };
export const INSTALL_GROUP: IamGroup = { name: 'install-documents', statements: INSTALL_DOCUMENTS, requests: INSTALL_DOCUMENTS_REQUESTS };

/**
 * Statements that change something and carry no Condition, each with why: their Resource names the
 * exact resources (the cluster VPC; the installer's three documents).
 */
export const UNCONDITIONED_BY_DESIGN: Record<string, string> = {
  CreateAclsInClusterVpcOnly: 'the resource is the cluster VPC by ARN (with --vpc); the new ACL itself is conditioned by CreateAclsOnlyWithHarnessTags',
  InstallHarnessDocumentsOnly: 'the resources are the three harness documents by ARN; for the admin installing them, not the run role',
};

export interface Placeholders { ClusterName: string; VpcId: string; Region: string; Account: string }

/** Fills ${ClusterName}, ${VpcId}, ${Region}, ${Account} in strings, arrays and object keys; leaves ${aws:…} alone. */
export function fill<T>(v: T, p: Placeholders): T {
  const s = (x: string) => x.replace(/\$\{(ClusterName|VpcId|Region|Account)\}/g, (_, k: keyof Placeholders) => p[k]);
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') return s(x);
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [s(k), walk(y)]));
    return x;
  };
  return walk(v) as T;
}
