// The simulated market through the durable venue: the same commands as a user's (no ids, no time: the venue
// assigns both), events fed back from the venue's commit stream. The market that results is the same one an
// in-memory engine produces: trade for trade.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, checkInvariants, type Command, type EngineEvent } from '../../core/index.js';
import { MarketSim } from '../../sim/index.js';
import { Venue, type VenueCommand } from '../../venue/index.js';
import { MONDAY, smallUniverse } from './helpers.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** What the venue accepts: no time, and no order id on a placement (the venue assigns them). */
function toVenue(c: Command): VenueCommand {
  const { ts: _ts, ...rest } = c;
  if (rest.type === 'PlaceOrder') {
    const { orderId: _id, ...place } = rest;
    return place as VenueCommand;
  }
  return rest as VenueCommand;
}

const tradeKey = (e: EngineEvent): string => (e.type === 'Trade' ? `${e.ts} ${e.symbol} ${e.price} ${e.qty} ${e.aggressor} ${e.makerAccountId} ${e.takerAccountId}` : '');

describe('the simulated market on the durable venue', () => {
  it('runs through the venue like a user, and gives the same trades as on a bare engine', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-venue-'));
    const cfg = { seed: 12, startTs: MONDAY, universe: smallUniverse(3) };
    const sim = new MarketSim(cfg);
    const venue = Venue.open(path.join(dir, 'venue.db'), { now: () => sim.now, synchronous: 'NORMAL' });
    cleanup.push(() => {
      venue.close({ snapshot: false });
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const venueTrades: string[] = [];
    venue.onCommit((batch) => {
      for (const c of batch) {
        sim.observe(c.events);
        for (const e of c.events) if (e.type === 'Trade') venueTrades.push(tradeKey(e));
      }
    });
    await venue.submitAll(sim.setupCommands().map(toVenue));
    // a user, as the desktop would create one
    const user = await venue.submitAll([
      { type: 'OpenAccount', accountId: 1 },
      { type: 'Deposit', accountId: 1, amount: 50_000_000 },
    ]);
    expect(user.every((a) => a.rejected === undefined)).toBe(true);
    const STEPS = 400;
    for (let k = 0; k < STEPS; k++) {
      const cmds = sim.step(venue.view);
      if (cmds.length > 0) await venue.submitAll(cmds.map(toVenue));
    }
    // the user's market order fills against the agents' quotes
    const ack = await venue.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'BRMB', side: 'sell', orderType: 'market', qty: 200, tif: 'day' });
    expect(ack.rejected?.code).toBe('INSUFFICIENT_SHARES'); // no shares yet: the venue's risk checks apply to users
    const buy = await venue.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'BRMB', side: 'buy', orderType: 'market', qty: 200, tif: 'day' });
    expect(buy.events.filter((e) => e.type === 'Trade').length).toBeGreaterThan(0);
    expect(venue.invariants()).toEqual([]);
    expect(sim.counters.agentOrders).toBeGreaterThan(2_000);

    // the same seed on a bare engine: the same trades (order ids differ: the venue assigns its own)
    const engine = new Engine();
    const sim2 = new MarketSim(cfg);
    const engineTrades: string[] = [];
    const exec = (c: Command): void => {
      const ev = engine.execute(c);
      sim2.observe(ev);
      for (const e of ev) if (e.type === 'Trade') engineTrades.push(tradeKey(e));
    };
    for (const c of sim2.setupCommands()) exec(c);
    for (let k = 0; k < STEPS; k++) for (const c of sim2.step(engine)) exec(c);
    expect(venueTrades.length).toBeGreaterThan(200);
    expect(venueTrades.slice(0, engineTrades.length)).toEqual(engineTrades);
    expect(sim2.counters.agentOrders).toBe(sim.counters.agentOrders);
    expect(checkInvariants(engine)).toEqual([]);
  });
});
