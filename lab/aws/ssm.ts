// SSM (JSON 1.1, X-Amz-Target AmazonSSM.*): instance registration and Run Command with the
// AWS-RunShellScript document or the account's own Command documents (ssm-documents.ts: Create /
// Describe / Get / UpdateDocument, parameters validated, {{ }} substituted). Scripts really run, in the
// sandbox (sandbox.ts), against the node.
import { randomUUID, randomBytes } from 'node:crypto';
import { AwsError } from './wire.js';
import type { Instance, World } from './model.js';
import { runScript, type SandboxLayout } from './sandbox.js';
import { DocumentStore, type StepPlan } from './ssm-documents.js';
import { HARNESS_DOCUMENTS } from '../../harness/aws/ssm-documents.js';
import { labAccountId } from './sts.js';

type Json = Record<string, unknown>;

interface Invocation {
  instanceId: string;
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled' | 'Cancelling' | 'Delayed';
  statusDetails: string;
  responseCode: number;
  stdout: string;
  stderr: string;
  visibleAt: number;
  requestedAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  cancel?: () => void;
}

interface Command {
  id: string;
  comment: string;
  documentName: string;
  parameters: Record<string, string[]>;
  instanceIds: string[];
  requestedAt: Date;
  timeoutSeconds: number;
  /** '$DEFAULT' for AWS-RunShellScript, the version number run for an own document */
  documentVersion: string;
  /** the aws:runShellScript steps, in order; a failing step ends the invocation */
  steps: StepPlan[];
  invocations: Map<string, Invocation>;
}

const TERMINAL = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v) throw new AwsError('ValidationException', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  return v;
}

export class Ssm {
  readonly commands = new Map<string, Command>();
  readonly nodeToken = randomBytes(16).toString('hex');
  readonly documents = new DocumentStore(labAccountId());

  constructor(private readonly world: World, private readonly sandbox: SandboxLayout) {
    // The account's admin installed the harness's documents (examples/iam/chaos-harness.yaml or
    // `chaos install-documents`): the run role may use them, never create them.
    for (const d of HARNESS_DOCUMENTS) this.documents.create({ Name: d.name, Content: d.text, DocumentType: 'Command', DocumentFormat: 'JSON' });
  }

  private managed(id: string): Instance | undefined {
    const i = this.world.instances.get(id);
    return i && i.state !== 'terminated' ? i : undefined;
  }

  handle(op: string, body: Json): Json {
    switch (op) {
      case 'DescribeInstanceInformation': return this.describeInstanceInformation(body);
      case 'SendCommand': return this.sendCommand(body);
      case 'GetCommandInvocation': return this.getCommandInvocation(body);
      case 'ListCommandInvocations': return this.listCommandInvocations(body);
      case 'ListCommands': return this.listCommands(body);
      case 'CancelCommand': return this.cancelCommand(body);
      case 'CreateDocument': return this.documents.create(body);
      case 'DescribeDocument': return this.documents.describe(body);
      case 'GetDocument': return this.documents.get(body);
      case 'UpdateDocument': return this.documents.update(body);
      case 'UpdateDocumentDefaultVersion': return this.documents.updateDefault(body);
      default: throw new AwsError('UnknownOperationException', `Unknown operation ${op}`);
    }
  }

