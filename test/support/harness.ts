// The harness pointed at the test lab: a fault context, the CLI as a child process, and a check that
// nothing the harness does is left in the lab's world.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTarget, type ResolvedTarget } from '../../harness/target.js';
import { Limits, type FaultContext } from '../../harness/faults/index.js';
import { REPO_ROOT } from '../../lab/paths.js';
import { TEST_LAB_DIR } from './lab.js';
import type { LabAws } from './aws.js';

export async function harnessTarget(): Promise<ResolvedTarget> {
  return resolveTarget({ target: 'lab', env: { ...process.env, LAB_DIR: TEST_LAB_DIR }, log: () => {}, startLab: false });
}

export function faultContext(t: ResolvedTarget, runId: string, over: Partial<FaultContext> = {}): FaultContext {
  return { aws: t.aws, kube: t.kube, guard: t.guard, limits: Limits.parse({}), seed: 1, runId, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), log: () => {}, nodeGracePeriodMs: t.nodeGracePeriodMs, ...over };
}

export function tempStateDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-state-'));
}

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'harness/cli.ts'), ...args], {
      cwd: REPO_ROOT, env: { ...process.env, LAB_DIR: TEST_LAB_DIR, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

interface WorldSnapshot {
  subnets: Array<{ id: string; networkAclId: string }>;
  acls: Array<{ id: string; isDefault: boolean; subnets: string[]; tags: Record<string, string> }>;
  instances: Array<{ id: string; node: string; state: string; daemons: Record<string, { active: boolean }>; timers: string[] }>;
  asgs: Array<{ name: string; suspended: string[] }>;
}

export async function world(aws: LabAws): Promise<WorldSnapshot> {
  return (await aws.control('GET', 'world')) as WorldSnapshot;
}

/** Everything a fault could leave behind in the lab; empty when the world is whole again. */
export async function leftovers(aws: LabAws, t: ResolvedTarget): Promise<string[]> {
  const w = await world(aws);
  const out: string[] = [];
  const def = w.acls.find((a) => a.isDefault)!;
  for (const a of w.acls) if (!a.isDefault) out.push(`ACL ${a.id} exists (${a.subnets.length} subnets)`);
  for (const s of w.subnets) if (s.networkAclId !== def.id) out.push(`subnet ${s.id} on ${s.networkAclId}`);
  for (const i of w.instances) {
    if (i.state === 'terminated') continue;
    if (i.state !== 'running') out.push(`instance ${i.id} ${i.state}`);
    for (const [d, s] of Object.entries(i.daemons)) if (!s.active && i.state === 'running') out.push(`${d} down on ${i.node}`);
  }
  for (const g of w.asgs) if (g.suspended.length) out.push(`ASG ${g.name} suspended ${g.suspended.join(',')}`);
  const tagged = await t.aws.describeInstancesByTag('chaos:stopped-by', ['*']);
  // a terminated instance keeps its tags for a while (EC2 lists it about an hour): not a leftover
  for (const i of tagged) if (i.state !== 'terminated') out.push(`instance ${i.id} tagged chaos:stopped-by`);
  return out;
}

/**
 * World changes an AWS caller made since `mark` (ms epoch): what an invalid run must never cause.
 * Node-local timers armed by earlier tests may still fire; they are the node's own doing, not a call.
 */
export function changesSince(lab: { world: { read(): Array<{ time: string; event: string }> } }, mark: number): string[] {
  const caused = /^(acl\.|instance\.state|tags\.|asg\.processes|ssm\.command\.sent|daemon\.(stopped|killed))/;
  return lab.world.read().filter((e) => Date.parse(e.time) >= mark && caused.test(e.event)).map((e) => `${e.time} ${e.event}`);
}
