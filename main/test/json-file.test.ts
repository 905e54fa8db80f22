/**
 * The user-data folder's small files (main/src/json-file.ts): each write leaves the old file or the new one
 * whole, even across a power cut (the rename into place is engine/host/rename.ts, tested there); a damaged
 * one is set aside rather than overwritten.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../../engine/test/support/temp.js';
import { SafeStorageStore } from '../src/credentials/safe-storage.js';
import { readJsonFile, readJsonFileOrSetAside, writeJsonFileAtomic, type DamagedFile } from '../src/json-file.js';
import { ProfileStore } from '../src/profiles.js';
import { runTraced, straceCalls } from '../../engine/test/support/strace.js';

const tempDir = tempDirs('td-json-');


describe('writeJsonFileAtomic', () => {
  it('replaces the file whole, mode 0600, with no temp file left', () => {
    const dir = tempDir();
    const file = join(dir, 'sub', 'links.json');
    writeJsonFileAtomic(file, { groups: [1, 2] });
    writeJsonFileAtomic(file, { groups: [3] });
    expect(readJsonFile(file)).toEqual({ groups: [3] });
    expect(readFileSync(file, 'utf8')).toBe('{\n  "groups": [\n    3\n  ]\n}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['links.json']);
  });

  it("syncs the new text to the disk before it renames it over the file (so a power cut can't leave an empty file)", () => {
    const dir = tempDir();
    const log = join(dir, 'trace');
    const { log: trace, out } = runTraced<{ file: string; tmp: string }>('main/test/run/atomic-write.ts', [dir], ['openat', 'write', 'fsync', 'fdatasync', 'close', 'rename', 'renameat', 'renameat2'], log);
    const { file, tmp } = out;
    expect(readJsonFile(file)).toEqual({ profiles: [{ name: 'second' }] });
    // the calls on the temp file, in order, as one word each
    const steps = straceCalls(trace).flatMap((l) => {
      if (l.startsWith('openat(') && l.includes(`"${tmp}"`)) return [/O_WRONLY|O_RDWR/.test(l) ? 'open-for-writing' : 'open'];
      if (/^rename(at2?)?\(/.test(l) && l.includes(`"${tmp}"`)) return [l.includes(`"${file}"`) && /= 0$/.test(l) ? 'rename-over-file' : 'rename'];
      const on = /^(write|fsync|fdatasync|close)\(\d+<([^>]*)>/.exec(l);
      return on !== null && on[2] === tmp ? [on[1]!] : [];
    });
    // (writes of one text may be one call or several)
    const once = ['open-for-writing', 'write', 'fsync', 'close', 'rename-over-file'];
    expect(steps.filter((s, i) => !(s === 'write' && steps[i - 1] === 'write'))).toEqual([...once, ...once]);
  });
});

describe('a damaged file in the user-data folder is set aside, said so, and never overwritten', () => {
  const good = {
    activeId: 'acme-aaaaaa',
    profiles: [
      { id: 'acme-aaaaaa', name: 'Acme prod', url: 'https://acme.example', username: 'alice' },
      { id: 'beta-bbbbbb', name: 'Beta', url: 'https://beta.example' },
    ],
  };
  const asides = (dir: string, name: string) => readdirSync(dir).filter((f) => f.startsWith(`${name}.corrupt-`));

  it('readJsonFileOrSetAside: a missing file is just missing; one that is not JSON is renamed aside whole and reported', () => {
    const dir = tempDir();
    const file = join(dir, 'x.json');
    const reports: DamagedFile[] = [];
    expect(readJsonFileOrSetAside(file, (d) => reports.push(d))).toBeUndefined();
    expect(reports).toEqual([]);
    writeFileSync(file, '{"a": [1, 2');
    expect(readJsonFileOrSetAside(file, (d) => reports.push(d))).toBeUndefined();
    const [kept] = asides(dir, 'x.json');
    expect(reports).toEqual([{ file, reason: expect.stringContaining('is not valid JSON'), keptAs: join(dir, kept!) }]);
    expect(readFileSync(join(dir, kept!), 'utf8')).toBe('{"a": [1, 2');
    expect(existsSync(file)).toBe(false);
  });

  it('profiles.json: a truncated file is kept aside (a warning) before the next save writes a new one', () => {
    const dir = tempDir();
    const file = join(dir, 'profiles.json');
    const text = JSON.stringify(good).slice(0, 60);
    writeFileSync(file, text);
    const warnings: { message: string; data?: Record<string, unknown> }[] = [];
    const store = new ProfileStore(file, { onWarning: (message, data) => warnings.push({ message, ...(data ? { data } : {}) }) });
    expect(store.list().map((p) => p.id)).toEqual(['local']);
    store.save({ name: 'New', url: 'https://new.example' });
    const [kept] = asides(dir, 'profiles.json');
    expect(readFileSync(join(dir, kept!), 'utf8')).toBe(text);
    expect(warnings).toEqual([{ message: expect.stringContaining(`is not valid JSON`), data: { file, keptAs: join(dir, kept!) } }]);
    expect(warnings[0]!.message).toContain(`renamed to ${join(dir, kept!)}`);
  });

  it('profiles.json: an entry that is not a valid profile is dropped alone (a warning naming it; the file as it was kept aside)', () => {
    const dir = tempDir();
    const file = join(dir, 'profiles.json');
    const bad = { id: 'gamma-cccccc', name: 'x'.repeat(65), url: 'https://g.example' };
    const text = JSON.stringify({ ...good, profiles: [...good.profiles, bad] });
    writeFileSync(file, text);
    const warnings: { message: string; data?: Record<string, unknown> }[] = [];
    const store = new ProfileStore(file, { onWarning: (message, data) => warnings.push({ message, ...(data ? { data } : {}) }) });
    expect(store.list().map((p) => p.id)).toEqual(['local', 'acme-aaaaaa', 'beta-bbbbbb']);
    expect(store.activeId).toBe('acme-aaaaaa');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('1 entry that is not a valid connection profile');
    expect(warnings[0]!.data?.dropped).toContain('gamma-cccccc');
    const [kept] = asides(dir, 'profiles.json');
    expect(readFileSync(join(dir, kept!), 'utf8')).toBe(text);
    // the file is written again without it: the next start reads it clean, sets nothing more aside, warns of nothing
    const next = new ProfileStore(file, { onWarning: (message) => warnings.push({ message }) });
    expect(next.list().map((p) => p.id)).toEqual(['local', 'acme-aaaaaa', 'beta-bbbbbb']);
    expect(next.activeId).toBe('acme-aaaaaa');
    expect(warnings).toHaveLength(1);
    expect(asides(dir, 'profiles.json')).toHaveLength(1);
    // a file of another shape altogether is set aside whole
    writeFileSync(file, JSON.stringify([good]));
    expect(new ProfileStore(file, { onWarning: (message) => warnings.push({ message }) }).list()).toHaveLength(1);
    expect(warnings[1]!.message).toContain('is not a list of profiles');
    expect(existsSync(file)).toBe(false);
  });

  it("secrets.json (safeStorage's): a damaged file is renamed aside (a warning), not overwritten by the next secret stored", async () => {
    const dir = tempDir();
    const file = join(dir, 'secrets.json');
    const fake = { isEncryptionAvailable: () => true, encryptString: (s: string) => Buffer.from(`enc:${s}`), decryptString: (b: Buffer) => b.toString().slice(4) };
    const warnings: string[] = [];
    const store = new SafeStorageStore(fake, file, { onWarning: (m) => warnings.push(m) });
    await store.set('acme-aaaaaa/refreshToken', 'tokA');
    await store.set('beta-bbbbbb/apiKey', 'keyB');
    const text = readFileSync(file, 'utf8').slice(0, 40);
    writeFileSync(file, text);
    expect(await store.accounts()).toEqual([]);
    await store.set('gamma-cccccc/apiKey', 'keyC');
    expect(await store.accounts()).toEqual(['gamma-cccccc/apiKey']);
    const [kept] = asides(dir, 'secrets.json');
    expect(readFileSync(join(dir, kept!), 'utf8')).toBe(text);
    expect(warnings).toEqual([expect.stringContaining(`renamed to ${join(dir, kept!)}`)]);
  });
});
