/**
 * Encode once, send many. A push payload shared by every subscriber carries its JSON text under a symbol
 * key; the WebSocket port splices that text into each subscriber's envelope instead of serialising the
 * object again. Any other transport ignores the symbol (JSON.stringify skips symbol keys), and the object
 * is still the plain value, so conflation keys and validation work unchanged.
 */
export const ENCODED: unique symbol = Symbol('tradedesk.encoded');

export type Encoded<T extends object> = T & { readonly [ENCODED]: string };

export function preEncode<T extends object>(value: T): Encoded<T> {
  Object.defineProperty(value, ENCODED, { value: JSON.stringify(value), enumerable: false });
  return value as Encoded<T>;
}

export function encodedOf(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null ? ((v as { [ENCODED]?: string })[ENCODED] ?? undefined) : undefined;
}

const ENCODED_BYTES: unique symbol = Symbol('tradedesk.encodedBytes');

/** The UTF-8 bytes of a pre-encoded value, computed once and shared by every subscriber. */
export function encodedBytesOf(v: unknown): Buffer | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { [ENCODED]?: string; [ENCODED_BYTES]?: Buffer };
  const text = o[ENCODED];
  if (text === undefined) return undefined;
  let b = o[ENCODED_BYTES];
  if (b === undefined) {
    b = Buffer.from(text, 'utf8');
    Object.defineProperty(o, ENCODED_BYTES, { value: b, enumerable: false });
  }
  return b;
}
