// Targets: where a run may act. The lab (default; started if not up, its .lab/env loaded) or a real
// cluster and account, each checked against the allow-lists in chaos.targets.json before anything
// is touched.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Aws, checkEndpoint, makeClients, type TargetKind } from './aws/index.js';
import { Kube } from './k8s/index.js';
import { invalid } from './exit-codes.js';
import { readEnvFile } from '../lab/envfile.js';
import type { Guard } from './faults/targets.js';

export const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const TargetEntry = z.object({
  kind: z.enum(['lab', 'aws']),
  cluster: z.string().optional(),
  contexts: z.array(z.string()),
  accounts: z.array(z.string().regex(/^\d{12}$/, 'account ids are 12 digits')),
  regions: z.array(z.string()),
  ciOptIn: z.boolean().optional(),
}).strict();
const TargetsFile = z.object({ $comment: z.string().optional(), lab: TargetEntry, aws: TargetEntry }).strict();
export type TargetsFile = z.infer<typeof TargetsFile>;

export function loadTargets(file = path.join(REPO_ROOT, 'chaos.targets.json')): TargetsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalid(`cannot read the target config ${file}: ${(err as Error).message}`);
  }
  const r = TargetsFile.safeParse(raw);
  if (!r.success) throw invalid(`${file}: invalid target config`, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return r.data;
}

export interface TargetOptions {
  target: TargetKind;
  context?: string;
  region?: string;
  yes?: boolean;
  config?: string;
  log: (m: string) => void;
  /** start the lab when it is not up (the CLI's default) */
  startLab?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedTarget {
  kind: TargetKind;
  kube: Kube;
  aws: Aws;
  guard: Guard;
  context: string;
  /** variables the lab's env file provided (for URL expansion) */
  env: Record<string, string>;
}

export async function resolveTarget(o: TargetOptions): Promise<ResolvedTarget> {
  const cfg = loadTargets(o.config);
  const entry = cfg[o.target];
  const env = o.env ?? process.env;
  if (o.target === 'lab') {
    const labDir = path.resolve(REPO_ROOT, env.LAB_DIR ?? '.lab');
    const envFile = path.join(labDir, 'env');
    if (!fs.existsSync(envFile) || !(await labIsUp(labDir))) {
      if (!o.startLab) throw invalid(`the lab is not up in ${labDir}; start it with: npm run lab -- up`);
      o.log(`the lab is not up; starting it (npm run lab -- up)`);
      const { labUp, DEFAULT_OPTIONS } = await import('../lab/cluster.js');
      const { labPaths } = await import('../lab/paths.js');
      await labUp({ ...DEFAULT_OPTIONS, clusterName: env.LAB_CLUSTER_NAME ?? DEFAULT_OPTIONS.clusterName }, (m) => o.log(`[lab] ${m}`), labPaths(labDir));
    }
    const labEnv = readEnvFile(envFile);
    const region = o.region ?? labEnv.AWS_REGION;
    if (!entry.regions.includes(region)) throw invalid(`region ${region} is not allowed for the lab target (chaos.targets.json lab.regions: ${entry.regions.join(', ')})`);
    checkEndpoint('lab', labEnv.AWS_ENDPOINT_URL);
    const kube = Kube.load({ kubeconfig: labEnv.KUBECONFIG, context: o.context });
    if (!entry.contexts.includes(kube.context)) throw invalid(`kube context "${kube.context}" is not allowed for the lab target (lab.contexts: ${entry.contexts.join(', ')})`);
    const clients = makeClients({ kind: 'lab', region, endpoint: labEnv.AWS_ENDPOINT_URL, credentials: { accessKeyId: labEnv.AWS_ACCESS_KEY_ID, secretAccessKey: labEnv.AWS_SECRET_ACCESS_KEY } });
    return { kind: 'lab', kube, aws: new Aws(clients), guard: { cluster: labEnv.LAB_CLUSTER_NAME, region, accounts: entry.accounts }, context: kube.context, env: labEnv };
  }
  // --target aws
  const ci = env.CI === 'true';
  if (!o.yes && !(ci && entry.ciOptIn)) throw invalid('--target aws changes a real account: pass --yes (or set ciOptIn in chaos.targets.json to let CI=true confirm)');
  if (!entry.cluster) throw invalid('chaos.targets.json aws.cluster is empty: name the EKS cluster the harness may act on');
  if (!entry.accounts.length) throw invalid('chaos.targets.json aws.accounts is empty: list the AWS account ids the harness may act in');
  const region = o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw invalid('no AWS region: pass --region or set AWS_REGION');
  if (!entry.regions.includes(region)) throw invalid(`region ${region} is not allowed (chaos.targets.json aws.regions: ${entry.regions.join(', ') || 'none'})`);
  checkEndpoint('aws', env.AWS_ENDPOINT_URL);
  const kube = Kube.load({ context: o.context });
  if (!entry.contexts.includes(kube.context)) throw invalid(`kube context "${kube.context}" is not allowed (chaos.targets.json aws.contexts: ${entry.contexts.join(', ') || 'none'})`);
  return { kind: 'aws', kube, aws: new Aws(makeClients({ kind: 'aws', region })), guard: { cluster: entry.cluster, region, accounts: entry.accounts }, context: kube.context, env: {} };
}

async function labIsUp(labDir: string): Promise<boolean> {
  const { readState, labStatusLine } = await import('../lab/cluster.js');
  const { labPaths } = await import('../lab/paths.js');
  return labStatusLine(readState(labPaths(labDir))).up;
}
