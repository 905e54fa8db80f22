/**
 * Number formatting for the trading UI. Prices and money are integers in minor units (cents): they are
 * formatted with integer arithmetic only (remainder and exact division), never by dividing into a float,
 * so 0.1 + 0.2 style errors cannot reach a trader's screen. Parsing turns typed text back into integer
 * minor units and refuses anything that would need rounding.
 */

/** Minor units per major unit (cents per dollar) and the digits after the decimal point. */
export const MINOR_PER_MAJOR = 100;
export const MINOR_DIGITS = 2;

const group = (digits: string): string => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Splits a safe integer into sign, whole major units and the minor remainder, exactly. */
function split(minor: number, per: number): { neg: boolean; whole: number; frac: number } {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`Not a safe integer: ${minor}`);
  const neg = minor < 0;
  const abs = neg ? -minor : minor;
  const frac = abs % per;
  return { neg, whole: (abs - frac) / per, frac };
}

function fixed(minor: number, digits: number, grouping: boolean): { neg: boolean; text: string } {
  const per = 10 ** digits;
  const { neg, whole, frac } = split(minor, per);
  const w = grouping ? group(String(whole)) : String(whole);
  return { neg, text: digits === 0 ? w : `${w}.${String(frac).padStart(digits, '0')}` };
}

/** A price in minor units: 10050 -> "100.50". Null (no price) -> "—". */
export function formatPrice(minor: number | null | undefined): string {
  if (minor === null || minor === undefined) return '—';
  const { neg, text } = fixed(minor, MINOR_DIGITS, true);
  return neg ? `-${text}` : text;
}

/** A signed price difference: +0.50 / -1.25 / 0.00. */
export function formatPriceChange(minor: number): string {
  const { neg, text } = fixed(minor, MINOR_DIGITS, true);
  return minor === 0 ? text : `${neg ? '-' : '+'}${text}`;
}

export interface MoneyOptions {
  /** Show a + for positive amounts (P&L). */
  sign?: boolean;
  /** Currency symbol prefix. */
  symbol?: string;
}

/** Money in minor units: 123456789 -> "1,234,567.89"; -5 -> "-0.05"; with sign: "+12.00". */
export function formatMoney(minor: number, o: MoneyOptions = {}): string {
  const { neg, text } = fixed(minor, MINOR_DIGITS, true);
  const sym = o.symbol ?? '';
  if (neg) return `-${sym}${text}`;
  if (o.sign === true && minor > 0) return `+${sym}${text}`;
  return `${sym}${text}`;
}

/** Basis points as a percentage: 123 -> "+1.23%", -5 -> "-0.05%", 0 -> "0.00%". */
export function formatBps(bps: number): string {
  const { neg, text } = fixed(bps, 2, true);
  return `${bps === 0 ? '' : neg ? '-' : '+'}${text}%`;
}

/** Whole shares with grouping: 12500 -> "12,500"; signed when asked. */
export function formatQty(qty: number, sign = false): string {
  const { neg, text } = fixed(qty, 0, true);
  if (neg) return `-${text}`;
  return sign && qty > 0 ? `+${text}` : text;
}

/** Compact volume: 950 -> "950", 12_345 -> "12.3K", 4_560_000 -> "4.56M" (truncated, not rounded up). */
export function formatVolume(v: number): string {
  if (!Number.isSafeInteger(v) || v < 0) return '—';
  const unit = v >= 1e9 ? { d: 1e9, s: 'B' } : v >= 1e6 ? { d: 1e6, s: 'M' } : v >= 1e4 ? { d: 1e3, s: 'K' } : undefined;
  if (unit === undefined) return group(String(v));
  const whole = (v - (v % unit.d)) / unit.d;
  const digits = whole >= 100 ? 0 : whole >= 10 ? 1 : 2;
  const scale = 10 ** digits;
  const scaled = (v - (v % (unit.d / scale))) / (unit.d / scale); // truncated to `digits` decimals
  const f = scaled % scale;
  return digits === 0 ? `${whole}${unit.s}` : `${whole}.${String(f).padStart(digits, '0')}${unit.s}`;
}

/**
 * A display-only average price (minor units, a fraction): shown to 2 decimals when exact to the cent, else to 4.
 * The protocol marks these values as display-only; nothing is computed from the result.
 */
export function formatAvgPrice(avgMinor: number): string {
  if (!Number.isFinite(avgMinor)) return '—';
  const hundredths = Math.round(avgMinor * 100); // hundredths of a minor unit
  if (hundredths % 100 === 0) return formatPrice(hundredths / 100);
  const { neg, text } = fixed(hundredths, MINOR_DIGITS + 2, true);
  return (neg ? '-' : '') + text.replace(/0+$/, '');
}

export type ParseResult = { ok: true; value: number } | { ok: false; error: string };

/**
 * Typed whole digits without their thousands separators, or undefined when a comma is anywhere but
 * between groups of three ("1,500" and "12,345,678"; not "1,5", "0,50", "12,34,5", ",100" or "0,500"):
 * a decimal comma or a slip of the finger must not turn into a thousandfold value.
 */
function ungroup(digits: string): string | undefined {
  if (!digits.includes(',')) return digits;
  return /^[1-9]\d{0,2}(?:,\d{3})+$/.test(digits) ? digits.replace(/,/g, '') : undefined;
}

/**
 * Parses typed price text into integer minor units without floats: "100.5" -> 10050, "1,000" -> 100000.
 * More than two decimals, signs, exponents, commas other than thousands grouping and junk are refused.
 */
export function parsePrice(text: string): ParseResult {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'Enter a price' };
  const m = /^([\d,]*)(?:\.(\d*))?$/.exec(t);
  const digits = m === null ? undefined : ungroup(m[1]!);
  if (m === null || digits === undefined || (digits === '' && (m[2] ?? '') === '')) return { ok: false, error: 'Not a number' };
  const whole = digits === '' ? '0' : digits;
  const frac = m[2] ?? '';
  if (frac.length > MINOR_DIGITS) {
    if (/^0*$/.test(frac.slice(MINOR_DIGITS))) return parsePrice(`${whole}.${frac.slice(0, MINOR_DIGITS)}`);
    return { ok: false, error: `At most ${MINOR_DIGITS} decimals` };
  }
  const value = Number(whole) * MINOR_PER_MAJOR + Number(frac.padEnd(MINOR_DIGITS, '0'));
  if (!Number.isSafeInteger(value)) return { ok: false, error: 'Too large' };
  return { ok: true, value };
}

/** Parses a whole number of shares: "1,500" -> 1500; decimals, signs and commas other than grouping are refused. */
export function parseQty(text: string): ParseResult {
  const typed = text.trim();
  if (typed === '') return { ok: false, error: 'Enter a quantity' };
  const t = ungroup(typed);
  if (t === undefined || !/^\d+$/.test(t)) return { ok: false, error: 'Whole shares only' };
  const value = Number(t);
  if (!Number.isSafeInteger(value)) return { ok: false, error: 'Too large' };
  return { ok: true, value };
}

/** A price as input text (no grouping): 10050 -> "100.50". */
export function priceInput(minor: number): string {
  const { neg, text } = fixed(minor, MINOR_DIGITS, false);
  return neg ? `-${text}` : text;
}

/** Exact product of two safe integers as a safe integer, or undefined when it would not be exact. */
export function mulExact(a: number, b: number): number | undefined {
  const p = a * b;
  return Number.isSafeInteger(p) ? p : undefined;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
/** Local wall-clock time of a timestamp: "14:03:27". */
export function formatTime(ts: number): string {
  const d = new Date(ts);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}
