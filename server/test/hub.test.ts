// The market-data hub's ticks: at most one push per symbol per interval, a change after a quiet spell goes
// out at once, and no tick is spent without a change. Real venue on a temp file, a recording sink.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelData, PushSink } from '../../engine/protocol/index.js';
import { Venue } from '../../engine/venue/index.js';
import { MarketHub } from '../src/market/hub.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setUp(intervalMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tdhub-'));
  dirs.push(dir);
  const v = Venue.open(join(dir, 'venue.db'), { synchronous: 'NORMAL' });
  await v.submit({ type: 'CreateInstrument', instrument: { symbol: 'AAA', name: 'A', tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 5000 } });
  const [a, b] = [1, 2];
  for (const id of [a, b]) {
    await v.submit({ type: 'OpenAccount', accountId: id });
    await v.submit({ type: 'Deposit', accountId: id, amount: 1e12 });
  }
  const hub = new MarketHub(v, intervalMs);
  hub.start();
  const pushes: { at: number; q: ChannelData<'quotes'> }[] = [];
  const sink: PushSink<'quotes'> = { push: (q) => pushes.push({ at: performance.now(), q }), end: () => undefined, active: true };
  hub.channels({ cork: () => undefined, uncork: () => undefined }).quotes({ symbols: ['AAA'] }, {} as never, sink);
  pushes.length = 0; // the subscription's first value
  let k = 0;
  const trade = async (): Promise<void> => {
    const price = 1000 + (k++ % 5);
    await v.submitAll([
      { type: 'PlaceOrder', accountId: a, symbol: 'AAA', side: 'sell', orderType: 'limit', qty: 1, price, tif: 'gtc' },
      { type: 'PlaceOrder', accountId: b, symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 1, price, tif: 'ioc' },
    ]);
  };
  const close = (): void => {
    hub.stop();
    v.close({ snapshot: false });
  };
  return { v, hub, pushes, trade, close };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('market-data hub ticks', () => {
  it('push a changing quote at most once per interval, the latest value, and nothing while nothing changes', async () => {
    const { v, hub, pushes, trade, close } = await setUp(100);
    const t0 = performance.now();
    while (performance.now() - t0 < 650) await trade(); // a trade every few ms
    await sleep(150);
    const span = pushes.at(-1)!.at - pushes[0]!.at;
    expect(pushes.length).toBeGreaterThanOrEqual(4);
    // ticks begin an interval apart (a push lands a moment after its tick began, hence 95 rather than 100)
    expect(pushes.length).toBeLessThanOrEqual(Math.floor(span / 95) + 1);
    for (let i = 1; i < pushes.length; i++) expect(pushes[i]!.at - pushes[i - 1]!.at).toBeGreaterThanOrEqual(95);
    expect(pushes.at(-1)!.q).toEqual(v.view.quote('AAA')); // the latest value
    expect(hub.stats.ticks).toBe(pushes.length);
    const n = pushes.length;
    await sleep(300);
    expect(pushes.length).toBe(n); // quiet: no ticks
    expect(hub.stats.ticks).toBe(n);
    close();
  });

  it('never begin a tick less than an interval after the last, even when a timer fires early', async () => {
    // Node's timers count from the event loop's clock as of the turn that set them, which a busy turn leaves
    // behind: here every timer fires 20 ms early
    const real = globalThis.setTimeout;
    const early = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => real(fn, Math.max(0, (ms ?? 0) - 20))) as unknown as typeof setTimeout);
    try {
      const { pushes, trade, close } = await setUp(100);
      const t0 = performance.now();
      while (performance.now() - t0 < 650) await trade();
      await sleep(150);
      expect(pushes.length).toBeGreaterThanOrEqual(4);
      for (let i = 1; i < pushes.length; i++) expect(pushes[i]!.at - pushes[i - 1]!.at).toBeGreaterThanOrEqual(99);
      close();
    } finally {
      early.mockRestore();
    }
  });

  it('push the first change after a quiet spell at once, not an interval later', async () => {
    const { pushes, trade, close } = await setUp(1000);
    await trade();
    await sleep(1100);
    const before = pushes.length;
    const t = performance.now();
    await trade();
    await sleep(100);
    expect(pushes.length).toBe(before + 1);
    expect(pushes.at(-1)!.at - t).toBeLessThan(100);
    close();
  });
});

