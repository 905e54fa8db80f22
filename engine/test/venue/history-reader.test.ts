// History queries on the reader thread (Venue.queryHistory): they answer exactly what the same query called
// directly answers, errors included, for queries drawn at random over a random trading history; their SQL
// runs off the event loop; a reader that cannot open its file, or is closed, rejects with a typed error, and
// a query whose reader is lost is answered on the sequencer.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HistoryReader } from '../../venue/history-reader.js';
import { VenueError, historyPath, isVenueError, type HistoryMethod, type Venue } from '../../venue/index.js';
import { openVenue, runLoad, setUpLoad, tempDb, tempDir } from './helpers.js';

type Outcome = { ok: unknown } | { error: string };

async function outcome(f: () => unknown): Promise<Outcome> {
  try {
    return { ok: await f() };
  } catch (e) {
    if (!isVenueError(e)) throw e;
    return { error: `${e.code}: ${e.message}` };
  }
}

/** The query called directly, on the venue's connection. */
function direct(v: Venue, method: HistoryMethod, arg: Record<string, unknown>): unknown {
  switch (method) {
    case 'orders':
      return v.orders(arg);
    case 'executions':
      return v.executions(arg);
    case 'statement':
      return v.statement(arg as never);
    case 'tradeStats':
      return v.tradeStats(arg as never);
    case 'recentTrades':
      return v.recentTrades(arg.symbol as string, arg.limit as number | undefined);
    case 'candles':
      return v.candles(arg as never);
  }
}

