// The history writer thread on its own: it reports a file it cannot open instead of hanging or throwing
// later, writes batches in order with their watermark, and makes the sequencer wait once it is too far
// behind. A venue whose thread does not start writes its history (and snapshots) itself. A venue's history
// file can be kept elsewhere, and is refused to another venue.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { HistoryThread, READER_GAP_MS, type RowStatement } from '../../venue/history-thread.js';
import { Venue, VenueError, historyPath, isVenueError } from '../../venue/index.js';
import { expectHistoryMatchesEngine, openVenue, runLoad, setUpLoad, tempDb, tempDir } from './helpers.js';

const STMTS: RowStatement[] = [{ one: 'INSERT INTO t (a, b) VALUES (?, ?)', many: 'INSERT INTO t (a, b) VALUES (?, ?), (?, ?)', width: 2, chunk: 2 }];
const MARK = "INSERT OR REPLACE INTO m (k, v) VALUES ('seq', ?)";

/** A history file with the tables STMTS and MARK write. */
function historyFile(): { file: string; db: Database.Database } {
  const file = path.join(tempDir(), 'h.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (a INTEGER, b TEXT); CREATE TABLE m (k TEXT PRIMARY KEY, v TEXT)');
  onTestFinished(() => {
    db.close();
  });
  return { file, db };
}

