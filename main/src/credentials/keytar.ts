/**
 * Secrets in the OS keychain through keytar (an optional dependency: it needs libsecret on Linux to
 * build, so installing never fails without it). keytar is loaded lazily with a dynamic import; when it
 * cannot load, or the keyring does not answer (no Secret Service on the session bus), `openKeytarStore`
 * returns undefined and the factory falls back.
 */
import { SERVICE_NAME, type CredentialStore } from './store.js';

export interface KeytarApi {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

export class KeytarStore implements CredentialStore {
  readonly backend = 'keytar' as const;
  constructor(
    readonly keytar: KeytarApi,
    readonly service: string = SERVICE_NAME,
  ) {}

  async get(account: string): Promise<string | undefined> {
    return (await this.keytar.getPassword(this.service, account)) ?? undefined;
  }
  async set(account: string, secret: string): Promise<void> {
    await this.keytar.setPassword(this.service, account, secret);
  }
  async delete(account: string): Promise<boolean> {
    return this.keytar.deletePassword(this.service, account);
  }
  async has(account: string): Promise<boolean> {
    return (await this.keytar.getPassword(this.service, account)) !== null;
  }
  async accounts(): Promise<string[]> {
    return (await this.keytar.findCredentials(this.service)).map((c) => c.account);
  }
}

/** Loads keytar (lazily). Undefined when the module is missing or its native part cannot load. */
export async function loadKeytar(): Promise<KeytarApi | undefined> {
  try {
    const mod = (await import('keytar')) as unknown as KeytarApi & { default?: KeytarApi };
    // keytar is CommonJS: its functions are on the default export (named exports are partial).
    const api = mod.default ?? mod;
    const complete = (['getPassword', 'setPassword', 'deletePassword', 'findCredentials'] as const).every((k) => typeof api[k] === 'function');
    return complete ? api : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A KeytarStore if keytar loads AND the keyring answers a read (a locked or absent Secret Service fails
 * here, not later at the first sign-in). `timeoutMs` bounds a keyring that hangs.
 */
export async function openKeytarStore(
  options: { service?: string; timeoutMs?: number; load?: () => Promise<KeytarApi | undefined> } = {},
): Promise<KeytarStore | undefined> {
  const api = await (options.load ?? loadKeytar)();
  if (api === undefined) return undefined;
  const store = new KeytarStore(api, options.service ?? SERVICE_NAME);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const probe = store.get('__probe__');
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('keyring did not answer')), options.timeoutMs ?? 5000);
    });
    await Promise.race([probe, timeout]);
    return store;
  } catch {
    return undefined;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
