/**
 * Small JSON files in the user-data folder (profiles, link groups, window state): read tolerantly (a
 * missing or corrupt file reads as undefined, the caller falls back to defaults), written atomically
 * (temp file, fsynced, then renamed over the file; mode 0600), so a crash or a power cut leaves the old file or
 * the new one, never half of one nor an empty one (a rename can reach the disk before the data it names).
 * Never used for secrets. writeTextFileAtomic is the same write for any text (an export saved where the user
 * chose).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function writeJsonFileAtomic(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeTextFileAtomic(file, JSON.stringify(value, null, 2) + '\n', 0o600);
}

/** Writes `text` (UTF-8) to `file` whole or not at all: a temp file beside it, then renamed; no temp file left on failure. */
export function writeTextFileAtomic(file: string, text: string, mode?: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', mode ?? 0o666);
    try {
      writeFileSync(fd, text, 'utf8');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameOver(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * What a rename over a file meets on Windows while another program (the search indexer, an antivirus scanner,
 * a backup tool) has that file open for a moment: the rename is refused, and succeeds again once it is closed.
 */
const BUSY_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);
/** Waits between attempts (ms): about 1.3 s in all before the error is given up to the caller. */
const RENAME_WAITS = [10, 20, 40, 80, 160, 320, 640];

export interface RenameSeams {
  platform?: NodeJS.Platform;
  rename?: (from: string, to: string) => void;
  pause?: (ms: number) => void;
}

/**
 * Renames `from` over `to`. On Windows a refusal for a file held open elsewhere is tried again a few times
 * (RENAME_WAITS); elsewhere, and for any other error, it throws at once.
 */
export function renameOver(from: string, to: string, o: RenameSeams = {}): void {
  const platform = o.platform ?? process.platform;
  const rename = o.rename ?? renameSync;
  const pause = o.pause ?? ((ms: number) => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms));
  for (let attempt = 0; ; attempt++) {
    try {
      rename(from, to);
      return;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const wait = RENAME_WAITS[attempt];
      if (platform !== 'win32' || typeof code !== 'string' || !BUSY_CODES.has(code) || wait === undefined) throw e;
      pause(wait);
    }
  }
}
