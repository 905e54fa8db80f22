/**
 * The protocol's method handlers: the venue's own table (engine/venue/serve.ts `venueHandlers`), wrapped
 * per connection with what the server adds around order commands: metrics (acknowledged orders, ack
 * latency) and the audit log (who, what, from where). Ownership is checked before a cancel or replace, so
 * another account's order answers NOT_FOUND exactly like a missing one (ids cannot be probed).
 */
import { ProtocolError, isProtocolError, requireAccount, type MethodHandlers, type SessionContext } from '../../../engine/protocol/index.js';
import { CODES } from '../../../engine/protocol/index.js';
import { venueHandlers, type Ack, type Venue, type VenueCommand } from '../../../engine/venue/index.js';
import { commandAction, originTagger } from './audit.js';

/** Who is acting and from where (for the audit log). */
export interface Origin {
  userId?: number | undefined;
  username?: string | undefined;
  ip?: string | undefined;
  via: 'ws' | 'rest';
}

export type OrderKind = 'place' | 'placeOco' | 'cancel' | 'cancelAll' | 'replace' | 'admin';

export interface OrderOutcome {
  /** False when the engine refused the command (its code is in `code`). */
  accepted: boolean;
  code?: string;
}

export interface OrderHooks {
  /**
   * Called after every order or admin command call (metrics, audit), refused or not. `entry` (its details the
   * hook's to keep or extend) is there for an audit entry: undefined when the call's commands reached the
   * venue, each audited as it is acknowledged (onCommand). A cancel-all has its own entry besides its cancels'.
   */
  onOrder(kind: OrderKind, origin: Origin, outcome: OrderOutcome, ms: number, entry: { action: string; details: Record<string, unknown> } | undefined): void;
  /**
   * Called as each command a user's call submitted is acknowledged (journaled with the user's tag), in
   * sequence order, before the call answers: its audit entry (market/audit.ts).
   */
  onCommand(origin: Origin, ack: Ack, submitted: VenueCommand, at: number): void;
  /**
   * Resolves once every audit entry made so far is committed. A call that made an entry the journal cannot
   * give again (onOrder's, or a command's refused before it was journaled) answers after it, over WebSocket
   * as over REST, so an answer seen is an entry kept.
   */
  entriesKept(): Promise<void>;
}

const ENGINE_STAGES = new Set(['validation', 'risk', 'matching', 'order']);
const ACCEPTED: OrderOutcome = Object.freeze({ accepted: true });

export class VenueMethods {
  readonly base: MethodHandlers;
  readonly #venue: Venue;
  readonly #hooks: OrderHooks;

  constructor(venue: Venue, hooks: OrderHooks) {
    this.#venue = venue;
    this.#hooks = hooks;
    this.base = venueHandlers(venue).handlers;
  }

