/**
 * Venue.backup: an online copy of the venue (its file and its WAL byte for byte, its checkpoints held
 * meanwhile; its history file by a worker thread's connection) while commands are sequenced.
 */
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Venue } from '../../venue/index.js';
import { expectHistoryMatchesEngine, journalRows, openVenue, runLoad, setUpLoad, tempDb, tempDir } from './helpers.js';

/** Bars kept in the venue's file, so that its copy takes many steps (about 20 MB). */
function bulk(v: Venue, symbol: string): void {
  v.importCandles(symbol, '1m', Array.from({ length: 300_000 }, (_, i) => ({ t: 1_700_000_040_000 + i * 60_000, o: 1000, h: 1010, l: 990, c: 1000, v: 5 })));
}

/** What another process gets when it tries to take `file`'s write lock (SQLite's error code, or 'free'). */
function writeFromAnotherProcess(file: string): string {
  const script = `const D = require(process.argv[1]); try { const db = new D(process.argv[2], { timeout: 0 }); db.exec('BEGIN IMMEDIATE; ROLLBACK'); db.close(); console.log('free'); } catch (e) { console.log(e.code); }`;
  const r = spawnSync(process.execPath, ['-e', script, createRequire(import.meta.url).resolve('better-sqlite3'), file], { encoding: 'utf8' });
  return r.stdout.trim();
}

/** Backs `v` up (no commands running), closes it, and opens the copy: the venue as it was, at its last seq. */
async function expectCopyIsTheVenue(v: Venue): Promise<void> {
  const out = tempDir();
  const b = await v.backup({ venue: join(out, 'copy.db'), history: join(out, 'copy.db-history') });
  expect(b.seq).toBe(v.lastSeq);
  const hash = v.stateHash();
  v.close();
  const copy = openVenue(join(out, 'copy.db'));
  expect(copy.lastSeq).toBe(b.seq);
  expect(copy.stateHash()).toBe(hash);
  copy.close();
}

