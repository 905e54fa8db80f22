/**
 * The history tables' own file and the thread that writes it.
 *
 * History (orders, executions, ledger, candles, sessions) is derived from the journal, so it does not have
 * to be written in the journal's transaction, nor on the sequencer's thread. It lives in a second SQLite
 * file, by default beside the venue database (`<venue>-history`; VenueOptions.historyFile puts it elsewhere,
 * marked with its venue), ATTACHed to the venue's connection as `hist` so that
 * queries read it by its plain table names, and it is written by a worker thread with its own connection:
 * the sequencer hands each history flush over (rows as columns, see HistoryBatch) and goes on sequencing while
 * the rows are inserted beside it (committed as they arrive, or held and committed together: commitMs).
 * Its watermark (`history_meta.history_seq`, the last command whose rows are written) is committed with the
 * rows, so after any crash recovery replays the journal from there.
 *
 * The thread reports the last batch it committed through shared memory, so the sequencer can wait for it
 * without its event loop (a query waits until everything acknowledged before it is written; the first
 * group commit after a session's end waits for that session's orders; a hand-over waits while the thread is
 * more than HistoryThreadOptions.maxLag commands behind). A write that fails, or a thread that is lost,
 * stops the venue like a failed commit: the venue is reopened from the journal, and history is re-derived
 * from its watermark.
 *
 * The same function writes a batch on the thread and, when the venue writes history itself (recovery, a
 * rebuild, `historyThread: false`), on the venue's connection: the thread runs its source.
 *
 * The thread also writes the venue's snapshots (Venue.snapshot): the sequencer hands the JSON over in parts
 * (hashing it as it serializes them), and the thread joins, checksums and stores it under that hash in the
 * history file's `snapshots` after the rows handed over before it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { VenueError } from './errors.js';
import { FULL_SYNC_ON_MAC_SOURCE, snapshotStatements, type Db } from './schema.js';
import { backgroundNice, LOWER_PRIORITY_SOURCE } from './thread-priority.js';

/** Atomics.waitAsync (Node 16+; not in the ES2023 library's types). */
const waitAsync = (Atomics as unknown as { waitAsync(a: BigInt64Array, i: number, v: bigint, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** Upserting an imported bar (symbol, tf, t, o, h, l, c, v) into `table`: a later import of a bar replaces it. */
export const IMPORTED_UPSERT = (table: string): string =>
  `INSERT INTO ${table} (symbol, tf, t, o, h, l, c, v) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ` +
  'ON CONFLICT (symbol, tf, t) DO UPDATE SET o = excluded.o, h = excluded.h, l = excluded.l, c = excluded.c, v = excluded.v';

/** Reading and storing the revision of the history file's copy of the imported bars (its history_meta, plain names). */
const IMPORTED_REV_GET = "SELECT value FROM history_meta WHERE key = 'imported_rev'";
const IMPORTED_REV = "INSERT INTO history_meta (key, value) VALUES ('imported_rev', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/** The history file of a venue database. */
export function historyPath(venuePath: string): string {
  return `${venuePath}-history`;
}

/** One INSERT in its one-row form and its `chunk`-row form (fewer calls into SQLite). */
export interface RowStatement {
  one: string;
  many: string;
  width: number;
  chunk: number;
}

/** An INSERT (`head` names the table and columns, `tail` follows the VALUES) in both its forms. */
export function rowStatement(head: string, width: number, tail = '', chunk = 32): RowStatement {
  const row = `(${new Array(width).fill('?').join(', ')})`;
  return { one: `${head} VALUES ${row} ${tail}`, many: `${head} VALUES ${new Array(chunk).fill(row).join(', ')} ${tail}`, width, chunk };
}

/**
 * One history flush and its watermark: per statement (in the writer's statement order) the rows as columns,
 * one array per column (homogeneous arrays are built and copied to the thread several times faster than
 * one flat array of mixed values).
 */
export interface HistoryBatch {
  seq: number;
  rows: unknown[][][];
}

export type BatchWriter = (batches: readonly HistoryBatch[]) => void;

/**
 * An engine snapshot for the thread to write (its CRC is computed there). Its JSON text follows in parts
 * (postSnapshotPart), which the thread joins as they are, so the sequencer serializes a large state a part
 * per turn of its event loop. The last part carries the snapshot's hash, the sequencer's, computed over
 * the text as it produced it. So the thread's joining is checked on recovery like everything else about a
 * snapshot: data joined wrongly restores an engine whose state hash is not the recorded one, and the
 * snapshot is passed over.
 */
export interface ThreadSnapshot {
  seq: number;
  ts: number;
  nextOrderId: number;
  /** How many of the newest snapshots the history file keeps. */
  keep: number;
}

/**
 * Writes batches through `db` in one transaction (a savepoint inside the caller's) and, with `markSql`,
 * moves a watermark (one parameter: the last batch's seq as text). Self-contained on purpose: its source is
 * also that of the writer threads (this file's and the server's audit writer), so it uses nothing from
 * outside itself.
 */
export function createBatchWriter(db: Db, stmts: readonly RowStatement[], markSql: string | null): BatchWriter {
  const prepared = stmts.map((s) => ({
    one: db.prepare(s.one),
    many: db.prepare(s.many),
    width: s.width,
    big: s.width * s.chunk,
    manyArgs: new Array(s.width * s.chunk),
    oneArgs: new Array(s.width),
  }));
  const mark = markSql === null ? undefined : db.prepare(markSql);
  return db.transaction((batches: readonly HistoryBatch[]) => {
    if (batches.length === 0) return;
    for (const b of batches) {
      for (let k = 0; k < prepared.length; k++) {
        const cols = b.rows[k];
        if (cols === undefined || cols.length === 0) continue;
        const p = prepared[k]!;
        const w = p.width;
        const n = cols[0]!.length;
        const chunk = p.big / w;
        let i = 0;
        for (; i + chunk <= n; i += chunk) {
          for (let c = 0; c < w; c++) {
            const col = cols[c]!;
            for (let r = 0; r < chunk; r++) p.manyArgs[r * w + c] = col[i + r];
          }
          p.many.run(p.manyArgs);
        }
        for (; i < n; i++) {
          for (let c = 0; c < w; c++) p.oneArgs[c] = cols[c]![i];
          p.one.run(p.oneArgs);
        }
      }
    }
    if (mark !== undefined) mark.run(String(batches[batches.length - 1]!.seq));
  }) as BatchWriter;
}

// Shared state slots (BigInt64Array): the last seq written, the thread's status, the last seq whose
// journal frames are known to be on the disk (HistoryThread.durableTo), how many imports of bars the
// thread has dealt with (HistoryThread.postImported), and whether its copy of them is stale (1).
const WRITTEN = 0;
const STATUS = 1;
const DURABLE = 2;
const IMPORTED = 3;
const IMPORTED_STALE = 4;
const STARTING = 0n;
const FAILED = 1n;
const CLOSED = 2n;
const RUNNING = 3n;
const ERR_BYTES = 1024;
/**
 * How soon batches left for their journal fsync are looked at again (ms), with commitMs 0 or while a reader
 * waits for them: the venue hears the fsync return and says so (durableTo) within moments.
 */
const DURABLE_RETRY_MS = 2;

const WORKER = `
'use strict';
var __name = function (f) { return f; };
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const createBatchWriter = ${createBatchWriter.toString()};
const { crc32 } = require('node:zlib');
${LOWER_PRIORITY_SOURCE}
const state = new BigInt64Array(workerData.state);
const errText = new Uint8Array(workerData.err);
const fs = require('node:fs');
// The venue's WAL, when its journal is fsynced after COMMIT (fsync 'background'): nothing is committed here
// for commands whose journal frames may not be on the disk yet (see HistoryThreadOptions.journalWal).
let journalFd;
// the last seq this thread made durable itself (the batches it was handed were committed to the journal
// first, so a sync of the journal's WAL covers every one handed over before it)
let syncedTo = 0n;
let handedTo = 0n;
function journalDurable(seq) {
  const s = BigInt(seq);
  if (journalFd === undefined || Atomics.load(state, ${DURABLE}) >= s || syncedTo >= s) return;
  const upTo = handedTo;
  fs.fdatasyncSync(journalFd);
  syncedTo = upTo;
}
let db;
let write;
let writeSnapshot;
let writeImported;
// a snapshot being handed over: its header, and the parts of its orders received so far
let snap;
let snapParts = [];
function fail(e) {
  const text = new TextEncoder().encode(String((e && e.message) || e)).subarray(0, ${ERR_BYTES});
  errText.set(text);
  Atomics.store(state, ${STATUS}, ${FAILED}n);
  Atomics.notify(state, ${WRITTEN});
}
function close() {
  try { if (db !== undefined) db.close(); } catch (e) { /* closing anyway */ }
  try { if (journalFd !== undefined) fs.closeSync(journalFd); } catch (e) { /* closing anyway */ }
  if (Atomics.load(state, ${STATUS}) === ${RUNNING}n) Atomics.store(state, ${STATUS}, ${CLOSED}n);
  Atomics.notify(state, ${WRITTEN});
  parentPort.close();
}
try {
  // opened for writing, never written: Windows syncs no file through a read-only handle (EPERM); SQLite holds
  // no lock on a WAL file, so this descriptor's close takes none of the venue's
  if (workerData.journalWal !== undefined) journalFd = fs.openSync(workerData.journalWal, 'r+');
  db = new Database(workerData.path);
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  ${FULL_SYNC_ON_MAC_SOURCE}
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -65536');
  write = createBatchWriter(db, workerData.stmts, workerData.mark);
  writeSnapshot = db.transaction((s, hash, parts) => {
    // the snapshot's JSON text: its parts, joined as they are
    const data = parts.join('');
    db.prepare(workerData.snapshotSql.insert).run(s.seq, s.ts, hash, s.nextOrderId, crc32(data), data);
    db.prepare(workerData.snapshotSql.prune).run(s.keep);
  });
  Atomics.store(state, ${STATUS}, ${RUNNING}n);
  Atomics.notify(state, ${STATUS});
} catch (e) {
  fail(e);
  Atomics.notify(state, ${STATUS});
}
// Batches handed over and not yet written. Written at once (commitMs 0), or commitMs after the first of
// them arrived, or once they hold commitCommands commands, or when the sequencer blocks waiting for them
// ('sync'), before a snapshot, and on close; for a reader that waits without blocking ('soon'), at once
// unless the last commit is less than readerGapMs old, then that long after it.
const commitMs = workerData.commitMs;
const commitCommands = workerData.commitCommands;
const readerGapMs = workerData.readerGapMs;
let batches = [];
let timer;
let timerAt = Infinity;
let lastCommit = -Infinity;
// the highest seq a reader waits for without blocking ('soon'): batches held back for their journal fsync
// are looked at again every DURABLE_RETRY_MS until it is written
let waitFor = 0;
// With a journal to wait for (journalWal), a commit takes only the batches whose commands the venue has
// acknowledged, so on the disk; the rest wait for the next turn. Unless forced (a waiter that blocks, a
// snapshot, close): then the thread syncs the journal itself and commits everything.
function commitPending(force) {
  if (timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
    timerAt = Infinity;
  }
  if (batches.length === 0) return;
  let n = batches.length;
  if (journalFd !== undefined && !force) {
    const durable = Atomics.load(state, ${DURABLE});
    n = 0;
    while (n < batches.length && BigInt(batches[n].seq) <= durable) n++;
  }
  if (n > 0) {
    const take = n === batches.length ? batches : batches.slice(0, n);
    const last = take[take.length - 1].seq;
    lastCommit = performance.now();
    journalDurable(last);
    write(take);
    Atomics.store(state, ${WRITTEN}, BigInt(last));
    Atomics.notify(state, ${WRITTEN});
    batches = n === batches.length ? [] : batches.slice(n);
  }
  if (batches.length > 0) {
    // a reader waits for what only the journal's fsync holds back: the venue says so within moments
    const wait = commitMs > 0 && Number(Atomics.load(state, ${WRITTEN})) >= waitFor ? commitMs : ${DURABLE_RETRY_MS};
    timer = setTimeout(onTimer, wait);
    timerAt = performance.now() + wait;
  }
}
function onTimer() {
  timer = undefined;
  timerAt = Infinity;
  try {
    if (Atomics.load(state, ${STATUS}) === ${RUNNING}n) commitPending(false);
  } catch (e) {
    fail(e);
  }
}
parentPort.on('message', (first) => {
  // Everything queued is written in the order handed over: batches in one transaction per commit, a
  // snapshot in its own after the rows it covers.
  let closing = false;
  let now = commitMs === 0;
  let forced = false;
  let soon = false;
  try {
    for (let m = first; m !== undefined; ) {
      if (m === 'close') { closing = true; break; }
      if (Atomics.load(state, ${STATUS}) !== ${RUNNING}n) break;
      if (m === 'sync') now = forced = true;
      else if (m.soon !== undefined) {
        soon = true;
        if (m.soon > waitFor) waitFor = m.soon;
      } else if (m.imported !== undefined) {
        // Reference data, not derived from the journal: written now, in a transaction of its own, onto a copy
        // at the revision the import was made on. A copy that is not (an import it missed), or that cannot be
        // written, is left stale: candle queries are then answered by the venue, and the next open copies
        // the bars again (the revisions differ). Either way the history goes on.
        try {
          if (writeImported === undefined) {
            // imported bars (t, o, h, l, c, v each, in one buffer) into the copy, with the venue file's revision
            const upsert = db.prepare(workerData.importedSql);
            const getRev = db.prepare(workerData.importedRevGetSql).pluck();
            const setRev = db.prepare(workerData.importedRevSql);
            writeImported = db.transaction((im) => {
              if (getRev.get() !== im.prev) {
                setRev.run('stale');
                return false;
              }
              const bars = im.bars;
              for (let j = 0; j < bars.length; j += 6) upsert.run(im.symbol, im.tf, bars[j], bars[j + 1], bars[j + 2], bars[j + 3], bars[j + 4], bars[j + 5]);
              setRev.run(im.rev);
              return true;
            });
          }
          if (Atomics.load(state, ${IMPORTED_STALE}) === 1n || !writeImported(m.imported)) Atomics.store(state, ${IMPORTED_STALE}, 1n);
        } catch (e) {
          Atomics.store(state, ${IMPORTED_STALE}, 1n);
        }
        Atomics.add(state, ${IMPORTED}, 1n);
      } else if (m.snapshot !== undefined) {
        snap = m.snapshot;
        snapParts = [];
        if (BigInt(snap.seq) > handedTo) handedTo = BigInt(snap.seq);
      } else if (m.snapshotPart !== undefined) {
        if (snap !== undefined && m.snapshotPart.seq === snap.seq) {
          snapParts.push(m.snapshotPart.json);
          // the last part carries the hash
          if (m.snapshotPart.hash !== undefined) {
            commitPending(true);
            journalDurable(snap.seq);
            writeSnapshot(snap, m.snapshotPart.hash, snapParts);
            snap = undefined;
            snapParts = [];
          }
        }
      } else {
        batches.push(m);
        if (BigInt(m.seq) > handedTo) handedTo = BigInt(m.seq);
      }
      const next = receiveMessageOnPort(parentPort);
      m = next === undefined ? undefined : next.message;
    }
    if (Atomics.load(state, ${STATUS}) === ${RUNNING}n) {
      if (batches.length > 0 && batches[batches.length - 1].seq - Number(Atomics.load(state, ${WRITTEN})) >= commitCommands) now = true;
      const t = performance.now();
      if (soon && !now && lastCommit + readerGapMs <= t) now = true;
      if (now || closing) commitPending(forced || closing);
      else if (batches.length > 0) {
        const at = soon ? lastCommit + readerGapMs : timer === undefined ? t + commitMs : timerAt;
        if (at < timerAt) {
          if (timer !== undefined) clearTimeout(timer);
          timer = setTimeout(onTimer, at - t);
          timerAt = at;
        }
      }
    }
  } catch (e) {
    fail(e);
  }
  if (closing) close();
});
`;

export interface HistoryThreadOptions {
  /**
   * Most commands the thread may be behind (handed over, not yet written) before post() waits for it to
   * catch up to half of that (default 100,000: a few seconds of full load, tens of MB of rows). A thread
   * that cannot keep up (a slow disk, cores busy with other work) slows the sequencer down instead of
   * letting the rows pile up in memory.
   */
  maxLag?: number;
  /** Called with the time (ms) a hand-over waited for the thread to catch up. */
  onWait?: (waitedMs: number) => void;
  /**
   * How long the thread holds the batches handed over before it commits them together (ms, default 0: each
   * run of batches as it arrives). Every commit writes each index page it changed in full, and the indexes
   * by account change a few pages per account whatever the rows, so fewer commits write far less. A waiter
   * that blocks (waitWritten: a query called directly, a hand-over too far behind) has it committed at once;
   * one that does not (whenWritten) at once or READER_GAP_MS after the last commit.
   */
  commitMs?: number;
  /**
   * ...or sooner, once the batches held cover this many commands (default: no limit). A commit's time on
   * the thread grows with its rows, and the sequencer keeps the records of ended orders until they are
   * committed (replies read them): under heavy load, a bound keeps both short.
   */
  commitCommands?: number;
  /**
   * The venue's WAL, when the venue fsyncs its journal after COMMIT (fsync 'background'): the thread commits
   * on its own only the batches of commands the venue has acknowledged (durableTo()), leaving the rest for
   * its next turn; when it must commit them now (a waiter that blocks, a snapshot, close), it fdatasyncs this
   * file first. Otherwise a power cut could keep the history file's commit (its checkpoint syncs it) and lose
   * the journal's frames, leaving the history ahead of the journal, which the next open can only mend by
   * deriving the whole history again (about 19 s per million commands).
   */
  journalWal?: string;
  /** The last seq whose journal frames are on the disk when the thread starts (default 0). */
  durable?: number;
}

/**
 * With commitMs: a reader that waits without blocking (whenWritten) has the batches committed at once,
 * unless the last commit is younger than this; then this long after it. Many readers then cost at most
 * one commit per this interval, not one each (each commit rewrites a few pages per account).
 */
export const READER_GAP_MS = 50;

/** Default HistoryThreadOptions.maxLag. */
export const HISTORY_MAX_LAG = 100_000;

/**
 * The writer thread of one venue's history file. Batches are written in the order handed over; `written`
 * is the seq of the last one committed.
 */
export class HistoryThread {
  readonly #worker: Worker;
  readonly #maxLag: number;
  readonly #onWait: ((waitedMs: number) => void) | undefined;
  readonly #commitMs: number;
  readonly #commitCommands: number;
  /** The seq of the last batch handed over. */
  #posted: number;
  /** Imports of bars handed over (postImported). */
  #imports = 0;
  readonly #state: BigInt64Array;
  readonly #err: Uint8Array;
  #closing = false;
  #lost: Error | undefined;
  /** Set by abandonWaits(). */
  #abandoned: Error | undefined;

  /** How long (ms) the thread has been busy since it started (its event loop's time not idle). */
  busyMs(): number {
    return this.#worker.performance.eventLoopUtilization().active;
  }

  /** `onLost` is called (on the event loop) if the thread ends or fails without being asked to close. */
  constructor(path: string, stmts: readonly RowStatement[], markSql: string, written: number, onLost: (e: Error) => void, options: HistoryThreadOptions = {}) {
    this.#maxLag = Math.max(1, options.maxLag ?? HISTORY_MAX_LAG);
    this.#onWait = options.onWait;
    this.#commitMs = Math.max(0, options.commitMs ?? 0);
    this.#commitCommands = Math.max(1, options.commitCommands ?? Number.MAX_SAFE_INTEGER);
    this.#posted = written;
    const sab = new SharedArrayBuffer(40);
    const err = new SharedArrayBuffer(ERR_BYTES);
    this.#state = new BigInt64Array(sab);
    this.#err = new Uint8Array(err);
    this.#state[WRITTEN] = BigInt(written);
    this.#state[DURABLE] = BigInt(options.durable ?? 0);
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER, { eval: true, workerData: { sqlite, path, stmts, mark: markSql, commitMs: this.#commitMs, commitCommands: this.#commitCommands, readerGapMs: Math.min(this.#commitMs, READER_GAP_MS), snapshotSql: snapshotStatements('snapshots'), importedSql: IMPORTED_UPSERT('imported_candles'), importedRevGetSql: IMPORTED_REV_GET, importedRevSql: IMPORTED_REV, state: sab, err, nice: backgroundNice(), journalWal: options.journalWal } });
    this.#worker.unref();
    const lost = (e: Error): void => {
      if (this.#closing || this.#lost !== undefined) return;
      this.#lost = e;
      onLost(e);
    };
    this.#worker.on('error', lost);
    this.#worker.on('exit', (code) => lost(new Error(`the history writer thread ended (code ${code})`)));
  }

  /**
   * Waits until the thread has opened the history file and is ready to write; throws (VENUE_FAILED) if it
   * could not, or did not within `timeoutMs`.
   */
  waitReady(timeoutMs = 30_000): void {
    this.#waitUntil(STATUS, (st) => st === RUNNING, `The history writer thread did not start within ${timeoutMs} ms`, timeoutMs);
  }

  /**
   * The venue failed (`e`): waits for rows still held back for their journal fsync (which will not come)
   * end with `e` at their next look, rather than at their timeout.
   */
  abandonWaits(e: Error): void {
    this.#abandoned ??= e;
  }

  /** Tells the thread that the journal's frames up to `seq` are on the disk (it then syncs nothing for them). */
  durableTo(seq: number): void {
    if (BigInt(seq) > Atomics.load(this.#state, DURABLE)) Atomics.store(this.#state, DURABLE, BigInt(seq));
  }

  /** The seq of the last batch committed by the thread. */
  get written(): number {
    return Number(Atomics.load(this.#state, WRITTEN));
  }

  /** Why the thread stopped writing, if it did (a failed write, or the thread was lost). */
  failure(): VenueError | undefined {
    if (Atomics.load(this.#state, STATUS) === FAILED) {
      const bytes = this.#err.slice();
      const end = bytes.indexOf(0);
      const text = new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
      return new VenueError('VENUE_FAILED', `Writing history failed: ${text}`);
    }
    if (this.#lost !== undefined) return new VenueError('VENUE_FAILED', `Writing history failed: ${this.#lost.message}`, undefined, { cause: this.#lost });
    return undefined;
  }

  /**
   * Hands a batch over (the caller gives up its arrays). If the thread is more than maxLag commands behind,
   * first blocks until it has written all but half of that (or all it was given); throws VENUE_FAILED if it
   * failed or did not catch up within a minute.
   */
  post(batch: HistoryBatch): void {
    if (batch.seq - this.written > this.#maxLag) {
      const upTo = Math.min(batch.seq - Math.floor(this.#maxLag / 2), this.#posted);
      const t0 = performance.now();
      this.waitWritten(upTo);
      this.#onWait?.(performance.now() - t0);
    }
    this.#worker.postMessage(batch);
    this.#posted = batch.seq;
  }

  /**
   * Starts handing a snapshot over (its text follows in postSnapshotPart calls). Once it has the last part,
   * the thread joins the text, checksums it, and writes it to the history file's `snapshots` after every
   * batch handed over before it, keeping the newest `keep`.
   */
  postSnapshot(snapshot: ThreadSnapshot): void {
    this.#worker.postMessage({ snapshot });
  }

  /**
   * Hands over imported bars of one symbol and timeframe (`bars`: t, o, h, l, c, v each; the caller gives
   * the buffer up) for the history file's copy of them, with the venue file's revision of its imported bars
   * before (`prev`) and after this import (schema.ts copyImportedCandles). The thread writes them at once, in
   * a transaction of their own, if the copy is at `prev`; otherwise, or if the write fails, it leaves the
   * copy stale. importsPending says whether the copy lacks them (not yet written, or stale).
   */
  postImported(symbol: string, tf: string, bars: Float64Array, prev: string, rev: string): void {
    this.#worker.postMessage({ imported: { symbol, tf, bars, prev, rev } }, [bars.buffer as ArrayBuffer]);
    this.#imports++;
  }

  /** Whether the copy of the imported bars may lack some of those handed over (postImported). */
  get importsPending(): boolean {
    return Atomics.load(this.#state, IMPORTED_STALE) === 1n || Atomics.load(this.#state, IMPORTED) < BigInt(this.#imports);
  }

  /** One part of the snapshot's JSON text, in order; the last part carries the snapshot's hash. */
  postSnapshotPart(seq: number, json: string, hash?: string): void {
    this.#worker.postMessage({ snapshotPart: { seq, json, hash } });
  }

  /**
   * Blocks until the batch with `seq` (and everything before it) is committed, or throws VENUE_FAILED if the
   * thread failed or did not answer within `timeoutMs`.
   */
  waitWritten(seq: number, timeoutMs = 60_000): void {
    // batches the thread holds for its next commit (or for their journal fsync) are committed now
    if (this.written < seq) this.#worker.postMessage('sync');
    this.#waitUntil(WRITTEN, (w) => Number(w) >= seq, this.#writtenTimeout(seq, timeoutMs), timeoutMs);
  }

  /**
   * waitWritten without blocking: resolves once the batch with `seq` (and everything before it) is
   * committed, while the caller's event loop goes on; rejects as waitWritten throws.
   */
  async whenWritten(seq: number, timeoutMs = 60_000): Promise<void> {
    if (this.#commitMs > 0 && this.written < seq) this.#worker.postMessage({ soon: seq });
    const deadline = performance.now() + timeoutMs;
    const reached = (w: bigint): boolean => Number(w) >= seq;
    const text = this.#writtenTimeout(seq, timeoutMs);
    let v = this.#unreached(WRITTEN, reached, text, deadline);
    if (v === undefined) return;
    // Atomics.waitAsync does not keep the process alive: a timer does, while this waits
    const keep = setInterval(() => undefined, 60_000);
    try {
      for (; v !== undefined; v = this.#unreached(WRITTEN, reached, text, deadline)) {
        const r = waitAsync(this.#state, WRITTEN, v, Math.min(deadline - performance.now(), 250));
        if (r.async) await r.value;
      }
    } finally {
      clearInterval(keep);
    }
  }

  /** Blocks until the shared slot satisfies `reached`; throws the thread's failure, or VENUE_FAILED on timeout. */
  #waitUntil(slot: number, reached: (v: bigint) => boolean, timeoutText: string, timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    for (let v = this.#unreached(slot, reached, timeoutText, deadline); v !== undefined; v = this.#unreached(slot, reached, timeoutText, deadline)) {
      Atomics.wait(this.#state, slot, v, Math.min(deadline - performance.now(), 250));
    }
  }

  #writtenTimeout(seq: number, timeoutMs: number): string {
    return `The history writer did not write up to ${seq} within ${timeoutMs} ms`;
  }

  /**
   * One check of a wait (blocking or not): undefined once the shared slot satisfies `reached`, else its
   * value to wait on; throws the thread's failure, or VENUE_FAILED past `deadline`.
   */
  #unreached(slot: number, reached: (v: bigint) => boolean, timeoutText: string, deadline: number): bigint | undefined {
    const v = Atomics.load(this.#state, slot);
    if (reached(v)) return undefined;
    const f = this.failure() ?? this.#abandoned;
    if (f !== undefined) throw f;
    if (deadline - performance.now() <= 0) throw new VenueError('VENUE_FAILED', timeoutText);
    return v;
  }

  /** Writes everything handed over, closes the thread's connection and lets the thread end. */
  close(timeoutMs = 60_000): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#worker.postMessage('close');
    const deadline = performance.now() + timeoutMs;
    for (let st = Atomics.load(this.#state, STATUS); (st === RUNNING || st === STARTING) && this.#lost === undefined; st = Atomics.load(this.#state, STATUS)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      Atomics.wait(this.#state, WRITTEN, Atomics.load(this.#state, WRITTEN), Math.min(left, 250));
    }
    void this.#worker.terminate();
  }
}
