// The background threads' priority (engine/venue/thread-priority.ts): on Linux the history writer, a backup's copy and a
// thread running the workers' line lower themselves, and only themselves, to the background nice value;
// the event loop's thread keeps its own; 0 leaves every thread as it is; elsewhere
// nothing is changed.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { copyDatabase } from '../../venue/backup.js';
import { BACKGROUND_NICE, LOWER_PRIORITY_SOURCE, backgroundNice, lowerThreadPriority, setBackgroundNice } from '../../venue/thread-priority.js';
import { newThreads, openVenue, setUpLoad, tempDb, threadNices } from './helpers.js';

const linux = process.platform === 'linux';
const selfTid = (): number => Number(fs.readlinkSync('/proc/thread-self').split('/').pop());

afterEach(() => setBackgroundNice(BACKGROUND_NICE));

/** Waits until a thread started after `before` has a nice value above 0; returns the new threads then. */
async function niced(before: Map<number, number>): Promise<Map<number, number>> {
  for (let i = 0; i < 500; i++) {
    const fresh = newThreads(before);
    if ([...fresh.values()].some((n) => n > 0)) return fresh;
    await new Promise((r) => setTimeout(r, 10));
  }
  return newThreads(before);
}

describe('the background threads priority', () => {
  it('changes nothing outside Linux, at 0, or where it is refused, and never the process', () => {
    const calls: number[][] = [];
    const os = { setPriority: (pid: number, p: number) => void calls.push([pid, p]) };
    const fsAt = (link: string) => ({ readlinkSync: () => link });
    expect(lowerThreadPriority(fsAt('10/task/12'), os, 'darwin', 10)).toBe(0);
    expect(lowerThreadPriority(fsAt('10/task/12'), os, 'win32', 10)).toBe(0);
    expect(lowerThreadPriority(fsAt('10/task/12'), os, 'linux', 0)).toBe(0);
    expect(lowerThreadPriority(fsAt('10/task/nope'), os, 'linux', 10)).toBe(0);
    expect(calls).toEqual([]);
    expect(lowerThreadPriority(fsAt('10/task/12'), os, 'linux', 10)).toBe(12);
    expect(calls).toEqual([[12, 10]]); // the thread's id, not the process's (10)
    const refusing = { setPriority: () => { throw new Error('EACCES'); } };
    expect(lowerThreadPriority(fsAt('10/task/12'), refusing, 'linux', 10)).toBe(0);
    expect(() => setBackgroundNice(20)).toThrow(RangeError);
    expect(() => setBackgroundNice(-1)).toThrow(RangeError);
    expect(() => setBackgroundNice(2.5)).toThrow(RangeError);
    expect(backgroundNice()).toBe(BACKGROUND_NICE);
  });

  it.runIf(linux)('the workers line lowers its own thread alone', async () => {
    const run = (nice: number) =>
      new Promise<number>((resolve, reject) => {
        const w = new Worker(
          `const { parentPort, workerData } = require('node:worker_threads');
           ${LOWER_PRIORITY_SOURCE}
           const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
           parentPort.postMessage(tid);
           setTimeout(() => {}, 2000);`,
          { eval: true, workerData: { nice } },
        );
        w.once('message', (tid: number) => {
          const nices = threadNices();
          void w.terminate();
          resolve(nices.get(tid) ?? -1);
        });
        w.once('error', reject);
      });
    expect(await run(10)).toBe(10);
    expect(await run(19)).toBe(19);
    expect(await run(0)).toBe(0);
    expect(threadNices().get(selfTid())).toBe(0);
    expect(threadNices().get(process.pid)).toBe(0);
  });

  it.runIf(linux)('a venue history writer runs below the event loop, which keeps its priority', async () => {
    const before = threadNices();
    const v = openVenue(tempDb());
    await setUpLoad(v);
    v.syncHistory();
    const fresh = await niced(before);
    // one new thread lowered: the writer
    expect([...fresh.values()].filter((n) => n > 0)).toEqual([BACKGROUND_NICE]);
    expect(threadNices().get(selfTid())).toBe(0);
    v.close({ snapshot: false });
  });

  it.runIf(linux)("a backup's copy runs below the event loop while it copies", async () => {
    // a file whose copy takes a while (tens of MB), so that the copying thread can be seen at work
    const src = tempDb();
    const db = new Database(src);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (b BLOB)');
    db.prepare('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000) INSERT INTO t SELECT randomblob(4000) FROM n').run();
    db.close();
    const before = threadNices();
    const seen = new Set<number>();
    const watch = setInterval(() => {
      for (const n of newThreads(before).values()) seen.add(n);
    }, 1);
    try {
      const copied = await copyDatabase(src, `${src}.copy`);
      expect(copied.bytes).toBeGreaterThan(40_000_000);
    } finally {
      clearInterval(watch);
    }
    expect([...seen]).toContain(BACKGROUND_NICE);
  });

  it.runIf(linux)('at 0 the history writer keeps the normal priority', async () => {
    setBackgroundNice(0);
    const before = threadNices();
    const v = openVenue(tempDb());
    await setUpLoad(v);
    v.syncHistory(); // the writer has run
    const fresh = newThreads(before);
    expect(fresh.size).toBeGreaterThan(0);
    expect([...fresh.values()].every((n) => n === 0)).toBe(true);
    v.close({ snapshot: false });
  });
});
