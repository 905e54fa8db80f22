/**
 * Exchange server soak: does the server hold up all day? The production build, with the production settings
 * (argon2 at OWASP's cost, the default connection and rate limits), under a steady mixed load with churn,
 * sampled from its own /metrics over the run.
 *
 *   npm run soak:server                          20 minutes (the first 20% is warm-up, left out of the trends)
 *   npm run soak:server -- --minutes 60          longer
 *   npm run soak:server -- --quick               3 minutes
 *   npm run soak:server -- --json                last stdout line is one JSON object
 *   npm run soak:server -- --rate 1000 --traders 16 --guests 32 --sim-speed 60
 *   npm run soak:server -- --no-sim              without the simulated market: the traders' orders alone
 *
 * The load, on one server process (bundled as `npm run build:server` bundles it, started as a firm starts it):
 * - the simulated market on (`--sim on`) at `--sim-speed` (default 60: a 6.5-hour session every 6.5
 *   minutes), so sessions end and begin during the run (day orders expire, client order ids are forgotten),
 *   and its agents' orders add to the traders' (about 4,000 commands/s at speed 60); `--no-sim` leaves it
 *   off, on four instruments of the run's own;
 * - `--traders` trader connections over WebSocket, each subscribed to its orders, executions, account and a
 *   symbol's quotes, placing `--rate` orders/s between them (resting limits near the market, crossing IOCs,
 *   replaces), and cancelling their oldest working order beyond 10, so their books stay bounded; they sell
 *   only shares they hold (the accounts may not sell short), as their account pushes and the sells in
 *   flight tell them; a cancel or replace of an order that traded meanwhile is refused (UNKNOWN_ORDER), as
 *   it would be for a trader;
 * - churn: every 5 s one trader's socket closes and a new one opens with a refreshed token (refresh
 *   rotation); `--guests` guest connections subscribe to quotes, depth and trades and live 5-30 s each;
 * - REST each second: a trader's orders and executions, an order with an Idempotency-Key sent twice, a price
 *   alert created and deleted; every 10 s a full sign-in and sign-out (argon2 at the production cost) and an
 *   admin's audit page;
 * - a venue snapshot every 50,000 commands and a backup every `--backup-every` minutes (default 4).
 *
 * Reported per minute: orders acknowledged and their ack p99 (the generator's; and from the server's histograms
 * its own part of the ack, the journal fsync's and the group commit's p99), the heap's low point (its
 * size after the young generation's collections; the minimum of samples every 2 s), RSS, external memory,
 * open files, threads, event-loop resources, connections, database files, the event loop's worst delay and
 * the history thread's lag; then the trend of each after the warm-up (least squares, per hour), the server's
 * warnings and errors, error answers by code, and a restart on the same files: how long the stop and the
 * recovery took.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { SERVER_NODE_FLAGS, SERVER_OUTFILE, bundleServer } from '../build/server.js';
import { ACK_BUCKETS, LATENCY_BUCKETS, bucketQuantile } from '../server/src/metrics.js';
import { percentileSorted } from './lib/stats.js';
import { formatTable, fmtCount, round } from './lib/table.js';

const args = process.argv.slice(2);
const has = (f: string): boolean => args.includes(f);
const opt = (f: string, d: number): number => {
  const i = args.indexOf(f);
  const v = i >= 0 ? Number(args[i + 1]) : d;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${f} takes a positive number`);
  return v;
};
const quick = has('--quick');
const json = has('--json');
const cfg = {
  minutes: opt('--minutes', quick ? 3 : 20),
  rate: opt('--rate', 1000),
  traders: opt('--traders', 16),
  guests: opt('--guests', 32),
  simSpeed: opt('--sim-speed', 60),
  /** --no-sim: without the simulated market, so the figures (disk per order, threads' load) are the traders' alone. */
  sim: !has('--no-sim'),
  backupEvery: opt('--backup-every', 4),
};
const say = (s: string): void => {
  if (!json) console.log(s);
};

// ================================================================ the server process

interface Server {
  proc: ChildProcess;
  url: string;
  /** The server's log lines at level warn or error. */
  problems: { level: string; msg: string; at: number }[];
  exited: Promise<number | null>;
}