describe('market-data hub: the index channel', () => {
  it("a new subscriber is told of every change after its snapshot, and a session's end re-basing the previous close is pushed", async () => {
    const { v, hub, close } = await setUp(20);
    await v.submit({ type: 'CreateIndex', name: 'TDX', baseValue: 100_000, constituents: [{ symbol: 'AAA', weightBps: 10_000 }] });
    // a seller that may sell short
    await v.submit({ type: 'OpenAccount', accountId: 3, allowShort: true });
    await v.submit({ type: 'Deposit', accountId: 3, amount: 1e12 });
    const at = async (price: number): Promise<void> => {
      await v.submitAll([
        { type: 'PlaceOrder', accountId: 3, symbol: 'AAA', side: 'sell', orderType: 'limit', qty: 1, price, tif: 'gtc' },
        { type: 'PlaceOrder', accountId: 2, symbol: 'AAA', side: 'buy', orderType: 'limit', qty: 1, price, tif: 'ioc' },
      ]);
      await sleep(60);
    };
    const subscribe = () => {
      const got: ChannelData<'index'>[] = [];
      const sink: PushSink<'index'> = { push: (d) => got.push(d), end: () => undefined, active: true };
      const stop = hub.channels({ cork: () => undefined, uncork: () => undefined }).index({ name: 'TDX' }, {} as never, sink) as () => void;
      return { got, stop };
    };
    const a = subscribe();
    await at(1010);
    expect(a.got.at(-1)!.value).toBe(v.view.index('TDX')!.value);
    a.stop();
    const before = v.view.index('TDX')!.value;
    await at(1030); // nobody subscribed
    expect(v.view.index('TDX')!.value).not.toBe(before);
    const b = subscribe();
    expect(b.got.at(-1)!.value).toBe(v.view.index('TDX')!.value);
    await at(1010); // back to the value the last subscriber saw
    expect(v.view.index('TDX')!.value).toBe(before);
    expect(b.got.at(-1)).toEqual(v.view.index('TDX'));
    // the session's end: the same value, a new previous close
    await v.submit({ type: 'EndSession' });
    await sleep(60);
    const now = v.view.index('TDX')!;
    expect(now.previousClose).toBe(now.value);
    expect(b.got.at(-1)).toEqual(now);
    b.stop();
    close();
  });
});

describe('market-data hub: the candles channel', () => {
  it("pushes a bar's final state before the next bar when the next bar begins within the same tick", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdhub-'));
    dirs.push(dir);
    let t = Date.UTC(2024, 0, 2, 14, 30, 59, 900);
    const v = Venue.open(join(dir, 'venue.db'), { synchronous: 'NORMAL', now: () => t });
    for (const a of await v.submitAll([
      { type: 'CreateInstrument', instrument: { symbol: 'AAA', name: 'A', tickSize: 1, lotSize: 1, referencePrice: 1000, bandBps: 5000 } },
      { type: 'OpenAccount', accountId: 1 },
      { type: 'OpenAccount', accountId: 2, allowShort: true },
      { type: 'Deposit', accountId: 1, amount: 1e12 },
      { type: 'Deposit', accountId: 2, amount: 1e12 },
    ]))
      expect(a.rejected).toBeUndefined();
    // a long interval: the ticks below are the test's own (the timer set by a change finds them done)
    const hub = new MarketHub(v, 60_000);
    hub.start();
    const got: ChannelData<'candles'>[] = [];
    const sink: PushSink<'candles'> = { push: (c) => got.push({ ...c }), end: () => undefined, active: true };
    hub.channels({ cork: () => undefined, uncork: () => undefined }).candles({ symbol: 'AAA', timeframe: '1m' }, {} as never, sink);
    const trade = (price: number, qty: number) =>
      v.submitAll([
        { type: 'PlaceOrder', accountId: 2, symbol: 'AAA', side: 'sell', orderType: 'limit', qty, price, tif: 'gtc' },
        { type: 'PlaceOrder', accountId: 1, symbol: 'AAA', side: 'buy', orderType: 'limit', qty, price, tif: 'ioc' },
      ]);
    await trade(1000, 1); // the 14:30 bar begins
    hub.tick();
    await trade(1010, 5); // the 14:30 bar's last trade...
    t += 100;
    await trade(1005, 2); // ...and the 14:31 bar's first, before the next tick
    hub.tick();
    const [closed, open] = v.view.candles('AAA', '1m');
    expect(closed).toMatchObject({ t: Date.UTC(2024, 0, 2, 14, 30), o: 1000, h: 1010, l: 1000, c: 1010, v: 6 });
    expect(open).toMatchObject({ t: Date.UTC(2024, 0, 2, 14, 31), o: 1005, v: 2 });
    expect(got).toEqual([{ ...closed, c: 1000, h: 1000, v: 1 }, closed, open]);
    hub.tick(); // nothing changed: nothing pushed
    await trade(1006, 1);
    hub.tick();
    expect(got.slice(3)).toEqual([v.view.candles('AAA', '1m', 1)[0]]);
    hub.stop();
    v.close({ snapshot: false });
  });
});