  /** Handlers for one connection (or one REST request) acting as `origin`. */
  for(origin: Origin | undefined): MethodHandlers {
    const b = this.base;
    const v = this.#venue;
    const hooks = this.#hooks;
    // Guests trade nothing: their calls are refused before any command (requireAccount).
    const tagAt = origin === undefined ? undefined : originTagger(origin, (t, ack, cmd) => hooks.onCommand(t.origin, ack, cmd, t.at));
    // The audit entry of a call none of whose commands reached the venue (a refusal before any, a cancel-all's
    // own): made from the command the handler would have submitted, as its acknowledgement's would be
    // (commandAction; its account, 0 here, is not in the entry, which names the user).
    const asCommand = (c: VenueCommand): { action: string; details: Record<string, unknown> } => commandAction(c)!;
    const wrap = <K extends keyof MethodHandlers>(name: K, kind: OrderKind, entry: (p: Parameters<MethodHandlers[K]>[0], r: unknown) => { action: string; details: Record<string, unknown> }, pre?: (p: Parameters<MethodHandlers[K]>[0], ctx: SessionContext) => void): MethodHandlers[K] => {
      const inner = b[name] as unknown as (p: unknown, ctx: SessionContext) => unknown;
      /** Reports a refusal; true when it made an audit entry (not journaled). */
      const refused = (p: Parameters<MethodHandlers[K]>[0], t0: number, e: unknown, journaled: boolean): boolean => {
        if (origin === undefined || !isProtocolError(e) || !ENGINE_STAGES.has(CODES[e.code].stage)) return false;
        const en = journaled ? undefined : entry(p, undefined);
        if (en !== undefined) Object.assign(en.details, e.details ?? {});
        hooks.onOrder(kind, origin, { accepted: false, code: e.code }, performance.now() - t0, en);
        return en !== undefined;
      };
      // the refusal, once the audit entry it made (if it made one the journal does not hold) is kept
      const refuse = (unjournaled: boolean, e: unknown): Promise<never> => {
        if (!unjournaled) throw e;
        const again = (): Promise<never> => Promise.reject(e);
        return hooks.entriesKept().then(again, again);
      };
      // Not async: this is the order path, and an async wrapper costs a promise and a frame per order on
      // top of the handler's own (the protocol server takes a thrown error and a rejection alike).
      const fn = (p: Parameters<MethodHandlers[K]>[0], ctx: SessionContext): Promise<unknown> => {
        pre?.(p, ctx);
        const t0 = performance.now();
        const before = v.submitted;
        const tag = tagAt?.(Date.now());
        let out: unknown;
        try {
          // the handler submits synchronously: its commands are journaled with the caller's tag
          out = tag === undefined ? inner(p, ctx) : v.tagged(tag, () => inner(p, ctx));
        } catch (e) {
          return refuse(refused(p, t0, e, v.submitted !== before), e);
        }
        const journaled = kind !== 'cancelAll' && v.submitted !== before;
        if (origin === undefined) return Promise.resolve(out);
        return Promise.resolve(out).then(
          (r) => {
            hooks.onOrder(kind, origin, ACCEPTED, performance.now() - t0, journaled ? undefined : entry(p, r));
            return journaled && tag?.unjournaled !== true ? r : hooks.entriesKept().then(() => r);
          },
          (e: unknown) => refuse(refused(p, t0, e, journaled) || tag?.unjournaled === true, e),
        );
      };
      return fn as unknown as MethodHandlers[K];
    };
    const mine = (p: { orderId: number }, ctx: SessionContext): void => {
      const acct = requireAccount(ctx);
      const r = v.order(p.orderId);
      if (r === undefined || r.accountId !== acct) throw new ProtocolError('NOT_FOUND', `No order ${p.orderId} on this account`, { orderId: p.orderId });
    };
    const handlers: MethodHandlers = {
      ...b,
      'order.place': wrap('order.place', 'place', (p) => asCommand({ type: 'PlaceOrder', accountId: 0, ...p })),
      'order.placeOco': wrap('order.placeOco', 'placeOco', (p) => asCommand({ type: 'PlaceOco', accountId: 0, ...p })),
      'order.cancel': wrap('order.cancel', 'cancel', (p) => asCommand({ type: 'CancelOrder', accountId: 0, ...p }), mine),
      'order.replace': wrap('order.replace', 'replace', (p) => asCommand({ type: 'ReplaceOrder', accountId: 0, ...p }), mine),
      'order.cancelAll': wrap('order.cancelAll', 'cancelAll', (p, r) => ({ action: 'order.cancelAll', details: { symbol: p.symbol, ...(r as object) } })),
      'admin.instrument.create': wrap('admin.instrument.create', 'admin', (p) => asCommand({ type: 'CreateInstrument', instrument: p })),
      'admin.instrument.setStatus': wrap('admin.instrument.setStatus', 'admin', (p) => asCommand({ type: 'SetInstrumentStatus', ...p }), (p) => {
        if (v.view.instrument(p.symbol) === undefined) throw new ProtocolError('UNKNOWN_SYMBOL', `Unknown symbol ${p.symbol}`, { symbol: p.symbol });
      }),
      'admin.account.fund': wrap('admin.account.fund', 'admin', (p) => asCommand({ type: 'Deposit', ...p })),
      'admin.account.withdraw': wrap('admin.account.withdraw', 'admin', (p) => asCommand({ type: 'Withdraw', ...p })),
    };
    return handlers;
  }
}
