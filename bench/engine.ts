/**
 * Engine benchmark: throughput and per-command latency of Engine.execute() on one symbol.
 *
 *   npm run bench:engine                      full run (~2 min of CPU; longer on a busy machine)
 *   npm run bench:engine -- --quick           small run (~15 s of CPU)
 *   npm run bench:engine -- --json            last stdout line is one JSON object
 *   npm run bench:engine -- --seed 7          another deterministic workload
 *   npm run bench:engine -- --only mix,heap   a subset: mix, add, cancel, market, mix100k, heap
 *   npm run bench:engine -- --book reference  bench the reference book instead of the fast one
 *   npm run bench:engine -- --passes 5        throughput passes per workload (default 3 for the mixes and 5
 *                                             for the others; quick: 1)
 *   npm run bench:engine -- --cpu-profile     CPU-profile the throughput passes only (inspector, 100 us
 *                                             sampling): top self-time functions per workload, and the
 *                                             .cpuprofile files in the temp directory (throughput is then
 *                                             a little lower)
 *
 * Method
 * - Every command is generated up front into an array from a seeded PRNG (bench/lib/prng.ts), so generation
 *   costs nothing in the timed loops and the same seed always gives the same commands.
 * - Each workload runs on a fresh engine that first replays a common, untimed setup: the instrument, 1,000
 *   trader accounts (well funded) and one market-maker account. Traders get shares the only way the engine
 *   allows: by trading. The market maker may short; it sells 100,000 shares to each trader (a resting sell
 *   plus a crossing IOC buy, 2,000 untimed commands). Traders may not short, so every sell in the workloads
 *   runs the real share-reservation risk check against a real position.
 * - Per workload: an untimed prelude (resting orders the workload needs), then passes over the measured
 *   commands, each on its own fresh engine: one warm-up pass (discarded, lets V8 optimise), then
 *   throughput passes (whole loop timed once; median reported), then for the mixes one latency pass with
 *   process.hrtime.bigint() around every execute(). The events each call returns are counted (and rejections
 *   noticed), so nothing is optimised away; risk checks and event building are all included.
 * - The mix generator runs the commands through an engine while generating them and keeps a client-side view
 *   of live orders updated from the returned events (accepts add, fills/cancels remove, replaces update), so
 *   every cancel and replace targets an order that is live at that point. Replays of the same commands on a
 *   fresh engine must then produce the same events and the same end state: event and rejection counts and a
 *   digest of every account are checked after every pass, the engine's full state hash after the warm-up and
 *   the last pass (when it has at most 200k orders; 20k with --quick); invariants after the warm-up.
 * - Also reported: throughput per CPU-second (less sensitive to other load on a shared machine), heap bytes
 *   allocated per command (measured in the second half of the warm-up pass), GC pauses during the latency
 *   pass, and heap bytes per resting order (a separate fresh engine, 100k orders, forced GC before/after; gc()
 *   is obtained at run time, see bench/lib/gc.ts, so no node flag is needed).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { checkInvariants, Engine, hashText } from '../engine/core/index.js';
import type { Command, EngineEvent, PlaceOrder, Rejected } from '../engine/core/index.js';
import { fullGc, getGc, settledHeapUsed } from './lib/gc.js';
import { Random as Rng } from '../engine/sim/random.js';
import { histogram, medianOf, sortedCopy, summarize, type Summary } from './lib/stats.js';
import { CpuProfiler, selfTimes, type CpuProfile, type SelfTime } from './lib/profile.js';
import { fmtCount, fmtUs, formatTable, round } from './lib/table.js';
import { secondsSince, timerOverheadNs } from './lib/timer.js';

// ============================================================================================== options

const WORKLOADS = ['mix', 'add', 'cancel', 'market', 'mix100k', 'heap'] as const;
type WorkloadName = (typeof WORKLOADS)[number];

const { values: argv } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    only: { type: 'string' },
    book: { type: 'string', default: 'fast' },
    passes: { type: 'string' },
    'cpu-profile': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (argv.help) {
  console.log('usage: tsx bench/engine.ts [--quick] [--json] [--seed N] [--only mix,add,cancel,market,mix100k,heap] [--book fast|reference] [--passes N] [--cpu-profile]');
  process.exit(0);
}
const QUICK = argv.quick;
const JSON_OUT = argv.json;
const SEED = Number(argv.seed);
if (!Number.isSafeInteger(SEED)) throw new Error(`--seed must be an integer, not ${argv.seed}`);
const BOOK = argv.book === 'reference' ? 'reference' : 'fast';
const CPU_PROFILE = argv['cpu-profile'];
const ONLY = new Set<WorkloadName>(
  argv.only === undefined
    ? WORKLOADS
    : argv.only.split(',').map((s) => {
        const w = s.trim() as WorkloadName;
        if (!WORKLOADS.includes(w)) throw new Error(`--only: unknown workload ${s} (known: ${WORKLOADS.join(', ')})`);
        return w;
      }),
);

/**
 * Measured commands per pass, and throughput passes (the median pass is reported). add, cancel and market
 * keep their resting orders in the heap, so their size is kept moderate (200k) and they get more passes:
 * at a million resting orders they mostly measure the garbage collector walking a large heap.
 */
const SIZE = QUICK
  ? { mix: 200_000, add: 100_000, cancel: 100_000, market: 100_000, mix100k: 200_000 }
  : { mix: 3_000_000, add: 200_000, cancel: 200_000, market: 200_000, mix100k: 1_000_000 };
const PASSES_OVERRIDE = argv.passes !== undefined ? Math.max(1, Number(argv.passes) | 0) : null;
function passesFor(w: WorkloadName): number {
  if (PASSES_OVERRIDE !== null) return PASSES_OVERRIDE;
  if (QUICK) return 1;
  return w === 'mix' || w === 'mix100k' ? 3 : 5;
}

