// The examples cannot run here, so they are validated: the workflows pass GitHub's own workflow parser
// and keep the safety properties they claim (pinned actions, no expressions in shell, minimal
// permissions, the environment the OIDC trust is bound to, recover always, journals kept); the
// Kubernetes objects pass their OpenAPI schemas and the RBAC is what the harness needs and no more;
// the CronJob's scenario and allow-list load with the harness's own loaders; the IAM documents parse.
// The linters (zizmor, checkov) run in examples-linters.test.ts, the Dockerfile's contract in
// examples-dockerfile.test.ts.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { iamPolicy, UNCONDITIONED_BY_DESIGN } from '../../harness/iam/index.js';
import { loadScenario } from '../../harness/scenario.js';
import { loadTargets } from '../../harness/target.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');

// ---- GitHub Actions ---------------------------------------------------------------------------

interface Step { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string>; 'timeout-minutes'?: number }
interface Job { 'runs-on': string; 'timeout-minutes': number; environment?: string; permissions?: Record<string, string>; env?: Record<string, string>; steps: Step[] }
interface Workflow { name: string; on: Record<string, unknown>; permissions?: unknown; jobs: Record<string, Job> }

const WORKFLOWS = ['examples/github-actions/chaos-nightly.yml', 'examples/github-actions/chaos-image.yml'];
const workflow = (p: string) => parse(read(p)) as Workflow;

function parserErrors(name: string, content: string): string[] {
  const r = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  expect(r.value, name).to.not.equal(undefined);
  return r.context.errors.getErrors().map((e) => e.message);
}

