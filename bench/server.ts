/**
 * Exchange server benchmark: real WebSocket clients against the real server (HTTP upgrade, auth, protocol
 * session, venue with its durable journal) over loopback.
 *
 *   npm run bench:server                 full run (about a minute)
 *   npm run bench:server -- --quick      smaller run (well under 60 s)
 *   npm run bench:server -- --json       last stdout line is one JSON object
 *   npm run bench:server -- --sync normal   journal synchronous=NORMAL instead of FULL
 *   npm run bench:server -- --only orders   one phase only (orders, latency, rates, snapshot, quotes or connections; repeatable)
 *   npm run bench:server -- --rates 10000,30000   the offered rates of the open-loop phase (orders/s)
 *   npm run bench:server -- --rate-sec 10   seconds per offered rate (default 3, 2 with --quick)
 *   npm run bench:server -- --book 200000 --snap-rate 10000   the snapshot phase's resting book and offered rate
 *   npm run bench:server -- --queries 100   the open-loop phase's clients also read their orders (orders.list)
 *   npm run bench:server -- --queries 50 --query-limit 500   ...pages of up to 500 orders instead of 20
 *   npm run bench:server -- --background-nice 0   the server's background threads at that nice value (default: the server's, 10)
 *   npm run bench:server -- --history-dir /dev/shm   the history file and the users database there (the
 *                                        server's --history-db and --users-db), the journal where it was
 *   BENCH_TSX=1 npm run bench:server     the server process through tsx instead of bundled (for comparison)
 *
 * Method
 * - The server runs in a child process (this file with --child, bundled as `npm run build:server` bundles the
 *   server, so it runs the code a firm runs rather than tsx's development build) with the README's Node flags: buildServer() on
 *   a temp database with the production configuration except argon2 cost (sign-in is not what is measured) and raised per-IP /
 *   per-connection limits (every client comes from 127.0.0.1). The load generator is this parent process;
 *   both share the machine's 2 cores, so every figure includes the generator's own cost.
 * - Orders: N trader connections, each keeping W order.place requests in flight (pipelined, one JSON text
 *   frame each; the orders a client sends in reply to one read of acknowledgements leave in one TCP write,
 *   as a client that batches its writes would send them: one write per order cost the generator half a
 *   core at 40k orders/s, taken from the server on this 2-core machine). A reply is sent by the server only after the venue's group commit returned (journal
 *   fsynced with --sync full), so every acknowledgement counted is durable. ackMs = reply time - send time.
 *   Orders alternate resting limits and crossing IOCs around one price, so trades, fills and book changes
 *   happen as in a market. This saturated run measures throughput; its ack times are queueing (by Little's
 *   law, clients x window in flight at R orders/s wait clients x window / R on average). Each order run also
 *   reports the server's group commits over the timed window, from its /metrics: how many per second, their
 *   commands, their time on the event loop, and the journal fsync the acknowledgements wait for (its time
 *   until the event loop saw it return: the disk, plus waiting for a core); and the server's own part of
 *   the ack, serverAckP50Ms / serverAckP99Ms: from the order's submit to its durable acknowledgement, read
 *   from its tradedesk_order_ack_seconds histogram over the window (linear within buckets 1 ms apart up to
 *   10 ms). The rest of ackMs is the WebSocket, loopback, and both event loops waiting for a core.
 * - Latency: the same order flow at a moderate window (default 32 clients x 4 in flight, --lat-window), so
 *   the ack times are those of a server that is not saturated; reported as latencyRun.
 * - Rates (open loop), on a server process of its own: the same order flow sent at fixed offered rates
 *   (default 10k to 50k orders/s, 3 s each after 1 s of warm-up, 3 s before the first) whatever the
 *   server's pace, each ack timed from the moment its order was due, so a server or generator that falls
 *   behind is charged the whole delay; a closed loop instead lets clients wait out a stall without counting
 *   it. Reported as rateSteps (with how late the generator sent, sendLag, and the CPU of both processes
 *   over the timed window: user + system, system alone, and on Linux the server's main thread, which shows
 *   whether the event loop or the machine ran out; and the busy share of a core of the server's history
 *   and audit writer threads), maxRateWithAckP99Under10Ms, and
 *   maxRateWithServerAckP99Under10Ms (the same for the server's own part of the ack). With --queries Q, the
 *   clients also send Q orders.list requests a second between them (a blotter's latest orders, read from the
 *   history), whose replies are timed apart from the acks (queryP50Ms, queryP99Ms): what reading the history costs the order flow, and how long a blotter waits for it.
 * - Snapshot under load, on a server of its own: a resting book of --book orders (default 200,000; far from
 *   where the flow trades, so it only makes the state large), then the open-loop flow at --snap-rate for two
 *   steps; in the middle of the second the venue takes a snapshot, as it does every --snapshot-every
 *   commands. Reported as snapshotUnderLoad: both steps' ack times, the snapshot() call, and the time until
 *   its last part was handed to the history thread.
 * - Quotes: M guest connections subscribe to the quotes of S symbols; a market maker inside the server
 *   process makes every symbol trade every 20 ms, so every symbol's quote changes in every coalescing
 *   interval (50 ms). The subscribers are raw sockets that count WebSocket frames by their headers (no JSON
 *   parsing, so the generator stays cheap); a few full clients, on a thread of their own so that the
 *   subscribers' backlog is not theirs, parse every push and measure
 *   quoteLatencyMs = receive time - quote.ts (the venue's time stamp of the last trade), which includes the
 *   coalescing interval by design.
 * - Connections: C idle guest connections (handshake + hello + welcome) are opened; bytesPerConnection is the
 *   server process's RSS growth (and separately its V8 heap + external growth) divided by C, after GC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { getGc, fullGc } from './lib/gc.js';
import { percentileSorted } from './lib/stats.js';
import { ACK_BUCKETS, bucketQuantile } from '../server/src/metrics.js';
import { formatTable, fmtCount, round } from './lib/table.js';

const args = process.argv.slice(2);
const has = (f: string): boolean => args.includes(f);
const opt = (f: string, d: string): string => {
  const i = args.indexOf(f);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : d;
};

interface ChildInit {
  dir: string;
  /** Where the history file and the users database go (--history-dir), instead of beside the venue database. */
  sideDir?: string;
  /** The server's --background-nice (its default when absent). */
  backgroundNice?: number;
  sync: 'full' | 'normal';
  traders: number;
  symbols: number;
}
type ChildMsg =
  | { t: 'ready'; port: number; tokens: string[] }
  | { t: 'mem'; rss: number; heap: number; external: number; id: number }
  | { t: 'mm'; on: boolean; id: number }
  | { t: 'book'; n: number; live: number; id: number }
  | { t: 'snap'; callMs: number; doneMs: number; id: number }
  | { t: 'cpu'; user: number; system: number; mainMs: number | null; hubFrames: number; hubTicks: number; gcMs: number; gcMaxMs: number; journal: JournalTotals; id: number };

