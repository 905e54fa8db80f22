/**
 * Opening the venue database: PRAGMAs (asserted by reading them back), the application id, the `meta` table
 * and versioned migrations.
 *
 * Durability contract (see VenueOptions.synchronous):
 * - journal_mode=WAL: a commit appends frames to the -wal file; SQLite checksums every frame, so a write torn
 *   by a crash or power cut is recognised on the next open and the incomplete transaction is dropped whole.
 *   A transaction is therefore either entirely in the journal or not at all.
 * - synchronous=FULL (default): the WAL is fsynced at every commit, so a commit that returned survives power
 *   loss. NORMAL fsyncs only at checkpoints: commits survive a process crash (the OS has the data) but the
 *   last ones may roll back after a power cut or kernel crash. EXTRA also syncs the directory. On macOS every
 *   sync is an F_FULLFSYNC (fullSyncOnMac): a plain fsync there leaves the data in the drive's cache.
 * - locking_mode=EXCLUSIVE (default): the first write transaction takes the file lock and keeps it until
 *   close, so a second venue (another process or this one) on the same file fails with DB_LOCKED instead of
 *   sequencing a second, diverging history. The WAL index then lives in process memory (no -shm file).
 */
import Database from 'better-sqlite3';
import { VenueError, sqliteOpenError } from './errors.js';

export type Db = Database.Database;
export type Stmt = Database.Statement<unknown[], unknown>;
export type SynchronousLevel = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

/** 'TDV1' as a 32-bit integer: marks the file as a venue database (`PRAGMA application_id`). */
export const APPLICATION_ID = 0x54445631;

export interface OpenDbOptions {
  synchronous: SynchronousLevel;
  busyTimeoutMs: number;
  exclusive: boolean;
  /** Run `PRAGMA quick_check` on open (O(database size)). */
  integrityCheck: boolean;
  /** Time stamp written into meta on creation. */
  now: number;
  /** The migrations to run (default MIGRATIONS; tests pass their own). */
  migrations?: readonly Migration[];
  /** The system whose sync rules apply (fullSyncOnMac); default process.platform (tests pass another). */
  platform?: NodeJS.Platform;
}

/**
 * On macOS, SQLite's syncs (of a commit with synchronous=FULL, and of every checkpoint) use F_FULLFSYNC, as
 * Node's own fsync does there: Apple's fsync() leaves the data in the drive's cache, where a power cut loses
 * it. Elsewhere fsync() reaches the disk and the PRAGMAs do nothing. Returns whether they were set.
 */
export function fullSyncOnMac(db: Db, platform: NodeJS.Platform = process.platform): boolean {
  if (platform !== 'darwin') return false;
  db.pragma('fullfsync = ON');
  db.pragma('checkpoint_fullfsync = ON');
  return true;
}

/** fullSyncOnMac as source, for the worker threads that open their own connection (`db` in scope). */
export const FULL_SYNC_ON_MAC_SOURCE = `(${fullSyncOnMac.toString()})(db, process.platform);`;

/** The size (bytes) a venue's WAL is cut back to when it starts over (PRAGMA journal_size_limit): 64 MiB. */
export const WAL_SIZE_LIMIT = 64 * 2 ** 20;

const SYNC_CODE: Record<SynchronousLevel, number> = { OFF: 0, NORMAL: 1, FULL: 2, EXTRA: 3 };

/** One migration: brings the schema from `version - 1` to `version`. Runs inside an immediate transaction. */
export interface Migration {
  version: number;
  up(db: Db): void;
}

