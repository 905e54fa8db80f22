/**
 * The credential store choice and the safeStorage fallback (Electron's safeStorage is injected; here a
 * real AES-256-GCM cipher with a key held in memory stands in for the OS-protected key).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCredentialStore, SAFE_STORAGE_FILE } from '../src/credentials/factory.js';
import { KeytarStore, type KeytarApi } from '../src/credentials/keytar.js';
import { SafeStorageStore, safeStorageUsable, type SafeStorageLike } from '../src/credentials/safe-storage.js';
import { tempDir } from './helpers.js';

function fakeSafeStorage(backend = 'gnome_libsecret', available = true): SafeStorageLike {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString(buf) {
      const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

const noKeytar = async (): Promise<KeytarApi | undefined> => undefined;
const brokenKeyring: KeytarApi = {
  getPassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
  setPassword: () => Promise.reject(new Error('no keyring')),
  deletePassword: () => Promise.reject(new Error('no keyring')),
  findCredentials: () => Promise.reject(new Error('no keyring')),
};

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

describe('SafeStorageStore', () => {
  it('writes only ciphertext (mode 0600), reads it back, deletes', async () => {
    tmp = tempDir();
    const file = join(tmp.dir, SAFE_STORAGE_FILE);
    const s = new SafeStorageStore(fakeSafeStorage(), file);
    await s.set('p/apiKey', 'canary-secret-value');
    await s.set('p/refreshToken', 'another-canary');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('canary');
    expect(text).not.toContain(Buffer.from('canary-secret-value').toString('base64'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await s.get('p/apiKey')).toBe('canary-secret-value');
    expect(await s.has('p/refreshToken')).toBe(true);
    expect((await s.accounts()).sort()).toEqual(['p/apiKey', 'p/refreshToken']);
    expect(await s.delete('p/apiKey')).toBe(true);
    expect(await s.delete('p/apiKey')).toBe(false);
    expect(await s.get('p/apiKey')).toBeUndefined();
  });

  it('a secret encrypted under another key reads as absent, not as garbage', async () => {
    tmp = tempDir();
    const file = join(tmp.dir, SAFE_STORAGE_FILE);
    await new SafeStorageStore(fakeSafeStorage(), file).set('p/apiKey', 'x');
    expect(await new SafeStorageStore(fakeSafeStorage(), file).get('p/apiKey')).toBeUndefined();
  });

  it('is not usable when encryption is unavailable or Linux would use the plain-text backend', () => {
    expect(safeStorageUsable(fakeSafeStorage('gnome_libsecret'), 'linux')).toBe(true);
    expect(safeStorageUsable(fakeSafeStorage('basic_text'), 'linux')).toBe(false);
    expect(safeStorageUsable(fakeSafeStorage('kwallet5', false), 'linux')).toBe(false);
    expect(safeStorageUsable(fakeSafeStorage('unknown'), 'darwin')).toBe(true); // the backend is a Linux notion
  });
});

describe('createCredentialStore', () => {
  it('uses keytar when it loads and the keyring answers', async () => {
    tmp = tempDir();
    const mem = new Map<string, string>();
    const api: KeytarApi = {
      getPassword: async (_s, a) => mem.get(a) ?? null,
      setPassword: async (_s, a, p) => void mem.set(a, p),
      deletePassword: async (_s, a) => mem.delete(a),
      findCredentials: async () => [...mem].map(([account, password]) => ({ account, password })),
    };
    const s = await createCredentialStore({ userDataDir: tmp.dir, loadKeytar: async () => api, safeStorage: fakeSafeStorage() });
    expect(s).toBeInstanceOf(KeytarStore);
    await s.set('x/apiKey', 'v');
    expect(mem.get('x/apiKey')).toBe('v');
  });

  it('falls back to safeStorage when keytar cannot load, or loads but the keyring does not answer', async () => {
    tmp = tempDir();
    expect((await createCredentialStore({ userDataDir: tmp.dir, loadKeytar: noKeytar, safeStorage: fakeSafeStorage(), platform: 'linux' })).backend).toBe('safeStorage');
    expect((await createCredentialStore({ userDataDir: tmp.dir, loadKeytar: async () => brokenKeyring, safeStorage: fakeSafeStorage(), platform: 'linux' })).backend).toBe(
      'safeStorage',
    );
  });

  it('keeps secrets in memory only (and warns) rather than writing them weakly protected', async () => {
    tmp = tempDir();
    const warnings: string[] = [];
    const s = await createCredentialStore({
      userDataDir: tmp.dir,
      loadKeytar: noKeytar,
      safeStorage: fakeSafeStorage('basic_text'),
      platform: 'linux',
      onWarning: (m) => warnings.push(m),
    });
    expect(s.backend).toBe('memory');
    expect(warnings).toHaveLength(1);
    await s.set('x/apiKey', 'v');
    expect(await s.get('x/apiKey')).toBe('v');
  });
});
