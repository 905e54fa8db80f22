// Warm-up history: N sessions of 1-minute bars for every symbol, quickly, valid and contiguous.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../core/index.js';
import { Calendar, aggregateCandles, defaultUniverse, generateHistory, indexHistory, universeCommands, withCloses } from '../../sim/index.js';
import { MONDAY } from './helpers.js';

describe('warm-up history', () => {
  it('30 days x 20 symbols of valid 1-minute bars within seconds', () => {
    const u = defaultUniverse();
    const t0 = performance.now();
    const h = generateHistory({ seed: 1, universe: u, days: 30, endBefore: MONDAY });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(10_000); // typically ~1 s; generous for a loaded machine
    const cal = new Calendar();
    expect(h.sessions).toHaveLength(30);
    for (const open of h.sessions) expect(cal.isOpen(open)).toBe(true);
    expect(h.sessions[29]).toBe(MONDAY - 3 * 86_400_000 + 14.5 * 3_600_000); // the Friday before
    expect(h.bars.size).toBe(20);
    for (const inst of u.instruments) {
      const bars = h.bars.get(inst.symbol)!;
      expect(bars).toHaveLength(30 * 390);
      for (let i = 0; i < bars.length; i++) {
        const b = bars[i]!;
        const ok =
          b.l <= b.o && b.l <= b.c && b.h >= b.o && b.h >= b.c && b.v > 0 && b.l > 0 &&
          b.o % inst.tickSize === 0 && b.h % inst.tickSize === 0 && b.l % inst.tickSize === 0 && b.c % inst.tickSize === 0 &&
          b.v % inst.lotSize === 0;
        if (!ok) expect.fail(`${inst.symbol} bar ${i} invalid: ${JSON.stringify(b)}`);
        // contiguous minutes inside each session
        const day = Math.floor(i / 390);
        if (b.t !== h.sessions[day]! + (i % 390) * 60_000) expect.fail(`${inst.symbol} bar ${i} at ${b.t}`);
      }
      // the history leads into the live market: its last close is the instrument's previous close
      expect(bars[bars.length - 1]!.c).toBe(inst.previousClose);
      expect(h.closes.get(inst.symbol)).toBe(inst.previousClose);
      // daily moves stay inside the band around the previous close
      const days = aggregateCandles(bars, '1d');
      expect(days).toHaveLength(30);
      for (let d = 1; d < days.length; d++) {
        const prev = days[d - 1]!.c;
        expect(days[d]!.h).toBeLessThan(prev * (1 + inst.bandBps / 10_000));
        expect(days[d]!.l).toBeGreaterThan(prev * (1 - inst.bandBps / 10_000));
      }
    }
  });

  it('is deterministic per seed, and anchor start makes the last close the new previous close', () => {
    const u = defaultUniverse();
    const a = generateHistory({ seed: 5, universe: u, days: 3, endBefore: MONDAY });
    const b = generateHistory({ seed: 5, universe: u, days: 3, endBefore: MONDAY });
    const c = generateHistory({ seed: 6, universe: u, days: 3, endBefore: MONDAY });
    expect(JSON.stringify([...a.bars])).toBe(JSON.stringify([...b.bars]));
    expect(JSON.stringify([...a.bars])).not.toBe(JSON.stringify([...c.bars]));
    const s = generateHistory({ seed: 5, universe: u, days: 3, endBefore: MONDAY, anchor: 'start' });
    for (const i of u.instruments) {
      expect(s.bars.get(i.symbol)![0]!.o).toBe(i.referencePrice);
      const last = s.closes.get(i.symbol)!;
      const ui = s.universe.instruments.find((x) => x.symbol === i.symbol)!;
      expect(ui.previousClose).toBe(last);
      expect(ui.referencePrice).toBe(last);
    }
    expect(withCloses(u, new Map()).instruments).toEqual(u.instruments);
  });

  it('aggregates into longer timeframes like the engine buckets them', () => {
    const h = generateHistory({ seed: 2, universe: defaultUniverse(), days: 1, endBefore: MONDAY });
    const bars = h.bars.get('CLDW')!;
    const five = aggregateCandles(bars, '5m');
    expect(five).toHaveLength(78);
    expect(five[0]!.o).toBe(bars[0]!.o);
    expect(five[0]!.c).toBe(bars[4]!.c);
    expect(five[0]!.h).toBe(Math.max(...bars.slice(0, 5).map((b) => b.h)));
    expect(five[0]!.v).toBe(bars.slice(0, 5).reduce((s, b) => s + b.v, 0));
    const hour = aggregateCandles(bars, '1h');
    expect(hour).toHaveLength(7); // 14:30-15:00 is a part hour, then 15..20
    expect(hour[0]!.t % 3_600_000).toBe(0);
  });

  it('gives the index a history that ends where the live index starts', () => {
    const u = defaultUniverse();
    const h = generateHistory({ seed: 3, universe: u, days: 2, endBefore: MONDAY });
    const idx = indexHistory(h, h.universe.index!);
    expect(idx).toHaveLength(780);
    expect(idx[idx.length - 1]!.c).toBe(h.universe.index!.baseValue);
    const engine = new Engine();
    for (const c of universeCommands(h.universe, MONDAY)) expect(engine.execute(c)[0]!.type).not.toBe('Rejected');
    expect(engine.index('SIM10')!.value).toBe(idx[idx.length - 1]!.c);
    for (const b of idx) expect(b.l <= Math.min(b.o, b.c) && b.h >= Math.max(b.o, b.c)).toBe(true);
  });

  it("computes the index history exactly, as the engine does: a half-way value rounds half away from zero", () => {
    const bar = (t: number, c: number) => ({ t, o: c, h: c, l: c, c, v: 1 });
    // base prices are the last closes (2 and 20); the first minute is at 1 and 9
    const bars = new Map([
      ['AA', [bar(MONDAY, 1), bar(MONDAY + 60_000, 2)]],
      ['BB', [bar(MONDAY, 9), bar(MONDAY + 60_000, 20)]],
    ]);
    const h = { bars, closes: new Map(), universe: { instruments: [], index: null }, sessions: [MONDAY] };
    const idx = indexHistory(h, { name: 'HALF', baseValue: 100_000, constituents: [{ symbol: 'AA', weightBps: 3333 }, { symbol: 'BB', weightBps: 6667 }] });
    // 100000 x (3333 x 1/2 + 6667 x 9/20) / 10000 = 46666.5 exactly
    expect(idx.map((b) => b.c)).toEqual([46_667, 100_000]);
  });
});
