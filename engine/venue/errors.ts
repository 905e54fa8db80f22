/**
 * Errors the venue itself raises (as opposed to engine rejections, which are ordinary results carrying a
 * ResultCode). Every one has a stable code so callers (server, desktop main, tools) can branch on it and
 * show a clear message.
 */
export type VenueErrorCode =
  /** The file is not an SQLite database (or is encrypted / overwritten). */
  | 'DB_NOT_DATABASE'
  /** SQLite reports structural damage (SQLITE_CORRUPT) or the integrity check failed. */
  | 'DB_CORRUPT'
  /** The database was written by a newer version of the venue (schema_version above what this code knows). */
  | 'DB_TOO_NEW'
  /** An SQLite database, but not a venue database (other application id or tables without venue meta). */
  | 'DB_FOREIGN'
  /** Another process (or another Venue in this one) holds the database. */
  | 'DB_LOCKED'
  /** The file could not be opened or created. */
  | 'DB_CANTOPEN'
  /** A PRAGMA the durability contract depends on did not take effect (read back differently). */
  | 'PRAGMA_NOT_APPLIED'
  /** A journal frame is damaged (the last one too), or frames are missing: acknowledged commands would be lost. */
  | 'JOURNAL_CORRUPT'
  /**
   * The journal ends before the history watermark or a snapshot: commands journaled (and acknowledged)
   * after its end are missing (a venue file rolled back, or copied without its WAL; a history file newer
   * than it).
   */
  | 'JOURNAL_TRUNCATED'
  /** The engine configuration asked for differs from the one the journal was written with. */
  | 'CONFIG_MISMATCH'
  /** No snapshot could be used and the journal does not start at sequence 1. */
  | 'SNAPSHOT_INVALID'
  /** submit() after close() began. */
  | 'VENUE_CLOSED'
  /** A commit failed; the in-memory state may be ahead of the journal, so the venue stopped (reopen to recover). */
  | 'VENUE_FAILED'
  /**
   * The command was committed to the journal, but making it durable failed (an fsync of the journal that
   * returned an error): whether it is still there after a restart depends on the disk. It may have been
   * carried out: never retry it blindly. The venue stopped (reopen it, then look).
   */
  | 'VENUE_OUTCOME_UNKNOWN'
  /** The command could not be encoded for the journal (e.g. a BigInt or a cycle in it). */
  | 'BAD_COMMAND'
  /** A paging cursor that this venue did not hand out. */
  | 'BAD_CURSOR'
  /** A query argument out of range (limit, status). */
  | 'BAD_QUERY';

export class VenueError extends Error {
  override readonly name = 'VenueError';
  constructor(
    readonly code: VenueErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isVenueError(e: unknown, code?: VenueErrorCode): e is VenueError {
  return e instanceof VenueError && (code === undefined || e.code === code);
}

/** Maps an error thrown by better-sqlite3 while opening to a VenueError with a clear message. */
export function sqliteOpenError(e: unknown, path: string): VenueError | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const cause = { cause: e };
  if (code === 'SQLITE_NOTADB')
    return new VenueError('DB_NOT_DATABASE', `${path} is not an SQLite database (or it is damaged beyond use)`, { sqlite: code }, cause);
  if (code.startsWith('SQLITE_CORRUPT'))
    return new VenueError('DB_CORRUPT', `${path} is damaged: ${(e as Error).message}`, { sqlite: code }, cause);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new VenueError('DB_LOCKED', `${path} is in use by another venue (${code})`, { sqlite: code }, cause);
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM'))
    return new VenueError('DB_CANTOPEN', `Cannot open ${path} for writing: ${(e as Error).message}`, { sqlite: code }, cause);
  return undefined;
}
