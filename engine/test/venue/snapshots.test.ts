// Snapshots serialized a part per turn, handed to the history thread or (without it) written to the venue
// file when complete, model-checked: for random runs of orders, cancels,
// snapshots (explicit and periodic) and restarts, every reopen restores exactly the state before it from a
// snapshot it can use, and every snapshot the history file holds is the engine's state at its seq (the JSON
// the thread puts together from its parts hashes to the state hash a replay of the journal gives there).
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { historyPath, type Venue, type VenueOptions } from '../../venue/index.js';
import { expectHistoryMatchesEngine, openVenue, tempDb } from './helpers.js';

type Op =
  | { k: 'orders'; n: number; seed: number }
  | { k: 'cancel'; pick: number }
  | { k: 'snapshot'; thenOrders: number }
  | { k: 'reopen'; snapshot: boolean; thread: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('orders' as const), n: fc.integer({ min: 1, max: 60 }), seed: fc.integer({ min: 1, max: 1 << 30 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('snapshot' as const), thenOrders: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('reopen' as const), snapshot: fc.boolean(), thread: fc.boolean() }) },
);

const SYMBOLS = ['AAA', 'BBB'];

/** Orders from a seed: resting limits around 1000 on both sides, and now and then one that crosses. */
function orders(v: Venue, n: number, seed: number): Promise<unknown[]> {
  let x = seed;
  const next = (m: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    return x % m;
  };
  return Promise.all(
    Array.from({ length: n }, () => {
      const side = next(2) === 0 ? 'buy' : 'sell';
      const cross = next(8) === 0;
      const off = 1 + next(20);
      const price = side === 'buy' ? (cross ? 1000 + off : 1000 - off) : cross ? 1000 - off : 1000 + off;
      return v.submit({ type: 'PlaceOrder', accountId: 1 + next(3), symbol: SYMBOLS[next(2)]!, side, orderType: 'limit', qty: 1 + next(5), price, tif: next(4) === 0 ? 'ioc' : 'gtc' });
    }),
  );
}