  private describeInstanceInformation(body: Json): Json {
    let ids: string[] | undefined;
    for (const f of (body.Filters as Array<{ Key: string; Values: string[] }> | undefined) ?? []) {
      if (f.Key === 'InstanceIds') ids = f.Values;
      else if (f.Key === 'PingStatus') ids = (ids ?? [...this.world.instances.keys()]).filter((id) => { const i = this.managed(id); return i && f.Values.includes(this.world.pingStatus(i)); });
      else if (!['ResourceType', 'PlatformTypes', 'AgentVersion', 'AssociationStatus'].includes(f.Key) && !f.Key.startsWith('tag:')) throw new AwsError('InvalidInstanceInformationFilterValue', `Filter key ${f.Key} is not valid`);
    }
    for (const f of (body.InstanceInformationFilterList as Array<{ key: string; valueSet: string[] }> | undefined) ?? []) {
      if (f.key === 'InstanceIds') ids = f.valueSet;
      else if (f.key === 'PingStatus') ids = (ids ?? [...this.world.instances.keys()]).filter((id) => { const i = this.managed(id); return i && f.valueSet.includes(this.world.pingStatus(i)); });
    }
    const max = body.MaxResults as number | undefined;
    if (max !== undefined && (max < 5 || max > 50)) throw new AwsError('ValidationException', `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50`);
    const all = [...this.world.instances.values()].filter((i) => i.state !== 'terminated' && (!ids || ids.includes(i.id)));
    const start = body.NextToken ? Number(Buffer.from(String(body.NextToken), 'base64').toString().replace('lab-', '')) || 0 : 0;
    const n = max ?? 50;
    const page = all.slice(start, start + n);
    return {
      InstanceInformationList: page.map((i) => ({
        InstanceId: i.id, PingStatus: this.world.pingStatus(i), LastPingDateTime: Math.floor(i.lastPing / 1000),
        AgentVersion: '3.3.1142.0', IsLatestVersion: true, PlatformType: 'Linux', PlatformName: 'Amazon Linux', PlatformVersion: '2023',
        ResourceType: 'EC2Instance', IPAddress: i.spec.privateIp, ComputerName: i.spec.privateDnsName,
        AssociationStatus: 'Success', SourceId: i.id, SourceType: 'AWS::EC2::Instance',
      })),
      NextToken: start + n < all.length ? Buffer.from(`lab-${start + n}`).toString('base64') : undefined,
    };
  }

  private sendCommand(body: Json): Json {
    const docArg = str(body.DocumentName, 'documentName');
    const builtIn = docArg === 'AWS-RunShellScript' || /^arn:aws:ssm:[a-z0-9-]*::document\/AWS-RunShellScript$/.test(docArg);
    const own = builtIn ? undefined : this.documents.run(body);
    const ids = (body.InstanceIds as string[] | undefined) ?? [];
    if (body.Targets) throw new AwsError('InvalidParameters', 'Targets are not supported by the lab; pass InstanceIds');
    if (!ids.length) throw new AwsError('InvalidParameters', 'InstanceIds or Targets must be specified');
    if (ids.length > 50) throw new AwsError('ValidationException', `1 validation error detected: Value '[${ids.join(', ')}]' at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50`);
    const bad = ids.filter((id) => !this.managed(id));
    if (bad.length) throw new AwsError('InvalidInstanceId', `Instances [[${bad.join(', ')}]] not in a valid state for account ${labAccountId()}`);
    let params = (body.Parameters as Record<string, string[]> | undefined) ?? {};
    let steps: StepPlan[];
    if (own) {
      params = own.parameters;
      steps = own.steps;
    } else {
      const commands = params.commands;
      if (!Array.isArray(commands) || !commands.length) throw new AwsError('InvalidParameters', 'Parameter "commands" is required for AWS-RunShellScript');
      const execTimeout = Number(params.executionTimeout?.[0] ?? 3600);
      if (!Number.isInteger(execTimeout) || execTimeout < 1 || execTimeout > 172800) throw new AwsError('InvalidParameters', `executionTimeout ${params.executionTimeout?.[0]} is not between 1 and 172800`);
      steps = [{ name: 'aws:runShellScript', script: commands.join('\n'), timeoutSeconds: execTimeout }];
    }
    const doc = own?.documentName ?? 'AWS-RunShellScript';
    const timeoutSeconds = Number(body.TimeoutSeconds ?? 3600);
    const now = new Date();
    const cmd: Command = {
      id: randomUUID(), comment: String(body.Comment ?? ''), documentName: doc, parameters: params, instanceIds: ids, requestedAt: now,
      timeoutSeconds, documentVersion: own?.documentVersion ?? '$DEFAULT', steps, invocations: new Map(),
    };
    for (const id of ids) {
      cmd.invocations.set(id, { instanceId: id, status: 'Pending', statusDetails: 'Pending', responseCode: -1, stdout: '', stderr: '', visibleAt: Date.now() + this.world.t.invocationVisibleMs, requestedAt: now });
    }
    this.commands.set(cmd.id, cmd);
    this.world.onEvent('ssm.command.sent', { commandId: cmd.id, instanceIds: ids, comment: cmd.comment, documentName: doc, documentVersion: cmd.documentVersion });
    for (const inv of cmd.invocations.values()) void this.deliver(cmd, inv);
    return { Command: this.commandJson(cmd) };
  }

