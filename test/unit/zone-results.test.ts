// Per-address and per-zone probe results (issue 14 §2): the aggregation from a synthetic timeline (a
// black-holed zone's NLB address failing until DNS drops it), the SLO zone/addr qualifier (parse and
// evaluate tables), the end-of-run address → zone lookup, and the report files' new fields.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { analyze } from '../../harness/slo/analyze.js';
import { evaluate } from '../../harness/slo/evaluate.js';
import { parseSlo, SloSyntaxError } from '../../harness/slo/grammar.js';
import { buildReport, summaryMd } from '../../harness/report/index.js';
import { addressSeries, reportHtml } from '../../harness/report/html.js';
import { collectAddressZones, judge, type ScenarioResult } from '../../harness/runner.js';
import { ExitCode } from '../../harness/exit-codes.js';
import http from 'node:http';
import { Aws, makeClients, type AddressInterface } from '../../harness/aws/index.js';
import { scripted, zonal, ZONAL_ADDRS, ZONAL_ZONES } from '../support/timelines.js';
import { tempStateDir } from '../support/harness.js';

const schema = JSON.parse(fs.readFileSync(new URL('../../harness/report/schema.json', import.meta.url), 'utf8')) as object;
const meta = { description: 'Black-hole a zone', target: { kind: 'lab', context: 'chaos-lab', cluster: 'chaos-lab', region: 'us-east-1' } };

function result(slos: Record<string, string>, zones: ScenarioResult['addressZones'] = ZONAL_ZONES): ScenarioResult {
  const timeline = zonal();
  const res: ScenarioResult = {
    scenario: 'az-outage', verdict: 'error', exitCode: ExitCode.Ok, startedAt: '2026-11-25T10:00:00.000Z', endedAt: '2026-11-25T10:01:30.000Z', seed: 42, runId: 'chaos-x-1',
    plan: { kind: 'az-blackhole', summary: 'black-hole 1 subnet(s) of us-east-1b for 1m', lines: [], calls: [], durationMs: 60_000, resources: { zone: 'us-east-1b' } },
    fault: { injectedAt: '2026-11-25T10:00:10.000Z', revertedAt: '2026-11-25T10:01:10.000Z', revert: { actions: [], leftovers: [] }, journal: '/tmp/j' },
    verdicts: [], timeline, warnings: [], addressZones: zones,
  };
  return judge(res, { slos, settle: 10_000 });
}

