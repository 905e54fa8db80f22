// Snapshots: Engine.restore(snapshot) reproduces the state (same hash, same queries) and then behaves the
// same (same events for the same commands), from either book to either book. Also: both books produce
// identical events for one rich script.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, TextHasher, checkInvariants, hashText, type Command, type EngineSnapshot } from '../../core/index.js';
import { BOOKS, DEALER, type BookKind, type Harness, LOTS, T0, setup } from './helpers.js';

/** A state with something of everything: positions long and short, resting orders on both sides at several
 * levels, stops of every kind (one trailing stop that has moved), an OCO pair, a bracket with pending
 * children and one with active children, client order ids, candles, an index, a halted symbol, a session. */
function richState(book: BookKind): Harness {
  const h = setup(book, { 1: 1_000_000, 2: 1_000_000, 4: 50_000 });
  h.account(3, 500_000, { allowShort: true, limits: { maxOrderQty: 1_000, maxDailyOrders: 100 } });
  h.instrument(LOTS);
  h.instrument({ symbol: 'BETA', name: 'Beta', tickSize: 1, lotSize: 1, referencePrice: 200, bandBps: 5000 });
  h.exec({ type: 'CreateIndex', name: 'IDX', baseValue: 100_000, constituents: [{ symbol: 'ACME', weightBps: 5000 }, { symbol: 'BETA', weightBps: 5000 }] });
  h.at(T0 + 1_000);
  h.seed(1, 300, 100);
  h.seed(2, 100, 101);
  h.limit(3, 'sell', 50, 102); // a short sale...
  h.limit(4, 'buy', 50, 102); // ...taken
  h.at(T0 + 61_000);
  h.endSession(); // session 1: previous close 102
  h.at(T0 + 120_000);
  // resting book
  h.limit(1, 'buy', 10, 99, { tif: 'gtc', clientOrderId: 'bid-a' });
  h.limit(2, 'buy', 20, 99);
  h.limit(4, 'buy', 5, 97, { postOnly: true });
  h.limit(1, 'sell', 30, 106, { clientOrderId: 'ask-a' });
  h.limit(2, 'sell', 10, 106, { tif: 'gtc' });
  h.limit(3, 'sell', 10, 108); // short-capable: partly backed by cash
  // stops
  h.stop(1, 'sell', 20, 95, { tif: 'gtc' });
  h.stop(2, 'sell', 10, 95, { price: 94 });
  h.stop(4, 'buy', 5, 110);
  h.place(1, 'sell', 25, { orderType: 'trailing_stop', trailAmount: 4, tif: 'gtc' });
  h.place(4, 'buy', 5, { orderType: 'trailing_stop', trailAmount: 6 });
  // OCO and brackets
  h.oco(2, { side: 'sell', qty: 40, orderType: 'limit', price: 112 }, { side: 'sell', qty: 40, orderType: 'stop', stopPrice: 93 });
  h.place(4, 'buy', 10, { price: 98, tif: 'gtc', bracket: { takeProfit: { orderId: 9001, price: 115 }, stopLoss: { orderId: 9002, stopPrice: 90 } } });
  h.place(1, 'buy', 20, { price: 106, tif: 'gtc', bracket: { takeProfit: { orderId: 9003, price: 120 }, stopLoss: { orderId: 9004, stopPrice: 96, price: 95 } } });
  // a print up to 107 moves the trailing stops
  h.at(T0 + 125_000);
  h.limit(DEALER, 'sell', 5, 107);
  h.limit(4, 'buy', 5, 107, { tif: 'ioc' });
  // other symbols
  h.limit(DEALER, 'sell', 10, 1000, { symbol: 'LOTS' });
  h.limit(1, 'buy', 10, 1000, { symbol: 'LOTS' });
  h.limit(DEALER, 'sell', 3, 205, { symbol: 'BETA' });
  h.limit(2, 'buy', 3, 205, { symbol: 'BETA' });
  h.limit(2, 'buy', 10, 995, { symbol: 'LOTS', tif: 'gtc' });
  h.halt('LOTS');
  return h;
}

/** What happens next: prints through the stops, OCO and bracket legs, replaces, cancels, a session end,
 * rejections, and trading in the halted symbol after it reopens. */
