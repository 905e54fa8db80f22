import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  createBollinger,
  createEma,
  createMacd,
  createRsi,
  createSma,
  createVwap,
  createIndicator,
  DAY_MS,
  type Bar,
  type Indicator,
  rsiFrom,
  sessionOf,
} from '../../../src/power/indicators.js';

// ---------------------------------------------------------------- straightforward references (full recompute)

const closes = (bars: readonly Bar[]) => bars.map((b) => b.c);

function refSma(xs: readonly number[], p: number): (number | null)[] {
  return xs.map((_, i) => {
    if (i + 1 < p) return null;
    let s = 0;
    for (let j = i - p + 1; j <= i; j++) s += xs[j]!;
    return s / p;
  });
}

function refEma(xs: readonly (number | null)[], p: number): (number | null)[] {
  // Skips leading nulls (for the MACD signal), seeds with the SMA of the first p values.
  const out: (number | null)[] = [];
  const a = 2 / (p + 1);
  let seen = 0;
  let seed = 0;
  let ema: number | null = null;
  for (const x of xs) {
    if (x === null) {
      out.push(null);
      continue;
    }
    seen++;
    if (seen < p) {
      seed += x;
      out.push(null);
    } else if (seen === p) {
      ema = (seed + x) / p;
      out.push(ema);
    } else {
      ema = a * x + (1 - a) * ema!;
      out.push(ema);
    }
  }
  return out;
}

function refBollinger(xs: readonly number[], p: number, k: number) {
  return xs.map((_, i) => {
    if (i + 1 < p) return null;
    const w = xs.slice(i - p + 1, i + 1);
    const mean = w.reduce((s, x) => s + x, 0) / p;
    const sd = Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / p);
    return { middle: mean, upper: mean + k * sd, lower: mean - k * sd };
  });
}

function refRsi(xs: readonly number[], p: number): (number | null)[] {
  const out: (number | null)[] = [null];
  let g = 0;
  let l = 0;
  for (let i = 1; i < xs.length; i++) {
    const d = xs[i]! - xs[i - 1]!;
    const up = Math.max(d, 0);
    const down = Math.max(-d, 0);
    if (i < p) {
      g += up;
      l += down;
      out.push(null);
    } else if (i === p) {
      g = (g + up) / p;
      l = (l + down) / p;
      out.push(rsiFrom(g, l));
    } else {
      g = (g * (p - 1) + up) / p;
      l = (l * (p - 1) + down) / p;
      out.push(rsiFrom(g, l));
    }
  }
  return xs.length === 0 ? [] : out;
}

function refMacd(xs: readonly number[], f: number, s: number, sig: number) {
  const ef = refEma(xs, f);
  const es = refEma(xs, s);
  const line = xs.map((_, i) => (ef[i] === null || es[i] === null ? null : ef[i]! - es[i]!));
  const signal = refEma(line, sig);
  return line.map((m, i) =>
    m === null ? null : { macd: m, signal: signal[i] ?? null, histogram: signal[i] == null ? null : m - signal[i]! },
  );
}

function refVwap(bars: readonly Bar[], offset: number): (number | null)[] {
  return bars.map((b, i) => {
    const day = Math.floor((b.t - offset) / DAY_MS);
    let pv = 0;
    let v = 0;
    for (let j = 0; j <= i; j++) {
      const x = bars[j]!;
      if (Math.floor((x.t - offset) / DAY_MS) !== day) continue;
      pv += ((x.h + x.l + x.c) / 3) * x.v;
      v += x.v;
    }
    return v === 0 ? null : pv / v;
  });
}

// ---------------------------------------------------------------- comparison

const TOL = 1e-9;
function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= TOL * Math.max(1, Math.abs(a), Math.abs(b));
}
function same(actual: unknown, expected: unknown): boolean {
  if (actual === null || expected === null || actual === undefined || expected === undefined) return actual === expected;
  if (typeof actual === 'number' && typeof expected === 'number') return close(actual, expected);
  if (typeof actual === 'object' && typeof expected === 'object') {
    const ka = Object.keys(actual as object).sort();
    const kb = Object.keys(expected as object).sort();
    if (ka.join() !== kb.join()) return false;
    return ka.every((k) => same((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]));
  }
  return false;
}
function expectSeries(ind: Indicator<unknown>, bars: readonly Bar[], expected: readonly unknown[]): void {
  const pts = ind.points();
  expect(pts.map((p) => p.t)).toEqual(bars.map((b) => b.t));
  for (let i = 0; i < expected.length; i++) {
    if (!same(pts[i]!.value, expected[i])) {
      expect.fail(`value ${i} of ${expected.length}: got ${JSON.stringify(pts[i]!.value)}, want ${JSON.stringify(expected[i])}`);
    }
  }
}

