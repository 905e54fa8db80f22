/**
 * The journal's command encoding: a compact positional JSON array per command, plus the request types the
 * venue accepts (commands without time and order ids: the venue, as the single sequencer, stamps those).
 *
 * Determinism rule. The engine must see exactly the same command live as it will see on replay. So the venue
 * never executes the caller's object: it encodes it (assigning ids, normalising every field into a JSON-stable
 * value) and executes `decode(encoded)`; replay executes `decode(JSON.parse(JSON.stringify(encoded)))`,
 * which is the same value. Normalisation: absent and null are the same ("absent"), non-finite numbers are
 * absent, anything that is not a JSON primitive where a primitive belongs becomes a string (so the engine
 * rejects it as it would have), nested reference data (instrument specs, limits) is cloned through JSON.
 *
 * Layout (index 0 is the type code; the time stamp is per journal frame, not per command):
 *   0 CreateInstrument    [0, spec]
 *   1 SetInstrumentStatus [1, symbol, status]
 *   2 CreateIndex         [2, name, baseValue, constituents]
 *   3 OpenAccount         [3, accountId, allowShort, limits]
 *   4 SetAccountLimits    [4, accountId, limits, allowShort]
 *   5 Deposit             [5, accountId, amount]
 *   6 Withdraw            [6, accountId, amount]
 *   7 PlaceOrder          [7, orderId, accountId, ...spec(11), bracket]
 *   8 PlaceOco            [8, accountId, [[orderId, ...spec(11)], [orderId, ...spec(11)]]]
 *   9 CancelOrder         [9, accountId, orderId]
 *  10 ReplaceOrder        [10, accountId, orderId, qty, price, stopPrice, trailAmount, rules]
 *  11 EndSession          [11, rules]
 * spec = symbol, side, orderType, qty, price, stopPrice, trailAmount, tif, postOnly, stp, clientOrderId;
 * side/orderType/tif/stp are small integers when they are known values, strings otherwise;
 * bracket = null | [takeProfitId, takeProfitPrice, stopLossId, stopLossStop, stopLossPrice].
 * Trailing nulls are dropped.
 *
 * Rules (core/types.ts RULES): a command whose outcome a rule change altered carries the rules it is written
 * under, always the current ones; an entry written before it carried them (no `rules` element) is decoded with
 * `rules: 1`, so the engine runs it as it ran then. A current entry decodes without `rules`.
 */
import type {
  AccountId,
  BracketSpec,
  Command,
  CommandType,
  CreateIndex,
  CreateInstrument,
  Deposit,
  EndSession,
  OpenAccount,
  OrderId,
  OrderSpec,
  PlaceOco,
  PlaceOrder,
  Price,
  ReplaceOrder,
  SetAccountLimits,
  SetInstrumentStatus,
  Timestamp,
  Withdraw,
  CancelOrder,
} from '../core/types.js';
import { RULES } from '../core/types.js';
import { VenueError } from './errors.js';

// ---------------------------------------------------------------- request types

type NoTs<C> = C extends unknown ? Omit<C, 'ts'> : never;

/** Bracket children as a caller asks for them: the venue assigns their order ids. */
export interface BracketRequest {
  takeProfit?: { price: Price };
  stopLoss?: { stopPrice: Price; price?: Price };
}
/** PlaceOrder as a caller submits it: no time, no order id (the venue assigns them). */
export interface PlaceOrderRequest extends OrderSpec {
  type: 'PlaceOrder';
  accountId: AccountId;
  bracket?: BracketRequest;
}
/** PlaceOco as a caller submits it: legs without order ids. */
export interface PlaceOcoRequest {
  type: 'PlaceOco';
  accountId: AccountId;
  legs: [OrderSpec, OrderSpec];
}
/** What `Venue.submit` accepts: an engine command without `ts` and without order ids. */
export type VenueCommand = NoTs<Exclude<Command, PlaceOrder | PlaceOco>> | PlaceOrderRequest | PlaceOcoRequest;

/** One encoded command (JSON-stable). */
export type Encoded = unknown[];

// ---------------------------------------------------------------- value normalisation