/**
 * The ordered migrations. Add new ones at the end; never edit a released one. A migration that changes
 * history tables (in the history file since version 3, see attachHistory) can call for a history rebuild by
 * setting `history_meta.history_rebuild` to '1' there (the venue then re-derives the history tables from
 * the journal on open).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up(db) {
      db.exec(`
        -- The journal: one row per group-commit frame. seq is the sequence number of the frame's first
        -- command; the frame holds n commands (seq .. seq+n-1) sharing one time stamp ts. data is a JSON
        -- array of encoded commands (codec.ts); crc is CRC-32 of a header "seq,n,ts|" followed by data.
        CREATE TABLE journal (
          seq  INTEGER PRIMARY KEY,
          n    INTEGER NOT NULL,
          ts   INTEGER NOT NULL,
          data TEXT    NOT NULL,
          crc  INTEGER NOT NULL
        );
        -- Frames recovery set aside (damaged tail): kept for inspection, never replayed.
        CREATE TABLE journal_quarantine (
          id     INTEGER PRIMARY KEY,
          seq    INTEGER,
          n      INTEGER,
          ts     INTEGER,
          data   BLOB,
          crc    INTEGER,
          reason TEXT NOT NULL,
          at     INTEGER NOT NULL
        );
        -- Engine snapshots: state after applying every command up to and including seq.
        ${snapshotsTableDdl('snapshots')}
      `);
      // History, derived from the engine's events (moved to the history file by version 3).
      db.exec(historyTablesDdl('main'));
    },
  },
  {
    version: 2,
    up(db) {
      db.exec(`
        -- Imported bars (warm-up history of the simulated market, a data vendor's file): reference data, not
        -- derived from the journal, so a history rebuild keeps them. Queries merge them under the live
        -- candles (a live bar wins over an imported one with the same start).
        ${candleTableDdl('imported_candles')}

        -- Price alerts of the accounts: user data kept beside the journal (not journaled: an alert is a
        -- notification preference, not a command to the engine). Armed while triggered_ts IS NULL.
        CREATE TABLE alerts (
          id            INTEGER PRIMARY KEY,
          account_id    INTEGER NOT NULL,
          symbol        TEXT    NOT NULL,
          direction     TEXT    NOT NULL CHECK (direction IN ('above', 'below')),
          price         INTEGER NOT NULL,
          note          TEXT,
          created_ts    INTEGER NOT NULL,
          triggered_ts  INTEGER,
          trigger_price INTEGER
        );
        CREATE INDEX alerts_account ON alerts (account_id, id);
      `);
    },
  },
  {
    version: 3,
    up(db) {
      // History moves to its own file (history-thread.ts). Renamed here, inside the migration's transaction;
      // the venue copies the legacy tables into the history file once it is attached, then drops them.
      for (const t of LEGACY_HISTORY_TABLES) db.exec(`ALTER TABLE ${t} RENAME TO legacy_${t}`);
      db.exec("UPDATE meta SET key = 'legacy_' || key WHERE key IN ('history_seq', 'history_rebuild')");
    },
  },
  {
    version: 4,
    up(db) {
      // Alert ids are never given out again: without AUTOINCREMENT, deleting the newest alert let the next
      // one take its id, and a late delete of the old alert (a retry, a second click) removed the new one.
      // (An id deleted before this migration, above every id kept, may still come back once.)
      db.exec(`
        CREATE TABLE alerts_v4 (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,
          account_id    INTEGER NOT NULL,
          symbol        TEXT    NOT NULL,
          direction     TEXT    NOT NULL CHECK (direction IN ('above', 'below')),
          price         INTEGER NOT NULL,
          note          TEXT,
          created_ts    INTEGER NOT NULL,
          triggered_ts  INTEGER,
          trigger_price INTEGER
        );
        INSERT INTO alerts_v4 (id, account_id, symbol, direction, price, note, created_ts, triggered_ts, trigger_price)
          SELECT id, account_id, symbol, direction, price, note, created_ts, triggered_ts, trigger_price FROM alerts;
        DROP TABLE alerts;
        ALTER TABLE alerts_v4 RENAME TO alerts;
        CREATE INDEX alerts_account ON alerts (account_id, id);
      `);
    },
  },
  {
    version: 5,
    up(db) {
      // Who sent each command, as its submitter labelled it (Venue.submit's tag): a JSON array beside the
      // frame's commands, one text or null per command, or NULL when none has one. A frame with tags has
      // them in its CRC (journal.ts frameCrc). The server audits its users' commands from these, so an
      // acknowledged order's audit entry is as durable as the order.
      db.exec('ALTER TABLE journal ADD COLUMN tags TEXT; ALTER TABLE journal_quarantine ADD COLUMN tags TEXT');
    },
  },
];

/** History tables that lived in the venue database before schema version 3. */
export const LEGACY_HISTORY_TABLES = ['orders', 'executions', 'ledger', 'candles', 'sessions'] as const;