// ---------------------------------------------------------------- random bar streams

const MIN = 60_000;
/** A tick of the live stream: either a revision of the forming bar or the next bar. */
type Step = { kind: 'revise' | 'next'; c: number; spread: number; v: number; gapMin: number };
const stepArb = fc.record({
  kind: fc.constantFrom<'revise' | 'next'>('revise', 'next', 'next'),
  c: fc.integer({ min: 1, max: 2_000_000 }),
  spread: fc.integer({ min: 0, max: 5_000 }),
  v: fc.integer({ min: 0, max: 1_000_000 }),
  gapMin: fc.integer({ min: 1, max: 400 }), // sometimes crosses day boundaries
});
const startArb = fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }).map((s) => Math.floor(s / 60) * MIN);

function toBar(t: number, s: Step, o: number): Bar {
  return { t, o, h: Math.max(o, s.c) + s.spread, l: Math.max(1, Math.min(o, s.c) - s.spread), c: s.c, v: s.v };
}

interface Case {
  name: string;
  make: () => Indicator<unknown>;
  ref: (bars: readonly Bar[]) => readonly unknown[];
}
const OFFSET = 13.5 * 3_600_000;
const CASES: Case[] = [
  { name: 'SMA 1', make: () => createSma(1), ref: (b) => refSma(closes(b), 1) },
  { name: 'SMA 5', make: () => createSma(5), ref: (b) => refSma(closes(b), 5) },
  { name: 'EMA 1', make: () => createEma(1), ref: (b) => refEma(closes(b), 1) },
  { name: 'EMA 7', make: () => createEma(7), ref: (b) => refEma(closes(b), 7) },
  { name: 'Bollinger 5 2', make: () => createBollinger(5, 2), ref: (b) => refBollinger(closes(b), 5, 2) },
  { name: 'Bollinger 1 2', make: () => createBollinger(1, 2), ref: (b) => refBollinger(closes(b), 1, 2) },
  { name: 'RSI 1', make: () => createRsi(1), ref: (b) => refRsi(closes(b), 1) },
  { name: 'RSI 6', make: () => createRsi(6), ref: (b) => refRsi(closes(b), 6) },
  { name: 'MACD 3 6 4', make: () => createMacd(3, 6, 4), ref: (b) => refMacd(closes(b), 3, 6, 4) },
  { name: 'VWAP UTC', make: () => createVwap(), ref: (b) => refVwap(b, 0) },
  { name: 'VWAP 13:30', make: () => createVwap(OFFSET), ref: (b) => refVwap(b, OFFSET) },
];

describe.each(CASES)('$name matches a full recompute', ({ make, ref }) => {
  it('after every live tick (revisions of the last bar and new bars)', () => {
    fc.assert(
      fc.property(startArb, fc.array(stepArb, { minLength: 1, maxLength: 80 }), (t0, steps) => {
        const ind = make();
        const bars: Bar[] = [];
        let t = t0;
        for (const s of steps) {
          if (s.kind === 'revise' && bars.length > 0) {
            const prev = bars[bars.length - 1]!;
            bars[bars.length - 1] = toBar(prev.t, s, prev.o);
            expect(ind.update(bars[bars.length - 1]!)).toBe('replaced');
          } else {
            t = bars.length === 0 ? t : t + s.gapMin * MIN;
            bars.push(toBar(t, s, bars.length === 0 ? s.c : bars[bars.length - 1]!.c));
            expect(ind.update(bars[bars.length - 1]!)).toBe('appended');
          }
          // The latest value after each tick, then the whole series at the end.
          const want = ref(bars);
          expect(same(ind.last()!.value, want[want.length - 1])).toBe(true);
        }
        expectSeries(ind, bars, ref(bars));
      }),
      { numRuns: 60 },
    );
  });

  it('init with history then prepending older history equals init with everything', () => {
    fc.assert(
      fc.property(startArb, fc.array(stepArb, { minLength: 2, maxLength: 60 }), fc.nat(), (t0, steps, cut) => {
        let t = t0;
        const bars = steps.map((s, i) => {
          t += i === 0 ? 0 : s.gapMin * MIN;
          return toBar(t, s, s.c);
        });
        const k = 1 + (cut % (bars.length - 1));
        const ind = make();
        ind.init(bars.slice(k));
        ind.prepend(bars.slice(0, k));
        expectSeries(ind, bars, ref(bars));
        // And live updates keep working after a prepend.
        const next = toBar(t + MIN, steps[0]!, bars[bars.length - 1]!.c);
        expect(ind.update(next)).toBe('appended');
        expectSeries(ind, [...bars, next], ref([...bars, next]));
      }),
      { numRuns: 40 },
    );
  });
});

