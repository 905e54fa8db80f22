// Fuzzing the server's trust boundary with fast-check, over real HTTP and WebSocket:
//
// 1. Every method and channel: requests built from the JSON Schemas the server publishes at /api/v1/methods
//    (their edge values, plus a trader's realistic orders, pages and cursors), and the same requests with a
//    field replaced by junk or a stray key added, from a guest, a viewer, a trader and an admin, over
//    WebSocket and REST, in random order against one server whose venue keeps every effect. Every answer
//    is a result matching the method's result schema, given only to a principal the method admits, or an
//    error with a code of the closed set and a message: never INTERNAL, never a 5xx. Whatever an answer or a
//    push carries with an account id is the caller's own (no one reads another's orders, fills or
//    account). Every push matches its channel's data schema; the sockets stay open; nothing is logged as an
//    error. The run must reach past
//    validation (orders placed, engine rejections, pages followed by cursor).
// 2. The REST routes' path segments (percent-encoded, raw, malformed): a typed 4xx, never a 5xx.
// 3. GET against POST: a read-only method answers its parameters as a query string as it answers them as a
//    JSON body; GET runs no other method.
// 4. The sign-in routes with random bodies and tokens, and users signing in, rotating, changing passwords,
//    enrolling and using 2FA: typed answers; a refresh token works once; a signed-out token is refused;
//    each TOTP code and each backup code works once.
// 5. WebSocket envelopes after the handshake: any message gets a typed answer or none; the session goes on.
// 6. Idempotency-Key against a model: the first outcome for a key is replayed to the same request, another
//    request is 409, and a key sent twice at once runs once.
// 7. The WebSocket upgrade with any Authorization, subprotocol list, Origin, key, version and query: 101
//    or a 4xx in the error shape; refused handshakes give their address slot back.
// 8. The admin routes: users created with any name, role and password, the audit log read with any query:
//    typed answers; the user list stays readable with unique names.
//
// FUZZ_RUNS and FUZZ_SEED run longer campaigns than the suite's fixed seed (e.g. FUZZ_RUNS=2000 FUZZ_SEED=$RANDOM).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type WebSocket from 'ws';
import { RESULT_CODES } from '../../engine/core/codes.js';
import { ACCESS_RANK, CHANNEL_NAMES, CHANNELS, METHOD_NAMES, METHODS, roleRank, ServerMessageSchema, type ChannelName, type MethodName } from '../../engine/protocol/index.js';
import { base32Decode, totp, TOTP_STEP_SEC } from '../src/auth/totp.js';
import { createLogger } from '../src/log.js';
import { connectWs } from '../src/ws/client-port.js';
import { api, createUser, fund, listInstrument, PASSWORD, rawInbox, rawUpgrade, setupAdmin, startServer, type Json, type Session, type TestServer } from './helpers.js';

type Who = 'guest' | 'viewer' | 'trader' | 'admin';
const WHO: readonly Who[] = ['guest', 'viewer', 'trader', 'admin'];
const RANK: Record<Who, number> = { guest: 0, viewer: roleRank('viewer'), trader: roleRank('trader'), admin: roleRank('admin') };
const CODES = new Set<string>(RESULT_CODES);
const ACCESS_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

let s: TestServer;
const logs: { level: string; msg: string }[] = [];
const tokens: Partial<Record<Who, string>> = {};
/** Each principal's own account (a guest has none). */
const accountOf: Partial<Record<Who, number>> = {};
const accounts: number[] = [];
/** Cursors the server handed out (all, and by method), offered back by the generator. */
const cursors: string[] = [];
const cursorsOf = new Map<string, string[]>();

beforeAll(async () => {
  const logger = createLogger('debug', (line) => void logs.push(JSON.parse(line) as { level: string; msg: string }));
  s = await startServer({ sim: 'off', allowShort: true, ws: { rate: 100_000, burst: 100_000, maxPerIp: 40 } as never, http: { rate: 100_000, burst: 100_000 } as never }, { logger });
  const admin = await setupAdmin(s);
  const trader = await createUser(s, admin, 'fuzztrader', 'trader');
  const viewer = await createUser(s, admin, 'fuzzviewer', 'viewer');
  const other = await createUser(s, admin, 'othertrader', 'trader');
  tokens.admin = admin.accessToken;
  tokens.trader = trader.accessToken;
  tokens.viewer = viewer.accessToken;
  accountOf.admin = admin.user.accountId ?? undefined;
  accountOf.trader = trader.user.accountId ?? undefined;
  accountOf.viewer = viewer.user.accountId ?? undefined;
  for (const u of [trader, viewer, other, admin] as Session[]) if (u.user.accountId !== null) accounts.push(u.user.accountId);
  await listInstrument(s, admin);
  await listInstrument(s, admin, { symbol: 'BETA', name: 'Beta Inc', tickSize: 5, lotSize: 10, referencePrice: 5_000, bandBps: 1000 });
  await fund(s, admin, trader.user.accountId!);
  await fund(s, admin, other.user.accountId!);
  await fund(s, admin, admin.user.accountId!);
  // liquidity on both sides of ACME from another trader, so the fuzzer's orders can trade
  for (const [side, price] of [['sell', 10_050], ['sell', 10_100], ['buy', 9_950], ['buy', 9_900]] as const) {
    const r = await api(s.url, 'POST', '/api/v1/rpc/order.place', { token: other.accessToken, body: { symbol: 'ACME', side, orderType: 'limit', qty: 500, price, tif: 'gtc' } });
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  }
});
afterAll(async () => {
  await s?.stop();
});

// ---------------------------------------------------------------- arbitraries from the published schemas

type Schema = Record<string, Json>;
const now = Date.now();
/** Values that reach further than a schema's shape alone: known symbols, ids, prices near the book. */
const HINTS: Record<string, () => fc.Arbitrary<unknown>> = {
  symbol: () => fc.constantFrom('ACME', 'BETA', 'NOPE'),
  symbols: () => fc.array(fc.constantFrom('ACME', 'BETA', 'NOPE'), { minLength: 1, maxLength: 3 }),
  orderId: () => fc.integer({ min: 1, max: 80 }),
  accountId: () => fc.nat().map((i) => (accounts.length > 0 ? accounts[i % accounts.length]! : 1)),
  price: () => fc.integer({ min: 8_000, max: 12_000 }),
  stopPrice: () => fc.integer({ min: 8_000, max: 12_000 }),
  trailAmount: () => fc.integer({ min: 1, max: 500 }),
  qty: () => fc.integer({ min: 1, max: 300 }),
  amount: () => fc.integer({ min: 1, max: 1_000_000 }),
  from: () => fc.integer({ min: now - 86_400_000, max: now + 60_000 }),
  to: () => fc.integer({ min: now - 3_600_000, max: now + 86_400_000 }),
  cursor: () => fc.nat().map((i) => (cursors.length > 0 ? cursors[i % cursors.length]! : 'none')),
  id: () => fc.integer({ min: 1, max: 20 }),
  // small pages, so that results have a next page and its cursor comes back in later calls
  limit: () => fc.integer({ min: 1, max: 5 }),
};

