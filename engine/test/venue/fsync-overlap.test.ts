/**
 * Background fsyncs that overlap (fsync: 'background'): the test holds each fsync of the WAL and decides
 * when it returns and with what, to check the order in which batches are acknowledged and what an fsync
 * error does to the batches around it. The fsync itself is the real one; only its return is held.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { historyPath, isVenueError, type Ack } from '../../venue/index.js';
import { openVenue, tempDb } from './helpers.js';

interface Held {
  finish: (err?: NodeJS.ErrnoException) => void;
}
const ctl = vi.hoisted(() => ({ held: [] as Held[], holding: false }));
const held = ctl.held;

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const fsync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void => {
    if (!ctl.holding) return real.fsync(fd, cb);
    real.fsyncSync(fd);
    ctl.held.push({ finish: (err) => cb(err ?? null) });
  };
  return { ...real, default: { ...real, fsync }, fsync };
});

afterEach(() => {
  ctl.holding = false;
  for (const h of held.splice(0)) h.finish();
});

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A venue with background fsync and three batches of one command each, committed a few ms apart with
 * every fsync held: the first two fsyncs run (a second starts only once the running one has taken 1 ms),
 * the third batch waits. `settled[i]` settles when batch i is acknowledged (its seq into `acked`) or refused
 * (the error into `failed`).
 */
async function threeBatches(file = tempDb()) {
  const v = openVenue(file, { fsync: 'background', history: false, onError: () => undefined });
  const base = v.lastSeq;
  ctl.holding = true;
  const acked: number[] = [];
  const failed: unknown[] = [];
  const settled: Promise<unknown>[] = [];
  for (const accountId of [1, 2, 3]) {
    settled.push(
      v.submit({ type: 'OpenAccount', accountId }).then(
        (a: Ack) => acked.push(a.seq),
        (e: unknown) => failed.push(e),
      ),
    );
    await tick();
    await new Promise((r) => setTimeout(r, 5));
  }
  return { v, base, acked, failed, settled };
}

const eio = (): NodeJS.ErrnoException => Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });

