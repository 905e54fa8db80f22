/**
 * Every result code in words a trader understands, for the blotter, the ticket and the login form. The
 * `satisfies` makes the build fail when engine/core gains a code without a sentence here.
 */
import type { ResultCode } from '../../../engine/protocol/index.js';

export const REASONS = {
  UNKNOWN_SYMBOL: 'This symbol is not listed on the exchange.',
  UNKNOWN_ACCOUNT: 'Your trading account was not found.',
  INVALID_PRICE: 'The price is not a valid multiple of the tick size.',
  INVALID_QUANTITY: 'The quantity is not a whole number of lots.',
  INVALID_AMOUNT: 'The amount must be a positive number of cents.',
  INVALID_ORDER: 'The order fields do not fit together (check prices for this order type).',
  INVALID_INSTRUMENT: 'The instrument definition is invalid.',
  DUPLICATE_ORDER_ID: 'That order id is already in use.',
  DUPLICATE_CLIENT_ORDER_ID: 'This order was already sent (duplicate client order id).',
  DUPLICATE_SYMBOL: 'That symbol is already listed.',
  DUPLICATE_ACCOUNT: 'That account already exists.',
  PRICE_OUT_OF_BAND: 'The price is outside today\'s allowed price band.',
  MARKET_HALTED: 'Trading in this symbol is halted.',
  INSUFFICIENT_FUNDS: 'Not enough buying power for this order.',
  INSUFFICIENT_SHARES: 'Not enough shares to sell (short selling is not allowed on this account).',
  LIMIT_EXCEEDED: 'An account risk limit would be exceeded (order size, notional or order count).',
  NO_LIQUIDITY: 'There is nothing to trade against on the other side of the book.',
  WOULD_CROSS: 'Post-only order would have traded immediately, so it was not placed.',
  FOK_NOT_FILLABLE: 'Fill-or-kill order could not be filled completely at once.',
  UNKNOWN_ORDER: 'The order is no longer working (already filled or canceled).',
  NOT_ORDER_OWNER: 'That order belongs to another account.',
  ORDER_NOT_MODIFIABLE: 'This order cannot be modified that way.',
  UNAUTHENTICATED: 'You are not signed in, or your session expired. Sign in again.',
  FORBIDDEN: 'Your user is not allowed to do this (check your role).',
  INVALID_CREDENTIALS: 'Wrong user name or password.',
  TWO_FACTOR_REQUIRED: 'Enter the 6-digit code from your authenticator app (or a backup code).',
  INVALID_TWO_FACTOR_CODE: 'The two-factor code is wrong, expired or was already used. Wait for the next code.',
  WEAK_PASSWORD: 'The password does not meet the server\'s password policy.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  SESSION_REVOKED: 'Your session was ended (signed out elsewhere or revoked). Sign in again.',
  BAD_REQUEST: 'The request was not understood (a field is missing or out of range).',
  UNKNOWN_METHOD: 'This server does not offer that function.',
  UNSUPPORTED_VERSION: 'This app and the server speak different protocol versions. Update the app.',
  IDEMPOTENCY_CONFLICT: 'This request was already sent with different details.',
  IDEMPOTENCY_UNKNOWN: 'The exchange restarted while this request was being handled, so its outcome is unknown. Check the blotter before sending it again.',
  OUTCOME_UNKNOWN: 'The exchange failed while saving this request, so its outcome is unknown. Check the blotter before sending it again.',
  NOT_FOUND: 'Not found.',
  CONFLICT: 'This conflicts with the current state. Refresh and try again.',
  RESYNC_REQUIRED: 'The data stream fell behind and is being reloaded.',
  UNAVAILABLE: 'The exchange is not reachable right now. The order may not have been sent; check the blotter.',
  TIMEOUT: 'The exchange did not answer in time. Check the blotter before sending again.',
  INTERNAL: 'The exchange had an internal error.',
} as const satisfies Record<ResultCode, string>;

/** The sentence for a code; unknown strings (a newer server) fall back to the server's own message. */
export function reasonFor(code: string | undefined, fallback?: string): string {
  if (code !== undefined && Object.hasOwn(REASONS, code)) return REASONS[code as ResultCode];
  return fallback ?? 'The exchange refused this request.';
}

/** Cancel reasons in words. */
export const CANCEL_REASONS: Record<string, string> = {
  user: 'Canceled',
  ioc: 'Canceled: IOC remainder',
  expired: 'Expired (end of day)',
  self_trade: 'Canceled: would trade with yourself',
  oco: 'Canceled: other OCO leg traded',
  parent_canceled: 'Canceled with its parent order',
  insufficient_funds: 'Canceled: not enough buying power',
  insufficient_shares: 'Canceled: not enough shares',
  no_liquidity: 'Canceled: no liquidity',
  limit_exceeded: "Canceled: the account's maximum order value reached",
};
