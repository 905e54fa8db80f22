/**
 * OHLCV bars in CSV, for replay. Pure text in, typed bars out (no Date, no float parsing of prices).
 *
 * Format (see also engine/sim/README.md):
 *
 *   # lines starting with '#' are comments; blank lines are ignored
 *   timestamp,open,high,low,close,volume          optional header (these names in this order, any case;
 *                                                 the first may also be time, date or datetime)
 *   2024-03-04T14:30:00Z,101.25,101.50,101.10,101.40,12500
 *   1709562660000,101.40,101.45,101.02,101.05,9800
 *
 * - timestamp: the bar's start. ISO-8601 `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z` or an
 *   offset `±HH:MM` (a space may replace the `T`; without a zone the time is read as UTC), or an integer
 *   count of milliseconds since 1970-01-01T00:00:00Z. Timestamps must strictly increase.
 * - open, high, low, close: decimals in currency units (`101.25`, `7`, `0.5`), converted exactly to integer
 *   minor units (cents by default: `minorDigits` 2). More decimals than the minor unit are an error unless
 *   they are zeros, or `round: true` is given (then rounded half away from zero). Must be > 0, with
 *   low <= open, close <= high.
 * - volume: a whole number of shares >= 0 (`12500`, `12500.0`).
 * - Fields may be wrapped in double quotes; spaces around fields are ignored; line ends are LF or CRLF; a
 *   UTF-8 byte-order mark is ignored.
 *
 * Any bad line makes the whole parse fail with a CsvError listing every problem (line number, column and a
 * stable code), so a user can fix a file in one go.
 */
import type { Candle, Timestamp } from '../core/types.js';
import { MS_PER_DAY } from './calendar.js';

export type CsvIssueCode =
  | 'EMPTY'
  | 'BAD_HEADER'
  | 'FIELD_COUNT'
  | 'BAD_TIMESTAMP'
  | 'BAD_NUMBER'
  | 'TOO_PRECISE'
  | 'OUT_OF_RANGE'
  | 'INCONSISTENT_OHLC'
  | 'NOT_INCREASING';

export interface CsvIssue {
  /** 1-based line number in the text. */
  line: number;
  /** Column name, when the problem is in one field. */
  column?: 'timestamp' | 'open' | 'high' | 'low' | 'close' | 'volume';
  code: CsvIssueCode;
  message: string;
}

export class CsvError extends Error {
  override readonly name = 'CsvError';
  constructor(readonly issues: CsvIssue[]) {
    const head = issues
      .slice(0, 5)
      .map((i) => `line ${i.line}${i.column ? ` (${i.column})` : ''}: ${i.message}`)
      .join('; ');
    super(issues.length > 5 ? `${head}; and ${issues.length - 5} more` : head);
  }
  /** The first problem. */
  get first(): CsvIssue {
    return this.issues[0]!;
  }
}

export interface CsvOptions {
  /** Decimal digits of the minor unit (2: cents). Default 2. */
  minorDigits?: number;
  /** Round prices with more decimals than the minor unit instead of rejecting them. Default false. */
  round?: boolean;
  /** Stop collecting after this many issues. Default 100. */
  maxIssues?: number;
}

const COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;
/** Accepted names of the first column in a header. */
const TIME_NAMES = ['timestamp', 'time', 'date', 'datetime'];
type Column = (typeof COLUMNS)[number];

