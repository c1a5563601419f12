// daemon-kill: kubelet, kube-proxy, containerd or docker, through SSM AWS-RunShellScript on instances
// SSM shows Online (at most 50 ids a call). The script installs a node-local restart timer
// (systemd-run --on-active) BEFORE it stops the daemon, so the node heals itself even if the harness
// dies; revert starts the daemon explicitly too.
import { formatDuration } from '../duration.js';
import { HarnessError, ExitCode, invalid } from '../exit-codes.js';
import type { Journal } from '../journal.js';
import { chooseNodes, verifyInstances, workloadHosts, type Resolved, type TargetNode } from './targets.js';
import { until, type Fault, type FaultContext, type Plan, type Reverter, type RevertReport } from './types.js';
import type { DaemonKillSpec } from './spec.js';
import type { Aws } from '../aws/index.js';

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

export class DaemonKill implements Fault {
  readonly kind = 'daemon-kill';
  private resolved?: Resolved;
  private daemons = new Map<string, string>();

  constructor(private readonly ctx: FaultContext, private readonly spec: DaemonKillSpec) {}

  /** `runtime` (or a runtime name) resolves per node from what the node reports. */
  private daemonFor(n: TargetNode): string {
    const want = this.spec.daemon;
    if (want === 'kubelet' || want === 'kube-proxy') return want;
    if (want === 'runtime') {
      if (n.runtime !== 'containerd' && n.runtime !== 'docker') throw invalid(`daemon-kill: node ${n.name} reports runtime "${n.runtime}", neither containerd nor docker`);
      return n.runtime;
    }
    if (n.runtime !== want) throw invalid(`daemon-kill: node ${n.name} runs ${n.runtime}, not ${want} (use daemon: runtime to follow what each node reports)`);
    return want;
  }

  async plan(): Promise<Plan> {
    const r = (this.resolved = await chooseNodes(this.ctx.kube, this.spec, this.ctx.limits, this.ctx.seed, this.ctx.workloads ? await workloadHosts(this.ctx.kube, this.ctx.workloads) : undefined));
    const ids = r.chosen.map((n) => n.instanceId);
    await verifyInstances(this.ctx.aws, ids, this.ctx.guard);
    for (const n of r.chosen) this.daemons.set(n.instanceId, this.daemonFor(n));
    const ping = await this.ctx.aws.pingStatus(ids);
    const offline = ids.filter((id) => ping.get(id) !== 'Online');
    if (offline.length) throw invalid(`daemon-kill: SSM does not show these instances Online: ${offline.map((id) => `${id} (${ping.get(id) ?? 'not registered'})`).join(', ')}`);
    const secs = Math.ceil(this.spec.duration / 1000);
    const lines = r.chosen.map((n) => `${this.spec.mode === 'stop' ? 'systemctl stop' : 'SIGKILL'} ${this.daemons.get(n.instanceId)} on ${n.instanceId} (node ${n.name}, ${n.zone}) via SSM AWS-RunShellScript`);
    lines.push(`each node first arms a local timer (systemd-run --on-active=${secs}s --unit=${timerUnit('<daemon>', this.ctx.runId)}) that starts the daemon again even if the harness dies`);
    lines.push(this.spec.mode === 'stop' ? `hold ${formatDuration(this.spec.duration)}, then systemctl start through SSM` : `systemd's Restart= policy decides when it comes back; revert starts it after ${formatDuration(this.spec.duration)} at the latest`);
    lines.push(`seed ${r.seed}: ${r.chosen.length} of ${r.matching.length} matching Ready nodes${this.ctx.workloads ? ' running the scenario\'s workloads' : ''}`);
    return {
      kind: this.kind,
      summary: `${this.spec.mode} ${[...new Set(this.daemons.values())].join('/')} on ${ids.length} node(s) for ${formatDuration(this.spec.duration)}`,
      lines,
      durationMs: this.spec.duration,
      resources: { nodes: r.chosen, daemons: Object.fromEntries(this.daemons), mode: this.spec.mode },
      calls: [
        { action: 'ssm:DescribeInstanceInformation', resources: ids, when: 'check' },
        { action: 'ssm:SendCommand', resources: ['document/AWS-RunShellScript', ...ids], when: 'inject' },
        { action: 'ssm:GetCommandInvocation', resources: ids, when: 'inject' },
        { action: 'ssm:SendCommand', resources: ['document/AWS-RunShellScript', ...ids], when: 'revert' },
        { action: 'ssm:GetCommandInvocation', resources: ids, when: 'revert' },
      ],
    };
  }

  async checkPermissions(): Promise<string[]> {
    return ['ssm:SendCommand: SSM has no DryRun; checked by the IAM policy shipped in harness/iam/policy.json'];
  }

  async inject(j: Journal): Promise<void> {
    const secs = Math.ceil(this.spec.duration / 1000);
    const byDaemon = new Map<string, string[]>();
    for (const [id, d] of this.daemons) byDaemon.set(d, [...(byDaemon.get(d) ?? []), id]);
    for (const [daemon, ids] of byDaemon) {
      const timer = timerUnit(daemon, this.ctx.runId);
      const script = killScript(daemon, this.spec.mode, secs, timer);
      const results = await j.step('ssm.kill', { instanceIds: ids, daemon, mode: this.spec.mode, timer, seconds: secs },
        () => runOnInstances(this.ctx.aws, ids, script, `chaos ${this.ctx.runId} ${this.spec.mode} ${daemon}`, 120_000),
        (rs) => ({ results: rs.map((x) => ({ instanceId: x.instanceId, status: x.status, responseCode: x.responseCode })) }));
      const failed = results.filter((x) => x.status !== 'Success');
      if (failed.length) {
        throw new HarnessError(`daemon-kill: the SSM command failed on ${failed.length} instance(s)`, ExitCode.Error,
          failed.map((x) => `${x.instanceId}: ${x.status}${x.statusDetails ? `/${x.statusDetails}` : ''} ResponseCode ${x.responseCode}; stdout: ${x.stdout.trim() || '(empty)'}; stderr: ${x.stderr.trim() || '(empty)'}`));
      }
      for (const x of results) this.ctx.log(`${x.instanceId}: ${x.stdout.trim()}`);
    }
  }
}

export const revertDaemonKill: Reverter = async (ctx, j) => {
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
        else report.leftovers.push({ what: `${daemon} on ${r.instanceId}: restore command ${r.status} (${r.stderr.trim()})`, fix: [`aws ssm send-command --document-name AWS-RunShellScript --instance-ids ${r.instanceId} --parameters 'commands=["systemctl start ${daemon}"]'`] });
      }
    }
    for (const id of offline) {
      report.leftovers.push({
        what: `${daemon} on ${id}: SSM shows the instance ${ping.get(id) ?? 'unregistered'}; its node-local timer ${e.data.timer} starts ${daemon} ${e.data.seconds}s after ${e.time}`,
        fix: [`aws ssm send-command --document-name AWS-RunShellScript --instance-ids ${id} --parameters 'commands=["systemctl start ${daemon}"]'`, 'or wait for the node-local timer, then check: kubectl get node'],
      });
    }
  }
  return report;
};
