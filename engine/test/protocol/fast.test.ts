import { describe, expect, it } from 'vitest';
import { fastPlaceOrder, fastReq } from '../../protocol/fast.js';
import { ReqSchema } from '../../protocol/messages.js';
import { PlaceOrderParamsSchema } from '../../protocol/methods.js';

/** A small deterministic generator (no Math.random: failures must reproduce). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ODD_VALUES: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  Infinity,
  '',
  'x',
  'buy',
  'S000',
  'bad symbol',
  'a'.repeat(65),
  true,
  false,
  [],
  {},
  { price: 1 },
  '\u00e9',
];

function mutate(base: Record<string, unknown>, keys: string[], r: () => number): unknown {
  const o: Record<string, unknown> = { ...base };
  const n = Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const k = r() < 0.15 ? `extra${i}` : keys[Math.floor(r() * keys.length)]!;
    const roll = r();
    if (roll < 0.3) delete o[k];
    else o[k] = ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
  }
  if (r() < 0.03) return Object.assign(Object.create({ inherited: 1 }) as object, o);
  return o;
}

describe('fast inbound checks', () => {
  it('order.place: never differs from the schema (accepts only what it accepts, with the same output)', () => {
    const r = rng(7);
    const keys = ['symbol', 'side', 'orderType', 'qty', 'price', 'stopPrice', 'trailAmount', 'tif', 'postOnly', 'stp', 'clientOrderId', 'bracket'];
    let fastAccepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const base: Record<string, unknown> = { symbol: 'S000', side: r() < 0.5 ? 'buy' : 'sell', orderType: 'limit', qty: 1 + Math.floor(r() * 100), price: 10_000, tif: 'day' };
      if (r() < 0.2) base.postOnly = r() < 0.5;
      if (r() < 0.2) base.clientOrderId = `c-${i}`;
      if (r() < 0.1) base.stp = 'cancel_both';
      if (r() < 0.1) base.stopPrice = 9_000;
      const input = r() < 0.3 ? base : mutate(base, keys, r);
      const fast = fastPlaceOrder(input);
      const zod = PlaceOrderParamsSchema.safeParse(input);
      if (fast !== undefined) {
        fastAccepted++;
        expect(zod.success).toBe(true);
        expect(fast).toStrictEqual(zod.data);
      }
    }
    expect(fastAccepted).toBeGreaterThan(5_000);
  });

  it('req envelope: never differs from the schema', () => {
    const r = rng(11);
    const keys = ['t', 'id', 'method', 'params'];
    let fastAccepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const base: Record<string, unknown> = { t: 'req', id: Math.floor(r() * 1e6), method: 'order.place' };
      if (r() < 0.8) base.params = { symbol: 'S000' };
      const input = r() < 0.3 ? base : mutate(base, keys, r);
      const fast = fastReq(input);
      const zod = ReqSchema.safeParse(input);
      if (fast !== undefined) {
        fastAccepted++;
        expect(zod.success).toBe(true);
        expect(fast).toStrictEqual(zod.data);
      }
    }
    expect(fastAccepted).toBeGreaterThan(5_000);
  });

  it('leaves whatever it does not handle to the schema', () => {
    expect(fastPlaceOrder({ symbol: 'S000', side: 'buy', orderType: 'limit', qty: 1, price: 5, tif: 'day', bracket: { takeProfit: { price: 6 } } })).toBeUndefined();
    expect(fastPlaceOrder({ symbol: 'S000', side: 'buy', orderType: 'limit', qty: 1, price: undefined, tif: 'day' })).toBeUndefined();
    expect(fastReq({ t: 'req', id: 1, method: 'x', params: {}, extra: 1 })).toBeUndefined();
    expect(fastReq({ t: 'sub', id: 1, channel: 'quotes' })).toBeUndefined();
  });
});
