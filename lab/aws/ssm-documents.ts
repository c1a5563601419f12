// The lab SSM's own Command documents: CreateDocument, DescribeDocument, GetDocument, UpdateDocument,
// UpdateDocumentDefaultVersion, and what SendCommand needs from a document: the version asked for,
// the parameters validated against the document's allowedValues / allowedPattern (InvalidParameters,
// as SSM names it), {{ name }} substituted, and the aws:runShellScript steps to run. Independent of
// the harness's definitions: it reads whatever document it is given.
// Lab limits: JSON content only, schemaVersion 2.2, aws:runShellScript steps, String / StringList
// parameters; a new document is Active at once (SSM shows Creating first).
import { createHash } from 'node:crypto';
import { AwsError } from './wire.js';

type Json = Record<string, unknown>;

interface Param { type: 'String' | 'StringList'; description?: string; default?: unknown; allowedValues?: string[]; allowedPattern?: string }
interface Step { action: string; name: string; inputs: Json }
interface Content { schemaVersion: string; description?: string; parameters: Record<string, Param>; mainSteps: Step[] }

interface Version { version: string; text: string; content: Content; hash: string; created: Date; format: string }
interface StoredDocument { name: string; documentType: string; versions: Version[]; defaultVersion: string; created: Date }

export interface StepPlan { name: string; script: string; timeoutSeconds: number }
export interface DocumentRun { documentName: string; documentVersion: string; steps: StepPlan[]; parameters: Record<string, string[]> }

