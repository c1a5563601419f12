// Target providers: what `--target <kind>` resolves to. The harness knows only this interface and a
// registry; it imports no provider but its own `aws`.
//
// `aws` is built in (harness/aws-provider.ts). How other providers get in, without the harness
// importing them:
//   1. the package's own package.json names them: `"chaos": { "providers": ["lab/provider"] }`: a
//      module path relative to the package's source root (the repository, or dist/ when compiled),
//      without extension; the harness adds the extension of its own modules (.ts under tsx, .js
//      compiled). This is how the lab (lab/provider.ts) registers `--target lab` and `chaos lab …`.
//      A package built without lab/ simply has no such file: the provider is skipped, the harness
//      works with `aws` alone.
//   2. CHAOS_PROVIDERS: a comma-separated list of module paths (relative to the project directory)
//      or package names, for a team's own provider.
// Each module's default export is a TargetProvider (or an array of them). Provider modules must be
// light to import (the CLI loads them on every start): heavy imports belong inside their methods.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Aws, TargetKind } from './aws/index.js';
import type { Kube } from './k8s/index.js';
import type { Guard } from './faults/targets.js';
import { MODULE_EXT, packageJson, projectDir, SOURCE_ROOT } from './project.js';
import { awsProvider } from './aws-provider.js';

/** One entry of chaos.targets.json: what a run on this target may touch. */
export interface TargetEntry {
  kind: string;
  cluster?: string;
  contexts: string[];
  accounts: string[];
  regions: string[];
  ciOptIn?: boolean;
}

export interface ResolvedTarget {
  /** the safety class: 'lab' (loopback endpoints only) or 'aws' (a real account) */
  kind: TargetKind;
  kube: Kube;
  aws: Aws;
  guard: Guard;
  context: string;
  /** variables the target provides (the lab's env file), for ${VAR} expansion in probe URLs */
  env: Record<string, string>;
  /** the cluster's node-monitor-grace-period when the target knows it (the lab: its timing profile) */
  nodeGracePeriodMs?: number;
}

export interface ProviderResolveOptions {
  /** this provider's entry in chaos.targets.json (undefined when the file has none) */
  entry: TargetEntry | undefined;
  /** the targets file the entry came from (for messages) */
  configFile: string;
  context?: string;
  region?: string;
  yes?: boolean;
  /** start the target when it is not up (the lab: `lab up`); the CLI's default for runs */
  start?: boolean;
  log: (m: string) => void;
  env: NodeJS.ProcessEnv;
  projectDir: string;
}

export interface ProviderCommand {
  /** `chaos <name> …` */
  name: string;
  description: string;
  /** runs with the arguments after `chaos <name>`; returns the exit code */
  run(args: string[], o: { projectDir: string; programName: string }): Promise<number>;
}

export interface TargetProvider {
  /** the `--target` value */
  kind: string;
  description: string;
  resolve(o: ProviderResolveOptions): Promise<ResolvedTarget>;
  /** extra CLI commands (the lab: `chaos lab up|down|status|…`) */
  commands?: ProviderCommand[];
  /** the entry `chaos init` writes into a new chaos.targets.json */
  starterEntry?: TargetEntry;
}

const registry = new Map<string, TargetProvider>([[awsProvider.kind, awsProvider]]);

export function registerProvider(p: TargetProvider): void {
  if (!/^[a-z][a-z0-9-]*$/.test(p.kind)) throw new Error(`target provider kind "${p.kind}": lower-case letters, digits and dashes`);
  registry.set(p.kind, p);
}

export function getProvider(kind: string): TargetProvider | undefined {
  return registry.get(kind);
}

export function providers(): TargetProvider[] {
  return [...registry.values()];
}

/** Where the provider modules named by the package and CHAOS_PROVIDERS are (URLs to import). */
export function providerModules(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const p of packageJson().chaos?.providers ?? []) {
    const file = path.join(SOURCE_ROOT, ...p.split('/')) + MODULE_EXT;
    if (fs.existsSync(file)) out.push(pathToFileURL(file).href); // not installed with the package: skipped
  }
  for (const p of (env.CHAOS_PROVIDERS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    out.push(/^\.{0,2}\/|^[A-Za-z]:\\/.test(p) ? pathToFileURL(path.resolve(projectDir(), p)).href : p);
  }
  return out;
}

let loading: Promise<void> | undefined;

/** Imports the provider modules once and registers what they export; idempotent. */
export function loadProviders(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  loading ??= (async () => {
    for (const url of providerModules(env)) {
      let mod: { default?: TargetProvider | TargetProvider[] };
      try {
        mod = (await import(url)) as typeof mod;
      } catch (err) {
        throw new Error(`cannot load the target provider ${url}: ${(err as Error).message}`);
      }
      const list = Array.isArray(mod.default) ? mod.default : mod.default ? [mod.default] : [];
      if (!list.length) throw new Error(`the target provider module ${url} has no default export (a TargetProvider or an array of them)`);
      for (const p of list) registerProvider(p);
    }
  })();
  return loading;
}
