import { describe, expect, it } from 'vitest';
import { CODES, RESULT_CODES } from '../../../engine/protocol/index.js';
import { CANCEL_REASONS, REASONS, reasonFor } from '../../src/format/reasons.js';
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
    expect(reasonFor('SOMETHING_NEW', 'Server says no')).toBe('Server says no');
    expect(reasonFor(undefined)).toMatch(/refused/);
    expect(reasonFor('INSUFFICIENT_FUNDS')).toBe('Not enough buying power for this order.');
  });

  it('explains every cancel reason', () => {
    for (const r of CancelReasonSchema.options) expect(CANCEL_REASONS[r], r).toBeTruthy();
  });
});