const NAME_RE = /^[a-zA-Z0-9_\-.]{3,128}$/;
const REF_RE = /\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g;

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v) throw new AwsError('ValidationException', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function invalidContent(msg: string): AwsError {
  return new AwsError('InvalidDocumentContent', msg);
}

/** Every string inside a value (step inputs), for {{ }} references. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

function parseContent(text: string, format: string): Content {
  if (format !== 'JSON') throw invalidContent(`the lab accepts JSON documents only, not ${format}`);
  let c: Content;
  try {
    c = JSON.parse(text) as Content;
  } catch (err) {
    throw invalidContent(`The content for the document is not valid JSON: ${(err as Error).message}`);
  }
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw invalidContent('The document content must be a JSON object');
  if (c.schemaVersion !== '2.2') throw new AwsError('InvalidDocumentSchemaVersion', `schemaVersion ${String(c.schemaVersion)} is not supported by the lab (2.2 only)`);
  const params = c.parameters ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) throw invalidContent('parameters must be an object');
  for (const [k, p] of Object.entries(params)) {
    if (!/^[A-Za-z0-9_.]+$/.test(k)) throw invalidContent(`parameter name ${k} is not valid`);
    if (p.type !== 'String' && p.type !== 'StringList') throw invalidContent(`parameter ${k}: type ${String(p.type)} is not supported by the lab (String, StringList)`);
    if (p.allowedValues !== undefined && (!Array.isArray(p.allowedValues) || !p.allowedValues.every((x) => typeof x === 'string'))) throw invalidContent(`parameter ${k}: allowedValues must be a list of strings`);
    if (p.allowedPattern !== undefined) {
      try { new RegExp(p.allowedPattern); } catch { throw invalidContent(`parameter ${k}: allowedPattern ${p.allowedPattern} is not a valid regular expression`); }
    }
  }
  if (!Array.isArray(c.mainSteps) || !c.mainSteps.length) throw invalidContent('mainSteps must list at least one step');
  for (const s of c.mainSteps) {
    if (s.action !== 'aws:runShellScript') throw invalidContent(`step ${String(s.name)}: action ${String(s.action)} is not supported by the lab (aws:runShellScript only)`);
    if (typeof s.name !== 'string' || !/^[a-zA-Z0-9_.-]{1,100}$/.test(s.name)) throw invalidContent(`step name ${String(s.name)} is not valid`);
    const rc = s.inputs?.runCommand;
    if (!(typeof rc === 'string' || (Array.isArray(rc) && rc.length && rc.every((x) => typeof x === 'string')))) throw invalidContent(`step ${s.name}: inputs.runCommand must be a string or a list of strings`);
    for (const t of strings(s.inputs)) for (const m of t.matchAll(REF_RE)) {
      if (!(m[1] in params)) throw invalidContent(`step ${s.name} references the undeclared parameter {{ ${m[1]} }}`);
    }
  }
  return { ...c, parameters: params };
}

export class DocumentStore {
  private readonly docs = new Map<string, StoredDocument>();

  constructor(private readonly account: string) {}

  /** A name or an ARN of this account's document → the name. */
  private nameOf(v: unknown, field = 'name'): string {
    const s = str(v, field);
    const m = /^arn:aws:ssm:([a-z0-9-]*):(\d*):document\/(.+)$/.exec(s);
    if (!m) return s;
    if (m[2] !== this.account) throw new AwsError('InvalidDocument', `Document ${s} does not exist (documents shared from other accounts are not modelled by the lab)`);
    return m[3];
  }

  private find(v: unknown): StoredDocument {
    const name = this.nameOf(v);
    const d = this.docs.get(name);
    if (!d) throw new AwsError('InvalidDocument', `Document with name ${name} does not exist.`);
    return d;
  }

  has(name: string): boolean {
    return this.docs.has(name);
  }

  private version(d: StoredDocument, v: unknown): Version {
    const want = v === undefined || v === null || v === '' || v === '$DEFAULT' ? d.defaultVersion : v === '$LATEST' ? d.versions[d.versions.length - 1].version : String(v);
    const x = d.versions.find((y) => y.version === want);
    if (!x) throw new AwsError('InvalidDocumentVersion', `The document version ${String(v)} is not valid or does not exist.`);
    return x;
  }

  private description(d: StoredDocument, v: Version): Json {
    return {
      Hash: v.hash, HashType: 'Sha256', Name: d.name, Owner: this.account, CreatedDate: v.created.getTime() / 1000, Status: 'Active',
      DocumentVersion: v.version, Description: v.content.description ?? '',
      Parameters: Object.entries(v.content.parameters).map(([Name, p]) => ({ Name, Type: p.type, Description: p.description ?? '', ...(p.default !== undefined ? { DefaultValue: String(p.default) } : {}) })),
      PlatformTypes: ['Linux', 'MacOS'], DocumentType: d.documentType, SchemaVersion: v.content.schemaVersion,
      LatestVersion: d.versions[d.versions.length - 1].version, DefaultVersion: d.defaultVersion, DocumentFormat: v.format, Tags: [],
    };
  }

  private newVersion(text: string, format: string, n: number): Version {
    return { version: String(n), text, content: parseContent(text, format), hash: createHash('sha256').update(text).digest('hex'), created: new Date(), format };
  }

  create(body: Json): Json {
    const name = str(body.Name, 'name');
    if (!NAME_RE.test(name)) throw new AwsError('ValidationException', `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$`);
    if (/^(aws|amazon|amzn)/i.test(name)) throw new AwsError('ValidationException', `Document names cannot begin with aws, amazon or amzn: ${name}`);
    const type = String(body.DocumentType ?? 'Command');
    if (type !== 'Command') throw invalidContent(`DocumentType ${type} is not supported by the lab (Command only)`);
    if (this.docs.has(name)) throw new AwsError('DocumentAlreadyExists', `Document with same name ${name} already exists`);
    const v = this.newVersion(str(body.Content, 'content'), String(body.DocumentFormat ?? 'JSON'), 1);
    const d: StoredDocument = { name, documentType: type, versions: [v], defaultVersion: '1', created: v.created };
    this.docs.set(name, d);
    return { DocumentDescription: this.description(d, v) };
  }

  describe(body: Json): Json {
    const d = this.find(body.Name);
    return { Document: this.description(d, this.version(d, body.DocumentVersion)) };
  }

  get(body: Json): Json {
    const d = this.find(body.Name);
    const v = this.version(d, body.DocumentVersion);
    if (body.DocumentFormat !== undefined && body.DocumentFormat !== v.format) throw invalidContent(`the lab returns documents in the format they were created in (${v.format})`);
    return { Name: d.name, CreatedDate: v.created.getTime() / 1000, DocumentVersion: v.version, Status: 'Active', Content: v.text, DocumentType: d.documentType, DocumentFormat: v.format };
  }

  update(body: Json): Json {
    const d = this.find(body.Name);
    const latest = d.versions[d.versions.length - 1];
    if (body.DocumentVersion !== undefined && body.DocumentVersion !== '$LATEST' && String(body.DocumentVersion) !== latest.version) {
      throw new AwsError('InvalidDocumentVersion', `Only the latest version (${latest.version}) of ${d.name} can be updated; got ${String(body.DocumentVersion)}`);
    }
    const text = str(body.Content, 'content');
    if (createHash('sha256').update(text).digest('hex') === latest.hash) throw new AwsError('DuplicateDocumentContent', `The content of the document is the same as its latest version ${latest.version}`);
    const v = this.newVersion(text, String(body.DocumentFormat ?? latest.format), d.versions.length + 1);
    d.versions.push(v);
    return { DocumentDescription: this.description(d, v) };
  }

  updateDefault(body: Json): Json {
    const d = this.find(body.Name);
    const v = this.version(d, str(body.DocumentVersion, 'documentVersion'));
    d.defaultVersion = v.version;
    return { Description: { Name: d.name, DefaultVersion: v.version } };
  }

  /** What SendCommand runs for this document: InvalidDocument / InvalidDocumentVersion / InvalidParameters as SSM answers them. */
  run(body: Json): DocumentRun {
    const name = this.nameOf(body.DocumentName, 'documentName');
    const d = this.docs.get(name);
    if (!d) throw new AwsError('InvalidDocument', `Document ${name} does not exist in your account`);
    const v = this.version(d, body.DocumentVersion);
    if (body.DocumentHash !== undefined && body.DocumentHash !== v.hash) throw new AwsError('InvalidDocument', `The document hash ${String(body.DocumentHash)} does not match version ${v.version} of ${name}`);
    const given = (body.Parameters as Record<string, unknown> | undefined) ?? {};
    const values: Record<string, string[]> = {};
    for (const [k, raw] of Object.entries(given)) {
      const p = v.content.parameters[k];
      if (!p) throw new AwsError('InvalidParameters', `Parameter "${k}" is not defined in document ${name}.`);
      if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'string')) throw new AwsError('InvalidParameters', `Parameter "${k}" must be a list of strings.`);
      if (p.type === 'String' && raw.length !== 1) throw new AwsError('InvalidParameters', `Parameter "${k}" is of type String and takes one value, got ${raw.length}.`);
      values[k] = raw;
    }
    for (const [k, p] of Object.entries(v.content.parameters)) {
      if (!(k in values)) {
        if (p.default === undefined) throw new AwsError('InvalidParameters', `Parameter "${k}" is required by document ${name} and has no default value.`);
        values[k] = Array.isArray(p.default) ? p.default.map(String) : [String(p.default)];
      }
      for (const x of values[k]) {
        if (p.allowedValues && !p.allowedValues.includes(x)) throw new AwsError('InvalidParameters', `Parameter "${k}" has value "${x}" not in {${p.allowedValues.join(', ')}}.`);
        if (p.allowedPattern && !new RegExp(p.allowedPattern).test(x)) throw new AwsError('InvalidParameters', `Parameter "${k}" "${x}" failed to satisfy constraint: Member must satisfy regular expression pattern: ${p.allowedPattern}`);
      }
    }
    const sub = (s: string) => s.replace(REF_RE, (_, k: string) => values[k].join(' '));
    const steps = v.content.mainSteps.map((s): StepPlan => {
      const rc = s.inputs.runCommand as string | string[];
      const script = (Array.isArray(rc) ? rc : [rc]).map(sub).join('\n');
      const t = s.inputs.timeoutSeconds === undefined ? 3600 : Number(sub(String(s.inputs.timeoutSeconds)));
      if (!Number.isInteger(t) || t < 1 || t > 172800) throw new AwsError('InvalidParameters', `step ${s.name}: timeoutSeconds ${String(s.inputs.timeoutSeconds)} is not between 1 and 172800`);
      return { name: s.name, script, timeoutSeconds: t };
    });
    return { documentName: name, documentVersion: v.version, steps, parameters: values };
  }

  /** For the world snapshot: name → default and latest version. */
  summary(): Array<{ name: string; defaultVersion: string; latestVersion: string; hash: string }> {
    return [...this.docs.values()].map((d) => ({ name: d.name, defaultVersion: d.defaultVersion, latestVersion: d.versions[d.versions.length - 1].version, hash: this.version(d, undefined).hash }));
  }
}
