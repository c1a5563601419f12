// The least-privilege IAM policy the harness needs (harness/iam/policy.json), with tag conditions on
// the instance, ACL, Auto Scaling and SSM actions in the spirit of AWS FIS's own policies.
import fs from 'node:fs';
import path from 'node:path';

const FILE = path.join(path.dirname(new URL(import.meta.url).pathname), 'policy.json');

export interface PolicyDoc { Version: string; Statement: Array<{ Sid: string; Effect: string; Action: string[]; Resource: string | string[]; Condition?: unknown }> }

export function iamPolicy(cluster = '${ClusterName}'): PolicyDoc {
  return JSON.parse(fs.readFileSync(FILE, 'utf8').replaceAll('${ClusterName}', cluster)) as PolicyDoc;
}

export function allowedActions(doc: PolicyDoc = iamPolicy()): Set<string> {
  return new Set(doc.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action));
}
