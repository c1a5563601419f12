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

