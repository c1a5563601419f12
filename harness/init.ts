// `chaos init`: a starter project in the project directory: chaos.targets.json (one entry per
// installed target provider), scenarios/az-outage.yaml (with the shipped JSON Schema for editors) and
// .gitignore lines for what runs write. When any of the three exists nothing is written (exit 2);
// `--force` overwrites the first two and appends only the missing lines to .gitignore.
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode } from './exit-codes.js';
import { packageJson } from './project.js';
import type { TargetEntry } from './providers.js';

export const GITIGNORE_LINES = ['reports/', '.chaos/', '.lab/'];

export function starterTargets(entries: TargetEntry[]): string {
  const file: Record<string, unknown> = {
    $comment: 'Where the harness may act. A run against anything not listed here exits 2 before touching anything. Fill in the aws entry (kube contexts, AWS account ids, regions, cluster name) to enable --target aws; set ciOptIn to let CI=true stand in for --yes.',
  };
  for (const e of entries) file[e.kind] = e;
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** The starter scenario; its first line points editors (yaml-language-server) at the shipped schema. */
export function starterScenario(pkgName = packageJson().name): string {
  return `# yaml-language-server: $schema=../node_modules/${pkgName}/schema/scenario.schema.json
# A whole availability zone goes dark: every subnet of the zone holding cluster nodes is swapped onto
# a deny-all network ACL for 2 minutes. The nodes lose their heartbeat, the node-lifecycle controller
# evicts their pods, and the other zones must carry the service. Run it: npx chaos az-outage
name: az-outage
description: Black-hole every node subnet of one zone for 2 minutes
fault:
  kind: az-blackhole
  zone: auto            # the zone holding the most pods of the workloads below
  duration: 2m
workloads:              # what must self-heal
  - namespace: default
    selector: app=demo
probes:                 # \${VAR} expands from the environment (the lab's .lab/env on the lab)
  - name: demo
    url: \${LAB_SERVICE_URL}/
    rate: 20
    timeout: 2s
slos:
  pods ready again: recovery < 5m
  nodes ready after the zone returns: node-recovery < 1m
  demo availability: availability(demo) >= 92%
  demo p95 latency: p95(demo) < 2s
  demo longest outage: max-outage(demo) < 10s
limits:
  maxZones: 1
abort:                  # revert at once and exit 3 when the service is mostly down
  - probe: demo
    availabilityBelow: 20%
    window: 30s
`;
}

export interface InitOptions { dir: string; force?: boolean; entries: TargetEntry[]; log: (m: string) => void }

export function initProject(o: InitOptions): number {
  const files = {
    targets: path.join(o.dir, 'chaos.targets.json'),
    scenario: path.join(o.dir, 'scenarios', 'az-outage.yaml'),
    gitignore: path.join(o.dir, '.gitignore'),
  };
  const existing = Object.values(files).filter((f) => fs.existsSync(f));
  const show = (f: string) => path.relative(o.dir, f);
  if (existing.length && !o.force) {
    o.log(`chaos init: ${existing.map(show).join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${o.dir}; nothing written (--force overwrites chaos.targets.json and scenarios/az-outage.yaml and appends missing lines to .gitignore)`);
    return ExitCode.Invalid;
  }
  fs.writeFileSync(files.targets, starterTargets(o.entries));
  o.log(`wrote ${show(files.targets)} (targets: ${o.entries.map((e) => e.kind).join(', ')})`);
  fs.mkdirSync(path.dirname(files.scenario), { recursive: true });
  fs.writeFileSync(files.scenario, starterScenario());
  o.log(`wrote ${show(files.scenario)}`);
  const before = fs.existsSync(files.gitignore) ? fs.readFileSync(files.gitignore, 'utf8') : '';
  // `reports/`, `reports`, `/reports` and `/reports/` all ignore it
  const norm = (l: string) => l.trim().replace(/^\//, '').replace(/\/$/, '');
  const have = new Set(before.split('\n').map(norm));
  const missing = GITIGNORE_LINES.filter((l) => !have.has(norm(l)));
  if (missing.length) {
    fs.writeFileSync(files.gitignore, `${before}${before && !before.endsWith('\n') ? '\n' : ''}${missing.join('\n')}\n`);
    o.log(`${before ? 'appended to' : 'wrote'} .gitignore: ${missing.join(' ')}`);
  } else {
    o.log('.gitignore already ignores reports/, .chaos/ and .lab/');
  }
  return ExitCode.Ok;
}
