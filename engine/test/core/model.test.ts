/**
 * Model test: the engine on the fast book against the engine on the deliberately simple reference book.
 * Random command sequences over every order type must produce identical events after every command and
 * identical state hashes, with all invariants holding on both. A snapshot taken mid-way and restored must
 * continue identically. A capture (the venue's cheap snapshot) must read as the snapshot of its moment
 * whatever the engine does after it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../core/engine.js';
import { checkInvariants } from '../../core/invariants.js';
import type { StateCapture } from '../../core/snapshot.js';
import type { Command, OrderSpec, OrderType, Side, StpMode, TimeInForce } from '../../core/types.js';
import { CommandGenerator, defaultMarket, setupCommands, type MarketSpec } from '../../testing/workload.js';

function runBoth(cmds: readonly Command[], checkEvery = 1): { fast: Engine; ref: Engine } {
  const fast = new Engine({ book: 'fast' });
  const ref = new Engine({ book: 'reference' });
  cmds.forEach((c, i) => {
    const a = fast.execute(c);
    const b = ref.execute(c);
    expect(a, `events differ at command ${i}: ${JSON.stringify(c)}`).toEqual(b);
    for (const x of a) if (x.type === 'Trade') expect(x.makerAccountId, 'self trade').not.toBe(x.takerAccountId);
    if (i % checkEvery === 0) {
      expect(checkInvariants(fast), `fast book invariants after ${i}`).toEqual([]);
      expect(checkInvariants(ref), `reference book invariants after ${i}`).toEqual([]);
    }
  });
  expect(fast.stateHash()).toBe(ref.stateHash());
  return { fast, ref };
}

// ------------------------------------------------------------- shrinkable abstract commands (fast-check)

const market = defaultMarket(4, 2);
const syms = market.symbols;

type Abstract =
  | { k: 'place'; acct: number; sym: number; side: Side; type: OrderType; tif: TimeInForce; lots: number; off: number; off2: number; post: boolean; stp: StpMode | null; cid: number | null; bracket: null | [number, number] }
  | { k: 'oco'; acct: number; sym: number; side: Side; lots: number; off: number; off2: number }
  | { k: 'cancel'; acct: number; ref: number; owner: boolean }
  | { k: 'replace'; acct: number; ref: number; owner: boolean; lots: number | null; off: number | null; off2: number | null }
  | { k: 'cash'; acct: number; amount: number; deposit: boolean }
  | { k: 'halt'; sym: number; halted: boolean }
  | { k: 'end' };

const side = fc.constantFrom<Side>('buy', 'sell');
const acct = fc.integer({ min: 1, max: market.accounts });
const symIdx = fc.integer({ min: 0, max: syms.length - 1 });
const off = fc.integer({ min: -8, max: 8 });
const abstract: fc.Arbitrary<Abstract> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('place' as const),
      acct,
      sym: symIdx,
      side,
      type: fc.constantFrom<OrderType>('limit', 'limit', 'limit', 'market', 'stop', 'stop_limit', 'trailing_stop'),
      tif: fc.constantFrom<TimeInForce>('gtc', 'day', 'ioc', 'fok'),
      lots: fc.integer({ min: 1, max: 12 }),
      off,
      off2: fc.integer({ min: 1, max: 6 }),
      post: fc.boolean(),
      stp: fc.option(fc.constantFrom<StpMode>('cancel_taker', 'cancel_maker', 'cancel_both')),
      cid: fc.option(fc.integer({ min: 1, max: 5 })),
      bracket: fc.option(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 })), { freq: 6 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('oco' as const), acct, sym: symIdx, side, lots: fc.integer({ min: 1, max: 8 }), off, off2: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('cancel' as const), acct, ref: fc.nat(), owner: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('replace' as const),
      acct,
      ref: fc.nat(),
      owner: fc.boolean(),
      lots: fc.option(fc.integer({ min: 1, max: 15 })),
      off: fc.option(off),
      off2: fc.option(fc.integer({ min: 1, max: 6 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cash' as const), acct, amount: fc.integer({ min: 1, max: 3_000_000_000 }), deposit: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('halt' as const), sym: symIdx, halted: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ k: 'end' as const }) },
);

/** Turns abstract commands into concrete ones; order references pick among ids issued so far. */
function concretize(xs: readonly Abstract[], m: MarketSpec = market): Command[] {
  const syms = m.symbols;
  const out = setupCommands(m);
  const ids: number[] = [];
  const owner = new Map<number, number>();
  let next = 1;
  let ts = 1_700_000_500_000;
  for (const x of xs) {
    ts += 1_000;
    switch (x.k) {
      case 'place': {
        const s = syms[x.sym]!;
        const dir = x.side === 'buy' ? -1 : 1;
        const spec: OrderSpec = { symbol: s.symbol, side: x.side, orderType: x.type, qty: x.lots * s.lotSize, tif: x.tif };
        const px = (o: number): number => s.referencePrice + o * s.tickSize;
        if (x.type === 'limit') spec.price = px(dir * x.off);
        if (x.type === 'stop' || x.type === 'stop_limit') spec.stopPrice = px(-dir * x.off2);
        if (x.type === 'stop_limit') spec.price = px(-dir * (x.off2 + 1));
        if (x.type === 'trailing_stop') spec.trailAmount = x.off2 * s.tickSize;
        if (x.post) spec.postOnly = true;
        if (x.stp !== null) spec.stp = x.stp;
        if (x.cid !== null) spec.clientOrderId = `c${x.cid}`;
        const id = next;
        next += 3;
        const cmd: Command = { type: 'PlaceOrder', ts, orderId: id, accountId: x.acct, ...spec };
        if (x.bracket !== null) {
          const ref = spec.price ?? s.referencePrice;
          cmd.bracket = {
            takeProfit: { orderId: id + 1, price: ref - dir * x.bracket[0] * s.tickSize },
            stopLoss: { orderId: id + 2, stopPrice: ref + dir * x.bracket[1] * s.tickSize },
          };
          ids.push(id + 1, id + 2);
          owner.set(id + 1, x.acct);
          owner.set(id + 2, x.acct);
        }
        ids.push(id);
        owner.set(id, x.acct);
        out.push(cmd);
        break;
      }
      case 'oco': {
        const s = syms[x.sym]!;
        const dir = x.side === 'buy' ? -1 : 1;
        const qty = x.lots * s.lotSize;
        const a = next;
        next += 2;
        out.push({
          type: 'PlaceOco',
          ts,
          accountId: x.acct,
          legs: [
            { orderId: a, symbol: s.symbol, side: x.side, orderType: 'limit', qty, price: s.referencePrice + dir * Math.abs(x.off) * s.tickSize, tif: 'gtc' },
            { orderId: a + 1, symbol: s.symbol, side: x.side, orderType: 'stop', qty, stopPrice: s.referencePrice - dir * x.off2 * s.tickSize, tif: 'gtc' },
          ],
        });
        ids.push(a, a + 1);
        owner.set(a, x.acct);
        owner.set(a + 1, x.acct);
        break;
      }
      case 'cancel':
      case 'replace': {
        const orderId = ids.length === 0 ? 999_999 : ids[x.ref % ids.length]!;
        const accountId = x.owner ? (owner.get(orderId) ?? x.acct) : x.acct;
        if (x.k === 'cancel') out.push({ type: 'CancelOrder', ts, accountId, orderId });
        else {
          const r: Command = { type: 'ReplaceOrder', ts, accountId, orderId };
          const s = syms[0]!;
          if (x.lots !== null) r.qty = x.lots * 10; // multiple of every lot size in the market
          if (x.off !== null) r.price = (x.off % 2 === 0 ? s.referencePrice : (syms[1] ?? s).referencePrice) + x.off * 10;
          if (x.off2 !== null && x.off === null) r.stopPrice = s.referencePrice + x.off2 * 10;
          if (r.qty === undefined && r.price === undefined && r.stopPrice === undefined) r.qty = 10;
          out.push(r);
        }
        break;
      }
      case 'cash':
        out.push({ type: x.deposit ? 'Deposit' : 'Withdraw', ts, accountId: x.acct, amount: x.amount });
        break;
      case 'halt':
        out.push({ type: 'SetInstrumentStatus', ts, symbol: syms[x.sym]!.symbol, status: x.halted ? 'halted' : 'open' });
        break;
      case 'end':
        out.push({ type: 'EndSession', ts });
        break;
    }
  }
  return out;
}