describe('snapshots serialized in parts, handed to the history thread or written to the venue file (model-based)', () => {
  it('every reopen restores the exact state; every stored snapshot is the state at its seq', async () => {
    await fc.assert(
      // the history thread commits what it is handed at once, every 20 ms, or only when someone waits for it (a
      // query, a snapshot, close)
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 14 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 2_000 }), fc.constantFrom(0, 20, 60_000), async (ops, part, chars, commitMs) => {
        const file = tempDb();
        // small pieces and parts so a book of a few dozen orders goes over in several; a periodic snapshot now and then
        const opts = (thread: boolean): VenueOptions => ({ historyThread: thread, historyCommitMs: commitMs, snapshotPartOrders: part, snapshotPartChars: chars, snapshotEvery: 97, snapshotIntervalMs: 0 });
        let v = openVenue(file, opts(true));
        for (const symbol of SYMBOLS) await v.submit({ type: 'CreateInstrument', instrument: { symbol, name: symbol, tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 5000 } });
        for (const accountId of [1, 2, 3]) {
          await v.submit({ type: 'OpenAccount', accountId, allowShort: true });
          await v.submit({ type: 'Deposit', accountId, amount: 1e9 });
        }
        let taken = 0;
        for (const o of ops) {
          if (o.k === 'orders') await orders(v, o.n, o.seed);
          else if (o.k === 'cancel') {
            const open = v.view.openOrders(1 + (o.pick % 3));
            if (open.length > 0) await v.submit({ type: 'CancelOrder', accountId: open[0]!.accountId, orderId: open[o.pick % open.length]!.orderId });
          } else if (o.k === 'snapshot') {
            taken = v.snapshot();
            // sequenced while the parts are still being handed over
            if (o.thenOrders > 0) await orders(v, o.thenOrders, taken);
          } else {
            const hash = v.stateHash();
            const seq = v.lastSeq;
            v.close({ snapshot: o.snapshot });
            v = openVenue(file, opts(o.thread));
            expect(v.lastSeq).toBe(seq);
            expect(v.stateHash()).toBe(hash);
            expect(v.recovery.snapshotsSkipped).toEqual([]);
            // the newest snapshot is used: the closing one, or else one at least as new as the last explicit one
            if (o.snapshot) expect(v.recovery.snapshotSeq).toBe(seq);
            else expect(v.recovery.snapshotSeq).toBeGreaterThanOrEqual(taken);
            taken = v.recovery.snapshotSeq;
          }
        }
        expectHistoryMatchesEngine(v);
        v.close();
        const stored: { seq: number; hash: string }[] = [];
        for (const f of [file, historyPath(file)]) {
          const db = new Database(f, { readonly: true });
          stored.push(...(db.prepare('SELECT seq, hash FROM snapshots').all() as { seq: number; hash: string }[]));
          db.close();
        }
        expect(stored.length).toBeGreaterThan(0); // at least the closing one
        const r = openVenue(file);
        for (const s of stored) expect(r.replayFromScratch(s.seq).engine.stateHash(), `snapshot at ${s.seq}`).toBe(s.hash);
        r.close();
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

describe('a snapshot written to the venue file (no history thread)', () => {
  it('is written once its last part is produced, while trading goes on; one that fails to write is reported and the venue goes on', async () => {
    const errors: string[] = [];
    const file = tempDb();
    const opts: VenueOptions = { historyThread: false, snapshotPartOrders: 5, snapshotPartChars: 200, snapshotEvery: 0, snapshotIntervalMs: 0 };
    const v = openVenue(file, { ...opts, onError: (e, where) => errors.push(`${where}: ${(e as Error).message}`) });
    for (const symbol of SYMBOLS) await v.submit({ type: 'CreateInstrument', instrument: { symbol, name: symbol, tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 5000 } });
    for (const accountId of [1, 2, 3]) {
      await v.submit({ type: 'OpenAccount', accountId, allowShort: true });
      await v.submit({ type: 'Deposit', accountId, amount: 1e9 });
    }
    await orders(v, 80, 1);
    // the seam: the venue's own connection, to read its file (held exclusively) and to make a write fail
    const db = (v as unknown as { db: Database.Database }).db;
    const stored = (): number[] => db.prepare('SELECT seq FROM main.snapshots ORDER BY seq').pluck().all() as number[];
    const serializing = (): boolean => (v as unknown as { snapJob?: unknown }).snapJob !== undefined;
    const finished = async (): Promise<number> => {
      let turns = 0;
      for (; serializing(); turns++) await new Promise((r) => setImmediate(r));
      return turns;
    };
    expect(stored()).toEqual([]);
    const seq = v.snapshot();
    expect(stored()).toEqual([]); // not yet: the parts follow a turn at a time
    await orders(v, 10, 2); // and orders are sequenced meanwhile
    expect(await finished()).toBeGreaterThan(0);
    expect(stored()).toEqual([seq]);
    expect(errors).toEqual([]);

    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      if (sql.startsWith('INSERT OR REPLACE INTO main.snapshots')) throw new Error('disk full (simulated)');
      return prepare(sql);
    }) as typeof db.prepare;
    const failed = v.snapshot();
    expect(failed).toBeGreaterThan(seq);
    await finished();
    db.prepare = prepare;
    expect(errors).toEqual(['snapshot: disk full (simulated)']);
    expect(stored()).toEqual([seq]);
    await orders(v, 10, 3); // the venue goes on
    const hash = v.stateHash();
    const last = v.lastSeq;
    v.close({ snapshot: false });
    const r = openVenue(file, opts);
    expect(r.stateHash()).toBe(hash);
    expect(r.recovery.snapshotSeq).toBe(seq);
    expect(r.lastSeq).toBe(last);
    r.close();
  });
});

describe('arrays for the next capture', () => {
  it('are written through ahead as the book grows, and the next snapshot fills them instead of new memory', async () => {
    const file = tempDb();
    const v = openVenue(file, { snapshotEvery: 0, snapshotIntervalMs: 0 });
    for (const symbol of SYMBOLS) await v.submit({ type: 'CreateInstrument', instrument: { symbol, name: symbol, tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 5000 } });
    for (const accountId of [1, 2, 3]) {
      await v.submit({ type: 'OpenAccount', accountId, allowShort: true });
      await v.submit({ type: 'Deposit', accountId, amount: 1e12 });
    }
    // the seam: the venue's spare arrays and the job writing larger ones through
    const inside = v as unknown as { spareArrays?: { num: Float64Array; tag: Uint8Array }; warming?: unknown; snapJob?: unknown };
    const settled = async (): Promise<void> => {
      while (inside.warming !== undefined || inside.snapJob !== undefined) await new Promise((r) => setImmediate(r));
    };
    let live = 0;
    for (let round = 0; round < 3; round++) {
      // resting orders only: buys below and sells above the reference, never crossing
      await Promise.all(
        Array.from({ length: 3_000 }, (_, k) => v.submit({ type: 'PlaceOrder', accountId: 1 + (k % 3), symbol: SYMBOLS[k % 2]!, side: k % 2 === 0 ? 'buy' : 'sell', orderType: 'limit', qty: 1, price: k % 2 === 0 ? 900 - (k % 50) : 1100 + (k % 50), tif: 'gtc' })),
      );
      await settled();
      live = v.view.openOrders(1).length + v.view.openOrders(2).length + v.view.openOrders(3).length;
      expect(live).toBe(3_000 * (round + 1));
      // grown with the book (to half as many again when it outgrew them)
      expect(inside.spareArrays!.tag.length).toBeGreaterThanOrEqual(live);
      expect(inside.spareArrays!.num.length).toBe(inside.spareArrays!.tag.length * 11);
    }
    const spare = inside.spareArrays!;
    v.snapshot();
    expect(inside.spareArrays).toBeUndefined(); // taken by the capture
    // a group commit while the snapshot is serialized does not take the book for outgrown arrays
    expect(inside.snapJob).toBeDefined();
    await v.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 1, price: 800, tif: 'gtc' });
    expect(inside.snapJob).toBeDefined();
    expect(inside.warming).toBeUndefined();
    await settled();
    expect(inside.spareArrays!.num).toBe(spare.num); // and given back once the snapshot is handed over
    // and the snapshot is the state's
    const hash = v.stateHash();
    v.close({ snapshot: false });
    const r = openVenue(file, { snapshotEvery: 0, snapshotIntervalMs: 0 });
    expect(r.recovery.snapshotSeq).toBeGreaterThan(0);
    expect(r.stateHash()).toBe(hash);
    r.close();
  });
});