/** 'TDVH' as a 32-bit integer: marks a venue's history file. */
export const HISTORY_APPLICATION_ID = 0x54445648;

/**
 * Storing a snapshot in `table` (parameters seq, ts, hash, next_order_id, crc, data) and keeping its newest
 * (parameter: how many): the sequencer's for the venue file, the history thread's for the history file.
 */
export function snapshotStatements(table: string): { insert: string; prune: string } {
  return {
    insert: `INSERT OR REPLACE INTO ${table} (seq, ts, hash, next_order_id, crc, data) VALUES (?, ?, ?, ?, ?, ?)`,
    prune: `DELETE FROM ${table} WHERE seq NOT IN (SELECT seq FROM ${table} ORDER BY seq DESC LIMIT ?)`,
  };
}

/** A table of engine snapshots (in the venue file, and in the history file for those its thread writes). */
function snapshotsTableDdl(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
      seq           INTEGER PRIMARY KEY,
      ts            INTEGER NOT NULL,
      hash          TEXT    NOT NULL,
      next_order_id INTEGER NOT NULL,
      crc           INTEGER NOT NULL,
      data          TEXT    NOT NULL
    );`;
}

/** A table of bars: one per (symbol, timeframe, bucket start). */
function candleTableDdl(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
      symbol TEXT    NOT NULL,
      tf     TEXT    NOT NULL,
      t      INTEGER NOT NULL,
      o      INTEGER NOT NULL,
      h      INTEGER NOT NULL,
      l      INTEGER NOT NULL,
      c      INTEGER NOT NULL,
      v      INTEGER NOT NULL,
      PRIMARY KEY (symbol, tf, t)
    ) WITHOUT ROWID;`;
}

/** The history tables (in the history file since version 3, under the schema name it is attached as). */
function historyTablesDdl(s: string): string {
  return `
    -- Orders: one row per order, its latest state.
    CREATE TABLE IF NOT EXISTS ${s}.orders (
      order_id        INTEGER PRIMARY KEY,
      account_id      INTEGER NOT NULL,
      client_order_id TEXT,
      symbol          TEXT    NOT NULL,
      side            TEXT    NOT NULL,
      order_type      TEXT    NOT NULL,
      tif             TEXT    NOT NULL,
      qty             INTEGER NOT NULL,
      filled_qty      INTEGER NOT NULL,
      leaves          INTEGER NOT NULL,
      price           INTEGER,
      stop_price      INTEGER,
      trail_amount    INTEGER,
      post_only       INTEGER NOT NULL,
      status          TEXT    NOT NULL,
      parent_id       INTEGER,
      linked_id       INTEGER,
      notional        INTEGER NOT NULL,
      cancel_reason   TEXT,
      reject_code     TEXT,
      reject_message  TEXT,
      ts              INTEGER NOT NULL,
      updated_ts      INTEGER NOT NULL,
      seq             INTEGER NOT NULL,
      -- trading session (engine session number) the order was placed in
      session         INTEGER NOT NULL
    );
    -- Few indexes on purpose: each one costs a scattered page write per flush. Lists by account walk
    -- orders_account newest first (filters on status and symbol are applied while walking); the open
    -- orders of an account come from the engine's live orders by primary key.
    CREATE INDEX IF NOT EXISTS ${s}.orders_account ON orders (account_id);
    CREATE INDEX IF NOT EXISTS ${s}.orders_account_cid ON orders (account_id, client_order_id) WHERE client_order_id IS NOT NULL;

    -- One row per side per trade.
    CREATE TABLE IF NOT EXISTS ${s}.executions (
      exec_id      INTEGER PRIMARY KEY,
      trade_id     INTEGER NOT NULL,
      order_id     INTEGER NOT NULL,
      account_id   INTEGER NOT NULL,
      symbol       TEXT    NOT NULL,
      side         TEXT    NOT NULL,
      price        INTEGER NOT NULL,
      qty          INTEGER NOT NULL,
      liquidity    TEXT    NOT NULL,
      realized_pnl INTEGER NOT NULL,
      ts           INTEGER NOT NULL,
      seq          INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${s}.executions_account_ts ON executions (account_id, ts);
    CREATE INDEX IF NOT EXISTS ${s}.executions_symbol_ts ON executions (symbol, ts);

    -- Cash ledger: deposits, withdrawals and trade cash flows, with the cash balance after each.
    CREATE TABLE IF NOT EXISTS ${s}.ledger (
      entry_id   INTEGER PRIMARY KEY,
      account_id INTEGER NOT NULL,
      ts         INTEGER NOT NULL,
      kind       TEXT    NOT NULL,
      amount     INTEGER NOT NULL,
      cash       INTEGER NOT NULL,
      symbol     TEXT,
      trade_id   INTEGER,
      order_id   INTEGER,
      seq        INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS ${s}.ledger_account_ts ON ledger (account_id, ts);

    -- Candles: the bar for (symbol, timeframe, bucket start), upserted whenever a trade prints.
    ${candleTableDdl(`${s}.candles`)}

    -- Trading-day rollovers.
    CREATE TABLE IF NOT EXISTS ${s}.sessions (
      session INTEGER PRIMARY KEY,
      ts      INTEGER NOT NULL,
      seq     INTEGER NOT NULL
    );

  `;
}