describe('overlapping background fsyncs', () => {
  it('run two at a time and acknowledge in the order they started, whichever returns first', async () => {
    const { v, base, acked, failed, settled } = await threeBatches();
    const [p1, p2, p3] = settled;
    // batch 3 is committed but waits: two fsyncs are running
    expect(held.length).toBe(2);
    expect(v.pendingCommands).toBe(3);
    // the second returns first: nothing is acknowledged until the first has returned too, but batch 3's
    // fsync starts at once (only one is running now)
    held[1]!.finish();
    await tick();
    expect(acked).toEqual([]);
    expect(held.length).toBe(3);
    held[0]!.finish();
    await Promise.all([p1, p2]);
    expect(acked).toEqual([base + 1, base + 2]);
    held[2]!.finish();
    await p3;
    expect(acked).toEqual([base + 1, base + 2, base + 3]);
    expect(failed).toEqual([]);
  });

  it('an error from the first fsync stops the venue and acknowledges nothing after it, even when a later fsync succeeded: their outcome is unknown', async () => {
    const { v, acked, failed, settled } = await threeBatches();
    expect(held.length).toBe(2);
    held[1]!.finish(); // the later one succeeds first ...
    await tick();
    held[0]!.finish(eio()); // ... then the first reports the lost write-back
    await Promise.all(settled);
    expect(acked).toEqual([]);
    expect(failed.length).toBe(3);
    // committed to the journal, maybe not on the disk: neither done nor refused
    expect(failed.every((e) => isVenueError(e, 'VENUE_OUTCOME_UNKNOWN'))).toBe(true);
    expect(v.failed?.code).toBe('VENUE_FAILED');
    await expect(v.submit({ type: 'OpenAccount', accountId: 4 })).rejects.toMatchObject({ code: 'VENUE_FAILED' });
  });

  it('durable() resolves as the last batch committed before it is acknowledged, and rejects when the venue stops first', async () => {
    const { v, acked, settled } = await threeBatches();
    let done = false;
    const d = v.durable().then(() => (done = true));
    held[0]!.finish();
    held[1]!.finish();
    await Promise.all([settled[0], settled[1]]);
    await tick();
    expect(done).toBe(false); // batch 3 is not yet durable
    held[2]!.finish();
    await d;
    expect(acked.length).toBe(3);
    // committed, then the venue stops before its fsync returns
    void v.submit({ type: 'OpenAccount', accountId: 9 }).catch(() => undefined);
    await tick();
    const d2 = v.durable();
    held[3]!.finish(eio());
    await expect(d2).rejects.toMatchObject({ code: 'VENUE_FAILED' });
  });

  it('an error from the later fsync keeps what the first made durable and stops the venue; the rest have an unknown outcome', async () => {
    const { base, acked, failed, settled } = await threeBatches();
    held[1]!.finish(eio());
    await tick();
    expect(acked).toEqual([]);
    held[0]!.finish();
    await Promise.all(settled);
    expect(acked).toEqual([base + 1]);
    expect(failed.length).toBe(2);
    expect(failed.every((e) => isVenueError(e, 'VENUE_OUTCOME_UNKNOWN'))).toBe(true);
  });

  it('close makes everything durable at once; fsyncs that return afterwards change nothing', async () => {
    const file = tempDb();
    const { v, base, acked, failed, settled } = await threeBatches(file);
    v.close();
    await Promise.all(settled);
    expect(acked).toEqual([base + 1, base + 2, base + 3]);
    for (const h of held.splice(0)) h.finish(Object.assign(new Error('EBADF'), { code: 'EBADF' }));
    await tick();
    expect(failed).toEqual([]);
    ctl.holding = false;
    expect(openVenue(file, { fsync: 'background', history: false }).lastSeq).toBe(base + 3);
  });
});


describe('a venue that stops for another reason than an fsync', () => {
  it('acknowledges the batches it had committed once their fsync returns: they are in the journal', async () => {
    const file = tempDb();
    const v = openVenue(file, { fsync: 'background', historyFlushMs: 0, onError: () => undefined });
    await v.submitAll([{ type: 'OpenAccount', accountId: 1 }, { type: 'Deposit', accountId: 1, amount: 1 }]);
    v.syncHistory();
    // the history file refuses writes (as a full history volume would): the thread's next commit fails
    const other = new Database(historyPath(file));
    other.exec("CREATE TRIGGER refuse BEFORE INSERT ON ledger BEGIN SELECT RAISE(ABORT, 'the history volume is full'); END");
    other.close();
    ctl.holding = true;
    const acked: number[] = [];
    const failed: unknown[] = [];
    const settled: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) {
      settled.push(v.submit({ type: 'Deposit', accountId: 1, amount: 100 + i }).then((a: Ack) => acked.push(a.seq), (e: unknown) => failed.push(e)));
      await tick();
      await new Promise((r) => setTimeout(r, 5));
    }
    const committed = v.lastSeq;
    expect(held.length).toBe(2); // the third batch waits for a running fsync
    // a query makes the thread commit those rows now: it fails, and the venue stops
    expect(() => v.syncHistory()).toThrow(/the history volume is full/);
    expect(v.failed?.code).toBe('VENUE_FAILED');
    await expect(v.submit({ type: 'Deposit', accountId: 1, amount: 7 })).rejects.toMatchObject({ code: 'VENUE_FAILED' });
    await tick();
    expect(failed).toEqual([]);
    for (const h of held.splice(0)) h.finish();
    await tick();
    for (const h of held.splice(0)) h.finish(); // the third batch's fsync, started once one returned
    await Promise.all(settled);
    expect(failed).toEqual([]);
    expect(acked).toEqual([committed - 2, committed - 1, committed]);
    v.close();
    ctl.holding = false;
    const fixed = new Database(historyPath(file));
    fixed.exec('DROP TRIGGER refuse');
    fixed.close();
    const again = openVenue(file, { fsync: 'background' });
    expect(again.lastSeq).toBe(committed);
    expect(again.view.accountView(1)!.cash).toBe(1 + 100 + 101 + 102);
  });
});

