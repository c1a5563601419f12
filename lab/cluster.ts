// The lab cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler (all built from
// upstream source by lab/build.sh) and KWOK, started as local processes; Node objects for the
// simulated EC2 instances; the demo workload.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { labPaths, type LabPaths, REPO_ROOT } from './paths.js';
import { freePort, isAlive, sleep, startProc, stopProc, tail, type ProcRecord } from './procs.js';
import { parseTiming, type Timing, type TimingName } from './timing.js';
import { checkNodeKinds, DEFAULT_NODE_KINDS, HEARTBEAT_SELECTOR, initialNodes, LAB_REGION, LAB_ZONES, type LabNodeSpec, type Runtime } from './topology.js';
import { ADDONS, addonObjects, auditPolicyYaml, DEMO, demoObjects, kwokStagesYaml, nodeObject } from './manifests.js';
import { ensureObject, labKube, nodeReady, type LabKube } from './kube.js';
import { WorldLog } from './world.js';
export { readEnvFile } from './envfile.js';

export interface LabOptions {
  clusterName: string;
  nodesPerZone: number;
  timing: TimingName;
  runtime: Runtime;
  /** subnets per zone in the lab's VPC: 1 nodes subnet + N - 1 utility subnets (default 2) */
  subnetsPerZone?: number;
  /** audit the full objects written (RequestResponse) instead of metadata only: ground truth for bench/accuracy.ts */
  auditBodies?: boolean;
  /** nodes of the Bottlerocket managed node group (0..3, default 1) */
  bottlerocketNodes?: number;
  /** nodes of Karpenter's NodePool `default` (0..6, default 2) … */
  karpenterNodes?: number;
  /** … of which Spot (default 1; at least 1 when there are Karpenter nodes) */
  karpenterSpot?: number;
}

export const DEFAULT_SUBNETS_PER_ZONE = 2;
export const MAX_SUBNETS_PER_ZONE = 45;

/**
 * The options as `lab up` compares them: defaults filled in (`subnetsPerZone`), unset fields dropped,
 * keys sorted, so a state written before a field existed equals one asking for its default.
 */
export function normalizeOptions(o: LabOptions): LabOptions {
  const k = checkNodeKinds(o);
  const full: Record<string, unknown> = {
    ...o, subnetsPerZone: o.subnetsPerZone ?? DEFAULT_SUBNETS_PER_ZONE, auditBodies: o.auditBodies || undefined,
    bottlerocketNodes: k.bottlerocketNodes, karpenterNodes: k.karpenterNodes, karpenterSpot: k.karpenterSpot,
  };
  return Object.fromEntries(Object.keys(full).sort().filter((k) => full[k] !== undefined).map((k) => [k, full[k]])) as unknown as LabOptions;
}

export function checkSubnetsPerZone(n: number | undefined): number {
  const v = n ?? DEFAULT_SUBNETS_PER_ZONE;
  if (!Number.isInteger(v) || v < 1 || v > MAX_SUBNETS_PER_ZONE) throw new Error(`--subnets-per-zone must be an integer from 1 to ${MAX_SUBNETS_PER_ZONE}, got ${v}`);
  return v;
}

export const DEFAULT_OPTIONS: LabOptions = { clusterName: 'chaos-lab', nodesPerZone: 2, timing: 'fast', runtime: 'containerd', ...DEFAULT_NODE_KINDS };

export interface LabState {
  version: 1;
  options: LabOptions;
  timing: Timing;
  binDir: string;
  ports: { etcd: number; etcdPeer: number; apiserver: number };
  apiserverUrl: string;
  procs: ProcRecord[];
  nodes: LabNodeSpec[];
  region: string;
  zones: string[];
  startedAt: string;
}

export type Logger = (msg: string) => void;

export function readState(paths: LabPaths = labPaths()): LabState | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths.state, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

