/**
 * Online copies of SQLite files, made while the server runs and writes them.
 *
 * Two ways, by who holds the file:
 * - A file shared in WAL mode (the history file, the users database): a worker thread opens its own
 *   read-only connection and copies every page with SQLite's backup API, 4 MB a step, all under one read
 *   transaction, so the copy is the file as of one commit; the writers go on meanwhile (WAL readers block
 *   no one). The copy costs the event loop nothing.
 * - The venue's own file, held exclusively by its connection (no other connection can open it): a worker
 *   thread copies its bytes, the database file and then its WAL (copyHeldDatabase), while the venue holds its
 *   checkpoints (Venue.backup). In WAL mode only a checkpoint writes the database file, so it does not change
 *   while it is copied, and the WAL is only appended to meanwhile: a WAL starts over (is written again from
 *   its beginning) only at the first write after a checkpoint emptied it, and the venue commits once after
 *   holding the checkpoints, before the copy begins, so that this happens before, not during, the copy.
 *   The copy of the WAL may catch the venue's latest commits part-written; SQLite's recovery, when the copy
 *   is opened, keeps the commits before the first frame that is not whole (each frame's checksum covers
 *   every frame before it, and a frame of an older WAL fails it), as after a crash. So the copy is the venue
 *   as of one commit, at or after the copy began. The copy reads the venue's file through descriptors the
 *   venue holds open (see copyFileBytes), and the venue lets go of its checkpoints once the bytes are copied.
 *
 * Either way a copy is then made self-contained and checked, on a worker thread: journal mode DELETE (a WAL
 * file copies as one: its header says WAL, and a copy should not need a -wal beside it), `quick_check`, and
 * an fsync of the file. A server started on the copy sets WAL again.
 *
 * The worker is a plain CommonJS script given as source (it runs the same under tsx, the tests and the
 * bundled server; better-sqlite3 is resolved here and passed by path), as the history and audit writers.
 */
import { statSync } from 'node:fs';
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

/** The byte where SQLite's lock-byte page begins (its PENDING_BYTE): the page holds no data. */
export const LOCK_BYTE = 0x40000000;

/**
 * One file copied byte for byte (copyFiles). `fd`: read through this descriptor, which the copy never closes
 * (`from` then only names the file). `zero`: a range [from, to) written as zeros, not read.
 */
export interface ByteCopy {
  from: string;
  fd?: number;
  to: string;
  zero?: [number, number];
}

/**
 * Copies `c.from` to `c.to` (which must not exist) up to the size `c.from` had when the copy began, in
 * `chunk`-byte reads, syncing the copy's data every `syncEvery` bytes (so that it never holds much
 * unwritten: on one ext4 filesystem other files' fsyncs, the journal's, wait for it) and at the end. The
 * range `c.zero` is written as zeros: on Windows the range a connection holds locked cannot be read by
 * another handle, and SQLite keeps no data in it. `stopped()` is asked before each chunk: true throws
 * 'stopped'. Returns the bytes copied.
 *
 * A file an SQLite connection of this process holds must be read through a descriptor opened for as long as
 * that connection (`c.fd`): on Linux and macOS the locks a process holds on a file are all released when
 * any of its descriptors on that file is closed, so opening and closing one here would let another process
 * open the venue's file while the venue writes it.
 *
 * Runs inside the copying thread as source (its text is the worker's), so it is plain JavaScript that is
 * given its modules: no imports, no helpers of its own, only the globals a worker has.
 */
export function copyFileBytes(
  fs: typeof import('node:fs'),
  c: ByteCopy,
  chunk: number,
  syncEvery: number,
  stopped: () => boolean,
): number {
  const src = c.fd ?? fs.openSync(c.from, 'r');
  try {
    const size = fs.fstatSync(src).size;
    const out = fs.openSync(c.to, 'wx');
    try {
      const buf = Buffer.alloc(chunk);
      let pos = 0;
      let unsynced = 0;
      while (pos < size) {
        if (stopped()) throw new Error('stopped');
        let n = Math.min(chunk, size - pos);
        let zeros = false;
        if (c.zero !== undefined && pos < c.zero[1] && pos + n > c.zero[0]) {
          if (pos < c.zero[0]) n = c.zero[0] - pos;
          else {
            n = Math.min(chunk, c.zero[1] - pos, size - pos);
            zeros = true;
          }
        }
        if (zeros) buf.fill(0, 0, n);
        else {
          n = fs.readSync(src, buf, 0, n, pos);
          if (n === 0) break; // (shorter than it was: only what was there is copied)
        }
        for (let w = 0; w < n; ) w += fs.writeSync(out, buf, w, n - w, pos + w);
        pos += n;
        unsynced += n;
        if (unsynced >= syncEvery) {
          fs.fdatasyncSync(out);
          unsynced = 0;
        }
      }
      fs.fsyncSync(out);
      return pos;
    } finally {
      fs.closeSync(out);
    }
  } finally {
    if (c.fd === undefined) fs.closeSync(src);
  }
}

