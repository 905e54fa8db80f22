import { Level, type Order } from './order.js';
import type { DepthLevel, Price, Qty, Side } from './types.js';

/**
 * One side-aware order book for one symbol, price-time priority. The engine owns the orders and their
 * quantities; a book only keeps them in priority order. Two implementations exist: the fast book below and
 * a deliberately simple reference book (refbook.ts); one contract test suite runs the engine on both.
 */
export interface Book {
  /** Rests an order at the back of its price level (o.price, o.side, o.leaves are set). */
  add(o: Order): void;
  /** Takes a resting order out of the book, whatever its position. */
  remove(o: Order): void;
  /** Lowers a resting order's open quantity in place, keeping its priority. */
  reduce(o: Order, by: Qty): void;
  /** The first order in priority on a side, or null. */
  best(side: Side): Order | null;
  /** The order after `o` in priority on its side (crossing into worse levels), or null. */
  next(o: Order): Order | null;
  /** Best price on a side, or 0 when the side is empty. O(1). */
  bestPrice(side: Side): Price;
  /** Best price's total open quantity on a side (0 when empty). */
  bestQty(side: Side): Qty;
  /** Top-N levels on a side, best first. */
  depth(side: Side, levels: number): DepthLevel[];
  /** Number of resting orders. */
  readonly size: number;
}

// ------------------------------------------------------------------------------------------ bit helpers

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Lowest set bit index >= from, or -1. */
function scanUp(bits: Uint32Array, from: number): number {
  let w = from >>> 5;
  if (w >= bits.length) return -1;
  let word = bits[w]! & (0xffffffff << (from & 31));
  for (;;) {
    if (word !== 0) return (w << 5) + ctz32(word);
    if (++w >= bits.length) return -1;
    word = bits[w]!;
  }
}

/** Highest set bit index <= from, or -1. */
function scanDown(bits: Uint32Array, from: number): number {
  if (from < 0) return -1;
  let w = from >>> 5;
  const b = from & 31;
  let word = b === 31 ? bits[w]! : bits[w]! & ((1 << (b + 1)) - 1);
  for (;;) {
    if (word !== 0) return (w << 5) + 31 - Math.clz32(word);
    if (--w < 0) return -1;
    word = bits[w]!;
  }
}

/**
 * One side of the fast book: price levels in an array indexed by (price / tick - base), a bitmap of
 * non-empty levels for finding the next best level with a few word scans, and intrusive doubly linked
 * FIFO lists per level so cancel is O(1) however many orders share a price.
 */
class FastSide {
  levels: (Level | undefined)[];
  bits: Uint32Array;
  /** Index of the best non-empty level, or -1. */
  bestIdx = -1;
  constructor(
    capacity: number,
    private readonly isBid: boolean,
  ) {
    this.levels = new Array<Level | undefined>(capacity);
    this.bits = new Uint32Array(capacity >>> 5);
  }

  grow(capacity: number, shift: number): void {
    const levels = new Array<Level | undefined>(capacity);
    const bits = new Uint32Array(capacity >>> 5);
    for (let i = 0; i < this.levels.length; i++) {
      const l = this.levels[i];
      if (l !== undefined) {
        const j = i + shift;
        levels[j] = l;
        if (l.count > 0) bits[j >>> 5]! |= 1 << (j & 31);
      }
    }
    this.levels = levels;
    this.bits = bits;
    if (this.bestIdx >= 0) this.bestIdx += shift;
  }

  markNonEmpty(i: number): void {
    this.bits[i >>> 5]! |= 1 << (i & 31);
    if (this.bestIdx < 0 || (this.isBid ? i > this.bestIdx : i < this.bestIdx)) this.bestIdx = i;
  }

  markEmpty(i: number): void {
    this.bits[i >>> 5]! &= ~(1 << (i & 31));
    if (i === this.bestIdx) this.bestIdx = this.isBid ? scanDown(this.bits, i) : scanUp(this.bits, i);
  }

