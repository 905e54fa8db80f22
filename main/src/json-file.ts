/**
 * Small JSON files in the user-data folder (profiles, link groups, window state): read tolerantly (a
 * missing or corrupt file reads as undefined, the caller falls back to defaults; for the files whose loss
 * matters, readJsonFileOrSetAside moves a damaged one aside and says so, so the next write does not destroy
 * what could still be recovered from it), written atomically
 * (temp file, fsynced, then renamed over the file; mode 0600), so a crash or a power cut leaves the old file or
 * the new one, never half of one nor an empty one (a rename can reach the disk before the data it names).
 * Never used for secrets. writeTextFileAtomic is the same write for any text (an export saved where the user
 * chose).
 */
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renameOver } from '../../engine/host/rename.js';

export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** A file found damaged: why, and where it was moved (or copied) to; `keptAs` is absent when even that failed. */
export interface DamagedFile {
  file: string;
  reason: string;
  keptAs?: string;
}

/**
 * A JSON file's value, or undefined when there is none. A file that is there but cannot be read or is not
 * JSON is renamed aside (`<file>.corrupt-<timestamp>`, see setFileAside) and reported to `onDamaged`, and
 * reads as undefined too.
 */
export function readJsonFileOrSetAside(file: string, onDamaged: (d: DamagedFile) => void): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    setFileAside(file, `cannot be read (${errorText(e)})`, onDamaged);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    setFileAside(file, `is not valid JSON (${errorText(e)})`, onDamaged);
    return undefined;
  }
}

/**
 * Moves a damaged file out of the way, beside it as `<file>.corrupt-<timestamp>` (`copy`: copies it there and
 * leaves it, for a file that was read in part), and reports it.
 */
export function setFileAside(file: string, reason: string, onDamaged: (d: DamagedFile) => void, o: { copy?: boolean } = {}): void {
  const keptAs = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    if (o.copy === true) copyFileSync(file, keptAs);
    else renameSync(file, keptAs);
  } catch (e) {
    onDamaged({ file, reason: `${reason}; it could not be kept aside (${errorText(e)})` });
    return;
  }
  onDamaged({ file, reason, keptAs });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