const TARGETS = {
  mixOpsPerSec: 1_500_000,
  mixP50Us: 1,
  mixP99Us: 5,
  mixP9999Us: 200,
  mix100kOpsPerSec: 1_000_000,
  bytesPerRestingOrder: 300,
};

// ============================================================================================ the market

const SYMBOL = 'BENCH';
/** Mid price in cents ($1,000.00); tick 1 cent, lot 1 share. */
const MID = 100_000;
/** ±10% band: prices 90,000..110,000. */
const BAND_BPS = 1000;
const TRADERS = 1000; // account ids 1..TRADERS
const MM = 1_000_000; // the market maker (the only account allowed to short)
const TRADER_CASH = 1e12; // cents
const TRADER_SHARES = 100_000;
const MM_CASH = 1e14;
/** Largest order size in the workloads (sizes are uniform 1..MAX_QTY). */
const MAX_QTY = 100;
const T0 = Date.UTC(2026, 0, 5, 14, 30); // setup time; workload timestamps advance 1 ms per 1,000 commands
const FIRST_ORDER_ID = 1_000_000;

function setupCommands(): Command[] {
  const c: Command[] = [];
  const ts = T0;
  c.push({
    type: 'CreateInstrument',
    ts,
    instrument: { symbol: SYMBOL, name: 'Bench Corp', tickSize: 1, lotSize: 1, referencePrice: MID, bandBps: BAND_BPS },
  });
  c.push({ type: 'OpenAccount', ts, accountId: MM, allowShort: true });
  c.push({ type: 'Deposit', ts, accountId: MM, amount: MM_CASH });
  let id = 1;
  for (let a = 1; a <= TRADERS; a++) {
    c.push({ type: 'OpenAccount', ts, accountId: a });
    c.push({ type: 'Deposit', ts, accountId: a, amount: TRADER_CASH });
    c.push(limit(ts, id++, MM, false, MID, TRADER_SHARES, 'gtc'));
    c.push(limit(ts, id++, a, true, MID, TRADER_SHARES, 'ioc'));
  }
  return c;
}
const SETUP = setupCommands();

function limit(ts: number, orderId: number, accountId: number, buy: boolean, price: number, qty: number, tif: 'gtc' | 'ioc'): PlaceOrder {
  // one property order for every limit order, so they all share a hidden class
  return { type: 'PlaceOrder', ts, orderId, accountId, symbol: SYMBOL, side: buy ? 'buy' : 'sell', orderType: 'limit', qty, price, tif };
}

function market(ts: number, orderId: number, accountId: number, buy: boolean, qty: number): PlaceOrder {
  return { type: 'PlaceOrder', ts, orderId, accountId, symbol: SYMBOL, side: buy ? 'buy' : 'sell', orderType: 'market', qty, tif: 'ioc' };
}

const wts = (i: number): number => T0 + 1 + Math.floor(i / 1000);

function describeReject(r: Rejected): string {
  return `${r.command} ${r.code}: ${r.message}`;
}

/** Runs commands that must all succeed (setup, preludes); throws on the first rejection. */
function runUntimed(e: Engine, cmds: readonly Command[], what: string): void {
  for (let i = 0; i < cmds.length; i++) {
    const out = e.execute(cmds[i]!);
    const r = out[0];
    if (r !== undefined && r.type === 'Rejected') throw new Error(`${what}: command ${i} rejected: ${describeReject(r)}`);
  }
}

function freshEngine(): Engine {
  const e = new Engine({ book: BOOK });
  runUntimed(e, SETUP, 'setup');
  return e;
}

/**
 * A cheap digest of the visible state (live orders, quote, every account's cash, reservations and
 * positions), compared after every pass.
 */
function digest(e: Engine): string {
  const q = e.quote(SYMBOL)!;
  const acc = e.accountIds().map((id) => {
    const v = e.accountView(id)!;
    return [v.cash, v.reservedCash, v.openOrders, v.positions.map((p) => [p.qty, p.reservedQty, p.cost])];
  });
  return `live=${e.liveOrders}:` + hashText(JSON.stringify([q.last, q.volume, q.turnover, q.bid, q.bidSize, q.ask, q.askSize, acc]));
}

/** The engine's full state hash (every order, queue position and reservation), when affordable. */
function fullHash(e: Engine): string | null {
  return e.liveOrders <= (QUICK ? 20_000 : 200_000) ? e.stateHash() : null;
}

// ======================================================================================== client view

interface ClientOrder {
  id: number;
  acct: number;
  buy: boolean;
  price: number;
  qty: number;
  leaves: number;
  slot: number;
}

/** What a client (the generator) knows about live limit orders, kept up to date from returned events. */
class ClientView {
  private readonly byId = new Map<number, ClientOrder>();
  private readonly list: ClientOrder[] = [];
  rejects = 0;
  readonly rejectCodes = new Map<string, number>();

  get size(): number {
    return this.list.length;
  }

  random(rng: Rng): ClientOrder {
    return this.list[Math.floor(rng.float() * this.list.length)]!;
  }

  private remove(id: number): void {
    const o = this.byId.get(id);
    if (o === undefined) return;
    this.byId.delete(id);
    const last = this.list.pop()!;
    if (last !== o) {
      this.list[o.slot] = last;
      last.slot = o.slot;
    }
  }

