/**
 * Clock control for the simulated market: real time, accelerated (×10, ×100, any factor), as fast as
 * possible, pause and single step.
 *
 * The simulation only ever moves in fixed steps of simulated time (MarketSim.stepMs), and what a step does
 * depends only on the simulated state, never on wall time; the clock decides only *when* steps run. So the
 * same seed gives the same commands, events and state at every speed, paused or not.
 *
 * - SimClock (pure) turns wall-time deltas into a number of steps due: speed × elapsed / stepMs, with the
 *   fraction carried over. When the host cannot keep up, at most `maxLagMs` of wall time worth of steps is
 *   kept as debt; the rest is dropped and counted (the market then runs slower than asked, it does not
 *   jump). Nights and weekends take no steps (MarketSim skips them), so at speed 1 a session lasts 6.5 hours
 *   of wall time and the next one starts right after.
 * - SimDriver runs a MarketSim with a SimClock on an injected scheduler (in Node: setTimeout and
 *   performance.now; in tests: a fake), so this module needs no timers of its own. It runs the due steps in
 *   slices of at most `sliceMs` of wall time and yields between slices, so a UI on the same thread stays
 *   responsive even at 'max'. The executor may be synchronous (an Engine) or return a promise (a venue);
 *   the driver waits for each step's results before the next step.
 */
import type { Command, EngineEvent } from '../core/types.js';
import type { MarketSim, MarketView } from './market.js';

export type Speed = number | 'max';

export interface ClockOptions {
  stepMs: number;
  /** Simulated time per wall time (1 = real time), or 'max'. Default 1. */
  speed?: Speed;
  paused?: boolean;
  /** Most wall time of steps kept as debt when the host falls behind (default 2000 ms). */
  maxLagMs?: number;
}

export class SimClock {
  readonly stepMs: number;
  private _speed: Speed;
  private _paused: boolean;
  private readonly maxLagMs: number;
  /** Steps owed (fractional). */
  private debt = 0;
  /** Single steps requested (run even while paused). */
  private singles = 0;
  /** Steps dropped because the host could not keep up. */
  dropped = 0;

  constructor(opts: ClockOptions) {
    if (!(opts.stepMs > 0)) throw new RangeError('stepMs must be positive');
    this.stepMs = opts.stepMs;
    this._speed = checkSpeed(opts.speed ?? 1);
    this._paused = opts.paused ?? false;
    this.maxLagMs = opts.maxLagMs ?? 2000;
  }

  get speed(): Speed {
    return this._speed;
  }
  get paused(): boolean {
    return this._paused;
  }

  setSpeed(s: Speed): void {
    this._speed = checkSpeed(s);
    this.debt = 0;
  }
  pause(): void {
    this._paused = true;
    this.debt = 0;
  }
  resume(): void {
    this._paused = false;
    this.debt = 0;
  }
  /** Asks for n single steps (they run even while paused). */
  requestSteps(n = 1): void {
    this.singles += n;
  }

  /** Wall time passed: adds the steps it is worth. */
  elapse(wallMs: number): void {
    if (this._paused || this._speed === 'max' || !(wallMs > 0)) return;
    this.debt += (wallMs * this._speed) / this.stepMs;
    const cap = Math.max(1, (this.maxLagMs * this._speed) / this.stepMs);
    if (this.debt > cap) {
      this.dropped += Math.floor(this.debt - cap);
      this.debt = cap;
    }
  }

  /** Whole steps due now (Infinity at 'max' while running). */
  due(): number {
    if (!this._paused && this._speed === 'max') return Number.POSITIVE_INFINITY;
    return this.singles + (this._paused ? 0 : Math.floor(this.debt));
  }

  /** Marks n steps as run. */
  consume(n: number): void {
    const s = Math.min(n, this.singles);
    this.singles -= s;
    if (!this._paused && this._speed !== 'max') this.debt = Math.max(0, this.debt - (n - s));
  }

  /** Wall ms until the next step is due (for scheduling), Infinity when paused with nothing requested. */
  msUntilNext(): number {
    if (this.singles > 0) return 0;
    if (this._paused) return Number.POSITIVE_INFINITY;
    if (this._speed === 'max') return 0;
    const missing = 1 - (this.debt - Math.floor(this.debt));
    return (missing * this.stepMs) / this._speed;
  }
}

function checkSpeed(s: Speed): Speed {
  if (s === 'max') return s;
  if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) throw new RangeError(`Bad speed ${String(s)}`);
  return s;
}

