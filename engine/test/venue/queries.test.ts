// History queries against real database files: orders, executions, statement, trade statistics, candles,
// paging, rejected orders, client order ids, trading-day rollover, and history surviving restarts.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { OrderSpec } from '../../core/index.js';
import { Venue, historyPath, type Ack, type PlaceOrderRequest } from '../../venue/index.js';
import { expectHistoryMatchesEngine, openVenue, runLoad, setUpLoad, tempDb, testClock } from './helpers.js';

const DAY = 86_400_000;
/** Thursday 2024-01-25 10:00 UTC: a week later is February, so weeks and months both roll within the test. */
const START = Date.UTC(2024, 0, 25, 10, 0, 0);

async function market(clock = testClock(START), file = tempDb(), opts: Parameters<typeof openVenue>[1] = {}) {
  const v = openVenue(file, { now: clock.now, ...opts });
  const ok = async (p: Promise<Ack>): Promise<Ack> => {
    const a = await p;
    expect(a.rejected, JSON.stringify(a.rejected)).toBeUndefined();
    return a;
  };
  for (const sym of ['AAA', 'BBB'])
    await ok(v.submit({ type: 'CreateInstrument', instrument: { symbol: sym, name: sym, tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 2000 } }));
  for (const id of [1, 2, 3]) {
    await ok(v.submit({ type: 'OpenAccount', accountId: id, allowShort: true }));
    await ok(v.submit({ type: 'Deposit', accountId: id, amount: 10_000_000 }));
  }
  const place = (accountId: number, spec: Partial<OrderSpec> & Pick<OrderSpec, 'side' | 'price'>): Promise<Ack> =>
    v.submit({ type: 'PlaceOrder', accountId, symbol: 'AAA', orderType: 'limit', qty: 10, tif: 'gtc', ...spec } as PlaceOrderRequest);
  /** A trade of qty at px: account `seller` rests, `buyer` takes. */
  const trade = async (buyer: number, seller: number, px: number, qty = 10, symbol = 'AAA'): Promise<void> => {
    await ok(place(seller, { side: 'sell', price: px, qty, symbol }));
    const a = await ok(place(buyer, { side: 'buy', price: px, qty, symbol, tif: 'ioc' }));
    expect(a.events.filter((e) => e.type === 'Trade')).toHaveLength(1);
  };
  return { v, clock, file, place, trade, ok };
}

function allPages<T>(get: (cursor?: string) => { items: T[]; nextCursor?: string }): T[][] {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const p = get(cursor);
    pages.push(p.items);
    cursor = p.nextCursor;
  } while (cursor !== undefined);
  return pages;
}