describe('group commit and fsync observers', () => {
  it('report each group commit with its commands and time, and each fsync with its time and the commands it made durable', async () => {
    const commits: [number, number][] = [];
    const syncs: [number, number][] = [];
    const v = openVenue(tempDb(), { fsync: 'background', history: false, onGroupCommit: (n, ms) => commits.push([n, ms]), onSync: (ms, n) => syncs.push([ms, n]) });
    commits.length = 0;
    syncs.length = 0;
    ctl.holding = true;
    const first = Promise.all([1, 2, 3].map((accountId) => v.submit({ type: 'OpenAccount', accountId })));
    await tick();
    expect(commits.map(([n]) => n)).toEqual([3]);
    expect(commits[0]![1]).toBeGreaterThanOrEqual(0);
    await new Promise((r) => setTimeout(r, 5));
    const second = v.submit({ type: 'OpenAccount', accountId: 4 });
    await tick();
    expect(commits.map(([n]) => n)).toEqual([3, 1]);
    // both fsyncs are held: nothing is reported until one returns
    expect(held).toHaveLength(2);
    expect(syncs).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    held.shift()!.finish();
    await first;
    expect(syncs.map(([, n]) => n)).toEqual([3]);
    expect(syncs[0]![0]).toBeGreaterThanOrEqual(20);
    held.shift()!.finish();
    await second;
    expect(syncs.map(([, n]) => n)).toEqual([3, 1]);
  });

  it('an fsync that fails is not reported as one that returned', async () => {
    const syncs: number[] = [];
    const v = openVenue(tempDb(), { fsync: 'background', history: false, onError: () => undefined, onSync: (_ms, n) => syncs.push(n) });
    syncs.length = 0;
    ctl.holding = true;
    const refused = v.submit({ type: 'OpenAccount', accountId: 1 }).then(
      () => 'acked',
      (e: unknown) => (isVenueError(e, 'VENUE_OUTCOME_UNKNOWN') ? 'refused' : String(e)),
    );
    await tick();
    held.shift()!.finish(eio());
    expect(await refused).toBe('refused');
    expect(syncs).toEqual([]);
  });

  it('with the fsync inside the COMMIT, only group commits are reported', async () => {
    const commits: number[] = [];
    const syncs: number[] = [];
    const v = openVenue(tempDb(), { history: false, onGroupCommit: (n) => commits.push(n), onSync: (_ms, n) => syncs.push(n) });
    commits.length = 0;
    await Promise.all([1, 2].map((accountId) => v.submit({ type: 'OpenAccount', accountId })));
    expect(commits).toEqual([2]);
    expect(syncs).toEqual([]);
  });

  it('an observer that throws is reported through onError and changes nothing', async () => {
    const errors: string[] = [];
    const file = tempDb();
    const boom = (): never => {
      throw new Error('observer failed');
    };
    const v = openVenue(file, { fsync: 'background', history: false, onGroupCommit: boom, onSync: boom, onError: (_e, where) => errors.push(where) });
    errors.length = 0;
    const base = v.lastSeq;
    const acks = await Promise.all([1, 2].map((accountId) => v.submit({ type: 'OpenAccount', accountId })));
    expect(acks.map((a) => a.seq)).toEqual([base + 1, base + 2]);
    expect(errors).toEqual(['onGroupCommit', 'onSync']);
    errors.length = 0;
    expect((await v.submit({ type: 'OpenAccount', accountId: 3 })).seq).toBe(base + 3);
    v.close();
    expect(openVenue(file, { fsync: 'background', history: false }).lastSeq).toBe(base + 3);
  });
});
