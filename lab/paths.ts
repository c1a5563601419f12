// Where the lab keeps its state. Everything lives under one directory, `.lab` in the project
// directory (the current directory or `chaos --project DIR`; this repository for `npm run lab`),
// git-ignored; LAB_DIR points elsewhere (relative to the project directory; the tests use `.lab-test`
// so they never disturb a lab a user has running).
import path from 'node:path';
import { PACKAGE_ROOT } from '../harness/project.js';

/** The package root: this repository from a clone, node_modules/<package> when installed. */
export const REPO_ROOT = PACKAGE_ROOT;

export function labDir(env: NodeJS.ProcessEnv = process.env, projectDir = process.cwd()): string {
  return path.resolve(projectDir, env.LAB_DIR ?? '.lab');
}

export interface LabPaths {
  dir: string;
  state: string;
  env: string;
  kubeconfig: string;
  world: string;
  audit: string;
  auditPolicy: string;
  pki: string;
  logs: string;
  etcdData: string;
  kwokConfig: string;
}

export function labPaths(dir = labDir()): LabPaths {
  return {
    dir,
    state: path.join(dir, 'state.json'),
    env: path.join(dir, 'env'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    world: path.join(dir, 'world.jsonl'),
    audit: path.join(dir, 'audit.log'),
    auditPolicy: path.join(dir, 'audit-policy.yaml'),
    pki: path.join(dir, 'pki'),
    logs: path.join(dir, 'logs'),
    etcdData: path.join(dir, 'etcd'),
    kwokConfig: path.join(dir, 'kwok.yaml'),
  };
}