/** The history file: its tables and its own meta. */
function historyDdl(s: string): string {
  return `${historyTablesDdl(s)}
    -- history_seq: the last command whose rows are written; history_rebuild: '1' while a rebuild is due.
    CREATE TABLE IF NOT EXISTS ${s}.history_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    -- Engine snapshots written by the history thread (the venue file's own table holds those written on the
    -- sequencer's thread): state after applying every command up to and including seq.
    ${snapshotsTableDdl(`${s}.snapshots`)}
    -- A copy of the venue file's imported bars (see copyImportedCandles), for the history reader's candles.
    ${candleTableDdl(`${s}.imported_candles`)}
  `;
}

/**
 * The history file's copy of the imported bars: the venue file's imported_candles is their record (a history
 * file can be deleted and made again from the journal; imported bars are not journaled), and the copy lets
 * the history reader answer candle queries off the sequencer's thread. Copied whole at open whenever its
 * revision (history_meta imported_rev) is not the venue file's (meta imported_rev, a new random one at each
 * import): a new history file, an import whose copy the history thread did not write (a crash, a copy it
 * found stale or could not write; see HistoryThread.postImported), or imports by a venue without the history
 * thread (which has no reader, and keeps no copy).
 */
export function copyImportedCandles(db: Db): void {
  const s = HISTORY_SCHEMA;
  const rev = importedRevision(db);
  if (getHistoryMeta(db, 'imported_rev') === rev) return;
  db.transaction(() => {
    db.exec(`DELETE FROM ${s}.imported_candles`);
    db.exec(`INSERT INTO ${s}.imported_candles (symbol, tf, t, o, h, l, c, v) SELECT symbol, tf, t, o, h, l, c, v FROM main.imported_candles`);
    setHistoryMeta(db, 'imported_rev', rev);
  })();
}

/** The venue file's revision of its imported bars ('0' before the first import). */
export function importedRevision(db: Db): string {
  return getMeta(db, 'imported_rev') ?? '0';
}

/** The schema name the history file is attached as. */
export const HISTORY_SCHEMA = 'hist';

