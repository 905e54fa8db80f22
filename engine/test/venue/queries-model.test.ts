// Model-based (fast-check): after a random trading history, paging through an account's orders, executions
// and statement with any filter and page size gives exactly the rows a model derives without those
// queries, in order, each once:
// - orders: every order id acknowledged, read one by one with venue.order(id), filtered and sorted in JS;
// - executions and the statement: the account's whole list, filtered by symbol and time range in JS;
//   each order's executions add up to its filled quantity; each ledger entry's cash is the one before
//   plus its amount; a window's opening and closing cash are the balances around it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderRecord } from '../../protocol/index.js';
import { openVenue, runLoad, setUpLoad, tempDb, testClock } from './helpers.js';

type Status = 'open' | 'filled' | 'canceled' | 'rejected' | 'all';
const OPEN = new Set(['working', 'pending_trigger', 'pending_parent']);

function pages<T>(get: (cursor?: string) => { items: T[]; nextCursor?: string }, limit: number): T[] {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 10_000; n++) {
    const p = get(cursor);
    expect(p.items.length).toBeLessThanOrEqual(limit);
    out.push(...p.items);
    cursor = p.nextCursor;
    if (cursor === undefined) return out;
    // a page that says more follows is full
    expect(p.items.length).toBe(limit);
  }
  throw new Error('paging did not end');
}

const queryArb = fc.record({
  account: fc.nat({ max: 5 }),
  status: fc.constantFrom<Status>('open', 'filled', 'canceled', 'rejected', 'all'),
  symbol: fc.option(fc.constantFrom('SYM0', 'SYM1', 'SYM2'), { nil: undefined }),
  limit: fc.integer({ min: 1, max: 40 }),
  // a time window as fractions of the history's span (either end open)
  from: fc.option(fc.double({ min: -0.1, max: 1.1, noNaN: true }), { nil: undefined }),
  to: fc.option(fc.double({ min: -0.1, max: 1.1, noNaN: true }), { nil: undefined }),
});

/**
 * A venue with a random trading history: 6 accounts on 3 symbols, `perClient` commands each from the
 * seeded load, each a random 0 to `maxGapMs` after the last (so time ranges and periods cut through it).
 * `at(f)` is the time a fraction f of the way through it (undefined stays undefined).
 */
async function randomHistory(seed: number, startTs: number, perClient: number, maxGapMs: number) {
  const clock = testClock(startTs);
  const v = openVenue(tempDb(), { now: clock.now });
  const setup = await setUpLoad(v, { accounts: 6, symbols: 3 });
  let r = seed;
  await runLoad(v, setup, perClient, seed, 'full', () => {
    r = (r * 1_103_515_245 + 12_345) % 2_147_483_648;
    clock.t += r % maxGapMs;
  });
  const end = clock.t + 1;
  const at = (f: number | undefined): number | undefined => (f === undefined ? undefined : Math.max(0, Math.round(startTs + f * (end - startTs))));
  return { v, setup, at };
}