  private async deliver(cmd: Command, inv: Invocation): Promise<void> {
    const deadline = Date.now() + Math.min(cmd.timeoutSeconds * 1000, this.world.t.ssmDeliveryTimeoutMs);
    await sleep(this.world.t.invocationVisibleMs);
    for (;;) {
      if (inv.status !== 'Pending') return; // cancelled
      const inst = this.world.instances.get(inv.instanceId)!;
      if (this.world.pingStatus(inst) === 'Online' && this.world.controlPlaneReachable(inst)) break;
      if (Date.now() > deadline || inst.state === 'terminated') {
        this.finish(cmd, inv, 'Failed', 'Undeliverable', -1);
        return;
      }
      await sleep(250);
    }
    const inst = this.world.instances.get(inv.instanceId)!;
    inv.status = 'InProgress';
    inv.statusDetails = 'InProgress';
    inv.startedAt = new Date();
    let r = { stdout: '', stderr: '', code: 0, timedOut: false };
    for (const step of cmd.steps) {
      const run = runScript(this.sandbox, {
        instanceId: inst.id, hostname: inst.spec.privateDnsName, token: this.nodeToken, script: step.script, timeoutMs: step.timeoutSeconds * 1000, os: inst.spec.os,
      });
      inv.cancel = run.cancel;
      const x = await run.done;
      r = { stdout: r.stdout + x.stdout, stderr: r.stderr + x.stderr, code: x.code, timedOut: x.timedOut };
      inv.stdout = r.stdout;
      inv.stderr = r.stderr;
      if (x.code !== 0 || x.timedOut || (inv.status as Invocation['status']) === 'Cancelling') break;
    }
    if ((inv.status as Invocation['status']) === 'Cancelling') this.finish(cmd, inv, 'Cancelled', 'Cancelled', -1);
    else if (r.timedOut) this.finish(cmd, inv, 'TimedOut', 'ExecutionTimedOut', -1);
    else this.finish(cmd, inv, r.code === 0 ? 'Success' : 'Failed', r.code === 0 ? 'Success' : 'Failed', r.code);
  }

  private finish(cmd: Command, inv: Invocation, status: Invocation['status'], details: string, code: number): void {
    inv.status = status;
    inv.statusDetails = details;
    inv.responseCode = code;
    inv.endedAt = new Date();
    this.world.onEvent('ssm.invocation.finished', { commandId: cmd.id, instanceId: inv.instanceId, status, statusDetails: details, responseCode: code });
  }

  private findCommand(id: unknown): Command {
    const c = this.commands.get(String(id ?? ''));
    if (!c) throw new AwsError('InvalidCommandId', `Command ${String(id)} is not valid`);
    return c;
  }

