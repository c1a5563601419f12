// Targets: where a run may act. `--target <kind>` names a provider (harness/providers.ts): `aws` (a
// real cluster and account) is built in here; the lab registers `lab` from lab/provider.ts when it is
// installed with the package (the default target then). Every target is checked against its entry in
// the project's chaos.targets.json before anything is touched.
import fs from 'node:fs';
import { z } from 'zod';
import { invalid } from './exit-codes.js';
import { getProvider, loadProviders, providers, registerProvider, type ResolvedTarget, type TargetEntry as TargetEntryType, type TargetProvider } from './providers.js';
import { PACKAGE_ROOT, projectDir, projectPaths } from './project.js';
import type { TargetKind } from './aws/index.js';

export type { ResolvedTarget, TargetProvider } from './providers.js';

/** The package root (this repository when run from a clone). Kept for callers of the old name. */
export const REPO_ROOT = PACKAGE_ROOT;

const TargetEntry = z.object({
  kind: z.string().regex(/^[a-z][a-z0-9-]*$/),
  cluster: z.string().optional(),
  contexts: z.array(z.string()),
  accounts: z.array(z.string().regex(/^\d{12}$/, 'account ids are 12 digits')),
  regions: z.array(z.string()),
  ciOptIn: z.boolean().optional(),
}).strict();
/** `{ $comment?, <kind>: entry, … }`: one entry per target kind, its `kind` equal to its key. */
const TargetsFile = z.object({ $comment: z.string().optional() }).catchall(TargetEntry).superRefine((f, ctx) => {
  for (const [k, v] of Object.entries(f)) {
    if (k !== '$comment' && typeof v === 'object' && v.kind !== k) ctx.addIssue({ code: 'custom', path: [k, 'kind'], message: `must be "${k}" (the entry's key)` });
  }
});
export type TargetsFile = z.infer<typeof TargetsFile>;

export function loadTargets(file = projectPaths().targets): TargetsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw invalid(`cannot read the target config ${file}: ${(err as Error).message}${missing ? ' (`chaos init` writes a starter one; --project DIR points at another project)' : ''}`);
  }
  const r = TargetsFile.safeParse(raw);
  if (!r.success) throw invalid(`${file}: invalid target config`, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return r.data;
}

export interface TargetOptions {
  /** a provider kind: 'lab' | 'aws' | one CHAOS_PROVIDERS adds */
  target: TargetKind | (string & {});
  context?: string;
  region?: string;
  yes?: boolean;
  /** the targets file (default: chaos.targets.json in the project directory) */
  config?: string;
  log: (m: string) => void;
  /** start the target when it is not up (the lab; the CLI's default for runs) */
  startLab?: boolean;
  env?: NodeJS.ProcessEnv;
  /** default: the project directory (`--project`, else the current directory) */
  projectDir?: string;
}

/** The default `--target`: the lab when it is installed with the package, else aws. */
export function defaultTarget(): string {
  return getProvider('lab') ? 'lab' : 'aws';
}

export async function resolveTarget(o: TargetOptions): Promise<ResolvedTarget> {
  const env = o.env ?? process.env;
  await loadProviders(env);
  const provider = getProvider(o.target);
  if (!provider) throw invalid(`unknown target "${o.target}" (targets: ${providers().map((p) => p.kind).join(', ')})`);
  const dir = o.projectDir ?? projectDir();
  const configFile = o.config ?? projectPaths(dir, env).targets;
  const cfg = loadTargets(configFile);
  return provider.resolve({ entry: cfg[o.target], configFile, context: o.context, region: o.region, yes: o.yes, start: o.startLab, log: o.log, env, projectDir: dir });
}

/** `--target aws`: a real EKS cluster and account, from the default credential chain and kube context. */
export const awsProvider: TargetProvider = {
  kind: 'aws',
  description: 'a real EKS cluster and AWS account (default credential chain and kubeconfig)',
  starterEntry: { kind: 'aws', cluster: '', contexts: [], accounts: [], regions: [], ciOptIn: false } as TargetEntryType,
  async resolve(o) {
    const entry = o.entry;
    if (!entry) throw invalid(`${o.configFile} has no "aws" entry: add one (cluster, contexts, accounts, regions) to enable --target aws`);
    const env = o.env;
    const ci = env.CI === 'true';
    if (!o.yes && !(ci && entry.ciOptIn)) throw invalid('--target aws changes a real account: pass --yes (or set ciOptIn in chaos.targets.json to let CI=true confirm)');
    if (!entry.cluster) throw invalid('chaos.targets.json aws.cluster is empty: name the EKS cluster the harness may act on');
    if (!entry.accounts.length) throw invalid('chaos.targets.json aws.accounts is empty: list the AWS account ids the harness may act in');
    const region = o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw invalid('no AWS region: pass --region or set AWS_REGION');
    if (!entry.regions.includes(region)) throw invalid(`region ${region} is not allowed (chaos.targets.json aws.regions: ${entry.regions.join(', ') || 'none'})`);
    const { Aws, checkEndpoint, makeClients } = await import('./aws/index.js');
    const { Kube } = await import('./k8s/index.js');
    checkEndpoint('aws', env.AWS_ENDPOINT_URL);
    const kube = Kube.load({ context: o.context });
    if (!entry.contexts.includes(kube.context)) throw invalid(`kube context "${kube.context}" is not allowed (chaos.targets.json aws.contexts: ${entry.contexts.join(', ') || 'none'})`);
    return { kind: 'aws', kube, aws: new Aws(makeClients({ kind: 'aws', region })), guard: { cluster: entry.cluster, region, accounts: entry.accounts }, context: kube.context, env: {} };
  },
};
registerProvider(awsProvider);
