/**
 * The depth ladder (DOM) model: a fixed number of price rows, one tick (or a group of N ticks) each,
 * centred on a price, with the book's bid and ask sizes, my working orders and the traded volume at each
 * price; and what a click in a column means. Integer math only: prices are minor units and multiples of
 * the tick, quantities are shares.
 */
import type { Depth, OrderRecord, ParamsOf, TimeInForce, TradePrint } from '../../../engine/protocol/index.js';

/** What `order.place` takes. */
export type PlaceOrderParams = ParamsOf<'order.place'>;

export interface LadderRow {
  /** The row's lowest price (with grouping, the bucket covers price .. price + (group−1)·tick). */
  readonly price: number;
  /** The row's highest price (equal to `price` without grouping). */
  readonly priceHigh: number;
  readonly bidSize: number;
  readonly askSize: number;
  /** My working buy/sell quantity (leaves) at this price, and the order ids. */
  readonly buyQty: number;
  readonly sellQty: number;
  readonly buyOrderIds: readonly number[];
  readonly sellOrderIds: readonly number[];
  /** Shares traded at this price (from the prints seen). */
  readonly volume: number;
  readonly isLast: boolean;
  readonly isBestBid: boolean;
  readonly isBestAsk: boolean;
}

export interface LadderInput {
  readonly depth: Depth | null;
  readonly tick: number;
  readonly last: number | null;
  /** My orders (any status: only open ones of this symbol with a price are shown). */
  readonly orders: readonly OrderRecord[];
  readonly symbol: string;
  /** Volume at price (see VolumeProfile). */
  readonly volumeAtPrice?: ReadonlyMap<number, number>;
  /** The price to centre on (snapped to the row grid). */
  readonly center: number;
  /** Number of rows (at least 1). */
  readonly rows: number;
  /** Ticks per row (default 1). */
  readonly group?: number;
}

export interface LadderModel {
  readonly rows: readonly LadderRow[];
  /** Row size in price units (tick × group). */
  readonly step: number;
  /** The row index holding the centre price. */
  readonly centerIndex: number;
  /** Largest size in the visible bid/ask/volume columns (for bar widths). */
  readonly maxBookSize: number;
  readonly maxVolume: number;
}

const OPEN: ReadonlySet<OrderRecord['status']> = new Set(['working', 'pending_trigger', 'pending_parent']);

/** The price at which an order sits on the ladder: the limit price, or the trigger for stops. */
export function ladderPriceOf(o: OrderRecord): number | null {
  switch (o.orderType) {
    case 'limit':
      return o.price ?? null;
    case 'stop':
    case 'stop_limit':
    case 'trailing_stop':
      return o.stopPrice ?? o.price ?? null;
    case 'market':
      return null;
  }
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`ladder: ${name} must be a positive integer (got ${v})`);
}

/** Floor of a price to a multiple of step (step > 0, price ≥ 0). */
const floorTo = (p: number, step: number): number => p - (p % step);