function startServer(dir: string, extra: string[] = []): Promise<Server> {
  const proc = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, SERVER_OUTFILE, '--db', join(dir, 'venue.db'), '--port', '0', '--setup-token-file', join(dir, 'setup-token'), ...(cfg.sim ? ['--sim', 'on', '--sim-speed', String(cfg.simSpeed)] : ['--sim', 'off']), '--snapshot-every', '50000', '--backup-every', String(cfg.backupEvery), ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'development' } },
  );
  children.push(proc);
  const problems: Server['problems'] = [];
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.stderr!.resume(); // the setup token's banner; the token is read from its file
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let m: { level?: string; msg?: string; url?: string };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        return;
      }
      if (m.msg === 'listening' && url === undefined) {
        url = m.url!;
        resolve({ proc, url, problems, exited });
      }
      if (m.level === 'warn' || m.level === 'error') problems.push({ level: m.level, msg: `${m.msg ?? ''} ${line.length > 300 ? line.slice(0, 300) + '…' : line}`, at: Date.now() });
    });
    void exited.then((code) => {
      if (url === undefined) reject(new Error(`the server exited with ${String(code)} before listening`));
    });
    setTimeout(() => {
      if (url === undefined) reject(new Error('the server did not listen within 120 s'));
    }, 120_000).unref();
  });
}

async function http<T = unknown>(base: string, method: string, path: string, o: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + path, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // (metrics: text)
  }
  return { status: r.status, body: body as T, headers: r.headers };
}

/** A histogram's cumulative bucket counts (then +Inf) from one scrape. */
function buckets(m: Map<string, number>, name: string, bounds: readonly number[]): number[] {
  return [...bounds.map(String), '+Inf'].map((le) => m.get(`${name}_bucket{le="${le}"}`) ?? 0);
}

/** The q-quantile (ms) of what a histogram counted between two scrapes' bucket counts. */
function quantileBetween(a: number[], b: number[], bounds: readonly number[], q: number): number {
  return round(bucketQuantile(bounds, b.map((n, i) => n - (a[i] ?? 0)), q) * 1000, 1);
}

const HISTOGRAMS = {
  ack: ['tradedesk_order_ack_seconds', ACK_BUCKETS],
  fsync: ['tradedesk_journal_fsync_seconds', ACK_BUCKETS],
  commit: ['tradedesk_journal_commit_seconds', LATENCY_BUCKETS],
} as const;
type Counts = Record<keyof typeof HISTOGRAMS, number[]>;
const countsOf = (m: Map<string, number>): Counts => ({
  ack: buckets(m, ...HISTOGRAMS.ack),
  fsync: buckets(m, ...HISTOGRAMS.fsync),
  commit: buckets(m, ...HISTOGRAMS.commit),
});

