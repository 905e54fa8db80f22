/**
 * Price alerts of the venue's accounts: stored in the venue database (table `alerts`), armed in memory by
 * symbol, checked against every trade print the venue commits (in journal order, after the commit),
 * triggered once (stored with the print's time and price) and pushed to the account's listeners on create,
 * trigger and delete. An alert is triggered only by a print committed after it was created: prints are
 * published (and checked) when their commit is durable, which can be after an alert made meanwhile, so each
 * alert keeps the venue's committed seq at its creation and prints at or before it are passed over.
 *
 * Alerts are not journaled: they are a notification preference, not a command to the engine. A trigger is
 * written right after the commit that printed the trade; if the process dies in between, the alert stays
 * armed and triggers on a later print.
 */
import type { AccountId, Price, Timestamp } from '../core/types.js';
import type { PriceAlert } from '../protocol/methods.js';
import type { Db } from './schema.js';

interface Row {
  id: number;
  accountId: AccountId;
  symbol: string;
  direction: 'above' | 'below';
  price: Price;
  note: string | null;
  createdTs: Timestamp;
  triggeredTs: Timestamp | null;
  triggerPrice: Price | null;
  /**
   * The venue's last committed seq when the alert was armed (not stored): prints of commands up to it do
   * not trigger it. 0 for alerts restored at open, which every print after the open may trigger.
   */
  armedSeq?: number;
}

const COLS =
  'id, account_id AS accountId, symbol, direction, price, note, created_ts AS createdTs, triggered_ts AS triggeredTs, trigger_price AS triggerPrice';

function view(r: Row, status?: PriceAlert['status']): PriceAlert {
  const a: PriceAlert = {
    id: r.id,
    symbol: r.symbol,
    direction: r.direction,
    price: r.price,
    status: status ?? (r.triggeredTs === null ? 'armed' : 'triggered'),
    createdAt: r.createdTs,
  };
  if (r.note !== null) a.note = r.note;
  if (r.triggeredTs !== null) a.triggeredAt = r.triggeredTs;
  if (r.triggerPrice !== null) a.triggerPrice = r.triggerPrice;
  return a;
}

/**
 * Triggered alerts kept per account, the most recently triggered: older ones are deleted (and pushed as
 * deleted) when another triggers. Armed ones are bounded where they are created (MAX_ARMED_ALERTS), so an
 * account's list stays short however long alerts are made and hit.
 */
export const MAX_TRIGGERED_ALERTS = 200;

export interface NewAlert {
  symbol: string;
  direction: 'above' | 'below';
  price: Price;
  note?: string | undefined;
}

export class AlertBook {
  /** Armed alerts by symbol, lowest "above" and highest "below" not kept sorted: lists are short. */
  private readonly armed = new Map<string, Row[]>();
  private readonly listeners = new Map<AccountId, Set<(a: PriceAlert) => void>>();
  private readonly insert;
  private readonly ofAccount;
  private readonly one;
  private readonly del;
  private readonly trig;
  private readonly pastKept;
  /** Alerts triggered since open (for tests and metrics). */
  triggered = 0;

  constructor(
    private readonly db: Db,
    private readonly onError: (e: unknown, where: string) => void,
  ) {
    this.insert = db.prepare(
      `INSERT INTO alerts (account_id, symbol, direction, price, note, created_ts) VALUES (?, ?, ?, ?, ?, ?) RETURNING ${COLS}`,
    );
    this.ofAccount = db.prepare(`SELECT ${COLS} FROM alerts WHERE account_id = ? ORDER BY id DESC`);
    this.one = db.prepare(`SELECT ${COLS} FROM alerts WHERE id = ? AND account_id = ?`);
    this.del = db.prepare('DELETE FROM alerts WHERE id = ? AND account_id = ?');
    this.trig = db.prepare('UPDATE alerts SET triggered_ts = ?, trigger_price = ? WHERE id = ? AND triggered_ts IS NULL');
    this.pastKept = db.prepare(
      `SELECT ${COLS} FROM alerts WHERE account_id = ? AND triggered_ts IS NOT NULL ORDER BY triggered_ts DESC, id DESC LIMIT -1 OFFSET ${MAX_TRIGGERED_ALERTS}`,
    );
    for (const r of db.prepare(`SELECT ${COLS} FROM alerts WHERE triggered_ts IS NULL ORDER BY id`).all() as Row[]) this.arm(r);
  }

