// Durability and recovery of the venue on real SQLite files: group commit, acknowledgements after commit,
// crash images, torn and damaged journals, snapshots, schema versions and refusal of foreign files.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../core/index.js';
import { MIGRATIONS, Venue, historyPath, isVenueError, type Ack } from '../../venue/index.js';
import { expectHistoryMatchesEngine, openVenue, runLoad, setUpLoad, tempDb, tempDir, testClock } from './helpers.js';

const MIGRATIONS_ALL = MIGRATIONS.map((m) => m.version);

/**
 * What a crash at this instant leaves on disk: a copy of the database and its WAL. The history file is left
 * behind (it is written by a thread, so a copy of it would not be of one instant): recovery re-derives it
 * from the journal, which these images also check. With `history`, the caller has waited for the thread to
 * write everything it was handed (Venue.syncHistory), so it is idle and the history file and its WAL are
 * copied too: recovery then starts from the newest snapshot the thread wrote.
 */
function crashImage(file: string, history = false): string {
  const to = path.join(tempDir(), 'crashed.db');
  const copy = (from: string, into: string): void => {
    fs.copyFileSync(from, into);
    if (fs.existsSync(`${from}-wal`)) fs.copyFileSync(`${from}-wal`, `${into}-wal`);
  };
  copy(file, to);
  if (history) copy(historyPath(file), historyPath(to));
  return to;
}

