// Bracket orders (entry + take-profit + stop-loss) and OCO pairs.
import { describe, expect, it } from 'vitest';
import { BOOKS, DEALER, type Harness, code, setup, strip } from './helpers.js';

/** Account 1 places a gtc limit buy 100 @ 100 with take-profit 110 and stop-loss 90. */
function bracket(h: Harness, opts: { tp?: number; sl?: number; entryPrice?: number } = {}) {
  const entry = h.id();
  const tp = h.id();
  const sl = h.id();
  const events = h.place(1, 'buy', 100, {
    orderId: entry,
    price: opts.entryPrice ?? 100,
    tif: 'gtc',
    bracket: { takeProfit: { orderId: tp, price: opts.tp ?? 110 }, stopLoss: { orderId: sl, stopPrice: opts.sl ?? 90 } },
  }).events;
  return { entry, tp, sl, events };
}

describe.each(BOOKS)('brackets (%s book)', (book) => {
  it('children wait for the entry, then go live for the filled quantity', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const b = bracket(h);
    expect(strip(b.events)).toEqual([
      { type: 'OrderAccepted', orderId: b.entry, accountId: 1, symbol: 'ACME', side: 'buy', orderType: 'limit', tif: 'gtc', qty: 100, price: 100, status: 'working' },
      { type: 'OrderAccepted', orderId: b.tp, accountId: 1, symbol: 'ACME', side: 'sell', orderType: 'limit', tif: 'gtc', qty: 100, price: 110, status: 'pending_parent', parentId: b.entry, linkedId: b.sl },
      { type: 'OrderAccepted', orderId: b.sl, accountId: 1, symbol: 'ACME', side: 'sell', orderType: 'stop', tif: 'gtc', qty: 100, stopPrice: 90, status: 'pending_parent', parentId: b.entry, linkedId: b.tp },
    ]);
    // only the entry holds anything; the children are not in the book
    expect(h.money(1)).toEqual({ cash: 100_000, reservedCash: 10_000, buyingPower: 90_000 });
    expect(h.acct(1).openOrders).toBe(3);
    expect(h.engine.depth('ACME')!.asks).toEqual([]);
    expect(h.engine.order(b.tp)).toMatchObject({ status: 'pending_parent', parentId: b.entry, linkedId: b.sl });
    // a fill of the whole entry activates both children
    const s = h.limit(DEALER, 'sell', 100, 100);
    expect(strip(s.events).slice(1)).toEqual([
      { type: 'Trade', tradeId: 1, symbol: 'ACME', price: 100, qty: 100, aggressor: 'sell', makerOrderId: b.entry, makerAccountId: 1, makerLeaves: 0, takerOrderId: s.id, takerAccountId: DEALER, takerLeaves: 0 },
      { type: 'OrderActivated', orderId: b.tp, accountId: 1, symbol: 'ACME', orderType: 'limit', qty: 100, price: 110, status: 'working' },
      { type: 'OrderActivated', orderId: b.sl, accountId: 1, symbol: 'ACME', orderType: 'stop', qty: 100, stopPrice: 90, status: 'pending_trigger' },
    ]);
    expect(h.engine.order(b.tp)).toMatchObject({ status: 'working', linkedId: b.sl, leaves: 100 });
    expect(h.engine.order(b.tp)?.parentId).toBeUndefined();
    expect(h.engine.order(b.sl)).toMatchObject({ status: 'pending_trigger', linkedId: b.tp, stopPrice: 90 });
    // the two exits share one reservation of the 100 shares
    expect(h.pos(1)).toMatchObject({ qty: 100, reservedQty: 100, cost: 10_000 });
    expect(h.money(1)).toEqual({ cash: 90_000, reservedCash: 0, buyingPower: 90_000 });
    expect(h.engine.quote('ACME')).toMatchObject({ ask: 110, askSize: 100 });

    // a take-profit fill shrinks the stop-loss by the same quantity
    const t1 = h.limit(2, 'buy', 30, 110);
    expect(strip(t1.events).slice(1)).toEqual([
      { type: 'Trade', tradeId: 2, symbol: 'ACME', price: 110, qty: 30, aggressor: 'buy', makerOrderId: b.tp, makerAccountId: 1, makerLeaves: 70, takerOrderId: t1.id, takerAccountId: 2, takerLeaves: 0 },
      { type: 'OrderReplaced', orderId: b.sl, accountId: 1, symbol: 'ACME', qty: 70, leaves: 70, stopPrice: 90, keptPriority: true },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 70, reservedQty: 70, realizedPnl: 300 });
    // ... and the rest of it cancels the stop-loss
    const t2 = h.limit(2, 'buy', 80, 110);
    expect(strip(t2.events).slice(1)).toEqual([
      { type: 'Trade', tradeId: 3, symbol: 'ACME', price: 110, qty: 70, aggressor: 'buy', makerOrderId: b.tp, makerAccountId: 1, makerLeaves: 0, takerOrderId: t2.id, takerAccountId: 2, takerLeaves: 10 },
      { type: 'OrderCanceled', orderId: b.sl, accountId: 1, symbol: 'ACME', reason: 'oco', canceledQty: 70 },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 0, reservedQty: 0, realizedPnl: 1000 });
    expect(h.acct(1).openOrders).toBe(0);
    expect(h.money(1)).toEqual({ cash: 101_000, reservedCash: 0, buyingPower: 101_000 });
  });

  it('a stop-loss trigger cancels the take-profit and sells the position', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(2, 10, 100);
    const b = bracket(h);
    h.limit(DEALER, 'sell', 100, 100);
    const bid = h.limit(DEALER, 'buy', 100, 89).id;
    h.limit(DEALER, 'buy', 1, 90);
    const t = h.limit(2, 'sell', 1, 90);
    expect(strip(t.events).slice(2)).toEqual([
      { type: 'OrderCanceled', orderId: b.tp, accountId: 1, symbol: 'ACME', reason: 'oco', canceledQty: 100 },
      { type: 'OrderTriggered', orderId: b.sl, accountId: 1, symbol: 'ACME', orderType: 'market', qty: 100, status: 'working' },
      { type: 'Trade', tradeId: 4, symbol: 'ACME', price: 89, qty: 100, aggressor: 'sell', makerOrderId: bid, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: b.sl, takerAccountId: 1, takerLeaves: 0 },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 0, reservedQty: 0, realizedPnl: -1100 });
    expect(h.engine.openOrders(1)).toEqual([]);
  });

  it('a partially filled entry that is canceled activates the children for the filled quantity', () => {
    const h = setup(book, { 1: 100_000 });
    const b = bracket(h);
    h.limit(DEALER, 'sell', 40, 100);
    expect(h.engine.order(b.tp)).toMatchObject({ status: 'pending_parent', qty: 100 });
    const c = h.cancel(1, b.entry);
    expect(strip(c)).toEqual([
      { type: 'OrderCanceled', orderId: b.entry, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 60 },
      { type: 'OrderActivated', orderId: b.tp, accountId: 1, symbol: 'ACME', orderType: 'limit', qty: 40, price: 110, status: 'working' },
      { type: 'OrderActivated', orderId: b.sl, accountId: 1, symbol: 'ACME', orderType: 'stop', qty: 40, stopPrice: 90, status: 'pending_trigger' },
    ]);
    expect(h.engine.order(b.tp)).toMatchObject({ qty: 40, leaves: 40, filledQty: 0 });
    expect(h.engine.order(b.sl)).toMatchObject({ qty: 40, leaves: 40 });
    expect(h.pos(1)).toMatchObject({ qty: 40, reservedQty: 40 });
    expect(h.money(1)).toEqual({ cash: 96_000, reservedCash: 0, buyingPower: 96_000 });
  });

  it("an entry canceled before any fill takes its children with it ('parent_canceled')", () => {
    const h = setup(book, { 1: 100_000 });
    const b = bracket(h);
    expect(strip(h.cancel(1, b.entry))).toEqual([
      { type: 'OrderCanceled', orderId: b.entry, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 100 },
      { type: 'OrderCanceled', orderId: b.tp, accountId: 1, symbol: 'ACME', reason: 'parent_canceled', canceledQty: 100 },
      { type: 'OrderCanceled', orderId: b.sl, accountId: 1, symbol: 'ACME', reason: 'parent_canceled', canceledQty: 100 },
    ]);
    expect(h.engine.openOrders(1)).toEqual([]);
    expect(h.money(1)).toEqual({ cash: 100_000, reservedCash: 0, buyingPower: 100_000 });
  });

  it('a market entry fills and activates its children in the same command', () => {
    const h = setup(book, { 1: 100_000 });
    const ask = h.limit(DEALER, 'sell', 100, 101).id;
    const tp = h.id();
    const sl = h.id();
    const m = h.market(1, 'buy', 100, { bracket: { takeProfit: { orderId: tp, price: 120 }, stopLoss: { orderId: sl, stopPrice: 95, price: 94 } } });
    expect(strip(m.events).map((e) => [e.type, e.orderId ?? e.makerOrderId, e.status, e.orderType])).toEqual([
      ['OrderAccepted', m.id, 'working', 'market'],
      ['OrderAccepted', tp, 'pending_parent', 'limit'],
      ['OrderAccepted', sl, 'pending_parent', 'stop_limit'],
      ['Trade', ask, undefined, undefined],
      ['OrderActivated', tp, 'working', 'limit'],
      ['OrderActivated', sl, 'pending_trigger', 'stop_limit'],
    ]);
    expect(h.engine.order(sl)).toMatchObject({ orderType: 'stop_limit', stopPrice: 95, price: 94, status: 'pending_trigger' });
  });

  it('a take-profit alone (no stop-loss) and a stop-loss alone are fine', () => {
    const h = setup(book, { 1: 100_000 });
    const tp = h.id();
    const e1 = h.place(1, 'buy', 10, { price: 100, bracket: { takeProfit: { orderId: tp, price: 105 } } });
    expect(strip(e1.events)[1]).toMatchObject({ orderId: tp, status: 'pending_parent', parentId: e1.id });
    expect(strip(e1.events)[1]!.linkedId).toBeUndefined();
    h.limit(DEALER, 'sell', 10, 100);
    expect(h.engine.order(tp)).toMatchObject({ status: 'working', qty: 10 });
    expect(h.pos(1)).toMatchObject({ qty: 10, reservedQty: 10 });
  });

  it('an IOC entry: the remainder is canceled and the children go live for what filled', () => {
    const h = setup(book, { 1: 100_000 });
    const ask = h.limit(DEALER, 'sell', 40, 100).id;
    const e = h.place(1, 'buy', 100, { price: 100, tif: 'ioc', bracket: { takeProfit: { orderId: 900, price: 110 }, stopLoss: { orderId: 901, stopPrice: 90 } } });
    expect(strip(e.events).slice(3)).toEqual([
      { type: 'Trade', tradeId: 1, symbol: 'ACME', price: 100, qty: 40, aggressor: 'buy', makerOrderId: ask, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: e.id, takerAccountId: 1, takerLeaves: 60 },
      { type: 'OrderCanceled', orderId: e.id, accountId: 1, symbol: 'ACME', reason: 'ioc', canceledQty: 60 },
      { type: 'OrderActivated', orderId: 900, accountId: 1, symbol: 'ACME', orderType: 'limit', qty: 40, price: 110, status: 'working' },
      { type: 'OrderActivated', orderId: 901, accountId: 1, symbol: 'ACME', orderType: 'stop', qty: 40, stopPrice: 90, status: 'pending_trigger' },
    ]);
    expect(h.acct(1)).toMatchObject({ openOrders: 2, dailyOrders: 3, cash: 96_000, reservedCash: 0 });
    expect(h.pos(1)).toMatchObject({ qty: 40, reservedQty: 40 });
  });

  it('a short entry: buy-side exits share one cash reservation; the stop-loss covers the short', () => {
    const h = setup(book, { 2: 100_000 });
    h.account(1, 20_000, { allowShort: true });
    h.place(1, 'sell', 100, { price: 100, tif: 'gtc', bracket: { takeProfit: { orderId: 900, price: 90 }, stopLoss: { orderId: 901, stopPrice: 110 } } });
    expect(h.money(1)).toEqual({ cash: 20_000, reservedCash: 10_000, buyingPower: 10_000 });
    h.limit(2, 'buy', 100, 100);
    // short 100 at 100: proceeds held (10000), exits hold the larger of 90 x 100 and 110 x 100
    expect(h.pos(1)).toMatchObject({ qty: -100, cost: -10_000 });
    expect(h.money(1)).toEqual({ cash: 30_000, reservedCash: 11_000, buyingPower: 9_000 });
    h.limit(DEALER, 'buy', 1, 110);
    const ask = h.limit(DEALER, 'sell', 200, 111).id;
    const t = h.limit(2, 'sell', 1, 110); // account 2 holds the 100 it bought
    expect(strip(t.events).slice(2)).toEqual([
      { type: 'OrderCanceled', orderId: 900, accountId: 1, symbol: 'ACME', reason: 'oco', canceledQty: 100 },
      { type: 'OrderTriggered', orderId: 901, accountId: 1, symbol: 'ACME', orderType: 'market', qty: 100, status: 'working' },
      { type: 'Trade', tradeId: 3, symbol: 'ACME', price: 111, qty: 100, aggressor: 'buy', makerOrderId: ask, makerAccountId: DEALER, makerLeaves: 100, takerOrderId: 901, takerAccountId: 1, takerLeaves: 0 },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 0, cost: 0, realizedPnl: -1_100 });
    expect(h.money(1)).toEqual({ cash: 18_900, reservedCash: 0, buyingPower: 18_900 });
  });

  it('invalid bracket prices are INVALID_ORDER', () => {
    const h = setup(book, { 1: 100_000 });
    expect(code(bracket(h, { tp: 100 }).events)).toBe('INVALID_ORDER'); // take-profit not beyond entry
    expect(code(bracket(h, { tp: 99, sl: 90 }).events)).toBe('INVALID_ORDER');
    expect(code(bracket(h, { sl: 100 }).events)).toBe('INVALID_ORDER'); // stop-loss not below entry
    expect(code(bracket(h, { sl: 101, tp: 120 }).events)).toBe('INVALID_ORDER');
    // no legs at all
    expect(code(h.place(1, 'buy', 10, { price: 100, bracket: {} }).events)).toBe('INVALID_ORDER');
    // a market entry has no price to compare with, but take-profit must still be above the stop-loss
    expect(code(h.market(1, 'buy', 10, { bracket: { takeProfit: { orderId: 900, price: 90 }, stopLoss: { orderId: 901, stopPrice: 95 } } }).events)).toBe('INVALID_ORDER');
    // child ids collide with the entry or each other
    expect(code(h.place(1, 'buy', 10, { orderId: 500, price: 100, bracket: { takeProfit: { orderId: 500, price: 110 } } }).events)).toBe('DUPLICATE_ORDER_ID');
    expect(code(h.place(1, 'buy', 10, { price: 100, bracket: { takeProfit: { orderId: 501, price: 110 }, stopLoss: { orderId: 501, stopPrice: 90 } } }).events)).toBe('DUPLICATE_ORDER_ID');
    // child prices are checked like any order's
    expect(code(bracket(h, { tp: 160 }).events)).toBe('PRICE_OUT_OF_BAND');
    expect(h.engine.openOrders(1)).toEqual([]);
  });

  it('re-pricing a waiting entry keeps its take-profit beyond it and its stop-loss below it (INVALID_ORDER)', () => {
    const h = setup(book, { 1: 100_000 });
    const b = bracket(h); // buy 100 @ 100, take-profit 110, stop-loss 90
    const before = h.engine.stateHash();
    expect(strip(h.replace(1, b.entry, { price: 120 }))).toEqual([
      { type: 'Rejected', command: 'ReplaceOrder', code: 'INVALID_ORDER', message: 'Take-profit must be beyond the entry price', accountId: 1, orderId: b.entry },
    ]);
    expect(strip(h.replace(1, b.entry, { price: 110 }))[0]).toMatchObject({ code: 'INVALID_ORDER', message: 'Take-profit must be beyond the entry price' });
    expect(strip(h.replace(1, b.entry, { price: 90, qty: 50 }))[0]).toMatchObject({ code: 'INVALID_ORDER', message: 'Stop-loss must be on the losing side of the entry price' });
    expect(h.engine.stateHash()).toBe(before);
    expect(h.engine.order(b.entry)).toMatchObject({ price: 100, qty: 100 });
    // a price between the two is fine, and the check holds after a partial fill too
    expect(strip(h.replace(1, b.entry, { price: 105 }))[0]).toMatchObject({ type: 'OrderReplaced', price: 105 });
    h.limit(DEALER, 'sell', 30, 105);
    expect(code(h.replace(1, b.entry, { price: 112 }))).toBe('INVALID_ORDER');
    // a sell entry: the take-profit below it, the stop-loss above it
    const [se, stp, ssl] = [h.id(), h.id(), h.id()];
    h.place(DEALER, 'sell', 10, { orderId: se, price: 120, tif: 'gtc', bracket: { takeProfit: { orderId: stp, price: 115 }, stopLoss: { orderId: ssl, stopPrice: 124 } } });
    expect(strip(h.replace(DEALER, se, { price: 114 }))[0]).toMatchObject({ code: 'INVALID_ORDER', message: 'Take-profit must be beyond the entry price' });
    expect(strip(h.replace(DEALER, se, { price: 124 }))[0]).toMatchObject({ code: 'INVALID_ORDER', message: 'Stop-loss must be on the losing side of the entry price' });
    // once the children are live the entry is done: nothing left to re-price against them
  });

  it('a replace journaled under rules 1 re-prices a waiting entry unchecked, as it ran then', () => {
    const h = setup(book, { 1: 100_000 });
    const b = bracket(h);
    const ev = h.exec({ type: 'ReplaceOrder', accountId: 1, orderId: b.entry, price: 120, rules: 1 });
    expect(strip(ev)[0]).toMatchObject({ type: 'OrderReplaced', orderId: b.entry, price: 120 });
  });

  it('a pending child cannot be modified (ORDER_NOT_MODIFIABLE) but an active one can', () => {
    const h = setup(book, { 1: 100_000 });
    const b = bracket(h);
    expect(strip(h.replace(1, b.tp, { price: 115 }))).toEqual([
      { type: 'Rejected', command: 'ReplaceOrder', code: 'ORDER_NOT_MODIFIABLE', message: 'A bracket child cannot be changed before its entry fills', accountId: 1, orderId: b.tp },
    ]);
    expect(code(h.replace(1, b.sl, { stopPrice: 85 }))).toBe('ORDER_NOT_MODIFIABLE');
    h.limit(DEALER, 'sell', 100, 100);
    expect(strip(h.replace(1, b.tp, { price: 115 }))[0]).toMatchObject({ orderId: b.tp, price: 115, keptPriority: false });
    expect(strip(h.replace(1, b.sl, { stopPrice: 85 }))[0]).toMatchObject({ orderId: b.sl, stopPrice: 85, keptPriority: false });
    expect(h.pos(1)).toMatchObject({ qty: 100, reservedQty: 100 });
  });

  it('a pending child can be canceled; the other one then activates alone', () => {
    const h = setup(book, { 1: 100_000 });
    const b = bracket(h);
    expect(strip(h.cancel(1, b.tp))).toEqual([
      { type: 'OrderCanceled', orderId: b.tp, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 100 },
    ]);
    expect(h.engine.order(b.sl)?.linkedId).toBeUndefined();
    const s = h.limit(DEALER, 'sell', 100, 100);
    expect(strip(s.events).slice(2)).toEqual([
      { type: 'OrderActivated', orderId: b.sl, accountId: 1, symbol: 'ACME', orderType: 'stop', qty: 100, stopPrice: 90, status: 'pending_trigger' },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 100, reservedQty: 100 });
  });

  it('children that cannot reserve the shares on activation are canceled once each', () => {
    const h = setup(book, { 1: 100_000 });
    const b = bracket(h);
    h.limit(DEALER, 'sell', 40, 100);
    const other = h.limit(1, 'sell', 40, 130).id; // the 40 bought are committed elsewhere
    expect(strip(h.cancel(1, b.entry))).toEqual([
      { type: 'OrderCanceled', orderId: b.entry, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 60 },
      { type: 'OrderCanceled', orderId: b.tp, accountId: 1, symbol: 'ACME', reason: 'insufficient_shares', canceledQty: 40 },
      { type: 'OrderCanceled', orderId: b.sl, accountId: 1, symbol: 'ACME', reason: 'insufficient_shares', canceledQty: 40 },
    ]);
    expect(h.engine.openOrders(1).map((o) => o.orderId)).toEqual([other]);
    expect(h.acct(1).openOrders).toBe(1);
  });
});