describe('orders', () => {
  it('lists by account, status and symbol, newest first, with keyset paging', async () => {
    const { v, place, trade, clock } = await market();
    const ids: Record<string, number[]> = { working: [], canceled: [], filled: [], rejected: [] };
    for (let i = 0; i < 7; i++) {
      clock.t += 1000;
      const a = await place(1, { side: 'buy', price: 900 + i, symbol: i % 2 ? 'BBB' : 'AAA' });
      ids.working!.push(a.orderIds[0]!);
    }
    for (let i = 0; i < 3; i++) {
      const id = ids.working!.shift()!;
      await v.submit({ type: 'CancelOrder', accountId: 1, orderId: id });
      ids.canceled!.push(id);
    }
    const r = await place(1, { side: 'buy', price: 5000 }); // outside the band
    expect(r.rejected?.code).toBe('PRICE_OUT_OF_BAND');
    ids.rejected!.push(r.orderIds[0]!);
    await trade(1, 2, 1000);
    const filled = v.orders({ accountId: 1, status: 'filled' }).items;
    expect(filled).toHaveLength(1);
    ids.filled!.push(filled[0]!.orderId);

    const desc = (a: number[]) => [...a].sort((x, y) => y - x);
    for (const status of ['open', 'canceled', 'rejected', 'filled'] as const) {
      const want = desc(status === 'open' ? ids.working! : ids[status]!);
      const pages = allPages((cursor) => v.orders({ accountId: 1, status, limit: 2, cursor }));
      expect(pages.flat().map((o) => o.orderId), status).toEqual(want);
      expect(pages.every((p) => p.length <= 2)).toBe(true);
    }
    const all = allPages((cursor) => v.orders({ accountId: 1, limit: 3, cursor })).flat();
    expect(all.map((o) => o.orderId)).toEqual(desc([...ids.working!, ...ids.canceled!, ...ids.rejected!, ...ids.filled!]));
    expect(v.orders({ accountId: 1, symbol: 'BBB' }).items.every((o) => o.symbol === 'BBB')).toBe(true);
    expect(v.orders({ accountId: 1, symbol: 'BBB' }).items).toHaveLength(3);
    expect(v.orders({ accountId: 1, status: 'open', symbol: 'BBB' }).items.map((o) => o.symbol)).toEqual(['BBB', 'BBB']);

    // keyset: orders that arrive between pages neither repeat nor shift the next page
    const first = v.orders({ accountId: 1, limit: 4 });
    await place(1, { side: 'buy', price: 950 });
    const second = v.orders({ accountId: 1, limit: 4, cursor: first.nextCursor });
    expect(second.items[0]!.orderId).toBe(all[4]!.orderId);
    expect(() => v.orders({ cursor: 'x.1.2' })).toThrow(/cursor/);
    // a cursor is read as made (digits), not as Number() reads it: '' as 0, '-5', '1e3'
    expect(first.nextCursor).toMatch(/^o\.\d+$/);
    for (const bad of ['o.', 'o.-5', 'o.1e3', 'o.0x10', 'o. 6', 'o.6.5'])
      expect(() => v.orders({ accountId: 1, cursor: bad }), bad).toThrow(/cursor/);

    // records carry the terminal details
    const rej = v.order(ids.rejected![0]!)!;
    expect(rej).toMatchObject({ status: 'rejected', rejectCode: 'PRICE_OUT_OF_BAND', filledQty: 0, leaves: 0 });
    expect(rej.rejectMessage).toMatch(/band/);
    expect(v.order(ids.canceled![0]!)).toMatchObject({ status: 'canceled', cancelReason: 'user', leaves: 0 });
    expect(v.order(ids.filled![0]!)).toMatchObject({ status: 'filled', filledQty: 10, leaves: 0, avgFillPrice: 1000 });
  });

  it('client order ids are unique per account, across sessions and restarts; a duplicate names the original', async () => {
    const { v, place, file, clock } = await market();
    const a = await place(1, { side: 'buy', price: 990, clientOrderId: 'my-1', tif: 'day' });
    const b = await place(2, { side: 'buy', price: 990, clientOrderId: 'my-1' }); // other account: fine
    expect(b.rejected).toBeUndefined();
    const dupSameSession = await place(1, { side: 'buy', price: 991, clientOrderId: 'my-1' });
    expect(dupSameSession.rejected).toMatchObject({ code: 'DUPLICATE_CLIENT_ORDER_ID', originalOrderId: a.orderIds[0] });
    await v.endSession(); // the day order expires; the engine forgets the id, the venue does not
    expect(v.order(a.orderIds[0]!)).toMatchObject({ status: 'canceled', cancelReason: 'expired' });
    // same tick as the end of session: in the same group commit
    const [, sameBatch] = await Promise.all([v.endSession(), place(1, { side: 'buy', price: 991, clientOrderId: 'my-1' })]);
    expect(sameBatch.rejected).toMatchObject({ code: 'DUPLICATE_CLIENT_ORDER_ID', originalOrderId: a.orderIds[0] });
    expect(sameBatch.rejected!.message).toContain(String(a.orderIds[0]));
    v.close();
    clock.t += DAY;
    const v2 = openVenue(file, { now: clock.now });
    const again = await v2.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 992, tif: 'gtc', clientOrderId: 'my-1' });
    expect(again.rejected).toMatchObject({ code: 'DUPLICATE_CLIENT_ORDER_ID', originalOrderId: a.orderIds[0] });
    // a rejected order does not use up its id
    const r1 = await v2.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 5000, tif: 'gtc', clientOrderId: 'my-2' });
    expect(r1.rejected?.code).toBe('PRICE_OUT_OF_BAND');
    const r2 = await v2.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 995, tif: 'gtc', clientOrderId: 'my-2' });
    expect(r2.rejected).toBeUndefined();
    // session scope, when asked for, is the engine's rule
    v2.close();
    const v3 = openVenue(file, { now: clock.now, clientOrderIdScope: 'session' });
    const s = await v3.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 992, tif: 'gtc', clientOrderId: 'my-1' });
    expect(s.rejected).toBeUndefined();
  });
});