function expectVenueError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(isVenueError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected VenueError ${code}`);
}

describe('group commit and acknowledgements', () => {
  it('commands of one tick share one journal frame, and each is journaled when its ack arrives', async () => {
    const v = openVenue(tempDb());
    const s = await setUpLoad(v, { accounts: 4 });
    const before = [...v.journalFrames()].length;
    const seen: number[] = [];
    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        v.submit({ type: 'Deposit', accountId: s.accounts[i % 4]!, amount: 100 + i }).then((a) => {
          // by the time an ack arrives, its command is in the journal
          const last = [...v.journalFrames(a.seq - 1)].at(-1)!;
          expect(last.seq + last.commands.length - 1).toBeGreaterThanOrEqual(a.seq);
          seen.push(a.seq);
          return a;
        }),
      ),
    );
    const frames = [...v.journalFrames()];
    expect(frames.length).toBe(before + 1);
    const f = frames.at(-1)!;
    expect(f.commands.length).toBe(50);
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 50 }, (_, i) => f.seq + i));
    expect(new Set(acks.map((a) => a.ts)).size).toBe(1);
    expect(seen.length).toBe(50);
  });

  it('commitWindowMs gathers commands from several ticks into one commit', async () => {
    // a window far longer than five turns of the event loop, even on a busy machine
    const v = openVenue(tempDb(), { commitWindowMs: 500 });
    const s = await setUpLoad(v, { accounts: 2 });
    const before = [...v.journalFrames()].length;
    const p: Promise<Ack>[] = [];
    for (let i = 0; i < 5; i++) {
      p.push(v.submit({ type: 'Deposit', accountId: s.accounts[0]!, amount: 1 }));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(p);
    expect([...v.journalFrames()].length).toBe(before + 1);
  });

  it('asserts its durability settings: WAL, synchronous FULL by default or NORMAL when asked, lock, busy timeout', () => {
    const a = openVenue(tempDb(), { platform: 'linux' });
    expect(a.durability()).toEqual({ journalMode: 'wal', synchronous: 'FULL', lockingMode: 'exclusive', busyTimeoutMs: 5000, walAutoCheckpoint: 1000, walSizeLimit: 64 * 2 ** 20, fullFsync: false });
    const b = openVenue(tempDb(), { synchronous: 'NORMAL', busyTimeoutMs: 250, exclusive: false, platform: 'linux' });
    expect(b.durability()).toEqual({ journalMode: 'wal', synchronous: 'NORMAL', lockingMode: 'normal', busyTimeoutMs: 250, walAutoCheckpoint: 1000, walSizeLimit: 64 * 2 ** 20, fullFsync: false });
  });

  it("on macOS SQLite syncs with F_FULLFSYNC (Apple's fsync leaves the data in the drive's cache); elsewhere as it is", () => {
    expect(openVenue(tempDb(), { platform: 'darwin' }).durability()).toMatchObject({ synchronous: 'FULL', fullFsync: true });
    expect(openVenue(tempDb(), { platform: 'darwin', fsync: 'background' }).durability()).toMatchObject({ fsync: 'background', fullFsync: true });
    expect(openVenue(tempDb(), { platform: 'win32' }).durability().fullFsync).toBe(false);
    expect(openVenue(tempDb()).durability().fullFsync).toBe(process.platform === 'darwin');
  });

  it('background fsync: batches are acknowledged and published in order once the WAL is synced; close settles the rest', async () => {
    const file = tempDb();
    const v = openVenue(file, { fsync: 'background' });
    expect(v.durability()).toMatchObject({ synchronous: 'NORMAL', fsync: 'background' }); // SQLite does not sync; the venue does
    const published: number[] = [];
    v.onCommit((batch) => published.push(...batch.map((c) => c.seq)));
    const order: number[] = [];
    const p: Promise<Ack>[] = [];
    for (let i = 1; i <= 300; i++) {
      p.push(v.submit({ type: 'OpenAccount', accountId: i }).then((a) => (order.push(a.seq), a)));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r)); // several group commits, some while a sync runs
    }
    const acks = await Promise.all(p);
    expect(acks.every((a) => a.rejected === undefined)).toBe(true);
    expect(order).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(published).toEqual(order);
    // submitted, not yet committed or synced when close() runs: close commits, syncs and acknowledges them
    const late = [301, 302, 303].map((id) => v.submit({ type: 'OpenAccount', accountId: id }));
    v.close();
    expect((await Promise.all(late)).map((a) => a.seq)).toEqual([301, 302, 303]);
    const again = openVenue(file, { fsync: 'background' });
    expect(again.lastSeq).toBe(303);
    expect(again.view.accountIds().length).toBe(303);
  });

  it('durable() resolves once every command committed before the call is acknowledged, not before', async () => {
    const v = openVenue(tempDb(), { fsync: 'background' });
    const acked = new Set<number>();
    for (let i = 1; i <= 200; i++) void v.submit({ type: 'OpenAccount', accountId: i }).then((a) => acked.add(a.seq));
    // committed (the group commit runs on the next turn), its fsync started on the thread pool, not yet back
    await new Promise((r) => setImmediate(r));
    const committed = v.lastSeq;
    expect(committed).toBeGreaterThan(0);
    expect(acked.size).toBeLessThan(committed);
    await v.durable();
    for (let s = 1; s <= committed; s++) expect(acked.has(s), `seq ${s}`).toBe(true);
    // nothing pending: at once
    await v.durable();
    v.close();
    await expect(v.durable()).resolves.toBeUndefined();
  });

  it('time stamps never go backwards even when the clock does', async () => {
    const clock = testClock();
    const v = openVenue(tempDb(), { now: clock.now });
    const s = await setUpLoad(v, { accounts: 1 });
    const a = await v.submit({ type: 'Deposit', accountId: s.accounts[0]!, amount: 1 });
    clock.t -= 60_000;
    const b = await v.submit({ type: 'Deposit', accountId: s.accounts[0]!, amount: 1 });
    expect(b.ts).toBe(a.ts);
    clock.t = Number.NaN;
    expect((await v.submit({ type: 'Deposit', accountId: s.accounts[0]!, amount: 1 })).ts).toBe(a.ts);
  });
});

describe('crash recovery', () => {
  it('a crash at any moment keeps every acknowledged command and recovers the exact state', async () => {
    const file = tempDb();
    const v = openVenue(file, { snapshotEvery: 700, historyFlushRows: 300 });
    const s = await setUpLoad(v, { accounts: 12 });
    const images: { file: string; seq: number; hash: string; history: boolean }[] = [];
    await runLoad(v, s, 250, 3, 'full', async (c, i) => {
      if (c.accountId === s.accounts[1] && i % 90 === 45) await v.endSession();
      if (c.accountId === s.accounts[0] && i % 60 === 59) {
        // synchronous: no commit can slip between reading the state and copying the files; every other
        // image also has the history file, with the snapshots its thread wrote
        const history = images.length % 2 === 1;
        if (history) v.syncHistory();
        images.push({ seq: v.lastSeq, hash: v.stateHash(), file: crashImage(file, history), history });
      }
    });
    expect(images.length).toBeGreaterThan(3);
    let fromThreadSnapshot = 0;
    for (const img of images) {
      const r = Venue.open(img.file);
      try {
        if (img.history && r.recovery.snapshotSeq > 0) fromThreadSnapshot++;
        expect(r.recovery.historyRebuilt).toBe(false);
        expect(r.recovery.snapshotsSkipped).toEqual([]);
        expect(r.recovery.recoveredTo).toBe(img.seq);
        expect(r.stateHash()).toBe(img.hash);
        expect(r.recovery.discarded).toEqual([]);
        expect(r.replayFromScratch().engine.stateHash()).toBe(img.hash);
        expect(r.invariants()).toEqual([]);
        expectHistoryMatchesEngine(r);
      } finally {
        r.close({ snapshot: false });
      }
    }
    // snapshots are taken every 700 commands, so most images with the history file start from one
    expect(fromThreadSnapshot).toBeGreaterThan(0);
  });

  it('restarts give the same state from a snapshot and from the journal alone', async () => {
    const file = tempDb();
    let v = openVenue(file);
    const s = await setUpLoad(v, { accounts: 8 });
    await runLoad(v, s, 150, 11);
    const hash = v.stateHash();
    const seq = v.lastSeq;
    v.close({ snapshot: false });
    v = openVenue(file);
    expect(v.recovery).toMatchObject({ snapshotSeq: 0, replayed: seq, recoveredTo: seq, discarded: [] });
    expect(v.stateHash()).toBe(hash);
    v.close();
    v = openVenue(file);
    expect(v.recovery).toMatchObject({ snapshotSeq: seq, replayed: 0, recoveredTo: seq });
    expect(v.stateHash()).toBe(hash);
    // and the venue goes on where it stopped: order ids continue, nothing is reused
    const maxId = Math.max(...v.orders({ limit: 1 }).items.map((o) => o.orderId));
    const a = await v.submit({ type: 'PlaceOrder', accountId: s.accounts[1]!, symbol: 'SYM0', side: 'buy', orderType: 'limit', qty: 10, price: 9_500, tif: 'gtc' });
    expect(a.orderIds[0]).toBe(maxId + 1);
    expectHistoryMatchesEngine(v);
  });

  it('a transaction torn by a crash mid-write is dropped whole: the state is that of the last complete commit', async () => {
    const file = tempDb();
    const v = openVenue(file);
    const s = await setUpLoad(v, { accounts: 4 });
    await runLoad(v, s, 40, 5);
    const hash = v.stateHash();
    const seq = v.lastSeq;
    const walBefore = fs.statSync(`${file}-wal`).size;
    const dbBefore = fs.readFileSync(file);
    // one more big commit: the write we "tear"
    await Promise.all(Array.from({ length: 300 }, (_, i) => v.submit({ type: 'Deposit', accountId: s.accounts[i % 4]!, amount: 1 + i })));
    const walAfter = fs.statSync(`${file}-wal`).size;
    expect(walAfter).toBeGreaterThan(walBefore);
    expect(fs.readFileSync(file).equals(dbBefore)).toBe(true); // no checkpoint in between
    for (const cut of [walBefore + Math.floor((walAfter - walBefore) / 2), walAfter - 100]) {
      const img = crashImage(file);
      fs.truncateSync(`${img}-wal`, cut);
      const r = Venue.open(img);
      try {
        expect(r.recovery.recoveredTo).toBe(seq);
        expect(r.stateHash()).toBe(hash);
        expect(r.recovery.discarded).toEqual([]);
        expectHistoryMatchesEngine(r);
      } finally {
        r.close({ snapshot: false });
      }
    }
  });

  it('a damaged last frame refuses to open, as damage before it does (SQLite leaves no torn commit: it was acknowledged); set aside when asked, its seqs and order ids are never given out again', async () => {
    const file = tempDb();
    let v = openVenue(file);
    const s = await setUpLoad(v, { accounts: 6 });
    await runLoad(v, s, 60, 8);
    const order = { type: 'PlaceOrder', accountId: s.accounts[0]!, symbol: s.symbols[0]!, side: 'buy', orderType: 'limit', price: 9_000, qty: 10, tif: 'gtc' } as const;
    const lastAck = await v.submit(order); // the last frame, alone
    expect(lastAck.orderIds.length).toBe(1);
    const hashBefore = v.replayFromScratch(lastAck.seq - 1).engine.stateHash();
    v.close({ snapshot: false });
    const db = new Database(file);
    db.prepare('UPDATE journal SET crc = crc + 1 WHERE seq = ?').run(lastAck.seq);
    db.close();
    expectVenueError(() => Venue.open(file), 'JOURNAL_CORRUPT');
    v = openVenue(file, { onDamagedJournal: 'truncate' });
    expect(v.recovery.discarded).toEqual([{ seq: lastAck.seq, n: 1, reason: 'CRC mismatch' }]);
    expect(v.recovery.recoveredTo).toBe(lastAck.seq); // the journal's position: what is set aside is not given out again
    expect(v.recovery.historyRebuilt).toBe(true);
    expect(v.stateHash()).toBe(hashBefore);
    expect(v.replayFromScratch().engine.stateHash()).toBe(hashBefore);
    expectHistoryMatchesEngine(v);
    v.close({ snapshot: false });
    // opened again (nothing damaged now), before any new command: the counters still pass what was set aside
    v = openVenue(file);
    expect(v.lastSeq).toBe(lastAck.seq);
    const next = await v.submit(order);
    expect(next.seq).toBe(lastAck.seq + 1);
    expect(next.orderIds[0]).toBeGreaterThan(lastAck.orderIds[0]!);
    const hash = v.stateHash();
    v.close({ snapshot: false });
    v = openVenue(file);
    expect(v.recovery.discarded).toEqual([]);
    expect(v.lastSeq).toBe(next.seq);
    expect(v.stateHash()).toBe(hash);
    expect(v.replayFromScratch().engine.stateHash()).toBe(hash);
    expect(v.order(next.orderIds[0]!)?.orderId).toBe(next.orderIds[0]);
    expect(v.order(lastAck.orderIds[0]!)).toBeUndefined();
    expectHistoryMatchesEngine(v);
    v.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT seq, n, reason FROM journal_quarantine').all()).toEqual([{ seq: lastAck.seq, n: 1, reason: 'CRC mismatch' }]);
    check.close();
  });

  it('damage followed by intact frames refuses to open (acknowledged commands would be lost), or truncates when asked', async () => {
    const file = tempDb();
    const v = openVenue(file);
    const s = await setUpLoad(v, { accounts: 6 });
    await runLoad(v, s, 60, 9);
    const frames = [...v.journalFrames()];
    const bad = frames[Math.floor(frames.length / 2)]!;
    const end = v.lastSeq;
    v.close({ snapshot: false });
    const db = new Database(file);
    db.prepare("UPDATE journal SET data = replace(data, '[', '{') WHERE seq = ?").run(bad.seq);
    db.close();
    expectVenueError(() => Venue.open(file), 'JOURNAL_CORRUPT');
    const t = openVenue(file, { onDamagedJournal: 'truncate' });
    expect(t.recovery.recoveredTo).toBe(end); // the state is that of the commands before bad.seq; the rest is set aside
    expect(t.stateHash()).toBe(t.replayFromScratch(bad.seq - 1).engine.stateHash());
    expect(t.recovery.discarded.map((d) => d.seq)).toEqual(frames.filter((f) => f.seq >= bad.seq).map((f) => f.seq));
    expect(t.recovery.discarded[0]!.reason).toBe('CRC mismatch');
    expect(t.replayFromScratch().engine.stateHash()).toBe(t.stateHash());
    expectHistoryMatchesEngine(t);
  });

  it('a journal that ends before its history watermark and snapshots refuses to open (JOURNAL_TRUNCATED) and leaves the history as it was; proceeds when asked', async () => {
    const file = tempDb();
    let v = openVenue(file);
    const s = await setUpLoad(v, { accounts: 4 });
    await runLoad(v, s, 30, 21);
    v.close();
    // an older copy of the venue file (a rolled-back volume, a backup of it alone)
    const old = path.join(tempDir(), 'old.db');
    fs.copyFileSync(file, old);
    if (fs.existsSync(`${file}-wal`)) fs.copyFileSync(`${file}-wal`, `${old}-wal`);
    v = openVenue(file);
    const oldEnd = v.lastSeq;
    await runLoad(v, s, 30, 22);
    v.snapshot();
    await runLoad(v, s, 10, 23);
    const end = v.lastSeq;
    v.close();
    const orderRows = (): number => {
      const h = new Database(historyPath(file), { readonly: true });
      try {
        return h.prepare('SELECT count(*) FROM orders').pluck().get() as number;
      } finally {
        h.close();
      }
    };
    const rows = orderRows();
    expect(rows).toBeGreaterThan(0);
    // the venue file goes back; the newer history file stays
    fs.copyFileSync(old, file);
    fs.rmSync(`${file}-wal`, { force: true });
    if (fs.existsSync(`${old}-wal`)) fs.copyFileSync(`${old}-wal`, `${file}-wal`);
    try {
      Venue.open(file).close();
      throw new Error('opened');
    } catch (e) {
      expect(isVenueError(e, 'JOURNAL_TRUNCATED'), String(e)).toBe(true);
      expect((e as Error).message).toContain(`ends at ${oldEnd}`);
      expect((e as Error).message).toContain(`${end}`);
    }
    expect(orderRows()).toBe(rows); // the history that shows the loss is left alone
    // with synchronous NORMAL, under which a power cut may take the journal's last commits, it proceeds unasked
    const copy = path.join(tempDir(), 'copy.db');
    for (const [from, to] of [[file, copy], [historyPath(file), historyPath(copy)]] as const)
      for (const end of ['', '-wal']) if (fs.existsSync(from + end)) fs.copyFileSync(from + end, to + end);
    const normal = openVenue(copy, { synchronous: 'NORMAL' });
    expect(normal.lastSeq).toBe(oldEnd);
    expect(normal.recovery.historyRebuilt).toBe(true);
    normal.close();
    v = openVenue(file, { onJournalBehind: 'proceed' });
    expect(v.lastSeq).toBe(oldEnd);
    expect(v.recovery.historyRebuilt).toBe(true);
    expectHistoryMatchesEngine(v);
    v.close();
    // a history file that is missing (or behind) is still filled from the journal, without being asked
    fs.rmSync(historyPath(file), { force: true });
    fs.rmSync(`${historyPath(file)}-wal`, { force: true });
    v = openVenue(file);
    expect(v.lastSeq).toBe(oldEnd);
    expectHistoryMatchesEngine(v);
  });

  // Snapshots taken with the history thread are written by it to the history file; without it, to the venue
  // file. 'data' changes a snapshot's JSON under its CRC; 'join' also recomputes the CRC, which is what a wrong
  // join of the parts by the thread would leave (the thread joins them, the sequencer hashes them): data that
  // parses and restores, but not to the state that was hashed.
  it.each([
    { historyThread: true, where: 'the history file', damage: 'data', reason: 'CRC mismatch' },
    { historyThread: false, where: 'the venue file', damage: 'data', reason: 'CRC mismatch' },
    { historyThread: true, where: 'the history file', damage: 'join', reason: 'restored state hash differs from the recorded one' },
    { historyThread: false, where: 'the venue file', damage: 'join', reason: 'restored state hash differs from the recorded one' },
  ])('a snapshot in $where damaged in its $damage is skipped ($reason): recovery falls back to an older one', async ({ historyThread, damage, reason }) => {
    const file = tempDb();
    let v = openVenue(file, { historyThread });
    const s = await setUpLoad(v, { accounts: 6 });
    await runLoad(v, s, 40, 10);
    const first = v.snapshot();
    await runLoad(v, s, 40, 12);
    const hash = v.stateHash();
    v.close();
    const db = new Database(historyThread ? historyPath(file) : file);
    const other = new Database(historyThread ? file : historyPath(file));
    expect(other.prepare('SELECT count(*) FROM snapshots').pluck().get()).toBe(0);
    other.close();
    const newest = db.prepare('SELECT max(seq) FROM snapshots').pluck().get() as number;
    expect(db.prepare('SELECT count(*) FROM snapshots').pluck().get()).toBe(2); // the explicit one and the closing one
    const data = (db.prepare('SELECT data FROM snapshots WHERE seq = ?').pluck().get(newest) as string).replace('"cash":', '"cash":1');
    if (damage === 'data') db.prepare('UPDATE snapshots SET data = ? WHERE seq = ?').run(data, newest);
    else db.prepare('UPDATE snapshots SET data = ?, crc = ? WHERE seq = ?').run(data, crc32(data), newest);
    db.close();
    v = openVenue(file, { historyThread });
    expect(v.recovery.snapshotsSkipped).toEqual([{ seq: newest, reason }]);
    expect(v.recovery.snapshotSeq).toBe(first);
    expect(v.stateHash()).toBe(hash);
    v.close();
  });

  it('snapshots of both files are candidates: the newest usable one is restored, whichever file holds it', async () => {
    const file = tempDb();
    let v = openVenue(file, { historyThread: false });
    const s = await setUpLoad(v, { accounts: 4 });
    await runLoad(v, s, 30, 14);
    const inVenueFile = v.snapshot();
    v.close({ snapshot: false });
    v = openVenue(file); // with the thread
    expect(v.recovery.snapshotSeq).toBe(inVenueFile);
    await runLoad(v, s, 30, 15);
    const inHistoryFile = v.snapshot();
    expect(inHistoryFile).toBeGreaterThan(inVenueFile);
    await runLoad(v, s, 10, 16);
    const hash = v.stateHash();
    v.close({ snapshot: false });
    v = openVenue(file, { historyThread: false });
    expect(v.recovery.snapshotSeq).toBe(inHistoryFile);
    expect(v.stateHash()).toBe(hash);
    expectHistoryMatchesEngine(v);
    v.close();
  });

  it('a snapshot of a book larger than one part reaches the history file whole while trading goes on', async () => {
    const file = tempDb();
    let v = openVenue(file);
    await v.submit({ type: 'CreateInstrument', instrument: { symbol: 'BIG', name: 'Big book', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 5000 } });
    await v.submit({ type: 'OpenAccount', accountId: 1, allowShort: true });
    await v.submit({ type: 'Deposit', accountId: 1, amount: 1e12 });
    const place = (n: number, from: number) =>
      Promise.all(
        Array.from({ length: n }, (_, k) =>
          v.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'BIG', side: 'buy', orderType: 'limit', qty: 1 + (k % 3), price: 9_000 + ((from + k) % 900), tif: 'gtc', clientOrderId: `c${from + k}` }),
        ),
      );
    for (let i = 0; i < 4_500; i += 500) await place(500, i); // three parts of orders
    const seq = v.snapshot();
    const atSnapshot = v.stateHash();
    await place(300, 10_000); // sequenced while the parts are being handed over
    const hash = v.stateHash();
    v.close({ snapshot: false });
    const hist = new Database(historyPath(file), { readonly: true });
    const row = hist.prepare('SELECT seq, hash FROM snapshots').get() as { seq: number; hash: string };
    hist.close();
    // the JSON put together by the thread is the engine's snapshot at seq (its hash is the state hash then)
    expect(row).toEqual({ seq, hash: atSnapshot });
    v = openVenue(file, { verifySnapshot: true });
    expect(v.recovery.snapshotSeq).toBe(seq);
    expect(v.recovery.snapshotsSkipped).toEqual([]);
    expect(v.recovery.replayed).toBe(300);
    expect(v.stateHash()).toBe(hash);
    v.close();
  });

  it('a failed commit stops the venue; nothing acknowledged is lost and reopening recovers', async () => {
    const file = tempDb();
    const fatal: unknown[] = [];
    const v = openVenue(file, { onFatal: (e) => fatal.push(e) });
    const s = await setUpLoad(v, { accounts: 4 });
    await runLoad(v, s, 30, 13);
    const seq = v.lastSeq;
    const hash = v.stateHash();
    const journal = (v as unknown as { journal: { append: (...a: unknown[]) => void } }).journal;
    journal.append = () => {
      throw new Error('disk I/O error (simulated)');
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => v.submit({ type: 'Deposit', accountId: s.accounts[0]!, amount: 5 })));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.code).toBe('VENUE_FAILED');
    }
    expect(fatal).toHaveLength(1);
    await expect(v.submit({ type: 'EndSession' })).rejects.toMatchObject({ code: 'VENUE_FAILED' });
    v.close();
    const r = openVenue(file);
    expect(r.recovery.recoveredTo).toBe(seq);
    expect(r.stateHash()).toBe(hash);
    expect(checkInvariants(r.replayFromScratch().engine)).toEqual([]);
  });
});

describe('history on and off', () => {
  it('a venue run without history derives the missing history from the journal when reopened with it', async () => {
    const file = tempDb();
    let v = openVenue(file);
    const s = await setUpLoad(v, { accounts: 5 });
    await runLoad(v, s, 40, 31);
    v.close();
    v = openVenue(file, { history: false });
    await runLoad(v, s, 60, 32);
    expect(() => v.orders({})).toThrow(/without history/);
    const hash = v.stateHash();
    v.close(); // a snapshot ahead of the history watermark: skipped on the way back
    v = openVenue(file);
    expect(v.stateHash()).toBe(hash);
    expect(v.recovery.snapshotsSkipped.length).toBeGreaterThan(0);
    expectHistoryMatchesEngine(v);
  });
});

describe('refusing what it cannot use', () => {
  it('a database from a newer version: DB_TOO_NEW', () => {
    const file = tempDb();
    openVenue(file).close();
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    expectVenueError(() => Venue.open(file), 'DB_TOO_NEW');
  });

  it('a file that is not a database, and a database that is not a venue', () => {
    const junk = path.join(tempDir(), 'junk.db');
    fs.writeFileSync(junk, Buffer.alloc(8192, 0x5a));
    expectVenueError(() => Venue.open(junk), 'DB_NOT_DATABASE');
    const other = path.join(tempDir(), 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expectVenueError(() => Venue.open(other), 'DB_FOREIGN');
  });

  it('a second venue on the same file: DB_LOCKED', () => {
    const file = tempDb();
    openVenue(file);
    expectVenueError(() => Venue.open(file, { busyTimeoutMs: 50 }), 'DB_LOCKED');
  });

  it('an engine configuration that differs from the journal: CONFIG_MISMATCH', () => {
    const file = tempDb();
    openVenue(file, { engine: { candleHistory: 50 } }).close();
    expectVenueError(() => Venue.open(file, { engine: { candleHistory: 60 } }), 'CONFIG_MISMATCH');
    openVenue(file).close(); // no option: the stored one
  });

  it('a new database reports its creation and migrations; submit after close is refused', async () => {
    const v = openVenue(tempDb());
    expect(v.recovery).toMatchObject({ created: true, migrated: MIGRATIONS_ALL, recoveredTo: 0 });
    v.close();
    await expect(v.submit({ type: 'EndSession' })).rejects.toMatchObject({ code: 'VENUE_CLOSED' });
  });
});

describe('schema migrations', () => {
  it('run in order, once, inside the open; a database ahead of the code is refused', async () => {
    const { MIGRATIONS, openDatabase } = await import('../../venue/schema.js');
    const file = tempDb();
    openVenue(file).close();
    const base = { synchronous: 'FULL' as const, busyTimeoutMs: 100, exclusive: true, integrityCheck: true, now: 0 };
    const N = MIGRATIONS.length;
    const v2 = [...MIGRATIONS, { version: N + 1, up: (db: Database.Database) => db.exec('CREATE TABLE extra (x)') }];
    const a = openDatabase(file, { ...base, migrations: v2 });
    expect(a.migrated).toEqual([N + 1]);
    expect(a.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(N + 1));
    a.db.close();
    const b = openDatabase(file, { ...base, migrations: v2 });
    expect(b.migrated).toEqual([]);
    b.db.close();
    expectVenueError(() => openDatabase(file, { ...base, migrations: MIGRATIONS }), 'DB_TOO_NEW');
    // a migration that fails leaves the database as it was
    const bad = [...v2, { version: N + 2, up: () => { throw new Error('boom'); } }];
    expect(() => openDatabase(file, { ...base, migrations: bad })).toThrow('boom');
    const c = openDatabase(file, { ...base, migrations: v2 });
    expect(c.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(N + 1));
    c.db.close();
  });

  it('version 4 keeps the alerts of a version-3 file, and from then on an alert id is never given out again', async () => {
    const { MIGRATIONS: all, openDatabase } = await import('../../venue/schema.js');
    const file = tempDb();
    const base = { synchronous: 'FULL' as const, busyTimeoutMs: 100, exclusive: true, integrityCheck: true, now: 0 };
    const v3 = openDatabase(file, { ...base, migrations: all.filter((m) => m.version <= 3) });
    const ins = v3.db.prepare('INSERT INTO alerts (account_id, symbol, direction, price, note, created_ts, triggered_ts, trigger_price) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id');
    ins.get(1, 'AAA', 'above', 1010, 'kept', 5, null, null);
    ins.get(2, 'AAA', 'below', 990, null, 6, 7, 985);
    // the version-3 table gave a deleted newest id out again
    const gone = ins.pluck().get(1, 'AAA', 'above', 1020, null, 8, null, null) as number;
    v3.db.prepare('DELETE FROM alerts WHERE id = ?').run(gone);
    expect(ins.pluck().get(1, 'AAA', 'above', 1030, null, 9, null, null)).toBe(gone);
    const before = v3.db.prepare('SELECT * FROM alerts ORDER BY id').all();
    v3.db.close();
    const v4 = openDatabase(file, { ...base, migrations: all });
    expect(v4.migrated).toEqual([4, 5]);
    expect(v4.db.prepare('SELECT * FROM alerts ORDER BY id').all()).toEqual(before);
    const insert = v4.db.prepare("INSERT INTO alerts (account_id, symbol, direction, price, created_ts) VALUES (1, 'AAA', 'above', 1040, 10) RETURNING id").pluck();
    const next = insert.get() as number;
    expect(next).toBe(gone + 1);
    v4.db.prepare('DELETE FROM alerts WHERE id = ?').run(next);
    expect(insert.get()).toBe(next + 1);
    v4.db.close();
  });
});

describe('the history file', () => {
  it('a version-2 database, with history inside it, moves its history to the history file and answers the same', async () => {
    const file = tempDb();
    let v = openVenue(file, { historyFlushRows: 300 });
    const s = await setUpLoad(v, { accounts: 6 });
    await runLoad(v, s, 60, 41);
    const answers = (x: Venue): unknown => [
      x.orders({ status: 'all', limit: 1000 }).items,
      x.executions({ limit: 5000 }).items,
      x.candles({ symbol: x.view.instruments()[0]!.symbol, timeframe: '1m', limit: 1000 }),
      s.accounts.map((a) => x.statement({ accountId: a, from: 0, to: Number.MAX_SAFE_INTEGER })),
    ];
    const before = answers(v);
    const hash = v.stateHash();
    v.close();
    // Rewrite the files the way schema version 2 kept them: history tables (with their indexes) and the
    // watermark inside the venue database, no history file.
    const db = new Database(file);
    db.prepare('ATTACH DATABASE ? AS h').run(historyPath(file));
    const tables = ['orders', 'executions', 'ledger', 'candles', 'sessions'];
    const ddl = db
      .prepare(`SELECT sql FROM h.sqlite_schema WHERE tbl_name IN (${tables.map(() => '?').join(', ')}) AND sql IS NOT NULL ORDER BY type DESC`)
      .pluck()
      .all(...tables) as string[];
    db.transaction(() => {
      for (const q of ddl) db.exec(q);
      for (const t of tables) db.exec(`INSERT INTO main.${t} SELECT * FROM h.${t}`);
      db.exec("INSERT INTO main.meta (key, value) SELECT key, value FROM h.history_meta");
      db.exec("UPDATE main.meta SET value = '2' WHERE key = 'schema_version'");
      // version 5's columns
      db.exec('ALTER TABLE main.journal DROP COLUMN tags; ALTER TABLE main.journal_quarantine DROP COLUMN tags');
    })();
    const rows = db.prepare('SELECT count(*) FROM main.orders').pluck().get() as number;
    expect(rows).toBeGreaterThan(100);
    db.exec('DETACH DATABASE h');
    db.close();
    for (const f of [historyPath(file), `${historyPath(file)}-wal`, `${historyPath(file)}-shm`]) fs.rmSync(f, { force: true });

    v = openVenue(file);
    expect(v.recovery.migrated).toEqual([3, 4, 5]);
    expect(v.recovery.historyRebuilt).toBe(false);
    expect(v.stateHash()).toBe(hash);
    expect(answers(v)).toEqual(before);
    expectHistoryMatchesEngine(v);
    await runLoad(v, s, 20, 42);
    expectHistoryMatchesEngine(v);
    v.close();
    const main = new Database(file, { readonly: true });
    const left = main.prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'legacy%' OR name IN ('orders', 'executions', 'ledger')").pluck().all();
    const keys = main.prepare("SELECT key FROM meta WHERE key IN ('history_seq', 'history_rebuild', 'legacy_history_seq', 'legacy_history_rebuild')").pluck().all();
    main.close();
    expect(left).toEqual([]);
    expect(keys).toEqual([]);
    const hist = new Database(historyPath(file), { readonly: true });
    expect(hist.prepare('SELECT count(*) FROM orders').pluck().get()).toBeGreaterThan(rows);
    hist.close();
  });

  it('a failed history write stops the venue; nothing acknowledged is lost and reopening re-derives the history', async () => {
    const file = tempDb();
    let v = openVenue(file, { historyFlushRows: 50, historyFlushMs: 0 });
    const s = await setUpLoad(v, { accounts: 4 });
    await runLoad(v, s, 20, 43);
    v.syncHistory();
    // The history file refuses writes (as a full disk would): the writer thread's next batch fails.
    const other = new Database(historyPath(file));
    other.pragma('busy_timeout = 5000');
    other.exec("CREATE TRIGGER refuse BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'the disk says no'); END");
    const acked: Ack[] = [];
    let failure: unknown;
    try {
      for (let i = 0; i < 400; i++) acked.push(await v.submit({ type: 'Deposit', accountId: s.accounts[i % 4]!, amount: 100 }));
      v.syncHistory();
    } catch (e) {
      failure = e;
    }
    expect(isVenueError(failure, 'VENUE_FAILED'), String(failure)).toBe(true);
    expect(String((failure as Error).message)).toContain('the disk says no');
    expect(acked.length).toBeGreaterThan(0);
    const last = acked.at(-1)!.seq;
    const hash = v.stateHash();
    v.close();
    other.exec('DROP TRIGGER refuse');
    other.close();
    v = openVenue(file);
    expect(v.lastSeq).toBeGreaterThanOrEqual(last);
    if (v.lastSeq === last) expect(v.stateHash()).toBe(hash);
    expectHistoryMatchesEngine(v);
    const deposits = v.statement({ accountId: s.accounts[0]!, from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10_000 }).items.filter((e) => e.kind === 'deposit' && e.amount === 100);
    expect(deposits.length).toBe(acked.filter((a) => (a.command as { accountId?: number }).accountId === s.accounts[0]).length);
    v.close();
  });
});

describe("a session's end", () => {
  it('whose commit fails leaves no history behind: the history file never gets ahead of the journal', async () => {
    const file = tempDb();
    const v = openVenue(file, { onFatal: () => undefined });
    const s = await setUpLoad(v, { accounts: 2 });
    await runLoad(v, s, 20, 5);
    const seq = v.lastSeq;
    const journal = (v as unknown as { journal: { append: (...a: unknown[]) => void } }).journal;
    journal.append = () => {
      throw new Error('disk I/O error (simulated)');
    };
    // the session's end is applied (its orders flushed for the next session's checks) before its commit fails
    await expect(v.submit({ type: 'EndSession' })).rejects.toMatchObject({ code: 'VENUE_FAILED' });
    v.close();
    const hist = new Database(historyPath(file), { readonly: true });
    const watermark = Number(hist.prepare("SELECT value FROM history_meta WHERE key = 'history_seq'").pluck().get());
    const sessions = hist.prepare('SELECT COUNT(*) FROM sessions').pluck().get();
    hist.close();
    expect(watermark).toBeLessThanOrEqual(seq);
    expect(sessions).toBe(0);
    const r = openVenue(file);
    expect(r.recovery.recoveredTo).toBe(seq);
    expect(r.recovery.historyRebuilt).toBe(false);
    expectHistoryMatchesEngine(r);
    r.close();
  });
});
