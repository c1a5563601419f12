// The lab's service data plane. Every Service of type LoadBalancer gets an HTTP listener on
// 127.0.0.1 standing for an internet-facing NLB in instance mode with cross-zone load balancing:
// the LB health-checks every node (interval and thresholds of the AWS Load Balancer Controller's
// defaults, scaled by --timing), sends each request to a healthy node (all nodes when none is
// healthy: NLB fails open), that node's kube-proxy view of the EndpointSlices picks a pod, and the lab
// answers for the pod or fails the way the world dictates: a hang (the client times out) when a
// packet would be dropped, a reset when nothing listens. It never connects to a pod IP.
//
// The container runtime being down does not take the pods with it: containerd's unit has
// KillMode=process (its containerd-shim processes and their containers stay), and the AL2 AMI's dockerd
// runs with "live-restore": true (lab/aws/model.ts daemonPolicies). Such a node goes NotReady (the
// kubelet reports the runtime gone) and its pods leave the EndpointSlices when the node lifecycle
// controller marks them not ready; until then they serve.
//
// A kube-proxy that is not running or frozen (SIGSTOP), or cannot reach the API, stops programming:
// its node keeps routing by the rules it last wrote (iptables rules outlive the process).
import http from 'node:http';
import type { Socket } from 'node:net';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { LB_IP, type Instance, type World } from './aws/model.js';
import type { Timing } from './timing.js';

export interface Endpoint { ip: string; port: number; pod?: string }
type Outcome = { kind: 'ok'; pod: V1Pod; inst: Instance } | { kind: 'hang'; why: string };

export interface HealthCheckConfig { intervalMs: number; healthy: number; unhealthy: number }

export function healthCheckConfig(t: Timing): HealthCheckConfig {
  // AWS Load Balancer Controller NLB defaults: interval 10 s, healthy/unhealthy threshold 3.
  return t.name === 'fast' ? { intervalMs: 2000, healthy: 3, unhealthy: 3 } : { intervalMs: 10_000, healthy: 3, unhealthy: 3 };
}

interface Lb {
  key: string;
  server: http.Server;
  port: number;
  nodePort: number;
  servicePort: number;
  /** per node: consecutive results and current health */
  health: Map<string, { healthy: boolean; ok: number; bad: number }>;
  rr: number;
  hangs: Set<Socket>;
}

