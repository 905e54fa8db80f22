// Replay: the market follows historical bars while the book stays a live simulated one.
//
// Stated tolerance: for every bar in which the replayed symbol traded, the simulated bar's close is within
// max(3 ticks, 0.5 % of the CSV close) of the CSV close; at least 97 % of the bars trade.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkInvariants, type Candle } from '../../core/index.js';
import { Calendar, ReplayPlan, aggregateCandles, defaultUniverse, generateHistory, inferBarMs, parseOhlcvCsv } from '../../sim/index.js';
import { MONDAY, startRun } from './helpers.js';

const SAMPLE = parseOhlcvCsv(readFileSync(new URL('../../sim/sample/SAMPLE.csv', import.meta.url), 'utf8'));
const EMPTY = { instruments: [], index: null };

function tracking(csv: readonly Candle[], sim: readonly Candle[], plan: ReplayPlan, tick: number, bucket = (t: number): number => t) {
  const byT = new Map(sim.map((c) => [c.t, c]));
  let traded = 0;
  let worst = 0;
  let sumRel = 0;
  const bad: string[] = [];
  for (let i = 0; i < csv.length; i++) {
    const c = byT.get(bucket(plan.starts[i]!));
    if (c === undefined) continue;
    traded++;
    const d = Math.abs(c.c - csv[i]!.c);
    worst = Math.max(worst, d / csv[i]!.c);
    sumRel += d / csv[i]!.c;
    if (d > Math.max(3 * tick, 0.005 * csv[i]!.c)) bad.push(`bar ${i}: csv ${csv[i]!.c} sim ${c.c}`);
  }
  return { traded, worst, meanRel: sumRel / Math.max(1, traded), bad };
}

describe('replay of the sample CSV (390 one-minute bars)', () => {
  it.each([1, 2])('seed %i: closes track the CSV within max(3 ticks, 0.5 %)', (seed) => {
    const r = startRun({ seed, universe: EMPTY, replays: [{ symbol: 'SMPL', bars: SAMPLE }], candleHistory: 1_000 });
    const plan = r.sim.replayPlan('SMPL')!;
    expect(plan.barMs).toBe(60_000);
    expect(plan.starts[0]).toBe(r.sim.firstStepTs);
    expect(plan.endTs).toBe(r.sim.firstStepTs + 390 * 60_000); // exactly one session
    const inst = r.engine.instrument('SMPL')!;
    expect(inst.previousClose).toBe(SAMPLE[0]!.o);
    r.sessions(1);
    const t = tracking(SAMPLE, r.engine.candles('SMPL', '1m'), plan, inst.tickSize);
    expect(t.bad).toEqual([]);
    expect(t.traded).toBeGreaterThanOrEqual(Math.ceil(0.97 * SAMPLE.length));
    expect(t.meanRel).toBeLessThan(0.0015);
    expect(r.stats.result().crossedBooks).toBe(0);
    expect(r.stats.result().priceBandBreaches).toBe(0);
    expect(checkInvariants(r.engine)).toEqual([]);
    // the day's range follows the CSV's
    const day = r.engine.candles('SMPL', '1d')[0]!;
    const hi = Math.max(...SAMPLE.map((b) => b.h));
    const lo = Math.min(...SAMPLE.map((b) => b.l));
    expect(Math.abs(day.h - hi) / hi).toBeLessThan(0.005);
    expect(Math.abs(day.l - lo) / lo).toBeLessThan(0.005);
  });

  it("a user's order fills against the simulated liquidity around the historical path", () => {
    const r = startRun({ seed: 3, universe: EMPTY, replays: [{ symbol: 'SMPL', bars: SAMPLE }] });
    r.exec({ type: 'OpenAccount', ts: MONDAY, accountId: 1 });
    r.exec({ type: 'Deposit', ts: MONDAY, accountId: 1, amount: 10_000_000 });
    r.steps(600);
    const plan = r.sim.replayPlan('SMPL')!;
    const bar = SAMPLE[plan.barAt(r.sim.now)]!;
    const ev = r.exec({ type: 'PlaceOrder', ts: r.sim.now, orderId: 1, accountId: 1, symbol: 'SMPL', side: 'buy', orderType: 'market', qty: 50, tif: 'day' });
    const fills = ev.filter((e) => e.type === 'Trade');
    expect(fills.length).toBeGreaterThan(0);
    for (const f of fills) expect(Math.abs(f.price - bar.c) / bar.c).toBeLessThan(0.01);
  });

  it('after the last bar the symbol keeps trading from where the history left it', () => {
    const bars = SAMPLE.slice(0, 30);
    const r = startRun({ seed: 4, universe: EMPTY, replays: [{ symbol: 'SMPL', bars }] });
    const plan = r.sim.replayPlan('SMPL')!;
    r.steps(30 * 60 + 600);
    expect(r.sim.now).toBeGreaterThan(plan.endTs);
    expect(r.sim.replayPlan('SMPL')).toBeUndefined();
    const q = r.engine.quote('SMPL')!;
    expect(q.ts).toBeGreaterThan(plan.endTs);
    expect(Math.abs(q.last! - bars[29]!.c) / bars[29]!.c).toBeLessThan(0.03);
  });
});

