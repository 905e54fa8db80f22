/**
 * The audit log's writer: a worker thread with its own connection to the users database, so the INSERTs
 * behind auditing every order (about a tenth of the server's main-thread time under full order load) run
 * beside the order path instead of on it. Rows arrive in batches (the Store buffers them for up to 50 ms or
 * 500 rows), and the thread commits what it holds every `commitMs` (the Store's: 250 ms): every commit
 * rewrites a few pages of each user's index entries, so fewer commits write far less. `drained()` has the
 * thread commit at once and resolves once everything handed over is written, so a reader of the audit log
 * sees every entry made before it asked.
 *
 * The worker is a plain CommonJS script given as source (it runs the same under tsx, the tests and the
 * bundled server; better-sqlite3 is resolved here and passed by path); it writes with the venue's batch
 * writer (createBatchWriter), which the calling thread also uses when it writes the rows itself. If
 * the thread cannot start or dies, rows are written on the calling thread instead: slower, nothing lost (a
 * batch the thread wrote but had not confirmed when it died may be written twice).
 */
import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { backgroundNice, createBatchWriter, FULL_SYNC_ON_MAC_SOURCE, LOWER_PRIORITY_SOURCE, rowStatement, WAL_SIZE_LIMIT, type BatchWriter, type RowStatement } from '../../engine/venue/index.js';

/** Columns of an audit row: ts, user_id, username, ip, action, details (JSON). */
export const AUDIT_WIDTH = 6;
/** Audit rows as columns (one array per column: built and copied to the thread faster than mixed rows). */
export type AuditColumns = unknown[][];
interface Waiter {
  upTo: number;
  resolve: () => void;
}

const AUDIT_STATEMENTS: readonly RowStatement[] = [rowStatement('INSERT INTO audit (ts, user_id, username, ip, action, details)', AUDIT_WIDTH, '', 64)];
/**
 * The audit mark (the journal seq of the last command whose entry is written; market/audit.ts), committed
 * with each batch's rows: the batch's mark as text, not written while it is negative (not known yet).
 */
export const AUDIT_MARK =
  "INSERT INTO meta (key, value) SELECT 'audit_seq', v FROM (SELECT ? AS v) WHERE CAST(v AS INTEGER) >= 0 ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/** An audit row just written, but an order's: its id, then the AUDIT_WIDTH columns (details as JSON text). */
export type WrittenRow = [id: number, ts: number, userId: number | null, username: string | null, ip: string | null, action: string, details: string];

/**
 * The rows of batches just written in one transaction, but orders' (`order.*`, any case of it: one per
 * order), with their ids. `top` is the connection's last_insert_rowid() after the commit: the transaction
 * held the write lock, so its rows took the ids up to it one after another. It runs in the writer thread
 * too (as source), so it is plain JavaScript with no imports.
 */
export function writtenRows(batches: readonly { rows: readonly AuditColumns[] }[], top: number): WrittenRow[] {
  let n = 0;
  for (const b of batches) n += b.rows[0]![0]!.length;
  let id = top - n;
  const out: WrittenRow[] = [];
  for (const b of batches) {
    const c = b.rows[0]!;
    for (let i = 0; i < c[0]!.length; i++) {
      id++;
      const action = c[4]![i] as string;
      if (!/^order\./i.test(action)) out.push([id, c[0]![i] as number, c[1]![i] as number | null, c[2]![i] as string | null, c[3]![i] as string | null, action, c[5]![i] as string]);
    }
  }
  return out;
}