  /** The next non-empty level index after i in priority order, or -1. */
  after(i: number): number {
    return this.isBid ? scanDown(this.bits, i - 1) : scanUp(this.bits, i + 1);
  }
}

export class FastBook implements Book {
  size = 0;
  /** Price (in ticks) of index 0. */
  private base: number;
  private cap: number;
  private readonly bids: FastSide;
  private readonly asks: FastSide;

  constructor(
    private readonly tick: Price,
    centerPrice: Price,
    initialSpanTicks = 4096,
  ) {
    let cap = 1024;
    while (cap < initialSpanTicks * 2) cap *= 2;
    this.cap = cap;
    this.base = Math.max(0, Math.floor(centerPrice / tick) - cap / 2);
    this.bids = new FastSide(cap, true);
    this.asks = new FastSide(cap, false);
  }

  private indexOf(price: Price): number {
    let i = price / this.tick - this.base;
    if (i < 0 || i >= this.cap) {
      this.regrow(price / this.tick);
      i = price / this.tick - this.base;
    }
    return i;
  }

  private regrow(ticks: number): void {
    const lo = Math.min(this.base, ticks);
    const hi = Math.max(this.base + this.cap - 1, ticks);
    let cap = this.cap;
    while (cap < (hi - lo + 1) * 2) cap *= 2;
    const newBase = Math.max(0, Math.min(lo - ((cap - (hi - lo + 1)) >> 1), lo));
    const shift = this.base - newBase;
    this.bids.grow(cap, shift);
    this.asks.grow(cap, shift);
    this.base = newBase;
    this.cap = cap;
  }

  add(o: Order): void {
    const side = o.side === 'buy' ? this.bids : this.asks;
    const i = this.indexOf(o.price);
    let l = side.levels[i];
    if (l === undefined) {
      l = new Level(o.price);
      side.levels[i] = l;
    }
    o.level = l;
    o.next = null;
    o.prev = l.tail;
    if (l.tail === null) {
      l.head = o;
      side.markNonEmpty(i);
    } else l.tail.next = o;
    l.tail = o;
    l.total += o.leaves;
    l.count++;
    this.size++;
  }

  remove(o: Order): void {
    const l = o.level!;
    if (o.prev === null) l.head = o.next;
    else o.prev.next = o.next;
    if (o.next === null) l.tail = o.prev;
    else o.next.prev = o.prev;
    l.total -= o.leaves;
    l.count--;
    o.prev = o.next = null;
    o.level = null;
    this.size--;
    if (l.count === 0) {
      const side = o.side === 'buy' ? this.bids : this.asks;
      side.markEmpty(l.price / this.tick - this.base);
    }
  }

  reduce(o: Order, by: Qty): void {
    o.level!.total -= by;
    o.leaves -= by;
  }

  best(side: Side): Order | null {
    const s = side === 'buy' ? this.bids : this.asks;
    return s.bestIdx < 0 ? null : s.levels[s.bestIdx]!.head;
  }

  next(o: Order): Order | null {
    if (o.next !== null) return o.next;
    const s = o.side === 'buy' ? this.bids : this.asks;
    const j = s.after(o.level!.price / this.tick - this.base);
    return j < 0 ? null : s.levels[j]!.head;
  }

  bestPrice(side: Side): Price {
    const s = side === 'buy' ? this.bids : this.asks;
    return s.bestIdx < 0 ? 0 : s.levels[s.bestIdx]!.price;
  }

  bestQty(side: Side): Qty {
    const s = side === 'buy' ? this.bids : this.asks;
    return s.bestIdx < 0 ? 0 : s.levels[s.bestIdx]!.total;
  }

  depth(side: Side, n: number): DepthLevel[] {
    const s = side === 'buy' ? this.bids : this.asks;
    const out: DepthLevel[] = [];
    let i = s.bestIdx;
    while (i >= 0 && out.length < n) {
      const l = s.levels[i]!;
      out.push({ price: l.price, qty: l.total, orders: l.count });
      i = s.after(i);
    }
    return out;
  }
}
