import { describe, expect, it } from 'vitest';
import { Engine, type Command } from '../../../engine/core/index.js';
import { CODES, ProtocolError, RESULT_CODES } from '../../../engine/protocol/index.js';
import { CANCEL_REASONS, REASONS, reasonFor, throttledSignIn, waitInWords } from '../../src/format/reasons.js';
import { CancelReasonSchema } from '../../../engine/protocol/index.js';

describe('every result code has words for the trader', () => {
  it('has a sentence for each code in CODES, and nothing else', () => {
    expect(Object.keys(REASONS).sort()).toEqual([...RESULT_CODES].sort());
    for (const code of Object.keys(CODES)) {
      const text = reasonFor(code);
      expect(text.length, code).toBeGreaterThan(8);
      expect(text, code).not.toContain('_'); // words, not the code again
      expect(text, code).toMatch(/[.)]$/);
    }
  });

  it('falls back to the server message for a code it does not know', () => {
    expect(reasonFor('SOMETHING_NEW', 'Server says no')).toBe('Server says no.');
    expect(reasonFor(undefined)).toMatch(/refused/);
    expect(reasonFor('INSUFFICIENT_FUNDS')).toBe('Not enough buying power for this order.');
  });

  it('explains every cancel reason', () => {
    for (const r of CancelReasonSchema.options) expect(CANCEL_REASONS[r], r).toBeTruthy();
  });

  it("says an OCO leg's cancel came from the other leg trading or (a stop leg) triggering: the engine cancels on either", () => {
    expect(CANCEL_REASONS.oco).toBe('Canceled: other OCO leg traded or triggered');
  });

  it("says an order canceled by the new session's price band in a line the blotter's status column holds at 1280 x 720", () => {
    // the column is 220 px (204 inside its padding): about 33 characters of the 12 px UI font
    const text = CANCEL_REASONS.price_band!;
    expect(text).toMatch(/^Canceled: .*band$/);
    expect(text.length, text).toBeLessThanOrEqual(32);
  });
});