export function buildLadder(input: LadderInput): LadderModel {
  const { tick, rows: count } = input;
  const group = input.group ?? 1;
  checkPositiveInt('tick', tick);
  checkPositiveInt('rows', count);
  checkPositiveInt('group', group);
  const step = tick * group;

  // The centre row, clamped so the bottom row still holds a positive price.
  const centerIndex = Math.floor(count / 2);
  const rowsBelow = count - 1 - centerIndex;
  let centerPrice = floorTo(Math.max(0, Math.round(input.center)), step);
  const minCenter = step * (rowsBelow + 1);
  if (centerPrice - rowsBelow * step < step) centerPrice = minCenter;
  const top = centerPrice + centerIndex * step;

  const bucketIndex = (price: number): number => {
    const b = floorTo(price, step);
    const i = (top - b) / step;
    return i >= 0 && i < count ? i : -1;
  };

  const bid = new Array<number>(count).fill(0);
  const ask = new Array<number>(count).fill(0);
  const buyQty = new Array<number>(count).fill(0);
  const sellQty = new Array<number>(count).fill(0);
  const buyIds: number[][] = Array.from({ length: count }, () => []);
  const sellIds: number[][] = Array.from({ length: count }, () => []);
  const vol = new Array<number>(count).fill(0);

  const depth = input.depth;
  if (depth !== null) {
    for (const l of depth.bids) {
      const i = bucketIndex(l.price);
      if (i >= 0) bid[i]! += l.qty;
    }
    for (const l of depth.asks) {
      const i = bucketIndex(l.price);
      if (i >= 0) ask[i]! += l.qty;
    }
  }
  for (const o of input.orders) {
    if (o.symbol !== input.symbol || !OPEN.has(o.status) || o.leaves <= 0) continue;
    const p = ladderPriceOf(o);
    if (p === null) continue;
    const i = bucketIndex(p);
    if (i < 0) continue;
    if (o.side === 'buy') {
      buyQty[i]! += o.leaves;
      buyIds[i]!.push(o.orderId);
    } else {
      sellQty[i]! += o.leaves;
      sellIds[i]!.push(o.orderId);
    }
  }
  if (input.volumeAtPrice !== undefined) {
    for (const [p, q] of input.volumeAtPrice) {
      const i = bucketIndex(p);
      if (i >= 0) vol[i]! += q;
    }
  }

  const bestBid = depth?.bids.reduce<number | null>((m, l) => (l.qty > 0 && (m === null || l.price > m) ? l.price : m), null) ?? null;
  const bestAsk = depth?.asks.reduce<number | null>((m, l) => (l.qty > 0 && (m === null || l.price < m) ? l.price : m), null) ?? null;
  const lastI = input.last === null ? -1 : bucketIndex(input.last);
  const bestBidI = bestBid === null ? -1 : bucketIndex(bestBid);
  const bestAskI = bestAsk === null ? -1 : bucketIndex(bestAsk);

  const rows: LadderRow[] = [];
  let maxBookSize = 0;
  let maxVolume = 0;
  for (let i = 0; i < count; i++) {
    const price = top - i * step;
    maxBookSize = Math.max(maxBookSize, bid[i]!, ask[i]!);
    maxVolume = Math.max(maxVolume, vol[i]!);
    rows.push({
      price,
      priceHigh: price + step - tick,
      bidSize: bid[i]!,
      askSize: ask[i]!,
      buyQty: buyQty[i]!,
      sellQty: sellQty[i]!,
      buyOrderIds: buyIds[i]!,
      sellOrderIds: sellIds[i]!,
      volume: vol[i]!,
      isLast: i === lastI,
      isBestBid: i === bestBidI,
      isBestAsk: i === bestAskI,
    });
  }
  return { rows, step, centerIndex, maxBookSize, maxVolume };
}

/** Where to centre: the last price, else the mid of the best bid/ask, else the given fallback. */
export function defaultCenter(last: number | null, depth: Depth | null, fallback: number): number {
  if (last !== null) return last;
  const bb = depth?.bids[0]?.price;
  const ba = depth?.asks[0]?.price;
  if (bb !== undefined && ba !== undefined) return Math.floor((bb + ba) / 2);
  return bb ?? ba ?? fallback;
}

/** Move the centre by whole rows (positive = up, towards higher prices). */
export function scrollCenter(center: number, rowsDelta: number, step: number): number {
  return floorTo(center, step) + rowsDelta * step;
}

// ---------------------------------------------------------------- clicks

export type LadderColumn = 'buyOrders' | 'bid' | 'price' | 'ask' | 'sellOrders' | 'volume';