/** A copy's reads (bytes): 1 MB. */
const COPY_CHUNK = 1 << 20;
/**
 * A copy's data is synced every this many bytes (4 MB). On one ext4 filesystem the journal's own fsyncs wait
 * for other files' data written before them, so the copy keeps little unwritten: with 64 MB between fsyncs
 * the acks' p99 over a copy of the venue was 43-70 ms, with 4 MB 19-23 (`npm run bench:backup`, 200 MB at
 * 5,000 orders/s, when the copy went through the venue's connection).
 */
const COPY_SYNC_BYTES = 4 << 20;

const WORKER = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.sqlite);
const { src, dest, probe, steps, attach, copies, stop } = workerData;
${LOWER_PRIORITY_SOURCE}
const copyFileBytes = ${copyFileBytes.toString()};
// (stop: an Int32Array the caller sets to 1 to stop the copy)
const stopped = () => stop !== undefined && Atomics.load(stop, 0) === 1;
(async () => {
  if (copies !== undefined) {
    const done = [];
    for (const c of copies) done.push(copyFileBytes(fs, c, ${COPY_CHUNK}, ${COPY_SYNC_BYTES}, stopped));
    if (dest === undefined) {
      parentPort.postMessage({ bytes: done.reduce((a, b) => a + b, 0) });
      return;
    }
    // the sources are no longer read (the caller may let them change from here)
    parentPort.postMessage({ copied: true });
  }
  if (src !== undefined) {
    const from = new Database(src, { readonly: true, fileMustExist: true });
    let out;
    try {
      from.pragma('busy_timeout = 10000');
      // One read transaction for the whole copy, however many steps: the copy is the file as of one commit,
      // and the backup does not start over when a writer commits between two steps (it would at each step
      // otherwise, and never end under a steady writer).
      from.exec('BEGIN');
      from.prepare('SELECT count(*) FROM sqlite_schema').get();
      const pageSize = from.pragma('page_size', { simple: true });
      const pages = Math.max(1, Math.floor(${COPY_SYNC_BYTES} / pageSize));
      await from.backup(dest, {
        progress: () => {
          if (stopped()) throw new Error('stopped');
          // what the steps so far wrote is synced before the next (see copyFileBytes: COPY_SYNC_BYTES)
          if (out === undefined) out = fs.openSync(dest, 'r+');
          fs.fdatasyncSync(out);
          return pages;
        },
      });
      from.exec('COMMIT');
    } finally {
      try {
        if (out !== undefined) fs.closeSync(out);
      } finally {
        from.close();
      }
    }
    if (stopped()) throw new Error('stopped');
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
  // opened for writing: Windows syncs no file through a read-only handle (EPERM)
  const fd = fs.openSync(dest, 'r+');
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

interface WorkerData {
  src?: string;
  dest?: string;
  probe?: string;
  steps?: CopyStep[];
  attach?: string;
  copies?: ByteCopy[];
}

/** Thrown when a copy was stopped by its `stop()` (copyFiles, copyHeldDatabase). */
export class CopyStopped extends Error {
  constructor() {
    super('The copy was stopped');
    this.name = 'CopyStopped';
  }
}

/** How often a byte copy's `stop()` is asked (ms). */
const STOP_POLL_MS = 10;

/**
 * What a copy's caller hears: `stop()`, asked every few ms (one that throws counts as true); `onCopied()`,
 * once a byte copy's sources are no longer read.
 */
interface Control {
  stop?: () => boolean;
  onCopied?: () => void;
}

/** A caller's `stop()`: one that throws counts as true. */
function asked(stop: () => boolean): boolean {
  try {
    return stop();
  } catch {
    return true;
  }
}

function runWorker(data: WorkerData, control: Control = {}): Promise<CopiedFile> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const { stop, onCopied } = control;
    const flag = stop === undefined ? undefined : new Int32Array(new SharedArrayBuffer(4));
    // (a copy asked to stop before it begins stops at its first look, whenever the worker gets there)
    if (flag !== undefined && asked(stop!)) Atomics.store(flag, 0, 1);
    const w = new Worker(WORKER, {
      eval: true,
      workerData: { ...data, stop: flag, sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), nice: backgroundNice() },
    });
    const poll =
      flag === undefined
        ? undefined
        : setInterval(() => {
            if (asked(stop!)) Atomics.store(flag, 0, 1);
          }, STOP_POLL_MS);
    const settle = (): void => {
      settled = true;
      if (poll !== undefined) clearInterval(poll);
    };
    w.on('message', (m: { bytes: number; probe?: unknown } | { error: string } | { copied: true }) => {
      if ('copied' in m) {
        try {
          onCopied?.();
        } catch (e) {
          if (!settled) reject(e);
          settle();
          void w.terminate();
        }
        return;
      }
      settle();
      if ('error' in m) reject(m.error === 'stopped' ? new CopyStopped() : new Error(`Copying ${data.src ?? data.copies?.[0]?.from ?? data.dest} failed: ${m.error}`));
      else resolve(m.probe === undefined ? { bytes: m.bytes } : { bytes: m.bytes, probe: m.probe });
      void w.terminate();
    });
    w.once('error', (e) => {
      if (!settled) reject(e);
      settle();
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`The copying thread ended (code ${code}) before it finished ${data.dest ?? 'its copy'}`));
      settle();
    });
  });
}

