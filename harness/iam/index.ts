// The least-privilege IAM policy the harness needs: the shared read-only discovery below plus the
// statements each fault kind declares in its module (derived from the registry), with tag
// conditions on every changing action in the spirit of AWS FIS's own policies.
import { faults as registry, type FaultRegistry, type IamStatement } from '../faults/index.js';

export interface PolicyDoc { Version: '2012-10-17'; Statement: IamStatement[] }

/** What every run reads (discovery, the pre-run sweep, SSM status): no changes. */
export const COMMON_IAM: IamStatement[] = [
  {
    Sid: 'ReadOnlyDiscovery',
    Effect: 'Allow',
    Action: [
      'ec2:DescribeInstances',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
      'ec2:DescribeNetworkAcls',
      'ec2:DescribeTags',
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeAutoScalingInstances',
      'ssm:DescribeInstanceInformation',
      'ssm:GetCommandInvocation',
      'ssm:ListCommandInvocations',
    ],
    Resource: '*',
  },
];

/** The policy for `cluster`: common statements, then each registered kind's (statements with the same Sid merged once). */
export function iamPolicy(cluster = '${ClusterName}', faults: FaultRegistry = registry): PolicyDoc {
  const seen = new Map<string, IamStatement>();
  for (const st of [...COMMON_IAM, ...faults.list().flatMap((k) => k.iam)]) {
    const prev = seen.get(st.Sid);
    if (prev && JSON.stringify(prev) !== JSON.stringify(st)) throw new Error(`IAM statement ${st.Sid} is declared twice with different contents`);
    seen.set(st.Sid, st);
  }
  const text = JSON.stringify({ Version: '2012-10-17', Statement: [...seen.values()] }).replaceAll('${ClusterName}', cluster);
  return JSON.parse(text) as PolicyDoc;
}

export function allowedActions(doc: PolicyDoc = iamPolicy()): Set<string> {
  return new Set(doc.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action));
}