/** Parses OHLCV CSV text into bars (Candle: t, o, h, l, c in minor units, v in shares). Throws CsvError. */
export function parseOhlcvCsv(text: string, opts: CsvOptions = {}): Candle[] {
  const digits = opts.minorDigits ?? 2;
  if (!Number.isInteger(digits) || digits < 0 || digits > 8) throw new RangeError('minorDigits must be 0-8');
  const maxIssues = opts.maxIssues ?? 100;
  const issues: CsvIssue[] = [];
  const bars: Candle[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = src.split('\n');
  let sawData = false;
  let sawHeaderOrData = false;
  let prevT = Number.NEGATIVE_INFINITY;
  for (let li = 0; li < lines.length && issues.length < maxIssues; li++) {
    const lineNo = li + 1;
    let line = lines[li]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(',').map(unquote);
    // the first line is a header when none of its fields is a number
    if (!sawHeaderOrData && fields.every((f) => !/^[+-]?(\d|\.\d)/.test(f))) {
      sawHeaderOrData = true;
      const names = fields.map((f) => f.toLowerCase());
      if (names.length !== 6 || names.some((n, i) => (i === 0 ? !TIME_NAMES.includes(n) : n !== COLUMNS[i])))
        issues.push({ line: lineNo, code: 'BAD_HEADER', message: `Header must be ${COLUMNS.join(',')}; got ${fields.join(',')}` });
      continue;
    }
    sawHeaderOrData = true;
    if (fields.length !== 6) {
      issues.push({ line: lineNo, code: 'FIELD_COUNT', message: `Expected 6 fields (${COLUMNS.join(',')}), got ${fields.length}` });
      continue;
    }
    sawData = true;
    const before = issues.length;
    const bad = (column: Column, code: CsvIssueCode, message: string): void => {
      issues.push({ line: lineNo, column, code, message });
    };
    const t = parseTimestamp(fields[0]!);
    if (typeof t === 'string') bad('timestamp', 'BAD_TIMESTAMP', t);
    const px: number[] = [];
    for (let k = 1; k <= 4; k++) {
      const col = COLUMNS[k]!;
      const r = parseDecimal(fields[k]!, digits, opts.round === true);
      if (typeof r === 'string') bad(col, r.startsWith('More') ? 'TOO_PRECISE' : r.startsWith('Number is too large') ? 'OUT_OF_RANGE' : 'BAD_NUMBER', `${r}: "${fields[k]}"`);
      else if (r <= 0) bad(col, 'OUT_OF_RANGE', `Price must be positive: "${fields[k]}"`);
      else if (!Number.isSafeInteger(r) || r > 1e11) bad(col, 'OUT_OF_RANGE', `Price is too large: "${fields[k]}"`);
      else px.push(r);
    }
    const v = parseDecimal(fields[5]!, 0, false);
    if (typeof v === 'string') bad('volume', v.startsWith('Number is too large') ? 'OUT_OF_RANGE' : 'BAD_NUMBER', `Volume must be a whole number >= 0: "${fields[5]}"`);
    else if (!Number.isSafeInteger(v) || v > 1e12) bad('volume', 'OUT_OF_RANGE', `Volume is too large: "${fields[5]}"`);
    if (issues.length > before) continue;
    const [o, h, l, c] = px as [number, number, number, number];
    if (l > h || o > h || c > h || o < l || c < l) {
      issues.push({ line: lineNo, code: 'INCONSISTENT_OHLC', message: `Need low <= open, close <= high; got o ${fields[1]} h ${fields[2]} l ${fields[3]} c ${fields[4]}` });
      continue;
    }
    const ts = t as number;
    if (ts <= prevT) {
      issues.push({ line: lineNo, column: 'timestamp', code: 'NOT_INCREASING', message: `Timestamp ${fields[0]} is not after the previous bar's` });
      continue;
    }
    prevT = ts;
    bars.push({ t: ts, o, h, l, c, v: v as number });
  }
  if (issues.length === 0 && !sawData) issues.push({ line: 1, code: 'EMPTY', message: 'No bars in the file' });
  if (issues.length > 0) throw new CsvError(issues);
  return bars;
}

function unquote(f: string): string {
  const s = f.trim();
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).trim() : s;
}

/**
 * Exact decimal → integer scaled by 10^digits. Returns an error message (string) for anything that is not
 * a plain non-negative decimal, or that has more nonzero decimals than `digits` (unless `round`).
 */
