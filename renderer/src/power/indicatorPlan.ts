/**
 * How indicators map onto chart series: each spec gives one or more lines (or a histogram), in the price
 * pane for overlays or in a pane of its own for oscillators. Pure, so the plan is tested without a canvas;
 * IndicatorOverlay (lightweight-charts) follows it.
 */
import type { BollingerValue, IndicatorPoint, IndicatorSpec, MacdValue } from './indicators.js';
import { indicatorLabel, isOverlay } from './indicators.js';

export interface SeriesPlan {
  /** Unique per chart: `<spec key>:<part>`. */
  readonly key: string;
  readonly kind: 'line' | 'histogram';
  readonly title: string;
  readonly color: string;
  readonly lineWidth: 1 | 2;
  readonly dashed?: boolean;
  /** The number this series plots from the indicator value (null: a gap). */
  readonly pick: (value: unknown) => number | null;
  /** Colour per point for histograms (e.g. MACD above/below zero). */
  readonly colorOf?: (v: number) => string;
}

export interface IndicatorPlan {
  readonly specKey: string;
  readonly label: string;
  /** 0: the price pane; otherwise a pane of its own, numbered in the order of the oscillators. */
  readonly pane: number;
  readonly series: readonly SeriesPlan[];
  /** Horizontal guide levels in the pane (RSI 30/70). */
  readonly levels: readonly number[];
}

export const specKey = (s: IndicatorSpec): string => indicatorLabel(s).replace(/\s+/g, '-').toLowerCase();

const PALETTE = ['#f0b429', '#a371f7', '#3fb8ff', '#ff8c42', '#e36bae', '#7ee081'];

export function planIndicators(specs: readonly IndicatorSpec[]): IndicatorPlan[] {
  let overlayColor = 0;
  let pane = 0;
  return specs.map((spec): IndicatorPlan => {
    const key = specKey(spec);
    const label = indicatorLabel(spec);
    const own = isOverlay(spec) ? 0 : ++pane;
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    switch (spec.kind) {
      case 'sma':
      case 'ema':
      case 'vwap': {
        const color = spec.kind === 'vwap' ? '#3fb8ff' : PALETTE[overlayColor++ % PALETTE.length]!;
        return { specKey: key, label, pane: 0, levels: [], series: [{ key: `${key}:v`, kind: 'line', title: label, color, lineWidth: spec.kind === 'vwap' ? 2 : 1, pick: num }] };
      }
      case 'bollinger': {
        const color = '#8b95a5';
        const part = (p: keyof BollingerValue) => (v: unknown) => (v === null || v === undefined ? null : (v as BollingerValue)[p]);
        return {
          specKey: key,
          label,
          pane: 0,
          levels: [],
          series: [
            { key: `${key}:upper`, kind: 'line', title: 'BB upper', color, lineWidth: 1, pick: part('upper') },
            { key: `${key}:middle`, kind: 'line', title: label, color, lineWidth: 1, dashed: true, pick: part('middle') },
            { key: `${key}:lower`, kind: 'line', title: 'BB lower', color, lineWidth: 1, pick: part('lower') },
          ],
        };
      }
      case 'rsi':
        return { specKey: key, label, pane: own, levels: [30, 70], series: [{ key: `${key}:v`, kind: 'line', title: label, color: '#a371f7', lineWidth: 1, pick: num }] };
      case 'macd': {
        const part = (p: keyof MacdValue) => (v: unknown) => (v === null || v === undefined ? null : ((v as MacdValue)[p] ?? null));
        return {
          specKey: key,
          label,
          pane: own,
          levels: [0],
          series: [
            { key: `${key}:hist`, kind: 'histogram', title: 'Histogram', color: '#8b95a5', lineWidth: 1, pick: part('histogram'), colorOf: (v) => (v >= 0 ? 'rgba(34,171,148,0.6)' : 'rgba(240,84,90,0.6)') },
            { key: `${key}:macd`, kind: 'line', title: label, color: '#3fb8ff', lineWidth: 1, pick: part('macd') },
            { key: `${key}:signal`, kind: 'line', title: 'Signal', color: '#ff8c42', lineWidth: 1, pick: part('signal') },
          ],
        };
      }
    }
  });
}

/** A chart point: `{ time }` alone is a gap (lightweight-charts whitespace data). Time is in seconds. */
export type ChartPoint = { time: number; value: number; color?: string } | { time: number };

export function toChartPoint(p: IndicatorPoint<unknown>, s: SeriesPlan): ChartPoint {
  const time = Math.floor(p.t / 1000);
  const v = s.pick(p.value);
  if (v === null || !Number.isFinite(v)) return { time };
  return s.colorOf === undefined ? { time, value: v } : { time, value: v, color: s.colorOf(v) };
}

export function toChartData(points: readonly IndicatorPoint<unknown>[], s: SeriesPlan): ChartPoint[] {
  return points.map((p) => toChartPoint(p, s));
}

// ---------------------------------------------------------------- settings as a panel param

/**
 * Indicator settings as one short string for a panel's params (≤ 200 characters, flat):
 * "sma20,ema50,bb20-2,vwap,rsi14,macd12-26-9"; VWAP with a session offset in minutes: "vwap810".
 */
export function encodeSpecs(specs: readonly IndicatorSpec[]): string {
  return specs
    .map((s) => {
      switch (s.kind) {
        case 'sma':
        case 'ema':
        case 'rsi':
          return `${s.kind}${s.period}`;
        case 'bollinger':
          return `bb${s.period}-${s.k}`;
        case 'vwap':
          return s.sessionStartOffsetMs === 0 ? 'vwap' : `vwap${Math.round(s.sessionStartOffsetMs / 60_000)}`;
        case 'macd':
          return `macd${s.fast}-${s.slow}-${s.signal}`;
      }
    })
    .join(',');
}

const int = (s: string | undefined, min: number, max: number): number | null => {
  if (s === undefined || !/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n >= min && n <= max ? n : null;
};

/** Parse settings; unknown or out-of-range entries are dropped (a stored param from another version). */
export function decodeSpecs(text: string): IndicatorSpec[] {
  const out: IndicatorSpec[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim().toLowerCase();
    let m: RegExpExecArray | null;
    if ((m = /^(sma|ema|rsi)(\d+)$/.exec(t)) !== null) {
      const period = int(m[2], 1, 500);
      if (period !== null) out.push({ kind: m[1] as 'sma' | 'ema' | 'rsi', period });
    } else if ((m = /^bb(\d+)-(\d+(?:\.\d+)?)$/.exec(t)) !== null) {
      const period = int(m[1], 1, 500);
      const k = Number(m[2]);
      if (period !== null && k <= 10) out.push({ kind: 'bollinger', period, k });
    } else if ((m = /^vwap(\d*)$/.exec(t)) !== null) {
      const minutes = m[1] === '' ? 0 : int(m[1], 0, 1439);
      if (minutes !== null) out.push({ kind: 'vwap', sessionStartOffsetMs: minutes * 60_000 });
    } else if ((m = /^macd(\d+)-(\d+)-(\d+)$/.exec(t)) !== null) {
      const [f, s, g] = [int(m[1], 1, 500), int(m[2], 1, 500), int(m[3], 1, 500)];
      if (f !== null && s !== null && g !== null && f < s) out.push({ kind: 'macd', fast: f, slow: s, signal: g });
    }
  }
  return out;
}
