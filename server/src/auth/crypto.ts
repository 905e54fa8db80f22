/**
 * Small crypto helpers on node:crypto: random tokens, keyed hashes for stored tokens and codes, and an
 * AES-256-GCM box for TOTP secrets. The server key lives in its own file (mode 0600) beside the databases,
 * not in them, so a copied users database alone reveals no TOTP secret and cannot be used to brute-force
 * backup codes offline.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A random url-safe token with `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class ServerKey {
  readonly #key: Buffer;
  /** Where it came from: its file, TRADEDESK_SERVER_KEY, or memory alone (tests). */
  readonly source: 'file' | 'environment' | 'memory';
  private constructor(key: Buffer, source: ServerKey['source']) {
    this.#key = key;
    this.source = source;
  }

  /** Reads the key file, creating it (32 random bytes, base64, mode 0600) on first start. */
  static load(path: string, fromEnv?: string): ServerKey {
    if (fromEnv !== undefined && fromEnv !== '') {
      const k = Buffer.from(fromEnv, 'base64');
      if (k.length !== 32) throw new Error('TRADEDESK_SERVER_KEY must be 32 bytes, base64-encoded');
      return new ServerKey(k, 'environment');
    }
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    }
    try {
      chmodSync(path, 0o600);
    } catch {
      // best effort (e.g. a read-only mount)
    }
    const k = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (k.length !== 32) throw new Error(`The key file ${path} does not hold a 32-byte base64 key`);
    return new ServerKey(k, 'file');
  }

  static forTests(): ServerKey {
    return new ServerKey(randomBytes(32), 'memory');
  }

  /** Keyed hash for stored tokens and one-time codes (HMAC-SHA-256 with a derived sub-key). */
  mac(purpose: string, value: string): string {
    return createHmac('sha256', this.#sub('mac:' + purpose)).update(value).digest('hex');
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#sub('seal'), iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv.toString('base64url'), body.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const [v, iv, body, tag] = sealed.split('.');
    if (v !== 'v1' || iv === undefined || body === undefined || tag === undefined) throw new Error('Not a sealed value');
    const d = createDecipheriv('aes-256-gcm', this.#sub('seal'), Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
  }

  #sub(label: string): Buffer {
    return createHmac('sha256', this.#key).update(label).digest();
  }
}
