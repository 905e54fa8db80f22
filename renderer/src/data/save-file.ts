/**
 * Saving a text file the UI made (an export): in the desktop app the hub's save dialog (`hub.file.save`; a
 * download would be cancelled, main/src/security/handlers.ts), in a browser a download.
 */
import type { Live } from './live.js';

export interface SaveOutcome {
  saved: boolean;
  /** Where the desktop saved it (a browser does not say). */
  path?: string;
}

export async function saveTextFile(live: Pick<Live, 'backend' | 'conn'>, name: string, text: string, mime = 'text/csv'): Promise<SaveOutcome> {
  if (live.backend.kind === 'desktop') return live.conn.call('hub.file.save', { name, text }, { timeoutMs: 10 * 60_000 });
  const url = URL.createObjectURL(new Blob([text], { type: `${mime};charset=utf-8` }));
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.style.display = 'none';
    document.body.appendChild(a);
    a.click();
    a.remove();
  } finally {
    // the download has its own reference by now
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
  return { saved: true };
}
