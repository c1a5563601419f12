// The product without lab/: nothing under harness/ imports lab/ (static imports, re-exports,
// dynamic import() and require()), so the harness builds and runs with the lab left out. The lab gets
// in only as a target provider named by path in package.json (`"chaos": { "providers": [...] }`).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../lab/paths.js';
import { getProvider, loadProviders, providerModules } from '../../harness/providers.js';

/** The source without comments (block, and line comments not inside a URL or a string's `//`). */
const code = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

/** Every module specifier of a TypeScript source: import/export … from, import '…', import(…), require(…). */
export function specifiers(text: string): string[] {
  const source = code(text);
  const out: string[] = [];
  const res = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?(['"`])([^'"`]+)\1/g, // static, incl. side-effect imports and re-exports
    /\bimport\s*\(\s*(['"`])([^'"`]+)\1/g, // dynamic import with a literal
    /\brequire\s*\(\s*(['"`])([^'"`]+)\1/g,
  ];
  for (const re of res) for (const m of source.matchAll(re)) out.push(m[2]);
  return out;
}

/** Dynamic imports whose specifier is not a literal: each must be on the allow-list below. */
function computedImports(source: string): string[] {
  return [...code(source).matchAll(/\bimport\s*\(\s*(?!['"`])([^)]*)\)/g)].map((m) => m[1].trim());
}

const intoLab = (from: string, spec: string) => {
  if (!spec.startsWith('.')) return /(^|\/)lab(\/|$)/.test(spec) && !spec.startsWith('@');
  const target = path.resolve(path.dirname(from), spec);
  return path.relative(REPO_ROOT, target).split(path.sep)[0] === 'lab';
};

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const f = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(f) : e.name.endsWith('.ts') ? [f] : [];
  });
}

describe('the harness without lab/', () => {
  const files = tsFiles(path.join(REPO_ROOT, 'harness'));

  it('the import scanner sees every form of import (self-check)', () => {
    const planted: Array<[string, string]> = [
      ['x.ts', `import { labUp } from '../lab/cluster.js';`],
      ['k8s/x.ts', `import type { LabState } from "../../lab/cluster.js";`],
      ['x.ts', `export { readEnvFile } from '../lab/envfile.js';`],
      ['x.ts', `import '../lab/side-effect.js';`],
      ['x.ts', `const m = await import('../lab/cluster.js');`],
      ['x.ts', `const m = await import(\n  "../lab/paths.js");`],
      ['x.ts', `const x = require('../lab/x.cjs');`],
      ['x.ts', `import {\n  a,\n  b,\n} from '../lab/index.js';`],
      ['x.ts', `import * as lab from 'k8s-aws-chaos-harness/lab/provider.js';`],
    ];
    for (const [from, p] of planted) {
      const specs = specifiers(p);
      expect(specs.some((s) => intoLab(path.join(REPO_ROOT, 'harness', from), s)), p).to.equal(true);
    }
    expect(specifiers(`// see lab/cluster.ts: import { x } from '../lab/cluster.js'\nconst u = 'http://x';`)).to.deep.equal([]);
    expect(specifiers(`import { z } from 'zod'; import('./aws/index.js');`)).to.deep.equal(['zod', './aws/index.js']);
    expect(intoLab(path.join(REPO_ROOT, 'harness', 'x.ts'), './labels.js')).to.equal(false);
    expect(computedImports('await import(url)')).to.deep.equal(['url']);
  });

  it(`no file under harness/ imports anything from lab/ (${files.length} files)`, () => {
    expect(files.length).to.be.greaterThan(20);
    const bad: string[] = [];
    for (const f of files) {
      const src = fs.readFileSync(f, 'utf8');
      for (const s of specifiers(src)) if (intoLab(f, s)) bad.push(`${path.relative(REPO_ROOT, f)}: ${s}`);
    }
    expect(bad, bad.join('\n')).to.deep.equal([]);
  });

  it('the only computed import() is the provider loader, whose paths come from package.json and CHAOS_PROVIDERS', () => {
    const found = files.flatMap((f) => computedImports(fs.readFileSync(f, 'utf8')).map((c) => `${path.relative(REPO_ROOT, f)}: ${c}`));
    expect(found).to.deep.equal(['harness/providers.ts: url', 'harness/scenario-load.ts: url']);
    // scenario-load's is the scenario file itself (a path the user gives)
  });

  it('the lab comes in as a provider named in package.json, loaded by path', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { chaos?: { providers?: string[] } };
    expect(pkg.chaos?.providers).to.deep.equal(['lab/provider']);
    const mods = providerModules({});
    expect(mods).to.have.length(1);
    expect(mods[0]).to.match(/\/lab\/provider\.ts$/); // from source under tsx; dist/lab/provider.js when compiled
    await loadProviders({});
    const lab = getProvider('lab');
    expect(lab?.kind).to.equal('lab');
    expect(lab?.commands?.map((c) => c.name)).to.deep.equal(['lab']);
    expect(getProvider('aws')?.kind).to.equal('aws');
  });
});