/**
 * How much a WAL may grow while a copy holds it back before the copy is abandoned (256 MB): a copy that
 * does not get on (a backup volume that hangs) must not let it grow without bound.
 */
export const MAX_WAL_GROWTH = 256 * 2 ** 20;

/** A file's size, 0 when it is not there. */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Copies the SQLite file `src` (in WAL mode, shared) to `dest` (which must not exist) on a worker thread, as
 * of one commit (under one read transaction), with SQLite's backup API in steps of COPY_SYNC_BYTES, the
 * copy's data synced after each (as a byte copy's, so that it never holds much unwritten); then makes the
 * copy self-contained and checks it: journal mode DELETE, `quick_check`, fsync; then runs `o.probe` on it,
 * if given. `o.stop()`: as copyFiles (asked between the steps). The read transaction keeps the writers'
 * checkpoints from going past it, so their WAL grows meanwhile: a copy during which it grows by more than
 * `o.walGrowthBytes` (default MAX_WAL_GROWTH) is abandoned at its next step (rejects, saying so).
 */
export async function copyDatabase(src: string, dest: string, o: { probe?: string; stop?: () => boolean; walGrowthBytes?: number } = {}): Promise<CopiedFile> {
  const wal = `${src}-wal`;
  const limit = o.walGrowthBytes ?? MAX_WAL_GROWTH;
  const walAtStart = sizeOf(wal);
  let grew = false;
  const stop = (): boolean => {
    grew ||= sizeOf(wal) - walAtStart > limit;
    return grew || (o.stop?.() ?? false);
  };
  try {
    return await runWorker(o.probe === undefined ? { src, dest } : { src, dest, probe: o.probe }, { stop });
  } catch (e) {
    if (e instanceof CopyStopped && grew)
      throw new Error(`The copy of ${src} was abandoned: its WAL grew by more than ${Math.round(limit / 2 ** 20)} MB while the copy ran (is the backup folder's volume slow?)`);
    throw e;
  }
}

/**
 * Copies files byte for byte on a worker thread (see copyFileBytes), one after the other; resolves with the
 * bytes copied. `stop()` is asked every few ms: true stops the copy (rejects with CopyStopped).
 */
export function copyFiles(copies: ByteCopy[], stop?: () => boolean): Promise<CopiedFile> {
  return runWorker({ copies }, { stop });
}

/**
 * Copies an SQLite database in WAL mode that a connection of this process holds exclusively (the venue's),
 * as of one commit, to `dest` (which must not exist, nor `dest`-wal), on a worker thread: its file, then its
 * WAL, byte for byte through the descriptors in `src` (see copyFileBytes: open for as long as the
 * connection; SQLite's lock-byte page, of `pageSize` bytes at LOCK_BYTE, as zeros); then made self-contained
 * and checked as copyDatabase's copies are (when the copy is opened, SQLite's recovery of its WAL keeps the
 * commits before the first frame that is not whole or not of that WAL); then runs `probe` on it, if given.
 * The caller must hold the connection's checkpoints until `onCopied()` (see the file's comment). `stop()`:
 * as copyFiles.
 */
export function copyHeldDatabase(
  src: { file: string; fd: number; wal: string; walFd: number },
  dest: string,
  o: { pageSize: number; probe?: string } & Control,
): Promise<CopiedFile> {
  const copies: ByteCopy[] = [
    { from: src.file, fd: src.fd, to: dest, zero: [LOCK_BYTE, LOCK_BYTE + o.pageSize] },
    { from: src.wal, fd: src.walFd, to: `${dest}-wal` },
  ];
  return runWorker(o.probe === undefined ? { copies, dest } : { copies, dest, probe: o.probe }, o);
}

/**
 * Changes a finished copy (in journal mode DELETE) on a worker thread: `steps` in one transaction, then the
 * copy is checked and fsynced again (as copyDatabase's copies). For what a copy must say that its source
 * said only after it was copied. With `attach`, that database (a WAL file others write: only read here) is the
 * schema `live` in the steps.
 */
export function amendCopy(dest: string, steps: CopyStep[], attach?: string): Promise<CopiedFile> {
  return runWorker(attach === undefined ? { dest, steps } : { dest, steps, attach });
}
