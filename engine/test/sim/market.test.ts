// The agent-based market on the engine: determinism per seed, sessions, agents as ordinary accounts.
import { describe, expect, it } from 'vitest';
import { Engine, checkInvariants, type Command } from '../../core/index.js';
import { Calendar, MarketSim, defaultUniverse, validateUniverse } from '../../sim/index.js';
import { MONDAY, smallUniverse, startRun } from './helpers.js';

describe('default universe', () => {
  it('has 12-20 fictional instruments with sensible prices, ticks and lots, and a top-10 index', () => {
    const u = defaultUniverse();
    validateUniverse(u);
    expect(u.instruments.length).toBeGreaterThanOrEqual(12);
    expect(u.instruments.length).toBeLessThanOrEqual(20);
    for (const i of u.instruments) {
      expect([1, 5]).toContain(i.tickSize);
      expect([1, 10, 100]).toContain(i.lotSize);
      expect(i.referencePrice).toBeGreaterThanOrEqual(500);
      expect(i.referencePrice).toBeLessThanOrEqual(50_000);
      expect(i.previousClose).toBe(i.referencePrice);
      expect(i.bandBps).toBeGreaterThanOrEqual(1_000);
    }
    expect(u.index).not.toBeNull();
    expect(u.index!.constituents).toHaveLength(10);
    expect(u.index!.constituents.reduce((s, c) => s + c.weightBps, 0)).toBe(10_000);
    // the ten largest by market value, heaviest first
    const cap = (s: string): number => {
      const i = u.instruments.find((x) => x.symbol === s)!;
      return i.referencePrice * i.sharesOutstanding;
    };
    const caps = u.index!.constituents.map((c) => cap(c.symbol));
    expect([...caps].sort((a, b) => b - a)).toEqual(caps);
    const smallest = Math.min(...caps);
    const outside = u.instruments.filter((i) => !u.index!.constituents.some((c) => c.symbol === i.symbol));
    for (const i of outside) expect(cap(i.symbol)).toBeLessThanOrEqual(smallest);
  });
});

describe('determinism', () => {
  it('the same seed gives the same commands, events and state; another seed differs', () => {
    const a = startRun({ seed: 7, hashLog: true });
    const b = startRun({ seed: 7, hashLog: true });
    const c = startRun({ seed: 8, hashLog: true });
    for (const r of [a, b, c]) r.steps(900);
    expect(a.logHash()).toBe(b.logHash());
    expect(a.engine.stateHash()).toBe(b.engine.stateHash());
    expect(a.sim.counters).toEqual(b.sim.counters);
    expect(c.logHash()).not.toBe(a.logHash());
    expect(c.engine.stateHash()).not.toBe(a.engine.stateHash());
  });

  it('a fresh engine replaying the recorded commands reaches the same state (commands are all there is)', () => {
    const a = startRun({ seed: 3, universe: smallUniverse(5), keepCommands: true });
    a.steps(1_200);
    const fresh = new Engine();
    for (const c of a.commands) fresh.execute(c);
    expect(fresh.stateHash()).toBe(a.engine.stateHash());
  });
});

describe('agents are ordinary accounts', () => {
  it('every command is an agent order (or the session end) through the normal path; nothing is rejected but races', () => {
    const r = startRun({ seed: 2, universe: smallUniverse(6), keepCommands: true });
    r.steps(3_000);
    const agents = new Set(r.sim.agentAccounts().map((a) => a.accountId));
    const setup = new Set(['CreateInstrument', 'CreateIndex', 'OpenAccount', 'Deposit']);
    const kinds: Record<string, number> = {};
    for (const c of r.commands) {
      kinds[c.type] = (kinds[c.type] ?? 0) + 1;
      if (setup.has(c.type) || c.type === 'EndSession') continue;
      expect(['PlaceOrder', 'ReplaceOrder', 'CancelOrder']).toContain(c.type);
      expect(agents.has((c as { accountId: number }).accountId)).toBe(true);
    }
    expect(kinds.ReplaceOrder).toBeGreaterThan(kinds.PlaceOrder! / 2); // makers re-quote by replacing
    expect(kinds.CancelOrder).toBeGreaterThan(0);
    // the only rejections are the benign race of a replace / cancel meeting an order that filled earlier in
    // the same step (all of a step's commands are decided before any of them runs)
    const rej = r.sim.counters.rejections;
    for (const code of Object.keys(rej)) expect(code).toBe('UNKNOWN_ORDER');
    expect((rej.UNKNOWN_ORDER ?? 0) / r.sim.counters.agentOrders).toBeLessThan(0.005);
    expect(r.sim.counters.trades).toBeGreaterThan(1_000);
    expect(checkInvariants(r.engine)).toEqual([]);
    for (const a of r.sim.agentAccounts()) expect(r.engine.accountView(a.accountId)!.allowShort).toBe(true);
  });

  it("a user's market order fills against the simulated liquidity, and the makers see it", () => {
    const r = startRun({ seed: 4, universe: smallUniverse(3) });
    r.exec({ type: 'OpenAccount', ts: MONDAY, accountId: 1 });
    r.exec({ type: 'Deposit', ts: MONDAY, accountId: 1, amount: 100_000_000 });
    r.steps(120);
    const sym = 'AQLN';
    const before = r.engine.quote(sym)!;
    expect(before.bid).not.toBeNull();
    expect(before.ask).not.toBeNull();
    const ev = r.exec({ type: 'PlaceOrder', ts: r.sim.now, orderId: 1, accountId: 1, symbol: sym, side: 'buy', orderType: 'market', qty: 1_000, tif: 'day' });
    const trades = ev.filter((e) => e.type === 'Trade');
    expect(trades.length).toBeGreaterThan(0);
    expect(r.engine.accountView(1)!.positions.find((p) => p.symbol === sym)!.qty).toBe(1_000);
    // the fair value moves up with the buying pressure (impact), and the makers keep quoting
    const fv0 = r.sim.fairValue(sym)!;
    r.steps(5);
    expect(r.sim.fairValue(sym)!).toBeGreaterThan(fv0 * 0.99);
    const after = r.engine.quote(sym)!;
    expect(after.bid).not.toBeNull();
    expect(after.ask).not.toBeNull();
    expect(checkInvariants(r.engine)).toEqual([]);
  });
});