describe("a refusal in words: the server's own reason, not a stock sentence", () => {
  it("shows the venue's message for the request at hand, as a sentence and without the code", () => {
    // the review's case: a part-filled order modified below what has filled
    const text = reasonFor('INVALID_QUANTITY', 'Quantity must exceed the 292 already filled');
    expect(text).toBe('Quantity must exceed the 292 already filled.');
    expect(text).not.toContain('INVALID_QUANTITY');
    expect(reasonFor('LIMIT_EXCEEDED', 'The account already has 50 open orders (maximum 50)')).toBe('The account already has 50 open orders (maximum 50).');
    expect(reasonFor('FORBIDDEN', 'This user is disabled')).toBe('This user is disabled.');
  });

  it("uses the code's sentence when there is no message of the server's own, or one about the encoding", () => {
    expect(reasonFor('INSUFFICIENT_FUNDS')).toBe(REASONS.INSUFFICIENT_FUNDS);
    expect(reasonFor('INSUFFICIENT_FUNDS', '')).toBe(REASONS.INSUFFICIENT_FUNDS);
    // a ProtocolError made with no message carries the code's stock text
    for (const code of RESULT_CODES) expect(reasonFor(code, CODES[code].text), code).toBe(REASONS[code]);
    expect(reasonFor('INVALID_CREDENTIALS', new ProtocolError('INVALID_CREDENTIALS').message)).toBe('Wrong user name or password.');
    expect(reasonFor('BAD_REQUEST', 'Invalid parameters for order.replace')).toBe(REASONS.BAD_REQUEST);
    expect(reasonFor('UNAUTHENTICATED', 'Sign in first (Authorization: Bearer <access token>)')).toBe(REASONS.UNAUTHENTICATED);
  });

  it('says what to do when the exchange cannot be reached from an order, and speaks of the server on a sign-in form', () => {
    expect(reasonFor('UNAVAILABLE', 'Not connected (still trying)')).toBe(REASONS.UNAVAILABLE);
    expect(reasonFor('TIMEOUT', 'The request timed out after 10000 ms')).toBe(REASONS.TIMEOUT);
    const signin = reasonFor('UNAVAILABLE', 'Cannot reach http://127.0.0.1:9: fetch failed', 'signin');
    expect(signin).toBe('The server could not be reached. Check its address and your network, then try again. (Cannot reach http://127.0.0.1:9: fetch failed)');
    expect(signin).not.toMatch(/order|blotter/i);
    expect(reasonFor('UNAVAILABLE', undefined, 'signin')).toBe('The server could not be reached. Check its address and your network, then try again.');
    expect(reasonFor('TIMEOUT', undefined, 'signin')).not.toMatch(/order|blotter/i);
    // what the sign-in form's refusals say is the same on either form where no special wording exists
    expect(reasonFor('INVALID_CREDENTIALS', undefined, 'signin')).toBe('Wrong user name or password.');
    expect(reasonFor('UNAUTHENTICATED', 'Unknown refresh token', 'signin')).toBe(REASONS.UNAUTHENTICATED);
  });

  it("formats the prices and money in the engine's refusals (minor units), as everywhere else", () => {
    expect(reasonFor('PRICE_OUT_OF_BAND', 'Limit price 50000 is outside the band 45000-55000')).toBe("Limit price 500.00 is outside today's band 450.00–550.00.");
    expect(reasonFor('INVALID_PRICE', 'Stop price must be a positive multiple of the tick size 5')).toBe('Stop price must be a positive multiple of the tick 0.05.');
    expect(reasonFor('INSUFFICIENT_FUNDS', 'Needs 3194500; buying power is 100000')).toBe('Not enough buying power: needs 31,945.00, available 1,000.00.');
    expect(reasonFor('WOULD_CROSS', 'Post-only buy at 10050 would trade against 10045')).toBe('Post-only buy at 100.50 would trade against 100.45.'); // (a modify refused so leaves the order working: not "not placed")
    expect(reasonFor('LIMIT_EXCEEDED', "Notional 12345600 exceeds the account's maximum 10000000")).toBe("Order value 123,456.00 exceeds the account's maximum 100,000.00.");
    // share counts stay as they are
    expect(reasonFor('INSUFFICIENT_SHARES', 'Only 40 shares available to sell')).toBe('Only 40 shares available to sell.');
  });

  it("formats every money refusal the engine actually gives (its messages and these patterns stay in step)", () => {
    const e = new Engine({ book: 'fast' });
    let ts = Date.UTC(2024, 0, 2, 14, 30);
    const run = (c: Record<string, unknown>) => e.execute({ ts: ts++, ...c } as Command);
    const refusal = (c: Record<string, unknown>) => {
      const r = run(c).find((x) => x.type === 'Rejected');
      expect(r, JSON.stringify(c)).toBeDefined();
      return r as { code: string; message: string };
    };
    run({ type: 'CreateInstrument', instrument: { symbol: 'ACME', name: 'Acme', tickSize: 5, lotSize: 10, referencePrice: 10_000, bandBps: 1000 } });
    run({ type: 'OpenAccount', accountId: 1, limits: { maxOrderNotional: 10_000_000 } });
    run({ type: 'OpenAccount', accountId: 2, allowShort: true });
    run({ type: 'Deposit', accountId: 1, amount: 5_000_000 });
    run({ type: 'Deposit', accountId: 2, amount: 100_000_000 });
    run({ type: 'PlaceOrder', accountId: 2, orderId: 1, symbol: 'ACME', side: 'sell', orderType: 'limit', qty: 100, price: 10_050, tif: 'day' });
    const order = { type: 'PlaceOrder', accountId: 1, symbol: 'ACME', side: 'buy', orderType: 'limit', tif: 'day' };
    const cases = [
      refusal({ ...order, orderId: 10, qty: 10, price: 20_000 }), // outside the band
      refusal({ ...order, orderId: 11, qty: 10, price: 10_001 }), // off the tick
      refusal({ ...order, orderId: 12, qty: 1100, price: 10_000 }), // beyond the account's maximum order value
      refusal({ ...order, orderId: 13, qty: 600, price: 9_500 }), // beyond the buying power
      refusal({ ...order, orderId: 14, qty: 10, price: 10_050, postOnly: true }), // would cross
    ];
    expect(cases.map((c) => c.code)).toEqual(['PRICE_OUT_OF_BAND', 'INVALID_PRICE', 'LIMIT_EXCEEDED', 'INSUFFICIENT_FUNDS', 'WOULD_CROSS']);
    for (const c of cases) {
      const text = reasonFor(c.code, c.message);
      // every amount is formatted (decimals), no bare number of 3 or more digits is left from the message
      expect(text, c.message).toMatch(/\d\.\d\d/);
      expect(text, c.message).not.toMatch(/(?<![\d.,])\d{3,}(?![\d.,])/);
    }
  });
});

describe('a throttled sign-in in words: how long to wait, once', () => {
  it("says the wait from the refusal's retryAfter, without the server's own sentence", () => {
    const text = throttledSignIn('Too many failed sign-ins; retry in 900 s', { retryAfter: 900 });
    expect(text).toBe('Too many attempts. Try again in 15 minutes.');
    expect(throttledSignIn('Too many failed sign-ins; retry in 40 s', { retryAfter: 40 })).toBe('Too many attempts. Try again in 40 seconds.');
    expect(throttledSignIn('Too many failed sign-ins; retry in 1 s', { retryAfter: 1 })).toBe('Too many attempts. Try again in 1 second.');
    for (const t of [text, throttledSignIn('Too many failed sign-ins; retry in 2 s', { retryAfter: 2 })]) {
      expect(t).not.toMatch(/retry in|\(|Wait a moment/);
      expect(t.match(/Too many/g)).toHaveLength(1);
    }
  });

  it('tells a lock for wrong two-factor codes from one for wrong passwords', () => {
    expect(throttledSignIn('Too many wrong two-factor codes for this account; retry in 120 s', { retryAfter: 120 })).toBe(
      'Too many wrong two-factor codes for this account. Try again in 2 minutes.',
    );
  });

  it('asks for a moment when the server gives no wait', () => {
    expect(throttledSignIn('Too many connections from this address', undefined)).toBe('Too many attempts. Wait a moment and try again.');
    expect(throttledSignIn(undefined, { retryAfter: 'soon' })).toBe('Too many attempts. Wait a moment and try again.');
  });

  it('rounds a wait up to whole seconds, minutes or hours', () => {
    expect(waitInWords(0.2)).toBe('1 second');
    expect(waitInWords(90)).toBe('90 seconds');
    expect(waitInWords(91)).toBe('2 minutes');
    expect(waitInWords(3600)).toBe('60 minutes');
    expect(waitInWords(2 * 3600)).toBe('2 hours');
  });
});
