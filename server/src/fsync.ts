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

/** fsync of a file. */
export function syncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a file on the thread pool (a busy disk can take long). */
export async function syncFileOffLoop(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a folder's entries; nothing on Windows (see above). */
export function syncFolder(path: string, platform: NodeJS.Platform = process.platform): void {
  if (platform === 'win32') return;
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a folder's entries on the thread pool; nothing on Windows (see above). */
export async function syncFolderOffLoop(path: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  if (platform === 'win32') return;
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
