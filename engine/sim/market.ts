/**
 * The simulated market: a seeded, agent-based market that runs on the engine through ordinary commands.
 *
 *   const sim = new MarketSim({ seed: 1, startTs });
 *   for (const c of sim.setupCommands()) sim.observe(engine.execute(c));   // instruments, index, agent accounts
 *   for (;;) for (const c of sim.step(engine)) sim.observe(engine.execute(c));
 *
 * The simulator is a pure state machine driven by simulated time. Each `step()` moves the simulated clock by
 * one fixed step (default 1 s of trading time; nights and weekends are skipped: the step after the close is
 * the next open) and returns the commands its agents send at that time: PlaceOrder / ReplaceOrder /
 * CancelOrder for agent accounts, and EndSession at the close. The caller submits them through the same path
 * as a user's commands (an Engine in tests and benches, the durable venue in the app) and hands every
 * resulting event back to `observe()`. Agents are ordinary funded accounts (OpenAccount + Deposit, allowed to
 * short); they never touch the book: what they know comes from the events and, once a session, the
 * instrument's band through the narrow MarketView.
 *
 * Contract for observe(): feed it every event the market produces, each exactly once, in order: the events of
 * the sim's own commands and of anyone else's (a user's order that fills an agent quote). Agents learn the id
 * of each order they place from its OrderAccepted (or Rejected) event, matched per account in the order the
 * commands were sent, so the `orderId` in a PlaceOrder is only a proposal: a venue that assigns its own ids
 * may replace it. Call observe() for all commands of a step before the next step().
 *
 * Agents (per instrument; accounts are shared across instruments):
 * - market makers (3 by default): two-sided quotes at two levels around their fair-value estimate; the half
 *   spread follows current volatility (wider in a stressed regime, at the open and close), quotes are skewed
 *   against inventory, and refreshed by ReplaceOrder (price and size) when they drift beyond a hysteresis, each
 *   maker on its own cadence. A maker that is far over its inventory limit stops quoting the side that adds.
 * - noise traders: Poisson arrivals of market orders and of limit orders (passive at random distances, some
 *   marketable) with random lifetimes (canceled when they expire). Arrival rates scale with the intraday
 *   pattern and the current volatility regime (busy markets are volatile markets).
 * - momentum traders: once a minute, if the 5-minute return is large against current volatility, a market
 *   order in its direction, sized by the signal.
 * - mean-reversion traders: once a minute, if the price is far from its 30-minute average, a limit order
 *   fading the move (some marketable, most passive with a few minutes' lifetime).
 * Aggressive flow that is not a market maker's (including a user's) moves the fair value (temporary impact
 * with a half-life), so large orders move the market and the momentum traders can feed a trend.
 *
 * Fair value: see fairvalue.ts (regime-switching volatility, jumps, intraday pattern, overnight gaps), kept
 * within 80 % of the instrument's band around the previous close; or, for a replayed symbol, the path of its
 * historical bars (replay.ts). Nothing here reads a clock or Math.random: the same seed and the same inputs
 * give the same commands.
 */
import type {
  AccountId,
  Command,
  EngineEvent,
  InstrumentView,
  OrderId,
  Quote,
  Timestamp,
} from '../core/types.js';
import type { AccountSource } from './account.js';
import { Calendar, type CalendarSpec } from './calendar.js';
import { Fundamental, intradayVol, MarketFactor } from './fairvalue.js';
import { deriveSeed, Random } from './random.js';
import { ReplayPlan, type ReplaySpec } from './replay.js';
import { defaultUniverse, roundLot, topIndex, universeCommands, validateUniverse, type SimInstrument, type Universe } from './universe.js';

/** What the simulator reads from the market besides events (an Engine, or a venue's engine view, fits). */
export interface MarketView {
  instrument(symbol: string): InstrumentView | undefined;
  quote(symbol: string): Quote | undefined;
}

export interface AgentParams {
  /** Market-maker accounts (each quotes every instrument). */
  marketMakers: number;
  /** Per maker: half spread as a multiple of the current 1-minute volatility (cycled if fewer than makers). */
  mmSpread: number[];
  /** Per maker: steps between quote refreshes (cycled). */
  mmCadence: number[];
  /** Level-1 and level-2 quote sizes in typical order sizes. */
  mmSize1: number;
  mmSize2: number;
  /** Inventory (in typical order sizes) at which the skew reaches one half spread. */
  mmInventoryLimit: number;
  noiseAccounts: number;
  /** Noise market orders per minute per instrument (activity 1, normal regime, mid-session level). */
  noiseMarketPerMin: number;
  /** Noise limit orders per minute per instrument. */
  noiseLimitPerMin: number;
  /** Share of noise limit orders that are marketable. */
  noiseMarketableShare: number;
  /** Mean lifetime of a noise limit order, seconds. */
  noiseLimitLifeSec: number;
  momentumAccounts: number;
  /** Momentum: act when |5-minute return| exceeds this many 5-minute standard deviations ... */
  momentumThreshold: number;
  /** ... with this probability per minute per account. */
  momentumProb: number;
  meanReversionAccounts: number;
  /** Mean reversion: act when |price / 30-minute average - 1| exceeds this many 30-minute deviations ... */
  meanReversionThreshold: number;
  meanReversionProb: number;
  /** Fair-value impact of one typical-size aggressive order, in 1-minute standard deviations. */
  impact: number;
  /** Half-life of impact, seconds (free-running and replayed symbols). */
  impactHalfLifeSec: number;
  replayImpactHalfLifeSec: number;
  /** Cash deposited into each agent account (minor units). */
  cash: number;
}

