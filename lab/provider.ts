// The lab as a target provider: `--target lab` (the default when the lab is installed with the
// package) and `chaos lab up|down|status|…`. The harness never imports this module by name: the
// package's package.json lists it (`"chaos": { "providers": ["lab/provider"] }`) and the CLI imports it
// by path at start-up (harness/providers.ts). Light to import: everything heavy is imported inside.
import fs from 'node:fs';
import path from 'node:path';
import type { ProviderResolveOptions, ResolvedTarget, TargetProvider } from '../harness/providers.js';
import { invalid } from '../harness/exit-codes.js';
import { readEnvFile } from './envfile.js';
import { labDir } from './paths.js';

async function labIsUp(dir: string): Promise<boolean> {
  const { readState, labStatusLine } = await import('./cluster.js');
  const { labPaths } = await import('./paths.js');
  return labStatusLine(readState(labPaths(dir))).up;
}

async function resolve(o: ProviderResolveOptions): Promise<ResolvedTarget> {
  const entry = o.entry;
  if (!entry) throw invalid(`${o.configFile} has no "lab" entry: add one (contexts, accounts, regions) to use --target lab`);
  const env = o.env;
  const dir = labDir(env, o.projectDir);
  const envFile = path.join(dir, 'env');
  if (!fs.existsSync(envFile) || !(await labIsUp(dir))) {
    if (!o.start) throw invalid(`the lab is not up in ${dir}; start it with: chaos lab up (in the harness's own repository: npm run lab -- up)`);
    o.log(`the lab is not up; starting it (chaos lab up) in ${dir}`);
    const { labUp, DEFAULT_OPTIONS } = await import('./cluster.js');
    const { labPaths } = await import('./paths.js');
    await labUp({ ...DEFAULT_OPTIONS, clusterName: env.LAB_CLUSTER_NAME ?? DEFAULT_OPTIONS.clusterName }, (m) => o.log(`[lab] ${m}`), labPaths(dir));
  }
  const labEnv = readEnvFile(envFile);
  const region = o.region ?? labEnv.AWS_REGION;
  if (!entry.regions.includes(region)) throw invalid(`region ${region} is not allowed for the lab target (chaos.targets.json lab.regions: ${entry.regions.join(', ')})`);
  const { Aws, checkEndpoint, makeClients } = await import('../harness/aws/index.js');
  const { Kube } = await import('../harness/k8s/index.js');
  checkEndpoint('lab', labEnv.AWS_ENDPOINT_URL);
  const kube = Kube.load({ kubeconfig: labEnv.KUBECONFIG, context: o.context });
  if (!entry.contexts.includes(kube.context)) throw invalid(`kube context "${kube.context}" is not allowed for the lab target (lab.contexts: ${entry.contexts.join(', ')})`);
  const clients = makeClients({ kind: 'lab', region, endpoint: labEnv.AWS_ENDPOINT_URL, credentials: { accessKeyId: labEnv.AWS_ACCESS_KEY_ID, secretAccessKey: labEnv.AWS_SECRET_ACCESS_KEY } });
  const { TIMINGS } = await import('./timing.js');
  const timing = TIMINGS[labEnv.LAB_TIMING as keyof typeof TIMINGS];
  return {
    kind: 'lab', kube, aws: new Aws(clients), guard: { cluster: labEnv.LAB_CLUSTER_NAME, region, accounts: entry.accounts }, context: kube.context, env: labEnv,
    nodeGracePeriodMs: timing ? timing.nodeMonitorGracePeriodSeconds * 1000 : undefined,
  };
}

const lab: TargetProvider = {
  kind: 'lab',
  description: 'the rehearsal lab on 127.0.0.1 (started if not up; state in .lab/ of the project directory, LAB_DIR overrides)',
  starterEntry: { kind: 'lab', contexts: ['chaos-lab'], accounts: ['123456789012'], regions: ['us-east-1'] },
  resolve,
  commands: [{
    name: 'lab',
    description: 'the rehearsal lab: up [--nodes-per-zone N] [--timing fast|upstream] [--runtime containerd|docker] | down | status | apiserver stop|start | stop-heartbeat NODE | resume-heartbeat NODE | quirk [NODE ignore-stop DAEMON | NODE clear]',
    async run(args, o) {
      const { labMain } = await import('./cli.js');
      return labMain(args, { projectDir: o.projectDir, programName: o.programName });
    },
  }],
};

export default lab;
