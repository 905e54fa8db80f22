import { Engine, type EngineOptions } from './engine.js';
import { OcoGroup, Order } from './order.js';
import { Account, CandleSeries, IndexDef } from './state.js';
import type {
  AccountId,
  AccountLimits,
  Candle,
  InstrumentStatus,
  OrderId,
  OrderStatus,
  OrderType,
  Side,
  StpMode,
  TimeInForce,
  Timeframe,
} from './types.js';
import { TIMEFRAMES } from './types.js';

/**
 * A complete, canonical, JSON-safe image of the engine's state. Canonical: the same state always gives the
 * same JSON text (key order and list order are fixed), so `stateHash()` can hash the text and a restore of a
 * snapshot hashes equal to the original. The book implementation is not part of the state.
 */
export interface EngineSnapshot {
  v: 1;
  candleHistory: number;
  tradeSeq: number;
  bookSeq: number;
  session: number;
  lastTs: number;
  instruments: InstrumentSnap[];
  indexes: { name: string; baseValue: number; previousClose: number; constituents: [string, number, number][] }[];
  accounts: AccountSnap[];
  /** Live orders in acceptance order. */
  orders: OrderSnap[];
  /** OCO groups: [leg a, leg b, mode, resvCash, resvShares, resvPx]. */
  groups: [OrderId, OrderId, 'cancel' | 'reduce', number, number, number][];
}

interface InstrumentSnap {
  symbol: string;
  name: string;
  tick: number;
  lot: number;
  referencePrice: number;
  bandBps: number;
  previousClose: number;
  status: InstrumentStatus;
  last: number;
  lastSize: number;
  lastTs: number;
  volume: number;
  turnover: number;
  open: number;
  high: number;
  low: number;
  candles: Record<Timeframe, { cur: Candle | null; closed: Candle[] }>;
}

interface AccountSnap {
  id: AccountId;
  allowShort: boolean;
  limits: AccountLimits;
  cash: number;
  reservedCash: number;
  shortCost: number;
  realized: number;
  openOrders: number;
  dailyOrders: number;
  /** [symbol, qty, cost, reserved, realized] for every non-empty position, in symbol creation order. */
  positions: [string, number, number, number, number][];
  clientIds: [string, OrderId][];
}

interface OrderSnap {
  id: OrderId;
  accountId: AccountId;
  symbol: string;
  side: Side;
  origType: OrderType;
  type: OrderType;
  qty: number;
  leaves: number;
  price: number;
  stopPrice: number;
  trail: number;
  trailRef: number;
  tif: TimeInForce;
  postOnly: boolean;
  stp: StpMode;
  clientOrderId: string | null;
  ts: number;
  status: OrderStatus;
  resting: boolean;
  seq: number;
  resvCash: number;
  resvShares: number;
  resvPx: number;
  parentId: OrderId | null;
  childIds: OrderId[] | null;
}

function copyCandle(c: Candle): Candle {
  return { t: c.t, o: c.o, h: c.h, l: c.l, c: c.c, v: c.v };
}

/** An order as the snapshot holds it (`symbols`: the instruments' symbols by index). */
function orderSnap(o: Order, symbols: readonly string[]): OrderSnap {
  return {
    id: o.id,
    accountId: o.accountId,
    symbol: symbols[o.instIdx]!,
    side: o.side,
    origType: o.origType,
    type: o.type,
    qty: o.qty,
    leaves: o.leaves,
    price: o.price,
    stopPrice: o.stopPrice,
    trail: o.trail,
    trailRef: o.trailRef,
    tif: o.tif,
    postOnly: o.postOnly,
    stp: o.stp,
    clientOrderId: o.clientOrderId ?? null,
    ts: o.ts,
    status: o.status,
    resting: o.resting,
    seq: o.seq,
    resvCash: o.resvCash,
    resvShares: o.resvShares,
    resvPx: o.resvPx,
    parentId: o.parent?.id ?? null,
    childIds: o.children?.map((k) => k.id) ?? null,
  };
}

/** The arrays of a capture, given up for a later one to fill (OrderCapture.recycle). */
export interface CaptureArrays {
  readonly num: Float64Array;
  readonly tag: Uint8Array;
}

/** Numbers an order can change after it is placed, in OrderCapture's `num`: a row of NUM per order. */
const NUM = 11;
const ORDER_TYPES: readonly OrderType[] = ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'];
const LIVE_STATUSES: readonly OrderStatus[] = ['working', 'pending_trigger', 'pending_parent'];