describe('history queries against a model', () => {
  it('orders, executions and the statement: any filter, range and page size gives the model rows in order, each once', { timeout: 180_000 }, async () => {
    let checked = 0;
    let rows = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.array(queryArb, { minLength: 15, maxLength: 30 }), async (seed, queries) => {
        // commands up to 2 s apart
        const { v, setup, at } = await randomHistory(seed, testClock().t, 100, 2000);
        try {
          // the model's orders: every id the venue gave out (ids are sequential; 600 commands give well under 3,000)
          const records: OrderRecord[] = [];
          for (let id = 1; id <= 3000; id++) {
            const o = v.order(id);
            if (o !== undefined) records.push(o);
          }
          expect(records.at(-1)!.orderId, 'the probe covered every id').toBeLessThan(2900);
          for (const q of queries) {
            const accountId = setup.accounts[q.account % setup.accounts.length]!;
            // orders
            const want = records
              .filter((o) => o.accountId === accountId && (q.symbol === undefined || o.symbol === q.symbol))
              .filter((o) => q.status === 'all' || (q.status === 'open' ? OPEN.has(o.status) : o.status === q.status))
              .sort((a, b) => b.orderId - a.orderId);
            const got = pages<OrderRecord>((cursor) => v.orders({ accountId, status: q.status, symbol: q.symbol, limit: q.limit, cursor }), q.limit);
            expect(got, JSON.stringify(q)).toEqual(want);
            rows += got.length;
            // executions: the whole list, then the filtered pages
            const from = at(q.from);
            const to = at(q.to);
            if (from !== undefined && to !== undefined && from >= to) continue;
            const allX = pages((cursor) => v.executions({ accountId, limit: 5000, cursor }), 5000);
            const byOrder = new Map<number, number>();
            for (const x of allX) byOrder.set(x.orderId, (byOrder.get(x.orderId) ?? 0) + x.qty);
            for (const o of records) if (o.accountId === accountId) expect(byOrder.get(o.orderId) ?? 0, `fills of ${o.orderId}`).toBe(o.filledQty);
            const inRange = (ts: number): boolean => (from === undefined || ts >= from) && (to === undefined || ts < to);
            const wantX = allX.filter((x) => (q.symbol === undefined || x.symbol === q.symbol) && inRange(x.ts));
            const gotX = pages((cursor) => v.executions({ accountId, symbol: q.symbol, from, to, limit: q.limit, cursor }), q.limit);
            expect(gotX, JSON.stringify(q)).toEqual(wantX);
            rows += gotX.length;
            // statement: the whole ledger is a running balance ending at the engine's cash
            const all = v.statement({ accountId, limit: 10_000 });
            let cash = 0;
            for (const e of all.items) {
              cash += e.amount;
              expect(e.cash, 'running balance').toBe(cash);
            }
            expect(all.closingCash).toBe(v.view.accountView(accountId)!.cash);
            const wantE = all.items.filter((e) => inRange(e.ts));
            const firstIn = all.items.findIndex((e) => inRange(e.ts));
            const before = all.items.filter((e) => from !== undefined && e.ts < from);
            const window = v.statement({ accountId, from, to, limit: 10_000 });
            expect(window.items, JSON.stringify(q)).toEqual(wantE);
            const opening = before.length > 0 ? before[before.length - 1]!.cash : 0;
            expect(window.openingCash, JSON.stringify(q)).toBe(opening);
            expect(window.closingCash, JSON.stringify(q)).toBe(wantE.length > 0 ? wantE[wantE.length - 1]!.cash : opening);
            if (firstIn >= 0) expect(all.items[firstIn]).toEqual(wantE[0]);
            const paged = pages((cursor) => v.statement({ accountId, from, to, limit: q.limit, cursor }), q.limit);
            expect(paged).toEqual(wantE);
            rows += paged.length;
            checked++;
          }
        } finally {
          v.close();
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 10), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    // the histories were rich enough for the checks to mean something
    expect(checked).toBeGreaterThan(50);
    expect(rows).toBeGreaterThan(5_000);
  });
});

describe('trade statistics against a model', () => {
  it('per day, ISO week and month, over any range: the executions grouped in JS', { timeout: 180_000 }, async () => {
    const DAY = 86_400_000;
    const periodStart = (ts: number, p: 'day' | 'week' | 'month'): number => {
      const d = Math.floor(ts / DAY);
      if (p === 'day') return d * DAY;
      // 1970-01-01 was a Thursday: a Monday-based week starts (d + 3) % 7 days earlier
      if (p === 'week') return (d - ((d + 3) % 7)) * DAY;
      const date = new Date(ts);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    };
    let periods = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.record({ account: fc.nat({ max: 5 }), period: fc.constantFrom('day' as const, 'week' as const, 'month' as const), from: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), to: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) }), { minLength: 10, maxLength: 20 }),
        async (seed, queries) => {
          // about two months: commands up to 9 hours apart, across day, week and month ends
          const { v, setup, at } = await randomHistory(seed, Date.UTC(2024, 0, 27, 20, 0, 0), 60, 9 * 3_600_000);
          try {
            for (const q of queries) {
              const accountId = setup.accounts[q.account % setup.accounts.length]!;
              const from = at(q.from);
              const to = at(q.to);
              if (from !== undefined && to !== undefined && from >= to) continue;
              const xs = pages((cursor) => v.executions({ accountId, from, to, limit: 5000, cursor }), 5000);
              const want = new Map<number, { period: number; trades: number; buys: number; sells: number; volume: number; notional: number; realizedPnl: number }>();
              for (const x of [...xs].reverse()) {
                const p = periodStart(x.ts, q.period);
                const row = want.get(p) ?? { period: p, trades: 0, buys: 0, sells: 0, volume: 0, notional: 0, realizedPnl: 0 };
                row.trades++;
                if (x.side === 'buy') row.buys++;
                else row.sells++;
                row.volume += x.qty;
                row.notional += x.price * x.qty;
                row.realizedPnl += x.realizedPnl;
                want.set(p, row);
              }
              const got = v.tradeStats({ accountId, period: q.period, from, to });
              expect(got, JSON.stringify(q)).toEqual([...want.values()].sort((a, b) => a.period - b.period));
              periods += got.length;
            }
          } finally {
            v.close();
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 6), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect(periods).toBeGreaterThan(200);
  });
});

