/**
 * `tradedesk-server restore <backup folder> [flags]`: puts a backup (server/src/backup.ts) where a server
 * with the same flags (`--db`, `--users-db`, `--history-db`, `--key-file`, config file, environment) looks
 * for its files, so the backup folder itself stays as it was made (a server started on it would change it).
 *
 * Checked before anything is written: the folder's manifest, each file's presence and size against it, and
 * that none of the destinations exists (with a `-wal`, `-shm` or `-journal` beside it): a restore never
 * overwrites a server's files; the operator moves them aside first. Each database is copied to a temporary
 * name beside its destination, checked (`quick_check`), fsynced and renamed into place, so a destination
 * holds a whole copy or nothing. The key file and the users database are mode 0600.
 */
import { copyFileSync, chmodSync, existsSync, readFileSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { historyPath } from '../../engine/venue/index.js';
import { BackupManifestSchema, type BackupManifest } from '../../engine/protocol/index.js';
import { derivedPaths, type Config } from './config.js';
import type { BackupRole } from './backup.js';
import { syncFile, syncFolder } from './fsync.js';
import { renameOver } from '../../engine/host/rename.js';

export interface Restored {
  manifest: BackupManifest;
  /** Where each file of the backup went. */
  files: { role: BackupRole; from: string; to: string; bytes: number }[];
  /** Said to the operator: the key is not in the backup, and the server needs the one it had. */
  warnings: string[];
}

/** A restore refused or failed: its message says what to do. */
export class RestoreError extends Error {}

/** Where a server with `config` looks for each of a backup's files. */
export function restoreTargets(config: Pick<Config, 'db' | 'usersDb' | 'keyFile' | 'backupDir' | 'historyDb'>): Record<BackupRole, string> {
  const p = derivedPaths(config);
  return { venue: resolve(config.db), history: resolve(config.historyDb ?? historyPath(config.db)), users: resolve(p.usersDb), key: resolve(p.keyFile) };
}

/** Restores the backup in folder `from` to where a server with `config` finds it (see the file's comment). */
export function restoreBackup(from: string, config: Pick<Config, 'db' | 'usersDb' | 'keyFile' | 'backupDir' | 'historyDb'>): Restored {
  let manifest: BackupManifest;
  try {
    manifest = BackupManifestSchema.parse(JSON.parse(readFileSync(join(from, 'manifest.json'), 'utf8')));
  } catch (e) {
    throw new RestoreError(`${from} is not a backup folder: its manifest.json is missing or not a backup's (${(e as Error).message.split('\n')[0]})`);
  }
  const targets = restoreTargets(config);
  const files = manifest.files.map((f) => ({ role: f.role, from: join(from, f.file), to: targets[f.role], bytes: f.bytes }));
  for (const role of ['venue', 'history', 'users'] as const) {
    if (!files.some((f) => f.role === role)) throw new RestoreError(`The backup ${manifest.name} has no ${role} file in its manifest`);
  }
  for (const f of files) {
    let size: number;
    try {
      size = statSync(f.from).size;
    } catch {
      throw new RestoreError(`The backup ${manifest.name} is damaged: ${f.from} is missing`);
    }
    if (size !== f.bytes) throw new RestoreError(`The backup ${manifest.name} is damaged: ${f.from} is ${size} bytes, its manifest says ${f.bytes}`);
  }
  const inTheWay = files.flatMap((f) => (f.role === 'key' ? [f.to] : [f.to, `${f.to}-wal`, `${f.to}-shm`, `${f.to}-journal`])).filter((p) => existsSync(p));
  if (inTheWay.length > 0)
    throw new RestoreError(`Refusing to overwrite ${inTheWay.join(', ')}: stop the server that uses them and move them aside, then restore again`);

  const done: string[] = [];
  try {
    for (const f of files) {
      mkdirSync(dirname(f.to), { recursive: true });
      const tmp = `${f.to}.restoring-${process.pid}`;
      copyFileSync(f.from, tmp);
      // the key, and the users database's argon2id hashes and sessions (its -wal and -shm take its mode)
      if (f.role === 'key' || f.role === 'users') chmodSync(tmp, 0o600);
      if (f.role !== 'key') {
        const db = new Database(tmp, { readonly: true, fileMustExist: true });
        try {
          const check = db.pragma('quick_check', { simple: true });
          if (check !== 'ok') throw new RestoreError(`The backup ${manifest.name} is damaged: ${f.from} fails its check (${String(check).replace(/\s*\n\s*/g, '; ').slice(0, 300)})`);
        } finally {
          db.close();
        }
      }
      syncFile(tmp);
      renameOver(tmp, f.to);
      done.push(f.to);
      syncFolder(dirname(f.to));
    }
  } catch (e) {
    // nothing half-restored: what was put in place is taken out again
    for (const f of files) rmSync(`${f.to}.restoring-${process.pid}`, { force: true });
    for (const p of done) rmSync(p, { force: true });
    throw e instanceof RestoreError ? e : new RestoreError(`The restore failed, and nothing was left in place: ${(e as Error).message}`);
  }
  const warnings: string[] = [];
  if (!files.some((f) => f.role === 'key'))
    warnings.push(
      manifest.key === 'environment'
        ? 'The backup has no key file: that server took its key from TRADEDESK_SERVER_KEY. Start this one with the same key, or every session ends and users with 2FA cannot sign in.'
        : 'The backup has no key file. Start the server with the key the original had (its key file or TRADEDESK_SERVER_KEY), or every session ends and users with 2FA cannot sign in.',
    );
  return { manifest, files, warnings };
}
