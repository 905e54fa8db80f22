// Imported bars (warm-up history): validated, shown under the live candles, kept through a history rebuild
// and a restart, never journaled.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { Candle } from '../../core/index.js';
import { Venue, historyPath } from '../../venue/index.js';
import { openVenue, tempDb, testClock, T0 } from './helpers.js';

const MIN = 60_000;
const bar = (t: number, c: number): Candle => ({ t, o: c, h: c + 2, l: c - 2, c, v: 10 });

async function setUp(v: Venue): Promise<void> {
  const acks = await v.submitAll([
    { type: 'CreateInstrument', instrument: { symbol: 'ACME', name: 'Acme', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 1000 } },
    { type: 'OpenAccount', accountId: 1, allowShort: true },
    { type: 'OpenAccount', accountId: 2 },
    { type: 'Deposit', accountId: 1, amount: 10_000_000 },
    { type: 'Deposit', accountId: 2, amount: 10_000_000 },
  ]);
  for (const a of acks) expect(a.rejected).toBeUndefined();
}

/** Whether the venue's history thread has imports of bars it has not yet written to its copy. */
function importsPending(v: Venue): boolean {
  return (v as unknown as { history: { thread: { importsPending: boolean } } }).history.thread.importsPending;
}

describe('imported candles', () => {
  it('sit under the live bars, survive a history rebuild and a restart, and are not journaled', async () => {
    const file = tempDb();
    const clock = testClock(T0);
    const v = openVenue(file, { now: clock.now });
    await setUp(v);
    const history = [0, 1, 2, 3, 4].map((k) => bar(T0 - (5 - k) * MIN, 9_990 + k));
    history.push(bar(T0, 5)); // the same start as the first live bar: the live bar wins
    const seq = v.lastSeq;
    expect(v.importCandles('ACME', '1m', history)).toBe(6);
    expect(v.lastSeq).toBe(seq);
    expect(v.importedCandleCount()).toBe(6);

    await v.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'ACME', side: 'sell', orderType: 'limit', price: 10_000, qty: 5, tif: 'day' });
    await v.submit({ type: 'PlaceOrder', accountId: 2, symbol: 'ACME', side: 'buy', orderType: 'market', qty: 5, tif: 'day' });
    clock.t = T0 + MIN;
    await v.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'ACME', side: 'sell', orderType: 'limit', price: 10_010, qty: 5, tif: 'day' });
    await v.submit({ type: 'PlaceOrder', accountId: 2, symbol: 'ACME', side: 'buy', orderType: 'market', qty: 5, tif: 'day' });

    const all = v.candles({ symbol: 'ACME', timeframe: '1m' });
    expect(all.map((c) => c.t)).toEqual([-5, -4, -3, -2, -1, 0, 1].map((k) => T0 + k * MIN));
    expect(all.map((c) => c.c)).toEqual([9_990, 9_991, 9_992, 9_993, 9_994, 10_000, 10_010]);
    // the latest `limit`, and ranges, across both sources
    expect(v.candles({ symbol: 'ACME', timeframe: '1m', limit: 3 }).map((c) => c.c)).toEqual([9_994, 10_000, 10_010]);
    expect(v.candles({ symbol: 'ACME', timeframe: '1m', from: T0 - 2 * MIN, to: T0 + MIN }).map((c) => c.c)).toEqual([9_993, 9_994, 10_000]);
    expect(v.candles({ symbol: 'ACME', timeframe: '1m', limit: 1 }).map((c) => c.c)).toEqual([10_010]);

    // the history reader answers the same from the history file's copy of the imported bars, off the
    // event loop (the venue connection's query is not called), once the thread has written the import
    await vi.waitFor(() => expect(importsPending(v)).toBe(false));
    const onLoop = (v as unknown as { q: { candles: unknown } }).q;
    const loopCandles = onLoop.candles;
    onLoop.candles = () => {
      throw new Error('candles read on the event loop');
    };
    expect(await v.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' })).toEqual(all);
    expect((await v.queryHistory('candles', { symbol: 'ACME', timeframe: '1m', limit: 3 })).map((c) => c.c)).toEqual([9_994, 10_000, 10_010]);
    onLoop.candles = loopCandles;

    v.rebuildHistory();
    expect(v.candles({ symbol: 'ACME', timeframe: '1m' })).toEqual(all);
    expect(await v.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' })).toEqual(all);
    v.close();
    const again = openVenue(file, { now: clock.now });
    expect(again.candles({ symbol: 'ACME', timeframe: '1m' })).toEqual(all);
    expect(await again.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' })).toEqual(all);
    // nothing of the import is in the journal
    const journaled = [...again.journalFrames()].flatMap((f) => f.commands).length;
    expect(journaled).toBe(again.lastSeq);
    again.close();

    // a new history file (made again from the journal) gets the imported bars from the venue file
    for (const f of [historyPath(file), `${historyPath(file)}-wal`, `${historyPath(file)}-shm`]) rmSync(f, { force: true });
    const fresh = openVenue(file, { now: clock.now });
    expect(await fresh.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' })).toEqual(all);
    fresh.close();

    // a copy left behind by a crash between the two files' commits of an import is made again
    const h = new Database(historyPath(file));
    h.exec("DELETE FROM imported_candles WHERE t < " + String(T0 - 2 * MIN));
    h.exec("UPDATE history_meta SET value = 'stale' WHERE key = 'imported_rev'");
    h.close();
    const mended = openVenue(file, { now: clock.now });
    expect(await mended.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' })).toEqual(all);
    // a later import: answered at once (on the event loop while the thread has not copied it), and then
    // from the copy, which the thread writes with the venue file's revision
    expect(mended.importCandles('ACME', '1m', [bar(T0 - 10 * MIN, 9_980)])).toBe(1);
    expect((await mended.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' }))[0]).toEqual(bar(T0 - 10 * MIN, 9_980));
    await vi.waitFor(() => expect(importsPending(mended)).toBe(false));
    expect((await mended.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' }))[0]).toEqual(bar(T0 - 10 * MIN, 9_980));
    mended.close();
    const revs = (): [unknown, unknown] => {
      const h = new Database(historyPath(file), { readonly: true });
      const m = new Database(file, { readonly: true });
      try {
        return [h.prepare("SELECT value FROM history_meta WHERE key = 'imported_rev'").pluck().get(), m.prepare("SELECT value FROM meta WHERE key = 'imported_rev'").pluck().get()];
      } finally {
        h.close();
        m.close();
      }
    };
    const [copyRev, venueRev] = revs();
    expect(copyRev).toBe(venueRev);
    // with the revisions equal, an open keeps the copy as it is (a marker only in the copy survives it)
    const marker = (db: Database.Database): unknown => db.prepare("SELECT count(*) FROM imported_candles WHERE symbol = 'MARK'").pluck().get();
    const hm = new Database(historyPath(file));
    hm.exec("INSERT INTO imported_candles (symbol, tf, t, o, h, l, c, v) VALUES ('MARK', '1m', 0, 1, 1, 1, 1, 0)");
    hm.close();
    openVenue(file, { now: clock.now }).close();
    const hk = new Database(historyPath(file));
    expect(marker(hk)).toBe(1);
    hk.exec("DELETE FROM imported_candles WHERE symbol = 'MARK'");
    hk.close();

    // an import onto a copy that is not at the revision it was made on (one it missed) leaves the copy
    // stale: candle queries are answered by the venue from then on, and the next open copies the bars again
    const missed = openVenue(file, { now: clock.now });
    const hx = new Database(historyPath(file));
    hx.pragma('busy_timeout = 5000');
    hx.exec("DELETE FROM imported_candles WHERE t = " + String(T0 - 5 * MIN));
    hx.exec("UPDATE history_meta SET value = 'missed' WHERE key = 'imported_rev'");
    hx.close();
    missed.importCandles('ACME', '1m', [bar(T0 - 12 * MIN, 9_960)]);
    await new Promise((r) => setTimeout(r, 100));
    expect(importsPending(missed)).toBe(true);
    const withMissed = missed.candles({ symbol: 'ACME', timeframe: '1m' });
    expect(withMissed[0]).toEqual(bar(T0 - 12 * MIN, 9_960));
    expect(withMissed.map((c) => c.t)).toContain(T0 - 5 * MIN);
    expect(await missed.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' })).toEqual(withMissed);
    missed.close();
    const recopied = openVenue(file, { now: clock.now });
    expect(importsPending(recopied)).toBe(false);
    expect(await recopied.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' })).toEqual(withMissed);
    recopied.close();

    // a venue without the history thread (no reader) keeps no copy; one with it makes the copy at open
    const plain = openVenue(file, { now: clock.now, historyThread: false });
    plain.importCandles('ACME', '1m', [bar(T0 - 11 * MIN, 9_970)]);
    expect(plain.candles({ symbol: 'ACME', timeframe: '1m' })[1]).toEqual(bar(T0 - 11 * MIN, 9_970));
    plain.close();
    const hp = new Database(historyPath(file), { readonly: true });
    expect(hp.prepare('SELECT count(*) FROM imported_candles WHERE t = ?').pluck().get(T0 - 11 * MIN)).toBe(0);
    hp.close();
    expect(revs()[0]).not.toBe(revs()[1]);
    const threaded = openVenue(file, { now: clock.now });
    expect((await threaded.queryHistory('candles', { symbol: 'ACME', timeframe: '1m' })).slice(0, 3)).toEqual([bar(T0 - 12 * MIN, 9_960), bar(T0 - 11 * MIN, 9_970), bar(T0 - 10 * MIN, 9_980)]);
    threaded.close();
  });

  it('refuses unknown symbols and timeframes and inconsistent bars', async () => {
    const v = openVenue(tempDb(), { now: testClock().now });
    await setUp(v);
    const bad = (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ code: 'BAD_QUERY' }));
    bad(() => v.importCandles('NOPE', '1m', [bar(T0, 100)]));
    bad(() => v.importCandles('ACME', '2m' as '1m', [bar(T0, 100)]));
    bad(() => v.importCandles('ACME', '1m', [{ ...bar(T0, 100), h: 99 }]));
    bad(() => v.importCandles('ACME', '1m', [bar(T0 + 1, 100)])); // not on the timeframe's grid
    bad(() => v.importCandles('ACME', '1m', [{ ...bar(T0, 100), v: 1.5 }]));
    expect(v.importedCandleCount('ACME')).toBe(0);
  });
});
