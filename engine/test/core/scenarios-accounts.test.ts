// Accounts and risk: cash, reservations, buying power, positions and P&L, short selling, deposits and
// withdrawals, account limits.
import { describe, expect, it } from 'vitest';
import { BOOKS, DEALER, code, only, setup, strip, trades } from './helpers.js';

describe.each(BOOKS)('cash, reservations and buying power (%s book)', (book) => {
  it('follows every step of a partly filled buy order', () => {
    const h = setup(book);
    h.account(1);
    expect(strip(h.deposit(1, 10_000))).toEqual([{ type: 'CashMoved', accountId: 1, amount: 10_000, cash: 10_000 }]);
    expect(h.money(1)).toEqual({ cash: 10_000, reservedCash: 0, buyingPower: 10_000 });
    const o = h.limit(1, 'buy', 50, 100).id;
    expect(h.money(1)).toEqual({ cash: 10_000, reservedCash: 5_000, buyingPower: 5_000 });
    h.limit(DEALER, 'sell', 20, 100);
    expect(h.money(1)).toEqual({ cash: 8_000, reservedCash: 3_000, buyingPower: 5_000 });
    expect(h.pos(1)).toEqual({ symbol: 'ACME', qty: 20, cost: 2_000, avgPrice: 100, reservedQty: 0, realizedPnl: 0, unrealizedPnl: 0, mark: 100 });
    // a second order cannot use the reserved cash
    expect(code(h.limit(1, 'buy', 51, 100).events)).toBe('INSUFFICIENT_FUNDS');
    expect(h.limit(1, 'buy', 50, 100).events.map((e) => e.type)).toEqual(['OrderAccepted']);
    expect(h.money(1)).toEqual({ cash: 8_000, reservedCash: 8_000, buyingPower: 0 });
    h.cancel(1, o);
    expect(h.money(1)).toEqual({ cash: 8_000, reservedCash: 5_000, buyingPower: 3_000 });
    expect(code(h.withdraw(1, 3_001))).toBe('INSUFFICIENT_FUNDS');
    expect(strip(h.withdraw(1, 3_000))).toEqual([{ type: 'CashMoved', accountId: 1, amount: -3_000, cash: 5_000 }]);
    expect(h.money(1)).toEqual({ cash: 5_000, reservedCash: 5_000, buyingPower: 0 });
    expect(h.acct(1)).toMatchObject({ equity: 5_000 + 20 * 100, openOrders: 1, dailyOrders: 2, realizedPnl: 0 });
  });

  it('a buy that fills below its limit releases the whole reservation', () => {
    const h = setup(book, { 1: 10_000 });
    h.limit(DEALER, 'sell', 10, 95);
    h.limit(1, 'buy', 10, 100);
    expect(h.money(1)).toEqual({ cash: 9_050, reservedCash: 0, buyingPower: 9_050 });
  });

  it('deposits and withdrawals validate the amount', () => {
    const h = setup(book, { 1: 1_000 });
    for (const amount of [0, -5, 1.5, Number.NaN, 1e16]) {
      expect(code(h.deposit(1, amount)), String(amount)).toBe('INVALID_AMOUNT');
      expect(code(h.withdraw(1, amount)), String(amount)).toBe('INVALID_AMOUNT');
    }
    expect(code(h.deposit(1, '5' as unknown as number))).toBe('INVALID_AMOUNT');
    expect(code(h.deposit(7, 100))).toBe('UNKNOWN_ACCOUNT');
    expect(code(h.withdraw(1, 1_001))).toBe('INSUFFICIENT_FUNDS');
    expect(strip(h.withdraw(1, 1_000))).toEqual([{ type: 'CashMoved', accountId: 1, amount: -1_000, cash: 0 }]);
    expect(h.money(1)).toEqual({ cash: 0, reservedCash: 0, buyingPower: 0 });
  });

  it('selling needs shares that are not already promised', () => {
    const h = setup(book, { 1: 100_000 });
    const r = h.limit(1, 'sell', 10, 100);
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'INSUFFICIENT_SHARES', message: 'Selling 10 needs shares; 0 available', accountId: 1, orderId: r.id },
    ]);
    h.seed(1, 10, 100);
    h.limit(1, 'sell', 6, 120);
    expect(h.pos(1)).toMatchObject({ qty: 10, reservedQty: 6 });
    expect(code(h.limit(1, 'sell', 5, 121).events)).toBe('INSUFFICIENT_SHARES');
    expect(code(h.stop(1, 'sell', 5, 90).events)).toBe('INSUFFICIENT_SHARES');
    h.limit(1, 'sell', 4, 121);
    expect(h.pos(1)).toMatchObject({ qty: 10, reservedQty: 10 });
  });
});

