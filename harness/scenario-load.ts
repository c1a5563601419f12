// Finding and loading scenario files: `scenarios/<name>.{ts,yaml,yml,json}` in the project directory
// or a path. TypeScript files are imported (through tsx's API, loaded only then, when the harness
// runs as compiled JavaScript); YAML and JSON files are parsed with the `yaml` package, whose ranges
// give every error its line and column. All of them are validated by the same ScenarioSchema
// (harness/scenario.ts) before anything is touched; every error names the file, the line (and for
// YAML/JSON the column) and the field. Exit 2.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { describeIssues } from './faults/spec.js';
import { invalid } from './exit-codes.js';
import { MODULE_EXT, projectPaths } from './project.js';
import { ScenarioSchema, type Scenario } from './scenario.js';

export const SCENARIO_EXTENSIONS = ['.ts', '.yaml', '.yml', '.json'] as const;
const DATA_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** scenarios/suites.json is the gate's suites file, not a scenario */
const NOT_SCENARIOS = new Set(['suites.json']);

/** The scenarios directory of the project directory at start-up (kept for callers of the old name; see scenariosDir). */
export const SCENARIO_DIR = projectPaths().scenarios;

/** `scenarios/` of the project directory (`--project DIR`, else the current directory). */
export function scenariosDir(): string {
  return projectPaths().scenarios;
}

const rel = (file: string) => path.relative(process.cwd(), file) || file;

export interface ScenarioEntry { name: string; file: string }

/** Every scenario file of the directory, by name (a name with two files appears twice). */
export function listScenarioFiles(dir = scenariosDir()): ScenarioEntry[] {
  if (!fs.existsSync(dir)) return [];
  const order = (f: string) => SCENARIO_EXTENSIONS.indexOf(path.extname(f) as (typeof SCENARIO_EXTENSIONS)[number]);
  return fs.readdirSync(dir)
    .filter((f) => order(f) >= 0 && !f.endsWith('.d.ts') && !NOT_SCENARIOS.has(f) && fs.statSync(path.join(dir, f)).isFile())
    .map((f) => ({ name: f.slice(0, -path.extname(f).length), file: path.join(dir, f) }))
    .sort((a, b) => (a.name === b.name ? order(a.file) - order(b.file) : a.name < b.name ? -1 : 1));
}

/** The scenario names of the directory. */
export function listScenarios(dir = scenariosDir()): string[] {
  return [...new Set(listScenarioFiles(dir).map((e) => e.name))];
}

const isPath = (s: string) => /[/\\]/.test(s) || SCENARIO_EXTENSIONS.some((e) => s.endsWith(e));

/**
 * A name (`az-outage`: scenarios/az-outage.{ts,yaml,yml,json} of the project) or a path (anything
 * with a slash or one of those extensions, relative to the current directory) → the file. A name
 * with no file gives scenarios/<name>.ts (which does not exist); with two files, an error.
 */
export function scenarioFile(nameOrPath: string): string {
  if (isPath(nameOrPath)) return path.resolve(nameOrPath);
  const dir = scenariosDir();
  const found = SCENARIO_EXTENSIONS.filter((e) => !NOT_SCENARIOS.has(`${nameOrPath}${e}`)).map((e) => path.join(dir, `${nameOrPath}${e}`)).filter((f) => fs.existsSync(f));
  if (found.length > 1) throw invalid(`scenario "${nameOrPath}" is ambiguous: ${found.map(rel).join(' and ')} all exist; name one of the files (chaos run PATH)`);
  return found[0] ?? path.join(dir, `${nameOrPath}.ts`);
}

