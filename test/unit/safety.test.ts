// Safety in a real account, without the lab: signals, hung AWS calls, expired credentials, secrets
// with quotes, ${VAR} expansion, the expiry tag, recover carrying on, and the harness never choosing
// its own node or black-holing a zone it cannot rule out being in. Each case failed before its fix.
import { expect } from 'chai';
import net from 'node:net';
import path from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Aws, makeClients } from '../../harness/aws/index.js';
import { explainAwsError } from '../../harness/aws/errors.js';
import { ExitCode, HarnessError } from '../../harness/exit-codes.js';
import { faults, injectAndRevert, Limits, SignalGuard, type FaultContext, type PlannedFault } from '../../harness/faults/index.js';
import { chooseNodes } from '../../harness/faults/targets.js';
import { Redactor } from '../../harness/report/redact.js';
import { expandProbeUrls, ScenarioSchema, type Scenario } from '../../harness/scenario.js';
import { shellCommand, shellQuote } from '../../harness/shell.js';
import { whereAmI } from '../../harness/self.js';
import { tempStateDir } from '../support/harness.js';
import { Journal } from '../../harness/journal.js';
import { recheckBeforeInject, sweep } from '../../harness/recover.js';
import fs from 'node:fs';
import type { Kube, V1Node } from '../../harness/k8s/index.js';

const node = (name: string, zone: string, id: string): V1Node => ({
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, 'kubernetes.io/hostname': name } },
  spec: { providerID: `aws:///${zone}/${id}` },
  status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { containerRuntimeVersion: 'containerd://1.7' } as never },
});
const NODES = [node('a1', 'us-east-1a', 'i-0a1'), node('a2', 'us-east-1a', 'i-0a2'), node('b1', 'us-east-1b', 'i-0b1'), node('b2', 'us-east-1b', 'i-0b2')];
const fakeKube = (nodes = NODES) => ({ nodes: async (sel?: string) => (sel ? nodes.filter((n) => sel.split(',').every((t) => { const [k, v] = t.split('='); return n.metadata?.labels?.[k] === v; })) : nodes), pods: async () => [] }) as unknown as Kube;

