// End of session, and market data: quote, depth, candles, indexes.
import { describe, expect, it } from 'vitest';
import { ACME, BOOKS, DEALER, type Harness, T0, code, setup, strip } from './helpers.js';

/** A print of `qty` at `px` at time `ts`: the dealer offers, account `buyer` lifts it. */
function print(h: Harness, px: number, qty: number, ts?: number, buyer = 1, symbol = 'ACME'): void {
  if (ts !== undefined) h.at(ts);
  h.limit(DEALER, 'sell', qty, px, { symbol });
  if (ts !== undefined) h.at(ts);
  const ev = h.limit(buyer, 'buy', qty, px, { symbol, tif: 'ioc' }).events;
  expect(ev.map((e) => e.type)).toEqual(['OrderAccepted', 'Trade']);
}

describe.each(BOOKS)('end of session (%s book)', (book) => {
  it('expires day orders and day stops; gtc orders stay', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 50, 100);
    const d1 = h.limit(1, 'buy', 10, 95, { tif: 'day' }).id;
    const g1 = h.limit(1, 'buy', 10, 94, { tif: 'gtc' }).id;
    const ds = h.stop(1, 'sell', 10, 90, { tif: 'day' }).id;
    const gs = h.stop(1, 'sell', 10, 89, { tif: 'gtc' }).id;
    const dt = h.place(1, 'sell', 10, { orderType: 'trailing_stop', trailAmount: 5, tif: 'day' }).id;
    expect(h.acct(1).openOrders).toBe(5);
    const ev = h.endSession();
    expect(strip(ev)).toEqual([
      { type: 'OrderCanceled', orderId: d1, accountId: 1, symbol: 'ACME', reason: 'expired', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: ds, accountId: 1, symbol: 'ACME', reason: 'expired', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: dt, accountId: 1, symbol: 'ACME', reason: 'expired', canceledQty: 10 },
      { type: 'SessionEnded', session: 1 },
    ]);
    expect(h.engine.openOrders(1).map((o) => o.orderId)).toEqual([g1, gs]);
    expect(h.money(1)).toEqual({ cash: 95_000, reservedCash: 940, buyingPower: 94_060 });
    expect(h.pos(1)).toMatchObject({ qty: 50, reservedQty: 10 });
    expect(h.engine.sessionNumber).toBe(1);
    expect(strip(h.endSession())).toEqual([{ type: 'SessionEnded', session: 2 }]);
  });

  it('the last price becomes the previous close; the band re-centres; session statistics reset', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    print(h, 100, 10);
    print(h, 120, 5);
    expect(h.engine.quote('ACME')).toMatchObject({ last: 120, previousClose: 100, change: 20, changeBps: 2000, volume: 15, turnover: 1600, open: 100, high: 120, low: 100 });
    expect(h.engine.instrument('ACME')).toMatchObject({ referencePrice: 100, bandLow: 50, bandHigh: 150, previousClose: 100 });
    h.endSession();
    expect(h.engine.instrument('ACME')).toEqual({
      symbol: 'ACME', name: 'Acme Corp', tickSize: 1, lotSize: 1, referencePrice: 120, bandBps: 5000, bandLow: 60, bandHigh: 180, previousClose: 120, status: 'open',
    });
    expect(h.engine.quote('ACME')).toMatchObject({ last: 120, lastSize: 5, previousClose: 120, change: 0, changeBps: 0, volume: 0, turnover: 0, open: null, high: null, low: null });
    expect(code(h.limit(1, 'buy', 1, 59).events)).toBe('PRICE_OUT_OF_BAND');
    expect(code(h.limit(1, 'buy', 1, 181).events)).toBe('PRICE_OUT_OF_BAND');
    const lo = h.limit(1, 'buy', 1, 60);
    const hi = h.limit(1, 'buy', 1, 160); // outside yesterday's band
    expect([...lo.events, ...hi.events].map((e) => e.type)).toEqual(['OrderAccepted', 'OrderAccepted']);
    h.cancel(1, lo.id);
    h.cancel(1, hi.id);
    // a falling day
    print(h, 114, 1);
    expect(h.engine.quote('ACME')).toMatchObject({ change: -6, changeBps: -500, volume: 1, open: 114, high: 114, low: 114 });
    // nothing traded: the previous close stays
    h.endSession();
    h.endSession();
    expect(h.engine.instrument('ACME')).toMatchObject({ previousClose: 114, referencePrice: 114 });
  });

  it('a day bracket entry that expires partly filled activates its children; unfilled ones die with it', () => {
    const h = setup(book, { 1: 100_000 });
    const [e1, tp1, sl1, e2, tp2, sl2] = [h.id(), h.id(), h.id(), h.id(), h.id(), h.id()];
    h.place(1, 'buy', 100, { orderId: e1, price: 100, tif: 'day', bracket: { takeProfit: { orderId: tp1, price: 110 }, stopLoss: { orderId: sl1, stopPrice: 90 } } });
    h.place(1, 'buy', 10, { orderId: e2, price: 99, tif: 'day', bracket: { takeProfit: { orderId: tp2, price: 110 }, stopLoss: { orderId: sl2, stopPrice: 90 } } });
    h.limit(DEALER, 'sell', 30, 100);
    expect(strip(h.endSession())).toEqual([
      { type: 'OrderCanceled', orderId: e1, accountId: 1, symbol: 'ACME', reason: 'expired', canceledQty: 70 },
      { type: 'OrderCanceled', orderId: e2, accountId: 1, symbol: 'ACME', reason: 'expired', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: tp2, accountId: 1, symbol: 'ACME', reason: 'parent_canceled', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: sl2, accountId: 1, symbol: 'ACME', reason: 'parent_canceled', canceledQty: 10 },
      { type: 'OrderActivated', orderId: tp1, accountId: 1, symbol: 'ACME', orderType: 'limit', qty: 30, price: 110, status: 'working' },
      { type: 'OrderActivated', orderId: sl1, accountId: 1, symbol: 'ACME', orderType: 'stop', qty: 30, stopPrice: 90, status: 'pending_trigger' },
      { type: 'SessionEnded', session: 1 },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 30, reservedQty: 30 });
  });

  it("cancels the orders whose limit price is outside the re-centred band ('price_band'); nothing trades outside it", () => {
    const h = setup(book, { 1: 1_000_000, 2: 1_000_000 });
    h.seed(1, 10, 100);
    print(h, 80, 1); // the close: the band goes from 50..150 to 40..120
    const ask = h.limit(DEALER, 'sell', 10, 145, { tif: 'gtc' }).id;
    const stopLimit = h.stop(2, 'buy', 10, 140, { price: 145, tif: 'gtc' }).id; // waits for its trigger
    const stop = h.stop(2, 'buy', 10, 140, { tif: 'gtc' }).id; // no limit: stays
    const [e1, tp1, sl1] = [h.id(), h.id(), h.id()]; // entry inside, take-profit outside
    h.place(2, 'buy', 10, { orderId: e1, price: 100, tif: 'gtc', bracket: { takeProfit: { orderId: tp1, price: 130 }, stopLoss: { orderId: sl1, stopPrice: 90 } } });
    const [e2, tp2, sl2] = [h.id(), h.id(), h.id()]; // entry outside
    h.place(2, 'buy', 10, { orderId: e2, price: 125, tif: 'gtc', bracket: { takeProfit: { orderId: tp2, price: 140 }, stopLoss: { orderId: sl2, stopPrice: 110 } } });
    const [limitLeg, stopLeg] = h.oco(1, { side: 'sell', qty: 10, orderType: 'limit', price: 148, tif: 'gtc' }, { side: 'sell', qty: 10, orderType: 'stop', stopPrice: 70, tif: 'gtc' }).ids;
    const inside = h.limit(2, 'buy', 5, 120, { tif: 'gtc' }).id; // on the band's edge: stays
    expect(strip(h.endSession())).toEqual([
      { type: 'OrderCanceled', orderId: ask, accountId: DEALER, symbol: 'ACME', reason: 'price_band', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: stopLimit, accountId: 2, symbol: 'ACME', reason: 'price_band', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: tp1, accountId: 2, symbol: 'ACME', reason: 'price_band', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: e2, accountId: 2, symbol: 'ACME', reason: 'price_band', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: tp2, accountId: 2, symbol: 'ACME', reason: 'parent_canceled', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: sl2, accountId: 2, symbol: 'ACME', reason: 'parent_canceled', canceledQty: 10 },
      { type: 'OrderCanceled', orderId: limitLeg, accountId: 1, symbol: 'ACME', reason: 'price_band', canceledQty: 10 },
      { type: 'SessionEnded', session: 1 },
    ]);
    expect(h.engine.instrument('ACME')).toMatchObject({ bandLow: 40, bandHigh: 120 });
    expect(h.engine.openOrders().map((o) => o.orderId).sort((x, y) => x - y)).toEqual([stop, e1, sl1, stopLeg, inside]);
    // the survivors of a bracket or a pair stand alone, as after any cancel
    expect(h.engine.order(sl1)).toMatchObject({ status: 'pending_parent', parentId: e1 });
    expect(h.engine.order(sl1)?.linkedId).toBeUndefined();
    expect(h.engine.order(stopLeg)?.linkedId).toBeUndefined();
    expect(h.pos(1)).toMatchObject({ qty: 11, reservedQty: 10 });
    // a market buy finds no offer at 145 to trade with
    expect(code(h.market(2, 'buy', 1).events)).toBe('NO_LIQUIDITY');
    expect(h.engine.depth('ACME')!.asks).toEqual([]);
  });

  it('a session end journaled under rules before 3 keeps the orders outside the new band, as it ran then', () => {
    const h = setup(book, { 1: 1_000_000 });
    print(h, 80, 1);
    const ask = h.limit(DEALER, 'sell', 10, 145, { tif: 'gtc' }).id;
    expect(strip(h.exec({ type: 'EndSession', rules: 2 }))).toEqual([{ type: 'SessionEnded', session: 1 }]);
    expect(h.engine.order(ask)).toMatchObject({ price: 145, status: 'working' });
  });

  it('leaves candles alone: a daily bar is a UTC day, shared by two sessions on one day', () => {
    const h = setup(book, { 1: 100_000 });
    print(h, 100, 10, T0);
    h.at(T0 + 60_000).endSession();
    print(h, 110, 5, T0 + 120_000);
    print(h, 90, 1, T0 + 86_400_000); // the next UTC day, no session end between
    const day = Date.UTC(2024, 0, 2);
    expect(h.engine.candles('ACME', '1d')).toEqual([
      { t: day, o: 100, h: 110, l: 100, c: 110, v: 15 },
      { t: day + 86_400_000, o: 90, h: 90, l: 90, c: 90, v: 1 },
    ]);
  });

  it('changeBps rounds half away from zero', () => {
    const h = setup(book, { 1: 1_000_000 });
    h.instrument({ symbol: 'HALF', name: 'Half', tickSize: 1, lotSize: 1, referencePrice: 20_000, bandBps: 1000 });
    print(h, 19_999, 1, undefined, 1, 'HALF');
    expect(h.engine.quote('HALF')).toMatchObject({ change: -1, changeBps: -1 }); // -0.5
    print(h, 20_001, 1, undefined, 1, 'HALF');
    expect(h.engine.quote('HALF')).toMatchObject({ change: 1, changeBps: 1 }); // +0.5
    print(h, 20_003, 1, undefined, 1, 'HALF');
    expect(h.engine.quote('HALF')).toMatchObject({ change: 3, changeBps: 2 }); // 1.5
    print(h, 20_002, 1, undefined, 1, 'HALF');
    expect(h.engine.quote('HALF')).toMatchObject({ change: 2, changeBps: 1 }); // exactly 1
  });
});