describe('order records before the history is written', () => {
  it('order() and open orders read unwritten rows from memory without a write; the written rows agree', async () => {
    const file = tempDb();
    const { v, place, trade } = await market(testClock(START), file, { exclusive: false, historyFlushMs: 60_000, historyFlushRows: 1_000_000 });
    const watermark = (): number => {
      const db = new Database(historyPath(file), { readonly: true });
      try {
        return Number(db.prepare("SELECT value FROM history_meta WHERE key = 'history_seq'").pluck().get());
      } finally {
        db.close();
      }
    };
    v.syncHistory();
    const before = watermark();
    const resting = await place(1, { side: 'buy', price: 990, qty: 7 });
    await trade(2, 3, 1000, 5);
    const filled = (await place(2, { side: 'sell', price: 990, qty: 3, tif: 'ioc' })).orderIds[0]!;
    const a = v.order(resting.orderIds[0]!);
    const b = v.order(filled);
    const open = v.orders({ accountId: 1, status: 'open' }).items;
    expect(a).toMatchObject({ status: 'working', filledQty: 3, leaves: 4 });
    expect(b).toMatchObject({ status: 'filled', filledQty: 3 });
    expect(open.map((r) => r.orderId)).toEqual([resting.orderIds[0]]);
    expect(watermark()).toBe(before); // nothing was written to answer
    // a query that needs the tables writes them first, and they hold the same records
    expect(v.orders({ accountId: 2, status: 'all' }).items.find((r) => r.orderId === filled)).toEqual(b);
    expect(watermark()).toBe(v.lastSeq);
    expect(v.order(resting.orderIds[0]!)).toEqual(a);
    expect(v.order(filled)).toEqual(b);
  });
});