describe.each(BOOKS)('positions and P&L (%s book)', (book) => {
  it('average cost, realized P&L on partial sells, unrealized P&L against the last price', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 100, 100);
    h.seed(1, 100, 110);
    expect(h.pos(1)).toMatchObject({ qty: 200, cost: 21_000, avgPrice: 105, realizedPnl: 0, mark: 110, unrealizedPnl: 22_000 - 21_000 });
    h.limit(2, 'buy', 50, 120);
    h.limit(1, 'sell', 50, 120);
    expect(h.pos(1)).toEqual({ symbol: 'ACME', qty: 150, cost: 15_750, avgPrice: 105, reservedQty: 0, realizedPnl: 750, unrealizedPnl: 150 * 120 - 15_750, mark: 120 });
    expect(h.acct(1)).toMatchObject({ cash: 100_000 - 21_000 + 6_000, realizedPnl: 750, unrealizedPnl: 2_250, equity: 85_000 + 18_000 });
    // the mark follows the last trade whoever made it
    h.limit(DEALER, 'sell', 1, 90);
    h.limit(2, 'buy', 1, 90);
    expect(h.pos(1)).toMatchObject({ mark: 90, unrealizedPnl: 150 * 90 - 15_750 });
    expect(h.acct(1).unrealizedPnl).toBe(-2_250);
  });

  it('proportional cost removal rounds half away from zero and realized P&L adds up exactly', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 2, 100);
    h.seed(1, 1, 101); // 3 shares, cost 301
    const sell1 = () => {
      h.limit(2, 'buy', 1, 100);
      h.limit(1, 'sell', 1, 100);
    };
    sell1(); // removes round(301/3) = 100
    expect(h.pos(1)).toMatchObject({ qty: 2, cost: 201, realizedPnl: 0 });
    sell1(); // removes round(201/2 = 100.5) = 101
    expect(h.pos(1)).toMatchObject({ qty: 1, cost: 100, realizedPnl: -1 });
    sell1();
    expect(h.pos(1)).toMatchObject({ qty: 0, cost: 0, realizedPnl: -1, avgPrice: 0, unrealizedPnl: 0 });
    expect(h.acct(1).realizedPnl).toBe(-1);
  });

  it('a short-capable account: the short sale reserves cash and its proceeds are not spendable', () => {
    const h = setup(book, { 2: 100_000 });
    h.account(3, 10_000, { allowShort: true });
    const s = h.limit(3, 'sell', 50, 100).id;
    expect(h.money(3)).toEqual({ cash: 10_000, reservedCash: 5_000, buyingPower: 5_000 });
    expect(h.engine.order(s)).toMatchObject({ leaves: 50 });
    h.limit(2, 'buy', 50, 100);
    expect(h.pos(3)).toEqual({ symbol: 'ACME', qty: -50, cost: -5_000, avgPrice: 100, reservedQty: 0, realizedPnl: 0, unrealizedPnl: 0, mark: 100 });
    // cash rose by the proceeds, but buying power did not
    expect(h.money(3)).toEqual({ cash: 15_000, reservedCash: 0, buyingPower: 10_000 });
    expect(code(h.withdraw(3, 10_001))).toBe('INSUFFICIENT_FUNDS');
    expect(code(h.limit(3, 'sell', 101, 100).events)).toBe('INSUFFICIENT_FUNDS'); // 10100 of backing needed
    // a rising price hurts the short
    h.limit(DEALER, 'sell', 1, 110);
    h.limit(2, 'buy', 1, 110);
    expect(h.pos(3)).toMatchObject({ mark: 110, unrealizedPnl: -500 });
    expect(h.acct(3)).toMatchObject({ equity: 15_000 - 5_500, unrealizedPnl: -500 });
    // covering at 90 realizes the gain and frees the held proceeds
    h.limit(DEALER, 'sell', 50, 90);
    h.limit(3, 'buy', 50, 90);
    expect(h.pos(3)).toMatchObject({ qty: 0, cost: 0, realizedPnl: 500 });
    expect(h.money(3)).toEqual({ cash: 10_500, reservedCash: 0, buyingPower: 10_500 });
  });

  it('flipping long to short realizes the long and opens the short at the trade price', () => {
    const h = setup(book, { 2: 100_000 });
    h.account(1, 100_000, { allowShort: true });
    h.seed(1, 100, 100);
    const s = h.limit(1, 'sell', 150, 110).id;
    // 100 from the long position, 50 short backed by 50 x 110 of cash
    expect(h.pos(1)).toMatchObject({ qty: 100, reservedQty: 100 });
    expect(h.money(1)).toEqual({ cash: 90_000, reservedCash: 5_500, buyingPower: 84_500 });
    h.limit(2, 'buy', 150, 110);
    expect(h.engine.order(s)).toBeUndefined();
    expect(h.pos(1)).toEqual({ symbol: 'ACME', qty: -50, cost: -5_500, avgPrice: 110, reservedQty: 0, realizedPnl: 1_000, unrealizedPnl: 0, mark: 110 });
    expect(h.money(1)).toEqual({ cash: 106_500, reservedCash: 0, buyingPower: 101_000 });
    // and back: short 50 to long 30
    h.limit(DEALER, 'sell', 80, 100);
    h.limit(1, 'buy', 80, 100);
    expect(h.pos(1)).toMatchObject({ qty: 30, cost: 3_000, avgPrice: 100, realizedPnl: 1_500 });
    expect(h.money(1)).toEqual({ cash: 98_500, reservedCash: 0, buyingPower: 98_500 });
  });

  it('an account that may not short cannot go below zero shares, even with a market order', () => {
    const h = setup(book, { 1: 100_000 });
    h.seed(1, 5, 100);
    h.limit(DEALER, 'buy', 100, 99);
    expect(code(h.market(1, 'sell', 6).events)).toBe('INSUFFICIENT_SHARES');
    h.market(1, 'sell', 5);
    expect(h.pos(1)).toMatchObject({ qty: 0, realizedPnl: -5 });
  });
});

