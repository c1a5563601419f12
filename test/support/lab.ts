// The lab shared by the whole test run: started once by the global setup in test/hooks.ts, in its own
// state directory (.lab-test) so a lab a developer has running is left alone.
import path from 'node:path';
import { labPaths, REPO_ROOT } from '../../lab/paths.js';
import { readState, type LabState } from '../../lab/cluster.js';
import { labKube, type LabKube } from '../../lab/kube.js';
import { WorldLog } from '../../lab/world.js';

/** TEST_LAB_DIR moves it (two test runs at once on one machine each need their own). */
export const TEST_LAB_DIR = path.resolve(REPO_ROOT, process.env.TEST_LAB_DIR ?? '.lab-test');
export const TEST_CLUSTER = 'chaos-lab-test';

export interface TestLab {
  paths: ReturnType<typeof labPaths>;
  state: LabState;
  kube: LabKube;
  world: WorldLog;
}

export function testLab(): TestLab {
  const paths = labPaths(TEST_LAB_DIR);
  const state = readState(paths);
  if (!state) throw new Error(`the test lab is not up in ${TEST_LAB_DIR} (test/hooks.ts starts it)`);
  return { paths, state, kube: labKube(paths.kubeconfig), world: new WorldLog(paths.world) };
}

export async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
