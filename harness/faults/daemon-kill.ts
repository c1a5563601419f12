// daemon-kill: kubelet, kube-proxy, containerd or docker, through SSM AWS-RunShellScript on instances
// SSM shows Online (at most 50 ids a call). The script installs a node-local restart timer
// (systemd-run --on-active) BEFORE it stops the daemon, so the node heals itself even if the harness
// dies; revert starts the daemon explicitly too.
import { z } from 'zod';
import { formatDuration } from '../duration.js';
import { HarnessError, ExitCode, invalid } from '../exit-codes.js';
import type { Journal } from '../journal.js';
import { chooseNodes, verifyInstances, workloadHosts, type TargetNode } from './targets.js';
import { until, type RevertContext, type RevertReport } from './types.js';
import { defineFaultKind, type SweepResult } from './kind.js';
import { shellCommand } from '../shell.js';
import { durationField, durationFlag, selectionFields, selectionFlags } from './schema.js';
import type { Aws } from '../aws/index.js';

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

const unitRe = /^[a-z0-9-]+$/;

export function timerUnit(daemon: string, runId: string): string {
  return `chaos-restore-${daemon}-${runId.split("-").pop()}`.toLowerCase();
}

/** The shell script sent through SSM. `daemon` and `timer` are validated names, `seconds` an integer. */
export function killScript(daemon: string, mode: 'stop' | 'kill', seconds: number, timer: string): string[] {
  if (!unitRe.test(daemon) || !unitRe.test(timer) || !Number.isInteger(seconds)) throw new Error('bad daemon-kill script arguments');
  const arm = `systemd-run --on-active=${seconds}s --unit=${timer} systemctl start ${daemon}`;
  const act = mode === 'stop'
    ? [`systemctl stop ${daemon}`, `echo "chaos: ${daemon} stopped; node-local timer ${timer} starts it in ${seconds}s"`]
    : [`pid=$(pgrep -x ${daemon}) || { echo "chaos: ${daemon} is not running" >&2; exit 3; }`, `kill -9 $pid`, `echo "chaos: ${daemon} (pid $pid) killed with SIGKILL; systemd's Restart= policy decides; timer ${timer} starts it in ${seconds}s at the latest"`];
  const unitPath = [arm, ...act];
  if (daemon !== 'kube-proxy') return ['set -u', ...unitPath];
  // kube-proxy is a systemd unit on some AMIs and a DaemonSet container (EKS add-on) on others.
  return [
    'set -u',
    'if systemctl status kube-proxy >/dev/null 2>&1; then',
    ...unitPath.map((l) => `  ${l}`),
    'elif command -v crictl >/dev/null 2>&1 && [ -n "$(crictl ps --name kube-proxy -q 2>/dev/null)" ]; then',
    '  for c in $(crictl ps --name kube-proxy -q); do crictl stop "$c"; done',
    '  echo "chaos: kube-proxy runs as a DaemonSet container here; stopped it, kubelet restarts it (it cannot be kept down for the duration)"',
    'else',
    '  echo "chaos: kube-proxy is neither a systemd unit nor a running container on this node" >&2; exit 3',
    'fi',
  ];
}

export function restoreScript(daemon: string): string[] {
  if (!unitRe.test(daemon)) throw new Error('bad daemon name');
  if (daemon === 'kube-proxy') return ['if systemctl status kube-proxy >/dev/null 2>&1; then systemctl start kube-proxy; fi', 'echo "chaos: kube-proxy restored"'];
  return [`systemctl start ${daemon}`, `systemctl is-active ${daemon}`];
}

export interface CommandResult { instanceId: string; status: string; statusDetails?: string; responseCode?: number; stdout: string; stderr: string }