  apply(events: readonly EngineEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'OrderAccepted':
          if (e.orderType === 'limit') {
            const o: ClientOrder = {
              id: e.orderId,
              acct: e.accountId,
              buy: e.side === 'buy',
              price: e.price!,
              qty: e.qty,
              leaves: e.qty,
              slot: this.list.length,
            };
            this.list.push(o);
            this.byId.set(o.id, o);
          }
          break;
        case 'Trade': {
          const m = this.byId.get(e.makerOrderId);
          if (m !== undefined) {
            m.leaves = e.makerLeaves;
            if (m.leaves === 0) this.remove(m.id);
          }
          const t = this.byId.get(e.takerOrderId);
          if (t !== undefined) {
            t.leaves = e.takerLeaves;
            if (t.leaves === 0) this.remove(t.id);
          }
          break;
        }
        case 'OrderCanceled':
          this.remove(e.orderId);
          break;
        case 'OrderReplaced': {
          const o = this.byId.get(e.orderId);
          if (o !== undefined) {
            o.qty = e.qty;
            o.leaves = e.leaves;
            if (e.price !== undefined) o.price = e.price;
          }
          break;
        }
        case 'Rejected':
          this.rejects++;
          this.rejectCodes.set(e.code, (this.rejectCodes.get(e.code) ?? 0) + 1);
          break;
        default:
          break;
      }
    }
  }
}

// ============================================================================================ workloads

interface Expect {
  events: number;
  rejects: number;
  /** Cheap state digest (null: take it from the warm-up pass). */
  digest: string | null;
  /** Full state hash (null: too many orders to hash, or take it from the warm-up pass). */
  hash: string | null;
}

interface Workload {
  name: string;
  /** Untimed commands run on each fresh engine (after SETUP) before the measured ones. */
  prelude: Command[];
  measured: Command[];
  /** Time each command individually in a separate pass. */
  latency: boolean;
  /** Known outcome from generation (events, rejections, state), to check every replay against. */
  expect: Expect | null;
  /** Facts about the generated workload, for the report. */
  info: Record<string, number | string>;
  /** For latency breakdowns: a short kind per measured command. */
  kindOf: (c: Command) => string;
  /** Resting orders the engine must hold after a pass. */
  liveAfter?: number;
}

function kindOf(c: Command): string {
  if (c.type === 'PlaceOrder') return c.orderType === 'market' ? 'market' : `place_${c.tif}`;
  if (c.type === 'ReplaceOrder') return c.qty === undefined ? 'replace_px' : 'replace_px_qty';
  if (c.type === 'CancelOrder') return 'cancel';
  return c.type;
}

interface MixConfig {
  name: string;
  commands: number;
  /** Resting orders seeded before the run, and the level the generator steers the book towards. */
  resting: number;
  /** Resting prices are MID ± 1..halfBand ticks (bids below, asks above). */
  halfBand: number;
}

/**
 * The exchange-core style mix: 9% GTC limit placements (never crossing), 3% IOC limit orders that cross,
 * 6% cancels, 82% replaces (always a new price on the order's own side, uniform within the band; one in
 * five also changes the size). Bids rest at MID-1..MID-halfBand and asks at MID+1..MID+halfBand, so only
 * IOCs trade. The book is steered towards `resting` orders by the IOC size (a smaller IOC takes fewer orders
 * off the book), which leaves the command proportions untouched.
 */
function genMix(cfg: MixConfig, rng: Rng): Workload {
  const gen = freshEngine();
  const view = new ClientView();
  const W = cfg.halfBand;
  let id = FIRST_ORDER_ID;
  const prelude: Command[] = [];
  for (let i = 0; i < cfg.resting; i++) {
    const buy = rng.chance(0.5);
    const c = limit(T0, id++, rng.int(1, TRADERS), buy, buy ? MID - rng.int(1, W) : MID + rng.int(1, W), rng.int(1, MAX_QTY), 'gtc');
    prelude.push(c);
    view.apply(gen.execute(c));
  }
  if (view.rejects > 0) throw new Error(`${cfg.name} prelude: ${view.rejects} rejections: ${[...view.rejectCodes.keys()].join(', ')}`);
  const measured = new Array<Command>(cfg.commands);
  const n = { gtc: 0, ioc: 0, cancel: 0, replace: 0, replaceQty: 0 };
  let events = 0;
  let trades = 0;
  let restingSum = 0;
  let restingMin = Infinity;
  let restingMax = 0;
  let levelSum = 0;
  let levelSamples = 0;
  for (let i = 0; i < cfg.commands; i++) {
    const ts = wts(i);
    const r = rng.float();
    let c: Command;
    if (view.size === 0 || r < 0.09) {
      const buy = rng.chance(0.5);
      c = limit(ts, id++, rng.int(1, TRADERS), buy, buy ? MID - rng.int(1, W) : MID + rng.int(1, W), rng.int(1, MAX_QTY), 'gtc');
      n.gtc++;
    } else if (r < 0.12) {
      const buy = rng.chance(0.5);
      const hi = view.size > cfg.resting * 1.02 ? 2 * MAX_QTY : view.size < cfg.resting * 0.98 ? MAX_QTY / 2 : MAX_QTY;
      c = limit(ts, id++, rng.int(1, TRADERS), buy, buy ? MID + W : MID - W, rng.int(1, hi), 'ioc');
      n.ioc++;
    } else if (r < 0.18) {
      const o = view.random(rng);
      c = { type: 'CancelOrder', ts, accountId: o.acct, orderId: o.id };
      n.cancel++;
    } else {
      const o = view.random(rng);
      const price = o.buy ? MID - rng.int(1, W) : MID + rng.int(1, W);
      if (rng.chance(0.2)) {
        c = { type: 'ReplaceOrder', ts, accountId: o.acct, orderId: o.id, price, qty: o.qty - o.leaves + rng.int(1, MAX_QTY) };
        n.replaceQty++;
      } else c = { type: 'ReplaceOrder', ts, accountId: o.acct, orderId: o.id, price };
      n.replace++;
    }
    measured[i] = c;
    const out = gen.execute(c);
    events += out.length;
    for (const e of out) if (e.type === 'Trade') trades++;
    view.apply(out);
    const live = view.size;
    restingSum += live;
    if (live < restingMin) restingMin = live;
    if (live > restingMax) restingMax = live;
    if (i % 10_000 === 0) {
      levelSum += gen.depth(SYMBOL, 1e9)!.bids.length + gen.depth(SYMBOL, 1e9)!.asks.length;
      levelSamples++;
    }
  }
  if (gen.liveOrders !== view.size)
    throw new Error(`${cfg.name}: client view has ${view.size} live orders, engine ${gen.liveOrders}`);
  const N = cfg.commands;
  return {
    name: cfg.name,
    prelude,
    measured,
    latency: true,
    expect: { events, rejects: view.rejects, digest: digest(gen), hash: fullHash(gen) },
    kindOf,
    info: {
      gtcPct: round((100 * n.gtc) / N, 2),
      iocPct: round((100 * n.ioc) / N, 2),
      cancelPct: round((100 * n.cancel) / N, 2),
      replacePct: round((100 * n.replace) / N, 2),
      replaceWithQtyPct: round((100 * n.replaceQty) / Math.max(1, n.replace), 1),
      tradesPerIoc: round(trades / Math.max(1, n.ioc), 2),
      eventsPerCommand: round(events / N, 3),
      restingAvg: Math.round(restingSum / N),
      restingMin,
      restingMax,
      priceLevelsAvg: Math.round(levelSum / Math.max(1, levelSamples)),
      generationRejects: view.rejects,
    },
  };
}

