// Snapshot round trips over many seeds: snapshot, restore, same hash, and the same events for the same tail,
// both for the engine image the venue stores and for a venue reopened from its snapshot.
import { describe, expect, it } from 'vitest';
import { Engine, type Command, type EngineSnapshot } from '../../core/index.js';
import { decodeCommand, encodeCommand, type VenueCommand } from '../../venue/codec.js';
import { LoadClient, loadSetup, rng } from '../../venue/load.js';
import { openVenue, tempDb, T0 } from './helpers.js';

/** A seeded command stream with venue-assigned ids, as the venue would journal it. */
function stream(seed: number, n: number): Command[] {
  const s = loadSetup({ accounts: 6, symbols: 2 });
  const e = new Engine();
  const out: Command[] = [];
  let id = 1;
  let ts = T0;
  const r = rng(seed);
  const exec = (req: VenueCommand): Command => {
    ts += Math.floor(r() * 3000);
    const c = decodeCommand(encodeCommand(req, () => id++), ts);
    out.push(c);
    return c;
  };
  for (const c of s.commands) e.execute(exec(c));
  const clients = s.accounts.map((a, i) => new LoadClient(a, s.symbols, seed * 100 + i, e));
  for (let i = 0; i < n; i++) {
    const c = clients[Math.floor(r() * clients.length)]!;
    const req = r() < 0.003 ? ({ type: 'EndSession' } as const) : c.next();
    const cmd = exec(req);
    const events = e.execute(cmd);
    const last = events.at(-1);
    const ids = cmd.type === 'PlaceOrder' ? [cmd.orderId] : cmd.type === 'PlaceOco' ? cmd.legs.map((l) => l.orderId) : [];
    c.acked({ seq: 1, ts, events, orderIds: ids, ...(last?.type === 'Rejected' ? { rejected: last } : {}) });
  }
  return out;
}

describe('snapshot round trip', () => {
  it('over many seeds: restore gives the same hash and the same events for the same tail', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const cmds = stream(seed, 600);
      const cut = 100 + Math.floor(rng(seed)() * 400);
      const a = new Engine();
      for (const c of cmds.slice(0, cut)) a.execute(c);
      const text = JSON.stringify(a.snapshot());
      const b = Engine.restore(JSON.parse(text) as EngineSnapshot);
      const c = Engine.restore(JSON.parse(text) as EngineSnapshot, { book: 'reference' });
      expect(b.stateHash(), `seed ${seed}`).toBe(a.stateHash());
      expect(c.stateHash(), `seed ${seed}`).toBe(a.stateHash());
      for (const cmd of cmds.slice(cut)) {
        const ea = a.execute(cmd);
        expect(b.execute(cmd), `seed ${seed}`).toEqual(ea);
        expect(c.execute(cmd), `seed ${seed}`).toEqual(ea);
      }
      expect(b.stateHash()).toBe(a.stateHash());
      expect(c.stateHash()).toBe(a.stateHash());
    }
  });

  it('a venue reopened from its snapshot answers the same tail exactly like one that kept running', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const fa = tempDb();
      const fb = tempDb();
      const clockA = { t: T0 };
      const clockB = { t: T0 };
      let a = openVenue(fa, { now: () => clockA.t, synchronous: 'NORMAL' });
      let b = openVenue(fb, { now: () => clockB.t, synchronous: 'NORMAL' });
      const s = loadSetup({ accounts: 5, symbols: 2 });
      await a.submitAll(s.commands);
      await b.submitAll(s.commands);
      const ca = s.accounts.map((x, i) => new LoadClient(x, s.symbols, seed * 10 + i, a.view));
      // read b's quotes through the variable: b is replaced by the reopened venue halfway
      const cb = s.accounts.map((x, i) => new LoadClient(x, s.symbols, seed * 10 + i, { quote: (sym) => b.view.quote(sym) }));
      const r = rng(seed);
      for (let i = 0; i < 400; i++) {
        const k = Math.floor(r() * ca.length);
        clockA.t = clockB.t = T0 + i * 1500;
        if (i === 200) {
          // b restarts from a snapshot; a keeps running
          b.close();
          b = openVenue(fb, { now: () => clockB.t, synchronous: 'NORMAL' });
          expect(b.recovery.snapshotSeq).toBe(b.lastSeq);
          expect(b.stateHash()).toBe(a.stateHash());
        }
        const [x, y] = await Promise.all([a.submit(ca[k]!.next()), b.submit(cb[k]!.next())]);
        expect(y).toEqual(x);
        ca[k]!.acked(x);
        cb[k]!.acked(y);
      }
      expect(b.stateHash()).toBe(a.stateHash());
      a.close({ snapshot: false });
      b.close({ snapshot: false });
      a = openVenue(fa);
      expect(a.stateHash()).toBe(a.replayFromScratch().engine.stateHash());
    }
  });
});