/** One scrape of /metrics: each series by its full name with labels. */
async function scrape(base: string): Promise<Map<string, number>> {
  const r = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(30_000) });
  const out = new Map<string, number>();
  for (const line of (await r.text()).split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

// ================================================================ the load

/** Error answers by code, and everything else the load noticed. */
const errors = new Map<string, number>();
const count = (code: string): void => void errors.set(code, (errors.get(code) ?? 0) + 1);
/** Codes that say the server failed, not the request. */
const FAILURES = new Set(['INTERNAL', 'UNAVAILABLE', 'TIMEOUT']);

interface Trader {
  username: string;
  password: string;
  access: string;
  refresh: string;
  /** Refreshes begun: a token read before one began may be refused (the refresh rotates it) before the reply. */
  refreshes: number;
  /** Refreshes ended (answered): one begun and not yet ended when a token was read may refuse it too. */
  refreshed: number;
  ws?: WebSocket;
  working: number[];
  nextId: number;
  sent: Map<number, { at: number; kind: 'place' | 'cancel' | 'replace'; sells: number }>;
  symbol: string;
  tick: number;
  lot: number;
  /**
   * Shares of its symbol the trader may still sell: the account's position less what working sells reserve
   * (from its last account push), less the sells sent since whose replies are not in yet. Sells wait for
   * shares, as a trader's would: the accounts may not sell short.
   */
  free: number;
  /** Shares of the sells sent and not yet answered. */
  selling: number;
}

/** The server processes started and the load's timers and sockets, stopped on the way out whatever happens. */
const children: ChildProcess[] = [];
const timers: ReturnType<typeof setInterval>[] = [];
const sockets = new Set<WebSocket>();

let acks: number[] = [];
let acked = 0;
let closing = false;

function connect(base: string, token: string | undefined, onMessage: (m: Record<string, unknown>) => void): Promise<WebSocket> {
  const url = base.replace('http:', 'ws:') + '/ws';
  const ws = new WebSocket(url, ['tradedesk.v1'], { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` }, origin: base, perMessageDeflate: false });
  sockets.add(ws);
  ws.once('close', () => sockets.delete(ws));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (d) => onMessage(JSON.parse(d.toString()) as Record<string, unknown>));
    ws.once('open', () => {
      ws.on('error', () => count('ws error'));
      ws.send(JSON.stringify({ t: 'hello', v: 1, client: 'soak' }));
      resolve(ws);
    });
  });
}

/** The latest mid (or last) price per symbol, from the traders' quote subscriptions. */
const mids = new Map<string, number>();

async function openTrader(base: string, t: Trader): Promise<void> {
  const ws = await connect(base, t.access, (m) => {
    if (m.t === 'res') {
      const s = t.sent.get(m.id as number);
      if (s === undefined) return;
      t.sent.delete(m.id as number);
      t.selling -= s.sells;
      acks.push(performance.now() - s.at);
      acked++;
      if (m.ok === true) {
        const r = m.result as { orderId?: number; status?: string } | undefined;
        if (s.kind === 'place' && r?.status === 'working' && r.orderId !== undefined) t.working.push(r.orderId);
      } else {
        const code = (m.error as { code: string }).code;
        count(`ws ${s.kind} ${code}`);
      }
    } else if (m.t === 'push') {
      const d = m.data as
        | { symbol?: string; bid?: number | null; ask?: number | null; last?: number | null; orderId?: number; status?: string; positions?: { symbol: string; qty: number; reservedQty: number }[] }
        | undefined;
      if (d?.positions !== undefined) {
        const p = d.positions.find((x) => x.symbol === t.symbol);
        t.free = (p === undefined ? 0 : Math.max(0, p.qty - p.reservedQty)) - t.selling;
        return;
      }
      if (d?.orderId !== undefined && (d.status === 'filled' || d.status === 'canceled' || d.status === 'rejected')) {
        const i = t.working.indexOf(d.orderId);
        if (i >= 0) t.working.splice(i, 1);
        return;
      }
      if (d?.symbol !== undefined && ('bid' in d || 'last' in d)) {
        const mid = d.bid != null && d.ask != null ? Math.round((d.bid + d.ask) / 2) : (d.last ?? undefined);
        if (mid !== undefined && mid !== null) mids.set(d.symbol, mid);
      }
    } else if (m.t === 'end') count(`ws end ${(m.error as { code: string }).code}`);
    else if (m.t === 'error') count(`ws error ${(m.error as { code: string }).code}`);
  });
  t.ws = ws;
  t.sent.clear();
  t.selling = 0;
  let sub = 1;
  for (const channel of ['orders', 'executions', 'account']) ws.send(JSON.stringify({ t: 'sub', id: 1_000_000 + sub++, channel }));
  ws.send(JSON.stringify({ t: 'sub', id: 1_000_000 + sub++, channel: 'quotes', params: { symbols: [t.symbol] } }));
  ws.once('close', (code) => {
    if (!closing && t.ws === ws) count(`trader socket closed ${code}`);
  });
}

function traderStep(t: Trader, n: number): void {
  const ws = t.ws;
  if (ws === undefined || ws.readyState !== WebSocket.OPEN) return;
  const quoted = mids.get(t.symbol);
  if (quoted === undefined) return;
  // prices on the instrument's tick, quantities in its lots
  const tk = t.tick;
  const mid = Math.round(quoted / tk) * tk;
  for (let k = 0; k < n; k++) {
    const id = t.nextId++;
    const r = id % 10;
    let msg: Record<string, unknown>;
    let kind: 'place' | 'cancel' | 'replace' = 'place';
    let sells = 0;
    if (t.working.length > 10) {
      kind = 'cancel';
      msg = { orderId: t.working.shift() };
    } else if (r === 9 && t.working.length > 0) {
      kind = 'replace';
      msg = { orderId: t.working[t.working.length - 1], price: mid - tk * (2 + (id % 5)) };
    } else {
      const qty = r < 6 ? t.lot * (1 + (id % 5)) : t.lot;
      const buy = id % 2 === 0 || t.free < qty;
      if (!buy) {
        sells = qty;
        t.free -= qty;
        t.selling += qty;
      }
      const side = buy ? 'buy' : 'sell';
      if (r < 6) msg = { symbol: t.symbol, side, orderType: 'limit', qty, price: buy ? mid - tk * (1 + (id % 8)) : mid + tk * (1 + (id % 8)), tif: 'day' };
      else msg = { symbol: t.symbol, side, orderType: 'limit', qty, price: buy ? mid + 5 * tk : mid - 5 * tk, tif: 'ioc' };
    }
    t.sent.set(id, { at: performance.now(), kind, sells });
    ws.send(JSON.stringify({ t: 'req', id, method: kind === 'place' ? 'order.place' : kind === 'cancel' ? 'order.cancel' : 'order.replace', params: msg }));
  }
}

async function guest(base: string, symbols: string[], i: number): Promise<void> {
  while (!closing) {
    const sym = symbols[i++ % symbols.length]!;
    let ws: WebSocket | undefined;
    try {
      ws = await connect(base, undefined, (m) => {
        if (m.t === 'end') count(`guest end ${(m.error as { code: string }).code}`);
      });
      ws.send(JSON.stringify({ t: 'sub', id: 1, channel: 'quotes', params: { symbols } }));
      ws.send(JSON.stringify({ t: 'sub', id: 2, channel: 'depth', params: { symbol: sym } }));
      ws.send(JSON.stringify({ t: 'sub', id: 3, channel: 'trades', params: { symbol: sym } }));
    } catch {
      count('guest connect failed');
    }
    await sleep(5_000 + ((i * 7919) % 25_000));
    ws?.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ================================================================ trends

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

interface Minute {
  minute: number;
  orders: number;
  ackP99Ms: number;
  /**
   * From the server's histograms over the minute: its own part of an order's ack (submit to durable ack,
   * without the WebSocket and the generator), the journal fsyncs the acks wait for, and the group commits'
   * time on the event loop (p99, ms; interpolated within buckets).
   */
  serverAckP99Ms: number;
  fsyncP99Ms: number;
  commitP99Ms: number;
  heapLowMb: number;
  /** The event loop's heap as V8 holds it (its pages, used or not): the largest sample. */
  heapTotalMb: number;
  rssMb: number;
  externalMb: number;
  fds: number;
  threads: number;
  resources: number;
  wsConnections: number;
  venueMb: number;
  historyMb: number;
  usersMb: number;
  loopMaxMs: number;
  historyLagMax: number;
  /** Share of a core each thread was busy over the minute (%): the event loop, the history writer. */
  eventLoopPct: number;
  historyWriterPct: number;
  /** Backups and venue snapshots made during the minute (both slow acknowledgements while they run). */
  backups: number;
  snapshots: number;
}

// ================================================================ the run

async function main(): Promise<void> {
  say(`building the server (${SERVER_OUTFILE})...`);
  await bundleServer(SERVER_OUTFILE, { quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'td-soak-'));
  try {
    const server = await startServer(dir);
    const base = server.url;
    say(`server at ${base}, files in ${dir}; ${cfg.minutes} min, ${cfg.rate} orders/s from ${cfg.traders} traders, ${cfg.guests} guests, ${cfg.sim ? `sim speed ${cfg.simSpeed}` : 'no simulated market'}`);
    // the first admin, through the one-time token
    const tokenFile = join(dir, 'setup-token');
    const readToken = (): string => (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '');
    for (let i = 0; i < 100 && readToken() === ''; i++) await sleep(50);
    const setupToken = readToken();
    const adminPw = 'soak admin passphrase';
    const setup = await http<{ accessToken: string }>(base, 'POST', '/api/v1/auth/setup', { body: { setupToken, username: 'admin', password: adminPw } });
    if (setup.status !== 200 && setup.status !== 201) throw new Error(`setup: ${setup.status} ${JSON.stringify(setup.body)}`);
    let admin = setup.body.accessToken;
    if (!cfg.sim)
      for (let i = 0; i < 4; i++)
        await http(base, 'POST', '/api/v1/rpc/admin.instrument.create', { token: admin, body: { symbol: `SOAK${i}`, name: `Soak ${i}`, tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 1000 } });
    const listed = (await http<{ symbol: string; tickSize: number; lotSize: number }[]>(base, 'GET', '/api/v1/rpc/instruments.list')).body;
    const instruments = listed.map((i) => i.symbol);
    // the traders: created with a temporary password, changed at first sign-in, funded
    const traders: Trader[] = [];
    for (let i = 0; i < cfg.traders; i++) {
      const username = `soak${i}`;
      const temp = `temporary passphrase ${i}`;
      const password = `soak passphrase ${i} of mine`;
      const u = await http<{ accountId: number }>(base, 'POST', '/api/v1/admin/users', { token: admin, body: { username, password: temp, role: 'trader' } });
      await http(base, 'POST', '/api/v1/rpc/admin.account.fund', { token: admin, body: { accountId: u.body.accountId, amount: 10_000_000_000 } });
      const first = await http<{ accessToken: string }>(base, 'POST', '/api/v1/auth/login', { body: { username, password: temp } });
      await http(base, 'POST', '/api/v1/auth/password', { token: first.body.accessToken, body: { currentPassword: temp, newPassword: password } });
      const s = await http<{ accessToken: string; refreshToken: string }>(base, 'POST', '/api/v1/auth/login', { body: { username, password } });
      traders.push({ username, password, access: s.body.accessToken, refresh: s.body.refreshToken, refreshes: 0, refreshed: 0, working: [], nextId: 1, sent: new Map(), symbol: listed[i % listed.length]!.symbol, tick: listed[i % listed.length]!.tickSize, lot: listed[i % listed.length]!.lotSize, free: 0, selling: 0 });
    }
    for (const t of traders) await openTrader(base, t);
    for (const t of traders) mids.set(t.symbol, mids.get(t.symbol) ?? (await http<{ last: number | null; previousClose: number }>(base, 'GET', `/api/v1/rpc/quote.get?symbol=${t.symbol}`)).body.previousClose);

    const started = performance.now();
    const endAt = started + cfg.minutes * 60_000;
    // orders: every 20 ms, each trader its share of the rate (carried over in fractions)
    let owed = 0;
    let turn = 0;
    timers.push(
      setInterval(() => {
        owed += (cfg.rate * 20) / 1000;
        const n = Math.floor(owed);
        owed -= n;
        for (let k = 0; k < n; k++) traderStep(traders[turn++ % traders.length]!, 1);
      }, 20),
    );
    // reconnects, with a refreshed token (the old refresh token is spent)
    let rc = 0;
    timers.push(
      setInterval(() => {
        const t = traders[rc++ % traders.length]!;
        void (async () => {
          t.refreshes++;
          const r = await http<{ accessToken: string; refreshToken: string; code?: string }>(base, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: t.refresh } }).finally(
            () => t.refreshed++,
          );
          if (r.status !== 200) return count(`refresh ${r.status} ${r.body.code ?? ''}`);
          t.access = r.body.accessToken;
          t.refresh = r.body.refreshToken;
          const old = t.ws;
          t.ws = undefined;
          old?.close();
          t.working = [];
          await openTrader(base, t).catch(() => count('trader reconnect failed'));
        })();
      }, 5_000),
    );
    // guests
    const guests = Array.from({ length: cfg.guests }, (_, i) => guest(base, instruments, i));
    // REST each second, sign-ins and the audit every 10 s
    let tick = 0;
    let key = 0;
    const rest = async (): Promise<void> => {
      const t = traders[tick % traders.length]!;
      const token = t.access;
      const refreshes = t.refreshes;
      // a refresh begun before this round and still unanswered rotates the token during it
      const pending = t.refreshed !== t.refreshes;
      const check = (what: string, r: { status: number; body: unknown }): void => {
        // (a reconnect's refresh may have rotated the session's tokens meanwhile: that 401 is expected)
        if (r.status === 401 && (pending || t.refreshes !== refreshes)) return;
        if (r.status >= 300) count(`rest ${what} ${r.status} ${(r.body as { code?: string } | undefined)?.code ?? ''}`);
      };
      check('orders.list', await http(base, 'GET', '/api/v1/rpc/orders.list?limit=50', { token }));
      check('executions.list', await http(base, 'GET', '/api/v1/rpc/executions.list', { token }));
      const mid = Math.round(mids.get(t.symbol)! / t.tick) * t.tick;
      const body = { symbol: t.symbol, side: 'buy', orderType: 'limit', qty: t.lot, price: mid - 20 * t.tick, tif: 'ioc' };
      const headers = { 'Idempotency-Key': `soak-${++key}` };
      const a = await http(base, 'POST', '/api/v1/rpc/order.place', { token, body, headers });
      check('order.place', a);
      const b = await http(base, 'POST', '/api/v1/rpc/order.place', { token, body, headers });
      if (a.status === 200 && b.status !== 401 && (b.headers.get('idempotent-replayed') !== 'true' || JSON.stringify(a.body) !== JSON.stringify(b.body))) count('idempotent replay differs');
      const al = await http<{ id: number }>(base, 'POST', '/api/v1/rpc/alerts.create', { token, body: { symbol: t.symbol, direction: 'above', price: mid * 2 } });
      check('alerts.create', al);
      if (al.status === 200) check('alerts.delete', await http(base, 'POST', '/api/v1/rpc/alerts.delete', { token, body: { id: al.body.id } }));
      if (tick % 10 === 0) {
        const s = await http<{ accessToken: string }>(base, 'POST', '/api/v1/auth/login', { body: { username: t.username, password: t.password } });
        check('login', s);
        if (s.status === 200) check('logout', await http(base, 'POST', '/api/v1/auth/logout', { token: s.body.accessToken }));
        let page = await http(base, 'GET', '/api/v1/admin/audit?limit=200', { token: admin });
        if (page.status === 401) {
          admin = (await http<{ accessToken: string }>(base, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: adminPw } })).body.accessToken;
          page = await http(base, 'GET', '/api/v1/admin/audit?limit=200', { token: admin });
        }
        check('audit', page);
      }
      tick++;
    };
    let restBusy = false;
    timers.push(
      setInterval(() => {
        if (restBusy) return count('rest second overran');
        restBusy = true;
        rest()
          .catch((e: Error) => count(`rest threw ${e.message}`))
          .finally(() => (restBusy = false));
      }, 1_000),
    );

    // samples every 2 s, a row per minute
    const minutes: Minute[] = [];
    let cur: Minute | undefined;
    let prevAcked = 0;
    let prevBackups = 0;
    let prevSnapshots = 0;
    const busyOf = (m: Map<string, number>, thread: string): number => m.get(`tradedesk_thread_busy_seconds_total{thread="${thread}"}`) ?? NaN;
    let minuteStart = { at: performance.now(), loop: NaN, writer: NaN, counts: countsOf(new Map()) };
    while (performance.now() < endAt) {
      await sleep(2_000);
      const m = await scrape(base);
      const minute = Math.floor((performance.now() - started) / 60_000) + 1;
      if (cur === undefined || cur.minute !== minute) {
        if (cur !== undefined) {
          const sorted = Float64Array.from(acks).sort();
          cur.ackP99Ms = round(percentileSorted(sorted, 0.99), 1);
          cur.orders = acked - prevAcked;
          prevAcked = acked;
          acks = [];
          const sec = (performance.now() - minuteStart.at) / 1000;
          cur.eventLoopPct = Math.round(((busyOf(m, 'event_loop') - minuteStart.loop) / sec) * 100);
          cur.historyWriterPct = Math.round(((busyOf(m, 'history_writer') - minuteStart.writer) / sec) * 100);
          const counts = countsOf(m);
          cur.serverAckP99Ms = quantileBetween(minuteStart.counts.ack, counts.ack, ACK_BUCKETS, 0.99);
          cur.fsyncP99Ms = quantileBetween(minuteStart.counts.fsync, counts.fsync, ACK_BUCKETS, 0.99);
          cur.commitP99Ms = quantileBetween(minuteStart.counts.commit, counts.commit, LATENCY_BUCKETS, 0.99);
          cur.backups -= prevBackups;
          cur.snapshots -= prevSnapshots;
          prevBackups += cur.backups;
          prevSnapshots += cur.snapshots;
          minutes.push(cur);
          say(`  minute ${cur.minute}: ${fmtCount(cur.orders)} acks, p99 ${cur.ackP99Ms} ms (server ${cur.serverAckP99Ms}, fsync ${cur.fsyncP99Ms}), heap ${cur.heapLowMb} MB, RSS ${cur.rssMb} MB, fds ${cur.fds}, conns ${cur.wsConnections}`);
        }
        minuteStart = { at: performance.now(), loop: busyOf(m, 'event_loop'), writer: busyOf(m, 'history_writer'), counts: countsOf(m) };
        cur = { minute, orders: 0, ackP99Ms: 0, serverAckP99Ms: NaN, fsyncP99Ms: NaN, commitP99Ms: NaN, heapLowMb: Infinity, heapTotalMb: 0, rssMb: 0, externalMb: 0, fds: 0, threads: 0, resources: 0, wsConnections: 0, venueMb: 0, historyMb: 0, usersMb: 0, loopMaxMs: 0, historyLagMax: 0, eventLoopPct: NaN, historyWriterPct: NaN, backups: 0, snapshots: 0 };
      }
      const mb = (x: number | undefined): number => round((x ?? NaN) / 2 ** 20, 1);
      const file = (f: string): number => [...m.entries()].find(([k]) => k.startsWith(`tradedesk_db_file_bytes{file="${f}"`))?.[1] ?? NaN;
      cur.heapLowMb = Math.min(cur.heapLowMb, mb(m.get('nodejs_heap_size_used_bytes')));
      cur.heapTotalMb = Math.max(cur.heapTotalMb, mb(m.get('nodejs_heap_size_total_bytes')));
      cur.rssMb = Math.max(cur.rssMb, mb(m.get('process_resident_memory_bytes')));
      cur.externalMb = Math.max(cur.externalMb, mb(m.get('nodejs_external_memory_bytes')));
      cur.fds = Math.max(cur.fds, m.get('process_open_fds') ?? NaN);
      cur.threads = Math.max(cur.threads, m.get('process_threads') ?? NaN);
      cur.resources = Math.max(cur.resources, m.get('nodejs_active_resources') ?? NaN);
      cur.wsConnections = Math.max(cur.wsConnections, m.get('tradedesk_ws_connections') ?? NaN);
      cur.venueMb = mb(file('venue'));
      cur.historyMb = mb(file('history'));
      cur.usersMb = mb(file('users'));
      cur.loopMaxMs = Math.max(cur.loopMaxMs, round((m.get('tradedesk_event_loop_delay_max_seconds') ?? NaN) * 1000, 1));
      cur.historyLagMax = Math.max(cur.historyLagMax, m.get('tradedesk_history_lag_commands') ?? NaN);
      // (totals so far; the minute's own are taken when it ends)
      cur.backups = (m.get('tradedesk_backups_total{result="ok"}') ?? 0) + (m.get('tradedesk_backups_total{result="failed"}') ?? 0);
      cur.snapshots = m.get('tradedesk_snapshot_seconds_count') ?? 0;
    }
    // the load stops; the server is stopped as an operator does (SIGTERM), then started again on its files
    closing = true;
    for (const t of timers) clearInterval(t);
    const last = await scrape(base);
    for (const t of traders) t.ws?.close();
    await Promise.race([Promise.all(guests), sleep(35_000)]);
    const lastSeq = last.get('tradedesk_journal_last_seq') ?? NaN;
    const t0 = performance.now();
    server.proc.kill('SIGTERM');
    const exitCode = await server.exited;
    const stopMs = performance.now() - t0;
    const t1 = performance.now();
    const again = await startServer(dir);
    const restartMs = performance.now() - t1;
    const health = (await http<{ venue: { lastSeq: number } }>(again.url, 'GET', '/health')).body;
    again.proc.kill('SIGTERM');
    await again.exited;

    // trends after the warm-up (the first 20% of the minutes, at least one)
    const steady = minutes.slice(Math.max(1, Math.floor(minutes.length * 0.2)));
    const xs = steady.map((r) => r.minute / 60);
    const perHour = (f: (r: Minute) => number): number => round(slope(xs, steady.map(f)), 1);
    const trend = {
      heapLowMbPerHour: perHour((r) => r.heapLowMb),
      heapTotalMbPerHour: perHour((r) => r.heapTotalMb),
      rssMbPerHour: perHour((r) => r.rssMb),
      externalMbPerHour: perHour((r) => r.externalMb),
      fdsPerHour: perHour((r) => r.fds),
      threadsPerHour: perHour((r) => r.threads),
      resourcesPerHour: perHour((r) => r.resources),
      venueMbPerHour: perHour((r) => r.venueMb),
      historyMbPerHour: perHour((r) => r.historyMb),
      usersMbPerHour: perHour((r) => r.usersMb),
      minutesUsed: steady.length,
    };
    const failures = [...errors.entries()].filter(([k]) => [...FAILURES].some((f) => k.includes(f))).reduce((n, [, v]) => n + v, 0);
    const result = {
      config: cfg,
      minutes,
      trend,
      ordersAcked: acked,
      serverProblems: server.problems.length,
      serverProblemSamples: server.problems.slice(0, 10).map((p) => `${p.level}: ${p.msg}`),
      errorsByCode: Object.fromEntries([...errors.entries()].sort((a, b) => b[1] - a[1])),
      serverFailures: failures,
      stop: { exitCode, ms: Math.round(stopMs) },
      restart: { ms: Math.round(restartMs), lastSeqSeenBeforeStop: lastSeq, lastSeqAfter: health.venue.lastSeq, nothingLost: health.venue.lastSeq >= lastSeq, problems: again.problems.map((p) => `${p.level}: ${p.msg}`) },
    };
    if (json) {
      console.log(JSON.stringify(result));
      return;
    }
    console.log('');
    console.log(
      formatTable(
        ['min', 'acks', 'ack p99 ms', 'server ack p99', 'fsync p99', 'commit p99', 'backups', 'snapshots', 'heap low MB', 'heap total MB', 'RSS MB', 'external MB', 'fds', 'threads', 'resources', 'sockets', 'venue MB', 'history MB', 'users MB', 'loop max ms', 'history lag', 'loop busy %', 'writer busy %'],
        minutes.map((r) => [r.minute, fmtCount(r.orders), r.ackP99Ms, r.serverAckP99Ms, r.fsyncP99Ms, r.commitP99Ms, r.backups, r.snapshots, r.heapLowMb, r.heapTotalMb, r.rssMb, r.externalMb, r.fds, r.threads, r.resources, r.wsConnections, r.venueMb, r.historyMb, r.usersMb, r.loopMaxMs, r.historyLagMax, r.eventLoopPct, r.historyWriterPct].map(String)),
      ),
    );
    console.log(`\ntrend over minutes ${steady[0]?.minute ?? '-'}-${steady[steady.length - 1]?.minute ?? '-'} (per hour): heap ${trend.heapLowMbPerHour} MB (its total ${trend.heapTotalMbPerHour} MB), RSS ${trend.rssMbPerHour} MB, external ${trend.externalMbPerHour} MB, fds ${trend.fdsPerHour}, threads ${trend.threadsPerHour}, resources ${trend.resourcesPerHour}; files: venue ${trend.venueMbPerHour} MB, history ${trend.historyMbPerHour} MB, users ${trend.usersMbPerHour} MB`);
    console.log(`orders acknowledged: ${fmtCount(acked)}; answers with an error, by code: ${JSON.stringify(result.errorsByCode)}`);
    console.log(`server warnings and errors: ${server.problems.length}${server.problems.length > 0 ? '\n  ' + result.serverProblemSamples.join('\n  ') : ''}`);
    console.log(`stop (SIGTERM): exit ${String(exitCode)} after ${result.stop.ms} ms; restart on the same files: listening after ${result.restart.ms} ms at seq ${health.venue.lastSeq} (the last seen before the stop: ${lastSeq}${cfg.sim ? '; the simulated market trades on until the stop' : ''})`);
  } finally {
    // on an error too: the load stops and no server is left running on the files removed
    closing = true;
    for (const t of timers) clearInterval(t);
    for (const ws of sockets) ws.terminate();
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