/** The server's group commits and journal fsyncs so far, from its /metrics histograms. */
interface JournalTotals {
  commits: number;
  commands: number;
  commitSec: number;
  fsyncs: number;
  fsyncSec: number;
  fsyncsOver5Ms: number;
  /** Times sequencing waited for the history thread (over 100,000 commands behind), and how long in all. */
  historyWaits: number;
  historyWaitSec: number;
  /** Busy time (s) of the server's own worker threads: the history writer and the audit log's writer. */
  historyWriterSec: number;
  auditWriterSec: number;
  /** tradedesk_order_ack_seconds, cumulative counts per bucket (ACK_BUCKETS, then +Inf): the server's own part of an ack. */
  ackCumulative: number[];
}

function journalTotals(metrics: string): JournalTotals {
  const v = (sample: string): number => {
    const i = metrics.indexOf(`\n${sample} `);
    return i < 0 ? NaN : Number(metrics.slice(i + sample.length + 2, metrics.indexOf('\n', i + 1)));
  };
  const fsyncs = v('tradedesk_journal_fsync_seconds_count');
  return {
    commits: v('tradedesk_journal_commit_commands_count'),
    commands: v('tradedesk_journal_commit_commands_sum'),
    commitSec: v('tradedesk_journal_commit_seconds_sum'),
    fsyncs,
    fsyncSec: v('tradedesk_journal_fsync_seconds_sum'),
    fsyncsOver5Ms: fsyncs - v('tradedesk_journal_fsync_seconds_bucket{le="0.005"}'),
    historyWaits: v('tradedesk_history_waits_total'),
    historyWaitSec: v('tradedesk_history_wait_seconds_total'),
    historyWriterSec: v('tradedesk_thread_busy_seconds_total{thread="history_writer"}'),
    auditWriterSec: v('tradedesk_thread_busy_seconds_total{thread="audit_writer"}'),
    ackCumulative: [...ACK_BUCKETS.map(String), '+Inf'].map((le) => v(`tradedesk_order_ack_seconds_bucket{le="${le}"}`)),
  };
}

// ================================================================ child: the server

/** CPU time (ms) of this process's main thread, from /proc (Linux; null elsewhere). */
function mainThreadCpuMs(): number | null {
  try {
    const st = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s (USER_HZ)
  } catch {
    return null;
  }
}

async function child(init: ChildInit): Promise<void> {
  const { buildServer } = await import('../server/src/app.js');
  const app = buildServer({
    db: join(init.dir, 'venue.db'),
    ...(init.sideDir !== undefined ? { historyDb: join(init.sideDir, 'venue.db-history'), usersDb: join(init.sideDir, 'venue.users.db') } : {}),
    logLevel: 'silent',
    sim: 'off', // measured without the simulated market's own order flow
    sync: init.sync,
    ...(init.backgroundNice !== undefined ? { backgroundNice: init.backgroundNice } : {}),
    allowShort: true,
    auth: { argon2: { memoryCost: 256, timeCost: 1, parallelism: 1 } } as never,
    ws: { maxPerIp: 50_000, maxPerUser: 50_000, maxConnections: 50_000, rate: 1_000_000, burst: 1_000_000, highWaterBytes: 1 << 20 } as never,
  });
  const { port } = await app.listen(0, '127.0.0.1');
  const v = app.venue;
  const symbols = Array.from({ length: init.symbols }, (_, i) => `S${String(i).padStart(3, '0')}`);
  await Promise.all(
    symbols.map((symbol) => v.submit({ type: 'CreateInstrument', instrument: { symbol, name: `Bench ${symbol}`, tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 5000 } })),
  );
  const client = { ip: '127.0.0.1', userAgent: 'bench' };
  const tokens: string[] = [];
  for (let i = 0; i < init.traders + 2; i++) {
    const u = await app.auth.createUser({ username: `bench${i}`, password: `bench password ${i} ok`, role: 'trader' }, undefined, client);
    await v.submit({ type: 'Deposit', accountId: u.accountId!, amount: 1_000_000_000_000 });
    tokens.push((await app.auth.login({ username: `bench${i}`, password: `bench password ${i} ok` }, client)).accessToken);
  }
  const mmA = app.store.userByName(`bench${init.traders}`)!.accountId!;
  const mmB = app.store.userByName(`bench${init.traders + 1}`)!.accountId!;
  let mm: ReturnType<typeof setInterval> | undefined;
  let k = 0;
  const gc = getGc();
  // The main thread's GC pauses: their total, and the longest since the previous 'cpu' question.
  let gcMs = 0;
  let gcMaxMs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if (e.duration > gcMaxMs) gcMaxMs = e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (raw) => {
    const m = raw as { t: string; on?: boolean; id: number };
    if (m.t === 'mem') {
      fullGc(gc);
      const u = process.memoryUsage();
      process.send!({ t: 'mem', rss: u.rss, heap: u.heapUsed, external: u.external + u.arrayBuffers, id: m.id } satisfies ChildMsg);
    } else if (m.t === 'cpu') {
      const c = process.cpuUsage();
      const journal = journalTotals(app.metrics.render());
      process.send!({ t: 'cpu', user: c.user, system: c.system, mainMs: mainThreadCpuMs(), hubFrames: app.hub.stats.framesSent, hubTicks: app.hub.stats.ticks, gcMs, gcMaxMs, journal, id: m.id } satisfies ChildMsg);
      gcMaxMs = 0;
    } else if (m.t === 'mm') {
      if (m.on && mm === undefined) {
        // Every 20 ms each symbol trades once (a resting sell and a crossing IOC buy), so every quote changes
        // in every 50 ms coalescing interval.
        mm = setInterval(() => {
          k++;
          const price = 10_000 + (k % 20);
          for (const symbol of symbols) {
            void v.submit({ type: 'PlaceOrder', accountId: mmA, symbol, side: 'sell', orderType: 'limit', qty: 1, price, tif: 'gtc' });
            void v.submit({ type: 'PlaceOrder', accountId: mmB, symbol, side: 'buy', orderType: 'limit', qty: 1, price, tif: 'ioc' });
          }
        }, 20);
      } else if (!m.on && mm !== undefined) {
        clearInterval(mm);
        mm = undefined;
      }
      process.send!({ t: 'mm', on: m.on === true, id: m.id } satisfies ChildMsg);
    } else if (m.t === 'book') {
      // n resting orders far from where the bench trades (buys at 5,001-5,999, sells at 14,001-14,999),
      // so the book is large but the order flow meets none of it
      const n = (m as unknown as { n: number }).n;
      void (async () => {
        for (let i = 0; i < n; i += 1000) {
          await Promise.all(
            Array.from({ length: Math.min(1000, n - i) }, (_, j) => {
              const x = i + j;
              const buy = x % 2 === 0;
              return v.submit({ type: 'PlaceOrder', accountId: x % 4 < 2 ? mmA : mmB, symbol: symbols[x % symbols.length]!, side: buy ? 'buy' : 'sell', orderType: 'limit', qty: 1, price: buy ? 5_001 + (x % 999) : 14_001 + (x % 999), tif: 'gtc' });
            }),
          );
        }
        // the live orders the venue holds, as the snapshot will see them
        const live = (v as unknown as { engine: { liveOrderCount: number } }).engine.liveOrderCount;
        process.send!({ t: 'book', n, live, id: m.id } satisfies ChildMsg);
      })();
    } else if (m.t === 'snap') {
      // a snapshot as the venue takes one every --snapshot-every commands: the call, then its parts
      const t0 = performance.now();
      v.snapshot();
      const callMs = performance.now() - t0;
      const serializing = (): boolean => (v as unknown as { snapJob?: unknown }).snapJob !== undefined;
      const poll = (): void => {
        if (serializing()) setTimeout(poll, 1);
        else process.send!({ t: 'snap', callMs, doneMs: performance.now() - t0, id: m.id } satisfies ChildMsg);
      };
      poll();
    } else if (m.t === 'stop') {
      if (mm !== undefined) clearInterval(mm);
      void app.close().then(() => process.exit(0));
    }
  });
  process.send!({ t: 'ready', port, tokens } satisfies ChildMsg);
}