describe('sessions', () => {
  it('trades 09:30-16:00 New York time (14:30-21:00 UTC) on weekdays; EndSession at the close expires day orders', () => {
    const r = startRun({ seed: 5, universe: smallUniverse(4), keepCommands: true });
    const cal = new Calendar();
    expect(r.sim.firstStepTs).toBe(MONDAY + 14.5 * 3_600_000);
    r.sessions(1);
    const ends = r.commands.filter((c) => c.type === 'EndSession');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.ts).toBe(MONDAY + 21 * 3_600_000);
    // every order command was inside the session
    for (const c of r.commands) if (c.type === 'PlaceOrder') expect(cal.isOpen(c.ts)).toBe(true);
    expect(r.engine.liveOrders).toBe(0); // all agent orders are day orders
    expect(r.engine.sessionNumber).toBe(1);
    // a daily candle per symbol for the day
    expect(r.engine.candles('AQLN', '1d')).toHaveLength(1);
    expect(r.engine.candles('AQLN', '1m').length).toBeGreaterThan(200);
    // the next step is the next open
    expect(r.sim.nextStepTs).toBe(MONDAY + 86_400_000 + 14.5 * 3_600_000);
  });

  it('skips the weekend: Friday close to Monday open', () => {
    const friday = MONDAY + 4 * 86_400_000;
    const r = startRun({ seed: 6, universe: smallUniverse(2), startTs: friday + 20.9 * 3_600_000 });
    r.steps(400); // 6 minutes remained on Friday
    expect(r.engine.sessionNumber).toBe(1);
    expect(r.sim.now).toBeGreaterThanOrEqual(MONDAY + 7 * 86_400_000 + 14.5 * 3_600_000);
    expect(r.sim.now).toBeLessThan(MONDAY + 7 * 86_400_000 + 15 * 3_600_000);
  });

  it('a session closing at 24:00 is followed by the next trading day\'s, opening at that midnight: no day is skipped', () => {
    const DAY = 86_400_000;
    const r = startRun({ seed: 6, universe: smallUniverse(2), calendar: { openMs: 0, closeMs: DAY }, stepMs: 60_000, keepCommands: true });
    expect(r.sim.firstStepTs).toBe(MONDAY);
    r.sessions(5);
    // Monday to Friday, each ended at the midnight after it
    expect(r.commands.filter((c) => c.type === 'EndSession').map((c) => c.ts)).toEqual([1, 2, 3, 4, 5].map((k) => MONDAY + k * DAY));
    const traded = new Set(r.commands.filter((c) => c.type === 'PlaceOrder').map((c) => Math.floor((c.ts - MONDAY) / DAY)));
    expect([...traded]).toEqual([0, 1, 2, 3, 4]);
    expect(r.engine.sessionNumber).toBe(5);
    // after Friday's close (Saturday 00:00) the next open is Monday's
    expect(r.sim.nextStepTs).toBe(MONDAY + 7 * DAY);
  });

  it('with endSessions: false the sim never ends a session itself', () => {
    const r = startRun({ seed: 6, universe: smallUniverse(2), endSessions: false, keepCommands: true });
    r.steps(23_500);
    expect(r.commands.some((c: Command) => c.type === 'EndSession')).toBe(false);
    expect(r.sim.now).toBeGreaterThan(MONDAY + 86_400_000);
  });

  it('rejects a step size that does not divide the session', () => {
    expect(() => new MarketSim({ seed: 1, startTs: MONDAY, stepMs: 7_000 })).toThrow(RangeError);
  });
});

describe('restart on an existing market', () => {
  it('resumeCommands cancels the leftover agent orders and takes over the makers\' inventories', () => {
    const r = startRun({ seed: 9, universe: smallUniverse(3) });
    r.steps(600);
    expect(r.engine.liveOrders).toBeGreaterThan(0);
    // a new process: a fresh sim (same accounts) on the same engine state
    const sim2 = new MarketSim({ seed: 9, startTs: r.sim.now + 1_000, universe: smallUniverse(3) });
    const cmds = sim2.resumeCommands(r.engine);
    expect(cmds.length).toBeGreaterThan(0);
    for (const c of cmds) sim2.observe(r.engine.execute(c));
    expect(r.engine.liveOrders).toBe(0);
    for (let i = 0; i < 300; i++) for (const c of sim2.step(r.engine)) sim2.observe(r.engine.execute(c));
    for (const code of Object.keys(sim2.counters.rejections)) expect(code).toBe('UNKNOWN_ORDER'); // the usual same-step race
    expect(r.engine.quote('AQLN')!.bid).not.toBeNull();
    expect(checkInvariants(r.engine)).toEqual([]);
  });
});
