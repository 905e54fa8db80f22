/**
 * What the users database must keep across a power cut is on the disk in time (server/src/store.ts,
 * `durable()`): it commits with synchronous=NORMAL, so its WAL is fsynced only where that is asked for.
 *
 * A power cut cannot be made here, so the order of the writes is checked instead, under strace
 * (server/test/fixtures/users-durable-run.ts): an Idempotency-Key's claim is fsynced before the order reaches
 * the journal (else a retry after a power cut could place an order the journal holds again), and an admin's
 * change of a user is fsynced before it is answered (a disabled user must not come back).
 */
import Database from 'better-sqlite3';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { runTraced, straceEvents } from '../../engine/test/support/strace.js';
import { WAL_SIZE_LIMIT } from '../../engine/venue/index.js';
import { Store } from '../src/store.js';
import { api, login, setupAdmin, SPEC, startServer } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Step = 'users-write' | 'users-sync' | 'journal-write' | 'answer';

describe('the users database across a power cut', () => {
  it('an Idempotency-Key is on the disk before its order is journaled; a change of a user before it is answered', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdusers-'));
    dirs.push(dir);
    const log = join(dir, 'trace');
    const { log: trace, out } = runTraced<{ port: number; orderId: number; usersWal: string; venueWal: string }>(
      'server/test/fixtures/users-durable-run.ts',
      [dir],
      ['pwrite64', 'write', 'writev', 'fsync', 'fdatasync', 'access', 'faccessat', 'faccessat2'],
      log,
    );
    expect(out.orderId).toBeGreaterThan(0);

    // the steps between two marks of the run, each with the log's lines where it began and returned
    const events = straceEvents(trace);
    const between = (name: string): { step: Step; start: number; end: number }[] => {
      const from = events.find((e) => e.call.includes(`/MARK-${name}-start"`))?.end;
      const to = events.find((e) => e.call.includes(`/MARK-${name}-end"`))?.start;
      expect(from !== undefined && to !== undefined && from < to, name).toBe(true);
      return events.flatMap((e) => {
        if (e.start < from! || e.end > to!) return [];
        const m = /^(\w+)\(\d+<(TCP:\[[^\]]*\]|[^>]*)>/.exec(e.call);
        if (m === null) return [];
        const [, call, file] = m as unknown as [string, string, string];
        const step: Step | undefined =
          call === 'pwrite64' && file === out.usersWal
            ? 'users-write'
            : (call === 'fsync' || call === 'fdatasync') && file === out.usersWal
              ? 'users-sync'
              : call === 'pwrite64' && file === out.venueWal
                ? 'journal-write'
                : // the server's answer: a write on its side of a connection (TCP:[<its address>-><the client's>])
                  (call === 'write' || call === 'writev') && file.startsWith(`TCP:[127.0.0.1:${out.port}->`)
                  ? 'answer'
                  : undefined;
        return step === undefined ? [] : [{ step, start: e.start, end: e.end }];
      });
    };
    type Ev = ReturnType<typeof between>[number];
    const first = (evs: Ev[], step: Step): Ev => {
      const found = evs.filter((e) => e.step === step).sort((x, y) => x.start - y.start)[0];
      expect(found, step).toBeDefined();
      return found!;
    };
    /**
     * Every write of the users database that returned before `b` began was synced before it: an fsync that
     * began after the last of those writes returned and itself returned before `b` began (an fsync that began
     * earlier does not count, even if it returned later).
     */
    const syncedBefore = (evs: Ev[], b: Ev): boolean => {
      const writes = evs.filter((e) => e.step === 'users-write' && e.end < b.start);
      if (writes.length === 0) return true;
      const last = Math.max(...writes.map((e) => e.end));
      return evs.some((e) => e.step === 'users-sync' && e.start > last && e.end < b.start);
    };
    const show = (evs: Ev[]) => evs.map((e) => `${e.step}@${e.start}-${e.end}`).join(' ');

    const order = between('order');
    const claimed = first(order, 'users-write');
    const journaled = first(order, 'journal-write');
    expect(journaled.start, 'the order is journaled after its key is claimed').toBeGreaterThan(claimed.end);
    expect(syncedBefore(order, journaled), `the claim is fsynced before the journal has the order: ${show(order)}`).toBe(true);
    const answered = first(order, 'answer');
    expect(answered.start).toBeGreaterThan(journaled.end);
    expect(syncedBefore(order, answered), `the key's answer is fsynced before it is sent: ${show(order)}`).toBe(true);

    const disable = between('disable');
    const written = first(disable, 'users-write');
    const told = first(disable, 'answer');
    expect(told.start).toBeGreaterThan(written.end);
    expect(syncedBefore(disable, told), `the change (and its audit entry) is fsynced before it is answered: ${show(disable)}`).toBe(true);
  });
});

