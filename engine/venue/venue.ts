/**
 * The durable venue: the single sequencer in front of one engine.
 *
 *   submit(cmd) ──► queue ──(same tick, or a window ≤ commitWindowMs)──► flush:
 *        BEGIN  (deferred: the journal's file is held exclusively; IMMEDIATE would also lock the history file)
 *          for each command: stamp time and order ids → encode → engine.execute(decoded) → history rows
 *          one journal frame for the whole batch
 *        COMMIT  (fsync with synchronous=FULL; with fsync 'background', the fsync starts on the thread pool)
 *        ──► resolve every promise of the batch (the acknowledgements) ──► publish to subscribers
 *            (with fsync 'background': once that fsync, and every earlier one, returned)
 *        (every so often: the accumulated history rows and watermark, handed to the history thread)
 *
 * Apply first, commit second. History rows are derived from the engine's events, so the engine has to run
 * before they exist. They are kept in a file of their own, written by a thread of its own, with their
 * watermark in the same transaction (history-thread.ts); they are handed over only after the journal holds
 * their commands (after the group commit's COMMIT), so history is never ahead of the journal. With fsync
 * 'background' the journal's frames may not be on the disk yet when they are, so the thread commits on its
 * own only what is acknowledged, and syncs the journal's WAL before a
 * commit that cannot wait (HistoryThreadOptions.journalWal): a power cut cannot leave the history ahead of
 * the journal (recovery would see a watermark beyond it and re-derive all the history). The price of
 * apply-first is that the engine has already applied the batch when COMMIT runs.
 * If the commit (or anything in the flush) throws, the transaction is rolled back and the venue fails fast
 * (as it does at the next group commit after a history write failed on its thread): it rejects the batch
 * and every later submit with VENUE_FAILED and stops touching the database. Nothing of the batch was acknowledged, so no
 * acknowledged command is lost; reopening the venue (Venue.open on the same file) rebuilds the state from
 * the last snapshot and the journal, which is exactly the state of all committed commands. (Rolling the
 * engine back in place would need an undo log or a full reload; a supervisor reopening the venue does the
 * same more simply, and a failing disk is not something to keep writing to.) A hand-over of history rows
 * that fails after the COMMIT stops the venue the same way. Batches it had committed whose background fsync
 * had not returned are in the journal: they are acknowledged once that fsync returns (it still runs, or is
 * started, after the venue stopped; close() syncs at once), never refused. Only an fsync that fails leaves a
 * committed batch's fate open (the kernel may have dropped its pages, or written them): such a batch, and
 * every one committed after it, is answered VENUE_OUTCOME_UNKNOWN, as is a batch whose COMMIT itself failed
 * with an I/O error (with fsync 'commit', the fsync is inside it). VENUE_FAILED always means "not done".
 *
 * Acknowledgements are released only after COMMIT returned, so a command whose ack anyone saw is in the
 * journal. Rejected commands are journaled too (they are deterministic no-ops for the state) so their
 * answer is as durable as an acceptance. Two rejections happen before sequencing and are not journaled:
 * a request that cannot be encoded at all, and a client order id already used by an order of the account in
 * an earlier trading session (the engine checks the current session itself). Both depend only on the
 * journal, so a restarted venue answers them the same way.
 *
 * Start-up: newest valid snapshot (its hash verified after restore) + replay of the journal tail; the part
 * of the tail after the history watermark is replayed with the history writer attached. Snapshots are in
 * the venue file when the sequencer wrote them, in the history file when its thread did (snapshot()); both
 * are candidates, newest first.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fdatasyncSync, fstatSync, fsync, fsyncSync, openSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  Engine,
  checkInvariants,
  TextHasher,
  type CaptureArrays,
  captureArrays,
  type StateCapture,
  totals,
  type AccountId,
  type Candle,
  type Command,
  type EngineEvent,
  type EngineOptions,
  type EngineSnapshot,
  type OrderId,
  type Rejected,
  type ResultCode,
  type Timestamp,
} from '../core/index.js';
import { TIMEFRAMES, TIMEFRAME_MS, type Timeframe } from '../core/types.js';
import type { Execution, OrderRecord, TradePrint, TradeStatsRow } from '../protocol/schemas.js';
import type { PriceAlert } from '../protocol/methods.js';
import { decodeCommand, encodeCommand, maxOrderId, orderIdsOf, type Encoded, type VenueCommand } from './codec.js';
import { AlertBook, type NewAlert } from './alerts.js';
import { CopyStopped, copyDatabase, copyHeldDatabase, MAX_WAL_GROWTH, type CopiedFile } from './backup.js';
import { VenueError, isVenueError } from './errors.js';
import { HISTORY_MARK, HISTORY_STATEMENTS, HistoryWriter, type OrderSink } from './history.js';
import { HistoryThread, IMPORTED_UPSERT, historyPath, type ThreadSnapshot } from './history-thread.js';
import { HistoryReader, packBars, type ReaderArg, type ReaderMethod } from './history-reader.js';
import { Journal, checkFrame, replayJournal, setAsideRanges, wasSetAside, type FrameRow, type FrameTags, type ReplayResult } from './journal.js';
import {
  VENUE_QUERY_LIB,
  createHistoryQueries,
  type HistoryQueries,
  type CandleQuery,
  type ExecutionQuery,
  type ExecutionRecord,
  type OrderQuery,
  type Page,
  type RecentTradesQuery,
  type Statement,
  type StatementQuery,
  type StatsQuery,
} from './queries.js';
import { HISTORY_SCHEMA, attachHistory, copyImportedCandles, importedRevision, snapshotStatements, getHistoryMeta, getMeta, openDatabase, setHistoryMeta, setMeta, type Db, type SynchronousLevel } from './schema.js';

// ---------------------------------------------------------------- options and results

export interface VenueOptions {
  /**
   * SQLite `synchronous`: 'FULL' (default) fsyncs the WAL at every commit (power-loss safe); 'NORMAL' only
   * at checkpoints (survives a process crash, may lose the last commits on power loss); 'EXTRA' also syncs
   * the directory. Asserted on open.
   */
  synchronous?: Exclude<SynchronousLevel, 'OFF'>;
  /**
   * Where the fsync that makes a group commit durable runs (with synchronous FULL or EXTRA):
   * 'commit' (default): inside SQLite's COMMIT, on the event loop, which waits for the disk;
   * 'background': the connection commits with synchronous=NORMAL and the venue fsyncs the WAL file on the
   * thread pool right after, acknowledging and publishing the batch once that returned (the same guarantee:
   * an acknowledged command is on disk). The next group commit is sequenced while the disk works.
   * Queries and the engine view may show a batch a moment before its acknowledgement.
   */
  fsync?: 'commit' | 'background';
  /** SQLite busy timeout (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** The system whose sync rules apply to the venue's connection (schema.ts fullSyncOnMac); tests pass another. */
  platform?: NodeJS.Platform;
  /** Hold the database lock from open to close so no second venue can sequence into it. Default true. */
  exclusive?: boolean;
  /** The venue's clock (ms since the epoch). Default Date.now. Stamped times never go backwards. */
  now?: () => number;
  /** Longest wait (ms) for more commands before a group commit. 0 (default): commit on the next tick. */
  commitWindowMs?: number;
  /** Most commands in one group commit (default 8192); the rest go into the next one right after. */
  maxBatch?: number;
  /**
   * Keep the history tables (default true). false: journal, snapshots and engine only (a replica, or to
   * measure the sequencing path alone); history queries then fail with BAD_QUERY. Reopening with history
   * on later re-derives the missing history from the journal.
   */
  history?: boolean;
  /**
   * Write history on a thread of its own (default true): the sequencer hands each history flush over and
   * goes on; queries wait for the thread, snapshots are written by it. false: history is written inside the group commit
   * that flushes it, on the caller's thread.
   */
  historyThread?: boolean;
  /**
   * The history file (default `<path>-history`, see historyPath). Another volume keeps its writes out of
   * the journal's fsync: on one ext4 filesystem a journal fsync can also wait for the history file's
   * freshly written data. It is marked with the venue it belongs to; another venue's, or the venue database
   * itself, is refused (DB_FOREIGN). A new or empty file is filled from the journal on open.
   */
  historyFile?: string;
  /**
   * With the history thread: how long it holds the rows handed over before it commits them together (ms,
   * default 0: as they arrive), and the most commands it holds (default: no limit). See
   * HistoryThreadOptions.commitMs and commitCommands.
   */
  historyCommitMs?: number;
  historyCommitCommands?: number;
  /**
   * Called after a history hand-over waited for the history thread, which was more than 100,000 commands
   * behind, with the time sequencing waited (ms). Should not throw (one that does is reported through onError).
   */
  onHistoryWait?: (waitedMs: number) => void;
  /**
   * Called after each group commit with its commands and the time (ms) the sequencer spent on it: executing
   * them, journaling and the COMMIT (with fsync 'commit', the fsync too). Should not throw (as onHistoryWait).
   */
  onGroupCommit?: (commands: number, ms: number) => void;
  /**
   * With fsync 'background': called as each fsync of the journal returns, with its time (ms, from its start
   * until the venue saw it return) and the commands it made durable. Should not throw (as onHistoryWait).
   */
  onSync?: (ms: number, commands: number) => void;
  /**
   * Called as each snapshot's text is complete (handed to the history thread, or written to the venue file),
   * with the time (ms) `snapshot()` blocked the sequencer (the capture and the first part), the time from
   * the call until then, the live orders it holds and its text's length. Should not throw (as
   * onHistoryWait). A snapshot dropped because the venue failed is not reported.
   */
  onSnapshot?: (info: { blockedMs: number; totalMs: number; orders: number; chars: number }) => void;
  /**
   * Called as each queryHistory call answers (not when it fails), with its method, how long it waited
   * without blocking for the history thread to commit the rows it must include (0 when it was the query
   * called directly), and its time from the call to the answer (ms). Should not throw (as onHistoryWait).
   */
  onHistoryQuery?: (info: { method: HistoryMethod; waitMs: number; totalMs: number }) => void;
  /**
   * Write accumulated history rows once this many are waiting (default 20000). Larger batches write fewer
   * index pages per row (more throughput); each flush pauses the sequencer for its duration (latency).
   */
  historyFlushRows?: number;
  /** ...or once the oldest waiting row is this old (ms, default 250). Queries always see everything. */
  historyFlushMs?: number;
  /** Snapshot after this many journaled commands (default 100000; 0 = never by count). */
  snapshotEvery?: number;
  /** Snapshot when this many ms passed since the last one and something happened (default 300000; 0 = never). */
  snapshotIntervalMs?: number;
  /** Snapshots kept (default 3, at least 1). */
  snapshotsKept?: number;
  /**
   * A snapshot's text is produced a part per turn of the event loop (see snapshot()), a part being pieces
   * of the state up to about `snapshotPartChars` characters (default 65,536), so at most one piece more;
   * a piece holds at most `snapshotPartOrders` orders (default 250, about 90 KB of JSON: 0.7 ms at
   * 200,000 resting orders, where 2,000 took 6-8 ms each and more in all).
   */
  snapshotPartOrders?: number;
  snapshotPartChars?: number;
  /** Verify a loaded snapshot by re-hashing the restored engine (default true). */
  verifySnapshot?: boolean;
  /** Run SQLite's quick_check on open (default false: it reads the whole file). */
  integrityCheck?: boolean;
  /**
   * A damaged journal frame (the last one too: SQLite's WAL never leaves a torn commit, so every frame in
   * the journal was committed, and may have been acknowledged) means acknowledged commands would be lost:
   * 'error' (default) refuses to open (JOURNAL_CORRUPT); 'truncate' sets the damaged frame and everything
   * after it aside in journal_quarantine and recovers to the last intact entry, with a report
   * (RecoveryReport.discarded). The sequence numbers and order ids of what was set aside are never given
   * out again: the journal goes on after them.
   */
  onDamagedJournal?: 'error' | 'truncate';
  /**
   * A journal that ends before the history file's watermark or before a snapshot (of either file): both are
   * written only after the journal holds their commands, so the commands after its end were journaled and
   * are missing (the venue file rolled back or copied without its WAL; a history file newer than it).
   * 'error' (default) refuses to open (JOURNAL_TRUNCATED) and leaves the history as it is; 'proceed' opens
   * at the journal's end, skips those snapshots and re-derives the history from the journal. A history file
   * behind the journal, new or missing is not this: it is filled from the journal either way. Default
   * 'error'; 'proceed' with synchronous 'NORMAL', under which a power cut may take the journal's last commits.
   */
  onJournalBehind?: 'error' | 'proceed';
  /** Engine settings. `candleHistory` is fixed when the database is created (CONFIG_MISMATCH if it differs). */
  engine?: EngineOptions;
  /**
   * 'account' (default): a client order id may be used once per account, ever. 'session': once per trading
   * session (the engine's own rule).
   */
  clientOrderIdScope?: 'account' | 'session';
  /** Called when the venue stops after a failed commit. */
  onFatal?: (error: VenueError) => void;
  /** Called when a subscriber throws or a background snapshot fails. Default: console.error. */
  onError?: (error: unknown, where: string) => void;
}

/** What a submitted command came to. A rejection is a normal result, not a thrown error. */
export interface Ack {
  /** Sequence number in the journal; 0 when it was rejected before sequencing (not journaled). */
  seq: number;
  ts: Timestamp;
  /** The command as executed and journaled (with time and order ids); absent when rejected before sequencing. */
  command?: Command;
  events: EngineEvent[];
  /** The Rejected event when the command was rejected. */
  rejected?: Rejected;
  /** Order ids the venue assigned (entry, take-profit, stop-loss; or both OCO legs). */
  orderIds: OrderId[];
}

