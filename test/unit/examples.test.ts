// The examples cannot run here, so they are validated: YAML parses, the workflow passes GitHub's own
// workflow parser, the Kubernetes objects pass their OpenAPI schemas, the IAM documents parse and the
// policy the examples point at covers every harness action.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { REPO_ROOT } from '../../lab/paths.js';
import { iamPolicy, UNCONDITIONED_BY_DESIGN } from '../../harness/iam/index.js';

const read = (p: string) => fs.readFileSync(path.join(REPO_ROOT, p), 'utf8');

describe('examples', () => {
  it('the GitHub Actions workflow is valid for GitHub\'s workflow parser and runs the gate with OIDC, summary and artifact', () => {
    const content = read('examples/github-actions/chaos-nightly.yml');
    const r = parseWorkflow({ name: 'chaos-nightly.yml', content }, new NoOperationTraceWriter());
    expect(r.context.errors.getErrors().map((e) => e.message)).to.deep.equal([]);
    expect(r.value).to.not.equal(undefined);
    expect(content).to.contain('id-token: write').and.contain('aws eks update-kubeconfig').and.contain('GITHUB_STEP_SUMMARY').and.contain('upload-artifact').and.contain('chaos -- gate');
    // a broken workflow is caught by the same check
    const bad = parseWorkflow({ name: 'bad.yml', content: content.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    bogus-key: 1') }, new NoOperationTraceWriter());
    expect(bad.context.errors.getErrors().length).to.be.above(0);
  });

  it('the Kubernetes manifests pass their schemas: ServiceAccount with IRSA, least-privilege ClusterRole, CronJob', async () => {
    const docs = parseAllDocuments(read('examples/kubernetes/cronjob.yaml')).map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string } });
    expect(docs.map((d) => d.kind)).to.deep.equal(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'CronJob']);
    const models: Record<string, () => Promise<{ new (x: unknown): { validate(): void } }>> = {
      Namespace: async () => (await import('kubernetes-models/v1/Namespace')).Namespace as never,
      ServiceAccount: async () => (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount as never,
      ClusterRole: async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole')).ClusterRole as never,
      ClusterRoleBinding: async () => (await import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding')).ClusterRoleBinding as never,
      CronJob: async () => (await import('kubernetes-models/batch/v1/CronJob')).CronJob as never,
    };
    for (const d of docs) {
      const Model = await models[d.kind]();
      expect(() => new Model(d).validate(), `${d.kind} ${d.metadata.name}`).to.not.throw();
    }
    const sa = docs[1] as unknown as { metadata: { annotations: Record<string, string> } };
    expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).to.match(/^arn:aws:iam::\d{12}:role\//);
    const role = docs[2] as unknown as { rules: Array<{ verbs: string[]; resources: string[] }> };
    const writes = role.rules.filter((r) => r.verbs.some((v) => !['get', 'list', 'watch'].includes(v)));
    expect(writes.map((r) => [r.resources, r.verbs])).to.deep.equal([[['events'], ['create']]]);
    // and the schema check is real: a CronJob without a schedule fails it
    const Cron = await models.CronJob();
    const broken = JSON.parse(JSON.stringify(docs[4])) as { spec: { schedule?: string } };
    delete broken.spec.schedule;
    expect(() => new Cron(broken).validate()).to.throw();
  });

  it('the IAM documents parse; the harness policy has a tag condition on every changing action', () => {
    const trust = JSON.parse(read('examples/iam/github-oidc-trust.json')) as { Statement: Array<{ Action: string; Condition: unknown }> };
    expect(trust.Statement[0].Action).to.equal('sts:AssumeRoleWithWebIdentity');
    const p = iamPolicy('preprod-eks');
    for (const st of p.Statement) {
      if (st.Action.every((a) => /:(Describe|Get|List)/.test(a))) continue;
      if (st.Sid in UNCONDITIONED_BY_DESIGN) continue;
      expect(st.Condition, st.Sid).to.not.equal(undefined);
    }
  });
});
