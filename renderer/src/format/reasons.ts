/**
 * Every result code in words a trader understands, for the blotter, the ticket and the login form. The
 * `satisfies` makes the build fail when engine/core gains a code without a sentence here.
 */
import { CODES, type ResultCode } from '../../../engine/protocol/index.js';
import { formatMoney, formatPrice } from './num.js';

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
  METHOD_NOT_ALLOWED: 'The server does not accept this kind of request here. Update the app.',
  CONFLICT: 'This conflicts with the current state. Refresh and try again.',
  RESYNC_REQUIRED: 'The data stream fell behind and is being reloaded.',
  UNAVAILABLE: 'The exchange is not reachable right now. The order may not have been sent; check the blotter.',
  TIMEOUT: 'The exchange did not answer in time. Check the blotter before sending again.',
  INTERNAL: 'The exchange had an internal error.',
} as const satisfies Record<ResultCode, string>;

/** Where a refusal is shown: order entry (the blotter, the ticket) or signing in / connecting to a server. */
export type ReasonContext = 'order' | 'signin';

/** The sentence for a code on a sign-in or connection form, where REASONS' words (about orders) do not fit. */
const SIGNIN_REASONS: Partial<Record<ResultCode, string>> = {
  UNAVAILABLE: 'The server could not be reached. Check its address and your network, then try again.',
  TIMEOUT: 'The server did not answer in time. Try again.',
  INTERNAL: 'The server had an internal error. Try again later.',
};

/**
 * Codes whose sentence is what the trader needs whatever the message says: the message names a transport
 * failure or an internal detail ("Not connected (still trying)", "The connection is closed"), while the
 * sentence says what to do (check the blotter before sending again).
 */
const SENTENCE_ONLY: ReadonlySet<string> = new Set<ResultCode>([
  'UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
  'RESYNC_REQUIRED',
  'IDEMPOTENCY_UNKNOWN',
  'UNSUPPORTED_VERSION',
  'UNKNOWN_METHOD',
  // "Unknown access token", "Sign in first (Authorization: Bearer <access token>)": the sentence says it plainly
  'UNAUTHENTICATED',
]);

/** Messages that describe the request's encoding, not the trader's input: the code's sentence says more. */
const TECHNICAL = [/^Invalid parameters for /, /^Malformed message/, /^Could not send the request/, /^The first message must be/];

/**
 * The engine's refusals that carry prices or money as integers of minor units ("Limit price 50000 is outside
 * the band 45000-55000"), with what each number is: they are shown with the amounts formatted as everywhere
 * else ("500.00"), never as raw cents.
 */
const MINOR_UNIT_MESSAGES: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/^(.+) (\d+) is outside the band (\d+)-(\d+)$/, (m) => `${m[1]} ${px(m[2])} is outside today's band ${px(m[3])}–${px(m[4])}`],
  [/^(.+) must be a positive multiple of the tick(?: size)? (\d+)( below the price)?$/, (m) => `${m[1]} must be a positive multiple of the tick ${px(m[2])}${m[3] ?? ''}`],
  [/^Needs (\d+); buying power is (-?\d+)$/, (m) => `Not enough buying power: needs ${money(m[1])}, available ${money(m[2])}`],
  [/^The short part needs (\d+); buying power is (-?\d+)$/, (m) => `Not enough buying power for the short sale: needs ${money(m[1])}, available ${money(m[2])}`],
  [/^Buying power (-?\d+) does not cover one lot at (\d+)$/, (m) => `Buying power ${money(m[1])} does not cover one lot at ${px(m[2])}`],
  [/^Post-only (buy|sell) at (\d+) would trade against (\d+)$/, (m) => `Post-only ${m[1]} at ${px(m[2])} would trade against ${px(m[3])}`],
  [/^Notional (\d+) exceeds the account's maximum (\d+)$/, (m) => `Order value ${money(m[1])} exceeds the account's maximum ${money(m[2])}`],
  [/^Filling it whole would trade (\d+); the account's maximum order notional is (\d+)$/, (m) => `Filling it whole would trade ${money(m[1])}; the account's maximum order value is ${money(m[2])}`],
  [/^(Filling it whole would take .+ past the maximum) (\d+)$/, (m) => `${m[1]} ${money(m[2])}`],
  [/^Withdrawal of (\d+) exceeds available cash (-?\d+)$/, (m) => `Withdrawal of ${money(m[1])} exceeds available cash ${money(m[2])}`],
];

