/**
 * The audit log's entries for the commands users send to the venue: orders, cancels, replaces and the admin
 * commands (instruments, funds).
 *
 * Each of them is journaled with a tag naming who sent it, from where and when (Venue.submit's CommandTag,
 * text `[userId, username, ip, via, at]`). Its entry is made from the command as the venue acknowledges it,
 * in sequence order, and the Store commits with each batch of entries its audit mark: the venue's last
 * acknowledged command then, whose entries, and every earlier one's, are all in the batch or before it
 * (Store.auditMarkFrom). After a crash, the entries of the tagged commands after the mark are made again
 * from the journal (recoverAudit), so an acknowledged order's entry is as durable as the order. A recovered
 * entry says `recovered: true`, and whether the engine refused the command, as the live one did: a refused
 * command is journaled with its code at the tag's end (`[..., at, code]`, CommandTag.refusedText), since a
 * refused cancel or replace leaves no trace in the state. (Journals written before that hold no code: a
 * placed order's refusal is then read from its record, a cancel's or a replace's is not known.)
 */
import { isResultCode, type Command, type ResultCode } from '../../../engine/core/index.js';
import { decodeCommand, type Ack, type CommandTag, type Venue, type VenueCommand } from '../../../engine/venue/index.js';
import type { AuditEntry, Store } from '../store.js';
import type { Origin } from './methods.js';

/**
 * The tag of one call of a user's: journaled as `[userId, username, ip, via, at]`, `at` being the wall time
 * of the call (ms; the venue's own time stamps are the simulated market's when it runs). Its
 * `acknowledged` hands each of the call's commands on with it.
 */
export class OriginTag implements CommandTag {
  /** Whether a command of the call was refused before it was journaled (its entry is not in the journal). */
  unjournaled = false;
  readonly text: string;
  constructor(
    readonly origin: Origin,
    readonly at: number,
    /** The text's start, `[userId, username, ip, via` (originTagger). */
    private readonly head: string,
    private readonly onAck: (tag: OriginTag, ack: Ack, submitted: VenueCommand) => void,
  ) {
    this.text = `${head},${at}]`;
  }
  /** Journaled for a command the engine refused: the code too. */
  refusedText(code: ResultCode): string {
    return `${this.head},${this.at},${JSON.stringify(code)}]`;
  }
  acknowledged(ack: Ack, submitted: VenueCommand): void {
    if (ack.seq === 0) this.unjournaled = true;
    this.onAck(this, ack, submitted);
  }
}

/** Makes the tags of one connection's (or request's) calls: the origin's part of the text is made once. */
export function originTagger(origin: Origin, onAck: (tag: OriginTag, ack: Ack, submitted: VenueCommand) => void): (at: number) => OriginTag {
  const head = JSON.stringify([origin.userId ?? null, origin.username ?? null, origin.ip ?? null, origin.via]).slice(0, -1);
  return (at) => new OriginTag(origin, at, head, onAck);
}

/**
 * The origin and time a journaled tag names, and the code the engine refused its command with (when it did,
 * in a journal that says so), or undefined when the text is not one of OriginTag's.
 */
export function parseTag(text: string): { origin: Origin; at: number; refused?: ResultCode } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || (v.length !== 5 && v.length !== 6)) return undefined;
  const [userId, username, ip, via, at, refused] = v as unknown[];
  if (v.length === 6 && !isResultCode(refused)) return undefined;
  if (!(userId === null || Number.isSafeInteger(userId))) return undefined;
  if (!(username === null || typeof username === 'string') || !(ip === null || typeof ip === 'string')) return undefined;
  if ((via !== 'ws' && via !== 'rest') || !Number.isSafeInteger(at)) return undefined;
  const origin: Origin = { userId: (userId as number | null) ?? undefined, username: (username as string | null) ?? undefined, ip: (ip as string | null) ?? undefined, via };
  return refused === undefined ? { origin, at: at as number } : { origin, at: at as number, refused: refused as ResultCode };
}

/** A command as submitted or as journaled: the fields an entry reads (order ids only once journaled). */
type Loose = { type: string } & Record<string, unknown>;

/**
 * The audit entry of a user's command, sent at `at` (wall time, ms): `ack` is its acknowledgement (live),
 * undefined when it is made again from the journal (recovered). Undefined for a command the audit log does
 * not record.
 */
