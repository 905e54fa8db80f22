import type { InstrumentView, OrderRecord, PositionView, Quote } from '../../../../engine/protocol/index.js';

let nextId = 1;
export function order(p: Partial<OrderRecord> & Pick<OrderRecord, 'side'>): OrderRecord {
  const qty = p.qty ?? 100;
  return {
    orderId: p.orderId ?? nextId++,
    accountId: 1,
    symbol: 'ACME',
    orderType: 'limit',
    tif: 'day',
    qty,
    filledQty: 0,
    leaves: qty,
    postOnly: false,
    status: 'working',
    ts: 1,
    updatedTs: 1,
    ...p,
  };
}

export function quote(p: Partial<Quote> = {}): Quote {
  return {
    symbol: 'ACME',
    bid: 10_000,
    bidSize: 300,
    ask: 10_005,
    askSize: 200,
    last: 10_000,
    lastSize: 100,
    volume: 10_000,
    turnover: 100_000_000,
    open: 9_900,
    high: 10_100,
    low: 9_800,
    previousClose: 9_950,
    change: 50,
    changeBps: 50,
    ts: 1,
    ...p,
  };
}

export function instrument(p: Partial<InstrumentView> = {}): InstrumentView {
  return {
    symbol: 'ACME',
    name: 'Acme Corp',
    tickSize: 5,
    lotSize: 10,
    referencePrice: 10_000,
    bandBps: 1000,
    bandLow: 9_000,
    bandHigh: 11_000,
    previousClose: 9_950,
    status: 'open',
    ...p,
  };
}

export function position(p: Partial<PositionView> = {}): PositionView {
  return {
    symbol: 'ACME',
    qty: 0,
    cost: 0,
    avgPrice: 0,
    reservedQty: 0,
    realizedPnl: 0,
    unrealizedPnl: 0,
    mark: 10_000,
    ...p,
  };
}
