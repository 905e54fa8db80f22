/**
 * The chart (lightweight-charts v5): candles and volume, older history loading as the trader scrolls back
 * (handed to the chart in windows of CHART_WINDOW bars), the last bar live (candles stream, and the last
 * trade from the quote), a crosshair O/H/L/C/V legend, my fills as markers and the open position's average
 * price as a dashed line; indicators as overlays and in their own panes; my working orders as lines that can be dragged to a new price (a replace, snapped to the
 * tick) with a cancel handle each, bracket legs included; price alerts as lines; drawing tools
 * (horizontal line, trend line, rectangle, text: select, move, delete, saved by the caller); right-click
 * to place a limit or stop, or set an alert, at that price.
 *
 * Plain props and callbacks: the chart fetches and sends nothing itself.
 */
import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  LineStyle,
  createChart,
  createSeriesMarkers,
  type CandlestickData,
  type HistogramData,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type LogicalRange,
  type MouseEventParams,
  type IRange,
  type SeriesMarker,
  type Time,
} from 'lightweight-charts';
import { useEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import { TIMEFRAME_MS, type Candle, type OrderRecord, type ParamsOf, type Timeframe } from '../../../engine/protocol/index.js';
import type { Execution, PositionView, Quote } from '../data/types.js';
import { formatAvgPrice, formatQty, formatVolume } from '../format/num.js';
import type { AlertDirection, PriceAlert } from './alerts.js';
import { DrawingsPrimitive, IndicatorOverlay, chartMapper, tickMarkLabel, timeIndexOf, toChartTime } from './chartOverlays.js';
import { bucketOf, chartSync, type SyncEvent } from './chartSync.js';
import { contextActions, draggable, dropLine, lineAt, orderLines, type OrderLine } from './chartTrading.js';
import {
  CLICKS_TO_PLACE,
  addDrawing,
  dragDrawing,
  hitTest,
  makeDrawing,
  removeSelected,
  selectDrawing,
  updateDrawing,
  type CoordinateMapper,
  type Drawing,
  type DrawingKind,
  type DrawingsState,
  type Hit,
} from './drawings.js';
import { formatPrice as defaultFormatPrice, snapToTick } from './intents.js';
import { indicatorLabel, type IndicatorSpec } from './indicators.js';
import type { TimeIndex } from './timeIndex.js';

export interface ChartBookLike {
  readonly bars: readonly Candle[];
  readonly rev: number;
  readonly last: 'reset' | 'update' | 'prepend';
}

export interface TradingChartProps {
  symbol: string;
  timeframe: Timeframe;
  book: ChartBookLike | undefined;
  tick: number;
  /** Size for right-click orders. */
  qty: number;
  last: number | null;
  orders: readonly OrderRecord[];
  /** My fills (any symbol): this symbol's are markers on their bars. */
  fills?: readonly Execution[];
  /** The open position in this symbol: its average price is a dashed line. */
  position?: PositionView | undefined;
  /** The quote: its last trade moves the live bar between candle pushes. */
  quote?: Quote | undefined;
  indicators: readonly IndicatorSpec[];
  drawings: DrawingsState;
  onDrawingsChange(s: DrawingsState): void;
  alerts?: readonly PriceAlert[];
  onPlace(params: ParamsOf<'order.place'>): unknown;
  onReplace(params: ParamsOf<'order.replace'>): unknown;
  onCancel(orderId: number): unknown;
  onAlert?(a: { direction: AlertDirection; price: number }): unknown;
  /** Called when the trader scrolls back to the oldest loaded bar (load an older page). */
  onNeedHistory?(): void;
  /** Called once the first data has been drawn (for the bench). */
  onFirstRender?(): void;
  formatPrice?(p: number): string;
  /** Colours (defaults: the page's CSS variables). */
  theme?: string;
  /** Follow the other charts of this group: crosshair, and the visible time range when `time`. */
  sync?: { group: string; time: boolean } | undefined;
}

type Tool = 'select' | DrawingKind;
const TOOLS: { id: Tool; label: string; title: string }[] = [
  { id: 'select', label: '↖', title: 'Select and move' },
  { id: 'hline', label: '—', title: 'Horizontal line' },
  { id: 'trend', label: '╱', title: 'Trend line' },
  { id: 'rect', label: '▭', title: 'Rectangle' },
  { id: 'text', label: 'T', title: 'Text' },
];

type ChartColors = ReturnType<typeof readColors>;

/** The theme's colours; read from CSS once per theme (getComputedStyle forces a style pass, too dear per tick). */
let colorCache: { theme: string | undefined; colors: ChartColors } | undefined;
function cssColors(): ChartColors {
  const key = document.documentElement.dataset['theme'];
  if (colorCache === undefined || colorCache.theme !== key) colorCache = { theme: key, colors: readColors() };
  return colorCache.colors;
}

function readColors() {
  const s = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => s.getPropertyValue(name).trim() || fallback;
  return {
    bg: v('--panel', '#11151c'),
    text: v('--muted', '#7d8898'),
    grid: v('--grid', '#1a2029'),
    border: v('--border', '#242b36'),
    up: v('--up', '#22ab94'),
    down: v('--down', '#f0545a'),
    upVol: v('--up-vol', 'rgba(34,171,148,0.35)'),
    downVol: v('--down-vol', 'rgba(240,84,90,0.35)'),
    buy: v('--buy', '#2f7cf6'),
    sell: v('--sell', '#f0545a'),
    warn: v('--warn', '#f0b429'),
  };
}

/** Bars handed to the chart at once; older loaded bars join as the trader scrolls back (then older pages load). */
export const CHART_WINDOW = 5000;

interface Ohlcv {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

/** Open the menu towards the room there is: up from the pointer in the lower half, left near the right edge. */
function menuPlacement(m: { x: number; y: number }, body: HTMLElement | null): { left?: number; right?: number; top?: number; bottom?: number } {
  const w = body?.clientWidth ?? 0;
  const h = body?.clientHeight ?? 0;
  return {
    ...(m.x > w - 240 ? { right: Math.max(0, w - m.x) } : { left: m.x }),
    ...(m.y > h / 2 ? { bottom: Math.max(0, h - m.y) } : { top: m.y }),
  };
}

/** Order handle height and distance from the right edge (the price scale), in CSS pixels (power.css). */
const TAG_H = 18;
const TAG_RIGHT = 72;

let drawingSeq = 0;
const newDrawingId = () => `d${Date.now().toString(36)}${(drawingSeq++).toString(36)}`;

type Legend = ReturnType<IndicatorOverlay['legend']>;

function sameLegend(a: Legend, b: Legend): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.label !== y.label || x.pane !== y.pane || x.values.length !== y.values.length) return false;
    for (let j = 0; j < x.values.length; j++) {
      const u = x.values[j]!;
      const v = y.values[j]!;
      if (u.value !== v.value || u.color !== v.color || u.title !== v.title) return false;
    }
  }
  return true;
}

