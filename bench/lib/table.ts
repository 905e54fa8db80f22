/** Plain-text tables and number formatting for bench reports. */

export type Align = 'left' | 'right';

/** Renders rows under headers with columns padded to width; numeric-looking columns align right by default. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const al = headers.map((_, i) => align?.[i] ?? (i === 0 ? 'left' : 'right'));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (al[i] === 'left' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), sep, ...rows.map((r) => line(headers.map((_, i) => r[i] ?? '')))].join('\n');
}

/** 1234567 -> "1.23M", 45678 -> "45.7k". */
export function fmtCount(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

/** Microseconds with sensible precision: 0.412, 3.25, 48.1, 1234. */
export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us < 1) return us.toFixed(3);
  if (us < 10) return us.toFixed(2);
  if (us < 100) return us.toFixed(1);
  return us.toFixed(0);
}

/** Rounds to `digits` decimals (for JSON output). */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
