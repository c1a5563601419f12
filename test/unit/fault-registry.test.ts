// The fault registry is the one list of kinds: a tiny fake kind registered here (and nowhere else)
// shows up in the scenario schema, the `fault` sub-commands, `recover` (its journal reverted, its
// sweep run), `iam-policy`, the report schema's enum and the fuzz generator. And the shipped kinds
// match what the README's fault table and report/schema.json say.
import { expect } from 'chai';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { defineFaultKind, faults, type FaultContext, type SweepContext } from '../../harness/faults/index.js';
import { durationField, durationFlag } from '../../harness/faults/schema.js';
import { ScenarioSchema } from '../../harness/scenario.js';
import { addFaultCommands, faultFromFlags } from '../../harness/cli.js';
import { sweep } from '../../harness/recover.js';
import { iamGroups, iamPolicy } from '../../harness/iam/index.js';
import { reportSchema } from '../../harness/report/index.js';
import { Journal } from '../../harness/journal.js';
import { faultArb } from '../support/fault-arb.js';
import type { Aws } from '../../harness/aws/index.js';
import type { Kube } from '../../harness/k8s/index.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

interface FakeRes { level: number }
const calls: string[] = [];
const FakeSpec = z.object({ kind: z.literal('fake-wobble'), level: z.number().int().min(1).max(5), duration: durationField() }).strict();
const fake = defineFaultKind<z.output<typeof FakeSpec>, FakeRes>({
  kind: 'fake-wobble',
  doc: { summary: 'wobbles nothing (test kind)', fields: '`level`, `duration`', effect: 'none' },
  schema: FakeSpec,
  flags: [{ field: 'level', flag: '--level <n>', help: 'how hard to wobble', parse: 'number' }, durationFlag],
  iam: [{ Sid: 'FakeWobble', Effect: 'Allow', Action: ['ec2:WobbleInstances'], Resource: ['arn:aws:ec2:*:*:instance/*'], Condition: { StringLike: { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': ['owned'] } } }],
  iamRequests: [{ what: 'wobble a cluster instance', when: ['inject'], action: 'ec2:WobbleInstances', resource: 'arn:aws:ec2:${Region}:${Account}:instance/i-0123456789abcdef0', context: { 'aws:ResourceTag/kubernetes.io/cluster/${ClusterName}': 'owned' } }],
  rbac: [],
  async plan(_ctx, spec) { return { kind: 'fake-wobble', summary: `wobble at ${spec.level}`, lines: [], calls: [], durationMs: spec.duration, resources: { level: spec.level } }; },
  async checkPermissions() { return []; },
  async inject(_ctx, plan, j) { await j.step('wobble', { level: plan.resources.level }, async () => { calls.push('inject'); }); },
  async revert(_ctx, j) { calls.push(`revert ${j.intents('wobble').length}`); return { actions: ['unwobbled'], leftovers: [] }; },
  async sweep(ctx: SweepContext) { calls.push(`sweep act=${ctx.act}`); return { findings: [{ kind: 'wobble', id: 'w-1', detail: 'a tagged wobble' }], leftovers: [] }; },
  faulted: () => ({ nodes: [], zones: [], pods: ['default/demo-1'] }),
});

const scenario = (fault: unknown) => ({ name: 'x', description: 'd', fault, workloads: [{ selector: 'app=demo' }], slos: { r: 'recovery < 5m' } });
/** AWS with nothing tagged: the shipped kinds' sweeps find nothing. */
const quietAws = { describeInstancesByTag: async () => [], describeNetworkAcls: async () => [], groupsByTag: async () => [] } as unknown as Aws;

describe('fault registry: a new kind is one module', function () {
  before(() => faults.register(fake));
  after(() => faults.unregister('fake-wobble'));

  it('the scenario schema takes the new kind and checks its fields', () => {
    const ok = ScenarioSchema.safeParse(scenario({ kind: 'fake-wobble', level: 3, duration: '10s' }));
    expect(ok.success, ok.success ? '' : ok.error.message).to.equal(true);
    const bad = ScenarioSchema.safeParse(scenario({ kind: 'fake-wobble', level: 9, duration: '10s' }));
    expect(bad.success).to.equal(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).to.include('fault.level');
    // and the shipped kinds still parse
    expect(ScenarioSchema.safeParse(scenario({ kind: 'node-stop', duration: '1m' })).success).to.equal(true);
  });

  it('`chaos fault fake-wobble` exists with its flags, and its flags become a spec', () => {
    const program = new Command('chaos').exitOverride();
    const fault = addFaultCommands(program, faults, async () => 0);
    const sub = fault.commands.find((c) => c.name() === 'fake-wobble');
    expect(sub, fault.commands.map((c) => c.name()).join(', ')).to.not.equal(undefined);
    expect(sub!.options.map((o) => o.long)).to.include.members(['--level', '--duration', '--dry-run']);
    expect(faultFromFlags('fake-wobble', { level: '2', duration: '5s' })).to.deep.equal({ kind: 'fake-wobble', level: 2, duration: 5000 });
  });

  it('recover reverts a journal of the new kind and runs its sweep', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-fake-'));
    try {
      const j = Journal.create(dir, { runId: 'chaos-fake-1', kind: 'fake-wobble', cluster: 'c1', region: 'us-east-1', target: 'lab', fault: {} });
      const ctx = { aws: quietAws, kube: {} as Kube, log: () => {} } as unknown as FaultContext;
      const pf = await fake.plan(ctx, FakeSpec.parse({ kind: 'fake-wobble', level: 1, duration: '1s' }));
      await fake.inject(ctx, pf, j);
      // the process "crashed" here: the journal has no run.end; pretend its owner is gone
      const lines = fs.readFileSync(j.file, 'utf8').split('\n');
      const head = JSON.parse(lines[0]) as { data: { pid: number } };
      head.data.pid = 2 ** 22 + 1;
      fs.writeFileSync(j.file, [JSON.stringify(head), ...lines.slice(1)].join('\n'));
      calls.length = 0;
      const r = await sweep({ aws: quietAws, kube: {} as Kube, stateDir: dir, cluster: 'c1', act: true, log: () => {}, takeLock: false });
      expect(calls).to.deep.equal(['revert 1', 'sweep act=true']);
      expect(r.findings.map((f) => `${f.kind} ${f.id}`)).to.deep.equal(['journal chaos-fake-1', 'wobble w-1']);
      expect(Journal.open(j.file).closed).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('iam-policy and the report schema include the new kind', () => {
    const p = iamPolicy('c1');
    const st = p.Statement.find((s) => s.Sid === 'FakeWobble');
    expect(st?.Action).to.deep.equal(['ec2:WobbleInstances']);
    expect(JSON.stringify(st)).to.contain('kubernetes.io/cluster/c1').and.not.contain('${ClusterName}');
    // and the IAM simulator test proves its declared requests with the rest
    expect(iamGroups().find((g) => g.name === 'fake-wobble')?.requests.map((r) => r.action)).to.deep.equal(['ec2:WobbleInstances']);
    const enumOf = (s: Record<string, unknown>) => (s as { properties: { faults: { items: { properties: { kind: { enum: string[] } } } } } }).properties.faults.items.properties.kind.enum;
    expect(enumOf(reportSchema())).to.include('fake-wobble');
  });

  it('the fuzz generator makes valid specs of the new kind from its schema alone', () => {
    const specs = fc.sample(faultArb(faults), 300);
    const mine = specs.filter((s) => s.kind === 'fake-wobble');
    expect(mine.length).to.be.greaterThan(10);
    for (const s of mine) expect(FakeSpec.safeParse(s).success, JSON.stringify(s)).to.equal(true);
  });
});

describe('fault registry: the shipped kinds and what is written about them', () => {
  it('report/schema.json lists exactly the shipped kinds', () => {
    const committed = JSON.parse(fs.readFileSync(path.join(REPO, 'harness/report/schema.json'), 'utf8')) as Record<string, unknown>;
    const e = (committed as { properties: { faults: { items: { properties: { kind: { enum: string[] } } } } } }).properties.faults.items.properties.kind.enum;
    expect(e).to.deep.equal(faults.kinds());
  });

  it("the README's fault table is the registry's (regenerate with `npm run docs:faults`)", async () => {
    const { faultTable } = await import('../../harness/faults/docs.js');
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const m = /<!-- fault-table:start -->\n([\s\S]*?)<!-- fault-table:end -->/.exec(readme);
    expect(m, 'README.md has no <!-- fault-table:start --> … <!-- fault-table:end --> block').to.not.equal(null);
    expect(m![1]).to.equal(faultTable(faults));
  });
});