describe('fast book vs reference book', () => {
  it('agree on every event and the final hash for random command sequences (shrinkable)', () => {
    fc.assert(
      fc.property(fc.array(abstract, { minLength: 1, maxLength: 120 }), (xs) => {
        runBoth(concretize(xs));
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('agree, and every money total stays exact, when trades are near the largest amounts (shrinkable)', () => {
    // Twelve accounts of 1e15 (three may short), orders up to 6e14 of notional: together more than
    // MAX_MONEY, so a short seller's cash, a position's cost or a session's turnover can reach it
    // (checkInvariants checks each is an exact integer within it).
    const big: MarketSpec = {
      symbols: [{ symbol: 'BIG', name: 'Big', tickSize: 100, lotSize: 1_000_000, referencePrice: 50_000_000, bandBps: 1_000 }],
      accounts: 12,
      shortAccounts: 3,
      cashPerAccount: 1e15,
    };
    let maxTurnover = 0;
    const bigAbstract = fc
      .tuple(abstract.filter((x) => x.k !== 'end'), fc.integer({ min: 0, max: 2 }))
      .map(([x, k]) => ({ ...x, ...('sym' in x ? { sym: 0 } : {}), ...('acct' in x ? { acct: x.acct + k * 4 } : {}) }) as Abstract);
    fc.assert(
      fc.property(fc.array(bigAbstract, { minLength: 150, maxLength: 250 }), (xs) => {
        const cmds = concretize(xs, big);
        // setupCommands' own seeding is refused here (its orders' notional is past a safe integer): the long
        // accounts buy half their cash's worth from the short ones instead, so both sides can sell
        const setup = setupCommands(big).length;
        const seeds: Command[] = [];
        for (let id = 1; id <= 9; id++) {
          const ts = 1_700_000_400_000 + id;
          const qty = 10_000_000;
          const seller = 10 + (id % 3);
          seeds.push({ type: 'PlaceOrder', ts, orderId: 900_000 + 2 * id, accountId: seller, symbol: 'BIG', side: 'sell', orderType: 'limit', qty, price: 50_000_000, tif: 'gtc' });
          seeds.push({ type: 'PlaceOrder', ts, orderId: 900_001 + 2 * id, accountId: id, symbol: 'BIG', side: 'buy', orderType: 'limit', qty, price: 50_000_000, tif: 'ioc' });
        }
        cmds.splice(setup, 0, ...seeds);
        const { fast } = runBoth(cmds);
        maxTurnover = Math.max(maxTurnover, fast.quote('BIG')!.turnover);
      }),
      { numRuns: 150, seed: 5 },
    );
    // the runs do reach the bound (without the engine's check, this property fails on a turnover past it)
    expect(maxTurnover).toBeGreaterThan(8e15);
  });

  it('agree over long seeded workloads with every order type', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const m = defaultMarket(12, 3);
        const gen = new CommandGenerator(m, seed);
        const fast = new Engine({ book: 'fast' });
        const ref = new Engine({ book: 'reference' });
        for (const c of setupCommands(m)) expect(fast.execute(c)).toEqual(ref.execute(c));
        for (let i = 0; i < 1_500; i++) {
          const c = gen.next();
          const a = fast.execute(c);
          expect(a).toEqual(ref.execute(c));
          gen.observe(a);
        }
        expect(checkInvariants(fast)).toEqual([]);
        expect(checkInvariants(ref)).toEqual([]);
        expect(fast.stateHash()).toBe(ref.stateHash());
      }),
      { numRuns: 20, seed: 7 },
    );
  });

  it('a snapshot restored on either book continues with identical events and hashes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 50, max: 800 }), (seed, cut) => {
        const m = defaultMarket(8, 2);
        const gen = new CommandGenerator(m, seed);
        const orig = new Engine();
        for (const c of setupCommands(m)) orig.execute(c);
        for (let i = 0; i < cut; i++) gen.observe(orig.execute(gen.next()));
        const snap = orig.snapshot();
        const json = JSON.parse(JSON.stringify(snap)) as typeof snap;
        const fastCopy = Engine.restore(json, { book: 'fast' });
        const refCopy = Engine.restore(json, { book: 'reference' });
        expect(fastCopy.stateHash()).toBe(orig.stateHash());
        expect(refCopy.stateHash()).toBe(orig.stateHash());
        for (let i = 0; i < 400; i++) {
          const c = gen.next();
          const a = orig.execute(c);
          expect(fastCopy.execute(c)).toEqual(a);
          expect(refCopy.execute(c)).toEqual(a);
          gen.observe(a);
        }
        expect(fastCopy.stateHash()).toBe(orig.stateHash());
        expect(refCopy.stateHash()).toBe(orig.stateHash());
        expect(checkInvariants(fastCopy)).toEqual([]);
      }),
      { numRuns: 25, seed: 11 },
    );
  });

  it('is deterministic: the same commands give the same events and hash', () => {
    const m = defaultMarket(6, 2);
    const cmds = [...setupCommands(m)];
    const gen = new CommandGenerator(m, 5);
    const probe = new Engine();
    for (const c of cmds) probe.execute(c);
    for (let i = 0; i < 2_000; i++) {
      const c = gen.next();
      cmds.push(c);
      gen.observe(probe.execute(c));
    }
    const a = new Engine();
    const b = new Engine();
    const ea = cmds.map((c) => a.execute(c));
    const eb = cmds.map((c) => b.execute(c));
    expect(JSON.stringify(ea)).toBe(JSON.stringify(eb));
    expect(a.stateHash()).toBe(b.stateHash());
    expect(a.stateHash()).toBe(probe.stateHash());
  });
});

