// Targets: where a run may act. `--target <kind>` names a provider (harness/providers.ts): `aws` (a
// real cluster and account) is built in here; the lab registers `lab` from lab/provider.ts when it is
// installed with the package (the default target then). Every target is checked against its entry in
// the project's chaos.targets.json before anything is touched.
import fs from 'node:fs';
import { z } from 'zod';
import { invalid } from './exit-codes.js';
import { getProvider, loadProviders, providers, type ResolvedTarget } from './providers.js';
import { PACKAGE_ROOT, projectDir, projectPaths } from './project.js';
import type { TargetKind } from './aws/index.js';

export type { ResolvedTarget, TargetProvider } from './providers.js';
export { awsProvider } from './aws-provider.js';

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
