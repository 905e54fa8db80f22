/**
 * The local user's simulation account: opened with the initial capital from settings, and resettable, all
 * through ordinary commands (no back door into the engine's ledger).
 *
 * Reset runs in two phases because the engine has no single command for it:
 *   1. begin(): cancel every working order of the account (bracket children go with their entry, so only
 *      entries and stand-alone orders are canceled) and close every position with a market order (sell a
 *      long, buy back a short) against the simulated liquidity;
 *   2. finish(): once phase 1's events are in, Deposit or Withdraw the difference so cash equals the
 *      initial capital again.
 * If a position could not be closed (a halted symbol, no liquidity), finish() reports it and does not touch
 * the cash; run begin() again later. What remains afterwards is the engine's running realised P&L of the
 * account, which no command resets (see the report: an admin `ResetAccount` command would make this exact).
 */
import type { AccountId, AccountView, Command, Money, OrderId, OrderView, Timestamp } from '../core/types.js';

/** What the reset reads (an Engine, or a venue's engine view, fits). */
export interface AccountSource {
  accountView(accountId: AccountId): AccountView | undefined;
  openOrders(accountId?: AccountId): OrderView[];
}

export interface LocalAccountSpec {
  accountId: AccountId;
  /** Initial capital in minor units (from settings). */
  initialCapital: Money;
  /** May the user sell short (default true: practice accounts usually may). */
  allowShort?: boolean;
}

/** OpenAccount and the initial Deposit. */
export function openLocalAccount(spec: LocalAccountSpec, ts: Timestamp): Command[] {
  if (!Number.isSafeInteger(spec.initialCapital) || spec.initialCapital <= 0) throw new RangeError('initialCapital must be a positive whole number of minor units');
  return [
    { type: 'OpenAccount', ts, accountId: spec.accountId, allowShort: spec.allowShort ?? true },
    { type: 'Deposit', ts, accountId: spec.accountId, amount: spec.initialCapital },
  ];
}

/** Phase 1 of a reset: cancel all working orders and close all positions. */
export function resetBegin(src: AccountSource, accountId: AccountId, ts: Timestamp, nextOrderId: () => OrderId): Command[] {
  const out: Command[] = [];
  const orders = src.openOrders(accountId);
  const ids = new Set(orders.map((o) => o.orderId));
  for (const o of orders) {
    // a bracket child is canceled with its entry; an OCO leg is canceled on its own
    if (o.parentId !== undefined && ids.has(o.parentId)) continue;
    out.push({ type: 'CancelOrder', ts, accountId, orderId: o.orderId });
  }
  const view = src.accountView(accountId);
  if (view === undefined) return out;
  for (const p of view.positions) {
    if (p.qty === 0) continue;
    out.push({
      type: 'PlaceOrder',
      ts,
      orderId: nextOrderId(),
      accountId,
      symbol: p.symbol,
      side: p.qty > 0 ? 'sell' : 'buy',
      orderType: 'market',
      qty: Math.abs(p.qty),
      tif: 'ioc',
    });
  }
  return out;
}

export interface ResetFinish {
  /** Deposit / Withdraw to restore the initial capital (empty when nothing to do or not possible yet). */
  commands: Command[];
  /** True when the account is flat with no working orders (the reset is complete once `commands` ran). */
  complete: boolean;
  /** Positions still open (could not be closed yet). */
  openPositions: { symbol: string; qty: number }[];
  openOrders: number;
}

/** Phase 2 of a reset: restore the cash once the account is flat and has no working orders. */
export function resetFinish(src: AccountSource, spec: LocalAccountSpec, ts: Timestamp): ResetFinish {
  const view = src.accountView(spec.accountId);
  if (view === undefined) return { commands: [], complete: false, openPositions: [], openOrders: 0 };
  const openPositions = view.positions.filter((p) => p.qty !== 0).map((p) => ({ symbol: p.symbol, qty: p.qty }));
  const openOrders = src.openOrders(spec.accountId).length;
  if (openPositions.length > 0 || openOrders > 0) return { commands: [], complete: false, openPositions, openOrders };
  const diff = spec.initialCapital - view.cash;
  const commands: Command[] = [];
  if (diff > 0) commands.push({ type: 'Deposit', ts, accountId: spec.accountId, amount: diff });
  else if (diff < 0) commands.push({ type: 'Withdraw', ts, accountId: spec.accountId, amount: -diff });
  return { commands, complete: true, openPositions, openOrders };
}
