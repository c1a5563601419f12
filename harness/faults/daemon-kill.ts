// daemon-kill: kubelet, kube-proxy, containerd or docker, through the harness's own SSM documents
// (harness/aws/ssm-documents.ts: parameters restricted to a fixed daemon list, digits and a timer
// name pattern; never AWS-RunShellScript) on instances SSM shows Online (at most 50 ids a call). The
// document arms a node-local restart timer (systemd-run --on-active) and checks it exists BEFORE it
// stops the daemon, so the node heals itself even if the harness dies; revert starts the daemon
// explicitly too.
import { z } from 'zod';
import { formatDuration } from '../duration.js';
import { HarnessError, ExitCode, FaultNotTaken, invalid } from '../exit-codes.js';
import type { Journal } from '../journal.js';
import { chooseNodes, describeNode, verifyInstances, workloadHosts, type TargetNode } from './targets.js';
import { BOTTLEROCKET_WHY } from './node-kinds.js';
import { heartbeatLossExpected, MISSING, nodesReach, RUNTIME_NOT_READY_MS, skipped, verification } from './effects.js';
import { formatMs } from '../duration.js';
import { until, type RevertContext, type RevertReport } from './types.js';
import { DAEMON_KILL, DAEMON_KILL_REQUESTS } from '../iam/statements.js';
import { defineFaultKind, type SweepResult } from './kind.js';
import { durationField, durationFlag, selectionFields, selectionFlags } from './schema.js';
import type { Aws } from '../aws/index.js';
import { daemonFaultCall, daemonRestoreCall, DOCUMENT_NAMES, NOT_TAKEN_EXIT, restoreFixCommand, VERIFIED_MARK } from '../aws/ssm-documents.js';

export const DAEMONS = ['kubelet', 'kube-proxy', 'containerd', 'docker'] as const;
export const DaemonKillSpec = z.object({
  kind: z.literal('daemon-kill'),
  daemon: z.enum([...DAEMONS, 'runtime']),
  /** `stop`: systemctl stop, down for `duration`; `kill`: SIGKILL, systemd's policy decides the restart */
  mode: z.enum(['stop', 'kill']).default('stop'),
  ...selectionFields,
  duration: durationField(),
}).strict();
export type DaemonKillSpec = z.output<typeof DaemonKillSpec>;


export function timerUnit(daemon: string, runId: string): string {
  return `chaos-restore-${daemon}-${runId.split("-").pop()}`.toLowerCase();
}

export interface CommandResult { instanceId: string; status: string; statusDetails?: string; responseCode?: number; stdout: string; stderr: string }

/** Sends one harness document to ≤ 50 instances a call and waits for every invocation, through the InvocationDoesNotExist race. */
export async function runOnInstances(aws: Aws, ids: string[], call: { documentName: string; parameters: Record<string, string> }, comment: string, timeoutMs: number, onSent?: (commandId: string, batch: string[]) => void): Promise<CommandResult[]> {
  const out: CommandResult[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const batch = ids.slice(i, i + 50);
    const id = await aws.sendDocument(batch, call.documentName, call.parameters, comment, Math.ceil(timeoutMs / 1000));
    onSent?.(id, batch);
    for (const inst of batch) {
      const r = await until(`SSM command ${id} on ${inst}`, timeoutMs + 60_000, async () => {
        const x = await aws.invocation(id, inst);
        return x && !['Pending', 'InProgress', 'Delayed', 'Cancelling'].includes(x.status) ? x : undefined;
      }, 300);
      out.push({ instanceId: inst, ...r });
    }
  }
  return out;
}

/** The script's own check of its effect (its `chaos: verified:` line), if it printed one. */
export function verifiedLine(stdout: string): string | undefined {
  return stdout.split('\n').find((l) => l.startsWith(VERIFIED_MARK))?.slice(VERIFIED_MARK.length).trim();
}

export interface DaemonKillResources { nodes: TargetNode[]; daemons: Record<string, string>; mode: DaemonKillSpec['mode'] }