// ================================================================ parent: the load generator

class ChildLink {
  #next = 1;
  readonly #waiting = new Map<number, (m: ChildMsg) => void>();
  constructor(readonly proc: ChildProcess) {
    proc.on('message', (raw) => {
      const m = raw as ChildMsg;
      if ('id' in m) {
        this.#waiting.get(m.id)?.(m);
        this.#waiting.delete(m.id);
      }
    });
  }
  ask<T extends ChildMsg>(msg: Record<string, unknown>): Promise<T> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, (m) => resolve(m as T));
      this.proc.send({ ...msg, id });
    });
  }
}

function wsOpen(url: string, token?: string): Promise<WebSocket> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  // A zero masking key (generateMask leaves it zeroed) lets the generator skip masking its frames; the
  // server unmasks them as it does any client's (a browser's random key costs the server the same).
  const ws = new WebSocket(url, ['tradedesk.v1'], {
    headers,
    perMessageDeflate: false,
    generateMask: () => undefined,
    origin: token === undefined ? url.replace('ws:', 'http:').replace('/ws', '') : undefined,
  } as WebSocket.ClientOptions);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const RES = '{"t":"res","id":';

/**
 * A reply's type, id and outcome. The server writes a response as `{"t":"res","id":N,"ok":...` (see
 * engine/protocol/server.ts), so those are read from that prefix instead of parsing the whole reply (the
 * order record in it): the load generator shares the machine's two cores with the server.
 */
function readReply(s: string): { t: string; id?: number; ok?: boolean } {
  if (s.startsWith(RES)) {
    const comma = s.indexOf(',', RES.length);
    const id = Number(s.slice(RES.length, comma));
    if (comma > 0 && Number.isSafeInteger(id)) return { t: 'res', id, ok: s.startsWith('"ok":true', comma + 1) };
  }
  return JSON.parse(s) as { t: string; id?: number; ok?: boolean };
}

/**
 * Request `id` of client `c`: orders alternate resting limits and crossing IOCs around one price, so trades,
 * fills and book changes happen as in a market.
 */
function orderMessage(id: number, c: number): string {
  const i = id + c * 7;
  const side = i % 2 === 0 ? 'buy' : 'sell';
  const ioc = i % 4 < 2;
  const price = 10_000 + (ioc ? (side === 'buy' ? 3 : -3) : side === 'buy' ? -1 - (i % 3) : 1 + (i % 3));
  return `{"t":"req","id":${id},"method":"order.place","params":{"symbol":"S000","side":"${side}","orderType":"limit","qty":1,"price":${price},"tif":"${ioc ? 'ioc' : 'day'}"}}`;
}

async function benchOrders(link: ChildLink, url: string, tokens: string[], clients: number, window: number, seconds: number) {
  const socks = await Promise.all(tokens.slice(0, clients).map((t) => wsOpen(url, t)));
  let acks = 0;
  let rejects = 0;
  let measuring = false;
  const lat: number[] = [];
  let stop = false;
  const done: Promise<void>[] = [];
  for (let c = 0; c < socks.length; c++) {
    const ws = socks[c]!;
    const sent = new Map<number, number>();
    let id = 0;
    const sock = (ws as unknown as { _socket: Socket })._socket;
    let corked = false;
    const uncork = (): void => {
      corked = false;
      sock.uncork();
    };
    let welcomed!: () => void;
    const ready = new Promise<void>((r) => (welcomed = r));
    let drained!: () => void;
    const finished = new Promise<void>((r) => (drained = r));
    const send = (): void => {
      if (stop) {
        if (sent.size === 0) drained();
        return;
      }
      id++;
      const msg = orderMessage(id, c);
      sent.set(id, performance.now());
      if (!corked) {
        // The orders sent in reply to one batch of acknowledgements leave in one write.
        corked = true;
        sock.cork();
        process.nextTick(uncork);
      }
      ws.send(msg);
    };
    ws.on('message', (d) => {
      const m = readReply(d.toString());
      if (m.t === 'welcome') return welcomed();
      if (m.t !== 'res' || m.id === undefined) return;
      const t0 = sent.get(m.id);
      if (t0 === undefined) return;
      sent.delete(m.id);
      if (measuring) {
        acks++;
        if (!m.ok) rejects++;
        lat.push(performance.now() - t0);
      }
      send();
    });
    ws.send(JSON.stringify({ t: 'hello', v: 1, client: 'bench' }));
    await ready;
    for (let k = 0; k < window; k++) send();
    done.push(finished);
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  measuring = true;
  lat.length = 0;
  const c0 = await link.ask<Extract<ChildMsg, { t: 'cpu' }>>({ t: 'cpu' });
  const g0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const c1 = await link.ask<Extract<ChildMsg, { t: 'cpu' }>>({ t: 'cpu' });
  const g1 = process.cpuUsage(g0);
  stop = true;
  await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 5000))]);
  for (const ws of socks) ws.close();
  const sorted = Float64Array.from(lat).sort();
  return {
    ordersPerSec: Math.round(acks / elapsed),
    ackP50Ms: round(percentileSorted(sorted, 0.5), 3),
    ackP99Ms: round(percentileSorted(sorted, 0.99), 3),
    ackMaxMs: round(sorted[sorted.length - 1] ?? NaN, 3),
    rejectedShare: round(rejects / Math.max(1, acks), 3),
    serverCpuPct: Math.round((c1.user + c1.system - c0.user - c0.system) / 1e4 / elapsed),
    ordersPerServerCpuSec: Math.round(acks / ((c1.user + c1.system - c0.user - c0.system) / 1e6)),
    generatorCpuPct: Math.round((g1.user + g1.system) / 1e4 / elapsed),
    serverGcPct: round((c1.gcMs - c0.gcMs) / 10 / elapsed, 1),
    serverGcMaxMs: round(c1.gcMaxMs, 1),
    ...journalStep(c0.journal, c1.journal, elapsed),
    clients,
    window,
  };
}

