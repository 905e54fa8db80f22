/**
 * The live simulated market on a durable venue: the one runtime both the exchange server (`--sim`) and the
 * desktop app's local venue use to put simulated liquidity on a venue.
 *
 *   startLiveMarket({ venue, seed })
 *     1. instruments, index and agent accounts through the venue's normal submit path (on a venue that
 *        already has them, only what is missing, and the sim takes the market over with resumeCommands:
 *        the agents' leftover orders are canceled, the makers' inventories taken from their positions)
 *     2. warm-up history imported once (venue.importCandles), so charts have bars on first start
 *     3. a SimDriver on real timers at `speed` (1 = real time); every committed batch of the venue, the
 *        sim's own and everyone else's, is fed to sim.observe in journal order (venue.onCommit)
 *
 * Simulated time: the sim runs sessions of the calendar (14:30-21:00 UTC, Monday to Friday) back to back,
 * skipping nights and weekends, so its clock runs ahead of the wall clock outside trading hours and with a
 * speed above 1. Open the venue with a MarketClock (`Venue.open(file, { now: clock.now })`) and pass the clock
 * here, and the venue stamps the simulated time: candles, trades and sessions then line up with the warm-up
 * history at every speed. Without a clock the venue keeps its own.
 */
import type { AccountId, AccountView, Command, Timestamp } from '../core/types.js';
import { TIMEFRAMES } from '../core/types.js';
import {
  MarketSim,
  SimDriver,
  aggregateCandles,
  defaultUniverse,
  generateHistory,
  openLocalAccount,
  resetBegin,
  resetFinish,
  universeCommands,
  withCloses,
  type AgentParams,
  type LocalAccountSpec,
  type ResetFinish,
  type Scheduler,
  type Speed,
  type Universe,
} from '../sim/index.js';
import type { Ack, Venue, VenueCommand } from '../venue/index.js';

// ---------------------------------------------------------------- clock and scheduler

/**
 * A venue clock that reads the live market's simulated time while a market is attached, and `fallback`
 * (the wall clock) otherwise. The venue never stamps a time before its last one, so detaching is safe.
 */
export class MarketClock {
  private source: (() => number) | undefined;
  constructor(private readonly fallback: () => number = Date.now) {}
  /** Pass this to `Venue.open(file, { now: clock.now })`. */
  readonly now = (): number => (this.source ?? this.fallback)();
  attach(source: () => number): void {
    this.source = source;
  }
  detach(): void {
    this.source = undefined;
  }
  get attached(): boolean {
    return this.source !== undefined;
  }
}