describe('captures', () => {
  it("read as the snapshot of their moment whatever the engine does next, whole, a slice at a time or as text in pieces pulled between commands, reusing an earlier capture's arrays or not", () => {
    fc.assert(
      fc.property(
        fc.array(abstract, { minLength: 1, maxLength: 150 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
        (xs, at, reuse, step, pulls) => {
          const cmds = concretize(xs);
          const cuts = new Set(at.map((a) => a % cmds.length));
          const e = new Engine();
          let held: { cap: StateCapture; text: string; pieces: Generator<string>; got: string[] } | undefined;
          const check = (): void => {
            if (held === undefined) return;
            const { cap, text, pieces, got } = held;
            for (const p of pieces) got.push(p);
            expect(got.join('')).toBe(text);
            expect(JSON.stringify(cap.snapshot())).toBe(text);
            const slices = [];
            for (let k = 0; k < cap.orders.length; k += step) slices.push(...cap.orders.slice(k, k + step));
            expect(JSON.stringify(slices)).toBe(JSON.stringify(cap.snapshot().orders));
          };
          cmds.forEach((c, i) => {
            e.execute(c);
            if (held !== undefined)
              for (let n = pulls[i % pulls.length]!; n > 0; n--) {
                const p = held.pieces.next();
                if (p.done !== true) held.got.push(p.value);
              }
            if (!cuts.has(i)) return;
            check();
            const text = JSON.stringify(e.snapshot());
            const before = held?.cap;
            const cap = e.capture(reuse ? before?.orders.recycle() : undefined);
            if (reuse && before !== undefined && before.orders.length > 0)
              expect(() => before.orders.slice(0, 1)).toThrow('This capture gave its arrays to a later one');
            held = { cap, text, pieces: cap.pieces(step), got: [] };
          });
          check();
        },
      ),
      { numRuns: 300, seed: 43 },
    );
  });

  it("keep an account's client ids as they were, thousands of them, across new ids and a session end", () => {
    const m = defaultMarket(2, 2);
    const e = new Engine();
    for (const c of setupCommands(m)) e.execute(c);
    const s = m.symbols[0]!;
    let ts = 1_700_000_900_000;
    let id = 1;
    const place = (cid: string, tif: 'ioc' | 'gtc'): void => {
      const r = e.execute({ type: 'PlaceOrder', ts: ts++, orderId: id++, accountId: 1, symbol: s.symbol, side: 'buy', orderType: 'limit', qty: s.lotSize, price: s.referencePrice - 5 * s.tickSize, tif, clientOrderId: cid });
      expect(r[0]?.type).not.toBe('OrderRejected');
    };
    for (let k = 0; k < 5_000; k++) place(`a-${k}`, k % 10 === 0 ? 'gtc' : 'ioc');
    const text = JSON.stringify(e.snapshot());
    expect((JSON.parse(text) as { accounts: { clientIds: unknown[] }[] }).accounts[0]!.clientIds).toHaveLength(5_000);
    const cap = e.capture();
    const pieces = cap.pieces(100);
    const got = [pieces.next().value as string];
    for (let k = 0; k < 3; k++) got.push(pieces.next().value as string);
    for (let k = 0; k < 500; k++) place(`b-${k}`, 'ioc');
    e.execute({ type: 'EndSession', ts: ts++ });
    for (let k = 0; k < 500; k++) place(`c-${k}`, 'ioc');
    for (const p of pieces) got.push(p);
    expect(got.join('')).toBe(text);
    expect(JSON.stringify(cap.snapshot())).toBe(text);
    // and the engine's own ids after the session end: its live orders' and the new ones
    expect((e.snapshot().accounts[0]!.clientIds as [string, number][]).map(([c]) => c)).toEqual([
      ...Array.from({ length: 500 }, (_, k) => `a-${k * 10}`),
      ...Array.from({ length: 500 }, (_, k) => `c-${k}`),
    ]);
  });
});
