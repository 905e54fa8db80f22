/**
 * `buildServer(config)` creates the whole exchange server (venue, users database, auth, market-data hub,
 * WebSocket gateway, REST API, metrics) without listening; tests call it and listen on 127.0.0.1:0, and
 * server/src/main.ts listens and shuts down gracefully.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { setBackgroundNice, Venue } from '../../engine/venue/index.js';
import { MarketClock, startLiveMarket, type LiveMarket } from '../../engine/live/index.js';
import { ProtocolError, type AnyMethodHandlers, type Backup, type ChannelHandlers, type MethodHandlers, type MethodName } from '../../engine/protocol/index.js';
import { ServerKey } from './auth/crypto.js';
import { Backups } from './backup.js';
import { AuthService, publicUser, type Principal } from './auth/service.js';
import { derivedPaths, makeConfig, type Config, type ConfigInput } from './config.js';
import { createApi } from './http/api.js';
import { rawErrorResponse } from './http/errors.js';
import { StaticFiles } from './http/static.js';
import { createLogger, type Logger } from './log.js';
import { commandEntry, recoverAudit } from './market/audit.js';
import { MarketHub } from './market/hub.js';
import { VenueMethods, type Origin, type OrderHooks } from './market/methods.js';
import { venueHandlers, venueErrorToProtocol } from '../../engine/venue/index.js';
import { ACK_BUCKETS, BATCH_BUCKETS, LATENCY_BUCKETS, RateWindow, Registry, monotonicTotal } from './metrics.js';
import { registerProcessMetrics } from './process-metrics.js';
import { Store } from './store.js';
import { Gateway } from './ws/gateway.js';

export interface BuildOptions {
  logger?: Logger;
  /** Use this key instead of the key file (tests). */
  serverKey?: ServerKey;
  /** Clock for auth (tests of token expiry and TOTP). */
  now?: () => number;
  /** The environment `sim: 'auto'` reads NODE_ENV from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** First account id of the simulated market's agents (engine/sim's default): users' accounts stay below. */
const SIM_AGENT_IDS = 900_000_000;

/** Whether this start runs the simulated market (see `sim` in config.ts). */
export function simEnabled(config: Config, venue: Venue, env: NodeJS.ProcessEnv): boolean {
  if (config.sim !== 'auto') return config.sim === 'on';
  const nodeEnv = env.NODE_ENV;
  const dev = nodeEnv === undefined || nodeEnv === '' || nodeEnv === 'development';
  return dev && (venue.recovery.created || venue.view.accountView(SIM_AGENT_IDS + 1) !== undefined);
}