interface LineDrag {
  line: OrderLine;
  price: number;
}

export function TradingChart(p: TradingChartProps) {
  const fmt = p.formatPrice ?? defaultFormatPrice;
  const host = useRef<HTMLDivElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | undefined>(undefined);
  const candles = useRef<ISeriesApi<'Candlestick'> | undefined>(undefined);
  const volume = useRef<ISeriesApi<'Histogram'> | undefined>(undefined);
  const overlay = useRef<IndicatorOverlay | undefined>(undefined);
  const primitive = useRef<DrawingsPrimitive | undefined>(undefined);
  /** The price lines on the chart, each with what it was last drawn with. */
  const priceLines = useRef(new Map<string, { line: IPriceLine; sig: string }>());
  const tags = useRef(new Map<string, HTMLDivElement>());
  const drawnRev = useRef(-1);
  const drawnCount = useRef(0);
  const index = useRef<TimeIndex | undefined>(undefined);
  const indexKey = useRef('');
  const markers = useRef<ISeriesMarkersPluginApi<Time> | undefined>(undefined);
  const needHistory = useRef(p.onNeedHistory);
  needHistory.current = p.onNeedHistory;
  /** Index in the book of the first bar the chart holds. */
  const windowStart = useRef(0);
  const bookRef = useRef(p.book);
  bookRef.current = p.book;
  const firstDone = useRef(false);
  const liveBar = useRef<Candle | undefined>(undefined);
  const hoverBar = useRef(false);
  /** Whether the price axis shows (hidden while there are no bars); set on a change only, not per bar. */
  const axisShown = useRef(true);
  const [barsShown, setBarsShown] = useState(0);
  const [ohlc, setOhlcState] = useState<Ohlcv | undefined>(undefined);
  /** The legend's bar; an equal bar keeps the old object (no re-render). */
  const setOhlc = (b: Ohlcv | undefined) =>
    setOhlcState((prev) => (b !== undefined && prev !== undefined && prev.o === b.o && prev.h === b.h && prev.l === b.l && prev.c === b.c && prev.v === b.v ? prev : b));
  const fmtRef = useRef(fmt);
  fmtRef.current = fmt;

  const [tool, setTool] = useState<Tool>('select');
  const [text, setText] = useState('Note');
  const [draft, setDraft] = useState<Drawing | null>(null);
  const [preview, setPreview] = useState<DrawingsState | null>(null);
  const [drag, setDrag] = useState<LineDrag | null>(null);
  const [menu, setMenu] = useState<{ x: number; y: number; price: number } | null>(null);
  const [legend, setLegendState] = useState<Legend>([]);
  /** The indicator legend; unchanged values keep the old list (no re-render). */
  const setLegend = (next: Legend) => setLegendState((prev) => (sameLegend(prev, next) ? prev : next));
  const shown = preview ?? p.drawings;

  /** Hands bars[start..] to the chart (and the indicators); `shift` bars were added on the left (the view stays). */
  const drawWindow = (bars: readonly Candle[], start: number, shift: number) => {
    const cs = candles.current;
    const vs = volume.current;
    const o = overlay.current;
    if (cs === undefined || vs === undefined || o === undefined) return;
    const col = cssColors();
    const ts = chartRef.current?.timeScale();
    const before = shift > 0 ? (ts?.getVisibleLogicalRange() ?? null) : null;
    const win = start > 0 ? bars.slice(start) : bars;
    const m = win.length;
    const cd: CandlestickData<Time>[] = new Array(m);
    const vd: HistogramData<Time>[] = new Array(m);
    for (let i = 0; i < m; i++) {
      const b = win[i]!;
      const time = toChartTime(b.t) as Time;
      cd[i] = { time, open: b.o, high: b.h, low: b.l, close: b.c };
      vd[i] = { time, value: b.v, color: b.c >= b.o ? col.upVol : col.downVol };
    }
    cs.setData(cd);
    vs.setData(vd);
    o.setBars(win);
    windowStart.current = start;
    setBarsShown(m);
    if (before !== null) ts?.setVisibleLogicalRange({ from: before.from + shift, to: before.to + shift });
  };
  const expand = useRef<() => void>(() => undefined);
  expand.current = () => {
    const book = bookRef.current;
    if (book === undefined) return;
    if (windowStart.current > 0) {
      const start = Math.max(0, windowStart.current - CHART_WINDOW);
      drawWindow(book.bars, start, windowStart.current - start);
      indexKey.current = ''; // the window moved: rebuild the time index
      redrawIndex(book.bars);
    } else needHistory.current?.();
  };
  /** The time index over the bars the chart holds (drawings map times through it). */
  const redrawIndex = (bars: readonly Candle[]) => {
    const s = windowStart.current;
    const n = bars.length;
    const key = `${s}:${n}:${bars[s]?.t ?? 0}:${bars[n - 1]?.t ?? 0}`;
    if (key === indexKey.current) return;
    indexKey.current = key;
    index.current = timeIndexOf(s > 0 ? bars.slice(s) : bars, TIMEFRAME_MS[p.timeframe]);
  };

  // ---------------------------------------------------------------- chart lifecycle
  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const col = cssColors();
    const priceFmt = (v: number) => fmtRef.current(Math.round(v));
    const chart = createChart(el, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: col.bg }, textColor: col.text, fontSize: 11, attributionLogo: false, panes: { separatorColor: col.border } },
      grid: { vertLines: { color: col.grid }, horzLines: { color: col.grid } },
      rightPriceScale: { borderColor: col.border, scaleMargins: { top: 0.08, bottom: 0.2 } },
      timeScale: { borderColor: col.border, timeVisible: true, secondsVisible: false, rightOffset: 12, barSpacing: 7, tickMarkFormatter: tickMarkLabel },
      crosshair: { mode: CrosshairMode.Normal },
    });
    const cs = chart.addSeries(CandlestickSeries, {
      upColor: col.up,
      downColor: col.down,
      borderUpColor: col.up,
      borderDownColor: col.down,
      wickUpColor: col.up,
      wickDownColor: col.down,
      priceFormat: { type: 'custom', minMove: 1, formatter: priceFmt },
    });
    const vs = chart.addSeries(HistogramSeries, {
      priceScaleId: 'vol',
      lastValueVisible: false,
      priceLineVisible: false,
      priceFormat: { type: 'custom', minMove: 1, formatter: (v: number) => formatVolume(Math.round(v)) },
    });
    chart.priceScale('vol').applyOptions({ scaleMargins: { top: 0.84, bottom: 0 }, visible: false });
    const prim = new DrawingsPrimitive();
    cs.attachPrimitive(prim);
    chartRef.current = chart;
    axisShown.current = true; // a new chart shows its axis
    candles.current = cs;
    volume.current = vs;
    primitive.current = prim;
    markers.current = createSeriesMarkers(cs, []);
    overlay.current = new IndicatorOverlay(chart, priceFmt);
    // The O/H/L/C/V legend: the bar under the crosshair, else the last bar.
    const onCross = (param: MouseEventParams<Time>) => {
      const b = param.seriesData.get(cs) as CandlestickData<Time> | undefined;
      const v = param.seriesData.get(vs) as HistogramData<Time> | undefined;
      if (b === undefined || param.time === undefined) {
        hoverBar.current = false;
        const last = liveBar.current;
        if (last !== undefined) setOhlc({ o: last.o, h: last.h, l: last.l, c: last.c, v: last.v });
        return;
      }
      hoverBar.current = true;
      setOhlc({ o: b.open, h: b.high, l: b.low, c: b.close, v: v?.value ?? 0 });
    };
    chart.subscribeCrosshairMove(onCross);
    // Near the oldest bar on screen: older loaded bars join the chart, or an older page is asked for.
    let expanding = false;
    const onRange = (r: LogicalRange | null) => {
      if (r === null || r.from >= 15 || expanding) return;
      expanding = true;
      setTimeout(() => {
        expanding = false;
        expand.current();
      }, 0);
    };
    chart.timeScale().subscribeVisibleLogicalRangeChange(onRange);
    const lineMap = priceLines.current;
    return () => {
      chart.unsubscribeCrosshairMove(onCross);
      chart.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      overlay.current?.dispose();
      lineMap.clear();
      chart.remove();
      chartRef.current = undefined;
      candles.current = undefined;
      volume.current = undefined;
      overlay.current = undefined;
      primitive.current = undefined;
      markers.current = undefined;
      drawnRev.current = -1;
      drawnCount.current = 0;
    };
  }, []);

  // Theme: recolour (not on mount: the chart was created with the current colours). After this commit's
  // effects, so the app shell has put the new theme on the document before its colours are read.
  const drawnTheme = useRef(p.theme);
  useEffect(() => {
    if (drawnTheme.current === p.theme) return;
    let live = true;
    queueMicrotask(() => {
      const chart = chartRef.current;
      if (!live || chart === undefined) return;
      drawnTheme.current = p.theme;
      const col = cssColors();
      chart.applyOptions({
        layout: { background: { type: ColorType.Solid, color: col.bg }, textColor: col.text, panes: { separatorColor: col.border } },
        grid: { vertLines: { color: col.grid }, horzLines: { color: col.grid } },
        rightPriceScale: { borderColor: col.border },
        timeScale: { borderColor: col.border },
      });
      candles.current?.applyOptions({ upColor: col.up, downColor: col.down, borderUpColor: col.up, borderDownColor: col.down, wickUpColor: col.up, wickDownColor: col.down });
      drawnRev.current = -1;
    });
    return () => {
      live = false;
    };
  }, [p.theme]);

  // Indicators: a settings change rebuilds their series.
  const specsKey = p.indicators.map(indicatorLabel).join('|');
  useEffect(() => {
    const o = overlay.current;
    if (o === undefined) return;
    o.setSpecs(p.indicators);
    setLegend(o.legend());
  }, [specsKey]); // the labels identify the specs

  // New symbol or timeframe: start over.
  useEffect(() => {
    drawnRev.current = -1;
    drawnCount.current = 0;
    liveBar.current = undefined;
    firstDone.current = false;
    setDraft(null);
    setPreview(null);
    setMenu(null);
  }, [p.symbol, p.timeframe]);

  // Bars: a full draw on reset/prepend (a window of the newest CHART_WINDOW), `update` (O(1)) for the live bar.
  useEffect(() => {
    const cs = candles.current;
    const vs = volume.current;
    const o = overlay.current;
    const book = p.book;
    if (cs === undefined || vs === undefined || o === undefined) return;
    if (book === undefined) {
      // The data went away (another venue, signed out): never leave old candles on screen.
      if (drawnRev.current >= 0) {
        cs.setData([]);
        vs.setData([]);
        o.setBars([]);
        drawnRev.current = -1;
        drawnCount.current = 0;
        windowStart.current = 0;
        liveBar.current = undefined;
        index.current = undefined;
        indexKey.current = '';
        setBarsShown(0);
        setOhlc(undefined);
        setLegend(o.legend());
      }
      return;
    }
    if (book.rev === drawnRev.current) return;
    const col = cssColors();
    const n = book.bars.length;
    if (drawnRev.current >= 0 && book.last === 'update' && n > 0 && n >= drawnCount.current && n - drawnCount.current <= 1) {
      const b = book.bars[n - 1]!;
      const time = toChartTime(b.t) as Time;
      cs.update({ time, open: b.o, high: b.h, low: b.l, close: b.c });
      vs.update({ time, value: b.v, color: b.c >= b.o ? col.upVol : col.downVol });
      o.updateBar(b);
      if (n > drawnCount.current) setBarsShown(n - windowStart.current);
    } else {
      const prepended = book.last === 'prepend' && drawnRev.current >= 0 ? n - drawnCount.current : 0;
      const oldStart = windowStart.current + prepended; // where the bars on screen now sit in the new book
      const fresh = drawnRev.current < 0 || book.last === 'reset';
      const start = fresh ? Math.max(0, n - CHART_WINDOW) : Math.max(0, oldStart - CHART_WINDOW);
      drawWindow(book.bars, start, fresh ? 0 : oldStart - start);
      if (!firstDone.current && n > 0) {
        firstDone.current = true;
        p.onFirstRender?.();
      }
    }
    liveBar.current = book.bars[n - 1];
    drawnRev.current = book.rev;
    drawnCount.current = n;
    redrawIndex(book.bars);
    const last = book.bars[n - 1];
    // no bars (a symbol that has not traded): no legend and no price axis, rather than the previous symbol's
    // last bar and price range
    if (!hoverBar.current) setOhlc(last === undefined ? undefined : { o: last.o, h: last.h, l: last.l, c: last.c, v: last.v });
    if (axisShown.current !== n > 0) {
      axisShown.current = n > 0;
      chartRef.current?.priceScale('right').applyOptions({ visible: n > 0 });
    }
    setLegend(o.legend());
  }, [p.book, p.book?.rev, p.timeframe]);

  // The last trade moves the live bar between candle pushes.
  useEffect(() => {
    const q = p.quote;
    const cs = candles.current;
    const b = liveBar.current;
    if (q === undefined || q.last === null || cs === undefined || b === undefined) return;
    const step = TIMEFRAME_MS[p.timeframe];
    if (Math.floor(q.ts / step) * step !== b.t || q.last === b.c) return;
    const nb: Candle = { ...b, c: q.last, h: Math.max(b.h, q.last), l: Math.min(b.l, q.last) };
    liveBar.current = nb;
    cs.update({ time: toChartTime(nb.t) as Time, open: nb.o, high: nb.h, low: nb.l, close: nb.c });
  }, [p.quote, p.timeframe]);

  // My fills as markers on their bars.
  const myFills = useMemo(() => (p.fills ?? []).filter((f) => f.symbol === p.symbol), [p.fills, p.symbol]);
  useEffect(() => {
    const m = markers.current;
    if (m === undefined) return;
    const col = cssColors();
    const step = TIMEFRAME_MS[p.timeframe];
    const list: SeriesMarker<Time>[] = myFills
      .slice(0, 300)
      .map((f) => ({
        time: toChartTime(Math.floor(f.ts / step) * step) as Time,
        position: f.side === 'buy' ? ('belowBar' as const) : ('aboveBar' as const),
        shape: f.side === 'buy' ? ('arrowUp' as const) : ('arrowDown' as const),
        color: f.side === 'buy' ? col.buy : col.sell,
        text: `${f.side === 'buy' ? 'B' : 'S'} ${formatQty(f.qty)} @ ${fmtRef.current(f.price)}`,
        id: `f${f.tradeId}-${f.orderId}`,
      }))
      .sort((a, b) => (a.time as number) - (b.time as number));
    m.setMarkers(list);
  }, [myFills, p.timeframe, p.book?.rev]);

  const mapper = (): CoordinateMapper | null => {
    const chart = chartRef.current;
    const cs = candles.current;
    const idx = index.current;
    return chart === undefined || cs === undefined || idx === undefined ? null : chartMapper(chart, cs, idx);
  };

  // Drawings (and the draft) onto the primitive.
  useEffect(() => {
    const m = mapper();
    if (m !== null) primitive.current?.set(shown, draft, m);
  });

  // ---------------------------------------------------------------- sync with the other charts of the group
  const hovering = useRef(false);
  const userAt = useRef(0);
  const syncGroup = p.sync?.group;
  const syncTime = p.sync?.time === true;
  useEffect(() => {
    const chart = chartRef.current;
    const cs = candles.current;
    const root = wrap.current;
    if (syncGroup === undefined || chart === undefined || cs === undefined || root === null) return;
    const step = TIMEFRAME_MS[p.timeframe];
    const onEvent = (e: SyncEvent) => {
      if (e.kind === 'crosshairOff') {
        chart.clearCrosshairPosition();
        delete root.dataset['syncCrosshair'];
      } else if (e.kind === 'crosshair') {
        const t = bucketOf(e.time, step);
        chart.setCrosshairPosition(e.price, toChartTime(t) as Time, cs);
        root.dataset['syncCrosshair'] = String(t);
      } else if (syncTime && e.stepMs === step && e.to > e.from) {
        const ts = chart.timeScale();
        ts.setVisibleRange({ from: toChartTime(e.from) as Time, to: toChartTime(e.to) as Time });
        // A time range ends at a bar: the leader's empty margin on the right is added back in bar slots.
        const lr = ts.getVisibleLogicalRange();
        if (e.gap !== undefined && e.gap > 0 && lr !== null) ts.setVisibleLogicalRange({ from: lr.from, to: lr.to + e.gap });
        root.dataset['syncRange'] = `${e.from}-${e.to}`;
      }
    };
    const member = chartSync.join(syncGroup, onEvent);
    // Publish only what the trader does here (programmatic moves from the group must not echo back).
    const onCross = (param: MouseEventParams<Time>) => {
      if (!hovering.current) return;
      if (param.time === undefined || param.point === undefined) return;
      const price = cs.coordinateToPrice(param.point.y);
      if (price !== null) member.publish({ kind: 'crosshair', time: (param.time as number) * 1000, price });
    };
    const onRange = (r: IRange<Time> | null) => {
      if (r === null || Date.now() - userAt.current > 400) return;
      const lr = chart.timeScale().getVisibleLogicalRange();
      const last = Math.max(0, drawnCount.current - windowStart.current - 1); // the last bar's logical index
      const gap = lr === null ? 0 : Math.max(0, lr.to - last);
      member.publish({ kind: 'range', from: (r.from as number) * 1000, to: (r.to as number) * 1000, stepMs: step, gap });
    };
    const enter = () => (hovering.current = true);
    const leave = () => {
      hovering.current = false;
      member.publish({ kind: 'crosshairOff' });
    };
    const active = () => (userAt.current = Date.now());
    const onMove = (e: MouseEvent) => {
      if (e.buttons !== 0) active();
    };
    chart.subscribeCrosshairMove(onCross);
    chart.timeScale().subscribeVisibleTimeRangeChange(onRange);
    root.addEventListener('mouseenter', enter);
    root.addEventListener('mouseleave', leave);
    root.addEventListener('wheel', active, { passive: true, capture: true });
    root.addEventListener('mousedown', active, true);
    root.addEventListener('mousemove', onMove, true);
    root.addEventListener('keydown', active, true);
    return () => {
      chart.unsubscribeCrosshairMove(onCross);
      chart.timeScale().unsubscribeVisibleTimeRangeChange(onRange);
      root.removeEventListener('mouseenter', enter);
      root.removeEventListener('mouseleave', leave);
      root.removeEventListener('wheel', active, { capture: true });
      root.removeEventListener('mousedown', active, true);
      root.removeEventListener('mousemove', onMove, true);
      root.removeEventListener('keydown', active, true);
      member.leave();
    };
  }, [syncGroup, syncTime, p.timeframe]);

  // ---------------------------------------------------------------- order and alert lines
  const lines = useMemo(() => orderLines(p.orders, p.symbol), [p.orders, p.symbol]);
  const linesRef = useRef(lines);
  linesRef.current = lines;
  const hasPosition = p.position !== undefined && p.position.symbol === p.symbol && p.position.qty !== 0 && Number.isFinite(p.position.avgPrice);

  useEffect(() => {
    const cs = candles.current;
    if (cs === undefined) return;
    const col = cssColors();
    const want = new Map<string, { price: number; color: string; title: string; style: LineStyle }>();
    for (const l of lines) {
      const dragging = drag !== null && drag.line.key === l.key;
      want.set(l.key, {
        price: dragging ? drag.price : l.price,
        color: l.side === 'buy' ? col.buy : col.sell,
        // The handle beside the line carries the label; the line keeps only its axis price.
        title: '',
        style: l.pending ? LineStyle.Dotted : LineStyle.Solid,
      });
    }
    const pos = p.position;
    if (hasPosition) want.set('pos', { price: pos!.avgPrice, color: col.warn, title: `POS ${formatQty(pos!.qty, true)} @ ${formatAvgPrice(pos!.avgPrice)}`, style: LineStyle.Dashed });
    for (const a of p.alerts ?? []) {
      if (a.symbol !== p.symbol || a.status !== 'armed') continue;
      want.set(`a${a.id}`, { price: a.price, color: col.warn, title: `ALERT ${a.direction === 'above' ? '≥' : '≤'}`, style: LineStyle.Dashed });
    }
    const map = priceLines.current;
    for (const [k, drawn] of map)
      if (!want.has(k)) {
        cs.removePriceLine(drawn.line);
        map.delete(k);
      }
    for (const [k, w] of want) {
      // Unchanged lines are left alone: every applyOptions redraws the whole chart.
      const sig = `${w.price}|${w.color}|${w.title}|${w.style}`;
      const drawn = map.get(k);
      if (drawn?.sig === sig) continue;
      const opts = { price: w.price, color: w.color, title: w.title, lineStyle: w.style, lineWidth: 1 as const, axisLabelVisible: true };
      if (drawn === undefined) map.set(k, { line: cs.createPriceLine(opts), sig });
      else {
        drawn.line.applyOptions(opts);
        drawn.sig = sig;
      }
    }
  }, [lines, p.alerts, p.symbol, p.position, hasPosition, drag, fmt]);

  // Keep the HTML handles (drag grip + cancel) on their lines as the scale moves.
  useEffect(() => {
    let raf = 0;
    const tick = () => {
      const cs = candles.current;
      const chart = chartRef.current;
      if (cs !== undefined && chart !== undefined) {
        const paneH = chart.panes()[0]?.getHeight() ?? 0;
        const shownTags: { el: HTMLDivElement; y: number }[] = [];
        for (const l of linesRef.current) {
          const el = tags.current.get(l.key);
          if (el === undefined) continue;
          const price = drag !== null && drag.line.key === l.key ? drag.price : l.price;
          const y = cs.priceToCoordinate(price);
          if (y === null || y < 0 || y > paneH) el.style.display = 'none';
          else {
            el.style.display = '';
            el.style.top = `${Math.round(y) - 9}px`;
            shownTags.push({ el, y });
          }
        }
        // Orders a tick or two apart would cover each other's handles: lay close ones side by side.
        // In a crowd the handles drop their labels (the line's axis price and colour stay).
        shownTags.sort((a, b) => a.y - b.y);
        const groups: (typeof shownTags)[] = [];
        for (const t of shownTags) {
          const g = groups[groups.length - 1];
          if (g !== undefined && t.y - g[0]!.y < TAG_H + 1) g.push(t);
          else groups.push([t]);
        }
        for (const g of groups) {
          let offset = 0;
          for (const t of g) {
            t.el.classList.toggle('compact', g.length > 1);
            t.el.style.right = `${TAG_RIGHT + offset}px`;
            offset += t.el.offsetWidth + 4;
          }
        }
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [drag]);

  const local = (e: { clientX: number; clientY: number }) => {
    const r = host.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const inPricePane = (x: number, y: number): boolean => {
    const chart = chartRef.current;
    if (chart === undefined) return false;
    const plotW = chart.timeScale().width();
    const paneH = chart.panes()[0]?.getHeight() ?? 0;
    return x >= 0 && x <= plotW && y >= 0 && y <= paneH;
  };

  /** Drag an order line (from its grip or the line itself) until the mouse/pointer is released. */
  const startLineDrag = (line: OrderLine) => {
    const cs = candles.current;
    if (cs === undefined) return;
    let price = line.price;
    setDrag({ line, price });
    const move = (ev: { clientX: number; clientY: number }) => {
      const raw = cs.coordinateToPrice(local(ev).y);
      if (raw === null) return;
      price = snapToTick(raw, p.tick);
      setDrag({ line, price });
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', cancel);
      const req = dropLine(line, price, p.tick);
      if (req === null) {
        setDrag(null);
        return;
      }
      // Keep the line at the new price until the order update (or the rejection) arrives.
      void Promise.resolve(p.onReplace(req))
        .catch(() => undefined)
        .finally(() => setDrag((d) => (d !== null && d.line.key === line.key ? null : d)));
    };
    const cancel = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', cancel);
      setDrag(null);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', cancel);
  };

  // ---------------------------------------------------------------- mouse on the chart (capture: before the chart pans)
  const onMouseDownCapture = (e: ReactMouseEvent) => {
    const target = e.target as Element;
    if (target.closest('.pw-order-tag, .pw-menu') !== null) return;
    if (menu !== null) {
      setMenu(null);
      return;
    }
    if (e.button !== 0) return;
    const { x, y } = local(e);
    if (!inPricePane(x, y)) return;
    const m = mapper();
    const cs = candles.current;
    if (m === null || cs === undefined) return;
    if (tool !== 'select') {
      const t = m.xToTime(x);
      const pr = m.yToPrice(y);
      if (t === null || pr === null) return;
      e.stopPropagation();
      e.preventDefault();
      const anchor = { t, p: pr };
      if (draft !== null) {
        p.onDrawingsChange(addDrawing(p.drawings, { ...draft, ...(draft.kind === 'trend' || draft.kind === 'rect' ? { b: anchor } : {}) } as Drawing));
        setDraft(null);
        setTool('select');
        return;
      }
      const d = makeDrawing(newDrawingId(), tool, anchor, anchor, { text: text.trim() || 'Note' });
      if (CLICKS_TO_PLACE[tool] === 1) {
        p.onDrawingsChange(addDrawing(p.drawings, d));
        setTool('select');
      } else setDraft(d);
      return;
    }
    // An order line under the pointer: drag it.
    const hitLine = lineAt(lines, y, (pr) => cs.priceToCoordinate(pr), 4);
    if (hitLine !== null && draggable(hitLine, p.orders)) {
      e.stopPropagation();
      e.preventDefault();
      startLineDrag(hitLine);
      return;
    }
    // A drawing: select it and drag it.
    const hit: Hit | null = hitTest(p.drawings, x, y, 6, m);
    if (hit === null) {
      if (p.drawings.selectedId !== null) p.onDrawingsChange(selectDrawing(p.drawings, null));
      return; // let the chart pan
    }
    e.stopPropagation();
    e.preventDefault();
    host.current?.parentElement?.focus();
    const start = selectDrawing(p.drawings, hit.id);
    const from = { x, y };
    let last = start;
    setPreview(start);
    const move = (ev: MouseEvent) => {
      const mm = mapper();
      if (mm === null) return;
      last = dragDrawing(start, hit, from, local(ev), mm);
      setPreview(last);
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      setPreview(null);
      p.onDrawingsChange(last);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };

  const onMouseMove = (e: ReactMouseEvent) => {
    const { x, y } = local(e);
    if (draft !== null && (draft.kind === 'trend' || draft.kind === 'rect')) {
      const m = mapper();
      const t = m?.xToTime(x) ?? null;
      const pr = m?.yToPrice(y) ?? null;
      if (t !== null && pr !== null) setDraft({ ...draft, b: { t, p: pr } });
      return;
    }
    // Cursor hints: a draggable line or a drawing under the pointer.
    const cs = candles.current;
    const el = host.current;
    if (cs === undefined || el === null || tool !== 'select' || !inPricePane(x, y)) return;
    const overLine = lineAt(lines, y, (pr) => cs.priceToCoordinate(pr), 4);
    const m = mapper();
    const overDrawing = m !== null && hitTest(p.drawings, x, y, 6, m) !== null;
    el.style.cursor = overLine !== null && draggable(overLine, p.orders) ? 'ns-resize' : overDrawing ? 'move' : '';
  };

  const onContextMenu = (e: ReactMouseEvent) => {
    const { x, y } = local(e);
    if (!inPricePane(x, y)) return;
    const raw = candles.current?.coordinateToPrice(y) ?? null;
    if (raw === null) return;
    e.preventDefault();
    setDraft(null);
    setMenu({ x, y, price: raw });
  };

  const menuModel = menu === null ? null : contextActions(menu.price, { symbol: p.symbol, tick: p.tick, qty: p.qty, last: p.last }, fmt);
  const selected = p.drawings.drawings.find((d) => d.id === p.drawings.selectedId);

  return (
    <div
      ref={wrap}
      className="pw-chart"
      data-testid="chart"
      data-bars={barsShown}
      data-lines={[...lines.map((l) => l.key), ...(hasPosition ? ['pos'] : [])].join(' ')}
      data-markers={myFills.length}
      data-drawings={p.drawings.drawings.length}
      tabIndex={0}
      onKeyDown={(e) => {
        if ((e.key === 'Delete' || e.key === 'Backspace') && p.drawings.selectedId !== null) {
          e.preventDefault();
          p.onDrawingsChange(removeSelected(p.drawings));
        } else if (e.key === 'Escape') {
          setDraft(null);
          setMenu(null);
          setTool('select');
        }
      }}
    >
      <div className="pw-chart-tools" role="toolbar" aria-label="Drawing tools">
        {TOOLS.map((t) => (
          <button
            key={t.id}
            type="button"
            className={`pw-tool${tool === t.id ? ' on' : ''}`}
            title={t.title}
            aria-label={t.title}
            aria-pressed={tool === t.id}
            data-tool={t.id}
            onClick={() => {
              setDraft(null);
              setTool(t.id);
            }}
          >
            {t.label}
          </button>
        ))}
        {tool === 'text' && <input className="pw-tool-text" aria-label="Text to place" value={text} maxLength={200} onChange={(e) => setText(e.target.value)} />}
        {selected !== undefined && (
          <>
            {selected.kind === 'text' && (
              <input
                className="pw-tool-text"
                aria-label="Edit text"
                value={selected.text}
                maxLength={200}
                onChange={(e) => p.onDrawingsChange(updateDrawing(p.drawings, selected.id, (d) => (d.kind === 'text' ? { ...d, text: e.target.value || ' ' } : d)))}
              />
            )}
            <button type="button" className="pw-tool danger" title="Delete the selected drawing (Del)" aria-label="Delete drawing" onClick={() => p.onDrawingsChange(removeSelected(p.drawings))}>
              🗑
            </button>
          </>
        )}
      </div>
      <div className="pw-chart-body" onMouseDownCapture={onMouseDownCapture} onMouseMove={onMouseMove} onContextMenu={onContextMenu}>
        <div ref={host} className="pw-chart-canvas" />
        {ohlc !== undefined && (
          <div className="chart-legend" data-testid="chart-legend">
            <span className="sym">{p.symbol}</span>
            <span className="muted">{p.timeframe}</span>
            <span>O <b>{fmt(ohlc.o)}</b></span>
            <span>H <b>{fmt(ohlc.h)}</b></span>
            <span>L <b>{fmt(ohlc.l)}</b></span>
            <span>C <b className={ohlc.c > ohlc.o ? 'up' : ohlc.c < ohlc.o ? 'down' : ''}>{fmt(ohlc.c)}</b></span>
            <span>V <b>{formatVolume(ohlc.v)}</b></span>
          </div>
        )}
        {p.book !== undefined && p.book.bars.length === 0 && <div className="chart-empty">No trades yet in {p.symbol}</div>}
        {legend.length > 0 && (
          <div className="pw-ind-legend" data-testid="indicator-legend">
            {legend
              .filter((l) => l.pane === 0)
              .map((l) => (
                <span key={l.label} style={{ color: l.values[0]?.color }}>
                  {l.label} <b>{l.values.map((v) => (v.value === null ? '—' : fmt(Math.round(v.value)))).join(' / ')}</b>
                </span>
              ))}
            {legend
              .filter((l) => l.pane !== 0)
              .map((l) => (
                <span key={l.label} style={{ color: l.values[l.values.length > 1 ? 1 : 0]?.color }}>
                  {l.label} <b>{l.values.map((v) => (v.value === null ? '—' : l.label.startsWith('MACD') ? (v.value / 100).toFixed(4) : v.value.toFixed(2))).join(' / ')}</b>
                </span>
              ))}
          </div>
        )}
        {lines.map((l) => (
            <div
              key={l.key}
              ref={(el) => {
                if (el === null) tags.current.delete(l.key);
                else tags.current.set(l.key, el);
              }}
              className={`pw-order-tag ${l.side}${drag?.line.key === l.key ? ' dragging' : ''}`}
              data-order-line={l.key}
              style={{ display: 'none' }}
            >
              {draggable(l, p.orders) ? (
                <button
                  type="button"
                  className="pw-grip"
                  aria-label={`Move ${l.label} at ${fmt(l.price)}: drag, or arrow keys then Enter`}
                  title="Drag to a new price"
                  onPointerDown={(e) => {
                    if (e.button !== 0) return;
                    e.preventDefault();
                    e.stopPropagation();
                    startLineDrag(l);
                  }}
                  onKeyDown={(e) => {
                    const cur = drag?.line.key === l.key ? drag.price : l.price;
                    if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
                      e.preventDefault();
                      setDrag({ line: l, price: Math.max(p.tick, cur + (e.key === 'ArrowUp' ? p.tick : -p.tick)) });
                    } else if (e.key === 'Enter' && drag?.line.key === l.key) {
                      e.preventDefault();
                      const req = dropLine(l, drag.price, p.tick);
                      if (req === null) setDrag(null);
                      else void Promise.resolve(p.onReplace(req)).catch(() => undefined).finally(() => setDrag(null));
                    } else if (e.key === 'Escape') setDrag(null);
                  }}
                >
                  <span className="pw-tag-label">{l.label}</span>⇕ {fmt(drag?.line.key === l.key ? drag.price : l.price)}
                </button>
              ) : (
                <span className="pw-grip static">
                  <span className="pw-tag-label">{l.label}</span>
                  {fmt(l.price)}
                </span>
              )}
              <button type="button" className="pw-x" aria-label={`Cancel ${l.label} at ${fmt(l.price)}`} title="Cancel this order" onClick={() => p.onCancel(l.orderId)}>
                ×
              </button>
            </div>
          ))}
        {menu !== null && menuModel !== null && (
          <div
            className="pw-menu"
            role="menu"
            data-testid="chart-menu"
            style={menuPlacement(menu, host.current)}
            onMouseDown={(e) => e.stopPropagation()}
            onKeyDown={(e) => e.key === 'Escape' && setMenu(null)}
          >
            <div className="pw-menu-head">{fmt(menuModel.price)}</div>
            {menuModel.actions.map((a) => (
              <button
                key={a.id}
                type="button"
                role="menuitem"
                className={`pw-menu-item ${a.params.side}`}
                data-action={a.id}
                onClick={() => {
                  setMenu(null);
                  p.onPlace(a.params);
                }}
              >
                {a.label}
              </button>
            ))}
            {p.onAlert !== undefined && (
              <button
                type="button"
                role="menuitem"
                className="pw-menu-item"
                data-action="alert"
                onClick={() => {
                  setMenu(null);
                  const price = menuModel.price;
                  p.onAlert?.({ direction: p.last !== null && price < p.last ? 'below' : 'above', price });
                }}
              >
                Alert when price reaches {fmt(menuModel.price)}
              </button>
            )}
            <button type="button" role="menuitem" className="pw-menu-item muted" onClick={() => setMenu(null)}>
              Close
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