describe('candles against a model', () => {
  it('every timeframe and range: the trade prints grouped in JS, and the engine bars it still holds', { timeout: 180_000 }, async () => {
    const TF: Record<'1m' | '5m' | '15m' | '1h' | '1d', number> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 };
    let bars = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.record({ symbol: fc.constantFrom('SYM0', 'SYM1', 'SYM2'), tf: fc.constantFrom(...(Object.keys(TF) as (keyof typeof TF)[])), from: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), to: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), limit: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) }), { minLength: 10, maxLength: 20 }),
        async (seed, queries) => {
          // a couple of days of trading: commands up to 8 minutes apart
          const { v, at } = await randomHistory(seed, Date.UTC(2024, 1, 28, 22, 0, 0), 80, 480_000);
          try {
            for (const q of queries) {
              const from = at(q.from);
              const to = at(q.to);
              if (from !== undefined && to !== undefined && from >= to) continue;
              const prints = v.recentTrades(q.symbol, 10_000).reverse();
              expect(prints.length).toBeLessThan(10_000);
              const ms = TF[q.tf];
              const model = new Map<number, { t: number; o: number; h: number; l: number; c: number; v: number }>();
              for (const p of prints) {
                const t = Math.floor(p.ts / ms) * ms;
                const b = model.get(t);
                if (b === undefined) model.set(t, { t, o: p.price, h: p.price, l: p.price, c: p.price, v: p.qty });
                else Object.assign(b, { h: Math.max(b.h, p.price), l: Math.min(b.l, p.price), c: p.price, v: b.v + p.qty });
              }
              // bars whose start is in [from, to), oldest first; the latest `limit` of them
              let want = [...model.values()].filter((b) => (from === undefined || b.t >= from) && (to === undefined || b.t < to));
              if (q.limit !== undefined) want = want.slice(-q.limit);
              const got = v.candles({ symbol: q.symbol, timeframe: q.tf, from, to, ...(q.limit !== undefined ? { limit: q.limit } : {}) });
              expect(got.map(({ t, o, h, l, c, v: vol }) => ({ t, o, h, l, c, v: vol })), JSON.stringify(q)).toEqual(want);
              // the engine's own bars (the latest it keeps) agree with the history's
              const mem = v.view.candles(q.symbol, q.tf);
              const all = v.candles({ symbol: q.symbol, timeframe: q.tf, limit: 5000 });
              expect(all.slice(-mem.length).map(({ t, o, h, l, c, v: vol }) => ({ t, o, h, l, c, v: vol }))).toEqual(mem.map(({ t, o, h, l, c, v: vol }) => ({ t, o, h, l, c, v: vol })));
              bars += got.length;
            }
          } finally {
            v.close();
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 6), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect(bars).toBeGreaterThan(300);
  });
});
