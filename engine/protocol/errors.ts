import { CODES, isResultCode } from '../core/codes.js';
import type { ErrorShape, ResultCode } from '../core/codes.js';

/**
 * The error every protocol operation rejects with, and the one a server handler throws to answer with a
 * specific code. Carries the one error shape `{ code, message, details? }`; `code` is always one of CODES.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ResultCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ResultCode, message?: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message ?? CODES[code].text, options);
    this.code = code;
    this.details = details;
  }

  /** The wire shape (no stack, no cause). */
  toShape(): ErrorShape {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  toJSON(): ErrorShape {
    return this.toShape();
  }

  static from(shape: ErrorShape): ProtocolError {
    return new ProtocolError(shape.code, shape.message, shape.details);
  }
}

/**
 * True for a ProtocolError, also one from another copy of this module (another bundle or realm): anything
 * named 'ProtocolError' with a known code and a string message counts.
 */
export function isProtocolError(e: unknown): e is ProtocolError {
  if (e instanceof ProtocolError) return true;
  if (typeof e !== 'object' || e === null) return false;
  const o = e as { name?: unknown; code?: unknown; message?: unknown };
  return o.name === 'ProtocolError' && isResultCode(o.code) && typeof o.message === 'string';
}

/**
 * A refused HTTP answer (status >= 400) of the exchange server's REST API as a ProtocolError: its body's
 * `{code, message, details}` when the code is one of CODES; otherwise RATE_LIMITED for a 429, UNAVAILABLE
 * for a 5xx, INTERNAL for the rest, with "HTTP <status>" for a missing message.
 */
export function httpRefusal(status: number, body: unknown): ProtocolError {
  const j = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; message?: unknown; details?: unknown };
  const code: ResultCode = isResultCode(j.code) ? j.code : status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'UNAVAILABLE' : 'INTERNAL';
  const message = typeof j.message === 'string' ? j.message : `HTTP ${status}`;
  const details = typeof j.details === 'object' && j.details !== null && !Array.isArray(j.details) ? (j.details as Record<string, unknown>) : undefined;
  return new ProtocolError(code, message, details);
}

/**
 * A REST response's body: its JSON, or undefined when it is empty or not JSON; a refusal (not 2xx) is thrown
 * as httpRefusal. For the clients of `/api/v1` (the browser, and the desktop's link to a firm's server).
 */
export async function responseBody(res: { ok: boolean; status: number; text(): Promise<string> }): Promise<unknown> {
  const text = await res.text().catch(() => '');
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) throw httpRefusal(res.status, json);
  return json;
}

/** The wire shape for anything thrown: a ProtocolError keeps its code; anything else becomes INTERNAL. */
export function toErrorShape(e: unknown): ErrorShape {
  if (isProtocolError(e)) {
    const details = (e as { details?: unknown }).details;
    return typeof details === 'object' && details !== null && !Array.isArray(details)
      ? { code: e.code, message: e.message, details: details as Record<string, unknown> }
      : { code: e.code, message: e.message };
  }
  return { code: 'INTERNAL', message: CODES.INTERNAL.text };
}

/** Zod issues as plain JSON for `details.issues` (paths as strings and numbers, at most `max` of them). */
export function issuesToDetails(
  issues: readonly { path: readonly PropertyKey[]; message: string; code?: string }[],
  max = 20,
): { issues: { path: (string | number)[]; message: string; code?: string }[]; more?: number } {
  const out = issues.slice(0, max).map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? p : String(p)));
    return i.code === undefined ? { path, message: i.message } : { path, message: i.message, code: i.code };
  });
  return issues.length > max ? { issues: out, more: issues.length - max } : { issues: out };
}