/** Wall time and timers, injected (Node: performance.now and setTimeout). */
export interface Scheduler {
  /** Wall time in ms (any origin, monotonic). */
  now(): number;
  /** Runs fn after ms; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

/** Executes one step's commands in order. Return the events of each command to have the driver feed them to
 * the sim, or nothing when the caller feeds sim.observe() itself (e.g. from a venue's event stream). */
export type StepExecutor = (cmds: Command[]) => readonly (readonly EngineEvent[])[] | void | Promise<readonly (readonly EngineEvent[])[] | void>;

export interface DriverOptions {
  sim: MarketSim;
  view: MarketView;
  exec: StepExecutor;
  scheduler: Scheduler;
  speed?: Speed;
  paused?: boolean;
  /** Longest run of steps before yielding to the host (default 20 ms) ... */
  sliceMs?: number;
  /** ... and most steps in one run (default 20000). */
  sliceSteps?: number;
  /** Shortest wait between slices when not at 'max' (default 20 ms). */
  tickMs?: number;
  /** Called after every step (for stats, UIs). */
  onStep?: (sim: MarketSim, cmds: Command[]) => void;
  /** Called when the executor throws or rejects; the driver stops. */
  onError?: (e: unknown) => void;
}

export class SimDriver {
  readonly clock: SimClock;
  private readonly o: DriverOptions;
  private running = false;
  private busy = false;
  private cancelTimer: (() => void) | null = null;
  private lastWall = 0;
  /** Steps run so far. */
  steps = 0;

  constructor(o: DriverOptions) {
    this.o = o;
    this.clock = new SimClock({ stepMs: o.sim.stepMs, speed: o.speed ?? 1, paused: o.paused ?? false });
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastWall = this.o.scheduler.now();
    this.wake(0);
  }

  stop(): void {
    this.running = false;
    if (this.cancelTimer !== null) this.cancelTimer();
    this.cancelTimer = null;
  }

  setSpeed(s: Speed): void {
    this.clock.setSpeed(s);
    this.wake(0);
  }
  pause(): void {
    this.clock.pause();
  }
  resume(): void {
    this.clock.resume();
    this.lastWall = this.o.scheduler.now();
    this.wake(0);
  }
  /** One step now (also while paused). */
  stepOnce(): void {
    this.clock.requestSteps(1);
    this.wake(0);
  }

  private wake(ms: number): void {
    if (!this.running || this.busy) return;
    if (this.cancelTimer !== null) this.cancelTimer();
    this.cancelTimer = this.o.scheduler.schedule(() => {
      this.cancelTimer = null;
      this.slice();
    }, ms);
  }

  private slice(): void {
    if (!this.running) return;
    const sch = this.o.scheduler;
    const now = sch.now();
    this.clock.elapse(now - this.lastWall);
    this.lastWall = now;
    this.busy = true;
    this.runSteps(now);
  }

  /** Runs due steps until the slice budget is spent; continues asynchronously after a promise. */
  private runSteps(sliceStart: number, done = 0): void {
    const o = this.o;
    const sch = o.scheduler;
    const budget = o.sliceMs ?? 20;
    const maxSteps = o.sliceSteps ?? 20_000;
    let n = done;
    try {
      while (this.running && this.clock.due() > 0 && n < maxSteps && sch.now() - sliceStart < budget) {
        const cmds = o.sim.step(o.view);
        this.clock.consume(1);
        this.steps++;
        n++;
        const r = cmds.length === 0 ? undefined : o.exec(cmds);
        if (r !== undefined && typeof (r as Promise<unknown>).then === 'function') {
          const k = n;
          (r as Promise<readonly (readonly EngineEvent[])[] | void>).then(
            (res) => {
              this.feed(res, cmds);
              this.runSteps(sliceStart, k);
            },
            (e: unknown) => this.fail(e),
          );
          return;
        }
        this.feed(r as readonly (readonly EngineEvent[])[] | void, cmds);
      }
    } catch (e) {
      this.fail(e);
      return;
    }
    this.busy = false;
    if (!this.running) return;
    if (this.clock.due() > 0) {
      this.wake(0); // budget spent: yield to the host, then carry on
      return;
    }
    const ms = this.clock.msUntilNext();
    if (ms === Number.POSITIVE_INFINITY) return; // paused: stepOnce() or resume() wakes the driver
    this.wake(Math.max(Math.min(ms, 1_000), this.o.tickMs ?? 20));
  }

  private feed(res: readonly (readonly EngineEvent[])[] | void, cmds: Command[]): void {
    if (res !== undefined) for (const ev of res) this.o.sim.observe(ev);
    this.o.onStep?.(this.o.sim, cmds);
  }

  private fail(e: unknown): void {
    this.busy = false;
    this.stop();
    if (this.o.onError) this.o.onError(e);
    else throw e;
  }
}
