/**
 * Renaming a file or a folder into place, on every system the hosts run on (the exchange server, the
 * desktop's main process). Node layer: `node:*` only.
 *
 * On Windows a rename is refused (EPERM, EACCES, EBUSY) while another program has the file, or a file in the
 * folder, open for a moment: the search indexer, an antivirus scanner, a backup or sync tool, which open
 * exactly the files just written. The rename succeeds once they let go, so there it is tried again a few
 * times. Elsewhere, and for any other error, the first error is thrown.
 */
import { rename as renameAsync } from 'node:fs/promises';
import { renameSync } from 'node:fs';

const BUSY_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);
/** Waits between attempts (ms) of a rename on the caller's thread: about 1.3 s in all. */
export const RENAME_WAITS: readonly number[] = [10, 20, 40, 80, 160, 320, 640];
/** Waits between attempts (ms) of a rename that waits off the event loop: about 9 s in all. */
export const RENAME_WAITS_ASYNC: readonly number[] = [...RENAME_WAITS, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000];

export interface RenameSeams {
  platform?: NodeJS.Platform;
  waits?: readonly number[];
}

function retried(e: unknown, attempt: number, o: RenameSeams, waits: readonly number[]): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if ((o.platform ?? process.platform) !== 'win32' || typeof code !== 'string' || !BUSY_CODES.has(code)) return undefined;
  return waits[attempt];
}

/** Renames `from` to `to` (over a file there), waiting on this thread between attempts on Windows. */
export function renameOver(from: string, to: string, o: RenameSeams & { rename?: (from: string, to: string) => void; pause?: (ms: number) => void } = {}): void {
  const rename = o.rename ?? renameSync;
  const pause = o.pause ?? ((ms: number) => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms));
  for (let attempt = 0; ; attempt++) {
    try {
      rename(from, to);
      return;
    } catch (e) {
      const wait = retried(e, attempt, o, o.waits ?? RENAME_WAITS);
      if (wait === undefined) throw e;
      pause(wait);
    }
  }
}

/** renameOver with the waits off the event loop (and longer: RENAME_WAITS_ASYNC). */
export async function renameOverAsync(from: string, to: string, o: RenameSeams & { rename?: (from: string, to: string) => Promise<void> } = {}): Promise<void> {
  const rename = o.rename ?? renameAsync;
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (e) {
      const wait = retried(e, attempt, o, o.waits ?? RENAME_WAITS_ASYNC);
      if (wait === undefined) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
