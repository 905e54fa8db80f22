// The journal encoding: what the venue executes live is exactly what replay executes, for well-formed and
// for garbage requests alike, and ids are assigned in a fixed order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, RULES, type Command } from '../../core/index.js';
import { decodeCommand, encodeCommand, orderIdsOf, type VenueCommand } from '../../venue/codec.js';
import { isVenueError } from '../../venue/errors.js';

const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(Number.NaN),
  fc.constant(Infinity),
  fc.constant(-0),
  fc.integer({ min: -5, max: 20_000 }),
  fc.double(),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constantFrom('buy', 'sell', 'limit', 'market', 'stop', 'gtc', 'day', 'ioc', 'cancel_maker', 'SYM0', 'X'),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.integer(), { maxLength: 3 }),
);

const spec = fc.record(
  {
    symbol: fc.oneof(fc.constantFrom('SYM0', 'SYM1'), junk),
    side: fc.oneof(fc.constantFrom('buy', 'sell'), junk),
    orderType: fc.oneof(fc.constantFrom('market', 'limit', 'stop', 'stop_limit', 'trailing_stop'), junk),
    qty: fc.oneof(fc.constantFrom(10, 20, 100), junk),
    price: fc.oneof(fc.integer({ min: 9_000, max: 11_000 }), junk),
    stopPrice: fc.oneof(fc.integer({ min: 9_000, max: 11_000 }), junk),
    trailAmount: fc.oneof(fc.constantFrom(5, 20), junk),
    tif: fc.oneof(fc.constantFrom('day', 'gtc', 'ioc', 'fok'), junk),
    postOnly: fc.oneof(fc.boolean(), junk),
    stp: fc.oneof(fc.constantFrom('cancel_taker', 'cancel_maker', 'cancel_both'), junk),
    clientOrderId: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), junk),
  },
  { requiredKeys: [] },
);

const request: fc.Arbitrary<VenueCommand> = fc.oneof(
  fc.record({ type: fc.constant('PlaceOrder'), accountId: fc.oneof(fc.constantFrom(1, 2), junk), s: spec, bracket: fc.option(fc.record({ takeProfit: fc.option(fc.record({ price: fc.oneof(fc.integer({ min: 9_000, max: 11_000 }), junk) })), stopLoss: fc.option(fc.record({ stopPrice: fc.oneof(fc.integer({ min: 9_000, max: 11_000 }), junk), price: fc.option(fc.integer({ min: 9_000, max: 11_000 })) })) }), { nil: undefined }) }).map(
    ({ s, ...r }) => ({ ...s, ...r }) as unknown as VenueCommand,
  ),
  fc.record({ type: fc.constant('PlaceOco'), accountId: fc.constantFrom(1, 2), legs: fc.array(spec, { minLength: 0, maxLength: 3 }) }).map((r) => r as unknown as VenueCommand),
  fc.record({ type: fc.constant('CancelOrder'), accountId: fc.oneof(fc.constantFrom(1, 2), junk), orderId: fc.oneof(fc.integer({ min: 1, max: 30 }), junk) }).map((r) => r as unknown as VenueCommand),
  fc
    .record({ type: fc.constant('ReplaceOrder'), accountId: fc.constantFrom(1, 2), orderId: fc.integer({ min: 1, max: 30 }), qty: fc.oneof(fc.constantFrom(10, 50), junk), price: fc.oneof(fc.integer({ min: 9_000, max: 11_000 }), junk) }, { requiredKeys: ['type', 'accountId', 'orderId'] })
    .map((r) => r as unknown as VenueCommand),
  fc.record({ type: fc.constantFrom('Deposit', 'Withdraw'), accountId: fc.oneof(fc.constantFrom(1, 2, 3), junk), amount: fc.oneof(fc.integer({ min: 1, max: 1e9 }), junk) }).map((r) => r as unknown as VenueCommand),
  fc.record({ type: fc.constant('OpenAccount'), accountId: fc.oneof(fc.integer({ min: 1, max: 4 }), junk), allowShort: fc.oneof(fc.boolean(), junk), limits: fc.oneof(fc.record({ maxOrderQty: fc.oneof(fc.integer({ min: 1, max: 100 }), junk) }, { requiredKeys: [] }), junk) }).map((r) => r as unknown as VenueCommand),
  fc.record({ type: fc.constant('SetInstrumentStatus'), symbol: fc.oneof(fc.constant('SYM0'), junk), status: fc.oneof(fc.constantFrom('open', 'halted'), junk) }).map((r) => r as unknown as VenueCommand),
  fc.constant({ type: 'EndSession' } as VenueCommand),
);

