import { describe, expect, it } from 'vitest';
import type { AccountView, InstrumentView, Quote } from '../../../engine/protocol/index.js';
import { validateModify, validateTicket, type TicketDraft } from '../../src/ticket/validate.js';

const inst: InstrumentView = {
  symbol: 'INITECH',
  name: 'Initech',
  tickSize: 5,
  lotSize: 10,
  referencePrice: 25_000,
  bandBps: 1000,
  bandLow: 22_500,
  bandHigh: 27_500,
  previousClose: 25_000,
  status: 'open',
};
const quote: Quote = {
  symbol: 'INITECH', bid: 24_995, bidSize: 100, ask: 25_005, askSize: 100, last: 25_000, lastSize: 10, volume: 1000,
  turnover: 0, open: 25_000, high: 25_010, low: 24_990, previousClose: 25_000, change: 0, changeBps: 0, ts: 0,
};
const account = (buyingPower: number, positions: AccountView['positions'] = [], allowShort = false): AccountView => ({
  accountId: 1, cash: buyingPower, reservedCash: 0, buyingPower, realizedPnl: 0, unrealizedPnl: 0, equity: buyingPower,
  openOrders: 0, dailyOrders: 0, allowShort, limits: {}, positions,
});
const draft = (over: Partial<TicketDraft> = {}): TicketDraft => ({
  symbol: 'INITECH', side: 'buy', orderType: 'limit', qty: '100', price: '250.00', stopPrice: '', trailAmount: '', tif: 'day',
  bracket: false, takeProfit: '', stopLoss: '', ...over,
});
const ctx = (bp = 10_000_000) => ({ instrument: inst, quote, account: account(bp) });

describe('order ticket validation', () => {
  it('accepts a good limit order and estimates cost and buying power after, exactly', () => {
    const r = validateTicket(draft(), ctx());
    expect(r.errors).toEqual({});
    expect(r.params).toEqual({ symbol: 'INITECH', side: 'buy', orderType: 'limit', qty: 100, price: 25_000, tif: 'day' });
    expect(r.estCost).toBe(2_500_000);
    expect(r.bpAfter).toBe(7_500_000);
  });

  it('refuses prices off the tick and outside the band, quantities off the lot', () => {
    expect(validateTicket(draft({ price: '250.02' }), ctx()).errors.price).toMatch(/multiple of the tick 0\.05/);
    expect(validateTicket(draft({ price: '300.00' }), ctx()).errors.price).toMatch(/outside the band 225\.00–275\.00/);
    expect(validateTicket(draft({ qty: '105' }), ctx()).errors.qty).toMatch(/lot \(10\)/);
    expect(validateTicket(draft({ qty: '0' }), ctx()).errors.qty).toBeTruthy();
    expect(validateTicket(draft({ qty: '10.5' }), ctx()).params).toBeUndefined();
  });

  it('refuses a buy beyond buying power with the INSUFFICIENT_FUNDS reason', () => {
    const r = validateTicket(draft({ qty: '1000' }), ctx(1_000_000));
    expect(r.code).toBe('INSUFFICIENT_FUNDS');
    expect(r.errors.funds).toMatch(/Not enough buying power.*Needs 250,000\.00, available 10,000\.00/);
    expect(r.params).toBeUndefined();
  });

  it('estimates a market buy at the ask and a market sell at the bid', () => {
    const buy = validateTicket(draft({ orderType: 'market', price: '' }), ctx());
    expect(buy.estPrice).toBe(25_005);
    expect(buy.params).toEqual({ symbol: 'INITECH', side: 'buy', orderType: 'market', qty: 100, tif: 'day' });
    const sell = validateTicket(draft({ orderType: 'market', side: 'sell' }), {
      instrument: inst,
      quote,
      account: account(0, [{ symbol: 'INITECH', qty: 500, cost: 0, avgPrice: 0, reservedQty: 0, realizedPnl: 0, unrealizedPnl: 0, mark: 0 }]),
    });
    expect(sell.estPrice).toBe(24_995);
    expect(sell.errors).toEqual({});
  });

  it('refuses to sell shares the account does not have when it may not short', () => {
    const r = validateTicket(draft({ side: 'sell', qty: '100' }), ctx());
    expect(r.code).toBe('INSUFFICIENT_SHARES');
    // whatever the price field says: the shares do not depend on it
    const offTick = validateTicket(draft({ side: 'sell', qty: '100', price: '250.02' }), ctx());
    expect([offTick.code, offTick.errors.price !== undefined]).toEqual(['INSUFFICIENT_SHARES', true]);
    const shortOk = validateTicket(draft({ side: 'sell' }), { instrument: inst, quote, account: account(0, [], true) });
    expect(shortOk.errors).toEqual({});
  });

  it('asks each order type for its own prices', () => {
    expect(validateTicket(draft({ orderType: 'stop', stopPrice: '' }), ctx()).errors.stopPrice).toBeTruthy();
    const sl = validateTicket(draft({ orderType: 'stop_limit', stopPrice: '251.00', price: '251.50' }), ctx());
    expect(sl.params).toMatchObject({ orderType: 'stop_limit', stopPrice: 25_100, price: 25_150 });
    const tr = validateTicket(draft({ orderType: 'trailing_stop', side: 'sell', trailAmount: '1.00' }), { instrument: inst, quote, account: account(0, [], true) });
    expect(tr.params).toMatchObject({ orderType: 'trailing_stop', trailAmount: 100 });
    expect(tr.params?.price).toBeUndefined();
  });

  it('checks bracket legs are on the right side of the entry', () => {
    const ok = validateTicket(draft({ bracket: true, takeProfit: '260.00', stopLoss: '245.00' }), ctx());
    expect(ok.params?.bracket).toEqual({ takeProfit: { price: 26_000 }, stopLoss: { stopPrice: 24_500 } });
    const bad = validateTicket(draft({ bracket: true, takeProfit: '240.00', stopLoss: '255.00' }), ctx());
    expect(bad.errors.takeProfit).toMatch(/above the entry 250\.00/);
    expect(bad.errors.stopLoss).toMatch(/below the entry 250\.00/);
    expect(validateTicket(draft({ bracket: true }), ctx()).errors.takeProfit).toBeTruthy();
  });

  it('names an unknown symbol and a halted one', () => {
    expect(validateTicket(draft({ symbol: 'NOPE' }), { instrument: undefined, quote: undefined, account: undefined }).errors.symbol).toMatch(/Unknown symbol NOPE/);
    expect(validateTicket(draft(), { ...ctx(), instrument: { ...inst, status: 'halted' } }).errors.symbol).toMatch(/halted/);
  });
});

