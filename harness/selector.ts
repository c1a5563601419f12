// Kubernetes label selectors, one grammar for the whole harness: as the apiserver parses them
// (k8s.io/apimachinery labels.Parse): `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
// `a>1`, `a<1`, comma-separated. Node selectors take all of it; workload selectors only equality
// terms (`isEqualitySelector`), because a workload is matched to its Deployments by template labels.

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const NODEGROUP_LABEL = 'eks.amazonaws.com/nodegroup';

const LABEL_NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_KEY = `(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?${LABEL_NAME}`;
export const LABEL_VALUE_RE = new RegExp(`^${LABEL_NAME}$`);

export type Requirement =
  | { key: string; op: '=' | '!='; values: [string] }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists'; values: [] }
  | { key: string; op: '>' | '<'; values: [string] };

const TERM = new RegExp(
  `^\\s*(?:!\\s*(?<not>${LABEL_KEY})` +
  `|(?<key>${LABEL_KEY})(?:\\s*(?<eq>==?|!=)\\s*(?<val>${LABEL_NAME})?` +
  `|\\s+(?<set>in|notin)\\s*\\(\\s*(?<vals>${LABEL_NAME}(?:\\s*,\\s*${LABEL_NAME})*)\\s*\\)` +
  `|\\s*(?<cmp>[<>])\\s*(?<num>\\d+))?)\\s*$`,
);

/** Splits on commas outside parentheses; undefined when the parentheses do not balance (or nest). */
function terms(s: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (depth < 0 || depth > 1) return undefined;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  parts.push(cur);
  return depth === 0 ? parts : undefined;
}

/** The requirements of a selector, or undefined when it is not one. */
export function parseLabelSelector(s: string): Requirement[] | undefined {
  const ts = terms(s);
  if (!ts) return undefined;
  const out: Requirement[] = [];
  for (const t of ts) {
    const g = TERM.exec(t)?.groups;
    if (!g) return undefined;
    if (g.not) out.push({ key: g.not, op: '!exists', values: [] });
    else if (g.eq) out.push({ key: g.key, op: g.eq === '!=' ? '!=' : '=', values: [g.val ?? ''] });
    else if (g.set) out.push({ key: g.key, op: g.set as 'in' | 'notin', values: g.vals.split(',').map((v) => v.trim()) });
    else if (g.cmp) out.push({ key: g.key, op: g.cmp as '>' | '<', values: [g.num] });
    else out.push({ key: g.key, op: 'exists', values: [] });
  }
  return out;
}

/** Whether `s` is a Kubernetes label selector (equality, set-based, exists, `!key`, `key>N`). */
export function isLabelSelector(s: string): boolean {
  return parseLabelSelector(s) !== undefined;
}

/** Whether `s` is a selector of equality terms only (`app=demo,tier==web`). */
export function isEqualitySelector(s: string): boolean {
  if (!s.trim() || /\s/.test(s)) return false;
  return parseLabelSelector(s)?.every((x) => x.op === '=') ?? false;
}

/** Whether labels satisfy every requirement (the apiserver's semantics). */
export function matchesLabels(labels: Record<string, string> | undefined, reqs: Requirement[]): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=': return has && v === r.values[0];
      case '!=': return !has || v !== r.values[0];
      case 'in': return has && r.values.includes(v);
      case 'notin': return !has || !r.values.includes(v);
      case 'exists': return has;
      case '!exists': return !has;
      case '>': return has && /^\d+$/.test(v) && Number(v) > Number(r.values[0]);
      case '<': return has && /^\d+$/.test(v) && Number(v) < Number(r.values[0]);
    }
  });
}

/** Parses a selector for matching; throws naming it when it is not one. */
export function selectorOrThrow(s: string): Requirement[] {
  const r = parseLabelSelector(s);
  if (!r) throw new Error(`"${s}" is not a Kubernetes label selector`);
  return r;
}