/**
 * A label its submitter journals with a command (Venue.submit): who sent it, say. The venue keeps `text` in
 * the command's frame, covered by the frame's CRC (journalFrames gives it back), and calls `acknowledged`
 * with the command's ack (and the command as submitted) just before its promise resolves: in sequence
 * order, so what is built from those calls can keep a watermark in the journal's terms (acknowledgedSeq).
 * A command rejected before sequencing (not journaled) is passed too, with seq 0. `acknowledged` should not
 * throw (one that does is reported through onError).
 */
export interface CommandTag {
  readonly text: string;
  /**
   * The text journaled instead of `text` when the engine refused the command (`code`: its Rejected event's),
   * so that the journal holds the outcome a refusal leaves no trace of in the state (a cancel of an order
   * already filled, say). Absent: `text` either way.
   */
  refusedText?(code: ResultCode): string;
  acknowledged?(ack: Ack, submitted: VenueCommand): void;
}

/**
 * A tag's text for a command the engine refused: its refusedText, or its text if that throws or gives
 * something else than text (it runs inside the group commit, which must not fail for a tag's sake).
 */
function refusedText(tag: CommandTag, code: ResultCode): string {
  try {
    const t = tag.refusedText?.(code);
    return typeof t === 'string' ? t : tag.text;
  } catch {
    return tag.text;
  }
}

/** A journaled command and its events, as given to onCommit listeners. */
export interface CommittedCommand {
  seq: number;
  ts: Timestamp;
  command: Command;
  events: EngineEvent[];
}

/** Market data for a symbol changed in a commit: the trades printed, and whether book or quote may have moved. */
export interface MarketChange {
  symbol: string;
  trades: TradePrint[];
}

export interface RecoveryReport {
  /** True when the database file was created by this open. */
  created: boolean;
  /** Schema migrations applied by this open. */
  migrated: number[];
  /** Sequence number of the snapshot recovery started from (0: from an empty engine). */
  snapshotSeq: number;
  /** Snapshots that could not be used, newest first. */
  snapshotsSkipped: { seq: number; reason: string }[];
  /** Commands replayed from the journal after the snapshot. */
  replayed: number;
  /**
   * The journal's last sequence number: the state is that of every command up to here (but those set aside
   * on this or an earlier recovery, which are not given out again).
   */
  recoveredTo: number;
  /** Damaged journal frames set aside (in journal_quarantine). Empty in every normal recovery. */
  discarded: { seq: number; n: number; reason: string }[];
  /** True when the history tables were re-derived from the journal during this open. */
  historyRebuilt: boolean;
  ms: number;
}

