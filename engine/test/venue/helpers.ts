// Shared helpers for the venue tests: real SQLite files in temp folders (removed afterwards), a controllable
// clock, a seeded load, and consistency checks of the history writer against the engine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect } from 'vitest';
import { Venue, type VenueOptions } from '../../venue/index.js';
import { LoadClient, loadSetup, type LoadSetup } from '../../venue/load.js';

const dirs: string[] = [];
const open: Venue[] = [];

afterEach(() => {
  for (const v of open.splice(0)) {
    try {
      v.close({ snapshot: false });
    } catch {
      // already closed or failed
    }
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test. */
export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'venue-test-'));
  dirs.push(d);
  return d;
}

/** A path for a new database in a fresh temp folder. */
export function tempDb(): string {
  return path.join(tempDir(), 'venue.db');
}

/** 2024-01-02 14:30:00 UTC. */
export const T0 = Date.UTC(2024, 0, 2, 14, 30, 0);

/** A clock the test moves: `clock.t` is returned as is. */
export function testClock(t = T0): { t: number; now: () => number } {
  const c = { t, now: () => c.t };
  return c;
}

/** Opens a venue that the harness closes after the test (if the test did not). */
export function openVenue(file: string, opts: VenueOptions = {}): Venue {
  const v = Venue.open(file, { onError: (e) => { throw e; }, ...opts });
  open.push(v);
  return v;
}

/** Runs `perClient` commands from each of the load's clients concurrently; returns the clients. */
export async function runLoad(
  v: Venue,
  setup: LoadSetup,
  perClient: number,
  seed: number,
  mix: 'full' | 'simple' = 'full',
  each?: (client: LoadClient, i: number) => Promise<void> | void,
): Promise<LoadClient[]> {
  const clients = setup.accounts.map((a, i) => new LoadClient(a, setup.symbols, seed * 1000 + i, v.view, mix));
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < perClient; i++) {
        c.acked(await v.submit(c.next()));
        if (each !== undefined) await each(c, i);
      }
    }),
  );
  return clients;
}

export async function setUpLoad(v: Venue, opts: Parameters<typeof loadSetup>[0] = {}): Promise<LoadSetup> {
  const s = loadSetup(opts);
  const acks = await v.submitAll(s.commands);
  for (const a of acks) expect(a.rejected).toBeUndefined();
  return s;
}

/** History writer state (cash, positions, realized P&L from the executions table) equals the engine's. */
export function expectHistoryMatchesEngine(v: Venue): void {
  for (const id of v.view.accountIds()) {
    const a = v.view.accountView(id)!;
    expect(v.historyCash(id), `cash of ${id}`).toBe(a.cash);
    for (const p of a.positions) {
      const h = v.historyPosition(id, p.symbol);
      if (p.qty === 0 && h === undefined) continue;
      expect(h, `position ${id} ${p.symbol}`).toEqual({ qty: p.qty, cost: p.cost });
    }
    let realized = 0;
    let cursor: string | undefined;
    do {
      const page = v.executions({ accountId: id, limit: 5000, cursor });
      for (const x of page.items) realized += x.realizedPnl;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(realized, `realized P&L of ${id}`).toBe(a.realizedPnl);
    const st = v.statement({ accountId: id, limit: 1 });
    expect(st.closingCash, `statement closing cash of ${id}`).toBe(a.cash);
    const open = v.orders({ accountId: id, status: 'open', limit: 1000 }).items;
    const live = v.view.openOrders(id);
    expect(open.map((o) => o.orderId).sort((x, y) => x - y)).toEqual(live.map((o) => o.orderId).sort((x, y) => x - y));
    for (const o of live) {
      const r = open.find((x) => x.orderId === o.orderId)!;
      // the record of a live order carries the engine's view of it
      expect({ ...r, status: r.status as string }).toMatchObject({
        orderId: o.orderId,
        qty: o.qty,
        filledQty: o.filledQty,
        leaves: o.leaves,
        status: o.status,
        symbol: o.symbol,
        side: o.side,
      });
    }
  }
}

/** A venue file's journal frames as stored (seq, n, ts, data, crc) up to `upTo`, read without opening a venue. */
export function journalRows(file: string, upTo = Number.MAX_SAFE_INTEGER): unknown[][] {
  const d = new Database(file, { readonly: true });
  try {
    return d.prepare('SELECT seq, n, ts, data, crc FROM journal WHERE seq <= ? ORDER BY seq').raw().all(upTo) as unknown[][];
  } finally {
    d.close();
  }
}

/**
 * Linux: the nice value of each thread of this process, by thread id (/proc/self/task/<tid>/stat, field
 * 19; a thread that ends while it is read is left out).
 */
export function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      // the fields after "(comm) ": the third field of the line first
      out.set(Number(t), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // ended
    }
  }
  return out;
}

/** The threads in `after` that were not in `before`, with their nice values. */
export function newThreads(before: Map<number, number>, after: Map<number, number> = threadNices()): Map<number, number> {
  return new Map([...after].filter(([tid]) => !before.has(tid)));
}
