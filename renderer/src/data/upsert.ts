/**
 * A cached list with one item pushed by a stream: replaced where `same` finds it, else appended. The list as
 * it was when nothing changed (a stream that starts with the whole list re-renders nothing), and undefined
 * while the list has not loaded: a list read over the same connection as the stream was answered after the
 * push and holds the item; one read otherwise must be read again (see the Admin panel's users).
 */
export function upsertBy<T extends object>(prev: T[] | undefined, item: T, same: (x: T) => boolean): T[] | undefined {
  if (prev === undefined) return prev;
  const at = prev.findIndex(same);
  if (at < 0) return [...prev, item];
  const was = prev[at]!;
  const keysOf = Object.keys(item) as (keyof T)[];
  if (keysOf.length === Object.keys(was).length && keysOf.every((k) => was[k] === item[k])) return prev;
  const next = prev.slice();
  next[at] = item;
  return next;
}

/** Ended orders (filled, canceled, rejected) the cached order list keeps, the newest; working ones all stay. */
export const MAX_ENDED_ORDERS = 1000;

const isWorking = (status: string): boolean => status === 'working' || status === 'pending_trigger' || status === 'pending_parent';

/**
 * The order list (newest first) with one order pushed: a new order goes first, a known one is replaced
 * unless the push is older than what the list holds. Every working order stays; of the ended ones only
 * the `maxEnded` that ended last (by updatedTs) do, so a long session's list (and each push's search
 * through it) stays bounded.
 */
export function upsertOrderList<T extends { orderId: number; updatedTs: number; status: string }>(prev: readonly T[] | undefined, o: T, maxEnded = MAX_ENDED_ORDERS): T[] {
  const list = prev ?? [];
  const i = list.findIndex((x) => x.orderId === o.orderId);
  if (i >= 0 && list[i]!.updatedTs > o.updatedTs) return list as T[];
  let next: T[];
  if (i < 0) next = [o, ...list];
  else {
    next = list.slice();
    next[i] = o;
  }
  if (next.length <= maxEnded) return next;
  let ended = 0;
  for (const x of next) if (!isWorking(x.status)) ended++;
  // one over, as a rule (one order ended or arrived ended): drop the one that ended first
  for (; ended > maxEnded; ended--) {
    let oldest = -1;
    for (let j = 0; j < next.length; j++) {
      const x = next[j]!;
      if (!isWorking(x.status) && (oldest < 0 || x.updatedTs < next[oldest]!.updatedTs)) oldest = j;
    }
    next.splice(oldest, 1);
  }
  return next;
}
