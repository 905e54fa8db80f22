// The audit entries of users' commands are made again from the journal when the users database is behind
// it (server/src/market/audit.ts): after a crash (crash.test.ts kills the process), or a users database
// put back on its own. Here the users database is taken back by hand: its mark moved back and its order
// entries deleted.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createUser, fund, listInstrument, login, rpc, setupAdmin, startServer, wsClient, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

/** A server with ACME listed and a funded trader, tina, connected over WebSocket. */
async function tinaTrading() {
  const s = await startServer();
  servers.push(s);
  const admin = await setupAdmin(s);
  await listInstrument(s, admin);
  const tina = await createUser(s, admin, 'tina', 'trader');
  await fund(s, admin, tina.user.accountId!);
  const { client } = await wsClient(s, { token: tina.accessToken });
  return { s, client };
}

describe('audit entries made again from the journal', () => {
  it('a users database behind its venue gets an entry for each command after its mark, written before the server answers', async () => {
    const s = await startServer();
    const admin = await setupAdmin(s);
    await listInstrument(s, admin);
    const tina = await createUser(s, admin, 'tina', 'trader');
    await fund(s, admin, tina.user.accountId!);
    const from = s.app.venue.lastSeq;
    const t0 = Date.now();
    const { client } = await wsClient(s, { token: tina.accessToken });
    const placed: number[] = [];
    for (let k = 0; k < 6; k++)
      placed.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000 + i, tif: 'gtc' }).then((r) => r.orderId)))));
    const canceled = placed.slice(0, 60);
    await Promise.all(canceled.map((orderId) => client.call('order.cancel', { orderId })));
    // a cancel and a replace of an order already canceled, refused by the engine (a refusal that changes
    // nothing in the state), and a replace that is not
    const refusedCancel = await client.call('order.cancel', { orderId: canceled[0]! }).then(
      () => undefined,
      (e: { code: string }) => e.code,
    );
    const refusedReplace = await client.call('order.replace', { orderId: canceled[1]!, price: 8_000 }).then(
      () => undefined,
      (e: { code: string }) => e.code,
    );
    expect([refusedCancel, refusedReplace]).toEqual([expect.stringMatching(/^[A-Z_]+$/), expect.stringMatching(/^[A-Z_]+$/)]);
    await client.call('order.replace', { orderId: placed[100]!, price: 8_500 });
    // refused by the engine: journaled, and audited as refused
    await expect(client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1_000_000, price: 9_000, tif: 'gtc' })).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    const t1 = Date.now();
    client.close();
    const top = s.app.venue.lastSeq;
    expect(top - from).toBe(664);
    await s.app.store.auditSettled();
    expect(s.app.store.auditMark()).toBe(top);
    // commands no user sent (the simulated market's, say) are not audited, but the mark follows them, so
    // that a start-up reads only the journal's tail
    for (let i = 0; i < 50; i++) await s.app.venue.submit({ type: 'Deposit', accountId: tina.user.accountId!, amount: 1 });
    s.app.store.advanceAuditMark();
    await s.app.store.auditSettled();
    expect(s.app.store.auditMark()).toBe(top + 50);
    const live = s.app.store.db.prepare("SELECT action, details FROM audit WHERE action LIKE 'order.%' ORDER BY id").all() as { action: string; details: string }[];
    expect(live.length).toBe(664);
    expect(JSON.parse(live.at(-1)!.details)).toMatchObject({ rejected: 'INSUFFICIENT_FUNDS', via: 'ws' });
    const db = s.app.config.db;
    await s.app.close();

    // the users database as it was before the orders
    const users = new Database(db.replace(/\.db$/, '.users.db'));
    expect(users.prepare("SELECT value FROM meta WHERE key = 'audit_seq'").pluck().get()).toBe(String(top + 50));
    users.prepare("UPDATE meta SET value = ? WHERE key = 'audit_seq'").run(String(from));
    users.prepare("DELETE FROM audit WHERE action LIKE 'order.%'").run();
    users.close();

    const s2 = await startServer({ db }, { env: {} });
    servers.push(s2);
    // read through a connection of its own, without waiting for the server's writer: written at start-up
    const check = new Database(db.replace(/\.db$/, '.users.db'), { readonly: true });
    const rows = check.prepare("SELECT ts, user_id AS userId, username, ip, action, details FROM audit WHERE action LIKE 'order.%' ORDER BY id").all() as { ts: number; userId: number; username: string; ip: string; action: string; details: string }[];
    expect(check.prepare("SELECT value FROM meta WHERE key = 'audit_seq'").pluck().get()).toBe(String(top));
    // (the last recovered entry's command: the server's mark source takes over from there)
    check.close();
    expect(rows.map((r) => [r.action, JSON.parse(r.details).orderId])).toEqual(live.map((r) => [r.action, JSON.parse(r.details).orderId]));
    for (const r of rows) {
      expect(r).toMatchObject({ userId: tina.user.id, username: 'tina', ip: expect.stringMatching(/127\.0\.0\.1/) });
      expect(r.ts).toBeGreaterThanOrEqual(t0);
      expect(r.ts).toBeLessThanOrEqual(t1);
      expect(JSON.parse(r.details)).toMatchObject({ via: 'ws', recovered: true });
    }
    // each refused command's entry says so, with the code its live entry gave (the journal holds it with the
    // command's tag); the others' say nothing
    const refusals = (list: { action: string; details: string }[]): [string, number, string][] =>
      list.flatMap((r) => {
        const d = JSON.parse(r.details) as { orderId: number; rejected?: string };
        return d.rejected === undefined ? [] : [[r.action, d.orderId, d.rejected] as [string, number, string]];
      });
    expect(refusals(rows)).toEqual([
      ['order.cancel', canceled[0]!, refusedCancel!],
      ['order.replace', canceled[1]!, refusedReplace!],
      ['order.place', expect.any(Number) as number, 'INSUFFICIENT_FUNDS'],
    ]);
    expect(refusals(rows)).toEqual(refusals(live));
    expect(JSON.parse(rows.at(-1)!.details)).toMatchObject({ rejected: 'INSUFFICIENT_FUNDS', recovered: true });

    // and on from there: the next order has one entry, and the mark follows it
    const token = ((await login(s2, 'tina')).body as { accessToken: string }).accessToken;
    const again = await rpc(s2, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_500, tif: 'gtc' }, token);
    expect(again.status).toBe(200);
    await s2.app.store.auditSettled();
    expect(s2.app.store.auditMark()).toBe(top + 51);
    const entries = (await s2.app.store.auditList({ limit: 1000, action: 'order.place' })).filter((e) => (e.details as { orderId?: number }).orderId === again.body.orderId);
    expect(entries.length).toBe(1);
    expect(entries[0]!.details.recovered).toBeUndefined();
    rmSync(s.dir, { recursive: true, force: true });
  });

  it('a WebSocket call whose entry the journal does not hold answers once the entry is committed', async () => {
    const { s, client } = await tinaTrading();
    // read through a connection of its own: what is committed, not what the server holds in memory
    const check = new Database(s.app.config.db.replace(/\.db$/, '.users.db'), { readonly: true });
    const kept = () => check.prepare("SELECT action, details FROM audit WHERE action LIKE 'order.%' ORDER BY id").all().map((r) => { const { action, details } = r as { action: string; details: string }; return [action, JSON.parse(details)]; });
    try {
      const placed = await client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000, tif: 'day', clientOrderId: 'dup-1' });
      await s.app.store.auditSettled();
      expect(kept().length).toBe(1);
      // refused by the venue before it was journaled: a client order id of an earlier session
      await s.app.venue.endSession();
      await expect(client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000, tif: 'day', clientOrderId: 'dup-1' })).rejects.toMatchObject({ code: 'DUPLICATE_CLIENT_ORDER_ID' });
      expect(kept().at(-1)).toEqual(['order.place', expect.objectContaining({ rejected: 'DUPLICATE_CLIENT_ORDER_ID', originalOrderId: placed.orderId, via: 'ws' })]);
      // a cancel-all's own entry
      expect(await client.call('order.cancelAll', {})).toEqual({ canceled: 0 });
      expect(kept().at(-1)).toEqual(['order.cancelAll', { canceled: 0, via: 'ws' }]);
    } finally {
      check.close();
      client.close();
    }
  });

  it("a cancel-all is audited as asked, and each order it cancels as a cancel, each with its journal position", async () => {
    const { s, client } = await tinaTrading();
    const ids = await Promise.all([9_000, 9_001, 9_002].map((price) => client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price, tif: 'gtc' }).then((r) => r.orderId)));
    expect(await client.call('order.cancelAll', {})).toEqual({ canceled: 3 });
    client.close();
    await s.app.store.auditSettled();
    expect(s.app.store.auditMark()).toBe(s.app.venue.lastSeq);
    const cancels = (await s.app.store.auditList({ limit: 100, action: 'order.cancel' })).map((e) => [e.action, e.username, e.details.orderId, e.details.via]);
    expect(cancels.filter(([a]) => a === 'order.cancel').sort()).toEqual(ids.map((id) => ['order.cancel', 'tina', id, 'ws']).sort());
    expect((await s.app.store.auditList({ limit: 100, action: 'order.cancelAll' })).map((e) => e.details)).toEqual([{ canceled: 3, via: 'ws' }]);
  });
});