/**
 * New arrays for a capture of up to `orders` orders. Written to for the first time (`num.fill(0)`), they
 * cost a page fault per 4 KB (about 10 µs each here), so an owner who can should write them through ahead
 * of the capture, a part per turn (as the venue does).
 */
export function captureArrays(orders: number): CaptureArrays {
  const n = Math.max(0, Math.ceil(orders));
  return { num: new Float64Array(n * NUM), tag: new Uint8Array(n) };
}

function code<T>(list: readonly T[], value: T): number {
  const k = list.indexOf(value);
  if (k < 0) throw new Error(`Cannot capture an order with ${String(value)}`);
  return k;
}

/**
 * The live orders as they were at one moment, copied cheaply: references to the orders for what an order
 * never changes (id, account, symbol, side, original type, time in force, post-only, STP, client id, time),
 * and what it can change packed into typed arrays (its numbers, and its type, status and resting flag as
 * one byte), so a capture allocates no object per order. Copied as OrderSnap objects, most of a large
 * book's time went to allocating and collecting them. `slice` builds the OrderSnap objects of a range,
 * as the engine held them when captured, whatever it did since; the venue serializes a large book a range
 * per turn of its event loop.
 *
 * Fresh memory is dear (each page is faulted in as it is first written), so a capture may take over the
 * arrays of an earlier one its owner has finished with: `recycle()` gives them up (that capture can no
 * longer be read, and keeps no reference to the orders), `Engine.capture(arrays)` takes them.
 *
 * `npm run bench:snapshot` measures what a capture blocks the venue's event loop for.
 */
export class OrderCapture {
  readonly length: number;
  private refs: Order[];
  private readonly symbols: string[];
  private num: Float64Array;
  private tag: Uint8Array;
  /** Child ids by position, for the few orders (brackets) that have children. */
  private readonly kids = new Map<number, OrderId[]>();

  constructor(e: Engine, arrays?: CaptureArrays) {
    const refs = [...e.orders.values()];
    const n = refs.length;
    this.length = n;
    this.refs = refs;
    this.symbols = e.insts.map((i) => i.symbol);
    let num = arrays?.num;
    let tag = arrays?.tag;
    if (num === undefined || tag === undefined || tag.length < n || num.length < n * NUM) ({ num, tag } = captureArrays(n + (n >> 3)));
    this.num = num;
    this.tag = tag;
    this.pack(n);
  }

  private pack(n: number): void {
    const { refs, num, tag } = this;
    for (let k = 0; k < n; k++) {
      const o = refs[k]!;
      const b = k * NUM;
      num[b] = o.qty;
      num[b + 1] = o.leaves;
      num[b + 2] = o.price;
      num[b + 3] = o.stopPrice;
      num[b + 4] = o.trail;
      num[b + 5] = o.trailRef;
      num[b + 6] = o.seq;
      num[b + 7] = o.resvCash;
      num[b + 8] = o.resvShares;
      num[b + 9] = o.resvPx;
      num[b + 10] = o.parent === null ? -1 : o.parent.id;
      tag[k] = code(ORDER_TYPES, o.type) | (code(LIVE_STATUSES, o.status) << 3) | (o.resting ? 32 : 0);
      if (o.children !== null) this.kids.set(k, o.children.map((c) => c.id));
    }
  }

  /** Gives up this capture's arrays for a later one to fill (see above); this one can no longer be read. */
  recycle(): CaptureArrays {
    const arrays = { num: this.num, tag: this.tag };
    this.num = new Float64Array(0);
    this.tag = new Uint8Array(0);
    this.refs = [];
    return arrays;
  }

  /** The orders from position `from` to `to` (exclusive), in acceptance order, as the snapshot holds them. */
  slice(from: number, to: number): OrderSnap[] {
    if (this.refs.length < this.length) throw new Error('This capture gave its arrays to a later one');
    const { refs, num, tag, symbols } = this;
    const end = Math.min(to, this.length);
    const out: OrderSnap[] = [];
    for (let k = Math.max(0, from); k < end; k++) {
      const o = refs[k]!;
      const b = k * NUM;
      const t = tag[k]!;
      const parent = num[b + 10]!;
      // the order as it is now, then what it may have changed since, as it was
      const r = orderSnap(o, symbols);
      r.type = ORDER_TYPES[t & 7]!;
      r.qty = num[b]!;
      r.leaves = num[b + 1]!;
      r.price = num[b + 2]!;
      r.stopPrice = num[b + 3]!;
      r.trail = num[b + 4]!;
      r.trailRef = num[b + 5]!;
      r.status = LIVE_STATUSES[(t >> 3) & 3]!;
      r.resting = (t & 32) !== 0;
      r.seq = num[b + 6]!;
      r.resvCash = num[b + 7]!;
      r.resvShares = num[b + 8]!;
      r.resvPx = num[b + 9]!;
      r.parentId = parent < 0 ? null : parent;
      r.childIds = this.kids.get(k) ?? null;
      out.push(r);
    }
    return out;
  }
}