/** N GTC limit orders that never cross: bids MID-1..MID-halfBand, asks MID+1..MID+halfBand. */
function genRestingOrders(count: number, halfBand: number, rng: Rng, firstId: number): PlaceOrder[] {
  const out = new Array<PlaceOrder>(count);
  for (let i = 0; i < count; i++) {
    const buy = rng.chance(0.5);
    const px = buy ? MID - rng.int(1, halfBand) : MID + rng.int(1, halfBand);
    out[i] = limit(wts(i), firstId + i, rng.int(1, TRADERS), buy, px, rng.int(1, MAX_QTY), 'gtc');
  }
  return out;
}

function genAdd(count: number, rng: Rng): Workload {
  const measured = genRestingOrders(count, 5000, rng, FIRST_ORDER_ID);
  return {
    name: 'add',
    prelude: [],
    measured,
    latency: false,
    expect: null,
    kindOf,
    liveAfter: count,
    info: { halfBandTicks: 5000, eventsPerCommand: 1 },
  };
}

function genCancel(count: number, rng: Rng): Workload {
  const prelude = genRestingOrders(count, 5000, rng, FIRST_ORDER_ID);
  const order = rng.shuffle(prelude.map((_, i) => i));
  const measured = order.map((i, k): Command => {
    const p = prelude[i]!;
    return { type: 'CancelOrder', ts: wts(k), accountId: p.accountId, orderId: p.orderId };
  });
  return {
    name: 'cancel',
    prelude,
    measured,
    latency: false,
    expect: null,
    kindOf,
    liveAfter: 0,
    info: { restingBefore: count, order: 'random' },
  };
}

/**
 * N resting makers of MAKER_QTY (half bids, half asks, prices MID ± 1..1000), then N market orders of the
 * same size, buys and sells interleaved at random: each takes exactly one maker in full. The generator works
 * out which maker each market order will hit (price-time priority) so the taker's account differs from the
 * maker's (no self-trade prevention).
 */
function genMarket(count: number, rng: Rng): Workload {
  const MAKER_QTY = 10;
  const half = count >> 1;
  const prelude: PlaceOrder[] = [];
  let id = FIRST_ORDER_ID;
  for (let i = 0; i < 2 * half; i++) {
    const buy = i < half;
    prelude.push(limit(T0, id++, rng.int(1, TRADERS), buy, buy ? MID - rng.int(1, 1000) : MID + rng.int(1, 1000), MAKER_QTY, 'gtc'));
  }
  const bids = prelude.filter((p) => p.side === 'buy').sort((a, b) => b.price! - a.price! || a.orderId - b.orderId);
  const asks = prelude.filter((p) => p.side === 'sell').sort((a, b) => a.price! - b.price! || a.orderId - b.orderId);
  const sides = rng.shuffle([...new Array<boolean>(half).fill(true), ...new Array<boolean>(half).fill(false)]);
  let bi = 0;
  let ai = 0;
  const measured = sides.map((buy, k): Command => {
    const maker = buy ? asks[ai++]! : bids[bi++]!;
    let acct = rng.int(1, TRADERS);
    if (acct === maker.accountId) acct = (acct % TRADERS) + 1;
    return market(wts(k), id++, acct, buy, MAKER_QTY);
  });
  return {
    name: 'market',
    prelude,
    measured,
    latency: false,
    // accepted + one trade per market order, and every maker gone at the end
    expect: { events: 2 * measured.length, rejects: 0, digest: null, hash: null },
    liveAfter: 0,
    kindOf,
    info: { makers: prelude.length, makerQty: MAKER_QTY, eventsPerCommand: 2 },
  };
}

// =============================================================================================== passes

const gc = getGc();
const rejectSeen = new Map<string, number>();

function noteReject(e: EngineEvent): number {
  if (e.type === 'Rejected') rejectSeen.set(e.code, (rejectSeen.get(e.code) ?? 0) + 1);
  return 1;
}

interface PassResult {
  seconds: number;
  /** Process CPU time (user + system, all threads: includes GC helper threads) during the pass. */
  cpuSeconds: number;
  events: number;
  rejects: number;
}

function throughputPass(e: Engine, cmds: readonly Command[]): PassResult {
  const n = cmds.length;
  let events = 0;
  let rejects = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const out = e.execute(cmds[i]!);
    events += out.length;
    if (out[0]!.type === 'Rejected') rejects += noteReject(out[0]!);
  }
  const seconds = secondsSince(t0);
  const c = process.cpuUsage(c0);
  return { seconds, cpuSeconds: (c.user + c.system) / 1e6, events, rejects };
}