function intBounds(sc: Schema): [number, number] {
  const lo = sc.minimum ?? (sc.exclusiveMinimum !== undefined ? sc.exclusiveMinimum + 1 : Number.MIN_SAFE_INTEGER);
  const hi = sc.maximum ?? (sc.exclusiveMaximum !== undefined ? sc.exclusiveMaximum - 1 : Number.MAX_SAFE_INTEGER);
  return [lo, hi];
}

/** Values the schema accepts: its bounds and edge values often, its shape always. */
function fromSchema(sc: Schema, key?: string): fc.Arbitrary<unknown> {
  const hint = key !== undefined ? HINTS[key] : undefined;
  const own = ownArb(sc);
  return hint === undefined ? own : fc.oneof({ arbitrary: hint(), weight: 3 }, { arbitrary: own, weight: 1 });
}

function ownArb(sc: Schema): fc.Arbitrary<unknown> {
  if (Array.isArray(sc.anyOf)) return fc.oneof(...(sc.anyOf as Schema[]).map((x) => fromSchema(x)));
  if (sc.const !== undefined) return fc.constant(sc.const);
  if (Array.isArray(sc.enum)) return fc.constantFrom(...(sc.enum as unknown[]));
  if (Array.isArray(sc.type)) return fc.oneof(...(sc.type as string[]).map((t) => ownArb({ ...sc, type: t })));
  switch (sc.type) {
    case 'object': {
      const props = (sc.properties ?? {}) as Record<string, Schema>;
      const rec: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) rec[k] = fromSchema(v, k);
      return fc.record(rec, { requiredKeys: (sc.required ?? []) as string[] });
    }
    case 'array': {
      if (Array.isArray(sc.prefixItems)) return fc.tuple(...(sc.prefixItems as Schema[]).map((x) => fromSchema(x)));
      const min = sc.minItems ?? 0;
      return fc.array(fromSchema(sc.items ?? {}), { minLength: min, maxLength: Math.min(sc.maxItems ?? min + 3, min + 3) });
    }
    case 'string': {
      const min = sc.minLength ?? 0;
      const max = Math.min(sc.maxLength ?? 64, 256);
      if (typeof sc.pattern === 'string') return fc.stringMatching(new RegExp(sc.pattern)).filter((x) => x.length >= min && x.length <= max);
      return fc.oneof(fc.string({ minLength: min, maxLength: max }), fc.string({ minLength: min, maxLength: max, unit: 'binary' }));
    }
    case 'integer': {
      const [lo, hi] = intBounds(sc);
      return fc.oneof(fc.constantFrom(lo, hi), fc.integer({ min: lo, max: hi }), fc.integer({ min: Math.max(lo, 0), max: Math.max(Math.min(hi, 1000), Math.max(lo, 0)) }));
    }
    case 'number':
      return fc.double({ min: sc.minimum ?? -1e15, max: sc.maximum ?? 1e15, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/**
 * Orders as a trader sends them (the fields each type needs, near the book), beside the schema's own:
 * a request built from the schema alone mostly mixes fields of several order types and stops at
 * INVALID_ORDER, which leaves matching, fills and the private streams unexercised.
 */
const orderArb = fc
  .record({ symbol: fc.constantFrom('ACME', 'ACME', 'ACME', 'BETA'), side: fc.constantFrom('buy', 'sell'), qty: fc.integer({ min: 1, max: 200 }), tif: fc.constantFrom('day', 'gtc', 'ioc', 'fok') })
  .chain((base) => {
    const tick = base.symbol === 'ACME' ? 1 : 5;
    const mid = base.symbol === 'ACME' ? 10_000 : 5_000;
    const px = fc.integer({ min: -40, max: 40 }).map((k) => mid + k * 5 * tick);
    const resting = fc.constantFrom('day', 'gtc');
    const sign = base.side === 'buy' ? 1 : -1;
    const typed = fc.oneof(
      fc.record({ orderType: fc.constant('limit'), price: px }),
      fc.record({ orderType: fc.constant('limit'), price: px, postOnly: fc.boolean(), stp: fc.constantFrom('cancel_taker', 'cancel_maker', 'cancel_both') }),
      fc.record({ orderType: fc.constant('market') }),
      fc.record({ orderType: fc.constant('stop'), stopPrice: px, tif: resting }),
      fc.record({ orderType: fc.constant('stop_limit'), stopPrice: px, price: px, tif: resting }),
      fc.record({ orderType: fc.constant('trailing_stop'), trailAmount: fc.integer({ min: 1, max: 40 }).map((k) => k * tick), tif: resting }),
      // a bracket: take-profit on the winning side of the entry, stop-loss on the losing side
      fc.tuple(px, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), resting).map(([p, up, down, tif]) => ({
        orderType: 'limit',
        price: p,
        tif,
        bracket: { takeProfit: { price: p + sign * up * tick }, stopLoss: { stopPrice: p - sign * down * tick } },
      })),
    );
    return fc.tuple(typed, fc.option(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { nil: undefined })).map(([t, cid]) => ({
      ...base,
      qty: base.symbol === 'BETA' ? base.qty * 10 : base.qty,
      ...t,
      ...(cid !== undefined ? { clientOrderId: cid } : {}),
    }));
  });
/** A cursor the method gave out earlier (dropped from the JSON while there is none). */
const knownCursor = (m: MethodName): fc.Arbitrary<string | undefined> =>
  fc.nat().map((i) => {
    const mine = cursorsOf.get(m) ?? [];
    return mine.length > 0 ? mine[i % mine.length] : undefined;
  });
const DOMAIN: Partial<Record<MethodName, fc.Arbitrary<unknown>>> = {
  'orders.list': fc.record(
    { status: fc.constantFrom('open', 'filled', 'canceled', 'rejected', 'all'), symbol: fc.constantFrom('ACME', 'BETA'), limit: fc.integer({ min: 1, max: 5 }), cursor: knownCursor('orders.list') },
    { requiredKeys: ['limit', 'cursor'] },
  ),
  'executions.list': fc.record({ symbol: fc.constantFrom('ACME', 'BETA'), limit: fc.integer({ min: 1, max: 5 }), cursor: knownCursor('executions.list') }, { requiredKeys: ['limit', 'cursor'] }),
  'order.place': orderArb,
  'order.replace': fc.record({ orderId: fc.integer({ min: 1, max: 120 }), qty: fc.integer({ min: 1, max: 200 }), price: fc.integer({ min: 9_800, max: 10_200 }) }, { requiredKeys: ['orderId'] }),
  'order.cancel': fc.record({ orderId: fc.integer({ min: 1, max: 120 }) }),
};
/** How often each method is called, against 1 for the others. */
const WEIGHT: Partial<Record<MethodName, number>> = { 'order.place': 8, 'order.replace': 2, 'order.cancel': 2, 'orders.list': 2, 'executions.list': 2 };

/** A request the schema accepts (or a trader's, for methods in DOMAIN), or one with a field replaced by junk or a stray key added. */
function paramsArb(sc: Schema, domain?: fc.Arbitrary<unknown>): fc.Arbitrary<{ params: unknown; mutated: boolean }> {
  const valid = domain === undefined ? fromSchema(sc) : fc.oneof({ arbitrary: domain, weight: 3 }, { arbitrary: fromSchema(sc), weight: 1 });
  const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 0.5, 2 ** 53, -(2 ** 53), 1e308, '', 'x'.repeat(300), null, [], {}, true));
  const mutated = fc.tuple(valid, fc.nat(), junk, fc.boolean()).map(([v, i, j, stray]) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return j;
    const keys = Object.keys(v);
    if (stray || keys.length === 0) return { ...v, [`stray${i % 3}`]: j };
    return { ...v, [keys[i % keys.length]!]: j };
  });
  return fc.oneof(
    { arbitrary: valid.map((params) => ({ params, mutated: false })), weight: 4 },
    { arbitrary: mutated.map((params) => ({ params, mutated: true })), weight: 1 },
  );
}

