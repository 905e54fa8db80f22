// Price alerts in the venue: the protocol's alerts.* methods and alerts channel over a session (as the
// desktop's local venue and the server serve them), triggered once by the first print that reaches the
// level, persisted in the venue file across a restart, and per account.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolClient, createPortPair, serveSession, type PriceAlert } from '../../protocol/index.js';
import { MAX_ARMED_ALERTS, MAX_TRIGGERED_ALERTS, venueHandlers, type Venue } from '../../venue/index.js';
import { openVenue, tempDb, testClock } from './helpers.js';

async function market(v: Venue): Promise<void> {
  const acks = await v.submitAll([
    { type: 'CreateInstrument', instrument: { symbol: 'AAA', name: 'Triple A', tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 2000 } },
    { type: 'OpenAccount', accountId: 1 },
    { type: 'OpenAccount', accountId: 2, allowShort: true },
    { type: 'Deposit', accountId: 1, amount: 1_000_000 },
    { type: 'Deposit', accountId: 2, amount: 1_000_000 },
  ]);
  for (const a of acks) expect(a.rejected).toBeUndefined();
}

function session(v: Venue, accountId: number, role = 'viewer'): Promise<ProtocolClient> {
  const { handlers, channels } = venueHandlers(v);
  const [a, b] = createPortPair({ serialize: true });
  serveSession(b, { serverName: 'alerts-test', authenticate: () => ({ accountId, role }), handlers, channels, validateOutgoing: true });
  const c = new ProtocolClient(a);
  return c.connect({ client: 'test' }).then(() => c);
}

/** Account 2 sells `qty` at `price` and account 1 takes it: one print at that price. */
async function print(v: Venue, price: number, qty = 1): Promise<void> {
  await v.submit({ type: 'PlaceOrder', accountId: 2, symbol: 'AAA', side: 'sell', orderType: 'limit', price, qty, tif: 'day' });
  const ack = await v.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', price, qty, tif: 'ioc' });
  expect(ack.events.some((e) => e.type === 'Trade' && e.price === price)).toBe(true);
}