describe.each(BOOKS)('account limits (%s book)', (book) => {
  it('maxOrderQty and maxOrderNotional (limit price, stop price, or the mark for market orders)', () => {
    const h = setup(book);
    expect(strip(h.exec({ type: 'OpenAccount', accountId: 1, limits: { maxOrderQty: 100, maxOrderNotional: 10_000 } }))).toEqual([
      { type: 'AccountOpened', accountId: 1 },
    ]);
    h.deposit(1, 1_000_000);
    const q = h.limit(1, 'buy', 101, 50);
    expect(strip(q.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'LIMIT_EXCEEDED', message: "Quantity 101 exceeds the account's maximum order size 100", accountId: 1, orderId: q.id },
    ]);
    expect(h.limit(1, 'buy', 100, 100).events.map((e) => e.type)).toEqual(['OrderAccepted']); // 10000: at the limit
    expect(code(h.limit(1, 'buy', 99, 102).events)).toBe('LIMIT_EXCEEDED'); // 10098
    expect(code(h.stop(1, 'buy', 91, 110).events)).toBe('LIMIT_EXCEEDED'); // 10010 at the stop price
    h.limit(DEALER, 'sell', 100, 101);
    expect(code(h.market(1, 'buy', 101).events)).toBe('LIMIT_EXCEEDED'); // qty
    h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxOrderNotional: 10_000 } });
    expect(code(h.market(1, 'buy', 101).events)).toBe('LIMIT_EXCEEDED'); // 101 x mark 100
    // 100 x mark 100 is accepted; the book's 101 would take it to 10,100: it trades 99 and stops there
    const m = h.market(1, 'buy', 100);
    expect(trades(m.events).map(([px, qty]) => [px, qty])).toEqual([[101, 99]]);
    expect(only(m.events, 'OrderCanceled')).toMatchObject([{ orderId: m.id, reason: 'limit_exceeded', canceledQty: 1 }]);
    // replace is held to the same limits
    const o = h.engine.openOrders(1)[0]!.orderId;
    expect(code(h.replace(1, o, { price: 101 }))).toBe('LIMIT_EXCEEDED');
  });

  it('maxOpenOrders counts live orders; canceling makes room', () => {
    const h = setup(book);
    h.account(1, 1_000_000, { limits: { maxOpenOrders: 2 } });
    const a = h.limit(1, 'buy', 1, 90).id;
    h.stop(1, 'buy', 1, 110);
    const r = h.limit(1, 'buy', 1, 91);
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'LIMIT_EXCEEDED', message: 'The account already has 2 open orders (maximum 2)', accountId: 1, orderId: r.id },
    ]);
    h.cancel(1, a);
    expect(h.limit(1, 'buy', 1, 91).events.map((e) => e.type)).toEqual(['OrderAccepted']);
    expect(h.acct(1).openOrders).toBe(2);
  });

  it('maxDailyOrders counts every accepted order today and resets at EndSession', () => {
    const h = setup(book);
    h.account(1, 1_000_000, { limits: { maxDailyOrders: 3 } });
    const ids = [h.limit(1, 'buy', 1, 90).id, h.limit(1, 'buy', 1, 91).id, h.limit(1, 'buy', 1, 92).id];
    for (const id of ids) h.cancel(1, id);
    expect(h.acct(1)).toMatchObject({ openOrders: 0, dailyOrders: 3 });
    const r = h.limit(1, 'buy', 1, 93);
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'LIMIT_EXCEEDED', message: 'The account reached its 3 orders for today', accountId: 1, orderId: r.id },
    ]);
    h.endSession();
    expect(h.acct(1).dailyOrders).toBe(0);
    expect(h.limit(1, 'buy', 1, 93).events.map((e) => e.type)).toEqual(['OrderAccepted']);
    expect(h.acct(1).dailyOrders).toBe(1);
  });

  it('a bracket counts as three orders and an OCO pair as two', () => {
    const h = setup(book);
    h.account(1, 1_000_000, { limits: { maxOpenOrders: 2 } });
    const br = { takeProfit: { orderId: 900, price: 110 }, stopLoss: { orderId: 901, stopPrice: 90 } };
    expect(code(h.place(1, 'buy', 10, { price: 100, bracket: br }).events)).toBe('LIMIT_EXCEEDED');
    h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxDailyOrders: 2 } });
    expect(code(h.place(1, 'buy', 10, { price: 100, bracket: br }).events)).toBe('LIMIT_EXCEEDED');
    h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxOpenOrders: 3, maxDailyOrders: 3 } });
    expect(h.place(1, 'buy', 10, { price: 100, bracket: br }).events.map((e) => e.type)).toEqual(['OrderAccepted', 'OrderAccepted', 'OrderAccepted']);
    expect(h.acct(1)).toMatchObject({ openOrders: 3, dailyOrders: 3 });
    h.endSession();
    h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxDailyOrders: 1 } });
    const legs = [
      { side: 'buy' as const, qty: 1, orderType: 'limit' as const, price: 90 },
      { side: 'buy' as const, qty: 1, orderType: 'stop' as const, stopPrice: 120 },
    ] as const;
    expect(code(h.oco(1, legs[0], legs[1]).events)).toBe('LIMIT_EXCEEDED');
    // (the day entry expired at EndSession and took its children with it)
    expect(h.acct(1).openOrders).toBe(0);
    h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxOpenOrders: 1 } });
    expect(code(h.oco(1, legs[0], legs[1]).events)).toBe('LIMIT_EXCEEDED');
    h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxOpenOrders: 2, maxDailyOrders: 2 } });
    expect(h.oco(1, legs[0], legs[1]).events.map((e) => e.type)).toEqual(['OrderAccepted', 'OrderAccepted']);
  });

  it('SetAccountLimits replaces the limits and can allow shorting; bad limits are INVALID_ORDER', () => {
    const h = setup(book);
    h.account(1, 10_000);
    expect(strip(h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxOrderQty: 5 }, allowShort: true }))).toEqual([
      { type: 'AccountLimitsChanged', accountId: 1 },
    ]);
    expect(h.acct(1)).toMatchObject({ allowShort: true, limits: { maxOrderQty: 5 } });
    expect(h.limit(1, 'sell', 5, 100).events.map((e) => e.type)).toEqual(['OrderAccepted']); // a short sale now
    expect(code(h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxOrderQty: 0 } }))).toBe('INVALID_ORDER');
    expect(code(h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxOpenOrders: 1.5 } }))).toBe('INVALID_ORDER');
    expect(code(h.exec({ type: 'SetAccountLimits', accountId: 2, limits: {} }))).toBe('UNKNOWN_ACCOUNT');
    expect(code(h.exec({ type: 'OpenAccount', accountId: 3, limits: { maxDailyOrders: -1 } }))).toBe('INVALID_ORDER');
    expect(h.acct(1).limits).toEqual({ maxOrderQty: 5 });
  });
});
