// The server's simulated market (engine/live): on by configuration, liquidity a trader's order fills
// against, warm-up bars in candles.get, quotes over WebSocket, and a restart on the same database that
// resumes it without duplicates.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { Venue } from '../../engine/venue/index.js';
import { simEnabled } from '../src/app.js';
import { makeConfig, parseArgs, fromEnv } from '../src/config.js';
import { createUser, fund, rpc, setupAdmin, startServer, wsClient, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe('the simulated market on the server', () => {
  it('provides liquidity, history and moving quotes; a restart resumes it', async () => {
    const s = await startServer({ sim: 'on', simSpeed: 60, simWarmupDays: 1, simSeed: 3 });
    const market = (await s.app.market)!;
    expect(market).toBeDefined();
    expect(market.resumed).toBe(false);

    const list = await rpc(s, 'instruments.list', {});
    const symbols = (list.body as { symbol: string }[]).map((i) => i.symbol);
    expect(symbols).toEqual(expect.arrayContaining(market.sim.symbols()));
    const symbol = market.sim.symbols()[0]!;
    const candles = await rpc(s, 'candles.get', { symbol, timeframe: '1m', limit: 5000 });
    expect(candles.status).toBe(200);
    expect(candles.body.length).toBeGreaterThanOrEqual(390); // one session of warm-up bars

    // quotes stream over WebSocket and move
    const { client, ws } = await wsClient(s);
    const seen: { bid: number | null; ask: number | null; last: number | null }[] = [];
    let moved!: () => void;
    const movedP = new Promise<void>((r) => (moved = r));
    await client.subscribe('quotes', { symbols: [symbol] }, {
      data: (q) => {
        seen.push(q);
        if (seen.length > 1 && (q.last !== seen[0]!.last || q.bid !== seen[0]!.bid || q.ask !== seen[0]!.ask)) moved();
      },
    });
    await movedP;
    ws.close();

    // a trader's market order fills against the simulated liquidity; user accounts stay out of the agents' range
    const admin = await setupAdmin(s);
    const alice = await createUser(s, admin, 'alice', 'trader');
    expect(alice.user.accountId).toBeLessThan(900_000_000);
    expect(market.sim.isAgentAccount(alice.user.accountId!)).toBe(false);
    await fund(s, admin, alice.user.accountId!);
    while ((await rpc(s, 'quote.get', { symbol })).body.ask === null) await new Promise((r) => setTimeout(r, 20));
    const simBefore = market.now();
    const sent = Date.now();
    const buy = await rpc(s, 'order.place', { symbol, side: 'buy', orderType: 'market', qty: 10, tif: 'day' }, alice.accessToken);
    const answered = Date.now();
    const simAfter = market.now();
    expect(buy.status).toBe(200);
    expect(buy.body).toMatchObject({ status: 'filled', filledQty: 10 });
    // the venue stamps the simulated market's time, not the wall clock's; the audit log says when, in wall time.
    // (The simulated time runs 60 times as fast from the wall clock at its start, or from the next session's
    // open outside trading hours, so by now it is seconds to days ahead: not within [sent, answered].)
    expect(buy.body.ts).toBeGreaterThanOrEqual(simBefore);
    expect(buy.body.ts).toBeLessThanOrEqual(simAfter);
    expect(simBefore).toBeGreaterThan(answered);
    const entry = (await s.app.store.auditList({ limit: 1, action: 'order.place' }))[0]!;
    expect(entry.details).toMatchObject({ orderId: buy.body.orderId, via: 'rest' });
    expect(entry.ts).toBeGreaterThanOrEqual(sent);
    expect(entry.ts).toBeLessThanOrEqual(answered);

    // restart on the same files: the market resumes, nothing is created twice
    const instruments = s.app.venue.view.instruments().length;
    const accounts = s.app.venue.view.accountIds().length;
    await s.app.close();
    const s2 = await startServer({ db: s.app.config.db, sim: 'auto', simSpeed: 60, simWarmupDays: 1, simSeed: 3 }, { env: {} });
    const m2 = (await s2.app.market)!;
    expect(m2.resumed).toBe(true);
    expect(m2.importedBars).toBe(0);
    expect(s2.app.venue.view.instruments().length).toBe(instruments);
    expect(s2.app.venue.view.accountIds().length).toBe(accounts);
    const login = await rpc(s2, 'account.get', {}, undefined);
    expect(login.status).toBe(401);
    await s2.stop();
    rmSync(join(s.dir), { recursive: true, force: true });
  });

  it("'auto' runs it in development on a new database or one that has it; never in production", async () => {
    const s = await startServer({ sim: 'off' });
    servers.push(s);
    expect(await s.app.market).toBeUndefined();
    const venue = s.app.venue;
    const auto = makeConfig({ sim: 'auto' });
    expect(venue.recovery.created).toBe(true);
    expect(simEnabled(auto, venue, {})).toBe(true);
    expect(simEnabled(auto, venue, { NODE_ENV: 'development' })).toBe(true);
    expect(simEnabled(auto, venue, { NODE_ENV: 'production' })).toBe(false);
    expect(simEnabled(makeConfig({ sim: 'on' }), venue, { NODE_ENV: 'production' })).toBe(true);
    // an existing database without the simulated market: left alone
    await s.app.close();
    const again = Venue.open(s.app.config.db);
    try {
      expect(again.recovery.created).toBe(false);
      expect(simEnabled(auto, again, {})).toBe(false);
    } finally {
      again.close();
    }
  });

  it('reads --sim, TRADEDESK_SIM and the speed settings', () => {
    expect(parseArgs(['--sim']).config).toEqual({ sim: 'on' });
    expect(parseArgs(['--sim', '--port', '1']).config).toEqual({ sim: 'on', port: 1 });
    expect(parseArgs(['--sim', 'off', '--sim-speed', '2.5']).config).toEqual({ sim: 'off', simSpeed: 2.5 });
    expect(() => parseArgs(['--sim', 'maybe'])).toThrow(/on, off or auto/);
    expect(fromEnv({ TRADEDESK_SIM: '1', TRADEDESK_SIM_WARMUP_DAYS: '5' }).config).toEqual({ sim: 'on', simWarmupDays: 5 });
    expect(makeConfig({}).sim).toBe('auto');
  });

  it('a first start stopped by a signal during the warm-up stops gracefully once it is set up, and the next start has every symbol\'s history', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdsim-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const db = join(dir, 'v.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', '--db', db, '--port', '0', '--sim', 'on', '--sim-warmup-days', '30'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exit = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (code, signal) => r([code, signal])));
    // stopped while it starts: its database is there, the simulated market not set up yet (seconds)
    const deadline = Date.now() + 20_000;
    while (!existsSync(db) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300));
    expect(out).not.toContain('"listening"');
    child.kill('SIGTERM');
    expect(await exit).toEqual([0, null]);
    expect(out).toContain('"stopped"');
    const s = await startServer({ db, sim: 'on' }, { env: {} });
    servers.push(s);
    const market = (await s.app.market)!;
    const empty = market.sim.symbols().filter((symbol) => s.app.venue.importedCandleCount(symbol) === 0);
    expect(empty).toEqual([]);
  }, 60_000);
});
