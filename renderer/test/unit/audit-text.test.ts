import { describe, expect, it } from 'vitest';
import { actionSuggestions, detailsText } from '../../src/admin/audit-text.js';

describe("an audit entry's details, as the Admin panel shows them", () => {
  it('reads prices and amounts as money, exactly, and leaves counts and ids alone', () => {
    expect(detailsText({ symbol: 'ACME', side: 'buy', orderType: 'limit', qty: 1000, price: 9300, orderId: 41, via: 'ws' })).toBe(
      'symbol ACME · side buy · orderType limit · qty 1000 · price 93.00 · orderId 41 · via ws',
    );
    expect(detailsText({ type: 'Deposit', accountId: 7, amount: 123_456_789_01 })).toBe('type Deposit · accountId 7 · amount 123,456,789.01');
    expect(detailsText({ orderId: 3, qty: 5, stopPrice: 10_005, trailAmount: 25 })).toBe('orderId 3 · qty 5 · stopPrice 100.05 · trailAmount 0.25');
    // beyond exact integers, or not a number, it is shown as recorded
    expect(detailsText({ price: 2 ** 60, amount: '12', stopPrice: null })).toBe(`price ${2 ** 60} · amount 12 · stopPrice null`);
    expect(detailsText({ orderIds: [1, 2], username: 'carl', canceledOrders: 2 })).toBe('orderIds [1,2] · username carl · canceledOrders 2');
    expect(detailsText({})).toBe('');
  });
});

describe("the audit log's action filter suggestions", () => {
  it('are the actions shown and the groups above them, once each, in order', () => {
    const shown = ['order.place', 'admin.user.disable', 'order.place', 'auth.login', 'admin.Deposit', 'admin.user.role'].map((action) => ({ action }));
    expect(actionSuggestions(shown)).toEqual(['admin', 'admin.Deposit', 'admin.user', 'admin.user.disable', 'admin.user.role', 'auth', 'auth.login', 'order', 'order.place']);
    expect(actionSuggestions([])).toEqual([]);
  });
});