export function parseDecimal(s: string, digits: number, round: boolean): number | string {
  const m = /^\+?(\d+)(?:\.(\d*))?$/.exec(s) ?? /^\+?()\.(\d+)$/.exec(s);
  if (m === null) return 'Not a decimal number';
  const int = m[1]!;
  const frac = m[2] ?? '';
  let keep = frac.slice(0, digits);
  const rest = frac.slice(digits);
  let up = false;
  if (/[1-9]/.test(rest)) {
    if (!round) return `More than ${digits} decimal places`;
    up = rest.charCodeAt(0) >= 53; // '5'..'9': half away from zero
  }
  keep = keep.padEnd(digits, '0');
  const digitsAll = (int + keep).replace(/^0+(?=\d)/, '');
  if (digitsAll.length > 15) return 'Number is too large';
  const n = Number(digitsAll);
  return up ? n + 1 : n;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The civil date of a day number. */
export function civilFromDays(z: number): { y: number; m: number; d: number } {
  const zz = z + 719_468;
  const era = Math.floor(zz / 146_097);
  const doe = zz - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Epoch ms of an ISO-8601 timestamp or an integer of epoch ms; an error message (string) otherwise. */
export function parseTimestamp(s: string): Timestamp | string {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n > 8.64e15) return `Epoch milliseconds out of range: "${s}"`;
    return n;
  }
  const m = ISO_RE.exec(s);
  if (m === null) return `Not an ISO-8601 date-time or epoch milliseconds: "${s}"`;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const hh = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const ss = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return `No such date: "${s}"`;
  if (hh > 23 || mi > 59 || ss > 59) return `No such time of day: "${s}"`;
  if (m[4] === undefined && m[8] !== undefined) return `A date without a time cannot carry a zone: "${s}"`;
  let off = 0;
  const z = m[8];
  if (z !== undefined && z !== 'Z') {
    const sign = z[0] === '-' ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 23 || om > 59) return `Bad zone offset: "${s}"`;
    off = sign * (oh * 60 + om) * 60_000;
  }
  return daysFromCivil(y, mo, d) * MS_PER_DAY + ((hh * 60 + mi) * 60 + ss) * 1000 + ms - off;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** `YYYY-MM-DDTHH:MM:SSZ` (with `.fff` when the milliseconds are not zero). */
export function formatIso(ts: Timestamp): string {
  const day = Math.floor(ts / MS_PER_DAY);
  const { y, m, d } = civilFromDays(day);
  let r = ts - day * MS_PER_DAY;
  const ms = r % 1000;
  r = (r - ms) / 1000;
  const ss = r % 60;
  r = (r - ss) / 60;
  const mi = r % 60;
  const hh = (r - mi) / 60;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const frac = ms === 0 ? '' : `.${String(ms).padStart(3, '0')}`;
  return `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}T${p2(hh)}:${p2(mi)}:${p2(ss)}${frac}Z`;
}

/** An integer of minor units as a decimal string (12345 → "123.45" with 2 digits). */
export function formatDecimal(n: number, digits = 2): string {
  if (digits === 0) return String(n);
  const neg = n < 0;
  const s = String(Math.abs(n)).padStart(digits + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** Bars as CSV text in the format parseOhlcvCsv reads (with a header line). */
export function formatOhlcvCsv(bars: readonly Candle[], opts: { timestamps?: 'iso' | 'ms'; minorDigits?: number; comment?: string } = {}): string {
  const digits = opts.minorDigits ?? 2;
  const out: string[] = [];
  if (opts.comment !== undefined) for (const l of opts.comment.split('\n')) out.push(`# ${l}`);
  out.push(COLUMNS.join(','));
  for (const b of bars) {
    const t = opts.timestamps === 'ms' ? String(b.t) : formatIso(b.t);
    out.push([t, formatDecimal(b.o, digits), formatDecimal(b.h, digits), formatDecimal(b.l, digits), formatDecimal(b.c, digits), String(b.v)].join(','));
  }
  return out.join('\n') + '\n';
}