/** Real timers: performance.now and setTimeout. */
export const realScheduler: Scheduler = {
  now: () => performance.now(),
  schedule: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

// ---------------------------------------------------------------- options

export interface LiveMarketOptions {
  venue: Venue;
  seed: number;
  /** Simulated time per wall time: 1 = real time (default), 10, 100, ... or 'max'. */
  speed?: Speed;
  /** Start paused (resume() or stepOnce() later). Default false. */
  paused?: boolean;
  /** Sessions of warm-up history imported on first start (default 30; 0 = none). */
  warmupDays?: number;
  /** Wall clock (ms since the epoch) for the simulated start. Default Date.now. */
  now?: () => number;
  /** Instruments and index (default defaultUniverse()). */
  universe?: Universe;
  /** Agent settings (e.g. AGENT_PRESETS.light for a desktop that journals every command). */
  agents?: Partial<AgentParams>;
  /** The venue's clock, if the venue was opened with one: it follows the simulated time while running. */
  clock?: MarketClock;
  /** Timers (default realScheduler). */
  scheduler?: Scheduler;
  /** The driver stopped on an error (the venue closed or failed). */
  onError?: (e: unknown) => void;
}

export interface LiveMarket {
  readonly sim: MarketSim;
  readonly driver: SimDriver;
  /** True when the venue already had the market (a restart): nothing was created, leftovers canceled. */
  readonly resumed: boolean;
  /** Bars imported as warm-up history by this start (0 on a restart). */
  readonly importedBars: number;
  /** The agent accounts (id and role): not users. */
  readonly agentAccounts: readonly { accountId: AccountId; role: string }[];
  /** Simulated time of the last step. */
  now(): Timestamp;
  setSpeed(speed: Speed): void;
  pause(): void;
  resume(): void;
  stepOnce(): void;
  readonly running: boolean;
  /**
   * Opens a funded account (OpenAccount + Deposit of the initial capital) through the venue, for the local
   * user or a demo trader. An account that already exists is left as it is. Returns its view.
   */
  openUserAccount(spec: LocalAccountSpec): Promise<AccountView>;
  /**
   * Resets an account to its initial capital: cancels its orders, closes its positions at the market, then
   * restores the cash. `complete: false` when a position could not be closed yet (a halted symbol).
   */
  resetUserAccount(spec: LocalAccountSpec): Promise<ResetFinish>;
  /** Stops the driver, detaches from the venue and its clock; resolves once an in-flight step has settled. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- commands for the venue

/** What the venue accepts: no time stamp, and no order id on a placement (the venue assigns both). */
export function toVenueCommand(c: Command): VenueCommand {
  const { ts: _ts, ...rest } = c;
  if (rest.type === 'PlaceOrder') {
    const { orderId: _id, ...place } = rest;
    return place as VenueCommand;
  }
  return rest as VenueCommand;
}

function rejectedOf(acks: readonly Ack[], allow: readonly string[] = []): Ack | undefined {
  return acks.find((a) => a.rejected !== undefined && !allow.includes(a.rejected.code));
}

// ---------------------------------------------------------------- start

/** Sets up (or resumes) the simulated market on the venue and starts it. */
export async function startLiveMarket(o: LiveMarketOptions): Promise<LiveMarket> {
  const { venue } = o;
  const wall = o.now ?? Date.now;
  const view = venue.view;
  const base = o.universe ?? defaultUniverse();

  // On a venue that already trades these instruments the sim starts from the venue's prices.
  const closes = new Map<string, number>();
  for (const i of base.instruments) {
    const q = view.quote(i.symbol);
    if (q !== undefined) closes.set(i.symbol, q.last ?? q.previousClose);
  }
  const universe = closes.size > 0 ? withCloses(base, closes) : base;
  // Never before the venue's last stamp: a restart continues the simulated timeline.
  const startTs = Math.max(Math.floor(wall()), venue.lastCommitTs);
  const sim = new MarketSim({ seed: o.seed, startTs, universe, ...(o.agents !== undefined ? { agents: o.agents } : {}) });

  const off = venue.onCommit((batch) => {
    for (const c of batch) sim.observe(c.events);
  });
  const clock = o.clock;
  try {
    // The venue stamps the time of the sim's last step (its configured start before the first).
    clock?.attach(() => sim.now);

    // A session the venue left open (stopped mid-session, restarted on a later day) is ended first.
    const cal = sim.calendar;
    const last = venue.lastCommitTs;
    if (last > 0 && cal.isOpen(last) && sim.firstStepTs >= cal.closeOf(Math.floor(last / 86_400_000)))
      await venue.submit({ type: 'EndSession' });

    const setup: Command[] = [];
    const missing = universe.instruments.filter((i) => view.instrument(i.symbol) === undefined);
    const created = universeCommands({ instruments: missing, index: null }, startTs);
    setup.push(...created);
    if (universe.index !== null && !view.indexNames().includes(universe.index.name) && missing.length === universe.instruments.length)
      setup.push(...universeCommands({ instruments: [], index: universe.index }, startTs));
    const known = new Set(view.accountIds());
    const agents = sim.agentAccounts();
    const resumed = agents.some((a) => known.has(a.accountId));
    for (const c of sim.setupCommands({ instruments: false })) {
      if ((c.type === 'OpenAccount' || c.type === 'Deposit') && known.has(c.accountId)) continue;
      setup.push(c);
    }
    if (resumed) setup.push(...sim.resumeCommands(view));
    if (setup.length > 0) {
      const acks = await venue.submitAll(setup.map(toVenueCommand));
      // canceling a leftover order that was filled meanwhile is harmless
      const bad = rejectedOf(acks, ['UNKNOWN_ORDER']);
      if (bad !== undefined) throw new Error(`Setting up the simulated market failed: ${bad.rejected!.code} ${bad.rejected!.message}`);
    }

    // Warm-up history, once per database. Each symbol and timeframe is imported on its own (a transaction
    // each), the listed symbols in order and the timeframes in order: the import is whole when the last one
    // has bars. One cut short (the process killed while it ran) is made again whole (an import of a bar
    // already there replaces it).
    let importedBars = 0;
    const days = o.warmupDays ?? 30;
    const listed = sim.universe.instruments.map((i) => i.symbol).filter((symbol) => view.instrument(symbol) !== undefined);
    const lastImport = listed.at(-1);
    if (days > 0 && lastImport !== undefined && venue.importedCandleCount(lastImport, TIMEFRAMES.at(-1)) === 0) {
      const h = generateHistory({ seed: o.seed, universe: sim.universe, days, endBefore: sim.firstStepTs });
      for (const symbol of listed) {
        const bars = h.bars.get(symbol) ?? [];
        for (const tf of TIMEFRAMES) importedBars += venue.importCandles(symbol, tf, tf === '1m' ? bars : aggregateCandles(bars, tf));
      }
    }

    let inflight: Promise<unknown> = Promise.resolve();
    let stopped = false;
    const driver = new SimDriver({
      sim,
      view,
      scheduler: o.scheduler ?? realScheduler,
      speed: o.speed ?? 1,
      paused: o.paused ?? false,
      // events come back through venue.onCommit (users' too), so the executor returns nothing
      exec: (cmds) => {
        const p = venue.submitAll(cmds.map(toVenueCommand)).then(() => undefined);
        inflight = p.catch(() => undefined);
        return p;
      },
      onError: (e) => {
        if (stopped) return;
        o.onError?.(e);
      },
    });
    driver.start();

    const market: LiveMarket = {
      sim,
      driver,
      resumed,
      importedBars,
      agentAccounts: agents,
      now: () => sim.now,
      setSpeed: (s) => driver.setSpeed(s),
      pause: () => driver.pause(),
      resume: () => driver.resume(),
      stepOnce: () => driver.stepOnce(),
      get running() {
        return driver.isRunning;
      },
      async openUserAccount(spec) {
        if (sim.isAgentAccount(spec.accountId)) throw new RangeError(`Account ${spec.accountId} belongs to the simulated market`);
        if (view.accountView(spec.accountId) === undefined) {
          const acks = await venue.submitAll(openLocalAccount(spec, sim.now).map(toVenueCommand));
          const bad = rejectedOf(acks, ['DUPLICATE_ACCOUNT']);
          if (bad !== undefined) throw new Error(`Opening account ${spec.accountId} failed: ${bad.rejected!.code} ${bad.rejected!.message}`);
        }
        return view.accountView(spec.accountId)!;
      },
      async resetUserAccount(spec) {
        const begin = resetBegin(view, spec.accountId, sim.now, () => 0);
        if (begin.length > 0) await venue.submitAll(begin.map(toVenueCommand));
        const fin = resetFinish(view, spec, sim.now);
        if (fin.commands.length > 0) await venue.submitAll(fin.commands.map(toVenueCommand));
        return fin;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        driver.stop();
        await inflight;
        off();
        clock?.detach();
      },
    };
    return market;
  } catch (e) {
    off();
    clock?.detach();
    throw e;
  }
}