describe('the ticket while a field is not valid', () => {
  it('says a price below zero must be above zero, not that it is not a number', () => {
    expect(validateTicket(draft({ price: '-1' }), ctx()).errors.price).toBe('Limit price must be above zero');
    expect(validateTicket(draft({ price: '-0.50' }), ctx()).errors.price).toBe('Limit price must be above zero');
    expect(validateTicket(draft({ price: '0' }), ctx()).errors.price).toBe('Limit price must be above zero');
    expect(validateTicket(draft({ orderType: 'stop', stopPrice: '-2' }), ctx()).errors.stopPrice).toBe('Stop price must be above zero');
    expect(validateTicket(draft({ price: 'abc' }), ctx()).errors.price).toBe('Limit price: Not a number');
    expect(validateTicket(draft({ qty: '-5' }), ctx()).errors.qty).toBe('Quantity must be above zero');
  });

  it('estimates nothing, and so checks no funds, while the limit or stop price is not valid', () => {
    for (const price of ['-1', 'abc', '', '250.02', '300.00']) {
      const r = validateTicket(draft({ qty: '100000', price }), ctx(1_000_000));
      expect(r.errors.price, price).toBeTruthy();
      expect(r.estPrice, price).toBeUndefined();
      expect(r.estCost, price).toBeUndefined();
      expect(r.bpAfter, price).toBeUndefined();
      expect(r.errors.funds, price).toBeUndefined();
    }
    const stop = validateTicket(draft({ orderType: 'stop', stopPrice: '-1', qty: '100000' }), ctx(1_000_000));
    expect([stop.estCost, stop.errors.funds]).toEqual([undefined, undefined]);
    // a market order has no price of its own: it is estimated at the touch, as before
    expect(validateTicket(draft({ orderType: 'market', price: '-1' }), ctx()).estPrice).toBe(25_005);
  });

  it('gives the quantity and prices that are valid on their own, for the send button to show', () => {
    const funds = validateTicket(draft({ qty: '1000000' }), ctx(1_000_000));
    expect(funds.params).toBeUndefined();
    expect([funds.qty, funds.price]).toEqual([1_000_000, 25_000]);
    const bad = validateTicket(draft({ qty: '-5', price: '-1' }), ctx());
    expect([bad.qty, bad.price]).toEqual([undefined, undefined]);
    expect(validateTicket(draft({ qty: '99999999999999999' }), ctx()).qty).toBeUndefined();
  });
});

