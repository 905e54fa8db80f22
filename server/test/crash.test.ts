// The server process is killed (SIGKILL) while traders place orders over WebSocket, then started again
// on the same files, three times: every order the server acknowledged is there after each restart, with
// the client order id it was sent with. (engine/test/venue/torture.test.ts kills the venue alone at
// random moments and checks the recovered state; this checks the same promise through the whole server:
// WebSocket, protocol session, venue and journal.) Each acknowledged order also has its one audit entry
// after the restart. The second kill comes in the middle of a backup.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ProtocolClient } from '../../engine/protocol/index.js';
import { connectWs, wsPort } from '../src/ws/client-port.js';
import { api, PASSWORD } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tdcrash-'));
/** The server's default backup folder, beside its database. */
const backups = join(dir, 'backups');
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the server from the source on the test's files (in `at`); resolves with its URL once it listens. */
async function start(at = dir): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', '--db', join(at, 'v.db'), '--port', '0', '--sim', 'off', '--setup-token-file', join(at, 'token')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TRADEDESK_'))),
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.resume();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const url = /"msg":"listening".*?"url":"([^"]+)"/.exec(out)?.[1];
    if (url !== undefined) return { child, url };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates the first admin of a server started by start(at) with its setup token; the admin's access token. */
async function firstAdmin(url: string, at = dir): Promise<string> {
  // the setup token file is written just after the listening line
  const tokenFile = join(at, 'token');
  const setupToken = (): string => (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '');
  for (let i = 0; i < 200 && !setupToken().startsWith('tds_'); i++) await new Promise((r) => setTimeout(r, 50));
  const setup = await api(url, 'POST', '/api/v1/auth/setup', { body: { setupToken: setupToken(), username: 'admin', password: PASSWORD } });
  expect(setup.status).toBe(201);
  return setup.body.accessToken as string;
}

/** A trader created by the admin, who has set PASSWORD in place of the temporary one; their user as created. */
async function trader(url: string, admin: string, username: string): Promise<{ accountId: number }> {
  const temporary = `temporary ${username} pass`;
  const created = await api(url, 'POST', '/api/v1/admin/users', { token: admin, body: { username, password: temporary, role: 'trader' } });
  expect(created.status).toBe(201);
  const first = await api(url, 'POST', '/api/v1/auth/login', { body: { username, password: temporary } });
  expect((await api(url, 'POST', '/api/v1/auth/password', { token: first.body.accessToken, body: { currentPassword: temporary, newPassword: PASSWORD } })).status).toBe(204);
  return created.body as { accountId: number };
}

