/**
 * One WebSocket as a protocol Port (engine/protocol/port.ts), with the server's per-connection hardening:
 * inbound token-bucket rate limit (over the limit: RATE_LIMITED replies; persistent abuse: close 1008),
 * JSON parsing with a clear error for non-JSON, encode-once frames (market/encoded.ts), cork/uncork for
 * batched writes, and backpressure (`flow`) from the socket's buffered amount.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import { addCloseListener, usableId, type CloseInfo, type FlowControl, type Port } from '../../../engine/protocol/index.js';
import { encodedBytesOf } from '../market/encoded.js';
import type { Corkable } from '../market/hub.js';

export interface ConnLimits {
  rate: number;
  burst: number;
  abuseLimit: number;
  highWaterBytes: number;
  /**
   * Bytes the socket may hold unsent (the peer not reading) before the connection is closed as a slow
   * consumer (RESYNC_REQUIRED): replies are not held back by `flow` as pushes are, so without this bound a
   * client that sends requests and reads nothing would make the server buffer without limit. A batch is
   * written while what waits is within it, so the most held is the bound plus one turn's batch.
   */
  maxBufferedBytes: number;
}

export interface ConnEvents {
  /** Called for every inbound message before the protocol session sees it; return true to consume it. */
  intercept?(msg: unknown): boolean;
  /**
   * Called for a frame that is not JSON; return true when it was dealt with (the handshake failed and the
   * connection is closing), else the connection answers a non-fatal `error` BAD_REQUEST.
   */
  unparsable?(): boolean;
  onRateLimited?(): void;
  onAbuse?(): void;
  onFramesOut?(n: number): void;
  /** The peer left more than maxBufferedBytes unread: the connection is being closed. */
  onOverflow?(): void;
}

/** Server close codes beyond the protocol's (engine/protocol/messages.ts CLOSE_CODES). */
export const SERVER_CLOSE = {
  GOING_AWAY: 1001,
  /** A slow consumer of a private stream: reconnect and resynchronise from a snapshot. */
  RESYNC: 4000,
} as const;

export class Conn implements Port, Corkable {
  readonly ws: WebSocket;
  readonly ip: string;
  /** Whether the peer answered the last ping (see ping()). */
  alive = true;
  /** The last ping's payload: only a pong that echoes it counts (an unsolicited pong proves no reading). */
  #pingData: Buffer | undefined;
  /** Closing for overflow: the error frame and the close frame may still be written. */
  #overflowed = false;
  /** See Corkable.hubTick. */
  hubTick = -1;
  #closed = false;
  readonly #listeners = new Set<(msg: unknown) => void>();
  readonly #closeListeners = new Set<(info: CloseInfo) => void>();
  #closeInfo: CloseInfo | undefined;
  #tokens: number;
  #lastRefill: number;
  #violations = 0;
  #violationWindow = 0;
  #corks = 0;
  /** The buffer large batches are assembled in, and whether the socket still holds it (see #writeBatch). */
  #spare: Buffer | undefined;
  #spareBusy = false;
  /**
   * Frames of the current batch, three entries each, assembled at uncork(): a push of pre-encoded data is
   * (sub, seq, data bytes) with the envelope written around it then; any other frame is (-1, its length in
   * UTF-8 bytes, its JSON text), encoded straight into the batch's buffer.
   */
  #batch: (number | Buffer | string)[] | undefined;
  #batchBytes = 0;
  /** Frames in the batch (reported to events.onFramesOut once per write). */
  #batchFrames = 0;
  /** The socket's buffered bytes when the batch began (nothing is written until uncork). */
  #corkBuffered = 0;
  readonly #limits: ConnLimits;
  readonly events: ConnEvents;