/** `runtime` (or a runtime name) resolves per node from what the node reports. */
function daemonFor(spec: DaemonKillSpec, n: TargetNode): string {
  const want = spec.daemon;
  if (want === 'kubelet' || want === 'kube-proxy') return want;
  if (want === 'runtime') {
    if (n.runtime !== 'containerd' && n.runtime !== 'docker') throw invalid(`daemon-kill: node ${n.name} reports runtime "${n.runtime}", neither containerd nor docker`);
    return n.runtime;
  }
  if (n.runtime !== want) throw invalid(`daemon-kill: node ${n.name} runs ${n.runtime}, not ${want} (use daemon: runtime to follow what each node reports)`);
  return want;
}

/** How the fault acts on this node, for the plan (amazon-eks-ami's units: templates/al2023, templates/al2). */
export function howItActs(daemon: string, mode: DaemonKillSpec['mode'], n: TargetNode): string {
  if (daemon === 'kube-proxy') {
    return mode === 'stop'
      ? 'freeze kube-proxy with SIGSTOP (the kube-proxy DaemonSet\'s container: kubelet would restart a killed one, not a stopped one; a node-local timer sends SIGCONT); checked: process state T, 127.0.0.1:10256/healthz silent'
      : 'SIGKILL kube-proxy (the DaemonSet\'s container): kubelet restarts it after its back-off';
  }
  const unit = daemon === 'kubelet'
    ? 'kubelet.service (Restart=on-failure: down until started) → the heartbeat stops, Ready=Unknown after the grace period; pods keep running'
    : daemon === 'containerd'
      ? 'containerd.service (KillMode=process: running containers keep serving) → kubelet reports the runtime down, Ready=False'
      : `docker.service (${n.kind.os === 'al2' ? 'kubelet Requires=docker: kubelet stops with it' : 'the runtime'}) → NotReady`;
  return `${mode === 'stop' ? 'systemctl stop' : 'SIGKILL'} ${unit}`;
}

