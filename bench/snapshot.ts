/**
 * Snapshot benchmark: how long taking an engine snapshot blocks the venue's event loop, with a book of N
 * resting orders, written to the venue file by the sequencer (historyThread: false, the desktop) and
 * handed to the history thread (the server). Either way the state is captured, then serialized a part per
 * turn of the event loop.
 *
 *   npm run bench:snapshot                         books of 20,000 and 200,000 resting orders
 *   npm run bench:snapshot -- --orders 50000       one book size
 *   npm run bench:snapshot -- --json               last stdout line is one JSON object
 *
 * Per mode and book: three snapshots, each after one more command; for each, `callMs` (snapshot() itself:
 * the capture of the engine state and the first part), `handedOverMs` (until the last part is handed over,
 * or written to the venue file) and `longestStallMs` (the longest event-loop delay from the call until
 * then, perf_hooks' monitorEventLoopDelay at 1 ms resolution).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Venue } from '../engine/venue/index.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const at = args.indexOf('--orders');
const books = at >= 0 ? [Number(args[at + 1])] : [20_000, 200_000];
const log = (s: string): void => {
  if (!json) console.log(s);
};

interface Run {
  historyThread: boolean;
  orders: number;
  callMs: number[];
  handedOverMs: number[];
  longestStallMs: number[];
}

const round = (x: number): number => Math.round(x * 10) / 10;
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function measure(orders: number, historyThread: boolean): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'tdsnap-'));
  const v = Venue.open(join(dir, 'venue.db'), { historyThread, snapshotEvery: 0, snapshotIntervalMs: 0 });
  try {
    await v.submit({ type: 'CreateInstrument', instrument: { symbol: 'BOOK', name: 'Book', tickSize: 1, lotSize: 1, referencePrice: 10_000, bandBps: 5000 } });
    await v.submit({ type: 'OpenAccount', accountId: 1, allowShort: true });
    await v.submit({ type: 'Deposit', accountId: 1, amount: 1e14 });
    for (let i = 0; i < orders; i += 1000) {
      const n = Math.min(1000, orders - i);
      await Promise.all(
        Array.from({ length: n }, (_, k) => v.submit({ type: 'PlaceOrder', accountId: 1, symbol: 'BOOK', side: 'buy', orderType: 'limit', qty: 1, price: 9_000 + ((i + k) % 900), tif: 'gtc' })),
      );
    }
    const run: Run = { historyThread, orders, callMs: [], handedOverMs: [], longestStallMs: [] };
    const pending = (): boolean => (v as unknown as { snapJob?: unknown }).snapJob !== undefined;
    for (let r = 0; r < 3; r++) {
      await v.submit({ type: 'Deposit', accountId: 1, amount: 1 });
      const h = monitorEventLoopDelay({ resolution: 1 });
      const t0 = performance.now();
      v.snapshot();
      const call = performance.now() - t0;
      h.enable();
      while (pending()) await turn();
      const all = performance.now() - t0;
      await new Promise((res) => setTimeout(res, 5));
      h.disable();
      run.callMs.push(round(call));
      run.handedOverMs.push(round(all));
      run.longestStallMs.push(round(h.max / 1e6));
      await new Promise((res) => setTimeout(res, 200)); // let the thread write it before the next
    }
    return run;
  } finally {
    v.close({ snapshot: false });
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs: Run[] = [];
for (const orders of books) {
  for (const historyThread of [false, true]) {
    const r = await measure(orders, historyThread);
    runs.push(r);
    log(
      `${orders.toLocaleString('en-US')} resting orders, ${historyThread ? 'history thread writes it' : 'written to the venue file'}: ` +
        `snapshot() ${r.callMs.join(' / ')} ms` +
        `; all parts ${historyThread ? 'handed over' : 'written'} after ${r.handedOverMs.join(' / ')} ms; longest stall meanwhile ${r.longestStallMs.join(' / ')} ms`,
    );
  }
}
if (json) console.log(JSON.stringify({ bench: 'snapshot', runs }));