/** Command type codes (index = the code at position 0 of an encoded command). */
export const COMMAND_TYPES: readonly CommandType[] = [
  'CreateInstrument',
  'SetInstrumentStatus',
  'CreateIndex',
  'OpenAccount',
  'SetAccountLimits',
  'Deposit',
  'Withdraw',
  'PlaceOrder',
  'PlaceOco',
  'CancelOrder',
  'ReplaceOrder',
  'EndSession',
];
const TYPE_CODE = new Map<string, number>(COMMAND_TYPES.map((t, i) => [t, i]));
const SIDES = ['buy', 'sell'] as const;
const ORDER_TYPES = ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'] as const;
const TIFS = ['day', 'gtc', 'ioc', 'fok'] as const;
const STPS = ['cancel_taker', 'cancel_maker', 'cancel_both'] as const;

/** A JSON primitive for a scalar field: null for absent/non-finite, the value for strings/booleans/numbers. */
function prim(v: unknown): string | number | boolean | null {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? (v === 0 ? 0 : v) : null;
    case 'string':
    case 'boolean':
      return v;
    case 'undefined':
      return null;
    default:
      // objects, bigints, functions, symbols: keep them rejectable without carrying them into the journal
      return v === null ? null : `<${typeof v}>`;
  }
}

/** Known enum values become their index; anything else stays a (rejectable) string. */
function enm(v: unknown, table: readonly string[]): number | string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    const i = table.indexOf(v);
    return i >= 0 ? i : v;
  }
  return `<${typeof v === 'number' ? String(v) : typeof v}>`;
}

function unEnm<T extends string>(v: unknown, table: readonly T[]): T | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return table[v];
  return v as T;
}

