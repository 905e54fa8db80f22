/**
 * The history file's reader thread: answers history queries (a blotter's orders, executions, statement,
 * statistics, recent trades) on a connection of its own, so their SQL runs beside the sequencer instead of
 * on its event loop. The venue hands a query over once everything acknowledged before it is written
 * (Venue.queryHistory), so the reader's answer includes all of it; each query runs in one read transaction
 * (WAL: a consistent view of the file while its writer thread goes on).
 *
 * The queries are the venue's own (queries.ts createHistoryQueries, whose source the thread runs), so a
 * query answers the same on either side. Candles too: imported bars are read from the history file's copy
 * of them (schema.ts copyImportedCandles), as the venue holds its own file exclusively.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Candle } from '../core/types.js';
import { VenueError } from './errors.js';
import { ORDER_SELECT, orderRecord } from './history.js';
import { createHistoryQueries, periodStart, type HistoryQueries } from './queries.js';
import { FULL_SYNC_ON_MAC_SOURCE } from './schema.js';

/** The queries a reader thread answers. */
export const READER_METHODS = ['orders', 'executions', 'recentTrades', 'statement', 'tradeStats', 'candles'] as const;
export type ReaderMethod = (typeof READER_METHODS)[number];
export type ReaderArg<K extends ReaderMethod> = NonNullable<Parameters<HistoryQueries[K]>[0]>;
export type ReaderResult<K extends ReaderMethod> = ReturnType<HistoryQueries[K]>;

// Shared state slots (Int32Array): the reader is closing (queries still queued are not run), and its
// connection is closed.
const CLOSING = 0;
const CLOSED = 1;

const READER = `
'use strict';
var __name = function (f) { return f; };
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
const lib = {
  orderSelect: ${JSON.stringify(ORDER_SELECT)},
  orderRecord: ${orderRecord.toString()},
  periodStart: ${periodStart.toString()},
  fail(code, message) { return Object.assign(new Error(message), { queryCode: code }); },
};
const createHistoryQueries = ${createHistoryQueries.toString()};
const packBars = ${packBars.toString()};
const methods = new Set(${JSON.stringify(READER_METHODS)});
let db;
let read;
function closed() {
  Atomics.store(state, ${CLOSED}, 1);
  Atomics.notify(state, ${CLOSED});
}
try {
  const Database = require(workerData.sqlite);
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  db.pragma('query_only = ON');
  // (it writes nothing, but may checkpoint the file when it closes last)
  ${FULL_SYNC_ON_MAC_SOURCE}
  db.pragma('cache_size = -16384');
  const q = createHistoryQueries(db, lib);
  read = db.transaction((method, arg) => q[method](arg));
  parentPort.postMessage({ opened: true });
} catch (e) {
  try { if (db !== undefined) db.close(); } catch (e2) { /* closing anyway */ }
  db = undefined;
  parentPort.postMessage({ openFailed: String((e && e.message) || e) });
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    try { if (db !== undefined) db.close(); } catch (e) { /* closing anyway */ }
    closed();
    parentPort.close();
    return;
  }
  // not answered: the reader is closing, or its file could not be opened (it said so)
  if (Atomics.load(state, ${CLOSING}) === 1 || read === undefined) return;
  try {
    if (!methods.has(m.method)) throw new Error('no query ' + String(m.method));
    const result = read(m.method, m.arg);
    if (m.method === 'candles') {
      // as numbers in one buffer, moved rather than copied: thousands of small objects cost the receiving
      // event loop milliseconds to copy
      const bars = packBars(result);
      parentPort.postMessage({ id: m.id, bars }, [bars.buffer]);
    } else parentPort.postMessage({ id: m.id, result });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { message: String((e && e.message) || e), code: e && e.queryCode, sqlite: e && typeof e.code === 'string' ? e.code : undefined } });
  }
});
`;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

type Reply =
  | { opened: true }
  | { openFailed: string }
  | { id: number; result?: unknown; bars?: Float64Array; error?: { message: string; code?: 'BAD_QUERY' | 'BAD_CURSOR'; sqlite?: string } };

/**
 * Bars as one buffer of numbers, t, o, h, l, c, v each (bar fields are safe integers, exact in a double): moved
 * to or from a thread rather than copied. Self-contained: the reader thread runs its source.
 */