// The thread writes with the venue's batch writer (engine/venue/history-thread.ts), given as source.
const WORKER = `
'use strict';
var __name = function (f) { return f; };
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const createBatchWriter = ${createBatchWriter.toString()};
const writtenRows = ${writtenRows.toString()};
${LOWER_PRIORITY_SOURCE}
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('journal_size_limit = ${WAL_SIZE_LIMIT}');
${FULL_SYNC_ON_MAC_SOURCE}
db.pragma('busy_timeout = 5000');
db.pragma('temp_store = MEMORY');
db.pragma('cache_size = -16384');
const write = createBatchWriter(db, workerData.stmts, workerData.mark);
const lastRowid = db.prepare('SELECT last_insert_rowid() AS id');
// Batches held for the next commit: every commitMs, or once they hold commitRows rows, or at once when
// someone waits ('sync', close).
const commitMs = workerData.commitMs;
const commitRows = workerData.commitRows;
let held = [];
let heldRows = 0;
let lastId = 0;
let timer;
function commit() {
  if (timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
  if (held.length === 0) return;
  const batches = held;
  held = [];
  heldRows = 0;
  try {
    write(batches);
  } catch (e) {
    parentPort.postMessage({ done: lastId, error: String((e && e.message) || e) });
    return;
  }
  // written: never an error after this (it would have the batches written again)
  let written = [];
  try {
    written = writtenRows(batches, lastRowid.get().id);
  } catch {}
  parentPort.postMessage({ done: lastId, written });
}
parentPort.on('message', (m) => {
  if (m.close) {
    commit();
    db.close();
    parentPort.postMessage({ closed: true });
    return;
  }
  if (m.sync) return commit();
  held.push({ seq: m.mark, rows: [m.rows] });
  heldRows += m.rows[0].length;
  lastId = m.id;
  if (commitMs === 0 || heldRows >= commitRows) commit();
  else if (timer === undefined) timer = setTimeout(commit, commitMs);
});
`;

/** An empty batch of audit rows, column by column. */
export function noAuditRows(): AuditColumns {
  return Array.from({ length: AUDIT_WIDTH }, () => []);
}

export class AuditWriter {
  readonly #db: Database.Database;
  readonly #onError: (e: Error) => void;
  readonly #commitMs: number;
  #worker: Worker | undefined;
  #local: { write: BatchWriter; lastRowid: Database.Statement } | undefined;
  #posted = 0;
  #done = 0;
  /**
   * Rows (and their mark, and the mark handed over before them) handed to the worker and not yet confirmed,
   * by batch id: written here if the worker dies or its commit fails.
   */
  readonly #inflight = new Map<number, { rows: AuditColumns; mark: number; before: number }>();
  /** The last mark handed over (or set at start-up: markSet), -1 before any. */
  #lastMark = -1;
  /**
   * Once a batch could not be written at all, the mark before it: every later batch is committed with this
   * mark instead of its own, until a restart, so that the next start makes the lost entries again from the
   * journal (recoverAudit) rather than passing over them.
   */
  #heldMark: number | undefined;
  #lostError: Error | undefined;
  #waiters: Waiter[] = [];