/** Deep JSON clone for nested reference data; absent stays absent. */
function json(v: unknown, what: string): unknown {
  if (v === undefined || v === null) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (e) {
    throw new VenueError('BAD_COMMAND', `The ${what} cannot be journaled: ${(e as Error).message}`);
  }
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

function trim(a: unknown[]): unknown[] {
  let n = a.length;
  while (n > 1 && a[n - 1] === null) n--;
  a.length = n;
  return a;
}

function encSpec(out: unknown[], s: Partial<OrderSpec>): void {
  out.push(
    prim(s.symbol),
    enm(s.side, SIDES),
    enm(s.orderType, ORDER_TYPES),
    prim(s.qty),
    prim(s.price),
    prim(s.stopPrice),
    prim(s.trailAmount),
    enm(s.tif, TIFS),
    s.postOnly === true ? 1 : null,
    enm(s.stp, STPS),
    prim(s.clientOrderId),
  );
}

function decSpec(a: readonly unknown[], i: number, o: Partial<OrderSpec>): void {
  let v: unknown;
  if ((v = a[i]) !== null && v !== undefined) o.symbol = v as string;
  if ((v = unEnm(a[i + 1], SIDES)) !== undefined) o.side = v as OrderSpec['side'];
  if ((v = unEnm(a[i + 2], ORDER_TYPES)) !== undefined) o.orderType = v as OrderSpec['orderType'];
  if ((v = a[i + 3]) !== null && v !== undefined) o.qty = v as number;
  if ((v = a[i + 4]) !== null && v !== undefined) o.price = v as number;
  if ((v = a[i + 5]) !== null && v !== undefined) o.stopPrice = v as number;
  if ((v = a[i + 6]) !== null && v !== undefined) o.trailAmount = v as number;
  if ((v = unEnm(a[i + 7], TIFS)) !== undefined) o.tif = v as OrderSpec['tif'];
  if (a[i + 8] === 1) o.postOnly = true;
  if ((v = unEnm(a[i + 9], STPS)) !== undefined) o.stp = v as OrderSpec['stp'];
  if ((v = a[i + 10]) !== null && v !== undefined) o.clientOrderId = v as string;
}

// ---------------------------------------------------------------- encode

/**
 * Encodes a request, taking order ids from `nextId` (entry, then take-profit, then stop-loss; OCO legs in
 * order). Throws VenueError BAD_COMMAND for an unknown command type or unencodable nested data.
 */
export function encodeCommand(cmd: VenueCommand, nextId: () => OrderId): Encoded {
  const c = cmd as unknown as Record<string, unknown>;
  const code = typeof c.type === 'string' ? TYPE_CODE.get(c.type) : undefined;
  if (code === undefined) throw new VenueError('BAD_COMMAND', `Unknown command type ${String(c.type)}`);
  switch (code) {
    case 0:
      return [0, json(c.instrument, 'instrument')];
    case 1:
      return trim([1, prim(c.symbol), prim(c.status)]);
    case 2:
      return trim([2, prim(c.name), prim(c.baseValue), json(c.constituents, 'constituents')]);
    case 3:
      return trim([3, prim(c.accountId), prim(c.allowShort), json(c.limits, 'limits')]);
    case 4:
      return trim([4, prim(c.accountId), json(c.limits, 'limits'), prim(c.allowShort)]);
    case 5:
    case 6:
      return trim([code, prim(c.accountId), prim(c.amount)]);
    case 7: {
      const out: unknown[] = [7, nextId(), prim(c.accountId)];
      encSpec(out, c as Partial<OrderSpec>);
      const b = c.bracket as Record<string, unknown> | null | undefined;
      if (b === undefined || b === null) out.push(null);
      else {
        const isObj = typeof b === 'object';
        const tp = isObj ? (b.takeProfit as Record<string, unknown> | null | undefined) : undefined;
        const sl = isObj ? (b.stopLoss as Record<string, unknown> | null | undefined) : undefined;
        const br: unknown[] = [null, null, null, null, null];
        if (tp !== undefined && tp !== null) {
          br[0] = nextId();
          br[1] = typeof tp === 'object' ? prim(tp.price) : null;
        }
        if (sl !== undefined && sl !== null) {
          br[2] = nextId();
          br[3] = typeof sl === 'object' ? prim(sl.stopPrice) : null;
          br[4] = typeof sl === 'object' ? prim(sl.price) : null;
        }
        out.push(br);
      }
      return trim(out);
    }
    case 8: {
      const legs = Array.isArray(c.legs) ? (c.legs as unknown[]).slice(0, 3) : [];
      const enc = legs.map((l) => {
        const leg: unknown[] = [nextId()];
        encSpec(leg, typeof l === 'object' && l !== null ? (l as Partial<OrderSpec>) : {});
        return trim(leg);
      });
      return [8, prim(c.accountId), enc];
    }
    case 9:
      return trim([9, prim(c.accountId), prim(c.orderId)]);
    case 10:
      return [10, prim(c.accountId), prim(c.orderId), prim(c.qty), prim(c.price), prim(c.stopPrice), prim(c.trailAmount), RULES];
    default:
      return [11, RULES];
  }
}

// ---------------------------------------------------------------- decode

const has = (v: unknown): boolean => v !== null && v !== undefined;

/** The rules an entry was written under (see the layout's note): none given is 1, the current ones are left out. */
function decRules(c: { rules?: number }, v: unknown): void {
  if (!has(v)) c.rules = 1;
  else if (v !== RULES) c.rules = typeof v === 'number' ? v : 1;
}

/** Builds the engine command for an encoded one, stamped with the frame's time. */
export function decodeCommand(a: readonly unknown[], ts: Timestamp): Command {
  switch (a[0]) {
    case 7: {
      const o = { type: 'PlaceOrder', ts, orderId: a[1], accountId: a[2] } as PlaceOrder;
      decSpec(a, 3, o);
      const b = a[14] as unknown[] | null | undefined;
      if (has(b)) {
        const br: BracketSpec = {};
        const bb = b as unknown[];
        if (has(bb[0])) br.takeProfit = has(bb[1]) ? { orderId: bb[0] as number, price: bb[1] as number } : ({ orderId: bb[0] } as { orderId: number; price: number });
        if (has(bb[2])) {
          const sl = { orderId: bb[2] } as { orderId: number; stopPrice: number; price?: number };
          if (has(bb[3])) sl.stopPrice = bb[3] as number;
          if (has(bb[4])) sl.price = bb[4] as number;
          br.stopLoss = sl;
        }
        o.bracket = br;
      }
      if (!has(o.accountId)) delete (o as Partial<PlaceOrder>).accountId;
      return o;
    }
    case 9: {
      const c = { type: 'CancelOrder', ts } as CancelOrder;
      if (has(a[1])) c.accountId = a[1] as number;
      if (has(a[2])) c.orderId = a[2] as number;
      return c;
    }
    case 10: {
      const c = { type: 'ReplaceOrder', ts } as ReplaceOrder;
      if (has(a[1])) c.accountId = a[1] as number;
      if (has(a[2])) c.orderId = a[2] as number;
      if (has(a[3])) c.qty = a[3] as number;
      if (has(a[4])) c.price = a[4] as number;
      if (has(a[5])) c.stopPrice = a[5] as number;
      if (has(a[6])) c.trailAmount = a[6] as number;
      decRules(c, a[7]);
      return c;
    }
    case 8: {
      const c = { type: 'PlaceOco', ts } as PlaceOco;
      if (has(a[1])) c.accountId = a[1] as number;
      const legs = (Array.isArray(a[2]) ? a[2] : []) as unknown[][];
      c.legs = legs.map((l) => {
        const o = { orderId: l[0] } as OrderSpec & { orderId: number };
        decSpec(l, 1, o);
        return o;
      }) as PlaceOco['legs'];
      return c;
    }
    case 5:
    case 6: {
      const c = { type: a[0] === 5 ? 'Deposit' : 'Withdraw', ts } as Deposit | Withdraw;
      if (has(a[1])) c.accountId = a[1] as number;
      if (has(a[2])) c.amount = a[2] as number;
      return c;
    }
    case 0: {
      const c = { type: 'CreateInstrument', ts } as CreateInstrument;
      if (has(a[1])) c.instrument = a[1] as CreateInstrument['instrument'];
      return c;
    }
    case 1: {
      const c = { type: 'SetInstrumentStatus', ts } as SetInstrumentStatus;
      if (has(a[1])) c.symbol = a[1] as string;
      if (has(a[2])) c.status = a[2] as SetInstrumentStatus['status'];
      return c;
    }
    case 2: {
      const c = { type: 'CreateIndex', ts } as CreateIndex;
      if (has(a[1])) c.name = a[1] as string;
      if (has(a[2])) c.baseValue = a[2] as number;
      if (has(a[3])) c.constituents = a[3] as CreateIndex['constituents'];
      return c;
    }
    case 3: {
      const c = { type: 'OpenAccount', ts } as OpenAccount;
      if (has(a[1])) c.accountId = a[1] as number;
      if (has(a[2])) c.allowShort = a[2] as boolean;
      if (has(a[3])) c.limits = a[3] as OpenAccount['limits'];
      return c;
    }
    case 4: {
      const c = { type: 'SetAccountLimits', ts } as SetAccountLimits;
      if (has(a[1])) c.accountId = a[1] as number;
      if (has(a[2])) c.limits = a[2] as SetAccountLimits['limits'];
      if (has(a[3])) c.allowShort = a[3] as boolean;
      return c;
    }
    case 11: {
      const c = { type: 'EndSession', ts } as EndSession;
      decRules(c, a[1]);
      return c;
    }
    default:
      throw new VenueError('JOURNAL_CORRUPT', `Unknown command code ${JSON.stringify(a[0])} in the journal`);
  }
}

/** The largest order id an encoded command carries (0 when none): replay uses it to continue the id sequence. */
export function maxOrderId(a: readonly unknown[]): number {
  if (a[0] === 7) {
    let m = typeof a[1] === 'number' ? a[1] : 0;
    const b = a[14];
    if (Array.isArray(b)) {
      if (typeof b[0] === 'number' && b[0] > m) m = b[0];
      if (typeof b[2] === 'number' && b[2] > m) m = b[2];
    }
    return m;
  }
  let m = 0;
  if (a[0] === 8 && Array.isArray(a[2]))
    for (const l of a[2] as unknown[]) if (Array.isArray(l) && typeof l[0] === 'number' && l[0] > m) m = l[0];
  return m;
}

/** The order ids an encoded command assigned, in assignment order. */
export function orderIdsOf(a: readonly unknown[]): OrderId[] {
  const out: OrderId[] = [];
  if (a[0] === 7) {
    out.push(a[1] as number);
    const b = a[14];
    if (Array.isArray(b)) {
      if (has(b[0])) out.push(b[0] as number);
      if (has(b[2])) out.push(b[2] as number);
    }
  } else if (a[0] === 8 && Array.isArray(a[2])) {
    for (const l of a[2] as unknown[][]) out.push(l[0] as number);
  }
  return out;
}

export function commandTypeOf(a: readonly unknown[]): CommandType | undefined {
  return typeof a[0] === 'number' ? COMMAND_TYPES[a[0]] : undefined;
}
