/**
 * A lock the operating system holds for this process: a SQLite file locked exclusively (`locking_mode =
 * EXCLUSIVE`), kept until the connection is closed or the process stops or dies, whatever its process id or
 * host name. The file names its holder (a table of one row) for whoever looks.
 */
import Database from 'better-sqlite3';

/**
 * Takes the lock on `file` (made if it is not there) and returns its connection (close it to let go);
 * throws what `inUse` gives when another process holds it. `holder` is the row written into the file.
 */
export function holdLockFile(file: string, holder: { column: string; type: 'TEXT' | 'INTEGER'; value: string | number }, inUse: () => Error): Database.Database {
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY'); // no journal file beside it: nothing in it needs to survive
    db.exec(`CREATE TABLE IF NOT EXISTS holder (${holder.column} ${holder.type} NOT NULL); DELETE FROM holder;`);
    db.prepare(`INSERT INTO holder (${holder.column}) VALUES (?)`).run(holder.value);
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw inUse();
    throw e;
  }
  return db;
}