function px(digits: string | undefined): string {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? formatPrice(n) : String(digits);
}

function money(digits: string | undefined): string {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? formatMoney(n) : String(digits);
}

/** A server's message as a sentence: amounts in minor units formatted, a full stop at the end. */
export function venueSentence(message: string): string {
  let text = message.trim();
  for (const [re, words] of MINOR_UNIT_MESSAGES) {
    const m = re.exec(text);
    if (m !== null) {
      text = words(m);
      break;
    }
  }
  if (text === '') return text;
  text = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * What to tell the trader about a refusal: the server's own message when it sent one (it names what is wrong
 * with this very request: "Quantity must exceed the 292 already filled"), in words and without the code;
 * the code's sentence when there is no message, when the message is about the request's encoding rather
 * than its content, or for the codes whose sentence says what to do (the connection is down: check the blotter).
 * `context` picks the sentences for a sign-in or connection form, which speak of the server, not of an order.
 */
export function reasonFor(code: string | undefined, message?: string, context: ReasonContext = 'order'): string {
  const known = code !== undefined && Object.hasOwn(REASONS, code);
  const sentence = known ? ((context === 'signin' ? SIGNIN_REASONS[code as ResultCode] : undefined) ?? REASONS[code as ResultCode]) : undefined;
  // a server that gave no message of its own sends the code's stock text (CODES): the sentence says it better
  const said = message === undefined || (known && message.trim() === CODES[code as ResultCode].text) ? '' : message.trim();
  if (sentence !== undefined && SENTENCE_ONLY.has(code!)) {
    // on a sign-in form a connection's failure is told too: it says what to fix (the address, a refused port)
    const detail = context === 'signin' && (code === 'UNAVAILABLE' || code === 'TIMEOUT') && said !== '';
    return detail ? `${sentence} (${said.replace(/[.\s]+$/, '')})` : sentence;
  }
  if (said !== '' && !TECHNICAL.some((re) => re.test(said))) return venueSentence(said);
  return sentence ?? 'The exchange refused this request.';
}

/** Cancel reasons in words. */
export const CANCEL_REASONS: Record<string, string> = {
  user: 'Canceled',
  ioc: 'Canceled: IOC remainder',
  expired: 'Expired (end of day)',
  self_trade: 'Canceled: would trade with yourself',
  oco: 'Canceled: other OCO leg traded or triggered',
  parent_canceled: 'Canceled with its parent order',
  insufficient_funds: 'Canceled: not enough buying power',
  insufficient_shares: 'Canceled: not enough shares',
  no_liquidity: 'Canceled: no liquidity',
  limit_exceeded: "Canceled: the account's maximum order value reached",
  price_band: 'Canceled: outside the new band',
};

/** A wait in words, rounded up: "40 seconds" up to a minute and a half, then "15 minutes", then "2 hours". */
export function waitInWords(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  if (s <= 90) return unit(s, 'second');
  const m = Math.ceil(s / 60);
  return m <= 90 ? unit(m, 'minute') : unit(Math.ceil(s / 3600), 'hour');
}

/**
 * A throttled sign-in (RATE_LIMITED) in words: how long to wait, from the refusal's `details.retryAfter`
 * (seconds; the server's lock lasts up to 15 minutes), and whether it was wrong two-factor codes that locked
 * the account (the server's message says so). The server's own sentence is not repeated.
 */
export function throttledSignIn(message: string | undefined, details: Record<string, unknown> | undefined): string {
  const twoFactor = /two-factor|2fa/i.test(message ?? '');
  const what = twoFactor ? 'Too many wrong two-factor codes for this account.' : 'Too many attempts.';
  const wait = details?.retryAfter;
  return typeof wait === 'number' && Number.isFinite(wait) && wait > 0 ? `${what} Try again in ${waitInWords(wait)}.` : `${what} Wait a moment and try again.`;
}

/** The words for how an order was canceled (CANCEL_REASONS; "Canceled" for a reason without words here). */
export const cancelText = (reason: string | undefined): string => CANCEL_REASONS[reason ?? 'user'] ?? 'Canceled';

/**
 * An order the exchange canceled without the trader asking (a session's end, a risk check, another order's
 * outcome): anything but the trader's own cancel ('user'). The trader is told of these as they happen.
 */
export const canceledByExchange = (o: { status: string; cancelReason?: string | undefined }): boolean =>
  o.status === 'canceled' && o.cancelReason !== undefined && o.cancelReason !== 'user';
