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
  /** The quantity when it is valid on its own (whole lots, above zero), whatever else is wrong. */
  qty?: number | undefined;
  /** The limit price when the order type has one and it is valid on its own (tick, band). */
  price?: number | undefined;
  /** The stop price when the order type has one and it is valid on its own. */
  stopPrice?: number | undefined;
  /** The result code the venue would answer for a funds/shares problem. */
  code?: 'INSUFFICIENT_FUNDS' | 'INSUFFICIENT_SHARES';
}

export const needsPrice = (t: OrderType): boolean => t === 'limit' || t === 'stop_limit';
export const needsStop = (t: OrderType): boolean => t === 'stop' || t === 'stop_limit';
export const needsTrail = (t: OrderType): boolean => t === 'trailing_stop';

/** Typed text that is a number with a minus sign ("-1", "-0.50", "- 5"): below zero, rather than not a number. */
const negative = (text: string): boolean => /^-\s*[\d,]*\.?\d/.test(text.trim());

/**
 * A typed price for `inst`: on the tick and, with `band`, inside today's band. `label` starts the message
 * ("Limit price must be above zero").
 */
export function checkPrice(text: string, label: string, inst: InstrumentView, band: boolean): { value?: number; error?: string } {
  if (negative(text)) return { error: `${label} must be above zero` };
  const p = parsePrice(text);
  if (!p.ok) return { error: `${label}: ${p.error}` };
  if (p.value <= 0) return { error: `${label} must be above zero` };
  if (p.value % inst.tickSize !== 0) return { error: `${label} must be a multiple of the tick ${formatPrice(inst.tickSize)}` };
  if (band && inst.bandHigh > 0 && (p.value < inst.bandLow || p.value > inst.bandHigh)) {
    return { error: `${label} is outside the band ${formatPrice(inst.bandLow)}–${formatPrice(inst.bandHigh)}` };
  }
  return { value: p.value };
}

