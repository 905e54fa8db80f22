/**
 * Audit log benchmark: what an admin's read of the audit log costs the server's event loop (Store.auditList
 * runs on it) with a log of N entries, and what the action and address indexes cost the writer.
 *
 *   npm run bench:audit                        a log of 2,000,000 entries
 *   npm run bench:audit -- --entries 500000    another size
 *   npm run bench:audit -- --json              last stdout line is one JSON object
 *
 * The log is an order flow: 89% order.place, 10% order.cancel, a cancel-all every 200k entries, an admin's
 * action or a sign-in every few thousand, over 50 users, each from an address of their own. It is written in
 * one transaction per 1,000 entries (as the writer thread commits), once with the store's schema and once
 * without the action and address indexes, to give `entriesPerSec` for each. Each read is the median of 5
 * (`ms`), newest first, 100 entries a page, of the latest entries or of those until the log's middle moment
 * (`until`, found by bisecting the log), by action and user, then from an address (`ip`). Then the
 * event loop's busy share while 40,000 orders a second are audited for 3 s, with and without an admin
 * watching the log live (`eventLoopPctAuditing`, `eventLoopPctAuditingWatched`).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../server/src/store.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const at = args.indexOf('--entries');
const N = at >= 0 ? Number(args[at + 1]) : 2_000_000;
const log = (s: string): void => {
  if (!json) console.log(s);
};

const actionOf = (i: number): string =>
  i % 200_000 === 5
    ? 'order.cancelAll'
    : i % 50_000 === 11
      ? 'admin.user.disable'
      : i % 20_000 === 7
        ? 'admin.Deposit'
        : i % 5_000 === 3
          ? 'auth.login'
          : i % 10 === 1
            ? 'order.cancel'
            : 'order.place';

/** Writes the log into a fresh store's file; with `indexes: false` the action indexes are dropped first. */
async function fill(path: string, indexes: boolean): Promise<number> {
  await new Store(path).close(); // the schema
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  if (!indexes) db.exec('DROP INDEX IF EXISTS audit_action; DROP INDEX IF EXISTS audit_user_action; DROP INDEX IF EXISTS audit_ip;');
  const ins = db.prepare('INSERT INTO audit (ts, user_id, username, ip, action, details) VALUES (?, ?, ?, ?, ?, ?)');
  const details = JSON.stringify({ symbol: 'ACME', side: 'buy', qty: 100, price: 10_000, orderType: 'limit', tif: 'day', via: 'ws' });
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const user = 1 + ((((i * 2_654_435_761) >>> 0) >>> 20) % 50); // spread: not tied to the action
      ins.run(1_700_000_000_000 + i, user, `user${user}`, `10.0.0.${user}`, actionOf(i), details);
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1_000) batch(i, Math.min(N, i + 1_000));
  const sec = (performance.now() - t0) / 1000;
  db.close();
  return Math.round(N / sec);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * The event loop's busy share while the server audits 40,000 orders a second and an admin action every
 * 100 ms for 3 s (Store.audit, as the server calls it), with or without an admin watching the log live
 * (Store.onAuditEntries, the `admin.audit` channel).
 */
async function watching(path: string, watch: boolean): Promise<{ eventLoopPct: number; told: number }> {
  const store = new Store(path);
  let told = 0;
  const off = watch ? store.onAuditEntries((rows) => (told += rows.length)) : () => undefined;
  const details = { symbol: 'ACME', side: 'buy', qty: 100, price: 10_000, orderType: 'limit', tif: 'day', via: 'ws' };
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  let sent = 0;
  let admin = 0;
  while (performance.now() - t0 < 3_000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * 40_000);
    for (; sent < due; sent++) store.audit({ ts: Date.now(), userId: 1 + (sent % 50), username: 'u', ip: '127.0.0.1', action: 'order.place', details });
    for (; admin < (performance.now() - t0) / 100; admin++) store.audit({ ts: Date.now(), userId: 1, username: 'admin', ip: '127.0.0.1', action: 'admin.Deposit', details: { amount: 100 } });
    await new Promise((r) => setTimeout(r, 2));
  }
  const elu = performance.eventLoopUtilization(elu0);
  await store.auditList({ limit: 1 }); // everything written (and told)
  off();
  await store.close();
  return { eventLoopPct: Math.round(elu.utilization * 1000) / 10, told };
}