describe('Store.durable()', () => {
  /** A store whose fsyncs wait until the test lets them return (each with an error or none). */
  function heldStore() {
    const dir = mkdtempSync(join(tmpdir(), 'tdusers-'));
    dirs.push(dir);
    const started: ((e: NodeJS.ErrnoException | null) => void)[] = [];
    const errors: Error[] = [];
    const store = new Store(join(dir, 'u.db'), (e) => errors.push(e), { fsync: (_fd, cb) => void started.push(cb) });
    return { store, started, errors };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('a caller never shares an fsync that began before it called; callers waiting for the next one share it', async () => {
    const { store, started } = heldStore();
    const done: string[] = [];
    const a = store.durable().then(() => done.push('a'));
    expect(started.length).toBe(1);
    // while A's fsync runs: B and C wait for the next one, which starts when A's returns
    const b = store.durable().then(() => done.push('b'));
    const c = store.durable().then(() => done.push('c'));
    await tick();
    expect(started.length).toBe(1);
    started[0]!(null);
    await a;
    await tick();
    expect(done).toEqual(['a']);
    expect(started.length).toBe(2);
    // D calls while the second runs: a third
    const d = store.durable().then(() => done.push('d'));
    started[1]!(null);
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
    await tick();
    expect(started.length).toBe(3);
    started[2]!(null);
    await d;
    expect(done).toEqual(['a', 'b', 'c', 'd']);
    await store.close();
  });

  it('after an fsync failed, every later call fails with it (a later fsync that succeeds proves nothing); reported once', async () => {
    const { store, started, errors } = heldStore();
    const a = store.durable();
    const b = store.durable();
    expect(store.syncFailure).toBeUndefined();
    started[0]!(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await expect(a).rejects.toThrow(/^The users database could not be synced to the disk: EIO/);
    await expect(b).rejects.toThrow(/^The users database could not be synced to the disk: EIO/);
    await expect(store.durable()).rejects.toThrow(/could not be synced/);
    expect(started.length).toBe(1);
    expect(errors.map((e) => e.message)).toEqual(['The users database could not be synced to the disk: EIO: i/o error, fsync']);
    // (what /health and /metrics read)
    expect(store.syncFailure?.message).toBe('The users database could not be synced to the disk: EIO: i/o error, fsync');
    await store.close();
  });

  it('close waits for the fsync running and the one queued behind it, then closes', async () => {
    const { store, started } = heldStore();
    const a = store.durable();
    const b = store.durable();
    let closed = false;
    const closing = store.close().then(() => (closed = true));
    // (the audit writer's thread ends first: then close waits on the fsyncs)
    await new Promise((r) => setTimeout(r, 300));
    started[0]!(null);
    await a;
    for (let i = 0; i < 5; i++) await tick();
    // the second fsync runs on the WAL's descriptor: the store is not closed under it
    expect([started.length, closed, store.db.open]).toEqual([2, false, true]);
    started[1]!(null);
    await b;
    await closing;
    expect(store.db.open).toBe(false);
  });

  it('the real fsync, and none in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdusers-'));
    dirs.push(dir);
    const store = new Store(join(dir, 'u.db'));
    await Promise.all([store.durable(), store.durable(), store.durable()]);
    await store.close();
    const mem = new Store(':memory:');
    await mem.durable();
    await mem.close();
  });
});

describe("the users database's file modes", () => {
  it('is made 0600 with its -wal and -shm (argon2id hashes, sessions), and an existing one is made 0600 when opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdusers-'));
    dirs.push(dir);
    const file = join(dir, 'u.db');
    const modes = (): number[] => [file, `${file}-wal`, `${file}-shm`].map((f) => statSync(f).mode & 0o777);
    const store = new Store(file);
    expect(modes()).toEqual([0o600, 0o600, 0o600]);
    await store.close();
    // one made by an earlier version, readable by all
    const old = join(dir, 'old.db');
    new Database(old).close();
    chmodSync(old, 0o644);
    const again = new Store(old);
    expect([old, `${old}-wal`, `${old}-shm`].map((f) => statSync(f).mode & 0o777)).toEqual([0o600, 0o600, 0o600]);
    await again.close();
  });
});

