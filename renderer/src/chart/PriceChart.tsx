/**
 * Candles + volume (lightweight-charts v5) for one symbol and timeframe: history loads when the user scrolls
 * back, the last bar updates live (candles stream, and the last trade from the quote stream), a crosshair
 * legend shows O/H/L/C/V, working orders are price lines, fills are markers and the open position's
 * average price is a dashed line. Prices stay integers in minor units; only the axis formatter turns them
 * into text (integer formatting), so the chart does no money arithmetic.
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
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useMemo, useRef, useState } from 'react';
import { TIMEFRAME_MS } from '../../../engine/protocol/index.js';
import type { Candle, Execution, OrderRecord, PositionView, Quote, Timeframe } from '../data/types.js';
import { formatAvgPrice, formatPrice, formatQty, formatVolume } from '../format/num.js';
import { chartColors, type ChartColors } from './theme.js';

export interface ChartBook {
  bars: Candle[];
  rev: number;
  last: 'reset' | 'update' | 'prepend';
}

export interface PriceChartProps {
  symbol: string;
  timeframe: Timeframe;
  book: ChartBook | undefined;
  orders: readonly OrderRecord[];
  fills: readonly Execution[];
  position: PositionView | undefined;
  quote: Quote | undefined;
  theme: string;
  /** Called when the user scrolls near the oldest loaded bar. */
  onNeedHistory?(): void;
  /** Called once the first data has been drawn (for the bench). */
  onFirstRender?(): void;
}

/** Bars handed to the chart at once; older loaded bars join as the user scrolls back (then older pages load). */
export const CHART_WINDOW = 5000;

const sec = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;
const toBar = (c: Candle): CandlestickData<Time> => ({ time: sec(c.t), open: c.o, high: c.h, low: c.l, close: c.c });
const toVol = (c: Candle, col: ChartColors): HistogramData<Time> => ({ time: sec(c.t), value: c.v, color: c.c >= c.o ? col.upVol : col.downVol });

