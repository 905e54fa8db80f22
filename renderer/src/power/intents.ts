/**
 * From a trading intent (a hotkey, a ladder or chart action) to the protocol requests that carry it out,
 * with the checks a trader expects before anything is sent: a quote on the side needed, a size that is a
 * positive multiple of the lot, an instrument that is trading, a position to flatten. Pure: the caller
 * sends the requests in order (flatten cancels the symbol's working orders first so their reservations
 * do not block the closing order).
 */
import type { InstrumentView, ParamsOf, PositionView, Quote, TimeInForce } from '../../../engine/protocol/index.js';
import type { Intent } from './hotkeys.js';

export type OrderRequest =
  | { readonly method: 'order.place'; readonly params: ParamsOf<'order.place'> }
  | { readonly method: 'order.cancelAll'; readonly params: ParamsOf<'order.cancelAll'> };

export type IntentErrorCode = 'NO_QUOTE' | 'NO_POSITION' | 'INVALID_QTY' | 'HALTED' | 'WRONG_SYMBOL' | 'NOT_AN_ORDER' | 'OUTSIDE_BAND';

export type IntentResult =
  | { readonly ok: true; readonly requests: readonly OrderRequest[]; readonly summary: string }
  | { readonly ok: false; readonly code: IntentErrorCode; readonly message: string };

export interface IntentContext {
  readonly instrument: InstrumentView;
  readonly quote: Quote | null;
  readonly position: PositionView | null;
  readonly tif?: TimeInForce;
}

const fail = (code: IntentErrorCode, message: string): IntentResult => ({ ok: false, code, message });

/** Money in minor units as a decimal string with 2 places (display only). */
export const formatPrice = (p: number): string => {
  const sign = p < 0 ? '-' : '';
  const a = Math.abs(p);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
};

export function checkQty(qty: number, lot: number): string | null {
  if (!Number.isSafeInteger(qty) || qty <= 0) return 'The size must be a positive whole number of shares.';
  if (qty % lot !== 0) return `The size must be a multiple of the lot (${lot}).`;
  return null;
}

export function intentToRequests(intent: Intent, ctx: IntentContext): IntentResult {
  const inst = ctx.instrument;
  const symbol = inst.symbol;
  if (ctx.quote !== null && ctx.quote.symbol !== symbol) return fail('WRONG_SYMBOL', `The quote is for ${ctx.quote.symbol}, not ${symbol}.`);
  if (ctx.position !== null && ctx.position.symbol !== symbol) return fail('WRONG_SYMBOL', `The position is in ${ctx.position.symbol}, not ${symbol}.`);
  const tif = ctx.tif ?? 'day';

  switch (intent.kind) {
    case 'buyAtAsk':
    case 'sellAtBid':
    case 'buyAtBid':
    case 'sellAtAsk': {
      if (inst.status === 'halted') return fail('HALTED', `${symbol} is halted.`);
      const qtyError = checkQty(intent.qty, inst.lotSize);
      if (qtyError !== null) return fail('INVALID_QTY', qtyError);
      const side = intent.kind.startsWith('buy') ? 'buy' : 'sell';
      const at = intent.kind.endsWith('Ask') ? 'ask' : 'bid';
      const price = ctx.quote?.[at] ?? null;
      if (price === null) return fail('NO_QUOTE', `There is no ${at} in ${symbol}.`);
      if (price < inst.bandLow || price > inst.bandHigh)
        return fail('OUTSIDE_BAND', `The ${at} ${formatPrice(price)} is outside today's band ${formatPrice(inst.bandLow)}–${formatPrice(inst.bandHigh)}.`);
      return {
        ok: true,
        requests: [{ method: 'order.place', params: { symbol, side, orderType: 'limit', qty: intent.qty, price, tif } }],
        summary: `${side === 'buy' ? 'Buy' : 'Sell'} ${intent.qty} ${symbol} limit ${formatPrice(price)} ${tif.toUpperCase()}`,
      };
    }
    case 'cancelAll':
      return { ok: true, requests: [{ method: 'order.cancelAll', params: { symbol } }], summary: `Cancel all orders in ${symbol}` };
    case 'flatten': {
      const qty = ctx.position?.qty ?? 0;
      if (qty === 0) return fail('NO_POSITION', `There is no position in ${symbol} to flatten.`);
      if (inst.status === 'halted') return fail('HALTED', `${symbol} is halted.`);
      const side = qty > 0 ? 'sell' : 'buy';
      const abs = Math.abs(qty);
      const qtyError = checkQty(abs, inst.lotSize);
      if (qtyError !== null) return fail('INVALID_QTY', `The position (${qty}) is not a whole number of lots (${inst.lotSize}).`);
      return {
        ok: true,
        requests: [
          { method: 'order.cancelAll', params: { symbol } },
          { method: 'order.place', params: { symbol, side, orderType: 'market', qty: abs, tif: 'ioc' } },
        ],
        summary: `Cancel all orders in ${symbol}, then ${side} ${abs} ${symbol} at market`,
      };
    }
    case 'setSize':
    case 'recenter':
    case 'cheatSheet':
      return fail('NOT_AN_ORDER', `"${intent.kind}" does not send an order.`);
  }
}

/** Snap a price to the instrument tick (nearest; halves go up), never below one tick. */
export function snapToTick(price: number, tick: number): number {
  const n = Math.round(price / tick);
  return Math.max(tick, n * tick);
}
