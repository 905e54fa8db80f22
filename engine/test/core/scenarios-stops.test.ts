// Stops: stop, stop-limit and trailing stops; triggering on the last trade price; cascades; replacing triggers.
import { describe, expect, it } from 'vitest';
import { BOOKS, DEALER, code, setup, strip, trades } from './helpers.js';

describe.each(BOOKS)('stops (%s book)', (book) => {
  it('a stop buy waits, holds cash at its trigger, and becomes a market order when last >= stop', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const st = h.stop(1, 'buy', 10, 105);
    expect(strip(st.events)).toEqual([
      { type: 'OrderAccepted', orderId: st.id, accountId: 1, symbol: 'ACME', side: 'buy', orderType: 'stop', tif: 'day', qty: 10, stopPrice: 105, status: 'pending_trigger' },
    ]);
    expect(h.money(1)).toEqual({ cash: 100_000, reservedCash: 1050, buyingPower: 98_950 });
    h.limit(DEALER, 'sell', 5, 104);
    const ask = h.limit(DEALER, 'sell', 20, 106).id;
    // a print at 104 is below the trigger
    expect(h.limit(2, 'buy', 5, 104).events.map((e) => e.type)).toEqual(['OrderAccepted', 'Trade']);
    expect(h.engine.order(st.id)).toMatchObject({ status: 'pending_trigger', orderType: 'stop' });
    // a print at 106 goes through it
    const t = h.limit(2, 'buy', 1, 106);
    expect(strip(t.events).slice(1)).toEqual([
      { type: 'Trade', tradeId: 2, symbol: 'ACME', price: 106, qty: 1, aggressor: 'buy', makerOrderId: ask, makerAccountId: DEALER, makerLeaves: 19, takerOrderId: t.id, takerAccountId: 2, takerLeaves: 0 },
      { type: 'OrderTriggered', orderId: st.id, accountId: 1, symbol: 'ACME', orderType: 'market', qty: 10, status: 'working' },
      { type: 'Trade', tradeId: 3, symbol: 'ACME', price: 106, qty: 10, aggressor: 'buy', makerOrderId: ask, makerAccountId: DEALER, makerLeaves: 9, takerOrderId: st.id, takerAccountId: 1, takerLeaves: 0 },
    ]);
    expect(h.engine.order(st.id)).toBeUndefined();
    expect(h.money(1)).toEqual({ cash: 100_000 - 1060, reservedCash: 0, buyingPower: 100_000 - 1060 });
  });

  it('a stop triggers on the print that crosses it in the middle of a sweep, after the sweep', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const a1 = h.limit(DEALER, 'sell', 10, 101).id;
    const a2 = h.limit(DEALER, 'sell', 10, 102).id;
    const a3 = h.limit(DEALER, 'sell', 10, 103).id;
    const st = h.stop(1, 'buy', 8, 102).id;
    const m = h.market(2, 'buy', 15);
    expect(strip(m.events).slice(1).map((e) => [e.type, e.price, e.qty, e.makerOrderId ?? e.orderId, e.takerOrderId])).toEqual([
      ['Trade', 101, 10, a1, m.id],
      ['Trade', 102, 5, a2, m.id],
      ['OrderTriggered', undefined, 8, st, undefined],
      ['Trade', 102, 5, a2, st],
      ['Trade', 103, 3, a3, st],
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 8, cost: 510 + 309 });
  });

  it('a stop sell triggers when last <= stop; the market remainder is canceled', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 50, 100);
    h.seed(2, 10, 100);
    const st = h.stop(1, 'sell', 50, 95);
    expect(h.pos(1)).toMatchObject({ qty: 50, reservedQty: 50 });
    h.limit(DEALER, 'buy', 5, 96);
    h.limit(2, 'sell', 5, 96); // print at 96: above the trigger
    expect(h.engine.order(st.id)?.status).toBe('pending_trigger');
    const b95 = h.limit(DEALER, 'buy', 1, 95).id;
    const b93 = h.limit(DEALER, 'buy', 30, 93).id;
    const s = h.limit(2, 'sell', 1, 95);
    expect(strip(s.events).slice(1).map((e) => [e.type, e.price ?? e.reason, e.qty ?? e.canceledQty, e.makerOrderId ?? e.orderId])).toEqual([
      ['Trade', 95, 1, b95],
      ['OrderTriggered', undefined, 50, st.id],
      ['Trade', 93, 30, b93],
      ['OrderCanceled', 'ioc', 20, st.id],
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 20, reservedQty: 0, cost: 2000, realizedPnl: 30 * 93 - 3000 });
  });

  it('a stop-limit becomes a resting limit order at its limit price', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 50, 100);
    h.seed(2, 10, 100);
    const st = h.stop(1, 'sell', 50, 95, { price: 94, tif: 'gtc' });
    expect(strip(st.events)[0]).toMatchObject({ orderType: 'stop_limit', stopPrice: 95, price: 94, status: 'pending_trigger' });
    h.limit(DEALER, 'buy', 1, 95);
    h.limit(DEALER, 'buy', 30, 93);
    const s = h.limit(2, 'sell', 1, 95);
    expect(strip(s.events).slice(2)).toEqual([
      { type: 'OrderTriggered', orderId: st.id, accountId: 1, symbol: 'ACME', orderType: 'limit', qty: 50, price: 94, status: 'working' },
    ]);
    expect(h.engine.order(st.id)).toMatchObject({ orderType: 'stop_limit', status: 'working', price: 94, leaves: 50 });
    expect(h.engine.quote('ACME')).toMatchObject({ ask: 94, askSize: 50, bid: 93 });
    expect(h.pos(1)).toMatchObject({ qty: 50, reservedQty: 50 });
    // it now trades like any limit order
    const b = h.limit(DEALER, 'buy', 20, 94);
    expect(trades(b.events)).toEqual([[94, 20, st.id, b.id]]);
    expect(h.pos(1)).toMatchObject({ qty: 30, reservedQty: 30 });
  });

  it('a trailing sell stop follows the market up (StopMoved) and triggers on the reversal', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 100, 100); // last 100
    const tr = h.place(1, 'sell', 100, { orderType: 'trailing_stop', trailAmount: 5, tif: 'gtc' });
    expect(strip(tr.events)).toEqual([
      { type: 'OrderAccepted', orderId: tr.id, accountId: 1, symbol: 'ACME', side: 'sell', orderType: 'trailing_stop', tif: 'gtc', qty: 100, stopPrice: 95, trailAmount: 5, status: 'pending_trigger' },
    ]);
    const print = (px: number, side: 'buy' | 'sell' = 'buy') => {
      h.limit(DEALER, side === 'buy' ? 'sell' : 'buy', 1, px);
      return h.limit(2, side, 1, px).events;
    };
    expect(strip(print(103)).slice(2)).toEqual([{ type: 'StopMoved', orderId: tr.id, accountId: 1, stopPrice: 98 }]);
    expect(h.engine.order(tr.id)).toMatchObject({ stopPrice: 98, trailAmount: 5 });
    expect(print(101)).toHaveLength(2); // lower high: no move, not yet through 98
    expect(strip(print(104)).slice(2)).toEqual([{ type: 'StopMoved', orderId: tr.id, accountId: 1, stopPrice: 99 }]);
    const bid = h.limit(DEALER, 'buy', 200, 97).id;
    const ev = print(99, 'sell');
    expect(strip(ev).slice(2).map((e) => [e.type, e.price ?? e.orderType, e.qty, e.makerOrderId ?? e.orderId])).toEqual([
      ['OrderTriggered', 'market', 100, tr.id],
      ['Trade', 97, 100, bid],
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 0, realizedPnl: -300 });
  });

  it('a trailing buy stop moves down with the market and re-reserves cash at its new trigger', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(2, 10, 100);
    const tr = h.place(1, 'buy', 10, { orderType: 'trailing_stop', trailAmount: 5, tif: 'gtc' });
    expect(h.engine.order(tr.id)).toMatchObject({ stopPrice: 105, status: 'pending_trigger' });
    expect(h.money(1).reservedCash).toBe(1050);
    h.limit(DEALER, 'buy', 1, 97);
    const ev = h.limit(2, 'sell', 1, 97).events;
    expect(strip(ev).at(-1)).toEqual({ type: 'StopMoved', orderId: tr.id, accountId: 1, stopPrice: 102 });
    expect(h.money(1)).toEqual({ cash: 100_000, reservedCash: 1020, buyingPower: 98_980 });
    // reversal to 102 triggers it
    const ask = h.limit(DEALER, 'sell', 50, 102).id;
    const t = h.limit(2, 'buy', 1, 102);
    expect(trades(t.events)).toEqual([
      [102, 1, ask, t.id],
      [102, 10, ask, tr.id],
    ]);
    expect(h.money(1)).toEqual({ cash: 100_000 - 1020, reservedCash: 0, buyingPower: 100_000 - 1020 });
  });

  it('a stop placed when the last price is already through its trigger triggers at once', () => {
    const h = setup(book, { 1: 100_000 });
    h.seed(1, 10, 100); // last 100
    const ask = h.limit(DEALER, 'sell', 10, 101).id;
    const b = h.stop(1, 'buy', 4, 99);
    expect(strip(b.events)).toEqual([
      { type: 'OrderAccepted', orderId: b.id, accountId: 1, symbol: 'ACME', side: 'buy', orderType: 'stop', tif: 'day', qty: 4, stopPrice: 99, status: 'pending_trigger' },
      { type: 'OrderTriggered', orderId: b.id, accountId: 1, symbol: 'ACME', orderType: 'market', qty: 4, status: 'working' },
      { type: 'Trade', tradeId: 2, symbol: 'ACME', price: 101, qty: 4, aggressor: 'buy', makerOrderId: ask, makerAccountId: DEALER, makerLeaves: 6, takerOrderId: b.id, takerAccountId: 1, takerLeaves: 0 },
    ]);
    // the same at exactly the last price; with nothing to trade against it dies with 'no_liquidity'
    const s = h.stop(1, 'sell', 5, 101);
    expect(strip(s.events).slice(1)).toEqual([
      { type: 'OrderTriggered', orderId: s.id, accountId: 1, symbol: 'ACME', orderType: 'market', qty: 5, status: 'working' },
      { type: 'OrderCanceled', orderId: s.id, accountId: 1, symbol: 'ACME', reason: 'no_liquidity', canceledQty: 5 },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 14, reservedQty: 0 });
  });

  it('stops cascade: one triggered stop prints through the next', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000, 3: 100_000 });
    h.seed(1, 10, 100);
    h.seed(2, 10, 100);
    h.seed(3, 10, 100);
    const s1 = h.stop(1, 'sell', 10, 95).id;
    const s3 = h.stop(3, 'sell', 10, 93).id;
    const b95 = h.limit(DEALER, 'buy', 1, 95).id;
    const b94 = h.limit(DEALER, 'buy', 5, 94).id;
    const b93 = h.limit(DEALER, 'buy', 10, 93).id;
    const b90 = h.limit(DEALER, 'buy', 10, 90).id;
    const t = h.limit(2, 'sell', 1, 95);
    expect(strip(t.events).slice(1).map((e) => [e.type, e.price, e.qty, e.makerOrderId ?? e.orderId, e.takerOrderId])).toEqual([
      ['Trade', 95, 1, b95, t.id],
      ['OrderTriggered', undefined, 10, s1, undefined],
      ['Trade', 94, 5, b94, s1],
      ['Trade', 93, 5, b93, s1],
      ['OrderTriggered', undefined, 10, s3, undefined],
      ['Trade', 93, 5, b93, s3],
      ['Trade', 90, 5, b90, s3],
    ]);
    expect(h.engine.quote('ACME')).toMatchObject({ last: 90, bid: 90, bidSize: 5 });
    expect(h.shares(1)).toBe(0);
    expect(h.shares(3)).toBe(0);
  });

  it('stops at the same trigger fire in arrival order; the lower buy stop first', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000, 3: 100_000 });
    const x = h.stop(1, 'buy', 1, 103).id;
    const y = h.stop(2, 'buy', 1, 102).id;
    const z = h.stop(3, 'buy', 1, 102).id;
    h.limit(DEALER, 'sell', 100, 104);
    h.limit(DEALER, 'sell', 1, 103);
    const ev = h.limit(1, 'buy', 1, 103).events; // prints 103: all three stops are due
    expect(ev.filter((e) => e.type === 'OrderTriggered').map((e) => (e as { orderId: number }).orderId)).toEqual([y, z, x]);
  });

  it("replacing a stop's trigger re-files it and re-reserves; a trigger through last fires it", () => {
    const h = setup(book, { 1: 100_000 });
    h.seed(1, 10, 100); // last 100
    const st = h.stop(1, 'buy', 10, 110, { tif: 'gtc' });
    expect(h.money(1).reservedCash).toBe(1100);
    const r = h.replace(1, st.id, { stopPrice: 105 });
    expect(strip(r)).toEqual([
      { type: 'OrderReplaced', orderId: st.id, accountId: 1, symbol: 'ACME', qty: 10, leaves: 10, stopPrice: 105, keptPriority: false },
    ]);
    expect(h.money(1).reservedCash).toBe(1050);
    expect(h.engine.order(st.id)).toMatchObject({ stopPrice: 105, status: 'pending_trigger' });
    // only a pending stop has a trigger to move; a limit price cannot be set on a plain stop
    expect(code(h.replace(1, st.id, { price: 104 }))).toBe('INVALID_ORDER');
    const ask = h.limit(DEALER, 'sell', 20, 101).id;
    const r2 = h.replace(1, st.id, { stopPrice: 100 });
    expect(strip(r2).map((e) => e.type)).toEqual(['OrderReplaced', 'OrderTriggered', 'Trade']);
    expect(trades(r2)).toEqual([[101, 10, ask, st.id]]);
    expect(h.money(1)).toEqual({ cash: 100_000 - 1000 - 1010, reservedCash: 0, buyingPower: 100_000 - 2010 });
  });

  it('a triggered stop-limit that cannot trade rests; a trailing stop rejects a trail not below the price', () => {
    const h = setup(book, { 1: 100_000 });
    expect(code(h.place(1, 'sell', 1, { orderType: 'trailing_stop', trailAmount: 100, tif: 'gtc' }).events)).toBe('INVALID_PRICE');
    expect(code(h.place(1, 'buy', 1, { orderType: 'trailing_stop', trailAmount: 0, tif: 'gtc' }).events)).toBe('INVALID_PRICE');
    expect(code(h.place(1, 'buy', 1, { orderType: 'trailing_stop', tif: 'gtc' }).events)).toBe('INVALID_PRICE');
    expect(code(h.place(1, 'buy', 1, { orderType: 'trailing_stop', trailAmount: 5, stopPrice: 100, tif: 'gtc' }).events)).toBe('INVALID_ORDER');
    expect(code(h.place(1, 'buy', 1, { orderType: 'stop', tif: 'gtc' }).events)).toBe('INVALID_PRICE');
    expect(code(h.place(1, 'buy', 1, { orderType: 'stop_limit', stopPrice: 101, tif: 'gtc' }).events)).toBe('INVALID_PRICE');
    expect(code(h.place(1, 'buy', 1, { orderType: 'stop', stopPrice: 151, tif: 'gtc' }).events)).toBe('PRICE_OUT_OF_BAND');
  });
});
