/**
 * Online copies of SQLite files, made while the server runs and writes them.
 *
 * Two ways, by who holds the file:
 * - A file shared in WAL mode (the history file, the users database): a worker thread opens its own
 *   read-only connection and copies every page with SQLite's backup API in one step, under one read
 *   transaction, so the copy is the file as of one commit; the writers go on meanwhile (WAL readers block
 *   no one). The copy costs the event loop nothing.
 * - The venue's own file, held exclusively by its connection (no other connection can read it): the venue
 *   copies it through that connection a few hundred pages per turn of the event loop (Venue.backup). SQLite
 *   writes every page that connection changes meanwhile into the copy as well, so the copy is the file as of
 *   the last step.
 *
 * Either way a copy is then made self-contained and checked, on a worker thread: journal mode DELETE (a WAL
 * file copies as one: its header says WAL, and a copy should not need a -wal beside it), `quick_check`, and
 * an fsync of the file. A server started on the copy sets WAL again.
 *
 * The worker is a plain CommonJS script given as source (it runs the same under tsx, the tests and the
 * bundled server; better-sqlite3 is resolved here and passed by path), as the history and audit writers.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { backgroundNice, LOWER_PRIORITY_SOURCE } from './thread-priority.js';

/** What a copy holds once finished. */
export interface CopiedFile {
  /** Size of the copy (bytes). */
  bytes: number;
  /** The answer of the copy's probe query (first column of its first row), when one was given. */
  probe?: unknown;
}

const WORKER = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.sqlite);
const { src, dest, probe, steps, attach } = workerData;
${LOWER_PRIORITY_SOURCE}
(async () => {
  if (src !== undefined) {
    const from = new Database(src, { readonly: true, fileMustExist: true });
    try {
      from.pragma('busy_timeout = 10000');
      // The first step only counts the pages; the second copies all of them under one read transaction.
      await from.backup(dest, { progress: () => 0x7fffffff });
    } finally {
      from.close();
    }
  }
  const db = new Database(dest, { fileMustExist: true });
  let answer;
  try {
    const mode = db.pragma('journal_mode = DELETE', { simple: true });
    if (mode !== 'delete') throw new Error('the copy stays in journal mode ' + mode);
    if (steps !== undefined) {
      // another database the steps read, as schema \`live\` (attached outside the transaction, as SQLite requires)
      if (attach !== undefined) db.prepare("ATTACH DATABASE ? AS live").run(attach);
      db.transaction(() => {
        for (const s of steps) {
          const st = db.prepare(s.sql);
          if (s.rows === undefined) st.run();
          else for (const r of s.rows) st.run(r);
        }
      })();
      if (attach !== undefined) db.exec('DETACH DATABASE live');
    }
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error('the copy fails its check: ' + check);
    if (probe !== undefined) {
      const row = db.prepare(probe).raw().get();
      answer = row === undefined ? null : row[0];
    }
  } finally {
    db.close();
  }
  const fd = fs.openSync(dest, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  parentPort.postMessage({ bytes: fs.statSync(dest).size, probe: answer });
})().catch((e) => parentPort.postMessage({ error: String((e && e.message) || e) }));
`;

/** A statement run on a copy (amendCopy): once, or once per row of parameters. */
export interface CopyStep {
  sql: string;
  rows?: unknown[][];
}

function runWorker(data: { src?: string; dest: string; probe?: string; steps?: CopyStep[]; attach?: string }): Promise<CopiedFile> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const w = new Worker(WORKER, { eval: true, workerData: { ...data, sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), nice: backgroundNice() } });
    w.once('message', (m: { bytes: number; probe?: unknown } | { error: string }) => {
      settled = true;
      if ('error' in m) reject(new Error(`Copying ${data.src ?? data.dest} failed: ${m.error}`));
      else resolve(m.probe === undefined ? { bytes: m.bytes } : { bytes: m.bytes, probe: m.probe });
      void w.terminate();
    });
    w.once('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`The copying thread ended (code ${code}) before it finished ${data.dest}`));
      settled = true;
    });
  });
}

/**
 * Copies the SQLite file `src` (in WAL mode, shared) to `dest` (which must not exist) on a worker thread, as
 * of one commit, and finishes the copy (see finishCopy).
 */
export function copyDatabase(src: string, dest: string): Promise<CopiedFile> {
  return runWorker({ src, dest });
}

/**
 * Makes a copy made with the backup API self-contained and checks it, on a worker thread: journal mode
 * DELETE, `quick_check`, fsync; then runs `probe` on it, if given. Rejects if the copy fails its check.
 */
export function finishCopy(dest: string, probe?: string): Promise<CopiedFile> {
  return runWorker(probe === undefined ? { dest } : { dest, probe });
}

/**
 * Changes a finished copy (in journal mode DELETE) on a worker thread: `steps` in one transaction, then the
 * copy is checked and fsynced again (see finishCopy). For what a copy must say that its source said only
 * after it was copied. With `attach`, that database (a WAL file others write: only read here) is the
 * schema `live` in the steps.
 */
export function amendCopy(dest: string, steps: CopyStep[], attach?: string): Promise<CopiedFile> {
  return runWorker(attach === undefined ? { dest, steps } : { dest, steps, attach });
}
