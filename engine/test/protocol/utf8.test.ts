/** The protocol's own UTF-8 length (engine/protocol/hub.ts utf8Length; the layer uses no host API). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeychainSecretSchema, utf8Length } from '../../protocol/index.js';

describe('utf8Length', () => {
  it('counts as Node encodes: any text, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'));
      }),
      { numRuns: 2000 },
    );
    expect(['a', 'é', '€', '😀', '\ud800', '\udc00x', 'a\ud83d'].map(utf8Length)).toEqual([1, 2, 3, 4, 3, 4, 4]);
  });

  it('a keychain secret is at most 2,560 bytes', () => {
    expect(KeychainSecretSchema.safeParse('😀'.repeat(640)).success).toBe(true);
    expect(KeychainSecretSchema.safeParse('😀'.repeat(640) + 'x').success).toBe(false);
    expect(KeychainSecretSchema.safeParse('x'.repeat(2561)).success).toBe(false);
  });
});