describe('replay of daily bars (one session per bar) onto a universe symbol', () => {
  it('re-prices the symbol, widens its band to fit, and tracks each day\'s close', () => {
    // daily bars from the project's own generator, for a universe symbol
    const h = generateHistory({ seed: 8, universe: defaultUniverse(), days: 3, endBefore: Date.UTC(2023, 5, 1) });
    const daily = aggregateCandles(h.bars.get('GLMS')!, '1d');
    expect(inferBarMs(daily)).toBe(86_400_000);
    const u = defaultUniverse();
    const r = startRun({ seed: 5, universe: { instruments: u.instruments.filter((i) => i.symbol === 'GLMS'), index: null }, replays: [{ symbol: 'GLMS', bars: daily }] });
    const plan = r.sim.replayPlan('GLMS')!;
    expect(plan.barMs).toBe(23_400_000);
    const cal = new Calendar();
    for (const s of plan.starts) expect(s).toBe(cal.nextOpen(s)); // each bar starts at an open
    expect(r.engine.instrument('GLMS')!.previousClose).toBe(daily[0]!.o);
    r.sessions(3);
    const t = tracking(daily, r.engine.candles('GLMS', '1d'), plan, 1, (t) => t - (t % 86_400_000));
    expect(t.traded).toBe(3);
    expect(t.bad).toEqual([]);
  });
});

describe('the replay plan', () => {
  const cal = new Calendar();
  const open = MONDAY + 14.5 * 3_600_000;
  const bar = (t: number, o: number, h: number, l: number, c: number): Candle => ({ t, o, h, l, c, v: 100 });

  it('lays bars end to end in trading time; a bar that would straddle the close starts at the next open', () => {
    const bars = Array.from({ length: 60 }, (_, i) => bar(i * 7 * 60_000, 100, 101, 99, 100)); // 7-minute bars
    const plan = new ReplayPlan({ symbol: 'X', bars }, cal, open, 1000, 1);
    expect(plan.barMs).toBe(7 * 60_000);
    // 390 / 7 = 55 bars fit in a session
    expect(plan.starts[54]).toBe(open + 54 * 7 * 60_000);
    expect(plan.starts[55]).toBe(open + 86_400_000);
    expect(plan.barAt(open - 1)).toBe(-1);
    expect(plan.barAt(open + 55 * 7 * 60_000)).toBe(-2); // the gap at the end of the day
    expect(plan.logValueAt(open + 55 * 7 * 60_000)).toBeCloseTo(Math.log(100), 12);
    expect(plan.barAt(plan.endTs)).toBe(60);
    expect(plan.logValueAt(plan.endTs)).toBeNaN();
  });

  it('each bar path starts at the open, touches the high and the low, stays inside them and ends at the close', () => {
    const bars = [bar(0, 1000, 1040, 990, 1030), bar(60_000, 1030, 1035, 980, 985), bar(120_000, 985, 985, 985, 985)];
    const plan = new ReplayPlan({ symbol: 'X', bars }, cal, open, 1000, 42);
    for (let i = 0; i < bars.length; i++) {
      const b = bars[i]!;
      let hi = -Infinity;
      let lo = Infinity;
      for (let t = plan.starts[i]!; t < plan.starts[i]! + plan.barMs; t += 250) {
        const v = Math.exp(plan.logValueAt(t));
        hi = Math.max(hi, v);
        lo = Math.min(lo, v);
      }
      expect(Math.exp(plan.logValueAt(plan.starts[i]!))).toBeCloseTo(b.o, 6);
      expect(hi).toBeCloseTo(b.h, 6);
      expect(lo).toBeCloseTo(b.l, 6);
      expect(Math.exp(plan.logValueAt(plan.starts[i]! + plan.barMs - 1))).toBeCloseTo(b.c, 2);
    }
    // up bar: low first; down bar: high first
    const t0 = plan.starts[0]!;
    let tLow = 0;
    let tHigh = 0;
    for (let t = t0; t < t0 + 60_000; t += 100) {
      const v = Math.exp(plan.logValueAt(t));
      if (Math.abs(v - 990) < 1e-6 && tLow === 0) tLow = t;
      if (Math.abs(v - 1040) < 1e-6 && tHigh === 0) tHigh = t;
    }
    expect(tLow).toBeGreaterThan(0);
    expect(tHigh).toBeGreaterThan(tLow);
  });

  it('the band fits the largest move from the previous close', () => {
    const bars = [bar(0, 1000, 1000, 1000, 1000), bar(86_400_000, 1000, 1250, 1000, 1200)];
    const plan = new ReplayPlan({ symbol: 'X', bars }, cal, open, 1000, 1);
    expect(plan.barMs).toBe(23_400_000);
    // 25 % above the previous close → at least 2500 bps plus margin
    expect(plan.bandBps()).toBeGreaterThanOrEqual(2_500 * 1.3);
    expect(new ReplayPlan({ symbol: 'X', bars: [bar(0, 1000, 1001, 999, 1000)] }, cal, open, 1000, 1).bandBps()).toBe(1_000);
  });
});
