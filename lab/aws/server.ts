// The lab's AWS endpoint on 127.0.0.1: EC2, Auto Scaling and STS (Query protocol, XML) and SSM (JSON
// 1.1) on one port, told apart the way AWS's own front ends are (X-Amz-Target for JSON; for Query the
// service in the SigV4 credential scope, `sts`, else the Version: 2011-06-15 STS, 2011-01-01 Auto
// Scaling, otherwise EC2). `/_lab/*` is the test control: injected throttling, 5xx answers and latency, a lab IAM
// deny list, node quirks (`npm run lab -- quirk`: a fault that does not take on one node), and a world snapshot.
import http from 'node:http';
import { AwsError, ec2Error, ec2Response, parseQuery, queryError, queryResponse, requestId } from './wire.js';
import { ec2Handlers } from './ec2.js';
import { asgHandlers } from './autoscaling.js';
import { labAccountId, labIdentity, signedService, stsError, stsHandle, stsResponse } from './sts.js';
import { DAEMON_NAMES, QUIRKS, type DaemonName, type Quirk, type World } from './model.js';
import type { Ssm } from './ssm.js';

export interface FaultRule {
  service: 'ec2' | 'ssm' | 'autoscaling' | 'sts' | '*';
  action: string;
  kind: 'throttle' | '5xx' | 'latency';
  latencyMs?: number;
  /** answer this many matching calls, then the rule expires (default: until cleared) */
  count?: number;
  /** chance 0..1 that a matching call is hit (default 1) */
  probability?: number;
}

export interface CallRecord { time: string; service: string; action: string; status: number; error?: string; dryRun?: boolean }

export interface AwsEndpoint {
  server: http.Server;
  faults: FaultRule[];
  denied: Set<string>;
  calls: CallRecord[];
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { s += d; if (s.length > 8e6) req.destroy(); });
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function injected(service: string, kind: FaultRule['kind']): AwsError {
  if (kind === 'throttle') {
    if (service === 'ec2') return new AwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    if (service === 'autoscaling' || service === 'sts') return new AwsError('Throttling', 'Rate exceeded', 400);
    return new AwsError('ThrottlingException', 'Rate exceeded', 400);
  }
  if (service === 'ec2') return new AwsError('InternalError', 'An internal error has occurred', 500);
  if (service === 'autoscaling' || service === 'sts') return new AwsError('InternalFailure', 'An internal error has occurred', 500);
  return new AwsError('InternalServerError', 'An internal error has occurred', 500);
}