  /** True when any alert is armed. */
  get active(): boolean {
    return this.armed.size > 0;
  }

  /** True when some alert on the symbol is armed (the venue checks prints only then). */
  watches(symbol: string): boolean {
    return this.armed.has(symbol);
  }

  get armedCount(): number {
    let n = 0;
    for (const l of this.armed.values()) n += l.length;
    return n;
  }

  private arm(r: Row): void {
    let l = this.armed.get(r.symbol);
    if (l === undefined) this.armed.set(r.symbol, (l = []));
    l.push(r);
  }

  private disarm(r: Row): void {
    const l = this.armed.get(r.symbol);
    if (l === undefined) return;
    const i = l.findIndex((x) => x.id === r.id);
    if (i >= 0) l.splice(i, 1);
    if (l.length === 0) this.armed.delete(r.symbol);
  }

  private emit(accountId: AccountId, a: PriceAlert): void {
    const subs = this.listeners.get(accountId);
    if (subs === undefined) return;
    for (const cb of [...subs]) {
      try {
        cb(a);
      } catch (e) {
        this.onError(e, 'alerts subscriber');
      }
    }
  }

  list(accountId: AccountId): PriceAlert[] {
    return (this.ofAccount.all(accountId) as Row[]).map((r) => view(r));
  }

  /** Armed alerts of an account. */
  armedOf(accountId: AccountId): number {
    let n = 0;
    for (const l of this.armed.values()) for (const r of l) if (r.accountId === accountId) n++;
    return n;
  }

  /** Stores and arms an alert; `seq` is the venue's last committed seq (prints up to it do not trigger it). */
  create(accountId: AccountId, a: NewAlert, ts: Timestamp, seq: number): PriceAlert {
    const r = this.insert.get(accountId, a.symbol, a.direction, a.price, a.note ?? null, ts) as Row;
    r.armedSeq = seq;
    this.arm(r);
    const v = view(r);
    this.emit(accountId, v);
    return v;
  }

  delete(accountId: AccountId, id: number): boolean {
    const r = this.one.get(id, accountId) as Row | undefined;
    if (r === undefined) return false;
    this.del.run(id, accountId);
    this.disarm(r);
    this.emit(accountId, view(r, 'deleted'));
    return true;
  }

  /** A trade printed by the command at `seq` (called in journal order, after its commit). */
  print(symbol: string, price: Price, ts: Timestamp, seq: number): void {
    const l = this.armed.get(symbol);
    if (l === undefined) return;
    let hit: Row[] | undefined;
    for (const r of l) {
      if (seq <= (r.armedSeq ?? 0)) continue; // committed before the alert was created
      if (r.direction === 'above' ? price >= r.price : price <= r.price) (hit ??= []).push(r);
    }
    if (hit === undefined) return;
    for (const r of hit) {
      this.disarm(r);
      try {
        this.trig.run(ts, price, r.id);
      } catch (e) {
        this.onError(e, 'alert trigger');
      }
      r.triggeredTs = ts;
      r.triggerPrice = price;
      this.triggered++;
      this.emit(r.accountId, view(r));
    }
    const accounts = new Set<AccountId>();
    for (const r of hit) accounts.add(r.accountId);
    for (const a of accounts) this.prune(a);
  }

  /** Deletes an account's triggered alerts beyond the MAX_TRIGGERED_ALERTS most recent, pushing each. */
  private prune(accountId: AccountId): void {
    try {
      for (const r of this.pastKept.all(accountId) as Row[]) {
        this.del.run(r.id, accountId);
        this.emit(accountId, view(r, 'deleted'));
      }
    } catch (e) {
      this.onError(e, 'alert prune');
    }
  }

  subscribe(accountId: AccountId, cb: (a: PriceAlert) => void): () => void {
    let s = this.listeners.get(accountId);
    if (s === undefined) this.listeners.set(accountId, (s = new Set()));
    s.add(cb);
    return () => {
      const cur = this.listeners.get(accountId);
      if (cur === undefined) return;
      cur.delete(cb);
      if (cur.size === 0) this.listeners.delete(accountId);
    };
  }
}
