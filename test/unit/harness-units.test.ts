// Pure parts of the harness, table-tested.
import { expect } from 'chai';
import { formatDuration, parseDuration } from '../../harness/duration.js';
import { describeIssues, FaultSpec } from '../../harness/faults/spec.js';
import { checkNodeBlastRadius, checkZoneBlastRadius, pick, type TargetNode } from '../../harness/faults/targets.js';
import { isRetryable, withRetry, checkRetryOptions } from '../../harness/aws/retry.js';
import { checkEndpoint } from '../../harness/aws/index.js';
import { timerUnit } from '../../harness/faults/daemon-kill.js';
import { daemonFaultCall, harnessDocument, renderScript } from '../../harness/aws/ssm-documents.js';
import { allowedActions, iamPolicy } from '../../harness/iam/index.js';
import { ExitCode, HarnessError } from '../../harness/exit-codes.js';

const node = (name: string, zone: string, ready = true): TargetNode => ({ name, zone, instanceId: `i-0${name.padStart(16, '0')}`, ready, runtime: 'containerd', kind: { os: 'al2023', osImage: 'Amazon Linux 2023', provisioner: 'managed', group: 'ng', spot: false } });

describe('harness units', () => {
  it('parses durations', () => {
    const table: Array<[string, number]> = [['90s', 90_000], ['2m', 120_000], ['1m30s', 90_000], ['500ms', 500], ['1h', 3_600_000], ['1.5s', 1500]];
    for (const [s, ms] of table) expect(parseDuration(s), s).to.equal(ms);
    for (const bad of ['', '10', '-5s', '2 m', 'soon', '5x']) expect(() => parseDuration(bad), bad).to.throw(/is not a duration/);
    expect(formatDuration(90_000)).to.equal('1m30s');
  });

  it('validates fault specs and names the field in every error', () => {
    const cases: Array<[unknown, string]> = [
      [{ kind: 'node-explode', duration: '1m' }, 'fault.kind'],
      [{ kind: 'node-stop', duration: '-1m' }, 'fault.duration'],
      [{ kind: 'node-stop', duration: '30h' }, 'fault.duration'],
      [{ kind: 'az-blackhole', zone: 'moon-1', duration: '1m' }, 'fault.zone'],
      [{ kind: 'daemon-kill', daemon: 'sshd', duration: '1m' }, 'fault.daemon'],
      [{ kind: 'node-stop', duration: '1m', count: 0 }, 'fault.count'],
      [{ kind: 'node-stop', duration: '1m', colour: 'red' }, 'fault'],
    ];
    for (const [input, field] of cases) {
      const r = FaultSpec.safeParse(input);
      expect(r.success, JSON.stringify(input)).to.equal(false);
      const lines = describeIssues(r.error!, 'fault');
      expect(lines.some((l) => l.startsWith(field)), `${JSON.stringify(input)} → ${lines.join('; ')}`).to.equal(true);
    }
    const ok = FaultSpec.parse({ kind: 'daemon-kill', daemon: 'kubelet', duration: '90s' });
    expect(ok).to.include({ mode: 'stop', duration: 90_000 });
  });

  it('picks targets reproducibly from a seed', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    expect(pick(xs, 5, 42)).to.deep.equal(pick(xs, 5, 42));
    expect(pick(xs, 5, 42)).to.not.deep.equal(pick(xs, 5, 43));
    expect(new Set(pick(xs, 20, 7)).size).to.equal(20);
  });

  it('checks the blast radius before anything is touched', () => {
    const all = [node('a1', 'us-east-1a'), node('a2', 'us-east-1a'), node('b1', 'us-east-1b'), node('b2', 'us-east-1b')];
    const limits = { maxZones: 1 };
    expect(() => checkNodeBlastRadius(all, all, limits)).to.throw(/all 4 Ready nodes/);
    expect(() => checkNodeBlastRadius(all.slice(0, 3), all, { ...limits, maxNodes: 2 })).to.throw(/limits.maxNodes 2/);
    expect(() => checkNodeBlastRadius(all.slice(0, 2), all, { ...limits, maxPercent: 25 })).to.throw(/maxPercent 25%/);
    expect(() => checkNodeBlastRadius(all.slice(0, 1), all, limits)).to.not.throw();
    expect(() => checkZoneBlastRadius('us-east-1c', all, limits)).to.throw(/no cluster node is in zone us-east-1c/);
    expect(() => checkZoneBlastRadius('us-east-1a', all.slice(0, 2), limits)).to.throw(/one zone only/);
    expect(() => checkZoneBlastRadius('us-east-1a', [...all.slice(0, 2), node('b1', 'us-east-1b', false)], limits)).to.throw(/no Ready node outside/);
    let thrown: unknown;
    try {
      checkNodeBlastRadius(all, all, limits);
    } catch (err) {
      thrown = err;
    }
    expect(thrown, 'taking every Ready node must be refused').to.be.instanceOf(HarnessError);
    expect((thrown as HarnessError).exitCode).to.equal(ExitCode.Invalid);
  });

  it('retries throttling, 5xx and network errors, never other 4xx', async () => {
    const err = (name: string, status?: number, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });
    const table: Array<[Error, boolean]> = [
      [err('RequestLimitExceeded', 503), true], [err('ThrottlingException', 400), true], [err('Throttling', 400), true],
      [err('InternalError', 500), true], [err('ServiceUnavailable', 503), true], [err('Error', undefined, { code: 'ECONNRESET' }), true],
      [err('InvalidInstanceID.NotFound', 400), false], [err('UnauthorizedOperation', 403), false], [err('DryRunOperation', 412), false],
    ];
    for (const [e, want] of table) expect(isRetryable(e), e.name).to.equal(want);
    let n = 0;
    const v = await withRetry(async () => { if (++n < 3) throw err('RequestLimitExceeded', 503); return 'ok'; }, { retries: 5, minTimeoutMs: 1, maxTimeoutMs: 2 });
    expect([v, n]).to.deep.equal(['ok', 3]);
    n = 0;
    const failed = await withRetry(async () => { n++; throw err('InvalidParameterValue', 400); }, { retries: 5, minTimeoutMs: 1, maxTimeoutMs: 2 }).catch((e: Error) => e.name);
    expect([failed, n]).to.deep.equal(['InvalidParameterValue', 1]);
    expect(() => checkRetryOptions({ retries: -1, minTimeoutMs: 1, maxTimeoutMs: 2 })).to.throw('retries must be an integer from 0 to 20, got -1');
    expect(() => checkRetryOptions({ retries: 1, minTimeoutMs: 5, maxTimeoutMs: 2 })).to.throw('need 0 <= minTimeoutMs <= maxTimeoutMs, got 5 and 2');
  });

  it('the lab target refuses non-loopback endpoints; the aws target refuses an endpoint override', () => {
    expect(() => checkEndpoint('lab', 'http://127.0.0.1:4566')).to.not.throw();
    expect(() => checkEndpoint('lab', 'http://localhost:4566')).to.not.throw();
    for (const bad of ['https://ec2.us-east-1.amazonaws.com', 'http://10.0.0.5:4566', 'http://192.168.1.2', undefined]) {
      expect(() => checkEndpoint('lab', bad), String(bad)).to.throw(HarnessError);
    }
    expect(() => checkEndpoint('aws', 'http://127.0.0.1:1')).to.throw(/AWS_ENDPOINT_URL/);
    expect(() => checkEndpoint('aws', undefined)).to.not.throw();
  });

  it('the daemon-kill documents arm the node-local timer before they stop the daemon, and refuse bad parameters', () => {
    for (const mode of ['stop', 'kill'] as const) {
      const call = daemonFaultCall('kubelet', mode, 120, timerUnit('kubelet', 'chaos-x-abc123'));
      const s = renderScript(harnessDocument(call.documentName).content, call.parameters).split('\n');
      const arm = s.findIndex((l) => l.includes('systemd-run') && l.includes('--on-active=120s') && l.includes('chaos-restore-kubelet-abc123'));
      // the daemon's own path (after the kube-proxy container branch, which kubelet never takes)
      const act = s.length - 1 - [...s].reverse().findIndex((l) => (mode === 'stop' ? /systemctl stop "?kubelet/.test(l) : /^kill -9/.test(l)));
      expect(arm, `${mode}:\n${s.join('\n')}`).to.be.at.least(0);
      expect(act, `${mode}:\n${s.join('\n')}`).to.be.greaterThan(arm);
      expect(act, 'the daemon is acted on').to.be.below(s.length);
      expect(s.join('\n')).to.contain('set -euo pipefail');
    }
    expect(() => daemonFaultCall('kubelet; rm -rf /', 'stop', 1, 'chaos-restore-kubelet-1')).to.throw();
    expect(() => daemonFaultCall('kubelet', 'stop', 1, 'x; reboot')).to.throw();
  });

  it('the IAM policy allows every action the harness calls, with tag conditions on the changing ones', () => {
    const actions = allowedActions();
    for (const a of ['ec2:StopInstances', 'ec2:StartInstances', 'ec2:CreateNetworkAcl', 'ec2:ReplaceNetworkAclAssociation', 'ec2:DeleteNetworkAcl', 'ssm:SendCommand', 'autoscaling:SuspendProcesses']) expect(actions.has(a), a).to.equal(true);
    const doc = iamPolicy('prod-eks');
    for (const st of doc.Statement.filter((s) => s.Action.some((a) => /Stop|Start|Delete|Replace|Suspend|Resume/.test(a)))) {
      expect(st.Condition, st.Sid).to.not.equal(undefined);
    }
    expect(JSON.stringify(doc)).to.contain('kubernetes.io/cluster/prod-eks').and.not.contain('${ClusterName}');
  });
});
