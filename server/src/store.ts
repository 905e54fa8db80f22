/**
 * The server's own database (users.db, next to the venue's): users, sessions and refresh tokens, 2FA,
 * idempotency keys and the audit log (price alerts live in the venue). better-sqlite3 in WAL mode with
 * synchronous=NORMAL: commits survive a process crash, and are not fsynced on the event loop. What must also
 * survive a power cut is made durable by `durable()`, an fsync of the WAL on the thread pool (one for all the
 * commits before it): an Idempotency-Key's claim before its request runs (else a retry after a power cut
 * could place an order the journal already holds again), and any change of users, sessions or 2FA before it
 * is answered (a revoked session or a disabled user must not come back). Audit rows of journaled commands are
 * recovered from the journal. Secrets are never stored in the clear: tokens and backup codes as keyed hashes,
 * TOTP secrets sealed with the server key, passwords as argon2id hashes.
 */
import Database from 'better-sqlite3';
import { auditActionMatches, type AuditEntry as AuditLogEntry } from '../../engine/protocol/index.js';
import { chmodSync, closeSync, existsSync, fsync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { AUDIT_MARK, AuditWriter, noAuditRows, type AuditColumns } from './audit-writer.js';
import { fullSyncOnMac, WAL_SIZE_LIMIT } from '../../engine/venue/index.js';
import { holdLockFile } from './lock-file.js';

export type Db = Database.Database;
export type Role = 'admin' | 'trader' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'trader', 'viewer'];

export interface UserRow {
  id: number;
  username: string;
  passwordHash: string;
  role: Role;
  disabled: number;
  accountId: number | null;
  mustChangePassword: number;
  totpSecret: string | null;
  totpEnabled: number;
  totpLastStep: number;
  createdAt: number;
  updatedAt: number;
}

export interface SessionRow {
  id: string;
  userId: number;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  ip: string;
  userAgent: string;
  revokedAt: number | null;
  revokeReason: string | null;
}

export interface AlertRow {
  id: number;
  userId: number;
  symbol: string;
  direction: 'above' | 'below';
  price: number;
  note: string | null;
  createdAt: number;
  triggeredAt: number | null;
  triggerPrice: number | null;
}

/** An audit log entry as the admin route answers it (engine/protocol/rest.ts). */
export type AuditRow = AuditLogEntry;
/**
 * A read of the audit log (Store.auditList): `limit` entries newest first, those before the id `before`,
 * stamped at or before `until` (ms), of a user, under an action filter (auditActionMatches), from an
 * address (`ip`, as the entries give it: without a user, every entry but placed orders; see auditList).
 */
export interface AuditQuery {
  userId?: number;
  action?: string;
  ip?: string;
  before?: number;
  until?: number;
  limit: number;
}