/**
 * Attaches the history file to the venue's connection (creating it if needed) so queries read its tables by
 * their plain names, and moves the history tables of a pre-version-3 venue database into it. Not inside a
 * transaction (ATTACH cannot be). The file is marked as `owner`'s (the venue's identity) on first use, and a
 * file marked as another venue's is refused (DB_FOREIGN): a history file can be kept elsewhere than beside
 * its venue (VenueOptions.historyFile), so two venues could be pointed at one.
 */
export function attachHistory(db: Db, file: string, owner: string): void {
  const s = HISTORY_SCHEMA;
  try {
    db.prepare(`ATTACH DATABASE ? AS ${s}`).run(file);
    // The venue's own file may be held exclusively; the history file is shared with its writer thread.
    assertPragma(db, `${s}.locking_mode`, 'normal', pragma(db, `${s}.locking_mode`));
    const appId = pragma(db, `${s}.application_id`) as number;
    const tables = db.prepare(`SELECT count(*) FROM ${s}.sqlite_schema`).pluck().get() as number;
    if (appId !== HISTORY_APPLICATION_ID && !(appId === 0 && tables === 0))
      throw new VenueError('DB_FOREIGN', `${file} is not this venue's history file`, { applicationId: appId });
    assertPragma(db, `${s}.journal_mode`, 'wal', pragma(db, `${s}.journal_mode = WAL`));
    db.pragma(`${s}.synchronous = NORMAL`);
    db.transaction(() => {
      if (appId === 0) db.pragma(`${s}.application_id = ${HISTORY_APPLICATION_ID}`);
      db.exec(historyDdl(s));
      const had = getHistoryMeta(db, 'venue');
      if (had === undefined) setHistoryMeta(db, 'venue', owner);
      else if (had !== owner) throw new VenueError('DB_FOREIGN', `${file} is the history file of another venue`, { venue: had, expected: owner });
    })();
  } catch (e) {
    if (e instanceof VenueError) throw e;
    throw sqliteOpenError(e, file) ?? e;
  }
  const legacy = db.prepare("SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = 'legacy_orders'").pluck().get() as number;
  if (legacy === 0) return;
  // Copy (idempotent: a crash before the drop below copies again), then drop the legacy tables.
  db.transaction(() => {
    for (const t of LEGACY_HISTORY_TABLES) {
      db.exec(`DELETE FROM ${s}.${t}`);
      db.exec(`INSERT INTO ${s}.${t} SELECT * FROM main.legacy_${t}`);
    }
    db.exec(
      `INSERT OR REPLACE INTO ${s}.history_meta (key, value) SELECT substr(key, 8), value FROM main.meta WHERE key IN ('legacy_history_seq', 'legacy_history_rebuild')`,
    );
  })();
  db.transaction(() => {
    for (const t of LEGACY_HISTORY_TABLES) db.exec(`DROP TABLE main.legacy_${t}`);
    db.exec("DELETE FROM main.meta WHERE key IN ('legacy_history_seq', 'legacy_history_rebuild')");
  })();
}

export function getHistoryMeta(db: Db, key: string): string | undefined {
  return db.prepare(`SELECT value FROM ${HISTORY_SCHEMA}.history_meta WHERE key = ?`).pluck().get(key) as string | undefined;
}

