import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Depth, OrderRecord } from '../../../../engine/protocol/index.js';
import { buildLadder, defaultCenter, ladderClick, scrollCenter, VolumeProfile, type LadderRow } from '../../../src/power/ladder.js';
import { order } from './fixtures.js';

const depth = (bids: [number, number][], asks: [number, number][]): Depth => ({
  symbol: 'ACME',
  bids: bids.map(([price, qty]) => ({ price, qty, orders: 1 })),
  asks: asks.map(([price, qty]) => ({ price, qty, orders: 1 })),
});

const rowAt = (rows: readonly LadderRow[], price: number) => {
  const r = rows.find((x) => x.price <= price && price <= x.priceHigh);
  if (r === undefined) throw new Error(`no row for ${price}`);
  return r;
};

describe('buildLadder', () => {
  const book = depth(
    [
      [10_000, 300],
      [9_995, 100],
      [9_990, 50],
    ],
    [
      [10_005, 200],
      [10_010, 400],
    ],
  );

  it('one row per tick, highest first, centred on the price', () => {
    const m = buildLadder({ depth: book, tick: 5, last: 10_005, orders: [], symbol: 'ACME', center: 10_000, rows: 9 });
    expect(m.rows.map((r) => r.price)).toEqual([10_020, 10_015, 10_010, 10_005, 10_000, 9_995, 9_990, 9_985, 9_980]);
    expect(m.centerIndex).toBe(4);
    expect(m.rows[4]!.price).toBe(10_000);
    expect(rowAt(m.rows, 10_000)).toMatchObject({ bidSize: 300, askSize: 0, isBestBid: true, isBestAsk: false });
    expect(rowAt(m.rows, 10_005)).toMatchObject({ bidSize: 0, askSize: 200, isBestAsk: true, isLast: true });
    expect(m.maxBookSize).toBe(400);
    expect(m.rows.filter((r) => r.isLast)).toHaveLength(1);
  });

  it('an off-grid centre snaps down to its tick', () => {
    const m = buildLadder({ depth: null, tick: 5, last: null, orders: [], symbol: 'ACME', center: 10_003, rows: 3 });
    expect(m.rows.map((r) => r.price)).toEqual([10_005, 10_000, 9_995]);
  });

  it('groups N ticks per row and sums sizes inside each bucket', () => {
    const m = buildLadder({ depth: book, tick: 5, last: null, orders: [], symbol: 'ACME', center: 10_000, rows: 3, group: 4 });
    expect(m.step).toBe(20);
    expect(m.rows.map((r) => [r.price, r.priceHigh])).toEqual([
      [10_020, 10_035],
      [10_000, 10_015],
      [9_980, 9_995],
    ]);
    expect(m.rows[1]).toMatchObject({ bidSize: 300, askSize: 600 });
    expect(m.rows[2]).toMatchObject({ bidSize: 150, askSize: 0 });
  });

  it('shows my open orders at their price (stops at their trigger), not filled/canceled ones or other symbols', () => {
    const orders: OrderRecord[] = [
      order({ orderId: 1, side: 'buy', price: 9_995, qty: 100, leaves: 60, filledQty: 40 }),
      order({ orderId: 2, side: 'buy', price: 9_995, qty: 10 }),
      order({ orderId: 3, side: 'sell', price: 10_010, qty: 30 }),
      order({ orderId: 4, side: 'sell', orderType: 'stop', stopPrice: 9_985, qty: 20, status: 'pending_trigger' }),
      order({ orderId: 5, side: 'buy', price: 9_990, status: 'filled', leaves: 0, filledQty: 100 }),
      order({ orderId: 6, side: 'buy', price: 9_990, status: 'canceled' }),
      order({ orderId: 7, side: 'buy', price: 9_990, symbol: 'OTHER' }),
      order({ orderId: 8, side: 'buy', orderType: 'market' }),
    ];
    const m = buildLadder({ depth: book, tick: 5, last: null, orders, symbol: 'ACME', center: 10_000, rows: 9 });
    expect(rowAt(m.rows, 9_995)).toMatchObject({ buyQty: 70, buyOrderIds: [1, 2], sellQty: 0 });
    expect(rowAt(m.rows, 10_010)).toMatchObject({ sellQty: 30, sellOrderIds: [3] });
    expect(rowAt(m.rows, 9_985)).toMatchObject({ sellQty: 20, sellOrderIds: [4] });
    expect(rowAt(m.rows, 9_990)).toMatchObject({ buyQty: 0, buyOrderIds: [] });
    expect(m.rows.reduce((s, r) => s + r.buyQty + r.sellQty, 0)).toBe(120);
  });

  it('never shows a row at or below zero: the centre is clamped up', () => {
    const m = buildLadder({ depth: null, tick: 5, last: null, orders: [], symbol: 'ACME', center: 5, rows: 5 });
    expect(m.rows.map((r) => r.price)).toEqual([25, 20, 15, 10, 5]);
  });

  it('volume at price lands in its row', () => {
    const vap = new Map([
      [10_000, 500],
      [10_005, 20],
      [20_000, 9],
    ]);
    const m = buildLadder({ depth: null, tick: 5, last: null, orders: [], symbol: 'ACME', center: 10_000, rows: 5, volumeAtPrice: vap });
    expect(rowAt(m.rows, 10_000).volume).toBe(500);
    expect(rowAt(m.rows, 10_005).volume).toBe(20);
    expect(m.maxVolume).toBe(500);
  });

  it('rejects a non-integer tick, rows or group', () => {
    const base = { depth: null, last: null, orders: [], symbol: 'ACME', center: 100 };
    expect(() => buildLadder({ ...base, tick: 0.5, rows: 5 })).toThrow(RangeError);
    expect(() => buildLadder({ ...base, tick: 1, rows: 0 })).toThrow(RangeError);
    expect(() => buildLadder({ ...base, tick: 1, rows: 5, group: 0 })).toThrow(RangeError);
  });

  it('property: every visible size, order and volume is counted once in the row that covers its price', () => {
    const arb = fc
      .record({ tick: fc.integer({ min: 1, max: 25 }), group: fc.integer({ min: 1, max: 5 }), rows: fc.integer({ min: 1, max: 41 }) })
      .chain(({ tick, group, rows }) =>
        fc.record({
          tick: fc.constant(tick),
          group: fc.constant(group),
          rows: fc.constant(rows),
          center: fc.integer({ min: 1, max: 400 }).map((n) => n * tick + (n % tick)),
          levels: fc.array(fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 1000 }), fc.boolean()), { maxLength: 40 }),
          orders: fc.array(fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 500 }), fc.boolean()), { maxLength: 15 }),
        }),
      );
    fc.assert(
      fc.property(arb, ({ tick, group, rows, center, levels, orders }) => {
        const d: Depth = { symbol: 'ACME', bids: [], asks: [] };
        for (const [n, qty, isBid] of levels) (isBid ? d.bids : d.asks).push({ price: n * tick, qty, orders: 1 });
        const os = orders.map(([n, qty, buy], i) => order({ orderId: i + 1, side: buy ? 'buy' : 'sell', price: n * tick, qty }));
        const m = buildLadder({ depth: d, tick, last: null, orders: os, symbol: 'ACME', center, rows, group });
        const step = tick * group;
        expect(m.rows).toHaveLength(rows);
        m.rows.forEach((r, i) => {
          expect(Number.isSafeInteger(r.price)).toBe(true);
          expect(r.price % step).toBe(0);
          expect(r.price).toBeGreaterThan(0);
          if (i > 0) expect(m.rows[i - 1]!.price - r.price).toBe(step);
          const inRow = (p: number) => p >= r.price && p <= r.priceHigh;
          expect(r.bidSize).toBe(d.bids.filter((l) => inRow(l.price)).reduce((s, l) => s + l.qty, 0));
          expect(r.askSize).toBe(d.asks.filter((l) => inRow(l.price)).reduce((s, l) => s + l.qty, 0));
          expect(r.buyOrderIds).toEqual(os.filter((o) => o.side === 'buy' && inRow(o.price!)).map((o) => o.orderId));
          expect(r.sellQty).toBe(os.filter((o) => o.side === 'sell' && inRow(o.price!)).reduce((s, o) => s + o.leaves, 0));
        });
        // The centre row covers the centre price unless the centre had to be clamped up.
        const c = m.rows[m.centerIndex]!;
        if (center - (rows - 1 - m.centerIndex) * step >= step) expect(center >= c.price && center < c.price + step).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('ladderClick', () => {
  const orders = [order({ orderId: 11, side: 'buy', price: 9_995 }), order({ orderId: 12, side: 'sell', price: 10_010 })];
  const m = buildLadder({ depth: null, tick: 5, last: null, orders, symbol: 'ACME', center: 10_000, rows: 9 });
  const ctx = { symbol: 'ACME', qty: 100, lot: 10, bestBid: 10_000, bestAsk: 10_005 };

  it('bid column → buy limit at that price; ask column → sell limit at that price', () => {
    expect(ladderClick(rowAt(m.rows, 9_990), 'bid', ctx)).toEqual({
      kind: 'place',
      params: { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 100, price: 9_990, tif: 'day' },
      marketable: false,
    });
    expect(ladderClick(rowAt(m.rows, 10_015), 'ask', { ...ctx, tif: 'gtc' })).toEqual({
      kind: 'place',
      params: { symbol: 'ACME', side: 'sell', orderType: 'limit', qty: 100, price: 10_015, tif: 'gtc' },
      marketable: false,
    });
  });

  it('flags limits that would trade at once', () => {
    expect(ladderClick(rowAt(m.rows, 10_005), 'bid', ctx)).toMatchObject({ kind: 'place', marketable: true });
    expect(ladderClick(rowAt(m.rows, 10_000), 'ask', ctx)).toMatchObject({ kind: 'place', marketable: true });
    expect(ladderClick(rowAt(m.rows, 10_000), 'bid', ctx)).toMatchObject({ kind: 'place', marketable: false });
  });

  it('grouped rows: buys at the bucket low, sells at the bucket high', () => {
    const g = buildLadder({ depth: null, tick: 5, last: null, orders: [], symbol: 'ACME', center: 10_000, rows: 3, group: 4 });
    expect(ladderClick(g.rows[1]!, 'bid', ctx)).toMatchObject({ params: { side: 'buy', price: 10_000 } });
    expect(ladderClick(g.rows[1]!, 'ask', ctx)).toMatchObject({ params: { side: 'sell', price: 10_015 } });
  });

  it('an own-order cell cancels those orders; an empty one does nothing', () => {
    expect(ladderClick(rowAt(m.rows, 9_995), 'buyOrders', ctx)).toEqual({ kind: 'cancel', orderIds: [11] });
    expect(ladderClick(rowAt(m.rows, 10_010), 'sellOrders', ctx)).toEqual({ kind: 'cancel', orderIds: [12] });
    expect(ladderClick(rowAt(m.rows, 10_010), 'buyOrders', ctx)).toEqual({ kind: 'none' });
    expect(ladderClick(rowAt(m.rows, 10_010), 'price', ctx)).toEqual({ kind: 'none' });
  });

  it('refuses a size that is zero, fractional or off the lot', () => {
    expect(ladderClick(m.rows[0]!, 'bid', { ...ctx, qty: 0 }).kind).toBe('invalid');
    expect(ladderClick(m.rows[0]!, 'bid', { ...ctx, qty: 1.5 }).kind).toBe('invalid');
    expect(ladderClick(m.rows[0]!, 'ask', { ...ctx, qty: 15 })).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('lot (10)') });
  });
});

describe('centre helpers', () => {
  it('centres on the last price, else the mid, else the fallback', () => {
    const d = depth([[100, 1]], [[110, 1]]);
    expect(defaultCenter(105, d, 1)).toBe(105);
    expect(defaultCenter(null, d, 1)).toBe(105);
    expect(defaultCenter(null, depth([], [[110, 1]]), 1)).toBe(110);
    expect(defaultCenter(null, null, 42)).toBe(42);
  });
  it('scrolls by whole rows', () => {
    expect(scrollCenter(10_003, 2, 5)).toBe(10_010);
    expect(scrollCenter(10_000, -3, 20)).toBe(9_940);
  });
});

describe('VolumeProfile', () => {
  it('counts each print once, per price, for its symbol only', () => {
    const vp = new VolumeProfile('ACME');
    const p = (tradeId: number, price: number, qty: number, symbol = 'ACME') => ({ tradeId, symbol, price, qty, aggressor: 'buy' as const, ts: 1 });
    expect(vp.add([p(1, 100, 10), p(2, 100, 5), p(3, 105, 7)])).toBe(3);
    expect(vp.add([p(2, 100, 5), p(4, 105, 1), p(5, 100, 1, 'OTHER')])).toBe(1);
    expect([...vp.byPrice]).toEqual([
      [100, 15],
      [105, 8],
    ]);
    vp.reset('XYZ');
    expect(vp.byPrice.size).toBe(0);
    expect(vp.symbol).toBe('XYZ');
  });

  const print = (tradeId: number, price: number, qty: number) => ({ tradeId, symbol: 'ACME', price, qty, aggressor: 'buy' as const, ts: tradeId });

  it('remembers only the newest trade id it counted, whatever the order of a list', () => {
    const vp = new VolumeProfile('ACME');
    // the tape's list, newest first, as it grows by one print at a time
    const tape = [3, 2, 1].map((id) => print(id, 100, 1));
    expect(vp.add(tape)).toBe(3);
    expect(vp.lastTradeId).toBe(3);
    expect(vp.add([print(5, 101, 2), print(4, 100, 1), ...tape])).toBe(2);
    expect(vp.lastTradeId).toBe(5);
    expect(vp.add([print(4, 100, 1)])).toBe(0);
    expect(Object.fromEntries(vp.byPrice)).toEqual({ 100: 4, 101: 2 });
    // a long session: the one id is all it remembers of the prints
    for (let id = 6; id < 100_006; id++) vp.add([print(id, 100, 1)]);
    expect(vp.byPrice.get(100)).toBe(100_004);
    expect(vp.lastTradeId).toBe(100_005);
  });

  it("starts over for another venue: its prints count even where the old venue's trade ids were higher", () => {
    const vp = new VolumeProfile('ACME', 'local|1');
    vp.add([3, 2, 1].map((id) => print(id, 20_000, 500)));
    // without starting over, the firm's prints 1..3 would pass for counted ones
    expect(vp.add([print(3, 10_000, 100)])).toBe(0);
    vp.reset('ACME', 'firm|7');
    expect(vp.venue).toBe('firm|7');
    expect(vp.add([4, 3, 2, 1].map((id) => print(id, 10_000, 100)))).toBe(4);
    expect(Object.fromEntries(vp.byPrice)).toEqual({ 10000: 400 });
  });
});