describe('examples: GitHub Actions', () => {
  it('every workflow is valid for GitHub\'s workflow parser (and the parser catches a broken one)', () => {
    expect(fs.readdirSync(path.join(ROOT, 'examples/github-actions')).sort()).to.deep.equal(['chaos-image.yml', 'chaos-nightly.yml']);
    for (const p of WORKFLOWS) expect(parserErrors(p, read(p)), p).to.deep.equal([]);
    const content = read(WORKFLOWS[0]);
    expect(parserErrors('bad.yml', content.replace('runs-on: ubuntu-24.04', 'runs-on: ubuntu-24.04\n    bogus-key: 1')).length).to.be.above(0);
  });

  it('actions are pinned by full commit SHA with a version comment, the same SHA for the same action everywhere', () => {
    const pins = new Map<string, string>();
    for (const p of WORKFLOWS) {
      const uses = read(p).split('\n').filter((l) => /^\s*(- )?uses:/.test(l));
      expect(uses.length, p).to.be.above(2);
      for (const line of uses) {
        const m = /uses:\s*([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # (v\d+(\.\d+)*)\s*$/.exec(line);
        expect(m, `${p}: ${line.trim()}`).to.not.equal(null);
        const [, action, sha, version] = m!;
        const seen = pins.get(action);
        if (seen) expect(`${sha} ${version}`, `${action} pinned differently in ${p}`).to.equal(seen);
        pins.set(action, `${sha} ${version}`);
      }
    }
    expect([...pins.keys()].sort()).to.include.members(['actions/checkout', 'actions/setup-node', 'actions/upload-artifact', 'aws-actions/configure-aws-credentials', 'docker/build-push-action', 'docker/login-action']);
  });

  it('no expression inside a shell step, checkouts keep no token, permissions are granted per job and minimal', () => {
    for (const p of WORKFLOWS) {
      const wf = workflow(p);
      expect(wf.permissions, `${p}: top-level permissions`).to.deep.equal({});
      for (const [id, job] of Object.entries(wf.jobs)) {
        expect(job.permissions, `${p} ${id}`).to.deep.equal({ contents: 'read', 'id-token': 'write' });
        expect(job['timeout-minutes'], `${p} ${id}`).to.be.a('number');
        for (const s of job.steps) {
          if (s.run !== undefined) expect(s.run, `${p} ${id} step "${s.name ?? s.run}"`).to.not.contain('${{');
          if (s.uses?.startsWith('actions/checkout@')) expect(s.with?.['persist-credentials'], `${p} ${id} checkout`).to.equal(false);
        }
      }
    }
  });

  it('AWS sessions outlive their job: role-duration-seconds >= timeout-minutes in seconds', () => {
    for (const p of WORKFLOWS) {
      for (const [id, job] of Object.entries(workflow(p).jobs)) {
        const creds = job.steps.filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
        expect(creds, `${p} ${id}`).to.have.length(1);
        expect(creds[0].with?.['role-to-assume'], `${p} ${id}`).to.match(/^arn:aws:iam::\d{12}:role\//);
        expect(Number(creds[0].with?.['role-duration-seconds']), `${p} ${id}`).to.be.at.least(job['timeout-minutes'] * 60);
      }
    }
  });

  it('the nightly: environment bound in the OIDC trust, recover always, reports and journals uploaded always, summary', () => {
    const wf = workflow('examples/github-actions/chaos-nightly.yml');
    const job = wf.jobs.gate;
    expect(job.environment).to.equal('chaos-preprod');
    expect(wf.on).to.have.keys('schedule', 'workflow_dispatch');
    // the suite input reaches the shell through env only
    expect(job.env?.SUITE).to.contain('inputs.suite');
    const runs = job.steps.filter((s) => s.run).map((s) => s.run!);
    expect(runs.some((r) => r.includes('aws eks update-kubeconfig'))).to.equal(true);
    const gate = job.steps.find((s) => /\bchaos gate\b/.test(s.run ?? ''));
    expect(gate?.run).to.contain('--suite "$SUITE"').and.contain('--target aws').and.contain('--yes');
    expect(gate?.['timeout-minutes'], 'the gate step leaves the job time to recover').to.be.below(job['timeout-minutes']);
    const gateAt = job.steps.indexOf(gate!);
    const recover = job.steps.findIndex((s, i) => i > gateAt && /\bchaos recover\b/.test(s.run ?? ''));
    expect(recover, 'a recover step after the gate').to.be.above(gateAt);
    expect(job.steps[recover].if).to.equal('always()');
    const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.if).to.equal('always()');
    const paths = String(upload?.with?.path).split('\n').map((l) => l.trim()).filter(Boolean);
    expect(paths).to.include.members(['reports/', '.chaos/']);
    expect(upload?.with?.['include-hidden-files'], '.chaos/ is a dot directory').to.equal(true);
    expect(runs.some((r) => r.includes('GITHUB_STEP_SUMMARY'))).to.equal(true);

    const trust = JSON.parse(read('examples/iam/github-oidc-trust.json')) as { Statement: Array<{ Action: string; Condition: Record<string, Record<string, string>> }> };
    const st = trust.Statement[0];
    expect(st.Action).to.equal('sts:AssumeRoleWithWebIdentity');
    expect(st.Condition.StringEquals['token.actions.githubusercontent.com:aud']).to.equal('sts.amazonaws.com');
    // exact match on the environment: no wildcard, no branch or pull-request subject
    expect(st.Condition.StringEquals['token.actions.githubusercontent.com:sub']).to.match(new RegExp(`^repo:[\\w.-]+/[\\w.-]+:environment:${job.environment}$`));
    expect(JSON.stringify(trust)).to.not.contain('StringLike');
  });

  it('the image workflow: OIDC to ECR, build and push the Dockerfile, tags without expressions in shell, digest in the summary', () => {
    const wf = workflow('examples/github-actions/chaos-image.yml');
    const job = wf.jobs.image;
    const step = (prefix: string) => job.steps.find((s) => s.uses?.startsWith(prefix));
    expect(String(step('docker/login-action@')?.with?.registry)).to.contain('env.REGISTRY');
    expect(job.env?.REGISTRY).to.match(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/);
    const build = step('docker/build-push-action@');
    expect(build?.with).to.include({ context: '.', file: 'Dockerfile', push: true });
    expect(job.steps.some((s) => s.run?.includes('GITHUB_STEP_SUMMARY') && s.env?.DIGEST?.includes('steps.build.outputs.digest'))).to.equal(true);
    // no long-lived keys anywhere
    for (const p of WORKFLOWS) expect(read(p)).to.not.match(/aws-access-key-id|aws-secret-access-key|secrets\./);
  });
});

// ---- Kubernetes -------------------------------------------------------------------------------

interface Obj { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; [k: string]: unknown }
interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }
interface Container { name: string; image: string; args: string[]; securityContext: Record<string, unknown>; resources: { requests: Record<string, string>; limits: Record<string, string> }; volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }> }

const docs = (p: string) => parseAllDocuments(read(p)).map((d) => d.toJS() as Obj);
const rbac = () => docs('examples/kubernetes/rbac.yaml');
const cron = () => docs('examples/kubernetes/cronjob.yaml');

