/**
 * HTTP status for each result code. The body is always the one error shape `{code, message, details?}`.
 * Engine rejections (validation, risk, matching) are 422: the request was well-formed but the exchange
 * refused it; schema failures are 400.
 */
import { STATUS_CODES } from 'node:http';
import { CODES, type ResultCode } from '../../../engine/protocol/index.js';

const BY_CODE: Partial<Record<ResultCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  TWO_FACTOR_REQUIRED: 401,
  INVALID_TWO_FACTOR_CODE: 401,
  SESSION_REVOKED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNKNOWN_METHOD: 404,
  UNKNOWN_ORDER: 404,
  NOT_ORDER_OWNER: 404,
  CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  IDEMPOTENCY_UNKNOWN: 409,
  OUTCOME_UNKNOWN: 500,
  WEAK_PASSWORD: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  UNSUPPORTED_VERSION: 400,
  RESYNC_REQUIRED: 409,
};

export function httpStatus(code: ResultCode): number {
  const s = BY_CODE[code];
  if (s !== undefined) return s;
  const stage = CODES[code].stage;
  return stage === 'validation' || stage === 'risk' || stage === 'matching' || stage === 'order' ? 422 : 400;
}

/**
 * A whole HTTP error response, body in the one error shape, for a socket no ServerResponse wraps (an
 * upgrade refused, a request the HTTP parser refused); it closes the connection.
 */
export function rawErrorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}, omitBody = false): string {
  const body = JSON.stringify({ code, message });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  // a HEAD request gets the headers, Content-Length included, without the body (RFC 9110 §9.3.2)
  return head.join('\r\n') + '\r\n\r\n' + (omitBody ? '' : body);
}