/** A typed quantity for `inst` (whole lots, above zero); without an instrument only above zero. */
export function checkQty(text: string, inst: InstrumentView | undefined): { value?: number; error?: string } {
  if (negative(text)) return { error: 'Quantity must be above zero' };
  const q = parseQty(text);
  if (!q.ok) return { error: q.error };
  if (q.value <= 0) return { error: 'Quantity must be above zero' };
  if (inst !== undefined && q.value % inst.lotSize !== 0) return { error: `Quantity must be a multiple of the lot (${formatQty(inst.lotSize)})` };
  return { value: q.value };
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

  const q = checkQty(d.qty, inst);
  if (q.error !== undefined) errors.qty = q.error;
  const qty = q.value;

  let price: number | undefined;
  let stopPrice: number | undefined;
  let trailAmount: number | undefined;
  if (needsPrice(d.orderType)) {
    const r = checkPrice(d.price, 'Limit price', inst, true);
    if (r.error !== undefined) errors.price = r.error;
    price = r.value;
  }
  if (needsStop(d.orderType)) {
    const r = checkPrice(d.stopPrice, 'Stop price', inst, true);
    if (r.error !== undefined) errors.stopPrice = r.error;
    stopPrice = r.value;
  }
  if (needsTrail(d.orderType)) {
    const r = checkPrice(d.trailAmount, 'Trail amount', inst, false);
    if (r.error !== undefined) errors.trailAmount = r.error;
    trailAmount = r.value;
  }
  if (d.orderType === 'market' && (d.tif === 'gtc' || d.tif === 'day') && d.bracket === false) {
    // Market orders never rest; the venue treats day/gtc as immediate. Nothing to refuse.
  }

  out.qty = qty;
  out.price = price;
  out.stopPrice = stopPrice;

  // Estimate: the limit price, else a stop order's stop, else where a market order would trade now (the far
  // touch), else the last. A price the order type needs that is not valid gives no estimate (and so no funds
  // check): the market price is not what this order would cost.
  const q0 = ctx.quote;
  const touch = d.side === 'buy' ? (q0?.ask ?? q0?.last ?? null) : (q0?.bid ?? q0?.last ?? null);
  const priceMissing = (needsPrice(d.orderType) && price === undefined) || (d.orderType === 'stop' && stopPrice === undefined);
  const estPrice = priceMissing ? undefined : (price ?? (d.orderType === 'stop' ? stopPrice : undefined) ?? touch ?? undefined);
  out.estPrice = estPrice;
  if (qty !== undefined && estPrice !== undefined) {
    const cost = mulExact(qty, estPrice);
    if (cost === undefined) errors.qty = 'Order value is too large';
    out.estCost = cost;
  }

  const acct = ctx.account;
  // buying power needs the estimate; the shares to sell do not (they are checked whatever the price says)
  if (acct !== undefined && d.side === 'buy' && out.estCost !== undefined) {
    out.bpAfter = acct.buyingPower - out.estCost;
    if (out.bpAfter < 0) {
      errors.funds = `${REASONS.INSUFFICIENT_FUNDS} Needs ${formatMoney(out.estCost)}, available ${formatMoney(acct.buyingPower)}.`;
      out.code = 'INSUFFICIENT_FUNDS';
    }
  }
  if (acct !== undefined && d.side === 'sell') {
    if (out.estCost !== undefined) out.bpAfter = acct.buyingPower;
    const pos = acct.positions.find((p) => p.symbol === inst.symbol);
    const free = pos === undefined ? 0 : pos.qty - pos.reservedQty;
    if (!acct.allowShort && qty !== undefined && qty > free) {
      errors.funds = `${REASONS.INSUFFICIENT_SHARES} Selling ${formatQty(qty)}, ${formatQty(Math.max(0, free))} available.`;
      out.code = 'INSUFFICIENT_SHARES';
    }
  }

  let bracket: PlaceOrderParams['bracket'];
  if (d.bracket) {
    const entry = price ?? stopPrice ?? estPrice ?? undefined;
    const tp = d.takeProfit.trim() === '' ? undefined : checkPrice(d.takeProfit, 'Take profit', inst, true);
    const sl = d.stopLoss.trim() === '' ? undefined : checkPrice(d.stopLoss, 'Stop loss', inst, true);
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

/**
 * A working order as the blotter's modify row changes it: its prices as they were when the row opened (a
 * trailing stop's stop moves on meanwhile; a field left as it opened is not a change).
 */
export interface ModifiedOrder {
  orderId: number;
  qty: number;
  filledQty: number;
  orderType?: string | undefined;
  status?: string | undefined;
  price?: number | undefined;
  stopPrice?: number | undefined;
}

/** What the modify row's fields say: the quantity and the prices the order has, as typed. */
export interface ModifyDraft {
  qty: string;
  price: string;
  stopPrice: string;
}

export interface ModifyCheck {
  /** What is wrong, in words, when the change should not be sent. */
  error?: string;
  /** The replace to send: only the fields that change (none: nothing to send). */
  params?: { orderId: number; qty?: number; price?: number; stopPrice?: number };
}

/**
 * The modify row's checks before a replace is sent, the ticket's own: the quantity in whole lots, above zero
 * and above what has already filled; a changed price on the tick and inside the band. A price left as it
 * was is not checked again (the band may have moved since the order was placed; it stays as it is). Without
 * the instrument (not loaded) only what needs none is checked; the venue checks again either way.
 */
export function validateModify(o: ModifiedOrder, d: ModifyDraft, inst: InstrumentView | undefined): ModifyCheck {
  const q = checkQty(d.qty, inst);
  if (q.error !== undefined) return { error: q.error };
  const qty = q.value!;
  const params: NonNullable<ModifyCheck['params']> = { orderId: o.orderId };
  if (qty !== o.qty) {
    if (qty <= o.filledQty) return { error: `Quantity must be more than the ${formatQty(o.filledQty)} already filled` };
    params.qty = qty;
  }
  const price = (text: string, label: string, was: number): { value?: number; error?: string } => {
    const p = parsePrice(text);
    if (p.ok && p.value === was) return { value: was };
    if (inst !== undefined) return checkPrice(text, label, inst, true);
    if (negative(text) || (p.ok && p.value <= 0)) return { error: `${label} must be above zero` };
    return p.ok ? { value: p.value } : { error: `${label}: ${p.error}` };
  };
  if (o.price !== undefined) {
    const r = price(d.price, 'Limit price', o.price);
    if (r.error !== undefined) return { error: r.error };
    if (r.value !== o.price) params.price = r.value!;
  }
  if (o.stopPrice !== undefined) {
    const r = price(d.stopPrice, 'Stop price', o.stopPrice);
    if (r.error !== undefined) return { error: r.error };
    if (r.value !== o.stopPrice) {
      // what the venue refuses: a trailing stop's stop follows the market; a triggered order has no stop left
      if (o.orderType === 'trailing_stop') return { error: "A trailing stop's stop price follows the market: change the quantity, or cancel it and place another" };
      if (o.status !== undefined && o.status !== 'pending_trigger') return { error: 'This order has triggered: its stop price can no longer change' };
      params.stopPrice = r.value!;
    }
  }
  const ref = params.price ?? o.price ?? params.stopPrice ?? o.stopPrice;
  if (ref !== undefined && mulExact(qty, ref) === undefined) return { error: 'Order value is too large' };
  return { params };
}
