/**
 * The one closed set of result codes. Every rejection anywhere in the product (engine, venue, protocol,
 * server, UI) names one of these stable strings plus a human message. Grouped by the stage that produces it.
 */
export const CODES = {
  // validation: the command itself is malformed or names something that does not exist
  UNKNOWN_SYMBOL: { stage: 'validation', text: 'Unknown symbol' },
  UNKNOWN_ACCOUNT: { stage: 'validation', text: 'Unknown account' },
  INVALID_PRICE: { stage: 'validation', text: 'Price is not a positive multiple of the tick size' },
  INVALID_QUANTITY: { stage: 'validation', text: 'Quantity is not a positive multiple of the lot size' },
  INVALID_AMOUNT: { stage: 'validation', text: 'Amount must be a positive whole number of minor units' },
  INVALID_ORDER: { stage: 'validation', text: 'The order fields do not fit together' },
  INVALID_INSTRUMENT: { stage: 'validation', text: 'The instrument definition is invalid' },
  DUPLICATE_ORDER_ID: { stage: 'validation', text: 'That order id is already in use' },
  DUPLICATE_CLIENT_ORDER_ID: { stage: 'validation', text: 'That client order id was already used today' },
  DUPLICATE_SYMBOL: { stage: 'validation', text: 'That symbol already exists' },
  DUPLICATE_ACCOUNT: { stage: 'validation', text: 'That account already exists' },
  PRICE_OUT_OF_BAND: { stage: 'validation', text: 'Price is outside the allowed band' },
  MARKET_HALTED: { stage: 'validation', text: 'Trading in this symbol is halted' },
  // risk: the account cannot afford or is not allowed to do this
  INSUFFICIENT_FUNDS: { stage: 'risk', text: 'Not enough buying power' },
  INSUFFICIENT_SHARES: { stage: 'risk', text: 'Not enough shares to sell' },
  LIMIT_EXCEEDED: { stage: 'risk', text: 'An account limit would be exceeded' },
  // matching: the order cannot be handled as asked given the book
  NO_LIQUIDITY: { stage: 'matching', text: 'No liquidity on the other side' },
  WOULD_CROSS: { stage: 'matching', text: 'Post-only order would trade immediately' },
  FOK_NOT_FILLABLE: { stage: 'matching', text: 'Fill-or-kill order cannot be filled completely' },
  // order state
  UNKNOWN_ORDER: { stage: 'order', text: 'No working order with that id' },
  NOT_ORDER_OWNER: { stage: 'order', text: 'That order belongs to another account' },
  ORDER_NOT_MODIFIABLE: { stage: 'order', text: 'That order cannot be modified this way' },
  // auth (used by the server and the hub)
  UNAUTHENTICATED: { stage: 'auth', text: 'Sign in first' },
  FORBIDDEN: { stage: 'auth', text: 'Not allowed for this user' },
  INVALID_CREDENTIALS: { stage: 'auth', text: 'Wrong user name or password' },
  TWO_FACTOR_REQUIRED: { stage: 'auth', text: 'A two-factor code is required' },
  INVALID_TWO_FACTOR_CODE: { stage: 'auth', text: 'The two-factor code is wrong or already used' },
  WEAK_PASSWORD: { stage: 'auth', text: 'The password does not meet the policy' },
  RATE_LIMITED: { stage: 'auth', text: 'Too many requests; retry later' },
  SESSION_REVOKED: { stage: 'auth', text: 'The session was revoked' },
  // protocol and transport
  BAD_REQUEST: { stage: 'protocol', text: 'The message does not match its schema' },
  UNKNOWN_METHOD: { stage: 'protocol', text: 'Unknown method' },
  UNSUPPORTED_VERSION: { stage: 'protocol', text: 'Unsupported protocol version' },
  IDEMPOTENCY_CONFLICT: { stage: 'protocol', text: 'Idempotency key reused with a different request' },
  IDEMPOTENCY_UNKNOWN: { stage: 'protocol', text: 'The first request with this key was cut short; its outcome is unknown' },
  OUTCOME_UNKNOWN: { stage: 'protocol', text: 'The request was journaled but could not be made durable; its outcome is unknown' },
  NOT_FOUND: { stage: 'protocol', text: 'Not found' },
  METHOD_NOT_ALLOWED: { stage: 'protocol', text: 'That HTTP method is not allowed on this path' },
  CONFLICT: { stage: 'protocol', text: 'Conflicts with the current state' },
  RESYNC_REQUIRED: { stage: 'protocol', text: 'The stream fell behind; resynchronise from a snapshot' },
  UNAVAILABLE: { stage: 'protocol', text: 'The service is not available right now' },
  TIMEOUT: { stage: 'protocol', text: 'The request timed out' },
  INTERNAL: { stage: 'protocol', text: 'Internal error' },
} as const satisfies Record<string, { stage: CodeStage; text: string }>;

export type CodeStage = 'validation' | 'risk' | 'matching' | 'order' | 'auth' | 'protocol';
export type ResultCode = keyof typeof CODES;
export const RESULT_CODES = Object.keys(CODES) as ResultCode[];

export function isResultCode(s: unknown): s is ResultCode {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(CODES, s);
}

/** The one error shape used everywhere: `{ code, message, details? }`. */
export interface ErrorShape {
  code: ResultCode;
  message: string;
  details?: Record<string, unknown>;
}
