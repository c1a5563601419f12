// No secrets in logs or reports: credentials, tokens and signed-URL parameters are replaced before
// anything is written. Values come from the environment (anything named like a secret) plus patterns.
export const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_KEY)/i;
const PATTERNS: RegExp[] = [
  /\b(AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\b/g,
  /(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"'<>]+/gi,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g,
  /([?&](?:token|sig|signature|access_token|password)=)[^&\s"'<>]+/gi,
];

export class Redactor {
  private readonly values: string[];
  constructor(env: Record<string, string | undefined> = process.env, extra: string[] = []) {
    const fromEnv = Object.entries(env).filter(([k, v]) => SECRET_NAME.test(k) && typeof v === 'string' && v.length >= 6).map(([, v]) => v!);
    this.values = [...new Set([...fromEnv, ...extra.filter((x) => x.length >= 6)])].sort((a, b) => b.length - a.length);
  }

  text(s: string): string {
    let out = s;
    for (const v of this.values) out = out.split(v).join('[REDACTED]');
    for (const p of PATTERNS) out = out.replace(p, (m, pre: string | undefined) => (pre && m.startsWith(pre) ? `${pre}[REDACTED]` : '[REDACTED]'));
    return out;
  }

  /**
   * Deep copy with every string (keys too) redacted before anything is serialised: a secret that
   * holds quotes or backslashes is escaped by JSON.stringify and would no longer match in the text.
   */
  value<T>(v: T): T {
    const walk = (x: unknown): unknown => {
      if (typeof x === 'string') return this.text(x);
      if (Array.isArray(x)) return x.map(walk);
      if (x && typeof x === 'object') {
        if (typeof (x as { toJSON?: unknown }).toJSON === 'function') return walk((x as { toJSON: () => unknown }).toJSON());
        return Object.fromEntries(Object.entries(x).map(([k, y]) => [this.text(k), walk(y)]));
      }
      return x;
    };
    return walk(v) as T;
  }
}