  constructor(ws: WebSocket, ip: string, limits: ConnLimits, events: ConnEvents = {}) {
    this.ws = ws;
    this.ip = ip;
    this.#limits = limits;
    this.events = events;
    this.#tokens = limits.burst;
    this.#lastRefill = performance.now();
    ws.on('message', (data, isBinary) => this.#onRaw(data, isBinary));
    ws.on('close', (code, reason) => this.#onClosed({ code, reason: reason.toString() }));
    ws.on('pong', (data) => {
      if (this.#pingData !== undefined && data.equals(this.#pingData)) this.alive = true;
    });
  }

  /**
   * A heartbeat: false if the peer did not answer the previous ping (then terminate it); else pings again,
   * with a payload of its own that the pong must echo, so that only a peer that reads what the server sends
   * can answer (RFC 6455 §5.5.3).
   */
  ping(): boolean {
    if (!this.alive) return false;
    this.alive = false;
    this.#pingData = randomBytes(8);
    this.ws.ping(this.#pingData);
    return true;
  }

  get socket(): Socket | undefined {
    return (this.ws as unknown as { _socket?: Socket })._socket;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---------------------------------------------------------------- Port

  send(msg: unknown): void {
    if (this.#closed || this.ws.readyState !== WebSocket.OPEN) return;
    const m = msg as { t?: unknown; sub?: unknown; seq?: unknown; data?: unknown };
    const bytes = m.t === 'push' ? encodedBytesOf(m.data) : undefined;
    if (bytes !== undefined && isCount(m.sub) && isCount(m.seq)) {
      this.#add(m.sub, m.seq, bytes);
      return;
    }
    const body = JSON.stringify(msg);
    this.#add(-1, Buffer.byteLength(body, 'utf8'), body);
  }

  /** send({ t: 'push', sub, seq, data }) without the message object (Port.sendPush). */
  sendPush(sub: number, seq: number, data: unknown): void {
    const bytes = encodedBytesOf(data);
    if (bytes === undefined || !isCount(sub) || !isCount(seq)) {
      this.send({ t: 'push', sub, seq, data });
      return;
    }
    if (this.#closed || this.ws.readyState !== WebSocket.OPEN) return;
    this.#add(sub, seq, bytes);
  }

  /**
   * Adds a frame to the batch (see #batch), opening one if needed. Frames are collected and written in one
   * buffer at uncork(); a pushed pre-encoded value (hub ticks) costs three array slots per subscriber, no
   * string and no buffer of its own.
   */
  #add(sub: number, seqOrLength: number, body: Buffer | string): void {
    this.#open();
    this.#batch!.push(sub, seqOrLength, body);
    this.#batchBytes += typeof body === 'string' ? seqOrLength + 10 : body.length + PUSH_OVERHEAD;
    this.#batchFrames++;
  }

  /**
   * Opens a batch on the first send of a turn of the event loop, written right after the turn (or at the
   * uncork() of a cork() around it): the replies resolved by one group commit, and anything else sent in
   * that turn, leave in one write.
   */
  #open(): void {
    if (this.#batch !== undefined) return;
    this.cork();
    setImmediate(() => this.uncork());
  }

  onMessage(cb: (msg: unknown) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  onClose(cb: (info: CloseInfo) => void): () => void {
    return addCloseListener(this.#closeListeners, this.#closeInfo, cb);
  }

  close(code = 1000, reason?: string): void {
    if (this.#closed) return;
    this.#writeBatch(); // what was sent before the close goes before the close frame
    this.#closed = true;
    try {
      this.ws.close(code, reason?.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
  }

  /** Sends a session-level error and closes (e.g. SESSION_REVOKED). */
  closeWithError(code: number, error: { code: string; message: string; details?: Record<string, unknown> }, reason: string): void {
    this.send({ t: 'error', error });
    this.close(code, reason);
    // A peer that does not read will never complete the close handshake: cut it after a grace period.
    setTimeout(() => this.ws.terminate(), 5000).unref();
  }

  terminate(): void {
    this.#closed = true;
    this.ws.terminate();
  }

  // ---------------------------------------------------------------- batching and flow

  /**
   * Every data frame goes through a batch: frames sent between cork() and uncork() (a hub tick, or one turn
   * of the event loop) are assembled by this class (unmasked text frames, RFC 6455 §5.2) and written to the
   * socket in one piece. Safe alongside `ws`, which only writes control frames here (ping, pong, close)
   * and, without permessage-deflate, writes them synchronously; close() writes the batch before the close
   * frame.
   */
  cork(): void {
    if (this.#corks++ === 0) {
      this.#batch = [];
      this.#batchBytes = 0;
      this.#batchFrames = 0;
      this.#corkBuffered = this.ws.bufferedAmount;
    }
  }
  uncork(): void {
    if (this.#corks === 0 || --this.#corks > 0) return;
    this.#writeBatch();
  }

  #writeBatch(): void {
    const batch = this.#batch;
    const frames = this.#batchFrames;
    this.#batch = undefined;
    this.#corks = 0;
    this.#batchBytes = 0;
    this.#batchFrames = 0;
    if (batch === undefined || batch.length === 0) return;
    const sock = this.socket;
    if (sock === undefined || this.#closed || this.ws.readyState !== WebSocket.OPEN) return;
    const size = assembledSize(batch);
    if (!this.#overflowed && sock.writableLength > this.#limits.maxBufferedBytes) {
      // the peer left more than the bound unread (judged by what waits, not by this batch: one turn's replies
      // may be large for a peer that reads): the batch is dropped and the connection closed with why
      this.#overflowed = true;
      this.events.onOverflow?.();
      this.closeWithError(
        SERVER_CLOSE.RESYNC,
        {
          code: 'RESYNC_REQUIRED',
          message: 'You left too much of what the server sent unread; reconnect and resynchronise',
          details: { bufferedBytes: sock.writableLength, limit: this.#limits.maxBufferedBytes },
        },
        'RESYNC_REQUIRED',
      );
      return;
    }
    if (size < SPARE_MIN) sock.write(assemble(batch, Buffer.allocUnsafe(size)));
    else {
      // A large batch (a hub tick to a subscriber of many symbols) is written from this connection's spare
      // buffer once the socket is done with its previous use: allocating a fresh one for every tick of every
      // subscriber made the allocator hand back memory and fault it in again (30k page faults a second in
      // the quote fan-out, and on some runs half the throughput).
      let spare = this.#spare;
      if (spare === undefined || this.#spareBusy || spare.length < size) {
        // with room to grow: the next tick's batch is rarely the same size
        spare = Buffer.allocUnsafeSlow(Math.max(size, Math.min(SPARE_MAX, Math.ceil((size * 1.25) / 4096) * 4096)));
        if (!this.#spareBusy && spare.length <= SPARE_MAX) this.#spare = spare;
      }
      const out = assemble(batch, spare.subarray(0, size));
      if (spare === this.#spare) {
        this.#spareBusy = true;
        sock.write(out, () => {
          if (this.#spare === spare) this.#spareBusy = false;
        });
      } else sock.write(out);
    }
    this.events.onFramesOut?.(frames);
  }

  readonly flow: FlowControl = {
    // While a batch is open nothing reaches the socket, so its buffered amount is the one read at cork().
    congested: () =>
      (this.#batch !== undefined ? this.#corkBuffered : this.ws.bufferedAmount) + this.#batchBytes > this.#limits.highWaterBytes,
    onDrain: (cb) => {
      const s = this.socket;
      if (s === undefined) return () => undefined;
      s.on('drain', cb);
      return () => s.off('drain', cb);
    },
  };

  // ---------------------------------------------------------------- inbound

  #take(): boolean {
    const now = performance.now();
    const l = this.#limits;
    this.#tokens = Math.min(l.burst, this.#tokens + ((now - this.#lastRefill) / 1000) * l.rate);
    this.#lastRefill = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    if (now - this.#violationWindow > 10_000) {
      this.#violationWindow = now;
      this.#violations = 0;
    }
    this.#violations++;
    return false;
  }

  #onRaw(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    if (!this.#take()) {
      this.events.onRateLimited?.();
      if (this.#violations > this.#limits.abuseLimit) {
        this.events.onAbuse?.();
        this.closeWithError(1008, { code: 'RATE_LIMITED', message: 'Too many messages; the connection is closed' }, 'RATE_LIMITED');
        return;
      }
      const id = requestIdOf(data, isBinary);
      const error = { code: 'RATE_LIMITED', message: 'Too many messages; slow down', details: { ratePerSec: this.#limits.rate } };
      if (id !== undefined) this.send({ t: 'res', id, ok: false, error });
      else this.send({ t: 'error', error });
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(textOf(data, isBinary));
    } catch {
      if (this.events.unparsable?.() !== true) this.send({ t: 'error', error: { code: 'BAD_REQUEST', message: 'A message must be one JSON object (text frame)' } });
      return;
    }
    if (this.events.intercept?.(msg) === true) return;
    for (const cb of this.#listeners) {
      try {
        cb(msg);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  #onClosed(info: CloseInfo): void {
    this.#closed = true;
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    this.#listeners.clear();
    const ls = [...this.#closeListeners];
    this.#closeListeners.clear();
    for (const cb of ls) {
      try {
        cb({ ...info });
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}

/** A frame's payload as text (a binary frame's bytes read as UTF-8). */
function textOf(data: RawData, isBinary: boolean): string {
  return isBinary || !Buffer.isBuffer(data) ? Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data as ArrayBuffer)]).toString('utf8') : data.toString('utf8');
}

/**
 * The request id a refused (rate-limited) message's reply goes to: its envelope's own `id`, as the session
 * would read it (usableId), never a key of the same name inside its params; undefined when the frame is not
 * JSON or has no usable id (then the refusal is a plain `error`). The frame is within ws.maxPayload, and this
 * runs only for a message over the limit.
 */
function requestIdOf(data: RawData, isBinary: boolean): number | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(textOf(data, isBinary));
  } catch {
    return undefined;
  }
  return usableId(msg);
}

const P_SUB = Buffer.from('{"t":"push","sub":', 'latin1');
const P_SEQ = Buffer.from(',"seq":', 'latin1');
const P_DATA = Buffer.from(',"data":', 'latin1');
/** Envelope bytes of a push besides its numbers and data. */
const ENVELOPE = P_SUB.length + P_SEQ.length + P_DATA.length + 1;
/** The same plus a frame header (at most), for the batch's size estimate. */
const PUSH_OVERHEAD = ENVELOPE + 10 + 32;
/** Batches of at least this many bytes are assembled in the connection's spare buffer (smaller ones come from Node's pool). */
const SPARE_MIN = 4096;
/** The largest spare buffer a connection keeps. */
const SPARE_MAX = 256 * 1024;

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

function putBytes(out: Buffer, o: number, b: Buffer): number {
  for (let k = 0; k < b.length; k++) out[o + k] = b[k]!;
  return o + b.length;
}

function putCount(out: Buffer, o: number, n: number, d: number): number {
  for (let k = o + d - 1; k >= o; k--) {
    const q = Math.floor(n / 10);
    out[k] = 48 + (n - q * 10);
    n = q;
  }
  return o + d;
}

/** The header of an unmasked final text frame of `len` payload bytes; returns the offset after it. */
function putHeader(out: Buffer, o: number, len: number): number {
  out[o++] = 0x81;
  if (len < 126) out[o++] = len;
  else if (len < 65_536) {
    out[o++] = 126;
    out[o++] = len >>> 8;
    out[o++] = len & 255;
  } else {
    out[o++] = 127;
    out.writeUInt16BE(0, o);
    out.writeUIntBE(len, o + 2, 6);
    o += 8;
  }
  return o;
}

/** The bytes assemble() writes for a batch. */
function assembledSize(batch: readonly (number | Buffer | string)[]): number {
  let total = 0;
  for (let i = 0; i < batch.length; i += 3) {
    const sub = batch[i] as number;
    const len = sub < 0 ? (batch[i + 1] as number) : ENVELOPE + digits(sub) + digits(batch[i + 1] as number) + (batch[i + 2] as Buffer).length;
    total += len + (len < 126 ? 2 : len < 65_536 ? 4 : 10);
  }
  return total;
}

/** Writes every frame of a batch (see #batch) into `out` (assembledSize(batch) bytes), each an unmasked final text frame. */
function assemble(batch: readonly (number | Buffer | string)[], out: Buffer): Buffer {
  let o = 0;
  for (let i = 0; i < batch.length; i += 3) {
    const sub = batch[i] as number;
    const seq = batch[i + 1] as number;
    if (sub < 0) {
      o = putHeader(out, o, seq);
      o += out.write(batch[i + 2] as string, o, seq, 'utf8');
      continue;
    }
    const body = batch[i + 2] as Buffer;
    const ds = digits(sub);
    const dq = digits(seq);
    const len = ENVELOPE + ds + dq + body.length;
    o = putHeader(out, o, len);
    o = putBytes(out, o, P_SUB);
    o = putCount(out, o, sub, ds);
    o = putBytes(out, o, P_SEQ);
    o = putCount(out, o, seq, dq);
    o = putBytes(out, o, P_DATA);
    if (body.length > 32) {
      out.set(body, o);
      o += body.length;
    } else o = putBytes(out, o, body);
    out[o++] = 0x7d; // '}'
  }
  return out;
}