function writeState(paths: LabPaths, state: LabState): void {
  fs.writeFileSync(paths.state + '.tmp', JSON.stringify(state, null, 2));
  fs.renameSync(paths.state + '.tmp', paths.state);
}

/** Runs lab/build.sh (a no-op on a warm cache) and returns the directory holding the binaries. */
export async function ensureBinaries(log: Logger): Promise<string> {
  // shipped in the package as lab/build.sh (beside dist/); it builds into ~/.cache/k8s-chaos-harness
  const script = path.join(REPO_ROOT, 'lab', 'build.sh');
  return new Promise((resolve, reject) => {
    const child = execFile('bash', [script], { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) reject(new Error(`lab/build.sh failed (${err.message.split('\n')[0]}); see the lines above`));
      else resolve(stdout.trim().split('\n').pop() ?? '');
    });
    child.stderr?.on('data', (d: Buffer) => { for (const l of d.toString().trimEnd().split('\n')) log(l); });
  });
}

function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export function writeEnvFile(paths: LabPaths, state: LabState, extra: Record<string, string> = {}): void {
  const vars: Record<string, string> = {
    KUBECONFIG: paths.kubeconfig,
    LAB_CLUSTER_NAME: state.options.clusterName,
    LAB_DIR: paths.dir,
    LAB_TIMING: state.timing.name,
    LAB_RUNTIME: state.options.runtime,
    LAB_REGION: state.region,
    LAB_KUBECTL: path.join(state.binDir, 'kubectl'),
    ...extra,
  };
  const lines = ['# written by `npm run lab -- up`; source it: . .lab/env'];
  for (const [k, v] of Object.entries(vars)) lines.push(`export ${k}=${q(v)}`);
  fs.writeFileSync(paths.env, lines.join('\n') + '\n');
}

function writePki(paths: LabPaths): string {
  fs.mkdirSync(paths.pki, { recursive: true, mode: 0o700 });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  fs.writeFileSync(path.join(paths.pki, 'sa.pub'), publicKey);
  fs.writeFileSync(path.join(paths.pki, 'sa.key'), privateKey, { mode: 0o600 });
  const token = randomBytes(24).toString('hex');
  fs.writeFileSync(path.join(paths.pki, 'tokens.csv'), `${token},lab-admin,lab-admin,"system:masters"\n`, { mode: 0o600 });
  return token;
}

