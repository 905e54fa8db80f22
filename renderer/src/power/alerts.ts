/**
 * Price alerts in the UI: when an alert triggers given trade prints, how far the market is from it, and
 * the order of the alerts list. The trigger rule is the venue's (`alerts.create` in the protocol table):
 * an "above" alert fires on the first print at or above its price, a "below" alert on the first print at
 * or below; once.
 */
import type { PriceAlert, TradePrint } from '../../../engine/protocol/index.js';

export type { PriceAlert };
export type AlertDirection = PriceAlert['direction'];

export const isArmed = (a: PriceAlert): boolean => a.status === 'armed';

/** Whether one price reaches the alert's level. */
export const reaches = (a: Pick<PriceAlert, 'direction' | 'price'>, price: number): boolean =>
  a.direction === 'above' ? price >= a.price : price <= a.price;

/** The first print (in the order given: oldest first) that triggers an armed alert, or null. */
export function firstTrigger(a: PriceAlert, prints: readonly TradePrint[]): TradePrint | null {
  if (!isArmed(a)) return null;
  for (const p of prints) if (p.symbol === a.symbol && reaches(a, p.price)) return p;
  return null;
}

/**
 * Apply prints to a list of alerts (a local preview while the venue's own `alerts` push is on its way):
 * returns the alerts with triggered ones stamped, and those that triggered now.
 */
export function applyPrints(alerts: readonly PriceAlert[], prints: readonly TradePrint[]): { alerts: PriceAlert[]; fired: PriceAlert[] } {
  const fired: PriceAlert[] = [];
  const next = alerts.map((a) => {
    const p = firstTrigger(a, prints);
    if (p === null) return a;
    const t: PriceAlert = { ...a, status: 'triggered', triggeredAt: p.ts, triggerPrice: p.price };
    fired.push(t);
    return t;
  });
  return { alerts: next, fired };
}

/** The direction an alert at `price` should have, given where the market is now (set from a chart click). */
export function directionFor(price: number, last: number | null): AlertDirection {
  return last !== null && price < last ? 'below' : 'above';
}

/** Distance from the last price to the alert level in minor units, signed towards triggering (≤ 0: would trigger). */
export function distanceTo(a: Pick<PriceAlert, 'direction' | 'price'>, last: number): number {
  return a.direction === 'above' ? a.price - last : last - a.price;
}

/** The same distance in basis points of the last price (rounded to an integer). */
export function distanceBps(a: Pick<PriceAlert, 'direction' | 'price'>, last: number): number {
  return Math.round((distanceTo(a, last) * 10_000) / last);
}

export type AlertSort = 'nearest' | 'newest' | 'symbol';

/** Merge an `alerts` channel push into a list (created: added; triggered: replaced; deleted: removed). */
export function mergeAlert(list: readonly PriceAlert[], a: PriceAlert): PriceAlert[] {
  const rest = list.filter((x) => x.id !== a.id);
  return a.status === 'deleted' ? rest : [a, ...rest];
}

/**
 * The alerts list: armed alerts before triggered ones; armed sorted by `by` (nearest: smallest distance in
 * bps to the symbol's last price, alerts without a last price after those with one), triggered newest
 * trigger first. Ties break by id for a stable order.
 */
export function sortAlerts(alerts: readonly PriceAlert[], by: AlertSort, lastPrices: ReadonlyMap<string, number> = new Map()): PriceAlert[] {
  const armedCmp = (a: PriceAlert, b: PriceAlert): number => {
    switch (by) {
      case 'nearest': {
        const la = lastPrices.get(a.symbol);
        const lb = lastPrices.get(b.symbol);
        if (la === undefined || lb === undefined) return la === lb ? 0 : la === undefined ? 1 : -1;
        return distanceBps(a, la) - distanceBps(b, lb);
      }
      case 'newest':
        return b.createdAt - a.createdAt;
      case 'symbol':
        return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.price - b.price;
    }
  };
  return [...alerts].sort((a, b) => {
    const aa = isArmed(a);
    const ba = isArmed(b);
    if (aa !== ba) return aa ? -1 : 1;
    const c = aa ? armedCmp(a, b) : (b.triggeredAt ?? 0) - (a.triggeredAt ?? 0);
    return c || a.id - b.id;
  });
}
