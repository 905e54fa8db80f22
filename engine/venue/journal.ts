/**
 * The command journal: one row per group-commit frame (see schema.ts), checked with a CRC-32 per frame.
 *
 * Why frames rather than one row per command: a group commit is already the unit of atomicity (SQLite's WAL
 * commits the whole transaction or nothing), and one row per frame means one JSON.stringify, one CRC and
 * one B-tree insert per batch instead of per command on the hot path, and one JSON.parse per frame on
 * recovery. A command is addressed by its sequence number: frame.seq + index within the frame.
 */
import { crc32 } from 'node:zlib';
import { Engine, type EngineOptions } from '../core/index.js';
import { decodeCommand, maxOrderId, type Encoded } from './codec.js';
import { VenueError } from './errors.js';
import type { Db } from './schema.js';

export interface FrameRow {
  seq: number;
  n: number;
  ts: number;
  data: string;
  crc: number;
  /** The commands' tags (Venue.submit), a JSON array of text or null per command; null when none has one. */
  tags: string | null;
}

/** A frame's tags: one per command, null for a command submitted without one. */
export type FrameTags = (string | null)[];

/**
 * CRC-32 of the frame header and its data (and its tags, when it has any, marked in the header): a damaged
 * seq, count, time, payload or tag changes it, and so does a tagged frame's tags turned NULL.
 */
export function frameCrc(seq: number, n: number, ts: number, data: string, tags: string | null = null): number {
  if (tags === null) return crc32(data, crc32(`${seq},${n},${ts}|`));
  return crc32(tags, crc32(data, crc32(`${seq},${n},${ts},tags|`)));
}

/** Why a frame cannot be used, or its commands (and tags, when it has any) when it is intact. */
export function checkFrame(row: FrameRow): { reason: string } | { commands: Encoded[]; tags: FrameTags | undefined } {
  if (typeof row.data !== 'string') return { reason: 'payload is not text' };
  const tagText = row.tags ?? null;
  if (tagText !== null && typeof tagText !== 'string') return { reason: 'tags are not text' };
  if (frameCrc(row.seq, row.n, row.ts, row.data, tagText) !== row.crc) return { reason: 'CRC mismatch' };
  let commands: unknown;
  let tags: unknown;
  try {
    commands = JSON.parse(row.data);
    tags = tagText === null ? undefined : JSON.parse(tagText);
  } catch {
    return { reason: 'payload is not valid JSON' };
  }
  if (!Array.isArray(commands) || commands.length !== row.n || !commands.every(Array.isArray))
    return { reason: `payload does not hold ${row.n} encoded commands` };
  if (tags !== undefined && (!Array.isArray(tags) || tags.length !== row.n || !tags.every((t) => t === null || typeof t === 'string')))
    return { reason: `tags do not hold ${row.n} texts or nulls` };
  return { commands: commands as Encoded[], tags: tags as FrameTags | undefined };
}

/** Prepared statements for the journal. */
export class Journal {
  private readonly insert;
  private readonly frameAt;
  private readonly from;
  private readonly last;
  constructor(readonly db: Db) {
    this.insert = db.prepare('INSERT INTO journal (seq, n, ts, data, crc, tags) VALUES (?, ?, ?, ?, ?, ?)');
    this.frameAt = db.prepare('SELECT max(seq) FROM journal WHERE seq <= ?').pluck();
    this.from = db.prepare('SELECT seq, n, ts, data, crc, tags FROM journal WHERE seq >= ? ORDER BY seq LIMIT 64');
    this.last = db.prepare('SELECT seq, n FROM journal ORDER BY seq DESC LIMIT 1');
  }

  /** Appends one frame (inside the caller's transaction), with its commands' tags when any has one. */
  append(seq: number, ts: number, commands: Encoded[], tags?: FrameTags): void {
    const data = JSON.stringify(commands);
    const tagText = tags === undefined ? null : JSON.stringify(tags);
    this.insert.run(seq, commands.length, ts, data, frameCrc(seq, commands.length, ts, data, tagText), tagText);
  }

