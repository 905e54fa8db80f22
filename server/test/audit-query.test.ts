/**
 * The audit log's filters (Store.auditList): the same entries as the protocol's auditActionMatches over the
 * whole log, whichever way the store reads them, and read through indexes, not a scan of the log.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditActionMatches } from '../../engine/protocol/index.js';
import { AUDIT_SQL, Store, auditScan } from '../src/store.js';
import { tempDbs } from './helpers.js';

const tempDb = tempDbs('td-audit-q-');

// Actions that differ in case, continue with "-", "_" or "/" rather than ".", or are not ASCII.
const ACTIONS = [
  'order.place', 'order.place', 'order.place', 'Order.Place', 'order.cancel', 'ORDER.CANCEL', 'order.cancelAll', 'order', 'order-x', 'order.place.x',
  'admin.Deposit', 'admin.deposit', 'admin.user.disable', 'admin.username', 'admin/x', 'admin-x', 'a-b', 'a!', 'order place', 'auth.login', 'auth.login_failed', 'auth.loginX', 'a', 'a.b', 'ab', 'é.x', 'É.x', '.x', '',
];
const IPS = ['127.0.0.1', '203.0.113.5', '::ffff:203.0.113.5', '2001:db8::1'];
const FILTERS = [...ACTIONS, 'ORDER', 'order.PLACE', 'Admin', 'ADMIN.USER', 'auth', 'auth.login_%', 'auth.%', 'é', 'É', 'x', 'admin.user.disable.more'];

describe('audit log filters', () => {
  it('answer what auditActionMatches takes from the whole log, for any filter, user, address, cursor, time and limit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ action: fc.constantFrom(...ACTIONS), userId: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), ip: fc.option(fc.constantFrom(...IPS), { nil: undefined }) }), { minLength: 10, maxLength: 60 }),
        fc.array(
          fc.record({
            action: fc.option(fc.constantFrom(...FILTERS), { nil: undefined }),
            userId: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
            ip: fc.option(fc.constantFrom(...IPS), { nil: undefined }),
            before: fc.option(fc.integer({ min: 1, max: 62 }), { nil: undefined }),
            until: fc.option(fc.integer({ min: 995, max: 1_130 }), { nil: undefined }),
            limit: fc.integer({ min: 1, max: 8 }),
          }),
          { minLength: 10, maxLength: 30 },
        ),
        // entries' time stamps: each a few ms after the last, or (out of order) a little before it
        fc.array(fc.integer({ min: -2, max: 3 }), { minLength: 60, maxLength: 60 }),
        fc.boolean(),
        // entries deleted (the ids then have gaps)
        fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 8 }),
        async (entries, queries, steps, inOrder, deleted) => {
          const store = new Store(tempDb());
          try {
            const stamps: number[] = [];
            entries.forEach((e, i) => {
              stamps.push(i === 0 ? 1_000 : stamps[i - 1]! + (inOrder ? Math.abs(steps[i]!) : steps[i]!));
              store.audit({ ts: stamps[i]!, userId: e.userId, username: e.userId === undefined ? undefined : `u${e.userId}`, ip: e.ip, action: e.action, details: { i } });
            });
            await store.auditList({ limit: 1 }); // written
            const gone = new Set(deleted.filter((id) => id <= entries.length));
            if (gone.size > 0) store.db.prepare(`DELETE FROM audit WHERE id IN (${[...gone].join(',')})`).run();
            const kept = entries.map((e, i) => ({ id: i + 1, ts: stamps[i]!, action: e.action, userId: e.userId ?? null, ip: e.ip ?? null })).filter((e) => !gone.has(e.id));
            for (const q of queries) {
              const f: Parameters<Store['auditList']>[0] = { limit: q.limit };
              if (q.action !== undefined) f.action = q.action;
              if (q.userId !== undefined) f.userId = q.userId;
              if (q.ip !== undefined) f.ip = q.ip;
              if (q.before !== undefined) f.before = q.before;
              let end = Infinity;
              if (q.until !== undefined) {
                f.until = q.until;
                end = store.auditBefore(q.until);
                // where the entries stamped after `until` begin: the entry before is stamped at or before it,
                // the one from there after it (in order, there is one such place)
                const below = kept.filter((e) => e.id < end).at(-1);
                const from = kept.find((e) => e.id >= end);
                if (below !== undefined) expect(below.ts, `until ${q.until}`).toBeLessThanOrEqual(q.until);
                if (from !== undefined) expect(from.ts, `until ${q.until}`).toBeGreaterThan(q.until);
                if (inOrder) expect(end).toBe((kept.filter((e) => e.ts <= q.until!).at(-1)?.id ?? kept[0]!.id - 1) + 1);
              }
              const got = (await store.auditList(f)).map((r) => [r.id, r.action, r.userId, r.ip]);
              const want = kept
                .filter((e) => (q.action === undefined || auditActionMatches(q.action, e.action)) && (q.userId === undefined || e.userId === q.userId) && (q.before === undefined || e.id < q.before))
                .filter((e) => q.until === undefined || (e.id < end && e.ts <= q.until))
                // from an address: a user's entries, or without one every entry but a placed order
                .filter((e) => q.ip === undefined || (e.ip === q.ip && (q.userId !== undefined || e.action !== 'order.place')))
                .map((e) => [e.id, e.action, e.userId, e.ip])
                .reverse()
                .slice(0, q.limit);
              expect(got, JSON.stringify(q)).toEqual(want);
            }
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a filter that does not take order.place is read from the partial indexes in id order, never by a scan of the log', async () => {
    const path = tempDb();
    await new Store(path).close(); // the schema
    const db = new Database(path, { readonly: true });
    const plan = (sql: string, ...args: unknown[]): string =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(plan(AUDIT_SQL.firstAction, 'admin', 'admin/')).toMatch(/^SEARCH audit USING COVERING INDEX audit_action \(action>\? AND action<\?\)$/);
    expect(plan(AUDIT_SQL.nextAction, 'admin', 'admin/')).toMatch(/^SEARCH audit USING COVERING INDEX audit_action \(action>\? AND action<\?\)$/);
    // equal actions: their entries come in id order from the index, with no sort
    expect(plan(AUDIT_SQL.ofAction, 'admin.Deposit', 1e15, 1e15, 100)).toMatch(/^SEARCH audit USING INDEX audit_action \(action=\? AND id<\?\)$/);
    expect(plan(AUDIT_SQL.ofUserAction, 'admin.Deposit', 1e15, 1e15, 7, 100)).toMatch(/^SEARCH audit USING INDEX audit_user_action \(user_id=\? AND action=\? AND id<\?\)$/);
    // ...from an address: through the user's index (an address may be a whole office's)
    expect(plan(AUDIT_SQL.ofUserActionFrom, 'admin.Deposit', 1e15, 1e15, 7, '203.0.113.5', 100)).toMatch(/^SEARCH audit USING INDEX audit_user_action \(user_id=\? AND action=\? AND id<\?\)$/);
    // an address without a user: its actions, then each one's entries in id order from audit_ip
    expect(plan(AUDIT_SQL.firstAnyAction)).toMatch(/^SCAN audit USING COVERING INDEX audit_action$/);
    expect(plan(AUDIT_SQL.nextAnyAction, 'admin')).toMatch(/^SEARCH audit USING COVERING INDEX audit_action \(action>\?\)$/);
    expect(plan(AUDIT_SQL.ofActionFrom, 'auth.login', 1e15, 1e15, '203.0.113.5', 100)).toMatch(/^SEARCH audit USING INDEX audit_ip \(ip=\? AND action=\? AND id<\?\)$/);
    // a user's entries from an address, placed orders too: the user's, from audit_user
    const { sql, args } = auditScan({ userId: 7, ip: '203.0.113.5', action: 'order', limit: 100 });
    expect(plan(sql, ...args)).toMatch(/^SEARCH audit USING INDEX audit_user \(user_id=\?\)$/);
    expect(() => auditScan({ ip: '203.0.113.5', limit: 100 })).toThrow(/by action/);
    db.close();
  });
});
