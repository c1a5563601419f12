// `--target aws`, the built-in provider: a real EKS cluster and AWS account. Checked against the aws
// entry of chaos.targets.json (confirmation, cluster, accounts, region, endpoint, kube context) before
// anything is touched. Light to import: the AWS SDK and client-node are imported inside resolve().
import { invalid } from './exit-codes.js';
import type { TargetProvider } from './providers.js';

/** `--target aws`: a real EKS cluster and account, from the default credential chain and kube context. */
export const awsProvider: TargetProvider = {
  kind: 'aws',
  description: 'a real EKS cluster and AWS account (default credential chain and kubeconfig)',
  starterEntry: { kind: 'aws', cluster: '', contexts: [], accounts: [], regions: [], ciOptIn: false },
  async resolve(o) {
    const entry = o.entry;
    if (!entry) throw invalid(`${o.configFile} has no "aws" entry: add one (cluster, contexts, accounts, regions) to enable --target aws`);
    const env = o.env;
    const ci = env.CI === 'true';
    if (!o.yes && !(ci && entry.ciOptIn)) throw invalid('--target aws changes a real account: pass --yes (or set ciOptIn in chaos.targets.json to let CI=true confirm)');
    if (!entry.cluster) throw invalid('chaos.targets.json aws.cluster is empty: name the EKS cluster the harness may act on');
    if (!entry.accounts.length) throw invalid('chaos.targets.json aws.accounts is empty: list the AWS account ids the harness may act in');
    const region = o.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw invalid('no AWS region: pass --region or set AWS_REGION');
    if (!entry.regions.includes(region)) throw invalid(`region ${region} is not allowed (chaos.targets.json aws.regions: ${entry.regions.join(', ') || 'none'})`);
    const { Aws, checkEndpoint, makeClients } = await import('./aws/index.js');
    const { Kube } = await import('./k8s/index.js');
    checkEndpoint('aws', env.AWS_ENDPOINT_URL);
    const kube = Kube.load({ context: o.context });
    if (!entry.contexts.includes(kube.context)) throw invalid(`kube context "${kube.context}" is not allowed (chaos.targets.json aws.contexts: ${entry.contexts.join(', ') || 'none'})`);
    return { kind: 'aws', kube, aws: new Aws(makeClients({ kind: 'aws', region })), guard: { cluster: entry.cluster, region, accounts: entry.accounts }, context: kube.context, env: {} };
  },
};
