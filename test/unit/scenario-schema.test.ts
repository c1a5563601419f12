// The scenario JSON Schema shipped in the package (schema/scenario.schema.json): the committed file
// is what the zod ScenarioSchema generates today, and every scenario file of the repository (the five
// .ts scenarios, the YAML/JSON fixtures, `chaos init`'s starter) validates against it with ajv.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { scenarioJsonSchema, scenarioJsonSchemaText } from '../../harness/scenario-schema.js';
import { starterScenario } from '../../harness/init.js';
import { REPO_ROOT } from '../../lab/paths.js';

const SCHEMA_FILE = path.join(REPO_ROOT, 'schema', 'scenario.schema.json');

describe('scenario JSON Schema', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as object);
  const check = (what: string, value: unknown) => {
    const ok = validate(value);
    expect(ok, `${what}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
  };

  it('the committed schema/scenario.schema.json equals a fresh generation from the zod schema (npm run schema)', () => {
    expect(fs.readFileSync(SCHEMA_FILE, 'utf8'), 'run `npm run schema` and commit the result').to.equal(scenarioJsonSchemaText());
    expect(scenarioJsonSchema().$schema).to.equal('https://json-schema.org/draft/2020-12/schema');
  });

  it('every .ts scenario of the repository validates (its default export, as written)', async () => {
    const dir = path.join(REPO_ROOT, 'scenarios');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files).to.have.length(5);
    for (const f of files) {
      const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { default: unknown };
      check(f, mod.default);
    }
  });

  it('the YAML and JSON fixtures and chaos init\'s starter validate; an unknown key and a wrong type do not', () => {
    for (const f of ['valid.yaml', 'valid.json']) check(f, parse(fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'scenarios', f), 'utf8')));
    check('chaos init scenarios/az-outage.yaml', parse(starterScenario()));
    expect(starterScenario().split('\n')[0]).to.equal('# yaml-language-server: $schema=../node_modules/k8s-aws-chaos-harness/schema/scenario.schema.json');
    const bad = parse(fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'scenarios', 'invalid-field.yaml'), 'utf8')) as object;
    expect(validate(bad)).to.equal(false);
    expect(ajv.errorsText(validate.errors)).to.match(/probes\/0 must NOT have additional properties/);
    expect(validate({ ...(parse(starterScenario()) as object), fault: { kind: 'node-stop', duration: 60 } })).to.equal(false);
  });
});