/** The line of the deepest key of `issuePath` found in order in the source (1-based), else undefined. */
export function lineOf(source: string, issuePath: Array<string | number>): number | undefined {
  const lines = source.split('\n');
  let from = 0;
  let found: number | undefined;
  for (const key of issuePath) {
    if (typeof key === 'number') continue;
    const re = new RegExp(`(^|[\\s{,])(['"]?)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\2\\s*:`);
    const i = lines.findIndex((l, k) => k >= from && re.test(l));
    if (i < 0) break;
    found = i + 1;
    from = i;
    // a key whose value is a scalar on its own line holds nothing deeper (`steady: '-5s'` reported
    // as steady.window): a later key found below would be some other field's
    const after = lines[i].replace(re, '').trim();
    if (after !== '' && !/^[{[]/.test(after)) break;
  }
  return found;
}

export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const file = scenarioFile(nameOrPath);
  const r = rel(file);
  if (!fs.existsSync(file)) {
    const known = listScenarios();
    const where = isPath(nameOrPath) ? r : `${rel(path.join(scenariosDir(), nameOrPath))}.{${SCENARIO_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`;
    throw invalid(`no scenario "${nameOrPath}" (${where} does not exist); known: ${known.join(', ') || 'none'}`);
  }
  const ext = path.extname(file);
  return DATA_EXTENSIONS.has(ext) ? loadDataScenario(file, r, ext === '.json') : loadModuleScenario(file, r);
}

// ---- TypeScript scenario files ----

let tsxRegistered: Promise<unknown> | undefined;

/**
 * Imports a .ts file: directly when the harness itself runs under a TypeScript loader (tsx, in this
 * repository), else after registering tsx's loaders once (tsx/esm/api and tsx/cjs/api register:
 * the first .ts scenario pays for it, YAML/JSON runs never load tsx).
 */
async function importTs(file: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(file).href;
  // both of tsx's hooks, as its CLI does: a .ts file outside an ESM package is loaded as CommonJS
  if (MODULE_EXT !== '.ts') {
    tsxRegistered ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => { esm.register(); cjs.register(); });
  }
  await tsxRegistered;
  const mod = (await import(url)) as { default?: unknown };
  // a .ts file in a CommonJS package is compiled to CommonJS: its `export default` is exports.default
  const d = mod.default as { __esModule?: boolean; default?: unknown } | undefined;
  return d && typeof d === 'object' && d.__esModule === true ? { default: d.default } : mod;
}

async function loadModuleScenario(file: string, r: string): Promise<Scenario> {
  let mod: { default?: unknown };
  try {
    mod = await importTs(file);
  } catch (err) {
    const e = err as Error;
    // frames look like `at x (file:///…/x.ts:4:7)`, under tsx's API `file:///…/x.ts?tsx-namespace=…:4:7`
    const at = (e.stack ?? '').split('\n').map((l) => /\(?((?:file:\/\/)?[^()\s?]+\.ts)(?:\?[^:\s)]*)?:(\d+):\d+\)?/.exec(l)).find((m) => m && decodeURI(m[1].replace('file://', '')) === file);
    throw invalid(`${r}${at ? `:${at[2]}` : ''}: the scenario file failed to load: ${e.name}: ${e.message}`);
  }
  if (mod.default === undefined) throw invalid(`${r}: no default export; write \`export default defineScenario({ … })\``);
  const parsed = ScenarioSchema.safeParse(mod.default);
  if (!parsed.success) {
    const source = fs.readFileSync(file, 'utf8');
    const lines = parsed.error.issues.map((i) => {
      const line = lineOf(source, i.path as Array<string | number>);
      return `${r}${line ? `:${line}` : ''}: ${describeIssues(new z.ZodError([i]))[0]}`;
    });
    throw invalid(`${r}: invalid scenario`, lines);
  }
  return { ...parsed.data, file };
}

// ---- YAML and JSON scenario files ----

type Path = Array<string | number>;
interface Pos { line: number; col: number }

const keyText = (k: unknown): string => (isScalar(k) ? String(k.value) : String(k));

