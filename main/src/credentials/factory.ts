/**
 * Picks the credential store: keytar (the OS keychain) first; Electron's safeStorage when keytar cannot
 * load or the keyring does not answer; memory only (nothing persisted, a warning) when neither is there,
 * which is the headless host on a machine without a keyring. Never a plaintext file.
 */
import { join } from 'node:path';
import { openKeytarStore, type KeytarApi } from './keytar.js';
import { SafeStorageStore, safeStorageUsable, type SafeStorageLike } from './safe-storage.js';
import { MemoryStore, SERVICE_NAME, type CredentialStore } from './store.js';

export interface CredentialStoreOptions {
  userDataDir: string;
  service?: string;
  /** Electron's safeStorage (desktop only). */
  safeStorage?: SafeStorageLike;
  /** Replaces the keytar loader (tests). */
  loadKeytar?: () => Promise<KeytarApi | undefined>;
  platform?: string;
  onWarning?(message: string): void;
}

export const SAFE_STORAGE_FILE = 'secrets.json';

export async function createCredentialStore(o: CredentialStoreOptions): Promise<CredentialStore> {
  const keytar = await openKeytarStore({ service: o.service ?? SERVICE_NAME, ...(o.loadKeytar ? { load: o.loadKeytar } : {}) });
  if (keytar !== undefined) return keytar;
  if (o.safeStorage !== undefined && safeStorageUsable(o.safeStorage, o.platform)) {
    return new SafeStorageStore(o.safeStorage, join(o.userDataDir, SAFE_STORAGE_FILE), o.onWarning ? { onWarning: o.onWarning } : {});
  }
  o.onWarning?.('No OS keychain is available: sign-ins and API keys are kept in memory only until the app quits.');
  return new MemoryStore();
}
