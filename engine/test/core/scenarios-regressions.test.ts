// Regressions: command sequences that once crashed the engine, broke an invariant or gave a wrong result.
// Every command runs through the harness, which checks the invariants and that a rejection changes nothing.
import { describe, expect, it } from 'vitest';
import { Engine, MAX_BAND_TICKS } from '../../core/index.js';
import { BOOKS, DEALER, Harness, code, only, setup, strip, trades } from './helpers.js';

describe.each(BOOKS)('regressions (%s book)', (book) => {
  describe('a short-capable account whose long shares are held by an OCO pair', () => {
    /** Account 1 (may short) holds 10 shares, all held by an OCO sell pair (limit 110 / stop 90). */
    function held() {
      const h = setup(book, { 1: 1_000, 2: 1_000_000 }, { short: [1] });
      h.seed(1, 10, 100);
      h.deposit(1, 500);
      const pair = h.oco(
        1,
        { side: 'sell', qty: 10, orderType: 'limit', price: 110 },
        { side: 'sell', qty: 10, orderType: 'stop', stopPrice: 90 },
      );
      expect(h.pos(1)).toMatchObject({ qty: 10, reservedQty: 10 });
      return { h, pair };
    }

    it('cannot market-sell the shares the pair holds', () => {
      const { h, pair } = held();
      h.limit(2, 'buy', 5, 100, { tif: 'gtc' });
      const s = h.market(1, 'sell', 5, { tif: 'ioc' });
      expect(trades(s.events)).toEqual([]);
      expect(only(s.events, 'OrderCanceled')).toMatchObject([{ orderId: s.id, reason: 'insufficient_shares', canceledQty: 5 }]);
      expect(h.pos(1)).toMatchObject({ qty: 10, reservedQty: 10 });
      // the cash is free; the pair still trades in full when its limit leg is hit
      h.withdraw(1, h.money(1).buyingPower);
      const b = h.limit(2, 'buy', 10, 110, { tif: 'gtc' });
      expect(trades(b.events)).toEqual([[110, 10, pair.ids[0], b.id]]);
      expect(h.shares(1)).toBe(0);
    });

    it('a leg that can no longer stand alone is canceled with its sibling instead of trading, without a crash', () => {
      const { h, pair } = held();
      // a cash-backed limit sell delivers 5 of the shares the pair holds
      h.limit(1, 'sell', 5, 100, { tif: 'gtc' });
      h.limit(2, 'buy', 5, 100, { tif: 'ioc' });
      expect(h.pos(1)).toMatchObject({ qty: 5, reservedQty: 10 });
      h.withdraw(1, h.money(1).buyingPower);
      const b = h.limit(2, 'buy', 10, 110, { tif: 'gtc' });
      expect(trades(b.events)).toEqual([]);
      expect(only(b.events, 'OrderCanceled').map((e) => [e.orderId, e.reason])).toEqual([
        [pair.ids[0], 'insufficient_funds'],
        [pair.ids[1], 'oco'],
      ]);
      expect(h.engine.order(b.id)).toMatchObject({ status: 'working', leaves: 10 });
      expect(h.pos(1)).toMatchObject({ qty: 5, reservedQty: 0 });
    });

    it('a fill-or-kill order does not count a leg that cannot stand alone (it is canceled when hit, not traded)', () => {
      const { h } = held();
      h.limit(1, 'sell', 5, 100, { tif: 'gtc' });
      h.limit(2, 'buy', 5, 100, { tif: 'ioc' });
      h.withdraw(1, h.money(1).buyingPower);
      h.limit(DEALER, 'sell', 10, 110, { tif: 'gtc' });
      // 10 of the dealer's and 10 of the pair's leg at 110: only the dealer's 10 can trade
      const f = h.limit(2, 'buy', 20, 110, { tif: 'fok' });
      expect(code(f.events)).toBe('FOK_NOT_FILLABLE');
      const ok = h.limit(2, 'buy', 10, 110, { tif: 'fok' });
      expect(trades(ok.events).reduce((n, t) => n + t[1], 0)).toBe(10);
    });
  });

  it('a rejected replace of a trailing stop whose stop moved leaves its reservation exactly as it was', () => {
    const h = setup(book, { 1: 1_000, 2: 100_000 }, { short: [1] });
    const ts = h.place(1, 'sell', 10, { orderType: 'trailing_stop', trailAmount: 5, tif: 'gtc' });
    expect(h.money(1)).toEqual({ cash: 1_000, reservedCash: 950, buyingPower: 50 });
    h.limit(DEALER, 'sell', 1, 110, { tif: 'gtc' });
    const up = h.limit(2, 'buy', 1, 110, { tif: 'ioc' });
    expect(only(up.events, 'StopMoved')).toMatchObject([{ orderId: ts.id, stopPrice: 105 }]);
    // the harness checks that the rejection leaves the state hash unchanged
    expect(code(h.replace(1, ts.id, { qty: 20 }))).toBe('INSUFFICIENT_FUNDS');
    expect(h.money(1)).toEqual({ cash: 1_000, reservedCash: 950, buyingPower: 50 });
    expect(code(h.withdraw(1, 1_000))).toBe('INSUFFICIENT_FUNDS');
  });

  it('a fill-or-kill order counts only one leg of an OCO pair when it checks it can fill whole', () => {
    const h = setup(book, { 1: 100_000, 2: 100_000 });
    h.seed(1, 20, 100);
    const pair = h.oco(1, { side: 'sell', qty: 10, orderType: 'limit', price: 100 }, { side: 'sell', qty: 10, orderType: 'limit', price: 101 });
    expect(code(h.limit(2, 'buy', 20, 101, { tif: 'fok' }).events)).toBe('FOK_NOT_FILLABLE');
    expect(code(h.market(2, 'buy', 20, { tif: 'fok' }).events)).toBe('FOK_NOT_FILLABLE');
    // with more liquidity behind the pair it fills whole: one leg trades, the other is canceled
    const d = h.limit(DEALER, 'sell', 10, 101, { tif: 'gtc' });
    const f = h.limit(2, 'buy', 20, 101, { tif: 'fok' });
    expect(trades(f.events)).toEqual([
      [100, 10, pair.ids[0], f.id],
      [101, 10, d.id, f.id],
    ]);
    expect(h.shares(2)).toBe(20);
  });

  describe('bracket children of an entry that ends while the symbol is halted', () => {
    function partlyFilled() {
      const h = setup(book, { 1: 100_000, 2: 100_000 });
      const [entry, tp, sl] = [h.id(), h.id(), h.id()];
      h.place(1, 'buy', 10, { orderId: entry, price: 100, bracket: { takeProfit: { orderId: tp, price: 105 }, stopLoss: { orderId: sl, stopPrice: 95 } } });
      h.limit(DEALER, 'sell', 4, 100);
      const bid = h.limit(2, 'buy', 10, 106, { tif: 'gtc' });
      h.halt();
      return { h, entry, tp, sl, bid: bid.id };
    }

    it('wait for the reopening to go live, and only then trade', () => {
      const { h, entry, tp, sl, bid } = partlyFilled();
      expect(strip(h.cancel(1, entry))).toEqual([
        { type: 'OrderCanceled', orderId: entry, accountId: 1, symbol: 'ACME', reason: 'user', canceledQty: 6 },
        // the children, cut to what the entry filled, say so while they wait
        { type: 'OrderReplaced', orderId: tp, accountId: 1, symbol: 'ACME', qty: 4, leaves: 4, price: 105, keptPriority: true },
        { type: 'OrderReplaced', orderId: sl, accountId: 1, symbol: 'ACME', qty: 4, leaves: 4, stopPrice: 95, keptPriority: true },
      ]);
      expect(h.engine.order(tp)).toMatchObject({ status: 'pending_parent', qty: 4 });
      expect(h.engine.order(sl)).toMatchObject({ status: 'pending_parent', qty: 4 });
      expect(h.engine.depth('ACME')!.asks).toEqual([]);
      const r = h.resume();
      expect(strip(r).map((e) => e.type)).toEqual(['InstrumentStatusChanged', 'OrderActivated', 'OrderActivated', 'Trade', 'OrderCanceled']);
      expect(trades(r)).toEqual([[106, 4, bid, tp]]);
      expect(only(r, 'OrderCanceled')).toMatchObject([{ orderId: sl, reason: 'oco' }]);
      expect(h.shares(1)).toBe(0);
    });

    it('do not trade at the end of a halted session either', () => {
      const { h, tp, sl } = partlyFilled();
      const ev = h.endSession();
      expect(trades(ev)).toEqual([]);
      expect(only(ev, 'OrderActivated')).toEqual([]);
      expect(h.engine.order(tp)).toMatchObject({ status: 'pending_parent', qty: 4 });
      // a snapshot taken meanwhile restores to the same state, and the children go live on reopening
      const restored = Engine.restore(h.engine.snapshot(), { book });
      expect(restored.stateHash()).toBe(h.engine.stateHash());
      const r = h.resume();
      const r2 = restored.execute(h.cmds[h.cmds.length - 1]!);
      expect(r2).toEqual(r);
      expect(restored.stateHash()).toBe(h.engine.stateHash());
      expect(only(r, 'OrderActivated').map((e) => e.orderId)).toEqual([tp, sl]);
      expect(trades(r)).toHaveLength(1);
    });
  });

  it('a trailing stop canceled while the stops move does not make the next trailing stop miss its trigger', () => {
    const h = setup(book, { 1: 950, 2: 100_000 }, { short: [1] });
    const pair = h.oco(
      1,
      { side: 'sell', qty: 10, orderType: 'trailing_stop', trailAmount: 5 },
      { side: 'sell', qty: 10, orderType: 'stop', stopPrice: 90 },
    );
    const buyTrail = h.place(2, 'buy', 1, { orderType: 'trailing_stop', trailAmount: 2, tif: 'gtc' });
    h.limit(DEALER, 'sell', 1, 103, { tif: 'gtc' });
    const far = h.limit(DEALER, 'sell', 50, 110, { tif: 'gtc' });
    // the print at 103 lifts the short sale's trailing stop to 98, which its 950 cannot back: it is canceled
    // (the pair's stop at 90 carries on alone), and the buy trailing stop at 102 fires
    const p = h.limit(2, 'buy', 1, 103, { tif: 'ioc' });
    expect(only(p.events, 'StopMoved')).toEqual([]);
    expect(only(p.events, 'OrderCanceled').map((e) => [e.orderId, e.reason])).toContainEqual([pair.ids[0], 'insufficient_funds']);
    expect(only(p.events, 'OrderTriggered').map((e) => e.orderId)).toEqual([buyTrail.id]);
    expect(trades(p.events)).toContainEqual([110, 1, far.id, buyTrail.id]);
    expect(h.engine.order(pair.ids[1])).toMatchObject({ status: 'pending_trigger', stopPrice: 90 });
  });

  describe('market short sales', () => {
    it('are backed once per order: the buying power at the start pays for the whole short part', () => {
      const h = setup(book, { 1: 100, 2: 100_000 }, { short: [1] });
      const bid = h.limit(2, 'buy', 1_000, 100, { tif: 'gtc' });
      const s = h.market(1, 'sell', 1_000, { tif: 'ioc' });
      expect(trades(s.events)).toEqual([[100, 1, bid.id, s.id]]);
      expect(only(s.events, 'OrderCanceled')).toMatchObject([{ orderId: s.id, reason: 'insufficient_funds', canceledQty: 999 }]);
      expect(h.pos(1)).toMatchObject({ qty: -1, cost: -100 });
    });

    it('sell the long shares first, then short as far as the cash goes, across price levels', () => {
      const h = setup(book, { 1: 100_000, 2: 100_000 }, { short: [1] });
      h.seed(1, 3, 100);
      h.withdraw(1, h.money(1).buyingPower - 1_000);
      const b1 = h.limit(2, 'buy', 10, 100, { tif: 'gtc' });
      const b2 = h.limit(2, 'buy', 20, 90, { tif: 'gtc' });
      const s = h.market(1, 'sell', 30, { tif: 'ioc' });
      // 3 long + 7 short at 100 (700 of the 1000), then 3 short at 90 (270)
      expect(trades(s.events)).toEqual([
        [100, 10, b1.id, s.id],
        [90, 3, b2.id, s.id],
      ]);
      expect(h.pos(1)).toMatchObject({ qty: -10 });
    });

    it('as fill-or-kill, are rejected when the cash does not back the whole short part', () => {
      const h = setup(book, { 1: 500, 2: 10_000 }, { short: [1] });
      h.limit(2, 'buy', 10, 100, { tif: 'gtc' });
      expect(code(h.market(1, 'sell', 10, { tif: 'fok' }).events)).toBe('INSUFFICIENT_FUNDS');
      const s = h.market(1, 'sell', 5, { tif: 'fok' });
      expect(only(s.events, 'Trade')).toMatchObject([{ qty: 5 }]);
    });
  });

  it('short selling cannot be turned off while the account is short or has sells backed by cash', () => {
    const h = setup(book, { 1: 10_000, 2: 10_000 }, { short: [1] });
    const off = { type: 'SetAccountLimits', accountId: 1, limits: {}, allowShort: false } as const;
    const s = h.limit(1, 'sell', 10, 100, { tif: 'gtc' });
    expect(code(h.exec(off))).toBe('INSUFFICIENT_SHARES');
    h.limit(2, 'buy', 10, 100, { tif: 'gtc' });
    expect(h.shares(1)).toBe(-10);
    expect(code(h.exec(off))).toBe('INSUFFICIENT_SHARES');
    expect(h.acct(1).allowShort).toBe(true);
    // once flat, and with every sell covered by shares held, it can
    h.limit(DEALER, 'sell', 15, 100, { tif: 'gtc' });
    h.limit(1, 'buy', 15, 100, { tif: 'ioc' });
    h.limit(1, 'sell', 5, 120, { tif: 'gtc' });
    expect(h.engine.order(s.id)).toBeUndefined();
    expect(only(h.exec(off), 'AccountLimitsChanged')).toHaveLength(1);
    expect(h.acct(1).allowShort).toBe(false);
  });

  it('an instrument whose band spans too many ticks is rejected, not a crash; a wide one grows its book as orders come', () => {
    const h = new Harness(book);
    const big = { symbol: 'BIG', name: 'Big', tickSize: 1, lotSize: 1, referencePrice: 5_000_000_000, bandBps: 10_000 };
    expect(code(h.exec({ type: 'CreateInstrument', instrument: big }))).toBe('INVALID_INSTRUMENT');
    expect(code(h.exec({ type: 'CreateInstrument', instrument: { ...big, referencePrice: 1e11 } }))).toBe('INVALID_INSTRUMENT');
    // the same prices on a coarser tick are fine, and orders at both ends of the band rest
    h.instrument({ ...big, tickSize: 10_000 });
    h.account(1, 1e15, { allowShort: true });
    h.exec({ type: 'PlaceOrder', orderId: 1, accountId: 1, symbol: 'BIG', side: 'buy', orderType: 'limit', qty: 1, price: 10_000, tif: 'gtc' });
    h.exec({ type: 'PlaceOrder', orderId: 2, accountId: 1, symbol: 'BIG', side: 'sell', orderType: 'limit', qty: 1, price: 10_000_000_000, tif: 'gtc' });
    expect(h.engine.quote('BIG')).toMatchObject({ bid: 10_000, ask: 10_000_000_000 });
  });

  it('a snapshot restores after the end of a session moved the reference price past what CreateInstrument accepts', () => {
    const h = new Harness(book);
    h.instrument({ symbol: 'HI', name: 'Hi', tickSize: 1_000_000, lotSize: 1, referencePrice: 100_000_000_000, bandBps: 10_000 });
    h.account(1, 1e15, { allowShort: true });
    h.account(2, 1e15);
    h.exec({ type: 'PlaceOrder', orderId: 1, accountId: 1, symbol: 'HI', side: 'sell', orderType: 'limit', qty: 1, price: 200_000_000_000, tif: 'gtc' });
    h.exec({ type: 'PlaceOrder', orderId: 2, accountId: 2, symbol: 'HI', side: 'buy', orderType: 'limit', qty: 1, price: 200_000_000_000, tif: 'gtc' });
    h.endSession();
    expect(h.engine.instrument('HI')).toMatchObject({ referencePrice: 200_000_000_000 });
    const restored = Engine.restore(JSON.parse(JSON.stringify(h.engine.snapshot())) as ReturnType<Engine['snapshot']>, { book });
    expect(restored.stateHash()).toBe(h.engine.stateHash());
    expect(restored.instrument('HI')).toEqual(h.engine.instrument('HI'));
  });

  it('the two legs of an OCO pair cannot share a client order id', () => {
    const h = setup(book, { 1: 10_000 });
    const legs = [
      { orderId: 1, symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 10, price: 90, tif: 'gtc', clientOrderId: 'X' },
      { orderId: 2, symbol: 'ACME', side: 'buy', orderType: 'stop', qty: 10, stopPrice: 110, tif: 'gtc', clientOrderId: 'X' },
    ] as const;
    expect(code(h.exec({ type: 'PlaceOco', accountId: 1, legs: [legs[0], legs[1]] }))).toBe('DUPLICATE_CLIENT_ORDER_ID');
    const ok = h.exec({ type: 'PlaceOco', accountId: 1, legs: [legs[0], { ...legs[1], clientOrderId: 'Y' }] });
    expect(only(ok, 'OrderAccepted').map((e) => e.clientOrderId)).toEqual(['X', 'Y']);
  });
  it("a market order stops at the account's maximum order notional, whatever prices it trades at", () => {
    const h = setup(book);
    h.account(1, 100_000, { limits: { maxOrderNotional: 1_000 } });
    // checked at the mark (100 x 10 = 1,000: accepted), then the book is thin above it
    h.limit(DEALER, 'sell', 5, 100, { tif: 'gtc' });
    h.limit(DEALER, 'sell', 10, 150, { tif: 'gtc' });
    const m = h.market(1, 'buy', 10, { tif: 'ioc' });
    expect(trades(m.events).map(([px, q]) => [px, q])).toEqual([
      [100, 5],
      [150, 3],
    ]);
    expect(only(m.events, 'OrderCanceled')).toMatchObject([{ orderId: m.id, reason: 'limit_exceeded', canceledQty: 2 }]);
    expect(h.money(1).cash).toBe(100_000 - 950);
    // a fill-or-kill market order that would trade past it is refused before it trades: a print at 60 makes
    // the mark 60 (8 x 60 is within it), and the book offers 1 at 60 and 7 at 150 (1,110 in all)
    h.account(2, 100_000);
    h.limit(DEALER, 'sell', 2, 60, { tif: 'gtc' });
    expect(trades(h.market(2, 'buy', 1, { tif: 'ioc' }).events).map(([px, q]) => [px, q])).toEqual([[60, 1]]);
    const fok = h.place(1, 'buy', 8, { tif: 'fok' });
    expect(code(fok.events)).toBe('LIMIT_EXCEEDED');
    // within it, as before
    const ok = h.market(1, 'buy', 1, { tif: 'ioc' });
    expect(trades(ok.events).map(([px, q]) => [px, q])).toEqual([[60, 1]]);
  });
  it("a session's end keeps the band within MAX_BAND_TICKS either side, however far the close moved", () => {
    const h = new Harness(book);
    h.instrument({ symbol: 'WIDE', name: 'Wide', tickSize: 1, lotSize: 1, referencePrice: 1_000_000, bandBps: 10_000 });
    h.dealer();
    h.account(2, 1e12);
    for (let session = 0; session < 3; session++) {
      const top = h.engine.instrument('WIDE')!.bandHigh;
      h.exec({ type: 'PlaceOrder', orderId: h.id(), accountId: DEALER, symbol: 'WIDE', side: 'sell', orderType: 'limit', qty: 1, price: top, tif: 'gtc' });
      h.exec({ type: 'PlaceOrder', orderId: h.id(), accountId: 2, symbol: 'WIDE', side: 'buy', orderType: 'limit', qty: 1, price: top, tif: 'ioc' });
      h.endSession();
      const i = h.engine.instrument('WIDE')!;
      expect(i.referencePrice).toBe(top);
      expect(i.bandHigh - i.referencePrice).toBeLessThanOrEqual(MAX_BAND_TICKS);
      expect(i.referencePrice - i.bandLow).toBeLessThanOrEqual(MAX_BAND_TICKS);
    }
    const restored = Engine.restore(JSON.parse(JSON.stringify(h.engine.snapshot())) as ReturnType<Engine['snapshot']>, { book });
    expect(restored.stateHash()).toBe(h.engine.stateHash());
    expect(restored.instrument('WIDE')).toEqual(h.engine.instrument('WIDE'));
  });

  describe('money totals stay exact integers (each within MAX_MONEY); a trade that could pass it does not happen', () => {
    const BIG = { symbol: 'BIG', name: 'Big', tickSize: 1, lotSize: 1, referencePrice: 1_000_000, bandBps: 5_000 };
    const LOT = 1_000_000_000; // 1e9 shares at 1e6: a notional of 1e15, the most one deposit may be
    const order = (h: Harness, accountId: number, side: 'buy' | 'sell', tif: 'gtc' | 'ioc' | 'fok') => {
      const id = h.id();
      const events = h.exec({ type: 'PlaceOrder', orderId: id, accountId, symbol: 'BIG', side, orderType: 'limit', qty: LOT, price: 1_000_000, tif });
      return { id, events };
    };
    /** Account 50 (may short, 1e15 of cash) has sold 1e15 short to each of accounts 1..8; account 9 has 1e15 left to buy with. */
    function shortSeller(): Harness {
      const h = new Harness(book);
      h.instrument(BIG);
      h.account(50, 1e15, { allowShort: true });
      for (let k = 1; k <= 9; k++) h.account(k, 1e15);
      for (let k = 1; k <= 8; k++) {
        order(h, k, 'buy', 'gtc');
        expect(only(order(h, 50, 'sell', 'ioc').events, 'Trade')).toHaveLength(1);
      }
      // each sale adds its proceeds to the cash (held, not spendable), so the buying power stays 1e15
      expect(h.money(50)).toEqual({ cash: 9e15, reservedCash: 0, buyingPower: 1e15 });
      return h;
    }

    it("a sale whose proceeds would take the seller's cash past it: the seller's order is canceled, taker or maker", () => {
      const h = shortSeller();
      const bid = order(h, 9, 'buy', 'gtc');
      const taker = order(h, 50, 'sell', 'ioc');
      expect(trades(taker.events)).toEqual([]);
      expect(only(taker.events, 'OrderCanceled')).toMatchObject([{ orderId: taker.id, reason: 'limit_exceeded', canceledQty: LOT }]);
      expect(h.engine.order(bid.id)).toMatchObject({ status: 'working', leaves: LOT });
      h.cancel(9, bid.id);
      // resting: the buyer's order goes on (it rests) and the seller's is canceled
      const ask = order(h, 50, 'sell', 'gtc');
      const buy = order(h, 9, 'buy', 'gtc');
      expect(trades(buy.events)).toEqual([]);
      expect(only(buy.events, 'OrderCanceled')).toMatchObject([{ orderId: ask.id, reason: 'limit_exceeded' }]);
      expect(h.engine.order(buy.id)).toMatchObject({ status: 'working', leaves: LOT });
      expect(h.money(50).cash).toBe(9e15);
    });

    it('a trade that lowers the totals near it still happens: the short seller buys back, a holder sells down', () => {
      const h = shortSeller();
      // account 1 sells back the 1e9 shares it bought; account 50 covers with them: its cash, short proceeds
      // held and cost all go down
      const bid = order(h, 50, 'buy', 'gtc');
      const sale = order(h, 1, 'sell', 'ioc');
      expect(trades(sale.events)).toEqual([[1_000_000, LOT, bid.id, sale.id]]);
      expect(h.money(50).cash).toBe(8e15);
      expect(h.pos(50, 'BIG')).toMatchObject({ qty: -7 * LOT, cost: -7e15 });
    });

    it('a fill-or-kill order that would pass it is rejected, changing nothing', () => {
      const h = shortSeller();
      order(h, 9, 'buy', 'gtc');
      expect(code(order(h, 50, 'sell', 'fok').events)).toBe('LIMIT_EXCEEDED');
    });

    it("a symbol's session turnover: the trade that would pass it is canceled, a fill-or-kill one rejected", () => {
      const h = new Harness(book);
      h.instrument(BIG);
      h.account(1, 1e15);
      h.account(2, 1e15, { allowShort: true });
      // 1e15 a trade, back and forth: account 2 sells short and buys back
      for (let k = 0; k < 9; k++) {
        order(h, k % 2 === 0 ? 1 : 2, 'buy', 'gtc');
        expect(only(order(h, k % 2 === 0 ? 2 : 1, 'sell', 'ioc').events, 'Trade')).toHaveLength(1);
      }
      expect(h.engine.quote('BIG')!.turnover).toBe(9e15);
      // account 1 holds the shares, account 2 buys them back: the 10th trade
      order(h, 2, 'buy', 'gtc');
      expect(code(order(h, 1, 'sell', 'fok').events)).toBe('LIMIT_EXCEEDED');
      const s = order(h, 1, 'sell', 'ioc');
      expect(only(s.events, 'OrderCanceled')).toMatchObject([{ orderId: s.id, reason: 'limit_exceeded' }]);
      expect(h.engine.quote('BIG')!.turnover).toBe(9e15);
      // a new session starts the count again
      h.endSession();
      expect(only(order(h, 1, 'sell', 'ioc').events, 'Trade')).toHaveLength(1);
    });
  });
});
