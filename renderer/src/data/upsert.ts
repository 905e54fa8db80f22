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