/** A thread of its own that holds `file`'s write lock for `ms` from when this resolves. */
async function holdWriteLock(file: string, ms: number): Promise<Worker> {
  const holder = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const db = new (require(workerData.sqlite))(workerData.file);
     db.exec('BEGIN IMMEDIATE');
     parentPort.postMessage('held');
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
     db.exec('COMMIT');
     db.close();`,
    { eval: true, workerData: { sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), file, ms } },
  );
  await new Promise((resolve) => holder.once('message', resolve));
  return holder;
}

describe('the history writer thread', () => {
  it('reports a file it cannot open as VENUE_FAILED when asked whether it is ready', () => {
    const t = new HistoryThread(path.join(tempDir(), 'no', 'such', 'dir', 'h.db'), STMTS, MARK, 0, () => undefined);
    let err: unknown;
    try {
      t.waitReady(10_000);
    } catch (e) {
      err = e;
    }
    expect(isVenueError(err, 'VENUE_FAILED'), String(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/Writing history failed: .*(directory|open)/i);
    t.close(1000);
  });

  it('writes the batches handed over, in order, with the watermark of the last', () => {
    const { file, db } = historyFile();
    const t = new HistoryThread(file, STMTS, MARK, 0, () => undefined);
    t.waitReady();
    t.post({ seq: 3, rows: [[[1, 2, 3], ['x', 'y', 'z']]] });
    t.post({ seq: 5, rows: [[[4], ['w']]] });
    t.waitWritten(5);
    expect(t.written).toBe(5);
    expect(db.prepare('SELECT a, b FROM t ORDER BY rowid').all()).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
      { a: 3, b: 'z' },
      { a: 4, b: 'w' },
    ]);
    expect(db.prepare("SELECT v FROM m WHERE k = 'seq'").pluck().get()).toBe('5');
    t.close();
  });

  it('makes the caller wait once it is more than maxLag commands behind, until it has caught up to half', async () => {
    const { file, db } = historyFile();
    const waits: number[] = [];
    const t = new HistoryThread(file, STMTS, MARK, 0, () => undefined, { maxLag: 10, onWait: (ms) => waits.push(ms) });
    t.waitReady();
    // Another thread holds the file's write lock for 400 ms, so the writer is stuck behind it meanwhile.
    const holder = await holdWriteLock(file, 400);
    let t0 = performance.now();
    t.post({ seq: 4, rows: [[[1, 2, 3, 4], ['a', 'b', 'c', 'd']]] });
    t.post({ seq: 10, rows: [[[5], ['e']]] }); // 10 behind: not more than maxLag, so no wait
    expect(performance.now() - t0).toBeLessThan(150);
    expect(t.written).toBe(0);
    expect(waits).toEqual([]);
    t0 = performance.now();
    t.post({ seq: 12, rows: [[[6], ['f']]] }); // 12 behind: waits until 12 - written <= 5, i.e. everything before is written
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThan(200); // the lock was held for 400 ms from before the first post
    expect(t.written).toBeGreaterThanOrEqual(10);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(200);
    expect(waits[0]).toBeLessThanOrEqual(waited);
    t.waitWritten(12);
    expect(db.prepare('SELECT a FROM t ORDER BY rowid').pluck().all()).toEqual([1, 2, 3, 4, 5, 6]);
    t.close();
    await holder.terminate();
  });

  it('with commitMs, holds the batches handed over and commits them together: after commitMs, or at once for whoever waits, before a snapshot, and on close', async () => {
    const { file, db } = historyFile();
    db.exec('CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, hash TEXT NOT NULL, next_order_id INTEGER NOT NULL, crc INTEGER NOT NULL, data TEXT NOT NULL)');
    const rows = (): unknown[] => db.prepare('SELECT a FROM t ORDER BY rowid').pluck().all();
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    // held for a minute: only a wait, a snapshot or close commits
    const t = new HistoryThread(file, STMTS, MARK, 0, () => undefined, { commitMs: 60_000 });
    t.waitReady();
    t.post({ seq: 2, rows: [[[1, 2], ['a', 'b']]] });
    t.post({ seq: 3, rows: [[[3], ['c']]] });
    await sleep(300);
    expect(t.written).toBe(0);
    expect(rows()).toEqual([]);
    // a waiter has them committed at once, in one transaction with the watermark of the last
    const t0 = performance.now();
    t.waitWritten(2);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(t.written).toBe(3);
    expect(rows()).toEqual([1, 2, 3]);
    expect(db.prepare("SELECT v FROM m WHERE k = 'seq'").pluck().get()).toBe('3');
    // a snapshot is written after the rows handed over before it
    t.post({ seq: 4, rows: [[[4], ['d']]] });
    t.postSnapshot({ seq: 4, ts: 1, nextOrderId: 1, keep: 3 });
    t.postSnapshotPart(4, '{}', 'h');
    for (let i = 0; i < 100 && t.written < 4; i++) await sleep(20);
    expect(t.written).toBe(4);
    expect(db.prepare('SELECT seq FROM snapshots').pluck().all()).toEqual([4]);
    expect(rows()).toEqual([1, 2, 3, 4]);
    // close writes what it holds
    t.post({ seq: 5, rows: [[[5], ['e']]] });
    await sleep(100);
    expect(t.written).toBe(4);
    t.close();
    expect(rows()).toEqual([1, 2, 3, 4, 5]);
    expect(db.prepare("SELECT v FROM m WHERE k = 'seq'").pluck().get()).toBe('5');
    // and without a waiter, commitMs after the first batch arrived
    const u = new HistoryThread(file, STMTS, MARK, 5, () => undefined, { commitMs: 200 });
    u.waitReady();
    u.post({ seq: 6, rows: [[[6], ['f']]] });
    await sleep(50);
    u.post({ seq: 7, rows: [[[7], ['g']]] });
    expect(u.written).toBe(5);
    for (let i = 0; i < 100 && u.written < 7; i++) await sleep(20);
    expect(u.written).toBe(7);
    expect(rows()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    u.close();
    // and without a waiter, once the batches held cover commitCommands commands
    const c = new HistoryThread(file, STMTS, MARK, 7, () => undefined, { commitMs: 60_000, commitCommands: 10 });
    c.waitReady();
    c.post({ seq: 12, rows: [[[8], ['h']]] }); // 5 commands
    await sleep(200);
    expect(c.written).toBe(7);
    c.post({ seq: 17, rows: [[[9], ['i']]] }); // 10
    for (let i = 0; i < 100 && c.written < 17; i++) await sleep(20);
    expect(c.written).toBe(17);
    expect(rows()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    c.close();
  });

  it('keeps the process alive while a reader waits without blocking (Atomics.waitAsync alone does not)', async () => {
    const { file } = historyFile();
    const t = new HistoryThread(file, STMTS, MARK, 0, () => undefined);
    t.waitReady();
    // the thread cannot commit while another connection holds the write lock
    const holder = await holdWriteLock(file, 300);
    // The timers the wait sets and clears, watched directly (counting the process's timers is not exact:
    // the test worker has timers of its own that come and go).
    const set = vi.spyOn(globalThis, 'setInterval');
    const clear = vi.spyOn(globalThis, 'clearInterval');
    try {
      t.post({ seq: 1, rows: [[[1], ['a']]] });
      const waited = t.whenWritten(1);
      expect(set).toHaveBeenCalledTimes(1);
      const keep = set.mock.results[0]!.value as NodeJS.Timeout;
      expect(keep.hasRef()).toBe(true); // this is what keeps the process alive
      expect(clear).not.toHaveBeenCalled();
      await waited;
      expect(t.written).toBe(1);
      expect(clear).toHaveBeenCalledWith(keep);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
    await holder.terminate();
    t.close();
  });

  it('with commitMs, commits for a reader that does not block at once, or READER_GAP_MS after the last commit', async () => {
    const { file, db } = historyFile();
    const t = new HistoryThread(file, STMTS, MARK, 0, () => undefined, { commitMs: 60_000 });
    t.waitReady();
    t.post({ seq: 1, rows: [[[1], ['a']]] });
    await t.whenWritten(1); // nothing committed yet: at once
    const t0 = performance.now();
    t.post({ seq: 2, rows: [[[2], ['b']]] });
    await t.whenWritten(2); // the last commit was just now: READER_GAP_MS after it
    expect(performance.now() - t0).toBeGreaterThanOrEqual(READER_GAP_MS / 2);
    expect(db.prepare('SELECT a FROM t ORDER BY rowid').pluck().all()).toEqual([1, 2]);
    // a waiter that blocks does not wait for the gap (a test of its timing would be flaky; it commits)
    t.post({ seq: 3, rows: [[[3], ['c']]] });
    t.waitWritten(3);
    expect(t.written).toBe(3);
    t.close();
  });

  it('joins a snapshot from its parts as they are, when the last one (with the hash) arrives, and stores it under that hash, not one of what it joined', () => {
    const { file, db } = historyFile();
    db.exec('CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, hash TEXT NOT NULL, next_order_id INTEGER NOT NULL, crc INTEGER NOT NULL, data TEXT NOT NULL)');
    const t = new HistoryThread(file, STMTS, MARK, 0, () => undefined);
    t.waitReady();
    t.post({ seq: 7, rows: [[[1], ['x']]] });
    // the hash is the sender's: here deliberately not that of the JSON joined, as after a wrong join
    t.postSnapshot({ seq: 7, ts: 1, nextOrderId: 4, keep: 3 });
    t.postSnapshotPart(7, '{"a":1,"orders":[{"id":1},');
    t.postSnapshotPart(7, '{"id":2}');
    // a part of another snapshot is not joined to this one
    t.postSnapshotPart(8, ',{"id":99}');
    t.postSnapshotPart(7, ',{"id":3}],"z":2}', 'sender-hash');
    t.close();
    const row = db.prepare('SELECT seq, hash, next_order_id AS next, crc, data FROM snapshots').get() as { seq: number; hash: string; next: number; crc: number; data: string };
    const data = '{"a":1,"orders":[{"id":1},{"id":2},{"id":3}],"z":2}';
    expect(row).toEqual({ seq: 7, hash: 'sender-hash', next: 4, crc: crc32(data), data });
    expect(JSON.parse(row.data)).toEqual({ a: 1, orders: [{ id: 1 }, { id: 2 }, { id: 3 }], z: 2 });
  });
});

describe('queries through queryHistory', () => {
  it('wait for the history thread without holding up sequencing, and include everything acknowledged before the call', async () => {
    const file = tempDb();
    const v = openVenue(file, { historyCommitMs: 60_000 });
    const s = await setUpLoad(v, { accounts: 2 });
    const accountId = s.accounts[0]!;
    const symbol = s.symbols[0]!;
    // resting buys below the market (lots of 10, within the price band)
    const place = (price: number) => v.submit({ type: 'PlaceOrder', accountId, symbol, side: 'buy', orderType: 'limit', qty: 10, price, tif: 'gtc' });
    expect((await place(9_500)).rejected).toBeUndefined();
    // another connection holds the history file's write lock for 400 ms: the thread cannot commit meanwhile
    const holder = await holdWriteLock(historyPath(file), 400);
    const t0 = performance.now();
    const acked = (await place(9_501)).orderIds[0];
    let answered = 0;
    const query = v.queryHistory('orders', { accountId }).then((page) => {
      answered = performance.now();
      return page;
    });
    // sequencing goes on while the query waits for the thread
    const later = await place(9_502);
    const sequenced = performance.now();
    expect(later.rejected).toBeUndefined();
    expect(answered).toBe(0);
    const page = await query;
    expect(answered - t0).toBeGreaterThan(200); // the thread could commit only once the lock was released
    expect(sequenced).toBeLessThan(answered);
    // everything acknowledged before the call, in the tables
    expect(page.items.map((o) => o.orderId)).toContain(acked);
    expect(page.items.length).toBeGreaterThanOrEqual(2);
    // a query called directly still includes everything acknowledged before it
    expect(v.orders({ accountId }).items.map((o) => o.orderId)).toContain(later.orderIds[0]);
    await holder.terminate();
  });
});

describe('a venue whose history thread does not start', () => {
  it('reports it and writes history and snapshots on the sequencer instead', async () => {
    // The seam: the thread is started, then the venue asks whether it is ready.
    const ready = HistoryThread.prototype.waitReady;
    HistoryThread.prototype.waitReady = function (): void {
      throw new VenueError('VENUE_FAILED', 'Writing history failed: the thread could not start (simulated)');
    };
    onTestFinished(() => {
      HistoryThread.prototype.waitReady = ready;
    });
    const errors: string[] = [];
    const file = tempDb();
    const v = openVenue(file, { onError: (e, where) => errors.push(`${where}: ${(e as Error).message}`) });
    expect(errors).toEqual(['history thread (history is written by the sequencer instead): Writing history failed: the thread could not start (simulated)']);
    const s = await setUpLoad(v, { accounts: 4 });
    await runLoad(v, s, 40, 21);
    expectHistoryMatchesEngine(v);
    const seq = v.snapshot();
    v.close({ snapshot: false });
    HistoryThread.prototype.waitReady = ready;
    // the snapshot was written on the sequencer: to the venue file's own table
    const main = new Database(file, { readonly: true });
    const hist = new Database(historyPath(file), { readonly: true });
    expect(main.prepare('SELECT seq FROM snapshots').pluck().all()).toEqual([seq]);
    expect(hist.prepare('SELECT count(*) FROM snapshots').pluck().get()).toBe(0);
    expect(hist.prepare("SELECT value FROM history_meta WHERE key = 'history_seq'").pluck().get()).toBe(String(v.lastSeq));
    main.close();
    hist.close();
    const r = openVenue(file); // with its thread this time
    expect(r.recovery.snapshotSeq).toBe(seq);
    expect(r.recovery.replayed).toBe(0);
    expectHistoryMatchesEngine(r);
    r.close();
  });
});

describe('a history file kept elsewhere (historyFile)', () => {
  it('is written where it is asked and reopened from there; a new one is filled from the journal', async () => {
    const file = tempDb();
    const elsewhere = path.join(tempDir(), 'elsewhere.db');
    const v = openVenue(file, { historyFile: elsewhere });
    expect(v.historyFile).toBe(elsewhere);
    const s = await setUpLoad(v, { accounts: 4 });
    await runLoad(v, s, 30, 5);
    expectHistoryMatchesEngine(v);
    const hash = v.view.stateHash();
    v.close();
    expect(existsSync(historyPath(file))).toBe(false);
    const hist = new Database(elsewhere, { readonly: true });
    expect(hist.prepare('SELECT count(*) FROM orders').pluck().get()).toBeGreaterThan(0);
    expect(hist.prepare("SELECT value FROM history_meta WHERE key = 'history_seq'").pluck().get()).toBe(String(v.lastSeq));
    hist.close();

    const again = openVenue(file, { historyFile: elsewhere });
    expect(again.recovery.historyRebuilt).toBe(false);
    expect(again.view.stateHash()).toBe(hash);
    expectHistoryMatchesEngine(again);
    again.close();

    // moved back beside the venue: a new file there, filled from the journal
    const beside = openVenue(file);
    // its snapshots were in the other file: the whole journal is replayed, deriving the history as it goes
    expect(beside.recovery.snapshotSeq).toBe(0);
    expect(beside.recovery.replayed).toBe(beside.lastSeq);
    expect(beside.view.stateHash()).toBe(hash);
    expectHistoryMatchesEngine(beside);
    beside.close();
    expect(existsSync(historyPath(file))).toBe(true);
  });

  it("refuses another venue's history file (DB_FOREIGN) and leaves both venues usable", async () => {
    const shared = path.join(tempDir(), 'shared-history.db');
    const a = openVenue(tempDb(), { historyFile: shared });
    const s = await setUpLoad(a, { accounts: 2 });
    await runLoad(a, s, 5, 3);
    a.close();
    const other = tempDb();
    let err: unknown;
    try {
      Venue.open(other, { historyFile: shared });
    } catch (e) {
      err = e;
    }
    expect(isVenueError(err, 'DB_FOREIGN'), String(err)).toBe(true);
    expect((err as Error).message).toBe(`${shared} is the history file of another venue`);
    // neither file was changed: the first venue reopens on it, the second beside its own file
    const back = openVenue(a.path, { historyFile: shared });
    expect(back.recovery.historyRebuilt).toBe(false);
    expectHistoryMatchesEngine(back);
    back.close();
    const b = openVenue(other);
    expect(b.recovery.created).toBe(false);
    b.close();
    // nor can the venue database be its own history file
    let self: unknown;
    try {
      Venue.open(other, { historyFile: path.join(path.dirname(other), '.', path.basename(other)) });
    } catch (e) {
      self = e;
    }
    expect(isVenueError(self, 'DB_FOREIGN'), String(self)).toBe(true);
    expect((self as Error).message).toBe(`The history file cannot be the venue database itself (${other})`);
    openVenue(other).close();
  });
});