/** An account's client ids as captured: its map, and how many of its first entries were there then. */
interface CapturedIds {
  map: Map<string, OrderId>;
  size: number;
}

/** The first `size` entries of a captured map, in insertion order, in chunks of up to `per`. */
function* idChunks(ids: CapturedIds, per: number): Generator<[string, OrderId][]> {
  const it = ids.map.entries();
  for (let done = 0; done < ids.size; ) {
    const chunk: [string, OrderId][] = [];
    for (const end = Math.min(ids.size, done + per); done < end; done++) chunk.push(it.next().value as [string, OrderId]);
    yield chunk;
  }
}

/** Client ids per piece of a capture's text (about 50 KB of JSON). */
const IDS_PER_PIECE = 2048;

/**
 * The engine's state at one moment, taken cheaply: `head` is the snapshot with an empty `orders` list and
 * empty client id lists (in their places among the keys); `orders` packs the orders (see OrderCapture), and
 * each account's client ids are kept as its map and the map's size then (a map is only added to, and
 * replaced at a session end, so its first `size` entries stay what they were). `snapshot()` builds the
 * whole EngineSnapshot; `pieces()` gives its JSON text in pieces of bounded work, so the venue can
 * serialize a large state a few pieces per turn of its event loop.
 */
export class StateCapture {
  constructor(
    readonly head: EngineSnapshot,
    readonly orders: OrderCapture,
    private readonly ids: readonly CapturedIds[],
  ) {}

  snapshot(): EngineSnapshot {
    return {
      ...this.head,
      accounts: this.head.accounts.map((a, k) => ({ ...a, clientIds: [...idChunks(this.ids[k]!, IDS_PER_PIECE)].flat() })),
      orders: this.orders.slice(0, this.orders.length),
    };
  }

  /**
   * The snapshot's JSON text in pieces: joined, exactly JSON.stringify(this.snapshot()). Each piece is a
   * bounded amount of work: the head's small values, one instrument (with its candles), one account, up
   * to 2,048 of an account's client ids, or up to `ordersPerPiece` orders.
   */
  *pieces(ordersPerPiece = 250): Generator<string> {
    const head = this.head as unknown as Record<string, unknown>;
    let sep = '{';
    for (const key of Object.keys(head)) {
      const name = `${sep}${JSON.stringify(key)}:`;
      sep = ',';
      if (key === 'instruments') {
        yield `${name}[`;
        for (let k = 0; k < this.head.instruments.length; k++) yield (k > 0 ? ',' : '') + JSON.stringify(this.head.instruments[k]);
        yield ']';
      } else if (key === 'accounts') {
        yield `${name}[`;
        for (let k = 0; k < this.head.accounts.length; k++) yield* this.accountPieces(k);
        yield ']';
      } else if (key === 'orders') {
        yield `${name}[`;
        const per = Math.max(1, Math.floor(ordersPerPiece));
        for (let k = 0; k < this.orders.length; k += per) {
          const json = JSON.stringify(this.orders.slice(k, k + per));
          yield (k > 0 ? ',' : '') + json.slice(1, -1);
        }
        yield ']';
      } else yield name + JSON.stringify(head[key]);
    }
    yield '}';
  }

  private *accountPieces(k: number): Generator<string> {
    const json = JSON.stringify(this.head.accounts[k]);
    // clientIds is an account's last key: its JSON ends with the empty list, which the ids then fill
    if (!json.endsWith('"clientIds":[]}')) throw new Error('An account snapshot must end with its client ids');
    yield (k > 0 ? ',' : '') + json.slice(0, -2);
    let sep = '';
    for (const chunk of idChunks(this.ids[k]!, IDS_PER_PIECE)) {
      yield sep + JSON.stringify(chunk).slice(1, -1);
      sep = ',';
    }
    yield ']}';
  }
}

/** Captures the engine's state (see StateCapture), into `arrays` when given (see OrderCapture). */
export function captureEngine(e: Engine, arrays?: CaptureArrays): StateCapture {
  const ids: CapturedIds[] = [];
  const head = stateHead(e, ids);
  return new StateCapture(head, new OrderCapture(e, arrays), ids);
}

