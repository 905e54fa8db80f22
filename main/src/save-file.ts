/**
 * Saving an export (`hub.file.save`): the user picks where in the system's save dialog, offered the name in
 * their downloads folder; the file is written whole or not at all (temp file beside it, then renamed). The
 * dialog is Electron's and stays in main/electron; this is the part that runs under plain Node.
 */
import { basename, join } from 'node:path';
import { writeTextFileAtomic } from './json-file.js';

/** Asks where to save, offering `defaultPath`; undefined (or '') when the user cancels. */
export type AskSavePath = (defaultPath: string) => Promise<string | undefined>;

export interface SavedFile {
  saved: boolean;
  path?: string;
}

/** Asks where, then writes `text` there (UTF-8). `name` is a plain file name (SaveFileNameSchema). */
export async function saveTextFile(ask: AskSavePath, folder: string, name: string, text: string): Promise<SavedFile> {
  if (basename(name) !== name) throw new Error(`Not a plain file name: ${name}`);
  const path = await ask(join(folder, name));
  if (path === undefined || path === '') return { saved: false };
  writeTextFileAtomic(path, text);
  return { saved: true, path };
}
