/**
 * Copying an SQLite file in WAL mode that one connection holds exclusively (the venue's), byte for byte while
 * that connection commits: copyFileBytes, and why the copy holds the connection's checkpoints and commits
 * once before it starts (Venue.backup). And copying a shared one (the history file, the users database)
 * while another connection commits: copyDatabase.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { copyDatabase, copyFileBytes, copyFiles, CopyStopped } from '../../venue/backup.js';
import { tempDir } from './helpers.js';

describe('copyFileBytes', () => {
  it('copies the bytes the file had when it began, writes the zero range as zeros, and stops when asked', async () => {
    const dir = tempDir();
    const from = join(dir, 'a');
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    fs.writeFileSync(from, data);
    let chunks = 0;
    const n = copyFileBytes(fs, { from, to: join(dir, 'b'), zero: [100_000, 104_096] }, 65_536, 131_072, () => {
      // the file grows while it is copied: what is added is not copied
      if (chunks++ === 1) fs.appendFileSync(from, Buffer.alloc(10_000, 1));
      return false;
    });
    expect(n).toBe(300_000);
    const copy = fs.readFileSync(join(dir, 'b'));
    expect(copy.length).toBe(300_000);
    expect(copy.subarray(100_000, 104_096).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(copy.subarray(0, 100_000), data.subarray(0, 100_000))).toBe(0);
    expect(Buffer.compare(copy.subarray(104_096), data.subarray(104_096))).toBe(0);
    // a zero range past the end, and one that ends the file
    copyFileBytes(fs, { from, to: join(dir, 'c'), zero: [305_000, 400_000] }, 65_536, 1 << 20, () => false);
    const c = fs.readFileSync(join(dir, 'c'));
    expect(c.length).toBe(310_000);
    expect(c.subarray(305_000).every((b) => b === 0)).toBe(true);
    expect(c[304_999]).toBe(1);
    // a zero range longer than a read
    copyFileBytes(fs, { from, to: join(dir, 'g'), zero: [10_000, 200_000] }, 65_536, 1 << 20, () => false);
    const g = fs.readFileSync(join(dir, 'g'));
    expect(g.length).toBe(310_000);
    expect(g.subarray(10_000, 200_000).every((b) => b === 0)).toBe(true);
    expect(Buffer.compare(g.subarray(0, 10_000), data.subarray(0, 10_000))).toBe(0);
    expect(Buffer.compare(g.subarray(200_000, 300_000), data.subarray(200_000))).toBe(0);
    // read through a descriptor the caller holds: the copy leaves it open
    const fd = fs.openSync(from, 'r');
    copyFileBytes(fs, { from, fd, to: join(dir, 'h') }, 65_536, 1 << 20, () => false);
    expect(fs.fstatSync(fd).size).toBe(310_000);
    fs.closeSync(fd);
    // the destination must not exist
    expect(() => copyFileBytes(fs, { from, to: join(dir, 'c') }, 65_536, 1 << 20, () => false)).toThrow(/EEXIST/);
    expect(() => copyFileBytes(fs, { from, to: join(dir, 'd') }, 65_536, 1 << 20, () => true)).toThrow('stopped');
    // on a worker thread, and stopped from here
    const big = join(dir, 'big');
    fs.writeFileSync(big, Buffer.alloc(64 << 20, 5));
    await expect(copyFiles([{ from: big, to: join(dir, 'e') }], () => true)).rejects.toBeInstanceOf(CopyStopped);
    expect(await copyFiles([{ from, to: join(dir, 'f') }])).toEqual({ bytes: 310_000 });
  });
});

/**
 * A connection as the venue's (WAL, exclusive) with a table that each commit appends a row to (on the last
 * page of the table, as the journal's frames) and whose first row (on its first page) it sets to the count
 * of the others. A state mixed from two commits breaks that.
 */
function held(file: string): { db: Database.Database; commit: () => void } {
  const db = new Database(file);
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, pad BLOB NOT NULL); INSERT INTO t VALUES (0, 0, zeroblob(3000))");
  const add = db.prepare('INSERT INTO t (v, pad) VALUES (1, zeroblob(1000))');
  const count = db.prepare('UPDATE t SET v = (SELECT count(*) FROM t WHERE id > 0) WHERE id = 0');
  return { db, commit: db.transaction(() => (add.run(), count.run())) as () => void };
}

/** The copy's state: its rows and whether they agree (the first row's count is theirs). */
function copied(file: string): { rows: number; agree: boolean; check: string } {
  const db = new Database(file, { fileMustExist: true });
  try {
    const check = db.pragma('quick_check', { simple: true }) as string;
    const rows = db.prepare('SELECT count(*) FROM t WHERE id > 0').pluck().get() as number;
    const agree = db.prepare('SELECT v FROM t WHERE id = 0').pluck().get() === rows;
    return { rows, agree, check };
  } finally {
    db.close();
  }
}

/**
 * A database of 300 commits, copied and then its WAL, its connection's checkpoints held (after one commit,
 * with `commitFirst`, and then 20 commits while the file is copied, so they are in the WAL before it is
 * read: without, they would start the WAL over before it is read, as that commit does); then the WAL's first
 * 256 KB at once and 40 commits before each next 256 KB (enough to write past it). The copy's state, the rows
 * when the copy began and when it was done.
 */
