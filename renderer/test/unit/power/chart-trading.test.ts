import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { contextActions, draggable, dropLine, lineAt, orderLines } from '../../../src/power/chartTrading.js';
import { decodeSpecs, encodeSpecs, planIndicators, toChartData } from '../../../src/power/indicatorPlan.js';
import { createMacd, DEFAULT_INDICATORS } from '../../../src/power/indicators.js';
import { TimeIndex } from '../../../src/power/timeIndex.js';
import { order } from './fixtures.js';

describe('order lines', () => {
  const orders = [
    order({ orderId: 1, side: 'buy', price: 9_990, qty: 100 }),
    order({ orderId: 2, side: 'sell', orderType: 'stop', stopPrice: 9_900, status: 'pending_trigger' }),
    order({ orderId: 3, side: 'sell', orderType: 'stop_limit', stopPrice: 9_950, price: 9_940, status: 'pending_trigger' }),
    order({ orderId: 4, side: 'sell', price: 10_200, parentId: 1, status: 'pending_parent' }),
    order({ orderId: 5, side: 'sell', orderType: 'stop', stopPrice: 9_800, parentId: 1, status: 'pending_parent' }),
    order({ orderId: 6, side: 'sell', orderType: 'trailing_stop', stopPrice: 9_850, trailAmount: 100, status: 'pending_trigger' }),
    order({ orderId: 7, side: 'buy', price: 9_000, status: 'canceled' }),
    order({ orderId: 8, side: 'buy', price: 9_000, symbol: 'OTHER' }),
  ];
  const lines = orderLines(orders, 'ACME');

  it('one line per open price: limits at the price, stops at the trigger, stop-limits both; legs marked', () => {
    expect(lines.map((l) => [l.key, l.field, l.price, l.leg, l.pending])).toEqual([
      ['o1', 'price', 9_990, null, false],
      ['o2s', 'stopPrice', 9_900, null, true],
      ['o3s', 'stopPrice', 9_950, null, true],
      ['o3', 'price', 9_940, null, true],
      ['o4', 'price', 10_200, 'takeProfit', true],
      ['o5s', 'stopPrice', 9_800, 'stopLoss', true],
      ['o6s', 'stopPrice', 9_850, null, true],
    ]);
    expect(lines[0]!.label).toBe('BUY 100 LMT');
    expect(lines[4]!.label).toBe('TP SELL 100 LMT');
  });

  it('trailing stops and bracket legs waiting for their entry are not draggable; everything else is', () => {
    expect(lines.filter((l) => !draggable(l, orders)).map((l) => l.orderId)).toEqual([4, 5, 6]);
    const live = orders.map((o) => (o.parentId === undefined ? o : { ...o, status: o.orderType === 'limit' ? ('working' as const) : ('pending_trigger' as const) }));
    expect(orderLines(live, 'ACME').filter((l) => !draggable(l, live)).map((l) => l.orderId)).toEqual([6]);
  });

  it('finds the nearest line within the tolerance', () => {
    const y = (p: number) => 10_000 - p; // 1 px per minor unit
    expect(lineAt(lines, 12, y)?.key).toBe('o1'); // 9 990 is at y = 10
    expect(lineAt(lines, 55, y)?.key).toBe('o3s'); // 50 (o3s) is nearer than 60 (o3)
    expect(lineAt(lines, 30, y)).toBeNull();
    expect(lineAt(lines, 10, () => null)).toBeNull();
  });

  it('a drop is a replace of the dragged field with the price snapped to the tick', () => {
    expect(dropLine(lines[0]!, 10_012.4, 5)).toEqual({ orderId: 1, price: 10_010 });
    expect(dropLine(lines[2]!, 9_971, 5)).toEqual({ orderId: 3, stopPrice: 9_970 });
    expect(dropLine(lines[3]!, 9_921, 1)).toEqual({ orderId: 3, price: 9_921 });
    expect(dropLine(lines[0]!, 9_991, 5)).toBeNull(); // snaps back onto the old price
    expect(dropLine(lines[0]!, null, 5)).toBeNull();
    expect(dropLine(lines[0]!, -40, 5)).toEqual({ orderId: 1, price: 5 });
  });

  it('property: every replace price is a positive tick multiple different from the old one', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e7, noNaN: true }), fc.integer({ min: 1, max: 100 }), (raw, tick) => {
        const line = { ...lines[0]!, price: tick * 100 };
        const r = dropLine(line, raw, tick);
        if (r === null) return;
        expect(r.price! % tick).toBe(0);
        expect(r.price!).toBeGreaterThan(0);
        expect(r.price).not.toBe(line.price);
      }),
    );
  });
});

