// The SLO grammar (like k6 thresholds): one small string per objective.
//
//   slo     := metric op value
//   metric  := "recovery" | "node-recovery"
//            | "availability(" probe ")" | "max-outage(" probe ")" | "errors(" probe ")"
//            | "p" NUM "(" probe ")" | "p(" NUM ")(" probe ")"
//   probe   := name { "@" qualifier }      (each qualifier at most once, in any order)
//   qualifier := "steady" | "fault" | "recovery" | "all"     the phase (default: all phases)
//            | "zone=" ZONE                                  only the attempts sent to addresses in ZONE
//                                                            (an AZ name, "unknown", or "faulted": the zone(s) the fault took)
//            | "addr=" IP                                    only the attempts sent to that IP address
//   op      := "<" | "<=" | ">" | ">=" | "==" | "!="
//   value   := NUM ("ms" | "s" | "m" | "h")      for recovery, node-recovery, pNN, max-outage
//            | NUM "%"                          for availability
//            | NUM                              for errors
//
// Examples: `recovery < 5m`, `node-recovery < 2m`, `availability(demo) >= 99.5%`,
// `p99(demo) < 800ms`, `p(95)(demo@fault) < 2s`, `max-outage(demo) < 30s`, `errors(demo) == 0`,
// `availability(demo@zone=us-east-1b) >= 99.9%`, `p99(demo@fault@zone=faulted) < 2s`,
// `max-outage(demo@addr=127.0.10.2) < 90s`.

export type Phase = 'steady' | 'fault' | 'recovery' | 'all';
export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type MetricKind = 'recovery' | 'node-recovery' | 'availability' | 'percentile' | 'max-outage' | 'errors';
export type Unit = 'ms' | 'percent' | 'count';

export interface Slo {
  text: string;
  metric: MetricKind;
  probe?: string;
  phase: Phase;
  /** only the attempts sent to addresses of this zone ("faulted": the fault's zones; "unknown": addresses without a known zone) */
  zone?: string;
  /** only the attempts sent to this IP address */
  addr?: string;
  percentile?: number;
  op: Op;
  /** threshold in the metric's unit: ms for times, percent (0..100) for availability, a count for errors */
  value: number;
  unit: Unit;
}

export class SloSyntaxError extends Error {
  constructor(readonly slo: string, readonly position: number, readonly reason: string) {
    super(`${reason} at position ${position + 1} of "${slo}"`);
    this.name = 'SloSyntaxError';
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseSlo(text: string): Slo {
  let i = 0;
  const s = text;
  const fail = (reason: string, at = i): never => { throw new SloSyntaxError(s, at, reason); };
  const ws = () => { while (s[i] === ' ' || s[i] === '\t') i++; };
  const expect = (lit: string) => { if (s.slice(i, i + lit.length) !== lit) fail(`expected "${lit}"`); i += lit.length; };
  const num = (): number => {
    const m = /^\d+(\.\d+)?/.exec(s.slice(i));
    if (!m) fail('expected a number');
    i += m![0].length;
    return Number(m![0]);
  };
  type ProbeRef = { name: string; phase: Phase; zone?: string; addr?: string };
  const probe = (): ProbeRef => {
    expect('(');
    ws();
    const m = /^[A-Za-z0-9_.-]+/.exec(s.slice(i));
    if (!m) fail('expected a probe name');
    i += m![0].length;
    const ref: ProbeRef = { name: m![0], phase: 'all' };
    const seen = new Set<string>();
    while (s[i] === '@') {
      i++;
      const at = i;
      const q = /^[a-z]+/.exec(s.slice(i))?.[0] ?? '';
      const kind = q === 'zone' || q === 'addr' ? q : 'phase';
      if (seen.has(kind)) fail(`the ${kind} is given twice`, at);
      seen.add(kind);
      if (kind === 'phase') {
        if (!['steady', 'fault', 'recovery', 'all'].includes(q)) fail('expected a phase (steady, fault, recovery or all), zone=ZONE or addr=IP');
        ref.phase = q as Phase;
        i += q.length;
        continue;
      }
      i += q.length;
      expect('=');
      const vm = (kind === 'zone' ? /^[a-z0-9-]+/ : /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]+)/).exec(s.slice(i));
      if (!vm) fail(kind === 'zone' ? 'expected a zone name (e.g. us-east-1b), "faulted" or "unknown"' : 'expected an IP address');
      if (kind === 'zone') ref.zone = vm![0]; else ref.addr = vm![0];
      i += vm![0].length;
    }
    ws();
    expect(')');
    return ref;
  };

  ws();
  let metric: MetricKind;
  let percentile: number | undefined;
  let pr: ProbeRef | undefined;
  const rest = s.slice(i);
  if (rest.startsWith('node-recovery')) { metric = 'node-recovery'; i += 13; }
  else if (rest.startsWith('recovery')) { metric = 'recovery'; i += 8; }
  else if (rest.startsWith('availability')) { metric = 'availability'; i += 12; pr = probe(); }
  else if (rest.startsWith('max-outage')) { metric = 'max-outage'; i += 10; pr = probe(); }
  else if (rest.startsWith('errors')) { metric = 'errors'; i += 6; pr = probe(); }
  else if (/^p[\d(]/.test(rest)) {
    metric = 'percentile';
    i++;
    let pAt = i;
    if (s[i] === '(') { i++; ws(); pAt = i; percentile = num(); ws(); expect(')'); } else percentile = num();
    if (!(percentile > 0 && percentile <= 100)) fail('percentile must be above 0 and at most 100', pAt);
    pr = probe();
  } else return fail('expected a metric: recovery, node-recovery, availability(probe), pNN(probe), p(NN)(probe), max-outage(probe) or errors(probe)');
  ws();
  const opm = /^(<=|>=|==|!=|<|>)/.exec(s.slice(i));
  if (!opm) fail('expected an operator: <, <=, >, >=, == or !=');
  const op = opm![0] as Op;
  i += op.length;
  ws();
  const vAt = i;
  const v = num();
  let unit: Unit;
  let value = v;
  if (metric === 'availability') {
    if (s[i] !== '%') fail('availability is a percentage: write e.g. 99.5%');
    i++;
    unit = 'percent';
    if (v > 100) fail('a percentage is at most 100', vAt);
  } else if (metric === 'errors') {
    unit = 'count';
  } else {
    const u = /^(ms|s|m|h)/.exec(s.slice(i))?.[0];
    if (!u) fail('expected a time unit: ms, s, m or h');
    i += u!.length;
    unit = 'ms';
    value = v * UNIT_MS[u!];
  }
  ws();
  if (i < s.length) fail('unexpected text');
  return { text, metric, probe: pr?.name, phase: pr?.phase ?? 'all', ...(pr?.zone ? { zone: pr.zone } : {}), ...(pr?.addr ? { addr: pr.addr } : {}), percentile, op, value, unit: unit! };
}

export function compare(measured: number, op: Op, value: number): boolean {
  switch (op) {
    case '<': return measured < value;
    case '<=': return measured <= value;
    case '>': return measured > value;
    case '>=': return measured >= value;
    case '==': return measured === value;
    case '!=': return measured !== value;
  }
}
