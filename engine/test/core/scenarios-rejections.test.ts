// The rejection catalogue: every validation, risk, matching and order result code, each produced by a
// scenario here, with the exact code (and where useful the message and extra fields). The harness checks
// that each rejection is the only event and leaves the state hash unchanged. The last test checks that
// this file produced every such code in codes.ts (vitest runs each file in its own worker, so the codes
// seen are this file's own).
import { describe, expect, it } from 'vitest';
import { CODES, MAX_ORDER_QTY, RESULT_CODES, checkInvariants, type Command } from '../../core/index.js';
import { ACME, BOOKS, DEALER, LOTS, code, seenCodes, setup, strip } from './helpers.js';

describe.each(BOOKS)('rejections (%s book)', (book) => {
  it('UNKNOWN_SYMBOL and UNKNOWN_ACCOUNT', () => {
    const h = setup(book, { 1: 100_000 });
    const r = h.limit(1, 'buy', 1, 100, { symbol: 'NOPE' });
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'UNKNOWN_SYMBOL', message: 'Unknown symbol NOPE', accountId: 1, orderId: r.id },
    ]);
    expect(code(h.exec({ type: 'SetInstrumentStatus', symbol: 'NOPE', status: 'halted' }))).toBe('UNKNOWN_SYMBOL');
    const u = h.limit(77, 'buy', 1, 100);
    expect(strip(u.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'UNKNOWN_ACCOUNT', message: 'Unknown account 77', accountId: 77, orderId: u.id },
    ]);
    // the account is checked before the symbol
    expect(code(h.limit(77, 'buy', 1, 100, { symbol: 'NOPE' }).events)).toBe('UNKNOWN_ACCOUNT');
    expect(code(h.deposit(77, 100))).toBe('UNKNOWN_ACCOUNT');
    expect(code(h.exec({ type: 'OpenAccount', accountId: 0 }))).toBe('UNKNOWN_ACCOUNT');
    expect(code(h.exec({ type: 'OpenAccount', accountId: -3 }))).toBe('UNKNOWN_ACCOUNT');
  });

  it('INVALID_PRICE: off the tick, missing, not positive', () => {
    const h = setup(book, { 1: 1_000_000 });
    h.instrument(LOTS);
    const r = h.limit(1, 'buy', 10, 1002, { symbol: 'LOTS' });
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'INVALID_PRICE', message: 'Limit price must be a positive multiple of the tick size 5', accountId: 1, orderId: r.id },
    ]);
    expect(code(h.place(1, 'buy', 10, { symbol: 'LOTS', orderType: 'limit' }).events)).toBe('INVALID_PRICE');
    for (const price of [0, -5, 1000.5, Number.NaN]) expect(code(h.limit(1, 'buy', 10, price, { symbol: 'LOTS' }).events), String(price)).toBe('INVALID_PRICE');
    expect(code(h.stop(1, 'buy', 10, 1003, { symbol: 'LOTS' }).events)).toBe('INVALID_PRICE');
    expect(code(h.stop(1, 'buy', 10, 1005, { symbol: 'LOTS', price: 1007 }).events)).toBe('INVALID_PRICE');
    expect(code(h.place(1, 'buy', 10, { symbol: 'LOTS', orderType: 'trailing_stop', trailAmount: 7 }).events)).toBe('INVALID_PRICE');
    expect(h.limit(1, 'buy', 10, 1005, { symbol: 'LOTS' }).events.map((e) => e.type)).toEqual(['OrderAccepted']);
  });

  it('INVALID_QUANTITY: off the lot, zero, negative, fractional, too large', () => {
    const h = setup(book, { 1: 1_000_000 });
    h.instrument(LOTS);
    const r = h.limit(1, 'buy', 15, 1000, { symbol: 'LOTS' });
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'INVALID_QUANTITY', message: 'Quantity must be a positive multiple of the lot size 10', accountId: 1, orderId: r.id },
    ]);
    for (const qty of [0, -10, 10.5, 5]) expect(code(h.limit(1, 'buy', qty, 1000, { symbol: 'LOTS' }).events), String(qty)).toBe('INVALID_QUANTITY');
    for (const qty of [0, -1, 1.5, 2e9]) expect(code(h.limit(1, 'buy', qty, 100).events), String(qty)).toBe('INVALID_QUANTITY');
    expect(code(h.market(1, 'buy', 1.5).events)).toBe('INVALID_QUANTITY');
    // too large: the message says so, not the lot (which 2e9 is a multiple of)
    const big = h.limit(1, 'buy', MAX_ORDER_QTY + 10, 1000, { symbol: 'LOTS' });
    expect(strip(big.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'INVALID_QUANTITY', message: 'Quantity must be at most 1000000000 shares', accountId: 1, orderId: big.id },
    ]);
    expect(code(h.limit(1, 'buy', MAX_ORDER_QTY, 1000, { symbol: 'LOTS' }).events)).toBe('INSUFFICIENT_FUNDS'); // the largest size passes this check
    expect(h.limit(1, 'buy', 20, 1000, { symbol: 'LOTS' }).events.map((e) => e.type)).toEqual(['OrderAccepted']);
  });

  it('PRICE_OUT_OF_BAND outside the band, inclusive at its edges', () => {
    const h = setup(book, { 1: 1_000_000 });
    h.instrument(LOTS);
    expect(h.engine.instrument('LOTS')).toMatchObject({ bandLow: 900, bandHigh: 1100 });
    const r = h.limit(1, 'buy', 1, 151);
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'PRICE_OUT_OF_BAND', message: 'Limit price 151 is outside the band 50-150', accountId: 1, orderId: r.id },
    ]);
    expect(code(h.limit(1, 'buy', 1, 49).events)).toBe('PRICE_OUT_OF_BAND');
    expect(code(h.limit(1, 'buy', 10, 895, { symbol: 'LOTS' }).events)).toBe('PRICE_OUT_OF_BAND');
    expect(code(h.limit(1, 'buy', 10, 1105, { symbol: 'LOTS' }).events)).toBe('PRICE_OUT_OF_BAND');
    expect(code(h.stop(1, 'buy', 10, 1105, { symbol: 'LOTS' }).events)).toBe('PRICE_OUT_OF_BAND');
    for (const [px, sym] of [[50, 'ACME'], [150, 'ACME'], [900, 'LOTS'], [1100, 'LOTS']] as const)
      expect(h.limit(1, 'buy', 10, px, { symbol: sym }).events.map((e) => e.type)).toEqual(['OrderAccepted']);
  });

  it('MARKET_HALTED for new orders and replaces; cancel still works while halted', () => {
    const h = setup(book, { 1: 100_000 });
    const o = h.limit(1, 'buy', 10, 99).id;
    const o2 = h.limit(1, 'buy', 10, 98).id;
    expect(strip(h.halt())).toEqual([{ type: 'InstrumentStatusChanged', symbol: 'ACME', status: 'halted' }]);
    expect(h.engine.instrument('ACME')?.status).toBe('halted');
    const r = h.limit(1, 'buy', 1, 100);
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'MARKET_HALTED', message: 'Trading in ACME is halted', accountId: 1, orderId: r.id },
    ]);
    expect(code(h.market(DEALER, 'sell', 1).events)).toBe('MARKET_HALTED');
    expect(code(h.replace(1, o, { qty: 5 }))).toBe('MARKET_HALTED');
    expect(code(h.oco(1, { side: 'buy', qty: 1, orderType: 'limit', price: 90 }, { side: 'buy', qty: 1, orderType: 'stop', stopPrice: 110 }).events)).toBe('MARKET_HALTED');
    expect(strip(h.cancel(1, o))).toEqual([{ type: 'OrderCanceled', orderId: o, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 10 }]);
    expect(code(h.exec({ type: 'SetInstrumentStatus', symbol: 'ACME', status: 'closed' as 'open' }))).toBe('INVALID_INSTRUMENT');
    h.resume();
    expect(h.limit(1, 'buy', 1, 100).events.map((e) => e.type)).toEqual(['OrderAccepted']);
    expect(h.engine.order(o2)).toMatchObject({ leaves: 10, status: 'working' });
    // an instrument can be created halted
    h.instrument({ ...LOTS, status: 'halted' });
    expect(code(h.limit(1, 'buy', 10, 1000, { symbol: 'LOTS' }).events)).toBe('MARKET_HALTED');
  });

  it('DUPLICATE_ORDER_ID for an id in use, also between OCO legs', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.limit(1, 'buy', 10, 99, { orderId: 500 });
    const r = h.limit(2, 'buy', 10, 98, { orderId: 500 });
    expect(strip(r.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'DUPLICATE_ORDER_ID', message: 'Order id 500 is already in use', accountId: 2, orderId: 500 },
    ]);
    const legs = (a: number, b: number): Command => ({
      type: 'PlaceOco', ts: h.ts, accountId: 1,
      legs: [
        { orderId: a, symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 90, tif: 'gtc' },
        { orderId: b, symbol: 'ACME', side: 'buy', orderType: 'stop', qty: 1, stopPrice: 110, tif: 'gtc' },
      ],
    });
    expect(code(h.exec(legs(600, 600)))).toBe('DUPLICATE_ORDER_ID');
    expect(code(h.exec(legs(601, 500)))).toBe('DUPLICATE_ORDER_ID');
    expect(h.exec(legs(601, 602)).map((e) => e.type)).toEqual(['OrderAccepted', 'OrderAccepted']);
    expect(code(h.limit(2, 'buy', 1, 90, { orderId: 0 }).events)).toBe('INVALID_ORDER');
    expect(code(h.limit(2, 'buy', 1, 90, { orderId: 1.5 }).events)).toBe('INVALID_ORDER');
  });

  it('DUPLICATE_CLIENT_ORDER_ID names the original order; allowed again after EndSession', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const first = h.limit(1, 'buy', 10, 99, { clientOrderId: 'abc-1' });
    expect(strip(first.events)[0]).toMatchObject({ type: 'OrderAccepted', clientOrderId: 'abc-1' });
    expect(h.engine.order(first.id)?.clientOrderId).toBe('abc-1');
    const dup = h.limit(1, 'buy', 5, 98, { clientOrderId: 'abc-1' });
    expect(strip(dup.events)).toEqual([
      {
        type: 'Rejected', command: 'PlaceOrder', code: 'DUPLICATE_CLIENT_ORDER_ID', message: `Client order id abc-1 was already used by order ${first.id}`,
        accountId: 1, orderId: dup.id, clientOrderId: 'abc-1', originalOrderId: first.id,
      },
    ]);
    // per account: another account may use it
    expect(h.limit(2, 'buy', 5, 98, { clientOrderId: 'abc-1' }).events.map((e) => e.type)).toEqual(['OrderAccepted']);
    // still taken today after the original is gone
    h.cancel(1, first.id);
    expect(code(h.limit(1, 'buy', 5, 98, { clientOrderId: 'abc-1' }).events)).toBe('DUPLICATE_CLIENT_ORDER_ID');
    // a gtc order keeps its id across sessions while it lives
    const live = h.limit(1, 'buy', 5, 97, { clientOrderId: 'keep', tif: 'gtc' });
    h.endSession();
    expect(h.limit(1, 'buy', 5, 98, { clientOrderId: 'abc-1' }).events.map((e) => e.type)).toEqual(['OrderAccepted']);
    const again = h.limit(1, 'buy', 5, 96, { clientOrderId: 'keep' });
    expect(strip(again.events)[0]).toMatchObject({ code: 'DUPLICATE_CLIENT_ORDER_ID', originalOrderId: live.id });
    // malformed client ids
    expect(code(h.limit(1, 'buy', 1, 90, { clientOrderId: '' }).events)).toBe('INVALID_ORDER');
    expect(code(h.limit(1, 'buy', 1, 90, { clientOrderId: 'has space' }).events)).toBe('INVALID_ORDER');
    expect(code(h.limit(1, 'buy', 1, 90, { clientOrderId: 'x'.repeat(65) }).events)).toBe('INVALID_ORDER');
  });

  it('DUPLICATE_SYMBOL and DUPLICATE_ACCOUNT', () => {
    const h = setup(book, { 1: 100 });
    const s = h.exec({ type: 'CreateInstrument', instrument: { ...ACME, name: 'Other' } });
    expect(strip(s)).toEqual([{ type: 'Rejected', command: 'CreateInstrument', code: 'DUPLICATE_SYMBOL', message: 'Symbol ACME already exists' }]);
    const a = h.exec({ type: 'OpenAccount', accountId: 1, allowShort: true });
    expect(strip(a)).toEqual([{ type: 'Rejected', command: 'OpenAccount', code: 'DUPLICATE_ACCOUNT', message: 'Account 1 already exists', accountId: 1 }]);
    expect(h.acct(1)).toMatchObject({ cash: 100, allowShort: false });
  });

  it('INVALID_ORDER: fields that do not fit together', () => {
    const h = setup(book, { 1: 100_000 });
    h.limit(DEALER, 'sell', 10, 101);
    const bad = (opts: Parameters<typeof h.place>[3], side: 'buy' | 'sell' = 'buy') => code(h.place(1, side, 1, opts).events);
    expect(bad({ orderType: 'limit', price: 100, stopPrice: 95 })).toBe('INVALID_ORDER'); // limit with a stop price
    expect(bad({ orderType: 'limit', price: 100, trailAmount: 5 })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'market', price: 100 })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'market', postOnly: true })).toBe('INVALID_ORDER'); // post-only market
    expect(bad({ orderType: 'limit', price: 100, postOnly: true, tif: 'ioc' })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'limit', price: 100, postOnly: true, tif: 'fok' })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'stop', stopPrice: 105, tif: 'ioc' })).toBe('INVALID_ORDER'); // stop with ioc
    expect(bad({ orderType: 'stop', stopPrice: 105, tif: 'fok' })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'stop_limit', stopPrice: 105, price: 106, tif: 'ioc' })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'stop', stopPrice: 105, price: 106 })).toBe('INVALID_ORDER'); // a plain stop has no limit
    expect(bad({ orderType: 'stop', stopPrice: 105, postOnly: true })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'stop_limit', stopPrice: 105, price: 106, trailAmount: 5 })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'iceberg' as 'limit', price: 100 })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'limit', price: 100, tif: 'gtd' as 'day' })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'limit', price: 100, stp: 'allow' as 'cancel_maker' })).toBe('INVALID_ORDER');
    expect(bad({ orderType: 'limit', price: 100 }, 'hold' as 'buy')).toBe('INVALID_ORDER');
    expect(code(h.exec({ type: 'Explode' } as unknown as Command))).toBe('INVALID_ORDER');
    expect(code(h.exec({ type: 'PlaceOco', accountId: 1, legs: [] as unknown as [never, never] }))).toBe('INVALID_ORDER');
  });

  it('INVALID_AMOUNT and INVALID_INSTRUMENT', () => {
    const h = setup(book, { 1: 100 });
    const r = h.deposit(1, 0);
    expect(strip(r)).toEqual([{ type: 'Rejected', command: 'Deposit', code: 'INVALID_AMOUNT', message: 'Amount must be a positive whole number of minor units', accountId: 1 }]);
    expect(code(h.withdraw(1, 2.5))).toBe('INVALID_AMOUNT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...LOTS, referencePrice: 1003 } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...LOTS, symbol: 'WAY-TOO-LONG-SYMBOL' } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...LOTS, previousClose: 1001 } }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: null as unknown as typeof LOTS }))).toBe('INVALID_INSTRUMENT');
  });

  it('INSUFFICIENT_FUNDS, INSUFFICIENT_SHARES, LIMIT_EXCEEDED', () => {
    const h = setup(book, { 1: 1_000 });
    const f = h.limit(1, 'buy', 11, 100);
    expect(strip(f.events)).toEqual([
      { type: 'Rejected', command: 'PlaceOrder', code: 'INSUFFICIENT_FUNDS', message: 'Needs 1100; buying power is 1000', accountId: 1, orderId: f.id },
    ]);
    expect(code(h.stop(1, 'buy', 10, 101).events)).toBe('INSUFFICIENT_FUNDS');
    expect(code(h.limit(1, 'sell', 1, 100).events)).toBe('INSUFFICIENT_SHARES');
    h.exec({ type: 'SetAccountLimits', accountId: 1, limits: { maxOrderQty: 5 } });
    expect(code(h.limit(1, 'buy', 6, 100).events)).toBe('LIMIT_EXCEEDED');
    expect(h.limit(1, 'buy', 5, 100).events.map((e) => e.type)).toEqual(['OrderAccepted']);
  });

  it('NO_LIQUIDITY, WOULD_CROSS, FOK_NOT_FILLABLE', () => {
    const h = setup(book, { 1: 100_000 });
    expect(code(h.market(1, 'buy', 1).events)).toBe('NO_LIQUIDITY');
    expect(code(h.market(DEALER, 'sell', 1).events)).toBe('NO_LIQUIDITY');
    h.limit(DEALER, 'sell', 10, 101);
    expect(code(h.limit(1, 'buy', 1, 101, { postOnly: true }).events)).toBe('WOULD_CROSS');
    expect(code(h.limit(1, 'buy', 11, 101, { tif: 'fok' }).events)).toBe('FOK_NOT_FILLABLE');
    expect(code(h.market(1, 'buy', 11, { tif: 'fok' }).events)).toBe('FOK_NOT_FILLABLE');
    expect(code(h.limit(1, 'buy', 1, 100, { tif: 'fok' }).events)).toBe('FOK_NOT_FILLABLE');
    expect(h.market(1, 'buy', 10, { tif: 'fok' }).events.map((e) => e.type)).toEqual(['OrderAccepted', 'Trade']);
  });

  it('UNKNOWN_ORDER, NOT_ORDER_OWNER, ORDER_NOT_MODIFIABLE', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    const o = h.limit(1, 'buy', 100, 100, { tif: 'gtc', bracket: { takeProfit: { orderId: 800, price: 110 } } }).id;
    expect(code(h.cancel(1, 9_999))).toBe('UNKNOWN_ORDER');
    expect(code(h.replace(1, 9_999, { qty: 1 }))).toBe('UNKNOWN_ORDER');
    const n = h.cancel(2, o);
    expect(strip(n)).toEqual([
      { type: 'Rejected', command: 'CancelOrder', code: 'NOT_ORDER_OWNER', message: `Order ${o} belongs to another account`, accountId: 2, orderId: o },
    ]);
    expect(code(h.replace(1, 800, { qty: 50 }))).toBe('ORDER_NOT_MODIFIABLE');
  });

  it('a rejected command changes nothing: state hash, snapshot and every query are as before', () => {
    const h = setup(book, { 1: 100_000, 2: 5_000 });
    h.seed(1, 50, 100);
    h.limit(1, 'sell', 10, 110, { tif: 'gtc', clientOrderId: 'c1' });
    const b = h.limit(2, 'buy', 10, 95).id;
    h.stop(1, 'sell', 10, 90);
    const snap = JSON.stringify(h.engine.snapshot());
    const hash = h.engine.stateHash();
    const views = () => JSON.stringify([h.engine.quote('ACME'), h.engine.depth('ACME'), h.acct(1), h.acct(2), h.engine.openOrders(), h.engine.candles('ACME', '1m')]);
    const before = views();
    const rejected = [
      h.limit(2, 'buy', 100, 100).events, // funds
      h.limit(1, 'sell', 31, 120).events, // shares
      h.limit(1, 'sell', 1, 120, { clientOrderId: 'c1' }).events,
      h.replace(2, b, { qty: 60 }),
      h.replace(2, b, { price: 1000 }),
      h.market(2, 'buy', 11, { tif: 'fok' }).events,
      h.cancel(1, b),
      h.withdraw(2, 5_001),
      h.exec({ type: 'OpenAccount', accountId: 2 }),
      h.exec({ type: 'CreateIndex', name: 'X', baseValue: 100, constituents: [{ symbol: 'ACME', weightBps: 5000 }] }),
    ];
    for (const ev of rejected) expect(ev.map((e) => e.type)).toEqual(['Rejected']);
    expect(h.engine.stateHash()).toBe(hash);
    expect(JSON.stringify(h.engine.snapshot())).toBe(snap);
    expect(views()).toBe(before);
    expect(checkInvariants(h.engine)).toEqual([]);
  });
});

describe('result code coverage', () => {
  it('every validation, risk, matching and order code was produced by a scenario above', () => {
    const stages = new Set(['validation', 'risk', 'matching', 'order']);
    const wanted = RESULT_CODES.filter((c) => stages.has(CODES[c].stage));
    expect(wanted.length).toBeGreaterThanOrEqual(22);
    expect(wanted.filter((c) => !seenCodes.has(c))).toEqual([]);
    // and nothing outside those stages is produced by the engine
    expect([...seenCodes].filter((c) => !stages.has(CODES[c].stage))).toEqual([]);
  });
});