function continuation(h: Harness): void {
  h.at(T0 + 200_000);
  h.replace(2, h.engine.openOrders(2).find((o) => o.price === 99)!.orderId, { qty: 15 });
  h.limit(DEALER, 'buy', 200, 96);
  h.limit(DEALER, 'buy', 200, 92);
  h.market(3, 'sell', 30); // through the bids: the trailing sell stop triggers, the bracket entry fills
  h.market(3, 'sell', 250); // down to 92: stop, stop-limit and the OCO's stop leg trigger
  h.limit(DEALER, 'sell', 100, 101);
  h.limit(4, 'buy', 5, 101, { clientOrderId: 'bid-a' });
  h.limit(1, 'buy', 5, 99, { clientOrderId: 'bid-a' }); // duplicate: rejected
  h.cancel(1, 9_999);
  h.at(T0 + 260_000);
  h.market(1, 'buy', 60); // lifts asks: buy stops and trailing buy stops
  h.resume('LOTS');
  h.limit(1, 'sell', 10, 995, { symbol: 'LOTS' });
  h.endSession();
  h.at(T0 + 400_000);
  h.limit(2, 'sell', 5, 120, { tif: 'gtc' });
  h.limit(3, 'buy', 10, 121);
  for (const o of h.engine.openOrders(2)) h.cancel(2, o.orderId);
}

function replayOn(engine: Engine, cmds: Command[]): ReturnType<Engine['execute']>[] {
  return cmds.map((c) => {
    const ev = engine.execute(structuredClone(c));
    expect(checkInvariants(engine)).toEqual([]);
    return ev;
  });
}

function queries(e: Engine): unknown {
  // as the engine gives them: a restore must not change the order of accounts or of an account's positions
  const ids = e.accountIds();
  return {
    ids,
    instruments: e.instruments(),
    quotes: ['ACME', 'LOTS', 'BETA'].map((s) => e.quote(s)),
    depth: ['ACME', 'LOTS', 'BETA'].map((s) => e.depth(s, 50)),
    candles: ['1m', '5m', '1d'].map((tf) => e.candles('ACME', tf as '1m')),
    index: e.index('IDX'),
    accounts: ids.map((id) => e.accountView(id)),
    orders: ids.map((id) => e.openOrders(id).sort((a, b) => a.orderId - b.orderId)),
    session: e.sessionNumber,
    live: e.liveOrders,
  };
}

describe.each(BOOKS)('snapshot taken on the %s book', (from) => {
  it.each(BOOKS)('restores on the %s book with the same hash and queries, and continues identically', (to) => {
    const h = richState(from);
    // the rich state really has all of it
    const live = h.engine.openOrders();
    expect(new Set(live.map((o) => o.status))).toEqual(new Set(['working', 'pending_trigger', 'pending_parent']));
    expect(new Set(live.map((o) => o.orderType))).toEqual(new Set(['limit', 'stop', 'stop_limit', 'trailing_stop']));
    expect(h.log.some((e) => e.type === 'StopMoved')).toBe(true);

    const snap = JSON.parse(JSON.stringify(h.engine.snapshot())) as EngineSnapshot;
    const r = Engine.restore(snap, { book: to });
    expect(r.stateHash()).toBe(h.engine.stateHash());
    expect(checkInvariants(r)).toEqual([]);
    expect(queries(r)).toEqual(queries(h.engine));
    expect(JSON.stringify(r.snapshot())).toBe(JSON.stringify(snap));

    const mark = h.cmds.length;
    const mark2 = h.log.length;
    continuation(h);
    const next = h.cmds.slice(mark);
    expect(next.length).toBeGreaterThan(15);
    const got = replayOn(r, next).flat();
    expect(got).toEqual(h.log.slice(mark2));
    expect(got.filter((e) => e.type === 'Trade').length).toBeGreaterThan(5);
    const reasons = new Set(got.flatMap((e) => (e.type === 'OrderCanceled' ? [e.reason] : [])));
    expect(reasons).toEqual(new Set(['oco', 'expired', 'user']));
    expect(got.filter((e) => e.type === 'OrderTriggered').length).toBeGreaterThanOrEqual(5);
    expect(got.some((e) => e.type === 'StopMoved')).toBe(true);
    expect(got.some((e) => e.type === 'Rejected')).toBe(true);
    expect(r.stateHash()).toBe(h.engine.stateHash());
    expect(queries(r)).toEqual(queries(h.engine));
  });
});

