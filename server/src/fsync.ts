/**
 * fsync by path, the same on Linux, macOS and Windows.
 *
 * - A file is opened for writing ('r+') to be synced: Windows' FlushFileBuffers needs a handle with write
 *   access and fails with EPERM on one opened read-only (POSIX syncs either). The file is not written.
 * - A folder (its entries: a file created or renamed in it) is synced on Linux and macOS. Windows has no handle
 *   on a folder that can be flushed (FlushFileBuffers refuses a read-only one, and a folder has no other);
 *   NTFS journals a rename itself, so there it is skipped.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** fsync of a path opened with `flags` (a file 'r+', a folder 'r'). */
function syncAt(path: string, flags: 'r' | 'r+'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** syncAt on the thread pool (a busy disk can take long). */
async function syncAtOffLoop(path: string, flags: 'r' | 'r+'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a file. */
export const syncFile = (path: string): void => syncAt(path, 'r+');

/** fsync of a file on the thread pool. */
export const syncFileOffLoop = (path: string): Promise<void> => syncAtOffLoop(path, 'r+');

/** fsync of a folder's entries; nothing on Windows (see above). */
export function syncFolder(path: string, platform: NodeJS.Platform = process.platform): void {
  if (platform !== 'win32') syncAt(path, 'r');
}

/** fsync of a folder's entries on the thread pool; nothing on Windows (see above). */
export async function syncFolderOffLoop(path: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  if (platform !== 'win32') await syncAtOffLoop(path, 'r');
}