export const DEFAULT_AGENTS: AgentParams = {
  marketMakers: 3,
  mmSpread: [0.22, 0.35, 0.55],
  mmCadence: [1, 2, 3],
  mmSize1: 3,
  mmSize2: 8,
  mmInventoryLimit: 40,
  noiseAccounts: 6,
  noiseMarketPerMin: 5,
  noiseLimitPerMin: 8,
  noiseMarketableShare: 0.15,
  noiseLimitLifeSec: 150,
  momentumAccounts: 2,
  momentumThreshold: 1.2,
  momentumProb: 0.25,
  meanReversionAccounts: 2,
  meanReversionThreshold: 1.5,
  meanReversionProb: 0.25,
  impact: 0.12,
  impactHalfLifeSec: 900,
  replayImpactHalfLifeSec: 30,
  cash: 10_000_000_000_000,
};

/**
 * Agent presets. 'light' refreshes quotes less often (makers every 3, 5 and 8 s instead of 1, 2 and 3 s):
 * about half the commands (≈ 0.65 M instead of ≈ 1.2 M per simulated day for 20 symbols) with the same
 * market statistics, for hosts where every command is journaled (the desktop venue).
 */
export const AGENT_PRESETS: Record<'default' | 'light', Partial<AgentParams>> = {
  default: {},
  light: { mmCadence: [3, 5, 8] },
};

export interface SimConfig {
  seed: number;
  /** Simulated start. Inside a session the sim starts there (on a step boundary); otherwise at the next open. */
  startTs: Timestamp;
  /** Instruments and index (default defaultUniverse()). */
  universe?: Universe;
  calendar?: CalendarSpec;
  /** Simulated milliseconds per step (default 1000; must divide the session length). */
  stepMs?: number;
  /** Agent accounts get consecutive ids from this one (default 900000001). */
  firstAccountId?: AccountId;
  /** Proposed ids for the sim's orders (default: a counter from 10^12). */
  nextOrderId?: () => OrderId;
  agents?: Partial<AgentParams>;
  replays?: readonly ReplaySpec[];
  /** Emit EndSession at each close (default true; false when something else ends sessions). */
  endSessions?: boolean;
}

export type AgentRole = 'market_maker' | 'noise' | 'momentum' | 'mean_reversion';

/** Counters for reports and tests. */
export interface SimCounters {
  steps: number;
  sessions: number;
  /** Commands from agent accounts (PlaceOrder + ReplaceOrder + CancelOrder). */
  agentOrders: number;
  places: number;
  replaces: number;
  cancels: number;
  /** Rejections of agent commands, by result code. */
  rejections: Record<string, number>;
  /** Trades observed (all accounts). */
  trades: number;
}

// order-handle states
const PENDING = 0;
const LIVE = 1;
const DEAD = 2;

/** The sim's view of one of its orders. */
class Handle {
  id = 0;
  state = PENDING;
  qty = 0;
  leaves = 0;
  price = 0;
  constructor(
    readonly sym: number,
    readonly buy: boolean,
    readonly track: boolean,
  ) {}
}

class Account {
  /** Placements awaiting their OrderAccepted / Rejected, in the order sent. */
  readonly fifo: Handle[] = [];
  head = 0;
  constructor(
    readonly id: AccountId,
    readonly role: AgentRole,
    /** Index among the accounts of its role. */
    readonly k: number,
  ) {}
}

const RING = 64;

class Sym {
  halted = false;
  prevClose = 0;
  bandLow = 0;
  bandHigh = 0;
  /** Reflection barrier for the fundamental (log). */
  lo = 0;
  hi = 0;
  impact = 0;
  /** Effective fair value this step (minor units) and its log. */
  fair = 0;
  logFair = 0;
  /** Current 1-minute standard deviation (log units). */
  sig1m = 0;
  /** Normal-regime 1-minute standard deviation (log units). */
  readonly sig1mBase: number;
  act = 1;
  last = 0;
  /** Minute closes (last trade at each minute boundary) for momentum and the 30-minute average. */
  readonly ring = new Float64Array(RING);
  minutes = 0;
  ema = 0;
  /** Market-maker quotes: [maker][slot] with slots bid1, ask1, bid2, ask2. */
  readonly quotes: (Handle | null)[][];
  readonly inv: number[];
  readonly center: number[];
  /** Each maker's level-1 prices at its last refresh (to skip refreshes that would change nothing). */
  readonly lastBid: number[];
  readonly lastAsk: number[];
  readonly tick: number;
  readonly lot: number;
  readonly typ: number;
  replay: ReplayPlan | null;

  constructor(
    readonly idx: number,
    readonly inst: SimInstrument,
    readonly fund: Fundamental,
    makers: number,
    sessionSec: number,
    replay: ReplayPlan | null,
  ) {
    this.tick = inst.tickSize;
    this.lot = inst.lotSize;
    this.typ = inst.typicalQty;
    this.sig1mBase = inst.dailyVol * Math.sqrt(60 / sessionSec);
    this.quotes = Array.from({ length: makers }, () => [null, null, null, null]);
    this.inv = new Array<number>(makers).fill(0);
    this.center = new Array<number>(makers).fill(0);
    this.lastBid = new Array<number>(makers).fill(0);
    this.lastAsk = new Array<number>(makers).fill(0);
    this.replay = replay;
  }
}