/**
 * Open-loop latency: orders are sent at a fixed offered rate whatever the server's pace (spread over the
 * clients, sent every millisecond as they fall due), and each ack's latency is measured from the moment its
 * order was due, so a server (or generator) that falls behind is charged the whole delay (no coordinated
 * omission). One step per rate, the same order flow as the closed-loop runs.
 */
async function benchRates(link: ChildLink, url: string, tokens: string[], clients: number, rates: number[], seconds: number, midStep?: (step: number) => void, queriesPerSec = 0, queryLimit = 20) {
  const socks = await Promise.all(tokens.slice(0, clients).map((t) => wsOpen(url, t)));
  const conns = socks.map((ws, c) => {
    const sock = (ws as unknown as { _socket: Socket })._socket;
    const due = new Map<number, number>();
    // queries asked (id → when)
    const asked = new Map<number, number>();
    return { ws, sock, c, due, asked, id: 0, corked: false };
  });
  let lat: number[] = [];
  let lag: number[] = [];
  let qlat: number[] = [];
  let qfailed = 0;
  let measuring = false;
  let acks = 0;
  await Promise.all(
    conns.map(
      (k) =>
        new Promise<void>((welcomed) => {
          k.ws.on('message', (d) => {
            const m = readReply(d.toString());
            if (m.t === 'welcome') return welcomed();
            if (m.t !== 'res' || m.id === undefined) return;
            const t0 = k.due.get(m.id);
            if (t0 === undefined) {
              const q0 = k.asked.get(m.id);
              if (q0 === undefined) return;
              k.asked.delete(m.id);
              if (m.ok !== true) qfailed++;
              if (measuring) qlat.push(performance.now() - q0);
              return;
            }
            k.due.delete(m.id);
            if (measuring) {
              acks++;
              lat.push(performance.now() - t0);
            }
          });
          k.ws.send(JSON.stringify({ t: 'hello', v: 1, client: 'bench' }));
        }),
    ),
  );
  const cork = (k: (typeof conns)[number]): void => {
    if (!k.corked) {
      k.corked = true;
      k.sock.cork();
      process.nextTick(() => {
        k.corked = false;
        k.sock.uncork();
      });
    }
  };
  const sendOne = (k: (typeof conns)[number], dueAt: number): void => {
    const id = ++k.id;
    k.due.set(id, dueAt);
    if (measuring) lag.push(performance.now() - dueAt);
    cork(k);
    k.ws.send(orderMessage(id, k.c));
  };
  // A trader's blotter: the account's latest orders from the history (its reply timed apart from the acks)
  const sendQuery = (k: (typeof conns)[number]): void => {
    const id = ++k.id;
    k.asked.set(id, performance.now());
    cork(k);
    k.ws.send(`{"t":"req","id":${id},"method":"orders.list","params":{"limit":${queryLimit}}}`);
  };
  const steps = [];
  for (const [i, rate] of rates.entries()) {
    // the first step also warms up a fresh server (its JIT, and the GC of what setting it up left behind)
    const warm = i === 0 ? 3000 : 1000;
    const start = performance.now();
    let sent = 0;
    let next = 0;
    let queried = 0;
    // CPU of both processes over the timed window (from the end of the warm-up to the last order due)
    let c0: Promise<Extract<ChildMsg, { t: 'cpu' }>> | undefined;
    let g0 = process.cpuUsage();
    let cpuEnd: Promise<[Extract<ChildMsg, { t: 'cpu' }>, NodeJS.CpuUsage, number]> | undefined;
    const end = start + warm + seconds * 1000;
    let midDone = false;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        if (!measuring && now >= start + warm) {
          measuring = true;
          c0 = link.ask<Extract<ChildMsg, { t: 'cpu' }>>({ t: 'cpu' });
          g0 = process.cpuUsage();
          lat = [];
          lag = [];
          qlat = [];
          qfailed = 0;
          acks = 0;
        }
        if (midStep !== undefined && !midDone && now >= start + warm + seconds * 500) {
          midDone = true;
          midStep(steps.length);
        }
        const due = Math.floor(((Math.min(now, end) - start) * rate) / 1000);
        for (; sent < due; sent++) {
          sendOne(conns[next]!, start + (sent * 1000) / rate);
          next = (next + 1) % conns.length;
        }
        for (const q = Math.floor(((Math.min(now, end) - start) * queriesPerSec) / 1000); queried < q; queried++) sendQuery(conns[queried % conns.length]!);
        if (now >= end) {
          clearInterval(timer);
          cpuEnd = link.ask<Extract<ChildMsg, { t: 'cpu' }>>({ t: 'cpu' }).then((c) => [c, process.cpuUsage(g0), performance.now()]);
          resolve();
        }
      }, 1);
    });
    // Everything sent in the window is waited for (up to 5 s), so late acks count at their full latency.
    const drainBy = performance.now() + 5000;
    while (conns.some((k) => k.due.size > 0 || k.asked.size > 0) && performance.now() < drainBy) await new Promise((r) => setTimeout(r, 10));
    measuring = false;
    const [c1, g1, t1] = await cpuEnd!;
    const s0 = await c0!;
    const cpuSec = (t1 - (start + warm)) / 1000;
    const unanswered = conns.reduce((n, k) => n + k.due.size, 0);
    for (const k of conns) {
      k.due.clear();
      k.asked.clear();
    }
    const sorted = Float64Array.from(lat).sort();
    const qsorted = Float64Array.from(qlat).sort();
    const lags = Float64Array.from(lag).sort();
    steps.push({
      offeredPerSec: rate,
      queriesPerSec,
      queryLimit,
      // how long the queries took to answer (send to reply), when there were any
      queryP50Ms: qsorted.length > 0 ? round(percentileSorted(qsorted, 0.5), 3) : null,
      queryP99Ms: qsorted.length > 0 ? round(percentileSorted(qsorted, 0.99), 3) : null,
      queriesFailed: qfailed,
      ackedPerSec: Math.round(acks / seconds),
      ackP50Ms: round(percentileSorted(sorted, 0.5), 3),
      ackP99Ms: round(percentileSorted(sorted, 0.99), 3),
      ackMaxMs: round(sorted[sorted.length - 1] ?? NaN, 3),
      unanswered,
      sendLagP50Ms: round(percentileSorted(lags, 0.5), 3),
      sendLagP99Ms: round(percentileSorted(lags, 0.99), 3),
      serverGcMaxMs: round(c1.gcMaxMs, 1),
      serverCpuPct: Math.round((c1.user + c1.system - s0.user - s0.system) / 1e4 / cpuSec),
      generatorCpuPct: Math.round((g1.user + g1.system) / 1e4 / cpuSec),
      serverSysPct: Math.round((c1.system - s0.system) / 1e4 / cpuSec),
      // the sequencer's own thread (Linux); near 100% means the event loop itself is the bottleneck
      serverMainThreadPct: c1.mainMs === null || s0.mainMs === null ? null : Math.round((c1.mainMs - s0.mainMs) / 10 / cpuSec),
      generatorSysPct: Math.round(g1.system / 1e4 / cpuSec),
      // Where the server's part of the latency goes: its group commits (how many, how large, how long the
      // event loop spent in each) and the journal fsyncs the acknowledgements wait for.
      ...journalStep(s0.journal, c1.journal, cpuSec),
    });
  }
  for (const ws of socks) ws.close();
  // The highest offered rate that was served (every order answered, at 97% of the rate or more) with an
  // ack p99 of 10 ms or less.
  const served = steps.filter((st) => st.unanswered === 0 && st.ackedPerSec >= st.offeredPerSec * 0.97);
  const highest = (ok: { offeredPerSec: number }[]): number => (ok.length > 0 ? Math.max(...ok.map((st) => st.offeredPerSec)) : 0);
  return {
    rateSteps: steps,
    maxRateWithAckP99Under10Ms: highest(served.filter((st) => st.ackP99Ms <= 10)),
    // the same for the server's own part of the ack (its histogram), as a firm's /metrics would show it
    maxRateWithServerAckP99Under10Ms: highest(served.filter((st) => st.serverAckP99Ms <= 10)),
  };
}

