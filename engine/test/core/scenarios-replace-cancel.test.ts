// Replace (cancel/replace) and cancel.
import { describe, expect, it } from 'vitest';
import { BOOKS, DEALER, code, setup, strip, trades } from './helpers.js';

describe.each(BOOKS)('replace (%s book)', (book) => {
  it('size down keeps priority: still first at its level', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const a = h.limit(1, 'buy', 10, 100).id;
    const b = h.limit(2, 'buy', 10, 100).id;
    const r = h.replace(1, a, { qty: 6 });
    expect(strip(r)).toEqual([
      { type: 'OrderReplaced', orderId: a, accountId: 1, symbol: 'ACME', qty: 6, leaves: 6, price: 100, keptPriority: true },
    ]);
    expect(h.money(1)).toEqual({ cash: 100_000, reservedCash: 600, buyingPower: 99_400 });
    expect(h.engine.depth('ACME')!.bids).toEqual([{ price: 100, qty: 16, orders: 2 }]);
    const s = h.limit(DEALER, 'sell', 8, 100);
    expect(trades(s.events)).toEqual([
      [100, 6, a, s.id],
      [100, 2, b, s.id],
    ]);
  });

  it('a replace to the same quantity and price keeps priority', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const a = h.limit(1, 'buy', 10, 100).id;
    const b = h.limit(2, 'buy', 10, 100).id;
    expect(strip(h.replace(1, a, { qty: 10, price: 100 }))[0]).toMatchObject({ keptPriority: true, qty: 10, leaves: 10 });
    const s = h.limit(DEALER, 'sell', 12, 100);
    expect(trades(s.events)).toEqual([
      [100, 10, a, s.id],
      [100, 2, b, s.id],
    ]);
  });

  it('size up loses priority', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const a = h.limit(1, 'buy', 10, 100).id;
    const b = h.limit(2, 'buy', 10, 100).id;
    const r = h.replace(1, a, { qty: 15 });
    expect(strip(r)).toEqual([
      { type: 'OrderReplaced', orderId: a, accountId: 1, symbol: 'ACME', qty: 15, leaves: 15, price: 100, keptPriority: false },
    ]);
    expect(h.money(1).reservedCash).toBe(1500);
    const s = h.limit(DEALER, 'sell', 12, 100);
    expect(trades(s.events)).toEqual([
      [100, 10, b, s.id],
      [100, 2, a, s.id],
    ]);
  });

  it('a price change loses priority even when it returns to the same level', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const a = h.limit(1, 'buy', 10, 101).id;
    const b = h.limit(2, 'buy', 10, 100).id;
    expect(strip(h.replace(1, a, { price: 100 }))[0]).toMatchObject({ keptPriority: false, price: 100, qty: 10, leaves: 10 });
    expect(h.money(1).reservedCash).toBe(1000);
    const s = h.limit(DEALER, 'sell', 15, 100);
    expect(trades(s.events)).toEqual([
      [100, 10, b, s.id],
      [100, 5, a, s.id],
    ]);
  });

  it('a replace to a crossing price trades immediately as the aggressor', () => {
    const h = setup(book, { 1: 100_000 });
    const ask = h.limit(DEALER, 'sell', 6, 102).id;
    const a = h.limit(1, 'buy', 10, 100).id;
    const r = h.replace(1, a, { price: 103 });
    expect(strip(r)).toEqual([
      { type: 'OrderReplaced', orderId: a, accountId: 1, symbol: 'ACME', qty: 10, leaves: 10, price: 103, keptPriority: false },
      { type: 'Trade', tradeId: 1, symbol: 'ACME', price: 102, qty: 6, aggressor: 'buy', makerOrderId: ask, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: a, takerAccountId: 1, takerLeaves: 4 },
    ]);
    expect(h.engine.order(a)).toMatchObject({ qty: 10, filledQty: 6, leaves: 4, price: 103, status: 'working' });
    expect(h.money(1)).toEqual({ cash: 100_000 - 612, reservedCash: 412, buyingPower: 100_000 - 612 - 412 });
  });

  it('qty is the new total: at or below the filled quantity is INVALID_QUANTITY', () => {
    const h = setup(book, { 1: 100_000 });
    const a = h.limit(1, 'buy', 10, 100).id;
    h.limit(DEALER, 'sell', 4, 100);
    expect(h.engine.order(a)).toMatchObject({ filledQty: 4, leaves: 6 });
    expect(code(h.replace(1, a, { qty: 4 }))).toBe('INVALID_QUANTITY');
    expect(code(h.replace(1, a, { qty: 3 }))).toBe('INVALID_QUANTITY');
    expect(code(h.replace(1, a, { qty: 0 }))).toBe('INVALID_QUANTITY');
    expect(code(h.replace(1, a, { qty: 5.5 }))).toBe('INVALID_QUANTITY');
    expect(h.replace(1, a, { qty: 2e9 })).toMatchObject([{ code: 'INVALID_QUANTITY', message: 'Quantity must be at most 1000000000 shares' }]);
    expect(code(h.replace(1, a, {}))).toBe('INVALID_ORDER');
    expect(strip(h.replace(1, a, { qty: 5 }))).toEqual([
      { type: 'OrderReplaced', orderId: a, accountId: 1, symbol: 'ACME', qty: 5, leaves: 1, price: 100, keptPriority: true },
    ]);
    expect(h.money(1)).toEqual({ cash: 99_600, reservedCash: 100, buyingPower: 99_500 });
  });

  it('a post-only replace that would cross is WOULD_CROSS and leaves the order as it was', () => {
    const h = setup(book, { 1: 100_000 });
    h.limit(DEALER, 'sell', 10, 102);
    const a = h.limit(1, 'buy', 10, 100, { postOnly: true }).id;
    const before = h.engine.order(a);
    expect(code(h.replace(1, a, { price: 102 }))).toBe('WOULD_CROSS');
    expect(code(h.replace(1, a, { price: 103, qty: 5 }))).toBe('WOULD_CROSS');
    expect(h.engine.order(a)).toEqual(before);
    expect(h.money(1).reservedCash).toBe(1000);
    expect(strip(h.replace(1, a, { price: 101 }))[0]).toMatchObject({ price: 101, keptPriority: false });
  });

  it('a replace needing more cash than available is INSUFFICIENT_FUNDS and changes nothing', () => {
    const h = setup(book, { 1: 2_000 });
    const a = h.limit(1, 'buy', 10, 100).id;
    const b = h.limit(1, 'buy', 5, 99).id;
    expect(h.money(1)).toEqual({ cash: 2_000, reservedCash: 1_495, buyingPower: 505 });
    const before = h.engine.order(a);
    const r = h.replace(1, a, { qty: 16 });
    expect(strip(r)).toEqual([
      { type: 'Rejected', command: 'ReplaceOrder', code: 'INSUFFICIENT_FUNDS', message: 'Needs 1600; buying power is 1505', accountId: 1, orderId: a },
    ]);
    expect(h.engine.order(a)).toEqual(before);
    expect(code(h.replace(1, a, { price: 151 }))).toBe('PRICE_OUT_OF_BAND');
    expect(code(h.replace(1, a, { price: 140, qty: 11 }))).toBe('INSUFFICIENT_FUNDS'); // 1540 > 1000 + 505
    expect(h.money(1)).toEqual({ cash: 2_000, reservedCash: 1_495, buyingPower: 505 });
    // what is free is fine: 15 x 100 = 1500 <= 1000 held + 505 free
    expect(strip(h.replace(1, a, { qty: 15 }))[0]).toMatchObject({ qty: 15, leaves: 15 });
    expect(h.money(1)).toEqual({ cash: 2_000, reservedCash: 1_995, buyingPower: 5 });
    expect(h.engine.order(b)).toMatchObject({ leaves: 5, price: 99 });
  });

  it('replacing a sell beyond the free shares is INSUFFICIENT_SHARES', () => {
    const h = setup(book, { 1: 100_000 });
    h.seed(1, 10, 100);
    const s = h.limit(1, 'sell', 6, 110).id;
    h.limit(1, 'sell', 3, 111);
    expect(code(h.replace(1, s, { qty: 8 }))).toBe('INSUFFICIENT_SHARES');
    expect(strip(h.replace(1, s, { qty: 7 }))[0]).toMatchObject({ qty: 7, keptPriority: false });
    expect(h.pos(1)).toMatchObject({ qty: 10, reservedQty: 10 });
  });

  it('replace of an unknown or foreign order', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const a = h.limit(1, 'buy', 10, 100).id;
    expect(code(h.replace(1, 12345, { qty: 5 }))).toBe('UNKNOWN_ORDER');
    expect(code(h.replace(2, a, { qty: 5 }))).toBe('NOT_ORDER_OWNER');
    expect(code(h.replace(77, a, { qty: 5 }))).toBe('UNKNOWN_ACCOUNT');
    expect(code(h.replace(1, a, { trailAmount: 5 }))).toBe('INVALID_ORDER');
    expect(code(h.replace(1, a, { stopPrice: 95 }))).toBe('INVALID_ORDER');
    expect(code(h.replace(1, a, { price: 100.5 }))).toBe('INVALID_PRICE');
  });
});

