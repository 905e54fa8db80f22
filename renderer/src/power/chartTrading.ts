/**
 * The pure part of chart trading: which of my orders get a draggable line and at what price, what a drag
 * of a line means (a replace with the new price snapped to the tick, or nothing), and what a right-click
 * at a price offers. The lightweight-charts adapter (OrderLinesController) only moves pixels around.
 */
import type { OrderRecord, ParamsOf, Side, TimeInForce } from '../../../engine/protocol/index.js';
import { snapToTick } from './intents.js';

export type ReplaceParams = ParamsOf<'order.replace'>;
export type PlaceParams = ParamsOf<'order.place'>;

/** Which price field of an order a line shows and a drag changes. */
export type LineField = 'price' | 'stopPrice';

export interface OrderLine {
  /** `o<orderId>` for the price, `o<orderId>s` for the stop trigger of a stop-limit. */
  readonly key: string;
  readonly orderId: number;
  readonly field: LineField;
  readonly price: number;
  readonly side: Side;
  readonly label: string;
  /** A bracket leg (take-profit or stop-loss child of an entry). */
  readonly leg: 'takeProfit' | 'stopLoss' | null;
  /** Waiting for its trigger or its parent: drawn dotted. */
  readonly pending: boolean;
}

const KIND: Record<OrderRecord['orderType'], string> = { market: 'MKT', limit: 'LMT', stop: 'STP', stop_limit: 'STP LMT', trailing_stop: 'TRAIL' };

/**
 * The lines for my open orders in `symbol`: a limit at its price; a stop at its trigger; a stop-limit both
 * (trigger and limit); a trailing stop at its current trigger (moving it is not a replace of the trail, so it
 * is not draggable: see `draggable`). Bracket children are marked as legs.
 */
export function orderLines(orders: readonly OrderRecord[], symbol: string, fmtQty: (q: number) => string = String): OrderLine[] {
  const out: OrderLine[] = [];
  for (const o of orders) {
    if (o.symbol !== symbol || (o.status !== 'working' && o.status !== 'pending_trigger' && o.status !== 'pending_parent')) continue;
    const leg: OrderLine['leg'] = o.parentId === undefined ? null : o.orderType === 'limit' ? 'takeProfit' : 'stopLoss';
    const base = { orderId: o.orderId, side: o.side, leg, pending: o.status !== 'working' };
    const title = `${leg === 'takeProfit' ? 'TP ' : leg === 'stopLoss' ? 'SL ' : ''}${o.side === 'buy' ? 'BUY' : 'SELL'} ${fmtQty(o.leaves)} ${KIND[o.orderType]}`;
    if (o.orderType === 'limit' && o.price !== undefined) out.push({ ...base, key: `o${o.orderId}`, field: 'price', price: o.price, label: title });
    if ((o.orderType === 'stop' || o.orderType === 'trailing_stop') && o.stopPrice !== undefined)
      out.push({ ...base, key: `o${o.orderId}s`, field: 'stopPrice', price: o.stopPrice, label: title });
    if (o.orderType === 'stop_limit') {
      if (o.stopPrice !== undefined) out.push({ ...base, key: `o${o.orderId}s`, field: 'stopPrice', price: o.stopPrice, label: `${title} trigger` });
      if (o.price !== undefined) out.push({ ...base, key: `o${o.orderId}`, field: 'price', price: o.price, label: `${title} limit` });
    }
  }
  return out;
}

/**
 * Whether dragging a line may change it: not a trailing stop (its trigger follows the market by itself),
 * and not a bracket leg before its entry fills (the venue refuses ORDER_NOT_MODIFIABLE until then).
 */
export function draggable(line: OrderLine, orders: readonly OrderRecord[]): boolean {
  const o = orders.find((x) => x.orderId === line.orderId);
  return o !== undefined && o.orderType !== 'trailing_stop' && o.status !== 'pending_parent';
}

/** The line under a pointer at pixel y (nearest within `tolerance` px), given the price → y mapping. */
export function lineAt(lines: readonly OrderLine[], y: number, priceToY: (p: number) => number | null, tolerance = 5): OrderLine | null {
  let best: OrderLine | null = null;
  let bestD = Infinity;
  for (const l of lines) {
    const ly = priceToY(l.price);
    if (ly === null) continue;
    const d = Math.abs(ly - y);
    if (d <= tolerance && d < bestD) {
      best = l;
      bestD = d;
    }
  }
  return best;
}

/**
 * The end of a drag: the request to send, or null when the line went back to where it was (or off the
 * scale). The new price is snapped to the tick and never below one tick.
 */
export function dropLine(line: OrderLine, rawPrice: number | null, tick: number): ReplaceParams | null {
  if (rawPrice === null || !Number.isFinite(rawPrice)) return null;
  const price = snapToTick(rawPrice, tick);
  if (price === line.price) return null;
  return line.field === 'price' ? { orderId: line.orderId, price } : { orderId: line.orderId, stopPrice: price };
}

// ---------------------------------------------------------------- right-click menu

export interface ContextAction {
  readonly id: string;
  readonly label: string;
  readonly params: PlaceParams;
}

/**
 * What a right-click at `rawPrice` offers: a buy and a sell at that price, each as the order type that
 * rests there (below the market a buy is a limit and a sell a stop; above, a sell is a limit and a buy a
 * stop). Without a last price both limits are offered.
 */
export function contextActions(
  rawPrice: number,
  ctx: { symbol: string; tick: number; qty: number; last: number | null; tif?: TimeInForce },
  fmt: (p: number) => string = String,
): { price: number; actions: ContextAction[] } {
  const price = snapToTick(rawPrice, ctx.tick);
  const tif = ctx.tif ?? 'day';
  const { symbol, qty, last } = ctx;
  const limit = (side: Side): ContextAction => ({
    id: `${side}-limit`,
    label: `${side === 'buy' ? 'Buy' : 'Sell'} ${qty} limit @ ${fmt(price)}`,
    params: { symbol, side, orderType: 'limit', qty, price, tif },
  });
  const stop = (side: Side): ContextAction => ({
    id: `${side}-stop`,
    label: `${side === 'buy' ? 'Buy' : 'Sell'} ${qty} stop @ ${fmt(price)}`,
    params: { symbol, side, orderType: 'stop', qty, stopPrice: price, tif },
  });
  if (last === null || price === last) return { price, actions: [limit('buy'), limit('sell')] };
  return { price, actions: price < last ? [limit('buy'), stop('sell')] : [stop('buy'), limit('sell')] };
}
