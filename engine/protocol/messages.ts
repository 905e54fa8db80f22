/**
 * The wire envelope, declared once with zod; the TypeScript types are inferred.
 *
 *   client                                   server
 *   hello {v, client?, token?}          ->
 *                                       <-   welcome {v, server, session?}   or   error {error} + close
 *   req {id, method, params}            ->
 *                                       <-   res {id, ok: true, result} | res {id, ok: false, error}
 *   sub {id, channel, params}           ->
 *                                       <-   res {id, ok: true, result: {sub}}   (or an error res)
 *                                       <-   push {sub, seq: 1, 2, 3, ..., data}
 *                                       <-   end {sub, error}                 (the server ended the stream)
 *   unsub {id, sub}                     ->
 *                                       <-   res {id, ok: true, result: {}}
 *
 * An `error` message after the handshake reports a message the server could not attribute to a request
 * (no usable id); it is fatal only when a close follows.
 *
 * Envelopes are `z.object`: unknown keys are stripped. `params` and `result` are checked separately against
 * the method and channel table (methods.ts).
 */
import { z } from 'zod';
import { ErrorShapeSchema } from './schemas.js';

export const PROTOCOL_VERSION = 1;

/** Close codes the protocol uses (WebSocket numbering, so a `ws` transport can pass them through). */
export const CLOSE_CODES = {
  /** Normal closure. */
  NORMAL: 1000,
  /** The peer broke the protocol (no hello first, version mismatch). */
  PROTOCOL_ERROR: 1002,
  /** Authentication refused or the session was revoked. */
  POLICY: 1008,
  /** The server failed unexpectedly. */
  INTERNAL: 1011,
} as const;

/** A request/subscription id chosen by the client, echoed in the reply. */
export const RequestIdSchema = z.int().nonnegative();
/** A subscription id chosen by the server. */
export const SubIdSchema = z.int().nonnegative();
/** Method and channel names on the wire (checked against the table separately). */
export const NameSchema = z.string().min(1).max(64);

export const SessionInfoSchema = z.object({
  userId: z.string().max(128).optional(),
  accountId: z.int().nonnegative().optional(),
  role: z.string().max(32).optional(),
});

// ---------------------------------------------------------------- client -> server

export const HelloSchema = z.object({
  t: z.literal('hello'),
  v: z.int(),
  client: z.string().max(128).optional(),
  token: z.string().max(8192).optional(),
});
export const ReqSchema = z.object({
  t: z.literal('req'),
  id: RequestIdSchema,
  method: NameSchema,
  /** Absent is read as `{}` (JSON drops an undefined value). */
  params: z.unknown().optional(),
});
export const SubSchema = z.object({
  t: z.literal('sub'),
  id: RequestIdSchema,
  channel: NameSchema,
  params: z.unknown().optional(),
});
export const UnsubSchema = z.object({
  t: z.literal('unsub'),
  id: RequestIdSchema,
  sub: SubIdSchema,
});
export const ClientMessageSchema = z.discriminatedUnion('t', [HelloSchema, ReqSchema, SubSchema, UnsubSchema]);

// ---------------------------------------------------------------- server -> client

export const WelcomeSchema = z.object({
  t: z.literal('welcome'),
  v: z.int(),
  server: z.string().max(128),
  session: SessionInfoSchema.optional(),
});
export const ErrorMessageSchema = z.object({
  t: z.literal('error'),
  error: ErrorShapeSchema,
});
export const ResOkSchema = z.object({
  t: z.literal('res'),
  id: RequestIdSchema,
  ok: z.literal(true),
  result: z.unknown().optional(),
});
export const ResErrSchema = z.object({
  t: z.literal('res'),
  id: RequestIdSchema,
  ok: z.literal(false),
  error: ErrorShapeSchema,
});
export const ResSchema = z.discriminatedUnion('ok', [ResOkSchema, ResErrSchema]);
export const PushSchema = z.object({
  t: z.literal('push'),
  sub: SubIdSchema,
  /** 1, 2, 3, ... per subscription; a gap means the client missed data and must resynchronise. */
  seq: z.int().positive(),
  data: z.unknown().optional(),
});
export const EndSchema = z.object({
  t: z.literal('end'),
  sub: SubIdSchema,
  error: ErrorShapeSchema,
});
export const ServerMessageSchema = z.discriminatedUnion('t', [
  WelcomeSchema,
  ErrorMessageSchema,
  ResSchema,
  PushSchema,
  EndSchema,
]);

/** The result of a successful `sub`. */
export const SubResultSchema = z.object({ sub: SubIdSchema });
/** The result of an `unsub` (always ok: unsubscribing twice or after an `end` is not an error). */
export const UnsubResultSchema = z.object({});

export type SessionInfo = z.output<typeof SessionInfoSchema>;
export type Hello = z.output<typeof HelloSchema>;
export type Req = z.output<typeof ReqSchema>;
export type Sub = z.output<typeof SubSchema>;
export type Unsub = z.output<typeof UnsubSchema>;
export type ClientMessage = z.output<typeof ClientMessageSchema>;
export type Welcome = z.output<typeof WelcomeSchema>;
export type ErrorMessage = z.output<typeof ErrorMessageSchema>;
export type ResOk = z.output<typeof ResOkSchema>;
export type ResErr = z.output<typeof ResErrSchema>;
export type Res = z.output<typeof ResSchema>;
export type Push = z.output<typeof PushSchema>;
export type End = z.output<typeof EndSchema>;
export type ServerMessage = z.output<typeof ServerMessageSchema>;
