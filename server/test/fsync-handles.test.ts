/**
 * Every fsync the server asks for works on Windows too: a file is synced through a descriptor opened for
 * writing (Windows' FlushFileBuffers fails with EPERM on a read-only handle; POSIX syncs either, so a test
 * that only syncs passes here whatever the mode), and a folder only where a folder can be synced.
 *
 * A server with its production settings (the journal fsynced in the background, a real key file) runs under
 * the simulated market's orders, makes an online backup, stops, and the backup is restored elsewhere, all under
 * strace (server/test/fixtures/durable-run.ts). Each fsync and fdatasync of a file in the test's folder is
 * matched with the open that made its descriptor: a file's must be O_RDWR or O_WRONLY; only folders are synced
 * read-only. SQLite's own syncs are held to the same rule (its write connections open files read-write).
 */
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../engine/test/support/temp.js';
import { syncFile, syncFolder, syncFolderOffLoop } from '../src/fsync.js';
import { runTraced, syncsIn, writable } from '../../engine/test/support/strace.js';

const tempDir = tempDirs('tdfsync-');

describe('fsync on every platform', () => {
  it('a backup, the journal and a restore sync every file through a descriptor opened for writing; only folders read-only', () => {
    const dir = tempDir();
    const log = join(dir, 'trace');
    const { log: trace, out } = runTraced<{ backup: string; restored: string; pid: number }>('server/test/fixtures/durable-run.ts', [dir], ['openat', 'close', 'fsync', 'fdatasync'], log);
    const backups = dirname(out.backup);
    // the backup is written into .partial-<stamp> and renamed to <stamp>-seq<N> (server/src/backup.ts)
    const partial = join(backups, `.partial-${basename(out.backup).replace(/-seq\d+$/, '')}`);
    const restored = dirname(out.restored);
    const folders = new Set([join(dir, 'live'), backups, partial, restored]);

    const syncs = syncsIn(trace).filter((s) => s.path.startsWith(dir + '/'));
    const seen = new Set(syncs.map((s) => s.path));
    // the syncs this is about happened (so that the rule below is not kept by their absence): the journal's
    // background fsync, every file of the backup and the folder it is made in, each file of the restore
    for (const p of [
      join(dir, 'live', 'venue.db-wal'),
      ...['venue.db', 'venue.db-history', 'venue.users.db', 'venue.server.key', 'manifest.json'].map((f) => join(partial, f)),
      partial,
      backups,
      ...['venue.db', 'venue.db-history', 'venue.users.db', 'venue.server.key'].map((f) => `${join(restored, f)}.restoring-${out.pid}`),
      restored,
    ])
      expect(seen, p).toContain(p);
    const readOnlyFiles = syncs.filter((s) => !folders.has(s.path) && !writable(s.flags));
    expect(readOnlyFiles).toEqual([]);
    // the journal's fsyncs are many (one per group commit): all of them counted above
    expect(syncs.filter((s) => s.path === join(dir, 'live', 'venue.db-wal')).length).toBeGreaterThan(3);
  });

  it('a folder is synced where it can be, and left to the filesystem on Windows', async () => {
    const dir = tempDir();
    const gone = join(dir, 'no-such-folder');
    expect(() => syncFolder(gone, 'linux')).toThrow(/ENOENT/);
    await expect(syncFolderOffLoop(gone, 'darwin')).rejects.toThrow(/ENOENT/);
    // on Windows nothing is opened at all
    expect(() => syncFolder(gone, 'win32')).not.toThrow();
    await expect(syncFolderOffLoop(gone, 'win32')).resolves.toBeUndefined();
    syncFolder(dir);
    expect(() => syncFile(join(dir, 'no-such-file'))).toThrow(/ENOENT/);
  });
});