describe('indicator bookkeeping', () => {
  const bar = (t: number, c: number, v = 10): Bar => ({ t, o: c, h: c, l: c, c, v });

  it('SMA of 3 by hand, including a revised last bar', () => {
    const sma = createSma(3);
    sma.init([bar(1, 10), bar(2, 20)]);
    expect(sma.points().map((p) => p.value)).toEqual([null, null]);
    sma.update(bar(3, 30));
    expect(sma.last()).toEqual({ t: 3, value: 20 });
    sma.update(bar(3, 60)); // the forming bar moved
    expect(sma.last()).toEqual({ t: 3, value: 30 });
    sma.update(bar(4, 0));
    expect(sma.points().map((p) => p.value)).toEqual([null, null, 30, 80 / 3]);
  });

  it('a correction of an older bar recomputes and is reported', () => {
    const sma = createSma(2);
    sma.init([bar(1, 10), bar(2, 20), bar(3, 30)]);
    expect(sma.update(bar(2, 40))).toBe('recomputed');
    expect(sma.points().map((p) => p.value)).toEqual([null, 25, 35]);
  });

  it('init drops duplicate times (last wins) and sorts', () => {
    const sma = createSma(1);
    sma.init([bar(3, 30), bar(1, 10), bar(1, 11)]);
    expect(sma.points()).toEqual([
      { t: 1, value: 11 },
      { t: 3, value: 30 },
    ]);
  });

  it('prepend keeps the loaded bar when the older history overlaps it', () => {
    const sma = createSma(1);
    sma.init([bar(2, 20), bar(3, 30)]);
    sma.prepend([bar(1, 10), bar(2, 999)]);
    expect(sma.points().map((p) => p.value)).toEqual([10, 20, 30]);
  });

  it('VWAP resets at the session boundary, not before', () => {
    const off = 13.5 * 3_600_000;
    const day = Date.UTC(2026, 0, 5);
    const vwap = createVwap(off);
    vwap.init([
      { t: day + off - 2 * MIN, o: 100, h: 100, l: 100, c: 100, v: 1 },
      { t: day + off - MIN, o: 200, h: 200, l: 200, c: 200, v: 1 },
      { t: day + off, o: 400, h: 400, l: 400, c: 400, v: 3 },
    ]);
    expect(vwap.points().map((p) => p.value)).toEqual([100, 150, 400]);
    expect(sessionOf(day + off, off) - sessionOf(day + off - 1, off)).toBe(1);
  });

  it('VWAP is null until the session has volume', () => {
    const vwap = createVwap();
    vwap.init([bar(DAY_MS, 100, 0)]);
    expect(vwap.last()!.value).toBeNull();
    vwap.update(bar(DAY_MS + MIN, 200, 2));
    expect(vwap.last()!.value).toBe(200);
  });

  it('RSI is 100 with only gains, 50 with no change, 0 with only losses', () => {
    const up = createRsi(2);
    up.init([bar(1, 1), bar(2, 2), bar(3, 3)]);
    expect(up.last()!.value).toBe(100);
    const flat = createRsi(2);
    flat.init([bar(1, 5), bar(2, 5), bar(3, 5)]);
    expect(flat.last()!.value).toBe(50);
    const down = createRsi(2);
    down.init([bar(1, 3), bar(2, 2), bar(3, 1)]);
    expect(down.last()!.value).toBe(0);
  });

  it('Bollinger stays exact at large prices (no cancellation)', () => {
    const bb = createBollinger(3, 2);
    const base = 9_000_000_000; // large minor-unit prices
    bb.init([bar(1, base), bar(2, base + 1), bar(3, base + 2)]);
    const v = bb.last()!.value!;
    const sd = Math.sqrt(2 / 3);
    expect(v.middle).toBe(base + 1);
    // A naive sum(x²) − n·mean² at these magnitudes loses every digit of the variance.
    expect(v.upper).toBe(base + 1 + 2 * sd);
    expect(v.lower).toBe(base + 1 - 2 * sd);
  });

  it('rejects invalid parameters up front', () => {
    expect(() => createSma(0)).toThrow(RangeError);
    expect(() => createEma(2.5)).toThrow(RangeError);
    expect(() => createBollinger(20, -1)).toThrow(RangeError);
    expect(() => createMacd(26, 12, 9)).toThrow(RangeError);
    expect(() => createRsi(-3)).toThrow(RangeError);
  });

  it('createIndicator builds the kind the spec names', () => {
    const { indicator } = createIndicator({ kind: 'macd', fast: 2, slow: 3, signal: 2 });
    indicator.init([bar(1, 1), bar(2, 2), bar(3, 4), bar(4, 8)]);
    expect(indicator.points()[3]!.value).toMatchObject({ macd: expect.any(Number), signal: expect.any(Number) });
  });
});
