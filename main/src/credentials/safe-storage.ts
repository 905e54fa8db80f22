/**
 * The fallback when keytar cannot load: Electron's safeStorage encrypts each secret with a key the OS
 * protects (Keychain on macOS, DPAPI on Windows, the Secret Service / KWallet on Linux) and only the
 * ciphertext is written, to `<userData>/secrets.json` (mode 0600). The safeStorage functions are injected,
 * so this module runs (and is tested) under plain Node.
 *
 * Refused when encryption is unavailable, and on Linux when safeStorage would use its `basic_text` backend
 * (a hard-coded key: that is obfuscation, not protection).
 */
import { readJsonFileOrSetAside, setFileAside, writeJsonFileAtomic, type DamagedFile } from '../json-file.js';
import type { CredentialStore } from './store.js';

/** The part of Electron's `safeStorage` this store needs. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only in Electron. */
  getSelectedStorageBackend?(): string;
}

export function safeStorageUsable(s: SafeStorageLike, platform: string = process.platform): boolean {
  try {
    if (!s.isEncryptionAvailable()) return false;
    if (platform === 'linux' && s.getSelectedStorageBackend !== undefined) {
      const b = s.getSelectedStorageBackend();
      if (b === 'basic_text' || b === 'unknown') return false;
    }
    return true;
  } catch {
    return false;
  }
}

export class SafeStorageStore implements CredentialStore {
  readonly backend = 'safeStorage' as const;
  readonly #s: SafeStorageLike;
  readonly #file: string;
  readonly #onWarning: ((message: string) => void) | undefined;

  /** `onWarning`: told when the file was damaged (renamed aside: its secrets are lost, sign in again). */
  constructor(safeStorage: SafeStorageLike, file: string, o: { onWarning?(message: string): void } = {}) {
    this.#s = safeStorage;
    this.#file = file;
    this.#onWarning = o.onWarning;
  }

  async get(account: string): Promise<string | undefined> {
    const c = this.#read()[account];
    if (c === undefined) return undefined;
    try {
      return this.#s.decryptString(Buffer.from(c, 'base64'));
    } catch {
      return undefined; // encrypted under another key (another user, a reinstalled OS keyring)
    }
  }
  async set(account: string, secret: string): Promise<void> {
    const all = this.#read();
    all[account] = this.#s.encryptString(secret).toString('base64');
    writeJsonFileAtomic(this.#file, all);
  }
  async delete(account: string): Promise<boolean> {
    const all = this.#read();
    if (!(account in all)) return false;
    delete all[account];
    writeJsonFileAtomic(this.#file, all);
    return true;
  }
  async has(account: string): Promise<boolean> {
    return Object.hasOwn(this.#read(), account);
  }
  async accounts(): Promise<string[]> {
    return Object.keys(this.#read());
  }

  #read(): Record<string, string> {
    const damaged = (d: DamagedFile): void =>
      this.#onWarning?.(
        `The stored secrets file ${d.reason}${d.keptAs !== undefined ? `: it was renamed to ${d.keptAs}` : ''}. Sign-ins and API keys kept there have to be entered again.`,
      );
    const j = readJsonFileOrSetAside(this.#file, damaged);
    if (j === undefined) return {};
    if (typeof j !== 'object' || j === null || Array.isArray(j)) {
      setFileAside(this.#file, 'is not a table of secrets', damaged);
      return {};
    }
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(j)) if (typeof v === 'string') out[k] = v;
    return out;
  }
}
