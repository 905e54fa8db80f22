// The history writer's order record of a bracket child waiting for its symbol to reopen after its entry ended
// during a halt: the entry's end cuts it to what the entry filled (an OrderReplaced), and a cancel meanwhile
// records the quantity it held.
import { describe, expect, it } from 'vitest';
import { Venue } from '../../venue/index.js';
import { tempDb } from './helpers.js';

describe('history of a bracket child canceled during a halt', () => {
  it('records the quantity the child held, as the engine has it', async () => {
    const v = Venue.open(tempDb(), { synchronous: 'NORMAL', history: true });
    try {
      await v.submit({ type: 'CreateInstrument', instrument: { symbol: 'ACME', name: 'Acme', tickSize: 1, lotSize: 1, referencePrice: 100, bandBps: 5000 } });
      await v.submit({ type: 'OpenAccount', accountId: 1 });
      await v.submit({ type: 'Deposit', accountId: 1, amount: 100_000 });
      await v.submit({ type: 'OpenAccount', accountId: 99, allowShort: true });
      await v.submit({ type: 'Deposit', accountId: 99, amount: 1e9 });
      const entry = await v.submit({
        type: 'PlaceOrder',
        accountId: 1,
        symbol: 'ACME',
        side: 'buy',
        orderType: 'limit',
        qty: 10,
        price: 100,
        tif: 'gtc',
        bracket: { takeProfit: { price: 105 }, stopLoss: { stopPrice: 95 } },
      } as never);
      const [entryId, tp, sl] = (entry as { orderIds: number[] }).orderIds;
      await v.submit({ type: 'PlaceOrder', accountId: 99, symbol: 'ACME', side: 'sell', orderType: 'limit', qty: 4, price: 100, tif: 'gtc' });
      await v.submit({ type: 'SetInstrumentStatus', symbol: 'ACME', status: 'halted' });
      await v.submit({ type: 'CancelOrder', accountId: 1, orderId: entryId! });
      // while they wait, the children's records show the quantity the engine holds for them
      expect(v.order(tp!)).toMatchObject({ status: 'pending_parent', qty: 4, leaves: 4 });
      expect(v.order(sl!)).toMatchObject({ status: 'pending_parent', qty: 4, leaves: 4 });
      expect(v.view.order(sl!)).toMatchObject({ qty: 4, leaves: 4 });
      await v.submit({ type: 'CancelOrder', accountId: 1, orderId: tp! });
      expect(v.order(tp!)).toMatchObject({ status: 'canceled', qty: 4, filledQty: 0, leaves: 0 });
      // the other child goes live at the reopen with the same quantity
      await v.submit({ type: 'SetInstrumentStatus', symbol: 'ACME', status: 'open' });
      expect(v.order(sl!)).toMatchObject({ qty: 4 });
    } finally {
      v.close({ snapshot: false });
    }
  });
});
