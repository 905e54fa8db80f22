/**
 * Order-ticket validation before anything is sent: quantity in whole lots, prices on the tick and inside the
 * band, the fields each order type needs, bracket legs on the right side, and funds (estimated cost against
 * buying power) or shares for a sale. Pure and integer-only; the venue checks again and has the last word.
 */
import type { AccountView, InstrumentView, OrderType, PlaceOrderParams, Quote, Side, TimeInForce } from '../data/types.js';
import { REASONS } from '../format/reasons.js';
import { formatMoney, formatPrice, formatQty, mulExact, parsePrice, parseQty } from '../format/num.js';

export interface TicketDraft {
  symbol: string;
  side: Side;
  orderType: OrderType;
  qty: string;
  price: string;
  stopPrice: string;
  trailAmount: string;
  tif: TimeInForce;
  bracket: boolean;
  takeProfit: string;
  stopLoss: string;
}

export type TicketField = 'symbol' | 'qty' | 'price' | 'stopPrice' | 'trailAmount' | 'tif' | 'takeProfit' | 'stopLoss' | 'funds';

export interface TicketContext {
  instrument: InstrumentView | undefined;
  quote: Quote | undefined;
  account: AccountView | undefined;
}

export interface TicketCheck {
  errors: Partial<Record<TicketField, string>>;
  /** The order to send when there are no errors. */
  params: PlaceOrderParams | undefined;
  /** Price used for the estimate (limit price, or the touch for market/stop orders). */
  estPrice: number | undefined;
  /** qty x estPrice in minor units. */
  estCost: number | undefined;
  /** Buying power after a buy (or unchanged for a sell). */
  bpAfter: number | undefined;
  /** The result code the venue would answer for a funds/shares problem. */
  code?: 'INSUFFICIENT_FUNDS' | 'INSUFFICIENT_SHARES';
}

export const needsPrice = (t: OrderType): boolean => t === 'limit' || t === 'stop_limit';
export const needsStop = (t: OrderType): boolean => t === 'stop' || t === 'stop_limit';
export const needsTrail = (t: OrderType): boolean => t === 'trailing_stop';

function onTick(
  text: string,
  label: string,
  inst: InstrumentView,
  band: boolean,
): { value?: number; error?: string } {
  const p = parsePrice(text);
  if (!p.ok) return { error: `${label}: ${p.error}` };
  if (p.value <= 0) return { error: `${label} must be above zero` };
  if (p.value % inst.tickSize !== 0) return { error: `${label} must be a multiple of the tick ${formatPrice(inst.tickSize)}` };
  if (band && inst.bandHigh > 0 && (p.value < inst.bandLow || p.value > inst.bandHigh)) {
    return { error: `${label} is outside the band ${formatPrice(inst.bandLow)}–${formatPrice(inst.bandHigh)}` };
  }
  return { value: p.value };
}