describe('audit entries lost to a failed write', () => {
  it('a batch the users database refused holds the mark below it, so the next start makes its entries again', async () => {
    const { s, client } = await tinaTrading();
    const usersDb = s.app.config.db.replace(/\.db$/, '.users.db');
    await s.app.store.auditSettled();
    const before = s.app.store.auditMark()!;
    expect(before).toBe(s.app.venue.lastSeq);
    // the users database refuses audit rows, on every connection (the writer thread's and the fallback's)
    s.app.store.db.exec("CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    const lost = await Promise.all([9_000, 9_001, 9_002].map((price) => client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price, tif: 'gtc' }).then((r) => r.orderId as number)));
    await s.app.store.auditSettled();
    // writes work again: the next order's batch and the mark on its own (every 5 s) are committed
    s.app.store.db.exec('DROP TRIGGER no_audit');
    const kept = (await client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_003, tif: 'gtc' })).orderId as number;
    client.close();
    await s.app.store.auditSettled();
    await s.app.venue.submit({ type: 'Deposit', accountId: 1, amount: 1 });
    s.app.store.advanceAuditMark();
    await s.app.store.auditSettled();
    expect(s.app.store.auditMark()).toBe(before);
    const db = s.app.config.db;
    await s.app.close();
    const check = new Database(usersDb, { readonly: true });
    expect(check.prepare("SELECT value FROM meta WHERE key = 'audit_seq'").pluck().get()).toBe(String(before));
    check.close();

    // the next start makes the lost entries again from the journal
    const s2 = await startServer({ db }, { env: {} });
    servers.push(s2);
    const placed = (await s2.app.store.auditList({ limit: 100, action: 'order.place' })).map((e) => [e.details.orderId, e.details.recovered === true]);
    for (const id of lost) expect(placed, `order ${id}`).toContainEqual([id, true]);
    expect(placed.filter(([id]) => id === kept).length).toBeGreaterThanOrEqual(1);
  });
});