function latencyPass(e: Engine, cmds: readonly Command[], samples: Float64Array): PassResult {
  const n = cmds.length;
  let events = 0;
  let rejects = 0;
  const c0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const c = cmds[i]!;
    const t0 = process.hrtime.bigint();
    const out = e.execute(c);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
    events += out.length;
    if (out[0]!.type === 'Rejected') rejects += noteReject(out[0]!);
  }
  const seconds = secondsSince(start);
  const cu = process.cpuUsage(c0);
  return { seconds, cpuSeconds: (cu.user + cu.system) / 1e6, events, rejects };
}

/**
 * The warm-up pass, which also measures heap bytes allocated per command: V8's used-heap counter is read
 * around chunks of `chunk` commands in the second half of the pass (by then the code is optimised); chunks
 * during which a GC ran (the counter went down) are skipped, and the cost of reading the counter (measured
 * on empty chunks) is subtracted. Events are dropped at once, so this is allocation (GC pressure), not
 * retention, except where the workload itself retains (add-only keeps every order).
 */
function warmUpPass(e: Engine, cmds: readonly Command[], chunk = 1000): PassResult & { allocBytesPerCommand: number } {
  const used = (): number => getHeapStatistics().used_heap_size;
  let empty = 0;
  let emptyN = 0;
  for (let i = 0; i < 200; i++) {
    const h0 = used();
    const h1 = used();
    if (h1 >= h0) {
      empty += h1 - h0;
      emptyN++;
    }
  }
  const readCost = emptyN > 0 ? empty / emptyN : 0;
  const n = cmds.length;
  const half = Math.floor(n / 2);
  let events = 0;
  let rejects = 0;
  let bytes = 0;
  let counted = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += chunk) {
    const end = Math.min(n, i + chunk);
    const h0 = used();
    for (let j = i; j < end; j++) {
      const out = e.execute(cmds[j]!);
      events += out.length;
      if (out[0]!.type === 'Rejected') rejects += noteReject(out[0]!);
    }
    const h1 = used();
    if (i >= half && h1 >= h0) {
      bytes += h1 - h0 - readCost;
      counted += end - i;
    }
  }
  const seconds = secondsSince(t0);
  const c = process.cpuUsage(c0);
  return {
    seconds,
    cpuSeconds: (c.user + c.system) / 1e6,
    events,
    rejects,
    allocBytesPerCommand: counted > 0 ? bytes / counted : NaN,
  };
}

/** GC activity (count and pause time) while `fn` runs, from the perf_hooks 'gc' entries. */
async function withGcWatch<T>(fn: () => T): Promise<{ value: T; gcCount: number; gcMs: number; gcMaxMs: number }> {
  const { PerformanceObserver } = await import('node:perf_hooks');
  let gcCount = 0;
  let gcMs = 0;
  let gcMaxMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const en of list.getEntries()) {
      gcCount++;
      gcMs += en.duration;
      if (en.duration > gcMaxMs) gcMaxMs = en.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const value = fn();
  await new Promise((r) => setTimeout(r, 20)); // entries are delivered asynchronously
  obs.disconnect();
  return { value, gcCount, gcMs, gcMaxMs };
}

interface WorkloadResult {
  name: string;
  commands: number;
  opsPerSec: number;
  opsPerSecRuns: number[];
  /** Commands per second of process CPU time (median pass): less sensitive to other load on the machine. */
  opsPerCpuSec: number;
  allocBytesPerCommand: number;
  eventsPerCommand: number;
  rejects: number;
  latency: (Summary & { timedOpsPerSec: number; gcCount: number; gcMs: number; gcMaxMs: number; tailTimePct: number }) | null;
  byKind: Record<string, { count: number; p50Us: number; p99Us: number; p9999Us: number; maxUs: number }> | null;
  histogram: { belowUs: number; pct: number }[] | null;
  info: Record<string, number | string>;
  problems: string[];
  /** With --cpu-profile: top self-time functions over the throughput passes, and where the profile went. */
  profile: { top: SelfTime[]; file: string } | null;
}

function prepared(w: Workload): Engine {
  const e = freshEngine();
  runUntimed(e, w.prelude, `${w.name} prelude`);
  return e;
}

