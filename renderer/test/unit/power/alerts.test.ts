import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TradePrint } from '../../../../engine/protocol/index.js';
import { applyPrints, directionFor, distanceBps, distanceTo, firstTrigger, mergeAlert, sortAlerts, type PriceAlert } from '../../../src/power/alerts.js';

const print = (price: number, ts: number, symbol = 'ACME'): TradePrint => ({ tradeId: ts, symbol, price, qty: 1, aggressor: 'buy', ts });
const alert = (p: Partial<PriceAlert> & Pick<PriceAlert, 'id' | 'direction' | 'price'>): PriceAlert => ({
  symbol: 'ACME',
  createdAt: p.id,
  status: p.triggeredAt === undefined ? 'armed' : 'triggered',
  ...p,
});

describe('triggering', () => {
  it('above fires at or above the level, below at or below; the first such print; other symbols ignored', () => {
    const up = alert({ id: 1, direction: 'above', price: 10_050 });
    const down = alert({ id: 2, direction: 'below', price: 9_950 });
    const prints = [print(10_000, 1), print(10_060, 2, 'OTHER'), print(10_050, 3), print(10_100, 4), print(9_950, 5)];
    expect(firstTrigger(up, prints)?.ts).toBe(3);
    expect(firstTrigger(down, prints)?.ts).toBe(5);
    expect(firstTrigger(up, prints.slice(0, 2))).toBeNull();
  });

  it('fires once: a triggered alert is stamped and never fires again', () => {
    const list = [alert({ id: 1, direction: 'above', price: 100 }), alert({ id: 2, direction: 'below', price: 50 })];
    const a = applyPrints(list, [print(99, 1), print(101, 2)]);
    expect(a.fired.map((x) => [x.id, x.status, x.triggeredAt, x.triggerPrice])).toEqual([[1, 'triggered', 2, 101]]);
    const b = applyPrints(a.alerts, [print(120, 3), print(40, 4)]);
    expect(b.fired.map((x) => x.id)).toEqual([2]);
    expect(b.alerts[0]!.triggeredAt).toBe(2);
  });

  it('property: an alert fires iff some print of its symbol reaches the level, at the first one', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 200 }), fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 30 }), (above, level, prices) => {
        const a = alert({ id: 1, direction: above ? 'above' : 'below', price: level });
        const prints = prices.map((p, i) => print(p, i));
        const idx = prices.findIndex((p) => (above ? p >= level : p <= level));
        expect(firstTrigger(a, prints)?.ts ?? -1).toBe(idx);
      }),
    );
  });
});

describe('helpers', () => {
  it('direction from where the market is; distance signed towards triggering', () => {
    expect(directionFor(9_900, 10_000)).toBe('below');
    expect(directionFor(10_100, 10_000)).toBe('above');
    expect(directionFor(10_100, null)).toBe('above');
    expect(distanceTo({ direction: 'above', price: 10_100 }, 10_000)).toBe(100);
    expect(distanceTo({ direction: 'below', price: 10_100 }, 10_000)).toBe(-100);
    expect(distanceBps({ direction: 'below', price: 9_900 }, 10_000)).toBe(100);
  });

  it('sorts armed first (nearest in bps, unknown last), then triggered newest first', () => {
    const alerts = [
      alert({ id: 1, direction: 'above', price: 10_500 }), // ACME 5% away
      alert({ id: 2, direction: 'below', price: 990, symbol: 'BOLT' }), // BOLT 1% away
      alert({ id: 3, direction: 'above', price: 10_000, triggeredAt: 50 }),
      alert({ id: 4, direction: 'above', price: 10_000, triggeredAt: 90 }),
      alert({ id: 5, direction: 'above', price: 1, symbol: 'NOQ' }),
      alert({ id: 6, direction: 'above', price: 10_100 }), // ACME 1% away, same bps as id 2
    ];
    const last = new Map([
      ['ACME', 10_000],
      ['BOLT', 1_000],
    ]);
    // 2 and 6 are both 100 bps away: the id breaks the tie (minor units of different symbols do not compare).
    expect(sortAlerts(alerts, 'nearest', last).map((a) => a.id)).toEqual([2, 6, 1, 5, 4, 3]);
    expect(sortAlerts(alerts, 'newest').map((a) => a.id)).toEqual([6, 5, 2, 1, 4, 3]);
    expect(sortAlerts(alerts, 'symbol').map((a) => a.id)).toEqual([6, 1, 2, 5, 4, 3]);
  });
});

describe('alerts channel pushes', () => {
  it('created and triggered replace by id (newest first); deleted removes', () => {
    const a1 = alert({ id: 1, direction: 'above', price: 100 });
    const a2 = alert({ id: 2, direction: 'below', price: 50 });
    let list = mergeAlert(mergeAlert([], a1), a2);
    expect(list.map((a) => a.id)).toEqual([2, 1]);
    list = mergeAlert(list, { ...a1, status: 'triggered', triggeredAt: 5, triggerPrice: 101 });
    expect(list.map((a) => [a.id, a.status])).toEqual([[1, 'triggered'], [2, 'armed']]);
    list = mergeAlert(list, { ...a2, status: 'deleted' });
    expect(list.map((a) => a.id)).toEqual([1]);
  });
});
