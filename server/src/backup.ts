/**
 * Online backups of a running server: the venue (journal), its history file, the users database and the key
 * file, copied while trading goes on, into one folder per backup that a server can be started on as it is
 * (`--db <folder>/venue.db`).
 *
 * Order and consistency. The users database is copied first, then the history file, then the venue's file
 * (Venue.backup). Each copy is its file as of one moment, and each is taken after the one before it, so:
 * every user in the copy has their account in the copied venue (accounts are opened in the venue before the
 * user is written); the history is never ahead of the journal (a server started on the copy derives what
 * the history lacks from the journal, as after a crash). The audit log is brought up to the venue's copy
 * too: once every command in the copy is acknowledged (so audited), the entries written since the users
 * database was copied are added to its copy (audit entries are written a batch at a time, up to a few
 * hundred ms after the fact, so the first copy lacks even some made before the backup began).
 *
 * Idempotency-Key entries are brought up to the venue's copy: a request answered while the copy was made
 * (or still running when the users database was copied) may have its effect in the copied journal, so a
 * retry of it after a restore must get its answer, not be carried out again. Once the venue's copy is
 * taken, the backup waits (up to 10 s) for the requests claimed before then to be answered, and writes
 * into its copy every entry answered since the users database was copied; one claimed before then and still
 * running goes in as cut short (a retry after a restore is refused with IDEMPOTENCY_UNKNOWN), and one that
 * ended without an answer (released for a retry) is dropped. The copy so has an entry for every keyed
 * request whose effect it holds, and some for requests answered just after (a retry after a restore gets
 * their answer: what a restore loses of them, it loses of every request after its seq).
 *
 * A backup is written into `.partial-<name>` in the backup folder, every file checked (`quick_check`) and
 * fsynced, then its manifest, then the folder is renamed to `<name>`: a folder named like a backup is a
 * whole one; a `.partial-` folder a crash left is removed by the next backup. After each backup the oldest
 * ones beyond `kept` are deleted. One runs at a time; one server per backup folder (it holds the folder from its
 * first backup on, and another server's backups there fail).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { amendCopy, copyDatabase, historyPath, type Venue } from '../../engine/venue/index.js';
import { derivedPaths } from './config.js';
import { syncFileOffLoop, syncFolderOffLoop } from './fsync.js';
import { holdLockFile } from './lock-file.js';
import { renameOverAsync } from '../../engine/host/rename.js';
import { IDEM_CUT_SHORT, Store } from './store.js';
import { BACKUP_ROLES, BackupManifestSchema, ProtocolError, type Backup, type BackupManifest, type BackupStatus } from '../../engine/protocol/index.js';

export type BackupRole = (typeof BACKUP_ROLES)[number];

/** The file by which a server holds its backup folder (Backups.#claimFolder). */
const LOCK_FILE = '.server.lock';
/** Backup folders: `20261206T160500Z-seq12345`, so names sort by time. */
const NAME = /^\d{8}T\d{6}\d{3}Z-seq\d+$/;
const MANIFEST = 'manifest.json';

export interface BackupOptions {
  /** The folder that holds the backups (created if missing). */
  dir: string;
  /** How many backups to keep (the newest). */
  kept: number;
  venue: Venue;
  /** The venue database's path: the copies take the names a server derives from it. */
  venuePath: string;
  usersDb: string;
  /** The users database's own connection: the Idempotency-Key entries made while a backup is made. */
  store: Pick<Store, 'idemRunning' | 'auditSettled'>;
  /** How long a backup waits for the keyed requests claimed before its venue copy to be answered (default 10 s). */
  idemWaitMs?: number;
  keyFile: string;
  /** Where the server's key came from (see BackupManifest.key). */
  keySource: 'file' | 'environment' | 'none';
  now?: () => number;
}

/** The stamp of a backup's name: 20261206T160500123Z (UTC, to the millisecond). */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '');
}

export class Backups {
  readonly #o: BackupOptions;
  readonly #now: () => number;
  #running: { startedAt: number; trigger: BackupManifest['trigger']; by: string | undefined; done: Promise<unknown> } | undefined;
  #lastFailure: BackupStatus['lastFailure'] = null;
  #stopping = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The newest backup in the folder (read from it once, then kept as backups are made); null: none. */
  #newest: Backup | null | undefined;
  /** This server's hold on the backup folder (#claim), from its first backup until it stops. */
  #claim: Database.Database | undefined;
  /** The venue's identity, written in each manifest (BackupManifest.venue). */
  readonly #venueId: string;

  constructor(o: BackupOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#venueId = o.venue.id;
  }

