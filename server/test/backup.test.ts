/**
 * Online backups (server/src/backup.ts): made while orders flow, a backup is a whole server. Started on
 * the backup folder, the server has every order acknowledged before the backup was asked for, its journal
 * is the original's up to the backup's seq, its users sign in (with a 2FA backup code, which only the
 * copied key can check), and the copies are self-contained files.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journalRows } from '../../engine/test/venue/helpers.js';
import { base32Decode, totp } from '../src/auth/totp.js';
import { BackupManifestSchema, BackupSchema, BackupStatusSchema } from '../../engine/protocol/index.js';
import { canonicalJson } from '../src/http/api.js';
import { Backups } from '../src/backup.js';
import { derivedPaths, makeConfig } from '../src/config.js';
import { restoreBackup, RestoreError } from '../src/restore.js';
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

/** The ids of a user's orders, listed a page at a time. */
async function orderIds(s: TestServer, token: string): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await rpc(s, 'orders.list', { limit: 500, ...(cursor !== undefined ? { cursor } : {}) }, token);
    expect(page.status).toBe(200);
    ids.push(...(page.body.items as { orderId: number }[]).map((o) => o.orderId));
    cursor = page.body.nextCursor;
  } while (cursor !== undefined);
  return ids;
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
    const asked = api(s.url, 'POST', '/api/v1/admin/backups', { token: admin.accessToken });
    // while it is made, the status says so (whose, since when)
    let running: unknown = null;
    for (let i = 0; i < 200 && running === null; i++) {
      running = BackupStatusSchema.parse((await api(s.url, 'GET', '/api/v1/admin/backups/status', { token: admin.accessToken })).body).running;
      if (running === null) await new Promise((r) => setTimeout(r, 2));
    }
    expect(running).toMatchObject({ trigger: 'admin', by: 'admin', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const r = await asked;
    expect((await api(s.url, 'GET', '/api/v1/admin/backups/status', { token: admin.accessToken })).body).toEqual({ running: null, lastFailure: null });
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
    // orders went on while the backup was made (its files are copied by worker threads)
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
    // (listed a page at a time: an order.get each would pass the REST rate limit)
    const have = new Set(await orderIds(restored, tok));
    expect(before.filter((id) => !have.has(id))).toEqual([]);
    // the audit log has every order the venue has, those placed while the backup was made included, once:
    // the copy's audit mark is the venue copy's seq, so the restored server makes none of them again
    await restored.app.store.auditSettled();
    const audited = new Map<number, number>();
    for (const d of restored.app.store.db.prepare("SELECT details FROM audit WHERE action = 'order.place'").pluck().all() as string[]) {
      const id = (JSON.parse(d) as { orderId: number }).orderId;
      audited.set(id, (audited.get(id) ?? 0) + 1);
    }
    expect([...have].filter((id) => audited.get(id) !== 1)).toEqual([]);
    expect(have.size).toBeGreaterThan(before.length);
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
    const listed = () => orderIds(restored, tok);
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

  it('restore puts a backup where a server with the same flags finds it and leaves the backup as it was; it never overwrites, and a damaged backup leaves nothing', async () => {
    const backupDir = tempDir();
    const s = await startServer({ backupDir }, { serverKey: undefined });
    servers.push(s);
    const admin = await setupAdmin(s);
    await listInstrument(s, admin);
    const tess = await createUser(s, admin, 'tess', 'trader');
    await fund(s, admin, tess.user.accountId!);
    const placed: number[] = [];
    for (let i = 0; i < 3; i++) placed.push((await rpc(s, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000 + i, tif: 'gtc' }, tess.accessToken)).body.orderId);
    const b = BackupSchema.parse((await api(s.url, 'POST', '/api/v1/admin/backups', { token: admin.accessToken })).body);
    await s.app.close();
    const digest = (): string[] => readdirSync(b.dir).sort().map((f) => `${f} ${createHash('sha256').update(readFileSync(join(b.dir, f))).digest('hex')}`);
    const asMade = digest();

    // into another folder, under other names: where a server with `--db <there>/ex.db` looks
    const there = join(tempDir(), 'live');
    const cfg = makeConfig({ db: join(there, 'ex.db') });
    const r = restoreBackup(b.dir, cfg);
    expect(r.manifest.name).toBe(b.name);
    expect(r.warnings).toEqual([]);
    expect(Object.fromEntries(r.files.map((f) => [f.role, f.to]))).toEqual({ venue: join(there, 'ex.db'), history: join(there, 'ex.db-history'), users: join(there, 'ex.users.db'), key: join(there, 'ex.server.key') });
    expect(readdirSync(there).sort()).toEqual(['ex.db', 'ex.db-history', 'ex.server.key', 'ex.users.db']);
    expect(statSync(join(there, 'ex.server.key')).mode & 0o777).toBe(0o600);
    // the users database (argon2id hashes, sessions) is no one else's to read either
    expect(statSync(join(there, 'ex.users.db')).mode & 0o777).toBe(0o600);
    const restored = await startServer({ db: join(there, 'ex.db') }, { serverKey: undefined });
    servers.push(restored);
    expect(['ex.users.db', 'ex.users.db-wal', 'ex.users.db-shm'].map((f) => statSync(join(there, f)).mode & 0o777)).toEqual([0o600, 0o600, 0o600]);
    expect(restored.app.venue.lastSeq).toBe(b.seq);
    const tok = ((await login(restored, 'tess')).body as Session).accessToken;
    for (const id of placed) expect((await rpc(restored, 'order.get', { orderId: id }, tok)).status).toBe(200);
    expect((await rpc(restored, 'order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_100, tif: 'gtc' }, tok)).status).toBe(200);
    // the restored server trades on; the backup is as it was made
    expect(digest()).toEqual(asMade);

    // never over a server's files (running or not)
    expect(() => restoreBackup(b.dir, cfg)).toThrow(RestoreError);
    expect(() => restoreBackup(b.dir, cfg)).toThrow(/^Refusing to overwrite .*ex\.db.*: stop the server/);
    // not a backup
    expect(() => restoreBackup(tempDir(), makeConfig({ db: join(tempDir(), 'x.db') }))).toThrow(/is not a backup folder/);
    // a file shorter than its manifest says: refused before anything is written
    const cut = tempDir();
    for (const f of readdirSync(b.dir)) writeFileSync(join(cut, f), readFileSync(join(b.dir, f)));
    truncateSync(join(cut, 'venue.db-history'), 4096);
    const none = join(tempDir(), 'none');
    expect(() => restoreBackup(cut, makeConfig({ db: join(none, 'x.db') }))).toThrow(/is damaged: .*venue\.db-history is 4096 bytes, its manifest says \d+/);
    expect(existsSync(none)).toBe(false);
    // a file of the right size that fails its check, after two were put in place: they are taken out again
    const bad = tempDir();
    for (const f of readdirSync(b.dir)) writeFileSync(join(bad, f), readFileSync(join(b.dir, f)));
    const h = readFileSync(join(bad, 'venue.db-history'));
    h.fill(0x5a, 4096, h.length);
    writeFileSync(join(bad, 'venue.db-history'), h);
    const empty = join(tempDir(), 'empty');
    expect(() => restoreBackup(bad, makeConfig({ db: join(empty, 'x.db') }))).toThrow(/is damaged: .*venue\.db-history fails its check \(\*\*\* in database main \*\*\*; /);
    expect(readdirSync(empty)).toEqual([]);

    // from the command line: 0 and what went where; 1 and why
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', 'restore', ...args], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.once('exit', (code) => resolve({ code, out, err }));
      });
    const elsewhere = join(tempDir(), 'cli', 'v.db');
    const ok = await cli([b.dir, '--db', elsewhere]);
    expect([ok.code, ok.err]).toEqual([0, '']);
    expect(ok.out).toContain(`Restored backup ${b.name} (up to command ${b.seq}`);
    expect(ok.out).toContain(`Start the server with the same flags (--db ${elsewhere}).`);
    const again = await cli([b.dir, '--db', elsewhere]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^restore: Refusing to overwrite /);
    expect((await cli([])).code).toBe(2);
  });

  it('only admins make or list backups; one at a time; the newest `backupsKept` stay', async () => {
    const backupDir = tempDir();
    const s = await startServer({ backupDir, backupsKept: 2 });
    servers.push(s);
    const admin = await setupAdmin(s);
    const terry = await createUser(s, admin, 'terry', 'trader');
    expect((await api(s.url, 'POST', '/api/v1/admin/backups')).body.code).toBe('UNAUTHENTICATED');
    expect((await api(s.url, 'GET', '/api/v1/admin/backups/status')).body.code).toBe('UNAUTHENTICATED');
    expect((await api(s.url, 'GET', '/api/v1/admin/backups/status', { token: terry.accessToken })).status).toBe(403);
    expect((await api(s.url, 'GET', '/api/v1/admin/backups/status', { token: admin.accessToken })).body).toEqual({ running: null, lastFailure: null });
    expect((await api(s.url, 'GET', '/health')).body.backup).toEqual({ newestAt: null, running: false });
    const f = await api(s.url, 'POST', '/api/v1/admin/backups', { token: terry.accessToken });
    expect([f.status, f.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await api(s.url, 'GET', '/api/v1/admin/backups', { token: terry.accessToken })).status).toBe(403);
    // no other routes: a typed refusal
    const refused = [
      ['DELETE', '/api/v1/admin/backups', 405, 'METHOD_NOT_ALLOWED'],
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
    // (and the file by which the server holds the folder)
    expect(readdirSync(backupDir).sort()).toEqual(['.server.lock', names[1], names[2]]);
    const metrics = await api(s.url, 'GET', '/metrics');
    expect(String(metrics.body)).toMatch(/tradedesk_backups_total\{result="ok"\} 3\b/);
    expect(String(metrics.body)).not.toMatch(/tradedesk_backups_total\{result="failed"\} [1-9]/);
  });

  it('asked for with ?wait=false, a backup is answered as it begins (202, its status), then listed and audited once made', async () => {
    const s = await startServer({ backupDir: tempDir() });
    servers.push(s);
    const admin = await setupAdmin(s);
    const terry = await createUser(s, admin, 'terry', 'trader');
    expect((await api(s.url, 'POST', '/api/v1/admin/backups?wait=false', { token: terry.accessToken })).status).toBe(403);
    const bad = await api(s.url, 'POST', '/api/v1/admin/backups?wait=no', { token: admin.accessToken });
    expect([bad.status, bad.body.code]).toEqual([400, 'BAD_REQUEST']);
    // a venue of some size, so that the backup is still being made when the answer comes
    await listInstrument(s, admin);
    s.app.venue.importCandles('ACME', '1m', Array.from({ length: 200_000 }, (_, i) => ({ t: 1_600_000_020_000 + i * 60_000, o: 10_000, h: 10_010, l: 9_990, c: 10_000, v: 5 })));
    const r = await api(s.url, 'POST', '/api/v1/admin/backups?wait=false', { token: admin.accessToken });
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe('/api/v1/admin/backups/status');
    const st = BackupStatusSchema.parse(r.body);
    expect(st.running).toMatchObject({ trigger: 'admin', by: 'admin' });
    // one at a time, asked either way
    for (const path of ['/api/v1/admin/backups?wait=false', '/api/v1/admin/backups']) {
      const c = await api(s.url, 'POST', path, { token: admin.accessToken });
      expect([c.status, c.body.code], path).toEqual([409, 'CONFLICT']);
    }
    expect((await api(s.url, 'GET', '/api/v1/admin/backups', { token: admin.accessToken })).body).toEqual([]);
    let now = st;
    for (let i = 0; i < 600 && now.running !== null; i++) {
      await new Promise((res) => setTimeout(res, 50));
      now = BackupStatusSchema.parse((await api(s.url, 'GET', '/api/v1/admin/backups/status', { token: admin.accessToken })).body);
    }
    expect(now).toEqual({ running: null, lastFailure: null });
    const list = (await api(s.url, 'GET', '/api/v1/admin/backups', { token: admin.accessToken })).body as { createdAt: string; by: string; name: string }[];
    expect(list.map((b) => [b.createdAt, b.by])).toEqual([[st.running!.since, 'admin']]);
    const audit = await api(s.url, 'GET', '/api/v1/admin/audit?action=admin.backup', { token: admin.accessToken });
    expect(audit.body.map((a: { username: string; details: { name: string } }) => [a.username, a.details.name])).toEqual([['admin', list[0]!.name]]);
  });

  it('one server per backup folder: a second server backing up into it is refused, and deletes nothing, until the first stops', async () => {
    const backupDir = tempDir();
    const a = await startServer({ backupDir, backupsKept: 1 });
    const b = await startServer({ backupDir, backupsKept: 1 });
    servers.push(a, b);
    const adminA = await setupAdmin(a);
    const adminB = await setupAdmin(b);
    const made = await api(a.url, 'POST', '/api/v1/admin/backups', { token: adminA.accessToken });
    expect(made.status).toBe(201);
    const refused = await api(b.url, 'POST', '/api/v1/admin/backups', { token: adminB.accessToken });
    expect([refused.status, refused.body.code]).toEqual([500, 'INTERNAL']);
    expect(refused.body.message).toContain(`The backup folder ${backupDir} is in use by another server: give each server a --backup-dir of its own`);
    expect(readdirSync(backupDir).filter((n) => n !== '.server.lock')).toEqual([made.body.name]);
    // the first server's backup is not the second's: its /health and /metrics say it has none
    expect((await api(a.url, 'GET', '/health')).body.backup.newestAt).toBe(made.body.createdAt);
    expect((await api(b.url, 'GET', '/health')).body.backup).toEqual({ newestAt: null, running: false });
    const metricsB = (await api(b.url, 'GET', '/metrics')).body as string;
    expect(metricsB).toMatch(/^tradedesk_backup_last_seq 0$/m);
    expect(metricsB).toMatch(/^tradedesk_backup_last_success_timestamp_seconds 0$/m);
    // the first server stopped, the folder is the second's (which then keeps its one newest)
    await a.stop();
    const second = await api(b.url, 'POST', '/api/v1/admin/backups', { token: adminB.accessToken });
    expect(second.status).toBe(201);
    expect(readdirSync(backupDir).filter((n) => n !== '.server.lock')).toEqual([second.body.name]);
    expect((await api(b.url, 'GET', '/health')).body.backup.newestAt).toBe(second.body.createdAt);
    expect(second.body.venue).toBe(b.app.venue.id);
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
    // one abandoned by the shutdown is no failure of the backups
    expect(s.app.backups.status.lastFailure).toBeNull();
    // a backup folder that cannot be made (a file is in the way): the admin is told why
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const t = await startServer({ backupDir: join(file, 'backups') });
    servers.push(t);
    const a2 = await setupAdmin(t);
    const r = await api(t.url, 'POST', '/api/v1/admin/backups', { token: a2.accessToken });
    expect([r.status, r.body.code]).toEqual([500, 'INTERNAL']);
    expect(r.body.message).toMatch(/^The backup failed: .*ENOTDIR/);
    // and so does the status, for a scheduled one's failure too (else only in the logs and metrics)
    const st = BackupStatusSchema.parse((await api(t.url, 'GET', '/api/v1/admin/backups/status', { token: a2.accessToken })).body);
    expect(st).toEqual({ running: null, lastFailure: { at: expect.any(String), trigger: 'admin', by: 'admin', message: r.body.message } });
    expect(String((await api(t.url, 'GET', '/metrics')).body)).toMatch(/tradedesk_backups_total\{result="failed"\} 1\b/);
  });
});
