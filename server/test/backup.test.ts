/**
 * Online backups (server/src/backup.ts): made while orders flow, a backup is a whole server. Started on
 * the backup folder, the server has every order acknowledged before the backup was asked for, its journal
 * is the original's up to the backup's seq, its users sign in (with a 2FA backup code, which only the
 * copied key can check), and the copies are self-contained files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journalRows } from '../../engine/test/venue/helpers.js';
import { base32Decode, totp } from '../src/auth/totp.js';
import { BackupManifestSchema, BackupSchema } from '../../engine/protocol/index.js';
import { canonicalJson } from '../src/http/api.js';
import { Backups } from '../src/backup.js';
import { derivedPaths } from '../src/config.js';
import { PASSWORD, api, createUser, fund, listInstrument, login, rpc, setupAdmin, startServer, wsClient, type Session, type TestServer } from './helpers.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tdbk-'));
  dirs.push(d);
  return d;
}

describe('online backups', () => {
  it('made while orders flow, a backup is a whole server: every order acknowledged before it, the journal up to its seq, users and their 2FA', async () => {
    const backupDir = tempDir();
    // the real key file (tests otherwise use a key in memory), so that the backup has it to copy
    const s = await startServer({ backupDir, ws: { rate: 100_000, burst: 100_000 } }, { serverKey: undefined });
    servers.push(s);
    const admin = await setupAdmin(s);
    await listInstrument(s, admin);
    const tess = await createUser(s, admin, 'tess', 'trader');
    await fund(s, admin, tess.user.accountId!);
    // tess turns on 2FA: her backup codes are hashed with the server's key
    const e = await api(s.url, 'POST', '/api/v1/auth/2fa/enroll', { token: tess.accessToken, body: { password: PASSWORD } });
    const v = await api(s.url, 'POST', '/api/v1/auth/2fa/verify', { token: tess.accessToken, body: { code: totp(base32Decode(e.body.secret), Date.now()) } });
    expect(v.status).toBe(200);
    const backupCode = (v.body.backupCodes as string[])[0]!;

    // a venue file of some size (imported bars are kept in it), so that its copy takes many turns of the
    // event loop and orders are committed while it is made
    const bars = Array.from({ length: 300_000 }, (_, i) => ({ t: 1_700_000_040_000 + i * 60_000, o: 10_000, h: 10_010, l: 9_990, c: 10_000, v: 5 }));
    s.app.venue.importCandles('ACME', '1m', bars);
    // orders keep flowing, 16 at a time, until the backup is done
    const { client } = await wsClient(s, { token: tess.accessToken });
    const acked: number[] = [];
    let flowing = true;
    let n = 0;
    const flow = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (flowing) {
          const o = await client.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000 + (n++ % 500), tif: 'gtc' });
          acked.push(o.orderId);
        }
      }),
    );
    while (acked.length < 500) await new Promise((r) => setTimeout(r, 5));
    const before = [...acked];
    const r = await api(s.url, 'POST', '/api/v1/admin/backups', { token: admin.accessToken });
    const during = acked.length - before.length;
    flowing = false;
    await flow;
    client.close();
    expect(r.status).toBe(201);
    const info = BackupSchema.parse(r.body);
    expect(BackupManifestSchema.parse(JSON.parse(readFileSync(join(info.dir, 'manifest.json'), 'utf8')))).toEqual({ ...info, dir: undefined });
    expect(info.trigger).toBe('admin');
    expect(info.by).toBe('admin');
    expect(info.key).toBe('file');
    expect(info.dir).toBe(join(backupDir, info.name));
    expect(info.name).toMatch(new RegExp(`^\\d{8}T\\d{9}Z-seq${info.seq}$`));
    // orders went on while the backup was made (the venue's copy is taken a step per turn)
    expect(during).toBeGreaterThan(0);
    // the files a server started with --db <folder>/venue.db finds, and nothing else (no -wal: self-contained)
    expect(readdirSync(info.dir).sort()).toEqual(['manifest.json', 'venue.db', 'venue.db-history', 'venue.server.key', 'venue.users.db']);
    for (const f of info.files) {
      expect(statSync(join(info.dir, f.file)).size).toBe(f.bytes);
      // each database copy is in rollback-journal mode (header bytes 18-19: 1, 1), not WAL: it needs no -wal
      if (f.role !== 'key') expect([...readFileSync(join(info.dir, f.file)).subarray(18, 20)], f.file).toEqual([1, 1]);
    }
    expect(statSync(join(info.dir, 'venue.server.key')).mode & 0o777).toBe(0o600);
    // the folder holds the key and the password hashes: the server's account only
    expect(statSync(info.dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(info.dir, 'venue.server.key'))).toEqual(readFileSync(join(s.dir, 'venue.server.key')));
    // the admin's backup is in the audit log
    const audit = await api(s.url, 'GET', '/api/v1/admin/audit?action=admin.backup', { token: admin.accessToken });
    expect(audit.body.map((a: { username: string; details: { name: string } }) => [a.username, a.details.name])).toEqual([['admin', info.name]]);

    // the original server stops (its files stay); the journal in the backup is the original's, up to its seq
    await s.app.close();
    const original = journalRows(s.app.config.db, info.seq);
    const copied = journalRows(join(info.dir, 'venue.db'), Number.MAX_SAFE_INTEGER);
    expect(copied.length).toBeGreaterThan(0);
    expect(copied).toEqual(original);
    const last = copied.at(-1)!;
    expect(Number(last[0]) + Number(last[1]) - 1).toBe(info.seq);

    // a server started on the backup folder
    const restored = await startServer({ db: join(info.dir, 'venue.db') }, { serverKey: undefined });
    servers.push(restored);
    expect(restored.app.venue.lastSeq).toBe(info.seq);
    expect((await login(restored, 'tess')).body.code).toBe('TWO_FACTOR_REQUIRED');
    const t = await login(restored, 'tess', PASSWORD, backupCode);
    expect(t.status).toBe(200);
    const tok = (t.body as Session).accessToken;
    for (const id of before) {
      const o = await rpc(restored, 'order.get', { orderId: id }, tok);
      expect(o.status, `order ${id}`).toBe(200);
    }
    // and it trades on
    const o = await rpc(restored, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_100, tif: 'gtc' }, tok);
    expect(o.status).toBe(200);
  });

  it('a request with an Idempotency-Key whose order is in the backup is replayed by the restored server, not placed again', async () => {
    const backupDir = tempDir();
    const s = await startServer({ backupDir });
    servers.push(s);
    const admin = await setupAdmin(s);
    await listInstrument(s, admin);
    const tess = await createUser(s, admin, 'tess', 'trader');
    await fund(s, admin, tess.user.accountId!);
    // a venue file of some size, so that orders are committed while its copy is made (see above)
    const bars = Array.from({ length: 300_000 }, (_, i) => ({ t: 1_700_000_040_000 + i * 60_000, o: 10_000, h: 10_010, l: 9_990, c: 10_000, v: 5 }));
    s.app.venue.importCandles('ACME', '1m', bars);
    // orders over REST, each with its own key, 8 at a time, until the backup is done
    const sent: { key: string; body: Record<string, unknown>; orderId: number; afterAsk: boolean }[] = [];
    let flowing = true;
    let asked = false;
    let n = 0;
    const flow = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (flowing) {
          const i = n++;
          const body = { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1 + (i % 7), price: 9_000 + (i % 500), tif: 'gtc' };
          const key = `bk-${i}`;
          const afterAsk = asked;
          const r = await rpc(s, 'order.place', body, tess.accessToken, { 'Idempotency-Key': key });
          expect(r.status).toBe(200);
          sent.push({ key, body, orderId: r.body.orderId, afterAsk });
        }
      }),
    );
    while (sent.length < 50) await new Promise((r) => setTimeout(r, 5));
    asked = true;
    const b = await api(s.url, 'POST', '/api/v1/admin/backups', { token: admin.accessToken });
    flowing = false;
    await flow;
    expect(b.status).toBe(201);
    await s.app.close();

    const restored = await startServer({ db: join(b.body.dir, 'venue.db') });
    servers.push(restored);
    const tok = ((await login(restored, 'tess')).body as Session).accessToken;
    const listed = async (): Promise<number[]> => {
      const ids: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await rpc(restored, 'orders.list', { limit: 500, ...(cursor !== undefined ? { cursor } : {}) }, tok);
        expect(page.status).toBe(200);
        ids.push(...(page.body.items as { orderId: number }[]).map((o) => o.orderId));
        cursor = page.body.nextCursor;
      } while (cursor !== undefined);
      return ids;
    };
    const kept = new Set(await listed());
    const inCopy = sent.filter((x) => kept.has(x.orderId));
    // the case that matters: orders sent once the backup was asked for, which are in it
    expect(inCopy.filter((x) => x.afterAsk).length).toBeGreaterThan(0);
    // each one's retry (a client that did not get its answer before the restore) gets the original answer
    for (const x of inCopy) {
      const r = await rpc(restored, 'order.place', x.body, tok, { 'Idempotency-Key': x.key });
      expect([r.status, r.headers.get('idempotent-replayed'), r.body.orderId], x.key).toEqual([200, 'true', x.orderId]);
    }
    // and nothing was placed again
    expect((await listed()).length).toBe(kept.size);
  });

  it('keyed requests running at the copy: an answer made while the backup waits is carried in, one released is dropped, one still running is cut short', async () => {
    const backupDir = tempDir();
    const s = await startServer();
    servers.push(s);
    const admin = await setupAdmin(s);
    await listInstrument(s, admin);
    const tess = await createUser(s, admin, 'tess', 'trader');
    await fund(s, admin, tess.user.accountId!);
    const store = s.app.store;
    const body = (qty: number) => ({ symbol: 'ACME', side: 'buy', orderType: 'limit', qty, price: 9_000, tif: 'gtc' });
    const hash = (b: unknown) => createHash('sha256').update('order.place\n' + canonicalJson(b)).digest('hex');
    // three requests claimed well before the backup, still running when the users database is copied
    for (const [key, qty] of [['answered-late', 1], ['failed-late', 2], ['never-answered', 3]] as const) store.idemClaim(tess.user.id, key, hash(body(qty)), Date.now() - 5_000);
    // Once the venue's copy is taken the backup waits (here up to 300 ms) for the requests claimed before it:
    // 50 ms into the wait the first is answered and the second fails as a 5xx does (its key is released, no
    // answer kept); the third is still running when the wait ends.
    const running = store.idemRunning.bind(store);
    let waited = 0;
    store.idemRunning = (before: number) => {
      if (waited++ === 0)
        setTimeout(() => {
          store.idemFinish(tess.user.id, 'answered-late', 200, JSON.stringify({ orderId: 424_242 }));
          store.idemRelease(tess.user.id, 'failed-late');
        }, 50);
      return running(before);
    };
    const backups = new Backups({ dir: backupDir, kept: 7, venue: s.app.venue, venuePath: s.app.config.db, usersDb: derivedPaths(s.app.config).usersDb, store, keyFile: '', keySource: 'none', idemWaitMs: 300 });
    const t0 = performance.now();
    const b = await backups.run('admin', 'admin');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(waited).toBeGreaterThan(2);
    await s.app.close();

    const restored = await startServer({ db: join(b.dir, 'venue.db') });
    servers.push(restored);
    const tok = ((await login(restored, 'tess')).body as Session).accessToken;
    // the answer made while the backup waited is in it
    const y = await rpc(restored, 'order.place', body(1), tok, { 'Idempotency-Key': 'answered-late' });
    expect([y.status, y.headers.get('idempotent-replayed'), y.body.orderId]).toEqual([200, 'true', 424_242]);
    // the one released without an answer is carried out on a retry (not refused as running for a day)
    const x = await rpc(restored, 'order.place', body(2), tok, { 'Idempotency-Key': 'failed-late' });
    expect([x.status, x.headers.get('idempotent-replayed'), x.body.qty]).toEqual([200, null, 2]);
    // the one still running: its outcome is unknown to the copy (its order may be in it), so a retry is refused as such
    const z = await rpc(restored, 'order.place', body(3), tok, { 'Idempotency-Key': 'never-answered' });
    expect([z.status, z.body.code, z.body.details]).toEqual([409, 'IDEMPOTENCY_UNKNOWN', { key: 'never-answered' }]);
  });

  it('only admins make or list backups; one at a time; the newest `backupsKept` stay', async () => {
    const backupDir = tempDir();
    const s = await startServer({ backupDir, backupsKept: 2 });
    servers.push(s);
    const admin = await setupAdmin(s);
    const terry = await createUser(s, admin, 'terry', 'trader');
    expect((await api(s.url, 'POST', '/api/v1/admin/backups')).body.code).toBe('UNAUTHENTICATED');
    expect((await api(s.url, 'GET', '/health')).body.backup).toEqual({ newestAt: null, running: false });
    const f = await api(s.url, 'POST', '/api/v1/admin/backups', { token: terry.accessToken });
    expect([f.status, f.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await api(s.url, 'GET', '/api/v1/admin/backups', { token: terry.accessToken })).status).toBe(403);
    // no other routes: a typed refusal
    const refused = [
      ['DELETE', '/api/v1/admin/backups', 405, 'BAD_REQUEST'],
      ['POST', '/api/v1/admin/backups/x', 404, 'NOT_FOUND'],
      ['GET', '/api/v1/admin/backups/..%2f..%2fetc', 404, 'NOT_FOUND'],
    ] as const;
    for (const [method, path, status, code] of refused) {
      const r = await api(s.url, method, path, { token: admin.accessToken });
      expect([r.status, r.body.code], `${method} ${path}`).toEqual([status, code]);
    }
    expect(readdirSync(backupDir)).toEqual([]);

    // what a backup cut short by a crash left is removed by the next one
    mkdirSync(join(backupDir, '.partial-20261206T000000000Z'), { recursive: true });
    writeFileSync(join(backupDir, '.partial-20261206T000000000Z', 'venue.db'), 'half');
    // two asked at once: the second is refused while the first is made
    const [a, b] = await Promise.all([api(s.url, 'POST', '/api/v1/admin/backups', { token: admin.accessToken }), api(s.url, 'POST', '/api/v1/admin/backups', { token: admin.accessToken })]);
    expect([a.status, b.status]).toEqual([201, 409]);
    expect(b.body.code).toBe('CONFLICT');
    // a key in memory (the tests' own) is not copied, and the manifest says so
    expect(a.body.key).toBe('none');
    const names = [a.body.name as string];
    for (let i = 0; i < 2; i++) {
      // names are stamped to the millisecond
      await new Promise((r) => setTimeout(r, 5));
      const x = await api(s.url, 'POST', '/api/v1/admin/backups', { token: admin.accessToken });
      expect(x.status).toBe(201);
      names.push(x.body.name);
    }
    // /health says when the newest began (for a monitor), nothing more
    expect((await api(s.url, 'GET', '/health')).body.backup).toEqual({ newestAt: (await api(s.url, 'GET', '/api/v1/admin/backups', { token: admin.accessToken })).body[0].createdAt, running: false });
    const list = await api(s.url, 'GET', '/api/v1/admin/backups', { token: admin.accessToken });
    expect(list.body.map((x: { name: string }) => x.name)).toEqual([names[2], names[1]]);
    expect(readdirSync(backupDir).sort()).toEqual([names[1], names[2]]);
    const metrics = await api(s.url, 'GET', '/metrics');
    expect(String(metrics.body)).toMatch(/tradedesk_backups_total\{result="ok"\} 3\b/);
    expect(String(metrics.body)).not.toMatch(/tradedesk_backups_total\{result="failed"\} [1-9]/);
  });

  it('a failed backup leaves nothing behind and says why; the schedule makes them on its own', async () => {
    const backupDir = tempDir();
    // 0.005 minutes: every 300 ms
    const s = await startServer({ backupDir, backupEvery: 0.005 });
    servers.push(s);
    await setupAdmin(s);
    const deadline = Date.now() + 10_000;
    while (s.app.backups.list().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const made = s.app.backups.list();
    expect(made.length).toBeGreaterThanOrEqual(2);
    expect(made.every((b) => b.trigger === 'schedule' && b.by === undefined)).toBe(true);
    // a backup abandoned by the server's shutdown: refused as such, and no folder is left
    const before = readdirSync(backupDir).sort();
    const stopped = s.app.backups.run('admin', 'admin');
    await s.app.backups.stop();
    await expect(stopped).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/^The backup failed: /) });
    expect(readdirSync(backupDir).sort()).toEqual(before);
    await expect(s.app.backups.run('admin', 'admin')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'The server is stopping' });
    // a backup folder that cannot be made (a file is in the way): the admin is told why
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const t = await startServer({ backupDir: join(file, 'backups') });
    servers.push(t);
    const a2 = await setupAdmin(t);
    const r = await api(t.url, 'POST', '/api/v1/admin/backups', { token: a2.accessToken });
    expect([r.status, r.body.code]).toEqual([500, 'INTERNAL']);
    expect(r.body.message).toMatch(/^The backup failed: .*ENOTDIR/);
    expect(String((await api(t.url, 'GET', '/metrics')).body)).toMatch(/tradedesk_backups_total\{result="failed"\} 1\b/);
  });
});