export const daemonKill = defineFaultKind<DaemonKillSpec, DaemonKillResources>({
  kind: 'daemon-kill',
  doc: {
    summary: 'stop (or SIGKILL) kubelet, kube-proxy or the container runtime on chosen nodes through SSM, with a node-local restart timer',
    fields: '`daemon: kubelet | kube-proxy | containerd | docker | runtime`, `mode: stop | kill`, `count`/`percent`, `selector`, `nodeGroup`, `zone`, `duration`',
    effect: 'kubelet: heartbeat stops, pods keep running · kube-proxy (frozen: SIGSTOP): the node routes by a frozen view · runtime: NotReady · never on Bottlerocket · verified: the node script checks its own effect, then Ready=Unknown (kubelet) / not Ready (runtime)',
  },
  schema: DaemonKillSpec,
  flags: [
    { field: 'daemon', flag: '--daemon <daemon>', help: 'which daemon ("runtime" follows what each node reports)', choices: [...DAEMONS, 'runtime'] },
    { field: 'mode', flag: '--mode <mode>', help: 'systemctl stop, or SIGKILL', choices: ['stop', 'kill'] },
    ...selectionFlags, durationFlag,
  ],
  iam: DAEMON_KILL,
  iamRequests: DAEMON_KILL_REQUESTS,
  rbac: [{ scope: 'cluster', apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],

  async plan(ctx, spec) {
    const r = await chooseNodes(ctx.kube, spec, ctx.limits, ctx.seed, ctx.workloads ? await workloadHosts(ctx.kube, ctx.workloads) : undefined, ctx.selfNode,
      (n) => (n.kind.os === 'bottlerocket' ? BOTTLEROCKET_WHY : undefined), 'daemon-kill');
    const ids = r.chosen.map((n) => n.instanceId);
    await verifyInstances(ctx.aws, ids, ctx.guard);
    const daemons = new Map<string, string>();
    for (const n of r.chosen) daemons.set(n.instanceId, daemonFor(spec, n));
    // the documents must be installed (by an admin: the run role cannot create them)
    const docs = await ctx.aws.installDocuments({ dryRun: true });
    const missing = docs.filter((d) => d.action !== 'unchanged');
    if (missing.length) throw invalid(`daemon-kill: the harness's SSM documents are not installed as this version expects: ${missing.map((d) => `${d.name} (${d.action})`).join(', ')}`, ['deploy examples/iam/chaos-harness.yaml, or run `chaos install-documents` with an admin role']);
    const ping = await ctx.aws.pingStatus(ids);
    const offline = ids.filter((id) => ping.get(id) !== 'Online');
    if (offline.length) throw invalid(`daemon-kill: SSM does not show these instances Online: ${offline.map((id) => `${id} (${ping.get(id) ?? 'not registered'})`).join(', ')}`);
    const secs = Math.ceil(spec.duration / 1000);
    const lines = r.chosen.map((n) => `${describeNode(n)}: ${howItActs(daemons.get(n.instanceId)!, spec.mode, n)}; via SSM document ${spec.mode === 'stop' ? DOCUMENT_NAMES.stop : DOCUMENT_NAMES.kill}`);
    for (const x of r.skipped) lines.push(`skipped ${x.node.name}: ${x.why}`);
    lines.push(`each node first arms a local timer (systemd-run --on-active=${secs}s --unit=${timerUnit('<daemon>', ctx.runId)}) that starts the daemon again even if the harness dies`);
    lines.push(spec.mode === 'stop' ? `hold ${formatDuration(spec.duration)}, then systemctl start through SSM` : `systemd's Restart= policy decides when it comes back; revert starts it after ${formatDuration(spec.duration)} at the latest`);
    lines.push(`seed ${r.seed}: ${r.chosen.length} of ${r.matching.length} matching Ready nodes${ctx.workloads ? ' running the scenario\'s workloads' : ''}`);
    return {
      kind: 'daemon-kill',
      summary: `${spec.mode} ${[...new Set(daemons.values())].join('/')} on ${ids.length} node(s) for ${formatDuration(spec.duration)}`,
      lines,
      durationMs: spec.duration,
      resources: { nodes: r.chosen, daemons: Object.fromEntries(daemons), mode: spec.mode },
      calls: [
        { action: 'ssm:DescribeInstanceInformation', resources: ids, when: 'check' },
        { action: 'ssm:SendCommand', resources: [`document/${spec.mode === 'stop' ? DOCUMENT_NAMES.stop : DOCUMENT_NAMES.kill}`, ...ids], when: 'inject' },
        { action: 'ssm:GetCommandInvocation', resources: ids, when: 'inject' },
        { action: 'ssm:SendCommand', resources: [`document/${DOCUMENT_NAMES.restore}`, ...ids], when: 'revert' },
        { action: 'ssm:GetCommandInvocation', resources: ids, when: 'revert' },
      ],
    };
  },

  async checkPermissions() {
    return ['ssm:SendCommand: SSM has no DryRun; the harness documents are installed (checked in the plan); the IAM policy `chaos iam-policy` prints is proven by an IAM simulator in the tests'];
  },

  async inject(ctx, plan, j) {
    const { daemons, mode } = plan.resources;
    const secs = Math.ceil(plan.durationMs / 1000);
    const byDaemon = new Map<string, string[]>();
    for (const [id, d] of Object.entries(daemons)) byDaemon.set(d, [...(byDaemon.get(d) ?? []), id]);
    for (const [daemon, ids] of byDaemon) {
      const timer = timerUnit(daemon, ctx.runId);
      const call = daemonFaultCall(daemon, mode, secs, timer);
      const results = await j.step('ssm.kill', { instanceIds: ids, daemon, mode, timer, seconds: secs },
        () => runOnInstances(ctx.aws, ids, call, `chaos ${ctx.runId} ${mode} ${daemon}`, 120_000),
        (rs) => ({ results: rs.map((x) => ({ instanceId: x.instanceId, status: x.status, responseCode: x.responseCode, verified: verifiedLine(x.stdout) })) }));
      const notTaken = results.filter((x) => x.responseCode === NOT_TAKEN_EXIT);
      if (notTaken.length) {
        throw new FaultNotTaken(`daemon-kill: ${daemon} on ${notTaken.length} instance(s): the node script saw no effect`,
          notTaken.map((x) => `${MISSING}${x.instanceId}: ${x.stderr.trim() || x.stdout.trim() || '(no output)'}`));
      }
      const failed = results.filter((x) => x.status !== 'Success');
      if (failed.length) {
        throw new HarnessError(`daemon-kill: the SSM command failed on ${failed.length} instance(s)`, ExitCode.Error,
          failed.map((x) => `${x.instanceId}: ${x.status}${x.statusDetails ? `/${x.statusDetails}` : ''} ResponseCode ${x.responseCode}; stdout: ${x.stdout.trim() || '(empty)'}; stderr: ${x.stderr.trim() || '(empty)'}`));
      }
      for (const x of results) ctx.log(`${x.instanceId}: ${x.stdout.trim()}`);
    }
  },

  /**
   * The node scripts checked their own effect (a `chaos: verified:` line each); then Kubernetes:
   * kubelet stopped → Ready=Unknown within the grace period; a runtime stopped → not Ready.
   */
  async verify(ctx, plan, j) {
    const { nodes, daemons, mode } = plan.resources;
    const seen = new Map<string, string>();
    for (const e of j.doneFor('ssm.kill')) for (const x of (e.data.results as Array<{ instanceId: string; verified?: string }>) ?? []) if (x.verified) seen.set(x.instanceId, x.verified);
    const script = { ok: nodes.every((n) => seen.has(n.instanceId)), lines: nodes.map((n) => (seen.has(n.instanceId) ? `${n.name}: ${seen.get(n.instanceId)}` : `${MISSING}${n.name}: the node script reported no verified effect`)) };
    const checks = [script];
    if (mode === 'stop') {
      const kubelet = nodes.filter((n) => daemons[n.instanceId] === 'kubelet').map((n) => n.name);
      const runtime = nodes.filter((n) => daemons[n.instanceId] === 'containerd' || daemons[n.instanceId] === 'docker').map((n) => n.name);
      const noHeartbeatLoss = heartbeatLossExpected(ctx, plan.durationMs);
      if (kubelet.length) checks.push(noHeartbeatLoss ? skipped(noHeartbeatLoss) : await nodesReach(ctx, kubelet, 'unknown'));
      if (runtime.length) checks.push(plan.durationMs < RUNTIME_NOT_READY_MS ? skipped(`the Node is not expected to turn NotReady: the fault lasts ${formatMs(plan.durationMs)}, less than the ${formatMs(RUNTIME_NOT_READY_MS)} kubelet takes to report the runtime gone`) : await nodesReach(ctx, runtime, 'not-ready'));
    }
    return verification(checks);
  },

  faulted: (plan) => ({ nodes: plan.resources.nodes.map((n) => n.name), zones: [], pods: [] }),

  revert: revertDaemonKill,

  /** Nothing is tagged: a node-local timer restores each daemon even without the harness or a journal. */
  async sweep(): Promise<SweepResult> {
    return { findings: [], leftovers: [] };
  },
});

async function revertDaemonKill(ctx: RevertContext, j: Journal): Promise<RevertReport> {
  const report: RevertReport = { actions: [], leftovers: [] };
  const restored = new Set(j.doneFor('ssm.restore').flatMap((e) => (e.data.instanceIds as string[]).map((id) => `${e.data.daemon}/${id}`)));
  for (const e of j.intents('ssm.kill')) {
    const daemon = e.data.daemon as string;
    const ids = (e.data.instanceIds as string[]).filter((id) => !restored.has(`${daemon}/${id}`));
    if (!ids.length) continue;
    const ping = await ctx.aws.pingStatus(ids);
    const online = ids.filter((id) => ping.get(id) === 'Online');
    const offline = ids.filter((id) => ping.get(id) !== 'Online');
    if (online.length) {
      const rs = await j.step('ssm.restore', { instanceIds: online, daemon },
        () => runOnInstances(ctx.aws, online, daemonRestoreCall(daemon, typeof e.data.timer === 'string' ? e.data.timer : undefined), `chaos ${j.runId} restore ${daemon}`, 120_000),
        (xs) => ({ results: xs.map((x) => ({ instanceId: x.instanceId, status: x.status })) }));
      for (const r of rs) {
        if (r.status === 'Success') report.actions.push(`started ${daemon} on ${r.instanceId}`);
        else report.leftovers.push({ what: `${daemon} on ${r.instanceId}: restore command ${r.status} (${r.stderr.trim()})`, fix: [restoreFixCommand(r.instanceId, daemon)] });
      }
    }
    for (const id of offline) {
      report.leftovers.push({
        what: `${daemon} on ${id}: SSM shows the instance ${ping.get(id) ?? 'unregistered'}; its node-local timer ${e.data.timer} starts ${daemon} ${e.data.seconds}s after ${e.time}`,
        fix: [restoreFixCommand(id, daemon), 'or wait for the node-local timer, then check: kubectl get node'],
      });
    }
  }
  return report;
}
