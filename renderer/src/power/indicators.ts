/**
 * Chart indicators computed incrementally.
 *
 * A live chart receives the bar that is still forming many times a second (same `t`, new o/h/l/c/v) and,
 * once a minute or so, a bar with a new `t`. Every indicator here splits its state in two:
 *
 * - the committed state: everything up to and including the second-to-last bar, advanced once per bar;
 * - the tentative value of the last bar, computed from the committed state and that bar without changing it.
 *
 * So an update of the forming bar is one `preview` (O(1)), and a new bar is one `commit` of the previous
 * last bar plus one `preview` (O(1)). Only history that arrives out of order (older bars prepended, a bar
 * before the last one corrected) recomputes the series from the start.
 *
 * Prices come in as integer minor units. Sums of prices are kept as integers where that keeps them exact;
 * outputs are floats: indicators are for display, never money.
 */
import type { Candle } from '../../../engine/protocol/index.js';

/** A bar as the protocol sends it (`candles.get`, the `candles` channel): integer prices, integer volume. */
export type Bar = Candle;

/**
 * The incremental core of an indicator. `preview(bar)` is the value the indicator would have if `bar` were
 * the next bar, with no side effect; `commit(bar)` makes `bar` part of the committed history.
 */
export interface Kernel<V> {
  preview(bar: Bar): V | null;
  commit(bar: Bar): void;
}

export interface IndicatorPoint<V> {
  readonly t: number;
  /** Null while the indicator is warming up (not enough bars yet). */
  readonly value: V | null;
}

export type UpdateKind = 'replaced' | 'appended' | 'recomputed';

export interface Indicator<V> {
  /** Replace everything with this history (oldest first; equal `t` keeps the last one). */
  init(bars: readonly Bar[]): void;
  /**
   * The live bar: same `t` as the last bar replaces it, a later `t` appends it (both O(1)). An earlier `t`
   * corrects or inserts history and recomputes. Returns what happened.
   */
  update(bar: Bar): UpdateKind;
  /** Older history (any order, may overlap what is loaded: loaded bars win). Recomputes. */
  prepend(bars: readonly Bar[]): void;
  /** One point per bar, oldest first. The array is owned by the indicator: copy it to keep it. */
  points(): readonly IndicatorPoint<V>[];
  /** The last bar's point, or null with no bars. */
  last(): IndicatorPoint<V> | null;
  readonly length: number;
}

/** Wraps a kernel factory into an Indicator (bar bookkeeping, commit/preview, recompute on prepend). */
export function incremental<V>(makeKernel: () => Kernel<V>): Indicator<V> {
  let kernel = makeKernel();
  let bars: Bar[] = [];
  let out: IndicatorPoint<V>[] = [];

  const rebuild = (): void => {
    kernel = makeKernel();
    out = new Array<IndicatorPoint<V>>(bars.length);
    for (let i = 0; i < bars.length; i++) {
      const bar = bars[i]!;
      out[i] = { t: bar.t, value: kernel.preview(bar) };
      if (i < bars.length - 1) kernel.commit(bar);
    }
  };

  const normalise = (list: readonly Bar[]): Bar[] => {
    const byT = new Map<number, Bar>();
    for (const b of list) byT.set(b.t, b);
    return [...byT.values()].sort((a, b) => a.t - b.t);
  };

  return {
    init(list) {
      bars = normalise(list);
      rebuild();
    },
    update(bar) {
      const n = bars.length;
      const lastBar = n > 0 ? bars[n - 1]! : undefined;
      if (lastBar !== undefined && bar.t === lastBar.t) {
        bars[n - 1] = bar;
        out[n - 1] = { t: bar.t, value: kernel.preview(bar) };
        return 'replaced';
      }
      if (lastBar === undefined || bar.t > lastBar.t) {
        if (lastBar !== undefined) kernel.commit(lastBar);
        bars.push(bar);
        out.push({ t: bar.t, value: kernel.preview(bar) });
        return 'appended';
      }
      bars = normalise([...bars, bar]);
      rebuild();
      return 'recomputed';
    },
    prepend(older) {
      bars = normalise([...older, ...bars]);
      rebuild();
    },
    points: () => out,
    last: () => (out.length === 0 ? null : out[out.length - 1]!),
    get length() {
      return out.length;
    },
  };
}

function checkPeriod(name: string, period: number): void {
  if (!Number.isSafeInteger(period) || period < 1) throw new RangeError(`${name}: the period must be a positive integer (got ${period})`);
}

// ---------------------------------------------------------------- kernels over one number per bar

/**
 * Simple moving average of a value. With integer inputs the window sum is an exact integer, so the average
 * is as exact as one division.
 */