describe('history queries on the reader thread', () => {
  it('answer what the query called directly answers, for random queries over a random history (fast-check), pages and errors included', async () => {
    const v = openVenue(tempDb(), { historyCommitMs: 20 });
    const s = await setUpLoad(v, { accounts: 6 });
    await runLoad(v, s, 60, 7);
    const accounts = [...s.accounts, 999];
    const symbols = [...s.symbols, 'NOPE'];
    const now = Date.now();
    // absent (weight `none`) or drawn (weight 1)
    const opt = <T>(a: fc.Arbitrary<T>, none = 2): fc.Arbitrary<T | undefined> => fc.oneof({ arbitrary: fc.constant(undefined), weight: none }, { arbitrary: a, weight: 1 });
    const limit = opt(fc.oneof({ arbitrary: fc.integer({ min: 1, max: 40 }), weight: 6 }, { arbitrary: fc.constantFrom(0, -1, 1.5, 20_000), weight: 1 }), 1);
    const range = { from: opt(fc.integer({ min: now - 60_000, max: now + 1000 })), to: opt(fc.integer({ min: now - 60_000, max: now + 60_000 })) };
    const badCursor = opt(fc.constantFrom('o.x', 'x.1', 'l.1.2.3', 'garbage', 'o.9007199254740993'), 8);
    const query = fc.oneof(
      fc.record({
        method: fc.constant('orders' as const),
        arg: fc.record({
          accountId: opt(fc.constantFrom(...accounts)),
          status: opt(fc.constantFrom('all', 'open', 'filled', 'canceled', 'rejected', 'working', ['filled', 'canceled'], 'bogus')),
          symbol: opt(fc.constantFrom(...symbols)),
          ...range,
          limit,
          cursor: badCursor,
        }),
      }),
      fc.record({ method: fc.constant('executions' as const), arg: fc.record({ accountId: opt(fc.constantFrom(...accounts)), symbol: opt(fc.constantFrom(...symbols)), ...range, limit, cursor: badCursor }) }),
      fc.record({ method: fc.constant('statement' as const), arg: fc.record({ accountId: fc.constantFrom(...accounts), ...range, limit, cursor: badCursor }) }),
      fc.record({ method: fc.constant('tradeStats' as const), arg: fc.record({ accountId: fc.constantFrom(...accounts), ...range, period: opt(fc.constantFrom('day', 'week', 'month')) }) }),
      fc.record({ method: fc.constant('recentTrades' as const), arg: fc.record({ symbol: fc.constantFrom(...symbols), limit }) }),
      fc.record({ method: fc.constant('candles' as const), arg: fc.record({ symbol: fc.constantFrom(...symbols), timeframe: fc.constantFrom('1m', '5m', '1h'), ...range, limit }) }),
    );
    let pages = 0;
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(query, fc.integer({ min: 0, max: 20 }), async ({ method, arg }, orders) => {
        // trading goes on between queries: each sees everything acknowledged before it
        if (orders > 0) await runLoad(v, { ...s, accounts: s.accounts.slice(0, 2) }, Math.ceil(orders / 2), orders);
        let a: Record<string, unknown> = arg;
        // follow the pages while there are more (up to 5)
        for (let page = 0; page < 5; page++) {
          const viaReader = await outcome(() => v.queryHistory(method, a as never));
          const here = await outcome(() => direct(v, method, a));
          expect(viaReader).toEqual(here);
          if ('error' in viaReader) {
            errors++;
            break;
          }
          const next = (viaReader.ok as { nextCursor?: string }).nextCursor;
          if (next === undefined) break;
          pages++;
          a = { ...a, cursor: next };
        }
      }),
      { numRuns: 150, seed: 20261206 },
    );
    // the runs did page through results and did meet bad input
    expect(pages).toBeGreaterThan(10);
    expect(errors).toBeGreaterThan(10);
  }, 120_000);

  it('runs their SQL off the event loop', async () => {
    const file = tempDb();
    const v = openVenue(file);
    const s = await setUpLoad(v, { accounts: 2 });
    await runLoad(v, s, 20, 3);
    const accountId = s.accounts[0]!;
    // a long history for one account, written beside the venue (the query only reads it)
    const h = new Database(historyPath(file));
    h.pragma('busy_timeout = 10000');
    h.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
      INSERT INTO executions (exec_id, trade_id, order_id, account_id, symbol, side, price, qty, liquidity, realized_pnl, ts, seq)
      SELECT 1000000000 + i, 1000000000 + i, 1, ${accountId}, 'X', CASE i % 2 WHEN 0 THEN 'buy' ELSE 'sell' END, 100 + i % 7, 1 + i % 3, 'maker', i % 5, 86400000 * (i % 300), 0 FROM n`);
    h.close();
    const q = { accountId, period: 'month' as const };
    await v.queryHistory('tradeStats', q); // the reader thread is started
    const expected = v.tradeStats(q);
    let last = performance.now();
    let longest = 0;
    const tick = setInterval(() => {
      const t = performance.now();
      longest = Math.max(longest, t - last);
      last = t;
    }, 1);
    const t0 = performance.now();
    const got = await v.queryHistory('tradeStats', q);
    const readerMs = performance.now() - t0;
    clearInterval(tick);
    longest = Math.max(longest, performance.now() - last);
    expect(got).toEqual(expected);
    // the query is long enough that holding the event loop for it would show
    expect(readerMs).toBeGreaterThan(40);
    expect(longest, `longest event-loop gap ${longest.toFixed(1)} ms during a ${readerMs.toFixed(1)} ms query`).toBeLessThan(readerMs / 2);
  }, 60_000);

  it('a reader that cannot open its file is lost (VENUE_FAILED, onLost told); one closed rejects what it has not answered, and is not lost', async () => {
    const lost: Error[] = [];
    const missing = new HistoryReader(path.join(tempDir(), 'no-such-history.db'), (e) => lost.push(e));
    const err = await missing.read('orders', {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVenueError(err, 'VENUE_FAILED'), String(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/Reading history failed: the history reader thread could not open .*no-such-history\.db: .*(unable to open|no such file|does not exist)/i);
    expect(lost.map((e) => e.message)).toEqual([expect.stringMatching(/could not open/)]);
    expect(missing.ended && missing.openFailed).toBe(true);
    await expect(missing.read('orders', {})).rejects.toMatchObject({ code: 'VENUE_FAILED' });

    const file = tempDb();
    openVenue(file);
    const closedLost: Error[] = [];
    const r = new HistoryReader(historyPath(file), (e) => closedLost.push(e));
    expect(await r.read('orders', {})).toEqual({ items: [] });
    // an argument that cannot be sent to the thread is a bad query, and leaves nothing waiting
    await expect(r.read('orders', { accountId: (() => 1) as never })).rejects.toMatchObject({ code: 'BAD_QUERY' });
    const unanswered = r.read('executions', { limit: 5 });
    r.close();
    await expect(unanswered).rejects.toMatchObject({ code: 'VENUE_CLOSED' });
    await expect(r.read('orders', {})).rejects.toMatchObject({ code: 'VENUE_CLOSED' });
    // its thread ends after close(): that is not losing it
    await new Promise((res) => setTimeout(res, 200));
    expect(closedLost).toEqual([]);
    expect(r.openFailed).toBe(false);
    // closed with a reason: what it has not answered rejects with that
    const failing = new HistoryReader(historyPath(file), () => undefined);
    const pending = failing.read('orders', {});
    failing.close(new VenueError('VENUE_FAILED', 'stopped'));
    await expect(pending).rejects.toMatchObject({ code: 'VENUE_FAILED', message: 'stopped' });
  });

  it('a query whose reader ends while it answers is answered on the sequencer; after a reader could not open the file, all are', async () => {
    const v = openVenue(tempDb());
    const s = await setUpLoad(v, { accounts: 3 });
    await runLoad(v, s, 20, 5);
    const q = { accountId: s.accounts[0]!, limit: 50 };
    const expected = v.orders(q);
    const real = HistoryReader.prototype.read;
    const openFailed = Object.getOwnPropertyDescriptor(HistoryReader.prototype, 'openFailed')!;
    onTestFinished(() => {
      HistoryReader.prototype.read = real;
      Object.defineProperty(HistoryReader.prototype, 'openFailed', openFailed);
    });
    let reads = 0;
    // The seam: each reader is closed as it is handed a query, as if its thread had ended.
    HistoryReader.prototype.read = function (this: HistoryReader, ...a: Parameters<HistoryReader['read']>) {
      reads++;
      const p = real.apply(this, a);
      this.close(new VenueError('VENUE_FAILED', 'Reading history failed: the thread ended (simulated)'));
      return p;
    } as HistoryReader['read'];
    expect(await v.queryHistory('orders', q)).toEqual(expected);
    expect(await v.queryHistory('orders', q)).toEqual(expected);
    expect(reads).toBe(2); // a new reader for the second query
    // a reader that could not open the file: the venue stops starting them
    Object.defineProperty(HistoryReader.prototype, 'openFailed', { get: () => true, configurable: true });
    expect(await v.queryHistory('orders', q)).toEqual(expected);
    expect(await v.queryHistory('executions', { accountId: s.accounts[1]! })).toEqual(v.executions({ accountId: s.accounts[1]! }));
    expect(reads).toBe(3);
  });
});
