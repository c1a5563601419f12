// Report files: report.json against its versioned schema, junit.xml as CI parsers read it,
// summary.md, the `latest` link, and no secrets anywhere (planted values).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { analyze } from '../../harness/slo/analyze.js';
import { evaluate } from '../../harness/slo/evaluate.js';
import { buildReport, junitXml, summaryMd, updateLatest, writeReportFiles, type ReportV1 } from '../../harness/report/index.js';
import { Redactor } from '../../harness/report/redact.js';
import type { ScenarioResult } from '../../harness/runner.js';
import { scripted } from '../support/timelines.js';
import { tempStateDir } from '../support/harness.js';

const schema = JSON.parse(fs.readFileSync(new URL('../../harness/report/schema.json', import.meta.url), 'utf8')) as object;
const PLANTED = { AWS_SECRET_ACCESS_KEY: 'planted-secret-key-0123456789', AWS_SESSION_TOKEN: 'planted-session-token-abcdef', GITHUB_TOKEN: 'ghp_plantedtoken12345' };

function result(over: Partial<ScenarioResult> = {}): ScenarioResult {
  const timeline = scripted();
  const analysis = analyze(timeline, { settleMs: 10_000 });
  const verdicts = evaluate({ recovered: 'recovery < 20s', 'demo availability': 'availability(demo) >= 99%', 'p99 < "1s" & <tags>': 'p99(demo) < 1s' }, analysis);
  return {
    scenario: 'az-outage', verdict: 'fail', exitCode: 1, startedAt: '2026-11-25T10:00:00.000Z', endedAt: '2026-11-25T10:01:30.000Z', seed: 42, runId: 'chaos-x-1',
    plan: { kind: 'az-blackhole', summary: 'black-hole 1 subnet(s) of us-east-1a for 1m', lines: [], calls: [], durationMs: 60_000, resources: { zone: 'us-east-1a' } },
    fault: { injectedAt: '2026-11-25T10:00:10.000Z', revertedAt: '2026-11-25T10:01:10.000Z', revert: { actions: ['deleted black-hole ACL acl-1'], leftovers: [] }, journal: '/tmp/j' },
    verdicts, analysis, timeline, warnings: [], ...over,
  };
}

