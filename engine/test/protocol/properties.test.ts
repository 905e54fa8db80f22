import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  CHANNELS,
  CHANNEL_NAMES,
  ClientMessageSchema,
  ExecutionSchema,
  LedgerEntrySchema,
  METHODS,
  METHOD_NAMES,
  OrderRecordSchema,
  OrderSpecParamsSchema,
  PlaceOrderParamsSchema,
  ProtocolClient,
  QuoteSchema,
  createPortPair,
  serveSession,
  type ChannelDef,
  type MethodDef,
} from '../../protocol/index.js';
import { Peer, TS, quote } from './helpers.js';

// ---------------------------------------------------------------- arbitraries

const symbolArb = fc.stringMatching(/^[A-Z0-9.-]{1,16}$/);
const posInt = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const natInt = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const anyInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const tsArb = fc.integer({ min: 0, max: 4_102_444_800_000 });
const sideArb = fc.constantFrom('buy' as const, 'sell' as const);
const clientOrderIdArb = fc.stringMatching(/^[\x20-\x7e]{1,64}$/);

const orderSpecArb = fc.record(
  {
    symbol: symbolArb,
    side: sideArb,
    orderType: fc.constantFrom('market', 'limit', 'stop', 'stop_limit', 'trailing_stop'),
    qty: posInt,
    price: posInt,
    stopPrice: posInt,
    trailAmount: posInt,
    tif: fc.constantFrom('day', 'gtc', 'ioc', 'fok'),
    postOnly: fc.boolean(),
    stp: fc.constantFrom('cancel_taker', 'cancel_maker', 'cancel_both'),
    clientOrderId: clientOrderIdArb,
  },
  { requiredKeys: ['symbol', 'side', 'orderType', 'qty', 'tif'] },
);

