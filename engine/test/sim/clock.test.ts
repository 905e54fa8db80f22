// Clock control: real time, accelerated, max, pause, single step; the same results at every speed.
import { describe, expect, it } from 'vitest';
import { Engine, type Command, type EngineEvent } from '../../core/index.js';
import { MarketSim, SimClock, SimDriver, type Scheduler, type Speed } from '../../sim/index.js';
import { MONDAY, smallUniverse } from './helpers.js';

/** A fake scheduler: virtual wall time that advances only when the test says so. */
class FakeWall implements Scheduler {
  t = 0;
  private q: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  /** Wall time spent per now() call, to emulate work taking time. */
  cost = 0;
  now(): number {
    this.t += this.cost;
    return this.t;
  }
  schedule(fn: () => void, ms: number): () => void {
    const id = ++this.seq;
    this.q.push({ at: this.t + ms, fn, id });
    return () => {
      this.q = this.q.filter((x) => x.id !== id);
    };
  }
  /** Advances virtual wall time by ms, running due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.q.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.q[0];
      if (next === undefined || next.at > end) break;
      this.q.shift();
      if (next.at > this.t) this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

function market(seed = 1): { engine: Engine; sim: MarketSim } {
  const engine = new Engine();
  const sim = new MarketSim({ seed, startTs: MONDAY, universe: smallUniverse(3) });
  for (const c of sim.setupCommands()) sim.observe(engine.execute(c));
  return { engine, sim };
}

describe('SimClock', () => {
  it('turns wall time into steps at the speed, carrying fractions, and caps the lag', () => {
    const c = new SimClock({ stepMs: 1000, speed: 1 });
    c.elapse(400);
    expect(c.due()).toBe(0);
    expect(c.msUntilNext()).toBeCloseTo(600, 6);
    c.elapse(700);
    expect(c.due()).toBe(1);
    c.consume(1);
    c.setSpeed(10);
    c.elapse(1000);
    expect(c.due()).toBe(10);
    c.consume(10);
    c.setSpeed(100);
    c.elapse(60_000); // a minute of wall time missed: only 2 s worth is kept
    expect(c.due()).toBe(200);
    expect(c.dropped).toBe(5_800);
    c.pause();
    expect(c.due()).toBe(0);
    c.elapse(5_000);
    expect(c.due()).toBe(0);
    c.requestSteps(2);
    expect(c.due()).toBe(2);
    c.consume(2);
    expect(c.msUntilNext()).toBe(Number.POSITIVE_INFINITY);
    c.resume();
    c.setSpeed('max');
    expect(c.due()).toBe(Number.POSITIVE_INFINITY);
    expect(() => c.setSpeed(0)).toThrow(RangeError);
  });
});

describe('SimDriver', () => {
  it('gives the same commands, events and state at speed 1, 10, 100 and max (and step by step)', () => {
    const N = 1_500;
    const results: string[] = [];
    for (const speed of [1, 10, 100, 'max', 'step'] as (Speed | 'step')[]) {
      const { engine, sim } = market(5);
      const wall = new FakeWall();
      wall.cost = 0.01;
      const counts: number[] = [];
      let atN = '';
      const d = new SimDriver({
        sim,
        view: engine,
        scheduler: wall,
        speed: speed === 'step' ? 1 : speed,
        paused: speed === 'step',
        exec: (cmds) => cmds.map((c) => engine.execute(c)),
        onStep: (_s, cmds) => {
          counts.push(cmds.length);
          if (counts.length === N) atN = `${sim.now} ${engine.stateHash()} ${counts.join(',')}`;
        },
      });
      d.start();
      while (atN === '') {
        if (speed === 'step') d.stepOnce();
        wall.advance(speed === 'step' ? 1 : 200);
      }
      d.stop();
      results.push(atN);
    }
    expect(results[0]).toMatch(/^\d+ [0-9a-f]{16} /);
    expect(new Set(results).size).toBe(1);
  });

  it('keeps real time at speed 1 and 100, pauses, steps once while paused, and yields at max', () => {
    const { engine, sim } = market(6);
    const wall = new FakeWall();
    const d = new SimDriver({ sim, view: engine, scheduler: wall, speed: 1, exec: (cmds) => cmds.map((c) => engine.execute(c)) });
    d.start();
    wall.advance(10_000);
    expect(d.steps).toBeGreaterThanOrEqual(9);
    expect(d.steps).toBeLessThanOrEqual(11);
    d.setSpeed(100);
    const s0 = d.steps;
    wall.advance(1_000);
    expect(d.steps - s0).toBeGreaterThanOrEqual(95);
    expect(d.steps - s0).toBeLessThanOrEqual(101);
    d.pause();
    const s1 = d.steps;
    wall.advance(5_000);
    expect(d.steps).toBe(s1);
    d.stepOnce();
    wall.advance(1);
    expect(d.steps).toBe(s1 + 1);
    const t = sim.now;
    d.stepOnce();
    wall.advance(1);
    expect(sim.now).toBe(t + 1000);
    // max: runs in slices of ~20 ms of wall time, yielding in between
    wall.cost = 0.05; // each now() call "takes" 50 us
    d.resume();
    d.setSpeed('max');
    const s2 = d.steps;
    wall.advance(100);
    expect(d.steps - s2).toBeGreaterThan(500);
    d.stop();
    const s3 = d.steps;
    wall.advance(1_000);
    expect(d.steps).toBe(s3);
  });

  it('waits for an asynchronous executor (a venue) before the next step', async () => {
    const { engine, sim } = market(7);
    const wall = new FakeWall();
    let inFlight = 0;
    let maxInFlight = 0;
    const exec = async (cmds: Command[]): Promise<EngineEvent[][]> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await Promise.resolve();
      const out = cmds.map((c) => engine.execute(c));
      inFlight--;
      return out;
    };
    wall.cost = 0.01;
    const d = new SimDriver({ sim, view: engine, scheduler: wall, speed: 'max', exec });
    d.start();
    for (let i = 0; i < 20; i++) {
      wall.advance(5);
      await new Promise((r) => setTimeout(r, 0));
    }
    d.stop();
    expect(d.steps).toBeGreaterThan(5);
    expect(maxInFlight).toBe(1);
    expect(sim.counters.trades).toBeGreaterThan(0);
  });

  it('stops and reports when the executor fails', () => {
    const { engine, sim } = market(8);
    const wall = new FakeWall();
    const errors: unknown[] = [];
    const d = new SimDriver({ sim, view: engine, scheduler: wall, speed: 'max', exec: () => { throw new Error('disk full'); }, onError: (e) => errors.push(e) });
    d.start();
    wall.advance(10);
    expect(errors).toHaveLength(1);
    expect(d.isRunning).toBe(false);
  });
});
