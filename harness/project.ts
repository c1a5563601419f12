// Where things are. Two directories matter:
//   the package root: where the harness itself is installed (this repo, or node_modules/<package>):
//     its package.json, lab/build.sh, schema/scenario.schema.json;
//   the project directory: the team's repository the harness runs for (the current directory, or
//     `--project DIR`): chaos.targets.json, scenarios/, scenarios/suites.json, reports/, .chaos/ and the
//     lab's state .lab/. In this repository the two are the same directory.
// Light on purpose (node built-ins only): the CLI reads it before anything else.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);

function findPackageRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return path.resolve(path.dirname(HERE), '..');
  }
}

/** The harness package's root directory (holds package.json), from source (harness/) or compiled (dist/harness/). */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(HERE));

/**
 * The root the harness's modules are loaded from: PACKAGE_ROOT when running from source (tsx), or
 * PACKAGE_ROOT/dist when running the compiled JavaScript; and the extension of its modules there.
 */
export const SOURCE_ROOT = path.resolve(path.dirname(HERE), '..');
export const MODULE_EXT = path.extname(HERE); // '.ts' from source, '.js' compiled

export interface PackageJson {
  name: string;
  version: string;
  /** `"chaos": { "providers": ["lab/provider"] }`: target providers shipped with the package (see harness/providers.ts) */
  chaos?: { providers?: string[] };
}

let pkg: PackageJson | undefined;
export function packageJson(): PackageJson {
  pkg ??= JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;
  return pkg;
}

/** The JSON Schema of scenario files, shipped in the package. */
export const SCENARIO_SCHEMA_FILE = path.join(PACKAGE_ROOT, 'schema', 'scenario.schema.json');

let current: string | undefined;

/** Sets the project directory for this process (the CLI's `--project DIR`). */
export function setProjectDir(dir: string | undefined): void {
  current = dir === undefined ? undefined : path.resolve(dir);
}

/** The project directory: `--project DIR`, else the current directory. */
export function projectDir(): string {
  return current ?? process.cwd();
}

export interface ProjectPaths {
  dir: string;
  /** target allow-lists */
  targets: string;
  scenarios: string;
  suites: string;
  reports: string;
  /** run journals (for recover); CHAOS_STATE_DIR overrides */
  state: string;
}

export function projectPaths(dir = projectDir(), env: NodeJS.ProcessEnv = process.env): ProjectPaths {
  return {
    dir,
    targets: path.join(dir, 'chaos.targets.json'),
    scenarios: path.join(dir, 'scenarios'),
    suites: path.join(dir, 'scenarios', 'suites.json'),
    reports: path.join(dir, 'reports'),
    state: env.CHAOS_STATE_DIR ? path.resolve(dir, env.CHAOS_STATE_DIR) : path.join(dir, '.chaos'),
  };
}