export type LadderAction =
  | {
      readonly kind: 'place';
      readonly params: PlaceOrderParams;
      /** True when the limit would trade at once (a buy at or above the best ask, a sell at or below the best bid). */
      readonly marketable: boolean;
    }
  | { readonly kind: 'cancel'; readonly orderIds: readonly number[] }
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface LadderClickContext {
  readonly symbol: string;
  readonly qty: number;
  readonly lot: number;
  readonly tif?: TimeInForce;
  readonly bestBid: number | null;
  readonly bestAsk: number | null;
}

/**
 * A click in a column of a row:
 * - bid column → buy limit at the row price; ask column → sell limit at the row price. With grouped rows
 *   the buy goes at the bucket's lowest price and the sell at its highest: never more aggressive than the
 *   row the trader clicked.
 * - my buy/sell order cell → cancel those orders (none there: nothing happens).
 * - price and volume columns: nothing.
 */
export function ladderClick(row: LadderRow, column: LadderColumn, ctx: LadderClickContext): LadderAction {
  switch (column) {
    case 'bid':
    case 'ask': {
      if (!Number.isSafeInteger(ctx.qty) || ctx.qty <= 0) return { kind: 'invalid', reason: 'The order size must be a positive whole number of shares.' };
      if (ctx.qty % ctx.lot !== 0) return { kind: 'invalid', reason: `The order size must be a multiple of the lot (${ctx.lot}).` };
      const side = column === 'bid' ? 'buy' : 'sell';
      const price = side === 'buy' ? row.price : row.priceHigh;
      const marketable =
        side === 'buy' ? ctx.bestAsk !== null && price >= ctx.bestAsk : ctx.bestBid !== null && price <= ctx.bestBid;
      return {
        kind: 'place',
        params: { symbol: ctx.symbol, side, orderType: 'limit', qty: ctx.qty, price, tif: ctx.tif ?? 'day' },
        marketable,
      };
    }
    case 'buyOrders':
      return row.buyOrderIds.length === 0 ? { kind: 'none' } : { kind: 'cancel', orderIds: [...row.buyOrderIds] };
    case 'sellOrders':
      return row.sellOrderIds.length === 0 ? { kind: 'none' } : { kind: 'cancel', orderIds: [...row.sellOrderIds] };
    case 'price':
    case 'volume':
      return { kind: 'none' };
  }
}

// ---------------------------------------------------------------- volume at price

/** Volume at price accumulated from trade prints, each print counted once (by trade id). */
export class VolumeProfile {
  readonly #byPrice = new Map<number, number>();
  /** The highest trade id counted: a venue numbers its trades in order, so a lower or equal id is counted already. */
  #last = 0;
  #symbol: string;
  #venue: string;
  /** `venue`: whose trade ids these are (the connection or profile); another venue numbers its own. */
  constructor(symbol: string, venue = '') {
    this.#symbol = symbol;
    this.#venue = venue;
  }
  get symbol(): string {
    return this.#symbol;
  }
  get lastTradeId(): number {
    return this.#last;
  }
  get venue(): string {
    return this.#venue;
  }
  /** Adds prints (any order; already counted ones, by trade id, and other symbols ignored). Returns how many were new. */
  add(prints: Iterable<TradePrint>): number {
    const from = this.#last;
    let added = 0;
    let last = from;
    const batch = new Set<number>(); // a list may hold a print twice
    for (const p of prints) {
      if (p.symbol !== this.#symbol || p.tradeId <= from || batch.has(p.tradeId)) continue;
      batch.add(p.tradeId);
      this.#byPrice.set(p.price, (this.#byPrice.get(p.price) ?? 0) + p.qty);
      if (p.tradeId > last) last = p.tradeId;
      added++;
    }
    this.#last = last;
    return added;
  }
  /** Start over (a new session, symbol or venue). */
  reset(symbol = this.#symbol, venue = this.#venue): void {
    this.#symbol = symbol;
    this.#venue = venue;
    this.#byPrice.clear();
    this.#last = 0;
  }
  get byPrice(): ReadonlyMap<number, number> {
    return this.#byPrice;
  }
}