const WHEEL = 8192;

/** A live quote with at least half its size left. */
function full(h: Handle | null, size: number): boolean {
  return h !== null && h.state === LIVE && h.leaves * 2 >= size;
}

export class MarketSim {
  readonly seed: number;
  readonly calendar: Calendar;
  readonly stepMs: number;
  readonly universe: Universe;
  readonly params: AgentParams;
  readonly counters: SimCounters = { steps: 0, sessions: 0, agentOrders: 0, places: 0, replaces: 0, cancels: 0, rejections: {}, trades: 0 };

  private readonly syms: Sym[] = [];
  private readonly bySymbol = new Map<string, Sym>();
  private readonly accounts: Account[] = [];
  /** Agent accounts have consecutive ids from firstAccountId: lookups are index arithmetic. */
  private readonly firstAccountId: AccountId;
  private readonly makers: Account[] = [];
  private readonly noise: Account[] = [];
  private readonly momentum: Account[] = [];
  private readonly meanRev: Account[] = [];
  private readonly byId = new Map<OrderId, Handle>();
  private readonly wheel: Handle[][] = Array.from({ length: WHEEL }, () => []);
  private readonly wheelAcct: Account[][] = Array.from({ length: WHEEL }, () => []);
  private readonly fvRng: Random;
  private readonly rng: Random;
  private readonly market: MarketFactor;
  private readonly nextId: () => OrderId;
  private readonly endSessions: boolean;
  private readonly sessionSec: number;
  private readonly startTs: Timestamp;
  private readonly decayFree: number;
  private readonly decayReplay: number;

  private nextTs: Timestamp;
  private nowTs: Timestamp;
  private needsOpen = true;
  private openTs = 0;
  private minuteIdx = 0;
  private closeTs = 0;
  private stepNo = 0;
  private out: Command[] = [];

  constructor(cfg: SimConfig) {
    this.seed = cfg.seed >>> 0;
    this.calendar = new Calendar(cfg.calendar);
    this.stepMs = cfg.stepMs ?? 1000;
    if (!Number.isSafeInteger(this.stepMs) || this.stepMs < 10 || this.calendar.sessionMs % this.stepMs !== 0)
      throw new RangeError('stepMs must be a whole number of ms (>= 10) dividing the session length');
    this.sessionSec = this.calendar.sessionMs / 1000;
    this.params = { ...DEFAULT_AGENTS, ...cfg.agents };
    this.endSessions = cfg.endSessions ?? true;
    this.fvRng = new Random(deriveSeed(this.seed, 'fair-value'));
    this.rng = new Random(deriveSeed(this.seed, 'agents'));
    this.market = new MarketFactor(this.fvRng, this.sessionSec);
    let idCounter = 1_000_000_000_000;
    this.nextId = cfg.nextOrderId ?? ((): OrderId => idCounter++);

    // start time: on a step boundary inside a session, or the next open
    const cal = this.calendar;
    let t = cfg.startTs;
    if (cal.isOpen(t)) {
      const open = cal.prevOpen(t + 1);
      t = open + Math.ceil((t - open) / this.stepMs) * this.stepMs;
      if (t >= cal.closeOf(Math.floor(open / 86_400_000))) t = cal.nextOpen(t);
    } else t = cal.nextOpen(t);
    this.startTs = t;
    this.nextTs = t;
    this.nowTs = cfg.startTs;

    // universe, with replayed symbols re-priced to their first bar (or added)
    const base = cfg.universe ?? defaultUniverse();
    const instruments = base.instruments.map((i) => ({ ...i }));
    const plans = new Map<string, ReplayPlan>();
    for (const r of cfg.replays ?? []) {
      const plan = new ReplayPlan(r, cal, t, this.stepMs, this.seed);
      plans.set(r.symbol, plan);
      let inst = instruments.find((i) => i.symbol === r.symbol);
      if (inst === undefined) {
        inst = {
          symbol: r.symbol,
          name: r.name ?? `${r.symbol} replay`,
          tickSize: r.tickSize ?? 1,
          lotSize: r.lotSize ?? 1,
          referencePrice: 0,
          bandBps: 1000,
          dailyVol: plan.dailyVol,
          beta: 0,
          activity: 1.5,
          typicalQty: 1,
          sharesOutstanding: 0,
        };
        instruments.push(inst);
      }
      if (r.tickSize !== undefined) inst.tickSize = r.tickSize;
      if (r.lotSize !== undefined) inst.lotSize = r.lotSize;
      const first = r.bars[0]!.o;
      const ref = Math.max(inst.tickSize, Math.round(first / inst.tickSize) * inst.tickSize);
      inst.referencePrice = ref;
      inst.previousClose = ref;
      inst.bandBps = plan.bandBps();
      inst.dailyVol = plan.dailyVol;
      inst.activity = Math.max(inst.activity, 1.5); // busy enough that (nearly) every bar trades
      inst.typicalQty = roundLot(800_000 / ref, inst.lotSize);
    }
    const index =
      base.index === null
        ? null
        : topIndex(
            instruments.filter((i) => base.index!.constituents.some((c) => c.symbol === i.symbol)),
            base.index.name,
            base.index.constituents.length,
            base.index.baseValue,
          );
    this.universe = { instruments, index: plans.size === 0 ? base.index : index };
    validateUniverse(this.universe);

    const p = this.params;
    for (const inst of instruments) {
      const price = inst.previousClose ?? inst.referencePrice;
      const s = new Sym(this.syms.length, inst, new Fundamental(inst, price, this.sessionSec, this.fvRng), p.marketMakers, this.sessionSec, plans.get(inst.symbol) ?? null);
      s.prevClose = price;
      s.last = price;
      s.ema = price;
      this.syms.push(s);
      this.bySymbol.set(inst.symbol, s);
    }
    this.decayFree = Math.pow(0.5, this.stepMs / 1000 / p.impactHalfLifeSec);
    this.decayReplay = Math.pow(0.5, this.stepMs / 1000 / p.replayImpactHalfLifeSec);

    // accounts
    let id = cfg.firstAccountId ?? 900_000_001;
    this.firstAccountId = id;
    const add = (role: AgentRole, n: number, into: Account[]): void => {
      for (let k = 0; k < n; k++) {
        const a = new Account(id++, role, k);
        this.accounts.push(a);
        into.push(a);
      }
    };
    add('market_maker', p.marketMakers, this.makers);
    add('noise', p.noiseAccounts, this.noise);
    add('momentum', p.momentumAccounts, this.momentum);
    add('mean_reversion', p.meanReversionAccounts, this.meanRev);
    if (this.noise.length === 0 && (p.noiseMarketPerMin > 0 || p.noiseLimitPerMin > 0)) throw new RangeError('Noise trading needs at least one noise account');
  }

