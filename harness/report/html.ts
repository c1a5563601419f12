// report.html: one self-contained file (no network at view time): the verdict, the SLO table, and a
// timeline chart of probe success rate and latency, per probe the per-zone / per-address tables and a
// per-address success-rate chart, ready pods per workload and node readiness, with the fault window shaded. Charts are uPlot, inlined.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gapLines, type GroupJson, type ReportV1 } from './index.js';
import { apiserverOutages } from '../slo/gaps.js';
import { formatMeasured } from '../slo/evaluate.js';
import { formatMs, formatSeconds } from '../duration.js';
import { MISSING } from '../faults/effects.js';
import { faultScope, healthyCounts, NO_FAULT, type NodeHealth } from '../slo/health.js';

const require = createRequire(import.meta.url);

function uplotAssets(): { js: string; css: string } {
  const dir = path.join(path.dirname(require.resolve('uplot')), '..', 'dist');
  return { js: fs.readFileSync(path.join(dir, 'uPlot.iife.min.js'), 'utf8'), css: fs.readFileSync(path.join(dir, 'uPlot.min.css'), 'utf8') };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Per-second cluster series from the timeline: healthy pods per workload and Ready nodes. */
export function clusterSeries(r: ReportV1): { seconds: number[]; workloads: Record<string, number[]>; nodesReady: number[] } {
  const ev = [...r.timeline.events].sort((a, b) => a.t - b.t);
  const end = Math.ceil((ev.length ? ev[ev.length - 1].t : 0) / 1000);
  const nodes = new Map<string, NodeHealth>();
  const pods = new Map<string, { key: string; workload: string; node?: string; ready: boolean; deleted: boolean }>();
  const inj = ev.find((e) => e.type === 'fault' && e.action === 'injected');
  const rev = ev.find((e) => e.type === 'fault' && e.action === 'reverted');
  const scope = faultScope(inj?.type === 'fault' ? inj : undefined);
  const seconds: number[] = [];
  const workloads: Record<string, number[]> = {};
  const nodesReady: number[] = [];
  for (const w of r.workloads) workloads[w.workload] = [];
  let i = 0;
  for (let sec = 0; sec <= end; sec++) {
    while (i < ev.length && ev[i].t < (sec + 1) * 1000) {
      const e = ev[i++];
      if (e.type === 'node') nodes.set(e.name, { ready: e.ready, zone: e.zone });
      if (e.type === 'pod') pods.set(e.key, e);
    }
    seconds.push(sec);
    nodesReady.push([...nodes.values()].filter((n) => n.ready).length);
    // sampled at the end of the second, as analyze() counts it: healthy, and outside the fault while it is in place
    const t = (sec + 1) * 1000;
    const inFault = inj !== undefined && t > inj.t && (rev === undefined || t <= rev.t);
    const counts = healthyCounts(pods.values(), (n) => nodes.get(n), inFault ? scope : NO_FAULT);
    for (const w of Object.keys(workloads)) workloads[w].push(counts.get(w) ?? 0);
  }
  return { seconds, workloads, nodesReady };
}

/**
 * Per probe with per-address results, per-second series for each address it sent to (from the
 * timeline's probe `addr`): success % (null in a second without attempts: the line breaks where the
 * address stopped receiving attempts, e.g. once DNS dropped its zone) and attempts.
 */
export function addressSeries(r: ReportV1): Record<string, { seconds: number[]; addrs: Array<{ label: string; success: Array<number | null>; attempts: number[] }> }> {
  const out: ReturnType<typeof addressSeries> = {};
  const probeEv = r.timeline.events.filter((e) => e.type === 'probe');
  const end = Math.floor(Math.max(0, ...r.timeline.events.map((e) => e.t)) / 1000);
  for (const [name, p] of Object.entries(r.probes)) {
    if (!p.byAddress?.length) continue;
    const seconds = Array.from({ length: end + 1 }, (_, i) => i);
    const addrs = p.byAddress.map((x) => {
      const ok = new Array<number>(end + 1).fill(0);
      const attempts = new Array<number>(end + 1).fill(0);
      for (const e of probeEv) {
        if (e.type !== 'probe' || e.probe !== name || (e.addr ?? null) !== x.addr) continue;
        const sec = Math.min(end, Math.floor(e.t / 1000));
        attempts[sec]++;
        if (e.ok) ok[sec]++;
      }
      return { label: `${x.addr ?? 'unresolved'} (${x.zone})`, success: attempts.map((n, i) => (n ? (ok[i] * 100) / n : null)), attempts };
    });
    out[name] = { seconds, addrs };
  }
  return out;
}

const pctCell = (v: number | null) => (v === null ? '–' : `${Math.floor(v * 1000) / 1000}%`);
const tCell = (v: number | null) => (v === null ? '–' : formatSeconds(v));
const msCell = (v: number | null) => (v === null ? '–' : formatMs(v));

/** The per-zone and per-address tables of one probe (report.html). */
function zoneTablesHtml(r: ReportV1): string {
  const head = '<th>attempts</th><th>ok</th><th>availability</th><th>during the fault</th><th>p50</th><th>p95</th><th>p99</th><th>max outage</th><th>first failure</th><th>last failure</th><th>last sent</th>';
  const cells = (g: GroupJson) => [g.stats.attempts, g.stats.successes, pctCell(g.stats.availability), pctCell(g.phases.fault.availability), msCell(g.stats.p50), msCell(g.stats.p95), msCell(g.stats.p99), msCell(g.stats.maxOutageMs), tCell(g.stats.firstFailure), tCell(g.stats.lastFailure), tCell(g.stats.lastAttempt)].map((c) => `<td>${c}</td>`).join('');
  const cls = (g: GroupJson) => (g.stats.successes < g.stats.attempts ? ' class="bad"' : '');
  return Object.entries(r.probes).filter(([, p]) => p.byZone?.length).map(([name, p]) => `<h2>Probe ${esc(name)} per zone and per address</h2>
<p class="meta">Attempts grouped by the address they were sent to and that address's zone (its network interface, looked up at the end of the run; "unknown" when the target did not know it). first/last failure, last sent: seconds since the run started.</p>
<table class="zones" data-probe="${esc(name)}"><tr><th>zone</th><th>addresses</th>${head}</tr>${p.byZone!.map((z) => `<tr${cls(z)}><td>${esc(z.zone)}</td><td>${esc(z.addrs.map((a) => a ?? 'unresolved').join(', '))}</td>${cells(z)}</tr>`).join('\n')}</table>
<table class="addresses" data-probe="${esc(name)}"><tr><th>address</th><th>zone</th><th>interface</th>${head}</tr>${(p.byAddress ?? []).map((x) => `<tr${cls(x)}><td>${esc(x.addr ?? 'unresolved')}</td><td>${esc(x.zone)}</td><td>${esc(x.interfaceType ?? '–')}</td>${cells(x)}</tr>`).join('\n')}</table>`).join('\n');
}

export function reportHtml(r: ReportV1): string {
  const { js, css } = uplotAssets();
  const faultEv = r.timeline.events.filter((e) => e.type === 'fault');
  const inj = faultEv.find((e) => e.type === 'fault' && e.action === 'injected')?.t;
  const rev = faultEv.find((e) => e.type === 'fault' && e.action === 'reverted')?.t;
  const cluster = clusterSeries(r);
  const probes = Object.fromEntries(Object.entries(r.series).map(([name, rows]) => [name, {
    seconds: rows.map((x) => x.second), success: rows.map((x) => (x.attempts ? (x.ok * 100) / x.attempts : null)), latency: rows.map((x) => x.maxLatencyMs),
  }]));
  const gaps = apiserverOutages(r.gaps).map((o) => ({ start: o.start / 1000, end: o.end === undefined ? null : o.end / 1000 }));
  const byAddress = addressSeries(r);
  const data = { fault: { start: inj === undefined ? null : inj / 1000, end: rev === undefined ? null : rev / 1000 }, gaps, probes, cluster, byAddress };
  const gapNotes = gapLines(r).map((l) => `<p class="gap">⚠ ${esc(l)}</p>`).join('\n');
  const color = r.verdict === 'pass' ? '#1a7f37' : r.verdict === 'fail' || r.verdict === 'not-taken' ? '#cf222e' : '#9a6700';
  const rows = r.slos.map((s) => `<tr class="${s.judged === false ? 'nj' : s.pass ? 'ok' : 'bad'}"><td>${s.judged === false ? '–' : s.pass ? '✔' : '✘'}</td><td>${esc(s.name)}</td><td><code>${esc(s.objective)}</code></td><td>${esc(formatMeasured(s))}</td><td class="detail">${esc(s.detail)}</td></tr>`).join('\n');
  const v = r.faults[0]?.verification;
  const effect = v ? `<h2>Effect: ${esc(v.status)}</h2><ul>${v.detail.map((l) => `<li${l.startsWith(MISSING) ? ' class="bad"' : ''}>${esc(l)}</li>`).join('')}</ul>` : '';
  const repl = (r.faults[0]?.replacements ?? []).map((x) => `<li>replacement of ${esc(x.replaced)} (NodePool ${esc(x.pool)}): ${x.by ? `${esc(x.by)} Ready ${x.readyAfterMs !== undefined ? `${formatSeconds(x.readyAfterMs)} after the injection` : ''}` : '<b>none Ready</b>'}</li>`).join('');
  const warn = (r.warnings ?? []).map((w) => `<p class="gap">⚠ ${esc(w)}</p>`).join('\n');
  const wl = r.workloads.map((w) => `<tr><td>${esc(w.workload)}</td><td>${w.desired}</td>${[w.detectMs, w.rescheduleMs, w.readyMs, w.recoveryMs].map((x) => `<td>${formatSeconds(x)}</td>`).join('')}</tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.scenario)}: ${r.verdict}</title>
<style>${css}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328;max-width:1200px}
.verdict{display:inline-block;padding:6px 14px;border-radius:6px;color:#fff;background:${color};font-weight:600;font-size:20px}
table{border-collapse:collapse;margin:12px 0}td,th{border-bottom:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}
tr.bad td,li.bad{color:#cf222e}tr.nj td{color:#57606a}.detail{color:#57606a;font-size:12px}.meta{color:#57606a}h2{margin-top:28px}
.chart{margin:8px 0 20px}.gap{background:#fff8c5;border-left:4px solid #9a6700;padding:6px 10px;margin:10px 0}</style></head>
<body>
<div><span class="verdict" id="verdict">${r.verdict.toUpperCase()}</span> <b>${esc(r.scenario)}</b> — ${esc(r.description)}</div>
<p class="meta">${esc(r.faults[0]?.summary ?? 'no fault injected')} · ${esc(r.target.kind)} ${esc(r.target.cluster)} (${esc(r.target.region)}) · ${esc(r.startedAt)} → ${esc(r.endedAt)} · seed ${r.seed} · exit ${r.exitCode}${r.error ? ` · ${esc(r.error)}` : ''}</p>
${gapNotes}
${warn}
<h2>SLOs</h2><table><tr><th></th><th>name</th><th>objective</th><th>measured</th><th>from</th></tr>${rows}</table>
${effect}${repl ? `<ul>${repl}</ul>` : ''}
${zoneTablesHtml(r)}
<h2>Recovery per workload</h2><table><tr><th>workload</th><th>desired</th><th>detect</th><th>reschedule</th><th>ready</th><th>recovered</th></tr>${wl}</table>
<h2>Timeline</h2><p class="meta">Shaded red: the fault window (from injection to the start of the revert). Hatched grey: the apiserver was unreachable (no cluster data; the cluster lines hold their last known value). x: seconds since the run started.</p>
<div id="probes"></div><div id="addresses"></div><div id="cluster"></div>
<script>${js}</script>
<script>
const DATA = ${JSON.stringify(data)};
function shade(u) {
  const f = DATA.fault;
  if (f.start !== null) {
    const x0 = u.valToPos(f.start, 'x', true), x1 = u.valToPos(f.end ?? u.scales.x.max, 'x', true);
    u.ctx.save(); u.ctx.fillStyle = 'rgba(207,34,46,0.12)';
    u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height); u.ctx.restore();
  }
  for (const g of DATA.gaps) {
    const x0 = u.valToPos(g.start, 'x', true), x1 = u.valToPos(g.end ?? u.scales.x.max, 'x', true);
    u.ctx.save(); u.ctx.beginPath(); u.ctx.rect(x0, u.bbox.top, x1 - x0, u.bbox.height); u.ctx.clip();
    u.ctx.fillStyle = 'rgba(87,96,106,0.15)'; u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
    u.ctx.strokeStyle = 'rgba(87,96,106,0.45)'; u.ctx.lineWidth = 1;
    for (let x = x0 - u.bbox.height; x < x1; x += 10) { u.ctx.moveTo(x, u.bbox.top + u.bbox.height); u.ctx.lineTo(x + u.bbox.height, u.bbox.top); }
    u.ctx.stroke(); u.ctx.restore();
  }
}
const width = Math.min(1150, window.innerWidth - 40);
const palette = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#9a6700'];
window.charts = [];
for (const [name, p] of Object.entries(DATA.probes)) {
  const el = document.createElement('div'); el.className = 'chart'; document.getElementById('probes').appendChild(el);
  window.charts.push(new uPlot({ title: 'probe ' + name + ': success rate and slowest latency per second', width, height: 260,
    scales: { x: { time: false }, pct: { range: [0, 100] } },
    axes: [{ label: 's' }, { scale: 'pct', label: '% ok' }, { scale: 'ms', side: 1, label: 'ms', grid: { show: false } }],
    series: [{}, { label: 'success %', scale: 'pct', stroke: '#1a7f37', width: 2 }, { label: 'max latency ms', scale: 'ms', stroke: '#cf222e', width: 1 }],
    hooks: { drawClear: [shade] } }, [p.seconds, p.success, p.latency], el));
}
for (const [name, p] of Object.entries(DATA.byAddress)) {
  const el = document.createElement('div'); el.className = 'chart address-chart'; document.getElementById('addresses').appendChild(el);
  window.charts.push(new uPlot({ title: 'probe ' + name + ' per address: success rate (solid; a break: no attempts that second) and attempts per second (dashed)', width, height: 260,
    scales: { x: { time: false }, pct: { range: [0, 100] } },
    axes: [{ label: 's' }, { scale: 'pct', label: '% ok' }, { scale: 'n', side: 1, label: 'attempts/s', grid: { show: false } }],
    series: [{}, ...p.addrs.map((a, i) => ({ label: a.label + ' %', scale: 'pct', stroke: palette[i % palette.length], width: 2, spanGaps: false })),
      ...p.addrs.map((a, i) => ({ label: a.label + ' attempts', scale: 'n', stroke: palette[i % palette.length], width: 1, dash: [4, 4] }))],
    hooks: { drawClear: [shade] } }, [p.seconds, ...p.addrs.map((a) => a.success), ...p.addrs.map((a) => a.attempts)], el));
}
{
  const c = DATA.cluster, names = Object.keys(c.workloads), el = document.createElement('div'); el.className = 'chart';
  document.getElementById('cluster').appendChild(el);
  window.charts.push(new uPlot({ title: 'healthy pods per workload (Ready, on Ready nodes outside the fault) and Ready nodes', width, height: 260, scales: { x: { time: false } },
    axes: [{ label: 's' }, { label: 'count' }],
    series: [{}, ...names.map((n, i) => ({ label: 'healthy ' + n, stroke: palette[i % palette.length], width: 2 })), { label: 'Ready nodes', stroke: '#57606a', dash: [6, 4], width: 2 }],
    hooks: { drawClear: [shade] } }, [c.seconds, ...names.map((n) => c.workloads[n]), c.nodesReady], el));
}
document.body.dataset.chartsDrawn = String(window.charts.length);
document.body.dataset.addressCharts = String(Object.keys(DATA.byAddress).length);
document.body.dataset.gaps = String(DATA.gaps.length);
</script>
</body></html>
`;
}