async function runWorkload(w: Workload, overheadNs: number): Promise<WorkloadResult> {
  const problems: string[] = [];
  /** Every replay must reproduce generation (or the warm-up pass): same events, rejections and end state. */
  const check = (label: string, r: PassResult, e: Engine, withHash: boolean): void => {
    const x = w.expect!;
    if (r.events !== x.events) problems.push(`${label}: ${r.events} events, expected ${x.events} (nondeterminism?)`);
    if (r.rejects !== x.rejects) problems.push(`${label}: ${r.rejects} rejections, expected ${x.rejects}`);
    if (w.liveAfter !== undefined && e.liveOrders !== w.liveAfter)
      problems.push(`${label}: ${e.liveOrders} live orders at the end, expected ${w.liveAfter}`);
    const d = digest(e);
    if (x.digest !== null && d !== x.digest) problems.push(`${label}: end state digest ${d}, expected ${x.digest} (nondeterminism!)`);
    if (withHash && x.hash !== null) {
      const h = fullHash(e);
      if (h !== x.hash) problems.push(`${label}: state hash ${h}, expected ${x.hash} (nondeterminism!)`);
    }
  };
  log(`${w.name}: warm-up pass (${fmtCount(w.measured.length)} commands), measuring allocation`);
  // warm-up: discarded, lets V8 optimise; sets the expectations where generation did not run an engine
  let e: Engine | null = prepared(w);
  const warm = warmUpPass(e, w.measured);
  if (w.expect === null) w.expect = { events: warm.events, rejects: warm.rejects, digest: null, hash: null };
  if (w.expect.digest === null) w.expect.digest = digest(e);
  const hadHash = w.expect.hash !== null;
  if (!hadHash) w.expect.hash = fullHash(e);
  check('warm-up', warm, e, hadHash);
  const bad = checkInvariants(e);
  if (bad.length > 0) problems.push(`invariants after warm-up: ${bad.length} violations, first: ${bad[0]}`);
  e = null;

  const runs: number[] = [];
  const cpuRuns: number[] = [];
  let last: PassResult = warm;
  const PASSES = passesFor(w.name as WorkloadName);
  const profiles: CpuProfile[] = [];
  for (let p = 0; p < PASSES; p++) {
    let eng: Engine | null = prepared(w);
    fullGc(gc);
    log(`${w.name}: throughput pass ${p + 1}/${PASSES}`);
    const prof = CPU_PROFILE ? new CpuProfiler() : null;
    if (prof !== null) await prof.start(100);
    last = throughputPass(eng, w.measured);
    if (prof !== null) profiles.push(await prof.stop());
    runs.push(w.measured.length / last.seconds);
    cpuRuns.push(w.measured.length / last.cpuSeconds);
    check(`pass ${p + 1}`, last, eng, !w.latency && p === PASSES - 1);
    eng = null;
  }

  let latency: WorkloadResult['latency'] = null;
  let byKind: WorkloadResult['byKind'] = null;
  let hist: WorkloadResult['histogram'] = null;
  if (w.latency) {
    const samples = new Float64Array(w.measured.length);
    const eng = prepared(w);
    fullGc(gc);
    log(`${w.name}: latency pass`);
    const g = await withGcWatch(() => latencyPass(eng, w.measured, samples));
    check('latency pass', g.value, eng, true);
    const s = summarize(samples, samples.length, overheadNs);
    let tail = 0;
    let all = 0;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i]!;
      all += x;
      if (x >= 100_000) tail += x;
    }
    latency = {
      ...s,
      tailTimePct: (100 * tail) / all,
      timedOpsPerSec: w.measured.length / g.value.seconds,
      gcCount: g.gcCount,
      gcMs: g.gcMs,
      gcMaxMs: g.gcMaxMs,
    };
    // per kind of command
    const kinds = new Map<string, number[]>();
    for (let i = 0; i < w.measured.length; i++) {
      const k = w.kindOf(w.measured[i]!);
      let arr = kinds.get(k);
      if (arr === undefined) kinds.set(k, (arr = []));
      arr.push(samples[i]!);
    }
    byKind = {};
    for (const [k, arr] of [...kinds].sort((a, b) => b[1].length - a[1].length)) {
      const ks = summarize(Float64Array.from(arr), arr.length, overheadNs);
      byKind[k] = { count: ks.count, p50Us: ks.p50 / 1e3, p99Us: ks.p99 / 1e3, p9999Us: ks.p9999 / 1e3, maxUs: ks.max / 1e3 };
    }
    const sorted = sortedCopy(samples, samples.length, overheadNs);
    hist = histogram(sorted, [500, 1000, 2000, 5000, 10_000, 50_000, 200_000, 1_000_000]).map((b) => ({
      belowUs: b.below / 1e3,
      pct: round(100 * b.fraction, 4),
    }));
  }

  return {
    name: w.name,
    commands: w.measured.length,
    opsPerSec: medianOf(runs),
    opsPerSecRuns: runs.map((r) => Math.round(r)),
    opsPerCpuSec: medianOf(cpuRuns),
    allocBytesPerCommand: warm.allocBytesPerCommand,
    eventsPerCommand: last.events / w.measured.length,
    rejects: last.rejects,
    latency,
    byKind,
    histogram: hist,
    info: w.info,
    problems,
    profile: profiles.length === 0 ? null : saveProfile(w.name, profiles),
  };
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