/** An access token of a user whose password is PASSWORD. */
async function signIn(url: string, username: string): Promise<string> {
  return (await api(url, 'POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } })).body.accessToken as string;
}

/** Stops the server the usual way (SIGTERM) and waits for it to exit. */
function stopped(child: ChildProcess): Promise<void> {
  const exit = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  return exit;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('the server killed while it acknowledges orders', () => {
  it('keeps every acknowledged order across three kills and restarts', { timeout: 180_000 }, async () => {
    let { child, url } = await start();
    // first admin, a trader, an instrument and cash
    const admin = await firstAdmin(url);
    const crashy = await trader(url, admin, 'crashy');
    expect((await api(url, 'POST', '/api/v1/rpc/admin.instrument.create', { token: admin, body: { symbol: 'ACME', name: 'Acme', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 2000 } })).status).toBe(200);
    expect((await api(url, 'POST', '/api/v1/rpc/admin.account.fund', { token: admin, body: { accountId: crashy.accountId, amount: 10_000_000_000 } })).status).toBe(200);

    /** clientOrderId -> orderId of every acknowledged order */
    const acked = new Map<string, number>();
    let n = 0;
    for (let round = 0; round < 3; round++) {
      const token = await signIn(url, 'crashy');
      const wsUrl = url.replace(/^http/, 'ws') + '/ws';
      const clients = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const c = new ProtocolClient(wsPort(await connectWs(wsUrl, { token })), { timeoutMs: 10_000 });
          await c.connect({ client: 'crash-test' });
          return c;
        }),
      );
      let stop = false;
      // each client keeps 8 orders in flight until the server dies
      const loops = clients.flatMap((c) =>
        Array.from({ length: 8 }, async () => {
          while (!stop) {
            const cid = `r${round}-${n++}`;
            try {
              // resting buys below the market (the account may not sell short)
              const r = await c.call('order.place', { symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1, price: 9_000 + (n % 500), tif: 'gtc', clientOrderId: cid });
              acked.set(cid, r.orderId);
            } catch (e) {
              // past the connection's message rate: a client slows down
              if ((e as { code?: string }).code === 'RATE_LIMITED') {
                await new Promise((r) => setTimeout(r, 20));
                continue;
              }
              return; // the server went away: this request may or may not have been journaled
            }
          }
        }),
      );
      const before = acked.size;
      // kill it mid-flow: 1.0 to 1.8 s in; in the second round, in the middle of a backup
      await new Promise((r) => setTimeout(r, 1000 + round * 400));
      if (round === 1) {
        void api(url, 'POST', '/api/v1/admin/backups', { token: admin }).catch(() => undefined);
        const partial = (): boolean => existsSync(backups) && readdirSync(backups).some((f) => f.startsWith('.partial-'));
        for (let i = 0; i < 5000 && !partial(); i++) await new Promise((r) => setTimeout(r, 1));
        expect(partial(), 'a backup being made').toBe(true);
      }
      await killed(child);
      stop = true;
      await Promise.all(loops);
      for (const c of clients) c.close();
      expect(acked.size - before, `orders acknowledged in round ${round}`).toBeGreaterThan(50);
      if (process.env.CRASH_DEBUG !== undefined) console.log(`round ${round}: ${acked.size - before} acknowledged`);

      ({ child, url } = await start());
      const t = await signIn(url, 'crashy');
      const have = new Map<number, string | undefined>();
      let cursor: string | undefined;
      do {
        const page = await api(url, 'GET', `/api/v1/rpc/orders.list?limit=500${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: t });
        expect(page.status).toBe(200);
        for (const o of page.body.items as { orderId: number; clientOrderId?: string }[]) have.set(o.orderId, o.clientOrderId);
        cursor = page.body.nextCursor;
      } while (cursor !== undefined);
      const lost = [...acked].filter(([cid, id]) => have.get(id) !== cid);
      expect(lost, `round ${round}: acknowledged orders missing after the restart`).toEqual([]);
      // ... and each has its one audit entry: those the kill took before they were written are made again
      // from the journal, marked as such
      const a = await signIn(url, 'admin');
      const entries = new Map<number, { username: string; ip: string; details: Record<string, unknown> }[]>();
      let below: number | undefined;
      for (;;) {
        const page = await api(url, 'GET', `/api/v1/admin/audit?action=order.place&limit=1000${below !== undefined ? `&before=${below}` : ''}`, { token: a });
        expect(page.status).toBe(200);
        const items = page.body as { id: number; username: string; ip: string; details: Record<string, unknown> }[];
        for (const e of items) entries.set(e.details.orderId as number, [...(entries.get(e.details.orderId as number) ?? []), e]);
        if (items.length < 1000) break;
        below = items[items.length - 1]!.id;
      }
      const unaudited = [...acked.values()].filter((id) => entries.get(id)?.length !== 1);
      expect(unaudited, `round ${round}: acknowledged orders without exactly one audit entry`).toEqual([]);
      const recovered = [...acked].filter(([cid, id]) => cid.startsWith(`r${round}-`) && entries.get(id)![0]!.details.recovered === true).map(([, id]) => id);
      expect(recovered.length, `round ${round}: audit entries made again from the journal`).toBeGreaterThan(0);
      for (const id of recovered) expect(entries.get(id)![0]).toMatchObject({ username: 'crashy', ip: expect.stringMatching(/127\.0\.0\.1/), details: { via: 'ws', symbol: 'ACME', orderId: id } });
      if (process.env.CRASH_DEBUG !== undefined) console.log(`round ${round}: ${recovered.length} audit entries recovered`);
      if (round === 1) {
        // the backup cut short is not listed, and the next one removes what it left
        expect((await api(url, 'GET', '/api/v1/admin/backups', { token: a })).body).toEqual([]);
        const b = await api(url, 'POST', '/api/v1/admin/backups', { token: a });
        expect(b.status).toBe(201);
        expect(readdirSync(backups).filter((n) => n !== '.server.lock')).toEqual([b.body.name]);
      }
    }
    await stopped(child);
  });

  it('keeps the audit entries of sign-ins and of changes to users answered just before a kill', { timeout: 60_000 }, async () => {
    const at = join(dir, 'signins');
    mkdirSync(at);
    let { child, url } = await start(at);
    const admin = await firstAdmin(url, at);
    const created = await api(url, 'POST', '/api/v1/admin/users', { token: admin, body: { username: 'quick', password: 'temporary quick pass', role: 'trader' } });
    expect(created.status).toBe(201);
    const failed = await api(url, 'POST', '/api/v1/auth/login', { body: { username: 'quick', password: 'not the password' } });
    expect(failed.status).toBe(401);
    const ok = await api(url, 'POST', '/api/v1/auth/login', { body: { username: 'quick', password: 'temporary quick pass' } });
    expect(ok.status).toBe(200);
    // killed as soon as the answers are in: the entries behind them were committed before they were sent
    await killed(child);
    ({ child, url } = await start(at));
    const a = await signIn(url, 'admin');
    const log = (await api(url, 'GET', '/api/v1/admin/audit?limit=100', { token: a })).body as { action: string; username: string; details: Record<string, unknown> }[];
    const seen = log.map((e) => [e.action, e.username]);
    expect(seen).toEqual(expect.arrayContaining([['user.create', 'admin'], ['auth.login_failed', 'quick'], ['auth.login', 'quick']]));
    await stopped(child);
  });

  it('keeps the audit entries of WebSocket calls no command was journaled for, answered just before a kill', { timeout: 60_000 }, async () => {
    const at = join(dir, 'ws-refusals');
    mkdirSync(at);
    let { child, url } = await start(at);
    const admin = await firstAdmin(url, at);
    await trader(url, admin, 'wsy');
    const token = await signIn(url, 'wsy');
    const c = new ProtocolClient(wsPort(await connectWs(url.replace(/^http/, 'ws') + '/ws', { token })), { timeoutMs: 10_000 });
    await c.connect({ client: 'crash-test' });
    // a cancel-all's own entry is not journaled (its cancels are): killed as soon as its answer is in, the
    // entry was committed before it was sent
    expect(await c.call('order.cancelAll', {})).toEqual({ canceled: 0 });
    await killed(child);
    c.close();
    ({ child, url } = await start(at));
    const a = await signIn(url, 'admin');
    const log = (await api(url, 'GET', '/api/v1/admin/audit?action=order&limit=100', { token: a })).body as { action: string; username: string; details: Record<string, unknown> }[];
    expect(log.map((e) => [e.action, e.username, e.details])).toEqual([['order.cancelAll', 'wsy', { canceled: 0, via: 'ws' }]]);
    await stopped(child);
  });
});