describe('executions, statement, statistics', () => {
  it('executions by account, symbol and date range, paged', async () => {
    const { v, trade, clock } = await market();
    const times: number[] = [];
    for (let d = 0; d < 6; d++) {
      clock.t = START + d * DAY;
      times.push(clock.t);
      await trade(1, 2, 1000 + d, 10, d % 2 ? 'BBB' : 'AAA');
    }
    const mine = allPages((cursor) => v.executions({ accountId: 1, limit: 4, cursor })).flat();
    expect(mine.map((x) => x.ts)).toEqual([...times].reverse());
    expect(mine.every((x) => x.side === 'buy' && x.liquidity === 'taker' && x.accountId === 1)).toBe(true);
    const sellers = v.executions({ accountId: 2 }).items;
    expect(sellers.every((x) => x.side === 'sell' && x.liquidity === 'maker')).toBe(true);
    const range = v.executions({ accountId: 1, from: times[1], to: times[4] }).items;
    expect(range.map((x) => x.price)).toEqual([1003, 1002, 1001]);
    const sym = allPages((cursor) => v.executions({ symbol: 'AAA', limit: 1, cursor })).flat();
    expect(sym.map((x) => x.price)).toEqual([1004, 1004, 1002, 1002, 1000, 1000]);
    expect(v.executions({ symbol: 'BBB', accountId: 2, from: times[3] }).items.map((x) => x.price)).toEqual([1005, 1003]);
    expect(v.recentTrades('AAA', 2)).toEqual([
      { tradeId: 5, symbol: 'AAA', price: 1004, qty: 10, aggressor: 'buy', ts: times[4] },
      { tradeId: 3, symbol: 'AAA', price: 1002, qty: 10, aggressor: 'buy', ts: times[2] },
    ]);
  });

  it('the statement has opening and closing cash and every movement in the range', async () => {
    const { v, trade, clock } = await market();
    clock.t = START + DAY;
    await v.submit({ type: 'Deposit', accountId: 1, amount: 500 });
    clock.t = START + 2 * DAY;
    await trade(1, 2, 1000, 5);
    clock.t = START + 3 * DAY;
    await v.submit({ type: 'Withdraw', accountId: 1, amount: 200 });
    await v.submit({ type: 'Withdraw', accountId: 1, amount: 1e12 }); // rejected: not in the ledger
    const all = v.statement({ accountId: 1 });
    expect(all.items.map((e) => [e.kind, e.amount])).toEqual([
      ['deposit', 10_000_000],
      ['deposit', 500],
      ['trade', -5000],
      ['withdrawal', -200],
    ]);
    expect(all.items.map((e) => e.cash)).toEqual([10_000_000, 10_000_500, 9_995_500, 9_995_300]);
    expect(all.items[2]).toMatchObject({ symbol: 'AAA', tradeId: 1 });
    expect(all.openingCash).toBe(0);
    expect(all.closingCash).toBe(v.view.accountView(1)!.cash);
    const mid = v.statement({ accountId: 1, from: START + DAY + 1, to: START + 3 * DAY });
    expect(mid.items.map((e) => e.kind)).toEqual(['trade']);
    expect(mid.openingCash).toBe(10_000_500);
    expect(mid.closingCash).toBe(9_995_500);
    const paged = allPages((cursor) => v.statement({ accountId: 1, limit: 3, cursor }));
    expect(paged.map((p) => p.length)).toEqual([3, 1]);
    expect(v.statement({ accountId: 2 }).items.map((e) => e.amount)).toEqual([10_000_000, 5000]);
  });

  it('trade statistics by day, week and month with realized P&L', async () => {
    const { v, trade, clock } = await market();
    // Thu 25 Jan: 1 buys 10 @1000; Fri 26 Jan: 1 sells 10 @1010 (+100); Mon 29 Jan: buys 10 @990;
    // Thu 1 Feb: sells 10 @1000 (+100)
    const days = [0, 1, 4, 7];
    const legs: [number, number, number][] = [
      [1, 2, 1000],
      [2, 1, 1010],
      [1, 3, 990],
      [3, 1, 1000],
    ];
    for (let i = 0; i < 4; i++) {
      clock.t = START + days[i]! * DAY;
      await trade(...legs[i]!);
    }
    const d = v.tradeStats({ accountId: 1, period: 'day' });
    expect(d.map((r) => [new Date(r.period).toISOString().slice(0, 10), r.trades, r.buys, r.sells, r.volume, r.notional, r.realizedPnl])).toEqual([
      ['2024-01-25', 1, 1, 0, 10, 10_000, 0],
      ['2024-01-26', 1, 0, 1, 10, 10_100, 100],
      ['2024-01-29', 1, 1, 0, 10, 9_900, 0],
      ['2024-02-01', 1, 0, 1, 10, 10_000, 100],
    ]);
    const w = v.tradeStats({ accountId: 1, period: 'week' });
    expect(w.map((r) => [new Date(r.period).toISOString().slice(0, 10), r.trades, r.realizedPnl])).toEqual([
      ['2024-01-22', 2, 100],
      ['2024-01-29', 2, 100],
    ]);
    const m = v.tradeStats({ accountId: 1, period: 'month' });
    expect(m.map((r) => [new Date(r.period).toISOString().slice(0, 10), r.trades, r.volume, r.realizedPnl])).toEqual([
      ['2024-01-01', 3, 30, 100],
      ['2024-02-01', 1, 10, 100],
    ]);
    expect(v.tradeStats({ accountId: 1, from: START + 4 * DAY }).map((r) => r.trades)).toEqual([1, 1]);
    expect(v.view.accountView(1)!.realizedPnl).toBe(200);
  });
});

