/**
 * Server configuration: defaults < config file (JSON) < environment (TRADEDESK_*) < command-line flags.
 * One zod schema declares every setting, its type and its default; `loadConfig` merges the sources and
 * validates the result, so a typo in a flag, a variable or the file is a clear error at start-up.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, basename, resolve } from 'node:path';
import { z } from 'zod';
import { trustedProxies } from './http/client-address.js';

/** OWASP's minimum for argon2id (Password Storage Cheat Sheet): m = 19 MiB, t = 2, p = 1. */
export const OWASP_ARGON2ID_MIN = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * OWASP's equivalent argon2id settings (p = 1): the least memory (KiB) for each number of passes; 5 passes or
 * more need 7 MiB.
 */
const OWASP_ARGON2ID_MEMORY_BY_PASSES: readonly number[] = [47_104, 19_456, 12_288, 9_216, 7_168];

/**
 * A warning naming OWASP's minimum when argon2id is set below it (the config file's `auth.argon2`), or
 * undefined. Only a warning: tests and benchmarks set a low cost on purpose.
 */
export function argon2Warning(p: Argon2Params): string | undefined {
  const least = OWASP_ARGON2ID_MEMORY_BY_PASSES[Math.min(p.timeCost, OWASP_ARGON2ID_MEMORY_BY_PASSES.length) - 1]!;
  if (p.memoryCost >= least) return undefined;
  const m = OWASP_ARGON2ID_MIN;
  return (
    `argon2id is set below OWASP's minimum (m=${p.memoryCost} KiB, t=${p.timeCost}, p=${p.parallelism}): stored passwords are cheaper to crack. ` +
    `The minimum, and the default, is m=${m.memoryCost} KiB, t=${m.timeCost}, p=${m.parallelism} (or as much work another way: m=47104 t=1, m=12288 t=3, m=9216 t=4, m=7168 t=5)`
  );
}

export const Argon2ParamsSchema = z.strictObject({
  /** KiB. */
  memoryCost: z.int().min(8).max(4_194_304),
  timeCost: z.int().min(1).max(64),
  parallelism: z.int().min(1).max(16),
});
export type Argon2Params = z.output<typeof Argon2ParamsSchema>;

const port = z.int().min(0).max(65_535);
const positive = z.int().positive();