/** Sends one script to ≤ 50 instances a call and waits for every invocation, through the InvocationDoesNotExist race. */
export async function runOnInstances(aws: Aws, ids: string[], commands: string[], comment: string, timeoutMs: number, onSent?: (commandId: string, batch: string[]) => void): Promise<CommandResult[]> {
  const out: CommandResult[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const batch = ids.slice(i, i + 50);
    const id = await aws.sendShellScript(batch, commands, comment, Math.ceil(timeoutMs / 1000));
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

export const daemonKill = defineFaultKind<DaemonKillSpec, DaemonKillResources>({
  kind: 'daemon-kill',
  doc: {
    summary: 'stop (or SIGKILL) kubelet, kube-proxy or the container runtime on chosen nodes through SSM, with a node-local restart timer',
    fields: '`daemon: kubelet | kube-proxy | containerd | docker | runtime`, `mode: stop | kill`, `count`/`percent`, `selector`, `nodeGroup`, `zone`, `duration`',
    effect: 'kubelet: heartbeat stops, pods keep running · kube-proxy: the node routes by a frozen view · runtime: NotReady, pods on it reset connections',
  },
  schema: DaemonKillSpec,
  flags: [
    { field: 'daemon', flag: '--daemon <daemon>', help: 'which daemon ("runtime" follows what each node reports)', choices: [...DAEMONS, 'runtime'] },
    { field: 'mode', flag: '--mode <mode>', help: 'systemctl stop, or SIGKILL', choices: ['stop', 'kill'] },
    ...selectionFlags, durationFlag,
  ],
  iam: [
    {
      Sid: 'RunShellScriptOnClusterNodesOnly',
      Effect: 'Allow',
      Action: ['ssm:SendCommand'],
      Resource: 'arn:aws:ec2:*:*:instance/*',
      Condition: { StringLike: { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': ['owned', 'shared'] } },
    },
    {
      Sid: 'RunShellScriptDocumentOnly',
      Effect: 'Allow',
      Action: ['ssm:SendCommand'],
      Resource: 'arn:aws:ssm:*::document/AWS-RunShellScript',
    },
  ],
  rbac: [{ scope: 'cluster', apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],

  async plan(ctx, spec) {
    const r = await chooseNodes(ctx.kube, spec, ctx.limits, ctx.seed, ctx.workloads ? await workloadHosts(ctx.kube, ctx.workloads) : undefined, ctx.selfNode);
    const ids = r.chosen.map((n) => n.instanceId);
    await verifyInstances(ctx.aws, ids, ctx.guard);
    const daemons = new Map<string, string>();
    for (const n of r.chosen) daemons.set(n.instanceId, daemonFor(spec, n));
    const ping = await ctx.aws.pingStatus(ids);
    const offline = ids.filter((id) => ping.get(id) !== 'Online');
    if (offline.length) throw invalid(`daemon-kill: SSM does not show these instances Online: ${offline.map((id) => `${id} (${ping.get(id) ?? 'not registered'})`).join(', ')}`);
    const secs = Math.ceil(spec.duration / 1000);
    const lines = r.chosen.map((n) => `${spec.mode === 'stop' ? 'systemctl stop' : 'SIGKILL'} ${daemons.get(n.instanceId)} on ${n.instanceId} (node ${n.name}, ${n.zone}) via SSM AWS-RunShellScript`);
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
        { action: 'ssm:SendCommand', resources: ['document/AWS-RunShellScript', ...ids], when: 'inject' },
        { action: 'ssm:GetCommandInvocation', resources: ids, when: 'inject' },
        { action: 'ssm:SendCommand', resources: ['document/AWS-RunShellScript', ...ids], when: 'revert' },
        { action: 'ssm:GetCommandInvocation', resources: ids, when: 'revert' },
      ],
    };
  },

  async checkPermissions() {
    return ['ssm:SendCommand: SSM has no DryRun; checked by the IAM policy `chaos iam-policy` prints'];
  },

  async inject(ctx, plan, j) {
    const { daemons, mode } = plan.resources;
    const secs = Math.ceil(plan.durationMs / 1000);
    const byDaemon = new Map<string, string[]>();
    for (const [id, d] of Object.entries(daemons)) byDaemon.set(d, [...(byDaemon.get(d) ?? []), id]);
    for (const [daemon, ids] of byDaemon) {
      const timer = timerUnit(daemon, ctx.runId);
      const script = killScript(daemon, mode, secs, timer);
      const results = await j.step('ssm.kill', { instanceIds: ids, daemon, mode, timer, seconds: secs },
        () => runOnInstances(ctx.aws, ids, script, `chaos ${ctx.runId} ${mode} ${daemon}`, 120_000),
        (rs) => ({ results: rs.map((x) => ({ instanceId: x.instanceId, status: x.status, responseCode: x.responseCode })) }));
      const failed = results.filter((x) => x.status !== 'Success');
      if (failed.length) {
        throw new HarnessError(`daemon-kill: the SSM command failed on ${failed.length} instance(s)`, ExitCode.Error,
          failed.map((x) => `${x.instanceId}: ${x.status}${x.statusDetails ? `/${x.statusDetails}` : ''} ResponseCode ${x.responseCode}; stdout: ${x.stdout.trim() || '(empty)'}; stderr: ${x.stderr.trim() || '(empty)'}`));
      }
      for (const x of results) ctx.log(`${x.instanceId}: ${x.stdout.trim()}`);
    }
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
        () => runOnInstances(ctx.aws, online, restoreScript(daemon), `chaos restore ${daemon}`, 120_000),
        (xs) => ({ results: xs.map((x) => ({ instanceId: x.instanceId, status: x.status })) }));
      for (const r of rs) {
        if (r.status === 'Success') report.actions.push(`started ${daemon} on ${r.instanceId}`);
        else report.leftovers.push({ what: `${daemon} on ${r.instanceId}: restore command ${r.status} (${r.stderr.trim()})`, fix: [shellCommand(['aws', 'ssm', 'send-command', '--document-name', 'AWS-RunShellScript', '--instance-ids', r.instanceId, '--parameters', `commands=["systemctl start ${daemon}"]`])] });
      }
    }
    for (const id of offline) {
      report.leftovers.push({
        what: `${daemon} on ${id}: SSM shows the instance ${ping.get(id) ?? 'unregistered'}; its node-local timer ${e.data.timer} starts ${daemon} ${e.data.seconds}s after ${e.time}`,
        fix: [shellCommand(['aws', 'ssm', 'send-command', '--document-name', 'AWS-RunShellScript', '--instance-ids', id, '--parameters', `commands=["systemctl start ${daemon}"]`]), 'or wait for the node-local timer, then check: kubectl get node'],
      });
    }
  }
  return report;
}