function writeKubeconfig(file: string, server: string, token: string, cluster: string): void {
  const yaml = `apiVersion: v1
kind: Config
clusters:
- name: ${cluster}
  cluster:
    server: ${server}
    insecure-skip-tls-verify: true
users:
- name: lab-admin
  user:
    token: ${token}
contexts:
- name: ${cluster}
  context:
    cluster: ${cluster}
    user: lab-admin
current-context: ${cluster}
`;
  fs.writeFileSync(file, yaml, { mode: 0o600 });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, onTimeout: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${onTimeout()}`);
    await sleep(200);
  }
}

function httpOk(url: string, token?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { rejectUnauthorized: false, timeout: 2000, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

export function labStatusLine(state: LabState | undefined): { up: boolean; dead: string[] } {
  if (!state) return { up: false, dead: [] };
  const dead = state.procs.filter((p) => !isAlive(p)).map((p) => p.name);
  return { up: dead.length === 0, dead };
}

export interface UpResult { state: LabState; reused: boolean; seconds: number }

export async function labUp(opts: LabOptions, log: Logger, paths: LabPaths = labPaths()): Promise<UpResult> {
  const t0 = Date.now();
  const timing = parseTiming(opts.timing);
  checkSubnetsPerZone(opts.subnetsPerZone);
  const kinds = checkNodeKinds(opts);
  const existing = readState(paths);
  if (existing) {
    const { up, dead } = labStatusLine(existing);
    if (up && (await httpOk(`${existing.apiserverUrl}/readyz`, readToken(paths)))) {
      const same = JSON.stringify(normalizeOptions(existing.options)) === JSON.stringify(normalizeOptions(opts));
      if (!same) {
        throw new Error(`the lab in ${paths.dir} is already up with ${JSON.stringify(existing.options)}; ` +
          `run \`npm run lab -- down\` first to start it with ${JSON.stringify(opts)}`);
      }
      log(`lab "${opts.clusterName}" is already up (${paths.dir}); checking nodes and demo workload`);
      const kube = labKube(paths.kubeconfig);
      await ensureWorkload(kube, existing, log, true);
      return { state: existing, reused: true, seconds: (Date.now() - t0) / 1000 };
    }
    log(`found a partly running lab (${dead.length ? `dead: ${dead.join(', ')}` : 'apiserver not ready'}); tearing it down first`);
    await labDown(log, paths);
  }

  const binDir = await ensureBinaries(log);
  const bin = (n: string) => path.join(binDir, n);
  fs.rmSync(paths.dir, { recursive: true, force: true });
  fs.mkdirSync(paths.logs, { recursive: true });
  const token = writePki(paths);
  fs.writeFileSync(paths.auditPolicy, auditPolicyYaml(opts.auditBodies ? 'RequestResponse' : 'Metadata'));
  fs.writeFileSync(paths.kwokConfig, kwokStagesYaml());
  const ports = { etcd: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() };
  const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;
  writeKubeconfig(paths.kubeconfig, apiserverUrl, token, opts.clusterName);

  const state: LabState = {
    version: 1, options: opts, timing, binDir, ports, apiserverUrl, procs: [], nodes: initialNodes(opts.clusterName, opts.nodesPerZone, opts.runtime, kinds),
    region: LAB_REGION, zones: [...LAB_ZONES], startedAt: new Date().toISOString(),
  };
  const start = (name: string, cmd: string[]) => {
    const p = startProc(name, cmd, paths.logs, process.env, REPO_ROOT);
    state.procs.push(p);
    writeState(paths, state);
    return p;
  };
  const died = (p: ProcRecord) => () => (isAlive(p) ? '' : `; ${p.name} exited, last log lines:\n${tail(p.log)}`);

  try {
    log(`starting etcd on 127.0.0.1:${ports.etcd}`);
    const etcd = start('etcd', [bin('etcd'), '--name', 'lab', '--data-dir', paths.etcdData,
      '--listen-client-urls', `http://127.0.0.1:${ports.etcd}`, '--advertise-client-urls', `http://127.0.0.1:${ports.etcd}`,
      '--listen-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`,
      '--initial-cluster', `lab=http://127.0.0.1:${ports.etcdPeer}`, '--unsafe-no-fsync', '--log-level', 'warn',
      '--listen-metrics-urls', '', '--quota-backend-bytes', String(4 * 1024 ** 3)]);
    await waitFor('etcd', () => httpOk(`http://127.0.0.1:${ports.etcd}/health`), 30_000, died(etcd));

    log(`starting kube-apiserver on ${apiserverUrl}`);
    const tol = String(timing.tolerationSeconds);
    const apiserver = start('kube-apiserver', [bin('kube-apiserver'),
      '--etcd-servers', `http://127.0.0.1:${ports.etcd}`,
      '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--secure-port', String(ports.apiserver),
      '--cert-dir', paths.pki, '--token-auth-file', path.join(paths.pki, 'tokens.csv'),
      '--authorization-mode', 'RBAC',
      '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file', path.join(paths.pki, 'sa.pub'),
      '--service-account-signing-key-file', path.join(paths.pki, 'sa.key'),
      '--service-cluster-ip-range', '172.20.0.0/16',
      '--default-not-ready-toleration-seconds', tol, '--default-unreachable-toleration-seconds', tol,
      '--audit-policy-file', paths.auditPolicy, '--audit-log-path', paths.audit, '--audit-log-format', 'json',
      '--audit-log-maxsize', '200', '--audit-log-maxbackup', '2',
      '--enable-priority-and-fairness=false', '--profiling=false', '--event-ttl', '2h',
      '--allow-privileged=true']);
    await waitFor('kube-apiserver /readyz', () => httpOk(`${apiserverUrl}/readyz`, token), 90_000, died(apiserver));

    log('starting kube-controller-manager, kube-scheduler and kwok');
    start('kube-controller-manager', [bin('kube-controller-manager'),
      '--kubeconfig', paths.kubeconfig, '--leader-elect=false', '--secure-port', '0',
      '--service-account-private-key-file', path.join(paths.pki, 'sa.key'),
      '--node-monitor-period', `${timing.nodeMonitorPeriodSeconds}s`,
      '--node-monitor-grace-period', `${timing.nodeMonitorGracePeriodSeconds}s`,
      '--node-startup-grace-period', `${timing.nodeStartupGracePeriodSeconds}s`,
      '--controllers', '*,-nodeipam,-bootstrapsigner,-tokencleaner',
      '--profiling=false']);
    start('kube-scheduler', [bin('kube-scheduler'), '--kubeconfig', paths.kubeconfig, '--leader-elect=false', '--secure-port', '0', '--profiling=false']);
    start('kwok', [bin('kwok'), '--kubeconfig', paths.kubeconfig, '--config', paths.kwokConfig,
      '--manage-all-nodes=false', '--manage-nodes-with-label-selector', HEARTBEAT_SELECTOR,
      '--node-lease-duration-seconds', String(timing.nodeLeaseDurationSeconds), '--cidr', '10.250.0.1/16']);

    const kube = labKube(paths.kubeconfig);
    await ensureWorkload(kube, state, log);
    log('starting the lab daemon (AWS endpoint, SSM sandbox, data plane)');
    const daemon = start('lab-daemon', daemonCommand(paths.dir));
    const aws = await waitForDaemon(paths, died(daemon));
    writeEnvFile(paths, state, awsEnv(aws));
    new WorldLog(paths.world).append('lab.up', { cluster: opts.clusterName, nodes: state.nodes.map((n) => n.name), timing: timing.name });
    return { state, reused: false, seconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    log(`lab up failed; logs are in ${paths.logs}`);
    throw err;
  }
}