describe.each(BOOKS)('market data (%s book)', (book) => {
  it('quote: best bid/ask and their sizes, last, volume, turnover, change', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    expect(h.engine.quote('ACME')).toEqual({
      symbol: 'ACME', bid: null, bidSize: 0, ask: null, askSize: 0, last: null, lastSize: 0, volume: 0, turnover: 0,
      open: null, high: null, low: null, previousClose: 100, change: 0, changeBps: 0, ts: 0,
    });
    h.limit(1, 'buy', 10, 99);
    h.limit(2, 'buy', 5, 99);
    h.limit(1, 'buy', 8, 98);
    h.limit(DEALER, 'sell', 7, 101);
    h.limit(DEALER, 'sell', 3, 102);
    expect(h.engine.quote('ACME')).toMatchObject({ bid: 99, bidSize: 15, ask: 101, askSize: 7, last: null });
    const ts = h.ts;
    h.limit(2, 'buy', 4, 101);
    expect(h.engine.quote('ACME')).toEqual({
      symbol: 'ACME', bid: 99, bidSize: 15, ask: 101, askSize: 3, last: 101, lastSize: 4, volume: 4, turnover: 404,
      open: 101, high: 101, low: 101, previousClose: 100, change: 1, changeBps: 100, ts,
    });
    expect(h.engine.quote('NOPE')).toBeUndefined();
  });

  it('depth: top-N levels with aggregated quantity and order counts', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.limit(1, 'buy', 10, 99);
    h.limit(2, 'buy', 5, 99);
    h.limit(1, 'buy', 8, 98);
    h.limit(2, 'buy', 1, 90);
    h.limit(DEALER, 'sell', 7, 101);
    h.limit(DEALER, 'sell', 3, 101);
    h.limit(DEALER, 'sell', 2, 101);
    h.limit(DEALER, 'sell', 4, 105);
    expect(h.engine.depth('ACME', 2)).toEqual({
      symbol: 'ACME',
      bids: [
        { price: 99, qty: 15, orders: 2 },
        { price: 98, qty: 8, orders: 1 },
      ],
      asks: [
        { price: 101, qty: 12, orders: 3 },
        { price: 105, qty: 4, orders: 1 },
      ],
    });
    expect(h.engine.depth('ACME')!.bids).toHaveLength(3);
    // a partial fill and a cancel update the aggregate
    h.market(2, 'buy', 8);
    expect(h.engine.depth('ACME', 1)!.asks).toEqual([{ price: 101, qty: 4, orders: 2 }]);
    expect(h.engine.depth('NOPE')).toBeUndefined();
  });

  it('candles: 1m and 5m buckets with exact OHLCV; the 1m bar rolls over at the minute', () => {
    const h = setup(book, { 1: 1_000_000 });
    print(h, 100, 1, T0 + 5_000);
    print(h, 103, 2, T0 + 30_000);
    print(h, 98, 3, T0 + 59_999);
    expect(h.engine.candles('ACME', '1m')).toEqual([{ t: T0, o: 100, h: 103, l: 98, c: 98, v: 6 }]);
    print(h, 101, 4, T0 + 60_000);
    print(h, 99, 5, T0 + 240_000);
    print(h, 104, 6, T0 + 300_000);
    expect(h.engine.candles('ACME', '1m')).toEqual([
      { t: T0, o: 100, h: 103, l: 98, c: 98, v: 6 },
      { t: T0 + 60_000, o: 101, h: 101, l: 101, c: 101, v: 4 },
      { t: T0 + 240_000, o: 99, h: 99, l: 99, c: 99, v: 5 },
      { t: T0 + 300_000, o: 104, h: 104, l: 104, c: 104, v: 6 },
    ]);
    expect(h.engine.candles('ACME', '5m')).toEqual([
      { t: T0, o: 100, h: 103, l: 98, c: 99, v: 15 },
      { t: T0 + 300_000, o: 104, h: 104, l: 104, c: 104, v: 6 },
    ]);
    expect(h.engine.candles('ACME', '1h')).toEqual([{ t: Date.UTC(2024, 0, 2, 14), o: 100, h: 104, l: 98, c: 104, v: 21 }]);
    expect(h.engine.candles('ACME', '1d')).toEqual([{ t: Date.UTC(2024, 0, 2), o: 100, h: 104, l: 98, c: 104, v: 21 }]);
    expect(h.engine.candles('ACME', '1m', 2).map((c) => c.t)).toEqual([T0 + 240_000, T0 + 300_000]);
    expect(h.engine.candles('NOPE', '1m')).toEqual([]);
    // one command sweeping three levels adds all three prints to the same bar
    h.at(T0 + 310_000);
    h.limit(DEALER, 'sell', 1, 106);
    h.limit(DEALER, 'sell', 1, 102);
    h.limit(DEALER, 'sell', 1, 110);
    h.market(1, 'buy', 3);
    expect(h.engine.candles('ACME', '5m').at(-1)).toEqual({ t: T0 + 300_000, o: 104, h: 110, l: 102, c: 110, v: 9 });
  });

  it('index: weighted relative performance of its constituents, in hundredths of a point', () => {
    const h = setup(book, { 1: 1_000_000 });
    h.instrument({ symbol: 'BETA', name: 'Beta', tickSize: 1, lotSize: 1, referencePrice: 200, bandBps: 5000 });
    expect(strip(h.exec({ type: 'CreateIndex', name: 'IDX2', baseValue: 100_000, constituents: [{ symbol: 'ACME', weightBps: 6000 }, { symbol: 'BETA', weightBps: 4000 }] }))).toEqual([
      { type: 'IndexCreated', name: 'IDX2' },
    ]);
    expect(h.engine.index('IDX2')).toEqual({
      name: 'IDX2', value: 100_000, baseValue: 100_000, previousClose: 100_000,
      constituents: [
        { symbol: 'ACME', weightBps: 6000, basePrice: 100 },
        { symbol: 'BETA', weightBps: 4000, basePrice: 200 },
      ],
    });
    print(h, 110, 1);
    print(h, 190, 1, undefined, 1, 'BETA');
    // 60% x 110/100 + 40% x 190/200 = 0.66 + 0.38 = 1.04
    expect(h.engine.index('IDX2')!.value).toBe(104_000);
    print(h, 101, 1);
    print(h, 199, 1, undefined, 1, 'BETA');
    // 0.6 x 1.01 + 0.4 x 0.995 = 0.606 + 0.398 = 1.004
    expect(h.engine.index('IDX2')!.value).toBe(100_400);
    h.endSession();
    expect(h.engine.index('IDX2')).toMatchObject({ value: 100_400, previousClose: 100_400 });
    expect(h.engine.indexNames()).toEqual(['IDX2']);
    expect(h.engine.index('NOPE')).toBeUndefined();
    // base prices are the marks at creation
    h.exec({ type: 'CreateIndex', name: 'ONE', baseValue: 5_000, constituents: [{ symbol: 'BETA', weightBps: 10_000 }] });
    expect(h.engine.index('ONE')!.constituents[0]!.basePrice).toBe(199);
    print(h, 209, 1, undefined, 1, 'BETA');
    expect(h.engine.index('ONE')!.value).toBe(Math.round((5_000 * 209) / 199));
  });

  it('index: the value is exact, a half-way value rounding half away from zero (not the float sum)', () => {
    const h = setup(book, { 1: 1_000_000 });
    h.instrument({ symbol: 'AA', name: 'A', tickSize: 1, lotSize: 1, referencePrice: 2, bandBps: 10_000 });
    h.instrument({ symbol: 'BB', name: 'B', tickSize: 1, lotSize: 1, referencePrice: 20, bandBps: 10_000 });
    h.exec({ type: 'CreateIndex', name: 'HALF', baseValue: 100_000, constituents: [{ symbol: 'AA', weightBps: 3333 }, { symbol: 'BB', weightBps: 6667 }] });
    print(h, 1, 1, undefined, 1, 'AA');
    print(h, 9, 1, undefined, 1, 'BB');
    // 100000 x (3333 x 1/2 + 6667 x 9/20) / 10000 = 46666.5 exactly (as doubles the sum is 4666.6499..., 46666)
    expect(h.engine.index('HALF')!.value).toBe(46_667);
    // and the session's end keeps that value as the previous close
    h.endSession();
    expect(h.engine.index('HALF')).toMatchObject({ value: 46_667, previousClose: 46_667 });
  });

  it('instrument and index definitions are validated', () => {
    const h = setup(book);
    expect(code(h.exec({ type: 'CreateInstrument', instrument: ACME }))).toBe('DUPLICATE_SYMBOL');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...ACME, symbol: 'acme' } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...ACME, symbol: 'X1', tickSize: 0 } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...ACME, symbol: 'X1', tickSize: 3, referencePrice: 100 } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...ACME, symbol: 'X1', bandBps: 0 } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...ACME, symbol: 'X1', bandBps: 10_001 } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...ACME, symbol: 'X1', name: '' } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...ACME, symbol: 'X1', lotSize: 1.5 } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateIndex', name: 'I1', baseValue: 1000, constituents: [{ symbol: 'ACME', weightBps: 9999 }] }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateIndex', name: 'I1', baseValue: 1000, constituents: [{ symbol: 'ZZZ', weightBps: 10_000 }] }))).toBe('UNKNOWN_SYMBOL');
    expect(code(h.exec({ type: 'CreateIndex', name: 'ACME', baseValue: 1000, constituents: [{ symbol: 'ACME', weightBps: 10_000 }] }))).toBe('DUPLICATE_SYMBOL');
    expect(h.engine.instruments().map((i) => i.symbol)).toEqual(['ACME']);
  });
});
