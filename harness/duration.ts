// Durations as scenario files write them: `90s`, `2m`, `1h`, `500ms`, or combined `1m30s`; and the
// one way figures in milliseconds are printed.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest fault, hold or wait a scenario may ask for: above this a timer would overflow (Node fires it at once) and a run would never end. */
export const MAX_DURATION_MS = 6 * 3_600_000;

export function parseDuration(text: string): number {
  const s = String(text).trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) throw new Error(`"${text}" is not a duration (write e.g. 90s, 2m, 1m30s, 500ms)`);
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * UNITS[m[2]];
  return ms;
}

/** A duration as a scenario would write it: `250ms`, `1.5s`, `2m`, `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m${s}s` : `${m}m`;
}

/** A measured figure: `—` when there is none, `250ms` below a second, else `1.5s`. */
export function formatMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return '—';
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** Seconds with one decimal and a space, as the reports print spans: `30.2 s` (`—` when there is none). */
export function formatSeconds(ms: number | undefined | null): string {
  return ms === undefined || ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`;
}
