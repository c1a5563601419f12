// Scripted timelines for the pure SLO and report tests.
import type { Timeline, TimelineEvent } from '../../harness/timeline.js';

/** A small scripted timeline: 6 pods on n1..n3, n1 faulted at t=10s, its 2 pods replaced by 25 s. */
export function scripted(): Timeline {
  const ev: TimelineEvent[] = [{ t: 0, type: 'phase', phase: 'steady' }];
  for (const n of ['n1', 'n2', 'n3']) ev.push({ t: 0, type: 'node', name: n, ready: true });
  ev.push({ t: 0, type: 'workload', workload: 'w', desired: 6 });
  for (let i = 0; i < 6; i++) ev.push({ t: 0, type: 'pod', key: `p${i}`, workload: 'w', node: `n${(i % 3) + 1}`, ready: true, deleted: false, created: -1 });
  ev.push({ t: 10_000, type: 'phase', phase: 'fault' }, { t: 10_000, type: 'fault', action: 'injected', nodes: ['n1'] });
  ev.push({ t: 20_000, type: 'node', name: 'n1', ready: false });
  ev.push({ t: 22_000, type: 'pod', key: 'p6', workload: 'w', node: 'n2', ready: false, deleted: false, created: 21_500 });
  ev.push({ t: 23_000, type: 'pod', key: 'p7', workload: 'w', node: 'n3', ready: false, deleted: false, created: 21_500 });
  ev.push({ t: 25_000, type: 'pod', key: 'p6', workload: 'w', node: 'n2', ready: true, deleted: false, created: 21_500 });
  ev.push({ t: 26_000, type: 'pod', key: 'p7', workload: 'w', node: 'n3', ready: true, deleted: false, created: 21_500 });
  ev.push({ t: 70_000, type: 'fault', action: 'reverted', nodes: ['n1'] }, { t: 70_000, type: 'phase', phase: 'recovery' });
  ev.push({ t: 75_000, type: 'node', name: 'n1', ready: true });
  ev.push({ t: 90_000, type: 'phase', phase: 'end' });
  // probes: 10/s; during 12 s..14 s every request fails at its 2 s timeout
  for (let t = 0; t < 90_000; t += 100) {
    const fail = t >= 12_000 && t < 14_000;
    ev.push({ t, type: 'probe', probe: 'demo', ok: !fail, latency: fail ? 2000 : 5 });
  }
  return { originMonoNs: '0', originWall: '2026-01-01T00:00:00Z', events: ev };
}


/** The zone-b NLB address of `zonal()` (the black-holed zone's). */
export const ZONAL_ADDRS = ['127.0.10.1', '127.0.10.2', '127.0.10.3'];

/**
 * An AZ black-hole seen by a probe that spreads new connections over an NLB's three zone addresses
 * (10/s, t = 0..90 s): us-east-1b (127.0.10.2) is black-holed at 10 s; its address fails (2 s
 * timeouts) until DNS drops it at 40 s, gets no attempts until it is back in the answer at 80 s, then
 * succeeds. The fault is reverted at 70 s. Two attempts at 5.05 s and 5.15 s got no address (the
 * name did not resolve). Per address: .2 has 166 attempts, 66 ok, failing from 10.0 s to 39.7 s.
 */
export function zonal(): Timeline {
  const ev: TimelineEvent[] = [{ t: 0, type: 'phase', phase: 'steady' }];
  ev.push({ t: 10_000, type: 'phase', phase: 'fault' }, { t: 10_000, type: 'fault', action: 'injected', nodes: ['n2'], zones: ['us-east-1b'] });
  ev.push({ t: 70_000, type: 'fault', action: 'reverted', nodes: ['n2'], zones: ['us-east-1b'] }, { t: 70_000, type: 'phase', phase: 'recovery' });
  ev.push({ t: 90_000, type: 'phase', phase: 'end' });
  for (let i = 0; i < 900; i++) {
    const t = i * 100;
    const addr = t >= 40_000 && t < 80_000 ? (i % 2 === 0 ? ZONAL_ADDRS[0] : ZONAL_ADDRS[2]) : ZONAL_ADDRS[i % 3];
    const fail = addr === ZONAL_ADDRS[1] && t >= 10_000 && t < 40_000;
    ev.push({ t, type: 'probe', probe: 'demo', ok: !fail, latency: fail ? 2000 : 5, addr, ...(fail ? { error: 'timeout' } : { status: 200 }) });
  }
  ev.push({ t: 5050, type: 'probe', probe: 'demo', ok: false, latency: 1, error: 'ENOTFOUND' }, { t: 5150, type: 'probe', probe: 'demo', ok: false, latency: 1, error: 'ENOTFOUND' });
  return { originMonoNs: '0', originWall: '2026-01-01T00:00:00Z', events: ev.sort((a, b) => a.t - b.t) };
}

/** The zones of `zonal()`'s addresses, as the target's DescribeNetworkInterfaces gives them. */
export const ZONAL_ZONES = {
  '127.0.10.1': { zone: 'us-east-1a', interfaceType: 'network_load_balancer', eniId: 'eni-a' },
  '127.0.10.2': { zone: 'us-east-1b', interfaceType: 'network_load_balancer', eniId: 'eni-b' },
  '127.0.10.3': { zone: 'us-east-1c', interfaceType: 'network_load_balancer', eniId: 'eni-c' },
};