const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash        TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('admin','trader','viewer')),
    disabled             INTEGER NOT NULL DEFAULT 0,
    account_id           INTEGER,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    totp_secret          TEXT,            -- sealed with the server key
    totp_enabled         INTEGER NOT NULL DEFAULT 0,
    totp_last_step       INTEGER NOT NULL DEFAULT 0,  -- each code works once: steps at or below are refused
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
  );
  -- A session is one refresh-token family (one login on one device).
  CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ip            TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    revoked_at    INTEGER,
    revoke_reason TEXT
  );
  CREATE INDEX sessions_user ON sessions(user_id);
  -- Every token ever issued in a family, by keyed hash. A refresh token that is presented after it was
  -- rotated (used_at set) is a reuse: the whole family is revoked.
  CREATE TABLE tokens (
    hash        TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    kind        TEXT NOT NULL CHECK (kind IN ('access','refresh')),
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
  );
  CREATE INDEX tokens_session ON tokens(session_id);
  CREATE TABLE backup_codes (
    user_id   INTEGER NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
  );
  CREATE TABLE idempotency (
    user_id    INTEGER NOT NULL,
    key        TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    status     INTEGER,          -- NULL while the first request is still running
    response   TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
  );
  CREATE INDEX idempotency_created ON idempotency(created_at);
  CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    symbol        TEXT NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('above','below')),
    price         INTEGER NOT NULL,
    note          TEXT,
    created_at    INTEGER NOT NULL,
    triggered_at  INTEGER,
    trigger_price INTEGER
  );
  CREATE INDEX alerts_user ON alerts(user_id);
  CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    ts       INTEGER NOT NULL,
    user_id  INTEGER,
    username TEXT,
    ip       TEXT,
    action   TEXT NOT NULL,
    details  TEXT NOT NULL
  );
  CREATE INDEX audit_ts ON audit(ts);
  CREATE INDEX audit_user ON audit(user_id, id);
  CREATE INDEX audit_action ON audit(action, id);
  `,
  // Every order is audited: an insert should touch as few b-trees as possible. The list is read newest
  // first by id (optionally per user); these two indexes served no query.
  `
  DROP INDEX audit_ts;
  DROP INDEX audit_action;
  `,
  // An action filter scanned the whole log (or a user's entries) for a rare action, an admin's or a
  // sign-in's, on the event loop: 0.4 s per 2M entries, minutes' worth of orders. These indexes hold every
  // entry but order.place, the one per order: the writer thread adds a cancel or an admin action to them,
  // never a new order. They compare as the filter does, ASCII letters in either case (auditList).
  `
  CREATE INDEX audit_action ON audit(action COLLATE NOCASE, id) WHERE action <> 'order.place';
  CREATE INDEX audit_user_action ON audit(user_id, action COLLATE NOCASE, id) WHERE action <> 'order.place';
  `,
  // "From where": the entries from an address (sign-ins and their failures, 2FA, cancels, admin actions)
  // without a scan of the log, by action as audit_user_action is by user. As the two above, it leaves out
  // order.place, the one entry per order; a user's placed orders from an address are read through audit_user.
  `
  CREATE INDEX audit_ip ON audit(ip, action COLLATE NOCASE, id) WHERE action <> 'order.place';
  `,
];

const USER_COLS = `id, username, password_hash AS passwordHash, role, disabled, account_id AS accountId,
  must_change_password AS mustChangePassword, totp_secret AS totpSecret, totp_enabled AS totpEnabled,
  totp_last_step AS totpLastStep, created_at AS createdAt, updated_at AS updatedAt`;
const SESSION_COLS = `id, user_id AS userId, created_at AS createdAt, last_used_at AS lastUsedAt, expires_at AS expiresAt,
  ip, user_agent AS userAgent, revoked_at AS revokedAt, revoke_reason AS revokeReason`;
const ALERT_COLS = `id, user_id AS userId, symbol, direction, price, note, created_at AS createdAt,
  triggered_at AS triggeredAt, trigger_price AS triggerPrice`;

export interface AuditEntry {
  ts: number;
  userId?: number | undefined;
  username?: string | undefined;
  ip?: string | undefined;
  action: string;
  details?: Record<string, unknown>;
}

/**
 * The status of an Idempotency-Key entry whose request was cut short by a stop or crash of the server: no
 * answer was kept and its outcome is unknown (its command may be in the journal). A retry with the key is
 * refused with IDEMPOTENCY_UNKNOWN: carrying it out could do it twice, and "still running" would be untrue.
 */
export const IDEM_CUT_SHORT = 0;

/** SQLite's codes for storage that cannot be written or read (a full disk, an I/O error, a file gone read-only or bad). */
const STORAGE_FAILURE = /^SQLITE_(FULL|IOERR|READONLY|CORRUPT|NOTADB|CANTOPEN|PERM)/;

/** Thrown when another server (or reset-admin) holds the users database (holdUsersDb). */
export class UsersDbInUse extends Error {}

/**
 * Holds the users database `path` for this process: an exclusive lock the operating system keeps on
 * `<path>.lock` (a SQLite file locked exclusively, as a backup folder is held) until the connection returned
 * is closed or the process dies, whatever its process id or host name. The database itself cannot be locked
 * so: the audit writer's thread and a backup's copy open it with connections of their own. Throws
 * UsersDbInUse when another holds it: two servers on one users database would rewind each other's audit
 * mark, and a reset-admin would change users under a running server.
 */
export function holdUsersDb(path: string): Database.Database {
  const file = `${path}.lock`;
  closeSync(openSync(file, 'a', 0o600));
  return holdLockFile(
    file,
    { column: 'pid', type: 'INTEGER', value: process.pid },
    () => new UsersDbInUse(`The users database ${path} is in use by another server (it holds ${file}): give each server a users database of its own (--users-db), or stop the other one first`),
  );
}

export class Store {
  readonly db: Db;
  /** This process's hold on the users database (holdUsersDb); none in memory. */
  readonly #lock: Database.Database | undefined;
  /** Audit rows waiting to be written, as AUDIT_WIDTH columns (details already JSON). */
  #auditCols: AuditColumns = noAuditRows();
  #auditTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The audit mark to commit with the next batch (see AUDIT_MARK): the seq of the last entry made with one;
   * -1 before any. Once the server gives its source (auditMarkFrom), that source instead.
   */
  #auditSeq = -1;
  #auditMarkSource: (() => number) | undefined;
  /** The mark last handed to the writer. */
  #auditMarkSent = -1;
  /** Entries made so far that the journal cannot give again (all but those of journaled commands). */
  #unjournaled = 0;
  readonly #auditWriter: AuditWriter;
  readonly #onError: (e: Error) => void;
  /** The audit log's live tail's listeners (onAuditEntries). */
  readonly #tailListeners = new Set<(rows: AuditRow[]) => void>();
  readonly #userListeners = new Set<(userId: number) => void>();
  /** Users written since the listeners were last told. */
  readonly #usersChanged = new Set<number>();
  /** The WAL file (opened for writing, never written: Windows syncs no read-only handle); none in memory. */
  #walFd: number | undefined;
  /** The fsync running, and the one to start after it (joined by every caller until it starts). */
  #syncing: Promise<void> | undefined;
  #nextSync: Promise<void> | undefined;
  /**
   * The first fsync that failed: every later durable() fails with it. After a failed fsync Linux marks the
   * pages clean and the next fsync of the file succeeds, so its success would prove nothing (the venue stops
   * on its journal's first failed fsync for the same reason).
   */
  #syncFailed: Error | undefined;
  /** The first failure of the database's storage a statement of this connection met (writeFailure). */
  #writeFailed: Error | undefined;
  readonly #fsync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => void;
  readonly #totalChanges: Database.Statement;
  /** The audit writer (exposed for tests). */
  get auditWriter(): AuditWriter {
    return this.#auditWriter;
  }

  /** `onError`: an audit batch that could not be written, or an fsync of the WAL that failed (reported, never thrown at the order path). */
  constructor(path: string, onError: (e: Error) => void = () => undefined, seams: { fsync?: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => void } = {}) {
    this.#onError = onError;
    this.#fsync = seams.fsync ?? fsync;
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      this.#lock = holdUsersDb(path);
    }
    try {
      // argon2id hashes and sessions: no one else's to read. Made 0600 before SQLite creates it (its -wal and
      // -shm take its mode), and one an earlier version made readable by all is made 0600 too.
      if (path !== ':memory:') {
        closeSync(openSync(path, 'a', 0o600));
        chmodSync(path, 0o600);
      }
      this.db = new Database(path);
    } catch (e) {
      this.#lock?.close();
      throw e;
    }
    try {
      this.#auditWriter = this.#open(path, onError);
    } catch (e) {
      this.db.close();
      this.#lock?.close();
      throw e;
    }
    this.#watchFailures();
    this.#totalChanges = this.db.prepare('SELECT total_changes()').pluck();
    // the WAL exists from the first write above on (SQLite's file beside the database, as it names it)
    if (path !== ':memory:') {
      const file = (this.db.pragma('database_list') as { name: string; file: string }[]).find((d) => d.name === 'main')!.file;
      this.#walFd = openSync(`${file}-wal`, 'r+');
      for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    }
  }

  /** Sets the connection up, brings the schema up to date and starts the audit writer. */
  #open(path: string, onError: (e: Error) => void): AuditWriter {
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // a WAL that grew while a backup held its checkpoints back is cut back when it starts over (as the venue's)
    this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    fullSyncOnMac(this.db);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
    // Requests with a key that an earlier run of the server left without an answer (it stopped or crashed
    // while they ran): their outcome is unknown, and no one will answer them now (see IDEM_CUT_SHORT).
    this.db.prepare('UPDATE idempotency SET status = ? WHERE status IS NULL').run(IDEM_CUT_SHORT);
    // The audit thread commits every 250 ms or 1,000 rows (at once for a reader): a commit of every batch
    // wrote 5 MB/s to the users database at 2k orders/s and 12 MB/s at 10k/s, this 2 and 8 (bench:server).
    const writer = new AuditWriter(this.db, path, onError, 250, 1_000);
    writer.markSet(this.auditMark() ?? -1);
    return writer;
  }

  /**
   * The first write (or read) of the users database that failed for want of space or a working file (SQLITE_FULL,
   * SQLITE_IOERR...; not a refused constraint), through this connection or the audit writer's: reported in
   * /health until a restart, as a failed fsync is (the audit entries lost are made again at the next start).
   */
  get writeFailure(): Error | undefined {
    if (this.#writeFailed !== undefined) return this.#writeFailed;
    const lost = this.#auditWriter.lost;
    return lost === undefined ? undefined : new Error(`Audit entries could not be written: ${lost.message}`, { cause: lost });
  }

  /** Notes a failure of the database as the connection's statements and transactions throw it (writeFailure). */
  #watchFailures(): void {
    const note = (e: unknown): void => {
      const code = (e as { code?: unknown }).code;
      if (this.#writeFailed === undefined && typeof code === 'string' && STORAGE_FAILURE.test(code))
        this.#writeFailed = new Error(`The users database could not be written: ${(e as Error).message}`, { cause: e });
    };
    const watched = <A extends unknown[], R>(f: (...a: A) => R, self: unknown): ((...a: A) => R) =>
      function (...a: A): R {
        try {
          return f.apply(self, a);
        } catch (e) {
          note(e);
          throw e;
        }
      };
    const db = this.db;
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      const st = prepare(sql);
      st.run = watched(st.run, st);
      st.get = watched(st.get, st);
      st.all = watched(st.all, st);
      return st;
    }) as typeof db.prepare;
    const transaction = db.transaction.bind(db);
    db.transaction = ((fn: (...a: unknown[]) => unknown) => {
      const t = transaction(fn);
      return Object.assign(watched(t, undefined), { default: t.default, deferred: t.deferred, immediate: t.immediate, exclusive: t.exclusive });
    }) as typeof db.transaction;
  }

  /** The fsync of the WAL that failed, if one did: every durable() since has failed with it (until a restart). */
  get syncFailure(): Error | undefined {
    return this.#syncFailed;
  }

  /** Rows this connection has changed since it opened (a request compares it before and after). */
  get changes(): number {
    return this.#totalChanges.get() as number;
  }

  /**
   * Resolves once every commit made before the call (by this connection or the audit writer's) is on the
   * disk: an fsync of the WAL on the thread pool, started after the call; callers while one waits to start
   * share it.
   */
  durable(): Promise<void> {
    const fd = this.#walFd;
    if (this.#syncFailed !== undefined) return Promise.reject(this.#syncFailed);
    if (fd === undefined) return Promise.resolve();
    if (this.#nextSync !== undefined) return this.#nextSync;
    const start = (): Promise<void> => {
      this.#nextSync = undefined;
      if (this.#syncFailed !== undefined) return Promise.reject(this.#syncFailed);
      const run = new Promise<void>((resolve, reject) =>
        this.#fsync(fd, (e) => {
          if (e === null) return resolve();
          const failed = new Error(`The users database could not be synced to the disk: ${e.message}`, { cause: e });
          if (this.#syncFailed === undefined) {
            this.#syncFailed = failed;
            this.#onError(failed);
          }
          reject(this.#syncFailed);
        }),
      );
      this.#syncing = run;
      const clear = (): void => {
        if (this.#syncing === run) this.#syncing = undefined;
      };
      run.then(clear, clear);
      return run;
    };
    if (this.#syncing === undefined) return start();
    const next = this.#syncing.then(start, start);
    this.#nextSync = next;
    return next;
  }

  // ---------------------------------------------------------------- users

  userCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }
  adminCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0").get() as { n: number }).n;
  }
  userById(id: number): UserRow | undefined {
    return this.db.prepare(`SELECT ${USER_COLS} FROM users WHERE id = ?`).get(id) as UserRow | undefined;
  }
  userByName(username: string): UserRow | undefined {
    return this.db.prepare(`SELECT ${USER_COLS} FROM users WHERE username = ?`).get(username) as UserRow | undefined;
  }
  listUsers(): UserRow[] {
    return this.db.prepare(`SELECT ${USER_COLS} FROM users ORDER BY id`).all() as UserRow[];
  }
  maxAccountId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(account_id), 0) AS m FROM users').get() as { m: number }).m;
  }
  insertUser(u: { username: string; passwordHash: string; role: Role; accountId: number | null; mustChangePassword?: boolean; now: number }): number {
    const r = this.db
      .prepare(
        'INSERT INTO users (username, password_hash, role, account_id, must_change_password, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(u.username, u.passwordHash, u.role, u.accountId, u.mustChangePassword ? 1 : 0, u.now, u.now);
    const id = Number(r.lastInsertRowid);
    this.#userChanged(id);
    return id;
  }
  updateUser(id: number, fields: Partial<Record<'password_hash' | 'role' | 'disabled' | 'account_id' | 'must_change_password' | 'totp_secret' | 'totp_enabled' | 'totp_last_step', unknown>>, now: number): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${k} = ?`).join(', ');
    this.db.prepare(`UPDATE users SET ${sets}, updated_at = ? WHERE id = ?`).run(...keys.map((k) => fields[k as keyof typeof fields]), now, id);
    this.#userChanged(id);
  }
  /** Called after every write of a user row (not the TOTP step's): the `admin.users` channel pushes the user again. */
  onUserChanged(cb: (userId: number) => void): () => void {
    this.#userListeners.add(cb);
    return () => this.#userListeners.delete(cb);
  }
  /** Listeners are told in a microtask, so a write inside a transaction is read back once it has committed. */
  #userChanged(id: number): void {
    if (this.#userListeners.size === 0 || this.#usersChanged.has(id)) return;
    this.#usersChanged.add(id);
    queueMicrotask(() => {
      this.#usersChanged.delete(id);
      this.#tell(this.#userListeners, id);
    });
  }
  /** Moves the last used TOTP step forward; false when `step` is not newer (the code was used). */
  useTotpStep(userId: number, step: number, now: number): boolean {
    return this.db.prepare('UPDATE users SET totp_last_step = ?, updated_at = ? WHERE id = ? AND totp_last_step < ?').run(step, now, userId, step).changes === 1;
  }

  // ---------------------------------------------------------------- sessions and tokens

  insertSession(s: Omit<SessionRow, 'revokedAt' | 'revokeReason'>): void {
    this.db
      .prepare('INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(s.id, s.userId, s.createdAt, s.lastUsedAt, s.expiresAt, s.ip, s.userAgent);
  }
  session(id: string): SessionRow | undefined {
    return this.db.prepare(`SELECT ${SESSION_COLS} FROM sessions WHERE id = ?`).get(id) as SessionRow | undefined;
  }
  sessionsOf(userId: number, now: number): SessionRow[] {
    return this.db
      .prepare(`SELECT ${SESSION_COLS} FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY last_used_at DESC`)
      .all(userId, now) as SessionRow[];
  }
  touchSession(id: string, now: number, ip: string): void {
    this.db.prepare('UPDATE sessions SET last_used_at = ?, ip = ? WHERE id = ?').run(now, ip, id);
  }
  revokeSession(id: string, reason: string, now: number): boolean {
    return this.db.prepare('UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL').run(now, reason, id).changes === 1;
  }
  /** Revokes every live session of the user (except `keep`); returns the ids revoked. */
  revokeUserSessions(userId: number, reason: string, now: number, keep?: string): string[] {
    const rows = this.db
      .prepare('SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?')
      .all(userId, keep ?? null) as { id: string }[];
    const stmt = this.db.prepare('UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const r of rows) stmt.run(now, reason, r.id);
    })();
    return rows.map((r) => r.id);
  }
  insertToken(hash: string, sessionId: string, kind: 'access' | 'refresh', expiresAt: number): void {
    this.db.prepare('INSERT INTO tokens (hash, session_id, kind, expires_at) VALUES (?, ?, ?, ?)').run(hash, sessionId, kind, expiresAt);
  }
  token(hash: string): { sessionId: string; kind: 'access' | 'refresh'; expiresAt: number; usedAt: number | null } | undefined {
    return this.db
      .prepare('SELECT session_id AS sessionId, kind, expires_at AS expiresAt, used_at AS usedAt FROM tokens WHERE hash = ?')
      .get(hash) as { sessionId: string; kind: 'access' | 'refresh'; expiresAt: number; usedAt: number | null } | undefined;
  }
  /** Marks a refresh token used; false when it already was (a concurrent or replayed refresh). */
  useToken(hash: string, now: number): boolean {
    return this.db.prepare('UPDATE tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL').run(now, hash).changes === 1;
  }
  /** Expires the live access tokens of a session (after a refresh rotated them). */
  expireAccessTokens(sessionId: string, now: number): void {
    this.db.prepare("UPDATE tokens SET expires_at = MIN(expires_at, ?) WHERE session_id = ? AND kind = 'access'").run(now, sessionId);
  }
  purgeExpired(now: number): void {
    this.db.prepare('DELETE FROM tokens WHERE expires_at < ?').run(now - 7 * 86_400_000);
    this.db.prepare('DELETE FROM idempotency WHERE created_at < ?').run(now - 86_400_000);
  }

  // ---------------------------------------------------------------- 2FA backup codes

  setBackupCodes(userId: number, hashes: string[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM backup_codes WHERE user_id = ?').run(userId);
      const ins = this.db.prepare('INSERT INTO backup_codes (user_id, code_hash) VALUES (?, ?)');
      for (const h of hashes) ins.run(userId, h);
    })();
  }
  useBackupCode(userId: number, hash: string, now: number): boolean {
    return this.db.prepare('UPDATE backup_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL').run(now, userId, hash).changes === 1;
  }
  backupCodesLeft(userId: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM backup_codes WHERE user_id = ? AND used_at IS NULL').get(userId) as { n: number }).n;
  }

  // ---------------------------------------------------------------- idempotency

  idem(userId: number, key: string): { bodyHash: string; status: number | null; response: string | null; createdAt: number } | undefined {
    return this.db
      .prepare('SELECT body_hash AS bodyHash, status, response, created_at AS createdAt FROM idempotency WHERE user_id = ? AND key = ?')
      .get(userId, key) as { bodyHash: string; status: number | null; response: string | null; createdAt: number } | undefined;
  }
  /** Claims a key; false when it exists. */
  idemClaim(userId: number, key: string, bodyHash: string, now: number): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO idempotency (user_id, key, body_hash, created_at) VALUES (?, ?, ?, ?)').run(userId, key, bodyHash, now).changes === 1;
  }
  idemExpire(userId: number, key: string, before: number): void {
    this.db.prepare('DELETE FROM idempotency WHERE user_id = ? AND key = ? AND created_at < ?').run(userId, key, before);
  }
  idemFinish(userId: number, key: string, status: number, response: string): void {
    this.db.prepare('UPDATE idempotency SET status = ?, response = ? WHERE user_id = ? AND key = ?').run(status, response, userId, key);
  }
  idemRelease(userId: number, key: string): void {
    this.db.prepare('DELETE FROM idempotency WHERE user_id = ? AND key = ? AND status IS NULL').run(userId, key);
  }
  /** How many requests with a key claimed at or before `before` are still running (no answer yet). */
  idemRunning(before: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM idempotency WHERE status IS NULL AND created_at <= ?').get(before) as { n: number }).n;
  }
  /**
   * The statements a backup's copy of this database is brought up to date with, run on the copy with this
   * database attached as `live` (see Backups).
   */
  static readonly COPY_UPDATES = {
    /**
     * Idempotency-Key entries (parameters: IDEM_CUT_SHORT, when the copy was made, when the venue's copy
     * was): those claimed since the copy, or still running in it, as they are now; answered ones as they
     * are, those claimed by the venue's copy and still running as cut short (their effect may be in it),
     * those claimed after it and still running not at all.
     */
    idempotency: `INSERT OR REPLACE INTO main.idempotency (user_id, key, body_hash, status, response, created_at)
      SELECT l.user_id, l.key, l.body_hash, coalesce(l.status, ?), l.response, l.created_at FROM live.idempotency l
      WHERE (l.created_at >= ? OR EXISTS (SELECT 1 FROM main.idempotency m WHERE m.user_id = l.user_id AND m.key = l.key AND m.status IS NULL))
        AND (l.status IS NOT NULL OR l.created_at <= ?)`,
    /** After that: what is still running in the copy has ended since without an answer (released). */
    dropRunning: 'DELETE FROM main.idempotency WHERE status IS NULL',
    /** The audit entries written since the copy was made. */
    audit: 'INSERT INTO main.audit SELECT * FROM live.audit WHERE id > (SELECT coalesce(max(id), 0) FROM main.audit)',
    /**
     * The audit mark (parameter: the venue copy's last seq, as text): every command in the venue's copy is
     * audited in this one, and a server restored from it makes again the entries of those after it only.
     * (The writer's own statement: its `meta` is the copy's, main, before the attached `live`.)
     */
    auditMark: AUDIT_MARK,
  };

  /**
   * The audit mark (the journal seq of the last user command whose audit entry is written; market/audit.ts),
   * or undefined when none was ever written.
   */
  auditMark(): number | undefined {
    const v = this.db.prepare("SELECT value FROM meta WHERE key = 'audit_seq'").pluck().get() as string | undefined;
    return v === undefined ? undefined : Number(v);
  }

  /**
   * Writes the audit mark at once (recoverAudit, at start-up): with no entry made yet, none is waiting for
   * the writer to commit it with an older mark.
   */
  setAuditMark(seq: number): void {
    if (this.#auditSeq >= 0 || this.#auditCols[0]!.length > 0) throw new Error('The audit mark is set before any entry is made');
    this.db.prepare(AUDIT_MARK).run(String(seq));
    this.#auditWriter.markSet(seq);
  }

  /**
   * From now on the audit mark is `source()` (the venue's last acknowledged command: every entry of a command
   * up to it has been made, so a batch holding every entry made so far may say so), and it moves with
   * untagged commands too (advanceAuditMark), so that a start-up reads only the journal's tail.
   */
  auditMarkFrom(source: () => number): void {
    this.#auditMarkSource = source;
  }

  /** Commits the audit mark on its own when it has moved since the last batch (no entries, only the mark). */
  advanceAuditMark(): void {
    const mark = this.#auditMarkSource?.();
    if (mark === undefined || mark <= this.#auditMarkSent || !this.db.open) return;
    if (this.#auditCols[0]!.length > 0) return this.flushAudit();
    this.#auditMarkSent = mark;
    this.#auditWriter.write(noAuditRows(), mark);
  }

  /**
   * How many entries were made that a crash would lose until they are committed (all but those of journaled
   * commands): a request that made one answers after auditSettled() (http/api.ts).
   */
  get unjournaledEntries(): number {
    return this.#unjournaled;
  }

  /** Resolves once every audit entry made so far is in the database (handed to the writer and committed). */
  async auditSettled(): Promise<void> {
    this.flushAudit();
    await this.#auditWriter.drained();
  }

  // ---------------------------------------------------------------- alerts of earlier versions

  /**
   * Price alerts now live in the venue (engine/venue/alerts.ts, served through the protocol table). Earlier
   * versions kept them here: this hands over the armed ones once and empties the table.
   */
  takeArmedAlerts(): AlertRow[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare(`SELECT ${ALERT_COLS} FROM alerts WHERE triggered_at IS NULL ORDER BY id`).all() as AlertRow[];
      this.db.prepare('DELETE FROM alerts').run();
      return rows;
    })();
  }

  // ---------------------------------------------------------------- audit

  /**
   * Appends to the audit log. Entries are buffered and handed to the audit writer thread once per 50 ms (or
   * per 500 entries), so auditing every order costs no database write on the order path.
   */
  audit(e: AuditEntry, seq?: number): void {
    // a journaled command's entry (market/audit.ts): they come in seq order, and its seq is the new mark
    if (seq !== undefined && seq > 0) this.#auditSeq = seq;
    else this.#unjournaled++;
    // Kept as column values (no entry object held until the flush).
    const c = this.#auditCols;
    c[0]!.push(e.ts);
    c[1]!.push(e.userId ?? null);
    c[2]!.push(e.username ?? null);
    c[3]!.push(e.ip ?? null);
    c[4]!.push(e.action);
    c[5]!.push(JSON.stringify(e.details ?? {}));
    if (c[0]!.length >= 500) this.flushAudit();
    else if (this.#auditTimer === undefined) {
      this.#auditTimer = setTimeout(() => this.flushAudit(), 50);
      this.#auditTimer.unref();
    }
  }
  /**
   * While true, entries are written on this thread as they are flushed, not handed to the writer thread
   * (start-up: recoverAudit, whose entries so never pile up in memory however many there are).
   */
  auditHere = false;

  /** Hands the entries made so far to the writer thread, or writes them here (auditHere). */
  flushAudit(here = this.auditHere): void {
    if (this.#auditTimer !== undefined) clearTimeout(this.#auditTimer);
    this.#auditTimer = undefined;
    const cols = this.#auditCols;
    if (cols[0]!.length === 0 || !this.db.open) return;
    this.#auditCols = noAuditRows();
    this.#auditMarkSent = this.#auditMarkSource?.() ?? this.#auditSeq;
    this.#auditWriter.write(cols, this.#auditMarkSent, here);
  }

  /**
   * The audit log, newest first; it includes every entry made before the call. `until` (ms): the entries
   * stamped at or before it, from where they end in the log (auditBefore). `ip`: the entries from that
   * address; without a user, all but order.place (one entry per order, in no index by address: reading
   * them would scan the log), from the audit_ip index; with one, all of the user's from there.
   */
  async auditList(q: AuditQuery): Promise<AuditRow[]> {
    this.flushAudit();
    await this.#auditWriter.drained();
    if (q.until !== undefined) {
      const end = this.auditBefore(q.until);
      q = { ...q, before: q.before === undefined ? end : Math.min(q.before, end) };
    }
    if ((q.ip !== undefined && q.userId === undefined) || (q.action !== undefined && !auditActionMatches(q.action, 'order.place'))) return this.#auditByAction(q);
    const { sql, args } = auditScan(q);
    return auditEntries(this.db.prepare(sql).all(...args) as StoredAuditRow[]);
  }

  /**
   * The entries of the actions but order.place under a filter (all of them without one), from the
   * audit_action index, or audit_user_action with a user, or audit_ip from an address: the actions are
   * found first, one seek each (any case of an action is one), then each action's newest `limit` entries,
   * read in id order straight from the index and merged. An admin's or a sign-in's entries among millions
   * of orders, or an address's, cost a few seeks, where a scan of the log held up the event loop for 0.4 s
   * per 2M entries.
   */
  #auditByAction(q: AuditQuery): AuditRow[] {
    const actions: string[] = [];
    if (q.action === undefined) {
      const next = this.db.prepare(AUDIT_SQL.nextAnyAction);
      for (let r = this.db.prepare(AUDIT_SQL.firstAnyAction).get() as { action: string } | undefined; r !== undefined; r = next.get(r.action) as { action: string } | undefined) actions.push(r.action);
    } else {
      const [from, to] = actionRange(q.action);
      const next = this.db.prepare(AUDIT_SQL.nextAction);
      for (let r = this.db.prepare(AUDIT_SQL.firstAction).get(from, to) as { action: string } | undefined; r !== undefined; r = next.get(r.action, to) as { action: string } | undefined) {
        if (auditActionMatches(q.action, r.action)) actions.push(r.action);
      }
    }
    // the statement and what it takes after (action, before, until)
    const [sql, also] =
      q.userId === undefined
        ? q.ip === undefined
          ? [AUDIT_SQL.ofAction, []]
          : [AUDIT_SQL.ofActionFrom, [q.ip]]
        : q.ip === undefined
          ? [AUDIT_SQL.ofUserAction, [q.userId]]
          : [AUDIT_SQL.ofUserActionFrom, [q.userId, q.ip]];
    const entries = this.db.prepare(sql);
    const rows: StoredAuditRow[] = [];
    const before = q.before ?? Number.MAX_SAFE_INTEGER;
    const until = q.until ?? Number.MAX_SAFE_INTEGER;
    for (const a of actions) {
      for (const r of entries.all(a, before, until, ...also, q.limit) as StoredAuditRow[]) rows.push(r);
    }
    rows.sort((x, y) => y.id - x.id);
    return auditEntries(rows.slice(0, q.limit));
  }

  /**
   * Where the entries stamped at or before `until` (ms) end in the log: a `before` cursor (an id one past the
   * last of them), found by bisecting the log by id, about 30 row reads at any size (no index by time: each
   * order's entry would pay for one). The log is in time order to within the moment a call takes to be
   * acknowledged (an entry is stamped when the call came and written once it is answered), so the entries
   * listed from there are those of `until` and before, up to entries a few milliseconds apart.
   */
  auditBefore(until: number): number {
    const last = this.db.prepare('SELECT id, ts FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; ts: number } | undefined;
    if (last === undefined || last.ts <= until) return (last?.id ?? 0) + 1;
    const from = this.db.prepare('SELECT id, ts FROM audit WHERE id >= ? ORDER BY id LIMIT 1');
    // lo: an id whose entry is stamped at or before `until` (or one below the first id); hi: the first id
    // at or after it is stamped after `until`
    let lo = (this.db.prepare('SELECT min(id) FROM audit').pluck().get() as number) - 1;
    let hi = last.id;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const r = from.get(mid) as { id: number; ts: number };
      if (r.id >= hi) hi = mid;
      else if (r.ts <= until) lo = r.id;
      else hi = r.id;
    }
    return lo + 1;
  }

  /**
   * Each new audit entry but orders' (`order.*`, one per order: read those with auditList), once it is
   * written (entries are written in batches, within about 300 ms). For the `admin.audit` channel. The writer
   * hands over the entries it has just written with their ids (AuditWriter.onWritten), so watching the log
   * reads nothing back from the database, however many orders' entries go by.
   */
  onAuditEntries(cb: (rows: AuditRow[]) => void): () => void {
    const listeners = this.#tailListeners;
    listeners.add(cb);
    this.#auditWriter.onWritten = (rows) =>
      this.#tell(listeners, auditEntries(rows.map(([id, ts, userId, username, ip, action, details]) => ({ id, ts, userId, username, ip, action, details }))));
    return () => {
      listeners.delete(cb);
      if (listeners.size === 0) this.#auditWriter.onWritten = undefined;
    };
  }
  /** Calls each listener; one that throws is reported and does not stop the others. */
  #tell<T>(listeners: ReadonlySet<(x: T) => void>, x: T): void {
    for (const cb of [...listeners]) {
      try {
        cb(x);
      } catch (e) {
        this.#onError(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** Writes the buffered audit entries, stops the writer and closes the database. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flushAudit();
    this.advanceAuditMark();
    await this.#auditWriter.close();
    // (the one queued too: it starts as the running one ends, on this descriptor)
    while (this.#nextSync !== undefined || this.#syncing !== undefined) await (this.#nextSync ?? this.#syncing)!.catch(() => undefined);
    this.db.close();
    // (after the connection: closing a descriptor of a file drops the locks this process holds on it)
    if (this.#walFd !== undefined) closeSync(this.#walFd);
    this.#walFd = undefined;
    this.#lock?.close();
  }
}

/**
 * An action filter's range in audit_action's order (ASCII letters in either case): from the action to the
 * action and "/", the character after "." (so the action itself, the ones under it and a few to weed out,
 * "admin-x" under "admin"); then its length in characters, as SQLite's length() counts them, and the place
 * of the "." that must follow it in an action under it (UNDER_ACTION's two parameters after the range).
 */
function actionRange(filter: string): [from: string, to: string, chars: number, dotAt: number] {
  const chars = [...filter].length;
  return [filter, `${filter}/`, chars, chars + 1];
}
const UNDER_ACTION = `(length(action) = ? OR substr(action, ?, 1) = '.')`;
/** The condition of the partial indexes audit_action and audit_user_action, named in a query to use them. */
const NOT_PLACE = `action <> 'order.place'`;

/** An audit row's columns as the admin route answers them, and a row as read (details still JSON text). */
const AUDIT_COLS = 'id, ts, user_id AS userId, username, ip, action, details';
/** The statements of an action filter that does not take order.place (Store.#auditByAction; exported for a test of their plans). */
export const AUDIT_SQL = {
  /** The first action in the filter's range (from, to), any case of it. */
  firstAction: `SELECT action FROM audit WHERE action >= ? COLLATE NOCASE AND action < ? COLLATE NOCASE AND ${NOT_PLACE} ORDER BY action COLLATE NOCASE LIMIT 1`,
  /** The next action after one (in any case) before the range's end. */
  nextAction: `SELECT action FROM audit WHERE action > ? COLLATE NOCASE AND action < ? COLLATE NOCASE AND ${NOT_PLACE} ORDER BY action COLLATE NOCASE LIMIT 1`,
  /** An action's newest entries before an id, stamped at or before a time. */
  ofAction: `SELECT ${AUDIT_COLS} FROM audit WHERE action = ? COLLATE NOCASE AND ${NOT_PLACE} AND id < ? AND ts <= ? ORDER BY id DESC LIMIT ?`,
  /** A user's newest entries of an action before an id, stamped at or before a time. */
  ofUserAction: `SELECT ${AUDIT_COLS} FROM audit WHERE action = ? COLLATE NOCASE AND ${NOT_PLACE} AND id < ? AND ts <= ? AND user_id = ? ORDER BY id DESC LIMIT ?`,
  /** ...and from an address (the user's index: an address may be a whole office's). */
  ofUserActionFrom: `SELECT ${AUDIT_COLS} FROM audit INDEXED BY audit_user_action WHERE action = ? COLLATE NOCASE AND ${NOT_PLACE} AND id < ? AND ts <= ? AND user_id = ? AND ip = ? ORDER BY id DESC LIMIT ?`,
  /** An action's newest entries from an address before an id, stamped at or before a time. */
  ofActionFrom: `SELECT ${AUDIT_COLS} FROM audit INDEXED BY audit_ip WHERE action = ? COLLATE NOCASE AND ${NOT_PLACE} AND id < ? AND ts <= ? AND ip = ? ORDER BY id DESC LIMIT ?`,
  /** The first action but order.place (any case of it), and the next after one. */
  firstAnyAction: `SELECT action FROM audit WHERE ${NOT_PLACE} ORDER BY action COLLATE NOCASE LIMIT 1`,
  nextAnyAction: `SELECT action FROM audit WHERE action > ? COLLATE NOCASE AND ${NOT_PLACE} ORDER BY action COLLATE NOCASE LIMIT 1`,
} as const;

/**
 * Store.auditList's read but by action: without an action filter, or with one that takes order.place (one
 * entry per order, the most of the log), the log newest first, or a user's (audit_user; from an address
 * among them), until `limit` entries match.
 */
export function auditScan(q: AuditQuery): { sql: string; args: unknown[] } {
  if (q.ip !== undefined && q.userId === undefined) throw new Error('An address without a user is read by action (audit_ip)');
  const where: string[] = [];
  const args: unknown[] = [];
  const and = (sql: string, ...values: unknown[]): void => {
    where.push(sql);
    args.push(...values);
  };
  if (q.userId !== undefined) and('user_id = ?', q.userId);
  if (q.ip !== undefined) and('ip = ?', q.ip);
  if (q.action !== undefined) and(`action >= ? COLLATE NOCASE AND action < ? COLLATE NOCASE AND ${UNDER_ACTION}`, ...actionRange(q.action));
  if (q.before !== undefined) and('id < ?', q.before);
  if (q.until !== undefined) and('ts <= ?', q.until);
  args.push(q.limit);
  return { sql: `SELECT ${AUDIT_COLS} FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`, args };
}

type StoredAuditRow = Omit<AuditRow, 'details'> & { details: string };
function auditEntries(rows: StoredAuditRow[]): AuditRow[] {
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}
