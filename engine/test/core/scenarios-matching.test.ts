// Matching behaviour: price-time priority, market orders, time in force, post-only and self-trade prevention.
import { describe, expect, it } from 'vitest';
import { BOOKS, DEALER, code, only, setup, strip, trades } from './helpers.js';

describe.each(BOOKS)('matching (%s book)', (book) => {
  describe('price-time priority', () => {
    it('fills the better price first, then FIFO within a level, at the maker price', () => {
      const h = setup(book, { 1: 100_000, 2: 100_000, 3: 100_000, 4: 100_000 });
      const a = h.limit(1, 'buy', 10, 100).id;
      const b = h.limit(2, 'buy', 20, 100).id;
      const c = h.limit(3, 'buy', 5, 101).id;
      // the seller asks only 95, but trades print at the makers' prices
      const s = h.limit(DEALER, 'sell', 30, 95);
      expect(strip(s.events)).toEqual([
        { type: 'OrderAccepted', orderId: s.id, accountId: DEALER, symbol: 'ACME', side: 'sell', orderType: 'limit', tif: 'day', qty: 30, price: 95, status: 'working' },
        { type: 'Trade', tradeId: 1, symbol: 'ACME', price: 101, qty: 5, aggressor: 'sell', makerOrderId: c, makerAccountId: 3, makerLeaves: 0, takerOrderId: s.id, takerAccountId: DEALER, takerLeaves: 25 },
        { type: 'Trade', tradeId: 2, symbol: 'ACME', price: 100, qty: 10, aggressor: 'sell', makerOrderId: a, makerAccountId: 1, makerLeaves: 0, takerOrderId: s.id, takerAccountId: DEALER, takerLeaves: 15 },
        { type: 'Trade', tradeId: 3, symbol: 'ACME', price: 100, qty: 15, aggressor: 'sell', makerOrderId: b, makerAccountId: 2, makerLeaves: 5, takerOrderId: s.id, takerAccountId: DEALER, takerLeaves: 0 },
      ]);
      // the partially filled order keeps its place ahead of a later order at the same price
      const d = h.limit(4, 'buy', 7, 100).id;
      expect(h.engine.depth('ACME')!.bids).toEqual([{ price: 100, qty: 12, orders: 2 }]);
      const s2 = h.limit(DEALER, 'sell', 6, 100);
      expect(trades(s2.events)).toEqual([
        [100, 5, b, s2.id],
        [100, 1, d, s2.id],
      ]);
      expect(h.engine.order(d)).toMatchObject({ qty: 7, filledQty: 1, leaves: 6, status: 'working' });
      expect(h.engine.order(b)).toBeUndefined();
      expect(h.money(3)).toEqual({ cash: 100_000 - 505, reservedCash: 0, buyingPower: 100_000 - 505 });
      expect(h.money(2)).toEqual({ cash: 100_000 - 2000, reservedCash: 0, buyingPower: 98_000 });
      expect(h.money(4)).toEqual({ cash: 100_000 - 100, reservedCash: 600, buyingPower: 100_000 - 700 });
      expect(h.engine.quote('ACME')).toMatchObject({ bid: 100, bidSize: 6, ask: null, askSize: 0, last: 100, lastSize: 1, volume: 36 });
    });

    it('a buy aggressor takes asks lowest first; a resting ask prints at its own (lower) price', () => {
      const h = setup(book, { 1: 100_000 });
      const x = h.limit(DEALER, 'sell', 10, 102).id;
      const y = h.limit(DEALER, 'sell', 10, 101).id;
      const z = h.limit(DEALER, 'sell', 10, 101).id;
      const t = h.limit(1, 'buy', 25, 105);
      expect(only(t.events, 'Trade').map((e) => [e.price, e.qty, e.makerOrderId, e.aggressor, e.makerLeaves, e.takerLeaves])).toEqual([
        [101, 10, y, 'buy', 0, 15],
        [101, 10, z, 'buy', 0, 5],
        [102, 5, x, 'buy', 5, 0],
      ]);
      // paid 2020 + 510, not 25 x 105; nothing stays reserved
      expect(h.money(1)).toEqual({ cash: 100_000 - 2530, reservedCash: 0, buyingPower: 100_000 - 2530 });
      expect(h.pos(1)).toMatchObject({ qty: 25, cost: 2530, reservedQty: 0 });
    });
  });

  describe('market orders', () => {
    it('sweeps levels and leaves nothing resting', () => {
      const h = setup(book, { 1: 100_000 });
      const l1 = h.limit(DEALER, 'sell', 10, 101).id;
      const l2 = h.limit(DEALER, 'sell', 20, 102).id;
      const l3 = h.limit(DEALER, 'sell', 30, 103).id;
      const m = h.market(1, 'buy', 40);
      expect(strip(m.events)[0]).toEqual({
        type: 'OrderAccepted', orderId: m.id, accountId: 1, symbol: 'ACME', side: 'buy', orderType: 'market', tif: 'day', qty: 40, status: 'working',
      });
      expect(trades(m.events)).toEqual([
        [101, 10, l1, m.id],
        [102, 20, l2, m.id],
        [103, 10, l3, m.id],
      ]);
      expect(m.events).toHaveLength(4);
      expect(h.engine.order(m.id)).toBeUndefined();
      expect(h.engine.quote('ACME')).toMatchObject({ ask: 103, askSize: 20, bid: null, last: 103, volume: 40, turnover: 1010 + 2040 + 1030 });
      expect(h.money(1).cash).toBe(100_000 - 4080);
    });

    it("cancels the unfilled remainder with reason 'ioc'", () => {
      const h = setup(book, { 1: 100_000 });
      h.limit(DEALER, 'sell', 10, 101);
      h.limit(DEALER, 'sell', 20, 102);
      const m = h.market(1, 'buy', 100);
      expect(m.events.map((e) => e.type)).toEqual(['OrderAccepted', 'Trade', 'Trade', 'OrderCanceled']);
      expect(strip(m.events)[3]).toEqual({ type: 'OrderCanceled', orderId: m.id, accountId: 1, symbol: 'ACME', reason: 'ioc', canceledQty: 70 });
      expect(h.shares(1)).toBe(30);
      expect(h.acct(1).openOrders).toBe(0);
    });

    it('market sell sweeps bids', () => {
      const h = setup(book, { 1: 100_000, 2: 100_000 });
      h.seed(1, 50, 100);
      const b1 = h.limit(2, 'buy', 20, 99).id;
      const b2 = h.limit(DEALER, 'buy', 20, 98).id;
      const m = h.market(1, 'sell', 30);
      expect(trades(m.events)).toEqual([
        [99, 20, b1, m.id],
        [98, 10, b2, m.id],
      ]);
      expect(only(m.events, 'Trade').every((t) => t.aggressor === 'sell')).toBe(true);
      expect(h.pos(1)).toMatchObject({ qty: 20, reservedQty: 0 });
    });

    it('NO_LIQUIDITY when the other side is empty', () => {
      const h = setup(book, { 1: 100_000 });
      h.limit(DEALER, 'buy', 10, 99); // same side as the order does not help
      const m = h.market(1, 'buy', 10);
      expect(strip(m.events)).toEqual([
        { type: 'Rejected', command: 'PlaceOrder', code: 'NO_LIQUIDITY', message: 'No sell orders in ACME', accountId: 1, orderId: m.id },
      ]);
    });

    it("a market buy stops when buying power runs out mid-sweep (reason 'insufficient_funds')", () => {
      const h = setup(book, { 1: 3000 });
      const l1 = h.limit(DEALER, 'sell', 10, 101).id;
      const l2 = h.limit(DEALER, 'sell', 30, 102).id;
      const m = h.market(1, 'buy', 50);
      // 10 x 101 = 1010 leaves 1990; 1990 / 102 = 19 shares (1938) leaves 52: less than one more share
      expect(strip(m.events).slice(1)).toEqual([
        { type: 'Trade', tradeId: 1, symbol: 'ACME', price: 101, qty: 10, aggressor: 'buy', makerOrderId: l1, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: m.id, takerAccountId: 1, takerLeaves: 40 },
        { type: 'Trade', tradeId: 2, symbol: 'ACME', price: 102, qty: 19, aggressor: 'buy', makerOrderId: l2, makerAccountId: DEALER, makerLeaves: 11, takerOrderId: m.id, takerAccountId: 1, takerLeaves: 21 },
        { type: 'OrderCanceled', orderId: m.id, accountId: 1, symbol: 'ACME', reason: 'insufficient_funds', canceledQty: 21 },
      ]);
      expect(h.money(1)).toEqual({ cash: 52, reservedCash: 0, buyingPower: 52 });
      expect(h.pos(1)).toMatchObject({ qty: 29, cost: 2948 });
    });

    it('INSUFFICIENT_FUNDS upfront when not even one lot is affordable', () => {
      const h = setup(book, { 1: 100 });
      h.limit(DEALER, 'sell', 10, 101);
      expect(code(h.market(1, 'buy', 1).events)).toBe('INSUFFICIENT_FUNDS');
      h.deposit(1, 1);
      expect(trades(h.market(1, 'buy', 5).events).map((t) => t[1])).toEqual([1]);
    });

    it('INSUFFICIENT_SHARES for a market sell larger than the free position', () => {
      const h = setup(book, { 1: 100_000 });
      h.seed(1, 10, 100);
      h.limit(DEALER, 'buy', 100, 99);
      h.limit(1, 'sell', 4, 120); // reserves 4 of the 10
      expect(code(h.market(1, 'sell', 7).events)).toBe('INSUFFICIENT_SHARES');
      expect(trades(h.market(1, 'sell', 6).events).map((t) => t[1])).toEqual([6]);
    });
  });

  describe('time in force', () => {
    it('day and gtc limit orders rest', () => {
      const h = setup(book, { 1: 100_000 });
      const d = h.limit(1, 'buy', 10, 99, { tif: 'day' });
      const g = h.limit(1, 'buy', 10, 98, { tif: 'gtc' });
      expect(strip(d.events)).toEqual([
        { type: 'OrderAccepted', orderId: d.id, accountId: 1, symbol: 'ACME', side: 'buy', orderType: 'limit', tif: 'day', qty: 10, price: 99, status: 'working' },
      ]);
      expect(g.events).toHaveLength(1);
      expect(h.engine.openOrders(1).map((o) => [o.orderId, o.tif, o.status, o.leaves])).toEqual([
        [d.id, 'day', 'working', 10],
        [g.id, 'gtc', 'working', 10],
      ]);
      expect(h.money(1)).toEqual({ cash: 100_000, reservedCash: 990 + 980, buyingPower: 100_000 - 1970 });
    });

    it("IOC trades what it can and cancels the rest ('ioc')", () => {
      const h = setup(book, { 1: 100_000 });
      const a1 = h.limit(DEALER, 'sell', 10, 100).id;
      const a2 = h.limit(DEALER, 'sell', 20, 101).id;
      h.limit(DEALER, 'sell', 30, 102);
      const o = h.limit(1, 'buy', 50, 101, { tif: 'ioc' });
      expect(trades(o.events)).toEqual([
        [100, 10, a1, o.id],
        [101, 20, a2, o.id],
      ]);
      expect(strip(o.events).at(-1)).toEqual({ type: 'OrderCanceled', orderId: o.id, accountId: 1, symbol: 'ACME', reason: 'ioc', canceledQty: 20 });
      expect(h.money(1)).toEqual({ cash: 100_000 - 3020, reservedCash: 0, buyingPower: 100_000 - 3020 });
    });

    it('IOC that cannot trade at all is accepted and canceled whole', () => {
      const h = setup(book, { 1: 100_000 });
      h.limit(DEALER, 'sell', 10, 105);
      const o = h.limit(1, 'buy', 10, 104, { tif: 'ioc' });
      expect(strip(o.events).map((e) => [e.type, e.reason, e.canceledQty])).toEqual([
        ['OrderAccepted', undefined, undefined],
        ['OrderCanceled', 'ioc', 10],
      ]);
    });

    it('FOK fills completely or is rejected with nothing traded', () => {
      const h = setup(book, { 1: 100_000 });
      h.limit(DEALER, 'sell', 10, 100);
      h.limit(DEALER, 'sell', 20, 101);
      h.limit(DEALER, 'sell', 30, 103);
      const tooMuch = h.limit(1, 'buy', 31, 101, { tif: 'fok' });
      expect(strip(tooMuch.events)).toEqual([
        { type: 'Rejected', command: 'PlaceOrder', code: 'FOK_NOT_FILLABLE', message: 'Only 30 of 31 available for fill-or-kill', accountId: 1, orderId: tooMuch.id },
      ]);
      const ok = h.limit(1, 'buy', 30, 101, { tif: 'fok' });
      expect(trades(ok.events).map((t) => [t[0], t[1]])).toEqual([
        [100, 10],
        [101, 20],
      ]);
      expect(ok.events.map((e) => e.type)).toEqual(['OrderAccepted', 'Trade', 'Trade']);
    });

    it('a market FOK buy that could not pay for the whole fill is INSUFFICIENT_FUNDS, not a partial fill', () => {
      const h = setup(book, { 1: 1_505 });
      h.limit(DEALER, 'sell', 10, 100);
      h.limit(DEALER, 'sell', 10, 101);
      h.withdraw(1, 1);
      const r = h.market(1, 'buy', 15, { tif: 'fok' });
      expect(strip(r.events)).toEqual([
        { type: 'Rejected', command: 'PlaceOrder', code: 'INSUFFICIENT_FUNDS', message: 'Needs 1505; buying power is 1504', accountId: 1, orderId: r.id },
      ]);
      h.deposit(1, 1);
      expect(trades(h.market(1, 'buy', 15, { tif: 'fok' }).events).map((t) => [t[0], t[1]])).toEqual([
        [100, 10],
        [101, 5],
      ]);
      expect(h.money(1)).toEqual({ cash: 0, reservedCash: 0, buyingPower: 0 });
    });

    it('FOK_NOT_FILLABLE when own liquidity blocks the way (cancel_taker); cancel_maker skips it', () => {
      const h = setup(book, { 1: 100_000 }, { short: [1] });
      const own = h.limit(1, 'sell', 10, 100).id;
      const other = h.limit(DEALER, 'sell', 20, 101).id;
      expect(code(h.limit(1, 'buy', 20, 101, { tif: 'fok' }).events)).toBe('FOK_NOT_FILLABLE');
      expect(code(h.limit(1, 'buy', 20, 101, { tif: 'fok', stp: 'cancel_both' }).events)).toBe('FOK_NOT_FILLABLE');
      const f = h.limit(1, 'buy', 20, 101, { tif: 'fok', stp: 'cancel_maker' });
      expect(strip(f.events).slice(1)).toEqual([
        { type: 'OrderCanceled', orderId: own, accountId: 1, symbol: 'ACME', reason: 'self_trade', canceledQty: 10 },
        { type: 'Trade', tradeId: 1, symbol: 'ACME', price: 101, qty: 20, aggressor: 'buy', makerOrderId: other, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: f.id, takerAccountId: 1, takerLeaves: 0 },
      ]);
    });

    it('post-only rests when it would not cross and is rejected WOULD_CROSS when it would', () => {
      const h = setup(book, { 1: 100_000 }, { short: [1] });
      h.limit(DEALER, 'buy', 10, 99);
      h.limit(DEALER, 'sell', 10, 101);
      const cross = h.limit(1, 'buy', 5, 101, { postOnly: true });
      expect(strip(cross.events)).toEqual([
        { type: 'Rejected', command: 'PlaceOrder', code: 'WOULD_CROSS', message: 'Post-only buy at 101 would trade against 101', accountId: 1, orderId: cross.id },
      ]);
      expect(code(h.limit(1, 'sell', 5, 99, { postOnly: true }).events)).toBe('WOULD_CROSS');
      expect(code(h.limit(1, 'sell', 5, 95, { postOnly: true }).events)).toBe('WOULD_CROSS');
      const rest = h.limit(1, 'buy', 5, 100, { postOnly: true, tif: 'gtc' });
      expect(rest.events.map((e) => e.type)).toEqual(['OrderAccepted']);
      expect(h.engine.order(rest.id)).toMatchObject({ postOnly: true, status: 'working', leaves: 5 });
      expect(h.engine.quote('ACME')).toMatchObject({ bid: 100, bidSize: 5, ask: 101 });
      const restSell = h.limit(1, 'sell', 5, 101, { postOnly: true });
      expect(restSell.events.map((e) => e.type)).toEqual(['OrderAccepted']);
      expect(h.engine.depth('ACME')!.asks).toEqual([{ price: 101, qty: 15, orders: 2 }]);
    });
  });

  describe('self-trade prevention', () => {
    it('cancel_taker (default): the incoming order is canceled, the resting one stays', () => {
      const h = setup(book, { 1: 100_000 }, { short: [1] });
      const maker = h.limit(1, 'sell', 10, 100).id;
      const t = h.limit(1, 'buy', 5, 100);
      expect(strip(t.events).slice(1)).toEqual([
        { type: 'OrderCanceled', orderId: t.id, accountId: 1, symbol: 'ACME', reason: 'self_trade', canceledQty: 5 },
      ]);
      expect(h.engine.order(maker)).toMatchObject({ leaves: 10, status: 'working' });
      expect(h.money(1).reservedCash).toBe(1000); // the short sale's cash backing only
    });

    it('cancel_taker trades with others first, then stops at its own order', () => {
      const h = setup(book, { 1: 100_000 }, { short: [1] });
      const d = h.limit(DEALER, 'sell', 5, 99).id;
      h.limit(1, 'sell', 10, 100);
      h.limit(DEALER, 'sell', 10, 100);
      const t = h.limit(1, 'buy', 20, 100, { stp: 'cancel_taker' });
      expect(strip(t.events).slice(1)).toEqual([
        { type: 'Trade', tradeId: 1, symbol: 'ACME', price: 99, qty: 5, aggressor: 'buy', makerOrderId: d, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: t.id, takerAccountId: 1, takerLeaves: 15 },
        { type: 'OrderCanceled', orderId: t.id, accountId: 1, symbol: 'ACME', reason: 'self_trade', canceledQty: 15 },
      ]);
      // the position was short-capable: the 5 bought offset nothing and are a long position
      expect(h.pos(1)).toMatchObject({ qty: 5, cost: 495 });
    });

    it('cancel_maker: own resting orders are canceled and matching carries on', () => {
      const h = setup(book, { 1: 100_000 }, { short: [1] });
      const own = h.limit(1, 'sell', 10, 100).id;
      const d = h.limit(DEALER, 'sell', 10, 100).id;
      const t = h.limit(1, 'buy', 15, 100, { stp: 'cancel_maker' });
      expect(strip(t.events).slice(1)).toEqual([
        { type: 'OrderCanceled', orderId: own, accountId: 1, symbol: 'ACME', reason: 'self_trade', canceledQty: 10 },
        { type: 'Trade', tradeId: 1, symbol: 'ACME', price: 100, qty: 10, aggressor: 'buy', makerOrderId: d, makerAccountId: DEALER, makerLeaves: 0, takerOrderId: t.id, takerAccountId: 1, takerLeaves: 5 },
      ]);
      expect(h.engine.order(t.id)).toMatchObject({ leaves: 5, status: 'working' });
      expect(h.money(1)).toEqual({ cash: 99_000, reservedCash: 500, buyingPower: 98_500 });
    });

    it('cancel_both: both the resting and the incoming order are canceled', () => {
      const h = setup(book, { 1: 100_000 }, { short: [1] });
      const own = h.limit(1, 'sell', 10, 100).id;
      const t = h.market(1, 'buy', 5, { stp: 'cancel_both' });
      expect(strip(t.events).slice(1)).toEqual([
        { type: 'OrderCanceled', orderId: own, accountId: 1, symbol: 'ACME', reason: 'self_trade', canceledQty: 10 },
        { type: 'OrderCanceled', orderId: t.id, accountId: 1, symbol: 'ACME', reason: 'self_trade', canceledQty: 5 },
      ]);
      expect(h.engine.openOrders(1)).toEqual([]);
      expect(h.money(1)).toEqual({ cash: 100_000, reservedCash: 0, buyingPower: 100_000 });
    });

    it('a market sell with cancel_maker walks past several own bids', () => {
      const h = setup(book, { 1: 100_000 });
      h.seed(1, 20, 100);
      const own1 = h.limit(1, 'buy', 5, 99).id;
      const own2 = h.limit(1, 'buy', 5, 98).id;
      const d = h.limit(DEALER, 'buy', 10, 98).id;
      const m = h.market(1, 'sell', 8, { stp: 'cancel_maker' });
      expect(strip(m.events).slice(1).map((e) => [e.type, e.orderId ?? e.makerOrderId, e.reason ?? e.qty])).toEqual([
        ['OrderCanceled', own1, 'self_trade'],
        ['OrderCanceled', own2, 'self_trade'],
        ['Trade', d, 8],
      ]);
      expect(h.money(1).reservedCash).toBe(0);
    });
  });
});
