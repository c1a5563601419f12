// The Dockerfile's contract, read from the file (no image is built here): a build stage that packs the
// harness, a runtime stage that installs only that tarball, as a numeric non-root user, `chaos` as the
// entrypoint, /work as the project directory, the writable paths the CronJob mounts declared as
// volumes, no secret-looking ENV/ARG, no lab and no Go. Parsed simply: one instruction per logical
// line (continuations joined, comments dropped).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');

export interface Instruction { op: string; args: string; line: number }
export interface Stage { from: string; name?: string; instructions: Instruction[] }

export function parseDockerfile(text: string): { preamble: Instruction[]; stages: Stage[] } {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!buf && (/^\s*#/.test(line) || !line.trim())) return; // comments (and parser directives), blank lines
    if (buf && /^\s*#/.test(line)) return; // a comment inside a continued instruction
    if (!buf) start = i + 1;
    if (/\\\s*$/.test(line)) { buf += line.replace(/\\\s*$/, ' '); return; }
    buf += line;
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(buf);
    if (!m) throw new Error(`Dockerfile:${start}: cannot parse "${buf.trim()}"`);
    out.push({ op: m[1].toUpperCase(), args: m[2].trim().replace(/\s+/g, ' '), line: start });
    buf = '';
  });
  if (buf) throw new Error('Dockerfile: ends inside a continued line');
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of out) {
    if (ins.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile:${ins.line}: FROM ${ins.args}`);
      stages.push({ from: m[1], name: m[2], instructions: [] });
    } else if (stages.length) stages[stages.length - 1].instructions.push(ins);
    else preamble.push(ins);
  }
  return { preamble, stages };
}

const SECRETISH = /(secret|token|passw(or)?d|api[_-]?key|access[_-]?key|private[_-]?key|credential|\bauth\b|_auth|session)/i;

/** What is wrong with a Dockerfile, as readable sentences; [] when it keeps the contract. */
export function dockerfileProblems(text: string, cronMounts: string[]): string[] {
  const problems: string[] = [];
  const { preamble, stages } = parseDockerfile(text);
  const build = stages.find((s) => s.name === 'build');
  const runtime = stages[stages.length - 1];
  if (stages.length < 2 || !build) return ['needs a build stage named "build" and a runtime stage after it'];
  const all = [...preamble, ...stages.flatMap((s) => s.instructions)];
  const runs = (s: Stage) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');

  // base image: node:20-bookworm-slim by default, overridable with ARG BASE_IMAGE
  const baseArg = preamble.find((i) => i.op === 'ARG' && i.args.startsWith('BASE_IMAGE'));
  if (!baseArg || !/^BASE_IMAGE=node:20-bookworm-slim(@sha256:[0-9a-f]{64})?$/.test(baseArg.args)) problems.push('ARG BASE_IMAGE must default to node:20-bookworm-slim');
  for (const s of stages) if (s.from !== '${BASE_IMAGE}') problems.push(`stage ${s.name ?? s.from}: FROM must be \${BASE_IMAGE}, is ${s.from}`);

  // build stage: npm ci && npm run build && npm pack
  for (const step of ['npm ci', 'npm run build', 'npm pack']) if (!runs(build).includes(step)) problems.push(`build stage: no "${step}"`);

  // runtime stage: the tarball installed globally without dev dependencies, nothing copied from the context
  const rt = runtime.instructions;
  if (!/npm install --global --omit=dev\b[^&]*\.tgz/.test(runs(runtime))) problems.push('runtime stage: the packed tarball is not installed with npm install --global --omit=dev');
  for (const c of rt.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
    if (c.op === 'ADD') problems.push(`runtime stage line ${c.line}: ADD (use COPY --from=build)`);
    if (!/^--from=build\s/.test(c.args)) problems.push(`runtime stage line ${c.line}: copies from the build context, not from the build stage: ${c.args}`);
  }
  // no lab, no Go in the runtime stage
  for (const i of rt) {
    if (/(^|[\s/])lab(\/|\s|$)|lab\/build\.sh|LAB_|golang|\bgo (build|install|env)\b|\/usr\/local\/go\b|kube-apiserver|kwok|etcd/.test(i.args)) problems.push(`runtime stage line ${i.line}: lab or Go: ${i.op} ${i.args}`);
  }

  // user: numeric, not root, the last word on it
  const users = rt.filter((i) => i.op === 'USER');
  const user = users[users.length - 1]?.args;
  if (!user) problems.push('runtime stage: no USER');
  else if (!/^\d+(:\d+)?$/.test(user)) problems.push(`USER must be numeric (uid[:gid]), is ${user}`);
  else if (Number(user.split(':')[0]) === 0 || user.split(':')[1] === '0') problems.push(`USER must not be root, is ${user}`);
  const afterUser = rt.slice(rt.indexOf(users[users.length - 1]) + 1);
  if (afterUser.some((i) => i.op === 'RUN')) problems.push('a RUN after the final USER');

  // entrypoint: exec form, chaos
  const ep = rt.filter((i) => i.op === 'ENTRYPOINT').pop()?.args;
  let epArgs: unknown;
  try { epArgs = ep ? JSON.parse(ep) : undefined; } catch { epArgs = undefined; }
  if (JSON.stringify(epArgs) !== JSON.stringify(['chaos'])) problems.push(`ENTRYPOINT must be ["chaos"] (exec form), is ${ep}`);

  // working directory and the writable paths
  const workdir = rt.filter((i) => i.op === 'WORKDIR').pop()?.args;
  if (workdir !== '/work') problems.push(`WORKDIR must be /work (the project directory the CronJob mounts into), is ${workdir}`);
  const volumes = rt.filter((i) => i.op === 'VOLUME').flatMap((i) => (i.args.startsWith('[') ? JSON.parse(i.args) as string[] : i.args.split(' ')));
  for (const m of cronMounts) if (!volumes.includes(m)) problems.push(`${m} (an emptyDir in the CronJob) is not a VOLUME`);
  const env = new Map<string, string>();
  for (const i of rt.filter((x) => x.op === 'ENV')) for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env.set(m[1], m[2].replace(/^"|"$/g, ''));
  for (const k of ['HOME', 'TMPDIR']) {
    const v = env.get(k);
    if (!v || !volumes.some((vol) => v === vol || v.startsWith(`${vol}/`))) problems.push(`ENV ${k} must be on a writable volume, is ${v}`);
  }

  // nothing secret-looking in ENV or ARG names or values
  for (const i of all.filter((x) => x.op === 'ENV' || x.op === 'ARG')) {
    if (SECRETISH.test(i.args)) problems.push(`line ${i.line}: ${i.op} looks like a secret: ${i.args}`);
  }
  // nothing fetched from arbitrary hosts
  for (const i of all) if (/\b(curl|wget)\b|^https?:\/\//.test(i.args) || (i.op === 'ADD' && /https?:\/\//.test(i.args))) problems.push(`line ${i.line}: downloads: ${i.args}`);
  return problems;
}

function cronEmptyDirMounts(): string[] {
  const cj = parseAllDocuments(read('examples/kubernetes/cronjob.yaml')).map((d) => d.toJS()).find((d) => d.kind === 'CronJob');
  const pod = cj.spec.jobTemplate.spec.template.spec as { containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string }> }>; volumes: Array<{ name: string; emptyDir?: unknown }> };
  const emptyDirs = new Set(pod.volumes.filter((v) => v.emptyDir).map((v) => v.name));
  return [...new Set(pod.containers[0].volumeMounts.filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath))];
}

describe('examples: Dockerfile', () => {
  it('keeps the image contract (non-root numeric user, chaos entrypoint, /work, the CronJob\'s writable paths as volumes, no secrets, no lab, no Go)', () => {
    const mounts = cronEmptyDirMounts();
    expect(mounts.sort()).to.deep.equal(['/tmp', '/work/.chaos', '/work/reports']);
    expect(dockerfileProblems(read('Dockerfile'), mounts)).to.deep.equal([]);
  });

  it('the check catches each kind of breach', () => {
    const good = read('Dockerfile');
    const mounts = cronEmptyDirMounts();
    const breaches: Array<[string, (s: string) => string, RegExp]> = [
      ['root user', (s) => s.replace(/^USER .*$/m, 'USER root'), /USER must be numeric/],
      ['uid 0', (s) => s.replace(/^USER .*$/m, 'USER 0:0'), /must not be root/],
      ['shell entrypoint', (s) => s.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT chaos'), /ENTRYPOINT/],
      ['a secret in ENV', (s) => s.replace(/^ENV NODE_ENV=production/m, 'ENV NPM_TOKEN=abc NODE_ENV=production'), /looks like a secret/],
      ['a secret ARG', (s) => s.replace(/^ARG BASE_IMAGE/m, 'ARG AWS_SECRET_ACCESS_KEY\nARG BASE_IMAGE'), /looks like a secret/],
      ['the lab copied in', (s) => s.replace(/^WORKDIR \/work$/m, 'COPY lab/ /opt/lab/\nWORKDIR /work'), /lab or Go|build context/],
      ['Go installed', (s) => s.replace(/^WORKDIR \/work$/m, 'RUN apt-get install -y golang\nWORKDIR /work'), /lab or Go/],
      ['a missing volume', (s) => s.replace(/"\/work\/reports", /, ''), /\/work\/reports .* is not a VOLUME/],
      ['another workdir', (s) => s.replace(/^WORKDIR \/work$/m, 'WORKDIR /app'), /WORKDIR must be \/work/],
      ['dev dependencies', (s) => s.replace('--omit=dev ', ''), /--omit=dev/],
      ['no pack', (s) => s.replace('npm pack', 'npm version'), /npm pack/],
    ];
    for (const [what, mutate, expected] of breaches) {
      const bad = mutate(good);
      expect(bad, what).to.not.equal(good);
      expect(dockerfileProblems(bad, mounts).join('\n'), what).to.match(expected);
    }
  });

  it('the parser joins continued lines and skips comments', () => {
    const { preamble, stages } = parseDockerfile('# syntax=docker/dockerfile:1\nARG X=1\nFROM a AS build\nRUN one \\\n  # a comment\n  && two\nFROM b\nUSER 1\n');
    expect(preamble).to.deep.equal([{ op: 'ARG', args: 'X=1', line: 2 }]);
    expect(stages.map((s) => [s.from, s.name, s.instructions.map((i) => `${i.op} ${i.args}`)])).to.deep.equal([['a', 'build', ['RUN one && two']], ['b', undefined, ['USER 1']]]);
  });

  it('.dockerignore keeps generated files and credentials out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignored).to.include.members(['.git', 'node_modules', 'dist', '.lab', '.lab-*', '.chaos', '.npmrc', '.env', '.aws', '.kube']);
  });
});
