// Mocha global fixtures: the lab is started once for the whole run and stopped afterwards
// (LAB_KEEP=1 leaves it up for the next run, which then reuses it in seconds).
import { labDown, labUp } from '../../lab/cluster.js';
import { labPaths } from '../../lab/paths.js';
import { TEST_CLUSTER, TEST_LAB_DIR } from '../support/lab.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const log = (m: string) => process.stderr.write(`  [test lab] ${m}\n`);

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.SKIP_LAB === '1') return;
  const r = await labUp({ clusterName: TEST_CLUSTER, nodesPerZone: 2, timing: 'fast', runtime: 'containerd' }, log, labPaths(TEST_LAB_DIR));
  log(`lab ${r.reused ? 'reused' : 'started'} in ${r.seconds.toFixed(1)} s (target on a warm cache: < 60 s)`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (process.env.SKIP_LAB === '1' || process.env.LAB_KEEP === '1') return;
  await labDown(log, labPaths(TEST_LAB_DIR));
}