/**
 * The lab daemon's command line: lab/daemon.ts under tsx when the lab runs from source, the
 * compiled daemon.js beside this module under plain node when it runs from the package's dist/.
 */
export function daemonCommand(dir: string): string[] {
  const self = fileURLToPath(import.meta.url);
  const ext = path.extname(self);
  const file = path.join(path.dirname(self), `daemon${ext}`);
  return ext === '.ts' ? [process.execPath, '--import', 'tsx', file, dir] : [process.execPath, file, dir];
}

export interface DaemonInfo { pid: number; awsPort: number; loadBalancers: Record<string, number>; sandbox: string }

export function readDaemonInfo(paths: LabPaths): DaemonInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(paths.dir, 'aws.json'), 'utf8')) as DaemonInfo;
  } catch {
    return undefined;
  }
}

async function waitForDaemon(paths: LabPaths, onTimeout: () => string): Promise<DaemonInfo> {
  let info: DaemonInfo | undefined;
  await waitFor('the lab daemon (AWS endpoint and demo load balancer)', async () => {
    info = readDaemonInfo(paths);
    return !!info?.awsPort && !!info.loadBalancers[`${DEMO.namespace}/${DEMO.name}`] && (await httpOk(`http://127.0.0.1:${info.awsPort}/_lab/health`));
  }, 30_000, onTimeout);
  return info!;
}