/**
 * A snapshot under load: a server holding a large resting book (which the order flow never meets) takes
 * the open-loop flow at one rate for two steps, and in the middle of the second the venue takes a snapshot,
 * as it does every --snapshot-every commands. Reported: both steps' ack times, and the snapshot's call and
 * the time until its last part was handed to the history thread.
 */
async function benchSnapshot(link: ChildLink, url: string, tokens: string[], clients: number, book: number, rate: number, seconds: number) {
  const t0 = performance.now();
  const built = await link.ask<Extract<ChildMsg, { t: 'book' }>>({ t: 'book', n: book });
  const bookSec = (performance.now() - t0) / 1000;
  let snap: Promise<Extract<ChildMsg, { t: 'snap' }>> | undefined;
  const r = await benchRates(link, url, tokens, clients, [rate, rate], seconds, (step) => {
    if (step === 1) snap = link.ask<Extract<ChildMsg, { t: 'snap' }>>({ t: 'snap' });
  });
  const s = await snap!;
  const pick = (st: (typeof r.rateSteps)[number]) => ({ ackP50Ms: st.ackP50Ms, ackP99Ms: st.ackP99Ms, ackMaxMs: st.ackMaxMs, unanswered: st.unanswered, serverGcMaxMs: st.serverGcMaxMs });
  return {
    snapshotUnderLoad: {
      bookOrders: built.live,
      bookBuildSec: round(bookSec, 1),
      offeredPerSec: rate,
      withoutSnapshot: pick(r.rateSteps[0]!),
      withSnapshot: pick(r.rateSteps[1]!),
      snapshotCallMs: round(s.callMs, 1),
      snapshotDoneMs: round(s.doneMs, 0),
    },
  };
}

function journalStep(a: JournalTotals, b: JournalTotals, sec: number) {
  const commits = b.commits - a.commits;
  const fsyncs = b.fsyncs - a.fsyncs;
  const acks = b.ackCumulative.map((n, i) => n - a.ackCumulative[i]!);
  return {
    // The server's own part of each ack (from the order's submit to its durable acknowledgement, without the
    // WebSocket, the network and the generator), read from its histogram (buckets 1 ms apart up to 10 ms).
    serverAckP50Ms: round(bucketQuantile(ACK_BUCKETS, acks, 0.5) * 1000, 1),
    serverAckP99Ms: round(bucketQuantile(ACK_BUCKETS, acks, 0.99) * 1000, 1),
    groupCommitsPerSec: Math.round(commits / sec),
    commandsPerGroupCommit: round((b.commands - a.commands) / commits, 1),
    groupCommitMeanMs: round(((b.commitSec - a.commitSec) * 1000) / commits, 3),
    fsyncMeanMs: round(((b.fsyncSec - a.fsyncSec) * 1000) / fsyncs, 3),
    fsyncsOver5MsPct: round((100 * (b.fsyncsOver5Ms - a.fsyncsOver5Ms)) / fsyncs, 1),
    // Sequencing held up by the history thread (more than 100,000 commands behind): the event loop blocks
    // on it, so a phase can fall behind with its main thread far from busy.
    historyWaits: b.historyWaits - a.historyWaits,
    historyWaitMs: Math.round((b.historyWaitSec - a.historyWaitSec) * 1000),
    // the share of a core each writer thread kept busy (part of the server's CPU above)
    historyWriterPct: Math.round((100 * (b.historyWriterSec - a.historyWriterSec)) / sec),
    auditWriterPct: Math.round((100 * (b.auditWriterSec - a.auditWriterSec)) / sec),
  };
}

function serverAckText(j: ReturnType<typeof journalStep>): string {
  return `inside the server (submit to durable ack) p50 ${j.serverAckP50Ms} / p99 ${j.serverAckP99Ms} ms`;
}

function journalText(j: ReturnType<typeof journalStep>): string {
  const threads = Number.isFinite(j.historyWriterPct) ? `; history writer thread ${j.historyWriterPct}%, audit writer ${j.auditWriterPct}% of a core` : '';
  return `${j.groupCommitMeanMs} ms each on the event loop; journal fsync mean ${j.fsyncMeanMs} ms, ${j.fsyncsOver5MsPct}% over 5 ms${threads}${j.historyWaits > 0 ? `; sequencing waited for the history thread ${j.historyWaits} times, ${j.historyWaitMs} ms in all` : ''}`;
}