export class DataPlane {
  readonly services = new Map<string, V1Service>();
  readonly slices = new Map<string, V1EndpointSlice>();
  readonly pods = new Map<string, V1Pod>();
  /** node name → service key → the endpoints that node's kube-proxy programmed */
  readonly views = new Map<string, Map<string, Endpoint[]>>();
  readonly lbs = new Map<string, Lb>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly world: World, private readonly hc: HealthCheckConfig, private readonly onLb: (key: string, port: number) => Promise<void>) {}

  start(): void {
    this.timer = setInterval(() => this.healthCheck(), this.hc.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const lb of this.lbs.values()) { for (const s of lb.hangs) s.destroy(); lb.server.close(); }
  }

  instanceOfNode(node: string): Instance | undefined {
    for (const i of this.world.instances.values()) if (i.spec.name === node && i.state !== 'terminated') return i;
    return undefined;
  }

  /** Ready endpoints of a service from its EndpointSlices (kube-proxy falls back to serving-terminating). */
  liveEndpoints(key: string): Endpoint[] {
    const ready: Endpoint[] = [];
    const serving: Endpoint[] = [];
    const svc = this.services.get(key);
    const wantPort = svc?.spec?.ports?.[0];
    for (const s of this.slices.values()) {
      if (`${s.metadata?.namespace}/${s.metadata?.labels?.['kubernetes.io/service-name']}` !== key) continue;
      const port = s.ports?.find((p) => !wantPort?.name || p.name === wantPort.name)?.port ?? 0;
      for (const e of s.endpoints ?? []) {
        for (const ip of e.addresses) {
          const ep = { ip, port, pod: e.targetRef?.name };
          if (e.conditions?.ready !== false) ready.push(ep);
          else if (e.conditions?.serving) serving.push(ep);
        }
      }
    }
    return ready.length ? ready : serving;
  }

  /** kube-proxy follows the API only while it runs (not frozen) and its node can reach the control plane. */
  refreshViews(): void {
    for (const inst of this.world.instances.values()) {
      if (inst.state === 'terminated') { this.views.delete(inst.spec.name); continue; }
      const live = this.world.daemonServing(inst, 'kube-proxy') && this.world.controlPlaneReachable(inst);
      if (!live && this.views.has(inst.spec.name)) continue; // frozen at its last view
      const m = new Map<string, Endpoint[]>();
      for (const key of this.services.keys()) m.set(key, this.liveEndpoints(key));
      this.views.set(inst.spec.name, m);
    }
  }

  private podByIp(ip: string): V1Pod | undefined {
    for (const p of this.pods.values()) if (p.status?.podIP === ip) return p;
    return undefined;
  }

  /** What happens to a connection the node `via` forwards to endpoint `ep`. */
  outcome(via: Instance, ep: Endpoint): Outcome {
    const pod = this.podByIp(ep.ip);
    if (!pod) return { kind: 'hang', why: `no pod has ${ep.ip} any more` };
    const inst = this.instanceOfNode(pod.spec?.nodeName ?? '');
    if (!inst || inst.state !== 'running') return { kind: 'hang', why: `pod ${pod.metadata?.name}'s instance is ${inst?.state ?? 'gone'}` };
    if (inst !== via) {
      if (!this.world.outboundOk(via, inst.spec.privateIp, ep.port) || !this.world.inboundOk(inst, via.spec.privateIp, ep.port)) {
        return { kind: 'hang', why: `network ACL drops ${via.spec.name} → ${inst.spec.name}` };
      }
    }
    return { kind: 'ok', pod, inst };
  }

  private nodeReachable(lb: Lb, inst: Instance): boolean {
    return inst.state === 'running' && this.world.inboundOk(inst, LB_IP, lb.nodePort);
  }

  private probeTarget(lb: Lb, inst: Instance): boolean {
    if (!this.nodeReachable(lb, inst)) return false;
    const eps = this.views.get(inst.spec.name)?.get(lb.key) ?? [];
    return eps.some((ep) => this.outcome(inst, ep).kind === 'ok');
  }

  private healthCheck(): void {
    this.refreshViews();
    for (const lb of this.lbs.values()) {
      for (const inst of this.world.instances.values()) {
        if (inst.state === 'terminated') { lb.health.delete(inst.spec.name); continue; }
        const h = lb.health.get(inst.spec.name) ?? { healthy: false, ok: 0, bad: 0 };
        if (this.probeTarget(lb, inst)) { h.ok++; h.bad = 0; if (h.ok >= this.hc.healthy) h.healthy = true; }
        else { h.bad++; h.ok = 0; if (h.bad >= this.hc.unhealthy) h.healthy = false; }
        lb.health.set(inst.spec.name, h);
      }
    }
  }

  targets(lb: Lb): Instance[] {
    const registered = [...this.world.instances.values()].filter((i) => i.state !== 'terminated');
    const healthy = registered.filter((i) => lb.health.get(i.spec.name)?.healthy);
    return healthy.length ? healthy : registered; // fail open
  }

  private handle(lb: Lb, req: http.IncomingMessage, res: http.ServerResponse): void {
    const targets = this.targets(lb);
    const via = targets[lb.rr++ % Math.max(1, targets.length)];
    const hang = (_why: string) => {
      lb.hangs.add(req.socket);
      const t = setTimeout(() => req.socket.destroy(), 120_000);
      req.socket.once('close', () => { clearTimeout(t); lb.hangs.delete(req.socket); });
    };
    if (!via) return void req.socket.resetAndDestroy();
    if (!this.nodeReachable(lb, via)) return hang(`LB → ${via.spec.name} dropped`);
    const eps = this.views.get(via.spec.name)?.get(lb.key) ?? [];
    if (!eps.length) return void req.socket.resetAndDestroy(); // kube-proxy REJECTs a service without endpoints
    const ep = eps[Math.floor(Math.random() * eps.length)]; // iptables: statistic mode random
    const o = this.outcome(via, ep);
    if (o.kind === 'hang') return hang(o.why);
    const body = JSON.stringify({ pod: o.pod.metadata?.name, node: o.inst.spec.name, zone: o.inst.spec.zone, via: via.spec.name });
    res.writeHead(200, { 'content-type': 'application/json', 'x-lab-pod': String(o.pod.metadata?.name), 'x-lab-node': o.inst.spec.name, 'x-lab-zone': o.inst.spec.zone });
    res.end(body);
  }

  async upsertService(svc: V1Service): Promise<void> {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    this.services.set(key, svc);
    if (svc.spec?.type !== 'LoadBalancer') return this.deleteService(key);
    const existing = this.lbs.get(key);
    const nodePort = svc.spec.ports?.[0]?.nodePort ?? 30000;
    if (existing) { existing.nodePort = nodePort; return; }
    const lb: Lb = { key, server: http.createServer(), port: 0, nodePort, servicePort: svc.spec.ports?.[0]?.port ?? 80, health: new Map(), rr: 0, hangs: new Set() };
    lb.server.on('request', (req, res) => {
      try {
        this.handle(lb, req, res);
      } catch (err) {
        console.error(`data plane ${key}: ${String(err)}`);
        req.socket.destroy();
      }
    });
    lb.server.keepAliveTimeout = 350_000; // NLB idle timeout
    this.lbs.set(key, lb);
    await new Promise<void>((r) => lb.server.listen(0, '127.0.0.1', r));
    lb.port = (lb.server.address() as { port: number }).port;
    // Targets start healthy (registered before the run), as a long-lived NLB's would be.
    for (const inst of this.world.instances.values()) lb.health.set(inst.spec.name, { healthy: true, ok: this.hc.healthy, bad: 0 });
    this.refreshViews();
    await this.onLb(key, lb.port);
  }

  deleteService(key: string): void {
    this.services.delete(key);
    const lb = this.lbs.get(key);
    if (!lb) return;
    for (const s of lb.hangs) s.destroy();
    lb.server.close();
    this.lbs.delete(key);
  }
}
