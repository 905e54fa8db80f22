// Command tags (Venue.submit's CommandTag): journaled with their commands, covered by the frame's CRC, given
// back by journalFrames, and heard of (acknowledged) in sequence order before each promise resolves.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Ack, CommandTag, VenueCommand } from '../../venue/index.js';
import { T0, openVenue, tempDb } from './helpers.js';

const SETUP: VenueCommand[] = [
  { type: 'CreateInstrument', instrument: { symbol: 'AAA', name: 'Triple A', tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 2000 } },
  { type: 'OpenAccount', accountId: 1 },
  { type: 'Deposit', accountId: 1, amount: 100_000_000 },
];
const buy = (price: number): VenueCommand => ({ type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', price, qty: 1, tif: 'gtc' });

/** A tag that records what it heard, into `heard`, and whether the command's promise had resolved by then. */
function recorder(text: string, heard: { text: string; seq: number; type: string; resolvedBefore: boolean }[], resolved: Set<number>): CommandTag {
  return {
    text,
    acknowledged(ack: Ack, cmd: VenueCommand) {
      heard.push({ text, seq: ack.seq, type: cmd.type, resolvedBefore: resolved.has(ack.seq) });
    },
  };
}

/** Every command's tag as journalFrames gives it back: seq -> text or null. */
function journaledTags(v: ReturnType<typeof openVenue>): Map<number, string | null> {
  const out = new Map<number, string | null>();
  for (const f of v.journalFrames()) f.commands.forEach((_, i) => out.set(f.seq + i, f.tags?.[i] ?? null));
  return out;
}

describe('command tags', () => {
  it('are journaled with their commands, given back by journalFrames, and heard of in seq order before anything waiting for the answer runs', async () => {
    // any mix of tagged, tagged-by-scope and untagged commands in one group commit or several
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ how: fc.constantFrom('own', 'scope', 'none'), commit: fc.boolean() }), { minLength: 1, maxLength: 24 }), async (plan) => {
        const v = openVenue(tempDb());
        await v.submitAll(SETUP);
        const heard: { text: string; seq: number; type: string; resolvedBefore: boolean }[] = [];
        const resolved = new Set<number>();
        const expected = new Map<number, string | null>();
        const pending: Promise<Ack>[] = [];
        for (let i = 0; i < plan.length; i++) {
          const { how, commit } = plan[i]!;
          const text = `["user-${i}"]`;
          const tag = recorder(text, heard, resolved);
          const p = how === 'own' ? v.submit(buy(900 + i), tag) : how === 'scope' ? v.tagged(tag, () => v.submit(buy(900 + i))) : v.submit(buy(900 + i));
          pending.push(
            p.then((a) => {
              resolved.add(a.seq);
              expected.set(a.seq, how === 'none' ? null : text);
              return a;
            }),
          );
          if (commit) await Promise.all(pending);
        }
        await Promise.all(pending);
        const tags = journaledTags(v);
        for (const [seq, text] of expected) expect(tags.get(seq), `seq ${seq}`).toBe(text);
        const tagged = [...expected].filter(([, t]) => t !== null);
        expect(heard.map((h) => [h.seq, h.text])).toEqual(tagged);
        expect(heard.every((h) => !h.resolvedBefore && h.type === 'PlaceOrder')).toBe(true);
        // the setup's frame has no tags at all
        expect([...v.journalFrames()][0]!.tags).toBeUndefined();
        v.close({ snapshot: false });
      }),
      { numRuns: 25 },
    );
  });

  it('a command refused before sequencing is heard of with seq 0 and not journaled; tagged() covers only its own call', async () => {
    const v = openVenue(tempDb());
    await v.submitAll(SETUP);
    const heard: { text: string; seq: number; type: string; resolvedBefore: boolean }[] = [];
    const tag = recorder('t', heard, new Set());
    const bad = await v.tagged(tag, () => v.submit({ type: 'NoSuchCommand' } as unknown as VenueCommand));
    expect(bad.seq).toBe(0);
    expect(heard).toEqual([{ text: 't', seq: 0, type: 'NoSuchCommand', resolvedBefore: false }]);
    const after = await v.submit(buy(950));
    expect(journaledTags(v).get(after.seq)).toBeNull();
    await expect(v.submit(buy(951), { text: 7 } as unknown as CommandTag)).rejects.toMatchObject({ code: 'BAD_COMMAND' });
  });

  it("a command the engine refused is journaled with its tag's refusedText for the code, and kept after a reopen; one it took, with the text", async () => {
    const file = tempDb();
    const v = openVenue(file);
    await v.submitAll(SETUP);
    const asked: string[] = [];
    const tag = (text: string): CommandTag => ({
      text,
      refusedText(code) {
        asked.push(code);
        return `${text}:${code}`;
      },
    });
    const placed = await v.submit(buy(900), tag('place'));
    const cancel = await v.submit({ type: 'CancelOrder', accountId: 1, orderId: placed.orderIds[0]! }, tag('cancel'));
    // refused: that order is gone now, and no such symbol; one group commit with an accepted order between
    const [again, taken, unknown] = await Promise.all([
      v.submit({ type: 'CancelOrder', accountId: 1, orderId: placed.orderIds[0]! }, tag('again')),
      v.submit(buy(901), tag('taken')),
      v.submit({ ...buy(902), symbol: 'ZZZ' } as VenueCommand, tag('unknown')),
    ]);
    expect([placed.rejected, cancel.rejected, taken.rejected]).toEqual([undefined, undefined, undefined]);
    const codes = [again.rejected?.code, unknown.rejected?.code];
    expect(codes).toEqual([expect.any(String), expect.any(String)]);
    expect(asked).toEqual(codes);
    const expected = new Map([
      [placed.seq, 'place'],
      [cancel.seq, 'cancel'],
      [again.seq, `again:${codes[0]!}`],
      [taken.seq, 'taken'],
      [unknown.seq, `unknown:${codes[1]!}`],
    ]);
    const check = (w: ReturnType<typeof openVenue>): void => {
      const tags = journaledTags(w);
      for (const [seq, text] of expected) expect(tags.get(seq), `seq ${seq}`).toBe(text);
    };
    check(v);
    // a refusedText that throws, or gives no text, is not the group commit's failure: the text is journaled
    const broken: CommandTag[] = [
      {
        text: 'throws',
        refusedText() {
          throw new Error('no');
        },
      },
      { text: 'not text', refusedText: () => 7 as unknown as string },
    ];
    const refusedToo = await Promise.all(broken.map((t) => v.submit({ type: 'CancelOrder', accountId: 1, orderId: placed.orderIds[0]! }, t)));
    expect(refusedToo.map((a) => a.rejected?.code)).toEqual([codes[0], codes[0]]);
    expected.set(refusedToo[0]!.seq, 'throws').set(refusedToo[1]!.seq, 'not text');
    check(v);
    expect((await v.submit(buy(903))).rejected).toBeUndefined();
    v.close();
    const w = openVenue(file);
    check(w);
    w.close();
  });

  it('are covered by the frame CRC: a changed or removed tag sets the frame aside on recovery; replay ignores them', async () => {
    for (const damage of ['UPDATE journal SET tags = replace(tags, \'alice\', \'mallory\') WHERE seq = ?', 'UPDATE journal SET tags = NULL WHERE seq = ?']) {
      const file = tempDb();
      // a fixed clock: the two venues' states are compared
      const now = (): number => T0;
      let v = openVenue(file, { now });
      await v.submitAll(SETUP);
      await v.submit(buy(900), { text: '["alice"]' });
      const last = await v.submit(buy(901), { text: '["alice"]' });
      const hash = v.stateHash();
      const untagged = openVenue(tempDb(), { now });
      await untagged.submitAll(SETUP);
      await untagged.submit(buy(900));
      await untagged.submit(buy(901));
      expect(untagged.stateHash()).toBe(hash);
      v.close({ snapshot: false });
      const db = new Database(file);
      db.prepare(damage).run(last.seq);
      db.close();
      v = openVenue(file, { now, onDamagedJournal: 'truncate' });
      expect(v.recovery.discarded).toEqual([{ seq: last.seq, n: 1, reason: 'CRC mismatch' }]);
      expect(journaledTags(v).get(last.seq - 1)).toBe('["alice"]');
      v.close();
      const check = new Database(file, { readonly: true });
      expect(check.prepare('SELECT tags FROM journal_quarantine').pluck().all()).toEqual([damage.includes('NULL') ? null : JSON.stringify(['["mallory"]'])]);
      check.close();
    }
  });
});
