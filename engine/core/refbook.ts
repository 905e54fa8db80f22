import type { Book } from './book.js';
import type { Order } from './order.js';
import type { DepthLevel, Price, Qty, Side } from './types.js';

/**
 * A deliberately simple reference book: each side is one array kept sorted by (price, entry sequence).
 * Slow (O(n) insert and cancel) and obviously right; the model tests run the engine on it and on the fast
 * book and demand identical events and state hashes.
 */
export class RefBook implements Book {
  private readonly bids: Order[] = [];
  private readonly asks: Order[] = [];

  get size(): number {
    return this.bids.length + this.asks.length;
  }

  private sideOf(side: Side): Order[] {
    return side === 'buy' ? this.bids : this.asks;
  }

  /** True when a should come before b in priority. */
  private static before(a: Order, b: Order): boolean {
    if (a.price !== b.price) return a.side === 'buy' ? a.price > b.price : a.price < b.price;
    return a.seq < b.seq;
  }

  add(o: Order): void {
    const arr = this.sideOf(o.side);
    let i = arr.length;
    while (i > 0 && RefBook.before(o, arr[i - 1]!)) i--;
    arr.splice(i, 0, o);
  }

  remove(o: Order): void {
    const arr = this.sideOf(o.side);
    const i = arr.indexOf(o);
    if (i < 0) throw new Error(`order ${o.id} is not in the book`);
    arr.splice(i, 1);
  }

  reduce(o: Order, by: Qty): void {
    o.leaves -= by;
  }

  best(side: Side): Order | null {
    return this.sideOf(side)[0] ?? null;
  }

  next(o: Order): Order | null {
    const arr = this.sideOf(o.side);
    return arr[arr.indexOf(o) + 1] ?? null;
  }

  bestPrice(side: Side): Price {
    return this.sideOf(side)[0]?.price ?? 0;
  }

  bestQty(side: Side): Qty {
    return this.depth(side, 1)[0]?.qty ?? 0;
  }

  depth(side: Side, n: number): DepthLevel[] {
    const out: DepthLevel[] = [];
    for (const o of this.sideOf(side)) {
      const last = out[out.length - 1];
      if (last !== undefined && last.price === o.price) {
        last.qty += o.leaves;
        last.orders++;
      } else {
        if (out.length === n) break;
        out.push({ price: o.price, qty: o.leaves, orders: 1 });
      }
    }
    return out;
  }
}