describe('safety without the lab', function () {
  it('SIGHUP (a dropped SSH session) starts the revert like SIGINT', () => {
    const guard = new SignalGuard(() => {}).install();
    try {
      process.emit('SIGHUP', 'SIGHUP');
      expect(guard.controller.signal.aborted).to.equal(true);
      expect((guard.controller.signal.reason as HarnessError).exitCode).to.equal(ExitCode.Aborted);
    } finally {
      guard.uninstall();
    }
  });

  it('an AWS call to an endpoint that accepts but never answers times out instead of hanging', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => { sockets.push(s); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const c = makeClients({ kind: 'lab', region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, timeouts: { connectMs: 500, requestMs: 400 } });
      const t0 = Date.now();
      const err = await c.ec2.send(new DescribeInstancesCommand({})).then(() => undefined, (e: Error) => e);
      expect(err?.name).to.equal('TimeoutError');
      expect(Date.now() - t0).to.be.below(5000);
      // and it is a network error the retry layer retries (bounded), not a hang
      const aws = new Aws(c, { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 10 });
      const e2 = await aws.describeInstances(['i-0a1']).then(() => undefined, (e: Error) => e);
      expect(e2?.name).to.equal('TimeoutError');
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('a SendCommand that failed after it may have been delivered is looked up by its comment, not sent twice', async () => {
    const sent: string[] = [];
    const ssm = {
      send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
        if (cmd.constructor.name === 'SendCommandCommand') {
          sent.push(String(cmd.input.Comment));
          // delivered, but the answer is lost: a 503 on the way back
          throw Object.assign(new Error('Service Unavailable'), { name: 'InternalServerError', $metadata: { httpStatusCode: 503 } });
        }
        if (cmd.constructor.name === 'ListCommandsCommand') return { Commands: [{ CommandId: 'cmd-delivered', Comment: sent[0], DocumentName: 'ChaosHarness-DaemonStop', InstanceIds: ['i-0a1'] }] };
        throw new Error(`unexpected ${cmd.constructor.name}`);
      },
    };
    const aws = new Aws({ ssm } as never, { retries: 3, minTimeoutMs: 1, maxTimeoutMs: 1 });
    const id = await aws.sendDocument(['i-0a1'], 'ChaosHarness-DaemonStop', { daemon: 'kubelet', seconds: '60', timer: 'chaos-restore-kubelet-1' }, 'chaos run-1 stop kubelet', 120);
    expect(id).to.equal('cmd-delivered');
    expect(sent, 'SendCommand was not repeated').to.have.length(1);
  });

  it('ExpiredToken says what to do (refresh, then recover)', () => {
    expect(explainAwsError(Object.assign(new Error('x'), { name: 'ExpiredToken' }))).to.match(/expired.*refresh.*chaos recover/);
    expect(explainAwsError(Object.assign(new Error('x'), { name: 'ExpiredTokenException' }))).to.match(/chaos recover/);
    expect(explainAwsError(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).to.equal(undefined);
  });

  it('the redactor hides a secret with quotes and backslashes inside values and keys', () => {
    const secret = 'sEcr"et\\wi\'th"q';
    const r = new Redactor({ MY_API_TOKEN: secret });
    const out = JSON.stringify(r.value({ a: `x ${secret} y`, nested: [{ b: secret }], [secret]: 1 }));
    expect(out).to.not.contain('sEcr');
    expect(out).to.contain('[REDACTED]');
  });

  it('probe URLs expand only LAB_* and the variables the scenario declares, never credentials', () => {
    const base = { name: 'p', description: 'd', fault: { kind: 'node-stop', duration: '1m' }, workloads: [{ selector: 'app=demo' }], slos: { r: 'recovery < 5m' } };
    const scen = (url: string, env: string[] = []): Scenario => ({ ...ScenarioSchema.parse({ ...base, env, probes: [{ name: 'p', url, rate: 1 }] }), file: path.resolve('scenarios/x.ts') });
    const env = { AWS_SESSION_TOKEN: 'tok-123456', SERVICE_HOST: '127.0.0.1', LAB_SERVICE_URL: 'http://127.0.0.1:9' };
    expect(() => expandProbeUrls(scen('http://127.0.0.1/?t=${AWS_SESSION_TOKEN}'), env, true)).to.throw(/AWS_SESSION_TOKEN\} is not allowed/);
    expect(() => expandProbeUrls(scen('http://${SERVICE_HOST}/'), env, true)).to.throw(/SERVICE_HOST\} is not allowed/);
    expect(expandProbeUrls(scen('http://${SERVICE_HOST}/', ['SERVICE_HOST']), env, true).probes[0].url).to.equal('http://127.0.0.1/');
    expect(expandProbeUrls(scen('${LAB_SERVICE_URL}/x'), env, true).probes[0].url).to.equal('http://127.0.0.1:9/x');
    const declared = ScenarioSchema.safeParse({ ...base, env: ['AWS_SESSION_TOKEN'] });
    expect(declared.success).to.equal(false);
    expect(declared.error!.issues[0].path.join('.')).to.equal('env.0');
  });

  it('the expiry tag is computed at injection and covers the hold, the revert and the recovery wait', async () => {
    let seen = '';
    const kind = { ...faults.get('node-stop')!, inject: async (ctx: FaultContext) => { seen = ctx.expiresAt; }, revert: async () => ({ actions: [], leftovers: [] }) };
    const ctx = { guard: { cluster: 'c', region: 'us-east-1', accounts: [] }, runId: 'chaos-exp-1', expiresAt: '2000-01-01T00:00:00.000Z', log: () => {} } as unknown as FaultContext;
    const pf = { kind, spec: { kind: 'node-stop', duration: 60_000 }, plan: { kind: 'node-stop', summary: '', lines: [], calls: [], durationMs: 60_000, resources: {} }, faulted: { nodes: [], zones: [], pods: [] } } as unknown as PlannedFault;
    const before = Date.now();
    await injectAndRevert(ctx, pf, { stateDir: tempStateDir(), target: 'lab', during: async () => {}, afterRevertMs: 5 * 60_000 });
    const exp = Date.parse(seen);
    // hold 1 m + revert budget 15 m + recovery 5 m, from the moment of injection
    expect(exp).to.be.at.least(before + 60_000 + 15 * 60_000 + 5 * 60_000);
    expect(exp).to.be.below(Date.now() + 60_000 + 15 * 60_000 + 5 * 60_000 + 1000);
  });

  it('recover carries on after one failed item, waits out a stopping instance, and lists every failure', async () => {
    const started: string[] = [];
    let describes = 0;
    const aws = {
      describeInstancesByTag: async () => [
        { id: 'i-bad', state: 'stopped', zone: 'us-east-1a', tags: { 'kubernetes.io/cluster/c': 'owned', 'chaos:stopped-by': 'r1', 'chaos:expires-at': '2000-01-01T00:00:00Z' } },
        { id: 'i-slow', state: 'stopping', zone: 'us-east-1a', tags: { 'kubernetes.io/cluster/c': 'owned', 'chaos:stopped-by': 'r1', 'chaos:expires-at': '2000-01-01T00:00:00Z' } },
      ],
      describeInstances: async () => [{ id: 'i-slow', state: ++describes < 2 ? 'stopping' : 'stopped', zone: 'us-east-1a', tags: {} }],
      startInstances: async (ids: string[]) => { if (ids[0] === 'i-bad') throw Object.assign(new Error('boom'), { name: 'InternalError' }); started.push(...ids); },
      deleteTags: async () => {},
      groupsByTag: async () => [],
    } as unknown as Aws;
    const r = await faults.get('node-stop')!.sweep({ aws, kube: fakeKube(), log: () => {}, cluster: 'c', act: true, leaveAlone: () => undefined });
    expect(started).to.deep.equal(['i-slow']);
    expect(r.findings.find((f) => f.id === 'i-slow')?.action).to.match(/waited until stopped, started/);
    expect(r.leftovers.map((l) => l.what).join('\n')).to.contain('i-bad');
  });

  it('recover refuses a journal written in another account or region, and reverts one of its own', async () => {
    const dir = tempStateDir();
    const mk = (runId: string, account: string, region: string) => {
      const j = Journal.create(dir, { runId, kind: 'node-stop', cluster: 'c', region, account, target: 'aws', fault: {} });
      const lines = fs.readFileSync(j.file, 'utf8').split('\n');
      const head = JSON.parse(lines[0]) as { data: { pid: number } };
      head.data.pid = 2 ** 22 + 1; // its process is gone
      fs.writeFileSync(j.file, [JSON.stringify(head), ...lines.slice(1)].join('\n'));
    };
    mk('chaos-other-account', '222222222222', 'us-east-1');
    mk('chaos-other-region', '111111111111', 'eu-west-1');
    mk('chaos-mine', '111111111111', 'us-east-1');
    const aws = { describeInstancesByTag: async () => [], describeNetworkAcls: async () => [], groupsByTag: async () => [] } as unknown as Aws;
    const r = await sweep({ aws, kube: fakeKube(), stateDir: dir, cluster: 'c', act: true, log: () => {}, takeLock: false, where: { account: '111111111111', region: 'us-east-1' } });
    const by = Object.fromEntries(r.findings.map((f) => [f.id, f]));
    expect(by['chaos-other-account'].skipped).to.match(/refused: .*222222222222|refused: .*account/);
    expect(by['chaos-other-region'].skipped).to.match(/refused: .*eu-west-1/);
    expect(by['chaos-mine'].skipped).to.equal(undefined);
    expect(by['chaos-mine'].action).to.be.a('string');
  });

  it('the pre-run sweep runs again right before injecting: a leftover that appeared meanwhile stops the run (exit 2)', async () => {
    let tagged: unknown[] = [];
    const aws = { describeInstancesByTag: async () => tagged, describeNetworkAcls: async () => [], groupsByTag: async () => [] } as unknown as Aws;
    const o = { aws, kube: fakeKube(), stateDir: tempStateDir(), cluster: 'c', log: () => {} };
    await recheckBeforeInject(o);
    tagged = [{ id: 'i-0b2', state: 'stopped', zone: 'us-east-1b', tags: { 'kubernetes.io/cluster/c': 'owned', 'chaos:stopped-by': 'chaos-other', 'chaos:expires-at': '2099-01-01T00:00:00Z' } }];
    const err = await recheckBeforeInject(o).catch((e: HarnessError) => e);
    expect(err).to.be.instanceOf(HarnessError);
    expect((err as HarnessError).exitCode).to.equal(ExitCode.Invalid);
    expect((err as HarnessError).details.join('\n')).to.contain('i-0b2');
  });

  it('az-blackhole revert finds the black-hole ACL by its journaled id when its tags are gone', async () => {
    const dir = tempStateDir();
    const j = Journal.create(dir, { runId: 'chaos-untagged', kind: 'az-blackhole', cluster: 'c', region: 'us-east-1', target: 'aws', fault: {} });
    j.write('acl.create', 'intent', { vpcId: 'vpc-1', clientToken: 'chaos-untagged', zone: 'us-east-1b' });
    j.write('acl.create', 'done', { aclId: 'acl-bh' });
    j.write('acl.swap', 'intent', { subnetId: 'subnet-1', associationId: 'aclassoc-0', originalAclId: 'acl-orig', blackholeAclId: 'acl-bh' });
    const calls: string[] = [];
    const aws = {
      // someone stripped the harness's tags: the tag lookup finds nothing
      describeNetworkAcls: async (f: Record<string, string[]>, ids?: string[]) => (ids?.includes('acl-bh') ? [{ id: 'acl-bh', vpcId: 'vpc-1', isDefault: false, associations: [{ id: 'aclassoc-1', subnetId: 'subnet-1' }], tags: {} }] : []),
      subnetAssociation: async () => ({ aclId: 'acl-bh', associationId: 'aclassoc-1' }),
      replaceNetworkAclAssociation: async (assoc: string, acl: string) => { calls.push(`replace ${assoc} → ${acl}`); return 'aclassoc-2'; },
      deleteNetworkAcl: async (id: string) => { calls.push(`delete ${id}`); },
    } as unknown as Aws;
    const r = await faults.get('az-blackhole')!.revert({ aws, kube: fakeKube(), log: () => {} }, j);
    expect(calls).to.deep.equal(['replace aclassoc-1 → acl-orig', 'delete acl-bh']);
    expect(r.leftovers).to.deep.equal([]);
  });

  it('the harness never chooses the node it runs on', async () => {
    for (let seed = 0; seed < 50; seed++) {
      const r = await chooseNodes(fakeKube(), { count: 3 }, Limits.parse({}), seed, undefined, 'a1');
      expect(r.chosen.map((n) => n.name)).to.not.include('a1');
    }
    const err = await chooseNodes(fakeKube(), { selector: 'kubernetes.io/hostname=a1' }, Limits.parse({}), 1, undefined, 'a1').catch((e: HarnessError) => e);
    expect((err as HarnessError).message).to.match(/own node a1 is never chosen/);
    expect((await whereAmI(fakeKube(), 'lab', { NODE_NAME: 'b2' })).zone).to.equal('us-east-1b');
    expect(await whereAmI(fakeKube(), 'aws', {}, async () => ({ instanceId: 'i-0b1', zone: 'us-east-1b' }))).to.deep.equal({ node: 'b1', zone: 'us-east-1b' });
  });

  it('az-blackhole on --target aws refuses (exit 2) when the harness cannot tell its own zone, unless told', async () => {
    const ctx = { kube: fakeKube(), guard: { cluster: 'c', region: 'us-east-1', accounts: [] }, limits: Limits.parse({}), unknownSelfZone: 'refuse', log: () => {} } as unknown as FaultContext;
    const spec = faults.get('az-blackhole')!.schema.parse({ kind: 'az-blackhole', zone: 'us-east-1b', duration: '1m' });
    const err = await faults.get('az-blackhole')!.plan(ctx, spec).catch((e: HarnessError) => e);
    expect(err).to.be.instanceOf(HarnessError);
    expect((err as HarnessError).exitCode).to.equal(ExitCode.Invalid);
    expect((err as HarnessError).message).to.match(/cannot tell which zone it runs in/);
    expect((err as HarnessError).details.join(' ')).to.contain('--allow-unknown-self-zone');
  });

  it('printed fix commands are shell-quoted', () => {
    expect(shellQuote('i-0abc')).to.equal('i-0abc');
    expect(shellQuote("my group's asg")).to.equal(`'my group'\\''s asg'`);
    expect(shellCommand(['aws', 'autoscaling', 'resume-processes', '--auto-scaling-group-name', 'ng 1; rm -rf /'])).to.equal("aws autoscaling resume-processes --auto-scaling-group-name 'ng 1; rm -rf /'");
  });
});
