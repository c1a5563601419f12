// Wire-format helpers for the lab's AWS endpoint: the Query protocol's flattened parameters
// (EC2 `InstanceId.1`, Auto Scaling `InstanceIds.member.1`), XML responses, and AWS errors.
import { randomUUID } from 'node:crypto';

export class AwsError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

export type QueryParams = Map<string, string>;

export function parseQuery(body: string): QueryParams {
  return new Map(new URLSearchParams(body).entries());
}

/** `Prefix.1`, `Prefix.2`, … (EC2 lists) or `Prefix.member.1`, … (Query lists), in index order. */
export function listParam(p: QueryParams, prefix: string, member = false): string[] {
  const out: Array<[number, string]> = [];
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.${member ? 'member\\.' : ''}(\\d+)$`);
  for (const [k, v] of p) {
    const m = re.exec(k);
    if (m) out.push([Number(m[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** Structured list: `Filter.1.Name`, `Filter.1.Value.1` → [{Name, Value: {1: …}}] as nested records. */
export function structList(p: QueryParams, prefix: string, member = false): Array<Map<string, string>> {
  const groups = new Map<number, Map<string, string>>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.${member ? 'member\\.' : ''}(\\d+)\\.(.+)$`);
  for (const [k, v] of p) {
    const m = re.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    if (!groups.has(i)) groups.set(i, new Map());
    groups.get(i)!.set(m[2], v);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

export interface Filter { name: string; values: string[] }

export function ec2Filters(p: QueryParams): Filter[] {
  return structList(p, 'Filter').map((g) => ({ name: g.get('Name') ?? '', values: listParam(g, 'Value') }));
}

export function requestId(): string {
  return randomUUID();
}

// ---- XML ----
export type XmlValue = string | number | boolean | null | undefined | XmlNode | XmlValue[];
export interface XmlNode { [k: string]: XmlValue }

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Arrays become `<name><item>…</item></name>` (EC2) or `<name><member>…</member></name>` (Query). */
export function xml(value: XmlValue, listTag: 'item' | 'member'): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => `<${listTag}>${xml(v, listTag)}</${listTag}>`).join('');
  if (typeof value === 'object') {
    let s = '';
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      s += `<${k}>${xml(v, listTag)}</${k}>`;
    }
    return s;
  }
  return esc(String(value));
}

export const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
export const ASG_NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

export function ec2Response(action: string, body: XmlNode, reqId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NS}"><requestId>${reqId}</requestId>${xml(body, 'item')}</${action}Response>`;
}

export function ec2Error(err: AwsError, reqId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error></Errors><RequestID>${reqId}</RequestID></Response>`;
}

export function queryResponse(action: string, result: XmlNode | undefined, reqId: string): string {
  const inner = result ? `<${action}Result>${xml(result, 'member')}</${action}Result>` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${ASG_NS}">${inner}<ResponseMetadata><RequestId>${reqId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function queryError(err: AwsError, reqId: string): string {
  const type = err.status >= 500 ? 'Receiver' : 'Sender';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${ASG_NS}"><Error><Type>${type}</Type><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error><RequestId>${reqId}</RequestId></ErrorResponse>`;
}

export function isoNoMillis(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, '.000Z');
}