describe('price alerts in the venue', () => {
  it('are served through the protocol table: create, list, push on create/trigger/delete, once per alert', async () => {
    const clock = testClock();
    const v = openVenue(tempDb(), { now: clock.now });
    await market(v);
    const c = await session(v, 1);
    const pushes: PriceAlert[] = [];
    await c.subscribe('alerts', {}, { data: (a) => pushes.push(a) });

    const up = await c.call('alerts.create', { symbol: 'AAA', direction: 'above', price: 1010, note: 'breakout' });
    expect(up).toMatchObject({ symbol: 'AAA', direction: 'above', price: 1010, note: 'breakout', status: 'armed', createdAt: clock.t });
    const down = await c.call('alerts.create', { symbol: 'AAA', direction: 'below', price: 990 });
    await expect(c.call('alerts.create', { symbol: 'ZZZ', direction: 'below', price: 990 })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    await expect(c.call('alerts.create', { symbol: 'AAA', direction: 'below', price: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });

    await print(v, 1005); // reaches neither
    await print(v, 1012); // above 1010
    await print(v, 1015); // already triggered: nothing
    expect(pushes.map((a) => [a.id, a.status])).toEqual([
      [up.id, 'armed'],
      [down.id, 'armed'],
      [up.id, 'triggered'],
    ]);
    expect(pushes[2]).toMatchObject({ triggerPrice: 1012, triggeredAt: clock.t });

    const list = await c.call('alerts.list', {});
    expect(list.map((a) => [a.id, a.status])).toEqual([
      [down.id, 'armed'],
      [up.id, 'triggered'],
    ]);
    // another account sees none of them and cannot delete them
    const other = await session(v, 2);
    expect(await other.call('alerts.list', {})).toEqual([]);
    expect(await other.call('alerts.delete', { id: down.id })).toEqual({ deleted: false });
    expect(await c.call('alerts.delete', { id: down.id })).toEqual({ deleted: true });
    expect(pushes.at(-1)).toMatchObject({ id: down.id, status: 'deleted' });
    await print(v, 980); // the deleted alert does not fire
    expect(pushes).toHaveLength(4);
  });

  it('keep the most recently triggered MAX_TRIGGERED_ALERTS per account: older ones are deleted and pushed as deleted', async () => {
    const clock = testClock();
    const v = openVenue(tempDb(), { now: clock.now });
    await market(v);
    const c = await session(v, 1);
    const pushes: PriceAlert[] = [];
    await c.subscribe('alerts', {}, { data: (a) => pushes.push(a) });
    const make = async (n: number): Promise<number[]> => {
      const ids: number[] = [];
      for (let i = 0; i < n; i++) ids.push((await c.call('alerts.create', { symbol: 'AAA', direction: 'above', price: 1010 })).id);
      return ids;
    };
    const first = await make(150);
    await print(v, 1010);
    clock.t += 1_000;
    const second = await make(100);
    await print(v, 1011);
    const list = await c.call('alerts.list', {});
    expect(list).toHaveLength(MAX_TRIGGERED_ALERTS);
    expect(list.every((a) => a.status === 'triggered')).toBe(true);
    // the 50 triggered first (lowest ids among those triggered together) went
    const gone = first.slice(0, 50);
    expect(new Set(list.map((a) => a.id))).toEqual(new Set([...first.slice(50), ...second]));
    expect(pushes.filter((a) => a.status === 'deleted').map((a) => a.id).sort((x, y) => x - y)).toEqual(gone);
    // another account's triggered alerts do not count
    const other = await session(v, 2);
    await other.call('alerts.create', { symbol: 'AAA', direction: 'above', price: 1010 });
    await print(v, 1012);
    expect(await other.call('alerts.list', {})).toHaveLength(1);
    expect(await c.call('alerts.list', {})).toHaveLength(MAX_TRIGGERED_ALERTS);
  });

  it('persist in the venue file: armed ones stay armed after a restart and trigger then', async () => {
    const file = tempDb();
    const clock = testClock();
    const v1 = openVenue(file, { now: clock.now });
    await market(v1);
    const a = v1.createAlert(1, { symbol: 'AAA', direction: 'below', price: 995 });
    const b = v1.createAlert(1, { symbol: 'AAA', direction: 'above', price: 1001 });
    await print(v1, 1001);
    v1.close();

    const v2 = openVenue(file, { now: clock.now });
    expect(v2.alerts(1).map((x) => [x.id, x.status])).toEqual([
      [b.id, 'triggered'],
      [a.id, 'armed'],
    ]);
    const got: PriceAlert[] = [];
    v2.subscribeAlerts(1, (x) => got.push(x));
    await print(v2, 995);
    expect(got).toEqual([expect.objectContaining({ id: a.id, status: 'triggered', triggerPrice: 995 })]);
  });

  it('are not triggered by a trade committed before they were created (published later, after its fsync)', async () => {
    const file = tempDb();
    const clock = testClock();
    const v1 = openVenue(file, { now: clock.now, fsync: 'background' });
    await market(v1);
    await v1.submit({ type: 'PlaceOrder', accountId: 2, symbol: 'AAA', side: 'sell', orderType: 'limit', price: 1050, qty: 1, tif: 'day' });
    clock.t += 1000;
    const taken = v1.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', price: 1050, qty: 1, tif: 'ioc' });
    // the trade is committed (the quote shows it) while its batch still waits for its fsync to be published
    for (let i = 0; i < 1000 && v1.view.quote('AAA')?.last !== 1050; i++) await new Promise((r) => setImmediate(r));
    expect(v1.view.quote('AAA')?.last).toBe(1050);
    let acked = false;
    void taken.then(() => (acked = true));
    clock.t += 5000;
    const late = v1.createAlert(1, { symbol: 'AAA', direction: 'above', price: 1040 });
    expect(acked).toBe(false);
    await taken;
    expect(v1.alerts(1)).toEqual([expect.objectContaining({ id: late.id, status: 'armed' })]);
    // the next print does trigger it, also when the alert was restored by a restart
    await print(v1, 1041);
    expect(v1.alerts(1)).toEqual([expect.objectContaining({ id: late.id, status: 'triggered', triggerPrice: 1041, triggeredAt: clock.t })]);
    const kept = v1.createAlert(1, { symbol: 'AAA', direction: 'above', price: 1045 });
    v1.close();
    const v2 = openVenue(file, { now: clock.now, fsync: 'background' });
    clock.t += 1000;
    const fresh = v2.createAlert(1, { symbol: 'AAA', direction: 'above', price: 1046 });
    await print(v2, 1046);
    expect(v2.alerts(1).map((x) => [x.id, x.status, x.triggerPrice])).toEqual([
      [fresh.id, 'triggered', 1046],
      [kept.id, 'triggered', 1046],
      [late.id, 'triggered', 1041],
    ]);
  });

  it('caps the armed alerts of an account', async () => {
    const v = openVenue(tempDb(), { now: testClock().now });
    await market(v);
    for (let i = 0; i < MAX_ARMED_ALERTS; i++) v.createAlert(1, { symbol: 'AAA', direction: 'above', price: 2000 + i });
    const c = await session(v, 1);
    await expect(c.call('alerts.create', { symbol: 'AAA', direction: 'above', price: 5000 })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    expect(await (await session(v, 2)).call('alerts.create', { symbol: 'AAA', direction: 'above', price: 5000 })).toMatchObject({ status: 'armed' });
  });
});

// Model-based: random alert creations and deletions by two accounts, trade prints and restarts; after every
// step each account's alerts equal the model's (status, trigger price and time), and ids are never reused.
describe('price alerts against a model (fast-check)', () => {
  type Step =
    | { t: 'create'; account: 1 | 3; symbol: 'AAA' | 'BBB'; direction: 'above' | 'below'; price: number }
    | { t: 'delete'; account: 1 | 3; pick: number }
    | { t: 'print'; symbol: 'AAA' | 'BBB'; price: number }
    | { t: 'restart' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant('create' as const), account: fc.constantFrom(1 as const, 3 as const), symbol: fc.constantFrom('AAA' as const, 'BBB' as const), direction: fc.constantFrom('above' as const, 'below' as const), price: fc.integer({ min: 950, max: 1050 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), account: fc.constantFrom(1 as const, 3 as const), pick: fc.nat() }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('print' as const), symbol: fc.constantFrom('AAA' as const, 'BBB' as const), price: fc.integer({ min: 950, max: 1050 }) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
  );

  it('each alert is triggered by the first print that reaches its level, once, at that price; deletes and restarts keep the rest', { timeout: 120_000 }, async () => {
    let triggered = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 60 }), async (steps) => {
        const clock = testClock();
        const file = tempDb();
        let v = openVenue(file, { now: clock.now });
        await market(v);
        const more = await v.submitAll([
          { type: 'CreateInstrument', instrument: { symbol: 'BBB', name: 'Double B', tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 2000 } },
          { type: 'OpenAccount', accountId: 3 },
        ]);
        for (const a of more) expect(a.rejected).toBeUndefined();
        /** The model: every alert made, as it should be now. */
        const model = new Map<number, { accountId: number; symbol: string; direction: string; price: number; status: 'armed' | 'triggered' | 'deleted'; triggerPrice?: number; triggeredAt?: number }>();
        for (const s of steps) {
          clock.t += 1000;
          if (s.t === 'create') {
            const a = v.createAlert(s.account, { symbol: s.symbol, direction: s.direction, price: s.price });
            expect(model.has(a.id)).toBe(false);
            model.set(a.id, { accountId: s.account, symbol: s.symbol, direction: s.direction, price: s.price, status: 'armed' });
          } else if (s.t === 'delete') {
            const mine = [...model].filter(([, m]) => m.accountId === s.account && m.status !== 'deleted');
            // an id of the account's, or one that is not (another account's, deleted, or none)
            const [id, m] = mine.length > 0 && s.pick % 4 !== 0 ? mine[s.pick % mine.length]! : [1_000 + s.pick, undefined];
            const other = [...model].find(([k]) => k === id)?.[1];
            expect(v.deleteAlert(s.account, id), `delete ${id} by ${s.account}`).toBe(m !== undefined);
            if (m !== undefined) m.status = 'deleted';
            else if (other !== undefined) expect(other.status === 'deleted' || other.accountId !== s.account).toBe(true);
          } else if (s.t === 'print') {
            await v.submit({ type: 'PlaceOrder', accountId: 2, symbol: s.symbol, side: 'sell', orderType: 'limit', price: s.price, qty: 1, tif: 'day' });
            const ack = await v.submit({ type: 'PlaceOrder', accountId: 1, symbol: s.symbol, side: 'buy', orderType: 'limit', price: s.price, qty: 1, tif: 'ioc' });
            expect(ack.events.some((e) => e.type === 'Trade' && e.price === s.price)).toBe(true);
            for (const m of model.values()) {
              if (m.status !== 'armed' || m.symbol !== s.symbol) continue;
              if (m.direction === 'above' ? s.price >= m.price : s.price <= m.price) Object.assign(m, { status: 'triggered', triggerPrice: s.price, triggeredAt: clock.t });
            }
          } else {
            v.close();
            v = openVenue(file, { now: clock.now });
          }
          for (const accountId of [1, 3]) {
            const got = v.alerts(accountId).map((a) => ({ id: a.id, symbol: a.symbol, direction: a.direction, price: a.price, status: a.status, triggerPrice: a.triggerPrice, triggeredAt: a.triggeredAt }));
            const want = [...model]
              .filter(([, m]) => m.accountId === accountId && m.status !== 'deleted')
              .map(([id, m]) => ({ id, symbol: m.symbol, direction: m.direction, price: m.price, status: m.status, triggerPrice: m.triggerPrice, triggeredAt: m.triggeredAt }));
            expect(got.sort((a, b) => a.id - b.id), JSON.stringify(s)).toEqual(want.sort((a, b) => a.id - b.id));
          }
        }
        triggered += [...model.values()].filter((m) => m.status === 'triggered').length;
        v.close();
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 30), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect(triggered).toBeGreaterThan(40);
  });
});