export class SmaKernel implements Kernel<number> {
  readonly #period: number;
  readonly #window: number[] = []; // the last period-1 committed values
  #sum = 0;
  #head = 0;
  constructor(period: number) {
    checkPeriod('SMA', period);
    this.#period = period;
  }
  previewValue(x: number): number | null {
    const have = this.#window.length - this.#head;
    return have + 1 < this.#period ? null : (this.#sum + x) / this.#period;
  }
  commitValue(x: number): void {
    if (this.#period === 1) return;
    this.#window.push(x);
    this.#sum += x;
    if (this.#window.length - this.#head > this.#period - 1) this.#sum -= this.#window[this.#head++]!;
    // Compact now and then so memory stays O(period).
    if (this.#head > 1024 && this.#head * 2 > this.#window.length) {
      this.#window.splice(0, this.#head);
      this.#head = 0;
    }
  }
  preview(bar: Bar): number | null {
    return this.previewValue(bar.c);
  }
  commit(bar: Bar): void {
    this.commitValue(bar.c);
  }
}

/**
 * Exponential moving average, alpha = 2 / (period + 1), seeded with the simple average of the first
 * `period` values (the usual charting convention; the first value appears at the period-th bar).
 */
export class EmaKernel implements Kernel<number> {
  readonly #period: number;
  readonly #alpha: number;
  #count = 0; // committed values
  #seedSum = 0;
  #ema = 0;
  constructor(period: number) {
    checkPeriod('EMA', period);
    this.#period = period;
    this.#alpha = 2 / (period + 1);
  }
  previewValue(x: number): number | null {
    const n = this.#count + 1;
    if (n < this.#period) return null;
    if (n === this.#period) return (this.#seedSum + x) / this.#period;
    return this.#ema + this.#alpha * (x - this.#ema);
  }
  commitValue(x: number): void {
    const v = this.previewValue(x);
    this.#count++;
    if (this.#count < this.#period) this.#seedSum += x;
    else this.#ema = v!;
  }
  preview(bar: Bar): number | null {
    return this.previewValue(bar.c);
  }
  commit(bar: Bar): void {
    this.commitValue(bar.c);
  }
}

export interface BollingerValue {
  readonly middle: number;
  readonly upper: number;
  readonly lower: number;
}

/**
 * Bollinger bands: SMA(period) ± k population standard deviations of the close. Sums are of deviations
 * from a fixed anchor (the first close seen), integers that stay exact, so the variance does not suffer
 * the cancellation of sum(x²) − n·mean² at large prices.
 */
export class BollingerKernel implements Kernel<BollingerValue> {
  readonly #period: number;
  readonly #k: number;
  #anchor: number | null = null;
  readonly #window: number[] = []; // deviations from the anchor of the last period-1 committed closes
  #head = 0;
  #sum = 0;
  #sumSq = 0;
  constructor(period: number, k: number) {
    checkPeriod('Bollinger', period);
    if (!Number.isFinite(k) || k < 0) throw new RangeError(`Bollinger: k must be a non-negative number (got ${k})`);
    this.#period = period;
    this.#k = k;
  }
  preview(bar: Bar): BollingerValue | null {
    const have = this.#window.length - this.#head;
    if (have + 1 < this.#period) return null;
    const anchor = this.#anchor ?? bar.c;
    const d = bar.c - anchor;
    const n = this.#period;
    const sum = this.#sum + d;
    const sumSq = this.#sumSq + d * d;
    const mean = sum / n;
    const variance = Math.max(0, (n * sumSq - sum * sum) / (n * n));
    const sd = Math.sqrt(variance);
    const middle = anchor + mean;
    return { middle, upper: middle + this.#k * sd, lower: middle - this.#k * sd };
  }
  commit(bar: Bar): void {
    if (this.#anchor === null) this.#anchor = bar.c;
    if (this.#period === 1) return;
    const d = bar.c - this.#anchor;
    this.#window.push(d);
    this.#sum += d;
    this.#sumSq += d * d;
    if (this.#window.length - this.#head > this.#period - 1) {
      const old = this.#window[this.#head++]!;
      this.#sum -= old;
      this.#sumSq -= old * old;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#window.length) {
      this.#window.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/**
 * Relative strength index with Wilder's smoothing: the first average gain/loss is the simple mean of the
 * first `period` changes, then avg = (avg·(period−1) + x) / period. The first value is at bar `period`
 * (0-based). When there were neither gains nor losses the RSI is 50; with gains only it is 100.
 */
export class RsiKernel implements Kernel<number> {
  readonly #period: number;
  #prevClose: number | null = null;
  #changes = 0; // committed changes
  #gain = 0; // a sum during warm-up, then Wilder's average
  #loss = 0;
  constructor(period: number) {
    checkPeriod('RSI', period);
    this.#period = period;
  }
  #next(c: number): { gain: number; loss: number; n: number } | null {
    if (this.#prevClose === null) return null;
    const d = c - this.#prevClose;
    const up = d > 0 ? d : 0;
    const down = d < 0 ? -d : 0;
    const n = this.#changes + 1;
    const p = this.#period;
    if (n < p) return { gain: this.#gain + up, loss: this.#loss + down, n };
    if (n === p) return { gain: (this.#gain + up) / p, loss: (this.#loss + down) / p, n };
    return { gain: (this.#gain * (p - 1) + up) / p, loss: (this.#loss * (p - 1) + down) / p, n };
  }
  preview(bar: Bar): number | null {
    const s = this.#next(bar.c);
    if (s === null || s.n < this.#period) return null;
    return rsiFrom(s.gain, s.loss);
  }
  commit(bar: Bar): void {
    const s = this.#next(bar.c);
    this.#prevClose = bar.c;
    if (s === null) return;
    this.#changes = s.n;
    this.#gain = s.gain;
    this.#loss = s.loss;
  }
}

/** RSI from average gain and loss (shared with the reference implementation in the tests). */
export function rsiFrom(avgGain: number, avgLoss: number): number {
  if (avgLoss === 0) return avgGain === 0 ? 50 : 100;
  return 100 - 100 / (1 + avgGain / avgLoss);
}

export interface MacdValue {
  /** EMA(fast) − EMA(slow). */
  readonly macd: number;
  /** EMA(signal) of the MACD line; null until `signal` MACD values exist. */
  readonly signal: number | null;
  /** macd − signal; null with the signal. */
  readonly histogram: number | null;
}

/** MACD: line = EMA(fast) − EMA(slow) of the close; signal = EMA(signal) of the line; histogram = line − signal. */
export class MacdKernel implements Kernel<MacdValue> {
  readonly #fast: EmaKernel;
  readonly #slow: EmaKernel;
  readonly #signal: EmaKernel;
  constructor(fast: number, slow: number, signal: number) {
    if (fast >= slow) throw new RangeError(`MACD: the fast period (${fast}) must be shorter than the slow one (${slow})`);
    this.#fast = new EmaKernel(fast);
    this.#slow = new EmaKernel(slow);
    this.#signal = new EmaKernel(signal);
  }
  #line(c: number): number | null {
    const f = this.#fast.previewValue(c);
    const s = this.#slow.previewValue(c);
    return f === null || s === null ? null : f - s;
  }
  preview(bar: Bar): MacdValue | null {
    const macd = this.#line(bar.c);
    if (macd === null) return null;
    const signal = this.#signal.previewValue(macd);
    return { macd, signal, histogram: signal === null ? null : macd - signal };
  }
  commit(bar: Bar): void {
    const macd = this.#line(bar.c);
    this.#fast.commitValue(bar.c);
    this.#slow.commitValue(bar.c);
    if (macd !== null) this.#signal.commitValue(macd);
  }
}

export const DAY_MS = 86_400_000;

/** The session (day number) a bar belongs to, for sessions starting at UTC midnight + `offsetMs`. */
export function sessionOf(t: number, offsetMs: number): number {
  return Math.floor((t - offsetMs) / DAY_MS);
}

/**
 * Session-anchored VWAP of the typical price (h + l + c) / 3, volume weighted, reset when a bar starts a
 * new session. Sessions start at UTC midnight plus `sessionStartOffsetMs` (e.g. 13.5 h for a 09:30 New
 * York open in winter: 14.5 h in summer; pass what the venue uses). Sums are kept as exact integers of
 * (h + l + c)·v. Null until the session has traded.
 */
export class VwapKernel implements Kernel<number> {
  readonly #offset: number;
  #session: number | null = null;
  #pv3 = 0;
  #vol = 0;
  constructor(sessionStartOffsetMs = 0) {
    if (!Number.isFinite(sessionStartOffsetMs)) throw new RangeError('VWAP: the session offset must be finite');
    this.#offset = sessionStartOffsetMs;
  }
  #sums(bar: Bar): { pv3: number; vol: number; session: number } {
    const session = sessionOf(bar.t, this.#offset);
    const same = session === this.#session;
    return {
      session,
      pv3: (same ? this.#pv3 : 0) + (bar.h + bar.l + bar.c) * bar.v,
      vol: (same ? this.#vol : 0) + bar.v,
    };
  }
  preview(bar: Bar): number | null {
    const s = this.#sums(bar);
    return s.vol === 0 ? null : s.pv3 / (3 * s.vol);
  }
  commit(bar: Bar): void {
    const s = this.#sums(bar);
    this.#session = s.session;
    this.#pv3 = s.pv3;
    this.#vol = s.vol;
  }
}

// ---------------------------------------------------------------- public constructors

export const createSma = (period: number): Indicator<number> => {
  checkPeriod('SMA', period);
  return incremental(() => new SmaKernel(period));
};
export const createEma = (period: number): Indicator<number> => {
  checkPeriod('EMA', period);
  return incremental(() => new EmaKernel(period));
};
export const createBollinger = (period = 20, k = 2): Indicator<BollingerValue> => {
  new BollingerKernel(period, k); // validate now, not at the first bar
  return incremental(() => new BollingerKernel(period, k));
};
export const createRsi = (period = 14): Indicator<number> => {
  checkPeriod('RSI', period);
  return incremental(() => new RsiKernel(period));
};
export const createMacd = (fast = 12, slow = 26, signal = 9): Indicator<MacdValue> => {
  checkPeriod('MACD fast', fast);
  checkPeriod('MACD slow', slow);
  checkPeriod('MACD signal', signal);
  new MacdKernel(fast, slow, signal);
  return incremental(() => new MacdKernel(fast, slow, signal));
};
export const createVwap = (sessionStartOffsetMs = 0): Indicator<number> => {
  new VwapKernel(sessionStartOffsetMs);
  return incremental(() => new VwapKernel(sessionStartOffsetMs));
};

// ---------------------------------------------------------------- settings (per chart)

export type IndicatorSpec =
  | { readonly kind: 'sma'; readonly period: number }
  | { readonly kind: 'ema'; readonly period: number }
  | { readonly kind: 'bollinger'; readonly period: number; readonly k: number }
  | { readonly kind: 'vwap'; readonly sessionStartOffsetMs: number }
  | { readonly kind: 'rsi'; readonly period: number }
  | { readonly kind: 'macd'; readonly fast: number; readonly slow: number; readonly signal: number };

export type IndicatorKind = IndicatorSpec['kind'];

/** Overlays share the price pane; oscillators get a pane of their own. */
export function isOverlay(spec: IndicatorSpec): boolean {
  return spec.kind !== 'rsi' && spec.kind !== 'macd';
}

/** A short label such as "SMA 20", "BB 20 2", "MACD 12 26 9". */
export function indicatorLabel(spec: IndicatorSpec): string {
  switch (spec.kind) {
    case 'sma':
      return `SMA ${spec.period}`;
    case 'ema':
      return `EMA ${spec.period}`;
    case 'bollinger':
      return `BB ${spec.period} ${spec.k}`;
    case 'vwap':
      return 'VWAP';
    case 'rsi':
      return `RSI ${spec.period}`;
    case 'macd':
      return `MACD ${spec.fast} ${spec.slow} ${spec.signal}`;
  }
}

export type AnyIndicator =
  | { readonly spec: Extract<IndicatorSpec, { kind: 'sma' | 'ema' | 'vwap' | 'rsi' }>; readonly indicator: Indicator<number> }
  | { readonly spec: Extract<IndicatorSpec, { kind: 'bollinger' }>; readonly indicator: Indicator<BollingerValue> }
  | { readonly spec: Extract<IndicatorSpec, { kind: 'macd' }>; readonly indicator: Indicator<MacdValue> };

export function createIndicator(spec: IndicatorSpec): AnyIndicator {
  switch (spec.kind) {
    case 'sma':
      return { spec, indicator: createSma(spec.period) };
    case 'ema':
      return { spec, indicator: createEma(spec.period) };
    case 'vwap':
      return { spec, indicator: createVwap(spec.sessionStartOffsetMs) };
    case 'rsi':
      return { spec, indicator: createRsi(spec.period) };
    case 'bollinger':
      return { spec, indicator: createBollinger(spec.period, spec.k) };
    case 'macd':
      return { spec, indicator: createMacd(spec.fast, spec.slow, spec.signal) };
  }
}

export const DEFAULT_INDICATORS: readonly IndicatorSpec[] = [
  { kind: 'sma', period: 20 },
  { kind: 'ema', period: 50 },
  { kind: 'bollinger', period: 20, k: 2 },
  { kind: 'vwap', sessionStartOffsetMs: 0 },
  { kind: 'rsi', period: 14 },
  { kind: 'macd', fast: 12, slow: 26, signal: 9 },
];
