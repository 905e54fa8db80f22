/**
 * Golden replay files: recorded commands in, expected events out, one JSON line per command:
 *   {"cmd": <Command>, "events": [<EngineEvent>...]}
 * The test replays each file on a fresh engine and compares every line byte for byte. Regenerate after an
 * intended behaviour change with `npm run golden -- --update` and review the diff.
 */
import { Engine } from '../core/engine.js';
import type { Command } from '../core/types.js';
import { CommandGenerator, defaultMarket, setupCommands } from './workload.js';

export function recordGolden(cmds: readonly Command[]): string {
  const e = new Engine();
  return cmds.map((cmd) => JSON.stringify({ cmd, events: e.execute(cmd) })).join('\n') + '\n';
}

const T = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/** A hand-written session touching every order type, the main rejections and end of session. */
export function basicsScenario(): Command[] {
  let ts = T;
  const t = (): number => (ts += 1_000);
  const sym = 'ACME';
  const c: Command[] = [
    { type: 'CreateInstrument', ts: t(), instrument: { symbol: sym, name: 'Acme Corp', tickSize: 5, lotSize: 10, referencePrice: 10_000, bandBps: 1_000 } },
    { type: 'CreateInstrument', ts: t(), instrument: { symbol: 'GLOBX', name: 'Globex', tickSize: 1, lotSize: 1, referencePrice: 5_000, bandBps: 500 } },
    { type: 'CreateIndex', ts: t(), name: 'IDX2', baseValue: 100_000, constituents: [{ symbol: sym, weightBps: 6_000 }, { symbol: 'GLOBX', weightBps: 4_000 }] },
    { type: 'OpenAccount', ts: t(), accountId: 1 },
    { type: 'OpenAccount', ts: t(), accountId: 2, allowShort: true },
    { type: 'OpenAccount', ts: t(), accountId: 3, limits: { maxOrderQty: 500, maxOpenOrders: 5 } },
    { type: 'Deposit', ts: t(), accountId: 1, amount: 10_000_000 },
    { type: 'Deposit', ts: t(), accountId: 2, amount: 10_000_000 },
    { type: 'Deposit', ts: t(), accountId: 3, amount: 2_000_000 },
    // a short seller makes a market; buyers take it
    { type: 'PlaceOrder', ts: t(), orderId: 1, accountId: 2, symbol: sym, side: 'sell', orderType: 'limit', qty: 300, price: 10_010, tif: 'gtc' },
    { type: 'PlaceOrder', ts: t(), orderId: 2, accountId: 2, symbol: sym, side: 'sell', orderType: 'limit', qty: 200, price: 10_020, tif: 'gtc' },
    { type: 'PlaceOrder', ts: t(), orderId: 3, accountId: 2, symbol: sym, side: 'buy', orderType: 'limit', qty: 100, price: 9_990, tif: 'day' },
    { type: 'PlaceOrder', ts: t(), orderId: 4, accountId: 1, symbol: sym, side: 'buy', orderType: 'market', qty: 400, tif: 'ioc' },
    { type: 'PlaceOrder', ts: t(), orderId: 5, accountId: 3, symbol: sym, side: 'buy', orderType: 'limit', qty: 100, price: 10_020, tif: 'fok', clientOrderId: 'abc' },
    { type: 'PlaceOrder', ts: t(), orderId: 6, accountId: 3, symbol: sym, side: 'buy', orderType: 'limit', qty: 100, price: 10_000, tif: 'gtc', clientOrderId: 'abc' },
    { type: 'PlaceOrder', ts: t(), orderId: 7, accountId: 3, symbol: sym, side: 'buy', orderType: 'limit', qty: 1_000, price: 10_000, tif: 'gtc' },
    // resting bids, replace keeps / loses priority, post-only, stops
    { type: 'PlaceOrder', ts: t(), orderId: 8, accountId: 1, symbol: sym, side: 'buy', orderType: 'limit', qty: 50, price: 9_990, tif: 'gtc', postOnly: true },
    { type: 'ReplaceOrder', ts: t(), accountId: 1, orderId: 8, qty: 40 },
    { type: 'ReplaceOrder', ts: t(), accountId: 1, orderId: 8, price: 9_995 },
    { type: 'PlaceOrder', ts: t(), orderId: 9, accountId: 1, symbol: sym, side: 'sell', orderType: 'stop', qty: 100, stopPrice: 9_950, tif: 'gtc' },
    { type: 'PlaceOrder', ts: t(), orderId: 10, accountId: 1, symbol: sym, side: 'sell', orderType: 'trailing_stop', qty: 100, trailAmount: 50, tif: 'gtc' },
    { type: 'PlaceOrder', ts: t(), orderId: 11, accountId: 1, symbol: sym, side: 'buy', orderType: 'limit', qty: 100, price: 10_020, tif: 'gtc', bracket: { takeProfit: { orderId: 12, price: 10_100 }, stopLoss: { orderId: 13, stopPrice: 9_900 } } },
    { type: 'PlaceOrder', ts: t(), orderId: 14, accountId: 2, symbol: sym, side: 'sell', orderType: 'limit', qty: 200, price: 9_990, tif: 'ioc' },
    { type: 'PlaceOco', ts: t(), accountId: 1, legs: [
      { orderId: 15, symbol: 'GLOBX', side: 'buy', orderType: 'limit', qty: 10, price: 4_990, tif: 'gtc' },
      { orderId: 16, symbol: 'GLOBX', side: 'buy', orderType: 'stop', qty: 10, stopPrice: 5_010, tif: 'gtc' },
    ] },
    { type: 'PlaceOrder', ts: t(), orderId: 17, accountId: 2, symbol: 'GLOBX', side: 'sell', orderType: 'limit', qty: 10, price: 4_990, tif: 'gtc' },
    { type: 'CancelOrder', ts: t(), accountId: 2, orderId: 9 },
    { type: 'CancelOrder', ts: t(), accountId: 1, orderId: 999 },
    { type: 'Withdraw', ts: t(), accountId: 1, amount: 999_999_999 },
    { type: 'SetInstrumentStatus', ts: t(), symbol: sym, status: 'halted' },
    { type: 'PlaceOrder', ts: t(), orderId: 18, accountId: 1, symbol: sym, side: 'buy', orderType: 'limit', qty: 10, price: 9_000, tif: 'gtc' },
    { type: 'SetInstrumentStatus', ts: t(), symbol: sym, status: 'open' },
    { type: 'PlaceOrder', ts: t(), orderId: 19, accountId: 2, symbol: sym, side: 'sell', orderType: 'market', qty: 600, tif: 'ioc' },
    { type: 'EndSession', ts: T + 86_400_000 },
    { type: 'PlaceOrder', ts: T + 86_401_000, orderId: 20, accountId: 3, symbol: sym, side: 'buy', orderType: 'limit', qty: 10, price: 9_000, tif: 'day', clientOrderId: 'abc' },
  ];
  return c;
}

/** A seeded random session: every order type, rejections, halts and session ends. */
export function seededScenario(seed: number, n: number): Command[] {
  const m = defaultMarket(6, 2);
  const cmds = [...setupCommands(m)];
  const e = new Engine();
  for (const c of cmds) e.execute(c);
  const gen = new CommandGenerator(m, seed);
  for (let i = 0; i < n; i++) {
    const c = gen.next();
    cmds.push(c);
    gen.observe(e.execute(c));
  }
  return cmds;
}

export const GOLDEN_FILES: Record<string, () => Command[]> = {
  'basics.jsonl': basicsScenario,
  'seeded-1.jsonl': () => seededScenario(1, 600),
  'seeded-2.jsonl': () => seededScenario(2, 600),
};