/** The variables `.lab/env` gains for the AWS side. The credentials are dummies: the lab checks none. */
export function awsEnv(info: DaemonInfo): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${info.awsPort}`,
    AWS_REGION: LAB_REGION,
    AWS_DEFAULT_REGION: LAB_REGION,
    AWS_ACCESS_KEY_ID: 'AKIALABDUMMY00000000',
    AWS_SECRET_ACCESS_KEY: 'lab-dummy-secret-not-a-real-key',
    LAB_AWS_CONTROL_URL: `http://127.0.0.1:${info.awsPort}/_lab`,
    LAB_SERVICE_URL: `http://127.0.0.1:${info.loadBalancers[`${DEMO.namespace}/${DEMO.name}`]}`,
  };
}

function readToken(paths: LabPaths): string | undefined {
  try {
    return fs.readFileSync(path.join(paths.pki, 'tokens.csv'), 'utf8').split(',')[0];
  } catch {
    return undefined;
  }
}

async function ensureWorkload(kube: LabKube, state: LabState, log: Logger, reuse = false): Promise<void> {
  // Nodes first: the kube-controller-manager creates the default ServiceAccount in the meantime.
  // A running lab may have replaced instances (Auto Scaling), so on reuse only the count is checked.
  if (!reuse) {
    let created = 0;
    for (const spec of state.nodes) if ((await ensureObject(kube, nodeObject(spec) as unknown as Record<string, unknown>)) === 'created') created++;
    if (created) log(`created ${created} KWOK nodes in ${LAB_ZONES.join(', ')}`);
  }
  // Ready and untainted: the node-lifecycle controller lifts the not-ready taint a moment after Ready,
  // and pods placed before that would all land in the first zone that became schedulable.
  await waitFor(`${state.nodes.length} Ready, untainted nodes`, async () => {
    const nodes = (await kube.core.listNode()).items.filter((n) => nodeReady(n) && !n.spec?.taints?.length);
    return reuse ? nodes.length >= state.nodes.length : state.nodes.every((s) => nodes.some((n) => n.metadata?.name === s.name));
  }, 60_000);
  log(`${state.nodes.length} nodes Ready`);
  // The EKS default add-ons (CoreDNS, kube-proxy), before the demo so kube-proxy is on every node first.
  for (const obj of addonObjects()) {
    const meta = obj.metadata as { name: string; namespace: string };
    await waitFor(`creating ${obj.kind as string} ${ADDONS.namespace}/${meta.name}`, async () => {
      // read first: creating the kube-dns Service again (fixed clusterIP) answers 422 "already allocated", not 409
      const found = await kube.objects.read({ apiVersion: obj.apiVersion as string, kind: obj.kind as string, metadata: { name: meta.name, namespace: meta.namespace } }).catch(() => undefined);
      if (!found) await ensureObject(kube, obj);
      return true;
    }, 30_000);
  }
  await waitFor(`DaemonSet ${ADDONS.namespace}/${ADDONS.kubeProxy.name} Ready on every node and Deployment ${ADDONS.namespace}/${ADDONS.coredns.name} available`, async () => {
    const ds = await kube.apps.readNamespacedDaemonSet({ name: ADDONS.kubeProxy.name, namespace: ADDONS.namespace });
    const dns = await kube.apps.readNamespacedDeployment({ name: ADDONS.coredns.name, namespace: ADDONS.namespace });
    const want = ds.status?.desiredNumberScheduled ?? 0;
    return want >= state.nodes.length && (ds.status?.numberReady ?? 0) === want && (dns.status?.availableReplicas ?? 0) >= ADDONS.coredns.replicas;
  }, 90_000);
  log(`add-ons: kube-proxy on every node, coredns ${ADDONS.coredns.replicas}/${ADDONS.coredns.replicas} available`);
  for (const obj of demoObjects()) {
    await waitFor(`creating ${obj.kind as string} ${DEMO.namespace}/${DEMO.name}`, async () => {
      await ensureObject(kube, obj);
      return true;
    }, 30_000);
  }
  await waitFor(`Deployment ${DEMO.namespace}/${DEMO.name} to have ${DEMO.replicas} available replicas`, async () => {
    const d = await kube.apps.readNamespacedDeployment({ name: DEMO.name, namespace: DEMO.namespace });
    return (d.status?.availableReplicas ?? 0) >= DEMO.replicas && (d.status?.updatedReplicas ?? 0) >= DEMO.replicas;
  }, 90_000);
  log(`Deployment ${DEMO.namespace}/${DEMO.name}: ${DEMO.replicas}/${DEMO.replicas} available`);
}

