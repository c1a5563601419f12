// AWS SDK clients pointed at the test lab's endpoint (127.0.0.1 only), plus the lab control.
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { readDaemonInfo } from '../../lab/cluster.js';
import { eventually } from './lab.js';
import type { TestLab } from './lab.js';

export interface LabAws {
  endpoint: string;
  serviceUrl: string;
  ec2: EC2Client;
  ssm: SSMClient;
  asg: AutoScalingClient;
  control(method: string, path: string, body?: unknown): Promise<unknown>;
}

export function labAws(lab: TestLab, maxAttempts = 3): LabAws {
  const info = readDaemonInfo(lab.paths);
  if (!info) throw new Error('the test lab has no AWS endpoint (aws.json missing)');
  const endpoint = `http://127.0.0.1:${info.awsPort}`;
  const cfg = { endpoint, region: 'us-east-1', maxAttempts, credentials: { accessKeyId: 'AKIALABDUMMY00000000', secretAccessKey: 'lab-dummy' } };
  return {
    endpoint,
    serviceUrl: `http://127.0.0.1:${info.loadBalancers['default/demo']}`,
    ec2: new EC2Client(cfg),
    ssm: new SSMClient(cfg),
    asg: new AutoScalingClient(cfg),
    async control(method, path, body) {
      const r = await fetch(`${endpoint}/_lab/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
      if (!r.ok) throw new Error(`lab control ${method} ${path}: ${r.status} ${await r.text()}`);
      return r.json();
    },
  };
}

export interface HttpResult { ok: boolean; status?: number; node?: string; pod?: string; zone?: string; via?: string; error?: string; ms: number }

/** One request to the demo service with a client timeout; errors are returned, not thrown. */
export async function hit(url: string, timeoutMs = 1000): Promise<HttpResult> {
  const t0 = performance.now();
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } });
    const body = (await r.json()) as { node?: string; pod?: string; zone?: string; via?: string };
    return { ok: r.status === 200, status: r.status, ...body, ms: performance.now() - t0 };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const error = e.name === 'TimeoutError' ? 'timeout' : e.cause?.code ?? e.name;
    return { ok: false, error, ms: performance.now() - t0 };
  }
}

export async function hits(url: string, n: number, timeoutMs = 1000, concurrency = 10): Promise<HttpResult[]> {
  const out: HttpResult[] = [];
  for (let i = 0; i < n; i += concurrency) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, n - i) }, () => hit(url, timeoutMs)))));
  }
  return out;
}

/** Runs an AWS-RunShellScript on one instance and waits through the InvocationDoesNotExist race for the end. */
export async function runScript(aws: LabAws, instanceId: string, commands: string[], extra: Record<string, string[]> = {}) {
  const sent = await aws.ssm.send(new SendCommandCommand({ InstanceIds: [instanceId], DocumentName: 'AWS-RunShellScript', Parameters: { commands, ...extra } }));
  const id = sent.Command!.CommandId!;
  return eventually(`command ${id} on ${instanceId} to finish`, 30_000, async () => {
    const r = await aws.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: instanceId })).catch((e: Error) => {
      if (e.name === 'InvocationDoesNotExist') return undefined;
      throw e;
    });
    return r && !['Pending', 'InProgress', 'Delayed'].includes(r.Status!) ? r : undefined;
  }, 200);
}


/** The error name a call rejects with ('no error' when it resolves). */
export async function errorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}
