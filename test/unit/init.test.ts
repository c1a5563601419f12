// `chaos init` (in-process, through the CLI's main): the three starter files in the project
// directory; exit 2 and nothing written when one exists; --force overwrites and only appends the
// missing .gitignore lines. The starter scenario and targets load as the harness reads them.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../harness/cli.js';
import { ExitCode } from '../../harness/exit-codes.js';
import { loadScenario } from '../../harness/scenario-load.js';
import { loadTargets } from '../../harness/target.js';
import { setProjectDir } from '../../harness/project.js';

async function chaos(...args: string[]): Promise<number> {
  const saved = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write; // keep mocha's output clean
  try {
    return await main(['node', 'chaos', ...args]);
  } finally {
    process.stdout.write = saved;
    process.exitCode = undefined;
    setProjectDir(undefined);
  }
}

describe('chaos init', () => {
  let dir: string;
  const files = () => ['chaos.targets.json', 'scenarios/az-outage.yaml', '.gitignore'].filter((f) => fs.existsSync(path.join(dir, f)));
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-init-')); });

  it('writes chaos.targets.json, scenarios/az-outage.yaml and .gitignore; they load as the harness reads them', async () => {
    expect(await chaos('--project', dir, 'init')).to.equal(ExitCode.Ok);
    expect(files()).to.deep.equal(['chaos.targets.json', 'scenarios/az-outage.yaml', '.gitignore']);
    const targets = loadTargets(path.join(dir, 'chaos.targets.json'));
    expect(Object.keys(targets).filter((k) => k !== '$comment').sort()).to.deep.equal(['aws', 'lab']);
    expect(targets.lab.contexts).to.deep.equal(['chaos-lab']);
    const s = await loadScenario(path.join(dir, 'scenarios', 'az-outage.yaml'));
    expect(s).to.include({ name: 'az-outage' });
    expect(s.fault).to.include({ kind: 'az-blackhole', zone: 'auto', duration: 120_000 });
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).to.equal('reports/\n.chaos/\n.lab/\n');
  });

  it('writes nothing and exits 2 when any of the files exists; --force overwrites and appends only missing .gitignore lines', async () => {
    fs.writeFileSync(path.join(dir, '.gitignore'), 'node_modules/\n/reports\n');
    expect(await chaos('--project', dir, 'init')).to.equal(ExitCode.Invalid);
    expect(files()).to.deep.equal(['.gitignore']);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).to.equal('node_modules/\n/reports\n');

    fs.mkdirSync(path.join(dir, 'scenarios'));
    fs.writeFileSync(path.join(dir, 'scenarios', 'az-outage.yaml'), 'mine\n');
    expect(await chaos('--project', dir, 'init', '--force')).to.equal(ExitCode.Ok);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).to.equal('node_modules/\n/reports\n.chaos/\n.lab/\n');
    expect(fs.readFileSync(path.join(dir, 'scenarios', 'az-outage.yaml'), 'utf8')).to.match(/^# yaml-language-server: \$schema=/);
    expect(await chaos('--project', dir, 'init')).to.equal(ExitCode.Invalid);
    expect(await chaos('--project', dir, 'init', '--force')).to.equal(ExitCode.Ok);
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')).to.equal('node_modules/\n/reports\n.chaos/\n.lab/\n');
  });

  it('the project directory is where `list` looks (--project), not the package', async () => {
    await chaos('--project', dir, 'init');
    const saved = process.stdout.write.bind(process.stdout);
    let printed = '';
    process.stdout.write = ((c: string) => { printed += c; return true; }) as typeof process.stdout.write;
    try {
      expect(await main(['node', 'chaos', '--project', dir, 'list'])).to.equal(0);
    } finally {
      process.stdout.write = saved;
      setProjectDir(undefined);
    }
    expect(printed).to.match(/^az-outage\.yaml\s+az-blackhole\s+Black-hole every node subnet of one zone for 2 minutes\n$/);
  });
});
