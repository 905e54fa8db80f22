// The live simulated market on a real venue file: set-up through the venue's submit path, warm-up bars,
// real timers, events fed back from the venue, restart without duplicates, and a clean stop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TradePrint } from '../../protocol/schemas.js';
import { MarketClock, startLiveMarket, type LiveMarket } from '../../live/index.js';
import { Venue } from '../../venue/index.js';
import { smallUniverse } from '../sim/helpers.js';

/** Monday 2025-01-06 15:00 UTC: inside the calendar's session (14:30-21:00). */
const MONDAY_1500 = Date.UTC(2025, 0, 6, 15, 0);

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'live-market-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'venue.db');
}

function open(file: string, clock: MarketClock): Venue {
  const v = Venue.open(file, { now: clock.now, synchronous: 'NORMAL' });
  cleanup.push(() => v.close({ snapshot: false }));
  return v;
}

async function start(venue: Venue, clock: MarketClock, extra: Partial<Parameters<typeof startLiveMarket>[0]> = {}): Promise<LiveMarket> {
  const m = await startLiveMarket({ venue, clock, seed: 11, speed: 600, warmupDays: 2, now: () => MONDAY_1500, universe: smallUniverse(3), ...extra });
  cleanup.push(() => m.stop());
  return m;
}

/** Resolves with the first trade print the venue publishes from now on. */
function nextTrade(venue: Venue, symbol = '*'): Promise<TradePrint> {
  return new Promise((resolve) => {
    const off = venue.subscribeMarket(symbol, (c) => {
      if (c.trades.length === 0) return;
      off();
      resolve(c.trades[0]!);
    });
  });
}