export function setHistoryMeta(db: Db, key: string, value: string): void {
  db.prepare(
    `INSERT INTO ${HISTORY_SCHEMA}.history_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  ).run(key, value);
}

/** The schema version this code writes. A database with a higher version is refused (DB_TOO_NEW). */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export interface OpenedDb {
  db: Db;
  /** True when this open created the venue schema (a new file). */
  created: boolean;
  /** Migrations applied by this open (versions). */
  migrated: number[];
}

function pragma(db: Db, text: string): unknown {
  return db.pragma(text, { simple: true });
}

function assertPragma(db: Db, name: string, expected: unknown, got: unknown): void {
  if (got !== expected)
    throw new VenueError('PRAGMA_NOT_APPLIED', `PRAGMA ${name} is ${String(got)}, expected ${String(expected)}`, {
      pragma: name,
      expected,
      got,
    });
}

/**
 * Opens (or creates) a venue database: sets and asserts the PRAGMAs, checks that the file is a venue
 * database of a version this code understands, and runs pending migrations. Throws VenueError with a clear
 * code for anything it cannot use.
 */
export function openDatabase(path: string, o: OpenDbOptions): OpenedDb {
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: false });
  } catch (e) {
    // (better-sqlite3 says "the directory does not exist" without naming it, and with no SQLite code)
    throw sqliteOpenError(e, path) ?? new VenueError('DB_CANTOPEN', `Cannot open ${path}: ${(e as Error).message}`, undefined, { cause: e });
  }
  try {
    return setUp(db, path, o);
  } catch (e) {
    try {
      db.close();
    } catch {
      // already unusable
    }
    if (e instanceof VenueError) throw e;
    throw sqliteOpenError(e, path) ?? e;
  }
}

function setUp(db: Db, path: string, o: OpenDbOptions): OpenedDb {
  // The lock mode must be chosen before the first access so that the WAL index lives in heap memory.
  // main. only: an attached database (the history file) keeps the normal mode, shared with its writer.
  if (o.exclusive) assertPragma(db, 'locking_mode', 'exclusive', pragma(db, 'main.locking_mode = EXCLUSIVE'));
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(o.busyTimeoutMs))}`);
  assertPragma(db, 'busy_timeout', Math.max(0, Math.floor(o.busyTimeoutMs)), pragma(db, 'busy_timeout'));
  // First real read of the file: a non-database fails here with SQLITE_NOTADB.
  const mode = pragma(db, 'journal_mode = WAL');
  assertPragma(db, 'journal_mode', 'wal', mode);
  db.pragma(`synchronous = ${o.synchronous}`);
  assertPragma(db, 'synchronous', SYNC_CODE[o.synchronous], pragma(db, 'synchronous'));
  fullSyncOnMac(db, o.platform);
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -65536');
  // A WAL that grew (a backup holding the checkpoints, a large import) is cut back to this size when it
  // starts over, rather than keeping its stale tail, which every later backup would copy.
  db.pragma(`main.journal_size_limit = ${WAL_SIZE_LIMIT}`);

  if (o.integrityCheck) {
    const res = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
    if (res.length !== 1 || res[0]?.quick_check !== 'ok')
      throw new VenueError('DB_CORRUPT', `${path} failed its integrity check`, {
        problems: res.slice(0, 20).map((r) => r.quick_check),
      });
  }

  // Take the write lock now (and, in exclusive mode, keep it): a second venue fails here with DB_LOCKED.
  db.exec('BEGIN IMMEDIATE');
  let created = false;
  const migrated: number[] = [];
  try {
    const appId = pragma(db, 'application_id') as number;
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[]).filter(
      (n) => !n.startsWith('sqlite_'),
    );
    let version = 0;
    if (tables.length === 0 && appId === 0) {
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
      setMeta(db, 'schema_version', '0');
      setMeta(db, 'created_ts', String(o.now));
      created = true;
    } else {
      if (appId !== APPLICATION_ID || !tables.includes('meta'))
        throw new VenueError('DB_FOREIGN', `${path} is an SQLite database but not a venue database`, { applicationId: appId, tables });
      const v = getMeta(db, 'schema_version');
      version = v === undefined ? NaN : Number(v);
      if (!Number.isSafeInteger(version) || version < 0)
        throw new VenueError('DB_CORRUPT', `${path} has an unreadable schema_version ${String(v)}`);
    }
    const migrations = o.migrations ?? MIGRATIONS;
    const latest = migrations[migrations.length - 1]!.version;
    if (version > latest)
      throw new VenueError(
        'DB_TOO_NEW',
        `${path} has schema version ${version}; this venue understands up to ${latest}. Upgrade the application to open it.`,
        { schemaVersion: version, supported: latest },
      );
    for (const m of migrations) {
      if (m.version <= version) continue;
      m.up(db);
      setMeta(db, 'schema_version', String(m.version));
      migrated.push(m.version);
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
  return { db, created, migrated };
}

export function getMeta(db: Db, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  return row;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}
