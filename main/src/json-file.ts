/**
 * Small JSON files in the user-data folder (profiles, link groups, window state): read tolerantly (a
 * missing or corrupt file reads as undefined, the caller falls back to defaults), written atomically
 * (temp file, fsynced, then renamed over the file; mode 0600), so a crash or a power cut leaves the old file or
 * the new one, never half of one nor an empty one (a rename can reach the disk before the data it names).
 * Never used for secrets. writeTextFileAtomic is the same write for any text (an export saved where the user
 * chose).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renameOver } from '../../engine/host/rename.js';

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
