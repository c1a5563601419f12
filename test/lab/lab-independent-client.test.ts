// "Done when" of lab part 2: an independent client (boto3) stops and starts an instance, swaps a
// zone's subnets to a deny-all ACL and back, and stops kubelet through SSM; each effect is checked
// with kubectl (the lab's binary) and HTTP requests to LAB_SERVICE_URL.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { readEnvFile } from '../../lab/cluster.js';
import { REPO_ROOT } from '../../lab/paths.js';
import { eventually, testLab, type TestLab } from '../support/lab.js';
import { hits } from '../support/aws.js';

const run = promisify(execFile);

describe('lab part 2: an independent client (boto3) and kubectl', function () {
  this.timeout(180_000);
  let lab: TestLab;
  let env: NodeJS.ProcessEnv;
  before(() => {
    lab = testLab();
    env = { ...process.env, ...readEnvFile(lab.paths.env) };
  });
  const py = async (...args: string[]) => JSON.parse((await run('python3', [path.join(REPO_ROOT, 'test/support/independent_client.py'), ...args], { env })).stdout) as Record<string, unknown>;
  const kubectl = async (...args: string[]) => (await run(env.LAB_KUBECTL!, args, { env })).stdout;
  const readyOf = async (node: string) => (await kubectl('get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')).trim();
  const nodesIn = async (zone: string) => (await kubectl('get', 'nodes', '-l', `topology.kubernetes.io/zone=${zone}`, '-o', 'jsonpath={.items[*].metadata.name}')).trim().split(' ');
  const instanceOf = async (node: string) => (await kubectl('get', 'node', node, '-o', 'jsonpath={.spec.providerID}')).trim().split('/').pop()!;
  const waitReady = (node: string, want: string, ms = 40_000) => eventually(`${node} Ready=${want}`, ms, async () => ((await readyOf(node)) === want ? true : undefined), 500);

  it('stop and start an instance: kubectl shows NotReady then Ready; HTTP never answers from it while stopped', async () => {
    const [node] = await nodesIn('us-east-1a');
    const id = await instanceOf(node);
    expect(await py('stop', id)).to.deep.equal({ current: 'stopping', final: 'stopped' });
    const r = await hits(env.LAB_SERVICE_URL!, 20, 800);
    expect(r.filter((x) => x.ok && x.node === node)).to.have.length(0);
    await waitReady(node, 'Unknown');
    expect(await py('start', id)).to.deep.equal({ current: 'pending', final: 'running' });
    await waitReady(node, 'True');
  });

  it('swap a zone to a deny-all ACL and back: the zone goes NotReady, traffic to it hangs, then all recovers', async () => {
    const zone = 'us-east-1b';
    const nodes = await nodesIn(zone);
    const state = await py('blackhole', zone);
    try {
      const r = await hits(env.LAB_SERVICE_URL!, 30, 800);
      expect(r.filter((x) => x.ok && x.zone === zone)).to.have.length(0);
      expect(r.some((x) => x.error === 'timeout')).to.equal(true);
      for (const n of nodes) await waitReady(n, 'Unknown');
    } finally {
      expect(await py('restore', JSON.stringify(state))).to.deep.equal({ restored: (state.saved as unknown[]).length });
    }
    for (const n of nodes) await waitReady(n, 'True');
    await eventually('the zone serves again', 60_000, async () => (await hits(env.LAB_SERVICE_URL!, 20, 800)).some((x) => x.ok && x.via && nodes.includes(x.via)) || undefined, 500);
  });

  it('systemctl stop kubelet through SSM: kubectl shows NotReady; systemctl start kubelet: Ready', async () => {
    const [node] = await nodesIn('us-east-1c');
    const id = await instanceOf(node);
    expect(await py('ssm', id, 'systemctl stop kubelet')).to.include({ status: 'Success', code: 0 });
    await waitReady(node, 'Unknown');
    const r = await hits(env.LAB_SERVICE_URL!, 20, 800);
    expect(r.every((x) => x.ok)).to.equal(true);
    expect(await py('ssm', id, 'systemctl start kubelet && systemctl is-active kubelet')).to.deep.equal({ status: 'Success', code: 0, stdout: 'active\n' });
    await waitReady(node, 'True');
  });
});