export function validateTicket(d: TicketDraft, ctx: TicketContext): TicketCheck {
  const errors: Partial<Record<TicketField, string>> = {};
  const out: TicketCheck = { errors, params: undefined, estPrice: undefined, estCost: undefined, bpAfter: undefined };
  const inst = ctx.instrument;
  if (inst === undefined) {
    errors.symbol = d.symbol === '' ? 'Choose a symbol' : `Unknown symbol ${d.symbol}`;
    return out;
  }
  if (inst.status === 'halted') errors.symbol = `${inst.symbol} is halted`;

  let qty: number | undefined;
  const q = parseQty(d.qty);
  if (!q.ok) errors.qty = q.error;
  else if (q.value <= 0) errors.qty = 'Quantity must be above zero';
  else if (q.value % inst.lotSize !== 0) errors.qty = `Quantity must be a multiple of the lot (${formatQty(inst.lotSize)})`;
  else qty = q.value;

  let price: number | undefined;
  let stopPrice: number | undefined;
  let trailAmount: number | undefined;
  if (needsPrice(d.orderType)) {
    const r = onTick(d.price, 'Limit price', inst, true);
    if (r.error !== undefined) errors.price = r.error;
    price = r.value;
  }
  if (needsStop(d.orderType)) {
    const r = onTick(d.stopPrice, 'Stop price', inst, true);
    if (r.error !== undefined) errors.stopPrice = r.error;
    stopPrice = r.value;
  }
  if (needsTrail(d.orderType)) {
    const r = onTick(d.trailAmount, 'Trail amount', inst, false);
    if (r.error !== undefined) errors.trailAmount = r.error;
    trailAmount = r.value;
  }
  if (d.orderType === 'market' && (d.tif === 'gtc' || d.tif === 'day') && d.bracket === false) {
    // Market orders never rest; the venue treats day/gtc as immediate. Nothing to refuse.
  }

  // Estimate: the limit price, else where a market order would trade now (the far touch), else the last.
  const q0 = ctx.quote;
  const touch = d.side === 'buy' ? (q0?.ask ?? q0?.last ?? null) : (q0?.bid ?? q0?.last ?? null);
  const estPrice = price ?? (d.orderType === 'stop' ? stopPrice : undefined) ?? touch ?? undefined;
  out.estPrice = estPrice ?? undefined;
  if (qty !== undefined && estPrice !== undefined && estPrice !== null) {
    const cost = mulExact(qty, estPrice);
    if (cost === undefined) errors.qty = 'Order value is too large';
    out.estCost = cost;
  }

  const acct = ctx.account;
  if (acct !== undefined && out.estCost !== undefined) {
    if (d.side === 'buy') {
      out.bpAfter = acct.buyingPower - out.estCost;
      if (out.bpAfter < 0) {
        errors.funds = `${REASONS.INSUFFICIENT_FUNDS} Needs ${formatMoney(out.estCost)}, available ${formatMoney(acct.buyingPower)}.`;
        out.code = 'INSUFFICIENT_FUNDS';
      }
    } else {
      out.bpAfter = acct.buyingPower;
      const pos = acct.positions.find((p) => p.symbol === inst.symbol);
      const free = pos === undefined ? 0 : pos.qty - pos.reservedQty;
      if (!acct.allowShort && qty !== undefined && qty > free) {
        errors.funds = `${REASONS.INSUFFICIENT_SHARES} Selling ${formatQty(qty)}, ${formatQty(Math.max(0, free))} available.`;
        out.code = 'INSUFFICIENT_SHARES';
      }
    }
  }

  let bracket: PlaceOrderParams['bracket'];
  if (d.bracket) {
    const entry = price ?? stopPrice ?? estPrice ?? undefined;
    const tp = d.takeProfit.trim() === '' ? undefined : onTick(d.takeProfit, 'Take profit', inst, true);
    const sl = d.stopLoss.trim() === '' ? undefined : onTick(d.stopLoss, 'Stop loss', inst, true);
    if (tp === undefined && sl === undefined) errors.takeProfit = 'Give a take-profit or a stop-loss price';
    if (tp?.error !== undefined) errors.takeProfit = tp.error;
    if (sl?.error !== undefined) errors.stopLoss = sl.error;
    const up = d.side === 'buy';
    if (entry !== undefined && entry !== null) {
      if (tp?.value !== undefined && (up ? tp.value <= entry : tp.value >= entry)) {
        errors.takeProfit = `Take profit must be ${up ? 'above' : 'below'} the entry ${formatPrice(entry)}`;
      }
      if (sl?.value !== undefined && (up ? sl.value >= entry : sl.value <= entry)) {
        errors.stopLoss = `Stop loss must be ${up ? 'below' : 'above'} the entry ${formatPrice(entry)}`;
      }
    }
    bracket = {};
    if (tp?.value !== undefined) bracket.takeProfit = { price: tp.value };
    if (sl?.value !== undefined) bracket.stopLoss = { stopPrice: sl.value };
  }

  if (Object.keys(errors).length === 0 && qty !== undefined) {
    const params: PlaceOrderParams = { symbol: inst.symbol, side: d.side, orderType: d.orderType, qty, tif: d.tif };
    if (price !== undefined) params.price = price;
    if (stopPrice !== undefined) params.stopPrice = stopPrice;
    if (trailAmount !== undefined) params.trailAmount = trailAmount;
    if (bracket !== undefined) params.bracket = bracket;
    out.params = params;
  }
  return out;
}
