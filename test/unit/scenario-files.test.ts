// Scenario files as YAML and JSON (test/fixtures/scenarios/*.yaml|json): they load into the same
// Scenario as the .ts files; every syntax or schema error names file:line:col and the field (exit 2);
// `scenarios/<name>.{ts,yaml,yml,json}` of the project directory is found by name.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, HarnessError } from '../../harness/exit-codes.js';
import { lineOf, listScenarioFiles, listScenarios, loadScenario, scenarioFile } from '../../harness/scenario-load.js';
import { setProjectDir } from '../../harness/project.js';
import { REPO_ROOT } from '../../lab/paths.js';

const fixture = (f: string) => path.join(REPO_ROOT, 'test', 'fixtures', 'scenarios', f);
const rel = (f: string) => path.relative(process.cwd(), f);

async function loadError(file: string): Promise<HarnessError> {
  const err = await loadScenario(file).then(() => undefined, (e: unknown) => e);
  expect(err, file).to.be.instanceOf(HarnessError);
  expect((err as HarnessError).exitCode).to.equal(ExitCode.Invalid);
  return err as HarnessError;
}

describe('scenario files: YAML and JSON', () => {
  it('a YAML scenario loads into the same Scenario as its .ts twin', async () => {
    const yaml = await loadScenario(fixture('valid.yaml'));
    const ts = await loadScenario(path.join(REPO_ROOT, 'scenarios', 'az-outage.ts'));
    const strip = ({ file: _f, name: _n, ...rest }: typeof yaml) => rest;
    expect(strip(yaml)).to.deep.equal(strip(ts));
    expect(yaml.name).to.equal('az-outage-yaml');
    expect(yaml.fault.duration).to.equal(120_000);
    expect(yaml.file).to.equal(fixture('valid.yaml'));
  });

  it('a JSON scenario loads (its "$schema" key is ignored) with defaults filled in', async () => {
    const s = await loadScenario(fixture('valid.json'));
    expect(s.name).to.equal('kubelet-kill-json');
    expect(s.fault).to.include({ kind: 'daemon-kill', daemon: 'kubelet', mode: 'stop', duration: 60_000 });
    expect(s.steady.window).to.equal(10_000);
    expect(s.probes[0].timeout).to.equal(2_000);
  });

  it('schema errors name file:line:col and the field, each at its value or key', async () => {
    const f = fixture('invalid-field.yaml');
    const e = await loadError(f);
    expect(e.message).to.equal(`${rel(f)}: invalid scenario`);
    expect(e.details).to.deep.equal([
      `${rel(f)}:6:13: fault.duration: "-2m" is not a duration (write e.g. 90s, 2m, 1m30s, 500ms)`,
      `${rel(f)}:14:5: probes.0: Unrecognized key: "retries"`,
      `${rel(f)}:16:15: slos.bad syntax: availability is a percentage: write e.g. 99.5% at position 27 of "availability(demo) >= 99.5"`,
    ]);
    const j = fixture('invalid-field.json');
    expect((await loadError(j)).details).to.deep.equal([`${rel(j)}:7:61: probes.0.rate: Too small: expected number to be >0`]);
  });

  it('a missing field points at the mapping that lacks it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-yaml-'));
    const f = path.join(dir, 'missing.yml');
    fs.writeFileSync(f, 'name: missing\ndescription: no duration\nfault:\n  kind: node-stop\nworkloads:\n  - selector: app=demo\nslos:\n  ok: recovery < 2m\n');
    const e = await loadError(f);
    expect(e.details).to.deep.equal([`${rel(f)}:3:1: fault.duration: Invalid input: expected string, received undefined`]);
  });

  it('syntax errors name file:line:col, the field they are in and the parser\'s reason', async () => {
    const cases: Array<[string, string]> = [
      ['bad-syntax.yaml', ':7:1: YAML syntax error in slos: Flow sequence in block collection must be sufficiently indented and end with a ]'],
      ['bad-syntax.json', ':4:53: JSON syntax error in fault.duration: Expected double-quoted property name'],
      ['duplicate-key.yaml', ':6:1: YAML syntax error in fault: Map keys must be unique'],
    ];
    for (const [name, tail] of cases) {
      const e = await loadError(fixture(name));
      expect(e.message, name).to.equal(`${rel(fixture(name))}${tail}`);
    }
    // JSON that YAML would accept is still not JSON
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-json-'));
    const f = path.join(dir, 'comment.json');
    fs.writeFileSync(f, '{\n  "name": "x",\n  # a comment\n  "description": "y"\n}\n');
    expect((await loadError(f)).message).to.match(/comment\.json:3:3: JSON syntax error in name: /);
    const empty = path.join(dir, 'empty.yaml');
    fs.writeFileSync(empty, '# nothing\n');
    expect((await loadError(empty)).message).to.equal(`${rel(empty)}:1:1: the scenario file is empty`);
  });

  describe('in a project directory', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-project-'));
      fs.mkdirSync(path.join(dir, 'scenarios'));
      for (const f of ['valid.yaml', 'valid.json']) fs.copyFileSync(fixture(f), path.join(dir, 'scenarios', f.replace('valid', f.endsWith('.json') ? 'kubelet' : 'zone')));
      fs.copyFileSync(fixture('valid.yaml'), path.join(dir, 'scenarios', 'twice.yml'));
      fs.copyFileSync(fixture('valid.json'), path.join(dir, 'scenarios', 'twice.json'));
      fs.writeFileSync(path.join(dir, 'scenarios', 'suites.json'), '{"default": ["zone"]}\n');
      fs.writeFileSync(path.join(dir, 'scenarios', 'notes.txt'), 'not a scenario\n');
      setProjectDir(dir);
    });
    after(() => setProjectDir(undefined));

    it('finds scenarios/<name>.{ts,yaml,yml,json} by name, lists them (suites.json is not one), and refuses an ambiguous name', async () => {
      expect(listScenarios()).to.deep.equal(['kubelet', 'twice', 'zone']);
      expect(listScenarioFiles().map((e) => path.basename(e.file))).to.deep.equal(['kubelet.json', 'twice.yml', 'twice.json', 'zone.yaml']);
      expect(scenarioFile('zone')).to.equal(path.join(dir, 'scenarios', 'zone.yaml'));
      expect((await loadScenario('kubelet')).name).to.equal('kubelet-kill-json');
      const e = await loadError('twice');
      expect(e.message).to.match(/scenario "twice" is ambiguous: .*twice\.yml and .*twice\.json/);
      const missing = await loadError('nope');
      expect(missing.message).to.match(/no scenario "nope" \(.*scenarios\/nope\.\{ts,yaml,yml,json\} does not exist\); known: kubelet, twice, zone/);
      expect((await loadError('suites')).message).to.match(/no scenario "suites"/);
    });
  });
});

describe('lineOf (the line an issue path points at)', () => {
  it('descends into objects, and stops at a key whose value is a scalar (steady: "-5s" reported as steady.window is the steady line, not a later window)', () => {
    const src = ['{', '  "steady": "-5s",', '  "abort": [', '    {', '      "window": "60.1s"', '    }', '  ]', '}'].join('\n');
    expect(lineOf(src, ['steady', 'window'])).to.equal(2);
    expect(lineOf(src, ['abort', 0, 'window'])).to.equal(5);
    const yaml = ['steady:', '  window: -5s', 'abort:', '  - window: 1h'].join('\n');
    expect(lineOf(yaml, ['steady', 'window'])).to.equal(2);
    expect(lineOf('steady: -5s\nabort:\n  - window: 1h\n', ['steady', 'window'])).to.equal(1);
    expect(lineOf("  fault: { kind: 'node-stop', zone: 'x' },", ['fault', 'zone'])).to.equal(1);
  });
});
