// The SLO grammar and the pure evaluation from a recorded timeline, table-tested.
import { expect } from 'chai';
import { parseSlo, SloSyntaxError } from '../../harness/slo/grammar.js';
import { analyze } from '../../harness/slo/analyze.js';
import { evaluate } from '../../harness/slo/evaluate.js';
import { scripted } from '../support/timelines.js';

describe('SLO grammar', () => {
  it('parses every documented form', () => {
    const table: Array<[string, Partial<ReturnType<typeof parseSlo>>]> = [
      ['recovery < 5m', { metric: 'recovery', op: '<', value: 300_000, unit: 'ms' }],
      ['node-recovery < 2m', { metric: 'node-recovery', value: 120_000 }],
      ['availability(demo) >= 99.5%', { metric: 'availability', probe: 'demo', op: '>=', value: 99.5, unit: 'percent', phase: 'all' }],
      ['p99(demo) < 800ms', { metric: 'percentile', percentile: 99, probe: 'demo', value: 800 }],
      ['p(95)(demo) < 1.5s', { metric: 'percentile', percentile: 95, value: 1500 }],
      ['p99.9(api@fault) <= 2s', { percentile: 99.9, probe: 'api', phase: 'fault', op: '<=', value: 2000 }],
      ['max-outage(demo) < 30s', { metric: 'max-outage', value: 30_000 }],
      ['errors(demo@steady) == 0', { metric: 'errors', phase: 'steady', op: '==', value: 0, unit: 'count' }],
      ['  availability( demo )>=95%  ', { probe: 'demo', value: 95 }],
    ];
    for (const [text, want] of table) expect(parseSlo(text), text).to.include(want);
  });

  it('rejects bad SLOs naming the position and the reason', () => {
    const table: Array<[string, number, RegExp]> = [
      ['recovery 5m', 9, /expected an operator/],
      ['availability(demo) >= 99.5', 26, /percentage/],
      ['latency(demo) < 1s', 0, /expected a metric/],
      ['p99(demo) < 800', 15, /time unit/],
      ['p(0)(demo) < 1s', 2, /above 0/],
      ['availability(demo@later) > 1%', 18, /phase/],
      ['recovery < 5m and more', 14, /unexpected text/],
      ['availability(demo) > 120%', 21, /at most 100/],
    ];
    for (const [text, pos, re] of table) {
      try {
        parseSlo(text);
        expect.fail(`${text} parsed`);
      } catch (err) {
        expect(err, text).to.be.instanceOf(SloSyntaxError);
        expect((err as SloSyntaxError).reason, text).to.match(re);
        expect((err as SloSyntaxError).position, text).to.equal(pos);
      }
    }
  });
});

describe('SLO evaluation (pure, from the timeline)', () => {
  const a = analyze(scripted(), { settleMs: 10_000 });

  it('derives detect, reschedule, ready and recovery per workload, and node recovery', () => {
    expect(a.workloads).to.have.length(1);
    expect(a.workloads[0]).to.include({ detectMs: 10_000, rescheduleMs: 12_000, readyMs: 16_000, recoveryMs: 16_000, desired: 6 });
    expect(a.recoveryMs).to.equal(16_000);
    expect(a.nodeRecoveryMs).to.equal(5000);
  });

  it('computes availability, percentiles and the longest outage per phase', () => {
    const all = a.probes.demo.all;
    expect(all.attempts).to.equal(900);
    expect(all.errors).to.equal(20);
    expect(all.maxOutageMs).to.equal(2000);
    expect(a.probes.demo.steady.errors).to.equal(0);
    expect(a.probes.demo.fault.errors).to.equal(20);
    expect(all.p99).to.equal(2000);
    expect(all.p50).to.equal(5);
  });

  it('turns SLOs into verdicts, and the same timeline always gives the same verdicts', () => {
    const slos = {
      recovered: 'recovery < 20s', 'too slow': 'recovery < 10s', nodes: 'node-recovery < 10s',
      avail: 'availability(demo) >= 97%', strict: 'availability(demo) >= 99%', p50: 'p50(demo) < 10ms',
      outage: 'max-outage(demo) < 3s', 'clean steady': 'errors(demo@steady) == 0', 'fault errors': 'errors(demo@fault) == 0',
    };
    const v = evaluate(slos, a);
    const byName = Object.fromEntries(v.map((x) => [x.name, [x.pass, x.measured]]));
    expect(byName).to.deep.equal({
      recovered: [true, 16_000], 'too slow': [false, 16_000], nodes: [true, 5000],
      avail: [true, 97.777], strict: [false, 97.777], p50: [true, 5],
      outage: [true, 2000], 'clean steady': [true, 0], 'fault errors': [false, 20],
    });
    expect(evaluate(slos, analyze(scripted(), { settleMs: 10_000 }))).to.deep.equal(v);
  });

  it('a workload that never stays healthy for the settle period has no recovery: the SLO fails, not measured', () => {
    const b = analyze(scripted(), { settleMs: 120_000 });
    expect(b.recoveryMs).to.equal(undefined);
    const [v] = evaluate({ r: 'recovery < 5m' }, b);
    expect(v.pass).to.equal(false);
    expect(v.measured).to.equal(null);
  });
});