describe('both books', () => {
  it('produce identical events and hashes for the same rich script', () => {
    const a = richState('fast');
    continuation(a);
    const b = new Engine({ book: 'reference' });
    const events = replayOn(b, a.cmds).flat();
    expect(events).toEqual(a.log);
    expect(b.stateHash()).toBe(a.engine.stateHash());
    expect(queries(b)).toEqual(queries(a.engine));
  });

  it('views and messages list accounts and positions in one order, whatever order they were touched in', () => {
    // account 9 opened before 1; account 1 trades BETA before ACME and is short both, with a cash-backed sell
    // working in each. A restore rebuilds the engine's maps in another order than they were filled in.
    const h = setup('fast');
    h.instrument({ symbol: 'BETA', name: 'Beta', tickSize: 1, lotSize: 1, referencePrice: 100, bandBps: 5000 });
    h.account(9, 1_000_000, { allowShort: true });
    h.account(1, 1_000_000, { allowShort: true });
    const sells: number[] = [];
    for (const symbol of ['BETA', 'ACME']) {
      h.limit(9, 'buy', 5, 100, { symbol, tif: 'gtc' });
      h.limit(1, 'sell', 5, 100, { symbol, tif: 'gtc' });
      sells.unshift(h.limit(1, 'sell', 5, 120, { symbol, tif: 'gtc' }).id);
    }
    const r = Engine.restore(JSON.parse(JSON.stringify(h.engine.snapshot())) as EngineSnapshot);
    for (const e of [h.engine, r]) {
      expect(e.accountIds()).toEqual([1, 9, DEALER]);
      expect(e.accountView(1)!.positions.map((p) => p.symbol)).toEqual(['ACME', 'BETA']);
    }
    const off: Command = { type: 'SetAccountLimits', ts: h.ts, accountId: 1, limits: {}, allowShort: false };
    const live = h.engine.execute(structuredClone(off));
    expect(live).toMatchObject([{ type: 'Rejected', code: 'INSUFFICIENT_SHARES', message: expect.stringContaining('short 5 ACME') }]);
    expect(r.execute(structuredClone(off))).toEqual(live);
    // covered, the first cash-backed sell by order id is named, on both
    for (const symbol of ['ACME', 'BETA']) {
      const c: Command = { type: 'PlaceOrder', ts: h.ts, orderId: 500 + symbol.length, accountId: 1, symbol, side: 'buy', orderType: 'limit', qty: 5, price: 100, tif: 'ioc' };
      h.limit(DEALER, 'sell', 5, 100, { symbol, tif: 'gtc' });
      r.execute(structuredClone(h.cmds.at(-1)!));
      expect(r.execute(structuredClone(c))).toEqual(h.exec(c));
    }
    const again = h.engine.execute(structuredClone(off));
    expect(again).toMatchObject([{ type: 'Rejected', message: expect.stringContaining(`Sell order ${Math.min(...sells)} `) }]);
    expect(r.execute(structuredClone(off))).toEqual(again);
  });

  it('a snapshot of a fresh engine restores to an equal fresh engine', () => {
    const e = new Engine();
    const r = Engine.restore(e.snapshot(), { book: 'reference' });
    expect(r.stateHash()).toBe(e.stateHash());
    expect(r.instruments()).toEqual([]);
  });
});

describe('TextHasher', () => {
  it('hashes text given in pieces (and ranges of them) exactly as hashText hashes it joined', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.nat(), fc.nat()), { maxLength: 12 }), (pieces) => {
        const h = new TextHasher();
        let joined = '';
        for (const [text, a, b] of pieces) {
          const start = text.length === 0 ? 0 : a % (text.length + 1);
          const end = start + (text.length === 0 ? 0 : b % (text.length - start + 1));
          h.update(text, start, end);
          joined += text.slice(start, end);
        }
        expect(h.digest()).toBe(hashText(joined));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes an engine snapshot in pieces to its state hash', () => {
    const json = JSON.stringify(richState('fast').engine.snapshot());
    const h = new TextHasher();
    for (let i = 0; i < json.length; i += 997) h.update(json.slice(i, i + 997));
    expect(h.digest()).toBe(hashText(json));
  });
});