describe('a modify of a working order, checked before it is sent', () => {
  const order = { orderId: 7, qty: 300, filledQty: 0, price: 25_000 };

  it('refuses a quantity of zero, off the lot or not a number, in words', () => {
    expect(validateModify(order, { qty: '0', price: '250.00', stopPrice: '' }, inst)).toEqual({ error: 'Quantity must be above zero' });
    expect(validateModify(order, { qty: '-10', price: '250.00', stopPrice: '' }, inst)).toEqual({ error: 'Quantity must be above zero' });
    expect(validateModify(order, { qty: '105', price: '250.00', stopPrice: '' }, inst).error).toBe('Quantity must be a multiple of the lot (10)');
    expect(validateModify(order, { qty: 'ten', price: '250.00', stopPrice: '' }, inst).error).toBe('Whole shares only');
  });

  it('refuses a quantity at or below what has filled', () => {
    const part = { ...order, filledQty: 290 };
    expect(validateModify(part, { qty: '10', price: '250.00', stopPrice: '' }, inst).error).toBe('Quantity must be more than the 290 already filled');
    expect(validateModify(part, { qty: '290', price: '250.00', stopPrice: '' }, inst).error).toBe('Quantity must be more than the 290 already filled');
    expect(validateModify(part, { qty: '310', price: '250.00', stopPrice: '' }, inst)).toEqual({ params: { orderId: 7, qty: 310 } });
  });

  it('checks a changed price as the ticket does: above zero, on the tick, inside the band', () => {
    expect(validateModify(order, { qty: '300', price: '-1', stopPrice: '' }, inst).error).toBe('Limit price must be above zero');
    expect(validateModify(order, { qty: '300', price: '250.02', stopPrice: '' }, inst).error).toMatch(/multiple of the tick 0\.05/);
    expect(validateModify(order, { qty: '300', price: '300.00', stopPrice: '' }, inst).error).toMatch(/outside the band 225\.00–275\.00/);
    const stop = { orderId: 8, qty: 100, filledQty: 0, stopPrice: 24_000 };
    expect(validateModify(stop, { qty: '100', price: '', stopPrice: '0' }, inst).error).toBe('Stop price must be above zero');
    expect(validateModify(stop, { qty: '100', price: '', stopPrice: '241.00' }, inst)).toEqual({ params: { orderId: 8, stopPrice: 24_100 } });
  });

  it('sends only what changed, and leaves a price that was not changed unchecked', () => {
    expect(validateModify(order, { qty: '300', price: '250.00', stopPrice: '' }, inst)).toEqual({ params: { orderId: 7 } });
    expect(validateModify(order, { qty: '400', price: '251.00', stopPrice: '' }, inst)).toEqual({ params: { orderId: 7, qty: 400, price: 25_100 } });
    // the band moved since the order was placed: its price, left as it was, does not stop a quantity change
    const outside = { ...order, price: 28_000 };
    expect(validateModify(outside, { qty: '200', price: '280.00', stopPrice: '' }, inst)).toEqual({ params: { orderId: 7, qty: 200 } });
  });

  it("a trailing stop's quantity changes whatever its stop did meanwhile; its stop, or a triggered order's, is not sent", () => {
    // the row opened with the stop at 240.00 (the blotter passes the prices the fields opened with)
    const trail = { orderId: 9, qty: 100, filledQty: 0, orderType: 'trailing_stop', status: 'pending_trigger', stopPrice: 24_000 };
    expect(validateModify(trail, { qty: '200', price: '', stopPrice: '240.00' }, inst)).toEqual({ params: { orderId: 9, qty: 200 } });
    expect(validateModify(trail, { qty: '200', price: '', stopPrice: '241.00' }, inst).error).toMatch(/^A trailing stop's stop price follows the market/);
    const triggered = { orderId: 10, qty: 100, filledQty: 0, orderType: 'stop_limit', status: 'working', price: 24_000, stopPrice: 24_100 };
    expect(validateModify(triggered, { qty: '100', price: '240.00', stopPrice: '242.00' }, inst).error).toBe('This order has triggered: its stop price can no longer change');
  });

  it('without the instrument checks what needs none', () => {
    expect(validateModify(order, { qty: '0', price: '250.00', stopPrice: '' }, undefined).error).toBe('Quantity must be above zero');
    expect(validateModify(order, { qty: '105', price: '250.02', stopPrice: '' }, undefined)).toEqual({ params: { orderId: 7, qty: 105, price: 25_002 } });
  });
});
