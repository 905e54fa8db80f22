/**
 * Password hashing (argon2id) and the password policy.
 *
 * Policy (NIST SP 800-63B / OWASP ASVS 2.1): at least 8 characters; anything up to 1024 characters is
 * accepted and hashed whole (no truncation, no composition rules); common passwords, the user name and
 * trivial patterns are refused. Length is counted in Unicode code points after NFC normalisation, and the
 * normalised form is what gets hashed, so the same password typed on two systems matches. A string that is not
 * Unicode text (a lone UTF-16 surrogate) is refused as a password and never matches one.
 */
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { readFileSync } from 'node:fs';
import type { Argon2Params } from '../config.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

let blocklist: Set<string> | undefined;
function commonSet(): Set<string> {
  if (blocklist === undefined) {
    blocklist = new Set(COMMON_PASSWORDS.map((p) => p.toLowerCase()));
    const extra = process.env.TRADEDESK_PASSWORD_BLOCKLIST;
    if (extra) {
      for (const line of readFileSync(extra, 'utf8').split(/\r?\n/)) {
        const p = line.trim().toLowerCase();
        if (p.length >= PASSWORD_MIN) blocklist.add(p);
      }
    }
  }
  return blocklist;
}

export function normalizePassword(pw: string): string {
  return pw.normalize('NFC');
}

/** A UTF-16 code unit of a surrogate pair without its other half (in a `u` regex a whole pair is one code point). */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a password is Unicode text: one with a lone surrogate is not (as UTF-8, for hashing, each would become
 * U+FFFD, and different such passwords the same one), so it is refused when set and never matches.
 */
export function wellFormedPassword(pw: string): boolean {
  return !LONE_SURROGATE.test(pw);
}

/**
 * The reasons a password is refused (empty when it is acceptable), each what the password must do:
 * `The password must ${passwordRule(problems)}` reads as a sentence.
 */
export function passwordProblems(password: string, username?: string): string[] {
  if (!wellFormedPassword(password)) return ['be valid Unicode text (it has a lone surrogate code unit)'];
  const pw = normalizePassword(password);
  const len = [...pw].length;
  const out: string[] = [];
  if (len < PASSWORD_MIN) out.push(`have at least ${PASSWORD_MIN} characters`);
  if (len > PASSWORD_MAX) out.push(`have at most ${PASSWORD_MAX} characters`);
  const lower = pw.toLowerCase();
  if (commonSet().has(lower)) out.push('not be a commonly used password');
  if (username !== undefined && username.length > 0 && lower.includes(username.toLowerCase()) && lower.length - username.length < 4)
    out.push('not be based on the user name');
  if (len >= 1 && new Set(pw).size === 1) out.push('not be one repeated character');
  if (isSequence(lower)) out.push('not be a simple sequence');
  return out;
}

/** The problems as one clause: "have at least 8 characters and not be a simple sequence". */
export function passwordRule(problems: readonly string[]): string {
  return problems.length <= 1 ? (problems[0] ?? '') : `${problems.slice(0, -1).join(', ')} and ${problems[problems.length - 1]!}`;
}

function isSequence(s: string): boolean {
  if (s.length < PASSWORD_MIN) return false;
  let up = true;
  let down = true;
  for (let i = 1; i < s.length; i++) {
    const d = s.charCodeAt(i) - s.charCodeAt(i - 1);
    if (d !== 1) up = false;
    if (d !== -1) down = false;
  }
  return up || down;
}

/** Limits how many argon2 computations run at once (each holds `memoryCost` KiB). */
export class HashPool {
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  constructor(
    readonly params: Argon2Params,
    readonly maxConcurrent: number,
  ) {}

  async #slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running >= this.maxConcurrent) await new Promise<void>((r) => this.#waiting.push(r));
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }

  hash(password: string): Promise<string> {
    // (callers check the policy first, which refuses these)
    if (!wellFormedPassword(password)) return Promise.reject(new Error('A password with a lone surrogate is not hashed'));
    const p = this.params;
    return this.#slot(() =>
      argonHash(normalizePassword(password), {
        algorithm: 2, // Algorithm.Argon2id (a const enum, not importable under isolatedModules)
        memoryCost: p.memoryCost,
        timeCost: p.timeCost,
        parallelism: p.parallelism,
      }),
    );
  }

  /** Whether the password matches the stored hash; one that is not Unicode text never does (and is not hashed). */
  verify(stored: string, password: string): Promise<boolean> {
    if (!wellFormedPassword(password)) return Promise.resolve(false);
    return this.#slot(async () => {
      try {
        return await argonVerify(stored, normalizePassword(password));
      } catch {
        return false;
      }
    });
  }

  /** True when a stored hash used weaker parameters than the current ones (rehash on next login). */
  needsRehash(stored: string): boolean {
    const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
    if (m === null) return true;
    return Number(m[1]) < this.params.memoryCost || Number(m[2]) < this.params.timeCost;
  }
}