  // ============================================================================================ public

  /** The agent accounts: id and role. */
  agentAccounts(): { accountId: AccountId; role: AgentRole }[] {
    return this.accounts.map((a) => ({ accountId: a.id, role: a.role }));
  }

  isAgentAccount(id: AccountId): boolean {
    return this.agent(id) !== undefined;
  }

  /** Symbols in the order the sim created them. */
  symbols(): string[] {
    return this.syms.map((s) => s.inst.symbol);
  }

  /** The replay plan of a symbol, if it is replayed. */
  replayPlan(symbol: string): ReplayPlan | undefined {
    return this.bySymbol.get(symbol)?.replay ?? undefined;
  }

  /** The time of the first step. */
  get firstStepTs(): Timestamp {
    return this.startTs;
  }

  /** Simulated time of the last step taken (before any, the configured start). */
  get now(): Timestamp {
    return this.nowTs;
  }

  /** Simulated time of the next step. */
  get nextStepTs(): Timestamp {
    return this.nextTs;
  }

  /** True while the simulated market is between its open and close. */
  get inSession(): boolean {
    return !this.needsOpen;
  }

  /** Current fair value of a symbol (minor units, not rounded), for displays and tests. */
  fairValue(symbol: string): number | undefined {
    const s = this.bySymbol.get(symbol);
    return s === undefined ? undefined : s.fair || Math.exp(s.fund.logF);
  }

  /**
   * Commands that create the simulated market: instruments and index (unless `instruments: false`, when the
   * venue already has them), then each agent account opened (allowed to short) and funded. Time: `ts`
   * (default: the configured start).
   */
  setupCommands(opts: { ts?: Timestamp; instruments?: boolean } = {}): Command[] {
    const ts = opts.ts ?? this.nowTs;
    const out: Command[] = opts.instruments === false ? [] : universeCommands(this.universe, ts);
    for (const a of this.accounts) {
      out.push({ type: 'OpenAccount', ts, accountId: a.id, allowShort: true });
      out.push({ type: 'Deposit', ts, accountId: a.id, amount: this.params.cash });
    }
    return out;
  }

  /**
   * For a restart on a market that already has the instruments and agent accounts (a venue reopened from its
   * journal): cancels the agents' leftover orders and takes over the market makers' inventories from their
   * positions. Use instead of setupCommands(). The run continues deterministically from here, but it is not
   * the continuation the previous process would have produced (the agents' memory is not persisted).
   */
  resumeCommands(src: MarketView & AccountSource, ts: Timestamp = this.nowTs): Command[] {
    const out: Command[] = [];
    for (const a of this.accounts) {
      for (const o of src.openOrders(a.id)) {
        if (o.parentId !== undefined) continue;
        out.push({ type: 'CancelOrder', ts, accountId: a.id, orderId: o.orderId });
      }
      if (a.role !== 'market_maker') continue;
      const v = src.accountView(a.id);
      if (v === undefined) continue;
      for (const p of v.positions) {
        const sym = this.bySymbol.get(p.symbol);
        if (sym !== undefined) sym.inv[a.k] = p.qty;
      }
    }
    return out;
  }

  /**
   * Advances one step and returns the commands for it (possibly none). Execute them in order and pass every
   * resulting event to observe() before the next step.
   */
  step(view: MarketView): Command[] {
    const out: Command[] = [];
    this.out = out;
    const t = this.nextTs;
    if (this.needsOpen) {
      this.openSession(t, view);
      this.trade(t);
      this.nextTs = Math.min(t + this.stepMs, this.closeTs);
    } else if (t >= this.closeTs) {
      if (this.endSessions) out.push({ type: 'EndSession', ts: t });
      this.needsOpen = true;
      this.counters.sessions++;
      // the session just closed opened before t; with a 24:00 close the next one may open at t itself
      this.nextTs = this.calendar.nextOpen(t);
    } else {
      this.trade(t);
      this.nextTs = Math.min(t + this.stepMs, this.closeTs);
    }
    this.nowTs = t;
    this.stepNo++;
    this.counters.steps++;
    return out;
  }