/** fsyncs a file if it exists (opened for writing, never written: Windows syncs no read-only handle). */
function syncExisting(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The history queries Venue.queryHistory answers, by name, and their argument and result. */
export type HistoryMethod = ReaderMethod;
export type HistoryArg<K extends HistoryMethod> = NonNullable<Parameters<HistoryQueries[K]>[0]>;
export type HistoryResult<K extends HistoryMethod> = ReturnType<HistoryQueries[K]>;

/** Read-only engine queries (the venue alone executes commands). */
export type EngineView = Pick<
  Engine,
  | 'quote'
  | 'depth'
  | 'candles'
  | 'index'
  | 'indexNames'
  | 'instrument'
  | 'instruments'
  | 'order'
  | 'openOrders'
  | 'accountView'
  | 'accountIds'
  | 'stateHash'
  | 'snapshot'
  | 'sessionNumber'
  | 'liveOrders'
>;

type Unsubscribe = () => void;

interface Pending {
  cmd: VenueCommand;
  resolve: (a: Ack) => void;
  reject: (e: unknown) => void;
  tag: CommandTag | undefined;
}

/** Background fsyncs of the WAL running at once (each on a thread of libuv's pool, which has 4 by default). */
const MAX_FSYNCS = 2;
/**
 * A second fsync starts only once the running one has taken this long: most return sooner, and starting one
 * per group commit would double the fsyncs (and their CPU) for nothing; a slow one is what holds batches back.
 */
const OVERLAP_AFTER_MS = 1;

/** One background fsync and the batches it makes durable. */
interface InFlightSync {
  groups: SyncGroup[];
  startedAt: number;
  done: boolean;
  err: NodeJS.ErrnoException | null;
}

/** A committed batch waiting for the background fsync. */
interface SyncGroup {
  batch: Pending[];
  acks: Ack[];
  committed: CommittedCommand[];
  pubs: OrderRecord[];
  done: boolean;
  /** Called once it is settled (durable(): with the error when its batch was rejected). */
  onSettled?: ((err?: unknown) => void)[];
}

/** A snapshot whose text is being produced (Venue.snapshot). */
interface SnapshotJob {
  meta: ThreadSnapshot;
  capture: StateCapture;
  pieces: Generator<string>;
  /** Where the text goes: the history thread, or (without it) `parts`, written to the venue file when complete. */
  thread: HistoryThread | undefined;
  parts: string[];
  immediate: ReturnType<typeof setImmediate> | undefined;
  hasher: TextHasher;
  /** For onSnapshot: when snapshot() was called, how long it blocked (once it returned), the text's length. */
  startedAt: number;
  blockedMs: number | undefined;
  chars: number;
}

const DEFAULT_CANDLE_HISTORY = 240;
/** backup(): how often the venue's WAL's growth is looked at while a copy holds its checkpoints (ms). */
const BACKUP_WATCH_MS = 100;
/** The last command a copy of the venue's file holds (0 for an empty journal). */
const LAST_SEQ_SQL =
  'SELECT max((SELECT coalesce(max(seq + n - 1), 0) FROM journal), (SELECT coalesce(max(seq + n - 1), 0) FROM journal_quarantine))';

/** An account's open orders: answered from the engine's live orders, not the history tables. */
function readsLiveOrders(q: OrderQuery): q is OrderQuery & { accountId: AccountId } {
  return q.status === 'open' && q.accountId !== undefined;
}

/** The optional observers among the options. */
type Hook = 'onHistoryWait' | 'onGroupCommit' | 'onSync' | 'onSnapshot' | 'onHistoryQuery';

// ---------------------------------------------------------------- the venue

export class Venue {
  readonly path: string;
  /** The history file (VenueOptions.historyFile). */
  readonly historyFile: string;
  readonly recovery: RecoveryReport;
  private readonly db: Db;
  private readonly journal: Journal;
  private readonly history: HistoryWriter;
  private readonly q: HistoryQueries;
  private readonly alertBook: AlertBook;
  private engine: Engine;
  private readonly engineOptions: EngineOptions;
  private readonly opts: Required<Omit<VenueOptions, 'onFatal' | 'engine' | 'historyFile' | 'platform' | Hook>> & Pick<VenueOptions, 'onFatal' | Hook>;
  private readonly clock: () => number;
  /** Background fsync: the WAL file, batches committed and waiting for an fsync, the fsyncs running (in the order they started). */
  private readonly bgSync: boolean;
  private walFd: number | undefined;
  private awaiting: SyncGroup[] = [];
  private syncing: InFlightSync[] = [];

  private seq = 0;
  private nextOrderId = 1;
  private lastTs = 0;
  private queue: Pending[] = [];
  /** The tag of commands submitted without one (tagged()). */
  private tag: CommandTag | undefined;
  private submissions = 0;
  /** The last command acknowledged (or, after recovery, journaled before this open). */
  private ackedSeq = 0;
  private scheduled = false;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private state: 'open' | 'closing' | 'closed' | 'failed' = 'open';
  /** Copies of the venue's file holding its checkpoints (holdCheckpoints), and the setting they put back. */
  private checkpointHolds = 0;
  private autoCheckpoint = 1000;
  /**
   * A file held exclusively: descriptors on it and its WAL for a backup's copy to read (copyFileBytes), open
   * from open() until the connection is closed (and closed then, even under a copy still reading them: a
   * venue opened later on the same file in this process would lose its locks when they are).
   */
  private fileFds: { db: number; wal: number; file: string; walPath: string } | undefined;
  private failure: VenueError | undefined;
  private snapSeq = 0;
  private snapAt = 0;
  private snapScheduled: ReturnType<typeof setImmediate> | undefined;
  /** A snapshot whose text is being produced, a part per turn of the event loop (see snapshot()). */
  private snapJob: SnapshotJob | undefined;
  /** The history file's reader thread (started by the first queryHistory that needs it). */
  private reader: HistoryReader | undefined;
  /** Set once a reader thread could not open the history file: queries then run on the sequencer. */
  private readerOff = false;
  /** Arrays for the next snapshot's capture to fill: the last one's, or larger ones written through ahead. */
  private spareArrays: CaptureArrays | undefined;
  /** Larger arrays for the next capture, being written through a part per turn (see prepareCapture). */
  private warming: { arrays: CaptureArrays; next: number; immediate: ReturnType<typeof setImmediate> | undefined } | undefined;
  private snapTimer: ReturnType<typeof setInterval> | undefined;
  private historyTimer: ReturnType<typeof setInterval> | undefined;

  private readonly begin;
  private readonly commit;
  private readonly rollback;

  // subscribers
  private readonly orderSubs = new Map<AccountId, Set<(r: OrderRecord) => void>>();
  private readonly execSubs = new Map<AccountId, Set<(x: Execution) => void>>();
  private readonly accountSubs = new Map<AccountId, Set<(accountId: AccountId) => void>>();
  private readonly marketSubs = new Map<string, Set<(c: MarketChange) => void>>();
  private readonly commitSubs = new Set<(batch: readonly CommittedCommand[]) => void>();
  private readonly instrumentSubs = new Set<(symbols: readonly string[]) => void>();
  private orderPubs: OrderRecord[] = [];
  private readonly sink: OrderSink;

  /** Opens (creating if needed) the venue database at `path` and recovers its state. */
  static open(path: string, options: VenueOptions = {}): Venue {
    return new Venue(path, options);
  }

  private constructor(path: string, o: VenueOptions) {
    const t0 = performance.now();
    this.path = path;
    this.historyFile = o.historyFile ?? historyPath(path);
    if (resolvePath(this.historyFile) === resolvePath(path))
      throw new VenueError('DB_FOREIGN', `The history file cannot be the venue database itself (${path})`, { historyFile: this.historyFile });
    this.clock = o.now ?? Date.now;
    this.bgSync = o.fsync === 'background' && (o.synchronous ?? 'FULL') !== 'NORMAL';
    this.opts = {
      fsync: this.bgSync ? 'background' : 'commit',
      synchronous: o.synchronous ?? 'FULL',
      busyTimeoutMs: o.busyTimeoutMs ?? 5000,
      exclusive: o.exclusive ?? true,
      now: this.clock,
      commitWindowMs: Math.max(0, o.commitWindowMs ?? 0),
      maxBatch: Math.max(1, o.maxBatch ?? 8192),
      history: o.history ?? true,
      historyThread: o.historyThread ?? true,
      historyFlushRows: Math.max(1, o.historyFlushRows ?? 20_000),
      historyFlushMs: Math.max(0, o.historyFlushMs ?? 250),
      historyCommitMs: Math.max(0, o.historyCommitMs ?? 0),
      historyCommitCommands: Math.max(1, o.historyCommitCommands ?? Number.MAX_SAFE_INTEGER),
      snapshotEvery: Math.max(0, o.snapshotEvery ?? 100_000),
      snapshotIntervalMs: Math.max(0, o.snapshotIntervalMs ?? 300_000),
      snapshotsKept: Math.max(1, o.snapshotsKept ?? 3),
      snapshotPartOrders: Math.max(1, Math.floor(o.snapshotPartOrders ?? 250)),
      snapshotPartChars: Math.max(1, Math.floor(o.snapshotPartChars ?? 65_536)),
      verifySnapshot: o.verifySnapshot ?? true,
      integrityCheck: o.integrityCheck ?? false,
      onDamagedJournal: o.onDamagedJournal ?? 'error',
      // with synchronous NORMAL a power cut may take commits the history file kept: that is the setting's price
      onJournalBehind: o.onJournalBehind ?? (o.synchronous === 'NORMAL' ? 'proceed' : 'error'),
      clientOrderIdScope: o.clientOrderIdScope ?? 'account',
      onFatal: o.onFatal,
      onHistoryWait: o.onHistoryWait,
      onGroupCommit: o.onGroupCommit,
      onSync: o.onSync,
      onSnapshot: o.onSnapshot,
      onHistoryQuery: o.onHistoryQuery,
      onError: o.onError ?? ((e, where) => console.error(`venue: ${where}:`, e)),
    };
    const opened = openDatabase(path, {
      synchronous: this.bgSync ? 'NORMAL' : this.opts.synchronous,
      busyTimeoutMs: this.opts.busyTimeoutMs,
      exclusive: this.opts.exclusive,
      integrityCheck: this.opts.integrityCheck,
      now: Math.floor(this.clock()),
      ...(o.platform !== undefined ? { platform: o.platform } : {}),
    });
    this.db = opened.db;
    try {
      attachHistory(this.db, this.historyFile, this.venueId());
      // the reader thread's copy of the imported bars (none without the history thread, which has no reader)
      if (this.opts.history && this.opts.historyThread) copyImportedCandles(this.db);
      this.engineOptions = this.engineConfig(o.engine ?? {});
      this.journal = new Journal(this.db);
      this.history = new HistoryWriter(this.db);
      this.q = createHistoryQueries(this.db, VENUE_QUERY_LIB);
      this.alertBook = new AlertBook(this.db, (e, where) => this.opts.onError(e, where));
      // Deferred: IMMEDIATE would also take the write lock of the attached history file, which its writer
      // thread holds while it writes. The journal is written by this connection alone (exclusive lock).
      this.begin = this.db.prepare('BEGIN');
      this.commit = this.db.prepare('COMMIT');
      this.rollback = this.db.prepare('ROLLBACK');
      // A process killed before its journal fsync returned leaves frames that may be in the page cache only
      // (with fsync 'background', or in a commit's own fsync): synced before recovery derives history from
      // them, whatever this open's settings (see journalDurableHere).
      syncExisting(`${this.fileName()}-wal`);
      const rec = this.recover();
      this.engine = rec.engine;
      let historyRebuilt = false;
      if (rec.rebuild) {
        this.rebuildHistory();
        historyRebuilt = true;
      }
      if (this.opts.history && this.opts.historyThread) this.startHistoryThread();
      this.recovery = {
        created: opened.created,
        migrated: opened.migrated,
        snapshotSeq: rec.snapshotSeq,
        snapshotsSkipped: rec.snapshotsSkipped,
        replayed: rec.replayed,
        recoveredTo: this.seq,
        discarded: rec.discarded,
        historyRebuilt,
        ms: performance.now() - t0,
      };
    } catch (e) {
      (this as unknown as { history?: HistoryWriter }).history?.thread?.close(1000);
      this.db.close();
      if (isVenueError(e)) throw e;
      const code = (e as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))
        throw new VenueError('DB_CORRUPT', `${path} is damaged: ${(e as Error).message}`, { sqlite: code }, { cause: e });
      throw e;
    }
    const fds: number[] = [];
    try {
      const file = this.fileName();
      const wal = `${file}-wal`;
      if (this.bgSync) {
        // opened for writing, never written: Windows syncs no file through a read-only handle (EPERM)
        this.walFd = openSync(wal, 'r+');
        fds.push(this.walFd);
        fsyncSync(this.walFd); // whatever recovery wrote
      }
      // read by a backup's copy, and closed only once the connection is (see copyFileBytes)
      if (this.opts.exclusive) {
        const db = openSync(file, 'r');
        fds.push(db);
        const w = openSync(wal, 'r');
        fds.push(w);
        this.fileFds = { db, wal: w, file, walPath: wal };
      }
    } catch (e) {
      this.history.thread?.close(1000);
      this.db.close();
      for (const fd of fds) closeSync(fd); // (after the connection: closing one drops its locks)
      this.walFd = undefined;
      this.fileFds = undefined;
      throw e;
    }
    this.sink = {
      wants: (id) => this.orderSubs.has(id),
      order: (r) => this.orderPubs.push(r),
    };
    this.snapAt = Date.now();
    if (this.opts.snapshotIntervalMs > 0) {
      this.snapTimer = setInterval(() => this.maybeSnapshot(), Math.min(this.opts.snapshotIntervalMs, 10_000));
      this.snapTimer.unref();
    }
    if (this.opts.historyFlushMs > 0) {
      this.historyTimer = setInterval(() => {
        if (this.state === 'open' && this.history.pending > 0 && performance.now() - this.history.flushedAt >= this.opts.historyFlushMs) {
          try {
            this.syncHistoryOrFail();
          } catch {
            // the venue has failed and told onFatal; nothing more to do from a timer
          }
        }
      }, this.opts.historyFlushMs);
      this.historyTimer.unref();
    }
  }

  private engineConfig(e: EngineOptions): EngineOptions {
    const stored = getMeta(this.db, 'candle_history');
    if (stored === undefined) {
      const ch = e.candleHistory ?? DEFAULT_CANDLE_HISTORY;
      this.db.transaction(() => setMeta(this.db, 'candle_history', String(ch)))();
      return { ...e, candleHistory: ch };
    }
    const ch = Number(stored);
    if (e.candleHistory !== undefined && e.candleHistory !== ch)
      throw new VenueError(
        'CONFIG_MISMATCH',
        `This journal was written with candleHistory ${ch}; the engine option asks for ${e.candleHistory}`,
        { stored: ch, asked: e.candleHistory },
      );
    return { ...e, candleHistory: ch };
  }

  // ================================================================ recovery

  private recover(): {
    engine: Engine;
    snapshotSeq: number;
    snapshotsSkipped: RecoveryReport['snapshotsSkipped'];
    replayed: number;
    discarded: RecoveryReport['discarded'];
    rebuild: boolean;
  } {
    const skipped: RecoveryReport['snapshotsSkipped'] = [];
    // commands set aside by an earlier recovery: their seqs are not given out again (the journal goes on after them)
    let aside = setAsideRanges(this.db);
    const journalEnd = Math.max(this.journal.lastSeq(), aside.at(-1)?.[1] ?? 0);
    const hw = Number(getHistoryMeta(this.db, 'history_seq') ?? '0');
    const rebuildPending = getHistoryMeta(this.db, 'history_rebuild') === '1' || !(hw <= journalEnd);
    // History rows exist up to hw: the replay must pass through hw with the writer attached from there on,
    // so a usable snapshot is one at or before hw (snapshots are written after a history flush, so all are).
    const keep = this.opts.history;
    const histFrom = rebuildPending || !keep ? Infinity : hw;
    let engine: Engine | undefined;
    let snapshotSeq = 0;
    let nextId = 1;
    let lastTs = 0;
    // Snapshots written by the history thread are in the history file, the others in the venue file.
    const snapSeqs = this.db
      .prepare(`SELECT seq, 'main' AS db FROM main.snapshots UNION ALL SELECT seq, '${HISTORY_SCHEMA}' FROM ${HISTORY_SCHEMA}.snapshots ORDER BY seq DESC`)
      .all() as { seq: number; db: string }[];
    const cols = 'seq, ts, hash, next_order_id AS nextOrderId, crc, data';
    const snapAt = {
      main: this.db.prepare(`SELECT ${cols} FROM main.snapshots WHERE seq = ?`),
      [HISTORY_SCHEMA]: this.db.prepare(`SELECT ${cols} FROM ${HISTORY_SCHEMA}.snapshots WHERE seq = ?`),
    } as Record<string, ReturnType<Db['prepare']>>;
    // The history's watermark and every snapshot are written after the journal holds their commands: one
    // beyond its end means journaled commands are missing, not a crash (SQLite drops only uncommitted work).
    const newestSnap = snapSeqs[0]?.seq ?? 0;
    if ((hw > journalEnd || newestSnap > journalEnd) && this.opts.onJournalBehind !== 'proceed') {
      const ahead = [hw > journalEnd ? `the history file's watermark is at ${hw}` : '', newestSnap > journalEnd ? `a snapshot is at ${newestSnap}` : '']
        .filter((t) => t !== '')
        .join(' and ');
      throw new VenueError(
        'JOURNAL_TRUNCATED',
        `The journal ends at ${journalEnd}, but ${ahead}: commands journaled after ${journalEnd} are missing (the venue ` +
          'file rolled back, or copied without its -wal; or a history file newer than it). Put back the venue file ' +
          "that goes with the history file (or restore both from one backup), or open with onJournalBehind: 'proceed' " +
          `to start at ${journalEnd} and re-derive the history from the journal.`,
        { journalEnd, historySeq: hw, snapshotSeq: newestSnap },
      );
    }
    for (const sq of snapSeqs) {
      const s = snapAt[sq.db]!.get(sq.seq) as { seq: number; ts: number; hash: string; nextOrderId: number; crc: number; data: string };
      if (s.seq > journalEnd) {
        skipped.push({ seq: s.seq, reason: `ahead of the journal (which ends at ${journalEnd})` });
        continue;
      }
      if (s.seq > histFrom) {
        skipped.push({ seq: s.seq, reason: `ahead of the history watermark ${hw}` });
        continue;
      }
      if (typeof s.data !== 'string' || crc32(s.data) !== s.crc) {
        skipped.push({ seq: s.seq, reason: 'CRC mismatch' });
        continue;
      }
      try {
        const e = Engine.restore(JSON.parse(s.data) as EngineSnapshot, { book: this.engineOptions.book ?? 'fast' });
        if (this.opts.verifySnapshot && e.stateHash() !== s.hash) {
          skipped.push({ seq: s.seq, reason: 'restored state hash differs from the recorded one' });
          continue;
        }
        engine = e;
        snapshotSeq = s.seq;
        nextId = s.nextOrderId;
        lastTs = s.ts;
        break;
      } catch (err) {
        skipped.push({ seq: s.seq, reason: `cannot restore: ${(err as Error).message}` });
      }
    }
    engine ??= new Engine(this.engineOptions);
    const writer = this.history;
    let attached = false;
    const attach = (at: number): void => {
      writer.reset(engine, at);
      attached = true;
    };
    if (histFrom !== Infinity && snapshotSeq >= histFrom) attach(snapshotSeq);

    // Replay the tail. Because acknowledgements are sent only after COMMIT, and SQLite's WAL drops a
    // transaction torn by a crash as a whole, every frame here was committed and may have been acknowledged:
    // a damaged one (the last too) is damage after the fact, and refuses to open unless the operator asks to
    // truncate (the frame and all after it set aside, their seqs and order ids never given out again).
    let seq = snapshotSeq;
    let replayed = 0;
    let maxId = 0;
    const discarded: RecoveryReport['discarded'] = [];
    let bad: { row: FrameRow; reason: string } | undefined;
    const later: { row: FrameRow; reason: string }[] = [];
    for (const row of this.journal.framesAfter(snapshotSeq)) {
      if (bad !== undefined) {
        const c = checkFrame(row);
        later.push({ row, reason: 'reason' in c ? c.reason : 'follows a damaged frame' });
        continue;
      }
      const end = row.seq + row.n - 1;
      if (end <= seq) continue; // the snapshot already covers this frame
      if (row.seq > seq + 1 && wasSetAside(aside, seq + 1, row.seq - 1)) seq = row.seq - 1;
      if (row.seq > seq + 1 || row.seq + row.n <= seq) {
        bad = { row, reason: `gap: expected a frame holding ${seq + 1}` };
        continue;
      }
      const c = checkFrame(row);
      if ('reason' in c) {
        bad = { row, reason: c.reason };
        continue;
      }
      for (let i = seq + 1 - row.seq; i < c.commands.length; i++) {
        const a = c.commands[i]!;
        if (!attached && seq === histFrom) attach(seq);
        const cmd = decodeCommand(a, row.ts);
        const events = engine.execute(cmd);
        if (attached) writer.apply(seq + 1, cmd, events);
        const m = maxOrderId(a);
        if (m > maxId) maxId = m;
        seq++;
        replayed++;
      }
      lastTs = row.ts;
    }
    if (bad !== undefined) {
      // The last frame is no different: SQLite's WAL keeps a commit whole or drops it, so a frame in the
      // journal was committed (and its batch perhaps acknowledged); damage in it is damage to the file.
      const intactAfter = later.filter((l) => l.reason === 'follows a damaged frame');
      if (this.opts.onDamagedJournal !== 'truncate')
        throw new VenueError(
          'JOURNAL_CORRUPT',
          `Journal frame at ${bad.row.seq} is damaged (${bad.reason})` +
            (intactAfter.length > 0 ? ` and ${intactAfter.length} intact frame(s) follow it` : later.length > 0 ? ', as are the frames after it' : ' (the last frame)') +
            ': its commands were committed, and may have been acknowledged; recovering would drop them. Restore the ' +
            "database from a backup, or open with onDamagedJournal: 'truncate' to keep everything before the damage.",
          { seq: bad.row.seq, reason: bad.reason, intactAfter: intactAfter.map((l) => l.row.seq) },
        );
      const all = [bad, ...later];
      // order ids given out by what is set aside (as far as can be told: its commands if they parse, the
      // snapshots and the history rows it drops): the next ones start above them
      let idFloor = Number(getMeta(this.db, 'order_id_floor') ?? '0');
      for (const { row } of all) {
        try {
          const cmds: unknown = JSON.parse(row.data);
          if (Array.isArray(cmds)) for (const a of cmds) if (Array.isArray(a)) idFloor = Math.max(idFloor, maxOrderId(a));
        } catch {
          // damaged beyond parsing: the bounds below
        }
      }
      for (const sql of [
        'SELECT max(next_order_id) - 1 FROM main.snapshots WHERE seq > ?',
        `SELECT max(next_order_id) - 1 FROM ${HISTORY_SCHEMA}.snapshots WHERE seq > ?`,
      ]) {
        const m = this.db.prepare(sql).pluck().get(seq);
        if (typeof m === 'number') idFloor = Math.max(idFloor, m);
      }
      if (keep) {
        const m = this.db.prepare(`SELECT max(order_id) FROM ${HISTORY_SCHEMA}.orders`).pluck().get();
        if (typeof m === 'number') idFloor = Math.max(idFloor, m);
      }
      this.db.transaction(() => {
        const q = this.db.prepare(
          'INSERT INTO journal_quarantine (seq, n, ts, data, crc, tags, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        );
        const del = this.db.prepare('DELETE FROM journal WHERE seq = ?');
        for (const { row, reason } of all) {
          q.run(row.seq, row.n, row.ts, row.data, row.crc, row.tags ?? null, reason, Math.floor(this.clock()));
          del.run(row.seq);
          discarded.push({ seq: row.seq, n: row.n, reason });
        }
        setMeta(this.db, 'order_id_floor', String(idFloor));
        // snapshots beyond the recovered point describe commands that are no longer journaled
        this.db.prepare('DELETE FROM main.snapshots WHERE seq > ?').run(seq);
        this.db.prepare(`DELETE FROM ${HISTORY_SCHEMA}.snapshots WHERE seq > ?`).run(seq);
        setHistoryMeta(this.db, 'history_rebuild', '1');
      })();
    }
    // what was set aside (now or before) keeps its seqs and order ids: the next command comes after them
    aside = setAsideRanges(this.db);
    seq = Math.max(seq, aside.at(-1)?.[1] ?? 0);
    this.seq = seq;
    this.snapSeq = snapshotSeq;
    this.nextOrderId = Math.max(nextId, maxId + 1, Number(getMeta(this.db, 'order_id_floor') ?? '0') + 1);
    this.lastTs = lastTs;
    const rebuild = keep && (discarded.length > 0 || rebuildPending);
    if (!keep) {
      if (discarded.length > 0) setHistoryMeta(this.db, 'history_rebuild', '1');
    } else if (rebuild) {
      // rebuildHistory() (called by the constructor) re-derives everything; seed the writer meanwhile
      writer.reset(engine, seq);
    } else {
      if (!attached) attach(seq);
      if (writer.pending > 0 || writer.watermark !== seq) this.db.transaction(() => writer.flush(seq))();
    }
    return { engine, snapshotSeq, snapshotsSkipped: skipped, replayed, discarded, rebuild };
  }

  /**
   * Re-derives every history table from the journal (used after a damaged tail was set aside, and by
   * migrations that change history tables). Verifies that the replay ends in the live engine's state.
   */
  rebuildHistory(): void {
    this.assertUsable();
    if (!this.opts.history) throw new VenueError('BAD_QUERY', 'This venue was opened without history');
    // Written here, on this connection: the writer thread (if any) first writes what it was given and stops.
    // queries already with the reader are answered here once the rebuild is done
    this.closeReader();
    const threaded = this.history.thread !== undefined;
    if (threaded) {
      this.syncHistory();
      this.history.thread!.close();
      this.history.thread = undefined;
    }
    try {
      this.rebuildHere();
    } finally {
      if (threaded && this.state !== 'failed' && this.state !== 'closed') this.startHistoryThread();
    }
  }

  /** Starts the history thread; if it cannot start, history is written here (and onError is told). */
  private startHistoryThread(): void {
    this.history.prune();
    let thread: HistoryThread | undefined;
    try {
      const onHistoryWait = this.opts.onHistoryWait;
      thread = new HistoryThread(this.historyFile, HISTORY_STATEMENTS, HISTORY_MARK, this.history.watermark, (e) => {
        if (this.state === 'open' || this.state === 'closing') this.fail(e, []);
      }, {
        commitMs: this.opts.historyCommitMs,
        commitCommands: this.opts.historyCommitCommands,
        onWait: onHistoryWait === undefined ? undefined : (ms) => this.observe('onHistoryWait', () => onHistoryWait(ms)),
        // with the journal fsynced after COMMIT, the history may not get ahead of what is on the disk
        ...(this.bgSync ? { journalWal: `${this.fileName()}-wal`, durable: this.ackedSeq } : {}),
      });
      thread.waitReady();
      this.history.thread = thread;
    } catch (e) {
      thread?.close(1000);
      this.opts.onError(e, 'history thread (history is written by the sequencer instead)');
    }
  }

  private rebuildHere(): void {
    // the journal up to this.seq is read back: none of it may be ahead of what is on the disk
    this.journalDurableHere();
    this.db.transaction(() => setHistoryMeta(this.db, 'history_rebuild', '1'))();
    const fresh = new Engine(this.engineOptions);
    const w = this.history;
    this.db.transaction(() => {
      for (const t of ['orders', 'executions', 'ledger', 'candles', 'sessions']) this.db.exec(`DELETE FROM ${t}`);
    })();
    w.reset(fresh, 0);
    let seq = 0;
    let inTx = 0;
    const aside = setAsideRanges(this.db);
    this.begin.run();
    try {
      for (const row of this.journal.framesAfter(0)) {
        if (row.seq > this.seq) break;
        const c = checkFrame(row);
        if ('reason' in c) throw new VenueError('JOURNAL_CORRUPT', `Journal frame at ${row.seq} is damaged: ${c.reason}`);
        if (row.seq > seq + 1 && wasSetAside(aside, seq + 1, row.seq - 1)) seq = row.seq - 1;
        if (row.seq !== seq + 1) throw new VenueError('JOURNAL_CORRUPT', `Journal gap before ${row.seq}`);
        for (const a of c.commands) {
          seq++;
          const cmd = decodeCommand(a, row.ts);
          w.apply(seq, cmd, fresh.execute(cmd));
        }
        if (++inTx >= 64) {
          w.flush(seq);
          this.commit.run();
          this.begin.run();
          inTx = 0;
        }
      }
      w.flush(seq);
      setHistoryMeta(this.db, 'history_rebuild', '0');
      this.commit.run();
    } catch (e) {
      if (this.db.inTransaction) this.rollback.run();
      w.discard();
      w.reset(this.engine, this.seq);
      throw e;
    }
    if (fresh.stateHash() !== this.engine.stateHash())
      throw new VenueError('JOURNAL_CORRUPT', 'Replaying the journal does not reproduce the live state');
    w.reset(this.engine, this.seq);
  }

  /**
   * A history query (by name, with its one argument) answered once everything acknowledged before the call
   * is written, without blocking sequencing meanwhile: with the history thread, the rows are handed over
   * and their commit awaited, and the query then runs on a reader thread of its own (history-reader.ts;
   * any query runs here if the reader is lost while it answers, or could not open the file, and candles
   * while the thread has not yet copied an import of bars). Without the thread, for an account's open orders (read from
   * the engine) and while the venue is not open, it is the query called directly. A query called directly
   * (`orders()`, ...) blocks the event loop, sequencing included, until the thread has written the rows,
   * and runs its SQL there.
   */
  async queryHistory<K extends HistoryMethod>(method: K, arg: HistoryArg<K>): Promise<HistoryResult<K>> {
    this.historyOn();
    const thread = this.history.thread;
    // live orders are read from the engine (see orders())
    const live = method === 'orders' && readsLiveOrders(arg as OrderQuery);
    const t0 = performance.now();
    let waitMs = 0;
    let r: HistoryResult<K>;
    if (thread === undefined || this.state !== 'open' || live) r = this.queryHere(method, arg);
    else {
      if (this.history.pending > 0 || this.history.watermark < this.seq) this.syncHistoryOrFail();
      await thread.whenWritten(this.history.watermark);
      waitMs = performance.now() - t0;
      this.assertUsable();
      // Candles here while the thread has not written an import to the reader's copy of the bars: read at
      // once, as the wait above covered them (candles() would make the thread commit again now, syncing the
      // journal for commands committed meanwhile, with this thread waiting).
      if (method === 'candles' && thread.importsPending) r = this.q.candles(arg as CandleQuery) as HistoryResult<K>;
      else if (this.readerOff) r = this.queryHere(method, arg);
      else {
        const reader = this.historyReader();
        try {
          r = (await reader.read(method as ReaderMethod, arg as ReaderArg<ReaderMethod>)) as HistoryResult<K>;
        } catch (e) {
          // the reader was lost, could not open the file, or was closed by a history rebuild: answered
          // here (the venue is still open)
          if (!reader.ended || this.state !== 'open') throw e;
          if (reader.openFailed) this.readerOff = true;
          r = this.queryHere(method, arg);
        }
      }
    }
    const hook = this.opts.onHistoryQuery;
    if (hook !== undefined) {
      const info = { method, waitMs, totalMs: performance.now() - t0 };
      this.observe('onHistoryQuery', () => hook(info));
    }
    return r;
  }

  /**
   * How long (ms) each of the venue's own threads has been busy since it started: the history writer and the
   * history reader (undefined while there is none; a thread started again after a loss counts from 0).
   */
  threadBusyMs(): { historyWriter: number | undefined; historyReader: number | undefined } {
    const reader = this.reader !== undefined && !this.reader.ended ? this.reader : undefined;
    return { historyWriter: this.history.thread?.busyMs(), historyReader: reader?.busyMs() };
  }

  /** The reader thread; a new one if the last was lost (one that could not open the file turns readers off). */
  private historyReader(): HistoryReader {
    if (this.reader === undefined || this.reader.ended) {
      const reader = new HistoryReader(this.historyFile, (e) => {
        this.opts.onError(e, reader.openFailed ? 'history reader thread (history queries run on the sequencer instead)' : 'history reader thread (a new one answers the next query)');
      });
      this.reader = reader;
    }
    return this.reader;
  }

  /** Ends the reader thread, if any (its unanswered queries reject with `reason`, default VENUE_CLOSED). */
  private closeReader(reason?: VenueError): void {
    this.reader?.close(reason);
    this.reader = undefined;
  }

  /** The query called directly. */
  private queryHere<K extends HistoryMethod>(method: K, arg: HistoryArg<K>): HistoryResult<K> {
    const a = arg as never;
    switch (method as HistoryMethod) {
      case 'orders':
        return this.orders(a) as HistoryResult<K>;
      case 'executions':
        return this.executions(a) as HistoryResult<K>;
      case 'statement':
        return this.statement(a) as HistoryResult<K>;
      case 'tradeStats':
        return this.tradeStats(a) as HistoryResult<K>;
      case 'recentTrades': {
        const { symbol, limit } = arg as RecentTradesQuery;
        return this.recentTrades(symbol, limit) as HistoryResult<K>;
      }
      case 'candles':
        return this.candles(a) as HistoryResult<K>;
    }
  }

  /**
   * Writes the history rows still buffered (queries call this first, so they always include every
   * acknowledged command). A failure here stops the venue like a failed commit.
   */
  syncHistory(): void {
    if (this.state === 'failed' || this.state === 'closed' || !this.opts.history) return;
    const thread = this.history.thread;
    if (thread !== undefined) {
      try {
        if (this.history.pending > 0 || this.history.watermark !== this.seq) this.history.flush(this.seq);
        thread.waitWritten(this.history.watermark);
        this.history.prune();
      } catch (e) {
        this.fail(e, []);
        throw this.failure!;
      }
      return;
    }
    if (this.history.pending === 0 && this.history.watermark === this.seq) return;
    this.syncHistoryOrFail();
  }

  private syncHistoryOrFail(): void {
    if (this.history.thread !== undefined) {
      // Handed over; nobody waits for it here.
      try {
        this.history.flush(this.seq);
      } catch (e) {
        this.fail(e, []);
        throw this.failure!;
      }
      return;
    }
    this.writeHistoryHere();
  }

  /**
   * Writes the buffered history rows up to this.seq on this connection, in a transaction of their own. With
   * fsync 'background', the journal's WAL is synced first unless everything is acknowledged: a checkpoint
   * could otherwise put these rows on the disk before the journal frames of their commands (the history
   * thread does the same, HistoryThreadOptions.journalWal). A failure stops the venue, and is thrown.
   */
  private writeHistoryHere(): void {
    // A history-only transaction needs no fsync of its own: history is derived from the journal, and
    // losing it to a power cut loses nothing that recovery cannot re-derive (from the watermark committed
    // with it, which is never ahead of the journal on the disk: journalDurableHere).
    const relax = this.opts.synchronous !== 'NORMAL' && !this.bgSync;
    try {
      this.journalDurableHere();
    } catch (e) {
      // the fdatasync that failed covered the committed batches not yet acknowledged: a later fsync of the
      // same file can report success (the kernel reports an error once), so their fate is open
      this.history.discard();
      this.fail(e, [], { syncFailed: true });
      throw this.failure!;
    }
    try {
      if (relax) this.db.pragma('synchronous = NORMAL');
      this.begin.run();
      this.history.flush(this.seq);
      this.commit.run();
      if (relax) this.db.pragma(`synchronous = ${this.opts.synchronous}`);
    } catch (e) {
      if (this.db.inTransaction) {
        try {
          this.rollback.run();
        } catch {
          // unusable connection
        }
      }
      this.history.discard();
      this.fail(e, []);
      throw this.failure!;
    }
  }

  /**
   * Replays the whole journal from an empty engine (the recovery proof); `onApplied` sees the engine after
   * each command.
   */
  replayFromScratch(upTo?: number, onApplied?: (seq: number, engine: Engine) => void): ReplayResult {
    this.assertUsable();
    return replayJournal(this.db, this.engineOptions, upTo, onApplied);
  }

  // ================================================================ sequencing

  /**
   * Sequences a command: it joins the current group commit, and the promise resolves with its result once
   * the batch is durably committed. Engine rejections resolve (with `rejected` set); the promise rejects only
   * when the venue cannot take the command (VENUE_CLOSED, VENUE_FAILED).
   */
  submit(cmd: VenueCommand, tag: CommandTag | undefined = this.tag): Promise<Ack> {
    if (this.state !== 'open') return Promise.reject(this.unavailable());
    if (tag !== undefined && typeof tag.text !== 'string') return Promise.reject(new VenueError('BAD_COMMAND', 'A command tag must be text'));
    this.submissions++;
    return new Promise<Ack>((resolve, reject) => {
      this.queue.push({ cmd, resolve, reject, tag });
      if (!this.scheduled) this.schedule();
    });
  }

  /**
   * Runs `fn` with `tag` on every command it submits synchronously without a tag of its own (a protocol
   * handler's, say, which knows nothing of who calls it), and returns what it returns.
   */
  tagged<T>(tag: CommandTag, fn: () => T): T {
    const outer = this.tag;
    this.tag = tag;
    try {
      return fn();
    } finally {
      this.tag = outer;
    }
  }

  /** Several commands that must go into the same group commit, in this order. */
  submitAll(cmds: readonly VenueCommand[]): Promise<Ack[]> {
    return Promise.all(cmds.map((c) => this.submit(c)));
  }

  /**
   * Resolves once every command submitted so far has been executed by the engine, so that its state
   * (open orders, positions) includes them. Waits for the last one queued to be acknowledged, or refused.
   */
  executed(): Promise<void> {
    const last = this.queue[this.queue.length - 1];
    if (last === undefined) return Promise.resolve();
    return new Promise<void>((done) => {
      const { resolve, reject } = last;
      last.resolve = (a) => (resolve(a), done());
      last.reject = (e) => (reject(e), done());
    });
  }

  /**
   * Resolves once every command committed so far is acknowledged (its fsync returned): what a copy taken
   * now holds has been answered. Rejects with the venue's failure if it stops first.
   */
  durable(): Promise<void> {
    const groups = [...this.awaiting, ...this.syncing.flatMap((f) => f.groups)].filter((g) => !g.done);
    if (groups.length === 0) return Promise.resolve();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      let left = groups.length;
      const one = (err?: unknown): void => {
        if (err !== undefined) reject(this.failure ?? err);
        else if (--left === 0) resolve();
      };
      for (const g of groups) (g.onSettled ??= []).push(one);
    });
  }

  /**
   * Cancels the account's open orders (in one symbol, or all), in one group commit; resolves with the
   * number canceled. Canceling an entry also cancels its pending bracket children, so this counts the
   * cancellations that happened rather than the requests that succeeded.
   */
  async cancelOrders(accountId: AccountId, symbol?: string): Promise<number> {
    const ids = this.engine.openOrders(accountId).flatMap((o) => (symbol === undefined || o.symbol === symbol ? [o.orderId] : []));
    const acks = await this.submitAll(ids.map((orderId): VenueCommand => ({ type: 'CancelOrder', accountId, orderId })));
    let canceled = 0;
    for (const a of acks) for (const e of a.events) if (e.type === 'OrderCanceled' && e.accountId === accountId) canceled++;
    return canceled;
  }

  /** Ends the trading session: day orders expire, previous closes and bands reset. */
  endSession(): Promise<Ack> {
    return this.submit({ type: 'EndSession' });
  }

  private schedule(): void {
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.immediate = this.timer = undefined;
      this.flush();
    };
    if (this.opts.commitWindowMs > 0) this.timer = setTimeout(run, this.opts.commitWindowMs);
    else this.immediate = setImmediate(run);
  }

  private unschedule(): void {
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.immediate = this.timer = undefined;
    this.scheduled = false;
  }

  private unavailable(): VenueError {
    if (this.state === 'failed') return this.failure!;
    return new VenueError('VENUE_CLOSED', 'The venue is closed');
  }

  private assertUsable(): void {
    if (this.state === 'failed' || this.state === 'closed') throw this.unavailable();
  }

  /** This venue's identity (venueId): it marks its history file, and a server's backups of it (their manifests). */
  get id(): string {
    return this.venueId();
  }

  /** This venue's identity (a random id kept in its meta, made on first use), which marks its history file. */
  private venueId(): string {
    let id = getMeta(this.db, 'venue_id');
    if (id === undefined) {
      const fresh = randomUUID();
      this.db.transaction(() => setMeta(this.db, 'venue_id', fresh))();
      id = fresh;
    }
    return id;
  }

  /** The venue's time for the next batch: the clock, but never before the last stamp. */
  private stamp(): Timestamp {
    const t = Math.floor(this.clock());
    return Number.isSafeInteger(t) && t > this.lastTs ? t : this.lastTs;
  }

  /** One group commit. Synchronous: nothing else runs between the first execute and the COMMIT. */
  private flush(): void {
    if (this.queue.length === 0 || this.state === 'failed' || this.state === 'closed') return;
    let batch = this.queue;
    if (batch.length > this.opts.maxBatch) {
      this.queue = batch.slice(this.opts.maxBatch);
      batch = batch.slice(0, this.opts.maxBatch);
    } else this.queue = [];

    const began = performance.now();
    const engine = this.engine;
    const history = this.history;
    const ts = this.stamp();
    const first = this.seq + 1;
    let seq = this.seq;
    let nextId = this.nextOrderId;
    const take = (): number => nextId++;
    const frame: Encoded[] = [];
    let tags: FrameTags | undefined;
    const acks: Ack[] = new Array<Ack>(batch.length);
    const committed: CommittedCommand[] = [];
    history.sink = this.orderSubs.size > 0 ? this.sink : null;
    const keepHistory = this.opts.history;
    const checkCid = keepHistory && this.opts.clientOrderIdScope === 'account';
    const thread = history.thread;
    let historyDue = false;
    let committing = false;

    try {
      if (thread !== undefined) {
        // Before this transaction reads the history file: the orders of an ended session must be written
        // (the client-order-id check below reads them), and retired rows the thread has written can go.
        if (checkCid && history.sessionMark > thread.written) thread.waitWritten(history.sessionMark);
        const f = thread.failure();
        if (f !== undefined) throw f;
        history.prune();
      }
      this.begin.run();
      for (let i = 0; i < batch.length; i++) {
        const saved = nextId;
        let enc: Encoded;
        try {
          enc = encodeCommand(batch[i]!.cmd, take);
        } catch (e) {
          // Encoding touches neither engine nor database: whatever went wrong (BAD_COMMAND, or a hostile
          // getter throwing), only this request is refused.
          nextId = saved;
          const msg = isVenueError(e, 'BAD_COMMAND') ? e.message : `The command cannot be journaled: ${String((e as Error)?.message ?? e)}`;
          acks[i] = preRejected(ts, batch[i]!.cmd, 'INVALID_ORDER', msg);
          continue;
        }
        const cmd = decodeCommand(enc, ts);
        if (checkCid) {
          const dup = this.clientIdConflict(cmd, ts);
          if (dup !== undefined) {
            nextId = saved;
            acks[i] = { seq: 0, ts, events: [dup], rejected: dup, orderIds: [] };
            continue;
          }
        }
        seq++;
        const events = engine.execute(cmd);
        frame.push(enc);
        const last = events[events.length - 1];
        const refused = last !== undefined && last.type === 'Rejected' ? last : undefined;
        const tag = batch[i]!.tag;
        if (tag !== undefined) (tags ??= new Array<string | null>(frame.length - 1).fill(null)).push(refused !== undefined && tag.refusedText !== undefined ? refusedText(tag, refused.code) : tag.text);
        else if (tags !== undefined) tags.push(null);
        if (keepHistory) history.apply(seq, cmd, events);
        const ack: Ack = { seq, ts, command: cmd, events, orderIds: orderIdsOf(enc) };
        if (refused !== undefined) ack.rejected = refused;
        acks[i] = ack;
        committed.push({ seq, ts, command: cmd, events });
        if (cmd.type === 'EndSession' && i + 1 < batch.length) {
          // The commands after a session's end go into the next group commit, which first waits until the
          // ended session's orders are in the history file (see above).
          this.queue = batch.slice(i + 1).concat(this.queue);
          batch = batch.slice(0, i + 1);
          break;
        }
      }
      if (frame.length > 0) this.journal.append(first, ts, frame, tags);
      historyDue =
        history.pending >= this.opts.historyFlushRows ||
        (history.pending > 0 && performance.now() - history.flushedAt >= this.opts.historyFlushMs);
      // Written on this connection: inside the transaction, unless the journal is fsynced after COMMIT
      // (then after its fsync, below), so the history file never holds a command the journal's file does not.
      if (historyDue && thread === undefined && !this.bgSync) history.flush(seq);
      committing = true;
      this.commit.run();
    } catch (e) {
      if (this.db.inTransaction) {
        try {
          this.rollback.run();
        } catch {
          // the connection is unusable; we are failing anyway
        }
      }
      history.discard();
      this.orderPubs = [];
      // A COMMIT that failed with an I/O error may have left the batch's frames in the WAL (an fsync inside
      // it that failed after they were written): a reopen could find them. Anything else rolled back.
      const code = (e as { code?: unknown } | null)?.code;
      this.fail(e, batch, { batchUnknown: committing && typeof code === 'string' && code.startsWith('SQLITE_IOERR') });
      return;
    }

    this.seq = seq;
    this.nextOrderId = nextId;
    this.lastTs = ts;
    const onGroupCommit = this.opts.onGroupCommit;
    if (onGroupCommit !== undefined) this.observe('onGroupCommit', () => onGroupCommit(batch.length, performance.now() - began));
    const pubs = this.orderPubs;
    this.orderPubs = [];
    if (this.bgSync) {
      this.awaiting.push({ batch, acks, committed, pubs, done: false });
      this.startSync();
    } else {
      this.acknowledge(batch, acks);
      if (committed.length > 0) this.publish(committed, pubs);
    }
    // Handed to the thread only once the journal holds the commands, and after the batch's fsync started:
    // the hand-over takes a few ms now and then, which the acknowledgements need not wait for. A session's
    // end (always the batch's last command) is flushed now, for the next group commit's checks.
    if (history.sessionDue !== 0 || (historyDue && (thread !== undefined || this.bgSync))) {
      if (thread !== undefined) {
        try {
          history.flush(seq);
        } catch (e) {
          history.discard();
          this.fail(e, []);
          return;
        }
      } else {
        try {
          this.writeHistoryHere();
        } catch {
          return; // the venue has failed
        }
      }
    }
    if (this.queue.length > 0 && !this.scheduled) this.schedule();
    this.prepareCapture();
    if (this.opts.snapshotEvery > 0 && this.seq - this.snapSeq >= this.opts.snapshotEvery && this.snapScheduled === undefined) {
      this.snapScheduled = setImmediate(() => {
        this.snapScheduled = undefined;
        this.backgroundSnapshot();
      });
    }
  }

  /**
   * A client order id carried by an order of the account from an earlier trading session. The engine checks
   * the current session (and still-live orders) itself and journals its rejection; this check only sees
   * earlier sessions, whose orders are always in the table (the writer flushes at every end of session), so
   * its answer never depends on when history was last flushed.
   */
  private clientIdConflict(cmd: Command, ts: Timestamp): Rejected | undefined {
    let specs: { clientOrderId?: unknown }[];
    if (cmd.type === 'PlaceOrder') specs = [cmd];
    else if (cmd.type === 'PlaceOco') specs = cmd.legs;
    else return undefined;
    const acct = cmd.accountId;
    if (typeof acct !== 'number') return undefined;
    for (const s of specs) {
      const cid = s.clientOrderId;
      if (typeof cid !== 'string') continue;
      const orig = this.q.orderByClientId(acct, cid, this.engine.sessionNumber);
      if (orig === undefined) continue;
      return {
        type: 'Rejected',
        ts,
        command: cmd.type,
        code: 'DUPLICATE_CLIENT_ORDER_ID',
        message: `Client order id ${cid} was already used by order ${orig}`,
        accountId: acct,
        clientOrderId: cid,
        originalOrderId: orig,
      };
    }
    return undefined;
  }

  /**
   * Stops the venue: `batch` (not committed; with `batchUnknown`, its COMMIT failed with an I/O error and it
   * is answered VENUE_OUTCOME_UNKNOWN) and every queued command are refused VENUE_FAILED. Batches committed
   * and waiting for their background fsync are in the journal: they are left to it (acknowledged once it
   * returns), unless `syncFailed` (an fsync failed: they are answered VENUE_OUTCOME_UNKNOWN).
   */
  private fail(e: unknown, batch: Pending[], o: { batchUnknown?: boolean; syncFailed?: boolean } = {}): void {
    const err = new VenueError(
      'VENUE_FAILED',
      `The venue stopped: a group commit failed (${(e as Error)?.message ?? String(e)}). Reopen it to recover from the journal.`,
      undefined,
      { cause: e },
    );
    this.state = 'failed';
    this.failure = err;
    this.closeReader(err);
    // (its rows held back for their journal fsync are not coming: queries waiting for them fail now)
    this.history.thread?.abandonWaits(err);
    const outcome = o.batchUnknown === true ? outcomeUnknown(e) : err;
    for (const p of batch) p.reject(outcome);
    for (const p of this.queue) p.reject(err);
    this.queue = [];
    if (o.syncFailed === true) this.settleUnknown(e);
    // else: committed, with their fsync running or about to start: in the journal, acknowledged once it returns
    else this.startSync();
    this.stopTimers();
    this.dropSnapshot();
    try {
      this.opts.onFatal?.(err);
    } catch (x) {
      this.opts.onError(x, 'onFatal');
    }
  }

  // ================================================================ publishing

  // ================================================================ background fsync

  /**
   * Starts an fsync of the WAL for every batch committed since the last one started, unless MAX_FSYNCS are
   * running or the one running started less than OVERLAP_AFTER_MS ago (the next starts when one returns,
   * even if an earlier one still runs). So a batch committed while a slow fsync runs does not wait for it
   * to finish before its own can start: on a busy disk one slow fsync otherwise holds back every batch
   * behind it. Batches are acknowledged in the order their fsyncs started, each once its
   * own and every earlier fsync returned without error, so an error seen by any of them (Linux reports a
   * failed write-back to one fsync only) stops the venue before anything after it is acknowledged.
   */
  private startSync(): void {
    if (this.awaiting.length === 0 || this.walFd === undefined) return;
    let running = 0;
    let newest = -Infinity;
    for (const f of this.syncing)
      if (!f.done) {
        running++;
        newest = Math.max(newest, f.startedAt);
      }
    const now = performance.now();
    if (running >= MAX_FSYNCS || (running > 0 && now - newest < OVERLAP_AFTER_MS)) return;
    const f: InFlightSync = { groups: this.awaiting, startedAt: now, done: false, err: null };
    this.awaiting = [];
    this.syncing.push(f);
    fsync(this.walFd, (err) => {
      f.done = true;
      f.err = err;
      const onSync = this.opts.onSync;
      if (onSync !== undefined && err === null) {
        let commands = 0;
        for (const g of f.groups) commands += g.batch.length;
        this.observe('onSync', () => onSync(performance.now() - f.startedAt, commands));
      }
      const started = this.syncing;
      if (!started.includes(f)) return; // settled meanwhile (close() synced everything at once)
      while (started.length > 0 && started[0]!.done) {
        const first = started.shift()!;
        if (first.err !== null) {
          // its batches, and every one after them: committed, but maybe not on the disk
          started.unshift(first);
          if (this.state === 'open' || this.state === 'closing') this.fail(first.err, [], { syncFailed: true });
          else this.settleUnknown(first.err);
          return;
        }
        this.settle(first.groups);
      }
      this.startSync();
    });
  }

  /** Runs an observer given in the options: one that throws is reported (onError), never the venue's failure. */
  private observe(name: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.opts.onError(e, name);
    }
  }

  /**
   * Answers every batch committed and not yet acknowledged with VENUE_OUTCOME_UNKNOWN (`e`: the fsync's
   * error): they are in the journal, and may or may not be on the disk.
   */
  private settleUnknown(e: unknown): void {
    this.settle(this.takeUnsynced(), outcomeUnknown(e));
  }

  /** Every batch committed and not yet acknowledged (their fsyncs running, or not started), taken off the lists. */
  private takeUnsynced(): SyncGroup[] {
    const unsynced = [...this.syncing.flatMap((f) => f.groups), ...this.awaiting];
    this.syncing = [];
    this.awaiting = [];
    return unsynced;
  }

  /**
   * Acknowledges and publishes synced batches, or rejects them with `err`. A venue that has stopped (for
   * another reason than an fsync) still acknowledges what its fsyncs made durable, without publishing it:
   * its subscribers are done with it.
   */
  private settle(group: SyncGroup[], err?: VenueError): void {
    for (const g of group) {
      if (g.done) continue;
      g.done = true;
      if (err !== undefined) {
        for (const p of g.batch) p.reject(err);
        if (g.onSettled !== undefined) for (const f of g.onSettled) f(err);
        continue;
      }
      this.acknowledge(g.batch, g.acks);
      if (g.committed.length > 0 && this.state !== 'failed') this.publish(g.committed, g.pubs);
      if (g.onSettled !== undefined) for (const f of g.onSettled) f();
    }
    // (acknowledged: on the disk)
    this.history.thread?.durableTo(this.ackedSeq);
  }

  /** Resolves a batch's promises, in order, each after its tag heard of it. */
  private acknowledge(batch: Pending[], acks: Ack[]): void {
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const ack = acks[i]!;
      if (ack.seq > this.ackedSeq) this.ackedSeq = ack.seq;
      if (p.tag?.acknowledged !== undefined) {
        try {
          p.tag.acknowledged(ack, p.cmd);
        } catch (e) {
          this.opts.onError(e, 'tag');
        }
      }
      p.resolve(ack);
    }
  }

  /**
   * With fsync 'background': fdatasyncs the journal's WAL on the event loop, unless every command is
   * acknowledged (then it is on the disk). For history written on this connection (not by the thread).
   * The fsyncs in flight settle as usual when they return.
   */
  private journalDurableHere(): void {
    if (this.bgSync && this.walFd !== undefined && this.acknowledgedSeq < this.seq) fdatasyncSync(this.walFd);
  }

  /** Synchronously makes everything committed durable and settles it (close). */
  private syncNow(): void {
    if (!this.bgSync || this.walFd === undefined) return;
    const all = this.takeUnsynced();
    if (all.length === 0) return;
    try {
      fsyncSync(this.walFd);
    } catch (e) {
      this.settle(all, outcomeUnknown(e));
      return;
    }
    this.settle(all);
  }

  private publish(batch: CommittedCommand[], pubs: OrderRecord[]): void {
    const onError = this.opts.onError;
    const alerts = this.alertBook;
    if (alerts.active)
      for (const c of batch)
        for (const e of c.events) if (e.type === 'Trade' && alerts.watches(e.symbol)) alerts.print(e.symbol, e.price, e.ts, c.seq);
    const call = <T>(cb: (x: T) => void, x: T, where: string): void => {
      try {
        cb(x);
      } catch (e) {
        onError(e, where);
      }
    };
    if (pubs.length > 0) {
      for (const r of pubs) {
        const subs = this.orderSubs.get(r.accountId);
        if (subs !== undefined) for (const cb of [...subs]) call(cb, r, 'orders subscriber');
      }
    }
    const wantExec = this.execSubs.size > 0;
    const wantAcct = this.accountSubs.size > 0;
    const wantMkt = this.marketSubs.size > 0;
    const wantInst = this.instrumentSubs.size > 0;
    if (wantExec || wantAcct || wantMkt || wantInst) {
      const accounts = new Set<AccountId>();
      const market = new Map<string, TradePrint[]>();
      // instruments listed, halted or resumed, or re-based by a session end, in this batch
      let listed: Set<string> | undefined;
      for (const c of batch) {
        for (const e of c.events) {
          switch (e.type) {
            case 'Trade': {
              if (wantExec) {
                const makerSide = e.aggressor === 'buy' ? 'sell' : 'buy';
                const ms = this.execSubs.get(e.makerAccountId);
                if (ms !== undefined) {
                  const x: Execution = { tradeId: e.tradeId, orderId: e.makerOrderId, symbol: e.symbol, side: makerSide, price: e.price, qty: e.qty, liquidity: 'maker', ts: e.ts };
                  for (const cb of [...ms]) call(cb, x, 'executions subscriber');
                }
                const ts = this.execSubs.get(e.takerAccountId);
                if (ts !== undefined) {
                  const x: Execution = { tradeId: e.tradeId, orderId: e.takerOrderId, symbol: e.symbol, side: e.aggressor, price: e.price, qty: e.qty, liquidity: 'taker', ts: e.ts };
                  for (const cb of [...ts]) call(cb, x, 'executions subscriber');
                }
              }
              accounts.add(e.makerAccountId).add(e.takerAccountId);
              let m = market.get(e.symbol);
              if (m === undefined) market.set(e.symbol, (m = []));
              m.push({ tradeId: e.tradeId, symbol: e.symbol, price: e.price, qty: e.qty, aggressor: e.aggressor, ts: e.ts });
              break;
            }
            case 'Rejected':
              break;
            case 'SessionEnded':
              for (const s of this.engine.instruments()) {
                if (!market.has(s.symbol)) market.set(s.symbol, []);
                if (wantInst) (listed ??= new Set()).add(s.symbol);
              }
              for (const id of this.accountSubs.keys()) accounts.add(id);
              break;
            case 'InstrumentCreated':
            case 'InstrumentStatusChanged':
              if (wantInst) (listed ??= new Set()).add(e.symbol);
              if (!market.has(e.symbol)) market.set(e.symbol, []);
              break;
            default:
              if ('accountId' in e) accounts.add(e.accountId);
              if ('symbol' in e && !market.has(e.symbol)) market.set(e.symbol, []);
          }
        }
      }
      if (wantAcct)
        for (const id of accounts) {
          const subs = this.accountSubs.get(id);
          if (subs !== undefined) for (const cb of [...subs]) call(cb, id, 'account subscriber');
        }
      if (wantMkt) {
        const all = this.marketSubs.get('*');
        for (const [symbol, trades] of market) {
          const change: MarketChange = { symbol, trades };
          const subs = this.marketSubs.get(symbol);
          if (subs !== undefined) for (const cb of [...subs]) call(cb, change, 'market subscriber');
          if (all !== undefined) for (const cb of [...all]) call(cb, change, 'market subscriber');
        }
      }
      if (listed !== undefined) {
        const symbols = [...listed];
        for (const cb of [...this.instrumentSubs]) call(cb, symbols, 'instruments subscriber');
      }
    }
    for (const cb of [...this.commitSubs]) call(cb, batch, 'commit subscriber');
  }

  private static add<K, V>(map: Map<K, Set<V>>, key: K, cb: V): Unsubscribe {
    let s = map.get(key);
    if (s === undefined) map.set(key, (s = new Set()));
    s.add(cb);
    return () => {
      const cur = map.get(key);
      if (cur === undefined) return;
      cur.delete(cb);
      if (cur.size === 0) map.delete(key);
    };
  }

  /** Every change to an order of the account: the full record after each change, in order, never dropped. */
  subscribeOrders(accountId: AccountId, cb: (r: OrderRecord) => void): Unsubscribe {
    return Venue.add(this.orderSubs, accountId, cb);
  }
  /** Each fill of the account. */
  subscribeExecutions(accountId: AccountId, cb: (x: Execution) => void): Unsubscribe {
    return Venue.add(this.execSubs, accountId, cb);
  }
  /** Called once per commit in which something of the account changed (read `view.accountView(id)`). */
  subscribeAccount(accountId: AccountId, cb: (accountId: AccountId) => void): Unsubscribe {
    return Venue.add(this.accountSubs, accountId, cb);
  }
  /**
   * Called once per commit in which the symbol's market data may have changed, with the trades that printed.
   * Read quote, depth and candles from `view` (latest value wins). '*' subscribes to every symbol.
   */
  subscribeMarket(symbol: string, cb: (c: MarketChange) => void): Unsubscribe {
    return Venue.add(this.marketSubs, symbol, cb);
  }
  /**
   * Called once per commit in which instruments were listed, halted or resumed, or re-based by a session end,
   * with their symbols (read `view.instrument(symbol)`).
   */
  subscribeInstruments(cb: (symbols: readonly string[]) => void): Unsubscribe {
    this.instrumentSubs.add(cb);
    return () => this.instrumentSubs.delete(cb);
  }
  /** Every committed batch: commands and events in journal order (for replication, simulators, audit). */
  onCommit(cb: (batch: readonly CommittedCommand[]) => void): Unsubscribe {
    this.commitSubs.add(cb);
    return () => this.commitSubs.delete(cb);
  }

  // ================================================================ snapshots

  private maybeSnapshot(): void {
    if (this.state !== 'open' || this.seq === this.snapSeq) return;
    if (Date.now() - this.snapAt >= this.opts.snapshotIntervalMs) this.backgroundSnapshot();
  }

  private backgroundSnapshot(): void {
    if (this.state !== 'open') return;
    try {
      this.snapshot();
    } catch (e) {
      // A failed snapshot costs only recovery time: the journal still holds everything.
      this.opts.onError(e, 'snapshot');
    }
  }

  /**
   * An online copy of the venue, made while it sequences (see backup.ts): first its history file, to
   * `dest.history`, by a worker thread's own connection as of one commit; then its own file, to `dest.venue`,
   * by a worker thread that copies its bytes and its WAL's (through descriptors the venue keeps open, see
   * copyFileBytes) while this connection's checkpoints are held (so the file does not change meanwhile).
   * Nothing of either copy runs on the event loop but one small commit; the WAL grows meanwhile, and the
   * first commit after the bytes are copied checkpoints it. A copy during which the WAL's file grows by more
   * than `limits.walGrowthBytes` (default 256 MB; looked at every `limits.watchMs`, 100) is abandoned
   * (rejects) and the checkpoints let go; so is a copy of the history file during which its WAL grows by
   * more than MAX_WAL_GROWTH. (A file not held exclusively is copied as the history file is.)
   * The history is copied first so that it is never ahead of the journal copied after it: a venue opened on
   * the copies derives what the history lacks from the journal, as after a crash. Both copies are checked
   * and fsynced on the worker thread. Resolves with `seq`, the last command the copy of the journal holds
   * (read from the copy), at or after the last one sequenced when the copy of the venue's file began.
   * `stop()` is asked every few ms while either file is copied, and before and after each copy: true
   * abandons the copy (rejects with VENUE_CLOSED), as does closing the venue. The destinations must not
   * exist.
   */
  async backup(
    dest: { venue: string; history: string },
    stop: () => boolean = () => false,
    limits: { walGrowthBytes?: number; watchMs?: number } = {},
  ): Promise<{ seq: number; venue: CopiedFile; history: CopiedFile }> {
    const stopped = (): VenueError => new VenueError('VENUE_CLOSED', 'The copy of the venue was stopped');
    this.assertUsable();
    // a file shared in WAL mode: a worker's own connection copies it (SQLite's backup API, in steps)
    const copyShared = async (from: string, to: string, probe?: string): Promise<CopiedFile> => {
      try {
        return await copyDatabase(from, to, { probe, stop: () => stop() || this.state !== 'open' });
      } catch (e) {
        this.assertUsable();
        if (e instanceof CopyStopped) throw stopped();
        throw e;
      }
    };
    const history = await copyShared(this.historyFile, dest.history);
    this.assertUsable();
    if (stop()) throw stopped();
    const fds = this.fileFds;
    if (fds === undefined) {
      // a file shared (exclusive: false): copied as the history file
      const venue = await copyShared(this.path, dest.venue, LAST_SEQ_SQL);
      this.assertUsable();
      if (stop()) throw stopped();
      return { seq: Number(venue.probe), venue: { bytes: venue.bytes }, history };
    }
    const pageSize = Number(this.db.pragma('page_size', { simple: true }));
    const seqAtHold = this.seq;
    let held = false;
    const letGo = (): void => {
      if (held) this.holdCheckpoints(-1);
      held = false;
    };
    let abandoned: Error | undefined;
    let watch: ReturnType<typeof setInterval> | undefined;
    let venue: CopiedFile;
    try {
      this.holdCheckpoints(1);
      held = true;
      // A WAL that its last checkpoint emptied starts over at the next write: it writes the WAL's header
      // and frames from its beginning again, over frames the copy may have read already. This commit (when
      // the copy was made, kept in meta) makes that happen now, before the copy: no other can until the
      // hold ends, since the WAL then has frames no checkpoint copied.
      this.db.transaction(() => setMeta(this.db, 'backup_copied_at', new Date().toISOString()))();
      const copy = copyHeldDatabase({ file: fds.file, fd: fds.db, wal: fds.walPath, walFd: fds.wal }, dest.venue, {
        pageSize,
        probe: LAST_SEQ_SQL,
        stop: () => abandoned !== undefined || stop() || this.state !== 'open',
        // the bytes are copied: the file may change again (the copy is then checked on the worker thread)
        onCopied: letGo,
      });
      // A copy that does not get on (a backup volume that hangs) must not hold the checkpoints for ever:
      // the WAL would grow without bound, and the first checkpoint after would write all of it at once.
      const growth = limits.walGrowthBytes ?? MAX_WAL_GROWTH;
      const walAtHold = fstatSync(fds.wal).size;
      venue = await new Promise<CopiedFile>((resolve, reject) => {
        watch = setInterval(() => {
          if (!held || abandoned !== undefined || this.fileFds !== fds || fstatSync(fds.wal).size - walAtHold <= growth) return;
          abandoned = new Error(
            `The copy of the venue was abandoned: the journal's WAL grew by more than ${Math.round(growth / 2 ** 20)} MB while the copy ran (is the backup folder's volume slow?)`,
          );
          letGo();
          reject(abandoned);
        }, limits.watchMs ?? BACKUP_WATCH_MS);
        copy.then(resolve, reject);
      });
    } catch (e) {
      this.assertUsable(); // (closed or failed meanwhile: say so as every other call would)
      if (e instanceof CopyStopped) throw stopped();
      throw e;
    } finally {
      if (watch !== undefined) clearInterval(watch);
      letGo();
    }
    // a venue closed during the copy checkpointed its WAL into the file being copied: the copy is not used
    this.assertUsable();
    if (stop()) throw stopped();
    const seq = Number(venue.probe);
    // (it holds every command committed before the copy began, or it is not the venue's state)
    if (!(seq >= seqAtHold)) throw new Error(`The copy of the venue ends at command ${seq}, before ${seqAtHold}, the last one sequenced when it began`);
    return { seq, venue: { bytes: venue.bytes }, history };
  }

  /** The venue's file as SQLite named it (it may have followed a symbolic link); its WAL is beside it. */
  private fileName(): string {
    return (this.db.pragma('database_list') as { name: string; file: string }[]).find((d) => d.name === 'main')!.file;
  }

  /** Closes the descriptors a backup's copy reads (once the connection is closed and no copy reads them). */
  private closeFileFds(): void {
    const fds = this.fileFds;
    this.fileFds = undefined;
    if (fds === undefined) return;
    closeSync(fds.db);
    closeSync(fds.wal);
  }

  /**
   * Holds (+1) or lets go (-1) the connection's automatic checkpoints: while any copy of the file holds
   * them, SQLite writes nothing to the venue's file (only to its WAL). The first commit after the last lets
   * go checkpoints the whole WAL.
   */
  private holdCheckpoints(by: 1 | -1): void {
    const open = this.state === 'open' || this.state === 'closing';
    if (open && by === 1 && this.checkpointHolds === 0) {
      this.autoCheckpoint = Number(this.db.pragma('wal_autocheckpoint', { simple: true }));
      this.db.pragma('wal_autocheckpoint = 0');
    } else if (open && by === -1 && this.checkpointHolds === 1) this.db.pragma(`wal_autocheckpoint = ${this.autoCheckpoint}`);
    this.checkpointHolds += by; // (once the setting is made: a hold that failed to take is not counted)
  }

  /**
   * Takes a snapshot of the current state (between group commits) and keeps the newest `snapshotsKept`.
   * Returns its sequence number.
   *
   * The sequencer only captures the engine's state (engine.capture(): its orders packed rather than copied
   * as objects, client ids kept as their maps) and then serializes it a part per turn of the event loop,
   * hashing the text as it produces it. With the history thread, each part is handed over: the thread puts
   * the text together, checksums it and writes it under that hash to the history file (`hist.snapshots`)
   * after the history rows it covers, so it is never ahead of the history watermark (and a wrong join is
   * caught on recovery by the state hash, like any other damage). A snapshot the thread fails to write stops
   * the venue like any failed history write. Without the thread, the text is written to the venue file's own
   * `snapshots` once complete; a failure there is reported through onError and costs only recovery time.
   * Recovery reads both tables. The next snapshot, and close(), first finish one still being serialized.
   *
   * `npm run bench:snapshot`, 200,000 resting orders (two runs). Handed to the thread: snapshot() returns
   * in 12-23 ms (the capture and the first part; up to about 80 ms for a venue's first capture, whose arrays
   * are new memory), then parts of about 0.7 ms each; the longest stall until the last is handed over,
   * 9-21 ms. Written to the venue file: the same, but the write of the whole text (73 MB, fsynced) blocks
   * 1.3-2.2 s, against 2.2-3.4 s for a snapshot serialized at once before; with 20,000 orders, 98-211 ms
   * against 119-257 ms.
   */
  snapshot(): number {
    this.assertUsable();
    if (this.seq === this.snapSeq && this.seq > 0) return this.seq;
    const seq = this.seq;
    const thread = this.history.thread;
    const startedAt = performance.now();
    // A snapshot must not be ahead of the history watermark (recovery replays history from there): the
    // rows up to seq are written first, or go to the thread first.
    if (thread === undefined) this.syncHistory();
    else if (this.history.pending > 0 || this.history.watermark !== seq) this.syncHistoryOrFail();
    this.finishSnapshot();
    // the arrays of the last capture handed over are reused: fresh memory costs a page fault per 4 KB
    const capture = this.engine.capture(this.spareArrays);
    this.spareArrays = undefined;
    const meta = { seq, ts: this.lastTs, nextOrderId: this.nextOrderId, keep: this.opts.snapshotsKept };
    thread?.postSnapshot(meta);
    // its text, a few pieces per turn of the event loop, hashed here as it is produced (see ThreadSnapshot)
    const pieces = capture.pieces(this.opts.snapshotPartOrders);
    const job: SnapshotJob = { meta, capture, pieces, thread, parts: [], immediate: undefined, hasher: new TextHasher(), startedAt, blockedMs: undefined, chars: 0 };
    this.snapJob = job;
    this.postSnapshotParts(false);
    job.blockedMs = performance.now() - startedAt;
    this.snapSeq = seq;
    this.snapAt = Date.now();
    return seq;
  }

  /**
   * Produces the next part of the snapshot's text (all of it with `all`): pieces of the capture (see
   * StateCapture.pieces) up to about `snapshotPartChars`. With the history thread, each part is handed to
   * it; without, the parts are kept and the whole text is written to the venue file's `snapshots` once it
   * is complete.
   */
  private postSnapshotParts(all: boolean): void {
    const job = this.snapJob;
    if (job === undefined) return;
    job.immediate = undefined;
    let done = false;
    do {
      const part: string[] = [];
      let size = 0;
      while (size < this.opts.snapshotPartChars) {
        const next = job.pieces.next();
        if (next.done === true) {
          done = true;
          break;
        }
        part.push(next.value);
        size += next.value.length;
      }
      const text = part.join('');
      job.hasher.update(text);
      job.chars += text.length;
      if (job.thread !== undefined) job.thread.postSnapshotPart(job.meta.seq, text, done ? job.hasher.digest() : undefined);
      else job.parts.push(text);
    } while (all && !done);
    if (done) this.completeSnapshot(job);
    else job.immediate = setImmediate(() => this.postSnapshotParts(false));
  }

  /**
   * A snapshot's text is complete: its arrays go back for the next capture, the venue file gets the text
   * when there is no history thread (which has its last part already), and onSnapshot is told.
   */
  private completeSnapshot(job: SnapshotJob): void {
    this.snapJob = undefined;
    this.keepSpare(job.capture.orders.recycle());
    if (job.thread === undefined) {
      const { seq, ts, nextOrderId, keep } = job.meta;
      const data = job.parts.join('');
      const sql = snapshotStatements('main.snapshots');
      try {
        this.db.transaction(() => {
          this.db.prepare(sql.insert).run(seq, ts, job.hasher.digest(), nextOrderId, crc32(data), data);
          this.db.prepare(sql.prune).run(keep);
        })();
      } catch (e) {
        // A failed snapshot costs only recovery time: the journal still holds everything.
        this.opts.onError(e, 'snapshot');
        return;
      }
    }
    const onSnapshot = this.opts.onSnapshot;
    if (onSnapshot !== undefined) {
      const totalMs = performance.now() - job.startedAt;
      const info = { blockedMs: job.blockedMs ?? totalMs, totalMs, orders: job.capture.orders.length, chars: job.chars };
      this.observe('onSnapshot', () => onSnapshot(info));
    }
  }

  /**
   * Keeps the next capture's arrays big enough for the book, written through ahead. New memory is faulted
   * in as it is first written, about 10 µs per 4 KB page here: a capture of 200,000 orders into new arrays
   * blocked 80 ms, into arrays written before 10-15 ms. So once the live orders outgrow the spare arrays,
   * arrays for half as many again are allocated and written through 256 KB per turn of the event loop.
   * Called after every group commit; a comparison unless the book grew.
   */
  private prepareCapture(): void {
    const live = this.engine.liveOrderCount;
    const room = this.spareArrays?.tag.length ?? 0;
    // (a snapshot being serialized holds the arrays, and gives them back when done)
    if (this.warming !== undefined || this.snapJob !== undefined || this.state !== 'open' || live <= room) return;
    const arrays = captureArrays(Math.max(4096, live + (live >> 1)));
    this.warming = { arrays, next: 0, immediate: undefined };
    this.warmCapture();
  }

  private warmCapture(): void {
    const w = this.warming;
    if (w === undefined) return;
    w.immediate = undefined;
    const end = Math.min(w.arrays.num.length, w.next + 32_768);
    w.arrays.num.fill(0, w.next, end);
    w.next = end;
    if (end < w.arrays.num.length) {
      w.immediate = setImmediate(() => this.warmCapture());
      return;
    }
    w.arrays.tag.fill(0);
    this.warming = undefined;
    this.keepSpare(w.arrays);
  }

  /** Keeps the larger of the spare arrays and `arrays`. */
  private keepSpare(arrays: CaptureArrays): void {
    if (this.spareArrays === undefined || this.spareArrays.tag.length < arrays.tag.length) this.spareArrays = arrays;
  }

  /** Forgets a snapshot being handed over (the venue failed: the thread writes nothing more). */
  private dropSnapshot(): void {
    if (this.snapJob?.immediate !== undefined) clearImmediate(this.snapJob.immediate);
    this.snapJob = undefined;
  }

  /** Hands over what is left of a snapshot being handed over. */
  private finishSnapshot(): void {
    const job = this.snapJob;
    if (job === undefined) return;
    if (job.immediate !== undefined) clearImmediate(job.immediate);
    this.postSnapshotParts(true);
  }

  // ================================================================ shutdown

  /**
   * Graceful shutdown: commits what is queued, writes a snapshot (unless `snapshot: false`) and closes the
   * database. Idempotent.
   */
  close(options: { snapshot?: boolean } = {}): void {
    if (this.state === 'closed') return;
    if (this.state === 'open') {
      this.state = 'closing';
      this.unschedule();
      while (this.queue.length > 0 && this.state === 'closing') this.flushClosing();
      if (this.state === 'closing') {
        try {
          if (this.history.pending > 0) this.syncHistoryOrFail();
        } catch (e) {
          this.opts.onError(e, 'history flush on close');
        }
      }
      if (this.state === 'closing' && options.snapshot !== false) {
        try {
          this.state = 'open';
          this.snapshot();
        } catch (e) {
          this.opts.onError(e, 'snapshot on close');
        } finally {
          this.state = 'closing';
        }
      }
    }
    this.syncNow();
    this.stopTimers();
    for (const p of this.queue) p.reject(new VenueError('VENUE_CLOSED', 'The venue is closed'));
    this.queue = [];
    this.state = 'closed';
    // Writes what it was given (unless the venue failed: then it only stops).
    const thread = this.history.thread;
    if (this.failure === undefined) this.finishSnapshot();
    else this.dropSnapshot();
    thread?.close(this.failure === undefined ? 60_000 : 1000);
    this.history.thread = undefined;
    this.closeReader();
    // what the thread could not write (the last history rows or the closing snapshot) is re-derived from
    // the journal on the next open
    const unwritten = this.failure === undefined ? thread?.failure() : undefined;
    if (unwritten !== undefined) this.opts.onError(unwritten, 'history thread on close');
    this.db.close();
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
    this.closeFileFds(); // (a copy still reading them fails, and its result is not used)
  }

  private flushClosing(): void {
    // flush() refuses to run unless open; let it run for the queued commands
    this.state = 'open';
    try {
      this.flush();
    } finally {
      if (this.state === 'open') this.state = 'closing';
    }
  }

  private stopTimers(): void {
    if (this.snapTimer !== undefined) clearInterval(this.snapTimer);
    this.snapTimer = undefined;
    if (this.historyTimer !== undefined) clearInterval(this.historyTimer);
    this.historyTimer = undefined;
    if (this.snapScheduled !== undefined) clearImmediate(this.snapScheduled);
    this.snapScheduled = undefined;
    if (this.warming?.immediate !== undefined) clearImmediate(this.warming.immediate);
    this.warming = undefined;
    this.unschedule();
  }

  // ================================================================ state and queries

  /**
   * The durability settings in effect, read back from the connection. `walAutoCheckpoint`: the WAL's pages
   * after which a commit checkpoints it (0 while a copy of the file holds checkpoints, see backup()).
   * `walSizeLimit`: the bytes its WAL is cut back to when it starts over.
   */
  durability(): {
    journalMode: string;
    synchronous: SynchronousLevel;
    lockingMode: string;
    busyTimeoutMs: number;
    walAutoCheckpoint: number;
    walSizeLimit: number;
    /** SQLite syncs with F_FULLFSYNC (macOS; fullSyncOnMac). */
    fullFsync: boolean;
    fsync?: 'background';
  } {
    const p = (name: string): unknown => this.db.pragma(`main.${name}`, { simple: true });
    const sync = (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[p('synchronous') as number]!;
    return {
      journalMode: String(p('journal_mode')),
      synchronous: sync,
      lockingMode: String(p('locking_mode')),
      busyTimeoutMs: Number(p('busy_timeout')),
      walAutoCheckpoint: Number(this.db.pragma('wal_autocheckpoint', { simple: true })),
      walSizeLimit: Number(p('journal_size_limit')),
      fullFsync: this.db.pragma('fullfsync', { simple: true }) === 1 && this.db.pragma('checkpoint_fullfsync', { simple: true }) === 1,
      ...(this.bgSync ? { fsync: 'background' as const } : {}),
    };
  }

  private historyOn(): void {
    if (!this.opts.history) throw new VenueError('BAD_QUERY', 'This venue was opened without history');
  }

  /** Read-only access to the engine's current state (quotes, depth, live candles, accounts, open orders). */
  get view(): EngineView {
    return this.engine;
  }
  /** Commands submitted whose promise is not settled yet (queued, or committed and waiting for the fsync). */
  get pendingCommands(): number {
    let n = this.queue.length;
    for (const g of this.awaiting) if (!g.done) n += g.batch.length;
    for (const f of this.syncing) for (const g of f.groups) if (!g.done) n += g.batch.length;
    return n;
  }
  /** How many commands submit() has taken (a caller can tell whether a call it made reached the venue). */
  get submitted(): number {
    return this.submissions;
  }
  /**
   * Sequence number of the last command acknowledged (its tag told, its promise resolved), or journaled
   * before this open: every tagged command up to it has had its `acknowledged` called.
   */
  get acknowledgedSeq(): number {
    return Math.max(this.ackedSeq, this.recovery.recoveredTo);
  }
  /** Sequence number of the last committed command. */
  get lastSeq(): number {
    return this.seq;
  }
  /** The venue clock (what the next batch would be stamped with, at least). */
  now(): Timestamp {
    return this.stamp();
  }
  get closed(): boolean {
    return this.state === 'closed';
  }
  /** The error that stopped the venue, if a commit failed. */
  get failed(): VenueError | undefined {
    return this.failure;
  }
  /** Sequence number of the newest snapshot written or loaded. */
  get snapshotSeq(): number {
    return this.snapSeq;
  }
  /** Sequence number of the last command whose history rows are written (by the history thread, if any). */
  get historySeq(): number {
    return this.opts.history ? this.history.written : this.seq;
  }
  stateHash(): string {
    return this.engine.stateHash();
  }
  /** The engine's structural invariants (empty when all hold). */
  invariants(): string[] {
    return checkInvariants(this.engine);
  }
  totals(): ReturnType<typeof totals> {
    return totals(this.engine);
  }
  /** The history writer's cash and position for an account (consistency checks). */
  historyPosition(accountId: AccountId, symbol: string): { qty: number; cost: number } | undefined {
    return this.history.position(accountId, symbol);
  }
  historyCash(accountId: AccountId): number | undefined {
    return this.history.cashOf(accountId);
  }

  /**
   * One order's record. Rows not yet written are read from the history writer's memory (every order touched
   * since the last history flush is there), so answering an order command never costs a write transaction.
   */
  order(orderId: OrderId): OrderRecord | undefined {
    this.historyOn();
    this.assertUsable();
    return this.history.record(orderId) ?? this.q.order(orderId);
  }
  orders(q: OrderQuery = {}): Page<OrderRecord> {
    this.historyOn();
    if (readsLiveOrders(q)) {
      this.assertUsable();
      // Live orders come from the engine (no status index to maintain), their records by primary key.
      const cur = q.cursor === undefined ? Infinity : Number(/^o\.(\d+)$/.exec(q.cursor)?.[1] ?? NaN);
      if (Number.isNaN(cur)) throw new VenueError('BAD_CURSOR', 'That cursor was not handed out by this query');
      const limit = Math.min(Math.max(1, q.limit ?? 100), 1000);
      const ids = this.engine
        .openOrders(q.accountId)
        .filter((o) => (q.symbol === undefined || o.symbol === q.symbol) && (q.from === undefined || o.ts >= q.from) && (q.to === undefined || o.ts < q.to) && o.orderId < cur)
        .map((o) => o.orderId)
        .sort((a, b) => b - a);
      const items: OrderRecord[] = [];
      for (const id of ids.slice(0, limit)) {
        const r = this.history.record(id) ?? this.q.order(id);
        if (r !== undefined) items.push(r);
      }
      const page: Page<OrderRecord> = { items };
      if (ids.length > limit) page.nextCursor = `o.${ids[limit - 1]!}`;
      return page;
    }
    this.syncHistory();
    return this.q.orders(q);
  }
  executions(q?: ExecutionQuery): Page<ExecutionRecord> {
    this.historyOn();
    this.syncHistory();
    return this.q.executions(q);
  }
  recentTrades(symbol: string, limit?: number): TradePrint[] {
    this.historyOn();
    this.syncHistory();
    return this.q.recentTrades({ symbol, limit });
  }
  statement(q: StatementQuery): Statement {
    this.historyOn();
    this.syncHistory();
    return this.q.statement(q);
  }
  tradeStats(q: StatsQuery): TradeStatsRow[] {
    this.historyOn();
    this.syncHistory();
    return this.q.tradeStats(q);
  }
  candles(q: CandleQuery): Candle[] {
    this.historyOn();
    this.syncHistory();
    return this.q.candles(q);
  }
  /**
   * Imports historical bars for one symbol and timeframe (warm-up history of the simulated market, or a data
   * vendor's file), so charts have bars before the first live trade. Imported bars are reference data: not
   * journaled, kept through history rebuilds, and shown under the live candles by `candles()` (a live bar
   * with the same start wins). Importing a bar again replaces it. Returns the number of bars written.
   */
  importCandles(symbol: string, timeframe: Timeframe, bars: readonly Candle[]): number {
    this.assertUsable();
    if (this.engine.instrument(symbol) === undefined) throw new VenueError('BAD_QUERY', `Unknown symbol ${symbol}`);
    if (!(TIMEFRAMES as readonly string[]).includes(timeframe)) throw new VenueError('BAD_QUERY', `Unknown timeframe ${String(timeframe)}`);
    const ms = TIMEFRAME_MS[timeframe];
    for (const b of bars) {
      const ok =
        [b.t, b.o, b.h, b.l, b.c, b.v].every((x) => Number.isSafeInteger(x)) &&
        b.t % ms === 0 &&
        b.l > 0 &&
        b.l <= Math.min(b.o, b.c) &&
        b.h >= Math.max(b.o, b.c) &&
        b.v >= 0;
      if (!ok) throw new VenueError('BAD_QUERY', `Bad ${timeframe} bar for ${symbol} at ${String(b.t)}`, { bar: b });
    }
    // Into the venue file, their record, with a new revision; the history thread writes the history file's
    // copy (read by the history reader) and that revision, on its own connection: the event loop never waits
    // for the history file's lock. Until it has, candle queries are answered here. A copy that missed an
    // import (a crash, a venue without the thread) is made again at the next open (copyImportedCandles).
    const ins = this.db.prepare(IMPORTED_UPSERT('main.imported_candles'));
    const prev = importedRevision(this.db);
    const rev = randomUUID();
    this.db.transaction(() => {
      for (const b of bars) ins.run(symbol, timeframe, b.t, b.o, b.h, b.l, b.c, b.v);
      setMeta(this.db, 'imported_rev', rev);
    })();
    this.history.thread?.postImported(symbol, timeframe, packBars(bars), prev, rev);
    return bars.length;
  }
  // ---------------------------------------------------------------- price alerts (see alerts.ts)

  /** The account's price alerts, newest first. */
  alerts(accountId: AccountId): PriceAlert[] {
    this.assertUsable();
    return this.alertBook.list(accountId);
  }
  /** Armed alerts of the account. */
  armedAlerts(accountId: AccountId): number {
    return this.alertBook.armedOf(accountId);
  }
  /**
   * Stores and arms an alert on a listed symbol (stamped with the venue clock); pushes it to subscribers.
   * Only trades committed after this call trigger it.
   */
  createAlert(accountId: AccountId, a: NewAlert): PriceAlert {
    this.assertUsable();
    if (this.engine.instrument(a.symbol) === undefined) throw new VenueError('BAD_QUERY', `Unknown symbol ${a.symbol}`);
    if (!(Number.isSafeInteger(a.price) && a.price > 0)) throw new VenueError('BAD_QUERY', 'An alert price is a positive whole number of minor units');
    // armed after the last committed command: a print committed before now but published later (its fsync
    // still running) does not trigger it
    return this.alertBook.create(accountId, a, this.stamp(), this.seq);
  }
  /** Deletes one of the account's alerts; false when it has none with that id. */
  deleteAlert(accountId: AccountId, id: number): boolean {
    this.assertUsable();
    return this.alertBook.delete(accountId, id);
  }
  /** The account's alerts as they are created, triggered (by a trade print, once) or deleted. */
  subscribeAlerts(accountId: AccountId, cb: (a: PriceAlert) => void): Unsubscribe {
    return this.alertBook.subscribe(accountId, cb);
  }

  /** Number of imported bars (all symbols, or one; all its timeframes, or one). */
  importedCandleCount(symbol?: string, timeframe?: Timeframe): number {
    this.assertUsable();
    return this.q.importedCandleCount(symbol, timeframe);
  }
  /** Time stamp of the last committed batch (0 before the first). */
  get lastCommitTs(): Timestamp {
    return this.lastTs;
  }
  /**
   * Journal frames (for audits and the torture test): seq, count, the encoded commands and their tags'
   * texts (absent when none of the frame's commands has one). The first frame may start at or before
   * `afterSeq`.
   */
  *journalFrames(afterSeq = 0): IterableIterator<{ seq: number; ts: number; commands: Encoded[]; tags?: FrameTags }> {
    for (const row of this.journal.framesAfter(afterSeq)) {
      const c = checkFrame(row);
      if ('reason' in c) throw new VenueError('JOURNAL_CORRUPT', `Journal frame at ${row.seq} is damaged: ${c.reason}`);
      yield c.tags === undefined ? { seq: row.seq, ts: row.ts, commands: c.commands } : { seq: row.seq, ts: row.ts, commands: c.commands, tags: c.tags };
    }
  }
}

/** The answer to a command committed to the journal whose fsync (or COMMIT) failed with `e`. */
function outcomeUnknown(e: unknown): VenueError {
  return new VenueError(
    'VENUE_OUTCOME_UNKNOWN',
    `The command was journaled, but making it durable failed (${String((e as Error)?.message ?? e)}): whether it ` +
      'was kept is unknown until the venue is reopened. It may have been carried out: do not send it again without looking.',
    undefined,
    { cause: e },
  );
}

function preRejected(ts: Timestamp, cmd: VenueCommand, code: Rejected['code'], message: string): Ack {
  const c = cmd as { type?: unknown; accountId?: unknown };
  const r: Rejected = { type: 'Rejected', ts, command: String(c.type) as Rejected['command'], code, message };
  if (typeof c.accountId === 'number') r.accountId = c.accountId;
  return { seq: 0, ts, events: [r], rejected: r, orderIds: [] };
}