/** A minimal raw WebSocket client: handshake, masked text frames out, frames counted by header in. */
class RawWs {
  frames = 0;
  bytes = 0;
  readonly sock: Socket;
  #open = false;
  #buf: Buffer = Buffer.alloc(0);
  #skip = 0;
  constructor(port: number, origin: string, onOpen: () => void, onError: (e: Error) => void) {
    this.sock = tcpConnect(port, '127.0.0.1');
    this.sock.setNoDelay(true);
    this.sock.on('error', onError);
    this.sock.on('connect', () => {
      this.sock.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: tradedesk.v1\r\nOrigin: ${origin}\r\n\r\n`,
      );
    });
    this.sock.on('data', (d: Buffer) => {
      this.bytes += d.length;
      if (!this.#open) {
        const all = Buffer.concat([this.#buf, d]);
        const end = all.indexOf('\r\n\r\n');
        if (end < 0) {
          this.#buf = all;
          return;
        }
        if (!all.subarray(0, 12).toString().includes('101')) return onError(new Error(all.subarray(0, end).toString()));
        this.#open = true;
        this.#buf = Buffer.alloc(0);
        onOpen();
        d = all.subarray(end + 4);
      }
      this.#count(d);
    });
  }
  #count(d: Buffer): void {
    let i = 0;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, d.length);
      this.#skip -= n;
      i = n;
    }
    let buf = this.#buf.length > 0 ? Buffer.concat([this.#buf, d.subarray(i)]) : d.subarray(i);
    this.#buf = Buffer.alloc(0);
    i = 0;
    while (i < buf.length) {
      if (buf.length - i < 2) break;
      let len = buf[i + 1]! & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (buf.length - i < 4) break;
        len = buf.readUInt16BE(i + 2);
        hdr = 4;
      } else if (len === 127) {
        if (buf.length - i < 10) break;
        len = Number(buf.readBigUInt64BE(i + 2));
        hdr = 10;
      }
      this.frames++;
      const next = i + hdr + len;
      if (next > buf.length) {
        this.#skip = next - buf.length;
        i = buf.length;
        break;
      }
      i = next;
    }
    if (i < buf.length) this.#buf = Buffer.from(buf.subarray(i));
    buf = Buffer.alloc(0);
  }
  sendText(text: string): void {
    const payload = Buffer.from(text);
    const n = payload.length;
    const head = n < 126 ? Buffer.from([0x81, 0x80 | n]) : Buffer.from([0x81, 0x80 | 126, n >> 8, n & 255]);
    this.sock.write(Buffer.concat([head, Buffer.from([0, 0, 0, 0]), payload]));
  }
}

async function openRaw(port: number, origin: string, n: number, batch = 200): Promise<RawWs[]> {
  const out: RawWs[] = [];
  for (let i = 0; i < n; i += batch) {
    const group = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, () => new Promise<RawWs>((resolve, reject) => {
        const c: RawWs = new RawWs(port, origin, () => resolve(c), reject);
      })),
    );
    out.push(...group);
  }
  return out;
}

/**
 * The quote-latency probes: full clients (JSON, the ws library) on a thread of their own. The thousand raw
 * subscribers keep the generator's event loop busy, and at well over 1M frames/s it can fall behind; a probe
 * read on that loop would charge the generator's backlog to the server. On its own thread a probe is a
 * client that keeps up, on the same two cores. Latency is the trade's time stamp (the server's clock, on
 * this machine) to receipt.
 */
const PROBE_WORKER = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require(workerData.ws);
const { url, origin, symbols, n } = workerData;
let measuring = false;
let lat = [];
let opened = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url, ['tradedesk.v1'], { perMessageDeflate: false, origin });
  ws.on('error', (e) => parentPort.postMessage({ error: String((e && e.message) || e) }));
  ws.on('open', () => {
    ws.send(JSON.stringify({ t: 'hello', v: 1 }));
    ws.send(JSON.stringify({ t: 'sub', id: 1, channel: 'quotes', params: { symbols } }));
    if (++opened === n) parentPort.postMessage({ ready: true });
  });
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (measuring && m.t === 'push' && m.data !== undefined) lat.push(Date.now() - m.data.ts);
  });
}
parentPort.on('message', (m) => {
  if (m === 'start') {
    measuring = true;
    lat = [];
  } else if (m === 'stop') {
    measuring = false;
    parentPort.postMessage({ lat });
  }
});
`;

async function benchQuotes(link: ChildLink, port: number, url: string, subscribers: number, symbols: number, seconds: number) {
  const origin = `http://127.0.0.1:${port}`;
  const syms = Array.from({ length: symbols }, (_, i) => `S${String(i).padStart(3, '0')}`);
  const sub = JSON.stringify({ t: 'sub', id: 1, channel: 'quotes', params: { symbols: syms } });
  const raws = await openRaw(port, origin, subscribers);
  for (const r of raws) {
    r.sendText('{"t":"hello","v":1,"client":"bench-sub"}');
    r.sendText(sub);
  }
  // full clients measuring latency, on a thread of their own (PROBE_WORKER)
  const probes = new Worker(PROBE_WORKER, { eval: true, workerData: { ws: createRequire(import.meta.url).resolve('ws'), url, origin, symbols: syms.slice(0, 10), n: 5 } });
  const fromProbes = <T>(key: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const on = (m: Record<string, unknown>): void => {
        if (m.error !== undefined) reject(new Error(String(m.error)));
        else if (key in m) {
          probes.off('message', on);
          resolve(m[key] as T);
        }
      };
      probes.on('message', on);
      probes.once('error', reject);
    });
  await fromProbes('ready');
  await link.ask({ t: 'mm', on: true });
  await new Promise((r) => setTimeout(r, 1000));
  const f0 = raws.reduce((a, r) => a + r.frames, 0);
  const b0 = raws.reduce((a, r) => a + r.bytes, 0);
  probes.postMessage('start');
  const c0 = await link.ask<Extract<ChildMsg, { t: 'cpu' }>>({ t: 'cpu' });
  const g0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const measured = fromProbes<number[]>('lat');
  probes.postMessage('stop');
  const lat = await measured;
  const elapsed = (performance.now() - t0) / 1000;
  const c1 = await link.ask<Extract<ChildMsg, { t: 'cpu' }>>({ t: 'cpu' });
  const g1 = process.cpuUsage(g0);
  const serverCpuSec = (c1.user + c1.system - c0.user - c0.system) / 1e6;
  const frames = raws.reduce((a, r) => a + r.frames, 0) - f0;
  const bytes = raws.reduce((a, r) => a + r.bytes, 0) - b0;
  await link.ask({ t: 'mm', on: false });
  for (const r of raws) r.sock.destroy();
  await probes.terminate();
  const sorted = Float64Array.from(lat).sort();
  return {
    // The lower of what the subscribers received and what the hub handed to the sessions in the window:
    // more received than handed over is a backlog from before the window draining, not throughput.
    framesPerSec: Math.round(Math.min(frames, c1.hubFrames - c0.hubFrames) / elapsed),
    receivedFramesPerSec: Math.round(frames / elapsed),
    /** Frames the hub handed to the sessions (a subscriber that is behind gets conflated quotes instead). */
    hubFramesPerSec: Math.round((c1.hubFrames - c0.hubFrames) / elapsed),
    hubTicksPerSec: round((c1.hubTicks - c0.hubTicks) / elapsed, 1),
    framesPerServerCpuSec: Math.round(Math.min(frames, c1.hubFrames - c0.hubFrames) / serverCpuSec),
    quoteServerCpuPct: Math.round((serverCpuSec / elapsed) * 100),
    quoteGeneratorCpuPct: Math.round((g1.user + g1.system) / 1e4 / elapsed),
    fanoutClients: subscribers,
    symbolsPerClient: symbols,
    mbitPerSec: round((bytes * 8) / elapsed / 1e6, 1),
    quoteLatencyP50Ms: percentileSorted(sorted, 0.5),
    quoteLatencyP99Ms: percentileSorted(sorted, 0.99),
  };
}

async function benchConnections(link: ChildLink, port: number, n: number) {
  await new Promise((r) => setTimeout(r, 500));
  const before = await link.ask<Extract<ChildMsg, { t: 'mem' }>>({ t: 'mem' });
  const t0 = performance.now();
  const raws = await openRaw(port, `http://127.0.0.1:${port}`, n, 500);
  for (const r of raws) r.sendText('{"t":"hello","v":1,"client":"idle"}');
  // Wait until every connection has its welcome (at most 30 s).
  const deadline = performance.now() + 30_000;
  while (raws.some((r) => r.frames < 1) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const connectSec = (performance.now() - t0) / 1000;
  const welcomed = raws.filter((r) => r.frames >= 1).length;
  const after = await link.ask<Extract<ChildMsg, { t: 'mem' }>>({ t: 'mem' });
  for (const r of raws) r.sock.destroy();
  return {
    connections: n,
    welcomed,
    connectSec: round(connectSec, 2),
    bytesPerConnection: Math.round((after.rss - before.rss) / n),
    heapBytesPerConnection: Math.round((after.heap + after.external - before.heap - before.external) / n),
  };
}

/**
 * The server process runs this file compiled as `npm run build:server` compiles the server (SERVER_BUILD:
 * bundled by esbuild, packages external), not through tsx as the load generator does: that is the code a
 * firm runs. Written under node_modules/.cache so the bundle's packages resolve from the repository.
 */
async function buildChild(): Promise<string> {
  const { build } = await import('esbuild');
  const { SERVER_BUILD, ROOT } = await import('../build/server.js');
  const outfile = join(ROOT, 'node_modules', '.cache', 'tradedesk-bench', 'server-bench.mjs');
  await build({ ...SERVER_BUILD, absWorkingDir: ROOT, entryPoints: [fileURLToPath(import.meta.url)], outfile, logLevel: 'warning' });
  return outfile;
}

async function parent(): Promise<void> {
  const quick = has('--quick');
  const json = has('--json');
  const sync = opt('--sync', 'full') as 'full' | 'normal';
  const cfg = {
    traders: Number(opt('--clients', quick ? '16' : '32')),
    window: Number(opt('--window', '64')),
    orderSec: quick ? 4 : 10,
    subscribers: Number(opt('--subscribers', '1000')),
    symbols: Number(opt('--symbols', quick ? '50' : '100')),
    quoteSec: quick ? 4 : 10,
    connections: Number(opt('--connections', '10000')),
    latWindow: Number(opt('--lat-window', '4')),
    rates: opt('--rates', quick ? '10000,30000,50000' : '10000,20000,30000,40000,50000')
      .split(',')
      .map(Number)
      .filter((r) => r > 0),
    rateSec: Number(opt('--rate-sec', quick ? '2' : '3')),
    book: Number(opt('--book', quick ? '50000' : '200000')),
    snapRate: Number(opt('--snap-rate', '10000')),
    queries: Number(opt('--queries', '0')),
    queryLimit: Number(opt('--query-limit', '20')),
  };
  const only = args.flatMap((a, i) => (a === '--only' && args[i + 1] !== undefined ? [args[i + 1]!] : []));
  const run = (phase: string): boolean => only.length === 0 || only.includes(phase);
  const historyDir = args.includes('--history-dir') ? opt('--history-dir', '') : undefined;
  const backgroundNice = args.includes('--background-nice') ? Number(opt('--background-nice', '')) : undefined;
  // the Node flags of the production command (build/server.ts SERVER_NODE_FLAGS), or BENCH_SERVER_ARGS
  const serverFlags = process.env.BENCH_SERVER_ARGS !== undefined ? process.env.BENCH_SERVER_ARGS.split(/\s+/).filter(Boolean) : [...(await import('../build/server.js')).SERVER_NODE_FLAGS];
  /** A server process on a fresh database. */
  const childFile = process.env.BENCH_TSX ? fileURLToPath(import.meta.url) : await buildChild();
  const startServer = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdbench-'));
    const sideDir = historyDir === undefined ? undefined : mkdtempSync(join(historyDir, 'tdbench-'));
    const proc = fork(childFile, ['--child', JSON.stringify({ dir, sideDir, backgroundNice, sync, traders: cfg.traders, symbols: cfg.symbols } satisfies ChildInit)], {
      // The server runs with the Node flags the README gives a firm (SERVER_NODE_FLAGS), or BENCH_SERVER_ARGS
      // instead when set; BENCH_PROF=dir: CPU profile of the server process.
      execArgv: [...(process.env.BENCH_TSX ? process.execArgv : []), ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []), ...serverFlags],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const link = new ChildLink(proc);
    const ready = await new Promise<Extract<ChildMsg, { t: 'ready' }>>((resolve) => proc.on('message', (m) => (m as ChildMsg).t === 'ready' && resolve(m as Extract<ChildMsg, { t: 'ready' }>)));
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      proc.send({ t: 'stop' });
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
      if (sideDir !== undefined) rmSync(sideDir, { recursive: true, force: true });
    };
    return { link, ready, url: `ws://127.0.0.1:${ready.port}/ws`, stop };
  };
  const main = await startServer();
  const { link, ready, url } = main;
  let second: Awaited<ReturnType<typeof startServer>> | undefined;
  let third: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const orders = run('orders') ? await benchOrders(link, url, ready.tokens, cfg.traders, cfg.window, cfg.orderSec) : undefined;
    const lat = run('latency') ? await benchOrders(link, url, ready.tokens, cfg.traders, cfg.latWindow, cfg.orderSec) : undefined;
    const quotes = run('quotes') ? await benchQuotes(link, ready.port, url, cfg.subscribers, cfg.symbols, cfg.quoteSec) : undefined;
    const conns = run('connections') ? await benchConnections(link, ready.port, cfg.connections) : undefined;
    // The open-loop steps run last, on a server of their own: neither the book the saturated runs left
    // behind nor the backlog of an offered rate above capacity reaches another phase's figures.
    let rates: Awaited<ReturnType<typeof benchRates>> | undefined;
    if (run('rates')) {
      await main.stop();
      second = await startServer();
      rates = await benchRates(second.link, second.url, second.ready.tokens, cfg.traders, cfg.rates, cfg.rateSec, undefined, cfg.queries, cfg.queryLimit);
    }
    // and a snapshot under load, on a server of its own too
    let snapshot: Awaited<ReturnType<typeof benchSnapshot>> | undefined;
    if (run('snapshot')) {
      await main.stop();
      await second?.stop();
      third = await startServer();
      snapshot = await benchSnapshot(third.link, third.url, third.ready.tokens, cfg.traders, cfg.book, cfg.snapRate, cfg.rateSec);
    }
    const latencyRun =
      lat === undefined
        ? undefined
        : (({ rejectedShare: _r, ordersPerServerCpuSec: _c, ...rest }) => rest)(lat);
    const result = { quick, sync, historyDir: historyDir ?? null, backgroundNice: backgroundNice ?? null, serverNodeFlags: serverFlags.join(' '), cores: (await import('node:os')).cpus().length, ...orders, ...(latencyRun ? { latencyRun } : {}), ...rates, ...snapshot, ...quotes, ...conns };
    const rows: string[][] = [];
    if (orders !== undefined)
      rows.push(
        ['orders/s (durable acks)', fmtCount(orders.ordersPerSec), `${orders.clients} clients x ${orders.window} in flight, sync=${sync}, node ${serverFlags.join(' ') || '(defaults)'}`],
        ['ack p50 / p99 / max (ms)', `${orders.ackP50Ms} / ${orders.ackP99Ms} / ${orders.ackMaxMs}`, `${serverAckText(orders)}; server CPU ${orders.serverCpuPct}%, generator CPU ${orders.generatorCpuPct}%`],
        ['orders per server CPU-second', fmtCount(orders.ordersPerServerCpuSec), 'less sensitive to other load on the machine'],
        ['server GC pauses: share / longest', `${orders.serverGcPct}% / ${orders.serverGcMaxMs} ms`, "of the server's main thread, in the timed window"],
        ['group commits/s, commands each', `${fmtCount(orders.groupCommitsPerSec)}, ${orders.commandsPerGroupCommit}`, journalText(orders)],
      );
    if (lat !== undefined)
      rows.push(
        ['latency run: orders/s', fmtCount(lat.ordersPerSec), `${lat.clients} clients x ${lat.window} in flight, sync=${sync}`],
        ['latency run: ack p50 / p99 / max (ms)', `${lat.ackP50Ms} / ${lat.ackP99Ms} / ${lat.ackMaxMs}`, `${serverAckText(lat)}; server CPU ${lat.serverCpuPct}%, generator CPU ${lat.generatorCpuPct}%`],
        ['latency run: GC share / longest', `${lat.serverGcPct}% / ${lat.serverGcMaxMs} ms`, "server's main thread"],
        ['latency run: group commits/s, commands each', `${fmtCount(lat.groupCommitsPerSec)}, ${lat.commandsPerGroupCommit}`, journalText(lat)],
      );
    if (rates !== undefined) {
      for (const st of rates.rateSteps)
        rows.push([
          `open loop ${fmtCount(st.offeredPerSec)}/s: ack p50 / p99 / max (ms)`,
          `${st.ackP50Ms} / ${st.ackP99Ms} / ${st.ackMaxMs}`,
          `acked ${fmtCount(st.ackedPerSec)}/s${st.unanswered > 0 ? `, ${st.unanswered} unanswered` : ''}${st.queriesPerSec > 0 ? `, beside ${st.queriesPerSec} orders.list queries/s of ${st.queryLimit} orders (answered in p50 ${st.queryP50Ms} / p99 ${st.queryP99Ms} ms${st.queriesFailed > 0 ? `, ${st.queriesFailed} failed` : ''})` : ''}; ${serverAckText(st)}; sent late by p50 ${st.sendLagP50Ms} / p99 ${st.sendLagP99Ms} ms, longest GC pause ${st.serverGcMaxMs} ms; server CPU ${st.serverCpuPct}% (sys ${st.serverSysPct}%${st.serverMainThreadPct === null ? '' : `, main thread ${st.serverMainThreadPct}%`}), generator CPU ${st.generatorCpuPct}% (sys ${st.generatorSysPct}%); ${fmtCount(st.groupCommitsPerSec)} group commits/s of ${st.commandsPerGroupCommit} commands, ${journalText(st)}`,
        ]);
      rows.push(['highest rate with ack p99 <= 10 ms', fmtCount(rates.maxRateWithAckP99Under10Ms), `of the offered rates ${cfg.rates.map(fmtCount).join(', ')} (orders/s)`]);
      rows.push(['  the same inside the server', fmtCount(rates.maxRateWithServerAckP99Under10Ms), 'submit to durable ack: without the WebSocket, loopback and the generator sharing the cores']);
    }
    if (snapshot !== undefined) {
      const u = snapshot.snapshotUnderLoad;
      const step = (x: typeof u.withSnapshot): string => `${x.ackP50Ms} / ${x.ackP99Ms} / ${x.ackMaxMs}`;
      rows.push(
        [`${fmtCount(u.bookOrders)}-order book, ${fmtCount(u.offeredPerSec)}/s: ack p50 / p99 / max (ms)`, step(u.withoutSnapshot), `no snapshot; longest GC pause ${u.withoutSnapshot.serverGcMaxMs} ms`],
        ['  the same with a snapshot in the window', step(u.withSnapshot), `snapshot() ${u.snapshotCallMs} ms, all parts handed over after ${u.snapshotDoneMs} ms; longest GC pause ${u.withSnapshot.serverGcMaxMs} ms`],
      );
    }
    if (quotes !== undefined)
      rows.push(
        ['quote frames/s', fmtCount(quotes.framesPerSec), `${quotes.fanoutClients} subscribers x ${quotes.symbolsPerClient} symbols, ${quotes.mbitPerSec} Mbit/s`],
        [
          'received / hub frames/s, ticks/s',
          `${fmtCount(quotes.receivedFramesPerSec)} / ${fmtCount(quotes.hubFramesPerSec)}, ${quotes.hubTicksPerSec}`,
          'frames/s above is the lower of the two (a backlog draining is not throughput)',
        ],
        ['frames per server CPU-second', fmtCount(quotes.framesPerServerCpuSec), `server CPU ${quotes.quoteServerCpuPct}%, generator CPU ${quotes.quoteGeneratorCpuPct}%`],
        ['quote latency p50 / p99 (ms)', `${quotes.quoteLatencyP50Ms} / ${quotes.quoteLatencyP99Ms}`, 'trade time stamp to receipt, incl. the 50 ms coalescing interval'],
      );
    if (conns !== undefined)
      rows.push([
        'bytes per connection (RSS)',
        fmtCount(conns.bytesPerConnection),
        `${conns.welcomed}/${conns.connections} idle connections welcomed in ${conns.connectSec} s; heap+external ${fmtCount(conns.heapBytesPerConnection)}`,
      ]);
    console.log(formatTable(['measure', 'value', 'conditions'], rows, ['left', 'right', 'left']));
    if (json) console.log(JSON.stringify(result));
  } finally {
    await main.stop();
    await second?.stop();
    await third?.stop();
  }
  void getGc;
}

if (has('--child')) {
  void child(JSON.parse(args[args.indexOf('--child') + 1]!) as ChildInit);
} else {
  parent().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