describe.each(BOOKS)('cancel (%s book)', (book) => {
  it('cancels the open remainder and releases its reservation', () => {
    const h = setup(book, { 1: 100_000 });
    const a = h.limit(1, 'buy', 10, 100).id;
    h.limit(DEALER, 'sell', 3, 100);
    expect(h.money(1)).toEqual({ cash: 99_700, reservedCash: 700, buyingPower: 99_000 });
    expect(strip(h.cancel(1, a))).toEqual([
      { type: 'OrderCanceled', orderId: a, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 7 },
    ]);
    expect(h.money(1)).toEqual({ cash: 99_700, reservedCash: 0, buyingPower: 99_700 });
    expect(h.engine.order(a)).toBeUndefined();
    expect(h.acct(1).openOrders).toBe(0);
    expect(h.engine.depth('ACME')!.bids).toEqual([]);
    // gone now: a second cancel is UNKNOWN_ORDER
    expect(code(h.cancel(1, a))).toBe('UNKNOWN_ORDER');
  });

  it('UNKNOWN_ORDER, NOT_ORDER_OWNER and UNKNOWN_ACCOUNT', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const a = h.limit(1, 'buy', 10, 100).id;
    const r = h.cancel(1, 999);
    expect(strip(r)).toEqual([
      { type: 'Rejected', command: 'CancelOrder', code: 'UNKNOWN_ORDER', message: 'No working order 999', accountId: 1, orderId: 999 },
    ]);
    expect(code(h.cancel(2, a))).toBe('NOT_ORDER_OWNER');
    expect(code(h.cancel(42, a))).toBe('UNKNOWN_ACCOUNT');
    // a fully filled order is no longer working
    const f = h.limit(2, 'buy', 5, 101).id;
    h.limit(DEALER, 'sell', 5, 101);
    expect(code(h.cancel(2, f))).toBe('UNKNOWN_ORDER');
    expect(h.engine.order(a)).toMatchObject({ leaves: 10 });
  });

  it('cancels a pending stop and releases what it held', () => {
    const h = setup(book, { 1: 100_000 });
    h.seed(1, 20, 100);
    const sb = h.stop(1, 'buy', 10, 110, { tif: 'gtc' }).id;
    const ss = h.stop(1, 'sell', 15, 90, { price: 89 }).id;
    const tr = h.place(1, 'sell', 5, { orderType: 'trailing_stop', trailAmount: 3 }).id;
    expect(h.money(1)).toEqual({ cash: 98_000, reservedCash: 1100, buyingPower: 96_900 });
    expect(h.pos(1)).toMatchObject({ qty: 20, reservedQty: 20 });
    expect(strip(h.cancel(1, sb))).toEqual([
      { type: 'OrderCanceled', orderId: sb, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 10 },
    ]);
    expect(strip(h.cancel(1, ss))[0]).toMatchObject({ orderId: ss, reason: 'user', canceledQty: 15 });
    expect(strip(h.cancel(1, tr))[0]).toMatchObject({ orderId: tr, reason: 'user', canceledQty: 5 });
    expect(h.money(1)).toEqual({ cash: 98_000, reservedCash: 0, buyingPower: 98_000 });
    expect(h.pos(1)).toMatchObject({ qty: 20, reservedQty: 0 });
    // canceled stops no longer trigger
    h.limit(DEALER, 'sell', 1, 111);
    h.limit(DEALER, 'buy', 1, 111);
    expect(h.log.filter((e) => e.type === 'OrderTriggered')).toEqual([]);
  });
});