const jsonSchema = (t: z.ZodType): Schema => z.toJSONSchema(t, { io: 'input', unrepresentable: 'any' }) as Schema;

type Call =
  | { kind: 'req'; name: MethodName; who: Who; via: 'ws' | 'rest'; params: unknown; mutated: boolean }
  | { kind: 'sub'; name: ChannelName; who: Who; params: unknown; mutated: boolean };

// the table's hub.* entries are the desktop host's; the server answers them UNKNOWN_METHOD (ws.test.ts)
const SERVED_METHODS = METHOD_NAMES.filter((m) => !m.startsWith('hub.'));
const SERVED_CHANNELS = CHANNEL_NAMES.filter((c) => !c.startsWith('hub.'));
/** Mostly the trader, whose calls get furthest. */
const whoArb = fc.constantFrom<Who>('trader', 'trader', 'trader', 'admin', 'viewer', 'guest');

const callArb: fc.Arbitrary<Call> = fc.oneof(
  ...SERVED_METHODS.map((name) => ({
    weight: WEIGHT[name] ?? 1,
    arbitrary: fc
      .record({ who: whoArb, via: fc.constantFrom('ws' as const, 'rest' as const), p: paramsArb(jsonSchema(METHODS[name].params), DOMAIN[name]) })
      .map(({ who, via, p }): Call => ({ kind: 'req', name, who, via, ...p })),
  })),
  ...SERVED_CHANNELS.map((name) => ({
    weight: 1,
    arbitrary: fc.record({ who: whoArb, p: paramsArb(jsonSchema(CHANNELS[name].params)) }).map(({ who, p }): Call => ({ kind: 'sub', name, who, ...p })),
  })),
);

// ---------------------------------------------------------------- the run

interface Conn {
  ws: WebSocket;
  inbox: ReturnType<typeof rawInbox>;
}