function freshEngine(): Engine {
  const e = new Engine();
  for (const s of ['SYM0', 'SYM1'])
    e.execute({ type: 'CreateInstrument', ts: 1, instrument: { symbol: s, name: s, tickSize: 1, lotSize: 10, referencePrice: 10_000, bandBps: 1000 } });
  for (const a of [1, 2]) {
    e.execute({ type: 'OpenAccount', ts: 1, accountId: a, allowShort: a === 1 });
    e.execute({ type: 'Deposit', ts: 1, accountId: a, amount: 1e10 });
  }
  return e;
}

describe('codec', () => {
  it('live execution equals replay execution, for any request', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 40 }), (reqs) => {
        const live = freshEngine();
        const replay = freshEngine();
        let next = 1;
        let ts = 1000;
        for (const r of reqs) {
          let enc: unknown[];
          try {
            enc = encodeCommand(r, () => next++);
          } catch (e) {
            expect(isVenueError(e, 'BAD_COMMAND')).toBe(true);
            continue;
          }
          ts += 7;
          const text = JSON.stringify(enc);
          const a = decodeCommand(enc, ts);
          const b = decodeCommand(JSON.parse(text) as unknown[], ts);
          expect(b).toEqual(a);
          expect(JSON.parse(JSON.stringify(a))).toEqual(a); // the executed command is itself JSON-stable
          expect(replay.execute(b)).toEqual(live.execute(a));
        }
        expect(replay.stateHash()).toBe(live.stateHash());
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips well-formed commands field for field', () => {
    let id = 100;
    const take = () => id++;
    const cmds: [VenueCommand, Command][] = [
      [
        { type: 'PlaceOrder', accountId: 7, symbol: 'SYM0', side: 'sell', orderType: 'stop_limit', qty: 30, price: 9_990, stopPrice: 10_000, tif: 'day', postOnly: false, stp: 'cancel_both', clientOrderId: 'abc' },
        { type: 'PlaceOrder', ts: 5, orderId: 100, accountId: 7, symbol: 'SYM0', side: 'sell', orderType: 'stop_limit', qty: 30, price: 9_990, stopPrice: 10_000, tif: 'day', stp: 'cancel_both', clientOrderId: 'abc' },
      ],
      [
        { type: 'PlaceOrder', accountId: 7, symbol: 'SYM0', side: 'buy', orderType: 'limit', qty: 30, price: 10_000, tif: 'gtc', postOnly: true, bracket: { takeProfit: { price: 10_100 }, stopLoss: { stopPrice: 9_900, price: 9_890 } } },
        { type: 'PlaceOrder', ts: 5, orderId: 101, accountId: 7, symbol: 'SYM0', side: 'buy', orderType: 'limit', qty: 30, price: 10_000, tif: 'gtc', postOnly: true, bracket: { takeProfit: { orderId: 102, price: 10_100 }, stopLoss: { orderId: 103, stopPrice: 9_900, price: 9_890 } } },
      ],
      [
        { type: 'PlaceOco', accountId: 3, legs: [{ symbol: 'SYM1', side: 'buy', orderType: 'limit', qty: 10, price: 9_000, tif: 'gtc' }, { symbol: 'SYM1', side: 'buy', orderType: 'stop', qty: 10, stopPrice: 10_500, tif: 'gtc' }] },
        { type: 'PlaceOco', ts: 5, accountId: 3, legs: [{ orderId: 104, symbol: 'SYM1', side: 'buy', orderType: 'limit', qty: 10, price: 9_000, tif: 'gtc' }, { orderId: 105, symbol: 'SYM1', side: 'buy', orderType: 'stop', qty: 10, stopPrice: 10_500, tif: 'gtc' }] },
      ],
      [{ type: 'ReplaceOrder', accountId: 3, orderId: 9, qty: 50 }, { type: 'ReplaceOrder', ts: 5, accountId: 3, orderId: 9, qty: 50 }],
      [{ type: 'CancelOrder', accountId: 3, orderId: 9 }, { type: 'CancelOrder', ts: 5, accountId: 3, orderId: 9 }],
      [{ type: 'SetAccountLimits', accountId: 3, limits: { maxOpenOrders: 5 }, allowShort: true }, { type: 'SetAccountLimits', ts: 5, accountId: 3, limits: { maxOpenOrders: 5 }, allowShort: true }],
      [
        { type: 'CreateIndex', name: 'IDX', baseValue: 100_000, constituents: [{ symbol: 'SYM0', weightBps: 10_000 }] },
        { type: 'CreateIndex', ts: 5, name: 'IDX', baseValue: 100_000, constituents: [{ symbol: 'SYM0', weightBps: 10_000 }] },
      ],
      [{ type: 'EndSession' }, { type: 'EndSession', ts: 5 }],
    ];
    for (const [req, want] of cmds) {
      const enc = encodeCommand(req, take);
      expect(decodeCommand(JSON.parse(JSON.stringify(enc)) as unknown[], 5)).toEqual(want);
    }
    expect(orderIdsOf(encodeCommand(cmds[1]![0], () => 7))).toEqual([7, 7, 7]);
  });

  it('refuses what cannot be journaled', () => {
    expect(() => encodeCommand({ type: 'Nope' } as unknown as VenueCommand, () => 1)).toThrow(/Unknown command type/);
    expect(() => encodeCommand({ type: 'OpenAccount', accountId: 1, limits: { maxOrderQty: 10n } } as unknown as VenueCommand, () => 1)).toThrow(/cannot be journaled/);
  });

  it('writes the rules a replace runs under; a replace journaled before they were written runs under rules 1', () => {
    const enc = encodeCommand({ type: 'ReplaceOrder', accountId: 3, orderId: 9, price: 120 }, () => 1);
    expect(enc).toEqual([10, 3, 9, null, 120, null, null, RULES]);
    expect(decodeCommand(JSON.parse(JSON.stringify(enc)) as unknown[], 5)).toEqual({ type: 'ReplaceOrder', ts: 5, accountId: 3, orderId: 9, price: 120 });
    // an entry as journals held it before: trailing nulls dropped, no rules
    expect(decodeCommand([10, 3, 9, null, 120], 5)).toEqual({ type: 'ReplaceOrder', ts: 5, accountId: 3, orderId: 9, price: 120, rules: 1 });
  });

  it('writes the rules a session end runs under; one journaled before they were written runs under rules 1', () => {
    const enc = encodeCommand({ type: 'EndSession' }, () => 1);
    expect(enc).toEqual([11, RULES]);
    expect(decodeCommand(JSON.parse(JSON.stringify(enc)) as unknown[], 5)).toEqual({ type: 'EndSession', ts: 5 });
    expect(decodeCommand([11], 5)).toEqual({ type: 'EndSession', ts: 5, rules: 1 });
    expect(decodeCommand([11, 2], 5)).toEqual({ type: 'EndSession', ts: 5, rules: 2 });
  });

  it('is compact', () => {
    const enc = encodeCommand({ type: 'PlaceOrder', accountId: 17, symbol: 'AAPL', side: 'buy', orderType: 'limit', qty: 100, price: 18_950, tif: 'day' }, () => 123_456);
    expect(JSON.stringify(enc)).toBe('[7,123456,17,"AAPL",0,1,100,18950,null,null,0]');
  });
});
