/**
 * What the users database must keep across a power cut is on the disk in time (server/src/store.ts,
 * `durable()`): it commits with synchronous=NORMAL, so its WAL is fsynced only where that is asked for.
 *
 * A power cut cannot be made here, so the order of the writes is checked instead, under strace
 * (server/test/fixtures/users-durable-run.ts): an Idempotency-Key's claim is fsynced before the order reaches
 * the journal (else a retry after a power cut could place an order the journal holds again), and an admin's
 * change of a user is fsynced before it is answered (a disabled user must not come back).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { straceCalls } from '../../engine/test/support/strace.js';

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
    const run = spawnSync(
      'strace',
      ['-f', '-qq', '-yy', '-o', log, '-e', 'trace=pwrite64,write,writev,fsync,fdatasync,access,faccessat,faccessat2', process.execPath, '--import', 'tsx', 'server/test/fixtures/users-durable-run.ts', dir],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.error, 'strace runs (apt-get install strace)').toBeUndefined();
    expect([run.status, run.stderr]).toEqual([0, '']);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { port: number; orderId: number; usersWal: string; venueWal: string };
    expect(out.orderId).toBeGreaterThan(0);

    // the steps between two marks of the run, as words
    const calls = straceCalls(readFileSync(log, 'utf8'));
    const between = (name: string): Step[] => {
      const from = calls.findIndex((l) => l.includes(`/MARK-${name}-start"`));
      const to = calls.findIndex((l) => l.includes(`/MARK-${name}-end"`));
      expect([from, to].every((i) => i >= 0) && from < to, name).toBe(true);
      return calls.slice(from + 1, to).flatMap((l): Step[] => {
        const m = /^(\w+)\(\d+<(TCP:\[[^\]]*\]|[^>]*)>/.exec(l);
        if (m === null) return [];
        const [, call, file] = m as unknown as [string, string, string];
        if (call === 'pwrite64' && file === out.usersWal) return ['users-write'];
        if ((call === 'fsync' || call === 'fdatasync') && file === out.usersWal) return ['users-sync'];
        if (call === 'pwrite64' && file === out.venueWal) return ['journal-write'];
        // the server's answer: a write on its side of a connection (TCP:[<its address>-><the client's>])
        if ((call === 'write' || call === 'writev') && file.startsWith(`TCP:[127.0.0.1:${out.port}->`)) return ['answer'];
        return [];
      });
    };
    /** Every write of the users database before `at` is followed by its fsync before `at`. */
    const syncedBefore = (steps: Step[], at: number): boolean => {
      const lastWrite = steps.lastIndexOf('users-write', at);
      return lastWrite < 0 || steps.slice(lastWrite, at).includes('users-sync');
    };

    const order = between('order');
    const journaled = order.indexOf('journal-write');
    const answered = order.indexOf('answer');
    expect(order.indexOf('users-write'), 'the key is claimed').toBeGreaterThanOrEqual(0);
    expect(journaled, 'the order is journaled').toBeGreaterThan(order.indexOf('users-write'));
    expect(syncedBefore(order, journaled), `the claim is fsynced before the journal has the order: ${order.join(' ')}`).toBe(true);
    expect(answered).toBeGreaterThan(journaled);
    expect(syncedBefore(order, answered), `the key's answer is fsynced before it is sent: ${order.join(' ')}`).toBe(true);

    const disable = between('disable');
    const told = disable.indexOf('answer');
    expect(disable.indexOf('users-write'), 'the user is written').toBeGreaterThanOrEqual(0);
    expect(told).toBeGreaterThan(disable.indexOf('users-write'));
    expect(syncedBefore(disable, told), `the change (and its audit entry) is fsynced before it is answered: ${disable.join(' ')}`).toBe(true);
  });
});
