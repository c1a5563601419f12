// `npm run lab -- <command>` (in this repository) and `chaos lab <command>` (from an installed
// package, through the lab's target provider, lab/provider.ts): the rehearsal cluster. The lab's state
// is `.lab` in the project directory (LAB_DIR overrides).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { apiserverStart, apiserverStop, checkSubnetsPerZone, DEFAULT_OPTIONS, DEFAULT_SUBNETS_PER_ZONE, labDown, labStatusLine, labUp, readDaemonInfo, readState } from './cluster.js';
import { labKube, nodeReady } from './kube.js';
import { labDir, labPaths as pathsFor } from './paths.js';
import { setHeartbeat } from './heartbeat.js';
import { WorldLog } from './world.js';

const log = (m: string) => process.stderr.write(`[lab] ${m}\n`);

function intArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('must be an integer from 1 to 100');
  return n;
}

function rangeArg(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

function subnetsArg(v: string): number {
  try {
    return checkSubnetsPerZone(Number(v));
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message.replace(/^--subnets-per-zone /, ''));
  }
}

export interface LabCliOptions {
  /** where `.lab` lives (LAB_DIR, relative to it, overrides); default the current directory */
  projectDir?: string;
  /** how the help and messages name this command line */
  programName?: string;
}

/** Runs one lab command line (`argv`: the arguments after the program name); returns the exit code. */
export async function labMain(args: string[], o: LabCliOptions = {}): Promise<number> {
  const name = o.programName ?? 'npm run lab --';
  const labPaths = () => pathsFor(labDir(process.env, o.projectDir));
  const program = new Command(name)
    .exitOverride()
    .description('The rehearsal lab: a real Kubernetes control plane (built from upstream source) with KWOK nodes in three zones of us-east-1.')
    .showHelpAfterError();

  program.command('up')
    .description('build the binaries if needed (cached outside the repo), start the cluster and write .lab/env; a no-op when it is already up')
    .addOption(new Option('--nodes-per-zone <n>', 'nodes in each of the 3 zones').argParser(intArg).default(DEFAULT_OPTIONS.nodesPerZone))
    .addOption(new Option('--timing <profile>', 'failure-detection timings').choices(['fast', 'upstream']).default(DEFAULT_OPTIONS.timing))
    .addOption(new Option('--runtime <runtime>', 'container runtime the nodes report').choices(['containerd', 'docker']).default(DEFAULT_OPTIONS.runtime))
    .addOption(new Option('--subnets-per-zone <n>', 'subnets in each zone of the VPC: 1 for the nodes + N - 1 utility subnets').argParser(subnetsArg).default(DEFAULT_SUBNETS_PER_ZONE))
    .addOption(new Option('--bottlerocket-nodes <n>', 'nodes of the Bottlerocket managed node group (one ASG over the zones)').argParser(rangeArg(0, 3)).default(DEFAULT_OPTIONS.bottlerocketNodes))
    .addOption(new Option('--karpenter-nodes <n>', 'nodes of Karpenter\'s NodePool "default" (no ASG)').argParser(rangeArg(0, 6)).default(DEFAULT_OPTIONS.karpenterNodes))
    .addOption(new Option('--karpenter-spot <n>', 'how many of the Karpenter nodes are Spot (at least 1 when there are Karpenter nodes)').argParser(rangeArg(0, 6)))
    .option('--cluster-name <name>', 'cluster name (tags, kubeconfig context)', process.env.LAB_CLUSTER_NAME ?? DEFAULT_OPTIONS.clusterName)
    .action(async (o: { nodesPerZone: number; timing: 'fast' | 'upstream'; runtime: 'containerd' | 'docker'; subnetsPerZone: number; clusterName: string; bottlerocketNodes: number; karpenterNodes: number; karpenterSpot?: number }) => {
      const paths = labPaths();
      const karpenterSpot = o.karpenterSpot ?? Math.min(1, o.karpenterNodes);
      const r = await labUp({ clusterName: o.clusterName, nodesPerZone: o.nodesPerZone, timing: o.timing, runtime: o.runtime, subnetsPerZone: o.subnetsPerZone, bottlerocketNodes: o.bottlerocketNodes, karpenterNodes: o.karpenterNodes, karpenterSpot }, log, paths);
      log(`${r.reused ? 'already up' : 'up'} in ${r.seconds.toFixed(1)}s: ${r.state.nodes.length} nodes, timing ${r.state.timing.name}, runtime ${r.state.options.runtime}`);
      console.log(`. ${paths.env}   # then: "$LAB_KUBECTL" get nodes -L topology.kubernetes.io/zone`);
    });

  program.command('down').description('stop every lab process and delete the lab state').action(async () => {
    await labDown(log, labPaths());
  });

  program.command('apiserver')
    .addArgument(new Argument('<action>', 'stop | start').choices(['stop', 'start']))
    .description('stop or start kube-apiserver alone (a control-plane outage; start reuses its command line and waits for /readyz)')
    .action(async (action: 'stop' | 'start') => {
      const paths = labPaths();
      if (action === 'stop') { if (!(await apiserverStop(paths, log))) log('kube-apiserver was not running'); else log('kube-apiserver stopped; the other lab processes keep running'); }
      else if (!(await apiserverStart(paths, log))) log('kube-apiserver is already running and ready');
    });

  program.command('status').description('show processes and nodes; exit 1 when the lab is not (fully) up').action(async () => {
    const paths = labPaths();
    const state = readState(paths);
    const { up, dead } = labStatusLine(state);
    if (!state) {
      console.log(`lab: down (no state in ${paths.dir}); start it with: ${name} up`);
      process.exitCode = 1;
      return;
    }
    console.log(`lab "${state.options.clusterName}": ${up ? 'up' : `DEGRADED (not running: ${dead.join(', ')})`} since ${state.startedAt}`);
    console.log(`  apiserver ${state.apiserverUrl}, timing ${state.timing.name}, runtime ${state.options.runtime}, env file ${paths.env}`);
    for (const p of state.procs) console.log(`  ${p.name.padEnd(24)} pid ${p.pid}  log ${p.log}`);
    if (!up) { process.exitCode = 1; return; }
    const kube = labKube(paths.kubeconfig);
    const nodes = (await kube.core.listNode()).items;
    for (const n of nodes) {
      const zone = n.metadata?.labels?.['topology.kubernetes.io/zone'];
      const taints = (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).join(',');
      console.log(`  node ${n.metadata?.name} ${zone} ${nodeReady(n) ? 'Ready' : 'NotReady'} ${n.spec?.providerID}${taints ? ` taints=${taints}` : ''}`);
    }
  });

  for (const [cmd, on] of [['stop-heartbeat', false], ['resume-heartbeat', true]] as const) {
    program.command(`${cmd} <node>`)
      .description(on ? 'make a node heart-beat again (KWOK manages it again)' : 'make a node stop heart-beating (KWOK lets go of it), as if its kubelet died')
      .action(async (node: string) => {
        const paths = labPaths();
        await setHeartbeat(labKube(paths.kubeconfig), new WorldLog(paths.world), node, on, 'lab-cli');
        log(`${node}: heartbeat ${on ? 'resumed' : 'stopped'}`);
      });
  }

  program.command('quirk')
    .argument('[node]', 'node name or instance id')
    .argument('[action]', 'ignore-stop | clear')
    .argument('[daemon]', 'kubelet | containerd | docker | kube-proxy (with ignore-stop)')
    .description('make a fault not take on one node, so a run can prove it notices: `quirk NODE ignore-stop DAEMON` (systemctl stop and SIGSTOP of DAEMON there answer success and do nothing), `quirk NODE clear`, `quirk` lists them')
    .action(async (node?: string, action?: string, daemon?: string) => {
      const info = readDaemonInfo(labPaths());
      if (!info) throw new Error(`the lab is not up (no AWS endpoint); start it with: ${name} up`);
      const base = `http://127.0.0.1:${info.awsPort}/_lab/quirks`;
      const call = async (method: string, url: string, body?: unknown) => {
        const r = await fetch(url, { method, body: body === undefined ? undefined : JSON.stringify(body) });
        const v = (await r.json()) as unknown;
        if (!r.ok) throw new Error((v as { error?: string }).error ?? `lab control answered ${r.status}`);
        return v;
      };
      if (!node) {
        const list = (await call('GET', base)) as Array<{ node: string; instanceId: string; daemon: string; quirk: string }>;
        if (!list.length) console.log('no quirks');
        for (const q of list) console.log(`${q.node} ${q.instanceId} ${q.quirk} ${q.daemon}`);
        return;
      }
      if (action === 'clear') {
        if (daemon) throw new InvalidArgumentError('clear takes no daemon');
        const r = (await call('DELETE', `${base}?node=${encodeURIComponent(node)}&by=lab-cli`)) as { node: string; cleared: Array<{ daemon: string; quirk: string }> };
        log(`${r.node}: cleared ${r.cleared.length ? r.cleared.map((q) => `${q.quirk} ${q.daemon}`).join(', ') : 'nothing (no quirks)'}`);
        return;
      }
      if (action !== 'ignore-stop' || !daemon) {
        log(`usage: ${name} quirk [NODE ignore-stop kubelet|containerd|docker|kube-proxy | NODE clear]`);
        process.exitCode = 2;
        return;
      }
      await call('POST', base, { node, quirk: action, daemon, by: 'lab-cli' });
      log(`${node}: ${daemon} ignores systemctl stop and SIGSTOP (npm run lab -- quirk ${node} clear to undo)`);
    });

  try {
    await program.parseAsync(args, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code?.startsWith('commander.')) return 2;
    log(`error: ${e.message}`);
    return 1;
  }
}

const invoked = (() => { try { return fs.realpathSync(process.argv[1] ?? ''); } catch { return ''; } })();
if (invoked === fileURLToPath(import.meta.url)) {
  void labMain(process.argv.slice(2)).then((code) => process.exit(code));
}