const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('the live market on a venue', () => {
  it('sets the market up through the venue, imports warm-up bars and trades on real timers in simulated time', async () => {
    const clock = new MarketClock();
    const venue = open(tempFile(), clock);
    const market = await start(venue, clock);

    expect(market.resumed).toBe(false);
    const symbols = smallUniverse(3).instruments.map((i) => i.symbol);
    expect(venue.view.instruments().map((i) => i.symbol).sort()).toEqual([...symbols].sort());
    for (const a of market.agentAccounts) expect(venue.view.accountView(a.accountId)?.cash).toBeGreaterThan(0);

    // warm-up: two sessions of 1-minute bars (390 each) per symbol, all before the live start, plus aggregates
    expect(market.importedBars).toBeGreaterThan(3 * 2 * 390);
    const bars = venue.candles({ symbol: symbols[0]!, timeframe: '1m', limit: 5000 });
    expect(bars.length).toBe(2 * 390);
    expect(bars.at(-1)!.t).toBeLessThan(market.sim.firstStepTs);
    expect(venue.candles({ symbol: symbols[0]!, timeframe: '1d' }).length).toBe(2);

    // the market moves at speed 600 (ten simulated minutes per second): wait for prints, then a quote change
    const first = await nextTrade(venue);
    expect(first.ts).toBeGreaterThanOrEqual(market.sim.firstStepTs); // stamped with simulated time
    expect(first.ts).toBeLessThan(Date.UTC(2025, 0, 7));
    const before = venue.view.quote(first.symbol)!;
    let after = before;
    while (after.last === before.last && after.bid === before.bid && after.ask === before.ask) {
      await nextTrade(venue, first.symbol);
      after = venue.view.quote(first.symbol)!;
    }
    expect(after.bid).not.toBeNull();
    expect(after.ask).not.toBeNull();
    expect(after.bid!).toBeLessThan(after.ask!);

    // live bars follow the imported ones on the chart
    await nextTrade(venue, symbols[0]!);
    const chart = venue.candles({ symbol: symbols[0]!, timeframe: '1m', limit: 5000 });
    expect(chart.length).toBeGreaterThan(2 * 390);
    for (let i = 1; i < chart.length; i++) expect(chart[i]!.t).toBeGreaterThan(chart[i - 1]!.t);
    expect(venue.invariants()).toEqual([]);
  });

  it('opens a funded user account whose orders fill against the agents, and resets it', async () => {
    const clock = new MarketClock();
    const venue = open(tempFile(), clock);
    const market = await start(venue, clock);
    const spec = { accountId: 1, initialCapital: 50_000_000 };
    const acct = await market.openUserAccount(spec);
    expect(acct.cash).toBe(50_000_000);
    expect((await market.openUserAccount(spec)).cash).toBe(50_000_000); // opening again changes nothing
    await expect(market.openUserAccount({ accountId: market.agentAccounts[0]!.accountId, initialCapital: 1 })).rejects.toThrow(RangeError);

    const symbol = smallUniverse(3).instruments[0]!.symbol;
    while (venue.view.quote(symbol)?.ask == null) await nextTrade(venue);
    const ack = await venue.submit({ type: 'PlaceOrder', accountId: 1, symbol, side: 'buy', orderType: 'market', qty: 100, tif: 'day' });
    expect(ack.rejected).toBeUndefined();
    const fills = ack.events.filter((e) => e.type === 'Trade');
    expect(fills.length).toBeGreaterThan(0);
    expect(fills.every((e) => e.type === 'Trade' && market.sim.isAgentAccount(e.makerAccountId))).toBe(true);
    expect(venue.view.accountView(1)!.positions.find((p) => p.symbol === symbol)?.qty).toBe(100);

    const fin = await market.resetUserAccount(spec);
    expect(fin.complete).toBe(true);
    const v = venue.view.accountView(1)!;
    expect(v.cash).toBe(50_000_000);
    expect(v.positions.filter((p) => p.qty !== 0)).toEqual([]);
  });

  it('makes a warm-up import cut short (the process killed while it ran) again whole at the next start', async () => {
    const file = tempFile();
    const clock1 = new MarketClock();
    const v1 = Venue.open(file, { now: clock1.now, synchronous: 'NORMAL' });
    const m1 = await startLiveMarket({ venue: v1, clock: clock1, seed: 11, speed: 600, warmupDays: 0, paused: true, now: () => MONDAY_1500, universe: smallUniverse(3) });
    const symbols = smallUniverse(3).instruments.map((i) => i.symbol);
    // what a kill part way through the import leaves: the first symbol's 1-minute bars, nothing else
    v1.importCandles(symbols[0]!, '1m', [{ t: MONDAY_1500 - 86_400_000, o: 100, h: 101, l: 99, c: 100, v: 10 }]);
    await m1.stop();
    v1.close();

    const clock2 = new MarketClock();
    const v2 = open(file, clock2);
    const m2 = await start(v2, clock2, { paused: true });
    expect(m2.importedBars).toBeGreaterThan(0);
    for (const symbol of symbols) for (const tf of ['1m', '1d'] as const) expect(v2.importedCandleCount(symbol, tf), `${symbol} ${tf}`).toBeGreaterThan(0);
    // whole now: the next start imports nothing
    const imported = v2.importedCandleCount();
    await m2.stop();
    v2.close({ snapshot: false });
    const clock3 = new MarketClock();
    const v3 = open(file, clock3);
    const m3 = await start(v3, clock3, { paused: true });
    expect(m3.importedBars).toBe(0);
    expect(v3.importedCandleCount()).toBe(imported);
  });

  it('resumes on an existing journal without duplicates and continues the simulated timeline', async () => {
    const file = tempFile();
    const clock1 = new MarketClock();
    const v1 = Venue.open(file, { now: clock1.now, synchronous: 'NORMAL' });
    const m1 = await startLiveMarket({ venue: v1, clock: clock1, seed: 11, speed: 600, warmupDays: 2, now: () => MONDAY_1500, universe: smallUniverse(3) });
    await nextTrade(v1);
    await nextTrade(v1);
    await m1.stop();
    const instruments = v1.view.instruments().length;
    const accounts = v1.view.accountIds().length;
    const imported = v1.importedCandleCount();
    const lastTs = v1.lastCommitTs;
    v1.close();

    const clock2 = new MarketClock();
    const v2 = open(file, clock2);
    // an earlier wall clock than the last stamp: the timeline continues from the stamp
    const m2 = await start(v2, clock2, { paused: true });
    expect(m2.resumed).toBe(true);
    expect(m2.importedBars).toBe(0);
    expect(v2.view.instruments().length).toBe(instruments);
    expect(v2.view.accountIds().length).toBe(accounts);
    expect(v2.importedCandleCount()).toBe(imported);
    expect(m2.sim.now).toBeGreaterThanOrEqual(lastTs);
    // the agents' leftover orders were canceled; the new sim starts from a clean book
    for (const a of m2.agentAccounts) expect(v2.view.openOrders(a.accountId)).toEqual([]);
    m2.resume();
    const t = await nextTrade(v2);
    expect(t.ts).toBeGreaterThanOrEqual(lastTs);
    expect(v2.invariants()).toEqual([]);
  });

  it('stop() leaves no timers behind and nothing more is submitted', async () => {
    const clock = new MarketClock();
    const venue = open(tempFile(), clock);
    const before = timeouts();
    const market = await start(venue, clock, { warmupDays: 0 });
    await nextTrade(venue);
    await market.stop();
    expect(market.running).toBe(false);
    expect(clock.attached).toBe(false);
    // a timer from elsewhere in the process may end meanwhile; none of the market's may remain
    expect(timeouts()).toBeLessThanOrEqual(before);
    const seq = venue.lastSeq;
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(venue.lastSeq).toBe(seq);
    await market.stop(); // idempotent
  });
});