const dir = mkdtempSync(join(tmpdir(), 'td-bench-audit-'));
try {
  log(`audit log of ${N.toLocaleString('en')} entries`);
  const bare = await fill(join(dir, 'bare.db'), false);
  const path = join(dir, 'users.db');
  const indexed = await fill(path, true);
  log(`written, entries/s: ${indexed.toLocaleString('en')} with the action and address indexes, ${bare.toLocaleString('en')} without`);
  const store = new Store(path);
  const reads: { action: string | null; userId: number | null; ip: string | null; until: number | null; entries: number; ms: number }[] = [];
  // `until`: the entries of the log's middle moment and before (the log is stamped a millisecond apart)
  const middle = 1_700_000_000_000 + Math.floor(N / 2);
  const ACTIONS = [undefined, 'order', 'order.place', 'order.cancel', 'order.cancelAll', 'admin', 'admin.user', 'admin.deposit', 'auth', 'nothing'];
  // from an address: user 7's own (10.0.0.7), and one nothing came from
  const FROM = [undefined, 'order', 'order.cancelAll', 'auth', 'nothing'];
  const cases = [undefined, middle].flatMap((until) => [
    ...[undefined, 7].flatMap((userId) => ACTIONS.map((action) => ({ action, userId, ip: undefined, until }))),
    ...[undefined, 7].flatMap((userId) => FROM.map((action) => ({ action, userId, ip: '10.0.0.7', until }))),
    { action: undefined, userId: undefined, ip: '203.0.113.9', until },
  ]);
  for (const { action, userId, ip, until } of cases) {
    const q: Parameters<Store['auditList']>[0] = { limit: 100 };
    if (action !== undefined) q.action = action;
    if (userId !== undefined) q.userId = userId;
    if (ip !== undefined) q.ip = ip;
    if (until !== undefined) q.until = until;
    const times: number[] = [];
    let entries = 0;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      entries = (await store.auditList(q)).length;
      times.push(performance.now() - t0);
    }
    const ms = Math.round(median(times) * 100) / 100;
    reads.push({ action: action ?? null, userId: userId ?? null, ip: ip ?? null, until: until ?? null, entries, ms });
    log(`  ${(action ?? '(any action)').padEnd(16)} ${(userId === undefined ? 'any user' : `user ${userId}`).padEnd(9)} ${(ip === undefined ? '' : `from ${ip}`).padEnd(17)} ${(until === undefined ? 'latest' : 'until the middle').padEnd(16)} ${String(entries).padStart(4)} entries  ${ms.toFixed(2).padStart(8)} ms`);
  }
  await store.close();
  const quiet = await watching(path, false);
  const watched = await watching(path, true);
  log(`auditing 40,000 orders/s: event loop busy ${quiet.eventLoopPct}% with no admin watching the log, ${watched.eventLoopPct}% with one (${watched.told} entries told)`);
  const slowest = reads.reduce((a, b) => (b.ms > a.ms ? b : a));
  log(`slowest read: ${slowest.ms} ms (${slowest.action ?? 'any action'}, ${slowest.userId === null ? 'any user' : `user ${slowest.userId}`}${slowest.ip === null ? '' : `, from ${slowest.ip}`}${slowest.until === null ? '' : ', until the middle'})`);
  if (json) console.log(JSON.stringify({ entries: N, entriesPerSecIndexed: indexed, entriesPerSecWithoutPartialIndexes: bare, slowestReadMs: slowest.ms, eventLoopPctAuditing: quiet.eventLoopPct, eventLoopPctAuditingWatched: watched.eventLoopPct, reads }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