export interface App {
  readonly config: Config;
  readonly server: Server;
  readonly venue: Venue;
  /** The simulated market when it runs (see `sim` in config.ts); settles once it is set up. */
  readonly market: Promise<LiveMarket | undefined>;
  readonly store: Store;
  /** Online backups (server/src/backup.ts). */
  readonly backups: Backups;
  readonly auth: AuthService;
  readonly hub: MarketHub;
  readonly gateway: Gateway;
  readonly metrics: Registry;
  readonly log: Logger;
  /** The first-admin setup token while no admin exists (print it once; see main.ts). */
  readonly setupToken: string | undefined;
  listen(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>;
  /** Graceful: stop accepting, close sockets with 1001, drain in-flight acks, snapshot, close the databases. */
  close(): Promise<void>;
}

export function buildServer(input: Config | ConfigInput = {}, opts: BuildOptions = {}): App {
  const config = makeConfig(input as ConfigInput);
  const log = opts.logger ?? createLogger(config.logLevel);
  const paths = derivedPaths(config);
  const metrics = new Registry();
  const started = Date.now();
  const historyWaits = metrics.counter('tradedesk_history_waits_total', 'Times sequencing waited for the history thread (more than 100,000 commands behind)');
  const historyWaitSeconds = metrics.counter('tradedesk_history_wait_seconds_total', 'Time sequencing waited for the history thread');
  // Where an acknowledgement's time goes after its order reached the venue: the group commit on the event
  // loop, then the fsync on the thread pool.
  const groupCommits = metrics.histogram('tradedesk_journal_commit_seconds', 'Group commit on the event loop: executing its commands, journaling, COMMIT');
  const groupSizes = metrics.histogram('tradedesk_journal_commit_commands', 'Commands per group commit', BATCH_BUCKETS);
  const syncs = metrics.histogram('tradedesk_journal_fsync_seconds', 'Fsync of the journal, from its start until the event loop saw it return (acknowledgements wait for it)', ACK_BUCKETS);
  const snapBlocked = metrics.histogram('tradedesk_snapshot_blocked_seconds', 'Venue snapshots: how long snapshot() blocked sequencing (the capture of the state and its first part)');
  const snapTotal = metrics.histogram('tradedesk_snapshot_seconds', 'Venue snapshots: from the call until the last part of the text was handed over');
  let lastSnapshot = { orders: 0, chars: 0 };
  // History queries (blotter, statement, statistics, candles, recent trades), by method: the wait for the
  // history thread to commit what they must include, and the whole time to the answer (the wait, then the
  // query: on the history file's reader thread, candles on the event loop).
  const historyQueryWait = metrics.histograms('tradedesk_history_query_wait_seconds', 'History queries: waiting for the history thread to commit the rows they must include');
  const historyQuery = metrics.histograms('tradedesk_history_query_seconds', 'History queries: from the call to the answer (the wait, then the query)');

  // With the simulated market on, the venue stamps its simulated time (see engine/live/README.md).
  const clock = new MarketClock();
  // before the venue and the Store start their writer threads
  setBackgroundNice(config.backgroundNice);
  // the default ./data/venue.db on a fresh install: its folder is made, for this server's files only
  if (config.db !== ':memory:') {
    try {
      mkdirSync(dirname(resolve(config.db)), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new Error(`Cannot make the folder of the venue database ${config.db}: ${(e as Error).message}`, { cause: e });
    }
  }
  const venue = Venue.open(config.db, {
    now: clock.now,
    synchronous: config.sync === 'full' ? 'FULL' : 'NORMAL',
    onDamagedJournal: config.onDamagedJournal,
    ...(config.onJournalBehind !== undefined ? { onJournalBehind: config.onJournalBehind } : {}),
    ...(config.historyDb !== undefined ? { historyFile: config.historyDb } : {}),
    onHistoryWait: (ms) => {
      historyWaits.inc();
      historyWaitSeconds.inc(ms / 1000);
    },
    // The fsync of each group commit runs on the thread pool; replies still wait for it (see VenueOptions).
    fsync: 'background',
    onGroupCommit: (commands, ms) => {
      groupCommits.observe(ms / 1000);
      groupSizes.observe(commands);
    },
    onSync: (ms) => syncs.observe(ms / 1000),
    onHistoryQuery: ({ method, waitMs, totalMs }) => {
      historyQueryWait({ method }).observe(waitMs / 1000);
      historyQuery({ method }).observe(totalMs / 1000);
    },
    onSnapshot: (info) => {
      snapBlocked.observe(info.blockedMs / 1000);
      snapTotal.observe(info.totalMs / 1000);
      lastSnapshot = info;
    },
    snapshotEvery: config.snapshotEvery,
    commitWindowMs: config.commitWindowMs,
    // History rows are handed to the venue's history thread every 50 ms or 4,000 rows, and the thread
    // commits them every 250 ms or 1,000 commands (for a query at once, or 50 ms after the last commit; the
    // query then runs on the history file's reader thread, off the event loop): each commit rewrites a few pages of
    // every account's index entries whatever its rows, so fewer commits write less (bench:server, 32
    // traders: 6 MB/s instead of 18 at 2k orders/s, 27 instead of 38 at 10k/s; a larger bound wrote 16 at
    // 10k/s, but its longer commits on the thread raised the ack p99 at 30k/s). Replies to order commands
    // read the order's record from the history writer's memory (venue.order), never the tables.
    historyFlushRows: 4_000,
    historyFlushMs: 50,
    historyCommitMs: 250,
    historyCommitCommands: 1_000,
    onFatal: (e) => log.error('venue stopped', { err: e }),
    onError: (e, where) => log.error('venue error', { err: e, where }),
  });
  // What recovery could not keep, or had to do over, is said loudly: acknowledged commands set aside are lost.
  const rec = venue.recovery;
  if (rec.discarded.length > 0)
    log.error('venue journal: damaged frames were set aside (their acknowledged commands are lost; journal_quarantine keeps them)', { discarded: rec.discarded, recoveredTo: rec.recoveredTo });
  if (rec.snapshotsSkipped.length > 0) log.warn('venue recovery skipped snapshots it could not use', { snapshotsSkipped: rec.snapshotsSkipped, snapshotSeq: rec.snapshotSeq });
  if (rec.historyRebuilt) log.warn('venue history was re-derived from the journal', { recoveredTo: rec.recoveredTo });
  let store: Store;
  try {
    store = new Store(paths.usersDb, (e) => log.error('users database write failed', { err: e }));
    // the audit entries of acknowledged commands a crash took before they were written (market/audit.ts)
    const audit = recoverAudit(venue, store);
    if (audit.recovered > 0 || audit.skipped > 0) log.warn('audit entries made again from the journal', audit);
    store.auditMarkFrom(() => venue.acknowledgedSeq);
  } catch (e) {
    venue.close({ snapshot: false });
    throw e;
  }
  const key = opts.serverKey ?? ServerKey.load(paths.keyFile, process.env.TRADEDESK_SERVER_KEY);
  const backups = new Backups({
    dir: paths.backupDir,
    kept: config.backupsKept,
    venue,
    venuePath: config.db,
    usersDb: paths.usersDb,
    store,
    keyFile: paths.keyFile,
    keySource: key.source === 'memory' ? 'none' : key.source,
  });

  // ---------------------------------------------------------------- metrics
  const m = {
    orders: metrics.counter('tradedesk_orders_total', 'Order commands acknowledged (after the durable journal)', { result: 'accepted' }),
    ordersRejected: metrics.counter('tradedesk_orders_total', 'Order commands acknowledged (after the durable journal)', { result: 'rejected' }),
    ack: metrics.histogram('tradedesk_order_ack_seconds', 'Order command: submit to durable acknowledgement', ACK_BUCKETS),
    wsIn: metrics.counter('tradedesk_ws_messages_in_total', 'WebSocket messages received'),
    wsOut: metrics.counter('tradedesk_ws_frames_out_total', 'WebSocket frames sent'),
    wsLimited: metrics.counter('tradedesk_ws_rate_limited_total', 'WebSocket messages refused by the per-connection rate limit'),
    wsSlow: metrics.counter('tradedesk_ws_slow_consumer_disconnects_total', 'Connections closed because a private stream fell behind'),
    wsRejected: metrics.counter('tradedesk_ws_upgrades_refused_total', 'WebSocket upgrades refused'),
    wsConns: metrics.gauge('tradedesk_ws_connections', 'Open WebSocket connections'),
    rate: new RateWindow(10),
  };
  metrics.gauge('tradedesk_orders_per_second', 'Acknowledged order commands per second (10 s window)', undefined, () => m.rate.rate());
  metrics.gauge('tradedesk_journal_last_seq', 'Sequence number of the last journaled command', undefined, () => venue.lastSeq);
  metrics.gauge('tradedesk_journal_snapshot_seq', 'Sequence number of the newest snapshot', undefined, () => venue.snapshotSeq);
  metrics.gauge('tradedesk_snapshot_orders', 'Live orders in the newest venue snapshot', undefined, () => lastSnapshot.orders);
  metrics.gauge('tradedesk_snapshot_chars', 'Length of the newest venue snapshot (JSON characters)', undefined, () => lastSnapshot.chars);
  metrics.gauge('tradedesk_journal_lag_commands', 'Commands journaled since the last snapshot (replayed on recovery)', undefined, () => venue.lastSeq - venue.snapshotSeq);
  metrics.gauge('tradedesk_history_lag_commands', 'Commands journaled whose history rows (orders, executions, ledger) are not yet written', undefined, () => venue.lastSeq - venue.historySeq);
  // How long the event loop (which sequences every command) was held up: the worst and the 99th percentile
  // since the previous scrape.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let loopSeen = { p99: 0, max: 0, at: 0 };
  const loopStats = (): typeof loopSeen => {
    const now = Date.now();
    if (now - loopSeen.at > 1000) {
      loopSeen = { p99: loopDelay.percentile(99) / 1e9, max: loopDelay.max / 1e9, at: now };
      loopDelay.reset();
    }
    return loopSeen;
  };
  metrics.gauge('tradedesk_event_loop_delay_p99_seconds', 'Event-loop delay, 99th percentile since the previous scrape', undefined, () => loopStats().p99);
  metrics.gauge('tradedesk_event_loop_delay_max_seconds', 'Event-loop delay, worst since the previous scrape', undefined, () => loopStats().max);
  // Garbage-collection pauses of the event loop's thread, by kind: young-generation scavenges come several
  // times a second under load, full collections hold everything up longest.
  const gcPauses = new Map<number, ReturnType<typeof metrics.histogram>>();
  for (const [kind, flag] of [
    ['minor', perfConstants.NODE_PERFORMANCE_GC_MINOR],
    ['major', perfConstants.NODE_PERFORMANCE_GC_MAJOR],
    ['incremental', perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL],
    ['weakcb', perfConstants.NODE_PERFORMANCE_GC_WEAKCB],
  ] as const)
    gcPauses.set(flag, metrics.histogram('tradedesk_gc_pause_seconds', "Garbage-collection pauses of the event loop's thread", LATENCY_BUCKETS, { kind }));
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.get((e as { detail?: { kind?: number } }).detail?.kind ?? -1)?.observe(e.duration / 1000);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  metrics.gauge('tradedesk_journal_pending_acks', 'Order commands submitted and not yet acknowledged by the journal', undefined, () => venue.pendingCommands);
  metrics.gauge('tradedesk_market_subscriptions', 'Market-data subscriptions', undefined, () => hub.subscriberCount);
  metrics.gauge('tradedesk_uptime_seconds', 'Seconds since start', undefined, () => (Date.now() - started) / 1000);
  metrics.gauge(
    'tradedesk_users_db_sync_failed',
    'Whether an fsync of the users database failed (1: requests that change it are refused until a restart), or a write to it (1 until a restart)',
    undefined,
    () => (store.syncFailure === undefined && store.writeFailure === undefined ? 0 : 1),
  );
  // CPU, memory, open files and the heap under the client libraries' names, and the database files' sizes
  registerProcessMetrics(metrics, { venue: config.db, history: venue.historyFile, users: paths.usersDb });
  // Which thread is the limit: the event loop sequences and answers everything, the others can fall behind.
  // rate() of each is the share of a core it kept busy. A worker thread may not run yet (the history reader
  // starts with the first query), or end and be started again, counting from 0: the total keeps the time of
  // the ones before, so it never goes back (a new thread that passes the old one's total between two scrapes
  // is counted from there).
  const busy = (thread: string, ms: () => number | undefined): void => {
    const total = monotonicTotal(ms);
    metrics.counter('tradedesk_thread_busy_seconds_total', "Time a thread of the server was busy (its event loop not idle): the event loop, the history writer and reader, the audit log's writer", { thread }, () => total() / 1000);
  };
  busy('event_loop', () => performance.eventLoopUtilization().active);
  busy('history_writer', () => venue.threadBusyMs().historyWriter);
  busy('history_reader', () => venue.threadBusyMs().historyReader);
  busy('audit_writer', () => store.auditWriter.thread?.performance.eventLoopUtilization().active);
  // Backups: alert when the newest good one is too old (the folder's, so a restart does not reset it).
  metrics.gauge('tradedesk_backup_last_success_timestamp_seconds', 'When the newest backup in the backup folder began (Unix seconds; 0: none)', undefined, () => (backups.newest === null ? 0 : Date.parse(backups.newest.createdAt) / 1000));
  metrics.gauge('tradedesk_backup_last_seq', 'Last journaled command in the newest backup', undefined, () => backups.newest?.seq ?? 0);
  metrics.gauge('tradedesk_backup_last_duration_seconds', 'How long the newest backup took', undefined, () => (backups.newest?.tookMs ?? 0) / 1000);
  metrics.gauge('tradedesk_backup_last_bytes', 'Size of the newest backup', undefined, () => backups.newest?.bytes ?? 0);
  const backupsOk = metrics.counter('tradedesk_backups_total', 'Backups made', { result: 'ok' });
  const backupsFailed = metrics.counter('tradedesk_backups_total', 'Backups made', { result: 'failed' });
  /** A backup, asked for by an admin (audited) or by the schedule; logged and counted either way. */
  const backup = async (by?: { userId: number; username: string; ip: string }): Promise<Backup> => {
    try {
      const info = await backups.run(by === undefined ? 'schedule' : 'admin', by?.username);
      backupsOk.inc();
      log.info('backup made', { name: info.name, seq: info.seq, bytes: info.bytes, tookMs: info.tookMs, trigger: info.trigger });
      if (by !== undefined) {
        store.audit({ ts: Date.now(), userId: by.userId, username: by.username, ip: by.ip, action: 'admin.backup', details: { name: info.name, seq: info.seq, bytes: info.bytes } });
        // written now: one asked with ?wait=false has no request waiting for it (http/api.ts)
        await store.auditSettled().catch(() => undefined);
      }
      return info;
    } catch (e) {
      if (!(e instanceof ProtocolError && e.code === 'CONFLICT')) {
        backupsFailed.inc();
        log.error('backup failed', { err: e });
      }
      throw e;
    }
  };
  if (config.backupEvery > 0) backups.schedule(config.backupEvery, () => backup());

  // ---------------------------------------------------------------- accounts and auth
  let nextAccountId = Math.max(0, ...venue.view.accountIds().filter((id) => id < SIM_AGENT_IDS), store.maxAccountId()) + 1;
  const ref: { gateway?: Gateway } = {};
  const auth = new AuthService(
    store,
    key,
    config.auth,
    {
      onSessionsRevoked: (ids, reason) => ref.gateway?.closeSessions(ids, reason),
      onUserChanged: (userId, reason) => ref.gateway?.closeUser(userId, reason),
      openAccount: async () => {
        for (;;) {
          const id = nextAccountId++;
          const ack = await venue.submit({ type: 'OpenAccount', accountId: id, allowShort: config.allowShort });
          if (ack.rejected === undefined) return id;
          if (ack.rejected.code !== 'DUPLICATE_ACCOUNT') throw new ProtocolError(ack.rejected.code, ack.rejected.message);
        }
      },
      cancelOrders: async (accountId) => {
        // The user's sessions are gone, but an order of theirs may be queued for the next group commit:
        // wait until it is in the engine, then cancel whatever is open (again, should one still be there).
        await venue.executed();
        let canceled = 0;
        try {
          for (let round = 0; round < 3 && venue.view.openOrders(accountId).length > 0; round++) canceled += await venue.cancelOrders(accountId);
        } catch (e) {
          throw venueErrorToProtocol(e);
        }
        return canceled;
      },
    },
    opts.now,
  );

  // ---------------------------------------------------------------- trading
  const orderHooks: OrderHooks = {
    onOrder(kind, origin, outcome, ms, entry) {
      if (kind !== 'admin' && kind !== 'cancelAll') {
        m.ack.observe(ms / 1000);
        if (outcome.accepted) m.orders.inc();
        else m.ordersRejected.inc();
        m.rate.add(1);
      }
      if (entry === undefined) return;
      // its details are built for this call alone (methods.ts): extended in place rather than copied
      const { action, details } = entry;
      details.via = origin.via;
      if (!outcome.accepted) details.rejected = outcome.code;
      store.audit({ ts: Date.now(), userId: origin.userId, username: origin.username, ip: origin.ip, action, details });
    },
    onCommand(origin, ack, submitted, at) {
      const entry = commandEntry(origin, ack.command ?? submitted, at, ack);
      if (entry !== undefined) store.audit(entry, ack.seq);
    },
    entriesKept: () => store.auditSettled().catch(() => undefined),
  };
  // Count submits in flight for graceful shutdown and the pending-acks gauge.
  const inflight = { n: 0 };

  const venueMethods = new VenueMethods(venue, orderHooks);
  const guestHandlers = venueMethods.for(undefined);
  const methodsFor = (p: Principal | undefined, ip: string, via: Origin['via']): MethodHandlers =>
    p === undefined ? guestHandlers : venueMethods.for({ userId: p.userId, username: p.username, ip, via });
  // Private streams and the instruments straight from the venue; quotes and the rest of the market data
  // from the coalescing hub.
  const venueChannels = venueHandlers(venue).channels;

  // Admins' view of the users, live: the list, then each user again after every write of their row.
  const usersChannel: ChannelHandlers['admin.users'] = (_p, _ctx, sink) => {
    for (const u of store.listUsers()) sink.push(publicUser(u));
    return store.onUserChanged((id) => {
      const u = store.userById(id);
      if (u !== undefined) sink.push(publicUser(u));
    });
  };

  // The audit log's new entries (orders' aside), for admins.
  const auditChannel: ChannelHandlers['admin.audit'] = (_p, _ctx, sink) =>
    store.onAuditEntries((rows) => {
      for (const r of rows) sink.push(r);
    });

  const hub = new MarketHub(venue, config.ws.quoteIntervalMs);
  hub.start();
  // Price alerts are the venue's (alerts.* in the protocol table); earlier versions kept them in users.db.
  for (const a of store.takeArmedAlerts()) {
    const accountId = store.userById(a.userId)?.accountId;
    if (accountId == null || venue.view.instrument(a.symbol) === undefined) continue;
    venue.createAlert(accountId, { symbol: a.symbol, direction: a.direction, price: a.price, note: a.note ?? undefined });
  }

  const sameOrigin = (origin: string, host: string | undefined): boolean => {
    if (host === undefined) return false;
    try {
      const u = new URL(origin);
      return u.host === host && (u.protocol === 'http:' || u.protocol === 'https:');
    } catch {
      return false;
    }
  };
  const allowed = new Set(config.origins.map((o) => o.replace(/\/+$/, '')));
  const isAllowedOrigin = (origin: string, host: string | undefined): boolean => allowed.has(origin) || sameOrigin(origin, host);

  const gw = new Gateway({
    config,
    log,
    serverName: config.serverName,
    authenticate: (t) => auth.authenticate(t),
    methods: (p, ip) => methodsFor(p, ip, 'ws'),
    channels: (conn) => {
      const pub = hub.channels(conn);
      return { ...pub, instruments: venueChannels.instruments, 'admin.users': usersChannel, 'admin.audit': auditChannel, orders: venueChannels.orders, executions: venueChannels.executions, account: venueChannels.account, alerts: venueChannels.alerts };
    },
    isAllowedOrigin,
    ...(opts.now !== undefined ? { now: opts.now } : {}),
    metrics: {
      connections: (d) => m.wsConns.inc(d),
      messagesIn: () => m.wsIn.inc(),
      framesOut: (n) => m.wsOut.inc(n),
      rateLimited: () => m.wsLimited.inc(),
      slowConsumer: () => m.wsSlow.inc(),
      rejectedUpgrade: () => m.wsRejected.inc(),
    },
  });
  ref.gateway = gw;

  const staticFiles = new StaticFiles(config.rendererDir);
  const httpHists = metrics.histograms('tradedesk_http_request_seconds', 'HTTP request latency');
  const httpHist = (route: string) => httpHists({ route });
  const httpCounts = metrics.counters('tradedesk_http_requests_total', 'HTTP requests');
  const httpCount = (route: string, status: number) => httpCounts({ route, status: String(status) });

  const handler = createApi({
    config,
    log,
    auth,
    store,
    backups: {
      make: (p, client) => backup({ userId: p.userId, username: p.username, ip: client.ip }),
      start: (p, client) => {
        const refused = backups.refusal();
        if (refused !== undefined) throw refused;
        // logged, counted, audited and its failure kept in the status, as make's
        backup({ userId: p.userId, username: p.username, ip: client.ip }).catch(() => undefined);
        return backups.status;
      },
      list: () => backups.list(),
      status: () => backups.status,
    },
    callMethod: async (name: MethodName, params, p, ip) => {
      const h = (methodsFor(p, ip, 'rest') as AnyMethodHandlers)[name] as ((params: unknown, ctx: unknown) => unknown) | undefined;
      if (h === undefined) throw new ProtocolError('UNKNOWN_METHOD', `${name} is not available on this server`, { method: name });
      const ctx = { session: p === undefined ? {} : { userId: String(p.userId), accountId: p.accountId, role: p.role }, client: 'rest', closed: false };
      return h(params, ctx);
    },
    // 'failed': the venue stopped (a group commit failed); 'degraded': the users database cannot be synced,
    // so every request that changes it is refused (sign-ins, keyed requests, admin changes) while trading
    // over WebSocket goes on, or a write to it failed (a full disk: sign-ins fail, audit entries were lost,
    // which the next start makes again from the journal). A restart clears either, so both answer 503 (GET
    // /health is what a supervisor asks).
    health: () => ({
      status: venue.failed !== undefined ? 'failed' : store.syncFailure !== undefined || store.writeFailure !== undefined ? 'degraded' : 'ok',
      server: config.serverName,
      uptimeSec: Math.round((Date.now() - started) / 1000),
      venue: { lastSeq: venue.lastSeq, snapshotSeq: venue.snapshotSeq, failed: venue.failed?.message },
      usersDb: { failed: (store.syncFailure ?? store.writeFailure)?.message },
      connections: gw.size,
      setupPending: auth.setupPending,
      // when the newest backup in the folder began (no names or paths: /health is open), and whether one runs
      backup: { newestAt: backups.newest?.createdAt ?? null, running: backups.status.running !== null },
    }),
    metricsText: () => metrics.render(),
    isAllowedOrigin,
    staticFiles,
    metrics: {
      request: (route, status, sec) => {
        httpHist(route).observe(sec);
        httpCount(route, status).inc();
      },
    },
    inflight,
  });

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000, keepAliveTimeout: 5_000 }, handler);
  server.on('upgrade', (req, socket, head) => gw.handleUpgrade(req, socket, head));
  // After listen, the server itself can still emit 'error' (a failed accept: EMFILE/ENFILE when out of file
  // descriptors); without a listener that would end the process. Errors before listening reject listen().
  server.on('error', (e) => {
    if (server.listening) log.error('http server error', { err: e });
  });
  // A request Node's parser refuses: answered in the one error shape, then the connection is closed.
  server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    socket.end(clientErrorResponse(e.code));
  });
  const purge = setInterval(() => {
    try {
      store.purgeExpired(Date.now());
    } catch (e) {
      log.warn('purge failed', { err: e });
    }
  }, 3_600_000);
  purge.unref();
  // The audit mark follows the journal while no user trades (the simulated market's commands are not
  // audited), so a start-up after a crash reads only the last few seconds of it for lost entries.
  const auditMark = setInterval(() => store.advanceAuditMark(), 5_000);
  auditMark.unref();

  const market: Promise<LiveMarket | undefined> = simEnabled(config, venue, opts.env ?? process.env)
    ? startLiveMarket({
        venue,
        clock,
        seed: config.simSeed,
        speed: config.simSpeed,
        warmupDays: config.simWarmupDays,
        onError: (e) => log.error('simulated market stopped', { err: e }),
      }).then((mk) => {
        log.info('simulated market', { resumed: mk.resumed, importedBars: mk.importedBars, speed: config.simSpeed, symbols: mk.sim.symbols().length });
        return mk;
      })
    : Promise.resolve(undefined);
  market.catch((e: unknown) => log.error('simulated market failed to start', { err: e }));

  const setupToken = auth.issueSetupToken();
  let closing: Promise<void> | undefined;

  return {
    config,
    server,
    venue,
    market,
    store,
    backups,
    auth,
    hub,
    gateway: gw,
    metrics,
    log,
    setupToken,
    async listen(port = config.port, host = config.host) {
      await market; // a market that cannot be set up fails the start
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          // the delays of serving, not of starting (recovery, the simulated market's set-up: seconds)
          loopDelay.reset();
          loopSeen = { p99: 0, max: 0, at: 0 };
          const a = server.address() as AddressInfo;
          const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ port: a.port, host: a.address, url: `http://${h}:${a.port}` });
        });
      });
    },
    close() {
      closing ??= (async () => {
        log.info('shutting down');
        server.close();
        await backups.stop();
        await gw.shutdown();
        await (await market.catch(() => undefined))?.stop();
        const deadline = Date.now() + config.http.drainTimeoutMs;
        while ((inflight.n > 0 || venue.pendingCommands > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        server.closeAllConnections();
        hub.stop();
        clearInterval(purge);
        clearInterval(auditMark);
        loopDelay.disable();
        gcObserver.disconnect();
        try {
          venue.close();
        } finally {
          await store.close();
        }
        log.info('stopped', { lastSeq: venue.lastSeq });
      })();
      return closing;
    },
  };
}

/**
 * The raw response to a request the HTTP parser refused (it never reaches a route): 431 for headers over
 * Node's limit, 408 for a request that did not arrive in time, 400 for the rest, each with the API's error
 * body, so every client reads one error shape.
 */
export function clientErrorResponse(parserCode: string | undefined): string {
  if (parserCode === 'HPE_HEADER_OVERFLOW') return rawErrorResponse(431, 'BAD_REQUEST', 'The request headers are too large');
  if (parserCode === 'ERR_HTTP_REQUEST_TIMEOUT') return rawErrorResponse(408, 'BAD_REQUEST', 'The request did not arrive in time');
  return rawErrorResponse(400, 'BAD_REQUEST', 'The request is not valid HTTP');
}
