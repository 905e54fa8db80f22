import { describe, expect, it } from 'vitest';
import type { OrderRecord } from '../../src/data/types.js';
import { MAX_ENDED_ORDERS, upsertBy, upsertOrderList } from '../../src/data/upsert.js';

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

describe('the cached order list', () => {
  const rec = (orderId: number, status: OrderRecord['status'], updatedTs = orderId): OrderRecord =>
    ({ orderId, accountId: 1, symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 100, price: 10000, tif: 'day', status, filledQty: 0, leaves: 100, ts: orderId, updatedTs }) as OrderRecord;
  const working = (o: OrderRecord) => o.status === 'working' || o.status === 'pending_trigger';

  it('keeps every working order and the newest 1,000 ended ones, newest first', () => {
    let list: OrderRecord[] = [];
    const push = (o: OrderRecord) => (list = upsertOrderList(list, o));
    for (let id = 1; id <= 5; id++) push(rec(id, id === 2 ? 'pending_trigger' : 'working'));
    for (let id = 6; id <= 12_000; id++) push(rec(id, id % 3 === 0 ? 'filled' : id % 3 === 1 ? 'canceled' : 'rejected'));
    expect(list.filter(working).map((o) => o.orderId)).toEqual([5, 4, 3, 2, 1]);
    const ended = list.filter((o) => !working(o));
    expect(ended).toHaveLength(MAX_ENDED_ORDERS);
    expect(ended[0]!.orderId).toBe(12_000);
    expect(ended.at(-1)!.orderId).toBe(12_000 - MAX_ENDED_ORDERS + 1);
    // a working order that ends counts among the ended ones, and a late (older) push does not undo it
    push(rec(3, 'canceled', 20_000));
    push(rec(3, 'working', 3));
    expect(list.find((o) => o.orderId === 3)!.status).toBe('canceled');
    expect(list.filter((o) => !working(o))).toHaveLength(MAX_ENDED_ORDERS);
    expect(list).toHaveLength(MAX_ENDED_ORDERS + 4);
    // a push of an order the list holds replaces it in place; the list passed in is never written
    const before = list;
    const copy = before.slice();
    push(rec(5, 'working', 30_000));
    expect(before).toEqual(copy);
    expect(list.findIndex((o) => o.orderId === 5)).toBe(before.findIndex((o) => o.orderId === 5));
  });
});