/**
 * The snapshot without its orders (an empty list in their place), and with the accounts' client ids;
 * with `captured`, their maps and sizes are put there instead (in the accounts' order) and the lists left
 * empty. Closed candles never change once closed, so it shares them with the engine (copying the lists, not
 * the candles): a snapshot is read-only.
 */
function stateHead(e: Engine, captured?: CapturedIds[]): EngineSnapshot {
  const instruments: InstrumentSnap[] = e.insts.map((i) => {
    const candles = {} as InstrumentSnap['candles'];
    for (const tf of TIMEFRAMES) {
      const s = i.candles[tf];
      candles[tf] = { cur: s.cur === null ? null : copyCandle(s.cur), closed: s.closed.slice() };
    }
    return {
      symbol: i.symbol,
      name: i.name,
      tick: i.tick,
      lot: i.lot,
      referencePrice: i.referencePrice,
      bandBps: i.bandBps,
      previousClose: i.previousClose,
      status: i.status,
      last: i.last,
      lastSize: i.lastSize,
      lastTs: i.lastTs,
      volume: i.volume,
      turnover: i.turnover,
      open: i.open,
      high: i.high,
      low: i.low,
      candles,
    };
  });
  const accounts: AccountSnap[] = [...e.accounts.values()]
    .sort((a, b) => a.id - b.id)
    .map((a) => {
      const positions: AccountSnap['positions'] = [];
      for (const inst of e.insts) {
        const p = a.positions.get(inst.idx);
        if (p === undefined || (p.qty === 0 && p.cost === 0 && p.reserved === 0 && p.realized === 0)) continue;
        positions.push([inst.symbol, p.qty, p.cost, p.reserved, p.realized]);
      }
      let clientIds: AccountSnap['clientIds'] = [];
      if (captured === undefined) clientIds = [...a.clientIds.entries()];
      else captured.push({ map: a.clientIds, size: a.clientIds.size });
      return {
        id: a.id,
        allowShort: a.allowShort,
        limits: { ...a.limits },
        cash: a.cash,
        reservedCash: a.reservedCash,
        shortCost: a.shortCost,
        realized: a.realized,
        openOrders: a.openOrders,
        dailyOrders: a.dailyOrders,
        positions,
        clientIds,
      };
    });
  const groups: EngineSnapshot['groups'] = [...e.groups]
    .map((g): EngineSnapshot['groups'][number] => [g.a.id, g.b.id, g.mode, g.resvCash, g.resvShares, g.resvPx])
    .sort((x, y) => x[0] - y[0]);
  return {
    v: 1,
    candleHistory: e.opts.candleHistory,
    tradeSeq: e.tradeSeq,
    bookSeq: e.bookSeq,
    session: e.session,
    lastTs: e.lastTs,
    instruments,
    indexes: [...e.indexes.values()].map((x) => ({
      name: x.name,
      baseValue: x.baseValue,
      previousClose: x.previousClose,
      constituents: x.constituents.map((c): [string, number, number] => [c.inst.symbol, c.weightBps, c.basePrice]),
    })),
    accounts,
    orders: [],
    groups,
  };
}

export function snapshotEngine(e: Engine): EngineSnapshot {
  const symbols = e.insts.map((i) => i.symbol);
  const orders: OrderSnap[] = [];
  for (const o of e.orders.values()) orders.push(orderSnap(o, symbols));
  return { ...stateHead(e), orders };
}