describe('right-click actions', () => {
  const ctx = { symbol: 'ACME', tick: 5, qty: 100, last: 10_000 };
  it('below the market: buy limit or sell stop; above: sell limit or buy stop; snapped to the tick', () => {
    const below = contextActions(9_951.9, ctx);
    expect(below.price).toBe(9_950);
    expect(below.actions.map((a) => a.params)).toEqual([
      { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 100, price: 9_950, tif: 'day' },
      { symbol: 'ACME', side: 'sell', orderType: 'stop', qty: 100, stopPrice: 9_950, tif: 'day' },
    ]);
    const above = contextActions(10_052, ctx);
    expect(above.actions.map((a) => [a.params.side, a.params.orderType, a.params.price ?? a.params.stopPrice])).toEqual([
      ['buy', 'stop', 10_050],
      ['sell', 'limit', 10_050],
    ]);
    expect(contextActions(10_000, { ...ctx, last: null }).actions.map((a) => a.id)).toEqual(['buy-limit', 'sell-limit']);
  });
});

describe('indicator plan', () => {
  it('overlays on pane 0, each oscillator in its own pane; RSI has 30/70 guides', () => {
    const plan = planIndicators(DEFAULT_INDICATORS);
    expect(plan.map((p) => [p.label, p.pane])).toEqual([
      ['SMA 20', 0],
      ['EMA 50', 0],
      ['BB 20 2', 0],
      ['VWAP', 0],
      ['RSI 14', 1],
      ['MACD 12 26 9', 2],
    ]);
    expect(plan[4]!.levels).toEqual([30, 70]);
    const keys = plan.flatMap((p) => p.series.map((s) => s.key));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('indicator points become chart points in seconds, gaps while warming up, coloured histogram', () => {
    const macd = createMacd(2, 3, 2);
    macd.init([1, 2, 3, 5, 4].map((c, i) => ({ t: (i + 1) * 60_000, o: c, h: c, l: c, c, v: 1 })));
    const [plan] = planIndicators([{ kind: 'macd', fast: 2, slow: 3, signal: 2 }]);
    const hist = plan!.series.find((s) => s.kind === 'histogram')!;
    const data = toChartData(macd.points(), hist);
    expect(data.slice(0, 3)).toEqual([{ time: 60 }, { time: 120 }, { time: 180 }]);
    expect(data[3]).toMatchObject({ time: 240, value: expect.any(Number), color: expect.stringMatching(/^rgba/) });
  });
});

describe('TimeIndex', () => {
  const ti = new TimeIndex([1000, 2000, 4000], 1000);
  it('interpolates between bars and extrapolates by the step beyond the ends', () => {
    expect(ti.toLogical(1000)).toBe(0);
    expect(ti.toLogical(3000)).toBe(1.5);
    expect(ti.toLogical(6000)).toBe(4);
    expect(ti.toLogical(0)).toBe(-1);
    expect(ti.toTime(1.5)).toBe(3000);
    expect(ti.toTime(4)).toBe(6000);
    expect(ti.toTime(-2)).toBe(-1000);
    expect(new TimeIndex([], 1).toLogical(5)).toBeNull();
  });
  it('property: toTime inverts toLogical', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: -1e9, max: 2e9 }), (raw, t) => {
        const idx = new TimeIndex([...raw].sort((a, b) => a - b), 60_000);
        expect(idx.toTime(idx.toLogical(t)!)).toBeCloseTo(t, -1);
      }),
    );
  });
});

describe('indicator settings as a panel param', () => {
  it('round-trips the defaults and stays within a panel param length', () => {
    const text = encodeSpecs(DEFAULT_INDICATORS);
    expect(text).toBe('sma20,ema50,bb20-2,vwap,rsi14,macd12-26-9');
    expect(decodeSpecs(text)).toEqual(DEFAULT_INDICATORS);
    expect(encodeSpecs([{ kind: 'vwap', sessionStartOffsetMs: 810 * 60_000 }])).toBe('vwap810');
    expect(decodeSpecs('vwap810')).toEqual([{ kind: 'vwap', sessionStartOffsetMs: 810 * 60_000 }]);
  });
  it('drops what it cannot read instead of failing', () => {
    expect(decodeSpecs('sma0, ema9 ,macd26-12-9,foo,bb20-2.5,rsi')).toEqual([
      { kind: 'ema', period: 9 },
      { kind: 'bollinger', period: 20, k: 2.5 },
    ]);
    expect(decodeSpecs('')).toEqual([]);
  });
});
