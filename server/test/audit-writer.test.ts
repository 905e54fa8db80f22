import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditWriter, type AuditColumns } from '../src/audit-writer.js';
import { Store, type AuditRow } from '../src/store.js';
import { tempDbs } from './helpers.js';

const tempDb = tempDbs('td-audit-');

const entry = (i: number) => ({ ts: 1_000 + i, userId: 7, username: 'alice', ip: '127.0.0.1', action: 'order.place', details: { i } });

describe('the audit writer thread', () => {
  it('writes off the calling thread, and a reader sees every entry made before it asked, in order', async () => {
    const path = tempDb();
    const store = new Store(path);
    expect(store.auditWriter.thread).toBeDefined();
    for (let i = 0; i < 1_234; i++) store.audit(entry(i)); // two full batches handed over, the rest buffered
    const rows = await store.auditList({ limit: 2_000 });
    expect(rows.length).toBe(1_234);
    expect(rows.map((r) => (r.details as { i: number }).i)).toEqual(Array.from({ length: 1_234 }, (_, i) => 1_233 - i));
    expect(rows[0]).toMatchObject({ ts: 2_233, userId: 7, username: 'alice', ip: '127.0.0.1', action: 'order.place' });
    store.audit(entry(5_000));
    await store.close();
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n).toBe(1_235);
    db.close();
  });

  it('loses nothing when the thread dies: the rows it had not confirmed and every later one are written here', async () => {
    const errors: Error[] = [];
    const path = tempDb();
    const store = new Store(path, (e) => errors.push(e));
    for (let i = 0; i < 500; i++) store.audit(entry(i)); // handed over at once
    await store.auditWriter.thread!.terminate(); // as if the thread crashed
    for (let i = 500; i < 700; i++) store.audit(entry(i));
    const rows = await store.auditList({ limit: 1_000 });
    const seen = new Set(rows.map((r) => (r.details as { i: number }).i));
    for (let i = 0; i < 700; i++) expect(seen.has(i), `entry ${i}`).toBe(true);
    expect(store.auditWriter.thread).toBeUndefined();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/audit writer exited/)]);
    await store.close();
  });

  it("tells its commits' entries but orders' with the ids the database gave them, from the thread and after its loss", async () => {
    const path = tempDb();
    const store = new Store(path);
    const told: AuditRow[] = [];
    const off = store.onAuditEntries((rows) => told.push(...rows));
    const actions = ['order.place', 'admin.Deposit', 'ORDER.cancel', 'orders.x', 'auth.login', 'order', 'Order.Place', 'order.cancel'];
    const some = (from: number, n: number) => {
      for (let i = from; i < from + n; i++) store.audit({ ...entry(i), userId: i % 3 === 0 ? undefined : 7, action: actions[i % actions.length]! });
    };
    some(0, 1_234); // batches of 500 handed over, the rest buffered: one commit or more
    await store.auditList({ limit: 1 });
    const fromThread = told.length;
    await store.auditWriter.thread!.terminate(); // every batch confirmed: now each is written here
    some(1_234, 700);
    await store.auditList({ limit: 1 });
    off();
    some(1_934, 10); // not told: no one listens
    await store.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT id, ts, user_id AS userId, username, ip, action, details FROM audit WHERE action NOT LIKE 'order.%' AND id <= 1934 ORDER BY id").all() as (AuditRow & { details: string })[];
    db.close();
    // admin.Deposit, orders.x, auth.login and order: 4 in each 8
    const notOrders = (n: number) => Array.from({ length: n }, (_, i) => actions[i % actions.length]!).filter((a) => !a.toLowerCase().startsWith('order.')).length;
    expect(rows.length).toBe(notOrders(1_934));
    expect(fromThread).toBe(notOrders(1_234));
    expect(told).toEqual(rows.map((r) => ({ ...r, details: JSON.parse(r.details) as unknown })));
  });

  it('a batch the database refuses is reported, never thrown at the caller', async () => {
    const errors: Error[] = [];
    const store = new Store(tempDb(), (e) => errors.push(e));
    store.db.exec('CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, \'audit refused\'); END');
    store.audit(entry(1));
    expect(() => store.flushAudit()).not.toThrow();
    expect(await store.auditList({ limit: 10 })).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['audit refused']);
    await store.close();
  });

  it('holds batches for its commit interval, commits them together, and at once for a reader or on close', async () => {
    const path = tempDb();
    await new Store(path).close(); // the schema
    const db = new Database(path);
    const count = (): number => (db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
    const batch = (from: number, n: number): AuditColumns => {
      const rows = Array.from({ length: n }, (_, k) => entry(from + k));
      return [rows.map((r) => r.ts), rows.map((r) => r.userId), rows.map((r) => r.username), rows.map((r) => r.ip), rows.map((r) => r.action), rows.map((r) => JSON.stringify(r.details))];
    };
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    // held for a minute: only a reader or close commits
    const held = new AuditWriter(db, path, () => undefined, 60_000);
    held.write(batch(0, 3));
    held.write(batch(3, 2));
    await sleep(300);
    expect(count()).toBe(0);
    await held.drained();
    expect(count()).toBe(5);
    held.write(batch(5, 4));
    await sleep(100);
    expect(count()).toBe(5);
    await held.close();
    expect(count()).toBe(9);
    // without a reader: commitMs after the first batch arrived
    const timed = new AuditWriter(db, path, () => undefined, 200);
    timed.write(batch(9, 1));
    for (let i = 0; i < 100 && count() < 10; i++) await sleep(20);
    expect(count()).toBe(10);
    await timed.close();
    // or once it holds commitRows rows
    const bounded = new AuditWriter(db, path, () => undefined, 60_000, 3);
    bounded.write(batch(10, 2));
    await sleep(200);
    expect(count()).toBe(10);
    bounded.write(batch(12, 1));
    for (let i = 0; i < 100 && count() < 13; i++) await sleep(20);
    expect(count()).toBe(13);
    await bounded.close();
    expect(db.prepare('SELECT ts FROM audit ORDER BY id').pluck().all()).toEqual(Array.from({ length: 13 }, (_, i) => 1_000 + i));
    db.close();
  });
});
