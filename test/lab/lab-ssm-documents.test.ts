// The lab's SSM documents and STS through the real SDK clients and the harness's Aws adapter:
// installDocuments creates / leaves / updates the harness documents, SendCommand runs them on a node
// with their parameters validated as SSM validates them, and GetCallerIdentity gives the account.
import { expect } from 'chai';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { CreateDocumentCommand, DescribeDocumentCommand, GetDocumentCommand, SendCommandCommand, UpdateDocumentCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Aws, InvocationInfo } from '../../harness/aws/index.js';
import { DOCUMENT_NAMES, HARNESS_DOCUMENTS, daemonFaultCall, daemonRestoreCall, type HarnessDocument } from '../../harness/aws/ssm-documents.js';
import { timerUnit } from '../../harness/faults/daemon-kill.js';
import { allowedActions, checkAccount, iamPolicy } from '../../harness/iam/index.js';
import { HarnessError } from '../../harness/exit-codes.js';
import { eventually, testLab, type TestLab } from '../support/lab.js';
import { labAws, type LabAws, errorName } from '../support/aws.js';
import { harnessTarget, world } from '../support/harness.js';

const ACCOUNT = process.env.LAB_ACCOUNT_ID ?? '123456789012';


async function finished(aws: Aws, commandId: string, instanceId: string): Promise<InvocationInfo> {
  return eventually(`command ${commandId} on ${instanceId}`, 30_000, async () => {
    const x = await aws.invocation(commandId, instanceId);
    return x && !['Pending', 'InProgress', 'Delayed', 'Cancelling'].includes(x.status) ? x : undefined;
  }, 200);
}

