import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PlaceOrderParamsSchema } from '../../../../engine/protocol/index.js';
import { formatPrice, intentToRequests, snapToTick } from '../../../src/power/intents.js';
import { instrument, position, quote } from './fixtures.js';

const ctx = { instrument: instrument(), quote: quote(), position: position() };

describe('intentToRequests', () => {
  it('buy at the ask / sell at the bid are limits at that quote, valid order.place params', () => {
    const buy = intentToRequests({ kind: 'buyAtAsk', qty: 100 }, ctx);
    expect(buy).toEqual({
      ok: true,
      requests: [{ method: 'order.place', params: { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 100, price: 10_005, tif: 'day' } }],
      summary: 'Buy 100 ACME limit 100.05 DAY',
    });
    const sell = intentToRequests({ kind: 'sellAtBid', qty: 50 }, { ...ctx, tif: 'gtc' });
    expect(sell).toMatchObject({ ok: true, requests: [{ params: { side: 'sell', price: 10_000, tif: 'gtc' } }] });
    expect(intentToRequests({ kind: 'buyAtBid', qty: 10 }, ctx)).toMatchObject({ requests: [{ params: { side: 'buy', price: 10_000 } }] });
    expect(intentToRequests({ kind: 'sellAtAsk', qty: 10 }, ctx)).toMatchObject({ requests: [{ params: { side: 'sell', price: 10_005 } }] });
    for (const r of [buy, sell]) if (r.ok) expect(PlaceOrderParamsSchema.safeParse(r.requests[0]!.params).success).toBe(true);
  });

  it('refuses a missing quote side, a bad size, a halted instrument, a price outside the band', () => {
    expect(intentToRequests({ kind: 'buyAtAsk', qty: 100 }, { ...ctx, quote: null })).toMatchObject({ ok: false, code: 'NO_QUOTE' });
    expect(intentToRequests({ kind: 'buyAtAsk', qty: 100 }, { ...ctx, quote: quote({ ask: null }) })).toMatchObject({ ok: false, code: 'NO_QUOTE', message: 'There is no ask in ACME.' });
    expect(intentToRequests({ kind: 'sellAtBid', qty: 100 }, { ...ctx, quote: quote({ bid: null }) })).toMatchObject({ code: 'NO_QUOTE' });
    expect(intentToRequests({ kind: 'buyAtAsk', qty: 0 }, ctx)).toMatchObject({ code: 'INVALID_QTY' });
    expect(intentToRequests({ kind: 'buyAtAsk', qty: 15 }, ctx)).toMatchObject({ code: 'INVALID_QTY', message: expect.stringContaining('lot (10)') });
    expect(intentToRequests({ kind: 'buyAtAsk', qty: 10 }, { ...ctx, instrument: instrument({ status: 'halted' }) })).toMatchObject({ code: 'HALTED' });
    expect(intentToRequests({ kind: 'buyAtAsk', qty: 10 }, { ...ctx, quote: quote({ ask: 11_005 }) })).toMatchObject({ code: 'OUTSIDE_BAND' });
    expect(intentToRequests({ kind: 'buyAtAsk', qty: 10 }, { ...ctx, quote: quote({ symbol: 'XYZ' }) })).toMatchObject({ code: 'WRONG_SYMBOL' });
  });

  it('cancel all is one cancelAll for the symbol', () => {
    expect(intentToRequests({ kind: 'cancelAll' }, ctx)).toMatchObject({ ok: true, requests: [{ method: 'order.cancelAll', params: { symbol: 'ACME' } }] });
  });

  it('flatten cancels the symbol, then closes the position at market; nothing to flatten is an error', () => {
    expect(intentToRequests({ kind: 'flatten' }, { ...ctx, position: position({ qty: 300 }) })).toMatchObject({
      ok: true,
      requests: [
        { method: 'order.cancelAll', params: { symbol: 'ACME' } },
        { method: 'order.place', params: { symbol: 'ACME', side: 'sell', orderType: 'market', qty: 300, tif: 'ioc' } },
      ],
    });
    expect(intentToRequests({ kind: 'flatten' }, { ...ctx, position: position({ qty: -40 }) })).toMatchObject({
      requests: [{}, { params: { side: 'buy', qty: 40 } }],
    });
    expect(intentToRequests({ kind: 'flatten' }, { ...ctx, position: position({ qty: 0 }) })).toMatchObject({ ok: false, code: 'NO_POSITION' });
    expect(intentToRequests({ kind: 'flatten' }, { ...ctx, position: null })).toMatchObject({ ok: false, code: 'NO_POSITION' });
    // Flatten does not need a quote.
    expect(intentToRequests({ kind: 'flatten' }, { ...ctx, quote: null, position: position({ qty: 10 }) }).ok).toBe(true);
  });

  it('non-order intents are refused', () => {
    expect(intentToRequests({ kind: 'setSize', qty: 5, preset: 1 }, ctx)).toMatchObject({ ok: false, code: 'NOT_AN_ORDER' });
  });

  it('property: every accepted buy/sell is a tick-aligned, lot-aligned limit at the quoted side', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('buyAtAsk' as const, 'sellAtBid' as const, 'buyAtBid' as const, 'sellAtAsk' as const),
        fc.integer({ min: -5, max: 2000 }),
        fc.integer({ min: 1_700, max: 2_300 }),
        (kind, qty, n) => {
          const q = quote({ bid: n * 5, ask: n * 5 + 5 });
          const r = intentToRequests({ kind, qty }, { ...ctx, quote: q });
          const inBand = (p: number) => p >= 9_000 && p <= 11_000;
          const expected = kind.endsWith('Ask') ? q.ask! : q.bid!;
          if (qty > 0 && qty % 10 === 0 && inBand(expected)) {
            expect(r.ok).toBe(true);
            if (!r.ok) return;
            const p = r.requests[0]!.params as { price: number; qty: number; side: string };
            expect(p.price).toBe(expected);
            expect(p.price % 5).toBe(0);
            expect(p.qty).toBe(qty);
            expect(p.side).toBe(kind.startsWith('buy') ? 'buy' : 'sell');
          } else expect(r.ok).toBe(false);
        },
      ),
    );
  });
});

describe('helpers', () => {
  it('formats minor units', () => {
    expect(formatPrice(10_005)).toBe('100.05');
    expect(formatPrice(7)).toBe('0.07');
    expect(formatPrice(-150)).toBe('-1.50');
  });
  it('snaps to the nearest tick, never below one tick', () => {
    expect(snapToTick(10_002.4, 5)).toBe(10_000);
    expect(snapToTick(10_002.5, 5)).toBe(10_005);
    expect(snapToTick(1, 5)).toBe(5);
    expect(snapToTick(-30, 5)).toBe(5);
  });
});