export const ConfigSchema = z.strictObject({
  /** The venue database file. The users database and the key file live next to it unless set. */
  db: z.string().min(1).default('./data/venue.db'),
  /** Default: `<db without .db>.users.db` beside the venue database. */
  usersDb: z.string().min(1).optional(),
  /**
   * The venue's history file (orders, executions, ledger, candles and snapshots, derived from the journal).
   * Default: `<db>-history` beside the venue database. On another volume its writes stay out of the
   * journal's fsync.
   */
  historyDb: z.string().min(1).optional(),
  /** File with the server's secret key (encrypts TOTP secrets, keys token and backup-code hashes). */
  keyFile: z.string().min(1).optional(),
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(8787),
  /** Extra browser origins allowed to open WebSockets and call the API (same-origin is always allowed). */
  origins: z.array(z.string().min(1)).default([]),
  /**
   * The reverse proxies in front of the server (addresses or subnets, e.g. `127.0.0.1` or `10.0.0.0/8`): a
   * request from one is taken to come from the address it forwards (`X-Forwarded-For`; http/client-address.ts),
   * for the audit log, the sign-in throttle and the caps per address. Without any, the header is ignored.
   */
  trustedProxies: z
    .array(z.string().min(1))
    .default([])
    .superRefine((list, ctx) => {
      try {
        trustedProxies(list);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }),
  /**
   * The header the trusted proxies write the client's address in: `x-forwarded-for` (nginx, HAProxy, most
   * load balancers) or `forwarded` (RFC 7239). Only that one is read: a proxy passes the other on as the
   * client wrote it.
   */
  proxyHeader: z.enum(['x-forwarded-for', 'forwarded']).default('x-forwarded-for'),
  /** SQLite synchronous level of the venue journal: full fsyncs every group commit. */
  sync: z.enum(['full', 'normal']).default('full'),
  /**
   * A damaged journal frame (acknowledged commands would be lost): 'error' refuses to start; 'truncate' sets
   * it and everything after it aside and starts from the last intact command (VenueOptions.onDamagedJournal).
   */
  onDamagedJournal: z.enum(['error', 'truncate']).default('error'),
  /**
   * A journal that ends before the history file's watermark or a snapshot (journaled commands are missing):
   * 'error' refuses to start; 'proceed' starts at the journal's end and re-derives the history from it
   * (VenueOptions.onJournalBehind). Default: 'error' with --sync full; 'proceed' with --sync normal, under which
   * a power cut may take the journal's last commits while the history file keeps them.
   */
  onJournalBehind: z.enum(['error', 'proceed']).optional(),
  /**
   * Snapshot the venue after this many journaled commands (0 = only every 5 minutes and at shutdown). A
   * snapshot pauses sequencing while the state is captured (about 15 ms for 200,000 resting orders), then
   * serializes it a part per turn while trading goes on; recovery replays the
   * commands since the last one (about 4 s per million).
   */
  snapshotEvery: z.int().min(0).default(1_000_000),
  /**
   * Nice value of the background threads on Linux (the history writer, the audit writer, a backup's
   * copy; engine/venue/thread-priority.ts): below the event loop, so their work waits for a core instead
   * of the acknowledgements. 0 runs them as the event loop.
   */
  backgroundNice: z.int().min(0).max(19).default(10),
  /** Venue group-commit window (ms); 0 commits on the next tick. */
  commitWindowMs: z.int().min(0).max(1000).default(0),
  /** Who may register: 'closed' = only admins create users; 'open' = anyone, as `openRole`. */
  registration: z.enum(['closed', 'open']).default('closed'),
  openRole: z.enum(['viewer', 'trader']).default('trader'),
  /** Whether the engine accounts opened for new users may sell short. */
  allowShort: z.boolean().default(false),
  /** Directory of the renderer's web build, served at / when it exists. */
  rendererDir: z.string().min(1).default('./dist/renderer'),
  /** Write the first-admin setup token to this file (mode 0600) as well as to stderr. */
  setupTokenFile: z.string().min(1).optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * Simulated liquidity (engine/live: the agents of engine/sim trading on the venue). 'auto' (default): on in
   * development (NODE_ENV unset or 'development') when this start creates the database, and on a database
   * that already has the simulated market; off otherwise (set NODE_ENV=production, or 'off', for a firm's
   * real venue). 'on' / 'off' force it.
   */
  sim: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Simulated time per wall time (1 = real time). */
  simSpeed: z.number().positive().max(100_000).default(1),
  /** Seed of the simulated market (same seed, same market). */
  simSeed: z.int().min(0).max(0xffff_ffff).default(1),
  /** Sessions of warm-up bars imported when the simulated market is first set up (charts have history). */
  simWarmupDays: z.int().min(0).max(260).default(30),
  serverName: z.string().min(1).max(64).default('tradedesk-server'),
  /**
   * Online backups (server/src/backup.ts): the folder they are written to (default `backups` beside the
   * venue database; better on another volume), how often one is made on a schedule (minutes; 0 = only when
   * an admin asks, `POST /api/v1/admin/backups`) and how many of the newest are kept.
   */
  backupDir: z.string().min(1).optional(),
  // (at most 35,000 minutes, about 24 days: a timer cannot wait longer)
  backupEvery: z.number().min(0).max(35_000).default(0),
  backupsKept: z.int().min(1).max(10_000).default(7),
  /**
   * When set, `GET /metrics` answers only `Authorization: Bearer <metricsToken>` (Prometheus:
   * `authorization: { credentials: ... }`). Unset, it is open like `/health`: keep the port private then.
   */
  metricsToken: z.string().regex(/^[\x21-\x7e]{16,256}$/, 'must be 16-256 printable ASCII characters without spaces').optional(),

  auth: z
    .strictObject({
      argon2: Argon2ParamsSchema.default({ ...OWASP_ARGON2ID_MIN }),
      accessTtlSec: positive.default(15 * 60),
      refreshTtlSec: positive.default(30 * 24 * 3600),
      /** Failures per account+IP before the throttle starts; each further failure doubles the wait. */
      loginFreeFailures: z.int().min(1).default(5),
      loginBaseDelaySec: positive.default(2),
      loginMaxDelaySec: positive.default(15 * 60),
      /** Argon2 verifications at once (each takes `memoryCost` KiB); the rest queue. */
      maxConcurrentHashes: positive.default(4),
    })
    .default({
      argon2: { ...OWASP_ARGON2ID_MIN },
      accessTtlSec: 15 * 60,
      refreshTtlSec: 30 * 24 * 3600,
      loginFreeFailures: 5,
      loginBaseDelaySec: 2,
      loginMaxDelaySec: 15 * 60,
      maxConcurrentHashes: 4,
    }),

  ws: z
    .strictObject({
      maxPayload: positive.default(64 * 1024),
      pingIntervalMs: positive.default(30_000),
      /** Inbound messages per second per connection (token bucket) and the bucket size. */
      rate: positive.default(500),
      burst: positive.default(1000),
      /** Rate-limited messages within 10 s that close the connection (1008). */
      abuseLimit: positive.default(2000),
      maxPerIp: positive.default(256),
      maxPerUser: positive.default(32),
      maxConnections: positive.default(20_000),
      /** Outgoing buffer (bytes) above which pushes queue in the session (conflated or counted). */
      highWaterBytes: positive.default(256 * 1024),
      /**
       * Outgoing buffer (bytes) above which the connection is closed as a slow consumer (RESYNC_REQUIRED): a
       * peer that sends requests and reads none of the replies.
       */
      maxBufferedBytes: positive.default(4 * 1024 * 1024),
      /** Pushes queued per subscription before a private stream's consumer is disconnected (resync). */
      maxPendingPushes: positive.default(2000),
      /** Market data is coalesced and sent every this many ms (latest value wins). */
      quoteIntervalMs: positive.default(50),
      helloTimeoutMs: positive.default(10_000),
    })
    .default({
      maxPayload: 64 * 1024,
      pingIntervalMs: 30_000,
      rate: 500,
      burst: 1000,
      abuseLimit: 2000,
      maxPerIp: 256,
      maxPerUser: 32,
      maxConnections: 20_000,
      highWaterBytes: 256 * 1024,
      maxBufferedBytes: 4 * 1024 * 1024,
      maxPendingPushes: 2000,
      quoteIntervalMs: 50,
      helloTimeoutMs: 10_000,
    }),

  http: z
    .strictObject({
      maxBodyBytes: positive.default(64 * 1024),
      /** REST requests per second per client (user, or IP for guests) and the bucket size. */
      rate: positive.default(200),
      burst: positive.default(400),
      /** Graceful shutdown: longest wait for in-flight requests and acknowledgements. */
      drainTimeoutMs: positive.default(10_000),
    })
    .default({ maxBodyBytes: 64 * 1024, rate: 200, burst: 400, drainTimeoutMs: 10_000 }),
});

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** A config with every default applied; throws a readable Error on a bad value. */
export function makeConfig(input: ConfigInput = {}): Config {
  const r = ConfigSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** Paths derived from `db` when not set. */
export function derivedPaths(c: Pick<Config, 'db' | 'usersDb' | 'keyFile' | 'backupDir'>): { usersDb: string; keyFile: string; backupDir: string } {
  const dir = dirname(resolve(c.db));
  const stem = basename(c.db).replace(/\.(db|sqlite3?)$/i, '');
  return {
    usersDb: c.usersDb ?? join(dir, `${stem}.users.db`),
    keyFile: c.keyFile ?? join(dir, `${stem}.server.key`),
    backupDir: c.backupDir ?? join(dir, 'backups'),
  };
}

// ---------------------------------------------------------------- sources

type Kind = 'string' | 'int' | 'number' | 'list' | 'bool' | 'switch';
export const FLAGS: Readonly<Record<string, { key: string; kind: Kind }>> = {
  db: { key: 'db', kind: 'string' },
  'users-db': { key: 'usersDb', kind: 'string' },
  'history-db': { key: 'historyDb', kind: 'string' },
  'key-file': { key: 'keyFile', kind: 'string' },
  host: { key: 'host', kind: 'string' },
  port: { key: 'port', kind: 'int' },
  origins: { key: 'origins', kind: 'list' },
  'trusted-proxies': { key: 'trustedProxies', kind: 'list' },
  'proxy-header': { key: 'proxyHeader', kind: 'string' },
  sync: { key: 'sync', kind: 'string' },
  'on-damaged-journal': { key: 'onDamagedJournal', kind: 'string' },
  'on-journal-behind': { key: 'onJournalBehind', kind: 'string' },
  'commit-window-ms': { key: 'commitWindowMs', kind: 'int' },
  'background-nice': { key: 'backgroundNice', kind: 'int' },
  'snapshot-every': { key: 'snapshotEvery', kind: 'int' },
  registration: { key: 'registration', kind: 'string' },
  'open-role': { key: 'openRole', kind: 'string' },
  'renderer-dir': { key: 'rendererDir', kind: 'string' },
  'setup-token-file': { key: 'setupTokenFile', kind: 'string' },
  'log-level': { key: 'logLevel', kind: 'string' },
  'metrics-token': { key: 'metricsToken', kind: 'string' },
  sim: { key: 'sim', kind: 'switch' },
  'sim-speed': { key: 'simSpeed', kind: 'number' },
  'sim-seed': { key: 'simSeed', kind: 'int' },
  'sim-warmup-days': { key: 'simWarmupDays', kind: 'int' },
  'backup-dir': { key: 'backupDir', kind: 'string' },
  'backup-every': { key: 'backupEvery', kind: 'number' },
  'backups-kept': { key: 'backupsKept', kind: 'int' },
};

function convert(kind: Kind, raw: string, what: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'number': {
      // decimal only: Number() also reads "0x10", "0b1" and "" (as 0)
      const n = Number(raw);
      if (!/^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw) || !Number.isFinite(n)) throw new Error(`${what} must be a number, not "${raw}"`);
      return n;
    }
    case 'switch': {
      // on|off|auto, also true/false/1/0
      const v = raw.trim().toLowerCase();
      if (v === 'on' || v === 'true' || v === '1') return 'on';
      if (v === 'off' || v === 'false' || v === '0') return 'off';
      if (v === 'auto') return 'auto';
      throw new Error(`${what} must be on, off or auto, not "${raw}"`);
    }
    case 'int': {
      // digits only: Number() also reads "1e3", "0x10" and "1.0"
      const n = Number(raw);
      if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n)) throw new Error(`${what} must be an integer, not "${raw}"`);
      return n;
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (v === '1' || v === 'true' || v === 'yes' || v === 'on') return true;
      if (v === '0' || v === 'false' || v === 'no' || v === 'off') return false;
      throw new Error(`${what} must be true or false, not "${raw}"`);
    }
  }
}