  get dir(): string {
    return this.#o.dir;
  }

  /** The backup being made and the last one that failed (GET /api/v1/admin/backups/status). */
  get status(): BackupStatus {
    const r = this.#running;
    return {
      running: r === undefined ? null : { since: new Date(r.startedAt).toISOString(), trigger: r.trigger, ...(r.by !== undefined ? { by: r.by } : {}) },
      lastFailure: this.#lastFailure,
    };
  }

  /**
   * The newest backup of this venue in the folder (its manifest names this venue), without reading the folder
   * each time (for /health and /metrics): another server's backups there are not this one's, nor are those
   * made before manifests named their venue.
   */
  get newest(): Backup | null {
    return (this.#newest ??= this.list().find((b) => b.venue === this.#venueId) ?? null);
  }

  /** The backups in the folder, newest first (folders without a readable manifest are left out). */
  list(): Backup[] {
    let names: string[];
    try {
      names = readdirSync(this.#o.dir).filter((n) => NAME.test(n));
    } catch {
      return [];
    }
    const out: Backup[] = [];
    for (const n of names.sort().reverse()) {
      try {
        const m = BackupManifestSchema.parse(JSON.parse(readFileSync(join(this.#o.dir, n, MANIFEST), 'utf8')));
        out.push({ ...m, dir: join(this.#o.dir, n) });
      } catch {
        // not one of ours, or damaged: listed by nobody, deleted by nobody
      }
    }
    return out;
  }

  /** Why a backup asked for now would be refused (run): the server is stopping, or one is being made. */
  refusal(): ProtocolError | undefined {
    if (this.#stopping) return new ProtocolError('UNAVAILABLE', 'The server is stopping');
    if (this.#running === undefined) return undefined;
    const since = new Date(this.#running.startedAt).toISOString();
    return new ProtocolError('CONFLICT', `A backup is being made (since ${since}); try again when it is done`, { runningSince: since });
  }

  /**
   * Makes a backup (see the file's comment). Rejects with CONFLICT while another is being made, UNAVAILABLE
   * once the server is stopping, and INTERNAL (with the cause's message) when a copy fails; a failed backup
   * leaves nothing in the folder.
   */
  run(trigger: BackupManifest['trigger'], by?: string): Promise<Backup> {
    const refused = this.refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const startedAt = this.#now();
    const done = this.#make(startedAt, trigger, by);
    const running = { startedAt, trigger, by, done };
    this.#running = running;
    const clear = (): void => {
      if (this.#running === running) this.#running = undefined;
    };
    done.then(clear, (e: unknown) => {
      clear();
      if (!this.#stopping) this.#lastFailure = { at: new Date(this.#now()).toISOString(), trigger, ...(by !== undefined ? { by } : {}), message: (e as Error).message };
    });
    return done;
  }

  async #make(startedAt: number, trigger: BackupManifest['trigger'], by: string | undefined): Promise<Backup> {
    const o = this.#o;
    const t0 = performance.now();
    const partial = join(o.dir, `.partial-${stamp(startedAt)}`);
    try {
      mkdirSync(o.dir, { recursive: true });
      this.#claimFolder();
      // what a backup cut short by a crash left (one server per backup folder: none of them is running)
      for (const n of readdirSync(o.dir)) if (n.startsWith('.partial-')) await rm(join(o.dir, n), { recursive: true, force: true });
      // for the server's account only: it holds the key and the users' password hashes
      mkdirSync(partial, { mode: 0o700 });
      // The names a server started with `--db <folder>/<venue file>` looks for.
      const venueName = basename(o.venuePath);
      const derived = derivedPaths({ db: venueName, usersDb: undefined, keyFile: undefined, backupDir: undefined });
      const names: Record<BackupRole, string> = { venue: venueName, history: basename(historyPath(venueName)), users: basename(derived.usersDb), key: basename(derived.keyFile) };
      const files: BackupManifest['files'] = [];
      const usersCopy = join(partial, names.users);
      const usersFrom = this.#now();
      await copyDatabase(o.usersDb, usersCopy, { stop: () => this.#stopping });
      const v = await o.venue.backup({ venue: join(partial, names.venue), history: join(partial, names.history) }, () => this.#stopping);
      // the Idempotency-Key entries and the audit log, up to the venue's copy (see the file's comment):
      // every command in the copy is acknowledged, and so audited, before they are read
      await o.venue.durable();
      const venueAt = this.#now();
      for (const until = performance.now() + (o.idemWaitMs ?? 10_000); o.store.idemRunning(venueAt) > 0 && performance.now() < until && !this.#stopping; ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      if (this.#stopping) throw new Error('the server is stopping');
      await o.store.auditSettled();
      const sql = Store.COPY_UPDATES;
      const amended = await amendCopy(usersCopy, [{ sql: sql.idempotency, rows: [[IDEM_CUT_SHORT, usersFrom, venueAt]] }, { sql: sql.dropRunning }, { sql: sql.audit }, { sql: sql.auditMark, rows: [[String(v.seq)]] }], o.usersDb);
      files.push({ role: 'users', file: names.users, bytes: amended.bytes });
      files.push({ role: 'venue', file: names.venue, bytes: v.venue.bytes }, { role: 'history', file: names.history, bytes: v.history.bytes });
      if (o.keySource === 'file' && existsSync(o.keyFile)) {
        const to = join(partial, names.key);
        copyFileSync(o.keyFile, to);
        chmodSync(to, 0o600);
        await syncFileOffLoop(to);
        files.push({ role: 'key', file: names.key, bytes: statSync(to).size });
      }
      const name = `${stamp(startedAt)}-seq${v.seq}`;
      const manifest: BackupManifest = {
        format: 1,
        name,
        createdAt: new Date(startedAt).toISOString(),
        tookMs: Math.round(performance.now() - t0),
        seq: v.seq,
        trigger,
        ...(by !== undefined ? { by } : {}),
        key: o.keySource === 'file' && !files.some((f) => f.role === 'key') ? 'none' : o.keySource,
        files,
        bytes: files.reduce((a, f) => a + f.bytes, 0),
        venue: this.#venueId,
      };
      writeFileSync(join(partial, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
      await syncFileOffLoop(join(partial, MANIFEST));
      await syncFolderOffLoop(partial);
      const dir = join(o.dir, name);
      // (tried again for a while on Windows, where a scanner may still have a file in it open: engine/host/rename.ts)
      await renameOverAsync(partial, dir);
      this.#newest = { ...manifest, dir };
      // the backup is whole from here on: a failure to sync the folder's entry or to delete an old backup
      // does not make it a failed one
      try {
        await syncFolderOffLoop(o.dir);
        await this.#prune();
      } catch {
        // (the next backup prunes again)
      }
      return this.#newest;
    } catch (e) {
      try {
        await rm(partial, { recursive: true, force: true });
      } catch {
        // (the folder could not be made in the first place)
      }
      if (e instanceof ProtocolError) throw e;
      throw new ProtocolError(this.#stopping ? 'UNAVAILABLE' : 'INTERNAL', `The backup failed: ${(e as Error).message}`);
    }
  }

  /**
   * Deletes the oldest backups beyond `kept`, on the thread pool: deleting a backup's gigabytes holds the
   * thread that does it (rmSync of 2 GB took 455 ms here, and held the event loop as long).
   */
  async #prune(): Promise<void> {
    for (const b of this.list().slice(this.#o.kept)) await rm(b.dir, { recursive: true, force: true });
  }

  /**
   * Calls `make` (which makes a backup and reports it) every `minutes`, the first time `minutes` after this
   * call; a turn that comes while a backup is being made (an admin's) is skipped.
   */
  schedule(minutes: number, make: () => Promise<unknown>): void {
    if (!(minutes > 0)) return;
    const next = (): void => {
      if (!this.#stopping) this.#timer = setTimeout(tick, minutes * 60_000).unref();
    };
    const tick = (): void => {
      this.#timer = undefined;
      if (this.#stopping) return;
      if (this.#running !== undefined) return next();
      make().then(next, next);
    };
    next();
  }

  /** Stops the schedule and abandons a backup being made (its partial folder is removed); resolves after. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.done.catch(() => undefined);
    this.#claim?.close();
    this.#claim = undefined;
  }

  /**
   * Holds the backup folder for this server: each server deletes the backups beyond the newest `kept` it
   * finds there, so two on one folder would delete each other's (and a partial one being made). The hold is
   * a lock the operating system keeps on `.server.lock` (a SQLite file locked exclusively) while this server
   * runs and drops when it stops or dies, whatever its process id or host name; another server's backup
   * then fails, saying so.
   */
  #claimFolder(): void {
    if (this.#claim !== undefined) return;
    this.#claim = holdLockFile(
      join(this.#o.dir, LOCK_FILE),
      { column: 'venue', type: 'TEXT', value: this.#o.venuePath },
      () => new Error(`The backup folder ${this.#o.dir} is in use by another server: give each server a --backup-dir of its own`),
    );
  }
}