describe('per-address and per-zone probe results (pure, from the timeline)', () => {
  const a = analyze(zonal(), { settleMs: 10_000, zones: ZONAL_ZONES });

  it('groups the attempts by address, sorted, with the zone and interface type of each and the unresolved ones last', () => {
    const rows = a.byAddress.demo.map((x) => [x.addr, x.zone, x.interfaceType, x.stats.all.attempts, x.stats.all.successes]);
    expect(rows).to.deep.equal([
      ['127.0.10.1', 'us-east-1a', 'network_load_balancer', 367, 367],
      ['127.0.10.2', 'us-east-1b', 'network_load_balancer', 166, 66],
      ['127.0.10.3', 'us-east-1c', 'network_load_balancer', 367, 367],
      [null, 'unknown', undefined, 2, 0],
    ]);
    expect(rows.reduce((n, r) => n + (r[3] as number), 0)).to.equal(a.probes.demo.all.attempts);
  });

  it('the black-holed address: failing from the injection until DNS dropped it, no attempts until it is back, the longest outage until its next success', () => {
    const b = a.byAddress.demo.find((x) => x.addr === ZONAL_ADDRS[1])!;
    expect(b).to.include({ firstAttempt: 100, firstFailure: 10_000, lastFailure: 39_700, lastAttempt: 89_800 });
    expect(b.stats.all.maxOutageMs).to.equal(70_200);
    expect(b.stats.fault).to.include({ attempts: 100, successes: 0, availability: 0 });
    expect(b.stats.all.p99).to.equal(2000);
    expect(b.stats.steady).to.include({ attempts: 33, successes: 33 });
    const ok = a.byAddress.demo.find((x) => x.addr === ZONAL_ADDRS[0])!;
    expect(ok.firstFailure).to.equal(undefined);
    expect(ok.stats.all.maxOutageMs).to.equal(0);
  });

  it('groups by zone; an address the target did not know goes to zone "unknown" with the unresolved attempts', () => {
    expect(a.byZone.demo.map((z) => [z.zone, z.addrs, z.stats.all.attempts, z.stats.all.errors])).to.deep.equal([
      ['us-east-1a', ['127.0.10.1'], 367, 0], ['us-east-1b', ['127.0.10.2'], 166, 100], ['us-east-1c', ['127.0.10.3'], 367, 0], ['unknown', [null], 2, 2],
    ]);
    const partial = analyze(zonal(), { settleMs: 10_000, zones: { '127.0.10.1': ZONAL_ZONES['127.0.10.1'] } });
    expect(partial.byZone.demo.map((z) => [z.zone, z.addrs, z.stats.all.attempts])).to.deep.equal([
      ['us-east-1a', ['127.0.10.1'], 367], ['unknown', ['127.0.10.2', '127.0.10.3', null], 535],
    ]);
    expect(partial.byAddress.demo[1]).to.include({ addr: '127.0.10.2', zone: 'unknown' });
    expect(a.faultZones).to.deep.equal(['us-east-1b']);
  });

  it('a probe whose attempts carry no address has no per-address or per-zone results', () => {
    const old = analyze(scripted(), { settleMs: 10_000 });
    expect(old.byAddress.demo).to.deep.equal([]);
    expect(old.byZone.demo).to.deep.equal([]);
  });
});