export function createAwsEndpoint(world: World, ssm: Ssm, snapshot: () => unknown): AwsEndpoint {
  const faults: FaultRule[] = [];
  const denied = new Set<string>();
  const calls: CallRecord[] = [];
  const ec2 = ec2Handlers(denied);
  const identity = labIdentity(labAccountId());

  async function applyFaults(service: string, action: string): Promise<void> {
    for (const f of [...faults]) {
      if (f.service !== '*' && f.service !== service) continue;
      if (f.action !== '*' && f.action !== action) continue;
      if (f.probability !== undefined && Math.random() >= f.probability) continue;
      if (f.count !== undefined) {
        if (f.count <= 0) continue;
        f.count--;
        if (f.count <= 0) faults.splice(faults.indexOf(f), 1);
      }
      if (f.kind === 'latency') await sleep(f.latencyMs ?? 100);
      else throw injected(service, f.kind);
    }
  }

  async function admin(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : '';
    const json = (code: number, v: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /_lab/health': return json(200, { ok: true });
      case 'GET /_lab/world': return json(200, snapshot());
      case 'GET /_lab/calls': return json(200, calls);
      case 'GET /_lab/faults': return json(200, faults);
      case 'POST /_lab/faults': {
        const rules = JSON.parse(body || '[]') as FaultRule | FaultRule[];
        for (const r of Array.isArray(rules) ? rules : [rules]) {
          if (!['throttle', '5xx', 'latency'].includes(r.kind)) return json(400, { error: `kind must be throttle, 5xx or latency, got ${String(r.kind)}` });
          faults.push({ service: r.service ?? '*', action: r.action ?? '*', kind: r.kind, latencyMs: r.latencyMs, count: r.count, probability: r.probability });
        }
        return json(200, faults);
      }
      case 'DELETE /_lab/faults': faults.length = 0; return json(200, faults);
      case 'GET /_lab/quirks': return json(200, world.listQuirks());
      case 'POST /_lab/quirks': {
        const q = JSON.parse(body || '{}') as { node?: string; quirk?: string; daemon?: string; by?: string };
        const inst = world.findInstance(q.node ?? '');
        if (!inst) return json(404, { error: `no lab node or instance ${String(q.node)}` });
        if (!QUIRKS.includes(q.quirk as Quirk)) return json(400, { error: `quirk must be one of ${QUIRKS.join(', ')}, got ${String(q.quirk)}` });
        if (!DAEMON_NAMES.includes(q.daemon as DaemonName)) return json(400, { error: `daemon must be one of ${DAEMON_NAMES.join(', ')}, got ${String(q.daemon)}` });
        if (!inst.daemons.has(q.daemon as DaemonName)) return json(400, { error: `${inst.spec.name} (${inst.id}) runs no ${q.daemon}` });
        world.setQuirk(inst, q.daemon as DaemonName, q.quirk as Quirk, q.by ?? 'lab-control');
        return json(200, world.listQuirks());
      }
      case 'DELETE /_lab/quirks': {
        const inst = world.findInstance(url.searchParams.get('node') ?? '');
        if (!inst) return json(404, { error: `no lab node or instance ${String(url.searchParams.get('node'))}` });
        const cleared = world.clearQuirks(inst, url.searchParams.get('by') ?? 'lab-control');
        return json(200, { node: inst.spec.name, instanceId: inst.id, cleared });
      }
      case 'PUT /_lab/iam/deny': {
        denied.clear();
        for (const a of JSON.parse(body || '[]') as string[]) denied.add(a);
        return json(200, [...denied]);
      }
      default: return json(404, { error: `no lab control at ${req.method} ${url.pathname}` });
    }
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    if (url.pathname.startsWith('/_lab/')) {
      try { await admin(req, res, url); } catch (err) { res.writeHead(500); res.end(String(err)); }
      return;
    }
    const reqId = requestId();
    const target = req.headers['x-amz-target'];
    const body = await readBody(req);
    if (typeof target === 'string') {
      const [prefix, op] = target.split('.');
      const send = (code: number, v: unknown) => {
        res.writeHead(code, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': reqId });
        res.end(JSON.stringify(v));
      };
      try {
        if (prefix !== 'AmazonSSM') throw new AwsError('UnknownOperationException', `Unknown target ${target}`);
        await applyFaults('ssm', op);
        const out = ssm.handle(op, JSON.parse(body || '{}') as Record<string, unknown>);
        calls.push({ time: new Date().toISOString(), service: 'ssm', action: op, status: 200 });
        send(200, out);
      } catch (err) {
        const e = err instanceof AwsError ? err : new AwsError('InternalServerError', String(err), 500);
        calls.push({ time: new Date().toISOString(), service: 'ssm', action: op ?? target, status: e.status, error: e.code });
        send(e.status, { __type: `com.amazonaws.ssm#${e.code}`, message: e.message });
      }
      return;
    }
    const p = parseQuery(body || url.search.slice(1));
    const action = p.get('Action') ?? '';
    const version = p.get('Version') ?? '';
    const signedFor = signedService(req.headers.authorization);
    const service = signedFor === 'sts' || (!signedFor && version === '2011-06-15') ? 'sts' : version === '2011-01-01' ? 'autoscaling' : 'ec2';
    const dryRun = (p.get('DryRun') ?? '').toLowerCase() === 'true';
    const send = (code: number, xmlText: string) => {
      res.writeHead(code, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': reqId });
      res.end(xmlText);
    };
    try {
      if (service === 'ec2') {
        const h = ec2[action];
        if (!h) throw new AwsError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
        await applyFaults('ec2', action);
        const out = h(world, p);
        calls.push({ time: new Date().toISOString(), service, action, status: 200 });
        send(200, ec2Response(action, out, reqId));
      } else if (service === 'sts') {
        await applyFaults('sts', action);
        const out = stsHandle(action, p, identity);
        calls.push({ time: new Date().toISOString(), service, action, status: 200 });
        send(200, stsResponse(action, out, reqId));
      } else {
        const h = asgHandlers[action];
        if (!h) throw new AwsError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
        await applyFaults('autoscaling', action);
        if (denied.has(`autoscaling:${action}`)) throw new AwsError('AccessDenied', `User: arn:aws:iam::123456789012:user/lab is not authorized to perform: autoscaling:${action}`, 403);
        const out = h(world, p);
        calls.push({ time: new Date().toISOString(), service, action, status: 200 });
        send(200, queryResponse(action, out, reqId));
      }
    } catch (err) {
      const e = err instanceof AwsError ? err : new AwsError(service === 'ec2' ? 'InternalError' : 'InternalFailure', String(err), 500);
      calls.push({ time: new Date().toISOString(), service, action, status: e.status, error: e.code, dryRun });
      send(e.status, service === 'ec2' ? ec2Error(e, reqId) : service === 'sts' ? stsError(e, reqId) : queryError(e, reqId));
    }
    if (calls.length > 20000) calls.splice(0, calls.length - 10000);
  });
  return { server, faults, denied, calls };
}
