/**
 * The history file's reader thread: answers history queries (a blotter's orders, executions, statement,
 * statistics, recent trades) on a connection of its own, so their SQL runs beside the sequencer instead of
 * on its event loop. The venue hands a query over once everything acknowledged before it is written
 * (Venue.queryHistory), so the reader's answer includes all of it; each query runs in one read transaction
 * (WAL: a consistent view of the file while its writer thread goes on).
 *
 * The queries are the venue's own (queries.ts createHistoryQueries, whose source the thread runs), so a
 * query answers the same on either side. Candles stay on the venue's connection: imported bars are in the
 * venue file, which the venue holds exclusively.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { VenueError } from './errors.js';
import { ORDER_SELECT, orderRecord } from './history.js';
import { createHistoryQueries, periodStart, type HistoryQueries } from './queries.js';

/** The queries a reader thread answers. */
export const READER_METHODS = ['orders', 'executions', 'recentTrades', 'statement', 'tradeStats'] as const;
export type ReaderMethod = (typeof READER_METHODS)[number];
export type ReaderArg<K extends ReaderMethod> = NonNullable<Parameters<HistoryQueries[K]>[0]>;
export type ReaderResult<K extends ReaderMethod> = ReturnType<HistoryQueries[K]>;

const READER = `
'use strict';
var __name = function (f) { return f; };
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const lib = {
  orderSelect: ${JSON.stringify(ORDER_SELECT)},
  orderRecord: ${orderRecord.toString()},
  periodStart: ${periodStart.toString()},
  fail(code, message) { return Object.assign(new Error(message), { queryCode: code }); },
};
const createHistoryQueries = ${createHistoryQueries.toString()};
const methods = new Set(${JSON.stringify(READER_METHODS)});
let db;
let read;
let openError;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  db.pragma('query_only = ON');
  db.pragma('cache_size = -16384');
  const q = createHistoryQueries(db, lib);
  read = db.transaction((method, arg) => q[method](arg));
} catch (e) {
  openError = e;
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    try { if (db !== undefined) db.close(); } catch (e) { /* closing anyway */ }
    parentPort.close();
    return;
  }
  try {
    if (openError !== undefined) throw openError;
    if (!methods.has(m.method)) throw new Error('no query ' + String(m.method));
    parentPort.postMessage({ id: m.id, result: read(m.method, m.arg) });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { message: String((e && e.message) || e), code: e && e.queryCode } });
  }
});
`;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** A reader thread over one history file. */
export class HistoryReader {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #ended: VenueError | undefined;

  /** `onLost` is called (on the event loop) if the thread ends or fails without being closed. */
  constructor(path: string, onLost: (e: Error) => void) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(READER, { eval: true, workerData: { sqlite, path } });
    this.#worker.unref();
    this.#worker.on('message', (m: { id: number; result?: unknown; error?: { message: string; code?: 'BAD_QUERY' | 'BAD_CURSOR' } }) => {
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#settled(m.id);
      if (m.error === undefined) p.resolve(m.result);
      else if (m.error.code !== undefined) p.reject(new VenueError(m.error.code, m.error.message));
      else p.reject(new VenueError('VENUE_FAILED', `Reading history failed: ${m.error.message}`));
    });
    const lost = (e: Error): void => {
      if (this.#ended !== undefined) return;
      this.#end(new VenueError('VENUE_FAILED', `Reading history failed: ${e.message}`, undefined, { cause: e }));
      onLost(e);
    };
    this.#worker.on('error', lost);
    this.#worker.on('exit', (code) => lost(new Error(`the history reader thread ended (code ${code})`)));
  }

  /** Whether the thread is gone (closed or lost): a new reader answers further queries. */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Runs one query on the thread; rejects with the query's VenueError (BAD_QUERY, BAD_CURSOR), or VENUE_FAILED. */
  read<K extends ReaderMethod>(method: K, arg: ReaderArg<K>): Promise<ReaderResult<K>> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    const id = ++this.#next;
    // the thread keeps the process alive while it owes an answer
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise<ReaderResult<K>>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, method, arg });
    });
  }

  /** Ends the thread; queries still unanswered reject with VENUE_CLOSED. */
  close(): void {
    if (this.#ended !== undefined) return;
    this.#end(new VenueError('VENUE_CLOSED', 'The venue is closed'));
    this.#worker.postMessage('close');
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