describe('candles and the trading day', () => {
  it('a daily bar is a UTC day, whatever the sessions: two sessions on one day share one bar, as in the engine', async () => {
    const clock = testClock(START);
    const { v, trade } = await market(clock);
    await trade(1, 2, 1000);
    clock.t = START + 60_000;
    await v.endSession();
    clock.t = START + 120_000;
    await trade(1, 2, 1010);
    clock.t = START + 86_400_000; // the next UTC day, no session end between
    await trade(1, 2, 990);
    const day = Date.UTC(2024, 0, 25);
    const want = [
      { t: day, o: 1000, h: 1010, l: 1000, c: 1010, v: 20 },
      { t: day + 86_400_000, o: 990, h: 990, l: 990, c: 990, v: 10 },
    ];
    expect(v.candles({ symbol: 'AAA', timeframe: '1d' })).toEqual(want);
    expect(v.view.candles('AAA', '1d')).toEqual(want);
    v.close({ snapshot: false });
  });

  it('candles by symbol, timeframe and range survive a restart, beyond what the engine keeps', async () => {
    const clock = testClock(START);
    const { v, trade, file } = await market(clock, tempDb(), { engine: { candleHistory: 3 } });
    for (let i = 0; i < 8; i++) {
      clock.t = START + i * 60_000 + 5_000;
      await trade(1, 2, 1000 + i);
      clock.t += 10_000;
      await trade(1, 2, 1000 + i + 2);
    }
    const bars = v.candles({ symbol: 'AAA', timeframe: '1m' });
    expect(bars).toHaveLength(8);
    expect(bars[3]).toEqual({ t: START + 3 * 60_000, o: 1003, h: 1005, l: 1003, c: 1005, v: 20 });
    expect(v.view.candles('AAA', '1m')).toHaveLength(4); // the engine keeps 3 closed + the current one
    expect(v.view.candles('AAA', '1m')).toEqual(bars.slice(-4));
    v.close({ snapshot: false });
    const r = openVenue(file, { now: clock.now });
    expect(r.candles({ symbol: 'AAA', timeframe: '1m' })).toEqual(bars);
    expect(r.candles({ symbol: 'AAA', timeframe: '1m', from: START + 2 * 60_000, to: START + 5 * 60_000 }).map((b) => b.o)).toEqual([1002, 1003, 1004]);
    expect(r.candles({ symbol: 'AAA', timeframe: '1m', limit: 2 })).toEqual(bars.slice(-2));
    expect(r.candles({ symbol: 'AAA', timeframe: '5m' })).toEqual([
      { t: START, o: 1000, h: 1006, l: 1000, c: 1006, v: 100 },
      { t: START + 300_000, o: 1005, h: 1009, l: 1005, c: 1009, v: 60 },
    ]);
    // the bar in progress continues correctly after the restart
    clock.t = START + 7 * 60_000 + 30_000;
    await r.submit({ type: 'PlaceOrder', accountId: 2, symbol: 'AAA', side: 'sell', orderType: 'limit', qty: 10, price: 1001, tif: 'gtc' });
    await r.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 10, price: 1001, tif: 'ioc' });
    expect(r.candles({ symbol: 'AAA', timeframe: '1m' }).at(-1)).toEqual({ t: START + 7 * 60_000, o: 1007, h: 1009, l: 1001, c: 1001, v: 30 });
    expect(r.candles({ symbol: 'AAA', timeframe: '1m' }).at(-1)).toEqual(r.view.candles('AAA', '1m').at(-1));
  });

  it('end of session: day orders expire, the previous close is set, the session is recorded', async () => {
    const { v, place, trade, file } = await market();
    await trade(1, 2, 1010);
    const day = await place(1, { side: 'buy', price: 990, tif: 'day' });
    const gtc = await place(1, { side: 'buy', price: 991, tif: 'gtc' });
    const ack = await v.endSession();
    expect(ack.events.map((e) => e.type)).toEqual(['OrderCanceled', 'SessionEnded']);
    expect(v.order(day.orderIds[0]!)).toMatchObject({ status: 'canceled', cancelReason: 'expired' });
    expect(v.order(gtc.orderIds[0]!)).toMatchObject({ status: 'working' });
    expect(v.view.quote('AAA')).toMatchObject({ previousClose: 1010, volume: 0 });
    v.close();
    const db = new Database(historyPath(file), { readonly: true });
    expect(db.prepare('SELECT session, seq FROM sessions').all()).toEqual([{ session: 1, seq: ack.seq }]);
    db.close();
  });
});

describe('history as a whole', () => {
  it('equals a re-derivation from the journal, and the engine, after a long random run with restarts', async () => {
    const file = tempDb();
    let v = openVenue(file, { historyFlushRows: 500, snapshotEvery: 1500 });
    const s = await setUpLoad(v, { accounts: 10 });
    await runLoad(v, s, 200, 21, 'full', async (c, i) => {
      if (c.accountId === s.accounts[0] && i === 120) await v.endSession();
    });
    expectHistoryMatchesEngine(v);
    v.close({ snapshot: false });
    v = openVenue(file);
    await runLoad(v, s, 100, 22);
    expectHistoryMatchesEngine(v);
    const dump = (venue: Venue): unknown => {
      venue.syncHistory();
      const db = (venue as unknown as { db: Database.Database }).db;
      return Object.fromEntries(
        ['orders', 'executions', 'ledger', 'candles', 'sessions'].map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all()]),
      );
    };
    const before = dump(v);
    v.rebuildHistory();
    expect(dump(v)).toEqual(before);
  });
});