/** The field an offset falls in (best effort, for syntax errors): the last key at or before it, descending. */
function pathAt(doc: Document, offset: number): Path {
  const out: Path = [];
  let node: unknown = doc.contents;
  for (let depth = 0; depth < 64; depth++) {
    if (isMap(node)) {
      const pair = node.items.filter((p) => isScalar(p.key) && p.key.range && p.key.range[0] <= offset).pop();
      if (!pair) break;
      out.push(keyText(pair.key));
      const v = pair.value as { range?: [number, number, number] } | null;
      if (!v?.range || offset < v.range[0] || offset > v.range[2]) break;
      node = v;
    } else if (isSeq(node)) {
      const i = node.items.findIndex((it) => { const rg = (it as { range?: [number, number, number] } | null)?.range; return !!rg && rg[0] <= offset && offset <= rg[2]; });
      if (i < 0) break;
      out.push(i);
      node = node.items[i];
    } else break;
  }
  return out;
}

/** Where a schema issue's path points: the value (scalars), the key (collections, unknown keys), else the deepest ancestor found. */
function locate(doc: Document, issue: z.core.$ZodIssue, lc: LineCounter): Pos | undefined {
  let node: unknown = doc.contents;
  let at = (node as { range?: [number, number, number] } | null)?.range?.[0];
  let complete = true;
  for (const seg of issue.path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (!pair) { complete = false; break; }
      at = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? at;
      node = pair.value;
      if (isScalar(node) && node.range) at = node.range[0];
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as { range?: [number, number, number] } | undefined;
      if (!item) { complete = false; break; }
      at = item.range?.[0] ?? at;
      node = item;
    } else { complete = false; break; }
  }
  if (complete && issue.code === 'unrecognized_keys' && isMap(node)) {
    const pair = node.items.find((p) => keyText(p.key) === issue.keys[0]);
    at = (pair?.key as { range?: [number, number, number] } | null)?.range?.[0] ?? at;
  }
  return at === undefined ? undefined : lc.linePos(at);
}

const fmtPos = (p: Pos | undefined) => (p ? `:${p.line}:${p.col}` : '');

/** JSON.parse's error as an offset: "at position N", else the first occurrence of the token it names outside strings. */
function jsonErrorOffset(src: string, message: string): number | undefined {
  const m = /at position (\d+)/.exec(message);
  if (m) return Number(m[1]);
  const tok = /Unexpected token '(.)'/.exec(message)?.[1];
  if (tok === undefined) return undefined;
  let inString = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inString) { if (c === '\\') i++; else if (c === '"') inString = false; continue; }
    if (c === '"') inString = true;
    else if (c === tok) return i;
  }
  return undefined;
}

function loadDataScenario(file: string, r: string, json: boolean): Scenario {
  const src = fs.readFileSync(file, 'utf8');
  const lc = new LineCounter();
  const doc = parseDocument(src, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, ...(json ? { schema: 'json' as const } : {}) });
  const kind = json ? 'JSON' : 'YAML';
  const syntax = (offset: number | undefined, message: string) => {
    const field = offset === undefined ? [] : pathAt(doc, offset);
    return invalid(`${r}${fmtPos(offset === undefined ? undefined : lc.linePos(offset))}: ${kind} syntax error${field.length ? ` in ${field.join('.')}` : ''}: ${message}`);
  };
  if (json) {
    try {
      JSON.parse(src);
    } catch (err) {
      const msg = (err as Error).message;
      throw syntax(jsonErrorOffset(src, msg) ?? doc.errors[0]?.pos[0], msg.replace(/ in JSON at position \d+$/, ''));
    }
  }
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw syntax(e.pos[0], `${e.message}${doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : ''}`);
  }
  let value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  // `$schema` (for editors) is not a scenario field
  if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as Record<string, unknown>).$schema === 'string') {
    const { $schema: _, ...rest } = value as Record<string, unknown>;
    value = rest;
  }
  if (value === null || value === undefined) throw invalid(`${r}:1:1: the scenario file is empty`);
  const parsed = ScenarioSchema.safeParse(value);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${r}${fmtPos(locate(doc, i, lc))}: ${describeIssues(new z.ZodError([i]))[0]}`);
    throw invalid(`${r}: invalid scenario`, lines);
  }
  return { ...parsed.data, file };
}
