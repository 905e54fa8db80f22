// A failed fdatasync of the journal's WAL outside the background fsyncs (the history written on the venue's
// own connection syncs the journal first): the batches it covered are answered VENUE_OUTCOME_UNKNOWN, never
// acknowledged. The kernel reports a write-back error once, so the background fsync issued after it on the
// same file would return success. node:fs is replaced in this file only, to fail one fdatasync.
import { describe, expect, it, vi } from 'vitest';
import { Venue, isVenueError, type Ack } from '../../venue/index.js';
import { tempDb } from './helpers.js';

const ctl = vi.hoisted(() => ({ failSync: false }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const fdatasyncSync = (fd: number): void => {
    if (ctl.failSync) {
      ctl.failSync = false;
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    }
    real.fdatasyncSync(fd);
  };
  return { ...real, default: { ...real, fdatasyncSync }, fdatasyncSync };
});

describe('a failed fdatasync of the journal before history is written on the venue connection', () => {
  it('answers the batch it covered VENUE_OUTCOME_UNKNOWN and stops the venue', async () => {
    const fatal: unknown[] = [];
    const v = Venue.open(tempDb(), { fsync: 'background', historyThread: false, historyFlushRows: 1, onError: () => undefined, onFatal: (e) => fatal.push(e) });
    await v.submit({ type: 'OpenAccount', accountId: 1 });
    await v.submit({ type: 'Deposit', accountId: 1, amount: 100 });
    ctl.failSync = true;
    let outcome: string;
    try {
      const a: Ack = await v.submit({ type: 'Deposit', accountId: 1, amount: 100 });
      outcome = `acknowledged seq ${a.seq}`;
    } catch (e) {
      outcome = isVenueError(e) ? e.code : String(e);
    }
    v.close();
    expect(ctl.failSync).toBe(false); // the fdatasync was reached, and failed
    expect(fatal).toHaveLength(1);
    expect(outcome).toBe('VENUE_OUTCOME_UNKNOWN');
  });
});