function copyWhileCommitting(commitFirst: boolean): { copy: ReturnType<typeof copied>; rowsAtStart: number; rowsAtEnd: number } {
  const dir = tempDir();
  const src = join(dir, 'src.db');
  const dest = join(dir, 'copy.db');
  const live = held(src);
  for (let i = 0; i < 300; i++) live.commit();
  const rows = (): number => live.db.prepare('SELECT count(*) FROM t WHERE id > 0').pluck().get() as number;
  live.db.pragma('wal_checkpoint(PASSIVE)'); // the WAL all copied into the file: the next commit starts it over
  live.db.pragma('wal_autocheckpoint = 0');
  if (commitFirst) live.commit();
  const rowsAtStart = rows();
  let commitsDuringFile = commitFirst ? 20 : 0;
  copyFileBytes(fs, { from: src, to: dest }, 4096, 1 << 30, () => {
    for (; commitsDuringFile > 0; commitsDuringFile--) live.commit();
    return false;
  });
  let chunk = 0;
  copyFileBytes(fs, { from: `${src}-wal`, to: `${dest}-wal` }, 256 << 10, 1 << 30, () => {
    if (chunk++ > 0) for (let i = 0; i < 40; i++) live.commit();
    return false;
  });
  const rowsAtEnd = rows();
  live.db.close();
  return { copy: copied(dest), rowsAtStart, rowsAtEnd };
}

describe('a byte copy of a held WAL database', () => {
  it('with one commit after the checkpoints are held and before the copy, is the database as of one commit, at or after its start', () => {
    const { copy, rowsAtStart, rowsAtEnd } = copyWhileCommitting(true);
    expect(copy.check).toBe('ok');
    expect(copy.agree).toBe(true);
    // it has the commits made while the file was copied, and not all made while the WAL was
    expect(copy.rows).toBeGreaterThanOrEqual(rowsAtStart + 20);
    expect(copy.rows).toBeLessThan(rowsAtEnd);
  });

  it('without that commit, the WAL starts over while it is copied, and the copy is not the database as of the copy', () => {
    const { copy, rowsAtStart } = copyWhileCommitting(false);
    // (the hazard the commit removes: an older state than the copy's start, or a mixed or damaged one)
    expect(copy.check !== 'ok' || !copy.agree || copy.rows < rowsAtStart).toBe(true);
  });
});

describe('copyDatabase', () => {
  /** A shared WAL database of about `mb` MB: rows of 4 KB, and a counter row that every commit keeps equal to their count. */
  function sharedDb(mb: number): { path: string; db: Database.Database; commit: () => void } {
    const path = join(tempDir(), 'shared.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB NOT NULL); CREATE TABLE c (n INTEGER NOT NULL); INSERT INTO c VALUES (0)');
    const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
    const up = db.prepare('UPDATE c SET n = n + 1');
    const commit = db.transaction(() => {
      ins.run(Buffer.alloc(4000, 7));
      up.run();
    });
    for (let i = 0; i < mb * 250; i++) commit();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { path, db, commit };
  }

  it('copies in steps while another connection commits all along, and the copy is the file as of one commit', async () => {
    // 24 MB: six steps of 4 MB, each a moment for the writer to commit between
    const { path, db, commit } = sharedDb(24);
    const rowsAtStart = Number(db.prepare('SELECT count(*) FROM t').pluck().get());
    let done = false;
    const copying = copyDatabase(path, `${path}.copy`, { probe: 'SELECT n FROM c' }).finally(() => (done = true));
    let commits = 0;
    const deadline = performance.now() + 20_000;
    while (!done && performance.now() < deadline) {
      commit();
      commits++;
      await new Promise((r) => setTimeout(r, 1));
    }
    // (a backup that starts over at each commit between its steps would never end under this writer)
    expect(done, 'the copy finished while the writer committed').toBe(true);
    const copied = await copying;
    expect(commits).toBeGreaterThan(5);
    const c = new Database(`${path}.copy`, { readonly: true });
    const rows = Number(c.prepare('SELECT count(*) FROM t').pluck().get());
    expect(c.pragma('quick_check', { simple: true })).toBe('ok');
    expect(c.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(Number(c.prepare('SELECT n FROM c').pluck().get())).toBe(rows);
    expect(copied.probe).toBe(rows);
    expect(rows).toBeGreaterThanOrEqual(rowsAtStart);
    expect(rows).toBeLessThanOrEqual(rowsAtStart + commits);
    c.close();
    db.close();
  });

  it('is abandoned when the WAL grows past the limit while it runs (its read transaction holds the checkpoints back)', async () => {
    const { path, db, commit } = sharedDb(24);
    let done = false;
    const copying = copyDatabase(path, `${path}.copy`, { walGrowthBytes: 64 * 1024 }).then(
      () => new Error('the copy was made'),
      (e: unknown) => e,
    );
    void copying.finally(() => (done = true));
    // 4 KB rows, 8 commits a turn: 64 KB of WAL in two turns, which no checkpoint can take back past the
    // copy's snapshot
    while (!done) {
      for (let i = 0; i < 8; i++) commit();
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(String(await copying)).toMatch(/^Error: The copy of .*shared\.db was abandoned: its WAL grew by more than 0 MB while the copy ran/);
    expect(fs.existsSync(`${path}.copy`)).toBe(false);
    db.close();
  });

  it('stops between two steps when asked, and leaves no copy', async () => {
    const { path, db } = sharedDb(32);
    await expect(copyDatabase(path, `${path}.copy`, { stop: () => true })).rejects.toBeInstanceOf(CopyStopped);
    expect(fs.existsSync(`${path}.copy`)).toBe(false);
    db.close();
  });
});
