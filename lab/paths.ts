// Where the lab keeps its state. Everything lives under one directory (default `<repo>/.lab`,
// git-ignored); LAB_DIR points elsewhere (the tests use `.lab-test` so they never disturb a lab
// a user has running).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function labDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(REPO_ROOT, env.LAB_DIR ?? '.lab');
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