const placeParamsArb = fc.record(
  {
    spec: orderSpecArb,
    bracket: fc.record(
      {
        takeProfit: fc.record({ price: posInt }),
        stopLoss: fc.record({ stopPrice: posInt, price: posInt }, { requiredKeys: ['stopPrice'] }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['spec'] },
).map(({ spec, bracket }) => (bracket === undefined ? spec : { ...spec, bracket }));

const orderRecordArb = fc
  .tuple(
    orderSpecArb,
    fc.record(
      {
        orderId: natInt,
        accountId: natInt,
        filledQty: natInt,
        leaves: natInt,
        status: fc.constantFrom('working', 'pending_trigger', 'pending_parent', 'filled', 'canceled', 'rejected'),
        parentId: natInt,
        linkedId: natInt,
        ts: tsArb,
        updatedTs: tsArb,
        avgFillPrice: fc.double({ min: 0.01, max: 1e12, noNaN: true, noDefaultInfinity: true }),
        cancelReason: fc.constantFrom('user', 'ioc', 'expired', 'oco'),
        rejectCode: fc.constantFrom('INSUFFICIENT_FUNDS', 'INVALID_PRICE', 'MARKET_HALTED'),
        rejectMessage: fc.string({ maxLength: 200 }),
      },
      { requiredKeys: ['orderId', 'accountId', 'filledQty', 'leaves', 'status', 'ts', 'updatedTs'] },
    ),
  )
  .map(([spec, rec]) => {
    const { stp: _stp, postOnly, ...rest } = spec;
    return { ...rest, ...rec, postOnly: postOnly ?? false };
  });

const nullablePrice = fc.option(posInt, { nil: null });
const quoteArb = fc.record({
  symbol: symbolArb,
  bid: nullablePrice,
  bidSize: natInt,
  ask: nullablePrice,
  askSize: natInt,
  last: nullablePrice,
  lastSize: natInt,
  volume: natInt,
  turnover: anyInt,
  open: nullablePrice,
  high: nullablePrice,
  low: nullablePrice,
  previousClose: posInt,
  change: anyInt,
  changeBps: anyInt,
  ts: tsArb,
});

const executionArb = fc.record({
  tradeId: natInt,
  orderId: natInt,
  symbol: symbolArb,
  side: sideArb,
  price: posInt,
  qty: posInt,
  liquidity: fc.constantFrom('maker', 'taker'),
  ts: tsArb,
});

const ledgerArb = fc.record(
  {
    id: natInt,
    ts: tsArb,
    kind: fc.constantFrom('deposit', 'withdrawal', 'trade'),
    amount: anyInt,
    cash: anyInt,
    symbol: symbolArb,
    tradeId: natInt,
  },
  { requiredKeys: ['id', 'ts', 'kind', 'amount', 'cash'] },
);

// ---------------------------------------------------------------- schema properties

describe('schemas', () => {
  const cases: [string, z.ZodType, fc.Arbitrary<unknown>][] = [
    ['OrderSpec params', OrderSpecParamsSchema, orderSpecArb],
    ['order.place params', PlaceOrderParamsSchema, placeParamsArb],
    ['OrderRecord', OrderRecordSchema, orderRecordArb],
    ['Quote', QuoteSchema, quoteArb],
    ['Execution', ExecutionSchema, executionArb],
    ['LedgerEntry', LedgerEntrySchema, ledgerArb],
  ];
  it.each(cases)('a valid %s round-trips through JSON unchanged', (_name, schema, arb) => {
    fc.assert(
      fc.property(arb, (sample) => {
        const parsed = schema.parse(sample);
        expect(parsed).toEqual(sample); // fast-check also makes null-prototype objects: compare by value

        const wire: unknown = JSON.parse(JSON.stringify(parsed));
        expect(wire).toStrictEqual(parsed);
        expect(schema.parse(wire)).toStrictEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses order specs with non-integer, non-positive or unsafe numbers and unbounded strings', () => {
    const badNumber = fc.oneof(
      fc.double({ noInteger: true }),
      fc.integer({ max: 0 }),
      fc.constantFrom(2 ** 53, -(2 ** 53), Number.MAX_VALUE),
      fc.string(),
      fc.constant(null),
    );
    const badField = fc.oneof(
      fc.record({ key: fc.constantFrom('qty', 'price', 'stopPrice', 'trailAmount'), value: badNumber }),
      fc.record({
        key: fc.constant('symbol'),
        value: fc.oneof(fc.constant(''), fc.string({ minLength: 17 }), fc.constantFrom('acme', 'A B', 'A/B')),
      }),
      fc.record({
        key: fc.constant('clientOrderId'),
        value: fc.oneof(fc.constant(''), fc.string({ minLength: 65, maxLength: 100 }), fc.constant('tab\there')),
      }),
      fc.record({ key: fc.constant('accountId'), value: natInt }),
      fc.record({ key: fc.constant('orderId'), value: natInt }),
    );
    fc.assert(
      fc.property(orderSpecArb, badField, (spec, { key, value }) => {
        expect(PlaceOrderParamsSchema.safeParse({ ...spec, [key]: value }).success).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('takes the account from the session: no viewer/trader method or channel accepts accountId', () => {
    const entries: [string, MethodDef | ChannelDef][] = [
      ...METHOD_NAMES.map((m): [string, MethodDef] => [m, METHODS[m]]),
      ...CHANNEL_NAMES.map((c): [string, ChannelDef] => [`channel ${c}`, CHANNELS[c] as ChannelDef]),
    ];
    expect(entries.length).toBeGreaterThan(30);
    for (const [name, def] of entries) {
      expect(['public', 'viewer', 'trader', 'admin'], name).toContain(def.access);
      expect(def.doc.length, name).toBeGreaterThan(0);
      if (def.access === 'admin') continue;
      const r = def.params.safeParse({ accountId: 1 });
      expect(r.success, name).toBe(false);
      expect(
        r.error?.issues.some((i) => i.code === 'unrecognized_keys' && i.keys.includes('accountId')),
        name,
      ).toBe(true);
    }
  });

  it('conflates market data snapshots but never private streams or trade prints', () => {
    for (const c of CHANNEL_NAMES) {
      expect(CHANNELS[c].conflate, c).toBe(CHANNELS[c].access === 'public' && c !== 'trades');
    }
  });
});

// ---------------------------------------------------------------- server robustness

const MARK = Number.MAX_SAFE_INTEGER - 7;
const REFUSALS = new Set(['BAD_REQUEST', 'UNKNOWN_METHOD', 'FORBIDDEN', 'UNAUTHENTICATED', 'LIMIT_EXCEEDED']);

const messageLike = fc.record(
  {
    t: fc.constantFrom('hello', 'req', 'sub', 'unsub', 'res', 'push', 'welcome', 'end', 'error', ''),
    id: fc.oneof(natInt, fc.jsonValue()),
    v: fc.oneof(fc.constant(1), fc.jsonValue()),
    method: fc.oneof(fc.constantFrom(...METHOD_NAMES, '__proto__', 'constructor', 'hasOwnProperty'), fc.string()),
    channel: fc.oneof(fc.constantFrom(...CHANNEL_NAMES, '__proto__'), fc.string()),
    params: fc.oneof(
      fc.jsonValue(),
      fc.record({ symbol: fc.oneof(symbolArb, fc.jsonValue()), symbols: fc.array(symbolArb), orderId: fc.jsonValue() }, { requiredKeys: [] }),
    ),
    sub: fc.oneof(natInt, fc.jsonValue()),
  },
  { requiredKeys: ['t'] },
);

describe.each([false, true])('server fed arbitrary messages (serialize=%s)', (serialize) => {
  const weird = serialize
    ? fc.oneof(fc.jsonValue(), messageLike)
    : fc.oneof(
        fc.jsonValue(),
        messageLike,
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withSparseArray: true,
          withTypedArray: true,
        }),
      );

  it('never crashes, answers with a refusal or nothing, and still serves a valid call afterwards', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(weird, { minLength: 1, maxLength: 5 }), async (messages) => {
        const [raw, serverPort] = createPortPair({ serialize });
        const internalErrors: unknown[] = [];
        serveSession(serverPort, {
          serverName: 'fuzz',
          authenticate: () => ({ userId: 'u', accountId: 1, role: 'trader' }),
          handlers: { 'time.get': () => ({ ts: TS }), 'quote.get': ({ symbol }) => quote(symbol) },
          channels: {
            quotes: (p, _ctx, sink) => {
              for (const s of p.symbols) sink.push(quote(s));
              return () => {};
            },
          },
          onInternalError: (e) => internalErrors.push(e),
        });
        const peer = new Peer(raw);
        peer.send({ t: 'hello', v: 1 });
        await peer.waitFor((m) => m.t === 'welcome');
        const before = peer.received.length;
        for (const m of messages) peer.send(m);
        peer.send({ t: 'req', id: MARK, method: 'time.get', params: {} });
        await peer.waitFor((m) => m.t === 'res' && m.id === MARK && m.ok === true);

        const anyValid = messages.some((m) => ClientMessageSchema.safeParse(m).success);
        const replies = peer.received.slice(before) as Record<string, unknown>[];
        for (const r of replies) {
          if (r.t === 'res' && r.id === MARK && r.ok === true) continue;
          if (r.t === 'error') {
            expect((r.error as { code: string }).code).toBe('BAD_REQUEST');
          } else if (r.t === 'res' && r.ok === false) {
            expect(REFUSALS.has((r.error as { code: string }).code)).toBe(true);
          } else {
            // an accidentally valid message (say, an unsub or a sub to quotes) may succeed
            expect(anyValid).toBe(true);
            expect(['res', 'push']).toContain(r.t);
          }
        }
        expect(internalErrors).toEqual([]);
        expect(raw.closed).toBe(false);
        raw.close();
      }),
      { numRuns: 200 },
    );
  });

  it('a client on the same port keeps working after garbage from the server', async () => {
    const [clientPort, raw] = createPortPair({ serialize });
    const server = new Peer(raw);
    const client = new ProtocolClient(clientPort);
    const connecting = client.connect({ client: 'c' });
    await server.waitFor((m) => m.t === 'hello');
    server.send({ t: 'welcome', v: 1, server: 'raw' });
    await connecting;
    await fc.assert(
      fc.asyncProperty(fc.array(serialize ? fc.jsonValue() : weird, { maxLength: 5 }), async (garbage) => {
        const seen = server.all('req').length;
        const call = client.call('time.get', {}, { timeoutMs: 1000 });
        const req = await server.waitFor((m) => m.t === 'req' && server.all('req').indexOf(m) === seen);
        for (const g of garbage) server.send(g);
        server.send({ t: 'res', id: req.id, ok: true, result: { ts: TS } });
        // garbage can only be ignored (or, if it names this request, fail it): never crash the client
        await call.then(
          (r) => expect(r).toEqual({ ts: TS }),
          (e: { code: string }) => expect(['INTERNAL', 'BAD_REQUEST']).toContain(e.code),
        );
      }),
      { numRuns: 100 },
    );
    expect(client.state).toBe('open');
  });
});
