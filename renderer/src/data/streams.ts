/**
 * The bookkeeping of shared streams: one protocol subscription per channel + params, however many panels
 * want it, kept open while any of them holds it (and a moment longer, so a panel that re-mounts does not
 * close and reopen it). Every `retain` is its own subscriber, counted on its own even when it passes the same
 * handler function as another (several panels pass live.upsertOrder for the orders): the handler runs once
 * per push while any of them holds it, and one letting go leaves the others' handler in place.
 */
import type { ChannelData, ChannelName, ChannelParams, ConnectionSubscription, ConnectionSubscriptionHandlers } from '../../../engine/protocol/index.js';

/** Opens a protocol subscription (the Connection's `subscribe`). */
export type OpenStream = <C extends ChannelName>(channel: C, params: ChannelParams<C>, handlers: ConnectionSubscriptionHandlers<C>) => ConnectionSubscription;

/**
 * A multiset of functions: each add counts, each remove takes one count back, and a function is listed
 * (once) while its count is above zero.
 */
export class RefCounted<F> {
  #counts = new Map<F, number>();
  #size = 0;

  add(f: F): void {
    this.#counts.set(f, (this.#counts.get(f) ?? 0) + 1);
    this.#size++;
  }

  /** Takes back one count of `f`; false when `f` was not held. */
  remove(f: F): boolean {
    const n = this.#counts.get(f);
    if (n === undefined) return false;
    if (n > 1) this.#counts.set(f, n - 1);
    else this.#counts.delete(f);
    this.#size--;
    return true;
  }

  /** The distinct functions held, each once. */
  items(): IterableIterator<F> {
    return this.#counts.keys();
  }

  /** How many adds are held (a function added twice counts twice). */
  get size(): number {
    return this.#size;
  }
}

type Listener = (v: unknown) => void;

interface Stream {
  sub: ConnectionSubscription;
  handlers: RefCounted<Listener>;
  resubs: RefCounted<() => void>;
  stop?: ReturnType<typeof setTimeout> | undefined;
}

export class SharedStreams {
  readonly #open: OpenStream;
  readonly #graceMs: number;
  #streams = new Map<string, Stream>();

  /** `graceMs`: how long a stream nobody holds stays open, for a subscriber that comes back. */
  constructor(open: OpenStream, graceMs = 1000) {
    this.#open = open;
    this.#graceMs = graceMs;
  }

  /**
   * Holds the stream of `channel` + `params` (opening it when none is open) and calls `onData` with its
   * pushes and `onResubscribed` after reconnects (refetch snapshots), until the function returned is called.
   */
  retain<C extends ChannelName>(channel: C, params: ChannelParams<C>, onData: (d: ChannelData<C>) => void, onResubscribed?: () => void): () => void {
    const key = streamKey(channel, params);
    let s = this.#streams.get(key);
    if (s !== undefined && !s.sub.active) {
      // Ended for good (refused, or the connection was closed by sign-out): open a fresh one.
      if (s.stop !== undefined) clearTimeout(s.stop);
      this.#streams.delete(key);
      s = undefined;
    }
    if (s === undefined) {
      const handlers = new RefCounted<Listener>();
      const resubs = new RefCounted<() => void>();
      let created: Stream | undefined;
      const sub = this.#open(channel, params, {
        data: (d) => {
          for (const h of handlers.items()) h(d);
        },
        resubscribed: () => {
          for (const r of resubs.items()) r();
        },
        error: () => {
          // refused: the next retain opens a fresh stream (unless one already replaced this)
          if (created !== undefined && this.#streams.get(key) === created) this.#streams.delete(key);
        },
      });
      s = created = { sub, handlers, resubs };
      this.#streams.set(key, s);
    }
    const entry = s;
    if (entry.stop !== undefined) {
      clearTimeout(entry.stop);
      entry.stop = undefined;
    }
    const handler = onData as Listener;
    entry.handlers.add(handler);
    if (onResubscribed) entry.resubs.add(onResubscribed);
    let released = false;
    return () => {
      // a second call of the same release must not take another subscriber's share
      if (released) return;
      released = true;
      entry.handlers.remove(handler);
      if (onResubscribed) entry.resubs.remove(onResubscribed);
      if (entry.handlers.size > 0) return;
      entry.stop = setTimeout(() => {
        if (entry.handlers.size > 0) return;
        if (this.#streams.get(key) === entry) this.#streams.delete(key);
        void entry.sub.unsubscribe();
      }, this.#graceMs);
    };
  }

  /** How many subscribers hold the stream of `channel` + `params` (0 when none is open). */
  subscribers<C extends ChannelName>(channel: C, params: ChannelParams<C>): number {
    return this.#streams.get(streamKey(channel, params))?.handlers.size ?? 0;
  }
}

const streamKey = (channel: string, params: unknown): string => `${channel}|${JSON.stringify(params)}`;

/**
 * The venue's clock as far as the client knows it: the latest time the venue stamped on anything it sent (a
 * quote, an order, a fill, a trade). In the simulation the venue's clock is not the wall clock; what the
 * client stamps itself (a refusal for the blotter) is stamped with this one, so it reads and sorts with the
 * venue's records around it.
 */
export class VenueClock {
  #ts = 0;
  readonly #wall: () => number;

  constructor(wall: () => number = Date.now) {
    this.#wall = wall;
  }

  /** Notes a time the venue stamped. */
  note(ts: number): void {
    if (ts > this.#ts) this.#ts = ts;
  }

  /** The latest venue time seen; the wall clock before anything came. */
  now(): number {
    return this.#ts > 0 ? this.#ts : this.#wall();
  }
}