/** Rebuilds an engine from a snapshot; `book` picks the book implementation. */
export function restoreEngine(s: EngineSnapshot, opts: Omit<EngineOptions, 'candleHistory'> = {}): Engine {
  if (s.v !== 1) throw new Error(`Unsupported engine snapshot version ${String(s.v)}`);
  const e = new Engine({ ...opts, candleHistory: s.candleHistory });
  for (const i of s.instruments) {
    // built as they were, not validated again as a CreateInstrument: a session's end may have moved the
    // reference price past what CreateInstrument accepts
    const inst = e.newInstrument(i.symbol, i.name, i.tick, i.lot, i.referencePrice, i.bandBps, i.previousClose, i.status);
    e.addInstrument(inst);
    Object.assign(inst, {
      last: i.last,
      lastSize: i.lastSize,
      lastTs: i.lastTs,
      volume: i.volume,
      turnover: i.turnover,
      open: i.open,
      high: i.high,
      low: i.low,
    });
    for (const tf of TIMEFRAMES) {
      const src = i.candles[tf];
      const dst: CandleSeries = inst.candles[tf];
      dst.cur = src.cur === null ? null : copyCandle(src.cur);
      dst.closed.push(...src.closed.map(copyCandle));
    }
  }
  for (const x of s.indexes) {
    const idx = new IndexDef(
      x.name,
      x.baseValue,
      x.constituents.map(([sym, w, bp]) => ({ inst: e.instBySymbol.get(sym)!, weightBps: w, basePrice: bp })),
    );
    idx.previousClose = x.previousClose;
    e.indexes.set(x.name, idx);
  }
  for (const a of s.accounts) {
    const acct = new Account(a.id, a.allowShort, { ...a.limits });
    acct.cash = a.cash;
    acct.reservedCash = a.reservedCash;
    acct.shortCost = a.shortCost;
    acct.realized = a.realized;
    acct.openOrders = a.openOrders;
    acct.dailyOrders = a.dailyOrders;
    for (const [sym, qty, cost, reserved, realized] of a.positions) {
      const p = acct.pos(e.instBySymbol.get(sym)!.idx);
      p.qty = qty;
      p.cost = cost;
      p.reserved = reserved;
      p.realized = realized;
    }
    for (const [cid, id] of a.clientIds) acct.clientIds.set(cid, id);
    e.accounts.set(a.id, acct);
  }
  for (const r of s.orders) {
    const inst = e.instBySymbol.get(r.symbol)!;
    const o = new Order(
      r.id,
      r.accountId,
      inst.idx,
      r.side,
      r.origType,
      r.qty,
      r.price,
      r.stopPrice,
      r.trail,
      r.tif,
      r.postOnly,
      r.stp,
      r.clientOrderId ?? undefined,
      r.ts,
    );
    o.type = r.type;
    o.leaves = r.leaves;
    o.trailRef = r.trailRef;
    o.status = r.status;
    o.seq = r.seq;
    o.resvCash = r.resvCash;
    o.resvShares = r.resvShares;
    o.resvPx = r.resvPx;
    e.orders.set(o.id, o);
  }
  for (const r of s.orders) {
    const o = e.orders.get(r.id)!;
    if (r.parentId !== null) o.parent = e.orders.get(r.parentId) ?? null;
    if (r.childIds !== null) o.children = r.childIds.map((id) => e.orders.get(id)!);
  }
  for (const [a, b, mode, cash, shares, px] of s.groups) {
    const g = new OcoGroup(e.orders.get(a)!, e.orders.get(b)!, mode);
    g.resvCash = cash;
    g.resvShares = shares;
    g.resvPx = px;
    g.a.oco = g;
    g.b.oco = g;
    e.groups.add(g);
  }
  // rebuild books and stop lists in priority order
  const resting = new Set(s.orders.filter((r) => r.resting).map((r) => r.id));
  const live = [...e.orders.values()].sort((x, y) => x.seq - y.seq);
  for (const o of live) {
    const inst = e.insts[o.instIdx]!;
    if (resting.has(o.id)) {
      o.resting = true;
      inst.book.add(o);
    } else if (o.status === 'pending_trigger') {
      if (o.type === 'trailing_stop') inst.trailing.push(o);
      else (o.side === 'buy' ? inst.buyStops : inst.sellStops).push(o);
    }
  }
  for (const inst of e.insts) {
    inst.buyStops.sort((x, y) => x.stopPrice - y.stopPrice || x.seq - y.seq);
    inst.sellStops.sort((x, y) => y.stopPrice - x.stopPrice || x.seq - y.seq);
  }
  e.tradeSeq = s.tradeSeq;
  e.bookSeq = s.bookSeq;
  e.session = s.session;
  e.lastTs = s.lastTs;
  return e;
}

/** 64-bit FNV-1a over UTF-16 code units, as 16 hex digits. */
export function hashText(text: string): string {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0xcbf29ce4 | 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x100001b3) ^ (h1 >>> 15);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/**
 * hashText over text given in pieces: `new TextHasher().update(a).update(b).digest() === hashText(a + b)`,
 * so a long text can be hashed as it is produced, a part at a time, without being joined first.
 */
export class TextHasher {
  #h1 = 0x811c9dc5 | 0;
  #h2 = 0xcbf29ce4 | 0;

  /** Adds `text` (or its code units from `start` to `end`). */
  update(text: string, start = 0, end = text.length): this {
    let h1 = this.#h1;
    let h2 = this.#h2;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x100001b3) ^ (h1 >>> 15);
    }
    this.#h1 = h1;
    this.#h2 = h2;
    return this;
  }

  digest(): string {
    return (this.#h1 >>> 0).toString(16).padStart(8, '0') + (this.#h2 >>> 0).toString(16).padStart(8, '0');
  }
}

export function stateHash(e: Engine): string {
  return hashText(JSON.stringify(snapshotEngine(e)));
}
