/**
 * Small JSON files in the user-data folder (profiles, link groups, window state): read tolerantly (a
 * missing or corrupt file reads as undefined, the caller falls back to defaults), written atomically
 * (temp file + rename, mode 0600) so a crash never leaves half a file. Never used for secrets.
 * writeTextFileAtomic is the same write for any text (an export saved where the user chose).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
    writeFileSync(tmp, text, mode === undefined ? 'utf8' : { encoding: 'utf8', mode });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
