// The shipped examples pass the linters people will run on them: zizmor (GitHub Actions, nothing at
// medium severity or above) and checkov (Kubernetes, no failed check; the inherent exceptions are
// skipped inline in the manifests, each with its reason). Both are pinned in .ci/install-tools.sh and live
// in their own virtualenv (TOOLS_VENV, default ~/.cache/k8s-chaos-harness/venv-tools), looked up there
// first, then on PATH. A missing tool or another version fails the test with the command that
// installs it: these checks never skip.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const INSTALL = 'bash .ci/install-tools.sh';
const VENV_BIN = path.join(process.env.TOOLS_VENV ?? path.join(os.homedir(), '.cache', 'k8s-chaos-harness', 'venv-tools'), 'bin');

function pinned(name: 'ZIZMOR' | 'CHECKOV'): string {
  const m = new RegExp(`^${name}_VERSION=(\\S+)$`, 'm').exec(fs.readFileSync(path.join(ROOT, '.ci/install-tools.sh'), 'utf8'));
  if (!m) throw new Error(`.ci/install-tools.sh pins no ${name}_VERSION`);
  return m[1];
}

function tool(name: string, version: string): string {
  const candidates = [path.join(VENV_BIN, name), ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, name))];
  const found = candidates.find((c) => { try { fs.accessSync(c, fs.constants.X_OK); return true; } catch { return false; } });
  if (!found) throw new Error(`${name} is not installed (looked in ${VENV_BIN} and on PATH): run \`${INSTALL}\``);
  const v = spawnSync(found, ['--version'], { encoding: 'utf8' });
  const out = `${v.stdout}${v.stderr}`.trim();
  if (!out.split(/\s+/).includes(version)) throw new Error(`${found} is version "${out}", the pinned one is ${version}: run \`${INSTALL}\``);
  return found;
}

function run(bin: string, args: string[]) {
  const r = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 90_000, env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  return r;
}

interface ZizmorFinding { ident: string; desc: string; determinations: { severity: string; confidence: string }; locations: Array<{ symbolic?: { key?: { Local?: { given_path?: string } } }; concrete?: { location?: { start_point?: { row: number } } } }> }

function zizmor(files: string[]): ZizmorFinding[] {
  const r = run(tool('zizmor', pinned('ZIZMOR')), ['--offline', '--no-config', '--no-progress', '--min-severity', 'medium', '--format', 'json', ...files]);
  let findings: ZizmorFinding[];
  try { findings = JSON.parse(r.stdout) as ZizmorFinding[]; } catch { throw new Error(`zizmor exit ${r.status}, no JSON: ${r.stdout}\n${r.stderr}`); }
  return findings;
}
const describeFinding = (f: ZizmorFinding) => {
  const l = f.locations[0];
  return `${f.determinations.severity} ${f.ident} (${f.desc}) at ${l?.symbolic?.key?.Local?.given_path ?? '?'}:${(l?.concrete?.location?.start_point?.row ?? -1) + 1}`;
};

describe('examples: linters', function () {
  this.timeout(180_000);
  this.slow(30_000);

  it('zizmor --offline finds nothing at medium severity or above in examples/github-actions', () => {
    const dir = path.join(ROOT, 'examples/github-actions');
    // zizmor collects a directory only as .github/workflows; the workflow files are named instead
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join('examples/github-actions', f));
    expect(files.length).to.be.above(1);
    expect(zizmor(files).map(describeFinding)).to.deep.equal([]);
  });

  it('zizmor does report the mistakes it is there for (unpinned action, expression in a shell step, persisted credentials)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zizmor-canary-'));
    try {
      const file = path.join(dir, 'canary.yml');
      fs.writeFileSync(file, [
        'name: canary', 'on:', '  workflow_dispatch:', '    inputs:', '      suite: { type: string }',
        'permissions: {}', 'jobs:', '  j:', '    runs-on: ubuntu-24.04', '    permissions: { contents: read }', '    steps:',
        '      - uses: actions/checkout@v4', '      - run: echo "${{ inputs.suite }}"', '',
      ].join('\n'));
      expect(zizmor([file]).map((f) => f.ident).sort()).to.include.members(['artipacked', 'template-injection', 'unpinned-uses']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checkov passes every check on examples/kubernetes (skips only inline, each with a reason)', () => {
    const r = run(tool('checkov', pinned('CHECKOV')), ['-d', 'examples/kubernetes', '--framework', 'kubernetes', '--compact', '--quiet', '--skip-download', '-o', 'json']);
    let parsed: unknown;
    try { parsed = JSON.parse(r.stdout); } catch { throw new Error(`checkov exit ${r.status}, no JSON: ${r.stdout.slice(0, 2000)}\n${r.stderr.slice(-2000)}`); }
    const reports = (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ check_type: string; summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count: number }; results: { failed_checks: Array<{ check_id: string; check_name: string; resource: string; file_path: string }> } }>;
    const k8s = reports.find((x) => x.check_type === 'kubernetes');
    expect(k8s, `checkov scanned no Kubernetes manifest: ${r.stdout.slice(0, 500)}`).to.not.equal(undefined);
    const failed = k8s!.results.failed_checks.map((c) => `${c.check_id} ${c.check_name}: ${c.resource} (${c.file_path})`);
    expect(failed).to.deep.equal([]);
    expect(k8s!.summary.parsing_errors).to.equal(0);
    // it really read every object of every manifest
    const objects = fs.readdirSync(path.join(ROOT, 'examples/kubernetes')).filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(ROOT, 'examples/kubernetes', f), 'utf8')));
    expect(k8s!.summary.resource_count).to.equal(objects.length);
    expect(k8s!.summary.passed).to.be.above(100);
    // every skip is inline in a manifest, names one check and says why (--quiet leaves skips out of the JSON)
    const skips = objects.flatMap((d) => Object.entries((d.toJS() as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations ?? {}))
      .filter(([k]) => k.startsWith('checkov.io/skip')).map(([, v]) => v);
    expect(skips.length).to.equal(k8s!.summary.skipped);
    for (const v of skips) expect(v, 'checkov.io/skip: CKV_…=<reason>').to.match(/^CKV2?_K8S_\d+=.{20,}$/);
    expect(r.status).to.equal(0);
  });
});