  private getCommandInvocation(body: Json): Json {
    const cmdId = str(body.CommandId, 'commandId');
    const instId = str(body.InstanceId, 'instanceId');
    const c = this.commands.get(cmdId);
    const inv = c?.invocations.get(instId);
    if (!c || !inv || Date.now() < inv.visibleAt) throw new AwsError('InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist) when calling the GetCommandInvocation operation');
    return {
      CommandId: c.id, InstanceId: inv.instanceId, Comment: c.comment, DocumentName: c.documentName, DocumentVersion: c.documentVersion,
      PluginName: c.steps[0].name, ResponseCode: inv.responseCode,
      ExecutionStartDateTime: inv.startedAt?.toISOString() ?? '', ExecutionEndDateTime: inv.endedAt?.toISOString() ?? '',
      ExecutionElapsedTime: inv.startedAt ? elapsed(inv.startedAt, inv.endedAt ?? new Date()) : '',
      Status: inv.status, StatusDetails: inv.statusDetails,
      StandardOutputContent: inv.stdout.slice(0, 24000), StandardOutputUrl: '',
      StandardErrorContent: inv.stderr.slice(0, 8000), StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  private invocationJson(c: Command, inv: Invocation, details: boolean): Json {
    const inst = this.world.instances.get(inv.instanceId);
    return {
      CommandId: c.id, InstanceId: inv.instanceId, InstanceName: inst?.spec.privateDnsName ?? '', Comment: c.comment, DocumentName: c.documentName,
      DocumentVersion: c.documentVersion, RequestedDateTime: inv.requestedAt.getTime() / 1000, Status: inv.status, StatusDetails: inv.statusDetails,
      StandardOutputUrl: '', StandardErrorUrl: '',
      CommandPlugins: details ? [{
        Name: c.steps[0].name, Status: inv.status, StatusDetails: inv.statusDetails, ResponseCode: inv.responseCode,
        ResponseStartDateTime: inv.startedAt ? inv.startedAt.getTime() / 1000 : undefined, ResponseFinishDateTime: inv.endedAt ? inv.endedAt.getTime() / 1000 : undefined,
        Output: (inv.stdout + inv.stderr).slice(0, 2500),
      }] : [],
    };
  }

  private listCommandInvocations(body: Json): Json {
    const cmds = body.CommandId ? [this.findCommand(body.CommandId)] : [...this.commands.values()];
    const out: Json[] = [];
    for (const c of cmds) for (const inv of c.invocations.values()) {
      if (body.InstanceId && inv.instanceId !== body.InstanceId) continue;
      out.push(this.invocationJson(c, inv, body.Details === true));
    }
    return { CommandInvocations: out };
  }

  private commandStatus(c: Command): string {
    const s = [...c.invocations.values()].map((i) => i.status);
    if (s.some((x) => x === 'Pending' || x === 'InProgress' || x === 'Cancelling')) return s.some((x) => x !== 'Pending') ? 'InProgress' : 'Pending';
    if (s.every((x) => x === 'Success')) return 'Success';
    if (s.some((x) => x === 'Cancelled')) return 'Cancelled';
    if (s.some((x) => x === 'TimedOut')) return 'TimedOut';
    return 'Failed';
  }

  private commandJson(c: Command): Json {
    const invs = [...c.invocations.values()];
    return {
      CommandId: c.id, DocumentName: c.documentName, DocumentVersion: c.documentVersion, Comment: c.comment, Parameters: c.parameters,
      InstanceIds: c.instanceIds, Targets: [], RequestedDateTime: c.requestedAt.getTime() / 1000, ExpiresAfter: c.requestedAt.getTime() / 1000 + c.timeoutSeconds,
      Status: this.commandStatus(c), StatusDetails: this.commandStatus(c), TimeoutSeconds: c.timeoutSeconds,
      TargetCount: invs.length, CompletedCount: invs.filter((i) => TERMINAL.has(i.status)).length,
      ErrorCount: invs.filter((i) => i.status === 'Failed' && i.statusDetails !== 'Undeliverable').length,
      DeliveryTimedOutCount: 0, MaxConcurrency: '50', MaxErrors: '0',
    };
  }

  private listCommands(body: Json): Json {
    const cmds = body.CommandId ? [this.findCommand(body.CommandId)] : [...this.commands.values()];
    return { Commands: cmds.filter((c) => !body.InstanceId || c.instanceIds.includes(String(body.InstanceId))).map((c) => this.commandJson(c)) };
  }

  private cancelCommand(body: Json): Json {
    const c = this.findCommand(body.CommandId);
    const ids = (body.InstanceIds as string[] | undefined) ?? [...c.invocations.keys()];
    for (const id of ids) {
      const inv = c.invocations.get(id);
      if (!inv || TERMINAL.has(inv.status)) continue;
      if (inv.status === 'Pending') this.finish(c, inv, 'Cancelled', 'Cancelled', -1);
      else { inv.status = 'Cancelling'; inv.cancel?.(); }
    }
    return {};
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function elapsed(a: Date, b: Date): string {
  const ms = Math.max(0, b.getTime() - a.getTime());
  const s = Math.floor(ms / 1000);
  return `PT${s}.${String(ms % 1000).padStart(3, '0')}S`;
}
