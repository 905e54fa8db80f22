/**
 * Hand-written checks for the hottest inbound shapes (a `req` envelope, `order.place` parameters). Each
 * answers exactly what its zod schema would for the plain shapes a client sends, or `undefined` to leave
 * the decision to the schema: anything unusual (an extra key, an undefined value, a bracket, an object
 * that is not a plain one) goes through zod, which then accepts it or reports the issue. So a fast check
 * never accepts what the schema refuses, and never refuses anything itself (test/protocol/fast.test.ts
 * compares both on generated inputs).
 */
import { CLIENT_ORDER_ID_PATTERN, SYMBOL_PATTERN } from './schemas.js';
import type { Req } from './messages.js';
import type { HandlerParamsOf, MethodName } from './methods.js';

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** `ReqSchema` for `{t: 'req', id, method, params?}` with nothing else. */
export function fastReq(raw: unknown): Req | undefined {
  if (!isPlain(raw) || raw.t !== 'req') return undefined;
  const { id, method } = raw;
  if (!isCount(id) || typeof method !== 'string' || method.length < 1 || method.length > 64) return undefined;
  let n = 0;
  let params = false;
  for (const k in raw) {
    if (!Object.hasOwn(raw, k)) return undefined;
    n++;
    if (k === 'params') {
      if (raw.params === undefined) return undefined;
      params = true;
    } else if (k !== 't' && k !== 'id' && k !== 'method') return undefined;
  }
  if (n !== (params ? 4 : 3)) return undefined;
  return params ? { t: 'req', id, method, params: raw.params } : { t: 'req', id, method };
}

const SIDES = new Set(['buy', 'sell']);
const ORDER_TYPES = new Set(['market', 'limit', 'stop', 'stop_limit', 'trailing_stop']);
const TIFS = new Set(['day', 'gtc', 'ioc', 'fok']);
const STPS = new Set(['cancel_taker', 'cancel_maker', 'cancel_both']);

type PlaceParams = HandlerParamsOf<'order.place'>;

/** `PlaceOrderParamsSchema` for an order without bracket children. */
export function fastPlaceOrder(raw: unknown): PlaceParams | undefined {
  if (!isPlain(raw)) return undefined;
  const { symbol, side, orderType, qty, tif } = raw;
  if (typeof symbol !== 'string' || !SYMBOL_PATTERN.test(symbol)) return undefined;
  if (typeof side !== 'string' || !SIDES.has(side)) return undefined;
  if (typeof orderType !== 'string' || !ORDER_TYPES.has(orderType)) return undefined;
  if (!isPositive(qty)) return undefined;
  if (typeof tif !== 'string' || !TIFS.has(tif)) return undefined;
  const out = { symbol, side, orderType, qty } as PlaceParams;
  let n = 5;
  if (raw.price !== undefined) {
    if (!isPositive(raw.price)) return undefined;
    out.price = raw.price;
    n++;
  }
  if (raw.stopPrice !== undefined) {
    if (!isPositive(raw.stopPrice)) return undefined;
    out.stopPrice = raw.stopPrice;
    n++;
  }
  if (raw.trailAmount !== undefined) {
    if (!isPositive(raw.trailAmount)) return undefined;
    out.trailAmount = raw.trailAmount;
    n++;
  }
  out.tif = tif as PlaceParams['tif'];
  if (raw.postOnly !== undefined) {
    if (typeof raw.postOnly !== 'boolean') return undefined;
    out.postOnly = raw.postOnly;
    n++;
  }
  if (raw.stp !== undefined) {
    if (typeof raw.stp !== 'string' || !STPS.has(raw.stp)) return undefined;
    out.stp = raw.stp as PlaceParams['stp'];
    n++;
  }
  if (raw.clientOrderId !== undefined) {
    if (typeof raw.clientOrderId !== 'string' || !CLIENT_ORDER_ID_PATTERN.test(raw.clientOrderId)) return undefined;
    out.clientOrderId = raw.clientOrderId;
    n++;
  }
  // Strict: exactly the keys read above (no bracket, nothing unknown, no key holding undefined), all own.
  let keys = 0;
  for (const k in raw) {
    if (!Object.hasOwn(raw, k)) return undefined;
    keys++;
  }
  return keys === n ? out : undefined;
}

/** The methods with a fast parameter check. */
export const FAST_PARAMS: Partial<Record<MethodName, (raw: unknown) => unknown>> = {
  'order.place': fastPlaceOrder,
};
