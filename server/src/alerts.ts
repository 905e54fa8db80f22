/**
 * Price alerts: stored per user (users.db), armed in memory by symbol, checked against every trade print
 * the venue publishes, triggered once (stored with the time and price) and pushed to the owner's `alerts`
 * subscribers.
 */
import { ProtocolError } from '../../engine/protocol/index.js';
import type { Venue } from '../../engine/venue/index.js';
import type { Alert } from './ext.js';
import type { AlertRow, Store } from './store.js';

const MAX_ALERTS_PER_USER = 200;

export function alertView(r: AlertRow): Alert {
  const a: Alert = { id: r.id, symbol: r.symbol, direction: r.direction, price: r.price, createdAt: r.createdAt };
  if (r.note !== null) a.note = r.note;
  if (r.triggeredAt !== null) a.triggeredAt = r.triggeredAt;
  if (r.triggerPrice !== null) a.triggerPrice = r.triggerPrice;
  return a;
}

export class AlertService {
  readonly #store: Store;
  readonly #venue: Venue;
  readonly #armed = new Map<string, AlertRow[]>();
  readonly #listeners = new Map<number, Set<(a: Alert) => void>>();
  #unsub: (() => void) | undefined;
  triggered = 0;

  constructor(store: Store, venue: Venue) {
    this.#store = store;
    this.#venue = venue;
    for (const a of store.activeAlerts()) this.#arm(a);
  }

  start(): void {
    this.#unsub ??= this.#venue.subscribeMarket('*', (c) => {
      if (c.trades.length === 0) return;
      const list = this.#armed.get(c.symbol);
      if (list === undefined) return;
      for (const t of c.trades) this.#check(c.symbol, t.price, t.ts);
    });
  }

  stop(): void {
    this.#unsub?.();
    this.#unsub = undefined;
  }

  #arm(a: AlertRow): void {
    let list = this.#armed.get(a.symbol);
    if (list === undefined) this.#armed.set(a.symbol, (list = []));
    list.push(a);
  }

  #check(symbol: string, price: number, ts: number): void {
    const list = this.#armed.get(symbol);
    if (list === undefined) return;
    const keep: AlertRow[] = [];
    for (const a of list) {
      const hit = a.direction === 'above' ? price >= a.price : price <= a.price;
      if (!hit) {
        keep.push(a);
        continue;
      }
      this.#store.triggerAlert(a.id, ts, price);
      this.triggered++;
      const view = alertView({ ...a, triggeredAt: ts, triggerPrice: price });
      const subs = this.#listeners.get(a.userId);
      if (subs !== undefined) for (const cb of [...subs]) cb(view);
    }
    if (keep.length === 0) this.#armed.delete(symbol);
    else this.#armed.set(symbol, keep);
  }

  list(userId: number): Alert[] {
    return this.#store.alertsOf(userId).map(alertView);
  }

  create(userId: number, p: { symbol: string; direction: 'above' | 'below'; price: number; note?: string | undefined }, now: number): Alert {
    if (this.#venue.view.instrument(p.symbol) === undefined) throw new ProtocolError('UNKNOWN_SYMBOL', `Unknown symbol ${p.symbol}`, { symbol: p.symbol });
    if (this.#store.alertsOf(userId).filter((a) => a.triggeredAt === null).length >= MAX_ALERTS_PER_USER)
      throw new ProtocolError('LIMIT_EXCEEDED', `At most ${MAX_ALERTS_PER_USER} armed alerts per user`);
    const row = this.#store.insertAlert({ userId, symbol: p.symbol, direction: p.direction, price: p.price, note: p.note ?? null, createdAt: now });
    this.#arm(row);
    return alertView(row);
  }

  delete(userId: number, id: number): { deleted: boolean } {
    const deleted = this.#store.deleteAlert(userId, id);
    if (deleted) {
      for (const [sym, list] of this.#armed) {
        const rest = list.filter((a) => a.id !== id);
        if (rest.length !== list.length) {
          if (rest.length === 0) this.#armed.delete(sym);
          else this.#armed.set(sym, rest);
        }
      }
    }
    return { deleted };
  }

  subscribe(userId: number, cb: (a: Alert) => void): () => void {
    let s = this.#listeners.get(userId);
    if (s === undefined) this.#listeners.set(userId, (s = new Set()));
    s.add(cb);
    return () => {
      const cur = this.#listeners.get(userId);
      cur?.delete(cb);
      if (cur?.size === 0) this.#listeners.delete(userId);
    };
  }
}