export function packBars(bars: readonly Candle[]): Float64Array {
  const f = new Float64Array(bars.length * 6);
  let j = 0;
  for (const b of bars) {
    f[j++] = b.t;
    f[j++] = b.o;
    f[j++] = b.h;
    f[j++] = b.l;
    f[j++] = b.c;
    f[j++] = b.v;
  }
  return f;
}

/** Candles from a buffer of them (packBars). */
function barsOf(f: Float64Array): Candle[] {
  const out = new Array<Candle>(f.length / 6);
  for (let i = 0, j = 0; j < f.length; i++, j += 6) out[i] = { t: f[j]!, o: f[j + 1]!, h: f[j + 2]!, l: f[j + 3]!, c: f[j + 4]!, v: f[j + 5]! };
  return out;
}

/**
 * A reader thread over one history file. Queries are answered in the order asked. If the thread cannot
 * open the file, or ends, it is lost: `onLost` is told (with `openFailed` set in the first case), and its
 * queries reject with VENUE_FAILED.
 */
export class HistoryReader {
  readonly #worker: Worker;
  readonly #state: Int32Array;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #ended: VenueError | undefined;
  #openFailed = false;

  /** How long (ms) the thread has been busy since it started (its event loop's time not idle). */
  busyMs(): number {
    return this.#worker.performance.eventLoopUtilization().active;
  }

  /** `onLost` is called (on the event loop) if the thread cannot open its file, or ends, without being closed. */
  constructor(path: string, onLost: (e: Error) => void) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const sab = new SharedArrayBuffer(8);
    this.#state = new Int32Array(sab);
    this.#worker = new Worker(READER, { eval: true, workerData: { sqlite, path, state: sab } });
    this.#worker.unref();
    const lost = (e: Error): void => {
      if (this.#ended !== undefined) return;
      this.#end(new VenueError('VENUE_FAILED', `Reading history failed: ${e.message}`, undefined, { cause: e }));
      onLost(e);
    };
    this.#worker.on('message', (m: Reply) => {
      if ('opened' in m) return;
      if ('openFailed' in m) {
        this.#openFailed = true;
        lost(new Error(`the history reader thread could not open ${path}: ${m.openFailed}`));
        void this.#worker.terminate();
        return;
      }
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#settled(m.id);
      if (m.bars !== undefined) p.resolve(barsOf(m.bars));
      else if (m.error === undefined) p.resolve(m.result);
      else if (m.error.code !== undefined) p.reject(new VenueError(m.error.code, m.error.message));
      // a failure of the read itself (not of the reader): an internal error, not the venue's
      else p.reject(Object.assign(new Error(`Reading history failed: ${m.error.message}`), m.error.sqlite === undefined ? {} : { code: m.error.sqlite }));
    });
    this.#worker.on('error', lost);
    this.#worker.on('exit', (code) => lost(new Error(`the history reader thread ended (code ${code})`)));
  }

  /** Whether the thread is gone (closed or lost): a new reader answers further queries. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Whether the thread could not open its file (so another would not either). */
  get openFailed(): boolean {
    return this.#openFailed;
  }

  /**
   * Runs one query on the thread; rejects with the query's VenueError (BAD_QUERY, BAD_CURSOR), VENUE_FAILED
   * if the reader is lost, VENUE_CLOSED (or the reason given) if it is closed first, or an Error if the
   * read itself failed.
   */
  read<K extends ReaderMethod>(method: K, arg: ReaderArg<K>): Promise<ReaderResult<K>> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    const id = ++this.#next;
    return new Promise<ReaderResult<K>>((resolve, reject) => {
      try {
        this.#worker.postMessage({ id, method, arg });
      } catch (e) {
        // an argument that cannot be copied to the thread (a function, a symbol): not a query
        reject(new VenueError('BAD_QUERY', `Not a query argument: ${(e as Error).message}`));
        return;
      }
      // the thread keeps the process alive while it owes an answer
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /**
   * Ends the thread: queries still unanswered reject with `reason` (default VENUE_CLOSED), and it waits (up
   * to `timeoutMs`) until the thread has closed its connection, so the file is not held after this returns.
   */
  close(reason: VenueError = new VenueError('VENUE_CLOSED', 'The venue is closed'), timeoutMs = 5000): void {
    if (this.#ended !== undefined) return;
    this.#end(reason);
    Atomics.store(this.#state, CLOSING, 1);
    this.#worker.postMessage('close');
    Atomics.wait(this.#state, CLOSED, 0, timeoutMs);
    this.#worker.unref();
  }
  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
  }

  #end(e: VenueError): void {
    this.#ended = e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }
}