export async function labDown(log: Logger, paths: LabPaths = labPaths()): Promise<boolean> {
  const state = readState(paths);
  if (!state) {
    log(`no lab state in ${paths.dir}; nothing to stop`);
    fs.rmSync(paths.dir, { recursive: true, force: true });
    return false;
  }
  // Reverse start order: kwok and controllers before the apiserver, etcd last.
  for (const p of [...state.procs].reverse()) {
    if (isAlive(p)) log(`stopping ${p.name} (pid ${p.pid})`);
    await stopProc(p);
  }
  fs.rmSync(paths.dir, { recursive: true, force: true });
  log(`lab "${state.options.clusterName}" is down`);
  return true;
}

// ---- the apiserver on demand (control-plane outage rehearsals) ----

const APISERVER = 'kube-apiserver';

function apiserverRecord(state: LabState, paths: LabPaths): ProcRecord {
  const p = state.procs.find((x) => x.name === APISERVER);
  if (!p) throw new Error(`the lab in ${paths.dir} has no ${APISERVER} process record`);
  return p;
}

/**
 * Stops the lab's kube-apiserver (SIGTERM, SIGKILL after 5 s); everything else keeps running. The
 * state file keeps its record (with its command line) for `apiserverStart`. Returns false when it was
 * not running.
 */
export async function apiserverStop(paths: LabPaths = labPaths(), log: Logger = () => {}): Promise<boolean> {
  const state = readState(paths);
  if (!state) throw new Error(`no lab state in ${paths.dir}; start it with: npm run lab -- up`);
  const p = apiserverRecord(state, paths);
  if (!isAlive(p)) { log(`${APISERVER} is not running (pid ${p.pid} is gone)`); return false; }
  log(`stopping ${APISERVER} (pid ${p.pid})`);
  await stopProc(p);
  new WorldLog(paths.world).append('apiserver.stopped', { pid: p.pid });
  return true;
}

/**
 * Starts the lab's kube-apiserver again with the same command line (same port, certificates, etcd,
 * audit log), records the new process in the state file and waits for /readyz. A no-op (false) when
 * it is running.
 */
export async function apiserverStart(paths: LabPaths = labPaths(), log: Logger = () => {}, timeoutMs = 90_000): Promise<boolean> {
  const state = readState(paths);
  if (!state) throw new Error(`no lab state in ${paths.dir}; start it with: npm run lab -- up`);
  const old = apiserverRecord(state, paths);
  let started = false;
  let p = old;
  if (!isAlive(old)) {
    log(`starting ${APISERVER} on ${state.apiserverUrl}`);
    p = startProc(APISERVER, old.cmd, paths.logs, process.env, REPO_ROOT);
    state.procs = state.procs.map((x) => (x === old ? p : x));
    writeState(paths, state);
    new WorldLog(paths.world).append('apiserver.started', { pid: p.pid });
    started = true;
  }
  const t0 = Date.now();
  await waitFor(`${APISERVER} /readyz`, () => httpOk(`${state.apiserverUrl}/readyz`, readToken(paths)), timeoutMs,
    () => (isAlive(p) ? '' : `; ${APISERVER} exited, last log lines:\n${tail(p.log)}`));
  if (started) {
    new WorldLog(paths.world).append('apiserver.ready', { pid: p.pid, seconds: (Date.now() - t0) / 1000 });
    log(`${APISERVER} ready after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  return started;
}