describe.each(BOOKS)('OCO pairs (%s book)', (book) => {
  it('two sell legs of 100 share one reservation of 100 shares', () => {
    const h = setup(book, { 1: 100_000 });
    h.seed(1, 100, 100);
    const o = h.oco(1, { side: 'sell', qty: 100, orderType: 'limit', price: 110 }, { side: 'sell', qty: 100, orderType: 'stop', stopPrice: 90 });
    const [tp, sl] = o.ids;
    expect(strip(o.events)).toEqual([
      { type: 'OrderAccepted', orderId: tp, accountId: 1, symbol: 'ACME', side: 'sell', orderType: 'limit', tif: 'gtc', qty: 100, price: 110, status: 'working', linkedId: sl },
      { type: 'OrderAccepted', orderId: sl, accountId: 1, symbol: 'ACME', side: 'sell', orderType: 'stop', tif: 'gtc', qty: 100, stopPrice: 90, status: 'pending_trigger', linkedId: tp },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 100, reservedQty: 100 });
    expect(code(h.limit(1, 'sell', 1, 120).events)).toBe('INSUFFICIENT_SHARES');
    expect(h.engine.order(tp)).toMatchObject({ linkedId: sl, status: 'working' });
  });

  it("a trade on the limit leg cancels the stop leg ('oco') as it settles", () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 100, 100);
    const [tp, sl] = h.oco(1, { side: 'sell', qty: 100, orderType: 'limit', price: 110 }, { side: 'sell', qty: 100, orderType: 'stop', stopPrice: 90 }).ids;
    const t = h.limit(2, 'buy', 40, 110);
    expect(strip(t.events).slice(1)).toEqual([
      { type: 'Trade', tradeId: 2, symbol: 'ACME', price: 110, qty: 40, aggressor: 'buy', makerOrderId: tp, makerAccountId: 1, makerLeaves: 60, takerOrderId: t.id, takerAccountId: 2, takerLeaves: 0 },
      { type: 'OrderCanceled', orderId: sl, accountId: 1, symbol: 'ACME', reason: 'oco', canceledQty: 100 },
    ]);
    expect(h.engine.order(tp)).toMatchObject({ leaves: 60, status: 'working' });
    expect(h.engine.order(tp)?.linkedId).toBeUndefined();
    expect(h.pos(1)).toMatchObject({ qty: 60, reservedQty: 60, realizedPnl: 400 });
  });

  it('the same when the trading leg is the second one', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 100, 100);
    const [sl, tp] = h.oco(1, { side: 'sell', qty: 100, orderType: 'stop', stopPrice: 90 }, { side: 'sell', qty: 100, orderType: 'limit', price: 110 }).ids;
    const t = h.limit(2, 'buy', 40, 110);
    expect(strip(t.events).slice(1).map((e) => [e.type, e.orderId ?? e.makerOrderId, e.reason ?? e.qty])).toEqual([
      ['Trade', tp, 40],
      ['OrderCanceled', sl, 'oco'],
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 60, reservedQty: 60 });
  });

  it('the stop leg triggering cancels the limit leg and sells', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 100, 100);
    h.seed(2, 10, 100);
    const [tp, sl] = h.oco(1, { side: 'sell', qty: 100, orderType: 'limit', price: 110 }, { side: 'sell', qty: 100, orderType: 'stop', stopPrice: 90 }).ids;
    const bid = h.limit(DEALER, 'buy', 100, 88).id;
    h.limit(DEALER, 'buy', 1, 90);
    const t = h.limit(2, 'sell', 1, 90);
    expect(strip(t.events).slice(2)).toEqual([
      { type: 'OrderCanceled', orderId: tp, accountId: 1, symbol: 'ACME', reason: 'oco', canceledQty: 100 },
      { type: 'OrderTriggered', orderId: sl, accountId: 1, symbol: 'ACME', orderType: 'market', qty: 100, status: 'working' },
      { type: 'Trade', tradeId: 4, symbol: 'ACME', price: 88, qty: 100, aggressor: 'sell', makerOrderId: bid, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: sl, takerAccountId: 1, takerLeaves: 0 },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 0, reservedQty: 0, realizedPnl: -1200 });
  });

  it('buy legs reserve the larger of their cash needs; canceling one leg frees the other', () => {
    const h = setup(book, { 1: 11_000 });
    const [lo, hi] = h.oco(1, { side: 'buy', qty: 100, orderType: 'limit', price: 90 }, { side: 'buy', qty: 100, orderType: 'stop', stopPrice: 110 }).ids;
    expect(h.money(1)).toEqual({ cash: 11_000, reservedCash: 11_000, buyingPower: 0 });
    expect(code(h.limit(1, 'buy', 1, 50).events)).toBe('INSUFFICIENT_FUNDS');
    expect(strip(h.cancel(1, hi))).toEqual([
      { type: 'OrderCanceled', orderId: hi, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 100 },
    ]);
    // the limit leg now stands alone and holds only its own 9000
    expect(h.engine.order(lo)?.linkedId).toBeUndefined();
    expect(h.money(1)).toEqual({ cash: 11_000, reservedCash: 9_000, buyingPower: 2_000 });
  });

  it('a buy OCO whose limit leg is filled keeps enough cash for itself only', () => {
    const h = setup(book, { 1: 11_000 });
    const [lo, hi] = h.oco(1, { side: 'buy', qty: 100, orderType: 'limit', price: 90 }, { side: 'buy', qty: 100, orderType: 'stop', stopPrice: 110 }).ids;
    const s = h.limit(DEALER, 'sell', 30, 90);
    expect(strip(s.events).slice(1).map((e) => [e.type, e.orderId ?? e.makerOrderId, e.reason ?? e.qty])).toEqual([
      ['Trade', lo, 30],
      ['OrderCanceled', hi, 'oco'],
    ]);
    expect(h.money(1)).toEqual({ cash: 11_000 - 2_700, reservedCash: 70 * 90, buyingPower: 11_000 - 2_700 - 6_300 });
  });

  it('a trailing-stop leg moves inside the pair; a leg replace is checked against the shared reservation', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 100, 100);
    h.seed(2, 10, 100);
    const [lim, tr] = h.oco(1, { side: 'sell', qty: 100, orderType: 'limit', price: 120 }, { side: 'sell', qty: 100, orderType: 'trailing_stop', trailAmount: 5 }).ids;
    expect(h.engine.order(tr)).toMatchObject({ stopPrice: 95, status: 'pending_trigger', linkedId: lim });
    h.limit(DEALER, 'sell', 1, 105);
    expect(strip(h.limit(2, 'buy', 1, 105).events).at(-1)).toEqual({ type: 'StopMoved', orderId: tr, accountId: 1, stopPrice: 100 });
    expect(code(h.replace(1, lim, { qty: 101 }))).toBe('INSUFFICIENT_SHARES');
    expect(strip(h.replace(1, lim, { qty: 50 }))).toEqual([
      { type: 'OrderReplaced', orderId: lim, accountId: 1, symbol: 'ACME', qty: 50, leaves: 50, price: 120, keptPriority: true },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 100, reservedQty: 100 }); // the trailing leg still needs 100
    const bid = h.limit(DEALER, 'buy', 100, 99).id;
    const t = h.limit(2, 'sell', 1, 99);
    expect(strip(t.events).slice(2)).toEqual([
      { type: 'OrderCanceled', orderId: lim, accountId: 1, symbol: 'ACME', reason: 'oco', canceledQty: 50 },
      { type: 'OrderTriggered', orderId: tr, accountId: 1, symbol: 'ACME', orderType: 'market', qty: 100, status: 'working' },
      { type: 'Trade', tradeId: 5, symbol: 'ACME', price: 99, qty: 99, aggressor: 'sell', makerOrderId: bid, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: tr, takerAccountId: 1, takerLeaves: 1 },
      { type: 'OrderCanceled', orderId: tr, accountId: 1, symbol: 'ACME', reason: 'ioc', canceledQty: 1 },
    ]);
    expect(h.pos(1)).toMatchObject({ qty: 1, cost: 100, reservedQty: 0, realizedPnl: -99 });
  });

  it('legs must share symbol and side, and rest (no market, ioc or fok legs)', () => {
    const h = setup(book, { 1: 100_000 });
    h.instrument({ symbol: 'BETA', name: 'Beta', tickSize: 1, lotSize: 1, referencePrice: 100, bandBps: 5000 });
    h.seed(1, 100, 100);
    expect(code(h.oco(1, { side: 'sell', qty: 10, orderType: 'limit', price: 110 }, { side: 'buy', qty: 10, orderType: 'limit', price: 90 }).events)).toBe('INVALID_ORDER');
    expect(code(h.oco(1, { side: 'buy', qty: 10, orderType: 'limit', price: 90 }, { side: 'buy', qty: 10, orderType: 'limit', price: 90, symbol: 'BETA' }).events)).toBe('INVALID_ORDER');
    expect(code(h.oco(1, { side: 'sell', qty: 10, orderType: 'limit', price: 110 }, { side: 'sell', qty: 10, orderType: 'market' }).events)).toBe('INVALID_ORDER');
    expect(code(h.oco(1, { side: 'sell', qty: 10, orderType: 'limit', price: 110, tif: 'ioc' }, { side: 'sell', qty: 10, orderType: 'stop', stopPrice: 90 }).events)).toBe('INVALID_ORDER');
    expect(code(h.oco(1, { side: 'sell', qty: 101, orderType: 'limit', price: 110 }, { side: 'sell', qty: 10, orderType: 'stop', stopPrice: 90 }).events)).toBe('INSUFFICIENT_SHARES');
    expect(h.engine.openOrders(1)).toEqual([]);
  });
});