describe('fuzzing every method and channel from the published schemas', () => {
  it('every answer is typed, admitted and schema-true; pushes match their channel; sockets stay up; nothing is logged as an error', { timeout: 1_800_000 }, async () => {
    const conns = {} as Record<Who, Conn>;
    for (const who of WHO) {
      const ws = await connectWs(s.wsUrl, tokens[who] !== undefined ? { token: tokens[who] } : { origin: s.origin });
      const inbox = rawInbox(ws);
      ws.send(JSON.stringify({ t: 'hello', v: 1, client: `fuzz-${who}` }));
      expect((await inbox.next()).t).toBe('welcome');
      conns[who] = { ws, inbox };
    }
    const subChannel = new Map<string, { who: Who; channel: ChannelName }>();
    const tally = new Map<string, number>();
    const count = (k: string): void => void tally.set(k, (tally.get(k) ?? 0) + 1);
    let id = 0;

    const checkError = (what: string, err: Json): string => {
      expect(CODES.has(err?.code), `${what}: ${JSON.stringify(err)}`).toBe(true);
      expect(err.code, `${what}: ${JSON.stringify(err)}`).not.toBe('INTERNAL');
      expect(typeof err.message === 'string' && err.message.length > 0, what).toBe(true);
      return err.code as string;
    };
    /** Whatever carries an account id is the caller's own: no one reads another's orders, fills or account. */
    const checkOwn = (what: string, who: Who, data: Json): void => {
      const rows = Array.isArray(data) ? data : Array.isArray(data?.items) ? data.items : [data];
      for (const row of rows) if (row !== null && typeof row === 'object' && 'accountId' in row) expect(row.accountId, `${what}: another account's data`).toBe(accountOf[who]);
    };
    const checkResult = (what: string, name: MethodName, result: Json, who: Who): void => {
      const r = METHODS[name].result.safeParse(result);
      expect(r.success, `${what}: ${JSON.stringify(r.error?.issues)}`).toBe(true);
      if (!name.startsWith('admin.')) checkOwn(what, who, result);
      if (result !== null && typeof result === 'object' && typeof result.nextCursor === 'string') {
        cursors.push(result.nextCursor);
        cursorsOf.set(name, [...(cursorsOf.get(name) ?? []), result.nextCursor]);
      }
    };

    await fc.assert(
      fc.asyncProperty(fc.array(callArb, { minLength: 10, maxLength: 40 }), async (calls) => {
        for (const c of calls) {
          const what = `${c.who} ${c.kind} ${c.name} ${JSON.stringify(c.params)?.slice(0, 300)}`;
          const access = ACCESS_RANK[(c.kind === 'req' ? METHODS[c.name] : CHANNELS[c.name]).access];
          if (c.kind === 'req' && c.via === 'rest') {
            const r = await api(s.url, 'POST', `/api/v1/rpc/${c.name}`, { body: c.params ?? {}, ...(tokens[c.who] !== undefined ? { token: tokens[c.who]! } : {}) });
            expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
            if (r.status === 200) {
              expect(RANK[c.who], what).toBeGreaterThanOrEqual(access);
              checkResult(what, c.name, r.body, c.who);
              count(`ok ${c.name}`);
              count('ok');
            } else {
              expect(r.status, what).toBeGreaterThanOrEqual(400);
              count(checkError(what, r.body));
            }
            continue;
          }
          const { ws, inbox } = conns[c.who];
          const myId = ++id;
          const msg = c.kind === 'req' ? { t: 'req', id: myId, method: c.name, params: c.params } : { t: 'sub', id: myId, channel: c.name, params: c.params };
          ws.send(JSON.stringify(msg));
          const res = await inbox.next((x) => x.t === 'res' && x.id === myId, 5000);
          if (res.ok === true) {
            expect(RANK[c.who], what).toBeGreaterThanOrEqual(access);
            if (c.kind === 'req') checkResult(what, c.name, res.result, c.who);
            else {
              expect(typeof res.result?.sub, what).not.toBe('undefined');
              subChannel.set(`${c.who}:${res.result.sub}`, { who: c.who, channel: c.name });
            }
            count(`ok ${c.name}`);
            count('ok');
          } else {
            const code = checkError(what, res.error);
            count(code);
            if (RANK[c.who] < access) expect(ACCESS_CODES.has(code) || code === 'BAD_REQUEST', what).toBe(true);
          }
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 60), seed: Number(process.env.FUZZ_SEED ?? 20261206), endOnFailure: true },
    );

    // every push on every subscription matches its channel's data schema; every socket is still open
    let pushes = 0;
    for (const who of WHO) {
      const { ws, inbox } = conns[who];
      /** Per subscription, the last push's seq: pushes are numbered 1, 2, 3, ... without gaps. */
      const lastSeq = new Map<number, number>();
      for (const m of inbox.all) {
        if (m.t === 'push') {
          expect(m.seq, `${who} sub ${m.sub}: seq after ${lastSeq.get(m.sub) ?? 0}`).toBe((lastSeq.get(m.sub) ?? 0) + 1);
          lastSeq.set(m.sub, m.seq);
        }
        if (m.t === 'error') throw new Error(`${who}: an error message ${JSON.stringify(m)}`);
        if (m.t !== 'push' && m.t !== 'end') continue;
        const sub = subChannel.get(`${who}:${m.sub}`);
        expect(sub, `${who}: a push for unknown subscription ${m.sub}`).toBeDefined();
        if (m.t === 'end') {
          checkError(`${who} end of ${sub!.channel}`, m.error);
          continue;
        }
        const r = CHANNELS[sub!.channel].data.safeParse(m.data);
        expect(r.success, `${who} push on ${sub!.channel}: ${JSON.stringify(r.error?.issues)}`).toBe(true);
        if (!sub!.channel.startsWith('admin.')) checkOwn(`${who} push on ${sub!.channel}`, who, m.data);
        pushes++;
      }
      expect(ws.readyState, who).toBe(ws.OPEN);
      ws.send(JSON.stringify({ t: 'req', id: ++id, method: 'time.get' }));
      const last = id;
      expect((await inbox.next((x) => x.id === last)).ok, who).toBe(true);
      ws.close();
    }

    // the run reached past validation: it placed orders, met the engine's rules and followed cursors
    const t = (k: string): number => tally.get(k) ?? 0;
    expect(t('ok'), JSON.stringify([...tally])).toBeGreaterThan(200);
    expect(t('ok order.place'), JSON.stringify([...tally])).toBeGreaterThan(10);
    expect(t('BAD_REQUEST')).toBeGreaterThan(50);
    const domain = [...tally].filter(([k]) => !k.startsWith('ok') && k !== 'BAD_REQUEST' && !ACCESS_CODES.has(k)).reduce((n, [, v]) => n + v, 0);
    expect(domain, JSON.stringify([...tally])).toBeGreaterThan(30);
    expect(t('UNAUTHENTICATED') + t('FORBIDDEN')).toBeGreaterThan(30);
    expect(cursors.length).toBeGreaterThan(0);
    expect(pushes).toBeGreaterThan(20);
    expect(logs.filter((l) => l.level === 'error'), JSON.stringify(logs.filter((l) => l.level === 'error').slice(0, 3))).toEqual([]);
  });
});

describe('fuzzing the path parameters of the REST routes', () => {
  it('any segment, percent-encoded or raw, gets a typed 4xx (or the method it names), never a 5xx', { timeout: 120_000 }, async () => {
    // what the segment decodes to, when it does; segments naming a real user are left out (the admin
    // would disable or re-role them)
    const decoded = (raw: string): string | undefined => {
      try {
        return decodeURIComponent(raw);
      } catch {
        return undefined;
      }
    };
    const segment = fc
      .oneof(
        fc.string({ unit: 'binary', maxLength: 24 }).map(encodeURIComponent),
        fc.stringMatching(/^(%[0-9A-Fa-f]{0,2}|[a-z0-9.~_-]){1,12}$/),
        fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%C0%AF', '%ED%A0%80', '1e3', '0x10', '-1', '0', '9007199254740993', '..', '%2e%2e', 'order.place', 'time.get', 'hub.info', 'constructor', '__proto__', 'toString'),
      )
      .filter((raw) => raw.length > 0 && !/^[0-9]+$/.test((decoded(raw) ?? '').trim()));
    const routeArb = fc.oneof(
      segment.map((x) => ['DELETE', `/api/v1/auth/sessions/${x}`] as const),
      fc.tuple(segment, fc.constantFrom('disable', 'enable', 'role', 'password', '2fa/reset')).map(([x, a]) => ['POST', `/api/v1/admin/users/${x}/${a}`] as const),
      segment.map((x) => ['GET', `/api/v1/rpc/${x}`] as const),
      segment.map((x) => ['POST', `/api/v1/rpc/${x}`] as const),
    );
    const before = logs.filter((l) => l.level === 'error').length;
    let bad = 0;
    await fc.assert(
      fc.asyncProperty(routeArb, async ([method, path]) => {
        const r = await api(s.url, method, path, { token: tokens.admin!, ...(method === 'POST' ? { body: { role: 'viewer' } } : {}) });
        expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
        if (r.status >= 400) {
          expect(CODES.has(r.body?.code) && r.body.code !== 'INTERNAL', `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(true);
          if (r.body.code === 'BAD_REQUEST') bad++;
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect(bad).toBeGreaterThan(10);
    expect(logs.filter((l) => l.level === 'error').slice(before)).toEqual([]);
    // the malformed encodings themselves
    for (const path of ['/api/v1/rpc/%E0%A4%A', '/api/v1/auth/sessions/%E0%A4%A', '/api/v1/admin/users/%ED%A0%80/disable']) {
      const r = await api(s.url, path.includes('/rpc/') ? 'GET' : path.includes('sessions') ? 'DELETE' : 'POST', path, { token: tokens.admin! });
      expect(r, path).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: 'The path is not valid percent-encoded UTF-8' } });
    }
    for (const id of ['1e3', '0x10', '+1', '01']) {
      const r = await api(s.url, 'POST', `/api/v1/admin/users/${id}/enable`, { token: tokens.admin! });
      expect(r, id).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: 'A user id is a positive integer' } });
    }
  });
});

describe('fuzzing GET against POST', () => {
  it('a read-only method answers the same to its parameters as a query string as to the JSON body; GET runs no other', { timeout: 120_000 }, async () => {
    const readOnly = SERVED_METHODS.filter((m) => METHODS[m].readOnly);
    // the others change state, so GET refuses them whatever the parameters (and does not run them)
    for (const m of SERVED_METHODS.filter((x) => !METHODS[x].readOnly)) {
      const r = await api(s.url, 'GET', `/api/v1/rpc/${m}`, { token: tokens.admin! });
      expect(r.body, m).toMatchObject({ code: 'BAD_REQUEST', message: `${m} changes state: use POST` });
    }
    /** Parameters as a query string: a list is the key repeated, anything else its JSON text (strings as they are). */
    const toQuery = (params: Record<string, unknown>): string => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) q.append(k, typeof one === 'string' ? one : JSON.stringify(one));
      }
      return q.toString();
    };
    // sometimes with a stray key, names every object has among them: refused alike (BAD_REQUEST)
    const stray = fc.option(fc.tuple(fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'bogus'), fc.constantFrom('1', 'x')), { freq: 4 });
    const callArb = fc.constantFrom(...readOnly).chain((name) =>
      fc.tuple(fc.constant(name), fromSchema(jsonSchema(METHODS[name].params)) as fc.Arbitrary<Record<string, unknown>>, stray).map(([n, p, x]) => [n, x === null ? p : { ...p, [x[0]]: x[1] }] as const),
    );
    let same = 0;
    await fc.assert(
      fc.asyncProperty(callArb, async ([name, params]) => {
        // an empty list has no query-string form (a key repeated zero times is a key left out)
        fc.pre(Object.values(params).every((v) => !Array.isArray(v) || v.length > 0));
        const post = await api(s.url, 'POST', `/api/v1/rpc/${name}`, { token: tokens.trader!, body: params });
        const get = await api(s.url, 'GET', `/api/v1/rpc/${name}?${toQuery(params)}`, { token: tokens.trader! });
        const what = `${name} ${JSON.stringify(params)} -> POST ${JSON.stringify(post.body).slice(0, 200)} GET ${JSON.stringify(get.body).slice(0, 200)}`;
        expect(get.status, what).toBe(post.status);
        if (post.status !== 200) expect(get.body.code, what).toBe(post.body.code);
        else if (name !== 'time.get') expect(get.body, what).toEqual(post.body);
        if (post.status === 200) same++;
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect(same).toBeGreaterThan(30);
  });
});

describe('fuzzing the sign-in routes', () => {
  it('register, login, refresh, logout, password, 2FA and sessions with random bodies: typed answers; a refresh token works once; a signed-out token is refused', { timeout: 300_000 }, async () => {
    const authLogs: { level: string; msg: string }[] = [];
    // the server's auth clock: moved a TOTP step on before each fresh code, so that codes differ
    let clock = Date.now();
    const srv = await startServer(
      { sim: 'off', registration: 'open', http: { rate: 100_000, burst: 100_000 } as never },
      { logger: createLogger('debug', (line) => void authLogs.push(JSON.parse(line) as { level: string; msg: string })), now: () => clock },
    );
    try {
      const admin = await setupAdmin(srv);
      const USERS = ['alice', 'bob', 'carol', 'dave'];
      /** Each user's password as the run changes it. */
      const creds = new Map<string, string>([['admin', PASSWORD]]);
      for (const u of USERS) {
        const r = await api(srv.url, 'POST', '/api/v1/auth/register', { body: { username: u, password: PASSWORD } });
        expect(r.status).toBe(201);
        creds.set(u, PASSWORD);
      }
      const NAMES = [...USERS, 'admin', 'Alice', 'alice ', 'ａｌｉｃｅ', 'eve'];
      const PASSWORDS = [PASSWORD, 'wrong password 1', 'another good passphrase', 'short', 'password123', 'x'.repeat(70), 'é'.repeat(12)];
      const access: string[] = [admin.accessToken, 'tda_forged'];
      const refresh: string[] = [admin.refreshToken, 'tdr_forged'];
      const userOf = new Map<string, string>([[admin.accessToken, 'admin']]);
      const spentRefresh = new Set<string>();
      /** Each user's 2FA as the run sets it up: the secret, whether it is on, backup codes unused and used. */
      const tfa = new Map<string, { secret: Buffer; on: boolean; backups: string[]; used: string[]; lastTotp?: string }>();
      const freshTotp = (secret: Buffer): string => {
        clock += TOTP_STEP_SEC * 1000;
        return totp(secret, clock);
      };
      const signedOut = new Set<string>();
      const pick = <T>(pool: readonly T[], extra: fc.Arbitrary<T>): fc.Arbitrary<T> =>
        fc.oneof({ weight: 4, arbitrary: fc.nat().map((i) => pool[i % pool.length]!) }, { weight: 1, arbitrary: extra });
      const name = pick(NAMES, fc.string({ maxLength: 40, unit: 'binary' }));
      const password = pick(PASSWORDS, fc.string({ maxLength: 80, unit: 'binary' }));
      const code = fc.oneof(fc.stringMatching(/^[0-9]{6}$/), fc.string({ maxLength: 40 }));
      // tokens are taken from the pools when the call is made, mostly among the newest (the pools grow)
      const tokenIdx = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((k) => -1 - k) }, { weight: 1, arbitrary: fc.nat() });
      const at = <T>(pool: T[], i: number): T => (i < 0 ? pool[Math.max(0, pool.length + i)]! : pool[i % pool.length]!);
      const op = fc.oneof(
        fc.record({ t: fc.constant('register'), body: fc.record({ username: name, password, role: fc.constantFrom('trader', 'viewer', 'admin') }, { requiredKeys: ['username', 'password'] }) }),
        fc.record({ t: fc.constant('login'), body: fc.record({ username: name, password, code }, { requiredKeys: ['username', 'password'] }) }),
        // a user signing in with their current password
        // (with 2FA on: a fresh code, the last code again, an unused or a used backup code)
        { weight: 5, arbitrary: fc.record({ t: fc.constant('login'), user: fc.constantFrom(...USERS, 'admin'), second: fc.constantFrom('fresh', 'again', 'backup', 'backup', 'usedBackup', 'usedBackup') }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant('refresh'), i: tokenIdx }) },
        fc.record({ t: fc.constant('logout'), i: tokenIdx }),
        { weight: 2, arbitrary: fc.record({ t: fc.constant('me'), i: tokenIdx }) },
        fc.record({ t: fc.constant('sessions'), i: tokenIdx }),
        fc.record({ t: fc.constant('password'), i: tokenIdx, body: fc.record({ currentPassword: password, newPassword: password }) }),
        fc.record({ t: fc.constant('password'), i: tokenIdx, own: fc.constant(true), newPassword: fc.constantFrom(PASSWORD, 'another good passphrase') }),
        fc.record({ t: fc.constant('enroll'), i: tokenIdx, body: fc.record({ password }) }),
        // the token's user enrolling with their password, confirming with a current code, turning it off
        fc.record({ t: fc.constant('enroll'), i: tokenIdx, own: fc.constant(true) }),
        fc.record({ t: fc.constant('verify'), i: tokenIdx, own: fc.constant(true) }),
        fc.record({ t: fc.constant('disable2fa'), i: tokenIdx, own: fc.constant(true) }),
        fc.record({ t: fc.constant('verify'), i: tokenIdx, body: fc.record({ code }) }),
        fc.record({ t: fc.constant('disable2fa'), i: tokenIdx, body: fc.record({ password, code }) }),
        fc.record({ t: fc.constant('junk'), path: fc.constantFrom('login', 'register', 'refresh', 'password', '2fa/enroll', '2fa/verify', '2fa/disable'), body: fc.jsonValue({ maxDepth: 3 }) }),
      );
      const ROUTE: Record<string, [string, string]> = {
        register: ['POST', '/api/v1/auth/register'],
        login: ['POST', '/api/v1/auth/login'],
        refresh: ['POST', '/api/v1/auth/refresh'],
        logout: ['POST', '/api/v1/auth/logout'],
        me: ['GET', '/api/v1/auth/me'],
        sessions: ['GET', '/api/v1/auth/sessions'],
        password: ['POST', '/api/v1/auth/password'],
        enroll: ['POST', '/api/v1/auth/2fa/enroll'],
        verify: ['POST', '/api/v1/auth/2fa/verify'],
        disable2fa: ['POST', '/api/v1/auth/2fa/disable'],
      };
      const tally = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 30 }), async (ops) => {
          for (const o of ops) {
            const [method, path] = o.t === 'junk' ? ['POST', `/api/v1/auth/${o.path}`] : ROUTE[o.t]!;
            const token = 'i' in o && o.t !== 'refresh' ? at(access, o.i) : undefined;
            const rt = o.t === 'refresh' ? at(refresh, o.i) : undefined;
            const who = token !== undefined ? userOf.get(token) : undefined;
            const mine = who !== undefined ? tfa.get(who) : undefined;
            const myPassword = (who !== undefined ? creds.get(who) : undefined) ?? PASSWORD;
            // the second factor a sign-in offers, and whether it must be refused (already used)
            let second: { code: string; kind: 'totp' | 'backup'; spent: boolean } | undefined;
            if ('user' in o && tfa.get(o.user)?.on === true) {
              const f = tfa.get(o.user)!;
              if (o.second === 'again' && f.lastTotp !== undefined) second = { code: f.lastTotp, kind: 'totp', spent: true };
              else if (o.second === 'backup' && f.backups.length > 0) second = { code: f.backups[0]!, kind: 'backup', spent: false };
              else if (o.second === 'usedBackup' && f.used.length > 0) second = { code: f.used[0]!, kind: 'backup', spent: true };
              else second = { code: freshTotp(f.secret), kind: 'totp', spent: false };
            }
            let ownCode: string | undefined;
            if ('own' in o && mine !== undefined && (o.t === 'verify' || o.t === 'disable2fa')) ownCode = freshTotp(mine.secret);
            const body =
              o.t === 'refresh' ? { refreshToken: rt }
              : 'user' in o ? { username: o.user, password: creds.get(o.user)!, ...(second !== undefined ? { code: second.code } : {}) }
              : 'own' in o && o.t === 'password' ? { currentPassword: myPassword, newPassword: o.newPassword }
              : 'own' in o && o.t === 'enroll' ? { password: myPassword }
              : 'own' in o && o.t === 'verify' ? { code: ownCode ?? '000000' }
              : 'own' in o && o.t === 'disable2fa' ? { password: myPassword, code: ownCode ?? '000000' }
              : 'body' in o ? o.body
              : undefined;
            const r = await api(srv.url, method, path, { ...(token !== undefined ? { token } : {}), ...(body !== undefined ? { body } : {}) });
            const what = `${o.t} ${JSON.stringify(body)?.slice(0, 200)} -> ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;
            expect(r.status, what).toBeLessThan(500);
            tally.set(`${o.t} ${r.status}`, (tally.get(`${o.t} ${r.status}`) ?? 0) + 1);
            if (second !== undefined) tally.set(`${second.kind} ${second.spent ? 'spent' : 'fresh'} ${r.status}`, (tally.get(`${second.kind} ${second.spent ? 'spent' : 'fresh'} ${r.status}`) ?? 0) + 1);
            if (r.status >= 400) {
              expect(CODES.has(r.body?.code) && r.body.code !== 'INTERNAL' && typeof r.body.message === 'string', what).toBe(true);
              if (second?.spent === true) tally.set('spent code refused', (tally.get('spent code refused') ?? 0) + 1);
              continue;
            }
            if (o.t === 'refresh') {
              // a refresh token works once
              expect(spentRefresh.has(rt!), what).toBe(false);
              spentRefresh.add(rt!);
            }
            if (token !== undefined && signedOut.has(token)) throw new Error(`a signed-out access token was accepted: ${what}`);
            if (o.t === 'logout') signedOut.add(token!);
            if (o.t === 'password' && who !== undefined) creds.set(who, (body as { newPassword: string }).newPassword);
            // each second-factor code works once
            if (second !== undefined) {
              expect(second.spent, `a used ${second.kind} code was accepted again: ${what}`).toBe(false);
              const f = tfa.get((body as { username: string }).username)!;
              if (second.kind === 'totp') f.lastTotp = second.code;
              else f.used.push(f.backups.shift()!);
            }
            if (who !== undefined && o.t === 'enroll') tfa.set(who, { secret: base32Decode(r.body.secret), on: false, backups: [], used: [] });
            if (who !== undefined && o.t === 'verify' && mine !== undefined) Object.assign(mine, { on: true, backups: [...r.body.backupCodes], used: [], lastTotp: ownCode });
            if (who !== undefined && o.t === 'disable2fa') tfa.delete(who);
            if (r.body?.accessToken !== undefined) {
              expect(typeof r.body.accessToken === 'string' && typeof r.body.refreshToken === 'string', what).toBe(true);
              access.push(r.body.accessToken);
              refresh.push(r.body.refreshToken);
              if (typeof r.body.user?.username === 'string') userOf.set(r.body.accessToken, r.body.user.username);
              else if (o.t === 'refresh') userOf.set(r.body.accessToken, 'refreshed');
            }
          }
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 60), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
      );
      const t = (k: string): number => tally.get(k) ?? 0;
      if (process.env.FUZZ_TALLY !== undefined) console.log(JSON.stringify([...tally].sort()));
      // the run signed in, rotated and signed out, besides its refusals
      expect(t('login 200') + t('register 201'), JSON.stringify([...tally])).toBeGreaterThan(5);
      expect(t('refresh 200'), JSON.stringify([...tally])).toBeGreaterThan(3);
      expect(t('logout 204'), JSON.stringify([...tally])).toBeGreaterThan(2);
      expect(spentRefresh.size).toBeGreaterThan(3);
      expect(t('verify 200'), JSON.stringify([...tally])).toBeGreaterThan(0);
      expect(t('totp spent 401') + t('totp spent 400'), JSON.stringify([...tally])).toBeGreaterThan(0);
      expect(t('backup spent 401') + t('backup spent 400'), JSON.stringify([...tally])).toBeGreaterThan(0);
      expect((await api(srv.url, 'GET', '/health')).status).toBe(200);
      expect(authLogs.filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await srv.stop();
    }
  });
});

describe('fuzzing WebSocket envelopes', () => {
  it('after the handshake, any text or binary message gets a typed answer or none, and the session goes on', { timeout: 120_000 }, async () => {
    const ws = await connectWs(s.wsUrl, { token: tokens.trader! });
    const inbox = rawInbox(ws);
    ws.send(JSON.stringify({ t: 'hello', v: 1, client: 'fuzz-envelopes' }));
    expect((await inbox.next()).t).toBe('welcome');
    const name = fc.oneof(fc.constantFrom(...SERVED_METHODS, ...SERVED_CHANNELS, 'hub.info', 'no.such', 'constructor', '__proto__', 'toString', 'hasOwnProperty'), fc.string({ maxLength: 80 }));
    const anyId = fc.oneof(fc.nat(), fc.constantFrom(-1, 1.5, 2 ** 53, 1e300, '7', null), fc.jsonValue({ maxDepth: 1 }));
    const envelope = fc.oneof(
      fc.record({ t: fc.constantFrom('req', 'sub', 'unsub', 'hello', 'res', 'push', 'x'), id: anyId, method: name, channel: name, params: fc.jsonValue({ maxDepth: 2 }), sub: anyId, v: anyId }, { requiredKeys: ['t'] }),
      fc.record({ t: fc.constant('unsub'), id: fc.nat(), sub: fc.integer({ min: 0, max: 50 }) }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const message = fc.oneof(
      { weight: 6, arbitrary: envelope.map((e) => ({ binary: false, data: JSON.stringify(e) ?? 'null' })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }).map((t) => ({ binary: false, data: t })) },
      { weight: 1, arbitrary: envelope.map((e) => ({ binary: true, data: JSON.stringify(e) ?? 'null' })) },
    );
    const SENTINEL = 2 ** 40;
    let sentinel = SENTINEL;
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const from = inbox.all.length;
        ws.send(m.binary ? Buffer.from(m.data) : m.data);
        // a request after it shows the session still answers, in order, and ends what the message caused
        const id = ++sentinel;
        ws.send(JSON.stringify({ t: 'req', id, method: 'time.get' }));
        const reply = await inbox.next((x) => x.t === 'res' && x.id === id, 5000);
        expect(reply.ok, m.data).toBe(true);
        for (const x of inbox.all.slice(from)) {
          if (x === reply) continue;
          const parsed = ServerMessageSchema.safeParse(x);
          expect(parsed.success, `${m.data} -> ${JSON.stringify(x)}`).toBe(true);
          if (x.t === 'error' || (x.t === 'res' && x.ok === false)) {
            expect(CODES.has(x.error.code) && x.error.code !== 'INTERNAL', `${m.data} -> ${JSON.stringify(x)}`).toBe(true);
            answered++;
          }
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect(answered).toBeGreaterThan(100);
    expect(ws.readyState).toBe(ws.OPEN);
    ws.close();
  });
});

describe('model-based: Idempotency-Key', () => {
  it('the first answer to a key is every later answer to it with the same request; another request is 409; at most one execution per key, even when sent together', { timeout: 120_000 }, async () => {
    const admin = await api(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: PASSWORD } });
    const users = [tokens.trader!, admin.body.accessToken as string];
    const bodies = [
      { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 5, price: 9_000, tif: 'gtc' },
      { symbol: 'ACME', side: 'sell', orderType: 'limit', qty: 5, price: 11_000, tif: 'gtc' },
      // rejected by the engine (422): an outcome too, replayed like a success
      { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 5, price: 99_999, tif: 'gtc' },
    ];
    let run = 0;
    const call = fc.record({ user: fc.nat({ max: 1 }), key: fc.nat({ max: 3 }), body: fc.nat({ max: 2 }), method: fc.constantFrom('order.place', 'orders.list') });
    // each step: one call, or two sent together
    const step = fc.oneof(call.map((c) => [c]), fc.tuple(call, call).map(([a, b]) => [a, b]), call.map((c) => [c, c]));
    let replays = 0;
    let conflicts = 0;
    let inFlight = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 15 }), async (steps) => {
        run++;
        /** The first outcome per user and key in this run (keys are fresh per run). */
        const model = new Map<string, { hash: string; status: number; body: string }>();
        for (const group of steps) {
          const sent = group.map((c) => {
            const key = `run${run}-k${c.key}`;
            const params = c.method === 'order.place' ? bodies[c.body]! : { limit: 1 + c.body };
            return { c, key, mk: `${c.user}:${key}`, hash: `${c.method} ${JSON.stringify(params)}`, res: api(s.url, 'POST', `/api/v1/rpc/${c.method}`, { token: users[c.user]!, body: params, headers: { 'Idempotency-Key': key } }) };
          });
          const results = await Promise.all(sent.map((x) => x.res));
          const fresh = new Map<string, number[]>();
          sent.forEach((x, i) => {
            const r = results[i]!;
            const what = `${x.mk} ${x.hash} -> ${r.status} ${JSON.stringify(r.body)}`;
            const prev = model.get(x.mk);
            if (prev === undefined) fresh.set(x.mk, [...(fresh.get(x.mk) ?? []), i]);
            else if (prev.hash !== x.hash) {
              expect(r.status, what).toBe(409);
              expect(r.body.code, what).toBe('IDEMPOTENCY_CONFLICT');
              conflicts++;
            } else {
              expect({ status: r.status, body: JSON.stringify(r.body) }, what).toEqual({ status: prev.status, body: prev.body });
              expect(r.headers.get('idempotent-replayed'), what).toBe('true');
              replays++;
            }
          });
          // a key new to the run, sent once or twice together: exactly one execution (whichever the server
          // took first); the other is its replay, the "still running" conflict, or the key conflict
          for (const [mk, idx] of fresh) {
            const what = idx.map((i) => `${sent[i]!.hash} -> ${results[i]!.status} ${JSON.stringify(results[i]!.body)}`).join(' | ');
            const ran = idx.filter((i) => [200, 422].includes(results[i]!.status) && results[i]!.headers.get('idempotent-replayed') === null);
            expect(ran.length, `${mk}: ${what}`).toBe(1);
            const first = ran[0]!;
            for (const i of idx.filter((k) => k !== first)) {
              const r = results[i]!;
              if (sent[i]!.hash !== sent[first]!.hash) expect(r.body.code, what).toBe('IDEMPOTENCY_CONFLICT');
              else if (r.status === 409) {
                expect(r.body.code, what).toBe('CONFLICT');
                inFlight++;
              } else expect({ status: r.status, body: r.body }, what).toEqual({ status: results[first]!.status, body: results[first]!.body });
            }
            model.set(mk, { hash: sent[first]!.hash, status: results[first]!.status, body: JSON.stringify(results[first]!.body) });
          }
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 80), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect(replays).toBeGreaterThan(20);
    expect(conflicts).toBeGreaterThan(10);
    expect(inFlight).toBeGreaterThan(5);
  });
});

describe('fuzzing the WebSocket upgrade', () => {
  it('any Authorization, subprotocol, Origin and query on the upgrade: 101 or a typed 4xx, never a 5xx', { timeout: 120_000 }, async () => {
    const printable = fc.string({ maxLength: 60 }).map((x) => x.replace(/[^\x20-\x7e]/g, ''));
    const token = fc.constantFrom(tokens.trader!, tokens.admin!, 'tda_forged', '', 'x'.repeat(9000));
    const authorization = fc.option(fc.oneof(token.map((t) => `Bearer ${t}`), token.map((t) => `bearer  ${t}`), token.map((t) => `Basic ${t}`), printable), { nil: undefined });
    const protocol = fc.option(fc.oneof(token.map((t) => `tradedesk.v1, bearer.${t}`), fc.constantFrom('tradedesk.v1', 'tradedesk.v2', 'bearer.', ',', 'tradedesk.v1,,'), printable), { nil: undefined });
    const origin = fc.option(fc.oneof(fc.constant(s.origin), fc.constantFrom('https://evil.example', 'null', 'file://', ''), printable), { nil: undefined });
    const path = fc.oneof(fc.constant('/ws'), fc.constantFrom('/ws?access_token=x', '/ws?x=1', '/ws/', '/WS', '/ws#a', '/ws?%E0%A4%A'));
    const key = fc.option(fc.oneof(printable, fc.constantFrom('short', '', 'AAAAAAAAAAAAAAAAAAAAAA==')), { nil: undefined, freq: 4 });
    const version = fc.option(fc.constantFrom('13', '8', '12', '', 'x'), { nil: undefined, freq: 4 });
    const before = logs.filter((l) => l.level === 'error').length;
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.record({ authorization, protocol, origin, path, key, version }), async (h) => {
        const headers: Record<string, string> = {};
        if (h.key !== undefined) headers['Sec-WebSocket-Key'] = h.key;
        if (h.version !== undefined) headers['Sec-WebSocket-Version'] = h.version;
        if (h.authorization !== undefined) headers.Authorization = h.authorization;
        if (h.protocol !== undefined) headers['Sec-WebSocket-Protocol'] = h.protocol;
        if (h.origin !== undefined) headers.Origin = h.origin;
        const r = await rawUpgrade(s, headers, h.path);
        const what = `${JSON.stringify(h).slice(0, 400)} -> ${r.status} ${r.body.slice(0, 200)}`;
        seen.add(r.status);
        expect(r.status, what).toBeLessThan(500);
        if (r.status !== 101) {
          expect(r.status, what).toBeGreaterThanOrEqual(400);
          let body: Json;
          try {
            body = JSON.parse(r.body);
          } catch {
            throw new Error(`not JSON: ${what}`);
          }
          expect(CODES.has(body.code) && body.code !== 'INTERNAL' && typeof body.message === 'string', what).toBe(true);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect([...seen]).toEqual(expect.arrayContaining([101, 400, 401, 403]));
    expect(logs.filter((l) => l.level === 'error').slice(before)).toEqual([]);
    // every refused handshake gave its address slot back: one more connection is accepted
    await new Promise((r) => setTimeout(r, 50));
    const last = await connectWs(s.wsUrl, { token: tokens.trader! });
    expect(last.readyState).toBe(last.OPEN);
    last.close();
  });
});

describe('fuzzing the admin routes', () => {
  it('users created with any name, role and password, changed with any body, the audit log read with any query: typed answers; the list and the log stay readable', { timeout: 120_000 }, async () => {
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40, unit: 'binary' }), fc.constantFrom('', ' ', 'admin', 'Admin', 'constructor', '__proto__', 'x'.repeat(300)));
    const create = fc.record({ username: fc.oneof(text, fc.stringMatching(/^[a-z][a-z0-9._-]{2,12}$/)), password: fc.oneof(text, fc.constant('a perfectly fine passphrase')), role: fc.oneof(fc.constantFrom('admin', 'trader', 'viewer'), text) }, { requiredKeys: [] });
    const audit = fc.dictionary(fc.constantFrom('userId', 'action', 'ip', 'before', 'until', 'limit', 'constructor', 'bogus'), fc.oneof(text, fc.integer().map(String), fc.constantFrom('0', '-1', '1e3', '1000', '1001', '0x10', '8640000000000001', String(Date.now()), '127.0.0.1', '::FFFF:127.0.0.1', '1:2:3:4:5:6:7:8:9:a:b:c:d:e:f:0')), { maxKeys: 4 });
    // changes to a user made so far (or to the admin, or to nobody), with any body
    const change = fc.record({
      pick: fc.nat(),
      action: fc.constantFrom('disable', 'enable', 'role', 'password', '2fa/reset'),
      body: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ role: fc.oneof(fc.constantFrom('admin', 'trader', 'viewer'), text) }), fc.record({ password: fc.oneof(text, fc.constant('another fine passphrase')) })),
    });
    const me = (await api(s.url, 'GET', '/api/v1/auth/me', { token: tokens.admin! })).body.id as number;
    const ids: number[] = [me, 999_999];
    const before = logs.filter((l) => l.level === 'error').length;
    let created = 0;
    let changed = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(create.map((body) => ({ kind: 'create' as const, body })), audit.map((q) => ({ kind: 'audit' as const, q })), change.map((c) => ({ kind: 'change' as const, ...c }))), async (op) => {
        const r =
          op.kind === 'create'
            ? await api(s.url, 'POST', '/api/v1/admin/users', { token: tokens.admin!, body: op.body })
            : op.kind === 'change'
              ? await api(s.url, 'POST', `/api/v1/admin/users/${ids[op.pick % ids.length]}/${op.action}`, { token: tokens.admin!, body: op.body })
              : await api(s.url, 'GET', `/api/v1/admin/audit?${new URLSearchParams(op.q).toString()}`, { token: tokens.admin! });
        const what = `${JSON.stringify(op).slice(0, 300)} -> ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
        expect(r.status, what).toBeLessThan(500);
        if (r.status >= 400) expect(CODES.has(r.body?.code) && r.body.code !== 'INTERNAL' && typeof r.body.message === 'string', what).toBe(true);
        else if (op.kind === 'create') {
          expect(r.status, what).toBe(201);
          expect(r.body, what).toMatchObject({ username: expect.any(String), role: expect.stringMatching(/^(admin|trader|viewer)$/), mustChangePassword: true });
          ids.push(r.body.id);
          created++;
        } else if (op.kind === 'change') {
          expect(r.status, what).toBe(200);
          expect(r.body, what).toMatchObject({ id: ids[op.pick % ids.length], username: expect.any(String) });
          changed++;
        } else expect(Array.isArray(r.body), what).toBe(true);
        // the fuzzing admin is never locked out by a change
        expect((await api(s.url, 'GET', '/api/v1/auth/me', { token: tokens.admin! })).body, what).toMatchObject({ id: me, role: 'admin', disabled: false });
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300), seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
    expect(created).toBeGreaterThan(0);
    expect(changed).toBeGreaterThan(10);
    const users = await api(s.url, 'GET', '/api/v1/admin/users', { token: tokens.admin! });
    expect(users.status).toBe(200);
    expect(new Set((users.body as { username: string }[]).map((u) => u.username.toLowerCase())).size).toBe(users.body.length);
    expect(logs.filter((l) => l.level === 'error').slice(before)).toEqual([]);
  });
});
