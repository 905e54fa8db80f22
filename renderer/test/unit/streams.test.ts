import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionSubscription } from '../../../engine/protocol/index.js';
import { RefCounted, SharedStreams, VenueClock, type OpenStream } from '../../src/data/streams.js';

/** A connection's subscribe that records the streams it opened and lets the test push into them. */
function fakeOpen() {
  const streams: { channel: string; active: boolean; data(d: unknown): void; resubscribed(): void; error(): void }[] = [];
  const open = ((channel: string, _params: unknown, h: { data(d: unknown): void; resubscribed?(): void; error?(e: unknown): void }): ConnectionSubscription => {
    const s = {
      channel,
      active: true,
      data: (d: unknown) => h.data(d),
      resubscribed: () => h.resubscribed?.(),
      error: () => {
        s.active = false;
        h.error?.(new Error('refused'));
      },
    };
    streams.push(s);
    return {
      channel: channel as ConnectionSubscription['channel'],
      get active() {
        return s.active;
      },
      ready: Promise.resolve(),
      unsubscribe: async () => {
        s.active = false;
      },
    };
  }) as unknown as OpenStream;
  return { open, streams };
}

describe('a multiset of handlers', () => {
  it('counts every add of the same function and lists it while one is left', () => {
    const r = new RefCounted<() => void>();
    const f = () => undefined;
    const g = () => undefined;
    r.add(f);
    r.add(f);
    r.add(g);
    expect(r.size).toBe(3);
    expect([...r.items()]).toEqual([f, g]);
    expect(r.remove(f)).toBe(true);
    expect([...r.items()]).toEqual([f, g]);
    expect(r.remove(f)).toBe(true);
    expect([...r.items()]).toEqual([g]);
    expect(r.remove(f)).toBe(false);
    expect(r.size).toBe(1);
  });
});

describe('shared streams', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('keeps a handler shared by several subscribers until the last of them lets go', () => {
    const { open, streams } = fakeOpen();
    const shared = new SharedStreams(open);
    const seen: unknown[] = [];
    const upsert = (d: unknown) => seen.push(d);
    const refetch = vi.fn();
    // the blotter, the chart and the ladder: the same handler (as live.upsertOrder is), two with the same refetch
    const blotter = shared.retain('orders', {}, upsert, refetch);
    const chart = shared.retain('orders', {}, upsert, refetch);
    const ladder = shared.retain('orders', {}, upsert);
    expect(streams).toHaveLength(1);
    expect(shared.subscribers('orders', {})).toBe(3);

    streams[0]!.data(1);
    expect(seen).toEqual([1]); // once per push, not once per subscriber

    ladder(); // one panel closes: the others still get every push (this was lost: the shared handler went)
    ladder(); // a second release of the same subscription takes nothing more
    expect(shared.subscribers('orders', {})).toBe(2);
    streams[0]!.data(2);
    expect(seen).toEqual([1, 2]);

    chart();
    streams[0]!.resubscribed();
    expect(refetch).toHaveBeenCalledTimes(1); // once, and still there for the blotter
    streams[0]!.data(3);
    expect(seen).toEqual([1, 2, 3]);
    vi.advanceTimersByTime(5000);
    expect(streams[0]!.active).toBe(true);

    blotter();
    streams[0]!.resubscribed();
    expect(refetch).toHaveBeenCalledTimes(1);
    expect(shared.subscribers('orders', {})).toBe(0);
    vi.advanceTimersByTime(999);
    expect(streams[0]!.active).toBe(true);
    vi.advanceTimersByTime(1);
    expect(streams[0]!.active).toBe(false); // the last one gone: the stream closes
  });

  it('keeps the stream open for a subscriber that comes back within the grace period', () => {
    const { open, streams } = fakeOpen();
    const shared = new SharedStreams(open);
    const seen: unknown[] = [];
    const h = (d: unknown) => seen.push(d);
    shared.retain('executions', {}, h)();
    vi.advanceTimersByTime(500);
    const again = shared.retain('executions', {}, h);
    vi.advanceTimersByTime(1000);
    expect(streams).toHaveLength(1);
    expect(streams[0]!.active).toBe(true);
    streams[0]!.data('x');
    expect(seen).toEqual(['x']);
    again();
  });

  it('counts the subscribers of every feed alike, per channel and params', () => {
    const { open, streams } = fakeOpen();
    const shared = new SharedStreams(open);
    const upsertInstrument = () => undefined;
    const pushQuote = () => undefined;
    const a = shared.retain('instruments', {}, upsertInstrument);
    const b = shared.retain('instruments', {}, upsertInstrument);
    const q1 = shared.retain('quotes', { symbols: ['ACME'] }, pushQuote);
    const q2 = shared.retain('quotes', { symbols: ['ACME'] }, pushQuote);
    const other = shared.retain('quotes', { symbols: ['INIT'] }, pushQuote);
    a();
    q1();
    other();
    vi.advanceTimersByTime(2000);
    expect(streams.map((s) => [s.channel, s.active])).toEqual([
      ['instruments', true],
      ['quotes', true],
      ['quotes', false],
    ]);
    expect(shared.subscribers('instruments', {})).toBe(1);
    expect(shared.subscribers('quotes', { symbols: ['ACME'] })).toBe(1);
    b();
    q2();
  });

  it('opens a fresh stream after the server refused one', () => {
    const { open, streams } = fakeOpen();
    const shared = new SharedStreams(open);
    const h = vi.fn();
    const first = shared.retain('account', {}, h);
    streams[0]!.error();
    const second = shared.retain('account', {}, h);
    expect(streams).toHaveLength(2);
    streams[1]!.data('a');
    expect(h).toHaveBeenCalledTimes(1);
    first(); // the old stream's release leaves the new one alone
    expect(shared.subscribers('account', {})).toBe(1);
    second();
  });
});

describe("the venue's clock as the client knows it", () => {
  it('is the latest time the venue stamped, not the wall clock; the wall clock before anything came', () => {
    const c = new VenueClock(() => 5_000_000);
    expect(c.now()).toBe(5_000_000);
    c.note(1_000);
    c.note(3_000);
    c.note(2_000); // an older record (a snapshot) does not move it back
    expect(c.now()).toBe(3_000);
  });
});