  /**
   * `db` is the Store's own connection (the fallback writes through it); `path` is its file. The thread
   * commits the batches handed over every `commitMs` (0: each as it arrives) or once it holds `commitRows`
   * rows, and at once when someone waits for them (drained(), close()).
   */
  constructor(db: Database.Database, path: string, onError: (e: Error) => void, commitMs = 0, commitRows = Number.MAX_SAFE_INTEGER) {
    this.#db = db;
    this.#onError = onError;
    this.#commitMs = Math.max(0, commitMs);
    if (path === ':memory:') return; // another connection would see another database
    try {
      const w = new Worker(WORKER, { eval: true, workerData: { sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), path, stmts: AUDIT_STATEMENTS, mark: AUDIT_MARK, commitMs: this.#commitMs, commitRows, nice: backgroundNice() } });
      w.unref();
      w.on('message', (m: { done?: number; error?: string; written?: WrittenRow[] }) => {
        if (m.done === undefined) return;
        const written = m.written ?? [];
        // every batch up to m.done was in that commit (the map is in the order handed over)
        for (const [id, b] of this.#inflight) {
          if (id > m.done) break;
          // Not written (a full disk, a broken file): try once more here, then report.
          if (m.error !== undefined) written.push(...this.#writeHere(b.rows, b.mark, b.before));
          this.#inflight.delete(id);
        }
        this.#settle(m.done, written);
      });
      w.on('error', (e) => this.#lost(e));
      // Any exit we did not ask for (close() lets go of the thread first) is a loss.
      w.on('exit', (code) => {
        if (this.#worker === w) this.#lost(new Error(`audit writer exited (code ${code})`));
      });
      this.#worker = w;
    } catch (e) {
      this.#onError(e as Error); // no thread: every batch is written here
    }
  }

  /** The writer thread while it is running (its loss is tested). */
  get thread(): Worker | undefined {
    return this.#worker;
  }

  /**
   * Hands a batch of rows over, as columns (the caller gives up the arrays), with the audit mark to commit
   * with them (AUDIT_MARK; negative: none). `here`: written on this thread before this returns (only with
   * nothing handed to the thread still unwritten: start-up).
   */
  write(rows: AuditColumns, mark = -1, here = false): void {
    if (here && this.#inflight.size > 0) throw new Error('Audit rows are written here only when the writer thread holds none');
    const before = this.#lastMark;
    if (mark >= 0) this.#lastMark = mark;
    if (this.#heldMark !== undefined) mark = this.#heldMark;
    this.#post(rows, mark, before, here);
  }

  /** The audit mark was written at start-up, outside this writer (Store.setAuditMark). */
  markSet(mark: number): void {
    this.#lastMark = mark;
  }

  /** Why the first batch that could not be written was not (its entries are made again at the next start). */
  get lost(): Error | undefined {
    return this.#lostError;
  }


  #post(rows: AuditColumns, mark: number, before: number, here = false): void {
    const id = ++this.#posted;
    if (this.#worker === undefined || here) {
      this.#settle(id, this.#writeHere(rows, mark, before));
      return;
    }
    this.#inflight.set(id, { rows, mark, before });
    this.#worker.postMessage({ id, rows, mark });
  }

  /** Resolves when every batch written so far is in the database. */
  drained(): Promise<void> {
    const upTo = this.#posted;
    if (this.#done >= upTo) return Promise.resolve();
    // what the thread holds for its next commit is committed now
    if (this.#commitMs > 0) this.#worker?.postMessage({ sync: true });
    return new Promise((resolve) => this.#waiters.push({ upTo, resolve }));
  }

  /** Writes what is pending, closes the worker's connection and stops it. */
  async close(): Promise<void> {
    await this.drained();
    const w = this.#worker;
    if (w === undefined) return;
    this.#worker = undefined;
    await new Promise<void>((resolve) => {
      w.once('message', () => resolve());
      w.once('exit', () => resolve());
      w.postMessage({ close: true });
    });
    await w.terminate();
  }

  /**
   * Writes a batch on this thread; returns its rows but orders' (writtenRows), none if it failed. A batch
   * that fails here too is lost: the mark is held at `before` (the mark handed over before it, which its
   * entries all come after) from now on.
   */
  #writeHere(rows: AuditColumns, mark: number, before: number): WrittenRow[] {
    try {
      if (!this.#db.open) return [];
      this.#local ??= { write: createBatchWriter(this.#db, AUDIT_STATEMENTS, AUDIT_MARK), lastRowid: this.#db.prepare('SELECT last_insert_rowid() AS id') };
      const batches = [{ seq: this.#heldMark ?? mark, rows: [rows] }];
      this.#local.write(batches);
      return writtenRows(batches, (this.#local.lastRowid.get() as { id: number }).id);
    } catch (e) {
      this.#onError(e as Error);
      if (rows[0]!.length > 0) {
        this.#lostError ??= e as Error;
        this.#hold(before);
      }
      return [];
    }
  }

  /**
   * A batch of entries is lost: the mark goes no further than `before` until a restart. Batches handed to
   * the thread before this was known may commit a later mark: a batch of no rows with the held mark, handed
   * over after them, takes it back (the last batch of a commit gives its mark).
   */
  #hold(before: number): void {
    if (this.#heldMark !== undefined && this.#heldMark <= before) return;
    this.#heldMark = before;
    if (this.#worker !== undefined) this.#post(noAuditRows(), before, before);
  }

  #settle(id: number, written: WrittenRow[]): void {
    this.#done = Math.max(this.#done, id);
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.upTo <= this.#done) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
    try {
      if (written.length > 0) this.onWritten?.(written);
    } catch (e) {
      this.#onError(e as Error);
    }
  }

  /**
   * Called after a commit of handed-over rows (by the thread, or here) with those rows but orders', in id
   * order, when there are any: the Store's live audit tail, which so reads nothing back from the database.
   */
  onWritten: ((rows: WrittenRow[]) => void) | undefined;

  /** The thread is gone: what it had not confirmed is written here, and so is everything after. */
  #lost(e: Error): void {
    if (this.#worker === undefined) return; // already handled (an 'error' is followed by an 'exit')
    this.#worker = undefined;
    this.#onError(e);
    for (const [id, b] of [...this.#inflight].sort((x, y) => x[0] - y[0])) this.#settle(id, this.#writeHere(b.rows, b.mark, b.before));
    this.#inflight.clear();
  }
}