function saveProfile(name: string, profiles: CpuProfile[]): { top: SelfTime[]; file: string } {
  const file = join(tmpdir(), `engine-bench-${name}-${process.pid}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profiles[profiles.length - 1])); // the last pass; DevTools / speedscope can open it
  return { top: selfTimes(profiles, REPO_ROOT).slice(0, 15), file };
}

/** Heap bytes per resting order: a fresh engine, then 100k non-crossing GTC orders, GC before and after. */
function measureHeap(rng: Rng): { bytesPerRestingOrder: number; orders: number; heapDeltaBytes: number } {
  const N = 100_000;
  const cmds = genRestingOrders(N, 5000, rng, FIRST_ORDER_ID);
  const e = freshEngine();
  const before = settledHeapUsed(gc);
  for (let i = 0; i < N; i++) e.execute(cmds[i]!);
  const after = settledHeapUsed(gc);
  const live = e.liveOrders;
  if (live !== N) throw new Error(`heap: expected ${N} resting orders, engine has ${live}`);
  return { bytesPerRestingOrder: (after - before) / live, orders: live, heapDeltaBytes: after - before };
}

// ================================================================================================= main

const T_START = process.hrtime.bigint();
function log(msg: string): void {
  process.stderr.write(`[bench ${secondsSince(T_START).toFixed(1).padStart(5)}s] ${msg}\n`);
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const loadBefore = loadavg()[0]!;
  const root = new Rng(SEED);
  // each workload gets its own stream, so --only does not change the commands of the others
  const rngs = { mix: root.fork(), add: root.fork(), cancel: root.fork(), market: root.fork(), mix100k: root.fork(), heap: root.fork() };

  const overheadNs = timerOverheadNs();
  log(`node ${process.version}, seed ${SEED}, ${QUICK ? 'quick' : 'full'} run, ${BOOK} book, timer overhead ${overheadNs} ns`);

  const results = new Map<string, WorkloadResult>();
  const gens: [WorkloadName, () => Workload][] = [
    ['mix', () => genMix({ name: 'mix', commands: SIZE.mix, resting: 1000, halfBand: 800 }, rngs.mix)],
    ['add', () => genAdd(SIZE.add, rngs.add)],
    ['cancel', () => genCancel(SIZE.cancel, rngs.cancel)],
    ['market', () => genMarket(SIZE.market, rngs.market)],
    ['mix100k', () => genMix({ name: 'mix100k', commands: SIZE.mix100k, resting: 100_000, halfBand: 5000 }, rngs.mix100k)],
  ];
  for (const [name, make] of gens) {
    if (!ONLY.has(name)) continue;
    log(`${name}: generating`);
    const tg = process.hrtime.bigint();
    let w: Workload | null = make();
    log(`${name}: generated in ${secondsSince(tg).toFixed(1)} s`);
    results.set(name, await runWorkload(w, overheadNs));
    w = null; // let the command arrays go before the next workload
    fullGc(gc);
  }
  let heap: ReturnType<typeof measureHeap> | null = null;
  if (ONLY.has('heap')) {
    log('heap: measuring bytes per resting order');
    heap = measureHeap(rngs.heap);
  }
  const elapsed = secondsSince(started);
  const loadAfter = loadavg()[0]!;

  // ------------------------------------------------------------------------------------------ report
  const us = (ns: number | undefined): string => (ns === undefined ? '-' : fmtUs(ns / 1e3));
  const target: Record<string, string> = { mix: `>= ${fmtCount(TARGETS.mixOpsPerSec)}`, mix100k: `>= ${fmtCount(TARGETS.mix100kOpsPerSec)}` };
  const mark = (ok: boolean): string => (ok ? 'ok' : 'MISS');
  const rows = [...results.values()].map((r) => {
    const t = target[r.name];
    const tgt = t === undefined ? '' : `${t} ${mark(r.opsPerSec >= (r.name === 'mix' ? TARGETS.mixOpsPerSec : TARGETS.mix100kOpsPerSec))}`;
    return [
      r.name,
      fmtCount(r.commands),
      fmtCount(r.opsPerSec),
      tgt,
      fmtCount(r.opsPerCpuSec),
      us(r.latency?.p50),
      us(r.latency?.p99),
      us(r.latency?.p999),
      us(r.latency?.p9999),
      us(r.latency?.max),
      r.eventsPerCommand.toFixed(2),
      Number.isFinite(r.allocBytesPerCommand) ? r.allocBytesPerCommand.toFixed(0) : '-',
      String(r.rejects),
    ];
  });
  const out: string[] = [];
  out.push('');
  out.push(
    `Engine benchmark  node ${process.version}  seed ${SEED}  ${QUICK ? 'quick' : 'full'}  book=${BOOK}  ` +
      `(${elapsed.toFixed(1)} s; load average ${loadBefore.toFixed(2)} -> ${loadAfter.toFixed(2)} on ${availableParallelism()} CPUs)`,
  );
  out.push('');
  out.push(
    formatTable(['workload', 'commands', 'ops/s', 'target', 'ops/cpu-s', 'p50 us', 'p99 us', 'p99.9 us', 'p99.99 us', 'max us', 'ev/cmd', 'alloc B/cmd', 'rejects'], rows),
  );
  out.push(
    'commands: per pass; ops/s: wall clock, median pass; ops/cpu-s: per second of process CPU time (all threads, GC ' +
      'helpers included; steadier when other work shares the machine); latencies: per execute(), timer overhead ' +
      'subtracted; alloc B/cmd: heap bytes allocated per command',
  );
  out.push('');
  const mix = results.get('mix');
  if (mix?.latency) {
    const l = mix.latency;
    out.push(
      `mix latency targets: p50 <= ${TARGETS.mixP50Us} us ${mark(l.p50 / 1e3 <= TARGETS.mixP50Us)}, ` +
        `p99 <= ${TARGETS.mixP99Us} us ${mark(l.p99 / 1e3 <= TARGETS.mixP99Us)}, ` +
        `p99.99 <= ${TARGETS.mixP9999Us} us ${mark(l.p9999 / 1e3 <= TARGETS.mixP9999Us)}`,
    );
  }
  if (heap) {
    out.push(
      `heap per resting order: ${heap.bytesPerRestingOrder.toFixed(0)} bytes (target <= ${TARGETS.bytesPerRestingOrder} ` +
        `${mark(heap.bytesPerRestingOrder <= TARGETS.bytesPerRestingOrder)}; ${fmtCount(heap.orders)} orders, ` +
        `heap +${(heap.heapDeltaBytes / 1048576).toFixed(1)} MiB)`,
    );
  }
  out.push(`timer overhead: ${overheadNs} ns per hrtime.bigint() pair (subtracted from every latency sample)`);
  for (const r of results.values()) {
    if (r.opsPerSecRuns.length > 1) out.push(`${r.name} throughput passes: ${r.opsPerSecRuns.map(fmtCount).join(', ')} ops/s (median shown)`);
  }
  for (const r of results.values()) {
    if (r.latency === null || r.byKind === null) continue;
    out.push('');
    out.push(
      `${r.name}: latency pass ${fmtCount(r.latency.timedOpsPerSec)} ops/s with timers; mean ${us(r.latency.mean)} us; ` +
        `GC during it: ${r.latency.gcCount} pauses, ${r.latency.gcMs.toFixed(1)} ms total, longest ${r.latency.gcMaxMs.toFixed(2)} ms; ` +
        `${r.latency.tailTimePct.toFixed(1)}% of the time went to commands >= 100 us`,
    );
    out.push(
      formatTable(
        ['  command', 'count', 'p50 us', 'p99 us', 'p99.99 us', 'max us'],
        Object.entries(r.byKind).map(([k, v]) => [`  ${k}`, fmtCount(v.count), fmtUs(v.p50Us), fmtUs(v.p99Us), fmtUs(v.p9999Us), fmtUs(v.maxUs)]),
      ),
    );
    out.push(
      '  histogram: ' +
        r.histogram!.map((b) => `${b.belowUs === Infinity ? '>=1000' : '<' + b.belowUs} us ${b.pct}%`).join(', '),
    );
  }
  for (const r of results.values()) {
    if (r.profile === null) continue;
    out.push('');
    out.push(`${r.name}: CPU profile of the throughput passes, top self time (inlined callees count in their caller); ${r.profile.file}`);
    out.push(
      formatTable(
        ['  function', 'file', 'self ms', 'self %'],
        r.profile.top.map((t) => [`  ${t.fn}`, t.file, t.ms.toFixed(0), t.pct.toFixed(1)]),
        ['left', 'left', 'right', 'right'],
      ),
    );
  }
  out.push('');
  for (const r of results.values()) {
    const facts = Object.entries(r.info)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    out.push(`${r.name} workload: ${facts}`);
  }
  const problems = [...results.values()].flatMap((r) => r.problems.map((p) => `${r.name}: ${p}`));
  if (rejectSeen.size > 0) problems.push(`rejections during timed passes: ${[...rejectSeen].map(([k, v]) => `${k} x${v}`).join(', ')}`);
  if (problems.length > 0) {
    out.push('');
    out.push('PROBLEMS:');
    for (const p of problems) out.push(`  ${p}`);
  }
  console.log(out.join('\n'));
  if (problems.length > 0) process.exitCode = 1;

  if (JSON_OUT) {
    const r = (n: string): WorkloadResult | undefined => results.get(n);
    const ops = (n: string): number | null => (r(n) ? Math.round(r(n)!.opsPerSec) : null);
    const lat = (n: string, k: keyof Summary): number | null => {
      const l = r(n)?.latency;
      return l ? round(l[k] / 1e3, 3) : null;
    };
    const json = {
      bench: 'engine',
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform}-${process.arch}`,
      seed: SEED,
      quick: QUICK,
      book: BOOK,
      elapsedSec: round(elapsed, 1),
      mixOpsPerSec: ops('mix'),
      addOpsPerSec: ops('add'),
      cancelOpsPerSec: ops('cancel'),
      marketOpsPerSec: ops('market'),
      mix100kOpsPerSec: ops('mix100k'),
      mixP50Us: lat('mix', 'p50'),
      mixP99Us: lat('mix', 'p99'),
      mixP999Us: lat('mix', 'p999'),
      mixP9999Us: lat('mix', 'p9999'),
      mixMaxUs: lat('mix', 'max'),
      mixMeanUs: lat('mix', 'mean'),
      mix100kP50Us: lat('mix100k', 'p50'),
      mix100kP99Us: lat('mix100k', 'p99'),
      mix100kP999Us: lat('mix100k', 'p999'),
      mix100kP9999Us: lat('mix100k', 'p9999'),
      mix100kMaxUs: lat('mix100k', 'max'),
      bytesPerRestingOrder: heap ? Math.round(heap.bytesPerRestingOrder) : null,
      timerOverheadNs: overheadNs,
      mixOpsPerCpuSec: r('mix') ? Math.round(r('mix')!.opsPerCpuSec) : null,
      mix100kOpsPerCpuSec: r('mix100k') ? Math.round(r('mix100k')!.opsPerCpuSec) : null,
      opsPerCpuSec: Object.fromEntries([...results.values()].map((x) => [x.name, Math.round(x.opsPerCpuSec)])),
      allocBytesPerCommand: Object.fromEntries([...results.values()].map((x) => [x.name, Math.round(x.allocBytesPerCommand)])),
      tailTimePct: Object.fromEntries(
        [...results.values()].filter((x) => x.latency !== null).map((x) => [x.name, round(x.latency!.tailTimePct, 2)]),
      ),
      loadAverage: { before: round(loadBefore, 2), after: round(loadAfter, 2), cpus: availableParallelism() },
      throughputPasses: Object.fromEntries([...results.values()].map((x) => [x.name, x.opsPerSecRuns.length])),
      commands: Object.fromEntries([...results.values()].map((x) => [x.name, x.commands])),
      throughputRuns: Object.fromEntries([...results.values()].map((x) => [x.name, x.opsPerSecRuns])),
      eventsPerCommand: Object.fromEntries([...results.values()].map((x) => [x.name, round(x.eventsPerCommand, 3)])),
      latencyByCommand: Object.fromEntries(
        [...results.values()]
          .filter((x) => x.byKind !== null)
          .map((x) => [x.name, Object.fromEntries(Object.entries(x.byKind!).map(([k, v]) => [k, { count: v.count, p50Us: round(v.p50Us), p99Us: round(v.p99Us), p9999Us: round(v.p9999Us), maxUs: round(v.maxUs) }]))]),
      ),
      gcDuringLatencyPass: Object.fromEntries(
        [...results.values()]
          .filter((x) => x.latency !== null)
          .map((x) => [x.name, { count: x.latency!.gcCount, totalMs: round(x.latency!.gcMs, 2), maxMs: round(x.latency!.gcMaxMs, 2) }]),
      ),
      workloads: Object.fromEntries([...results.values()].map((x) => [x.name, x.info])),
      cpuProfile: CPU_PROFILE
        ? Object.fromEntries(
            [...results.values()].map((x) => [
              x.name,
              x.profile?.top.map((t) => ({ fn: t.fn, file: t.file, pct: round(t.pct, 2) })) ?? null,
            ]),
          )
        : null,
      targets: TARGETS,
      problems,
    };
    console.log(JSON.stringify(json));
  }
}

await main();