export interface ParsedArgs {
  config: ConfigInput;
  configFile: string | undefined;
  help: boolean;
}

/** `--name value` or `--name=value`; `--config file.json`; `--help`. Unknown flags are errors. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: Record<string, unknown> = {};
  let configFile: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (!a.startsWith('--')) throw new Error(`Unexpected argument "${a}" (flags look like --port 8787)`);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    // own entries only: "--constructor" or "--toString" are not flags because every object has them
    const f = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
    if (f === undefined && name !== 'config') throw new Error(`Unknown flag --${name} (see --help)`);
    let value: string | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
    if (value === undefined && f?.kind === 'switch' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'))) value = 'on';
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
      i++;
    }
    if (f === undefined) {
      configFile = value;
      continue;
    }
    out[f.key] = convert(f.kind, value, `--${name}`);
  }
  return { config: out as ConfigInput, configFile, help };
}

/** TRADEDESK_DB, TRADEDESK_PORT, ... (the flag names upper-cased, dashes as underscores). */
export function fromEnv(env: NodeJS.ProcessEnv): { config: ConfigInput; configFile: string | undefined } {
  const out: Record<string, unknown> = {};
  for (const [flag, f] of Object.entries(FLAGS)) {
    const v = env[`TRADEDESK_${flag.toUpperCase().replace(/-/g, '_')}`];
    if (v !== undefined && v !== '') out[f.key] = convert(f.kind, v, `TRADEDESK_${flag.toUpperCase().replace(/-/g, '_')}`);
  }
  return { config: out as ConfigInput, configFile: env.TRADEDESK_CONFIG || undefined };
}

function readConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`Cannot read the config file ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as ConfigInput;
  } catch (e) {
    throw new Error(`The config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Merges file, environment and flags (later wins; nested objects merge one level deep). */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: Config; help: boolean } {
  const args = parseArgs(argv);
  const e = fromEnv(env);
  const file = args.configFile ?? e.configFile;
  const fileCfg = file !== undefined ? readConfigFile(file) : {};
  const merged: Record<string, unknown> = { ...fileCfg };
  for (const layer of [e.config, args.config] as Record<string, unknown>[]) {
    for (const [k, v] of Object.entries(layer)) merged[k] = v;
  }
  return { config: makeConfig(merged as ConfigInput), help: args.help };
}

export const HELP = `tradedesk exchange server

  tradedesk-server [flags]            (the build, server/dist/main.js: npm run build:server)
  npm run server -- [flags]           (builds it, then runs it)
  npm run server:dev -- [flags]       (development, from the source)
  tradedesk-server restore BACKUP_DIR [flags]
                                      puts a backup where a server with these flags finds its files
                                      (refuses to overwrite any); then start the server with them
  tradedesk-server reset-admin USERNAME [flags]
                                      with the server stopped: a temporary password for an admin who
                                      cannot sign in (printed once), their 2FA off, their sessions revoked

  --db FILE              venue database (default ./data/venue.db; users DB and key file beside it)
  --users-db FILE        users, sessions, 2FA and audit log (default <db>.users.db beside the venue database)
  --key-file FILE        the server's secret key (default <db>.server.key beside it; or TRADEDESK_SERVER_KEY)
  --history-db FILE      the venue's history file (default <db>-history beside it; another volume keeps
                         its writes out of the journal's fsync; a new file is filled from the journal)
  --host ADDR            listen address (default 127.0.0.1; use 0.0.0.0 behind a TLS proxy)
  --port N               listen port (default 8787; 0 picks a free one)
  --config FILE.json     settings file (every key of ConfigSchema in server/src/config.ts)
  --origins A,B          extra browser origins allowed (same origin is always allowed)
  --trusted-proxies A,B  reverse proxies (addresses or subnets, e.g. 127.0.0.1,10.0.0.0/8) whose
                         X-Forwarded-For gives the client's address (default none: the header is ignored)
  --proxy-header x-forwarded-for|forwarded   the header those proxies write (default x-forwarded-for;
                         forwarded: RFC 7239's Forwarded, its for= values)
  --sync full|normal     journal durability (default full: fsync every group commit)
  --on-damaged-journal error|truncate   a damaged journal frame: refuse to start (default), or set it
                         and all after it aside and start from the last intact command (logged)
  --on-journal-behind error|proceed   a journal that ends before its history or a snapshot (commands
                         missing): refuse to start (default with --sync full), or start at its end, history
                         re-derived (default with --sync normal: a power cut may take its last commits)
  --commit-window-ms N   wait up to N ms for more commands before a group commit (default 0: commit on
                         the next turn of the event loop; at most 1000)
  --snapshot-every N     venue snapshot after N commands (default 1000000; 0: every 5 min and at shutdown)
  --background-nice N    Linux: nice value of the history, audit and backup writer threads (default 10,
                         below the event loop that acknowledges orders; 0: the same as it)
  --registration closed|open   who may register (default closed: admins create users)
  --open-role trader|viewer    the role of those who register with --registration open (default trader)
  --renderer-dir DIR     web build served at / (default ./dist/renderer)
  --setup-token-file F   also write the first-admin setup token to F (mode 0600)
  --log-level L          debug|info|warn|error|silent (default info)
  --metrics-token T      /metrics answers only "Authorization: Bearer T" (16+ characters; better set
                         TRADEDESK_METRICS_TOKEN, since flags show in the process list)
  --sim [on|off|auto]    simulated liquidity on the venue (default auto: on in development when the
                         database is new or already has the simulated market; off with NODE_ENV=production)
  --sim-speed X          simulated time per wall time (default 1 = real time)
  --sim-seed N           seed of the simulated market (default 1)
  --sim-warmup-days N    sessions of warm-up bars imported on first set-up (default 30)
  --backup-dir DIR       online backups go here (default <db folder>/backups; better another volume)
  --backup-every MIN     make a backup every MIN minutes (default 0: only when an admin asks for one)
  --backups-kept N       keep the N newest backups (default 7)
  --help, -h             this text

Every flag also reads from TRADEDESK_<FLAG> (e.g. TRADEDESK_PORT=9000); flags win over the
environment, which wins over the config file.`;