describe('onSnapshot', () => {
  it.each([true, false])('reports each snapshot once its text is complete (history thread: %s); one that throws goes to onError', async (historyThread) => {
    const file = tempDb();
    const seen: { blockedMs: number; totalMs: number; orders: number; chars: number }[] = [];
    const errors: string[] = [];
    let fail = false;
    const v = openVenue(file, {
      historyThread,
      snapshotPartChars: 500,
      snapshotEvery: 0,
      snapshotIntervalMs: 0,
      onSnapshot: (info) => {
        seen.push(info);
        if (fail) throw new Error('observer failed');
      },
      onError: (e, where) => errors.push(`${where}: ${(e as Error).message}`),
    });
    for (const symbol of SYMBOLS) await v.submit({ type: 'CreateInstrument', instrument: { symbol, name: symbol, tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 5000 } });
    for (const accountId of [1, 2, 3]) {
      await v.submit({ type: 'OpenAccount', accountId, allowShort: true });
      await v.submit({ type: 'Deposit', accountId, amount: 1e9 });
    }
    await orders(v, 60, 5);
    const live = [1, 2, 3].reduce((n, a) => n + v.view.openOrders(a).length, 0);
    const serializing = (): boolean => (v as unknown as { snapJob?: unknown }).snapJob !== undefined;
    const seq = v.snapshot();
    expect(serializing()).toBe(true);
    expect(seen).toEqual([]); // not before its text is complete
    while (serializing()) await new Promise((r) => setImmediate(r));
    expect(seen).toHaveLength(1);
    const [info] = seen;
    expect(info!.orders).toBe(live);
    expect(info!.blockedMs).toBeLessThanOrEqual(info!.totalMs);
    fail = true;
    await orders(v, 5, 6);
    v.snapshot();
    while (serializing()) await new Promise((r) => setImmediate(r));
    expect(errors).toEqual(['onSnapshot: observer failed']);
    v.close({ snapshot: false });
    // both were stored, and the first one's text is as long as reported
    const stored = new Map<number, number>();
    for (const f of [file, historyPath(file)]) {
      const db = new Database(f, { readonly: true });
      for (const r of db.prepare('SELECT seq, length(data) AS n FROM snapshots').all() as { seq: number; n: number }[]) stored.set(r.seq, r.n);
      db.close();
    }
    expect(stored.size).toBe(2);
    expect(stored.get(seq)).toBe(info!.chars);
  });
});