describe('lab: SSM documents and STS (real SDK clients, the harness adapter)', function () {
  this.timeout(90_000);
  let lab: TestLab;
  let raw: LabAws;
  let aws: Aws;
  let instanceId: string;
  const suffix = Math.random().toString(16).slice(2, 8);

  before(async () => {
    lab = testLab();
    raw = labAws(lab);
    aws = (await harnessTarget()).aws;
    const w = await world(raw);
    instanceId = w.instances.find((i) => i.state === 'running' && i.daemons.kubelet?.active)!.id;
  });

  it('STS: GetCallerIdentity answers the lab account (SDK client and Aws.callerIdentity); EC2 is still EC2', async () => {
    const cfg = { endpoint: raw.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIALABDUMMY00000000', secretAccessKey: 'lab-dummy' } };
    const r = await new STSClient(cfg).send(new GetCallerIdentityCommand({}));
    expect(r.Account).to.equal(ACCOUNT);
    expect(r.Arn).to.equal(`arn:aws:iam::${ACCOUNT}:user/lab`);
    expect(r.UserId).to.match(/^AIDA/);
    const id = await aws.callerIdentity();
    expect(id).to.deep.equal({ account: ACCOUNT, arn: r.Arn, userId: r.UserId });
    expect(aws.calls.at(-1)).to.include({ action: 'sts:GetCallerIdentity', ok: true });
    expect(allowedActions(iamPolicy('x')).has('sts:GetCallerIdentity')).to.equal(true);
    checkAccount(id, [ACCOUNT]);
    expect(() => checkAccount(id, ['111122223333'])).to.throw(HarnessError, ACCOUNT);
    // the routing: signed for sts → STS; EC2 and an unknown STS action answer as before
    expect((await raw.ec2.send(new DescribeVpcsCommand({}))).Vpcs).to.have.length(1);
    const calls = (await raw.control('GET', 'calls')) as Array<{ service: string; action: string }>;
    expect(calls.some((c) => c.service === 'sts' && c.action === 'GetCallerIdentity')).to.equal(true);
    const unsigned = await fetch(raw.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
    expect(await unsigned.text()).to.contain(`<Account>${ACCOUNT}</Account>`);
    const bad = await fetch(raw.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=AssumeRole&Version=2011-06-15' });
    expect(bad.status).to.equal(400);
    expect(await bad.text()).to.contain('<Code>InvalidAction</Code>');
  });

  it('installDocuments: missing → created → unchanged; a changed document becomes a new default version', async () => {
    const copies = HARNESS_DOCUMENTS.map((d) => ({ ...d, name: d.name.replace('ChaosHarness-', `ChaosTest${suffix}-`) })) as unknown as HarnessDocument[];
    expect((await aws.installDocuments({ dryRun: true, documents: copies })).map((x) => x.action)).to.deep.equal(['missing', 'missing', 'missing']);
    const created = await aws.installDocuments({ documents: copies });
    expect(created.map((x) => [x.action, x.version])).to.deep.equal([['created', '1'], ['created', '1'], ['created', '1']]);
    expect((await aws.installDocuments({ documents: copies })).map((x) => x.action)).to.deep.equal(['unchanged', 'unchanged', 'unchanged']);
    const d0 = copies[0];
    const content = { ...d0.content, description: `${d0.content.description} (changed)` };
    const changed = { ...d0, content, text: JSON.stringify(content, null, 2) };
    expect((await aws.installDocuments({ dryRun: true, documents: [changed] }))[0].action).to.equal('differs');
    const up = (await aws.installDocuments({ documents: [changed] }))[0];
    expect([up.action, up.version]).to.deep.equal(['updated', '2']);
    const desc = (await raw.ssm.send(new DescribeDocumentCommand({ Name: d0.name }))).Document!;
    expect([desc.DefaultVersion, desc.LatestVersion, desc.DocumentType, desc.SchemaVersion, desc.Status]).to.deep.equal(['2', '2', 'Command', '2.2', 'Active']);
    expect(JSON.parse((await raw.ssm.send(new GetDocumentCommand({ Name: d0.name }))).Content!)).to.deep.equal(content);
    // back to the original: a third version, the default again
    expect((await aws.installDocuments({ documents: [d0] }))[0]).to.include({ action: 'updated', version: '3' });
    // SSM's own refusals
    expect(await errorName(raw.ssm.send(new CreateDocumentCommand({ Name: d0.name, Content: d0.text, DocumentType: 'Command' })))).to.equal('DocumentAlreadyExists');
    expect(await errorName(raw.ssm.send(new UpdateDocumentCommand({ Name: d0.name, Content: d0.text, DocumentVersion: '$LATEST' })))).to.equal('DuplicateDocumentContent');
    expect(await errorName(raw.ssm.send(new UpdateDocumentCommand({ Name: d0.name, Content: changed.text, DocumentVersion: '1' })))).to.equal('InvalidDocumentVersion');
    expect(await errorName(raw.ssm.send(new DescribeDocumentCommand({ Name: `NoSuch${suffix}` })))).to.equal('InvalidDocument');
    expect(await errorName(raw.ssm.send(new CreateDocumentCommand({ Name: `Bad${suffix}`, Content: '{"schemaVersion":"2.2","mainSteps":[{"action":"aws:runShellScript","name":"s","inputs":{"runCommand":["echo {{ nope }}"]}}]}' })))).to.equal('InvalidDocumentContent');
    expect(await errorName(raw.ssm.send(new CreateDocumentCommand({ Name: `Bad${suffix}`, Content: 'not json' })))).to.equal('InvalidDocumentContent');
  });

  it('SendCommand with the harness documents: validated parameters; stop arms the timer first, restore starts the daemon', async () => {
    const installed = await aws.installDocuments();
    expect(installed.every((x) => x.action === 'created' || x.action === 'unchanged'), JSON.stringify(installed)).to.equal(true);
    expect((await aws.installDocuments({ dryRun: true })).map((x) => x.action)).to.deep.equal(['unchanged', 'unchanged', 'unchanged']);

    // refused before anything runs, as SSM refuses them
    const send = (DocumentName: string, Parameters: Record<string, string[]>) => raw.ssm.send(new SendCommandCommand({ InstanceIds: [instanceId], DocumentName, Parameters }));
    const timer = timerUnit('kubelet', `chaos-test-${suffix}`);
    const ok = { daemon: ['kubelet'], seconds: ['30'], timer: [timer] };
    expect(await errorName(send(DOCUMENT_NAMES.stop, { ...ok, daemon: ['sshd'] }))).to.equal('InvalidParameters');
    expect(await errorName(send(DOCUMENT_NAMES.stop, { ...ok, daemon: ['kubelet; reboot'] }))).to.equal('InvalidParameters');
    expect(await errorName(send(DOCUMENT_NAMES.stop, { ...ok, seconds: ['30s'] }))).to.equal('InvalidParameters');
    expect(await errorName(send(DOCUMENT_NAMES.stop, { ...ok, timer: ['x; reboot'] }))).to.equal('InvalidParameters');
    expect(await errorName(send(DOCUMENT_NAMES.stop, { daemon: ['kubelet'] }))).to.equal('InvalidParameters');
    expect(await errorName(send(DOCUMENT_NAMES.stop, { ...ok, commands: ['reboot'] }))).to.equal('InvalidParameters');
    expect(await errorName(send(DOCUMENT_NAMES.stop, { ...ok, daemon: ['kubelet', 'docker'] }))).to.equal('InvalidParameters');
    expect(await errorName(send(`ChaosHarness-NoSuch${suffix}`, ok))).to.equal('InvalidDocument');
    expect(await errorName(send(`arn:aws:ssm:us-east-1:444455556666:document/${DOCUMENT_NAMES.stop}`, ok))).to.equal('InvalidDocument');
    expect(((await world(raw)).instances.find((i) => i.id === instanceId)!.timers)).to.not.include(timer);

    // stop: Success, kubelet down, the node-local timer armed
    const { documentName, parameters } = daemonFaultCall('kubelet', 'stop', 30, timer);
    const cmd = await aws.sendDocument([instanceId], documentName, parameters, `chaos test ${suffix}`, 60);
    const r = await finished(aws, cmd, instanceId);
    expect(r.status, r.stderr).to.equal('Success');
    expect(r.stdout).to.contain(`chaos: verified: kubelet is inactive after systemctl stop; node-local timer ${timer} starts it in 30s`);
    let inst = (await world(raw)).instances.find((i) => i.id === instanceId)!;
    expect(inst.daemons.kubelet.active).to.equal(false);
    expect(inst.timers).to.include(timer);
    const events = lab.world.read().filter((e) => e.commandId === cmd || (e.event === 'node.timer.created' && e.unit === timer));
    expect(events.map((e) => e.event)).to.include.members(['ssm.command.sent', 'node.timer.created']);
    expect(events.find((e) => e.event === 'ssm.command.sent')).to.include({ documentName: DOCUMENT_NAMES.stop });

    // restore: Success, kubelet up, and the run's node-local timer disarmed (it must not fire later and
    // undo a next run's fault on this node)
    const restore = daemonRestoreCall('kubelet', timer);
    const rc = await aws.sendDocument([instanceId], restore.documentName, restore.parameters, `chaos test restore ${suffix}`, 60);
    const rr = await finished(aws, rc, instanceId);
    expect(rr.status, rr.stderr).to.equal('Success');
    expect(rr.stdout).to.contain('active').and.contain('kubelet restored');
    inst = (await world(raw)).instances.find((i) => i.id === instanceId)!;
    expect(inst.daemons.kubelet.active).to.equal(true);
    expect(inst.timers).to.not.include(timer);
    expect(lab.world.read().some((e) => e.event === 'node.timer.stopped' && e.unit === timer)).to.equal(true);
    // the adapter's calls are the run role's: every one allowed by the shipped policy
    const allowed = allowedActions(iamPolicy('x'));
    for (const c of aws.calls.filter((x) => !/Create|Update/.test(x.action))) expect(allowed.has(c.action), c.action).to.equal(true);
  });

  it('a failing step fails the invocation with its exit code (set -e): stopping a daemon the node does not run', async () => {
    const w = await world(raw);
    const inst = w.instances.find((i) => i.id === instanceId)!;
    const absent = 'docker' in inst.daemons ? 'containerd' : 'docker';
    const timer = timerUnit(absent, `chaos-test-${suffix}`);
    const call = daemonFaultCall(absent, 'stop', 2, timer);
    const r = await finished(aws, await aws.sendDocument([instanceId], call.documentName, call.parameters, 'chaos test absent', 60), instanceId);
    expect(r.status).to.equal('Failed');
    expect(r.responseCode).to.equal(5);
    expect(r.stdout).to.not.contain('stopped');
    const kill = daemonFaultCall(absent, 'kill', 2, `${timer}k`);
    const k = await finished(aws, await aws.sendDocument([instanceId], kill.documentName, kill.parameters, 'chaos test absent kill', 60), instanceId);
    expect([k.status, k.responseCode]).to.deep.equal(['Failed', 3]);
    expect(k.stderr).to.contain(`${absent} is not running`);
  });
});