const MODELS: Record<string, () => Promise<unknown>> = {
  Namespace: async () => (await import('kubernetes-models/v1/Namespace')).Namespace,
  ServiceAccount: async () => (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount,
  ConfigMap: async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap,
  ClusterRole: async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole')).ClusterRole,
  ClusterRoleBinding: async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding')).ClusterRoleBinding,
  Role: async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/Role')).Role,
  RoleBinding: async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding')).RoleBinding,
  CronJob: async () => (await import('kubernetes-models/batch/v1/CronJob')).CronJob,
};
async function validate(d: unknown): Promise<void> {
  const kind = (d as Obj).kind;
  expect(MODELS, `a model for ${kind}`).to.have.property(kind);
  const Model = (await MODELS[kind]()) as new (x: unknown) => { validate(): void };
  new Model(d).validate();
}

function podSpec() {
  const cj = cron().find((d) => d.kind === 'CronJob') as unknown as {
    spec: { concurrencyPolicy: string; jobTemplate: { spec: { backoffLimit: number; template: { spec: {
      serviceAccountName: string; automountServiceAccountToken: boolean; securityContext: Record<string, unknown>;
      initContainers: Container[]; containers: Container[]; volumes: Array<Record<string, unknown> & { name: string }>;
    } } } } };
  };
  return { cj, pod: cj.spec.jobTemplate.spec.template.spec };
}

describe('examples: Kubernetes', () => {
  it('every manifest passes its schema (and the schema check is real: a CronJob without a schedule fails)', async () => {
    expect(fs.readdirSync(path.join(ROOT, 'examples/kubernetes')).sort()).to.deep.equal(['cronjob.yaml', 'rbac.yaml']);
    const all = [...rbac(), ...cron()];
    expect(all.map((d) => d.kind)).to.deep.equal(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Role', 'RoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'CronJob']);
    for (const d of all) {
      try { await validate(d); } catch (err) { throw new Error(`${d.kind} ${d.metadata.name}: ${(err as Error).message}`); }
    }
    const broken = JSON.parse(JSON.stringify(all.find((d) => d.kind === 'CronJob'))) as { spec: { schedule?: string } };
    delete broken.spec.schedule;
    let failed = false;
    try { await validate(broken); } catch { failed = true; }
    expect(failed).to.equal(true);
  });

  it('RBAC: cluster-wide only node reads and Service / ENIConfig lists; namespaced reads and Events; Leases in the harness namespace; nothing else', () => {
    const objs = rbac();
    const sa = objs.find((d) => d.kind === 'ServiceAccount') as Obj & { automountServiceAccountToken: boolean };
    expect(sa.metadata.annotations?.['eks.amazonaws.com/role-arn']).to.match(/^arn:aws:iam::\d{12}:role\//);
    expect(sa.automountServiceAccountToken).to.equal(false);
    const rules = (kind: string, ns?: string) => objs.filter((d) => d.kind === kind && d.metadata.namespace === ns).map((d) => [d.metadata.name, d.rules as Rule[]] as const);
    expect(rules('ClusterRole')).to.deep.equal([['chaos-harness-nodes', [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services'], verbs: ['list'] },
      { apiGroups: ['crd.k8s.amazonaws.com'], resources: ['eniconfigs'], verbs: ['list'] },
    ]]]);
    const read = ['get', 'list', 'watch'];
    expect(rules('Role', 'shop')).to.deep.equal([['chaos-harness-observe', [
      { apiGroups: [''], resources: ['pods'], verbs: read },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: read },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ]]]);
    expect(rules('Role', 'default')).to.deep.equal([['chaos-harness-node-events', [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }]]]);
    expect(rules('Role', 'chaos')).to.deep.equal([['chaos-harness-run-lock', [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update', 'delete'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['chaos-harness-stop'], verbs: ['get'] },
    ]]]);
    // every Role is bound to the harness's ServiceAccount, each binding to a Role that exists
    for (const b of objs.filter((d) => d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding') as Array<Obj & { roleRef: { kind: string; name: string }; subjects: unknown[] }>) {
      expect(b.subjects, b.metadata.name).to.deep.equal([{ kind: 'ServiceAccount', name: 'chaos-harness', namespace: 'chaos' }]);
      const role = objs.find((d) => d.kind === b.roleRef.kind && d.metadata.name === b.roleRef.name && d.metadata.namespace === b.metadata.namespace);
      expect(role, `${b.kind} ${b.metadata.name}`).to.not.equal(undefined);
    }
    // no wildcard anywhere, no secrets
    expect(JSON.stringify(objs)).to.not.contain('"*"').and.not.contain('secrets');
  });

  it('the CronJob: recover first (initContainer), Forbid, hardened containers, emptyDirs for the writable paths, projected token', () => {
    const { cj, pod } = podSpec();
    expect(cj.spec.concurrencyPolicy).to.equal('Forbid');
    expect(cj.spec.jobTemplate.spec.backoffLimit).to.equal(0);
    expect(pod.serviceAccountName).to.equal('chaos-harness');
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.securityContext).to.deep.include({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.initContainers.map((c) => c.args.slice(0, 1))).to.deep.equal([['recover']]);
    expect(pod.initContainers[0].args).to.not.include('--force');
    expect(pod.containers.map((c) => c.args[0])).to.deep.equal(['gate']);
    const volumes = new Map(pod.volumes.map((v) => [v.name, v]));
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.image, c.name).to.match(/@sha256:[0-9a-f]{64}$/);
      expect(c.args, c.name).to.include.members(['--target', 'aws', '--yes']);
      expect(c.securityContext, c.name).to.deep.include({ runAsNonRoot: true, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
      expect(c.resources.requests, c.name).to.have.keys('cpu', 'memory');
      expect(c.resources.limits, c.name).to.have.keys('cpu', 'memory');
      const mounts = new Map(c.volumeMounts.map((m) => [m.mountPath, m]));
      for (const p of ['/work/.chaos', '/work/reports', '/tmp']) {
        expect(mounts.has(p), `${c.name} mounts ${p}`).to.equal(true);
        expect(volumes.get(mounts.get(p)!.name), `${c.name} ${p}`).to.have.property('emptyDir');
      }
      for (const p of ['/work/chaos.targets.json', '/work/scenarios', '/var/run/secrets/kubernetes.io/serviceaccount']) {
        expect(mounts.get(p)?.readOnly, `${c.name} mounts ${p} read-only`).to.equal(true);
      }
      const env = (c as unknown as { env: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }> }).env;
      expect(env.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, c.name).to.equal('spec.nodeName');
    }
    const token = volumes.get('kube-api-access') as unknown as { projected: { sources: Array<Record<string, { expirationSeconds?: number; name?: string }>> } };
    expect(token.projected.sources.map((s) => Object.keys(s)[0])).to.deep.equal(['serviceAccountToken', 'configMap', 'downwardAPI']);
    expect(token.projected.sources[0].serviceAccountToken.expirationSeconds).to.be.at.most(3600);
  });

  it('the CronJob\'s project loads with the harness\'s own loaders; its scenarios\' namespaces are the ones the Roles cover', async () => {
    const cm = cron().find((d) => d.kind === 'ConfigMap') as Obj & { data: Record<string, string> };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-examples-'));
    try {
      fs.writeFileSync(path.join(dir, 'chaos.targets.json'), cm.data['chaos.targets.json']);
      const targets = loadTargets(path.join(dir, 'chaos.targets.json'));
      expect(targets.aws.contexts).to.deep.equal(['inClusterContext']); // what @kubernetes/client-node names the in-cluster context
      expect(targets.aws.cluster).to.not.equal('');
      const suites = JSON.parse(cm.data['suites.json']) as Record<string, string[]>;
      const args = podSpec().pod.containers[0].args;
      const suite = suites[args[args.indexOf('--suite') + 1]];
      expect(suite, 'the suite the CronJob runs').to.be.an('array').that.is.not.empty;
      const roleNamespaces = rbac().filter((d) => d.kind === 'Role' && d.metadata.name === 'chaos-harness-observe').map((d) => d.metadata.namespace);
      for (const name of suite) {
        const file = path.join(dir, `${name}.ts`);
        expect(cm.data, `the ConfigMap has ${name}.ts`).to.have.property(`${name}.ts`);
        fs.writeFileSync(file, cm.data[`${name}.ts`]);
        const s = await loadScenario(file);
        expect(s.name).to.equal(name);
        for (const w of s.workloads) expect(roleNamespaces, `a Role for ${name}'s namespace ${w.namespace}`).to.include(w.namespace);
        for (const p of s.probes) {
          for (const [, v] of p.url.matchAll(/\$\{(\w+)\}/g)) {
            expect(podSpec().pod.containers[0] as unknown as { env: Array<{ name: string }> }, `${name}: \${${v}} is set`).to.satisfy((c: { env: Array<{ name: string }> }) => c.env.some((e) => e.name === v));
          }
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples: IAM', () => {
  it('the harness policy the examples point at has a tag condition on every changing action', () => {
    const p = iamPolicy('preprod-eks');
    for (const st of p.Statement) {
      if (st.Action.every((a) => /:(Describe|Get|List)/.test(a))) continue;
      if (st.Sid in UNCONDITIONED_BY_DESIGN) continue;
      expect(st.Condition, st.Sid).to.not.equal(undefined);
    }
  });
});