describe('SLO zone and address qualifiers', () => {
  it('parses them, alone and with a phase, in either order', () => {
    const table: Array<[string, Partial<ReturnType<typeof parseSlo>>]> = [
      ['availability(demo@zone=us-east-1b) >= 99.9%', { metric: 'availability', probe: 'demo', zone: 'us-east-1b', phase: 'all', value: 99.9 }],
      ['p99(demo@fault@zone=faulted) < 2s', { metric: 'percentile', percentile: 99, phase: 'fault', zone: 'faulted', value: 2000 }],
      ['p(90)(demo@zone=us-east-1a@recovery) < 1s', { percentile: 90, phase: 'recovery', zone: 'us-east-1a' }],
      ['p50(demo@zone=use1-az2) < 1s', { zone: 'use1-az2' }],
      ['max-outage(demo@addr=127.0.10.2) < 90s', { metric: 'max-outage', addr: '127.0.10.2', value: 90_000 }],
      ['errors(demo@zone=unknown) == 0', { metric: 'errors', zone: 'unknown' }],
      ['availability(demo@addr=fd00::1) > 1%', { addr: 'fd00::1' }],
    ];
    for (const [text, want] of table) expect(parseSlo(text), text).to.include(want);
    expect(parseSlo('availability(demo) >= 99%')).to.not.have.any.keys('zone', 'addr');
  });

  it('rejects bad qualifiers naming the position and the reason', () => {
    const table: Array<[string, number, RegExp]> = [
      ['availability(demo@zone=) > 1%', 23, /zone name/],
      ['availability(demo@zone=a@zone=b) > 1%', 25, /zone is given twice/],
      ['availability(demo@fault@steady) > 1%', 24, /phase is given twice/],
      ['availability(demo@addr=x) > 1%', 23, /IP address/],
      ['availability(demo@zone:us) > 1%', 22, /expected "="/],
      ['availability(demo@region=x) > 1%', 18, /zone=ZONE or addr=IP/],
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

  it('evaluates them on the attempts of that zone or address; a zone that got no attempts is not judged, with why', () => {
    const a = analyze(zonal(), { settleMs: 10_000, zones: ZONAL_ZONES });
    const v = evaluate({
      'zone b': 'availability(demo@zone=us-east-1b) >= 99.9%',
      'zone a': 'availability(demo@zone=us-east-1a) >= 99.9%',
      'faulted in fault': 'availability(demo@zone=faulted@fault) >= 50%',
      'faulted p99 in fault': 'p99(demo@zone=faulted@fault) < 1s',
      'addr outage': 'max-outage(demo@addr=127.0.10.2) < 90s',
      'unknown errors': 'errors(demo@zone=unknown) == 2',
      'no such zone': 'availability(demo@zone=us-east-1d) >= 99%',
      'no such addr': 'availability(demo@addr=10.9.9.9) >= 99%',
      'c in steady': 'errors(demo@steady@zone=us-east-1c) == 0',
      whole: 'availability(demo) >= 80%',
    }, a);
    const byName = Object.fromEntries(v.map((x) => [x.name, [x.judged, x.pass, x.measured]]));
    expect(byName).to.deep.equal({
      'zone b': [true, false, 39.759], 'zone a': [true, true, 100], 'faulted in fault': [true, false, 0], 'faulted p99 in fault': [true, false, 2000],
      'addr outage': [true, true, 70_200], 'unknown errors': [true, true, 2], 'no such zone': [false, false, null], 'no such addr': [false, false, null],
      'c in steady': [true, true, 0], whole: [true, true, 88.691],
    });
    const d = Object.fromEntries(v.map((x) => [x.name, x.detail]));
    expect(d['zone b']).to.equal('66/166 ok to zone us-east-1b in phase all');
    expect(d['faulted in fault']).to.equal('0/100 ok to zone us-east-1b (the faulted zone) in phase fault');
    expect(d['no such zone']).to.equal('not judged: probe demo sent no attempts to zone us-east-1d in phase all (addresses seen: 127.0.10.1 (us-east-1a), 127.0.10.2 (us-east-1b), 127.0.10.3 (us-east-1c), no address (unknown))');
    expect(d['no such addr']).to.match(/^not judged: probe demo sent no attempts to 10\.9\.9\.9 in phase all/);
    // a zone qualifier on a probe that recorded no addresses: not judged
    const old = evaluate({ z: 'availability(demo@zone=us-east-1a) >= 1%' }, analyze(scripted(), { settleMs: 10_000 }));
    expect(old[0]).to.include({ judged: false, pass: false, measured: null });
    expect(old[0].detail).to.match(/recorded no addresses/);
    // the zone had attempts, but none in that phase: not judged either
    const phase = evaluate({ z: 'availability(demo@zone=us-east-1b@fault) >= 1%' }, analyze(zonal(), { settleMs: 10_000, zones: { ...ZONAL_ZONES, '127.0.10.2': { zone: 'us-east-1c' } } }));
    expect(phase[0]).to.include({ judged: false });
  });

  it('a not-judged zone SLO does not fail the run; it is named in the warnings; a judged breach does', () => {
    const nj = result({ whole: 'availability(demo) >= 80%', 'no such zone': 'availability(demo@zone=us-east-1d) >= 99%' });
    expect(nj.exitCode).to.equal(ExitCode.Ok);
    expect(nj.verdict).to.equal('pass');
    expect(nj.warnings).to.have.length(1);
    expect(nj.warnings[0]).to.match(/^SLO "no such zone" \(availability\(demo@zone=us-east-1d\) >= 99%\) was not judged: probe demo sent no attempts to zone us-east-1d/);
    const bad = result({ whole: 'availability(demo) >= 80%', 'zone b': 'availability(demo@zone=us-east-1b) >= 99.9%' });
    expect(bad.exitCode).to.equal(ExitCode.SloBreached);
    expect(bad.verdict).to.equal('fail');
  });
});

describe('the end-of-run address → zone lookup', () => {
  const tl = zonal();
  const eni = (zone: string): AddressInterface => ({ zone, interfaceType: 'network_load_balancer', description: `ELB net/k8s-default-demo/${zone}`, eniId: `eni-${zone}` });

  it('asks once for every address the probes sent to, and keeps what the target answers', async () => {
    const asked: string[][] = [];
    const warnings: string[] = [];
    const zones = await collectAddressZones({ networkInterfacesByAddress: async (ips) => { asked.push(ips); return new Map([[ips[0], eni('us-east-1a')], [ips[1], eni('us-east-1b')], [ips[2], eni('us-east-1c')]]); } }, tl, (w) => warnings.push(w));
    expect(asked).to.deep.equal([ZONAL_ADDRS]);
    expect(zones['127.0.10.2']).to.deep.equal({ zone: 'us-east-1b', interfaceType: 'network_load_balancer', description: 'ELB net/k8s-default-demo/us-east-1b', eniId: 'eni-us-east-1b' });
    expect(warnings).to.deep.equal([]);
  });

  it('an address no interface holds, a failed or a hung lookup: zone "unknown" and a warning, never an error', async () => {
    const w1: string[] = [];
    const partial = await collectAddressZones({ networkInterfacesByAddress: async () => new Map([['127.0.10.1', eni('us-east-1a')]]) }, tl, (w) => w1.push(w));
    expect(Object.keys(partial)).to.deep.equal(['127.0.10.1']);
    expect(w1).to.deep.equal(['no network interface of the target holds 127.0.10.2, 127.0.10.3 (DescribeNetworkInterfaces): the probe results for them are in zone "unknown"']);
    const w2: string[] = [];
    const failed = await collectAddressZones({ networkInterfacesByAddress: async () => { const e = new Error('not authorized'); e.name = 'UnauthorizedOperation'; throw e; } }, tl, (w) => w2.push(w));
    expect(failed).to.deep.equal({});
    expect(w2[0]).to.equal(`could not look up the zones of the probes' addresses (${ZONAL_ADDRS.join(', ')}): UnauthorizedOperation: not authorized; their results are in zone "unknown"`);
    const w3: string[] = [];
    const hung = await collectAddressZones({ networkInterfacesByAddress: () => new Promise(() => undefined) }, tl, (w) => w3.push(w), 50);
    expect(hung).to.deep.equal({});
    expect(w3[0]).to.match(/no answer within 0\.05 s/);
  });

  it('no addresses in the timeline: no lookup, no warning', async () => {
    let called = false;
    const w: string[] = [];
    expect(await collectAddressZones({ networkInterfacesByAddress: async () => { called = true; return new Map(); } }, scripted(), (x) => w.push(x))).to.deep.equal({});
    expect([called, w]).to.deep.equal([false, []]);
  });
});

describe('Aws.networkInterfacesByAddress over the EC2 wire protocol', () => {
  // EC2's DescribeNetworkInterfaces response shape (as moto's elastic_network_interfaces.py template
  // renders it): the public IP under association, the private IPs under privateIpAddressesSet.
  const eniXml = (id: string, zone: string, type: string, priv: string, pub?: string) => `<item><networkInterfaceId>${id}</networkInterfaceId><subnetId>subnet-${zone}</subnetId><vpcId>vpc-1</vpcId>
<availabilityZone>${zone}</availabilityZone><description>ELB net/k8s-default-demo/abc</description><interfaceType>${type}</interfaceType><status>in-use</status>
<privateIpAddress>${priv}</privateIpAddress>${pub ? `<association><publicIp>${pub}</publicIp><ipOwnerId>amazon</ipOwnerId></association>` : ''}
<privateIpAddressesSet><item><privateIpAddress>${priv}</privateIpAddress><primary>true</primary>${pub ? `<association><publicIp>${pub}</publicIp></association>` : ''}</item></privateIpAddressesSet></item>`;

  it('asks by association.public-ip, then by addresses.private-ip-address for the rest, and maps each address to its interface', async () => {
    const asked: Array<Record<string, string>> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const q = Object.fromEntries(new URLSearchParams(body));
        asked.push(q);
        const values = Object.entries(q).filter(([k]) => /^Filter\.1\.Value\.\d+$/.test(k)).map(([, v]) => v);
        const items = q['Filter.1.Name'] === 'association.public-ip'
          ? (values.includes('127.0.10.2') ? eniXml('eni-b', 'us-east-1b', 'network_load_balancer', '10.0.1.9', '127.0.10.2') : '')
          : (values.includes('10.0.2.7') ? eniXml('eni-pod', 'us-east-1c', 'interface', '10.0.2.7') : '');
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><networkInterfaceSet>${items}</networkInterfaceSet></DescribeNetworkInterfacesResponse>`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const aws = new Aws(makeClients({ kind: 'lab', region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
      const m = await aws.networkInterfacesByAddress(['127.0.10.2', '10.0.2.7', '192.0.2.1']);
      expect(Object.fromEntries(m)).to.deep.equal({
        '127.0.10.2': { zone: 'us-east-1b', interfaceType: 'network_load_balancer', description: 'ELB net/k8s-default-demo/abc', eniId: 'eni-b' },
        '10.0.2.7': { zone: 'us-east-1c', interfaceType: 'interface', description: 'ELB net/k8s-default-demo/abc', eniId: 'eni-pod' },
      });
      expect(asked.map((q) => [q.Action, q['Filter.1.Name'], Object.keys(q).filter((k) => k.startsWith('Filter.1.Value.')).length])).to.deep.equal([
        ['DescribeNetworkInterfaces', 'association.public-ip', 3], ['DescribeNetworkInterfaces', 'addresses.private-ip-address', 2],
      ]);
      expect(aws.calls.map((c) => [c.action, c.ok])).to.deep.equal([['ec2:DescribeNetworkInterfaces', true], ['ec2:DescribeNetworkInterfaces', true]]);
    } finally {
      server.close();
    }
  });
});

describe('report files: per-address and per-zone results', () => {
  const r = buildReport(result({ 'zone b': 'availability(demo@zone=us-east-1b) >= 99.9%' }), meta);

  it('report.json carries probes[].byAddress and byZone, valid against the schema, and the schema catches a broken one', () => {
    const ajv = new Ajv({ allErrors: true, strict: true });
    const json = JSON.parse(JSON.stringify(r)) as typeof r;
    expect(ajv.validate(schema, json), JSON.stringify(ajv.errors)).to.equal(true);
    const b = json.probes.demo.byAddress!.find((x) => x.addr === '127.0.10.2')!;
    expect(b).to.deep.include({ zone: 'us-east-1b', interfaceType: 'network_load_balancer', eniId: 'eni-b' });
    expect(b.stats).to.include({ attempts: 166, successes: 66, firstFailure: 10_000, lastFailure: 39_700, lastAttempt: 89_800, maxOutageMs: 70_200 });
    expect(b.phases.fault).to.include({ attempts: 100, successes: 0, availability: 0 });
    expect(json.probes.demo.byAddress!.at(-1)).to.deep.include({ addr: null, zone: 'unknown', interfaceType: null });
    expect(json.probes.demo.byZone!.map((z) => z.zone)).to.deep.equal(['us-east-1a', 'us-east-1b', 'us-east-1c', 'unknown']);
    expect(json.probes.demo.byZone![0].stats.firstFailure).to.equal(null);
    // broken: a zone without its stats, an address row with an unknown key
    const broken = JSON.parse(JSON.stringify(r)) as typeof r;
    delete (broken.probes.demo.byZone![0] as unknown as Record<string, unknown>).stats;
    expect(ajv.validate(schema, broken)).to.equal(false);
    const extra = JSON.parse(JSON.stringify(r)) as typeof r;
    (extra.probes.demo.byAddress![0] as unknown as Record<string, unknown>).region = 'x';
    expect(ajv.validate(schema, extra)).to.equal(false);
    // a report of a probe without addresses stays valid (empty lists)
    const plain = buildReport({ ...result({}), timeline: scripted(), analysis: analyze(scripted(), { settleMs: 10_000 }) }, meta);
    expect(plain.probes.demo.byAddress).to.deep.equal([]);
    expect(ajv.validate(schema, JSON.parse(JSON.stringify(plain))), JSON.stringify(ajv.errors)).to.equal(true);
  });

  it('summary.md has the per-zone and per-address tables', () => {
    const md = summaryMd([r]);
    expect(md).to.contain('**Probe demo per zone**');
    expect(md).to.contain('| zone | addresses | attempts | ok | availability | during the fault | p50 | p95 | p99 | max outage | first failure | last failure | last sent |');
    expect(md).to.contain('| us-east-1b | 127.0.10.2 | 166 | 66 | 39.759% | 0% | 2.0s | 2.0s | 2.0s | 70.2s | t=10.0 s | t=39.7 s | t=89.8 s |');
    expect(md).to.contain('| us-east-1a | 127.0.10.1 | 367 | 367 | 100% | 100% |');
    expect(md).to.contain('| unknown | unresolved | 2 | 0 | 0% |');
    expect(md).to.contain('| 127.0.10.2 | us-east-1b | network_load_balancer | 166 | 66 | 39.759% |');
    // no addresses, no tables
    expect(summaryMd([buildReport({ ...result({}), timeline: scripted(), analysis: analyze(scripted(), { settleMs: 10_000 }) }, meta)])).to.not.contain('per zone');
  });

  it('report.html has the per-zone table and a per-address series that stops when DNS dropped the address', () => {
    const html = reportHtml(r);
    expect(html).to.contain('<table class="zones" data-probe="demo">');
    expect(html).to.match(/<tr class="bad"><td>us-east-1b<\/td><td>127\.0\.10\.2<\/td><td>166<\/td><td>66<\/td><td>39\.759%<\/td><td>0%<\/td>/);
    const s = addressSeries(r).demo;
    expect(s.addrs.map((x) => x.label)).to.deep.equal(['127.0.10.1 (us-east-1a)', '127.0.10.2 (us-east-1b)', '127.0.10.3 (us-east-1c)', 'unresolved (unknown)']);
    const b = s.addrs[1];
    expect(b.success.slice(9, 12)).to.deep.equal([100, 0, 0]);
    expect(b.success.slice(38, 41)).to.deep.equal([0, 0, null]); // dropped from DNS at 40 s: no attempts
    expect(b.attempts.slice(40, 80).every((n) => n === 0)).to.equal(true);
    expect(b.success[80]).to.equal(100);
    expect(s.addrs[0].attempts.reduce((x, y) => x + y, 0)).to.equal(367);
  });
});

describe('report.html per-address chart in headless Chromium', function () {
  this.timeout(60_000);
  it('draws the per-address availability chart beside the others', async () => {
    const { chromium } = await import('playwright-core');
    const file = path.join(tempStateDir(), 'report.html');
    fs.writeFileSync(file, reportHtml(buildReport(result({ 'zone b': 'availability(demo@zone=us-east-1b) >= 99.9%' }), meta)));
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1240, height: 1600 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      await page.waitForFunction(() => document.body.dataset.chartsDrawn === '3', undefined, { timeout: 10_000 });
      expect(errors).to.deep.equal([]);
      expect(await page.evaluate(() => document.body.dataset.addressCharts)).to.equal('1');
      const inked = await page.evaluate(() => {
        const c = document.querySelector('.address-chart canvas') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
      });
      expect(inked).to.be.above(1000);
      expect(await page.locator('table.zones tr.bad').count()).to.equal(2);
      const shot = process.env.REPORT_SCREENSHOT;
      if (shot) await page.screenshot({ path: shot, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
