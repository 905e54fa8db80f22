/**
 * Where secrets live: the OS keychain through keytar (Keychain on macOS, Credential Manager on Windows,
 * the Secret Service / libsecret on Linux), or, when keytar cannot load, ciphertext from Electron's
 * safeStorage in the user-data folder. Never a plaintext file, and no method or channel ever returns a
 * secret to a window: the hub reads secrets only to use them itself (a refresh token, an API key).
 *
 * Keys: one service name per app; the account is `<profileId>/<kind>`.
 */
export type SecretKind = 'refreshToken' | 'apiKey';

export interface CredentialStore {
  /** 'keytar', 'safeStorage' or 'memory' (nothing persisted: no keyring and no safeStorage here). */
  readonly backend: 'keytar' | 'safeStorage' | 'memory';
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  /** True when something was deleted. */
  delete(account: string): Promise<boolean>;
  has(account: string): Promise<boolean>;
  /** Every account name stored (not the secrets). */
  accounts(): Promise<string[]>;
}

export const SERVICE_NAME = 'TradeDesk';

export function secretAccount(profileId: string, kind: SecretKind): string {
  return `${profileId}/${kind}`;
}

/** Secrets in process memory only (the headless host without a keyring; tests). */
export class MemoryStore implements CredentialStore {
  readonly backend = 'memory' as const;
  readonly #map = new Map<string, string>();

  async get(account: string): Promise<string | undefined> {
    return this.#map.get(account);
  }
  async set(account: string, secret: string): Promise<void> {
    this.#map.set(account, secret);
  }
  async delete(account: string): Promise<boolean> {
    return this.#map.delete(account);
  }
  async has(account: string): Promise<boolean> {
    return this.#map.has(account);
  }
  async accounts(): Promise<string[]> {
    return [...this.#map.keys()];
  }
}