interface Legend {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

export function PriceChart(p: PriceChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | undefined>(undefined);
  const candles = useRef<ISeriesApi<'Candlestick'> | undefined>(undefined);
  const volume = useRef<ISeriesApi<'Histogram'> | undefined>(undefined);
  const markers = useRef<ISeriesMarkersPluginApi<Time> | undefined>(undefined);
  const lines = useRef(new Map<string, IPriceLine>());
  const colors = useRef<ChartColors | undefined>(undefined);
  const drawnRev = useRef(-1);
  const drawnCount = useRef(0);
  const firstDone = useRef(false);
  const live = useRef<Candle | undefined>(undefined);
  const needHistory = useRef(p.onNeedHistory);
  needHistory.current = p.onNeedHistory;
  /** Index in the book of the first bar the chart holds. */
  const windowStart = useRef(0);
  const bookRef = useRef(p.book);
  bookRef.current = p.book;
  const [shown, setShown] = useState(0);
  const [legend, setLegend] = useState<Legend | undefined>(undefined);
  const [hover, setHover] = useState(false);

  /** Hands bars[start..] to the chart; `shift` bars were added on the left (the view stays where it was). */
  const drawWindow = (bars: readonly Candle[], start: number, shift: number) => {
    const cs = candles.current;
    const vs = volume.current;
    const col = colors.current;
    if (cs === undefined || vs === undefined || col === undefined) return;
    const ts = chart.current?.timeScale();
    const before = shift > 0 ? (ts?.getVisibleLogicalRange() ?? null) : null;
    const m = bars.length - start;
    const cd: CandlestickData<Time>[] = new Array(m);
    const vd: HistogramData<Time>[] = new Array(m);
    for (let i = 0; i < m; i++) {
      const b = bars[start + i]!;
      const time = sec(b.t);
      cd[i] = { time, open: b.o, high: b.h, low: b.l, close: b.c };
      vd[i] = { time, value: b.v, color: b.c >= b.o ? col.upVol : col.downVol };
    }
    cs.setData(cd);
    vs.setData(vd);
    windowStart.current = start;
    setShown(m);
    if (before !== null) ts?.setVisibleLogicalRange({ from: before.from + shift, to: before.to + shift });
  };
  const expand = useRef<() => void>(() => undefined);
  expand.current = () => {
    const book = bookRef.current;
    if (book === undefined) return;
    if (windowStart.current > 0) {
      const start = Math.max(0, windowStart.current - CHART_WINDOW);
      drawWindow(book.bars, start, windowStart.current - start);
    } else needHistory.current?.();
  };

  // Create the chart once per mount.
  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const col = chartColors();
    colors.current = col;
    const c = createChart(el, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: col.bg }, textColor: col.text, fontSize: 11, attributionLogo: false },
      grid: { vertLines: { color: col.grid }, horzLines: { color: col.grid } },
      rightPriceScale: { borderColor: col.border, scaleMargins: { top: 0.08, bottom: 0.22 } },
      timeScale: { borderColor: col.border, timeVisible: true, secondsVisible: false, rightOffset: 6, barSpacing: 7 },
      crosshair: { mode: CrosshairMode.Normal },
      localization: { priceFormatter: (v: number) => formatPrice(Math.round(v)) },
    });
    const cs = c.addSeries(CandlestickSeries, {
      upColor: col.up,
      downColor: col.down,
      borderUpColor: col.up,
      borderDownColor: col.down,
      wickUpColor: col.up,
      wickDownColor: col.down,
      priceFormat: { type: 'custom', minMove: 1, formatter: (v: number) => formatPrice(Math.round(v)) },
    });
    const vs = c.addSeries(HistogramSeries, {
      priceScaleId: 'vol',
      priceFormat: { type: 'custom', minMove: 1, formatter: (v: number) => formatVolume(Math.round(v)) },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    c.priceScale('vol').applyOptions({ scaleMargins: { top: 0.82, bottom: 0 }, visible: false });
    chart.current = c;
    candles.current = cs;
    volume.current = vs;
    markers.current = createSeriesMarkers(cs, []);
    const onCross = (param: MouseEventParams<Time>) => {
      const bar = param.seriesData.get(cs) as CandlestickData<Time> | undefined;
      const vol = param.seriesData.get(vs) as HistogramData<Time> | undefined;
      if (bar === undefined || param.time === undefined) {
        setHover(false);
        return;
      }
      setHover(true);
      setLegend({ o: bar.open, h: bar.high, l: bar.low, c: bar.close, v: vol?.value ?? 0 });
    };
    c.subscribeCrosshairMove(onCross);
    let expanding = false;
    const onRange = (r: LogicalRange | null) => {
      if (r === null || r.from >= 15 || expanding) return;
      expanding = true;
      setTimeout(() => {
        expanding = false;
        expand.current();
      }, 0);
    };
    c.timeScale().subscribeVisibleLogicalRangeChange(onRange);
    const lineMap = lines.current;
    return () => {
      c.unsubscribeCrosshairMove(onCross);
      c.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      lineMap.clear();
      c.remove();
      chart.current = undefined;
      candles.current = undefined;
      volume.current = undefined;
      markers.current = undefined;
      drawnRev.current = -1;
      drawnCount.current = 0;
    };
  }, []);

  // Theme changes: recolour.
  useEffect(() => {
    const c = chart.current;
    if (c === undefined) return;
    const col = chartColors();
    colors.current = col;
    c.applyOptions({
      layout: { background: { type: ColorType.Solid, color: col.bg }, textColor: col.text },
      grid: { vertLines: { color: col.grid }, horzLines: { color: col.grid } },
      rightPriceScale: { borderColor: col.border },
      timeScale: { borderColor: col.border },
    });
    candles.current?.applyOptions({ upColor: col.up, downColor: col.down, borderUpColor: col.up, borderDownColor: col.down, wickUpColor: col.up, wickDownColor: col.down });
    drawnRev.current = -1; // redraw volume colours
  }, [p.theme]);

  // New symbol or timeframe: start over.
  useEffect(() => {
    drawnRev.current = -1;
    drawnCount.current = 0;
    live.current = undefined;
    firstDone.current = false;
  }, [p.symbol, p.timeframe]);

  // Bars: full draw on reset/prepend, `update` for the live bar.
  useEffect(() => {
    const cs = candles.current;
    const vs = volume.current;
    const col = colors.current;
    const book = p.book;
    if (cs === undefined || vs === undefined || col === undefined) return;
    if (book === undefined) {
      // The data went away (another venue, signed out): never leave old candles on screen.
      if (drawnRev.current >= 0) {
        cs.setData([]);
        vs.setData([]);
        drawnRev.current = -1;
        drawnCount.current = 0;
        windowStart.current = 0;
        setShown(0);
        setLegend(undefined);
      }
      return;
    }
    if (book.rev === drawnRev.current) return;
    const n = book.bars.length;
    if (drawnRev.current >= 0 && book.last === 'update' && n >= drawnCount.current && n - drawnCount.current <= 1 && n > 0) {
      const b = book.bars[n - 1]!;
      cs.update(toBar(b));
      vs.update(toVol(b, col));
      live.current = b;
    } else {
      const prepended = book.last === 'prepend' && drawnRev.current >= 0 ? n - drawnCount.current : 0;
      const oldStart = windowStart.current + prepended; // where the bars on screen now sit in the new book
      const start = drawnRev.current < 0 || book.last === 'reset' ? Math.max(0, n - CHART_WINDOW) : Math.max(0, oldStart - CHART_WINDOW);
      drawWindow(book.bars, start, drawnRev.current >= 0 && book.last !== 'reset' ? oldStart - start : 0);
      live.current = book.bars[n - 1];
      if (!firstDone.current && n > 0) {
        firstDone.current = true;
        p.onFirstRender?.();
      }
    }
    drawnRev.current = book.rev;
    drawnCount.current = n;
    const last = book.bars[n - 1];
    if (last !== undefined && !hover) setLegend({ o: last.o, h: last.h, l: last.l, c: last.c, v: last.v });
  }, [p.book, p.book?.rev]);

  // The last trade moves the live bar between candle pushes.
  useEffect(() => {
    const q = p.quote;
    const cs = candles.current;
    const b = live.current;
    if (q === undefined || q.last === null || cs === undefined || b === undefined) return;
    const bucket = Math.floor(q.ts / TIMEFRAME_MS[p.timeframe]) * TIMEFRAME_MS[p.timeframe];
    if (bucket !== b.t || q.last === b.c) return;
    const nb: Candle = { ...b, c: q.last, h: Math.max(b.h, q.last), l: Math.min(b.l, q.last) };
    live.current = nb;
    cs.update(toBar(nb));
  }, [p.quote, p.timeframe]);

  // Working orders and the position as price lines.
  const wanted = useMemo(() => {
    const out = new Map<string, { price: number; color: string; title: string; style: LineStyle }>();
    const col = colors.current ?? chartColors();
    for (const o of p.orders) {
      if (o.symbol !== p.symbol || (o.status !== 'working' && o.status !== 'pending_trigger')) continue;
      const px = o.orderType === 'limit' || (o.orderType === 'stop_limit' && o.status === 'working') ? o.price : (o.stopPrice ?? o.price);
      if (px === undefined) continue;
      const kind = { market: 'MKT', limit: 'LMT', stop: 'STP', stop_limit: 'STP LMT', trailing_stop: 'TRAIL' }[o.orderType];
      out.set(`o${o.orderId}`, {
        price: px,
        color: o.side === 'buy' ? col.buy : col.sell,
        title: `${o.side === 'buy' ? 'BUY' : 'SELL'} ${formatQty(o.leaves)} ${kind}`,
        style: o.status === 'working' ? LineStyle.Solid : LineStyle.Dotted,
      });
    }
    const pos = p.position;
    if (pos !== undefined && pos.qty !== 0 && Number.isFinite(pos.avgPrice)) {
      out.set('pos', { price: pos.avgPrice, color: col.position, title: `POS ${formatQty(pos.qty, true)} @ ${formatAvgPrice(pos.avgPrice)}`, style: LineStyle.Dashed });
    }
    return out;
  }, [p.orders, p.position, p.symbol]);

  useEffect(() => {
    const cs = candles.current;
    if (cs === undefined) return;
    const map = lines.current;
    for (const [k, line] of map) {
      if (!wanted.has(k)) {
        cs.removePriceLine(line);
        map.delete(k);
      }
    }
    for (const [k, w] of wanted) {
      const opts = { price: w.price, color: w.color, title: w.title, lineStyle: w.style, lineWidth: 1 as const, axisLabelVisible: true };
      const line = map.get(k);
      if (line === undefined) map.set(k, cs.createPriceLine(opts));
      else line.applyOptions(opts);
    }
  }, [wanted]);

  // Fills as markers on their bars.
  useEffect(() => {
    const m = markers.current;
    if (m === undefined) return;
    const col = colors.current ?? chartColors();
    const tf = TIMEFRAME_MS[p.timeframe];
    const list: SeriesMarker<Time>[] = p.fills
      .filter((f) => f.symbol === p.symbol)
      .slice(0, 300)
      .map((f) => ({
        time: sec(Math.floor(f.ts / tf) * tf),
        position: f.side === 'buy' ? ('belowBar' as const) : ('aboveBar' as const),
        shape: f.side === 'buy' ? ('arrowUp' as const) : ('arrowDown' as const),
        color: f.side === 'buy' ? col.buy : col.sell,
        text: `${f.side === 'buy' ? 'B' : 'S'} ${formatQty(f.qty)} @ ${formatPrice(f.price)}`,
        id: `f${f.tradeId}-${f.orderId}`,
      }))
      .sort((a, b) => (a.time as number) - (b.time as number));
    m.setMarkers(list);
  }, [p.fills, p.symbol, p.timeframe, p.book?.rev]);

  const lg = legend;
  const chg = lg === undefined ? 0 : lg.c - lg.o;
  return (
    <div className="chart-host" data-testid="chart" data-bars={shown} data-lines={[...wanted.keys()].join(' ')} data-markers={p.fills.filter((f) => f.symbol === p.symbol).length}>
      <div ref={host} className="chart-canvas" />
      {lg !== undefined && (
        <div className="chart-legend" data-testid="chart-legend">
          <span className="sym">{p.symbol}</span>
          <span className="muted">{p.timeframe}</span>
          <span>O <b>{formatPrice(lg.o)}</b></span>
          <span>H <b>{formatPrice(lg.h)}</b></span>
          <span>L <b>{formatPrice(lg.l)}</b></span>
          <span>C <b className={chg > 0 ? 'up' : chg < 0 ? 'down' : ''}>{formatPrice(lg.c)}</b></span>
          <span>V <b>{formatVolume(lg.v)}</b></span>
        </div>
      )}
      {p.book !== undefined && p.book.bars.length === 0 && <div className="chart-empty">No trades yet in {p.symbol}</div>}
    </div>
  );
}
