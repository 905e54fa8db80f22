/**
 * With the journal fsynced after COMMIT (fsync 'background', the server's setting), the history thread never
 * commits rows for commands whose journal frames may not be on the disk yet: on its own it commits only what
 * the venue has acknowledged (HistoryThread.durableTo); asked to commit now, it fdatasyncs the venue's WAL
 * first. Otherwise a power cut could keep
 * the history file's commit and lose the journal's frames: history ahead of the journal, which the next open
 * can only mend by deriving all of it again. Without the thread, the venue writes history on its own
 * connection after syncing the journal itself. Seen under strace (fixtures/history-durable-run.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTraced, straceEvents, type StraceEvent } from '../support/strace.js';
import { openVenue, setUpLoad, tempDb, tempDir } from './helpers.js';

/** Holds the event loop (so that it cannot hear a journal fsync return) for `ms`. */
function holdLoop(ms: number): void {
  for (const end = performance.now() + ms; performance.now() < end; );
}

describe('history and a journal fsynced in the background', () => {
  it('rows written before their journal fsync returned: the history thread syncs the journal first; rows acknowledged: it does not', () => {
    const dir = tempDir();
    const { log, out } = runTraced<{ pid: number }>('engine/test/venue/fixtures/history-durable-run.ts', [dir], ['openat', 'fsync', 'fdatasync', 'pwrite64'], join(dir, 'trace'));
    const events = straceEvents(log);
    const at = (marker: string): number => events.findIndex((e) => e.call.startsWith('openat(') && e.call.includes(`"${join(dir, marker)}"`));
    const window = (from: string, to: string): StraceEvent[] => events.slice(at(from), at(to));
    const historyWrite = (e: StraceEvent): boolean => /^pwrite64\(\d+<[^>]*\/venue\.db-history-wal>/.test(e.call);
    const journalSync = (e: StraceEvent): boolean => /^f(data)?sync\(\d+<[^>]*\/venue\.db-wal>\)\s*= 0/.test(e.call);

    const first = window('before', 'handed');
    const writers = new Set(first.filter(historyWrite).map((e) => e.tid));
    // one thread writes the history, and it is not the event loop's
    expect(writers.size).toBe(1);
    const [writer] = writers;
    expect(writer).not.toBe(out.pid);
    const firstWrite = first.findIndex((e) => e.tid === writer && historyWrite(e));
    const sync = first.findIndex((e) => e.tid === writer && journalSync(e));
    expect(sync).toBeGreaterThanOrEqual(0);
    // its sync of the journal returned before its first write of the history began
    expect(first[sync]!.end).toBeLessThan(first[firstWrite]!.start);

    const second = window('acked', 'closing');
    expect(second.some((e) => e.tid === writer && historyWrite(e))).toBe(true);
    expect(second.filter((e) => e.tid === writer && journalSync(e))).toEqual([]);

    // rows handed over at every group commit and committed by the thread on its own: it waits for their
    // acknowledgement (it commits what the venue has acknowledged) and never syncs the journal itself
    const flow = events.slice(at('flow'), at('flow-end'));
    const flowWrite = (e: StraceEvent): boolean => /^pwrite64\(\d+<[^>]*\/flow\.db-history-wal>/.test(e.call);
    const flowWriters = new Set(flow.filter(flowWrite).map((e) => e.tid));
    expect(flowWriters.size).toBe(1);
    const [flowWriter] = flowWriters;
    expect(flowWriter).not.toBe(out.pid);
    expect(flow.filter((e) => e.tid === flowWriter && /^f(data)?sync\(\d+<[^>]*\/flow\.db-wal>\)/.test(e.call))).toEqual([]);

    // without the thread: every write of the history file's WAL comes after a sync of every journal frame
    // written before it (the last journal write before it is followed by a sync that returned before it)
    const direct = events.slice(at('direct'), at('direct-end'));
    const directHistory = direct.filter((e) => /^pwrite64\(\d+<[^>]*\/direct\.db-history-wal>/.test(e.call));
    const directJournal = direct.filter((e) => /^pwrite64\(\d+<[^>]*\/direct\.db-wal>/.test(e.call));
    const directSyncs = direct.filter((e) => /^f(data)?sync\(\d+<[^>]*\/direct\.db-wal>\)\s*= 0/.test(e.call));
    expect(directHistory.length).toBeGreaterThan(20);
    const unsynced = directHistory.filter((h) => {
      const before = directJournal.filter((j) => j.end < h.start);
      const last = before[before.length - 1];
      return last !== undefined && !directSyncs.some((f) => f.start > last.end && f.end < h.start);
    });
    expect(unsynced).toEqual([]);

    // reopening a killed venue's files: recovery writes history only after a sync of the journal it found
    const reopen = events.slice(at('reopen'), at('reopen-end'));
    const firstHistory = reopen.findIndex((e) => /^pwrite64\(\d+<[^>]*\/crashed\.db-history-wal>/.test(e.call));
    expect(firstHistory).toBeGreaterThan(0);
    const syncedFirst = reopen.findIndex((e) => /^f(data)?sync\(\d+<[^>]*\/crashed\.db-wal>\)\s*= 0/.test(e.call));
    expect(syncedFirst).toBeGreaterThanOrEqual(0);
    expect(reopen[syncedFirst]!.end).toBeLessThan(reopen[firstHistory]!.start);
  });

  it("a query waiting for rows held back for their journal fsync is answered once it returns, not at the thread's next turn; if the venue fails, at once", async () => {
    // the thread's turn is a minute away: only its looks for the waiting reader can answer within the test
    const v = openVenue(tempDb(), { fsync: 'background', historyCommitMs: 60_000, historyFlushMs: 60_000 });
    const setup = await setUpLoad(v, { symbols: 1, accounts: 1 });
    const accountId = setup.accounts[0]!;
    const order = { type: 'PlaceOrder', accountId, symbol: setup.symbols[0]!, side: 'buy', orderType: 'limit', price: 9_000, qty: 10, tif: 'day' } as const;
    const placed = v.submit(order);
    await new Promise((r) => setImmediate(r)); // committed; its fsync runs on the thread pool
    const query = v.queryHistory('orders', { accountId, status: 'all' });
    // the thread looks while the event loop cannot yet say the fsync returned; it must look again
    holdLoop(50);
    const ack = await placed;
    expect((await query).items.map((o) => o.orderId)).toContain(ack.orderIds[0]);

    // a venue that fails while a query waits for rows that will not be acknowledged: the query fails now
    const again = v.submit(order);
    await new Promise((r) => setImmediate(r));
    const waiting = expect(v.queryHistory('orders', { accountId, status: 'all' })).rejects.toMatchObject({ code: 'VENUE_FAILED' });
    // (committed: a failed fsync leaves its outcome unknown)
    const refused = expect(again).rejects.toMatchObject({ code: 'VENUE_OUTCOME_UNKNOWN' });
    (v as unknown as { fail(e: unknown, batch: unknown[], o: { syncFailed: boolean }): void }).fail(new Error('a journal fsync failed'), [], { syncFailed: true });
    await waiting;
    await refused;
  }, 20_000);
});