describe("the users database's WAL", () => {
  it('grown past 64 MiB while a reader held checkpoints back, is cut back to 64 MiB when it starts over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdusers-'));
    dirs.push(dir);
    const file = join(dir, 'u.db');
    const store = new Store(file);
    store.db.exec('CREATE TABLE filler (b BLOB)');
    const reader = new Database(file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM users').get(); // a read transaction: no checkpoint gets past it
    const add = store.db.prepare('INSERT INTO filler (b) VALUES (?)');
    const mb = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 72; i++) add.run(mb);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(WAL_SIZE_LIMIT);
    reader.exec('COMMIT');
    reader.close();
    store.db.pragma('wal_checkpoint(PASSIVE)');
    add.run(Buffer.alloc(16)); // the WAL starts over
    expect(statSync(`${file}-wal`).size).toBeLessThanOrEqual(WAL_SIZE_LIMIT);
    await store.close();
  });
});

describe('a users database that cannot be synced', () => {
  it('a request whose change cannot be made durable is answered 500, and the server goes on (no unhandled failure), degraded', async () => {
    const s = await startServer();
    onTestFinished(() => s.stop());
    const admin = await setupAdmin(s);
    expect(await api(s.url, 'GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok', usersDb: {} } });
    // a store whose fsync failed (Store.durable()'s own tests: the failure is kept and every later call fails)
    const failure = new Error('The users database could not be synced to the disk: EIO');
    const failing = vi.fn(() => Promise.reject(failure));
    (s.app.store as { durable: () => Promise<void> }).durable = failing;
    Object.defineProperty(s.app.store, 'syncFailure', { get: () => failure });
    const created = await api(s.url, 'POST', '/api/v1/admin/users', { token: admin.accessToken, body: { username: 'ulla', password: 'temporary ulla password', role: 'viewer' } });
    expect(created.status).toBe(500);
    expect(created.body).toMatchObject({ code: 'INTERNAL' });
    // with an Idempotency-Key: refused before it runs, and the key is released for a retry
    const keyed = await api(s.url, 'POST', '/api/v1/rpc/admin.instrument.create', { token: admin.accessToken, body: SPEC, headers: { 'Idempotency-Key': 'k-1' } });
    expect(keyed.status).toBe(500);
    expect(failing.mock.calls.length).toBeGreaterThanOrEqual(3);
    // /health says so, with a status a supervisor acts on (a restart clears it); /metrics too
    expect(await api(s.url, 'GET', '/health')).toMatchObject({ status: 503, body: { status: 'degraded', usersDb: { failed: failure.message }, venue: { lastSeq: expect.any(Number) } } });
    expect((await api(s.url, 'GET', '/metrics')).body).toMatch(/^tradedesk_users_db_sync_failed 1$/m);
    expect((await api(s.url, 'GET', '/api/v1/rpc/instruments.list', { token: admin.accessToken })).body).toEqual([]);
  });
});

describe('a users database that cannot be written', () => {
  it('a sign-in whose session cannot be written is answered 500, and /health and /metrics say so until a restart', async () => {
    const s = await startServer();
    onTestFinished(() => s.stop());
    await setupAdmin(s);
    // the users database is full: its connection may not grow it by a page (as a full disk would answer)
    const pages = s.app.store.db.pragma('page_count', { simple: true }) as number;
    s.app.store.db.pragma(`max_page_count = ${pages}`);
    let failed: Awaited<ReturnType<typeof login>> | undefined;
    for (let i = 0; i < 200 && failed === undefined; i++) {
      const r = await login(s, 'admin');
      if (r.status !== 200) failed = r;
    }
    expect(failed).toMatchObject({ status: 500, body: { code: 'INTERNAL' } });
    expect(await api(s.url, 'GET', '/health')).toMatchObject({ status: 503, body: { status: 'degraded', usersDb: { failed: expect.stringMatching(/^The users database could not be written: /) } } });
    expect((await api(s.url, 'GET', '/metrics')).body).toMatch(/^tradedesk_users_db_sync_failed 1$/m);
    // as a failed fsync, it stays until a restart (audit entries it lost are made again at the next start)
    s.app.store.db.pragma('max_page_count = 1073741823');
    expect((await login(s, 'admin')).status).toBe(200);
    expect((await api(s.url, 'GET', '/health')).status).toBe(503);
  });

  it('an audit batch it could not write makes the server degraded until a restart', async () => {
    const s = await startServer();
    onTestFinished(() => s.stop());
    await setupAdmin(s);
    s.app.store.db.exec("CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    s.app.store.audit({ ts: Date.now(), action: 'order.place', details: {} }, s.app.venue.lastSeq);
    await s.app.store.auditSettled();
    s.app.store.db.exec('DROP TRIGGER no_audit');
    expect(await api(s.url, 'GET', '/health')).toMatchObject({ status: 503, body: { status: 'degraded', usersDb: { failed: expect.stringMatching(/^Audit entries could not be written: .*disk full/) } } });
    expect((await api(s.url, 'GET', '/metrics')).body).toMatch(/^tradedesk_users_db_sync_failed 1$/m);
  });
});