export function commandEntry(origin: Origin, command: Command | VenueCommand, at: number, ack: Ack | undefined): AuditEntry | undefined {
  const what = commandAction(command);
  if (what === undefined) return undefined;
  const { action, details } = what;
  details.via = origin.via;
  if (ack === undefined) details.recovered = true;
  else if (ack.rejected !== undefined) {
    const r = ack.rejected;
    details.rejected = r.code;
    if (r.orderId !== undefined) details.orderId = r.orderId;
    if (r.originalOrderId !== undefined) details.originalOrderId = r.originalOrderId;
    if (r.clientOrderId !== undefined) details.clientOrderId = r.clientOrderId;
  }
  return { ts: at, userId: origin.userId, username: origin.username, ip: origin.ip, action, details };
}

/**
 * The audit action and details of a command the log records (as submitted, or as journaled with its order
 * ids), or undefined. The details are a new object each time, the caller's to extend.
 */
export function commandAction(command: Command | VenueCommand): { action: string; details: Record<string, unknown> } | undefined {
  const c = command as unknown as Loose;
  let action: string;
  let details: Record<string, unknown>;
  switch (c.type) {
    case 'PlaceOrder':
      action = 'order.place';
      details = { symbol: c.symbol, side: c.side, orderType: c.orderType, qty: c.qty, price: c.price, orderId: c.orderId };
      break;
    case 'PlaceOco': {
      const legs = c.legs as { symbol: string; orderId?: number }[];
      action = 'order.placeOco';
      details = { symbol: legs[0]?.symbol, orderIds: legs.every((l) => l.orderId !== undefined) ? legs.map((l) => l.orderId) : undefined };
      break;
    }
    case 'CancelOrder':
      action = 'order.cancel';
      details = { orderId: c.orderId };
      break;
    case 'ReplaceOrder':
      action = 'order.replace';
      details = { orderId: c.orderId, qty: c.qty, price: c.price, stopPrice: c.stopPrice, trailAmount: c.trailAmount };
      break;
    case 'CreateInstrument':
      action = 'admin.CreateInstrument';
      details = { type: c.type, symbol: (c.instrument as { symbol?: unknown } | undefined)?.symbol };
      break;
    case 'SetInstrumentStatus':
      action = 'admin.SetInstrumentStatus';
      details = { type: c.type, symbol: c.symbol, status: c.status };
      break;
    case 'Deposit':
    case 'Withdraw':
      action = `admin.${c.type}`;
      details = { type: c.type, accountId: c.accountId, amount: c.amount };
      break;
    default:
      return undefined;
  }
  return { action, details };
}

/**
 * Makes again the entries of the tagged commands the journal holds after the Store's audit mark (those a
 * crash took before they were written), and writes them, with their seqs: the mark moves with them. Runs at
 * start-up, before any entry is made. A Store without a mark (a new users database, or one from
 * before marks), or with one beyond the venue's last command (a venue restored on its own), is given the
 * venue's last command. Returns how many entries were made, and how many tags named no command the log
 * records or could not be read.
 */
export function recoverAudit(venue: Venue, store: Store): { recovered: number; skipped: number } {
  const top = venue.lastSeq;
  const mark = store.auditMark();
  let recovered = 0;
  let skipped = 0;
  if (mark === undefined || !(mark <= top)) {
    store.setAuditMark(top);
    return { recovered, skipped };
  }
  store.auditHere = true;
  try {
    for (const f of venue.journalFrames(mark)) {
      const tags = f.tags;
      if (tags === undefined) continue;
      for (let i = 0; i < f.commands.length; i++) {
        const seq = f.seq + i;
        const text = tags[i];
        if (seq <= mark || text === null || text === undefined) continue;
        const tag = parseTag(text);
        const command = decodeCommand(f.commands[i]!, f.ts);
        const entry = tag === undefined ? undefined : commandEntry(tag.origin, command, tag.at, undefined);
        if (tag === undefined || entry === undefined) {
          skipped++;
          continue;
        }
        // A command the engine refused says so, as its live entry did: from the tag, or, in a journal from
        // before tags held the code, for an order from its record
        if (tag.refused !== undefined) entry.details = { ...entry.details, rejected: tag.refused };
        else if (command.type === 'PlaceOrder' && command.orderId !== undefined) {
          const r = venue.order(command.orderId);
          if (r?.status === 'rejected' && r.rejectCode !== undefined) entry.details = { ...entry.details, rejected: r.rejectCode };
        }
        store.audit(entry, seq);
        recovered++;
      }
    }
    store.flushAudit();
  } finally {
    store.auditHere = false;
  }
  return { recovered, skipped };
}