describe('report files', () => {
  const meta = { description: 'Black-hole a zone', target: { kind: 'lab', context: 'chaos-lab', cluster: 'chaos-lab', region: 'us-east-1' } };

  it('report.json follows the versioned schema, and its figures come from the timeline', () => {
    const r = buildReport(result(), meta);
    const ajv = new Ajv({ allErrors: true, strict: true });
    const ok = ajv.validate(schema, JSON.parse(JSON.stringify(r)));
    expect(ok, JSON.stringify(ajv.errors)).to.equal(true);
    expect(r.schemaVersion).to.equal(1);
    expect(r.slos.map((s) => [s.name, s.pass])).to.deep.equal([['recovered', true], ['demo availability', false], ['p99 < "1s" & <tags>', false]]);
    expect(r.workloads[0]).to.include({ detectMs: 10_000, recoveryMs: 16_000 });
    const series = r.series.demo;
    expect(series.reduce((a, b) => a + b.attempts, 0)).to.equal(r.probes.demo.all.attempts);
    // a report that breaks the schema is caught
    expect(ajv.validate(schema, { ...JSON.parse(JSON.stringify(r)), verdict: 'great' })).to.equal(false);
  });

  it('junit.xml is well-formed: one testsuite per scenario, one testcase per SLO, failures say objective vs measured', () => {
    const a = buildReport(result(), meta);
    const b = buildReport(result({ scenario: 'node-stop', verdict: 'error', exitCode: 4, verdicts: [], error: 'apiserver <gone> & "lost"' }), meta);
    const xml = junitXml([a, b]);
    expect(XMLValidator.validate(xml)).to.equal(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as { testsuites: { tests: string; failures: string; errors: string; testsuite: Array<{ name: string; testcase: Array<{ name: string; failure?: { message: string } }> | { name: string; error?: { message: string } } }> } };
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s) => s.name)).to.deep.equal(['az-outage', 'node-stop']);
    const cases = suites[0].testcase as Array<{ name: string; failure?: { message: string } }>;
    expect(cases.map((c) => c.name)).to.deep.equal(['recovered', 'demo availability', 'p99 < "1s" & <tags>']);
    expect(cases[1].failure!.message).to.equal('availability(demo) >= 99% — measured 97.777%');
    expect((suites[1].testcase as { error?: { message: string } }).error!.message).to.contain('apiserver <gone> & "lost"');
    expect([doc.testsuites.tests, doc.testsuites.failures, doc.testsuites.errors]).to.deep.equal(['4', '2', '1']);
  });

  it('summary.md has the verdict and the SLO table', () => {
    const md = summaryMd([buildReport(result(), meta)]);
    expect(md).to.contain('### ❌ az-outage: FAIL');
    expect(md).to.contain('| demo availability | `availability(demo) >= 99%` | 97.777% | ❌ |');
    expect(md).to.contain('| recovered | `recovery < 20s` | 16.0s | ✅ |');
  });

  it('each probe\'s connections (mode, pool, opened, extra) are in report.json, valid by the schema, and in summary.md', () => {
    const r = buildReport(result({ probeConnections: { demo: { mode: 'keep-alive', pool: 4, opened: 9, extra: 5 } } }), meta);
    const ajv = new Ajv({ allErrors: true, strict: true });
    expect(r.probes.demo.connections).to.deep.equal({ mode: 'keep-alive', pool: 4, opened: 9, extra: 5 });
    expect(ajv.validate(schema, JSON.parse(JSON.stringify(r))), JSON.stringify(ajv.errors)).to.equal(true);
    expect(ajv.validate(schema, { ...JSON.parse(JSON.stringify(r)), probes: { demo: { ...JSON.parse(JSON.stringify(r.probes.demo)), connections: { mode: 'pooled', pool: null, opened: 1, extra: 0 } } } })).to.equal(false);
    expect(summaryMd([r])).to.contain('Probe connections: demo: keep-alive, pool of 4 (9 opened, 5 short-lived beyond the pool).');
    const n = buildReport(result({ probeConnections: { demo: { mode: 'new', pool: null, opened: 1200, extra: 0 } } }), meta);
    expect(summaryMd([n])).to.contain('Probe connections: demo: a new connection per request (1200 opened).');
    expect(summaryMd([buildReport(result(), meta)])).to.not.contain('Probe connections');
  });

  it('writes the three files, points reports/latest at them, and never writes a secret', () => {
    const root = tempStateDir();
    const dir = path.join(root, 'az-outage-20261125T100000Z');
    const leak = `failed: GET https://bucket.s3.amazonaws.com/x?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F&X-Amz-Signature=deadbeef00 with Authorization: Bearer ${'t'.repeat(40)} key ${PLANTED.AWS_SECRET_ACCESS_KEY} token ${PLANTED.AWS_SESSION_TOKEN} gh ${PLANTED.GITHUB_TOKEN}`;
    const r = buildReport(result({ error: leak, errorDetails: [leak] }), meta);
    const files = writeReportFiles(dir, r, new Redactor({ ...PLANTED, HOME: '/root' }));
    updateLatest(root, dir);
    expect(fs.realpathSync(path.join(root, 'latest'))).to.equal(fs.realpathSync(dir));
    for (const f of [files.json, files.junit, files.md]) {
      const text = fs.readFileSync(f, 'utf8');
      for (const secret of [...Object.values(PLANTED), 'AKIAABCDEFGHIJKLMNOP', 'deadbeef00', 't'.repeat(40)]) expect(text, `${path.basename(f)} leaks ${secret}`).to.not.contain(secret);
    }
    const json = JSON.parse(fs.readFileSync(files.json, 'utf8')) as ReportV1;
    expect(json.error).to.contain('X-Amz-Signature=[REDACTED]').and.contain('Bearer [REDACTED]');
  });
});

describe('report.html in headless Chromium', function () {
  this.timeout(60_000);
  it('is self-contained and draws its charts (verdict, SLO table, probe and cluster timelines)', async () => {
    const { chromium } = await import('playwright-core');
    const { reportHtml } = await import('../../harness/report/html.js');
    const dir = tempStateDir();
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, reportHtml(buildReport(result(), { description: 'Black-hole a zone', target: { kind: 'lab', context: 'chaos-lab', cluster: 'chaos-lab', region: 'us-east-1' } })));
    const html = fs.readFileSync(file, 'utf8');
    expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|url\(\s*['"]?https?:/);
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1240, height: 1300 } });
      const requests: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      await page.waitForFunction(() => document.body.dataset.chartsDrawn === '2', undefined, { timeout: 10_000 });
      expect(errors).to.deep.equal([]);
      expect(requests, 'no network at view time').to.deep.equal([]);
      expect(await page.textContent('#verdict')).to.equal('FAIL');
      expect(await page.locator('tr.bad').count()).to.equal(2);
      // every chart canvas has drawn pixels (not blank)
      const inked = await page.evaluate(() => Array.from(document.querySelectorAll('canvas')).map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
      }));
      expect(inked.length).to.equal(2);
      for (const n of inked) expect(n).to.be.above(1000);
      const shot = process.env.REPORT_SCREENSHOT;
      if (shot) await page.screenshot({ path: shot, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
