// The local user's simulation account: open with the initial capital, trade, reset through commands only.
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../core/index.js';
import { openLocalAccount, resetBegin, resetFinish } from '../../sim/index.js';
import { MONDAY, smallUniverse, startRun } from './helpers.js';

describe('local simulation account', () => {
  it('opens with the initial capital and resets to it: no orders, no positions, cash = initial capital', () => {
    const r = startRun({ seed: 21, universe: smallUniverse(4) });
    const spec = { accountId: 1, initialCapital: 10_000_000 }; // $100,000.00
    for (const c of openLocalAccount(spec, MONDAY)) r.exec(c);
    expect(r.engine.accountView(1)!.cash).toBe(10_000_000);
    r.steps(60);
    let id = 1;
    const ts = (): number => r.sim.now;
    // a long, a short, a resting limit and a bracket
    r.exec({ type: 'PlaceOrder', ts: ts(), orderId: id++, accountId: 1, symbol: 'AQLN', side: 'buy', orderType: 'market', qty: 300, tif: 'day' });
    r.exec({ type: 'PlaceOrder', ts: ts(), orderId: id++, accountId: 1, symbol: 'BRMB', side: 'sell', orderType: 'market', qty: 500, tif: 'day' });
    const q = r.engine.quote('CLDW')!;
    r.exec({ type: 'PlaceOrder', ts: ts(), orderId: id++, accountId: 1, symbol: 'CLDW', side: 'buy', orderType: 'limit', qty: 10, price: q.bid! - 50, tif: 'gtc' });
    const d = r.engine.quote('DRGF')!;
    const e = r.exec({
      type: 'PlaceOrder', ts: ts(), orderId: id++, accountId: 1, symbol: 'DRGF', side: 'buy', orderType: 'limit', qty: 5, price: d.bid! - 100, tif: 'gtc',
      bracket: { takeProfit: { orderId: id++, price: d.ask! + 500 }, stopLoss: { orderId: id++, stopPrice: d.bid! - 500 } },
    });
    expect(e[0]!.type).toBe('OrderAccepted');
    r.steps(120);
    const before = r.engine.accountView(1)!;
    expect(before.positions.filter((p) => p.qty !== 0).length).toBeGreaterThanOrEqual(2);
    expect(r.engine.openOrders(1).length).toBeGreaterThanOrEqual(2);

    // phase 1: cancel everything, close every position
    const begin = resetBegin(r.engine, 1, ts(), () => id++);
    const rejected = begin.flatMap((c) => r.exec(c)).filter((x) => x.type === 'Rejected');
    expect(rejected).toEqual([]);
    // phase 2: restore the cash
    const fin = resetFinish(r.engine, spec, ts());
    expect(fin.complete).toBe(true);
    expect(fin.commands).toHaveLength(1);
    for (const c of fin.commands) r.exec(c);
    const after = r.engine.accountView(1)!;
    expect(after.cash).toBe(10_000_000);
    expect(after.equity).toBe(10_000_000);
    expect(after.reservedCash).toBe(0);
    expect(after.positions.every((p) => p.qty === 0)).toBe(true);
    expect(r.engine.openOrders(1)).toEqual([]);
    expect(resetFinish(r.engine, spec, ts()).commands).toEqual([]); // nothing left to do
    // the market carries on
    r.steps(30);
    expect(checkInvariants(r.engine)).toEqual([]);
  });

  it('does not touch the cash while a position cannot be closed', () => {
    const r = startRun({ seed: 22, universe: smallUniverse(2) });
    const spec = { accountId: 1, initialCapital: 5_000_000 };
    for (const c of openLocalAccount(spec, MONDAY)) r.exec(c);
    r.steps(30);
    r.exec({ type: 'PlaceOrder', ts: r.sim.now, orderId: 1, accountId: 1, symbol: 'AQLN', side: 'buy', orderType: 'market', qty: 100, tif: 'day' });
    r.exec({ type: 'SetInstrumentStatus', ts: r.sim.now, symbol: 'AQLN', status: 'halted' });
    for (const c of resetBegin(r.engine, 1, r.sim.now, () => 99)) r.exec(c); // the market sell is rejected: halted
    const fin = resetFinish(r.engine, spec, r.sim.now);
    expect(fin.complete).toBe(false);
    expect(fin.commands).toEqual([]);
    expect(fin.openPositions).toEqual([{ symbol: 'AQLN', qty: 100 }]);
    // the halt is observed: the agents stop sending orders for it
    const n = r.sim.counters.agentOrders;
    r.steps(20);
    expect(r.sim.counters.rejections.MARKET_HALTED ?? 0).toBe(0);
    expect(r.sim.counters.agentOrders).toBeGreaterThan(n);
    expect(() => openLocalAccount({ accountId: 2, initialCapital: 0 }, 0)).toThrow(RangeError);
  });
});
