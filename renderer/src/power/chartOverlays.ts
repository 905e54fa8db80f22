/**
 * lightweight-charts v5 adapters for the power features:
 * - IndicatorOverlay: indicator series on the price pane (overlays) and in panes of their own (RSI, MACD),
 *   fed incrementally: a live bar update touches one point per series.
 * - DrawingsPrimitive: a series primitive that paints the drawings (and the one being drawn) on the pane.
 * - chartMapper: the (time, price) ↔ pixel mapping the drawings model hit-tests with.
 */
import {
  HistogramSeries,
  LineSeries,
  LineStyle,
  TickMarkType,
  type IChartApi,
  type IPrimitivePaneRenderer,
  type IPrimitivePaneView,
  type ISeriesApi,
  type ISeriesPrimitive,
  type Logical,
  type SeriesAttachedParameter,
  type SeriesType,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { CoordinateMapper, Drawing, DrawingsState } from './drawings.js';
import { planIndicators, toChartData, toChartPoint, type IndicatorPlan, type SeriesPlan } from './indicatorPlan.js';
import { createIndicator, type AnyIndicator, type Bar, type IndicatorSpec } from './indicators.js';
import { TimeIndex } from './timeIndex.js';

type LineOrHist = ISeriesApi<'Line'> | ISeriesApi<'Histogram'>;

interface Live {
  ind: AnyIndicator;
  plan: IndicatorPlan;
  series: { plan: SeriesPlan; api: LineOrHist }[];
}

/** Oscillator values (RSI) are plain numbers; the price pane and MACD are in minor units of the price. */
const plainFormat = { type: 'price' as const, precision: 2, minMove: 0.01 };
const fractionalPrice = (v: number): string => (v / 100).toFixed(4);

export class IndicatorOverlay {
  readonly #chart: IChartApi;
  readonly #priceFormatter: (v: number) => string;
  #live: Live[] = [];
  #bars: Bar[] = [];

  constructor(chart: IChartApi, priceFormatter: (v: number) => string) {
    this.#chart = chart;
    this.#priceFormatter = priceFormatter;
  }

  /** Replace the set of indicators (keeps nothing: a settings change is rare). */
  setSpecs(specs: readonly IndicatorSpec[]): void {
    this.#removeAll();
    const plans = planIndicators(specs);
    this.#live = plans.map((plan, i) => {
      const ind = createIndicator(specs[i]!);
      const series = plan.series.map((s) => {
        const common = {
          // Names live in the legend; on the price axis they covered each other and the order handles.
          title: '',
          color: s.color,
          lastValueVisible: plan.pane !== 0 || s.key.endsWith(':v'),
          priceLineVisible: false,
          crosshairMarkerVisible: false,
          priceFormat:
            plan.pane === 0
              ? { type: 'custom' as const, minMove: 1, formatter: this.#priceFormatter }
              : plan.specKey.startsWith('macd')
                ? { type: 'custom' as const, minMove: 0.0001, formatter: fractionalPrice }
                : plainFormat,
        };
        const api: LineOrHist =
          s.kind === 'histogram'
            ? this.#chart.addSeries(HistogramSeries, common, plan.pane)
            : this.#chart.addSeries(LineSeries, { ...common, lineWidth: s.lineWidth, lineStyle: s.dashed === true ? LineStyle.Dashed : LineStyle.Solid }, plan.pane);
        return { plan: s, api };
      });
      const first = series[0]?.api;
      if (first !== undefined)
        for (const level of plan.levels) first.createPriceLine({ price: level, color: '#5e6a7a', lineWidth: 1, lineStyle: LineStyle.Dotted, axisLabelVisible: false, title: '' });
      return { ind, plan, series };
    });
    const panes = this.#chart.panes();
    for (let i = 1; i < panes.length; i++) panes[i]!.setStretchFactor(0.35);
    if (this.#bars.length > 0) this.setBars(this.#bars);
  }

  /** Full history (a new symbol, timeframe or older bars loaded). */
  setBars(bars: readonly Bar[]): void {
    this.#bars = [...bars];
    for (const l of this.#live) {
      l.ind.indicator.init(bars);
      const pts = l.ind.indicator.points();
      for (const s of l.series) s.api.setData(toChartData(pts, s.plan) as never);
    }
  }

  /** The live bar (same time: replaced; later: appended). O(1) per indicator and series. */
  updateBar(bar: Bar): void {
    const n = this.#bars.length;
    if (n > 0 && this.#bars[n - 1]!.t === bar.t) this.#bars[n - 1] = bar;
    else if (n === 0 || bar.t > this.#bars[n - 1]!.t) this.#bars.push(bar);
    else {
      this.setBars(this.#bars.filter((b) => b.t !== bar.t).concat(bar).sort((a, b) => a.t - b.t));
      return;
    }
    for (const l of this.#live) {
      const kind = l.ind.indicator.update(bar);
      if (kind === 'recomputed') {
        const pts = l.ind.indicator.points();
        for (const s of l.series) s.api.setData(toChartData(pts, s.plan) as never);
        continue;
      }
      const last = l.ind.indicator.last()!;
      for (const s of l.series) s.api.update(toChartPoint(last, s.plan) as never);
    }
  }

  /** The latest value of each indicator, for a legend. */
  legend(): { label: string; pane: number; values: { title: string; color: string; value: number | null }[] }[] {
    return this.#live.map((l) => {
      const last = l.ind.indicator.last();
      return {
        label: l.plan.label,
        pane: l.plan.pane,
        values: l.series.map((s) => ({ title: s.plan.title, color: s.plan.color, value: last === null ? null : s.plan.pick(last.value) })),
      };
    });
  }

  #removeAll(): void {
    for (const l of this.#live) for (const s of l.series) this.#chart.removeSeries(s.api);
    this.#live = [];
  }

  dispose(): void {
    this.#removeAll();
  }
}

// ---------------------------------------------------------------- coordinates

/** A mapper from drawing space (ms, minor units) to the pane's pixels, through logical bar indices. */
export function chartMapper(chart: IChartApi, series: ISeriesApi<SeriesType>, index: TimeIndex): CoordinateMapper {
  const ts = chart.timeScale();
  // logicalToCoordinate takes whole bar indices only (a fraction comes back as 0): interpolate between bars.
  const logicalToX = (l: number): number | null => {
    const i = Math.floor(l);
    const x0 = ts.logicalToCoordinate(i as Logical);
    if (x0 === null || l === i) return x0;
    const x1 = ts.logicalToCoordinate((i + 1) as Logical);
    return x1 === null ? null : x0 + (l - i) * (x1 - x0);
  };
  return {
    timeToX: (t) => {
      const l = index.toLogical(t);
      return l === null ? null : logicalToX(l);
    },
    priceToY: (p) => series.priceToCoordinate(p),
    xToTime: (x) => {
      const l = ts.coordinateToLogical(x);
      return l === null ? null : index.toTime(l);
    },
    yToPrice: (y) => series.coordinateToPrice(y),
    measureText: (s) => ({ width: 7 * s.length + 8, height: 16 }),
  };
}

/** Chart time (seconds) from ms. */
export const toChartTime = (ms: number): UTCTimestamp => Math.floor(ms / 1000) as UTCTimestamp;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * Time-axis labels (UTC, as the chart's times are): the same text as the library's default, without a
 * `toLocaleString` per label (that builds a date formatter each time and was a fifth of the first frame).
 */
export function tickMarkLabel(time: Time, type: TickMarkType): string | null {
  if (typeof time !== 'number') return null;
  const d = new Date(time * 1000);
  switch (type) {
    case TickMarkType.Year:
      return String(d.getUTCFullYear());
    case TickMarkType.Month:
      return MONTHS[d.getUTCMonth()]!;
    case TickMarkType.DayOfMonth:
      return String(d.getUTCDate());
    case TickMarkType.Time:
      return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
    case TickMarkType.TimeWithSeconds:
      return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
    default:
      return null;
  }
}

// ---------------------------------------------------------------- drawings

type Target = Parameters<IPrimitivePaneRenderer['draw']>[0];

export class DrawingsPrimitive implements ISeriesPrimitive<Time> {
  #state: DrawingsState = { drawings: [], selectedId: null };
  #draft: Drawing | null = null;
  #mapper: CoordinateMapper | null = null;
  #request: (() => void) | null = null;
  readonly #views: readonly IPrimitivePaneView[];

  constructor() {
    const renderer: IPrimitivePaneRenderer = { draw: (t) => this.#draw(t) };
    this.#views = [{ renderer: () => renderer, zOrder: () => 'top' }];
  }

  attached(p: SeriesAttachedParameter<Time>): void {
    this.#request = p.requestUpdate;
  }
  detached(): void {
    this.#request = null;
  }
  paneViews(): readonly IPrimitivePaneView[] {
    return this.#views;
  }

  set(state: DrawingsState, draft: Drawing | null, mapper: CoordinateMapper): void {
    this.#state = state;
    this.#draft = draft;
    this.#mapper = mapper;
    this.#request?.();
  }

  #draw(target: Target): void {
    const m = this.#mapper;
    if (m === null) return;
    target.useMediaCoordinateSpace(({ context: ctx, mediaSize }) => {
      const all = this.#draft === null ? this.#state.drawings : [...this.#state.drawings, this.#draft];
      for (const d of all) {
        const selected = d.id === this.#state.selectedId || d === this.#draft;
        ctx.save();
        ctx.strokeStyle = d.style.color;
        ctx.fillStyle = d.style.color;
        ctx.lineWidth = d.style.width + (selected ? 1 : 0);
        if (d === this.#draft) ctx.setLineDash([4, 3]);
        const handles: [number, number][] = [];
        switch (d.kind) {
          case 'hline': {
            const y = m.priceToY(d.p);
            if (y === null) break;
            ctx.beginPath();
            ctx.moveTo(0, y);
            ctx.lineTo(mediaSize.width, y);
            ctx.stroke();
            break;
          }
          case 'trend':
          case 'rect': {
            const ax = m.timeToX(d.a.t);
            const ay = m.priceToY(d.a.p);
            const bx = m.timeToX(d.b.t);
            const by = m.priceToY(d.b.p);
            if (ax === null || ay === null || bx === null || by === null) break;
            if (d.kind === 'trend') {
              ctx.beginPath();
              ctx.moveTo(ax, ay);
              ctx.lineTo(bx, by);
              ctx.stroke();
            } else {
              ctx.globalAlpha = 0.12;
              ctx.fillRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
              ctx.globalAlpha = 1;
              ctx.strokeRect(Math.min(ax, bx), Math.min(ay, by), Math.abs(bx - ax), Math.abs(by - ay));
            }
            handles.push([ax, ay], [bx, by]);
            break;
          }
          case 'text': {
            const x = m.timeToX(d.at.t);
            const y = m.priceToY(d.at.p);
            if (x === null || y === null) break;
            ctx.font = '600 12px system-ui, sans-serif';
            ctx.textBaseline = 'alphabetic';
            ctx.fillText(d.text, x + 4, y - 4);
            if (selected) {
              const w = ctx.measureText(d.text).width + 8;
              ctx.lineWidth = 1;
              ctx.strokeRect(x, y - 16, w, 16);
            }
            break;
          }
        }
        if (selected)
          for (const [x, y] of handles) {
            ctx.beginPath();
            ctx.arc(x, y, 4, 0, Math.PI * 2);
            ctx.fill();
          }
        ctx.restore();
      }
    });
  }
}

/** The TimeIndex of a bar list. */
export const timeIndexOf = (bars: readonly Bar[], stepMs: number): TimeIndex => new TimeIndex(bars.map((b) => b.t), stepMs);
