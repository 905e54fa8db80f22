/**
 * The user-data folder's small files (main/src/json-file.ts): each write leaves the old file or the new one
 * whole, even across a power cut, and a rename refused on Windows because another program holds the file
 * open for a moment is tried again.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readJsonFile, renameOver, writeJsonFileAtomic } from '../src/json-file.js';
import { straceCalls } from '../../engine/test/support/strace.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'td-json-'));
  dirs.push(d);
  return d;
}

const fail = (code: string) => Object.assign(new Error(`${code}: operation not permitted, rename`), { code });

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
    const run = spawnSync(
      'strace',
      ['-f', '-qq', '-y', '-o', log, '-e', 'trace=openat,write,fsync,fdatasync,close,rename,renameat,renameat2', process.execPath, '--import', 'tsx', 'main/test/run/atomic-write.ts', dir],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.error, 'strace runs (apt-get install strace)').toBeUndefined();
    expect([run.status, run.stderr]).toEqual([0, '']);
    const { file, tmp } = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { file: string; tmp: string };
    expect(readJsonFile(file)).toEqual({ profiles: [{ name: 'second' }] });
    // the calls on the temp file, in order, as one word each
    const steps = straceCalls(readFileSync(log, 'utf8')).flatMap((l) => {
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

describe('renameOver', () => {
  it('on Windows, tries again while the file is held open elsewhere, then renames', () => {
    const waits: number[] = [];
    const calls: string[][] = [];
    let refusals = ['EPERM', 'EBUSY', 'EACCES'];
    renameOver('a.tmp', 'a', {
      platform: 'win32',
      pause: (ms) => void waits.push(ms),
      rename: (f, t) => {
        calls.push([f, t]);
        const code = refusals.shift();
        if (code !== undefined) throw fail(code);
      },
    });
    expect(calls).toEqual(Array.from({ length: 4 }, () => ['a.tmp', 'a']));
    expect(waits).toEqual([10, 20, 40]);
    // held open for good: the refusal is given up after about 1.3 s of waiting
    waits.length = 0;
    refusals = [];
    expect(() => renameOver('a.tmp', 'a', { platform: 'win32', pause: (ms) => void waits.push(ms), rename: () => { throw fail('EPERM'); } })).toThrow(/^EPERM/);
    expect(waits.reduce((a, b) => a + b, 0)).toBe(1270);
  });

  it('any other error, or any error on Linux and macOS, is thrown at once', () => {
    for (const [platform, code] of [['win32', 'ENOENT'], ['linux', 'EPERM'], ['darwin', 'EBUSY']] as const) {
      const waits: number[] = [];
      let tries = 0;
      const rename = () => {
        tries++;
        throw fail(code);
      };
      expect(() => renameOver('a.tmp', 'a', { platform, pause: (ms) => void waits.push(ms), rename })).toThrow(new RegExp(`^${code}`));
      expect([tries, waits]).toEqual([1, []]);
    }
  });

  it('the real rename, and its real pause between attempts', () => {
    const dir = tempDir();
    writeJsonFileAtomic(join(dir, 'x.json'), 1);
    renameOver(join(dir, 'x.json'), join(dir, 'y.json'));
    expect(readdirSync(dir)).toEqual(['y.json']);
    let first = true;
    const t0 = performance.now();
    renameOver(join(dir, 'y.json'), join(dir, 'z.json'), {
      platform: 'win32',
      rename: (f, t) => {
        if (first) {
          first = false;
          throw fail('EBUSY');
        }
        renameOver(f, t);
      },
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(9);
    expect(readdirSync(dir)).toEqual(['z.json']);
  });
});