  /**
   * Frames holding commands after `afterSeq`, in order (the first one may start at or before afterSeq).
   * Read in pages rather than with a live cursor, so the consumer may write to the database between frames
   * (better-sqlite3 allows no other statement while an iterator is open).
   */
  *framesAfter(afterSeq: number): Generator<FrameRow> {
    let start = (this.frameAt.get(afterSeq + 1) as number | null) ?? 0;
    for (;;) {
      const page = this.from.all(start) as FrameRow[];
      for (const row of page) yield row;
      if (page.length < 64) return;
      start = page[page.length - 1]!.seq + 1;
    }
  }

  /** Sequence number of the last journaled command (0 for an empty journal). */
  lastSeq(): number {
    const r = this.last.get() as { seq: number; n: number } | undefined;
    return r === undefined ? 0 : r.seq + r.n - 1;
  }
}

/**
 * The sequence numbers of frames set aside on recovery (journal_quarantine, onDamagedJournal 'truncate'),
 * as ranges [first, last], merged and in order. They are never given out again: the journal goes on after
 * them, and a gap they cover is not a gap.
 */
export function setAsideRanges(db: Db): [number, number][] {
  const rows = db.prepare('SELECT seq, n FROM journal_quarantine WHERE n > 0 ORDER BY seq').all() as { seq: number; n: number }[];
  const out: [number, number][] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    const end = r.seq + r.n - 1;
    if (last !== undefined && r.seq <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([r.seq, end]);
  }
  return out;
}

/** Whether every sequence number from `from` to `to` was set aside (setAsideRanges). */
export function wasSetAside(ranges: readonly (readonly [number, number])[], from: number, to: number): boolean {
  return ranges.some(([a, b]) => a <= from && to <= b);
}

export interface ReplayResult {
  engine: Engine;
  /** Last sequence number applied. */
  seq: number;
  /** Largest order id seen. */
  maxOrderId: number;
  /** Time stamp of the last frame applied. */
  lastTs: number;
}

/**
 * Replays the journal from an empty engine (the proof that recovery is right: the recovered state must hash
 * equal to this). Stops after `upTo` when given. Throws JOURNAL_CORRUPT on any damaged frame or gap (but for
 * the commands set aside on a recovery, setAsideRanges, which are skipped).
 */
export function replayJournal(
  db: Db,
  engineOptions: EngineOptions,
  upTo = Infinity,
  onApplied?: (seq: number, engine: Engine) => void,
): ReplayResult {
  const engine = new Engine(engineOptions);
  const j = new Journal(db);
  const aside = setAsideRanges(db);
  let seq = 0;
  let maxId = 0;
  let lastTs = 0;
  for (const row of j.framesAfter(0)) {
    if (seq >= upTo) break;
    if (row.seq > seq + 1 && wasSetAside(aside, seq + 1, row.seq - 1)) seq = Math.min(row.seq - 1, upTo);
    if (seq >= upTo) break;
    if (row.seq !== seq + 1)
      throw new VenueError('JOURNAL_CORRUPT', `Journal gap: expected frame at ${seq + 1}, found ${row.seq}`, { seq: seq + 1 });
    const chk = checkFrame(row);
    if ('reason' in chk)
      throw new VenueError('JOURNAL_CORRUPT', `Journal frame at ${row.seq} is damaged: ${chk.reason}`, { seq: row.seq });
    for (const a of chk.commands) {
      if (seq >= upTo) break;
      seq++;
      engine.execute(decodeCommand(a, row.ts));
      const m = maxOrderId(a);
      if (m > maxId) maxId = m;
      onApplied?.(seq, engine);
    }
    lastTs = row.ts;
  }
  return { engine, seq, maxOrderId: maxId, lastTs };
}
