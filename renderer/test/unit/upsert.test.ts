import { describe, expect, it } from 'vitest';
import { upsertBy } from '../../src/data/upsert.js';

describe('a cached list with one pushed item', () => {
  const list = [
    { id: 1, name: 'a', on: true },
    { id: 2, name: 'b', on: false },
  ];
  it('replaces the item, appends a new one, and keeps the very list when nothing changed', () => {
    const changed = upsertBy(list, { id: 2, name: 'b', on: true }, (x) => x.id === 2)!;
    expect(changed).toEqual([list[0], { id: 2, name: 'b', on: true }]);
    expect(changed).not.toBe(list);
    expect(changed[0]).toBe(list[0]);
    expect(list[1]!.on).toBe(false); // the cached list is never written in place
    expect(upsertBy(list, { id: 3, name: 'c', on: true }, (x) => x.id === 3)).toEqual([...list, { id: 3, name: 'c', on: true }]);
    // equal field by field: the same list, so nothing re-renders
    expect(upsertBy(list, { id: 1, name: 'a', on: true }, (x) => x.id === 1)).toBe(list);
    // a field more or less is a change
    expect(upsertBy<{ id: number; name: string; on: boolean; extra?: number }>(list, { id: 1, name: 'a', on: true, extra: 1 }, (x) => x.id === 1)).not.toBe(list);
    // not loaded yet: stays so (the list's own answer holds the item)
    expect(upsertBy(undefined, { id: 1, name: 'a', on: true }, () => true)).toBeUndefined();
  });
});
