import { describe, expect, it } from 'vitest';
import type { AccountView, InstrumentView, Quote } from '../../../engine/protocol/index.js';
import { validateTicket, type TicketDraft } from '../../src/ticket/validate.js';

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