  /**
   * Runs steps against a synchronous executor (an Engine's execute) until `steps` steps were taken or the next
   * step would be after `untilTs`. Returns the number of commands executed.
   */
  run(exec: (cmd: Command) => EngineEvent[], view: MarketView, limit: { steps?: number; untilTs?: Timestamp }): number {
    const maxSteps = limit.steps ?? Number.POSITIVE_INFINITY;
    const until = limit.untilTs ?? Number.POSITIVE_INFINITY;
    let n = 0;
    for (let k = 0; k < maxSteps && this.nextTs <= until; k++) {
      const cmds = this.step(view);
      for (let i = 0; i < cmds.length; i++) this.observe(exec(cmds[i]!));
      n += cmds.length;
    }
    return n;
  }

  /** Feeds events back (see the contract at the top of this file). */
  observe(events: readonly EngineEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      switch (e.type) {
        case 'Trade': {
          this.counters.trades++;
          const s = this.bySymbol.get(e.symbol);
          if (s !== undefined) {
            s.last = e.price;
            const ta = this.agent(e.takerAccountId);
            if (ta === undefined || ta.role !== 'market_maker') {
              const sign = e.aggressor === 'buy' ? 1 : -1;
              s.impact += sign * this.params.impact * s.sig1mBase * (e.qty / s.typ);
            }
            if (ta !== undefined && ta.role === 'market_maker') s.inv[ta.k]! += e.aggressor === 'buy' ? e.qty : -e.qty;
            const ma = this.agent(e.makerAccountId);
            if (ma !== undefined && ma.role === 'market_maker') s.inv[ma.k]! += e.aggressor === 'buy' ? -e.qty : e.qty;
          }
          const m = this.byId.get(e.makerOrderId);
          if (m !== undefined) {
            m.leaves = e.makerLeaves;
            if (e.makerLeaves === 0) this.kill(m);
          }
          const t = this.byId.get(e.takerOrderId);
          if (t !== undefined) {
            t.leaves = e.takerLeaves;
            if (e.takerLeaves === 0) this.kill(t);
          }
          break;
        }
        case 'OrderAccepted': {
          const a = this.agent(e.accountId);
          if (a === undefined) break;
          const h = this.takePending(a);
          if (h === undefined) break;
          h.id = e.orderId;
          h.qty = e.qty;
          h.leaves = e.qty;
          if (e.price !== undefined) h.price = e.price;
          if (h.track) {
            h.state = LIVE;
            this.byId.set(e.orderId, h);
          } else h.state = DEAD;
          break;
        }
        case 'OrderReplaced': {
          const h = this.byId.get(e.orderId);
          if (h !== undefined) {
            h.qty = e.qty;
            h.leaves = e.leaves;
            if (e.price !== undefined) h.price = e.price;
          }
          break;
        }
        case 'OrderCanceled': {
          const h = this.byId.get(e.orderId);
          if (h !== undefined) this.kill(h);
          break;
        }
        case 'Rejected': {
          const a = e.accountId === undefined ? undefined : this.agent(e.accountId);
          if (a === undefined) break;
          const r = this.counters.rejections;
          r[e.code] = (r[e.code] ?? 0) + 1;
          if (e.command === 'PlaceOrder') {
            const h = this.takePending(a);
            if (h !== undefined) h.state = DEAD;
          } else if ((e.command === 'ReplaceOrder' || e.command === 'CancelOrder') && e.orderId !== undefined) {
            const h = this.byId.get(e.orderId);
            if (h === undefined) break;
            if (e.code === 'UNKNOWN_ORDER') this.kill(h);
            else if (e.command === 'ReplaceOrder') h.price = -1; // its real price is unknown here: the next refresh resends it
            else h.state = LIVE; // the cancel did not happen
          }
          break;
        }
        case 'InstrumentStatusChanged': {
          const s = this.bySymbol.get(e.symbol);
          if (s !== undefined) s.halted = e.status !== 'open';
          break;
        }
        default:
          break;
      }
    }
  }

  // ======================================================================================= internals

  private agent(id: AccountId): Account | undefined {
    const k = id - this.firstAccountId;
    return k >= 0 && k < this.accounts.length ? this.accounts[k] : undefined;
  }

  private kill(h: Handle): void {
    h.state = DEAD;
    h.leaves = 0;
    this.byId.delete(h.id);
  }

  private takePending(a: Account): Handle | undefined {
    if (a.head >= a.fifo.length) return undefined;
    const h = a.fifo[a.head++]!;
    if (a.head === a.fifo.length) {
      a.fifo.length = 0;
      a.head = 0;
    }
    return h;
  }

  private openSession(t: Timestamp, view: MarketView): void {
    const cal = this.calendar;
    this.openTs = cal.isOpen(t) && t !== cal.nextOpen(t) ? cal.prevOpen(t + 1) : t;
    this.closeTs = cal.closeOf(Math.floor(this.openTs / 86_400_000));
    this.needsOpen = false;
    const gap = this.market.overnight(this.fvRng);
    for (const s of this.syms) {
      const iv = view.instrument(s.inst.symbol);
      if (iv !== undefined) {
        s.prevClose = iv.previousClose;
        s.bandLow = iv.bandLow;
        s.bandHigh = iv.bandHigh;
        s.halted = iv.status !== 'open';
      } else {
        // not created (yet): trade nothing in it this session
        s.prevClose = s.inst.previousClose ?? s.inst.referencePrice;
        s.halted = true;
      }
      // the fundamental stays within 80 % of the band around the previous close
      const half = (0.8 * s.inst.bandBps) / 10_000;
      const lp = Math.log(s.prevClose);
      s.lo = lp + Math.log(1 - half);
      s.hi = lp + Math.log(1 + half);
      if (s.replay === null) {
        s.fund.overnight(gap, this.fvRng);
        s.fund.reflect(s.lo, s.hi);
      }
      s.minutes = 0;
      s.last = s.prevClose;
      for (let m = 0; m < s.center.length; m++) s.center[m] = s.lastBid[m] = s.lastAsk[m] = 0;
    }
    this.minuteIdx = 0;
  }

  /** One trading step at time t. */
  private trade(t: Timestamp): void {
    const p = this.params;
    const dt = this.stepMs / 1000;
    const sinceOpen = t - this.openTs;
    const u = intradayVol(sinceOpen / (this.closeTs - this.openTs));
    const mi = Math.floor(sinceOpen / 60_000);
    const minute = mi !== this.minuteIdx;
    this.minuteIdx = mi;
    const mret = this.market.advance(dt, u, this.fvRng);
    const fv = this.fvRng;
    const rng = this.rng;
    const lamM = (p.noiseMarketPerMin / 60) * dt;
    const lamL = (p.noiseLimitPerMin / 60) * dt;
    const nm = this.makers.length;
    for (let si = 0; si < this.syms.length; si++) {
      const s = this.syms[si]!;
      // fair value
      let base: number;
      let volRatio: number;
      let act = s.inst.activity;
      let decay = this.decayFree;
      let uu = u; // the intraday pattern (a replayed bar's range and volume already carry it)
      const plan = s.replay;
      if (plan !== null) {
        base = plan.logValueAt(t);
        if (base !== base) {
          if (t >= plan.endTs) {
            // replay finished: the symbol runs free from where the history left it
            s.replay = null;
            s.fund.logF = s.logFair - s.impact;
          }
          base = s.fund.logF;
          volRatio = 1;
        } else {
          const bi = plan.barAt(t);
          volRatio = bi >= 0 ? plan.volRatio[bi]! : 1;
          act *= bi >= 0 ? plan.activity[bi]! : 1;
          decay = this.decayReplay;
          uu = 1;
          s.fund.logF = base;
        }
      } else {
        s.fund.advance(dt, u, mret, fv);
        s.fund.reflect(s.lo, s.hi);
        base = s.fund.logF;
        volRatio = s.fund.volRatio(this.market);
      }
      s.impact *= decay;
      let lf = base + s.impact;
      if (s.replay === null) {
        if (lf < s.lo) lf = s.lo;
        else if (lf > s.hi) lf = s.hi;
      }
      s.logFair = lf;
      s.fair = Math.exp(lf);
      s.sig1m = s.sig1mBase * volRatio * uu;
      s.act = act * uu * volRatio;
      if (s.halted) continue;

      if (minute) this.onMinute(s, t);
      // market makers on their cadences
      for (let m = 0; m < nm; m++) {
        const cad = p.mmCadence[m % p.mmCadence.length]!;
        if ((this.stepNo + m) % cad === 0 || s.quotes[m]![0] === null) this.requote(s, m, t);
      }
      // noise traders
      const a = s.act;
      let k = rng.poisson(lamM * a);
      while (k-- > 0) this.noiseMarket(s, t);
      k = rng.poisson(lamL * a);
      while (k-- > 0) this.noiseLimit(s, t);
    }
    // expiring limit orders
    const slot = this.stepNo % WHEEL;
    const due = this.wheel[slot]!;
    if (due.length > 0) {
      const acc = this.wheelAcct[slot]!;
      for (let i = 0; i < due.length; i++) {
        const h = due[i]!;
        if (h.state === LIVE) this.cancel(acc[i]!, h, t);
      }
      due.length = 0;
      acc.length = 0;
    }
  }

  // ------------------------------------------------------------------------------------ market makers

  private requote(s: Sym, m: number, t: Timestamp): void {
    const p = this.params;
    const acct = this.makers[m]!;
    const q = s.quotes[m]!;
    const tick = s.tick;
    const fair = s.fair;
    const k = p.mmSpread[m % p.mmSpread.length]!;
    let h = k * s.sig1m * fair;
    if (h < tick * 0.5) h = tick * 0.5;
    // inventory skew: one half spread at the limit, capped at 1.5
    const lim = p.mmInventoryLimit * s.typ;
    let x = s.inv[m]! / lim;
    if (x > 1.5) x = 1.5;
    else if (x < -1.5) x = -1.5;
    const c = fair - x * h;
    let bid1 = Math.floor((c - h) / tick) * tick;
    let ask1 = Math.ceil((c + h) / tick) * tick;
    if (ask1 <= bid1) ask1 = bid1 + tick;
    const gap = Math.max(2 * tick, Math.ceil((1.5 * h) / tick) * tick);
    const lo = s.bandLow + tick;
    const hi = s.bandHigh - tick;
    if (bid1 > hi - tick) bid1 = hi - tick;
    if (ask1 < lo + tick) ask1 = lo + tick;
    if (bid1 < lo) bid1 = lo;
    if (ask1 > hi) ask1 = hi;
    if (ask1 <= bid1) return; // band narrower than our spread: sit out
    const size1 = roundLot(p.mmSize1 * s.typ, s.lot);
    const size2 = roundLot(p.mmSize2 * s.typ, s.lot);
    // far over the limit: stop adding on that side
    const over = s.inv[m]! / lim;
    const quoteBid = over < 3;
    const quoteAsk = over > -3;
    if (bid1 === s.lastBid[m] && ask1 === s.lastAsk[m] && quoteBid && quoteAsk && full(q[0]!, size1) && full(q[1]!, size1) && full(q[2]!, size2) && full(q[3]!, size2))
      return;
    s.lastBid[m] = bid1;
    s.lastAsk[m] = ask1;
    let bid2 = bid1 - gap;
    let ask2 = ask1 + gap;
    if (bid2 < lo) bid2 = lo;
    if (ask2 > hi) ask2 = hi;
    const hyst1 = Math.max(tick, Math.floor((0.25 * h) / tick) * tick);
    const hyst2 = Math.max(2 * tick, Math.floor((0.6 * h) / tick) * tick);
    const up = c >= s.center[m]!;
    s.center[m] = c;
    // move the side in the direction of travel first, so a maker never crosses its own quotes
    if (up) {
      const minAsk = this.ownBest(q, true) + tick;
      this.slot(acct, s, q, 1, false, Math.max(ask1, minAsk), size1, hyst1, quoteAsk, t);
      this.slot(acct, s, q, 3, false, Math.max(ask2, minAsk), size2, hyst2, quoteAsk, t);
      const maxBid = this.ownBest(q, false) - tick;
      this.slot(acct, s, q, 0, true, Math.min(bid1, maxBid), size1, hyst1, quoteBid, t);
      this.slot(acct, s, q, 2, true, Math.min(bid2, maxBid), size2, hyst2, quoteBid, t);
    } else {
      const maxBid = this.ownBest(q, false) - tick;
      this.slot(acct, s, q, 0, true, Math.min(bid1, maxBid), size1, hyst1, quoteBid, t);
      this.slot(acct, s, q, 2, true, Math.min(bid2, maxBid), size2, hyst2, quoteBid, t);
      const minAsk = this.ownBest(q, true) + tick;
      this.slot(acct, s, q, 1, false, Math.max(ask1, minAsk), size1, hyst1, quoteAsk, t);
      this.slot(acct, s, q, 3, false, Math.max(ask2, minAsk), size2, hyst2, quoteAsk, t);
    }
  }

  /** The maker's best live (or pending) bid (bids = true) or lowest ask among its quotes; 0 / +inf if none. */
  private ownBest(q: (Handle | null)[], bids: boolean): number {
    let best = bids ? 0 : Number.POSITIVE_INFINITY;
    for (let i = bids ? 0 : 1; i < 4; i += 2) {
      const h = q[i];
      if (h === null || h === undefined || h.state === DEAD) continue;
      if (bids ? h.price > best : h.price < best) best = h.price;
    }
    return best;
  }

  /** Brings one quote slot to (price, size): place, replace, or cancel when `want` is false. */
  private slot(acct: Account, s: Sym, q: (Handle | null)[], i: number, buy: boolean, price: number, size: number, hyst: number, want: boolean, t: Timestamp): void {
    const h = q[i];
    if (!want) {
      if (h !== null && h !== undefined && h.state === LIVE) this.cancel(acct, h, t);
      return;
    }
    if (price < s.bandLow + s.tick || price > s.bandHigh - s.tick) return;
    if (h === null || h === undefined || h.state === DEAD) {
      q[i] = this.place(acct, s, buy, price, size, t, 'day');
      return;
    }
    if (h.state !== LIVE) return;
    const dp = price > h.price ? price - h.price : h.price - price;
    const low = h.leaves * 2 < size;
    if (dp < hyst && !low) return;
    const cmd: Command = { type: 'ReplaceOrder', ts: t, accountId: acct.id, orderId: h.id };
    if (dp !== 0) cmd.price = price;
    if (low) cmd.qty = h.qty - h.leaves + size;
    // a pending replace shows in ownBest through the handle's price right away
    h.price = price;
    this.out.push(cmd);
    this.counters.replaces++;
    this.counters.agentOrders++;
  }

  // --------------------------------------------------------------------------------- orders and flow

  private place(acct: Account, s: Sym, buy: boolean, price: number, qty: number, t: Timestamp, tif: 'day' | 'ioc'): Handle {
    const h = new Handle(s.idx, buy, tif === 'day');
    h.price = price;
    h.qty = qty;
    acct.fifo.push(h);
    this.out.push({
      type: 'PlaceOrder',
      ts: t,
      orderId: this.nextId(),
      accountId: acct.id,
      symbol: s.inst.symbol,
      side: buy ? 'buy' : 'sell',
      orderType: 'limit',
      qty,
      price,
      tif,
    });
    this.counters.places++;
    this.counters.agentOrders++;
    return h;
  }

  private marketOrder(acct: Account, s: Sym, buy: boolean, qty: number, t: Timestamp): void {
    acct.fifo.push(new Handle(s.idx, buy, false));
    this.out.push({
      type: 'PlaceOrder',
      ts: t,
      orderId: this.nextId(),
      accountId: acct.id,
      symbol: s.inst.symbol,
      side: buy ? 'buy' : 'sell',
      orderType: 'market',
      qty,
      tif: 'ioc',
    });
    this.counters.places++;
    this.counters.agentOrders++;
  }

  private cancel(acct: Account, h: Handle, t: Timestamp): void {
    this.out.push({ type: 'CancelOrder', ts: t, accountId: acct.id, orderId: h.id });
    h.state = PENDING; // until its OrderCanceled (or a fill) arrives
    this.counters.cancels++;
    this.counters.agentOrders++;
  }

  /** Schedules a tracked order's cancellation after `sec` seconds. */
  private expireIn(acct: Account, h: Handle, sec: number): void {
    let steps = Math.max(1, Math.round((sec * 1000) / this.stepMs));
    if (steps >= WHEEL) steps = WHEEL - 1;
    const slot = (this.stepNo + steps) % WHEEL;
    this.wheel[slot]!.push(h);
    this.wheelAcct[slot]!.push(acct);
  }

  private clampPrice(s: Sym, px: number): number {
    const lo = s.bandLow + s.tick;
    const hi = s.bandHigh - s.tick;
    return px < lo ? lo : px > hi ? hi : px;
  }

  private noiseMarket(s: Sym, t: Timestamp): void {
    const rng = this.rng;
    const acct = this.noise[rng.int(0, this.noise.length - 1)]!;
    const qty = roundLot(Math.min(10, rng.logNormal(-0.35, 0.85)) * s.typ, s.lot);
    this.marketOrder(acct, s, rng.float() < 0.5, qty, t);
  }

  private noiseLimit(s: Sym, t: Timestamp): void {
    const rng = this.rng;
    const p = this.params;
    const acct = this.noise[rng.int(0, this.noise.length - 1)]!;
    const buy = rng.float() < 0.5;
    const tick = s.tick;
    const h = Math.max(tick * 0.5, 0.35 * s.sig1m * s.fair);
    let px: number;
    if (rng.float() < p.noiseMarketableShare) {
      const d = h * (1.2 + rng.float());
      px = buy ? Math.ceil((s.fair + d) / tick) * tick : Math.floor((s.fair - d) / tick) * tick;
    } else {
      const d = h * (0.3 + rng.exponential(2));
      px = buy ? Math.floor((s.fair - d) / tick) * tick : Math.ceil((s.fair + d) / tick) * tick;
    }
    px = this.clampPrice(s, px);
    const qty = roundLot(Math.min(8, rng.logNormal(-0.5, 0.8)) * s.typ, s.lot);
    const hd = this.place(acct, s, buy, px, qty, t, 'day');
    this.expireIn(acct, hd, rng.exponential(p.noiseLimitLifeSec));
  }

  /** Minute bookkeeping and the minute-scale strategies. */
  private onMinute(s: Sym, t: Timestamp): void {
    const p = this.params;
    const rng = this.rng;
    const last = s.last;
    s.ring[s.minutes % RING] = last;
    s.minutes++;
    s.ema = s.minutes === 1 ? last : s.ema + (2 / 31) * (last - s.ema);
    const tick = s.tick;
    const sig = s.sig1m > 0 ? s.sig1m : s.sig1mBase;
    // momentum: 5-minute return against its standard deviation
    if (s.minutes > 5 && this.momentum.length > 0) {
      const then = s.ring[(s.minutes - 6) % RING]!;
      const z = Math.log(last / then) / (sig * Math.sqrt(5));
      const az = z < 0 ? -z : z;
      if (az > p.momentumThreshold) {
        for (const acct of this.momentum) {
          if (rng.float() >= p.momentumProb) continue;
          const size = Math.min(4, az - p.momentumThreshold + 0.5) * rng.logNormal(0, 0.4);
          this.marketOrder(acct, s, z > 0, roundLot(size * s.typ, s.lot), t);
        }
      }
    }
    // mean reversion: distance from the 30-minute average
    if (s.minutes > 10 && this.meanRev.length > 0) {
      const z = Math.log(last / s.ema) / (sig * Math.sqrt(15));
      const az = z < 0 ? -z : z;
      if (az > p.meanReversionThreshold) {
        for (const acct of this.meanRev) {
          if (rng.float() >= p.meanReversionProb) continue;
          const buy = z < 0;
          const h = Math.max(tick, 0.4 * sig * s.fair);
          const qty = roundLot(Math.min(4, az - p.meanReversionThreshold + 1) * s.typ, s.lot);
          if (rng.float() < 0.3) {
            const px = this.clampPrice(s, buy ? Math.ceil((s.fair + 2 * h) / tick) * tick : Math.floor((s.fair - 2 * h) / tick) * tick);
            this.place(acct, s, buy, px, qty, t, 'ioc');
          } else {
            const px = this.clampPrice(s, buy ? Math.floor((s.fair - 0.5 * h) / tick) * tick : Math.ceil((s.fair + 0.5 * h) / tick) * tick);
            const hd = this.place(acct, s, buy, px, qty, t, 'day');
            this.expireIn(acct, hd, 60 + rng.exponential(180));
          }
        }
      }
    }
  }
}