describe('Venue.backup', () => {
  it('the venue keeps its file to itself through a backup: another process can write it neither before nor after', async () => {
    const file = tempDb();
    const v = openVenue(file);
    const setup = await setUpLoad(v);
    expect(writeFromAnotherProcess(file)).toBe('SQLITE_BUSY');
    const out = tempDir();
    await v.backup({ venue: join(out, 'copy.db'), history: join(out, 'copy.db-history') });
    await runLoad(v, setup, 5, 1);
    expect(writeFromAnotherProcess(file)).toBe('SQLITE_BUSY');
    v.close();
    // (and the check sees a file no one holds)
    expect(writeFromAnotherProcess(file)).toBe('free');
    // closed during a copy and opened again: the copy, when it ends, takes nothing of the new venue's hold
    const w = openVenue(file);
    bulk(w, setup.symbols[1]!);
    const copying = w.backup({ venue: join(out, 'again.db'), history: join(out, 'again.db-history') });
    const outcome = copying.then(() => 'made', (e: { code?: string }) => e.code);
    while (!existsSync(join(out, 'again.db'))) await new Promise((r) => setImmediate(r));
    w.close();
    const x = openVenue(file);
    expect(await outcome).toBe('VENUE_CLOSED');
    await new Promise((r) => setTimeout(r, 50));
    expect(writeFromAnotherProcess(file)).toBe('SQLITE_BUSY');
    x.close();
  });

  it('a copy made while commands are sequenced opens as the venue was at its seq (same state hash), with its history derived', async () => {
    const file = tempDb();
    const hashAt = new Map<number, string>();
    const ref: { v?: Venue } = {};
    const v = openVenue(file, {
      // the state after every group commit, to compare the copy with
      onGroupCommit: () => hashAt.set(ref.v!.lastSeq, ref.v!.stateHash()),
    });
    ref.v = v;
    const setup = await setUpLoad(v);
    bulk(v, setup.symbols[0]!);
    await runLoad(v, setup, 20, 1);
    const out = tempDir();
    const dest = { venue: join(out, 'copy.db'), history: join(out, 'copy.db-history') };
    let loading = true;
    const seqAtStart = v.lastSeq;
    const load = (async () => {
      for (let seed = 2; loading; seed++) await runLoad(v, setup, 5, seed);
    })();
    const backup = v.backup(dest);
    // while the venue's file is copied, its checkpoints are held (the file does not change)
    let heldDuringCopy = false;
    let done = false;
    void backup.then(() => (done = true), () => (done = true));
    while (!done) {
      if (existsSync(dest.venue)) heldDuringCopy ||= v.durability().walAutoCheckpoint === 0;
      await new Promise((r) => setTimeout(r, 1));
    }
    const b = await backup;
    loading = false;
    await load;
    expect(heldDuringCopy).toBe(true);
    expect(v.durability().walAutoCheckpoint).toBe(1000);
    // commands were sequenced while the copy was made, and it has some of them
    expect(b.seq).toBeGreaterThan(seqAtStart);
    expect(v.lastSeq).toBeGreaterThan(b.seq);
    expect(hashAt.has(b.seq)).toBe(true);
    expect(b.venue.bytes).toBeGreaterThan(10_000_000);
    expect(readdirSync(out).sort()).toEqual(['copy.db', 'copy.db-history']);
    v.close();
    // its journal is the original's up to its seq
    expect(journalRows(dest.venue, Number.MAX_SAFE_INTEGER)).toEqual(journalRows(file, b.seq));
    // the copy says when it was made (the commit that starts the copy), and is a file of its own
    const raw = new Database(dest.venue, { readonly: true });
    expect(raw.prepare("SELECT value FROM meta WHERE key = 'backup_copied_at'").pluck().get()).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('delete');
    raw.close();
    const copy = openVenue(dest.venue);
    expect(copy.lastSeq).toBe(b.seq);
    expect(copy.stateHash()).toBe(hashAt.get(b.seq));
    expectHistoryMatchesEngine(copy);
  });

  it('closing the venue during a copy stops it: the backup rejects, the venue closes cleanly', async () => {
    const v = openVenue(tempDb());
    const setup = await setUpLoad(v);
    bulk(v, setup.symbols[0]!);
    const out = tempDir();
    const dest = { venue: join(out, 'copy.db'), history: join(out, 'copy.db-history') };
    const b = v.backup(dest);
    // once the venue's own copy has begun (its file exists), after a few steps
    while (!existsSync(dest.venue)) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    v.close();
    await expect(b).rejects.toMatchObject({ code: 'VENUE_CLOSED' });
    // and a copy stopped by its caller
    const w = openVenue(tempDb());
    const wSetup = await setUpLoad(w);
    await expect(w.backup({ venue: join(out, 'w.db'), history: join(out, 'w.db-history') }, () => true)).rejects.toMatchObject({ code: 'VENUE_CLOSED', message: 'The copy of the venue was stopped' });
    expect(w.lastSeq).toBeGreaterThan(0);
    // (stopped within the history file's copy, not after it: that copy is gone)
    expect(existsSync(join(out, 'w.db-history'))).toBe(false);
    // stopped while its file is copied (the checkpoints held): they are let go
    bulk(w, wSetup.symbols[0]!);
    let stoppedWhileHeld = false;
    const stopped = w.backup({ venue: join(out, 'w2.db'), history: join(out, 'w2.db-history') }, () => (stoppedWhileHeld ||= existsSync(join(out, 'w2.db')) && w.durability().walAutoCheckpoint === 0));
    await expect(stopped).rejects.toMatchObject({ code: 'VENUE_CLOSED', message: 'The copy of the venue was stopped' });
    expect(stoppedWhileHeld).toBe(true);
    expect(w.durability().walAutoCheckpoint).toBe(1000);
    // a copy during which the WAL grows past the limit is abandoned, and the checkpoints let go at once
    const abandoned = w.backup({ venue: join(out, 'w3.db'), history: join(out, 'w3.db-history') }, undefined, { walGrowthBytes: -1, watchMs: 1 });
    await expect(abandoned).rejects.toThrow(/^The copy of the venue was abandoned: the journal's WAL grew by more than 0 MB/);
    expect(w.durability().walAutoCheckpoint).toBe(1000);
    // and the next one is made as usual
    const again = await w.backup({ venue: join(out, 'w4.db'), history: join(out, 'w4.db-history') });
    expect(again.seq).toBe(w.lastSeq);
    w.close();
  });

  it.runIf(process.platform !== 'win32')('a venue opened through a symbolic link to its file is copied (its WAL is beside the file, where SQLite puts it)', async () => {
    const real = tempDb();
    const link = join(tempDir(), 'link.db');
    symlinkSync(real, link);
    const v = openVenue(link);
    const setup = await setUpLoad(v);
    await runLoad(v, setup, 20, 1);
    expect(existsSync(`${real}-wal`)).toBe(true);
    expect(existsSync(`${link}-wal`)).toBe(false);
    await expectCopyIsTheVenue(v);
  });

  it("a venue not held exclusively is copied by a worker thread's own connection", async () => {
    const v = openVenue(tempDb(), { exclusive: false });
    const setup = await setUpLoad(v);
    await runLoad(v, setup, 20, 1);
    await expectCopyIsTheVenue(v);
  });

  it('two copies at once are both the venue as of their seq; then the WAL is checkpointed as before', async () => {
    const file = tempDb();
    const v = openVenue(file);
    const setup = await setUpLoad(v);
    bulk(v, setup.symbols[0]!);
    const out = tempDir();
    const first = v.backup({ venue: join(out, 'a.db'), history: join(out, 'a.db-history') });
    const second = v.backup({ venue: join(out, 'b.db'), history: join(out, 'b.db-history') });
    const [a, b] = await Promise.all([first, second]);
    expect(v.durability().walAutoCheckpoint).toBe(1000);
    expect(a.seq).toBe(v.lastSeq);
    expect(b.seq).toBe(v.lastSeq);
    const hash = v.stateHash();
    for (const f of ['a.db', 'b.db']) {
      const copy = openVenue(join(out, f));
      expect(copy.stateHash()).toBe(hash);
      copy.close();
    }
    // a large commit (more than 1,000 pages of WAL) is checkpointed again, and the WAL starts over at the
    // next commit (its header's salt changes)
    const salt = (): string => readFileSync(`${file}-wal`).subarray(16, 24).toString('hex');
    const before = salt();
    bulk(v, setup.symbols[1]!);
    await runLoad(v, setup, 5, 3);
    expect(salt()).not.toBe(before);
    v.close();
  });
});
